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

use crate::headers;
use std::collections::BTreeSet;

use serde_json::Value;

use crate::recording::Exchange;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are overwritten where they were found but not searched for
/// elsewhere: scrubbing a short value (`fr`, `1`) would corrupt unrelated data.
pub const MIN_SCRUB_LEN: usize = 8;

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
    headers::SECRET.contains(&name.as_str())
        || headers::SECRET_PARTS.iter().any(|p| name.contains(p))
        || secret_words(&words(&name))
}

/// A name's words, lower case, whatever its spelling: `cardNumber`, `card-number`,
/// `card.number`, `card[number]` and `CARD_NUMBER` all give `card`, `number`.
pub fn words(name: &str) -> Vec<String> {
    use heck::ToSnakeCase as _;
    name.to_snake_case()
        .split('_')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether a name, as words, says its value is a secret: a password, secret, token,
/// signature, credential, session, card number or security code, an API or access key, a
/// one-time or reset code. Words, not substrings: `shipping` holds `pin` and is no secret.
pub fn secret_words(words: &[String]) -> bool {
    const ALWAYS: &[&str] = &[
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "token",
        "signature",
        "sig",
        "credential",
        "credentials",
        "cvc",
        "cvv",
        "cvv2",
        "csc",
        "otp",
        "session",
        "sessionid",
        "cookie",
        "authorization",
        "authentication",
        "apikey",
        "pin",
    ];
    const KEY_KINDS: &[&str] = &[
        "api",
        "auth",
        "access",
        "secret",
        "private",
        "subscription",
        "client",
        "signing",
        "encryption",
        "master",
        "license",
    ];
    const CODE_KINDS: &[&str] = &[
        "reset",
        "verification",
        "verify",
        "confirmation",
        "auth",
        "authorization",
        "recovery",
        "activation",
        "security",
        "one",
    ];
    let has = |w: &str| words.iter().any(|x| x == w);
    words.iter().any(|w| ALWAYS.contains(&w.as_str()))
        || (has("key")
            && (words.len() == 1 || words.iter().any(|w| KEY_KINDS.contains(&w.as_str()))))
        || (has("code") && words.iter().any(|w| CODE_KINDS.contains(&w.as_str())))
        || (has("card") && ["number", "num", "pan", "no"].iter().any(|w| has(w)))
}

/// Whether the request carried credentials.
pub fn is_credential_header(name: &str) -> bool {
    headers::CREDENTIALS
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

/// Which property names are secret for one API: the fixed list and the name patterns of
/// [`secret_words`], plus what its spec marks, less the names its paths use as identifiers.
#[derive(Debug, Clone)]
pub struct Redactor {
    /// Lower case.
    names: BTreeSet<String>,
    /// Path parameter names (ReCharge's `token` addresses a checkout): identifiers a
    /// recording must keep to be replayed, whatever their name says.
    identifiers: BTreeSet<String>,
}

impl Redactor {
    /// The fixed names plus every property the spec marks `writeOnly: true` or
    /// `format: password` (directly, through `$ref`, or in an `allOf`/`oneOf`/`anyOf` member),
    /// in any schema of the document: the whole document is walked, so inline request and
    /// response schemas count as much as components.
    pub fn new(spec_root: &Value) -> Self {
        let mut names: BTreeSet<String> = SECRET_NAMES.iter().map(|s| (*s).to_owned()).collect();
        // Every property whose schema (through `$ref`s and combinators) is `writeOnly` or
        // `format: password`.
        oas::walk::properties(spec_root, |name, schema| {
            if is_secret_schema(spec_root, schema, 0) {
                names.insert(name.to_ascii_lowercase());
            }
        });
        let identifiers = oas::operations(spec_root)
            .iter()
            .flat_map(|op| path_parameters(&op.path))
            .collect();
        Self { names, identifiers }
    }

    /// The secret property names, lower case.
    pub fn names(&self) -> &BTreeSet<String> {
        &self.names
    }

    /// Whether a parameter or field of this name (in a query, a form, a multipart body, text)
    /// holds a secret, in any spelling.
    pub fn is_secret_name(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        let words = words(name);
        self.names.contains(&lower) || self.names.contains(&words.join("_")) || secret_words(&words)
    }

    /// [`Redactor::is_secret_name`] for a JSON property, where the API's own objects carry the
    /// identifiers its paths use (ReCharge's `checkout.token`): those stay, to be replayed.
    /// Only there: a `token` query parameter or form field is redacted even for ReCharge.
    pub fn is_secret_property(&self, name: &str) -> bool {
        !self.identifiers.contains(&name.to_ascii_lowercase()) && self.is_secret_name(name)
    }

    /// [`Redactor::is_secret_name`] for a query parameter of a URL, where a bare `code` is an
    /// authorization or reset code.
    pub fn is_secret_query_name(&self, name: &str) -> bool {
        self.is_secret_name(name) || words(name) == ["code"]
    }

    /// Overwrites the values of secret properties anywhere in `value` (nulls and empty strings
    /// stay: they hold nothing and their absence is what a request is about), remembering them.
    pub fn redact_json(&self, value: &mut Value, secrets: &mut Secrets) {
        self.redact_json_in(value, secrets, false);
    }

    /// `in_card`: the value is a card (`{"card": {"number": …}}`), whose number, security code
    /// and PIN are secrets whatever they are called.
    fn redact_json_in(&self, value: &mut Value, secrets: &mut Secrets, in_card: bool) {
        match value {
            Value::Array(items) => items
                .iter_mut()
                .for_each(|v| self.redact_json_in(v, secrets, in_card)),
            Value::Object(map) => {
                // A name/value pair (`{"name": "password", "value": …}`: ReCharge's line item
                // properties, custom attributes): the value is secret when the name is.
                let secret_pair = ["name", "key"].iter().any(|k| {
                    map.get(*k)
                        .and_then(Value::as_str)
                        .is_some_and(|n| self.is_secret_property(n))
                });
                for (key, v) in map.iter_mut() {
                    if secret_pair && key == "value" {
                        redact_value(v, secrets);
                        continue;
                    }
                    let words = words(key);
                    let card_part = in_card
                        && words.iter().any(|w| {
                            ["number", "num", "pan", "cvc", "cvv", "csc", "pin"]
                                .contains(&w.as_str())
                        });
                    if card_part || self.is_secret_property(key) {
                        redact_value(v, secrets);
                    } else {
                        self.redact_json_in(v, secrets, words.iter().any(|w| w == "card"));
                    }
                }
            }
            _ => {}
        }
    }

    /// Overwrites `name=value` and `"name": "value"` pairs with secret names in text that is
    /// not JSON (a query string, a form body, malformed JSON), remembering the values. A name
    /// is any run of letters, digits, `_`, `-`, `.`, `[` and `]` (`card[number]`,
    /// `X-Amz-Signature`), judged by [`Redactor::is_secret_name`].
    pub fn redact_text(&self, text: &str, secrets: &mut Secrets) -> String {
        self.redact_pairs(text, secrets, |name| self.is_secret_name(name))
    }

    /// [`Redactor::redact_text`] for the query of a URL ([`Redactor::is_secret_query_name`]).
    pub fn redact_query(&self, text: &str, secrets: &mut Secrets) -> String {
        self.redact_pairs(text, secrets, |name| self.is_secret_query_name(name))
    }

    fn redact_pairs(
        &self,
        text: &str,
        secrets: &mut Secrets,
        secret: impl Fn(&str) -> bool,
    ) -> String {
        let bytes = text.as_bytes();
        // Ranges of values to overwrite, then applied in order.
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if !is_name_byte(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && is_name_byte(bytes[i]) {
                i += 1;
            }
            let name = oas::url::decode_form(&text[start..i]);
            if secret(&name)
                && let Some(range) = value_after(bytes, i)
            {
                ranges.push(range);
                i = range.1.max(i);
            }
        }
        if ranges.is_empty() {
            return text.to_owned();
        }
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

    /// A body of text whatever its label says: a multipart body (recognised by its first line,
    /// a delimiter, and a `Content-Disposition` part header, when the content type gives no
    /// boundary: HAR files and clients mislabel them) by its parts, anything else by its
    /// `name=value` and `"name": "value"` pairs.
    pub fn redact_any_text(
        &self,
        text: &str,
        boundary: Option<&str>,
        secrets: &mut Secrets,
    ) -> String {
        let sniffed = || {
            let first = text.lines().next()?.trim_end_matches('\r');
            let b = first.strip_prefix("--")?;
            let plausible = !b.is_empty()
                && b.len() <= 200
                && !b.contains(char::is_whitespace)
                && text.to_ascii_lowercase().contains("content-disposition");
            plausible.then_some(b)
        };
        match boundary.or_else(sniffed) {
            // Parts by name, then pairs anywhere (a secret in a part of a mislabelled body may
            // be written `name=value` inside it).
            Some(b) => self.redact_text(&self.redact_multipart(text, b, secrets), secrets),
            None => self.redact_text(text, secrets),
        }
    }

    /// A `multipart/form-data` body: the content of every part whose field name is secret is
    /// replaced (and remembered).
    pub fn redact_multipart(&self, text: &str, boundary: &str, secrets: &mut Secrets) -> String {
        let delimiter = format!("--{boundary}");
        let mut out = String::with_capacity(text.len());
        for (n, part) in text.split(delimiter.as_str()).enumerate() {
            if n > 0 {
                out.push_str(&delimiter);
            }
            let Some((head, body)) = part
                .split_once("\r\n\r\n")
                .or_else(|| part.split_once("\n\n"))
            else {
                out.push_str(part);
                continue;
            };
            let name = head.split(';').find_map(|p| {
                p.trim()
                    .strip_prefix("name=")
                    .map(|v| v.trim_matches('"').to_owned())
            });
            if !name.is_some_and(|n| self.is_secret_name(&n)) {
                out.push_str(part);
                continue;
            }
            // The part's content ends before the line break that precedes the next delimiter.
            let content = body
                .strip_suffix("\r\n")
                .or_else(|| body.strip_suffix('\n'));
            let (content, tail) = match content {
                Some(c) => (c, &body[c.len()..]),
                None => (body, ""),
            };
            secrets.add(content);
            out.push_str(&part[..part.len() - body.len()]);
            out.push_str(REDACTED);
            out.push_str(tail);
        }
        out
    }
}

/// The `{name}`s of a path template, lower case.
fn path_parameters(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_ascii_lowercase)
        .collect()
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
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b'%')
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
        // Names are judged by their words: a password hint is redacted too (the safe side),
        // a word that merely contains one (`shipping` holds `pin`) is not.
        assert_eq!(
            r.redact_text(
                "payment_token=tok_visa&my_password_hint=x&shipping=y",
                &mut s
            ),
            "payment_token=tok_visa&my_password_hint=[redacted]&shipping=y"
        );
        assert_eq!(r.redact_text("password", &mut s), "password");
        assert_eq!(r.redact_text("password=", &mut s), "password=");
        assert!(s.scrub("k abcdefgh123").contains(REDACTED));
    }

    /// Secret names in every spelling and position the recorder meets: snake, camel, kebab,
    /// dotted and bracketed, in JSON, query strings, forms and multipart bodies; identifiers
    /// the spec's paths use (`token` for ReCharge) stay.
    #[test]
    fn secret_names_in_every_spelling() {
        let spec = serde_json::json!({"paths": {"/checkouts/{token}": {"get": {}}}});
        let r = Redactor::new(&spec);
        for name in [
            "cardNumber",
            "card_number",
            "card-number",
            "card.number",
            "card[number]",
            "secretKey",
            "new_password",
            "X-API_KEY",
            "X-Auth-Key",
            "Ocp-Apim-Subscription-Key",
            "Authentication",
            "X-Amz-Signature",
            "api-key",
            "key",
            "session_id",
            "resetCode",
            "PIN",
            "sig",
            "token",
        ] {
            assert!(r.is_secret_name(name), "{name}");
        }
        // A JSON property named like a path identifier is the API's own (`checkout.token`).
        assert!(!r.is_secret_property("token"));
        assert!(!r.is_secret_property("Token"));
        assert!(r.is_secret_property("payment_token"));
        for name in [
            "shipping",
            "discount_code",
            "tax_code",
            "idempotency-key",
            "keyword",
            "number",
            "code",
        ] {
            assert!(!r.is_secret_name(name), "{name}");
        }
        assert!(r.is_secret_query_name("code"));
        assert!(Redactor::new(&Value::Null).is_secret_property("token"));

        let mut s = Secrets::default();
        let mut v = serde_json::json!({"card": {"number": "4242424242424242", "exp_month": 1},
            "cardNumber": "4000056655665556", "token": "tok_checkout_abc"});
        r.redact_json(&mut v, &mut s);
        assert_eq!(v["card"]["number"], REDACTED);
        assert_eq!(v["card"]["exp_month"], 1);
        assert_eq!(v["cardNumber"], REDACTED);
        assert_eq!(v["token"], "tok_checkout_abc");
        let mut v = serde_json::json!({"properties": [{"name": "gift_note", "value": "hi"},
            {"name": "Card Number", "value": "4111111111111113"}, {"key": "apiKey", "value": 7}]});
        r.redact_json(&mut v, &mut s);
        assert_eq!(v["properties"][0]["value"], "hi");
        assert_eq!(v["properties"][1]["value"], REDACTED);
        assert_eq!(v["properties"][2]["value"], REDACTED);
        assert_eq!(
            r.redact_text("card%5Bnumber%5D=4111111111111111&amount=5", &mut s),
            "card%5Bnumber%5D=[redacted]&amount=5"
        );
        assert_eq!(
            r.redact_text("card[number]=4111111111111112&amount=5", &mut s),
            "card[number]=[redacted]&amount=5"
        );
        let multipart = "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAda\r\n--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nhorse battery staple\r\n--XyZ--\r\n";
        let out = r.redact_multipart(multipart, "XyZ", &mut s);
        assert!(out.contains("\r\n\r\nAda\r\n"), "{out}");
        assert!(!out.contains("horse"), "{out}");
        assert!(
            out.contains("name=\"password\"\r\n\r\n[redacted]\r\n--XyZ--"),
            "{out}"
        );
        // Labelled as something else (JSON, or nothing): recognised by its shape.
        let out = r.redact_any_text(&multipart.replace("horse", "mare"), None, &mut s);
        assert!(!out.contains("mare"), "{out}");
        assert!(out.contains("\r\n\r\nAda\r\n"), "{out}");
        // The identifier exemption is for JSON only: a `token` form field is a secret.
        assert_eq!(
            r.redact_any_text("token=abcdefgh1234&sig=zyxwvuts9876&n=1", None, &mut s),
            "token=[redacted]&sig=[redacted]&n=1"
        );
        assert_eq!(
            r.redact_any_text("--not a boundary\nname=Ada", None, &mut s),
            "--not a boundary\nname=Ada"
        );
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
