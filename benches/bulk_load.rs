//! Bulk-load throughput and peak memory for a synthetic catalog.
//!
//! `cargo bench --bench bulk_load -- [--tables N] [--columns M] [--runs R] [--no-validate]`
//!
//! Each run is a fresh child process that generates nothing itself: the parent writes the
//! synthetic N-Triples once, then every child opens a new on-disk store, loads the file
//! atomically (parse, super-types, SHACL validation, commit) and reports its wall time and
//! its peak resident memory (VmHWM), so runs do not share a high-water mark. The parent
//! prints the medians and one JSON line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use govgraph_graph::{GraphStore, LoadOptions, LoadSource, NoProgress, StoreConfig};

struct Args {
    tables: usize,
    columns: usize,
    runs: usize,
    validate: bool,
    child: Option<(PathBuf, PathBuf)>,
}

fn parse_args() -> Args {
    let mut args = Args {
        tables: 10_000,
        columns: 20,
        runs: 3,
        validate: true,
        child: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let next = |i: usize| argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--tables" => {
                args.tables = next(i).parse().unwrap_or(args.tables);
                i += 1;
            }
            "--columns" => {
                args.columns = next(i).parse().unwrap_or(args.columns);
                i += 1;
            }
            "--runs" => {
                args.runs = next(i).parse().unwrap_or(args.runs);
                i += 1;
            }
            "--no-validate" => args.validate = false,
            "--child" => {
                args.child = Some((
                    PathBuf::from(next(i)),
                    PathBuf::from(argv.get(i + 2).cloned().unwrap_or_default()),
                ));
                i += 2;
            }
            // cargo bench passes --bench; anything else is ignored.
            _ => {}
        }
        i += 1;
    }
    args
}

fn child(file: &Path, data: &Path, validate: bool) {
    let store = GraphStore::open(data, StoreConfig::default()).expect("open store");
    let source = LoadSource::from_path(file, Some("synthetic"), None).expect("open input");
    let start = Instant::now();
    let report = store
        .load(
            vec![source],
            &LoadOptions {
                validate,
                ..Default::default()
            },
            &NoProgress,
        )
        .expect("load");
    let secs = start.elapsed().as_secs_f64();
    let inferred: u64 = report.graphs.iter().map(|g| g.inferred).sum();
    println!(
        "{{\"triples\":{},\"inferred\":{},\"secs\":{secs:.3},\"peak_rss_kib\":{}}}",
        report.triples(),
        inferred,
        (common::peak_rss_mib() * 1024.0) as u64
    );
}

fn field(json: &str, key: &str) -> f64 {
    json.split(&format!("\"{key}\":"))
        .nth(1)
        .and_then(|rest| rest.split([',', '}']).next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args = parse_args();
    if let Some((file, data)) = &args.child {
        child(file, data, args.validate);
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("synthetic.nt");
    let cfg = govgraph_seeds::SyntheticConfig {
        tables: args.tables,
        columns_per_table: args.columns,
        ..Default::default()
    };
    let out = std::io::BufWriter::new(std::fs::File::create(&file).expect("create input"));
    let stats = govgraph_seeds::write_ntriples(&cfg, out).expect("generate");
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "synthetic catalog: {} tables x {} columns, {} column-lineage edges, {} triples, {:.0} MiB of N-Triples",
        args.tables,
        args.columns,
        stats.column_edges,
        stats.triples,
        size as f64 / 1048576.0
    );
    let exe = std::env::current_exe().expect("own path");
    let mut secs = Vec::new();
    let mut rss = Vec::new();
    let mut triples = 0.0;
    for run in 0..args.runs.max(1) {
        let data = dir.path().join(format!("store-{run}"));
        let mut cmd = Command::new(&exe);
        cmd.arg("--child").arg(&file).arg(&data);
        if !args.validate {
            cmd.arg("--no-validate");
        }
        let output = cmd.output().expect("run child");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        eprintln!("run {}: {line}", run + 1);
        secs.push(field(&line, "secs"));
        rss.push(field(&line, "peak_rss_kib"));
        triples = field(&line, "triples");
        let _ = std::fs::remove_dir_all(&data);
    }
    let s = median(secs);
    let r = median(rss);
    println!(
        "bulk_load/{}x{}: median {s:.2} s, {:.0} triples/s, peak RSS {:.0} MiB (validate: {})",
        args.tables,
        args.columns,
        triples / s,
        r / 1024.0,
        args.validate
    );
    println!(
        "{{\"bench\":\"bulk_load\",\"tables\":{},\"columns\":{},\"triples\":{triples},\"median_secs\":{s:.3},\"triples_per_sec\":{:.0},\"peak_rss_mib\":{:.1},\"validate\":{}}}",
        args.tables,
        args.columns,
        triples / s,
        r / 1024.0,
        args.validate
    );
}
