//! What the search tests share: the demo catalog, loaded and indexed.

#![allow(clippy::unwrap_used, dead_code)]

use std::sync::Arc;

use govgraph_graph::oxigraph::io::RdfFormat;
use govgraph_graph::{GraphStore, LoadOptions, LoadSource, NoProgress, StoreConfig};
use govgraph_search::{HashEmbedder, SearchIndex};

/// The demo catalog in an in-memory store.
pub fn demo_store() -> GraphStore {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let sources = govgraph_seeds::DEMO_SOURCES
        .iter()
        .map(|s| LoadSource::from_bytes(s.name, s.path, RdfFormat::Turtle, s.turtle))
        .collect();
    store
        .load(sources, &LoadOptions::default(), &NoProgress)
        .unwrap();
    store
}

/// The demo catalog's store and an in-memory index of it.
pub fn demo_index() -> (GraphStore, SearchIndex) {
    let store = demo_store();
    let mut index = SearchIndex::in_memory(Arc::new(HashEmbedder::default())).unwrap();
    index.sync(&store).unwrap();
    (store, index)
}
