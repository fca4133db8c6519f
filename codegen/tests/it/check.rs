//! The structure check gives `generate` the verdicts and messages of `load`, for JSON and YAML:
//! `openapiv3` outside Schema Objects (a refusal names the path `serde_path_to_error` gives on
//! the document's `Value`, as before), the walk of the `Value` inside them (a refusal names the
//! keyword's JSON pointer; one fixture per rule in `tests/it/schema_errors.rs`).

/// `generate`'s verdict on a document against `openapiv3`'s own reading of the document's
/// `Value` (`serde_path_to_error`): both accept, or both refuse, with the same path and message
/// outside Schema Objects (inside them the check names the keyword's JSON pointer, `#/…`).
fn same_verdict(name: &str, text: &str, json: bool) {
    let generated = codegen::generate(name, text, json, &codegen::Settings::default());
    let Ok(doc) = oas::Document::parse(name, text, json) else {
        // Not a document `oas` reads (syntax, version): refused before the check.
        assert!(
            matches!(generated, Err(codegen::Error::Load(_))),
            "{name}: {:?}",
            generated.map(|_| ())
        );
        return;
    };
    let theirs = serde_path_to_error::deserialize::<_, openapiv3::OpenAPI>(&doc.root);
    match (&generated, &theirs) {
        (Ok(_), Ok(_)) => {}
        (Err(codegen::Error::Structure { path, message, .. }), Err(e)) => {
            if !path.starts_with("#/") {
                assert_eq!(path, &e.path().to_string(), "{name}");
                assert_eq!(message, &e.inner().to_string(), "{name}");
            }
        }
        _ => panic!(
            "{name}: generate {:?}, openapiv3 {:?}",
            generated.map(|_| ()).map_err(|e| e.to_string()),
            theirs.as_ref().map(|_| ()).map_err(ToString::to_string)
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

/// A small deterministic generator (xorshift64), so a failure names a reproducible case.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Every node's JSON pointer, in document order.
fn pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, x) in map {
                let token = key.replace('~', "~0").replace('/', "~1");
                pointers(x, format!("{at}/{token}"), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// What mutating documents found: cases compared, and how they ended.
#[derive(Debug, Default)]
struct Tally {
    both_accept: usize,
    both_refuse: usize,
    /// Refused before the structure check (the `openapi` version, say): not compared.
    not_checked: usize,
    /// Refused by the rules beyond `openapiv3` (a `type` outside the six, a `$ref` that is
    /// not a string).
    stricter: usize,
    /// Accepted where `openapiv3` refuses a `null` scope list.
    null_scopes: usize,
}

/// Mutates `root` `count` times (one node replaced or removed each time) and compares the
/// generator's structure check with `openapiv3` reading the whole mutated document: the same
/// verdict, but for the documented differences.
fn compare_mutations(
    name: &str,
    root: &serde_json::Value,
    count: usize,
    rng: &mut Rng,
    tally: &mut Tally,
) {
    use serde_json::json;
    let mut all = Vec::new();
    pointers(root, String::new(), &mut all);
    let replacements = [
        json!(7),
        json!("x"),
        json!(null),
        json!(true),
        json!([]),
        json!({}),
        json!([null]),
        json!({"x-a": 1}),
        json!({"$ref": "#/components/schemas/Nope"}),
        json!({"type": "strange"}),
    ];
    for _ in 0..count {
        let pointer = &all[rng.below(all.len())];
        if pointer.is_empty() {
            continue;
        }
        let mut doc = root.clone();
        let choice = rng.below(replacements.len() + 1);
        let (parent, last) = pointer.rsplit_once('/').unwrap();
        let removed = match (choice, doc.pointer_mut(parent)) {
            (n, Some(serde_json::Value::Object(map))) if n == replacements.len() => {
                map.shift_remove(&last.replace("~1", "/").replace("~0", "~"));
                true
            }
            _ => false,
        };
        if !removed {
            *doc.pointer_mut(pointer).unwrap() = replacements[choice % replacements.len()].clone();
        }
        let case = format!(
            "{name}: {pointer} {}",
            if removed {
                "removed".to_owned()
            } else {
                replacements[choice % replacements.len()].to_string()
            }
        );
        let ours = codegen::load(name, &doc.to_string(), true);
        let theirs = serde_path_to_error::deserialize::<_, openapiv3::OpenAPI>(&doc);
        match (ours, theirs) {
            (Ok(_), Ok(_)) => tally.both_accept += 1,
            (Err(codegen::Error::Load(_)), _) => tally.not_checked += 1,
            (Err(codegen::Error::Structure { .. }), Err(_)) => tally.both_refuse += 1,
            (Err(codegen::Error::Structure { path, .. }), Ok(_))
                if path.starts_with("#/")
                    && (path.ends_with("/type") || path.ends_with("/$ref")) =>
            {
                tally.stricter += 1;
            }
            // A scope list made `null` (`…/security/<i>/<scheme>`): told by the mutation
            // itself, as `openapiv3`'s error path stops short of it under `paths` (where it
            // reads through buffered content).
            (Ok(_), Err(e))
                if (!removed
                    && replacements[choice % replacements.len()].is_null()
                    && pointer
                        .rsplit('/')
                        .nth(2)
                        .is_some_and(|list| list == "security"))
                    || e.path().iter().any(|segment| {
                        matches!(segment, serde_path_to_error::Segment::Map { key } if key == "security")
                    }) =>
            {
                tally.null_scopes += 1;
            }
            (ours, theirs) => panic!(
                "{case}: the check says {:?}, openapiv3 says {:?}",
                ours.map(|_| ()).map_err(|e| e.to_string()),
                theirs.map(|_| ()).map_err(|e| e.to_string())
            ),
        }
    }
}

/// The structure check against `openapiv3` itself, on mutated real documents: the checked-in
/// specs, the golden fixtures and (when present) small documents of the corpus, with nodes
/// replaced by values of every JSON type, by References and by schemas of unknown types, or
/// removed. Bounded for CI: about 2,000 documents.
#[test]
fn mutated_documents_get_openapiv3s_verdict() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources: Vec<(std::path::PathBuf, usize)> = Vec::new();
    for spec in ["chargily-pay-v2.yaml", "recharge-2021-01.yaml"] {
        sources.push((root.join("../spec").join(spec), 400));
    }
    let mut fixtures: Vec<_> = std::fs::read_dir(root.join("tests/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    fixtures.sort();
    sources.extend(fixtures.into_iter().map(|p| (p, 40)));
    let corpus = root.join("../../shared/corpus");
    if let Ok(entries) = std::fs::read_dir(&corpus) {
        let mut small: Vec<_> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() < 150_000))
            .collect();
        small.sort();
        sources.extend(small.into_iter().take(8).map(|p| (p, 60)));
    } else {
        println!("mutations: the corpus is absent; the project's own documents only");
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut tally = Tally::default();
    for (path, count) in &sources {
        let text = std::fs::read_to_string(path).unwrap();
        let json = path.extension().is_some_and(|e| e == "json");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // `openapiv3` reads OpenAPI 3.0 only: 3.1 documents have no verdict to compare with.
        let Ok(doc) = oas::Document::parse(&name, &text, json)
            .map_err(drop)
            .and_then(|d| match d.openapi() {
                oas::Version::V3_0 => Ok(d),
                oas::Version::V3_1 => Err(()),
            })
        else {
            continue;
        };
        // Only documents the check accepts as they are: each mutation is then its cause.
        if codegen::load(&name, &text, json).is_err() {
            continue;
        }
        compare_mutations(&name, &doc.root, *count, &mut rng, &mut tally);
    }
    println!("mutations: {tally:?}");
    let compared = tally.both_accept + tally.both_refuse + tally.stricter + tally.null_scopes;
    assert!(compared >= 1_000, "{tally:?}");
    // Both verdicts are well represented.
    assert!(
        tally.both_accept * 5 > compared && tally.both_refuse * 10 > compared,
        "{tally:?}"
    );
}
