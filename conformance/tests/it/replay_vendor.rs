//! `conformance replay` against a vendor's server, as a user runs it: honest counts of what was
//! skipped or not run, dead targets, diagnoses instead of walls of violations, the two kinds of
//! verdict, and reports that say what was checked. Every target is on loopback.

use crate::support::{self, replay, temp_dir, text};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use conformance::mock::{MockConfig, MockServer, PlantedBug};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replay")
}

fn shipped() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("recordings")
}

/// The Chargily fixtures plus one shipped scenario that pays a checkout through the control
/// API: without `--control` that one is skipped.
fn recordings_with_a_control_scenario(name: &str) -> (support::TempDir, usize) {
    let dir = temp_dir(name);
    for entry in std::fs::read_dir(fixtures().join("chargily")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    let paid = shipped().join("chargily/checkout-paid-cannot-be-expired.yaml");
    std::fs::copy(&paid, dir.join("checkout-paid-cannot-be-expired.yaml")).unwrap();
    let loaded = conformance::recording::load(&paid).unwrap();
    (dir, loaded.recording.exchanges.len())
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn skipped_scenarios_are_counted_in_every_format_and_can_fail_the_run() {
    let server = MockServer::start(MockConfig::for_tests()).unwrap();
    let url = server.chargily_test_url();
    let (dir, n) = recordings_with_a_control_scenario("skips");

    let out = replay(&["--recordings", s(&dir), "--target", &url], &[]);
    let (stdout, _) = support::exited(&out, 0);
    assert!(
        stdout.contains(&format!("{n} skipped, 0 not run")),
        "{stdout}"
    );
    assert!(stdout.contains("1 scenarios skipped"), "{stdout}");
    assert!(stdout.contains("give --control URL"), "{stdout}");

    let report_dir = temp_dir("skips-reports");
    let json = report_dir.join("r.json");
    let out = replay(
        &[
            "--recordings",
            s(&dir),
            "--target",
            &url,
            "--format",
            "json",
            "--output",
            s(&json),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(r["totals"]["skipped_scenarios"], 1, "{}", r["totals"]);
    assert_eq!(r["totals"]["skipped"], n, "{}", r["totals"]);
    let skipped: Vec<&Value> = r["report"]["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s.get("skipped").is_some())
        .collect();
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0]["skipped"]
            .as_str()
            .unwrap()
            .contains("--control")
    );

    let xml_path = report_dir.join("r.xml");
    let out = replay(
        &[
            "--recordings",
            s(&dir),
            "--target",
            &url,
            "--format",
            "junit",
            "--output",
            s(&xml_path),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    assert_eq!(xml.matches("<skipped").count(), n, "{xml}");
    assert!(xml.contains("--control"), "{xml}");

    // CI must not go green on unrun checks when it says so.
    let out = replay(
        &["--recordings", s(&dir), "--target", &url, "--fail-on-skip"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));

    // With the control API nothing is skipped.
    let out = replay(
        &[
            "--recordings",
            s(&dir),
            "--target",
            &url,
            "--control",
            &server.control_url(),
            "--fail-on-skip",
        ],
        &[],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(" 0 skipped, 0 not run"), "{stdout}");
}

/// A listener that accepts every connection and never answers (nor closes).
fn silent_listener() -> String {
    let addr = support::listen(|stream| {
        // Held open, unanswered, for as long as the test process runs.
        let _held = stream;
        loop {
            std::thread::park();
        }
    });
    format!("http://{addr}/api/v2")
}

/// A listener that accepts every connection and closes it at once.
fn closing_listener() -> String {
    let addr = support::listen(drop);
    format!("http://{addr}/api/v2")
}

#[test]
fn a_target_that_never_answers_stops_the_run_with_exit_2_within_twice_the_timeout() {
    let url = silent_listener();
    let timeout_ms = 1500u64;
    let dir = temp_dir("silent-reports");
    let json = dir.join("r.json");
    let started = Instant::now();
    let out = replay(
        &[
            "--recordings",
            s(&shipped().join("chargily")),
            "--target",
            &url,
            "--timeout-ms",
            &timeout_ms.to_string(),
            "--jobs",
            "4",
            "--format",
            "json",
            "--output",
            s(&json),
        ],
        &[],
    );
    let elapsed = started.elapsed();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        elapsed < Duration::from_millis(2 * timeout_ms) + Duration::from_secs(5),
        "took {elapsed:?}"
    );
    assert!(
        stderr.contains(&format!("the target {url} stopped answering")),
        "{stderr}"
    );
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let t = &r["totals"];
    // At most one scenario per job started; every other one is reported as not run.
    let started = t["scenarios"].as_u64().unwrap()
        - t["skipped_scenarios"].as_u64().unwrap()
        - t["not_run_scenarios"].as_u64().unwrap();
    assert!((1..=4).contains(&started), "{t}");
    assert_eq!(
        t["exchanges"].as_u64().unwrap(),
        t["passed"].as_u64().unwrap()
            + t["failed"].as_u64().unwrap()
            + t["skipped"].as_u64().unwrap()
            + t["not_run"].as_u64().unwrap(),
        "{t}"
    );
    assert!(t["not_run"].as_u64().unwrap() > 0, "{t}");
    assert_eq!(r["exit_code"], 2);
}

#[test]
fn a_target_that_closes_every_connection_exits_2_at_once_and_is_never_rerecorded() {
    let url = closing_listener();
    let out_dir = temp_dir("closing-rerecord");
    let started = Instant::now();
    let out = replay(
        &[
            "--recordings",
            s(&fixtures().join("chargily")),
            "--target",
            &url,
            // A timeout never reached: a closed connection is known at once.
            "--timeout-ms",
            "60000",
            "--rerecord",
            s(&out_dir),
        ],
        &[],
    );
    let elapsed = started.elapsed();
    let (stdout, _) = support::exited(&out, 2);
    assert!(
        elapsed < Duration::from_secs(60),
        "waited for the timeout: {elapsed:?}"
    );
    assert!(
        stdout.contains(&format!("the target {url} stopped answering")),
        "{stdout}"
    );
    assert!(stdout.contains("not run"), "{stdout}");
    // One cause, however many scenarios it stopped.
    assert_eq!(
        stdout
            .matches("[connection-closed] (spec) at connection  (spec: recording)")
            .count(),
        1,
        "{stdout}"
    );
    assert!(
        std::fs::read_dir(&out_dir).unwrap().next().is_none(),
        "an incomplete scenario was re-recorded"
    );
    assert!(
        text(&out.stderr).contains("not re-recorded"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_wrong_base_url_or_key_gets_a_likely_cause() {
    let server = MockServer::start(MockConfig::for_tests()).unwrap();
    let chargily = fixtures().join("chargily");
    let wrong_base = format!("{}/v2", server.chargily_test_url());
    let out = replay(
        &["--recordings", s(&chargily), "--target", &wrong_base],
        &[],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("likely cause: every response is 404: check the base URL"),
        "{stdout}"
    );

    let out = replay(
        &[
            "--recordings",
            s(&chargily),
            "--target",
            &server.chargily_test_url(),
        ],
        &[("CHARGILY_SECRET_KEY", "test_sk_wrong")],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("likely cause: every response is 401/403: check the credentials"),
        "{stdout}"
    );

    // A correct target gets no such hint.
    let out = replay(
        &[
            "--recordings",
            s(&chargily),
            "--target",
            &server.chargily_test_url(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(!text(&out.stdout).contains("likely cause"));
}

#[test]
fn a_planted_bug_prints_as_grouped_causes_not_a_wall() {
    let mut config = MockConfig::for_tests();
    config.planted = Some(PlantedBug::WrongType);
    let server = MockServer::start(config).unwrap();
    let dir = temp_dir("grouped");
    let json = dir.join("r.json");
    let recordings = shipped().join("chargily");
    let args = [
        "--recordings",
        s(&recordings),
        "--target",
        &server.chargily_test_url(),
        "--control",
        &server.control_url(),
        "--jobs",
        "1",
    ];
    let out = replay(&args, &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let mut with_json = args.to_vec();
    with_json.extend(["--format", "json", "--output", s(&json)]);
    let out = replay(&with_json, &[]);
    assert_eq!(out.status.code(), Some(1));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let violations = r["totals"]["violations"].as_u64().unwrap() as usize;
    let causes = r["causes"].as_array().unwrap();
    assert!(
        violations > causes.len(),
        "{violations} vs {}",
        causes.len()
    );
    assert_eq!(
        causes
            .iter()
            .map(|c| c["count"].as_u64().unwrap() as usize)
            .sum::<usize>(),
        violations
    );
    // The human run (the shared mock holds more data by then, so its counts are its own):
    // one example per cause, not one per violation.
    let line = stdout
        .lines()
        .find(|l| l.contains(" violation(s) from "))
        .unwrap();
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let (human_violations, human_causes) = (numbers[0], numbers[1]);
    assert!(human_violations > 10 * human_causes, "{line}");
    assert_eq!(
        stdout.matches("\n  e.g. ").count(),
        human_causes,
        "{stdout}"
    );
    assert!(
        stdout.matches("- expected:").count() <= human_causes,
        "{stdout}"
    );
    assert!(stdout.contains("[schema] (spec) at /"), "{stdout}");
    assert!(
        stdout.contains("and ") && stdout.contains(" more"),
        "{stdout}"
    );
}

/// Answers every request with a 500 and a long text body.
fn failing_server(body: String) -> String {
    let addr = support::listen(move |stream| answer_500(stream, &body));
    format!("http://{addr}/api/v2")
}

fn answer_500(stream: TcpStream, body: &str) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    loop {
        let mut length = 0usize;
        let mut first = true;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() && !first {
                break;
            }
            first = false;
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut sink = vec![0; length];
        if reader.read_exact(&mut sink).is_err() {
            return;
        }
        let mut w = &stream;
        let head = format!(
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if w.write_all(head.as_bytes())
            .and_then(|()| w.write_all(body.as_bytes()))
            .is_err()
        {
            return;
        }
    }
}

#[test]
fn unexpected_5xx_bodies_are_shown_truncated() {
    let body = format!("database is down: {}", "x".repeat(2000));
    let url = failing_server(body);
    let out = replay(
        &[
            "--recordings",
            s(&fixtures().join("chargily")),
            "--target",
            &url,
        ],
        &[],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("5xx body: database is down: xxx"),
        "{stdout}"
    );
    assert!(stdout.contains("(2018 bytes in all)"), "{stdout}");
    assert!(!stdout.contains(&"x".repeat(1000)), "not truncated");
}

#[test]
fn spec_and_reference_verdicts_are_counted_apart_and_chosen_by_fail_on() {
    let mut config = MockConfig::for_tests();
    config.planted = Some(PlantedBug::UndocumentedStatus);
    let server = MockServer::start(config).unwrap();
    let chargily = fixtures().join("chargily");
    let dir = temp_dir("kinds");
    let json = dir.join("r.json");
    let url = server.chargily_test_url();
    let base = ["--recordings", s(&chargily), "--target", &url];
    let mut args = base.to_vec();
    args.extend(["--format", "json", "--output", s(&json)]);
    let out = replay(&args, &[]);
    assert_eq!(out.status.code(), Some(1));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let t = &r["totals"];
    let spec = t["spec_violations"].as_u64().unwrap();
    let reference = t["reference_violations"].as_u64().unwrap();
    assert!(spec > 0 && reference > 0, "{t}");
    assert_eq!(spec + reference, t["violations"].as_u64().unwrap());
    let op = &r["operations"][0];
    assert!(op.get("spec_violations").is_some() && op.get("reference_violations").is_some());

    // A wrong key breaks no spec (401 is documented) but departs from the reference.
    let good = MockServer::start(MockConfig::for_tests()).unwrap();
    let good_url = good.chargily_test_url();
    let key = [("CHARGILY_SECRET_KEY", "test_sk_wrong")];
    let run = |fail_on: &str| {
        replay(
            &[
                "--recordings",
                s(&chargily),
                "--target",
                &good_url,
                "--fail-on",
                fail_on,
            ],
            &key,
        )
    };
    let both = run("both");
    let stdout = text(&both.stdout);
    assert_eq!(both.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("(0 spec, "), "{stdout}");
    assert_eq!(run("reference").status.code(), Some(1));
    assert_eq!(run("spec").status.code(), Some(0));
}

#[test]
fn every_report_names_target_recordings_and_profile_and_output_still_prints_the_summary() {
    let server = MockServer::start(MockConfig::for_tests()).unwrap();
    let chargily = fixtures().join("chargily");
    let url = server.chargily_test_url();
    let out = replay(&["--recordings", s(&chargily), "--target", &url], &[]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("target chargily: {url}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("recordings: {}", chargily.display())),
        "{stdout}"
    );
    assert!(stdout.contains("profile: spec"), "{stdout}");

    let out = replay(&["--recordings", s(&chargily), "--profile", "strict"], &[]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("target chargily: embedded reference mock (seed 2)"),
        "{stdout}"
    );
    assert!(stdout.contains("profile: strict"), "{stdout}");

    let dir = temp_dir("named");
    let json = dir.join("r.json");
    let out = replay(
        &[
            "--recordings",
            s(&chargily),
            "--target",
            &url,
            "--format",
            "json",
            "--output",
            s(&json),
        ],
        &[],
    );
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("1 scenarios, ") && stderr.contains("exit 0"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("report written to {}", json.display())),
        "{stderr}"
    );
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(r["targets"]["chargily"], url.as_str());
    assert_eq!(r["recordings"], chargily.display().to_string());
    assert_eq!(r["profile"], "spec");

    let xml_path = dir.join("r.xml");
    let out = replay(
        &[
            "--recordings",
            s(&chargily),
            "--target",
            &url,
            "--format",
            "junit",
            "--output",
            s(&xml_path),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    assert!(
        xml.contains(&format!("<property name=\"target\" value=\"{url}\"/>")),
        "{xml}"
    );
    assert!(
        xml.contains("<property name=\"profile\" value=\"spec\"/>"),
        "{xml}"
    );
    assert!(xml.contains("<property name=\"recordings\""), "{xml}");
}

#[test]
fn https_targets_pass_with_the_private_ca_and_fail_clearly_without_it() {
    let server = MockServer::start(MockConfig::for_tests()).unwrap();
    let plain = server.chargily_test_url();
    let upstream: std::net::SocketAddr = plain
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (port, ca_pem) = support::https_forwarder(upstream);
    let dir = temp_dir("https");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let path = plain.splitn(4, '/').nth(3).unwrap();
    let chargily = fixtures().join("chargily");
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("https://{host}:{port}/{path}");
        let out = replay(
            &[
                "--recordings",
                s(&chargily),
                "--target",
                &url,
                "--ca-cert",
                s(&ca),
            ],
            &[],
        );
        let (stdout, _) = support::exited(&out, 0);
        assert!(
            stdout.contains(&format!("target chargily: {url}")),
            "{stdout}"
        );
        assert!(
            stdout.contains(" 0 failed, 0 skipped, 0 not run"),
            "{stdout}"
        );
    }

    // Without the CA the platform's roots do not trust it: a certificate error, exit 2.
    let url = format!("https://localhost:{port}/{path}");
    let out = replay(&["--recordings", s(&chargily), "--target", &url], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("certificate"), "{stdout}");
    assert!(stdout.contains(&url), "names the target: {stdout}");

    // A --ca-cert that is no certificate is a usage error naming the file.
    let bogus = dir.join("bogus.pem");
    std::fs::write(&bogus, "not a certificate\n").unwrap();
    let out = replay(
        &[
            "--recordings",
            s(&chargily),
            "--target",
            &url,
            "--ca-cert",
            s(&bogus),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bogus.pem"),
        "{}",
        text(&out.stderr)
    );
}
