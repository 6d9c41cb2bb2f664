//! Ingestion runs: retries with backoff, atomic replacement of a source, and the run record
//! for successes and failures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use govgraph_connectors::{Error, Extract, ExtractSource, Ingestion, Retry};
use govgraph_graph::iri::DatasetKey;
use govgraph_graph::model::{Dataset, DatasetKind, Entity};
use govgraph_graph::{GraphStore, NoProgress, StoreConfig};
use oxigraph::model::Term;

fn fast() -> Retry {
    Retry {
        retries: 3,
        base_delay: Duration::from_millis(5),
    }
}

fn extract(store: &GraphStore, tables: &[&str]) -> Extract {
    let mut triples = Vec::new();
    for t in tables {
        Dataset::new(DatasetKey::new("wh", t), DatasetKind::Table, *t)
            .write(store.scheme(), &mut triples);
    }
    let mut e = Extract {
        sources: vec![ExtractSource {
            name: "test:wh".into(),
            location: "wh".into(),
            triples,
        }],
        ..Extract::default()
    };
    e.count("datasets", tables.len() as u64);
    e
}

fn titles(store: &GraphStore) -> Vec<String> {
    let rows = store
        .select("SELECT ?t WHERE { GRAPH <urn:govgraph:graph:test:wh> { ?d a dcat:Dataset ; dct:title ?t } } ORDER BY ?t")
        .unwrap();
    rows.iter()
        .map(|r| match r.get("t") {
            Some(Term::Literal(l)) => l.value().to_owned(),
            _ => String::new(),
        })
        .collect()
}

fn runs(store: &GraphStore) -> Vec<(String, String, String)> {
    let rows = store
        .select(
            "SELECT ?status ?attempts ?error WHERE { ?r a gg:IngestionRun ; gg:status ?status ; gg:attempts ?attempts .
               OPTIONAL { ?r gg:errorMessage ?error } } ORDER BY ?status ?attempts",
        )
        .unwrap();
    let v = |r: &oxigraph::sparql::QuerySolution, k: &str| match r.get(k) {
        Some(Term::Literal(l)) => l.value().to_owned(),
        _ => "-".to_owned(),
    };
    rows.iter()
        .map(|r| (v(r, "status"), v(r, "attempts"), v(r, "error")))
        .collect()
}

#[test]
fn a_run_retries_an_unreachable_source_then_succeeds() {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let started = std::time::Instant::now();
    let report = Ingestion::new(&store, "test", "wh")
        .retry(fast())
        .run(&NoProgress, |attempt| {
            if attempt < 3 {
                Err(Error::Unreachable {
                    location: "wh".into(),
                    message: "connection refused".into(),
                })
            } else {
                Ok(extract(&store, &["orders", "customers"]))
            }
        })
        .unwrap();
    // Waits of 5 ms then 10 ms: exponential.
    assert!(started.elapsed() >= Duration::from_millis(15));
    assert_eq!(report.status, "succeeded");
    assert_eq!(report.attempts, 3);
    assert_eq!(report.counts["datasets"], 2);
    assert_eq!(titles(&store), ["customers", "orders"]);
    assert_eq!(runs(&store), [("succeeded".into(), "3".into(), "-".into())]);
    // The record says what it generated and counted.
    let counted = store
        .select("SELECT ?what ?n WHERE { ?r gg:recordCount ?c ; prov:generated <urn:govgraph:graph:test:wh> . ?c gg:counted ?what ; gg:count ?n }")
        .unwrap();
    assert_eq!(counted.len(), 1);
}

#[test]
fn a_run_that_fails_for_good_keeps_the_previous_version_and_is_recorded() {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    Ingestion::new(&store, "test", "wh")
        .run(&NoProgress, |_| Ok(extract(&store, &["orders"])))
        .unwrap();
    let mut attempts = 0;
    let error = Ingestion::new(&store, "test", "wh")
        .retry(fast())
        .run(&NoProgress, |_| {
            attempts += 1;
            Err::<Extract, _>(Error::Unreachable {
                location: "wh".into(),
                message: "timed out".into(),
            })
        })
        .unwrap_err();
    assert_eq!(attempts, 4, "one try and three retries");
    assert!(error.to_string().contains("timed out"), "{error}");
    assert_eq!(titles(&store), ["orders"], "the previous version stays");
    assert_eq!(
        runs(&store),
        [
            (
                "failed".into(),
                "4".into(),
                "wh: unreachable: timed out".into()
            ),
            ("succeeded".into(), "1".into(), "-".into()),
        ]
    );
}

#[test]
fn bad_input_is_not_retried_and_a_refused_load_stores_nothing_but_the_record() {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    Ingestion::new(&store, "test", "wh")
        .run(&NoProgress, |_| Ok(extract(&store, &["orders"])))
        .unwrap();
    let mut attempts = 0;
    let error = Ingestion::new(&store, "test", "wh")
        .retry(fast())
        .run(&NoProgress, |_| {
            attempts += 1;
            Err::<Extract, _>(Error::Invalid {
                location: "manifest.json".into(),
                field: "nodes".into(),
                message: "expected a map".into(),
            })
        })
        .unwrap_err();
    assert_eq!(attempts, 1);
    assert_eq!(error.to_string(), "manifest.json: nodes: expected a map");
    // A row count that is not an integer breaks the SHACL shapes: the load is refused whole.
    let error = Ingestion::new(&store, "test", "wh")
        .run(&NoProgress, |_| {
            let mut e = extract(&store, &["customers"]);
            let dataset = store.scheme().dataset(&DatasetKey::new("wh", "customers"));
            e.sources[0].triples.push(oxigraph::model::Triple::new(
                dataset,
                govgraph_graph::vocab::gg::ROW_COUNT.into_owned(),
                oxigraph::model::Literal::new_simple_literal("lots"),
            ));
            Ok(e)
        })
        .unwrap_err();
    assert!(matches!(error, Error::Graph(_)), "{error}");
    assert_eq!(titles(&store), ["orders"]);
    assert_eq!(runs(&store).iter().filter(|r| r.0 == "failed").count(), 2);
}
