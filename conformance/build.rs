//! Embeds the shipped recordings (`recordings/**`, the normalization rules aside: those are
//! embedded where they are read) into the binary, so an installed `conformance` replays them
//! from anywhere: `$OUT_DIR/shipped_recordings.rs` lists each file's path below `recordings/`
//! and its text.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) && path.file_name().is_some_and(|n| n != "normalize.yaml")
        {
            out.push(path);
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("recordings");
    println!("cargo::rerun-if-changed={}", root.display());
    let mut found = Vec::new();
    files(&root, &mut found);
    found.sort();
    let mut code = String::from(
        "/// The shipped recordings: each file's path below `conformance/recordings/` and its text.\n\
         pub static SHIPPED: &[(&str, &str)] = &[\n",
    );
    for path in &found {
        let relative = path
            .strip_prefix(&root)
            .expect("below the recordings folder")
            .to_string_lossy()
            .replace('\\', "/");
        let _ = writeln!(
            code,
            "    ({relative:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("shipped_recordings.rs"), code).expect("OUT_DIR is writable");
}
