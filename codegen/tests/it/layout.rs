//! The generated text is laid out as `prettyplease` lays it out: it is a fixed point of
//! `prettyplease::unparse(syn::parse_file(..))`, byte for byte, for both enum policies, on:
//! - every golden fixture, hard case and checked-in spec;
//! - a synthetic spec whose names, types and texts take every length around the line-width
//!   thresholds (field types, attribute lists, variants, match arms, dispatch arms), and the
//!   kinds whose layout is left to `prettyplease`;
//! - with `CODEGEN_LAYOUT_CORPUS=1`, every spec of the corpus in `../shared/corpus` (slow in a
//!   debug build: run it with `--release`).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

const POLICIES: [codegen::UnknownEnum; 2] =
    [codegen::UnknownEnum::Reject, codegen::UnknownEnum::CatchAll];

/// Where `code` (a generated module, header included) differs from `prettyplease`'s layout
/// of it: the first differing line, or `None` when it is a fixed point.
fn layout_difference(code: &str) -> Option<String> {
    // The header is a comment, which `syn` does not keep.
    let body = code.split_once("\n\n").map_or(code, |(_, body)| body);
    let file = match syn::parse_file(body) {
        Ok(file) => file,
        Err(e) => return Some(format!("does not parse: {e}")),
    };
    let laid_out = prettyplease::unparse(&file);
    if laid_out == body {
        return None;
    }
    let (i, (mine, theirs)) = body
        .lines()
        .zip(laid_out.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .unwrap_or((
            body.lines().count().min(laid_out.lines().count()),
            ("(end)", "(end)"),
        ));
    Some(format!(
        "line {} of the body:\n  generated:    {mine:?}\n  prettyplease: {theirs:?}",
        i + 1
    ))
}

/// Generates `text` with both policies (the first with features per tag) and panics naming the first line not laid out as
/// `prettyplease` lays it out; returns the size of the output (0 when refused).
fn assert_laid_out(name: &str, text: &str, json: bool) -> usize {
    let mut size = 0;
    for unknown_enum in POLICIES {
        // With the client and its transport behind a feature: every kind of item is laid out.
        let client = codegen::ClientCode::Hyper {
            feature: Some("hyper".to_owned()),
        };
        // The first policy with cargo features per tag, the second without: the gates'
        // attributes are laid out too.
        let features = if unknown_enum == POLICIES[0] {
            codegen::Features::PerTag {
                prefix: String::new(),
            }
        } else {
            codegen::Features::None
        };
        let settings = codegen::Settings {
            unknown_enum,
            client: client.clone(),
            features: features.clone(),
            server: true,
        };
        let code = match codegen::generate(name, text, json, &settings) {
            Ok(code) => code,
            Err(e) if unknown_enum == POLICIES[0] => {
                // A document the generator refuses has no layout to check: both policies
                // refuse it alike.
                let other = codegen::Settings {
                    unknown_enum: POLICIES[1],
                    client,
                    features,
                    server: true,
                };
                assert!(
                    codegen::generate(name, text, json, &other).is_err(),
                    "{name}: refused under one policy only: {e}"
                );
                return 0;
            }
            Err(e) => panic!("{name} ({unknown_enum:?}): refused under one policy only: {e}"),
        };
        if let Some(difference) = layout_difference(&code) {
            panic!("{name} ({unknown_enum:?}): {difference}");
        }
        size = code.len();
    }
    size
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        })
        .collect();
    files.sort();
    files
}

#[test]
fn fixtures_hard_cases_and_specs_are_laid_out_as_prettyplease_does() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dirs = [
        root.join("tests/fixtures"),
        root.join("tests/hard-cases"),
        root.join("../spec"),
    ];
    let mut count = 0;
    for dir in dirs {
        for path in files(&dir) {
            let text = std::fs::read_to_string(&path).unwrap();
            let json = path.extension().is_some_and(|e| e == "json");
            let size = assert_laid_out(&path.display().to_string(), &text, json);
            assert!(size > 0, "{} does not generate", path.display());
            count += 1;
        }
    }
    assert!(count >= 17, "only {count} documents found");
}

#[test]
fn the_layout_check_catches_text_prettyplease_would_lay_out_otherwise() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("../spec/chargily-pay-v2.yaml")).unwrap();
    let code = codegen::generate("chargily", &text, false, &Default::default()).unwrap();
    assert_eq!(layout_difference(&code), None);
    // A field line indented by one space too many, an attribute list broken where it fits,
    // an item kept on one line that prettyplease breaks, an extra blank line.
    let plants = [
        code.replacen("\n    pub ", "\n     pub ", 1),
        code.replacen(
            "#[derive(Debug, Clone, PartialEq",
            "#[derive(\n    Debug,\n    Clone,\n    PartialEq",
            1,
        ),
        code.replacen("pub enum Response {\n", "pub enum Response {", 1),
        code.replacen("}\n", "}\n\n", 1),
    ];
    for (i, planted) in plants.iter().enumerate() {
        assert_ne!(planted, &code, "plant {i} changed nothing");
        assert!(
            layout_difference(planted).is_some(),
            "plant {i} was not caught"
        );
    }
}

/// A name of exactly `len` bytes (`len` ≥ 1) that every case conversion leaves as is.
fn name(first: char, len: usize) -> String {
    let mut s = String::from(first);
    s.extend(std::iter::repeat_n('x', len.saturating_sub(1)));
    s
}

fn schema_ref(n: usize) -> Value {
    json!({ "$ref": format!("#/components/schemas/{}", name('T', n)) })
}

/// Types of every length around the thresholds, in every position the generator writes them.
fn synthetic_spec() -> Value {
    let mut schemas = serde_json::Map::new();
    for n in 1..=110 {
        let mut t = json!({
            "type": "object",
            "description": format!("Type of {n} bytes.  \n\nWith a second paragraph, trailing spaces   "),
            "properties": { "v": { "type": "string" } },
        });
        if n % 3 == 0 {
            t["nullable"] = json!(true);
        }
        schemas.insert(name('T', n), t);
    }
    // Fields: names and types of every length, all presences.
    for chunk in 0..6 {
        let mut props = serde_json::Map::new();
        let mut required = Vec::new();
        for n in 1..=95 {
            let field = name('f', n);
            let k = (n * 7 + chunk * 13) % 110 + 1;
            let ty = match (n + chunk) % 6 {
                0 => schema_ref(k),
                1 => json!({ "type": "array", "items": schema_ref(k) }),
                2 => {
                    json!({ "type": "object", "additionalProperties": { "type": "array", "items": schema_ref(k) } })
                }
                3 => {
                    json!({ "type": "array", "items": { "type": "array", "items": { "type": "object", "additionalProperties": schema_ref(k) } } })
                }
                4 => {
                    json!({ "type": "object", "additionalProperties": { "type": "object", "additionalProperties": true } })
                }
                _ => json!({ "type": "string", "nullable": true }),
            };
            let mut ty = ty;
            if n % 5 == 0 {
                ty = json!({ "allOf": [ty], "nullable": true, "description": "Nullable.\r\nSecond line." });
            }
            if n % 4 == 0 {
                required.push(json!(field));
            }
            if n % 9 == 0 {
                ty["deprecated"] = json!(true);
            }
            props.insert(field, ty);
        }
        // Wire names that need a rename, of every length.
        for n in (1..=100).step_by(3) {
            props.insert(
                format!("{}-Wire", name('r', n)),
                json!({ "type": "integer" }),
            );
        }
        props.insert("type".into(), json!({ "type": "string" }));
        let mut s = json!({ "type": "object", "properties": props, "required": required });
        if chunk == 1 {
            s["additionalProperties"] = json!({ "type": "array", "items": schema_ref(100) });
        }
        if chunk == 2 {
            s["additionalProperties"] = json!(false);
        }
        if chunk == 3 {
            s["not"] = json!({ "required": ["forbidden_one"] });
        }
        schemas.insert(format!("Fields{chunk}"), s);
    }
    // Constructors whose last parameter is around the line's width: the trailing comma of a
    // broken parameter list does not count against it.
    for n in 1..=40_usize {
        for d in 0..5 {
            let k = 72 - n + d;
            let last = name('l', n);
            schemas.insert(
                format!("Last{n}x{d}"),
                json!({
                    "type": "object",
                    "required": ["a", last],
                    "properties": {
                        "a": { "type": "string" },
                        last: { "type": "array", "items": schema_ref(k) },
                    },
                }),
            );
        }
    }
    // String enums with values of every length (rename attributes and `as_str` arms).
    let values: Vec<String> = (1..=120).map(|n| name('v', n)).collect();
    schemas.insert("E".into(), json!({ "type": "string", "enum": values }));
    for n in [40, 55, 60, 61, 62, 70, 85] {
        schemas.insert(
            name('L', n),
            json!({ "type": "string", "enum": ["a", name('w', n)] }),
        );
    }
    // Unions with members of every length.
    for n in (1..=110).step_by(4) {
        schemas.insert(
            format!("U{n}"),
            json!({ "oneOf": [schema_ref(n), { "type": "array", "items": schema_ref(n) }, { "type": "string" }] }),
        );
    }
    // Aliases of every length.
    for n in (1..=110).step_by(5) {
        schemas.insert(
            format!("A{n}"),
            json!({ "type": "array", "items": { "type": "object", "additionalProperties": schema_ref(n) } }),
        );
    }
    // What the emitter leaves to prettyplease.
    schemas.insert(
        "Tagged".into(),
        json!({ "oneOf": [schema_ref(3), schema_ref(90)], "discriminator": { "propertyName": "kind" } }),
    );
    // A discriminated union with members of every length up to the widest tag the emitter
    // writes itself (tags are the members' names): arms whose pattern, `map` argument or
    // tag does not fit on its line.
    schemas.insert(
        "TaggedWide".into(),
        json!({ "oneOf": (30..=70).map(schema_ref).collect::<Vec<_>>(), "discriminator": { "propertyName": "kind" } }),
    );
    // Dotted tags of every width mapped to short members: variant names much shorter than
    // their tags, so an arm's pattern fits while its tag argument does not (up to the widest
    // tag the emitter writes itself).
    let dotted = |n: usize| -> String {
        let mut tag: String = std::iter::repeat_n("ab.", n / 3 + 1).collect();
        tag.truncate(n);
        tag
    };
    let mapping: serde_json::Map<String, Value> = (40..=70)
        .map(|n| {
            (
                dotted(n),
                json!(format!("#/components/schemas/{}", name('T', n - 39))),
            )
        })
        .collect();
    schemas.insert(
        "TaggedDotted".into(),
        json!({
            "oneOf": (1..=31).map(schema_ref).collect::<Vec<_>>(),
            "discriminator": { "propertyName": "event", "mapping": mapping },
        }),
    );
    schemas.insert(
        "Ints".into(),
        json!({ "type": "integer", "enum": [1, 2, 3, -4] }),
    );
    schemas.insert(
        "Tree".into(),
        json!({ "type": "array", "items": { "$ref": "#/components/schemas/Tree" } }),
    );
    schemas.insert(
        "Empty".into(),
        json!({ "type": "object", "additionalProperties": false }),
    );
    schemas.insert(
        "Nothing".into(),
        json!({ "type": "object", "properties": {} }),
    );

    let mut paths = serde_json::Map::new();
    for n in 1..=90 {
        let k = (n * 11) % 110 + 1;
        let mut responses = serde_json::Map::new();
        let json_body = |n: usize| json!({ "application/json": { "schema": schema_ref(n) } });
        responses.insert(
            "200".into(),
            json!({ "description": "OK\nsecond line", "content": json_body(k) }),
        );
        if n % 2 == 0 {
            responses.insert(
                "201".into(),
                json!({ "description": "Raw.", "content": { "text/plain": {} } }),
            );
        }
        if n % 3 == 0 {
            responses.insert("204".into(), json!({ "description": "Empty." }));
        }
        match n % 4 {
            0 => {
                responses.insert(
                    "4XX".into(),
                    json!({ "description": "Client.", "content": json_body(n) }),
                );
                responses.insert(
                    "default".into(),
                    json!({ "description": "Other.", "content": json_body(1) }),
                );
            }
            1 => {
                responses.insert(
                    "5XX".into(),
                    json!({ "description": "Server.", "content": { "text/plain": {} } }),
                );
                responses.insert("4XX".into(), json!({ "description": "Nothing." }));
            }
            2 => {
                responses.insert("default".into(), json!({ "description": "Other." }));
            }
            _ => {}
        }
        let mut op = json!({
            "operationId": name('o', n),
            "summary": format!("Operation {n}\nwith a second line"),
            "parameters": [
                { "name": name('q', n), "in": "query", "schema": { "type": "array", "items": schema_ref(k) } },
                { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
            ],
            "responses": responses,
        });
        if n % 2 == 1 {
            op["requestBody"] =
                json!({ "required": n % 4 == 1, "content": json_body((n * 3) % 110 + 1) });
        }
        if n % 10 == 0 {
            op["deprecated"] = json!(true);
        }
        paths.insert(format!("/{}/{{id}}", name('p', n)), json!({ "post": op }));
    }
    json!({
        "openapi": "3.0.3",
        "info": { "title": "Widths", "version": "1" },
        "paths": paths,
        "components": { "schemas": schemas },
    })
}

#[test]
fn names_and_types_of_every_length_are_laid_out_as_prettyplease_does() {
    let text = serde_json::to_string_pretty(&synthetic_spec()).unwrap();
    let size = assert_laid_out("synthetic-widths.json", &text, true);
    assert!(
        size > 300_000,
        "the synthetic spec generates only {size} bytes"
    );
}

#[test]
fn corpus_is_laid_out_as_prettyplease_does() {
    if std::env::var_os("CODEGEN_LAYOUT_CORPUS").is_none() {
        println!("layout corpus: skipped (set CODEGEN_LAYOUT_CORPUS=1)");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    let mut count = 0;
    let mut paths = files(&dir);
    // The gathered OpenAPI 3.1 documents too, when present.
    if let Some(gathered) = super::corpus::corpus_3_1_dir() {
        paths.extend(files(&gathered));
    }
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let json = path.extension().is_some_and(|e| e == "json");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if assert_laid_out(&name, &text, json) > 0 {
            count += 1;
        }
    }
    println!(
        "layout corpus: {count} documents generated, each a fixed point of prettyplease for both enum policies"
    );
    assert!(count > 0, "no corpus at {}", dir.display());
}
