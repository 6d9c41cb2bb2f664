//! The SPARQL protocol through the router, without a socket.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

const DATA: &str = r#"
@prefix gg: <https://govgraph.dev/ns#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix csvw: <http://www.w3.org/ns/csvw#> .
<https://id.govgraph.dev/dataset/shop/orders> a gg:Table ; dct:title "orders" .
<https://id.govgraph.dev/dataset/shop/orders/column/id> a csvw:Column ; csvw:name "id" ;
    gg:columnOf <https://id.govgraph.dev/dataset/shop/orders> .
"#;

async fn send(req: Request<Body>) -> (StatusCode, String, String) {
    let state = common::state("", &[("shop", DATA)]);
    let r = common::send(&state, req).await;
    (r.status, r.content_type, r.body)
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

const SELECT: &str = "SELECT ?name WHERE { ?c a csvw:Column ; csvw:name ?name }";

#[tokio::test]
async fn get_with_csv_accept() {
    let req = Request::get(format!("/sparql?query={}", enc(SELECT)))
        .header(header::ACCEPT, "text/csv")
        .body(Body::empty())
        .unwrap();
    let (status, ct, body) = send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert_eq!(body.replace("\r\n", "\n"), "name\nid\n");
}

#[tokio::test]
async fn post_form_and_direct_bodies() {
    let req = Request::post("/sparql")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/sparql-results+xml")
        .body(Body::from(format!("query={}", enc(SELECT))))
        .unwrap();
    let (status, ct, body) = send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/sparql-results+xml"));
    assert!(body.contains("<literal>id</literal>"), "{body}");

    let req = Request::post("/sparql")
        .header(header::CONTENT_TYPE, "application/sparql-query")
        .body(Body::from("ASK { ?x a dcat:Dataset }"))
        .unwrap();
    let (status, ct, body) = send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/sparql-results+json"));
    assert!(body.contains("\"boolean\":true"), "{body}");
}

#[tokio::test]
async fn construct_negotiates_rdf() {
    let q = "CONSTRUCT { ?c csvw:name ?n } WHERE { ?c csvw:name ?n }";
    let req = Request::get(format!("/sparql?query={}", enc(q)))
        .header(header::ACCEPT, "application/n-triples")
        .body(Body::empty())
        .unwrap();
    let (status, ct, body) = send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/n-triples"), "{ct}");
    assert_eq!(
        body.trim(),
        "<https://id.govgraph.dev/dataset/shop/orders/column/id> <http://www.w3.org/ns/csvw#name> \"id\" ."
    );
}

#[tokio::test]
async fn named_graph_parameters_restrict_the_dataset() {
    let q = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }";
    let req = Request::get(format!(
        "/sparql?query={}&default-graph-uri={}",
        enc(q),
        enc("urn:govgraph:graph:nothing-here")
    ))
    .header(header::ACCEPT, "text/csv")
    .body(Body::empty())
    .unwrap();
    let (status, _, body) = send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.lines().nth(1), Some("0"));
}

#[tokio::test]
async fn errors_are_problem_documents() {
    let req = Request::get(format!("/sparql?query={}", enc("SELECT ?x WHERE { ?x }")))
        .body(Body::empty())
        .unwrap();
    let (status, ct, body) = send(req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ct, "application/problem+json");
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["status"], 400);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("invalid SPARQL"),
        "{body}"
    );

    let req = Request::get(format!("/sparql?query={}", enc(SELECT)))
        .header(header::ACCEPT, "image/png")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(req).await.0, StatusCode::NOT_ACCEPTABLE);

    let req = Request::post("/sparql")
        .header(header::CONTENT_TYPE, "application/sparql-update")
        .body(Body::from("INSERT DATA { <urn:a> <urn:b> <urn:c> }"))
        .unwrap();
    assert_eq!(send(req).await.0, StatusCode::FORBIDDEN);

    let req = Request::post("/sparql")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(SELECT))
        .unwrap();
    assert_eq!(send(req).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}
