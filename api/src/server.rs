//! The HTTP server: state, router and the serve loop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::Html;
use axum::routing::get;
use govgraph_graph::GraphStore;

use crate::results::Limits;
use crate::sparql;

/// Settings of the HTTP server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Queries are cancelled after this long.
    pub query_timeout: Duration,
    /// Caps on responses.
    pub limits: Limits,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            query_timeout: Duration::from_secs(30),
            limits: Limits::default(),
            max_body_bytes: 16 << 20,
        }
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The graph store.
    pub store: Arc<GraphStore>,
    /// Server settings.
    pub config: ServerConfig,
}

/// The routes.
pub fn router(state: Arc<AppState>) -> Router {
    let max_body = state.config.max_body_bytes;
    Router::new()
        .route("/", get(|| async { landing() }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/sparql", get(sparql::get).post(sparql::post))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// A short page that says what this server offers.
pub fn landing() -> Html<&'static str> {
    Html(
        "<!doctype html><meta charset=utf-8><title>govgraph</title>\
         <h1>govgraph</h1><p>SPARQL 1.1 endpoint: <code>/sparql</code> \
         (GET <code>?query=</code>, or POST a form or <code>application/sparql-query</code>).</p>",
    )
}

/// Errors from starting the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The address is not allowed.
    #[error("{0}")]
    Address(String),
    /// Binding or serving failed.
    #[error("{addr}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Binds `addr` and serves until `shutdown` resolves. `on_ready` gets the bound address
/// (useful with port 0). Without API keys the server is read-only and loopback-only.
pub async fn serve(
    state: Arc<AppState>,
    addr: SocketAddr,
    on_ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if !addr.ip().is_loopback() {
        return Err(ServeError::Address(format!(
            "{addr} is not a loopback address; with no API keys configured govgraph serves read-only on 127.0.0.1 or ::1 only"
        )));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Io { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError::Io { addr, source })?;
    on_ready(bound);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ServeError::Io {
            addr: bound,
            source,
        })
}
