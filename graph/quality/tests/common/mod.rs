//! What several test files share: the shop fixture of `tests/rules/shop`, ingested.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use govgraph_connectors::files::{FilesOptions, ingest_files};
use govgraph_graph::oxigraph::io::RdfFormat;
use govgraph_graph::{GraphStore, LoadOptions, LoadSource, NoProgress, StoreConfig};

/// The folder of the shop fixture.
pub fn shop() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules/shop")
}

/// An in-memory catalog with the shop's two CSV files ingested as system `lake` (from a
/// temporary copy, returned with it) and the rules of its `catalog.ttl` loaded.
pub fn shop_catalog() -> (GraphStore, tempfile::TempDir) {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for f in ["orders.csv", "customers.csv"] {
        std::fs::copy(shop().join(f), dir.path().join(f)).unwrap();
    }
    let options = FilesOptions {
        system: Some("lake".to_owned()),
        ..FilesOptions::default()
    };
    ingest_files(&store, dir.path(), &options, &NoProgress).unwrap();
    let ttl = std::fs::read(shop().join("catalog.ttl")).unwrap();
    store
        .load(
            vec![LoadSource::from_bytes(
                "shop-rules",
                "catalog.ttl",
                RdfFormat::Turtle,
                ttl,
            )],
            &LoadOptions::default(),
            &NoProgress,
        )
        .unwrap();
    (store, dir)
}
