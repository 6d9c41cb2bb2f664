//! Data-quality rules end to end on files: `tests/rules/shop` holds two CSV files with planted
//! defects and `catalog.ttl`, the rules (plus a glossary term and a domain with standards)
//! that must find them. Each dataset's run, suggestions and exports must equal the files
//! beside them (`NAME.run.expected.json`, `NAME.suggest.expected.json`, `orders.odcs.yaml`,
//! `orders.ge.json`, `orders.soda.yaml`); `GOVGRAPH_BLESS=1` rewrites them. Runs are stored
//! with their violations and scores, land on the scorecard, and a metric that breaks from its
//! history opens an anomaly violation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use govgraph_connectors::files::{FilesOptions, ingest_files};
use govgraph_graph::oxigraph::model::Term;
use govgraph_graph::{DatasetKey, GraphStore, NoProgress, StoreConfig};
use govgraph_quality::rules::assess::{AssessOptions, assess, masked_columns};
use govgraph_quality::rules::export::{Format, export};
use govgraph_quality::rules::run::{RunOptions, file_keys, parse_timestamp, run_file};
use govgraph_quality::rules::score::{Scope, scorecard};
use govgraph_quality::rules::suggest::{catalog_facts, suggest};
use govgraph_quality::rules::{Check, catalog_columns, catalog_rules};
use govgraph_quality::{classify_table, sample};

mod common;

use common::shop;

/// The clock the expectations were written with.
fn now() -> i64 {
    parse_timestamp("2024-05-11T14:00:00Z").unwrap()
}

fn catalog() -> (GraphStore, tempfile::TempDir) {
    let (store, dir) = unclassified_catalog();
    // Classify customers, so that its personal data is masked in sample rows.
    let columns = sample::sample_file(&dir.path().join("customers.csv"), 1000).unwrap();
    govgraph_quality::store::store_labels(
        &store,
        &DatasetKey::new("lake", "customers"),
        &classify_table(&columns),
        &[],
    )
    .unwrap();
    (store, dir)
}

fn unclassified_catalog() -> (GraphStore, tempfile::TempDir) {
    common::shop_catalog()
}

fn expect(name: &str, actual: &str) {
    let path = shop().join(name);
    if std::env::var_os("GOVGRAPH_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with GOVGRAPH_BLESS=1", path.display()));
    assert_eq!(
        expected, actual,
        "{name} differs; GOVGRAPH_BLESS=1 rewrites it"
    );
}

fn run_dataset(store: &GraphStore, dir: &Path, name: &str) -> serde_json::Value {
    let key = DatasetKey::new("lake", name);
    let (rules, unreadable) = catalog_rules(store, &key).unwrap();
    let columns = catalog_columns(store, &key).unwrap();
    let options = RunOptions {
        masked: masked_columns(store, &key).unwrap(),
        now_micros: Some(now()),
    };
    let mut parents = |rule: &govgraph_quality::rules::Rule| {
        let Check::Referential {
            references,
            columns,
        } = &rule.check
        else {
            unreachable!()
        };
        file_keys(&dir.join(format!("{references}.csv")), columns).map_err(|e| e.to_string())
    };
    let (rows, results) = run_file(
        &dir.join(format!("{name}.csv")),
        &columns,
        &rules,
        &mut parents,
        &options,
    )
    .unwrap();
    let mut results = serde_json::to_value(&results).unwrap();
    for r in results.as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("iri");
    }
    serde_json::json!({ "dataset": name, "rows": rows, "unreadable": unreadable, "results": results })
}

#[test]
fn rules_find_the_planted_defects() {
    let (store, dir) = catalog();
    for name in ["orders", "customers"] {
        let doc = run_dataset(&store, dir.path(), name);
        expect(
            &format!("{name}.run.expected.json"),
            &(serde_json::to_string_pretty(&doc).unwrap() + "\n"),
        );
    }
    // Spot checks that do not depend on the expectation files.
    let doc = run_dataset(&store, dir.path(), "orders");
    let failed = |rule: &str| {
        doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == rule)
            .map(|r| {
                (
                    r["status"].as_str().unwrap().to_owned(),
                    r["failed"].as_u64().unwrap(),
                )
            })
            .unwrap()
    };
    assert_eq!(failed("orders-id-unique"), ("fail".to_owned(), 1));
    assert_eq!(failed("orders-customer-required"), ("fail".to_owned(), 1));
    assert_eq!(failed("orders-customer-exists"), ("fail".to_owned(), 1));
    assert_eq!(failed("orders-status-values"), ("fail".to_owned(), 1));
    assert_eq!(failed("orders-amount-range"), ("fail".to_owned(), 2));
    assert_eq!(
        failed("orders-refunds-only-negative"),
        ("fail".to_owned(), 1)
    );
    assert_eq!(failed("orders-negative-count"), ("fail".to_owned(), 1));
    assert_eq!(failed("orders-currency-format"), ("fail".to_owned(), 1));
    assert_eq!(failed("orders-volume"), ("pass".to_owned(), 0));
    assert_eq!(failed("orders-fresh"), ("fail".to_owned(), 1));
    // The failing row's email address and birth date are masked; the other columns are not.
    let customers = run_dataset(&store, dir.path(), "customers");
    let sample = &customers["results"][0]["samples"][0];
    assert_eq!(sample["email"], "***email***", "{customers:#}");
    assert_eq!(sample["date_of_birth"], "***date_of_birth***");
    assert_eq!(sample["country"], "Spain");
    assert_eq!(sample["customer_id"], "7");
}

#[test]
fn exports_match_their_formats() {
    let (store, _dir) = catalog();
    let (rules, _) = catalog_rules(&store, &DatasetKey::new("lake", "orders")).unwrap();
    for (format, file) in [
        (Format::Odcs, "orders.odcs.yaml"),
        (Format::GreatExpectations, "orders.ge.json"),
        (Format::Soda, "orders.soda.yaml"),
    ] {
        expect(file, &export(format, "lake/orders", "orders", &rules));
    }
    let ge: serde_json::Value = serde_json::from_str(&export(
        Format::GreatExpectations,
        "lake/orders",
        "orders",
        &rules,
    ))
    .unwrap();
    assert_eq!(ge["expectations"].as_array().unwrap().len(), rules.len());
}

#[test]
fn suggestions_come_from_schema_profile_and_standards() {
    let (store, dir) = catalog();
    for name in ["orders", "customers"] {
        let key = DatasetKey::new("lake", name);
        let facts = catalog_facts(&store, &key).unwrap();
        let profile =
            govgraph_quality::profile::profile_file(&dir.path().join(format!("{name}.csv")))
                .unwrap();
        let (existing, _) = catalog_rules(&store, &key).unwrap();
        let suggestions = suggest(&facts, Some(&profile), &existing, now());
        expect(
            &format!("{name}.suggest.expected.json"),
            &(serde_json::to_string_pretty(&suggestions).unwrap() + "\n"),
        );
        // Nothing suggested repeats a rule the dataset has.
        for s in &suggestions {
            assert!(
                !existing
                    .iter()
                    .any(|r| r.check.rule_type() == s.rule.check.rule_type()
                        && r.columns == s.rule.columns),
                "{} repeats an existing rule",
                s.rule.key
            );
        }
        if name == "customers" {
            // The term's standard reaches the column that implements it.
            assert!(
                suggestions.iter().any(|s| s.source == "glossary"
                    && s.rule.columns == ["email"]
                    && matches!(s.rule.check, Check::Regex { .. })),
                "{suggestions:#?}"
            );
        }
    }
}

fn count(store: &GraphStore, sparql: &str) -> u64 {
    let rows = store.select(sparql).unwrap();
    match rows.first().and_then(|r| r.get("n")) {
        Some(Term::Literal(l)) => l.value().parse().unwrap(),
        _ => 0,
    }
}

#[test]
fn assessments_are_stored_scored_and_on_the_scorecard() {
    let (store, _dir) = catalog();
    let key = DatasetKey::new("lake", "orders");
    let a = assess(&store, &key, AssessOptions::default()).unwrap();
    assert!(a.has_errors(), "error-severity rules failed");
    let failed = a.results.iter().filter(|r| r.status == "fail").count() as u64;
    let stored = a.stored.as_ref().unwrap();
    let graph = format!("urn:govgraph:graph:{}", stored.graph);
    assert_eq!(
        count(
            &store,
            &format!("SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?v a gg:Violation }} }}")
        ),
        failed
    );
    assert_eq!(
        count(
            &store,
            &format!("SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?r a gg:RuleRun }} }}")
        ),
        a.results.len() as u64
    );
    // The duplicate order is kept as a sample row of its violation.
    let samples = store
        .select(&format!(
            "SELECT ?s WHERE {{ GRAPH <{graph}> {{ ?v gg:rule <https://id.govgraph.dev/rule/orders-id-unique> ; gg:sampleRow ?s }} }}"
        ))
        .unwrap();
    assert_eq!(samples.len(), 1);
    assert!(format!("{:?}", samples[0].get("s")).contains("5008"));
    // Scores are measurements of the dataset, and the scorecard agrees with the run.
    assert_eq!(
        count(
            &store,
            "SELECT (COUNT(*) AS ?n) WHERE { ?m dqv:isMeasurementOf gg:QualityScore }"
        ),
        1
    );
    let card = scorecard(&store, &Scope::Domain("sales".to_owned())).unwrap();
    assert_eq!(card.domains.len(), 1);
    let ds = &card.domains[0].datasets[0];
    assert_eq!(ds.dataset, "lake/orders");
    assert_eq!(
        ds.scores.score, a.scores.score,
        "{card:#?}\n{:#?}",
        a.scores
    );
    assert_eq!(ds.scores.dimensions, a.scores.dimensions);
    assert!(a.scores.dimensions.contains_key("Timeliness"));
    // The whole store is still valid.
    let report = store.validate().unwrap();
    assert_eq!(report.violations(), 0, "{:#?}", report.results);
    // Nothing the run wrote draws even a warning.
    let ours: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.focus_node.contains("run-") || r.focus_node.contains("#quality-"))
        .collect();
    assert!(ours.is_empty(), "{ours:#?}");
}

#[test]
fn a_metric_that_breaks_from_its_history_opens_a_violation() {
    let (store, dir) = catalog();
    let key = DatasetKey::new("lake", "orders");
    for _ in 0..6 {
        let a = assess(&store, &key, AssessOptions::default()).unwrap();
        assert!(a.anomalies.is_empty(), "{:#?}", a.anomalies);
        assert!(a.unreadable.is_empty(), "{:#?}", a.unreadable);
        assert_eq!(a.results.len(), 10, "the anomaly check is not a row rule");
    }
    // Half the amounts go missing.
    let path = dir.path().join("orders.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let broken: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i > 0 && i % 2 == 0 {
                let mut fields: Vec<&str> = line.split(',').collect();
                fields[4] = "";
                fields.join(",")
            } else {
                line.to_owned()
            }
        })
        .collect();
    std::fs::write(&path, broken.join("\n") + "\n").unwrap();
    let a = assess(&store, &key, AssessOptions::default()).unwrap();
    let nulls = a
        .anomalies
        .iter()
        .find(|x| x.name == "amount" && x.metric == "NullCount")
        .unwrap_or_else(|| {
            let rows = store.select("SELECT ?v ?t WHERE { ?m dqv:computedOn <https://id.govgraph.dev/dataset/lake/orders/column/amount> ; dqv:isMeasurementOf gg:NullCount ; dqv:value ?v ; prov:generatedAtTime ?t }").unwrap();
            panic!("{} series: {:#?} {rows:?}", a.series_checked, a.anomalies)
        });
    assert_eq!(nulls.verdict.expected, 0.0);
    assert_eq!(nulls.verdict.value, 7.0);
    let graph = format!("urn:govgraph:graph:{}", a.stored.as_ref().unwrap().graph);
    let found = store
        .select(&format!(
            "SELECT ?e ?d WHERE {{ GRAPH <{graph}> {{ ?v a gg:Violation ; gg:expectedValue ?e ; dct:description ?d ;
               gg:focus <https://id.govgraph.dev/dataset/lake/orders/column/amount> }} }}"
        ))
        .unwrap();
    assert!(!found.is_empty());
    assert!(
        a.scores
            .dimensions
            .get("Accuracy")
            .is_some_and(|s| *s < 100.0)
    );
}

#[test]
fn bad_rules_are_reported_not_run() {
    let bad = [
        ("range", Some("{}"), None),
        ("regex", Some("[1, 2]"), None),
        ("accepted_values", Some("{\"values\": 3}"), None),
        (
            "freshness",
            Some("{\"column\": \"t\", \"max_age\": \"soon\"}"),
            None,
        ),
        ("custom_sql", None, None),
        ("no_such_type", None, None),
    ];
    for (t, p, e) in bad {
        assert!(Check::from_stored(t, p, e).is_err(), "{t} {p:?}");
    }
    assert_eq!(
        Check::from_stored(
            "freshness",
            Some("{\"column\": \"t\", \"max_age\": \"P1DT12H\"}"),
            None
        ),
        Ok(Check::Freshness {
            column: "t".to_owned(),
            max_age_hours: 36.0
        })
    );
    assert_eq!(
        Check::from_stored("not_null", Some("{\"mostly\": 0.99}"), None),
        Ok(Check::NotNull {
            max_null_rate: Some(0.01)
        })
    );
}

#[test]
fn predicates_never_panic_on_arbitrary_input() {
    use govgraph_quality::rules::expr::Predicate;
    use proptest::prelude::*;
    let columns = vec!["a".to_owned(), "b".to_owned()];
    proptest!(ProptestConfig::with_cases(512), |(sql in "[ -~]{0,40}", a in proptest::option::of("[ -~]{0,8}"), b in proptest::option::of("[0-9.-]{0,6}"))| {
        if let Ok(p) = Predicate::parse(&sql, &columns) {
            let _ = p.eval(&[a.as_deref(), b.as_deref()]);
        }
    });
    let fragments = [
        "a", "b", "1", "'x'", "NULL", "=", "<", ">=", "AND", "OR", "NOT", "(", ")", "IS", "IN",
        "+", "/", "~", "LIKE", ",",
    ];
    proptest!(ProptestConfig::with_cases(512), |(picks in proptest::collection::vec(0..fragments.len(), 0..12), a in proptest::option::of("[ -~]{0,8}"))| {
        let sql: Vec<&str> = picks.iter().map(|i| fragments[*i]).collect();
        if let Ok(p) = Predicate::parse(&sql.join(" "), &columns) {
            let _ = p.eval(&[a.as_deref(), Some("0")]);
        }
    });
}

#[test]
fn a_real_profile_brings_values_ranges_formats_and_volume() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/data/bronze/orders.csv");
    let profile = govgraph_quality::profile::profile_file(&file).unwrap();
    let facts = govgraph_quality::rules::suggest::CatalogFacts::default();
    let suggestions = suggest(&facts, Some(&profile), &[], now());
    let find = |column: &str, kind: &str| {
        suggestions
            .iter()
            .find(|s| s.rule.columns == [column] && s.rule.check.rule_type() == kind)
            .map(|s| s.rule.check.clone())
    };
    let listing: Vec<String> = suggestions
        .iter()
        .map(|s| format!("{} {:?}", s.rule.title, s.rule.check))
        .collect();
    let listing = listing.join("\n");
    assert!(
        matches!(find("status", "accepted_values"), Some(Check::AcceptedValues { values }) if values.contains(&"completed".to_owned())),
        "{listing}"
    );
    assert!(
        matches!(find("unit_price", "range"), Some(Check::Range { min: Some(m), .. }) if m == 0),
        "{listing}"
    );
    assert!(
        matches!(find("quantity", "range"), Some(Check::Range { min: Some(a), max: Some(b) }) if a == -2 && b == 6),
        "integer columns get integer bounds\n{listing}"
    );
    assert_eq!(
        find("shipping_country", "regex"),
        Some(Check::Regex {
            pattern: "^[A-Z]{2}$".to_owned()
        }),
        "{listing}"
    );
    assert!(
        find("order_id", "range").is_none(),
        "identifiers get no range\n{listing}"
    );
    assert!(
        suggestions.iter().any(|s| matches!(
            s.rule.check,
            Check::RowCount {
                min: Some(2501),
                max: Some(10004)
            }
        )),
        "{listing}"
    );
    // Every suggestion runs on the file it came from, and the rules drawn from the data itself
    // (not the volume band, which is about later loads) pass on it.
    let rules: Vec<_> = suggestions.iter().map(|s| s.rule.clone()).collect();
    let columns: Vec<String> = profile.columns.iter().map(|c| c.name.clone()).collect();
    let (_, results) = run_file(
        &file,
        &columns,
        &rules,
        &mut |_| Ok(Default::default()),
        &RunOptions::default(),
    )
    .unwrap();
    for r in &results {
        assert_eq!(r.status, "pass", "{r:#?}");
    }
}

/// The shop's CSV rows as a PostgreSQL table with typed columns.
fn pg_table(client: &mut govgraph_connectors::postgres::Client, name: &str, types: &[&str]) {
    let text = std::fs::read_to_string(shop().join(format!("{name}.csv"))).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let columns: Vec<String> = header
        .iter()
        .zip(types)
        .map(|(c, t)| format!("\"{c}\" {t}"))
        .collect();
    let rows: Vec<String> = lines
        .map(|line| {
            let values: Vec<String> = line
                .split(',')
                .map(|v| {
                    if v.is_empty() {
                        "NULL".to_owned()
                    } else {
                        format!("'{}'", v.replace('\'', "''"))
                    }
                })
                .collect();
            format!("({})", values.join(", "))
        })
        .collect();
    client
        .batch_execute(&format!(
            "CREATE TABLE gg_rules_test.{name} ({}); INSERT INTO gg_rules_test.{name} VALUES {};",
            columns.join(", "),
            rows.join(", ")
        ))
        .unwrap();
}

#[test]
fn postgres_push_down_finds_what_the_file_run_finds() {
    let Some(url) = std::env::var("GOVGRAPH_TEST_POSTGRES_URL").ok() else {
        eprintln!("skipped: GOVGRAPH_TEST_POSTGRES_URL is not set");
        return;
    };
    use govgraph_connectors::postgres::{PostgresOptions, connect};
    let mut admin = connect(&PostgresOptions::new(url.clone())).unwrap();
    admin
        .batch_execute("DROP SCHEMA IF EXISTS gg_rules_test CASCADE; CREATE SCHEMA gg_rules_test;")
        .unwrap();
    pg_table(
        &mut admin,
        "customers",
        &["integer", "text", "text", "date", "date"],
    );
    pg_table(
        &mut admin,
        "orders",
        &[
            "integer",
            "integer",
            "date",
            "text",
            "numeric(10,2)",
            "text",
            "timestamptz",
        ],
    );
    let (store, dir) = catalog();
    let files = run_dataset(&store, dir.path(), "orders");
    let key = DatasetKey::new("lake", "orders");
    let (rules, _) = catalog_rules(&store, &key).unwrap();
    let options = RunOptions {
        masked: masked_columns(&store, &key).unwrap(),
        now_micros: Some(now()),
    };
    let mut client = govgraph_quality::locate::open_read_only(&url).unwrap();
    let (rows, results) = govgraph_quality::rules::run::run_postgres(
        &mut client,
        "gg_rules_test",
        "orders",
        &rules,
        &mut |_| Ok(("gg_rules_test".to_owned(), "customers".to_owned())),
        &options,
    )
    .unwrap();
    let _ = client.batch_execute("ROLLBACK");
    assert_eq!(rows, files["rows"].as_u64().unwrap());
    let file_results = files["results"].as_array().unwrap();
    assert_eq!(results.len(), file_results.len());
    for (pg, file) in results.iter().zip(file_results) {
        assert_eq!(pg.rule, file["rule"].as_str().unwrap());
        assert_eq!(
            (
                pg.status.as_str(),
                pg.checked,
                pg.failed,
                pg.samples.len() as u64
            ),
            (
                file["status"].as_str().unwrap(),
                file["checked"].as_u64().unwrap(),
                file["failed"].as_u64().unwrap(),
                file["samples"].as_array().unwrap().len() as u64
            ),
            "{pg:#?}\n{file:#}"
        );
    }
    // A rule that cannot run is an error of its own and does not stop the others.
    let mut broken = rules.clone();
    broken.insert(
        0,
        govgraph_quality::rules::Rule {
            check: Check::CustomSql {
                expression: "no_such_column > 1".to_owned(),
            },
            ..rules[0].clone()
        },
    );
    let mut client = govgraph_quality::locate::open_read_only(&url).unwrap();
    let (_, results) = govgraph_quality::rules::run::run_postgres(
        &mut client,
        "gg_rules_test",
        "orders",
        &broken,
        &mut |_| Ok(("gg_rules_test".to_owned(), "customers".to_owned())),
        &options,
    )
    .unwrap();
    let _ = client.batch_execute("ROLLBACK");
    assert_eq!(results[0].status, "error");
    assert!(
        results[0]
            .message
            .as_deref()
            .unwrap()
            .contains("no_such_column")
    );
    assert!(
        results.iter().skip(1).all(|r| r.status != "error"),
        "{results:#?}"
    );
    admin
        .batch_execute("DROP SCHEMA gg_rules_test CASCADE")
        .unwrap();
}

#[test]
fn personal_data_is_masked_even_before_anyone_classified_it() {
    let (store, _dir) = unclassified_catalog();
    let key = DatasetKey::new("lake", "customers");
    assert!(masked_columns(&store, &key).unwrap().is_empty());
    let a = assess(&store, &key, AssessOptions::default()).unwrap();
    let country = a
        .results
        .iter()
        .find(|r| r.rule == "customers-country-code")
        .unwrap();
    let row = &country.samples[0];
    assert_eq!(row["email"], "***email***", "{row:?}");
    assert_eq!(row["country"], "Spain");
    let graph = format!("urn:govgraph:graph:{}", a.stored.as_ref().unwrap().graph);
    let leaked = store
        .select(&format!(
            "SELECT ?s WHERE {{ GRAPH <{graph}> {{ ?v gg:sampleRow ?s FILTER(CONTAINS(?s, \"@\")) }} }}"
        ))
        .unwrap();
    assert!(leaked.is_empty(), "{leaked:?}");
    // Without a profile, a sample is classified instead.
    let quick = AssessOptions {
        profile: false,
        store: false,
        ..AssessOptions::default()
    };
    let a = assess(&store, &key, quick).unwrap();
    let country = a
        .results
        .iter()
        .find(|r| r.rule == "customers-country-code")
        .unwrap();
    assert_eq!(country.samples[0]["email"], "***email***");
}

#[test]
fn a_file_ingested_on_its_own_is_found_again() {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("orders.csv");
    std::fs::copy(shop().join("orders.csv"), &file).unwrap();
    let options = FilesOptions {
        system: Some("one".to_owned()),
        ..FilesOptions::default()
    };
    ingest_files(&store, &file, &options, &NoProgress).unwrap();
    let found =
        govgraph_quality::locate::locate(&store, &DatasetKey::new("one", "orders")).unwrap();
    assert_eq!(found, govgraph_quality::locate::DatasetSource::File(file));
}
