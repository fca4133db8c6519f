//! State rebinding: a recorded request reuses values (ids, tokens) that an earlier recorded
//! response returned; on replay those must be the values the live target returned instead.
//!
//! Identity, not position. Each recorded response is walked in step with the live one (object
//! keys); the value of an identifier property (the normalization rules' `ids`: `id`, `*_id`,
//! `token`, …) is bound `recorded → live` once, by the response that introduced it, plus the
//! last segment of a `Location` header. A later response that shows the same recorded value
//! with another live value (or another recorded value with the same live value) does not
//! rebind it: it is a [`Conflict`], reported with both values. In arrays whose items carry an
//! identity (`id` or `token`), a recorded item is paired with the live item carrying its
//! already-bound live identity, wherever it is; live items bound to nothing in this scenario
//! are someone else's (a shared target holds other data) and are ignored, and an item whose
//! recorded identity is not bound yet is not paired at all (a list never introduces an id).
//! Arrays of items without identity are walked by position (they belong to one object).
//!
//! Later requests get every bound value replaced: whole path segments, query values, header
//! values and JSON string leaves; and, for values long enough not to occur by chance
//! ([`MIN_SUBSTRING_LEN`]), inside them too (an id inside a URL). Values put into a path or a
//! query are percent-encoded, so an id holding ` `, `/`, `?`, `#` or `%` still addresses that
//! id. Explicit captures (`capture: {name: body:/id}`) fill `{{name}}` placeholders for the
//! cases the automatic rule cannot see.

use std::collections::BTreeMap;

use serde_json::Value;

use super::normalize::Rules;

use crate::recording::Request;

/// Shorter strings are words (`pending`, `dzd`), not identifiers.
pub const MIN_LEN: usize = 6;
/// Values at least this long are also replaced inside longer strings.
pub const MIN_SUBSTRING_LEN: usize = 12;

/// The properties that name an item of a list.
const IDENTITY_KEYS: [&str; 2] = ["id", "token"];

/// What one scenario has learned so far.
#[derive(Debug, Default, Clone)]
pub struct Bindings {
    /// recorded → live, each bound once.
    learned: BTreeMap<String, String>,
    /// live → recorded: which live values belong to this scenario.
    owned: BTreeMap<String, String>,
    /// Explicit captures, by name.
    captures: BTreeMap<String, String>,
}

/// A live response that contradicts an earlier binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Where in the live response (a JSON pointer, or `header:location`).
    pub pointer: String,
    /// The recorded value at that place.
    pub recorded: String,
    /// What the live target showed there.
    pub observed: String,
    /// What it showed before: the live value already bound to `recorded`, or, when `observed`
    /// is already bound, the other recorded value it is bound to.
    pub earlier: Earlier,
}

/// The earlier observation a [`Conflict`] contradicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Earlier {
    /// `recorded` was bound to this live value.
    Live(String),
    /// `observed` was bound to this other recorded value.
    Recorded(String),
}

impl Conflict {
    /// Expected and actual, for a violation.
    pub fn describe(&self) -> (String, String) {
        match &self.earlier {
            Earlier::Live(live) => (
                format!(
                    "`{live}`: the live value bound to the recorded `{}` by an earlier response",
                    self.recorded
                ),
                format!("`{}`", self.observed),
            ),
            Earlier::Recorded(other) => (
                format!(
                    "a live value of its own for the recorded `{}` (`{}` is already bound to the recorded `{other}`)",
                    self.recorded, self.observed
                ),
                format!("`{}`", self.observed),
            ),
        }
    }
}

/// The identity of a list item: its `id` or `token`, when a string.
pub fn identity(item: &Value) -> Option<&str> {
    let obj = item.as_object()?;
    IDENTITY_KEYS
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str))
}

/// Where a rewritten value goes: what must be percent-encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    PathSegment,
    QueryValue,
    Verbatim,
}

impl Bindings {
    /// Learns from a recorded response and the live one; returns the observations that
    /// contradict earlier bindings (nothing is rebound).
    pub fn learn(
        &mut self,
        rules: &Rules,
        recorded_body: Option<&Value>,
        recorded_location: Option<&str>,
        live_body: Option<&Value>,
        live_location: Option<&str>,
    ) -> Vec<Conflict> {
        let mut conflicts = Vec::new();
        if let (Some(r), Some(l)) = (recorded_body, live_body) {
            let mut at = String::new();
            self.walk(rules, r, l, None, &mut at, &mut conflicts);
        }
        if let (Some(r), Some(l)) = (recorded_location, live_location) {
            // The last segment of a Location is the new resource's id.
            if let (Some(rs), Some(ls)) = (r.rsplit('/').next(), l.rsplit('/').next())
                && !rs.is_empty()
                && !ls.is_empty()
            {
                self.bind(
                    &oas::url::decode_form(rs),
                    &oas::url::decode_form(ls),
                    "header:location",
                    &mut conflicts,
                );
            }
        }
        conflicts
    }

    fn walk(
        &mut self,
        rules: &Rules,
        recorded: &Value,
        live: &Value,
        key: Option<&str>,
        at: &mut String,
        conflicts: &mut Vec<Conflict>,
    ) {
        match (recorded, live) {
            (Value::String(r), Value::String(l))
                if key.is_some_and(|k| rules.is_id(k)) && !r.is_empty() && !l.is_empty() =>
            {
                self.bind(r, l, at, conflicts);
            }
            (Value::Object(r), Value::Object(l)) => {
                for (k, rv) in r {
                    if let Some(lv) = l.get(k) {
                        let len = at.len();
                        at.push('/');
                        at.push_str(&oas::pointer::escape(k));
                        self.walk(rules, rv, lv, Some(k), at, conflicts);
                        at.truncate(len);
                    }
                }
            }
            (Value::Array(r), Value::Array(l)) => {
                for (i, rv) in r.iter().enumerate() {
                    let j = match identity(rv) {
                        // Paired by identity: the live item carrying the bound live id.
                        Some(rid) => match self.learned.get(rid) {
                            Some(lid) => l.iter().position(|lv| identity(lv) == Some(lid)),
                            None => None,
                        },
                        None => (i < l.len()).then_some(i),
                    };
                    if let Some(j) = j {
                        let len = at.len();
                        at.push_str(&format!("/{j}"));
                        self.walk(rules, rv, &l[j], None, at, conflicts);
                        at.truncate(len);
                    }
                }
            }
            _ => {}
        }
    }

    /// Binds `recorded → live` unless either is bound already; a different earlier binding
    /// is a conflict, never overwritten.
    fn bind(&mut self, recorded: &str, live: &str, at: &str, conflicts: &mut Vec<Conflict>) {
        if let Some(bound) = self.learned.get(recorded) {
            if bound != live {
                conflicts.push(Conflict {
                    pointer: at.to_string(),
                    recorded: recorded.to_string(),
                    observed: live.to_string(),
                    earlier: Earlier::Live(bound.clone()),
                });
            }
            return;
        }
        if let Some(other) = self.owned.get(live) {
            conflicts.push(Conflict {
                pointer: at.to_string(),
                recorded: recorded.to_string(),
                observed: live.to_string(),
                earlier: Earlier::Recorded(other.clone()),
            });
            return;
        }
        self.learned.insert(recorded.to_string(), live.to_string());
        self.owned.insert(live.to_string(), recorded.to_string());
    }

    /// The live value bound to a recorded one.
    pub fn live_for(&self, recorded: &str) -> Option<&str> {
        self.learned.get(recorded).map(String::as_str)
    }

    /// The recorded value a live one is bound to: `Some` for this scenario's own objects.
    pub fn recorded_for(&self, live: &str) -> Option<&str> {
        self.owned.get(live).map(String::as_str)
    }

    /// Records an explicit capture.
    pub fn capture(&mut self, name: &str, value: String) {
        self.captures.insert(name.to_string(), value);
    }

    /// Whether an explicit capture named `name` has a value.
    pub fn has_capture(&self, name: &str) -> bool {
        self.captures.contains_key(name)
    }

    /// The request as it must be sent to the live target.
    pub fn apply(&self, request: &Request) -> Request {
        let mut out = request.clone();
        out.path = out
            .path
            .split('/')
            .map(|seg| self.rewrite_str(seg, Place::PathSegment))
            .collect::<Vec<_>>()
            .join("/");
        out.query = out.query.as_deref().map(|q| {
            q.split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) => format!("{k}={}", self.rewrite_str(v, Place::QueryValue)),
                    None => self.rewrite_str(pair, Place::QueryValue),
                })
                .collect::<Vec<_>>()
                .join("&")
        });
        for v in out.headers.values_mut() {
            *v = self.rewrite_str(v, Place::Verbatim);
        }
        if let Some(json) = out.body.json.as_mut() {
            self.rewrite_json(json);
        }
        if let Some(text) = out.body.text.as_mut() {
            *text = self.rewrite_str(text, Place::Verbatim);
        }
        out
    }

    /// Replaces bound recorded values in every string of `v` (JSON: nothing to encode).
    pub fn rewrite_json(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.rewrite_str(s, Place::Verbatim),
            Value::Array(a) => a.iter_mut().for_each(|x| self.rewrite_json(x)),
            Value::Object(o) => o.values_mut().for_each(|x| self.rewrite_json(x)),
            _ => {}
        }
    }

    fn rewrite_str(&self, s: &str, place: Place) -> String {
        let encode = |live: &str| -> String {
            match place {
                Place::Verbatim => live.to_string(),
                Place::PathSegment | Place::QueryValue => oas::url::encode_component(live),
            }
        };
        let mut out = self.fill_captures(s, &encode);
        if let Some(live) = self.learned.get(&out) {
            return encode(live);
        }
        // A recorded path or query holds the recorded value percent-encoded.
        if place != Place::Verbatim && out.contains('%') {
            let decoded = oas::url::decode_form(&out);
            if let Some(live) = self.learned.get(&decoded) {
                return encode(live);
            }
        }
        // Longest first, so an id is not replaced inside a longer learned value.
        let mut long: Vec<(&String, &String)> = self
            .learned
            .iter()
            .filter(|(r, l)| r.len() >= MIN_SUBSTRING_LEN && r != l && out.contains(r.as_str()))
            .collect();
        long.sort_by_key(|(r, _)| std::cmp::Reverse(r.len()));
        for (r, l) in long {
            out = out.replace(r.as_str(), &encode(l));
        }
        out
    }

    fn fill_captures(&self, s: &str, encode: &dyn Fn(&str) -> String) -> String {
        if !s.contains("{{") {
            return s.to_string();
        }
        let mut out = s.to_string();
        for (name, value) in &self.captures {
            out = out.replace(&format!("{{{{{name}}}}}"), &encode(value));
        }
        out
    }
}

/// The `{{name}}` placeholders in `text`.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if !name.is_empty() && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
        rest = &after[end + 2..];
    }
    out
}

/// Every placeholder a request uses.
pub fn request_placeholders(request: &Request) -> Vec<String> {
    let mut text = request.path.clone();
    if let Some(q) = &request.query {
        text.push_str(q);
    }
    for v in request.headers.values() {
        text.push_str(v);
    }
    if let Some(j) = &request.body.json {
        text.push_str(&j.to_string());
    }
    if let Some(t) = &request.body.text {
        text.push_str(t);
    }
    placeholders(&text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::recording::Body;
    use crate::replay::normalize::RulesFile;
    use serde_json::json;

    fn rules() -> Rules {
        let file = RulesFile {
            ids: ["id", "token", "price_id", "customer_id"]
                .map(String::from)
                .to_vec(),
            ..RulesFile::default()
        };
        Rules::new(&file, &json!({}))
    }

    fn request(path: &str, query: Option<&str>, body: Value) -> Request {
        Request {
            method: "POST".into(),
            path: path.into(),
            query: query.map(Into::into),
            headers: BTreeMap::new(),
            body: Body::json(body),
            auth: Default::default(),
            to: Default::default(),
        }
    }

    fn learn(b: &mut Bindings, recorded: Value, live: Value) -> Vec<Conflict> {
        b.learn(&rules(), Some(&recorded), None, Some(&live), None)
    }

    #[test]
    fn learns_ids_and_rewrites_every_place() {
        let mut b = Bindings::default();
        let conflicts = learn(
            &mut b,
            json!({"id": "01hrecordedrecordedrecord1", "status": "pending", "n": 1,
                   "created_at": "2023-12-21T07:42:47Z",
                   "items": [{"price_id": "01hrecordedprice"}]}),
            json!({"id": "01hlivelivelivelivelivelv1", "status": "paid", "n": 2,
                   "created_at": "2026-01-01T00:00:00Z",
                   "items": [{"price_id": "01hliveprice0000"}]}),
        );
        assert_eq!(conflicts, vec![]);
        let r = request(
            "/checkouts/01hrecordedrecordedrecord1/items",
            Some("customer=01hrecordedprice&page=2"),
            json!({"price": "01hrecordedprice", "url": "https://x/01hrecordedrecordedrecord1/pay",
                   "status": "pending", "at": "2023-12-21T07:42:47Z"}),
        );
        let live = b.apply(&r);
        assert_eq!(live.path, "/checkouts/01hlivelivelivelivelivelv1/items");
        assert_eq!(
            live.query.as_deref(),
            Some("customer=01hliveprice0000&page=2")
        );
        let body = live.body.json.unwrap();
        assert_eq!(body["price"], "01hliveprice0000");
        assert_eq!(body["url"], "https://x/01hlivelivelivelivelivelv1/pay");
        // Only identifier properties are bound: a status or a timestamp is behaviour.
        assert_eq!(body["status"], "pending");
        assert_eq!(body["at"], "2023-12-21T07:42:47Z");
    }

    #[test]
    fn learns_from_location_headers() {
        let mut b = Bindings::default();
        b.learn(
            &rules(),
            None,
            Some("https://a.example/checkouts/rec0000000000000001"),
            None,
            Some("http://127.0.0.1:9/checkouts/live0000000000000001"),
        );
        let live = b.apply(&request("/checkouts/rec0000000000000001", None, json!({})));
        assert_eq!(live.path, "/checkouts/live0000000000000001");
    }

    #[test]
    fn captures_fill_placeholders() {
        let mut b = Bindings::default();
        let r = request("/checkouts/{{co}}", None, json!({"x": "id={{co}}"}));
        assert_eq!(request_placeholders(&r), vec!["co".to_string()]);
        assert!(!b.has_capture("co"));
        b.capture("co", "abc".into());
        let live = b.apply(&r);
        assert_eq!(live.path, "/checkouts/abc");
        assert_eq!(live.body.json.unwrap()["x"], "id=abc");
    }

    /// The failure this design exists for: a list on a store holding other products, with a
    /// foreign product first. Zipping by position would bind the recorded product to it.
    #[test]
    fn lists_pair_by_identity_never_by_position() {
        let mut b = Bindings::default();
        learn(
            &mut b,
            json!({"id": "prod_recorded_0001", "name": "Mine"}),
            json!({"id": "prod_live_mine_01", "name": "Mine"}),
        );
        let conflicts = learn(
            &mut b,
            json!({"data": [{"id": "prod_recorded_0001", "name": "Mine"}], "total": 1}),
            json!({"data": [
                {"id": "prod_foreign_0001", "name": "Someone else's"},
                {"id": "prod_foreign_0002", "name": "Another"},
                {"id": "prod_live_mine_01", "name": "Mine"}
            ], "total": 3}),
        );
        assert_eq!(conflicts, vec![]);
        assert_eq!(b.live_for("prod_recorded_0001"), Some("prod_live_mine_01"));
        let live = b.apply(&request("/products/prod_recorded_0001", None, json!({})));
        assert_eq!(live.path, "/products/prod_live_mine_01");
    }

    #[test]
    fn foreign_items_are_ignored_and_never_bound() {
        let mut b = Bindings::default();
        // The recorded list item was never introduced to this scenario: nothing is paired.
        let conflicts = learn(
            &mut b,
            json!({"data": [{"id": "prod_recorded_0009", "price_id": "price_rec_00009"}]}),
            json!({"data": [{"id": "prod_foreign_0001", "price_id": "price_foreign_01"}]}),
        );
        assert_eq!(conflicts, vec![]);
        assert_eq!(b.live_for("prod_recorded_0009"), None);
        assert_eq!(b.live_for("price_rec_00009"), None);
        assert_eq!(b.recorded_for("prod_foreign_0001"), None);
        // And the request keeps the recorded value rather than addressing a foreign object.
        let live = b.apply(&request("/products/prod_recorded_0009", None, json!({})));
        assert_eq!(live.path, "/products/prod_recorded_0009");
    }

    #[test]
    fn a_later_contradiction_is_a_conflict_with_both_values_and_does_not_rebind() {
        let mut b = Bindings::default();
        learn(
            &mut b,
            json!({"id": "chk_recorded_0001", "customer_id": "cus_recorded_001"}),
            json!({"id": "chk_live_first_01", "customer_id": "cus_live_first_1"}),
        );
        let conflicts = learn(
            &mut b,
            json!({"id": "chk_recorded_0001", "customer_id": "cus_recorded_001"}),
            json!({"id": "chk_live_first_01", "customer_id": "cus_live_other_2"}),
        );
        assert_eq!(
            conflicts,
            vec![Conflict {
                pointer: "/customer_id".into(),
                recorded: "cus_recorded_001".into(),
                observed: "cus_live_other_2".into(),
                earlier: Earlier::Live("cus_live_first_1".into()),
            }]
        );
        let (expected, actual) = conflicts[0].describe();
        assert!(expected.contains("cus_live_first_1") && expected.contains("cus_recorded_001"));
        assert!(actual.contains("cus_live_other_2"));
        // The first binding stands.
        assert_eq!(b.live_for("cus_recorded_001"), Some("cus_live_first_1"));

        // Two recorded ids answered with one live id: also a conflict, naming both.
        let conflicts = learn(
            &mut b,
            json!({"id": "chk_recorded_0002"}),
            json!({"id": "chk_live_first_01"}),
        );
        assert_eq!(
            conflicts[0].earlier,
            Earlier::Recorded("chk_recorded_0001".into())
        );
        assert_eq!(b.live_for("chk_recorded_0002"), None);
    }

    #[test]
    fn values_are_percent_encoded_in_paths_and_queries_only() {
        let mut b = Bindings::default();
        let weird = "a b/c?d#e%f&g=h";
        learn(
            &mut b,
            json!({"id": "01hrecordedweird0001"}),
            json!({"id": weird}),
        );
        b.capture("co", weird.into());
        let live = b.apply(&request(
            "/customers/01hrecordedweird0001/x/{{co}}",
            Some("customer=01hrecordedweird0001&c={{co}}"),
            json!({"customer_id": "01hrecordedweird0001", "note": "{{co}}"}),
        ));
        let enc = "a%20b%2Fc%3Fd%23e%25f%26g%3Dh";
        assert_eq!(live.path, format!("/customers/{enc}/x/{enc}"));
        assert_eq!(live.query.unwrap(), format!("customer={enc}&c={enc}"));
        let body = live.body.json.unwrap();
        assert_eq!(body["customer_id"], weird);
        assert_eq!(body["note"], weird);
        // A recorded path holding the recorded value encoded is recognised too.
        let mut b = Bindings::default();
        learn(
            &mut b,
            json!({"id": "rec id/1"}),
            json!({"id": "live id/2"}),
        );
        let live = b.apply(&request("/customers/rec%20id%2F1", None, json!({})));
        assert_eq!(live.path, "/customers/live%20id%2F2");
    }
}
