//! The product's quality rules: from its schema (keys, required columns, not empty), from
//! the standards stewards attached to its glossary terms and its domain, from a timeliness
//! expectation by grain when the domain sets none (a time series must be recent), and from the glossary
//! (amounts and counts are never negative, rates lie between 0 and 1). Exported as dbt tests,
//! a Great Expectations suite and an ODCS quality block.

use govgraph_quality::rules::export::{Format, export, yaml};
use govgraph_quality::rules::{Check, Rule};
use serde::Serialize;
use serde_json::{Value, json};

use govgraph_graph::{GraphStore, Scope};

use super::Model;
use super::catalog::Snapshot;
use super::plan::{Plan, Role};
use crate::ask::kb::text;
use crate::error::Result;

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

/// The standards stewards wrote: rules attached (`gg:appliesTo`) to a glossary term one of
/// the product's columns implements, or to the product's domain. A term's value rules apply
/// to the columns implementing it; a domain's row-count and freshness rules to the product
/// (freshness on its time column).
fn standards(
    store: &GraphStore,
    scope: &Scope,
    model: &Model,
    domain: Option<&str>,
    dataset: &str,
    table: &str,
) -> Result<Vec<Rule>> {
    let mut targets: Vec<String> = model
        .columns
        .iter()
        .filter_map(|c| c.term.clone())
        .collect();
    let domain_iri = domain.map(|d| {
        store
            .scheme()
            .entity(govgraph_graph::Kind::Domain, d)
            .as_str()
            .to_owned()
    });
    targets.extend(domain_iri.clone());
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<String> = targets.iter().map(|t| crate::ask::kb::iri(t)).collect();
    let outcome = store.query_in(
        &format!(
            "SELECT ?rule ?on ?type ?title ?params ?expr ?severity WHERE {{
               VALUES ?on {{ {} }}
               ?rule a gg:QualityRule ; gg:appliesTo ?on ; gg:ruleType ?type .
               OPTIONAL {{ ?rule dct:title ?title }} OPTIONAL {{ ?rule gg:parameters ?params }}
               OPTIONAL {{ ?rule gg:expression ?expr }} OPTIONAL {{ ?rule gg:severity ?severity }}
             }} ORDER BY ?rule",
            values.join(" ")
        ),
        &Default::default(),
        scope,
    )?;
    let rows = govgraph_graph::store::collect_solutions(outcome.results, &outcome.deadline)?;
    let time = model
        .columns
        .iter()
        .find(|c| c.role == Role::Time)
        .map(|c| c.name.clone());
    let mut out = Vec::new();
    for row in &rows {
        let (Some(iri), Some(on), Some(kind)) =
            (text(row, "rule"), text(row, "on"), text(row, "type"))
        else {
            continue;
        };
        let Ok(check) = Check::from_stored(
            &kind,
            text(row, "params").as_deref(),
            text(row, "expr").as_deref(),
        ) else {
            continue;
        };
        let base = iri.rsplit('/').next().unwrap_or(&iri).to_owned();
        let title = text(row, "title").unwrap_or_else(|| base.clone());
        let (origin, columns, check) = if Some(&on) == domain_iri.as_ref() {
            match check {
                Check::RowCount { .. } => ("domain", Vec::new(), check),
                Check::Freshness { max_age_hours, .. } => match &time {
                    Some(t) => (
                        "domain",
                        vec![t.clone()],
                        Check::Freshness {
                            column: t.clone(),
                            max_age_hours,
                        },
                    ),
                    None => continue,
                },
                _ => continue,
            }
        } else {
            match check {
                Check::NotNull { .. }
                | Check::AcceptedValues { .. }
                | Check::Range { .. }
                | Check::Regex { .. } => {
                    let cols: Vec<String> = model
                        .columns
                        .iter()
                        .filter(|c| {
                            c.term.as_deref() == Some(on.as_str()) && c.role != Role::Measure
                        })
                        .map(|c| c.name.clone())
                        .collect();
                    if cols.is_empty() {
                        continue;
                    }
                    ("glossary", cols, check)
                }
                _ => continue,
            }
        };
        for c in if columns.is_empty() {
            vec![None]
        } else {
            columns.into_iter().map(Some).collect()
        } {
            let mut r = rule(
                dataset,
                format!(
                    "{table}-{}{}",
                    base,
                    c.as_deref()
                        .map(|c| format!("-{}", c.replace('_', "-")))
                        .unwrap_or_default()
                ),
                format!(
                    "{}{title}",
                    c.as_deref().map(|c| format!("{c}: ")).unwrap_or_default()
                ),
                c.into_iter().collect(),
                check.clone(),
                origin,
            );
            r.description = Some(format!("From the {origin} standard {base}."));
            r.severity = text(row, "severity").unwrap_or_else(|| "error".into());
            out.push(r);
        }
    }
    Ok(out)
}

/// The product's rules; `dataset` is its output dataset (`SYSTEM/NAME`), `table` its table.
#[allow(clippy::too_many_arguments)]
pub fn product_rules(
    store: &GraphStore,
    scope: &Scope,
    snap: &Snapshot,
    plan: &Plan,
    model: &Model,
    domain: Option<&str>,
    dataset: &str,
    table: &str,
) -> Result<Quality> {
    let mut rules = standards(store, scope, model, domain, dataset, table)?;
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
        && !rules
            .iter()
            .any(|r| matches!(r.check, Check::Freshness { .. }))
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
    Ok(Quality {
        rules,
        dbt,
        great_expectations,
        odcs,
    })
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
