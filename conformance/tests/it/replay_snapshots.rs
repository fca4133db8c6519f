//! The contract: every shipped recording replayed, one `insta` snapshot per exchange of the
//! normalized response (status, selected headers, body with ids/timestamps/URLs redacted, and
//! its violations).
//!
//! By default the target is the embedded mock (a fresh one per scenario) and every exchange
//! must also pass every check. To hold another implementation to the same contract:
//!
//! ```sh
//! CONFORMANCE_TARGET_CHARGILY=http://127.0.0.1:9000/api/v2 cargo test -p conformance --test replay_snapshots
//! cargo insta review    # how it differs from the reference
//! ```
//!
//! Another implementation's snapshots live apart, in `tests/snapshots-vendor/` (not committed):
//! the run first copies the project's reference snapshots there, so it is compared with the
//! reference, and accepting its differences can never overwrite the reference.
//!
//! (`CONFORMANCE_TARGET_RECHARGE` likewise; `CONFORMANCE_CONTROL_CHARGILY`/`_RECHARGE` give the
//! control API, without which scenarios that pay checkouts are skipped.) Credentials come from
//! `CHARGILY_SECRET_KEY` and `RECHARGE_API_TOKEN` when set.

use std::collections::BTreeMap;
use std::path::PathBuf;

use conformance::recording;
use conformance::replay::{self, Credentials, Options};

fn options() -> (Options, bool) {
    let targets = replay::plan::targets_from_env();
    let defaults = Credentials::default();
    let options = Options {
        jobs: 1,
        credentials: Credentials {
            chargily_secret_key: std::env::var("CHARGILY_SECRET_KEY")
                .unwrap_or(defaults.chargily_secret_key),
            recharge_access_token: std::env::var("RECHARGE_API_TOKEN")
                .unwrap_or(defaults.recharge_access_token),
        },
        ..Options::default()
    };
    let embedded = targets.is_empty();
    (Options { targets, ..options }, embedded)
}

fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// The snapshot folder of a run against another implementation, seeded with the reference's
/// snapshots (those it does not have yet) so that it is compared with the reference.
fn vendor_snapshots() -> PathBuf {
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests");
    let vendor = tests.join("snapshots-vendor");
    std::fs::create_dir_all(&vendor).unwrap();
    for entry in std::fs::read_dir(tests.join("it/snapshots")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("it__replay_snapshots__") && name.ends_with(".snap") {
            let copy = vendor.join(&name);
            if !copy.exists() {
                std::fs::copy(&path, &copy).unwrap();
            }
        }
    }
    vendor
}

#[test]
fn shipped_recordings_match_snapshots() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (mut options, embedded) = options();
    // Every scenario first, in parallel (fresh mocks are independent); another implementation
    // is one shared store, so its scenarios run one at a time.
    options.jobs = if embedded { 8 } else { 1 };
    let dir = replay::shipped_recordings_dir();
    let loaded = replay::plan::load_recordings(&dir, None).unwrap_or_else(|e| panic!("{e:?}"));
    let report = runtime.block_on(replay::run(loaded, &options));
    let by_file: BTreeMap<PathBuf, &replay::ScenarioReport> = report
        .scenarios
        .iter()
        .map(|s| (PathBuf::from(&s.file), s))
        .collect();
    let mut seen = 0;
    let mut settings = insta::Settings::clone_current();
    if !embedded {
        settings.set_snapshot_path(vendor_snapshots());
    }
    let _bound = settings.bind_to_scope();
    insta::glob!("../../recordings", "*/*.yaml", |path| {
        if recording::is_rules_file(path) {
            return;
        }
        seen += 1;
        let scenario = by_file
            .get(path)
            .unwrap_or_else(|| panic!("{} was not replayed", path.display()));
        assert!(
            scenario.error.is_none(),
            "{}: {:?}",
            scenario.file,
            scenario.error
        );
        if let Some(why) = &scenario.skipped {
            eprintln!("skipped {}: {why}", scenario.file);
            return;
        }
        for e in &scenario.exchanges {
            let name = format!(
                "{:02}-{}",
                e.index,
                slug(e.name.as_deref().unwrap_or(&e.method))
            );
            insta::assert_yaml_snapshot!(name, &e.normalized);
        }
        if embedded {
            // The reference mock itself must conform to the spec and to its own recordings.
            let failing: Vec<String> = scenario
                .exchanges
                .iter()
                .filter(|e| !e.passed())
                .map(|e| {
                    format!(
                        "#{} {} {}: {:?} {:?}",
                        e.index, e.method, e.path, e.skipped, e.violations
                    )
                })
                .collect();
            assert!(
                failing.is_empty(),
                "{}:\n{}",
                scenario.file,
                failing.join("\n")
            );
        }
    });
    assert_eq!(
        seen,
        report.scenarios.len(),
        "every replayed scenario has snapshots"
    );
}
