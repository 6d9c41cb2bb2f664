//! The crate's one error type.

/// What can go wrong while assessing data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is malformed; `location` names the file, `field` the column or line.
    #[error("{location}: {field}: {message}")]
    Invalid {
        /// The file or dataset.
        location: String,
        /// The column, line or field at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The data could not be read.
    #[error("{location}: {message}")]
    Source {
        /// The file or dataset.
        location: String,
        /// What went wrong.
        message: String,
    },
    /// A dataset or column named by the caller is not in the catalog.
    #[error("not in the catalog: {0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Graph(#[from] govgraph_graph::Error),
    /// A connector failed while reading the data.
    #[error(transparent)]
    Connector(#[from] govgraph_connectors::Error),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
