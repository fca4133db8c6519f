//! Webhook delivery. Deliveries are signed by `generated::webhooks` (`chargily::sign`,
//! `recharge::sign`), the same code a receiver verifies them with.
//!
//! Deliveries run on the server's runtime: a POST with a JSON body, retried on any non-2xx
//! answer or transport error, at most `webhook_attempts` times, with a doubling backoff, and
//! never starting an attempt after `webhook_deadline`. Only `http://` endpoints are reachable
//! (the mock has no TLS client).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::mpsc;

use super::{MockConfig, PlantedBug};
use crate::specs::Api;

/// One webhook to send.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub api: Api,
    /// Chargily event type or ReCharge topic.
    pub event: String,
    pub url: String,
    /// Extra headers (the signature, the topic).
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// A webhook's delivery, as reported by `GET /_mock/webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryRecord {
    pub id: u64,
    pub api: String,
    pub event: String,
    pub url: String,
    pub attempts: u32,
    pub state: DeliveryState,
    /// HTTP status of the last attempt, if it got one.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

#[derive(Debug, Clone, Copy)]
struct Policy {
    attempts: u32,
    backoff: Duration,
    /// The wait doubles after each failed attempt.
    grow: bool,
    deadline: Duration,
    timeout: Duration,
}

type Job = (u64, Delivery);

/// The deliveries, oldest first, at most `limit` of them ([`MockConfig::store_limit`]): a
/// long-lived mock forgets its oldest deliveries rather than grow.
#[derive(Debug)]
struct Log {
    records: std::collections::VecDeque<DeliveryRecord>,
    limit: usize,
}

/// The queue of webhooks and their log.
#[derive(Debug)]
pub(crate) struct Outbox {
    tx: mpsc::UnboundedSender<Job>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Job>>>,
    log: Arc<Mutex<Log>>,
    next: AtomicU64,
    policy: Policy,
    /// A planted sender bug (`PlantedBug::is_webhook`), with the secrets to re-sign by.
    planted: Option<PlantedBug>,
    chargily_secret: String,
    recharge_secret: String,
}

impl Outbox {
    pub fn new(config: &MockConfig) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            tx,
            rx: Mutex::new(Some(rx)),
            log: Arc::new(Mutex::new(Log {
                records: std::collections::VecDeque::new(),
                limit: config.store_limit.max(1),
            })),
            next: AtomicU64::new(1),
            policy: Policy {
                attempts: match config.planted {
                    Some(PlantedBug::WebhookNoRetry) => 1,
                    _ => config.webhook_attempts.max(1),
                },
                backoff: match config.planted {
                    Some(PlantedBug::WebhookNoBackoff) => Duration::from_millis(10),
                    _ => config.webhook_backoff,
                },
                grow: config.planted != Some(PlantedBug::WebhookNoBackoff),
                deadline: config.webhook_deadline,
                timeout: config.webhook_timeout,
            },
            planted: config.planted.filter(|b| b.is_webhook()),
            chargily_secret: config.chargily_secret_key.clone(),
            recharge_secret: config.recharge_client_secret.clone(),
        }
    }

    /// `d` as a planted sender bug changes it, or `None` when the bug drops it.
    fn planted(&self, mut d: Delivery) -> Option<Delivery> {
        let (api, header) = (d.api, d.api.webhook_signature_header());
        let secret = match d.api {
            Api::Chargily => self.chargily_secret.as_bytes(),
            Api::Recharge => self.recharge_secret.as_bytes(),
        };
        let signature = d
            .headers
            .iter_mut()
            .find(|(name, _)| name.eq_ignore_ascii_case(header));
        match (self.planted, signature) {
            (Some(PlantedBug::WebhookMissing), _)
                if matches!(d.event.as_str(), "checkout.paid" | "checkout/processed") =>
            {
                return None;
            }
            (Some(PlantedBug::WebhookHeaderName), Some((name, _))) => {
                *name = match d.api {
                    Api::Chargily => "X-Chargily-Signature".into(),
                    Api::Recharge => "X-Recharge-Signature".into(),
                };
            }
            (Some(PlantedBug::WebhookWrongSecret), Some((_, value))) => {
                *value = api.sign_webhook(b"not-the-secret", &d.body);
            }
            (Some(PlantedBug::WebhookInvalidPayload), Some((_, value))) => {
                let mut v: serde_json::Value =
                    serde_json::from_slice(&d.body).unwrap_or(serde_json::Value::Null);
                match d.api {
                    Api::Chargily => v["data"]["amount"] = "a lot".into(),
                    Api::Recharge => v["checkout"]["line_items"] = "none".into(),
                }
                d.body = Bytes::from(serde_json::to_vec(&v).unwrap_or_default());
                *value = api.sign_webhook(secret, &d.body);
            }
            _ => {}
        }
        Some(d)
    }

    /// Queues a delivery; returns its id.
    pub fn send(&self, d: Delivery) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let Some(d) = self.planted(d) else {
            return id;
        };
        let mut log = lock(&self.log);
        log.records.push_back(DeliveryRecord {
            id,
            api: match d.api {
                Api::Chargily => "chargily".into(),
                Api::Recharge => "recharge".into(),
            },
            event: d.event.clone(),
            url: d.url.clone(),
            attempts: 0,
            state: DeliveryState::Pending,
            last_status: None,
            last_error: None,
        });
        if log.records.len() > log.limit {
            log.records.pop_front();
        }
        drop(log);
        // Without a running server the receiver is never taken and jobs simply wait.
        let _ = self.tx.send((id, d));
        id
    }

    pub fn records(&self) -> Vec<DeliveryRecord> {
        lock(&self.log).records.iter().cloned().collect()
    }

    /// Starts the delivery worker on the current runtime (once).
    pub fn spawn_worker(&self) {
        let Some(mut rx) = lock(&self.rx).take() else {
            return;
        };
        let log = Arc::clone(&self.log);
        let policy = self.policy;
        tokio::spawn(async move {
            let mut connector = HttpConnector::new();
            connector.set_connect_timeout(Some(policy.timeout));
            let client: Client<HttpConnector, Full<Bytes>> =
                Client::builder(TokioExecutor::new()).build(connector);
            while let Some((id, delivery)) = rx.recv().await {
                tokio::spawn(deliver(
                    client.clone(),
                    id,
                    delivery,
                    Arc::clone(&log),
                    policy,
                ));
            }
        });
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Changes the record of delivery `id`, if it is still in the log. Ids are consecutive, so
/// its place follows from the oldest's id.
fn update(log: &Mutex<Log>, id: u64, f: impl FnOnce(&mut DeliveryRecord)) {
    let mut log = lock(log);
    let Some(first) = log.records.front().map(|r| r.id) else {
        return;
    };
    let at = usize::try_from(id.wrapping_sub(first)).unwrap_or(usize::MAX);
    if let Some(r) = log.records.get_mut(at).filter(|r| r.id == id) {
        f(r);
    }
}

async fn deliver(
    client: Client<HttpConnector, Full<Bytes>>,
    id: u64,
    d: Delivery,
    log: Arc<Mutex<Log>>,
    policy: Policy,
) {
    let started = Instant::now();
    let mut backoff = policy.backoff;
    for attempt in 1..=policy.attempts {
        let outcome = attempt_once(&client, &d, policy.timeout).await;
        let delivered = matches!(outcome, Ok(status) if (200..300).contains(&status));
        update(&log, id, |r| {
            r.attempts = attempt;
            match &outcome {
                Ok(status) => {
                    r.last_status = Some(*status);
                    r.last_error = None;
                }
                Err(e) => r.last_error = Some(e.clone()),
            }
            if delivered {
                r.state = DeliveryState::Delivered;
            }
        });
        if delivered {
            return;
        }
        if attempt == policy.attempts || started.elapsed() + backoff > policy.deadline {
            break;
        }
        tokio::time::sleep(backoff).await;
        if policy.grow {
            backoff = backoff.saturating_mul(2);
        }
    }
    tracing::warn!("webhook {id} ({}) to {} was not delivered", d.event, d.url);
    update(&log, id, |r| r.state = DeliveryState::Failed);
}

async fn attempt_once(
    client: &Client<HttpConnector, Full<Bytes>>,
    d: &Delivery,
    timeout: Duration,
) -> Result<u16, String> {
    let uri: http::Uri = d.url.parse().map_err(|e| format!("invalid URL: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err("only http:// webhook endpoints are supported by the mock".into());
    }
    let mut builder = http::Request::post(uri)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::USER_AGENT, "conformance-mock");
    for (k, v) in &d.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let request = builder
        .body(Full::new(d.body.clone()))
        .map_err(|e| e.to_string())?;
    match tokio::time::timeout(timeout, client.request(request)).await {
        Err(_) => Err(format!("no answer within {timeout:?}")),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(response)) => Ok(response.status().as_u16()),
    }
}
