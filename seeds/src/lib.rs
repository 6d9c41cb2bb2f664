//! Deterministic generators for govgraph's seed data.
//!
//! - [`demo`]: the demo e-commerce catalog (bronze CSV/Parquet data, SQL models and the
//!   governance catalog in Turtle), with the committed Turtle embedded as [`demo::DEMO_SOURCES`].
//! - [`synthetic`]: a scalable synthetic catalog streamed as N-Triples for benchmarks.
//!
//! Everything follows the govgraph vocabulary contract (instance IRIs under
//! `https://id.govgraph.dev/`, the `gg:` namespace `https://govgraph.dev/ns#`).

pub mod demo;
pub mod rng;
pub mod synthetic;
pub mod vocab;

pub use demo::{DEMO_SOURCES, DEMO_SQL, DEMO_SQL_SYSTEM, DemoSource, DemoSql, seeds_dir};
pub use synthetic::{SyntheticConfig, SyntheticStats, write_ntriples};
