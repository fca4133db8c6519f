//! `conformance`: checks implementations of the checkout APIs against their specs.
//!
//! Exit codes: 0 success, 1 the target is non-conformant, 2 usage or input error.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use conformance::mock::{ClockMode, MockConfig, MockServer};
use conformance::specs::Api;

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
    /// Checks OpenAPI 3.0 documents: references resolve, operations have ids, success and error
    /// responses, and every example validates against its schema. With no FILE, checks the
    /// embedded specs of both checkout APIs (or the one named by --api).
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
    /// Serves a stateful reference mock of both APIs: Chargily Pay V2 under
    /// /chargily/api/v2 (live) and /chargily/test/api/v2 (test), ReCharge under /recharge, and
    /// the mock's own controls (payment simulation, webhooks, faults) under /_mock/. Prints the
    /// base URLs, then serves until interrupted (Ctrl-C).
    Mock(MockArgs),
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
        Command::Mock(args) => mock(args),
    }
}

fn mock(args: MockArgs) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
    let defaults = MockConfig::default();
    let config = MockConfig {
        listen: args.listen,
        seed: args.seed,
        clock: args.clock,
        chargily_secret_key: args.chargily_secret_key,
        recharge_access_token: args.recharge_access_token,
        recharge_client_secret: args.recharge_client_secret,
        recharge_rate_limit: !args.no_rate_limit,
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
