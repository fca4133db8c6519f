//! `conformance record` and `conformance import-har` as users run them: exit codes, clear
//! errors with locations for malformed HAR files, and a proxy that survives whatever is sent
//! to it (garbage, oversized bodies, a dead upstream) without recording what did not happen.

use crate::support;
use crate::support::{temp_dir, text};

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conformance::mock::{MockConfig, PlantedBug};
use conformance::record::{Event, RecordConfig, Recorder};
use conformance::recording::{self, Auth};
use conformance::specs::Api;
use serde_json::{Value, json};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(args)
        .output()
        .unwrap()
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/har/chargily-devtools.har")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn record_usage_errors_exit_2() {
    let dir = temp_dir("record-usage");
    let out = dir.join("x.yaml");
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "record",
                "--api",
                "chargily",
                "--upstream",
                "http://127.0.0.1:1",
            ],
            "--out",
        ),
        (
            &[
                "record",
                "--api",
                "stripe",
                "--upstream",
                "http://h",
                "--out",
                s(&out),
            ],
            "stripe",
        ),
        (
            &[
                "record",
                "--api",
                "chargily",
                "--upstream",
                "https://pay.chargily.net/test/api/v2",
                "--out",
                s(&out),
            ],
            "https upstreams are not supported",
        ),
        (
            &[
                "record",
                "--api",
                "chargily",
                "--upstream",
                "localhost:8080",
                "--out",
                s(&out),
            ],
            "not an http:// URL",
        ),
        (
            &[
                "record",
                "--api",
                "chargily",
                "--upstream",
                "http://h",
                "--out",
                s(&dir),
            ],
            "is a folder",
        ),
        (
            &[
                "record",
                "--api",
                "chargily",
                "--upstream",
                "http://h",
                "--listen",
                "nope",
                "--out",
                s(&out),
            ],
            "--listen",
        ),
    ];
    for (args, expected) in cases {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(expected),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
    assert!(!out.exists());
}

#[test]
fn import_har_converts_a_devtools_export_that_then_replays() {
    let dir = temp_dir("import-ok");
    let out = dir.join("recordings/chargily/devtools.yaml");
    let o = run(&[
        "import-har",
        s(&fixture()),
        "--api",
        "chargily",
        "--out",
        s(&out),
        "--name",
        "devtools session",
    ]);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("kept 5 exchange(s); dropped 3 entries (2 not addressed to the chargily API, 1 without a response"),
        "{stderr}"
    );
    let written = std::fs::read_to_string(&out).unwrap();
    // The fixture's key, refused key, session cookies and referer are all gone.
    assert!(!written.contains("doNotRecord"), "{written}");
    assert!(!written.contains("shop.example/checkout"), "{written}");
    let loaded = recording::load(&out).unwrap();
    assert_eq!(loaded.name(), "devtools session");
    let ex = &loaded.recording.exchanges;
    // In start-time order, although the file lists them by URL and in three time zones.
    let order: Vec<(&str, &str)> = ex
        .iter()
        .map(|e| (e.request.method.as_str(), e.operation.as_deref().unwrap()))
        .collect();
    assert_eq!(
        order,
        [
            ("GET", "retrieveBalance"),
            ("POST", "createCheckout"),
            ("GET", "retrieveCheckout"),
            ("GET", "retrieveCheckout"),
            ("GET", "retrieveBalance")
        ]
    );
    // The base64 response body was decoded into JSON.
    assert_eq!(
        ex[1].response.body.json.as_ref().unwrap()["entity"],
        "checkout"
    );
    assert_eq!(ex[4].request.auth, Auth::Invalid);
    assert!(ex[..4].iter().all(|e| e.request.auth == Auth::Inject));
    // And it replays against the reference mock.
    let o = run(&["replay", "--recordings", s(&dir.join("recordings"))]);
    let (stdout, _) = support::exited(&o, 0);
    assert!(stdout.contains("5 passed"), "{stdout}");
}

#[test]
fn import_har_errors_say_where() {
    let dir = temp_dir("import-errors");
    let good: Value = serde_json::from_slice(&std::fs::read(fixture()).unwrap()).unwrap();
    let out = dir.join("out.yaml");
    let mut cases: Vec<(&str, Vec<u8>, String)> = vec![
        (
            "truncated.har",
            b"{\"log\": {\"entries\": [\n  {\"startedDateTime\": \"2024".to_vec(),
            "truncated.har:2:".into(),
        ),
        (
            "yaml.har",
            b"format: checkout-conformance-recording\n".to_vec(),
            "yaml.har:1:2: not valid JSON (a HAR file is JSON)".into(),
        ),
        (
            "nolog.har",
            b"{\"entries\": []}".to_vec(),
            "missing field `log`".into(),
        ),
    ];
    let mut missing_url = good.clone();
    missing_url["log"]["entries"][1]["request"]
        .as_object_mut()
        .unwrap()
        .remove("url");
    cases.push((
        "missing-url.har",
        serde_json::to_vec_pretty(&missing_url).unwrap(),
        "log.entries[1].request: missing field `url`".into(),
    ));
    let mut wrong_type = good.clone();
    wrong_type["log"]["entries"][2]["response"]["status"] = json!("200");
    cases.push((
        "status-string.har",
        serde_json::to_vec_pretty(&wrong_type).unwrap(),
        "log.entries[2].response.status: invalid type: string".into(),
    ));
    let mut bad_date = good.clone();
    bad_date["log"]["entries"][3]["startedDateTime"] = json!("last Tuesday");
    cases.push((
        "bad-date.har",
        serde_json::to_vec(&bad_date).unwrap(),
        "bad-date.har: log.entries[3].startedDateTime: `last Tuesday` is not an ISO 8601 date-time"
            .into(),
    ));
    let mut bad_base64 = good.clone();
    let entries = bad_base64["log"]["entries"].as_array_mut().unwrap();
    let post = entries
        .iter_mut()
        .find(|e| e["response"]["content"]["encoding"] == "base64")
        .unwrap();
    post["response"]["content"]["text"] = json!("not base64!");
    let index = bad_base64["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["response"]["content"]["text"] == "not base64!")
        .unwrap();
    cases.push((
        "bad-base64.har",
        serde_json::to_vec(&bad_base64).unwrap(),
        format!(
            "log.entries[{index}].response.content.text: `encoding: base64` but the text is not valid base64"
        ),
    ));
    for (name, bytes, expected) in &cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let o = run(&[
            "import-har",
            s(&path),
            "--api",
            "chargily",
            "--out",
            s(&out),
        ]);
        let stderr = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(expected.as_str()),
            "{name}: expected {expected:?} in {stderr}"
        );
        assert!(!out.exists(), "{name}: nothing is written on error");
    }

    // Valid, but nothing addresses the API: an input error, nothing written.
    let o = run(&[
        "import-har",
        s(&fixture()),
        "--api",
        "recharge",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("give --base"),
        "{}",
        text(&o.stderr)
    );
    assert!(!out.exists());
    // The same file with the API elsewhere, named by --base: nothing is under it.
    let o = run(&[
        "import-har",
        s(&fixture()),
        "--api",
        "chargily",
        "--base",
        "https://elsewhere.example/v2",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[
        "import-har",
        s(&fixture()),
        "--api",
        "chargily",
        "--base",
        "ftp://x",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("not an http(s) URL"));
    let o = run(&[
        "import-har",
        s(&dir.join("absent.har")),
        "--api",
        "chargily",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("absent.har: cannot read"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn import_har_with_an_explicit_base() {
    // The API served under a merchant's own prefix: found with --base only.
    let dir = temp_dir("import-base");
    let har = std::fs::read_to_string(fixture()).unwrap().replace(
        "https://pay.chargily.net/test/api/v2",
        "http://staging.shop.test/pay",
    );
    let path = dir.join("staging.har");
    std::fs::write(&path, har).unwrap();
    let out = dir.join("out.yaml");
    let o = run(&[
        "import-har",
        s(&path),
        "--api",
        "chargily",
        "--out",
        s(&out),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "no known base: {}",
        text(&o.stderr)
    );
    let o = run(&[
        "import-har",
        s(&path),
        "--api",
        "chargily",
        "--base",
        "http://staging.shop.test/pay/",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(recording::load(&out).unwrap().recording.exchanges.len(), 5);
}

fn collect_events() -> (conformance::record::EventSink, Arc<Mutex<Vec<Event>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    (
        Arc::new(move |e: &Event| sink.lock().unwrap().push(e.clone())),
        log,
    )
}

#[test]
fn a_dead_upstream_gets_502_and_nothing_is_recorded() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = temp_dir("record-dead");
    let out = dir.join("dead.yaml");
    let (sink, events) = collect_events();
    let proxy = Recorder::start(RecordConfig {
        on_event: Some(sink),
        ..RecordConfig::new(
            Api::Chargily,
            format!("http://127.0.0.1:{port}/api/v2"),
            &out,
        )
    })
    .unwrap();
    let r = support::request(
        proxy.addr(),
        "GET",
        "/balance",
        &[support::CHARGILY_AUTH],
        None,
    );
    assert_eq!(r.status, 502);
    assert_eq!(r.header("x-conformance-record"), Some("proxy-error"));
    assert!(r.text().contains("cannot connect"), "{}", r.text());
    let stats = proxy.stop();
    assert_eq!((stats.recorded, stats.not_recorded), (0, 1));
    assert!(matches!(
        events.lock().unwrap().as_slice(),
        [Event::NotRecorded { .. }]
    ));
    assert!(!out.exists(), "no exchange happened, so no file");

    // An upstream that accepts the request and never answers: 504 after the timeout.
    let silent = support::server_with(|m: &mut MockConfig| {
        m.planted = Some(PlantedBug::NeverAnswer);
    });
    let proxy = Recorder::start(RecordConfig {
        timeout: Duration::from_millis(300),
        ..RecordConfig::new(Api::Chargily, silent.chargily_test_url(), &out)
    })
    .unwrap();
    let r = support::request(
        proxy.addr(),
        "GET",
        "/balance",
        &[support::CHARGILY_AUTH],
        None,
    );
    assert_eq!(r.status, 504, "{}", r.text());
    assert!(
        r.text().contains("no response within 300 ms"),
        "{}",
        r.text()
    );
    assert_eq!(proxy.stop().recorded, 0);
    assert!(!out.exists());
}

/// An upstream response body past `max_body_bytes` is cut off: the client gets 502 and nothing
/// is recorded, instead of the recorder running out of memory.
#[test]
fn an_endless_upstream_body_gets_502_and_is_not_recorded() {
    let dir = temp_dir("record-endless");
    let out = dir.join("endless.yaml");
    let proxy = Recorder::start(RecordConfig {
        max_body_bytes: 1024 * 1024,
        ..RecordConfig::new(Api::Chargily, support::endless_body_server(), &out)
    })
    .unwrap();
    let r = support::request(
        proxy.addr(),
        "GET",
        "/balance",
        &[support::CHARGILY_AUTH],
        None,
    );
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.text().contains("exceeds 1048576 bytes"), "{}", r.text());
    let stats = proxy.stop();
    assert_eq!((stats.recorded, stats.not_recorded), (0, 1));
    assert!(!out.exists());
}

#[test]
fn garbage_oversized_and_odd_requests_do_not_stop_the_proxy() {
    let mock = support::server();
    let dir = temp_dir("record-garbage");
    let out = dir.join("odd.yaml");
    let (sink, events) = collect_events();
    let proxy = Recorder::start(RecordConfig {
        on_event: Some(sink),
        max_body_bytes: 1024,
        ..RecordConfig::new(Api::Chargily, mock.chargily_test_url(), &out)
    })
    .unwrap();
    let addr = proxy.addr();
    // Not HTTP at all: hyper's 400, connection closed.
    let reply = support::raw(addr, b"\x00\x01\x02 hello\r\n\r\n");
    assert!(
        reply.is_empty() || reply.starts_with(b"HTTP/1.1 400"),
        "{reply:?}"
    );
    // Too large: refused by the proxy itself, never forwarded.
    let big = vec![b'x'; 4096];
    let r = support::request(
        addr,
        "POST",
        "/products",
        &[support::CHARGILY_AUTH, ("Content-Type", "application/json")],
        Some(&big),
    );
    assert_eq!(r.status, 413);
    // A method the recording format cannot hold: forwarded and answered, not recorded.
    let r = support::request(addr, "BREW", "/balance", &[support::CHARGILY_AUTH], None);
    assert!(r.status >= 400, "{}", r.status);
    // Bodies that are not JSON, paths with odd bytes, a request without credentials.
    let r = support::request(
        addr,
        "POST",
        "/products",
        &[support::CHARGILY_AUTH, ("Content-Type", "application/json")],
        Some(b"{\"name\": "),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = support::request(
        addr,
        "GET",
        "/checkouts/%ff%00..%2F",
        &[support::CHARGILY_AUTH],
        None,
    );
    assert_eq!(r.status, 404, "{}", r.text());
    let r = support::request(addr, "GET", "/balance", &[], None);
    assert_eq!(r.status, 401);
    // Still serving.
    let r = support::request(addr, "GET", "/balance", &[support::CHARGILY_AUTH], None);
    assert_eq!(r.status, 200);
    let stats = proxy.stop();
    assert_eq!(stats.not_recorded, 2, "{:?}", events.lock().unwrap());
    assert_eq!(stats.recorded, 4);
    let loaded = recording::load(&out).unwrap();
    let ex = &loaded.recording.exchanges;
    assert_eq!(ex[0].request.body.text.as_deref(), Some("{\"name\": "));
    assert!(
        ex[0].flagged.is_none(),
        "malformed JSON to an operation is a test, not noise"
    );
    assert_eq!(ex[1].request.path, "/checkouts/%ff%00..%2F");
    assert_eq!(ex[2].request.auth, Auth::None);
    assert_eq!(ex[3].request.auth, Auth::Inject);
    let events = events.lock().unwrap();
    assert!(
        events.iter().any(|e| matches!(e,
            Event::Recorded { index: 0, invalid_body: Some(why), .. } if why.contains("not JSON"))),
        "{events:?}"
    );
}

/// `--out` naming the HAR file itself is refused with exit 2, and the HAR file is untouched.
#[test]
fn import_har_never_writes_over_its_input() {
    let dir = temp_dir("import-over-input");
    let har = dir.join("session.har");
    std::fs::copy(fixture(), &har).unwrap();
    let before = std::fs::read(&har).unwrap();
    let out = run(&["import-har", s(&har), "--api", "chargily", "--out", s(&har)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is the HAR file itself"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&har).unwrap(), before);
}
