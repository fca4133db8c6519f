//! Golden fixtures: each `fixtures/*.yaml` is the smallest spec showing one mapping; its
//! generated code is an insta snapshot. The same fixtures are compiled and exercised by the
//! `codegen-fixtures` crate (generated from its build script).

/// The settings a fixture is generated with: its file name selects the enum policy. Shared
/// with `codegen-fixtures/build.rs`, which must agree.
fn settings(path: &std::path::Path) -> codegen::Settings {
    let catch_all = path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .contains("catch-all");
    codegen::Settings {
        unknown_enum: if catch_all {
            codegen::UnknownEnum::CatchAll
        } else {
            codegen::UnknownEnum::Reject
        },
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
