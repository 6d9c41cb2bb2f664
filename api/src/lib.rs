//! govgraph's HTTP interface.
//!
//! The SPARQL 1.1 Protocol at `/sparql` (queries and updates, content negotiation, dataset
//! parameters), REST under `/api/v1` described by OpenAPI 3.1 at `/openapi.json`, API keys
//! mapped to principals with roles and tenants, per-principal rate limits, a global cap on
//! concurrent work, an append-only audit log, and `/metrics`, `/healthz` and `/readyz`.
//! Errors are RFC 9457 problem details. Store and index work runs on a small pool of worker
//! threads ([`pool`]), never on the async runtime. This crate is the only one that knows wire formats.

pub mod ask;
pub mod audit;
pub mod auth;
pub mod config;
pub mod error;
pub mod federation;
#[allow(unused_qualifications)]
pub mod ingest;
pub mod metrics;
pub mod openapi;
#[allow(unused_qualifications)]
pub mod policy;
pub mod pool;
pub mod product;
// The OpenAPI macros spell out paths that the lint would shorten.
#[allow(unused_qualifications)]
pub mod rest;
pub mod results;
pub mod server;
#[allow(unused_qualifications)]
pub mod sparql;
pub mod throttle;

pub use error::{ApiError, ApiResult};
pub use server::{AppState, ServerConfig, router, serve};
