//! Normalization: what legitimately varies between implementations and runs (ids, tokens,
//! timestamps, the target's URL) is replaced by stable placeholders, so normalized responses
//! of two implementations compare equal exactly when they behave alike.
//!
//! Identifiers become `[id-N]`, numbered by first appearance within the scenario, so a
//! snapshot still shows that the id a list returns is the one created two exchanges earlier.
//! Timestamps become `[timestamp]` (null stays null: that difference matters), the target's
//! API base URL becomes `{base}` and its origin `{origin}` wherever they occur; URLs the server
//! makes (the rules file's `urls`, e.g. `checkout_url`) become `[url]` unless under `{base}`.
//! URLs the client chose (`success_url`) are kept, ids inside them labelled. Which fields are
//! which comes from the spec (properties named `id`, `*_id`, `token`, `*_token`;
//! `format: date-time`) plus the per-API rules file `conformance/recordings/<api>/normalize.yaml`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;

use crate::specs::Api;

/// The per-API rules file, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    /// Property names whose values are identifiers.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Property names whose values are timestamps (strings or Unix seconds).
    #[serde(default)]
    pub timestamps: Vec<String>,
    /// Property names whose values are URLs the server makes (so they differ between
    /// implementations): `[url]` unless under the API's base URL.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Response headers kept in snapshots (lower case); the rest vary (`Date`) or say nothing
    /// about the API.
    #[serde(default)]
    pub headers: Vec<String>,
    /// Property names the spec would call identifiers but whose values the client chose (an
    /// implementation must echo them verbatim), so they are never labelled.
    #[serde(default)]
    pub keep: Vec<String>,
}

/// The rules for one API: the file's plus what the spec says.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    ids: BTreeSet<String>,
    timestamps: BTreeSet<String>,
    urls: BTreeSet<String>,
    pub headers: Vec<String>,
}

/// The embedded rules file of an API.
pub fn rules_text(api: Api) -> &'static str {
    match api {
        Api::Chargily => include_str!("../../recordings/chargily/normalize.yaml"),
        Api::Recharge => include_str!("../../recordings/recharge/normalize.yaml"),
    }
}

impl Rules {
    /// The API's rules: its embedded rules file plus what its spec says.
    pub fn for_api(api: Api, spec_root: &Value) -> Result<Self, String> {
        let file = format!("conformance/recordings/{}/normalize.yaml", api_folder(api));
        Self::from_text(&file, rules_text(api), spec_root)
    }

    /// The rules of a rules file's text (`file` names it in the error) plus what the spec
    /// says.
    pub fn from_text(file: &str, text: &str, spec_root: &Value) -> Result<Self, String> {
        let parsed: RulesFile = serde_yaml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        Ok(Self::new(&parsed, spec_root))
    }

    pub fn new(file: &RulesFile, spec_root: &Value) -> Self {
        let mut rules = Self {
            ids: file.ids.iter().cloned().collect(),
            timestamps: file.timestamps.iter().cloned().collect(),
            urls: file.urls.iter().cloned().collect(),
            headers: file
                .headers
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
        };
        rules.learn_from_spec(spec_root);
        for k in &file.keep {
            rules.ids.remove(k);
        }
        rules
    }

    fn learn_from_spec(&mut self, root: &Value) {
        oas::walk::properties(root, |name, schema| {
            if is_id_name(name) {
                self.ids.insert(name.to_owned());
            }
            // `format: uri` alone says nothing about who chose the URL: a merchant's
            // `success_url` must come back verbatim, so only the rules file names server-made
            // URLs.
            let format = schema.get("format").and_then(Value::as_str);
            if matches!(format, Some("date-time" | "date")) {
                self.timestamps.insert(name.to_owned());
            }
        });
    }

    /// Whether values of the property `key` are identifiers.
    pub fn is_id(&self, key: &str) -> bool {
        self.ids.contains(key)
    }

    /// Whether values of the property `key` are timestamps.
    pub fn is_timestamp(&self, key: &str) -> bool {
        self.timestamps.contains(key)
    }

    /// Whether values of the property `key` are URLs the server makes.
    pub fn is_server_url(&self, key: &str) -> bool {
        self.urls.contains(key)
    }
}

fn is_id_name(name: &str) -> bool {
    name == "id" || name == "token" || name.ends_with("_id") || name.ends_with("_token")
}

/// The folder name of an API's recordings.
pub fn api_folder(api: Api) -> &'static str {
    match api {
        Api::Chargily => "chargily",
        Api::Recharge => "recharge",
    }
}

/// Normalizes the responses of one scenario (id labels are shared across its exchanges).
#[derive(Debug, Clone)]
pub struct Normalizer<'r> {
    rules: &'r Rules,
    base: String,
    origin: String,
    /// Both URLs hold a colon, so a string without one holds neither (most strings).
    colon_gate: bool,
    labels: BTreeMap<String, String>,
}

impl<'r> Normalizer<'r> {
    /// `base` is the API's base URL at the target, `origin` its scheme and authority.
    pub fn new(rules: &'r Rules, base: &str, origin: &str) -> Self {
        let base = base.trim_end_matches('/').to_string();
        let origin = origin.trim_end_matches('/').to_string();
        Self {
            rules,
            colon_gate: [&base, &origin]
                .iter()
                .all(|u| u.is_empty() || u.contains(':')),
            base,
            origin,
            labels: BTreeMap::new(),
        }
    }

    /// Registers the identifiers of a body (so they are labelled everywhere, including in
    /// later request paths), then returns the normalized body.
    pub fn body(&mut self, v: &Value) -> Value {
        self.body_owned(v.clone())
    }

    /// [`Self::body`] of a body the caller gives up: rewritten in place, so what needs no
    /// placeholder is neither copied nor reallocated.
    pub fn body_owned(&mut self, mut v: Value) -> Value {
        self.collect_ids(&v, None);
        self.rewrite(&mut v, None);
        v
    }

    /// Normalizes free text: a path, a header value, a message.
    pub fn text(&self, s: &str) -> String {
        self.text_cow(s).into_owned()
    }

    /// [`Self::text`], borrowing when nothing changes (most strings of a body).
    fn text_cow<'s>(&self, s: &'s str) -> Cow<'s, str> {
        let mut out = Cow::Borrowed(s);
        if !self.colon_gate || s.as_bytes().contains(&b':') {
            if !self.base.is_empty() && out.contains(self.base.as_str()) {
                out = Cow::Owned(out.replace(&self.base, "{base}"));
            }
            if !self.origin.is_empty() && out.contains(self.origin.as_str()) {
                out = Cow::Owned(out.replace(&self.origin, "{origin}"));
            }
        }
        if self.labels.is_empty() {
            return out;
        }
        // In free text only identifier-like values are replaced: an id field holding `0`
        // must not turn every `0` in a message into a label.
        if out.len() >= super::rebind::MIN_LEN
            && let Some(label) = self.labels.get(out.as_ref())
        {
            return Cow::Owned(label.clone());
        }
        // Path segments and query values that are whole ids.
        let whole_id = |part: &str| {
            let (core, _) = split_trailing_sep(part);
            core.len() >= super::rebind::MIN_LEN && self.labels.contains_key(core)
        };
        if out.contains(['/', '=']) && out.split_inclusive(['/', '=', '&', '?']).any(whole_id) {
            let replaced: String = out
                .split_inclusive(['/', '=', '&', '?'])
                .map(|part| {
                    let (core, sep) = split_trailing_sep(part);
                    match self.labels.get(core) {
                        Some(l) if core.len() >= super::rebind::MIN_LEN => format!("{l}{sep}"),
                        _ => part.to_string(),
                    }
                })
                .collect();
            out = Cow::Owned(replaced);
        }
        if out.len() < super::rebind::MIN_SUBSTRING_LEN {
            return out;
        }
        let mut long: Vec<(&String, &String)> = self
            .labels
            .iter()
            .filter(|(id, _)| {
                id.len() >= super::rebind::MIN_SUBSTRING_LEN
                    && id.len() <= out.len()
                    && out.contains(id.as_str())
            })
            .collect();
        if long.is_empty() {
            return out;
        }
        long.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
        let mut text = out.into_owned();
        for (id, label) in long {
            text = text.replace(id.as_str(), label);
        }
        Cow::Owned(text)
    }

    fn label(&mut self, id: String) {
        if id.is_empty() {
            return;
        }
        let n = self.labels.len() + 1;
        self.labels.entry(id).or_insert_with(|| format!("[id-{n}]"));
    }

    fn collect_ids(&mut self, v: &Value, key: Option<&str>) {
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    self.collect_ids(x, Some(k));
                }
            }
            Value::Array(items) => {
                // Arrays of scalars under an id-named key are not ids: a validation error's
                // `errors.product_id` holds messages, which the reference fixes verbatim.
                let key =
                    key.filter(|k| !self.rules.is_id(k) || items.iter().any(Value::is_object));
                for x in items {
                    self.collect_ids(x, key);
                }
            }
            Value::String(s) if key.is_some_and(|k| self.rules.is_id(k)) => self.label(s.clone()),
            Value::Number(n) if key.is_some_and(|k| self.rules.is_id(k)) => {
                self.label(n.to_string());
            }
            _ => {}
        }
    }

    fn rewrite(&self, v: &mut Value, key: Option<&str>) {
        match v {
            Value::Object(map) => {
                for (k, x) in map.iter_mut() {
                    self.rewrite(x, Some(k));
                }
            }
            Value::Array(items) => {
                let key =
                    key.filter(|k| !self.rules.is_id(k) || items.iter().any(Value::is_object));
                for x in items {
                    self.rewrite(x, key);
                }
            }
            Value::Null => {}
            other => {
                if let Some(new) = self.replacement(other, key) {
                    *other = new;
                }
            }
        }
    }

    /// What a scalar becomes, or `None` when it stays as it is.
    fn replacement(&self, v: &Value, key: Option<&str>) -> Option<Value> {
        let Some(k) = key else {
            return self.scalar(v);
        };
        if self.rules.timestamps.contains(k) {
            return Some(Value::String("[timestamp]".into()));
        }
        if self.rules.is_id(k) {
            let raw = match v {
                Value::String(s) => Cow::Borrowed(s.as_str()),
                x => Cow::Owned(x.to_string()),
            };
            if let Some(l) = self.labels.get(raw.as_ref()) {
                return Some(Value::String(l.clone()));
            }
        }
        if self.rules.urls.contains(k)
            && let Value::String(s) = v
        {
            let t = self.text_cow(s);
            if t.starts_with("{base}") || t.starts_with("{origin}") {
                return Some(Value::String(t.into_owned()));
            }
            return Some(Value::String("[url]".into()));
        }
        self.scalar(v)
    }

    fn scalar(&self, v: &Value) -> Option<Value> {
        match v {
            Value::String(s) => match self.text_cow(s) {
                Cow::Borrowed(_) => None,
                Cow::Owned(t) => Some(Value::String(t)),
            },
            _ => None,
        }
    }
}

fn split_trailing_sep(part: &str) -> (&str, &str) {
    match part.char_indices().last() {
        Some((i, '/' | '=' | '&' | '?')) => (&part[..i], &part[i..]),
        _ => (part, ""),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_ids_and_redacts_volatile_fields() {
        let spec = json!({"components": {"schemas": {"C": {"properties": {
            "id": {"type": "string"},
            "created": {"type": "string", "format": "date-time"},
            "success_url": {"type": "string", "format": "uri"}
        }}}}});
        let file = RulesFile {
            timestamps: vec!["created_at".into()],
            urls: vec!["checkout_url".into()],
            headers: vec!["Content-Type".into()],
            ..Default::default()
        };
        let rules = Rules::new(&file, &spec);
        assert_eq!(rules.headers, vec!["content-type".to_string()]);
        let mut n = Normalizer::new(&rules, "http://127.0.0.1:9/api", "http://127.0.0.1:9");
        let first = n.body(
            &json!({"id": "01habcdefabcdefabcdef", "created_at": 1700000000,
            "created": "2024-01-01T00:00:00Z", "updated": null,
            "checkout_url": "https://pay.example/01habcdefabcdefabcdef",
            "success_url": "https://shop.example/ok",
            "next": "http://127.0.0.1:9/api/checkouts?page=2", "status": "pending"}),
        );
        assert_eq!(
            first,
            json!({"id": "[id-1]", "created_at": "[timestamp]", "created": "[timestamp]",
                "updated": null, "checkout_url": "[url]", "success_url": "https://shop.example/ok",
                "next": "{base}/checkouts?page=2", "status": "pending"})
        );
        let second = n.body(&json!({"data": [
            {"id": "other-id"}, {"id": "01habcdefabcdefabcdef"}, {"id": 0}
        ]}));
        assert_eq!(
            second,
            json!({"data": [{"id": "[id-2]"}, {"id": "[id-1]"}, {"id": "[id-3]"}]})
        );
        assert_eq!(
            n.text("/checkouts/01habcdefabcdefabcdef/items"),
            "/checkouts/[id-1]/items"
        );
        assert_eq!(n.text("/x/other-id"), "/x/[id-2]");
        // Short values are not replaced in free text: an id of 0 leaves every other 0 alone.
        assert_eq!(n.text("0"), "0");
        assert_eq!(n.text("/x/0"), "/x/0");
    }
}
