//! Profiles of PostgreSQL tables by SQL push-down, with the metric definitions of the file
//! profiler: exact distinct counts (`count(DISTINCT ...)`), quartiles as the value at rank
//! ⌊q·(n−1)⌋ of the sorted non-null values (`ORDER BY ... OFFSET k LIMIT 1`), the sample
//! standard deviation (`stddev_samp`), lengths in characters. Everything runs in the
//! connector's read-only transaction; nothing but aggregates and the first 1,000 values of
//! each column (for patterns and the semantic type) leaves the server.

use postgres::Client;
use postgres::types::Type;
use serde_json::{Value, json};

use super::accumulate::{pattern_counts, semantic_type};
use super::{ColumnProfile, DatasetProfile, Kind, TOP_VALUES, ValueCount};
use crate::error::{Error, Result};

fn pg_error(location: &str, e: &postgres::Error) -> Error {
    Error::Source {
        location: location.to_owned(),
        message: e.as_db_error().map_or_else(
            || e.to_string(),
            |db| format!("{}: {}", db.severity(), db.message()),
        ),
    }
}

/// `expr` when `cond` holds, else a typed NULL.
fn only(cond: bool, expr: String, null: &str) -> String {
    if cond { expr } else { format!("NULL::{null}") }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn kind_of(t: &Type, scale: Option<i32>) -> Kind {
    match *t {
        Type::INT2 | Type::INT4 | Type::INT8 => Kind::Integer,
        Type::NUMERIC => Kind::Decimal(scale.unwrap_or(0).max(0) as u32),
        Type::FLOAT4 | Type::FLOAT8 => Kind::Float,
        Type::BOOL => Kind::Boolean,
        Type::DATE => Kind::Date,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => Kind::Timestamp,
        _ => Kind::Text,
    }
}

/// A value as text from the server, as the file profiler would show it.
fn shown(kind: Kind, text: Option<String>) -> Value {
    let Some(text) = text else { return Value::Null };
    match kind {
        Kind::Integer => text
            .parse::<i64>()
            .map_or(Value::String(text), |n| json!(n)),
        Kind::Decimal(_) | Kind::Float => text
            .parse::<f64>()
            .map_or(Value::String(text), |x| json!(x)),
        Kind::Boolean => Value::String((text == "true" || text == "t").to_string()),
        Kind::Timestamp => Value::String(text.replace(' ', "T")),
        Kind::Date | Kind::Text => Value::String(text),
    }
}

/// Profiles `schema.table` on `client`, which should be inside a read-only transaction
/// (see `govgraph_connectors::postgres::begin_read_only`).
pub fn profile_table(client: &mut Client, schema: &str, table: &str) -> Result<DatasetProfile> {
    let location = format!("{schema}.{table}");
    let err = |e: postgres::Error| pg_error(&location, &e);
    let relation = format!("{}.{}", quote(schema), quote(table));
    // Column names, types and numeric scales, in order.
    let columns = client
        .query(
            "SELECT a.attname, a.atttypid, information_schema._pg_numeric_scale(a.atttypid, a.atttypmod)
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            &[&schema, &table],
        )
        .map_err(err)?;
    if columns.is_empty() {
        return Err(Error::NotFound(format!("table {location}")));
    }
    let mut profiles = Vec::new();
    let mut row_count = 0;
    for row in &columns {
        let name: String = row.get(0);
        let oid: u32 = row.get(1);
        let scale: Option<i32> = row.get(2);
        let kind = Type::from_oid(oid).map_or(Kind::Text, |t| kind_of(&t, scale));
        let col = quote(&name);
        let numeric = matches!(kind, Kind::Integer | Kind::Decimal(_) | Kind::Float);
        // PostgreSQL has no min/max of booleans: false < true is bool_and/bool_or.
        let (min, max) = if kind == Kind::Boolean {
            (
                format!("bool_and({col})::text"),
                format!("bool_or({col})::text"),
            )
        } else {
            (format!("min({col})::text"), format!("max({col})::text"))
        };
        let stats = format!(
            "SELECT count(*), count({col}), count(DISTINCT {col}), {min}, {max}, {}, {}, {}, {}, {} FROM {relation}",
            only(numeric, format!("avg({col})::float8"), "float8"),
            only(numeric, format!("stddev_samp({col})::float8"), "float8"),
            only(
                kind == Kind::Text,
                format!("min(char_length({col}))::int8"),
                "int8"
            ),
            only(
                kind == Kind::Text,
                format!("max(char_length({col}))::int8"),
                "int8"
            ),
            only(
                kind == Kind::Text,
                format!("avg(char_length({col}))::float8"),
                "float8"
            ),
        );
        let s = client.query_one(stats.as_str(), &[]).map_err(err)?;
        let rows: i64 = s.get(0);
        let non_null: i64 = s.get(1);
        let distinct: i64 = s.get(2);
        row_count = rows as u64;
        let quartiles: Vec<Value> = if kind != Kind::Text && kind != Kind::Boolean && non_null > 0 {
            let mut out = Vec::new();
            for q in [0.25f64, 0.5, 0.75] {
                let k = (q * (non_null - 1) as f64).floor() as i64;
                let v: Option<String> = client
                    .query_one(
                        // The output is aliased so that ORDER BY sorts the column, not its text.
                        format!("SELECT {col}::text AS v FROM {relation} WHERE {col} IS NOT NULL ORDER BY {col} OFFSET $1 LIMIT 1").as_str(),
                        &[&k],
                    )
                    .map_err(err)?
                    .get(0);
                out.push(shown(kind, v));
            }
            out
        } else {
            vec![Value::Null; 3]
        };
        let mut top: Vec<ValueCount> = client
            .query(
                format!(
                    "SELECT {col}::text AS v, count(*) FROM {relation} WHERE {col} IS NOT NULL GROUP BY {col} ORDER BY count(*) DESC, {col} LIMIT {TOP_VALUES}"
                )
                .as_str(),
                &[],
            )
            .map_err(err)?
            .iter()
            .map(|r| ValueCount {
                value: r.get::<_, Option<String>>(0).unwrap_or_default(),
                count: r.get::<_, i64>(1) as u64,
            })
            .collect();
        if top.first().is_some_and(|t| t.count == 1) {
            top.clear();
        }
        let sample: Vec<String> = client
            .query(
                format!("SELECT {col}::text FROM {relation} WHERE {col} IS NOT NULL LIMIT 1000")
                    .as_str(),
                &[],
            )
            .map_err(err)?
            .iter()
            .filter_map(|r| r.get::<_, Option<String>>(0))
            .collect();
        let nulls = (rows - non_null) as u64;
        let [q25, q50, q75]: [Value; 3] =
            quartiles
                .try_into()
                .unwrap_or([Value::Null, Value::Null, Value::Null]);
        profiles.push(ColumnProfile {
            semantic_type: semantic_type(&name, kind, &sample, distinct as u64, non_null as u64),
            patterns: pattern_counts(&sample),
            data_type: kind.name().to_owned(),
            count: rows as u64,
            null_count: nulls,
            null_percentage: if rows == 0 {
                0.0
            } else {
                (nulls as f64 * 10_000.0 / rows as f64).round() / 100.0
            },
            distinct_count: distinct as u64,
            distinct_is_approximate: false,
            min: shown(kind, s.get(3)),
            max: shown(kind, s.get(4)),
            mean: s.get(5),
            stddev: s.get(6),
            q25,
            q50,
            q75,
            top_values: top,
            top_values_are_approximate: false,
            min_length: s.get::<_, Option<i64>>(7).map(|n| n as u64),
            max_length: s.get::<_, Option<i64>>(8).map(|n| n as u64),
            mean_length: s
                .get::<_, Option<f64>>(9)
                .map(|x| (x * 100.0).round() / 100.0),
            name,
        });
    }
    Ok(DatasetProfile {
        dataset: location,
        row_count,
        columns: profiles,
    })
}

/// Up to `rows` values of every column of `schema.table`, as text, for classification.
pub fn sample_table(
    client: &mut Client,
    schema: &str,
    table: &str,
    rows: usize,
) -> Result<Vec<crate::classify::ColumnSample>> {
    let location = format!("{schema}.{table}");
    let err = |e: postgres::Error| pg_error(&location, &e);
    let names: Vec<String> = client
        .query(
            "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            &[&schema, &table],
        )
        .map_err(err)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if names.is_empty() {
        return Err(Error::NotFound(format!("table {location}")));
    }
    let list: Vec<String> = names
        .iter()
        .map(|n| format!("{}::text", quote(n)))
        .collect();
    let sql = format!(
        "SELECT {} FROM {}.{} LIMIT {}",
        list.join(", "),
        quote(schema),
        quote(table),
        rows
    );
    let mut columns: Vec<crate::classify::ColumnSample> = names
        .iter()
        .map(|n| crate::classify::ColumnSample::new(n.clone(), Vec::new()))
        .collect();
    for row in client.query(sql.as_str(), &[]).map_err(err)? {
        for (i, c) in columns.iter_mut().enumerate() {
            if let Some(v) = row.get::<_, Option<String>>(i) {
                c.values.push(v);
            }
        }
    }
    Ok(columns)
}
