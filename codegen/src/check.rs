//! The structure check of [`crate::load`] and [`crate::generate`]: `openapiv3` for the
//! document's structure, a walk of the parsed `Value` for its Schema Objects.
//!
//! Deserializing `openapiv3`'s whole model costs about four times a JSON parse of the same
//! text, nearly all of it in Schema Objects (its untagged and flattened types make serde
//! buffer and re-read every node). So the check is split where `openapiv3` reads schemas:
//! - the walk follows the document as `openapiv3` reads it (Path Items, Operations,
//!   Parameters, Request Bodies, Responses, Headers, Media Types, Encodings, Callbacks,
//!   Components) and writes a copy as JSON text, with every Schema Object position
//!   (`components.schemas`' values, and `schema` in Parameters, Headers and Media Types)
//!   replaced by `{}`, which `openapiv3` reads as an empty schema, and the `description` and
//!   `summary` strings by `""` (a string is a string wherever `openapiv3` reads those keys:
//!   the verdict cannot change). `openapiv3::OpenAPI` is deserialized from that text (faster
//!   than from a `Value`: serde's buffers borrow its strings). `openapiv3` still decides
//!   everything outside Schema Objects; when it refuses, it runs again on the `Value` of a
//!   copy that keeps the free text, to name the failing path and value as it did for the whole
//!   document's `Value`;
//! - each Schema Object found on the way is checked by [`schema`], which refuses what
//!   `openapiv3` refuses in a schema (a keyword of the wrong JSON type, a `discriminator` or
//!   `externalDocs` `openapiv3` cannot read), and two things it lets through that lowering
//!   cannot use: a `type` that is not one of OpenAPI 3.0's six, and a `$ref` that is not a
//!   string. It names the offending keyword by its JSON pointer (`#/components/schemas/A/type`).
//!
//! A document with errors both outside and inside Schema Objects reports the one outside.
//! A position `openapiv3` ignores (a Response under a key that is not a status code, the
//! `schema` of a Parameter that has `content` first, the siblings of a `$ref`) is not checked.

use serde_json::{Map, Value};

/// Why a document was refused: where (the path `serde_path_to_error` gives for `openapiv3`'s
/// refusals, a JSON pointer for a Schema Object's) and why.
#[derive(Debug)]
pub struct Refusal {
    pub path: String,
    pub message: String,
}

/// Checks a parsed document.
pub fn structure(root: &Value) -> Result<(), Refusal> {
    let mut walk = Walk::new(true);
    walk.document(root);
    if serde_json::from_slice::<openapiv3::OpenAPI>(&walk.out).is_err() {
        // Again from the `Value` of a copy that keeps the free text, which names the failing
        // path and value as the whole document's `Value` did (tracking the path costs, so
        // only when it fails).
        let mut faithful = Walk::new(false);
        faithful.document(root);
        let reduced: Value = serde_json::from_slice(&faithful.out).unwrap_or(Value::Null);
        let checked: Result<openapiv3::OpenAPI, _> = serde_path_to_error::deserialize(&reduced);
        if let Err(e) = checked {
            return Err(Refusal {
                path: e.path().to_string(),
                message: e.inner().to_string(),
            });
        }
    }
    match walk.refusal {
        Some(refusal) => Err(refusal),
        None => Ok(()),
    }
}

/// One token of a JSON pointer, linked to its parent's; written out only for a refusal.
#[derive(Clone, Copy)]
struct At<'a> {
    parent: Option<&'a At<'a>>,
    token: Token<'a>,
}

#[derive(Clone, Copy)]
enum Token<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> At<'a> {
    const ROOT: At<'static> = At {
        parent: None,
        token: Token::Root,
    };

    fn key(&'a self, key: &'a str) -> At<'a> {
        At {
            parent: Some(self),
            token: Token::Key(key),
        }
    }

    fn index(&'a self, index: usize) -> At<'a> {
        At {
            parent: Some(self),
            token: Token::Index(index),
        }
    }

    /// `#/a/b~1c/0`.
    fn pointer(&self) -> String {
        let mut tokens = Vec::new();
        let mut at = Some(self);
        while let Some(a) = at {
            tokens.push(a.token);
            at = a.parent;
        }
        let mut out = String::from("#");
        for token in tokens.iter().rev() {
            match token {
                Token::Root => {}
                Token::Key(key) => {
                    out.push('/');
                    out.push_str(&key.replace('~', "~0").replace('/', "~1"));
                }
                Token::Index(i) => {
                    out.push('/');
                    out.push_str(&i.to_string());
                }
            }
        }
        out
    }
}

/// The walk over the document's structure, writing the copy `openapiv3` reads as JSON text
/// (which serde reads faster than a `Value`: it buffers borrowed strings, not copies).
struct Walk {
    out: Vec<u8>,
    /// Whether free text (`description`, `summary`) is written as `""` (see [`structure`]).
    blank: bool,
    /// The first Schema Object refusal.
    refusal: Option<Refusal>,
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The member `key` of an object (found by scanning: these objects are small, and the
/// `Value`'s map would hash the key).
fn member<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    map.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// Whether `openapiv3` reads this `ReferenceOr<T>` as a reference.
fn is_reference(value: &Value) -> bool {
    value
        .as_object()
        .and_then(|m| member(m, "$ref"))
        .is_some_and(Value::is_string)
}

impl Walk {
    fn new(blank: bool) -> Walk {
        Walk {
            out: Vec::new(),
            blank,
            refusal: None,
        }
    }

    /// A value, as is.
    fn copy(&mut self, value: &Value) {
        // Writing a `Value` to a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut self.out, value);
    }

    /// An object with some members rewritten (`member` returns `false` for those it leaves
    /// to be copied); anything else copied as is.
    fn rewrite(&mut self, value: &Value, mut member: impl FnMut(&mut Walk, &str, &Value) -> bool) {
        let Value::Object(map) = value else {
            return self.copy(value);
        };
        self.out.push(b'{');
        for (i, (key, x)) in map.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            let _ = serde_json::to_writer(&mut self.out, key);
            self.out.push(b':');
            if !member(self, key, x) {
                if self.blank && x.is_string() && (key == "description" || key == "summary") {
                    self.out.extend_from_slice(b"\"\"");
                } else {
                    self.copy(x);
                }
            }
        }
        self.out.push(b'}');
    }

    /// Each member's value of an object rewritten; anything else copied as is.
    fn each(&mut self, value: &Value, mut rewrite: impl FnMut(&mut Walk, &str, &Value)) {
        self.rewrite(value, |w, key, x| {
            rewrite(w, key, x);
            true
        });
    }

    /// Each element of an array rewritten; anything else copied as is.
    fn items(&mut self, value: &Value, mut item: impl FnMut(&mut Walk, usize, &Value)) {
        let Value::Array(items) = value else {
            return self.copy(value);
        };
        self.out.push(b'[');
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            item(self, i, x);
        }
        self.out.push(b']');
    }

    fn document(&mut self, doc: &Value) {
        let at = At::ROOT;
        self.rewrite(doc, |w, key, x| {
            let at = at.key(key);
            match key {
                "paths" => w.rewrite(x, |w, path, item| {
                    path.starts_with('/') && {
                        w.path_item(item, &at.key(path), true);
                        true
                    }
                }),
                "components" => w.components(x, &at),
                _ => return false,
            }
            true
        });
    }

    fn components(&mut self, components: &Value, at: &At<'_>) {
        self.rewrite(components, |w, key, x| {
            let at = at.key(key);
            match key {
                "schemas" => w.each(x, |w, name, y| w.schema_position(y, &at.key(name), false)),
                "responses" => w.each(x, |w, name, y| w.response(y, &at.key(name))),
                "parameters" | "headers" => w.each(x, |w, name, y| w.parameter(y, &at.key(name))),
                "requestBodies" => w.each(x, |w, name, y| w.request_body(y, &at.key(name))),
                "callbacks" => w.each(x, |w, name, y| {
                    if is_reference(y) {
                        w.copy(y);
                    } else {
                        w.callback(y, &at.key(name));
                    }
                }),
                _ => return false,
            }
            true
        });
    }

    /// A Path Item; `referable` when `openapiv3` reads it as `ReferenceOr<PathItem>`.
    fn path_item(&mut self, item: &Value, at: &At<'_>, referable: bool) {
        if referable && is_reference(item) {
            return self.copy(item);
        }
        self.rewrite(item, |w, key, x| {
            let at = at.key(key);
            if METHODS.contains(&key) {
                w.operation(x, &at);
            } else if key == "parameters" {
                w.parameters(x, &at);
            } else {
                return false;
            }
            true
        });
    }

    fn parameters(&mut self, list: &Value, at: &At<'_>) {
        self.items(list, |w, i, x| w.parameter(x, &at.index(i)));
    }

    fn operation(&mut self, operation: &Value, at: &At<'_>) {
        self.rewrite(operation, |w, key, x| {
            let at = at.key(key);
            match key {
                "parameters" => w.parameters(x, &at),
                "requestBody" => w.request_body(x, &at),
                "responses" => w.rewrite(x, |w, status, y| {
                    let status_code = status == "default"
                        || serde_json::from_value::<openapiv3::StatusCode>(Value::String(
                            status.to_owned(),
                        ))
                        .is_ok();
                    status_code && {
                        w.response(y, &at.key(status));
                        true
                    }
                }),
                "callbacks" => w.each(x, |w, name, y| w.callback(y, &at.key(name))),
                _ => return false,
            }
            true
        });
    }

    /// A Callback: Path Items (not references) under any key.
    fn callback(&mut self, callback: &Value, at: &At<'_>) {
        self.each(callback, |w, key, x| w.path_item(x, &at.key(key), false));
    }

    fn request_body(&mut self, body: &Value, at: &At<'_>) {
        if is_reference(body) {
            return self.copy(body);
        }
        self.rewrite(body, |w, key, x| {
            key == "content" && {
                w.content(x, &at.key(key));
                true
            }
        });
    }

    fn response(&mut self, response: &Value, at: &At<'_>) {
        if is_reference(response) {
            return self.copy(response);
        }
        self.rewrite(response, |w, key, x| {
            let at = at.key(key);
            match key {
                "headers" => w.each(x, |w, name, y| w.parameter(y, &at.key(name))),
                "content" => w.content(x, &at),
                _ => return false,
            }
            true
        });
    }

    /// A Parameter or Header: `openapiv3` reads a `schema` or a `content`, whichever comes
    /// first, and ignores the other.
    fn parameter(&mut self, parameter: &Value, at: &At<'_>) {
        if is_reference(parameter) {
            return self.copy(parameter);
        }
        let first = parameter.as_object().and_then(|m| {
            m.keys()
                .find(|k| *k == "schema" || *k == "content")
                .map(String::as_str)
        });
        self.rewrite(parameter, |w, key, x| {
            if Some(key) != first {
                return false;
            }
            let at = at.key(key);
            match key {
                "schema" => w.schema_position(x, &at, false),
                _ => w.content(x, &at),
            }
            true
        });
    }

    /// A map of Media Types.
    fn content(&mut self, content: &Value, at: &At<'_>) {
        self.each(content, |w, media, x| {
            let at = at.key(media);
            w.rewrite(x, |w, key, y| {
                let at = at.key(key);
                match key {
                    "schema" => w.schema_position(y, &at, true),
                    "encoding" => w.each(y, |w, name, encoding| {
                        let at = at.key(name);
                        w.rewrite(encoding, |w, key, z| {
                            key == "headers" && {
                                let at = at.key(key);
                                w.each(z, |w, name, h| w.parameter(h, &at.key(name)));
                                true
                            }
                        });
                    }),
                    _ => return false,
                }
                true
            });
        });
    }

    /// A place `openapiv3` reads a `ReferenceOr<Schema>` (an `Option` of one when
    /// `optional`): checked here, `{}` in the copy.
    fn schema_position(&mut self, value: &Value, at: &At<'_>, optional: bool) {
        if optional && value.is_null() {
            return self.out.extend_from_slice(b"null");
        }
        if self.refusal.is_none() {
            self.refusal = schema(value, at).err();
        }
        self.out.extend_from_slice(b"{}");
    }
}

/// OpenAPI 3.0's `type`s.
const TYPES: [&str; 6] = ["array", "boolean", "integer", "number", "object", "string"];

/// How a refusal describes a JSON value.
fn found(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) => format!("number `{n}`"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn refuse(at: &At<'_>, expected: &str, value: &Value) -> Refusal {
    Refusal {
        path: at.pointer(),
        message: format!("expected {expected}, found {}", found(value)),
    }
}

/// The pointer of what `serde_path_to_error` found failing inside the value at `at`.
fn pointer_within(at: &At<'_>, path: &serde_path_to_error::Path) -> String {
    let mut out = at.pointer();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => {
                out.push('/');
                out.push_str(&index.to_string());
            }
            serde_path_to_error::Segment::Map { key } => {
                out.push('/');
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            _ => {}
        }
    }
    out
}

/// Checks a Schema Object (or Reference Object) and the schemas inside it.
fn schema(value: &Value, at: &At<'_>) -> Result<(), Refusal> {
    let Value::Object(map) = value else {
        return Err(refuse(at, "a Schema Object (a JSON object)", value));
    };
    if let Some(reference) = member(map, "$ref") {
        // `openapiv3` reads an object with a string `$ref` as a reference, and ignores the
        // rest.
        return match reference {
            Value::String(_) => Ok(()),
            _ => Err(refuse(&at.key("$ref"), "a string", reference)),
        };
    }
    for (key, x) in map {
        let at = at.key(key);
        // `null` is an absent keyword for `openapiv3`, but for the four booleans it reads
        // without `Option` and for schemas inside lists and maps.
        let expected = match key.as_str() {
            "nullable" | "readOnly" | "writeOnly" | "deprecated" => {
                (!x.is_boolean()).then_some("a boolean")
            }
            _ if x.is_null() => None,
            "type" => match x {
                Value::String(s) if TYPES.contains(&s.as_str()) => None,
                _ => Some(
                    "one of \"array\", \"boolean\", \"integer\", \"number\", \"object\", \"string\"",
                ),
            },
            "exclusiveMinimum" | "exclusiveMaximum" | "uniqueItems" => {
                (!x.is_boolean()).then_some("a boolean")
            }
            "title" | "description" | "pattern" | "format" => {
                (!x.is_string()).then_some("a string")
            }
            "multipleOf" | "minimum" | "maximum" => (!x.is_number()).then_some("a number"),
            "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties"
            | "maxProperties" => x
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .is_none()
                .then_some("a non-negative integer"),
            "required" => match x {
                Value::Array(items) => {
                    if let Some((i, item)) = items.iter().enumerate().find(|(_, s)| !s.is_string())
                    {
                        return Err(refuse(&at.index(i), "a string", item));
                    }
                    None
                }
                _ => Some("an array of strings"),
            },
            "enum" => (!x.is_array()).then_some("an array"),
            "properties" => match x {
                Value::Object(properties) => {
                    for (name, property) in properties {
                        schema(property, &at.key(name))?;
                    }
                    None
                }
                _ => Some("an object of Schema Objects"),
            },
            "allOf" | "oneOf" | "anyOf" => match x {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        schema(item, &at.index(i))?;
                    }
                    None
                }
                _ => Some("an array of Schema Objects"),
            },
            "items" | "not" => {
                schema(x, &at)?;
                None
            }
            "additionalProperties" => match x {
                Value::Bool(_) => None,
                Value::Object(_) => {
                    schema(x, &at)?;
                    None
                }
                _ => Some("a boolean or a Schema Object"),
            },
            "discriminator" => {
                let read: Result<openapiv3::Discriminator, _> = serde_path_to_error::deserialize(x);
                if let Err(e) = read {
                    return Err(Refusal {
                        path: pointer_within(&at, e.path()),
                        message: e.inner().to_string(),
                    });
                }
                None
            }
            "externalDocs" => {
                let read: Result<openapiv3::ExternalDocumentation, _> =
                    serde_path_to_error::deserialize(x);
                if let Err(e) = read {
                    return Err(Refusal {
                        path: pointer_within(&at, e.path()),
                        message: e.inner().to_string(),
                    });
                }
                None
            }
            _ => None,
        };
        if let Some(expected) = expected {
            return Err(refuse(&at, expected, x));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Whether `openapiv3` reads a value as a `ReferenceOr<Schema>`.
    fn openapiv3_accepts(value: &Value) -> bool {
        serde_json::from_value::<openapiv3::ReferenceOr<openapiv3::Schema>>(value.clone()).is_ok()
    }

    /// The walk refuses exactly what `openapiv3` refuses in a schema, and, beyond it, a
    /// `type` outside the six and a `$ref` that is not a string.
    #[test]
    fn schemas_are_refused_as_openapiv3_refuses_them() {
        let s = json!({"type": "string"});
        let mut cases: Vec<(Value, bool)> = Vec::new();
        let ok = |v: Value| (v, true);
        let bad = |v: Value| (v, false);
        for (keyword, good, wrong) in [
            ("type", json!("integer"), json!(7)),
            ("nullable", json!(true), json!("yes")),
            ("nullable", json!(false), Value::Null),
            ("readOnly", json!(true), json!(1)),
            ("writeOnly", json!(true), Value::Null),
            ("deprecated", json!(false), json!([])),
            ("exclusiveMinimum", json!(true), json!(3)),
            ("exclusiveMaximum", Value::Null, json!("x")),
            ("uniqueItems", json!(true), json!({})),
            ("title", json!("t"), json!(1)),
            ("description", Value::Null, json!(true)),
            ("pattern", json!("^a$"), json!([])),
            ("format", json!("int32"), json!(32)),
            ("multipleOf", json!(2.5), json!("2")),
            ("minimum", json!(-3), json!(true)),
            ("maximum", Value::Null, json!([1])),
            ("minLength", json!(0), json!(-1)),
            ("maxLength", json!(3), json!(1.5)),
            ("minItems", json!(1), json!("1")),
            ("maxItems", Value::Null, json!(true)),
            ("minProperties", json!(2), json!(-2)),
            ("maxProperties", json!(9), json!(2.0)),
            ("required", json!(["a"]), json!("a")),
            ("required", json!([]), json!(["a", 1])),
            ("required", Value::Null, json!({})),
            ("enum", json!([1, "a", null]), json!("a")),
            ("enum", Value::Null, json!(1)),
            ("properties", json!({"a": s}), json!([s])),
            ("properties", Value::Null, json!({"a": 1})),
            ("properties", json!({}), json!({"a": null})),
            (
                "properties",
                json!({"a": {"$ref": "#/x"}}),
                json!({"a": {"type": 1}}),
            ),
            ("items", s.clone(), json!([s])),
            ("items", Value::Null, json!(true)),
            (
                "items",
                json!({"$ref": "#/x"}),
                json!({"items": {"maxItems": "x"}}),
            ),
            ("not", s.clone(), json!("string")),
            ("additionalProperties", json!(true), json!("yes")),
            ("additionalProperties", json!({}), json!({"type": false})),
            ("additionalProperties", Value::Null, json!(1)),
            ("allOf", json!([s]), json!(s)),
            ("oneOf", json!([]), json!([s, 1])),
            ("anyOf", Value::Null, json!([null])),
            ("discriminator", json!({"propertyName": "k"}), json!({})),
            (
                "discriminator",
                json!({"propertyName": "k", "mapping": {"a": "#/A"}}),
                json!({"propertyName": "k", "mapping": {"a": 1}}),
            ),
            ("discriminator", Value::Null, json!("k")),
            (
                "externalDocs",
                json!({"url": "u"}),
                json!({"description": "d"}),
            ),
            ("example", json!(1), json!(1)),
            ("default", Value::Null, Value::Null),
            ("x-any", json!([{}]), json!(null)),
        ] {
            cases.push(ok(json!({ keyword: good })));
            let wrong_verdict = keyword == "example" || keyword == "default" || keyword == "x-any";
            cases.push((json!({ keyword: wrong }), wrong_verdict));
            // Beside `type`, inside `allOf`, in a property.
            cases.push(ok(json!({"allOf": [{ keyword: good, "type": "object" }]})));
            cases.push((
                json!({"properties": {"p": { keyword: wrong }}}),
                wrong_verdict,
            ));
        }
        cases.extend([
            ok(json!({})),
            ok(json!({"$ref": "#/a", "type": 7})),
            bad(json!(7)),
            bad(json!("string")),
            bad(json!([])),
            bad(Value::Null),
        ]);
        for (value, verdict) in &cases {
            let mine = schema(value, &At::ROOT).is_ok();
            assert_eq!(mine, *verdict, "{value}");
            assert_eq!(openapiv3_accepts(value), *verdict, "openapiv3: {value}");
        }
        // Beyond `openapiv3`.
        for value in [
            json!({"type": "file"}),
            json!({"$ref": 7}),
            json!({"type": ""}),
        ] {
            assert!(openapiv3_accepts(&value), "{value}");
            assert!(schema(&value, &At::ROOT).is_err(), "{value}");
        }
    }

    #[test]
    fn refusals_name_the_keyword() {
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a/{b}": {"get": {"parameters": [{"name": "b", "in": "path", "required": true,
                "schema": {"type": "object", "properties": {"x~/y": {"type": "text"}}}}],
                "responses": {}}}},
        });
        let refusal = structure(&doc).unwrap_err();
        assert_eq!(
            refusal.path,
            "#/paths/~1a~1{b}/get/parameters/0/schema/properties/x~0~1y/type"
        );
        assert_eq!(
            refusal.message,
            "expected one of \"array\", \"boolean\", \"integer\", \"number\", \"object\", \
             \"string\", found string \"text\""
        );
    }

    #[test]
    fn positions_openapiv3_ignores_are_not_checked() {
        let bad = json!({"type": 7});
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "x-not-a-path": {"get": {"parameters": [{"schema": bad}]}},
                "/a": {"get": {
                    "parameters": [
                        {"$ref": "#/components/parameters/P", "schema": bad},
                        {"name": "c", "in": "query", "content": {"text/plain": {}}, "schema": bad},
                    ],
                    "responses": {"x-r": {"content": {"a/b": {"schema": bad}}}, "200": {"description": "d",
                        "content": {"a/b": {"schema": null}}}},
                }},
            },
            "components": {"parameters": {"P": {"name": "p", "in": "query", "schema": {}}}},
        });
        assert!(structure(&doc).is_ok());
        let model: Result<openapiv3::OpenAPI, _> = serde_json::from_value(doc);
        assert!(model.is_ok());
    }
}
