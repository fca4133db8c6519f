//! `cargo codegen sync`: `spec/*.yaml` → `generated/src/<spec stem>.rs`.

use std::path::{Path, PathBuf};

use crate::{Error, Settings, generate};

/// One spec and the file generated from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// Relative to the workspace root, with `/` separators (it appears in the header).
    pub spec: String,
    pub output: PathBuf,
}

/// The specs under `root/spec` and their outputs under `root/generated/src`, sorted.
pub fn pairs(root: &Path) -> Result<Vec<Pair>, Error> {
    let dir = root.join("spec");
    let entries = std::fs::read_dir(&dir).map_err(|error| oas::LoadError::Io {
        source_name: dir.display().to_string(),
        error,
    })?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().replace(['-', '.'], "_"))
                .unwrap_or_default();
            let name = path
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push(Pair {
                spec: format!("spec/{name}"),
                output: root.join("generated/src").join(format!("{stem}.rs")),
            });
        }
    }
    out.sort_by(|a, b| a.spec.cmp(&b.spec));
    Ok(out)
}

/// What `sync` found for one pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    UpToDate,
    /// The file differs (or is missing); with `check`, left as is.
    Stale,
    /// The file was rewritten.
    Written,
}

/// The settings the checked-in types are generated with.
pub fn checked_in_settings() -> Settings {
    Settings {
        client: crate::ClientCode::Hyper {
            feature: Some("hyper".to_owned()),
        },
        server: true,
        ..Settings::default()
    }
}

/// Regenerates every pair (or, with `check`, only compares).
pub fn sync(root: &Path, check: bool) -> Result<Vec<(Pair, Status)>, Error> {
    let mut results = Vec::new();
    for pair in pairs(root)? {
        let text = oas::load::read_spec(&root.join(&pair.spec), &pair.spec)?;
        let json = pair.spec.ends_with(".json");
        let code = generate(&pair.spec, &text, json, &checked_in_settings())?;
        let current = std::fs::read_to_string(&pair.output).ok();
        let status = if current.as_deref() == Some(code.as_str()) {
            Status::UpToDate
        } else if check {
            Status::Stale
        } else {
            write_if_changed(&pair.output, &code)?;
            Status::Written
        };
        results.push((pair, status));
    }
    Ok(results)
}

/// Writes through a temporary file and a rename, and only when the content differs
/// ([`oas::files::write_if_changed`]: devices and FIFOs written in place, links followed).
pub fn write_if_changed(path: &Path, content: &str) -> Result<(), Error> {
    oas::files::write_if_changed(path, content.as_bytes()).map_err(|error| Error::Write {
        path: path.display().to_string(),
        error,
    })
}
