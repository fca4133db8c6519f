//! `conformance webhooks check-sender` against the reference mock: correct, it passes every
//! rule for both APIs; with each planted sender bug, the rule meant for it fails.

use std::time::{Duration, Instant};

use conformance::mock::{ClockMode, MockServer, PlantedBug};
use conformance::specs::Api;
use conformance::webhooks::{self, Outcome, Report, Rule, SenderCheck};

use crate::support;

/// A mock whose sender waits 1 s for an answer and retries after 100 ms, then 200 ms, ….
fn sender(bug: Option<PlantedBug>) -> MockServer {
    support::server_with(|c| {
        c.clock = ClockMode::System;
        c.planted = bug;
        c.webhook_timeout = Duration::from_secs(1);
        c.webhook_backoff = Duration::from_millis(100);
        c.webhook_attempts = 4;
        c.webhook_deadline = Duration::from_secs(10);
    })
}

fn check(api: Api, bug: Option<PlantedBug>) -> Report {
    let mock = sender(bug);
    let defaults = conformance::mock::MockConfig::default();
    let (target, secret, key) = match api {
        Api::Chargily => (
            mock.chargily_test_url(),
            defaults.chargily_secret_key.clone(),
            defaults.chargily_secret_key,
        ),
        Api::Recharge => (
            mock.recharge_url(),
            defaults.recharge_client_secret,
            defaults.recharge_access_token,
        ),
    };
    let check = SenderCheck {
        api,
        secret,
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: None,
        sender_timeout: Duration::from_secs(1),
        wait: Duration::from_secs(5),
    };
    webhooks::check_sender(check, &target, &key).unwrap()
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
fn the_reference_mock_sends_webhooks_as_both_vendors_do() {
    for api in [Api::Chargily, Api::Recharge] {
        let started = Instant::now();
        let report = check(api, None);
        let text = webhooks::human(&report);
        let rules: Vec<Rule> = report.rules.iter().map(|r| r.rule).collect();
        assert_eq!(rules, Rule::SENDER, "{text}");
        assert!(
            report.rules.iter().all(|r| r.outcome == Outcome::Passed),
            "{text}"
        );
        assert_eq!(report.exit_code(), 0);
        // A second of hanging, and retries 100 ms and 200 ms apart: seconds, not the wait.
        assert!(started.elapsed() < Duration::from_secs(5), "{text}");
    }
}

#[test]
fn each_planted_sender_bug_is_caught_by_its_rule() {
    let cases = [
        (PlantedBug::WebhookHeaderName, Rule::SignatureHeaderNamed),
        (PlantedBug::WebhookWrongSecret, Rule::SignatureValid),
        (PlantedBug::WebhookMissing, Rule::EventDelivered),
        (PlantedBug::WebhookInvalidPayload, Rule::PayloadValid),
        (PlantedBug::WebhookNoRetry, Rule::RetriedAfter5xx),
        (PlantedBug::WebhookNoRetry, Rule::RetriedAfterTimeout),
        (PlantedBug::WebhookNoBackoff, Rule::RetriesBackOff),
    ];
    for bug in PlantedBug::WEBHOOK {
        assert!(cases.iter().any(|(b, _)| *b == bug), "{bug} has no rule");
    }
    // The two APIs at once: most of the time is waiting.
    let runs: Vec<_> = [Api::Chargily, Api::Recharge]
        .into_iter()
        .map(|api| {
            std::thread::spawn(move || {
                let mut missed = Vec::new();
                for (bug, rule) in cases {
                    let report = check(api, Some(bug));
                    let failed = failed(&report);
                    if !failed.contains(&rule) || report.exit_code() != 1 {
                        missed.push(format!(
                            "{api:?} {bug}: expected {} to fail, failed {failed:?}\n{}",
                            rule.name(),
                            webhooks::human(&report)
                        ));
                    }
                }
                missed
            })
        })
        .collect();
    let missed: Vec<String> = runs.into_iter().flat_map(|r| r.join().unwrap()).collect();
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

#[test]
fn the_cli_exits_1_on_a_broken_sender_and_2_when_nothing_answers() {
    let bin = env!("CARGO_BIN_EXE_conformance");
    let dir = support::temp_dir("webhook-sender");
    let junit = dir.join("sender.xml");
    let out = std::process::Command::new(bin)
        .args(["webhooks", "check-sender", "--api", "chargily"])
        .args([
            "--plant-bug",
            "webhook-wrong-secret",
            "--sender-timeout",
            "1",
        ])
        .args(["--format", "junit", "--output", junit.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = support::text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("8 rules: 7 passed, 1 failed, 0 skipped"),
        "{stderr}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    assert!(xml.contains("signature-valid"), "{xml}");

    // A response bug is not a sender bug.
    let out = std::process::Command::new(bin)
        .args([
            "webhooks",
            "check-sender",
            "--api",
            "chargily",
            "--plant-bug",
            "wrong-type",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let started = Instant::now();
    let out = std::process::Command::new(bin)
        .args(["webhooks", "check-sender", "--api", "recharge"])
        .args(["--target", &format!("http://{closed}/recharge")])
        .output()
        .unwrap();
    let stderr = support::text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot drive the implementation"),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(15), "{stderr}");
}
