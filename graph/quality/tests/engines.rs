//! The two file engines agree: DataFusion and the native readers give the same profile of
//! every demo file (CSV and Parquet) and of the rule fixtures, and the same rule results on
//! the planted defects of `tests/rules/shop`, end to end through `assess` too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use govgraph_graph::{DatasetKey, GraphStore};
use govgraph_quality::engine::{DataFusionRunner, FileEngine};
use govgraph_quality::profile::{ColumnProfile, profile_file_with};
use govgraph_quality::rules::assess::{AssessOptions, assess, masked_columns};
use govgraph_quality::rules::run::{RunOptions, file_keys, parse_timestamp, run_file, run_sql};
use govgraph_quality::rules::{Check, Rule, catalog_columns, catalog_rules};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn files() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join("../../seeds/data/bronze"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    out.push(root().join("tests/rules/shop/orders.csv"));
    out.push(root().join("tests/rules/shop/customers.csv"));
    out.sort();
    out
}

/// Floats equal to 12 significant digits (partitions sum in another order).
fn close(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_f64() || b.is_f64() => {
            (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0)
        }
        _ => a == b,
    }
}

fn same_column(file: &Path, n: &ColumnProfile, d: &ColumnProfile) {
    let what = format!("{} column {}", file.display(), n.name);
    assert_eq!(n.name, d.name, "{what}");
    assert_eq!(n.data_type, d.data_type, "{what}: type");
    assert_eq!(
        (n.count, n.null_count, n.null_percentage),
        (d.count, d.null_count, d.null_percentage),
        "{what}: counts"
    );
    assert_eq!(
        (n.distinct_count, n.distinct_is_approximate),
        (d.distinct_count, d.distinct_is_approximate),
        "{what}: distinct"
    );
    for (field, a, b) in [
        ("min", &n.min, &d.min),
        ("max", &n.max, &d.max),
        ("q25", &n.q25, &d.q25),
        ("q50", &n.q50, &d.q50),
        ("q75", &n.q75, &d.q75),
    ] {
        assert!(close(a, b), "{what}: {field} {a} vs {b}");
    }
    for (field, a, b) in [
        ("mean", n.mean, d.mean),
        ("stddev", n.stddev, d.stddev),
        ("mean_length", n.mean_length, d.mean_length),
    ] {
        let same = match (a, b) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
            (x, y) => x == y,
        };
        assert!(same, "{what}: {field} {a:?} vs {b:?}");
    }
    assert_eq!(
        (n.min_length, n.max_length),
        (d.min_length, d.max_length),
        "{what}: lengths"
    );
    assert_eq!(n.top_values, d.top_values, "{what}: top values");
    assert_eq!(n.patterns, d.patterns, "{what}: patterns");
    assert_eq!(n.semantic_type, d.semantic_type, "{what}: semantic type");
}

#[test]
fn both_engines_profile_every_file_alike() {
    let mut seen = 0;
    for file in files() {
        let native = profile_file_with(&file, FileEngine::Native).unwrap();
        let fused = profile_file_with(&file, FileEngine::DataFusion).unwrap();
        assert_eq!(native.row_count, fused.row_count, "{}", file.display());
        assert_eq!(
            native.columns.len(),
            fused.columns.len(),
            "{}",
            file.display()
        );
        for (n, d) in native.columns.iter().zip(&fused.columns) {
            same_column(&file, n, d);
        }
        seen += native.columns.len();
    }
    assert!(seen > 80, "only {seen} columns compared");
}

#[test]
fn text_files_keep_their_null_spellings_and_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.csv");
    // A column that is numeric for many rows and text at the end, null spellings, padding.
    let mut text = String::from("id,amount,code,seen\n");
    for i in 0..3000 {
        text.push_str(&format!("{i}, {}.25 ,NULL,2024-01-0{}\n", i % 7, 1 + i % 9));
    }
    text.push_str("3000,n/a,X-1,2024-02-01T10:00:00Z\n3001,12,,\n");
    std::fs::write(&file, text).unwrap();
    let native = profile_file_with(&file, FileEngine::Native).unwrap();
    let fused = profile_file_with(&file, FileEngine::DataFusion).unwrap();
    for (n, d) in native.columns.iter().zip(&fused.columns) {
        same_column(&file, n, d);
    }
    let col = |n: &str| fused.columns.iter().find(|c| c.name == n).unwrap();
    assert_eq!(col("amount").data_type, "float");
    assert_eq!(col("amount").null_count, 1);
    assert_eq!(col("code").null_count, 3001);
    assert_eq!(
        col("seen").data_type,
        "text",
        "dates and one instant are text"
    );
}

#[test]
fn a_broken_file_is_an_error_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.parquet");
    std::fs::write(&file, b"PAR1 this is not parquet").unwrap();
    let err = profile_file_with(&file, FileEngine::DataFusion)
        .unwrap_err()
        .to_string();
    assert!(err.contains("broken.parquet"), "{err}");
}

mod common;

fn catalog() -> (GraphStore, tempfile::TempDir) {
    common::shop_catalog()
}

/// What a rule result must agree on across engines.
fn outcome(r: &govgraph_quality::rules::run::RuleResult) -> Value {
    serde_json::json!({
        "rule": r.rule, "status": r.status, "checked": r.checked, "failed": r.failed,
        "pass_rate": r.pass_rate, "message": r.message, "samples": r.samples.len(),
    })
}

#[test]
fn both_engines_find_the_same_planted_defects() {
    let (store, dir) = catalog();
    let now = parse_timestamp("2024-05-11T14:00:00Z").unwrap();
    let mut failing = 0;
    for name in ["orders", "customers"] {
        let key = DatasetKey::new("lake", name);
        let (rules, _) = catalog_rules(&store, &key).unwrap();
        let columns = catalog_columns(&store, &key).unwrap();
        let options = RunOptions {
            masked: masked_columns(&store, &key).unwrap(),
            now_micros: Some(now),
        };
        let file = dir.path().join(format!("{name}.csv"));
        let parent_of = |rule: &Rule| match &rule.check {
            Check::Referential { references, .. } => dir.path().join(format!("{references}.csv")),
            _ => unreachable!(),
        };
        let mut keys = |rule: &Rule| {
            let Check::Referential { columns, .. } = &rule.check else {
                unreachable!()
            };
            file_keys(&parent_of(rule), columns).map_err(|e| e.to_string())
        };
        let (rows, native) = run_file(&file, &columns, &rules, &mut keys, &options).unwrap();
        let mut parent = |rule: &Rule| Ok(parent_of(rule));
        let (rows_sql, fused) = run_sql(
            &DataFusionRunner,
            &file,
            &columns,
            &rules,
            &mut parent,
            &options,
        )
        .unwrap();
        assert_eq!(rows, rows_sql);
        assert_eq!(native.len(), fused.len());
        for (n, d) in native.iter().zip(&fused) {
            assert_eq!(outcome(n), outcome(d), "{name}: {}", n.rule);
            failing += usize::from(n.status == "fail");
        }
        // Masked values stay masked in the engine's sample rows.
        for r in &fused {
            for row in &r.samples {
                for (column, value) in row {
                    if let Some(why) = options.masked.get(column) {
                        assert!(
                            value.is_null() || value == &Value::String(format!("***{why}***")),
                            "{name}.{column} leaks {value}"
                        );
                    }
                }
            }
        }
    }
    assert!(failing >= 8, "only {failing} rules failed");
}

#[test]
fn assess_runs_files_through_the_chosen_engine() {
    let (store, _dir) = catalog();
    let key = DatasetKey::new("lake", "orders");
    let run = |engine| {
        let a = assess(
            &store,
            &key,
            AssessOptions {
                profile: true,
                store: false,
                engine,
            },
        )
        .unwrap();
        let mut results: Vec<Value> = a
            .results
            .iter()
            .filter(|r| r.rule_type != "freshness")
            .map(outcome)
            .collect();
        results.sort_by_key(|v| v["rule"].to_string());
        (a.row_count, results, a.scores.score)
    };
    let native = run(FileEngine::Native);
    let fused = run(FileEngine::DataFusion);
    assert_eq!(native, fused);
    assert!(native.1.iter().any(|r| r["status"] == "fail"));
}
