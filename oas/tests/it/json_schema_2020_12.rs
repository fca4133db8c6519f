//! OpenAPI 3.1 Schema Objects are JSON Schema 2020-12: the cases of
//! `tests/fixtures/json-schema-2020-12/cases.json` (written in the manner of the
//! JSON-Schema-Test-Suite, each expectation checked with Python's `jsonschema` when written)
//! pass through the loader and the validator, each schema placed in an OpenAPI 3.1 document.

use oas::{Direction, Document, SchemaValidator};
use serde_json::{Value, json};

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/json-schema-2020-12/cases.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// An OpenAPI document of `version` holding `schema` at `#/components/schemas/S`, read by the
/// loader as a user's file would be.
fn document(version: &str, components: &Value, schema: &Value) -> Document {
    let mut schemas = components.as_object().unwrap().clone();
    schemas.insert("S".into(), schema.clone());
    let doc = json!({
        "openapi": version,
        "info": {"title": "cases", "version": "1"},
        "paths": {},
        "components": {"schemas": schemas},
    });
    Document::parse("cases.json", &doc.to_string(), true).unwrap()
}

#[test]
fn json_schema_2020_12_cases_pass_in_openapi_3_1_documents() {
    let fixture = fixture();
    let components = &fixture["components"];
    let mut tests = 0;
    for case in fixture["cases"].as_array().unwrap() {
        let name = case["description"].as_str().unwrap();
        let doc = document("3.1.0", components, &case["schema"]);
        let validator =
            SchemaValidator::compile(&doc.root, "/components/schemas/S", Direction::Neutral)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        for test in case["tests"].as_array().unwrap() {
            let valid = test["valid"].as_bool().unwrap();
            assert_eq!(
                validator.is_valid(&test["data"]),
                valid,
                "{name}: {}",
                test["description"]
            );
            // Every failure is located, and `validate` agrees with `is_valid`.
            assert_eq!(
                validator.validate(&test["data"]).is_empty(),
                valid,
                "{name}"
            );
            tests += 1;
        }
    }
    assert!(tests >= 70, "only {tests} tests");
}

#[test]
fn the_version_decides_what_nullable_and_ref_siblings_mean() {
    let components = json!({"Positive": {"type": "number", "minimum": 0}});
    let nullable = json!({"type": "string", "nullable": true});
    let sibling = json!({"$ref": "#/components/schemas/Positive", "maximum": 10});
    let compile = |version: &str, schema: &Value| {
        let doc = document(version, &components, schema);
        SchemaValidator::compile(&doc.root, "/components/schemas/S", Direction::Neutral).unwrap()
    };
    // 3.0: `nullable` admits null, and a reference's siblings are ignored.
    assert!(compile("3.0.3", &nullable).is_valid(&Value::Null));
    assert!(compile("3.0.3", &sibling).is_valid(&json!(11)));
    // 3.1: `nullable` is not a keyword, and siblings apply beside the reference.
    assert!(!compile("3.1.0", &nullable).is_valid(&Value::Null));
    assert!(!compile("3.1.0", &sibling).is_valid(&json!(11)));
    assert!(!compile("3.1.0", &sibling).is_valid(&json!(-1)));
}

#[test]
fn failures_in_3_1_keywords_name_their_place_in_the_document() {
    let components = json!({"Positive": {"type": "number", "minimum": 0}});
    let schema = json!({
        "if": {"properties": {"kind": {"const": "card"}}, "required": ["kind"]},
        "then": {"required": ["last4"]},
        "else": {"properties": {"amount": {"$ref": "#/components/schemas/Positive"}}},
        "prefixItems": [{"type": "string"}],
    });
    let doc = document("3.1.1", &components, &schema);
    let v =
        SchemaValidator::compile(&doc.root, "/components/schemas/S", Direction::Neutral).unwrap();
    let found = v.validate(&json!({"kind": "cash", "amount": -5}));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].instance_pointer, "/amount");
    assert_eq!(
        found[0].schema_pointer,
        "/components/schemas/Positive/minimum"
    );
    let found = v.validate(&json!({"kind": "card"}));
    assert_eq!(
        found[0].schema_pointer,
        "/components/schemas/S/then/required"
    );
}
