//! Running a product's SQL on the data files behind its inputs.
//!
//! [`SqlRunner`] is the seam: the builder hands it the SQL and the files of the datasets the
//! SQL reads, and gets back the columns with their types and the rows. With the `datafusion`
//! feature, [`DataFusionRunner`] executes through DataFusion (CSV and Parquet files, each
//! registered under its dotted catalog name); the builder works without a runner too, and
//! then says that the SQL was checked but not executed.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;

/// A catalog dataset's data file, registered for a query under the dataset's dotted name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFile {
    /// `schema.table` (or a bare table name), as the SQL names it.
    pub name: String,
    /// The CSV or Parquet file.
    pub path: PathBuf,
}

/// A result column: its name and its SQL type in the product's terms.
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

/// Executes SQL over data files.
pub trait SqlRunner: Send + Sync + std::fmt::Debug {
    /// The engine's name, for the spec's evidence.
    fn engine(&self) -> &'static str;
    /// Runs `sql` with `tables` registered; keeps at most `keep` rows (all rows are counted).
    fn run(&self, sql: &str, tables: &[TableFile], keep: usize) -> Result<Output>;
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

#[cfg(feature = "datafusion")]
pub use datafusion_runner::DataFusionRunner;

#[cfg(feature = "datafusion")]
mod datafusion_runner {
    use std::path::Path;
    use std::sync::Arc;

    use datafusion::arrow::array::Array;
    use datafusion::arrow::datatypes::DataType;
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    use datafusion::catalog::MemorySchemaProvider;
    use datafusion::dataframe::DataFrameWriteOptions;
    use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionConfig, SessionContext};

    use super::{Output, OutputColumn, SqlRunner, TableFile};
    use crate::error::{Error, Result};

    /// DataFusion over CSV and Parquet files, on a runtime of its own (the caller is
    /// synchronous; the server calls it from its blocking pool).
    #[derive(Debug, Clone, Copy, Default)]
    pub struct DataFusionRunner;

    fn failed(what: &str, e: impl std::fmt::Display) -> Error {
        Error::Execution(format!("{what}: {e}"))
    }

    fn runtime() -> Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| failed("starting the query runtime", e))
    }

    async fn context(tables: &[TableFile]) -> Result<SessionContext> {
        let config = SessionConfig::new()
            .with_target_partitions(2)
            .with_information_schema(false);
        let ctx = SessionContext::new_with_config(config);
        let catalog = ctx
            .catalog("datafusion")
            .ok_or_else(|| failed("the query catalog", "missing"))?;
        for t in tables {
            if let Some((schema, _)) = t.name.split_once('.')
                && catalog.schema(schema).is_none()
            {
                catalog
                    .register_schema(schema, Arc::new(MemorySchemaProvider::new()))
                    .map_err(|e| failed(schema, e))?;
            }
            let path = t.path.to_string_lossy().into_owned();
            let ext = t
                .path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default()
                .to_ascii_lowercase();
            let done = match ext.as_str() {
                "parquet" => {
                    ctx.register_parquet(t.name.as_str(), &path, ParquetReadOptions::default())
                        .await
                }
                "csv" | "tsv" => {
                    let delimiter = if ext == "tsv" { b'\t' } else { b',' };
                    ctx.register_csv(
                        t.name.as_str(),
                        &path,
                        CsvReadOptions::new()
                            .has_header(true)
                            .delimiter(delimiter)
                            .file_extension(&format!(".{ext}")),
                    )
                    .await
                }
                other => {
                    return Err(Error::Invalid(format!(
                        "{path}: files of type '{other}' cannot be queried (CSV, TSV or Parquet)"
                    )));
                }
            };
            done.map_err(|e| failed(&format!("registering {} ({path})", t.name), e))?;
        }
        Ok(ctx)
    }

    /// The product's SQL type for an Arrow type.
    pub(crate) fn sql_type(t: &DataType) -> String {
        match t {
            DataType::Boolean => "boolean".into(),
            DataType::Int8 | DataType::Int16 | DataType::UInt8 => "smallint".into(),
            DataType::Int32 | DataType::UInt16 => "integer".into(),
            DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "bigint".into(),
            DataType::Float16 | DataType::Float32 => "real".into(),
            DataType::Float64 => "double".into(),
            DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "varchar".into(),
            DataType::Date32 | DataType::Date64 => "date".into(),
            DataType::Timestamp(_, _) => "timestamp".into(),
            DataType::Time32(_) | DataType::Time64(_) => "time".into(),
            other => other.to_string().to_ascii_lowercase(),
        }
    }

    fn cells(batch: &RecordBatch, keep: usize, rows: &mut Vec<Vec<Option<String>>>) -> Result<()> {
        let options = FormatOptions::default();
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| failed("formatting the result", e))?;
        for r in 0..batch.num_rows() {
            if rows.len() >= keep {
                break;
            }
            let row = batch
                .columns()
                .iter()
                .zip(&formatters)
                .map(|(c, f)| (!c.is_null(r)).then(|| f.value(r).to_string()))
                .collect();
            rows.push(row);
        }
        Ok(())
    }

    impl SqlRunner for DataFusionRunner {
        fn engine(&self) -> &'static str {
            "datafusion"
        }

        fn run(&self, sql: &str, tables: &[TableFile], keep: usize) -> Result<Output> {
            let _span = tracing::info_span!("datafusion.run", tables = tables.len()).entered();
            runtime()?.block_on(async {
                let ctx = context(tables).await?;
                let df = ctx
                    .sql(sql)
                    .await
                    .map_err(|e| failed("planning the SQL", e))?;
                let columns = df
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| OutputColumn {
                        name: f.name().clone(),
                        sql_type: sql_type(f.data_type()),
                    })
                    .collect();
                let batches = df
                    .collect()
                    .await
                    .map_err(|e| failed("executing the SQL", e))?;
                let mut rows = Vec::new();
                let mut row_count = 0u64;
                for b in &batches {
                    row_count += b.num_rows() as u64;
                    cells(b, keep, &mut rows)?;
                }
                Ok(Output {
                    columns,
                    rows,
                    row_count,
                })
            })
        }

        fn write_parquet(&self, sql: &str, tables: &[TableFile], out: &Path) -> Result<u64> {
            let _span = tracing::info_span!("datafusion.write_parquet").entered();
            if let Some(dir) = out.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| failed(&format!("creating {}", dir.display()), e))?;
            }
            runtime()?.block_on(async {
                let ctx = context(tables).await?;
                let df = ctx
                    .sql(sql)
                    .await
                    .map_err(|e| failed("planning the SQL", e))?;
                // One file, written whole: a temporary name first, then a rename.
                let partial = out.with_extension("parquet.partial");
                // Snappy: what every Parquet reader supports, ours included.
                let mut options = datafusion::config::TableParquetOptions::default();
                options.global.compression = Some("snappy".into());
                let written = df
                    .write_parquet(
                        &partial.to_string_lossy(),
                        DataFrameWriteOptions::new().with_single_file_output(true),
                        Some(options),
                    )
                    .await
                    .map_err(|e| failed(&format!("writing {}", out.display()), e))?;
                std::fs::rename(&partial, out)
                    .map_err(|e| failed(&format!("writing {}", out.display()), e))?;
                let rows = written
                    .iter()
                    .filter_map(|b| {
                        b.column(0)
                            .as_any()
                            .downcast_ref::<datafusion::arrow::array::UInt64Array>()
                            .map(|a| a.value(0))
                    })
                    .sum();
                Ok(rows)
            })
        }
    }
}
