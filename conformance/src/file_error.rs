//! Errors about an input file that say where: the file, the line and column when the problem
//! is in its text, the path of the offending value when known, and what is wrong. Recordings
//! and HAR files report through it alike (`path:line:column: json.path: message`).

use std::fmt;
use std::path::PathBuf;

/// What is wrong with an input file, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FileError {
    pub file: PathBuf,
    /// 1-based, when the problem is in the text.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The path of the offending value (`log.entries[3].request.url`), when known.
    pub path: Option<String>,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(path) = &self.path {
            write!(f, ": {path}")?;
        }
        write!(f, ": {}", self.message)
    }
}
