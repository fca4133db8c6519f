//! One malformed Schema Object per rule of the schema walk (`src/structure/schema.rs`), each in a file of
//! `tests/schema-errors/` whose first line names the JSON pointer the error must give. Each is
//! refused, from YAML and from JSON, by `generate` and `load` alike, with an error naming the
//! file and the pointer; nothing panics.

use std::path::Path;

#[test]
fn each_malformed_schema_is_refused_with_its_pointer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema-errors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "{}", files.len());
    let settings = codegen::Settings::default();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let expected = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: no `# expect:` line", file.display()));
        let name = format!(
            "tests/schema-errors/{}",
            file.file_name().unwrap().to_string_lossy()
        );
        // The same document as JSON text (the path `generate` takes for `.json` files).
        let root = codegen::load(&name, &text, false);
        let json =
            serde_json::to_string_pretty(&oas::Document::parse(&name, &text, false).unwrap().root)
                .unwrap();
        for (what, result) in [
            (
                "generate (YAML)",
                codegen::generate(&name, &text, false, &settings).map(|_| ()),
            ),
            ("load (YAML)", root.map(|_| ())),
            (
                "generate (JSON)",
                codegen::generate(&name, &json, true, &settings).map(|_| ()),
            ),
            ("load (JSON)", codegen::load(&name, &json, true).map(|_| ())),
        ] {
            let err = result.expect_err(&format!("{name}: {what} accepted it"));
            let message = err.to_string();
            match &err {
                codegen::Error::Structure { path, .. } => {
                    assert_eq!(path, expected, "{name}: {what}: {message}");
                }
                _ => panic!("{name}: {what}: not a structure error: {message}"),
            }
            assert!(
                message.starts_with(&format!(
                    "{name}: not a valid OpenAPI 3.0 document at {expected}: "
                )),
                "{name}: {what}: {message}"
            );
        }
        println!("{}", codegen::load(&name, &text, false).unwrap_err());
    }
}

#[test]
fn the_fixtures_are_valid_once_the_schema_is_fixed() {
    // The fixtures share one document, valid but for the malformed schema: with `type: file`
    // made `type: object`, it generates.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema-errors");
    let file = dir.join("type-unknown.yaml");
    let text = std::fs::read_to_string(file).unwrap();
    let fixed = text.replace("type: file", "type: object");
    codegen::generate("fixed.yaml", &fixed, false, &codegen::Settings::default()).unwrap();
}

/// A spec whose components form a chain of `n` schemas, each linked to the next through `via`
/// (`properties` or `items`), the last linked back to the first when `cycle`.
fn chain(n: usize, via: &str, cycle: bool) -> String {
    let mut schemas = serde_json::Map::new();
    for i in 0..n {
        let next = if i + 1 < n {
            Some(i + 1)
        } else {
            cycle.then_some(0)
        };
        let schema = match (next, via) {
            (None, _) => serde_json::json!({"type": "string"}),
            (Some(j), "properties") => serde_json::json!({"type": "object",
                "properties": {"next": {"$ref": format!("#/components/schemas/S{j}")}}}),
            (Some(j), _) => serde_json::json!({"type": "array",
                "items": {"$ref": format!("#/components/schemas/S{j}")}}),
        };
        schemas.insert(format!("S{i}"), schema);
    }
    serde_json::json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "paths": {}, "components": {"schemas": schemas}})
    .to_string()
}

/// Deep chains of schemas once overflowed the stack (an abort, not an error). Past the limit
/// they are refused with the pointer where the limit was reached; below it they generate, on a
/// test thread's small stack too (lowering grows its stack where it runs short).
#[test]
fn deep_schema_chains_are_refused_at_the_limit_and_never_overflow() {
    let settings = codegen::Settings::default();
    for (via, cycle, n) in [
        ("properties", false, 5000),
        ("items", false, 5000),
        ("properties", true, 3000),
    ] {
        let err = codegen::generate("chain.json", &chain(n, via, cycle), true, &settings)
            .expect_err("a chain past the limit");
        let message = err.to_string();
        let at = codegen::MAX_SCHEMA_DEPTH;
        assert!(
            message.starts_with(&format!("chain.json: /components/schemas/S{at}/{via}")),
            "{message}"
        );
        assert!(message.contains("more than 1000 levels"), "{message}");
    }
    let code = codegen::generate(
        "chain.json",
        &chain(900, "properties", true),
        true,
        &settings,
    )
    .unwrap();
    assert!(code.contains("pub struct S899"));
}
