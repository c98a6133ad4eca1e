//! Errors that reach the user. Each names the file and the position, and says what to do.

use std::fmt;

/// Where in an input something sits, for an error and for the evidence of a finding alike: a
/// line and column for text-level problems, a line of a protocol log, a byte offset, an object
/// of an export and a field in it, or a certificate of a certificate file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    LineColumn {
        line: usize,
        column: usize,
    },
    Line(usize),
    Byte(usize),
    /// An object of an export, counted from 1, with the `Name`, `Thumbprint` or `Subject` that
    /// tells it apart when it has one, and a field path in it, e.g. `Identity.DistinguishedName`.
    /// Boxed texts keep every `Result` that may hold an [`InputError`] small.
    Record {
        number: usize,
        label: Option<Box<str>>,
        field: Option<Box<str>>,
    },
    /// A certificate of a certificate file, counted from 1.
    Certificate(usize),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::LineColumn { line, column } => write!(f, "line {line}, column {column}"),
            Position::Line(line) => write!(f, "line {line}"),
            Position::Byte(offset) => write!(f, "byte {offset}"),
            Position::Record { number, label, field } => {
                write!(f, "record {number}")?;
                if let Some(label) = label {
                    write!(f, " ({label:?})")?;
                }
                if let Some(field) = field {
                    write!(f, ", field {field}")?;
                }
                Ok(())
            }
            Position::Certificate(index) => write!(f, "certificate {index}"),
        }
    }
}

/// A problem with one input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    pub position: Option<Position>,
    pub message: String,
    pub hint: Option<String>,
}

impl InputError {
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            file: file.into(),
            position: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn at(mut self, position: Position) -> Self {
        self.position = Some(position);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(position) = &self.position {
            write!(f, ": {position}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

/// Everything that can stop a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Input(#[from] InputError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("internal template error: {0}")]
    Template(String),
    /// `hybridtls probe` could not be completed (its message says what to do).
    #[error("{0}")]
    Probe(#[from] crate::probe::ProbeError),
}
