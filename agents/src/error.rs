//! The crate's one error type.

/// What can go wrong in the agents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The language model could not be reached or gave no usable answer.
    #[error("language model: {0}")]
    Llm(String),
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
