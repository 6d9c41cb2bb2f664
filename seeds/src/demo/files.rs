//! CSV (RFC 4180 quoting, LF line ends) and Parquet (low-level column writers) output.

use super::data::{Table, Val};
use super::dates::{fmt_date, fmt_ts};
use super::schema::Kind;
use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::io;
use std::sync::Arc;

/// Money and other doubles are written with two decimals; `-0.00` never appears.
fn fmt_float(x: f64) -> String {
    let x = if x == 0.0 { 0.0 } else { x };
    format!("{x:.2}")
}

/// The CSV text of one cell (before quoting); `None` for null.
fn cell(v: &Val) -> Option<String> {
    match v {
        Val::Null => None,
        Val::Int(i) => Some(i.to_string()),
        Val::Float(f) => Some(fmt_float(*f)),
        Val::Text(s) => Some(s.clone()),
        Val::Date(d) => Some(fmt_date(*d)),
        Val::Ts(ms) => Some(fmt_ts(*ms)),
        Val::Bool(b) => Some(if *b { "true" } else { "false" }.to_string()),
    }
}

/// RFC 4180 quoting: a field with a comma, quote, CR or LF (or with leading/trailing
/// spaces, which some readers would otherwise trim) is quoted, quotes doubled.
fn push_field(out: &mut String, s: &str) {
    let needs = s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ');
    if needs {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// The table as CSV: a header line, then one record per row; nulls are empty fields.
pub fn to_csv(table: &Table) -> String {
    let mut out = String::new();
    let names: Vec<&str> = table.spec.columns.iter().map(|c| c.name).collect();
    out.push_str(&names.join(","));
    out.push('\n');
    for row in &table.rows {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            if let Some(s) = cell(v) {
                push_field(&mut out, &s);
            }
        }
        out.push('\n');
    }
    out
}

/// The Parquet message type of a table.
pub fn parquet_schema(table: &Table) -> String {
    let mut s = format!("message {} {{\n", table.spec.name);
    for c in table.spec.columns {
        let rep = if c.nullable { "OPTIONAL" } else { "REQUIRED" };
        let ty = match c.kind {
            Kind::Int => "INT64",
            Kind::Float => "DOUBLE",
            Kind::Text => "BYTE_ARRAY",
            Kind::Date => "INT32",
            Kind::Timestamp => "INT64",
            Kind::Bool => "BOOLEAN",
        };
        let logical = match c.kind {
            Kind::Text => " (STRING)",
            Kind::Date => " (DATE)",
            Kind::Timestamp => " (TIMESTAMP(MILLIS,true))",
            _ => "",
        };
        s.push_str(&format!("  {rep} {ty} {}{logical};\n", c.name));
    }
    s.push('}');
    s
}

fn err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

fn mismatch(table: &str, column: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{table}.{column}: value does not match the column kind"),
    )
}

/// The table as a Parquet file (one row group, Snappy, fixed `created_by`).
pub fn to_parquet(table: &Table) -> io::Result<Vec<u8>> {
    let schema = Arc::new(parse_message_type(&parquet_schema(table)).map_err(err)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by("govgraph-seeds".to_string())
            .build(),
    );
    let mut buf = Vec::new();
    {
        let mut writer = SerializedFileWriter::new(&mut buf, schema, props).map_err(err)?;
        let mut rg = writer.next_row_group().map_err(err)?;
        let mut idx = 0usize;
        while let Some(mut col) = rg.next_column().map_err(err)? {
            let spec = table
                .spec
                .columns
                .get(idx)
                .ok_or_else(|| err("more Parquet columns than spec columns"))?;
            let values = table.rows.iter().map(|r| r.get(idx).unwrap_or(&Val::Null));
            let defs: Vec<i16> = table
                .rows
                .iter()
                .map(|r| i16::from(!matches!(r.get(idx), Some(Val::Null) | None)))
                .collect();
            let defs = if spec.nullable {
                Some(defs.as_slice())
            } else {
                None
            };
            if !spec.nullable
                && table
                    .rows
                    .iter()
                    .any(|r| matches!(r.get(idx), Some(Val::Null) | None))
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{}.{}: null in a required column",
                        table.spec.name, spec.name
                    ),
                ));
            }
            let bad = || mismatch(table.spec.name, spec.name);
            match spec.kind {
                Kind::Int | Kind::Timestamp => {
                    let mut v = Vec::new();
                    for x in values {
                        match x {
                            Val::Int(i) | Val::Ts(i) => v.push(*i),
                            Val::Null => {}
                            _ => return Err(bad()),
                        }
                    }
                    col.typed::<Int64Type>()
                        .write_batch(&v, defs, None)
                        .map_err(err)?;
                }
                Kind::Date => {
                    let mut v = Vec::new();
                    for x in values {
                        match x {
                            Val::Date(d) => v.push(*d),
                            Val::Null => {}
                            _ => return Err(bad()),
                        }
                    }
                    col.typed::<Int32Type>()
                        .write_batch(&v, defs, None)
                        .map_err(err)?;
                }
                Kind::Float => {
                    let mut v = Vec::new();
                    for x in values {
                        match x {
                            Val::Float(f) => v.push(if *f == 0.0 { 0.0 } else { *f }),
                            Val::Null => {}
                            _ => return Err(bad()),
                        }
                    }
                    col.typed::<DoubleType>()
                        .write_batch(&v, defs, None)
                        .map_err(err)?;
                }
                Kind::Text => {
                    let mut v = Vec::new();
                    for x in values {
                        match x {
                            Val::Text(s) => v.push(ByteArray::from(s.as_str())),
                            Val::Null => {}
                            _ => return Err(bad()),
                        }
                    }
                    col.typed::<ByteArrayType>()
                        .write_batch(&v, defs, None)
                        .map_err(err)?;
                }
                Kind::Bool => {
                    let mut v = Vec::new();
                    for x in values {
                        match x {
                            Val::Bool(b) => v.push(*b),
                            Val::Null => {}
                            _ => return Err(bad()),
                        }
                    }
                    col.typed::<BoolType>()
                        .write_batch(&v, defs, None)
                        .map_err(err)?;
                }
            }
            col.close().map_err(err)?;
            idx += 1;
        }
        rg.close().map_err(err)?;
        writer.close().map_err(err)?;
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let mut s = String::new();
        push_field(&mut s, "a,b \"c\"\nd");
        assert_eq!(s, "\"a,b \"\"c\"\"\nd\"");
        assert_eq!(fmt_float(-0.0), "0.00");
    }
}
