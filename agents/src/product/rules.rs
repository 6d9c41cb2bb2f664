//! The product's quality rules: from its schema (keys, required columns, not empty), from
//! the domain's timeliness expectation (a time series must be recent), and from the glossary
//! (amounts and counts are never negative, rates lie between 0 and 1). Exported as dbt tests,
//! a Great Expectations suite and an ODCS quality block.

use govgraph_quality::rules::export::{Format, export, yaml};
use govgraph_quality::rules::{Check, Rule};
use serde::Serialize;
use serde_json::{Value, json};

use super::Model;
use super::catalog::Snapshot;
use super::plan::{Plan, Role};

/// The rules and their exports.
#[derive(Debug, Clone, Serialize)]
pub struct Quality {
    /// The rules.
    pub rules: Vec<Rule>,
    /// dbt `schema.yml` (YAML).
    pub dbt: String,
    /// A Great Expectations 1.x suite (JSON).
    pub great_expectations: Value,
    /// An ODCS v3.1 quality block (YAML).
    pub odcs: String,
}

fn rule(
    dataset: &str,
    key: String,
    title: String,
    columns: Vec<String>,
    check: Check,
    origin: &str,
) -> Rule {
    let dimension = check.default_dimension().to_owned();
    Rule {
        iri: String::new(),
        key,
        title,
        description: None,
        dataset: dataset.to_owned(),
        columns,
        check,
        dimension,
        severity: "error".into(),
        origin: origin.to_owned(),
    }
}

/// The product's rules; `dataset` is its output dataset (`SYSTEM/NAME`), `table` its table.
pub fn product_rules(
    snap: &Snapshot,
    plan: &Plan,
    model: &Model,
    dataset: &str,
    table: &str,
) -> Quality {
    let mut rules = Vec::new();
    for c in &model.columns {
        if !c.nullable {
            rules.push(rule(
                dataset,
                format!("{table}-{}-not-null", c.name.replace('_', "-")),
                format!("{} is always set", c.name),
                vec![c.name.clone()],
                Check::NotNull {
                    max_null_rate: None,
                },
                "schema",
            ));
        }
    }
    if !model.primary_key.is_empty() && plan.top.is_none() {
        rules.push(rule(
            dataset,
            format!("{table}-key-unique"),
            format!("one row per {}", model.primary_key.join(", ")),
            model.primary_key.clone(),
            Check::Unique,
            "schema",
        ));
    }
    rules.push(rule(
        dataset,
        format!("{table}-not-empty"),
        "the product is never empty".into(),
        Vec::new(),
        Check::RowCount {
            min: Some(1),
            max: None,
        },
        "schema",
    ));
    // Timeliness: a daily or weekly series is expected within two days of its period.
    if let Some(time) = model.columns.iter().find(|c| c.role == Role::Time)
        && plan.top.is_none()
    {
        let hours = match time.name.rsplit('_').next() {
            Some("day") => 48.0,
            Some("week") => 24.0 * 9.0,
            Some("month") => 24.0 * 33.0,
            Some("quarter") => 24.0 * 95.0,
            _ => 24.0 * 368.0,
        };
        let mut r = rule(
            dataset,
            format!("{table}-fresh"),
            format!("the latest {} is recent", time.name),
            vec![time.name.clone()],
            Check::Freshness {
                column: time.name.clone(),
                max_age_hours: hours,
            },
            "domain",
        );
        r.severity = "warn".into();
        rules.push(r);
    }
    // The glossary: measures' natural bounds.
    for c in model.columns.iter().filter(|c| c.role == Role::Measure) {
        let label = c
            .term
            .as_deref()
            .and_then(|t| snap.term(t))
            .map(|t| t.label.to_ascii_lowercase())
            .unwrap_or_default();
        let (min, max) = if label.contains("rate") {
            (Some(json!(0)), Some(json!(1)))
        } else if label.contains("margin") || label.contains("score") {
            continue;
        } else {
            (Some(json!(0)), None)
        };
        rules.push(rule(
            dataset,
            format!("{table}-{}-range", c.name.replace('_', "-")),
            format!(
                "{} is {}",
                c.name,
                if max.is_some() {
                    "a share between 0 and 1"
                } else {
                    "never negative"
                }
            ),
            vec![c.name.clone()],
            Check::Range { min, max },
            "glossary",
        ));
    }
    let great_expectations =
        serde_json::from_str(&export(Format::GreatExpectations, dataset, table, &rules))
            .unwrap_or(Value::Null);
    let odcs = export(Format::Odcs, dataset, table, &rules);
    let dbt = dbt_tests(model, table, &rules);
    Quality {
        rules,
        dbt,
        great_expectations,
        odcs,
    }
}

/// dbt `schema.yml`: column tests for single-column rules, model tests for the rest
/// (dbt_utils for combinations, ranges and recency).
fn dbt_tests(model: &Model, table: &str, rules: &[Rule]) -> String {
    let mut columns = Vec::new();
    for c in &model.columns {
        let mut tests = Vec::new();
        for r in rules
            .iter()
            .filter(|r| r.columns.len() == 1 && r.columns[0] == c.name)
        {
            match &r.check {
                Check::NotNull { .. } => tests.push(json!("not_null")),
                Check::Unique => tests.push(json!("unique")),
                Check::AcceptedValues { values } => {
                    tests.push(json!({"accepted_values": {"values": values}}))
                }
                Check::Range { min, max } => {
                    let mut args = serde_json::Map::new();
                    if let Some(v) = min {
                        args.insert("min_value".into(), v.clone());
                    }
                    if let Some(v) = max {
                        args.insert("max_value".into(), v.clone());
                    }
                    tests.push(json!({"dbt_utils.accepted_range": args}));
                }
                _ => {}
            }
        }
        let mut col =
            json!({"name": c.name, "description": c.description, "data_type": c.sql_type});
        if !tests.is_empty() {
            col["data_tests"] = Value::Array(tests);
        }
        columns.push(col);
    }
    let mut model_tests = Vec::new();
    for r in rules {
        match &r.check {
            Check::Unique if r.columns.len() > 1 => model_tests.push(json!({
                "dbt_utils.unique_combination_of_columns": {"combination_of_columns": r.columns}
            })),
            Check::RowCount { min: Some(n), .. } => model_tests.push(json!({
                "dbt_utils.expression_is_true": {"expression": format!("(select count(*) from {{{{ this }}}}) >= {n}")}
            })),
            Check::Freshness { column, max_age_hours } => model_tests.push(json!({
                "dbt_utils.recency": {"datepart": "hour", "field": column, "interval": max_age_hours.round() as i64,
                                      "config": {"severity": r.severity}}
            })),
            _ => {}
        }
    }
    let mut m = json!({"name": table, "columns": columns});
    if !model_tests.is_empty() {
        m["data_tests"] = Value::Array(model_tests);
    }
    yaml(&json!({"version": 2, "models": [m]}))
}
