//! Running a product's SQL on the data files behind its inputs.
//!
//! The seam is the assessment crate's [`SqlRunner`]: the builder hands it the SQL and the
//! files of the datasets the SQL reads (each registered under its dotted catalog name), and
//! gets back the columns with their types and the rows. With the `datafusion` feature,
//! [`DataFusionRunner`] executes through DataFusion; the builder works without a runner too,
//! and then says that the SQL was checked but not executed.

#[cfg(feature = "datafusion")]
pub use govgraph_quality::engine::DataFusionRunner;
pub use govgraph_quality::engine::{Output, OutputColumn, SqlRunner, TableFile, default_runner};
