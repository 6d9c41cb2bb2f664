//! govgraph's agents: the layer that answers people's questions from the graph.
//!
//! [`ask`] answers governance questions in plain words from the graph ("talk to metadata"),
//! [`overview`] gives the catalog at a glance, and [`quality`] asks a language model for rule
//! suggestions, and [`product`] builds data products from requests in words. This crate knows
//! no HTTP. Behind features, `embed` (`openai`) and `local_embed` (`local-model`) provide
//! search embedders.

pub mod ask;
#[cfg(feature = "openai")]
pub mod embed;
pub mod embedding;
pub mod error;
#[cfg(feature = "local-model")]
pub mod local_embed;
#[cfg(feature = "openai")]
mod openai;
pub mod product;
pub mod quality;

use govgraph_graph::oxigraph::model::Term;
use govgraph_graph::{GraphStore, Result};
use serde::Serialize;

/// The catalog at a glance: how many of each kind of entity it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Overview {
    /// Source systems.
    pub systems: u64,
    /// Datasets of every kind.
    pub datasets: u64,
    /// Columns.
    pub columns: u64,
    /// Glossary terms.
    pub terms: u64,
    /// Domains.
    pub domains: u64,
    /// People and teams.
    pub agents: u64,
    /// Tags and classifications.
    pub tags: u64,
    /// Quality rules.
    pub rules: u64,
    /// Policies.
    pub policies: u64,
    /// Processing activities.
    pub processing_activities: u64,
    /// Table-level lineage edges.
    pub table_lineage_edges: u64,
    /// Column-level lineage edges.
    pub column_lineage_edges: u64,
}

/// Counts the catalog's entities in one query.
pub fn overview(store: &GraphStore) -> Result<Overview> {
    let query = "SELECT
        (COUNT(DISTINCT ?system) AS ?systems) (COUNT(DISTINCT ?dataset) AS ?datasets)
        (COUNT(DISTINCT ?column) AS ?columns) (COUNT(DISTINCT ?term) AS ?terms)
        (COUNT(DISTINCT ?domain) AS ?domains) (COUNT(DISTINCT ?agent) AS ?agents)
        (COUNT(DISTINCT ?tag) AS ?tags) (COUNT(DISTINCT ?rule) AS ?rules)
        (COUNT(DISTINCT ?policy) AS ?policies) (COUNT(DISTINCT ?activity) AS ?activities)
        (COUNT(DISTINCT ?tl) AS ?table_edges) (COUNT(DISTINCT ?cl) AS ?column_edges)
      WHERE {
        { ?system a gg:System } UNION { ?dataset a dcat:Dataset } UNION { ?column a csvw:Column }
        UNION { ?term a gg:GlossaryTerm } UNION { ?domain a gg:Domain } UNION { ?agent a prov:Agent }
        UNION { ?tag a gg:Tag } UNION { ?rule a gg:QualityRule } UNION { ?policy a odrl:Policy }
        UNION { ?activity a gg:ProcessingActivity }
        UNION { ?a prov:wasDerivedFrom ?b . ?a a dcat:Dataset . BIND(CONCAT(STR(?a), ' ', STR(?b)) AS ?tl) }
        UNION { ?cl a gg:ColumnDerivation }
      }";
    let rows = store.select(query)?;
    let Some(row) = rows.first() else {
        return Ok(Overview::default());
    };
    let n = |v: &str| match row.get(v) {
        Some(Term::Literal(l)) => l.value().parse().unwrap_or(0),
        _ => 0,
    };
    Ok(Overview {
        systems: n("systems"),
        datasets: n("datasets"),
        columns: n("columns"),
        terms: n("terms"),
        domains: n("domains"),
        agents: n("agents"),
        tags: n("tags"),
        rules: n("rules"),
        policies: n("policies"),
        processing_activities: n("activities"),
        table_lineage_edges: n("table_edges"),
        column_lineage_edges: n("column_edges"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use govgraph_graph::oxigraph::io::RdfFormat;
    use govgraph_graph::{LoadSource, StoreConfig};

    #[test]
    fn counts_what_is_there() {
        let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
        assert_eq!(overview(&store).unwrap(), Overview::default());
        let ttl = r#"
            @prefix gg: <https://govgraph.dev/ns#> . @prefix csvw: <http://www.w3.org/ns/csvw#> .
            @prefix prov: <http://www.w3.org/ns/prov#> . @prefix dct: <http://purl.org/dc/terms/> .
            <urn:a> a gg:Table ; dct:title "a" . <urn:b> a gg:View ; dct:title "b" ; prov:wasDerivedFrom <urn:a> .
            <urn:a1> a csvw:Column ; csvw:name "x" ; gg:columnOf <urn:a> .
            <urn:b1> a csvw:Column ; csvw:name "x" ; gg:columnOf <urn:b> ; prov:wasDerivedFrom <urn:a1> .
        "#;
        store
            .load_one(LoadSource::from_bytes("t", "t.ttl", RdfFormat::Turtle, ttl))
            .unwrap();
        let o = overview(&store).unwrap();
        assert_eq!((o.datasets, o.columns, o.table_lineage_edges), (2, 2, 1));
    }
}
