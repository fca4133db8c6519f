//! Replay mechanics the shipped recordings do not isolate: explicit captures, a placeholder
//! with no capture, flagged exchanges, rebinding turned on its head (a recording whose ids the
//! target cannot know), and the scenario order of a run.

use crate::support;

use std::path::Path;

use conformance::recording::{self, Loaded};
use conformance::replay::{self, Options, RunReport};

fn scenario(name: &str, yaml: &str) -> Loaded {
    recording::parse(Path::new(name), yaml).unwrap_or_else(|e| panic!("{e}"))
}

fn run(scenarios: Vec<Loaded>) -> RunReport {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(replay::run(scenarios, &Options::default()))
}

const HEAD: &str = "format: checkout-conformance-recording\nversion: 1\napi: chargily\n";

#[test]
fn explicit_captures_fill_placeholders_and_missing_ones_are_violations() {
    let yaml = format!(
        "{HEAD}exchanges:
- name: create
  request: {{method: POST, path: /customers, json: {{name: Ada}}}}
  response: {{status: 200}}
  capture: {{customer: 'body:/id', kind: 'header:content-type'}}
- name: retrieve through the capture
  request: {{method: GET, path: '/customers/{{{{customer}}}}'}}
  response: {{status: 200}}
- name: a placeholder nothing captured
  request: {{method: GET, path: '/customers/{{{{nobody}}}}'}}
  response: {{status: 200}}
"
    );
    let report = run(vec![scenario("captures.yaml", &yaml)]);
    let ex = &report.scenarios[0].exchanges;
    assert_eq!(ex.len(), 3);
    assert!(ex[1].passed(), "{:?}", ex[1]);
    assert_eq!(ex[1].status, Some(200));
    assert!(ex[1].path.starts_with("/customers/[id-"), "{}", ex[1].path);
    assert_eq!(
        ex[2].status, None,
        "a request with an unfilled placeholder is not sent"
    );
    assert_eq!(ex[2].violations[0].rule, "missing-capture");
    assert!(ex[2].violations[0].actual.contains("nobody"));
    assert_eq!(report.exit_code(), 1);
}

#[test]
fn without_rebinding_a_recorded_id_would_not_resolve() {
    // The recorded response says the customer got id A; the live mock gives another id. The
    // retrieve that follows names A: it only succeeds because A is rebound to the live id.
    let yaml = format!(
        "{HEAD}exchanges:
- request: {{method: POST, path: /customers, json: {{name: Ada}}}}
  response: {{status: 200, json: {{id: 01hzzzzzzzzzzzzzzzzzzzzzzz, name: Ada}}}}
- request: {{method: GET, path: /customers/01hzzzzzzzzzzzzzzzzzzzzzzz}}
  response: {{status: 200}}
- request: {{method: GET, path: /customers/01hyyyyyyyyyyyyyyyyyyyyyyy}}
  response: {{status: 404}}
"
    );
    let report = run(vec![scenario("rebind.yaml", &yaml)]);
    let ex = &report.scenarios[0].exchanges;
    assert_eq!(ex[1].status, Some(200), "{:?}", ex[1].violations);
    let (sent, _) = ex[1].live.as_ref().unwrap();
    assert_ne!(sent.path, "/customers/01hzzzzzzzzzzzzzzzzzzzzzzz");
    // An id no response returned is left alone (and is unknown to the target).
    assert_eq!(ex[2].status, Some(404));
    assert_eq!(report.totals().violations, 0, "{report:#?}");
}

#[test]
fn flagged_exchanges_are_reported_not_sent() {
    let yaml = format!(
        "{HEAD}exchanges:
- request: {{method: GET, path: /nowhere}}
  response: {{status: 404}}
  flagged: matches no operation
- request: {{method: GET, path: /balance}}
  response: {{status: 200}}
"
    );
    let loaded = scenario("flagged.yaml", &yaml);
    let ctx = replay::ApiContext::new(loaded.api()).unwrap();
    assert!(replay::validate(&loaded, &ctx).is_empty());
    let report = run(vec![loaded]);
    let ex = &report.scenarios[0].exchanges;
    assert!(ex[0].skipped.as_deref().unwrap().contains("flagged"));
    assert_eq!(ex[0].status, None);
    assert!(ex[1].passed());
    assert_eq!(report.totals().skipped, 1);
    assert_eq!(report.exit_code(), 0);
}

#[test]
fn reports_keep_scenario_order_and_shards_partition() {
    let names: Vec<String> = (0..7).map(|i| format!("s{i}.yaml")).collect();
    let scenarios: Vec<Loaded> = names
        .iter()
        .map(|n| {
            scenario(
                n,
                &format!(
                    "{HEAD}exchanges:\n- request: {{method: GET, path: /balance}}\n  response: {{status: 200}}\n"
                ),
            )
        })
        .collect();
    let report = run(scenarios.clone());
    let order: Vec<&str> = report.scenarios.iter().map(|s| s.file.as_str()).collect();
    assert_eq!(order, names.iter().map(String::as_str).collect::<Vec<_>>());
    let mut seen: Vec<String> = (1..=3)
        .flat_map(|k| replay::shard(scenarios.clone(), k, 3))
        .map(|l| l.file.display().to_string())
        .collect();
    seen.sort();
    let mut all = names.clone();
    all.sort();
    assert_eq!(seen, all, "shards are disjoint and cover everything");
}

#[test]
fn compare_bodies_reports_where_a_body_departs_from_the_recording() {
    // Recorded: the customer came back named "Ada"; the live target will say "Grace".
    let yaml = format!(
        "{HEAD}exchanges:
- request: {{method: POST, path: /customers, json: {{name: Grace}}}}
  response: {{status: 200, json: {{id: 01hzzzzzzzzzzzzzzzzzzzzzzz, name: Ada}}}}
"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let options = Options {
        compare_bodies: true,
        ..Options::default()
    };
    let report = runtime.block_on(replay::run(vec![scenario("differs.yaml", &yaml)], &options));
    let v = &report.scenarios[0].exchanges[0].violations;
    let differs: Vec<_> = v.iter().filter(|v| v.rule == "body-differs").collect();
    assert_eq!(differs.len(), 1, "{v:?}");
    // Both normalized bodies are shown in full, for a line diff.
    assert!(
        differs[0].expected.contains("name: Ada"),
        "{}",
        differs[0].expected
    );
    assert!(
        differs[0].actual.contains("name: Grace"),
        "{}",
        differs[0].actual
    );

    // The shipped recordings, replayed against the mock they were recorded from, have no
    // body differences at all once normalized.
    let dir = replay::shipped_recordings_dir();
    let shipped: Vec<Loaded> = recording::discover(&dir)
        .unwrap()
        .iter()
        .map(|p| recording::load(p).unwrap())
        .collect();
    let options = Options {
        compare_bodies: true,
        jobs: 8,
        ..Options::default()
    };
    let report = runtime.block_on(replay::run(shipped, &options));
    let t = report.totals();
    assert!(t.exchanges >= 400, "{t:?}");
    assert_eq!(t.violations, 0, "{report:#?}");
}

/// An endless response body is read up to the cap and reported as `body-too-large`: the run
/// ends with a finding instead of taking all memory.
#[test]
fn an_endless_response_body_is_capped_and_reported() {
    let base = support::endless_body_server();
    let yaml = format!(
        "{HEAD}exchanges:
- request: {{method: GET, path: /balance}}
  response: {{status: 200}}
"
    );
    let options = Options {
        max_response_bytes: 1024 * 1024,
        targets: [(
            conformance::specs::Api::Chargily,
            replay::Target::Url {
                base,
                control: None,
            },
        )]
        .into(),
        ..Options::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let report = runtime.block_on(replay::run(vec![scenario("endless.yaml", &yaml)], &options));
    let v = &report.scenarios[0].exchanges[0].violations;
    assert_eq!(v[0].rule, "body-too-large", "{v:?}");
    assert!(v[0].actual.contains("1048576 bytes"), "{v:?}");
    assert_eq!(report.exit_code(), 1);
}

#[test]
fn a_repeat_stops_at_the_exchange_budget_and_says_so() {
    // The balance never answers 418: the repeat runs until `max`, or until the budget is spent.
    let yaml = format!(
        "{HEAD}exchanges:
- name: wait for a status that never comes
  request: {{method: GET, path: /balance}}
  response: {{status: 418}}
  repeat: {{until_status: 418, max: 1000}}
"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let with_budget = |budget| {
        let options = Options {
            exchange_budget: budget,
            ..Options::default()
        };
        runtime.block_on(replay::run(vec![scenario("budget.yaml", &yaml)], &options))
    };
    // A spent budget: no second attempt, and the cause is named.
    let report = with_budget(std::time::Duration::ZERO);
    let ex = &report.scenarios[0].exchanges[0];
    assert_eq!(ex.attempts, 1);
    let rules: Vec<&str> = ex.violations.iter().map(|v| v.rule.name()).collect();
    assert_eq!(rules, ["status-differs", "exchange-budget"], "{ex:#?}");
    let budget = &ex.violations[1];
    assert_eq!(budget.actual, "status 200 after 1 attempts");
    assert!(budget.expected.contains("status 418 within 1000 attempts"));
    assert_eq!(report.exit_code(), 1);
    // The default budget: the repeat reaches `max`; only the status differs.
    let report = with_budget(replay::DEFAULT_EXCHANGE_BUDGET);
    let ex = &report.scenarios[0].exchanges[0];
    assert_eq!(ex.attempts, 1000);
    let rules: Vec<&str> = ex.violations.iter().map(|v| v.rule.name()).collect();
    assert_eq!(rules, ["status-differs"]);
}
