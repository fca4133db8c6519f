//! `conformance webhooks check-receiver`: sends a merchant's webhook endpoint the events the
//! vendor sends (and the forgeries, replays, duplicates and reorderings it will meet) and judges
//! each answer, and, through the merchant's probe, what the receiver did.
//!
//! Every rule works on checkouts of its own, so the rules run at once and one rule's deliveries
//! never change another's verdict.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

use super::api::{ApiError, Driver, Event, reformatted};
use super::{Outcome, Report, Rule, RuleReport, Sent, millis};
use crate::replay::client::{Client, Outgoing, TransportError};
use crate::specs::Api;

/// What to check.
#[derive(Debug, Clone)]
pub struct ReceiverCheck {
    pub api: Api,
    /// The receiver's endpoint.
    pub url: String,
    /// The secret the vendor signs with (Chargily: the API secret key; ReCharge: the API
    /// client secret).
    pub secret: String,
    /// The probe (`GET <probe>?checkout=<id>` → `{"fulfilments": n, "updated_at": …}`).
    pub probe: Option<String>,
    /// How long the sender waits for an answer.
    pub timeout: Duration,
}

/// Why a check could not run at all (exit 2).
#[derive(Debug, Clone, thiserror::Error)]
pub enum SetupError {
    #[error("cannot reach the receiver at {url}: {detail}")]
    Receiver { url: String, detail: String },
    #[error("the probe at {url} does not answer as documented: {detail}")]
    Probe { url: String, detail: String },
    #[error("cannot prepare checkouts in the API: {0}")]
    Api(#[from] ApiError),
    #[error("the check itself failed: {0}")]
    Internal(String),
}

/// How long the probe may keep changing after a delivery was answered, and how often it is
/// read meanwhile.
const PROBE_SETTLE: Duration = Duration::from_secs(1);
const PROBE_STEP: Duration = Duration::from_millis(50);
/// How long a non-zero reading must hold to count as final.
const PROBE_STILL: Duration = Duration::from_millis(300);

struct Ctx {
    check: ReceiverCheck,
    driver: Driver,
    /// Deliveries, within the sender's timeout.
    client: Client,
    /// The probe, within the API's.
    probe_client: Client,
}

/// Runs every rule against the receiver; checkouts are created in the API `driver` drives.
pub async fn run(
    check: ReceiverCheck,
    driver: Driver,
    client: Client,
    probe_client: Client,
    checked_against: String,
) -> Result<Report, SetupError> {
    let started = Instant::now();
    let ctx = Arc::new(Ctx {
        check,
        driver,
        client,
        probe_client,
    });
    reachable(&ctx.client, &ctx.check.url).await?;
    if let Some(probe) = &ctx.check.probe {
        ctx.probe_once("conformance-no-such-checkout")
            .await
            .map_err(|detail| SetupError::Probe {
                url: probe.clone(),
                detail,
            })?;
    }
    // Checkouts first (one at a time: a shared sandbox may limit rates), then every rule's
    // deliveries at once.
    let d = &ctx.driver;
    let documented = d.every_documented_event().await?;
    let mut settled = Vec::new();
    for _ in 0..7 {
        settled.push(d.settled().await?);
    }
    let pair = d.newer_then_older().await?;
    let unknown = d.unknown_event().await?;
    let forged = d.forged_settlement().await?;
    let [
        unsigned,
        other_body,
        other_secret,
        altered,
        raw,
        duplicate,
        concurrent,
    ] = <[Event; 7]>::try_from(settled).map_err(|_| ApiError("no checkouts".into()))?;

    let mut tasks = tokio::task::JoinSet::new();
    let spawn = |tasks: &mut tokio::task::JoinSet<_>, f: Pin<'static>| {
        tasks.spawn(f);
    };
    spawn(
        &mut tasks,
        Box::pin(signed_events(Arc::clone(&ctx), documented)),
    );
    let refusals = [
        (
            Rule::UnsignedRefused,
            Signing::Missing,
            "unsigned",
            unsigned,
        ),
        (
            Rule::WrongSignatureRefused,
            Signing::OtherBody,
            "another body's signature",
            other_body,
        ),
        (
            Rule::OtherSecretRefused,
            Signing::OtherSecret,
            "signed with another secret",
            other_secret,
        ),
        (
            Rule::AlteredBodyRefused,
            Signing::Correct,
            "changed after signing",
            altered,
        ),
    ];
    for (rule, signing, what, event) in refusals {
        spawn(
            &mut tasks,
            Box::pin(refusal(Arc::clone(&ctx), rule, signing, what, event)),
        );
    }
    spawn(&mut tasks, Box::pin(raw_bytes(Arc::clone(&ctx), raw)));
    spawn(
        &mut tasks,
        Box::pin(duplicates(Arc::clone(&ctx), duplicate)),
    );
    spawn(
        &mut tasks,
        Box::pin(concurrent_duplicates(Arc::clone(&ctx), concurrent)),
    );
    spawn(&mut tasks, Box::pin(out_of_order(Arc::clone(&ctx), pair)));
    spawn(
        &mut tasks,
        Box::pin(unknown_type(Arc::clone(&ctx), unknown)),
    );
    spawn(&mut tasks, Box::pin(replay(Arc::clone(&ctx), forged)));
    let mut rules = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(reports) => rules.extend(reports),
            Err(e) => {
                return Err(SetupError::Internal(format!("a rule stopped: {e}")));
            }
        }
    }
    rules.push(in_time(&ctx.check, &rules));
    rules.sort_by_key(|r| r.rule);
    let check = &ctx.check;
    let cause = cause(&rules);
    Ok(Report {
        check: "receiver",
        api: check.api.name(),
        subject: check.url.clone(),
        api_base: ctx.driver.base.clone(),
        probe: check.probe.clone(),
        checked_against,
        timeout_ms: millis(check.timeout),
        rules,
        cause,
        elapsed_ms: millis(started.elapsed()),
    })
}

type Pin<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Vec<RuleReport>> + Send + 'a>>;

/// One `GET` of the receiver's URL, any answer welcome: an endpoint nobody listens on, or
/// whose certificate is not trusted, is a setup error (exit 2) at once rather than twelve
/// failed rules. A `GET` changes nothing a webhook receiver keeps.
async fn reachable(client: &Client, url: &str) -> Result<(), SetupError> {
    let out = Outgoing {
        method: "GET".into(),
        url: url.to_owned(),
        headers: vec![("User-Agent".into(), "conformance-webhooks".into())],
        body: Bytes::new(),
    };
    match client.send(&out).await {
        Ok(_) => Ok(()),
        Err(e) => Err(SetupError::Receiver {
            url: url.to_owned(),
            detail: e.to_string(),
        }),
    }
}

/// How a delivery is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signing {
    Correct,
    Missing,
    /// The signature of another body, made with the right secret.
    OtherBody,
    OtherSecret,
}

impl Ctx {
    /// Sends `body` about `event` to the receiver, signed as `signing` says.
    async fn send(&self, event: &Event, body: Bytes, signing: Signing, what: &str) -> Sent {
        let secret = self.check.secret.as_bytes();
        let signature = match signing {
            Signing::Correct => Some(self.check.api.sign_webhook(secret, &body)),
            Signing::Missing => None,
            Signing::OtherBody => {
                let mut other = body.to_vec();
                other.extend_from_slice(b" ");
                Some(self.check.api.sign_webhook(secret, &other))
            }
            Signing::OtherSecret => {
                let mut other = secret.to_vec();
                other.extend_from_slice(b"-other");
                Some(self.check.api.sign_webhook(&other, &body))
            }
        };
        self.deliver(event, body, signature, what).await
    }

    /// POSTs `body` as the vendor would, with `signature` (if any) in the API's header.
    async fn deliver(
        &self,
        event: &Event,
        body: Bytes,
        signature: Option<String>,
        what: &str,
    ) -> Sent {
        let mut headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("User-Agent".to_owned(), "conformance-webhooks".to_owned()),
        ];
        if self.check.api == Api::Recharge {
            headers.push((
                generated::webhooks::recharge::TOPIC_HEADER.to_owned(),
                event.kind.clone(),
            ));
        }
        let signature_header = self.check.api.webhook_signature_header();
        if let Some(s) = signature {
            headers.push((signature_header.to_owned(), s));
        }
        let out = Outgoing {
            method: "POST".into(),
            url: self.check.url.clone(),
            headers,
            body,
        };
        let started = Instant::now();
        let got = self.client.send(&out).await;
        let elapsed_ms = millis(started.elapsed());
        let what = format!("{} {} ({what})", event.kind, event.checkout);
        match got {
            Ok(r) => Sent {
                what,
                status: Some(r.status),
                error: None,
                elapsed_ms,
            },
            Err(e) => Sent {
                what,
                status: None,
                error: Some(match e {
                    TransportError::Timeout(_) => {
                        format!("no answer within {} ms", millis(self.check.timeout))
                    }
                    other => other.to_string(),
                }),
                elapsed_ms,
            },
        }
    }

    /// The probe's view of a checkout once the receiver is done with it. A receiver may
    /// answer first and work after (a queue): nothing done is read only after the whole
    /// settling time; something done, once it has held still for a while.
    async fn probe_of(&self, checkout: &str) -> Result<(u64, Value), String> {
        let deadline = Instant::now() + PROBE_SETTLE;
        let mut seen = self.probe_once(checkout).await?;
        let mut since = Instant::now();
        loop {
            let now = Instant::now();
            if now >= deadline || (seen.0 > 0 && now.duration_since(since) >= PROBE_STILL) {
                return Ok(seen);
            }
            tokio::time::sleep(PROBE_STEP).await;
            let read = self.probe_once(checkout).await?;
            if read != seen {
                seen = read;
                since = Instant::now();
            }
        }
    }

    async fn probe_once(&self, checkout: &str) -> Result<(u64, Value), String> {
        let Some(probe) = &self.check.probe else {
            return Err("no probe".into());
        };
        let sep = if probe.contains('?') { '&' } else { '?' };
        let out = Outgoing {
            method: "GET".into(),
            url: format!("{probe}{sep}checkout={checkout}"),
            headers: vec![("Accept".into(), "application/json".into())],
            body: Bytes::new(),
        };
        let got = self
            .probe_client
            .send(&out)
            .await
            .map_err(|e| e.to_string())?;
        if got.status != 200 {
            return Err(format!("GET {} answered {}", out.url, got.status));
        }
        let v: Value = serde_json::from_slice(&got.body)
            .map_err(|e| format!("GET {} is not JSON: {e}", out.url))?;
        let n = v
            .get("fulfilments")
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("GET {} has no integer `fulfilments`: {v}", out.url))?;
        Ok((n, v.get("updated_at").cloned().unwrap_or(Value::Null)))
    }

    /// The fulfilments of `checkout`, or the verdict when the probe cannot say.
    async fn fulfilments(&self, checkout: &str) -> Result<u64, Outcome> {
        if self.check.probe.is_none() {
            return Err(no_probe());
        }
        self.probe_of(checkout)
            .await
            .map(|(n, _)| n)
            .map_err(|e| Outcome::Failed(format!("the probe failed: {e}")))
    }
}

fn no_probe() -> Outcome {
    Outcome::Skipped("side effects are read from the receiver's probe: give --probe".into())
}

fn report(rule: Rule, outcome: Outcome, sent: Vec<Sent>) -> RuleReport {
    RuleReport {
        rule,
        outcome,
        sent,
    }
}

async fn signed_events(ctx: Arc<Ctx>, events: Vec<Event>) -> Vec<RuleReport> {
    let mut sent = Vec::new();
    for e in &events {
        sent.push(
            ctx.send(e, e.body.clone(), Signing::Correct, "signed")
                .await,
        );
    }
    let refused: Vec<&Sent> = sent.iter().filter(|s| !s.accepted()).collect();
    let outcome = if !refused.is_empty() {
        Outcome::Failed(format!(
            "{} of {} correctly signed events not accepted: {}",
            refused.len(),
            sent.len(),
            refused
                .iter()
                .map(|s| format!("{} → {}", s.what, s.answer()))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    } else if ctx.check.probe.is_some() {
        // The settled checkout (the first event's) must be fulfilled exactly once, whatever
        // else arrived about it (ReCharge sends both `processed` and `completed`).
        let settled = &events[0].checkout;
        match ctx.fulfilments(settled).await {
            Ok(1) => Outcome::Passed,
            Ok(n) => Outcome::Failed(format!(
                "the settled checkout {settled} was fulfilled {n} times (expected once)"
            )),
            Err(o) => o,
        }
    } else {
        Outcome::Passed
    };
    vec![report(Rule::SignedEventsAccepted, outcome, sent)]
}

/// One refusal, on a checkout of its own, so one receiver bug fails one rule.
async fn refusal(
    ctx: Arc<Ctx>,
    rule: Rule,
    signing: Signing,
    what: &'static str,
    event: Event,
) -> Vec<RuleReport> {
    let sent = if rule == Rule::AlteredBodyRefused {
        // The changed body carries the original's signature.
        let body = ctx.driver.altered(&event);
        let original = ctx
            .check
            .api
            .sign_webhook(ctx.check.secret.as_bytes(), &event.body);
        ctx.deliver(&event, body, Some(original), what).await
    } else {
        ctx.send(&event, event.body.clone(), signing, what).await
    };
    let outcome = if sent.accepted() {
        Outcome::Failed(format!(
            "{what}: answered {} (expected a refusal, non-2xx)",
            sent.answer()
        ))
    } else if sent.status.is_none() {
        Outcome::Failed(format!("{what}: {}", sent.answer()))
    } else {
        match ctx.fulfilments(&event.checkout).await {
            Ok(0) | Err(Outcome::Skipped(_)) => Outcome::Passed,
            Ok(n) => Outcome::Failed(format!(
                "{what}: refused with {}, but checkout {} was fulfilled {n} time(s)",
                sent.answer(),
                event.checkout
            )),
            Err(o) => o,
        }
    };
    vec![report(rule, outcome, vec![sent])]
}

async fn raw_bytes(ctx: Arc<Ctx>, event: Event) -> Vec<RuleReport> {
    let body = reformatted(&event.body);
    let sent = ctx
        .send(
            &event,
            body,
            Signing::Correct,
            "re-indented, keys reordered, signed as sent",
        )
        .await;
    let outcome = if !sent.accepted() {
        Outcome::Failed(format!(
            "a correctly signed body written with other whitespace and key order got {}: the signature is checked on something other than the raw bytes (a re-serialisation?)",
            sent.answer()
        ))
    } else {
        match ctx.fulfilments(&event.checkout).await {
            Ok(1) | Err(Outcome::Skipped(_)) => Outcome::Passed,
            Ok(n) => Outcome::Failed(format!(
                "accepted, but checkout {} was fulfilled {n} times (expected once)",
                event.checkout
            )),
            Err(o) => o,
        }
    };
    vec![report(Rule::RawBytesVerified, outcome, vec![sent])]
}

async fn duplicates(ctx: Arc<Ctx>, event: Event) -> Vec<RuleReport> {
    let mut sent = Vec::new();
    for what in ["first delivery", "the same delivery again"] {
        sent.push(
            ctx.send(&event, event.body.clone(), Signing::Correct, what)
                .await,
        );
    }
    let outcome = once(&ctx, &event, &sent).await;
    vec![report(Rule::DuplicateProcessedOnce, outcome, sent)]
}

async fn concurrent_duplicates(ctx: Arc<Ctx>, event: Event) -> Vec<RuleReport> {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..4 {
        let (ctx, event) = (Arc::clone(&ctx), event.clone());
        set.spawn(async move {
            let what = format!("copy {} of 4, sent at once", i + 1);
            ctx.send(&event, event.body.clone(), Signing::Correct, &what)
                .await
        });
    }
    let mut sent = Vec::new();
    while let Some(done) = set.join_next().await {
        sent.push(done.unwrap_or_else(|e| Sent {
            what: "a copy sent at once".into(),
            status: None,
            error: Some(format!("the delivery task stopped: {e}")),
            elapsed_ms: 0,
        }));
    }
    sent.sort_by(|a, b| a.what.cmp(&b.what));
    let outcome = once(&ctx, &event, &sent).await;
    vec![report(
        Rule::ConcurrentDuplicateProcessedOnce,
        outcome,
        sent,
    )]
}

/// Every copy acknowledged (a refusal makes the vendor retry) and the checkout fulfilled once.
async fn once(ctx: &Ctx, event: &Event, sent: &[Sent]) -> Outcome {
    if let Some(s) = sent.iter().find(|s| !s.accepted()) {
        return Outcome::Failed(format!(
            "{} got {} (a duplicate must be acknowledged, or the vendor delivers it again)",
            s.what,
            s.answer()
        ));
    }
    match ctx.fulfilments(&event.checkout).await {
        Ok(1) => Outcome::Passed,
        Ok(n) => Outcome::Failed(format!(
            "{} copies of one event: checkout {} fulfilled {n} times (expected once)",
            sent.len(),
            event.checkout
        )),
        Err(o) => o,
    }
}

async fn out_of_order(ctx: Arc<Ctx>, (newer, older): (Event, Event)) -> Vec<RuleReport> {
    let sent = vec![
        ctx.send(&newer, newer.body.clone(), Signing::Correct, "newer")
            .await,
        ctx.send(
            &older,
            older.body.clone(),
            Signing::Correct,
            "older, delivered late",
        )
        .await,
    ];
    let outcome = if !sent[0].accepted() {
        Outcome::Failed(format!("the newer event got {}", sent[0].answer()))
    } else if newer.updated_at == older.updated_at {
        Outcome::Skipped(format!(
            "the API gave both versions the same updated_at ({}): a rollback cannot be seen",
            newer.updated_at
        ))
    } else if ctx.check.probe.is_none() {
        no_probe()
    } else {
        match ctx.probe_of(&newer.checkout).await {
            Ok((_, Value::Null)) => Outcome::Skipped(
                "the probe reports no updated_at for the checkout: which version is held cannot be seen".into(),
            ),
            Ok((_, held)) if same_instant(&held, &older.updated_at) => Outcome::Failed(format!(
                "after {} (updated_at {}) and then the older {} (updated_at {}), the receiver holds updated_at {held}: rolled back",
                newer.kind, newer.updated_at, older.kind, older.updated_at
            )),
            Ok((_, held)) if same_instant(&held, &newer.updated_at) => Outcome::Passed,
            Ok((_, held)) => Outcome::Failed(format!(
                "the probe reports updated_at {held}, neither the newer {} nor the older {}",
                newer.updated_at, older.updated_at
            )),
            Err(e) => Outcome::Failed(format!("the probe failed: {e}")),
        }
    };
    vec![report(Rule::OutOfOrderKept, outcome, sent)]
}

async fn unknown_type(ctx: Arc<Ctx>, event: Event) -> Vec<RuleReport> {
    let sent = ctx
        .send(
            &event,
            event.body.clone(),
            Signing::Correct,
            "type not in the spec",
        )
        .await;
    let outcome = if sent.accepted() {
        Outcome::Passed
    } else {
        Outcome::Failed(format!(
            "an event of an unlisted type got {} (the vendor retries it, then may disable the endpoint)",
            sent.answer()
        ))
    };
    vec![report(Rule::UnknownEventAcknowledged, outcome, vec![sent])]
}

async fn replay(ctx: Arc<Ctx>, event: Event) -> Vec<RuleReport> {
    let sent = ctx
        .send(
            &event,
            event.body.clone(),
            Signing::Correct,
            "validly signed, but the API says it is not settled",
        )
        .await;
    let outcome = if !sent.accepted() {
        // Refused or unanswered: the receiver never got to decide on the event.
        Outcome::Skipped(format!(
            "the validly signed delivery got {}: not exercised",
            sent.answer()
        ))
    } else {
        match ctx.fulfilments(&event.checkout).await {
            Ok(0) => Outcome::Passed,
            Ok(n) => Outcome::Failed(format!(
                "checkout {} was fulfilled {n} time(s) on a signed event alone; the API says it is not settled (re-fetch the checkout before fulfilling: neither API signs a timestamp, so an old signed body can be replayed)",
                event.checkout
            )),
            Err(o) => o,
        }
    };
    vec![report(Rule::ReplayVerifiedByFetch, outcome, vec![sent])]
}

/// Whether two `updated_at` values name the same instant: Unix seconds as a number or a
/// string, or RFC 3339 in any offset.
fn same_instant(a: &Value, b: &Value) -> bool {
    const NANOS: i128 = 1_000_000_000;
    fn instant(v: &Value) -> Option<i128> {
        match v {
            Value::Number(n) => n.as_i64().map(|s| i128::from(s) * NANOS),
            Value::String(s) => s
                .parse::<i64>()
                .ok()
                .map(|s| i128::from(s) * NANOS)
                .or_else(|| crate::time::parse_rfc3339(s)),
            _ => None,
        }
    }
    a == b || matches!((instant(a), instant(b)), (Some(x), Some(y)) if x == y)
}

/// Every delivery of every rule, against the sender's timeout.
fn in_time(check: &ReceiverCheck, rules: &[RuleReport]) -> RuleReport {
    let limit = millis(check.timeout);
    let all: Vec<&Sent> = rules.iter().flat_map(|r| &r.sent).collect();
    let late: Vec<&&Sent> = all
        .iter()
        .filter(|s| {
            s.elapsed_ms > limit
                || s.error
                    .as_deref()
                    .is_some_and(|e| e.starts_with("no answer within"))
        })
        .collect();
    let slowest = all.iter().map(|s| s.elapsed_ms).max().unwrap_or(0);
    let outcome = if late.is_empty() {
        Outcome::Passed
    } else {
        Outcome::Failed(format!(
            "{} of {} deliveries not answered within {limit} ms (the vendor counts them failed and retries): {}",
            late.len(),
            all.len(),
            late.iter()
                .take(3)
                .map(|s| s.what.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ))
    };
    report(
        Rule::AnswersInTime,
        outcome,
        vec![Sent {
            what: format!("the slowest of {} deliveries", all.len()),
            status: None,
            error: None,
            elapsed_ms: slowest,
        }],
    )
}

/// One cause behind many failures: every correctly signed delivery refused alike (a wrong
/// secret or scheme), or none answered in time.
fn cause(rules: &[RuleReport]) -> Option<String> {
    let signed = rules
        .iter()
        .find(|r| r.rule == Rule::SignedEventsAccepted)?;
    let failures = rules
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
        .count();
    if failures < 2 {
        return None;
    }
    if signed.sent.iter().all(|s| s.error.is_some()) {
        return Some(format!(
            "no correctly signed delivery got an answer ({}): every rule that needs one fails",
            signed.sent.first().map(Sent::answer).unwrap_or_default()
        ));
    }
    let statuses: Vec<Option<u16>> = signed.sent.iter().map(|s| s.status).collect();
    let first = statuses.first().copied().flatten()?;
    if !(200..300).contains(&first) && statuses.iter().all(|s| *s == Some(first)) {
        return Some(format!(
            "every correctly signed delivery was refused with {first}: the receiver does not verify signatures as the vendor makes them (the secret, the scheme or the bytes it hashes); the rules that need an accepted delivery fail for this one cause"
        ));
    }
    None
}
