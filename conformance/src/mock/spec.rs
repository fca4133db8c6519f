//! What the mock reads from the specs: each operation's request body schema (and envelope),
//! query parameters and documented responses, with validators compiled on first use and
//! violations turned into API-neutral [`Issue`]s that each API words its own way.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use oas::{Direction, SchemaValidator, Violation, pointer};
use serde_json::Value;

use crate::specs::Api;

/// One API's spec, indexed by `operationId`.
#[derive(Debug)]
pub struct ApiSpec {
    pub api: Api,
    pub root: Value,
    pub ops: BTreeMap<String, OpSpec>,
    validators: RwLock<HashMap<(String, Direction), Arc<SchemaValidator>>>,
}

/// What the spec says about one operation.
#[derive(Debug, Clone)]
pub struct OpSpec {
    pub id: String,
    /// Uppercase (the routing tests compare it with the routes).
    #[cfg_attr(not(test), allow(dead_code))]
    pub method: String,
    pub body: Option<BodySpec>,
    pub query: Vec<QueryParam>,
    /// Status → the JSON schema pointer of its body (if any) and its first example body.
    pub responses: BTreeMap<u16, ResponseSpec>,
}

/// A request body schema; envelopes (`oneOf` of `{K: X}` and `X`) are split so each branch is
/// validated on its own and every nested violation is reported, not one `oneOf` failure.
#[derive(Debug, Clone)]
pub enum BodySpec {
    Plain(String),
    Envelope {
        key: String,
        wrapped: String,
        bare: String,
    },
}

#[derive(Debug, Clone)]
pub struct QueryParam {
    pub name: String,
    pub schema: String,
    pub integer: bool,
}

#[derive(Debug, Clone)]
pub struct ResponseSpec {
    pub schema: Option<String>,
    pub example: Option<Value>,
}

/// Why the mock cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error(transparent)]
    Load(#[from] oas::LoadError),
    #[error("{0}")]
    Schema(String),
}

/// One problem with a request, independent of how the API words it.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Instance path segments; for `Required`, ends with the missing property.
    pub path: Vec<String>,
    pub kind: IssueKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum IssueKind {
    Required,
    /// `expected` is the schema's `type`; `null` when the value sent was `null`.
    Type {
        expected: String,
        null: bool,
    },
    Enum(Vec<Value>),
    Minimum(Value),
    Maximum(Value),
    MinLength(Value),
    MaxLength(Value),
    MinItems(Value),
    MaxItems(Value),
    Format(String),
    Pattern,
    /// `anyOf`, `oneOf` or `not` failed at this path.
    Composite(String),
    Other(String),
}

impl ApiSpec {
    /// Parses and indexes the embedded spec. Validators are compiled lazily.
    pub fn load(api: Api) -> Result<Self, SpecError> {
        let doc = api.document()?;
        let root = doc.root;
        let mut ops = BTreeMap::new();
        for op in oas::operations(&root) {
            if op.callback_of.is_some() {
                continue;
            }
            let Some(id) = op.id() else { continue };
            let spec = index_operation(&root, &op)?;
            ops.insert(id.to_owned(), spec);
        }
        Ok(Self {
            api,
            root,
            ops,
            validators: RwLock::new(HashMap::new()),
        })
    }

    pub fn op(&self, id: &str) -> Option<&OpSpec> {
        self.ops.get(id)
    }

    /// The validator of the schema at `at`, compiled once.
    pub fn validator(
        &self,
        at: &str,
        direction: Direction,
    ) -> Result<Arc<SchemaValidator>, SpecError> {
        let key = (at.to_owned(), direction);
        if let Some(v) = self
            .validators
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(Arc::clone(v));
        }
        let compiled = Arc::new(
            SchemaValidator::compile(&self.root, at, direction)
                .map_err(|e| SpecError::Schema(e.to_string()))?,
        );
        self.validators
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_insert_with(|| Arc::clone(&compiled));
        Ok(compiled)
    }

    /// Compiles every request validator now (startup warm-up, off the request path).
    pub fn warm_up(&self) {
        for op in self.ops.values() {
            let mut pointers = Vec::new();
            match &op.body {
                Some(BodySpec::Plain(p)) => pointers.push(p.clone()),
                Some(BodySpec::Envelope { wrapped, bare, .. }) => {
                    pointers.push(wrapped.clone());
                    pointers.push(bare.clone());
                }
                None => {}
            }
            pointers.extend(op.query.iter().map(|q| q.schema.clone()));
            for p in pointers {
                if let Err(e) = self.validator(&p, Direction::Request) {
                    tracing::error!("{}: {e}", self.api.spec_path());
                }
            }
        }
    }

    /// Validates a request body of `op`; an empty list means valid.
    pub fn check_body(&self, op: &OpSpec, body: &Value) -> Vec<Issue> {
        let at = match &op.body {
            None => return Vec::new(),
            Some(BodySpec::Plain(p)) => p.as_str(),
            Some(BodySpec::Envelope { key, wrapped, bare }) => {
                if body.get(key).is_some() {
                    wrapped.as_str()
                } else {
                    bare.as_str()
                }
            }
        };
        self.check(at, body, &[])
    }

    /// Validates `instance` against the schema at `at`; `prefix` is prepended to every path.
    pub fn check(&self, at: &str, instance: &Value, prefix: &[String]) -> Vec<Issue> {
        let validator = match self.validator(at, Direction::Request) {
            Ok(v) => v,
            Err(e) => {
                return vec![Issue {
                    path: prefix.to_vec(),
                    kind: IssueKind::Other(e.to_string()),
                }];
            }
        };
        if validator.is_valid(instance) {
            return Vec::new();
        }
        validator
            .validate(instance)
            .into_iter()
            .map(|v| self.issue(&v, instance, prefix))
            .collect()
    }

    /// Validates the query parameters `op` declares; unknown parameters are ignored.
    /// Returns the parsed values (integers as numbers) and the issues.
    pub fn check_query(
        &self,
        op: &OpSpec,
        query: &[(String, String)],
    ) -> (BTreeMap<String, Value>, Vec<Issue>) {
        let mut values = BTreeMap::new();
        let mut issues = Vec::new();
        for param in &op.query {
            // The last occurrence wins, as in PHP.
            let Some((_, raw)) = query.iter().rev().find(|(k, _)| *k == param.name) else {
                continue;
            };
            let value = if param.integer {
                raw.trim()
                    .parse::<i64>()
                    .map_or_else(|_| Value::String(raw.clone()), Value::from)
            } else {
                Value::String(raw.clone())
            };
            issues.extend(self.check(&param.schema, &value, std::slice::from_ref(&param.name)));
            values.insert(param.name.clone(), value);
        }
        (values, issues)
    }

    /// Violations of a response body against the schema documented for `status`; `None` when
    /// the status is not documented for the operation.
    pub fn check_response(&self, op: &OpSpec, status: u16, body: &Value) -> Option<Vec<String>> {
        let spec = op.responses.get(&status)?;
        let Some(at) = &spec.schema else {
            return Some(Vec::new());
        };
        Some(match self.validator(at, Direction::Response) {
            Ok(v) => v
                .validate(body)
                .into_iter()
                .map(|v| {
                    format!(
                        "{} {status}: at `{}`: {} ({})",
                        op.id, v.instance_pointer, v.message, v.schema_pointer
                    )
                })
                .collect(),
            Err(e) => vec![e.to_string()],
        })
    }

    fn issue(&self, v: &Violation, instance: &Value, prefix: &[String]) -> Issue {
        let mut path: Vec<String> = prefix.to_vec();
        path.extend(v.instance_pointer.split('/').skip(1).map(pointer::unescape));
        let limit = || {
            pointer::get(&self.root, &v.schema_pointer)
                .cloned()
                .unwrap_or(Value::Null)
        };
        let kind = match v.keyword.as_str() {
            "required" => {
                if let Some(name) = first_json_string(&v.message) {
                    path.push(name);
                }
                IssueKind::Required
            }
            "type" => IssueKind::Type {
                expected: match limit() {
                    Value::String(s) => s,
                    other => other.to_string(),
                },
                null: instance.pointer(&v.instance_pointer) == Some(&Value::Null),
            },
            "enum" => IssueKind::Enum(match limit() {
                Value::Array(a) => a,
                _ => Vec::new(),
            }),
            "minimum" => IssueKind::Minimum(limit()),
            "maximum" => IssueKind::Maximum(limit()),
            "minLength" => IssueKind::MinLength(limit()),
            "maxLength" => IssueKind::MaxLength(limit()),
            "minItems" => IssueKind::MinItems(limit()),
            "maxItems" => IssueKind::MaxItems(limit()),
            "format" => IssueKind::Format(match limit() {
                Value::String(s) => s,
                _ => String::new(),
            }),
            "pattern" => IssueKind::Pattern,
            "anyOf" | "oneOf" | "not" => IssueKind::Composite(v.keyword.clone()),
            _ => IssueKind::Other(v.message.clone()),
        };
        Issue { path, kind }
    }
}

/// The first JSON string literal in `message` (`"success_url" is a required property`).
fn first_json_string(message: &str) -> Option<String> {
    let start = message.find('"')?;
    let mut stream = serde_json::Deserializer::from_str(&message[start..]).into_iter::<String>();
    stream.next()?.ok()
}

fn index_operation(root: &Value, op: &oas::Operation<'_>) -> Result<OpSpec, SpecError> {
    let id = op.id().unwrap_or_default().to_owned();
    let mut query = Vec::new();
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
    for (at, p) in params {
        let (at, p) = pointer::deref(root, &at, p).map_err(|e| SpecError::Schema(e.to_string()))?;
        if p.get("in").and_then(Value::as_str) != Some("query") {
            continue;
        }
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        let schema_at = format!("{at}/schema");
        let integer = p
            .get("schema")
            .and_then(|s| pointer::deref(root, &schema_at, s).ok())
            .and_then(|(_, s)| s.get("type").and_then(Value::as_str))
            == Some("integer");
        query.push(QueryParam {
            name: name.to_owned(),
            schema: schema_at,
            integer,
        });
    }

    let body = match op.node.get("requestBody") {
        None => None,
        Some(rb) => {
            let (rb_at, rb) = pointer::deref(root, &format!("{}/requestBody", op.pointer), rb)
                .map_err(|e| SpecError::Schema(e.to_string()))?;
            let schema_at = format!("{rb_at}/content/application~1json/schema");
            rb.pointer("/content/application~1json/schema")
                .map(|schema| body_spec(root, &schema_at, schema))
        }
    };

    let mut responses = BTreeMap::new();
    if let Some(Value::Object(map)) = op.node.get("responses") {
        for (status, response) in map {
            let Ok(code) = status.parse::<u16>() else {
                continue;
            };
            let at = pointer::push(&format!("{}/responses", op.pointer), status);
            let (at, response) = pointer::deref(root, &at, response)
                .map_err(|e| SpecError::Schema(e.to_string()))?;
            let media = response.pointer("/content/application~1json");
            let schema = media
                .and_then(|m| m.get("schema"))
                .map(|_| format!("{at}/content/application~1json/schema"));
            let example = media.and_then(|m| first_example(root, &at, m));
            responses.insert(code, ResponseSpec { schema, example });
        }
    }
    Ok(OpSpec {
        id,
        method: op.method.to_ascii_uppercase(),
        body,
        query,
        responses,
    })
}

fn first_example(root: &Value, at: &str, media: &Value) -> Option<Value> {
    if let Some(example) = media.get("example") {
        return Some(example.clone());
    }
    let (_, first) = media.get("examples")?.as_object()?.iter().next()?;
    let (_, resolved) = pointer::deref(root, at, first).ok()?;
    resolved.get("value").cloned()
}

/// Recognises the envelope pattern: `oneOf: [$ref W, $ref B]` where W is `{required: [K]}`.
fn body_spec(root: &Value, at: &str, schema: &Value) -> BodySpec {
    let plain = || BodySpec::Plain(at.to_owned());
    let Ok((target, resolved)) = pointer::deref(root, at, schema) else {
        return plain();
    };
    let Some(Value::Array(branches)) = resolved.get("oneOf") else {
        return plain();
    };
    if branches.len() != 2 {
        return plain();
    }
    let resolve =
        |i: usize| pointer::deref(root, &format!("{target}/oneOf/{i}"), &branches[i]).ok();
    let (Some((p0, b0)), Some((p1, b1))) = (resolve(0), resolve(1)) else {
        return plain();
    };
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
    // The bare branch forbids the key with `not: {required: [K]}`; the wrapper requires only K.
    let forbids =
        |b: &Value, k: &str| b.pointer("/not/required/0").and_then(Value::as_str) == Some(k);
    match (wrapper_key(b0), wrapper_key(b1)) {
        (Some(k), _) if forbids(b1, &k) => BodySpec::Envelope {
            key: k,
            wrapped: p0,
            bare: p1,
        },
        (_, Some(k)) if forbids(b0, &k) => BodySpec::Envelope {
            key: k,
            wrapped: p1,
            bare: p0,
        },
        _ => plain(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn envelopes_and_query_parameters_are_indexed() {
        let spec = ApiSpec::load(Api::Recharge).unwrap();
        let create = spec.op("createCheckout").unwrap();
        assert!(matches!(
            &create.body,
            Some(BodySpec::Envelope { key, .. }) if key == "checkout"
        ));
        let charge = spec.op("chargeCheckout").unwrap();
        assert!(matches!(
            &charge.body,
            Some(BodySpec::Envelope { key, .. }) if key == "checkout_charge"
        ));
        assert!(create.responses.contains_key(&426));
        let chargily = ApiSpec::load(Api::Chargily).unwrap();
        let list = chargily.op("listCheckouts").unwrap();
        assert_eq!(
            list.query
                .iter()
                .map(|q| q.name.as_str())
                .collect::<Vec<_>>(),
            ["per_page", "page"]
        );
        assert!(list.query.iter().all(|q| q.integer));
        assert_eq!(chargily.ops.len(), 26);
        assert_eq!(spec.ops.len(), 5);
    }

    #[test]
    fn nested_violations_are_reported_one_by_one() {
        let spec = ApiSpec::load(Api::Chargily).unwrap();
        let op = spec.op("createCheckout").unwrap();
        let issues = spec.check_body(
            op,
            &json!({"items": [{"quantity": 0}], "locale": "de", "success_url": 5}),
        );
        let paths: Vec<String> = issues.iter().map(|i| i.path.join(".")).collect();
        assert!(paths.contains(&"items.0.price".to_owned()), "{issues:?}");
        assert!(paths.contains(&"items.0.quantity".to_owned()), "{issues:?}");
        assert!(paths.contains(&"locale".to_owned()), "{issues:?}");
        assert!(paths.contains(&"success_url".to_owned()), "{issues:?}");
        let recharge = ApiSpec::load(Api::Recharge).unwrap();
        let op = recharge.op("createCheckout").unwrap();
        let issues = recharge.check_body(
            op,
            &json!({"checkout": {"line_items": [{"quantity": "x"}]}}),
        );
        let paths: Vec<String> = issues.iter().map(|i| i.path.join(".")).collect();
        assert!(
            paths.contains(&"checkout.line_items.0.variant_id".to_owned()),
            "{issues:?}"
        );
        assert!(
            paths.contains(&"checkout.line_items.0.quantity".to_owned()),
            "{issues:?}"
        );
    }
}
