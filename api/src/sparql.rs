//! The SPARQL 1.1 Protocol endpoint: queries by GET and POST, content negotiation, dataset
//! parameters, time and size limits.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use govgraph_graph::QueryOptions;
use govgraph_graph::oxigraph::io::{JsonLdProfileSet, RdfFormat};
use govgraph_graph::oxigraph::model::NamedNode;
use govgraph_graph::oxigraph::sparql::results::QueryResultsFormat;

use crate::error::{ApiError, ApiResult};
use crate::results::{SolutionsFormat, serialize};
use crate::server::AppState;

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

    fn options(&self, state: &AppState) -> ApiResult<QueryOptions> {
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

async fn run(
    state: Arc<AppState>,
    headers: &HeaderMap,
    request: ProtocolRequest,
) -> ApiResult<Response> {
    if request.update.is_some() {
        return Err(ApiError::Forbidden(
            "SPARQL Update is not allowed for this principal: writes need a steward or admin key"
                .into(),
        ));
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
    let options = request.options(&state)?;
    let limits = state.config.limits;
    let store = Arc::clone(&state.store);
    let started = std::time::Instant::now();
    let serialized = tokio::task::spawn_blocking(move || -> ApiResult<_> {
        let outcome = store.query(&query, &options)?;
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
        )
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
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

/// `GET /sparql?query=…`.
pub async fn get(
    State(state): State<Arc<AppState>>,
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
    run(state, &headers, request).await
}

/// `POST /sparql` with a form, a `application/sparql-query` or a `application/sparql-update` body.
pub async fn post(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Response> {
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
    run(state, &headers, request).await
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
