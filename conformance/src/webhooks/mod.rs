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
pub mod sender;

use std::net::SocketAddr;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

pub use receiver::{ReceiverCheck, SetupError};
pub use sender::{SenderCheck, SenderSetupError};

use crate::mock::{MockConfig, MockServer};
use crate::replay::client::{Client, DEFAULT_MAX_RESPONSE_BYTES, tls_config};
use crate::specs::Api;

/// A rule of a webhook check (the receiver's, then the sender's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Every documented event type, correctly signed, gets 2xx; a genuine settlement is
    /// fulfilled once.
    SignedEventsAccepted,
    UnsignedRefused,
    WrongSignatureRefused,
    OtherSecretRefused,
    AlteredBodyRefused,
    /// The signature is checked on the bytes received, not on a re-serialisation.
    RawBytesVerified,
    DuplicateProcessedOnce,
    ConcurrentDuplicateProcessedOnce,
    OutOfOrderKept,
    UnknownEventAcknowledged,
    AnswersInTime,
    ReplayVerifiedByFetch,
    /// The sender's rules.
    EventDelivered,
    SentAfterStateChange,
    SignatureHeaderNamed,
    SignatureValid,
    PayloadValid,
    #[serde(rename = "retried-after-5xx")]
    RetriedAfter5xx,
    RetriedAfterTimeout,
    RetriesBackOff,
}

impl Rule {
    /// The sender check's rules.
    pub const SENDER: [Rule; 8] = [
        Rule::EventDelivered,
        Rule::SentAfterStateChange,
        Rule::SignatureHeaderNamed,
        Rule::SignatureValid,
        Rule::PayloadValid,
        Rule::RetriedAfter5xx,
        Rule::RetriedAfterTimeout,
        Rule::RetriesBackOff,
    ];

    /// The receiver check's rules.
    pub const RECEIVER: [Rule; 12] = [
        Rule::SignedEventsAccepted,
        Rule::UnsignedRefused,
        Rule::WrongSignatureRefused,
        Rule::OtherSecretRefused,
        Rule::AlteredBodyRefused,
        Rule::RawBytesVerified,
        Rule::DuplicateProcessedOnce,
        Rule::ConcurrentDuplicateProcessedOnce,
        Rule::OutOfOrderKept,
        Rule::UnknownEventAcknowledged,
        Rule::AnswersInTime,
        Rule::ReplayVerifiedByFetch,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rule::SignedEventsAccepted => "signed-events-accepted",
            Rule::UnsignedRefused => "unsigned-refused",
            Rule::WrongSignatureRefused => "wrong-signature-refused",
            Rule::OtherSecretRefused => "other-secret-refused",
            Rule::AlteredBodyRefused => "altered-body-refused",
            Rule::RawBytesVerified => "raw-bytes-verified",
            Rule::DuplicateProcessedOnce => "duplicate-processed-once",
            Rule::ConcurrentDuplicateProcessedOnce => "concurrent-duplicate-processed-once",
            Rule::OutOfOrderKept => "out-of-order-kept",
            Rule::UnknownEventAcknowledged => "unknown-event-acknowledged",
            Rule::AnswersInTime => "answers-in-time",
            Rule::ReplayVerifiedByFetch => "replay-verified-by-fetch",
            Rule::EventDelivered => "event-delivered",
            Rule::SentAfterStateChange => "sent-after-state-change",
            Rule::SignatureHeaderNamed => "signature-header-named",
            Rule::SignatureValid => "signature-valid",
            Rule::PayloadValid => "payload-valid",
            Rule::RetriedAfter5xx => "retried-after-5xx",
            Rule::RetriedAfterTimeout => "retried-after-timeout",
            Rule::RetriesBackOff => "retries-back-off",
        }
    }

    /// What the rule asks of the receiver.
    pub fn asks(self) -> &'static str {
        match self {
            Rule::SignedEventsAccepted => {
                "every documented event type, correctly signed, gets 2xx; a genuine settlement is fulfilled once"
            }
            Rule::UnsignedRefused => {
                "a delivery without a signature is refused, with no side effect"
            }
            Rule::WrongSignatureRefused => {
                "a delivery whose signature is another body's is refused, with no side effect"
            }
            Rule::OtherSecretRefused => {
                "a delivery signed with another secret is refused, with no side effect"
            }
            Rule::AlteredBodyRefused => {
                "a body changed after signing is refused, with no side effect"
            }
            Rule::RawBytesVerified => {
                "a correctly signed body with other whitespace and key order is accepted (the raw bytes are verified)"
            }
            Rule::DuplicateProcessedOnce => "the same delivery twice in a row is processed once",
            Rule::ConcurrentDuplicateProcessedOnce => {
                "the same delivery four times at once is processed once"
            }
            Rule::OutOfOrderKept => {
                "an older event delivered after a newer one does not roll the checkout back"
            }
            Rule::UnknownEventAcknowledged => {
                "an event type of the same family the spec does not list gets 2xx, not 5xx"
            }
            Rule::AnswersInTime => "every delivery is answered within the sender's timeout",
            Rule::ReplayVerifiedByFetch => {
                "a validly signed settlement of a checkout the API says is not settled is not fulfilled (the receiver re-fetches the checkout)"
            }
            Rule::EventDelivered => "every documented event of the scenario arrives",
            Rule::SentAfterStateChange => {
                "when an event arrives, the API already shows the state it reports"
            }
            Rule::SignatureHeaderNamed => {
                "every delivery carries its signature in the documented header"
            }
            Rule::SignatureValid => {
                "every signature is the documented scheme's, over the raw body, with the secret"
            }
            Rule::PayloadValid => "every payload validates against the callback's schema",
            Rule::RetriedAfter5xx => "a delivery answered 500 is delivered again",
            Rule::RetriedAfterTimeout => {
                "a delivery left unanswered past the timeout is delivered again"
            }
            Rule::RetriesBackOff => {
                "retries wait, and wait longer each time (at least 50 ms, then at least 1.5 times as long)"
            }
        }
    }
}

/// A rule's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "why", rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

/// One delivery and its answer.
#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    /// What was sent (`checkout.paid, unsigned`).
    pub what: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

impl Sent {
    pub(crate) fn accepted(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    pub(crate) fn answer(&self) -> String {
        match (self.status, &self.error) {
            (Some(s), _) => s.to_string(),
            (None, Some(e)) => e.clone(),
            (None, None) => "no answer".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleReport {
    pub rule: Rule,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub sent: Vec<Sent>,
}

/// The whole check.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `receiver` or `sender`.
    pub check: &'static str,
    pub api: &'static str,
    /// The receiver's URL, or the sender's API.
    pub subject: String,
    /// The API the checkouts live in (which a receiver re-fetches from).
    pub api_base: String,
    /// The receiver's probe (receiver check).
    pub probe: Option<String>,
    /// What the events were built from or checked against.
    pub checked_against: String,
    pub timeout_ms: u64,
    pub rules: Vec<RuleReport>,
    /// One cause behind several failures, when there is one.
    pub cause: Option<String>,
    pub elapsed_ms: u64,
}

impl Report {
    pub fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.rules.iter().filter(|r| f(&r.outcome)).count()
    }

    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }

    /// 0 when every rule that ran passed, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.failed() > 0)
    }
}

pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

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
    /// Certificates to trust besides the platform's (a private CA of an `https` receiver).
    pub ca_certs: Vec<rustls::pki_types::CertificateDer<'static>>,
}

/// How long a call to the API or the probe may take (the sender's timeout is for deliveries).
const API_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the receiver check, with the embedded mock when no target is given.
pub fn check_receiver(options: ReceiverOptions) -> Result<Report, SetupError> {
    let api = options.check.api;
    let key = options.api_key.clone().unwrap_or_else(|| match api {
        Api::Chargily => options.check.secret.clone(),
        Api::Recharge => MockConfig::default().recharge_access_token,
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
        api.webhook_callback().0,
        if mock.is_some() {
            format!("the embedded mock at {base}")
        } else {
            base.clone()
        }
    );
    let tls = tls_config(&options.ca_certs).map_err(|e| SetupError::Api(api::ApiError(e)))?;
    let client = Client::new(
        options.check.timeout,
        tls.clone(),
        DEFAULT_MAX_RESPONSE_BYTES,
    );
    let api_client = Client::new(API_TIMEOUT, tls, DEFAULT_MAX_RESPONSE_BYTES);
    let driver = api::Driver::new(api, api_client.clone(), &base, &key)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| SetupError::Api(api::ApiError(format!("cannot start a runtime: {e}"))))?;
    let report = runtime.block_on(receiver::run(
        options.check,
        driver,
        client,
        api_client,
        checked_against,
    ));
    drop(mock);
    report
}

/// Runs the sender check against an implementation at `target` (its API base URL, with the
/// mock's `/_mock/` controls on the same host to settle checkouts).
pub fn check_sender(
    check: SenderCheck,
    target: &str,
    api_key: &str,
) -> Result<Report, SenderSetupError> {
    let api = check.api;
    let tls = tls_config(&[]).map_err(|e| SenderSetupError::Api(api::ApiError(e)))?;
    let client = Client::new(API_TIMEOUT, tls, DEFAULT_MAX_RESPONSE_BYTES);
    let driver = api::Driver::new(api, client, target, api_key)?;
    let checked_against = format!(
        "{} (callback {}), the documented signature scheme and retries",
        api.spec_path(),
        api.webhook_callback().0
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            SenderSetupError::Api(api::ApiError(format!("cannot start a runtime: {e}")))
        })?;
    runtime.block_on(sender::run(check, driver, checked_against))
}

/// The report for a person: what was checked against, one line per rule, one cause first.
pub fn human(report: &Report) -> String {
    let mut out = match report.check {
        "receiver" => format!(
            "webhook receiver check: {} receiver at {}\nchecked against: {}\nprobe: {}; sender timeout {} ms\n",
            report.api,
            report.subject,
            report.checked_against,
            report
                .probe
                .as_deref()
                .unwrap_or("none (rules that read side effects are skipped)"),
            report.timeout_ms
        ),
        _ => format!(
            "webhook sender check: {} webhooks sent by {}\nchecked against: {}\nsender timeout assumed {} ms\n",
            report.api, report.subject, report.checked_against, report.timeout_ms
        ),
    };
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
            && r.sent.iter().any(|s| !s.accepted());
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
                out.push_str(&format!(
                    "       sent {}: {} in {} ms\n",
                    s.what,
                    s.answer(),
                    s.elapsed_ms
                ));
            }
        }
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

/// `12 rules: 9 passed, 1 failed, 2 skipped in 0.41 s`.
pub fn summary(report: &Report) -> String {
    format!(
        "{} rules: {} passed, {} failed, {} skipped in {:.2} s",
        report.rules.len(),
        report.count(|o| matches!(o, Outcome::Passed)),
        report.failed(),
        report.count(|o| matches!(o, Outcome::Skipped(_))),
        report.elapsed_ms as f64 / 1000.0
    )
}

pub fn json(report: &Report) -> String {
    // Plain data: serialising cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_default()
}

/// JUnit XML: one suite, one case per rule.
pub fn junit(report: &Report) -> String {
    let mut junit = quick_junit::Report::new("conformance-webhooks");
    let mut suite = TestSuite::new(format!("{}/check-{}", report.api, report.check));
    suite.set_time(Duration::from_millis(report.elapsed_ms));
    suite.add_property(Property::new(report.check, report.subject.clone()));
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
