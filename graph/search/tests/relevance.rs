//! Relevance of search over the demo catalog, from the labelled queries in `relevance.txt`:
//! recall@10 and nDCG@10 for BM25 alone, vectors alone and hybrid. Hybrid must beat both.
//!
//! `cargo test -p govgraph-search --test relevance -- --nocapture` prints the table and the
//! queries each ranking misses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;

use common::demo_index;
use govgraph_search::{Mode, SearchIndex, SearchRequest};

const BASE: &str = "https://id.govgraph.dev/";

fn expand(short: &str) -> String {
    if let Some(c) = short.strip_prefix("c:") {
        let (table, column) = c.rsplit_once('.').expect("c:SYSTEM/TABLE.COLUMN");
        format!("{BASE}dataset/{table}/column/{column}")
    } else if let Some(d) = short.strip_prefix("d:") {
        format!("{BASE}dataset/{d}")
    } else {
        format!("{BASE}{short}")
    }
}

/// (query, relevant IRI -> gain)
fn labelled() -> Vec<(String, HashMap<String, f64>)> {
    include_str!("relevance.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (q, rel) = l.split_once('|').expect("query | relevant");
            let rel = rel
                .split_whitespace()
                .map(|r| match r.strip_prefix('*') {
                    Some(r) => (expand(r), 2.0),
                    None => (expand(r), 1.0),
                })
                .collect();
            (q.trim().to_owned(), rel)
        })
        .collect()
}

fn ndcg_at_10(ranked: &[String], rel: &HashMap<String, f64>) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, iri)| rel.get(iri).copied().unwrap_or(0.0) / ((i + 2) as f64).log2())
        .sum();
    let mut gains: Vec<f64> = rel.values().copied().collect();
    gains.sort_by(|a, b| b.total_cmp(a));
    let ideal: f64 = gains
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, g)| g / ((i + 2) as f64).log2())
        .sum();
    if ideal == 0.0 { 0.0 } else { dcg / ideal }
}

fn recall_at_10(ranked: &[String], rel: &HashMap<String, f64>) -> f64 {
    let found = ranked
        .iter()
        .take(10)
        .filter(|i| rel.contains_key(*i))
        .count();
    found as f64 / rel.len().min(10) as f64
}

#[test]
fn labelled_iris_exist_in_the_demo_catalog() {
    let (_, index) = demo_index();
    let mut missing = Vec::new();
    for (q, rel) in labelled() {
        for iri in rel.keys() {
            if !known(&index, iri) {
                missing.push(format!("{q}: {iri}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "labels name unknown entities:\n{}",
        missing.join("\n")
    );
}

fn known(index: &SearchIndex, iri: &str) -> bool {
    index.get(iri).unwrap().is_some()
}

#[test]
fn hybrid_beats_text_and_vectors() {
    let (_, index) = demo_index();
    let queries = labelled();
    assert!(queries.len() >= 60, "{} labelled queries", queries.len());
    let mut table = Vec::new();
    for mode in [Mode::Text, Mode::Vector, Mode::Hybrid] {
        let (mut recall, mut ndcg) = (0.0, 0.0);
        let mut misses = Vec::new();
        for (q, rel) in &queries {
            let r = index
                .search(&SearchRequest {
                    mode,
                    ..SearchRequest::new(q)
                })
                .unwrap();
            let ranked: Vec<String> = r.hits.iter().map(|h| h.iri.clone()).collect();
            let n = ndcg_at_10(&ranked, rel);
            recall += recall_at_10(&ranked, rel);
            ndcg += n;
            if n < 0.5 {
                misses.push(format!("  {n:.2} {q}"));
            }
        }
        let k = queries.len() as f64;
        table.push((mode, recall / k, ndcg / k));
        println!(
            "{mode:?}: {} queries below nDCG 0.5\n{}",
            misses.len(),
            misses.join("\n")
        );
    }
    for (q, rel) in &queries {
        let n: Vec<f64> = [Mode::Text, Mode::Vector, Mode::Hybrid]
            .into_iter()
            .map(|mode| {
                let r = index
                    .search(&SearchRequest {
                        mode,
                        ..SearchRequest::new(q)
                    })
                    .unwrap();
                let ranked: Vec<String> = r.hits.iter().map(|h| h.iri.clone()).collect();
                ndcg_at_10(&ranked, rel)
            })
            .collect();
        if n[2] + 0.05 < n[0].max(n[1]) {
            println!(
                "hybrid loses: {q}: text {:.2} vector {:.2} hybrid {:.2}",
                n[0], n[1], n[2]
            );
        }
    }
    println!("\n| ranking | recall@10 | nDCG@10 |\n| --- | --- | --- |");
    for (mode, r, n) in &table {
        println!("| {mode:?} | {r:.3} | {n:.3} |");
    }
    let (_, tr, tn) = table[0];
    let (_, vr, vn) = table[1];
    let (_, hr, hn) = table[2];
    assert!(
        hn > tn && hn > vn,
        "nDCG@10: hybrid {hn:.3}, text {tn:.3}, vector {vn:.3}"
    );
    assert!(
        hr > tr && hr > vr,
        "recall@10: hybrid {hr:.3}, text {tr:.3}, vector {vr:.3}"
    );
}
