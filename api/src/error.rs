//! The API's error type and its one mapping to HTTP: RFC 9457 problem details.
//!
//! Messages meant for clients say what was wrong with the request. Internal failures are
//! logged with their detail and answered with a generic message, so nothing about the
//! machine leaks.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use govgraph_graph::Error as GraphError;
use serde::Serialize;

/// Everything an API call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request is malformed (bad SPARQL, a missing parameter).
    #[error("{0}")]
    BadRequest(String),
    /// No credentials, or credentials that name nobody.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The caller sent too many requests; it may retry after this many seconds.
    #[error("too many requests: retry after {0} s")]
    TooManyRequests(u64),
    /// The configuration is wrong (a startup error, never a response).
    #[error("configuration: {0}")]
    Config(String),
    /// Nothing is there.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// No representation the client accepts.
    #[error("{0}")]
    NotAcceptable(String),
    /// The request body has a media type the endpoint does not take.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The result or the request is too large.
    #[error("{0}")]
    TooLarge(String),
    /// The work ran past its time limit.
    #[error("{0}")]
    Timeout(String),
    /// Another server the request needed (a SERVICE endpoint) failed.
    #[error("{0}")]
    BadGateway(String),
    /// The data directory is busy.
    #[error("{0}")]
    Unavailable(String),
    /// Something failed inside; the detail is logged, not sent.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The API's result type.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<GraphError> for ApiError {
    fn from(e: GraphError) -> Self {
        match e {
            GraphError::Syntax { .. }
            | GraphError::Parse { .. }
            | GraphError::Invalid { .. }
            | GraphError::UnknownFormat { .. } => Self::BadRequest(e.to_string()),
            GraphError::Validation(_) => Self::BadRequest(e.to_string()),
            GraphError::NotFound(_) => Self::NotFound(e.to_string()),
            GraphError::Refused(m) => Self::Forbidden(m),
            GraphError::Timeout(_) => Self::Timeout(e.to_string()),
            GraphError::InUse { .. } => Self::Unavailable("the store is busy; try again".into()),
            GraphError::Query(m) => Self::BadRequest(format!("query failed: {m}")),
            GraphError::Service(m) => Self::BadGateway(m),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<govgraph_connectors::Error> for ApiError {
    fn from(e: govgraph_connectors::Error) -> Self {
        match e {
            govgraph_connectors::Error::Graph(g) => g.into(),
            govgraph_connectors::Error::Invalid { .. } => Self::BadRequest(e.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<govgraph_search::Error> for ApiError {
    fn from(e: govgraph_search::Error) -> Self {
        match e {
            govgraph_search::Error::Graph(g) => g.into(),
            govgraph_search::Error::Invalid { .. } => Self::BadRequest(e.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<govgraph_agents::error::Error> for ApiError {
    fn from(e: govgraph_agents::error::Error) -> Self {
        match e {
            govgraph_agents::error::Error::Graph(g) => g.into(),
            govgraph_agents::error::Error::Search(s) => s.into(),
            govgraph_agents::error::Error::Invalid(m) => Self::BadRequest(m),
            govgraph_agents::error::Error::Denied(m) => Self::Forbidden(m),
            // The SQL is ours, not the client's: a failure to run it is a server fault.
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The client-facing detail of an error response, kept on the response for the audit log.
#[derive(Debug, Clone)]
pub struct ErrorDetail(pub String);

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI that names the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the problem type.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request", "Bad request"),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            Self::TooManyRequests(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests",
            ),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            Self::NotAcceptable(_) => (
                StatusCode::NOT_ACCEPTABLE,
                "not-acceptable",
                "Not acceptable",
            ),
            Self::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too-large", "Too large"),
            Self::Timeout(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout", "Timed out"),
            Self::BadGateway(_) => (StatusCode::BAD_GATEWAY, "bad-gateway", "Bad gateway"),
            Self::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Unavailable",
            ),
            Self::Internal(_) | Self::Config(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let (status, slug, title) = self.parts();
        let detail = match self {
            Self::Internal(_) | Self::Config(_) => {
                "the server failed to handle the request; the failure has been logged".to_owned()
            }
            other => other.to_string(),
        };
        Problem {
            kind: format!("https://govgraph.dev/problems/{slug}"),
            title,
            status: status.as_u16(),
            detail,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) | Self::Config(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let detail = ErrorDetail(problem.detail.clone());
        let mut response = (status, Json(problem)).into_response();
        response.extensions_mut().insert(detail);
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match &self {
            Self::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"govgraph\""),
                );
            }
            Self::TooManyRequests(secs) => {
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    headers.insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        response
    }
}
