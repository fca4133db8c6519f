//! Webhook conformance: `conformance webhooks check-receiver` judges a merchant's webhook
//! endpoint against the events the vendor sends (built from the spec's callbacks and checkouts
//! settled in a real API: the embedded mock or a target), and the forgeries, replays,
//! duplicates and reorderings a receiver meets in production.
//!
//! - `api.rs`: checkouts created and settled in the API, and the vendor's events about them;
//! - `receiver.rs`: the rules and their verdicts.
//!
//! Side effects (what the receiver fulfilled) are read from the merchant's probe:
//! `GET <probe>?checkout=<id or token>` answering `200 {"fulfilments": <integer>,
//! "updated_at": <the updated_at of the checkout version the receiver holds, or null>}`.

pub mod api;
pub mod receiver;

use std::net::SocketAddr;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

pub use receiver::{Outcome, ReceiverCheck, ReceiverReport, Rule, SetupError};

use crate::mock::{MockConfig, MockServer};
use crate::replay::client::{Client, DEFAULT_MAX_RESPONSE_BYTES, tls_config};
use crate::specs::Api;

/// Where the checkouts live.
#[derive(Debug, Clone)]
pub enum ApiTarget {
    /// The embedded mock, listening here (the receiver re-fetches checkouts from it).
    Embedded(SocketAddr),
    /// An implementation of the API with the mock's `/_mock/` controls, at this base URL.
    Url(String),
}

/// Everything `check-receiver` needs.
#[derive(Debug, Clone)]
pub struct ReceiverOptions {
    pub check: ReceiverCheck,
    pub target: ApiTarget,
    /// The API credential (Chargily: the secret key, by default the signing secret; ReCharge:
    /// the access token).
    pub api_key: Option<String>,
}

/// The default ReCharge access token of the embedded mock.
const RECHARGE_TOKEN: &str = "conformance";

/// Runs the receiver check, with the embedded mock when no target is given.
pub fn check_receiver(options: ReceiverOptions) -> Result<ReceiverReport, SetupError> {
    let api = options.check.api;
    let key = options.api_key.clone().unwrap_or_else(|| match api {
        Api::Chargily => options.check.secret.clone(),
        Api::Recharge => RECHARGE_TOKEN.to_owned(),
    });
    let (mock, base) = match &options.target {
        ApiTarget::Url(url) => (None, url.clone()),
        ApiTarget::Embedded(listen) => {
            let mut config = MockConfig {
                listen: *listen,
                recharge_rate_limit: false,
                charge_delay: Duration::from_millis(10),
                workers: 2,
                ..MockConfig::default()
            };
            match api {
                Api::Chargily => config.chargily_secret_key.clone_from(&key),
                Api::Recharge => {
                    config.recharge_access_token.clone_from(&key);
                    config
                        .recharge_client_secret
                        .clone_from(&options.check.secret);
                }
            }
            let mock = MockServer::start(config)
                .map_err(|e| SetupError::Api(api::ApiError(format!("the embedded mock: {e}"))))?;
            let base = match api {
                Api::Chargily => mock.chargily_test_url(),
                Api::Recharge => mock.recharge_url(),
            };
            (Some(mock), base)
        }
    };
    let checked_against = format!(
        "{} (callback {}); events built from checkouts in {}",
        api.spec_path(),
        match api {
            Api::Chargily => "receiveCheckoutEvent",
            Api::Recharge => "receiveCheckoutWebhook",
        },
        if mock.is_some() {
            format!("the embedded mock at {base}")
        } else {
            base.clone()
        }
    );
    let tls = tls_config(&[]).map_err(|e| SetupError::Api(api::ApiError(e)))?;
    let client = Client::new(options.check.timeout, tls, DEFAULT_MAX_RESPONSE_BYTES);
    let driver = api::Driver::new(api, client.clone(), &base, &key)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| SetupError::Api(api::ApiError(format!("cannot start a runtime: {e}"))))?;
    let report = runtime.block_on(receiver::run(
        options.check,
        driver,
        client,
        checked_against,
    ));
    drop(mock);
    report
}

/// The report for a person: what was checked against, one line per rule, one cause first.
pub fn human(report: &ReceiverReport) -> String {
    let mut out = format!(
        "webhook receiver check: {} receiver at {}\nchecked against: {}\nprobe: {}; sender timeout {} ms\n",
        report.api,
        report.receiver,
        report.checked_against,
        report
            .probe
            .as_deref()
            .unwrap_or("none (rules that read side effects are skipped)"),
        report.timeout_ms
    );
    if let Some(cause) = &report.cause {
        out.push_str(&format!("cause: {cause}\n"));
    }
    for r in &report.rules {
        let (mark, why) = match &r.outcome {
            Outcome::Passed => ("PASS", String::new()),
            Outcome::Failed(why) => ("FAIL", format!("\n       {why}")),
            Outcome::Skipped(why) => ("SKIP", format!("\n       {why}")),
        };
        // With one cause, the rules it fails are named, not detailed again.
        let of_cause = report.cause.is_some()
            && r.rule != Rule::SignedEventsAccepted
            && matches!(r.outcome, Outcome::Failed(_))
            && r.sent
                .iter()
                .any(|s| s.status.is_some_and(|st| !(200..300).contains(&st)));
        if of_cause {
            out.push_str(&format!("  FAIL {:<36} (the cause above)\n", r.rule.name()));
            continue;
        }
        out.push_str(&format!(
            "  {mark} {:<36} {}{why}\n",
            r.rule.name(),
            r.rule.asks()
        ));
        if matches!(r.outcome, Outcome::Failed(_)) {
            for s in &r.sent {
                let answer = match (s.status, &s.error) {
                    (Some(st), _) => st.to_string(),
                    (None, Some(e)) => e.clone(),
                    (None, None) => "-".into(),
                };
                out.push_str(&format!(
                    "       sent {}: {answer} in {} ms\n",
                    s.what, s.elapsed_ms
                ));
            }
        }
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

/// `12 rules: 9 passed, 1 failed, 2 skipped in 0.41 s`.
pub fn summary(report: &ReceiverReport) -> String {
    format!(
        "{} rules: {} passed, {} failed, {} skipped in {:.2} s",
        report.rules.len(),
        report.count(|o| matches!(o, Outcome::Passed)),
        report.failed(),
        report.count(|o| matches!(o, Outcome::Skipped(_))),
        report.elapsed_ms as f64 / 1000.0
    )
}

pub fn json(report: &ReceiverReport) -> String {
    // Plain data: serialising cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_default()
}

/// JUnit XML: one suite, one case per rule.
pub fn junit(report: &ReceiverReport) -> String {
    let mut junit = Report::new("conformance-webhooks");
    let mut suite = TestSuite::new(format!("{}/check-receiver", report.api));
    suite.set_time(Duration::from_millis(report.elapsed_ms));
    suite.add_property(Property::new("receiver", report.receiver.clone()));
    suite.add_property(Property::new(
        "checked-against",
        report.checked_against.clone(),
    ));
    suite.add_property(Property::new(
        "probe",
        report.probe.clone().unwrap_or_default(),
    ));
    for r in &report.rules {
        let status = match &r.outcome {
            Outcome::Passed => TestCaseStatus::success(),
            Outcome::Failed(why) => {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                st.set_message(why.as_str());
                st.set_type(r.rule.name());
                st
            }
            Outcome::Skipped(why) => {
                let mut st = TestCaseStatus::skipped();
                st.set_message(why.as_str());
                st
            }
        };
        let mut case = TestCase::new(r.rule.name(), status);
        case.set_time(Duration::from_millis(
            r.sent.iter().map(|s| s.elapsed_ms).sum(),
        ));
        suite.add_test_case(case);
    }
    junit.add_test_suite(suite);
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- cannot write JUnit: {e} -->"))
}
