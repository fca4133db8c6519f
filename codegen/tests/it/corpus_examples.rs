//! Real OpenAPI 3.1 documents' own examples round-trip through the types generated for them:
//! each example of a request body, a response, a webhook payload or a component schema that the
//! spec's own validator accepts (`oas`) decodes into the generated type and encodes back to the
//! same JSON (numbers compared by value). Examples the spec refuses are counted, not tried.
//!
//! Each document's output is built into a small binary (a scratch workspace under
//! `target/tmp/codegen-examples`, one crate per document, its target dir kept across runs) that
//! reads the examples and prints what came back; the comparison is done here.
//!
//! Which documents: the project's own specs written as 3.1 (`spec/3.1/`), always; the corpus's
//! OpenAPI 3.1 files and the gathered ones (`../corpus-3.1`, see `corpus.rs`) when present, by
//! default only the small ones (under 100 kB, the corpus's Xero webhooks among them);
//! `CODEGEN_CORPUS_EXAMPLES=all` takes every one (several minutes), `off` none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use oas::{Direction, SchemaValidator};
use serde_json::{Value, json};

use super::corpus::{
    corpus_3_1_dir, corpus_dir, module_name, scratch_cargo, scratch_crate, scratch_workspace,
    write_if_changed,
};

/// One example and what its type is: `kind` is `schema`, `request`, `response` or `webhook`;
/// `name` the schema name, `operationId` or webhook name.
struct Example {
    kind: &'static str,
    name: String,
    status: u16,
    /// Where it was found (for reports).
    at: String,
    json: Value,
    /// The schema's pointer and direction, to validate it first.
    schema: String,
    direction: Direction,
}

/// `example` and each of `examples` (a map of Example Objects, following `$ref`s, or a 3.1
/// schema's list) of the object at `at`.
fn examples_of(root: &Value, at: &str, holder: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Some(e) = holder.get("example") {
        out.push((format!("{at}/example"), e.clone()));
    }
    match holder.get("examples") {
        Some(Value::Object(named)) => {
            for (name, e) in named {
                let here = oas::pointer::push(&format!("{at}/examples"), name);
                if let Ok((where_, e)) = oas::pointer::deref(root, &here, e)
                    && let Some(value) = e.get("value")
                {
                    out.push((where_, value.clone()));
                }
            }
        }
        Some(Value::Array(list)) => {
            for (i, e) in list.iter().enumerate() {
                out.push((format!("{at}/examples/{i}"), e.clone()));
            }
        }
        _ => {}
    }
    out
}

/// The first JSON media type of a `content` holder (a request body or response), with its
/// pointer: the one the generator types.
fn json_media<'v>(at: &str, holder: &'v Value) -> Option<(String, &'v Value)> {
    let content = holder.get("content")?.as_object()?;
    content.iter().find_map(|(media, object)| {
        (oas::media::admits_json(media) && object.get("schema").is_some())
            .then(|| (oas::pointer::push(&format!("{at}/content"), media), object))
    })
}

/// Every example of a document with the generated type it belongs to.
fn examples(root: &Value) -> Vec<Example> {
    let mut out = Vec::new();
    let mut body = |kind, name: &str, status, at: &str, holder: &Value, direction| {
        let Ok((at, holder)) = oas::pointer::deref(root, at, holder) else {
            return;
        };
        if let Some((media_at, media)) = json_media(&at, holder) {
            for (where_, json) in examples_of(root, &media_at, media) {
                out.push(Example {
                    kind,
                    name: name.to_owned(),
                    status,
                    at: where_,
                    json,
                    schema: format!("{media_at}/schema"),
                    direction,
                });
            }
        }
    };
    let mut ids = std::collections::BTreeSet::new();
    for op in oas::operations(root)
        .into_iter()
        .filter(|op| op.callback_of.is_none())
    {
        // Dispatch is by `operationId`, once per id (as the generated `IDS`).
        let Some(id) = op
            .id()
            .map(str::to_owned)
            .filter(|id| ids.insert(id.clone()))
        else {
            continue;
        };
        let id = id.as_str();
        if let Some(request) = op.node.get("requestBody") {
            let at = format!("{}/requestBody", op.pointer);
            body("request", id, 0, &at, request, Direction::Request);
        }
        for (status, response) in op
            .node
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Ok(code) = status.parse::<u16>() {
                let at = oas::pointer::push(&format!("{}/responses", op.pointer), status);
                body("response", id, code, &at, response, Direction::Response);
            }
        }
    }
    let mut hooks = std::collections::BTreeSet::new();
    for hook in oas::webhooks(root) {
        if let Some(request) = hook.node.get("requestBody")
            && hooks.insert(hook.path.clone())
        {
            let at = format!("{}/requestBody", hook.pointer);
            body("webhook", &hook.path, 0, &at, request, Direction::Request);
        }
    }
    for (name, schema) in root
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let at = oas::pointer::push("/components/schemas", name);
        for (where_, json) in examples_of(root, &at, schema) {
            out.push(Example {
                kind: "schema",
                name: name.clone(),
                status: 0,
                at: where_,
                json,
                schema: at.clone(),
                direction: Direction::Neutral,
            });
        }
    }
    out
}

/// The differences between an example and what came back, numbers by value (floats to within
/// a few units in the last place); properties the type does not declare and dropped are
/// counted apart (`dropped`).
fn differences(at: &str, a: &Value, b: &Value, out: &mut Vec<String>, dropped: &mut usize) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let same = match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(i), Some(j), _, _) => i == j,
                (_, _, Some(i), Some(j)) => i == j,
                // serde_json's default float parsing may land one unit in the last place
                // off (without its `float_roundtrip` feature), on either side of the trip.
                _ => match (x.as_f64(), y.as_f64()) {
                    (Some(x), Some(y)) => {
                        (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
                    }
                    _ => false,
                },
            };
            if !same {
                out.push(format!("{at}: {a} became {b}"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let child = oas::pointer::push(at, k);
                match y.get(k) {
                    Some(w) => differences(&child, v, w, out, dropped),
                    None => *dropped += 1,
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{at}/{k}: added {}", y[k]));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                differences(&format!("{at}/{i}"), v, w, out, dropped);
            }
        }
        _ if a == b => {}
        _ => out.push(format!(
            "{}: {a} became {b}",
            if at.is_empty() { "(root)" } else { at }
        )),
    }
}

/// The harness each document's crate runs: reads `[{kind, name, status, json}]`, prints
/// `[{back} | {error} | {missing}]` in the same order.
fn harness(webhooks: bool) -> String {
    let webhook_arm = if webhooks {
        "Some(\"webhook\") => api::webhooks::round_trip(name, json).map(|r| r.map_err(|e| e.to_string())),"
    } else {
        ""
    };
    format!(
        r#"#[rustfmt::skip]
#[allow(deprecated, dead_code, clippy::all, clippy::pedantic, rustdoc::all)]
mod api;

fn main() {{
    let path = std::env::args().nth(1).expect("an examples file");
    let examples: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON");
    let mut out = Vec::new();
    for e in &examples {{
        let name = e["name"].as_str().unwrap_or_default();
        let json = &e["json"];
        let result: Option<Result<serde_json::Value, String>> = match e["kind"].as_str() {{
            Some("schema") => api::schemas::round_trip(name, json).map(|r| r.map_err(|e| e.to_string())),
            Some("request") => api::operations::round_trip_request(name, json).map(|r| r.map_err(|e| e.to_string())),
            Some("response") => {{
                let bytes = serde_json::to_vec(json).expect("JSON");
                let status = u16::try_from(e["status"].as_u64().unwrap_or(0)).unwrap_or(0);
                api::operations::round_trip_response(name, status, Some("application/json"), &bytes).map(|r| {{
                    r.map_err(|e| e.to_string()).and_then(|b| b.ok_or_else(|| "decoded without a body".to_owned()))
                }})
            }}
            {webhook_arm}
            _ => None,
        }};
        out.push(match result {{
            None => serde_json::json!({{"missing": true}}),
            Some(Ok(back)) => serde_json::json!({{"back": back}}),
            Some(Err(error)) => serde_json::json!({{"error": error}}),
        }});
    }}
    println!("{{}}", serde_json::Value::Array(out));
}}
"#
    )
}

/// Per document: examples found, refused by the spec (not tried), round-tripped exactly,
/// round-tripped but for undeclared properties the types drop, and failures.
#[derive(Default, Debug)]
struct Tally {
    found: usize,
    refused_by_spec: usize,
    exact: usize,
    undeclared_dropped: usize,
    failures: Vec<String>,
}

#[test]
fn real_3_1_examples_round_trip_through_generated_types() {
    let mode = std::env::var("CODEGEN_CORPUS_EXAMPLES").unwrap_or_else(|_| "small".to_owned());
    if mode == "off" {
        println!("3.1 examples: skipped (CODEGEN_CORPUS_EXAMPLES=off)");
        return;
    }
    let mut paths: Vec<PathBuf> = Vec::new();
    for dir in [Some(corpus_dir()), corpus_3_1_dir()].into_iter().flatten() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        paths.extend(entries.map(|e| e.unwrap().path()).filter(|p| {
            p.extension().is_some_and(|e| e == "json" || e == "yaml")
                && (mode == "all" || std::fs::metadata(p).is_ok_and(|m| m.len() < 100_000))
        }));
    }
    paths.sort();
    // The project's own specs written as 3.1 (`spec/3.1/`), always: every one of their
    // examples is valid.
    for spec in ["chargily-pay-v2.yaml", "recharge-2021-01.yaml"] {
        paths.push(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../spec/3.1")
                .join(spec),
        );
    }
    // (module, document, code, examples)
    let mut documents: Vec<(String, oas::Document, String, Vec<Example>)> = Vec::new();
    for path in paths {
        let Ok(doc) = oas::Document::load(&path) else {
            continue;
        };
        if doc.openapi() != oas::Version::V3_1 {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let name = if path.parent().is_some_and(|p| p.ends_with("spec/3.1")) {
            format!("spec-3.1-{name}")
        } else {
            name
        };
        let code = codegen::generate_from_path(&path, &codegen::Settings::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let found = examples(&doc.root);
        documents.push((module_name(&name), doc, code, found));
    }
    if documents.is_empty() {
        println!("3.1 examples: skipped (no OpenAPI 3.1 documents in the corpus folders)");
        return;
    }

    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let root = tmp.join("codegen-examples");
    let target = tmp.join("codegen-examples-target");
    let names: Vec<&str> = documents.iter().map(|(m, ..)| m.as_str()).collect();
    scratch_workspace(
        &root,
        &names,
        "codegen/tests/it/corpus_examples.rs: one crate per document",
    );
    for (module, _, code, found) in &documents {
        let dir = scratch_crate(&root, module, &[]);
        write_if_changed(&dir.join("src/api.rs"), code);
        write_if_changed(
            &dir.join("src/main.rs"),
            &harness(code.contains("\npub mod webhooks {")),
        );
        let list: Vec<Value> = found
            .iter()
            .map(|e| json!({"kind": e.kind, "name": e.name, "status": e.status, "json": e.json}))
            .collect();
        std::fs::write(dir.join("examples.json"), Value::Array(list).to_string()).unwrap();
    }
    let built = scratch_cargo(
        &root,
        &target,
        &["build", "--offline", "--workspace", "--bins", "--quiet"],
    );
    assert!(
        built.status.success(),
        "the generated modules do not build: {}",
        String::from_utf8_lossy(&built.stderr)
    );

    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for (module, doc, _, found) in &documents {
        let ran = Command::new(target.join("debug").join(module))
            .arg(root.join("crates").join(module).join("examples.json"))
            .output()
            .unwrap();
        assert!(
            ran.status.success(),
            "{module}: {}",
            String::from_utf8_lossy(&ran.stderr)
        );
        let results: Vec<Value> = serde_json::from_slice(&ran.stdout).unwrap();
        let tally = tallies.entry(doc.source.clone()).or_default();
        let mut validators: BTreeMap<(String, Direction), Option<SchemaValidator>> =
            BTreeMap::new();
        for (example, result) in found.iter().zip(&results) {
            tally.found += 1;
            let validator = validators
                .entry((example.schema.clone(), example.direction))
                .or_insert_with(|| {
                    SchemaValidator::compile(&doc.root, &example.schema, example.direction).ok()
                });
            if !validator
                .as_ref()
                .is_some_and(|v| v.is_valid(&example.json))
            {
                tally.refused_by_spec += 1;
                continue;
            }
            let what = format!("{} {}", example.kind, example.at);
            match (result.get("back"), result.get("error")) {
                (Some(back), _) => {
                    let (mut found, mut dropped) = (Vec::new(), 0);
                    differences("", &example.json, back, &mut found, &mut dropped);
                    match (found.is_empty(), dropped) {
                        (true, 0) => tally.exact += 1,
                        (true, _) => tally.undeclared_dropped += 1,
                        (false, _) => tally
                            .failures
                            .push(format!("{what}: differs: {}", found.join("; "))),
                    }
                }
                (None, Some(error)) => tally
                    .failures
                    .push(format!("{what}: does not decode: {error}")),
                _ => tally.failures.push(format!("{what}: no generated type")),
            }
        }
    }
    let mut failures = Vec::new();
    for (document, t) in &tallies {
        println!(
            "3.1 examples: {document}: {} found, {} refused by the spec (not tried), {} round-tripped \
             exactly, {} but for undeclared properties the types drop, {} failed",
            t.found,
            t.refused_by_spec,
            t.exact,
            t.undeclared_dropped,
            t.failures.len()
        );
        failures.extend(t.failures.iter().map(|f| format!("{document}: {f}")));
    }
    let tried: usize = tallies
        .values()
        .map(|t| t.exact + t.undeclared_dropped)
        .sum();
    assert!(
        failures.is_empty(),
        "{} examples failed to round-trip:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(tried > 0, "no example was tried: {tallies:?}");
}
