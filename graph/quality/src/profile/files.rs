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

/// Records read per batch from a Parquet column.
const BATCH: usize = 16_384;

/// Profiles every row of a data file. The format comes from the extension, as for
/// [`crate::sample::sample_file`].
pub fn profile_file(path: &Path) -> Result<DatasetProfile> {
    let location = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let columns = match ext.as_str() {
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
        _ => {
            return Err(Error::Invalid {
                location,
                field: "(file name)".to_owned(),
                message: "unknown format; expected .csv, .tsv, .jsonl, .ndjson, .json or .parquet"
                    .to_owned(),
            });
        }
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

/// A column read from text: numbers until a value is not one, then text. Booleans and dates
/// are recognised when every value is one.
struct TextColumn {
    name: String,
    values: Vec<Option<String>>,
}

/// Picks the kind every non-null value fits, then feeds them.
fn profile_text_column(column: TextColumn) -> super::ColumnProfile {
    let non_null = || column.values.iter().flatten();
    let all = |f: &dyn Fn(&str) -> bool| non_null().all(|v| f(v)) && non_null().next().is_some();
    let is_int = |v: &str| {
        let t = v.trim().strip_prefix('-').unwrap_or(v.trim());
        !t.is_empty() && t.len() <= 18 && t.chars().all(|c| c.is_ascii_digit())
    };
    let is_float = |v: &str| v.trim().parse::<f64>().is_ok_and(f64::is_finite);
    let is_bool = |v: &str| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "false");
    let is_date = |v: &str| v.trim().len() == 10 && parse_date(v).is_some();
    let kind = if all(&is_bool) {
        Kind::Boolean
    } else if all(&is_int) {
        Kind::Integer
    } else if all(&is_float) {
        Kind::Float
    } else if all(&is_date) {
        Kind::Date
    } else {
        Kind::Text
    };
    let mut acc = Accumulator::new(&column.name, kind);
    for v in &column.values {
        match v {
            None => acc.null(),
            Some(v) => match kind {
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
                _ => acc.text(v),
            },
        }
    }
    acc.finish()
}

fn is_null(v: &str) -> bool {
    matches!(
        v.trim(),
        "" | "NULL" | "null" | "NA" | "N/A" | "n/a" | "\\N" | "None" | "nan" | "NaN"
    )
}

fn delimited_columns(
    path: &Path,
    location: &str,
    delimiter: Option<u8>,
) -> Result<Vec<super::ColumnProfile>> {
    let delimiter = match delimiter {
        Some(d) => d,
        None => {
            let mut first = String::new();
            BufReader::new(File::open(path).map_err(|e| source_error(location, e))?)
                .read_line(&mut first)
                .map_err(|e| source_error(location, e))?;
            [b',', b';', b'\t', b'|']
                .into_iter()
                .max_by_key(|d| first.bytes().filter(|b| b == d).count())
                .unwrap_or(b',')
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(File::open(path).map_err(|e| source_error(location, e))?);
    let csv_error = |e: csv::Error| Error::Invalid {
        location: location.to_owned(),
        field: e
            .position()
            .map_or_else(|| "(file)".to_owned(), |p| format!("line {}", p.line())),
        message: e.to_string(),
    };
    let headers = reader.headers().map_err(csv_error)?.clone();
    let mut columns: Vec<TextColumn> = headers
        .iter()
        .map(|h| TextColumn {
            name: h.trim().to_owned(),
            values: Vec::new(),
        })
        .collect();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
        for (i, c) in columns.iter_mut().enumerate() {
            let v = record.get(i).unwrap_or("");
            c.values.push((!is_null(v)).then(|| v.to_owned()));
        }
    }
    Ok(columns.into_par_iter().map(profile_text_column).collect())
}

fn json_lines_columns(path: &Path, location: &str) -> Result<Vec<super::ColumnProfile>> {
    let reader = BufReader::new(File::open(path).map_err(|e| source_error(location, e))?);
    let mut columns: Vec<TextColumn> = Vec::new();
    let mut rows = 0usize;
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| source_error(location, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let object = crate::sample::json_line_object(&line, location, i + 1)?;
        let mut flat = Vec::new();
        crate::sample::flatten("", &object, &mut flat);
        for (name, text) in flat {
            let at = match columns.iter().position(|c| c.name == name) {
                Some(at) => at,
                None => {
                    columns.push(TextColumn {
                        name,
                        values: vec![None; rows],
                    });
                    columns.len() - 1
                }
            };
            if let Some(c) = columns.get_mut(at) {
                c.values.push(text.filter(|t| !is_null(t)));
            }
        }
        rows += 1;
        for c in &mut columns {
            c.values.resize(rows, None);
        }
    }
    Ok(columns.into_par_iter().map(profile_text_column).collect())
}
