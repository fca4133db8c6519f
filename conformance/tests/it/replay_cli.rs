//! `conformance replay` as users run it: exit codes, report formats, sharding, credentials
//! from the environment, and clear errors for bad recordings and unreachable targets.

use crate::support::{self, replay, temp_dir, text};
use std::path::{Path, PathBuf};

use conformance::mock::{MockConfig, MockServer, PlantedBug};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replay")
}

fn targets(server: &MockServer) -> [String; 4] {
    [
        "--target".into(),
        format!("chargily={}", server.chargily_test_url()),
        "--target".into(),
        format!("recharge={}", server.recharge_url()),
    ]
}

#[test]
fn embedded_mock_passes_and_exits_0() {
    let fx = fixtures();
    let out = replay(&["--recordings", fx.to_str().unwrap()], &[]);
    let (stdout, _) = support::exited(&out, 0);
    assert!(stdout.contains("chargily.createCheckout"), "{stdout}");
    assert!(
        stdout.contains("2 scenarios, 7 exchanges: 7 passed, 0 failed"),
        "{stdout}"
    );
}

#[test]
fn json_and_junit_reports_are_well_formed() {
    let fx = fixtures();
    let dir = temp_dir("reports");
    let json_path = dir.join("report.json");
    let out = replay(
        &[
            "--recordings",
            fx.to_str().unwrap(),
            "--format",
            "json",
            "--output",
            json_path.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "the report goes to --output only");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(report["totals"]["exchanges"], 7);
    assert_eq!(report["exit_code"], 0);
    assert!(report["operations"].as_array().unwrap().len() >= 4);

    let junit_path = dir.join("junit.xml");
    let out = replay(
        &[
            "--recordings",
            fx.to_str().unwrap(),
            "--format",
            "junit",
            "--output",
            junit_path.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let xml = std::fs::read_to_string(&junit_path).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains("<testsuites name=\"conformance\" tests=\"7\" failures=\"0\" errors=\"0\""),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), 7, "{xml}");
    let suites: Vec<&str> = xml.lines().filter(|l| l.contains("<testsuite ")).collect();
    assert_eq!(suites.len(), 2, "{xml}");
    assert!(suites.iter().all(|l| l.contains(" time=\"")), "{xml}");
    // Every time attribute is a finite, non-negative number (no NaN).
    for part in xml.split("time=\"").skip(1) {
        let value: f64 = part.split('"').next().unwrap().parse().unwrap();
        assert!(value.is_finite() && value >= 0.0, "{value}");
    }
}

#[test]
fn a_broken_target_exits_1_with_the_violation() {
    let mut config = MockConfig::for_tests();
    config.planted = Some(PlantedBug::WrongType);
    let server = MockServer::start(config).unwrap();
    let fx = fixtures();
    let mut args = vec!["--recordings".to_string(), fx.display().to_string()];
    args.extend(targets(&server));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = replay(&args, &[]);
    let (stdout, _) = support::exited(&out, 1);
    assert!(stdout.contains("[schema] at /"), "{stdout}");
    assert!(
        stdout.contains("- expected:") && stdout.contains("+ actual:"),
        "{stdout}"
    );
}

/// Piped output (not a terminal) is plain; `--color always` colours the report's diff lines
/// and its totals (red when the run fails, green when it passes), whatever `NO_COLOR` says;
/// `--color never` is plain.
#[test]
fn colours_only_on_a_terminal_or_when_asked() {
    let fx = fixtures();
    let mut config = MockConfig::for_tests();
    config.planted = Some(PlantedBug::WrongType);
    let server = MockServer::start(config).unwrap();
    let mut broken = vec!["--recordings".to_string(), fx.display().to_string()];
    broken.extend(targets(&server));
    let run = |extra: &[&str], env: &[(&str, &str)], target: bool| {
        let mut args: Vec<&str> = if target {
            broken.iter().map(String::as_str).collect()
        } else {
            vec!["--recordings", fx.to_str().unwrap()]
        };
        args.extend(extra);
        text(&replay(&args, env).stdout)
    };
    let plain = run(&[], &[], true);
    assert!(
        !plain.contains('\x1b') && plain.contains("+ actual:"),
        "{plain}"
    );
    assert!(!run(&["--color", "never"], &[], true).contains('\x1b'));
    let painted = run(&["--color", "always"], &[("NO_COLOR", "1")], true);
    assert!(painted.contains("\x1b[31m    - expected:"), "{painted}");
    assert!(painted.contains("\x1b[32m    + actual:"), "{painted}");
    let last = painted.lines().last().unwrap();
    assert!(
        last.starts_with("\x1b[1;31m") && last.contains("7 failed"),
        "{last}"
    );
    let passing = run(&["--color", "always"], &[], false);
    let last = passing.lines().last().unwrap();
    assert!(
        last.starts_with("\x1b[1;32m") && last.contains("7 passed"),
        "{last}"
    );
}

#[test]
fn credentials_come_from_the_environment() {
    let mut config = MockConfig::for_tests();
    config.chargily_secret_key = "test_sk_from_env".into();
    config.recharge_access_token = "token_from_env".into();
    let server = MockServer::start(config).unwrap();
    let fx = fixtures();
    let mut args = vec!["--recordings".to_string(), fx.display().to_string()];
    args.extend(targets(&server));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The defaults are refused by this target...
    let out = replay(&args, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("[status-differs]"));
    // ...the environment's credentials are accepted.
    let out = replay(
        &args,
        &[
            ("CHARGILY_SECRET_KEY", "test_sk_from_env"),
            ("RECHARGE_API_TOKEN", "token_from_env"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn shards_split_scenarios_disjointly() {
    let fx = fixtures();
    let names = |shard: &str| -> Vec<String> {
        let out = replay(
            &[
                "--recordings",
                fx.to_str().unwrap(),
                "--format",
                "json",
                "--shard",
                shard,
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["report"]["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["file"].as_str().unwrap().to_string())
            .collect()
    };
    let (a, b) = (names("1/2"), names("2/2"));
    assert_eq!((a.len(), b.len()), (1, 1), "{a:?} {b:?}");
    assert_ne!(a, b);
    let out = replay(
        &["--recordings", fx.to_str().unwrap(), "--shard", "3/2"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// A baseline written from a run with a planted bug makes the same run pass with its
/// violations reported as known; the bug fixed, they are reported as fixed; a violation the
/// baseline does not list still fails; a malformed baseline is an input error.
#[test]
fn baselines_accept_known_violations_and_catch_new_ones() {
    let fx = fixtures();
    let dir = temp_dir("baseline");
    let file = dir.join("baseline.json");
    let run = |server: &MockServer, extra: &[&str]| {
        let mut args = vec!["--recordings".to_string(), fx.display().to_string()];
        args.extend(targets(server));
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = replay(&args, &[]);
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let mut config = MockConfig::for_tests();
    config.planted = Some(PlantedBug::WrongType);
    let buggy = MockServer::start(config).unwrap();
    let (code, _, stderr) = run(&buggy, &["--write-baseline", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let listed = written["known"].as_array().unwrap().len();
    assert!(listed > 0, "{written}");
    assert!(
        stderr.contains(&format!("baseline of {listed} violation(s) written")),
        "{stderr}"
    );

    // The same deviations, known: the run passes and says so.
    let (code, stdout, stderr) = run(&buggy, &["--baseline", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    // (An entry covers every violation of one rule at one place: two schema keywords failing
    // at `/entity` are one entry.)
    let summary = stdout.lines().find(|l| l.starts_with("baseline ")).unwrap();
    let known: usize = summary
        .split(": ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(known >= listed, "{summary}");
    assert!(
        summary.ends_with(" known (not failing), 0 new, 0 fixed"),
        "{summary}"
    );
    assert!(
        stdout.contains(&format!(
            "{known} violations (0 spec, 0 reference); 0 errors; {known} known violations (in the baseline, not failing)"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("all known (in the baseline)"), "{stdout}");

    // One entry fewer: that violation is new and fails the run.
    let mut fewer = written.clone();
    fewer["known"].as_array_mut().unwrap().pop();
    let fewer_file = dir.join("fewer.json");
    std::fs::write(&fewer_file, fewer.to_string()).unwrap();
    let (code, stdout, _) = run(&buggy, &["--baseline", fewer_file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains(", 1 new, 0 fixed"), "{stdout}");

    // The bug fixed: every listed violation is reported as fixed, by place.
    let fixed = MockServer::start(MockConfig::for_tests()).unwrap();
    let (code, stdout, _) = run(&fixed, &["--baseline", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains(&format!("0 known (not failing), 0 new, {listed} fixed; no longer seen, remove from the baseline:")), "{stdout}");

    // A malformed baseline: exit 2 at once, naming the file and line.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"known\": [\n  {\"scenario\": 1}\n]}").unwrap();
    let (code, _, stderr) = run(&fixed, &["--baseline", bad.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:2:", bad.display())),
        "{stderr}"
    );
}

/// The report says how much of each spec the run exercised: every documented operation is
/// either exercised or listed as not exercised, in both the human and the JSON report.
#[test]
fn coverage_lists_the_operations_no_exchange_reached() {
    let fx = fixtures();
    let out = replay(
        &["--recordings", fx.to_str().unwrap(), "--format", "json"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for api in [
        conformance::specs::Api::Chargily,
        conformance::specs::Api::Recharge,
    ] {
        let spec = api.spec().unwrap();
        let documented: std::collections::BTreeSet<&str> =
            spec.operations().iter().map(|op| op.id.as_str()).collect();
        // Exercised: the operations the per-operation table shows with a passed exchange.
        let exercised: std::collections::BTreeSet<&str> = v["operations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["api"] == api.name() && r["passed"].as_u64().unwrap() > 0)
            .map(|r| r["operation"].as_str().unwrap())
            .filter(|op| documented.contains(op))
            .collect();
        let c = v["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["api"] == api.name())
            .unwrap();
        let not: std::collections::BTreeSet<&str> = c["not_exercised"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert_eq!(c["operations"].as_u64().unwrap() as usize, documented.len());
        assert_eq!(
            c["exercised"].as_u64().unwrap() as usize,
            exercised.len(),
            "{c}"
        );
        assert!(!exercised.is_empty() && !not.is_empty(), "{c}");
        assert!(exercised.is_disjoint(&not), "{c}");
        assert_eq!(exercised.len() + not.len(), documented.len(), "{c}");
    }
    let out = replay(&["--recordings", fx.to_str().unwrap()], &[]);
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("coverage chargily: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        line.contains(" operations exercised; ") && line.contains(" not exercised: "),
        "{line}"
    );
}

/// Not on a terminal (a CI log), progress is a line per tenth of the exchanges, with passed
/// and failed counts, the last one at 100 %.
#[test]
fn progress_lines_when_not_on_a_terminal() {
    let fx = fixtures();
    let mut config = MockConfig::for_tests();
    config.planted = Some(PlantedBug::WrongType);
    for (server, failing) in [
        (None, false),
        (Some(MockServer::start(config).unwrap()), true),
    ] {
        let mut args = vec!["--recordings".to_string(), fx.display().to_string()];
        if let Some(server) = &server {
            args.extend(targets(server));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = replay(&args, &[]);
        let stderr = text(&out.stderr);
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("progress: "))
            .collect();
        assert!(!lines.is_empty() && lines.len() <= 11, "{stderr}");
        let last = lines.last().unwrap();
        if failing {
            assert!(
                last.starts_with("progress: 7/7 exchanges (100%), 0 passed, 7 failed, "),
                "{last}"
            );
        } else {
            assert!(
                last.starts_with("progress: 7/7 exchanges (100%), 7 passed, 0 failed, "),
                "{last}"
            );
        }
        assert!(last.ends_with(" s"), "{last}");
    }
}

#[test]
fn only_selects_scenarios_by_name_or_path() {
    let fx = fixtures();
    let files = |only: &[&str]| -> (Option<i32>, Vec<String>, String) {
        let mut args = vec!["--recordings", fx.to_str().unwrap(), "--format", "json"];
        for pattern in only {
            args.extend(["--only", pattern]);
        }
        let out = replay(&args, &[]);
        let files = serde_json::from_slice::<Value>(&out.stdout)
            .map(|v| {
                v["report"]["scenarios"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["file"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        (out.status.code(), files, text(&out.stderr))
    };
    // By relative path, with a wildcard; both scenarios are named `smoke` by their file stem.
    let (code, chosen, stderr) = files(&["chargily/*"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(chosen.len(), 1, "{chosen:?}");
    assert!(chosen[0].ends_with("chargily/smoke.yaml"), "{chosen:?}");
    assert!(stderr.contains("1 of 2 scenarios selected"), "{stderr}");
    // By name: both; repeated patterns add up.
    let (_, chosen, _) = files(&["smoke"]);
    assert_eq!(chosen.len(), 2);
    let (_, chosen, _) = files(&["chargily/*", "recharge/smoke.yaml"]);
    assert_eq!(chosen.len(), 2);
    // Nothing matching is a usage error naming what there is.
    let (code, _, stderr) = files(&["nope*"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--only nope*: no scenario matches (of 2 in") && stderr.contains("smoke"),
        "{stderr}"
    );
}

#[test]
fn bad_recordings_exit_2_naming_file_and_line() {
    let dir = temp_dir("bad-recordings");
    let good = std::fs::read_to_string(fixtures().join("chargily/smoke.yaml")).unwrap();
    let bad = good.replacen("method: GET", "method: FETCH", 1);
    let path = dir.join("bad.yaml");
    std::fs::write(&path, &bad).unwrap();
    let out = replay(&["--recordings", dir.to_str().unwrap()], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let line = bad
        .lines()
        .position(|l| l.contains("- name: balance"))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!("{}:{line}", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("FETCH"), "{stderr}");

    // A request to no operation of the spec.
    std::fs::write(&path, good.replacen("path: /balance", "path: /balances", 1)).unwrap();
    let out = replay(&["--recordings", dir.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("matches no operation"),
        "{}",
        text(&out.stderr)
    );

    // Credentials never belong in a recording.
    let with_secret = good.replacen(
        "    path: /balance\n",
        "    path: /balance\n    headers:\n      authorization: Bearer test_sk_leaked\n",
        1,
    );
    std::fs::write(&path, with_secret).unwrap();
    let out = replay(&["--recordings", dir.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("credential"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unreachable_or_unsupported_targets_exit_2() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let fx = fixtures();
    let chargily = fx.join("chargily");
    let url = format!("http://127.0.0.1:{port}/api/v2");
    let out = replay(
        &["--recordings", chargily.to_str().unwrap(), "--target", &url],
        &[],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("cannot connect"), "{stdout}");

    let out = replay(
        &[
            "--recordings",
            chargily.to_str().unwrap(),
            "--target",
            "ftp://127.0.0.1/test/api/v2",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not an http:// or https:// URL"),
        "{}",
        text(&out.stderr)
    );

    let out = replay(
        &[
            "--recordings",
            Path::new("/nonexistent/dir").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_same_thing_has_the_same_flag_everywhere() {
    let help = |command: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_conformance"))
            .args([command, "--help"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for command in ["mock", "replay"] {
        let text = help(command);
        for flag in ["--chargily-secret-key", "--recharge-access-token"] {
            assert!(text.contains(flag), "{command} --help lacks {flag}");
        }
    }
    // No rustdoc link syntax in any help text.
    for command in ["lint", "convert", "mock", "replay", "record", "import-har"] {
        let text = help(command);
        assert!(text.contains("Usage:"), "{command} --help: {text}");
        assert!(!text.contains("[`"), "{command} --help: {text}");
    }
    // The replay flag's former name still works.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["replay", "--recharge-api-token", "x", "--help"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// A recordings folder's own `<api>/normalize.yaml` replaces the embedded rules: with
/// `created_at` no longer a timestamp to label, the normalized body keeps the mock's value; a
/// rules file that does not parse is exit 2 naming it, before anything is sent.
#[test]
fn a_recordings_folder_brings_its_own_normalization_rules() {
    let dir = temp_dir("own-rules");
    std::fs::create_dir_all(dir.join("chargily")).unwrap();
    std::fs::copy(
        fixtures().join("chargily/smoke.yaml"),
        dir.join("chargily/smoke.yaml"),
    )
    .unwrap();
    let created_at = |rules: Option<&str>| {
        if let Some(rules) = rules {
            std::fs::write(dir.join("chargily/normalize.yaml"), rules).unwrap();
        }
        let out = replay(
            &["--recordings", dir.to_str().unwrap(), "--format", "json"],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        report["report"]["scenarios"][0]["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|e| e["normalized"]["body"].get("created_at").cloned())
            .unwrap()
    };
    assert!(
        created_at(None).is_string(),
        "labelled by the embedded rules"
    );
    let own = conformance::replay::normalize::rules_text(conformance::specs::Api::Chargily)
        .replace(
            "timestamps: [created_at, updated_at]",
            "timestamps: [updated_at]",
        );
    assert!(created_at(Some(&own)).is_i64(), "kept as the mock sent it");

    std::fs::write(dir.join("chargily/normalize.yaml"), "ids: {not: a list}\n").unwrap();
    let out = replay(&["--recordings", dir.to_str().unwrap()], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("chargily/normalize.yaml: ids: invalid type"),
        "{stderr}"
    );
}
