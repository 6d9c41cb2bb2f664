//! Profiles of files, checked against statistics computed independently, and stored as a
//! history of DQV measurements.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use govgraph_connectors::files::{FilesOptions, ingest_files};
use govgraph_graph::oxigraph::model::{Literal, Term};
use govgraph_graph::{DatasetKey, GraphStore, NoProgress, StoreConfig};
use govgraph_quality::profile::profile_file;
use govgraph_quality::profile::store::store_profile;
use serde_json::json;

fn bronze(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../seeds/data/bronze")
        .join(name)
}

#[test]
fn a_csv_profile_matches_hand_computed_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.csv");
    std::fs::write(
        &file,
        "id,amount,when,label,flag\n1,10.5,2024-01-01,a,true\n2,,2024-01-03,b,false\n3,7.5,2024-01-02,a,true\n4,2,,,true\n",
    )
    .unwrap();
    let p = profile_file(&file).unwrap();
    assert_eq!(p.row_count, 4);
    let col = |n: &str| p.columns.iter().find(|c| c.name == n).unwrap();
    let amount = col("amount");
    assert_eq!(amount.data_type, "float");
    assert_eq!(
        (amount.count, amount.null_count, amount.distinct_count),
        (4, 1, 3)
    );
    assert_eq!(amount.null_percentage, 25.0);
    assert_eq!(
        (amount.min.clone(), amount.max.clone()),
        (json!(2.0), json!(10.5))
    );
    assert!((amount.mean.unwrap() - 20.0 / 3.0).abs() < 1e-9);
    // Sample standard deviation of 10.5, 7.5, 2.
    assert!(
        (amount.stddev.unwrap() - 4.310_839_05).abs() < 1e-6,
        "{:?}",
        amount.stddev
    );
    assert_eq!(
        (amount.q25.clone(), amount.q50.clone(), amount.q75.clone()),
        (json!(2.0), json!(7.5), json!(7.5))
    );
    let when = col("when");
    assert_eq!(when.data_type, "date");
    assert_eq!(
        (when.min.clone(), when.max.clone(), when.q50.clone()),
        (
            json!("2024-01-01"),
            json!("2024-01-03"),
            json!("2024-01-02")
        )
    );
    let label = col("label");
    assert_eq!(
        (label.data_type.as_str(), label.min_length, label.max_length),
        ("text", Some(1), Some(1))
    );
    assert_eq!(label.top_values[0].value, "a");
    assert_eq!(label.top_values[0].count, 2);
    assert_eq!(col("flag").data_type, "boolean");
    assert_eq!(col("id").semantic_type, "identifier");
}

#[test]
fn parquet_and_csv_of_the_same_table_agree() {
    let csv = profile_file(&bronze("customers.csv")).unwrap();
    let parquet = profile_file(&bronze("customers.parquet")).unwrap();
    assert_eq!(csv.row_count, parquet.row_count);
    for (a, b) in csv.columns.iter().zip(&parquet.columns) {
        assert_eq!(a.name, b.name);
        assert_eq!(
            (a.null_count, a.distinct_count),
            (b.null_count, b.distinct_count),
            "{}",
            a.name
        );
        if a.data_type == b.data_type {
            assert_eq!((&a.min, &a.max), (&b.min, &b.max), "{}", a.name);
        }
        assert_eq!(a.semantic_type, b.semantic_type, "{}", a.name);
    }
}

#[test]
fn iso_instants_in_text_files_are_timestamps_as_in_parquet() {
    let csv = profile_file(&bronze("support_tickets.csv")).unwrap();
    let parquet = profile_file(&bronze("support_tickets.parquet")).unwrap();
    let created = |p: &govgraph_quality::profile::DatasetProfile| {
        p.columns
            .iter()
            .find(|c| c.name == "created_at")
            .cloned()
            .unwrap()
    };
    let (c, q) = (created(&csv), created(&parquet));
    assert_eq!(c.data_type, "timestamp");
    assert_eq!(c.data_type, q.data_type);
    assert_eq!((&c.min, &c.max), (&q.min, &q.max));
    assert_eq!(c.min, json!("2023-03-01T20:57:38Z"));
    // An unresolved ticket has no resolution time: a null, not a reason to call it text.
    assert_eq!(created(&csv).null_count, 0);
    let resolved = csv
        .columns
        .iter()
        .find(|c| c.name == "resolved_at")
        .unwrap();
    assert_eq!(resolved.data_type, "timestamp");
}

#[test]
fn profiles_are_stored_as_a_history_of_measurements() {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(bronze("orders.csv"), dir.path().join("orders.csv")).unwrap();
    let options = FilesOptions {
        system: Some("lake".to_owned()),
        ..FilesOptions::default()
    };
    ingest_files(&store, dir.path(), &options, &NoProgress).unwrap();
    let key = DatasetKey::new("lake", "orders");
    let profile = profile_file(&dir.path().join("orders.csv")).unwrap();
    let first = store_profile(&store, &key, &profile).unwrap();
    let second = store_profile(&store, &key, &profile).unwrap();
    assert_ne!(first.graph, second.graph);
    assert!(first.measurements > 50, "{first:?}");
    let rows = store
        .select(
            "SELECT ?at ?v WHERE { ?m dqv:isMeasurementOf gg:NullCount ; dqv:computedOn ?c ; dqv:value ?v ; prov:generatedAtTime ?at .
               ?c csvw:name \"region\" } ORDER BY ?at",
        )
        .unwrap();
    assert_eq!(rows.len(), 2, "two runs, two points of the series");
    let region = profile.columns.iter().find(|c| c.name == "region").unwrap();
    assert_eq!(
        rows[0].get("v"),
        Some(&Term::from(Literal::from(region.null_count as i64)))
    );
    assert_eq!(store.validate().unwrap().violations(), 0);
    assert!(store_profile(&store, &DatasetKey::new("lake", "nope"), &profile).is_err());
}

#[test]
fn json_lines_profiles_flatten_objects_and_count_missing_keys_as_nulls() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    std::fs::write(
        &file,
        "{\"id\": 1, \"user\": {\"email\": \"a@example.com\", \"age\": 31}}\n\n{\"id\": 2, \"user\": {\"email\": \"b@example.org\"}, \"tag\": \"x\"}\n{\"id\": 3, \"user\": null}\n",
    )
    .unwrap();
    let p = profile_file(&file).unwrap();
    assert_eq!(p.row_count, 3);
    let col = |n: &str| p.columns.iter().find(|c| c.name == n).unwrap();
    assert_eq!(
        (
            col("user.email").null_count,
            col("user.email").semantic_type.as_str()
        ),
        (1, "email")
    );
    assert_eq!(
        (
            col("user.age").data_type.as_str(),
            col("user.age").null_count
        ),
        ("integer", 2)
    );
    assert_eq!(col("tag").null_count, 2);
    let err = profile_file(&dir.path().join("missing.jsonl"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.jsonl"), "{err}");
}
