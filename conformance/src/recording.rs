//! The recording format: scenarios of HTTP exchanges captured from a system, replayed by
//! `conformance replay`. Documented for users in `conformance/RECORDINGS.md`.
//!
//! A recording is one YAML (or JSON) file holding one scenario: an ordered list of exchanges,
//! each a request and the response the system it was captured on sent back. Paths are relative
//! to the API's base URL, so a recording replays against any deployment. Credentials are never
//! stored: the runner injects them (see [`Auth`]).
//!
//! Loading never panics; every error names the file and, where it can, the line.

use crate::headers;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::specs::Api;

/// The value of the `format` key, so a stray YAML file is not mistaken for a recording.
pub const FORMAT: &str = "checkout-conformance-recording";
/// The format version this build reads and writes.
pub const VERSION: u32 = 1;

/// One scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`]; a later version is refused with a clear message.
    pub version: u32,
    pub api: ApiName,
    /// Defaults to the file name without its extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The API base URL the exchanges were captured at: lets URLs in recorded bodies be
    /// normalized like live ones (`--compare-bodies`). Informational otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Run alone, after every other scenario of the run (e.g. one that exhausts a rate limit
    /// shared by the whole target).
    #[serde(default, skip_serializing_if = "is_false")]
    pub exclusive: bool,
    pub exchanges: Vec<Exchange>,
}

/// The API a recording addresses, as written in files (`chargily`, `recharge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApiName {
    Chargily,
    Recharge,
}

impl From<ApiName> for Api {
    fn from(a: ApiName) -> Api {
        match a {
            ApiName::Chargily => Api::Chargily,
            ApiName::Recharge => Api::Recharge,
        }
    }
}

impl From<Api> for ApiName {
    fn from(a: Api) -> ApiName {
        match a {
            Api::Chargily => ApiName::Chargily,
            Api::Recharge => ApiName::Recharge,
        }
    }
}

/// A request and the response recorded for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// A human label for reports and snapshot names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The spec's `operationId` this exchange exercises. Checked against the spec on load;
    /// absent for exchanges to the target's control API or flagged ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    pub request: Request,
    pub response: Response,
    /// Explicit captures, for values the automatic rebinding cannot see: name → `body:<JSON
    /// pointer>` or `header:<name>` of the live response. Later requests use `{{name}}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture: BTreeMap<String, String>,
    /// Consecutive exchanges with the same label are sent at the same time; their responses
    /// are matched to the recorded ones in order of status (which one wins a race is not
    /// deterministic, the set of outcomes is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrent: Option<String>,
    /// Send the request again until the status is `until_status` (at most `max` times); only
    /// the final response is compared with the recording, every one is checked against the
    /// spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<Repeat>,
    /// Why a recorder kept this exchange although something is off (it matches no operation,
    /// or its request body does not validate). Flagged exchanges are reported, not replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flagged: Option<String>,
}

/// See [`Exchange::repeat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    pub until_status: u16,
    pub max: u32,
}

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Destination {
    /// The API's base URL.
    #[default]
    Api,
    /// The target's control API (the mock's `/_mock`), for what no vendor API can do, such as
    /// paying a checkout. Scenarios that need it are skipped when the target has none.
    Control,
}

/// Which credentials the runner sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Auth {
    /// The run's credentials (flags or environment).
    #[default]
    Inject,
    /// No credentials at all.
    None,
    /// Credentials the target must reject.
    Invalid,
}

/// A recorded request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawRequest")]
pub struct Request {
    pub method: String,
    /// Relative to the API's base URL (or the control URL), starting with `/`.
    pub path: String,
    /// The raw query string, without `?`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Lower-case names. Credentials are never stored here.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(flatten)]
    pub body: Body,
    #[serde(default, skip_serializing_if = "is_default")]
    pub auth: Auth,
    #[serde(default, skip_serializing_if = "is_default")]
    pub to: Destination,
}

/// A recorded response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawResponse")]
pub struct Response {
    pub status: u16,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(flatten)]
    pub body: Body,
}

/// A body: JSON (kept as a value, so YAML files stay readable), text (anything else, or JSON
/// that is deliberately malformed), or nothing.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Body {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Body {
    pub fn json(value: Value) -> Self {
        Self {
            json: Some(value),
            text: None,
        }
    }

    pub fn text(text: impl Into<String>) -> Self {
        Self {
            json: None,
            text: Some(text.into()),
        }
    }

    /// Classifies received bytes: JSON when the media type says so and the bytes parse,
    /// text otherwise (lossy UTF-8), nothing when empty.
    pub fn from_bytes(content_type: Option<&str>, bytes: &[u8]) -> Self {
        if bytes.is_empty() {
            return Self::default();
        }
        if content_type.is_some_and(oas::media::admits_json)
            && let Ok(v) = serde_json::from_slice::<Value>(bytes)
        {
            return Self::json(v);
        }
        Self::text(String::from_utf8_lossy(bytes).into_owned())
    }

    /// The bytes to send.
    pub fn to_bytes(&self) -> Vec<u8> {
        match (&self.json, &self.text) {
            (Some(v), _) => serde_json::to_vec(v).unwrap_or_default(),
            (None, Some(t)) => t.as_bytes().to_vec(),
            (None, None) => Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.json.is_none() && self.text.is_none()
    }
}

// The raw shapes check what serde cannot express; errors raised here carry the YAML location.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    method: String,
    path: String,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    json: Option<Value>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    auth: Auth,
    #[serde(default)]
    to: Destination,
}

impl TryFrom<RawRequest> for Request {
    type Error = String;

    fn try_from(r: RawRequest) -> Result<Self, String> {
        let method = r.method.to_ascii_uppercase();
        if !oas::HTTP_METHODS.contains(&method.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "request.method: `{}` is not an HTTP method",
                r.method
            ));
        }
        if !r.path.starts_with('/') {
            return Err(format!(
                "request.path: `{}` must start with `/` (it is relative to the API's base URL)",
                r.path
            ));
        }
        if r.json.is_some() && r.text.is_some() {
            return Err("request: give `json` or `text`, not both".into());
        }
        let mut headers = BTreeMap::new();
        for (name, value) in r.headers {
            let lower = name.to_ascii_lowercase();
            if headers::is_refused_in_recording(&lower) {
                return Err(format!(
                    "request.headers: `{name}` is a credential; recordings never hold credentials \
                     (use `auth: inject|none|invalid`)"
                ));
            }
            check_header("request", &name, &value)?;
            headers.insert(lower, value);
        }
        if let Some(bad) = r
            .path
            .chars()
            .chain(r.query.iter().flat_map(|q| q.chars()))
            .find(|c| c.is_control() || c.is_whitespace())
        {
            return Err(format!(
                "request: the path and query may not hold {bad:?} (percent-encode it)"
            ));
        }
        Ok(Request {
            method,
            path: r.path,
            query: r.query.filter(|q| !q.is_empty()),
            headers,
            body: Body {
                json: r.json,
                text: r.text,
            },
            auth: r.auth,
            to: r.to,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResponse {
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    json: Option<Value>,
    #[serde(default)]
    text: Option<String>,
}

impl TryFrom<RawResponse> for Response {
    type Error = String;

    fn try_from(r: RawResponse) -> Result<Self, String> {
        if !(100..=599).contains(&r.status) {
            return Err(format!(
                "response.status: {} is not an HTTP status",
                r.status
            ));
        }
        if r.json.is_some() && r.text.is_some() {
            return Err("response: give `json` or `text`, not both".into());
        }
        for (name, value) in &r.headers {
            check_header("response", name, value)?;
        }
        Ok(Response {
            status: r.status,
            headers: r
                .headers
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            body: Body {
                json: r.json,
                text: r.text,
            },
        })
    }
}

/// A header that could never be sent (a CR or LF in its value, a name that is no HTTP token) is
/// an error in the recording, not a finding about the target.
fn check_header(side: &str, name: &str, value: &str) -> Result<(), String> {
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!(
            "{side}.headers: `{name}` is not a valid header name"
        ));
    }
    if http::HeaderValue::from_str(value).is_err() {
        return Err(format!(
            "{side}.headers.{name}: the value holds a line break or another control character"
        ));
    }
    Ok(())
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_default<T: Default + PartialEq>(t: &T) -> bool {
    *t == T::default()
}

/// Why a recording could not be used ([`crate::file_error::FileError`]: the file, the line when known, what is
/// wrong).
pub type RecordingError = crate::file_error::FileError;

/// A recording with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub file: PathBuf,
    pub recording: Recording,
    /// 1-based line of each exchange's list item, where the text is laid out as this tool
    /// writes it (used in messages; `None` when it could not be found).
    pub lines: Vec<Option<usize>>,
}

impl Loaded {
    /// The scenario's name: its `name`, else the file stem.
    pub fn name(&self) -> String {
        self.recording.name.clone().unwrap_or_else(|| {
            self.file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
    }

    pub fn api(&self) -> Api {
        self.recording.api.into()
    }

    /// An error about exchange `index`, located at its line.
    pub fn error_at(&self, index: usize, message: impl Into<String>) -> RecordingError {
        RecordingError {
            path: None,
            file: self.file.clone(),
            line: self.lines.get(index).copied().flatten(),
            column: None,
            message: format!("exchanges[{index}]: {}", message.into()),
        }
    }
}

/// The most times one exchange may be repeated (`repeat.max`): enough to drain any rate limit we
/// know (ReCharge's bucket holds 40), small enough that a typo cannot loop for hours.
pub const MAX_REPEAT: u32 = 1000;

/// Reads and parses one recording file.
pub fn load(path: &Path) -> Result<Loaded, RecordingError> {
    let text = oas::files::read_text(path).map_err(|e| RecordingError {
        path: None,
        file: path.to_path_buf(),
        line: None,
        column: None,
        message: e.to_string(),
    })?;
    parse(path, &text)
}

/// Parses a recording from text; `path` is used in messages and for the default name.
pub fn parse(path: &Path, text: &str) -> Result<Loaded, RecordingError> {
    let err = |line, column, message: String| RecordingError {
        path: None,
        file: path.to_path_buf(),
        line,
        column,
        message,
    };
    if let Err(e) = oas::load::check_flow_depth("", text) {
        let (line, column) = match e {
            oas::LoadError::TooDeep { line, column, .. } => (Some(line), Some(column)),
            _ => (None, None),
        };
        return Err(err(
            line,
            column,
            format!(
                "collections nest more than {} levels deep; refused before parsing",
                oas::load::MAX_FLOW_DEPTH
            ),
        ));
    }
    // Check the header first, so a file of another kind or a later version gets a message
    // about that rather than about some field it does not know.
    let header: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
        let loc = e.location();
        err(
            loc.as_ref().map(|l| l.line()),
            loc.as_ref().map(|l| l.column()),
            format!("not valid YAML/JSON: {e}"),
        )
    })?;
    match header.get("format").and_then(serde_yaml::Value::as_str) {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(err(
                None,
                None,
                format!("`format: {other}` is not a recording (expected `format: {FORMAT}`)"),
            ));
        }
        None => {
            return Err(err(
                None,
                None,
                format!("not a recording: the `format: {FORMAT}` key is missing"),
            ));
        }
    }
    match header.get("version").and_then(serde_yaml::Value::as_u64) {
        Some(v) if v == u64::from(VERSION) => {}
        Some(v) => {
            return Err(err(
                None,
                None,
                format!(
                    "recording format version {v} is not supported (this build reads version {VERSION})"
                ),
            ));
        }
        None => return Err(err(None, None, "`version` is missing".into())),
    }
    let recording: Recording = serde_yaml::from_str(text).map_err(|e| {
        let loc = e.location();
        err(
            loc.as_ref().map(|l| l.line()),
            loc.as_ref().map(|l| l.column()),
            without_location(&e.to_string()),
        )
    })?;
    let lines = exchange_lines(text, recording.exchanges.len());
    let loaded = Loaded {
        file: path.to_path_buf(),
        recording,
        lines,
    };
    for (i, ex) in loaded.recording.exchanges.iter().enumerate() {
        if let Some(r) = ex.repeat
            && !(1..=MAX_REPEAT).contains(&r.max)
        {
            return Err(loaded.error_at(
                i,
                format!(
                    "repeat.max must be between 1 and {MAX_REPEAT}, not {}",
                    r.max
                ),
            ));
        }
        for (name, source) in &ex.capture {
            if !(source.starts_with("body:") || source.starts_with("header:")) {
                return Err(loaded.error_at(
                    i,
                    format!("capture `{name}`: `{source}` must start with `body:` or `header:`"),
                ));
            }
        }
    }
    Ok(loaded)
}

/// serde_yaml appends " at line L column C", which the error already carries.
fn without_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Finds the line of each item of the top-level `exchanges` list in block-style YAML.
/// Best effort: JSON or flow-style files get `None`.
fn exchange_lines(text: &str, count: usize) -> Vec<Option<usize>> {
    let mut out = Vec::with_capacity(count);
    let mut inside = false;
    let mut indent = None;
    for (n, line) in text.lines().enumerate() {
        if !inside {
            inside = line.trim_end() == "exchanges:";
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let this = line.len() - trimmed.len();
        if this == 0 && !trimmed.starts_with('-') {
            break;
        }
        if trimmed.starts_with("- ") || trimmed == "-" {
            match indent {
                None => {
                    indent = Some(this);
                    out.push(Some(n + 1));
                }
                Some(i) if i == this => out.push(Some(n + 1)),
                _ => {}
            }
        }
    }
    out.resize(count, None);
    out.truncate(count);
    out
}

/// Every recording file (`*.yaml`, `*.yml`, `*.json`) under `dir`, recursively, sorted by
/// path so runs and shards are deterministic. Linked folders are followed once: a folder (or a
/// file) reached again through a symbolic link, a loop included, is not listed twice.
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>, RecordingError> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if !seen.insert(std::fs::canonicalize(&d).unwrap_or_else(|_| d.clone())) {
            continue;
        }
        let entries = std::fs::read_dir(&d).map_err(|e| RecordingError {
            path: None,
            file: d.clone(),
            line: None,
            column: None,
            message: format!("cannot list recordings: {e}"),
        })?;
        // Sorted, and folders visited in name order, so which of two paths to one file is kept
        // does not depend on the file system's listing order.
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        let mut folders = Vec::new();
        for p in paths {
            if p.is_dir() {
                folders.push(p);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) && !is_rules_file(&p)
                && seen.insert(std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone()))
            {
                out.push(p);
            }
        }
        stack.extend(folders.into_iter().rev());
    }
    out.sort();
    Ok(out)
}

/// The per-API normalization rules live beside the recordings and are not recordings.
pub fn is_rules_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "normalize.yaml")
}

/// Serializes a recording the way this tool writes them (YAML, keys in a fixed order).
pub fn to_yaml(recording: &Recording) -> String {
    let mut out = String::from(
        "# A conformance recording: see conformance/RECORDINGS.md. Replay with `conformance replay`.\n",
    );
    out.push_str(&serde_yaml::to_string(recording).unwrap_or_default());
    out
}

/// Writes a recording atomically (see [`oas::files::write_atomic`]), so an interrupted write
/// never leaves a truncated recording or destroys the previous one.
pub fn write_atomic(path: &Path, recording: &Recording) -> std::io::Result<()> {
    oas::files::write_atomic(path, to_yaml(recording).as_bytes())
}

impl Recording {
    /// An empty recording of `api`.
    pub fn new(api: Api) -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            api: api.into(),
            name: None,
            description: None,
            base_url: None,
            exclusive: false,
            exchanges: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const GOOD: &str = "\
format: checkout-conformance-recording
version: 1
api: chargily
exchanges:
- name: balance
  operation: retrieveBalance
  request:
    method: get
    path: /balance
  response:
    status: 200
    headers:
      Content-Type: application/json
    json:
      entity: balance
- request:
    method: POST
    path: /customers
    json: {name: x}
    auth: invalid
  response:
    status: 401
    text: nope
";

    #[test]
    fn parses_and_normalizes() {
        let l = parse(Path::new("r/x.yaml"), GOOD).unwrap();
        assert_eq!(l.name(), "x");
        assert_eq!(l.lines, vec![Some(5), Some(16)]);
        let r = &l.recording;
        assert_eq!(r.exchanges[0].request.method, "GET");
        assert_eq!(
            r.exchanges[0]
                .response
                .headers
                .get("content-type")
                .map(String::as_str),
            Some("application/json")
        );
        assert_eq!(r.exchanges[1].request.auth, Auth::Invalid);
        assert_eq!(r.exchanges[1].response.body, Body::text("nope"));
        // Writing and reading back gives the same recording.
        let again = parse(Path::new("r/x.yaml"), &to_yaml(r)).unwrap();
        assert_eq!(&again.recording, r);
    }

    /// What could never be sent is an error in the recording (exit 2), not a finding about the
    /// target: a line break in a header value, a bad header name, whitespace in the path, and a
    /// repeat count that would loop for hours.
    #[test]
    fn unsendable_requests_and_unbounded_repeats_are_load_errors() {
        let with = |from: &str, to: &str| {
            assert!(GOOD.contains(from), "{from}");
            parse(Path::new("x.yaml"), &GOOD.replace(from, to))
        };
        let cases = [
            (
                "    path: /balance\n",
                "    path: /balance\n    headers: {x-trace: \"a\\r\\nInjected: 1\"}\n",
                "line break",
            ),
            (
                "    path: /balance\n",
                "    path: /balance\n    headers: {\"bad name\": x}\n",
                "not a valid header name",
            ),
            (
                "      Content-Type: application/json\n",
                "      Content-Type: \"application/json\\n\"\n",
                "line break",
            ),
            (
                "    path: /balance\n",
                "    path: /bal ance\n",
                "percent-encode",
            ),
            (
                "    path: /balance\n",
                "    path: /balance\n    query: \"a=1\\tb\"\n",
                "percent-encode",
            ),
        ];
        for (from, to, expected) in cases {
            let e = with(from, to).unwrap_err();
            assert!(e.message.contains(expected), "{to}: {e}");
            assert!(e.line.is_some(), "{e}");
        }
        let repeat = |max: u64| {
            with(
                "  operation: retrieveBalance\n",
                &format!(
                    "  operation: retrieveBalance\n  repeat: {{until_status: 418, max: {max}}}\n"
                ),
            )
        };
        assert!(repeat(MAX_REPEAT.into()).is_ok());
        let deep = format!("{GOOD}x: {}\n", "[".repeat(100_000));
        let e = parse(Path::new("x.yaml"), &deep).unwrap_err();
        assert!(e.message.contains("nest more than 1000"), "{e}");
        assert!(e.line.is_some(), "{e}");
        for max in [0, u64::from(MAX_REPEAT) + 1, 4_294_967_295] {
            let e = repeat(max).unwrap_err();
            assert!(e.message.contains("repeat.max"), "{max}: {e}");
        }
    }

    /// A link loop lists each recording once, and a link to a device is refused, not read.
    #[cfg(unix)]
    #[test]
    fn discovery_lists_each_file_once_and_reads_only_files() {
        let dir = std::env::temp_dir().join(format!("recordings-links-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("chargily")).unwrap();
        std::fs::write(dir.join("chargily/a.yaml"), GOOD).unwrap();
        std::os::unix::fs::symlink(&dir, dir.join("chargily/loop")).unwrap();
        std::os::unix::fs::symlink(dir.join("chargily/a.yaml"), dir.join("b.yaml")).unwrap();
        let found = discover(&dir).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");

        std::os::unix::fs::symlink("/dev/zero", dir.join("zero.yaml")).unwrap();
        let found = discover(&dir).unwrap();
        let zero = found.iter().find(|p| p.ends_with("zero.yaml")).unwrap();
        let e = load(zero).unwrap_err();
        assert!(e.message.contains("not a regular file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_name_file_and_line() {
        let bad = GOOD.replace("method: POST", "method: FROB");
        let e = parse(Path::new("r/x.yaml"), &bad).unwrap_err();
        assert_eq!(e.line, Some(16), "{e}");
        assert!(e.to_string().starts_with("r/x.yaml:16:"), "{e}");
        assert!(e.message.contains("FROB"), "{e}");

        let secret = GOOD.replace(
            "    path: /balance\n",
            "    path: /balance\n    headers: {Authorization: Bearer sk}\n",
        );
        let e = parse(Path::new("x.yaml"), &secret).unwrap_err();
        assert!(e.message.contains("credential"), "{e}");

        let e = parse(
            Path::new("x.yaml"),
            &GOOD.replace("version: 1", "version: 9"),
        )
        .unwrap_err();
        assert!(e.message.contains("version 9"), "{e}");
        let e = parse(Path::new("x.yaml"), "openapi: 3.0.3\n").unwrap_err();
        assert!(e.message.contains("format"), "{e}");
        let e = parse(Path::new("x.yaml"), "format: [\n").unwrap_err();
        assert!(e.line.is_some(), "{e}");
        let e = parse(
            Path::new("x.yaml"),
            &GOOD.replace("status: 401", "status: 4010"),
        )
        .unwrap_err();
        assert!(e.message.contains("4010"), "{e}");
    }
}
