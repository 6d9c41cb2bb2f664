//! Packaging: the data product's spec, aligned with DPROD (input and output ports, owner,
//! domain, lifecycle status) and ODCS (schema, quality, SLA), validated against the JSON
//! Schema in `agents/schema/data-product.schema.json` before anything leaves the builder.

use std::sync::OnceLock;

use govgraph_graph::GraphStore;
use serde::Serialize;
use serde_json::Value;

use super::catalog::Snapshot;
use super::intent::{Ambiguity, Intent};
use super::plan::{Plan, SqlDialect};
use super::rules::Quality;
use super::{Discovery, Model, ProductRequest, Security, Transformation};
use crate::error::{Error, Result};

/// The JSON Schema every spec is validated against.
pub const SCHEMA: &str = include_str!("../../schema/data-product.schema.json");

/// A port: a dataset the product reads or writes.
#[derive(Debug, Clone, Serialize)]
pub struct Port {
    /// `SYSTEM/NAME`.
    pub dataset: String,
    /// Its IRI.
    pub iri: String,
    /// The table name in SQL.
    pub table: String,
    /// The columns read (input) or written (output).
    pub columns: Vec<String>,
    /// `parquet` for a materialized output, `table` otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// The ports.
#[derive(Debug, Clone, Serialize)]
pub struct Ports {
    /// What it reads.
    pub input: Vec<Port>,
    /// What it writes.
    pub output: Vec<Port>,
}

/// One source of an output column.
#[derive(Debug, Clone, Serialize)]
pub struct LineageSource {
    /// `SYSTEM/NAME`.
    pub dataset: String,
    /// The column.
    pub column: String,
    /// `DIRECT` or `INDIRECT`.
    pub transformation: String,
    /// `IDENTITY`, `TRANSFORMATION`, `AGGREGATION`, `FILTER`, `JOIN`, `GROUP_BY`...
    pub subtype: String,
}

/// An output column's lineage.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnLineage {
    /// The output column.
    pub column: String,
    /// Where it comes from.
    pub sources: Vec<LineageSource>,
}

/// Service levels.
#[derive(Debug, Clone, Serialize)]
pub struct Sla {
    /// How often it is refreshed.
    pub refresh: String,
    /// The greatest staleness tolerated, in hours.
    pub max_staleness_hours: u32,
}

/// The packaged spec.
#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    /// `govgraph.dev/v1`.
    pub api_version: String,
    /// `DataProduct`.
    pub kind: String,
    /// The product's identifier (a slug).
    pub id: String,
    /// Its IRI once registered.
    pub iri: String,
    /// Its title.
    pub title: String,
    /// What it holds.
    pub description: String,
    /// Semantic version.
    pub version: String,
    /// `draft` until registered, then `proposed`.
    pub lifecycle_status: String,
    /// The accountable owner (agent key), from its main input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The domain (key), from its main input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The request, in the requester's words.
    pub request: String,
    /// The purpose stated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Service levels.
    pub sla: Sla,
    /// What the request asks for.
    pub intent: Intent,
    /// The datasets considered.
    pub discovery: Discovery,
    /// The target model.
    pub model: Model,
    /// The SQL and what was proved about it.
    pub transformation: Transformation,
    /// The quality rules and their exports.
    pub quality: Quality,
    /// Input and output ports.
    pub ports: Ports,
    /// Column-level lineage.
    pub lineage: Vec<ColumnLineage>,
    /// Access decisions applied.
    pub security: Security,
    /// Questions for the requester.
    pub clarifications: Vec<Ambiguity>,
    /// What could not be served as asked.
    pub problems: Vec<String>,
    /// The standards the spec follows.
    pub conforms_to: Vec<String>,
}

/// Everything packaging reads.
#[allow(missing_debug_implementations)]
pub struct Parts<'a> {
    pub(crate) snap: &'a Snapshot,
    pub(crate) store: &'a GraphStore,
    pub(crate) id: &'a str,
    pub(crate) request: &'a ProductRequest,
    pub(crate) intent: &'a Intent,
    pub(crate) discovery: &'a Discovery,
    pub(crate) model: &'a Model,
    pub(crate) plan: &'a Plan,
    pub(crate) transformation: &'a Transformation,
    pub(crate) quality: &'a Quality,
    pub(crate) security: &'a Security,
    pub(crate) clarifications: Vec<Ambiguity>,
    pub(crate) problems: Vec<String>,
    pub(crate) product_dataset: &'a str,
    pub(crate) read: &'a [usize],
}

/// Column lineage of the product's SQL, through the lineage engine.
pub(crate) fn lineage(
    snap: &Snapshot,
    read: &[usize],
    sql: &str,
    dialect: SqlDialect,
) -> Vec<ColumnLineage> {
    let schema = snap.schema(read, &Default::default());
    let analysis = govgraph_lineage::analyze(
        sql,
        &schema,
        &govgraph_lineage::Options {
            dialect: dialect.grammar(),
            ..Default::default()
        },
    );
    let Some(st) = analysis.statements.first() else {
        return Vec::new();
    };
    let id_of = |table: &str| {
        read.iter()
            .find(|&&d| snap.datasets[d].name.eq_ignore_ascii_case(table))
            .map_or_else(|| table.to_owned(), |&d| snap.datasets[d].id.clone())
    };
    st.column_order
        .iter()
        .map(|name| {
            let mut sources: Vec<LineageSource> = st
                .columns
                .get(name)
                .map(|c| c.sources.clone())
                .unwrap_or_default()
                .into_iter()
                .chain(st.dataset_sources.iter().cloned())
                .map(|s| LineageSource {
                    dataset: id_of(&s.table),
                    column: s.column,
                    transformation: s.kind.as_str().to_owned(),
                    subtype: s.subtype.as_str().to_owned(),
                })
                .collect();
            sources.sort_by(|a, b| {
                (&a.dataset, &a.column, &a.transformation, &a.subtype).cmp(&(
                    &b.dataset,
                    &b.column,
                    &b.transformation,
                    &b.subtype,
                ))
            });
            sources.dedup_by(|a, b| {
                a.dataset == b.dataset
                    && a.column == b.column
                    && a.transformation == b.transformation
                    && a.subtype == b.subtype
            });
            ColumnLineage {
                column: name.clone(),
                sources,
            }
        })
        .collect()
}

fn title_of(text: &str) -> String {
    let t = text.trim();
    let mut c = t.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Assembles and validates the spec.
pub(crate) fn package(p: Parts<'_>) -> Result<Spec> {
    let snap = p.snap;
    let base = &snap.datasets[p.plan.base];
    let engine_sql = p
        .transformation
        .engine_sql
        .clone()
        .unwrap_or_else(|| p.transformation.sql.clone());
    let dialect = if p.transformation.engine_sql.is_some() {
        SqlDialect::DataFusion
    } else {
        SqlDialect::parse(&p.transformation.dialect)?
    };
    let lineage = lineage(snap, p.read, &engine_sql, dialect);
    let mut input = Vec::new();
    for &d in p.read {
        let ds = &snap.datasets[d];
        let mut columns: Vec<String> = lineage
            .iter()
            .flat_map(|l| l.sources.iter())
            .filter(|s| s.dataset == ds.id)
            .map(|s| s.column.clone())
            .collect();
        columns.sort();
        columns.dedup();
        if columns.is_empty() && d != p.plan.base {
            continue;
        }
        input.push(Port {
            dataset: ds.id.clone(),
            iri: ds.iri.clone(),
            table: ds.name.clone(),
            columns,
            format: None,
        });
    }
    let (system, name) = p
        .product_dataset
        .split_once('/')
        .unwrap_or(("products", p.product_dataset));
    let output_iri = p
        .store
        .scheme()
        .dataset(&govgraph_graph::DatasetKey {
            system: system.into(),
            name: name.into(),
        })
        .as_str()
        .to_owned();
    let output = vec![Port {
        dataset: p.product_dataset.to_owned(),
        iri: output_iri,
        table: name.to_owned(),
        columns: p.model.columns.iter().map(|c| c.name.clone()).collect(),
        format: Some(
            if p.request.materialize {
                "parquet"
            } else {
                "table"
            }
            .into(),
        ),
    }];
    let hours = p
        .model
        .columns
        .iter()
        .find(|c| c.role == super::plan::Role::Time)
        .map_or(24, |c| match c.name.rsplit('_').next() {
            Some("day") => 24,
            Some("week") => 24 * 7,
            Some("month") => 24 * 31,
            _ => 24 * 92,
        });
    let spec = Spec {
        api_version: "govgraph.dev/v1".into(),
        kind: "DataProduct".into(),
        id: p.id.to_owned(),
        iri: p
            .store
            .scheme()
            .entity(govgraph_graph::Kind::Product, p.id)
            .as_str()
            .to_owned(),
        title: title_of(&p.request.request),
        description: format!(
            "{} Built from {} ({} join(s)); one row per {}.",
            title_of(&p.request.request),
            base.name,
            p.plan.joins.len(),
            if p.model.grain.is_empty() {
                "request".to_owned()
            } else {
                p.model.grain.join(", ")
            }
        ),
        version: "1.0.0".into(),
        lifecycle_status: if p.request.register || p.request.materialize {
            "proposed"
        } else {
            "draft"
        }
        .into(),
        owner: base.owner.clone(),
        domain: base.domain.clone(),
        request: p.request.request.clone(),
        purpose: p.request.purpose.clone(),
        sla: Sla {
            refresh: if hours <= 24 {
                "daily"
            } else if hours <= 24 * 7 {
                "weekly"
            } else {
                "monthly"
            }
            .into(),
            max_staleness_hours: (hours * 2).min(24 * 370),
        },
        intent: p.intent.clone(),
        discovery: p.discovery.clone(),
        model: p.model.clone(),
        transformation: p.transformation.clone(),
        quality: p.quality.clone(),
        ports: Ports { input, output },
        lineage,
        security: p.security.clone(),
        clarifications: p.clarifications,
        problems: p.problems,
        conforms_to: vec![
            "https://ekgf.github.io/dprod/".into(),
            "https://bitol-io.github.io/open-data-contract-standard/v3.1.0/".into(),
        ],
    };
    validate(&spec)?;
    Ok(spec)
}

fn validator() -> Result<&'static jsonschema::Validator> {
    static V: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).ok()?;
        jsonschema::validator_for(&schema).ok()
    })
    .as_ref()
    .ok_or_else(|| Error::Invalid("the data-product JSON Schema does not compile".into()))
}

/// Validates a spec against the JSON Schema; the error names every field at fault.
pub fn validate(spec: &Spec) -> Result<()> {
    let value = serde_json::to_value(spec).map_err(|e| Error::Invalid(format!("spec: {e}")))?;
    validate_value(&value)
}

/// Validates a spec as JSON (for specs written by hand or by other tools).
pub fn validate_value(value: &Value) -> Result<()> {
    let v = validator()?;
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| format!("{}: {}", e.instance_path(), e))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "the spec does not conform to the data-product schema: {}",
            errors.join("; ")
        )))
    }
}

/// The spec as YAML.
pub fn to_yaml(spec: &Spec) -> Result<String> {
    let value = serde_json::to_value(spec).map_err(|e| Error::Invalid(format!("spec: {e}")))?;
    Ok(govgraph_quality::rules::export::yaml(&value))
}
