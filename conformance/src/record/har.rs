//! HAR 1.2 import (`conformance import-har`): browser and proxy exports turned into a
//! recording.
//!
//! Only the parts a recording needs are read (serde ignores the rest: timings, cookies
//! arrays, cache, `_initiator` and other vendor fields). Entries are kept when their URL lies
//! under the API's base URL and addresses an operation of the spec; the rest (assets, other
//! APIs, CORS preflights, requests that never got a response) are dropped and counted. Kept
//! entries go through the same redaction as the proxy's ([`ApiSpec::convert`]) and are
//! ordered by `startedDateTime` (a stable sort: equal times keep the file's order).
//!
//! The base URL is `--base` when given. Otherwise it is inferred per entry from the spec's
//! `servers` and the reference mock's prefixes (`/chargily/test/api/v2` and the like, on any
//! origin); an API served elsewhere needs `--base` (guessing from the path alone would take
//! `https://cdn.example/products` for Chargily's product list).

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::{ApiSpec, Capture, Secrets};
use crate::mock::{CHARGILY_LIVE_PREFIX, CHARGILY_TEST_PREFIX, RECHARGE_PREFIX};
use crate::recording::Recording;
use crate::specs::Api;

#[derive(Debug, Deserialize)]
struct Har {
    log: Log,
}

#[derive(Debug, Deserialize)]
struct Log {
    entries: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    started_date_time: String,
    request: HarRequest,
    response: HarResponse,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HarRequest {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    post_data: Option<PostData>,
}

#[derive(Debug, Deserialize)]
struct NameValue {
    name: String,
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostData {
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default)]
    text: Option<String>,
    /// Not in HAR 1.2, but some tools mark binary request bodies like response content.
    #[serde(default)]
    encoding: Option<String>,
    /// Form fields, when a tool gives them instead of `text`.
    #[serde(default)]
    params: Vec<NameValue>,
}

#[derive(Debug, Deserialize)]
struct HarResponse {
    /// Signed: browsers write 0 (and some tools -1) for requests that got no response.
    status: i64,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    content: Option<Content>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Content {
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
}

/// Why a HAR file could not be imported, with where in it ([`crate::file_error::FileError`]).
pub type HarError = crate::file_error::FileError;

/// Counts of entries left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Not under the API's base URL, or no operation matches (assets, other APIs, preflights).
    pub outside_api: usize,
    /// The request never got a response (status 0).
    pub no_response: usize,
    /// The recording format cannot hold it (a method that is not HTTP's).
    pub unrecordable: usize,
    /// Request headers left out of kept entries (only those replay needs are kept); not
    /// counted in [`Dropped::total`], which counts entries.
    pub headers: usize,
}

impl Dropped {
    pub fn total(&self) -> usize {
        self.outside_api + self.no_response + self.unrecordable
    }
}

/// A HAR file turned into a recording.
#[derive(Debug, Clone)]
pub struct Imported {
    pub recording: Recording,
    pub dropped: Dropped,
    /// `(exchange index in the recording, why)` for request bodies that fail their schema.
    pub invalid_bodies: Vec<(usize, String)>,
}

/// Reads and converts a HAR file.
pub fn import_file(path: &Path, spec: &ApiSpec, base: Option<&str>) -> Result<Imported, HarError> {
    let text =
        oas::files::read_bounded(path, oas::files::MAX_INPUT_BYTES).map_err(|e| HarError {
            file: path.to_path_buf(),
            line: None,
            column: None,
            path: None,
            message: e.to_string(),
        })?;
    // A byte-order mark is common in files saved by Windows tools.
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&text);
    import(text, path, spec, base)
}

/// Converts HAR text; `file` is used in messages.
pub fn import(
    text: &[u8],
    file: &Path,
    spec: &ApiSpec,
    base: Option<&str>,
) -> Result<Imported, HarError> {
    let err = |path: Option<String>, message: String| HarError {
        file: file.to_path_buf(),
        line: None,
        column: None,
        path,
        message,
    };
    let mut de = serde_json::Deserializer::from_slice(text);
    let har: Har = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = strip_location(&inner.to_string());
        HarError {
            file: file.to_path_buf(),
            line: Some(inner.line()),
            column: Some(inner.column()),
            path: (path != ".").then_some(path),
            message: if inner.is_syntax() || inner.is_eof() {
                format!("not valid JSON (a HAR file is JSON): {message}")
            } else {
                message
            },
        }
    })?;
    // Written into the recording, so `replay --compare-bodies` can normalize recorded URLs.
    let mut base_url = base.map(|b| b.trim_end_matches('/').to_string());
    let base = match base {
        Some(b) => Some(
            Url::parse(b.trim_end_matches('/'))
                .ok_or_else(|| err(None, format!("--base `{b}` is not an http(s) URL")))?,
        ),
        None => None,
    };
    let candidates = Candidates::new(spec, base);

    let mut dropped = Dropped::default();
    // (start time, position in the file, capture)
    let mut kept: Vec<(i128, usize, Capture)> = Vec::new();
    for (i, entry) in har.log.entries.into_iter().enumerate() {
        let at = |field: &str| format!("log.entries[{i}].{field}");
        let started = crate::time::parse_rfc3339(&entry.started_date_time).ok_or_else(|| {
            err(
                Some(at("startedDateTime")),
                format!("`{}` is not an ISO 8601 date-time", entry.started_date_time),
            )
        })?;
        if entry.response.status <= 0 {
            dropped.no_response += 1;
            continue;
        }
        let Some(url) = Url::parse(&entry.request.url) else {
            dropped.outside_api += 1;
            continue;
        };
        let Some((path, query)) = candidates.locate(&entry.request.method, &url) else {
            dropped.outside_api += 1;
            continue;
        };
        if base_url.is_none()
            && let Some(prefix) = url.path.strip_suffix(path.as_str())
        {
            // The base URL the first kept entry was found under.
            base_url = Some(format!("{}{prefix}", url.origin));
        }
        let status = u16::try_from(entry.response.status).unwrap_or(0);
        let mut request_headers: Vec<(String, String)> = entry
            .request
            .headers
            .into_iter()
            .map(|h| (h.name, h.value))
            .collect();
        let request_body = match entry.request.post_data {
            None => Vec::new(),
            Some(pd) => {
                if let Some(mime) = pd.mime_type.filter(|m| !m.is_empty())
                    && !request_headers
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                {
                    request_headers.push(("content-type".into(), mime));
                }
                match (pd.text, pd.encoding) {
                    (Some(t), Some(enc)) => {
                        decode(&t, &enc).map_err(|m| err(Some(at("request.postData.text")), m))?
                    }
                    (Some(t), None) => t.into_bytes(),
                    (None, _) => form(&pd.params).into_bytes(),
                }
            }
        };
        let mut response_headers: Vec<(String, String)> = entry
            .response
            .headers
            .into_iter()
            .map(|h| (h.name, h.value))
            .collect();
        let response_body = match entry.response.content {
            None => Vec::new(),
            Some(content) => {
                if let Some(mime) = content.mime_type.filter(|m| !m.is_empty())
                    && !response_headers
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                {
                    response_headers.push(("content-type".into(), mime));
                }
                match (content.text, content.encoding) {
                    (Some(t), Some(enc)) => {
                        decode(&t, &enc).map_err(|m| err(Some(at("response.content.text")), m))?
                    }
                    (Some(t), None) => t.into_bytes(),
                    (None, _) => Vec::new(),
                }
            }
        };
        kept.push((
            started,
            i,
            Capture {
                method: entry.request.method,
                path,
                query,
                request_headers,
                request_body,
                status,
                response_headers,
                response_body,
            },
        ));
    }
    kept.sort_by_key(|(t, i, _)| (*t, *i));

    let mut recording = Recording::new(spec.api());
    recording.base_url = base_url;
    recording.description = Some(format!(
        "Imported from {} by `conformance import-har` (secrets redacted).",
        file.file_name()
            .map_or_else(|| "a HAR file".into(), |n| n.to_string_lossy().into_owned())
    ));
    let mut secrets = Secrets::default();
    let mut invalid_bodies = Vec::new();
    for (_, _, capture) in &kept {
        match spec.convert(capture, &mut secrets) {
            Ok(c) => {
                dropped.headers += c.dropped_headers;
                if let Some(why) = c.invalid_body {
                    invalid_bodies.push((recording.exchanges.len(), why));
                }
                recording.exchanges.push(c.exchange);
            }
            Err(_) => dropped.unrecordable += 1,
        }
    }
    // Secrets learnt from later entries may sit in earlier ones.
    for ex in &mut recording.exchanges {
        secrets.scrub_exchange(ex);
    }
    Ok(Imported {
        recording,
        dropped,
        invalid_bodies,
    })
}

/// serde_json appends " at line L column C", which the error carries separately.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn decode(text: &str, encoding: &str) -> Result<Vec<u8>, String> {
    if encoding.eq_ignore_ascii_case("base64") {
        base64(text).ok_or_else(|| "`encoding: base64` but the text is not valid base64".into())
    } else {
        Err(format!(
            "unknown `encoding: {encoding}` (HAR 1.2 knows base64)"
        ))
    }
}

/// Standard or URL-safe alphabet, padding optional, whitespace ignored.
fn base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut padding = false;
    for b in text.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                padding = true;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        if padding {
            // Data after padding.
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A lone sextet cannot encode a byte.
    (bits < 6).then_some(out)
}

/// HAR `params` hold decoded names and values: encoded again, so that a value with a space,
/// `&`, `;` or `=` stays one value (and is redacted whole).
fn form(params: &[NameValue]) -> String {
    params
        .iter()
        .map(|p| {
            format!(
                "{}={}",
                oas::url::encode_component(&p.name),
                oas::url::encode_component(&p.value)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The parts of a URL the import needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Url {
    /// `scheme://host[:port]`, lower case, default port removed, no user info.
    origin: String,
    /// Raw, starting with `/`.
    path: String,
    query: Option<String>,
}

impl Url {
    fn parse(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let rest = rest.split('#').next().unwrap_or_default();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..end];
        let host = authority
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if host.is_empty() {
            return None;
        }
        let host = match (scheme.as_str(), host.rsplit_once(':')) {
            ("http", Some((h, "80"))) | ("https", Some((h, "443"))) => h.to_owned(),
            _ => host,
        };
        let rest = &rest[end..];
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q.to_owned()).filter(|q| !q.is_empty())),
            None => (rest, None),
        };
        Some(Self {
            origin: format!("{scheme}://{host}"),
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
            query,
        })
    }
}

/// Where the API may live in a HAR file.
struct Candidates<'a> {
    spec: &'a ApiSpec,
    /// Full base URLs: `--base`, or the spec's servers.
    bases: Vec<Url>,
    /// Path prefixes on any origin (the reference mock's), unless `--base` is given.
    prefixes: Vec<&'static str>,
}

impl<'a> Candidates<'a> {
    fn new(spec: &'a ApiSpec, base: Option<Url>) -> Self {
        if let Some(b) = base {
            return Self {
                spec,
                bases: vec![b],
                prefixes: Vec::new(),
            };
        }
        let bases = spec
            .spec()
            .root()
            .get("servers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("url").and_then(Value::as_str))
            .filter_map(|u| Url::parse(u.trim_end_matches('/')))
            .collect();
        let prefixes = match spec.api() {
            Api::Chargily => vec![CHARGILY_TEST_PREFIX, CHARGILY_LIVE_PREFIX],
            Api::Recharge => vec![RECHARGE_PREFIX],
        };
        Self {
            spec,
            bases,
            prefixes,
        }
    }

    /// The path relative to the API's base URL and the query, when `url` addresses an
    /// operation under one of the candidates (the longest matching base wins).
    fn locate(&self, method: &str, url: &Url) -> Option<(String, Option<String>)> {
        let mut found: Option<(usize, String)> = None;
        let mut consider = |prefix_len: usize, rest: &str| {
            let rest = if rest.is_empty() { "/" } else { rest };
            if rest.starts_with('/')
                && self.spec.operation(method, rest).is_some()
                && found.as_ref().is_none_or(|(l, _)| prefix_len > *l)
            {
                found = Some((prefix_len, rest.to_owned()));
            }
        };
        for base in &self.bases {
            if base.origin == url.origin {
                let prefix = base.path.trim_end_matches('/');
                if let Some(rest) = url.path.strip_prefix(prefix) {
                    consider(base.origin.len() + prefix.len(), rest);
                }
            }
        }
        for prefix in &self.prefixes {
            if let Some(rest) = url.path.strip_prefix(prefix) {
                consider(prefix.len(), rest);
            }
        }
        found.map(|(_, path)| (path, url.query.clone()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn base64_decodes_both_alphabets() {
        assert_eq!(base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64("aGVs\nbG8=").unwrap(), b"hello");
        assert_eq!(base64("-_8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(base64("").unwrap(), b"");
        assert!(base64("a").is_none());
        assert!(base64("aGVsbG8=x").is_none());
        assert!(base64("a*b=").is_none());
    }

    #[test]
    fn urls_split_and_normalize() {
        let u =
            Url::parse("HTTPS://user:pw@Pay.Chargily.net:443/test/api/v2/checkouts?a=1#f").unwrap();
        assert_eq!(u.origin, "https://pay.chargily.net");
        assert_eq!(u.path, "/test/api/v2/checkouts");
        assert_eq!(u.query.as_deref(), Some("a=1"));
        assert_eq!(Url::parse("http://h").unwrap().path, "/");
        assert!(Url::parse("data:text/plain,hi").is_none());
        assert!(Url::parse("http://").is_none());
    }

    #[test]
    fn candidates_use_servers_and_mock_prefixes() {
        let spec = ApiSpec::new(Api::Chargily).unwrap();
        let c = Candidates::new(&spec, None);
        let at = |u: &str| c.locate("GET", &Url::parse(u).unwrap());
        assert_eq!(
            at("https://pay.chargily.net/test/api/v2/balance"),
            Some(("/balance".into(), None))
        );
        assert_eq!(
            at("http://127.0.0.1:9/chargily/api/v2/checkouts?page=2"),
            Some(("/checkouts".into(), Some("page=2".into())))
        );
        assert_eq!(at("https://cdn.example/products"), None);
        assert_eq!(at("https://pay.chargily.net/test/api/v2/nope"), None);
        let c = Candidates::new(&spec, Url::parse("http://shop.test/api"));
        assert_eq!(
            c.locate("GET", &Url::parse("http://shop.test/api/balance").unwrap()),
            Some(("/balance".into(), None))
        );
        assert_eq!(
            c.locate(
                "GET",
                &Url::parse("http://127.0.0.1:9/chargily/api/v2/balance").unwrap()
            ),
            None
        );
    }

    #[test]
    fn truncated_and_mutated_input_never_panics() {
        let good = include_bytes!("../../tests/fixtures/har/chargily-devtools.har");
        let spec = ApiSpec::new(Api::Chargily).unwrap();
        let file = Path::new("x.har");
        assert_eq!(
            import(good, file, &spec, None)
                .unwrap()
                .recording
                .exchanges
                .len(),
            5
        );
        for end in (0..good.len()).step_by(97) {
            assert!(import(&good[..end], file, &spec, None).is_err());
        }
        for at in (0..good.len()).step_by(89) {
            for b in [b'"', b'{', b'0', b'\\', 0xff] {
                let mut bad = good.to_vec();
                bad[at] = b;
                let _ = import(&bad, file, &spec, None);
            }
        }
    }
}
