//! govgraph's policy engine. Policies are ODRL 2.2, written in Turtle or in a YAML form that
//! compiles to it ([`yaml`]). The decision point ([`engine`]) answers `{principal, action,
//! resource, purpose}` with permit or deny, the obligations (masking, row filters, columns
//! to leave out) and the policies that decided; it fails safe and caches per store
//! generation. [`mask`] hides values, [`lifecycle`] versions policies (a steward proposes,
//! an admin approves), [`cases`] runs policy tests, [`retention`] finds data past its
//! retention, and [`report`] writes the GDPR Art. 30 record and the CCPA disclosures.
//!
//! Everything here is synchronous and knows nothing of HTTP or of LLMs.

pub mod cases;
pub mod engine;
pub mod error;
pub mod lifecycle;
pub mod lint;
pub mod mask;
pub mod report;
pub mod resource;
pub mod retention;
pub mod yaml;

pub use engine::{Decided, Decision, Effect, Engine, Obligation, PolicySet, Request, Subject};
pub use error::{Error, Result};
pub use mask::{MaskKey, MaskMethod, Masker};
