//! Replay: recorded scenarios sent to a target (the embedded mock by default, or any base URL),
//! every live response checked against the spec and the recording, and normalized for
//! snapshots.
//!
//! Scenarios run in parallel (at most `jobs` at once); the exchanges of a scenario run in
//! order. Against the embedded mock each scenario gets a fresh mock (its own state, so lists
//! and ids are deterministic), started with a different seed from the one recordings are made
//! with, so that state rebinding is exercised on every run. Layout:
//! - `client.rs`: the HTTP client (the only file here that touches hyper);
//! - `rebind.rs`: recorded values → live values by identity, and explicit captures;
//! - `lists.rs`: list checks that hold on a target shared with other data;
//! - `balance.rs`: the balance (global state) judged by its change, when the scenario runs alone;
//! - `verdict.rs`: the checks of one response;
//! - `normalize.rs`: placeholders for what varies, for snapshots and comparisons;
//! - `outcome.rs`: the report types.

mod balance;
pub mod baseline;
pub mod client;
mod lists;
pub mod normalize;
pub mod outcome;
pub mod plan;
pub mod rebind;
pub mod sdk;
mod verdict;

use crate::headers;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oas::check::{Profile, Spec};
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::mock::{MockConfig, MockServer};
use crate::recording::{self, Auth, Destination, Exchange, Loaded};
use crate::specs::Api;

pub use client::{Client, DEFAULT_MAX_RESPONSE_BYTES, Outgoing, Received, TransportError};
pub use normalize::{Normalizer, Rules};
pub use outcome::{
    ExchangeReport, FailOn, Kind, Policy, Rule, RunReport, ScenarioReport, Totals, Violation,
};

/// Where one API's requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A fresh embedded mock per scenario.
    Embedded,
    /// An implementation at `base` (the API's base URL); `control`, when given, is the base
    /// URL of its control API (the mock's `/_mock`), needed by scenarios that pay checkouts.
    Url {
        base: String,
        control: Option<String>,
    },
}

/// The credentials injected into requests (never read from recordings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Sent as `Authorization: Bearer <key>` to Chargily.
    pub chargily_secret_key: String,
    /// Sent as `X-Recharge-Access-Token` to ReCharge.
    pub recharge_access_token: String,
}

impl Default for Credentials {
    /// The embedded mock's defaults.
    fn default() -> Self {
        Self {
            chargily_secret_key: "test_sk_conformance".into(),
            recharge_access_token: "conformance".into(),
        }
    }
}

/// Called after each exchange (for progress bars).
pub type Progress = Arc<dyn Fn(&ExchangeReport) + Send + Sync>;

/// The default total time of one exchange (`--exchange-budget-ms`): a repeat of the longest
/// allowed (`repeat.max` 1000) against a target answering in a few milliseconds fits well.
pub const DEFAULT_EXCHANGE_BUDGET: Duration = Duration::from_secs(120);

/// How to run.
#[derive(Clone)]
pub struct Options {
    pub profile: Profile,
    /// Scenarios in flight at once (at least 1).
    pub jobs: usize,
    /// Per request.
    pub timeout: Duration,
    /// The most time one exchange may take in all, its repeats and rate-limit retries included:
    /// past it no further attempt starts (`exchange-budget`).
    pub exchange_budget: Duration,
    /// The most bytes of one response body read (`body-too-large` past it).
    pub max_response_bytes: usize,
    pub credentials: Credentials,
    /// Per API; an API with no entry uses [`Target::Embedded`].
    pub targets: BTreeMap<Api, Target>,
    /// Seed of the embedded mocks (recordings are made with seed 1).
    pub embedded_seed: u64,
    /// Retries of a request the target rate-limited although the recording was not (waiting
    /// as `Retry-After` says, at most 5 s each).
    pub rate_limit_retries: u32,
    /// Also compare each normalized body with the recorded one (`body-differs`): how an
    /// implementation departs from the reference behaviour beyond what the spec says.
    pub compare_bodies: bool,
    /// Keep each exchange's request as sent and response as received
    /// ([`ExchangeReport::live`], needed by `--rerecord`); off saves memory on long runs.
    pub keep_live: bool,
    /// Which findings fail the run; copied into the report.
    pub policy: Policy,
    /// Where the recordings came from, named in the report.
    pub recordings: Option<String>,
    /// Normalization rules replacing an API's embedded ones (from the recordings folder).
    pub rules: BTreeMap<Api, RulesSource>,
    /// Trusted for `https` targets besides the platform's roots (`--ca-cert`).
    pub ca_certs: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// How API requests are built: as recorded, or by the generated typed clients.
    pub via: Via,
    pub progress: Option<Progress>,
}

/// The credentials sent where a recording says `auth: invalid`, raw or through the typed
/// clients.
const INVALID_CHARGILY_KEY: &str = "test_sk_invalid_conformance_key";
const INVALID_RECHARGE_TOKEN: &str = "invalid_conformance_token";

/// How API requests are built and sent (`--via`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// As the recording wrote them.
    #[default]
    Http,
    /// Rebuilt from typed values by the generated typed client of each API (`replay::sdk`); what it
    /// cannot express is sent as recorded, and the report says why.
    Sdk,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("profile", &self.profile)
            .field("jobs", &self.jobs)
            .field("timeout", &self.timeout)
            .field("exchange_budget", &self.exchange_budget)
            .field("targets", &self.targets)
            .field("embedded_seed", &self.embedded_seed)
            .finish_non_exhaustive()
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            profile: Profile::Spec,
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get() * 2),
            timeout: Duration::from_secs(10),
            exchange_budget: DEFAULT_EXCHANGE_BUDGET,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            credentials: Credentials::default(),
            targets: BTreeMap::new(),
            embedded_seed: 2,
            rate_limit_retries: 3,
            compare_bodies: false,
            keep_live: true,
            policy: Policy::default(),
            recordings: None,
            rules: BTreeMap::new(),
            ca_certs: Vec::new(),
            via: Via::Http,
            progress: None,
        }
    }
}

/// What every scenario of one API shares: the spec prepared for checking, and the rules.
#[derive(Debug)]
pub struct ApiContext {
    pub api: Api,
    /// Shared by every context and embedded mock of the process ([`Api::spec`]).
    pub spec: Arc<Spec>,
    pub rules: Rules,
}

impl ApiContext {
    /// Loads the embedded spec and rules of `api`.
    pub fn new(api: Api) -> Result<Self, String> {
        Self::with_rules(api, None)
    }

    /// The embedded spec of `api`, with the rules of `rules` (a file's name and text) instead
    /// of the embedded ones when given.
    pub fn with_rules(api: Api, rules: Option<&RulesSource>) -> Result<Self, String> {
        let spec = api.spec()?;
        let rules = match rules {
            Some(source) => Rules::from_text(&source.file, &source.text, spec.root())?,
            None => Rules::for_api(api, spec.root())?,
        };
        Ok(Self { api, spec, rules })
    }
}

/// A normalization rules file read from disk: its name (in messages) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesSource {
    pub file: String,
    pub text: String,
}

impl RulesSource {
    /// The rules files of a recordings folder (`<api>/normalize.yaml`, where present), which
    /// replace the embedded ones; each is checked, so a bad one is an error before the run.
    pub fn in_folder(dir: &std::path::Path) -> Result<BTreeMap<Api, RulesSource>, String> {
        let mut out = BTreeMap::new();
        for api in Api::ALL {
            let path = dir.join(normalize::api_folder(api)).join("normalize.yaml");
            if !path.is_file() {
                continue;
            }
            let file = path.display().to_string();
            let text = oas::files::read_text(&path).map_err(|e| format!("{file}: {e}"))?;
            let source = RulesSource { file, text };
            ApiContext::with_rules(api, Some(&source))?;
            out.insert(api, source);
        }
        Ok(out)
    }
}

/// Checks a loaded recording against its API's spec: every exchange to the API names an
/// operation that exists and matches its method and path. Errors carry file and line.
pub fn validate(loaded: &Loaded, ctx: &ApiContext) -> Vec<recording::RecordingError> {
    let mut out = Vec::new();
    for (i, ex) in loaded.recording.exchanges.iter().enumerate() {
        if ex.request.to == Destination::Control || ex.flagged.is_some() {
            continue;
        }
        let found = ctx.spec.find(&ex.request.method, &ex.request.path);
        match (found, &ex.operation) {
            (None, _) => out.push(loaded.error_at(
                i,
                format!(
                    "{} {} matches no operation of {}",
                    ex.request.method,
                    ex.request.path,
                    ctx.api.spec_path()
                ),
            )),
            (Some(m), Some(named)) => {
                let id = &ctx.spec.operations()[m.index].id;
                if id != named {
                    out.push(loaded.error_at(
                        i,
                        format!(
                            "`operation: {named}` but {} {} is `{id}` in {}",
                            ex.request.method,
                            ex.request.path,
                            ctx.api.spec_path()
                        ),
                    ));
                }
            }
            (Some(_), None) => {}
        }
    }
    out
}

/// The scenarios of shard `k` of `n` (1-based): every n-th file in path order, so shards are
/// disjoint, cover everything and do not depend on timing.
pub fn shard<T>(items: Vec<T>, k: usize, n: usize) -> Vec<T> {
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| n == 0 || i % n == k.saturating_sub(1))
        .map(|(_, x)| x)
        .collect()
}

/// The scenarios `--only` selects: those whose name (its `name`, else the file stem) or file
/// path relative to the recordings folder matches one of `patterns` (`*` any run of
/// characters, `?` one; otherwise exact). Order is kept.
pub fn only(
    items: Vec<crate::recording::Loaded>,
    patterns: &[String],
    root: &std::path::Path,
) -> Vec<crate::recording::Loaded> {
    items
        .into_iter()
        .filter(|l| {
            let relative = l.file.strip_prefix(root).unwrap_or(&l.file);
            let relative = relative.to_string_lossy().replace('\\', "/");
            let name = l.name();
            patterns
                .iter()
                .any(|p| wildcard_match(p, &name) || wildcard_match(p, &relative))
        })
        .collect()
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters (`/` too) and
/// `?` for one. Iterative with one backtrack point, so linear in practice and never
/// exponential.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            // Let the last `*` take one more character.
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Set once the target stops answering altogether: no scenario starts after that.
#[derive(Debug, Clone, Default)]
struct Stop(Arc<std::sync::Mutex<Option<String>>>);

impl Stop {
    fn reason(&self) -> Option<String> {
        self.0.lock().ok().and_then(|g| g.clone())
    }

    fn set(&self, why: String) {
        if let Ok(mut g) = self.0.lock()
            && g.is_none()
        {
            *g = Some(why);
        }
    }
}

/// What each API's requests go to, as reports name it.
fn describe_targets(scenarios: &[Loaded], options: &Options) -> BTreeMap<Api, String> {
    scenarios
        .iter()
        .map(|s| {
            let described = match options.targets.get(&s.api()) {
                Some(Target::Url { base, .. }) => base.clone(),
                _ => format!("embedded reference mock (seed {})", options.embedded_seed),
            };
            (s.api(), described)
        })
        .collect()
}

/// Replays `scenarios` and checks every exchange. Never panics on bad input: problems become
/// violations, or scenario errors for an unreachable target. When the target stops answering
/// altogether, scenarios not yet started are reported as not run and the run ends.
pub async fn run(scenarios: Vec<Loaded>, options: &Options) -> RunReport {
    let started = Instant::now();
    let targets = describe_targets(&scenarios, options);
    let stop = Stop::default();
    let mut contexts: BTreeMap<Api, Result<Arc<ApiContext>, String>> = BTreeMap::new();
    for s in &scenarios {
        contexts.entry(s.api()).or_insert_with(|| {
            ApiContext::with_rules(s.api(), options.rules.get(&s.api())).map(Arc::new)
        });
    }
    let client = match client::tls_config(&options.ca_certs) {
        Ok(tls) => Client::new(options.timeout, tls, options.max_response_bytes),
        Err(e) => {
            let why = format!("not started: {e}");
            return RunReport {
                profile: options.profile,
                targets,
                recordings: options.recordings.clone(),
                via: options.via,
                policy: options.policy,
                stopped: Some(e),
                baseline: None,
                scenarios: scenarios
                    .iter()
                    .map(|l| ScenarioReport {
                        file: l.file.display().to_string(),
                        name: l.name(),
                        api: l.api(),
                        target: String::new(),
                        skipped: None,
                        error: None,
                        not_run: Some(why.clone()),
                        exchanges: unrun(l, None, Some(&why)),
                    })
                    .collect(),
                elapsed_ms: outcome::millis(started.elapsed()),
            };
        }
    };
    let semaphore = Arc::new(Semaphore::new(options.jobs.max(1)));
    let (exclusive, shared): (Vec<_>, Vec<_>) = scenarios
        .into_iter()
        .enumerate()
        .partition(|(_, s)| s.recording.exclusive);

    let mut results: Vec<(usize, ScenarioReport)> = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, loaded) in shared {
        let ctx = contexts.get(&loaded.api()).cloned();
        let client = client.clone();
        let options = options.clone();
        let semaphore = Arc::clone(&semaphore);
        let stop = stop.clone();
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (i, run_one(ctx, loaded, &client, &options, &stop).await)
        });
    }
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(r) => results.push(r),
            Err(e) => tracing::error!("a scenario task failed: {e}"),
        }
    }
    // Exclusive scenarios alone, after the others: they exhaust what the target shares.
    for (i, loaded) in exclusive {
        let ctx = contexts.get(&loaded.api()).cloned();
        results.push((i, run_one(ctx, loaded, &client, options, &stop).await));
    }
    results.sort_by_key(|(i, _)| *i);
    RunReport {
        profile: options.profile,
        targets,
        recordings: options.recordings.clone(),
        via: options.via,
        policy: options.policy,
        stopped: stop.reason(),
        baseline: None,
        scenarios: results.into_iter().map(|(_, r)| r).collect(),
        elapsed_ms: outcome::millis(started.elapsed()),
    }
}

async fn run_one(
    ctx: Option<Result<Arc<ApiContext>, String>>,
    loaded: Loaded,
    client: &Client,
    options: &Options,
    stop: &Stop,
) -> ScenarioReport {
    let mut report = ScenarioReport {
        file: loaded.file.display().to_string(),
        name: loaded.name(),
        api: loaded.api(),
        target: String::new(),
        skipped: None,
        error: None,
        not_run: None,
        exchanges: Vec::new(),
    };
    if let Some(why) = stop.reason() {
        let why = format!("not started: the run stopped ({why})");
        report.exchanges = unrun(&loaded, None, Some(&why));
        report.not_run = Some(why);
        return report;
    }
    let ctx = match ctx {
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            report.error = Some(e);
            return report;
        }
        None => {
            report.error = Some("no context for the API".into());
            return report;
        }
    };
    let target = options
        .targets
        .get(&loaded.api())
        .cloned()
        .unwrap_or(Target::Embedded);
    let (base, control, mock) = match target {
        Target::Url { base, control } => (base, control, None),
        Target::Embedded => {
            let config = embedded_config(options);
            let started = tokio::task::spawn_blocking(move || MockServer::start(config)).await;
            match started {
                Ok(Ok(server)) => {
                    let base = match loaded.api() {
                        Api::Chargily => server.chargily_test_url(),
                        Api::Recharge => server.recharge_url(),
                    };
                    (base, Some(server.control_url()), Some(server))
                }
                Ok(Err(e)) => {
                    report.error = Some(format!("the embedded mock did not start: {e}"));
                    return report;
                }
                Err(e) => {
                    report.error = Some(format!("the embedded mock did not start: {e}"));
                    return report;
                }
            }
        }
    };
    report.target = base.clone();
    let needs_control = loaded
        .recording
        .exchanges
        .iter()
        .any(|e| e.request.to == Destination::Control);
    if needs_control && control.is_none() {
        let why = "needs the target's control API (e.g. to pay a checkout); give --control URL";
        report.exchanges = unrun(&loaded, Some(why), None);
        report.skipped = Some(why.into());
    } else {
        let runner = ScenarioRun {
            ctx: &ctx,
            client,
            options,
            base: &base,
            control: control.as_deref(),
            origin: origin_of(&base),
            stop,
            // A fresh embedded mock holds nothing to collide with: recorded values as they are.
            unique: if mock.is_some() {
                String::new()
            } else {
                unique_suffix()
            },
            alone: mock.is_some() || loaded.recording.exclusive,
            balance: std::sync::Mutex::default(),
        };
        runner.run(&loaded, &mut report).await;
    }
    if let Some(server) = mock {
        // Stopping joins the server's thread: not on a runtime worker.
        let _ = tokio::task::spawn_blocking(move || drop(server)).await;
    }
    report
}

/// Every exchange of `loaded`, skipped or not run for the same reason, so that counts stay
/// honest when a whole scenario does not run.
fn unrun(loaded: &Loaded, skipped: Option<&str>, not_run: Option<&str>) -> Vec<ExchangeReport> {
    loaded
        .recording
        .exchanges
        .iter()
        .enumerate()
        .map(|(index, ex)| ExchangeReport {
            index,
            name: ex.name.clone(),
            operation: ex.operation.clone(),
            method: ex.request.method.clone(),
            path: ex.request.path.clone(),
            recorded_status: ex.response.status,
            status: None,
            attempts: 0,
            elapsed_ms: 0.0,
            violations: Vec::new(),
            skipped: skipped.map(str::to_string),
            not_run: not_run.map(str::to_string),
            normalized: Value::Null,
            live: None,
            as_recorded: None,
        })
        .collect()
}

fn embedded_config(options: &Options) -> MockConfig {
    let mut c = MockConfig::for_tests();
    c.seed = Some(options.embedded_seed);
    c.self_check = false;
    c.workers = 1;
    c.read_timeout = Duration::from_secs(10);
    // Long enough that two charges sent together overlap even on a loaded machine (the
    // concurrent-charge scenario expects one 409), short enough to keep replays quick.
    c.charge_delay = Duration::from_millis(250);
    c.chargily_secret_key = options.credentials.chargily_secret_key.clone();
    c.recharge_access_token = options.credentials.recharge_access_token.clone();
    c
}

fn origin_of(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => url[..after_scheme + i].to_string(),
        None => url.to_string(),
    }
}

struct ScenarioRun<'a> {
    ctx: &'a ApiContext,
    client: &'a Client,
    options: &'a Options,
    base: &'a str,
    control: Option<&'a str>,
    origin: String,
    stop: &'a Stop,
    /// The built-in capture `{{unique}}`: different for every scenario run on a shared target.
    unique: String,
    /// Whether nothing else uses the target meanwhile (an exclusive scenario, or a fresh
    /// embedded mock): only then is global state (the balance) this scenario's to judge.
    alone: bool,
    balance: std::sync::Mutex<balance::Baseline>,
}

/// A value no other scenario run of this or an earlier process uses: for what a target keeps
/// globally and refuses twice (a single-use payment token).
fn unique_suffix() -> String {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("x{nanos:x}{n}")
}

/// A request after rebinding, ready to send.
struct Prepared {
    index: usize,
    request: recording::Request,
    outgoing: Outgoing,
    operation: Option<usize>,
    /// With `--via sdk`: the typed call, or why the request goes as recorded.
    sdk: Option<Result<sdk::Call, String>>,
}

/// One exchange's request as it was sent, and what came back after how many attempts.
struct Sent<'e> {
    prepared: Prepared,
    exchange: &'e Exchange,
    received: Result<Received, TransportError>,
    attempts: u32,
    /// With `--via sdk`, why the request went as recorded (`None`: the typed client built it).
    as_recorded: Option<String>,
}

/// What a scenario carries from one exchange to the next.
struct Carried<'a> {
    /// Values captured and ids learnt so far, for rebinding later requests.
    bindings: rebind::Bindings,
    /// Labels for the live side's ids, in order of appearance.
    live: Normalizer<'a>,
    /// The recorded side, normalized the same way from the URL it was captured at, so
    /// `--compare-bodies` compares like with like (its id labels follow the same order).
    recorded: Normalizer<'a>,
}

impl ScenarioRun<'_> {
    async fn run(&self, loaded: &Loaded, report: &mut ScenarioReport) {
        let exchanges = &loaded.recording.exchanges;
        let recorded_base = loaded.recording.base_url.clone().unwrap_or_default();
        let mut carried = Carried {
            bindings: rebind::Bindings::default(),
            live: Normalizer::new(&self.ctx.rules, self.base, &self.origin),
            recorded: Normalizer::new(&self.ctx.rules, &recorded_base, &origin_of(&recorded_base)),
        };
        carried.bindings.capture("unique", self.unique.clone());
        let mut i = 0;
        while i < exchanges.len() {
            // A group of consecutive exchanges with the same `concurrent` label.
            let mut end = i + 1;
            if let Some(group) = &exchanges[i].concurrent {
                while end < exchanges.len() && exchanges[end].concurrent.as_ref() == Some(group) {
                    end += 1;
                }
            }
            let mut prepared = Vec::new();
            for (j, ex) in exchanges.iter().enumerate().take(end).skip(i) {
                match self.prepare(j, ex, &carried.bindings) {
                    Ok(p) => prepared.push((p, ex)),
                    Err(skip) => {
                        let mut r = self.skeleton(j, ex, &carried.live);
                        if skip.starts_with("missing capture") {
                            r.violations.push(Violation {
                                rule: Rule::MissingCapture,
                                instance_pointer: "request".into(),
                                schema_pointer: format!("{}#exchanges[{j}]", report.file),
                                expected: "a capture from an earlier exchange".into(),
                                actual: skip.clone(),
                            });
                        }
                        r.skipped = Some(skip);
                        report.exchanges.push(r);
                    }
                }
            }
            let mut results = Vec::new();
            if prepared.len() > 1 {
                let mut set = tokio::task::JoinSet::new();
                for (n, (p, ex)) in prepared.iter().enumerate() {
                    let plan = self.plan(p, ex);
                    set.spawn(async move { (n, plan.send().await) });
                }
                let mut got = Vec::new();
                while let Some(Ok(r)) = set.join_next().await {
                    got.push(r);
                }
                got.sort_by_key(|(n, _)| *n);
                // Which request wins a race is not deterministic; pair outcomes with the
                // recorded ones in order of status.
                let mut live: Vec<_> = got.into_iter().map(|(_, r)| r).collect();
                live.sort_by_key(|(r, _, _)| r.as_ref().map_or(u16::MAX, |x| x.status));
                let mut order: Vec<usize> = (0..prepared.len()).collect();
                order.sort_by_key(|&n| prepared[n].1.response.status);
                let mut slots: Vec<Option<Attempted>> = (0..prepared.len()).map(|_| None).collect();
                for (slot, outcome) in order.into_iter().zip(live) {
                    slots[slot] = Some(outcome);
                }
                for ((prepared, exchange), slot) in prepared.into_iter().zip(slots) {
                    let (received, attempts, as_recorded) = slot.unwrap_or((
                        Err(TransportError::Closed {
                            detail: "the request task failed".into(),
                        }),
                        1,
                        None,
                    ));
                    results.push(Sent {
                        prepared,
                        exchange,
                        received,
                        attempts,
                        as_recorded,
                    });
                }
            } else {
                for (prepared, exchange) in prepared {
                    let (received, attempts, as_recorded) =
                        self.plan(&prepared, exchange).send().await;
                    results.push(Sent {
                        prepared,
                        exchange,
                        received,
                        attempts,
                        as_recorded,
                    });
                }
            }
            let mut transport_error = None;
            for sent in results {
                if let Err(e @ TransportError::Connect { .. }) = &sent.received {
                    let why = format!("the target {} is unreachable: {e}", self.base);
                    self.stop.set(why.clone());
                    report.error = Some(why);
                    transport_error = Some(e.to_string());
                    let mut r = self.skeleton(sent.prepared.index, sent.exchange, &carried.live);
                    r.not_run = Some(e.to_string());
                    report.exchanges.push(r);
                    continue;
                }
                // A body past the cap is an answer (a finding), not a target that is gone.
                if let Err(e) = &sent.received
                    && !matches!(e, TransportError::TooLarge { .. })
                {
                    transport_error.get_or_insert_with(|| e.to_string());
                }
                let r = self.finish(&sent, &mut carried, &report.file);
                if let Some(progress) = &self.options.progress {
                    progress(&r);
                }
                report.exchanges.push(r);
            }
            i = end;
            if let Some(e) = transport_error {
                // Later exchanges depend on this one's response: not run, and counted so.
                for (j, ex) in exchanges.iter().enumerate().skip(end) {
                    let mut r = self.skeleton(j, ex, &carried.live);
                    r.not_run = Some(format!("exchange {} got no response ({e})", end - 1));
                    report.exchanges.push(r);
                }
                if report.error.is_none() && !self.answers().await {
                    let why = format!("the target {} stopped answering: {e}", self.base);
                    self.stop.set(why.clone());
                    report.error = Some(why);
                }
                break;
            }
        }
        report.exchanges.sort_by_key(|e| e.index);
    }

    /// Whether the target still answers anything at all (any status will do): tells one
    /// broken endpoint from a dead target.
    async fn answers(&self) -> bool {
        let probe = Outgoing {
            method: "GET".into(),
            url: self.base.to_string(),
            headers: Vec::new(),
            body: bytes::Bytes::new(),
        };
        !matches!(
            self.client.send(&probe).await,
            Err(e) if !matches!(e, TransportError::TooLarge { .. })
        )
    }

    fn skeleton(&self, index: usize, ex: &Exchange, normalizer: &Normalizer<'_>) -> ExchangeReport {
        ExchangeReport {
            index,
            name: ex.name.clone(),
            operation: ex.operation.clone(),
            method: ex.request.method.clone(),
            path: normalizer.text(&ex.request.path),
            recorded_status: ex.response.status,
            status: None,
            attempts: 0,
            elapsed_ms: 0.0,
            violations: Vec::new(),
            skipped: None,
            not_run: None,
            normalized: Value::Null,
            live: None,
            as_recorded: None,
        }
    }

    fn prepare(
        &self,
        index: usize,
        ex: &Exchange,
        bindings: &rebind::Bindings,
    ) -> Result<Prepared, String> {
        if let Some(why) = &ex.flagged {
            return Err(format!("flagged in the recording: {why}"));
        }
        let missing: Vec<String> = rebind::request_placeholders(&ex.request)
            .into_iter()
            .filter(|n| !bindings.has_capture(n))
            .collect();
        if !missing.is_empty() {
            return Err(format!("missing capture {}", missing.join(", ")));
        }
        let request = bindings.apply(&ex.request);
        let base = match request.to {
            Destination::Api => self.base,
            Destination::Control => self.control.unwrap_or(self.base),
        };
        let mut url = format!("{}{}", base.trim_end_matches('/'), request.path);
        if let Some(q) = &request.query {
            url.push('?');
            url.push_str(q);
        }
        let mut headers: Vec<(String, String)> = request
            .headers
            .iter()
            .filter(|(n, _)| !headers::is_not_replayed(n))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        if request.body.json.is_some() && !request.headers.contains_key("content-type") {
            headers.push(("content-type".into(), "application/json".into()));
        }
        if request.to == Destination::Api {
            headers.extend(self.auth_header(request.auth));
        }
        let operation = match request.to {
            Destination::Api => self
                .ctx
                .spec
                .find(&request.method, &request.path)
                .map(|m| m.index),
            Destination::Control => None,
        };
        let sdk = (self.options.via == Via::Sdk).then(|| match request.to {
            Destination::Control => Err("a request to the mock's control API".to_owned()),
            Destination::Api => {
                let c = &self.options.credentials;
                let (injected, invalid) = match self.ctx.api {
                    Api::Chargily => (c.chargily_secret_key.as_str(), INVALID_CHARGILY_KEY),
                    Api::Recharge => (c.recharge_access_token.as_str(), INVALID_RECHARGE_TOKEN),
                };
                sdk::build(
                    self.ctx.api,
                    &self.ctx.spec,
                    self.base,
                    &request,
                    sdk::credential(request.auth, injected, invalid),
                )
            }
        });
        Ok(Prepared {
            index,
            outgoing: Outgoing {
                method: request.method.clone(),
                url,
                headers,
                body: request.body.to_bytes().into(),
            },
            request,
            operation,
            sdk,
        })
    }

    fn auth_header(&self, auth: Auth) -> Option<(String, String)> {
        let c = &self.options.credentials;
        match (self.ctx.api, auth) {
            (_, Auth::None) => None,
            (Api::Chargily, Auth::Inject) => Some((
                "authorization".into(),
                format!("Bearer {}", c.chargily_secret_key),
            )),
            (Api::Chargily, Auth::Invalid) => Some((
                "authorization".into(),
                format!("Bearer {INVALID_CHARGILY_KEY}"),
            )),
            (Api::Recharge, Auth::Inject) => Some((
                "x-recharge-access-token".into(),
                c.recharge_access_token.clone(),
            )),
            (Api::Recharge, Auth::Invalid) => Some((
                "x-recharge-access-token".into(),
                INVALID_RECHARGE_TOKEN.into(),
            )),
        }
    }

    fn plan(&self, p: &Prepared, ex: &Exchange) -> SendPlan {
        SendPlan {
            client: self.client.clone(),
            outgoing: p.outgoing.clone(),
            sdk: p.sdk.clone(),
            repeat: ex.repeat,
            recorded_status: ex.response.status,
            rate_limit_retries: self.options.rate_limit_retries,
            budget: self.options.exchange_budget,
        }
    }

    /// Judges one exchange's outcome: the transport failure, or the response against the
    /// spec and the recording (`judge`), then its normalized snapshot and, when re-recording,
    /// the live pair.
    fn finish(&self, sent: &Sent<'_>, carried: &mut Carried<'_>, file: &str) -> ExchangeReport {
        let (p, ex, attempts) = (&sent.prepared, sent.exchange, sent.attempts);
        let Carried {
            bindings,
            live: normalizer,
            recorded: recorded_normalizer,
        } = carried;
        let mut r = ExchangeReport {
            index: p.index,
            name: ex.name.clone(),
            operation: p
                .operation
                .map(|i| self.ctx.spec.operations()[i].id.clone()),
            method: p.request.method.clone(),
            path: String::new(),
            recorded_status: ex.response.status,
            status: None,
            attempts,
            elapsed_ms: 0.0,
            violations: Vec::new(),
            skipped: None,
            not_run: None,
            normalized: Value::Null,
            live: None,
            as_recorded: sent.as_recorded.clone(),
        };
        let received = match &sent.received {
            Ok(x) => x,
            Err(e) => {
                r.path = normalizer.text(&p.request.path);
                r.violations
                    .push(transport_violation(e, ex.response.status, file, p.index));
                r.normalized = snapshot_value(&Snapshot {
                    request: format!("{} {}", r.method, r.path),
                    operation: None,
                    status: None,
                    headers: None,
                    body: None,
                    violations: &r.violations,
                });
                return r;
            }
        };
        r.status = Some(received.status);
        r.elapsed_ms = outcome::millis(received.elapsed);
        let content_type = received.header("content-type").map(str::to_string);
        let mut live_body = recording::Body::from_bytes(content_type.as_deref(), &received.body);
        // Learn before normalizing, so ids in this exchange's own path get labels too.
        let conflicts = bindings.learn(
            &self.ctx.rules,
            ex.response.body.json.as_ref(),
            ex.response.headers.get("location").map(String::as_str),
            live_body.json.as_ref(),
            received.header("location"),
        );
        for (name, source) in &ex.capture {
            if let Some(v) = capture_value(source, received, live_body.json.as_ref()) {
                bindings.capture(name, v);
            }
        }
        r.violations = self.judge(sent, received, live_body.json.as_ref(), bindings, file);
        let is_json = live_body.json.is_some();
        // The live body is kept only to re-record; otherwise it is normalized in place.
        let json = if self.options.keep_live {
            live_body.json.clone()
        } else {
            live_body.json.take()
        };
        let normalized_body = match (json, &live_body.text) {
            (Some(j), _) => Some(normalizer.body_owned(j)),
            (None, Some(t)) => Some(Value::String(normalizer.text(t))),
            (None, None) => None,
        };
        if self.options.compare_bodies && received.status == ex.response.status {
            // (A different status already says the bodies differ.)
            let recorded = match (&ex.response.body.json, &ex.response.body.text) {
                (Some(j), _) => Some(recorded_normalizer.body(j)),
                (None, Some(t)) => Some(Value::String(recorded_normalizer.text(t))),
                (None, None) => None,
            };
            if recorded != normalized_body
                && let Some(v) = body_differs(recorded.as_ref(), normalized_body.as_ref())
            {
                r.violations.push(v);
            }
        }
        r.path = normalizer.text(&p.request.path);
        for v in &mut r.violations {
            v.actual = normalizer.text(&v.actual);
            v.expected = normalizer.text(&v.expected);
        }
        // Not normalized: a conflict is about the two live values, which labels would hide.
        r.violations.extend(conflicts.iter().map(|c| {
            let (expected, actual) = c.describe();
            Violation {
                rule: Rule::RebindingConflict,
                instance_pointer: c.pointer.clone(),
                schema_pointer: "recording".into(),
                expected,
                actual,
            }
        }));
        let headers = self
            .ctx
            .rules
            .headers
            .iter()
            .filter_map(|h| {
                received
                    .header(h)
                    .map(|v| (h.clone(), Value::String(normalizer.text(v))))
            })
            .collect();
        let request = match &p.request.query {
            Some(q) => format!("{} {}?{}", r.method, r.path, normalizer.text(q)),
            None => format!("{} {}", r.method, r.path),
        };
        r.normalized = snapshot_value(&Snapshot {
            request,
            operation: r.operation.as_deref(),
            status: Some(received.status),
            headers: Some(headers),
            body: normalized_body.map(|b| {
                if is_json {
                    SnapshotBody::Body(b)
                } else {
                    SnapshotBody::Text(b)
                }
            }),
            violations: &r.violations,
        });
        if self.options.keep_live {
            r.live = Some(live_pair(p, received, live_body));
        }
        r
    }

    /// The violations of a received response: the spec's rules and the recorded status (or,
    /// for a request no operation matches, that), lists and balance in the reference's terms,
    /// and a repeat that ran out of time.
    fn judge(
        &self,
        sent: &Sent<'_>,
        received: &Received,
        live_json: Option<&Value>,
        bindings: &rebind::Bindings,
        file: &str,
    ) -> Vec<Violation> {
        let (p, ex, attempts) = (&sent.prepared, sent.exchange, sent.attempts);
        let mut out = Vec::new();
        match (p.operation, p.request.to) {
            (Some(op), _) => {
                out = verdict::check(
                    self.ctx.api,
                    &self.ctx.spec,
                    op,
                    received,
                    live_json,
                    ex.response.status,
                    self.options.profile,
                );
                if received.status == ex.response.status
                    && let (Some(recorded), Some(live)) = (&ex.response.body.json, live_json)
                {
                    out.extend(lists::check(&self.ctx.rules, bindings, recorded, live));
                    if self.alone
                        && balance::OPERATIONS.contains(&self.ctx.spec.operations()[op].id.as_str())
                    {
                        let mut baseline = self.balance.lock().unwrap_or_else(|e| e.into_inner());
                        out.extend(baseline.check(recorded, live));
                    }
                }
            }
            (None, Destination::Api) => out.push(Violation {
                rule: Rule::NoOperation,
                instance_pointer: "request".into(),
                schema_pointer: self.ctx.api.spec_path().into(),
                expected: "a request to an operation of the spec".into(),
                actual: format!("{} {}", p.request.method, p.request.path),
            }),
            (None, Destination::Control) => {
                if received.status != ex.response.status {
                    out.push(verdict::status_differs(ex.response.status, received.status));
                }
            }
        }
        // A repeat that ended short of both its status and its `max` ran out of time.
        if let Some(repeat) = ex.repeat
            && received.status != repeat.until_status
            && attempts < repeat.max
        {
            out.push(Violation {
                rule: Rule::ExchangeBudget,
                instance_pointer: "status".into(),
                schema_pointer: format!("{file}#exchanges[{}]/repeat", p.index),
                expected: format!(
                    "status {} within {} attempts and {} ms (--exchange-budget-ms)",
                    repeat.until_status,
                    repeat.max,
                    self.options.exchange_budget.as_millis()
                ),
                actual: format!("status {} after {attempts} attempts", received.status),
            });
        }
        out
    }
}

/// A request that got no complete response.
fn transport_violation(
    e: &TransportError,
    recorded_status: u16,
    file: &str,
    index: usize,
) -> Violation {
    Violation {
        rule: match e {
            TransportError::Timeout(_) => Rule::Timeout,
            TransportError::TooLarge { .. } => Rule::BodyTooLarge,
            _ => Rule::ConnectionClosed,
        },
        instance_pointer: "connection".into(),
        schema_pointer: format!("{file}#exchanges[{index}]"),
        expected: format!("a response with status {recorded_status}"),
        actual: e.to_string(),
    }
}

/// What a snapshot holds of one exchange, in this order (the key order of the snapshot files).
#[derive(serde::Serialize)]
struct Snapshot<'a> {
    request: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation: Option<&'a str>,
    /// `null` when no response came.
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<serde_json::Map<String, Value>>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    body: Option<SnapshotBody>,
    violations: &'a [Violation],
}

/// A JSON body under `body`, any other under `text`.
#[derive(serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum SnapshotBody {
    Body(Value),
    Text(Value),
}

fn snapshot_value(s: &Snapshot<'_>) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

/// The request as sent and the response as received, for re-recording: the headers a
/// recording does not hold left out.
fn live_pair(
    p: &Prepared,
    received: &Received,
    body: recording::Body,
) -> (recording::Request, recording::Response) {
    let mut sent = p.request.clone();
    sent.headers.retain(|n, _| !headers::is_not_replayed(n));
    let response_headers = received
        .headers
        .iter()
        .filter(|(n, _)| !headers::is_not_recorded_response(n))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    (
        sent,
        recording::Response {
            status: received.status,
            headers: response_headers,
            body,
        },
    )
}

/// One request with its repeat and retry policy, owned so concurrent groups can spawn it.
struct SendPlan {
    client: Client,
    outgoing: Outgoing,
    /// With `--via sdk`: the typed call, or why the request goes as recorded.
    sdk: Option<Result<sdk::Call, String>>,
    repeat: Option<recording::Repeat>,
    recorded_status: u16,
    rate_limit_retries: u32,
    /// Past it, no further repeat or retry starts.
    budget: Duration,
}

impl SendPlan {
    /// Sends with repeats and rate-limit retries; returns the final outcome, the attempts,
    /// and (with `--via sdk`) why the request went as recorded.
    async fn send(self) -> Attempted {
        let started = Instant::now();
        let mut attempts = 0u32;
        let mut retries = 0u32;
        let mut as_recorded = match &self.sdk {
            Some(Err(why)) => Some(why.clone()),
            _ => None,
        };
        loop {
            attempts += 1;
            let r = match &self.sdk {
                Some(Ok(call)) if as_recorded.is_none() => {
                    match sdk::send(&self.client, call).await {
                        Ok(r) => r,
                        Err(why) => {
                            // The typed client could not make it (nothing was sent).
                            as_recorded = Some(why);
                            self.client.send(&self.outgoing).await
                        }
                    }
                }
                _ => self.client.send(&self.outgoing).await,
            };
            let Ok(received) = &r else {
                return (r, attempts, as_recorded);
            };
            let in_budget = started.elapsed() < self.budget;
            if let Some(repeat) = self.repeat {
                if received.status != repeat.until_status && attempts < repeat.max && in_budget {
                    continue;
                }
                return (r, attempts, as_recorded);
            }
            // A target's rate limit is not a departure from the recording: wait and retry.
            if received.status == 429
                && self.recorded_status != 429
                && retries < self.rate_limit_retries
                && in_budget
            {
                retries += 1;
                let wait = received
                    .header("retry-after")
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map_or(1.0, |s| s.min(5.0));
                tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                continue;
            }
            return (r, attempts, as_recorded);
        }
    }
}

/// What sending one exchange gave: the outcome, the attempts, and (with `--via sdk`) why the
/// request went as recorded.
type Attempted = (Result<Received, TransportError>, u32, Option<String>);

/// The `body-differs` violation: where the normalized bodies first differ, and both in full
/// (as YAML, so reports can show a line diff).
fn body_differs(recorded: Option<&Value>, live: Option<&Value>) -> Option<Violation> {
    fn first_difference(a: &Value, b: &Value, at: &mut String) -> bool {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                keys.into_iter().any(|k| {
                    let len = at.len();
                    at.push('/');
                    at.push_str(&oas::pointer::escape(k));
                    let differs = match (x.get(k), y.get(k)) {
                        (Some(p), Some(q)) => first_difference(p, q, at),
                        _ => true,
                    };
                    if !differs {
                        at.truncate(len);
                    }
                    differs
                })
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                x.iter().zip(y).enumerate().any(|(i, (p, q))| {
                    let len = at.len();
                    at.push_str(&format!("/{i}"));
                    let differs = first_difference(p, q, at);
                    if !differs {
                        at.truncate(len);
                    }
                    differs
                })
            }
            (a, b) => a != b,
        }
    }
    let show = |v: Option<&Value>| match v {
        Some(v) => serde_yaml::to_string(v).unwrap_or_default(),
        None => "(no body)\n".into(),
    };
    let mut at = String::new();
    match (recorded, live) {
        (Some(a), Some(b)) if !first_difference(a, b, &mut at) => return None,
        (None, None) => return None,
        _ => {}
    }
    Some(Violation {
        rule: Rule::BodyDiffers,
        instance_pointer: at,
        schema_pointer: "recording".into(),
        expected: show(recorded),
        actual: show(live),
    })
}

fn capture_value(source: &str, received: &Received, body: Option<&Value>) -> Option<String> {
    if let Some(name) = source.strip_prefix("header:") {
        return received.header(name.trim()).map(str::to_string);
    }
    let pointer = source.strip_prefix("body:")?;
    match body?.pointer(pointer)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A recording whose responses are what `report` received live (for `--rerecord`). Requests
/// are written as sent (rebinding applied), except those with `{{capture}}` placeholders,
/// which keep them unless `inline_captures` (then the captures go too, and replay relies on
/// the automatic rebinding).
pub fn rerecorded(
    loaded: &Loaded,
    report: &ScenarioReport,
    inline_captures: bool,
) -> recording::Recording {
    let mut out = loaded.recording.clone();
    out.base_url = Some(report.target.clone());
    for (ex, r) in out.exchanges.iter_mut().zip(&report.exchanges) {
        if let Some((request, response)) = &r.live {
            if inline_captures || rebind::request_placeholders(&ex.request).is_empty() {
                ex.request = request.clone();
            }
            if inline_captures {
                ex.capture.clear();
            }
            ex.response = response.clone();
            if ex.operation.is_none() {
                ex.operation.clone_from(&r.operation);
            }
        }
    }
    out
}

/// Where the shipped recordings live in the source tree.
pub fn shipped_recordings_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("recordings")
}

#[cfg(test)]
mod snapshot_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    /// The snapshot files' shape: keys in this order, `operation` and `headers` only with a
    /// response to an operation, the body under `body` (JSON) or `text`, `status: null` when
    /// nothing came back.
    #[test]
    fn snapshots_keep_their_shape() {
        let v = vec![];
        let full = snapshot_value(&Snapshot {
            request: "GET /a".into(),
            operation: Some("getA"),
            status: Some(200),
            headers: Some(serde_json::Map::new()),
            body: Some(SnapshotBody::Body(json!({"x": 1}))),
            violations: &v,
        });
        assert_eq!(
            serde_json::to_string(&full).unwrap(),
            r#"{"request":"GET /a","operation":"getA","status":200,"headers":{},"body":{"x":1},"violations":[]}"#
        );
        let text = snapshot_value(&Snapshot {
            request: "GET /a".into(),
            operation: None,
            status: Some(500),
            headers: Some(serde_json::Map::new()),
            body: Some(SnapshotBody::Text(json!("oops"))),
            violations: &v,
        });
        assert_eq!(
            serde_json::to_string(&text).unwrap(),
            r#"{"request":"GET /a","status":500,"headers":{},"text":"oops","violations":[]}"#
        );
        let failed = snapshot_value(&Snapshot {
            request: "GET /a".into(),
            operation: None,
            status: None,
            headers: None,
            body: None,
            violations: &v,
        });
        assert_eq!(
            serde_json::to_string(&failed).unwrap(),
            r#"{"request":"GET /a","status":null,"violations":[]}"#
        );
    }
}

#[cfg(test)]
mod only_tests {
    use super::wildcard_match;

    #[test]
    fn wildcards_match_whole_names() {
        for (pattern, text, expected) in [
            ("checkout-paid", "checkout-paid", true),
            ("checkout-paid", "checkout-paid-2", false),
            ("checkout*", "checkout-paid", true),
            ("*paid", "checkout-paid", true),
            ("*paid", "paid-checkout", false),
            ("c?eckout*", "checkout", true),
            ("chargily/*", "chargily/checkouts/paid.yaml", true),
            ("*/paid.yaml", "chargily/checkouts/paid.yaml", true),
            ("*a*b*c", "xaxbxbxc", true),
            ("*a*b*c", "xaxbxbx", false),
            ("", "", true),
            ("*", "", true),
            ("?", "", false),
        ] {
            assert_eq!(wildcard_match(pattern, text), expected, "{pattern} {text}");
        }
        // Linear, not exponential, on a pattern that backtracks a lot.
        let text = "a".repeat(10_000);
        assert!(!wildcard_match(&format!("{}b", "*a".repeat(20)), &text));
    }
}
