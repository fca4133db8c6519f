//! `cargo codegen`: regenerate the checked-in types, or generate for any spec.
//! Exit codes: 0 success, 1 stale files (`sync --check`), 2 usage or input errors.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use codegen::sync::Status;

#[derive(Debug, Parser)]
#[command(
    name = "cargo codegen",
    version,
    about = "OpenAPI 3.0 and 3.1 to Rust types"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Regenerates generated/src/*.rs from spec/*.yaml.
    #[command(after_help = "Examples:
  cargo codegen sync                                 # regenerate, then commit the result
  cargo codegen sync --check                         # exit 1 naming every stale file")]
    Sync {
        /// Only check: exit 1 naming every stale file.
        #[arg(long)]
        check: bool,
        /// Workspace root (defaults to the one this binary was built in).
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// Writes a server crate for a spec: the generated module, and a `main.rs` implementing
    /// every operation as not implemented yet (501), served with hyper: a vendor's quickest
    /// start.
    #[command(after_help = "Example:
  cargo codegen scaffold openapi.yaml --out my-server
  cargo codegen scaffold stripe.json --out stripe-server --name stripe-server")]
    Scaffold {
        /// The spec (YAML or JSON).
        spec: PathBuf,
        /// The crate's folder: created if missing. An existing `Cargo.toml` or `src/main.rs`
        /// is never overwritten (`src/api.rs`, generated, is).
        #[arg(long, short)]
        out: PathBuf,
        /// The package's name (default: the folder's name, in kebab case).
        #[arg(long)]
        name: Option<String>,
    },
    /// Writes one self-contained Rust module for any OpenAPI 3.0 or 3.1 spec.
    #[command(after_help = "Examples:
  cargo codegen generate openapi.yaml --out src/api.rs
  cargo codegen generate openapi.json --unknown-enum catch-all --timings > api.rs
  cargo codegen generate openapi.yaml --client hyper --hyper-feature client -o src/api.rs
  cargo codegen generate stripe.json --client hyper --feature-per-tag -o src/stripe.rs")]
    Generate {
        /// The spec (YAML or JSON).
        spec: PathBuf,
        /// Output file (default: standard output).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// What string enums do with values the spec does not list.
        #[arg(long, value_enum, default_value_t = UnknownEnumArg::Reject)]
        unknown_enum: UnknownEnumArg,
        /// Whether to generate a typed client, and with which transport.
        #[arg(long, value_enum, default_value_t = ClientArg::None)]
        client: ClientArg,
        /// With `--client hyper`: compile the hyper transport only when the crate's feature of
        /// this name is on.
        #[arg(long, requires = "client")]
        hyper_feature: Option<String>,
        /// One cargo feature per tag (an untagged operation's is its resource, as
        /// `/v1/customers` → `customers`): a crate compiles only the operations whose feature
        /// is on and the types they need. The features to declare are printed to standard
        /// error and listed in the module's header.
        #[arg(long)]
        feature_per_tag: bool,
        /// With `--feature-per-tag`: put this before every feature's name (`api-`).
        #[arg(long, requires = "feature_per_tag", default_value = "")]
        feature_prefix: String,
        /// Also a `server` module: a trait with one async method per operation and a router
        /// (`server::handle`) that reads requests into their typed parameters and body and
        /// answers what it refuses in the API's own error shape (implies `--client portable`
        /// at least; with `--client hyper`, a hyper service too).
        #[arg(long)]
        server: bool,
        /// Print how long each stage took to standard error.
        #[arg(long)]
        timings: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ClientArg {
    /// Types and operation modules only.
    None,
    /// A `client` module over a `Transport` trait you implement (no new dependency).
    Portable,
    /// The portable client and a `hyper` 1 transport (HTTP and HTTPS).
    Hyper,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum UnknownEnumArg {
    /// Fail to deserialize, naming the value.
    Reject,
    /// Keep the value in an `Unknown(String)` variant.
    CatchAll,
}

// Generation allocates per JSON node and per name; mimalloc makes it about a fifth faster
// than glibc malloc (see codegen/README.md, "Speed"), as it does for the `conformance` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Scaffold { spec, out, name } => {
            let folder_name = std::path::absolute(&out)
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_default();
            let name =
                name.unwrap_or_else(|| heck::ToKebabCase::to_kebab_case(folder_name.as_str()));
            if name.is_empty()
                || !name.starts_with(|c: char| c.is_ascii_alphabetic())
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                anyhow::bail!(
                    "--name {name:?}: a package name is ASCII letters, digits, `-` and `_`, starting with a letter"
                );
            }
            let manifest_path = out.join("Cargo.toml");
            let main_path = out.join("src").join("main.rs");
            for path in [&manifest_path, &main_path] {
                if path.exists() {
                    anyhow::bail!(
                        "{} exists: a scaffold never overwrites it (remove it, or pick another --out)",
                        path.display()
                    );
                }
            }
            let source_name = spec.display().to_string();
            let (text, json) = codegen::read_spec_text(&spec, &source_name)?;
            let scaffold = codegen::scaffold(&source_name, &text, json, &name)?;
            std::fs::create_dir_all(out.join("src"))
                .map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", out.display()))?;
            codegen::sync::write_if_changed(&out.join("src").join("api.rs"), &scaffold.api)?;
            codegen::sync::write_if_changed(&main_path, &scaffold.main)?;
            codegen::sync::write_if_changed(&manifest_path, &scaffold.manifest)?;
            println!(
                "scaffolded {name} in {}: cd there and `cargo run -- 127.0.0.1:8080`",
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Sync { check, root } => {
            let root =
                root.unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")));
            let results = codegen::sync::sync(&root, check)?;
            let mut stale = 0;
            for (pair, status) in &results {
                let output = pair
                    .output
                    .strip_prefix(&root)
                    .unwrap_or(&pair.output)
                    .display();
                match status {
                    Status::UpToDate => println!("up to date: {output} (from {})", pair.spec),
                    Status::Written => println!("written:    {output} (from {})", pair.spec),
                    Status::Stale => {
                        stale += 1;
                        println!("STALE:      {output} (from {})", pair.spec);
                    }
                }
            }
            if stale > 0 {
                println!(
                    "{stale} generated file(s) are stale; run `cargo codegen sync` and commit the result."
                );
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate {
            spec,
            out,
            unknown_enum,
            client,
            hyper_feature,
            feature_per_tag,
            feature_prefix,
            server,
            timings,
        } => {
            if hyper_feature.is_some() && client != ClientArg::Hyper {
                anyhow::bail!("--hyper-feature needs --client hyper");
            }
            if feature_prefix.starts_with('-')
                || !feature_prefix
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                anyhow::bail!(
                    "--feature-prefix {feature_prefix:?}: a feature name's start: ASCII letters, digits, `-` and `_`, not starting with `-`"
                );
            }
            let settings = codegen::Settings {
                unknown_enum: match unknown_enum {
                    UnknownEnumArg::Reject => codegen::UnknownEnum::Reject,
                    UnknownEnumArg::CatchAll => codegen::UnknownEnum::CatchAll,
                },
                client: match client {
                    ClientArg::None => codegen::ClientCode::None,
                    ClientArg::Portable => codegen::ClientCode::Portable,
                    ClientArg::Hyper => codegen::ClientCode::Hyper {
                        feature: hyper_feature,
                    },
                },
                features: if feature_per_tag {
                    codegen::Features::PerTag {
                        prefix: feature_prefix,
                    }
                } else {
                    codegen::Features::None
                },
                server,
            };
            if let Some(path) = &out
                && oas::files::same_file(path, &spec)
            {
                anyhow::bail!(
                    "--out {} is the spec itself: refusing to write over the input",
                    path.display()
                );
            }
            let source_name = spec.display().to_string();
            let (text, json) = codegen::read_spec_text(&spec, &source_name)?;
            let (code, t) = codegen::generate_timed(&source_name, &text, json, &settings)?;
            for w in &t.warnings {
                eprintln!("warning: {source_name}: {w}");
            }
            if timings {
                eprintln!(
                    "parse {:.1} ms, check {:.1} ms (beside lowering where a core is idle), lower {:.1} ms, emit {:.1} ms, render {:.1} ms",
                    t.parse.as_secs_f64() * 1e3,
                    t.check.as_secs_f64() * 1e3,
                    t.lower.as_secs_f64() * 1e3,
                    t.emit.as_secs_f64() * 1e3,
                    t.render.as_secs_f64() * 1e3
                );
            }
            match out {
                Some(path) => codegen::sync::write_if_changed(&path, &code)?,
                None => print!("{code}"),
            }
            if feature_per_tag {
                let features = &t.features;
                eprintln!(
                    "note: the module uses {} cargo features; declare them in Cargo.toml:\n[features]",
                    features.len()
                );
                for f in features {
                    eprintln!("{f} = []");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every example in a subcommand's help parses (a `#` or `>` ends the arguments).
    #[test]
    fn every_help_example_parses() {
        let mut seen = 0;
        for sub in Cli::command().get_subcommands() {
            let help = sub
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            let examples: Vec<&str> = help
                .lines()
                .filter_map(|l| l.trim().strip_prefix("cargo codegen "))
                .collect();
            assert!(!examples.is_empty(), "{} has no examples", sub.get_name());
            for example in examples {
                let args = example.split(['#', '>']).next().unwrap_or_default();
                let argv = std::iter::once("cargo codegen").chain(args.split_whitespace());
                if let Err(e) = Cli::try_parse_from(argv) {
                    panic!("`cargo codegen {example}` does not parse: {e}");
                }
                seen += 1;
            }
        }
        assert_eq!(seen, 8);
    }
}
