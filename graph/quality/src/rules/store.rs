//! Rules and rule runs in the graph.
//!
//! Applied suggestions are the source graph `quality-rules:{system}.{dataset}`, replaced as a
//! whole each time. Every run is a source graph of its own,
//! `quality-run:{system}.{dataset}:{time}`, so history is kept: one `gg:RuleRun` per rule
//! with its counts, a `gg:Violation` per failed rule with its count and masked sample rows
//! (`gg:sampleRow`), the dataset's scores as DQV measurements (`gg:QualityScore` and one per
//! dimension, such as `gg:CompletenessScore`), and the anomaly check with its violations.

use govgraph_graph::iri::{DatasetKey, Kind};
use govgraph_graph::model::{AssetRef, Entity, QualityRule};
use govgraph_graph::vocab::{dct, dqv, gg, prov, rdf, xsd};
use govgraph_graph::{ColumnKey, GraphStore};
use oxigraph::model::{Literal, NamedNode, NamedNodeRef, Term, Triple};
use serde::Serialize;

use super::Rule;
use super::anomaly::Anomaly;
use super::run::RuleResult;
use super::score::Scores;
use crate::error::{Error, Result};
use crate::profile::accumulate::date_string;
use crate::store::dataset_exists;

/// The source graph of a dataset's applied suggestions.
pub fn rules_graph(dataset: &DatasetKey) -> String {
    format!("quality-rules:{}.{}", dataset.system, dataset.name)
}

fn asset_refs(dataset: &DatasetKey, rule: &Rule) -> Vec<AssetRef> {
    if rule.columns.is_empty() {
        vec![AssetRef::Dataset(dataset.clone())]
    } else {
        rule.columns
            .iter()
            .map(|c| AssetRef::Column(ColumnKey::new(dataset.clone(), c)))
            .collect()
    }
}

/// A rule of `dataset` as the catalog's model stores it.
pub fn quality_rule(dataset: &DatasetKey, rule: &Rule) -> QualityRule {
    QualityRule {
        key: rule.key.clone(),
        title: rule.title.clone(),
        description: rule.description.clone(),
        rule_type: rule.check.rule_type().to_owned(),
        applies_to: asset_refs(dataset, rule),
        parameters: rule.check.parameters().map(|p| p.to_string()),
        expression: match &rule.check {
            super::Check::CustomSql { expression } => Some(expression.clone()),
            _ => None,
        },
        dimension: Some(rule.dimension.clone()),
        severity: rule.severity.clone(),
        owner: None,
    }
}

/// Stores `rules` as the dataset's applied suggestions, replacing the previous set.
pub fn store_rules(store: &GraphStore, dataset: &DatasetKey, rules: &[Rule]) -> Result<String> {
    require(store, dataset)?;
    let scheme = store.scheme();
    let mut out = Vec::new();
    for r in rules {
        quality_rule(dataset, r).write(scheme, &mut out);
    }
    let graph = rules_graph(dataset);
    crate::store::load(store, &graph, &out)?;
    Ok(graph)
}

fn require(store: &GraphStore, dataset: &DatasetKey) -> Result<()> {
    if dataset_exists(store, dataset)? {
        Ok(())
    } else {
        Err(Error::NotFound(format!(
            "dataset {}/{}",
            dataset.system, dataset.name
        )))
    }
}

/// The current time as an `xsd:dateTime` with microseconds, and a compact stamp of it.
pub(crate) fn now_stamp() -> (String, String) {
    let micros = super::run::now_micros();
    let days = micros.div_euclid(86_400_000_000);
    let of_day = micros.rem_euclid(86_400_000_000);
    let now = format!(
        "{}T{:02}:{:02}:{:02}.{:06}Z",
        date_string(days),
        of_day / 3_600_000_000,
        of_day / 60_000_000 % 60,
        of_day / 1_000_000 % 60,
        of_day % 1_000_000
    );
    let stamp = now.chars().filter(char::is_ascii_alphanumeric).collect();
    (now, stamp)
}

/// What a stored run wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRun {
    /// The run's graph.
    pub graph: String,
    /// Rule runs written.
    pub rule_runs: usize,
    /// Violations opened.
    pub violations: usize,
}

fn integer(n: u64) -> Term {
    Literal::new_typed_literal(n.to_string(), xsd::INTEGER).into()
}

fn decimal(x: f64) -> Term {
    Literal::new_typed_literal(format!("{x}"), xsd::DECIMAL).into()
}

fn string(s: &str) -> Term {
    Literal::new_simple_literal(s).into()
}

/// The metric of a dimension's score.
pub fn score_metric(dimension: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{}{dimension}Score", gg::NS))
}

/// Stores one run of `dataset`'s rules: `results`, the `scores` they give, and the
/// `anomalies` found in its metric history (of `series` judged). `started` is the run's start.
pub fn store_run(
    store: &GraphStore,
    dataset: &DatasetKey,
    started: &str,
    results: &[RuleResult],
    scores: &Scores,
    anomaly_check: Option<(usize, &[Anomaly])>,
) -> Result<StoredRun> {
    require(store, dataset)?;
    let scheme = store.scheme();
    let (ended, stamp) = now_stamp();
    let started_at: Term = Literal::new_typed_literal(started, xsd::DATE_TIME).into();
    let ended_at: Term = Literal::new_typed_literal(ended.as_str(), xsd::DATE_TIME).into();
    let dataset_iri = scheme.dataset(dataset);
    let mut out: Vec<Triple> = Vec::new();
    let mut add = |s: &NamedNode, p: NamedNodeRef<'_>, o: Term| {
        out.push(Triple::new(s.clone(), p.into_owned(), o));
    };
    let mut stored = StoredRun {
        graph: format!("quality-run:{}.{}:{stamp}", dataset.system, dataset.name),
        rule_runs: 0,
        violations: 0,
    };
    for r in results {
        let rule = NamedNode::new_unchecked(r.iri.clone());
        let run = NamedNode::new_unchecked(format!("{}.run-{stamp}", r.iri));
        add(&run, rdf::TYPE, gg::RULE_RUN.into_owned().into());
        add(&run, gg::RULE, rule.clone().into());
        add(&run, gg::STATUS, string(&r.status));
        add(&run, prov::STARTED_AT_TIME, started_at.clone());
        add(&run, prov::ENDED_AT_TIME, ended_at.clone());
        if r.status != "error" {
            add(&run, gg::CHECKED_COUNT, integer(r.checked));
            add(&run, gg::FAILED_COUNT, integer(r.failed));
        }
        if let Some(m) = &r.message {
            add(&run, dct::DESCRIPTION, string(m));
        }
        stored.rule_runs += 1;
        if r.status == "fail" {
            let v = NamedNode::new_unchecked(format!("{}#violation", run.as_str()));
            add(&v, rdf::TYPE, gg::VIOLATION.into_owned().into());
            add(&v, gg::RULE, rule.into());
            if r.columns.is_empty() {
                add(&v, gg::FOCUS, dataset_iri.clone().into());
            }
            for c in &r.columns {
                add(
                    &v,
                    gg::FOCUS,
                    scheme.column(&ColumnKey::new(dataset.clone(), c)).into(),
                );
            }
            add(&v, gg::COUNT, integer(r.failed));
            add(&v, prov::WAS_GENERATED_BY, run.clone().into());
            add(&v, prov::GENERATED_AT_TIME, ended_at.clone());
            if let Some(m) = &r.message {
                add(&v, dct::DESCRIPTION, string(m));
            }
            for s in &r.samples {
                add(
                    &v,
                    gg::SAMPLE_ROW,
                    string(&serde_json::Value::Object(s.clone()).to_string()),
                );
            }
            stored.violations += 1;
        }
    }
    if let Some((judged, anomalies)) = anomaly_check {
        let key = format!("{}.{}.anomalies", dataset.system, dataset.name);
        let rule = scheme.entity(Kind::Rule, &key);
        add(&rule, rdf::TYPE, gg::QUALITY_RULE.into_owned().into());
        add(
            &rule,
            dct::TITLE,
            string(&format!(
                "{}: metrics stay within their history",
                dataset.name
            )),
        );
        add(&rule, gg::RULE_TYPE, string("anomaly"));
        add(&rule, gg::APPLIES_TO, dataset_iri.clone().into());
        add(
            &rule,
            dqv::IN_DIMENSION,
            NamedNode::new_unchecked(format!("{}Accuracy", gg::NS)).into(),
        );
        add(&rule, gg::SEVERITY, string("warn"));
        let run = NamedNode::new_unchecked(format!("{}.run-{stamp}", rule.as_str()));
        add(&run, rdf::TYPE, gg::RULE_RUN.into_owned().into());
        add(&run, gg::RULE, rule.clone().into());
        let status = if anomalies.is_empty() { "pass" } else { "fail" };
        add(&run, gg::STATUS, string(status));
        add(&run, prov::STARTED_AT_TIME, started_at.clone());
        add(&run, prov::ENDED_AT_TIME, ended_at.clone());
        add(&run, gg::CHECKED_COUNT, integer(judged as u64));
        add(&run, gg::FAILED_COUNT, integer(anomalies.len() as u64));
        stored.rule_runs += 1;
        for (i, a) in anomalies.iter().enumerate() {
            let v = NamedNode::new_unchecked(format!("{}#anomaly-{i}", run.as_str()));
            add(&v, rdf::TYPE, gg::VIOLATION.into_owned().into());
            add(&v, gg::RULE, rule.clone().into());
            add(
                &v,
                gg::FOCUS,
                NamedNode::new_unchecked(a.asset.clone()).into(),
            );
            add(&v, gg::COUNT, integer(1));
            add(&v, gg::EXPECTED_VALUE, decimal(a.verdict.expected));
            add(&v, dct::DESCRIPTION, string(&a.message()));
            add(&v, prov::WAS_GENERATED_BY, run.clone().into());
            add(&v, prov::GENERATED_AT_TIME, ended_at.clone());
            stored.violations += 1;
        }
    }
    let mut measure = |metric: NamedNode, value: f64| {
        let local = metric
            .as_str()
            .rsplit('#')
            .next()
            .unwrap_or("score")
            .to_owned();
        let m =
            NamedNode::new_unchecked(format!("{}#quality-{stamp}-{local}", dataset_iri.as_str()));
        add(&m, rdf::TYPE, dqv::QUALITY_MEASUREMENT.into_owned().into());
        add(&m, dqv::COMPUTED_ON, dataset_iri.clone().into());
        add(&m, dqv::IS_MEASUREMENT_OF, metric.into());
        add(&m, dqv::VALUE, decimal(value));
        add(&m, prov::GENERATED_AT_TIME, ended_at.clone());
    };
    if let Some(s) = scores.score {
        measure(gg::QUALITY_SCORE.into_owned(), s);
    }
    for (d, s) in &scores.dimensions {
        if super::score::DIMENSIONS.contains(&d.as_str()) {
            measure(score_metric(d), *s);
        }
    }
    crate::store::load(store, &stored.graph, &out)?;
    Ok(stored)
}
