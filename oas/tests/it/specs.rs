//! The shipped specs in `spec/` pass every structural check, and parse with `openapiv3`
//! (the typed model the code generator reads).

use std::path::{Path, PathBuf};

fn spec_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("spec/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn both_checkout_specs_are_present() {
    let names: Vec<String> = spec_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["chargily-pay-v2.yaml", "recharge-2021-01.yaml"]);
}

#[test]
fn shipped_specs_lint_clean() {
    for path in spec_files() {
        let doc = oas::Document::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            doc.version().starts_with("3.0."),
            "{}: {}",
            path.display(),
            doc.version()
        );
        let findings = oas::lint(&doc).findings;
        let listing: Vec<String> = findings.iter().map(ToString::to_string).collect();
        assert!(
            findings.is_empty(),
            "{}:\n{}",
            path.display(),
            listing.join("\n")
        );
    }
}

#[test]
fn shipped_specs_parse_as_typed_openapi() {
    for path in spec_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let parsed: Result<openapiv3::OpenAPI, _> = serde_yaml::from_str(&text);
        assert!(
            parsed.is_ok(),
            "{}: {}",
            path.display(),
            parsed.unwrap_err()
        );
    }
}

#[test]
fn every_operation_has_examples_for_its_body_and_success_response() {
    for path in spec_files() {
        let doc = oas::Document::load(&path).unwrap();
        for op in oas::operations(&doc.root)
            .into_iter()
            .filter(|op| op.callback_of.is_none())
        {
            let id = op.id().unwrap();
            let has_examples = |media: &serde_json::Value| {
                media.get("example").is_some()
                    || media
                        .get("examples")
                        .is_some_and(|e| e.as_object().is_some_and(|m| !m.is_empty()))
            };
            if let Some(body) = op.node.get("requestBody") {
                let (_, body) = oas::pointer::deref(&doc.root, &op.pointer, body).unwrap();
                let json = &body["content"]["application/json"];
                assert!(
                    has_examples(json),
                    "{}: {id}: request body has no example",
                    path.display()
                );
            }
            let responses = op.node["responses"].as_object().unwrap();
            let (code, response) = responses.iter().find(|(c, _)| c.starts_with('2')).unwrap();
            let (_, response) = oas::pointer::deref(&doc.root, &op.pointer, response).unwrap();
            let json = &response["content"]["application/json"];
            assert!(
                has_examples(json),
                "{}: {id}: {code} response has no example",
                path.display()
            );
        }
    }
}

/// Vendor examples show what real servers send: every property in them is declared by the
/// spec, so the conformance checker's strict profile passes on real traffic.
#[test]
fn response_examples_pass_the_strict_profile() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in spec_files() {
        let doc = oas::Document::load(&path).unwrap();
        let root = &doc.root;
        for op in oas::operations(root) {
            for (code, response) in op.node["responses"].as_object().unwrap() {
                let at = format!("{}/responses/{code}", op.pointer);
                let (at, response) = oas::pointer::deref(root, &at, response).unwrap();
                let Some(media) = response.pointer("/content/application~1json") else {
                    continue;
                };
                let schema_at = format!("{at}/content/application~1json/schema");
                let v = oas::SchemaValidator::compile_with(
                    root,
                    &schema_at,
                    oas::Direction::Response,
                    true,
                )
                .unwrap();
                let mut examples: Vec<(String, serde_json::Value)> = Vec::new();
                if let Some(e) = media.get("example") {
                    examples.push(("example".into(), e.clone()));
                }
                for (name, e) in media
                    .get("examples")
                    .and_then(|e| e.as_object())
                    .into_iter()
                    .flatten()
                {
                    let (_, e) = oas::pointer::deref(root, &at, e).unwrap();
                    examples.push((name.clone(), e["value"].clone()));
                }
                for (name, e) in examples {
                    checked += 1;
                    for violation in v.validate(&e) {
                        failures.push(format!(
                            "{}: {} {code} {name}: {violation:?}",
                            path.display(),
                            op.id().unwrap_or("?")
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 50, "{checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `spec/README.md` states how many examples the lint validates in each spec: the figures must
/// be what the lint reports today.
#[test]
fn the_example_counts_spec_readme_states_are_current() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/README.md"))
            .unwrap();
    // "the lint validates 209 (Chargily)\nand 201 (ReCharge) examples"
    let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let (_, rest) = flat
        .split_once("the lint validates ")
        .expect("spec/README.md states the lint's example counts");
    let mut numbers = rest
        .split(' ')
        .take(4)
        .filter_map(|w| w.parse::<usize>().ok());
    let (chargily, recharge) = (numbers.next().unwrap(), numbers.next().unwrap());
    for (file, stated) in [
        ("chargily-pay-v2.yaml", chargily),
        ("recharge-2021-01.yaml", recharge),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../spec")
            .join(file);
        let doc = oas::Document::load(&path).unwrap();
        assert_eq!(
            oas::lint(&doc).examples_checked,
            stated,
            "spec/README.md states {stated} examples for {file}: update it"
        );
    }
}
