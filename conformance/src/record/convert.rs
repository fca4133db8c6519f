//! The one conversion of a captured exchange (the proxy's, or a HAR entry's) into a recorded
//! one: the operation from the spec, redaction, the flag for exchanges no operation matches,
//! the report of request bodies that fail their schema.

use crate::headers;
use std::collections::BTreeMap;

use oas::check::Spec;
use serde_json::Value;

use super::RecordError;
use super::redact::{self, Redactor, Secrets};
use crate::recording::{self, Auth, Body, Destination, Exchange};
use crate::specs::Api;

/// One exchange as it was on the wire, before redaction. Header names in any case.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    pub method: String,
    /// Relative to the API's base URL.
    pub path: String,
    /// Raw, without `?`.
    pub query: Option<String>,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Vec<u8>,
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Vec<u8>,
}

/// A capture turned into a recorded exchange.
#[derive(Debug, Clone)]
pub struct Converted {
    pub exchange: Exchange,
    /// Request headers left out: not among [`headers::KEPT_REQUEST`] (the connection's
    /// own headers are not counted).
    pub dropped_headers: usize,
    /// Why the request body does not validate against the operation's request schema
    /// (instance pointers and keywords only: messages would quote the values).
    pub invalid_body: Option<String>,
}

/// One API's spec prepared for capturing: which operation a request addresses, what its
/// request schema is, and which properties are secret.
#[derive(Debug)]
pub struct ApiSpec {
    api: Api,
    spec: Spec,
    redactor: Redactor,
}

impl ApiSpec {
    /// The embedded spec of `api`.
    pub fn new(api: Api) -> Result<Self, RecordError> {
        let doc = api
            .document()
            .map_err(|e| RecordError::Spec(e.to_string()))?;
        Ok(Self::from_root(api, doc.root))
    }

    /// Any OpenAPI 3.0 document standing in for `api`'s (tests use specs with `writeOnly`
    /// and `format: password` properties, which the two real specs do not have).
    pub fn from_root(api: Api, root: Value) -> Self {
        Self {
            api,
            redactor: Redactor::new(&root),
            spec: Spec::new(root),
        }
    }

    pub fn api(&self) -> Api {
        self.api
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The operation a request addresses, by `operationId`.
    pub fn operation(&self, method: &str, path: &str) -> Option<String> {
        self.spec
            .find(method, path)
            .map(|m| self.spec.operations()[m.index].id.clone())
    }

    /// A path as logs may show it: the template of the operation it addresses, or, for a path
    /// that matches none, its first segment followed by how many more there are.
    pub fn loggable_path(&self, method: &str, path: &str) -> String {
        if let Some(m) = self.spec.find(method, path) {
            return self.spec.operations()[m.index].path.clone();
        }
        let mut segments = path.trim_start_matches('/').split('/');
        let first = segments.next().unwrap_or_default();
        match segments.filter(|s| !s.is_empty()).count() {
            0 => format!("/{first}"),
            n => format!(
                "/{first}/… ({n} more segment{}, not shown)",
                if n == 1 { "" } else { "s" }
            ),
        }
    }

    /// Redacts a capture and turns it into a recorded exchange. Values found in secret
    /// positions are added to `secrets`, and every known secret is scrubbed from the result.
    /// `Err` says why the capture cannot be recorded at all (the format would refuse it: a
    /// method that is not HTTP's, a status outside 100–599).
    pub fn convert(&self, c: &Capture, secrets: &mut Secrets) -> Result<Converted, String> {
        let method = c.method.to_ascii_uppercase();
        if !oas::HTTP_METHODS.contains(&method.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "`{}` is not a method recordings can hold",
                c.method
            ));
        }
        if !(100..=599).contains(&c.status) {
            return Err(format!("status {} is not an HTTP status", c.status));
        }
        let path = if c.path.starts_with('/') {
            c.path.clone()
        } else {
            format!("/{}", c.path)
        };

        // Secret headers first, so their values are known before anything else is kept.
        let mut credentials = false;
        for (name, value) in c.request_headers.iter().chain(&c.response_headers) {
            if redact::is_secret_header(name) {
                secrets.add_header(name, value);
            }
        }
        let mut request_headers = BTreeMap::new();
        let mut dropped_headers = 0;
        for (name, value) in &c.request_headers {
            let lower = name.to_ascii_lowercase();
            credentials |= redact::is_credential_header(&lower);
            if headers::is_noise_request(&lower) {
                continue;
            }
            if !headers::KEPT_REQUEST.contains(&lower.as_str()) {
                // Unknown: it may be a credential under a name no rule knows, so its value is
                // also scrubbed wherever else it appears.
                dropped_headers += 1;
                secrets.add_header(&lower, value);
                continue;
            }
            request_headers.insert(lower, value.clone());
        }
        let mut response_headers = BTreeMap::new();
        for (name, value) in &c.response_headers {
            let lower = name.to_ascii_lowercase();
            if redact::is_secret_header(&lower) || headers::is_not_recorded_response(&lower) {
                continue;
            }
            // A URL the server sends (`Location: …/reset?code=…`) keeps no secret parameter.
            let value = if headers::URL_VALUED.contains(&lower.as_str()) {
                match value.split_once('?') {
                    Some((base, query)) => {
                        format!("{base}?{}", self.redactor.redact_query(query, secrets))
                    }
                    None => value.clone(),
                }
            } else {
                value.clone()
            };
            // Repeated headers (two `Link`s) are joined as HTTP allows.
            response_headers
                .entry(lower)
                .and_modify(|v: &mut String| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert_with(|| value.clone());
        }

        let found = self.spec.find(&method, &path);
        let request_body = Body::from_bytes(
            request_headers.get("content-type").map(String::as_str),
            &c.request_body,
        );
        // Validated before redaction: a redacted value may no longer fit its schema.
        let invalid_body = found
            .as_ref()
            .and_then(|m| self.check_request_body(m.index, &request_headers, &request_body));
        let request_body = self.redact_body(
            request_body,
            request_headers.get("content-type").map(String::as_str),
            secrets,
        );
        let response_type = response_headers.get("content-type").cloned();
        let response_body = self.redact_body(
            Body::from_bytes(response_type.as_deref(), &c.response_body),
            response_type.as_deref(),
            secrets,
        );
        let query = c
            .query
            .as_deref()
            .filter(|q| !q.is_empty())
            .map(|q| self.redactor.redact_query(q, secrets));

        let auth = match (credentials, c.status) {
            // The credentials were refused: replay must send credentials the target refuses.
            (true, 401) => Auth::Invalid,
            (true, _) => Auth::Inject,
            (false, _) => Auth::None,
        };
        let operation = found.map(|m| self.spec.operations()[m.index].id.clone());
        let flagged = match operation {
            Some(_) => None,
            None => Some(format!(
                "{method} {path} matches no operation of {}",
                self.api.spec_path()
            )),
        };
        let mut exchange = Exchange {
            name: None,
            operation,
            request: recording::Request {
                method,
                path,
                query,
                headers: request_headers,
                body: request_body,
                auth,
                to: Destination::Api,
            },
            response: recording::Response {
                status: c.status,
                headers: response_headers,
                body: response_body,
            },
            capture: BTreeMap::new(),
            concurrent: None,
            repeat: None,
            flagged,
        };
        secrets.scrub_exchange(&mut exchange);
        Ok(Converted {
            exchange,
            dropped_headers,
            invalid_body: invalid_body.map(|m| secrets.scrub(&m)),
        })
    }

    fn redact_body(
        &self,
        mut body: Body,
        content_type: Option<&str>,
        secrets: &mut Secrets,
    ) -> Body {
        if let Some(j) = &mut body.json {
            self.redactor.redact_json(j, secrets);
        }
        if let Some(t) = &body.text {
            let boundary = content_type
                .filter(|t| t.to_ascii_lowercase().starts_with("multipart/"))
                .and_then(|t| {
                    t.split(';')
                        .find_map(|p| p.trim().strip_prefix("boundary="))
                        .map(|b| b.trim_matches('"').to_owned())
                });
            body.text = Some(
                self.redactor
                    .redact_any_text(t, boundary.as_deref(), secrets),
            );
        }
        body
    }

    /// Why a request body does not fit operation `index`'s request body, if it does not.
    fn check_request_body(
        &self,
        index: usize,
        headers: &BTreeMap<String, String>,
        body: &Body,
    ) -> Option<String> {
        let root = self.spec.root();
        let op = &self.spec.operations()[index];
        let at = format!("{}/requestBody", op.pointer);
        let node = root.pointer(&at)?;
        let (at, request_body) = oas::pointer::deref(root, &at, node).ok()?;
        let required = request_body.get("required") == Some(&Value::Bool(true));
        if body.is_empty() {
            return required.then(|| "the request body is required but absent".to_owned());
        }
        let content = request_body.get("content")?.as_object()?;
        let content_type = headers.get("content-type").map(String::as_str);
        let media = content
            .keys()
            .find(|m| content_type.is_some_and(|ct| oas::media::matches(m, ct)))
            .or_else(|| content.keys().find(|m| oas::media::admits_json(m)))?;
        if !oas::media::admits_json(media) {
            return None;
        }
        let Some(json) = &body.json else {
            return Some(format!(
                "the request body is not JSON (`{}` documents {media})",
                op.id
            ));
        };
        let schema_at = format!("{at}/content/{}/schema", oas::pointer::escape(media));
        root.pointer(&schema_at)?;
        let compiled = self
            .spec
            .validator(&schema_at, oas::Direction::Request, false);
        let validator = compiled.as_ref().as_ref().ok()?;
        let violations = validator.validate(json);
        if violations.is_empty() {
            return None;
        }
        let shown: Vec<String> = violations
            .iter()
            .take(3)
            .map(|v| {
                let pointer = if v.instance_pointer.is_empty() {
                    "/"
                } else {
                    v.instance_pointer.as_str()
                };
                if v.properties.is_empty() {
                    format!("{pointer}: {}", v.keyword)
                } else {
                    format!("{pointer}: {} ({})", v.keyword, v.properties.join(", "))
                }
            })
            .collect();
        let more = violations.len().saturating_sub(shown.len());
        Some(format!(
            "the request body does not validate against `{}`'s schema ({schema_at}): {}{}",
            op.id,
            shown.join("; "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn capture(method: &str, path: &str, body: Value, status: u16, response: Value) -> Capture {
        Capture {
            method: method.into(),
            path: path.into(),
            query: None,
            request_headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("X-Recharge-Access-Token".into(), "token-abcdefgh".into()),
                ("Host".into(), "127.0.0.1:1".into()),
            ],
            request_body: serde_json::to_vec(&body).unwrap(),
            status,
            response_headers: vec![
                ("content-type".into(), "application/json".into()),
                ("date".into(), "today".into()),
            ],
            response_body: serde_json::to_vec(&response).unwrap(),
        }
    }

    #[test]
    fn converts_redacts_and_flags() {
        let spec = ApiSpec::new(Api::Recharge).unwrap();
        let mut secrets = Secrets::default();
        let c = capture(
            "post",
            "/checkouts/abc123/charge",
            json!({"payment_processor": "stripe", "payment_token": "tok_1RealToken42"}),
            422,
            json!({"errors": {"payment": "You cannot use a Stripe token more than once: tok_1RealToken42."}}),
        );
        let ex = spec.convert(&c, &mut secrets).unwrap().exchange;
        assert_eq!(ex.operation.as_deref(), Some("chargeCheckout"));
        assert_eq!(ex.request.method, "POST");
        assert_eq!(ex.request.auth, Auth::Inject);
        assert_eq!(
            ex.request.headers.keys().collect::<Vec<_>>(),
            ["content-type"]
        );
        assert_eq!(
            ex.response.headers.keys().collect::<Vec<_>>(),
            ["content-type"]
        );
        let text = serde_json::to_string(&ex.request.body.json).unwrap()
            + &serde_json::to_string(&ex.response.body.json).unwrap();
        assert!(!text.contains("tok_1RealToken42"), "{text}");
        assert!(text.contains("once: [redacted]."), "{text}");

        let c = capture(
            "GET",
            "/nope",
            Value::Null,
            404,
            json!({"errors": "Not Found"}),
        );
        let ex = spec.convert(&c, &mut secrets).unwrap().exchange;
        assert!(ex.flagged.unwrap().contains("matches no operation"));

        let mut c = capture("GET", "/checkouts/x", Value::Null, 401, json!({}));
        c.request_body.clear();
        assert_eq!(
            spec.convert(&c, &mut secrets)
                .unwrap()
                .exchange
                .request
                .auth,
            Auth::Invalid
        );
        c.request_headers
            .retain(|(n, _)| n != "X-Recharge-Access-Token");
        assert_eq!(
            spec.convert(&c, &mut secrets)
                .unwrap()
                .exchange
                .request
                .auth,
            Auth::None
        );
        c.method = "FROB".into();
        assert!(spec.convert(&c, &mut secrets).is_err());
    }

    #[test]
    fn invalid_request_bodies_are_reported_without_values() {
        let spec = ApiSpec::new(Api::Chargily).unwrap();
        let mut secrets = Secrets::default();
        let c = capture(
            "POST",
            "/checkouts",
            json!({"amount": "lots-of-money", "currency": "dzd"}),
            422,
            json!({}),
        );
        let converted = spec.convert(&c, &mut secrets).unwrap();
        let why = converted.invalid_body.unwrap();
        assert!(why.contains("createCheckout"), "{why}");
        assert!(!why.contains("lots-of-money"), "{why}");
        assert!(converted.exchange.flagged.is_none());

        let mut c = capture("POST", "/checkouts", Value::Null, 422, json!({}));
        c.request_body = b"{not json".to_vec();
        let why = spec
            .convert(&c, &mut secrets)
            .unwrap()
            .invalid_body
            .unwrap();
        assert!(why.contains("not JSON"), "{why}");
    }
}
