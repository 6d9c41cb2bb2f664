//! SPARQL SERVICE federation over real HTTP on 127.0.0.1: a second govgraph server (and a few
//! misbehaving endpoints) answer the calls that the server under test makes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use common::{query, send, state};

const LOCAL: &str = r#"
@prefix dct: <http://purl.org/dc/terms/> .
<urn:ex:orders> dct:title "Orders" .
<urn:ex:customers> dct:title "Customers" .
"#;

const REMOTE: &str = r#"
<urn:ex:orders> <urn:ex:steward> "Ada" .
<urn:ex:customers> <urn:ex:steward> "Grace" .
"#;

const ADMIN: &str = "admin-key-0123456789";
const TENANT: &str = "acme-key-0123456789";

/// Serves `app` on a free loopback port until the test ends.
async fn listen(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A govgraph server over REMOTE, read-only without keys, as the remote endpoint.
async fn remote() -> String {
    let remote = state("", &[("remote", REMOTE)]);
    let addr = listen(govgraph_api::router(remote)).await;
    format!("http://{addr}/sparql")
}

/// The server under test, over LOCAL, with `[federation]` allowing `endpoints`.
fn local(endpoints: &[&str], extra: &str) -> Arc<govgraph_api::AppState> {
    let list = endpoints
        .iter()
        .map(|e| format!("{e:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    state(
        &format!(
            r#"
            [limits]
            query_timeout_ms = 1500
            [federation]
            endpoints = [{list}]
            {extra}
            [[principals]]
            name = "ops"
            key = "{ADMIN}"
            roles = ["admin"]
            [[principals]]
            name = "acme"
            key = "{TENANT}"
            roles = ["analyst"]
            tenant = "acme"
            "#
        ),
        &[("local", LOCAL)],
    )
}

fn rows(body: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = body["results"]["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let mut vars: Vec<_> = b.as_object().unwrap().iter().collect();
            vars.sort_by_key(|(k, _)| k.as_str());
            vars.iter()
                .map(|(k, v)| format!("{k}={}", v["value"].as_str().unwrap()))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_joins_local_data_with_an_allowlisted_endpoint() {
    let endpoint = remote().await;
    let s = local(&[&endpoint], "");
    let q = format!(
        "SELECT ?title ?steward WHERE {{ ?d dct:title ?title . SERVICE <{endpoint}> {{ ?d <urn:ex:steward> ?steward }} }}"
    );
    let r = send(&s, query(&q, Some(ADMIN))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        rows(&r.json()),
        ["steward=Ada title=Orders", "steward=Grace title=Customers"]
    );

    // Nested under OPTIONAL, in a subquery, and in the other order.
    let q = format!(
        "SELECT ?d ?steward WHERE {{ {{ SELECT ?d ?steward {{ SERVICE <{endpoint}> {{ ?d <urn:ex:steward> ?steward }} }} }} OPTIONAL {{ ?d dct:title ?t }} }}"
    );
    let r = send(&s, query(&q, Some(ADMIN))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        rows(&r.json()),
        [
            "d=urn:ex:customers steward=Grace",
            "d=urn:ex:orders steward=Ada"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_off_the_allowlist_and_tenants_are_refused_before_any_call() {
    let endpoint = remote().await;
    let s = local(&[&endpoint], "");
    for (q, needle) in [
        (
            "SELECT * WHERE { SERVICE <http://169.254.169.254/latest/meta-data/> { ?s ?p ?o } }"
                .to_owned(),
            "<http://169.254.169.254/latest/meta-data/> is refused",
        ),
        (
            // The allowlist holds exact IRIs: another path on the same host is another endpoint.
            format!(
                "SELECT * WHERE {{ SERVICE <{}> {{ ?s ?p ?o }} }}",
                endpoint.replace("/sparql", "/api/v1/audit")
            ),
            "not on this server's federation allowlist",
        ),
        (
            // An endpoint must be written out, even one on the allowlist.
            format!("SELECT * WHERE {{ BIND(<{endpoint}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}"),
            "SERVICE ?e is refused",
        ),
    ] {
        let r = send(&s, query(&q, Some(ADMIN))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{q}: {}", r.body);
        assert!(r.body.contains(needle), "{q}: {}", r.body);
    }
    // A principal confined to a tenant gets no federation unless the operator allows it.
    let q = format!("SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s <urn:ex:steward> ?o }} }}");
    let r = send(&s, query(&q, Some(TENANT))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("federation is off"), "{}", r.body);
    let open = local(&[&endpoint], "tenants = true");
    let r = send(&open, query(&q, Some(TENANT))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(rows(&r.json()).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_endpoints_answer_502_unless_the_service_is_silent() {
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        drop(l);
        format!("http://{a}/sparql")
    };
    // An endpoint that redirects elsewhere (a redirect could leave the allowlist).
    let redirecting = {
        let app = Router::new().route(
            "/sparql",
            post(|| async {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, "http://169.254.169.254/")],
                )
            }),
        );
        format!("http://{}/sparql", listen(app).await)
    };
    // An endpoint that answers HTML, and one that answers far too much.
    let html = {
        let app = Router::new().route(
            "/sparql",
            post(|| async { ([(header::CONTENT_TYPE, "text/html")], "<html></html>") }),
        );
        format!("http://{}/sparql", listen(app).await)
    };
    let huge = {
        let app = Router::new().route(
            "/sparql",
            post(|| async {
                let body = format!(
                    r#"{{"head":{{"vars":["x"]}},"results":{{"bindings":[{}]}}}}"#,
                    vec![r#"{"x":{"type":"literal","value":"0123456789"}}"#; 10_000].join(",")
                );
                (
                    [(header::CONTENT_TYPE, "application/sparql-results+json")],
                    body,
                )
                    .into_response()
            }),
        );
        format!("http://{}/sparql", listen(app).await)
    };
    let s = local(
        &[&closed, &redirecting, &html, &huge],
        "max_response_bytes = 65536",
    );
    for (endpoint, needle) in [
        (&closed, "could not be reached"),
        (&redirecting, "HTTP 302"),
        (&html, "text/html, which is not a SPARQL results format"),
        (&huge, "larger than the 65536 bytes"),
    ] {
        let q = format!("SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}");
        let r = send(&s, query(&q, Some(ADMIN))).await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{endpoint}: {}", r.body);
        assert!(r.body.contains(needle), "{endpoint}: {}", r.body);
        assert!(r.body.contains(endpoint.as_str()), "{}", r.body);
        // SILENT turns the failure into the empty solution.
        let q = format!(
            "SELECT ?t WHERE {{ <urn:ex:orders> dct:title ?t SERVICE SILENT <{endpoint}> {{ ?s ?p ?o }} }}"
        );
        let r = send(&s, query(&q, Some(ADMIN))).await;
        assert_eq!(r.status, StatusCode::OK, "{endpoint}: {}", r.body);
        assert_eq!(rows(&r.json()), ["t=Orders"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_capped_in_number_and_in_time() {
    let endpoint = remote().await;
    let s = local(&[&endpoint], "max_calls = 1");
    let q = format!(
        "SELECT * WHERE {{ {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }} UNION {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }} }}"
    );
    let r = send(&s, query(&q, Some(ADMIN))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("at most 1 SERVICE calls"), "{}", r.body);

    // An endpoint slower than the query's limit (1.5 s) is abandoned at the limit.
    let slow = {
        let app = Router::new().route(
            "/sparql",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        );
        format!("http://{}/sparql", listen(app).await)
    };
    let s = local(&[&slow], "");
    let started = std::time::Instant::now();
    let q = format!("SELECT * WHERE {{ SERVICE <{slow}> {{ ?s ?p ?o }} }}");
    let r = send(&s, query(&q, Some(ADMIN))).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(started.elapsed() < Duration::from_secs(10));
    // A call cap shorter than the query's time ends the call, not the query: the endpoint
    // failed.
    let s = local(&[&slow], "timeout_ms = 200");
    let r = send(&s, query(&q, Some(ADMIN))).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);
    assert!(
        r.body.contains("did not answer within 200 ms"),
        "{}",
        r.body
    );
}

#[test]
fn endpoints_must_be_http_urls() {
    for (text, needle) in [
        (
            "[federation]\nendpoints = ['file:///etc/passwd']",
            "http or https",
        ),
        ("[federation]\nendpoints = ['not an iri']", "endpoints[0]"),
        (
            "[federation]\nendpoints = ['http://a/sparql']\nmax_calls = 0",
            "must be positive",
        ),
    ] {
        let e = govgraph_api::config::FileConfig::from_toml(text)
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{text}: {e}");
    }
}
