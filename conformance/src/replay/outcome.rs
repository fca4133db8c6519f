//! What a replay run found, as data: every report format renders these types.

use std::time::Duration;

use oas::check::Profile;
use serde::Serialize;
use serde_json::Value;

use crate::recording;
use crate::specs::Api;

/// One departure of a live response from the spec or from the reference behaviour.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Violation {
    /// Kebab-case rule name; see [`crate::replay::RULES`].
    pub rule: String,
    /// JSON pointer into the response body (`""` for the whole body), or `header:<name>`,
    /// or `status`, or `connection`.
    pub instance_pointer: String,
    /// Where the broken expectation is written in the spec (JSON pointer), or the recording.
    pub schema_pointer: String,
    pub expected: String,
    pub actual: String,
}

/// One exchange of a scenario, replayed.
#[derive(Debug, Clone, Serialize)]
pub struct ExchangeReport {
    /// Position in the recording (0-based).
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The `operationId` the request matched; `None` for control-API requests.
    pub operation: Option<String>,
    pub method: String,
    /// The path as sent, normalized (ids shown as `[id-N]`).
    pub path: String,
    pub recorded_status: u16,
    /// `None` when no response arrived.
    pub status: Option<u16>,
    /// How many times the request was sent (repeats and rate-limit retries).
    pub attempts: u32,
    /// Time of the final attempt, in milliseconds.
    pub elapsed_ms: f64,
    pub violations: Vec<Violation>,
    /// Why the exchange was not sent (flagged in the recording, missing capture).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The normalized response: what snapshots hold and implementations are compared on.
    pub normalized: Value,
    /// The request as sent and the response as received, for `--rerecord`.
    #[serde(skip)]
    pub live: Option<(recording::Request, recording::Response)>,
}

impl ExchangeReport {
    pub fn passed(&self) -> bool {
        self.skipped.is_none() && self.violations.is_empty()
    }
}

/// One scenario (recording file), replayed.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// The recording file, as given.
    pub file: String,
    pub name: String,
    pub api: Api,
    /// The API base URL the scenario ran against (`embedded mock` URLs change every run).
    pub target: String,
    /// Why the whole scenario was not run (e.g. it needs a control API the target lacks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// An error that stopped the scenario: the target is unreachable, or the embedded mock
    /// could not start. Reported as an input/connection error (exit 2), not a violation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub exchanges: Vec<ExchangeReport>,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub profile: Profile,
    pub scenarios: Vec<ScenarioReport>,
    /// Wall time of the run, in milliseconds.
    pub elapsed_ms: f64,
}

/// Totals over a run or a part of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub scenarios: usize,
    pub exchanges: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub violations: usize,
    pub errors: usize,
}

impl RunReport {
    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            scenarios: self.scenarios.len(),
            ..Totals::default()
        };
        for s in &self.scenarios {
            if s.error.is_some() {
                t.errors += 1;
            }
            for e in &s.exchanges {
                t.exchanges += 1;
                t.violations += e.violations.len();
                if e.skipped.is_some() {
                    t.skipped += 1;
                } else if e.violations.is_empty() {
                    t.passed += 1;
                } else {
                    t.failed += 1;
                }
            }
        }
        t
    }

    /// 0 conformant, 1 some violation, 2 a scenario could not run (unreachable target,
    /// mock start failure).
    pub fn exit_code(&self) -> u8 {
        let t = self.totals();
        if t.errors > 0 {
            2
        } else if t.violations > 0 {
            1
        } else {
            0
        }
    }
}

pub(crate) fn millis(d: Duration) -> f64 {
    // Rounded to microseconds so reports stay readable; never NaN.
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}
