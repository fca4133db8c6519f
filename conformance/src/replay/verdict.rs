//! The checks of one live response: the spec's rules (`oas::check`), the reference behaviour
//! (the recorded status), and the generated types (a body the spec accepts must decode).

use oas::check::{Profile, ResponseFinding, ResponseParts, ResponseRule, Spec};
use serde_json::Value;

use super::client::Received;
use super::outcome::{Rule, Violation};
use crate::specs::Api;

impl From<ResponseFinding> for Violation {
    fn from(f: ResponseFinding) -> Self {
        Violation {
            rule: f.rule.into(),
            instance_pointer: f.instance_pointer,
            schema_pointer: f.schema_pointer,
            expected: f.expected,
            actual: f.actual,
        }
    }
}

/// Checks a live response to operation `index` (an index into `spec.operations()`).
pub fn check(
    api: Api,
    spec: &Spec,
    index: usize,
    received: &Received,
    live_json: Option<&Value>,
    recorded_status: u16,
    profile: Profile,
) -> Vec<Violation> {
    let parts = ResponseParts {
        status: received.status,
        headers: &received.headers,
        body: &received.body,
    };
    let findings = spec.check_response_parsed(index, parts, live_json, profile);
    let body_clean = !findings.iter().any(|f| {
        matches!(
            f.rule,
            ResponseRule::UndocumentedStatus
                | ResponseRule::ContentType
                | ResponseRule::MalformedJson
                | ResponseRule::Schema
                | ResponseRule::UnexpectedBody
        )
    });
    let mut out: Vec<Violation> = findings.into_iter().map(Violation::from).collect();
    if received.status != recorded_status {
        out.push(status_differs(recorded_status, received.status));
    }
    if body_clean
        && let Some(op) = spec.operations().get(index)
        && let Some(v) = generated_mismatch(api, &op.id, received, live_json)
    {
        out.push(v);
    }
    out
}

pub fn status_differs(recorded: u16, live: u16) -> Violation {
    Violation {
        rule: Rule::StatusDiffers,
        instance_pointer: "status".into(),
        schema_pointer: "recording".into(),
        expected: recorded.to_string(),
        actual: live.to_string(),
    }
}

/// A body the spec accepts but the generated type rejects, or re-encodes differently.
fn generated_mismatch(
    api: Api,
    operation: &str,
    received: &Received,
    live_json: Option<&Value>,
) -> Option<Violation> {
    let content_type = received.header("content-type");
    let decoded = match api {
        Api::Chargily => generated::chargily::operations::round_trip_response(
            operation,
            received.status,
            content_type,
            &received.body,
        )
        .map(|r| r.map_err(|e| (e.path, e.message))),
        Api::Recharge => generated::recharge::operations::round_trip_response(
            operation,
            received.status,
            content_type,
            &received.body,
        )
        .map(|r| r.map_err(|e| (e.path, e.message))),
    }?;
    let type_name = format!(
        "generated::{}::operations::{operation}::Response",
        api.name()
    );
    match decoded {
        Err((path, message)) => Some(Violation {
            rule: Rule::GeneratedType,
            instance_pointer: serde_path_to_pointer(&path),
            schema_pointer: type_name,
            expected: "a body that decodes (it validates against the spec)".into(),
            actual: message,
        }),
        Ok(Some(encoded)) => {
            let original = live_json?;
            let mut at = String::new();
            if subset(&encoded, original, &mut at) {
                None
            } else {
                Some(Violation {
                    rule: Rule::GeneratedType,
                    instance_pointer: at,
                    schema_pointer: type_name,
                    expected: "the same value after decoding and encoding".into(),
                    actual: "a different value".into(),
                })
            }
        }
        Ok(None) => None,
    }
}

/// Whether everything `encoded` holds is in `original` with the same value (numbers by value;
/// `original` may hold more: undeclared properties the type does not keep). On failure `at`
/// is the pointer of the first difference. Nothing is allocated unless they differ: this runs
/// on every body.
fn subset(encoded: &Value, original: &Value, at: &mut String) -> bool {
    let mut path: Vec<Step<'_>> = Vec::new();
    let same = subset_at(encoded, original, &mut path);
    if !same {
        at.clear();
        for step in path.iter().rev() {
            match step {
                Step::Key(k) => oas::pointer::push_token(at, k),
                Step::Index(i) => {
                    at.push('/');
                    at.push_str(&i.to_string());
                }
            }
        }
    }
    same
}

enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// On failure `path` holds the steps to the difference, innermost first.
fn subset_at<'a>(encoded: &'a Value, original: &Value, path: &mut Vec<Step<'a>>) -> bool {
    match (encoded, original) {
        (Value::Object(e), Value::Object(o)) => e.iter().all(|(k, ev)| {
            let ok = o.get(k).is_some_and(|ov| subset_at(ev, ov, path));
            if !ok {
                path.push(Step::Key(k));
            }
            ok
        }),
        (Value::Array(e), Value::Array(o)) => {
            e.len() == o.len()
                && e.iter().zip(o).enumerate().all(|(i, (ev, ov))| {
                    let ok = subset_at(ev, ov, path);
                    if !ok {
                        path.push(Step::Index(i));
                    }
                    ok
                })
        }
        (Value::Number(e), Value::Number(o)) => e == o || e.as_f64() == o.as_f64(),
        (e, o) => e == o,
    }
}

/// serde_path_to_error's `data[0].amount` (or `.` for the root) as `/data/0/amount`.
fn serde_path_to_pointer(path: &str) -> String {
    if path == "." {
        return String::new();
    }
    let mut out = String::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push('/');
                out.push_str(&rest[..i]);
            }
            rest = &rest[i..];
            while let Some(end) = rest.find(']') {
                out.push('/');
                out.push_str(&rest[1..end]);
                rest = &rest[end + 1..];
            }
        } else if !rest.is_empty() {
            out.push('/');
            out.push_str(rest);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A stateless server that keeps the spec (Prism) breaks only rules of the reference
    /// kind; `--fail-on spec` lets it through. Each rule is one kind or the other on purpose.
    #[test]
    fn every_rule_has_its_kind() {
        use super::super::outcome::Kind;
        let reference = [
            "status-differs",
            "body-differs",
            "missing-capture",
            "exchange-budget",
            "rebinding-conflict",
            "list-item-differs",
            "list-order",
            "list-item-missing",
            "list-count",
            "list-page",
            "balance-change",
        ];
        for rule in Rule::all() {
            let want = if reference.contains(&rule.name()) {
                Kind::Reference
            } else {
                Kind::Spec
            };
            assert_eq!(rule.kind(), want, "{rule}");
            assert!(!rule.description().is_empty());
        }
        for name in reference {
            assert!(Rule::all().any(|r| r.name() == name), "{name} is a rule");
        }
        // Every response rule of `oas::check` is one of replay's, and no two rules (the
        // spec's and replay's own) share a name.
        assert_eq!(
            Rule::all()
                .filter(|r| matches!(r, Rule::Response(_)))
                .count(),
            oas::check::ResponseRule::ALL.len()
        );
        let mut names: Vec<&str> = Rule::all().map(Rule::name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        assert_eq!(count, 25);
    }

    #[test]
    fn paths_become_pointers() {
        assert_eq!(serde_path_to_pointer("."), "");
        assert_eq!(serde_path_to_pointer("data[0].amount"), "/data/0/amount");
        assert_eq!(serde_path_to_pointer("a.b"), "/a/b");
        assert_eq!(serde_path_to_pointer("[2]"), "/2");
    }

    #[test]
    fn subset_finds_first_difference() {
        let mut at = String::new();
        assert!(subset(
            &json!({"a": 1.0}),
            &json!({"a": 1, "b": 2}),
            &mut at
        ));
        assert!(!subset(
            &json!({"a": [1, 2]}),
            &json!({"a": [1, 3]}),
            &mut at
        ));
        assert_eq!(at, "/a/1");
    }
}
