//! Renders a [`RunReport`]: human text (a per-operation table, then every violation with a
//! diff), JSON (the report as data, plus totals), JUnit XML for CI systems, and one
//! self-contained HTML page ([`html`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;
use serde_json::json;
use similar::{ChangeTag, TextDiff};

use crate::replay::{ExchangeReport, Kind, Rule, RunReport, ScenarioReport, Totals, Violation};

mod html;
pub use html::html;

/// Exchanges, passes and failures of one operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OperationRow {
    pub api: String,
    pub operation: String,
    pub exchanges: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub not_run: usize,
    /// Violations that break the spec.
    pub spec: usize,
    /// Violations that depart from the reference behaviour.
    pub reference: usize,
}

impl OperationRow {
    /// Passed / (passed + failed), in percent; 100 when nothing ran.
    pub fn score(&self) -> f64 {
        let ran = self.passed + self.failed;
        if ran == 0 {
            100.0
        } else {
            (self.passed as f64) * 100.0 / (ran as f64)
        }
    }
}

/// One row per (API, operation), in order.
pub fn per_operation(report: &RunReport) -> Vec<OperationRow> {
    let mut rows: BTreeMap<(String, String), OperationRow> = BTreeMap::new();
    for s in &report.scenarios {
        for e in &s.exchanges {
            let op = e
                .operation
                .clone()
                .unwrap_or_else(|| "(control API)".into());
            let row = rows
                .entry((s.api.name().to_string(), op.clone()))
                .or_insert_with(|| OperationRow {
                    api: s.api.name().into(),
                    operation: op,
                    ..OperationRow::default()
                });
            row.exchanges += 1;
            for v in e.violations.iter().filter(|v| !report.is_known(s, e, v)) {
                match v.kind() {
                    Kind::Spec => row.spec += 1,
                    Kind::Reference => row.reference += 1,
                }
            }
            if e.skipped.is_some() {
                row.skipped += 1;
            } else if e.not_run.is_some() {
                row.not_run += 1;
            } else if e.violations.is_empty() {
                row.passed += 1;
            } else {
                row.failed += 1;
            }
        }
    }
    rows.into_values().collect()
}

/// How much of one API's spec a run exercised: its operations with at least one exchange
/// sent, out of all it documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub api: String,
    pub operations: usize,
    pub exercised: usize,
    /// The `operationId`s no exchange reached, in spec order.
    pub not_exercised: Vec<String>,
}

/// Coverage per API the run replayed (in API order), against its embedded spec.
pub fn coverage(report: &RunReport) -> Vec<Coverage> {
    let mut apis: Vec<crate::specs::Api> = report.scenarios.iter().map(|s| s.api).collect();
    apis.sort();
    apis.dedup();
    apis.into_iter()
        .filter_map(|api| {
            let spec = api.spec().ok()?;
            let sent: std::collections::BTreeSet<&str> = report
                .scenarios
                .iter()
                .filter(|s| s.api == api)
                .flat_map(|s| &s.exchanges)
                .filter(|e| e.skipped.is_none() && e.not_run.is_none())
                .filter_map(|e| e.operation.as_deref())
                .collect();
            let mut ids: Vec<&str> = Vec::new();
            for op in spec.operations() {
                if !ids.contains(&op.id.as_str()) {
                    ids.push(&op.id);
                }
            }
            let not_exercised: Vec<String> = ids
                .iter()
                .filter(|id| !sent.contains(*id))
                .map(|id| (*id).to_owned())
                .collect();
            Some(Coverage {
                api: api.name().to_owned(),
                operations: ids.len(),
                exercised: ids.len() - not_exercised.len(),
                not_exercised,
            })
        })
        .collect()
}

/// One documented response of an operation, and how many exchanges of the run got it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusCoverage {
    pub api: String,
    pub operation: String,
    pub method: String,
    pub path: String,
    /// A numeric status the operation documents; `None` for an operation documenting none
    /// (only ranges or `default`), listed once so it is not lost.
    pub status: Option<u16>,
    /// Exchanges sent to the operation that got this status (or any, for `status: None`).
    pub exchanges: usize,
}

/// Every operation of each replayed API's embedded spec with each status it documents, in
/// spec order, marked with the exchanges that got it: untested operations and responses show
/// as 0.
pub fn status_coverage(report: &RunReport) -> Vec<StatusCoverage> {
    let mut apis: Vec<crate::specs::Api> = report.scenarios.iter().map(|s| s.api).collect();
    apis.sort();
    apis.dedup();
    let mut out = Vec::new();
    for api in apis {
        let Ok(spec) = api.spec() else { continue };
        let got = |op: &str, status: Option<u16>| {
            report
                .scenarios
                .iter()
                .filter(|s| s.api == api)
                .flat_map(|s| &s.exchanges)
                .filter(|e| e.skipped.is_none() && e.not_run.is_none())
                .filter(|e| e.operation.as_deref() == Some(op))
                .filter(|e| status.is_none() || e.status == status)
                .count()
        };
        for (index, op) in spec.operations().iter().enumerate() {
            let statuses = spec.documented_statuses(index);
            let listed: Vec<Option<u16>> = if statuses.is_empty() {
                vec![None]
            } else {
                statuses.into_iter().map(Some).collect()
            };
            for status in listed {
                out.push(StatusCoverage {
                    api: api.name().to_owned(),
                    operation: op.id.clone(),
                    method: op.method.to_uppercase(),
                    path: op.path.clone(),
                    status,
                    exchanges: got(&op.id, status),
                });
            }
        }
    }
    out
}

/// What was checked, one line per fact: the targets, the recordings, the profile.
pub fn header(report: &RunReport) -> String {
    let mut out = String::new();
    for (api, target) in &report.targets {
        let _ = writeln!(out, "target {}: {target}", api.name());
    }
    let _ = writeln!(
        out,
        "recordings: {}",
        report
            .recordings
            .as_deref()
            .unwrap_or("(given by the caller)")
    );
    let _ = writeln!(
        out,
        "profile: {}; fails on: {}{}",
        profile_name(report),
        match report.policy.fail_on {
            crate::replay::FailOn::Spec => "spec violations",
            crate::replay::FailOn::Reference => "departures from the reference",
            crate::replay::FailOn::Both => "spec violations and departures from the reference",
        },
        if report.policy.fail_on_skip {
            ", and skips"
        } else {
            ""
        }
    );
    if report.via == crate::replay::Via::Sdk {
        out.push_str(&sdk_line(report));
    }
    out
}

/// With `--via sdk`: how many API requests the typed clients built, and why the others were
/// sent as recorded, one line per kind of reason (most frequent first) with the JSON paths
/// or values it was found at (the exchanges' own reasons are in the JSON report).
fn sdk_line(report: &RunReport) -> String {
    let sent = report
        .scenarios
        .iter()
        .flat_map(|s| &s.exchanges)
        .filter(|e| e.skipped.is_none() && e.not_run.is_none());
    let (mut typed, mut total) = (0, 0);
    // Kind of reason → (count, the places named after " at ", in order of appearance).
    let mut kinds: std::collections::BTreeMap<&str, (usize, Vec<&str>)> =
        std::collections::BTreeMap::new();
    for e in sent {
        total += 1;
        let Some(why) = &e.as_recorded else {
            typed += 1;
            continue;
        };
        let (kind, place) = match why.split_once(" at ") {
            Some((kind, rest)) => (kind, rest.split_once(':').map_or(rest, |(at, _)| at)),
            None => (why.as_str(), ""),
        };
        let entry = kinds.entry(kind).or_default();
        entry.0 += 1;
        if !place.is_empty() && !entry.1.contains(&place) {
            entry.1.push(place);
        }
    }
    let mut out = format!(
        "requests: {typed} of {total} built by the typed clients of the `generated` crate (--via sdk)"
    );
    if typed < total {
        let mut kinds: Vec<(&str, (usize, Vec<&str>))> = kinds.into_iter().collect();
        kinds.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        let _ = write!(out, "; {} sent as recorded:", total - typed);
        for (kind, (n, places)) in kinds {
            let _ = write!(out, "\n  {n} × {kind}");
            if !places.is_empty() {
                let shown: Vec<String> = places.iter().take(4).map(|p| format!("`{p}`")).collect();
                let more = places.len().saturating_sub(4);
                let _ = write!(out, " (at {}", shown.join(", "));
                if more > 0 {
                    let _ = write!(out, " and {more} more");
                }
                out.push(')');
            }
        }
    }
    out.push('\n');
    out
}

fn profile_name(report: &RunReport) -> String {
    serde_json::to_value(report.profile)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The one-line summary: printed last in the human report, and on its own when the report
/// goes to a file.
pub fn summary(report: &RunReport) -> String {
    let t = report.totals();
    let mut out = format!(
        "{} scenarios, {} exchanges: {} passed, {} failed, {} skipped, {} not run; {} violations ({} spec, {} reference); {} errors",
        t.scenarios,
        t.exchanges,
        t.passed,
        t.failed,
        t.skipped,
        t.not_run,
        t.violations,
        t.spec_violations,
        t.reference_violations,
        t.errors,
    );
    if t.known_violations > 0 {
        let _ = write!(
            out,
            "; {} known violations (in the baseline, not failing)",
            t.known_violations
        );
    }
    if t.skipped_scenarios + t.not_run_scenarios > 0 {
        let _ = write!(
            out,
            "; {} scenarios skipped, {} not run",
            t.skipped_scenarios, t.not_run_scenarios
        );
    }
    let _ = write!(
        out,
        " ({} profile, {:.0} ms) → exit {}",
        profile_name(report),
        report.elapsed_ms,
        report.exit_code()
    );
    if let Some(why) = &report.stopped {
        let _ = write!(out, "\nthe run stopped: {why}");
    }
    out
}

/// Violations grouped by cause: same rule, same place in the spec, same pointer once array
/// indices are set aside. One planted bug is one group, not hundreds of lines.
#[derive(Debug, Clone)]
pub struct Cause<'a> {
    pub rule: Rule,
    /// Where in the spec; `recording` for expectations of the recordings (one cause across
    /// every file and exchange).
    pub schema_pointer: &'a str,
    /// The instance pointer with array indices as `*`.
    pub pattern: String,
    pub count: usize,
    /// (scenario, exchange, violation), in report order.
    pub examples: Vec<(&'a ScenarioReport, &'a ExchangeReport, &'a Violation)>,
}

impl Cause<'_> {
    /// Where in the body, as reports show it: the pointer pattern, or `(body)` for the root.
    pub fn place(&self) -> &str {
        if self.pattern.is_empty() {
            "(body)"
        } else {
            &self.pattern
        }
    }
}

/// Every violation of the run, grouped by cause, most frequent first.
pub fn causes(report: &RunReport) -> Vec<Cause<'_>> {
    let mut groups: BTreeMap<(Rule, &str, String), Cause<'_>> = BTreeMap::new();
    for s in &report.scenarios {
        for e in &s.exchanges {
            for v in &e.violations {
                let pattern = pointer_pattern(&v.instance_pointer);
                // `<file>#exchanges[N]` names the place, not the cause.
                let schema = if v.schema_pointer.contains("#exchanges[") {
                    "recording"
                } else {
                    v.schema_pointer.as_str()
                };
                let cause = groups
                    .entry((v.rule, schema, pattern.clone()))
                    .or_insert_with(|| Cause {
                        rule: v.rule,
                        schema_pointer: schema,
                        pattern,
                        count: 0,
                        examples: Vec::new(),
                    });
                cause.count += 1;
                cause.examples.push((s, e, v));
            }
        }
    }
    let mut out: Vec<Cause<'_>> = groups.into_values().collect();
    out.sort_by_key(|g| std::cmp::Reverse(g.count));
    out
}

/// `/data/3/amount` → `/data/*/amount`; `exchanges[4]` in recording locations → `exchanges[*]`.
fn pointer_pattern(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|seg| {
            if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                "*"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The likely cause when the pattern is plain: every answered API response has the same
/// telling status.
pub fn diagnosis(report: &RunReport) -> Option<String> {
    let statuses: Vec<(u16, u16)> = report
        .scenarios
        .iter()
        .flat_map(|s| &s.exchanges)
        .filter(|e| e.operation.is_some())
        .filter_map(|e| e.status.map(|st| (st, e.recorded_status)))
        .collect();
    let unexpected = statuses.iter().filter(|(st, rec)| st != rec).count();
    if statuses.is_empty() || unexpected * 2 < statuses.len() {
        return None;
    }
    let all = |code: u16| statuses.iter().all(|(st, rec)| *st == code || *rec == code);
    if all(404) {
        Some(
            "every response is 404: check the base URL (--target), e.g. a missing or extra path prefix such as /api/v2"
                .into(),
        )
    } else if all(401) || all(403) {
        Some(
            "every response is 401/403: check the credentials (CHARGILY_SECRET_KEY / RECHARGE_API_TOKEN)"
                .into(),
        )
    } else {
        None
    }
}

/// At most this many bytes of an unexpected 5xx body are shown.
const BODY_SHOWN: usize = 500;

/// The body of an unexpected 5xx response, truncated, for the human report.
fn server_error_body(e: &ExchangeReport) -> Option<String> {
    let status = e.status?;
    if status < 500 || e.recorded_status >= 500 {
        return None;
    }
    let body = e
        .normalized
        .get("body")
        .map(|b| b.to_string())
        .or_else(|| {
            e.normalized
                .get("text")
                .and_then(|t| t.as_str().map(str::to_string))
        })
        .unwrap_or_else(|| "(no body)".into());
    if body.len() <= BODY_SHOWN {
        return Some(body);
    }
    let mut cut = BODY_SHOWN;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(format!("{}… ({} bytes in all)", &body[..cut], body.len()))
}

/// Examples shown in full per cause; the rest are listed by place.
const EXAMPLES_SHOWN: usize = 1;
const PLACES_LISTED: usize = 5;

/// What the run could not check, in scenario order: skipped and not-run scenarios and
/// exchanges (why), scenario errors, and the bodies of 5xx answers. One note each, as the
/// human and HTML reports show them.
pub fn notes(report: &RunReport) -> Vec<String> {
    let mut out = Vec::new();
    for s in &report.scenarios {
        if let Some(why) = &s.skipped {
            out.push(format!(
                "skipped {} ({}, {} exchanges): {why}",
                s.name,
                s.file,
                s.exchanges.len()
            ));
        }
        if let Some(why) = &s.not_run {
            out.push(format!("not run {} ({}): {why}", s.name, s.file));
        }
        if let Some(e) = &s.error {
            out.push(format!("error in {} ({}): {e}", s.name, s.file));
        }
        for e in &s.exchanges {
            if let Some(why) = e.skipped.as_ref().filter(|_| s.skipped.is_none()) {
                out.push(format!("skipped {}: {why}", exchange_title(s, e)));
            }
            if let Some(body) = server_error_body(e) {
                out.push(format!("{}\n  5xx body: {body}", exchange_title(s, e)));
            }
        }
        let not_run = s.exchanges.iter().filter(|e| e.not_run.is_some()).count();
        if not_run > 0 && s.not_run.is_none() {
            let why = s
                .exchanges
                .iter()
                .find_map(|e| e.not_run.as_deref())
                .unwrap_or_default();
            out.push(format!(
                "not run in {} ({}): {not_run} exchange(s): {why}",
                s.name, s.file
            ));
        }
    }
    out
}

/// The human report.
pub fn human(report: &RunReport) -> String {
    let mut out = header(report);
    out.push('\n');
    let rows = per_operation(report);
    let width = rows
        .iter()
        .map(|r| r.api.len() + r.operation.len() + 1)
        .max()
        .unwrap_or(9)
        .max(9);
    let _ = writeln!(
        out,
        "{:<width$}  {:>9}  {:>6}  {:>6}  {:>7}  {:>7}  {:>4}  {:>9}  {:>6}",
        "operation",
        "exchanges",
        "passed",
        "failed",
        "skipped",
        "not run",
        "spec",
        "reference",
        "score"
    );
    for r in &rows {
        let _ = writeln!(
            out,
            "{:<width$}  {:>9}  {:>6}  {:>6}  {:>7}  {:>7}  {:>4}  {:>9}  {:>5.1}%",
            format!("{}.{}", r.api, r.operation),
            r.exchanges,
            r.passed,
            r.failed,
            r.skipped,
            r.not_run,
            r.spec,
            r.reference,
            r.score()
        );
    }
    for c in coverage(report) {
        let _ = write!(
            out,
            "\ncoverage {}: {} of {} operations exercised",
            c.api, c.exercised, c.operations
        );
        if c.not_exercised.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(
                out,
                "; {} not exercised: {}",
                c.not_exercised.len(),
                c.not_exercised.join(", ")
            );
        }
    }
    for note in notes(report) {
        let _ = writeln!(out, "\n{note}");
    }
    let causes = causes(report);
    if !causes.is_empty() {
        let _ = writeln!(
            out,
            "\n{} violation(s) from {} cause(s):",
            causes.iter().map(|c| c.count).sum::<usize>(),
            causes.len()
        );
    }
    for c in &causes {
        let at = c.place();
        let known = c
            .examples
            .iter()
            .filter(|(s, e, v)| report.is_known(s, e, v))
            .count();
        let _ = writeln!(
            out,
            "\n[{}] ({}) at {at}  (spec: {}): {} violation(s){}",
            c.rule,
            c.rule.kind().name(),
            c.schema_pointer,
            c.count,
            match known {
                0 => String::new(),
                k if k == c.count => ", all known (in the baseline)".to_owned(),
                k => format!(", {k} of them known (in the baseline)"),
            }
        );
        for (s, e, v) in c.examples.iter().take(EXAMPLES_SHOWN) {
            let _ = writeln!(out, "  e.g. {}", exchange_title(s, e));
            out.push_str(&violation_text(v));
        }
        let rest: Vec<String> = c
            .examples
            .iter()
            .skip(EXAMPLES_SHOWN)
            .take(PLACES_LISTED)
            .map(|(s, e, _)| format!("{} #{} {} {}", s.name, e.index, e.method, e.path))
            .collect();
        if !rest.is_empty() {
            let more = c.count - EXAMPLES_SHOWN - rest.len();
            let _ = writeln!(
                out,
                "  also: {}{}",
                rest.join("; "),
                if more > 0 {
                    format!("; and {more} more")
                } else {
                    String::new()
                }
            );
        }
    }
    if let Some(d) = diagnosis(report) {
        let _ = writeln!(out, "\nlikely cause: {d}");
    }
    if let Some(b) = &report.baseline {
        let _ = writeln!(out, "\n{}", b.summary());
    }
    let _ = writeln!(out, "\n{}", summary(report));
    out
}

/// When the human report is coloured: `--color always` or `never`, else (`auto`) when it
/// goes to a terminal and `NO_COLOR` is not set to something (<https://no-color.org>: a flag
/// given on the command line wins over the variable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour, given whether the output is a terminal and `NO_COLOR`'s value.
    pub fn enabled(self, terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && no_color.is_none_or(std::ffi::OsStr::is_empty),
        }
    }
}

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BOLD_RED: &str = "\x1b[1;31m";
const BOLD_GREEN: &str = "\x1b[1;32m";
const RESET: &str = "\x1b[0m";

/// The human report ([`human`]) with ANSI colours: a cause's heading bold red, a diff's
/// expected lines red and actual lines green, skipped and not-run notes yellow, and the last
/// line (the totals) bold green when the run passes, else bold red. Only whole lines are
/// wrapped, so the text without the escapes is the plain report.
pub fn paint(text: &str, passed: bool) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let lines: Vec<&str> = text.lines().collect();
    let last = lines.iter().rposition(|l| !l.is_empty());
    for (i, line) in lines.iter().enumerate() {
        let color = if Some(i) == last {
            Some(if passed { BOLD_GREEN } else { BOLD_RED })
        } else if line.starts_with('[') {
            Some(BOLD_RED)
        } else if line.starts_with("    - ") {
            Some(RED)
        } else if line.starts_with("    + ") {
            Some(GREEN)
        } else if line.starts_with("skipped ")
            || line.starts_with("not run ")
            || line.starts_with("error in ")
        {
            Some(YELLOW)
        } else {
            None
        };
        match color {
            Some(c) if !line.is_empty() => {
                out.push_str(c);
                out.push_str(line);
                out.push_str(RESET);
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

pub(crate) fn exchange_title(s: &ScenarioReport, e: &ExchangeReport) -> String {
    let status = e
        .status
        .map_or_else(|| "no response".to_string(), |st| st.to_string());
    format!(
        "{} #{}{}: {} {} → {status} ({})",
        s.name,
        e.index,
        e.name
            .as_deref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default(),
        e.method,
        e.path,
        s.file
    )
}

/// One violation: rule, where, and expected vs actual as a diff.
pub fn violation_text(v: &Violation) -> String {
    let mut out = String::new();
    let at = if v.instance_pointer.is_empty() {
        "(body)"
    } else {
        v.instance_pointer.as_str()
    };
    let _ = writeln!(out, "  [{}] at {at}  (spec: {})", v.rule, v.schema_pointer);
    out.push_str(&diff(&v.expected, &v.actual));
    out
}

/// `- expected` / `+ actual` lines; for multi-line values only the lines that differ (with
/// two lines of context).
pub fn diff(expected: &str, actual: &str) -> String {
    let mut out = String::new();
    if !expected.contains('\n') && !actual.contains('\n') {
        let _ = writeln!(out, "    - expected: {expected}");
        let _ = writeln!(out, "    + actual:   {actual}");
        return out;
    }
    let d = TextDiff::from_lines(expected, actual);
    for group in d.grouped_ops(2) {
        for op in group {
            for change in d.iter_changes(&op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                let _ = write!(out, "    {sign} {}", change.value());
                if change.missing_newline() {
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// The JSON report: totals, the per-operation table, and every scenario as data.
pub fn json_report(report: &RunReport) -> String {
    let totals: Totals = report.totals();
    let value = json!({
        "format": "checkout-conformance-report",
        "version": 1,
        "exit_code": report.exit_code(),
        "targets": report.targets,
        "recordings": report.recordings,
        "profile": report.profile,
        "via": report.via,
        "totals": totals,
        "coverage": coverage(report),
        "diagnosis": diagnosis(report),
        "causes": causes(report)
            .iter()
            .map(|c| json!({"rule": c.rule, "kind": c.rule.kind(), "schema_pointer": c.schema_pointer,
                            "pointer_pattern": c.pattern, "count": c.count,
                            "example": json!({"file": c.examples[0].0.file,
                                              "exchange": c.examples[0].1.index,
                                              "violation": c.examples[0].2})}))
            .collect::<Vec<_>>(),
        "operations": per_operation(report)
            .into_iter()
            .map(|r| {
                let score = r.score();
                json!({"api": r.api, "operation": r.operation, "exchanges": r.exchanges,
                       "passed": r.passed, "failed": r.failed, "skipped": r.skipped,
                       "not_run": r.not_run, "spec_violations": r.spec,
                       "reference_violations": r.reference, "score": score})
            })
            .collect::<Vec<_>>(),
        "report": report,
    });
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_default();
    s.push('\n');
    s
}

/// JUnit XML: one test suite per scenario, one test case per exchange.
pub fn junit(report: &RunReport) -> String {
    let mut junit = Report::new("conformance");
    junit.set_time(duration_ms(report.elapsed_ms));
    for s in &report.scenarios {
        let mut suite = TestSuite::new(format!("{}/{}", s.api.name(), s.name));
        suite.set_time(duration_ms(s.exchanges.iter().map(|e| e.elapsed_ms).sum()));
        let target = report
            .targets
            .get(&s.api)
            .cloned()
            .unwrap_or_else(|| s.target.clone());
        suite.add_property(Property::new("target", target));
        suite.add_property(Property::new(
            "recordings",
            report.recordings.clone().unwrap_or_default(),
        ));
        suite.add_property(Property::new("profile", profile_name(report)));
        suite.add_property(Property::new("file", s.file.clone()));
        if let Some(e) = &s.error {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(e.as_str());
            suite.add_test_case(TestCase::new("scenario", status));
        }
        for e in &s.exchanges {
            let name = format!(
                "{:02} {}",
                e.index,
                e.name
                    .clone()
                    .unwrap_or_else(|| format!("{} {}", e.method, e.path))
            );
            let status = if let Some(why) = e.skipped.as_ref().or(e.not_run.as_ref()) {
                let mut st = TestCaseStatus::skipped();
                st.set_message(why.as_str());
                if e.not_run.is_some() {
                    st.set_type("not-run");
                }
                st
            } else if e.violations.is_empty() {
                TestCaseStatus::success()
            } else if e.violations.iter().all(|v| report.is_known(s, e, v)) {
                // Known deviations (the baseline): reported in the case's output, not failing.
                TestCaseStatus::success()
            } else {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let first = &e.violations[0];
                st.set_message(format!(
                    "{} violation(s); first: [{}] at {}",
                    e.violations.len(),
                    first.rule,
                    first.instance_pointer
                ));
                st.set_type(format!("{} ({})", first.rule, first.kind().name()));
                st.set_description(e.violations.iter().map(violation_text).collect::<String>());
                st
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(format!(
                "{}.{}",
                s.api.name(),
                e.operation.as_deref().unwrap_or("control")
            ));
            case.set_time(duration_ms(e.elapsed_ms));
            let known: Vec<&Violation> = e
                .violations
                .iter()
                .filter(|v| report.is_known(s, e, v))
                .collect();
            if !known.is_empty() {
                case.set_system_out(format!(
                    "{} known violation(s) (in the baseline):\n{}",
                    known.len(),
                    known.iter().map(|v| violation_text(v)).collect::<String>()
                ));
            }
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit.to_string().unwrap_or_default()
}

fn duration_ms(ms: f64) -> Duration {
    // Never NaN or negative in the XML.
    if ms.is_finite() && ms >= 0.0 {
        Duration::from_secs_f64(ms / 1000.0)
    } else {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_flag_then_the_terminal_and_no_color() {
        let set = Some(std::ffi::OsStr::new("1"));
        let empty = Some(std::ffi::OsStr::new(""));
        assert!(ColorChoice::Auto.enabled(true, None));
        assert!(ColorChoice::Auto.enabled(true, empty));
        assert!(!ColorChoice::Auto.enabled(true, set));
        assert!(!ColorChoice::Auto.enabled(false, None));
        assert!(ColorChoice::Always.enabled(false, set));
        assert!(!ColorChoice::Never.enabled(true, None));
    }

    #[test]
    fn painting_wraps_whole_lines_and_keeps_the_text() {
        let text = "operation  exchanges\n\n[status-undocumented] (spec) at (body): 1 violation(s)\n  e.g. x\n    - expected: 200\n    + actual:   500\n\nskipped y: why\n\n1 scenarios, 1 exchanges: 0 passed, 1 failed\n";
        let painted = paint(text, false);
        let plain = painted
            .replace(RED, "")
            .replace(GREEN, "")
            .replace(YELLOW, "")
            .replace(BOLD_RED, "")
            .replace(BOLD_GREEN, "")
            .replace(RESET, "");
        assert_eq!(plain, text);
        assert!(painted.contains(&format!("{BOLD_RED}[status-undocumented]")));
        assert!(painted.contains(&format!("{RED}    - expected: 200{RESET}")));
        assert!(painted.contains(&format!("{GREEN}    + actual:   500{RESET}")));
        assert!(painted.contains(&format!("{YELLOW}skipped y: why{RESET}")));
        assert!(painted.ends_with(&format!(
            "{BOLD_RED}1 scenarios, 1 exchanges: 0 passed, 1 failed{RESET}\n"
        )));
        assert!(paint(text, true).ends_with(&format!(
            "{BOLD_GREEN}1 scenarios, 1 exchanges: 0 passed, 1 failed{RESET}\n"
        )));
        // Lines of the table stay plain.
        assert!(painted.starts_with("operation  exchanges\n"));
    }
}
