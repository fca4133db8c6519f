//! Replay throughput: validated exchanges per second against the embedded mock (issue #5's
//! benchmark; a benchmark, not a test).
//!
//! ```sh
//! cargo run --release -p conformance --example replay_bench [-- --copies 400 --jobs 32 --recordings DIR --origin URL]
//! ```
//!
//! Takes every shipped recording that can share one target (not `exclusive`, no control-API
//! exchanges), replicates the set `--copies` times, and replays all of it against ONE embedded
//! mock (rate limit off, self-check off) with full checking: spec validation, recorded status,
//! generated-type decoding, normalization. Client, checker and mock share the machine's cores.
//! Prints exchanges, wall time, exchanges/s and the latency distribution of single requests.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

// The same allocator as the `conformance` binary (in place of `malloc`, see
// src/main.rs), so the figure is the CLI's.
#[cfg(not(windows))]
use mimalloc as _;
#[cfg(windows)]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::time::Instant;

use conformance::mock::{MockConfig, MockServer};
use conformance::recording::Destination;
use conformance::replay::{self, Options, Target};
use conformance::specs::Api;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let copies = arg("--copies", 400);
    let jobs = arg("--jobs", 32);
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .iter()
        .position(|a| a == "--recordings")
        .and_then(|i| args.get(i + 1))
        .map_or_else(replay::shipped_recordings_dir, std::path::PathBuf::from);
    let base: Vec<_> = replay::plan::load_recordings(&dir, None)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .into_iter()
        .filter(|l| {
            !l.recording.exclusive
                && l.recording.exchanges.iter().all(|e| {
                    e.request.to == Destination::Api && e.concurrent.is_none() && e.repeat.is_none()
                })
        })
        .collect();
    assert!(
        !base.is_empty(),
        "no shareable recordings under {}",
        dir.display()
    );
    let mut config = MockConfig {
        seed: Some(2),
        clock: conformance::mock::ClockMode::Fixed,
        recharge_rate_limit: false,
        ..MockConfig::for_tests()
    };
    config.self_check = false;
    // The simulated processor's latency is sleep, not work: it would measure the sleep.
    config.charge_delay = std::time::Duration::ZERO;
    config.listen = "127.0.0.1:0".parse().unwrap();
    // `--origin http://127.0.0.1:PORT` replays against a mock in another process (started
    // with `conformance mock --no-rate-limit --charge-delay-ms 0`), so the checker's CPU time
    // can be told from the server's.
    let external = args
        .iter()
        .position(|a| a == "--origin")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let server = match external {
        Some(_) => None,
        None => Some(MockServer::start(config).unwrap()),
    };
    let origin = external.unwrap_or_else(|| server.as_ref().map(MockServer::origin).unwrap());
    let mut targets = BTreeMap::new();
    targets.insert(
        Api::Chargily,
        Target::Url {
            base: format!("{origin}{}", conformance::mock::CHARGILY_TEST_PREFIX),
            control: None,
        },
    );
    targets.insert(
        Api::Recharge,
        Target::Url {
            base: format!("{origin}{}", conformance::mock::RECHARGE_PREFIX),
            control: None,
        },
    );
    let options = Options {
        jobs,
        targets,
        keep_live: false,
        ..Options::default()
    };
    let scenarios: Vec<_> = (0..copies).flat_map(|_| base.iter().cloned()).collect();
    let total: usize = scenarios.iter().map(|s| s.recording.exchanges.len()).sum();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // Warm-up: compiles every validator once, fills connection pools.
    runtime.block_on(replay::run(base.clone(), &options));
    let started = Instant::now();
    let report = runtime.block_on(replay::run(scenarios, &options));
    let wall = started.elapsed();
    let t = report.totals();
    let mut latencies: Vec<f64> = report
        .scenarios
        .iter()
        .flat_map(|s| s.exchanges.iter().map(|e| e.elapsed_ms))
        .collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "{} shareable recordings x {copies} copies = {} scenarios, {total} exchanges, jobs {jobs}",
        base.len(),
        t.scenarios
    );
    println!(
        "checked {} exchanges ({} passed, {} failed) in {:.3} s: {:.0} validated exchanges/s",
        t.exchanges,
        t.passed,
        t.failed,
        wall.as_secs_f64(),
        t.exchanges as f64 / wall.as_secs_f64()
    );
    println!(
        "request latency: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    if t.failed > 0 {
        // Shared state across copies can legitimately change list contents; report, do not hide.
        let mut rules: BTreeMap<String, usize> = BTreeMap::new();
        for s in &report.scenarios {
            for e in &s.exchanges {
                for v in &e.violations {
                    *rules
                        .entry(format!("{} #{} {}", s.name, e.index, v.rule))
                        .or_default() += 1;
                }
            }
        }
        println!("violations (shared target state), by scenario, exchange and rule: {rules:?}");
    }
}
