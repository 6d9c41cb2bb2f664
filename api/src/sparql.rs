//! The SPARQL 1.1 Protocol endpoint: queries by GET and POST, content negotiation, dataset
//! parameters, time and size limits.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use govgraph_graph::QueryOptions;
use govgraph_graph::oxigraph::io::{JsonLdProfileSet, RdfFormat};
use govgraph_graph::oxigraph::model::NamedNode;
use govgraph_graph::oxigraph::sparql::results::QueryResultsFormat;

use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::results::{SolutionsFormat, serialize};
use crate::server::AppState;
use crate::server::AuditAction;

/// The form fields of `POST /sparql`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct SparqlForm {
    /// A SPARQL query.
    pub query: Option<String>,
    /// A SPARQL update (stewards and admins).
    pub update: Option<String>,
    /// A graph for the default graph (repeatable).
    #[serde(rename = "default-graph-uri")]
    #[schema(rename = "default-graph-uri")]
    pub default_graph_uri: Option<String>,
    /// A graph available to GRAPH (repeatable).
    #[serde(rename = "named-graph-uri")]
    #[schema(rename = "named-graph-uri")]
    pub named_graph_uri: Option<String>,
}

/// What a SPARQL protocol request asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ProtocolRequest {
    /// The query text, if any.
    pub query: Option<String>,
    /// The update text, if any.
    pub update: Option<String>,
    /// `default-graph-uri` values.
    pub default_graphs: Vec<String>,
    /// `named-graph-uri` values.
    pub named_graphs: Vec<String>,
}

impl ProtocolRequest {
    fn absorb(&mut self, encoded: &[u8]) {
        for (key, value) in form_urlencoded::parse(encoded) {
            match key.as_ref() {
                "query" => self.query = Some(value.into_owned()),
                "update" => self.update = Some(value.into_owned()),
                "default-graph-uri" | "using-graph-uri" => {
                    self.default_graphs.push(value.into_owned())
                }
                "named-graph-uri" | "using-named-graph-uri" => {
                    self.named_graphs.push(value.into_owned())
                }
                _ => {}
            }
        }
    }

    fn options(&self, state: &AppState, principal: &Principal) -> ApiResult<QueryOptions> {
        let iri = |s: &String| {
            NamedNode::new(s.clone())
                .map_err(|e| ApiError::BadRequest(format!("graph IRI {s:?}: {e}")))
        };
        Ok(QueryOptions {
            default_graphs: self
                .default_graphs
                .iter()
                .map(iri)
                .collect::<ApiResult<_>>()?,
            named_graphs: self
                .named_graphs
                .iter()
                .map(iri)
                .collect::<ApiResult<_>>()?,
            timeout: Some(state.config.query_timeout),
            // Tenant-confined principals call other endpoints only where the operator says so.
            federation: state
                .federation
                .clone()
                .filter(|_| principal.tenant.is_none() || state.config.federation.tenants),
        })
    }
}

const SOLUTION_OFFERS: &[(&str, QueryResultsFormat)] = &[
    ("application/sparql-results+json", QueryResultsFormat::Json),
    ("application/json", QueryResultsFormat::Json),
    ("application/sparql-results+xml", QueryResultsFormat::Xml),
    ("application/xml", QueryResultsFormat::Xml),
    ("text/xml", QueryResultsFormat::Xml),
    ("text/csv", QueryResultsFormat::Csv),
    ("text/tab-separated-values", QueryResultsFormat::Tsv),
];

fn graph_offers() -> Vec<(&'static str, RdfFormat)> {
    vec![
        ("text/turtle", RdfFormat::Turtle),
        ("application/x-turtle", RdfFormat::Turtle),
        ("application/n-triples", RdfFormat::NTriples),
        ("text/plain", RdfFormat::NTriples),
        (
            "application/ld+json",
            RdfFormat::JsonLd {
                profile: JsonLdProfileSet::empty(),
            },
        ),
        ("application/rdf+xml", RdfFormat::RdfXml),
        ("application/n-quads", RdfFormat::NQuads),
        ("application/trig", RdfFormat::TriG),
    ]
}

/// Picks the best offer for an `Accept` header, honouring q-values and wildcards. `None`
/// when the client accepts none of the offers; no header accepts the first offer.
pub fn negotiate<T: Copy>(accept: Option<&str>, offers: &[(&str, T)]) -> Option<T> {
    let first = offers.first()?.1;
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(first);
    };
    let mut ranges: Vec<(f32, usize, String)> = accept
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let range = pieces.next()?.trim().to_ascii_lowercase();
            let mut q = 1.0f32;
            for p in pieces {
                if let Some(v) = p.trim().strip_prefix("q=") {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
            (q > 0.0 && !range.is_empty()).then_some((q, i, range))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, _, range) in ranges {
        if range == "*/*" {
            return Some(first);
        }
        if let Some(kind) = range.strip_suffix("/*") {
            if let Some((_, v)) = offers
                .iter()
                .find(|(m, _)| m.split('/').next() == Some(kind))
            {
                return Some(*v);
            }
            continue;
        }
        if let Some((_, v)) = offers.iter().find(|(m, _)| *m == range) {
            return Some(*v);
        }
    }
    None
}

async fn update(
    state: Arc<AppState>,
    principal: &Principal,
    request: ProtocolRequest,
) -> ApiResult<Response> {
    principal.require(Role::Steward, "SPARQL Update")?;
    if !request.default_graphs.is_empty() || !request.named_graphs.is_empty() {
        return Err(ApiError::BadRequest(
            "using-graph-uri and using-named-graph-uri are not supported; use USING or WITH in the update"
                .into(),
        ));
    }
    let text = request.update.unwrap_or_default();
    let scope = principal.scope()?;
    let timeout = state.config.query_timeout;
    let s = state.clone();
    let started = std::time::Instant::now();
    let written = crate::rest::blocking(move || {
        s.store
            .update(&text, &scope, Some(timeout))
            .map_err(ApiError::from)
    })
    .await?;
    // Search takes the change before the writer hears back, so its next read sees it.
    crate::rest::search_caught_up(&state).await;
    tracing::info!(
        graphs = written.graphs.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "sparql update"
    );
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .extensions_mut()
        .insert(AuditAction("sparql.update"));
    Ok(response)
}

async fn run(
    state: Arc<AppState>,
    principal: &Principal,
    headers: &HeaderMap,
    request: ProtocolRequest,
) -> ApiResult<Response> {
    if request.update.is_some() {
        if request.query.is_some() {
            return Err(ApiError::BadRequest(
                "a request carries either a query or an update, not both".into(),
            ));
        }
        return update(state, principal, request).await;
    }
    let Some(query) = request.query.clone() else {
        return Err(ApiError::BadRequest(
            "no query: pass it as the `query` parameter or as an application/sparql-query body"
                .into(),
        ));
    };
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let solutions = negotiate(accept.as_deref(), SOLUTION_OFFERS);
    let graph = negotiate(accept.as_deref(), &graph_offers());
    let options = request.options(&state, principal)?;
    let limits = state.config.limits;
    let store = Arc::clone(&state.store);
    let scope = principal.scope()?;
    let started = std::time::Instant::now();
    let timeout = state.config.query_timeout;
    let engine = Arc::clone(&state.policy);
    let subject = crate::policy::subject(principal);
    let work = crate::rest::blocking(move || -> ApiResult<_> {
        // Every literal the catalog holds for a protected column leaves masked.
        let masker = engine.masker(&scope, &subject, None)?;
        let outcome = store.query_in(&query, &options, &scope)?;
        let is_graph = matches!(
            outcome.results,
            govgraph_graph::oxigraph::sparql::QueryResults::Graph(_)
        );
        let (s, g) = match (is_graph, solutions, graph) {
            (false, Some(s), _) => (s, RdfFormat::Turtle),
            (true, _, Some(g)) => (QueryResultsFormat::Json, g),
            _ => {
                return Err(ApiError::NotAcceptable(
                    "none of the media types in Accept can carry this result; \
                     try application/sparql-results+json or text/turtle"
                        .into(),
                ));
            }
        };
        serialize(
            outcome.results,
            &outcome.deadline,
            SolutionsFormat::Sparql(s),
            g,
            limits,
            Some(&masker),
        )
    });
    // The engine stops at its deadline when it next reads the store; the client hears at
    // the deadline (plus a grace period) whatever the engine is doing.
    let serialized = tokio::time::timeout(timeout + Duration::from_secs(1), work)
        .await
        .map_err(|_| {
            ApiError::Timeout(format!(
                "query cancelled after {:.1} s",
                timeout.as_secs_f64()
            ))
        })??;
    tracing::info!(
        rows = serialized.rows,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "sparql query"
    );
    let mut response = serialized.body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(serialized.media_type),
    );
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(response)
}

/// Runs a SPARQL query given in the query string.
#[utoipa::path(
    get,
    path = "/sparql",
    tag = "sparql",
    params(
        ("query" = Option<String>, Query, description = "The SPARQL 1.1 query; without it the endpoint answers a short HTML page"),
        ("default-graph-uri" = Option<Vec<String>>, Query, description = "Graphs that form the default graph"),
        ("named-graph-uri" = Option<Vec<String>>, Query, description = "Graphs available to GRAPH"),
    ),
    responses(
        (status = 200, description = "Results: SPARQL JSON, XML, CSV or TSV for SELECT and ASK; Turtle, N-Triples, JSON-LD or RDF/XML for CONSTRUCT and DESCRIBE, by the Accept header"),
        (status = 400, description = "Bad SPARQL", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Refused in the caller's scope (another tenant's graph, a SERVICE endpoint off the federation allowlist)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "A SERVICE endpoint failed", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "No acceptable format", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Timed out or saturated", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn get(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let mut request = ProtocolRequest::default();
    request.absorb(raw.unwrap_or_default().as_bytes());
    if request.update.is_some() {
        return Err(ApiError::BadRequest(
            "updates must be sent with POST".into(),
        ));
    }
    if request.query.is_none() {
        return Ok(crate::server::landing().into_response());
    }
    run(state, &principal, &headers, request).await
}

/// Runs a SPARQL query or update sent in the body: a form (`query=` or `update=`), an
/// `application/sparql-query` or an `application/sparql-update` body. Updates need the
/// steward or admin role and write only graphs the caller's scope may write.
#[utoipa::path(
    post,
    path = "/sparql",
    tag = "sparql",
    request_body(
        description = "A query or an update: as a form, or as the bare SPARQL text",
        content(
            (SparqlForm = "application/x-www-form-urlencoded"),
            (String = "application/sparql-query"),
            (String = "application/sparql-update"),
        )
    ),
    responses(
        (status = 200, description = "Query results, by the Accept header"),
        (status = 204, description = "The update was applied"),
        (status = 400, description = "Bad SPARQL", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the caller", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported body type", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn post(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!(
                "the request body is over the limit: {}",
                e.body_text()
            ))
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })?;
    let mut request = ProtocolRequest::default();
    request.absorb(raw.unwrap_or_default().as_bytes());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let text = || {
        String::from_utf8(body.to_vec())
            .map_err(|_| ApiError::BadRequest("the body is not UTF-8".into()))
    };
    match content_type.as_str() {
        "application/x-www-form-urlencoded" => request.absorb(&body),
        "application/sparql-query" => request.query = Some(text()?),
        "application/sparql-update" => request.update = Some(text()?),
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "POST /sparql takes application/x-www-form-urlencoded, application/sparql-query or \
                 application/sparql-update, not {:?}",
                other
            )));
        }
    }
    run(state, &principal, &headers, request).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_q_values_and_wildcards() {
        let offers = SOLUTION_OFFERS;
        assert_eq!(negotiate(None, offers), Some(QueryResultsFormat::Json));
        assert_eq!(
            negotiate(Some("text/csv"), offers),
            Some(QueryResultsFormat::Csv)
        );
        assert_eq!(
            negotiate(
                Some("text/csv;q=0.5, application/sparql-results+xml"),
                offers
            ),
            Some(QueryResultsFormat::Xml)
        );
        assert_eq!(
            negotiate(Some("text/*"), offers),
            Some(QueryResultsFormat::Xml)
        );
        assert_eq!(negotiate(Some("image/png"), offers), None);
        assert_eq!(
            negotiate(Some("image/png, */*;q=0.1"), offers),
            Some(QueryResultsFormat::Json)
        );
        assert_eq!(negotiate(Some("text/csv;q=0"), offers), None);
    }

    #[test]
    fn protocol_parameters_repeat() {
        let mut r = ProtocolRequest::default();
        r.absorb(b"query=SELECT%20*&default-graph-uri=urn:a&default-graph-uri=urn:b&named-graph-uri=urn:c");
        assert_eq!(r.query.as_deref(), Some("SELECT *"));
        assert_eq!(r.default_graphs, vec!["urn:a", "urn:b"]);
        assert_eq!(r.named_graphs, vec!["urn:c"]);
    }
}
