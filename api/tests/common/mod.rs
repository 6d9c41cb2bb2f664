//! Builds a server state over an in-memory store and search index, and sends requests
//! through the router without a socket.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use govgraph_api::config::FileConfig;
use govgraph_api::metrics::Metrics;
use govgraph_api::{AppState, ServerConfig, router};
use govgraph_graph::oxigraph::io::RdfFormat;
use govgraph_graph::{GraphStore, LoadSource, StoreConfig};
use govgraph_search::{HashEmbedder, LiveIndex, SearchIndex};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A store with `sources` (name, Turtle) loaded, its live index, and a server state.
pub fn state(config: &str, sources: &[(&str, &str)]) -> Arc<AppState> {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    for (name, ttl) in sources {
        store
            .load_one(LoadSource::from_bytes(
                name,
                &format!("{name}.ttl"),
                RdfFormat::Turtle,
                *ttl,
            ))
            .unwrap();
    }
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let audit = std::env::temp_dir().join(format!(
        "govgraph-test-audit-{}-{}.jsonl",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&audit);
    state_over(Arc::new(store), config, Some(audit))
}

/// A server state over an existing store.
pub fn state_over(
    store: Arc<GraphStore>,
    config: &str,
    audit: Option<std::path::PathBuf>,
) -> Arc<AppState> {
    let index = SearchIndex::in_memory(Arc::new(HashEmbedder::default())).unwrap();
    let live =
        Arc::new(LiveIndex::start(store.clone(), index, Duration::from_secs(5), |_| {}).unwrap());
    let mut file = FileConfig::from_toml(config).unwrap();
    file.audit.path = audit;
    Arc::new(
        AppState::new(
            store,
            live,
            Arc::new(Metrics::default()),
            ServerConfig::from_file(&file),
        )
        .unwrap(),
    )
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

pub async fn send(state: &Arc<AppState>, req: Request<Body>) -> Reply {
    let res = router(state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        content_type,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// GET with an optional API key.
pub fn get(uri: &str, key: Option<&str>) -> Request<Body> {
    let mut b = Request::get(uri);
    if let Some(k) = key {
        b = b.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    b.body(Body::empty()).unwrap()
}

/// A SPARQL query by GET, results as JSON.
pub fn query(q: &str, key: Option<&str>) -> Request<Body> {
    let mut b = Request::get(format!("/sparql?query={}", enc(q)))
        .header(header::ACCEPT, "application/sparql-results+json");
    if let Some(k) = key {
        b = b.header("x-api-key", k);
    }
    b.body(Body::empty()).unwrap()
}

/// A SPARQL update by POST.
pub fn update(u: &str, key: Option<&str>) -> Request<Body> {
    let mut b = Request::post("/sparql").header(header::CONTENT_TYPE, "application/sparql-update");
    if let Some(k) = key {
        b = b.header("x-api-key", k);
    }
    b.body(Body::from(u.to_owned())).unwrap()
}

/// The audit records matching `query` (say `action=ask`), once the background writer has
/// caught up: at least one matches, and the count holds still for longer than the writer
/// lets records gather (it is given a few seconds in all).
pub async fn audited(state: &Arc<AppState>, query: &str, key: Option<&str>) -> serde_json::Value {
    let mut log = serde_json::Value::Null;
    let mut last = None;
    for _ in 0..100 {
        log = send(state, get(&format!("/api/v1/audit?{query}"), key))
            .await
            .json();
        let total = log["total"].as_u64();
        if total >= Some(1) && total == last {
            break;
        }
        last = total;
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    log
}
