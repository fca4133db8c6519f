//! Replay judges a shared, long-lived, pre-filled target correctly.
//!
//! One real `conformance mock` process, filled with 10,000 objects of every kind before the
//! first scenario (`--preload`), gets every shipped scenario several times in a row: with one
//! job and with 32, directly and through a plain forwarding proxy. Every verdict must be
//! "pass" (it is the reference). Every planted bug is reported with the same rules at the same
//! pointers on a pre-filled mock as on a fresh one. A target whose ids need percent-encoding
//! is addressed correctly.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conformance::mock::{MockConfig, MockServer, PLANTED_HEADER, PlantedBug};
use conformance::recording::{self, Loaded};
use conformance::replay::{self, Options, RunReport, Target};
use conformance::specs::Api;
use oas::check::Profile;
use serde_json::{Value, json};
use support::proxy::Proxy;

/// Objects of every kind in the store before the first scenario.
const PRELOAD: usize = 10_000;

/// The real binary, killed when dropped.
struct MockProcess {
    child: Child,
    origin: String,
}

impl MockProcess {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_conformance"))
            .args(["mock", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut origin = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(url) = line.strip_prefix("mock controls:") {
                origin = url.trim().strip_suffix("/_mock").map(str::to_string);
                break;
            }
        }
        let origin = origin.expect("the mock printed its URLs");
        // Keep draining stdout so the process never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, origin }
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn targets(origin: &str) -> BTreeMap<Api, Target> {
    let control = Some(format!("{origin}/_mock"));
    BTreeMap::from([
        (
            Api::Chargily,
            Target::Url {
                base: format!("{origin}/chargily/test/api/v2"),
                control: control.clone(),
            },
        ),
        (
            Api::Recharge,
            Target::Url {
                base: format!("{origin}/recharge"),
                control,
            },
        ),
    ])
}

fn load(dir: &std::path::Path) -> Vec<Loaded> {
    recording::discover(dir)
        .unwrap()
        .iter()
        .map(|p| recording::load(p).unwrap())
        .collect()
}

fn run(scenarios: Vec<Loaded>, options: &Options) -> RunReport {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(300), replay::run(scenarios, options)).await
        })
        .expect("the runner hung")
}

fn failures(report: &RunReport) -> Vec<String> {
    let mut out = Vec::new();
    for s in &report.scenarios {
        if let Some(e) = &s.error {
            out.push(format!("{}: error {e}", s.name));
        }
        if let Some(why) = &s.skipped {
            out.push(format!("{}: skipped {why}", s.name));
        }
        for e in &s.exchanges {
            for v in &e.violations {
                out.push(format!(
                    "{} #{} {} {}: [{}] at {}: expected {} got {}",
                    s.name,
                    e.index,
                    e.method,
                    e.path,
                    v.rule,
                    v.instance_pointer,
                    v.expected,
                    v.actual
                ));
            }
            if let Some(why) = &e.skipped {
                out.push(format!("{} #{}: skipped {why}", s.name, e.index));
            }
        }
    }
    out
}

/// How many objects a Chargily list says the target holds.
fn total(origin: &str, collection: &str) -> i64 {
    let addr = origin.trim_start_matches("http://").parse().unwrap();
    let r = support::request(
        addr,
        "GET",
        &format!("/chargily/test/api/v2/{collection}?per_page=1"),
        &[support::CHARGILY_AUTH],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["total"].as_i64().unwrap()
}

#[test]
fn every_shipped_scenario_passes_repeatedly_on_one_prefilled_mock_directly_and_through_a_proxy() {
    let preload = PRELOAD.to_string();
    // ReCharge's bucket drains 20 calls a second instead of 2, so that every ReCharge
    // scenario of five runs fits in seconds; the rate-limit scenario still fills it.
    let mock = MockProcess::start(&[
        "--preload",
        &preload,
        "--clock",
        "fixed",
        "--seed",
        "7",
        "--recharge-drain-per-second",
        "20",
        // Two charges sent together must overlap however loaded the machine is.
        "--charge-delay-ms",
        "1000",
    ]);
    for collection in [
        "checkouts",
        "customers",
        "products",
        "prices",
        "payment-links",
    ] {
        assert!(
            total(&mock.origin, collection) >= PRELOAD as i64,
            "{collection} not preloaded"
        );
    }
    let proxy = Proxy::start(&mock.origin);
    let shipped = load(&replay::shipped_recordings_dir());
    let expected_exchanges: usize = shipped
        .iter()
        .map(|s| {
            s.recording
                .exchanges
                .iter()
                .filter(|e| e.flagged.is_none())
                .count()
        })
        .sum();
    assert!(expected_exchanges >= 400);
    let mut summary = Vec::new();
    for (route, origin, jobs) in [
        ("direct", mock.origin.clone(), 1),
        ("direct", mock.origin.clone(), 32),
        ("direct", mock.origin.clone(), 32),
        ("proxy", proxy.origin(), 1),
        ("proxy", proxy.origin(), 32),
    ] {
        let options = Options {
            jobs,
            targets: targets(&origin),
            // 32 parallel scenarios share ReCharge's bucket: a 429 the recording did not have
            // is waited out (1 s each), up to ten times, rather than three.
            rate_limit_retries: 10,
            keep_live: false,
            ..Options::default()
        };
        let report = run(shipped.clone(), &options);
        let t = report.totals();
        let fails = failures(&report);
        assert!(
            fails.is_empty(),
            "{route}, jobs {jobs}:\n{}",
            fails.join("\n")
        );
        assert_eq!(
            (t.exchanges, t.passed, t.failed, t.skipped, t.errors),
            (expected_exchanges, expected_exchanges, 0, 0, 0),
            "{route}, jobs {jobs}: {t:?}"
        );
        assert_eq!(report.exit_code(), 0);
        summary.push(format!(
            "{route}, jobs {jobs}: {} exchanges passed in {:.0} ms",
            t.passed, report.elapsed_ms
        ));
    }
    assert!(proxy.forwarded() >= 2 * expected_exchanges as u64);
    // The scenarios' own objects came on top of the preloaded ones.
    assert!(total(&mock.origin, "products") > PRELOAD as i64);
    eprintln!("{}", summary.join("\n"));
}

/// Every violation of a run as (scenario, exchange, rule, pointer).
fn findings(report: &RunReport) -> BTreeSet<(String, usize, String, String)> {
    let mut out = BTreeSet::new();
    for s in &report.scenarios {
        // A planted connection bug stops the scenario (and a target that then answers nothing
        // stops the run): that it did is itself a finding to compare.
        if s.error.is_some() {
            out.insert((
                s.name.clone(),
                usize::MAX,
                "scenario-error".into(),
                String::new(),
            ));
        }
        for e in &s.exchanges {
            for v in &e.violations {
                out.insert((
                    s.name.clone(),
                    e.index,
                    v.rule.name().to_owned(),
                    v.instance_pointer.to_ascii_lowercase(),
                ));
            }
        }
    }
    out
}

#[test]
fn every_planted_bug_is_reported_alike_on_a_prefilled_mock_and_a_fresh_one() {
    let fixtures = load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replay"));
    let against = |bug: PlantedBug, preload: usize, jobs: usize| {
        let mut config = MockConfig::for_tests();
        config.planted = Some(bug);
        config.preload = preload;
        // Not the recordings' seed: on the fresh mock too every id is rebound (a planted bug
        // that breaks an id must not be hidden by the live id happening to equal the recorded).
        config.seed = Some(2);
        let server = MockServer::start(config).unwrap();
        let options = Options {
            profile: Profile::Strict,
            jobs,
            timeout: Duration::from_millis(700),
            targets: targets(&server.origin()),
            ..Options::default()
        };
        // Twice on the pre-filled one: the second run meets the first run's objects too.
        let first = run(fixtures.clone(), &options);
        let second = (preload > 0).then(|| run(fixtures.clone(), &options));
        (first, second)
    };
    let mut summary = Vec::new();
    for bug in PlantedBug::ALL {
        let (fresh, _) = against(bug, 0, 1);
        let fresh_exit = fresh.exit_code();
        let fresh = findings(&fresh);
        assert!(!fresh.is_empty(), "{bug:?} caught nothing on a fresh mock");
        let (first, second) = against(bug, PRELOAD, 32);
        for report in [first, second.unwrap()] {
            assert_eq!(report.exit_code(), fresh_exit, "{bug:?}");
            assert!(
                fresh_exit == 1 || fresh_exit == 2,
                "{bug:?}: exit {fresh_exit}"
            );
            assert_eq!(findings(&report), fresh, "{bug:?}: pre-filled vs fresh");
            // And what the mock announced it planted is among them, at its pointer.
            for e in report.scenarios.iter().flat_map(|s| &s.exchanges) {
                let announced = e.live.as_ref().and_then(|(_, resp)| {
                    resp.headers
                        .get(PLANTED_HEADER)
                        .map(|v| v.split_once(' ').map_or("", |(_, t)| t).to_string())
                });
                if let Some(at) = announced {
                    let want = if at.is_empty() || at.starts_with('/') || at == "status" {
                        at
                    } else {
                        format!("header:{at}")
                    };
                    assert!(
                        e.violations
                            .iter()
                            .any(|v| v.instance_pointer.eq_ignore_ascii_case(&want)),
                        "{bug:?}: nothing at `{want}` for {} {}: {:?}",
                        e.method,
                        e.path,
                        e.violations
                    );
                }
            }
        }
        summary.push(format!("{bug:?}: {} findings alike", fresh.len()));
    }
    eprintln!("{}", summary.join("\n"));
}

/// A Chargily-shaped target whose customer ids hold ` `, `/`, `?`, `#`, `%`, `&` and `=`;
/// it answers a retrieve only when the path addresses the id exactly (percent-encoded).
struct WeirdIds {
    origin: String,
    paths: Arc<Mutex<Vec<String>>>,
}

const WEIRD_ID: &str = "cus a/b?c#d%e&f=g";

fn customer(id: &str) -> Value {
    json!({"id": id, "entity": "customer", "livemode": false, "name": "Amina Haddad",
           "email": "amina@example.dz", "phone": null, "address": null, "metadata": [],
           "created_at": 1703144567, "updated_at": 1703144567})
}

impl WeirdIds {
    fn start() -> Self {
        let paths = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&paths);
        let origin = format!(
            "http://{}",
            support::listen(move |stream| serve(stream, &seen))
        );
        Self { origin, paths }
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut length = 0;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h == "\r\n" {
                break;
            }
            if let Some((n, v)) = h.split_once(':')
                && n.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        seen.lock().unwrap().push(format!("{method} {target}"));
        let encoded = "cus%20a%2Fb%3Fc%23d%25e%26f%3Dg";
        let (status, body) = match (method.as_str(), target.as_str()) {
            ("POST", "/customers") => (200, customer(WEIRD_ID)),
            ("GET", t) if t == format!("/customers/{encoded}") => (200, customer(WEIRD_ID)),
            _ => (404, json!({"message": "not found"})),
        };
        let body = body.to_string();
        let reason = if status == 200 { "OK" } else { "Not Found" };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        if out.write_all(head.as_bytes()).is_err() || out.write_all(body.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn ids_that_need_percent_encoding_address_the_right_object() {
    let target = WeirdIds::start();
    let dir = support::temp_dir("replay-weird-ids");
    std::fs::create_dir_all(dir.join("chargily")).unwrap();
    let recorded = customer("01hj5n7c6rd55fjt0tck9k0631");
    let scenario = json!({
        "format": "checkout-conformance-recording", "version": 1, "api": "chargily",
        "name": "weird-ids",
        "exchanges": [
            {"operation": "createCustomer",
             "request": {"method": "POST", "path": "/customers", "json": {"name": "Amina Haddad"}},
             "response": {"status": 200, "headers": {"content-type": "application/json"},
                          "json": recorded}},
            {"operation": "retrieveCustomer",
             "request": {"method": "GET", "path": "/customers/01hj5n7c6rd55fjt0tck9k0631"},
             "response": {"status": 200, "headers": {"content-type": "application/json"},
                          "json": recorded}}
        ]
    });
    let file = dir.join("chargily/weird-ids.yaml");
    std::fs::write(&file, serde_json::to_string_pretty(&scenario).unwrap()).unwrap();
    let options = Options {
        jobs: 1,
        targets: BTreeMap::from([(
            Api::Chargily,
            Target::Url {
                base: target.origin.clone(),
                control: None,
            },
        )]),
        ..Options::default()
    };
    let report = run(vec![recording::load(&file).unwrap()], &options);
    let fails = failures(&report);
    assert!(fails.is_empty(), "{}", fails.join("\n"));
    assert_eq!(report.totals().passed, 2);
    assert_eq!(
        *target.paths.lock().unwrap(),
        vec![
            "POST /customers".to_string(),
            "GET /customers/cus%20a%2Fb%3Fc%23d%25e%26f%3Dg".to_string()
        ]
    );
}
