//! The real-world corpus (`../shared/corpus`, next to the workspace; not part of a clone):
//! every OpenAPI 3.0 document `openapiv3` accepts and every OpenAPI 3.1 document must generate
//! without panic or error, and every output must compile. The OpenAPI 3.1 documents gathered
//! from public repositories (`../corpus-3.1` or `../shared/corpus-3.1`, made by
//! `.ci/gather-corpus-3.1.sh`, with a manifest) go along when present, all compiled. See "Corpus" in `codegen/README.md`. The project's own
//! `tests/hard-cases/` go along (always compiled), as their outputs need compiling too.
//!
//! Every file is generated (in-process, under `catch_unwind`: a panic is a reported failure).
//! Which outputs are then compiled depends on the environment:
//! - `CODEGEN_CORPUS=sample` (the default, and CI's): a fixed sample, see [`SAMPLE_ALWAYS`];
//!   `all`: every output (about 8 minutes on 2 cores); `off`: skip the test.
//! - `CODEGEN_CORPUS_DIR=PATH`: another corpus folder (a missing one skips the test).
//! - `CODEGEN_CORPUS_FILTER=SUBSTRING`: only files whose name contains it (for debugging).
//!
//! The outputs are compiled by one `cargo check` of a scratch workspace with a crate per spec,
//! under `target/tmp/codegen-corpus`, with its own target dir next to it, kept across runs so
//! serde is built once and an unchanged output is not checked again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Known exceptions: (file, cause). Each is documented in `codegen/README.md` ("Corpus").
/// A listed file that now passes fails the test, so the list cannot go stale.
const KNOWN_EXCEPTIONS: &[(&str, &str)] = &[];

/// The compile sample (`CODEGEN_CORPUS=sample`): the biggest spec (Stripe), PayPal's largest
/// and the OpenAPI 3.1 ones, plus every `SAMPLE_EVERY`-th other file in name order. Every file is
/// still generated; only the `cargo check` is sampled. (GitHub's 222 k lines of output, and Box's
/// 126 k, are compiled with `CODEGEN_CORPUS=all`: CI's time goes to the sample's `cargo check`.)
const SAMPLE_ALWAYS: &[&str] = &[
    "stripe-spec3-2022-04-12.json",
    "paypal-checkout_orders_v2.json",
    // The corpus's OpenAPI 3.1 documents.
    "adyen-checkout-v71.json",
    "discord-openapi.json",
    "xero-webhooks.yaml",
];
const SAMPLE_EVERY: usize = 12;

pub(crate) fn corpus_dir() -> PathBuf {
    match std::env::var_os("CODEGEN_CORPUS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus")),
    }
}

/// What the manifest says about a file: its OpenAPI version and whether openapiv3 parses it.
#[derive(Debug, Clone)]
struct Entry {
    version: String,
    openapiv3_ok: bool,
}

fn manifest(dir: &Path) -> BTreeMap<String, Entry> {
    let Ok(text) = std::fs::read_to_string(dir.join("MANIFEST.tsv")) else {
        return BTreeMap::new();
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(file), Some(version), Some(parse)) =
        (col("file"), col("openapi_version"), col("openapiv3_parse"))
    else {
        return BTreeMap::new();
    };
    lines
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            Some((
                (*cells.get(file)?).to_owned(),
                Entry {
                    version: (*cells.get(version)?).to_owned(),
                    openapiv3_ok: *cells.get(parse)? == "OK",
                },
            ))
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// OpenAPI 3.0 accepted by openapiv3: must generate, and the output must compile.
    Generate,
    /// OpenAPI 3.0 that openapiv3 rejects: a clean error is fine (so is success), a panic is not.
    MayRefuse,
    /// Swagger (or another version): a clean error naming the version.
    Refuse,
}

#[derive(Debug)]
enum Outcome {
    Generated(String),
    Error(String),
    Panic(String),
}

struct Spec {
    file: String,
    module: String,
    expect: Expect,
    version: String,
    outcome: Outcome,
    time: Duration,
}

/// A module name for a corpus file: `stripe-spec3-2022-04-12.json` → `stripe_spec3_2022_04_12_json`.
pub(crate) fn module_name(file: &str) -> String {
    let mut m: String = file
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if m.starts_with(|c: char| c.is_ascii_digit()) {
        m.insert_str(0, "m_");
    }
    m
}

/// The files whose output `CODEGEN_CORPUS=sample` compiles (see [`SAMPLE_ALWAYS`]).
fn sample(files: &[String]) -> Vec<String> {
    let others = files
        .iter()
        .filter(|f| !SAMPLE_ALWAYS.contains(&f.as_str()));
    let mut out: Vec<String> = others.step_by(SAMPLE_EVERY).cloned().collect();
    out.extend(
        SAMPLE_ALWAYS
            .iter()
            .filter(|f| files.iter().any(|g| g == *f))
            .map(|f| (*f).to_owned()),
    );
    out.sort();
    out
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}

/// The project's own hard cases (`tests/hard-cases/`), compiled with the corpus.
const HARD_CASES: &str = "hard-cases/";

/// The OpenAPI 3.1 documents gathered from public repositories, compiled with the corpus.
const CORPUS_3_1: &str = "corpus-3.1/";

/// Where the gathered 3.1 documents are, if anywhere: beside the workspace, or beside the
/// corpus.
pub(crate) fn corpus_3_1_dir() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    [root.join("corpus-3.1"), root.join("shared/corpus-3.1")]
        .into_iter()
        .find(|d| d.is_dir())
}

fn generate_one(dir: &Path, file: &str) -> (Outcome, Duration) {
    let (path, name) = if let Some(f) = file.strip_prefix(HARD_CASES) {
        (
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/hard-cases")
                .join(f),
            file.to_owned(),
        )
    } else if let Some(f) = file.strip_prefix(CORPUS_3_1) {
        (
            corpus_3_1_dir().unwrap_or_default().join(f),
            file.to_owned(),
        )
    } else {
        (dir.join(file), format!("corpus/{file}"))
    };
    // Read as `cargo codegen generate` reads a file: a multi-file spec comes back bundled.
    let (text, json) = match codegen::read_spec_text(&path, &name) {
        Ok(t) => t,
        Err(e) => return (Outcome::Error(format!("cannot read: {e}")), Duration::ZERO),
    };
    let t = Instant::now();
    let result =
        std::panic::catch_unwind(|| codegen::generate(&name, &text, json, &corpus_settings()));
    let time = t.elapsed();
    let outcome = match result {
        Ok(Ok(code)) => Outcome::Generated(code),
        Ok(Err(e)) => Outcome::Error(e.to_string()),
        Err(payload) => Outcome::Panic(panic_message(payload.as_ref())),
    };
    (outcome, time)
}

fn code_lines(outcome: &Outcome) -> usize {
    match outcome {
        Outcome::Generated(code) => code.lines().count(),
        _ => 0,
    }
}

/// What the corpus is generated with: the types, and the client with its hyper transport, so
/// every part of the output is compiled.
pub(crate) fn corpus_settings() -> codegen::Settings {
    codegen::Settings {
        client: codegen::ClientCode::Hyper { feature: None },
        server: true,
        ..codegen::Settings::default()
    }
}

/// The crates generated code may use: serde's always, the hyper transport's with a client.
const GENERATED_CODE_DEPENDENCIES: &[&str] = &[
    "serde",
    "serde_json",
    "serde_path_to_error",
    "hyper",
    "hyper-util",
    "http-body-util",
    "hyper-rustls",
    "tokio",
];

/// Writes `contents` unless the file already holds exactly that (keeps cargo's fingerprint).
pub(crate) fn write_if_changed(path: &Path, contents: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(contents) {
        std::fs::write(path, contents).unwrap();
    }
}

/// The `[workspace.dependencies]` lines of the crates generated code uses, verbatim.
fn workspace_dependency_lines() -> String {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml")).unwrap();
    let mut out = String::new();
    for name in GENERATED_CODE_DEPENDENCIES {
        let line = manifest
            .lines()
            .find(|l| l.split('=').next().is_some_and(|k| k.trim() == *name))
            .unwrap_or_else(|| panic!("{name} is not in [workspace.dependencies]"));
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A scratch workspace at `root` (its `Cargo.toml`, and the project's lock file so the same
/// dependency versions resolve offline) with a crate per name under `crates/`; `made_by` names
/// the test, in the manifest's header.
pub(crate) fn scratch_workspace(root: &Path, names: &[&str], made_by: &str) {
    std::fs::create_dir_all(root.join("crates")).unwrap();
    let members: Vec<String> = names.iter().map(|m| format!("\"crates/{m}\"")).collect();
    let workspace = format!(
        "# Generated by {made_by}.\n\
         [workspace]\nresolver = \"3\"\nmembers = [{}]\n\n\
         # Nobody debugs these builds; debug info only costs disk.\n\
         [profile.dev]\ndebug = false\n\n[workspace.dependencies]\n{}",
        members.join(", "),
        workspace_dependency_lines()
    );
    write_if_changed(&root.join("Cargo.toml"), &workspace);
    if !root.join("Cargo.lock").exists() {
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"),
            root.join("Cargo.lock"),
        )
        .unwrap();
    }
}

/// One crate of a [`scratch_workspace`], depending on what generated code uses and declaring
/// `features` (none on by default); returns its folder (with `src/`).
pub(crate) fn scratch_crate(root: &Path, module: &str, features: &[String]) -> PathBuf {
    let dir = root.join("crates").join(module);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    write_if_changed(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"{module}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\n{}\n[features]\n{}",
            GENERATED_CODE_DEPENDENCIES
                .iter()
                .map(|d| format!("{d}.workspace = true\n"))
                .collect::<String>(),
            features
                .iter()
                .map(|f| format!("{f} = []\n"))
                .collect::<String>()
        ),
    );
    dir
}

/// Runs cargo with `args` in a [`scratch_workspace`] at `root`, building into `target`, with
/// none of the outer build's flags or target dir leaking in.
pub(crate) fn scratch_cargo(root: &Path, target: &Path, args: &[&str]) -> std::process::Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    Command::new(cargo)
        .args(args)
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .output()
        .expect("cannot run cargo")
}

/// Compile errors and warnings of one module (rendered). Warnings count as problems too:
/// users would see them (`unreachable pattern` has flagged real bugs).
#[derive(Default)]
struct Diagnostics {
    errors: Vec<String>,
    warnings: Vec<String>,
}

/// `cargo check`s the generated modules, one crate per spec in a scratch workspace (so cargo
/// checks two at a time on two cores, and rustc's memory stays bounded: all of the corpus in
/// one crate needs over 20 GB); returns diagnostics per module and the time taken. Panics
/// (failing the test) if cargo fails without errors attributable to a module.
fn compile(modules: &[(&str, &str)]) -> (BTreeMap<String, Diagnostics>, Duration) {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let root = tmp.join("codegen-corpus");
    let target = tmp.join("codegen-corpus-target");
    let names: Vec<&str> = modules.iter().map(|(m, _)| *m).collect();
    scratch_workspace(
        &root,
        &names,
        "codegen/tests/it/corpus.rs: one crate per corpus spec",
    );
    for (module, code) in modules {
        let dir = scratch_crate(&root, module, &[]);
        // Private, as the README's build-script snippet includes a generated module: its
        // unused items must not warn (`dead_code`).
        write_if_changed(
            &dir.join("src/lib.rs"),
            "#[rustfmt::skip]\n#[allow(deprecated, clippy::all, clippy::pedantic, rustdoc::all)]\nmod api;\n",
        );
        write_if_changed(&dir.join("src/api.rs"), code);
    }
    // Crates of files no longer selected are left out of `members`; remove them too.
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !modules.iter().any(|(m, _)| *m == name) {
            std::fs::remove_dir_all(path).unwrap();
        }
    }

    let t = Instant::now();
    let output = scratch_cargo(
        &root,
        &target,
        &[
            "check",
            "--offline",
            "--workspace",
            "--lib",
            "--keep-going",
            "--message-format",
            "json",
        ],
    );
    let time = t.elapsed();

    let mut diagnostics: BTreeMap<String, Diagnostics> = BTreeMap::new();
    let mut unattributed = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-message" {
            continue;
        }
        let krate = msg["target"]["name"].as_str().unwrap_or_default();
        let m = &msg["message"];
        let level = m["level"].as_str().unwrap_or_default();
        let rendered = m["rendered"].as_str().unwrap_or_default().to_owned();
        let module = modules.iter().find(|(m, _)| *m == krate).map(|(m, _)| *m);
        match (level, module) {
            ("error", Some(module)) if !rendered.starts_with("error: aborting") => diagnostics
                .entry(module.to_owned())
                .or_default()
                .errors
                .push(rendered),
            ("warning", Some(module)) if m["spans"].as_array().is_some_and(|s| !s.is_empty()) => {
                diagnostics
                    .entry(module.to_owned())
                    .or_default()
                    .warnings
                    .push(rendered);
            }
            ("error", None) => unattributed.push(rendered),
            _ => {}
        }
    }
    let attributed = diagnostics.values().any(|d| !d.errors.is_empty());
    assert!(
        output.status.success() || attributed,
        "cargo check of the corpus crates failed without errors in a module:\n{}\n{}",
        unattributed.join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    (diagnostics, time)
}

#[test]
fn corpus_generates_and_compiles() {
    let mode = std::env::var("CODEGEN_CORPUS").unwrap_or_else(|_| "sample".to_owned());
    if mode == "off" {
        println!("corpus: skipped (CODEGEN_CORPUS=off)");
        return;
    }
    assert!(
        mode == "all" || mode == "sample",
        "CODEGEN_CORPUS must be all, sample or off, not {mode:?}"
    );
    let dir = corpus_dir();
    if !dir.is_dir() {
        println!(
            "corpus: skipped: no corpus at {} (it is not part of a clone; see \"Corpus\" in codegen/README.md)",
            dir.display()
        );
        return;
    }
    let started = Instant::now();
    let manifest = manifest(&dir);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".json") || f.ends_with(".yaml") || f.ends_with(".yml"))
        .collect();
    files.sort();
    let mut to_compile = if mode == "sample" {
        sample(&files)
    } else {
        files.clone()
    };
    let mut hard: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hard-cases"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".yaml") || f.ends_with(".json"))
            .map(|f| format!("{HARD_CASES}{f}"))
            .collect();
    hard.sort();
    to_compile.extend(hard.iter().cloned());
    files.extend(hard);
    if let Some(dir_3_1) = corpus_3_1_dir() {
        let mut gathered: Vec<String> = std::fs::read_dir(&dir_3_1)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".json") || f.ends_with(".yaml") || f.ends_with(".yml"))
            .map(|f| format!("{CORPUS_3_1}{f}"))
            .collect();
        gathered.sort();
        println!(
            "corpus: {} OpenAPI 3.1 documents from {}",
            gathered.len(),
            dir_3_1.display()
        );
        to_compile.extend(gathered.iter().cloned());
        files.extend(gathered);
    }
    if let Ok(filter) = std::env::var("CODEGEN_CORPUS_FILTER") {
        files.retain(|f| f.contains(&filter));
    }

    // Generate every file, on every core; each file's result is independent.
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Spec>> = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let gen_started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(file) = files.get(i) else { break };
                    let entry = manifest.get(file).cloned().unwrap_or(Entry {
                        version: if file.starts_with(CORPUS_3_1) {
                            "3.1"
                        } else {
                            "3.0"
                        }
                        .to_owned(),
                        openapiv3_ok: true,
                    });
                    let expect =
                        if !entry.version.starts_with("3.0") && !entry.version.starts_with("3.1") {
                            Expect::Refuse
                        } else if !entry.openapiv3_ok {
                            Expect::MayRefuse
                        } else {
                            Expect::Generate
                        };
                    let (outcome, time) = generate_one(&dir, file);
                    results.lock().unwrap().push(Spec {
                        file: file.clone(),
                        module: module_name(file),
                        expect,
                        version: entry.version,
                        outcome,
                        time,
                    });
                }
            });
        }
    });
    let gen_time = gen_started.elapsed();
    let mut specs = results.into_inner().unwrap();
    specs.sort_by(|a, b| a.file.cmp(&b.file));

    let modules: Vec<(&str, &str)> = specs
        .iter()
        .filter(|s| to_compile.contains(&s.file))
        .filter_map(|s| match &s.outcome {
            Outcome::Generated(code) => Some((s.module.as_str(), code.as_str())),
            _ => None,
        })
        .collect();
    let lines: usize = modules.iter().map(|(_, c)| c.lines().count()).sum();
    let (diagnostics, check_time) = compile(&modules);

    // Judge every file.
    let mut problems: Vec<(String, String)> = Vec::new(); // (file, problem)
    // [corpus, hard cases, gathered 3.1 documents]
    let bucket = |file: &str| {
        if file.starts_with(HARD_CASES) {
            1
        } else if file.starts_with(CORPUS_3_1) {
            2
        } else {
            0
        }
    };
    let mut generated = [0, 0, 0];
    let mut compiled = [0, 0, 0];
    let mut refused_ok = 0;
    for s in &specs {
        match (&s.outcome, s.expect) {
            (Outcome::Panic(p), _) => problems.push((s.file.clone(), format!("panicked: {p}"))),
            (Outcome::Error(e), Expect::Refuse) => {
                if e.contains(&s.version) && e.contains("only OpenAPI 3.0.x and 3.1.x") {
                    refused_ok += 1;
                } else {
                    problems.push((
                        s.file.clone(),
                        format!("refused without naming version {}: {e}", s.version),
                    ));
                }
            }
            (Outcome::Error(_), Expect::MayRefuse) => refused_ok += 1,
            (Outcome::Error(e), Expect::Generate) => {
                problems.push((s.file.clone(), format!("generate error: {e}")));
            }
            (Outcome::Generated(_), Expect::Refuse) => problems.push((
                s.file.clone(),
                format!("OpenAPI {} generated instead of being refused", s.version),
            )),
            (Outcome::Generated(_), _) => {
                generated[bucket(&s.file)] += 1;
                if !modules.iter().any(|(m, _)| *m == s.module) {
                    continue; // not in the compile sample
                }
                let d = diagnostics.get(&s.module);
                let found: Vec<&String> = d
                    .iter()
                    .flat_map(|d| d.errors.iter().chain(&d.warnings))
                    .collect();
                if found.is_empty() {
                    compiled[bucket(&s.file)] += 1;
                    if s.file.starts_with(CORPUS_3_1) || s.version.starts_with("3.1") {
                        // Per-file figures for the OpenAPI 3.1 documents.
                        println!(
                            "corpus: 3.1 {}: generated in {:.1?} ({} lines), compiled without warnings",
                            s.file,
                            s.time,
                            code_lines(&s.outcome)
                        );
                    }
                    continue;
                }
                let (errors, warnings) = d.map_or((0, 0), |d| (d.errors.len(), d.warnings.len()));
                let mut shown: Vec<String> = found.iter().take(3).map(|m| (*m).clone()).collect();
                if found.len() > shown.len() {
                    shown.push(format!("… and {} more", found.len() - shown.len()));
                }
                problems.push((
                    s.file.clone(),
                    format!(
                        "{errors} compile error(s), {warnings} warning(s):\n{}",
                        shown.join("\n")
                    ),
                ));
            }
        }
    }

    let mut slow: Vec<&Spec> = specs.iter().collect();
    slow.sort_by_key(|s| std::cmp::Reverse(s.time));
    for s in slow.iter().take(3) {
        println!("corpus: generate {:>8.2?} {}", s.time, s.file);
    }

    let known: BTreeMap<&str, &str> = KNOWN_EXCEPTIONS.iter().copied().collect();
    let mut unexpected = Vec::new();
    let mut exceptions = 0;
    for (file, problem) in &problems {
        if let Some(cause) = known.get(file.as_str()) {
            exceptions += 1;
            println!("corpus: known exception {file} ({cause}): {problem}");
        } else {
            unexpected.push(format!("{file}: {problem}"));
        }
    }
    for (file, _) in KNOWN_EXCEPTIONS {
        // Only a file checked in full this run can show that its exception is gone.
        let checked = specs.iter().any(|s| {
            s.file == *file
                && (!matches!(s.outcome, Outcome::Generated(_))
                    || modules.iter().any(|(m, _)| *m == s.module))
        });
        if checked && !problems.iter().any(|(f, _)| f == file) {
            unexpected.push(format!(
                "{file}: listed in KNOWN_EXCEPTIONS but passes now; remove it (and from codegen/README.md)"
            ));
        }
    }

    let corpus = |s: &&Spec| bucket(&s.file) == 0;
    let corpus_files = specs.iter().filter(corpus).count();
    let of_version = |v: &str| {
        specs
            .iter()
            .filter(corpus)
            .filter(|s| s.version.starts_with(v))
            .count()
    };
    let (three_oh, three_one) = (of_version("3.0"), of_version("3.1"));
    let gathered = specs.iter().filter(|s| bucket(&s.file) == 2).count();
    let corpus_modules = modules
        .iter()
        .filter(|(m, _)| specs.iter().filter(corpus).any(|s| s.module == *m))
        .count();
    println!(
        "corpus ({mode}): {corpus_files} files, {three_oh} OpenAPI 3.0 and {three_one} 3.1, {} \
         generated OK, {} of {corpus_modules} compiled OK, {refused_ok} refused cleanly, \
         {exceptions} known exceptions; hard cases: {} generated, {} compiled; gathered 3.1 \
         documents: {gathered}, {} generated, {} compiled; {} unexpected problems; \
         {lines} lines checked; generate {gen_time:.1?} ({workers} threads), cargo check \
         {check_time:.1?}, total {:.1?}",
        generated[0],
        compiled[0],
        generated[1],
        compiled[1],
        generated[2],
        compiled[2],
        unexpected.len(),
        started.elapsed()
    );
    assert!(
        unexpected.is_empty(),
        "{} corpus problem(s):\n\n{}",
        unexpected.len(),
        unexpected.join("\n\n")
    );
}
