//! The connectors' one error type.

/// What can go wrong while ingesting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is malformed; `location` names the file, and `field` the JSON path or column.
    #[error("{location}: {field}: {message}")]
    Invalid {
        /// The file, URL or event the input came from.
        location: String,
        /// The field, path or line at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The source could not be reached or read.
    #[error("{location}: {message}")]
    Source {
        /// The file, URL or endpoint.
        location: String,
        /// What went wrong (credentials are never included).
        message: String,
    },
    /// The source could not be reached (a refused connection, a timeout); runs retry these.
    #[error("{location}: unreachable: {message}")]
    Unreachable {
        /// The host or endpoint (credentials are never included).
        location: String,
        /// What went wrong.
        message: String,
    },
    /// The store refused or failed the load.
    #[error(transparent)]
    Graph(#[from] govgraph_graph::Error),
}

/// The connectors' result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
