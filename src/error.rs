//! Errors that reach the user. Each names the file and the position, and says what to do.

use std::fmt;

/// Where in an input a problem sits: a line and column for text-level problems, a record and
/// field path for problems in well-formed JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    LineColumn { line: usize, column: usize },
    Byte(usize),
    Field(String),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::LineColumn { line, column } => write!(f, "line {line}, column {column}"),
            Position::Byte(offset) => write!(f, "byte {offset}"),
            Position::Field(path) => write!(f, "{path}"),
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
