//! The files connector: a folder of CSV, TSV, Parquet and JSON-lines files becomes a system
//! of file datasets, with columns, types, nullability and row counts.
//!
//! # What is read
//!
//! The folder is walked recursively in name order. Entries whose name starts with `.` or `_`
//! are skipped, as Hadoop, Spark, Hive and Delta Lake treat them as hidden (`_SUCCESS`,
//! `_delta_log/`, `.part-00000.crc`), and so are `*.crc` checksums. Symbolic links are
//! followed, but a folder is never read twice, so link loops end (with a warning). Files are
//! recognised by extension: `.csv`, `.tsv`, `.parquet` and `.pq`, `.jsonl` and `.ndjson`, and
//! `.json` (JSON lines, or a JSON array of objects when the file opens with `[`). Other files
//! are skipped and listed in one warning. Compressed files (`.csv.gz`) are not read.
//!
//! # What is a dataset
//!
//! - A folder with at least one `key=value` subfolder is **one partitioned dataset** holding
//!   every data file under it, at any depth, named after the folder. Its partition keys
//!   become columns after the data columns, typed from their values (`bigint` when every
//!   value is an integer, then `date`, `timestamp`, else `varchar`); `__HIVE_DEFAULT_PARTITION__`
//!   and empty values are nulls. All its files must be of one format family (CSV/TSV, Parquet
//!   or JSON), else the run fails.
//! - Otherwise a folder whose data files are all *part files* of one format family (named as
//!   Spark, Hive, Delta and DuckDB name them: `part-00000-….parquet`, `part_1.csv`,
//!   `data_0.parquet`) is **one dataset** of those files, named after the folder; its other
//!   subfolders are datasets of their own.
//! - Otherwise every data file is a dataset of its own.
//!
//! The schema of a multi-file dataset is the union of its files' columns, by name, in
//! first-seen order; a column missing from some file is nullable and the row count is the sum.
//! Types widen: integers to wider integers, integers and floats to `double`, decimals to the
//! decimal holding both, `date` and `timestamp` to `timestamp`. Inferred types (CSV, JSON)
//! that cannot widen become `varchar`; declared Parquet types that cannot widen (a `bigint`
//! column that is `varchar` in another file) fail the run with both file names.
//!
//! A dataset's key is its path under the folder without the extension, with `/` written as
//! `.`: `sales/orders.csv` is `sales.orders` in the system, and the folder itself, when it is
//! a dataset, takes the folder's name. Files with the same path but different formats
//! (`orders.csv` beside `orders.parquet`) are **one dataset with one distribution per
//! format**; its columns and row count come from the most precise format (Parquet, then JSON,
//! then CSV), with a warning when the others disagree. Any other two paths that would make the
//! same key (`a.b.csv` and `a/b.csv`) fail the run.
//!
//! # Types
//!
//! CSV and TSV: the delimiter (`,` `;` tab `|`; always tab for `.tsv`) and the quote (`"` or
//! `'`) are sniffed from the first 64 KiB; the first record is a header unless its values
//! look like the data under them (numbers over numbers, dates over dates) or, when every
//! column is text, unless one of them looks like a number, date or boolean. Types are
//! inferred from the first [`FilesOptions::sample_rows`] records: `boolean` (`true`/`false`),
//! `bigint` (digits without a leading zero, so postal codes stay text), `double`, `date`
//! (`yyyy-mm-dd`), `timestamp` (ISO 8601, `T` or space, with or without a zone), else
//! `varchar`. The whole file is read to count its records, to find the columns that hold
//! missing values (nullable: empty, `NULL`, `null` or `\N` anywhere; `NA` and `N/A` only in
//! columns of numbers, dates or booleans, since in text `NA` is also North America), and to
//! check it: a record with a different number of fields than the first, or text that is not
//! UTF-8, fails the run with the file and line. A ragged file is an error rather than a
//! warning because a reader that guesses which fields are missing reports wrong columns.
//! Decimal commas (`1,5`) are not recognised: such columns are `varchar`.
//!
//! JSON lines: see the `json_lines` module; nested objects are flattened into dotted columns.
//! Parquet: see the `parquet_footer` module; only the footer is read, and the row count is
//! the one it declares.
//!
//! # What is written
//!
//! One source graph, `files:{system}`: the system (platform `files`) and, per dataset, a
//! `gg:FileDataset` with `dct:title` (file or folder name), `dct:identifier` (the key),
//! `gg:rowCount`, `dct:modified` (the newest file), `gg:layer` when a folder on its path (or
//! the folder read) is named `bronze`, `silver` or `gold`, one `dcat:Distribution` per format
//! (`dct:format` such as `csv`, `dcat:mediaType` such as `text/csv`, `gg:path` relative to the
//! folder, `dcat:byteSize`), and its `csvw:Column`s with name, `gg:dataType`, `gg:ordinal`
//! and `csvw:required`. Any error leaves the store as it was.

mod delimited;
mod json_lines;
mod parquet_footer;
mod schema;
mod types;
mod walk;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use govgraph_graph::iri::{IriScheme, slug};
use govgraph_graph::loader::Progress;
use govgraph_graph::model::{Column, Dataset, DatasetKind, Entity, System};
use govgraph_graph::vocab::{dcat, dct, gg, rdf, xsd};
use govgraph_graph::{ColumnKey, DatasetKey, GraphStore};
use oxigraph::model::{BlankNode, Literal, NamedNodeRef, NamedOrBlankNode, Triple};

use crate::error::{Error, Result};
use crate::run::{Extract, ExtractSource, Ingestion, RunReport};

use self::json_lines::Layout;
use self::schema::{Field, FileSchema};
use self::types::{BIGINT, Ty, Widen, is_date, is_int_lax, is_timestamp, unify};
use self::walk::{DataFile, Ext, Family, Unit};

/// `dcat:mediaType`.
const MEDIA_TYPE: NamedNodeRef<'static> =
    NamedNodeRef::new_unchecked("http://www.w3.org/ns/dcat#mediaType");
/// `dcat:byteSize`.
const BYTE_SIZE: NamedNodeRef<'static> =
    NamedNodeRef::new_unchecked("http://www.w3.org/ns/dcat#byteSize");

/// How a folder of files is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesOptions {
    /// The key of the system the files belong to; defaults to the folder's name (slugged).
    pub system: Option<String>,
    /// How many records (CSV rows, JSON lines) of each file column types are inferred from;
    /// 0 reads types from every record. The whole file is read anyway, to count its rows,
    /// find nullable columns and check that it is well-formed.
    pub sample_rows: usize,
}

impl Default for FilesOptions {
    fn default() -> Self {
        Self {
            system: None,
            sample_rows: 10_000,
        }
    }
}

/// Reads the folder `dir` (or the one file it names) into the model: one source graph,
/// `files:{system}`, with the system, its file datasets and their columns. Reports the
/// phase `scanning files` with one step per data file.
pub fn read_files(
    dir: &Path,
    options: &FilesOptions,
    scheme: &IriScheme,
    progress: &dyn Progress,
) -> Result<Extract> {
    let location = dir.display().to_string();
    let folder_name = folder_name(dir);
    let system_key = match &options.system {
        Some(s) if s.trim().is_empty() => {
            return Err(invalid("options", "system", "must not be empty"));
        }
        Some(s) => slug(s),
        None => slug(&folder_name),
    };
    let found = walk::walk(dir, &folder_name)?;
    let mut extract = Extract::default();
    extract.warnings.extend(found.warnings);
    if let Some(w) = skipped_warning(&location, &found.skipped) {
        extract.warnings.push(w);
    }
    extract.count("skipped_files", found.skipped.len() as u64);

    let total: usize = found.units.iter().map(|u| u.files.len()).sum();
    progress.phase("scanning files", Some(total as u64));
    // Paths in messages are under the folder (the file's folder when one file is read).
    let base = match dir.parent() {
        Some(parent) if dir.is_file() => parent,
        _ => dir,
    };
    let built = read_units(base, found.units, options, progress, &mut extract.warnings);
    progress.finish();
    let built = built?;

    let datasets = merge(
        built,
        base,
        &system_key,
        &folder_name,
        &mut extract.warnings,
    )?;
    let mut triples = Vec::new();
    System {
        key: system_key.clone(),
        title: options
            .system
            .clone()
            .unwrap_or_else(|| folder_name.clone()),
        platform: "files".to_owned(),
        description: Some(format!(
            "CSV, Parquet and JSON-lines files under {location}"
        )),
    }
    .write(scheme, &mut triples);
    let mut blank = 0u128;
    extract.count("datasets", 0);
    for d in &datasets {
        extract.count("datasets", 1);
        extract.count("columns", d.columns.len() as u64);
        extract.count(
            "files",
            d.distributions.iter().map(|x| x.files as u64).sum(),
        );
        extract.count("rows", d.dataset.row_count.unwrap_or(0));
        d.write(scheme, &mut triples, &mut blank);
    }
    extract.sources.push(ExtractSource {
        name: format!("files:{system_key}"),
        location,
        triples,
    });
    tracing::info!(datasets = datasets.len(), files = total, "files read");
    Ok(extract)
}

/// Reads the folder `dir` with [`read_files`] and stores the result as one recorded run of
/// the `files` connector: the previous facts of the same system are replaced, and on any
/// error nothing but the failed run's record is stored.
pub fn ingest_files(
    store: &GraphStore,
    dir: &Path,
    options: &FilesOptions,
    progress: &dyn Progress,
) -> Result<RunReport> {
    Ingestion::new(store, "files", &dir.display().to_string()).run(progress, |_| {
        read_files(dir, options, store.scheme(), progress)
    })
}

// ---------------------------------------------------------------------------------------------
// Errors

/// Bad input, with the file and the line, column or part at fault.
fn invalid(location: &str, field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Invalid {
        location: location.to_owned(),
        field: field.into(),
        message: message.into(),
    }
}

/// A file or folder that could not be read.
fn io_error(location: &str, e: &std::io::Error) -> Error {
    Error::Source {
        location: location.to_owned(),
        message: format!("cannot read: {e}"),
    }
}

/// The last component of the folder's path, resolved when it is `.` or `..`.
fn folder_name(dir: &Path) -> String {
    let named = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
    };
    let name = match std::fs::metadata(dir) {
        Ok(m) if m.is_file() => dir
            .parent()
            .and_then(|p| named(p).or_else(|| p.canonicalize().ok().and_then(|c| named(&c)))),
        _ => named(dir).or_else(|| dir.canonicalize().ok().and_then(|c| named(&c))),
    };
    name.unwrap_or_else(|| "files".to_owned())
}

/// A path under the folder, for messages.
fn located(dir: &Path, path: &str) -> String {
    if path == "." {
        dir.display().to_string()
    } else {
        dir.join(path).display().to_string()
    }
}

fn skipped_warning(location: &str, skipped: &[String]) -> Option<String> {
    if skipped.is_empty() {
        return None;
    }
    let shown: Vec<&str> = skipped.iter().take(5).map(String::as_str).collect();
    let more = skipped.len().saturating_sub(shown.len());
    Some(format!(
        "{location}: skipped {} file(s) of no known format (csv, tsv, parquet, pq, jsonl, ndjson, json): {}{}",
        skipped.len(),
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The format of a distribution, most precise first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Format {
    Parquet,
    JsonLines,
    JsonArray,
    Csv,
    Tsv,
}

impl Format {
    fn label(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::JsonLines => "jsonl",
            Format::JsonArray => "json",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
        }
    }

    fn media_type(self) -> &'static str {
        match self {
            Format::Parquet => "application/vnd.apache.parquet",
            Format::JsonLines => "application/x-ndjson",
            Format::JsonArray => "application/json",
            Format::Csv => "text/csv",
            Format::Tsv => "text/tab-separated-values",
        }
    }
}

/// One file or folder read: a dataset, or one distribution of one.
#[derive(Debug)]
struct Built {
    unit: Unit,
    format: Format,
    fields: Vec<Field>,
    rows: u64,
    bytes: u64,
    modified: Option<SystemTime>,
    partition_keys: Vec<String>,
}

fn read_units(
    dir: &Path,
    units: Vec<Unit>,
    options: &FilesOptions,
    progress: &dyn Progress,
    warnings: &mut Vec<String>,
) -> Result<Vec<Built>> {
    let sample = match options.sample_rows {
        0 => usize::MAX,
        n => n,
    };
    let mut out = Vec::with_capacity(units.len());
    for unit in units {
        let mut read = Vec::with_capacity(unit.files.len());
        for (file, _) in &unit.files {
            let schema = read_file(file, sample)?;
            progress.advance(1);
            read.push(schema);
        }
        out.push(build(dir, unit, read, warnings)?);
    }
    Ok(out)
}

fn read_file(file: &DataFile, sample: usize) -> Result<(FileSchema, Format)> {
    let location = file.location();
    let path = file.path.as_path();
    tracing::debug!(%location, "reading");
    Ok(match file.ext {
        Ext::Csv => (
            delimited::read(path, &location, false, sample)?,
            Format::Csv,
        ),
        Ext::Tsv => (delimited::read(path, &location, true, sample)?, Format::Tsv),
        Ext::Parquet => (parquet_footer::read(path, &location)?, Format::Parquet),
        Ext::JsonLines => (
            json_lines::read(path, &location, false, sample)?.0,
            Format::JsonLines,
        ),
        Ext::Json => match json_lines::read(path, &location, true, sample)? {
            (s, Layout::Lines) => (s, Format::JsonLines),
            (s, Layout::Array) => (s, Format::JsonArray),
        },
    })
}

fn either_nullable(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x || y),
        (x, None) => x,
        (None, y) => y,
    }
}

/// One dataset from its files: the union of their columns, then the partition columns.
fn build(
    dir: &Path,
    unit: Unit,
    read: Vec<(FileSchema, Format)>,
    warnings: &mut Vec<String>,
) -> Result<Built> {
    let format = read.iter().map(|(_, f)| *f).min().unwrap_or(Format::Csv);
    let family = unit.files.first().map(|(f, _)| f.ext.family());
    let mode = if family == Some(Family::Parquet) {
        Widen::Strict
    } else {
        Widen::Lenient
    };
    let mut fields: Vec<Field> = Vec::new();
    let mut origin: Vec<String> = Vec::new();
    let mut rows = 0u64;
    for ((file, _), (schema, _)) in unit.files.iter().zip(read) {
        let present: HashSet<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
        for f in &mut fields {
            if schema.rows > 0 && !present.contains(f.name.as_str()) {
                f.nullable = Some(true);
            }
        }
        for f in schema.fields {
            match fields.iter().position(|g| g.name == f.name) {
                Some(i) => {
                    let (Some(g), Some(from)) = (fields.get_mut(i), origin.get(i)) else {
                        continue;
                    };
                    g.ty = unify(&g.ty, &f.ty, mode).ok_or_else(|| {
                        invalid(
                            &file.location(),
                            format!("column {}", f.name),
                            format!(
                                "is {} here but {} in {from}: the files of one dataset must agree (only integer, decimal and date widths widen)",
                                f.ty, g.ty
                            ),
                        )
                    })?;
                    g.nullable = either_nullable(g.nullable, f.nullable);
                }
                None => {
                    origin.push(file.location());
                    fields.push(Field {
                        nullable: if rows > 0 { Some(true) } else { f.nullable },
                        ..f
                    });
                }
            }
        }
        rows = rows.saturating_add(schema.rows);
    }
    let partition_keys = add_partitions(dir, &unit, &mut fields, warnings);
    let bytes = unit.files.iter().map(|(f, _)| f.size).sum();
    let modified = unit.files.iter().filter_map(|(f, _)| f.modified).max();
    Ok(Built {
        unit,
        format,
        fields,
        rows,
        bytes,
        modified,
        partition_keys,
    })
}

/// Adds the partition keys of a dataset's files as columns; returns the keys.
fn add_partitions(
    dir: &Path,
    unit: &Unit,
    fields: &mut Vec<Field>,
    warnings: &mut Vec<String>,
) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for (_, values) in &unit.files {
        for (k, _) in values {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    for key in &keys {
        if fields.iter().any(|f| f.name.eq_ignore_ascii_case(key)) {
            warnings.push(format!(
                "{}: partition key {key} is also a column of the files; the column is kept",
                located(dir, &unit.path)
            ));
            continue;
        }
        let values: Vec<Option<&str>> = unit
            .files
            .iter()
            .map(|(_, vs)| {
                vs.iter()
                    .find(|(k, _)| k == key)
                    .and_then(|(_, v)| v.as_deref())
            })
            .collect();
        let present: Vec<&str> = values.iter().flatten().copied().collect();
        let ty = if present.is_empty() {
            Ty::Null
        } else if present.iter().all(|v| is_int_lax(v)) {
            BIGINT
        } else if present.iter().all(|v| is_date(v)) {
            Ty::Date
        } else if present.iter().all(|v| is_date(v) || is_timestamp(v)) {
            Ty::Timestamp
        } else {
            Ty::Varchar
        };
        fields.push(Field {
            name: key.clone(),
            ty,
            nullable: Some(values.iter().any(Option::is_none)),
        });
    }
    keys
}

// ---------------------------------------------------------------------------------------------
// Datasets

/// One distribution of a dataset.
#[derive(Debug)]
struct Distribution {
    title: String,
    format: Format,
    path: String,
    bytes: u64,
    files: usize,
}

/// A dataset ready to be written.
#[derive(Debug)]
struct FileDataset {
    dataset: Dataset,
    modified: Option<SystemTime>,
    distributions: Vec<Distribution>,
    columns: Vec<Column>,
}

/// Groups what was read by dataset key: one format per path is one dataset; the same path in
/// several formats is one dataset with several distributions; anything else is a conflict.
fn merge(
    built: Vec<Built>,
    dir: &Path,
    system: &str,
    folder_name: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<FileDataset>> {
    let mut groups: BTreeMap<DatasetKey, Vec<Built>> = BTreeMap::new();
    for b in built {
        let key = DatasetKey::new(system, &b.unit.name.join("."));
        groups.entry(key).or_default().push(b);
    }
    let mut out = Vec::with_capacity(groups.len());
    for (key, mut group) in groups {
        group.sort_by_key(|b| b.format);
        check_group(&key, &group, dir)?;
        out.push(dataset(dir, key, group, folder_name, warnings));
    }
    Ok(out)
}

fn check_group(key: &DatasetKey, group: &[Built], dir: &Path) -> Result<()> {
    let Some((first, rest)) = group.split_first() else {
        return Ok(());
    };
    let mut formats = vec![first.format];
    for b in rest {
        let same_place = b.unit.parent == first.unit.parent;
        if !same_place || formats.contains(&b.format) {
            return Err(invalid(
                &located(dir, &b.unit.path),
                "dataset key",
                format!(
                    "{} and {} would both be dataset {key}; rename one of them",
                    first.unit.path, b.unit.path
                ),
            ));
        }
        formats.push(b.format);
    }
    Ok(())
}

fn layer(b: &Built, folder_name: &str) -> Option<String> {
    let folders = b
        .unit
        .name
        .split_last()
        .map(|(_, p)| p)
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .chain(std::iter::once(folder_name));
    for f in folders {
        let lower = f.to_ascii_lowercase();
        if matches!(lower.as_str(), "bronze" | "silver" | "gold") {
            return Some(lower);
        }
    }
    None
}

fn describe_folder(b: &Built) -> Option<String> {
    if !b.unit.folder {
        return None;
    }
    let n = b.unit.files.len();
    let format = b.format.label().to_ascii_uppercase();
    let partitions = if b.partition_keys.is_empty() {
        String::new()
    } else {
        format!(", partitioned by {}", b.partition_keys.join(", "))
    };
    Some(format!(
        "A folder of {n} {format} file{}{partitions}.",
        if n == 1 { "" } else { "s" }
    ))
}

fn dataset(
    dir: &Path,
    key: DatasetKey,
    group: Vec<Built>,
    folder_name: &str,
    warnings: &mut Vec<String>,
) -> FileDataset {
    let several = group.len() > 1;
    let modified = group.iter().filter_map(|b| b.modified).max();
    let distributions: Vec<Distribution> = group
        .iter()
        .map(|b| {
            let files = b.unit.files.len();
            let suffix = if b.unit.folder {
                format!(" ({files} file{})", if files == 1 { "" } else { "s" })
            } else {
                String::new()
            };
            Distribution {
                title: format!(
                    "{} as {}{suffix}",
                    key.name,
                    b.format.label().to_ascii_uppercase()
                ),
                format: b.format,
                path: b.unit.path.clone(),
                bytes: b.bytes,
                files,
            }
        })
        .collect();
    let mut group = group.into_iter();
    let Some(primary) = group.next() else {
        return FileDataset {
            dataset: Dataset::new(key, DatasetKind::File, ""),
            modified,
            distributions,
            columns: Vec::new(),
        };
    };
    for other in group {
        let names = |b: &Built| b.fields.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
        if names(&other) != names(&primary) {
            warnings.push(format!(
                "{}: its columns differ from those of {}, which the dataset's columns come from",
                located(dir, &other.unit.path),
                primary.unit.path
            ));
        }
        if other.rows != primary.rows {
            warnings.push(format!(
                "{}: has {} rows but {} has {}",
                located(dir, &other.unit.path),
                other.rows,
                primary.unit.path,
                primary.rows
            ));
        }
    }
    let title = if several {
        primary.unit.name.last().cloned().unwrap_or_default()
    } else {
        primary.unit.title.clone()
    };
    let mut dataset = Dataset::new(key.clone(), DatasetKind::File, title);
    dataset.row_count = Some(primary.rows);
    dataset.layer = layer(&primary, folder_name);
    dataset.description = describe_folder(&primary);
    if primary.fields.is_empty() {
        warnings.push(format!(
            "{}: has no columns",
            located(dir, &primary.unit.path)
        ));
    }
    FileDataset {
        columns: columns(&key, &primary.fields),
        dataset,
        modified,
        distributions,
    }
}

/// The columns of a dataset; a name whose key another column already has (`Order ID` and
/// `order-id`) gets `_2`, `_3`... in its key, never in its name.
fn columns(key: &DatasetKey, fields: &[Field]) -> Vec<Column> {
    let mut used = HashSet::new();
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut key_name = f.name.clone();
            let mut n = 1;
            while !used.insert(slug(&key_name)) {
                n += 1;
                key_name = format!("{}_{n}", f.name);
            }
            let mut c = Column::new(key.clone(), &f.name);
            c.key = ColumnKey::new(key.clone(), &key_name);
            c.data_type = Some(f.ty.to_string());
            c.ordinal = u32::try_from(i + 1).ok();
            c.required = f.nullable.map(|n| !n);
            c
        })
        .collect()
}

impl FileDataset {
    fn write(&self, scheme: &IriScheme, out: &mut Vec<Triple>, blank: &mut u128) {
        self.dataset.write(scheme, out);
        let iri = self.dataset.iri(scheme);
        if let Some(t) = self.modified.and_then(xsd_date_time) {
            out.push(Triple::new(
                iri.clone(),
                dct::MODIFIED,
                Literal::new_typed_literal(t, xsd::DATE_TIME),
            ));
        }
        for d in &self.distributions {
            *blank += 1;
            let node = BlankNode::new_from_unique_id(*blank);
            out.push(Triple::new(
                iri.clone(),
                dcat::DISTRIBUTION_PROP,
                node.clone(),
            ));
            let s = NamedOrBlankNode::from(node);
            let lit = |v: &str| Literal::new_simple_literal(v);
            out.push(Triple::new(s.clone(), rdf::TYPE, dcat::DISTRIBUTION));
            out.push(Triple::new(s.clone(), dct::TITLE, lit(&d.title)));
            out.push(Triple::new(s.clone(), dct::FORMAT, lit(d.format.label())));
            out.push(Triple::new(
                s.clone(),
                MEDIA_TYPE,
                lit(d.format.media_type()),
            ));
            out.push(Triple::new(s.clone(), gg::PATH, lit(&d.path)));
            out.push(Triple::new(
                s,
                BYTE_SIZE,
                Literal::new_typed_literal(d.bytes.to_string(), xsd::INTEGER),
            ));
        }
        for c in &self.columns {
            c.write(scheme, out);
        }
    }
}

/// A time as an `xsd:dateTime` in UTC, to the second; `None` before 1970.
fn xsd_date_time(t: SystemTime) -> Option<String> {
    let secs = t.duration_since(UNIX_EPOCH).ok()?.as_secs();
    let days = i64::try_from(secs / 86_400).ok()?;
    let rem = secs % 86_400;
    // Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_are_xsd() {
        let t = UNIX_EPOCH + Duration::from_secs(1_709_294_400 + 3_723);
        assert_eq!(xsd_date_time(t).unwrap(), "2024-03-01T13:02:03Z");
        assert_eq!(xsd_date_time(UNIX_EPOCH).unwrap(), "1970-01-01T00:00:00Z");
    }
}
