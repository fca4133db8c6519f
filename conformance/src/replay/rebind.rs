//! State rebinding: a recorded request reuses values (ids, tokens) that an earlier recorded
//! response returned; on replay those must be the values the live target returned instead.
//!
//! The automatic rule pairs each recorded response with the live one, walks both bodies in
//! step (object keys, array indexes) and learns `recorded → live` for every string leaf that
//! differs and looks like an identifier rather than a word (at least [`MIN_LEN`] characters,
//! no spaces, and a digit or at least 16 characters), plus the `Location` header. Later requests get every learned value
//! replaced: whole path segments, query values, header values and JSON string leaves; and,
//! for values long enough not to occur by chance ([`MIN_SUBSTRING_LEN`]), inside them too
//! (an id inside a URL). Explicit captures (`capture: {name: body:/id}`) fill `{{name}}`
//! placeholders for the cases the automatic rule cannot see.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::recording::Request;

/// Shorter strings are words (`pending`, `dzd`), not identifiers.
pub const MIN_LEN: usize = 6;
/// Values at least this long are also replaced inside longer strings.
pub const MIN_SUBSTRING_LEN: usize = 12;

/// What one scenario has learned so far.
#[derive(Debug, Default, Clone)]
pub struct Bindings {
    /// recorded → live. Later bindings of the same recorded value win.
    learned: BTreeMap<String, String>,
    /// Explicit captures, by name.
    captures: BTreeMap<String, String>,
}

impl Bindings {
    /// Learns from a recorded response and the live one.
    pub fn learn(
        &mut self,
        recorded_body: Option<&Value>,
        recorded_location: Option<&str>,
        live_body: Option<&Value>,
        live_location: Option<&str>,
    ) {
        if let (Some(r), Some(l)) = (recorded_body, live_body) {
            self.walk(r, l);
        }
        if let (Some(r), Some(l)) = (recorded_location, live_location) {
            self.pair(r, l);
            // The last segment of a Location is usually the new resource's id.
            if let (Some(rs), Some(ls)) = (r.rsplit('/').next(), l.rsplit('/').next()) {
                self.pair(rs, ls);
            }
        }
    }

    fn walk(&mut self, recorded: &Value, live: &Value) {
        match (recorded, live) {
            (Value::String(r), Value::String(l)) => self.pair(r, l),
            (Value::Object(r), Value::Object(l)) => {
                for (k, rv) in r {
                    if let Some(lv) = l.get(k) {
                        self.walk(rv, lv);
                    }
                }
            }
            (Value::Array(r), Value::Array(l)) => {
                for (rv, lv) in r.iter().zip(l) {
                    self.walk(rv, lv);
                }
            }
            _ => {}
        }
    }

    fn pair(&mut self, recorded: &str, live: &str) {
        if recorded != live && looks_like_identifier(recorded) {
            self.learned.insert(recorded.to_string(), live.to_string());
        }
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
            .map(|seg| self.rewrite_str(seg))
            .collect::<Vec<_>>()
            .join("/");
        out.query = out.query.as_deref().map(|q| {
            q.split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) => format!("{k}={}", self.rewrite_str(v)),
                    None => self.rewrite_str(pair),
                })
                .collect::<Vec<_>>()
                .join("&")
        });
        for v in out.headers.values_mut() {
            *v = self.rewrite_str(v);
        }
        if let Some(json) = out.body.json.as_mut() {
            self.rewrite_json(json);
        }
        if let Some(text) = out.body.text.as_mut() {
            *text = self.rewrite_str(text);
        }
        out
    }

    fn rewrite_json(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.rewrite_str(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.rewrite_json(x)),
            Value::Object(o) => o.values_mut().for_each(|x| self.rewrite_json(x)),
            _ => {}
        }
    }

    fn rewrite_str(&self, s: &str) -> String {
        let mut out = self.fill_captures(s);
        if let Some(live) = self.learned.get(&out) {
            return live.clone();
        }
        // Longest first, so an id is not replaced inside a longer learned value.
        let mut long: Vec<(&String, &String)> = self
            .learned
            .iter()
            .filter(|(r, _)| r.len() >= MIN_SUBSTRING_LEN && out.contains(r.as_str()))
            .collect();
        long.sort_by_key(|(r, _)| std::cmp::Reverse(r.len()));
        for (r, l) in long {
            out = out.replace(r.as_str(), l);
        }
        out
    }

    fn fill_captures(&self, s: &str) -> String {
        if !s.contains("{{") {
            return s.to_string();
        }
        let mut out = s.to_string();
        for (name, value) in &self.captures {
            out = out.replace(&format!("{{{{{name}}}}}"), value);
        }
        out
    }
}

/// Identifiers have digits (ULIDs, hex tokens, numeric ids) or are long; words that differ
/// between runs (`pending` vs `paid`) are behaviour, not state to rebind.
fn looks_like_identifier(s: &str) -> bool {
    let len = s.chars().count();
    len >= MIN_LEN
        && !s.chars().any(char::is_whitespace)
        && (s.chars().any(|c| c.is_ascii_digit()) || len >= MIN_SUBSTRING_LEN + 4)
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
    use serde_json::json;

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

    #[test]
    fn learns_ids_and_rewrites_every_place() {
        let mut b = Bindings::default();
        b.learn(
            Some(
                &json!({"id": "01hrecordedrecordedrecord1", "status": "pending", "n": 1,
                         "items": [{"price_id": "01hrecordedprice"}]}),
            ),
            None,
            Some(
                &json!({"id": "01hlivelivelivelivelivelv1", "status": "paid", "n": 2,
                         "items": [{"price_id": "01hliveprice0000"}]}),
            ),
            None,
        );
        let r = request(
            "/checkouts/01hrecordedrecordedrecord1/items",
            Some("customer=01hrecordedprice&page=2"),
            json!({"price": "01hrecordedprice", "url": "https://x/01hrecordedrecordedrecord1/pay",
                   "status": "pending"}),
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
        // Short words are not identifiers: "pending" stays although the live status differs.
        assert_eq!(body["status"], "pending");
    }

    #[test]
    fn learns_from_location_headers() {
        let mut b = Bindings::default();
        b.learn(
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
}
