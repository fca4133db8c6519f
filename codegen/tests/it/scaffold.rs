//! `cargo codegen scaffold`: the crate it writes builds without a warning, serves over real
//! HTTP on loopback (the generated router on the generated hyper service), answers each
//! operation as not implemented, and a second scaffold never overwrites the vendor's files.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::corpus::{scratch_cargo, scratch_workspace};

/// A raw HTTP/1.1 exchange: the status and the whole response text.
fn exchange(addr: &str, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[test]
fn a_scaffold_builds_serves_every_operation_as_not_implemented_and_keeps_the_vendors_files() {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let root = tmp.join("codegen-scaffold");
    // Shares compiled dependencies with the corpus and features tests.
    let target = tmp.join("codegen-corpus-target");
    let _ = std::fs::remove_dir_all(root.join("crates"));
    scratch_workspace(
        &root,
        &["fixture-server"],
        "codegen/tests/it/scaffold.rs: one scaffolded crate",
    );
    let dir = root.join("crates").join("fixture-server");
    let spec = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/client-server.yaml"
    );
    let scaffold = || {
        Command::new(env!("CARGO_BIN_EXE_codegen"))
            .args(["scaffold", spec, "--out"])
            .arg(&dir)
            .output()
            .unwrap()
    };
    let first = scaffold();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
    assert_eq!(
        main.matches("    async fn ").count(),
        18,
        "one method per operation"
    );

    // The vendor's files are never overwritten.
    std::fs::write(dir.join("src/main.rs"), format!("{main}// mine\n")).unwrap();
    let again = scaffold();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Cargo.toml exists"), "{stderr}");
    assert!(
        std::fs::read_to_string(dir.join("src/main.rs"))
            .unwrap()
            .ends_with("// mine\n")
    );

    let built = scratch_cargo(
        &root,
        &target,
        &[
            "build",
            "--offline",
            "-p",
            "fixture-server",
            "--message-format",
            "short",
        ],
    );
    let stderr = String::from_utf8_lossy(&built.stderr);
    assert!(built.status.success(), "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert!(warnings.is_empty(), "{warnings:#?}");

    let mut server = Server(
        Command::new(target.join("debug").join("fixture-server"))
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .to_owned();

    let (status, text) = exchange(
        &addr,
        "GET /v1/items?limit=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 501, "{text}");
    assert!(
        text.contains(r#""message":"listItems is not implemented""#),
        "{text}"
    );
    let body = r#"{"name": "pen", "price": 3}"#;
    let (status, text) = exchange(
        &addr,
        &format!(
            "POST /v1/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(status, 501, "{text}");
    // The router still refuses before an operation is reached.
    let (status, text) = exchange(
        &addr,
        "PATCH /v1/items/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 405, "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("allow: get, put, delete"),
        "{text}"
    );
    let (status, text) = exchange(
        &addr,
        "GET /v1/items?limit=ten HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 422, "{text}");
    // The router serves below the path of the spec's first server, and nothing outside it.
    assert!(
        main.contains(r#"router.base_path = "/v1".to_owned();"#),
        "{main}"
    );
    let (status, text) = exchange(
        &addr,
        "GET /items HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 404, "{text}");
    let (status, text) = exchange(
        &addr,
        "GET /v1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 501, "{text}");
}

#[test]
fn a_scaffold_serves_below_the_path_of_the_first_server() {
    for (url, base) in [
        ("https://api.example.com/v1", "/v1"),
        ("https://api.example.com/v1/", "/v1"),
        ("https://api.example.com", ""),
        ("https://api.example.com/", ""),
        ("/api/v2?x=1", "/api/v2"),
        ("http://localhost:8080/a/{version}/b", "/a"),
        ("{scheme}://{host}/v3", "/v3"),
    ] {
        assert_eq!(codegen::base_path(url), base, "{url}");
    }
}

/// The scaffold's process, stopped when the test ends, failed or not.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
