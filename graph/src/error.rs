//! The one error type of the graph crate.

use std::path::PathBuf;

use crate::shacl::ValidationReport;

/// Everything that can go wrong in the graph core.
///
/// Variants carry what a person needs to fix the problem: the file, the line and column,
/// the field. Storage internals are kept in `source` and never rendered to clients by the API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The data directory is held by another process.
    #[error(
        "the data directory {path} is in use by another govgraph process{}; stop it, or query it over HTTP",
        holder.as_deref().map(|h| format!(" ({h})")).unwrap_or_default()
    )]
    InUse {
        /// The data directory.
        path: PathBuf,
        /// What is known about the holder (its pid), if anything.
        holder: Option<String>,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An RDF document is malformed.
    #[error("{location}{}: {message}", position(*line, *column))]
    Parse {
        /// The file, or another name for the input (`stdin`, `request body`).
        location: String,
        /// 1-based line of the error, when the parser knows it.
        line: Option<u64>,
        /// 1-based column of the error, when the parser knows it.
        column: Option<u64>,
        /// What the parser said.
        message: String,
    },
    /// A SPARQL query or update is malformed.
    #[error("invalid SPARQL: {message}")]
    Syntax {
        /// The parser's message, which includes the line and column.
        message: String,
    },
    /// A SPARQL query failed while it ran.
    #[error("query failed: {0}")]
    Query(String),
    /// The query ran past its time limit and was cancelled.
    #[error("query cancelled after {0:?}")]
    Timeout(std::time::Duration),
    /// The format of an input could not be determined or is not supported.
    #[error("{location}: unsupported or unknown RDF format{}", hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    UnknownFormat {
        /// The file or input.
        location: String,
        /// The extension or media type that was seen.
        hint: Option<String>,
    },
    /// Data to be loaded breaks the SHACL shapes; nothing was stored.
    #[error("{}", .0.summary())]
    Validation(Box<ValidationReport>),
    /// An input names something that is not allowed (a reserved graph, a bad IRI, a missing field).
    #[error("{field}: {message}")]
    Invalid {
        /// The field, graph or IRI at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// An entity was asked for and is not in the graph.
    #[error("not found: {0}")]
    NotFound(String),
    /// The scope the request runs in does not allow it (another tenant's graph, a managed
    /// graph, SERVICE, LOAD).
    #[error("{0}")]
    Refused(String),
    /// A SERVICE endpoint the query called failed or answered something that is not SPARQL
    /// results.
    #[error("{0}")]
    Service(String),
    /// The embedded storage engine failed.
    #[error("storage error: {0}")]
    Storage(#[from] oxigraph::store::StorageError),
}

fn position(line: Option<u64>, column: Option<u64>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The graph crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
