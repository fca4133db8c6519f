//! Known deviations (`replay --baseline FILE`): violations listed in the file are reported as
//! known and do not fail the run; violations it does not list do; listed ones no longer seen
//! are reported as fixed, so the file can shrink. `--write-baseline FILE` writes one from a run.
//!
//! A violation is identified by its scenario's name, the exchange's position in it, the rule
//! and the instance pointer: not by the values, which change from run to run (ids, dates).

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::outcome::{ExchangeReport, RunReport, ScenarioReport, Violation};
use crate::file_error::FileError;

/// One known violation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The scenario's name (its `name`, else the recording's file stem).
    pub scenario: String,
    /// The exchange's position in the recording (0-based).
    pub exchange: usize,
    /// The rule's name (`schema`, `status-differs`…).
    pub rule: String,
    /// The instance pointer (`/amount`, `header:content-type`, `status`…).
    pub at: String,
}

impl Entry {
    fn of(s: &ScenarioReport, e: &ExchangeReport, v: &Violation) -> Entry {
        Entry {
            scenario: s.name.clone(),
            exchange: e.index,
            rule: v.rule.name().to_owned(),
            at: v.instance_pointer.clone(),
        }
    }
}

/// A baseline file: `{"known": [{"scenario", "exchange", "rule", "at"}, …]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub known: Vec<Entry>,
}

impl Baseline {
    /// Reads a baseline file, naming the line and column of what does not fit.
    pub fn load(path: &Path) -> Result<Baseline, FileError> {
        let error = |line: Option<usize>, column: Option<usize>, message: String| FileError {
            file: path.to_owned(),
            line,
            column,
            path: None,
            message,
        };
        let text = oas::files::read_text(path).map_err(|e| error(None, None, e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| {
            error(
                Some(e.line()),
                Some(e.column()),
                format!(
                    "not a baseline ({{\"known\": [{{\"scenario\", \"exchange\", \"rule\", \"at\"}}]}}): {e}"
                ),
            )
        })
    }

    /// Every violation of a run, sorted, each once.
    pub fn of(report: &RunReport) -> Baseline {
        let known: BTreeSet<Entry> = report
            .scenarios
            .iter()
            .flat_map(|s| {
                s.exchanges
                    .iter()
                    .flat_map(move |e| e.violations.iter().map(move |v| Entry::of(s, e, v)))
            })
            .collect();
        Baseline {
            known: known.into_iter().collect(),
        }
    }

    /// The file's text: one entry per line, for readable diffs.
    pub fn to_json(&self) -> String {
        let lines: Vec<String> = self
            .known
            .iter()
            .map(|e| format!("    {}", serde_json::to_string(e).unwrap_or_default()))
            .collect();
        if lines.is_empty() {
            return "{\"known\": []}\n".to_owned();
        }
        format!("{{\"known\": [\n{}\n]}}\n", lines.join(",\n"))
    }
}

/// A run's violations against a baseline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// The baseline file, as given.
    pub file: String,
    /// Violations the baseline lists: reported, not failing.
    pub known: usize,
    /// Violations it does not list: they fail the run as usual.
    pub new: usize,
    /// Listed violations whose exchange ran without them: remove them from the file.
    pub fixed: Vec<Entry>,
    /// Listed violations whose exchange did not run (skipped, not run, an error): neither
    /// seen nor shown fixed.
    pub unchecked: usize,
    #[serde(skip)]
    listed: BTreeSet<Entry>,
}

impl Comparison {
    /// Compares a run with a baseline.
    pub fn new(report: &RunReport, baseline: &Baseline, file: &str) -> Comparison {
        let listed: BTreeSet<Entry> = baseline.known.iter().cloned().collect();
        let mut seen = BTreeSet::new();
        let mut ran = BTreeSet::new();
        let (mut known, mut new) = (0, 0);
        for s in &report.scenarios {
            for e in &s.exchanges {
                if s.error.is_none() && e.skipped.is_none() && e.not_run.is_none() {
                    ran.insert((s.name.as_str(), e.index));
                }
                for v in &e.violations {
                    let entry = Entry::of(s, e, v);
                    if listed.contains(&entry) {
                        known += 1;
                    } else {
                        new += 1;
                    }
                    seen.insert(entry);
                }
            }
        }
        let mut fixed = Vec::new();
        let mut unchecked = 0;
        for entry in listed.difference(&seen) {
            if ran.contains(&(entry.scenario.as_str(), entry.exchange)) {
                fixed.push(entry.clone());
            } else {
                unchecked += 1;
            }
        }
        Comparison {
            file: file.to_owned(),
            known,
            new,
            fixed,
            unchecked,
            listed,
        }
    }

    /// Whether this violation is a known one.
    pub fn is_known(&self, s: &ScenarioReport, e: &ExchangeReport, v: &Violation) -> bool {
        self.listed.contains(&Entry::of(s, e, v))
    }

    /// One line for the report: what the baseline did.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "baseline {}: {} known (not failing), {} new, {} fixed",
            self.file,
            self.known,
            self.new,
            self.fixed.len()
        );
        if self.unchecked > 0 {
            out.push_str(&format!(
                ", {} not checked (their exchange did not run)",
                self.unchecked
            ));
        }
        if !self.fixed.is_empty() {
            out.push_str("; no longer seen, remove from the baseline:");
            for f in &self.fixed {
                out.push_str(&format!(
                    "\n  {} #{} [{}] at {}",
                    f.scenario,
                    f.exchange,
                    f.rule,
                    if f.at.is_empty() { "(body)" } else { &f.at }
                ));
            }
        }
        out
    }
}
