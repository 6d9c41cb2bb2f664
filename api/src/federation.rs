//! SERVICE calls over HTTP: the [`ServiceClient`] the server gives queries when federation
//! is configured (`[federation]`).
//!
//! A call is a SPARQL 1.1 Protocol POST (`application/sparql-query`) to an allowlisted
//! endpoint. Redirects are not followed (a redirect could leave the allowlist), the answer is
//! read up to a size cap, and the call ends with the calling query's time limit.

use std::sync::Arc;
use std::time::Duration;

use govgraph_graph::federation::{Federation, ServiceClient, ServiceError};
use govgraph_graph::oxigraph::model::NamedNode;
use govgraph_graph::oxigraph::sparql::results::{
    QueryResultsFormat, QueryResultsParser, ReaderQueryResultsParserOutput,
};
use govgraph_graph::oxigraph::sparql::{QueryEvaluationError, QuerySolution, QuerySolutionIter};

use crate::config::FederationSection;
use crate::error::{ApiError, ApiResult};

/// What the server asks endpoints for, best first.
const ACCEPT: &str = "application/sparql-results+json, application/sparql-results+xml;q=0.9, text/tab-separated-values;q=0.8, text/csv;q=0.5";

/// Calls SPARQL endpoints over HTTP from the server's runtime.
#[derive(Debug)]
pub struct HttpServiceClient {
    client: reqwest::Client,
    max_bytes: usize,
    timeout: Duration,
}

impl HttpServiceClient {
    /// A client that reads at most `max_bytes` of an answer and waits at most `timeout` for
    /// one (less when the calling query has less time left).
    pub fn new(max_bytes: usize, timeout: Duration) -> ApiResult<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("govgraph/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Config(format!("federation: HTTP client: {e}")))?;
        Ok(Self {
            client,
            max_bytes,
            timeout,
        })
    }
}

/// Posts `query` to `endpoint` and reads the answer, at most `max_bytes` of it.
async fn fetch(
    client: reqwest::Client,
    max_bytes: usize,
    endpoint: String,
    query: String,
) -> Result<(String, Vec<u8>), String> {
    let too_large =
        || format!("the answer is larger than the {max_bytes} bytes a SERVICE call may return");
    let mut response = client
        .post(endpoint)
        .header(reqwest::header::CONTENT_TYPE, "application/sparql-query")
        .header(reqwest::header::ACCEPT, ACCEPT)
        .body(query)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the endpoint answered HTTP {}", status.as_u16()));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or("the endpoint answered without a Content-Type")?;
    if response
        .content_length()
        .is_some_and(|n| n > max_bytes as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
        if body.len() + chunk.len() > max_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok((content_type, body))
}

/// A transport error without the machine's details beyond what the caller asked for.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the endpoint did not answer in time".to_owned()
    } else if e.is_connect() {
        "the endpoint could not be reached".to_owned()
    } else {
        "the HTTP exchange with the endpoint failed".to_owned()
    }
}

impl ServiceClient for HttpServiceClient {
    fn select(
        &self,
        endpoint: &NamedNode,
        query: &str,
        timeout: Option<Duration>,
    ) -> Result<QuerySolutionIter<'static>, ServiceError> {
        let failed = |message: String| ServiceError::Failed {
            endpoint: endpoint.as_str().to_owned(),
            message,
        };
        // Whichever ends first: the query's time, or the time one call may take.
        let query_ends_first = timeout.is_some_and(|t| t <= self.timeout);
        let limit = timeout.map_or(self.timeout, |t| t.min(self.timeout));
        // Queries run on blocking threads of the server's runtime; the call runs as a task
        // on that runtime and this thread waits for it.
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| failed("no async runtime to make the call on".into()))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let call = fetch(
            self.client.clone(),
            self.max_bytes,
            endpoint.as_str().to_owned(),
            query.to_owned(),
        );
        runtime.spawn(async move {
            let result = tokio::time::timeout(limit, call).await;
            let _ = tx.send(result);
        });
        let (content_type, body) = match rx.recv_timeout(limit + Duration::from_millis(100)) {
            Ok(Ok(Ok(answer))) => answer,
            Ok(Ok(Err(message))) => return Err(failed(message)),
            Ok(Err(_)) | Err(_) if query_ends_first => {
                return Err(ServiceError::Timeout(endpoint.as_str().into()));
            }
            Ok(Err(_)) | Err(_) => {
                return Err(failed(format!(
                    "the endpoint did not answer within {} ms",
                    self.timeout.as_millis()
                )));
            }
        };
        let format = QueryResultsFormat::from_media_type(&content_type).ok_or_else(|| {
            failed(format!(
                "the endpoint answered {content_type}, which is not a SPARQL results format"
            ))
        })?;
        let parsed = QueryResultsParser::from_format(format)
            .for_reader(std::io::Cursor::new(body))
            .map_err(|e| failed(format!("unreadable results: {e}")))?;
        let ReaderQueryResultsParserOutput::Solutions(reader) = parsed else {
            return Err(failed(
                "the endpoint answered a boolean, not solutions".into(),
            ));
        };
        let variables: Arc<[_]> = reader.variables().into();
        let solutions = reader
            .map(|s| s.map_err(|e| failed(format!("unreadable results: {e}"))))
            .collect::<Result<Vec<QuerySolution>, _>>()?;
        Ok(QuerySolutionIter::new(
            variables,
            solutions.into_iter().map(Ok::<_, QueryEvaluationError>),
        ))
    }
}

/// The federation the configuration allows, or `None` when it allows no endpoint.
pub fn from_config(section: &FederationSection) -> ApiResult<Option<Federation>> {
    if section.endpoints.is_empty() {
        return Ok(None);
    }
    let client = HttpServiceClient::new(
        section.max_response_bytes,
        Duration::from_millis(section.timeout_ms),
    )?;
    Ok(Some(
        Federation::new(section.endpoints.iter().cloned(), Arc::new(client))
            .with_max_calls(section.max_calls),
    ))
}
