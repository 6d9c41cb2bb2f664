//! govgraph's assessment of data: PII classification of columns, from their names (in
//! English, German, French, Spanish, Portuguese, Dutch and Italian) and from samples of their
//! values (validated patterns, dictionaries, embedded PII in free text), each label with a
//! confidence and the evidence behind it. Profiles of files and PostgreSQL tables, and data-quality
//! rules: suggested, run where the data lives, scored, watched for anomalies and exported.
//!
//! Everything here is synchronous and knows nothing of HTTP or of LLMs.

pub mod classify;
pub mod engine;
pub mod error;
pub mod locate;
pub mod profile;
pub mod rules;
pub mod sample;
pub mod store;

pub use classify::{
    Category, ColumnClassification, ColumnSample, Evidence, classify_column, classify_table,
};
pub use error::{Error, Result};
