//! Column profiles: counts, nulls, distinct values (exact up to [`EXACT_DISTINCT`], then a
//! HyperLogLog, and labelled approximate), min, max, mean, standard deviation, quartiles, the
//! most frequent values, string lengths, format patterns and the inferred semantic type.
//!
//! Files are streamed into [`Accumulator`]s, by either engine ([`FileEngine`]). Natively:
//! Parquet in one pass, column by column with the typed column readers (columns in parallel);
//! CSV/TSV and JSON lines in two passes, the first settling each column's type, the second
//! profiling it, so memory does not grow with the rows. Through DataFusion (the `datafusion`
//! feature): each partition's Arrow batches feed accumulators of their own, merged in file
//! order; text files are read as text and their kinds settled by the same rules. The same metric
//! definitions hold for every source: quartiles are the values at rank ⌊q·(n−1)⌋ of the
//! sorted non-null numbers (dates by day), the standard deviation is the sample one.

pub(crate) mod accumulate;
pub(crate) mod files;
pub mod postgres;
pub(crate) mod sketch;
pub mod store;

use serde::Serialize;
use serde_json::Value;

pub(crate) use accumulate::Accumulator;
pub use accumulate::Kind;
pub use files::profile_file_natively;

use crate::engine::FileEngine;
use crate::error::Result;

/// Profiles every row of a data file with the engine this build picks for profiles (see
/// [`FileEngine::Auto`]).
pub fn profile_file(path: &std::path::Path) -> Result<DatasetProfile> {
    profile_file_with(path, FileEngine::Auto)
}

/// Profiles every row of a data file with `engine`. Both engines compute the same metrics,
/// by the definitions above.
pub fn profile_file_with(path: &std::path::Path, engine: FileEngine) -> Result<DatasetProfile> {
    match engine.for_profiles()? {
        #[cfg(feature = "datafusion")]
        FileEngine::DataFusion => crate::engine::DataFusionRunner.profile(path),
        _ => profile_file_natively(path),
    }
}

/// Distinct values are counted exactly up to this many, then estimated.
pub const EXACT_DISTINCT: usize = 100_000;

/// How many most-frequent values a profile lists.
pub const TOP_VALUES: usize = 10;

/// One value and how often it occurs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueCount {
    /// The value, as text.
    pub value: String,
    /// How many rows hold it.
    pub count: u64,
}

/// One format pattern (`A` upper-case letter, `a` lower-case, `9` digit, others as they are)
/// and how many of the first sampled values have it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatternCount {
    /// The pattern, such as `AA-999`.
    pub pattern: String,
    /// How many sampled values have it.
    pub count: u64,
}

/// The profile of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnProfile {
    /// The column's name.
    pub name: String,
    /// `integer`, `decimal`, `float`, `boolean`, `date`, `timestamp` or `text`.
    #[serde(rename = "type")]
    pub data_type: String,
    /// Rows, null or not.
    pub count: u64,
    /// Null rows.
    pub null_count: u64,
    /// Null rows as a percentage of all rows.
    pub null_percentage: f64,
    /// Distinct non-null values.
    pub distinct_count: u64,
    /// Whether `distinct_count` is a HyperLogLog estimate.
    pub distinct_is_approximate: bool,
    /// The smallest value (numbers as numbers, dates as `YYYY-MM-DD`, text by code point).
    pub min: Value,
    /// The largest value.
    pub max: Value,
    /// The mean of numeric columns.
    pub mean: Option<f64>,
    /// The sample standard deviation of numeric columns.
    pub stddev: Option<f64>,
    /// The first quartile of numeric and date columns.
    pub q25: Value,
    /// The median.
    pub q50: Value,
    /// The third quartile.
    pub q75: Value,
    /// The most frequent values, most frequent first.
    pub top_values: Vec<ValueCount>,
    /// Whether `top_values` counts only the first [`EXACT_DISTINCT`] distinct values seen.
    pub top_values_are_approximate: bool,
    /// Shortest text value, in characters.
    pub min_length: Option<u64>,
    /// Longest text value, in characters.
    pub max_length: Option<u64>,
    /// Mean text length, in characters.
    pub mean_length: Option<f64>,
    /// The commonest format patterns among the first values.
    pub patterns: Vec<PatternCount>,
    /// What the values are: a PII category (`email`, ...), or `identifier`, `categorical`,
    /// `numeric`, `date`, `free_text`, `url`, `uuid`, `boolean`.
    pub semantic_type: String,
}

/// The profile of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetProfile {
    /// The dataset or file.
    pub dataset: String,
    /// Its rows.
    pub row_count: u64,
    /// Its columns, in order.
    pub columns: Vec<ColumnProfile>,
}
