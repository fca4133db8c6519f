//! Schema Objects translated to JSON Schema 2020-12 and validated with `jsonschema`.
//!
//! OpenAPI 3.1 schemas are JSON Schema 2020-12 (the OAS dialect): their keywords are kept
//! (`const`, type arrays, `prefixItems`, `if`/`then`/`else`, `patternProperties`,
//! `dependentRequired`/`dependentSchemas`, `contains`, `propertyNames`, `unevaluated*`, numeric
//! exclusive bounds, boolean schemas) and a `$ref`'s siblings apply beside it; `nullable` is not
//! a 3.1 keyword and is ignored (the lint reports it); annotations (`examples`,
//! `contentEncoding`…) are dropped; references are followed by JSON pointer, so `$id`/`$anchor`
//! addressing is not supported. What follows (by direction, formats, `$defs`, strict mode)
//! applies to both versions.
//!
//! OpenAPI 3.0 schemas are not JSON Schema. The translation:
//! - `nullable: true` adds `null` to the `type` beside it, as OpenAPI 3.0.3 says to the letter
//!   ("only if `type` is explicitly defined within the same Schema Object"; the 2019 "Clarify
//!   Nullable" proposal): every other keyword keeps its meaning, so an `enum` must list `null`
//!   and an `allOf`/`oneOf`/`anyOf` must accept it for `null` to pass, and `nullable` without a
//!   `type` has no effect (the lint reports it). Strict readers (`openapi-schema-validator`,
//!   Redocly) accept what this accepts; the portable nullable reference is
//!   `anyOf: [{$ref: X}, {type: …, nullable: true, enum: [null]}]`.
//! - boolean `exclusiveMinimum`/`exclusiveMaximum` (draft 4 style) become numeric bounds.
//! - `readOnly` properties are forbidden and not required in requests; `writeOnly` likewise in
//!   responses ([`Direction`]).
//! - `format: int32`/`int64` become range checks; `byte` is checked as base64; `date-time`,
//!   `date`, `uuid`, `email`, `uri` are checked by `jsonschema`; other formats are annotations.
//! - siblings of `$ref` are ignored, as OpenAPI 3.0 requires; annotations and keywords that
//!   OpenAPI 3.0 does not define (`const`, `if`, `patternProperties`…) are dropped.
//! - in **strict** mode, objects that declare their shape (`properties`, `allOf`, `oneOf`,
//!   `anyOf`) and say nothing of `additionalProperties` get `unevaluatedProperties: false`, so
//!   undeclared properties are violations. `unevaluatedProperties` sees through `allOf` and the
//!   matching `oneOf` branch, which `additionalProperties: false` would not; members of such
//!   combinations are translated a second time without the rule ("open" copies in `$defs`).
//!
//! Every reachable local `$ref` target is translated once into the validator's `$defs`, keyed by
//! its pointer, so error locations map back to the OpenAPI document exactly.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::load::Version;
use crate::pointer;

/// Which way a payload travels; decides what `readOnly`/`writeOnly` mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Sent by the client: `readOnly` properties must not appear.
    Request,
    /// Sent by the server: `writeOnly` properties must not appear.
    Response,
    /// Schema-level examples: neither rule applies.
    Neutral,
}

/// Why a schema could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error(transparent)]
    Ref(#[from] pointer::RefError),
    #[error("{at}: not a Schema Object")]
    NotASchema { at: String },
    #[error("{at}: schema rejected by the JSON Schema compiler: {message}")]
    /// `message` is the compiler's text; `at` the schema's pointer.
    Invalid { at: String, message: String },
}

/// One way a Schema Object breaks the JSON Schema 2020-12 meta-schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaViolation {
    /// JSON pointer within the schema.
    pub pointer: String,
    pub message: String,
    /// A keyword's value of the wrong kind (JSON type, or not one of the allowed values: a
    /// `type` outside the seven), as opposed to a broken constraint on a value of the right
    /// kind (repeated `required` names, an empty `allOf`).
    pub wrong_kind: bool,
}

/// The ways an OpenAPI 3.1 Schema Object breaks the JSON Schema 2020-12 meta-schema, at most
/// `limit`. The OpenAPI dialect's own keywords (`discriminator`, `xml`, `externalDocs`,
/// `example`) are open there, as any unknown keyword is.
pub fn meta_violations(node: &Value, limit: usize) -> Vec<MetaViolation> {
    use jsonschema::error::ValidationErrorKind as K;
    let validator = jsonschema::draft202012::meta::validator();
    validator
        .iter_errors(node)
        .take(limit)
        .map(|e| MetaViolation {
            pointer: e.instance_path().as_str().to_owned(),
            message: e.to_string(),
            wrong_kind: matches!(
                e.kind(),
                K::Type { .. }
                    | K::AnyOf { .. }
                    | K::OneOfNotValid { .. }
                    | K::Enum { .. }
                    | K::FalseSchema
            ),
        })
        .collect()
}

/// One way an instance fails a schema.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Violation {
    /// JSON pointer into the validated instance.
    pub instance_pointer: String,
    /// JSON pointer into the OpenAPI document of the failing keyword.
    pub schema_pointer: String,
    /// The JSON Schema keyword that failed (`type`, `required`, `enum`…).
    pub keyword: String,
    /// What was expected and what was found.
    pub message: String,
    /// The properties a `required`, `additionalProperties` or `unevaluatedProperties` failure
    /// is about (the instance pointer names their parent object).
    pub properties: Vec<String>,
}

/// A compiled validator for the schema at one pointer of a document.
pub struct SchemaValidator {
    validator: jsonschema::Validator,
    base: String,
    direction: Direction,
    /// An OpenAPI 3.1 document: `else` is then a keyword of the schema itself.
    v31: bool,
    /// The properties excluded in this direction (`readOnly` in requests, `writeOnly` in
    /// responses), by document pointer: translated to `false`, which a 3.1 schema may also
    /// write itself.
    hidden: std::collections::BTreeSet<String>,
}

impl std::fmt::Debug for SchemaValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaValidator")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl SchemaValidator {
    /// Compiles the schema found at `at` in `root` for payloads travelling in `direction`.
    pub fn compile(root: &Value, at: &str, direction: Direction) -> Result<Self, SchemaError> {
        Self::compile_with(root, at, direction, false)
    }

    /// Like [`compile`](Self::compile); with `strict`, undeclared properties are violations.
    pub fn compile_with(
        root: &Value,
        at: &str,
        direction: Direction,
        strict: bool,
    ) -> Result<Self, SchemaError> {
        let node =
            pointer::get(root, at).ok_or_else(|| SchemaError::NotASchema { at: at.to_owned() })?;
        let (json_schema, hidden) = translate_root(root, at, node, direction, strict)?;
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .with_format("byte", is_base64)
            .build(&json_schema)
            .map_err(|e| SchemaError::Invalid {
                at: at.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Self {
            validator,
            base: at.to_owned(),
            direction,
            v31: Version::of(root) == Version::V3_1,
            hidden,
        })
    }

    /// Pointer of the schema this validator checks.
    pub fn location(&self) -> &str {
        &self.base
    }

    /// Whether `instance` satisfies the schema.
    pub fn is_valid(&self, instance: &Value) -> bool {
        self.validator.is_valid(instance)
    }

    /// Every violation, sorted by instance pointer.
    pub fn validate(&self, instance: &Value) -> Vec<Violation> {
        let mut out: Vec<Violation> = self
            .validator
            .iter_errors(instance)
            .map(|e| {
                let schema_pointer = self.map_back(e.schema_path().as_str());
                let (keyword, message) = match e.kind() {
                    jsonschema::error::ValidationErrorKind::FalseSchema
                        if self.hidden.contains(&schema_pointer) =>
                    {
                        let flag = match self.direction {
                            Direction::Request => "readOnly: it must not be sent in a request",
                            _ => "writeOnly: it must not be sent in a response",
                        };
                        let name = schema_pointer
                            .rsplit('/')
                            .next()
                            .map(pointer::unescape)
                            .unwrap_or_default();
                        (
                            if self.direction == Direction::Request {
                                "readOnly"
                            } else {
                                "writeOnly"
                            },
                            format!("property `{name}` is {flag}"),
                        )
                    }
                    kind => (kind.keyword(), e.to_string()),
                };
                use jsonschema::error::ValidationErrorKind as K;
                let properties = match e.kind() {
                    K::Required { property } => property
                        .as_str()
                        .map(|p| vec![p.to_owned()])
                        .unwrap_or_default(),
                    K::AdditionalProperties { unexpected }
                    | K::UnevaluatedProperties { unexpected } => unexpected.clone(),
                    _ => Vec::new(),
                };
                Violation {
                    instance_pointer: e.instance_path().as_str().to_owned(),
                    schema_pointer,
                    keyword: keyword.to_owned(),
                    message,
                    properties,
                }
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// `/$defs/<escaped pointer>/rest` → `<pointer>/rest`; anything else is under the base.
    /// The `else` segments that the nullable-reference translation adds are removed.
    fn map_back(&self, schema_path: &str) -> String {
        let (origin, tail) = match schema_path.strip_prefix("/$defs/") {
            Some(rest) => {
                let (key, tail) = rest.split_once('/').map_or((rest, ""), |(k, t)| (k, t));
                let key = pointer::unescape(key);
                (
                    key.strip_prefix(OPEN).map(str::to_owned).unwrap_or(key),
                    tail,
                )
            }
            None => (self.base.clone(), schema_path.trim_start_matches('/')),
        };
        let mut out = origin;
        let mut previous = "";
        for segment in tail.split('/').filter(|s| !s.is_empty()) {
            // A property named `else` appears after `properties`; any other `else` in a 3.0
            // document is the one the nullable-reference translation adds.
            if self.v31 || segment != "else" || previous == "properties" {
                out.push('/');
                out.push_str(segment);
            }
            previous = segment;
        }
        out
    }
}

/// Translates the schema `node` (at pointer `at` of `root`) and everything it references into
/// one self-contained JSON Schema 2020-12 document.
pub fn to_json_schema(
    root: &Value,
    at: &str,
    node: &Value,
    direction: Direction,
) -> Result<Value, SchemaError> {
    to_json_schema_with(root, at, node, direction, false)
}

/// Prefix of the `$defs` keys of "open" copies (strict mode, members of combinations).
const OPEN: &str = "open:";

/// [`to_json_schema`], optionally strict about undeclared properties.
pub fn to_json_schema_with(
    root: &Value,
    at: &str,
    node: &Value,
    direction: Direction,
    strict: bool,
) -> Result<Value, SchemaError> {
    translate_root(root, at, node, direction, strict).map(|(schema, _)| schema)
}

/// [`to_json_schema_with`], and the pointers of the properties it excluded by direction.
fn translate_root(
    root: &Value,
    at: &str,
    node: &Value,
    direction: Direction,
    strict: bool,
) -> Result<(Value, std::collections::BTreeSet<String>), SchemaError> {
    let mut cx = Translator {
        root,
        v31: Version::of(root) == Version::V3_1,
        direction,
        strict,
        defs: BTreeMap::new(),
        pending: Vec::new(),
        hidden: std::collections::BTreeSet::new(),
    };
    let mut top = cx.translate(at, node, false)?;
    while let Some((target, open)) = cx.pending.pop() {
        let key = if open {
            format!("{OPEN}{target}")
        } else {
            target.clone()
        };
        if cx.defs.contains_key(&key) {
            continue;
        }
        cx.defs.insert(key.clone(), Value::Null); // placeholder: breaks cycles
        let target_node = pointer::get(root, &target)
            .ok_or_else(|| SchemaError::NotASchema { at: target.clone() })?;
        let translated = cx.translate(&target, target_node, open)?;
        cx.defs.insert(key, translated);
    }
    if let Value::Object(map) = &mut top {
        if !cx.defs.is_empty() {
            let defs: Map<String, Value> = cx.defs.into_iter().collect();
            map.insert("$defs".into(), Value::Object(defs));
        }
    } else if !cx.defs.is_empty() {
        // A boolean schema at the top cannot carry $defs; wrap it.
        let defs: Map<String, Value> = cx.defs.into_iter().collect();
        top = json!({"allOf": [top], "$defs": defs});
    }
    Ok((top, cx.hidden))
}

struct Translator<'a> {
    root: &'a Value,
    /// The document is OpenAPI 3.1: its schemas are JSON Schema 2020-12 already.
    v31: bool,
    direction: Direction,
    strict: bool,
    defs: BTreeMap<String, Value>,
    /// Reference targets still to translate, and whether as an "open" copy.
    pending: Vec<(String, bool)>,
    /// Properties excluded by direction, by document pointer.
    hidden: std::collections::BTreeSet<String>,
}

/// The open list of known values (Zalando's convention): plain strings to every reader; known
/// values are checked in strict mode only.
pub const EXTENSIBLE_ENUM: &str = "x-extensible-enum";

/// Keywords that shape an object from subschemas or declarations evaluated on the instance
/// itself.
const SHAPED: [&str; 4] = ["properties", "allOf", "oneOf", "anyOf"];
/// The same in JSON Schema 2020-12 (OpenAPI 3.1) beyond 3.0's (a bare `$ref` is its target).
const SHAPED_2020_12: [&str; 4] = ["if", "then", "else", "dependentSchemas"];

/// Keywords copied unchanged: OpenAPI 3.0 validation keywords with JSON Schema 2020-12 meaning.
const COPIED: [&str; 13] = [
    "type",
    "enum",
    "multipleOf",
    "maximum",
    "minimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
];

impl Translator<'_> {
    /// `open`: the node is a member of a combination whose holder checks undeclared properties
    /// (strict mode), so it must not check them itself.
    fn translate(&mut self, at: &str, node: &Value, open: bool) -> Result<Value, SchemaError> {
        let obj = match node {
            Value::Bool(_) => return Ok(node.clone()),
            Value::Object(obj) => obj,
            _ => return Err(SchemaError::NotASchema { at: at.to_owned() }),
        };
        let mut out = Map::new();
        // Keywords whose subschemas are evaluated on this very instance: in strict mode the
        // holder checks undeclared properties across all of them, so they are open.
        let in_place = SHAPED.iter().any(|k| obj.contains_key(*k))
            || (self.v31 && SHAPED_2020_12.iter().any(|k| obj.contains_key(*k)));
        if let Some(reference) = obj.get("$ref") {
            // OpenAPI 3.0 ignores a reference's siblings; in 3.1 (JSON Schema 2020-12) they
            // apply beside it. Alone (annotations aside) the target stands for this schema and
            // checks its own properties; beside shaping keywords it is one of them, open.
            if !self.v31 {
                return self.reference(at, reference, open);
            }
            if let Value::Object(r) = self.reference(at, reference, open || in_place)? {
                out.extend(r);
            }
        }
        for key in COPIED {
            if let Some(v) = obj.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        if self.v31 {
            self.keywords_2020_12(at, obj, &mut out)?;
        }
        if let Some(format) = obj.get("format").and_then(Value::as_str) {
            self.format(&mut out, format);
        }
        bound(obj, &mut out, "exclusiveMinimum", "minimum");
        bound(obj, &mut out, "exclusiveMaximum", "maximum");
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(items) = obj.get(key).and_then(Value::as_array) {
                let base = format!("{at}/{key}");
                // The portable nullable reference, `anyOf: [X, {…, enum: [null]}]`, means the
                // same as `if: {type: null}, else: X`; written so, a value that is not null is
                // judged by X alone and its errors keep their exact locations, instead of
                // collapsing into one "not valid under any of the schemas".
                let null_only = |m: &Value| {
                    m.get("enum")
                        .and_then(Value::as_array)
                        .is_some_and(|e| !e.is_empty() && e.iter().all(Value::is_null))
                };
                let shaped: Vec<usize> = (0..items.len())
                    .filter(|&i| !null_only(&items[i]))
                    .collect();
                // (Not in 3.1, where `if`/`else` may be the schema's own.)
                if let ("anyOf", [i]) = (key, shaped.as_slice())
                    && items.len() > 1
                    && !self.v31
                {
                    let member = self.translate(&format!("{base}/{i}"), &items[*i], true)?;
                    out.insert("if".into(), json!({"type": "null"}));
                    out.insert("else".into(), member);
                    continue;
                }
                let translated: Result<Vec<_>, _> = items
                    .iter()
                    .enumerate()
                    // Evaluated in place: in strict mode the holder checks undeclared properties
                    // across its members, so they are open.
                    .map(|(i, s)| self.translate(&format!("{base}/{i}"), s, true))
                    .collect();
                out.insert(key.into(), Value::Array(translated?));
            }
        }
        if let Some(s) = obj.get("not") {
            out.insert("not".into(), self.translate(&format!("{at}/not"), s, true)?);
        }
        if let Some(s) = obj.get("items") {
            out.insert(
                "items".into(),
                self.translate(&format!("{at}/items"), s, false)?,
            );
        }
        if let Some(ap) = obj.get("additionalProperties") {
            let v = match ap {
                Value::Bool(_) => ap.clone(),
                _ => self.translate(&format!("{at}/additionalProperties"), ap, false)?,
            };
            out.insert("additionalProperties".into(), v);
        }
        let mut hidden = Vec::new();
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            let mut translated = Map::with_capacity(props.len());
            for (name, sub) in props {
                let sub_at = pointer::push(&format!("{at}/properties"), name);
                if self.hidden(&sub_at, sub) {
                    translated.insert(name.clone(), Value::Bool(false));
                    hidden.push(name.as_str());
                    self.hidden.insert(sub_at.clone());
                } else {
                    translated.insert(name.clone(), self.translate(&sub_at, sub, false)?);
                }
            }
            out.insert("properties".into(), Value::Object(translated));
        }
        if let Some(required) = obj.get("required").and_then(Value::as_array) {
            let kept: Vec<Value> = required
                .iter()
                .filter(|r| r.as_str().is_none_or(|r| !hidden.contains(&r)))
                .cloned()
                .collect();
            out.insert("required".into(), Value::Array(kept));
        }
        // (`patternProperties` does not close an object: names matching no pattern still pass.)
        let closed = ["additionalProperties", "unevaluatedProperties"]
            .iter()
            .any(|k| obj.contains_key(*k));
        if self.strict && !open && in_place && !closed {
            out.insert("unevaluatedProperties".into(), Value::Bool(false));
        }
        // An open list (`x-extensible-enum`) admits any value; in strict mode a value it does not
        // list is reported (as undeclared properties are), so the known values become an `enum`,
        // which `check` recognises by the extension beside it in the document.
        if self.strict
            && !obj.contains_key("enum")
            && let Some(Value::Array(known)) = obj.get(EXTENSIBLE_ENUM)
        {
            let mut values = known.clone();
            if self.admits_null(obj) {
                values.push(Value::Null);
            }
            out.insert("enum".into(), Value::Array(values));
        }
        // `nullable` is OpenAPI 3.0's; 3.1 writes `type: [T, "null"]`, copied as is.
        if !self.v31 && obj.get("nullable") == Some(&Value::Bool(true)) {
            return Ok(nullable(out));
        }
        Ok(Value::Object(out))
    }

    /// Whether a schema's own `type` admits `null`: `nullable: true` in 3.0, `"null"` among
    /// the types in 3.1.
    fn admits_null(&self, obj: &Map<String, Value>) -> bool {
        if !self.v31 {
            return obj.get("nullable") == Some(&Value::Bool(true));
        }
        match obj.get("type") {
            Some(Value::String(t)) => t == "null",
            Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
            _ => false,
        }
    }

    /// The JSON Schema 2020-12 keywords an OpenAPI 3.1 schema may use beyond 3.0's, with
    /// their subschemas translated (references, `readOnly`/`writeOnly`, formats). Annotations
    /// (`examples`, `contentEncoding`, `$comment`…) and identifiers (`$id`, `$anchor`) are
    /// dropped; references are followed by JSON pointer (`#/…/$defs/X`).
    fn keywords_2020_12(
        &mut self,
        at: &str,
        obj: &Map<String, Value>,
        out: &mut Map<String, Value>,
    ) -> Result<(), SchemaError> {
        for key in ["const", "minContains", "maxContains", "dependentRequired"] {
            if let Some(v) = obj.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        // One subschema; `in_place` when evaluated on the instance itself (its properties
        // count as the holder's in strict mode).
        for (key, in_place) in [
            ("if", true),
            ("then", true),
            ("else", true),
            ("contains", false),
            ("propertyNames", false),
            ("unevaluatedItems", false),
            ("unevaluatedProperties", false),
        ] {
            if let Some(s) = obj.get(key) {
                let translated = self.translate(&format!("{at}/{key}"), s, in_place)?;
                out.insert(key.into(), translated);
            }
        }
        if let Some(items) = obj.get("prefixItems").and_then(Value::as_array) {
            let translated: Result<Vec<_>, _> = items
                .iter()
                .enumerate()
                .map(|(i, s)| self.translate(&format!("{at}/prefixItems/{i}"), s, false))
                .collect();
            out.insert("prefixItems".into(), Value::Array(translated?));
        }
        for (key, in_place) in [("patternProperties", false), ("dependentSchemas", true)] {
            if let Some(map) = obj.get(key).and_then(Value::as_object) {
                let mut translated = Map::with_capacity(map.len());
                for (name, s) in map {
                    let sub_at = pointer::push(&format!("{at}/{key}"), name);
                    translated.insert(name.clone(), self.translate(&sub_at, s, in_place)?);
                }
                out.insert(key.into(), Value::Object(translated));
            }
        }
        Ok(())
    }

    fn reference(&mut self, at: &str, reference: &Value, open: bool) -> Result<Value, SchemaError> {
        let text = reference.as_str().unwrap_or_default();
        let target = pointer::local_target(text).ok_or_else(|| pointer::RefError::External {
            at: at.to_owned(),
            reference: text.to_owned(),
        })?;
        if pointer::get(self.root, &target).is_none() {
            return Err(pointer::RefError::Unresolved {
                at: at.to_owned(),
                reference: text.to_owned(),
            }
            .into());
        }
        // Outside strict mode both copies would be the same: keep one.
        let open = open && self.strict;
        let key = if open {
            format!("{OPEN}{target}")
        } else {
            target.clone()
        };
        if !self.defs.contains_key(&key) {
            self.pending.push((target, open));
        }
        Ok(json!({ "$ref": format!("#/$defs/{}", pointer::escape(&key)) }))
    }

    /// Whether a property is excluded in this direction (`readOnly` in requests, `writeOnly` in
    /// responses), looking through `$ref`s since the flag usually sits on the referenced schema.
    fn hidden(&self, at: &str, sub: &Value) -> bool {
        let key = match self.direction {
            Direction::Request => "readOnly",
            Direction::Response => "writeOnly",
            Direction::Neutral => return false,
        };
        let resolved = pointer::deref(self.root, at, sub).map_or(sub, |(_, n)| n);
        resolved.get(key) == Some(&Value::Bool(true)) || sub.get(key) == Some(&Value::Bool(true))
    }

    fn format(&self, out: &mut Map<String, Value>, format: &str) {
        let range = match format {
            "int32" => Some((i64::from(i32::MIN), i64::from(i32::MAX))),
            "int64" => Some((i64::MIN, i64::MAX)),
            _ => None,
        };
        if let Some((lo, hi)) = range {
            // Kept apart from the schema's own bounds so neither overrides the other.
            push_all_of(out, json!({"minimum": lo, "maximum": hi}));
        } else {
            out.insert("format".into(), Value::String(format.to_owned()));
        }
    }
}

/// Draft-4 style `exclusiveMinimum: true` + `minimum: m` → 2020-12 `exclusiveMinimum: m`.
fn bound(obj: &Map<String, Value>, out: &mut Map<String, Value>, exclusive: &str, inclusive: &str) {
    match obj.get(exclusive) {
        Some(Value::Bool(true)) => {
            if let Some(limit) = out.remove(inclusive) {
                out.insert(exclusive.into(), limit);
            }
        }
        // A numeric value is already 2020-12 (seen in specs that mix 3.1 syntax in).
        Some(n @ Value::Number(_)) => {
            out.insert(exclusive.into(), n.clone());
        }
        _ => {}
    }
}

fn push_all_of(out: &mut Map<String, Value>, schema: Value) {
    match out.get_mut("allOf") {
        Some(Value::Array(items)) => items.push(schema),
        _ => {
            out.insert("allOf".into(), Value::Array(vec![schema]));
        }
    }
}

fn nullable(mut out: Map<String, Value>) -> Value {
    if let Some(Value::String(t)) = out.get("type").cloned() {
        out.insert("type".into(), json!([t, "null"]));
    }
    Value::Object(out)
}

/// RFC 4648 base64 with padding, as OpenAPI's `format: byte` specifies.
fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() % 4 != 0 {
        return false;
    }
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    pad <= 2
        && b[..b.len() - pad]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(doc: Value, at: &str, dir: Direction, instance: Value) -> Vec<Violation> {
        SchemaValidator::compile(&doc, at, dir)
            .unwrap()
            .validate(&instance)
    }

    /// OpenAPI 3.0.3 to the letter: `nullable` adds `null` to the `type` beside it and to
    /// nothing else, as strict readers (`openapi-schema-validator`) apply it.
    #[test]
    fn nullable_admits_null_only_beside_type_and_other_keywords_still_apply() {
        let doc = json!({
            "components": {"schemas": {"D": {"type": "object", "required": ["v"], "properties": {"v": {"type": "integer"}}}}},
            "s": {"type": "string", "enum": ["a", null], "nullable": true},
            "t": {"type": "string"},
            "e": {"type": "string", "enum": ["a"], "nullable": true},
            "all": {"nullable": true, "allOf": [{"$ref": "#/components/schemas/D"}]},
            "typed_all": {"type": "object", "nullable": true, "allOf": [{"$ref": "#/components/schemas/D"}]},
            "any": {"anyOf": [{"$ref": "#/components/schemas/D"}, {"type": "object", "nullable": true, "enum": [null]}]}
        });
        let null_ok = |at: &str| check(doc.clone(), at, Direction::Neutral, Value::Null).is_empty();
        assert!(null_ok("/s"));
        assert!(!null_ok("/t"));
        // The enum does not list null: null is refused, as strict readers refuse it.
        assert!(!null_ok("/e"));
        // `nullable` without `type` has no effect; beside `type`, `allOf` still applies.
        assert!(!null_ok("/all"));
        assert!(!null_ok("/typed_all"));
        // The portable form.
        assert!(null_ok("/any"));
        let v = check(doc.clone(), "/any", Direction::Neutral, json!({"v": "x"}));
        assert!(!v.is_empty(), "{v:?}");
        assert!(check(doc, "/s", Direction::Neutral, json!("b"))[0].keyword == "enum");
    }

    #[test]
    fn errors_inside_refs_point_into_the_openapi_document() {
        let doc = json!({
            "components": {"schemas": {"A": {"type": "object", "properties": {"n": {"type": "integer"}}}}},
            "s": {"type": "array", "items": {"$ref": "#/components/schemas/A"}}
        });
        let v = check(doc, "/s", Direction::Neutral, json!([{"n": 1}, {"n": "x"}]));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].instance_pointer, "/1/n");
        assert_eq!(
            v[0].schema_pointer,
            "/components/schemas/A/properties/n/type"
        );
    }

    #[test]
    fn boolean_exclusive_bounds_are_exclusive() {
        let doc =
            json!({"s": {"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 10}});
        assert_eq!(
            check(doc.clone(), "/s", Direction::Neutral, json!(0))[0].keyword,
            "exclusiveMinimum"
        );
        assert!(check(doc.clone(), "/s", Direction::Neutral, json!(10)).is_empty());
        assert!(check(doc, "/s", Direction::Neutral, json!(0.5)).is_empty());
    }

    #[test]
    fn read_only_and_write_only_depend_on_direction() {
        let doc = json!({"s": {"type": "object", "required": ["id", "secret"], "properties": {
            "id": {"type": "string", "readOnly": true},
            "secret": {"type": "string", "writeOnly": true}}}});
        // Requests: no id, and id is not required; secret required.
        assert!(
            check(
                doc.clone(),
                "/s",
                Direction::Request,
                json!({"secret": "x"})
            )
            .is_empty()
        );
        assert!(
            !check(
                doc.clone(),
                "/s",
                Direction::Request,
                json!({"secret": "x", "id": "1"})
            )
            .is_empty()
        );
        // Responses: the mirror image.
        assert!(check(doc.clone(), "/s", Direction::Response, json!({"id": "1"})).is_empty());
        assert!(
            !check(
                doc,
                "/s",
                Direction::Response,
                json!({"id": "1", "secret": "x"})
            )
            .is_empty()
        );
    }

    #[test]
    fn integer_formats_bound_the_range_and_byte_is_base64() {
        let doc = json!({"i": {"type": "integer", "format": "int32"}, "b": {"type": "string", "format": "byte"},
                         "d": {"type": "string", "format": "date-time"}});
        assert!(
            !check(
                doc.clone(),
                "/i",
                Direction::Neutral,
                json!(2_147_483_648_i64)
            )
            .is_empty()
        );
        assert!(
            check(
                doc.clone(),
                "/i",
                Direction::Neutral,
                json!(-2_147_483_648_i64)
            )
            .is_empty()
        );
        assert!(check(doc.clone(), "/b", Direction::Neutral, json!("aGk=")).is_empty());
        assert!(!check(doc.clone(), "/b", Direction::Neutral, json!("a?k=")).is_empty());
        assert!(
            check(
                doc.clone(),
                "/d",
                Direction::Neutral,
                json!("2019-01-10T14:51:26.864619+00:00")
            )
            .is_empty()
        );
        assert!(!check(doc, "/d", Direction::Neutral, json!("2019-01-10 14:51")).is_empty());
    }

    #[test]
    fn ref_siblings_are_ignored_and_recursion_terminates() {
        let doc = json!({
            "components": {"schemas": {"Node": {"type": "object", "properties": {
                "next": {"$ref": "#/components/schemas/Node", "nullable": true}}}}},
        });
        let at = "/components/schemas/Node";
        assert!(
            check(
                doc.clone(),
                at,
                Direction::Neutral,
                json!({"next": {"next": {}}})
            )
            .is_empty()
        );
        // `nullable` beside `$ref` has no effect in OpenAPI 3.0.
        assert!(!check(doc, at, Direction::Neutral, json!({"next": null})).is_empty());
    }

    #[test]
    fn strict_mode_reports_undeclared_properties_through_all_of_and_one_of() {
        let doc = json!({"components": {"schemas": {
            "Base": {"type": "object", "properties": {"id": {"type": "string"}}},
            "Named": {"allOf": [{"$ref": "#/components/schemas/Base"},
                                {"type": "object", "properties": {"name": {"type": "string"}}}]},
            "Either": {"oneOf": [{"$ref": "#/components/schemas/Base"}, {"type": "string"}]},
            "Open": {"type": "object", "properties": {"a": {"type": "string"}},
                     "additionalProperties": true},
            "Nested": {"type": "object", "properties": {"inner": {"$ref": "#/components/schemas/Base"}}}
        }}});
        let strict = |at: &str, v: Value| {
            SchemaValidator::compile_with(&doc, at, Direction::Response, true)
                .unwrap()
                .validate(&v)
        };
        let named = "/components/schemas/Named";
        assert!(strict(named, json!({"id": "1", "name": "n"})).is_empty());
        let v = strict(named, json!({"id": "1", "name": "n", "extra": 1}));
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].keyword, "unevaluatedProperties");
        assert_eq!(
            v[0].schema_pointer,
            "/components/schemas/Named/unevaluatedProperties"
        );
        assert!(strict("/components/schemas/Either", json!({"id": "1"})).is_empty());
        assert!(!strict("/components/schemas/Either", json!({"id": "1", "x": 2})).is_empty());
        assert!(strict("/components/schemas/Open", json!({"a": "1", "x": 2})).is_empty());
        let v = strict(
            "/components/schemas/Nested",
            json!({"inner": {"id": "1", "x": 2}}),
        );
        assert_eq!(
            v[0].schema_pointer, "/components/schemas/Base/unevaluatedProperties",
            "{v:?}"
        );
        // Not strict: undeclared properties are fine.
        let lax = SchemaValidator::compile(&doc, named, Direction::Response).unwrap();
        assert!(
            lax.validate(&json!({"id": "1", "name": "n", "extra": 1}))
                .is_empty()
        );
    }

    #[test]
    fn unresolved_and_external_refs_are_errors() {
        let doc = json!({"s": {"$ref": "#/nope"}, "e": {"$ref": "other.yaml#/x"}});
        assert!(matches!(
            SchemaValidator::compile(&doc, "/s", Direction::Neutral),
            Err(SchemaError::Ref(_))
        ));
        assert!(matches!(
            SchemaValidator::compile(&doc, "/e", Direction::Neutral),
            Err(SchemaError::Ref(_))
        ));
    }
}
