//! The library a build script compiles carries none of the CLI's dependencies: they are
//! optional (the allocator too), behind the `cli` feature that the `codegen` binary requires.

use serde_json::Value;

#[test]
fn the_cli_dependencies_stay_behind_the_cli_feature() {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codegen = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "codegen")
        .unwrap();
    let cli_only = ["anyhow", "clap", "mimalloc"];
    for dep in codegen["dependencies"].as_array().unwrap() {
        let name = dep["name"].as_str().unwrap();
        if dep["kind"].is_null() && cli_only.contains(&name) {
            assert_eq!(dep["optional"], true, "{name} is compiled into the library");
        }
    }
    let cli: Vec<&str> = codegen["features"]["cli"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(cli, ["dep:anyhow", "dep:clap", "dep:mimalloc"]);
    let bin = codegen["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == serde_json::json!(["bin"]))
        .unwrap();
    assert_eq!(bin["required-features"], serde_json::json!(["cli"]));
}
