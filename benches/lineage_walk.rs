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

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use govgraph_graph::oxigraph::model::{NamedNode, NamedOrBlankNode, Term};
use govgraph_graph::traverse::{Direction, Level, Traversal, traverse};
use govgraph_graph::vocab::{gg, prov};
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

/// Deterministic sample without replacement (SplitMix64 + partial Fisher-Yates).
fn sample(mut v: Vec<NamedNode>, n: usize, seed: u64) -> Vec<NamedNode> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    v.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    let n = n.min(v.len());
    for i in 0..n {
        let j = i + (next() % (v.len() - i) as u64) as usize;
        v.swap(i, j);
    }
    v.truncate(n);
    v
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
    let raw = store.raw();

    // Start nodes: every node with lineage on the side being walked. Direct column
    // derivations also carry a `prov:wasDerivedFrom` shortcut between columns, so table
    // starts are the ends of those edges that are not columns (the bulk loader does not
    // materialise super-types, so `dcat:Dataset` cannot tell).
    let is_dataset = |n: &NamedNode| {
        raw.quads_for_pattern(Some(n.as_ref().into()), Some(gg::COLUMN_OF), None, None)
            .next()
            .is_none()
    };
    let mut derived_tables = HashSet::new();
    let mut source_tables = HashSet::new();
    for q in raw.quads_for_pattern(None, Some(prov::WAS_DERIVED_FROM), None, None) {
        let q = q.expect("scan");
        if let NamedOrBlankNode::NamedNode(s) = q.subject
            && is_dataset(&s)
        {
            derived_tables.insert(s);
        }
        if let Term::NamedNode(o) = q.object
            && is_dataset(&o)
        {
            source_tables.insert(o);
        }
    }
    let mut derived_columns = HashSet::new();
    for q in raw.quads_for_pattern(None, Some(prov::QUALIFIED_DERIVATION), None, None) {
        if let NamedOrBlankNode::NamedNode(s) = q.expect("scan").subject {
            derived_columns.insert(s);
        }
    }
    let mut source_columns = HashSet::new();
    let mut column_edges = 0u64;
    for q in raw.quads_for_pattern(None, Some(prov::ENTITY), None, None) {
        column_edges += 1;
        if let Term::NamedNode(o) = q.expect("scan").object {
            source_columns.insert(o);
        }
    }
    eprintln!(
        "{column_edges} column edges; starts: {} derived and {} source tables, {} derived and {} source columns",
        derived_tables.len(),
        source_tables.len(),
        derived_columns.len(),
        source_columns.len()
    );

    let kinds = [
        (
            "table_upstream",
            Level::Table,
            Direction::Upstream,
            derived_tables,
        ),
        (
            "table_downstream",
            Level::Table,
            Direction::Downstream,
            source_tables,
        ),
        (
            "column_upstream",
            Level::Column,
            Direction::Upstream,
            derived_columns,
        ),
        (
            "column_downstream",
            Level::Column,
            Direction::Downstream,
            source_columns,
        ),
    ];
    let mut results = serde_json::Map::new();
    println!(
        "{:<18} {:>7} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "walk", "samples", "p50 ms", "p95 ms", "p99 ms", "max ms", "mean nodes", "max nodes"
    );
    for (i, (name, level, direction, starts)) in kinds.into_iter().enumerate() {
        let starts = sample(starts.into_iter().collect(), args.samples, 42 + i as u64);
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
