//! Tenant isolation under adversarial SPARQL: the cases in `tenants/attacks.sparql`, run in
//! order, each checked for its status, for what its body must hold, and for leaks; after
//! each, the other tenant's and the central office's graphs must be intact.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{Request, header};

const CONFIG: &str = r#"
[[principals]]
name = "root"
key = "root-key-0123456789"
roles = ["admin"]

[[principals]]
name = "acme-analyst"
key = "acme-analyst-key-0123"
roles = ["analyst"]
tenant = "acme"

[[principals]]
name = "acme-steward"
key = "acme-steward-key-0123"
roles = ["steward"]
tenant = "acme"
"#;

const ACME: &str = r#"<urn:ex:acme-customer> <urn:ex:secret> "ACME-SECRET" ."#;
const BETA: &str =
    r#"<urn:ex:beta-customer> <urn:ex:secret> "BETA-SECRET" ; <urn:ex:name> "beta" ."#;
const CENTRAL: &str = r#"<urn:ex:central> <urn:ex:secret> "CENTRAL-SECRET" ."#;

struct Case {
    name: String,
    principal: String,
    kind: String,
    expect: u16,
    body_has: Vec<String>,
    params: Vec<(String, String)>,
    text: String,
}

fn cases() -> Vec<Case> {
    let text = include_str!("tenants/attacks.sparql");
    let mut out: Vec<Case> = Vec::new();
    for block in text.split("\n### ").skip(1) {
        let mut lines = block.lines();
        let name = lines.next().unwrap().trim().to_owned();
        let mut c = Case {
            name,
            principal: String::new(),
            kind: String::new(),
            expect: 0,
            body_has: Vec::new(),
            params: Vec::new(),
            text: String::new(),
        };
        for line in lines {
            if let Some(meta) = line.strip_prefix("# ") {
                let (k, v) = meta.split_once(':').unwrap();
                let v = v.trim().to_owned();
                match k.trim() {
                    "as" => c.principal = v,
                    "kind" => c.kind = v,
                    "expect" => c.expect = v.parse().unwrap(),
                    "body-has" => c.body_has.push(v),
                    "param" => {
                        let (pk, pv) = v.split_once('=').unwrap();
                        c.params.push((pk.to_owned(), pv.to_owned()));
                    }
                    other => panic!("{}: unknown field {other}", c.name),
                }
            } else if !line.trim().is_empty() {
                c.text.push_str(line);
                c.text.push('\n');
            }
        }
        assert!(
            c.expect > 0 && !c.text.is_empty(),
            "{}: incomplete case",
            c.name
        );
        out.push(c);
    }
    out
}

fn key(principal: &str) -> &'static str {
    match principal {
        "acme-analyst" => "acme-analyst-key-0123",
        "acme-steward" => "acme-steward-key-0123",
        "root" => "root-key-0123456789",
        other => panic!("unknown principal {other}"),
    }
}

async fn count(state: &std::sync::Arc<govgraph_api::AppState>, graph: &str) -> String {
    let q = format!("SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}");
    let r = common::send(state, common::query(&q, Some(key("root")))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["results"]["bindings"][0]["n"]["value"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn no_tenant_reads_or_writes_another_tenants_data() {
    let state = common::state(
        CONFIG,
        &[
            ("tenant:acme:crm", ACME),
            ("tenant:beta:crm", BETA),
            ("central", CENTRAL),
        ],
    );
    let beta_before = count(&state, "urn:govgraph:graph:tenant:beta:crm").await;
    let central_before = count(&state, "urn:govgraph:graph:central").await;
    assert_eq!(beta_before, "2");
    let all = cases();
    assert!(all.len() >= 40, "{} cases", all.len());
    for c in &all {
        let mut uri = String::from("/sparql");
        let mut sep = '?';
        for (k, v) in &c.params {
            uri.push_str(&format!("{sep}{}={}", common::enc(k), common::enc(v)));
            sep = '&';
        }
        let req = match c.kind.as_str() {
            "query" => Request::post(uri)
                .header(header::CONTENT_TYPE, "application/sparql-query")
                .header(
                    header::ACCEPT,
                    "application/sparql-results+json, application/n-triples;q=0.9",
                )
                .header("x-api-key", key(&c.principal))
                .body(Body::from(c.text.clone()))
                .unwrap(),
            "update" => common::update(&c.text, Some(key(&c.principal))),
            other => panic!("{}: kind {other}", c.name),
        };
        let r = common::send(&state, req).await;
        assert_eq!(r.status.as_u16(), c.expect, "{}: {}", c.name, r.body);
        // Names the request itself spelled out may come back in an error message; anything
        // else of beta's or the central office's is a leak.
        let asked = format!("{} {:?}", c.text, c.params);
        for secret in [
            "BETA-SECRET",
            "CENTRAL-SECRET",
            "beta-customer",
            "tenant:beta",
            "graph:central",
        ] {
            assert!(
                !r.body.contains(secret) || asked.contains(secret),
                "{}: the response leaks {secret}: {}",
                c.name,
                r.body
            );
        }
        for needle in &c.body_has {
            assert!(
                r.body.contains(needle.as_str()),
                "{}: no {needle} in {}",
                c.name,
                r.body
            );
        }
        if r.status.as_u16() >= 400 {
            assert_eq!(r.content_type, "application/problem+json", "{}", c.name);
        }
        assert_eq!(
            count(&state, "urn:govgraph:graph:tenant:beta:crm").await,
            beta_before,
            "{}: beta's graph changed",
            c.name
        );
        assert_eq!(
            count(&state, "urn:govgraph:graph:central").await,
            central_before,
            "{}: the central graph changed",
            c.name
        );
    }
}

#[tokio::test]
async fn rest_and_search_are_scoped_too() {
    let data_acme = r#"
        @prefix gg: <https://govgraph.dev/ns#> . @prefix dct: <http://purl.org/dc/terms/> .
        @prefix csvw: <http://www.w3.org/ns/csvw#> .
        <https://id.govgraph.dev/dataset/acme/orders> a gg:Table ; dct:identifier "acme_orders" ; dct:title "Acme orders" .
    "#;
    let data_beta = r#"
        @prefix gg: <https://govgraph.dev/ns#> . @prefix dct: <http://purl.org/dc/terms/> .
        <https://id.govgraph.dev/dataset/beta/orders> a gg:Table ; dct:identifier "beta_orders" ; dct:title "Beta orders" ;
            <http://www.w3.org/ns/prov#wasDerivedFrom> <https://id.govgraph.dev/dataset/acme/orders> .
    "#;
    let state = common::state(
        CONFIG,
        &[
            ("tenant:acme:crm", data_acme),
            ("tenant:beta:crm", data_beta),
        ],
    );
    let k = Some(key("acme-analyst"));
    let r = common::send(&state, common::get("/api/v1/datasets", k)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["total"], 1, "{}", r.body);
    assert!(!r.body.contains("beta"), "{}", r.body);
    let r = common::send(&state, common::get("/api/v1/search?q=orders", k)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("acme_orders"), "{}", r.body);
    assert!(!r.body.contains("beta"), "{}", r.body);
    let r = common::send(&state, common::get("/api/v1/datasets/beta_orders", k)).await;
    assert_eq!(r.status, 404, "{}", r.body);
    // Beta's lineage edge points at acme's dataset; acme must not see it downstream.
    let r = common::send(
        &state,
        common::get(
            &format!(
                "/api/v1/lineage?direction=downstream&node={}",
                common::enc("https://id.govgraph.dev/dataset/acme/orders")
            ),
            k,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["total"], 0, "{}", r.body);
    // The administrator sees both.
    let r = common::send(&state, common::get("/api/v1/datasets", Some(key("root")))).await;
    assert_eq!(r.json()["total"], 2, "{}", r.body);
    let r = common::send(&state, common::get("/api/v1/ingestions", k)).await;
    assert_eq!(r.json()["total"], 1, "{}", r.body);
}
