//! Planted bugs (`conformance mock --plant-bug KIND`): a deliberately broken mock, so that the
//! conformance checker can be shown to catch each kind of departure from the spec (issue #5).
//!
//! The bug is applied to every vendor-API response it can apply to, after the handler and after
//! the self-check (so planted bugs are never counted as mock violations); `/_mock/` controls are
//! never touched. Each changed response carries [`PLANTED_HEADER`]: `<kind> <target>`, where the
//! target is the JSON pointer of the changed property, the header name, or `status`, and is empty
//! (`malformed-json`) when the change is to the body as a whole (JSON pointer `""`).
//!
//! Body bugs pick a property from the response schema the spec documents for the status
//! (`$ref` and `allOf` followed), so the change is one the spec really forbids. They act on the
//! resource object: `data[0]` of a list envelope, the wrapped object of a one-key envelope
//! (ReCharge's `{"checkout": {...}}`), otherwise the top-level object; when nothing there fits,
//! the first fitting object below it (breadth first). The connection-level bugs
//! (`close-connection`, `never-answer`) are carried out by `service.rs`.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use oas::check::{Profile, Spec};
use oas::media;
use oas::pointer;
use serde_json::Value;

use super::exchange::Response;
use crate::specs::Api;

/// The response header that announces a planted bug and what it changed.
pub const PLANTED_HEADER: &str = "x-mock-planted";

/// The name of the property the `undeclared-property` bug adds.
pub const UNDECLARED_PROPERTY: &str = "mock_undeclared";

/// One kind of deliberate departure from the spec.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum PlantedBug {
    /// A property typed integer, number, string or boolean gets a value of another JSON type.
    WrongType,
    /// A property the response schema lists in `required` is removed.
    MissingRequired,
    /// A property the schema does not declare is added (only the strict profile forbids it).
    UndeclaredProperty,
    /// A property whose schema is not nullable is set to null.
    NullNotNullable,
    /// A property with an `enum` gets a value outside it.
    EnumOutside,
    /// The status is replaced by one the operation does not document.
    UndocumentedStatus,
    /// The body is sent as `text/plain`.
    WrongContentType,
    /// A response header the spec marks `required` is dropped.
    MissingHeader,
    /// The JSON body is truncated (still labelled JSON).
    MalformedJson,
    /// The connection is closed without any response.
    CloseConnection,
    /// The request is read and never answered.
    NeverAnswer,
    /// Webhooks carry their signature under another header name.
    WebhookHeaderName,
    /// Webhooks are signed with another secret.
    WebhookWrongSecret,
    /// The settlement webhook (`checkout.paid`, `checkout/processed`) is never sent.
    WebhookMissing,
    /// Webhook payloads break the callback's schema (correctly signed).
    WebhookInvalidPayload,
    /// A webhook the receiver refuses is not delivered again.
    WebhookNoRetry,
    /// A refused webhook is delivered again at once, without waiting longer each time.
    WebhookNoBackoff,
}

impl PlantedBug {
    /// The sender's bugs: webhooks, responses untouched.
    pub const WEBHOOK: [PlantedBug; 6] = [
        PlantedBug::WebhookHeaderName,
        PlantedBug::WebhookWrongSecret,
        PlantedBug::WebhookMissing,
        PlantedBug::WebhookInvalidPayload,
        PlantedBug::WebhookNoRetry,
        PlantedBug::WebhookNoBackoff,
    ];

    /// Every kind that changes responses or connections, in declaration order.
    pub const ALL: [PlantedBug; 11] = [
        PlantedBug::WrongType,
        PlantedBug::MissingRequired,
        PlantedBug::UndeclaredProperty,
        PlantedBug::NullNotNullable,
        PlantedBug::EnumOutside,
        PlantedBug::UndocumentedStatus,
        PlantedBug::WrongContentType,
        PlantedBug::MissingHeader,
        PlantedBug::MalformedJson,
        PlantedBug::CloseConnection,
        PlantedBug::NeverAnswer,
    ];

    /// The kebab-case name (as in `--plant-bug` and [`PLANTED_HEADER`]).
    pub fn name(self) -> &'static str {
        match self {
            PlantedBug::WrongType => "wrong-type",
            PlantedBug::MissingRequired => "missing-required",
            PlantedBug::UndeclaredProperty => "undeclared-property",
            PlantedBug::NullNotNullable => "null-not-nullable",
            PlantedBug::EnumOutside => "enum-outside",
            PlantedBug::UndocumentedStatus => "undocumented-status",
            PlantedBug::WrongContentType => "wrong-content-type",
            PlantedBug::MissingHeader => "missing-header",
            PlantedBug::MalformedJson => "malformed-json",
            PlantedBug::CloseConnection => "close-connection",
            PlantedBug::NeverAnswer => "never-answer",
            PlantedBug::WebhookHeaderName => "webhook-header-name",
            PlantedBug::WebhookWrongSecret => "webhook-wrong-secret",
            PlantedBug::WebhookMissing => "webhook-missing",
            PlantedBug::WebhookInvalidPayload => "webhook-invalid-payload",
            PlantedBug::WebhookNoRetry => "webhook-no-retry",
            PlantedBug::WebhookNoBackoff => "webhook-no-backoff",
        }
    }

    /// Whether the bug is in the webhooks the mock sends (`webhook.rs` carries it out).
    pub fn is_webhook(self) -> bool {
        PlantedBug::WEBHOOK.contains(&self)
    }

    /// Whether the bug is carried out on the connection rather than on the response.
    pub fn is_connection_level(self) -> bool {
        matches!(self, PlantedBug::CloseConnection | PlantedBug::NeverAnswer)
    }
}

impl std::fmt::Display for PlantedBug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Applies one planted bug to responses, knowing both specs.
#[derive(Debug)]
pub(crate) struct Planter {
    bug: PlantedBug,
    /// The specs the two APIs serve from.
    chargily: Arc<Spec>,
    recharge: Arc<Spec>,
}

impl Planter {
    pub fn new(bug: PlantedBug, chargily: Arc<Spec>, recharge: Arc<Spec>) -> Self {
        Self {
            bug,
            chargily,
            recharge,
        }
    }

    /// `response` of operation `op` with the bug applied and announced, or unchanged when the
    /// bug cannot apply to it.
    pub fn plant(&self, api: Api, op: &str, mut response: Response) -> Response {
        let spec = match api {
            Api::Chargily => &self.chargily,
            Api::Recharge => &self.recharge,
        };
        let Some(index) = spec.operation(op) else {
            return response;
        };
        let target = match self.bug {
            PlantedBug::WrongType
            | PlantedBug::MissingRequired
            | PlantedBug::UndeclaredProperty
            | PlantedBug::NullNotNullable
            | PlantedBug::EnumOutside => body_bug(spec, index, &mut response, self.bug),
            PlantedBug::UndocumentedStatus => undocumented_status(spec, index, &mut response),
            PlantedBug::WrongContentType => wrong_content_type(spec, index, &mut response),
            PlantedBug::MissingHeader => missing_header(spec, index, &mut response),
            PlantedBug::MalformedJson => malformed_json(spec, index, &mut response),
            PlantedBug::CloseConnection | PlantedBug::NeverAnswer => None,
            PlantedBug::WebhookHeaderName
            | PlantedBug::WebhookWrongSecret
            | PlantedBug::WebhookMissing
            | PlantedBug::WebhookInvalidPayload
            | PlantedBug::WebhookNoRetry
            | PlantedBug::WebhookNoBackoff => None,
        };
        if let Some(target) = target {
            let text = format!("{} {target}", self.bug.name());
            if let Ok(value) = HeaderValue::from_str(text.trim_end()) {
                response
                    .headers
                    .insert(HeaderName::from_static(PLANTED_HEADER), value);
            }
        }
        response
    }
}

/// The documented JSON schema of the response's body: (pointer of the schema, parsed body).
fn json_body(spec: &Spec, index: usize, response: &Response) -> Option<(String, Value)> {
    let response_at = spec.response_at(index, response.status.as_u16(), Profile::Strict)?;
    let content_type = response.headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let content = spec.root().pointer(&response_at)?.get("content")?;
    let (media, object) = content
        .as_object()?
        .iter()
        .find(|(m, _)| media::admits_json(m) && media::matches(m, content_type))?;
    object.get("schema")?;
    let body = serde_json::from_slice(&response.body).ok()?;
    Some((
        format!("{response_at}/content/{}/schema", pointer::escape(media)),
        body,
    ))
}

fn body_bug(spec: &Spec, index: usize, response: &mut Response, bug: PlantedBug) -> Option<String> {
    let (schema_at, mut body) = json_body(spec, index, response)?;
    let root = spec.root();
    let top = shape(root, &schema_at);
    let mut queue: VecDeque<(String, String, usize)> = VecDeque::new();
    if let Some(object) = body.as_object() {
        let data_items = object
            .get("data")
            .and_then(|d| d.get(0))
            .filter(|first| first.is_object())
            .and_then(|_| top.property("data"))
            .and_then(|at| shape(root, at).items);
        if let Some(items) = data_items {
            queue.push_back(("/data/0".into(), items, 0));
        } else if let [(key, value)] = object.iter().collect::<Vec<_>>().as_slice() {
            if let (true, Some(at)) = (value.is_object(), top.property(key)) {
                queue.push_back((pointer::push("", key), at.to_owned(), 0));
            }
        }
    }
    queue.push_back((String::new(), schema_at, 0));
    let mut seen = BTreeSet::new();
    while let Some((at, schema_at, depth)) = queue.pop_front() {
        if !seen.insert(at.clone()) {
            continue;
        }
        let Some(Value::Object(object)) = body.pointer(&at) else {
            continue;
        };
        let node = shape(root, &schema_at);
        if let Some((name, change)) = choose(root, &node, object, bug) {
            let Some(Value::Object(object)) = body.pointer_mut(&at) else {
                return None;
            };
            match change {
                Some(value) => {
                    object.insert(name.clone(), value);
                }
                None => {
                    object.remove(&name);
                }
            }
            response.body = Bytes::from(serde_json::to_vec(&body).ok()?);
            return Some(pointer::push(&at, &name));
        }
        if depth < 4 {
            for (name, prop_at) in &node.properties {
                if object.get(name).is_some_and(Value::is_object) {
                    queue.push_back((pointer::push(&at, name), prop_at.clone(), depth + 1));
                }
            }
        }
    }
    None
}

/// The property of `object` (described by `node`) that `bug` changes, and its new value
/// (`None`: remove it).
fn choose(
    root: &Value,
    node: &Shape,
    object: &serde_json::Map<String, Value>,
    bug: PlantedBug,
) -> Option<(String, Option<Value>)> {
    let present = || {
        node.properties
            .iter()
            .filter(|(name, _)| object.contains_key(name))
            .map(|(name, at)| {
                (
                    name,
                    object.get(name).unwrap_or(&Value::Null),
                    shape(root, at),
                )
            })
    };
    match bug {
        PlantedBug::MissingRequired => node
            .required
            .iter()
            .find(|name| object.contains_key(*name))
            .map(|name| (name.clone(), None)),
        PlantedBug::UndeclaredProperty => {
            // Strict validation closes only objects that declare their shape and say nothing of
            // `additionalProperties`; elsewhere an extra property is legal.
            if node.properties.is_empty() || node.additional {
                return None;
            }
            let mut name = UNDECLARED_PROPERTY.to_owned();
            while node.property(&name).is_some() {
                name.push('_');
            }
            Some((name, Some(Value::Bool(true))))
        }
        PlantedBug::WrongType => present().find_map(|(name, value, s)| {
            let wrong = match s.single_type()? {
                "integer" | "number" => Value::String(match value {
                    Value::Number(n) => n.to_string(),
                    _ => "0".into(),
                }),
                "boolean" => Value::String(value.as_bool().unwrap_or(false).to_string()),
                "string" => value
                    .as_str()
                    .and_then(|t| t.trim().parse::<i64>().ok())
                    .map_or_else(|| Value::from(0), Value::from),
                _ => return None,
            };
            Some((name.clone(), Some(wrong)))
        }),
        PlantedBug::NullNotNullable => present().find_map(|(name, _, s)| {
            // A schema without `type` admits null whatever it says.
            (s.single_type().is_some() && !s.nullable).then(|| (name.clone(), Some(Value::Null)))
        }),
        PlantedBug::EnumOutside => present().find_map(|(name, _, s)| {
            let values = s.enumeration.as_ref()?;
            if s.composite || s.types.len() > 1 {
                return None;
            }
            let outside = match s.types.first().map(String::as_str) {
                None | Some("string") => {
                    let mut text = "mock-outside-enum".to_owned();
                    while values.contains(&Value::String(text.clone())) {
                        text.push('_');
                    }
                    Value::String(text)
                }
                Some("integer" | "number") => {
                    let max = values.iter().filter_map(Value::as_i64).max().unwrap_or(0);
                    Value::from(max.saturating_add(1))
                }
                Some(_) => return None,
            };
            Some((name.clone(), Some(outside)))
        }),
        _ => None,
    }
}

/// Statuses that no spec here documents exactly; the first one the operation does not document
/// (even by a range) is used.
const UNDOCUMENTED: [u16; 4] = [418, 299, 599, 399];

fn undocumented_status(spec: &Spec, index: usize, response: &mut Response) -> Option<String> {
    let code = UNDOCUMENTED
        .into_iter()
        .find(|c| spec.response_at(index, *c, Profile::Strict).is_none())?;
    response.status = StatusCode::from_u16(code).ok()?;
    Some("status".into())
}

fn wrong_content_type(spec: &Spec, index: usize, response: &mut Response) -> Option<String> {
    let response_at = spec.response_at(index, response.status.as_u16(), Profile::Strict)?;
    let content = spec
        .root()
        .pointer(&response_at)?
        .get("content")?
        .as_object()?;
    // Only where the spec documents a body (and text/plain is not one of its types).
    if content.is_empty() || content.keys().any(|m| media::matches(m, "text/plain")) {
        return None;
    }
    response
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Some("content-type".into())
}

fn missing_header(spec: &Spec, index: usize, response: &mut Response) -> Option<String> {
    let root = spec.root();
    let response_at = spec.response_at(index, response.status.as_u16(), Profile::Strict)?;
    let headers = root.pointer(&response_at)?.get("headers")?.as_object()?;
    for (name, header) in headers {
        let at = pointer::push(&format!("{response_at}/headers"), name);
        let Ok((_, header)) = pointer::deref(root, &at, header) else {
            continue;
        };
        let lower = name.to_ascii_lowercase();
        if header.get("required") == Some(&Value::Bool(true))
            && lower != "content-type"
            && response.headers.remove(lower.as_str()).is_some()
        {
            return Some(lower);
        }
    }
    None
}

fn malformed_json(spec: &Spec, index: usize, response: &mut Response) -> Option<String> {
    json_body(spec, index, response)?;
    // Any proper prefix of a JSON object or array is invalid JSON.
    response.body = response.body.slice(..response.body.len() / 2);
    Some(String::new())
}

/// What a schema says once `$ref`s are followed and `allOf` members merged.
#[derive(Debug, Default)]
struct Shape {
    types: Vec<String>,
    /// `nullable: true` anywhere on the way (the `nullable` + `allOf: [$ref]` idiom).
    nullable: bool,
    enumeration: Option<Vec<Value>>,
    /// Declared properties with their schema pointers, in document order.
    properties: Vec<(String, String)>,
    required: Vec<String>,
    /// `additionalProperties` is set somewhere (then strict validation leaves the object open).
    additional: bool,
    /// `oneOf`/`anyOf`/`not`, or an unresolvable part: what the schema admits is not obvious.
    composite: bool,
    items: Option<String>,
}

impl Shape {
    fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, at)| at.as_str())
    }

    /// The one `type` of a plain schema, if it is one.
    fn single_type(&self) -> Option<&str> {
        match self.types.as_slice() {
            [t] if !self.composite => Some(t.as_str()),
            _ => None,
        }
    }
}

fn shape(root: &Value, at: &str) -> Shape {
    let mut out = Shape::default();
    collect(root, at, &mut out, 0);
    out
}

fn collect(root: &Value, at: &str, out: &mut Shape, depth: usize) {
    let resolved = root
        .pointer(at)
        .and_then(|node| pointer::deref(root, at, node).ok());
    let (Some((at, node)), true) = (resolved, depth < 16) else {
        out.composite = true;
        return;
    };
    if node.get("nullable") == Some(&Value::Bool(true)) {
        out.nullable = true;
    }
    if let Some(t) = node.get("type").and_then(Value::as_str) {
        if !out.types.iter().any(|x| x == t) {
            out.types.push(t.to_owned());
        }
    }
    if let (Some(Value::Array(values)), None) = (node.get("enum"), &out.enumeration) {
        out.enumeration = Some(values.clone());
    }
    // A nullable reference (`anyOf: [{$ref}, {…, enum: [null]}]`) is its one other member,
    // nullable; any other union or `not` is composite.
    let mut single = None;
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(members)) = node.get(key) {
            let null_only = |m: &Value| {
                m.get("enum")
                    .and_then(Value::as_array)
                    .is_some_and(|e| !e.is_empty() && e.iter().all(Value::is_null))
            };
            let shaped: Vec<usize> = (0..members.len())
                .filter(|&i| !null_only(&members[i]))
                .collect();
            match shaped.as_slice() {
                [i] if members.len() > 1 => {
                    out.nullable = true;
                    single = Some(format!("{at}/{key}/{i}"));
                }
                _ => out.composite = true,
            }
        }
    }
    if node.get("not").is_some() {
        out.composite = true;
    }
    if node.get("additionalProperties").is_some() {
        out.additional = true;
    }
    if let Some(Value::Object(properties)) = node.get("properties") {
        for name in properties.keys() {
            if out.property(name).is_none() {
                let prop_at = pointer::push(&format!("{at}/properties"), name);
                out.properties.push((name.clone(), prop_at));
            }
        }
    }
    for name in node
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !out.required.iter().any(|r| r == name) {
            out.required.push(name.to_owned());
        }
    }
    if node.get("items").is_some() && out.items.is_none() {
        out.items = Some(format!("{at}/items"));
    }
    if let Some(Value::Array(members)) = node.get("allOf") {
        for i in 0..members.len() {
            collect(root, &format!("{at}/allOf/{i}"), out, depth + 1);
        }
    }
    if let Some(member) = single {
        collect(root, &member, out, depth + 1);
    }
}
