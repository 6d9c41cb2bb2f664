//! What the engine needs to know about a resource: its kind, dataset, classifications (with
//! their broader concepts), domain, and whether it holds personal or restricted data.

use std::collections::BTreeSet;

use govgraph_graph::GraphStore;
use govgraph_graph::scope::Scope;
use govgraph_graph::store::QueryOptions;
use oxigraph::model::Term;
use serde::Serialize;

use crate::error::{Error, Result};

/// What kind of resource a decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    /// A column.
    Column,
    /// A dataset (table, view, file, model, dashboard).
    Dataset,
    /// Anything else in the catalog.
    Other,
}

/// The facts about a resource that decisions use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// Its IRI.
    pub iri: String,
    /// Column, dataset or other.
    pub kind: ResourceKind,
    /// The dataset (itself, for a dataset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// Its dataset's domain (IRI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Its own tags and classifications with all their broader concepts, and their DPV
    /// personal-data categories (a column's, not its dataset's: a dataset tagged `pii` holds
    /// personal data somewhere, not in every column).
    pub tags: BTreeSet<String>,
    /// Whether it holds personal data.
    pub personal: bool,
    /// Whether it holds restricted or special-category data.
    pub restricted: bool,
    /// Whether anybody classified it (it, or its dataset, carries a classification, or a
    /// classifier labelled it). An unclassified column is treated as restricted.
    pub classified: bool,
}

impl Resource {
    /// A resource nobody knows anything about (decisions on it deny).
    pub fn unknown(iri: &str) -> Self {
        Self {
            iri: iri.to_owned(),
            kind: ResourceKind::Other,
            dataset: None,
            domain: None,
            tags: BTreeSet::new(),
            personal: false,
            restricted: false,
            classified: false,
        }
    }

    /// The IRIs an ODRL target may use to name this resource: itself, its dataset, its tags,
    /// its domain.
    pub fn target_names(&self) -> BTreeSet<String> {
        let mut out = self.tags.clone();
        out.insert(self.iri.clone());
        out.extend(self.dataset.iter().cloned());
        out.extend(self.domain.iter().cloned());
        out
    }
}

/// A term's text: a literal's value or an IRI.
pub(crate) fn text(t: Option<&Term>) -> Option<String> {
    match t {
        Some(Term::Literal(l)) => Some(l.value().to_owned()),
        Some(Term::NamedNode(n)) => Some(n.as_str().to_owned()),
        _ => None,
    }
}

/// Runs a SELECT within `scope`, cancelled after 30 s, and collects its rows.
pub(crate) fn select(
    store: &GraphStore,
    scope: &Scope,
    sparql: &str,
) -> Result<Vec<oxigraph::sparql::QuerySolution>> {
    let options = QueryOptions {
        timeout: Some(std::time::Duration::from_secs(30)),
        ..QueryOptions::default()
    };
    let outcome = store.query_in(sparql, &options, scope)?;
    Ok(govgraph_graph::store::collect_solutions(
        outcome.results,
        &outcome.deadline,
    )?)
}

/// Checks that `iri` can go between `<` and `>` in a query.
pub(crate) fn check_iri(iri: &str, field: &str) -> Result<()> {
    if iri.is_empty()
        || iri.chars().any(|c| {
            c.is_whitespace() || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\')
        })
        || !iri.contains(':')
    {
        return Err(Error::invalid(
            "request",
            field,
            format!("{iri:?} is not an IRI"),
        ));
    }
    Ok(())
}

/// Reads the facts about `iri`; `NotFound` when the catalog does not know it.
pub fn load(store: &GraphStore, scope: &Scope, iri: &str) -> Result<Resource> {
    check_iri(iri, "resource")?;
    let rows = select(
        store,
        scope,
        &format!(
            "SELECT ?type ?ds WHERE {{ <{iri}> a ?type . OPTIONAL {{ <{iri}> gg:columnOf ?ds }} }}"
        ),
    )?;
    if rows.is_empty() {
        return Err(Error::NotFound(iri.to_owned()));
    }
    let types: BTreeSet<String> = rows.iter().filter_map(|r| text(r.get("type"))).collect();
    let column_of = rows.iter().find_map(|r| text(r.get("ds")));
    let (kind, dataset) = if types.contains("http://www.w3.org/ns/csvw#Column") {
        (ResourceKind::Column, column_of)
    } else if types.contains("http://www.w3.org/ns/dcat#Dataset") {
        (ResourceKind::Dataset, Some(iri.to_owned()))
    } else {
        (ResourceKind::Other, None)
    };
    let mut resource = Resource {
        iri: iri.to_owned(),
        kind,
        dataset: dataset.clone(),
        domain: None,
        tags: BTreeSet::new(),
        personal: false,
        restricted: false,
        classified: kind != ResourceKind::Column,
    };
    // Its classifications and their broader concepts.
    let rows = select(
        store,
        scope,
        &format!(
            "SELECT ?t ?cls ?sensitivity ?category ?special WHERE {{
               <{iri}> gg:tag ?t0 . ?t0 skos:broader* ?t .
               OPTIONAL {{ ?t a ?cls FILTER(?cls = gg:Classification) }}
               OPTIONAL {{ ?t gg:sensitivity ?sensitivity }}
               OPTIONAL {{ ?t gg:personalDataCategory ?category }}
               OPTIONAL {{ ?t gg:specialCategory ?special }}
             }}"
        ),
    )?;
    for r in &rows {
        let Some(t) = text(r.get("t")) else { continue };
        let notation = t.rsplit('/').next().unwrap_or_default().to_owned();
        if r.get("cls").is_some() {
            resource.classified = true;
        }
        if let Some(category) = text(r.get("category")) {
            // A rule may name the DPV personal-data category instead of the tag.
            resource.tags.insert(category);
            resource.personal = true;
        }
        if notation == "pii" || notation.starts_with("pii.") {
            resource.personal = true;
        }
        if text(r.get("sensitivity")).as_deref() == Some("restricted")
            || text(r.get("special")).as_deref() == Some("true")
            || notation == "restricted"
        {
            resource.restricted = true;
        }
        resource.tags.insert(t);
    }
    if let Some(ds) = &dataset {
        let rows = select(
            store,
            scope,
            &format!(
                "SELECT ?domain ?cls WHERE {{
                   OPTIONAL {{ <{ds}> gg:domain ?domain }}
                   OPTIONAL {{ <{ds}> gg:tag ?t . ?t a gg:Classification BIND(true AS ?cls) }}
                 }}"
            ),
        )?;
        for r in &rows {
            if resource.domain.is_none() {
                resource.domain = text(r.get("domain"));
            }
            if r.get("cls").is_some() {
                resource.classified = true;
            }
        }
        if kind == ResourceKind::Column && !resource.classified {
            let rows = select(
                store,
                scope,
                &format!("SELECT ?c WHERE {{ <{iri}> gg:classification ?c }} LIMIT 1"),
            )?;
            resource.classified = !rows.is_empty();
        }
    }
    Ok(resource)
}

/// Resolves what a person types for a resource: an IRI as it is; `bronze.customers` or
/// `shop/bronze.customers` for a dataset; `bronze.customers.email` for a column.
pub fn resolve(store: &GraphStore, scope: &Scope, name: &str) -> Result<String> {
    let name = name.trim();
    if name.starts_with("http://") || name.starts_with("https://") || name.starts_with("urn:") {
        check_iri(name, "resource")?;
        return Ok(name.to_owned());
    }
    if name.is_empty()
        || name.chars().any(|c| {
            c.is_whitespace() || matches!(c, '"' | '\\' | '<' | '>' | '{' | '}' | '|' | '^' | '`')
        })
    {
        return Err(Error::invalid(
            "request",
            "resource",
            format!("{name:?} is neither an IRI nor a dataset or column name"),
        ));
    }
    // `SYSTEM/NAME` is the dataset's key; otherwise its identifier (an indexed lookup), and
    // only then any dataset whose IRI ends with the name.
    let datasets = |name: &str| -> Result<Vec<String>> {
        let query = match name.split_once('/') {
            Some((system, table)) => {
                let iri = store
                    .scheme()
                    .dataset(&govgraph_graph::DatasetKey::new(system, table));
                format!("SELECT ?d WHERE {{ BIND({iri} AS ?d) ?d a dcat:Dataset }}")
            }
            None => format!(
                "SELECT DISTINCT ?d WHERE {{ ?d dct:identifier \"{name}\" ; a dcat:Dataset }}"
            ),
        };
        let mut v: Vec<String> = select(store, scope, &query)?
            .iter()
            .filter_map(|r| text(r.get("d")))
            .collect();
        if v.is_empty() && !name.contains('/') {
            v = select(
                store,
                scope,
                &format!(
                    "SELECT DISTINCT ?d WHERE {{ ?d a dcat:Dataset FILTER(STRENDS(STR(?d), \"/{name}\")) }}"
                ),
            )?
            .iter()
            .filter_map(|r| text(r.get("d")))
            .collect();
        }
        v.sort();
        v.dedup();
        Ok(v)
    };
    let found = datasets(name)?;
    if let Some(d) = found.first() {
        return Ok(d.clone());
    }
    if let Some((table, column)) = name.rsplit_once('.') {
        for d in datasets(table)? {
            let iri = format!("{d}/column/{column}");
            let rows = select(
                store,
                scope,
                &format!("SELECT ?t WHERE {{ <{iri}> a ?t }} LIMIT 1"),
            )?;
            if !rows.is_empty() {
                return Ok(iri);
            }
        }
    }
    Err(Error::NotFound(name.to_owned()))
}

/// The purposes `purpose` is a kind of: itself and its broader purposes.
pub fn purpose_ancestors(store: &GraphStore, purpose: &str) -> Result<BTreeSet<String>> {
    check_iri(purpose, "purpose")?;
    let mut out = BTreeSet::from([purpose.to_owned()]);
    let rows = store.select(&format!(
        "SELECT DISTINCT ?b WHERE {{ <{purpose}> skos:broader+ ?b }}"
    ))?;
    out.extend(rows.iter().filter_map(|r| text(r.get("b"))));
    Ok(out)
}
