//! `conformance mock`: prints the base URLs, serves them, honours --seed/--clock, the key flags
//! and --plant-bug, and refuses bad flags with exit code 2.

use crate::support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

struct Mock(Child);

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and returns it with the printed lines (name → URL).
fn start(args: &[&str]) -> (Mock, Vec<(String, String)>) {
    let child = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .arg("mock")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut mock = Mock(child);
    let mut lines = BufReader::new(mock.0.stdout.take().unwrap()).lines();
    let mut urls = Vec::new();
    for _ in 0..4 {
        let line = lines.next().unwrap().unwrap();
        let (name, url) = line.split_once(": ").unwrap();
        urls.push((name.trim().to_owned(), url.trim().to_owned()));
    }
    (mock, urls)
}

fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn prints_the_base_urls_and_serves_them() {
    let started = Instant::now();
    let (_mock, urls) = start(&["--seed", "5", "--clock", "fixed"]);
    let names: Vec<&str> = urls.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "chargily (live)",
            "chargily (test)",
            "recharge",
            "mock controls"
        ]
    );
    let addr = addr_of(&urls[0].1);
    assert_ne!(addr.port(), 0);
    assert_eq!(urls[0].1, format!("http://{addr}/chargily/api/v2"));
    assert_eq!(urls[1].1, format!("http://{addr}/chargily/test/api/v2"));
    assert_eq!(urls[2].1, format!("http://{addr}/recharge"));
    assert!(started.elapsed() < Duration::from_secs(10));

    let body = serde_json::to_vec(
        &json!({"amount": 2000, "currency": "dzd", "success_url": "https://a.test"}),
    )
    .unwrap();
    let r = support::request(
        addr,
        "POST",
        "/chargily/test/api/v2/checkouts",
        &[support::CHARGILY_AUTH, ("Content-Type", "application/json")],
        Some(&body),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let first = r.json();
    assert_eq!(first["created_at"], 1_703_144_567);
    let r = support::request(
        addr,
        "GET",
        "/recharge/checkouts/x",
        &[support::RECHARGE_AUTH],
        None,
    );
    assert_eq!(r.status, 404);

    // Same seed, same clock: same ids in a second process.
    let (_again, urls) = start(&["--seed", "5", "--clock", "fixed"]);
    let r = support::request(
        addr_of(&urls[0].1),
        "POST",
        "/chargily/test/api/v2/checkouts",
        &[support::CHARGILY_AUTH, ("Content-Type", "application/json")],
        Some(&body),
    );
    assert_eq!(r.json(), first);
}

#[test]
fn key_flags_change_the_accepted_credentials() {
    let (_mock, urls) = start(&[
        "--chargily-secret-key",
        "test_sk_flag",
        "--recharge-access-token",
        "rc_flag",
        "--no-rate-limit",
    ]);
    let addr = addr_of(&urls[0].1);
    let path = "/chargily/test/api/v2/balance";
    assert_eq!(
        support::request(addr, "GET", path, &[support::CHARGILY_AUTH], None).status,
        401
    );
    assert_eq!(
        support::request(
            addr,
            "GET",
            path,
            &[("Authorization", "Bearer test_sk_flag")],
            None
        )
        .status,
        200
    );
    let path = "/recharge/checkouts/x";
    assert_eq!(
        support::request(addr, "GET", path, &[support::RECHARGE_AUTH], None).status,
        401
    );
    // --no-rate-limit: more calls than the bucket holds, none refused.
    for _ in 0..41 {
        let r = support::request(
            addr,
            "GET",
            path,
            &[("X-Recharge-Access-Token", "rc_flag")],
            None,
        );
        assert_eq!(r.status, 404);
        assert_eq!(r.header("x-recharge-limit"), Some("1/40"));
    }
}

#[test]
fn plant_bug_breaks_vendor_responses_and_announces_it() {
    let (_mock, urls) = start(&["--plant-bug", "missing-header"]);
    let addr = addr_of(&urls[0].1);
    let body = br#"{"line_items": [{"variant_id": 1, "quantity": 1}]}"#;
    let r = support::request(
        addr,
        "POST",
        "/recharge/checkouts",
        &[support::RECHARGE_AUTH, ("Content-Type", "application/json")],
        Some(body),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-recharge-limit"), None);
    assert_eq!(
        r.header("x-mock-planted"),
        Some("missing-header x-recharge-limit")
    );
    let health = support::request(addr, "GET", "/_mock/health", &[], None);
    assert_eq!(health.header("x-mock-planted"), None);
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        vec!["mock", "--clock", "sundial"],
        vec!["mock", "--listen", "nowhere"],
        vec!["mock", "--seed", "-1"],
        vec!["mock", "--plant-bug", "typo"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_conformance"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // A port already in use is an input error too.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["mock", "--listen", &addr])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));
}
