//! The binary needs no checkout: the specs, normalization rules and shipped recordings are
//! embedded, so a copy (or a `cargo install`) runs `lint`, `mock` and `replay` from an empty
//! directory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{self, temp_dir, text};

/// `lint`, the default `replay` (shipped recordings, embedded mock) and `mock`, run by `bin`
/// from an empty directory.
fn runs_from_an_empty_directory(bin: &Path) {
    let cwd = temp_dir("empty");
    let lint = Command::new(bin)
        .arg("lint")
        .current_dir(&cwd)
        .output()
        .unwrap();
    assert_eq!(lint.status.code(), Some(0), "{}", text(&lint.stderr));
    let replay = Command::new(bin)
        .args(["replay", "--jobs", "2"])
        .current_dir(&cwd)
        .env_remove("CHARGILY_SECRET_KEY")
        .env_remove("RECHARGE_API_TOKEN")
        .output()
        .unwrap();
    let (stdout, _) = support::exited(&replay, 0);
    assert!(
        stdout.contains("45 scenarios, 444 exchanges: 444 passed, 0 failed")
            && stdout.contains("recordings: conformance/recordings (embedded in this binary)"),
        "{stdout}"
    );
    let mut mock = Command::new(bin)
        .args(["mock", "--listen", "127.0.0.1:0"])
        .current_dir(&cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = BufReader::new(mock.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let _ = mock.kill();
    let _ = mock.wait();
    assert!(
        first.starts_with("chargily (live): http://127.0.0.1:"),
        "{first}"
    );
}

/// The binary `cargo test` built, copied elsewhere: the same code `cargo install` builds. It
/// holds no path into this checkout's `conformance/` folder, so nothing is read from there.
#[test]
fn a_copy_of_the_binary_runs_from_an_empty_directory() {
    let built = Path::new(env!("CARGO_BIN_EXE_conformance"));
    let folder = temp_dir("bin");
    let bin = folder.join("conformance");
    std::fs::copy(built, &bin).unwrap();
    let bytes = std::fs::read(&bin).unwrap();
    let checkout = env!("CARGO_MANIFEST_DIR").as_bytes();
    assert!(
        !bytes.windows(checkout.len()).any(|w| w == checkout),
        "the binary names {}",
        env!("CARGO_MANIFEST_DIR")
    );
    runs_from_an_empty_directory(&bin);
}

/// `cargo install --locked` into a temporary root, as the README says, then the same runs.
/// A whole build in a target folder of its own (minutes), so only with
/// `CONFORMANCE_INSTALL_TEST=1`.
#[test]
fn cargo_install_gives_a_binary_that_runs_anywhere() {
    if std::env::var_os("CONFORMANCE_INSTALL_TEST").is_none_or(|v| v != "1") {
        eprintln!("install test: skipped (set CONFORMANCE_INSTALL_TEST=1; it builds for minutes)");
        return;
    }
    let root = temp_dir("install");
    let out = Command::new(env!("CARGO"))
        .args(["install", "--locked", "--offline", "--debug", "--path"])
        .arg(env!("CARGO_MANIFEST_DIR"))
        .arg("--root")
        .arg(&*root)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bin: PathBuf = root.join("bin").join("conformance");
    runs_from_an_empty_directory(&bin);
}

/// The embedded recordings are the files on disk, all of them: a recording added, changed or
/// removed is in the next build.
#[test]
fn the_embedded_recordings_are_the_shipped_files() {
    use conformance::replay::{plan, shipped_recordings_dir};
    let dir = shipped_recordings_dir();
    let on_disk = plan::load_recordings(&dir, None).unwrap();
    let embedded = plan::load_shipped(None).unwrap();
    assert_eq!(embedded.len(), on_disk.len());
    assert_eq!(embedded.len(), 45);
    for (e, d) in embedded.iter().zip(&on_disk) {
        let relative = d.file.strip_prefix(&dir).unwrap();
        assert_eq!(e.file, Path::new(plan::SHIPPED_DIR).join(relative));
        assert!(e.recording == d.recording, "{}", relative.display());
    }
}
