//! ReCharge Checkouts, API version 2021-01: the five operations of
//! `spec/recharge-2021-01.yaml` on an in-memory store.
//!
//! Behaviour (reference §2): `X-Recharge-Access-Token` authentication; `X-Recharge-Version`
//! other than `2021-01` gets 426; a leaky bucket per token (40 calls, draining 2 per second)
//! reported in `X-Recharge-Limit`, 429 when full; errors are `{"errors": ...}` (a string, or
//! field → messages in marshmallow's words); wrapped and bare request envelopes are both
//! accepted; tokens are 32 hex characters; timestamps are RFC 3339 with microseconds.
//!
//! Charges follow Stripe's test-token convention: a `payment_token` containing
//! `chargeDeclined…` (or `authenticationRequired`) declines with the message RechargeSharp
//! records; real-looking single-use tokens (`tok_` with digits) cannot be reused; a processed
//! checkout cannot be charged again (422); two charges of one checkout in flight at once: one
//! wins, the other gets 409.
//!
//! Inferences [INF]: create answers 200 (as recorded in 2019); a line item without `price`
//! gets a deterministic price derived from its `variant_id`; shipping rates are derived from
//! the shipping address (US: Standard 5.00 and Express 15.00; elsewhere: International 25.00).

// Generated values are built on their `new` even where every property is set today: a
// property the spec adds later is then filled there, with no change here.
#![allow(clippy::needless_update)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use generated::recharge as r;
use generated::recharge::client::Reply;
use generated::recharge::operations as ops;
use generated::recharge::server::{self as rs, Context, Refusal};
use generated::recharge::support::OptionalNullable;
use http::StatusCode;
use oas::check::Spec;
use serde_json::{Value, json};

use super::RECHARGE_PREFIX;
use super::app::{Env, SpecIndexes, body_issues, body_refusal, fails, finish, group, incoming};
use super::exchange::{Request, Response};
use super::store::Table;
use super::support::{Cents, hex32, json_bytes};
use super::validate::{Issue, IssueKind, check_body};
use super::webhook::Delivery;
use crate::specs::Api;
use crate::time::rfc3339_micros;

/// Leaky bucket size [DOC `api-rate-limits`]; it drains `MockConfig::recharge_drain_per_second`
/// calls per second (ReCharge: 2).
const BUCKET: f64 = 40.0;
const VERSION: &str = "2021-01";
/// What follows the calls used in `X-Recharge-Limit` (`BUCKET`).
const LIMIT_TAIL: &str = "/40";

#[derive(Debug)]
pub(crate) struct Recharge {
    spec: Arc<Spec>,
    /// Each routed operation's index in `spec`.
    indexes: SpecIndexes<rs::Route>,
    data: RwLock<Data>,
    /// By token; only the configured token reaches its bucket (`admit`).
    buckets: Mutex<HashMap<String, Bucket, foldhash::fast::RandomState>>,
    hooks: RwLock<Vec<Hook>>,
}

#[derive(Debug)]
struct Data {
    checkouts: Table<Record>,
    /// Single-use processor tokens already charged.
    used_tokens: Table<()>,
}

/// A stored checkout, kept as its `{"checkout": ...}` JSON: a retrieve sends it as it is, and
/// one allocation of about 1 KB holds what a `r::Checkout` spreads over 2 KB and twenty
/// allocations. Writes (update, charge) decode it, change it and encode it again.
#[derive(Debug, Clone)]
struct Record {
    /// Shared with the answers that send it (no copy per retrieve).
    body: Arc<[u8]>,
    /// `completed_at` is set: the checkout was charged.
    completed: bool,
    /// A charge is in flight.
    charging: bool,
}

impl Record {
    fn new(checkout: &r::Checkout) -> Self {
        Self {
            // Our own types always serialise; an empty body would fail loudly on decode.
            // Exact size: the encoder's buffer has up to twice the capacity it needs.
            body: Arc::from(json_bytes(&CheckoutRef { checkout })),
            completed: checkout.completed_at.is_some(),
            charging: false,
        }
    }

    /// Replaces the stored checkout, keeping the charge flag.
    fn store(&mut self, checkout: &r::Checkout) {
        let charging = self.charging;
        *self = Self::new(checkout);
        self.charging = charging;
    }

    fn checkout(&self) -> Result<r::Checkout, Fail> {
        serde_json::from_slice::<r::CheckoutResponse>(&self.body)
            .map(|r| r.checkout)
            .map_err(|e| {
                tracing::error!("stored checkout does not decode: {e}");
                Fail::Message(500, "Internal Server Error".into())
            })
    }
}

/// `{"checkout": ...}` of a borrowed checkout: `r::CheckoutResponse` without the clone.
#[derive(serde::Serialize)]
struct CheckoutRef<'a> {
    checkout: &'a r::Checkout,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    level: f64,
    at: Instant,
}

#[derive(Debug, Clone, serde::Serialize)]
struct Hook {
    id: u64,
    address: String,
    topics: Vec<r::CheckoutWebhookTopic>,
}

impl Recharge {
    /// The store keeps at most `limit` checkouts (the oldest go first).
    pub fn new(spec: Arc<Spec>, limit: usize) -> Self {
        Self {
            indexes: SpecIndexes::new(&spec, rs::ROUTES, |r| r.id),
            spec,
            data: RwLock::new(Data {
                checkouts: Table::new(limit),
                used_tokens: Table::new(limit),
            }),
            buckets: Mutex::new(HashMap::default()),
            hooks: RwLock::new(Vec::new()),
        }
    }

    pub fn spec(&self) -> &Arc<Spec> {
        &self.spec
    }

    /// Adds one call to the token's bucket. `Ok(used)` if it fits, `Err(used)` when full.
    fn take(&self, token: &str, drain_per_second: f64) -> Result<u32, u32> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(token.to_owned()).or_insert(Bucket {
            level: 0.0,
            at: now,
        });
        let drained = now.duration_since(bucket.at).as_secs_f64() * drain_per_second;
        bucket.level = (bucket.level - drained).max(0.0);
        bucket.at = now;
        if bucket.level + 1.0 > BUCKET {
            return Err(BUCKET as u32);
        }
        bucket.level += 1.0;
        Ok(bucket.level.ceil() as u32)
    }

    /// Queues `topic` for the registered webhooks, with `body` (`{"checkout": ...}`) made only
    /// when some webhook wants the topic.
    fn emit(&self, env: &Env, topic: r::CheckoutWebhookTopic, body: impl FnOnce() -> Vec<u8>) {
        let hooks = self.hooks.read().unwrap_or_else(|e| e.into_inner());
        let targets: Vec<String> = hooks
            .iter()
            .filter(|h| h.topics.contains(&topic))
            .map(|h| h.address.clone())
            .collect();
        drop(hooks);
        if targets.is_empty() {
            return;
        }
        let body = body();
        let signature = generated::webhooks::recharge::sign(
            env.config.recharge_client_secret.as_bytes(),
            &body,
        );
        for url in targets {
            env.outbox.send(Delivery {
                api: Api::Recharge,
                event: topic.as_str().to_owned(),
                url,
                headers: vec![
                    ("X-Recharge-Topic".into(), topic.as_str().to_owned()),
                    ("X-Recharge-Hmac-Sha256".into(), signature.clone()),
                ],
                body: body.clone().into(),
            });
        }
    }

    /// Handles a request below `/recharge` (`req.path` starts with it); returns the operation
    /// it reached.
    pub async fn handle(&self, env: &Env, mut req: Request) -> (Option<&'static str>, Response) {
        let mut incoming = incoming!(rs, &mut req, RECHARGE_PREFIX, env.config.max_body_bytes);
        // Without the header the account's default version applies; this mock's default is
        // 2021-01 (the API versions guide names 2021-01 as the default when it is left out).
        // The spec requires the header of clients, so the router gets it filled in.
        let version = incoming.headers.get("x-recharge-version");
        let other_version = version.is_some_and(|v| v != VERSION);
        if version.is_none() {
            incoming.headers.push("X-Recharge-Version", VERSION);
        }
        let call = Call {
            api: self,
            env,
            other_version,
            reached: OnceLock::new(),
        };
        let reply = rs::handle(&call, &call, incoming).await;
        let response = Response::from_parts(reply.status, reply.headers, reply.body);
        (call.reached.get().copied(), response)
    }
}

/// Why a handler refuses, in ReCharge's `{"errors"}` body.
#[derive(Debug)]
enum Fail {
    /// `{"errors": "<message>"}` with this status.
    Message(u16, String),
    /// `{"errors": {"<field>": ["<message>", …]}}` with this status.
    Fields(u16, BTreeMap<String, Vec<String>>),
}

impl Fail {
    /// 422 with one field's message.
    fn field(field: &str, message: &str) -> Self {
        Self::Fields(422, group([(field.to_owned(), message.to_owned())]))
    }

    fn not_found() -> Self {
        Self::Message(404, "Not Found".into())
    }

    /// The status and the `{"errors"}` body, encoded.
    fn encode(self) -> (u16, Vec<u8>) {
        let (status, body) = match self {
            Self::Message(status, message) => (status, errors_str(message)),
            Self::Fields(status, fields) => (status, errors_fields(fields)),
        };
        // Our own types always serialise.
        (status, serde_json::to_vec(&body).unwrap_or_default())
    }
}

fails! {
    Fail;
    create_checkout retrieve_checkout update_checkout retrieve_checkout_shipping_rates
    charge_checkout
}

/// An operation's 200 carrying a stored checkout: its bytes as stored, rather than decoded
/// and encoded again (the dialect's `finish` labels them JSON).
macro_rules! stored {
    ($op:ident, $result:expr) => {
        match $result {
            Ok(body) => ops::$op::Response::Other {
                status: 200,
                body: body.into(),
            },
            Err(fail) => ops::$op::Response::from(fail),
        }
    };
}

/// One request: ReCharge's business logic (the generated [`rs::Api`]) and its error dialect
/// (the generated [`rs::Dialect`]).
struct Call<'a> {
    api: &'a Recharge,
    env: &'a Env,
    /// The request names an API version other than this mock's (answered 426 once routed).
    other_version: bool,
    /// The operation the request reached, once answered.
    reached: OnceLock<&'static str>,
}

/// `X-Recharge-Limit` for `used` calls of the bucket (`3/40`): one of the bucket's few values,
/// written once, so an answer does not format or allocate it.
fn limit_header(used: u32) -> &'static str {
    static VALUES: OnceLock<Vec<String>> = OnceLock::new();
    let values = VALUES.get_or_init(|| {
        (0..=BUCKET as u32)
            .map(|n| format!("{n}{LIMIT_TAIL}"))
            .collect()
    });
    // The bucket never reports more than it holds.
    let i = usize::try_from(used).map_or(usize::MAX, |i| i.min(BUCKET as usize));
    values.get(i).map_or("", String::as_str)
}

/// A `{"errors": "<message>"}` reply.
fn reply(status: u16, message: &str) -> Reply {
    rs::json_reply(status, &errors_str(message.to_owned()))
}

impl rs::Dialect for Call<'_> {
    /// Every request is authenticated and counted before it is routed, as a gateway would: so
    /// every answer to a request with a valid token (404, 405, 426 and 429 included) reports
    /// the bucket in `X-Recharge-Limit`, and only a 401 (no known token, no bucket) lacks it.
    /// Then, for routed requests, the API version and an injected fault.
    fn admit(&self, cx: &Context) -> Option<Reply> {
        let env = self.env;
        cx.add_header("X-Request-Id", request_id(env.next_request()));
        let token = cx.header("x-recharge-access-token").unwrap_or_default();
        if token != env.config.recharge_access_token {
            return Some(reply(401, "A valid API token is required."));
        }
        // Without the bucket, a bucket that never fills.
        let (used, full) = if env.config.recharge_rate_limit {
            match self.api.take(token, env.config.recharge_drain_per_second) {
                Ok(used) => (used, false),
                Err(used) => (used, true),
            }
        } else {
            (1, false)
        };
        cx.add_header("X-Recharge-Limit", limit_header(used));
        if full {
            return Some(reply(429, "Too many requests"));
        }
        let route = cx.route?;
        let op = route.id;
        // Read in `Recharge::handle`, before the default filled in an absent header.
        if self.other_version {
            return Some(reply(
                426,
                "The request was made using an invalid API version.",
            ));
        }
        let status = env.take_fault(Api::Recharge, op)?;
        let example = self
            .api
            .indexes
            .of(route)
            .and_then(|i| self.api.spec.response_example(i, status))
            .unwrap_or_else(|| json!({"errors": "Injected fault"}));
        Some(rs::json_reply(status, &example))
    }

    /// Marshmallow reads an empty body as `{}`, so required fields are reported one by one.
    fn empty_body(&self, _: &Context) -> Option<Value> {
        Some(Value::Object(serde_json::Map::new()))
    }

    /// The body against the spec, every violation worded as marshmallow does.
    fn check(
        &self,
        cx: &Context,
        _: &rs::ParamValues,
        body: Option<&Value>,
    ) -> Result<(), Refusal> {
        let (Some(index), Some(body)) = (cx.route.and_then(|r| self.api.indexes.of(r)), body)
        else {
            return Ok(());
        };
        if !body.is_object() {
            return Err(Refusal::UnsupportedMediaType {
                expected: "application/json",
            });
        }
        let issues = check_body(&self.api.spec, index, body);
        if issues.is_empty() {
            return Ok(());
        }
        Err(Refusal::Invalid {
            issues: body_issues!(rs, marshmallow_errors(&issues)),
        })
    }

    fn refuse(&self, _: &Context, refusal: Refusal) -> Reply {
        match refusal {
            Refusal::NotFound => reply(404, "Not Found"),
            Refusal::MethodNotAllowed { allow } => {
                let mut out = reply(405, "Method Not Allowed");
                out.headers.push(("Allow".into(), allow.join(", ").into()));
                out
            }
            Refusal::UnsupportedMediaType { .. } => {
                reply(415, "The request body must be a JSON object.")
            }
            Refusal::MalformedJson { message } => reply(400, &format!("Malformed JSON: {message}")),
            Refusal::Invalid { issues } => {
                // The check's issues are marshmallow's already; the router's own (a value the
                // validator passed that the types refuse) are about the body as a whole.
                let pairs = issues.into_iter().map(|i| {
                    if i.name.is_empty() || i.name.starts_with('/') {
                        (
                            "_schema".to_owned(),
                            format!("Invalid request body: {}", i.message),
                        )
                    } else {
                        (i.name, i.message)
                    }
                });
                rs::json_reply(422, &errors_fields(group(pairs)))
            }
            Refusal::Body(error) => body_refusal!(rs, error, reply),
            Refusal::NotImplemented => reply(501, "Not implemented."),
        }
    }

    fn finish(&self, cx: &Context, reply: Reply) -> Reply {
        finish!(self, self.env, cx, reply)
    }
}

impl rs::Api for Call<'_> {
    async fn create_checkout(
        &self,
        _: &Context,
        _: ops::create_checkout::Params,
        body: r::CheckoutCreateRequest,
    ) -> ops::create_checkout::Response {
        let fields = match body {
            r::CheckoutCreateRequest::CheckoutCreateWrapped(w) => w.checkout,
            r::CheckoutCreateRequest::CheckoutCreate(c) => c,
        };
        let now_ms = self.env.clock.now_ms();
        stored!(create_checkout, create(self.api, self.env, fields, now_ms))
    }

    async fn retrieve_checkout(
        &self,
        _: &Context,
        p: ops::retrieve_checkout::Params,
    ) -> ops::retrieve_checkout::Response {
        stored!(retrieve_checkout, retrieve(self.api, &p.token))
    }

    async fn update_checkout(
        &self,
        _: &Context,
        p: ops::update_checkout::Params,
        body: r::CheckoutUpdateRequest,
    ) -> ops::update_checkout::Response {
        let u = match body {
            r::CheckoutUpdateRequest::CheckoutUpdateWrapped(w) => w.checkout,
            r::CheckoutUpdateRequest::CheckoutUpdate(u) => u,
        };
        let now_ms = self.env.clock.now_ms();
        stored!(
            update_checkout,
            update(self.api, self.env, &p.token, u, now_ms)
        )
    }

    async fn retrieve_checkout_shipping_rates(
        &self,
        _: &Context,
        p: ops::retrieve_checkout_shipping_rates::Params,
    ) -> ops::retrieve_checkout_shipping_rates::Response {
        shipping_rates(self.api, &p.token).map_or_else(
            ops::retrieve_checkout_shipping_rates::Response::from,
            ops::retrieve_checkout_shipping_rates::Response::Status200,
        )
    }

    async fn charge_checkout(
        &self,
        _: &Context,
        p: ops::charge_checkout::Params,
        body: r::CheckoutChargeRequest,
    ) -> ops::charge_checkout::Response {
        let charge = match body {
            r::CheckoutChargeRequest::CheckoutChargeWrapped(w) => w.checkout_charge,
            r::CheckoutChargeRequest::ChargeRequest(c) => c,
        };
        if let Err(fail) = begin_charge(self.api, &p.token) {
            return fail.into();
        }
        // The processor's delay (`MockConfig::charge_delay`): the window in which a second
        // charge of the checkout gets 409.
        let delay = self.env.config.charge_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        settle(self.api, self.env, &p.token, &charge).map_or_else(
            ops::charge_checkout::Response::from,
            ops::charge_checkout::Response::Status200,
        )
    }
}

/// A request number scrambled into 32 hex characters (splitmix64, twice), like the recorded
/// `X-Request-Id`.
fn request_id(n: u64) -> String {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    hex32(u128::from(mix(n)) << 64 | u128::from(mix(n ^ 0xdead_beef)))
}

fn errors_str(message: String) -> r::ErrorResponse {
    r::ErrorResponse {
        errors: Some(r::ErrorDetail::String(message)),
        ..r::ErrorResponse::new()
    }
}

fn errors_fields(fields: BTreeMap<String, Vec<String>>) -> r::ErrorResponse {
    r::ErrorResponse {
        errors: Some(r::ErrorDetail::ErrorFieldMessages(
            fields
                .into_iter()
                .map(|(k, v)| (k, r::ErrorFieldMessagesValue::Array(v)))
                .collect(),
        )),
        ..r::ErrorResponse::new()
    }
}

/// Marshmallow's wording (ReCharge's API is Python), keyed by dotted path; `_schema` for the
/// body as a whole.
fn marshmallow_errors(issues: &[Issue]) -> BTreeMap<String, Vec<String>> {
    group(issues.iter().map(|issue| {
        let key = if issue.path.is_empty() {
            "_schema".to_owned()
        } else {
            issue.path.join(".")
        };
        let text = match &issue.kind {
            IssueKind::Required => "Missing data for required field.".to_owned(),
            IssueKind::Type { null: true, .. } => "Field may not be null.".to_owned(),
            IssueKind::Type { expected, .. } => match expected.as_str() {
                "integer" => "Not a valid integer.",
                "number" => "Not a valid number.",
                "string" => "Not a valid string.",
                "boolean" => "Not a valid boolean.",
                "array" => "Not a valid list.",
                _ => "Invalid input type.",
            }
            .to_owned(),
            IssueKind::Enum(values) => {
                let names: Vec<String> = values
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect();
                format!("Must be one of: {}.", names.join(", "))
            }
            IssueKind::Minimum(n) => format!("Must be greater than or equal to {n}."),
            IssueKind::Maximum(n) => format!("Must be less than or equal to {n}."),
            IssueKind::MinLength(n) | IssueKind::MinItems(n) => {
                format!("Shorter than minimum length {n}.")
            }
            IssueKind::MaxLength(n) | IssueKind::MaxItems(n) => {
                format!("Longer than maximum length {n}.")
            }
            IssueKind::Pattern => "Not a valid decimal.".to_owned(),
            IssueKind::Format(f) if f == "date-time" => "Not a valid datetime.".to_owned(),
            IssueKind::Format(_) | IssueKind::Composite(_) | IssueKind::Other(_) => {
                "Invalid value.".to_owned()
            }
        };
        (key, text)
    }))
}

// ----- create -----

/// Fills the store with `count` checkouts made by the create handler itself, past the rate
/// limit (`--preload`): a store that already holds data.
pub(crate) fn preload(this: &Recharge, env: &Env, count: usize) -> Result<(), String> {
    for i in 0..count {
        let fields = r::CheckoutCreate {
            email: OptionalNullable::Value(format!("preloaded{i}@example.com")),
            ..r::CheckoutCreate::new(vec![r::LineItemInput {
                price: OptionalNullable::Value("24.00".into()),
                title: OptionalNullable::Value("Preloaded item".into()),
                ..r::LineItemInput::new(1, 31258201604163_i64 + (i % 100) as i64)
            }])
        };
        if let Err(fail) = create(this, env, fields, env.clock.now_ms()) {
            return Err(format!(
                "preloading ReCharge: checkout {i} got {}",
                fail.encode().0
            ));
        }
    }
    Ok(())
}

/// A new checkout, stored; its `{"checkout": ...}` bytes.
fn create(
    this: &Recharge,
    env: &Env,
    fields: r::CheckoutCreate,
    now_ms: i64,
) -> Result<Arc<[u8]>, Fail> {
    let line_items = line_items(&fields.line_items).map_err(|e| Fail::Fields(422, e))?;
    let now = rfc3339_micros(now_ms);
    // On `new` (the required properties, in the spec's order), so a property the spec adds as
    // optional needs no change here.
    let requires_shipping = line_items.iter().any(|l| l.requires_shipping);
    let mut checkout = r::Checkout {
        analytics_data: fields.analytics_data,
        charge_id: OptionalNullable::Null,
        currency: OptionalNullable::Value(
            fields
                .currency
                .as_option()
                .cloned()
                .unwrap_or_else(|| "USD".into()),
        ),
        external_checkout_id: fields.external_checkout_id,
        external_checkout_source: external_checkout_source(&fields.external_checkout_source),
        external_customer_id: fields.external_checkout_customer_id,
        ..r::Checkout::new(
            env.ids.hex32(),
            None, // applied_discount
            fields.billing_address.as_option().map(address),
            fields
                .buyer_accepts_marketing
                .as_option()
                .copied()
                .unwrap_or(false),
            None, // completed_at
            now.clone(),
            fields.discount_code.as_option().cloned(),
            fields.email.as_option().cloned(),
            line_items,
            fields.note.as_option().cloned(),
            fields.note_attributes.as_option().cloned(),
            None, // payment_processor
            None, // payment_processor_customer_id
            None, // payment_processor_transaction_id
            fields.phone.as_option().cloned(),
            requires_shipping,
            fields.shipping_address.as_option().map(address),
            None, // shipping_line
            None, // shipping_rate
            String::new(),
            Vec::new(),
            false,
            String::new(),
            "0.00".into(),
            now,
        )
    };
    if let Some(line) = fields.shipping_line.as_option() {
        select_shipping(&mut checkout, line)?;
    }
    totals(&mut checkout);
    // Serialised once: the stored record, the response and any webhook share the bytes.
    let record = Record::new(&checkout);
    let body = record.body.clone();
    this.data
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .checkouts
        .insert(checkout.token, record);
    this.emit(env, r::CheckoutWebhookTopic::CheckoutCreated, || {
        body.to_vec()
    });
    Ok(body)
}

/// Request line items → response line items, or marshmallow-style errors.
fn line_items(
    items: &[r::LineItemInput],
) -> Result<Vec<r::LineItem>, BTreeMap<String, Vec<String>>> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if item.quantity < 1 {
            errors.push((
                format!("line_items.{i}.quantity"),
                "Must be greater than or equal to 1.".to_owned(),
            ));
            continue;
        }
        let unit = match item.price.as_option().map(|p| Cents::parse(p)) {
            Some(Some(c)) => c,
            Some(None) => {
                errors.push((
                    format!("line_items.{i}.price"),
                    "Not a valid decimal.".to_owned(),
                ));
                continue;
            }
            // No price sent: one derived from the variant, so totals are reproducible [INF].
            None => Cents(1000 + item.variant_id.rem_euclid(9000)),
        };
        let Some(line) = unit.checked_mul(item.quantity) else {
            errors.push((format!("line_items.{i}.quantity"), "Too large.".to_owned()));
            continue;
        };
        let product_id = item.product_id.unwrap_or(item.variant_id);
        out.push(r::LineItem {
            charge_interval_frequency: keyed(item.charge_interval_frequency.as_option().copied()),
            cutoff_day_of_month: keyed(item.cutoff_day_of_month.as_option().copied()),
            cutoff_day_of_week: keyed(item.cutoff_day_of_week.as_option().copied()),
            expire_after_specific_number_of_charges: keyed(
                item.expire_after_specific_number_of_charges
                    .as_option()
                    .copied(),
            ),
            first_recurring_charge_delay: item.first_recurring_charge_delay.clone(),
            order_day_of_month: keyed(item.order_day_of_month.as_option().copied()),
            order_day_of_week: keyed(item.order_day_of_week.as_option().copied()),
            order_interval_frequency: keyed(item.order_interval_frequency.as_option().copied()),
            order_interval_unit_type: keyed(
                item.order_interval_unit
                    .as_option()
                    .or(item.order_interval_unit_type.as_option())
                    .copied(),
            ),
            properties: keyed(item.properties.as_option().cloned()),
            ..r::LineItem::new(
                item.fulfillment_service
                    .as_option()
                    .cloned()
                    .unwrap_or_else(|| "manual".into()),
                item.grams.as_option().copied().unwrap_or(0),
                None, // image
                line.to_string(),
                unit.to_string(),
                product_id,
                item.quantity,
                item.requires_shipping.as_option().copied().unwrap_or(true),
                item.sku.as_option().cloned(),
                item.taxable.as_option().copied().unwrap_or(true),
                item.title
                    .as_option()
                    .cloned()
                    .unwrap_or_else(|| format!("Product {product_id}")),
                item.variant_id,
                item.variant_title.as_option().cloned(),
                item.vendor.as_option().cloned(),
            )
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(group(errors))
    }
}

/// An update of an optional field: set (made by `make`), cleared by `null`, or left alone
/// when absent; says whether it changed.
fn patch<T, U>(slot: &mut Option<U>, value: &OptionalNullable<T>, make: fn(&T) -> U) -> bool {
    match value {
        OptionalNullable::Value(v) => *slot = Some(make(v)),
        OptionalNullable::Null => *slot = None,
        OptionalNullable::Absent => return false,
    }
    true
}

/// An update of a nullable field: replaced unless absent.
fn replace<T: Clone>(slot: &mut OptionalNullable<T>, value: &OptionalNullable<T>) {
    if !value.is_absent() {
        *slot = value.clone();
    }
}

/// An optional response field the mock always sends, as the 2019 recording did: `null` when
/// the request gave no value.
fn keyed<T>(value: Option<T>) -> OptionalNullable<T> {
    value.map_or(OptionalNullable::Null, OptionalNullable::Value)
}

fn address(a: &r::AddressInput) -> r::Address {
    let f = |v: &OptionalNullable<String>| v.as_option().cloned();
    r::Address::new(
        f(&a.address1),
        f(&a.address2),
        f(&a.city),
        f(&a.company),
        f(&a.country),
        f(&a.first_name),
        f(&a.last_name),
        f(&a.phone),
        f(&a.province),
        f(&a.zip),
    )
}

fn money(s: &str) -> Cents {
    Cents::parse(s).unwrap_or_default()
}

/// Recomputes `subtotal_price` and `total_price` (no taxes, no discounts).
fn totals(c: &mut r::Checkout) {
    let subtotal = c.line_items.iter().fold(Cents(0), |acc, l| {
        acc.checked_add(money(&l.line_price)).unwrap_or(acc)
    });
    let shipping = c
        .shipping_line
        .as_ref()
        .and_then(|l| l.price.as_option())
        .map_or(Cents(0), |p| money(p));
    c.subtotal_price = subtotal.to_string();
    c.total_price = subtotal
        .checked_add(shipping)
        .unwrap_or(subtotal)
        .to_string();
    c.total_tax = "0.00".into();
}

/// The rates for the checkout's shipping address (none without an address or when nothing
/// needs shipping).
fn rates(c: &r::Checkout) -> Vec<r::ShippingRate> {
    let Some(address) = &c.shipping_address else {
        return Vec::new();
    };
    if !c.requires_shipping {
        return Vec::new();
    }
    let country = address
        .country
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let domestic = matches!(
        country.as_str(),
        "united states" | "united states of america" | "us" | "usa"
    );
    let options: &[(&str, i64, &str, bool)] = if domestic {
        &[
            ("Standard", 500, "3-5 business days", false),
            ("Express", 1500, "1-2 business days", true),
        ]
    } else {
        &[("International", 2500, "7-14 business days", true)]
    };
    let subtotal = c.line_items.iter().fold(Cents(0), |acc, l| {
        acc.checked_add(money(&l.line_price)).unwrap_or(acc)
    });
    options
        .iter()
        .map(|(name, cents, range, phone)| {
            let price = Cents(*cents);
            r::ShippingRate {
                code: OptionalNullable::Value((*name).to_owned()),
                handle: OptionalNullable::Value(format!("shopify-{name}-{price}")),
                name: OptionalNullable::Value((*name).to_owned()),
                title: OptionalNullable::Value((*name).to_owned()),
                description: OptionalNullable::Value(format!("Delivered in {range}")),
                price: OptionalNullable::Value(price.to_string()),
                delivery_range: OptionalNullable::Value(r::ShippingRateDeliveryRange::String(
                    (*range).to_owned(),
                )),
                phone_required: OptionalNullable::Value(r::ShippingRatePhoneRequired::Boolean(
                    *phone,
                )),
                tax_lines: OptionalNullable::Value(Vec::new()),
                checkout: OptionalNullable::Value(r::ShippingRateCheckout {
                    subtotal_price: OptionalNullable::Value(subtotal.to_string()),
                    total_price: OptionalNullable::Value(
                        subtotal.checked_add(price).unwrap_or(subtotal).to_string(),
                    ),
                    total_tax: OptionalNullable::Value("0.00".into()),
                    ..r::ShippingRateCheckout::new()
                }),
                ..r::ShippingRate::new()
            }
        })
        .collect()
}

/// Applies `shipping_line`: a `handle` must name one of the checkout's rates; otherwise the
/// given code/price/title are taken as a custom line.
fn select_shipping(c: &mut r::Checkout, line: &r::ShippingLineInput) -> Result<(), Fail> {
    if let Some(handle) = &line.handle {
        let Some(rate) = rates(c)
            .into_iter()
            .find(|r| r.handle.as_option() == Some(handle))
        else {
            return Err(Fail::field(
                "shipping_line.handle",
                "Not a valid shipping rate handle for this checkout.",
            ));
        };
        c.shipping_line = Some(r::ShippingLine {
            code: rate.code.clone(),
            price: rate.price.clone(),
            title: rate.title.clone(),
            ..r::ShippingLine::new()
        });
        c.shipping_rate = Some(rate);
        return Ok(());
    }
    if let Some(price) = line.price.as_option() {
        if Cents::parse(price).is_none() {
            return Err(Fail::field("shipping_line.price", "Not a valid decimal."));
        }
    }
    c.shipping_line = Some(r::ShippingLine {
        code: line.code.clone(),
        price: line.price.clone(),
        title: line.title.clone(),
        ..r::ShippingLine::new()
    });
    c.shipping_rate = None;
    Ok(())
}

// ----- retrieve, update, shipping rates -----

fn retrieve(this: &Recharge, token: &str) -> Result<Arc<[u8]>, Fail> {
    let data = this.data.read().unwrap_or_else(|e| e.into_inner());
    data.checkouts
        .get(token)
        .map(|rec| rec.body.clone())
        .ok_or_else(Fail::not_found)
}

fn shipping_rates(this: &Recharge, token: &str) -> Result<r::ShippingRatesResponse, Fail> {
    let data = this.data.read().unwrap_or_else(|e| e.into_inner());
    let rec = data.checkouts.get(token).ok_or_else(Fail::not_found)?;
    Ok(r::ShippingRatesResponse::new(rates(&rec.checkout()?)))
}

/// The checkout changed as `u` says, stored; its `{"checkout": ...}` bytes.
fn update(
    this: &Recharge,
    env: &Env,
    token: &str,
    u: r::CheckoutUpdate,
    now_ms: i64,
) -> Result<Arc<[u8]>, Fail> {
    let mut data = this.data.write().unwrap_or_else(|e| e.into_inner());
    let rec = data.checkouts.get_mut(token).ok_or_else(Fail::not_found)?;
    if rec.completed {
        return Err(Fail::field(
            "checkout",
            "Checkout has already been processed.",
        ));
    }
    if rec.charging {
        return Err(Fail::Message(
            409,
            "Another request is processing this checkout.".into(),
        ));
    }
    let mut c = rec.checkout()?;
    if let Some(items) = &u.line_items {
        let items = line_items(items).map_err(|e| Fail::Fields(422, e))?;
        c.requires_shipping = items.iter().any(|l| l.requires_shipping);
        c.line_items = items;
    }
    let address_changed = patch(&mut c.shipping_address, &u.shipping_address, address);
    if address_changed || u.line_items.is_some() {
        // A rate chosen for the old address or items no longer applies.
        if c.shipping_rate.is_some() {
            c.shipping_line = None;
            c.shipping_rate = None;
        }
    }
    patch(&mut c.email, &u.email, Clone::clone);
    patch(&mut c.phone, &u.phone, Clone::clone);
    patch(&mut c.note, &u.note, Clone::clone);
    patch(&mut c.note_attributes, &u.note_attributes, Clone::clone);
    patch(&mut c.discount_code, &u.discount_code, Clone::clone);
    patch(&mut c.billing_address, &u.billing_address, address);
    if let Some(b) = u.buyer_accepts_marketing.as_option() {
        c.buyer_accepts_marketing = *b;
    }
    replace(&mut c.analytics_data, &u.analytics_data);
    replace(&mut c.currency, &u.currency);
    replace(&mut c.external_checkout_id, &u.external_checkout_id);
    replace(
        &mut c.external_customer_id,
        &u.external_checkout_customer_id,
    );
    if !u.external_checkout_source.is_absent() {
        c.external_checkout_source = external_checkout_source(&u.external_checkout_source);
    }
    match &u.shipping_line {
        OptionalNullable::Value(line) => select_shipping(&mut c, line)?,
        OptionalNullable::Null => {
            c.shipping_line = None;
            c.shipping_rate = None;
        }
        OptionalNullable::Absent => {}
    }
    totals(&mut c);
    c.updated_at = rfc3339_micros(now_ms);
    rec.store(&c);
    let body = rec.body.clone();
    drop(data);
    this.emit(env, r::CheckoutWebhookTopic::CheckoutUpdated, || {
        body.to_vec()
    });
    Ok(body)
}

// ----- charge -----

/// Stripe's test tokens and the messages RechargeSharp records for them (reference §2.7).
/// The first match wins, so the specific names come before `chargeDeclined`.
const DECLINES: &[(&str, &str)] = &[
    (
        "chargeDeclinedInsufficientFunds",
        "Your card has insufficient funds.",
    ),
    (
        "chargeDeclinedIncorrectCvc",
        "Your card's security code is incorrect.",
    ),
    ("chargeDeclinedExpiredCard", "Your card has expired."),
    (
        "chargeDeclinedProcessingError",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    (
        "chargeDeclinedIncorrectNumber",
        "Your card number is incorrect.",
    ),
    (
        "chargeDeclinedLostCard",
        "Your card was declined. decline_code = lost_card",
    ),
    (
        "chargeDeclinedStolenCard",
        "Your card was declined. decline_code = stolen_card",
    ),
    (
        "chargeDeclinedPickupCard",
        "Your card was declined. decline_code = pickup_card",
    ),
    (
        "chargeDeclinedDoNotHonor",
        "Your card was declined. decline_code = do_not_honor",
    ),
    ("chargeDeclinedFraudulent", "Your card was declined."),
    (
        "chargeDeclinedVelocityLimitExceeded",
        "You have exceeded the maximum number of declines on this card in the last 24 hour period. Please contact your card issuer for more information.",
    ),
    (
        "authenticationRequired",
        "Your card was declined. This transaction requires authentication.",
    ),
    (
        "threeDSecureRequired",
        "Your card was declined. This transaction requires authentication.",
    ),
    ("chargeDeclined", "Your card was declined."),
];

/// The decline message for a token, if it declines.
pub(crate) fn decline_message(token: &str) -> Option<&'static str> {
    DECLINES
        .iter()
        .find(|(marker, _)| token.contains(marker))
        .map(|(_, m)| *m)
}

/// Stripe's named test tokens (`tok_visa`) are reusable; real-looking ones are single-use.
fn single_use(token: &str) -> bool {
    token.starts_with("tok_") && token.bytes().any(|b| b.is_ascii_digit())
}

/// Marks the checkout as being charged, unless it cannot be.
fn begin_charge(this: &Recharge, token: &str) -> Result<(), Fail> {
    let mut data = this.data.write().unwrap_or_else(|e| e.into_inner());
    let rec = data.checkouts.get_mut(token).ok_or_else(Fail::not_found)?;
    if rec.completed {
        return Err(payment_error("Checkout has already been processed."));
    }
    if rec.charging {
        return Err(Fail::Fields(
            409,
            group([(
                "payment".to_owned(),
                "A call to this route is already in progress.".to_owned(),
            )]),
        ));
    }
    rec.charging = true;
    Ok(())
}

fn payment_error(message: &str) -> Fail {
    Fail::field("payment", message)
}

/// The processor's verdict, after the simulated delay.
fn settle(
    this: &Recharge,
    env: &Env,
    token: &str,
    charge: &r::ChargeRequest,
) -> Result<r::CheckoutChargeResponse, Fail> {
    let payment_token = charge.payment_token.as_str();
    let mut data = this.data.write().unwrap_or_else(|e| e.into_inner());
    let reused = single_use(payment_token) && data.used_tokens.get(payment_token).is_some();
    let rec = data.checkouts.get_mut(token).ok_or_else(Fail::not_found)?;
    rec.charging = false;
    if let Some(message) = decline_message(payment_token) {
        return Err(payment_error(message));
    }
    if reused {
        return Err(payment_error(&format!(
            "You cannot use a Stripe token more than once: {payment_token}."
        )));
    }
    let charge_id = env.ids.small_int();
    let customer_id = env.ids.stripe_like("cus_");
    let transaction_id = env.ids.stripe_like("ch_");
    let now = rfc3339_micros(env.clock.now_ms());
    let mut c = rec.checkout()?;
    c.completed_at = Some(now.clone());
    c.updated_at = now;
    c.charge_id = OptionalNullable::Value(charge_id);
    c.payment_processor = Some(payment_processor(charge.payment_processor));
    c.payment_processor_customer_id = Some(customer_id.clone());
    c.payment_processor_transaction_id = Some(transaction_id.clone());
    rec.store(&c);
    let body = rec.body.clone();
    if single_use(payment_token) {
        data.used_tokens.insert(payment_token.to_owned(), ());
    }
    drop(data);
    for topic in [
        r::CheckoutWebhookTopic::CheckoutProcessed,
        r::CheckoutWebhookTopic::CheckoutCompleted,
    ] {
        this.emit(env, topic, || body.to_vec());
    }
    Ok(r::CheckoutChargeResponse::new(r::CheckoutCharge {
        authorization_token: match &charge.authorization_token {
            OptionalNullable::Value(v) => OptionalNullable::Value(v.clone()),
            _ => OptionalNullable::Null,
        },
        charge_id: OptionalNullable::Value(r::CheckoutChargeChargeId::Integer(charge_id)),
        free: Some(charge.free.unwrap_or(false)),
        payment_processor: OptionalNullable::Value(payment_processor(charge.payment_processor)),
        payment_processor_customer_id: OptionalNullable::Value(customer_id),
        payment_processor_transaction_id: OptionalNullable::Value(transaction_id),
        payment_token: OptionalNullable::Value(payment_token.to_owned()),
        payment_type: match &charge.payment_type {
            OptionalNullable::Value(t) => OptionalNullable::Value(*t),
            _ => OptionalNullable::Null,
        },
        status: OptionalNullable::Value("success".into()),
        ..r::CheckoutCharge::new()
    }))
}

// ----- webhook registration (`/_mock/recharge/webhooks`) -----

/// `POST /_mock/recharge/webhooks {"address": "http://…", "topics": ["checkout/created", …]}`
/// (all four checkout topics when `topics` is absent). ReCharge registers webhooks through its
/// Webhooks API, which is not part of the checkout spec.
pub(crate) fn register_webhook(this: &Recharge, body: &Value) -> Response {
    let Some(address) = body.get("address").and_then(Value::as_str) else {
        return Response::json(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({"error": "`address` (an http:// URL) is required"}),
        );
    };
    let topics: Vec<r::CheckoutWebhookTopic> = match body.get("topics").or(body.get("topic")) {
        None => vec![
            r::CheckoutWebhookTopic::CheckoutCreated,
            r::CheckoutWebhookTopic::CheckoutUpdated,
            r::CheckoutWebhookTopic::CheckoutProcessed,
            r::CheckoutWebhookTopic::CheckoutCompleted,
        ],
        Some(Value::String(t)) => match serde_json::from_value(Value::String(t.clone())) {
            Ok(t) => vec![t],
            Err(_) => return bad_topic(),
        },
        Some(v) => match serde_json::from_value(v.clone()) {
            Ok(t) => t,
            Err(_) => return bad_topic(),
        },
    };
    let mut hooks = this.hooks.write().unwrap_or_else(|e| e.into_inner());
    let hook = Hook {
        id: u64::try_from(hooks.len()).unwrap_or(0) + 1,
        address: address.to_owned(),
        topics,
    };
    hooks.push(hook.clone());
    Response::json(StatusCode::OK, &json!({"webhook": hook}))
}

fn bad_topic() -> Response {
    Response::json(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({"error": "topics must be among checkout/created, checkout/updated, checkout/completed, checkout/processed"}),
    )
}

pub(crate) fn list_webhooks(this: &Recharge) -> Response {
    let hooks = this.hooks.read().unwrap_or_else(|e| e.into_inner()).clone();
    Response::json(StatusCode::OK, &json!({"webhooks": hooks}))
}

// A request's closed enums become the response's open ones (`x-extensible-enum`): the same
// values, written out so that a value added to a request enum fails to compile here.

fn payment_processor(p: r::PaymentProcessorInput) -> r::PaymentProcessor {
    match p {
        r::PaymentProcessorInput::Stripe => r::PaymentProcessor::Stripe,
        r::PaymentProcessorInput::Braintree => r::PaymentProcessor::Braintree,
        r::PaymentProcessorInput::Mollie => r::PaymentProcessor::Mollie,
        r::PaymentProcessorInput::Authorize => r::PaymentProcessor::Authorize,
    }
}

fn external_checkout_source(
    s: &OptionalNullable<r::ExternalCheckoutSourceInput>,
) -> OptionalNullable<r::ExternalCheckoutSource> {
    match s {
        OptionalNullable::Absent => OptionalNullable::Absent,
        OptionalNullable::Null => OptionalNullable::Null,
        OptionalNullable::Value(v) => OptionalNullable::Value(match v {
            r::ExternalCheckoutSourceInput::BigCommerce => r::ExternalCheckoutSource::BigCommerce,
            r::ExternalCheckoutSourceInput::Headless => r::ExternalCheckoutSource::Headless,
            r::ExternalCheckoutSourceInput::Shopify => r::ExternalCheckoutSource::Shopify,
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_spec_operation_is_routed() {
        let spec = Arc::new(Spec::new(Api::Recharge.document().unwrap().root));
        let rc = Recharge::new(Arc::clone(&spec), 10);
        let mut documented: Vec<&str> = spec.operations().iter().map(|o| o.id.as_str()).collect();
        documented.sort_unstable();
        let mut routed: Vec<&str> = rs::ROUTES.iter().map(|r| r.id).collect();
        routed.sort_unstable();
        assert_eq!(routed, documented);
        for r in rs::ROUTES {
            let op = &spec.operations()[rc.indexes.of(r).unwrap()];
            assert_eq!(
                (op.id.as_str(), op.method.as_str(), op.path.as_str()),
                (r.id, r.call.method, r.call.path)
            );
        }
        // A route is known by its address in the table, and a copy by its id.
        let copy = rs::ROUTES[1];
        assert_eq!(rc.indexes.of(&copy), rc.indexes.of(&rs::ROUTES[1]));
        assert!(rc.indexes.of(&copy).is_some());
    }

    #[test]
    fn stripe_test_tokens_decline_with_recorded_messages() {
        assert_eq!(
            decline_message("tok_chargeDeclined"),
            Some("Your card was declined.")
        );
        assert_eq!(
            decline_message("tok_chargeDeclinedInsufficientFunds"),
            Some("Your card has insufficient funds.")
        );
        assert_eq!(decline_message("tok_visa"), None);
        assert!(single_use("tok_1NqL7k2eZvKYlo2C"));
        assert!(!single_use("tok_visa"));
    }

    #[test]
    fn the_bucket_holds_forty_and_drains() {
        assert_eq!(LIMIT_TAIL, format!("/{}", BUCKET as u32));
        assert_eq!(
            [0, 1, 39, 40, 41].map(limit_header),
            ["0/40", "1/40", "39/40", "40/40", "40/40"]
        );
        let rc = Recharge::new(
            Arc::new(Spec::new(Api::Recharge.document().unwrap().root)),
            10,
        );
        for i in 1..=40 {
            assert_eq!(rc.take("t", 2.0), Ok(i));
        }
        assert_eq!(rc.take("t", 2.0), Err(40));
        assert_eq!(rc.take("other", 2.0), Ok(1));
        std::thread::sleep(std::time::Duration::from_millis(600));
        assert!(rc.take("t", 2.0).is_ok());
    }
}
