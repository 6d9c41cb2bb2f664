//! All 22 TPC-H and all 99 TPC-DS queries parse and resolve against their schemas with no
//! error and no warning, and each has lineage.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use govgraph_lineage::{Dialect, Options, Schema, analyze};

fn corpus(name: &str, expected: usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name);
    let schema =
        Schema::from_mapping_json(&std::fs::read_to_string(dir.join("schema.json")).unwrap())
            .unwrap();
    let options = Options {
        dialect: Dialect::DuckDb,
        ..Options::default()
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert_eq!(files.len(), expected, "{name}: query files");
    let mut problems = Vec::new();
    for file in files {
        let sql = std::fs::read_to_string(&file).unwrap();
        let analysis = analyze(&sql, &schema, &options);
        let q = file.file_name().unwrap().to_string_lossy().into_owned();
        for st in &analysis.statements {
            if let Some(e) = &st.error {
                problems.push(format!(
                    "{q}: parse error {}:{} {}",
                    e.line, e.column, e.message
                ));
            }
            for w in &st.warnings {
                problems.push(format!("{q}: warning {}", w.message));
            }
            let with_sources = st
                .columns
                .values()
                .filter(|c| !c.sources.is_empty())
                .count();
            // COUNT(*) queries (q38, q87, q88, q90, q96) read no column into the output; they
            // must still show the columns that decide their rows.
            if with_sources == 0 && st.dataset_sources.is_empty() {
                problems.push(format!("{q}: no lineage at all"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn tpch_resolves_cleanly() {
    corpus("tpch", 22);
}

#[test]
fn tpcds_resolves_cleanly() {
    corpus("tpcds", 99);
}
