//! The one error type of govgraph-search.

/// What can go wrong in search.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the graph failed.
    #[error(transparent)]
    Graph(#[from] govgraph_graph::Error),
    /// A store read failed.
    #[error("store: {0}")]
    Storage(#[from] govgraph_graph::oxigraph::store::StorageError),
    /// The full-text index failed.
    #[error("full-text index: {0}")]
    Index(String),
    /// The vector index failed.
    #[error("vector index: {0}")]
    Vectors(String),
    /// An embedder failed or returned vectors of the wrong size.
    #[error("embedding: {0}")]
    Embedding(String),
    /// A request was malformed; names the field.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// File system trouble.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A stored document or payload could not be (de)serialised.
    #[error("index metadata: {0}")]
    Json(#[from] serde_json::Error),
}

/// Search's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
