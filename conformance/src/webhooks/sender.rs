//! `conformance webhooks check-sender`: hosts a receiver, drives a vendor's implementation
//! through checkouts whose events come to it (settled through the implementation's `/_mock/`
//! controls, as the reference mock offers them), and judges what arrives: the documented event,
//! after the state change, with the documented header and signature scheme, a payload the
//! callback's schema accepts, and retries with backoff after a 5xx or no answer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use serde_json::Value;

use super::api::{ApiError, Driver};
use super::{Outcome, Report, Rule, RuleReport, Sent, millis};
use crate::http_server::{self, Received, Settings};
use crate::specs::Api;

/// What to check.
#[derive(Debug, Clone)]
pub struct SenderCheck {
    pub api: Api,
    /// The secret the implementation should sign with.
    pub secret: String,
    /// Where the check's receiver listens.
    pub listen: SocketAddr,
    /// The receiver's URL as the implementation reaches it (default: `http://<listen>/webhook`).
    pub public_url: Option<String>,
    /// How long the implementation waits for an answer (the receiver hangs past it once).
    pub sender_timeout: Duration,
    /// How long to wait for every expected delivery.
    pub wait: Duration,
}

/// Why the check could not run (exit 2).
#[derive(Debug, Clone, thiserror::Error)]
pub enum SenderSetupError {
    #[error("cannot start the check's receiver on {listen}: {detail}")]
    Listen { listen: SocketAddr, detail: String },
    #[error("cannot drive the implementation: {0}")]
    Api(#[from] ApiError),
    #[error(
        "no delivery reached the check's receiver at {url} within {wait} s: is it reachable from the implementation (--public-url)?"
    )]
    NothingArrived { url: String, wait: u64 },
}

/// How the receiver answers the next delivery about a checkout.
#[derive(Debug, Clone, Copy)]
enum Step {
    Fail,
    Hang(Duration),
}

/// One delivery as it arrived.
#[derive(Debug, Clone)]
struct Arrival {
    at: Instant,
    headers: Vec<(String, String)>,
    body: Bytes,
    /// The checkout it is about and its type or topic, as read from it.
    checkout: String,
    kind: String,
    /// Whether the API already showed the state the event reports when it arrived.
    state_ok: Option<bool>,
    answered: String,
    /// When the answer went back (the sender's next wait starts then).
    answered_at: Instant,
}

struct Inbox {
    api: Api,
    driver: Driver,
    arrivals: Mutex<Vec<Arrival>>,
    scripts: Mutex<HashMap<String, Vec<Step>>>,
}

impl http_server::Service for Inbox {
    type Error = std::convert::Infallible;

    async fn call(
        self: Arc<Self>,
        request: Received,
        _: tokio::sync::watch::Receiver<bool>,
    ) -> Result<hyper::Response<Full<Bytes>>, Self::Error> {
        let at = Instant::now();
        let headers: Vec<(String, String)> = request
            .parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = request.body.unwrap_or_default();
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let (checkout, kind) = match self.api {
            Api::Chargily => (
                json["data"]["id"].as_str().unwrap_or_default().to_owned(),
                json["type"].as_str().unwrap_or_default().to_owned(),
            ),
            Api::Recharge => (
                json["checkout"]["token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                header(&headers, generated::webhooks::recharge::TOPIC_HEADER)
                    .unwrap_or_default()
                    .to_owned(),
            ),
        };
        let state_ok = self
            .driver
            .current(&checkout)
            .await
            .map(|now| shows(self.api, &kind, &json, &now));
        let step = {
            let mut scripts = self.scripts.lock().unwrap_or_else(|e| e.into_inner());
            scripts
                .get_mut(&checkout)
                .and_then(|steps| (!steps.is_empty()).then(|| steps.remove(0)))
        };
        let (status, answered) = match step {
            Some(Step::Fail) => (500, "500".to_owned()),
            Some(Step::Hang(d)) => {
                tokio::time::sleep(d).await;
                (200, format!("200 after {} ms", millis(d)))
            }
            None => (200, "200".to_owned()),
        };
        self.arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arrival {
                at,
                headers,
                body,
                checkout,
                kind,
                state_ok,
                answered,
                answered_at: Instant::now(),
            });
        let mut response = hyper::Response::new(Full::new(Bytes::from_static(b"{}")));
        *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or_default();
        Ok(response)
    }
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether the API's checkout `now` already shows what the event says.
fn shows(api: Api, kind: &str, event: &Value, now: &Value) -> bool {
    match api {
        Api::Chargily => now["status"] == event["data"]["status"],
        Api::Recharge => match kind {
            "checkout/processed" | "checkout/completed" => !now["completed_at"].is_null(),
            // The API's version is at least the event's.
            _ => {
                now["updated_at"].as_str().unwrap_or_default()
                    >= event["checkout"]["updated_at"].as_str().unwrap_or_default()
            }
        },
    }
}

/// One expected delivery: about `checkout`, of `kind`.
#[derive(Debug, Clone)]
struct Expected {
    checkout: String,
    kind: &'static str,
}

/// Runs the sender check against the implementation `driver` drives.
pub async fn run(
    check: SenderCheck,
    driver: Driver,
    checked_against: String,
) -> Result<Report, SenderSetupError> {
    let started = Instant::now();
    let inbox = Arc::new(Inbox {
        api: check.api,
        driver: driver.clone(),
        arrivals: Mutex::new(Vec::new()),
        scripts: Mutex::new(HashMap::new()),
    });
    let settings = Settings {
        listen: check.listen,
        workers: 2,
        max_body: 8 * 1024 * 1024,
        read_timeout: Duration::from_secs(10),
        drain: Duration::from_millis(200),
        name: "webhook-inbox",
    };
    let shared = Arc::clone(&inbox);
    let running =
        http_server::start(&settings, move || shared).map_err(|e| SenderSetupError::Listen {
            listen: check.listen,
            detail: format!("{e:?}"),
        })?;
    let url = check
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}/webhook", running.addr));
    let hang = check.sender_timeout + Duration::from_secs(1);
    let script = |id: &str, steps: Vec<Step>| {
        inbox
            .scripts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned(), steps);
    };
    // The scenario: every event in order, then one refused twice and one left unanswered.
    let mut expected = Vec::new();
    let (retried, timed_out) = match check.api {
        Api::Chargily => {
            let paid = driver.chargily_checkout_for(&url).await?;
            let failed = driver.chargily_checkout_for(&url).await?;
            let retried = driver.chargily_checkout_for(&url).await?;
            let timed_out = driver.chargily_checkout_for(&url).await?;
            script(&retried, vec![Step::Fail, Step::Fail]);
            script(&timed_out, vec![Step::Hang(hang)]);
            for (id, pay) in [
                (&paid, true),
                (&failed, false),
                (&retried, true),
                (&timed_out, true),
            ] {
                driver.chargily_settle(id, pay).await?;
            }
            for (id, kind) in [
                (&paid, "checkout.paid"),
                (&failed, "checkout.failed"),
                (&retried, "checkout.paid"),
                (&timed_out, "checkout.paid"),
            ] {
                expected.push(Expected {
                    checkout: id.clone(),
                    kind,
                });
            }
            ((retried, "checkout.paid"), (timed_out, "checkout.paid"))
        }
        Api::Recharge => {
            driver.recharge_subscribe(&url).await?;
            let token = driver.recharge_checkout().await?;
            driver.recharge_update(&token, 0).await?;
            driver.recharge_charge(&token).await?;
            for kind in [
                "checkout/created",
                "checkout/updated",
                "checkout/processed",
                "checkout/completed",
            ] {
                expected.push(Expected {
                    checkout: token.clone(),
                    kind,
                });
            }
            // Tokens are known only once the checkouts exist, and `checkout/created` goes
            // out as they are created: the refused and the unanswered deliveries are the
            // `checkout/updated` of two more checkouts, scripted before the update.
            let retried = driver.recharge_checkout().await?;
            let timed_out = driver.recharge_checkout().await?;
            for (id, steps) in [
                (&retried, vec![Step::Fail, Step::Fail]),
                (&timed_out, vec![Step::Hang(hang)]),
            ] {
                for kind in ["checkout/created", "checkout/updated"] {
                    expected.push(Expected {
                        checkout: id.clone(),
                        kind,
                    });
                }
                // Scripted once its `checkout/created` is in, so the script meets the update;
                // without it, the rest would only wait again for nothing.
                if !wait_for(&inbox, id, "checkout/created", check.wait).await {
                    break;
                }
                script(id, steps);
                driver.recharge_update(id, 0).await?;
            }
            (
                (retried, "checkout/updated"),
                (timed_out, "checkout/updated"),
            )
        }
    };
    // Wait for every expected event, three attempts of the refused one and two of the
    // unanswered one.
    let deadline = Instant::now() + check.wait;
    loop {
        let done = {
            let arrivals = inbox.arrivals.lock().unwrap_or_else(|e| e.into_inner());
            let count = |(id, kind): &(String, &str)| {
                arrivals
                    .iter()
                    .filter(|a| a.checkout == *id && a.kind == *kind)
                    .count()
            };
            expected.iter().all(|e| {
                arrivals
                    .iter()
                    .any(|a| a.checkout == e.checkout && a.kind == e.kind)
            }) && count(&retried) >= 3
                && count(&timed_out) >= 2
        };
        if done || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(running);
    let arrivals = inbox
        .arrivals
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if arrivals.is_empty() {
        // One cause, not eight findings: the implementation cannot reach the receiver.
        return Err(SenderSetupError::NothingArrived {
            url,
            wait: check.wait.as_secs(),
        });
    }
    let rules = judge(&check, &expected, &arrivals, &retried, &timed_out);
    Ok(Report {
        check: "sender",
        api: check.api.name(),
        subject: driver.base.clone(),
        api_base: driver.base.clone(),
        probe: None,
        checked_against,
        timeout_ms: millis(check.sender_timeout),
        rules,
        cause: None,
        elapsed_ms: millis(started.elapsed()),
    })
}

/// Waits until an event of `kind` about `checkout` arrived; false if `wait` passed first.
async fn wait_for(inbox: &Inbox, checkout: &str, kind: &str, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        let arrived = inbox
            .arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|a| a.checkout == checkout && a.kind == kind);
        if arrived {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

fn sent(a: &Arrival) -> Sent {
    Sent {
        what: format!("{} {} ({})", a.kind, a.checkout, a.answered),
        status: None,
        error: None,
        elapsed_ms: 0,
    }
}

fn judge(
    check: &SenderCheck,
    expected: &[Expected],
    arrivals: &[Arrival],
    retried: &(String, &str),
    timed_out: &(String, &str),
) -> Vec<RuleReport> {
    let mut out = Vec::new();
    let report = |rule, outcome, sent| RuleReport {
        rule,
        outcome,
        sent,
    };
    // The first arrival of each expected event.
    let firsts: Vec<Option<&Arrival>> = expected
        .iter()
        .map(|e| {
            arrivals
                .iter()
                .find(|a| a.checkout == e.checkout && a.kind == e.kind)
        })
        .collect();
    let missing: Vec<String> = expected
        .iter()
        .zip(&firsts)
        .filter(|(_, a)| a.is_none())
        .map(|(e, _)| format!("{} about {}", e.kind, e.checkout))
        .collect();
    out.push(report(
        Rule::EventDelivered,
        if missing.is_empty() {
            Outcome::Passed
        } else {
            Outcome::Failed(format!(
                "not delivered within {} s: {}",
                check.wait.as_secs(),
                missing.join("; ")
            ))
        },
        arrivals.iter().map(sent).collect(),
    ));
    let early: Vec<String> = firsts
        .iter()
        .flatten()
        .filter_map(|a| match a.state_ok {
            Some(true) => None,
            Some(false) => Some(format!("{} about {}", a.kind, a.checkout)),
            None => Some(format!(
                "{} about {} (the API did not answer for the checkout)",
                a.kind, a.checkout
            )),
        })
        .collect();
    out.push(report(
        Rule::SentAfterStateChange,
        if firsts.iter().all(Option::is_none) {
            Outcome::Skipped("no expected event arrived".into())
        } else if early.is_empty() {
            Outcome::Passed
        } else {
            Outcome::Failed(format!(
                "the API did not yet show the state these events report when they arrived: {}",
                early.join("; ")
            ))
        },
        Vec::new(),
    ));
    let signature_header = check.api.webhook_signature_header();
    let every = |what: &str, bad: Vec<String>| {
        if arrivals.is_empty() {
            Outcome::Skipped("no delivery arrived".into())
        } else if bad.is_empty() {
            Outcome::Passed
        } else {
            Outcome::Failed(format!(
                "{} of {} deliveries {what}: {}",
                bad.len(),
                arrivals.len(),
                bad.into_iter().take(3).collect::<Vec<_>>().join("; ")
            ))
        }
    };
    let unnamed: Vec<String> = arrivals
        .iter()
        .filter(|a| header(&a.headers, signature_header).is_none())
        .map(|a| {
            let names: Vec<&str> = a.headers.iter().map(|(n, _)| n.as_str()).collect();
            format!(
                "{} about {}: no `{signature_header}` header (headers: {})",
                a.kind,
                a.checkout,
                names.join(", ")
            )
        })
        .collect();
    out.push(report(
        Rule::SignatureHeaderNamed,
        every("lack the documented signature header", unnamed),
        Vec::new(),
    ));
    let forged: Vec<String> = arrivals
        .iter()
        .filter_map(|a| {
            let got = header(&a.headers, signature_header)?;
            let want = check.api.sign_webhook(check.secret.as_bytes(), &a.body);
            (!got.trim().eq_ignore_ascii_case(&want)).then(|| {
                format!(
                    "{} about {}: {got} is not the body's signature",
                    a.kind, a.checkout
                )
            })
        })
        .collect();
    let signed = arrivals
        .iter()
        .any(|a| header(&a.headers, signature_header).is_some());
    out.push(report(
        Rule::SignatureValid,
        if signed {
            every(
                "are not signed with the secret under the documented scheme",
                forged,
            )
        } else {
            Outcome::Skipped("no delivery carried a signature in the documented header".into())
        },
        Vec::new(),
    ));
    let validator = callback_validator(check.api);
    let invalid: Vec<String> = arrivals
        .iter()
        .filter_map(|a| {
            let v: Value = match serde_json::from_slice(&a.body) {
                Ok(v) => v,
                Err(e) => return Some(format!("{} about {}: not JSON: {e}", a.kind, a.checkout)),
            };
            let validator = match &validator {
                Ok(v) => v,
                Err(e) => return Some(e.clone()),
            };
            let violations = validator.validate(&v);
            let first = violations.first()?;
            Some(format!(
                "{} about {}: at `{}`: {}",
                a.kind, a.checkout, first.instance_pointer, first.message
            ))
        })
        .collect();
    out.push(report(
        Rule::PayloadValid,
        every("break the callback's schema", invalid),
        Vec::new(),
    ));
    let attempts = |(id, kind): &(String, &str)| -> Vec<&Arrival> {
        arrivals
            .iter()
            .filter(|a| a.checkout == *id && a.kind == *kind)
            .collect()
    };
    let refused = attempts(retried);
    out.push(report(
        Rule::RetriedAfter5xx,
        match refused.len() {
            0 => Outcome::Skipped("the event to refuse never arrived".into()),
            1 => Outcome::Failed(format!(
                "answered 500 once, the event was not delivered again within {} s",
                check.wait.as_secs()
            )),
            _ => Outcome::Passed,
        },
        refused.iter().map(|a| sent(a)).collect(),
    ));
    let unanswered = attempts(timed_out);
    out.push(report(
        Rule::RetriedAfterTimeout,
        match unanswered.len() {
            0 => Outcome::Skipped("the event to leave unanswered never arrived".into()),
            1 => Outcome::Failed(format!(
                "left unanswered past {} ms once, the event was not delivered again within {} s",
                millis(check.sender_timeout),
                check.wait.as_secs()
            )),
            _ => Outcome::Passed,
        },
        unanswered.iter().map(|a| sent(a)).collect(),
    ));
    out.push(report(
        Rule::RetriesBackOff,
        match refused.as_slice() {
            [a, b, c, ..] => {
                // From each answer to the next attempt: the sender's wait, not our handling.
                let w1 = b.at.saturating_duration_since(a.answered_at);
                let w2 = c.at.saturating_duration_since(b.answered_at);
                if w1 >= MIN_FIRST_WAIT && w2.as_secs_f64() >= 1.5 * w1.as_secs_f64() {
                    Outcome::Passed
                } else {
                    Outcome::Failed(format!(
                        "waits of {} ms then {} ms between attempts: a backoff waits at least {} ms and then at least half as long again",
                        millis(w1),
                        millis(w2),
                        millis(MIN_FIRST_WAIT)
                    ))
                }
            }
            _ => Outcome::Skipped("fewer than three attempts: no waits to compare".into()),
        },
        Vec::new(),
    ));
    out
}

/// The shortest first wait that counts as backing off.
const MIN_FIRST_WAIT: Duration = Duration::from_millis(50);

fn callback_validator(api: Api) -> Result<oas::SchemaValidator, String> {
    let root = api
        .document()
        .map_err(|e| format!("the embedded spec does not load: {e}"))?
        .root;
    oas::SchemaValidator::compile(&root, api.webhook_callback().1, oas::Direction::Request)
        .map_err(|e| format!("the callback schema does not compile: {e}"))
}
