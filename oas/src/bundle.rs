//! Multi-file specs: relative file `$ref`s (`schemas/pet.yaml`, `common.yaml#/Error`) brought
//! into the root document, so every tool (lint, generator, validator) sees one document.
//!
//! Each referenced (file, pointer) becomes one entry under the root's `components`: its kind
//! comes from the target's own place (`…/components/<kind>/<name>`), else from where it is
//! referenced (parameters, responses, request bodies, headers, examples; schemas otherwise); its
//! name is the pointer's last token (or the file's stem), with `_2`, `_3`… when different targets
//! would share one; every reference to it becomes local. A path item referenced from `paths` is
//! placed inline (OpenAPI 3.0 has no `components/pathItems`). Inside a referenced file, refs are
//! relative to that file (`#/…` means that file). Cycles between files end at the entry already
//! named. URLs are refused (nothing is fetched); files are read as every other input is: regular
//! files only, bounded ([`crate::files`]). A document without external refs is left untouched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::load::{LoadError, parse_value};
use crate::pointer;

/// The most files one bundle reads: a guard against a generated maze of references.
pub const MAX_FILES: usize = 1000;

/// Whether `root` holds a `$ref` that is not local (`#…`); example payloads are data.
pub fn has_external_refs(root: &Value) -> bool {
    fn walk(v: &Value, in_example: bool) -> bool {
        match v {
            Value::Object(m) => m.iter().any(|(k, v)| {
                if k == "$ref" && !in_example {
                    v.as_str().is_some_and(|r| !r.starts_with('#'))
                } else {
                    walk(v, in_example || k == "example" || k == "examples")
                }
            }),
            Value::Array(a) => a.iter().any(|v| walk(v, in_example)),
            _ => false,
        }
    }
    walk(root, false)
}

/// Whether YAML or JSON text may hold a non-local `$ref` (a scan, no parse): `false` means
/// it certainly holds none.
pub fn may_have_external_refs(text: &str) -> bool {
    // Found by its first byte (a `memchr` scan): a search for the whole word was 3 % of a
    // generation from a file.
    text.match_indices('$').any(|(i, _)| {
        text[i + 1..].strip_prefix("ref").is_some_and(|rest| {
            !rest
                .trim_start_matches(['"', '\'', ' ', '\t', ':'])
                .starts_with('#')
        })
    })
}

/// Bundles a root document already parsed from `path` (named `source_name` in errors).
pub fn bundle(path: &Path, source_name: &str, mut root: Value) -> Result<Value, LoadError> {
    let base = absolute(path);
    let mut b = Bundler {
        source_name: source_name.to_owned(),
        root: base.clone(),
        files: HashMap::new(),
        placed: HashMap::new(),
        taken: taken_names(&root),
        added: Vec::new(),
    };
    b.files.insert(base.clone(), root.clone());
    b.rewrite(&mut root, &base, "")?;
    let added = std::mem::take(&mut b.added);
    let Some(top) = root.as_object_mut() else {
        return Err(b.error(&base, "", "the document is not an object".into()));
    };
    let components = top
        .entry("components")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(components) = components.as_object_mut() else {
        return Err(b.error(&base, "/components", "not an object".into()));
    };
    for (kind, name, value) in added {
        let section = components
            .entry(kind.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(section) = section.as_object_mut() else {
            return Err(b.error(
                &base,
                &format!("/components/{kind}"),
                "not an object".into(),
            ));
        };
        section.insert(name, value);
    }
    Ok(root)
}

struct Bundler {
    source_name: String,
    /// The root file (absolute).
    root: PathBuf,
    /// Parsed files by absolute path.
    files: HashMap<PathBuf, Value>,
    /// (file, pointer) → the local `$ref` it became.
    placed: HashMap<(PathBuf, String), String>,
    /// Component names in use, per kind.
    taken: HashMap<String, Vec<String>>,
    /// Entries to add to `components` (kind, name, value), in the order they were met.
    added: Vec<(String, String, Value)>,
}

impl Bundler {
    fn error(&self, file: &Path, at: &str, message: String) -> LoadError {
        let file = if file == self.root {
            self.source_name.clone()
        } else {
            file.display().to_string()
        };
        LoadError::Bundle {
            source_name: self.source_name.clone(),
            file,
            at: if at.is_empty() { "/".into() } else { at.into() },
            message,
        }
    }

    /// Makes every `$ref` under `node` (found at `at` in `file`) local to the root.
    fn rewrite(&mut self, node: &mut Value, file: &Path, at: &str) -> Result<(), LoadError> {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let reference = reference.clone();
                    let (target_file, target) = self.resolve(file, at, &reference)?;
                    if target_file == self.root {
                        // Already local to the root, or a file pointing back into it.
                        if !reference.starts_with('#') {
                            let local =
                                format!("#{}", target.replace('%', "%25").replace(' ', "%20"));
                            map.insert("$ref".into(), Value::String(local));
                        }
                        return Ok(());
                    }
                    if is_path_item(file == self.root, at) {
                        let mut value = self.target(&target_file, &target, file, at)?;
                        self.rewrite(&mut value, &target_file, &target)?;
                        *node = value;
                        return Ok(());
                    }
                    let local = self.place(&target_file, &target, file, at)?;
                    map.insert("$ref".into(), Value::String(local));
                    return Ok(());
                }
                for (k, v) in map.iter_mut() {
                    // Example payloads are data: a `$ref` key inside one is not a reference.
                    if k == "example" || (k == "value" && at.contains("/examples/")) {
                        continue;
                    }
                    let child = pointer::push(at, k);
                    self.rewrite(v, file, &child)?;
                }
                Ok(())
            }
            Value::Array(items) => {
                for (i, v) in items.iter_mut().enumerate() {
                    self.rewrite(v, file, &format!("{at}/{i}"))?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The file and pointer a `$ref` written in `file` names.
    fn resolve(
        &mut self,
        file: &Path,
        at: &str,
        reference: &str,
    ) -> Result<(PathBuf, String), LoadError> {
        let (location, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        if location.contains("://")
            || location.split_once(':').is_some_and(|(scheme, _)| {
                scheme.len() > 1
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            })
        {
            return Err(self.error(
                file,
                at,
                format!("`$ref: {reference}` names a URL; only relative files are read, nothing is fetched"),
            ));
        }
        let target_file = if location.is_empty() {
            file.to_path_buf()
        } else {
            let relative = crate::url::decode(location);
            normalize(&file.parent().unwrap_or(Path::new(".")).join(relative))
        };
        let pointer = crate::url::decode(fragment);
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(self.error(
                file,
                at,
                format!("`$ref: {reference}`: the fragment is not a JSON pointer"),
            ));
        }
        if !self.files.contains_key(&target_file) {
            if self.files.len() >= MAX_FILES {
                return Err(self.error(
                    file,
                    at,
                    format!("more than {MAX_FILES} files referenced; refused"),
                ));
            }
            let name = target_file.display().to_string();
            let text = crate::load::read_spec(&target_file, &name)
                .map_err(|e| self.error(file, at, format!("`$ref: {reference}`: {e}")))?;
            let json = target_file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            let value = parse_value(&name, &text, json).or_else(|e| match e {
                // A referenced file may be a bare scalar or list; only the root must be an object.
                LoadError::NotAnObject { .. } => {
                    serde_yaml::from_str::<Value>(&text).map_err(|_| e)
                }
                other => Err(other),
            })?;
            self.files.insert(target_file.clone(), value);
        }
        Ok((target_file, pointer))
    }

    /// The value at `pointer` in `file` (read by [`Self::resolve`]).
    fn target(
        &self,
        file: &Path,
        pointer: &str,
        from: &Path,
        at: &str,
    ) -> Result<Value, LoadError> {
        self.files
            .get(file)
            .and_then(|v| v.pointer(pointer))
            .cloned()
            .ok_or_else(|| {
                self.error(
                    from,
                    at,
                    format!("`{}#{pointer}`: no such place in that file", file.display()),
                )
            })
    }

    /// The local `$ref` for (file, pointer), placing the target under `components` the first
    /// time (its refs rewritten in turn).
    fn place(
        &mut self,
        file: &Path,
        pointer: &str,
        from: &Path,
        at: &str,
    ) -> Result<String, LoadError> {
        let key = (file.to_path_buf(), pointer.to_owned());
        if let Some(local) = self.placed.get(&key) {
            return Ok(local.clone());
        }
        let tokens: Vec<String> = pointer.split('/').skip(1).map(pointer::unescape).collect();
        let kind = match tokens.as_slice() {
            [.., c, kind, _] if c == "components" => kind.clone(),
            _ => kind_from_context(at).to_owned(),
        };
        let wanted = tokens
            .last()
            .cloned()
            .or_else(|| file.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "Imported".into());
        let taken = self.taken.entry(kind.clone()).or_default();
        let mut name = wanted.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{wanted}_{n}");
            n += 1;
        }
        taken.push(name.clone());
        let local = format!(
            "#/components/{}/{}",
            pointer::escape(&kind),
            pointer::escape(&name)
        );
        self.placed.insert(key, local.clone());
        let mut value = self.target(file, pointer, from, at)?;
        // Placed before rewriting its own refs, so a cycle between files ends here.
        let slot = self.added.len();
        self.added.push((kind, name, Value::Null));
        self.rewrite(&mut value, file, pointer)?;
        self.added[slot].2 = value;
        Ok(local)
    }
}

/// Whether a `$ref` at `at` stands for a path item (`/paths/<path>` of the root document).
fn is_path_item(in_root: bool, at: &str) -> bool {
    in_root
        && at
            .strip_prefix("/paths/")
            .is_some_and(|rest| !rest.contains('/'))
}

/// The `components` section a target belongs in, from where it is referenced.
fn kind_from_context(at: &str) -> &'static str {
    let tokens: Vec<&str> = at.split('/').collect();
    match tokens.as_slice() {
        [.., "parameters", i] if i.parse::<usize>().is_ok() => "parameters",
        [.., "responses", _] => "responses",
        [.., "requestBody"] => "requestBodies",
        [.., "headers", _] => "headers",
        [.., "examples", _] => "examples",
        [.., "links", _] => "links",
        [.., "callbacks", _] => "callbacks",
        _ => "schemas",
    }
}

/// The component names the root already uses, per kind.
fn taken_names(root: &Value) -> HashMap<String, Vec<String>> {
    root.get("components")
        .and_then(Value::as_object)
        .map(|c| {
            c.iter()
                .map(|(kind, section)| {
                    let names = section
                        .as_object()
                        .map(|s| s.keys().cloned().collect())
                        .unwrap_or_default();
                    (kind.clone(), names)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn absolute(path: &Path) -> PathBuf {
    normalize(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// `a/./b/../c` → `a/c`, without touching the file system (so a missing file is reported as
/// missing, by the reader).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::may_have_external_refs as may;

    #[test]
    fn external_refs_are_found_by_a_scan() {
        assert!(!may("a: {$ref: '#/x'}\nb: $5"));
        assert!(!may(
            r##"{"$ref": "#/components/schemas/A", "price": "$9"}"##
        ));
        assert!(may("a: {$ref: 'other.yaml#/x'}"));
        assert!(may(r#"{"$ref":"https://example.com/a.json"}"#));
        assert!(may("x: $ref"));
        assert!(!may("no reference at all, $ or $re"));
    }
}
