//! Golden fixtures: each `fixtures/*.yaml` is the smallest spec showing one mapping; its
//! generated code is an insta snapshot. The same fixtures are compiled and exercised by the
//! `codegen-fixtures` crate (generated from its build script).

/// The settings a fixture is generated with: its file name selects the enum policy, whether
/// a client is generated (`client` in the name: the portable one), and whether its operations
/// are behind cargo features per tag (`features`), and whether a server is generated
/// (`server`). Shared with
/// `codegen-fixtures/build.rs`, which must agree.
fn settings(path: &std::path::Path) -> codegen::Settings {
    let name = path.file_name().unwrap().to_string_lossy();
    codegen::Settings {
        unknown_enum: if name.contains("catch-all") {
            codegen::UnknownEnum::CatchAll
        } else {
            codegen::UnknownEnum::Reject
        },
        client: if name.contains("client") {
            codegen::ClientCode::Portable
        } else {
            codegen::ClientCode::None
        },
        features: if name.contains("features") {
            codegen::Features::PerTag {
                prefix: String::new(),
            }
        } else {
            codegen::Features::None
        },
        server: name.contains("server"),
    }
}

#[test]
fn fixtures_match_their_snapshots() {
    insta::glob!("../fixtures", "*.yaml", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = format!("fixtures/{}", path.file_name().unwrap().to_string_lossy());
        let code = codegen::generate(&name, &text, false, &settings(path))
            .unwrap_or_else(|e| panic!("{e}"));
        insta::assert_snapshot!(code);
    });
}

/// JSON Schema 2020-12 keywords without a type mapping degrade to `serde_json::Value` with
/// one warning per cause, naming how many schemas and the first one's pointer; so does a
/// `prefixItems` without a position an array can have (any other is a tuple).
#[test]
fn untyped_keywords_are_one_warning_per_cause() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let warnings = |file: &str| {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        codegen::generate_timed(file, &text, false, &codegen::Settings::default())
            .unwrap()
            .1
            .warnings
    };
    let untyped = warnings("untyped-3-1.yaml");
    let expected = [
        (
            "`$dynamicRef` alone",
            "1 schema, the first at #/components/schemas/Dynamic",
        ),
        (
            "`if`, `then` alone",
            "2 schemas, the first at #/components/schemas/Conditional",
        ),
        (
            "`patternProperties` alone",
            "1 schema, the first at #/components/schemas/Labels",
        ),
        (
            "`prefixItems` with no position an array can have",
            "1 schema, the first at #/components/schemas/Nothing",
        ),
    ];
    assert_eq!(untyped.len(), expected.len(), "{untyped:#?}");
    for (warning, (start, count)) in untyped.iter().zip(expected) {
        assert!(
            warning.starts_with(start) && warning.contains(count),
            "{warning}"
        );
    }
    // `Shaped` has properties of its own: its `dependentSchemas` adds no warning; open tuples
    // are types.
    for typed in ["refs-3-1.yaml", "tuples-3-1.yaml", "types-3-1.yaml"] {
        assert!(
            warnings(typed).is_empty(),
            "{typed}: {:#?}",
            warnings(typed)
        );
    }
}
