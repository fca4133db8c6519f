//! Checking HTTP exchanges against a spec: which operation a request addresses, and every way a
//! response departs from what the spec documents for it.
//!
//! Each [`ResponseFinding`] is data: the rule, the JSON pointer into the body (or the header name), the
//! schema location in the spec, and expected vs actual. Validators are compiled once per
//! (schema, profile) and cached, so checking is cheap after the first exchange of each kind.
//!
//! The request side serves servers (the reference mock): each operation's [`RequestSchema`]
//! (JSON body, with `oneOf` envelopes split into their branches, and query parameters), whose
//! validators are compiled on first use and then reached without a lookup.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock, RwLock};

use serde_json::Value;

use crate::media;
use crate::pointer;
use crate::schema::{Direction, SchemaValidator, Violation};
use crate::walk::operations;

/// How demanding the checks are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// JSON Schema semantics: undeclared properties are allowed; a `default` response documents
    /// every status.
    Spec,
    /// Also: undeclared properties are violations, and a status is documented only by an exact
    /// code or a range (`4XX`), not by `default`.
    Strict,
}

/// The rules a response is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResponseRule {
    /// The status is not documented for the operation.
    UndocumentedStatus,
    /// The `Content-Type` is not one the spec documents for this status.
    ContentType,
    /// The body is not valid JSON although the media type is JSON.
    MalformedJson,
    /// The body does not validate against the response schema.
    Schema,
    /// A property the schema does not declare (strict profile).
    UndeclaredProperty,
    /// A value an open list (`x-extensible-enum`) does not list (strict profile).
    UnlistedValue,
    /// A header the spec marks `required` is missing.
    MissingHeader,
    /// A header value does not validate against its schema.
    HeaderSchema,
    /// A body where the spec documents none.
    UnexpectedBody,
}

impl ResponseRule {
    pub const ALL: [ResponseRule; 9] = [
        ResponseRule::UndocumentedStatus,
        ResponseRule::ContentType,
        ResponseRule::MalformedJson,
        ResponseRule::Schema,
        ResponseRule::UndeclaredProperty,
        ResponseRule::UnlistedValue,
        ResponseRule::MissingHeader,
        ResponseRule::HeaderSchema,
        ResponseRule::UnexpectedBody,
    ];

    /// What a violation of the rule means (for reports and documentation).
    pub fn description(self) -> &'static str {
        match self {
            ResponseRule::UndocumentedStatus => "the status is not documented for the operation",
            ResponseRule::ContentType => {
                "the Content-Type is not one the spec documents for this status"
            }
            ResponseRule::MalformedJson => {
                "the body is not valid JSON although the media type is JSON"
            }
            ResponseRule::Schema => "the body does not validate against the response schema",
            ResponseRule::UndeclaredProperty => {
                "a property the schema does not declare (strict profile)"
            }
            ResponseRule::UnlistedValue => {
                "a value the open list of known values (x-extensible-enum) does not list (strict profile)"
            }
            ResponseRule::MissingHeader => "a header the spec marks required is missing",
            ResponseRule::HeaderSchema => "a header value does not validate against its schema",
            ResponseRule::UnexpectedBody => "a body where the spec documents none",
        }
    }

    /// The kebab-case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            ResponseRule::UndocumentedStatus => "undocumented-status",
            ResponseRule::ContentType => "content-type",
            ResponseRule::MalformedJson => "malformed-json",
            ResponseRule::Schema => "schema",
            ResponseRule::UndeclaredProperty => "undeclared-property",
            ResponseRule::UnlistedValue => "unlisted-value",
            ResponseRule::MissingHeader => "missing-header",
            ResponseRule::HeaderSchema => "header-schema",
            ResponseRule::UnexpectedBody => "unexpected-body",
        }
    }
}

/// One departure from the spec.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct ResponseFinding {
    pub rule: ResponseRule,
    /// JSON pointer into the body (`""` for the whole body), or `header:<name>`, or `status`.
    pub instance_pointer: String,
    /// Where the broken expectation is written in the spec (a JSON pointer).
    pub schema_pointer: String,
    pub expected: String,
    pub actual: String,
}

/// An operation of the spec, as found by [`Spec::find`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// Index into [`Spec::operations`].
    pub index: usize,
    /// Path parameters, by name.
    pub params: BTreeMap<String, String>,
}

/// An operation's address and identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationInfo {
    pub id: String,
    pub method: String,
    pub path: String,
    /// JSON pointer of the Operation Object.
    pub pointer: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// A response as received: everything the checks need, nothing else.
#[derive(Debug, Clone, Copy)]
pub struct ResponseParts<'a> {
    pub status: u16,
    /// Header names are compared case-insensitively.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl ResponseParts<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A compiled validator, or why the schema would not compile; shared across threads.
pub type Compiled = Arc<Result<SchemaValidator, String>>;

/// A spec prepared for checking exchanges.
#[derive(Debug)]
pub struct Spec {
    root: Value,
    operations: Vec<OperationInfo>,
    /// Parallel to `operations`.
    requests: Vec<RequestSchema>,
    validators: RwLock<BTreeMap<(String, bool), Compiled>>,
    /// What each (operation, status, profile) documents, resolved once: checking a response
    /// then walks no pointers and formats no strings.
    plans: RwLock<HashMap<PlanKey, Arc<Option<ResponsePlan>>>>,
}

/// Operation index, status, profile.
type PlanKey = (usize, u16, Profile);

/// The resolved documentation of one status of one operation.
#[derive(Debug)]
struct ResponsePlan {
    /// Pointer of the (dereferenced) Response Object.
    at: String,
    headers: Vec<HeaderPlan>,
    /// `None` when the response documents no content.
    content: Option<Vec<MediaPlan>>,
}

#[derive(Debug)]
struct HeaderPlan {
    name: String,
    /// Pointer of the (dereferenced) Header Object.
    at: String,
    required: bool,
    /// The header's schema, when it has one.
    schema_at: Option<String>,
    /// The schema's `type` (how the header's text is read) and its validator, resolved once.
    compiled: OnceLock<Option<CompiledHeader>>,
}

/// A header schema's `type` and its validator.
type CompiledHeader = (Option<String>, Arc<Result<SchemaValidator, String>>);

#[derive(Debug)]
struct MediaPlan {
    media: String,
    /// For JSON media types with a schema: its pointer and its validators (spec, strict).
    json_schema: Option<(String, [OnceLock<Compiled>; 2])>,
}

/// What a request of one operation carries, as far as it can be validated: its JSON body and
/// its query parameters. Parts whose `$ref`s do not resolve are left out (the lint reports them).
#[derive(Debug, Default)]
pub struct RequestSchema {
    /// The `application/json` request body.
    pub body: Option<BodySchema>,
    /// Query parameters: the path item's, then the operation's.
    pub query: Vec<QueryParam>,
}

/// A request body schema.
#[derive(Debug)]
pub enum BodySchema {
    Plain(SchemaAt),
    /// The envelope idiom `oneOf: [W, B]` where `W` requires exactly the one property `key`
    /// and `B` forbids it (`not: {required: [key]}`): a body is checked against the branch its
    /// shape picks, so every nested violation is reported rather than one `oneOf` failure.
    Envelope {
        key: String,
        wrapped: SchemaAt,
        bare: SchemaAt,
    },
}

/// A query parameter.
#[derive(Debug)]
pub struct QueryParam {
    pub name: String,
    pub schema: SchemaAt,
    /// The schema's type is `integer` (query text is typed before validation).
    pub integer: bool,
}

/// A schema's pointer and its request validator, compiled on first use.
#[derive(Debug)]
pub struct SchemaAt {
    pub at: String,
    compiled: OnceLock<Compiled>,
}

impl SchemaAt {
    fn new(at: String) -> Self {
        Self {
            at,
            compiled: OnceLock::new(),
        }
    }

    /// The request-direction validator (spec profile), through `spec`'s cache the first time.
    pub fn validator<'a>(&'a self, spec: &Spec) -> &'a Result<SchemaValidator, String> {
        self.compiled
            .get_or_init(|| spec.validator(&self.at, Direction::Request, false))
    }

    /// Every violation of `instance` (none when valid), or why the schema does not compile.
    pub fn validate(&self, spec: &Spec, instance: &Value) -> Result<Vec<Violation>, String> {
        let validator = self.validator(spec).as_ref().map_err(Clone::clone)?;
        // The common case, valid, costs no error collection.
        if validator.is_valid(instance) {
            return Ok(Vec::new());
        }
        Ok(validator.validate(instance))
    }
}

impl Spec {
    /// Indexes the operations under `paths` of a parsed document.
    pub fn new(root: Value) -> Self {
        let (operations, requests) = operations(&root)
            .into_iter()
            .filter(|op| op.callback_of.is_none())
            .map(|op| {
                let request = request_schema(&root, &op);
                let info = OperationInfo {
                    id: op
                        .id()
                        .map_or_else(|| format!("{} {}", op.method, op.path), str::to_owned),
                    method: op.method.to_uppercase(),
                    segments: segments(&op.path),
                    path: op.path,
                    pointer: op.pointer,
                };
                (info, request)
            })
            .unzip();
        Self {
            root,
            operations,
            requests,
            validators: RwLock::new(BTreeMap::new()),
            plans: RwLock::new(HashMap::new()),
        }
    }

    /// What a request of operation `index` carries.
    pub fn request(&self, index: usize) -> Option<&RequestSchema> {
        self.requests.get(index)
    }

    /// Validates a JSON request body of operation `index` (against the envelope branch its
    /// shape picks); an empty list means valid, and so does an operation without a JSON body.
    pub fn check_request_body(&self, index: usize, body: &Value) -> Result<Vec<Violation>, String> {
        let schema = match self.request(index).and_then(|r| r.body.as_ref()) {
            None => return Ok(Vec::new()),
            Some(BodySchema::Plain(s)) => s,
            Some(BodySchema::Envelope { key, wrapped, bare }) => {
                if body.get(key).is_some() {
                    wrapped
                } else {
                    bare
                }
            }
        };
        schema.validate(self, body)
    }

    /// Compiles every request validator now (e.g. at start-up, off the request path); returns
    /// the schemas that do not compile, with why.
    pub fn warm_up_requests(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for request in &self.requests {
            let mut schemas: Vec<&SchemaAt> = request.query.iter().map(|q| &q.schema).collect();
            match &request.body {
                Some(BodySchema::Plain(s)) => schemas.push(s),
                Some(BodySchema::Envelope { wrapped, bare, .. }) => {
                    schemas.extend([wrapped, bare]);
                }
                None => {}
            }
            for s in schemas {
                if let Err(e) = s.validator(self) {
                    errors.push(format!("{}: {e}", s.at));
                }
            }
        }
        errors
    }

    /// The numeric statuses operation `index` documents (not ranges or `default`), ascending.
    pub fn documented_statuses(&self, index: usize) -> Vec<u16> {
        let Some(op) = self.operations.get(index) else {
            return Vec::new();
        };
        let mut out: Vec<u16> = self
            .root
            .pointer(&format!("{}/responses", op.pointer))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, _)| k.parse().ok())
            .collect();
        out.sort_unstable();
        out
    }

    /// The first example of the JSON body documented for `status` (exact code or range): the
    /// media type's `example`, else its first `examples` entry.
    pub fn response_example(&self, index: usize, status: u16) -> Option<Value> {
        let at = self.response_at(index, status, Profile::Strict)?;
        let content = self.root.pointer(&at)?.get("content")?.as_object()?;
        let (_, media) = content.iter().find(|(m, _)| media::admits_json(m))?;
        if let Some(example) = media.get("example") {
            return Some(example.clone());
        }
        let (name, first) = media.get("examples")?.as_object()?.iter().next()?;
        let first_at = pointer::push(&format!("{at}/content"), name);
        let (_, resolved) = pointer::deref(&self.root, &first_at, first).ok()?;
        resolved.get("value").cloned()
    }

    /// The document.
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// Every operation, in document order.
    pub fn operations(&self) -> &[OperationInfo] {
        &self.operations
    }

    /// The operation with this `operationId`.
    pub fn operation(&self, id: &str) -> Option<usize> {
        self.operations.iter().position(|op| op.id == id)
    }

    /// The operation a request addresses (`path` relative to the server URL, without query).
    /// Literal segments win over parameters (`/checkouts/export` before `/checkouts/{id}`).
    pub fn find(&self, method: &str, path: &str) -> Option<Matched> {
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let mut best: Option<(usize, Matched)> = None;
        for (index, op) in self.operations.iter().enumerate() {
            if !op.method.eq_ignore_ascii_case(method) || op.segments.len() != parts.len() {
                continue;
            }
            let mut params = BTreeMap::new();
            let mut literals = 0;
            let fits = op
                .segments
                .iter()
                .zip(&parts)
                .all(|(segment, part)| match segment {
                    Segment::Literal(l) => {
                        literals += 1;
                        l == part
                    }
                    Segment::Param(name) => {
                        params.insert(name.clone(), crate::url::decode(part));
                        !part.is_empty()
                    }
                });
            if fits && best.as_ref().is_none_or(|(l, _)| literals > *l) {
                best = Some((literals, Matched { index, params }));
            }
        }
        best.map(|(_, m)| m)
    }

    /// Whether some operation has this path, whatever the method (to tell 404 from 405).
    pub fn path_exists(&self, path: &str) -> bool {
        let methods: Vec<String> = self.operations.iter().map(|op| op.method.clone()).collect();
        methods.iter().any(|m| self.find(m, path).is_some())
    }

    /// The pointer of the open list (`x-extensible-enum`) behind an `enum` failure that strict
    /// mode checks in its place; `None` for every other failure.
    fn unlisted(&self, keyword: &str, schema_pointer: &str) -> Option<String> {
        let holder = schema_pointer
            .strip_suffix("/enum")
            .filter(|_| keyword == "enum")?;
        let node = self.root.pointer(holder)?;
        (node.get("enum").is_none() && node.get(crate::schema::EXTENSIBLE_ENUM).is_some())
            .then(|| format!("{holder}/{}", crate::schema::EXTENSIBLE_ENUM))
    }

    /// A compiled validator for the schema at `at` (cached).
    pub fn validator(
        &self,
        at: &str,
        direction: Direction,
        strict: bool,
    ) -> Arc<Result<SchemaValidator, String>> {
        let key = (format!("{at}#{direction:?}"), strict);
        if let Some(v) = self
            .validators
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return Arc::clone(v);
        }
        let compiled = Arc::new(
            SchemaValidator::compile_with(&self.root, at, direction, strict)
                .map_err(|e| e.to_string()),
        );
        let mut cache = self
            .validators
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(cache.entry(key).or_insert(compiled))
    }

    /// Every way `response` departs from what operation `index` documents.
    pub fn check_response(
        &self,
        index: usize,
        response: ResponseParts<'_>,
        profile: Profile,
    ) -> Vec<ResponseFinding> {
        self.check_response_parsed(index, response, None, profile)
    }

    /// [`Spec::check_response`] for a caller that has already parsed the body as JSON (`parsed`
    /// must be the parse of `response.body`): saves parsing it again.
    pub fn check_response_parsed(
        &self,
        index: usize,
        response: ResponseParts<'_>,
        parsed: Option<&Value>,
        profile: Profile,
    ) -> Vec<ResponseFinding> {
        let mut out = Vec::new();
        let Some(op) = self.operations.get(index) else {
            return out;
        };
        let plan = self.plan(index, response.status, profile);
        let Some(plan) = plan.as_ref() else {
            let responses_at = format!("{}/responses", op.pointer);
            let documented: Vec<&str> = self
                .root
                .pointer(&responses_at)
                .and_then(Value::as_object)
                .map(|r| r.keys().map(String::as_str).collect())
                .unwrap_or_default();
            out.push(ResponseFinding {
                rule: ResponseRule::UndocumentedStatus,
                instance_pointer: "status".into(),
                schema_pointer: responses_at,
                expected: format!("one of {}", documented.join(", ")),
                actual: response.status.to_string(),
            });
            return out;
        };
        self.check_headers(plan, response, &mut out);
        self.check_body(plan, response, parsed, profile, &mut out);
        out.sort();
        out
    }

    /// The resolved documentation of `status` for operation `index` (cached).
    fn plan(&self, index: usize, status: u16, profile: Profile) -> Arc<Option<ResponsePlan>> {
        let key = (index, status, profile);
        if let Some(p) = self
            .plans
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return Arc::clone(p);
        }
        let plan = Arc::new(
            self.operations
                .get(index)
                .and_then(|op| self.documented(op, status, profile))
                .map(|at| self.resolve_plan(at)),
        );
        let mut plans = self
            .plans
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(plans.entry(key).or_insert(plan))
    }

    fn resolve_plan(&self, at: String) -> ResponsePlan {
        let node = self.root.pointer(&at);
        let mut headers = Vec::new();
        for (name, header) in node
            .and_then(|n| n.get("headers"))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            // `Content-Type` is described by `content`, not by headers (OpenAPI says to ignore it).
            if name.eq_ignore_ascii_case("content-type") {
                continue;
            }
            let header_at = pointer::push(&format!("{at}/headers"), name);
            let Ok((header_at, header)) = pointer::deref(&self.root, &header_at, header) else {
                continue;
            };
            headers.push(HeaderPlan {
                name: name.clone(),
                required: header.get("required") == Some(&Value::Bool(true)),
                schema_at: header.get("schema").map(|_| format!("{header_at}/schema")),
                at: header_at,
                compiled: OnceLock::new(),
            });
        }
        let content = node
            .and_then(|n| n.get("content"))
            .and_then(Value::as_object)
            .filter(|c| !c.is_empty())
            .map(|content| {
                content
                    .iter()
                    .map(|(media, object)| MediaPlan {
                        media: media.clone(),
                        json_schema: (media::admits_json(media) && object.get("schema").is_some())
                            .then(|| {
                                (
                                    format!("{at}/content/{}/schema", pointer::escape(media)),
                                    [OnceLock::new(), OnceLock::new()],
                                )
                            }),
                    })
                    .collect()
            });
        ResponsePlan {
            at,
            headers,
            content,
        }
    }

    /// The resolved pointer of the Response Object that documents `status` for operation
    /// `index` under `profile` (exact code, then range, then `default` in the spec profile);
    /// `None` when the status is undocumented.
    pub fn response_at(&self, index: usize, status: u16, profile: Profile) -> Option<String> {
        self.documented(self.operations.get(index)?, status, profile)
    }

    /// The response object documenting `status`: exact code, then range, then (spec profile)
    /// `default`. Returns its resolved pointer.
    fn documented(&self, op: &OperationInfo, status: u16, profile: Profile) -> Option<String> {
        let responses_at = format!("{}/responses", op.pointer);
        let responses = self.root.pointer(&responses_at)?.as_object()?;
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        let key = responses
            .keys()
            .find(|k| **k == exact)
            .or_else(|| responses.keys().find(|k| k.eq_ignore_ascii_case(&range)))
            .or_else(|| {
                if profile == Profile::Spec {
                    responses.keys().find(|k| *k == "default")
                } else {
                    None
                }
            })?;
        let at = pointer::push(&responses_at, key);
        pointer::deref(&self.root, &at, &responses[key])
            .ok()
            .map(|(at, _)| at)
    }

    fn check_headers(
        &self,
        plan: &ResponsePlan,
        response: ResponseParts<'_>,
        out: &mut Vec<ResponseFinding>,
    ) {
        for h in &plan.headers {
            match response.header(&h.name) {
                None if h.required => out.push(ResponseFinding {
                    rule: ResponseRule::MissingHeader,
                    instance_pointer: format!("header:{}", h.name),
                    schema_pointer: h.at.clone(),
                    expected: format!("header `{}`", h.name),
                    actual: "absent".into(),
                }),
                None => {}
                Some(value) => {
                    let compiled = h.compiled.get_or_init(|| {
                        let schema_at = h.schema_at.as_ref()?;
                        let schema = self.root.pointer(schema_at)?;
                        let kind = schema
                            .get("type")
                            .and_then(Value::as_str)
                            .map(str::to_owned);
                        Some((kind, self.validator(schema_at, Direction::Response, false)))
                    });
                    let Some((kind, validator)) = compiled else {
                        continue;
                    };
                    let typed = header_value(kind.as_deref(), value);
                    if let Ok(validator) = validator.as_ref().as_ref() {
                        if validator.is_valid(&typed) {
                            continue;
                        }
                        for v in validator.validate(&typed) {
                            out.push(ResponseFinding {
                                rule: ResponseRule::HeaderSchema,
                                instance_pointer: format!("header:{}", h.name),
                                schema_pointer: v.schema_pointer,
                                expected: v.message,
                                actual: value.to_owned(),
                            });
                        }
                    }
                }
            }
        }
    }

    fn check_body(
        &self,
        plan: &ResponsePlan,
        response: ResponseParts<'_>,
        parsed: Option<&Value>,
        profile: Profile,
        out: &mut Vec<ResponseFinding>,
    ) {
        let response_at = plan.at.as_str();
        let Some(content) = &plan.content else {
            if !response.body.is_empty() {
                out.push(ResponseFinding {
                    rule: ResponseRule::UnexpectedBody,
                    instance_pointer: String::new(),
                    schema_pointer: response_at.to_owned(),
                    expected: "no body".into(),
                    actual: format!("{} bytes", response.body.len()),
                });
            }
            return;
        };
        let content_type = response.header("content-type").unwrap_or("");
        let Some(media) = content
            .iter()
            .find(|m| media::matches(&m.media, content_type))
        else {
            out.push(ResponseFinding {
                rule: ResponseRule::ContentType,
                instance_pointer: "header:content-type".into(),
                schema_pointer: format!("{response_at}/content"),
                expected: content
                    .iter()
                    .map(|m| m.media.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
                actual: if content_type.is_empty() {
                    "none".into()
                } else {
                    content_type.to_owned()
                },
            });
            return;
        };
        let Some((schema_at, compiled)) = &media.json_schema else {
            return;
        };
        let parsed_here: Value;
        let body: &Value = match parsed {
            Some(v) => v,
            None => match serde_json::from_slice::<Value>(response.body) {
                Ok(v) => {
                    parsed_here = v;
                    &parsed_here
                }
                Err(e) => {
                    out.push(ResponseFinding {
                        rule: ResponseRule::MalformedJson,
                        instance_pointer: String::new(),
                        schema_pointer: format!(
                            "{response_at}/content/{}",
                            pointer::escape(&media.media)
                        ),
                        expected: "a JSON body".into(),
                        actual: format!("{e} ({} bytes)", response.body.len()),
                    });
                    return;
                }
            },
        };
        let strict = profile == Profile::Strict;
        let compiled = compiled[usize::from(strict)]
            .get_or_init(|| self.validator(schema_at, Direction::Response, strict));
        match compiled.as_ref() {
            Ok(validator) => {
                // The common case, valid, costs no error collection.
                if validator.is_valid(body) {
                    return;
                }
                for v in validator.validate(body) {
                    let mut schema_pointer = v.schema_pointer.clone();
                    let rule = if v.keyword == "unevaluatedProperties" {
                        ResponseRule::UndeclaredProperty
                    } else if let Some(list) = self.unlisted(&v.keyword, &v.schema_pointer) {
                        schema_pointer = list;
                        ResponseRule::UnlistedValue
                    } else {
                        ResponseRule::Schema
                    };
                    // A missing or undeclared property is reported at its own pointer, not
                    // at its parent's: that is where a reader looks for it.
                    let pointers: Vec<String> = if v.properties.is_empty() {
                        vec![v.instance_pointer.clone()]
                    } else {
                        v.properties
                            .iter()
                            .map(|p| format!("{}/{}", v.instance_pointer, pointer::escape(p)))
                            .collect()
                    };
                    for at in pointers {
                        let actual = body
                            .pointer(&at)
                            .map_or_else(|| "absent".to_owned(), |a| truncate(&a.to_string()));
                        out.push(ResponseFinding {
                            rule,
                            instance_pointer: at,
                            schema_pointer: schema_pointer.clone(),
                            expected: v.message.clone(),
                            actual,
                        });
                    }
                }
            }
            Err(e) => out.push(ResponseFinding {
                rule: ResponseRule::Schema,
                instance_pointer: String::new(),
                schema_pointer: schema_at.clone(),
                expected: format!("a compilable schema ({e})"),
                actual: "-".into(),
            }),
        }
    }
}

/// The request side of one operation.
fn request_schema(root: &Value, op: &crate::walk::Operation<'_>) -> RequestSchema {
    let mut params: Vec<(String, &Value)> = Vec::new();
    if let Some((at, Value::Array(list))) = &op.path_parameters {
        params.extend(
            list.iter()
                .enumerate()
                .map(|(i, p)| (format!("{at}/{i}"), p)),
        );
    }
    if let Some(Value::Array(list)) = op.node.get("parameters") {
        let at = format!("{}/parameters", op.pointer);
        params.extend(
            list.iter()
                .enumerate()
                .map(|(i, p)| (format!("{at}/{i}"), p)),
        );
    }
    let mut query = Vec::new();
    for (at, p) in params {
        let Ok((at, p)) = pointer::deref(root, &at, p) else {
            continue;
        };
        if p.get("in").and_then(Value::as_str) != Some("query") {
            continue;
        }
        let Some(schema) = p.get("schema") else {
            continue;
        };
        let schema_at = format!("{at}/schema");
        let integer = pointer::deref(root, &schema_at, schema)
            .ok()
            .and_then(|(_, s)| s.get("type").and_then(Value::as_str))
            == Some("integer");
        // An operation's parameter overrides the path item's of the same name.
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        query.retain(|q: &QueryParam| q.name != name);
        query.push(QueryParam {
            name: name.to_owned(),
            schema: SchemaAt::new(schema_at),
            integer,
        });
    }
    let body = op.node.get("requestBody").and_then(|rb| {
        let (rb_at, rb) = pointer::deref(root, &format!("{}/requestBody", op.pointer), rb).ok()?;
        let (media, object) = rb
            .get("content")?
            .as_object()?
            .iter()
            .find(|(m, _)| media::admits_json(m))?;
        let schema = object.get("schema")?;
        let schema_at = format!("{rb_at}/content/{}/schema", pointer::escape(media));
        Some(body_schema(root, &schema_at, schema))
    });
    RequestSchema { body, query }
}

/// Recognises the envelope idiom (see [`BodySchema::Envelope`]).
fn body_schema(root: &Value, at: &str, schema: &Value) -> BodySchema {
    let plain = || BodySchema::Plain(SchemaAt::new(at.to_owned()));
    let Ok((target, resolved)) = pointer::deref(root, at, schema) else {
        return plain();
    };
    let Some(Value::Array(branches)) = resolved.get("oneOf") else {
        return plain();
    };
    let [b0, b1] = branches.as_slice() else {
        return plain();
    };
    let resolve = |i: usize, b| pointer::deref(root, &format!("{target}/oneOf/{i}"), b).ok();
    let (Some((p0, b0)), Some((p1, b1))) = (resolve(0, b0), resolve(1, b1)) else {
        return plain();
    };
    // The wrapper requires exactly one property, which it declares.
    let wrapper_key = |b: &Value| -> Option<String> {
        match b.get("required") {
            Some(Value::Array(req)) if req.len() == 1 => req[0].as_str().map(str::to_owned),
            _ => None,
        }
        .filter(|k| {
            b.pointer(&format!("/properties/{}", pointer::escape(k)))
                .is_some()
        })
    };
    let forbids =
        |b: &Value, k: &str| b.pointer("/not/required/0").and_then(Value::as_str) == Some(k);
    let envelope = |key, wrapped, bare| BodySchema::Envelope {
        key,
        wrapped: SchemaAt::new(wrapped),
        bare: SchemaAt::new(bare),
    };
    match (wrapper_key(b0), wrapper_key(b1)) {
        (Some(k), _) if forbids(b1, &k) => envelope(k, p0, p1),
        (_, Some(k)) if forbids(b0, &k) => envelope(k, p1, p0),
        _ => plain(),
    }
}

fn segments(path: &str) -> Vec<Segment> {
    path.trim_end_matches('/')
        .split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name.to_owned()),
                None => Segment::Literal(s.to_owned()),
            },
        )
        .collect()
}

/// A header's text typed by its schema, so `X-Count: 40` validates against `type: integer`.
fn header_value(kind: Option<&str>, text: &str) -> Value {
    match kind {
        Some("integer") => text
            .trim()
            .parse::<i64>()
            .map_or_else(|_| Value::String(text.to_owned()), Value::from),
        Some("number") => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(text.to_owned()), Value::Number),
        Some("boolean") => match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text.to_owned()),
        },
        _ => Value::String(text.to_owned()),
    }
}

fn truncate(s: &str) -> String {
    if s.len() <= 200 {
        return s.to_owned();
    }
    let mut end = 200;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Spec {
        Spec::new(json!({
            "openapi": "3.0.3",
            "paths": {
                "/things/{id}": {"get": {"operationId": "getThing", "responses": {
                    "200": {"description": "ok",
                        "headers": {"X-Limit": {"required": true, "schema": {"type": "string", "pattern": "^\\d+/\\d+$"}},
                                    "X-Count": {"schema": {"type": "integer"}}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                    "204": {"description": "none"},
                    "4XX": {"description": "client", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "default": {"description": "other", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
                "/things/special": {"get": {"operationId": "special", "responses": {"200": {"description": "ok"}}}}
            },
            "components": {"schemas": {"Thing": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string"},
                "status": {"type": "string", "nullable": true, "x-extensible-enum": ["open", "paid"]},
                "mode": {"type": "string", "enum": ["test", "live"]}}}}}
        }))
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    fn rules(findings: &[ResponseFinding]) -> Vec<ResponseRule> {
        findings.iter().map(|f| f.rule).collect()
    }

    #[test]
    fn finds_operations_literal_first_and_extracts_params() {
        let s = spec();
        let m = s.find("GET", "/things/a%20b").unwrap();
        assert_eq!(s.operations()[m.index].id, "getThing");
        assert_eq!(m.params["id"], "a b");
        assert_eq!(
            s.operations()[s.find("get", "/things/special").unwrap().index].id,
            "special"
        );
        assert!(s.find("POST", "/things/1").is_none());
        assert!(s.path_exists("/things/1"));
        assert!(s.find("GET", "/things").is_none());
    }

    #[test]
    fn a_conforming_response_has_no_findings() {
        let s = spec();
        let h = headers(&[
            ("content-type", "application/json; charset=utf-8"),
            ("x-limit", "1/40"),
            ("X-Count", "3"),
        ]);
        let f = s.check_response(
            0,
            ResponseParts {
                status: 200,
                headers: &h,
                body: br#"{"id":"a"}"#,
            },
            Profile::Strict,
        );
        assert!(f.is_empty(), "{f:?}");
        let f = s.check_response(
            0,
            ResponseParts {
                status: 204,
                headers: &[],
                body: b"",
            },
            Profile::Strict,
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn open_lists_admit_any_value_and_strict_reports_unlisted_ones() {
        let s = spec();
        let h = headers(&[("content-type", "application/json"), ("x-limit", "1/40")]);
        let check = |body: &[u8], p| {
            s.check_response(
                0,
                ResponseParts {
                    status: 200,
                    headers: &h,
                    body,
                },
                p,
            )
        };
        let unlisted = br#"{"id": "a", "status": "refunded"}"#;
        assert!(check(unlisted, Profile::Spec).is_empty());
        let f = check(unlisted, Profile::Strict);
        assert_eq!(rules(&f), [ResponseRule::UnlistedValue]);
        assert_eq!(
            (f[0].instance_pointer.as_str(), f[0].schema_pointer.as_str()),
            (
                "/status",
                "/components/schemas/Thing/properties/status/x-extensible-enum"
            )
        );
        assert_eq!(f[0].actual, r#""refunded""#);
        // Listed values and (nullable) null pass both profiles.
        for body in [
            &br#"{"id": "a", "status": "paid"}"#[..],
            br#"{"id": "a", "status": null}"#,
        ] {
            assert!(check(body, Profile::Strict).is_empty());
        }
        // A closed enum stays a schema violation in both.
        let closed = br#"{"id": "a", "mode": "staging"}"#;
        assert_eq!(rules(&check(closed, Profile::Spec)), [ResponseRule::Schema]);
        assert_eq!(
            rules(&check(closed, Profile::Strict)),
            [ResponseRule::Schema]
        );
    }

    #[test]
    fn each_rule_is_reported_with_its_location() {
        let s = spec();
        let ok = headers(&[("content-type", "application/json"), ("x-limit", "1/40")]);
        let check = |status, h: &[(String, String)], body: &[u8], p| {
            s.check_response(
                0,
                ResponseParts {
                    status,
                    headers: h,
                    body,
                },
                p,
            )
        };
        let f = check(200, &ok, br#"{"id": 5}"#, Profile::Spec);
        assert_eq!(rules(&f), [ResponseRule::Schema]);
        assert_eq!(
            (f[0].instance_pointer.as_str(), f[0].schema_pointer.as_str()),
            ("/id", "/components/schemas/Thing/properties/id/type")
        );
        assert_eq!(f[0].actual, "5");
        let f = check(200, &ok, br#"{"id": "a", "extra": 1}"#, Profile::Strict);
        assert_eq!(rules(&f), [ResponseRule::UndeclaredProperty]);
        assert!(check(200, &ok, br#"{"id": "a", "extra": 1}"#, Profile::Spec).is_empty());
        assert_eq!(
            rules(&check(200, &ok, br#"{"id": "a""#, Profile::Spec)),
            [ResponseRule::MalformedJson]
        );
        let html = headers(&[("content-type", "text/html"), ("x-limit", "1/40")]);
        assert_eq!(
            rules(&check(200, &html, b"<p>", Profile::Spec)),
            [ResponseRule::ContentType]
        );
        let no_limit = headers(&[("content-type", "application/json")]);
        let f = check(200, &no_limit, br#"{"id": "a"}"#, Profile::Spec);
        assert_eq!(
            (f[0].rule, f[0].instance_pointer.as_str()),
            (ResponseRule::MissingHeader, "header:X-Limit")
        );
        let bad = headers(&[
            ("content-type", "application/json"),
            ("x-limit", "lots"),
            ("x-count", "many"),
        ]);
        assert_eq!(
            rules(&check(200, &bad, br#"{"id": "a"}"#, Profile::Spec)),
            [ResponseRule::HeaderSchema, ResponseRule::HeaderSchema]
        );
        assert_eq!(
            rules(&check(204, &[], b"surprise", Profile::Spec)),
            [ResponseRule::UnexpectedBody]
        );
    }

    #[test]
    fn statuses_exact_then_range_then_default_by_profile() {
        let s = spec();
        let json = headers(&[("content-type", "application/json")]);
        assert!(
            s.check_response(
                0,
                ResponseParts {
                    status: 409,
                    headers: &json,
                    body: b"{}"
                },
                Profile::Strict
            )
            .is_empty()
        );
        let text = headers(&[("content-type", "text/plain")]);
        assert!(
            s.check_response(
                0,
                ResponseParts {
                    status: 500,
                    headers: &text,
                    body: b"oops"
                },
                Profile::Spec
            )
            .is_empty()
        );
        let f = s.check_response(
            0,
            ResponseParts {
                status: 500,
                headers: &text,
                body: b"oops",
            },
            Profile::Strict,
        );
        assert_eq!(rules(&f), [ResponseRule::UndocumentedStatus]);
        assert_eq!(f[0].actual, "500");
        let special = s.operation("special").unwrap();
        let f = s.check_response(
            special,
            ResponseParts {
                status: 500,
                headers: &[],
                body: b"",
            },
            Profile::Spec,
        );
        assert_eq!(rules(&f), [ResponseRule::UndocumentedStatus]);
    }

    fn requests() -> Spec {
        Spec::new(json!({
            "openapi": "3.0.3",
            "paths": {
                "/things": {
                    "parameters": [
                        {"in": "query", "name": "page", "schema": {"type": "integer", "minimum": 1}},
                        {"in": "query", "name": "sort", "schema": {"type": "string"}},
                        {"in": "header", "name": "X-Version", "schema": {"type": "string"}}
                    ],
                    "post": {"operationId": "create",
                        "parameters": [{"$ref": "#/components/parameters/Sort"}],
                        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateBody"}}}},
                        "responses": {
                            "200": {"description": "ok", "content": {"application/json": {
                                "schema": {"type": "object"},
                                "examples": {"first": {"$ref": "#/components/examples/Made"}, "second": {"value": {"n": 2}}}}}},
                            "4XX": {"description": "client", "content": {"application/json": {"example": {"error": "bad"}}}},
                            "default": {"description": "other"}}},
                    "get": {"operationId": "list", "responses": {"200": {"description": "ok"}}}
                }
            },
            "components": {
                "parameters": {"Sort": {"in": "query", "name": "sort", "schema": {"type": "string", "enum": ["asc"]}}},
                "examples": {"Made": {"value": {"n": 1}}},
                "schemas": {
                    "CreateBody": {"oneOf": [{"$ref": "#/components/schemas/Wrapped"}, {"$ref": "#/components/schemas/Thing"}]},
                    "Wrapped": {"type": "object", "required": ["thing"], "properties": {"thing": {"$ref": "#/components/schemas/Thing"}}},
                    "Thing": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}},
                              "not": {"required": ["thing"]}}
                }
            }
        }))
    }

    #[test]
    fn request_schemas_split_envelopes_and_merge_parameters() {
        let s = requests();
        let create = s.operation("create").unwrap();
        let request = s.request(create).unwrap();
        let Some(BodySchema::Envelope { key, wrapped, bare }) = &request.body else {
            panic!("{:?}", request.body);
        };
        assert_eq!(key, "thing");
        assert_eq!(wrapped.at, "/components/schemas/Wrapped");
        assert_eq!(bare.at, "/components/schemas/Thing");
        // Header parameters are not query parameters; the operation's `sort` wins.
        let query: Vec<(&str, &str, bool)> = request
            .query
            .iter()
            .map(|q| (q.name.as_str(), q.schema.at.as_str(), q.integer))
            .collect();
        assert_eq!(
            query,
            [
                ("page", "/paths/~1things/parameters/0/schema", true),
                ("sort", "/components/parameters/Sort/schema", false),
            ]
        );
        assert!(
            s.request(s.operation("list").unwrap())
                .unwrap()
                .body
                .is_none()
        );
        assert!(s.warm_up_requests().is_empty());
    }

    #[test]
    fn request_bodies_are_checked_against_their_branch() {
        let s = requests();
        let create = s.operation("create").unwrap();
        let at = |body: Value| -> Vec<(String, String)> {
            s.check_request_body(create, &body)
                .unwrap()
                .into_iter()
                .map(|v| (v.instance_pointer, v.keyword))
                .collect()
        };
        assert!(at(json!({"n": 1})).is_empty());
        assert!(at(json!({"thing": {"n": 1}})).is_empty());
        // Each branch's own violation, not a `oneOf` failure.
        assert_eq!(
            at(json!({"thing": {"n": "x"}})),
            [("/thing/n".into(), "type".into())]
        );
        assert_eq!(at(json!({"n": "x"})), [("/n".into(), "type".into())]);
        // No JSON body declared: nothing to check.
        assert!(
            s.check_request_body(s.operation("list").unwrap(), &json!(5))
                .unwrap()
                .is_empty()
        );
        let page = &s.request(create).unwrap().query[0];
        assert!(page.schema.validate(&s, &json!(2)).unwrap().is_empty());
        assert_eq!(
            page.schema.validate(&s, &json!(0)).unwrap()[0].keyword,
            "minimum"
        );
    }

    #[test]
    fn documented_statuses_and_examples() {
        let s = requests();
        let create = s.operation("create").unwrap();
        assert_eq!(s.documented_statuses(create), [200]);
        assert_eq!(s.response_example(create, 200), Some(json!({"n": 1})));
        assert_eq!(
            s.response_example(create, 404),
            Some(json!({"error": "bad"}))
        );
        assert_eq!(s.response_example(create, 500), None);
        assert_eq!(
            s.response_at(create, 404, Profile::Strict).as_deref(),
            Some("/paths/~1things/post/responses/4XX")
        );
        assert_eq!(s.response_at(create, 500, Profile::Strict), None);
        assert_eq!(
            s.response_at(create, 500, Profile::Spec).as_deref(),
            Some("/paths/~1things/post/responses/default")
        );
    }
}
