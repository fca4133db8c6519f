//! The reference mock of both checkout APIs (issue #4).
//!
//! One HTTP server serves:
//! - Chargily Pay V2 under `/chargily/api/v2` (live mode) and `/chargily/test/api/v2` (test
//!   mode, `livemode: false`), every operation of `spec/chargily-pay-v2.yaml`;
//! - ReCharge Checkouts 2021-01 under `/recharge`, the five operations of
//!   `spec/recharge-2021-01.yaml`;
//! - the mock's own controls under `/_mock/` (payment simulation, webhook registration and log,
//!   fault injection, clock), which are not part of either vendor API.
//!
//! Requests are validated against the spec and decoded into the `generated` types; responses
//! are built from those types. State lives in memory. Layout:
//! - [`exchange`]: the plain request/response values handlers take and return;
//! - `service.rs`: the only file that touches hyper's server types;
//! - `app.rs`: routing between the APIs, the `/_mock/` controls, fault injection and the
//!   response self-check;
//! - `chargily.rs`, `recharge.rs`: the two APIs, on an `oas::check::Spec` each (operations,
//!   request schemas, cached validators); each implements its generated server's `Api`
//!   (business logic) and `Dialect` (Laravel's or marshmallow's errors, authentication, the
//!   self-check in `finish`), so the generated router reads and types its requests; `validate.rs`: request violations as API-neutral issues;
//! - `planted.rs`: deliberate bugs (`--plant-bug`) for testing checkers;
//! - `webhook.rs`: delivery (signed by `generated::webhooks`); `support.rs`: clock, ids, money,
//!   query strings.
//!
//! ```no_run
//! use conformance::mock::{MockConfig, MockServer};
//! let server = MockServer::start(MockConfig::for_tests()).expect("starts");
//! let url = format!("{}/checkouts", server.chargily_test_url());
//! # let _ = url;
//! // ... the server stops when `server` is dropped.
//! ```

mod app;
mod chargily;
pub mod exchange;
mod planted;
mod recharge;
mod service;
mod store;
mod support;
mod validate;
mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use app::App;
pub(crate) use chargily::webhook_event as chargily_event;
pub use exchange::{BodyError, Request, Response};
pub use planted::{PLANTED_HEADER, PlantedBug, UNDECLARED_PROPERTY};
pub use support::{ClockMode, FIXED_EPOCH_SECONDS};
pub use webhook::{DeliveryRecord, DeliveryState};

/// Path prefixes of the APIs, relative to the server's origin.
pub const CHARGILY_LIVE_PREFIX: &str = "/chargily/api/v2";
pub const CHARGILY_TEST_PREFIX: &str = "/chargily/test/api/v2";
pub const RECHARGE_PREFIX: &str = "/recharge";
pub const CONTROL_PREFIX: &str = "/_mock";

/// [`MockConfig::store_limit`] by default: about 65 MB of Chargily checkouts.
pub const DEFAULT_STORE_LIMIT: usize = 50_000;

/// Everything the mock can be told at start.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Seed of the id generator; `None` seeds from the OS.
    pub seed: Option<u64>,
    pub clock: ClockMode,
    /// The Chargily secret key accepted as `Authorization: Bearer <key>` (both modes); also the
    /// key Chargily webhooks are signed with.
    pub chargily_secret_key: String,
    /// The ReCharge token accepted in `X-Recharge-Access-Token`.
    pub recharge_access_token: String,
    /// The ReCharge API client secret prepended to webhook bodies for `X-Recharge-Hmac-Sha256`.
    pub recharge_client_secret: String,
    /// ReCharge's leaky bucket (40 calls, 2 per second); off for load tests (no 429, and
    /// `X-Recharge-Limit` always reads `1/40`).
    pub recharge_rate_limit: bool,
    /// Larger request bodies get 413.
    pub max_body_bytes: usize,
    /// Time a client may take to send a request's headers, and then its body; slower clients
    /// are disconnected (headers) or get 408 (body).
    pub read_timeout: Duration,
    /// How long the simulated payment processor takes for a ReCharge charge. Two charges of
    /// one checkout within this window: one succeeds, the other gets 409.
    pub charge_delay: Duration,
    /// Webhook delivery: attempts per event (at least 1).
    pub webhook_attempts: u32,
    /// Webhook delivery: delay before the first retry, doubled after each failure.
    pub webhook_backoff: Duration,
    /// Webhook delivery: no attempt starts after this much time since the first.
    pub webhook_deadline: Duration,
    /// Webhook delivery: one attempt's timeout (ReCharge waits 5 s).
    pub webhook_timeout: Duration,
    /// Tokio worker threads.
    pub workers: usize,
    /// Validate every response against the spec and keep the violations
    /// ([`MockServer::self_check_violations`]); costs time, meant for tests.
    pub self_check: bool,
    /// A deliberate bug in every vendor-API response it can apply to, announced by the
    /// [`PLANTED_HEADER`] response header; for proving that a checker catches it.
    pub planted: Option<PlantedBug>,
    /// Objects of every kind created before serving (Chargily test mode: products, prices,
    /// customers, checkouts, payment links; ReCharge: checkouts), past the rate limit: a
    /// target that already holds data, as a vendor's sandbox does.
    pub preload: usize,
    /// Calls per second ReCharge's leaky bucket drains (ReCharge: 2). Higher lets many
    /// scenarios share one mock quickly while a run of calls still fills the bucket.
    pub recharge_drain_per_second: f64,
    /// Objects of each kind a store keeps (per API and Chargily mode): creating one more
    /// evicts the oldest, which then answers 404 and leaves the lists. Bounds a long-lived
    /// mock's memory and keeps its latency flat.
    pub store_limit: usize,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            seed: None,
            clock: ClockMode::System,
            chargily_secret_key: "test_sk_conformance".into(),
            recharge_access_token: "conformance".into(),
            recharge_client_secret: "conformance_client_secret".into(),
            recharge_rate_limit: true,
            max_body_bytes: 1024 * 1024,
            read_timeout: Duration::from_secs(10),
            charge_delay: Duration::from_millis(100),
            webhook_attempts: 5,
            webhook_backoff: Duration::from_millis(500),
            webhook_deadline: Duration::from_secs(60),
            webhook_timeout: Duration::from_secs(5),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            self_check: false,
            planted: None,
            preload: 0,
            recharge_drain_per_second: 2.0,
            store_limit: DEFAULT_STORE_LIMIT,
        }
    }
}

impl MockConfig {
    /// For tests: a free port on 127.0.0.1, seed 1, fixed clock, short timeouts, the response
    /// self-check on.
    pub fn for_tests() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: Some(1),
            clock: ClockMode::Fixed,
            read_timeout: Duration::from_millis(500),
            charge_delay: Duration::from_millis(150),
            webhook_attempts: 4,
            webhook_backoff: Duration::from_millis(20),
            webhook_deadline: Duration::from_secs(5),
            webhook_timeout: Duration::from_secs(2),
            workers: 2,
            self_check: true,
            ..Self::default()
        }
    }
}

/// Why the mock could not start.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("cannot load the embedded spec: {0}")]
    Spec(String),
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        addr: SocketAddr,
        error: std::io::Error,
    },
    #[error("cannot start the server runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot preload the store: {0}")]
    Preload(String),
}

/// A running mock. Dropping it stops the server (in-flight requests get a short grace period).
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    app: Arc<App>,
    running: Option<crate::http_server::Running>,
}

impl MockServer {
    /// Loads the specs, binds `config.listen` and serves on a background runtime.
    pub fn start(config: MockConfig) -> Result<Self, MockError> {
        let app = Arc::new(App::new(config.clone())?);
        let running = service::start(Arc::clone(&app), &config)?;
        Ok(Self {
            addr: running.addr,
            app,
            running: Some(running),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Chargily Pay V2, test mode.
    pub fn chargily_test_url(&self) -> String {
        format!("{}{CHARGILY_TEST_PREFIX}", self.origin())
    }

    /// Chargily Pay V2, live mode.
    pub fn chargily_live_url(&self) -> String {
        format!("{}{CHARGILY_LIVE_PREFIX}", self.origin())
    }

    /// ReCharge Checkouts 2021-01.
    pub fn recharge_url(&self) -> String {
        format!("{}{RECHARGE_PREFIX}", self.origin())
    }

    /// The mock's own controls.
    pub fn control_url(&self) -> String {
        format!("{}{CONTROL_PREFIX}", self.origin())
    }

    /// The request handler behind the server (state, clock, webhook log).
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Responses that did not validate against the spec (with `self_check` on).
    pub fn self_check_violations(&self) -> Vec<String> {
        self.app.self_check_violations()
    }

    /// Every webhook the mock has queued, with its delivery state.
    pub fn webhook_deliveries(&self) -> Vec<DeliveryRecord> {
        self.app.webhook_deliveries()
    }

    /// Stops the server and waits for it.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        // Stopping joins the server's thread: done before the other fields go.
        drop(self.running.take());
    }
}
