//! SQL DDL ingestion: tables, columns, comments, constraints as rules, foreign keys as
//! relationships, and view lineage, stored atomically.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use govgraph_graph::ingest::{SqlFile, SqlIngestOptions, ingest_sql};
use govgraph_graph::model::{Column, Dataset, Entity, QualityRule};
use govgraph_graph::oxigraph;
use govgraph_graph::traverse::{Direction, Level, Traversal, traverse};
use govgraph_graph::{ColumnKey, DatasetKey, Error, GraphStore, NoProgress, StoreConfig};

fn file(name: &str) -> SqlFile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sql")
        .join(name);
    SqlFile {
        location: name.to_owned(),
        text: std::fs::read_to_string(path).unwrap(),
    }
}

fn options() -> SqlIngestOptions {
    SqlIngestOptions {
        dialect: "postgres".parse().unwrap(),
        system: "shop".into(),
        default_schema: None,
    }
}

fn count(store: &GraphStore, q: &str) -> u64 {
    let rows = store.select(q).unwrap();
    match rows[0].get("n") {
        Some(oxigraph::model::Term::Literal(l)) => l.value().parse().unwrap(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ddl_becomes_datasets_rules_relationships_and_lineage() {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let report = ingest_sql(&store, &[file("shop.sql")], &options(), &NoProgress).unwrap();
    assert_eq!(report.datasets, 3);
    assert_eq!(report.columns, 8);
    assert_eq!(report.relationships, 1);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let s = store.scheme();

    let customers = DatasetKey::new("shop", "sales.customers");
    let d = Dataset::read(&store, s, s.dataset(&customers).as_ref()).unwrap();
    assert_eq!(
        d.description.as_deref(),
        Some("People who bought something")
    );
    let email = Column::read(
        &store,
        s,
        s.column(&ColumnKey::new(customers.clone(), "email"))
            .as_ref(),
    )
    .unwrap();
    assert_eq!(email.description.as_deref(), Some("Where receipts go"));
    assert_eq!(email.required, Some(true));
    let id = Column::read(
        &store,
        s,
        s.column(&ColumnKey::new(customers.clone(), "customer_id"))
            .as_ref(),
    )
    .unwrap();
    assert!(id.primary_key);
    assert_eq!(id.data_type.as_deref(), Some("BIGINT"));

    // Constraints became rules of the right types.
    let types = |ty: &str| {
        count(
            &store,
            &format!(
                "SELECT (COUNT(*) AS ?n) WHERE {{ ?r a gg:QualityRule ; gg:ruleType \"{ty}\" }}"
            ),
        )
    };
    assert_eq!(
        types("unique"),
        4,
        "two primary keys, email UNIQUE, the ALTER TABLE unique"
    );
    assert_eq!(types("referential"), 1);
    assert_eq!(types("custom_sql"), 2);
    assert!(types("not_null") >= 4);
    let check = QualityRule::read(
        &store,
        s,
        s.entity(govgraph_graph::Kind::Rule, "sales.orders.check")
            .as_ref(),
    );
    assert!(check.is_err(), "check rules are keyed by their expression");
    assert_eq!(
        count(
            &store,
            "SELECT (COUNT(*) AS ?n) WHERE { ?r gg:ruleType \"custom_sql\" ; gg:expression \"amount >= 0\" }"
        ),
        1
    );

    // The foreign key is a relationship between columns.
    assert_eq!(
        count(
            &store,
            "SELECT (COUNT(*) AS ?n) WHERE { ?a gg:references ?b . ?b csvw:name \"customer_id\" ; gg:columnOf/dct:identifier \"sales.customers\" }"
        ),
        1
    );

    // The view has column lineage with transformation types, and table lineage.
    let view = DatasetKey::new("shop", "sales.revenue_by_country");
    let revenue = s.column(&ColumnKey::new(view.clone(), "revenue"));
    let up = traverse(
        &store,
        &Traversal::new(revenue, Level::Column, Direction::Upstream),
    )
    .unwrap();
    let amount = s.column(&ColumnKey::new(
        DatasetKey::new("shop", "sales.orders"),
        "amount",
    ));
    assert!(
        up.edges
            .iter()
            .any(|e| e.to == amount.as_str() && e.subtype.as_deref() == Some("AGGREGATION")),
        "{:?}",
        up.edges
    );
    let tables = traverse(
        &store,
        &Traversal::new(s.dataset(&view), Level::Table, Direction::Upstream),
    )
    .unwrap();
    assert_eq!(tables.total, 2);
    assert_eq!(
        count(
            &store,
            "SELECT (COUNT(*) AS ?n) WHERE { ?d a gg:ColumnDerivation ; prov:hadActivity ?job ; gg:transformationDescription ?x . ?job a gg:Job ; gg:definitionSql ?sql }"
        ),
        report.lineage_edges as u64
    );

    // Ingesting again duplicates nothing.
    let before = store.stats().unwrap().quads;
    ingest_sql(&store, &[file("shop.sql")], &options(), &NoProgress).unwrap();
    assert_eq!(store.stats().unwrap().quads, before);
}

#[test]
fn a_statement_that_does_not_parse_fails_with_its_position_and_stores_nothing() {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let before = store.stats().unwrap().quads;
    let err = ingest_sql(
        &store,
        &[file("shop.sql"), file("broken.sql")],
        &options(),
        &NoProgress,
    )
    .unwrap_err();
    let Error::Parse { location, line, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(location, "broken.sql");
    assert_eq!(*line, Some(3));
    assert_eq!(store.stats().unwrap().quads, before);
}
