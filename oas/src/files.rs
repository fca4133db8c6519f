//! Files every tool reads and writes: input read only from regular files and only up to a bound,
//! output replaced atomically. The one home of both, for the generator and the checker alike.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The most a spec, recording or HAR file may hold. The largest real spec we know (Stripe's) is
/// about 4 MB; a bound keeps a symbolic link to `/dev/zero`, or a runaway file, from taking all
/// memory.
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    #[error("cannot read: not a regular file ({kind}); give a file, not a device, pipe or folder")]
    NotAFile { kind: &'static str },
    #[error("cannot read: larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("cannot read: not UTF-8 text (byte {offset})")]
    NotUtf8 { offset: usize },
}

/// Reads a regular file (a symbolic link to one is followed), at most `limit` bytes. Devices,
/// FIFOs and folders are refused before they are opened, so nothing can block or stream forever.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile {
            kind: file_kind(&meta),
        });
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // The file may grow between the check and the read: the bound holds for the read too.
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// [`read_bounded`] as UTF-8 text with [`MAX_INPUT_BYTES`], a leading byte-order mark removed
/// (Windows editors write one; YAML and JSON parsers would read it as content).
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    let mut bytes = read_bounded(path, MAX_INPUT_BYTES)?;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a file"
}

/// Whether two paths name the same existing file (after links), so an output can never be
/// written over its own input.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Writes `content` to `path` through a temporary file in the same folder and a rename, so an
/// interrupted write never leaves a truncated file nor destroys the previous one, and a failed
/// write leaves no temporary file behind.
///
/// A path that exists and is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO) is written
/// directly: a rename would replace the device with a plain file, and a `/dev/null` turned into
/// a file feeds whatever later writes to it into every program that reads it. A symbolic link is
/// followed, so the link survives and its target is replaced.
pub fn write_atomic(path: &Path, content: &[u8]) -> io::Result<()> {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if let Ok(meta) = std::fs::metadata(&path)
        && !meta.is_file()
    {
        if meta.is_dir() {
            return Err(io::Error::other("is a folder"));
        }
        return std::fs::write(&path, content);
    }
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, content)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

/// [`write_atomic`], skipped when the file already holds exactly `content` (so build scripts'
/// dependents are not rebuilt needlessly).
pub fn write_if_changed(path: &Path, content: &[u8]) -> io::Result<()> {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if std::fs::metadata(&real).is_ok_and(|m| m.is_file())
        && read_bounded(&real, content.len() as u64).is_ok_and(|old| old == content)
    {
        return Ok(());
    }
    write_atomic(&real, content)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("oas-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn replaces_a_regular_file_and_leaves_no_temporary() {
        let dir = scratch("replace");
        let path = dir.join("out.json");
        std::fs::write(&path, "old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.json"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The write of the temporary fails (its path leads to `/dev/full`, which refuses every
    /// byte): the error is returned, the old file is whole and no temporary is left.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_write_leaves_no_temporary_and_the_old_file_whole() {
        let dir = scratch("failed");
        let path = dir.join("out.yaml");
        std::fs::write(&path, "old").unwrap();
        let tmp = dir.join(format!("out.yaml.tmp{}", std::process::id()));
        std::os::unix::fs::symlink("/dev/full", &tmp).unwrap();
        assert!(write_atomic(&path, b"new").is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert!(
            std::fs::symlink_metadata(&tmp).is_err(),
            "the temporary was left behind"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_folder_is_refused_untouched() {
        let dir = scratch("dir");
        std::fs::create_dir_all(dir.join("inner")).unwrap();
        let err = write_atomic(&dir, b"x").unwrap_err();
        assert!(err.to_string().contains("folder"), "{err}");
        assert!(dir.join("inner").is_dir());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A FIFO stands in for `/dev/null` (which a broken fix would destroy): it must stay a FIFO
    /// and its reader must get the bytes.
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_written_through_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = scratch("fifo");
        let fifo = dir.join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: mkfifo is unavailable");
            return;
        }
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(&fifo).unwrap())
        };
        write_atomic(&fifo, b"report").unwrap();
        // Checked before joining: a replaced FIFO leaves the reader blocked for ever.
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(kind.is_fifo(), "the FIFO was replaced: {kind:?}");
        assert_eq!(reader.join().unwrap(), b"report");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_survives_and_its_target_is_replaced() {
        let dir = scratch("link");
        let target = dir.join("real.yaml");
        let link = dir.join("link.yaml");
        std::fs::write(&target, "old").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A FIFO or a device named like an input would block or stream for ever: refused unopened.
    #[cfg(unix)]
    #[test]
    fn devices_fifos_and_folders_are_not_read() {
        let dir = scratch("read");
        let fifo = dir.join("spec.yaml");
        if std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success())
        {
            let err = read_text(&fifo).unwrap_err();
            assert!(err.to_string().contains("a FIFO"), "{err}");
        }
        let zero = dir.join("zero.yaml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let err = read_text(&zero).unwrap_err();
        assert!(err.to_string().contains("a device"), "{err}");
        let err = read_text(&dir).unwrap_err();
        assert!(err.to_string().contains("a folder"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reads_are_bounded_and_a_bom_is_dropped() {
        let dir = scratch("bound");
        let path = dir.join("a.yaml");
        std::fs::write(&path, b"\xEF\xBB\xBFopenapi: 3.0.3\n").unwrap();
        assert_eq!(read_text(&path).unwrap(), "openapi: 3.0.3\n");
        let err = read_bounded(&path, 4).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { limit: 4 }), "{err}");
        std::fs::write(&path, b"ok\xFFbad").unwrap();
        let err = read_text(&path).unwrap_err();
        assert!(err.to_string().contains("byte 2"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn write_if_changed_keeps_an_equal_file_untouched() {
        let dir = scratch("changed");
        let path = dir.join("gen.rs");
        std::fs::write(&path, "same").unwrap();
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_if_changed(&path, b"same").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );
        write_if_changed(&path, b"other").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "other");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
