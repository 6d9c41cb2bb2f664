//! Rules in the formats other tools read: ODCS v3.1 quality blocks (YAML), Great
//! Expectations 1.x expectation suites (JSON) and Soda checks (SodaCL YAML). dbt tests come in
//! the other way, through `ingest dbt`, and become rules like any other.
//!
//! Every rule has a rendering in each format: library metrics or native checks where the
//! format has one, and its failing-rows SQL otherwise.

use serde_json::{Map, Value, json};

use super::{Check, Rule, is_query, quote_ident};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Open Data Contract Standard v3.1 (YAML).
    Odcs,
    /// Great Expectations 1.x expectation suite (JSON).
    GreatExpectations,
    /// Soda checks (SodaCL, YAML).
    Soda,
}

impl Format {
    /// Parses `odcs`, `ge` / `great-expectations` or `soda`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "odcs" => Some(Self::Odcs),
            "ge" | "gx" | "great-expectations" | "great_expectations" => {
                Some(Self::GreatExpectations)
            }
            "soda" | "sodacl" => Some(Self::Soda),
            _ => None,
        }
    }
}

/// Renders `rules` of the dataset `table` (its physical name) in `format`.
pub fn export(format: Format, dataset: &str, table: &str, rules: &[Rule]) -> String {
    match format {
        Format::Odcs => yaml(&odcs(dataset, table, rules)),
        Format::GreatExpectations => {
            serde_json::to_string_pretty(&great_expectations(dataset, rules)).unwrap_or_default()
                + "\n"
        }
        Format::Soda => yaml(&soda(table, rules)),
    }
}

fn failing_rows_sql(table: &str, rule: &Rule) -> Option<String> {
    let from = quote_ident(table);
    match &rule.check {
        Check::CustomSql { expression } if super::counted_condition(expression).is_some() => {
            Some(expression.trim().trim_end_matches(';').to_owned())
        }
        Check::CustomSql { expression } if is_query(expression) => Some(format!(
            "SELECT COUNT(*) FROM ({}) q",
            expression.trim().trim_end_matches(';')
        )),
        Check::Unique => {
            let cols: Vec<String> = rule.columns.iter().map(|c| quote_ident(c)).collect();
            let list = cols.join(", ");
            Some(format!(
                "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM {from} WHERE {} GROUP BY {list} HAVING COUNT(*) > 1) d",
                cols.iter()
                    .map(|c| format!("{c} IS NOT NULL"))
                    .collect::<Vec<_>>()
                    .join(" AND ")
            ))
        }
        Check::Referential {
            references,
            columns,
        } => {
            let to = if columns.is_empty() {
                &rule.columns
            } else {
                columns
            };
            let matches: Vec<String> = rule
                .columns
                .iter()
                .zip(to)
                .map(|(c, p)| format!("p.{} = t.{}", quote_ident(p), quote_ident(c)))
                .collect();
            let parent = references.rsplit(['/', '.']).next().unwrap_or(references);
            Some(format!(
                "SELECT COUNT(*) FROM {from} t WHERE {} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {})",
                rule.columns
                    .iter()
                    .map(|c| format!("t.{} IS NOT NULL", quote_ident(c)))
                    .collect::<Vec<_>>()
                    .join(" AND "),
                quote_ident(parent),
                matches.join(" AND ")
            ))
        }
        check => check
            .failing_predicate(&rule.columns)
            .map(|p| format!("SELECT COUNT(*) FROM {from} WHERE {p}")),
    }
}

fn odcs_rule(table: &str, rule: &Rule) -> Value {
    let mut q = Map::new();
    q.insert("name".into(), json!(rule.key));
    q.insert("description".into(), json!(rule.title));
    q.insert("dimension".into(), json!(rule.dimension.to_lowercase()));
    q.insert(
        "severity".into(),
        json!(if rule.severity == "warn" {
            "warning"
        } else {
            "error"
        }),
    );
    let mut library = |metric: &str, extra: Vec<(&str, Value)>| {
        q.insert("type".into(), json!("library"));
        q.insert("metric".into(), json!(metric));
        for (k, v) in extra {
            q.insert(k.into(), v);
        }
    };
    match &rule.check {
        Check::NotNull {
            max_null_rate: None,
        } => library("nullValues", vec![("mustBe", json!(0))]),
        Check::NotNull {
            max_null_rate: Some(r),
        } => library(
            "nullValues",
            vec![
                (
                    "mustBeLessThanOrEqualTo",
                    json!((r * 10_000.0).round() / 100.0),
                ),
                ("unit", json!("percent")),
            ],
        ),
        Check::Unique if rule.columns.len() == 1 => {
            library("duplicateValues", vec![("mustBe", json!(0))]);
        }
        Check::AcceptedValues { values } => library(
            "invalidValues",
            vec![
                ("arguments", json!({ "validValues": values })),
                ("mustBe", json!(0)),
            ],
        ),
        Check::Regex { pattern } => library(
            "invalidValues",
            vec![
                ("arguments", json!({ "pattern": pattern })),
                ("mustBe", json!(0)),
            ],
        ),
        Check::RowCount { min, max } => {
            let extra = match (min, max) {
                (Some(a), Some(b)) => vec![("mustBeBetween", json!([a, b]))],
                (Some(a), None) => vec![("mustBeGreaterThanOrEqualTo", json!(a))],
                (None, Some(b)) => vec![("mustBeLessThanOrEqualTo", json!(b))],
                (None, None) => vec![("mustBeGreaterThanOrEqualTo", json!(0))],
            };
            library("rowCount", extra);
        }
        Check::Freshness {
            column,
            max_age_hours,
        } => {
            q.insert("type".into(), json!("sql"));
            q.insert(
                "query".into(),
                json!(format!(
                    "SELECT EXTRACT(EPOCH FROM (CURRENT_TIMESTAMP - MAX({}))) / 3600 FROM {}",
                    quote_ident(column),
                    quote_ident(table)
                )),
            );
            q.insert("mustBeLessThanOrEqualTo".into(), json!(max_age_hours));
        }
        _ => {
            q.insert("type".into(), json!("sql"));
            q.insert(
                "query".into(),
                json!(failing_rows_sql(table, rule).unwrap_or_default()),
            );
            q.insert("mustBe".into(), json!(0));
        }
    }
    Value::Object(q)
}

fn odcs(dataset: &str, table: &str, rules: &[Rule]) -> Value {
    let mut properties: Vec<(String, Vec<Value>)> = Vec::new();
    let mut table_quality = Vec::new();
    for r in rules {
        let q = odcs_rule(table, r);
        match (r.columns.as_slice(), &r.check) {
            ([c], _) => match properties.iter_mut().find(|(n, _)| n == c) {
                Some((_, list)) => list.push(q),
                None => properties.push((c.clone(), vec![q])),
            },
            _ => table_quality.push(q),
        }
    }
    let mut object = Map::new();
    object.insert("name".into(), json!(table));
    object.insert("physicalName".into(), json!(table));
    object.insert("logicalType".into(), json!("object"));
    object.insert(
        "properties".into(),
        Value::Array(
            properties
                .into_iter()
                .map(|(name, quality)| json!({ "name": name, "quality": quality }))
                .collect(),
        ),
    );
    if !table_quality.is_empty() {
        object.insert("quality".into(), Value::Array(table_quality));
    }
    json!({
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": dataset,
        "name": table,
        "version": "1.0.0",
        "status": "active",
        "schema": [Value::Object(object)],
    })
}

fn expectation(kind: &str, kwargs: Value, rule: &Rule) -> Value {
    json!({
        "type": kind,
        "kwargs": kwargs,
        "meta": {
            "govgraph_rule": rule.key,
            "title": rule.title,
            "dimension": rule.dimension,
            "severity": rule.severity,
        },
    })
}

fn great_expectations(dataset: &str, rules: &[Rule]) -> Value {
    let mut expectations = Vec::new();
    for r in rules {
        let column = r.columns.first().cloned().unwrap_or_default();
        let e = match &r.check {
            Check::NotNull { max_null_rate } => {
                let mut k = json!({ "column": column });
                if let Some(rate) = max_null_rate {
                    k["mostly"] = json!(((1.0 - rate) * 1e6).round() / 1e6);
                }
                expectation("expect_column_values_to_not_be_null", k, r)
            }
            Check::Unique if r.columns.len() == 1 => expectation(
                "expect_column_values_to_be_unique",
                json!({ "column": column }),
                r,
            ),
            Check::Unique => expectation(
                "expect_compound_columns_to_be_unique",
                json!({ "column_list": r.columns }),
                r,
            ),
            Check::AcceptedValues { values } => expectation(
                "expect_column_values_to_be_in_set",
                json!({ "column": column, "value_set": values }),
                r,
            ),
            Check::Range { min, max } => expectation(
                "expect_column_values_to_be_between",
                json!({ "column": column, "min_value": min, "max_value": max }),
                r,
            ),
            Check::Regex { pattern } => expectation(
                "expect_column_values_to_match_regex",
                json!({ "column": column, "regex": pattern }),
                r,
            ),
            Check::RowCount { min, max } => expectation(
                "expect_table_row_count_to_be_between",
                json!({ "min_value": min, "max_value": max }),
                r,
            ),
            Check::Freshness {
                column,
                max_age_hours,
            } => expectation(
                "unexpected_rows_expectation",
                json!({
                    "unexpected_rows_query": format!(
                        "SELECT MAX({c}) FROM {{batch}} HAVING MAX({c}) < CURRENT_TIMESTAMP - INTERVAL '{max_age_hours} hours'",
                        c = quote_ident(column)
                    ),
                }),
                r,
            ),
            Check::Referential { .. } | Check::CustomSql { .. } => {
                let counted = match &r.check {
                    Check::CustomSql { expression } => super::counted_condition(expression),
                    _ => None,
                };
                let query = match &r.check {
                    Check::CustomSql { .. } if counted.is_some() => {
                        format!(
                            "SELECT * FROM {{batch}} WHERE {}",
                            counted.unwrap_or_default()
                        )
                    }
                    Check::CustomSql { expression } if is_query(expression) => {
                        expression.trim().trim_end_matches(';').to_owned()
                    }
                    Check::CustomSql { expression } => {
                        format!("SELECT * FROM {{batch}} WHERE NOT ({expression})")
                    }
                    _ => failing_rows_sql("{batch}", r)
                        .unwrap_or_default()
                        .replace("SELECT COUNT(*) FROM \"{batch}\"", "SELECT * FROM {batch}"),
                };
                expectation(
                    "unexpected_rows_expectation",
                    json!({ "unexpected_rows_query": query }),
                    r,
                )
            }
        };
        expectations.push(e);
    }
    json!({
        "name": format!("{dataset} quality"),
        "expectations": expectations,
        "meta": { "great_expectations_version": "1.3.0", "generated_by": "govgraph" },
        "notes": null,
    })
}

fn soda(table: &str, rules: &[Rule]) -> Value {
    let mut checks = Vec::new();
    for r in rules {
        let c = r.columns.first().cloned().unwrap_or_default();
        let named = |check: String, mut config: Map<String, Value>| {
            config.insert("name".into(), json!(r.title));
            json!({ check: Value::Object(config) })
        };
        let check = match &r.check {
            Check::NotNull {
                max_null_rate: None,
            } => named(format!("missing_count({c}) = 0"), Map::new()),
            Check::NotNull {
                max_null_rate: Some(rate),
            } => named(
                format!(
                    "missing_percent({c}) <= {}",
                    (rate * 10_000.0).round() / 100.0
                ),
                Map::new(),
            ),
            Check::Unique => named(
                format!("duplicate_count({}) = 0", r.columns.join(", ")),
                Map::new(),
            ),
            Check::AcceptedValues { values } => {
                let mut m = Map::new();
                m.insert("valid values".into(), json!(values));
                named(format!("invalid_count({c}) = 0"), m)
            }
            Check::Regex { pattern } => {
                let mut m = Map::new();
                m.insert("valid regex".into(), json!(pattern));
                named(format!("invalid_count({c}) = 0"), m)
            }
            Check::Range { min, max } => {
                let mut m = Map::new();
                if let Some(v) = min {
                    m.insert("valid min".into(), v.clone());
                }
                if let Some(v) = max {
                    m.insert("valid max".into(), v.clone());
                }
                named(format!("invalid_count({c}) = 0"), m)
            }
            Check::RowCount { min, max } => {
                let check = match (min, max) {
                    (Some(a), Some(b)) => format!("row_count between {a} and {b}"),
                    (Some(a), None) => format!("row_count >= {a}"),
                    (None, Some(b)) => format!("row_count <= {b}"),
                    (None, None) => "row_count >= 0".to_owned(),
                };
                named(check, Map::new())
            }
            Check::Freshness {
                column,
                max_age_hours,
            } => named(
                format!("freshness({column}) < {max_age_hours}h"),
                Map::new(),
            ),
            Check::Referential {
                references,
                columns,
            } => {
                let to = if columns.is_empty() {
                    r.columns.join(", ")
                } else {
                    columns.join(", ")
                };
                let parent = references.rsplit(['/', '.']).next().unwrap_or(references);
                named(
                    format!(
                        "values in ({}) must exist in {parent} ({to})",
                        r.columns.join(", ")
                    ),
                    Map::new(),
                )
            }
            Check::CustomSql { expression } => {
                let mut m = Map::new();
                m.insert("name".into(), json!(r.title));
                if let Some(condition) = super::counted_condition(expression) {
                    m.insert("fail condition".into(), json!(condition));
                } else if is_query(expression) {
                    m.insert(
                        "fail query".into(),
                        json!(expression.trim().trim_end_matches(';')),
                    );
                } else {
                    m.insert(
                        "fail condition".into(),
                        json!(format!("NOT ({expression})")),
                    );
                }
                json!({ "failed rows": Value::Object(m) })
            }
        };
        checks.push(check);
    }
    json!({ format!("checks for {table}"): checks })
}

/// A small YAML writer for JSON values: block style, strings quoted when plain style could
/// misread them.
pub fn yaml(v: &Value) -> String {
    let mut out = String::new();
    write_value(v, 0, &mut out, false);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => plain_or_quoted(s),
        Value::Array(a) if a.is_empty() => "[]".to_owned(),
        Value::Object(o) if o.is_empty() => "{}".to_owned(),
        other => other.to_string(),
    }
}

fn plain_or_quoted(s: &str) -> String {
    let risky = s.is_empty()
        || s.starts_with(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    '-' | '?'
                        | ':'
                        | ','
                        | '['
                        | ']'
                        | '{'
                        | '}'
                        | '#'
                        | '&'
                        | '*'
                        | '!'
                        | '|'
                        | '>'
                        | '\''
                        | '"'
                        | '%'
                        | '@'
                        | '`'
                )
        })
        || s.ends_with(char::is_whitespace)
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.contains(['\n', '\t', '\\'])
        || matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~" | "y" | "n"
        )
        || s.parse::<f64>().is_ok();
    if risky {
        serde_json::to_string(s).unwrap_or_default()
    } else {
        s.to_owned()
    }
}

fn write_value(v: &Value, indent: usize, out: &mut String, inline_first: bool) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (i, (k, val)) in o.iter().enumerate() {
                if !(i == 0 && inline_first) {
                    out.push_str(&pad);
                }
                out.push_str(&plain_or_quoted(k));
                out.push(':');
                match val {
                    Value::Object(inner) if !inner.is_empty() => {
                        out.push('\n');
                        write_value(val, indent + 2, out, false);
                    }
                    Value::Array(inner) if !inner.is_empty() => {
                        out.push('\n');
                        write_value(val, indent + 2, out, false);
                    }
                    other => {
                        out.push(' ');
                        out.push_str(&scalar(other));
                        out.push('\n');
                    }
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for item in a {
                out.push_str(&pad);
                out.push_str("- ");
                match item {
                    Value::Object(o) if !o.is_empty() => write_value(item, indent + 2, out, true),
                    Value::Array(inner) if !inner.is_empty() => {
                        out.push('\n');
                        write_value(item, indent + 2, out, false);
                    }
                    other => {
                        out.push_str(&scalar(other));
                        out.push('\n');
                    }
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_quotes_what_plain_style_would_misread() {
        let v = json!({
            "checks for orders": [
                { "missing_count(email) = 0": { "name": "email is never null" } },
                { "invalid_count(status) = 0": { "valid values": ["open", "yes", "10", "a: b"] } },
            ],
            "empty": [],
            "total": 3,
        });
        assert_eq!(
            yaml(&v),
            "checks for orders:\n  - missing_count(email) = 0:\n      name: email is never null\n  - invalid_count(status) = 0:\n      valid values:\n        - open\n        - \"yes\"\n        - \"10\"\n        - \"a: b\"\nempty: []\ntotal: 3\n"
        );
    }
}
