//! Redaction at record time: what a captured exchange may hold that must never reach disk.
//!
//! Three layers, each because the one before can miss something:
//! 1. **Positions known to hold secrets** are dropped or overwritten: credential and signature
//!    headers (dropped: replay injects credentials), JSON properties with a secret name
//!    (`payment_token`, `password`… and every property the spec marks `writeOnly: true` or
//!    `format: password`, wherever it appears), and `name=value` / `"name": "value"` pairs with
//!    such names in query strings and non-JSON bodies.
//! 2. **Every value removed in layer 1 is remembered** ([`Secrets`]) and scrubbed from every
//!    other string of the recording (paths, headers, bodies, error messages): servers echo
//!    tokens back ("You cannot use a Stripe token more than once: tok_…").
//! 3. Stripe's published **test tokens** (`tok_visa`, `tok_chargeDeclined`…) are kept: they are
//!    documentation, not secrets, and a replayed charge needs them to take the recorded path
//!    (declined, accepted). Anything else in a secret position becomes [`REDACTED`], which the
//!    mock (and any Stripe-convention implementation) treats as an ordinary reusable token.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::recording::Exchange;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are overwritten where they were found but not searched for
/// elsewhere: scrubbing a short value (`fr`, `1`) would corrupt unrelated data.
pub const MIN_SCRUB_LEN: usize = 8;

/// Request and response headers dropped because they carry credentials or signatures. Replay
/// injects credentials; signatures are computed by whoever sends the webhook.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-recharge-access-token",
    "cookie",
    "set-cookie",
    "signature",
    "x-recharge-hmac-sha256",
    "x-recharge-webhook-signature",
    "x-api-key",
];

/// Parts of header names that mark a header as secret even if it is not listed above (a
/// vendor's `X-Foo-Session` or `X-Csrf-Token`): dropping a harmless header costs nothing,
/// writing an unknown credential to a repository is what this module exists to prevent.
const SECRET_HEADER_PARTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "signature",
    "hmac",
    "cookie",
    "session",
    "api-key",
    "apikey",
    "authorization",
    "credential",
];

/// The headers whose presence means the client authenticated (`auth: inject`).
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "x-recharge-access-token"];

/// Property (and query parameter) names whose values are secrets in any API. The spec adds
/// its `writeOnly` and `format: password` properties.
const SECRET_NAMES: &[&str] = &[
    "payment_token",
    "authorization_token",
    "password",
    "passwd",
    "secret",
    "secret_key",
    "client_secret",
    "api_key",
    "apikey",
    "access_token",
    "refresh_token",
    "id_token",
    "card_number",
    "cvc",
    "cvv",
];

/// Stripe's documented test-card tokens and the markers its test mode reacts to. They are
/// published, not secrets, and a replayed charge must send them to take the recorded path.
const TEST_TOKEN_SUFFIXES: &[&str] = &[
    "visa",
    "visa_debit",
    "visa_chargeDeclined",
    "mastercard",
    "mastercard_debit",
    "mastercard_prepaid",
    "amex",
    "discover",
    "diners",
    "jcb",
    "unionpay",
    "bypassPending",
    "chargeDeclined",
    "chargeDeclinedInsufficientFunds",
    "chargeDeclinedLostCard",
    "chargeDeclinedStolenCard",
    "chargeDeclinedExpiredCard",
    "chargeDeclinedIncorrectCvc",
    "chargeDeclinedProcessingError",
    "chargeDeclinedFraudulent",
    "chargeDeclinedVelocityLimitExceeded",
    "chargeCustomerFail",
    "cvcCheckFail",
    "avsFail",
    "avsZipFail",
    "avsLine1Fail",
    "riskLevelElevated",
    "riskLevelHighest",
    "authenticationRequired",
    "threeDSecureRequired",
    "threeDSecure2Required",
    "threeDSecureOptional",
];

/// Whether `value` is one of Stripe's published test tokens (`tok_visa`, `pm_card_visa`).
pub fn is_test_token(value: &str) -> bool {
    ["tok_", "pm_card_"].iter().any(|prefix| {
        value
            .strip_prefix(prefix)
            .is_some_and(|rest| TEST_TOKEN_SUFFIXES.contains(&rest))
    })
}

/// Whether a header is dropped from recordings.
pub fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_HEADERS.contains(&name.as_str()) || SECRET_HEADER_PARTS.iter().any(|p| name.contains(p))
}

/// Whether the request carried credentials.
pub fn is_credential_header(name: &str) -> bool {
    CREDENTIAL_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
}

/// Values seen in secret positions, to be scrubbed from every other string. Kept in memory
/// only, for one recording session.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    values: BTreeSet<String>,
}

impl Secrets {
    /// Remembers a secret value (and its percent-encoded form, as it would appear in a URL).
    /// Returns whether it was new. Short values and test tokens are not remembered.
    pub fn add(&mut self, value: &str) -> bool {
        let value = value.trim();
        if value.chars().count() < MIN_SCRUB_LEN || is_test_token(value) || value == REDACTED {
            return false;
        }
        let mut new = self.values.insert(value.to_owned());
        let encoded = oas::url::encode_component(value);
        if encoded != value {
            new |= self.values.insert(encoded);
        }
        new
    }

    /// Remembers what a secret header carries: the whole value, the credential after an
    /// authentication scheme (`Bearer …`), and cookie values (not their names).
    pub fn add_header(&mut self, name: &str, value: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        let mut new = false;
        if lower.contains("cookie") {
            // `Cookie: a=1; b=2`, `Set-Cookie: sid=…; Path=/; HttpOnly`: the values of the
            // pairs (a cookie's attributes after the first pair are not secret, but a value
            // is never harmful to scrub).
            let pairs: Vec<&str> = if lower == "set-cookie" {
                value.split(';').take(1).collect()
            } else {
                value.split(';').collect()
            };
            for pair in pairs {
                if let Some((_, v)) = pair.split_once('=') {
                    new |= self.add(v.trim().trim_matches('"'));
                }
            }
            return new;
        }
        new |= self.add(value);
        if let Some((_scheme, credential)) = value.trim().split_once(char::is_whitespace) {
            new |= self.add(credential);
        }
        new
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// `text` with every known secret replaced by [`REDACTED`] (longest first, so a secret that
    /// contains another is replaced whole).
    pub fn scrub(&self, text: &str) -> String {
        if self.values.is_empty() || !self.values.iter().any(|s| text.contains(s.as_str())) {
            return text.to_owned();
        }
        let mut ordered: Vec<&String> = self.values.iter().collect();
        ordered.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut out = text.to_owned();
        for secret in ordered {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    /// Scrubs every string of a JSON value (keys are names, not data, and stay).
    pub fn scrub_json(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                let scrubbed = self.scrub(s);
                if scrubbed != *s {
                    *s = scrubbed;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_json(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.scrub_json(v)),
            _ => {}
        }
    }

    /// Scrubs every string an exchange holds.
    pub fn scrub_exchange(&self, ex: &mut Exchange) {
        if self.values.is_empty() {
            return;
        }
        let r = &mut ex.request;
        r.path = self.scrub(&r.path);
        r.query = r.query.as_deref().map(|q| self.scrub(q));
        for v in r.headers.values_mut() {
            *v = self.scrub(v);
        }
        if let Some(j) = &mut r.body.json {
            self.scrub_json(j);
        }
        r.body.text = r.body.text.as_deref().map(|t| self.scrub(t));
        let s = &mut ex.response;
        for v in s.headers.values_mut() {
            *v = self.scrub(v);
        }
        if let Some(j) = &mut s.body.json {
            self.scrub_json(j);
        }
        s.body.text = s.body.text.as_deref().map(|t| self.scrub(t));
        ex.flagged = ex.flagged.as_deref().map(|f| self.scrub(f));
    }
}

/// Which property names are secret for one API: the fixed list plus what its spec marks.
#[derive(Debug, Clone)]
pub struct Redactor {
    /// Lower case.
    names: BTreeSet<String>,
}

impl Redactor {
    /// The fixed names plus every property the spec marks `writeOnly: true` or
    /// `format: password` (directly, through `$ref`, or in an `allOf`/`oneOf`/`anyOf` member),
    /// in any schema of the document: the whole document is walked, so inline request and
    /// response schemas count as much as components.
    pub fn new(spec_root: &Value) -> Self {
        let mut names: BTreeSet<String> = SECRET_NAMES.iter().map(|s| (*s).to_owned()).collect();
        collect_spec_secrets(spec_root, spec_root, &mut names, 0);
        Self { names }
    }

    /// The secret property names, lower case.
    pub fn names(&self) -> &BTreeSet<String> {
        &self.names
    }

    pub fn is_secret_name(&self, name: &str) -> bool {
        self.names.contains(&name.to_ascii_lowercase())
    }

    /// Overwrites the values of secret properties anywhere in `value` (nulls and empty strings
    /// stay: they hold nothing and their absence is what a request is about), remembering them.
    pub fn redact_json(&self, value: &mut Value, secrets: &mut Secrets) {
        match value {
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v, secrets)),
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if self.is_secret_name(key) {
                        redact_value(v, secrets);
                    } else {
                        self.redact_json(v, secrets);
                    }
                }
            }
            _ => {}
        }
    }

    /// Overwrites `name=value` and `"name": "value"` pairs with secret names in text that is
    /// not JSON (a query string, a form body, malformed JSON), remembering the values.
    pub fn redact_text(&self, text: &str, secrets: &mut Secrets) -> String {
        let lower = text.to_ascii_lowercase();
        let bytes = text.as_bytes();
        // Ranges of values to overwrite, found for every secret name, then applied in order.
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for name in &self.names {
            let mut from = 0;
            while let Some(found) = lower[from..].find(name.as_str()) {
                let start = from + found;
                let end = start + name.len();
                from = end;
                let before_ok = start == 0 || !is_name_byte(bytes[start - 1]);
                if !before_ok || (end < bytes.len() && is_name_byte(bytes[end])) {
                    continue;
                }
                if let Some(range) = value_after(bytes, end) {
                    ranges.push(range);
                }
            }
        }
        if ranges.is_empty() {
            return text.to_owned();
        }
        ranges.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in ranges {
            if start < at {
                continue;
            }
            let value = &text[start..end];
            out.push_str(&text[at..start]);
            let decoded = oas::url::decode_form(value);
            if value.is_empty() || value == "null" || is_test_token(&decoded) {
                out.push_str(value);
            } else {
                secrets.add(value);
                secrets.add(&decoded);
                out.push_str(REDACTED);
            }
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }
}

fn redact_value(v: &mut Value, secrets: &mut Secrets) {
    match v {
        Value::Null => {}
        Value::String(s) if s.is_empty() || is_test_token(s) || s == REDACTED => {}
        Value::String(s) => {
            secrets.add(s);
            *v = Value::String(REDACTED.into());
        }
        Value::Number(n) => {
            secrets.add(&n.to_string());
            *v = Value::String(REDACTED.into());
        }
        other => {
            // An object or array in a secret position (a writeOnly card): every string in it
            // is a secret too.
            remember_strings(other, secrets);
            *other = Value::String(REDACTED.into());
        }
    }
}

fn remember_strings(v: &Value, secrets: &mut Secrets) {
    match v {
        Value::String(s) => {
            secrets.add(s);
        }
        Value::Number(n) => {
            secrets.add(&n.to_string());
        }
        Value::Array(items) => items.iter().for_each(|i| remember_strings(i, secrets)),
        Value::Object(map) => map.values().for_each(|i| remember_strings(i, secrets)),
        _ => {}
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// After a name ending at `at`: an optional closing quote, `:` or `=`, an optional opening
/// quote, then the value up to its closing quote or a delimiter. Returns the value's range.
fn value_after(bytes: &[u8], mut at: usize) -> Option<(usize, usize)> {
    let skip_ws = |mut i: usize| {
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        i
    };
    if at < bytes.len() && matches!(bytes[at], b'"' | b'\'') {
        at += 1;
    }
    at = skip_ws(at);
    if at >= bytes.len() || !matches!(bytes[at], b':' | b'=') {
        return None;
    }
    at = skip_ws(at + 1);
    let quote = match bytes.get(at) {
        Some(q @ (b'"' | b'\'')) => {
            at += 1;
            Some(*q)
        }
        _ => None,
    };
    let start = at;
    let mut i = start;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 2;
                    continue;
                }
                if b == q {
                    break;
                }
            }
            None => {
                if matches!(
                    b,
                    b'&' | b',' | b'}' | b']' | b';' | b' ' | b'\t' | b'\r' | b'\n'
                ) {
                    break;
                }
            }
        }
        i += 1;
    }
    // Delimiters are ASCII, so both ends are on character boundaries.
    Some((start, i.min(bytes.len())))
}

/// Walks every node of the document; for each property of each schema, decides whether the
/// property's schema (through `$ref`s and combinators) is `writeOnly` or `format: password`.
fn collect_spec_secrets(root: &Value, node: &Value, out: &mut BTreeSet<String>, depth: usize) {
    if depth > 128 {
        return;
    }
    match node {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                for (name, schema) in props {
                    if is_secret_schema(root, schema, 0) {
                        out.insert(name.to_ascii_lowercase());
                    }
                }
            }
            for v in map.values() {
                collect_spec_secrets(root, v, out, depth + 1);
            }
        }
        Value::Array(items) => {
            for v in items {
                collect_spec_secrets(root, v, out, depth + 1);
            }
        }
        _ => {}
    }
}

fn is_secret_schema(root: &Value, schema: &Value, depth: usize) -> bool {
    // Bounded: `$ref` cycles (a schema that is `allOf` itself) must end.
    if depth > 16 {
        return false;
    }
    let Some(map) = schema.as_object() else {
        return false;
    };
    if let Some(target) = map
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(oas::pointer::local_target)
    {
        return root
            .pointer(&target)
            .is_some_and(|s| is_secret_schema(root, s, depth + 1));
    }
    if map.get("writeOnly") == Some(&Value::Bool(true))
        || map.get("format").and_then(Value::as_str) == Some("password")
    {
        return true;
    }
    ["allOf", "oneOf", "anyOf"].iter().any(|k| {
        map.get(*k)
            .and_then(Value::as_array)
            .is_some_and(|members| members.iter().any(|m| is_secret_schema(root, m, depth + 1)))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({
            "openapi": "3.0.3",
            "paths": {"/login": {"post": {"requestBody": {"content": {"application/json": {
                "schema": {"type": "object", "properties": {
                    "pin": {"type": "string", "format": "password"},
                    "user": {"type": "string"}
                }}
            }}}}}},
            "components": {"schemas": {
                "Secret": {"type": "string", "writeOnly": true},
                "Wrapped": {"allOf": [{"$ref": "#/components/schemas/Secret"}]},
                "Loop": {"allOf": [{"$ref": "#/components/schemas/Loop"}]},
                "Account": {"type": "object", "properties": {
                    "recovery_code": {"$ref": "#/components/schemas/Wrapped"},
                    "card": {"type": "object", "writeOnly": true},
                    "nickname": {"type": "string"},
                    "looped": {"$ref": "#/components/schemas/Loop"}
                }}
            }}
        })
    }

    #[test]
    fn spec_marks_write_only_and_password_properties() {
        let r = Redactor::new(&spec());
        assert!(r.is_secret_name("pin"));
        assert!(r.is_secret_name("recovery_code"), "through $ref and allOf");
        assert!(r.is_secret_name("card"));
        assert!(r.is_secret_name("payment_token"));
        assert!(!r.is_secret_name("nickname"));
        assert!(!r.is_secret_name("looped"), "a $ref cycle ends");
    }

    #[test]
    fn json_values_are_overwritten_and_remembered() {
        let r = Redactor::new(&spec());
        let mut s = Secrets::default();
        let mut v = json!({
            "checkout_charge": {"payment_token": "tok_1SecretValue9", "payment_processor": "stripe"},
            "list": [{"pin": "12345678"}, {"card": {"number": "4242424242424242"}}],
            "test": {"payment_token": "tok_chargeDeclined"},
            "none": {"payment_token": null, "password": ""}
        });
        r.redact_json(&mut v, &mut s);
        assert_eq!(v["checkout_charge"]["payment_token"], REDACTED);
        assert_eq!(v["checkout_charge"]["payment_processor"], "stripe");
        assert_eq!(v["list"][0]["pin"], REDACTED);
        assert_eq!(v["list"][1]["card"], REDACTED);
        assert_eq!(v["test"]["payment_token"], "tok_chargeDeclined");
        assert_eq!(v["none"], json!({"payment_token": null, "password": ""}));
        assert_eq!(
            s.scrub("cannot reuse tok_1SecretValue9, card 4242424242424242"),
            "cannot reuse [redacted], card [redacted]"
        );
    }

    #[test]
    fn text_pairs_are_overwritten() {
        let r = Redactor::new(&Value::Null);
        let mut s = Secrets::default();
        assert_eq!(
            r.redact_text("page=2&api_key=abcdefgh123&x=1", &mut s),
            "page=2&api_key=[redacted]&x=1"
        );
        assert_eq!(
            r.redact_text(r#"{"payment_token": "tok_1abc\"defgh", "x": 1"#, &mut s),
            r#"{"payment_token": "[redacted]", "x": 1"#
        );
        assert_eq!(
            r.redact_text("payment_token=tok_visa&my_password_hint=x", &mut s),
            "payment_token=tok_visa&my_password_hint=x"
        );
        assert_eq!(r.redact_text("password", &mut s), "password");
        assert_eq!(r.redact_text("password=", &mut s), "password=");
        assert!(s.scrub("k abcdefgh123").contains(REDACTED));
    }

    #[test]
    fn headers_and_secret_values() {
        assert!(is_secret_header("Authorization"));
        assert!(is_secret_header("X-Recharge-Hmac-Sha256"));
        assert!(is_secret_header("x-csrf-token"));
        assert!(is_secret_header("Set-Cookie"));
        assert!(!is_secret_header("content-type"));
        assert!(!is_secret_header("x-recharge-version"));
        let mut s = Secrets::default();
        s.add_header("authorization", "Bearer test_sk_0123456789");
        s.add_header("cookie", "lang=fr; session=s3cr3t-session-id");
        s.add_header("set-cookie", "sid=abcdefghij; Path=/; HttpOnly");
        let t =
            s.scrub("key test_sk_0123456789 sess s3cr3t-session-id sid abcdefghij lang fr Path");
        assert_eq!(
            t,
            "key [redacted] sess [redacted] sid [redacted] lang fr Path"
        );
        assert!(!s.add("short"));
        assert!(!s.add("tok_visa"));
        assert!(is_test_token("pm_card_chargeDeclined"));
        assert!(!is_test_token("tok_1NqL7k2eZvKYlo2C"));
        // Percent-encoded forms are found in URLs too.
        s.add("a+b/c=d==");
        assert_eq!(s.scrub("?k=a%2Bb%2Fc%3Dd%3D%3D"), "?k=[redacted]");
    }

    #[test]
    fn arbitrary_text_never_panics() {
        let r = Redactor::new(&Value::Null);
        let pieces = [
            "password",
            "payment_token",
            "=",
            ":",
            "\"",
            "'",
            "\\",
            "&",
            " ",
            "é",
            "€",
            "𝄞",
            "tok_visa",
            "abcdefghij",
            ",",
            "}",
            "null",
            "%2",
            "%41",
        ];
        let mut seed: u64 = 7;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(seed % 12) {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let mut s = Secrets::default();
            let out = r.redact_text(&text, &mut s);
            let _ = s.scrub(&out);
            seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        }
    }
}
