//! The documents in `tests/hard-cases/` (see its README): each generates, and the output shows
//! the fix for what the real-world corpus found. `tests/it/corpus.rs` compiles them.

fn generate(name: &str) -> String {
    let path = format!("{}/tests/hard-cases/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    codegen::generate(
        &format!("hard-cases/{name}"),
        &text,
        false,
        &codegen::Settings::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn recursive_aliases_become_newtypes() {
    let code = generate("recursive-aliases.yaml");
    assert!(code.contains("pub struct Tree(pub Vec<Tree>);"), "{code}");
    // One newtype per cycle, at the alias that closes it.
    assert!(code.contains("pub type A = B;"), "{code}");
    assert!(code.contains("pub struct B(pub Vec<A>);"), "{code}");
    assert!(
        code.contains("pub struct Dict(pub std::collections::BTreeMap<String, Dict>);"),
        "{code}"
    );
    // Same JSON as the alias would have had.
    assert_eq!(code.matches("#[serde(transparent)]").count(), 3, "{code}");
    // A union is nominal already.
    assert!(code.contains("Array(Vec<Nested>)"), "{code}");
    // allOf including itself: the other part's properties, once.
    assert!(code.contains("pub struct SelfAll {"), "{code}");
    assert_eq!(code.matches("pub a: Option<String>,").count(), 1, "{code}");
}

#[test]
fn odd_names_get_distinct_valid_identifiers() {
    let code = generate("odd-names.yaml");
    // One parameter name in two locations: both qualified, so serde sees two wire names.
    for wire in [
        "query:Last-Event-ID",
        "header:Last-Event-ID",
        "path:id",
        "header:id",
    ] {
        assert!(
            code.contains(&format!("#[serde(rename = \"{wire}\")]")),
            "{wire}: {code}"
        );
    }
    assert!(
        code.contains("pub query_last_event_id: Option<String>,"),
        "{code}"
    );
    // A repeated operationId: two operation modules, one dispatch arm each.
    assert!(code.contains("pub mod get_events {"), "{code}");
    assert!(code.contains("pub mod get_events_2 {"), "{code}");
    assert_eq!(
        code.matches("get_events::Response::decode(status").count(),
        1,
        "{code}"
    );
    assert!(
        !code.contains("get_events_2::Response::decode(status"),
        "{code}"
    );
    assert!(
        code.contains(r#"pub const IDS: &[&str] = &["getEvents"];"#),
        "{code}"
    );
    // References into another schema are not component schemas.
    assert!(
        code.contains(
            r#"pub const NAMES: &[&str] = &["Item", "ItemId", "Other", "ünï", "日本", "Option"];"#
        ),
        "{code}"
    );
    // Non-ASCII letters are dropped, and a type name still starts with a capital.
    assert!(code.contains("pub type N = String;"), "{code}");
    assert!(code.contains("pub type Unnamed = String;"), "{code}");
    assert!(code.contains("pub ncd: Option<String>,"), "{code}");
}

#[test]
fn all_of_parts_keep_their_pointers() {
    let code = generate("all-of-parts.yaml");
    // additionalProperties declared in a later allOf part (it used to be looked up at the
    // parent's pointer: "schema not found").
    assert!(
        code.contains("pub additional_properties: std::collections::BTreeMap<String, FullValue>"),
        "{code}"
    );
    // allOf of annotation-only parts: any value, not an empty struct.
    assert!(
        code.contains("pub type FullValue = serde_json::Value;"),
        "{code}"
    );
    assert!(code.contains("#[serde(rename = \"$canEdit\")]"), "{code}");
}

#[test]
fn every_inline_keyword_combination_generates() {
    // Once `internal: inline schema produced a declaration`: the quick test of whether an
    // inline schema needs a declaration missed `allOf` beside an empty `properties` (C053) and
    // beside a `oneOf` of validation rules only (C063). The corpus test compiles the file.
    let code = generate("inline-keyword-combinations.yaml");
    assert_eq!(code.matches("pub type C").count(), 192, "{code}");
    // A declaration it missed still gets one ...
    assert!(code.contains("pub type C053 = Vec<C053Item>;"), "{code}");
    assert!(code.contains("pub struct C053Item {"), "{code}");
    // ... and `nullable` + `allOf: [$ref]` stays the nullable reference when the rest only
    // validates.
    assert!(code.contains("pub type C063 = Vec<Option<A>>;"), "{code}");
}

#[test]
fn constructs_of_real_specs_that_openapiv3_refuses_are_read() {
    // `security: [{oauth2: null}]` (a null scope list, read as empty) and integer keys inside
    // `x-` extensions, from real specs; from YAML and from JSON text (two paths of the check).
    let yaml = "openapi: 3.0.3
info: {title: t, version: '1'}
x-codes: {200: ok, 404: missing}
security: [{oauth2: null}]
paths:
  /a:
    get:
      operationId: a
      x-weights: {1: heavy, 2: [1, {3: x}]}
      security: [{oauth2: null}, {}]
      responses:
        '200': {description: ok}
components:
  securitySchemes:
    oauth2: {type: oauth2, flows: {clientCredentials: {tokenUrl: 'https://x/t', scopes: {}}}}
";
    let settings = codegen::Settings::default();
    codegen::generate("real.yaml", yaml, false, &settings).unwrap_or_else(|e| panic!("{e}"));
    let json = serde_json::to_string(&oas::Document::parse("real.yaml", yaml, false).unwrap().root)
        .unwrap();
    codegen::generate("real.json", &json, true, &settings).unwrap_or_else(|e| panic!("{e}"));
    // A scope list of the wrong type is still refused.
    let bad = yaml.replace("[{oauth2: null}, {}]", "[{oauth2: 7}]");
    let err = codegen::generate("bad.yaml", &bad, false, &settings).unwrap_err();
    assert!(err.to_string().contains("expected a sequence"), "{err}");
}

#[test]
fn real_spec_constructs_generate_from_yaml_and_json_with_the_same_warnings() {
    // Integer keys in `x-` extensions, null scope lists and integers beyond 64 bits; both files
    // are also compiled by `tests/it/corpus.rs`.
    let mut warnings = Vec::new();
    for name in ["real-spec-constructs.yaml", "real-spec-constructs.json"] {
        let path = format!("{}/tests/hard-cases/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let (code, timings) = codegen::generate_timed(
            name,
            &text,
            name.ends_with(".json"),
            &codegen::Settings::default(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(code.contains("pub struct Account"), "{code}");
        // The pointers, not the texts: YAML knows the literal, JSON only the number read.
        let mut at: Vec<String> = timings
            .warnings
            .iter()
            .map(|w| w.split(':').next().unwrap().to_owned())
            .collect();
        at.sort();
        warnings.push(at);
    }
    assert_eq!(
        warnings[0],
        [
            "/components/schemas/Account/properties/balance/example",
            "/components/schemas/Account/properties/balance/maximum",
            "/components/schemas/Account/properties/limits/x-limits/1",
            "/components/schemas/Account/properties/tier/enum/1",
            "/paths/~1accounts~1{id}/get/parameters/0/schema/minimum",
        ]
    );
    assert_eq!(warnings[0], warnings[1]);
}

#[test]
fn a_multi_file_spec_is_bundled_from_its_root() {
    // Files referring to each other (a chain, a cycle between two files, a name both the root
    // and a file use, a reference back into the root, a path item, a parameter and a response
    // from a file's `components`); `tests/it/corpus.rs` compiles the output.
    let dir = format!("{}/tests/hard-cases", env!("CARGO_MANIFEST_DIR"));
    let root = std::path::Path::new(&dir).join("multi-file.yaml");
    let code = codegen::generate_from_path(&root, &codegen::Settings::default())
        .unwrap_or_else(|e| panic!("{e}"));
    for wanted in [
        "pub struct Pet {",
        "pub struct Owner {",
        "pub enum Tag {",
        "pub struct Error {",
        // The file's `Error` is another schema than the root's: it gets its own name.
        "pub struct Error2 {",
        "pub id: Id,",
        "pub pets: Option<Vec<Pet>>,",
        "pub mod get_pet {",
    ] {
        assert!(code.contains(wanted), "{wanted} missing:\n{code}");
    }
    // The bundle is one document for every tool: the lint reads it clean.
    let doc = oas::Document::load(&root).unwrap_or_else(|e| panic!("{e}"));
    assert!(!oas::bundle::has_external_refs(&doc.root));
    let report = oas::lint(&doc);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    // What cannot be bundled is refused with the referring file and pointer.
    for (name, wanted) in [
        (
            "missing-file",
            "at /components/schemas/A: `$ref: nowhere.yaml#/A`:",
        ),
        (
            "url",
            "names a URL; only relative files are read, nothing is fetched",
        ),
        ("bad-pointer", "bad-pointer.yaml at /components/schemas/A:"),
        ("directory", "not a regular file"),
    ] {
        let path = std::path::Path::new(&dir).join(format!("multi-file/errors/{name}.yaml"));
        let err = codegen::generate_from_path(&path, &codegen::Settings::default()).unwrap_err();
        assert!(err.to_string().contains(wanted), "{name}: {err}");
    }
}

#[test]
fn what_rustc_cannot_compile_is_cut_to_json_types_with_warnings() {
    let path = format!(
        "{}/tests/hard-cases/limits.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let (code, timings) = codegen::generate_timed(
        "hard-cases/limits.yaml",
        &text,
        false,
        &codegen::Settings::default(),
    )
    .unwrap();
    assert!(
        code.contains("pub type Wide = serde_json::Map<String, serde_json::Value>;"),
        "{code}"
    );
    assert!(
        code.contains("pub type Chain06 = Vec<serde_json::Value>;"),
        "{code}"
    );
    assert!(code.contains("pub type Chain05 = Vec<Chain06>;"), "{code}");
    // 32 maps, then the rest as one JSON value.
    let deep = code
        .lines()
        .skip_while(|l| !l.starts_with("pub type Deep"))
        .take_while(|l| !l.ends_with(';'))
        .collect::<String>();
    assert_eq!(
        code.matches("std::collections::BTreeMap<").count(),
        32,
        "{deep}"
    );
    assert_eq!(timings.warnings.len(), 3, "{:?}", timings.warnings);
    assert!(
        timings
            .warnings
            .iter()
            .any(|w| w.starts_with("/components/schemas/Wide: 1001 properties")),
        "{:?}",
        timings.warnings
    );
}

/// A cycle of single-member unions (aliases once lowered) used as a parameter: the server's
/// description of how to read it (`SHAPES`) follows aliases, and must stop where they come
/// back on themselves (it recursed until the stack overflowed).
#[test]
fn a_cycle_of_aliases_in_a_parameter_is_read_as_json() {
    let spec = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - {name: a, in: query, schema: {$ref: "#/components/schemas/A"}}
      responses: {"204": {description: none}}
components:
  schemas:
    A: {anyOf: [{$ref: "#/components/schemas/B"}]}
    B: {anyOf: [{$ref: "#/components/schemas/A"}]}
"##;
    let settings = codegen::Settings {
        server: true,
        ..codegen::Settings::default()
    };
    let code =
        codegen::generate("cycle.yaml", spec, false, &settings).unwrap_or_else(|e| panic!("{e}"));
    assert!(code.contains("pub const SHAPES"), "{code}");
    let shapes = code.split("pub const SHAPES").nth(1).unwrap_or_default();
    let shapes = shapes.split("];").next().unwrap_or_default();
    assert!(shapes.contains("Shape::Json"), "{shapes}");
}
