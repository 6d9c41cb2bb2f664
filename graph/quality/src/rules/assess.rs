//! One assessment of a catalog dataset: profile it (adding to its metric history), run every
//! rule that applies to it where its data lives, look for anomalies in its history, score it
//! and store the whole run. And suggestions for a dataset from its catalog entry and a fresh
//! profile.

use std::collections::HashMap;
use std::path::PathBuf;

use govgraph_graph::GraphStore;
use govgraph_graph::iri::DatasetKey;
use serde::Serialize;

use super::anomaly::{Anomaly, detect};
use super::run::{KeySet, RuleResult, RunOptions, file_keys, run_file, run_postgres};
use super::score::{Outcome, Scores, score};
use super::store::{StoredRun, now_stamp, store_run};
use super::suggest::{CatalogFacts, Suggestion, assign_iris, catalog_facts, suggest};
use super::text;
use super::{Check, Rule, UnreadableRule, catalog_columns, catalog_rules};
use crate::engine::FileEngine;
use crate::error::{Error, Result};
use crate::locate::{DatasetSource, locate, open_read_only};
use crate::profile::DatasetProfile;

/// What an assessment found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// `SYSTEM/NAME`.
    pub dataset: String,
    /// Where the data was read: a file path or `postgres://…/schema.table`.
    pub source: String,
    /// When the run started.
    pub started: String,
    /// Rows in the data.
    pub row_count: u64,
    /// One result per rule.
    pub results: Vec<RuleResult>,
    /// Stored rules that could not be read, with the reason.
    pub unreadable: Vec<UnreadableRule>,
    /// Metric series judged for anomalies.
    pub series_checked: usize,
    /// Anomalies found in them.
    pub anomalies: Vec<Anomaly>,
    /// The scores of this run.
    pub scores: Scores,
    /// The profile's graph, when the run profiled the data.
    pub profile_graph: Option<String>,
    /// What was stored.
    pub stored: Option<StoredRun>,
}

impl Assessment {
    /// Whether a rule of severity `error` failed or could not run.
    pub fn has_errors(&self) -> bool {
        self.results
            .iter()
            .any(|r| r.severity == "error" && r.status != "pass")
    }
}

/// How to assess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssessOptions {
    /// Profile the data first (its metrics join the history anomalies are judged on).
    pub profile: bool,
    /// Store the run in the graph.
    pub store: bool,
    /// What reads data files (PostgreSQL tables are always checked by push-down).
    pub engine: FileEngine,
}

impl Default for AssessOptions {
    fn default() -> Self {
        Self {
            profile: true,
            store: true,
            engine: FileEngine::Auto,
        }
    }
}

/// Columns whose values are masked in sample rows: those tagged as personal data or
/// restricted, with the category.
pub fn masked_columns(store: &GraphStore, dataset: &DatasetKey) -> Result<HashMap<String, String>> {
    let iri = store.scheme().dataset(dataset);
    let rows = store.select(&format!(
        "SELECT ?name ?tag WHERE {{ ?col gg:columnOf {iri} ; csvw:name ?name ; gg:tag ?tag }}"
    ))?;
    let mut out = HashMap::new();
    for r in &rows {
        let (Some(name), Some(tag)) = (text(r.get("name")), text(r.get("tag"))) else {
            continue;
        };
        let key = tag.rsplit('/').next().unwrap_or(&tag);
        let why = if let Some(category) = key.strip_prefix("pii.") {
            category.to_owned()
        } else if key == "pii" || key == "restricted" {
            key.to_owned()
        } else {
            continue;
        };
        out.insert(name, why);
    }
    Ok(out)
}

/// Columns the classifier finds personal data in, from a sample of the data: whatever the
/// catalog says, their values are masked in sample rows (a column nobody classified yet is
/// not thereby safe to show).
fn detected_pii(source: &DatasetSource) -> Result<Vec<(String, String)>> {
    let samples = crate::locate::sample_source(source, crate::sample::DEFAULT_ROWS)?;
    Ok(crate::classify_table(&samples)
        .into_iter()
        .filter(|c| c.category != crate::Category::None)
        .map(|c| (c.name, c.category.id().to_owned()))
        .collect())
}

/// The dataset a reference rule points to.
fn referenced(dataset: &DatasetKey, references: &str) -> DatasetKey {
    match references.split_once('/') {
        Some((system, name)) => DatasetKey::new(system, name),
        None => DatasetKey::new(&dataset.system, references),
    }
}

fn profile_of(
    dataset: &DatasetKey,
    source: &DatasetSource,
    engine: FileEngine,
) -> Result<DatasetProfile> {
    let mut profile = crate::locate::profile_source_with(source, engine)?;
    profile.dataset = format!("{}/{}", dataset.system, dataset.name);
    Ok(profile)
}

/// The file a reference rule's dataset lives in.
fn parent_file(
    store: &GraphStore,
    dataset: &DatasetKey,
    rule: &Rule,
) -> std::result::Result<PathBuf, String> {
    let Check::Referential { references, .. } = &rule.check else {
        return Err("not a reference rule".to_owned());
    };
    let parent = referenced(dataset, references);
    match locate(store, &parent).map_err(|e| e.to_string())? {
        DatasetSource::File(p) => Ok(p),
        DatasetSource::Postgres { .. } => Err(format!(
            "{}/{} lives in PostgreSQL; a file cannot be checked against it",
            parent.system, parent.name
        )),
    }
}

/// Assesses `dataset`.
pub fn assess(
    store: &GraphStore,
    dataset: &DatasetKey,
    options: AssessOptions,
) -> Result<Assessment> {
    let (started, _) = now_stamp();
    let label = format!("{}/{}", dataset.system, dataset.name);
    let (rules, unreadable) = catalog_rules(store, dataset)?;
    let columns = catalog_columns(store, dataset)?;
    let source = locate(store, dataset)?;
    let mut masked = masked_columns(store, dataset)?;
    let mut profile_graph = None;
    // The profile already judged every column's semantic type from its first values; without
    // one, a sample is classified for the same purpose.
    let detected = if options.profile {
        let profile = profile_of(dataset, &source, options.engine)?;
        if options.store {
            profile_graph =
                Some(crate::profile::store::store_profile(store, dataset, &profile)?.graph);
        }
        profile
            .columns
            .into_iter()
            .filter(|c| {
                c.semantic_type
                    .parse::<crate::Category>()
                    .is_ok_and(|k| k != crate::Category::None)
            })
            .map(|c| (c.name, c.semantic_type))
            .collect()
    } else {
        detected_pii(&source)?
    };
    for (column, category) in detected {
        masked.entry(column).or_insert(category);
    }
    let run_options = RunOptions {
        masked,
        now_micros: None,
    };
    let (row_count, results, where_) = match &source {
        DatasetSource::File(path) => {
            let mut parents = |rule: &Rule| -> std::result::Result<KeySet, String> {
                let Check::Referential { columns, .. } = &rule.check else {
                    return Err("not a reference rule".to_owned());
                };
                file_keys(
                    &parent_file(store, dataset, rule)?,
                    &super::run::parent_columns(rule, columns),
                )
                .map_err(|e| e.to_string())
            };
            let (rows, results) = match options.engine.for_rules()? {
                #[cfg(feature = "datafusion")]
                FileEngine::DataFusion => {
                    let mut parent = |rule: &Rule| -> std::result::Result<PathBuf, String> {
                        parent_file(store, dataset, rule)
                    };
                    super::run::run_sql(
                        &crate::engine::DataFusionRunner,
                        path,
                        &columns,
                        &rules,
                        &mut parent,
                        &run_options,
                    )?
                }
                _ => run_file(path, &columns, &rules, &mut parents, &run_options)?,
            };
            (rows, results, path.display().to_string())
        }
        DatasetSource::Postgres {
            location,
            schema,
            table,
        } => {
            let mut client = open_read_only(location)?;
            let mut parent = |rule: &Rule| -> std::result::Result<(String, String), String> {
                let Check::Referential { references, .. } = &rule.check else {
                    return Err("not a reference rule".to_owned());
                };
                let parent = referenced(dataset, references);
                match locate(store, &parent).map_err(|e| e.to_string())? {
                    DatasetSource::Postgres {
                        location: l,
                        schema,
                        table,
                    } if &l == location => Ok((schema, table)),
                    _ => Err(format!(
                        "{}/{} is not a table of the same PostgreSQL database",
                        parent.system, parent.name
                    )),
                }
            };
            let (rows, results) = run_postgres(
                &mut client,
                schema,
                table,
                &rules,
                &mut parent,
                &run_options,
            )?;
            let _ = client.batch_execute("ROLLBACK");
            (rows, results, format!("{location}/{schema}.{table}"))
        }
    };
    let (series_checked, anomalies) = detect(store, dataset)?;
    let mut outcomes: Vec<Outcome> = results
        .iter()
        .map(|r| Outcome {
            dimension: r.dimension.clone(),
            severity: r.severity.clone(),
            pass_rate: r.pass_rate,
            status: r.status.clone(),
        })
        .collect();
    if series_checked > 0 {
        outcomes.push(Outcome {
            dimension: "Accuracy".to_owned(),
            severity: "warn".to_owned(),
            pass_rate: Some(1.0 - anomalies.len() as f64 / series_checked as f64),
            status: if anomalies.is_empty() { "pass" } else { "fail" }.to_owned(),
        });
    }
    let scores = score(&outcomes);
    let stored = if options.store {
        Some(store_run(
            store,
            dataset,
            &started,
            &results,
            &scores,
            (series_checked > 0).then_some((series_checked, anomalies.as_slice())),
        )?)
    } else {
        None
    };
    Ok(Assessment {
        dataset: label,
        source: where_,
        started,
        row_count,
        results,
        unreadable,
        series_checked,
        anomalies,
        scores,
        profile_graph,
        stored,
    })
}

/// What suggestions are drawn from: the catalog's facts, a fresh profile of the data (when
/// it can be found), and the rules the dataset already has (applied suggestions left out, as
/// they are replaced).
pub fn suggestion_inputs(
    store: &GraphStore,
    dataset: &DatasetKey,
) -> Result<(CatalogFacts, Option<DatasetProfile>, Vec<Rule>)> {
    let facts = catalog_facts(store, dataset)?;
    if facts.columns.is_empty() && !crate::store::dataset_exists(store, dataset)? {
        return Err(Error::NotFound(format!(
            "dataset {}/{}",
            dataset.system, dataset.name
        )));
    }
    let profile = match locate(store, dataset) {
        Ok(source) => Some(profile_of(dataset, &source, FileEngine::Auto)?),
        Err(Error::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    let (existing, _) = catalog_rules(store, dataset)?;
    let existing = existing
        .into_iter()
        .filter(|r| r.origin != "suggested")
        .collect();
    Ok((facts, profile, existing))
}

/// Suggestions for `dataset` from its catalog entry, its standards and a fresh profile of its
/// data (when the data can be found).
pub fn suggest_for(store: &GraphStore, dataset: &DatasetKey) -> Result<Vec<Suggestion>> {
    let (facts, profile, existing) = suggestion_inputs(store, dataset)?;
    let mut out = suggest(
        &facts,
        profile.as_ref(),
        &existing,
        super::run::now_micros(),
    );
    assign_iris(store, &mut out);
    Ok(out)
}
