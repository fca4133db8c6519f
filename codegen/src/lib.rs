//! OpenAPI 3.0 → Rust types.
//!
//! The pipeline, one module per stage:
//! 1. **load** ([`load`]): YAML or JSON through `oas` (file:line:column on syntax errors), then
//!    `openapiv3` as a structural gate with the failing JSON path;
//! 2. **lower** (`lower`): schemas and operations into the ordered [`ir`];
//! 3. **analyse** (`analysis`): `Box` where cycles need it, newtypes where an alias would be
//!    recursive, honest derives;
//! 4. **name** (`naming`): one global pass for unique, valid identifiers;
//! 5. **emit** (`emit`): tokens with `quote`;
//! 6. **render** ([`render`]): `prettyplease`, behind a "generated, do not edit" header naming
//!    the spec and the SHA-256 of its bytes.
//!
//! Same spec bytes + same generator ⇒ same output bytes. For speed on big specs, [`generate`]
//! writes stages 5 and 6's result directly (`text`): the text `prettyplease` prints for the
//! tokens of stage 5, byte for byte, without building and parsing the tokens; the constructs
//! whose layout it does not reproduce (rare item kinds, `decode`'s expressions) still go
//! through `quote` and `prettyplease`, and `tests/render.rs` holds it to the full
//! `prettyplease` rendering (`generate_reference`). The module is written in parts (runs of
//! top-level items) on two threads, concatenated in order. The `openapiv3` check starts on a
//! thread of its own, reading a JSON text directly, in pieces the main thread helps with once
//! the module is written (`check.rs`).
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
mod check;
mod emit;
mod fxhash;
pub mod ir;
mod lower;
mod naming;
pub mod sync;
mod text;

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    check_structure(source_name, &doc.root)?;
    Ok(doc)
}

/// Timings of one generation (wall clock), for `--timings` and the benchmark.
///
/// The stages overlap where they can: the `openapiv3` structure check starts at once on a
/// thread of its own (`check` is how long that thread ran; the main thread takes a share of
/// the check once it has written the module, and the check adds to the total only when it
/// outlasts the rest), and the module's parts are written on two threads, `emit` (direct text)
/// and `render` (`prettyplease`, for what the text writer leaves to it) sharing that phase's
/// wall time in proportion to the CPU time each took.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// YAML or JSON text → `serde_json::Value`.
    pub parse: std::time::Duration,
    /// The `openapiv3` structure check's own thread (overlapped with the stages below).
    pub check: std::time::Duration,
    /// Lowering, analysis and naming.
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
    generate_with(source_name, text, json, settings, Render::Text)
}

/// [`generate`] with every part rendered by `prettyplease` from the `quote` tokens: the
/// reference the direct text renderer must match byte for byte (`tests/render.rs`).
#[doc(hidden)]
pub fn generate_reference(
    source_name: &str,
    text: &str,
    json: bool,
    settings: &Settings,
) -> Result<String, Error> {
    generate_with(source_name, text, json, settings, Render::Reference).map(|(code, _)| code)
}

/// How the module's text is produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Render {
    /// Written directly (`text`), `prettyplease` only for what it does not cover.
    Text,
    /// Tokens (`emit`) parsed by `syn` and printed by `prettyplease`.
    Reference,
}

fn generate_with(
    source_name: &str,
    text: &str,
    json: bool,
    settings: &Settings,
    render: Render,
) -> Result<(String, Timings), Error> {
    let mut timings = Timings::default();
    // The same test `oas` uses to read a document as JSON.
    let json = json || text.trim_start().starts_with('{');
    let pool = check::Pool::default();
    let pool = &pool;
    std::thread::scope(|scope| {
        // The structure check runs beside the other stages, and its verdict is awaited before
        // any result is returned (it takes precedence over lowering errors). A JSON text is
        // deserialized into `openapiv3`'s model directly, in pieces (`check.rs`), from the
        // start, by a thread of its own and, once the module is written, by this one. A YAML
        // document is checked from its `Value` (which this thread sends). A refusal is checked
        // again from the `Value`, which decides and names the failing path.
        let (send_doc, receive_doc) = std::sync::mpsc::channel::<Arc<oas::Document>>();
        let check = scope.spawn(move || {
            let t = Instant::now();
            let verdict = if !json {
                match receive_doc.recv() {
                    Ok(doc) => Verdict::Checked(check_structure(source_name, &doc.root)),
                    // The text did not parse: the load error is what gets reported.
                    Err(_) => Verdict::Passed,
                }
            } else if pool.start(text) {
                Verdict::Pool
            } else if check::whole(text) {
                Verdict::Passed
            } else {
                Verdict::Refused
            };
            (verdict, t.elapsed())
        });
        let finish_check = |check: std::thread::ScopedJoinHandle<'_, _>| match check.join() {
            Ok(done) => done,
            Err(panic) => std::panic::resume_unwind(panic),
        };

        let t = Instant::now();
        let doc = match oas::Document::parse(source_name, text, json) {
            Ok(doc) => Arc::new(doc),
            Err(e) => {
                drop(send_doc);
                let _ = finish_check(check);
                return Err(e.into());
            }
        };
        timings.parse = t.elapsed();
        if !json {
            let _ = send_doc.send(Arc::clone(&doc));
        }
        drop(send_doc);

        let t = Instant::now();
        let lowered = lower_stage(source_name, &doc.root, settings);
        timings.lower = t.elapsed();
        // Freeing the document takes a while for big specs: on a thread of its own, which
        // then hashes the text for the header.
        let header = scope.spawn(move || {
            drop(doc);
            header(source_name, text)
        });
        let body = lowered.and_then(|(ir, derives, names)| {
            let emitter = emit::Emitter {
                ir: &ir,
                names: &names,
                derives: &derives,
            };
            let body = emit_render(source_name, &emitter, render, &mut timings);
            scope.spawn(move || drop((ir, derives, names)));
            body
        });

        // The module is written: help with what is left of the check.
        pool.help();
        let (verdict, check_time) = finish_check(check);
        timings.check = check_time;
        match verdict {
            Verdict::Passed => {}
            Verdict::Pool if pool.passed() => {}
            Verdict::Checked(checked) => checked?,
            Verdict::Pool | Verdict::Refused => {
                // Rare: a broken document (or repeated keys). The `Value` decides.
                let doc = oas::Document::parse(source_name, text, json)?;
                check_structure(source_name, &doc.root)?;
            }
        }
        let header = match header.join() {
            Ok(header) => header,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let body = body?;
        let mut code = String::with_capacity(header.len() + body.len());
        code.push_str(&header);
        code.push_str(&body);
        Ok((code, timings))
    })
}

/// What the structure check's thread found.
enum Verdict {
    /// The model was read (from the text).
    Passed,
    /// The text was split into jobs: the verdict is the pool's, once every job has run.
    Pool,
    /// The model refused the text: the `Value` decides.
    Refused,
    /// Checked from the `Value` (YAML).
    Checked(Result<(), Error>),
}

/// Stages 2 to 4: lowering, analysis, naming.
fn lower_stage(
    source_name: &str,
    root: &serde_json::Value,
    settings: &Settings,
) -> Result<(ir::Ir, Vec<analysis::Derives>, ir::Names), Error> {
    let mut ir = lower::lower(root, settings).map_err(|error| Error::Lower {
        source_name: source_name.to_owned(),
        error,
    })?;
    analysis::break_alias_cycles(&mut ir);
    analysis::insert_boxes(&mut ir);
    let derives = analysis::derives(&ir);
    let names = naming::assign(&ir);
    Ok((ir, derives, names))
}

/// Stages 5 and 6: the module's text, without the header, rendered in parts on up to four
/// threads.
fn emit_render(
    source_name: &str,
    emitter: &emit::Emitter<'_>,
    render: Render,
    timings: &mut Timings,
) -> Result<String, Error> {
    let t = Instant::now();
    let parts = emitter.parts();
    let texts: Vec<Mutex<Option<PartText>>> = parts.iter().map(|_| Mutex::new(None)).collect();
    // Largest parts first (operations, then types in order), so threads finish together.
    let mut queue: Vec<usize> = (0..parts.len()).collect();
    queue.sort_by_key(|&i| parts[i] != emit::Part::Operations);
    let next = AtomicUsize::new(0);
    let work = || {
        while let Some(&i) = queue.get(next.fetch_add(1, Ordering::Relaxed)) {
            let done = emit_render_part(emitter, &parts[i], render);
            if let Ok(mut slot) = texts[i].lock() {
                *slot = Some(done);
            }
        }
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 4)
        .min(parts.len());
    std::thread::scope(|scope| {
        for _ in 1..workers {
            scope.spawn(work);
        }
        work();
    });
    let wall = t.elapsed();

    let texts: Vec<Option<PartText>> = texts
        .into_iter()
        .map(|slot| slot.into_inner().ok().flatten())
        .collect();
    let len = texts
        .iter()
        .flatten()
        .map(|part| part.text.as_ref().map_or(0, String::len))
        .sum();
    let mut body = String::with_capacity(len);
    let (mut emit_cpu, mut render_cpu) = (Duration::ZERO, Duration::ZERO);
    for slot in texts {
        let part = slot.ok_or_else(|| Error::Render {
            source_name: source_name.to_owned(),
            message: "a part was not rendered".to_owned(),
        })?;
        emit_cpu += part.emit;
        render_cpu += part.render;
        body.push_str(&part.text.map_err(|message| Error::Render {
            source_name: source_name.to_owned(),
            message,
        })?);
    }
    let cpu = (emit_cpu + render_cpu).as_secs_f64();
    let emit_share = if cpu > 0.0 {
        emit_cpu.as_secs_f64() / cpu
    } else {
        0.5
    };
    timings.emit = wall.mul_f64(emit_share);
    timings.render = wall.saturating_sub(timings.emit);
    Ok(body)
}

/// One part's text (or why its tokens do not parse), and the CPU time of each stage.
struct PartText {
    text: Result<String, String>,
    emit: Duration,
    render: Duration,
}

fn emit_render_part(emitter: &emit::Emitter<'_>, part: &emit::Part, render: Render) -> PartText {
    if render == Render::Text {
        let t = Instant::now();
        let (text, pretty) = text::part(emitter, part);
        return PartText {
            text,
            emit: t.elapsed().saturating_sub(pretty),
            render: pretty,
        };
    }
    let t = Instant::now();
    let tokens = emitter.part(part);
    let emit = t.elapsed();
    let t = Instant::now();
    let text = syn::parse2::<syn::File>(tokens)
        .map(|file| prettyplease::unparse(&file))
        .map_err(|e| e.to_string());
    PartText {
        text,
        emit,
        render: t.elapsed(),
    }
}

/// The `openapiv3` structure check of [`load`].
fn check_structure(source_name: &str, root: &serde_json::Value) -> Result<(), Error> {
    // The typed model is a structural check: it rejects malformed Operation, Parameter,
    // Response… objects with the path of the failure.
    let checked: Result<openapiv3::OpenAPI, _> = serde_path_to_error::deserialize(root);
    match checked {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::Structure {
            source_name: source_name.to_owned(),
            path: e.path().to_string(),
            message: e.inner().to_string(),
        }),
    }
}

/// The "generated, do not edit" header naming the spec and the SHA-256 of its text.
fn header(source_name: &str, text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    let mut out = format!("// @generated by `cargo codegen` from {source_name} (sha256 ");
    for b in hash {
        let _ = write!(out, "{b:02x}");
    }
    out.push_str("). Do not edit: regenerate.\n\n");
    out
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
    let mut out = header(source_name, text);
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
