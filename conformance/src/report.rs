//! Renders a [`RunReport`]: human text (a per-operation table, then every violation with a
//! diff), JSON (the report as data, plus totals), and JUnit XML for CI systems.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;
use serde_json::json;
use similar::{ChangeTag, TextDiff};

use crate::replay::{ExchangeReport, RunReport, ScenarioReport, Totals, Violation};

/// Exchanges, passes and failures of one operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OperationRow {
    pub api: String,
    pub operation: String,
    pub exchanges: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
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
            if e.skipped.is_some() {
                row.skipped += 1;
            } else if e.violations.is_empty() {
                row.passed += 1;
            } else {
                row.failed += 1;
            }
        }
    }
    rows.into_values().collect()
}

/// The human report.
pub fn human(report: &RunReport) -> String {
    let mut out = String::new();
    let rows = per_operation(report);
    let width = rows
        .iter()
        .map(|r| r.api.len() + r.operation.len() + 1)
        .max()
        .unwrap_or(9)
        .max(9);
    let _ = writeln!(
        out,
        "{:<width$}  {:>9}  {:>6}  {:>6}  {:>7}  {:>6}",
        "operation", "exchanges", "passed", "failed", "skipped", "score"
    );
    for r in &rows {
        let _ = writeln!(
            out,
            "{:<width$}  {:>9}  {:>6}  {:>6}  {:>7}  {:>5.1}%",
            format!("{}.{}", r.api, r.operation),
            r.exchanges,
            r.passed,
            r.failed,
            r.skipped,
            r.score()
        );
    }
    for s in &report.scenarios {
        if let Some(why) = &s.skipped {
            let _ = writeln!(out, "\nskipped {} ({}): {why}", s.name, s.file);
        }
        if let Some(e) = &s.error {
            let _ = writeln!(out, "\nerror in {} ({}): {e}", s.name, s.file);
        }
        for e in &s.exchanges {
            if e.violations.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{}", exchange_title(s, e));
            for v in &e.violations {
                out.push_str(&violation_text(v));
            }
        }
    }
    let t = report.totals();
    let _ = writeln!(
        out,
        "\n{} scenarios, {} exchanges: {} passed, {} failed, {} skipped; {} violations; {} errors ({} profile, {:.0} ms)",
        t.scenarios,
        t.exchanges,
        t.passed,
        t.failed,
        t.skipped,
        t.violations,
        t.errors,
        serde_json::to_value(report.profile)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        report.elapsed_ms
    );
    out
}

fn exchange_title(s: &ScenarioReport, e: &ExchangeReport) -> String {
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
        "totals": totals,
        "operations": per_operation(report)
            .into_iter()
            .map(|r| {
                let score = r.score();
                json!({"api": r.api, "operation": r.operation, "exchanges": r.exchanges,
                       "passed": r.passed, "failed": r.failed, "skipped": r.skipped,
                       "score": score})
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
        if let Some(why) = &s.skipped {
            let mut case = TestCase::new("scenario", TestCaseStatus::skipped());
            case.status.set_message(why.as_str());
            suite.add_test_case(case);
        }
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
            let status = if let Some(why) = &e.skipped {
                let mut st = TestCaseStatus::skipped();
                st.set_message(why.as_str());
                st
            } else if e.violations.is_empty() {
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
                st.set_type(first.rule.as_str());
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
