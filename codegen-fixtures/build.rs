//! Generates every golden fixture of `codegen/tests/fixtures` into `OUT_DIR`, exactly as a
//! user's build script would use the `codegen` library.

use std::path::{Path, PathBuf};

fn main() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../codegen/tests/fixtures");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo::rerun-if-changed={}", fixtures.display());
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .expect("fixtures folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    entries.sort();
    for spec in entries {
        let stem = spec
            .file_stem()
            .expect("file name")
            .to_string_lossy()
            .replace('-', "_");
        // Must agree with `codegen/tests/it/golden.rs`: the file name selects the enum policy,
        // whether the portable client is generated, whether features gate operations and
        // whether a server is generated.
        let settings = codegen::Settings {
            unknown_enum: if stem.contains("catch_all") {
                codegen::UnknownEnum::CatchAll
            } else {
                codegen::UnknownEnum::Reject
            },
            client: if stem.contains("client") {
                codegen::ClientCode::Portable
            } else {
                codegen::ClientCode::None
            },
            features: if stem.contains("features") {
                codegen::Features::PerTag {
                    prefix: String::new(),
                }
            } else {
                codegen::Features::None
            },
            server: stem.contains("server"),
        };
        if let Err(e) =
            codegen::generate_file(&spec, &out_dir.join(format!("{stem}.rs")), &settings)
        {
            // A build script reports failures through cargo's error channel.
            println!("cargo::error={e}");
        }
    }
}
