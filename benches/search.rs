//! Search at scale: index build time, memory, and query latency.
//!
//! `cargo bench --bench search -- [--tables N] [--columns M] [--queries Q] [--data DIR]
//!  [--out FILE]`
//!
//! It bulk-loads the synthetic catalog (default 5,000 tables x 20 columns = 100,000
//! columns; `--tables 50000` gives a million) into an on-disk store, builds the search
//! index from scratch with the built-in embedder, then runs a fixed mix of queries (names,
//! abbreviations, typos, business phrases, with and without filters) `--queries` times in all
//! and reports p50/p95/p99 per ranking. `--data DIR` keeps the store between runs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use govgraph_graph::{GraphStore, StoreConfig};
use govgraph_search::{HashEmbedder, Mode, SearchIndex};
use serde_json::json;

fn main() {
    let mut tables = 5_000usize;
    let mut columns = 20usize;
    let mut queries = 1_000usize;
    let mut data: Option<PathBuf> = None;
    let mut out: Option<PathBuf> = None;
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let next = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--tables" => tables = next.parse().unwrap_or(tables),
            "--columns" => columns = next.parse().unwrap_or(columns),
            "--queries" => queries = next.parse().unwrap_or(queries),
            "--data" => data = Some(PathBuf::from(next)),
            "--out" => out = Some(PathBuf::from(next)),
            // cargo bench passes --bench
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    let scratch = tempfile::tempdir().expect("temp dir");
    let data = data.unwrap_or_else(|| scratch.path().join("data"));
    let dataset = common::prepare(tables, columns, &data);
    let store = GraphStore::open(&data.join("store"), StoreConfig::default()).expect("open");
    let rss_before = common::peak_rss_mib();

    let index_dir = data.join("search");
    let _ = std::fs::remove_dir_all(&index_dir);
    let t = Instant::now();
    let mut index =
        SearchIndex::open(&index_dir, Arc::new(HashEmbedder::default())).expect("open index");
    let report = index.sync(&store).expect("build");
    let build_secs = t.elapsed().as_secs_f64();
    let rss_build = common::peak_rss_mib();
    eprintln!(
        "indexed {} documents in {build_secs:.1} s ({})",
        report.documents, report.mode
    );
    let t = Instant::now();
    drop(index);
    let mut index =
        SearchIndex::open(&index_dir, Arc::new(HashEmbedder::default())).expect("reopen");
    let reopen = index.sync(&store).expect("sync");
    let reopen_secs = t.elapsed().as_secs_f64();
    assert_eq!(reopen.mode, "unchanged");

    let mut results = serde_json::Map::new();
    println!(
        "{:<8} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "ranking", "queries", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    for mode in [Mode::Hybrid, Mode::Text, Mode::Vector] {
        let reqs = common::search_requests(mode);
        for r in &reqs {
            index.search(r).expect("warm-up");
        }
        let mut times = Vec::with_capacity(queries);
        for n in 0..queries {
            let r = &reqs[n % reqs.len()];
            let t = Instant::now();
            let res = index.search(r).expect("search");
            times.push(t.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(res);
        }
        times.sort_by(f64::total_cmp);
        let name = format!("{mode:?}").to_lowercase();
        println!(
            "{name:<8} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            times.len(),
            common::pct(&times, 0.5),
            common::pct(&times, 0.95),
            common::pct(&times, 0.99),
            times.last().copied().unwrap_or(f64::NAN)
        );
        results.insert(
            name,
            json!({"queries": times.len(), "p50_ms": common::pct(&times, 0.5),
                   "p95_ms": common::pct(&times, 0.95), "p99_ms": common::pct(&times, 0.99),
                   "max_ms": times.last()}),
        );
    }
    let doc = json!({
        "bench": "search", "dataset": dataset, "documents": report.documents,
        "build_secs": build_secs, "reopen_secs": reopen_secs,
        "index_bytes": common::dir_size(&index_dir),
        "peak_rss_mib_store_open": rss_before, "peak_rss_mib_after_build": rss_build,
        "peak_rss_mib": common::peak_rss_mib(), "latency": results,
    });
    println!("{doc}");
    if let Some(out) = &out {
        std::fs::write(out, serde_json::to_string_pretty(&doc).unwrap_or_default())
            .expect("write --out");
    }
}
