//! Data-driven lineage cases.
//!
//! Every `NAME.sql` under `tests/cases/` (any depth) is a case. It is
//! analysed with `NAME.schema.json` if present, else the nearest
//! `schema.json` in its folder or a parent folder (up to `tests/cases/`),
//! and with `NAME.options.json` if present, else the nearest `options.json`
//! (`{"dialect": "...", "default_schema": "...", "default_database": "..."}`).
//! The result, serialised with serde_json, without each statement's `sql`
//! field and pretty-printed, must equal `NAME.expected.json`.
//!
//! `GOVGRAPH_BLESS=1 cargo test -p govgraph-lineage --test cases` rewrites
//! every expectation from the current output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use govgraph_lineage::{Options, Schema, analyze};
use serde_json::Value;

fn cases_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("cases")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "sql") {
            out.push(p);
        }
    }
}

/// `NAME.<suffix>` next to the case, else the nearest `<fallback>` above it.
fn find_side_file(case: &Path, suffix: &str, fallback: &str) -> Option<PathBuf> {
    let stem = case.file_stem()?.to_str()?;
    let own = case.with_file_name(format!("{stem}.{suffix}"));
    if own.exists() {
        return Some(own);
    }
    let root = cases_root();
    let mut dir = case.parent();
    while let Some(d) = dir {
        let f = d.join(fallback);
        if f.exists() {
            return Some(f);
        }
        if d == root {
            break;
        }
        dir = d.parent();
    }
    None
}

fn options_for(case: &Path) -> Options {
    let mut o = Options::default();
    if let Some(p) = find_side_file(case, "options.json", "options.json") {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        if let Some(d) = v.get("dialect").and_then(Value::as_str) {
            o.dialect = d.parse().unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        }
        o.default_schema = v
            .get("default_schema")
            .and_then(Value::as_str)
            .map(str::to_string);
        o.default_database = v
            .get("default_database")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    o
}

fn schema_for(case: &Path) -> Schema {
    match find_side_file(case, "schema.json", "schema.json") {
        Some(p) => Schema::from_mapping_json(&std::fs::read_to_string(&p).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        None => Schema::new(),
    }
}

fn render(case: &Path) -> String {
    let sql = std::fs::read_to_string(case).unwrap();
    let analysis = analyze(&sql, &schema_for(case), &options_for(case));
    let mut v = serde_json::to_value(&analysis).unwrap();
    if let Some(stmts) = v.get_mut("statements").and_then(Value::as_array_mut) {
        for s in stmts {
            if let Some(o) = s.as_object_mut() {
                o.remove("sql");
            }
        }
    }
    let mut text = serde_json::to_string_pretty(&v).unwrap();
    text.push('\n');
    text
}

/// A short line diff: the first differing lines with some context.
fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let first = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let from = first.saturating_sub(3);
    let mut out = String::new();
    for (i, line) in e.iter().enumerate().skip(from).take(12) {
        out.push_str(&format!("-{:5} {line}\n", i + 1));
    }
    for (i, line) in a.iter().enumerate().skip(from).take(12) {
        out.push_str(&format!("+{:5} {line}\n", i + 1));
    }
    out
}

#[test]
fn cases() {
    let bless = std::env::var_os("GOVGRAPH_BLESS").is_some_and(|v| v != "0" && !v.is_empty());
    let mut cases = Vec::new();
    collect(&cases_root(), &mut cases);
    assert!(cases.len() >= 80, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let actual = render(case);
        let stem = case.file_stem().unwrap().to_str().unwrap();
        let expected_path = case.with_file_name(format!("{stem}.expected.json"));
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{}:\n{}",
                case.strip_prefix(cases_root()).unwrap().display(),
                diff(&expected, &actual)
            )),
            Err(_) => failures.push(format!(
                "{}: no {} (run with GOVGRAPH_BLESS=1 to write it)",
                case.display(),
                expected_path.display()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
