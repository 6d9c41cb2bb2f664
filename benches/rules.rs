//! Data-quality rules on TPC-H lineitem: a catalog holding the Parquet file's dataset and
//! eight rules (not null, a composite unique key, accepted values, numeric and date ranges, a
//! pattern, a cross-column condition, volume) is assessed end to end: catalog read, PII
//! detection for masking, one streaming pass over the file, anomaly check, scores, and the
//! stored run. Prints JSON: the wall time of each run, the results, and the process's peak
//! memory. `benches/peers/rules_peers.py` runs it beside DuckDB on the same file.
//!
//! `cargo bench --bench rules [--features datafusion] -- PATH/TO/lineitem.parquet [RUNS] [ENGINE]`
//! (ENGINE: `native` or `datafusion`; by default DataFusion where the build has it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use govgraph_connectors::files::{FilesOptions, ingest_files};
use govgraph_graph::oxigraph::io::RdfFormat;
use govgraph_graph::{DatasetKey, GraphStore, LoadOptions, LoadSource, NoProgress, StoreConfig};
use govgraph_quality::engine::FileEngine;
use govgraph_quality::rules::assess::{AssessOptions, assess};

/// The rules, on the dataset `tpch/{name}`.
fn rules(name: &str) -> String {
    let col = |c: &str| format!("<https://id.govgraph.dev/dataset/tpch/{name}/column/{c}>");
    let rule = |key: &str, kind: &str, on: &str, params: &str, extra: &str| {
        format!(
            "<https://id.govgraph.dev/rule/{key}> a gg:QualityRule ; dct:title \"{key}\" ; gg:ruleType \"{kind}\" ;
               gg:severity \"error\" ; gg:appliesTo {on} ; gg:parameters \"{}\" {extra}.\n",
            params.replace('"', "\\\"")
        )
    };
    let dataset = format!("<https://id.govgraph.dev/dataset/tpch/{name}>");
    let mut ttl = String::from(
        "@prefix gg: <https://govgraph.dev/ns#> . @prefix dct: <http://purl.org/dc/terms/> .\n",
    );
    ttl += &rule(
        "li-orderkey-not-null",
        "not_null",
        &col("l_orderkey"),
        "{}",
        "",
    );
    ttl += &rule(
        "li-key-unique",
        "unique",
        &format!("{}, {}", col("l_orderkey"), col("l_linenumber")),
        "{}",
        "",
    );
    ttl += &rule(
        "li-returnflag-values",
        "accepted_values",
        &col("l_returnflag"),
        r#"{"values": ["A", "N", "R"]}"#,
        "",
    );
    ttl += &rule(
        "li-discount-range",
        "range",
        &col("l_discount"),
        r#"{"min": 0, "max": 0.1}"#,
        "",
    );
    ttl += &rule(
        "li-shipdate-range",
        "range",
        &col("l_shipdate"),
        r#"{"min": "1992-01-01", "max": "1998-08-01"}"#,
        "",
    );
    ttl += &rule(
        "li-shipmode-format",
        "regex",
        &col("l_shipmode"),
        r#"{"pattern": "^[A-Z ]+$"}"#,
        "",
    );
    ttl += &rule(
        "li-commit-before-receipt",
        "custom_sql",
        &dataset,
        "{}",
        "; gg:expression \"l_commitdate <= l_receiptdate\" ",
    );
    ttl += &rule(
        "li-volume",
        "row_count",
        &dataset,
        r#"{"min": 6000000}"#,
        "",
    );
    ttl
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(parquet) = args.first().map(PathBuf::from) else {
        eprintln!(
            "usage: cargo bench --bench rules -- PATH/TO/lineitem.parquet [RUNS] [native|datafusion]"
        );
        return;
    };
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
    let engine: FileEngine = args
        .get(2)
        .map_or(Ok(FileEngine::Auto), |e| e.parse())
        .unwrap();
    let engine_name = engine.for_rules().unwrap().name();
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let options = FilesOptions {
        system: Some("tpch".to_owned()),
        sample_rows: 10_000,
    };
    ingest_files(&store, &parquet, &options, &NoProgress).unwrap();
    let name = govgraph_graph::iri::slug(
        parquet
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("lineitem"),
    );
    store
        .load(
            vec![LoadSource::from_bytes(
                "bench-rules",
                "rules.ttl",
                RdfFormat::Turtle,
                rules(&name),
            )],
            &LoadOptions::default(),
            &NoProgress,
        )
        .unwrap();
    let key = DatasetKey::new("tpch", &name);
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let a = assess(
            &store,
            &key,
            AssessOptions {
                profile: false,
                store: true,
                engine,
            },
        )
        .unwrap();
        times.push(start.elapsed().as_secs_f64());
        last = Some(a);
    }
    let a = last.unwrap();
    let results: Vec<serde_json::Value> = a
        .results
        .iter()
        .map(|r| {
            serde_json::json!({"rule": r.rule, "status": r.status, "checked": r.checked,
                               "failed": r.failed, "message": r.message})
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({"rows": a.row_count, "engine": engine_name, "times": times, "results": results,
                           "peak_rss_mib": peak_rss_mib()})
    );
}
