//! What the store benches share: a synthetic catalog bulk-loaded into an on-disk store
//! (kept between runs), and process measurements.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Instant;

use govgraph_graph::oxigraph::io::{RdfFormat, RdfParser};
use govgraph_graph::oxigraph::model::NamedNode;
use govgraph_graph::{GraphStore, StoreConfig};
use serde_json::{Value, json};

/// Peak resident memory of this process so far, in MiB.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// Bytes under a directory.
pub fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The `p` quantile of sorted values (nearest rank).
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx]
}

/// Generates the synthetic catalog and bulk-loads it into `data/store`, unless `data`
/// already holds one of this size. Returns what was loaded.
pub fn prepare(tables: usize, columns: usize, data: &Path) -> Value {
    let marker = data.join(format!("synthetic-{tables}x{columns}.json"));
    if let Ok(text) = std::fs::read_to_string(&marker) {
        eprintln!("reusing the store in {}", data.display());
        return serde_json::from_str(&text).unwrap_or(Value::Null);
    }
    let _ = std::fs::remove_dir_all(data);
    std::fs::create_dir_all(data).expect("data dir");
    let scratch = tempfile::tempdir().expect("temp dir");
    let file = scratch.path().join("synthetic.nt");
    let cfg = govgraph_seeds::SyntheticConfig {
        tables,
        columns_per_table: columns,
        ..Default::default()
    };
    let t = Instant::now();
    let out = std::io::BufWriter::new(std::fs::File::create(&file).expect("create input"));
    let stats = govgraph_seeds::write_ntriples(&cfg, out).expect("generate");
    let gen_secs = t.elapsed().as_secs_f64();
    eprintln!(
        "generated {} tables x {columns} columns: {} table edges, {} column edges, {} triples in {gen_secs:.1} s",
        stats.tables, stats.table_edges, stats.column_edges, stats.triples
    );
    let store = GraphStore::open(&data.join("store"), StoreConfig::default()).expect("open");
    let graph = NamedNode::new("urn:govgraph:graph:synthetic").expect("graph name");
    let t = Instant::now();
    let mut loader = store.raw().bulk_loader();
    loader
        .load_from_reader(
            RdfParser::from_format(RdfFormat::NTriples).with_default_graph(graph),
            std::io::BufReader::new(std::fs::File::open(&file).expect("open input")),
        )
        .expect("bulk load");
    loader.commit().expect("commit");
    let load_secs = t.elapsed().as_secs_f64();
    drop(store);
    let info = json!({
        "tables": stats.tables, "columns": stats.columns, "table_edges": stats.table_edges,
        "column_edges": stats.column_edges, "triples": stats.triples,
        "generate_secs": gen_secs, "bulk_load_secs": load_secs,
        "bulk_load_triples_per_sec": stats.triples as f64 / load_secs,
        "store_bytes": dir_size(&data.join("store")),
    });
    eprintln!("bulk-loaded in {load_secs:.1} s");
    std::fs::write(&marker, info.to_string()).expect("marker");
    info
}
