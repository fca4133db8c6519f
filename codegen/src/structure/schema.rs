//! The check of one Schema Object: what `openapiv3` refuses in a schema, and the two things
//! lowering cannot use, each named by the keyword's JSON pointer.

use oas::pointer::{self, At, member};
use serde_json::Value;

use super::Refusal;

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
        path: at.string(),
        message: format!("expected {expected}, found {}", found(value)),
    }
}

/// The pointer of what `serde_path_to_error` found failing inside the value at `at`.
fn pointer_within(at: &At<'_>, path: &serde_path_to_error::Path) -> String {
    let mut out = at.string();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => {
                out.push('/');
                out.push_str(&index.to_string());
            }
            serde_path_to_error::Segment::Map { key } => pointer::push_token(&mut out, key),
            _ => {}
        }
    }
    out
}

/// Checks a Schema Object (or Reference Object) and the schemas inside it.
pub(super) fn schema(value: &Value, at: &At<'_>) -> Result<(), Refusal> {
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
                // `"null"` is OpenAPI 3.1's spelling, which real 3.0 specs carry (OpenAI's);
                // lowering reads it as a null-only schema.
                Value::String(s) if TYPES.contains(&s.as_str()) || s == "null" => None,
                _ => Some(
                    "one of \"array\", \"boolean\", \"integer\", \"number\", \"object\", \"string\" (or \"null\")",
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
                read_as::<openapiv3::Discriminator>(x, &at)?;
                None
            }
            "externalDocs" => {
                read_as::<openapiv3::ExternalDocumentation>(x, &at)?;
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

/// The keywords lowering reads: a value of the wrong kind at one of these is refused (the type
/// would not be what the spec means); other meta-schema violations are warnings.
const LOWERED: [&str; 21] = [
    "type",
    "properties",
    "required",
    "items",
    "prefixItems",
    "additionalProperties",
    "allOf",
    "oneOf",
    "anyOf",
    "enum",
    "const",
    "format",
    "$ref",
    "$defs",
    "discriminator",
    "nullable",
    "readOnly",
    "writeOnly",
    "deprecated",
    "minItems",
    "maxItems",
];

/// The keyword a meta-schema violation is at, from its pointer within the schema: the last
/// token that is neither an index nor a name in a map of names (`properties`, `$defs`…).
fn keyword_of(within: &str) -> &str {
    let mut keyword = "";
    let mut names = false;
    for token in within.split('/').skip(1) {
        if names || token.bytes().all(|b| b.is_ascii_digit()) {
            names = false;
            continue;
        }
        keyword = token;
        names = matches!(
            token,
            "properties" | "patternProperties" | "$defs" | "dependentSchemas" | "definitions"
        );
    }
    keyword
}

/// Checks an OpenAPI 3.1 Schema Object (JSON Schema 2020-12, a boolean or an object) against
/// the 2020-12 meta-schema, and what `openapiv3` would refuse in the OpenAPI dialect's own
/// keywords lowering reads (`discriminator`, `externalDocs`) wherever they sit. Any other
/// violation (at a keyword lowering does not read, `$recursiveAnchor: true`; or a broken
/// constraint lowering does not depend on, a repeated `required` name) is added to `warnings`
/// (pointer, keyword, message) instead.
pub(super) fn schema_2020_12(
    value: &Value,
    at: &At<'_>,
    warnings: &mut Vec<(String, String, String)>,
) -> Result<(), Refusal> {
    for v in oas::schema::meta_violations(value, 64) {
        let mut path = at.string();
        path.push_str(&v.pointer);
        let keyword = keyword_of(&v.pointer);
        if v.wrong_kind && LOWERED.contains(&keyword) {
            return Err(Refusal {
                path,
                message: v.message,
            });
        }
        warnings.push((path, keyword.to_owned(), v.message));
    }
    dialect_keywords(value, at)
}

/// The `discriminator`s and `externalDocs` of a 2020-12 schema and its subschemas, read as
/// `openapiv3` reads them.
fn dialect_keywords(value: &Value, at: &At<'_>) -> Result<(), Refusal> {
    match value {
        Value::Object(map) => {
            for (key, x) in map {
                let at = at.key(key);
                match key.as_str() {
                    "discriminator" => read_as::<openapiv3::Discriminator>(x, &at)?,
                    "externalDocs" => read_as::<openapiv3::ExternalDocumentation>(x, &at)?,
                    // Data, not schemas.
                    "const" | "enum" | "default" | "example" | "examples" | "required"
                    | "dependentRequired" => {}
                    // Maps from names to schemas: a property named `discriminator` is not one.
                    "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
                        for (name, sub) in x.as_object().into_iter().flatten() {
                            dialect_keywords(sub, &at.key(name))?;
                        }
                    }
                    _ => dialect_keywords(x, &at)?,
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                dialect_keywords(x, &at.index(i))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn read_as<T: serde::de::DeserializeOwned>(x: &Value, at: &At<'_>) -> Result<(), Refusal> {
    let read: Result<T, _> = serde_path_to_error::deserialize(x);
    read.map(|_| ()).map_err(|e| Refusal {
        path: pointer_within(at, e.path()),
        message: e.inner().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ROOT, check};
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
            let mine = schema(value, &ROOT).is_ok();
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
            assert!(schema(&value, &ROOT).is_err(), "{value}");
        }
        // 3.1's `"null"` type, which `openapiv3` reads as an any-schema and lowering as null.
        let null = json!({"anyOf": [{"type": "string"}, {"type": "null"}]});
        assert!(openapiv3_accepts(&null));
        assert!(schema(&null, &ROOT).is_ok());
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
        let refusal = check(&doc).unwrap_err();
        assert_eq!(
            refusal.path,
            "#/paths/~1a~1{b}/get/parameters/0/schema/properties/x~0~1y/type"
        );
        assert_eq!(
            refusal.message,
            "expected one of \"array\", \"boolean\", \"integer\", \"number\", \"object\", \
             \"string\" (or \"null\"), found string \"text\""
        );
    }
}
