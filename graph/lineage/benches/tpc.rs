//! Times `analyze` over the TPC-H and TPC-DS corpora under `tests/`.
//!
//! `cargo bench -p govgraph-lineage --bench tpc -- [--reps N] [--out FILE] [CORPUS…]`
//!
//! For every query it times the whole job (split, parse, resolve, build the
//! source set of every output column) `--reps` times (default 21) on this
//! thread, the schema loaded once outside the timed region, and reports the
//! median. With `--out FILE` it writes the per-query shape that
//! `benches/peers/lineage_peers.py` writes, under the peer name `govgraph`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use govgraph_lineage::{Dialect, Options, Schema, analyze, analyze_on_this_thread};
use serde_json::{Value, json};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let mut reps = 21usize;
    let mut inline = false;
    let mut out: Option<PathBuf> = None;
    let mut corpora: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--reps" => reps = args.next().and_then(|n| n.parse().ok()).unwrap_or(reps),
            "--out" => out = args.next().map(PathBuf::from),
            "--bench" => {}
            "--inline" => inline = true,
            other if !other.starts_with('-') => corpora.push(other.to_string()),
            _ => {}
        }
    }
    if corpora.is_empty() {
        corpora = vec!["tpch".to_string(), "tpcds".to_string()];
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let options = Options {
        dialect: Dialect::DuckDb,
        ..Options::default()
    };
    let mut report = serde_json::Map::new();
    for corpus in &corpora {
        let dir = root.join(corpus);
        let Ok(schema_text) = std::fs::read_to_string(dir.join("schema.json")) else {
            eprintln!("{}: no schema.json", dir.display());
            continue;
        };
        let schema = match Schema::from_mapping_json(&schema_text) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{corpus}: {e}");
                continue;
            }
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "sql"));
        files.sort();
        let mut medians = Vec::new();
        let mut queries = serde_json::Map::new();
        let mut errors = 0usize;
        for f in &files {
            let Ok(sql) = std::fs::read_to_string(f) else {
                continue;
            };
            // Warm-up, and the result that is reported.
            let analysis = analyze(&sql, &schema, &options);
            let mut times = Vec::with_capacity(reps);
            for _ in 0..reps {
                let t = Instant::now();
                let a = if inline {
                    analyze_on_this_thread(black_box(&sql), &schema, &options)
                } else {
                    analyze(black_box(&sql), &schema, &options)
                };
                // Producing each output column's source set is part of the job.
                let n: usize = a
                    .statements
                    .iter()
                    .flat_map(|s| s.columns.values())
                    .map(|c| c.sources.len())
                    .sum();
                black_box(n);
                times.push(t.elapsed().as_secs_f64());
            }
            let m = median(&mut times.clone());
            medians.push(m);
            let stem = f
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("?")
                .to_string();
            let last = analysis.statements.last();
            let ok = last.is_some_and(|s| s.error.is_none() && s.warnings.is_empty());
            if !ok {
                errors += 1;
            }
            let columns: Vec<Value> = last
                .map(|s| {
                    s.column_order
                        .iter()
                        .map(|name| {
                            let mut pairs: Vec<(String, String)> = s.columns[name]
                                .sources
                                .iter()
                                .map(|r| {
                                    let t = r.table.rsplit('.').next().unwrap_or("").to_lowercase();
                                    (t, r.column.to_lowercase())
                                })
                                .collect();
                            pairs.sort();
                            pairs.dedup();
                            json!({"name": name, "sources": pairs, "unresolved": [], "error": null})
                        })
                        .collect()
                })
                .unwrap_or_default();
            let errs: Vec<Value> = last
                .map(|s| {
                    s.error
                        .iter()
                        .map(|e| json!({"column": null, "message": e.message}))
                        .chain(
                            s.warnings
                                .iter()
                                .map(|w| json!({"column": null, "message": w.message})),
                        )
                        .collect()
                })
                .unwrap_or_default();
            queries.insert(
                stem,
                json!({"file": f.file_name().and_then(|s| s.to_str()), "peers": {"govgraph": {
                    "ok": ok, "time_s": m, "times_s": times, "n_columns": columns.len(),
                    "n_errors": errs.len(), "errors": errs, "columns": columns}}}),
            );
        }
        let total: f64 = medians.iter().sum();
        let med = median(&mut medians.clone());
        let max = medians.iter().copied().fold(0.0, f64::max);
        println!(
            "{corpus}: {} queries, {errors} with errors or warnings; median {:.1} µs, total {:.2} ms, max {:.1} µs (median of {reps} reps each)",
            files.len(),
            med * 1e6,
            total * 1e3,
            max * 1e6
        );
        report.insert(
            corpus.clone(),
            json!({"summary": {"govgraph": {"queries": files.len(), "time_total_s": total,
                "time_median_s": med, "time_max_s": max}}, "queries": queries}),
        );
    }
    if let Some(path) = out {
        let text = serde_json::to_string_pretty(&Value::Object(report)).unwrap_or_default();
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("{}: {e}", path.display());
        }
    }
}
