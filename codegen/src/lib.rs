//! OpenAPI 3.0 and 3.1 → Rust types.
//!
//! The pipeline, one module per stage:
//! 1. **load** ([`load`]): YAML or JSON through `oas` (file:line:column on syntax errors), then
//!    `openapiv3` as a structural gate with the failing JSON path, for everything but Schema
//!    Objects, which a walk of the `Value` checks (naming the keyword's JSON pointer);
//! 2. **lower** (`lower`): schemas and operations into the ordered [`ir`];
//! 3. **analyse** (`analysis`): `Box` where cycles need it, newtypes where an alias would be
//!    recursive, honest derives;
//! 4. **name** (`naming`): one global pass for unique, valid identifiers;
//! 5. **emit** (`emit`): the module's text, laid out as `prettyplease` lays it out, behind a
//!    "generated, do not edit" header naming the spec and the SHA-256 of its bytes. The text
//!    is written directly; what its rules do not lay out (rare item kinds, `decode`'s
//!    expressions) is written plainly and laid out by `prettyplease`. `tests/it/layout.rs`
//!    holds the output to being a fixed point of `prettyplease`.
//!
//! Same spec bytes + same generator ⇒ same output bytes, however many threads write them. The
//! text is parsed on the caller's thread (a big JSON text in two halves, one on another
//! thread: `oas`'s `load`); lowering then runs on the caller's thread too, growing its stack
//! where it runs short (`stacker`), while the structure check (`structure/`) and then the
//! header's SHA-256 run on another; the module is written in parts (runs of top-level items)
//! on up to four threads, concatenated in order. Each of those stages splits only over cores
//! that are idle when it starts (`oas::cores`): on a machine whose other cores are busy, the
//! stages run one after another on the caller's thread, which costs less there.
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
mod features;
mod fxhash;
pub mod ir;
mod lower;
mod naming;
mod structure;
pub mod sync;

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

pub use lower::{LowerError, MAX_SCHEMA_DEPTH};

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

/// Whether a typed client is generated, and with which transport.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ClientCode {
    /// Types and operation modules only: the output depends on `serde`, `serde_json` and
    /// `serde_path_to_error`.
    #[default]
    None,
    /// A `client` module too, with one async method per operation, over a `Transport` trait
    /// the user implements (no further dependency). Form-encoded request bodies are then
    /// typed as well (their `Body` type and the encoding the client writes them with).
    Portable,
    /// [`ClientCode::Portable`] and a `client::hyper_transport` module implementing the trait
    /// on `hyper` 1 over HTTP and HTTPS (it needs `hyper` with `client` and `http1`,
    /// `hyper-util` with `client-legacy`, `http1` and `tokio`, `http-body-util`, `tokio` with
    /// `time`, and `hyper-rustls` with `native-tokio`). With a feature name, that module is
    /// compiled only when the crate's feature of that name is on.
    Hyper { feature: Option<String> },
}

/// Whether the including crate compiles only the operations it names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Features {
    /// Everything is always compiled.
    #[default]
    None,
    /// One cargo feature per tag: each operation module (with its client method) is compiled
    /// only when its feature is on, and each type only when a feature of an operation that
    /// needs it is on. An untagged operation belongs to its resource: the first path segment
    /// after the prefix all paths share (`/v1/customers/{id}` → `customers`). Webhooks, if
    /// any, are the feature `webhooks`. Types no operation or webhook needs are always
    /// compiled. Feature names are kebab case of ASCII letters, digits, `-` and `_` after
    /// `prefix` (cleaned the same way); `default` and the hyper transport's feature become
    /// `tag-default` and `tag-<name>`. The output's header lists them, as do
    /// [`Timings::features`] and [`cargo_features`], for the crate's `[features]`.
    PerTag { prefix: String },
}

/// Generation settings.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub unknown_enum: UnknownEnum,
    pub client: ClientCode,
    pub features: Features,
    /// A `server` module too: a trait with one async method per operation (typed parameters
    /// and body in, the operation's `Response` out, 501 by default), the routes, and a router
    /// (`server::handle`) answering what it refuses through a `server::Dialect`, the API's own
    /// error bodies. It reads requests with the client's description of each operation, so a
    /// server implies at least [`ClientCode::Portable`]. With [`ClientCode::Hyper`] comes
    /// `server::hyper_service`, the router as a `hyper` 1 service (behind the same feature; it
    /// also needs `hyper` with `server`, `hyper-util` with `server` and `tokio`, and `tokio`
    /// with `net`, `rt` and `time`).
    pub server: bool,
}

impl Settings {
    /// The settings as generation applies them: a server implies a client.
    fn effective(&self) -> std::borrow::Cow<'_, Self> {
        if self.server && self.client == ClientCode::None {
            let mut settings = self.clone();
            settings.client = ClientCode::Portable;
            std::borrow::Cow::Owned(settings)
        } else {
            std::borrow::Cow::Borrowed(self)
        }
    }
}

/// Why generation failed. Never a panic: every failure of a spec is one of these.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Load(#[from] oas::LoadError),
    #[error("{source_name}: not a valid OpenAPI {version} document at {path}: {message}")]
    Structure {
        source_name: String,
        /// `3.0` or `3.1`.
        version: &'static str,
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

/// Stage 1: a parsed document that passes the structure check (`openapiv3`, and the walk of
/// its Schema Objects).
pub fn load(source_name: &str, text: &str, json: bool) -> Result<oas::Document, Error> {
    let doc = parse(source_name, text, json)?;
    check_structure(source_name, &doc.root)?;
    Ok(doc)
}

/// The document: OpenAPI 3.0 or 3.1 (`oas` refuses the others by name).
fn parse(source_name: &str, text: &str, json: bool) -> Result<oas::Document, Error> {
    Ok(oas::Document::parse(source_name, text, json)?)
}

/// Timings of one generation (wall clock), for `--timings` and the benchmark.
///
/// The stages overlap where cores are idle for them: the structure check runs beside lowering
/// (it adds to the total only when it outlasts lowering; before it otherwise), and the
/// module's parts are written on up to four threads, `emit` (text written directly) and
/// `render` (`prettyplease`, for what the writer leaves to it) sharing that phase's wall time
/// in proportion to the CPU time each took.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// YAML or JSON text → `serde_json::Value`.
    pub parse: std::time::Duration,
    /// The structure check (beside lowering where a second core is idle, before it otherwise).
    pub check: std::time::Duration,
    /// Lowering, analysis and naming.
    pub lower: std::time::Duration,
    pub emit: std::time::Duration,
    pub render: std::time::Duration,
    /// What the spec's text did not hold exactly as written (integers beyond 64 bits, read
    /// as the nearest number), each naming its JSON pointer ([`oas::Document::warnings`]).
    pub warnings: Vec<String>,
    /// With [`Features::PerTag`], the cargo features the module uses, sorted.
    pub features: Vec<String>,
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
    generate_on(oas::cores::idle, source_name, text, json, settings, |_| {
        Ok(())
    })
    .map(|(code, timings, ())| (code, timings))
}

/// [`generate_timed`], also giving `more` the emitter of the module (for text written beside
/// it from the same IR and names); each stage that could split over threads asks `idle` how
/// many cores it may take (`oas::cores::idle`; tests fix the answer, which the output must not
/// depend on).
fn generate_on<R>(
    idle: fn() -> usize,
    source_name: &str,
    text: &str,
    json: bool,
    settings: &Settings,
    more: impl FnOnce(&emit::Emitter<'_>) -> Result<R, String>,
) -> Result<(String, Timings, R), Error> {
    let settings = &*settings.effective();
    let mut timings = Timings::default();
    // The same test `oas` uses to read a document as JSON.
    let json = json || text.trim_start().starts_with('{');
    // The parse runs on the caller's thread, whose allocator arena is likely warm already (a
    // thread of its own made the parse a third slower); a big JSON text's is split over two
    // where a second core is idle (`oas::load`).
    let t = Instant::now();
    let doc = parse(source_name, text, json);
    timings.parse = t.elapsed();
    let doc = doc?;
    timings.warnings.clone_from(&doc.warnings);

    // Lowering on the caller's thread (whose allocator arena is warm, and which no other core
    // has to take over); the structure check and then the header's SHA-256 on another thread
    // beside it where a second core is idle (`oas::cores`: together they take less time than
    // lowering), before it otherwise (a refusal then spares the lowering). The check's
    // verdict comes first either way.
    let check_and_header = || {
        let t = Instant::now();
        let checked = check_structure(source_name, &doc.root);
        (checked, t.elapsed(), header(source_name, text))
    };
    let (lowered, header) = std::thread::scope(|scope| {
        let checking = (idle() > 1)
            .then(|| {
                std::thread::Builder::new()
                    .name("codegen-check".into())
                    .stack_size(CHECK_STACK_BYTES)
                    .spawn_scoped(scope, check_and_header)
                    .ok()
            })
            .flatten();
        let beside = checking.is_some();
        let first = match (!beside).then(check_and_header) {
            Some((Err(refusal), time, _)) => {
                timings.check = time;
                return Err(refusal);
            }
            first => first,
        };
        let t = Instant::now();
        // Room for lowering's passes after the schemas (`analysis`), whose recursion follows
        // chains of aliases; each schema level grows the stack again as it needs (`lower`).
        let lowered = stacker::maybe_grow(STAGE_RED_ZONE, STAGE_SEGMENT, || {
            lower_stage(source_name, &doc.root, settings, beside)
        });
        timings.lower = t.elapsed();
        let (checked, time, header) = match checking {
            Some(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => first.unwrap_or_else(check_and_header),
        };
        timings.check = time;
        timings.warnings.extend(checked?);
        Ok((lowered, header))
    })?;
    let (ir, derives, names) = lowered?;
    timings.warnings.extend(ir.warnings.iter().cloned());
    let gates = match &settings.features {
        Features::None => None,
        Features::PerTag { prefix } => {
            let reserved: Vec<&str> = match &settings.client {
                ClientCode::Hyper { feature: Some(f) } => vec![f.as_str()],
                _ => Vec::new(),
            };
            Some(features::gates(&ir, prefix, &reserved))
        }
    };
    let header = match &gates {
        Some(gates) => {
            timings.features.clone_from(&gates.features);
            header_with_features(header, &gates.features)
        }
        None => header,
    };
    let emitter = emit::Emitter {
        ir: &ir,
        names: &names,
        derives: &derives,
        client: &settings.client,
        server: settings.server,
        gates: gates.as_ref(),
    };
    let code = emit_parts(source_name, &emitter, header, idle(), &mut timings);
    let more = more(&emitter).map_err(|message| Error::Render {
        source_name: source_name.to_owned(),
        message,
    });
    // Freed once the module is written, not while it is (on a busy machine that would slow
    // the writing).
    free_later((doc, ir, derives, names));
    Ok((code?, timings, more?))
}

/// What [`scaffold`] writes: a crate serving the spec, every operation answering 501 until
/// implemented.
#[derive(Debug, Clone)]
pub struct Scaffold {
    /// The crate's `Cargo.toml`.
    pub manifest: String,
    /// `src/main.rs`: the `impl Api` to fill in, and a `main` serving it with hyper.
    pub main: String,
    /// `src/api.rs`: the generated module (types, client, server), regenerated at will.
    pub api: String,
}

/// The crates a scaffold depends on, as its `Cargo.toml` lists them: what the generated
/// module with the hyper client and server needs, and `tokio`'s runtime for `main`.
pub const SCAFFOLD_DEPENDENCIES: &str = r#"serde = { version = "1", features = ["derive"] }
serde_json = "1"
serde_path_to_error = "0.1"
hyper = { version = "1", features = ["http1", "server", "client"] }
hyper-util = { version = "0.1", features = ["tokio", "server", "http1", "client-legacy"] }
http-body-util = "0.1"
hyper-rustls = { version = "0.27", default-features = false, features = ["http1", "tls12", "ring", "native-tokio"] }
tokio = { version = "1", features = ["rt-multi-thread", "net", "time"] }
"#;

/// A server crate for the spec `source_name` (`text`): the module with the hyper client and
/// server as `src/api.rs`, and a `src/main.rs` implementing [`server::Api`](Settings::server)
/// with every operation not implemented yet (answered 501 in the plain dialect), serving on
/// the address given as its first argument (`127.0.0.1:8080` by default). `name` is the
/// package's name.
pub fn scaffold(source_name: &str, text: &str, json: bool, name: &str) -> Result<Scaffold, Error> {
    let settings = Settings {
        client: ClientCode::Hyper { feature: None },
        server: true,
        ..Settings::default()
    };
    let (api, _, (implementation, base)) =
        generate_on(oas::cores::idle, source_name, text, json, &settings, |em| {
            let base = em
                .ir
                .servers
                .first()
                .map_or_else(String::new, |url| base_path(url));
            Ok((emit::scaffold_impl(em, "Service")?, base))
        })?;
    // The spec's paths are below its first server's path, as the router is.
    let router = if base.is_empty() {
        "let router = api::server::hyper_service::Router::new(Service, api::server::PlainDialect);"
            .to_owned()
    } else {
        format!(
            "let mut router = api::server::hyper_service::Router::new(Service, api::server::PlainDialect);\n        \
             router.base_path = {base:?}.to_owned();"
        )
    };
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{SCAFFOLD_DEPENDENCIES}"
    );
    let main = format!(
        "//! A server of `{source_name}`, scaffolded by `cargo codegen scaffold`: `api.rs` is the\n\
         //! generated module (regenerate it with `cargo codegen generate --client hyper --server`);\n\
         //! this file is yours. Every operation below answers 501 (not implemented) until it is\n\
         //! filled in.\n\n\
         #[allow(dead_code, deprecated, clippy::all)]\n\
         mod api;\n\n\
         use api::server::{{Api, Context}};\n\n\
         /// The API's implementation: its state goes here.\n\
         struct Service;\n\n\
         #[allow(deprecated)] // deprecated operations are served all the same\n\
         {implementation}\n\
         /// Serves on the address given as the first argument (`127.0.0.1:8080` by default); the\n\
         /// address bound is printed first, so `127.0.0.1:0` picks a free port.\n\
         fn main() -> std::io::Result<()> {{\n    \
             let addr = std::env::args().nth(1).unwrap_or_else(|| \"127.0.0.1:8080\".to_owned());\n    \
             // Large specs have large response types, which a debug build moves by value through\n    \
             // several stack frames: the default 2 MiB of a worker is not enough for Stripe's.\n    \
             // Only the pages touched are committed.\n    \
             let runtime = tokio::runtime::Builder::new_multi_thread()\n        \
                 .enable_all()\n        \
                 .thread_stack_size(64 << 20)\n        \
                 .build()?;\n    \
             runtime.block_on(async {{\n        \
                 let listener = tokio::net::TcpListener::bind(&addr).await?;\n        \
                 println!(\"listening on http://{{}}\", listener.local_addr()?);\n        \
                 {router}\n        \
                 api::server::hyper_service::serve(listener, router).await\n    \
             }})\n\
         }}\n"
    );
    Ok(Scaffold {
        manifest,
        main,
        api,
    })
}

/// The path of a server URL (`https://api.example.com/v1/` → `/v1`; `/v1` → `/v1`), without a
/// trailing slash, query or fragment; empty for none. A segment still templated (a variable
/// without a default) ends it: what follows cannot be known.
pub fn base_path(url: &str) -> String {
    let rest = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url,
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let mut base = String::new();
    for segment in rest.split('/').filter(|s| !s.is_empty()) {
        if segment.contains('{') || segment == "." || segment == ".." {
            break;
        }
        base.push('/');
        base.push_str(segment);
    }
    base
}

/// The stack lowering starts with at least (else it moves to a segment of [`STAGE_SEGMENT`],
/// on the same thread): room for the passes after the schemas, whose recursion follows chains
/// of aliases (up to [`lower::MAX_SCHEMA_DEPTH`] long, about 400 bytes a link in a debug
/// build). The schemas' own recursion grows the stack level by level (`lower`).
const STAGE_RED_ZONE: usize = 1024 * 1024;

/// The segment lowering moves to where less than [`STAGE_RED_ZONE`] is left (mapped; only the
/// pages touched are committed).
const STAGE_SEGMENT: usize = 16 * 1024 * 1024;

/// The structure check's thread's stack, at least what a caller's thread has (where it runs
/// when no core is idle): the check recurses once per level of the document's nesting (at
/// most 128, the parsers' limit). Only the pages touched are ever committed.
const CHECK_STACK_BYTES: usize = 16 * 1024 * 1024;

/// Drops `value` on a thread of its own that is not waited for. Freeing a big spec's parsed
/// document takes about half as long as parsing it, and the result does not depend on it (a
/// process that exits meanwhile does not need it done). If no thread can be started, `value`
/// is dropped here.
fn free_later<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new().spawn(move || drop(value));
}

/// Stages 2 to 4: lowering, analysis, naming.
fn lower_stage(
    source_name: &str,
    root: &serde_json::Value,
    settings: &Settings,
    beside: bool,
) -> Result<(ir::Ir, Vec<analysis::Derives>, ir::Names), Error> {
    let mut ir = lower::lower(root, settings).map_err(|error| Error::Lower {
        source_name: source_name.to_owned(),
        error,
    })?;
    analysis::cap_struct_width(&mut ir);
    analysis::break_alias_cycles(&mut ir);
    analysis::cap_container_depth(&mut ir);
    analysis::insert_boxes(&mut ir);
    // Both read the finished IR only: the derives are worked out beside the names (whose
    // type names are the longer part, on this thread) where a second core is idle. Their
    // recursion is shallow (type expressions nest at most `MAX_CONTAINER_DEPTH` containers),
    // so a default stack does for the derives' thread.
    let (derives, names) = std::thread::scope(|scope| {
        let derives = beside
            .then(|| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, || analysis::derives(&ir))
                    .ok()
            })
            .flatten();
        let names = naming::assign(&ir);
        // No core idle, or no thread to be had: worked out here.
        let derives = derives.map_or_else(
            || analysis::derives(&ir),
            |handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            },
        );
        (derives, names)
    });
    Ok((ir, derives, names))
}

/// Stage 5: the module's text, written in parts on as many threads as cores are idle (up to
/// four), behind the header.
fn emit_parts(
    source_name: &str,
    emitter: &emit::Emitter<'_>,
    header: String,
    idle: usize,
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
            let done = emit_part(emitter, &parts[i]);
            if let Ok(mut slot) = texts[i].lock() {
                *slot = Some(done);
            }
        }
    };
    let workers = idle.clamp(1, 4).min(parts.len());
    std::thread::scope(|scope| {
        for _ in 1..workers {
            // A worker that cannot be started leaves its parts to the others and this thread.
            let _ = std::thread::Builder::new().spawn_scoped(scope, work);
        }
        work();
    });
    let wall = t.elapsed();

    let texts: Vec<Option<PartText>> = texts
        .into_iter()
        .map(|slot| slot.into_inner().ok().flatten())
        .collect();
    let len: usize = texts
        .iter()
        .flatten()
        .map(|part| part.text.as_ref().map_or(0, String::len))
        .sum();
    let mut body = String::with_capacity(header.len() + len);
    body.push_str(&header);
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

/// One part's text (or why a piece left to `prettyplease` does not parse), and the CPU time
/// spent writing it and in `prettyplease`.
struct PartText {
    text: Result<String, String>,
    emit: Duration,
    render: Duration,
}

fn emit_part(emitter: &emit::Emitter<'_>, part: &emit::Part) -> PartText {
    let t = Instant::now();
    let (text, pretty) = emit::part(emitter, part);
    PartText {
        text,
        emit: t.elapsed().saturating_sub(pretty),
        render: pretty,
    }
}

/// The structure check of [`load`]: `openapiv3` for the document's structure, a walk of the
/// `Value` for its Schema Objects (`structure/`).
fn check_structure(source_name: &str, root: &serde_json::Value) -> Result<Vec<String>, Error> {
    structure::check(root).map_err(|refusal| Error::Structure {
        source_name: source_name.to_owned(),
        version: match oas::Version::of(root) {
            oas::Version::V3_0 => "3.0",
            oas::Version::V3_1 => "3.1",
        },
        path: refusal.path,
        message: refusal.message,
    })
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

/// The header, then the features the including crate declares (comment lines, before the
/// blank line that ends the header).
fn header_with_features(mut header: String, features: &[String]) -> String {
    header.pop();
    header.push_str("// Cargo features (declare each in the crate's [features]):\n//");
    if features.is_empty() {
        header.push_str(" (none: the document has no operations)");
    }
    let mut width = 2;
    for f in features {
        if width > 2 && width + 1 + f.len() > 96 {
            header.push_str("\n//");
            width = 2;
        }
        header.push(' ');
        header.push_str(f);
        width += 1 + f.len();
    }
    header.push_str("\n\n");
    header
}

/// The cargo features a spec's module uses under `settings` (none without
/// [`Features::PerTag`]), sorted: what the including crate's `[features]` declares. The
/// module is generated to find them ([`Timings::features`] gives them beside the module).
pub fn cargo_features(
    source_name: &str,
    text: &str,
    json: bool,
    settings: &Settings,
) -> Result<Vec<String>, Error> {
    generate_timed(source_name, text, json, settings).map(|(_, timings)| timings.features)
}

/// Reads a spec file and generates its module (the name in the header is the path as given).
pub fn generate_from_path(spec: &Path, settings: &Settings) -> Result<String, Error> {
    let source_name = spec.display().to_string().replace('\\', "/");
    let (text, json) = read_spec_text(spec, &source_name)?;
    generate(&source_name, &text, json, settings)
}

/// A spec file's text and whether it is JSON; a multi-file spec (relative file `$ref`s) comes
/// back bundled into one document, as JSON text ([`oas::bundle`]).
pub fn read_spec_text(spec: &Path, source_name: &str) -> Result<(String, bool), Error> {
    let text = oas::load::read_spec(spec, source_name)?;
    let json = spec
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if oas::bundle::may_have_external_refs(&text) {
        let doc = oas::Document::parse(source_name, &text, json)?;
        if oas::bundle::has_external_refs(&doc.root) {
            let root = oas::bundle::bundle(spec, source_name, doc.root)?;
            return Ok((serde_json::to_string(&root).unwrap_or_default(), true));
        }
    }
    Ok((text, json))
}

/// For build scripts: generates `spec` into `out`, writing only if the content changed (so
/// dependents are not rebuilt needlessly) and atomically (a crash leaves the old file whole).
pub fn generate_file(spec: &Path, out: &Path, settings: &Settings) -> Result<(), Error> {
    let code = generate_from_path(spec, settings)?;
    sync::write_if_changed(out, &code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.yaml` and `.json` file directly in `dir` (relative to this crate), sorted.
    fn specs(dir: &str) -> Vec<std::path::PathBuf> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"));
        files.sort();
        files
    }

    /// Whether a stage splits over threads depends on the machine's load when it starts
    /// (`oas::cores`); the module, its warnings and a refusal must not. Each spec is generated
    /// with no core idle but the caller's (the check, lowering, derives, names and parts one
    /// after another on this thread) and with four (the check beside lowering, derives beside
    /// names, the parts on four threads), with the plain settings and with a client and a
    /// server (more parts). The parse asks `oas::cores` itself; `oas`'s own tests hold its
    /// halves to the whole parse.
    #[test]
    fn the_output_does_not_depend_on_how_many_cores_are_idle() {
        let mut files = specs("tests/fixtures");
        for dir in [
            "tests/hard-cases",
            "tests/schema-errors",
            "../spec",
            "../spec/3.1",
        ] {
            files.extend(specs(dir));
        }
        let stripe = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/corpus/stripe-spec3-2022-04-12.json");
        if stripe.is_file() {
            files.push(stripe);
        }
        assert!(files.len() > 40, "{files:?}");
        // A check warning and lowering warnings in one document, so their order is compared.
        let mut deep = String::from(r#"{"type": "string"}"#);
        for _ in 0..40 {
            deep = format!(r#"{{"type": "array", "items": {deep}}}"#);
        }
        let both_warnings = format!(
            r#"{{"openapi": "3.1.0", "info": {{"title": "t", "version": "1"}}, "paths": {{}},
            "components": {{"schemas": {{"Deep": {deep},
            "Odd": {{"type": "object", "$recursiveAnchor": "not a boolean"}}}}}}}}"#
        );
        let inline = [("both-warnings.json", both_warnings)];
        let both = Settings {
            client: ClientCode::Hyper { feature: None },
            server: true,
            ..Settings::default()
        };
        let read = files.iter().map(|path| {
            let text =
                std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            (name.unwrap_or_default(), text)
        });
        let (mut both_warned, mut refused, mut warned) = (false, 0, 0);
        for (name, text) in read.chain(inline.map(|(n, t)| (n.to_owned(), t))) {
            let json = name.ends_with(".json");
            for settings in [&Settings::default(), &both] {
                let run = |idle: fn() -> usize| {
                    generate_on(idle, &name, &text, json, settings, |_| Ok(()))
                        .map(|(code, timings, ())| (code, timings.warnings))
                        .map_err(|e| e.to_string())
                };
                let one = run(|| 1);
                refused += usize::from(one.is_err());
                warned += usize::from(one.as_ref().is_ok_and(|(_, w)| !w.is_empty()));
                if name == "both-warnings.json" {
                    let warnings = one.as_ref().map(|(_, w)| w.clone()).unwrap_or_default();
                    both_warned = warnings.iter().any(|w| w.contains("meta-schema"))
                        && warnings.iter().any(|w| !w.contains("meta-schema"));
                }
                assert!(one == run(|| 4), "{name}: one core and four differ");
            }
        }
        // The comparison covers refusals and warnings too, not only modules.
        assert!(
            refused > 0 && warned > 0,
            "{refused} refused, {warned} warned"
        );
        assert!(
            both_warned,
            "both-warnings.json: a check warning and a lowering warning"
        );
    }
}
