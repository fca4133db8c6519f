//! The `conformance lint` and `convert` commands: exit codes and output on good, bad and unreadable specs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn conformance(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh scratch directory under the target dir (never the user's files).
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn embedded_specs_lint_clean_with_exit_0() {
    let (code, stdout, _) = conformance(&["lint"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("spec/chargily-pay-v2.yaml: ok: 27 operations"),
        "{stdout}"
    );
    assert!(
        stdout.contains("spec/recharge-2021-01.yaml: ok: 5 operations"),
        "{stdout}"
    );
}

#[test]
fn a_planted_error_exits_1_and_names_the_pointer() {
    let file = scratch("lint-planted").join("bad.yaml");
    let spec = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/chargily-pay-v2.yaml"),
    )
    .unwrap();
    // Break the canonical Checkout example: `amount` becomes a string.
    let broken = spec.replacen("amount: 2500", "amount: \"2500\"", 1);
    assert_ne!(
        broken, spec,
        "the canonical example moved; update this test"
    );
    std::fs::write(&file, broken).unwrap();
    let (code, stdout, _) = conformance(&["lint", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("[invalid-example]"), "{stdout}");
    assert!(
        stdout.contains("at /amount: \"2500\" is not of type \"integer\""),
        "{stdout}"
    );
    let (code, stdout, _) = conformance(&["lint", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("json output");
    assert_eq!(json[0]["report"]["findings"][0]["rule"], "invalid-example");
}

#[test]
fn unreadable_or_malformed_input_exits_2_with_location() {
    let (code, _, stderr) = conformance(&["lint", "/nonexistent/spec.yaml"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("/nonexistent/spec.yaml: cannot read"),
        "{stderr}"
    );
    let dir = scratch("lint-malformed");
    let file = dir.join("broken.yaml");
    std::fs::write(&file, "openapi: 3.0.3\npaths:\n  /a: [\n").unwrap();
    let (code, _, stderr) = conformance(&["lint", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("broken.yaml:4:"), "{stderr}");
    let swagger = dir.join("swagger.json");
    std::fs::write(&swagger, r#"{"swagger": "2.0", "paths": {}}"#).unwrap();
    let (code, _, stderr) = conformance(&["lint", swagger.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("Swagger 2.0"), "{stderr}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, stderr) = conformance(&["lint", "--no-such-flag"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, _) = conformance(&["no-such-command"]);
    assert_eq!(code, 2);
}

#[test]
fn openapi_3_1_documents_are_linted_as_json_schema_2020_12() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../oas/tests/fixtures/lint");
    let clean = fixtures.join("clean--openapi-3-1.yaml");
    let (code, stdout, stderr) = conformance(&["lint", clean.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("ok: 1 operations, 7 examples validated, 0 findings"),
        "{stdout}"
    );
    // The same keywords broken: a const, a tuple's closed tail, a numeric exclusive bound, a
    // reference's sibling (which 3.0 would ignore), a schema's `examples` list.
    let broken = fixtures.join("invalid-example--openapi-3-1.yaml");
    let (code, stdout, _) = conformance(&["lint", "--format", "json", broken.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let text = report.to_string();
    for keyword in ["/const", "/exclusiveMinimum", "/items", "/amount/maximum"] {
        assert!(text.contains(keyword), "{keyword} not reported: {stdout}");
    }
}

#[test]
fn convert_writes_the_3_1_spec_and_refuses_bad_input_with_exit_2() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = scratch("convert");
    let out = dir.join("recharge.yaml");
    let (code, _, stderr) = conformance(&[
        "convert",
        "--to",
        "3.1",
        root.join("spec/recharge-2021-01.yaml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("\nopenapi: 3.1.0\n"), "{written}");
    // The converted file lints clean, and converting it again is refused: it is 3.1 already.
    let (code, stdout, _) = conformance(&["lint", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    let (code, _, stderr) = conformance(&["convert", "--to", "3.1", out.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("already OpenAPI 3.1.0"), "{stderr}");
    let (code, _, stderr) = conformance(&["convert", "--to", "3.1", "absent.yaml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("absent.yaml"), "{stderr}");
    let (code, _, _) = conformance(&["convert", "--to", "2.0", out.to_str().unwrap()]);
    assert_eq!(code, 2);
}
