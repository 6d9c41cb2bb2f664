//! The HTTP API end to end: the real binary on 127.0.0.1, with keys from the environment.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;

const KEYS: &str = "root:root-key-0123456789:admin;\
                    sam:steward-key-0123456:steward:sales;\
                    ana:analyst-key-01234567:analyst;\
                    acme:acme-key-0123456789:analyst::acme";

fn get(server: &Server, path: &str, key: Option<&str>) -> (u16, String) {
    let mut headers = vec![("Accept", "application/json")];
    if let Some(k) = key {
        headers.push(("X-API-Key", k));
    }
    let (status, _, body) = http(server.addr, "GET", path, &headers, b"");
    (status, body)
}

fn update(server: &Server, text: &str, key: &str) -> (u16, String) {
    let (status, _, body) = http(
        server.addr,
        "POST",
        "/sparql",
        &[
            ("Content-Type", "application/sparql-update"),
            ("Authorization", &format!("Bearer {key}")),
        ],
        text.as_bytes(),
    );
    (status, body)
}

#[test]
fn the_api_serves_the_demo_with_keys_roles_and_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(data, &["demo", "--no-serve"]);
    let server = spawn_server_with_env(data, &["serve"], &[("GOVGRAPH_API_KEYS", KEYS)]);
    assert!(server.banner.contains("4 principals"), "{}", server.banner);

    let q = urlencode("SELECT (COUNT(*) AS ?n) WHERE { ?d a dcat:Dataset }");
    let (status, body) = get(&server, &format!("/sparql?query={q}"), None);
    assert_eq!(status, 401, "{body}");
    let (status, body) = get(
        &server,
        &format!("/sparql?query={q}"),
        Some("analyst-key-01234567"),
    );
    assert_eq!(status, 200, "{body}");

    // The central analyst sees the demo; the acme tenant has no graphs yet, so sees none of it.
    let (_, body) = get(
        &server,
        "/api/v1/datasets?limit=5",
        Some("analyst-key-01234567"),
    );
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(page["total"].as_u64().unwrap() >= 10, "{body}");
    let (_, body) = get(&server, "/api/v1/datasets", Some("acme-key-0123456789"));
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["total"], 0, "{body}");
    let (_, body) = get(
        &server,
        &format!("/sparql?query={q}"),
        Some("acme-key-0123456789"),
    );
    assert!(body.contains("\"value\":\"0\""), "{body}");

    // An analyst may not write; a steward may, and search follows within a second.
    let insert = "PREFIX gg: <https://govgraph.dev/ns#> PREFIX dct: <http://purl.org/dc/terms/> \
                  INSERT DATA { GRAPH <urn:govgraph:graph:stewardship> { \
                  <https://id.govgraph.dev/dataset/shop/bronze.orders> dct:description \"Quasar fulfilment ledger\" } }";
    assert_eq!(update(&server, insert, "analyst-key-01234567").0, 403);
    let (status, body) = update(&server, insert, "steward-key-0123456");
    assert_eq!(status, 204, "{body}");
    let committed = Instant::now();
    loop {
        let (status, body) = get(
            &server,
            "/api/v1/search?q=quasar",
            Some("analyst-key-01234567"),
        );
        assert_eq!(status, 200, "{body}");
        if body.contains("bronze.orders") {
            break;
        }
        assert!(
            committed.elapsed() < Duration::from_secs(1),
            "not searchable after 1 s: {body}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // Health, readiness, metrics and the description.
    assert_eq!(get(&server, "/healthz", None).0, 200);
    assert_eq!(get(&server, "/readyz", None).0, 200);
    let (_, metrics) = get(&server, "/metrics", None);
    assert!(
        metrics.contains("govgraph_http_requests_total{route=\"/sparql\""),
        "{metrics}"
    );
    assert!(metrics.contains("govgraph_search_documents"), "{metrics}");
    let (_, spec) = get(&server, "/openapi.json", None);
    let spec: serde_json::Value = serde_json::from_str(&spec).unwrap();
    assert!(spec["paths"]["/api/v1/lineage"].is_object());

    assert!(spec["paths"]["/api/v1/data-products"]["post"].is_object());

    // A data product: built for the caller, registered by a steward, found in the catalog.
    let product = |key: &str, body: serde_json::Value| {
        let (status, _, reply) = http(
            server.addr,
            "POST",
            "/api/v1/data-products",
            &[("Content-Type", "application/json"), ("X-API-Key", key)],
            body.to_string().as_bytes(),
        );
        (status, reply)
    };
    let (status, body) = product(
        "analyst-key-01234567",
        serde_json::json!({"request": "daily revenue by region for completed orders"}),
    );
    assert_eq!(status, 200, "{body}");
    let p: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(p["status"], "needs_clarification");
    assert_eq!(
        p["clarifications"][0]["choices"].as_array().unwrap().len(),
        2
    );
    let request = serde_json::json!({"request": "daily revenue by region for completed orders",
        "choices": {"revenue": "net-revenue"}, "dialect": "postgres", "register": true});
    assert_eq!(product("analyst-key-01234567", request.clone()).0, 403);
    let (status, body) = product("steward-key-0123456", request);
    assert_eq!(status, 201, "{body}");
    let p: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(p["transformation"]["dialect"], "postgres");
    assert_eq!(
        p["registered"],
        "https://id.govgraph.dev/product/daily-net-revenue-by-region"
    );
    let (status, body) = get(
        &server,
        &format!(
            "/api/v1/products/{}",
            urlencode("https://id.govgraph.dev/product/daily-net-revenue-by-region")
        ),
        Some("analyst-key-01234567"),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Daily revenue by region for completed orders"),
        "{body}"
    );

    // The audit log names who did what (its writer lets records gather for a moment).
    let mut body = String::new();
    for _ in 0..50 {
        let (status, b) = get(
            &server,
            "/api/v1/audit?principal=sam",
            Some("root-key-0123456789"),
        );
        assert_eq!(status, 200, "{b}");
        body = b;
        if body.contains("product.build") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(body.contains("sparql.update"), "{body}");
    assert!(body.contains("product.build"), "{body}");
}

#[test]
fn without_keys_the_server_is_read_only_and_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(data, &["init"]);
    let out = std::process::Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(["serve", "--addr", "0.0.0.0:0"])
        .env_remove("GOVGRAPH_API_KEYS")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("loopback"), "{err}");

    let server = spawn_server(data, &["serve"]);
    assert!(server.banner.contains("read-only"), "{}", server.banner);
    let (status, body) = update(&server, "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "x");
    assert_eq!(status, 403, "{body}");
    let (status, _) = get(&server, "/api/v1/me", None);
    assert_eq!(status, 200);
}

#[test]
fn shutdown_finishes_the_write_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(data, &["init"]);
    let server = spawn_server_with_env(data, &["serve"], &[("GOVGRAPH_API_KEYS", KEYS)]);
    // A large update: long enough to be in flight when the signal comes.
    let mut text = String::from("INSERT DATA { GRAPH <urn:govgraph:graph:bulk> {\n");
    for i in 0..60_000 {
        text.push_str(&format!(
            "<urn:ex:s{i}> <urn:ex:p> \"value number {i}\" .\n"
        ));
    }
    text.push_str("} }");
    let addr = server.addr;
    let writer = std::thread::spawn(move || {
        http(
            addr,
            "POST",
            "/sparql",
            &[
                ("Content-Type", "application/sparql-update"),
                ("X-API-Key", "steward-key-0123456"),
            ],
            text.as_bytes(),
        )
    });
    std::thread::sleep(Duration::from_millis(150));
    let pid = server.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let (status, _, body) = writer.join().unwrap();
    assert_eq!(status, 204, "{body}");
    let mut server = server;
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    assert_eq!(
        count(
            data,
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:govgraph:graph:bulk> { ?s ?p ?o } }"
        ),
        60_000
    );
    // Every request reached the audit log before the process ended.
    let audit = ok(data, &["audit", "--json"]);
    assert!(audit.contains("\"action\":\"sparql.update\""), "{audit}");
}

#[test]
fn service_federation_reaches_only_the_configured_endpoint() {
    // The remote endpoint: the demo catalog, served read-only by another govgraph.
    let remote_dir = tempfile::tempdir().unwrap();
    ok(remote_dir.path(), &["demo", "--no-serve"]);
    let datasets = "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a dcat:Dataset }";
    let expected = count(remote_dir.path(), datasets);
    assert!(expected > 0);
    let remote = spawn_server(remote_dir.path(), &["serve"]);
    let endpoint = format!("http://{}/sparql", remote.addr);

    // The server under test: one local fact, and a configuration that allows that endpoint.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let local = dir.path().join("local.ttl");
    std::fs::write(
        &local,
        "<urn:ex:here> <http://purl.org/dc/terms/title> \"local\" .\n",
    )
    .unwrap();
    ok(&data, &["load", local.to_str().unwrap()]);
    let config = dir.path().join("govgraph.toml");
    std::fs::write(
        &config,
        format!("[federation]\nendpoints = [\"{endpoint}\"]\n"),
    )
    .unwrap();
    let server = spawn_server_with_env(
        &data,
        &["serve", "--config", config.to_str().unwrap()],
        &[("GOVGRAPH_API_KEYS", KEYS)],
    );
    let ask = |q: &str, key: &str| {
        get(
            &server,
            &format!("/sparql?query={}", urlencode(q)),
            Some(key),
        )
    };

    // Local data joined with the remote catalog's count.
    let q = format!(
        "SELECT ?t ?n WHERE {{ <urn:ex:here> dct:title ?t . SERVICE <{endpoint}> {{ {} }} }}",
        datasets.replace("SELECT", "{ SELECT").replace(" }", " } }")
    );
    let (status, body) = ask(&q, "analyst-key-01234567");
    assert_eq!(status, 200, "{q}: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let row = &v["results"]["bindings"][0];
    assert_eq!(row["t"]["value"], "local", "{body}");
    assert_eq!(row["n"]["value"], expected.to_string(), "{body}");

    // Any other address is refused before a call is made; so is a tenant principal.
    let (status, body) = ask(
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "analyst-key-01234567",
    );
    assert_eq!(status, 403, "{body}");
    let (status, body) = ask(
        &format!("SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }} LIMIT 1"),
        "acme-key-0123456789",
    );
    assert_eq!(status, 403, "{body}");
    // Updates never call out.
    let (status, body) = update(
        &server,
        &format!(
            "INSERT {{ <urn:ex:a> <urn:ex:b> ?o }} WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"
        ),
        "root-key-0123456789",
    );
    assert_eq!(status, 403, "{body}");
    drop(remote);
}
