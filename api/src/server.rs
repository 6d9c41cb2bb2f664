//! The HTTP server: state, router, the guard every protected request passes, and the serve
//! loop with its graceful shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use govgraph_graph::GraphStore;
use govgraph_search::LiveIndex;
use tracing::Instrument;

use crate::audit::{AuditLog, AuditRecord};
use crate::auth::{Authenticator, PrincipalConfig};
use crate::config::FileConfig;
use crate::error::{ApiError, ErrorDetail};
use crate::metrics::Metrics;
use crate::results::Limits;
use crate::throttle::{RateLimiter, Slots};
use crate::{openapi, rest, sparql};

/// Settings of the HTTP server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Queries and updates are cancelled after this long.
    pub query_timeout: Duration,
    /// Caps on responses.
    pub limits: Limits,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Requests per minute per principal (0: unlimited).
    pub requests_per_minute: u32,
    /// Heavy requests at once.
    pub max_concurrent: usize,
    /// How long a request may wait for a slot.
    pub queue_timeout: Duration,
    /// Threads for store and index work (0: the default, three per core).
    pub worker_threads: usize,
    /// The principals.
    pub principals: Vec<PrincipalConfig>,
    /// The audit log file, if any.
    pub audit_path: Option<PathBuf>,
    /// The language model for questions, if any.
    pub llm: Option<crate::config::LlmSection>,
    /// Data products' data root and output folder.
    pub products: crate::config::ProductsSection,
    /// The SERVICE endpoints queries may call.
    pub federation: crate::config::FederationSection,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self::from_file(&FileConfig::default())
    }
}

impl ServerConfig {
    /// The server settings of a configuration file.
    pub fn from_file(f: &FileConfig) -> Self {
        Self {
            query_timeout: f.query_timeout(),
            limits: Limits {
                max_bytes: f.limits.max_result_bytes,
            },
            max_body_bytes: f.limits.max_body_bytes,
            requests_per_minute: f.limits.requests_per_minute,
            max_concurrent: f.limits.max_concurrent,
            queue_timeout: Duration::from_millis(f.limits.queue_timeout_ms),
            worker_threads: f.limits.worker_threads,
            principals: f.principals.clone(),
            audit_path: f.audit.path.clone(),
            llm: f.llm.clone(),
            products: f.products.clone(),
            federation: f.federation.clone(),
        }
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The graph store.
    pub store: Arc<GraphStore>,
    /// The search index, kept in step with the store.
    pub search: Arc<LiveIndex>,
    /// Server settings.
    pub config: ServerConfig,
    /// Keys to principals.
    pub auth: Authenticator,
    /// The audit log.
    pub audit: Option<Arc<AuditLog>>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The per-principal rate limit.
    pub rate: RateLimiter,
    /// The global cap on heavy work.
    pub slots: Slots,
    /// Answers questions (`/api/v1/ask`) and keeps their conversations.
    pub asker: Arc<govgraph_agents::ask::Asker>,
    /// The policy decision point, shared by every read path.
    pub policy: Arc<govgraph_policy::Engine>,
    /// Builds data products (`POST /api/v1/data-products`) under the same policies.
    pub products: Arc<govgraph_agents::product::ProductBuilder>,
    /// SERVICE calls, when the configuration allows any endpoint.
    pub federation: Option<govgraph_graph::Federation>,
    /// False once shutdown has begun.
    pub ready: AtomicBool,
    next_request: AtomicU64,
}

impl AppState {
    /// The state of a server over `store` and `search`, with `config`.
    pub fn new(
        store: Arc<GraphStore>,
        search: Arc<LiveIndex>,
        metrics: Arc<Metrics>,
        config: ServerConfig,
    ) -> Result<Self, ApiError> {
        let auth = Authenticator::new(&config.principals)?;
        // The first server of the process sizes the pool.
        crate::pool::WorkPool::configure(config.worker_threads);
        let audit = match &config.audit_path {
            Some(p) => Some(Arc::new(AuditLog::open(p)?)),
            None => None,
        };
        let policy = Arc::new(govgraph_policy::Engine::new(
            Arc::clone(&store),
            masking_key(&store)?,
        ));
        Ok(Self {
            store,
            search,
            auth,
            audit,
            metrics,
            rate: RateLimiter::new(config.requests_per_minute),
            slots: Slots::new(config.max_concurrent, config.queue_timeout),
            asker: Arc::new(asker(config.llm.as_ref())?.with_policy(Arc::clone(&policy))),
            products: Arc::new(products(&config, Arc::clone(&policy))?),
            federation: crate::federation::from_config(&config.federation)?,
            policy,
            ready: AtomicBool::new(true),
            next_request: AtomicU64::new(0),
            config,
        })
    }

    fn request_id(&self, given: Option<&HeaderValue>) -> String {
        if let Some(v) = given.and_then(|v| v.to_str().ok())
            && !v.is_empty()
            && v.len() <= 64
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return v.to_owned();
        }
        let n = self.next_request.fetch_add(1, Ordering::Relaxed);
        let boot = std::process::id();
        format!("{boot:x}-{n:08x}")
    }
}

/// The deployment's masking key, kept beside an on-disk store (a store in memory gets a
/// fresh one).
fn masking_key(store: &GraphStore) -> Result<govgraph_policy::MaskKey, ApiError> {
    match store.dir() {
        Some(dir) => govgraph_policy::MaskKey::load_or_create(dir)
            .map_err(|e| ApiError::Config(format!("masking key: {e}"))),
        None => Ok(govgraph_policy::MaskKey::random()),
    }
}

/// The data-product builder, under the server's policies; with `[llm]` (and the `openai`
/// feature) the model writes the SQL of requests the templates cannot express.
fn products(
    config: &ServerConfig,
    policy: Arc<govgraph_policy::Engine>,
) -> Result<govgraph_agents::product::ProductBuilder, ApiError> {
    let builder =
        govgraph_agents::product::ProductBuilder::new(govgraph_agents::product::BuilderConfig {
            data_root: config.products.data_root.clone(),
            output_dir: config
                .products
                .output_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("products")),
            ..Default::default()
        })
        .with_policy(policy);
    #[cfg(feature = "openai")]
    if let Some(l) = &config.llm {
        let mut c = govgraph_agents::quality::LlmConfig::new(&l.base_url, &l.model);
        c.api_key = std::env::var("GOVGRAPH_LLM_API_KEY").ok();
        c.timeout = Duration::from_secs(l.timeout_s.max(1));
        let writer = govgraph_agents::product::llm::LlmSqlWriter::new(c)
            .map_err(|e| ApiError::Config(format!("[llm]: {e}")))?;
        return Ok(builder.with_writer(Arc::new(writer)));
    }
    Ok(builder)
}

/// The question answerer: offline, or with the configured language model first.
#[cfg(feature = "openai")]
fn asker(llm: Option<&crate::config::LlmSection>) -> Result<govgraph_agents::ask::Asker, ApiError> {
    use govgraph_agents::ask::llm::{LlmAskConfig, LlmBrain};
    use govgraph_agents::ask::{AskConfig, Asker};
    let Some(l) = llm else {
        return Ok(Asker::default());
    };
    let mut c = LlmAskConfig::new(&l.base_url, &l.model);
    c.endpoint.api_key = std::env::var("GOVGRAPH_LLM_API_KEY").ok();
    c.endpoint.timeout = Duration::from_secs(l.timeout_s.max(1));
    c.max_steps = l.max_steps.max(1);
    c.token_budget = l.token_budget;
    c.cost_per_1k_tokens = l.cost_per_1k_tokens;
    c.cost_budget = l.cost_budget;
    let brain = LlmBrain::new(c).map_err(|e| ApiError::Config(format!("[llm]: {e}")))?;
    Ok(Asker::with_llm(AskConfig::default(), brain))
}

/// The question answerer: offline (this build has no language-model client).
#[cfg(not(feature = "openai"))]
fn asker(llm: Option<&crate::config::LlmSection>) -> Result<govgraph_agents::ask::Asker, ApiError> {
    if llm.is_some() {
        return Err(ApiError::Config(
            "[llm] needs a build with the `openai` feature (cargo build --features openai)"
                .to_owned(),
        ));
    }
    Ok(govgraph_agents::ask::Asker::default())
}

/// The action a request performs, for the audit log; handlers may set it on their response.
#[derive(Debug, Clone, Copy)]
pub struct AuditAction(pub &'static str);

/// What a handler adds to its audit record (a question and its tool calls).
#[derive(Debug, Clone)]
pub struct AuditDetail(pub serde_json::Value);

fn default_action(method: &axum::http::Method, route: &str) -> &'static str {
    match route {
        "/sparql" => "sparql.query",
        "/api/v1/search" => "search",
        "/api/v1/ask" => "ask",
        "/api/v1/audit" => "audit.read",
        "/api/v1/lineage" if method == axum::http::Method::POST => "lineage.write",
        "/api/v1/lineage" => "lineage.read",
        _ if method == axum::http::Method::GET => "rest.read",
        _ => "rest.write",
    }
}

/// Authenticates, rate-limits, takes a slot, and records the request in the audit log and
/// the metrics, inside a tracing span carrying the request id.
async fn guard(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let metrics = state.metrics.clone();
    let _in_flight = metrics.enter();
    let request_id = state.request_id(request.headers().get("x-request-id"));
    let route: &'static str = match request.extensions().get::<MatchedPath>() {
        Some(m) => intern(m.as_str()),
        None => "unmatched",
    };
    let method = request.method().clone();
    let resource = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_owned(),
        |p| p.as_str().to_owned(),
    );
    let span = tracing::info_span!("request", id = %request_id, %method, route);
    async move {
        let principal = state.auth.authenticate(request.headers());
        let (principal_name, tenant) = match &principal {
            Ok(p) => (p.name.clone(), p.tenant.clone()),
            Err(_) => ("-".to_owned(), None),
        };
        let outcome: Result<Response, ApiError> = async {
            let principal = principal?;
            if let Err(e) = state.rate.check(&principal.name) {
                state.metrics.rate_limited();
                return Err(e);
            }
            let permit = match state.slots.acquire().await {
                Ok(p) => p,
                Err(e) => {
                    state.metrics.saturated();
                    return Err(e);
                }
            };
            request.extensions_mut().insert(principal);
            let response = next.run(request).await;
            drop(permit);
            Ok(response)
        }
        .await;
        let mut response = outcome.unwrap_or_else(IntoResponse::into_response);
        let status = response.status();
        let action = response
            .extensions()
            .get::<AuditAction>()
            .map_or_else(|| default_action(&method, route), |a| a.0);
        let reason = response
            .extensions()
            .get::<ErrorDetail>()
            .map(|d| d.0.clone());
        let detail = response
            .extensions()
            .get::<AuditDetail>()
            .map(|d| d.0.clone());
        let denied = matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
        );
        let elapsed = started.elapsed();
        if let Some(log) = &state.audit {
            log.record(AuditRecord {
                time: govgraph_graph::loader::now_xsd(),
                request_id: request_id.clone(),
                principal: principal_name.clone(),
                tenant,
                action: action.to_owned(),
                method: method.to_string(),
                resource,
                decision: if denied { "deny" } else { "allow" }.to_owned(),
                status: status.as_u16(),
                duration_ms: elapsed.as_secs_f64() * 1e3,
                reason,
                detail,
            });
        }
        state
            .metrics
            .observe(route, method.as_str(), status.as_u16(), elapsed);
        tracing::info!(
            principal = %principal_name,
            status = status.as_u16(),
            elapsed_ms = elapsed.as_secs_f64() * 1e3,
            action,
            "request"
        );
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-request-id", v);
        }
        response
    }
    .instrument(span)
    .await
}

/// Route patterns live as long as the router; interning them keeps metric labels `'static`.
fn intern(route: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static ROUTES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let set = ROUTES.get_or_init(Mutex::default);
    let Ok(mut set) = set.lock() else {
        return "unknown";
    };
    if let Some(r) = set.get(route) {
        return r;
    }
    if set.len() > 256 {
        return "other";
    }
    let leaked: &'static str = Box::leak(route.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut r = state.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such resource; see /openapi.json".into())
}

/// The routes.
pub fn router(state: Arc<AppState>) -> Router {
    let max_body = state.config.max_body_bytes;
    let protected = Router::new()
        .route("/sparql", get(sparql::get).post(sparql::post))
        .route("/api/v1/me", get(rest::me))
        .route("/api/v1/datasets", get(rest::list_datasets))
        .route("/api/v1/datasets/{id}", get(rest::get_dataset))
        .route("/api/v1/columns", get(rest::list_columns))
        .route("/api/v1/columns/{id}", get(rest::get_column))
        .route("/api/v1/terms", get(rest::list_terms))
        .route("/api/v1/terms/{id}", get(rest::get_term))
        .route("/api/v1/domains", get(rest::list_domains))
        .route("/api/v1/domains/{id}", get(rest::get_domain))
        .route("/api/v1/owners", get(rest::list_owners))
        .route("/api/v1/owners/{id}", get(rest::get_owner))
        .route("/api/v1/tags", get(rest::list_tags))
        .route("/api/v1/tags/{id}", get(rest::get_tag))
        .route("/api/v1/rules", get(rest::list_rules))
        .route("/api/v1/rules/{id}", get(rest::get_rule))
        .route(
            "/api/v1/policies",
            get(rest::list_policies).post(crate::policy::propose),
        )
        .route("/api/v1/policies/{id}", get(rest::get_policy))
        .route("/api/v1/policies/{id}/history", get(crate::policy::history))
        .route(
            "/api/v1/policies/{id}/versions/{version}/approve",
            post(crate::policy::approve),
        )
        .route(
            "/api/v1/policies/{id}/versions/{version}/reject",
            post(crate::policy::reject),
        )
        .route("/api/v1/policy/decide", post(crate::policy::decide))
        .route("/api/v1/policy/detokenize", post(crate::policy::detokenize))
        .route("/api/v1/policy/conflicts", get(crate::policy::conflicts))
        .route("/api/v1/policy/retention", post(crate::policy::retention))
        .route(
            "/api/v1/compliance/gdpr-art30",
            get(crate::policy::gdpr_art30),
        )
        .route("/api/v1/compliance/ccpa", get(crate::policy::ccpa))
        .route("/api/v1/products", get(rest::list_products))
        .route("/api/v1/data-products", post(crate::product::build))
        .route("/api/v1/products/{id}", get(rest::get_product))
        .route("/api/v1/search", get(rest::search))
        .route("/api/v1/ask", post(crate::ask::post_ask))
        .route(
            "/api/v1/lineage",
            get(rest::lineage).post(crate::ingest::post_lineage),
        )
        .route("/api/v1/runs", get(rest::runs))
        .route("/api/v1/job-runs", get(rest::job_runs))
        .route("/api/v1/ingestion-runs", get(rest::ingestion_runs))
        .route("/api/v1/violations", get(rest::violations))
        .route("/api/v1/scorecards", get(rest::scorecards))
        .route("/api/v1/reports", get(rest::reports))
        .route("/api/v1/reports/{id}", get(rest::report))
        .route("/api/v1/ingestions", get(rest::ingestions))
        .route("/api/v1/audit", get(rest::audit))
        .route_layer(middleware::from_fn_with_state(state.clone(), guard));
    Router::new()
        .route("/", get(|| async { landing() }))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi::spec))
        .route("/docs", get(openapi::docs))
        .merge(protected)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// A short page that says what this server offers.
pub fn landing() -> Html<&'static str> {
    Html(
        "<!doctype html><meta charset=utf-8><title>govgraph</title>\
         <h1>govgraph</h1><ul>\
         <li>SPARQL 1.1 endpoint: <code>/sparql</code> (GET <code>?query=</code>, or POST a form, \
         <code>application/sparql-query</code> or <code>application/sparql-update</code>)</li>\
         <li>REST: <code>/api/v1</code>, described at <a href=/openapi.json>/openapi.json</a> \
         and browsable at <a href=/docs>/docs</a></li>\
         <li>Health: <code>/healthz</code>, <code>/readyz</code>; metrics: <code>/metrics</code></li></ul>",
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

/// Binds `addr` and serves until `shutdown` resolves, then stops taking requests, finishes
/// those in flight (writes included), and flushes the audit log. `on_ready` gets the bound
/// address (useful with port 0). Without API keys the server is read-only and binds only to
/// loopback.
pub async fn serve(
    state: Arc<AppState>,
    addr: SocketAddr,
    on_ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if !state.auth.has_keys() && !addr.ip().is_loopback() {
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
    let ready_state = state.clone();
    let result = axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(async move {
            shutdown.await;
            ready_state.ready.store(false, Ordering::Relaxed);
            tracing::info!("shutting down: finishing requests in flight");
        })
        .await
        .map_err(|source| ServeError::Io {
            addr: bound,
            source,
        });
    // Work whose caller left (a dropped connection during an update) still finishes.
    let pool_idle = tokio::task::spawn_blocking(move || {
        crate::pool::WorkPool::global().wait_idle(Duration::from_secs(30))
    })
    .await
    .unwrap_or(false);
    if !pool_idle {
        tracing::warn!("shutting down with store work still running");
    }
    if let Some(log) = &state.audit {
        log.close();
    }
    state.search.stop();
    result
}
