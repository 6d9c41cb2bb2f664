//! The PostgreSQL harvest against a real server: the URL comes from
//! `GOVGRAPH_TEST_POSTGRES_URL` (CI sets it); without it the tests say they were skipped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use govgraph_connectors::postgres::{PostgresOptions, ingest_postgres_with_samples, read_postgres};
use govgraph_connectors::{Error, Retry};
use govgraph_graph::oxigraph::model::Term;
use govgraph_graph::{GraphStore, NoProgress, StoreConfig};

/// The harvest reads the whole catalog while another test drops its schema: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn url() -> Option<String> {
    let url = std::env::var("GOVGRAPH_TEST_POSTGRES_URL").ok();
    if url.is_none() {
        eprintln!("skipped: GOVGRAPH_TEST_POSTGRES_URL is not set");
    }
    url
}

/// A schema of its own, dropped at the end even when the test fails.
struct Schema {
    client: postgres::Client,
    name: String,
}

impl Schema {
    fn create(url: &str, sql: &str) -> Self {
        let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("gg_harvest_{}_{nanos}", std::process::id());
        client
            .batch_execute(&format!("CREATE SCHEMA {name}; SET search_path = {name};"))
            .unwrap();
        client.batch_execute(&sql.replace("{s}", &name)).unwrap();
        Self { client, name }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = self
            .client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

const SQL: &str = r#"
CREATE TABLE {s}.customers (
  id bigint PRIMARY KEY,
  email text NOT NULL UNIQUE,
  country text CHECK (country <> '')
);
COMMENT ON TABLE {s}.customers IS 'People who buy';
COMMENT ON COLUMN {s}.customers.email IS 'Login e-mail';
CREATE TABLE {s}.orders (
  id bigint,
  line int,
  customer_id bigint REFERENCES {s}.customers (id),
  amount numeric(12, 2),
  PRIMARY KEY (id, line)
);
CREATE TABLE {s}."Mixed Case" (x int);
INSERT INTO {s}.customers SELECT g, 'u' || g || '@example.com', 'DE' FROM generate_series(1, 5000) g;
ANALYZE {s}.customers;
CREATE VIEW {s}.revenue AS
  SELECT c.country, sum(o.amount) AS revenue
  FROM {s}.orders o JOIN {s}.customers c ON c.id = o.customer_id GROUP BY c.country;
CREATE MATERIALIZED VIEW {s}.big_spenders AS SELECT customer_id FROM {s}.orders WHERE amount > 100;
"#;

fn rows(store: &GraphStore, sparql: &str) -> Vec<String> {
    store
        .select(sparql)
        .unwrap()
        .iter()
        .map(|r| {
            r.iter()
                .map(|(_, t)| match t {
                    Term::Literal(l) => l.value().to_owned(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn a_schema_is_harvested_read_only_with_lineage_rules_and_samples() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(url) = url() else { return };
    let schema = Schema::create(&url, SQL);
    let s = schema.name.clone();
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let mut options = PostgresOptions::new(url.clone());
    options.system = Some("wh".into());
    options.include_schemas = vec![s.clone()];
    options.sample_rows = 100;

    let harvest = read_postgres(&options, store.scheme(), &NoProgress).unwrap();
    assert!(
        harvest.server.read_only,
        "the harvest runs in a read-only transaction"
    );

    let (report, samples) = ingest_postgres_with_samples(&store, &options, &NoProgress).unwrap();
    assert_eq!(report.status, "succeeded");
    assert_eq!(report.counts["datasets"], 5, "{:?}", report.counts);

    let datasets = rows(
        &store,
        "SELECT ?id ?kind WHERE { ?d dct:identifier ?id ; a ?kind . FILTER(?kind IN (gg:Table, gg:View, gg:MaterializedView)) } ORDER BY ?id ?kind",
    );
    let strip =
        |v: Vec<String>| -> Vec<String> { v.into_iter().map(|r| r.replace(&s, "S")).collect() };
    assert_eq!(
        strip(datasets),
        [
            "S.big_spenders <https://govgraph.dev/ns#MaterializedView>",
            "S.big_spenders <https://govgraph.dev/ns#View>",
            "S.customers <https://govgraph.dev/ns#Table>",
            "S.mixed-case <https://govgraph.dev/ns#Table>",
            "S.orders <https://govgraph.dev/ns#Table>",
            "S.revenue <https://govgraph.dev/ns#View>",
        ]
    );
    // (A materialised view is also a view, by the ontology.) Comments, types, row estimate.
    let described = rows(
        &store,
        "SELECT ?desc ?n WHERE { ?d dct:title \"customers\" ; dct:description ?desc ; gg:rowCount ?n }",
    );
    assert_eq!(described, ["People who buy 5000"]);
    let email = rows(
        &store,
        "SELECT ?type ?desc WHERE { ?c csvw:name \"email\" ; gg:dataType ?type ; dct:description ?desc }",
    );
    assert_eq!(email, ["text Login e-mail"]);
    // Constraints as rules.
    let rules = rows(
        &store,
        "SELECT ?type WHERE { ?r a gg:QualityRule ; gg:ruleType ?type } ORDER BY ?type",
    );
    for kind in ["custom_sql", "not_null", "referential", "unique"] {
        assert!(
            rules.iter().any(|r| r == kind),
            "no {kind} rule in {rules:?}"
        );
    }
    // The view's SQL became column lineage.
    let lineage = rows(
        &store,
        "SELECT ?t ?s WHERE { ?tc prov:qualifiedDerivation ?e ; csvw:name ?t . ?e prov:entity ?sc .
           ?sc csvw:name ?s ; gg:columnOf ?sd . ?sd dct:title ?st } ORDER BY ?t ?s",
    );
    assert!(
        lineage.contains(&"revenue amount".to_owned()),
        "{lineage:?}"
    );
    assert!(
        lineage.contains(&"country country".to_owned()),
        "{lineage:?}"
    );
    // Samples are bounded, returned, and never stored.
    let customers = samples.iter().find(|t| t.table == "customers").unwrap();
    assert!(!customers.rows.is_empty() && customers.rows.len() <= 100);
    let sampled = customers.rows[0]
        .iter()
        .flatten()
        .find(|v| v.contains('@'))
        .unwrap()
        .clone();
    let everything = rows(&store, "SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }");
    assert!(
        !everything.iter().any(|o| o.contains(&sampled)),
        "a sampled value was stored"
    );
}

#[test]
fn the_password_is_never_stored_or_shown() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(url) = url() else { return };
    let with_password = url.replacen("postgres://postgres@", "postgres://postgres:Sekr1t-pw@", 1);
    assert_ne!(
        with_password, url,
        "the test URL must have the form postgres://postgres@..."
    );
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let mut options = PostgresOptions::new(with_password);
    options.include_schemas = vec!["gg_nothing_here".into()];
    let report = ingest_postgres_with_samples(&store, &options, &NoProgress)
        .unwrap()
        .0;
    assert!(!report.source.contains("Sekr1t"), "{}", report.source);
    let everything = rows(&store, "SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }");
    assert!(!everything.iter().any(|o| o.contains("Sekr1t")));
    // A failed connection's error does not show it either.
    let mut options = PostgresOptions::new("postgres://postgres:Sekr1t-pw@127.0.0.1:1/test");
    options.retry = Retry {
        retries: 0,
        base_delay: Duration::from_millis(1),
    };
    options.connect_timeout = Duration::from_secs(2);
    let error = ingest_postgres_with_samples(&store, &options, &NoProgress).unwrap_err();
    assert!(!error.to_string().contains("Sekr1t"), "{error}");
}

#[test]
fn an_unreachable_server_is_retried_then_recorded_as_failed() {
    if url().is_none() {
        return;
    }
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let mut options = PostgresOptions::new("postgres://postgres@127.0.0.1:1/test");
    options.retry = Retry {
        retries: 3,
        base_delay: Duration::from_millis(10),
    };
    options.connect_timeout = Duration::from_secs(2);
    let error = ingest_postgres_with_samples(&store, &options, &NoProgress).unwrap_err();
    assert!(matches!(error, Error::Unreachable { .. }), "{error}");
    let runs = rows(
        &store,
        "SELECT ?status ?attempts WHERE { ?r a gg:IngestionRun ; gg:status ?status ; gg:attempts ?attempts }",
    );
    assert_eq!(runs, ["failed 4"]);
}
