//! The HTTP API through the router: auth, roles, limits, REST, search freshness, audit,
//! metrics and the OpenAPI description.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, header};

const CONFIG: &str = r#"
[[principals]]
name = "root"
key = "root-key-0123456789"
roles = ["admin"]

[[principals]]
name = "sam"
key = "steward-key-0123456"
roles = ["steward"]
domains = ["sales"]

[[principals]]
name = "val"
key = "viewer-key-01234567"
roles = ["viewer"]

[[principals]]
name = "vic"
key_sha256 = "4bc7b2bd6aa8c9bc8747d9d6f6bde0a3f7d2e4e4cbbd7e0f6a4dfe4b0d0e4d52"
roles = ["viewer"]
"#;

const ROOT: Option<&str> = Some("root-key-0123456789");
const STEWARD: Option<&str> = Some("steward-key-0123456");

const CATALOG: &str = r#"
@prefix gg: <https://govgraph.dev/ns#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix csvw: <http://www.w3.org/ns/csvw#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
<https://id.govgraph.dev/domain/sales> a gg:Domain ; skos:prefLabel "Sales" .
<https://id.govgraph.dev/dataset/shop/orders> a gg:Table ; dct:identifier "shop.orders" ;
    dct:title "Orders" ; dct:description "Every order placed in the web shop." ;
    gg:domain <https://id.govgraph.dev/domain/sales> .
<https://id.govgraph.dev/dataset/shop/orders/column/amount> a csvw:Column ; csvw:name "amount" ;
    gg:columnOf <https://id.govgraph.dev/dataset/shop/orders> .
<https://id.govgraph.dev/dataset/shop/orders/column/cust_email_addr> a csvw:Column ;
    csvw:name "cust_email_addr" ; gg:columnOf <https://id.govgraph.dev/dataset/shop/orders> .
<https://id.govgraph.dev/dataset/shop/revenue> a gg:Table ; dct:identifier "shop.revenue" ;
    dct:title "Revenue" ; prov:wasDerivedFrom <https://id.govgraph.dev/dataset/shop/orders> .
"#;

fn state() -> std::sync::Arc<govgraph_api::AppState> {
    common::state(CONFIG, &[("shop", CATALOG)])
}

#[tokio::test]
async fn keys_are_required_once_configured() {
    let s = state();
    let r = common::send(&s, common::get("/api/v1/datasets", None)).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.content_type, "application/problem+json");
    assert!(r.headers.contains_key(header::WWW_AUTHENTICATE));
    let r = common::send(
        &s,
        common::get("/api/v1/datasets", Some("wrong-key-0000000000")),
    )
    .await;
    assert_eq!(r.status, 401);
    let r = common::send(&s, common::get("/api/v1/me", STEWARD)).await;
    assert_eq!(r.status, 200);
    let me = r.json();
    assert_eq!(me["name"], "sam");
    assert_eq!(me["domains"][0], "sales");
    assert_eq!(me["can_write"], true);
    // Health, readiness, metrics and the description need no key.
    for open in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"] {
        assert_eq!(
            common::send(&s, common::get(open, None)).await.status,
            200,
            "{open}"
        );
    }
}

#[tokio::test]
async fn only_stewards_and_admins_write() {
    let s = state();
    let insert = "INSERT DATA { <urn:ex:a> <urn:ex:b> \"c\" }";
    let r = common::send(&s, common::update(insert, Some("viewer-key"))).await;
    assert_eq!(r.status, 401, "an unknown key");
    let r = common::send(&s, common::update(insert, STEWARD)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    // Default-graph writes land in a named graph of their own, with a version in the meta graph.
    let r = common::send(
        &s,
        common::query("SELECT ?g WHERE { GRAPH ?g { <urn:ex:a> ?p ?o } }", ROOT),
    )
    .await;
    assert!(r.body.contains("urn:govgraph:graph:default"), "{}", r.body);
    let r = common::send(&s, common::get("/api/v1/ingestions", ROOT)).await;
    assert!(r.body.contains("SPARQL Update"), "{}", r.body);
    // Stewards may not touch the graphs govgraph manages; administrators may.
    let onto = "INSERT DATA { GRAPH <urn:govgraph:graph:ontology> { <urn:ex:a> <urn:ex:b> 1 } }";
    assert_eq!(
        common::send(&s, common::update(onto, STEWARD)).await.status,
        403
    );
    assert_eq!(
        common::send(&s, common::update(onto, ROOT)).await.status,
        204
    );
    // A form-encoded update works too; a bad one is a 400 problem.
    let req = Request::post("/sparql")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-api-key", STEWARD.unwrap())
        .body(Body::from(format!(
            "update={}",
            common::enc("DELETE DATA { <urn:ex:a> <urn:ex:b> \"c\" }")
        )))
        .unwrap();
    assert_eq!(common::send(&s, req).await.status, 204);
    let r = common::send(&s, common::update("INSERT DATA { <urn:ex:a> }", STEWARD)).await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("invalid SPARQL")
    );
}

#[tokio::test]
async fn committed_changes_show_in_search_within_a_second() {
    let s = state();
    let r = common::send(&s, common::get("/api/v1/search?q=loyalty", ROOT)).await;
    assert_eq!(r.json()["total"], 0, "{}", r.body);
    let insert = r#"PREFIX gg: <https://govgraph.dev/ns#> PREFIX dct: <http://purl.org/dc/terms/>
        INSERT DATA { GRAPH <urn:govgraph:graph:crm> {
          <https://id.govgraph.dev/dataset/crm/loyalty_members> a gg:Table, <http://www.w3.org/ns/dcat#Dataset> ;
            dct:identifier "crm.loyalty_members" ; dct:title "Loyalty programme members" } }"#;
    let r = common::send(&s, common::update(insert, STEWARD)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let committed = Instant::now();
    loop {
        let r = common::send(&s, common::get("/api/v1/search?q=loyalty", ROOT)).await;
        if r.json()["total"].as_u64().unwrap_or(0) > 0 {
            assert!(r.body.contains("crm.loyalty_members"), "{}", r.body);
            break;
        }
        assert!(
            committed.elapsed() < Duration::from_secs(1),
            "the change is not searchable a second after its commit"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Deleting it removes it from search too.
    let r = common::send(
        &s,
        common::update("DROP GRAPH <urn:govgraph:graph:crm>", STEWARD),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let dropped = Instant::now();
    loop {
        let r = common::send(&s, common::get("/api/v1/search?q=loyalty", ROOT)).await;
        if r.json()["total"] == 0 {
            break;
        }
        assert!(
            dropped.elapsed() < Duration::from_secs(1),
            "still found: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn collections_page_and_filter_the_same_way() {
    let s = state();
    let r = common::send(&s, common::get("/api/v1/datasets?limit=1", ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let page = r.json();
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["path"], "shop.orders", "ordered by path");
    assert_eq!(page["next_offset"], 1);
    let r = common::send(&s, common::get("/api/v1/datasets?limit=1&offset=1", ROOT)).await;
    assert_eq!(r.json()["items"][0]["path"], "shop.revenue");
    assert_eq!(r.json()["next_offset"], serde_json::Value::Null);
    let r = common::send(&s, common::get("/api/v1/datasets?domain=sales", ROOT)).await;
    assert_eq!(r.json()["total"], 1, "{}", r.body);
    let r = common::send(&s, common::get("/api/v1/columns?q=customer%20email", ROOT)).await;
    assert_eq!(
        r.json()["items"][0]["name"],
        "cust_email_addr",
        "{}",
        r.body
    );
    let r = common::send(&s, common::get("/api/v1/datasets?pii=maybe", ROOT)).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("pii"), "{}", r.body);
    let r = common::send(&s, common::get("/api/v1/datasets?limit=-3", ROOT)).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.content_type, "application/problem+json");
    // One entity by path or by IRI, with its columns and facts.
    let r = common::send(&s, common::get("/api/v1/datasets/shop.orders", ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json();
    assert_eq!(d["columns"].as_array().unwrap().len(), 2, "{}", r.body);
    assert_eq!(d["domain"][0], "Sales");
    let iri = common::enc("https://id.govgraph.dev/dataset/shop/revenue");
    let r = common::send(&s, common::get(&format!("/api/v1/datasets/{iri}"), ROOT)).await;
    assert_eq!(r.json()["name"], "shop.revenue", "{}", r.body);
    let r = common::send(&s, common::get("/api/v1/datasets/nope.nothing", ROOT)).await;
    assert_eq!(r.status, 404);
    let r = common::send(&s, common::get("/api/v1/nothing", ROOT)).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.content_type, "application/problem+json");
}

#[tokio::test]
async fn search_lineage_tables_and_reports() {
    let s = state();
    let r = common::send(
        &s,
        common::get("/api/v1/search?q=cust%20email&kind=column", ROOT),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["items"][0]["name"], "cust_email_addr");
    assert!(!j["items"][0]["reasons"].as_array().unwrap().is_empty());
    assert!(
        j["facets"]["kind"]["column"].as_u64().unwrap() >= 1,
        "{}",
        r.body
    );
    let r = common::send(
        &s,
        common::get("/api/v1/search?q=x&kind=table_of_doom", ROOT),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = common::send(&s, common::get("/api/v1/lineage?node=shop.revenue", ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(
        j["items"][0]["iri"],
        "https://id.govgraph.dev/dataset/shop/orders"
    );
    assert_eq!(j["total"], 1);
    let r = common::send(
        &s,
        common::get("/api/v1/lineage?node=shop.revenue&direction=sideways", ROOT),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = common::send(&s, common::get("/api/v1/lineage?node=no.such", ROOT)).await;
    assert_eq!(r.status, 404, "{}", r.body);
    for table in [
        "/api/v1/runs",
        "/api/v1/violations",
        "/api/v1/scorecards",
        "/api/v1/reports/ownership-gaps",
    ] {
        let r = common::send(&s, common::get(table, ROOT)).await;
        assert_eq!(r.status, 200, "{table}: {}", r.body);
        assert!(r.json()["total"].is_u64(), "{table}");
    }
    let r = common::send(&s, common::get("/api/v1/reports/ownership-gaps", ROOT)).await;
    assert_eq!(
        r.json()["total"],
        2,
        "nobody owns either dataset: {}",
        r.body
    );
    let r = common::send(&s, common::get("/api/v1/reports", ROOT)).await;
    assert_eq!(r.json()["total"], 3);
    let r = common::send(&s, common::get("/api/v1/reports/nope", ROOT)).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn limits_hold() {
    // A tiny result cap, a short timeout and a rate limit of four a minute.
    let config = format!(
        "{CONFIG}\n[limits]\nmax_result_bytes = 300\nquery_timeout_ms = 200\nrequests_per_minute = 4\nmax_body_bytes = 1000\n"
    );
    let chain: String = (0..3000)
        .map(|i| format!("<urn:ex:n{i}> <urn:ex:next> <urn:ex:n{}> .\n", i + 1))
        .collect();
    let s = common::state(&config, &[("shop", CATALOG), ("chain", &chain)]);
    let r = common::send(&s, common::query("SELECT * WHERE { ?s ?p ?o }", ROOT)).await;
    assert_eq!(r.status, 413, "{}", r.body);
    // A product of the whole store with itself is refused before it starts.
    let bomb = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }";
    let r = common::send(&s, common::query(bomb, ROOT)).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("cartesian product"), "{}", r.body);
    // A long walk is cut off at the deadline.
    let slow =
        "SELECT ?a ?c WHERE { ?a <urn:ex:next>+ ?b . ?b <urn:ex:next>+ ?c } ORDER BY ?c LIMIT 1";
    let started = Instant::now();
    let r = common::send(&s, common::query(slow, ROOT)).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("cancelled"), "{}", r.body);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the timeout did not stop evaluation"
    );
    let r = common::send(&s, common::get("/api/v1/me", ROOT)).await;
    assert_eq!(r.status, 200, "the fourth request in a minute");
    let r = common::send(&s, common::get("/api/v1/me", ROOT)).await;
    assert_eq!(r.status, 429, "the fifth request in a minute");
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    // Another principal has its own budget; bodies over the limit are refused.
    let big = format!("ASK {{ FILTER(\"{}\" != \"\") }}", "x".repeat(2000));
    let r = common::send(&s, common::update(&big, STEWARD)).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.content_type, "application/problem+json");
}

#[tokio::test]
async fn every_request_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let store = std::sync::Arc::new(
        govgraph_graph::GraphStore::in_memory(govgraph_graph::StoreConfig::default()).unwrap(),
    );
    let s = common::state_over(store, CONFIG, Some(path.clone()));
    common::send(&s, common::get("/api/v1/datasets", None)).await;
    common::send(
        &s,
        common::update("INSERT DATA { <urn:ex:a> <urn:ex:b> 1 }", STEWARD),
    )
    .await;
    common::send(&s, common::query("ASK {}", STEWARD)).await;
    let r = common::send(&s, common::get("/api/v1/audit", STEWARD)).await;
    assert_eq!(r.status, 403, "only administrators read the log");
    // Records are written by a background thread; give it a moment.
    let mut records = serde_json::Value::Null;
    for _ in 0..50 {
        let r = common::send(&s, common::get("/api/v1/audit?limit=10", ROOT)).await;
        records = r.json();
        if records["total"].as_u64() >= Some(4) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let items = records["items"].as_array().unwrap();
    let find = |action: &str, principal: &str| {
        items
            .iter()
            .find(|r| r["action"] == action && r["principal"] == principal)
            .unwrap_or_else(|| panic!("no {action} by {principal}: {records}"))
    };
    let denied = find("rest.read", "-");
    assert_eq!(denied["decision"], "deny");
    assert_eq!(denied["status"], 401);
    assert_eq!(find("sparql.update", "sam")["decision"], "allow");
    let refused = find("audit.read", "sam");
    assert_eq!(refused["decision"], "deny");
    assert!(refused["reason"].as_str().unwrap().contains("admin"));
    assert!(!refused["request_id"].as_str().unwrap().is_empty());
    let r = common::send(
        &s,
        common::get("/api/v1/audit?decision=deny&principal=sam", ROOT),
    )
    .await;
    assert_eq!(r.json()["total"], 1, "{}", r.body);
    let lines = std::fs::read_to_string(&path).unwrap();
    assert!(lines.lines().count() >= 4);
}

#[tokio::test]
async fn requests_carry_ids_and_show_in_metrics() {
    let s = state();
    let req = Request::get("/api/v1/me")
        .header("x-api-key", ROOT.unwrap())
        .header("x-request-id", "trace-42")
        .body(Body::empty())
        .unwrap();
    let r = common::send(&s, req).await;
    assert_eq!(r.headers["x-request-id"], "trace-42");
    let r = common::send(&s, common::get("/api/v1/me", ROOT)).await;
    assert!(!r.headers["x-request-id"].is_empty());
    let m = common::send(&s, common::get("/metrics", None)).await;
    assert!(m.content_type.starts_with("text/plain"));
    assert!(
        m.body.contains(
            "govgraph_http_requests_total{route=\"/api/v1/me\",method=\"GET\",status=\"200\"} 2"
        ),
        "{}",
        m.body
    );
    assert!(
        m.body
            .contains("govgraph_http_request_duration_seconds_bucket{route=\"/api/v1/me\"")
    );
}

#[tokio::test]
async fn the_description_matches_the_router() {
    let s = state();
    let r = common::send(&s, common::get("/openapi.json", None)).await;
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    // Every documented GET without path parameters answers (no 404, no 5xx).
    for (path, item) in doc["paths"].as_object().unwrap() {
        if item.get("get").is_none() || path.contains('{') {
            continue;
        }
        let uri = if path == "/api/v1/search" {
            "/api/v1/search?q=orders".to_owned()
        } else if path == "/api/v1/lineage" {
            "/api/v1/lineage?node=shop.orders".to_owned()
        } else {
            path.clone()
        };
        let r = common::send(&s, common::get(&uri, ROOT)).await;
        assert!(r.status.is_success(), "{uri}: {} {}", r.status, r.body);
    }
}

fn post_lineage(body: &str, key: Option<&str>) -> Request<Body> {
    let mut b = Request::post("/api/v1/lineage").header(header::CONTENT_TYPE, "application/json");
    if let Some(k) = key {
        b = b.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

#[tokio::test]
async fn openlineage_events_are_stored_or_refused_whole() {
    let s = state();
    let event = r#"{"eventType":"COMPLETE","eventTime":"2026-11-01T02:00:00Z","producer":"https://example.com/p",
      "schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
      "run":{"runId":"0192e5a8-1c3e-7a51-9a8e-2f1f3c4d5e6f"},"job":{"namespace":"airflow","name":"build"},
      "inputs":[{"namespace":"shop","name":"orders"}],
      "outputs":[{"namespace":"shop","name":"order_totals","facets":{"columnLineage":{"fields":{"total":{"inputFields":[{"namespace":"shop","name":"orders","field":"amount"}]}}}}}]}"#;
    // Posting lineage needs the engineer role or above.
    let r = common::send(&s, post_lineage(event, Some("viewer-key-01234567"))).await;
    assert_eq!(r.status, 403);
    let r = common::send(&s, post_lineage(event, STEWARD)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let accepted = r.json();
    assert_eq!(accepted["kind"], "run");
    assert_eq!(accepted["lineage_edges"], 1);
    assert_eq!(accepted["graph"], "urn:govgraph:graph:openlineage:airflow");
    // The walk sees the new edge.
    let r = common::send(
        &s,
        common::get("/api/v1/lineage?node=order_totals&direction=upstream", ROOT),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("dataset/shop/orders"), "{}", r.body);
    // A malformed event is a 400 naming the field, and stores nothing.
    let count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }";
    let before = common::send(&s, common::query(count, ROOT)).await.body;
    let bad = event.replace("\"field\":\"amount\"", "\"field\":7");
    let r = common::send(&s, post_lineage(&bad, STEWARD)).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.content_type, "application/problem+json");
    let detail = r.json()["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains("outputs[0].facets.columnLineage.fields.total.inputFields[0].field"),
        "{detail}"
    );
    assert_eq!(
        common::send(&s, common::query(count, ROOT)).await.body,
        before
    );
    // The audit log names every attempt: the denied one, the stored one and the refused one.
    let log = common::audited(&s, "action=lineage.write", ROOT).await;
    let statuses: Vec<u64> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [400, 201, 403], "{log}");
}

#[tokio::test]
async fn scorecards_show_the_latest_run_and_score() {
    const QUALITY: &str = r#"
@prefix gg: <https://govgraph.dev/ns#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix dqv: <http://www.w3.org/ns/dqv#> . @prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://id.govgraph.dev/rule/amount-set> a gg:QualityRule ; dct:title "amount is set" ;
    gg:ruleType "not_null" ; gg:severity "error" ;
    gg:appliesTo <https://id.govgraph.dev/dataset/shop/orders/column/amount> .
<https://id.govgraph.dev/rule/amount-set.run-1> a gg:RuleRun ; gg:rule <https://id.govgraph.dev/rule/amount-set> ;
    gg:status "fail" ; prov:endedAtTime "2024-05-01T00:00:00Z"^^xsd:dateTime .
<https://id.govgraph.dev/rule/amount-set.run-2> a gg:RuleRun ; gg:rule <https://id.govgraph.dev/rule/amount-set> ;
    gg:status "pass" ; prov:endedAtTime "2024-05-02T00:00:00Z"^^xsd:dateTime .
<https://id.govgraph.dev/dataset/shop/orders#q1> a dqv:QualityMeasurement ;
    dqv:computedOn <https://id.govgraph.dev/dataset/shop/orders> ; dqv:isMeasurementOf gg:QualityScore ;
    dqv:value 50.0 ; prov:generatedAtTime "2024-05-01T00:00:00Z"^^xsd:dateTime .
<https://id.govgraph.dev/dataset/shop/orders#q2> a dqv:QualityMeasurement ;
    dqv:computedOn <https://id.govgraph.dev/dataset/shop/orders> ; dqv:isMeasurementOf gg:QualityScore ;
    dqv:value 90.0 ; prov:generatedAtTime "2024-05-02T00:00:00Z"^^xsd:dateTime .
"#;
    let s = common::state(CONFIG, &[("shop", CATALOG), ("quality", QUALITY)]);
    let r = common::send(&s, common::get("/api/v1/scorecards", ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = r.json()["items"].clone();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{}", r.body);
    let row = &rows[0];
    assert_eq!(
        row["id"], "https://id.govgraph.dev/dataset/shop/orders",
        "{row}"
    );
    assert_eq!(row["passing"], 1, "only the latest run counts: {row}");
    assert_eq!(row["failing"], 0, "{row}");
    assert_eq!(row["score"], 90.0, "the latest score: {row}");
}

fn ask(body: serde_json::Value, key: Option<&str>, accept: &str) -> Request<Body> {
    let mut b = Request::post("/api/v1/ask")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, accept);
    if let Some(k) = key {
        b = b.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    b.body(Body::from(body.to_string())).unwrap()
}

fn demo_state() -> std::sync::Arc<govgraph_api::AppState> {
    let sources: Vec<(&str, &str)> = govgraph_seeds::DEMO_SOURCES
        .iter()
        .map(|s| (s.name, s.turtle))
        .collect();
    common::state(CONFIG, &sources)
}

#[tokio::test]
async fn ask_answers_with_entities_citations_and_follow_ups() {
    let s = demo_state();
    let r = common::send(
        &s,
        ask(
            serde_json::json!({"question": "Who owns bronze.orders?"}),
            ROOT,
            "application/json",
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = r.json();
    assert_eq!(a["mode"], "offline", "{a}");
    assert_eq!(a["refused"], false, "{a}");
    assert_eq!(a["entities"][0]["name"], "Maria Keller", "{a}");
    assert_eq!(a["entities"][0]["kind"], "person", "{a}");
    let citations = a["citations"].as_array().unwrap();
    assert!(
        citations
            .iter()
            .any(|c| c.as_str().unwrap().contains("SELECT")),
        "{a}"
    );
    assert!(a["timings"]["total_ms"].as_f64().unwrap() > 0.0, "{a}");

    // A conversation: the follow-up filters the previous answer.
    let first = common::send(
        &s,
        ask(
            serde_json::json!({"question": "Which datasets are in the marketing domain?"}),
            STEWARD,
            "application/json",
        ),
    )
    .await
    .json();
    assert_eq!(first["entities"].as_array().unwrap().len(), 4, "{first}");
    let next = common::send(
        &s,
        ask(
            serde_json::json!({"question": "Which of them contain personal data?", "session": first["session"]}),
            STEWARD,
            "application/json",
        ),
    )
    .await
    .json();
    let mut names: Vec<&str> = next["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["bronze.marketing_events", "bronze.user_interactions"],
        "{next}"
    );

    // The plan, on request.
    let explained = common::send(
        &s,
        ask(serde_json::json!({"question": "What breaks if bronze.customers changes?", "explain": true}), ROOT, "application/json"),
    )
    .await
    .json();
    let agents: Vec<&str> = explained["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["agent"].as_str().unwrap())
        .collect();
    for role in ["planner", "lineage", "evaluator", "guardrail"] {
        assert!(agents.contains(&role), "{role} missing from {agents:?}");
    }
}

#[tokio::test]
async fn ask_refuses_values_by_role_and_never_raises_a_role() {
    let s = demo_state();
    let viewer = Some("viewer-key-01234567");
    let r = common::send(
        &s,
        ask(
            serde_json::json!({"question": "Show me the email addresses of all customers."}),
            viewer,
            "application/json",
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = r.json();
    assert_eq!(a["refused"], true, "{a}");
    assert!(a["reason"].as_str().unwrap().contains("viewer"), "{a}");
    // A viewer may not ask as an admin; an admin may ask as an analyst.
    let r = common::send(
        &s,
        ask(
            serde_json::json!({"question": "Who owns bronze.orders?", "role": "admin"}),
            viewer,
            "application/json",
        ),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let a = common::send(
        &s,
        ask(serde_json::json!({"question": "List the dates of birth in bronze.customers.", "role": "analyst"}), ROOT, "application/json"),
    )
    .await
    .json();
    assert_eq!(a["refused"], true, "{a}");
    // Not a question: a problem document.
    let r = common::send(
        &s,
        ask(serde_json::json!({"q": "who"}), ROOT, "application/json"),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.content_type.starts_with("application/problem+json"),
        "{}",
        r.content_type
    );
}

#[tokio::test]
async fn ask_streams_steps_then_the_answer_and_is_audited() {
    let s = demo_state();
    let r = common::send(
        &s,
        ask(
            serde_json::json!({"question": "Which tables hold customer emails?"}),
            ROOT,
            "text/event-stream",
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.content_type.starts_with("text/event-stream"),
        "{}",
        r.content_type
    );
    let steps = r.body.matches("event: step\n").count();
    assert!(steps >= 3, "{}", r.body);
    let answer_at = r.body.find("event: answer\n").unwrap();
    assert!(
        r.body.rfind("event: step\n").unwrap() < answer_at,
        "steps come first"
    );
    assert!(r.body.ends_with("event: done\ndata: {}\n\n"), "{}", r.body);
    let data = r.body[answer_at..]
        .lines()
        .nth(1)
        .unwrap()
        .strip_prefix("data: ")
        .unwrap();
    let a: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(a["entities"].as_array().unwrap().len(), 2, "{a}");
    assert!(
        a.get("plan").is_none(),
        "the plan is streamed, not repeated: {a}"
    );

    // The question and its tool calls are in the audit log.
    let log = common::audited(&s, "action=ask", ROOT).await;
    let rec = &log["items"][0];
    assert_eq!(rec["action"], "ask", "{log}");
    assert_eq!(
        rec["detail"]["question"], "Which tables hold customer emails?",
        "{rec}"
    );
    assert!(
        !rec["detail"]["tool_calls"].as_array().unwrap().is_empty(),
        "{rec}"
    );
}
