//! An OpenAPI 3.0 document written as OpenAPI 3.1, meaning the same: every payload one accepts,
//! the other accepts.
//!
//! Only Schema Objects change (3.1's are JSON Schema 2020-12); every place one can be is
//! visited (`components.schemas`, every `schema` member, and inside schemas their
//! subschemas), never example values:
//! - `nullable: true` beside a `type` T becomes `type: [T, "null"]`; `nullable` without a
//!   `type` had no effect (OpenAPI 3.0.3 to the letter) and goes;
//! - boolean `exclusiveMinimum`/`exclusiveMaximum` (draft 4) become the numeric bound
//!   (`minimum: m, exclusiveMinimum: true` → `exclusiveMinimum: m`);
//! - a `$ref`'s siblings, which 3.0 ignores and 3.1 would apply, go, but for `description` and
//!   `summary` (annotations 3.1 lets a reference override).
//!
//! The rest (`example`, `readOnly`, `format`, extensions) means the same in both.

use serde_json::{Map, Value};

/// The version a converted document declares.
pub const VERSION_3_1: &str = "3.1.0";

/// `root`, an OpenAPI 3.0 document, as OpenAPI 3.1.
pub fn to_3_1(root: &Value) -> Value {
    let mut doc = root.clone();
    if let Value::Object(map) = &mut doc {
        map.insert("openapi".into(), Value::String(VERSION_3_1.into()));
        if let Some(Value::Object(schemas)) =
            map.get_mut("components").and_then(|c| c.get_mut("schemas"))
        {
            for schema in schemas.values_mut() {
                convert_schema(schema);
            }
        }
    }
    positions(&mut doc, false);
    doc
}

/// The YAML text of [`to_3_1`] for the document read from `source_name` (a path relative to the
/// workspace, for reproducible output), behind a "do not edit" header naming it.
pub fn to_3_1_yaml(source_name: &str, root: &Value) -> String {
    let body = serde_yaml::to_string(&to_3_1(root)).unwrap_or_default();
    format!(
        "# Written by `conformance convert --to 3.1` from {source_name}, accepting the same \
         payloads. Do not edit: regenerate.\n{body}"
    )
}

/// Converts every `schema` member below `node` (outside example values); `in_components` is
/// whether `node` is `components`, whose `schemas` were converted already.
fn positions(node: &mut Value, in_components: bool) {
    match node {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match key.as_str() {
                    "example" | "examples" => {}
                    "schemas" if in_components => {}
                    "schema" => convert_schema(value),
                    _ => positions(value, key == "components"),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                positions(item, false);
            }
        }
        _ => {}
    }
}

/// One Schema Object and its subschemas.
fn convert_schema(node: &mut Value) {
    let Value::Object(map) = node else { return };
    if map.contains_key("$ref") {
        map.retain(|k, _| k == "$ref" || k == "description" || k == "summary");
        return;
    }
    if let Some(nullable) = map.shift_remove("nullable")
        && nullable == Value::Bool(true)
        && let Some(Value::String(t)) = map.get("type").cloned()
    {
        map.insert(
            "type".into(),
            Value::Array(vec![Value::String(t), "null".into()]),
        );
    }
    for (exclusive, inclusive) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        match map.get(exclusive) {
            Some(Value::Bool(true)) => match map.shift_remove(inclusive) {
                // In the exclusive keyword's place.
                Some(limit) => {
                    map.insert(exclusive.into(), limit);
                }
                None => {
                    map.shift_remove(exclusive);
                }
            },
            Some(Value::Bool(false)) => {
                map.shift_remove(exclusive);
            }
            _ => {}
        }
    }
    subschemas(map);
}

fn subschemas(map: &mut Map<String, Value>) {
    for key in ["items", "not", "additionalProperties"] {
        if let Some(s) = map.get_mut(key) {
            convert_schema(s);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(items)) = map.get_mut(key) {
            items.iter_mut().for_each(convert_schema);
        }
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.values_mut().for_each(convert_schema);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_are_rewritten_and_examples_left_alone() {
        let doc = json!({
            "openapi": "3.0.3",
            "paths": {"/a": {"get": {
                "parameters": [{"name": "n", "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "exclusiveMinimum": true}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/A", "nullable": true, "description": "d"},
                    "example": {"nullable": true, "exclusiveMinimum": true},
                }}}},
            }}},
            "components": {"schemas": {"A": {
                "type": "object",
                "properties": {
                    "a": {"type": "string", "nullable": true},
                    "b": {"nullable": true},
                    "c": {"type": "array", "items": {"type": "number", "maximum": 9, "exclusiveMaximum": false}},
                    "d": {"allOf": [{"type": "integer", "nullable": false}]},
                },
                "example": {"a": null},
            }}},
        });
        let converted = to_3_1(&doc);
        assert_eq!(converted["openapi"], "3.1.0");
        let param = &converted["paths"]["/a"]["get"]["parameters"][0]["schema"];
        assert_eq!(param, &json!({"type": "integer", "exclusiveMinimum": 0}));
        let media =
            &converted["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"];
        assert_eq!(
            media["schema"],
            json!({"$ref": "#/components/schemas/A", "description": "d"})
        );
        assert_eq!(
            media["example"],
            json!({"nullable": true, "exclusiveMinimum": true})
        );
        let a = &converted["components"]["schemas"]["A"];
        assert_eq!(a["properties"]["a"], json!({"type": ["string", "null"]}));
        assert_eq!(a["properties"]["b"], json!({}));
        assert_eq!(
            a["properties"]["c"]["items"],
            json!({"type": "number", "maximum": 9})
        );
        assert_eq!(a["properties"]["d"]["allOf"][0], json!({"type": "integer"}));
        assert_eq!(a["example"], json!({"a": null}));
    }
}
