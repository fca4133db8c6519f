//! The API side of a webhook check: checkouts created and settled in the API a receiver
//! re-fetches from (the embedded mock, or a target offering the mock's `/_mock/` controls), and
//! the events the vendor would send about them, as bytes.

use bytes::Bytes;
use generated::chargily as g;
use serde_json::{Value, json};

use crate::replay::client::{Client, Outgoing};
use crate::specs::Api;

/// How many times a call the API answers 429 is tried.
const RATE_LIMIT_TRIES: u32 = 20;

/// The body of a ReCharge charge with Stripe's reusable test token.
fn charge_body() -> Value {
    json!({"checkout_charge": {"payment_processor": "stripe", "payment_token": "tok_visa"}})
}

/// One event as the vendor sends it: its type (Chargily) or topic (ReCharge), the checkout it
/// is about, and the body.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: String,
    pub checkout: String,
    pub body: Bytes,
    /// The `updated_at` of the checkout this event carries (the version a receiver may hold).
    pub updated_at: Value,
}

/// Why the API could not be driven: the check cannot run.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ApiError(pub String);

/// Drives one API over HTTP with its credentials.
#[derive(Debug, Clone)]
pub struct Driver {
    pub api: Api,
    client: Client,
    /// The API's base URL (`…/chargily/test/api/v2`, `…/recharge`).
    pub base: String,
    /// The mock's controls (`http://host:port/_mock`).
    control: String,
    key: String,
    events: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Driver {
    pub fn new(api: Api, client: Client, base: &str, key: &str) -> Result<Self, ApiError> {
        let base = base.trim_end_matches('/').to_owned();
        let uri: http::Uri = base
            .parse()
            .map_err(|e| ApiError(format!("the API URL `{base}` is not a URL: {e}")))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(ApiError(format!(
                "the API URL `{base}` needs a scheme and a host (http://host:port/…)"
            )));
        };
        Ok(Self {
            api,
            client,
            control: format!("{scheme}://{authority}/_mock"),
            base,
            key: key.to_owned(),
            events: std::sync::Arc::default(),
        })
    }

    async fn call(
        &self,
        method: &str,
        url: String,
        body: Option<Value>,
    ) -> Result<Bytes, ApiError> {
        let mut headers = vec![("Accept".to_owned(), "application/json".to_owned())];
        match self.api {
            Api::Chargily => headers.push(("Authorization".into(), format!("Bearer {}", self.key))),
            Api::Recharge => {
                headers.push(("X-Recharge-Access-Token".into(), self.key.clone()));
                headers.push(("X-Recharge-Version".into(), "2021-01".into()));
            }
        }
        let body = match body {
            Some(v) => {
                headers.push(("Content-Type".into(), "application/json".into()));
                Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
            }
            None => Bytes::new(),
        };
        let out = Outgoing {
            method: method.to_owned(),
            url: url.clone(),
            headers,
            body,
        };
        // A rate-limited API (ReCharge's leaky bucket drains 2 calls a second) is waited for,
        // as its `Retry-After` says or a second at a time.
        let mut tries = 0;
        let got = loop {
            let got = self
                .client
                .send(&out)
                .await
                .map_err(|e| ApiError(format!("{method} {url}: {e}")))?;
            tries += 1;
            if got.status != 429 || tries >= RATE_LIMIT_TRIES {
                break got;
            }
            let wait = got
                .header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(1)
                .min(10);
            tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
        };
        if !(200..300).contains(&got.status) {
            let hint = if url.starts_with(&self.control) {
                " (settling a checkout needs the mock's /_mock controls: run against the embedded \
                 mock or `conformance mock`)"
            } else {
                ""
            };
            return Err(ApiError(format!(
                "{method} {url} answered {}: {}{hint}",
                got.status,
                String::from_utf8_lossy(&got.body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            )));
        }
        Ok(got.body)
    }

    /// A fresh event id (Chargily ids are 26 lowercase characters).
    fn event_id(&self) -> String {
        let n = self
            .events
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("01whcheck{n:017}")
    }

    // ----- Chargily -----

    async fn chargily_create(&self) -> Result<String, ApiError> {
        let body = self
            .call(
                "POST",
                format!("{}/checkouts", self.base),
                Some(json!({"amount": 5000, "currency": "dzd",
                            "success_url": "https://shop.example/thanks"})),
            )
            .await?;
        let checkout: g::Checkout = decode(&body, "the created checkout")?;
        Ok(checkout.id)
    }

    async fn chargily_fetch(&self, id: &str) -> Result<g::Checkout, ApiError> {
        let body = self
            .call("GET", format!("{}/checkouts/{id}", self.base), None)
            .await?;
        decode(&body, "the checkout")
    }

    fn chargily_event(&self, c: &g::Checkout, kind: &str) -> Event {
        let kind_value = match kind {
            "checkout.paid" => g::WebhookEventType::CheckoutPaid,
            "checkout.failed" => g::WebhookEventType::CheckoutFailed,
            "checkout.canceled" => g::WebhookEventType::CheckoutCanceled,
            "checkout.expired" => g::WebhookEventType::CheckoutExpired,
            other => g::WebhookEventType::Unknown(other.to_owned()),
        };
        let event = crate::mock::chargily_event(self.event_id(), c, kind_value, c.updated_at);
        Event {
            kind: kind.to_owned(),
            checkout: c.id.clone(),
            // Our own types always serialise.
            body: Bytes::from(serde_json::to_vec(&event).unwrap_or_default()),
            updated_at: json!(c.updated_at),
        }
    }

    // ----- ReCharge -----

    async fn recharge_create(&self) -> Result<(String, Bytes), ApiError> {
        let body = self
            .call(
                "POST",
                format!("{}/checkouts", self.base),
                Some(
                    json!({"checkout": {"email": "buyer@example.com", "line_items": [
                    {"variant_id": 31258201604163_u64, "quantity": 1, "price": "24.00"}]}}),
                ),
            )
            .await?;
        let token = checkout_field(&body, "token")?
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError("the created checkout's `token` is not a string".into()))?
            .to_owned();
        Ok((token, body))
    }

    fn recharge_event(&self, token: &str, topic: &str, body: Bytes) -> Result<Event, ApiError> {
        Ok(Event {
            kind: topic.to_owned(),
            checkout: token.to_owned(),
            updated_at: checkout_field(&body, "updated_at")?,
            body,
        })
    }

    // ----- what the rules need, for either API -----

    /// A checkout settled in the API (Chargily: paid; ReCharge: charged), and the event that
    /// says so (`checkout.paid`; `checkout/processed`).
    pub async fn settled(&self) -> Result<Event, ApiError> {
        match self.api {
            Api::Chargily => {
                let id = self.chargily_create().await?;
                self.chargily_settle(&id, true).await?;
                let c = self.chargily_fetch(&id).await?;
                Ok(self.chargily_event(&c, "checkout.paid"))
            }
            Api::Recharge => {
                let (token, _) = self.recharge_create().await?;
                self.recharge_charge(&token).await?;
                let body = self
                    .call("GET", format!("{}/checkouts/{token}", self.base), None)
                    .await?;
                self.recharge_event(&token, "checkout/processed", body)
            }
        }
    }

    /// A checkout the API says is not settled, and a validly signable event claiming it is
    /// (`checkout.paid` with status `paid`; `checkout/processed` with `completed_at` set): a
    /// replay or a forgery by someone holding an old signed body.
    pub async fn forged_settlement(&self) -> Result<Event, ApiError> {
        match self.api {
            Api::Chargily => {
                let id = self.chargily_create().await?;
                let mut c = self.chargily_fetch(&id).await?;
                c.status = g::CheckoutStatus::Paid;
                Ok(self.chargily_event(&c, "checkout.paid"))
            }
            Api::Recharge => {
                let (token, body) = self.recharge_create().await?;
                let mut v: Value = decode(&body, "the created checkout")?;
                if let Some(c) = v.get_mut("checkout") {
                    let at = c.get("updated_at").cloned().unwrap_or(Value::Null);
                    c["completed_at"] = at;
                }
                let body = Bytes::from(serde_json::to_vec(&v).unwrap_or_default());
                self.recharge_event(&token, "checkout/processed", body)
            }
        }
    }

    /// One event of every documented type or topic, each about a checkout in the state the
    /// event reports where the API can produce it.
    pub async fn every_documented_event(&self) -> Result<Vec<Event>, ApiError> {
        match self.api {
            Api::Chargily => {
                let paid = self.settled().await?;
                let failed = self.chargily_create().await?;
                self.chargily_settle(&failed, false).await?;
                let failed = self.chargily_fetch(&failed).await?;
                let expired = self.chargily_create().await?;
                self.call(
                    "POST",
                    format!("{}/checkouts/{expired}/expire", self.base),
                    None,
                )
                .await?;
                let expired = self.chargily_fetch(&expired).await?;
                Ok(vec![
                    paid,
                    self.chargily_event(&failed, "checkout.failed"),
                    self.chargily_event(&expired, "checkout.expired"),
                    // The API cannot cancel a checkout: an expired one stands in.
                    self.chargily_event(&expired, "checkout.canceled"),
                ])
            }
            Api::Recharge => {
                let (token, created) = self.recharge_create().await?;
                let updated = self.recharge_update(&token, 0).await?;
                self.recharge_charge(&token).await?;
                let processed = self
                    .call("GET", format!("{}/checkouts/{token}", self.base), None)
                    .await?;
                Ok(vec![
                    self.recharge_event(&token, "checkout/created", created)?,
                    self.recharge_event(&token, "checkout/updated", updated)?,
                    self.recharge_event(&token, "checkout/processed", processed.clone())?,
                    self.recharge_event(&token, "checkout/completed", processed)?,
                ])
            }
        }
    }

    /// Two events about one checkout, the newer first as a late delivery would reorder them:
    /// Chargily `checkout.paid`, then a stale `checkout.failed` from a minute before;
    /// ReCharge `checkout/updated`, then the older `checkout/created`.
    pub async fn newer_then_older(&self) -> Result<(Event, Event), ApiError> {
        match self.api {
            Api::Chargily => {
                let paid = self.settled().await?;
                let mut c = self.chargily_fetch(&paid.checkout).await?;
                c.status = g::CheckoutStatus::Failed;
                c.updated_at -= 60;
                let failed = self.chargily_event(&c, "checkout.failed");
                Ok((paid, failed))
            }
            Api::Recharge => {
                let (token, created) = self.recharge_create().await?;
                let created = self.recharge_event(&token, "checkout/created", created)?;
                // Timestamps have a resolution (milliseconds on the mock): an update within
                // the same tick would carry the same `updated_at`, and a rollback could not be
                // seen. A few tries a tick apart.
                let mut updated = None;
                for attempt in 0..5_u32 {
                    tokio::time::sleep(std::time::Duration::from_millis(2 << attempt)).await;
                    let body = self.recharge_update(&token, attempt).await?;
                    let event = self.recharge_event(&token, "checkout/updated", body)?;
                    let later = event.updated_at != created.updated_at;
                    updated = Some(event);
                    if later {
                        break;
                    }
                }
                let updated = updated.ok_or_else(|| ApiError("no update".into()))?;
                Ok((updated, created))
            }
        }
    }

    /// An event of a type the spec does not list, of the same family (`checkout.refunded`,
    /// `checkout/deleted`), about a settled checkout.
    pub async fn unknown_event(&self) -> Result<Event, ApiError> {
        let mut event = self.settled().await?;
        match self.api {
            Api::Chargily => {
                let mut v: Value = decode(&event.body, "the event")?;
                v["type"] = json!("checkout.refunded");
                event.body = Bytes::from(serde_json::to_vec(&v).unwrap_or_default());
                event.kind = "checkout.refunded".into();
            }
            Api::Recharge => event.kind = "checkout/deleted".into(),
        }
        Ok(event)
    }

    /// `event`'s body with a value changed (the amount or the total), as an attacker would
    /// change it after signing.
    pub fn altered(&self, event: &Event) -> Bytes {
        let mut v: Value = serde_json::from_slice(&event.body).unwrap_or(Value::Null);
        match self.api {
            Api::Chargily => v["data"]["amount"] = json!(1),
            Api::Recharge => v["checkout"]["total_price"] = json!("0.01"),
        }
        Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
    }
}

impl Driver {
    // ----- what the sender check needs -----

    /// A Chargily checkout whose events go to `endpoint`; its id.
    pub async fn chargily_checkout_for(&self, endpoint: &str) -> Result<String, ApiError> {
        let body = self
            .call(
                "POST",
                format!("{}/checkouts", self.base),
                Some(json!({"amount": 5000, "currency": "dzd",
                            "success_url": "https://shop.example/thanks",
                            "webhook_endpoint": endpoint})),
            )
            .await?;
        let checkout: g::Checkout = decode(&body, "the created checkout")?;
        Ok(checkout.id)
    }

    /// Pays (or fails) a pending Chargily checkout through the mock's controls.
    pub async fn chargily_settle(&self, id: &str, pay: bool) -> Result<(), ApiError> {
        let action = if pay { "pay" } else { "fail" };
        self.call(
            "POST",
            format!("{}/chargily/test/checkouts/{id}/{action}", self.control),
            None,
        )
        .await
        .map(drop)
    }

    /// Registers `address` for every ReCharge checkout topic (the mock's stand-in for
    /// ReCharge's Webhooks API).
    pub async fn recharge_subscribe(&self, address: &str) -> Result<(), ApiError> {
        self.call(
            "POST",
            format!("{}/recharge/webhooks", self.control),
            Some(json!({"address": address})),
        )
        .await
        .map(drop)
    }

    /// A new ReCharge checkout; its token.
    pub async fn recharge_checkout(&self) -> Result<String, ApiError> {
        self.recharge_create().await.map(|(token, _)| token)
    }

    /// Changes a ReCharge checkout's email (to the `n`th address); the updated checkout.
    pub async fn recharge_update(&self, token: &str, n: u32) -> Result<Bytes, ApiError> {
        self.call(
            "PUT",
            format!("{}/checkouts/{token}", self.base),
            Some(json!({"checkout": {"email": format!("changed{n}@example.com")}})),
        )
        .await
    }

    /// Charges a ReCharge checkout with Stripe's reusable test token.
    pub async fn recharge_charge(&self, token: &str) -> Result<(), ApiError> {
        self.call(
            "POST",
            format!("{}/checkouts/{token}/charge", self.base),
            Some(charge_body()),
        )
        .await
        .map(drop)
    }

    /// The checkout as the API has it now (ReCharge: inside its envelope), or `None`.
    pub async fn current(&self, id: &str) -> Option<Value> {
        let body = self
            .call("GET", format!("{}/checkouts/{id}", self.base), None)
            .await
            .ok()?;
        let v: Value = serde_json::from_slice(&body).ok()?;
        Some(match self.api {
            Api::Chargily => v,
            Api::Recharge => v.get("checkout").cloned()?,
        })
    }
}

/// `event`'s JSON written differently, as another JSON library would: indented, with the keys
/// of every object in reverse order. The same data; other bytes.
pub fn reformatted(body: &[u8]) -> Bytes {
    fn reverse(v: Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .rev()
                    .map(|(k, v)| (k, reverse(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(reverse).collect()),
            other => other,
        }
    }
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    Bytes::from(serde_json::to_vec_pretty(&reverse(v)).unwrap_or_default())
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError(format!(
            "{what} from the API does not decode: {e}: {}",
            String::from_utf8_lossy(body)
                .chars()
                .take(300)
                .collect::<String>()
        ))
    })
}

/// A field of `{"checkout": {...}}`.
fn checkout_field(body: &[u8], name: &str) -> Result<Value, ApiError> {
    let v: Value = decode(body, "the checkout")?;
    v.get("checkout")
        .and_then(|c| c.get(name))
        .cloned()
        .ok_or_else(|| ApiError(format!("the API's checkout has no `{name}`")))
}
