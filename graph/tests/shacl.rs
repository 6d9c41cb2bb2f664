//! Data-driven SHACL tests: each `tests/shacl/NAME.ttl` (prefixed by `prelude.ttl`) is loaded
//! without validation, then validated; the violations and warnings, one per line, must equal
//! `tests/shacl/NAME.expected`. Run with `GOVGRAPH_BLESS=1` to rewrite the expectations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use govgraph_graph::oxigraph::io::RdfFormat;
use govgraph_graph::{Error, GraphStore, LoadOptions, LoadSource, NoProgress, StoreConfig};

fn render(report: &govgraph_graph::ValidationReport) -> String {
    let mut out = String::new();
    for r in &report.results {
        out.push_str(&format!(
            "{:?} {} {} {} {}\n",
            r.severity,
            r.focus_node,
            r.path.as_deref().unwrap_or("-"),
            r.constraint,
            r.value.as_deref().unwrap_or("-"),
        ));
    }
    out
}

fn source(dir: &Path, name: &str) -> String {
    let prelude = std::fs::read_to_string(dir.join("prelude.ttl")).unwrap();
    let body = std::fs::read_to_string(dir.join(format!("{name}.ttl"))).unwrap();
    format!("{prelude}\n{body}")
}

#[test]
fn shapes_find_the_right_focus_nodes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/shacl");
    let bless = std::env::var_os("GOVGRAPH_BLESS").is_some();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let stem = p.file_stem()?.to_str()?.to_owned();
            (p.extension()? == "ttl" && stem != "prelude").then_some(stem)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 5, "cases missing: {names:?}");
    let mut failures = Vec::new();
    for name in names {
        let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
        let options = LoadOptions {
            validate: false,
            ..Default::default()
        };
        store
            .load(
                vec![LoadSource::from_bytes(
                    &name,
                    &format!("{name}.ttl"),
                    RdfFormat::Turtle,
                    source(&dir, &name),
                )],
                &options,
                &NoProgress,
            )
            .unwrap();
        let actual = render(&store.validate().unwrap());
        // Validating while loading (before anything is written) finds the same results.
        let fresh = GraphStore::in_memory(StoreConfig::default()).unwrap();
        let at_load = match fresh.load(
            vec![LoadSource::from_bytes(
                &name,
                &format!("{name}.ttl"),
                RdfFormat::Turtle,
                source(&dir, &name),
            )],
            &LoadOptions::default(),
            &NoProgress,
        ) {
            Ok(report) => render(&report.validation),
            Err(Error::Validation(report)) => render(&report),
            Err(e) => panic!("{name}: {e}"),
        };
        if at_load != actual {
            failures.push(format!(
                "--- {name}: validated after the load\n{actual}--- validated while loading\n{at_load}"
            ));
        }
        let expected_path = dir.join(format!("{name}.expected"));
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            failures.push(format!(
                "--- {name}: expected\n{expected}--- actual\n{actual}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_load_with_violations_is_refused_and_changes_nothing() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/shacl");
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    store
        .load_one(LoadSource::from_bytes(
            "good",
            "valid.ttl",
            RdfFormat::Turtle,
            source(&dir, "valid"),
        ))
        .unwrap();
    let before = store.stats().unwrap().quads;
    let err = store
        .load_one(LoadSource::from_bytes(
            "bad",
            "duplicate_column_names.ttl",
            RdfFormat::Turtle,
            source(&dir, "duplicate_column_names"),
        ))
        .unwrap_err();
    let Error::Validation(report) = &err else {
        panic!("expected a validation error, got {err}")
    };
    let focus: Vec<&str> = report
        .results
        .iter()
        .map(|r| r.focus_node.as_str())
        .collect();
    assert!(
        focus.contains(&"<https://id.test/dataset/shop/orders/column/id2>"),
        "{focus:?}"
    );
    assert!(
        !focus.contains(&"<https://id.test/dataset/shop/customers/column/id>"),
        "{focus:?}"
    );
    assert!(err.to_string().contains("SHACL violation"), "{err}");
    assert_eq!(store.stats().unwrap().quads, before);
    assert_eq!(store.sources().unwrap().len(), 1);
}
