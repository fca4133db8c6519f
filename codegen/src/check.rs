//! The `openapiv3` structure check of a JSON text, split into jobs that two threads share.
//!
//! Deserializing `openapiv3`'s model costs about four times a JSON parse of the same text
//! (mostly serde's buffering for its untagged and flattened types), more than all the other
//! stages together on a big spec. Run whole on one thread it would be the critical path; split,
//! the thread that starts it at once and the main thread, when it has written the module, share
//! it. The model is deserialized in the pieces `openapiv3` itself reads independently:
//! - every Path Item under `paths` whose key starts with `/`, as
//!   `ReferenceOr<PathItem>` (the `Paths` map reads each so, and ignores other keys but
//!   `x-` extensions, which are any JSON);
//! - `components`, when it is an object, as `Components`;
//! - the document with `paths` emptied and `components` left out, as `OpenAPI` (the other
//!   fields, and the required ones).
//!
//! The model is accepted when every piece is; a refusal (or a document laid out in a way the
//! split does not handle: a repeated top-level key, `paths` not an object…) sends the verdict
//! to the check on the parsed `Value` ([`crate::check_structure`]), which also names the
//! failing path, as before. A text the model accepts is accepted from its `Value` too: the same
//! parser reads both, and the text is only stricter (about repeated keys).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A piece of the check.
enum Job<'t> {
    /// The document without its paths and components.
    Skeleton(String),
    /// The `components` object.
    Components(&'t str),
    /// A run of Path Items.
    PathItems(Vec<&'t str>),
}

impl Job<'_> {
    fn passes(&self) -> bool {
        quietly(|| match self {
            Job::Skeleton(text) => serde_json::from_str::<openapiv3::OpenAPI>(text).is_ok(),
            Job::Components(text) => serde_json::from_str::<openapiv3::Components>(text).is_ok(),
            Job::PathItems(items) => items.iter().all(|text| {
                serde_json::from_str::<openapiv3::ReferenceOr<openapiv3::PathItem>>(text).is_ok()
            }),
        })
    }
}

/// Runs an `openapiv3` deserialization, `false` if it panics.
///
/// `openapiv3` panics ("somehow this parsed successfully the second time") on a text whose
/// objects repeat a key where its typed model refuses the repetition but the `Value` it falls
/// back to, which keeps the last one, does not. The panic is caught and its message kept off
/// standard error; the verdict then comes from the `Value`, as for any other refusal.
fn quietly(deserialize: impl FnOnce() -> bool + std::panic::UnwindSafe) -> bool {
    thread_local! {
        static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let passed = std::panic::catch_unwind(deserialize);
    QUIET.with(|q| q.set(false));
    passed.unwrap_or(false)
}

/// The check's jobs, shared by the threads that run them.
#[derive(Default)]
pub struct Pool<'t> {
    jobs: OnceLock<Vec<Job<'t>>>,
    next: AtomicUsize,
    failed: AtomicBool,
}

impl std::fmt::Debug for Pool<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("jobs", &self.jobs.get().map(Vec::len))
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl<'t> Pool<'t> {
    /// Splits `text` and runs jobs until none is left; `false` when the text cannot be split
    /// (then nothing was checked).
    pub fn start(&self, text: &'t str) -> bool {
        let Some(jobs) = split(text) else {
            return false;
        };
        let _ = self.jobs.set(jobs);
        self.help();
        true
    }

    /// Runs jobs until none is left (none, if the pool has not started).
    pub fn help(&self) {
        let Some(jobs) = self.jobs.get() else { return };
        while let Some(job) = jobs.get(self.next.fetch_add(1, Ordering::Relaxed)) {
            if self.failed.load(Ordering::Relaxed) {
                return;
            }
            if !job.passes() {
                self.failed.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Whether every job passed. Call once the threads that ran jobs are done.
    pub fn passed(&self) -> bool {
        !self.failed.load(Ordering::Relaxed)
    }
}

/// The whole text deserialized as `OpenAPI` on this thread (for a text [`split`] refuses).
pub fn whole(text: &str) -> bool {
    quietly(|| serde_json::from_str::<openapiv3::OpenAPI>(text).is_ok())
}

/// Path Items per job: small enough to share the tail of the work, large enough to matter.
const PATH_ITEM_BYTES: usize = 64 << 10;

/// The jobs for a JSON text: components first (the largest job), then the Path Items in runs,
/// then the skeleton; `None` when the text is not laid out as expected.
fn split(text: &str) -> Option<Vec<Job<'_>>> {
    let mut scan = Scanner { text, i: 0 };
    let entries = scan.object()?;
    scan.ws();
    if scan.i != text.len() {
        return None;
    }
    let mut keys = Vec::with_capacity(entries.len());
    for (key, _) in &entries {
        let key = unquote(key)?;
        if keys.contains(&key) {
            return None;
        }
        keys.push(key);
    }
    let mut jobs = Vec::new();
    let mut skeleton = String::from("{");
    let mut items = Vec::new();
    for ((raw_key, value), key) in entries.iter().zip(&keys) {
        let is_object = value.starts_with('{');
        match key.as_str() {
            "paths" if is_object => {
                for (path, item) in (Scanner { text: value, i: 0 }).object()? {
                    if unquote(path)?.starts_with('/') {
                        items.push(item);
                    }
                }
                push_member(&mut skeleton, raw_key, "{}");
            }
            "components" if is_object => jobs.push(Job::Components(value)),
            _ => push_member(&mut skeleton, raw_key, value),
        }
    }
    skeleton.push('}');
    let mut run: Vec<&str> = Vec::new();
    let mut run_bytes = 0;
    for item in items {
        run_bytes += item.len();
        run.push(item);
        if run_bytes >= PATH_ITEM_BYTES {
            jobs.push(Job::PathItems(std::mem::take(&mut run)));
            run_bytes = 0;
        }
    }
    if !run.is_empty() {
        jobs.push(Job::PathItems(run));
    }
    jobs.push(Job::Skeleton(skeleton));
    Some(jobs)
}

fn push_member(object: &mut String, key: &str, value: &str) {
    if object.len() > 1 {
        object.push(',');
    }
    object.push_str(key);
    object.push(':');
    object.push_str(value);
}

/// A JSON string literal's value.
fn unquote(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str(raw).ok()
    } else {
        Some(inner.to_owned())
    }
}

/// Finds the spans of JSON values without building them. It trusts the text to be JSON (the
/// parser of the `Value` reports it when it is not) and gives up on anything unexpected.
struct Scanner<'t> {
    text: &'t str,
    i: usize,
}

impl<'t> Scanner<'t> {
    fn byte(&self) -> Option<u8> {
        self.text.as_bytes().get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.byte() {
            self.i += 1;
        }
    }

    /// The string literal at the cursor, quotes included.
    fn string(&mut self) -> Option<&'t str> {
        let start = self.i;
        if self.byte()? != b'"' {
            return None;
        }
        self.i += 1;
        let bytes = self.text.as_bytes();
        loop {
            let rest = bytes.get(self.i..)?;
            let at = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
            self.i += at;
            if bytes[self.i] == b'"' {
                self.i += 1;
                return self.text.get(start..self.i);
            }
            self.i += 2;
        }
    }

    /// The value at the cursor (after whitespace).
    fn value(&mut self) -> Option<&'t str> {
        self.ws();
        let start = self.i;
        match self.byte()? {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => {
                let bytes = self.text.as_bytes();
                let mut depth = 0usize;
                loop {
                    let rest = bytes.get(self.i..)?;
                    let at = rest
                        .iter()
                        .position(|&b| matches!(b, b'"' | b'{' | b'}' | b'[' | b']'))?;
                    self.i += at;
                    match bytes[self.i] {
                        b'"' => {
                            self.string()?;
                        }
                        b'{' | b'[' => {
                            depth += 1;
                            self.i += 1;
                        }
                        _ => {
                            depth = depth.checked_sub(1)?;
                            self.i += 1;
                            if depth == 0 {
                                break;
                            }
                        }
                    }
                }
            }
            _ => {
                while let Some(b) = self.byte() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.i += 1;
                }
                if self.i == start {
                    return None;
                }
            }
        }
        self.text.get(start..self.i)
    }

    /// The members of the object at the cursor (after whitespace): raw keys and values.
    fn object(&mut self) -> Option<Vec<(&'t str, &'t str)>> {
        self.ws();
        if self.byte()? != b'{' {
            return None;
        }
        self.i += 1;
        let mut members = Vec::new();
        self.ws();
        if self.byte()? == b'}' {
            self.i += 1;
            return Some(members);
        }
        loop {
            self.ws();
            let key = self.string()?;
            self.ws();
            if self.byte()? != b':' {
                return None;
            }
            self.i += 1;
            let value = self.value()?;
            members.push((key, value));
            self.ws();
            match self.byte()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(members);
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdicts(text: &str) -> (bool, bool) {
        let pool = Pool::default();
        let split = pool.start(text) && pool.passed();
        (split, whole(text))
    }

    fn documents() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for dir in ["tests/fixtures", "tests/hard-cases", "../spec"] {
            let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                .collect();
            paths.sort();
            for path in paths {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                if let Ok(doc) = oas::Document::parse("x", &text, false) {
                    out.extend(serde_json::to_string_pretty(&doc.root).ok());
                }
            }
        }
        out
    }

    #[test]
    fn the_split_check_agrees_with_the_whole_one() {
        let docs = documents();
        assert!(docs.len() >= 17);
        for doc in &docs {
            assert_eq!(verdicts(doc), (true, true));
            // Broken in each piece: a path item, a component schema, the info object.
            for (from, to) in [
                ("\"responses\"", "\"responses\": 7, \"x\""),
                ("\"schemas\": {", "\"schemas\": {\"Broken\": {\"type\": 7},"),
                ("\"info\": {", "\"info\": 7, \"y\": {"),
                ("\"paths\": {", "\"paths\": 7, \"z\": {"),
            ] {
                if doc.contains(from) {
                    let broken = doc.replacen(from, to, 1);
                    let (split, whole) = verdicts(&broken);
                    assert!(!whole, "{to}");
                    assert!(!split, "{to}");
                }
            }
        }
    }

    /// With `CODEGEN_RENDER_CORPUS=1` (run in release): every corpus document, as JSON text.
    #[test]
    fn the_split_check_agrees_with_the_whole_one_on_the_corpus() {
        if std::env::var_os("CODEGEN_RENDER_CORPUS").is_none() {
            return;
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
        let mut count = 0;
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let json = path.extension().is_some_and(|e| e == "json");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let text = if json {
                text
            } else {
                match oas::Document::parse("x", &text, false) {
                    Ok(doc) => serde_json::to_string(&doc.root).unwrap_or_default(),
                    Err(_) => continue,
                }
            };
            let (split, whole) = verdicts(&text);
            assert_eq!(split, whole, "{}", path.display());
            count += 1;
        }
        assert!(count > 100, "{count}");
    }

    #[test]
    fn odd_layouts_are_not_split() {
        assert!(split(r#"{"paths": {}, "paths": {}}"#).is_none());
        assert!(split(r#"{"openapi": "3.0.0"} x"#).is_none());
        assert!(split(r#"{"a": [1, 2}"#).is_none());
        assert!(split("{\"a\": \"\\").is_none());
        assert!(split("[]").is_none());
        let jobs =
            split(r#"{"p\u0061ths": {"/a": {}, "x-b": 1, "c": 2}, "components": null}"#).unwrap();
        assert_eq!(jobs.len(), 2);
        assert!(matches!(&jobs[0], Job::PathItems(items) if items == &["{}"]));
        assert!(
            matches!(&jobs[1], Job::Skeleton(s) if s == r#"{"p\u0061ths":{},"components":null}"#)
        );
    }
}
