//! `conformance`: checks implementations of the checkout APIs against their specs.
//!
//! Exit codes: 0 success, 1 the target is non-conformant, 2 usage or input error.

mod specs;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use specs::Api;

#[derive(Debug, Parser)]
#[command(
    name = "conformance",
    version,
    about = "Checks implementations of the Chargily Pay V2 and ReCharge Checkouts APIs against their OpenAPI specs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Checks OpenAPI 3.0 documents: references resolve, operations have ids, success and error
    /// responses, and every example validates against its schema. With no FILE, checks the
    /// embedded specs of both checkout APIs (or the one named by --api).
    Lint {
        /// Spec files to check instead of the embedded ones.
        files: Vec<PathBuf>,
        /// Check only this API's embedded spec.
        #[arg(long, conflicts_with = "files")]
        api: Option<Api>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap uses 0 for --help/--version and 2 for usage errors, as we do.
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match cli.command {
        Command::Lint { files, api, format } => lint(files, api, format),
    }
}

fn lint(files: Vec<PathBuf>, api: Option<Api>, format: Format) -> ExitCode {
    let documents: Vec<Result<oas::Document, oas::LoadError>> = if files.is_empty() {
        let apis = api.map_or(Api::ALL.to_vec(), |a| vec![a]);
        apis.into_iter().map(Api::document).collect()
    } else {
        files.iter().map(|f| oas::Document::load(f)).collect()
    };
    let mut input_error = false;
    let mut findings = 0;
    let mut reports = Vec::new();
    for doc in documents {
        match doc {
            Err(e) => {
                eprintln!("error: {e}");
                input_error = true;
            }
            Ok(doc) => {
                let report = oas::lint(&doc);
                findings += report.findings.len();
                if format == Format::Human {
                    let verdict = if report.findings.is_empty() {
                        "ok"
                    } else {
                        "FAILED"
                    };
                    println!(
                        "{}: {verdict}: {} operations, {} examples validated, {} findings",
                        doc.source,
                        report.operations,
                        report.examples_checked,
                        report.findings.len()
                    );
                    for f in &report.findings {
                        println!("  {f}");
                    }
                }
                reports.push(serde_json::json!({"source": doc.source, "report": report}));
            }
        }
    }
    if format == Format::Json {
        println!("{}", serde_json::Value::Array(reports));
    }
    if input_error {
        ExitCode::from(2)
    } else if findings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
