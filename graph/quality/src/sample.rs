//! Samples of column values, read from CSV/TSV, JSON-lines and Parquet files, or taken from
//! the rows a PostgreSQL harvest sampled.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use govgraph_connectors::postgres::TableSample;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::Value;

use crate::classify::ColumnSample;
use crate::error::{Error, Result};

/// How many rows of a file are sampled by default.
pub const DEFAULT_ROWS: usize = 1_000;

/// A file's extension, lower-cased, which names its format.
pub(crate) fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default()
}

/// Values that mean "no value" in text files.
pub(crate) fn is_null(v: &str) -> bool {
    matches!(
        v.trim(),
        "" | "NULL" | "null" | "NA" | "N/A" | "n/a" | "\\N" | "None" | "nan" | "NaN"
    )
}

/// Reads up to `rows` rows of a data file into one sample per column. The format comes from
/// the extension: `.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`/`.json`, `.parquet`/`.pq`.
pub fn sample_file(path: &Path, rows: usize) -> Result<Vec<ColumnSample>> {
    let location = path.display().to_string();
    match extension(path).as_str() {
        "csv" | "txt" => sample_delimited(path, &location, None, rows),
        "tsv" | "tab" => sample_delimited(path, &location, Some(b'\t'), rows),
        "jsonl" | "ndjson" | "json" => sample_json_lines(path, &location, rows),
        // The Parquet reader can panic on corrupt pages; that is an error in the file.
        "parquet" | "pq" => std::panic::catch_unwind(|| sample_parquet(path, &location, rows))
            .unwrap_or_else(|_| {
                Err(Error::Invalid {
                    location: location.clone(),
                    field: "(file)".to_owned(),
                    message: "corrupt Parquet data".to_owned(),
                })
            }),
        _ => Err(unknown_format(location)),
    }
}

/// The error for a file whose extension names no format we read.
pub(crate) fn unknown_format(location: String) -> Error {
    Error::Invalid {
        location,
        field: "(file name)".to_owned(),
        message: "unknown format; expected .csv, .tsv, .jsonl, .ndjson, .json or .parquet"
            .to_owned(),
    }
}

/// The delimiter of a delimited file: tab when given, else sniffed from its first line.
fn delimiter(path: &Path, location: &str, given: Option<u8>) -> Result<u8> {
    if let Some(d) = given {
        return Ok(d);
    }
    let mut first = String::new();
    BufReader::new(open(path, location)?)
        .read_line(&mut first)
        .map_err(|e| Error::Source {
            location: location.to_owned(),
            message: e.to_string(),
        })?;
    Ok(sniff(&first))
}

/// The delimiter a delimited file's first line uses most.
pub(crate) fn sniffed_delimiter(path: &Path) -> Result<u8> {
    delimiter(path, &path.display().to_string(), None)
}

fn open(path: &Path, location: &str) -> Result<File> {
    File::open(path).map_err(|e| Error::Source {
        location: location.to_owned(),
        message: e.to_string(),
    })
}

/// The delimiter the first line uses most: comma, semicolon, tab or pipe.
fn sniff(first_line: &str) -> u8 {
    [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| first_line.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

fn sample_delimited(
    path: &Path,
    location: &str,
    delimiter: Option<u8>,
    rows: usize,
) -> Result<Vec<ColumnSample>> {
    let delimiter = self::delimiter(path, location, delimiter)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(open(path, location)?);
    let headers = reader
        .headers()
        .map_err(|e| csv_error(location, &e))?
        .clone();
    let mut columns: Vec<ColumnSample> = headers
        .iter()
        .map(|h| ColumnSample::new(h.trim(), Vec::new()))
        .collect();
    for record in reader.records().take(rows) {
        let record = record.map_err(|e| csv_error(location, &e))?;
        for (column, value) in columns.iter_mut().zip(record.iter()) {
            if !is_null(value) {
                column.values.push(value.to_owned());
            }
        }
    }
    Ok(columns)
}

fn csv_error(location: &str, e: &csv::Error) -> Error {
    let line = e
        .position()
        .map_or_else(|| "(file)".to_owned(), |p| format!("line {}", p.line()));
    Error::Invalid {
        location: location.to_owned(),
        field: line,
        message: e.to_string(),
    }
}

fn sample_json_lines(path: &Path, location: &str, rows: usize) -> Result<Vec<ColumnSample>> {
    let mut columns: Vec<ColumnSample> = Vec::new();
    let reader = BufReader::new(open(path, location)?);
    let mut read = 0;
    for (i, line) in reader.lines().enumerate() {
        if read == rows {
            break;
        }
        let line = line.map_err(|e| Error::Source {
            location: location.to_owned(),
            message: e.to_string(),
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let object = json_line_object(&line, location, i + 1)?;
        read += 1;
        let mut flat = Vec::new();
        flatten("", &object, &mut flat);
        for (name, text) in flat {
            let at = match columns.iter().position(|c| c.name == name) {
                Some(at) => at,
                None => {
                    columns.push(ColumnSample::new(name, Vec::new()));
                    columns.len() - 1
                }
            };
            if let (Some(text), Some(c)) = (text, columns.get_mut(at)) {
                c.values.push(text);
            }
        }
    }
    Ok(columns)
}

/// One JSON-lines record, which must be an object.
pub(crate) fn json_line_object(
    line: &str,
    location: &str,
    number: usize,
) -> Result<serde_json::Map<String, Value>> {
    let invalid = |message: String| Error::Invalid {
        location: location.to_owned(),
        field: format!("line {number}"),
        message,
    };
    match serde_json::from_str(line).map_err(|e| invalid(e.to_string()))? {
        Value::Object(object) => Ok(object),
        _ => Err(invalid("expected a JSON object".to_owned())),
    }
}

/// Nested objects become dotted column names; arrays and scalars become text.
pub(crate) fn flatten(
    prefix: &str,
    object: &serde_json::Map<String, Value>,
    out: &mut Vec<(String, Option<String>)>,
) {
    for (k, v) in object {
        let name = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) => flatten(&name, inner, out),
            Value::Null => out.push((name, None)),
            Value::String(s) if is_null(s) => out.push((name, None)),
            Value::String(s) => out.push((name, Some(s.clone()))),
            other => out.push((name, Some(other.to_string()))),
        }
    }
}

fn sample_parquet(path: &Path, location: &str, rows: usize) -> Result<Vec<ColumnSample>> {
    let invalid = |e: parquet::errors::ParquetError| Error::Invalid {
        location: location.to_owned(),
        field: "(file)".to_owned(),
        message: e.to_string(),
    };
    let reader = SerializedFileReader::new(open(path, location)?).map_err(invalid)?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let mut columns: Vec<ColumnSample> = schema
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| ColumnSample::new(f.name(), Vec::new()))
        .collect();
    for row in reader.get_row_iter(None).map_err(invalid)?.take(rows) {
        let row = row.map_err(invalid)?;
        for (name, field) in row.get_column_iter() {
            let text = match field {
                Field::Null => None,
                Field::Str(s) => Some(s.clone()),
                Field::Bytes(b) => std::str::from_utf8(b.data()).ok().map(str::to_owned),
                other => Some(other.to_string()),
            };
            if let (Some(text), Some(c)) = (text, columns.iter_mut().find(|c| c.name == *name))
                && !is_null(&text)
            {
                c.values.push(text);
            }
        }
    }
    Ok(columns)
}

/// The columns of rows a PostgreSQL harvest sampled.
pub fn from_table_sample(sample: &TableSample) -> Vec<ColumnSample> {
    sample
        .columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let values = sample
                .rows
                .iter()
                .filter_map(|r| r.get(i).cloned().flatten())
                .filter(|v| !is_null(v))
                .collect();
            ColumnSample::new(name.clone(), values)
        })
        .collect()
}

/// Reads every row of a data file, handing `visit` the values of `columns` (in that order;
/// nulls as `None`) until it returns `false`. Returns the rows read. A column the file lacks is
/// an error for CSV and Parquet; in JSON lines a missing key is a null.
pub(crate) fn visit_rows(
    path: &Path,
    columns: &[String],
    visit: &mut dyn FnMut(&[Option<&str>]) -> bool,
) -> Result<u64> {
    let location = path.display().to_string();
    let missing = |name: &str| Error::Invalid {
        location: location.clone(),
        field: name.to_owned(),
        message: "the catalog has this column but the file does not".to_owned(),
    };
    let mut read = 0u64;
    match extension(path).as_str() {
        ext @ ("csv" | "txt" | "tsv" | "tab") => {
            let tab = matches!(ext, "tsv" | "tab").then_some(b'\t');
            let delimiter = delimiter(path, &location, tab)?;
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .flexible(true)
                .from_reader(open(path, &location)?);
            let headers = reader
                .headers()
                .map_err(|e| csv_error(&location, &e))?
                .clone();
            let at = columns
                .iter()
                .map(|c| {
                    headers
                        .iter()
                        .position(|h| h.trim() == c)
                        .ok_or_else(|| missing(c))
                })
                .collect::<Result<Vec<_>>>()?;
            let mut record = csv::StringRecord::new();
            loop {
                match reader.read_record(&mut record) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => return Err(csv_error(&location, &e)),
                }
                read += 1;
                let row: Vec<Option<&str>> = at
                    .iter()
                    .map(|i| record.get(*i).filter(|v| !is_null(v)))
                    .collect();
                if !visit(&row) {
                    break;
                }
            }
        }
        "jsonl" | "ndjson" | "json" => {
            let reader = BufReader::new(open(path, &location)?);
            let mut flat = Vec::new();
            for (i, line) in reader.lines().enumerate() {
                let line = line.map_err(|e| Error::Source {
                    location: location.clone(),
                    message: e.to_string(),
                })?;
                if line.trim().is_empty() {
                    continue;
                }
                let object = json_line_object(&line, &location, i + 1)?;
                read += 1;
                flat.clear();
                flatten("", &object, &mut flat);
                let row: Vec<Option<&str>> = columns
                    .iter()
                    .map(|c| {
                        flat.iter()
                            .find(|(n, _)| n == c)
                            .and_then(|(_, v)| v.as_deref())
                    })
                    .collect();
                if !visit(&row) {
                    break;
                }
            }
        }
        "parquet" | "pq" => {
            let invalid = |e: parquet::errors::ParquetError| Error::Invalid {
                location: location.clone(),
                field: "(file)".to_owned(),
                message: e.to_string(),
            };
            let reader = SerializedFileReader::new(open(path, &location)?).map_err(invalid)?;
            let schema = reader.metadata().file_metadata().schema_descr_ptr();
            let root = schema.root_schema();
            let fields: Vec<String> = root
                .get_fields()
                .iter()
                .map(|f| f.name().to_owned())
                .collect();
            let positions = columns
                .iter()
                .map(|c| fields.iter().position(|f| f == c).ok_or_else(|| missing(c)))
                .collect::<Result<Vec<_>>>()?;
            // Only the wanted columns are decoded (at least one, to count the rows).
            let mut selected = positions.clone();
            selected.sort_unstable();
            selected.dedup();
            if selected.is_empty() && !fields.is_empty() {
                selected.push(0);
            }
            let projection = parquet::schema::types::Type::group_type_builder(root.name())
                .with_fields(
                    selected
                        .iter()
                        .filter_map(|i| root.get_fields().get(*i).cloned())
                        .collect(),
                )
                .build()
                .map_err(invalid)?;
            let at: Vec<usize> = positions
                .iter()
                .map(|p| selected.iter().position(|s| s == p).unwrap_or_default())
                .collect();
            // The Parquet reader can panic on corrupt pages; that is an error in the file.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // One reusable buffer per column; dates and times formatted without chrono.
                let mut texts: Vec<String> = vec![String::new(); selected.len()];
                let mut present: Vec<bool> = vec![false; selected.len()];
                for row in reader.get_row_iter(Some(projection)).map_err(invalid)? {
                    let row = row.map_err(invalid)?;
                    for ((buf, set), (_, field)) in texts
                        .iter_mut()
                        .zip(present.iter_mut())
                        .zip(row.get_column_iter())
                    {
                        buf.clear();
                        *set = field_text(field, buf);
                    }
                    read += 1;
                    let values: Vec<Option<&str>> = at
                        .iter()
                        .map(|i| {
                            present
                                .get(*i)
                                .copied()
                                .unwrap_or(false)
                                .then(|| texts.get(*i).map(String::as_str))
                                .flatten()
                        })
                        .collect();
                    if !visit(&values) {
                        break;
                    }
                }
                Ok(())
            }));
            outcome.unwrap_or_else(|_| {
                Err(Error::Invalid {
                    location: location.clone(),
                    field: "(file)".to_owned(),
                    message: "corrupt Parquet data".to_owned(),
                })
            })?;
        }
        _ => return Err(unknown_format(location)),
    }
    Ok(read)
}

/// Writes a Parquet field's text into `buf`; false for a null.
fn field_text(field: &Field, buf: &mut String) -> bool {
    use crate::profile::accumulate::{date_string, timestamp_string};
    use std::fmt::Write as _;
    match field {
        Field::Null => return false,
        Field::Str(s) => buf.push_str(s),
        Field::Bytes(b) => match std::str::from_utf8(b.data()) {
            Ok(s) => buf.push_str(s),
            Err(_) => return false,
        },
        Field::Int(n) => {
            let _ = write!(buf, "{n}");
        }
        Field::Long(n) => {
            let _ = write!(buf, "{n}");
        }
        Field::Date(days) => buf.push_str(&date_string(i64::from(*days))),
        Field::TimestampMicros(us) => buf.push_str(&timestamp_string(*us)),
        Field::TimestampMillis(ms) => buf.push_str(&timestamp_string(ms.saturating_mul(1000))),
        other => {
            let _ = write!(buf, "{other}");
        }
    }
    true
}
