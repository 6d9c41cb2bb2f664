//! govgraph's graph core.
//!
//! The embedded RDF store ([`GraphStore`]), the typed governance [`model`], deterministic
//! [`iri`]s, atomic validated [`loader`], the [`shacl`] validator and the vocabulary
//! constants ([`vocab`]). This crate knows no HTTP and no LLM.

mod confine;
pub mod error;
pub mod federation;
pub mod guard;
pub mod ingest;
pub mod iri;
pub mod loader;
pub mod model;
pub mod ontology;
pub mod scope;
pub mod shacl;
mod stage;
pub mod store;
pub mod traverse;
pub mod vocab;

pub use error::{Error, Result};
pub use federation::{Federation, ServiceClient, ServiceError};
pub use iri::{ColumnKey, DatasetKey, IriScheme, Kind};
pub use loader::{LoadOptions, LoadReport, LoadSource, NoProgress, Progress};
pub use oxigraph;
pub use scope::{Scope, WriteTargets};
pub use shacl::{Severity, ValidationReport, ValidationResult};
pub use store::{GraphStore, QueryOptions, QueryOutcome, StoreConfig};
