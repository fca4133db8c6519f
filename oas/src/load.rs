//! Reading OpenAPI documents from YAML or JSON.

use std::path::Path;

use serde_json::{Map, Number, Value};

mod halves;

/// A parsed OpenAPI 3.0 or 3.1 document.
#[derive(Debug, Clone)]
pub struct Document {
    /// Where it came from, as given (a path or a label): used in every message.
    pub source: String,
    /// The document, key order preserved.
    pub root: Value,
    /// What was read other than as written (an integer beyond 64 bits, as the nearest
    /// floating-point number), each naming its JSON pointer.
    pub warnings: Vec<String>,
}

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{source_name}: cannot read: {error}")]
    Io {
        source_name: String,
        error: std::io::Error,
    },
    #[error("{source_name}: {error}")]
    Read {
        source_name: String,
        error: crate::files::ReadError,
    },
    #[error("{source_name}:{line}:{column}: invalid {format}: {message}")]
    Syntax {
        source_name: String,
        format: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    /// A syntax error the parser gives no position for (an alias bomb, several documents in
    /// one file): it concerns the document as a whole.
    #[error("{source_name}: invalid {format} (the document as a whole): {message}")]
    DocumentSyntax {
        source_name: String,
        format: &'static str,
        message: String,
    },
    #[error(
        "{source_name}:{line}:{column}: collections nest more than {MAX_FLOW_DEPTH} levels deep; refused before parsing"
    )]
    TooDeep {
        source_name: String,
        line: usize,
        column: usize,
    },
    #[error("{source_name}: the document is not a JSON/YAML object")]
    NotAnObject { source_name: String },
    #[error(
        "{source_name}: this is a Swagger {version} document; only OpenAPI 3.0.x and 3.1.x are supported (convert it, e.g. with swagger2openapi)"
    )]
    Swagger {
        source_name: String,
        version: String,
    },
    #[error(
        "{source_name}: this is an OpenAPI {version} document; only OpenAPI 3.0.x and 3.1.x are supported"
    )]
    UnsupportedVersion {
        source_name: String,
        version: String,
    },
    /// A version the document's reader does not read yet (the generator and OpenAPI 3.1).
    #[error(
        "{source_name}: this is an OpenAPI {version} document; {reader} reads only OpenAPI 3.0.x for now"
    )]
    NotYetReadBy {
        source_name: String,
        version: String,
        reader: &'static str,
    },
    #[error("{source_name}: no `openapi` version field; is this an OpenAPI document?")]
    MissingVersion { source_name: String },
    /// A `$ref` to another file could not be brought in ([`crate::bundle`]).
    #[error("{file} at {at}: {message}")]
    Bundle {
        source_name: String,
        /// The file holding the `$ref`.
        file: String,
        /// Its JSON pointer in that file.
        at: String,
        message: String,
    },
}

impl Document {
    /// Reads a file; JSON when it ends in `.json` or starts with `{`, YAML otherwise.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let source_name = path.display().to_string();
        let text = read_spec(path, &source_name)?;
        let json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let mut doc = Self::parse(&source_name, &text, json)?;
        // A multi-file spec becomes one document here, for every tool.
        if crate::bundle::may_have_external_refs(&text)
            && crate::bundle::has_external_refs(&doc.root)
        {
            let root = std::mem::take(&mut doc.root);
            doc.root = crate::bundle::bundle(path, &source_name, root)?;
        }
        Ok(doc)
    }

    /// Parses text (a leading byte-order mark is ignored). `json` forces the JSON parser; otherwise the text is sniffed.
    pub fn parse(source_name: &str, text: &str, json: bool) -> Result<Self, LoadError> {
        let mut warnings = Vec::new();
        let root = parse_value_warning(source_name, text, json, &mut warnings)?;
        check_version(source_name, &root)?;
        Ok(Self {
            source: source_name.to_owned(),
            root,
            warnings,
        })
    }

    /// The `openapi` field as written (YAML may give it as a number: `openapi: 3.1`).
    pub fn version(&self) -> String {
        self.root
            .get("openapi")
            .map(scalar_text)
            .unwrap_or_default()
    }

    /// Which OpenAPI the document is ([`Version::of`]).
    pub fn openapi(&self) -> Version {
        Version::of(&self.root)
    }
}

/// The two OpenAPI versions read here. They differ mostly in Schema Objects: 3.0's are an
/// extended subset of JSON Schema draft 4 (`nullable`, boolean exclusive bounds, `$ref`
/// siblings ignored), 3.1's are JSON Schema 2020-12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    V3_0,
    V3_1,
}

impl Version {
    /// The version a parsed document declares; 3.0 unless its `openapi` field says 3.1 (a
    /// [`Document`] holds only those two).
    pub fn of(root: &Value) -> Version {
        match root.get("openapi").map(scalar_text) {
            Some(v) if v == "3.1" || v.starts_with("3.1.") => Version::V3_1,
            _ => Version::V3_0,
        }
    }
}

/// Reads a spec file's text: a regular file only, bounded (see [`crate::files`]), without its
/// byte-order mark.
pub fn read_spec(path: &Path, source_name: &str) -> Result<String, LoadError> {
    crate::files::read_text(path).map_err(|error| LoadError::Read {
        source_name: source_name.to_owned(),
        error,
    })
}

/// Parses YAML or JSON into a value without checking that it is OpenAPI.
pub fn parse_value(source_name: &str, text: &str, json: bool) -> Result<Value, LoadError> {
    parse_value_warning(source_name, text, json, &mut Vec::new())
}

/// [`parse_value`], adding to `warnings` what was not read as written.
fn parse_value_warning(
    source_name: &str,
    text: &str,
    json: bool,
    warnings: &mut Vec<String>,
) -> Result<Value, LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // serde_yaml mis-reads some JSON (surrogate pairs, huge integers): JSON goes to serde_json.
    let root = if json || text.trim_start().starts_with('{') {
        let syntax = |e: serde_json::Error| LoadError::Syntax {
            source_name: source_name.to_owned(),
            format: "JSON",
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        // serde_json reads an integer beyond 64 bits as the nearest float, silently: the
        // path-tracking reader names each. Only texts that may hold one pay for it.
        let tracked = long_digit_run(text);
        // In halves only where a second core is idle to take one (`cores`).
        let halves = if text.len() >= halves::SPLIT_PARSE_BYTES && crate::cores::idle() > 1 {
            halves::parse_json_halves(text, tracked, warnings)
        } else {
            None
        };
        match halves {
            Some(root) => root,
            None => parse_json(text, tracked, warnings).map_err(syntax)?,
        }
    } else {
        check_flow_depth(source_name, text)?;
        let mut at = String::new();
        let seed = FromYaml {
            at: &mut at,
            warnings,
            json: false,
        };
        serde::de::DeserializeSeed::deserialize(seed, serde_yaml::Deserializer::from_str(text))
            .map_err(|e| match e.location() {
                Some(l) => LoadError::Syntax {
                    source_name: source_name.to_owned(),
                    format: "YAML",
                    line: l.line(),
                    column: l.column(),
                    message: e.to_string(),
                },
                None => LoadError::DocumentSyntax {
                    source_name: source_name.to_owned(),
                    format: "YAML",
                    message: e.to_string(),
                },
            })?
    };
    if !root.is_object() {
        return Err(LoadError::NotAnObject {
            source_name: source_name.to_owned(),
        });
    }
    Ok(root)
}

/// A JSON text's value, read by serde_json, or by the path-tracking reader when `tracked`
/// (which adds a warning for each integer beyond 64 bits).
fn parse_json(
    text: &str,
    tracked: bool,
    warnings: &mut Vec<String>,
) -> Result<Value, serde_json::Error> {
    if !tracked {
        return serde_json::from_str(text);
    }
    let mut at = String::new();
    let seed = FromYaml {
        at: &mut at,
        warnings,
        json: true,
    };
    let mut d = serde_json::Deserializer::from_str(text);
    let v = serde::de::DeserializeSeed::deserialize(seed, &mut d)?;
    d.end()?;
    Ok(v)
}

/// The deepest bracket nesting a YAML text may reach before it is parsed. The YAML parser
/// refuses nesting past 128 levels anyway, but only after scanning every bracket, in time that
/// grows with the square of the depth (100,000 brackets took over 20 s).
pub const MAX_FLOW_DEPTH: usize = 1000;

/// Refuses YAML whose `[`/`{` nesting goes past [`MAX_FLOW_DEPTH`], in one pass over the bytes.
/// Brackets inside strings are counted too, which can only over-count unbalanced ones; no
/// document the parser would accept comes near the limit.
pub fn check_flow_depth(source_name: &str, text: &str) -> Result<(), LoadError> {
    let (mut depth, mut line, mut column) = (0usize, 1usize, 0usize);
    for b in text.bytes() {
        column += 1;
        match b {
            b'\n' => {
                line += 1;
                column = 0;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(LoadError::TooDeep {
                        source_name: source_name.to_owned(),
                        line,
                        column,
                    });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn check_version(source_name: &str, root: &Value) -> Result<(), LoadError> {
    let name = source_name.to_owned();
    if let Some(v) = root.get("swagger") {
        return Err(LoadError::Swagger {
            source_name: name,
            version: scalar_text(v),
        });
    }
    match root.get("openapi") {
        None => Err(LoadError::MissingVersion { source_name: name }),
        Some(v) => {
            let version = scalar_text(v);
            let minor = |m: &str| version == m || version.starts_with(&format!("{m}."));
            if minor("3.0") || minor("3.1") {
                Ok(())
            } else {
                Err(LoadError::UnsupportedVersion {
                    source_name: name,
                    version,
                })
            }
        }
    }
}

fn scalar_text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// YAML allows non-string keys (`200:` for a status, `true:` in an enum map); JSON and OpenAPI
/// do not, so scalar keys become their text, as every OpenAPI tool reads them.
/// YAML read straight into a JSON value: keys that are not strings become their text
/// (`200`, `true`), tags are dropped, and integers beyond 64 bits (which `serde_yaml`'s own value
/// refuses) become the nearest floating-point number with a warning naming the pointer.
struct FromYaml<'w> {
    /// The pointer of the value being read: one buffer for the whole document, each level
    /// appending its token and cutting it off again (no allocation per node).
    at: &'w mut String,
    warnings: &'w mut Vec<String>,
    /// Reading JSON text: serde_json hands an integer beyond 64 bits over as a float, so an
    /// integral float past the 64-bit range gets the warning (past 128 bits for YAML).
    json: bool,
}

/// Whether `text` has a run of 19 or more ASCII digits anywhere (in a string or not): the
/// least an integer beyond 64 bits needs. Any such run covers a multiple of 16, so only every
/// 16th byte is looked at until a digit is found there: ordinary documents stay on the fast
/// path at a small fraction of a parse.
fn long_digit_run(text: &str) -> bool {
    const LONG: usize = 19;
    const STEP: usize = 16; // at most LONG - 1 (a run of LONG bytes must cover a multiple of it)
    let b = text.as_bytes();
    let mut k = 0;
    while k < b.len() {
        if b[k].is_ascii_digit() {
            let start = b[..k]
                .iter()
                .rposition(|c| !c.is_ascii_digit())
                .map_or(0, |p| p + 1);
            let end = b[k..]
                .iter()
                .position(|c| !c.is_ascii_digit())
                .map_or(b.len(), |p| k + p);
            if end - start >= LONG {
                return true;
            }
            k = end.div_ceil(STEP) * STEP;
        } else {
            k += STEP;
        }
    }
    false
}

impl FromYaml<'_> {
    /// The reader of a member: `at` already holds its pointer.
    fn child(&mut self) -> FromYaml<'_> {
        FromYaml {
            at: self.at,
            warnings: self.warnings,
            json: self.json,
        }
    }

    fn wide(self, text: String, as_f64: f64) -> Value {
        let value = Number::from_f64(as_f64).map_or(Value::Null, Value::Number);
        self.warnings.push(format!(
            "{}: the integer {text} is beyond 64 bits; read as {value}",
            if self.at.is_empty() { "/" } else { &self.at }
        ));
        value
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for FromYaml<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for FromYaml<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    #[allow(clippy::cast_precision_loss)] // the loss is what the warning reports
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(match (i64::try_from(v), u64::try_from(v)) {
            (Ok(i), _) => Value::from(i),
            (_, Ok(u)) => Value::from(u),
            _ => self.wide(v.to_string(), v as f64),
        })
    }

    #[allow(clippy::cast_precision_loss)] // the loss is what the warning reports
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(match u64::try_from(v) {
            Ok(u) => Value::from(u),
            Err(_) => self.wide(v.to_string(), v as f64),
        })
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // 2^63: from there an integral value is past i64 (and past u64 from 2^64, where
        // serde_json stops reading integers exactly).
        const WIDE: f64 = 9_223_372_036_854_775_808.0;
        // serde_json reads -2^63 written as an integer exactly, so an integral float there
        // came from a wider one (or from a float literal: the warning is still true).
        // serde_yaml reads integers up to 128 bits exactly (`visit_i128`/`visit_u128`) and
        // falls back to a float past them.
        let wide = if self.json {
            v >= 2.0 * WIDE || v <= -WIDE
        } else {
            v.abs() >= 2.0 * WIDE * 2.0 * WIDE
        };
        if v.fract() == 0.0 && wide {
            let value = Number::from_f64(v).map_or(Value::Null, Value::Number);
            self.warnings.push(format!(
                "{}: a number beyond 64 bits; read as {value}",
                if self.at.is_empty() { "/" } else { &self.at }
            ));
            return Ok(value);
        }
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        use std::fmt::Write as _;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let len = self.at.len();
        loop {
            let _ = write!(self.at, "/{}", out.len());
            let next = seq.next_element_seed(self.child());
            self.at.truncate(len);
            match next? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::with_capacity(map.size_hint().unwrap_or(0));
        let len = self.at.len();
        loop {
            self.at.push_str("/(key)");
            let key = map.next_key_seed(self.child());
            self.at.truncate(len);
            let key = match key? {
                Some(Value::String(s)) => s,
                Some(other) => other.to_string(),
                None => break,
            };
            crate::pointer::push_token(self.at, &key);
            let value = map.next_value_seed(self.child());
            self.at.truncate(len);
            out.insert(key, value?);
        }
        Ok(Value::Object(out))
    }

    /// A tagged value (`!tag value`): the tag is dropped.
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        use serde::de::VariantAccess as _;
        let (_tag, variant): (serde::de::IgnoredAny, _) = data.variant()?;
        variant.newtype_variant_seed(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Windows editors start files with a byte-order mark; it is not "a second document".
    #[test]
    fn a_byte_order_mark_is_ignored() {
        for (text, json) in [
            ("\u{feff}openapi: 3.0.3\npaths: {}\n", false),
            ("\u{feff}{\"openapi\": \"3.0.3\", \"paths\": {}}", false),
            ("\u{feff}{\"openapi\": \"3.0.3\", \"paths\": {}}", true),
        ] {
            let doc = Document::parse("bom.yaml", text, json).unwrap();
            assert_eq!(doc.version(), "3.0.3");
        }
    }

    /// Deep nesting is refused at once, with its position; errors without a position say that
    /// they concern the whole document instead of pointing at 0:0.
    #[test]
    fn deep_nesting_and_positionless_errors() {
        let deep = format!("openapi: 3.0.3\nx: {}\n", "[".repeat(100_000));
        let err = Document::parse("deep.yaml", &deep, false).unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::TooDeep {
                    line: 2,
                    column: 1004,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("deep.yaml:2:1004: "), "{err}");

        let two = "openapi: 3.0.3\n---\nopenapi: 3.0.3\n";
        let err = Document::parse("two.yaml", two, false).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("two.yaml: invalid YAML (the document as a whole): "),
            "{err}"
        );
    }

    /// Integers beyond 64 bits (OpenAI's spec has `minimum: -9223372036854776000`) are read
    /// as the nearest number, with a warning naming the pointer; integer keys and tags are read
    /// as before.
    #[test]
    fn wide_integers_degrade_with_a_warning() {
        let doc = Document::parse(
            "wide.yaml",
            "openapi: 3.0.3\npaths: {}\nx:\n  min: -9223372036854776000\n  max: 340282366920938463463374607431768211455\n  ok: [18446744073709551615, -9223372036854775808, !tagged 5]\n  200: {1: a}\n",
            false,
        )
        .unwrap();
        assert_eq!(
            doc.root["x"]["min"],
            serde_json::json!(-9.223372036854776e18)
        );
        assert!(doc.root["x"]["max"].is_f64());
        assert_eq!(
            doc.root["x"]["ok"],
            serde_json::json!([u64::MAX, i64::MIN, 5])
        );
        assert_eq!(doc.root["x"]["200"]["1"], "a");
        assert_eq!(doc.warnings.len(), 2, "{:?}", doc.warnings);
        assert!(
            doc.warnings[0]
                .starts_with("/x/min: the integer -9223372036854776000 is beyond 64 bits"),
            "{:?}",
            doc.warnings
        );
    }

    /// The same in JSON text, which serde_json would read as the nearest float silently; a
    /// text with no long digit run takes the fast path and has nothing to report.
    #[test]
    fn wide_integers_in_json_degrade_with_a_warning() {
        let doc = Document::parse(
            "wide.json",
            r#"{"openapi": "3.0.3", "paths": {}, "x": {"min": -9223372036854776000, "max": 123456789012345678901234567890, "ok": [18446744073709551615, -9223372036854775808, 1.5], "id": "1234567890123456789012"}}"#,
            true,
        )
        .unwrap();
        assert_eq!(
            doc.root["x"]["min"],
            serde_json::json!(-9.223372036854776e18)
        );
        assert!(doc.root["x"]["max"].is_f64());
        assert_eq!(
            doc.root["x"]["ok"],
            serde_json::json!([u64::MAX, i64::MIN, 1.5])
        );
        assert_eq!(doc.root["x"]["id"], "1234567890123456789012");
        assert_eq!(
            doc.warnings,
            [
                "/x/min: a number beyond 64 bits; read as -9.223372036854776e+18",
                "/x/max: a number beyond 64 bits; read as 1.2345678901234568e+29",
            ]
        );
        // Syntax errors keep their position on the slow path too.
        let err =
            Document::parse("bad.json", "{\"a\": 12345678901234567890123,}", true).unwrap_err();
        assert!(err.to_string().contains("bad.json:1:"), "{err}");
        let plain =
            Document::parse("plain.json", r#"{"openapi": "3.0.3", "paths": {}}"#, true).unwrap();
        assert!(plain.warnings.is_empty());
    }

    #[test]
    fn long_digit_runs_are_found_at_every_offset() {
        for offset in 0..40 {
            for (len, found) in [(18, false), (19, true), (25, true)] {
                let text = format!(
                    "{}{}x{}",
                    "a".repeat(offset),
                    "7".repeat(len),
                    "1".repeat(5)
                );
                assert_eq!(
                    long_digit_run(&text),
                    found,
                    "offset {offset}, length {len}"
                );
            }
        }
        // Short runs side by side are not one long run.
        assert!(!long_digit_run(&"123456789.".repeat(50)));
    }

    #[test]
    fn yaml_status_keys_become_strings() {
        let doc = Document::parse(
            "t.yaml",
            "openapi: 3.0.3\npaths: {}\nx: {200: a, true: b}\n",
            false,
        )
        .unwrap();
        assert_eq!(doc.root["x"]["200"], "a");
        assert_eq!(doc.root["x"]["true"], "b");
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let err = Document::parse("bad.yaml", "openapi: 3.0.3\npaths: [\n", false).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("bad.yaml:"), "{text}");
        assert!(matches!(err, LoadError::Syntax { line: 3, .. }), "{err:?}");
        let err = Document::parse("bad.json", "{\"openapi\": \"3.0.3\",\n \"paths\": }", true)
            .unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::Syntax {
                    line: 2,
                    format: "JSON",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn other_versions_are_refused_by_name() {
        let e = Document::parse("s.json", r#"{"swagger": "2.0"}"#, true).unwrap_err();
        assert!(e.to_string().contains("Swagger 2.0"), "{e}");
        let e = Document::parse("s.json", r#"{"openapi": "4.0.0"}"#, true).unwrap_err();
        assert!(e.to_string().contains("OpenAPI 4.0.0"), "{e}");
        let e = Document::parse("s.json", r#"{"openapi": "3.10"}"#, true).unwrap_err();
        assert!(e.to_string().contains("OpenAPI 3.10"), "{e}");
        let doc = Document::parse("s.json", r#"{"openapi": "3.1.1"}"#, true).unwrap();
        assert_eq!(doc.openapi(), Version::V3_1);
        let doc = Document::parse("s.json", r#"{"openapi": "3.0.3"}"#, true).unwrap();
        assert_eq!(doc.openapi(), Version::V3_0);
        // Unquoted in YAML, a two-part version is a number.
        let doc = Document::parse("s.yaml", "openapi: 3.1\npaths: {}\n", false).unwrap();
        assert_eq!(
            (doc.openapi(), doc.version().as_str()),
            (Version::V3_1, "3.1")
        );
        let doc = Document::parse("s.yaml", "openapi: 3.0\npaths: {}\n", false).unwrap();
        assert_eq!(
            (doc.openapi(), doc.version().as_str()),
            (Version::V3_0, "3.0")
        );
        let e = Document::parse("s.yaml", "swagger: 2.0\n", false).unwrap_err();
        assert!(e.to_string().contains("Swagger 2.0"), "{e}");
        let e = Document::parse("s.yaml", "info: {}", false).unwrap_err();
        assert!(matches!(e, LoadError::MissingVersion { .. }));
        let e = Document::parse("s.yaml", "- 1", false).unwrap_err();
        assert!(matches!(e, LoadError::NotAnObject { .. }));
    }
}
