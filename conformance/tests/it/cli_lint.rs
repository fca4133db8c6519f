//! The `conformance lint` command: exit codes and output on good, bad and unreadable specs.

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
