//! dbt artifacts, data-driven. `tests/dbt/targets/v10`, `v11` and `v12` are the target
//! directories of the `tests/dbt/shop` project as dbt 1.6, 1.7 and 1.9 wrote them against
//! PostgreSQL (`tests/dbt/generate.sh` makes them again); `targets/vNN.expected.txt` is a
//! summary of what each ingests. `tests/dbt/bad/NAME/` holds broken artifacts and the error
//! they must give in `expected.err`. `GOVGRAPH_BLESS=1` rewrites the expectations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::{check, table, text};
use govgraph_connectors::RunReport;
use govgraph_connectors::dbt::{DbtOptions, ingest_dbt};
use govgraph_graph::{GraphStore, NoProgress, StoreConfig};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dbt")
}

fn store() -> GraphStore {
    GraphStore::in_memory(StoreConfig::default()).unwrap()
}

fn ingest(store: &GraphStore, target: &Path) -> RunReport {
    ingest_dbt(
        store,
        &DbtOptions {
            target_dir: target.to_owned(),
            ..DbtOptions::default()
        },
        &NoProgress,
    )
    .unwrap()
}

const SHOP: &str = "<urn:govgraph:graph:dbt:shop>";

/// What the project's graph holds, section by section.
fn sections(store: &GraphStore) -> Vec<(&'static str, String)> {
    let queries: [(&str, String); 14] = [
        (
            "datasets",
            format!("SELECT ?d ?kind ?title ?system ?desc ?rows ?layer ?certified WHERE {{ GRAPH {SHOP} {{
               ?d a dcat:Dataset, ?kind ; dct:title ?title .
               FILTER(?kind IN (gg:Table, gg:View, gg:MaterializedView, gg:Model, gg:Dashboard))
               OPTIONAL {{ ?d gg:system ?system }} OPTIONAL {{ ?d dct:description ?desc }} OPTIONAL {{ ?d gg:rowCount ?rows }}
               OPTIONAL {{ ?d gg:layer ?layer }} OPTIONAL {{ ?d gg:certified ?certified }} }} }}"),
        ),
        (
            "columns",
            format!("SELECT ?d ?ord ?name ?type ?desc ?required WHERE {{ GRAPH {SHOP} {{
               ?c gg:columnOf ?d ; csvw:name ?name .
               OPTIONAL {{ ?c gg:ordinal ?ord }} OPTIONAL {{ ?c gg:dataType ?type }}
               OPTIONAL {{ ?c dct:description ?desc }} OPTIONAL {{ ?c csvw:required ?required }} }} }}"),
        ),
        (
            "primary keys",
            format!("SELECT ?d ?key WHERE {{ GRAPH {SHOP} {{ ?d gg:primaryKey ?key }} }}"),
        ),
        (
            "references",
            format!("SELECT ?from ?to WHERE {{ GRAPH {SHOP} {{ ?from gg:references ?to }} }}"),
        ),
        (
            "tags",
            format!("SELECT ?x ?tag WHERE {{ GRAPH {SHOP} {{ ?x gg:tag ?t . ?t skos:prefLabel ?tag }} }}"),
        ),
        (
            "owners and stewards",
            format!("SELECT ?x ?role ?who WHERE {{ GRAPH {SHOP} {{ ?x ?role ?a . ?a foaf:name ?who .
               FILTER(?role IN (gg:owner, gg:steward)) }} }}"),
        ),
        (
            "domains",
            format!("SELECT ?x ?domain WHERE {{ GRAPH {SHOP} {{ ?x gg:domain ?domain }} }}"),
        ),
        (
            "exposures",
            format!("SELECT ?e ?title ?type ?url ?from WHERE {{ GRAPH {SHOP} {{ ?e a gg:Dashboard ; dct:title ?title ;
               prov:wasDerivedFrom ?from . OPTIONAL {{ ?e dcat:keyword ?type }} OPTIONAL {{ ?e dcat:landingPage ?url }} }} }}"),
        ),
        (
            "table lineage",
            format!("SELECT ?d ?from WHERE {{ GRAPH {SHOP} {{ ?d a dcat:Dataset ; prov:wasDerivedFrom ?from .
               FILTER NOT EXISTS {{ ?d a gg:Dashboard }} }} }}"),
        ),
        (
            "column lineage",
            format!("SELECT ?target ?source ?type ?subtype ?job WHERE {{ GRAPH {SHOP} {{
               ?target prov:qualifiedDerivation ?e . ?e prov:entity ?source ; gg:transformationType ?type ;
               gg:transformationSubtype ?subtype . OPTIONAL {{ ?e prov:hadActivity ?job }} }} }}"),
        ),
        (
            "rules",
            format!("SELECT ?rule ?type ?dimension ?severity ?applies WHERE {{ GRAPH {SHOP} {{
               ?rule a gg:QualityRule ; gg:ruleType ?type ; gg:severity ?severity ; gg:appliesTo ?applies .
               OPTIONAL {{ ?rule dqv:inDimension ?dimension }} }} }}"),
        ),
        (
            "rule runs",
            format!("SELECT ?rule ?status ?failed WHERE {{ GRAPH {SHOP} {{ ?run a gg:RuleRun ; gg:rule ?rule ; gg:status ?status .
               OPTIONAL {{ ?run gg:failedCount ?failed }} }} }}"),
        ),
        (
            "violations",
            format!("SELECT ?rule ?focus ?count WHERE {{ GRAPH {SHOP} {{ ?v a gg:Violation ; gg:rule ?rule ; gg:count ?count .
               OPTIONAL {{ ?v gg:focus ?focus }} }} }}"),
        ),
        (
            "policies",
            format!("SELECT ?p ?title ?target ?period WHERE {{ GRAPH {SHOP} {{ ?p dct:title ?title ; odrl:obligation ?o .
               ?o odrl:target ?target ; odrl:constraint ?c . ?c odrl:rightOperand ?period }} }}"),
        ),
    ];
    queries
        .into_iter()
        .map(|(title, sparql)| {
            let mut out = String::new();
            table(store, title, &sparql, &mut out);
            (title, out)
        })
        .collect()
}

fn render(report: &RunReport, sections: &[(&str, String)]) -> String {
    let mut out = String::new();
    writeln!(out, "# run: {}", report.status).unwrap();
    for (what, n) in &report.counts {
        writeln!(out, "{what}: {n}").unwrap();
    }
    for w in &report.warnings {
        writeln!(out, "warning: {w}").unwrap();
    }
    for (_, s) in sections {
        out.push_str(s);
    }
    out
}

#[test]
fn dbt_16_17_and_19_targets_match_their_expectations() {
    let mut by_version = Vec::new();
    for version in ["v10", "v11", "v12"] {
        let store = store();
        let report = ingest(&store, &dir().join("targets").join(version));
        assert_eq!(report.status, "succeeded", "{version}: {:?}", report.error);
        let sections = sections(&store);
        check(
            &dir().join(format!("targets/{version}.expected.txt")),
            &render(&report, &sections),
        );
        by_version.push((version, sections));
    }
    // One project, three dbt versions: what the project says must not depend on the version,
    // except that dbt 1.9 infers primary keys (hence required columns) from unique and
    // not_null tests, which the older manifests do not record.
    let (first, reference) = &by_version[0];
    for (version, sections) in &by_version[1..] {
        for ((title, a), (_, b)) in reference.iter().zip(sections) {
            if ["columns", "primary keys"].contains(title) {
                continue;
            }
            assert_eq!(a, b, "{title}: {first} and {version} differ");
        }
    }
}

#[test]
fn failing_tests_become_violations_with_their_counts() {
    let store = store();
    ingest(&store, &dir().join("targets/v12"));
    let rows = store
        .select(
            "SELECT ?title ?severity ?status ?count WHERE { ?rule a gg:QualityRule ; dct:title ?title ; gg:severity ?severity .
               ?run gg:rule ?rule ; gg:status ?status . ?v a gg:Violation ; gg:rule ?rule ; gg:count ?count } ORDER BY ?title",
        )
        .unwrap();
    let got: Vec<String> = rows
        .iter()
        .map(|r| {
            ["title", "severity", "status", "count"]
                .map(|k| text(r.get(k)))
                .join(" | ")
        })
        .collect();
    assert_eq!(
        got,
        [
            "revenue_below_thirty | error | fail | 1",
            "stg_orders.status is one of placed, shipped, completed, returned | warn | fail | 1",
        ],
    );
}

#[test]
fn reingesting_replaces_what_the_project_said() {
    let store = store();
    ingest(&store, &dir().join("targets/v12"));
    let tmp = tempfile::tempdir().unwrap();
    // The same project after a model was deleted and a description changed.
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir().join("targets/v12/manifest.json")).unwrap())
            .unwrap();
    let nodes = manifest["nodes"].as_object_mut().unwrap();
    nodes.retain(|id, n| {
        id != "model.shop.revenue_by_country"
            && !n["depends_on"]["nodes"]
                .as_array()
                .is_some_and(|d| d.iter().any(|x| x == "model.shop.revenue_by_country"))
    });
    nodes["model.shop.orders"]["description"] = "Orders, paid amounts included.".into();
    manifest["exposures"] = serde_json::json!({});
    std::fs::write(
        tmp.path().join("manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    let report = ingest(&store, tmp.path());
    assert_eq!(report.status, "succeeded");
    let titles = |sparql: &str| -> Vec<String> {
        store
            .select(sparql)
            .unwrap()
            .iter()
            .map(|r| text(r.get("x")))
            .collect()
    };
    assert!(
        titles("SELECT ?x WHERE { ?d dct:title ?x FILTER(CONTAINS(?x, 'revenue')) }").is_empty(),
        "the deleted model and its dashboard are gone"
    );
    assert_eq!(
        titles("SELECT ?x WHERE { ?d dct:identifier 'test.dbt_shop.orders' ; dct:description ?x }"),
        ["Orders, paid amounts included."]
    );
    // Without run_results.json, no rule has a run any more; without catalog.json, no row counts.
    assert!(titles("SELECT ?x WHERE { ?x a gg:RuleRun }").is_empty());
    assert!(
        titles("SELECT ?x WHERE { GRAPH <urn:govgraph:graph:dbt:shop> { ?d gg:rowCount ?x } }")
            .is_empty()
    );
    assert_eq!(
        titles("SELECT ?x WHERE { ?r a gg:IngestionRun ; gg:status ?x }"),
        ["succeeded", "succeeded"]
    );
}

#[test]
fn broken_artifacts_are_refused_by_file_and_field_and_store_nothing() {
    let store = store();
    ingest(&store, &dir().join("targets/v12"));
    let project = |store: &GraphStore| {
        store
            .select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:govgraph:graph:dbt:shop> { ?s ?p ?o } }")
            .unwrap()[0]
            .get("n")
            .map(|t| text(Some(t)))
            .unwrap()
    };
    let before = project(&store);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir().join("bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 6, "cases missing");
    for case in &cases {
        let error = ingest_dbt(
            &store,
            &DbtOptions {
                target_dir: case.clone(),
                ..DbtOptions::default()
            },
            &NoProgress,
        )
        .expect_err(&format!("{} was accepted", case.display()))
        .to_string();
        // Paths differ from machine to machine; the expectation names the file from the case.
        let error = error.replace(&format!("{}/", case.display()), "");
        check(&case.join("expected.err"), &format!("{error}\n"));
        assert_eq!(
            project(&store),
            before,
            "{} changed the project",
            case.display()
        );
    }
    let failed = store
        .select(
            "SELECT ?r WHERE { ?r a gg:IngestionRun ; gg:status 'failed' ; gg:errorMessage ?e }",
        )
        .unwrap();
    assert_eq!(failed.len(), cases.len(), "every failure is recorded");
}
