//! The data-product builder: from a request in words to a validated, executable spec.
//!
//! A request runs six traced steps:
//! 1. **intent** ([`intent`]): measures, dimensions, grain, time granularity and filters, each
//!    with a confidence; ambiguous phrases become clarifications;
//! 2. **discovery**: candidate datasets ranked by coverage, quality, freshness and popularity,
//!    and the excluded ones with the reason (access included);
//! 3. **modelling** ([`plan`]): the target schema, its key from the grain, constraints and
//!    partitioning;
//! 4. **transformation**: SQL in the chosen dialect, parsed and checked against the catalog
//!    by the lineage engine, then executed on the data files through a [`engine::SqlRunner`]
//!    to prove that it runs and yields the declared columns and types;
//! 5. **quality** ([`rules`]): rules from the schema, the domain and the glossary, exported as
//!    dbt tests, a Great Expectations suite and ODCS;
//! 6. **packaging** ([`spec`]): the spec in JSON and YAML, validated against the JSON Schema in
//!    `agents/schema/data-product.schema.json`.
//!
//! Registration ([`register`]) stores the product, its output dataset and its column lineage
//! in the graph; `materialize` writes the output as Parquet and profiles it.
//!
//! Security: discovery honours the requester's access (a dataset they may not read is
//! excluded, with the deciding policy), columns they may not see in clear for the stated
//! purpose are left out, and the policies' row filters become conditions of the SQL.

pub mod catalog;
pub mod engine;
pub mod intent;
pub mod llm;
pub mod plan;
pub mod register;
pub mod rules;
pub mod spec;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use govgraph_graph::{GraphStore, Scope};
use govgraph_policy::{Engine, Obligation, Request, Subject};
use serde::{Deserialize, Serialize};

use self::catalog::Snapshot;
use self::engine::{OutputColumn, SqlRunner, TableFile};
use self::intent::{FilterIntent, Granularity, Intent};
pub use self::llm::SqlWriter;
use self::plan::{Builder, Part, Plan, Role, SqlDialect, TargetColumn, normal_type, type_family};
use crate::ask::text::key_words;
use crate::error::{Error, Result};

/// A request for a data product.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProductRequest {
    /// What is needed, in words.
    pub request: String,
    /// The SQL dialect of the transformation (default `duckdb`).
    #[serde(default)]
    pub dialect: Option<String>,
    /// Answers to clarifications: the ambiguous phrase (or any key) mapped to the chosen
    /// term's slug, such as `{"revenue": "net-revenue"}`.
    #[serde(default)]
    pub choices: BTreeMap<String, String>,
    /// The purpose the product serves (a DPV purpose, or words such as `marketing`).
    #[serde(default)]
    pub purpose: Option<String>,
    /// The product's identifier (a slug); derived from the request when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Register the product in the graph.
    #[serde(default)]
    pub register: bool,
    /// Write the output as Parquet and profile it (implies `register`).
    #[serde(default)]
    pub materialize: bool,
}

/// The builder's settings.
#[derive(Debug, Clone)]
pub struct BuilderConfig {
    /// Where relative data-file paths of the catalog are resolved.
    pub data_root: Option<PathBuf>,
    /// Where materialized products are written (`{dir}/{id}.parquet`).
    pub output_dir: PathBuf,
    /// Rows of the execution result kept in the spec as a preview.
    pub preview_rows: usize,
    /// Rows read per column to recognise values named in a request.
    pub value_sample_rows: usize,
}

impl Default for BuilderConfig {
    fn default() -> Self {
        Self {
            data_root: None,
            output_dir: PathBuf::from("products"),
            preview_rows: 5,
            value_sample_rows: 5_000,
        }
    }
}

/// The data-product builder.
#[derive(Debug, Clone)]
pub struct ProductBuilder {
    config: BuilderConfig,
    runner: Option<Arc<dyn SqlRunner>>,
    policy: Option<Arc<Engine>>,
    writer: Option<Arc<dyn SqlWriter>>,
}

/// One step of the workflow, as the trace shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TraceStep {
    /// `intent`, `discovery`, `modeling`, `transformation`, `quality`, `packaging`,
    /// `registration`, `materialization`.
    pub step: &'static str,
    /// What it concluded.
    pub summary: String,
    /// Wall time in milliseconds.
    pub ms: f64,
}

/// A candidate input.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// `SYSTEM/NAME`.
    pub dataset: String,
    /// Its title.
    pub title: String,
    /// Share of the request's measures, dimensions and filters it can serve (0 to 1).
    pub coverage: f64,
    /// Its latest quality score (0 to 1), or none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<f64>,
    /// Freshness (0 to 1): 1 when changed within a day, falling over 30 days; none when
    /// unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freshness: Option<f64>,
    /// Datasets and products built on it.
    pub popularity: u32,
    /// The overall rank score.
    pub score: f64,
    /// Whether the product is built on it.
    pub selected: bool,
    /// What it serves.
    pub serves: Vec<String>,
}

/// A dataset left out, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Excluded {
    /// `SYSTEM/NAME`.
    pub dataset: String,
    /// Why: `access` (the requester may not read it) or `no_data` (no data file to run on).
    pub reason: String,
    /// In words.
    pub detail: String,
}

/// The discovery step's result.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Discovery {
    /// Ranked candidates.
    pub candidates: Vec<Candidate>,
    /// Excluded datasets.
    pub excluded: Vec<Excluded>,
    /// Values named in the request, found in the data: `(words, column, value)`.
    pub values: Vec<(String, String, String)>,
}

/// A column left out of the product for the requester.
#[derive(Debug, Clone, Serialize)]
pub struct Withheld {
    /// The catalog column (`SYSTEM/NAME.column`).
    pub column: String,
    /// Why.
    pub reason: String,
    /// The deciding policy, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// The security facts of a build.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Security {
    /// Who asked.
    pub requester: String,
    /// The purpose stated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Columns left out.
    pub withheld: Vec<Withheld>,
    /// Row filters applied: `(dataset, condition, policy)`.
    pub row_filters: Vec<(String, String, String)>,
    /// Whether a policy engine decided (false: none configured, nothing was checked).
    pub enforced: bool,
}

/// What the transformation step proved.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Validation {
    /// The SQL parsed in its dialect.
    pub parsed: bool,
    /// Every column it reads exists in the catalog.
    pub schema_checked: bool,
    /// Problems found.
    pub problems: Vec<String>,
    /// Whether it ran on the data.
    pub executed: bool,
    /// The engine that ran it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// Rows produced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_count: Option<u64>,
    /// The columns and types the engine produced.
    pub result_columns: Vec<OutputColumn>,
    /// Whether they match the declared ones (names in order, type families).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches_declared: Option<bool>,
    /// The first rows.
    pub preview: Vec<Vec<Option<String>>>,
    /// Why it did not run, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_executed: Option<String>,
}

/// The transformation.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Transformation {
    /// The dialect of `sql`.
    pub dialect: String,
    /// The SQL that fills the target table.
    pub sql: String,
    /// The same query as the engine ran it, when the dialects differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_sql: Option<String>,
    /// `template` (built offline from the semantic layer) or `llm` (written by a language
    /// model, then checked and executed like the templates').
    pub method: String,
    /// The model that wrote it (`llm:MODEL`), for `llm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writer: Option<String>,
    /// What was proved.
    pub validation: Validation,
}

/// The target model.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Model {
    /// The table's name.
    pub table: String,
    /// One row per ...
    pub grain: Vec<String>,
    /// The primary key.
    pub primary_key: Vec<String>,
    /// The columns.
    pub columns: Vec<TargetColumn>,
    /// Constraints in words (`NOT NULL order_day`, `UNIQUE (order_day, region)`).
    pub constraints: Vec<String>,
    /// How the table is partitioned: `(column, granularity)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partitioning: Option<(String, String)>,
    /// The joins the SQL makes.
    pub joins: Vec<plan::Join>,
}

/// The result of a build.
#[derive(Debug, Clone, Serialize)]
pub struct Product {
    /// `ready`; `needs_clarification` (an ambiguous phrase); `incomplete` (part of the
    /// request cannot be served: `problems` says which); or `unbuildable` (the SQL failed
    /// its checks or its run).
    pub status: String,
    /// The packaged spec (validated against the JSON Schema).
    #[serde(flatten)]
    pub spec: spec::Spec,
    /// The spec as YAML.
    pub spec_yaml: String,
    /// The registered product's IRI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered: Option<String>,
    /// The materialized file and its rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub materialized: Option<(String, u64)>,
    /// The steps.
    pub trace: Vec<TraceStep>,
}

fn ms(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 1e4).round() / 10.0
}

fn snake(s: &str) -> String {
    key_words(s).join("_")
}

impl ProductBuilder {
    /// A builder with `config`, the engine this build offers, and no policy engine.
    pub fn new(config: BuilderConfig) -> Self {
        Self {
            config,
            runner: engine::default_runner(),
            policy: None,
            writer: None,
        }
    }

    /// Decides access with `engine`.
    pub fn with_policy(mut self, engine: Arc<Engine>) -> Self {
        self.policy = Some(engine);
        self
    }

    /// Lets `writer` (a language model) write the SQL of requests the templates cannot
    /// express; its SQL is checked and executed like the templates'.
    pub fn with_writer(mut self, writer: Arc<dyn SqlWriter>) -> Self {
        self.writer = Some(writer);
        self
    }

    /// Executes with `runner` (or not at all with `None`).
    pub fn with_runner(mut self, runner: Option<Arc<dyn SqlRunner>>) -> Self {
        self.runner = runner;
        self
    }

    /// The settings.
    pub fn config(&self) -> &BuilderConfig {
        &self.config
    }

    /// The data file behind dataset `d`, if it is on disk.
    fn file_of(&self, store: &GraphStore, snap: &Snapshot, d: usize) -> Option<PathBuf> {
        let ds = &snap.datasets[d];
        // A path in the catalog is anyone's with write access: it is read only when it lies
        // under the data root or the products folder, never elsewhere on this machine.
        let roots: Vec<PathBuf> = self
            .config
            .data_root
            .iter()
            .chain(std::iter::once(&self.config.output_dir))
            .filter_map(|r| r.canonicalize().ok())
            .collect();
        for f in &ds.files {
            let p = Path::new(f);
            let path = match (&self.config.data_root, p.is_absolute()) {
                (_, true) => p.to_path_buf(),
                (Some(root), false) => root.join(p),
                (None, false) => continue,
            };
            match path.canonicalize() {
                Ok(real) if real.is_file() && roots.iter().any(|r| real.starts_with(r)) => {
                    return Some(real);
                }
                Ok(real) if real.is_file() => {
                    tracing::warn!(dataset = %ds.id, path = %real.display(), "a data file outside the data root is not read");
                }
                _ => {}
            }
        }
        // Files the server's own connectors ingested.
        let key = govgraph_graph::DatasetKey {
            system: ds.system.clone(),
            name: ds.name.clone(),
        };
        match govgraph_quality::locate::locate(store, &key) {
            Ok(govgraph_quality::locate::DatasetSource::File(p)) if p.is_file() => Some(p),
            _ => None,
        }
    }

    /// Builds the product `request` asks for, as `subject` within `scope`.
    pub fn build(
        &self,
        store: &GraphStore,
        scope: &Scope,
        subject: &Subject,
        request: &ProductRequest,
    ) -> Result<Product> {
        let _span = tracing::info_span!("product.build", request = %request.request).entered();
        let text = request.request.trim();
        if text.is_empty() {
            return Err(Error::Invalid(
                "request: say what the product should contain".into(),
            ));
        }
        if text.chars().count() > 2_000 {
            return Err(Error::Invalid("request: at most 2000 characters".into()));
        }
        let dialect = match &request.dialect {
            Some(d) => SqlDialect::parse(d)?,
            None => SqlDialect::DuckDb,
        };
        let mut trace = Vec::new();

        // 1. Intent.
        let t = Instant::now();
        let snap = Snapshot::read(store, scope)?;
        for (phrase, chosen) in &request.choices {
            if !snap
                .terms
                .iter()
                .any(|t| t.slug == *chosen || t.iri == *chosen)
            {
                return Err(Error::Invalid(format!(
                    "choices.{phrase}: no glossary term {chosen:?}"
                )));
            }
        }
        let mut intent = intent::read(text, &snap, &request.choices);
        trace.push(TraceStep {
            step: "intent",
            summary: format!(
                "{} measure(s), {} dimension(s), {} filter(s){}{}",
                intent.metrics.len(),
                intent.dimensions.len(),
                intent.filters.len(),
                intent
                    .time_granularity
                    .map(|(g, _)| format!(", {} grain", g.unit()))
                    .unwrap_or_default(),
                if intent.ambiguities.is_empty() {
                    String::new()
                } else {
                    format!(", {} ambiguity(ies)", intent.ambiguities.len())
                }
            ),
            ms: ms(t),
        });
        if intent.metrics.is_empty() && intent.dimensions.is_empty() {
            return Err(Error::Invalid(format!(
                "request: no measure or attribute of the catalog recognised in {text:?}; name a \
                 glossary measure (such as net revenue or number of orders) and what to break it down by"
            )));
        }

        // 2. Discovery.
        let t = Instant::now();
        let mut security = Security {
            requester: subject.name.clone(),
            purpose: request.purpose.clone(),
            enforced: self.policy.is_some(),
            ..Security::default()
        };
        let mut discovery = Discovery::default();
        let mut clarifications: Vec<intent::Ambiguity> = intent.ambiguities.clone();
        let mut problems: Vec<String> = Vec::new();
        let edges = plan::join_edges(&snap);
        let (base, readable, files) = self.discover(
            store,
            scope,
            subject,
            request,
            &snap,
            &edges,
            &mut intent,
            &mut discovery,
            &mut problems,
        )?;
        trace.push(TraceStep {
            step: "discovery",
            summary: format!(
                "{} candidate(s), {} excluded; built on {}",
                discovery.candidates.len(),
                discovery.excluded.len(),
                snap.datasets[base].id
            ),
            ms: ms(t),
        });

        // 3. Modelling.
        let t = Instant::now();
        let plan = self.plan(
            &snap,
            &edges,
            base,
            &mut intent,
            &readable,
            &files,
            &mut security,
            &mut discovery,
            &mut problems,
        )?;
        // What the request asked for that the product does not serve.
        let mut unserved = problems.len();
        let primary_key: Vec<String> = plan
            .columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.clone())
            .collect();
        intent.grain = primary_key.clone();
        let id = request
            .name
            .as_deref()
            .map(slug)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| default_id(&plan, &intent));
        let table = id.replace('-', "_");
        let mut constraints: Vec<String> = plan
            .columns
            .iter()
            .filter(|c| !c.nullable)
            .map(|c| format!("NOT NULL {}", c.name))
            .collect();
        if !primary_key.is_empty() && plan.top.is_none() {
            constraints.push(format!("PRIMARY KEY ({})", primary_key.join(", ")));
        }
        let partitioning = plan.columns.iter().find(|c| c.role == Role::Time).map(|c| {
            let g = intent
                .time_granularity
                .map(|(g, _)| g)
                .unwrap_or(Granularity::Day);
            let by = match g {
                Granularity::Day | Granularity::Week => "month",
                _ => "year",
            };
            (c.name.clone(), by.to_owned())
        });
        let model = Model {
            table: table.clone(),
            grain: intent.grain.clone(),
            primary_key,
            columns: plan.columns.clone(),
            constraints,
            partitioning,
            joins: plan.joins.clone(),
        };
        trace.push(TraceStep {
            step: "modeling",
            summary: format!(
                "{} column(s), key ({}), {} join(s), {} condition(s)",
                model.columns.len(),
                model.primary_key.join(", "),
                model.joins.len(),
                plan.conditions.len()
            ),
            ms: ms(t),
        });

        // 4. Transformation: write, parse, check, execute.
        let t = Instant::now();
        let mut model = model;
        let mut sql = plan.sql(&snap, dialect);
        let mut engine_sql = plan.sql(&snap, SqlDialect::DataFusion);
        let mut validation = check_sql(&snap, &plan, &sql, dialect);
        let mut method = "template".to_owned();
        let mut read: Vec<usize> = std::iter::once(base)
            .chain(plan.joins.iter().map(|j| j.index))
            .collect();
        // Logic the templates cannot express goes to the language model, if there is one.
        if let Some(writer) = &self.writer
            && let Some(why) = llm::beyond_templates(&intent.unused_words, &problems)
        {
            match self.model_sql(
                &snap,
                text,
                dialect,
                &intent,
                &readable,
                &files,
                writer.as_ref(),
            ) {
                Ok((q, datasets)) => {
                    let lineage = spec::lineage(&snap, &datasets, &q, dialect);
                    model = llm_model(&snap, &lineage, model);
                    intent.grain = model.primary_key.clone();
                    read = lineage_datasets(&snap, &lineage, base);
                    validation = Validation {
                        parsed: true,
                        schema_checked: true,
                        ..Validation::default()
                    };
                    sql = q.clone();
                    engine_sql = q;
                    method = writer.name();
                    problems.retain(|p| !p.contains("names nothing"));
                    unserved = 0;
                    problems.push(format!("written by {method}: {why}"));
                }
                Err(e) => {
                    problems.push(format!("{why}; the language model's SQL was rejected: {e}"))
                }
            }
        }
        let llm_written = method != "template";
        let tables: Vec<TableFile> = read
            .iter()
            .copied()
            .filter_map(|d| {
                Some(TableFile {
                    name: snap.datasets[d].name.clone(),
                    path: files.get(&d)?.clone(),
                })
            })
            .collect();
        match &self.runner {
            None => {
                validation.not_executed = Some(
                    "this build has no SQL engine (build govgraph with the `datafusion` feature to execute products)"
                        .into(),
                );
            }
            Some(runner) => match runner.run(&engine_sql, &tables, self.config.preview_rows) {
                Ok(out) => {
                    validation.executed = true;
                    validation.engine = Some(runner.engine().to_owned());
                    validation.row_count = Some(out.row_count);
                    if llm_written {
                        // The model declared no types: the engine's are the model's.
                        for (c, o) in model.columns.iter_mut().zip(&out.columns) {
                            c.sql_type = o.sql_type.clone();
                        }
                    }
                    let declared = &model.columns;
                    let matches =
                        out.columns.len() == declared.len()
                            && out.columns.iter().zip(declared).all(|(o, d)| {
                                o.name == d.name && compatible(&o.sql_type, &d.sql_type)
                            });
                    if !matches {
                        validation.problems.push(format!(
                            "the engine produced ({}) where the model declares ({})",
                            out.columns
                                .iter()
                                .map(|c| format!("{} {}", c.name, c.sql_type))
                                .collect::<Vec<_>>()
                                .join(", "),
                            declared
                                .iter()
                                .map(|c| format!("{} {}", c.name, c.sql_type))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                    validation.matches_declared = Some(matches);
                    validation.result_columns = out.columns;
                    // Withheld columns are never selected, so nothing withheld reaches the preview.
                    validation.preview = out.rows;
                }
                Err(e) => {
                    validation.problems.push(e.to_string());
                    validation.not_executed = Some(e.to_string());
                }
            },
        }
        trace.push(TraceStep {
            step: "transformation",
            summary: match (validation.executed, validation.row_count) {
                (true, Some(n)) => format!(
                    "{} SQL parsed and checked; ran on {} in DataFusion: {n} row(s), types {}",
                    dialect.name(),
                    tables
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    if validation.matches_declared == Some(true) {
                        "as declared"
                    } else {
                        "differ"
                    }
                ),
                _ => format!(
                    "{} SQL parsed: {}, checked: {}; not executed",
                    dialect.name(),
                    validation.parsed,
                    validation.schema_checked
                ),
            },
            ms: ms(t),
        });
        let transformation = Transformation {
            dialect: dialect.name().to_owned(),
            engine_sql: (engine_sql != sql).then_some(engine_sql.clone()),
            sql,
            method: if llm_written {
                "llm".into()
            } else {
                "template".into()
            },
            writer: llm_written.then_some(method.clone()),
            validation,
        };

        // 5. Quality.
        let t = Instant::now();
        let product_dataset = format!("products/product.{table}");
        let quality = rules::product_rules(
            store,
            scope,
            &snap,
            &plan,
            &model,
            snap.datasets[base].domain.as_deref(),
            &product_dataset,
            &table,
        )?;
        trace.push(TraceStep {
            step: "quality",
            summary: format!(
                "{} rule(s); dbt, Great Expectations and ODCS exports",
                quality.rules.len()
            ),
            ms: ms(t),
        });

        // 6. Packaging.
        let t = Instant::now();
        let status = if !clarifications.is_empty() {
            "needs_clarification"
        } else if !transformation.validation.problems.is_empty()
            || !transformation.validation.parsed
            || !transformation.validation.schema_checked
        {
            "unbuildable"
        } else if unserved > 0 {
            "incomplete"
        } else {
            "ready"
        };
        problems.extend(transformation.validation.problems.iter().cloned());
        let spec = spec::package(spec::Parts {
            snap: &snap,
            store,
            id: &id,
            request,
            intent: &intent,
            discovery: &discovery,
            model: &model,
            plan: &plan,
            transformation: &transformation,
            quality: &quality,
            security: &security,
            clarifications: std::mem::take(&mut clarifications),
            problems,
            product_dataset: &product_dataset,
            read: &read,
        })?;
        let spec_yaml = spec::to_yaml(&spec)?;
        trace.push(TraceStep {
            step: "packaging",
            summary: format!(
                "spec {} v{} validated against the JSON Schema",
                spec.id, spec.version
            ),
            ms: ms(t),
        });
        let mut product = Product {
            status: status.to_owned(),
            spec,
            spec_yaml,
            registered: None,
            materialized: None,
            trace,
        };

        // Registration and materialization.
        if request.register || request.materialize {
            self.publish(
                store,
                &snap,
                &mut product,
                request,
                &engine_sql,
                &tables,
                &id,
                &table,
            )?;
        }
        Ok(product)
    }

    /// The modelling step: the target columns (time bucket, dimensions the requester may
    /// see, measures), the joins, and the conditions (filter terms, periods, values named in
    /// the request, the policies' row filters).
    #[allow(clippy::too_many_arguments)]
    fn plan(
        &self,
        snap: &Snapshot,
        edges: &[(usize, usize)],
        base: usize,
        intent: &mut Intent,
        readable: &BTreeMap<usize, govgraph_policy::Decision>,
        files: &BTreeMap<usize, PathBuf>,
        security: &mut Security,
        discovery: &mut Discovery,
        problems: &mut Vec<String>,
    ) -> Result<Plan> {
        let mut b = Builder::new(snap, edges, base);
        let mut columns: Vec<TargetColumn> = Vec::new();
        let mut conditions: Vec<(String, String)> = Vec::new();
        let aggregate = !intent.metrics.is_empty();
        // Time.
        let time_column = intent
            .metrics
            .iter()
            .find_map(|m| snap.term(&m.term)?.measure.as_ref()?.time.clone())
            .and_then(|iri| snap.column(&iri))
            .or_else(|| {
                snap.columns_of(base)
                    .find(|(_, c)| {
                        matches!(type_family(c.data_type.as_deref()), "timestamp" | "date")
                    })
                    .map(|(i, _)| i)
            });
        if let Some((g, _)) = intent.time_granularity {
            match time_column {
                Some(tc) => {
                    let r = b.column_ref(tc).unwrap_or_default();
                    let col = &snap.columns[tc];
                    let stem = time_stem(&col.name);
                    columns.push(TargetColumn {
                        name: format!("{stem}_{}", g.unit()),
                        sql_type: "date".into(),
                        description: format!(
                            "The {} of {} ({}), the first day of the period.",
                            g.unit(),
                            col.name,
                            snap.datasets[base].name
                        ),
                        role: Role::Time,
                        primary_key: aggregate,
                        nullable: false,
                        term: col.terms.first().cloned(),
                        sources: vec![col.iri.clone()],
                        expr: Part::Trunc(g, r),
                    });
                }
                None => problems.push(format!(
                    "{} has no date or timestamp column for a {} series",
                    snap.datasets[base].name,
                    g.unit()
                )),
            }
        }
        // Dimensions.
        let mut dims: Vec<(String, usize, f64)> = Vec::new();
        for d in &intent.dimensions {
            let candidates = dimension_columns(snap, &b, d);
            match candidates.len() {
                0 => problems.push(format!(
                    "\"{}\" names nothing that {} can be joined to; left out",
                    d.phrase, snap.datasets[base].name
                )),
                _ => {
                    for c in candidates {
                        if !dims.iter().any(|(_, x, _)| *x == c) {
                            dims.push((d.phrase.clone(), c, d.confidence));
                        }
                    }
                }
            }
        }
        // Access per output column.
        let mut kept = Vec::new();
        for (phrase, c, conf) in dims {
            let col = &snap.columns[c];
            let dataset = &snap.datasets[col.dataset];
            let withheld = match readable.get(&col.dataset) {
                None if self.policy.is_some() => {
                    Some(("the requester may not read its dataset".to_owned(), None))
                }
                Some(decision) => column_verdict(decision, &col.iri),
                None => None,
            };
            match withheld {
                Some((reason, policy)) => security.withheld.push(Withheld {
                    column: format!("{}.{}", dataset.id, col.name),
                    reason,
                    policy,
                }),
                None => kept.push((phrase, c, conf)),
            }
        }
        let names = unique_names(snap, &kept.iter().map(|(_, c, _)| *c).collect::<Vec<_>>());
        for ((_, c, _), name) in kept.iter().zip(names) {
            let col = &snap.columns[*c];
            let r = b.column_ref(*c).unwrap_or_default();
            let family = type_family(col.data_type.as_deref());
            let joined = col.dataset != base;
            // A lookup may find no row; text keys of the grain read 'Unknown' rather than NULL.
            let (expr, nullable) = if aggregate && family == "text" && joined {
                (format!("COALESCE({r}, 'Unknown')"), false)
            } else {
                (r, joined)
            };
            columns.push(TargetColumn {
                name,
                sql_type: normal_type(col.data_type.as_deref()),
                description: col.description.clone().unwrap_or_else(|| {
                    format!("{} of {}", col.name, snap.datasets[col.dataset].name)
                }),
                role: if aggregate {
                    Role::Dimension
                } else {
                    Role::Attribute
                },
                primary_key: aggregate || col.primary_key,
                nullable,
                term: col.terms.first().cloned(),
                sources: vec![col.iri.clone()],
                expr: Part::Sql(expr),
            });
        }
        // Measures: one shared filter goes to WHERE; differing filters into the aggregates.
        let measures: Vec<(&intent::MetricIntent, catalog::MeasureDef)> = intent
            .metrics
            .iter()
            .filter_map(|m| Some((m, snap.term(&m.term)?.measure.clone()?)))
            .collect();
        let filters: BTreeSet<Option<String>> =
            measures.iter().map(|(_, d)| d.filter.clone()).collect();
        let shared_filter = filters.len() == 1;
        if shared_filter && let Some(Some(f)) = filters.iter().next() {
            let (q, _) = b.qualify(f, base)?;
            let label = measures
                .iter()
                .map(|(m, _)| m.label.clone())
                .collect::<Vec<_>>()
                .join(", ");
            conditions.push((q, format!("the rows {label} counts")));
        }
        for (m, def) in &measures {
            let expression = match (&def.filter, shared_filter) {
                (Some(f), false) => filtered_aggregate(&def.expression, f)?,
                _ => def.expression.clone(),
            };
            let (q, sources) = b.qualify(&expression, base)?;
            let term = snap.term(&m.term);
            let kind = measure_type(snap, &def.expression, &sources);
            let wrapped = format!("CAST({q} AS {})", kind.to_ascii_uppercase());
            let slug = term.map(|t| t.slug.clone()).unwrap_or_default();
            let count = def
                .expression
                .trim_start()
                .to_ascii_uppercase()
                .starts_with("COUNT");
            let name = if count {
                format!("{}_count", snake(&slug))
            } else {
                snake(&slug)
            };
            columns.push(TargetColumn {
                name,
                sql_type: kind.clone(),
                description: term
                    .and_then(|t| t.definition.clone())
                    .unwrap_or_else(|| m.label.clone()),
                role: Role::Measure,
                primary_key: false,
                nullable: !count,
                term: Some(m.term.clone()),
                sources: sources
                    .iter()
                    .map(|&c| snap.columns[c].iri.clone())
                    .collect(),
                expr: Part::Sql(wrapped),
            });
        }
        // Filters.
        let mut unused = intent.unused_words.clone();
        for f in &intent.filters {
            match f {
                FilterIntent::Term { term, label, .. } => {
                    let Some((cond, dataset)) = snap.term(term).and_then(|t| t.filter.clone())
                    else {
                        continue;
                    };
                    match snap.dataset(&dataset) {
                        Some(d) if b.can_reach(d) => {
                            let (q, _) = b.qualify(&cond, d)?;
                            conditions.push((q, format!("only {label}s")));
                        }
                        _ => problems.push(format!(
                            "\"{label}\" filters {} , which {} cannot be joined to; not applied",
                            snap.dataset(&dataset)
                                .map_or(dataset.clone(), |d| snap.datasets[d].name.clone()),
                            snap.datasets[base].name
                        )),
                    }
                }
                FilterIntent::Period {
                    phrase, from, to, ..
                } => match time_column {
                    Some(tc) => {
                        let r = b.column_ref(tc).unwrap_or_default();
                        let mut cond = format!("CAST({r} AS DATE) >= DATE '{from}'");
                        if let Some(to) = to {
                            cond.push_str(&format!(" AND CAST({r} AS DATE) < DATE '{to}'"));
                        }
                        conditions.push((cond, format!("the period \"{phrase}\"")));
                    }
                    None => problems.push(format!("\"{phrase}\": no time column to filter on")),
                },
                FilterIntent::Value { .. } => {}
            }
        }
        // Values named in the request ("EMEA", "electronics"), found in the data.
        if !unused.is_empty() {
            let found = self.find_values(snap, &b, files, readable, &mut unused);
            for (words, c, value) in found {
                let r = b.column_ref(c).unwrap_or_default();
                conditions.push((
                    format!("{r} = '{}'", value.replace('\'', "''")),
                    format!("\"{words}\" is a value of {}", snap.columns[c].name),
                ));
                discovery
                    .values
                    .push((words.clone(), snap.columns[c].name.clone(), value.clone()));
                intent.filters.push(FilterIntent::Value {
                    phrase: words,
                    confidence: 0.9,
                });
            }
        }
        intent.unused_words = unused;
        // Row filters from the policies, on every dataset the SQL reads.
        let read: Vec<usize> = std::iter::once(base)
            .chain(b.joins.iter().map(|j| j.index))
            .collect();
        for d in read {
            if let Some(decision) = readable.get(&d) {
                for o in &decision.obligations {
                    if let Obligation::RowFilter { condition, policy } = o {
                        let (q, _) = b.qualify(condition, d)?;
                        conditions.push((q.clone(), format!("row filter of {policy}")));
                        security.row_filters.push((
                            snap.datasets[d].id.clone(),
                            condition.clone(),
                            policy.clone(),
                        ));
                    }
                }
            }
        }
        if columns.iter().all(|c| c.role == Role::Time) && !aggregate {
            return Err(Error::Invalid(
                "request: every column it names is withheld from the requester or unknown".into(),
            ));
        }
        if !aggregate {
            // A listing: the base's key identifies the rows.
            for (i, c) in snap.columns_of(base).filter(|(_, c)| c.primary_key) {
                if !columns.iter().any(|x| x.sources == vec![c.iri.clone()]) {
                    let r = b.column_ref(i).unwrap_or_default();
                    columns.insert(
                        0,
                        TargetColumn {
                            name: c.name.clone(),
                            sql_type: normal_type(c.data_type.as_deref()),
                            description: c.description.clone().unwrap_or_else(|| c.name.clone()),
                            role: Role::Attribute,
                            primary_key: true,
                            nullable: false,
                            term: c.terms.first().cloned(),
                            sources: vec![c.iri.clone()],
                            expr: Part::Sql(r),
                        },
                    );
                }
            }
        }
        Ok(Plan {
            base,
            base_alias: b.aliases.get(&base).cloned().unwrap_or_else(|| "t".into()),
            joins: b.joins.clone(),
            columns,
            conditions,
            aggregate,
            top: intent.top,
        })
    }

    /// Registers the product (after materializing and profiling it, when asked); refuses a
    /// product that is not ready.
    #[allow(clippy::too_many_arguments)]
    fn publish(
        &self,
        store: &GraphStore,
        snap: &Snapshot,
        product: &mut Product,
        request: &ProductRequest,
        engine_sql: &str,
        tables: &[TableFile],
        id: &str,
        table: &str,
    ) -> Result<()> {
        let status = product.status.clone();
        if status != "ready" {
            return Err(Error::Invalid(format!(
                "register: the product is {status}{}; answer the clarifications or fix the request first",
                if status == "needs_clarification" {
                    format!(
                        " (pass choices such as {{\"{}\": \"{}\"}})",
                        product
                            .spec
                            .clarifications
                            .first()
                            .map(|c| c.phrase.as_str())
                            .unwrap_or(""),
                        product
                            .spec
                            .clarifications
                            .first()
                            .and_then(|c| c.choices.first())
                            .map(|c| c.id.as_str())
                            .unwrap_or("")
                    )
                } else {
                    String::new()
                }
            )));
        }
        let t = Instant::now();
        let mut materialized = None;
        let mut profile = None;
        if request.materialize {
            let Some(runner) = &self.runner else {
                return Err(Error::Invalid(
                    "materialize: this build has no SQL engine (build with the `datafusion` feature)".into(),
                ));
            };
            let out = self.config.output_dir.join(format!("{id}.parquet"));
            // The graph records where it is; a relative path would depend on the reader.
            let out = std::path::absolute(&out).unwrap_or(out);
            let rows = runner.write_parquet(engine_sql, tables, &out)?;
            profile = Some(govgraph_quality::profile::profile_file(&out)?);
            materialized = Some((out, rows));
        }
        let iri = register::register(
            store,
            snap,
            &product.spec,
            materialized.as_ref().map(|(p, _)| p.as_path()),
        )?;
        if let Some(p) = &profile {
            let key = govgraph_graph::DatasetKey {
                system: "products".into(),
                name: format!("product.{table}"),
            };
            govgraph_quality::profile::store::store_profile(store, &key, p)?;
        }
        product.trace.push(TraceStep {
            step: "registration",
            summary: format!(
                "registered {iri}{}",
                materialized
                    .as_ref()
                    .map(|(p, n)| format!(
                        "; wrote {n} row(s) to {} and profiled them",
                        p.display()
                    ))
                    .unwrap_or_default()
            ),
            ms: ms(t),
        });
        product.registered = Some(iri);
        product.materialized = materialized.map(|(p, n)| (p.display().to_string(), n));
        Ok(())
    }

    /// The discovery step: the requester's access to every dataset that could serve, the
    /// data files, the ranked candidates and the exclusions; returns the base dataset, the
    /// readable datasets with their decisions, and the data files.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn discover(
        &self,
        store: &GraphStore,
        scope: &Scope,
        subject: &Subject,
        request: &ProductRequest,
        snap: &Snapshot,
        edges: &[(usize, usize)],
        intent: &mut Intent,
        discovery: &mut Discovery,
        problems: &mut Vec<String>,
    ) -> Result<(
        usize,
        BTreeMap<usize, govgraph_policy::Decision>,
        BTreeMap<usize, PathBuf>,
    )> {
        // Access to each dataset of the catalog that could serve.
        let relevant = relevant_datasets(snap, edges, intent);
        let mut readable: BTreeMap<usize, govgraph_policy::Decision> = BTreeMap::new();
        for &d in &relevant {
            match self.decide(
                scope,
                subject,
                request.purpose.as_deref(),
                &snap.datasets[d].iri,
            )? {
                Some(decision) if !decision.permits() => {
                    discovery.excluded.push(Excluded {
                        dataset: snap.datasets[d].id.clone(),
                        reason: "access".into(),
                        detail: format!(
                            "{} may not read it{}: {}",
                            subject_name(subject),
                            purpose_words(request.purpose.as_deref()),
                            decision.reasons.join("; ")
                        ),
                    });
                }
                Some(decision) => {
                    readable.insert(d, decision);
                }
                None => {
                    readable.insert(d, permit_all());
                }
            }
        }
        // The base: the dataset the measures are defined over, else the best candidate.
        let metric_datasets: Vec<usize> = intent
            .metrics
            .iter()
            .filter_map(|m| snap.term(&m.term)?.measure.as_ref())
            .filter_map(|m| snap.dataset(&m.dataset))
            .collect();
        let mut files: BTreeMap<usize, PathBuf> = BTreeMap::new();
        for &d in &relevant {
            if let Some(f) = self.file_of(store, snap, d) {
                files.insert(d, f);
            }
        }
        let mut scored: Vec<Candidate> = Vec::new();
        let mut best: Option<(f64, usize)> = None;
        for &d in &relevant {
            let ds = &snap.datasets[d];
            if !readable.contains_key(&d) {
                continue;
            }
            let serves = serves(snap, edges, intent, d);
            let total = (intent.metrics.len()
                + intent.dimensions.len()
                + intent
                    .filters
                    .iter()
                    .filter(|f| matches!(f, FilterIntent::Term { .. }))
                    .count())
            .max(1);
            let coverage = serves.len() as f64 / total as f64;
            if coverage == 0.0 {
                continue;
            }
            if !files.contains_key(&d) {
                discovery.excluded.push(Excluded {
                    dataset: ds.id.clone(),
                    reason: "no_data".into(),
                    detail: format!(
                        "covers {} of {total} requested elements, but no data file of it is reachable to execute on{}",
                        serves.len(),
                        ds.layer
                            .as_deref()
                            .map(|l| format!(" (a {l} model)"))
                            .unwrap_or_default()
                    ),
                });
                continue;
            }
            let quality = ds
                .quality_score
                .map(|q| if q > 1.0 { q / 100.0 } else { q });
            let freshness = ds.updated.as_deref().and_then(freshness_of);
            let popularity = ds.consumers;
            let score = 0.55 * coverage
                + 0.15 * quality.unwrap_or(0.5)
                + 0.1 * freshness.unwrap_or(0.5)
                + 0.1 * (f64::from(popularity) / (f64::from(popularity) + 3.0))
                + if ds.certified { 0.1 } else { 0.0 };
            let score = (score * 1000.0).round() / 1000.0;
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, d));
            }
            scored.push(Candidate {
                dataset: ds.id.clone(),
                title: ds.title.clone(),
                coverage: (coverage * 1000.0).round() / 1000.0,
                quality,
                freshness,
                popularity,
                score,
                selected: false,
                serves,
            });
        }
        let base = match metric_datasets.first() {
            Some(&d) => Some(d),
            None => best.map(|(_, d)| d),
        };
        let Some(base) = base else {
            return Err(Error::Invalid(format!(
                "request: no dataset that {} may read can serve {:?}",
                subject_name(subject),
                request.request.trim()
            )));
        };
        if let Some(other) = metric_datasets.iter().find(|&&d| d != base) {
            problems.push(format!(
                "the measures are defined over different datasets ({} and {}); only those over {} are built",
                snap.datasets[base].name, snap.datasets[*other].name, snap.datasets[base].name
            ));
            intent.metrics.retain(|m| {
                snap.term(&m.term)
                    .and_then(|t| t.measure.as_ref())
                    .and_then(|m| snap.dataset(&m.dataset))
                    == Some(base)
            });
        }
        if !readable.contains_key(&base) {
            let why = discovery
                .excluded
                .iter()
                .find(|e| e.dataset == snap.datasets[base].id)
                .map(|e| e.detail.clone())
                .unwrap_or_default();
            return Err(Error::Denied(format!(
                "access: the product needs {}, and {why}",
                snap.datasets[base].id
            )));
        }
        for c in &mut scored {
            c.selected = c.dataset == snap.datasets[base].id;
        }
        scored.sort_by(|a, b| {
            b.selected
                .cmp(&a.selected)
                .then(b.score.total_cmp(&a.score))
                .then(a.dataset.cmp(&b.dataset))
        });
        discovery.candidates = scored;
        Ok((base, readable, files))
    }

    /// Asks `writer` for the request's SQL over what the requester may read (withheld
    /// columns are neither shown nor allowed) and checks it; returns the SQL and the datasets
    /// it was checked against.
    #[allow(clippy::too_many_arguments)]
    fn model_sql(
        &self,
        snap: &Snapshot,
        text: &str,
        dialect: SqlDialect,
        intent: &Intent,
        readable: &BTreeMap<usize, govgraph_policy::Decision>,
        files: &BTreeMap<usize, PathBuf>,
        writer: &dyn SqlWriter,
    ) -> Result<(String, Vec<usize>)> {
        // What it can run on; with no data file at all, what it can be checked against.
        let mut datasets: Vec<usize> = readable
            .keys()
            .copied()
            .filter(|d| files.contains_key(d))
            .collect();
        if datasets.is_empty() {
            datasets = readable.keys().copied().collect();
        }
        let mut withheld: BTreeSet<String> = BTreeSet::new();
        for (&d, decision) in readable {
            for (_, c) in snap.columns_of(d) {
                if column_verdict(decision, &c.iri).is_some() {
                    withheld.insert(c.iri.clone());
                }
            }
        }
        let terms: Vec<String> = intent
            .metrics
            .iter()
            .map(|m| m.term.clone())
            .chain(intent.dimensions.iter().flat_map(|d| d.terms.clone()))
            .chain(intent.filters.iter().filter_map(|f| match f {
                FilterIntent::Term { term, .. } => Some(term.clone()),
                _ => None,
            }))
            .collect();
        let prompt = llm::prompt(snap, text, dialect, &datasets, &withheld, &terms);
        let q = llm::sql_of(&writer.write(llm::SYSTEM_PROMPT, &prompt)?)?;
        llm::check(snap, &q, dialect, &datasets, &withheld)?;
        Ok((q, datasets))
    }

    fn decide(
        &self,
        scope: &Scope,
        subject: &Subject,
        purpose: Option<&str>,
        resource: &str,
    ) -> Result<Option<govgraph_policy::Decision>> {
        let Some(engine) = &self.policy else {
            return Ok(None);
        };
        let decided = engine.decide(
            scope,
            &Request {
                principal: subject.clone(),
                action: "read".into(),
                resource: resource.to_owned(),
                purpose: purpose.map(str::to_owned),
            },
        )?;
        Ok(Some(decided.decision))
    }

    /// Finds request words that are values of the text columns the product can read.
    /// Values are looked for only in columns the requester may read in clear: a filter on a
    /// withheld column would tell its values by the counts.
    fn find_values(
        &self,
        snap: &Snapshot,
        b: &Builder<'_>,
        files: &BTreeMap<usize, PathBuf>,
        readable: &BTreeMap<usize, govgraph_policy::Decision>,
        unused: &mut Vec<String>,
    ) -> Vec<(String, usize, String)> {
        let mut found = Vec::new();
        for (&d, _) in b.paths.iter() {
            let (Some(file), Some(decision)) = (files.get(&d), readable.get(&d)) else {
                continue;
            };
            let Ok(samples) =
                govgraph_quality::sample::sample_file(file, self.config.value_sample_rows)
            else {
                continue;
            };
            for s in samples {
                let Some(c) = snap.column_named(d, &s.name) else {
                    continue;
                };
                if type_family(snap.columns[c].data_type.as_deref()) != "text"
                    || column_verdict(decision, &snap.columns[c].iri).is_some()
                {
                    continue;
                }
                let distinct: BTreeSet<&String> = s.values.iter().collect();
                if distinct.len() > 60 {
                    continue;
                }
                for v in distinct {
                    let k = key_words(v);
                    if k.is_empty() || k.len() > unused.len() {
                        continue;
                    }
                    if let Some(at) =
                        (0..=unused.len() - k.len()).find(|&i| unused[i..i + k.len()] == k[..])
                    {
                        let words = unused.drain(at..at + k.len()).collect::<Vec<_>>().join(" ");
                        found.push((words, c, v.clone()));
                        if unused.is_empty() {
                            return found;
                        }
                    }
                }
            }
        }
        found
    }
}

fn permit_all() -> govgraph_policy::Decision {
    govgraph_policy::Decision {
        effect: govgraph_policy::Effect::Permit,
        obligations: Vec::new(),
        decided_by: Vec::new(),
        reasons: Vec::new(),
        conflicts: Vec::new(),
        available_for: Vec::new(),
    }
}

fn subject_name(s: &Subject) -> String {
    if s.name.is_empty() {
        format!("a {}", s.roles.first().map_or("viewer", String::as_str))
    } else {
        s.name.clone()
    }
}

fn purpose_words(p: Option<&str>) -> String {
    p.map(|p| format!(" for {p}")).unwrap_or_default()
}

/// Whether a dataset decision leaves the column (its IRI) out or masked: `(reason, policy)`.
fn column_verdict(
    decision: &govgraph_policy::Decision,
    name: &str,
) -> Option<(String, Option<String>)> {
    for o in &decision.obligations {
        match o {
            Obligation::OmitColumn { column, policy } if column == name => {
                return Some((
                    "the requester may not read it for the stated purpose".into(),
                    policy.clone(),
                ));
            }
            Obligation::Mask {
                column: Some(column),
                method,
                policy,
            } if column == name => {
                return Some((
                    format!(
                        "only masked ({}) for the requester; a product never copies masked values, so it is left out",
                        method.name()
                    ),
                    Some(policy.clone()),
                ));
            }
            _ => {}
        }
    }
    None
}

/// Datasets that hold something the request names.
fn relevant_datasets(snap: &Snapshot, edges: &[(usize, usize)], intent: &Intent) -> Vec<usize> {
    let mut out = BTreeSet::new();
    let mut terms: BTreeSet<&str> = BTreeSet::new();
    for m in &intent.metrics {
        terms.insert(&m.term);
        if let Some(d) = snap
            .term(&m.term)
            .and_then(|t| t.measure.as_ref())
            .and_then(|m| snap.dataset(&m.dataset))
        {
            out.insert(d);
        }
    }
    for d in &intent.dimensions {
        terms.extend(d.terms.iter().map(String::as_str));
        for c in &snap.columns {
            if d.column_names
                .iter()
                .any(|n| c.name.eq_ignore_ascii_case(n))
            {
                out.insert(c.dataset);
            }
        }
    }
    for f in &intent.filters {
        if let FilterIntent::Term { term, .. } = f {
            terms.insert(term);
            if let Some(d) = snap
                .term(term)
                .and_then(|t| t.filter.as_ref())
                .and_then(|(_, d)| snap.dataset(d))
            {
                out.insert(d);
            }
        }
    }
    for c in &snap.columns {
        if c.terms.iter().any(|t| terms.contains(t.as_str())) {
            out.insert(c.dataset);
        }
    }
    // The datasets reachable from these serve too (the lookups of a fact table).
    let direct: Vec<usize> = out.iter().copied().collect();
    for d in direct {
        out.extend(plan::reachable(snap, edges, d, 2).keys());
    }
    out.into_iter().collect()
}

/// What dataset `d` (with its lookups) serves of the intent.
fn serves(snap: &Snapshot, edges: &[(usize, usize)], intent: &Intent, d: usize) -> Vec<String> {
    let reach = plan::reachable(snap, edges, d, 2);
    let has_term = |term: &str| {
        snap.columns
            .iter()
            .any(|c| reach.contains_key(&c.dataset) && c.terms.iter().any(|t| t == term))
    };
    let mut out = Vec::new();
    for m in &intent.metrics {
        let defined_here = snap
            .term(&m.term)
            .and_then(|t| t.measure.as_ref())
            .and_then(|x| snap.dataset(&x.dataset))
            == Some(d);
        let named_here = snap.columns_of(d).any(|(_, c)| {
            key_words(&c.name)
                .join(" ")
                .contains(&key_words(&m.label).join(" "))
                || c.terms.contains(&m.term)
        });
        if defined_here || named_here {
            out.push(format!("measure {}", m.label));
        }
    }
    for x in &intent.dimensions {
        if x.terms.iter().any(|t| has_term(t))
            || snap.columns.iter().any(|c| {
                reach.contains_key(&c.dataset)
                    && x.column_names
                        .iter()
                        .any(|n| c.name.eq_ignore_ascii_case(n))
            })
        {
            out.push(format!("dimension {}", x.phrase));
        }
    }
    for f in &intent.filters {
        if let FilterIntent::Term { term, label, .. } = f
            && snap
                .term(term)
                .and_then(|t| t.filter.as_ref())
                .and_then(|(_, ds)| snap.dataset(ds))
                .is_some_and(|x| reach.contains_key(&x))
        {
            out.push(format!("filter {label}"));
        }
    }
    out
}

/// The columns a dimension phrase resolves to from the base: the columns of its own term
/// (or that it spells) in the nearest dataset that has them; failing that, the columns of
/// its identifier term ("customer" stands for "customer id").
fn dimension_columns(snap: &Snapshot, b: &Builder<'_>, d: &intent::DimensionIntent) -> Vec<usize> {
    let nearest = |matches: &dyn Fn(&catalog::ColumnInfo) -> bool| -> Vec<usize> {
        let mut best: Option<(usize, usize)> = None; // (hops, dataset)
        for (&ds, path) in &b.paths {
            if snap.columns_of(ds).any(|(_, c)| matches(c))
                && best.is_none_or(|(h, _)| path.len() < h)
            {
                best = Some((path.len(), ds));
            }
        }
        let Some((_, ds)) = best else {
            return Vec::new();
        };
        snap.columns_of(ds)
            .filter(|(_, c)| matches(c))
            .map(|(i, _)| i)
            .collect()
    };
    // "customer country": the country of the dataset whose key is the customer's.
    if !d.owner.is_empty() {
        let owner_ids = identifier_terms(snap, &d.owner);
        for &ds in b.paths.keys() {
            let owned = snap.columns_of(ds).any(|(_, c)| {
                c.primary_key
                    && c.terms
                        .iter()
                        .any(|t| d.owner.contains(t) || owner_ids.contains(t))
            });
            if !owned {
                continue;
            }
            let cols: Vec<usize> = snap
                .columns_of(ds)
                .filter(|(_, c)| {
                    c.terms.iter().any(|t| d.terms.contains(t))
                        || d.column_names
                            .iter()
                            .any(|n| c.name.eq_ignore_ascii_case(n))
                })
                .map(|(i, _)| i)
                .collect();
            if !cols.is_empty() {
                return cols;
            }
        }
    }
    let own = nearest(&|c: &catalog::ColumnInfo| {
        c.terms.iter().any(|t| d.terms.contains(t))
            || d.column_names
                .iter()
                .any(|n| c.name.eq_ignore_ascii_case(n))
    });
    if !own.is_empty() {
        return own;
    }
    let ids = identifier_terms(snap, &d.terms);
    nearest(&|c: &catalog::ColumnInfo| c.terms.iter().any(|t| ids.contains(t)))
}

/// The identifier terms of entity terms: "Customer ID" for "Customer".
fn identifier_terms(snap: &Snapshot, terms: &[String]) -> Vec<String> {
    terms
        .iter()
        .filter_map(|t| snap.term(t))
        .filter_map(|term| {
            let id_label = format!("{} id", key_words(&term.label).join(" "));
            snap.terms
                .iter()
                .find(|x| key_words(&x.label).join(" ") == id_label)
                .map(|id| id.iri.clone())
        })
        .collect()
}

/// The model of a language model's SQL: its columns (measures where the lineage sees an
/// aggregation), the key from the rest, no joins of ours.
fn llm_model(snap: &Snapshot, lineage: &[spec::ColumnLineage], mut model: Model) -> Model {
    model.columns = lineage
        .iter()
        .map(|l| llm_column(snap, &l.column, lineage))
        .collect();
    let aggregate = model.columns.iter().any(|c| c.role == Role::Measure);
    for c in &mut model.columns {
        c.primary_key = aggregate && c.role != Role::Measure;
    }
    model.primary_key = model
        .columns
        .iter()
        .filter(|c| c.primary_key)
        .map(|c| c.name.clone())
        .collect();
    model.grain = model.primary_key.clone();
    model.joins = Vec::new();
    model.constraints = if model.primary_key.is_empty() {
        Vec::new()
    } else {
        vec![format!("PRIMARY KEY ({})", model.primary_key.join(", "))]
    };
    model
}

/// A target column of a model's SQL: a measure when the lineage engine sees an aggregation.
fn llm_column(snap: &Snapshot, name: &str, lineage: &[spec::ColumnLineage]) -> TargetColumn {
    let sources: Vec<&spec::LineageSource> = lineage
        .iter()
        .find(|l| l.column == name)
        .map(|l| {
            l.sources
                .iter()
                .filter(|s| s.transformation == "DIRECT")
                .collect()
        })
        .unwrap_or_default();
    let measure = sources.iter().any(|s| s.subtype == "AGGREGATION");
    let iris: Vec<String> = sources
        .iter()
        .filter_map(|s| {
            let d = snap.datasets.iter().position(|d| d.id == s.dataset)?;
            Some(snap.columns[snap.column_named(d, &s.column)?].iri.clone())
        })
        .collect();
    let term = iris
        .first()
        .and_then(|i| snap.column(i))
        .and_then(|c| snap.columns[c].terms.first().cloned());
    TargetColumn {
        name: name.to_owned(),
        sql_type: "unknown".into(),
        description: format!(
            "{name}, computed by the language model's SQL from {}",
            if sources.is_empty() {
                "no column".to_owned()
            } else {
                sources
                    .iter()
                    .map(|s| format!("{}.{}", s.dataset, s.column))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        role: if measure {
            Role::Measure
        } else {
            Role::Dimension
        },
        primary_key: false,
        nullable: true,
        term,
        sources: iris,
        expr: Part::Empty,
    }
}

/// The datasets a query reads, by its lineage (the base first).
fn lineage_datasets(snap: &Snapshot, lineage: &[spec::ColumnLineage], base: usize) -> Vec<usize> {
    let mut out = vec![base];
    for s in lineage.iter().flat_map(|l| &l.sources) {
        if let Some(d) = snap.datasets.iter().position(|d| d.id == s.dataset)
            && !out.contains(&d)
        {
            out.push(d);
        }
    }
    out
}

fn unique_names(snap: &Snapshot, cols: &[usize]) -> Vec<String> {
    cols.iter()
        .map(|&c| {
            let col = &snap.columns[c];
            let clash = cols
                .iter()
                .filter(|&&o| snap.columns[o].name.eq_ignore_ascii_case(&col.name))
                .count()
                > 1;
            if clash {
                let table = snap.datasets[col.dataset]
                    .name
                    .rsplit('.')
                    .next()
                    .unwrap_or("t")
                    .to_owned();
                format!("{}_{}", table, col.name).to_ascii_lowercase()
            } else {
                col.name.to_ascii_lowercase()
            }
        })
        .collect()
}

fn time_stem(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    for suffix in ["_timestamp", "_date", "_time", "_at", "_ts", "_dt"] {
        if let Some(s) = n.strip_suffix(suffix)
            && !s.is_empty()
        {
            return s.to_owned();
        }
    }
    n
}

/// The declared type of a measure: counts are bigint, sums of integers bigint, averages and
/// ratios double, other sums decimal(18,2).
fn measure_type(snap: &Snapshot, expression: &str, sources: &[usize]) -> String {
    let e = expression.trim().to_ascii_uppercase();
    if e.starts_with("COUNT") && !e.contains('/') {
        return "bigint".into();
    }
    if e.starts_with("AVG") || e.contains('/') {
        return "double".into();
    }
    let all_integer = !sources.is_empty()
        && sources
            .iter()
            .filter(|&&c| {
                let name = snap.columns[c].name.to_ascii_uppercase();
                !e.contains(&format!("{name} =")) && !e.contains(&format!("{name} IN"))
            })
            .all(|&c| type_family(snap.columns[c].data_type.as_deref()) == "integer");
    if all_integer && !e.contains('.') {
        "bigint".into()
    } else {
        "decimal(18,2)".into()
    }
}

/// An aggregate restricted to the rows where `filter` holds: every aggregate's argument is
/// wrapped in `CASE WHEN filter THEN ... END` (`COUNT(*)` counts the rows that pass), so
/// `SUM(x) / COUNT(DISTINCT id)` filters both sides.
fn filtered_aggregate(expression: &str, filter: &str) -> Result<String> {
    use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments};
    let mut expr = plan::parse_expr(expression)?;
    let condition = plan::parse_expr(filter)?;
    // Expressions are visited after their arguments: a wrapped argument is not seen again.
    let _ = sqlparser::ast::visit_expressions_mut(&mut expr, |e| {
        if let Expr::Function(f) = e
            && matches!(
                f.name.to_string().to_ascii_uppercase().as_str(),
                "SUM" | "COUNT" | "AVG" | "MIN" | "MAX"
            )
            && let FunctionArguments::List(list) = &mut f.args
        {
            for arg in &mut list.args {
                if let FunctionArg::Unnamed(a) = arg {
                    let inner = match a {
                        FunctionArgExpr::Expr(x) => x.to_string(),
                        // COUNT(*): count the rows that pass.
                        _ => "1".to_owned(),
                    };
                    if let Ok(wrapped) =
                        plan::parse_expr(&format!("CASE WHEN {condition} THEN {inner} END"))
                    {
                        *a = FunctionArgExpr::Expr(wrapped);
                    }
                }
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    Ok(expr.to_string())
}

/// Parses the SQL in its dialect and checks every column it reads against the catalog,
/// through the lineage engine.
fn check_sql(snap: &Snapshot, plan: &Plan, sql: &str, dialect: SqlDialect) -> Validation {
    let read: Vec<usize> = std::iter::once(plan.base)
        .chain(plan.joins.iter().map(|j| j.index))
        .collect();
    let schema = snap.schema(&read, &BTreeSet::new());
    let analysis = govgraph_lineage::analyze(
        sql,
        &schema,
        &govgraph_lineage::Options {
            dialect: dialect.grammar(),
            ..Default::default()
        },
    );
    let mut v = Validation::default();
    match analysis.statements.first() {
        Some(st) if st.error.is_none() => {
            v.parsed = true;
            v.problems
                .extend(st.warnings.iter().map(|w| w.message.clone()));
            let declared: Vec<&str> = plan.columns.iter().map(|c| c.name.as_str()).collect();
            let produced: Vec<&str> = st.column_order.iter().map(String::as_str).collect();
            // Dialects fold unquoted names (Snowflake to upper case): compare as they fold.
            if declared.len() != produced.len()
                || declared
                    .iter()
                    .zip(&produced)
                    .any(|(d, p)| !d.eq_ignore_ascii_case(p))
            {
                v.problems.push(format!(
                    "the SQL yields ({}) where the model declares ({})",
                    produced.join(", "),
                    declared.join(", ")
                ));
            }
            v.schema_checked = st.warnings.is_empty();
        }
        Some(st) => {
            if let Some(e) = &st.error {
                v.problems.push(format!(
                    "line {}, column {}: {}",
                    e.line, e.column, e.message
                ));
            }
        }
        None => v.problems.push("the SQL is empty".into()),
    }
    v
}

fn compatible(produced: &str, declared: &str) -> bool {
    let (p, d) = (type_family(Some(produced)), type_family(Some(declared)));
    p == d
        || (p == "integer" && d == "number")
        || (p == "number" && d == "integer" && produced.starts_with("decimal"))
}

/// Days since 1970-01-01 of an ISO date or dateTime.
fn days_of(iso: &str) -> Option<i64> {
    let date = iso.get(..10)?;
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    Some(govgraph_graph::loader::days_from_civil(y, m, d))
}

fn freshness_of(when: &str) -> Option<f64> {
    let day = days_of(when)?;
    let today = days_of(&govgraph_graph::loader::now_xsd())?;
    let age = (today - day).max(0) as f64;
    Some(((1.0 - (age - 1.0).max(0.0) / 30.0).clamp(0.0, 1.0) * 1000.0).round() / 1000.0)
}

/// A slug: lower-case words joined by dashes.
pub fn slug(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

fn default_id(plan: &Plan, intent: &Intent) -> String {
    let measures: Vec<&str> = plan
        .columns
        .iter()
        .filter(|c| c.role == Role::Measure)
        .map(|c| c.name.as_str())
        .collect();
    let mut parts: Vec<String> = Vec::new();
    if let Some((g, _)) = intent.time_granularity {
        parts.push(match g {
            Granularity::Day => "daily".into(),
            Granularity::Week => "weekly".into(),
            Granularity::Month => "monthly".into(),
            Granularity::Quarter => "quarterly".into(),
            Granularity::Year => "yearly".into(),
        });
    }
    if measures.is_empty() {
        parts.extend(
            plan.columns
                .iter()
                .filter(|c| c.role == Role::Attribute)
                .take(3)
                .map(|c| c.name.clone()),
        );
    } else {
        parts.extend(measures.iter().map(|m| (*m).to_owned()));
    }
    let dims: Vec<String> = plan
        .columns
        .iter()
        .filter(|c| c.role == Role::Dimension)
        .map(|c| c.name.clone())
        .collect();
    if !dims.is_empty() {
        parts.push("by".into());
        parts.push(dims.join("-and-"));
    }
    let s = slug(&parts.join("-"));
    let mut s: String = s.chars().take(80).collect();
    while s.ends_with('-') {
        s.pop();
    }
    s
}
