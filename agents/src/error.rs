//! The crate's one error type.

/// What can go wrong in the agents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The language model could not be reached or gave no usable answer.
    #[error("language model: {0}")]
    Llm(String),
    /// The request cannot be served as asked (an empty request, an unknown choice, a file
    /// type that cannot be queried); the message says what to change.
    #[error("{0}")]
    Invalid(String),
    /// The requester may not read what the request needs; the message names the dataset and
    /// the reason.
    #[error("{0}")]
    Denied(String),
    /// A product's SQL failed to plan or run on the data.
    #[error("SQL execution: {0}")]
    Execution(String),
    /// The store failed.
    #[error(transparent)]
    Graph(#[from] govgraph_graph::Error),
    /// Search failed.
    #[error(transparent)]
    Search(#[from] govgraph_search::Error),
    /// Assessing the data failed.
    #[error(transparent)]
    Quality(#[from] govgraph_quality::Error),
    /// The policy engine failed.
    #[error(transparent)]
    Policy(#[from] govgraph_policy::Error),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
