//! Modelling and transformation: from the intent to a target schema and the SQL that fills
//! it. Joins follow many-to-one paths only (a column to another dataset's single-column
//! primary key, through a shared glossary term or name), so measures never fan out.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::ControlFlow;

use serde::Serialize;
use sqlparser::ast::{DataType, Expr, Ident, visit_expressions_mut};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use super::catalog::Snapshot;
use super::intent::Granularity;
use crate::error::{Error, Result};

/// What a target column is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The time bucket.
    Time,
    /// A grouping attribute.
    Dimension,
    /// An aggregate.
    Measure,
    /// A plain attribute (a listing without measures).
    Attribute,
}

/// A column of the target schema and how it is computed.
#[derive(Debug, Clone, Serialize)]
pub struct TargetColumn {
    /// Its name.
    pub name: String,
    /// Its declared SQL type.
    #[serde(rename = "type")]
    pub sql_type: String,
    /// What it means.
    pub description: String,
    /// Its role.
    pub role: Role,
    /// Whether it is part of the primary key.
    pub primary_key: bool,
    /// Whether it may be null.
    pub nullable: bool,
    /// The glossary term it implements (IRI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    /// The catalog columns it is computed from (IRIs).
    pub sources: Vec<String>,
    #[serde(skip)]
    pub(crate) expr: Part,
}

/// A piece of SQL that depends on the dialect only through the time truncation.
#[derive(Debug, Clone, Default)]
pub(crate) enum Part {
    /// Plain SQL.
    #[default]
    Empty,
    /// SQL text, already qualified.
    Sql(String),
    /// `DATE_TRUNC(unit, column)` as a date.
    Trunc(Granularity, String),
}

/// A join of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Join {
    /// The joined dataset (`SYSTEM/NAME`).
    pub dataset: String,
    /// Its table name in SQL.
    pub table: String,
    /// Its alias.
    pub alias: String,
    /// The join condition.
    pub on: String,
    #[serde(skip)]
    pub(crate) index: usize,
}

/// The logical plan: what the SQL reads, joins, keeps and computes.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The dataset whose rows are aggregated.
    pub base: usize,
    /// Its alias.
    pub base_alias: String,
    /// The joins, in order.
    pub joins: Vec<Join>,
    /// The target columns.
    pub columns: Vec<TargetColumn>,
    /// Row conditions (qualified SQL), each with where it comes from.
    pub conditions: Vec<(String, String)>,
    /// Whether the query aggregates.
    pub aggregate: bool,
    /// `LIMIT` with the measure to order by (descending when true).
    pub top: Option<(u64, bool)>,
}

/// Join edges of the catalog, computed once per snapshot: `(from column, to column)` where
/// `to` is its dataset's single-column primary key.
pub(crate) fn join_edges(snap: &Snapshot) -> Vec<(usize, usize)> {
    let mut pk: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, c) in snap.columns.iter().enumerate() {
        if c.primary_key {
            pk.entry(c.dataset).or_default().push(i);
        }
    }
    let mut edges = Vec::new();
    for (from, a) in snap.columns.iter().enumerate() {
        for (&d, keys) in &pk {
            if d == a.dataset || keys.len() != 1 {
                continue;
            }
            let to = keys[0];
            let b = &snap.columns[to];
            if snap.datasets[d].system != snap.datasets[a.dataset].system {
                continue;
            }
            let shared_term = a.terms.iter().any(|t| b.terms.contains(t));
            let same_name = a.name.eq_ignore_ascii_case(&b.name);
            if (shared_term || same_name)
                && type_family(a.data_type.as_deref()) == type_family(b.data_type.as_deref())
            {
                edges.push((from, to));
            }
        }
    }
    edges
}

/// Datasets reachable from `base` by many-to-one joins, with the path of edges to each.
pub(crate) fn reachable(
    snap: &Snapshot,
    edges: &[(usize, usize)],
    base: usize,
    max_hops: usize,
) -> BTreeMap<usize, Vec<(usize, usize)>> {
    let mut paths: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    paths.insert(base, Vec::new());
    let mut queue = VecDeque::from([base]);
    while let Some(d) = queue.pop_front() {
        let path = paths[&d].clone();
        if path.len() >= max_hops {
            continue;
        }
        for &(from, to) in edges {
            if snap.columns[from].dataset != d {
                continue;
            }
            let target = snap.columns[to].dataset;
            if paths.contains_key(&target) {
                continue;
            }
            let mut p = path.clone();
            p.push((from, to));
            paths.insert(target, p);
            queue.push_back(target);
        }
    }
    paths
}

/// A coarse type family for compatibility checks.
pub fn type_family(t: Option<&str>) -> &'static str {
    let t = t.unwrap_or("").to_ascii_lowercase();
    if t.is_empty() {
        "unknown"
    } else if t.contains("int") || t == "long" {
        "integer"
    } else if t.contains("decimal")
        || t.contains("numeric")
        || t.contains("double")
        || t.contains("float")
        || t.contains("real")
    {
        "number"
    } else if t.contains("timestamp") || t.contains("datetime") {
        "timestamp"
    } else if t == "date" {
        "date"
    } else if t.contains("bool") {
        "boolean"
    } else {
        "text"
    }
}

/// The declared type of a catalog type, normalised.
pub fn normal_type(t: Option<&str>) -> String {
    match type_family(t) {
        "integer" => "bigint".into(),
        "number" => {
            let t = t.unwrap_or("").to_ascii_lowercase();
            if t.starts_with("decimal") || t.starts_with("numeric") {
                t.replace(' ', "")
            } else {
                "double".into()
            }
        }
        "timestamp" => "timestamp".into(),
        "date" => "date".into(),
        "boolean" => "boolean".into(),
        _ => "varchar".into(),
    }
}

/// Parses one SQL expression of the catalog (a measure, a filter, a row filter).
pub(crate) fn parse_expr(sql: &str) -> Result<Expr> {
    Parser::new(&GenericDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| Error::Invalid(format!("the catalog's SQL expression {sql:?}: {e}")))
}

/// Builds the plan's SQL-facing state while it resolves names.
pub(crate) struct Builder<'a> {
    pub snap: &'a Snapshot,
    pub base: usize,
    pub paths: BTreeMap<usize, Vec<(usize, usize)>>,
    pub aliases: BTreeMap<usize, String>,
    pub joins: Vec<Join>,
}

impl<'a> Builder<'a> {
    /// A builder over `base`, joining along `edges` (from [`join_edges`]).
    pub fn new(snap: &'a Snapshot, edges: &[(usize, usize)], base: usize) -> Self {
        let paths = reachable(snap, edges, base, 2);
        let mut b = Self {
            snap,
            base,
            paths,
            aliases: BTreeMap::new(),
            joins: Vec::new(),
        };
        let alias = b.fresh_alias(base);
        b.aliases.insert(base, alias);
        b
    }

    fn fresh_alias(&self, d: usize) -> String {
        let table = self.snap.datasets[d]
            .name
            .rsplit('.')
            .next()
            .unwrap_or("t")
            .to_ascii_lowercase();
        let first: String = table
            .chars()
            .filter(char::is_ascii_alphabetic)
            .take(1)
            .collect();
        let stem = if first.is_empty() {
            "t".to_owned()
        } else {
            first
        };
        let taken: BTreeSet<&String> = self.aliases.values().collect();
        if !taken.contains(&stem) {
            return stem;
        }
        (2..)
            .map(|n| format!("{stem}{n}"))
            .find(|a| !taken.contains(a))
            .unwrap_or(stem)
    }

    /// Whether dataset `d` can be joined.
    pub fn can_reach(&self, d: usize) -> bool {
        self.paths.contains_key(&d)
    }

    /// The alias of dataset `d`, joining it (and the datasets on its path) on first use.
    pub fn alias(&mut self, d: usize) -> Option<String> {
        if let Some(a) = self.aliases.get(&d) {
            return Some(a.clone());
        }
        let path = self.paths.get(&d)?.clone();
        for (from, to) in path {
            let target = self.snap.columns[to].dataset;
            if self.aliases.contains_key(&target) {
                continue;
            }
            let from_alias = self.aliases.get(&self.snap.columns[from].dataset)?.clone();
            let alias = self.fresh_alias(target);
            self.aliases.insert(target, alias.clone());
            let ds = &self.snap.datasets[target];
            self.joins.push(Join {
                dataset: ds.id.clone(),
                table: ds.name.clone(),
                on: format!(
                    "{alias}.{} = {from_alias}.{}",
                    self.snap.columns[to].name, self.snap.columns[from].name
                ),
                alias,
                index: target,
            });
        }
        self.aliases.get(&d).cloned()
    }

    /// `alias.column` for column `c`, joining its dataset.
    pub fn column_ref(&mut self, c: usize) -> Option<String> {
        let col = &self.snap.columns[c];
        let alias = self.alias(col.dataset)?;
        Some(format!("{alias}.{}", col.name))
    }

    /// Qualifies an expression written over `dataset`'s columns (and over joinable
    /// datasets' columns as `table.column`); returns the SQL and the source columns.
    pub fn qualify(&mut self, sql: &str, dataset: usize) -> Result<(String, Vec<usize>)> {
        let mut expr = parse_expr(sql)?;
        let mut sources = Vec::new();
        let mut failure = None;
        let _ = visit_expressions_mut(&mut expr, |e| {
            match e {
                Expr::Identifier(ident) => {
                    if let Some(c) = self.snap.column_named(dataset, &ident.value) {
                        match self.alias(dataset) {
                            Some(a) => {
                                sources.push(c);
                                *e = Expr::CompoundIdentifier(vec![Ident::new(a), ident.clone()]);
                            }
                            None => {
                                failure = Some(format!(
                                    "{} cannot be joined",
                                    self.snap.datasets[dataset].name
                                ))
                            }
                        }
                    }
                }
                Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                    let table = parts[0].value.clone();
                    let column = parts[1].value.clone();
                    match self.snap.dataset_by_table(&table, self.base) {
                        Some(d) => match (self.snap.column_named(d, &column), self.alias(d)) {
                            (Some(c), Some(a)) => {
                                sources.push(c);
                                *e = Expr::CompoundIdentifier(vec![
                                    Ident::new(a),
                                    Ident::new(column),
                                ]);
                            }
                            (None, _) => failure = Some(format!("{table} has no column {column}")),
                            (_, None) => {
                                failure = Some(format!(
                                    "{table} cannot be joined to {} (no many-to-one path)",
                                    self.snap.datasets[self.base].name
                                ))
                            }
                        },
                        None => failure = Some(format!("no dataset named {table}")),
                    }
                }
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
        if let Some(f) = failure {
            return Err(Error::Invalid(format!("{sql:?}: {f}")));
        }
        sources.sort_unstable();
        sources.dedup();
        Ok((expr.to_string(), sources))
    }
}

/// A dialect the product's SQL can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SqlDialect {
    /// DuckDB.
    DuckDb,
    /// PostgreSQL.
    Postgres,
    /// Amazon Redshift.
    Redshift,
    /// Snowflake.
    Snowflake,
    /// Google BigQuery.
    BigQuery,
    /// Databricks SQL / Spark SQL.
    Databricks,
    /// Apache DataFusion (the engine that proves the SQL runs).
    DataFusion,
}

impl SqlDialect {
    /// Every dialect.
    pub const ALL: [SqlDialect; 7] = [
        Self::DuckDb,
        Self::Postgres,
        Self::Redshift,
        Self::Snowflake,
        Self::BigQuery,
        Self::Databricks,
        Self::DataFusion,
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::DuckDb => "duckdb",
            Self::Postgres => "postgres",
            Self::Redshift => "redshift",
            Self::Snowflake => "snowflake",
            Self::BigQuery => "bigquery",
            Self::Databricks => "databricks",
            Self::DataFusion => "datafusion",
        }
    }

    /// Parses a dialect name (`spark` is Databricks, `postgresql` is PostgreSQL).
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        Ok(match s.as_str() {
            "duckdb" => Self::DuckDb,
            "postgres" | "postgresql" => Self::Postgres,
            "redshift" => Self::Redshift,
            "snowflake" => Self::Snowflake,
            "bigquery" => Self::BigQuery,
            "databricks" | "spark" | "sparksql" => Self::Databricks,
            "datafusion" | "generic" | "ansi" => Self::DataFusion,
            other => {
                return Err(Error::Invalid(format!(
                    "unknown dialect {other:?}; expected one of {}",
                    Self::ALL.map(Self::name).join(", ")
                )));
            }
        })
    }

    /// The lineage engine's grammar for this dialect.
    pub fn grammar(self) -> govgraph_lineage::Dialect {
        match self {
            Self::DuckDb => govgraph_lineage::Dialect::DuckDb,
            Self::Postgres => govgraph_lineage::Dialect::Postgres,
            Self::Redshift => govgraph_lineage::Dialect::Redshift,
            Self::Snowflake => govgraph_lineage::Dialect::Snowflake,
            Self::BigQuery => govgraph_lineage::Dialect::BigQuery,
            Self::Databricks => govgraph_lineage::Dialect::Databricks,
            Self::DataFusion => govgraph_lineage::Dialect::Generic,
        }
    }

    fn trunc(self, g: Granularity, column: &str) -> String {
        match self {
            Self::BigQuery => {
                let unit = match g {
                    Granularity::Week => "WEEK(MONDAY)".to_owned(),
                    other => other.unit().to_ascii_uppercase(),
                };
                format!("DATE_TRUNC(CAST({column} AS DATE), {unit})")
            }
            _ => format!("CAST(DATE_TRUNC('{}', {column}) AS DATE)", g.unit()),
        }
    }

    /// Rewrites the types of CASTs for this dialect (DOUBLE, DECIMAL...).
    fn cast_types(self, sql: &str) -> String {
        let Ok(mut expr) = parse_expr(sql) else {
            return sql.to_owned();
        };
        let _ = visit_expressions_mut(&mut expr, |e| {
            if let Expr::Cast { data_type, .. } = e {
                let replacement = match (self, &*data_type) {
                    (Self::Postgres | Self::Redshift, DataType::Double(_)) => {
                        Some(DataType::DoublePrecision)
                    }
                    (Self::BigQuery, DataType::Double(_)) => Some(DataType::Float64),
                    _ => None,
                };
                if let Some(r) = replacement {
                    *data_type = r;
                }
            }
            ControlFlow::<()>::Continue(())
        });
        expr.to_string()
    }
}

impl Plan {
    fn part(&self, p: &Part, dialect: SqlDialect) -> String {
        match p {
            Part::Empty => String::new(),
            Part::Sql(s) => dialect.cast_types(s),
            Part::Trunc(g, c) => dialect.trunc(*g, c),
        }
    }

    /// The SQL in `dialect`: one SELECT, formatted for people.
    pub fn sql(&self, snap: &Snapshot, dialect: SqlDialect) -> String {
        let mut out = String::from("SELECT\n");
        let select: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("    {} AS {}", self.part(&c.expr, dialect), c.name))
            .collect();
        out.push_str(&select.join(",\n"));
        out.push_str(&format!(
            "\nFROM {} AS {}",
            snap.datasets[self.base].name, self.base_alias
        ));
        for j in &self.joins {
            out.push_str(&format!(
                "\nLEFT JOIN {} AS {} ON {}",
                j.table, j.alias, j.on
            ));
        }
        if !self.conditions.is_empty() {
            let conds: Vec<String> = self
                .conditions
                .iter()
                .map(|(c, _)| format!("({})", dialect.cast_types(c)))
                .collect();
            out.push_str(&format!("\nWHERE {}", conds.join("\n  AND ")));
        }
        let keys: Vec<&TargetColumn> = self
            .columns
            .iter()
            .filter(|c| matches!(c.role, Role::Time | Role::Dimension))
            .collect();
        if self.aggregate && !keys.is_empty() {
            let group: Vec<String> = keys.iter().map(|c| self.part(&c.expr, dialect)).collect();
            out.push_str(&format!("\nGROUP BY {}", group.join(", ")));
        }
        match self.top {
            Some((n, descending)) => {
                if let Some(m) = self.columns.iter().find(|c| c.role == Role::Measure) {
                    let mut order = vec![format!(
                        "{} {}",
                        m.name,
                        if descending { "DESC" } else { "ASC" }
                    )];
                    order.extend(keys.iter().map(|c| c.name.clone()));
                    out.push_str(&format!("\nORDER BY {}", order.join(", ")));
                }
                out.push_str(&format!("\nLIMIT {n}"));
            }
            None => {
                let order: Vec<String> = if keys.is_empty() {
                    self.columns
                        .iter()
                        .filter(|c| c.primary_key)
                        .map(|c| c.name.clone())
                        .collect()
                } else {
                    keys.iter().map(|c| c.name.clone()).collect()
                };
                if !order.is_empty() {
                    out.push_str(&format!("\nORDER BY {}", order.join(", ")));
                }
            }
        }
        out
    }
}
