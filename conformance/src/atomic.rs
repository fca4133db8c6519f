//! Writing output files so that an interrupted write never leaves half a file.

use std::io;
use std::path::{Path, PathBuf};

/// Writes `content` to `path` through a temporary file in the same folder and a rename, so an
/// interrupted write never leaves a truncated file nor destroys the previous one.
///
/// A path that exists and is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO) is written
/// directly: a rename would replace the device with a plain file, and a `/dev/null` turned into
/// a file feeds whatever later writes to it into every program that reads it. A symbolic link is
/// followed, so the link survives and its target is replaced.
pub fn write_atomic(path: &Path, content: &[u8]) -> io::Result<()> {
    let path = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(_) => path.to_path_buf(),
    };
    if let Ok(meta) = std::fs::metadata(&path)
        && !meta.is_file()
    {
        if meta.is_dir() {
            return Err(io::Error::other("is a folder"));
        }
        return std::fs::write(&path, content);
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, content)?;
    std::fs::rename(&tmp, &path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::write_atomic;

    #[test]
    fn replaces_a_regular_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("atomic-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
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

    #[test]
    fn a_folder_is_refused_untouched() {
        let dir = std::env::temp_dir().join(format!("atomic-dir-{}", std::process::id()));
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
        let dir = std::env::temp_dir().join(format!("atomic-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
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
        let dir = std::env::temp_dir().join(format!("atomic-link-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
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
}
