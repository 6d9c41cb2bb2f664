//! govgraph's connectors: what flows into the catalog on day one.
//!
//! Every connector reads its source, turns it into the typed model of `govgraph-graph`, and
//! hands the result to [`run::Ingestion`], which stores it in one atomic, validated load and
//! records the run as a PROV activity. The crate is synchronous.

pub mod dbt;
pub mod error;
pub mod files;
pub mod openlineage;
pub mod postgres;
pub mod run;

pub use error::{Error, Result};
pub use run::{Extract, ExtractSource, Ingestion, Retry, RunReport};
