//! The structure check gives `generate` the verdicts and messages of `load`, for JSON and YAML:
//! `openapiv3` outside Schema Objects (a refusal names the path `serde_path_to_error` gives on
//! the document's `Value`, as before), the walk of the `Value` inside them (a refusal names the
//! keyword's JSON pointer; one fixture per rule in `tests/it/schema_errors.rs`).

fn same_verdict(name: &str, text: &str, json: bool) {
    let settings = codegen::Settings::default();
    let generated = codegen::generate(name, text, json, &settings);
    let loaded = codegen::load(name, text, json);
    match (&generated, &loaded) {
        (Ok(_), Ok(_)) => {}
        (Err(g), Err(l)) => assert_eq!(g.to_string(), l.to_string(), "{name}"),
        _ => panic!(
            "{name}: generate {:?}, load {:?}",
            generated.map(|_| ()),
            loaded.map(|_| ())
        ),
    }
}

const VALID: &str = r##"{
  "openapi": "3.0.3",
  "info": {"title": "t", "version": "1"},
  "paths": {"/a": {"get": {"operationId": "getA", "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}}},
  "components": {"schemas": {"A": {"type": "object", "properties": {"x": {"type": "integer"}}}}}
}"##;

#[test]
fn valid_documents_pass() {
    same_verdict("valid.json", VALID, true);
    assert!(codegen::generate("valid.json", VALID, true, &codegen::Settings::default()).is_ok());
}

#[test]
fn structure_errors_name_the_same_path_and_message() {
    for (name, broken) in [
        ("no-in.json", VALID.replace(r#""in": "query", "#, "")),
        (
            "responses-array.json",
            VALID.replace(r#""responses": {"200""#, r#""responses": [], "x": {"200""#),
        ),
        (
            "info-string.json",
            VALID.replace(
                r#""info": {"title": "t", "version": "1"}"#,
                r#""info": "t""#,
            ),
        ),
        (
            "schema-type.json",
            VALID.replace(r#"{"type": "integer"}"#, r#"{"type": 7}"#),
        ),
    ] {
        let err =
            codegen::generate(name, &broken, true, &codegen::Settings::default()).unwrap_err();
        assert!(
            matches!(err, codegen::Error::Structure { .. }),
            "{name}: {err}"
        );
        same_verdict(name, &broken, true);
    }
}

#[test]
fn duplicate_keys_are_read_as_the_value_reads_them() {
    // The typed model would refuse a repeated field read from the text; the document's
    // `Value` keeps the last one, and the check reads the `Value`, as before.
    let duplicated = VALID.replace(
        r#""operationId": "getA","#,
        r#""operationId": "getA", "operationId": "getB","#,
    );
    same_verdict("duplicate.json", &duplicated, true);
    assert!(
        codegen::generate(
            "duplicate.json",
            &duplicated,
            true,
            &codegen::Settings::default()
        )
        .is_ok()
    );
}

#[test]
fn yaml_and_syntax_errors_are_unchanged() {
    same_verdict("valid.yaml", VALID, false);
    same_verdict("broken.yaml", "openapi: 3.0.3\ninfo: 7\npaths: {}\n", false);
    same_verdict("syntax.json", "{\"openapi\": ", true);
    same_verdict("swagger.json", r#"{"swagger": "2.0"}"#, true);
}
