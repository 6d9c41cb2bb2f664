//! Classification results in the graph, and stewards' reviews of them.
//!
//! A run for one dataset is one source graph, `classification:{system}.{dataset}`, replaced
//! by the next run. For every column with personal data it holds a `gg:ClassificationResult`
//! (the proposed `pii.{category}` tag, the confidence, the evidence as JSON, the status) that
//! the column points to with `gg:classification`, and the tag itself on the column
//! (`gg:tag`), so that search and policies see it at once. A column whose values could not
//! be read is tagged `restricted`: access is denied until someone looks.
//!
//! A steward's decision lives in a graph of its own per column,
//! `classification-review:{column}`, which runs never touch. A confirmed tag is asserted on
//! the column there, so it stays whatever later runs say; a rejected tag is never applied
//! again by a run (its result is kept, with status `rejected`).

use std::collections::{HashMap, HashSet};

use govgraph_graph::GraphStore;
use govgraph_graph::iri::{ColumnKey, DatasetKey, Kind, slug};
use govgraph_graph::loader::{LoadOptions, LoadSource, NoProgress, now_xsd};
use govgraph_graph::model::{Classification, Entity, Tag};
use govgraph_graph::vocab::{gg, prov, rdf, xsd};
use oxigraph::model::{Literal, NamedNode, Term, Triple};
use serde::Serialize;

use crate::classify::{Category, ColumnClassification};
use crate::error::{Error, Result};

/// Below this confidence a result is recorded but its tag is not applied.
pub const APPLY_THRESHOLD: f64 = 0.5;

/// A steward's decision on a proposed tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The tag is right; keep it whatever later runs say.
    Confirmed,
    /// The tag is wrong; runs never apply it to this column again.
    Rejected,
}

impl Decision {
    fn as_str(self) -> &'static str {
        match self {
            Decision::Confirmed => "confirmed",
            Decision::Rejected => "rejected",
        }
    }
}

/// What a stored run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StoredLabels {
    /// The run's graph.
    pub graph: String,
    /// Columns tagged by this run.
    pub applied: usize,
    /// Results whose tag a steward had rejected, so not applied.
    pub rejected: usize,
    /// Results a steward had already confirmed.
    pub confirmed: usize,
    /// Results below [`APPLY_THRESHOLD`], recorded but not applied.
    pub below_threshold: usize,
    /// Columns marked restricted because classification failed.
    pub restricted: usize,
}

fn review_graph(column: &ColumnKey) -> String {
    format!(
        "classification-review:{}.{}.{}",
        column.dataset.system,
        column.dataset.name,
        slug(&column.name)
    )
}

fn run_graph(dataset: &DatasetKey) -> String {
    format!("classification:{}.{}", dataset.system, dataset.name)
}

/// The tag key of a category, as the other connectors name it.
pub fn tag_key(category: Category) -> String {
    format!("pii.{}", category.id())
}

fn text(t: Option<&Term>) -> String {
    match t {
        Some(Term::NamedNode(n)) => n.as_str().to_owned(),
        Some(Term::Literal(l)) => l.value().to_owned(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// Decisions on the columns of `dataset`: (column IRI, tag IRI) → decision.
fn decisions(
    store: &GraphStore,
    dataset: &DatasetKey,
) -> Result<HashMap<(String, String), Decision>> {
    let prefix = format!("{}/column/", store.scheme().dataset(dataset).as_str());
    let rows = store.select(&format!(
        "SELECT ?col ?tag ?decision WHERE {{ ?r a gg:LabelReview ; gg:reviewOf ?col ; gg:tag ?tag ; gg:decision ?decision .
           FILTER(STRSTARTS(STR(?col), \"{prefix}\")) }}"
    ))?;
    Ok(rows
        .iter()
        .map(|r| {
            let d = if text(r.get("decision")) == "rejected" {
                Decision::Rejected
            } else {
                Decision::Confirmed
            };
            ((text(r.get("col")), text(r.get("tag"))), d)
        })
        .collect())
}

/// Which of `iris` already exist as tags in the store.
fn existing_tags(store: &GraphStore, iris: &[NamedNode]) -> Result<HashSet<String>> {
    if iris.is_empty() {
        return Ok(HashSet::new());
    }
    let values: Vec<String> = iris.iter().map(ToString::to_string).collect();
    let rows = store.select(&format!(
        "SELECT DISTINCT ?t WHERE {{ VALUES ?t {{ {} }} ?t a gg:Tag }}",
        values.join(" ")
    ))?;
    Ok(rows.iter().map(|r| text(r.get("t"))).collect())
}

/// Whether the catalog knows the dataset.
pub fn dataset_exists(store: &GraphStore, dataset: &DatasetKey) -> Result<bool> {
    let iri = store.scheme().dataset(dataset);
    Ok(!store
        .select(&format!(
            "SELECT ?t WHERE {{ {iri} a dcat:Dataset }} LIMIT 1"
        ))?
        .is_empty())
}

fn pii_tag(category: Category) -> Tag {
    Tag {
        key: tag_key(category),
        label: format!("PII: {}", category.id()),
        definition: None,
        broader: Some("pii".to_owned()),
        classification: Some(Classification {
            personal_data_category: category.dpv(),
            special_category: category.special_category(),
            sensitivity: Some(
                if category.special_category() {
                    "restricted"
                } else {
                    "confidential"
                }
                .to_owned(),
            ),
        }),
    }
}

fn root_tag() -> Tag {
    Tag {
        key: "pii".to_owned(),
        label: "PII".to_owned(),
        definition: Some("Contains personal data (GDPR Art. 4(1)).".to_owned()),
        broader: None,
        classification: Some(Classification {
            personal_data_category: None,
            special_category: false,
            sensitivity: Some("confidential".to_owned()),
        }),
    }
}

fn restricted_tag() -> Tag {
    Tag {
        key: "restricted".to_owned(),
        label: "Restricted".to_owned(),
        definition: Some("Access denied by default: the data could not be classified.".to_owned()),
        broader: None,
        classification: Some(Classification {
            personal_data_category: None,
            special_category: false,
            sensitivity: Some("restricted".to_owned()),
        }),
    }
}

/// Stores one classification run of `dataset`: `results` for the columns that were
/// classified, `failed` (column, reason) for those that could not be. Replaces the previous
/// run of the same dataset; keeps stewards' decisions.
pub fn store_labels(
    store: &GraphStore,
    dataset: &DatasetKey,
    results: &[ColumnClassification],
    failed: &[(String, String)],
) -> Result<StoredLabels> {
    if !dataset_exists(store, dataset)? {
        return Err(Error::NotFound(format!(
            "dataset {}/{}",
            dataset.system, dataset.name
        )));
    }
    let scheme = store.scheme();
    let decided = decisions(store, dataset)?;
    let now = Literal::new_typed_literal(now_xsd(), xsd::DATE_TIME);
    let mut out: Vec<Triple> = Vec::new();
    let mut stored = StoredLabels {
        graph: run_graph(dataset),
        ..StoredLabels::default()
    };
    let mut tags: Vec<Tag> = Vec::new();
    for r in results.iter().filter(|r| r.category.is_pii()) {
        let column = scheme.column(&ColumnKey::new(dataset.clone(), &r.name));
        let tag = pii_tag(r.category);
        let tag_iri = tag.iri(scheme);
        let decision = decided
            .get(&(column.as_str().to_owned(), tag_iri.as_str().to_owned()))
            .copied();
        let status = match decision {
            Some(Decision::Rejected) => {
                stored.rejected += 1;
                "rejected"
            }
            Some(Decision::Confirmed) => {
                stored.confirmed += 1;
                "confirmed"
            }
            None if r.confidence < APPLY_THRESHOLD => {
                stored.below_threshold += 1;
                "proposed"
            }
            None => {
                stored.applied += 1;
                out.push(Triple::new(
                    column.clone(),
                    gg::TAG_PROP.into_owned(),
                    tag_iri.clone(),
                ));
                "applied"
            }
        };
        let evidence = serde_json::to_string(&r.evidence).unwrap_or_default();
        let confidence = format!("{:.2}", r.confidence);
        result_triples(
            &mut out,
            &column,
            &tag_iri,
            &confidence,
            evidence,
            status,
            &now,
        );
        tags.push(tag);
    }
    for (name, reason) in failed {
        let column = scheme.column(&ColumnKey::new(dataset.clone(), name));
        let tag = restricted_tag();
        let tag_iri = tag.iri(scheme);
        out.push(Triple::new(
            column.clone(),
            gg::TAG_PROP.into_owned(),
            tag_iri.clone(),
        ));
        let evidence = format!("classification failed: {reason}");
        result_triples(&mut out, &column, &tag_iri, "0", evidence, "applied", &now);
        stored.restricted += 1;
        tags.push(tag);
    }
    if !tags.is_empty() && tags.iter().any(|t| t.broader.is_some()) {
        tags.push(root_tag());
    }
    // Tags the catalog already defines are used as they are.
    let iris: Vec<NamedNode> = tags.iter().map(|t| t.iri(scheme)).collect();
    let known = existing_tags(store, &iris)?;
    let mut written = HashSet::new();
    for t in &tags {
        let iri = t.iri(scheme);
        if !known.contains(iri.as_str()) && written.insert(iri) {
            t.write(scheme, &mut out);
        }
    }
    load(store, &stored.graph, &out)?;
    Ok(stored)
}

/// A `gg:ClassificationResult` for `column`, which points to it.
fn result_triples(
    out: &mut Vec<Triple>,
    column: &NamedNode,
    tag: &NamedNode,
    confidence: &str,
    evidence: String,
    status: &str,
    at: &Literal,
) {
    let result = NamedNode::new_unchecked(format!("{}#classification", column.as_str()));
    let mut add = |s: &NamedNode, p: oxigraph::model::NamedNodeRef<'_>, o: Term| {
        out.push(Triple::new(s.clone(), p.into_owned(), o));
    };
    add(column, gg::CLASSIFICATION_PROP, result.clone().into());
    add(
        &result,
        rdf::TYPE,
        gg::CLASSIFICATION_RESULT.into_owned().into(),
    );
    add(&result, gg::TAG_PROP, tag.clone().into());
    add(
        &result,
        gg::CONFIDENCE,
        Literal::new_typed_literal(confidence, xsd::DECIMAL).into(),
    );
    add(
        &result,
        gg::EVIDENCE,
        Literal::new_simple_literal(evidence).into(),
    );
    add(
        &result,
        gg::STATUS,
        Literal::new_simple_literal(status).into(),
    );
    add(&result, prov::GENERATED_AT_TIME, at.clone().into());
}

/// Replaces the source graph `name` with `triples`, in one validated load.
pub(crate) fn load(store: &GraphStore, name: &str, triples: &[Triple]) -> Result<()> {
    store.load(
        vec![LoadSource::from_triples(name, name, triples.to_vec())],
        &LoadOptions::default(),
        &NoProgress,
    )?;
    Ok(())
}

/// Records a steward's decision on `category` for one column. A confirmed tag is asserted
/// on the column; a rejected one is removed from it at once and never applied again.
pub fn review(
    store: &GraphStore,
    column: &ColumnKey,
    category: Category,
    decision: Decision,
    by: &str,
) -> Result<()> {
    if !dataset_exists(store, &column.dataset)? {
        return Err(Error::NotFound(format!(
            "dataset {}/{}",
            column.dataset.system, column.dataset.name
        )));
    }
    let scheme = store.scheme();
    let column_iri = scheme.column(column);
    let graph = review_graph(column);
    // Keep the column's other decisions, replace the one on this tag.
    let tag = pii_tag(category);
    let tag_iri = tag.iri(scheme);
    let mut previous: Vec<(String, String)> = store
        .select(&format!(
            "SELECT ?tag ?decision WHERE {{ ?r a gg:LabelReview ; gg:reviewOf {column_iri} ; gg:tag ?tag ; gg:decision ?decision }}"
        ))?
        .iter()
        .map(|r| (text(r.get("tag")), text(r.get("decision"))))
        .filter(|(t, _)| t != tag_iri.as_str())
        .collect();
    previous.push((tag_iri.as_str().to_owned(), decision.as_str().to_owned()));
    let now = Literal::new_typed_literal(now_xsd(), xsd::DATE_TIME);
    let mut out = Vec::new();
    for (t, d) in &previous {
        let t = NamedNode::new_unchecked(t.clone());
        let r = NamedNode::new_unchecked(format!(
            "{}#review-{}",
            column_iri.as_str(),
            slug(t.as_str().rsplit('/').next().unwrap_or(""))
        ));
        out.push(Triple::new(
            r.clone(),
            rdf::TYPE.into_owned(),
            gg::LABEL_REVIEW.into_owned(),
        ));
        out.push(Triple::new(
            r.clone(),
            gg::REVIEW_OF.into_owned(),
            column_iri.clone(),
        ));
        out.push(Triple::new(r.clone(), gg::TAG_PROP.into_owned(), t.clone()));
        out.push(Triple::new(
            r.clone(),
            gg::DECISION.into_owned(),
            Literal::new_simple_literal(d.clone()),
        ));
        out.push(Triple::new(
            r.clone(),
            prov::GENERATED_AT_TIME.into_owned(),
            now.clone(),
        ));
        if !by.trim().is_empty() {
            out.push(Triple::new(
                r.clone(),
                prov::WAS_ATTRIBUTED_TO.into_owned(),
                scheme.entity(Kind::Agent, by),
            ));
        }
        if d == "confirmed" {
            out.push(Triple::new(
                column_iri.clone(),
                gg::TAG_PROP.into_owned(),
                t,
            ));
        }
    }
    if !existing_tags(store, std::slice::from_ref(&tag_iri))?.contains(tag_iri.as_str()) {
        tag.write(scheme, &mut out);
        if !existing_tags(store, &[root_tag().iri(scheme)])?
            .contains(root_tag().iri(scheme).as_str())
        {
            root_tag().write(scheme, &mut out);
        }
    }
    load(store, &graph, &out)?;
    if decision == Decision::Rejected {
        // Take the tag off the column in the last run's graph at once.
        let run = govgraph_graph::loader::source_graph(&run_graph(&column.dataset))?;
        store.update(
            &format!(
            "DELETE DATA {{ GRAPH {run} {{ {column_iri} gg:tag {tag_iri} }} }} ;
             DELETE {{ GRAPH {run} {{ ?r gg:status ?s }} }} INSERT {{ GRAPH {run} {{ ?r gg:status \"rejected\" }} }}
             WHERE {{ GRAPH {run} {{ {column_iri} gg:classification ?r . ?r gg:tag {tag_iri} ; gg:status ?s }} }}"
            ),
            &govgraph_graph::Scope::all(),
            None,
        )?;
    }
    Ok(())
}
