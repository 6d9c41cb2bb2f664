//! SQL over data files: the seam between govgraph and a query engine.
//!
//! [`SqlRunner`] takes SQL and the files it reads (each registered under a table name) and
//! returns the result's columns with their types and its rows as text. Data products run their
//! transformation through it, and the rule runner counts failing rows through it. With the
//! `datafusion` feature, [`DataFusionRunner`] executes on DataFusion (CSV, TSV and Parquet
//! files, and JSON lines); it also profiles files ([`FileEngine::DataFusion`]). Without the
//! feature, files are profiled and checked by govgraph's own streaming readers
//! ([`FileEngine::Native`]), with the same metric and rule definitions; with it,
//! [`FileEngine::Auto`] picks the faster engine for each job.

#[cfg(feature = "datafusion")]
mod datafusion;

use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;

#[cfg(feature = "datafusion")]
pub use self::datafusion::DataFusionRunner;

/// A data file, registered for a query under a table name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFile {
    /// `schema.table` (or a bare table name), as the SQL names it.
    pub name: String,
    /// The CSV, TSV, JSON-lines or Parquet file.
    pub path: PathBuf,
}

/// A result column: its name and its SQL type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputColumn {
    /// The column's name.
    pub name: String,
    /// `bigint`, `double`, `decimal(p,s)`, `varchar`, `date`, `timestamp`, `boolean`...
    pub sql_type: String,
}

/// What a query returned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Output {
    /// The columns, in order.
    pub columns: Vec<OutputColumn>,
    /// The rows, each cell as text (`None` for NULL); at most the requested limit.
    pub rows: Vec<Vec<Option<String>>>,
    /// How many rows the query produced in all.
    pub row_count: u64,
}

impl Output {
    /// The first row's cell `i`, as text.
    pub fn cell(&self, i: usize) -> Option<&str> {
        self.rows
            .first()
            .and_then(|r| r.get(i))
            .and_then(|c| c.as_deref())
    }
}

/// Executes SQL over data files.
pub trait SqlRunner: Send + Sync + std::fmt::Debug {
    /// The engine's name, for evidence and reports.
    fn engine(&self) -> &'static str;
    /// Runs `sql` with `tables` registered; keeps at most `keep` rows (all rows are counted).
    fn run(&self, sql: &str, tables: &[TableFile], keep: usize) -> Result<Output>;
    /// Runs several queries over the same tables, registered once; each answer stands alone,
    /// so one query that fails does not stop the others.
    fn run_each(&self, sqls: &[String], tables: &[TableFile], keep: usize) -> Vec<Result<Output>> {
        sqls.iter().map(|s| self.run(s, tables, keep)).collect()
    }
    /// Runs `sql` and writes its whole result to `out` as one Parquet file; returns the rows.
    fn write_parquet(&self, sql: &str, tables: &[TableFile], out: &std::path::Path) -> Result<u64>;
}

/// The runner this build offers: DataFusion with the `datafusion` feature, none without.
pub fn default_runner() -> Option<std::sync::Arc<dyn SqlRunner>> {
    #[cfg(feature = "datafusion")]
    {
        Some(std::sync::Arc::new(DataFusionRunner))
    }
    #[cfg(not(feature = "datafusion"))]
    {
        None
    }
}

/// What reads data files for profiles and rule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileEngine {
    /// For each job, the engine measured fastest for it where the build has both (see
    /// `benches/RULES.md` and `benches/PROFILE.md`): rules run through DataFusion (a
    /// vectorized scan, about 20× faster than row-by-row evaluation), profiles through the
    /// native readers (the same accumulators, fed by typed column readers that cost less CPU
    /// than Arrow decoding). Without the `datafusion` feature, everything is native.
    #[default]
    Auto,
    /// govgraph's own streaming readers: Parquet column by column, text formats in two passes.
    Native,
    /// DataFusion: profiles stream Arrow batches into the same accumulators; rules are SQL.
    DataFusion,
}

impl FileEngine {
    /// Whether this build can run DataFusion.
    pub const AVAILABLE_DATAFUSION: bool = cfg!(feature = "datafusion");

    /// The engine that profiles files: `Auto` settled for this build and job.
    pub fn for_profiles(self) -> Result<Self> {
        match self {
            Self::Auto => Ok(Self::Native),
            other => other.resolve(),
        }
    }

    /// The engine that runs rules on files: `Auto` settled for this build and job.
    pub fn for_rules(self) -> Result<Self> {
        self.resolve()
    }

    /// The engine that will run: `Auto` settled for this build (DataFusion where it has it).
    pub fn resolve(self) -> Result<Self> {
        match self {
            Self::Auto if Self::AVAILABLE_DATAFUSION => Ok(Self::DataFusion),
            Self::Auto => Ok(Self::Native),
            Self::DataFusion if !Self::AVAILABLE_DATAFUSION => Err(crate::Error::Invalid {
                location: "engine".to_owned(),
                field: "datafusion".to_owned(),
                message:
                    "this build has no DataFusion (build govgraph with the `datafusion` feature)"
                        .to_owned(),
            }),
            other => Ok(other),
        }
    }

    /// `native` or `datafusion`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Native => "native",
            Self::DataFusion => "datafusion",
        }
    }
}

impl std::str::FromStr for FileEngine {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "native" => Ok(Self::Native),
            "datafusion" => Ok(Self::DataFusion),
            other => Err(format!(
                "unknown engine '{other}' (expected auto, native or datafusion)"
            )),
        }
    }
}
