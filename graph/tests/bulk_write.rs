//! Large loads into an on-disk store are written as sorted files rather than through one
//! transaction. These tests load the same inputs both ways, into two stores, and require the
//! stores to end up identical: first loads, replacements that add and remove, refused loads.

#![cfg(feature = "rocksdb")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;

use govgraph_graph::oxigraph::io::RdfFormat;
use govgraph_graph::vocab::{graphs, prov};
use govgraph_graph::{Error, GraphStore, LoadOptions, LoadReport, LoadSource, NoProgress};

const PREFIXES: &str = "@prefix gg: <https://govgraph.dev/ns#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix csvw: <http://www.w3.org/ns/csvw#> .
";

/// `tables` tables of `columns` columns each; `version` changes some titles and names.
fn catalog(tables: usize, columns: usize, version: usize) -> String {
    let mut out = PREFIXES.to_owned();
    for t in 0..tables {
        let d = format!("<https://id.govgraph.dev/dataset/s/t{t}>");
        writeln!(
            out,
            "{d} a gg:Table ; dct:title \"table {t} v{}\" .",
            (t + version) % 3
        )
        .unwrap();
        // Later versions drop the last column of every other table and add a new one.
        let extra = usize::from(version > 0 && t % 2 == 0);
        let shown = columns - usize::from(version > 0 && t % 2 == 1);
        for c in 0..shown + extra {
            let name = if c == columns {
                format!("new_{version}")
            } else {
                format!("c{c}")
            };
            writeln!(
                out,
                "<https://id.govgraph.dev/dataset/s/t{t}/column/{name}> a csvw:Column ; \
                 csvw:name \"{name}\" ; gg:columnOf {d} ; gg:ordinal {c} ."
            )
            .unwrap();
        }
    }
    out
}

fn open(bulk_from: usize) -> (tempfile::TempDir, GraphStore, LoadOptions) {
    let dir = tempfile::tempdir().unwrap();
    let store = GraphStore::open(dir.path(), Default::default()).unwrap();
    let options = LoadOptions {
        bulk_from,
        ..LoadOptions::default()
    };
    (dir, store, options)
}

fn load(store: &GraphStore, options: &LoadOptions, name: &str, turtle: &str) -> LoadReport {
    store
        .load(
            vec![LoadSource::from_bytes(
                name,
                &format!("{name}.ttl"),
                RdfFormat::Turtle,
                turtle.to_owned(),
            )],
            options,
            &NoProgress,
        )
        .unwrap()
}

/// Every quad of the loaded graphs and of the meta graph, as sorted text, without the load
/// times (the ontology and shapes graphs are the same in every store, their blank nodes
/// aside).
fn dump(store: &GraphStore) -> Vec<String> {
    let mut out: Vec<String> = store
        .raw()
        .iter()
        .map(|q| q.unwrap())
        .filter(|q| q.predicate.as_ref() != prov::GENERATED_AT_TIME)
        .filter(|q| {
            q.graph_name != graphs::ONTOLOGY.into_owned().into()
                && q.graph_name != graphs::SHAPES.into_owned().into()
        })
        .map(|q| q.to_string())
        .collect();
    out.sort();
    out
}

fn replaced(report: &LoadReport) -> Vec<(String, u64, u64)> {
    report
        .graphs
        .iter()
        .map(|g| (g.graph.clone(), g.triples, g.replaced))
        .collect()
}

#[test]
fn sorted_files_store_what_a_transaction_stores() {
    let (_a, by_tx, tx) = open(usize::MAX);
    let (_b, by_files, files) = open(0);
    // A first load, then replacements that keep, drop and add quads, then one that changes
    // nothing.
    for (version, name) in [(0, "cat"), (1, "cat"), (2, "cat"), (2, "cat"), (0, "other")] {
        let text = catalog(40, 12, version);
        let one = load(&by_tx, &tx, name, &text);
        let two = load(&by_files, &files, name, &text);
        assert_eq!(replaced(&one), replaced(&two), "version {version}");
        assert_eq!(dump(&by_tx), dump(&by_files), "version {version}");
    }
    let stats = by_files.stats().unwrap();
    assert!(stats.quads > 2 * 40 * 12 * 4, "{stats:?}");
    // The replaced counts are the sizes of the previous versions.
    let again = load(&by_files, &files, "cat", &catalog(40, 12, 2));
    assert_eq!(
        again.graphs[0].replaced,
        again.graphs[0].triples + again.graphs[0].inferred
    );
}

#[test]
fn a_refused_large_load_changes_nothing() {
    let (_dir, store, options) = open(0);
    load(&store, &options, "cat", &catalog(30, 10, 0));
    let before = dump(&store);
    // The same catalog with one column named twice in a table: a SHACL violation.
    let mut bad = catalog(30, 10, 1);
    bad.push_str(
        "<https://id.govgraph.dev/dataset/s/t3/column/dup> a csvw:Column ; csvw:name \"c0\" ; \
         gg:columnOf <https://id.govgraph.dev/dataset/s/t3> .\n",
    );
    let err = store
        .load(
            vec![LoadSource::from_bytes(
                "cat",
                "cat.ttl",
                RdfFormat::Turtle,
                bad,
            )],
            &options,
            &NoProgress,
        )
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err}");
    assert_eq!(dump(&store), before);
}

#[test]
fn a_violation_against_data_of_another_source_is_found_before_writing() {
    // The column's dataset lives in another source; its duplicate name is only visible
    // across both graphs.
    let (_dir, store, options) = open(0);
    load(&store, &options, "cat", &catalog(5, 3, 0));
    let before = dump(&store);
    let other = format!(
        "{PREFIXES}<https://id.govgraph.dev/dataset/s/t1/column/again> a csvw:Column ; \
         csvw:name \"c1\" ; gg:columnOf <https://id.govgraph.dev/dataset/s/t1> .\n"
    );
    let err = store
        .load(
            vec![LoadSource::from_bytes(
                "more",
                "more.ttl",
                RdfFormat::Turtle,
                other,
            )],
            &options,
            &NoProgress,
        )
        .unwrap_err();
    let Error::Validation(report) = &err else {
        panic!("{err}")
    };
    assert!(
        report
            .results
            .iter()
            .any(|r| r.focus_node.contains("t1/column/again")),
        "{report:?}"
    );
    assert_eq!(dump(&store), before);
}

#[test]
fn a_large_load_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let options = LoadOptions {
        bulk_from: 0,
        ..LoadOptions::default()
    };
    let before = {
        let store = GraphStore::open(dir.path(), Default::default()).unwrap();
        load(&store, &options, "cat", &catalog(20, 5, 0));
        load(&store, &options, "cat", &catalog(20, 5, 1));
        dump(&store)
    };
    let store = GraphStore::open(dir.path(), Default::default()).unwrap();
    assert_eq!(dump(&store), before);
    assert!(!dir.path().join("load-journal.nq").exists());
}
