//! CSV and TSV: the dialect is sniffed from the first 64 KiB, column types are inferred from
//! a sample of records, and the whole file is read to count its records, check that every
//! record has as many fields as the first and that the text is UTF-8, and find which columns
//! hold empty values.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use csv::{ByteRecord, ReaderBuilder};

use super::schema::{Field, FileSchema, unique_names};
use super::types::{Guess, Missing, Ty, is_null_token, missing};
use super::{invalid, io_error};
use crate::error::Result;

/// How much of a file the dialect is sniffed from.
const SNIFF_BYTES: u64 = 64 * 1024;
/// How many records of that sample are looked at.
const SNIFF_RECORDS: usize = 200;
/// Candidate delimiters, in order of preference.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];
/// Candidate quote characters, in order of preference.
const QUOTES: [u8; 2] = [b'"', b'\''];
/// The UTF-8 byte-order mark some tools write first.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How a delimited file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dialect {
    /// The field delimiter.
    pub delimiter: u8,
    /// The quote character.
    pub quote: u8,
    /// Whether the first record names the columns.
    pub header: bool,
}

/// Reads a CSV (or, with `tab`, a TSV) file: its columns, their types and its row count.
pub(crate) fn read(
    path: &Path,
    location: &str,
    tab: bool,
    sample_rows: usize,
) -> Result<FileSchema> {
    let mut file = File::open(path).map_err(|e| io_error(location, &e))?;
    let mut sample = Vec::new();
    (&mut file)
        .take(SNIFF_BYTES)
        .read_to_end(&mut sample)
        .map_err(|e| io_error(location, &e))?;
    let truncated = sample.len() as u64 == SNIFF_BYTES;
    let bom = if sample.starts_with(BOM) {
        BOM.len()
    } else {
        0
    };
    let body = sample.get(bom..).unwrap_or_default();
    let dialect = sniff(body, truncated, tab);
    tracing::debug!(%location, delimiter = %char::from(dialect.delimiter), quote = %char::from(dialect.quote), header = dialect.header, "sniffed");
    file.seek(SeekFrom::Start(bom as u64))
        .map_err(|e| io_error(location, &e))?;
    scan(
        BufReader::with_capacity(1 << 16, file),
        location,
        dialect,
        sample_rows,
    )
}

fn builder(delimiter: u8, quote: u8) -> ReaderBuilder {
    let mut b = ReaderBuilder::new();
    b.delimiter(delimiter)
        .quote(quote)
        .has_headers(false)
        .flexible(true);
    b
}

/// The first records of the sample, read with one candidate dialect.
fn sample_records(sample: &[u8], truncated: bool, delimiter: u8, quote: u8) -> Vec<ByteRecord> {
    let mut reader = builder(delimiter, quote).from_reader(sample);
    let mut out = Vec::new();
    let mut record = ByteRecord::new();
    while out.len() <= SNIFF_RECORDS {
        match reader.read_byte_record(&mut record) {
            Ok(true) => out.push(record.clone()),
            Ok(false) | Err(_) => break,
        }
    }
    // The last record of a cut sample may be cut too.
    if truncated && out.len() > 1 {
        out.pop();
    }
    out
}

/// The most frequent field count and how many records have it.
fn mode(records: &[ByteRecord]) -> (usize, usize) {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for r in records {
        match counts.iter_mut().find(|(len, _)| *len == r.len()) {
            Some((_, n)) => *n += 1,
            None => counts.push((r.len(), 1)),
        }
    }
    counts
        .into_iter()
        .max_by_key(|(len, n)| (*n, *len))
        .unwrap_or((0, 0))
}

/// Picks the quote with more fields wrapped in it, then the delimiter that splits the sample
/// into the most consistent number of fields (more than one), then the most fields, then the
/// earlier candidate; and decides whether the first record is a header.
fn sniff(sample: &[u8], truncated: bool, tab: bool) -> Dialect {
    let delimiters: &[u8] = if tab { b"\t" } else { &DELIMITERS };
    let quote = match QUOTES.map(|q| quote_evidence(sample, q)) {
        [double, single] if single > double => b'\'',
        _ => b'"',
    };
    let mut best: Option<((u64, usize), u8)> = None;
    for &delimiter in delimiters {
        let records = sample_records(sample, truncated, delimiter, quote);
        let (fields, matching) = mode(&records);
        if fields < 2 || records.is_empty() {
            continue;
        }
        let consistency = (matching as u64 * 10_000) / records.len() as u64;
        let score = (consistency, fields);
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, delimiter));
        }
    }
    let delimiter = best.map_or(delimiters.first().copied().unwrap_or(b','), |(_, d)| d);
    let records = sample_records(sample, truncated, delimiter, quote);
    Dialect {
        delimiter,
        quote,
        header: has_header(&records),
    }
}

/// How many fields of the sample are wrapped in `quote`: the quote opens a line or follows
/// a candidate delimiter, and its closing quote ends a line or precedes one.
fn quote_evidence(sample: &[u8], quote: u8) -> usize {
    let boundary =
        |b: Option<&u8>| b.is_none_or(|b| matches!(b, b'\n' | b'\r') || DELIMITERS.contains(b));
    let mut n = 0;
    let mut i = 0;
    while i < sample.len() {
        let opens = sample.get(i) == Some(&quote)
            && (i == 0 || boundary(i.checked_sub(1).and_then(|p| sample.get(p))));
        if opens {
            let rest = sample.get(i + 1..).unwrap_or_default();
            if let Some(end) = rest.iter().position(|&b| b == quote).map(|j| i + 1 + j)
                && boundary(sample.get(end + 1))
            {
                n += 1;
                i = end + 1;
                continue;
            }
        }
        i += 1;
    }
    n
}

/// Whether the first record is a header. It is when some column's first value is text while
/// the values under it are all of one other type (numbers, dates, booleans); it is not when
/// a first value has the same non-text type as the values under it. Without either kind of
/// evidence (every column is text), the first record is a header unless one of its values
/// looks like a number, date or boolean.
fn has_header(records: &[ByteRecord]) -> bool {
    let Some((first, rest)) = records.split_first() else {
        return false;
    };
    let mut header_evidence = false;
    let mut data_evidence = false;
    let mut typed_first_value = false;
    let mut any_value = false;
    for (i, cell) in first.iter().enumerate() {
        let cell = String::from_utf8_lossy(cell);
        if is_null_token(&cell) {
            continue;
        }
        any_value = true;
        let mut below = Guess::default();
        for r in rest {
            if let Some(v) = r.get(i) {
                let v = String::from_utf8_lossy(v);
                if !is_null_token(&v) {
                    below.observe(&v);
                }
            }
        }
        let mut own = Guess::default();
        own.observe(&cell);
        typed_first_value |= own.ty() != Ty::Varchar;
        let below_ty = below.ty();
        if matches!(below_ty, Ty::Null | Ty::Varchar) {
            continue;
        }
        let mut both = below.clone();
        both.observe(&cell);
        if both.ty() == Ty::Varchar {
            header_evidence = true;
        } else {
            data_evidence = true;
        }
    }
    header_evidence || (!data_evidence && any_value && !typed_first_value)
}

/// Per-column state of the full pass.
#[derive(Debug, Default, Clone)]
struct ColumnState {
    guess: Guess,
    /// Saw a value that is missing in any column.
    nulls: bool,
    /// Saw `NA` or `N/A`, missing unless the column is text.
    soft_nulls: bool,
}

impl ColumnState {
    fn nullable(&self) -> bool {
        self.nulls || (self.soft_nulls && self.guess.ty() != Ty::Varchar)
    }
}

/// Reads every record: counts them, checks widths and UTF-8, infers types from the first
/// `sample_rows` data records and nullability from all of them.
fn scan(
    input: impl Read,
    location: &str,
    dialect: Dialect,
    sample_rows: usize,
) -> Result<FileSchema> {
    let mut reader = builder(dialect.delimiter, dialect.quote).from_reader(input);
    let mut record = ByteRecord::new();
    let mut names: Option<Vec<String>> = None;
    let mut width_line = 0u64;
    let mut columns: Vec<ColumnState> = Vec::new();
    let mut rows = 0u64;
    loop {
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(location, &e))?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, csv::Position::line);
        let text = utf8_fields(&record, location, line)?;
        let Some(width) = names.as_ref().map(Vec::len) else {
            width_line = line;
            let first: Vec<String> = if dialect.header {
                text.iter().map(|s| (*s).to_owned()).collect()
            } else {
                (1..=text.len()).map(|i| format!("column{i}")).collect()
            };
            columns = vec![ColumnState::default(); first.len()];
            names = Some(unique_names(first));
            if dialect.header {
                continue;
            }
            observe(&mut columns, &text, rows, sample_rows);
            rows += 1;
            continue;
        };
        if text.len() != width {
            return Err(invalid(
                location,
                format!("line {line}"),
                format!(
                    "has {} fields, but line {width_line} has {width}: every record must have as many fields as the first (check the delimiter {:?} and the quoting)",
                    text.len(),
                    char::from(dialect.delimiter)
                ),
            ));
        }
        observe(&mut columns, &text, rows, sample_rows);
        rows += 1;
    }
    let fields = names
        .unwrap_or_default()
        .into_iter()
        .zip(columns)
        .map(|(name, c)| Field {
            name,
            nullable: (rows > 0).then_some(c.nullable()),
            ty: c.guess.ty(),
        })
        .collect();
    Ok(FileSchema { fields, rows })
}

fn observe(columns: &mut [ColumnState], text: &[&str], row: u64, sample_rows: usize) {
    let sampled = row < sample_rows as u64;
    for (c, value) in columns.iter_mut().zip(text) {
        match missing(value) {
            Missing::Always => c.nulls = true,
            Missing::InTypedColumn => c.soft_nulls = true,
            Missing::No if sampled => c.guess.observe(value),
            Missing::No => {}
        }
    }
}

/// The fields of a record as text, or an error naming the line and field that is not UTF-8.
fn utf8_fields<'r>(record: &'r ByteRecord, location: &str, line: u64) -> Result<Vec<&'r str>> {
    record
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            std::str::from_utf8(bytes).map_err(|e| {
                invalid(
                    location,
                    format!("line {line}"),
                    format!(
                        "field {} is not valid UTF-8 (bad byte at offset {} of the field); save the file as UTF-8",
                        i + 1,
                        e.valid_up_to()
                    ),
                )
            })
        })
        .collect()
}

fn csv_error(location: &str, e: &csv::Error) -> crate::Error {
    match e.kind() {
        csv::ErrorKind::Io(io) => io_error(location, io),
        _ => {
            let line = e.position().map_or(0, csv::Position::line);
            invalid(location, format!("line {line}"), e.to_string())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn dialect(text: &str) -> Dialect {
        sniff(text.as_bytes(), false, false)
    }

    #[test]
    fn delimiters_and_headers_are_sniffed() {
        let d = dialect("a,b,c\n1,2,3\n4,5,6\n");
        assert_eq!((d.delimiter, d.header), (b',', true));
        let d = dialect("name;amount\nfoo;1,5\nbar;2,25\n");
        assert_eq!((d.delimiter, d.header), (b';', true));
        let d = dialect("a|b\n1|2\n");
        assert_eq!(d.delimiter, b'|');
        let d = dialect("1,2,3\n4,5,6\n");
        assert!(!d.header);
        let d = dialect("'x,y',z\n'1,2',3\n'4,5',6\n");
        assert_eq!((d.delimiter, d.quote), (b',', b'\''));
        let d = dialect("id,2023\n1,5\n");
        assert!(d.header);
        let d = dialect("name,city\nAlice,Paris\n");
        assert!(d.header);
    }
}
