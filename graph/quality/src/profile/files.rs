//! Profiles of files: Parquet column by column (in parallel), CSV/TSV and JSON lines row by
//! row.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as Physical};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{ByteArray, DataType, FixedLenByteArray};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescriptor;
use rayon::prelude::*;

use super::accumulate::days_from_civil;
use super::{Accumulator, DatasetProfile, Kind};
use crate::classify::values::{parse_date, parse_number};
use crate::error::{Error, Result};
use crate::sample::is_null;

/// Records read per batch from a Parquet column.
const BATCH: usize = 16_384;

/// Profiles every row of a data file with govgraph's own readers. The format comes from the
/// extension, as for [`crate::sample::sample_file`].
pub fn profile_file_natively(path: &Path) -> Result<DatasetProfile> {
    let location = path.display().to_string();
    let columns = match crate::sample::extension(path).as_str() {
        "parquet" | "pq" => std::panic::catch_unwind(|| parquet_columns(path, &location))
            .unwrap_or_else(|_| {
                Err(Error::Invalid {
                    location: location.clone(),
                    field: "(file)".to_owned(),
                    message: "corrupt Parquet data".to_owned(),
                })
            })?,
        "csv" | "txt" => delimited_columns(path, &location, None)?,
        "tsv" | "tab" => delimited_columns(path, &location, Some(b'\t'))?,
        "jsonl" | "ndjson" | "json" => json_lines_columns(path, &location)?,
        _ => return Err(crate::sample::unknown_format(location)),
    };
    let row_count = columns.iter().map(|c| c.count).max().unwrap_or(0);
    Ok(DatasetProfile {
        dataset: location,
        row_count,
        columns,
    })
}

fn source_error(location: &str, e: impl std::fmt::Display) -> Error {
    Error::Source {
        location: location.to_owned(),
        message: e.to_string(),
    }
}

fn parquet_error(location: &str, column: &str, e: parquet::errors::ParquetError) -> Error {
    Error::Invalid {
        location: location.to_owned(),
        field: column.to_owned(),
        message: e.to_string(),
    }
}

// -------------------------------------------------------------------------------------------
// Parquet

/// What a leaf column's values are, from its physical and logical types.
fn parquet_kind(d: &ColumnDescriptor) -> (Kind, i64) {
    let logical = d.logical_type_ref();
    let converted = d.converted_type();
    // The second value divides raw timestamps into microseconds (negative: multiplies).
    match d.physical_type() {
        Physical::BOOLEAN => (Kind::Boolean, 1),
        Physical::INT32 | Physical::INT64 => {
            if converted == ConvertedType::DATE {
                (Kind::Date, 1)
            } else if converted == ConvertedType::DECIMAL
                || matches!(logical, Some(LogicalType::Decimal { .. }))
            {
                (Kind::Decimal(d.type_scale().max(0) as u32), 1)
            } else if converted == ConvertedType::TIMESTAMP_MILLIS {
                (Kind::Timestamp, -1000)
            } else if converted == ConvertedType::TIMESTAMP_MICROS {
                (Kind::Timestamp, 1)
            } else if let Some(LogicalType::Timestamp(t)) = logical {
                match t.unit {
                    TimeUnit::MILLIS => (Kind::Timestamp, -1000),
                    TimeUnit::MICROS => (Kind::Timestamp, 1),
                    TimeUnit::NANOS => (Kind::Timestamp, 1000),
                }
            } else {
                (Kind::Integer, 1)
            }
        }
        Physical::INT96 => (Kind::Timestamp, 1),
        Physical::FLOAT | Physical::DOUBLE => (Kind::Float, 1),
        Physical::BYTE_ARRAY | Physical::FIXED_LEN_BYTE_ARRAY => {
            if converted == ConvertedType::DECIMAL
                || matches!(logical, Some(LogicalType::Decimal { .. }))
            {
                (Kind::Decimal(d.type_scale().max(0) as u32), 1)
            } else {
                (Kind::Text, 1)
            }
        }
    }
}

/// A big-endian two's-complement integer (Parquet's byte-array decimals).
fn be_integer(bytes: &[u8]) -> f64 {
    let mut v: i128 = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        -1
    } else {
        0
    };
    for b in bytes.iter().take(16) {
        v = (v << 8) | i128::from(*b);
    }
    v as f64
}

/// Reads a whole column chunk, feeding `feed` each non-null value and `acc` each null.
fn drain<T: DataType>(
    mut reader: ColumnReaderImpl<T>,
    max_def: i16,
    acc: &mut Accumulator,
    mut feed: impl FnMut(&mut Accumulator, &T::T),
) -> parquet::errors::Result<()> {
    let mut defs: Vec<i16> = Vec::with_capacity(BATCH);
    let mut values: Vec<T::T> = Vec::with_capacity(BATCH);
    loop {
        defs.clear();
        values.clear();
        let (records, _, _) = reader.read_records(BATCH, Some(&mut defs), None, &mut values)?;
        if records == 0 {
            return Ok(());
        }
        if max_def == 0 {
            for v in &values {
                feed(acc, v);
            }
        } else {
            let mut next = values.iter();
            for d in &defs {
                if *d == max_def {
                    if let Some(v) = next.next() {
                        feed(acc, v);
                    }
                } else {
                    acc.null();
                }
            }
        }
    }
}

fn profile_parquet_column(
    path: &Path,
    location: &str,
    index: usize,
) -> Result<super::ColumnProfile> {
    let file = File::open(path).map_err(|e| source_error(location, e))?;
    let reader =
        SerializedFileReader::new(file).map_err(|e| parquet_error(location, "(file)", e))?;
    let meta = reader.metadata();
    let descr = meta.file_metadata().schema_descr().column(index);
    let name = descr.path().string();
    let (kind, unit) = parquet_kind(&descr);
    let max_def = descr.max_def_level();
    let mut acc = Accumulator::new(&name, kind);
    let scale = match kind {
        Kind::Decimal(s) => 10f64.powi(s as i32),
        _ => 1.0,
    };
    let to_micros = move |raw: i64| if unit < 0 { raw * -unit } else { raw / unit };
    for rg in 0..meta.num_row_groups() {
        let row_group = reader
            .get_row_group(rg)
            .map_err(|e| parquet_error(location, &name, e))?;
        let column = row_group
            .get_column_reader(index)
            .map_err(|e| parquet_error(location, &name, e))?;
        let result = match column {
            ColumnReader::BoolColumnReader(r) => drain(r, max_def, &mut acc, |a, v| {
                a.number(f64::from(u8::from(*v)))
            }),
            ColumnReader::Int32ColumnReader(r) => drain(r, max_def, &mut acc, |a, v| match kind {
                Kind::Decimal(_) => a.number(f64::from(*v) / scale),
                Kind::Timestamp => a.number(to_micros(i64::from(*v)) as f64),
                _ => a.number(f64::from(*v)),
            }),
            ColumnReader::Int64ColumnReader(r) => drain(r, max_def, &mut acc, |a, v| match kind {
                Kind::Decimal(_) => a.number(*v as f64 / scale),
                Kind::Timestamp => a.number(to_micros(*v) as f64),
                _ => a.number(*v as f64),
            }),
            ColumnReader::Int96ColumnReader(r) => {
                drain(r, max_def, &mut acc, |a, v| a.number(v.to_micros() as f64))
            }
            ColumnReader::FloatColumnReader(r) => {
                drain(r, max_def, &mut acc, |a, v| a.number(f64::from(*v)))
            }
            ColumnReader::DoubleColumnReader(r) => drain(r, max_def, &mut acc, |a, v| a.number(*v)),
            ColumnReader::ByteArrayColumnReader(r) => {
                drain(r, max_def, &mut acc, |a, v: &ByteArray| match kind {
                    Kind::Decimal(_) => a.number(be_integer(v.data()) / scale),
                    _ => a.text(&String::from_utf8_lossy(v.data())),
                })
            }
            ColumnReader::FixedLenByteArrayColumnReader(r) => drain(
                r,
                max_def,
                &mut acc,
                |a, v: &FixedLenByteArray| match kind {
                    Kind::Decimal(_) => a.number(be_integer(v.data()) / scale),
                    _ => a.text(&String::from_utf8_lossy(v.data())),
                },
            ),
        };
        result.map_err(|e| parquet_error(location, &name, e))?;
    }
    Ok(acc.finish())
}

fn parquet_columns(path: &Path, location: &str) -> Result<Vec<super::ColumnProfile>> {
    let file = File::open(path).map_err(|e| source_error(location, e))?;
    let reader =
        SerializedFileReader::new(file).map_err(|e| parquet_error(location, "(file)", e))?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    // Repeated (list and map) leaves have no one value per row; they are left out.
    let leaves: Vec<usize> = (0..schema.num_columns())
        .filter(|i| schema.column(*i).max_rep_level() == 0)
        .collect();
    leaves
        .into_par_iter()
        .map(|i| profile_parquet_column(path, location, i))
        .collect()
}

// -------------------------------------------------------------------------------------------
// Text formats

/// What every non-null value of a text column fits so far.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Guess {
    seen: bool,
    boolean: bool,
    integer: bool,
    float: bool,
    date: bool,
    timestamp: bool,
}

impl Default for Guess {
    fn default() -> Self {
        Self {
            seen: false,
            boolean: true,
            integer: true,
            float: true,
            date: true,
            timestamp: true,
        }
    }
}

impl Guess {
    pub(crate) fn observe(&mut self, v: &str) {
        let t = v.trim();
        self.seen = true;
        if self.boolean {
            self.boolean = t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false");
        }
        if self.integer {
            let digits = t.strip_prefix('-').unwrap_or(t);
            self.integer = !digits.is_empty()
                && digits.len() <= 18
                && digits.bytes().all(|b| b.is_ascii_digit());
        }
        if self.float {
            self.float = t.parse::<f64>().is_ok_and(f64::is_finite);
        }
        if self.date {
            self.date = t.len() == 10 && parse_date(t).is_some();
        }
        if self.timestamp {
            // ISO 8601 instants (a date, `T` or a space, a time, an optional offset); text
            // files carry them as text.
            self.timestamp = t.len() >= 19
                && matches!(t.as_bytes().get(10), Some(b'T' | b' '))
                && crate::rules::run::parse_timestamp(t).is_some();
        }
    }

    /// What both halves of a column fit.
    #[cfg_attr(not(feature = "datafusion"), allow(dead_code))]
    pub(crate) fn merge(self, other: Guess) -> Guess {
        Guess {
            seen: self.seen || other.seen,
            boolean: self.boolean && other.boolean,
            integer: self.integer && other.integer,
            float: self.float && other.float,
            date: self.date && other.date,
            timestamp: self.timestamp && other.timestamp,
        }
    }

    pub(crate) fn kind(self) -> Kind {
        match self {
            Guess { seen: false, .. } => Kind::Text,
            Guess { boolean: true, .. } => Kind::Boolean,
            Guess { integer: true, .. } => Kind::Integer,
            Guess { float: true, .. } => Kind::Float,
            Guess { date: true, .. } => Kind::Date,
            Guess {
                timestamp: true, ..
            } => Kind::Timestamp,
            _ => Kind::Text,
        }
    }
}

/// Feeds one text value to a column whose kind is settled.
pub(crate) fn feed(acc: &mut Accumulator, v: Option<&str>) {
    let Some(v) = v.filter(|v| !is_null(v)) else {
        acc.null();
        return;
    };
    match acc.kind {
        Kind::Boolean => acc.number(if v.trim().eq_ignore_ascii_case("true") {
            1.0
        } else {
            0.0
        }),
        Kind::Integer | Kind::Float => acc.number(parse_number(v).unwrap_or(0.0)),
        Kind::Date => {
            let (y, m, d) = parse_date(v).unwrap_or((1970, 1, 1));
            acc.number(days_from_civil(i64::from(y), i64::from(m), i64::from(d)) as f64);
        }
        Kind::Timestamp => {
            acc.number(crate::rules::run::parse_timestamp(v).unwrap_or(0) as f64);
        }
        _ => acc.text(v),
    }
}

/// Two streaming passes over a delimited file: the first settles each column's kind, the
/// second profiles it, so memory does not grow with the file.
fn delimited_columns(
    path: &Path,
    location: &str,
    delimiter: Option<u8>,
) -> Result<Vec<super::ColumnProfile>> {
    let delimiter = match delimiter {
        Some(d) => d,
        None => crate::sample::sniffed_delimiter(path)?,
    };
    let csv_error = |e: csv::Error| Error::Invalid {
        location: location.to_owned(),
        field: e
            .position()
            .map_or_else(|| "(file)".to_owned(), |p| format!("line {}", p.line())),
        message: e.to_string(),
    };
    let open = || -> Result<csv::Reader<File>> {
        Ok(csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(File::open(path).map_err(|e| source_error(location, e))?))
    };
    let mut reader = open()?;
    let headers = reader.headers().map_err(csv_error)?.clone();
    let mut guesses = vec![Guess::default(); headers.len()];
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
        for (g, v) in guesses.iter_mut().zip(record.iter()) {
            if !is_null(v) {
                g.observe(v);
            }
        }
    }
    let mut columns: Vec<Accumulator> = headers
        .iter()
        .zip(&guesses)
        .map(|(h, g)| Accumulator::new(h.trim(), g.kind()))
        .collect();
    let mut reader = open()?;
    while reader.read_record(&mut record).map_err(csv_error)? {
        for (i, acc) in columns.iter_mut().enumerate() {
            feed(acc, record.get(i));
        }
    }
    Ok(columns.into_par_iter().map(Accumulator::finish).collect())
}

/// Two streaming passes over a JSON-lines file, as for delimited files; nested objects
/// become dotted columns, and a key missing from a record is a null.
fn json_lines_columns(path: &Path, location: &str) -> Result<Vec<super::ColumnProfile>> {
    let records = |each: &mut dyn FnMut(Vec<(String, Option<String>)>)| -> Result<()> {
        let reader = BufReader::new(File::open(path).map_err(|e| source_error(location, e))?);
        for (i, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| source_error(location, e))?;
            if line.trim().is_empty() {
                continue;
            }
            let object = crate::sample::json_line_object(&line, location, i + 1)?;
            let mut flat = Vec::new();
            crate::sample::flatten("", &object, &mut flat);
            each(flat);
        }
        Ok(())
    };
    let mut names: Vec<String> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut guesses: Vec<Guess> = Vec::new();
    records(&mut |flat| {
        for (name, value) in flat {
            let at = *index.entry(name.clone()).or_insert_with(|| {
                names.push(name);
                guesses.push(Guess::default());
                guesses.len() - 1
            });
            if let (Some(v), Some(g)) = (value, guesses.get_mut(at))
                && !is_null(&v)
            {
                g.observe(&v);
            }
        }
    })?;
    let mut columns: Vec<Accumulator> = names
        .iter()
        .zip(&guesses)
        .map(|(n, g)| Accumulator::new(n, g.kind()))
        .collect();
    let mut row: Vec<Option<String>> = vec![None; columns.len()];
    records(&mut |flat| {
        row.iter_mut().for_each(|v| *v = None);
        for (name, value) in flat {
            if let Some(slot) = index.get(&name).and_then(|at| row.get_mut(*at)) {
                *slot = value;
            }
        }
        for (acc, v) in columns.iter_mut().zip(&row) {
            feed(acc, v.as_deref());
        }
    })?;
    Ok(columns.into_par_iter().map(Accumulator::finish).collect())
}
