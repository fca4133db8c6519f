//! The request handler: splits the URL space between the two APIs and the `/_mock/` controls,
//! injects faults, and (in self-check mode) validates every response against the spec.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use http::{Method, StatusCode};
use oas::check::{Profile, ResponseParts, ResponseRule, Spec};
use serde_json::{Value, json};

use super::exchange::{Request, Response};
use super::planted::{PlantedBug, Planter};
use super::support::{Clock, ClockMode, Ids};
use super::webhook::{DeliveryRecord, Outbox};
use super::{
    CHARGILY_LIVE_PREFIX, CHARGILY_TEST_PREFIX, CONTROL_PREFIX, MockConfig, MockError,
    RECHARGE_PREFIX, chargily, recharge,
};
use crate::specs::Api;

/// The generated router's request (`$server::Incoming`, of either API) for a mock request
/// whose path below the API's prefix is `$rest`; a body the server could not read whole is
/// the router's body error (`$limit`: the body limit).
macro_rules! incoming {
    ($server:ident, $req:expr, $prefix:expr, $limit:expr) => {{
        let req: &mut $crate::mock::exchange::Request = $req;
        $server::Incoming {
            method: req.method.as_str().to_owned(),
            // The path below the prefix, in the request's own buffer.
            path: {
                let mut path = std::mem::take(&mut req.path);
                if path.starts_with($prefix) {
                    path.drain(..$prefix.len());
                }
                path
            },
            query: req.query.take(),
            headers: {
                // One spare: the ReCharge mock may add its default version header.
                let mut headers = $server::Headers::with_capacity(req.headers.len() + 1, 256);
                $crate::mock::exchange::each_header(&req.headers, |n, v| headers.push(n, v));
                headers
            },
            body: match req.body_error {
                None => Ok(Vec::from(std::mem::take(&mut req.body))),
                Some($crate::mock::exchange::BodyError::TooLarge) => {
                    Err($server::BodyError::TooLarge { limit: $limit })
                }
                Some($crate::mock::exchange::BodyError::TimedOut) => {
                    Err($server::BodyError::TimedOut)
                }
                Some($crate::mock::exchange::BodyError::Incomplete) => {
                    Err($server::BodyError::Incomplete)
                }
            },
        }
    }};
}
pub(crate) use incoming;

/// A dialect's field errors (each field's messages, in the API's words) as the router's
/// issues about the body.
macro_rules! body_issues {
    ($server:ident, $errors:expr) => {
        $errors
            .into_iter()
            .flat_map(|(name, messages)| {
                messages.into_iter().map(move |message| $server::Issue {
                    location: $server::Location::Body,
                    name: name.clone(),
                    message,
                })
            })
            .collect()
    };
}
pub(crate) use body_issues;

/// Each listed operation's `Response` (of `ops`, in the caller's scope) from the API's
/// `$fail`: its error body under its status, sent as `Other` (the bytes a typed variant would
/// send; `finish!` labels them JSON). `$fail::encode` gives the status and the encoded body.
macro_rules! fails {
    ($fail:ident; $($op:ident)*) => {$(
        impl From<$fail> for ops::$op::Response {
            fn from(fail: $fail) -> Self {
                let (status, body) = fail.encode();
                Self::Other { status, body: body.into() }
            }
        }
    )*};
}
pub(crate) use fails;

/// The mock's answer to a body it could not read whole, the same in both APIs but for the
/// error body (`$reply`: the API's `fn(status, message) -> Reply`); the connection closes
/// when the rest of the body is unread.
macro_rules! body_refusal {
    ($server:ident, $error:expr, $reply:expr) => {{
        let (status, message, close) = match $error {
            $server::BodyError::TooLarge { limit } => (
                413,
                format!("The request body is larger than {limit} bytes."),
                false,
            ),
            $server::BodyError::TimedOut => (
                408,
                "The request body was not received in time.".to_owned(),
                true,
            ),
            $server::BodyError::Incomplete => {
                (400, "The request body is incomplete.".to_owned(), true)
            }
        };
        let mut out = $reply(status, &message);
        if close {
            out.headers.push(("Connection".into(), "close".into()));
        }
        out
    }};
}
pub(crate) use body_refusal;

/// Both dialects' `Dialect::finish`, for `$call` (an API's `Call`: its `api` with `spec` and
/// `indexes`, and `reached`): a stored JSON body sent as `Other` is labelled JSON, the
/// operation reached is noted (for a planted bug), and in self-check mode the answer is
/// checked against the spec.
macro_rules! finish {
    ($call:expr, $env:expr, $cx:expr, $reply:expr) => {{
        let mut reply = $reply;
        $crate::mock::app::json_content(&mut reply.headers);
        if let Some(op) = $cx.operation() {
            let _ = $call.reached.set(op);
            let index = $cx.route.and_then(|r| $call.api.indexes.of(r));
            $env.self_check(
                &$call.api.spec,
                index,
                op,
                reply.status,
                &reply.headers,
                &reply.body,
            );
        }
        reply
    }};
}
pub(crate) use finish;

/// What every handler shares: configuration, clock, ids, the webhook outbox, injected faults.
#[derive(Debug)]
pub(crate) struct Env {
    pub config: MockConfig,
    pub clock: Clock,
    pub ids: Ids,
    pub outbox: Outbox,
    faults: Mutex<Vec<Fault>>,
    /// Faults are pending: most requests need not take the lock to learn there are none.
    faulty: std::sync::atomic::AtomicBool,
    requests: AtomicU64,
    /// Responses that failed the self-check (`MockConfig::self_check`).
    violations: Mutex<Vec<String>>,
}

/// An error response to send instead of the next `remaining` calls of an operation.
#[derive(Debug, Clone)]
struct Fault {
    api: Api,
    operation: String,
    status: u16,
    remaining: u32,
}

impl Env {
    /// The status to fake for this call of `operation`, if a fault is pending for it.
    pub fn take_fault(&self, api: Api, operation: &str) -> Option<u16> {
        if !self.faulty.load(Ordering::Acquire) {
            return None;
        }
        let mut faults = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        let i = faults
            .iter()
            .position(|f| f.api == api && f.operation == operation)?;
        let status = faults[i].status;
        faults[i].remaining -= 1;
        if faults[i].remaining == 0 {
            faults.remove(i);
            self.faulty.store(!faults.is_empty(), Ordering::Release);
        }
        Some(status)
    }

    /// In self-check mode, checks the answer of `op` against the spec (spec profile: content
    /// type, body, required headers), as a replay would, before it is sent: each API's
    /// `Dialect::finish` calls it. Statuses are not: the HTTP-level errors the mock sends like
    /// the real servers (408, 413, 415) are not in the specs.
    pub fn self_check(
        &self,
        spec: &Spec,
        index: Option<usize>,
        op: &str,
        status: u16,
        headers: &[(Cow<'static, str>, Cow<'static, str>)],
        body: &[u8],
    ) {
        let (true, Some(index)) = (self.config.self_check, index) else {
            return;
        };
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let parts = ResponseParts {
            status,
            headers: &headers,
            body,
        };
        for f in spec
            .check_response(index, parts, Profile::Spec)
            .into_iter()
            .filter(|f| f.rule != ResponseRule::UndocumentedStatus)
        {
            let v = format!(
                "{op} {status}: {} at `{}`: {} (found {}; {})",
                f.rule.name(),
                f.instance_pointer,
                f.expected,
                f.actual,
                f.schema_pointer
            );
            tracing::warn!("self-check: {v}");
            self.violations
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(v);
        }
    }

    /// A fresh request number (used for `X-Request-Id`; independent of the id generator so
    /// ids stay reproducible).
    pub fn next_request(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed)
    }
}

/// The whole mock as a function from [`Request`] to [`Response`]: usable without sockets.
#[derive(Debug)]
pub struct App {
    env: Arc<Env>,
    chargily: chargily::Chargily,
    recharge: Arc<recharge::Recharge>,
    /// Set when a bug is planted (`MockConfig::planted`).
    planter: Option<Arc<Planter>>,
}

impl App {
    /// Takes both specs (shared, [`Api::spec`]) and builds empty stores.
    pub fn new(config: MockConfig) -> Result<Self, MockError> {
        // Both specs in parallel the first time in a process; shared after that.
        let (chargily_spec, recharge_spec) = std::thread::scope(|s| {
            let c = s.spawn(|| Api::Chargily.spec());
            let r = Api::Recharge.spec();
            (c.join(), r)
        });
        let chargily_spec = chargily_spec
            .map_err(|_| MockError::Spec("the spec loader panicked".into()))?
            .map_err(MockError::Spec)?;
        let recharge_spec = recharge_spec.map_err(MockError::Spec)?;
        let planter = config.planted.map(|bug| {
            Arc::new(Planter::new(
                bug,
                Arc::clone(&chargily_spec),
                Arc::clone(&recharge_spec),
            ))
        });
        let env = Arc::new(Env {
            clock: Clock::new(config.clock),
            ids: Ids::new(config.seed),
            outbox: Outbox::new(&config),
            faults: Mutex::new(Vec::new()),
            faulty: std::sync::atomic::AtomicBool::new(false),
            requests: AtomicU64::new(0),
            violations: Mutex::new(Vec::new()),
            config,
        });
        let app = Self {
            chargily: chargily::Chargily::new(chargily_spec, env.config.store_limit),
            recharge: Arc::new(recharge::Recharge::new(
                recharge_spec,
                env.config.store_limit,
            )),
            env,
            planter,
        };
        let count = app.env.config.preload;
        if count > 0 {
            app.chargily
                .preload(&app.env, count)
                .and_then(|()| recharge::preload(&app.recharge, &app.env, count))
                .map_err(MockError::Preload)?;
        }
        Ok(app)
    }

    pub(crate) fn env(&self) -> &Arc<Env> {
        &self.env
    }

    /// Compiles the request validators ahead of the first request.
    pub fn warm_up(&self) {
        for (api, spec) in [
            (Api::Chargily, self.chargily.spec()),
            (Api::Recharge, self.recharge.spec()),
        ] {
            for e in spec.warm_up_requests() {
                tracing::error!("{}: {e}", api.spec_path());
            }
        }
    }

    /// Responses that failed the self-check so far.
    pub fn self_check_violations(&self) -> Vec<String> {
        self.env
            .violations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The webhook log.
    pub fn webhook_deliveries(&self) -> Vec<DeliveryRecord> {
        self.env.outbox.records()
    }

    /// Moves a fixed clock forward; false on a system clock or past the clock's bound.
    pub fn advance_clock(&self, seconds: i64) -> bool {
        self.env.clock.advance(seconds.saturating_mul(1000))
    }

    /// Handles one request.
    pub async fn handle(&self, req: Request) -> Response {
        let path = req.path.as_str();
        for (prefix, live) in [(CHARGILY_TEST_PREFIX, false), (CHARGILY_LIVE_PREFIX, true)] {
            if strip(path, prefix).is_some() {
                let (op, response) = self.chargily.handle(&self.env, req, live).await;
                return self.planted(Api::Chargily, op, response);
            }
        }
        if strip(path, RECHARGE_PREFIX).is_some() {
            let (op, response) = self.recharge.handle(&self.env, req).await;
            return self.planted(Api::Recharge, op, response);
        }
        if let Some(rest) = strip(path, CONTROL_PREFIX) {
            return self.control(&req, rest);
        }
        Response::json(
            StatusCode::NOT_FOUND,
            &json!({
                "error": format!("no API at {}", req.path),
                "apis": {
                    "chargily_live": CHARGILY_LIVE_PREFIX,
                    "chargily_test": CHARGILY_TEST_PREFIX,
                    "recharge": RECHARGE_PREFIX,
                    "mock_controls": CONTROL_PREFIX,
                }
            }),
        )
    }

    /// The planted bug the server must carry out on the connection of a request to `path`:
    /// `close-connection` or `never-answer`, for vendor-API paths only.
    pub fn connection_bug(&self, path: &str) -> Option<PlantedBug> {
        let bug = self
            .env
            .config
            .planted
            .filter(|b| b.is_connection_level())?;
        [CHARGILY_TEST_PREFIX, CHARGILY_LIVE_PREFIX, RECHARGE_PREFIX]
            .iter()
            .any(|prefix| strip(path, prefix).is_some())
            .then_some(bug)
    }

    /// With a planted bug, applies it to the final response of `op` (after the self-check in
    /// the dialect's `finish`, so it is not counted as a violation of the mock).
    fn planted(&self, api: Api, op: Option<&'static str>, response: Response) -> Response {
        match (&self.planter, op) {
            (Some(planter), Some(op)) => planter.plant(api, op, response),
            _ => response,
        }
    }

    /// `/_mock/...`: the mock's own controls (no authentication; local use only).
    fn control(&self, req: &Request, rest: &str) -> Response {
        let segments: Vec<String> = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(oas::url::decode)
            .collect();
        let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
        let body: Value = if req.body.is_empty() {
            json!({})
        } else {
            match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(e) => {
                    return control_error(StatusCode::BAD_REQUEST, &format!("malformed JSON: {e}"));
                }
            }
        };
        match (&req.method, seg.as_slice()) {
            (&Method::GET, ["health"]) => Response::json(StatusCode::OK, &json!({"ok": true})),
            (
                &Method::POST,
                [
                    "chargily",
                    mode @ ("test" | "live"),
                    "checkouts",
                    id,
                    action @ ("pay" | "fail"),
                ],
            ) => self
                .chargily
                .simulate(&self.env, *mode == "live", id, *action == "pay"),
            (&Method::POST, ["recharge", "webhooks"]) => {
                recharge::register_webhook(&self.recharge, &body)
            }
            (&Method::GET, ["recharge", "webhooks"]) => recharge::list_webhooks(&self.recharge),
            (&Method::GET, ["webhooks"]) => Response::json(
                StatusCode::OK,
                &json!({"deliveries": self.env.outbox.records()}),
            ),
            (&Method::POST, ["faults"]) => self.add_fault(&body),
            (&Method::POST, ["clock", "advance"]) => {
                if self.env.clock.mode() != ClockMode::Fixed {
                    return control_error(
                        StatusCode::CONFLICT,
                        "only a fixed clock (--clock fixed) can be advanced",
                    );
                }
                let Some(seconds) = body
                    .get("seconds")
                    .and_then(Value::as_i64)
                    .filter(|s| *s >= 0)
                else {
                    return control_error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "`seconds` must be a non-negative integer",
                    );
                };
                if !self.advance_clock(seconds) {
                    return control_error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "the clock can be advanced by at most 1000 years in all",
                    );
                }
                Response::json(StatusCode::OK, &json!({"now": self.env.clock.now_s()}))
            }
            _ => control_error(
                StatusCode::NOT_FOUND,
                &format!("no mock control {} {}", req.method, req.path),
            ),
        }
    }

    /// `POST /_mock/faults {"api", "operation", "status", "count"}`: the next `count` calls of
    /// the operation (after routing and authentication) get the spec's documented error
    /// response for `status` (its first example as the body).
    fn add_fault(&self, body: &Value) -> Response {
        let api = match body.get("api").and_then(Value::as_str) {
            Some("chargily") => Api::Chargily,
            Some("recharge") => Api::Recharge,
            _ => {
                return control_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "`api` must be \"chargily\" or \"recharge\"",
                );
            }
        };
        let spec = match api {
            Api::Chargily => self.chargily.spec(),
            Api::Recharge => self.recharge.spec(),
        };
        let Some(operation) = body.get("operation").and_then(Value::as_str) else {
            return control_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "`operation` (an operationId) is required",
            );
        };
        let Some(index) = spec.operation(operation) else {
            return control_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("unknown operation `{operation}`"),
            );
        };
        let status = body.get("status").and_then(Value::as_u64).unwrap_or(0);
        let status = u16::try_from(status).unwrap_or(0);
        let documented = spec.documented_statuses(index);
        if status < 400 || !documented.contains(&status) {
            let documented: Vec<u16> = documented.into_iter().filter(|s| *s >= 400).collect();
            return control_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!(
                    "`status` must be an error status documented for {operation}: {documented:?}"
                ),
            );
        }
        let count = body
            .get("count")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .clamp(1, 1_000_000);
        let mut faults = self.env.faults.lock().unwrap_or_else(|e| e.into_inner());
        faults.push(Fault {
            api,
            operation: operation.to_owned(),
            status,
            remaining: u32::try_from(count).unwrap_or(1),
        });
        self.env.faulty.store(true, Ordering::Release);
        drop(faults);
        Response::json(
            StatusCode::OK,
            &json!({"api": body["api"], "operation": operation, "status": status, "count": count}),
        )
    }
}

fn control_error(status: StatusCode, message: &str) -> Response {
    Response::json(status, &json!({"error": message}))
}

/// `path` below `prefix` (`""` for the prefix itself), if it is below it.
fn strip<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// `http://host[:port]` of the request: its `Host` header when that is a plain host name or
/// address, otherwise the listening address.
pub(crate) fn origin(req: &Request) -> String {
    let host = req
        .header_str("host")
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        })
        .map_or_else(|| req.local_addr.to_string(), str::to_owned);
    format!("http://{host}")
}

/// Each generated route's operation index in `spec`: found from the route the router matched
/// by its address in the route table (a `static`), with no hashing on the request path; a
/// route from elsewhere (a copy) is found by its `operationId`.
#[derive(Debug)]
pub(crate) struct SpecIndexes<R: 'static> {
    routes: &'static [R],
    id: fn(&R) -> &'static str,
    /// `None` where the spec lacks the route's `operationId`.
    indexes: Vec<Option<usize>>,
}

impl<R> SpecIndexes<R> {
    pub fn new(spec: &Spec, routes: &'static [R], id: fn(&R) -> &'static str) -> Self {
        Self {
            routes,
            id,
            indexes: routes.iter().map(|r| spec.operation(id(r))).collect(),
        }
    }

    /// The index of `route`'s operation.
    pub fn of(&self, route: &R) -> Option<usize> {
        let size = std::mem::size_of::<R>().max(1);
        let offset =
            (std::ptr::from_ref(route) as usize).wrapping_sub(self.routes.as_ptr() as usize);
        let at = offset / size;
        let i = if offset % size == 0 && self.routes.get(at).is_some_and(|r| std::ptr::eq(r, route))
        {
            at
        } else {
            let id = (self.id)(route);
            self.routes.iter().position(|r| (self.id)(r) == id)?
        };
        self.indexes[i]
    }
}

/// Labels a body sent through a generated `Response::Other` as JSON: every error body and
/// stored object the mock sends that way is JSON, but `Other` carries no media type.
pub(crate) fn json_content(headers: &mut [(Cow<'static, str>, Cow<'static, str>)]) {
    for (name, value) in headers {
        // The value first: most headers differ from it in length.
        if value == "application/octet-stream" && name.eq_ignore_ascii_case("content-type") {
            *value = Cow::Borrowed("application/json");
        }
    }
}

/// Groups issue messages by key, keeping first-seen order of messages within a key.
pub(crate) fn group(
    pairs: impl IntoIterator<Item = (String, String)>,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, m) in pairs {
        let entry = out.entry(k).or_default();
        if !entry.contains(&m) {
            entry.push(m);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_self_check_flags_an_answer_that_breaks_the_spec_and_passes_one_that_keeps_it() {
        let mut config = MockConfig::for_tests();
        config.self_check = true;
        let app = App::new(config).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let request = Request::new(Method::GET, &format!("{CHARGILY_TEST_PREFIX}/balance"))
            .header("authorization", "Bearer test_sk_conformance");
        let response = runtime.block_on(app.handle(request));
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(app.self_check_violations(), Vec::<String>::new());
        // The same answer with its body emptied, as a broken handler would send it.
        let spec = app.chargily.spec();
        let headers = vec![("Content-Type".into(), "application/json".into())];
        let index = spec.operation("retrieveBalance");
        app.env
            .self_check(spec, index, "retrieveBalance", 200, &headers, b"{}");
        let violations = app.self_check_violations();
        assert!(
            !violations.is_empty() && violations[0].starts_with("retrieveBalance 200: "),
            "{violations:?}"
        );
    }

    /// A stored ReCharge checkout is answered from the store's bytes, not from a copy: two
    /// retrieves send the very same buffer, and it holds what the create sent.
    #[test]
    fn a_stored_checkout_is_sent_shared_not_copied() {
        let app = App::new(MockConfig::for_tests()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let send = |request: Request| {
            let request = request.header("x-recharge-access-token", "conformance");
            runtime.block_on(app.handle(request))
        };
        let created = send(
            Request::new(Method::POST, &format!("{RECHARGE_PREFIX}/checkouts"))
                .json(&json!({"line_items": [{"variant_id": 1, "quantity": 1, "price": "1.00"}]})),
        );
        assert_eq!(created.status, StatusCode::OK);
        let token = created.json_body()["checkout"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("{RECHARGE_PREFIX}/checkouts/{token}");
        let first = send(Request::new(Method::GET, &path));
        let second = send(Request::new(Method::GET, &path));
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(first.body, created.body);
        assert_eq!(second.body, created.body);
        assert_eq!(first.body.as_ptr(), second.body.as_ptr());
        assert_eq!(first.body.as_ptr(), created.body.as_ptr());
    }
}
