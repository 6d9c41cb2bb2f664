//! The demo catalog loads cleanly into a store and holds what the README promises.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use govgraph_graph::oxigraph::io::RdfFormat;
use govgraph_graph::{GraphStore, LoadOptions, LoadSource, NoProgress, Severity, StoreConfig};

#[test]
fn the_demo_catalog_conforms_to_the_shapes() {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let sources = govgraph_seeds::DEMO_SOURCES
        .iter()
        .map(|s| LoadSource::from_bytes(s.name, s.path, RdfFormat::Turtle, s.turtle))
        .collect();
    let report = store
        .load(sources, &LoadOptions::default(), &NoProgress)
        .unwrap();
    assert_eq!(report.graphs.len(), govgraph_seeds::DEMO_SOURCES.len());
    let full = store.validate().unwrap();
    let problems: Vec<String> = full
        .results
        .iter()
        .filter(|r| r.severity >= Severity::Warning)
        .map(|r| {
            format!(
                "{:?} {} {:?} {}",
                r.severity, r.focus_node, r.path, r.message
            )
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let o = govgraph_agents::overview(&store).unwrap();
    assert_eq!(o.domains, 4);
    assert!(o.terms >= 30, "{o:?}");
    assert_eq!(o.datasets, 13, "{o:?}");
    assert!(
        o.columns > 100 && o.rules >= 10 && o.policies >= 5 && o.processing_activities == 4,
        "{o:?}"
    );
    assert!(o.table_lineage_edges > 0, "{o:?}");
}

#[test]
fn a_synthetic_catalog_conforms_to_the_shapes() {
    let cfg = govgraph_seeds::SyntheticConfig {
        tables: 60,
        columns_per_table: 20,
        ..Default::default()
    };
    let mut bytes = Vec::new();
    let stats = govgraph_seeds::write_ntriples(&cfg, &mut bytes).unwrap();
    assert!(stats.column_edges > 100, "{stats:?}");
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    // A validated load: it fails on any SHACL violation.
    store
        .load_one(LoadSource::from_bytes(
            "synthetic",
            "synthetic.nt",
            RdfFormat::NTriples,
            bytes,
        ))
        .unwrap();
    let o = govgraph_agents::overview(&store).unwrap();
    assert_eq!(o.datasets, 60);
    assert_eq!(o.columns, 1200);
}
