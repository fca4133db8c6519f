//! What a replay run found, as data: every report format renders these types.

use std::collections::BTreeMap;
use std::time::Duration;

use oas::check::{Profile, ResponseRule};
use serde::Serialize;
use serde_json::Value;

use crate::recording;
use crate::specs::Api;

/// Every rule a violation can carry: the spec's response rules (`oas::check`) and replay's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// A departure from the spec's response rules.
    Response(ResponseRule),
    /// The body passes the spec but does not decode into the generated Rust type (a generator or spec bug).
    GeneratedType,
    /// The request matches no operation of the spec.
    NoOperation,
    /// The connection closed before a complete response.
    ConnectionClosed,
    /// No complete response within the timeout.
    Timeout,
    /// The response body is larger than --max-body-bytes.
    BodyTooLarge,
    /// The status differs from the recorded reference behaviour.
    StatusDiffers,
    /// The body differs from the recorded one (--compare-bodies).
    BodyDiffers,
    /// A {{placeholder}} names a capture no earlier exchange provided.
    MissingCapture,
    /// A repeated exchange ran out of time (--exchange-budget-ms) before its awaited status.
    ExchangeBudget,
    /// A response shows a recorded id with another live value than the one bound earlier (or one live value for two recorded ids).
    RebindingConflict,
    /// One of the scenario's own objects is listed with other content than recorded.
    ListItemDiffers,
    /// The scenario's own objects are listed in another relative order than recorded.
    ListOrder,
    /// A list holding nothing else omits one of the scenario's own objects.
    ListItemMissing,
    /// A list's total or last page is below what the scenario's own objects make.
    ListCount,
    /// Per_page or current_page differs from the request, or a page holds the wrong number of items.
    ListPage,
    /// In a scenario running alone, the balance moved by another amount than recorded.
    BalanceChange,
}

impl Rule {
    /// Replay's own rules, beside the spec's response rules.
    const OWN: [Rule; 16] = [
        Rule::GeneratedType,
        Rule::NoOperation,
        Rule::ConnectionClosed,
        Rule::Timeout,
        Rule::BodyTooLarge,
        Rule::StatusDiffers,
        Rule::BodyDiffers,
        Rule::MissingCapture,
        Rule::ExchangeBudget,
        Rule::RebindingConflict,
        Rule::ListItemDiffers,
        Rule::ListOrder,
        Rule::ListItemMissing,
        Rule::ListCount,
        Rule::ListPage,
        Rule::BalanceChange,
    ];

    /// Every rule: the spec's response rules, then replay's own.
    pub fn all() -> impl Iterator<Item = Rule> {
        ResponseRule::ALL
            .into_iter()
            .map(Rule::Response)
            .chain(Rule::OWN)
    }

    /// The kebab-case name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Response(rule) => rule.name(),
            Rule::GeneratedType => "generated-type",
            Rule::NoOperation => "no-operation",
            Rule::ConnectionClosed => "connection-closed",
            Rule::Timeout => "timeout",
            Rule::BodyTooLarge => "body-too-large",
            Rule::StatusDiffers => "status-differs",
            Rule::BodyDiffers => "body-differs",
            Rule::MissingCapture => "missing-capture",
            Rule::ExchangeBudget => "exchange-budget",
            Rule::RebindingConflict => "rebinding-conflict",
            Rule::ListItemDiffers => "list-item-differs",
            Rule::ListOrder => "list-order",
            Rule::ListItemMissing => "list-item-missing",
            Rule::ListCount => "list-count",
            Rule::ListPage => "list-page",
            Rule::BalanceChange => "balance-change",
        }
    }

    /// What a violation of the rule means (for reports and documentation).
    pub fn description(self) -> &'static str {
        match self {
            Rule::Response(rule) => rule.description(),
            Rule::GeneratedType => {
                "the body passes the spec but does not decode into the generated Rust type (a generator or spec bug)"
            }
            Rule::NoOperation => "the request matches no operation of the spec",
            Rule::ConnectionClosed => "the connection closed before a complete response",
            Rule::Timeout => "no complete response within the timeout",
            Rule::BodyTooLarge => "the response body is larger than --max-body-bytes",
            Rule::StatusDiffers => "the status differs from the recorded reference behaviour",
            Rule::BodyDiffers => "the body differs from the recorded one (--compare-bodies)",
            Rule::MissingCapture => {
                "a {{placeholder}} names a capture no earlier exchange provided"
            }
            Rule::ExchangeBudget => {
                "a repeated exchange ran out of time (--exchange-budget-ms) before its awaited status"
            }
            Rule::RebindingConflict => {
                "a response shows a recorded id with another live value than the one bound earlier (or one live value for two recorded ids)"
            }
            Rule::ListItemDiffers => {
                "one of the scenario's own objects is listed with other content than recorded"
            }
            Rule::ListOrder => {
                "the scenario's own objects are listed in another relative order than recorded"
            }
            Rule::ListItemMissing => {
                "a list holding nothing else omits one of the scenario's own objects"
            }
            Rule::ListCount => {
                "a list's total or last page is below what the scenario's own objects make"
            }
            Rule::ListPage => {
                "per_page or current_page differs from the request, or a page holds the wrong number of items"
            }
            Rule::BalanceChange => {
                "in a scenario running alone, the balance moved by another amount than recorded"
            }
        }
    }

    /// Whether the rule judges the spec or the recorded reference behaviour.
    pub fn kind(self) -> Kind {
        match self {
            // What the recording, not the spec, says: the status and body recorded, the flow
            // of the scenario, and the state its own objects must show (identity, lists,
            // balance).
            Rule::StatusDiffers
            | Rule::BodyDiffers
            | Rule::MissingCapture
            | Rule::ExchangeBudget
            | Rule::RebindingConflict
            | Rule::ListItemDiffers
            | Rule::ListOrder
            | Rule::ListItemMissing
            | Rule::ListCount
            | Rule::ListPage
            | Rule::BalanceChange => Kind::Reference,
            Rule::Response(_)
            | Rule::GeneratedType
            | Rule::NoOperation
            | Rule::ConnectionClosed
            | Rule::Timeout
            | Rule::BodyTooLarge => Kind::Spec,
        }
    }
}

impl From<ResponseRule> for Rule {
    fn from(rule: ResponseRule) -> Self {
        Rule::Response(rule)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

// Ordered and serialized by name, as when rules were strings: reports sort by it.
impl PartialOrd for Rule {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Rule {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.name().cmp(other.name())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl PartialEq<&str> for Rule {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

/// One departure of a live response from the spec or from the reference behaviour.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Violation {
    pub rule: Rule,
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
    /// Why the exchange was not sent (flagged in the recording, missing capture, or its
    /// scenario was skipped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Why the exchange was not run although it should have been: an earlier exchange of its
    /// scenario got no response, or the run stopped because the target stopped answering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_run: Option<String>,
    /// The normalized response: what snapshots hold and implementations are compared on.
    pub normalized: Value,
    /// The request as sent and the response as received, for `--rerecord`.
    #[serde(skip)]
    pub live: Option<(recording::Request, recording::Response)>,
    /// With `--via sdk`: why the request was sent as recorded instead of being built by the
    /// typed client (`None`: the typed client built it, or the run was not `--via sdk`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_recorded: Option<String>,
}

impl ExchangeReport {
    pub fn passed(&self) -> bool {
        self.skipped.is_none() && self.not_run.is_none() && self.violations.is_empty()
    }

    /// Whether the exchange was sent and answered in full (for `--rerecord`).
    pub fn completed(&self) -> bool {
        self.skipped.is_none() && self.not_run.is_none() && self.status.is_some()
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
    /// Why the scenario was never started (the run stopped: the target stopped answering).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_run: Option<String>,
    /// Every exchange of the recording, in order: also those skipped or not run.
    pub exchanges: Vec<ExchangeReport>,
}

impl ScenarioReport {
    /// Ran to its end, every exchange answered: only such a scenario may be re-recorded.
    pub fn completed(&self) -> bool {
        self.error.is_none()
            && self.skipped.is_none()
            && self.not_run.is_none()
            && self
                .exchanges
                .iter()
                .all(|e| e.completed() || e.skipped.is_some())
    }
}

/// Which kind of finding a rule reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The response breaks the spec (schema, undocumented status, content type, headers,
    /// generated type, no response at all).
    Spec,
    /// The response keeps the spec but behaves differently from the recorded reference
    /// (status or body differs, the scenario's flow broke, its own objects are not listed or
    /// identified as recorded, the balance moved otherwise).
    Reference,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Spec => "spec",
            Kind::Reference => "reference",
        }
    }
}

impl Violation {
    pub fn kind(&self) -> Kind {
        self.rule.kind()
    }
}

/// Which findings fail the run (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum FailOn {
    /// Only breaks of the spec.
    Spec,
    /// Only departures from the reference behaviour.
    Reference,
    /// Both kinds.
    #[default]
    Both,
}

impl FailOn {
    pub fn fails(self, kind: Kind) -> bool {
        matches!(
            (self, kind),
            (FailOn::Both, _) | (FailOn::Spec, Kind::Spec) | (FailOn::Reference, Kind::Reference)
        )
    }
}

/// What makes a run fail, besides errors (always exit 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Policy {
    pub fail_on: FailOn,
    /// Skipped scenarios or exchanges fail the run too: CI cannot go green on unrun checks.
    pub fail_on_skip: bool,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub profile: Profile,
    /// What was checked, per API: `embedded reference mock (seed N)` or the base URL.
    pub targets: BTreeMap<Api, String>,
    /// The folder the recordings came from, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recordings: Option<String>,
    /// How API requests were built: as recorded, or by the typed clients.
    pub via: super::Via,
    pub policy: Policy,
    /// Why the run stopped before its end (the target stopped answering).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// The run's violations against a baseline of known ones (`--baseline`): known ones are
    /// reported and do not fail the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<super::baseline::Comparison>,
    pub scenarios: Vec<ScenarioReport>,
    /// Wall time of the run, in milliseconds.
    pub elapsed_ms: f64,
}

/// Totals over a run or a part of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub scenarios: usize,
    /// Scenarios not run for a stated reason (e.g. no control API); their exchanges count in
    /// `skipped`.
    pub skipped_scenarios: usize,
    /// Scenarios never started because the run stopped; their exchanges count in `not_run`.
    pub not_run_scenarios: usize,
    pub exchanges: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub not_run: usize,
    pub violations: usize,
    /// Violations that break the spec.
    pub spec_violations: usize,
    /// Violations that depart from the reference behaviour.
    pub reference_violations: usize,
    /// Violations the baseline lists (`--baseline`): counted in `violations`, not in `spec_violations` or
    /// `reference_violations`, and never failing the run.
    #[serde(skip_serializing_if = "is_zero")]
    pub known_violations: usize,
    pub errors: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
            if s.skipped.is_some() {
                t.skipped_scenarios += 1;
            }
            if s.not_run.is_some() {
                t.not_run_scenarios += 1;
            }
            for e in &s.exchanges {
                t.exchanges += 1;
                t.violations += e.violations.len();
                for v in &e.violations {
                    if self.is_known(s, e, v) {
                        t.known_violations += 1;
                        continue;
                    }
                    match v.kind() {
                        Kind::Spec => t.spec_violations += 1,
                        Kind::Reference => t.reference_violations += 1,
                    }
                }
                if e.skipped.is_some() {
                    t.skipped += 1;
                } else if e.not_run.is_some() {
                    t.not_run += 1;
                } else if e.violations.is_empty() {
                    t.passed += 1;
                } else {
                    t.failed += 1;
                }
            }
        }
        t
    }

    /// Whether a violation is one the baseline lists.
    pub fn is_known(&self, s: &ScenarioReport, e: &ExchangeReport, v: &Violation) -> bool {
        self.baseline.as_ref().is_some_and(|b| b.is_known(s, e, v))
    }

    /// 0 conformant, 1 a violation of a kind the policy fails on (known ones aside) (or a skip, with
    /// `fail_on_skip`), 2 a scenario could not run (unreachable or dead target, mock start
    /// failure) or the run stopped.
    pub fn exit_code(&self) -> u8 {
        let t = self.totals();
        let failing = (self.policy.fail_on.fails(Kind::Spec) && t.spec_violations > 0)
            || (self.policy.fail_on.fails(Kind::Reference) && t.reference_violations > 0);
        if t.errors > 0 || self.stopped.is_some() {
            2
        } else if failing || (self.policy.fail_on_skip && t.skipped + t.skipped_scenarios > 0) {
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
