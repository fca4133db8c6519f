//! `conformance`: checks implementations of the checkout APIs against their specs.
//!
//! Exit codes: 0 success, 1 the target is non-conformant, 2 usage or input error.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use conformance::mock::{ClockMode, MockConfig, MockServer};
use conformance::report::ColorChoice;
use conformance::specs::Api;

// Replay and the mock allocate per JSON node; mimalloc cuts the checker's CPU per exchange by
// about a third against glibc malloc (see conformance/README.md, "Replay speed"). It stands in
// for `malloc` itself (its `override` feature) and Rust allocates through `malloc`: mimalloc's
// Rust allocator asks for every block aligned, which mimalloc 3 serves on a slower path for
// sizes that are not powers of two (README, "Allocator"). Windows cannot override `malloc`.
#[cfg(not(windows))]
use mimalloc as _;
#[cfg(windows)]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "conformance",
    version,
    about = "Checks implementations of the Chargily Pay V2 and ReCharge Checkouts APIs against their OpenAPI specs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Checks OpenAPI 3.0 and 3.1 documents: references resolve, operations have ids, success and error
    /// responses, and every example validates against its schema. With no FILE, checks the
    /// embedded specs of both checkout APIs (or the one named by --api).
    #[command(after_help = "Examples:
  conformance lint                                   # both embedded specs
  conformance lint --api recharge
  conformance lint openapi.yaml other.json --format json")]
    Lint {
        /// Spec files to check instead of the embedded ones.
        files: Vec<PathBuf>,
        /// Check only this API's embedded spec.
        #[arg(long, conflicts_with = "files")]
        api: Option<Api>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Writes an OpenAPI 3.0 document as OpenAPI 3.1 (YAML) that accepts the same payloads:
    /// `nullable` becomes a type array, boolean exclusive bounds numeric ones, and a
    /// reference's siblings (ignored by 3.0, applied by 3.1) are dropped.
    #[command(after_help = "Examples:
  conformance convert spec/chargily-pay-v2.yaml --to 3.1 --out chargily-3.1.yaml
  conformance convert openapi.json --to 3.1          # to standard output")]
    Convert {
        /// The OpenAPI 3.0 document.
        spec: PathBuf,
        /// The version to write.
        #[arg(long, value_parser = ["3.1"])]
        to: String,
        /// Where to write (replaced atomically); standard output without it.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Serves a stateful reference mock of both APIs: Chargily Pay V2 under
    /// /chargily/api/v2 (live) and /chargily/test/api/v2 (test), ReCharge under /recharge, and
    /// the mock's own controls (payment simulation, webhooks, faults) under /_mock/. Prints the
    /// base URLs, then serves until interrupted (Ctrl-C).
    #[command(after_help = "Examples:
  conformance mock                                   # on 127.0.0.1:8080
  conformance mock --listen 127.0.0.1:0 --clock fixed --seed 7
  conformance mock --plant-bug wrong-type            # a broken server, to test a checker")]
    Mock(MockArgs),
    /// Replays recorded scenarios against an implementation (by default a fresh embedded
    /// mock per scenario) and checks every response against the spec and the recording.
    /// Exit 0 when everything conforms, 1 on any violation, 2 on usage, input or connection
    /// errors.
    #[command(after_help = "Examples:
  conformance replay                                 # shipped recordings, embedded mock
  conformance replay --api chargily --target http://127.0.0.1:9000/api/v2 --control http://127.0.0.1:9000/_mock
  conformance replay --target chargily=https://pay.example/api/v2 --target recharge=https://rc.example --format junit --output report.xml
  conformance replay --format html --output report.html
  conformance replay --only 'chargily/*' --write-baseline known.jsonl
  conformance replay --baseline known.jsonl --shard 1/4 --color never
  conformance replay --via sdk --target chargily=http://127.0.0.1:9000/api/v2   # requests built by the typed SDK")]
    Replay(ReplayArgs),
    /// Records traffic: a reverse proxy that forwards every request to the upstream API, returns
    /// its response unchanged, and appends the exchange to a recording (secrets redacted, the
    /// file rewritten atomically after every exchange). Prints its base URL, then serves until
    /// interrupted (Ctrl-C). Exit 0 when stopped, 2 on usage errors or failed writes.
    #[command(after_help = "Examples:
  conformance record --api chargily --upstream http://127.0.0.1:8080/chargily/test/api/v2 --out recordings/mine.yaml
  conformance record --api recharge --upstream http://127.0.0.1:8080/recharge --listen 127.0.0.1:0 --out session.yaml")]
    Record(RecordArgs),
    /// Converts a HAR 1.2 file (a browser's or proxy's export) into a recording: keeps the
    /// entries addressing an operation of the API, drops the rest with a count, redacts secrets,
    /// orders by start time. Exit 0 on success, 2 on usage or input errors.
    #[command(after_help = "Examples:
  conformance import-har session.har --api recharge --out recordings/session.yaml
  conformance import-har export.har --api chargily --base https://pay.chargily.net/test/api/v2 --out checkout.yaml")]
    ImportHar(ImportHarArgs),
    /// Webhook conformance.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
}

#[derive(Debug, Subcommand)]
enum WebhooksCommand {
    /// Checks a merchant's webhook receiver: sends it every documented event, correctly signed,
    /// and the forgeries, replays, duplicates and reorderings it meets in production, and judges
    /// its answers (and, through --probe, what it fulfilled). The events are about checkouts
    /// created and settled in a real API the receiver can re-fetch them from: the embedded mock
    /// (on --mock-listen) or --target. Exit 0 when every rule that ran passed, 1 when the
    /// receiver broke one, 2 on usage errors or when the receiver, probe or API cannot be used.
    #[command(after_help = "Examples:
  conformance webhooks check-receiver --api chargily --url http://127.0.0.1:9000/webhook --secret test_sk_example
  conformance webhooks check-receiver --api recharge --url http://127.0.0.1:9000/hooks/recharge --secret client_secret --probe http://127.0.0.1:9000/probe --format junit --output receiver.xml
  conformance webhooks check-receiver --api chargily --url https://shop.example/webhook --secret test_sk_example --target http://127.0.0.1:8080/chargily/test/api/v2")]
    CheckReceiver(CheckReceiverArgs),
    /// Checks the webhooks an implementation sends: hosts a receiver, creates checkouts whose
    /// events come to it, settles them through the implementation's `/_mock/` controls (as the
    /// reference mock offers them), refuses one delivery twice and leaves one unanswered, and
    /// judges what arrives: the documented events, after the state change, signed as the
    /// vendor signs, valid against the callback schema, retried with backoff. Without
    /// --target, checks the embedded mock (with --plant-bug, a broken one). Exit 0 when every
    /// rule that ran passed, 1 when one failed, 2 on usage errors or when the implementation
    /// cannot be driven.
    #[command(after_help = "Examples:
  conformance webhooks check-sender --api chargily --target http://127.0.0.1:8080/chargily/test/api/v2 --secret test_sk_conformance
  conformance webhooks check-sender --api recharge --target http://127.0.0.1:8080/recharge --secret conformance_client_secret --format junit --output sender.xml
  conformance webhooks check-sender --api chargily --plant-bug webhook-wrong-secret   # the embedded mock, broken on purpose")]
    CheckSender(CheckSenderArgs),
}

#[derive(Debug, clap::Args)]
struct CheckSenderArgs {
    /// The API whose webhooks the implementation sends.
    #[arg(long)]
    api: Api,
    /// The implementation's API base URL (`…/chargily/test/api/v2`, `…/recharge`); without it,
    /// the embedded mock.
    #[arg(long)]
    target: Option<String>,
    /// The secret the implementation should sign with (Chargily: the API secret key; ReCharge:
    /// the API client secret). Default: the embedded mock's.
    #[arg(long, env = "CONFORMANCE_WEBHOOK_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// The API credential (Chargily: the secret key, by default the secret; ReCharge: the
    /// access token, by default `conformance`).
    #[arg(long, env = "CONFORMANCE_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Where the check's receiver listens.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// The receiver's URL as the implementation reaches it, when not `http://<listen>/webhook`
    /// (a tunnel, a container network).
    #[arg(long)]
    public_url: Option<String>,
    /// How long the implementation waits for an answer, in seconds: one delivery is left
    /// unanswered a second longer (ReCharge documents 5).
    #[arg(long, default_value_t = 5.0)]
    sender_timeout: f64,
    /// How long to wait for every expected delivery, in seconds.
    #[arg(long, default_value_t = 30.0)]
    wait: f64,
    /// Check the embedded mock with this deliberate bug (a webhook-* kind).
    #[arg(long, value_enum, value_name = "KIND", conflicts_with = "target")]
    plant_bug: Option<conformance::mock::PlantedBug>,
    #[arg(long, value_enum, default_value_t = WebhookFormat::Human)]
    format: WebhookFormat,
    /// Write the report here (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct CheckReceiverArgs {
    /// The API whose webhooks the receiver takes.
    #[arg(long)]
    api: Api,
    /// The receiver's endpoint (http:// or https://).
    #[arg(long)]
    url: String,
    /// The secret the vendor signs with: Chargily's API secret key, ReCharge's API client
    /// secret.
    #[arg(long, env = "CONFORMANCE_WEBHOOK_SECRET", hide_env_values = true)]
    secret: String,
    /// The receiver's probe, from which side effects are read: `GET <probe>?checkout=<id>`
    /// answering `200 {"fulfilments": <n>, "updated_at": <the version held, or null>}`.
    /// Without it, the rules that judge side effects are skipped.
    #[arg(long)]
    probe: Option<String>,
    /// The API the checkouts are created in, instead of the embedded mock: its base URL
    /// (`…/chargily/test/api/v2`, `…/recharge`); checkouts are settled through the mock's
    /// `/_mock/` controls on the same host.
    #[arg(long, conflicts_with = "mock_listen")]
    target: Option<String>,
    /// Where the embedded mock listens (the receiver re-fetches checkouts from it).
    #[arg(long, default_value = "127.0.0.1:8080")]
    mock_listen: std::net::SocketAddr,
    /// The API credential (Chargily: the secret key, by default --secret; ReCharge: the access
    /// token, by default the embedded mock's `conformance`).
    #[arg(long, env = "CONFORMANCE_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// How long the sender waits for an answer, in seconds (ReCharge documents 5).
    #[arg(long, default_value_t = 5.0)]
    timeout: f64,
    /// A PEM file of CA certificates to trust besides the platform's, for an https receiver
    /// with a private certificate.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = WebhookFormat::Human)]
    format: WebhookFormat,
    /// Write the report here (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum WebhookFormat {
    Human,
    Json,
    Junit,
}

#[derive(Debug, clap::Args)]
struct RecordArgs {
    /// The API behind the upstream URL.
    #[arg(long)]
    api: Api,
    /// The API's base URL (http:// only), e.g. http://127.0.0.1:8080/chargily/test/api/v2;
    /// paths below the proxy's root map 1:1 to paths below it.
    #[arg(long, value_name = "URL")]
    upstream: String,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// The recording to write (replaced atomically after each exchange; a previous file is
    /// left alone until the first exchange completes).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The recording's name (default: the file name).
    #[arg(long)]
    name: Option<String>,
    /// The recording's description.
    #[arg(long)]
    description: Option<String>,
    /// Per-request timeout towards the upstream, in milliseconds (then 504).
    #[arg(long, default_value_t = 30_000)]
    timeout_ms: u64,
    /// Larger request bodies get 413 and are not forwarded; larger upstream response bodies
    /// get 502 and are not recorded.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_body_bytes: usize,
}

#[derive(Debug, clap::Args)]
struct ImportHarArgs {
    /// The HAR file (JSON, HAR 1.2).
    file: PathBuf,
    /// The API whose exchanges to keep.
    #[arg(long)]
    api: Api,
    /// The API's base URL in the HAR. Default: the spec's servers, or the reference mock's
    /// prefixes (/chargily/test/api/v2, /chargily/api/v2, /recharge) on any origin.
    #[arg(long, value_name = "URL")]
    base: Option<String>,
    /// The recording to write (atomically).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The recording's name (default: the file name).
    #[arg(long)]
    name: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ReplayArgs {
    /// Replay only this API's recordings.
    #[arg(long)]
    api: Option<Api>,
    /// Base URL of the implementation: `URL` (with --api, or when the recordings are of one
    /// API) or `API=URL`, once per API. Default: the embedded mock.
    #[arg(long, value_name = "[API=]URL")]
    target: Vec<String>,
    /// Base URL of the target's control API (the mock's /_mock), `[API=]URL`; scenarios that
    /// need it (paying a checkout) are skipped without it. Embedded mock: automatic.
    #[arg(long, value_name = "[API=]URL")]
    control: Vec<String>,
    /// Folder of recordings (searched recursively), used instead of the shipped ones (which
    /// are embedded in the binary).
    #[arg(long, value_name = "DIR")]
    recordings: Option<PathBuf>,
    /// `spec`: JSON Schema semantics; `strict`: undeclared properties and statuses documented
    /// only by `default` are violations too.
    #[arg(long, value_enum, default_value_t = ProfileArg::Spec)]
    profile: ProfileArg,
    /// How API requests are built: `http` sends them as recorded; `sdk` rebuilds each from
    /// typed values with the generated typed client of its API (the `generated` crate) and
    /// sends it through that client, so the run also checks that the SDK can drive the
    /// target. What the SDK cannot express (a malformed body, an undeclared header) is sent
    /// as recorded, and the report counts and names those.
    #[arg(long, value_enum, default_value_t = conformance::replay::Via::Http)]
    via: conformance::replay::Via,
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
    /// Colours in the human report on standard output: `auto` colours on a terminal unless
    /// `NO_COLOR` is set (to anything but the empty string).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Write the report here (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Scenarios in flight at once.
    #[arg(long, default_value_t = 8)]
    jobs: usize,
    /// Run only shard K of N (1-based): every N-th scenario in path order.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    shard: Option<(usize, usize)>,
    /// Known deviations: violations listed in FILE are reported as known and do not fail the
    /// run; new ones do; listed ones no longer seen are reported as fixed. JSON, as written by
    /// --write-baseline.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write every violation of this run to FILE as a baseline (one per line: scenario,
    /// exchange, rule, instance pointer), to accept today's deviations and catch new ones.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Run only the scenarios whose name or file (relative to the recordings folder) matches
    /// PATTERN (`*` any characters, `?` one); repeatable. Applied before `--shard`.
    #[arg(long, value_name = "PATTERN")]
    only: Vec<String>,
    /// Per-request timeout in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// The most time one exchange may take in all, in milliseconds, its repeats and rate-limit
    /// retries included; a repeat stopped by it is an `exchange-budget` finding.
    #[arg(long, default_value_t = conformance::replay::DEFAULT_EXCHANGE_BUDGET.as_millis() as u64)]
    exchange_budget_ms: u64,
    /// The most bytes of one response body read; a larger body is a `body-too-large` finding.
    #[arg(long, default_value_t = conformance::replay::DEFAULT_MAX_RESPONSE_BYTES)]
    max_body_bytes: usize,
    /// Retries of a request the target rate-limited (429) although the recording was not,
    /// each after `Retry-After` (1 s without it, at most 5 s): a shared, rate-limited target
    /// with many --jobs needs more.
    #[arg(long, default_value_t = 3, value_name = "N")]
    rate_limit_retries: u32,
    /// Chargily secret key, sent as `Authorization: Bearer <key>`.
    #[arg(
        long,
        env = "CHARGILY_SECRET_KEY",
        hide_env_values = true,
        default_value = "test_sk_conformance"
    )]
    chargily_secret_key: String,
    /// ReCharge API token, sent as `X-Recharge-Access-Token` (the mock's flag of the same name
    /// sets the token it accepts).
    #[arg(
        long,
        alias = "recharge-api-token",
        env = "RECHARGE_API_TOKEN",
        hide_env_values = true,
        default_value = "conformance"
    )]
    recharge_access_token: String,
    /// Write each scenario again under DIR (same relative path) with the responses the target
    /// sent: how recordings are made from the reference mock or refreshed.
    #[arg(long, value_name = "DIR")]
    rerecord: Option<PathBuf>,
    /// With --rerecord: write requests with `{{capture}}` placeholders as sent, and drop the
    /// captures (replay then relies on automatic rebinding).
    #[arg(long, requires = "rerecord")]
    inline_captures: bool,
    /// Also compare each normalized response body with the recorded one (`body-differs`
    /// violations, shown as a diff): departures from the reference behaviour the spec allows.
    #[arg(long)]
    compare_bodies: bool,
    /// Seed of the embedded mocks (default 2 for replay, 1 with --rerecord, so replays of
    /// shipped recordings always exercise rebinding).
    #[arg(long)]
    seed: Option<u64>,
    /// Which findings fail the run (exit 1): `spec` (the response breaks the spec),
    /// `reference` (it departs from the recorded reference behaviour), or `both`.
    #[arg(long, value_enum, default_value_t = conformance::replay::FailOn::Both)]
    fail_on: conformance::replay::FailOn,
    /// Skipped scenarios or exchanges (e.g. no --control given) fail the run (exit 1).
    #[arg(long)]
    fail_on_skip: bool,
    /// A private CA (PEM) trusted for https targets, besides the platform's root certificates.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ProfileArg {
    Spec,
    Strict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Human,
    Json,
    Junit,
    /// One self-contained page (no script, no external asset).
    Html,
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("`{s}`: expected K/N, e.g. 1/4"))?;
    let k: usize = k
        .trim()
        .parse()
        .map_err(|_| format!("`{s}`: K is not a number"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("`{s}`: N is not a number"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("`{s}`: need 1 <= K <= N"));
    }
    Ok((k, n))
}

#[derive(Debug, clap::Args)]
struct MockArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Seed for ids: the same seed and the same requests give the same ids.
    #[arg(long)]
    seed: Option<u64>,
    /// `fixed` makes every timestamp deterministic (2023-12-21T07:42:47Z).
    #[arg(long, value_enum, default_value_t = ClockMode::System)]
    clock: ClockMode,
    /// Chargily secret key accepted as `Authorization: Bearer <key>`; also signs webhooks.
    #[arg(long, default_value = "test_sk_conformance")]
    chargily_secret_key: String,
    /// ReCharge token accepted in `X-Recharge-Access-Token`.
    #[arg(long, default_value = "conformance")]
    recharge_access_token: String,
    /// ReCharge API client secret used for `X-Recharge-Hmac-Sha256` on webhooks.
    #[arg(long, default_value = "conformance_client_secret")]
    recharge_client_secret: String,
    /// Turn off ReCharge's leaky-bucket rate limit (40 calls, 2/s), e.g. for load tests.
    #[arg(long)]
    no_rate_limit: bool,
    /// Calls per second ReCharge's leaky bucket drains (ReCharge's own: 2).
    #[arg(long, default_value_t = 2.0)]
    recharge_drain_per_second: f64,
    /// Create N objects of every kind before serving (Chargily test mode: products, prices,
    /// customers, checkouts, payment links; ReCharge: checkouts): a store that holds data.
    #[arg(long, default_value_t = 0, value_name = "N")]
    preload: usize,
    /// Objects of each kind a store keeps (per API and Chargily mode); creating one more
    /// evicts the oldest, which then answers 404 and leaves the lists. Bounds a long-lived
    /// mock's memory (a Chargily checkout takes about 1.3 kB).
    #[arg(long, default_value_t = conformance::mock::DEFAULT_STORE_LIMIT, value_name = "N")]
    store_limit: usize,
    /// Request bodies larger than this get 413.
    #[arg(long, default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    /// Milliseconds a client may take to send a request's headers (then its body).
    #[arg(long, default_value_t = 10_000)]
    read_timeout_ms: u64,
    /// Milliseconds the simulated payment processor takes for a ReCharge charge.
    #[arg(long, default_value_t = 100)]
    charge_delay_ms: u64,
    /// Worker threads (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// Validate every response against the spec and log violations (slower).
    #[arg(long)]
    self_check: bool,
    /// Deliberately break every vendor-API response this bug can apply to, announced by an
    /// `X-Mock-Planted: <kind> <pointer or header>` header: for testing conformance checkers.
    #[arg(long, value_enum, value_name = "KIND")]
    plant_bug: Option<conformance::mock::PlantedBug>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap uses 0 for --help/--version and 2 for usage errors, as we do.
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match cli.command {
        Command::Lint { files, api, format } => lint(files, api, format),
        Command::Convert { spec, to: _, out } => match convert(&spec, out.as_deref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::Mock(args) => mock(args),
        Command::Replay(args) => match replay(args) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::Record(args) => match record(args) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::Webhooks(WebhooksCommand::CheckSender(args)) => match check_sender(args) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::Webhooks(WebhooksCommand::CheckReceiver(args)) => match check_receiver(args) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::ImportHar(args) => match import_har(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        },
    }
}

fn check_sender(args: CheckSenderArgs) -> anyhow::Result<u8> {
    use anyhow::Context as _;
    use conformance::webhooks::{self, SenderCheck};
    let seconds = |value: f64, name: &str| {
        if value.is_finite() && value > 0.0 && value <= 3600.0 {
            Ok(Duration::from_secs_f64(value))
        } else {
            Err(anyhow::anyhow!(
                "--{name} must be a number of seconds above 0 and at most 3600"
            ))
        }
    };
    let sender_timeout = seconds(args.sender_timeout, "sender-timeout")?;
    let wait = seconds(args.wait, "wait")?;
    if let Some(bug) = args.plant_bug.filter(|b| !b.is_webhook()) {
        anyhow::bail!("--plant-bug {bug} is not a sender bug: use a webhook-* kind");
    }
    let defaults = MockConfig::default();
    let secret = args.secret.unwrap_or_else(|| match args.api {
        Api::Chargily => defaults.chargily_secret_key.clone(),
        Api::Recharge => defaults.recharge_client_secret.clone(),
    });
    let api_key = args.api_key.unwrap_or_else(|| match args.api {
        Api::Chargily => secret.clone(),
        Api::Recharge => defaults.recharge_access_token.clone(),
    });
    let mut embedded = None;
    let target = match args.target {
        Some(target) => target,
        None => {
            let mut config = MockConfig {
                listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                recharge_rate_limit: false,
                webhook_timeout: sender_timeout,
                planted: args.plant_bug,
                workers: 2,
                ..defaults
            };
            match args.api {
                Api::Chargily => config.chargily_secret_key.clone_from(&api_key),
                Api::Recharge => {
                    config.recharge_access_token.clone_from(&api_key);
                    config.recharge_client_secret.clone_from(&secret);
                }
            }
            let mock = conformance::mock::MockServer::start(config)
                .context("cannot start the embedded mock")?;
            let url = match args.api {
                Api::Chargily => mock.chargily_test_url(),
                Api::Recharge => mock.recharge_url(),
            };
            embedded = Some(mock);
            url
        }
    };
    let check = SenderCheck {
        api: args.api,
        secret,
        listen: args.listen,
        public_url: args.public_url,
        sender_timeout,
        wait,
    };
    let report = webhooks::check_sender(check, &target, &api_key)?;
    drop(embedded);
    write_webhook_report(&report, args.format, args.output.as_deref())
}

/// A webhook check's report in `format`, to `output` (with its summary on stderr) or stdout;
/// the exit code.
fn write_webhook_report(
    report: &conformance::webhooks::Report,
    format: WebhookFormat,
    output: Option<&std::path::Path>,
) -> anyhow::Result<u8> {
    use anyhow::Context as _;
    use conformance::webhooks;
    let text = match format {
        WebhookFormat::Human => webhooks::human(report),
        WebhookFormat::Json => webhooks::json(report),
        WebhookFormat::Junit => webhooks::junit(report),
    };
    match output {
        Some(path) => {
            oas::files::write_atomic(path, text.as_bytes())
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            eprintln!(
                "{}\nreport written to {}",
                webhooks::summary(report),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(u8::try_from(report.exit_code()).unwrap_or(1))
}

fn check_receiver(args: CheckReceiverArgs) -> anyhow::Result<u8> {
    use anyhow::Context as _;
    use conformance::webhooks::{self, ApiTarget, ReceiverCheck, ReceiverOptions};
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 600.0) {
        anyhow::bail!("--timeout must be a number of seconds above 0 and at most 600");
    }
    let options = ReceiverOptions {
        check: ReceiverCheck {
            api: args.api,
            url: args.url,
            secret: args.secret,
            probe: args.probe,
            timeout: Duration::from_secs_f64(args.timeout),
        },
        target: match args.target {
            Some(url) => ApiTarget::Url(url),
            None => ApiTarget::Embedded(args.mock_listen),
        },
        api_key: args.api_key,
        ca_certs: match &args.ca_cert {
            Some(path) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                conformance::replay::client::ca_certificates(&pem)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            }
            None => Vec::new(),
        },
    };
    let report = webhooks::check_receiver(options)?;
    write_webhook_report(&report, args.format, args.output.as_deref())
}

fn mock(args: MockArgs) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
    if !(args.recharge_drain_per_second.is_finite() && args.recharge_drain_per_second > 0.0) {
        eprintln!("error: --recharge-drain-per-second must be a positive number");
        return ExitCode::from(2);
    }
    let defaults = MockConfig::default();
    let config = MockConfig {
        listen: args.listen,
        seed: args.seed,
        clock: args.clock,
        chargily_secret_key: args.chargily_secret_key,
        recharge_access_token: args.recharge_access_token,
        recharge_client_secret: args.recharge_client_secret,
        recharge_rate_limit: !args.no_rate_limit,
        recharge_drain_per_second: args.recharge_drain_per_second,
        preload: args.preload,
        store_limit: args.store_limit,
        max_body_bytes: args.max_body_bytes,
        read_timeout: Duration::from_millis(args.read_timeout_ms),
        charge_delay: Duration::from_millis(args.charge_delay_ms),
        workers: args.workers.unwrap_or(defaults.workers),
        self_check: args.self_check,
        planted: args.plant_bug,
        ..defaults
    };
    let server = match MockServer::start(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    println!("chargily (live): {}", server.chargily_live_url());
    println!("chargily (test): {}", server.chargily_test_url());
    println!("recharge:        {}", server.recharge_url());
    println!("mock controls:   {}", server.control_url());
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    server.shutdown();
    ExitCode::SUCCESS
}

fn convert(spec: &std::path::Path, out: Option<&std::path::Path>) -> anyhow::Result<()> {
    let doc = oas::Document::load(spec)?;
    if doc.openapi() != oas::Version::V3_0 {
        anyhow::bail!("{}: already OpenAPI {}", doc.source, doc.version());
    }
    let source_name = spec.display().to_string().replace('\\', "/");
    let text = oas::convert::to_3_1_yaml(&source_name, &doc.root);
    match out {
        Some(path) => oas::files::write_atomic(path, text.as_bytes())
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}

fn lint(files: Vec<PathBuf>, api: Option<Api>, format: Format) -> ExitCode {
    let documents: Vec<Result<oas::Document, oas::LoadError>> = if files.is_empty() {
        let apis = api.map_or(Api::ALL.to_vec(), |a| vec![a]);
        apis.into_iter().map(Api::document).collect()
    } else {
        files.iter().map(|f| oas::Document::load(f)).collect()
    };
    let mut input_error = false;
    let mut findings = 0;
    let mut reports = Vec::new();
    for doc in documents {
        match doc {
            Err(e) => {
                eprintln!("error: {e}");
                input_error = true;
            }
            Ok(doc) => {
                for w in &doc.warnings {
                    eprintln!("warning: {}: {w}", doc.source);
                }
                let report = oas::lint(&doc);
                findings += report.findings.len();
                if format == Format::Human {
                    let verdict = if report.findings.is_empty() {
                        "ok"
                    } else {
                        "FAILED"
                    };
                    println!(
                        "{}: {verdict}: {} operations, {} examples validated, {} findings",
                        doc.source,
                        report.operations,
                        report.examples_checked,
                        report.findings.len()
                    );
                    for f in &report.findings {
                        println!("  {f}");
                    }
                }
                reports.push(serde_json::json!({"source": doc.source, "report": report}));
            }
        }
    }
    if format == Format::Json {
        println!("{}", serde_json::Value::Array(reports));
    }
    if input_error {
        ExitCode::from(2)
    } else if findings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Splits `API=URL` or `URL` (then `default` names the API).
fn replay(args: ReplayArgs) -> anyhow::Result<u8> {
    use anyhow::Context as _;
    use conformance::replay::{self, Credentials, Options, plan};

    // Without --recordings, the copies embedded in the binary: it needs no checkout.
    let dir = args
        .recordings
        .clone()
        .unwrap_or_else(|| PathBuf::from(plan::SHIPPED_DIR));
    let read = match &args.recordings {
        Some(dir) => plan::load_recordings(dir, args.api),
        None => plan::load_shipped(args.api),
    };
    let mut loaded = match read {
        Ok(loaded) => loaded,
        Err(plan::PlanError::Recordings(errors)) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            anyhow::bail!("{} recording error(s)", errors.len());
        }
        Err(e) => anyhow::bail!("{e}"),
    };
    let single_api = plan::single_api(&loaded, args.api);
    let targets = plan::targets(&args.target, &args.control, single_api)?;
    let ca_certs = match &args.ca_cert {
        Some(path) => {
            let pem = std::fs::read(path)
                .with_context(|| format!("--ca-cert {}: cannot read", path.display()))?;
            replay::client::ca_certificates(&pem)
                .map_err(|e| anyhow::anyhow!("--ca-cert {}: {e}", path.display()))?
        }
        None => Vec::new(),
    };
    // A recordings folder's own normalization rules (`<api>/normalize.yaml`) replace the
    // embedded ones; a bad file is an input error, found at once.
    let rules = match &args.recordings {
        Some(dir) => replay::RulesSource::in_folder(dir).map_err(|e| anyhow::anyhow!(e))?,
        None => std::collections::BTreeMap::new(),
    };
    // Read before the run: a bad baseline is an input error, found at once.
    let baseline = match &args.baseline {
        Some(path) => Some(replay::baseline::Baseline::load(path)?),
        None => None,
    };
    if !args.only.is_empty() {
        let all = loaded.len();
        let names: Vec<String> = loaded.iter().map(|l| l.name()).collect();
        loaded = replay::only(loaded, &args.only, &dir);
        if loaded.is_empty() {
            anyhow::bail!(
                "--only {}: no scenario matches (of {all} in {}: {}{})",
                args.only.join(" --only "),
                dir.display(),
                names
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                if all > 10 { ", …" } else { "" }
            );
        }
        eprintln!(
            "--only {}: {} of {all} scenarios selected",
            args.only.join(" --only "),
            loaded.len()
        );
    }
    if let Some((k, n)) = args.shard {
        loaded = replay::shard(loaded, k, n);
    }
    let total: u64 = loaded
        .iter()
        .map(|l| l.recording.exchanges.len() as u64)
        .sum();
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} exchanges: {msg} [{elapsed}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress_bar = bar.clone();
    let counts = ProgressCounts::new(total, !std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let options = Options {
        profile: match args.profile {
            ProfileArg::Spec => oas::check::Profile::Spec,
            ProfileArg::Strict => oas::check::Profile::Strict,
        },
        jobs: args.jobs.max(1),
        timeout: Duration::from_millis(args.timeout_ms.max(1)),
        exchange_budget: Duration::from_millis(args.exchange_budget_ms),
        max_response_bytes: args.max_body_bytes.max(1),
        credentials: Credentials {
            chargily_secret_key: args.chargily_secret_key.clone(),
            recharge_access_token: args.recharge_access_token.clone(),
        },
        targets,
        embedded_seed: args
            .seed
            .unwrap_or(if args.rerecord.is_some() { 1 } else { 2 }),
        compare_bodies: args.compare_bodies,
        rate_limit_retries: args.rate_limit_retries,
        keep_live: args.rerecord.is_some(),
        policy: replay::Policy {
            fail_on: args.fail_on,
            fail_on_skip: args.fail_on_skip,
        },
        recordings: Some(match &args.recordings {
            Some(dir) => dir.display().to_string(),
            None => format!("{} (embedded in this binary)", plan::SHIPPED_DIR),
        }),
        rules,
        ca_certs,
        via: args.via,
        progress: Some(std::sync::Arc::new(move |exchange| {
            progress_bar.inc(1);
            progress_bar.set_message(counts.record(exchange));
        })),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let scenarios = loaded.clone();
    let mut report = runtime.block_on(replay::run(scenarios, &options));
    bar.finish_and_clear();
    if let (Some(baseline), Some(path)) = (&baseline, &args.baseline) {
        report.baseline = Some(replay::baseline::Comparison::new(
            &report,
            baseline,
            &path.display().to_string(),
        ));
    }
    if let Some(path) = &args.write_baseline {
        let written = replay::baseline::Baseline::of(&report);
        oas::files::write_atomic(path, written.to_json().as_bytes())
            .with_context(|| format!("cannot write the baseline to {}", path.display()))?;
        eprintln!(
            "baseline of {} violation(s) written to {}",
            written.known.len(),
            path.display()
        );
    }
    if let Some(out_dir) = &args.rerecord {
        for file in plan::rerecord(&loaded, &report, &dir, out_dir, args.inline_captures)? {
            eprintln!(
                "not re-recorded: {} (the scenario did not complete)",
                file.display()
            );
        }
    }
    let text = match args.format {
        ReportFormat::Human => conformance::report::human(&report),
        ReportFormat::Json => conformance::report::json_report(&report),
        ReportFormat::Junit => conformance::report::junit(&report),
        ReportFormat::Html => conformance::report::html(&report),
    };
    match &args.output {
        Some(path) => {
            oas::files::write_atomic(path, text.as_bytes())
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            // The report went to a file; the verdict is still said.
            if let Some(b) = &report.baseline {
                eprintln!("{}", b.summary());
            }
            eprintln!(
                "{}\nreport written to {}",
                conformance::report::summary(&report),
                path.display()
            );
        }
        None => {
            let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
            let colour = args
                .color
                .enabled(terminal, std::env::var_os("NO_COLOR").as_deref());
            if colour && args.format == ReportFormat::Human {
                print!(
                    "{}",
                    conformance::report::paint(&text, report.exit_code() == 0)
                );
            } else {
                print!("{text}");
            }
        }
    }
    Ok(report.exit_code())
}

/// Passed and failed exchanges as a replay goes. On a terminal they are the progress bar's
/// message; otherwise (a CI log, where the bar is hidden) a line goes to stderr each time
/// another tenth of the exchanges is done.
struct ProgressCounts {
    total: u64,
    lines: bool,
    started: std::time::Instant,
    /// Done, passed and failed; counted and printed under one lock, so the lines come out in
    /// order and the last one is the 100 % line even when scenarios finish at once.
    counts: std::sync::Mutex<(u64, u64, u64)>,
}

impl ProgressCounts {
    fn new(total: u64, lines: bool) -> Self {
        ProgressCounts {
            total,
            lines,
            started: std::time::Instant::now(),
            counts: std::sync::Mutex::new((0, 0, 0)),
        }
    }

    /// Counts one exchange; returns the bar's message.
    fn record(&self, e: &conformance::replay::ExchangeReport) -> String {
        let ran = e.skipped.is_none() && e.not_run.is_none();
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.0 += 1;
        if ran && e.violations.is_empty() {
            counts.1 += 1;
        } else if ran {
            counts.2 += 1;
        }
        let (done, passed, failed) = *counts;
        let message = format!("{passed} passed, {failed} failed");
        // The tenth this exchange completes, if any (the last one always reports).
        let tenth = |n: u64| n * 10 / self.total.max(1);
        if self.lines && (tenth(done) > tenth(done - 1) || done == self.total) {
            eprintln!(
                "progress: {done}/{} exchanges ({}%), {message}, {:.1} s",
                self.total,
                done * 100 / self.total.max(1),
                self.started.elapsed().as_secs_f64()
            );
        }
        message
    }
}

fn record(args: RecordArgs) -> anyhow::Result<u8> {
    use anyhow::Context as _;
    use conformance::record::{RecordConfig, Recorder};

    let failed_writes = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let failed = std::sync::Arc::clone(&failed_writes);
    let config = RecordConfig {
        listen: args.listen,
        name: args.name,
        description: args.description,
        timeout: Duration::from_millis(args.timeout_ms.max(1)),
        max_body_bytes: args.max_body_bytes,
        // One line per request on stderr; paths only (queries may hold what was redacted).
        on_event: Some(std::sync::Arc::new(move |event| {
            if matches!(event, conformance::record::Event::WriteFailed { .. }) {
                failed.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            eprintln!("{event}");
        })),
        ..RecordConfig::new(args.api, args.upstream, args.out.clone())
    };
    let recorder = Recorder::start(config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async {
        // The handlers are installed before the URL is printed: whoever reads the URL and then
        // interrupts must get a clean stop, not the default action of the signal.
        #[cfg(unix)]
        let signals = {
            use tokio::signal::unix::{SignalKind, signal};
            signal(SignalKind::interrupt())
                .ok()
                .zip(signal(SignalKind::terminate()).ok())
        };
        {
            use std::io::Write as _;
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "proxy:    {}", recorder.url());
            let _ = writeln!(stdout, "out:      {}", args.out.display());
            let _ = writeln!(stdout, "recording until interrupted (Ctrl-C)");
            let _ = stdout.flush();
        }
        #[cfg(unix)]
        if let Some((mut interrupt, mut terminate)) = signals {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    });
    let stats = recorder.stop();
    eprintln!(
        "recorded {} exchange(s) to {} ({} flagged, {} with an invalid request body, {} not recorded; {} request header(s) dropped: only those replay needs are kept)",
        stats.recorded,
        args.out.display(),
        stats.flagged,
        stats.invalid_bodies,
        stats.not_recorded,
        stats.dropped_headers
    );
    if stats.recorded == 0 {
        eprintln!("nothing recorded: {} was not written", args.out.display());
    }
    if failed_writes.load(std::sync::atomic::Ordering::Relaxed) {
        anyhow::bail!("the recording could not always be written (see above)");
    }
    Ok(0)
}

fn import_har(args: ImportHarArgs) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use conformance::record::{ApiSpec, har};

    if let Some(base) = &args.base
        && !(base.starts_with("http://") || base.starts_with("https://"))
    {
        anyhow::bail!("--base `{base}` is not an http(s) URL");
    }
    if oas::files::same_file(&args.out, &args.file) {
        anyhow::bail!(
            "--out {} is the HAR file itself: refusing to write over the input",
            args.out.display()
        );
    }
    let spec = ApiSpec::new(args.api)?;
    let mut imported = har::import_file(&args.file, &spec, args.base.as_deref())?;
    for (index, why) in &imported.invalid_bodies {
        eprintln!("warning: exchange #{index}: {why}");
    }
    let kept = imported.recording.exchanges.len();
    let d = imported.dropped;
    eprintln!(
        "{}: kept {kept} exchange(s); dropped {} entr{} ({} not addressed to the {} API, {} without a response, {} not recordable) and {} request header(s) (only those replay needs are kept)",
        args.file.display(),
        d.total(),
        if d.total() == 1 { "y" } else { "ies" },
        d.outside_api,
        args.api.name(),
        d.no_response,
        d.unrecordable,
        d.headers
    );
    if kept == 0 {
        anyhow::bail!(
            "no entry of {} addresses an operation of the {} API; nothing written (is the API elsewhere? give --base URL)",
            args.file.display(),
            args.api.name()
        );
    }
    imported.recording.name = args.name;
    conformance::recording::write_atomic(&args.out, &imported.recording)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every example in a subcommand's help parses (a `#` starts a comment; single quotes are
    /// the shell's).
    #[test]
    fn every_help_example_parses() {
        let mut seen = 0;
        // Subcommands and theirs (`webhooks check-receiver`); a group has no examples itself.
        let command = Cli::command();
        let mut leaves = Vec::new();
        for sub in command.get_subcommands() {
            if sub.has_subcommands() {
                leaves.extend(sub.get_subcommands());
            } else {
                leaves.push(sub);
            }
        }
        for sub in leaves {
            let help = sub
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            let examples: Vec<&str> = help
                .lines()
                .filter_map(|l| l.trim().strip_prefix("conformance "))
                .collect();
            assert!(!examples.is_empty(), "{} has no examples", sub.get_name());
            for example in examples {
                let args = example
                    .split('#')
                    .next()
                    .unwrap_or_default()
                    .replace('\'', "");
                let argv = std::iter::once("conformance").chain(args.split_whitespace());
                if let Err(e) = Cli::try_parse_from(argv) {
                    panic!("`conformance {example}` does not parse: {e}");
                }
                seen += 1;
            }
        }
        assert!(seen >= 15, "{seen}");
    }
}
