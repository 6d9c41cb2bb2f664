//! Offline question answering latency: the labelled questions over the demo catalog, and a
//! mix of questions over a synthetic catalog.
//!
//! `cargo bench --bench ask -- [--rounds R] [--tables N] [--columns M] [--questions Q]
//!  [--data DIR] [--out FILE]`
//!
//! The demo part loads the demo catalog and the SQL models' lineage into an on-disk store,
//! builds the search index, and asks every question of `agents/tests/ask/questions.txt`
//! `--rounds` times (default 5) after one untimed round. The synthetic part (with
//! `--tables`, e.g. 50,000 tables x 20 columns for a million columns) bulk-loads the
//! synthetic catalog (kept in `--data` between runs), adds the super-types a validated load
//! would add, and asks `--questions` questions (default 300) drawn with a fixed seed from
//! templates over its tables, domains and people: ownership, impact and upstream lineage,
//! sensitivity, columns, quality rules, descriptions and counts. It prints p50/p95/p99/max
//! per part and one JSON document (also written to `--out`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/mod.rs"]
mod common;
#[path = "../agents/tests/common/mod.rs"]
mod demo_catalog;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use govgraph_agents::ask::{AskRequest, Asker, Role};
use govgraph_graph::{GraphStore, Scope, StoreConfig};
use govgraph_search::{HashEmbedder, SearchIndex};
use serde_json::json;

struct Args {
    rounds: usize,
    tables: usize,
    columns: usize,
    questions: usize,
    data: Option<PathBuf>,
    out: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut a = Args {
        rounds: 5,
        tables: 0,
        columns: 20,
        questions: 300,
        data: None,
        out: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let next = argv.get(i + 1).cloned().unwrap_or_default();
        let mut used = true;
        match argv[i].as_str() {
            "--rounds" => a.rounds = next.parse().unwrap_or(a.rounds),
            "--tables" => a.tables = next.parse().unwrap_or(a.tables),
            "--columns" => a.columns = next.parse().unwrap_or(a.columns),
            "--questions" => a.questions = next.parse().unwrap_or(a.questions),
            "--data" => a.data = Some(PathBuf::from(next)),
            "--out" => a.out = Some(PathBuf::from(next)),
            _ => used = false, // cargo bench passes --bench
        }
        i += if used { 2 } else { 1 };
    }
    a
}

fn summary(name: &str, mut times: Vec<f64>) -> serde_json::Value {
    times.sort_by(f64::total_cmp);
    let (p50, p95, p99) = (
        common::pct(&times, 0.5),
        common::pct(&times, 0.95),
        common::pct(&times, 0.99),
    );
    let max = times.last().copied().unwrap_or(f64::NAN);
    println!(
        "{name:<10} {:>8} {p50:>9.2} {p95:>9.2} {p99:>9.2} {max:>9.2}",
        times.len()
    );
    json!({"questions": times.len(), "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "max_ms": max})
}

fn demo(rounds: usize) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let store = GraphStore::open(&dir.path().join("store"), StoreConfig::default()).unwrap();
    demo_catalog::load_demo(&store, None);
    let mut index = SearchIndex::open(
        &dir.path().join("search"),
        Arc::new(HashEmbedder::default()),
    )
    .unwrap();
    index.sync(&store).unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/agents/tests/ask/questions.txt"
    ))
    .unwrap();
    let questions: Vec<String> = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .map(|(_, q)| q.trim().to_owned())
        })
        .collect();
    let asker = Asker::default();
    let ask = |q: &str| {
        let mut r = AskRequest::new(q);
        r.role = Role::Steward;
        asker.ask(&store, Some(&index), &r).unwrap()
    };
    for q in &questions {
        ask(q);
    }
    let mut times = Vec::new();
    for _ in 0..rounds {
        for q in &questions {
            let t = Instant::now();
            ask(q);
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    summary("demo", times)
}

/// Adds the super-types a validated load materialises (the bulk loader does not).
fn materialise(store: &GraphStore) {
    for (class, supers) in [
        ("gg:Table", &["dcat:Dataset", "dcat:Resource"][..]),
        ("gg:View", &["dcat:Dataset", "dcat:Resource"][..]),
        ("foaf:Person", &["prov:Agent"][..]),
    ] {
        for s in supers {
            store
                .update(
                    &format!("INSERT {{ GRAPH ?g {{ ?x a {s} }} }} WHERE {{ GRAPH ?g {{ ?x a {class} }} }}"),
                    &Scope::admin(),
                    None,
                )
                .unwrap();
        }
    }
}

fn synthetic(args: &Args) -> serde_json::Value {
    let scratch = tempfile::tempdir().unwrap();
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| scratch.path().join("data"));
    let info = common::prepare(args.tables, args.columns, &data);
    let store = GraphStore::open(&data.join("store"), StoreConfig::default()).unwrap();
    let marker = data.join("ask-materialised");
    if !marker.exists() {
        let t = Instant::now();
        materialise(&store);
        eprintln!("super-types added in {:.1} s", t.elapsed().as_secs_f64());
        std::fs::write(&marker, "").unwrap();
    }
    let questions = common::synthetic_questions(&store, args.questions);
    let asker = Asker::default();
    let t = Instant::now();
    let _ = asker
        .ask(&store, None, &AskRequest::new("Who owns the first table?"))
        .unwrap();
    let first_ms = t.elapsed().as_secs_f64() * 1e3;
    eprintln!("lexicon built and first question answered in {first_ms:.0} ms");
    let mut times = Vec::new();
    let mut per: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for (i, q) in questions.iter().enumerate() {
        let mut r = AskRequest::new(q);
        r.role = Role::Steward;
        let clock = Instant::now();
        let a = asker.ask(&store, None, &r).unwrap();
        let ms = clock.elapsed().as_secs_f64() * 1e3;
        if ms > 300.0 {
            let slowest = a.tool_calls.iter().max_by(|x, y| x.ms.total_cmp(&y.ms));
            eprintln!(
                "slow: {ms:.0} ms for {q:?}; slowest call {:.0} ms: {}",
                slowest.map_or(0.0, |c| c.ms),
                slowest
                    .map(|c| c.input.chars().take(300).collect::<String>())
                    .unwrap_or_default()
            );
        }
        times.push(ms);
        per.entry(common::ASK_TEMPLATES[i % common::ASK_TEMPLATES.len()])
            .or_default()
            .push(ms);
    }
    let mut out = summary("synthetic", times);
    out["first_question_ms_with_lexicon"] = json!(first_ms);
    out["catalog"] = info;
    let mut by = serde_json::Map::new();
    for (k, mut v) in per {
        v.sort_by(f64::total_cmp);
        by.insert(
            k.to_owned(),
            json!({"p50_ms": common::pct(&v, 0.5), "p95_ms": common::pct(&v, 0.95)}),
        );
    }
    out["by_template"] = serde_json::Value::Object(by);
    out
}

fn main() {
    let args = parse_args();
    println!(
        "{:<10} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "catalog", "asked", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    let mut report = json!({ "demo": demo(args.rounds) });
    if args.tables > 0 {
        report["synthetic"] = synthetic(&args);
    }
    report["peak_rss_mib"] = json!(common::peak_rss_mib());
    let text = serde_json::to_string_pretty(&report).unwrap();
    println!("{text}");
    if let Some(out) = &args.out {
        std::fs::write(out, &text).unwrap();
    }
}
