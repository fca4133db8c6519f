//! The checker catches what it claims to catch: replay against a mock that plants one bug per
//! kind (`MockConfig::planted`), and every planted bug is reported with the right rule at the
//! pointer the mock announces in `X-Mock-Planted`; connection-level bugs are reported too, and
//! no case hangs or crashes the runner.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use conformance::mock::{MockConfig, MockServer, PLANTED_HEADER, PlantedBug};
use conformance::recording::{self, Loaded};
use conformance::replay::{self, Options, RunReport, Target};
use conformance::specs::Api;
use oas::check::Profile;

fn fixtures() -> Vec<Loaded> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replay");
    recording::discover(&dir)
        .unwrap()
        .iter()
        .map(|p| recording::load(p).unwrap())
        .collect()
}

fn replay_against(bug: Option<PlantedBug>, profile: Profile) -> RunReport {
    let mut config = MockConfig::for_tests();
    config.planted = bug;
    let server = MockServer::start(config).unwrap();
    let mut targets = BTreeMap::new();
    targets.insert(
        Api::Chargily,
        Target::Url {
            base: server.chargily_test_url(),
            control: Some(server.control_url()),
        },
    );
    targets.insert(
        Api::Recharge,
        Target::Url {
            base: server.recharge_url(),
            control: Some(server.control_url()),
        },
    );
    let options = Options {
        profile,
        timeout: Duration::from_millis(700),
        targets,
        ..Options::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // A watchdog far above the per-request timeout: a hang fails the test instead of CI.
    runtime
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(60), replay::run(fixtures(), &options)).await
        })
        .expect("the runner hung")
}

/// The rule each kind must be reported under.
fn rule_of(bug: PlantedBug) -> &'static str {
    match bug {
        PlantedBug::WrongType
        | PlantedBug::MissingRequired
        | PlantedBug::NullNotNullable
        | PlantedBug::EnumOutside => "schema",
        PlantedBug::UndeclaredProperty => "undeclared-property",
        PlantedBug::UndocumentedStatus => "undocumented-status",
        PlantedBug::WrongContentType => "content-type",
        PlantedBug::MissingHeader => "missing-header",
        PlantedBug::MalformedJson => "malformed-json",
        PlantedBug::CloseConnection => "connection-closed",
        PlantedBug::NeverAnswer => "timeout",
        // Sender bugs change no response: `webhook_sender.rs` catches them.
        PlantedBug::WebhookHeaderName
        | PlantedBug::WebhookWrongSecret
        | PlantedBug::WebhookMissing
        | PlantedBug::WebhookInvalidPayload
        | PlantedBug::WebhookNoRetry
        | PlantedBug::WebhookNoBackoff => "none",
    }
}

/// The pointer the checker uses for what the mock announced.
fn pointer_of(announced: &str) -> String {
    if announced.is_empty() || announced.starts_with('/') || announced == "status" {
        announced.to_string()
    } else {
        format!("header:{announced}")
    }
}

#[test]
fn a_correct_mock_passes_the_fixtures() {
    let report = replay_against(None, Profile::Strict);
    let t = report.totals();
    assert_eq!(t.exchanges, 7, "{t:?}");
    assert_eq!((t.failed, t.errors, t.violations), (0, 0, 0), "{report:#?}");
    assert_eq!(report.exit_code(), 0);
}

#[test]
fn every_planted_bug_is_reported_with_its_rule_and_pointer() {
    let mut summary = Vec::new();
    for bug in PlantedBug::ALL {
        let report = replay_against(Some(bug), Profile::Strict);
        let rule = rule_of(bug);
        let connection_level = matches!(bug, PlantedBug::CloseConnection | PlantedBug::NeverAnswer);
        // A target that answers nothing at all is a dead target: the run stops, exit 2.
        assert_eq!(
            report.exit_code(),
            if connection_level { 2 } else { 1 },
            "{bug:?}: {report:#?}"
        );
        let mut planted = 0;
        for s in &report.scenarios {
            if connection_level {
                let started = s.exchanges.iter().any(|e| e.not_run.is_none());
                if started {
                    let error = s.error.as_deref().unwrap_or_default();
                    assert!(error.contains("stopped answering"), "{bug:?}: {error}");
                    assert!(error.contains(&s.target), "names the target: {error}");
                }
            } else {
                assert!(s.error.is_none(), "{bug:?}: {:?}", s.error);
            }
            for e in &s.exchanges {
                if e.not_run.is_some() {
                    // After the first exchange with no response nothing else of the scenario
                    // runs, and no later scenario starts.
                    assert!(connection_level, "{bug:?}: {e:#?}");
                    assert!(e.violations.is_empty() && e.status.is_none());
                    continue;
                }
                let announced = e.live.as_ref().and_then(|(_, resp)| {
                    resp.headers
                        .get(PLANTED_HEADER)
                        .map(|v| v.split_once(' ').map_or("", |(_, t)| t).to_string())
                });
                match (bug, announced) {
                    (PlantedBug::CloseConnection | PlantedBug::NeverAnswer, _) => {
                        planted += 1;
                        assert!(
                            e.violations
                                .iter()
                                .any(|v| v.rule == rule && v.instance_pointer == "connection"),
                            "{bug:?}: {} {}: {:?}",
                            e.method,
                            e.path,
                            e.violations
                        );
                    }
                    (_, Some(target)) => {
                        planted += 1;
                        let want = pointer_of(&target);
                        assert!(
                            e.violations.iter().any(|v| v.rule == rule
                                && v.instance_pointer.eq_ignore_ascii_case(&want)),
                            "{bug:?}: expected [{rule}] at `{want}` for {} {}, got {:#?}",
                            e.method,
                            e.path,
                            e.violations
                        );
                    }
                    (_, None) => {}
                }
            }
        }
        assert!(planted > 0, "{bug:?} was never planted: {report:#?}");
        if connection_level {
            assert!(report.stopped.is_some(), "{bug:?}: the run did not stop");
            assert!(
                report.totals().not_run > 0,
                "{bug:?}: {:?}",
                report.totals()
            );
        }
        summary.push(format!("{bug:?}: {planted} planted, all caught"));
    }
    eprintln!("{}", summary.join("\n"));
}

#[test]
fn undeclared_properties_are_violations_only_in_strict() {
    let spec = replay_against(Some(PlantedBug::UndeclaredProperty), Profile::Spec);
    assert_eq!(spec.totals().violations, 0, "{spec:#?}");
    assert_eq!(spec.exit_code(), 0);
}
