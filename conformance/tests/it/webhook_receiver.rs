//! `conformance webhooks check-receiver` against reference receivers written here: a correct
//! one per API (verifies the raw bytes, re-fetches the checkout from the API, fulfils once per
//! checkout, keeps the newest version) that passes every rule, and planted-bug variants, each
//! caught by the rule meant for it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conformance::mock::{ClockMode, MockServer};
use conformance::specs::Api;
use conformance::webhooks::{
    self, ApiTarget, Outcome, ReceiverCheck, ReceiverOptions, Report, Rule,
};
use serde_json::{Value, json};

use crate::support::{self, Received};

const CHARGILY_KEY: &str = "test_sk_conformance";
const RECHARGE_SECRET: &str = "conformance_client_secret";
const RECHARGE_TOKEN: &str = "conformance";

/// A mistake a real receiver makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bug {
    /// Skips verification when the signature header is missing.
    AcceptsUnsigned,
    /// Logs a signature mismatch and goes on.
    IgnoresMismatch,
    /// Verifies against its own compact re-serialisation of the body.
    ReserializedBody,
    /// Verifies with another secret (a test key in production).
    WrongSecret,
    /// Fulfils first, verifies after.
    FulfilsBeforeVerifying,
    /// Fulfils every delivery of a settled checkout.
    NoDedup,
    /// Checks "already fulfilled?" and records it apart, with work in between.
    RacyDedup,
    /// Keeps whatever version arrived last.
    RollsBack,
    /// Throws on an event type it does not know.
    FailsUnknownType,
    /// Does its work before answering, past the sender's timeout.
    Slow,
    /// Trusts the signed payload's status instead of re-fetching the checkout.
    TrustsPayload,
    /// Re-fetches the checkout but fulfils on the payload's status anyway.
    IgnoresFetch,
}

/// What the shop holds about one checkout.
#[derive(Debug, Clone, Default)]
struct Held {
    fulfilments: u64,
    updated_at: Value,
}

struct Shop {
    api: Api,
    secret: String,
    /// The API base URL and credential, to re-fetch checkouts.
    api_base: String,
    api_key: String,
    bug: Option<Bug>,
    held: Mutex<HashMap<String, Held>>,
}

impl Shop {
    fn has(&self, bug: Bug) -> bool {
        self.bug == Some(bug)
    }

    fn answer(&self, r: Received) -> support::Answer {
        let json_answer = |status: u16, v: Value| {
            (
                status,
                vec![("content-type".to_owned(), "application/json".to_owned())],
                v.to_string().into_bytes(),
            )
        };
        if r.method == "GET" && r.path.starts_with("/probe?checkout=") {
            let id = &r.path["/probe?checkout=".len()..];
            let held = self
                .held
                .lock()
                .unwrap()
                .get(id)
                .cloned()
                .unwrap_or_default();
            return json_answer(
                200,
                json!({"fulfilments": held.fulfilments, "updated_at": held.updated_at}),
            );
        }
        if r.method != "POST" || r.path != "/webhook" {
            return json_answer(404, json!({"error": "not found"}));
        }
        let Ok(event) = serde_json::from_slice::<Value>(&r.body) else {
            return json_answer(400, json!({"error": "not JSON"}));
        };
        let (kind, checkout) = match self.api {
            Api::Chargily => (
                event["type"].as_str().unwrap_or_default().to_owned(),
                event["data"].clone(),
            ),
            Api::Recharge => (
                r.header("x-recharge-topic").unwrap_or_default().to_owned(),
                event["checkout"].clone(),
            ),
        };
        let id = match self.api {
            Api::Chargily => checkout["id"].as_str(),
            Api::Recharge => checkout["token"].as_str(),
        }
        .unwrap_or_default()
        .to_owned();
        if self.has(Bug::FulfilsBeforeVerifying) && settled(self.api, &checkout) {
            self.fulfil_once(&id);
        }
        if let Err(status) = self.verify(&r) {
            return json_answer(status, json!({"error": "bad signature"}));
        }
        if self.has(Bug::Slow) {
            std::thread::sleep(Duration::from_millis(1500));
        }
        let known: &[&str] = match self.api {
            Api::Chargily => &[
                "checkout.paid",
                "checkout.failed",
                "checkout.canceled",
                "checkout.expired",
            ],
            Api::Recharge => &[
                "checkout/created",
                "checkout/updated",
                "checkout/processed",
                "checkout/completed",
            ],
        };
        if !known.contains(&kind.as_str()) {
            if self.has(Bug::FailsUnknownType) {
                return json_answer(500, json!({"error": format!("unknown event {kind}")}));
            }
            return json_answer(200, json!({"ignored": kind}));
        }
        // The API's word on the checkout, unless the bug trusts the payload.
        let truth = if self.has(Bug::TrustsPayload) || self.has(Bug::RollsBack) {
            checkout.clone()
        } else {
            match self.fetch(&id) {
                Some(c) => c,
                None => return json_answer(503, json!({"error": "cannot reach the API"})),
            }
        };
        let deciding = if self.has(Bug::IgnoresFetch) {
            &checkout
        } else {
            &truth
        };
        {
            let mut held = self.held.lock().unwrap();
            let h = held.entry(id.clone()).or_default();
            let newer = match (&h.updated_at, &truth["updated_at"]) {
                (Value::Null, _) => true,
                (old, new) => compare(new, old) == std::cmp::Ordering::Greater,
            };
            if newer || self.has(Bug::RollsBack) {
                h.updated_at = truth["updated_at"].clone();
            }
        }
        if settled(self.api, deciding) {
            if self.has(Bug::NoDedup) {
                self.held.lock().unwrap().entry(id).or_default().fulfilments += 1;
            } else if self.has(Bug::RacyDedup) {
                let done = self
                    .held
                    .lock()
                    .unwrap()
                    .get(&id)
                    .map_or(0, |h| h.fulfilments);
                if done == 0 {
                    std::thread::sleep(Duration::from_millis(100));
                    self.held.lock().unwrap().entry(id).or_default().fulfilments += 1;
                }
            } else {
                self.fulfil_once(&id);
            }
        }
        json_answer(200, json!({"ok": true}))
    }

    fn fulfil_once(&self, id: &str) {
        let mut held = self.held.lock().unwrap();
        let h = held.entry(id.to_owned()).or_default();
        if h.fulfilments == 0 {
            h.fulfilments = 1;
        }
    }

    /// Checks the signature the vendor's way (or the bug's), on the raw bytes.
    fn verify(&self, r: &Received) -> Result<(), u16> {
        let header = match self.api {
            Api::Chargily => "signature",
            Api::Recharge => "x-recharge-hmac-sha256",
        };
        if r.header(header).is_none() {
            return if self.has(Bug::AcceptsUnsigned) {
                Ok(())
            } else {
                Err(400)
            };
        }
        let secret = if self.has(Bug::WrongSecret) {
            format!("{}-staging", self.secret)
        } else {
            self.secret.clone()
        };
        let body = if self.has(Bug::ReserializedBody) {
            serde_json::to_vec(&serde_json::from_slice::<Value>(&r.body).unwrap()).unwrap()
        } else {
            r.body.clone()
        };
        let headers = r.headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes()));
        let ok = match self.api {
            Api::Chargily => generated::webhooks::chargily::verify(headers, &body, &secret).is_ok(),
            Api::Recharge => generated::webhooks::recharge::verify(headers, &body, &secret).is_ok(),
        };
        if ok || self.has(Bug::IgnoresMismatch) {
            Ok(())
        } else {
            Err(403)
        }
    }

    /// The checkout as the API has it (the object inside ReCharge's envelope).
    fn fetch(&self, id: &str) -> Option<Value> {
        let rest = self.api_base.strip_prefix("http://")?;
        let (host, base_path) = rest.split_once('/').unwrap_or((rest, ""));
        let addr: SocketAddr = host.parse().ok()?;
        // The API may be gone once a test ends while a slow delivery is still being handled.
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
        let path = format!("/{base_path}/checkouts/{id}");
        let auth = match self.api {
            Api::Chargily => ("Authorization", format!("Bearer {}", self.api_key)),
            Api::Recharge => ("X-Recharge-Access-Token", self.api_key.clone()),
        };
        let got = support::request(addr, "GET", &path, &[(auth.0, auth.1.as_str())], None);
        if got.status != 200 {
            return None;
        }
        let v = got.json();
        Some(match self.api {
            Api::Chargily => v,
            Api::Recharge => v["checkout"].clone(),
        })
    }
}

/// Paid (Chargily) or charged (ReCharge).
fn settled(api: Api, checkout: &Value) -> bool {
    match api {
        Api::Chargily => checkout["status"] == "paid",
        Api::Recharge => !checkout["completed_at"].is_null(),
    }
}

/// `updated_at` values: Unix seconds (Chargily) or RFC 3339 with a fixed offset (ReCharge).
fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a
            .as_str()
            .unwrap_or_default()
            .cmp(b.as_str().unwrap_or_default()),
    }
}

/// A mock with a system clock (ReCharge's versions differ by microseconds) and no rate limit
/// (the check and the shop share one token), and a shop receiving its webhooks; returns both
/// and the shop's base URL.
fn shop(api: Api, bug: Option<Bug>) -> (MockServer, String) {
    let mock = support::server_with(|c| {
        c.clock = ClockMode::System;
        c.recharge_rate_limit = false;
    });
    let (api_base, secret, key) = match api {
        Api::Chargily => (mock.chargily_test_url(), CHARGILY_KEY, CHARGILY_KEY),
        Api::Recharge => (mock.recharge_url(), RECHARGE_SECRET, RECHARGE_TOKEN),
    };
    let shop = Arc::new(Shop {
        api,
        secret: secret.to_owned(),
        api_base,
        api_key: key.to_owned(),
        bug,
        held: Mutex::new(HashMap::new()),
    });
    let addr = support::serve_http(move |r| shop.answer(r));
    (mock, format!("http://{addr}"))
}

fn check(api: Api, bug: Option<Bug>, probe: bool) -> Report {
    let (mock, shop) = shop(api, bug);
    let (base, secret, key) = match api {
        Api::Chargily => (mock.chargily_test_url(), CHARGILY_KEY, CHARGILY_KEY),
        Api::Recharge => (mock.recharge_url(), RECHARGE_SECRET, RECHARGE_TOKEN),
    };
    webhooks::check_receiver(ReceiverOptions {
        check: ReceiverCheck {
            api,
            url: format!("{shop}/webhook"),
            secret: secret.to_owned(),
            probe: probe.then(|| format!("{shop}/probe")),
            timeout: Duration::from_secs(1),
        },
        target: ApiTarget::Url(base),
        api_key: Some(key.to_owned()),
        ca_certs: Vec::new(),
    })
    .unwrap()
}

fn failed(report: &Report) -> Vec<Rule> {
    report
        .rules
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
        .map(|r| r.rule)
        .collect()
}

#[test]
fn a_correct_receiver_passes_every_rule_of_both_apis() {
    for api in [Api::Chargily, Api::Recharge] {
        let started = Instant::now();
        let report = check(api, None, true);
        let text = webhooks::human(&report);
        assert_eq!(report.rules.len(), Rule::RECEIVER.len(), "{text}");
        assert!(
            report.rules.iter().all(|r| r.outcome == Outcome::Passed),
            "{text}"
        );
        assert_eq!(report.exit_code(), 0);
        assert!(text.contains("checked against: "), "{text}");
        assert!(started.elapsed() < Duration::from_secs(30), "{text}");
    }
}

#[test]
fn without_a_probe_the_side_effect_rules_are_skipped_not_passed() {
    let report = check(Api::Chargily, None, false);
    let skipped: Vec<Rule> = report
        .rules
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Skipped(_)))
        .map(|r| r.rule)
        .collect();
    assert_eq!(
        skipped,
        [
            Rule::DuplicateProcessedOnce,
            Rule::ConcurrentDuplicateProcessedOnce,
            Rule::OutOfOrderKept,
            Rule::ReplayVerifiedByFetch,
        ]
    );
    let summary = webhooks::summary(&report);
    assert!(
        summary.starts_with("12 rules: 8 passed, 0 failed, 4 skipped"),
        "{summary}"
    );
}

#[test]
fn each_planted_receiver_bug_is_caught_by_its_rule() {
    use Rule::*;
    // The rules each bug must fail; `exact`: and no other (a bug whose effect spreads, such as
    // refusing every signature, fails the others for that one cause).
    let cases: &[(Bug, &[Rule], bool)] = &[
        (Bug::AcceptsUnsigned, &[UnsignedRefused], true),
        (
            Bug::IgnoresMismatch,
            &[
                WrongSignatureRefused,
                OtherSecretRefused,
                AlteredBodyRefused,
            ],
            true,
        ),
        (Bug::ReserializedBody, &[RawBytesVerified], true),
        (Bug::WrongSecret, &[SignedEventsAccepted], false),
        (
            Bug::FulfilsBeforeVerifying,
            // It also fulfils the forged settlement, on the payload's word.
            &[
                UnsignedRefused,
                WrongSignatureRefused,
                OtherSecretRefused,
                AlteredBodyRefused,
                ReplayVerifiedByFetch,
            ],
            true,
        ),
        (Bug::NoDedup, &[DuplicateProcessedOnce], false),
        (Bug::RacyDedup, &[ConcurrentDuplicateProcessedOnce], true),
        (
            Bug::RollsBack,
            &[OutOfOrderKept, ReplayVerifiedByFetch],
            true,
        ),
        (Bug::FailsUnknownType, &[UnknownEventAcknowledged], true),
        (Bug::Slow, &[AnswersInTime], false),
        (Bug::TrustsPayload, &[ReplayVerifiedByFetch], true),
        (Bug::IgnoresFetch, &[ReplayVerifiedByFetch], true),
    ];
    let mut missed = Vec::new();
    for api in [Api::Chargily, Api::Recharge] {
        for (bug, rules, exact) in cases {
            let report = check(api, Some(*bug), true);
            let failed = failed(&report);
            let caught = rules.iter().all(|r| failed.contains(r));
            let only = !exact || failed.len() == rules.len();
            if !caught || !only || report.exit_code() != 1 {
                missed.push(format!(
                    "{api:?} {bug:?}: expected {rules:?} to fail{}, failed {failed:?}\n{}",
                    if *exact { " and nothing else" } else { "" },
                    webhooks::human(&report)
                ));
            }
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

#[test]
fn a_receiver_that_refuses_every_signature_is_reported_as_one_cause() {
    let report = check(Api::Chargily, Some(Bug::WrongSecret), true);
    let cause = report.cause.clone().unwrap_or_default();
    assert!(cause.contains("refused with 403"), "{cause}");
    let text = webhooks::human(&report);
    assert!(
        text.lines()
            .nth(3)
            .unwrap_or_default()
            .starts_with("cause: "),
        "{text}"
    ); // The rules it fails are named once, not detailed again.
    let collapsed = text
        .lines()
        .filter(|l| l.ends_with("(the cause above)"))
        .count();
    assert_eq!(collapsed, 5, "{text}");
}

#[test]
fn every_event_sent_validates_against_the_spec_callback() {
    // The events of a correct run, rebuilt the same way, validate against the callbacks'
    // request bodies: what a receiver is tested with is what the spec says the vendor sends.
    for api in [Api::Chargily, Api::Recharge] {
        let mock = support::server_with(|c| c.clock = ClockMode::System);
        let (base, key) = match api {
            Api::Chargily => (mock.chargily_test_url(), CHARGILY_KEY),
            Api::Recharge => (mock.recharge_url(), RECHARGE_TOKEN),
        };
        let tls = conformance::replay::client::tls_config(&[]).unwrap();
        let client = conformance::replay::client::Client::new(Duration::from_secs(5), tls, 1 << 20);
        let driver = webhooks::api::Driver::new(api, client, &base, key).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let events = runtime.block_on(async {
            let mut all = driver.every_documented_event().await.unwrap();
            all.push(driver.settled().await.unwrap());
            all
        });
        // The callbacks' request body schemas (`receiveCheckoutEvent`, `receiveCheckoutWebhook`).
        let root = api.document().unwrap().root;
        let at = api.webhook_callback().1;
        let validator =
            oas::schema::SchemaValidator::compile(&root, at, oas::schema::Direction::Request)
                .unwrap();
        for e in &events {
            let body: Value = serde_json::from_slice(&e.body).unwrap();
            let violations = validator.validate(&body);
            assert!(violations.is_empty(), "{api:?} {}: {violations:?}", e.kind);
        }
        assert_eq!(events.len(), 5);
    }
}

#[test]
fn the_cli_exits_2_at_once_when_nobody_listens_and_1_on_a_broken_receiver() {
    let bin = env!("CARGO_BIN_EXE_conformance");
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let started = Instant::now();
    let out = std::process::Command::new(bin)
        .args([
            "webhooks",
            "check-receiver",
            "--api",
            "chargily",
            "--secret",
            "s",
        ])
        .args(["--url", &format!("http://{closed}/webhook")])
        .args(["--mock-listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let (_, stderr) = support::exited(&out, 2);
    assert!(stderr.contains("cannot reach the receiver"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));

    let (mock, shop) = shop(Api::Recharge, Some(Bug::FailsUnknownType));
    let dir = support::temp_dir("webhook-junit");
    let junit = dir.join("receiver.xml");
    let out = std::process::Command::new(bin)
        .args(["webhooks", "check-receiver", "--api", "recharge"])
        .args([
            "--url",
            &format!("{shop}/webhook"),
            "--probe",
            &format!("{shop}/probe"),
        ])
        .args(["--target", &mock.recharge_url(), "--timeout", "2"])
        .args(["--format", "junit", "--output", junit.to_str().unwrap()])
        .env("CONFORMANCE_WEBHOOK_SECRET", RECHARGE_SECRET)
        .output()
        .unwrap();
    let (_, stderr) = support::exited(&out, 1);
    assert!(
        stderr.starts_with("12 rules: 11 passed, 1 failed, 0 skipped"),
        "{stderr}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("unknown-event-acknowledged"), "{xml}");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
}

#[test]
fn an_https_receiver_is_checked_with_its_private_ca_and_refused_clearly_without_it() {
    let (mock, shop) = shop(Api::Chargily, None);
    let upstream: SocketAddr = shop.trim_start_matches("http://").parse().unwrap();
    let (port, ca_pem) = support::https_forwarder(upstream);
    let dir = support::temp_dir("webhook-https");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let bin = env!("CARGO_BIN_EXE_conformance");
    let run = |extra: &[&str]| {
        std::process::Command::new(bin)
            .args(["webhooks", "check-receiver", "--api", "chargily"])
            .args(["--url", &format!("https://localhost:{port}/webhook")])
            .args(["--probe", &format!("https://localhost:{port}/probe")])
            .args([
                "--target",
                &mock.chargily_test_url(),
                "--secret",
                CHARGILY_KEY,
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&["--ca-cert", ca.to_str().unwrap()]);
    let (stdout, _) = support::exited(&out, 0);
    assert!(stdout.contains("12 rules: 12 passed"), "{stdout}");
    // Without the CA the receiver cannot be tested: exit 2, naming the certificate.
    let out = run(&[]);
    let (_, stderr) = support::exited(&out, 2);
    assert!(stderr.contains("cannot reach the receiver"), "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
}

#[test]
fn the_readme_example_runs_on_the_embedded_mock_the_receiver_fetches_from() {
    // The README's case: the receiver is configured with the embedded mock's address before the
    // check starts it (a free port, taken and let go).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let shop = Arc::new(Shop {
        api: Api::Chargily,
        secret: "test_sk_mine".to_owned(),
        api_base: format!("http://127.0.0.1:{port}/chargily/test/api/v2"),
        api_key: "test_sk_mine".to_owned(),
        bug: None,
        held: Mutex::new(HashMap::new()),
    });
    let addr = support::serve_http(move |r| shop.answer(r));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["webhooks", "check-receiver", "--api", "chargily"])
        .args(["--url", &format!("http://{addr}/webhook")])
        .args(["--secret", "test_sk_mine"])
        .args(["--probe", &format!("http://{addr}/probe")])
        .args(["--mock-listen", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    let (stdout, _) = support::exited(&out, 0);
    assert!(stdout.contains("12 rules: 12 passed"), "{stdout}");
    assert!(
        stdout.contains(&format!("the embedded mock at http://127.0.0.1:{port}/")),
        "{stdout}"
    );
}
