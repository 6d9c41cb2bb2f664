//! The ontology and SHACL shapes, embedded from `ontology/` at build time.

/// `ontology/govgraph.ttl`.
pub const ONTOLOGY_TTL: &str = include_str!("../../ontology/govgraph.ttl");
/// `ontology/shapes.ttl`.
pub const SHAPES_TTL: &str = include_str!("../../ontology/shapes.ttl");
