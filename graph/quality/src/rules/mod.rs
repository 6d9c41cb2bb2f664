//! Data-quality rules: what they check, how they are generated, run, scored and exported.
//!
//! A rule is read from the graph whatever wrote it (a dbt test, a PostgreSQL constraint, a
//! suggestion a steward applied, a rule written by hand) and becomes a typed [`Check`]. Row
//! checks select their failing rows with one SQL predicate ([`Check::failing_predicate`]):
//! PostgreSQL runs it by push-down, and files evaluate the same predicate row by row
//! ([`expr`]). Uniqueness, references, volume and freshness are aggregates with the same
//! meaning on both.

pub mod anomaly;
pub mod assess;
pub mod export;
pub mod expr;
pub mod run;
pub mod score;
pub mod store;
pub mod suggest;

use std::collections::BTreeMap;

use govgraph_graph::GraphStore;
use govgraph_graph::iri::DatasetKey;
use oxigraph::model::Term;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::Result;

/// What a rule checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Check {
    /// No nulls; or, with `max_null_rate`, at most that share (0 to 1) of nulls.
    NotNull {
        /// The share of nulls tolerated.
        #[serde(skip_serializing_if = "Option::is_none")]
        max_null_rate: Option<f64>,
    },
    /// No value (or combination of the rule's columns) occurs twice; nulls are ignored.
    Unique,
    /// Every non-null value is one of `values`.
    AcceptedValues {
        /// The allowed values, as text.
        values: Vec<String>,
    },
    /// Every non-null value lies within the bounds (numbers, or dates as `YYYY-MM-DD`).
    Range {
        /// The lower bound, inclusive.
        #[serde(skip_serializing_if = "Option::is_none")]
        min: Option<Value>,
        /// The upper bound, inclusive.
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<Value>,
    },
    /// Every non-null value matches the regular expression.
    Regex {
        /// The pattern (POSIX-compatible subset: PostgreSQL runs it with `~`).
        pattern: String,
    },
    /// The dataset's row count lies within the bounds.
    RowCount {
        /// The least rows.
        #[serde(skip_serializing_if = "Option::is_none")]
        min: Option<u64>,
        /// The most rows.
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<u64>,
    },
    /// The newest value of `column` is at most `max_age_hours` old.
    Freshness {
        /// The timestamp or date column.
        column: String,
        /// The greatest age tolerated, in hours.
        max_age_hours: f64,
    },
    /// Every non-null value of the rule's columns is found in `columns` of `references`.
    Referential {
        /// The referenced dataset, in the rule's system.
        references: String,
        /// The referenced columns, in the order of the rule's columns.
        columns: Vec<String>,
    },
    /// A SQL condition every row must meet (a check constraint: rows where it is false fail),
    /// or a query selecting the failing rows.
    CustomSql {
        /// The SQL.
        expression: String,
    },
}

impl Check {
    /// The rule type stored in `gg:ruleType`.
    pub fn rule_type(&self) -> &'static str {
        match self {
            Self::NotNull { .. } => "not_null",
            Self::Unique => "unique",
            Self::AcceptedValues { .. } => "accepted_values",
            Self::Range { .. } => "range",
            Self::Regex { .. } => "regex",
            Self::RowCount { .. } => "row_count",
            Self::Freshness { .. } => "freshness",
            Self::Referential { .. } => "referential",
            Self::CustomSql { .. } => "custom_sql",
        }
    }

    /// The DQV dimension a check of this kind measures by default.
    pub fn default_dimension(&self) -> &'static str {
        match self {
            Self::NotNull { .. } | Self::RowCount { .. } => "Completeness",
            Self::Unique => "Uniqueness",
            Self::AcceptedValues { .. } | Self::Range { .. } | Self::Regex { .. } => "Validity",
            Self::Freshness { .. } => "Timeliness",
            Self::Referential { .. } => "Consistency",
            Self::CustomSql { .. } => "Validity",
        }
    }

    /// The parameters stored in `gg:parameters`, as a JSON object.
    pub fn parameters(&self) -> Option<Value> {
        let mut v = serde_json::to_value(self).ok()?;
        let object = v.as_object_mut()?;
        object.remove("type");
        object.remove("expression");
        (!object.is_empty()).then_some(v)
    }

    /// Reads a check from a stored rule type, its parameters and its expression.
    pub fn from_stored(
        rule_type: &str,
        parameters: Option<&str>,
        expression: Option<&str>,
    ) -> std::result::Result<Self, String> {
        let p: Map<String, Value> = match parameters {
            Some(text) if !text.trim().is_empty() => match serde_json::from_str(text) {
                Ok(Value::Object(o)) => o,
                Ok(_) => return Err("parameters: expected a JSON object".to_owned()),
                Err(e) => return Err(format!("parameters: {e}")),
            },
            _ => Map::new(),
        };
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let count = |name: &str| p.get(name).and_then(Value::as_u64);
        let bound = |name: &str| p.get(name).filter(|v| !v.is_null()).cloned();
        Ok(match rule_type {
            // `mostly` is the Great Expectations spelling: the share that must be non-null.
            "not_null" => Self::NotNull {
                max_null_rate: p.get("max_null_rate").and_then(Value::as_f64).or_else(|| {
                    p.get("mostly")
                        .and_then(Value::as_f64)
                        .map(|m| ((1.0 - m) * 1e9).round() / 1e9)
                }),
            },
            "unique" => Self::Unique,
            "accepted_values" => Self::AcceptedValues {
                values: p
                    .get("values")
                    .and_then(Value::as_array)
                    .ok_or("parameters: accepted_values needs \"values\", an array")?
                    .iter()
                    .map(text)
                    .collect(),
            },
            "range" => {
                let (min, max) = (bound("min"), bound("max"));
                if min.is_none() && max.is_none() {
                    return Err("parameters: a range needs \"min\" or \"max\"".to_owned());
                }
                Self::Range { min, max }
            }
            "regex" => Self::Regex {
                pattern: p
                    .get("pattern")
                    .and_then(Value::as_str)
                    .ok_or("parameters: regex needs \"pattern\", a string")?
                    .to_owned(),
            },
            "row_count" => Self::RowCount {
                min: count("min"),
                max: count("max"),
            },
            "freshness" => Self::Freshness {
                column: p
                    .get("column")
                    .and_then(Value::as_str)
                    .ok_or("parameters: freshness needs \"column\"")?
                    .to_owned(),
                max_age_hours: match p.get("max_age_hours").and_then(Value::as_f64) {
                    Some(h) => h,
                    None => p
                        .get("max_age")
                        .and_then(Value::as_str)
                        .and_then(duration_hours)
                        .ok_or(
                            "parameters: freshness needs \"max_age_hours\" (a number) or \"max_age\" (an ISO 8601 duration such as \"P1D\")",
                        )?,
                },
            },
            "referential" => Self::Referential {
                references: p
                    .get("references")
                    .or_else(|| p.get("to_dataset"))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .ok_or("parameters: referential needs \"references\", a dataset")?
                    .to_owned(),
                columns: match (p.get("columns"), p.get("to_column")) {
                    (Some(Value::Array(a)), _) => a.iter().map(text).collect(),
                    (_, Some(c)) => vec![text(c)],
                    _ => Vec::new(),
                },
            },
            "custom_sql" => Self::CustomSql {
                expression: expression
                    .filter(|e| !e.trim().is_empty())
                    .ok_or("custom_sql needs an expression (gg:expression)")?
                    .to_owned(),
            },
            other => return Err(format!("unknown rule type {other:?}")),
        })
    }

    /// The SQL predicate that is true for the failing rows of a row check on `columns`, with
    /// identifiers double-quoted; `None` for aggregate checks (unique, referential, row count,
    /// freshness) and for custom SQL that is a whole query.
    pub fn failing_predicate(&self, columns: &[String]) -> Option<String> {
        let c = columns.first().map(|c| quote_ident(c));
        Some(match self {
            Self::NotNull { .. } => format!("{} IS NULL", c?),
            Self::AcceptedValues { values } => {
                let list: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
                let c = c?;
                format!(
                    "{c} IS NOT NULL AND CAST({c} AS TEXT) NOT IN ({})",
                    list.join(", ")
                )
            }
            Self::Range { min, max } => {
                let c = c?;
                let mut outside = Vec::new();
                if let Some(m) = min {
                    outside.push(format!("{c} < {}", bound_literal(m)));
                }
                if let Some(m) = max {
                    outside.push(format!("{c} > {}", bound_literal(m)));
                }
                format!("{c} IS NOT NULL AND ({})", outside.join(" OR "))
            }
            Self::Regex { pattern } => {
                let c = c?;
                format!(
                    "{c} IS NOT NULL AND CAST({c} AS TEXT) !~ {}",
                    quote_literal(pattern)
                )
            }
            Self::CustomSql { expression } if !is_query(expression) => {
                format!("NOT ({expression})")
            }
            Self::CustomSql { expression } => counted_condition(expression)?,
            _ => return None,
        })
    }
}

/// Hours in an ISO 8601 duration (`P1D`, `PT6H`, `P1DT12H`, `P2W`; a year is 365.25 days and
/// a month a twelfth of that).
pub fn duration_hours(text: &str) -> Option<f64> {
    let t = text.trim().to_ascii_uppercase();
    let rest = t.strip_prefix('P')?;
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut hours = 0.0;
    let mut seen = false;
    let date_units: &[(char, f64)] = &[('Y', 8766.0), ('M', 730.5), ('W', 168.0), ('D', 24.0)];
    let time_units: &[(char, f64)] = &[('H', 1.0), ('M', 1.0 / 60.0), ('S', 1.0 / 3600.0)];
    for (part, units) in [(date, date_units), (time, time_units)] {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let factor = units.iter().find(|(u, _)| *u == c)?.1;
            hours += number.parse::<f64>().ok()? * factor;
            number.clear();
            seen = true;
        }
        if !number.is_empty() {
            return None;
        }
    }
    seen.then_some(hours)
}

/// For custom SQL of the form `SELECT COUNT(*) FROM table WHERE condition`: the condition,
/// which selects the failing rows of that one table.
pub fn counted_condition(sql: &str) -> Option<String> {
    use sqlparser::ast::{Expr, FunctionArguments, SelectItem, SetExpr, Statement};
    let statements =
        sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, sql)
            .ok()?;
    let [Statement::Query(q)] = statements.as_slice() else {
        return None;
    };
    let SetExpr::Select(select) = q.body.as_ref() else {
        return None;
    };
    let [SelectItem::UnnamedExpr(Expr::Function(f))] = select.projection.as_slice() else {
        return None;
    };
    let single_table =
        select.from.len() == 1 && select.from.first().is_some_and(|t| t.joins.is_empty());
    let count_star = f.name.to_string().eq_ignore_ascii_case("count")
        && matches!(&f.args, FunctionArguments::List(l) if l.args.len() == 1 && l.args.first().is_some_and(|a| a.to_string() == "*"));
    if !(single_table
        && count_star
        && q.with.is_none()
        && select.group_by == sqlparser::ast::GroupByExpr::Expressions(vec![], vec![]))
    {
        return None;
    }
    select.selection.as_ref().map(ToString::to_string)
}

/// Whether custom SQL is a whole query (selecting the failing rows) rather than a condition.
pub fn is_query(sql: &str) -> bool {
    let head = sql.trim_start().to_ascii_lowercase();
    head.starts_with("select") || head.starts_with("with")
}

/// `"name"`, with inner quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, with inner quotes doubled.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn bound_literal(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote_literal(s),
        other => quote_literal(&other.to_string()),
    }
}

/// A rule as it applies to one dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// The rule's IRI.
    pub iri: String,
    /// The rule's key (the last segment of its IRI).
    pub key: String,
    /// Its title.
    pub title: String,
    /// Why it exists or what it means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The dataset, as `SYSTEM/NAME`.
    pub dataset: String,
    /// The columns it checks, as the source spells them; empty for dataset checks.
    pub columns: Vec<String>,
    /// What it checks.
    pub check: Check,
    /// The DQV dimension's local name, such as `Completeness`.
    pub dimension: String,
    /// `error` or `warn`.
    pub severity: String,
    /// Where it comes from: `dbt`, `postgres`, `openlineage`, `suggested`, or the source
    /// graph that holds it.
    pub origin: String,
}

/// A stored rule that could not be read as a check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnreadableRule {
    /// The rule's key.
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A term's text: a literal's value or an IRI.
pub(crate) fn text(t: Option<&Term>) -> Option<String> {
    match t {
        Some(Term::Literal(l)) => Some(l.value().to_owned()),
        Some(Term::NamedNode(n)) => Some(n.as_str().to_owned()),
        _ => None,
    }
}

/// The origin of a rule from the source graph that holds it.
fn origin(graph: &str) -> String {
    let name = graph
        .strip_prefix(govgraph_graph::vocab::graphs::PREFIX)
        .unwrap_or(graph);
    let name = name.split(['/', ':']).next().unwrap_or(name);
    match name {
        "quality-rules" => "suggested".to_owned(),
        other => other.to_owned(),
    }
}

/// The rules that apply to `dataset` or to its columns, whatever source wrote them, with the
/// rules that could not be read.
pub fn catalog_rules(
    store: &GraphStore,
    dataset: &DatasetKey,
) -> Result<(Vec<Rule>, Vec<UnreadableRule>)> {
    let iri = store.scheme().dataset(dataset);
    let rows = store.select(&format!(
        "SELECT ?rule ?g ?type ?title ?description ?params ?expr ?severity ?dim ?name ?ordinal WHERE {{
           GRAPH ?g {{ ?rule a gg:QualityRule ; gg:ruleType ?type }}
           {{ ?rule gg:appliesTo ?col . ?col gg:columnOf {iri} ; csvw:name ?name .
              OPTIONAL {{ ?col gg:ordinal ?ordinal }} }}
           UNION {{ ?rule gg:appliesTo {iri} }}
           OPTIONAL {{ ?rule dct:title ?title }}
           OPTIONAL {{ ?rule dct:description ?description }}
           OPTIONAL {{ ?rule gg:parameters ?params }}
           OPTIONAL {{ ?rule gg:expression ?expr }}
           OPTIONAL {{ ?rule gg:severity ?severity }}
           OPTIONAL {{ ?rule dqv:inDimension ?dim }}
         }} ORDER BY ?rule ?ordinal ?name"
    ))?;
    let mut by_rule: BTreeMap<String, Rule> = BTreeMap::new();
    let mut unreadable = Vec::new();
    let label = format!("{}/{}", dataset.system, dataset.name);
    for row in &rows {
        let Some(iri) = text(row.get("rule")) else {
            continue;
        };
        let name = text(row.get("name"));
        if let Some(rule) = by_rule.get_mut(&iri) {
            if let Some(n) = name
                && !rule.columns.contains(&n)
            {
                rule.columns.push(n);
            }
            continue;
        }
        let key = iri.rsplit('/').next().unwrap_or(&iri).to_owned();
        let rule_type = text(row.get("type")).unwrap_or_default();
        // The anomaly check is the metric history's, not a check of rows (see `anomaly`).
        if rule_type == "anomaly" {
            continue;
        }
        let check = match Check::from_stored(
            &rule_type,
            text(row.get("params")).as_deref(),
            text(row.get("expr")).as_deref(),
        ) {
            Ok(c) => c,
            Err(reason) => {
                if !unreadable.iter().any(|u: &UnreadableRule| u.key == key) {
                    unreadable.push(UnreadableRule { key, reason });
                }
                continue;
            }
        };
        let dimension = text(row.get("dim"))
            .and_then(|d| d.rsplit('#').next().map(str::to_owned))
            .unwrap_or_else(|| check.default_dimension().to_owned());
        let rule = Rule {
            iri: iri.clone(),
            title: text(row.get("title")).unwrap_or_else(|| key.clone()),
            key,
            description: text(row.get("description")),
            dataset: label.clone(),
            columns: name.into_iter().collect(),
            dimension,
            severity: text(row.get("severity")).unwrap_or_else(|| "error".to_owned()),
            origin: origin(&text(row.get("g")).unwrap_or_default()),
            check,
        };
        by_rule.insert(iri, rule);
    }
    Ok((by_rule.into_values().collect(), unreadable))
}

/// The catalog's columns of `dataset`, in order, as the source spells them.
pub fn catalog_columns(store: &GraphStore, dataset: &DatasetKey) -> Result<Vec<String>> {
    let iri = store.scheme().dataset(dataset);
    let rows = store.select(&format!(
        "SELECT DISTINCT ?name ?ordinal WHERE {{
           ?col gg:columnOf {iri} ; csvw:name ?name . OPTIONAL {{ ?col gg:ordinal ?ordinal }}
         }} ORDER BY ?ordinal ?name"
    ))?;
    let mut out: Vec<String> = Vec::new();
    for r in &rows {
        if let Some(n) = text(r.get("name"))
            && !out.contains(&n)
        {
            out.push(n);
        }
    }
    Ok(out)
}
