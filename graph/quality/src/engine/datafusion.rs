//! DataFusion over data files.
//!
//! Every call builds its own session on a runtime of its own (the caller is synchronous; the
//! server calls it from its blocking pool) and registers the files it reads: Parquet (a file
//! or a folder of files), CSV and TSV (the delimiter sniffed from the header line as the
//! native readers do, ragged rows padded with nulls, the text files' null spellings read as
//! NULL) and JSON lines.
//!
//! Profiles stream the file's Arrow batches, one stream per partition on its own worker,
//! into the accumulators the native profiler uses, and merge the partitions in file order: the
//! metric definitions are the same by construction. Text files are read as text and their
//! columns' kinds settled by the native rules, in a first pass over the same streams.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Field, Float64Type, Schema, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::catalog::MemorySchemaProvider;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::{
    CsvReadOptions, JsonReadOptions, ParquetReadOptions, SessionConfig, SessionContext,
};
use futures::StreamExt;

use super::{Output, OutputColumn, SqlRunner, TableFile};
use crate::error::{Error, Result};
use crate::profile::files::{Guess, feed};
use crate::profile::{Accumulator, DatasetProfile, Kind};

/// DataFusion over CSV, TSV, JSON-lines and Parquet files.
#[derive(Debug, Clone, Copy, Default)]
pub struct DataFusionRunner;

/// Rows the schema of a text file is inferred from (for SQL; profiles settle kinds over
/// every row).
const INFER_ROWS: usize = 10_000;

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Source {
        location: what.to_owned(),
        message: e.to_string(),
    }
}

fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers())
        .enable_all()
        .build()
        .map_err(|e| failed("starting the query runtime", e))
}

fn session() -> SessionContext {
    let config = SessionConfig::new()
        .with_target_partitions(workers())
        .with_information_schema(false);
    SessionContext::new_with_config(config)
}

/// A session whose partitions are contiguous ranges of the file, in order: batches are never
/// dealt round-robin, so the first partition holds the file's first rows.
fn ordered_session() -> SessionContext {
    let mut config = SessionConfig::new()
        .with_target_partitions(workers())
        .with_round_robin_repartition(false)
        .with_batch_size(PROFILE_BATCH)
        .with_information_schema(false);
    // Plain strings: every value is read once, so string views only add their building.
    config
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = false;
    SessionContext::new_with_config(config)
}

/// Rows per batch in profile scans.
const PROFILE_BATCH: usize = 65_536;

/// The regular expression for the values text files mean as "no value".
fn null_regex() -> String {
    r"^\s*(NULL|null|NA|N/A|n/a|\\N|None|nan|NaN)?\s*$".to_owned()
}

/// How a text file's columns are read: as DataFusion infers them, or all as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Text {
    Inferred,
    Raw,
}

/// A text file's header names, trimmed, and its delimiter.
fn header(path: &Path, tab: bool) -> Result<(Vec<String>, u8)> {
    let location = path.display().to_string();
    let delimiter = if tab {
        b'\t'
    } else {
        crate::sample::sniffed_delimiter(path)?
    };
    let file = std::fs::File::open(path).map_err(|e| failed(&location, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(file);
    let names = reader
        .headers()
        .map_err(|e| Error::Invalid {
            location: location.clone(),
            field: "line 1".to_owned(),
            message: e.to_string(),
        })?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    Ok((names, delimiter))
}

async fn register(ctx: &SessionContext, t: &TableFile, text: Text) -> Result<()> {
    if let Some((schema, _)) = t.name.split_once('.') {
        let catalog = ctx
            .catalog("datafusion")
            .ok_or_else(|| failed("the query catalog", "missing"))?;
        if catalog.schema(schema).is_none() {
            catalog
                .register_schema(schema, Arc::new(MemorySchemaProvider::new()))
                .map_err(|e| failed(schema, e))?;
        }
    }
    let path = t.path.to_string_lossy().into_owned();
    let ext = if t.path.is_dir() {
        "parquet".to_owned()
    } else {
        crate::sample::extension(&t.path)
    };
    let done = match ext.as_str() {
        "parquet" | "pq" => {
            ctx.register_parquet(
                t.name.as_str(),
                &path,
                ParquetReadOptions::default().file_extension(&format!(".{ext}")),
            )
            .await
        }
        "csv" | "txt" | "tsv" | "tab" => {
            let (names, delimiter) = header(&t.path, matches!(ext.as_str(), "tsv" | "tab"))?;
            let raw = Schema::new(
                names
                    .iter()
                    .map(|n| Field::new(n, DataType::Utf8, true))
                    .collect::<Vec<_>>(),
            );
            let extension = format!(".{ext}");
            let mut options = CsvReadOptions::new()
                .has_header(true)
                .delimiter(delimiter)
                .truncated_rows(true)
                .file_extension(&extension);
            options = match text {
                Text::Raw => options.schema(&raw),
                Text::Inferred => options
                    .schema_infer_max_records(INFER_ROWS)
                    .null_regex(Some(null_regex())),
            };
            ctx.register_csv(t.name.as_str(), &path, options).await
        }
        "jsonl" | "ndjson" | "json" => {
            let extension = format!(".{ext}");
            ctx.register_json(
                t.name.as_str(),
                &path,
                JsonReadOptions::default()
                    .file_extension(&extension)
                    .schema_infer_max_records(INFER_ROWS),
            )
            .await
        }
        _ => return Err(crate::sample::unknown_format(path)),
    };
    done.map_err(|e| failed(&format!("registering {} ({path})", t.name), e))
}

async fn context(tables: &[TableFile]) -> Result<SessionContext> {
    let ctx = session();
    for t in tables {
        register(&ctx, t, Text::Inferred).await?;
    }
    Ok(ctx)
}

/// The SQL type of an Arrow type.
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

async fn query(ctx: &SessionContext, sql: &str, keep: usize) -> Result<Output> {
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
    let mut stream = df
        .execute_stream()
        .await
        .map_err(|e| failed("executing the SQL", e))?;
    let mut rows = Vec::new();
    let mut row_count = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| failed("executing the SQL", e))?;
        row_count += batch.num_rows() as u64;
        cells(&batch, keep, &mut rows)?;
    }
    Ok(Output {
        columns,
        rows,
        row_count,
    })
}

impl SqlRunner for DataFusionRunner {
    fn engine(&self) -> &'static str {
        "datafusion"
    }

    fn run(&self, sql: &str, tables: &[TableFile], keep: usize) -> Result<Output> {
        let _span = tracing::info_span!("datafusion.run", tables = tables.len()).entered();
        runtime()?.block_on(async {
            let ctx = context(tables).await?;
            query(&ctx, sql, keep).await
        })
    }

    fn run_each(&self, sqls: &[String], tables: &[TableFile], keep: usize) -> Vec<Result<Output>> {
        let _span = tracing::info_span!("datafusion.run_each", queries = sqls.len()).entered();
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(e) => return sqls.iter().map(|_| Err(failed("runtime", &e))).collect(),
        };
        rt.block_on(async {
            let ctx = match context(tables).await {
                Ok(ctx) => ctx,
                Err(e) => {
                    let message = e.to_string();
                    return sqls
                        .iter()
                        .map(|_| Err(failed("registering the tables", &message)))
                        .collect();
                }
            };
            let mut out = Vec::with_capacity(sqls.len());
            for sql in sqls {
                out.push(query(&ctx, sql, keep).await);
            }
            out
        })
    }

    fn write_parquet(&self, sql: &str, tables: &[TableFile], out: &Path) -> Result<u64> {
        let _span = tracing::info_span!("datafusion.write_parquet").entered();
        let location = out.display().to_string();
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir).map_err(|e| failed(&location, e))?;
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
                .map_err(|e| failed(&location, e))?;
            std::fs::rename(&partial, out).map_err(|e| failed(&location, e))?;
            let rows = written
                .iter()
                .filter_map(|b| {
                    b.column(0)
                        .as_primitive_opt::<datafusion::arrow::datatypes::UInt64Type>()
                        .map(|a| a.value(0))
                })
                .sum();
            Ok(rows)
        })
    }
}

// -------------------------------------------------------------------------------------------
// Profiles

/// How one column's Arrow values reach its accumulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    /// Text from a text file: null spellings and the settled kind apply.
    Raw,
    /// Text from a typed file.
    Text,
    Boolean,
    /// Integers, floats and decimals, through a cast to double.
    Number,
    Date32,
    Date64,
    Timestamp(TimeUnit),
    /// Anything else, through its text form.
    Other,
}

fn kind_of(t: &DataType) -> Option<(Kind, Feed)> {
    Some(match t {
        DataType::Boolean => (Kind::Boolean, Feed::Boolean),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => (Kind::Integer, Feed::Number),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => (Kind::Float, Feed::Number),
        DataType::Decimal32(_, s)
        | DataType::Decimal64(_, s)
        | DataType::Decimal128(_, s)
        | DataType::Decimal256(_, s) => (Kind::Decimal((*s).max(0) as u32), Feed::Number),
        DataType::Date32 => (Kind::Date, Feed::Date32),
        DataType::Date64 => (Kind::Date, Feed::Date64),
        DataType::Timestamp(unit, _) => (Kind::Timestamp, Feed::Timestamp(*unit)),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => (Kind::Text, Feed::Text),
        DataType::Struct(_)
        | DataType::List(_)
        | DataType::LargeList(_)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::FixedSizeList(_, _)
        | DataType::Map(_, _)
        | DataType::Union(_, _) => return None,
        _ => (Kind::Text, Feed::Other),
    })
}

/// Calls `each` with every value of a text array (`None` for nulls).
fn each_text(array: &dyn Array, each: &mut dyn FnMut(Option<&str>)) -> Result<()> {
    if let Some(a) = array.as_string_opt::<i32>() {
        a.iter().for_each(each);
    } else if let Some(a) = array.as_string_opt::<i64>() {
        a.iter().for_each(each);
    } else if let Some(a) = array.as_string_view_opt() {
        a.iter().for_each(each);
    } else {
        let text = datafusion::arrow::compute::cast(array, &DataType::Utf8)
            .map_err(|e| failed("reading values as text", e))?;
        if let Some(a) = text.as_string_opt::<i32>() {
            a.iter().for_each(each);
        }
    }
    Ok(())
}

/// Calls `f` with every value of a primitive array, converted by `conv` (`None` for nulls).
fn each_primitive<T: datafusion::arrow::datatypes::ArrowPrimitiveType>(
    array: &dyn Array,
    conv: impl Fn(T::Native) -> f64,
    f: &mut impl FnMut(Option<f64>),
) -> bool {
    let Some(a) = array.as_primitive_opt::<T>() else {
        return false;
    };
    if a.null_count() == 0 {
        a.values().iter().for_each(|v| f(Some(conv(*v))));
    } else {
        a.iter().for_each(|v| f(v.map(&conv)));
    }
    true
}

/// Calls `f` with every value of a numeric array as a double, as the native readers convert
/// them (decimals: the unscaled integer divided by ten to the scale).
fn each_number(array: &dyn Array, mut f: impl FnMut(Option<f64>)) -> Result<()> {
    use datafusion::arrow::datatypes::{Decimal128Type, Int32Type, Int64Type};
    let done = match array.data_type() {
        DataType::Int64 => each_primitive::<Int64Type>(array, |v| v as f64, &mut f),
        DataType::Int32 => each_primitive::<Int32Type>(array, f64::from, &mut f),
        DataType::Float64 => each_primitive::<Float64Type>(array, |v| v, &mut f),
        DataType::Decimal128(_, s) => {
            let scale = 10f64.powi(i32::from(*s));
            each_primitive::<Decimal128Type>(array, move |v| v as f64 / scale, &mut f)
        }
        _ => false,
    };
    if !done {
        let doubles = cast(array, &DataType::Float64)?;
        if let Some(a) = doubles.as_primitive_opt::<Float64Type>() {
            a.iter().for_each(f);
        }
    }
    Ok(())
}

fn cast(array: &dyn Array, to: &DataType) -> Result<datafusion::arrow::array::ArrayRef> {
    datafusion::arrow::compute::cast(array, to).map_err(|e| failed("reading values", e))
}

/// Feeds one Arrow column to its accumulator.
fn feed_array(acc: &mut Accumulator, how: Feed, array: &dyn Array) -> Result<()> {
    let number = |acc: &mut Accumulator, v: Option<f64>| match v {
        Some(x) => acc.number(x),
        None => acc.null(),
    };
    match how {
        Feed::Raw => each_text(array, &mut |v| feed(acc, v))?,
        Feed::Text | Feed::Other => each_text(array, &mut |v| match v {
            Some(s) => acc.text(s),
            None => acc.null(),
        })?,
        Feed::Boolean => {
            if let Some(a) = array.as_boolean_opt() {
                a.iter()
                    .for_each(|v| number(acc, v.map(|b| f64::from(u8::from(b)))));
            }
        }
        Feed::Number => each_number(array, |v| number(acc, v))?,
        Feed::Date32 => {
            if let Some(a) = array.as_primitive_opt::<Date32Type>() {
                a.iter().for_each(|v| number(acc, v.map(f64::from)));
            }
        }
        Feed::Date64 => {
            if let Some(a) = array.as_primitive_opt::<Date64Type>() {
                a.iter()
                    .for_each(|v| number(acc, v.map(|ms| ms.div_euclid(86_400_000) as f64)));
            }
        }
        Feed::Timestamp(unit) => {
            // Microseconds, as the native Parquet reader counts them.
            let micros = |v: Option<i64>, f: &dyn Fn(i64) -> i64| v.map(|x| f(x) as f64);
            match unit {
                TimeUnit::Second => {
                    if let Some(a) = array.as_primitive_opt::<TimestampSecondType>() {
                        a.iter()
                            .for_each(|v| number(acc, micros(v, &|x| x * 1_000_000)));
                    }
                }
                TimeUnit::Millisecond => {
                    if let Some(a) = array.as_primitive_opt::<TimestampMillisecondType>() {
                        a.iter()
                            .for_each(|v| number(acc, micros(v, &|x| x * 1_000)));
                    }
                }
                TimeUnit::Microsecond => {
                    if let Some(a) = array.as_primitive_opt::<TimestampMicrosecondType>() {
                        a.iter().for_each(|v| number(acc, micros(v, &|x| x)));
                    }
                }
                TimeUnit::Nanosecond => {
                    if let Some(a) = array.as_primitive_opt::<TimestampNanosecondType>() {
                        a.iter()
                            .for_each(|v| number(acc, micros(v, &|x| x / 1_000)));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Consumes every partition of `sql`'s result on its own task; `start` makes a partition's
/// state and `step` folds a batch into it. The states come back in partition order.
async fn per_partition<S: Send + 'static>(
    ctx: &SessionContext,
    sql: &str,
    start: impl Fn() -> S,
    step: fn(&mut S, &RecordBatch) -> Result<()>,
) -> Result<Vec<S>> {
    let df = ctx
        .sql(sql)
        .await
        .map_err(|e| failed("planning the profile", e))?;
    let streams = df
        .execute_stream_partitioned()
        .await
        .map_err(|e| failed("reading the file", e))?;
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            let mut state = start();
            tokio::spawn(async move {
                while let Some(batch) = stream.next().await {
                    let batch = batch.map_err(|e| failed("reading the file", e))?;
                    step(&mut state, &batch)?;
                }
                Ok::<S, Error>(state)
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.map_err(|e| failed("reading the file", e))??);
    }
    Ok(out)
}

impl DataFusionRunner {
    /// Profiles every row of a data file with the native profiler's metric definitions. JSON
    /// lines and Parquet files with nested columns are profiled natively: their nested
    /// values become dotted columns there, which a flat SQL scan does not give.
    pub fn profile(&self, path: &Path) -> Result<DatasetProfile> {
        let _span = tracing::info_span!("datafusion.profile", file = %path.display()).entered();
        let location = path.display().to_string();
        let ext = crate::sample::extension(path);
        let text = match ext.as_str() {
            "parquet" | "pq" => false,
            "csv" | "txt" | "tsv" | "tab" => true,
            _ => return crate::profile::files::profile_file_natively(path),
        };
        runtime()?.block_on(async {
            let ctx = ordered_session();
            let table = TableFile {
                name: "t".to_owned(),
                path: path.to_path_buf(),
            };
            register(&ctx, &table, if text { Text::Raw } else { Text::Inferred })
                .await
                .map_err(|e| in_file(e, &location))?;
            let schema = ctx
                .table("t")
                .await
                .map_err(|e| failed(&location, e))?
                .schema()
                .as_arrow()
                .clone();
            let mut columns: Vec<(String, Kind, Feed)> = Vec::new();
            for f in schema.fields() {
                let Some((kind, how)) = kind_of(f.data_type()) else {
                    return crate::profile::files::profile_file_natively(path);
                };
                let how = if text { Feed::Raw } else { how };
                columns.push((f.name().clone(), kind, how));
            }
            let list = columns
                .iter()
                .map(|(n, _, _)| crate::rules::quote_ident(n))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = if list.is_empty() {
                "SELECT count(*) FROM t".to_owned()
            } else {
                format!("SELECT {list} FROM t")
            };
            // Text files: a first pass settles each column's kind as the native reader does.
            if text && !columns.is_empty() {
                let n = columns.len();
                let guesses = per_partition(
                    &ctx,
                    &sql,
                    move || vec![Guess::default(); n],
                    |g: &mut Vec<Guess>, batch| {
                        for (guess, array) in g.iter_mut().zip(batch.columns()) {
                            each_text(array.as_ref(), &mut |v| {
                                if let Some(v) = v.filter(|v| !crate::sample::is_null(v)) {
                                    guess.observe(v);
                                }
                            })?;
                        }
                        Ok(())
                    },
                )
                .await
                .map_err(|e| in_file(e, &location))?;
                let settled = guesses
                    .into_iter()
                    .reduce(|a, b| a.into_iter().zip(b).map(|(x, y)| x.merge(y)).collect());
                if let Some(settled) = settled {
                    for ((_, kind, _), g) in columns.iter_mut().zip(settled) {
                        *kind = g.kind();
                    }
                }
            }
            if columns.is_empty() {
                return Ok(DatasetProfile {
                    dataset: location.clone(),
                    row_count: 0,
                    columns: Vec::new(),
                });
            }
            // Parquet: one scan per column, which reads only that column and lets its values
            // go as soon as it is profiled. Text files: one scan, since every column costs
            // the parsing of whole lines.
            let profiles = if text {
                use rayon::prelude::*;
                scan(&ctx, &sql, columns)
                    .await
                    .map_err(|e| in_file(e, &location))?
                    .into_par_iter()
                    .map(Accumulator::finish)
                    .collect()
            } else {
                let mut out = Vec::with_capacity(columns.len());
                for column in columns {
                    let sql = format!("SELECT {} FROM t", crate::rules::quote_ident(&column.0));
                    let accs = scan(&ctx, &sql, vec![column])
                        .await
                        .map_err(|e| in_file(e, &location))?;
                    out.extend(accs.into_iter().map(Accumulator::finish));
                }
                out
            };
            let columns: Vec<_> = profiles;
            let row_count = columns.iter().map(|c| c.count).max().unwrap_or(0);
            Ok(DatasetProfile {
                dataset: location.clone(),
                row_count,
                columns,
            })
        })
    }
}

/// Streams `sql` (one output column per feed), each partition into accumulators of its own,
/// and merges them in partition order.
async fn scan(
    ctx: &SessionContext,
    sql: &str,
    columns: Vec<(String, Kind, Feed)>,
) -> Result<Vec<Accumulator>> {
    let feeds: Arc<Vec<(String, Kind, Feed)>> = Arc::new(columns);
    let start_feeds = Arc::clone(&feeds);
    let fresh = |feeds: &[(String, Kind, Feed)]| -> Vec<Accumulator> {
        feeds
            .iter()
            .map(|(n, k, _)| Accumulator::new(n, *k))
            .collect()
    };
    let parts = per_partition(
        ctx,
        sql,
        move || Partition(Arc::clone(&start_feeds), fresh(&start_feeds)),
        |p: &mut Partition, batch| {
            let Partition(feeds, accs) = p;
            for ((acc, (_, _, how)), array) in
                accs.iter_mut().zip(feeds.iter()).zip(batch.columns())
            {
                feed_array(acc, *how, array.as_ref())?;
            }
            Ok(())
        },
    )
    .await?;
    let mut merged: Option<Vec<Accumulator>> = None;
    for Partition(_, accs) in parts {
        merged = Some(match merged {
            None => accs,
            Some(mut m) => {
                for (a, b) in m.iter_mut().zip(accs) {
                    a.merge(b);
                }
                m
            }
        });
    }
    Ok(merged.unwrap_or_else(|| fresh(&feeds)))
}

/// One partition's accumulators, with how each column is fed.
struct Partition(Arc<Vec<(String, Kind, Feed)>>, Vec<Accumulator>);

/// An error while reading a file, named by the file.
fn in_file(e: Error, location: &str) -> Error {
    match e {
        Error::Source { message, .. } => Error::Invalid {
            location: location.to_owned(),
            field: "(file)".to_owned(),
            message,
        },
        other => other,
    }
}
