//! List checks that hold on a shared target: one already holding other objects, and used by
//! other scenarios at the same time.
//!
//! A list response is compared with the recorded one through the scenario's own objects only
//! (the live items whose identity is bound to this scenario, see `rebind.rs`); other items are
//! foreign and ignored. What is asserted, for every array of identified items:
//! - each own item shown has the recorded content (the recorded item with bound values
//!   substituted; timestamps and server-made URLs excepted), `list-item-differs`;
//! - own items keep the recorded relative order, `list-order`;
//! - when the live list holds nothing foreign (no unbound item, and `total` as recorded), the
//!   page must show every recorded own item, `list-item-missing`. With foreign objects the
//!   window a page shows moves (objects created before or concurrently, oldest first, push the
//!   scenario's own to later pages), so presence on a given page cannot be required;
//! - `total` and `last_page` are at least the recorded ones (other scenarios only ever delete
//!   their own objects, so this scenario's are still counted), `list-count`;
//! - `per_page` and `current_page` are the recorded ones, a page holds at most `per_page`
//!   items and a page before the last is full, `list-page`.

use serde_json::Value;

use super::normalize::Rules;
use super::outcome::{Rule, Violation};
use super::rebind::{Bindings, identity};

/// Counts that grow with what else the target holds: lower bounds.
const LOWER_BOUNDS: [&str; 2] = ["total", "last_page"];

/// The list findings of one response (same status as recorded, both bodies JSON).
pub fn check(rules: &Rules, bindings: &Bindings, recorded: &Value, live: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut at = String::new();
    walk(rules, bindings, recorded, live, &mut at, &mut out);
    out
}

fn walk(
    rules: &Rules,
    bindings: &Bindings,
    recorded: &Value,
    live: &Value,
    at: &mut String,
    out: &mut Vec<Violation>,
) {
    let (Value::Object(r), Value::Object(l)) = (recorded, live) else {
        return;
    };
    for (k, rv) in r {
        let Some(lv) = l.get(k) else { continue };
        let len = at.len();
        at.push('/');
        at.push_str(&oas::pointer::escape(k));
        match (rv, lv) {
            (Value::Array(ra), Value::Array(la)) if ra.iter().any(|x| identity(x).is_some()) => {
                page(rules, bindings, (r, ra), (l, la), at, out);
            }
            (Value::Object(_), Value::Object(_)) => walk(rules, bindings, rv, lv, at, out),
            _ => {}
        }
        at.truncate(len);
    }
}

/// One array of identified items (`at` points at it) and the object holding it.
fn page(
    rules: &Rules,
    bindings: &Bindings,
    (r_parent, recorded): (&serde_json::Map<String, Value>, &[Value]),
    (l_parent, live): (&serde_json::Map<String, Value>, &[Value]),
    at: &str,
    out: &mut Vec<Violation>,
) {
    let parent = at.rsplit_once('/').map_or("", |(p, _)| p);
    let mut foreign = false;
    // (recorded index, live index) of each own item shown, in live order.
    let mut shown: Vec<(usize, usize)> = Vec::new();
    for (j, item) in live.iter().enumerate() {
        let own = identity(item).and_then(|lid| bindings.recorded_for(lid));
        let Some(rid) = own else {
            foreign = true;
            continue;
        };
        // An own item the recorded page does not show: the window moved.
        let Some(i) = recorded.iter().position(|x| identity(x) == Some(rid)) else {
            continue;
        };
        shown.push((i, j));
        let mut expected = recorded[i].clone();
        bindings.rewrite_json(&mut expected);
        let mut path = format!("{at}/{j}");
        if let Some((e, a)) = first_difference(rules, &expected, item, None, &mut path) {
            out.push(Violation {
                rule: Rule::ListItemDiffers,
                instance_pointer: path,
                schema_pointer: "recording".into(),
                expected: e,
                actual: a,
            });
        }
    }
    for pair in shown.windows(2) {
        let ((i0, j0), (i1, j1)) = (pair[0], pair[1]);
        if i1 < i0 {
            out.push(Violation {
                rule: Rule::ListOrder,
                instance_pointer: format!("{at}/{j1}"),
                schema_pointer: "recording".into(),
                expected: format!(
                    "this scenario's objects in the recorded order: item {i1} of the recording before item {i0}"
                ),
                actual: format!("shown after it (live items {j0} and {j1})"),
            });
        }
    }
    let same_total = l_parent.get("total") == r_parent.get("total");
    if !foreign && same_total {
        for (i, item) in recorded.iter().enumerate() {
            let Some(lid) = identity(item).and_then(|rid| bindings.live_for(rid)) else {
                continue;
            };
            if !shown.iter().any(|(si, _)| *si == i) {
                out.push(Violation {
                    rule: Rule::ListItemMissing,
                    instance_pointer: at.to_string(),
                    schema_pointer: "recording".into(),
                    expected: format!(
                        "`{lid}` (item {i} of the recorded list; the target holds nothing else here)"
                    ),
                    actual: "not listed".into(),
                });
            }
        }
    }
    for key in LOWER_BOUNDS {
        if let (Some(r), Some(l)) = (
            r_parent.get(key).and_then(Value::as_i64),
            l_parent.get(key).and_then(Value::as_i64),
        ) && l < r
        {
            out.push(Violation {
                rule: Rule::ListCount,
                instance_pointer: format!("{parent}/{key}"),
                schema_pointer: "recording".into(),
                expected: format!("at least {r} (this scenario's own objects)"),
                actual: l.to_string(),
            });
        }
    }
    let num = |m: &serde_json::Map<String, Value>, k: &str| m.get(k).and_then(Value::as_i64);
    for key in ["per_page", "current_page"] {
        if let (Some(r), Some(l)) = (num(r_parent, key), num(l_parent, key))
            && r != l
        {
            out.push(Violation {
                rule: Rule::ListPage,
                instance_pointer: format!("{parent}/{key}"),
                schema_pointer: "recording".into(),
                expected: r.to_string(),
                actual: l.to_string(),
            });
        }
    }
    if let Some(per_page) = num(l_parent, "per_page").and_then(|n| usize::try_from(n).ok()) {
        let before_last = matches!(
            (num(l_parent, "current_page"), num(l_parent, "last_page")),
            (Some(c), Some(last)) if c < last
        );
        if live.len() > per_page || (before_last && live.len() != per_page) {
            out.push(Violation {
                rule: Rule::ListPage,
                instance_pointer: at.to_string(),
                schema_pointer: "recording".into(),
                expected: if before_last {
                    format!("{per_page} items (a page before the last is full)")
                } else {
                    format!("at most {per_page} items")
                },
                actual: format!("{} items", live.len()),
            });
        }
    }
}

/// The first place `live` departs from `expected` (timestamps and server-made URLs, which
/// differ between implementations, excepted), with both values as JSON.
fn first_difference(
    rules: &Rules,
    expected: &Value,
    live: &Value,
    key: Option<&str>,
    at: &mut String,
) -> Option<(String, String)> {
    if key.is_some_and(|k| rules.is_timestamp(k) || rules.is_server_url(k)) {
        return None;
    }
    match (expected, live) {
        (Value::Object(e), Value::Object(l)) => {
            for (k, ev) in e {
                let len = at.len();
                at.push('/');
                at.push_str(&oas::pointer::escape(k));
                let found = match l.get(k) {
                    Some(lv) => first_difference(rules, ev, lv, Some(k), at),
                    None => Some((ev.to_string(), "(absent)".into())),
                };
                if found.is_some() {
                    return found;
                }
                at.truncate(len);
            }
            None
        }
        (Value::Array(e), Value::Array(l)) if e.len() == l.len() => {
            for (i, (ev, lv)) in e.iter().zip(l).enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                let found = first_difference(rules, ev, lv, None, at);
                if found.is_some() {
                    return found;
                }
                at.truncate(len);
            }
            None
        }
        (Value::Number(e), Value::Number(l)) if e.as_f64() == l.as_f64() => None,
        (e, l) if e == l => None,
        (e, l) => Some((e.to_string(), l.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::normalize::RulesFile;
    use serde_json::json;

    fn rules() -> Rules {
        let file = RulesFile {
            ids: vec!["id".into()],
            timestamps: vec!["created_at".into()],
            ..RulesFile::default()
        };
        Rules::new(&file, &json!({}))
    }

    fn bound(pairs: &[(&str, &str)]) -> Bindings {
        let mut b = Bindings::default();
        for (r, l) in pairs {
            let c = b.learn(
                &rules(),
                Some(&json!({"id": r})),
                None,
                Some(&json!({"id": l})),
                None,
            );
            assert!(c.is_empty());
        }
        b
    }

    fn rules_of(v: &[Violation]) -> Vec<(&str, &str)> {
        v.iter()
            .map(|v| (v.rule.name(), v.instance_pointer.as_str()))
            .collect()
    }

    fn recorded() -> Value {
        json!({"current_page": 1, "per_page": 2, "last_page": 1, "total": 2, "data": [
            {"id": "rec_a_00001", "name": "A", "created_at": 1},
            {"id": "rec_b_00002", "name": "B", "created_at": 1}
        ]})
    }

    #[test]
    fn foreign_items_and_larger_totals_pass() {
        let b = bound(&[
            ("rec_a_00001", "live_a_0001"),
            ("rec_b_00002", "live_b_0002"),
        ]);
        let live = json!({"current_page": 1, "per_page": 2, "last_page": 5003, "total": 10006,
            "data": [{"id": "live_a_0001", "name": "A", "created_at": 9},
                     {"id": "foreign_0001", "name": "Z", "created_at": 9}]});
        assert_eq!(rules_of(&check(&rules(), &b, &recorded(), &live)), vec![]);
        // Only foreign items on the page (ours are on a later page): nothing to hold against it.
        let live = json!({"current_page": 1, "per_page": 2, "last_page": 5003, "total": 10006,
            "data": [{"id": "foreign_0002"}, {"id": "foreign_0001"}]});
        assert_eq!(rules_of(&check(&rules(), &b, &recorded(), &live)), vec![]);
    }

    #[test]
    fn own_items_are_held_to_content_order_presence_and_counts() {
        let b = bound(&[
            ("rec_a_00001", "live_a_0001"),
            ("rec_b_00002", "live_b_0002"),
        ]);
        let live = json!({"current_page": 1, "per_page": 2, "last_page": 2, "total": 3,
            "data": [{"id": "live_b_0002", "name": "B", "created_at": 9},
                     {"id": "live_a_0001", "name": "not A", "created_at": 9}]});
        assert_eq!(
            rules_of(&check(&rules(), &b, &recorded(), &live)),
            vec![
                ("list-item-differs", "/data/1/name"),
                ("list-order", "/data/1")
            ]
        );
        // Nothing foreign and the recorded total: every recorded item must be listed.
        let live = json!({"current_page": 1, "per_page": 2, "last_page": 1, "total": 2,
            "data": [{"id": "live_a_0001", "name": "A", "created_at": 9}]});
        assert_eq!(
            rules_of(&check(&rules(), &b, &recorded(), &live)),
            vec![("list-item-missing", "/data")]
        );
        let live = json!({"current_page": 2, "per_page": 3, "last_page": 0, "total": 1,
            "data": [{"id": "live_a_0001", "name": "A", "created_at": 9}]});
        assert_eq!(
            rules_of(&check(&rules(), &b, &recorded(), &live)),
            vec![
                ("list-count", "/total"),
                ("list-count", "/last_page"),
                ("list-page", "/per_page"),
                ("list-page", "/current_page"),
            ]
        );
        // A page before the last must be full.
        let live = json!({"current_page": 1, "per_page": 2, "last_page": 3, "total": 6,
            "data": [{"id": "live_a_0001", "name": "A", "created_at": 9}]});
        assert_eq!(
            rules_of(&check(&rules(), &b, &recorded(), &live)),
            vec![("list-page", "/data")]
        );
    }
}
