//! OpenAPI 3.0 → Rust types.
//!
//! The pipeline, one module per stage:
//! 1. **load** ([`load`]): YAML or JSON through `oas` (file:line:column on syntax errors), then
//!    `openapiv3` as a structural gate with the failing JSON path;
//! 2. **lower** (`lower`): schemas and operations into the ordered [`ir`];
//! 3. **analyse** (`analysis`): `Box` where cycles need it, honest derives;
//! 4. **name** (`naming`): one global pass for unique, valid identifiers;
//! 5. **emit** (`emit`): tokens with `quote`;
//! 6. **render** ([`render`]): `prettyplease`, behind a "generated, do not edit" header naming
//!    the spec and the SHA-256 of its bytes.
//!
//! Same spec bytes + same generator ⇒ same output bytes.
//!
//! From a build script:
//! ```no_run
//! // build.rs
//! let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("api.rs");
//! codegen::generate_file("openapi.yaml".as_ref(), &out, &codegen::Settings::default()).unwrap();
//! println!("cargo::rerun-if-changed=openapi.yaml");
//! // then, in the crate: `mod api { include!(concat!(env!("OUT_DIR"), "/api.rs")); }`
//! ```

mod analysis;
mod emit;
pub mod ir;
mod lower;
mod naming;
pub mod sync;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use lower::LowerError;

/// What to do with string-enum values the spec does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownEnum {
    /// Reject them: deserializing fails naming the value (the contract the checked-in types
    /// and the conformance checker rely on).
    #[default]
    Reject,
    /// Keep them in an `Unknown(String)` variant: forward-compatible clients.
    CatchAll,
}

/// Generation settings.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub unknown_enum: UnknownEnum,
}

/// Why generation failed. Never a panic: every failure of a spec is one of these.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Load(#[from] oas::LoadError),
    #[error("{source_name}: not a valid OpenAPI 3.0 document at {path}: {message}")]
    Structure {
        source_name: String,
        path: String,
        message: String,
    },
    #[error("{source_name}: {error}")]
    Lower {
        source_name: String,
        error: LowerError,
    },
    #[error(
        "{source_name}: internal error: generated code does not parse ({message}); please report it"
    )]
    Render {
        source_name: String,
        message: String,
    },
    #[error("{path}: cannot write: {error}")]
    Write { path: String, error: std::io::Error },
}

/// Stage 1: a parsed document accepted by `openapiv3`.
pub fn load(source_name: &str, text: &str, json: bool) -> Result<oas::Document, Error> {
    let doc = oas::Document::parse(source_name, text, json)?;
    // The typed model is a structural check: it rejects malformed Operation, Parameter,
    // Response… objects with the path of the failure.
    let checked: Result<openapiv3::OpenAPI, _> = serde_path_to_error::deserialize(&doc.root);
    if let Err(e) = checked {
        return Err(Error::Structure {
            source_name: source_name.to_owned(),
            path: e.path().to_string(),
            message: e.inner().to_string(),
        });
    }
    Ok(doc)
}

/// Timings of one generation, for `--timings` and the benchmark.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    pub parse: std::time::Duration,
    pub lower: std::time::Duration,
    pub emit: std::time::Duration,
    pub render: std::time::Duration,
}

/// Generates the module for a spec's text. `source_name` is what the header and errors call
/// the spec (a relative path, for reproducible output).
pub fn generate(
    source_name: &str,
    text: &str,
    json: bool,
    settings: &Settings,
) -> Result<String, Error> {
    generate_timed(source_name, text, json, settings).map(|(code, _)| code)
}

/// [`generate`], also returning how long each stage took.
pub fn generate_timed(
    source_name: &str,
    text: &str,
    json: bool,
    settings: &Settings,
) -> Result<(String, Timings), Error> {
    let mut timings = Timings::default();
    let t = std::time::Instant::now();
    let doc = load(source_name, text, json)?;
    timings.parse = t.elapsed();

    let t = std::time::Instant::now();
    let mut ir = lower::lower(&doc.root, settings).map_err(|error| Error::Lower {
        source_name: source_name.to_owned(),
        error,
    })?;
    analysis::insert_boxes(&mut ir);
    let derives = analysis::derives(&ir);
    let names = naming::assign(&ir);
    timings.lower = t.elapsed();

    let t = std::time::Instant::now();
    let tokens = emit::Emitter {
        ir: &ir,
        names: &names,
        derives: &derives,
    }
    .module();
    timings.emit = t.elapsed();

    let t = std::time::Instant::now();
    let code = render(source_name, text, tokens)?;
    timings.render = t.elapsed();
    Ok((code, timings))
}

/// Stage 6: pretty-prints the tokens behind the header.
pub fn render(
    source_name: &str,
    text: &str,
    tokens: proc_macro2::TokenStream,
) -> Result<String, Error> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| Error::Render {
        source_name: source_name.to_owned(),
        message: e.to_string(),
    })?;
    let hash = Sha256::digest(text.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    let mut out = format!(
        "// @generated by `cargo codegen` from {source_name} (sha256 {hex}). Do not edit: regenerate.\n\n"
    );
    out.push_str(&prettyplease::unparse(&file));
    Ok(out)
}

/// Reads a spec file and generates its module (the name in the header is the path as given).
pub fn generate_from_path(spec: &Path, settings: &Settings) -> Result<String, Error> {
    let source_name = spec.display().to_string().replace('\\', "/");
    let text = std::fs::read_to_string(spec).map_err(|error| oas::LoadError::Io {
        source_name: source_name.clone(),
        error,
    })?;
    let json = spec
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    generate(&source_name, &text, json, settings)
}

/// For build scripts: generates `spec` into `out`, writing only if the content changed (so
/// dependents are not rebuilt needlessly) and atomically (a crash leaves the old file whole).
pub fn generate_file(spec: &Path, out: &Path, settings: &Settings) -> Result<(), Error> {
    let code = generate_from_path(spec, settings)?;
    sync::write_if_changed(out, &code)
}
