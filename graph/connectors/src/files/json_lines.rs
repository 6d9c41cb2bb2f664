//! JSON lines (one object per line) and, for `.json` files that open with `[`, a JSON array of
//! objects.
//!
//! Nested objects are flattened into dotted columns (`address.city`); arrays are typed
//! `array<element>`, and objects inside arrays `struct<name:type,...>`. Strings that hold ISO
//! dates or timestamps are typed `date` and `timestamp`. Types met for the same column are
//! unified: integers and decimals give `double`, dates and timestamps give `timestamp`, and
//! anything else mixed gives `varchar`.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::schema::{Field, FileSchema};
use super::types::{BIGINT, Ty, Widen, is_date, is_timestamp, unify, unify_fields};
use super::{invalid, io_error};
use crate::error::Result;

/// How a JSON file holds its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// One object per line.
    Lines,
    /// One array of objects.
    Array,
}

/// Reads a JSON-lines file (or, with `allow_array`, a JSON array of objects when the file
/// opens with `[`): its columns and row count.
pub(crate) fn read(
    path: &Path,
    location: &str,
    allow_array: bool,
    sample_rows: usize,
) -> Result<(FileSchema, Layout)> {
    let file = File::open(path).map_err(|e| io_error(location, &e))?;
    let mut input = BufReader::with_capacity(1 << 16, file);
    // Only the first buffer is looked at, so that line numbers stay right.
    let starts_with_bracket = input
        .fill_buf()
        .map_err(|e| io_error(location, &e))?
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        == Some(&b'[');
    if allow_array && starts_with_bracket {
        read_array(input, location, sample_rows).map(|s| (s, Layout::Array))
    } else {
        read_lines(input, location, sample_rows).map(|s| (s, Layout::Lines))
    }
}

fn read_lines(mut input: impl BufRead, location: &str, sample_rows: usize) -> Result<FileSchema> {
    let mut columns = Columns::default();
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|e| io_error(location, &e))?;
        if n == 0 {
            break;
        }
        number += 1;
        // Only the end is trimmed, so that columns in messages count from the line's start.
        let text = line.trim_ascii_end();
        if text.trim_ascii_start().is_empty() {
            continue;
        }
        let field = || format!("line {number}");
        let value: Value = serde_json::from_slice(text).map_err(|e| {
            invalid(
                location,
                format!("line {number}, column {}", e.column()),
                format!("is not JSON: {}{}", without_position(&e), hint(text)),
            )
        })?;
        let Value::Object(record) = value else {
            return Err(invalid(
                location,
                field(),
                format!(
                    "is a JSON {}, not an object: every line of a JSON-lines file must be one record",
                    kind(&value)
                ),
            ));
        };
        columns.record(&record, sample_rows);
    }
    Ok(columns.finish())
}

/// serde_json's message without its ` at line L column C`, which the field already says.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => text,
    }
}

/// A hint for the commonest mistake: a pretty-printed document instead of one per line.
fn hint(line: &[u8]) -> &'static str {
    if matches!(line.trim_ascii(), b"{" | b"[") {
        " (a pretty-printed JSON document is not JSON lines: write one object per line)"
    } else {
        ""
    }
}

fn read_array(input: impl Read, location: &str, sample_rows: usize) -> Result<FileSchema> {
    let value: Value = serde_json::from_reader(input).map_err(|e| {
        invalid(
            location,
            format!("line {}, column {}", e.line(), e.column()),
            format!("is not JSON: {}", without_position(&e)),
        )
    })?;
    let Value::Array(items) = value else {
        return Err(invalid(
            location,
            "document",
            "is not a JSON array of objects",
        ));
    };
    let mut columns = Columns::default();
    for (i, item) in items.iter().enumerate() {
        let Value::Object(record) = item else {
            return Err(invalid(
                location,
                format!("element {}", i + 1),
                format!(
                    "is a JSON {}, not an object: every element must be one record",
                    kind(item)
                ),
            ));
        };
        columns.record(record, sample_rows);
    }
    Ok(columns.finish())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Int | Value::Float => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A JSON value with its object keys in file order (what is needed of it: numbers only as
/// integer or not, strings for dates).
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    Int,
    Float,
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Value, E> {
        Ok(Value::Int)
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(if i64::try_from(v).is_ok() {
            Value::Int
        } else {
            Value::Float
        })
    }
    fn visit_f64<E>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Float)
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            fields.push((key, value));
        }
        Ok(Value::Object(fields))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// One column being inferred.
#[derive(Debug)]
struct Column {
    name: String,
    ty: Ty,
    nullable: bool,
    /// The last record the column had a value in (1-based).
    last_seen: u64,
}

/// The columns met so far, in first-seen order.
#[derive(Debug, Default)]
struct Columns {
    columns: Vec<Column>,
    index: HashMap<String, usize>,
    rows: u64,
}

impl Columns {
    /// Takes one record: types from the first `sample_rows` records (which also decide the
    /// columns), nulls and missing keys from all of them.
    fn record(&mut self, record: &[(String, Value)], sample_rows: usize) {
        self.rows += 1;
        let sampled = self.rows <= sample_rows as u64;
        let mut values = Vec::new();
        flatten("", record, &mut values);
        for (name, value) in values {
            let i = match self.index.get(&name) {
                Some(&i) => i,
                None if sampled => {
                    self.index.insert(name.clone(), self.columns.len());
                    self.columns.push(Column {
                        name,
                        ty: Ty::Null,
                        nullable: self.rows > 1,
                        last_seen: 0,
                    });
                    self.columns.len() - 1
                }
                None => continue,
            };
            let Some(c) = self.columns.get_mut(i) else {
                continue;
            };
            c.last_seen = self.rows;
            if value.is_null() {
                c.nullable = true;
            } else if sampled {
                c.ty = unify(&c.ty, &value_ty(value), Widen::Lenient).unwrap_or(Ty::Varchar);
            }
        }
        for c in &mut self.columns {
            if c.last_seen != self.rows {
                c.nullable = true;
            }
        }
    }

    fn finish(self) -> FileSchema {
        let rows = self.rows;
        FileSchema {
            fields: self
                .columns
                .into_iter()
                .map(|c| Field {
                    name: c.name,
                    ty: c.ty,
                    nullable: Some(c.nullable),
                })
                .collect(),
            rows,
        }
    }
}

/// The leaves of an object: nested objects become dotted names; an empty object adds nothing.
fn flatten<'v>(prefix: &str, object: &'v [(String, Value)], out: &mut Vec<(String, &'v Value)>) {
    for (key, value) in object {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(inner) => flatten(&name, inner, out),
            other => out.push((name, other)),
        }
    }
}

/// The type of one JSON value.
fn value_ty(value: &Value) -> Ty {
    match value {
        Value::Null => Ty::Null,
        Value::Bool(_) => Ty::Boolean,
        Value::Int => BIGINT,
        Value::Float => Ty::Double,
        Value::String(s) if is_date(s) => Ty::Date,
        Value::String(s) if is_timestamp(s) => Ty::Timestamp,
        Value::String(_) => Ty::Varchar,
        Value::Array(items) => Ty::Array(Box::new(items.iter().fold(Ty::Null, |acc, item| {
            unify(&acc, &value_ty(item), Widen::Lenient).unwrap_or(Ty::Varchar)
        }))),
        Value::Object(fields) => {
            let fields: Vec<(String, Ty)> = fields
                .iter()
                .map(|(k, v)| (k.clone(), value_ty(v)))
                .collect();
            Ty::Struct(unify_fields(&[], &fields, Widen::Lenient).unwrap_or_default())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn schema(text: &str) -> Vec<(String, String, Option<bool>)> {
        read_lines(text.as_bytes(), "t.jsonl", 100)
            .unwrap()
            .fields
            .into_iter()
            .map(|f| (f.name, f.ty.to_string(), f.nullable))
            .collect()
    }

    #[test]
    fn keys_flatten_and_types_unify() {
        let s = schema(
            "{\"id\":1,\"a\":{\"city\":\"x\"},\"v\":1,\"tags\":[\"a\"],\"items\":[{\"n\":1},{\"n\":2.5,\"k\":\"z\"}]}\n\n{\"id\":2,\"v\":2.5,\"m\":true}\n",
        );
        let get = |n: &str| s.iter().find(|(name, _, _)| name == n).cloned().unwrap();
        assert_eq!(get("id"), ("id".into(), "bigint".into(), Some(false)));
        assert_eq!(
            get("a.city"),
            ("a.city".into(), "varchar".into(), Some(true))
        );
        assert_eq!(get("v").1, "double");
        assert_eq!(get("tags").1, "array<varchar>");
        assert_eq!(get("items").1, "array<struct<n:double,k:varchar>>");
        assert_eq!(get("m"), ("m".into(), "boolean".into(), Some(true)));
    }

    #[test]
    fn bad_lines_are_named() {
        let e = read_lines("{\"a\":1}\n{\"a\":\n".as_bytes(), "t.jsonl", 10).unwrap_err();
        assert!(
            e.to_string()
                .contains("t.jsonl: line 2, column 5: is not JSON"),
            "{e}"
        );
        let e = read_lines("{\"a\":1}\n[1]\n".as_bytes(), "t.jsonl", 10).unwrap_err();
        assert!(
            e.to_string()
                .contains("line 2: is a JSON array, not an object"),
            "{e}"
        );
    }
}
