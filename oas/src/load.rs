//! Reading OpenAPI documents from YAML or JSON.

use std::path::Path;

use serde_json::{Map, Number, Value};

/// A parsed OpenAPI 3.0 document.
#[derive(Debug, Clone)]
pub struct Document {
    /// Where it came from, as given (a path or a label): used in every message.
    pub source: String,
    /// The document, key order preserved.
    pub root: Value,
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
        "{source_name}: this is a Swagger {version} document; only OpenAPI 3.0.x is supported (convert it, e.g. with swagger2openapi)"
    )]
    Swagger {
        source_name: String,
        version: String,
    },
    #[error(
        "{source_name}: this is an OpenAPI {version} document; only OpenAPI 3.0.x is supported (3.1 changes `nullable`, `exclusiveMinimum` and `type` semantics)"
    )]
    UnsupportedVersion {
        source_name: String,
        version: String,
    },
    #[error("{source_name}: no `openapi` version field; is this an OpenAPI document?")]
    MissingVersion { source_name: String },
}

impl Document {
    /// Reads a file; JSON when it ends in `.json` or starts with `{`, YAML otherwise.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let source_name = path.display().to_string();
        let text = read_spec(path, &source_name)?;
        let json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        Self::parse(&source_name, &text, json)
    }

    /// Parses text (a leading byte-order mark is ignored). `json` forces the JSON parser; otherwise the text is sniffed.
    pub fn parse(source_name: &str, text: &str, json: bool) -> Result<Self, LoadError> {
        let root = parse_value(source_name, text, json)?;
        check_version(source_name, &root)?;
        Ok(Self {
            source: source_name.to_owned(),
            root,
        })
    }

    /// The `openapi` field.
    pub fn version(&self) -> &str {
        self.root
            .get("openapi")
            .and_then(Value::as_str)
            .unwrap_or("")
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
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // serde_yaml mis-reads some JSON (surrogate pairs, huge integers): JSON goes to serde_json.
    let root = if json || text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| LoadError::Syntax {
            source_name: source_name.to_owned(),
            format: "JSON",
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?
    } else {
        check_flow_depth(source_name, text)?;
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(text).map_err(|e| match e.location() {
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
            })?;
        yaml_to_json(yaml)
    };
    if !root.is_object() {
        return Err(LoadError::NotAnObject {
            source_name: source_name.to_owned(),
        });
    }
    Ok(root)
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
            if version.starts_with("3.0") {
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
fn yaml_to_json(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                out.insert(yaml_key(k), yaml_to_json(v));
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

fn yaml_key(k: serde_yaml::Value) -> String {
    match yaml_to_json(k) {
        Value::String(s) => s,
        other => other.to_string(),
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
        let e = Document::parse("s.json", r#"{"openapi": "3.1.0"}"#, true).unwrap_err();
        assert!(e.to_string().contains("OpenAPI 3.1.0"), "{e}");
        let e = Document::parse("s.yaml", "info: {}", false).unwrap_err();
        assert!(matches!(e, LoadError::MissingVersion { .. }));
        let e = Document::parse("s.yaml", "- 1", false).unwrap_err();
        assert!(matches!(e, LoadError::NotAnObject { .. }));
    }
}
