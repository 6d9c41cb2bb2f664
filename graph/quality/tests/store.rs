//! Labels in the graph: a folder is ingested with the files connector, one of its files is
//! classified, and the labels are stored as tags with their results; stewards' confirmations
//! and rejections survive later runs, and a column that could not be classified is
//! restricted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use govgraph_connectors::files::{FilesOptions, ingest_files};
use govgraph_graph::oxigraph::model::Term;
use govgraph_graph::{ColumnKey, DatasetKey, GraphStore, NoProgress, StoreConfig};
use govgraph_quality::store::{Decision, review, store_labels};
use govgraph_quality::{Category, classify_table, sample};

fn catalog() -> (GraphStore, tempfile::TempDir) {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/data/bronze/customers.csv");
    std::fs::copy(&seeds, dir.path().join("customers.csv")).unwrap();
    let options = FilesOptions {
        system: Some("lake".to_owned()),
        ..FilesOptions::default()
    };
    ingest_files(&store, dir.path(), &options, &NoProgress).unwrap();
    (store, dir)
}

fn tags(store: &GraphStore, column: &str) -> Vec<String> {
    let mut out: Vec<String> = store
        .select(&format!(
            "SELECT DISTINCT ?key WHERE {{ ?c csvw:name \"{column}\" ; gg:columnOf/dct:identifier \"customers\" ; gg:tag ?t .
               BIND(STRAFTER(STR(?t), \"/tag/\") AS ?key) }}"
        ))
        .unwrap()
        .iter()
        .map(|r| match r.get("key") {
            Some(Term::Literal(l)) => l.value().to_owned(),
            _ => String::new(),
        })
        .collect();
    out.sort();
    out
}

fn status(store: &GraphStore, column: &str) -> String {
    let rows = store
        .select(&format!(
            "SELECT ?s WHERE {{ ?c csvw:name \"{column}\" ; gg:columnOf/dct:identifier \"customers\" ; gg:classification ?r . ?r gg:status ?s }}"
        ))
        .unwrap();
    match rows.first().and_then(|r| r.get("s")) {
        Some(Term::Literal(l)) => l.value().to_owned(),
        _ => "-".to_owned(),
    }
}

#[test]
fn labels_become_tags_and_reviews_survive_runs() {
    let (store, dir) = catalog();
    let dataset = DatasetKey::new("lake", "customers");
    let columns = sample::sample_file(&dir.path().join("customers.csv"), 500).unwrap();
    let results = classify_table(&columns);
    let stored = store_labels(&store, &dataset, &results, &[]).unwrap();
    assert_eq!(stored.applied, 8, "{stored:?}");
    assert_eq!(tags(&store, "email"), ["pii.email"]);
    assert_eq!(tags(&store, "date_of_birth"), ["pii.date_of_birth"]);
    assert!(tags(&store, "loyalty_tier").is_empty());
    // The result carries the confidence, the evidence and the DPV concept (through the tag).
    let rows = store
        .select(
            "SELECT ?conf ?evidence ?dpv WHERE { ?c csvw:name \"email\" ; gg:columnOf/dct:identifier \"customers\" ; gg:classification ?r .
               ?r gg:confidence ?conf ; gg:evidence ?evidence ; gg:tag ?t . ?t gg:personalDataCategory ?dpv }",
        )
        .unwrap();
    assert_eq!(rows.len(), 1);
    let get = |k: &str| match rows[0].get(k) {
        Some(Term::Literal(l)) => l.value().to_owned(),
        Some(Term::NamedNode(n)) => n.as_str().to_owned(),
        _ => String::new(),
    };
    assert_eq!(get("conf"), "1");
    assert_eq!(get("dpv"), "https://w3id.org/dpv/pd#EmailAddress");
    assert!(
        get("evidence").contains("\"pattern\":\"email address\""),
        "{}",
        get("evidence")
    );
    assert_eq!(store.validate().unwrap().violations(), 0);

    // A steward rejects the city label and confirms the postal-code label.
    let col = |name: &str| ColumnKey::new(dataset.clone(), name);
    review(
        &store,
        &col("city"),
        Category::City,
        Decision::Rejected,
        "steward-1",
    )
    .unwrap();
    review(
        &store,
        &col("postal_code"),
        Category::PostalCode,
        Decision::Confirmed,
        "steward-1",
    )
    .unwrap();
    assert!(
        tags(&store, "city").is_empty(),
        "a rejection takes the tag off at once"
    );
    assert_eq!(status(&store, "city"), "rejected");

    // The next run sees postal codes no more (say the values changed) and city again.
    let mut rerun = results.clone();
    for r in &mut rerun {
        if r.name == "postal_code" {
            r.category = Category::None;
        }
    }
    let stored = store_labels(&store, &dataset, &rerun, &[]).unwrap();
    assert_eq!((stored.rejected, stored.confirmed), (1, 0), "{stored:?}");
    assert!(
        tags(&store, "city").is_empty(),
        "rejected labels are never applied again"
    );
    assert_eq!(status(&store, "city"), "rejected");
    assert_eq!(
        tags(&store, "postal_code"),
        ["pii.postal_code"],
        "confirmed labels stay"
    );

    // A column that could not be classified is restricted.
    let stored = store_labels(
        &store,
        &dataset,
        &results,
        &[("signup_date".to_owned(), "values unreadable".to_owned())],
    )
    .unwrap();
    assert_eq!(stored.restricted, 1);
    assert_eq!(tags(&store, "signup_date"), ["restricted"]);
    assert_eq!(store.validate().unwrap().violations(), 0);
}

#[test]
fn labels_for_an_unknown_dataset_are_refused() {
    let (store, _dir) = catalog();
    let err = store_labels(&store, &DatasetKey::new("lake", "nope"), &[], &[]).unwrap_err();
    assert!(err.to_string().contains("lake/nope"), "{err}");
}
