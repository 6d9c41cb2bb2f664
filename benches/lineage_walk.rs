//! Lineage traversal latency on a large on-disk graph.
//!
//! `cargo bench --bench lineage_walk -- [--tables N] [--columns M] [--samples S] [--depth D]
//!  [--data DIR] [--out FILE]`
//!
//! It generates the synthetic catalog (default 100,000 tables x 20 columns, over a million
//! column-lineage edges), loads it into an on-disk store with oxigraph's bulk loader, then
//! walks upstream and downstream, at table and at column level, from `--samples` start
//! nodes each (drawn with a fixed seed from the nodes that have lineage on that side). Every
//! walk is the product's own `traverse` with its defaults: `--depth` hops (default 10), the
//! first 1,000 nodes returned, every node counted, cycles detected.
//!
//! It prints p50/p95/p99/max latency per walk kind and one JSON document (also written to
//! `--out`). `--data DIR` keeps the loaded store and reuses it on the next run of the same
//! size, so the walk can be re-measured without loading again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::Instant;

use govgraph_graph::traverse::{Traversal, traverse};
use govgraph_graph::{GraphStore, StoreConfig};
use serde_json::json;

struct Args {
    tables: usize,
    columns: usize,
    samples: usize,
    depth: usize,
    data: Option<PathBuf>,
    out: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut a = Args {
        tables: 100_000,
        columns: 20,
        samples: 200,
        depth: 10,
        data: None,
        out: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let next = argv.get(i + 1).cloned().unwrap_or_default();
        let mut used = true;
        match argv[i].as_str() {
            "--tables" => a.tables = next.parse().unwrap_or(a.tables),
            "--columns" => a.columns = next.parse().unwrap_or(a.columns),
            "--samples" => a.samples = next.parse().unwrap_or(a.samples),
            "--depth" => a.depth = next.parse().unwrap_or(a.depth),
            "--data" => a.data = Some(PathBuf::from(next)),
            "--out" => a.out = Some(PathBuf::from(next)),
            _ => used = false, // cargo bench passes --bench
        }
        i += if used { 2 } else { 1 };
    }
    a
}

fn main() {
    let args = parse_args();
    let scratch = tempfile::tempdir().expect("temp dir");
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| scratch.path().join("data"));
    let dataset = common::prepare(args.tables, args.columns, &data);

    let t = Instant::now();
    let store = GraphStore::open(&data.join("store"), StoreConfig::default()).expect("open");
    let open_secs = t.elapsed().as_secs_f64();
    let (kinds, column_edges) = common::walk_kinds(&store);
    eprintln!(
        "{column_edges} column edges; starts: {}",
        kinds
            .iter()
            .map(|k| format!("{} {}", k.starts.len(), k.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut results = serde_json::Map::new();
    println!(
        "{:<18} {:>7} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "walk", "samples", "p50 ms", "p95 ms", "p99 ms", "max ms", "mean nodes", "max nodes"
    );
    for (i, kind) in kinds.into_iter().enumerate() {
        let (name, level, direction) = (kind.name, kind.level, kind.direction);
        let starts = common::sample(kind.starts, args.samples, 42 + i as u64);
        // One untimed walk warms the block cache path the way any served query would find it.
        if let Some(first) = starts.first() {
            let mut t = Traversal::new(first.clone(), level, direction);
            t.max_depth = args.depth;
            let _ = traverse(&store, &t);
        }
        let mut times = Vec::with_capacity(starts.len());
        let mut nodes = Vec::with_capacity(starts.len());
        let mut truncated = 0usize;
        for s in &starts {
            let mut t = Traversal::new(s.clone(), level, direction);
            t.max_depth = args.depth;
            let clock = Instant::now();
            let r = traverse(&store, &t).expect("walk");
            times.push(clock.elapsed().as_secs_f64() * 1e3);
            nodes.push(r.total as f64);
            truncated += usize::from(r.truncated);
        }
        times.sort_by(f64::total_cmp);
        let mean_nodes = nodes.iter().sum::<f64>() / nodes.len().max(1) as f64;
        let max_nodes = nodes.iter().copied().fold(0.0, f64::max);
        println!(
            "{name:<18} {:>7} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {mean_nodes:>10.1} {max_nodes:>10.0}",
            times.len(),
            common::pct(&times, 0.50),
            common::pct(&times, 0.95),
            common::pct(&times, 0.99),
            times.last().copied().unwrap_or(f64::NAN),
        );
        results.insert(
            name.to_string(),
            json!({"samples": times.len(), "p50_ms": common::pct(&times, 0.50), "p95_ms": common::pct(&times, 0.95),
                   "p99_ms": common::pct(&times, 0.99), "max_ms": times.last(), "mean_nodes": mean_nodes,
                   "max_nodes": max_nodes, "hit_depth_limit": truncated}),
        );
    }
    let doc = json!({
        "bench": "lineage_walk", "depth": args.depth, "dataset": dataset,
        "column_edges_in_store": column_edges, "open_secs": open_secs,
        "peak_rss_mib": common::peak_rss_mib(), "walks": results,
    });
    println!("{doc}");
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_string_pretty(&doc).unwrap_or_default())
            .expect("write --out");
    }
}
