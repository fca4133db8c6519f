//! `spec/3.1/` holds each shipped spec written as OpenAPI 3.1 (`conformance convert --to 3.1`):
//! fresh, clean, and accepting exactly the payloads the 3.0 source accepts.

use std::path::{Path, PathBuf};

use oas::{Direction, Document, SchemaValidator};
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const SPECS: [&str; 2] = ["chargily-pay-v2.yaml", "recharge-2021-01.yaml"];

/// The 3.0 source and the checked-in 3.1 version of a shipped spec.
fn pair(name: &str) -> (Document, Document, String) {
    let source = Document::load(&root().join("spec").join(name)).unwrap();
    let path = root().join("spec/3.1").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let converted = Document::parse(&path.display().to_string(), &text, false).unwrap();
    (source, converted, text)
}

#[test]
fn the_3_1_specs_are_fresh_and_lint_clean() {
    for name in SPECS {
        let (source, converted, text) = pair(name);
        let expected = oas::convert::to_3_1_yaml(&format!("spec/{name}"), &source.root);
        assert!(
            text == expected,
            "spec/3.1/{name} is stale: run `cargo run -p conformance -- convert --to 3.1 \
             spec/{name} --out spec/3.1/{name}` and commit the result"
        );
        assert_eq!(converted.openapi(), oas::Version::V3_1);
        let report = oas::lint(&converted);
        assert!(report.findings.is_empty(), "{name}: {:?}", report.findings);
        // The same examples are found and checked in both.
        assert_eq!(
            report.examples_checked,
            oas::lint(&source).examples_checked,
            "{name}"
        );
    }
}

/// A place where an example meets a schema: the schema's pointer, the direction, the example.
struct Site {
    schema: String,
    direction: Direction,
    example: Value,
}

/// Every example of the document with the schema it is an example of (`root` to follow
/// references to `components.examples`).
fn sites(root: &Value, node: &Value, at: &str, out: &mut Vec<Site>) {
    let Value::Object(map) = node else {
        if let Value::Array(items) = node {
            for (i, item) in items.iter().enumerate() {
                sites(root, item, &format!("{at}/{i}"), out);
            }
        }
        return;
    };
    let direction = if at.contains("/responses/") || at.contains("/headers/") {
        Direction::Response
    } else if at.starts_with("/components/schemas") {
        Direction::Neutral
    } else {
        Direction::Request
    };
    let schema = if map.contains_key("schema") {
        Some(format!("{at}/schema"))
    } else if at.starts_with("/components/schemas") && map.contains_key("example") {
        Some(at.to_owned())
    } else {
        None
    };
    if let Some(schema) = schema {
        let mut examples: Vec<Value> = map.get("example").into_iter().cloned().collect();
        if let Some(Value::Object(named)) = map.get("examples") {
            for example in named.values() {
                let example = match example.get("$ref").and_then(Value::as_str) {
                    Some(r) => root
                        .pointer(r.trim_start_matches('#'))
                        .unwrap_or(&Value::Null),
                    None => example,
                };
                examples.extend(example.get("value").cloned());
            }
        }
        for example in examples {
            out.push(Site {
                schema: schema.clone(),
                direction,
                example,
            });
        }
    }
    for (key, value) in map {
        if key != "example" && key != "examples" {
            let token = key.replace('~', "~0").replace('/', "~1");
            sites(root, value, &format!("{at}/{token}"), out);
        }
    }
}

/// The example and variations of it that probe what the schemas decide: each property made
/// `null`, removed, or given a value of another type, numbers nudged past likely bounds, and an
/// undeclared property added at the top and inside each object-valued property (what strict
/// mode reports).
fn variations(example: &Value) -> Vec<Value> {
    let mut out = vec![example.clone(), Value::Null, json!({}), json!([])];
    if let Value::Object(map) = example {
        let mut v = map.clone();
        v.insert("undeclared_by_the_spec".into(), json!(1));
        out.push(Value::Object(v));
        for (key, value) in map {
            for replacement in [
                Value::Null,
                json!(""),
                json!(-1),
                json!(0.5),
                json!([]),
                json!({}),
            ] {
                let mut v = map.clone();
                v.insert(key.clone(), replacement);
                out.push(Value::Object(v));
            }
            let mut v = map.clone();
            v.shift_remove(key);
            out.push(Value::Object(v));
            if let Value::Object(inner) = value {
                let mut inner = inner.clone();
                inner.insert("undeclared_by_the_spec".into(), json!(1));
                let mut v = map.clone();
                v.insert(key.clone(), Value::Object(inner));
                out.push(Value::Object(v));
            }
            if let Some(n) = value.as_f64() {
                for nudged in [n - 1.0, n + 1.0, 0.0, -n] {
                    let mut v = map.clone();
                    v.insert(key.clone(), json!(nudged));
                    out.push(Value::Object(v));
                }
            }
        }
    }
    out
}

#[test]
fn both_versions_accept_and_refuse_the_same_payloads() {
    let mut compared = [0; 2];
    let mut refused = [0; 2];
    for name in SPECS {
        let (source, converted, _) = pair(name);
        let mut found = Vec::new();
        sites(&source.root, &source.root, "", &mut found);
        assert!(found.len() > 40, "{name}: only {} examples", found.len());
        for site in &found {
            for strict in [false, true] {
                let compile = |root: &Value| {
                    SchemaValidator::compile_with(root, &site.schema, site.direction, strict)
                        .unwrap_or_else(|e| panic!("{name} {}: {e}", site.schema))
                };
                let (old, new) = (compile(&source.root), compile(&converted.root));
                for instance in variations(&site.example) {
                    let verdict = old.is_valid(&instance);
                    assert_eq!(
                        new.is_valid(&instance),
                        verdict,
                        "{name} {} ({:?}, strict: {strict}): {instance}",
                        site.schema,
                        site.direction
                    );
                    compared[usize::from(strict)] += 1;
                    refused[usize::from(strict)] += usize::from(!verdict);
                }
            }
        }
    }
    println!(
        "3.0 and 3.1 agree on {} payloads ({} refused by both) and in strict mode on {} ({})",
        compared[0], refused[0], compared[1], refused[1]
    );
    for (compared, refused) in compared.into_iter().zip(refused) {
        assert!(compared > 4_000, "{compared}");
        // Both verdicts are well represented.
        assert!(
            refused * 10 > compared && refused * 10 < 9 * compared,
            "{refused} of {compared}"
        );
    }
    // Strict mode refuses the undeclared properties the lenient one lets pass.
    assert!(refused[1] > refused[0], "{refused:?}");
}

/// Whether a document's text declares OpenAPI 3.1 (read without the loader under test: a
/// top-level `openapi:` line in YAML, the `openapi` member in JSON).
fn declares_3_1(text: &str) -> bool {
    match serde_json::from_str::<Value>(text) {
        Ok(json) => json["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        Err(_) => text.lines().any(|line| {
            line.strip_prefix("openapi:")
                .is_some_and(|v| v.trim().trim_matches(['"', '\'']).starts_with("3.1"))
        }),
    }
}

/// Every OpenAPI 3.1 document gathered from public repositories (`../corpus-3.1/` or
/// `../shared/corpus-3.1/`, with its manifest, made by `.ci/gather-corpus-3.1.sh`; outside the
/// repository) and the corpus's own 3.1 files load and lint: no input error, no panic, and
/// their examples are checked. Skips when the folders are absent.
#[test]
fn real_3_1_specs_load_and_lint() {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["../corpus-3.1", "../shared/corpus-3.1", "../shared/corpus"] {
        let Ok(entries) = std::fs::read_dir(root().join(dir)) else {
            continue;
        };
        files.extend(entries.map(|e| e.unwrap().path()).filter(|p| {
            p.extension().is_some_and(|e| e == "json" || e == "yaml")
                && std::fs::read_to_string(p).is_ok_and(|t| declares_3_1(&t))
        }));
    }
    files.sort();
    let mut documents = 0;
    let mut examples = 0;
    for path in &files {
        let doc = Document::load(path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(doc.openapi(), oas::Version::V3_1, "{}", path.display());
        let report = oas::lint(&doc);
        examples += report.examples_checked;
        documents += 1;
    }
    if documents == 0 {
        println!("real 3.1 specs: skipped (no gathered 3.1 documents or 3.1 corpus files)");
        return;
    }
    println!("real 3.1 specs: {documents} documents linted, {examples} examples checked");
    assert!(examples > 0);
}
