//! OpenLineage events, data-driven: each directory under `tests/openlineage/` holds
//! `events.jsonl` (applied in order) and `expected.txt`, a summary of what the store holds
//! afterwards; `tests/openlineage/bad/*.json` are refused events with the expected error in
//! `*.err`. `GOVGRAPH_BLESS=1` rewrites the expectations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

mod common;

use common::{check, table, text};
use govgraph_connectors::openlineage::apply_event;
use govgraph_graph::{GraphStore, Scope, StoreConfig};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openlineage")
}

fn summary(store: &GraphStore) -> String {
    let mut out = String::new();
    table(
        store,
        "datasets",
        "SELECT DISTINCT ?d ?title ?id ?desc ?rows WHERE { ?d a dcat:Dataset ; dct:title ?title ; dct:identifier ?id .
           OPTIONAL { ?d dct:description ?desc } OPTIONAL { ?d gg:rowCount ?rows } }",
        &mut out,
    );
    table(
        store,
        "columns",
        "SELECT DISTINCT ?d ?name ?type ?ord WHERE { ?c gg:columnOf ?d ; csvw:name ?name .
           OPTIONAL { ?c gg:dataType ?type } OPTIONAL { ?c gg:ordinal ?ord } }",
        &mut out,
    );
    table(
        store,
        "column lineage",
        "SELECT DISTINCT ?target ?source ?type ?subtype ?masking ?job WHERE { ?target prov:qualifiedDerivation ?e .
           ?e prov:entity ?source ; gg:transformationType ?type ; gg:transformationSubtype ?subtype .
           OPTIONAL { ?e gg:masking ?masking } OPTIONAL { ?e prov:hadActivity ?job } }",
        &mut out,
    );
    table(
        store,
        "table lineage",
        "SELECT DISTINCT ?d ?s WHERE { ?d a dcat:Dataset ; prov:wasDerivedFrom ?s }",
        &mut out,
    );
    table(
        store,
        "jobs",
        "SELECT DISTINCT ?j ?title ?desc ?sql ?owner WHERE { ?j a gg:Job ; dct:title ?title .
           OPTIONAL { ?j dct:description ?desc } OPTIONAL { ?j gg:definitionSql ?sql } OPTIONAL { ?j gg:owner ?owner } }",
        &mut out,
    );
    table(
        store,
        "runs",
        "SELECT DISTINCT ?r ?job ?state ?start ?end ?error ?parent WHERE { ?r a gg:JobRun ; gg:job ?job ; gg:runState ?state .
           OPTIONAL { ?r prov:startedAtTime ?start } OPTIONAL { ?r prov:endedAtTime ?end }
           OPTIONAL { ?r gg:errorMessage ?error } OPTIONAL { ?r prov:wasInformedBy ?parent } }",
        &mut out,
    );
    table(
        store,
        "run events",
        "SELECT DISTINCT ?r ?state ?at WHERE { ?r gg:event ?e . ?e gg:runState ?state ; prov:atTime ?at }",
        &mut out,
    );
    table(
        store,
        "run io",
        "SELECT DISTINCT ?r ?how ?d WHERE { ?r a gg:JobRun ; ?how ?d . FILTER(?how IN (prov:used, prov:generated)) }",
        &mut out,
    );
    table(
        store,
        "owners",
        "SELECT DISTINCT ?x ?owner ?name ?kind WHERE { ?x gg:owner ?owner . ?owner foaf:name ?name ; a ?kind . FILTER(?kind IN (foaf:Person, foaf:Group)) }",
        &mut out,
    );
    table(
        store,
        "tags",
        "SELECT DISTINCT ?x ?tag ?label WHERE { ?x gg:tag ?tag . ?tag skos:prefLabel ?label }",
        &mut out,
    );
    table(
        store,
        "systems",
        "SELECT DISTINCT ?s ?title ?platform WHERE { ?s a gg:System ; dct:title ?title ; gg:platform ?platform }",
        &mut out,
    );
    table(
        store,
        "rules",
        "SELECT DISTINCT ?rule ?type ?applies ?status ?violation WHERE { ?rule a gg:QualityRule ; gg:ruleType ?type ; gg:appliesTo ?applies .
           OPTIONAL { ?run gg:rule ?rule ; a gg:RuleRun ; gg:status ?status } OPTIONAL { ?violation a gg:Violation ; gg:rule ?rule } }",
        &mut out,
    );
    table(
        store,
        "measurements",
        "SELECT DISTINCT ?on ?metric ?value ?at WHERE { ?m a dqv:QualityMeasurement ; dqv:computedOn ?on ; dqv:isMeasurementOf ?metric ; dqv:value ?value ; prov:generatedAtTime ?at }",
        &mut out,
    );
    out
}

#[test]
fn event_sequences_match_their_expectations() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("events.jsonl").exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 3, "cases missing");
    for case in cases {
        let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
        let events = std::fs::read_to_string(case.join("events.jsonl")).unwrap();
        let mut reports = String::new();
        for (i, line) in events
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let report = apply_event(&store, &Scope::all(), line.as_bytes())
                .unwrap_or_else(|e| panic!("{} event {}: {e}", case.display(), i + 1));
            writeln!(
                reports,
                "{} {:?} {} datasets={} columns={} edges={} assertions={} warnings={:?}",
                i + 1,
                report.kind,
                report.event_type.as_deref().unwrap_or("-"),
                report.datasets,
                report.columns,
                report.lineage_edges,
                report.assertions,
                report.warnings
            )
            .unwrap();
        }
        let actual = format!("# events\n{reports}{}", summary(&store));
        check(&case.join("expected.txt"), &actual);
    }
}

#[test]
fn malformed_events_are_refused_and_store_nothing() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir().join("bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 8);
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let before = store.raw().len().unwrap();
    for case in cases {
        let body = std::fs::read(&case).unwrap();
        let error = apply_event(&store, &Scope::all(), &body)
            .expect_err(&format!("{} was accepted", case.display()))
            .to_string();
        check(&case.with_extension("err"), &format!("{error}\n"));
        assert_eq!(
            store.raw().len().unwrap(),
            before,
            "{} stored something",
            case.display()
        );
    }
}

#[test]
fn tenant_events_go_to_the_tenants_graphs() {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let line = std::fs::read_to_string(dir().join("sql_facet/events.jsonl")).unwrap();
    let scope = Scope::tenant("acme").unwrap();
    let report = apply_event(&store, &scope, line.trim().as_bytes()).unwrap();
    assert_eq!(
        report.graph,
        "urn:govgraph:graph:tenant:acme:openlineage:dbt-prod"
    );
    let mine = store
        .select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?r a gg:JobRun } }")
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        text(mine[0].get("g")),
        "urn:govgraph:graph:tenant:acme:openlineage:dbt-prod"
    );
}

#[test]
fn arbitrary_json_never_panics() {
    use proptest::prelude::*;
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let valid = std::fs::read_to_string(dir().join("lifecycle/events.jsonl")).unwrap();
    let first = valid.lines().next().unwrap().to_owned();
    proptest!(ProptestConfig::with_cases(200), |(cut in 0usize..first.len(), byte in any::<u8>(), at in 0usize..first.len())| {
        let mut bytes = first.as_bytes().to_vec();
        bytes[at] = byte;
        bytes.truncate(cut.max(1));
        let _ = apply_event(&store, &Scope::all(), &bytes);
    });
}
