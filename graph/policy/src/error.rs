//! The crate's one error type.

/// What can go wrong in the policy engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A policy, a decision case or a request is malformed; `location` names the file or
    /// request, `field` the line or field at fault.
    #[error("{location}: {field}: {message}")]
    Invalid {
        /// The file or request.
        location: String,
        /// The line or field at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Something named by the caller is not in the catalog.
    #[error("not in the catalog: {0}")]
    NotFound(String),
    /// The caller may not do this (a steward approving, an author approving their own change).
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The request conflicts with the current state (approving a version that is not proposed).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store failed.
    #[error(transparent)]
    Graph(#[from] govgraph_graph::Error),
    /// Reading the data failed.
    #[error(transparent)]
    Quality(#[from] govgraph_quality::Error),
}

impl Error {
    /// An `Invalid` error.
    pub fn invalid(
        location: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            location: location.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
