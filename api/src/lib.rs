//! govgraph's HTTP interface.
//!
//! The SPARQL 1.1 Protocol at `/sparql` (queries by GET and POST, content negotiation,
//! dataset parameters), with errors as RFC 9457 problem details. Store work runs on the
//! blocking pool, never on the async runtime. This crate is the only one that knows wire
//! formats.

pub mod error;
pub mod results;
pub mod server;
pub mod sparql;

pub use error::{ApiError, ApiResult};
pub use server::{AppState, ServerConfig, router, serve};
