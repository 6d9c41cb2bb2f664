//! SPARQL 1.1 Federated Query: which SERVICE endpoints a query may call, and the seam
//! through which the calls are made.
//!
//! Federation is off unless the caller passes a [`Federation`] in
//! [`crate::QueryOptions::federation`]; without one every SERVICE is refused. With one, a
//! query may call only the endpoints on its allowlist (exact IRIs), a bounded number of
//! times, within what is left of the query's time limit. This crate knows no HTTP: the
//! caller supplies the [`ServiceClient`] that talks to the endpoints.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use oxigraph::model::NamedNode;
use oxigraph::sparql::{DefaultServiceHandler, QuerySolutionIter};
use spargebra::algebra::GraphPattern;
use spargebra::term::NamedNodePattern;

use crate::error::{Error, Result};

/// Calls one remote SPARQL endpoint. Implemented at the edge (the HTTP server), and by
/// in-memory stand-ins in tests.
pub trait ServiceClient: Send + Sync {
    /// Runs `query`, a SPARQL SELECT, at `endpoint`, and returns its solutions. `timeout` is
    /// what remains of the calling query's time limit.
    fn select(
        &self,
        endpoint: &NamedNode,
        query: &str,
        timeout: Option<Duration>,
    ) -> std::result::Result<QuerySolutionIter<'static>, ServiceError>;
}

/// Why a SERVICE call did not return solutions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The call is not allowed (an endpoint off the allowlist, too many calls).
    #[error("{0}")]
    Refused(String),
    /// The endpoint was called and failed, or answered something that is not SPARQL results.
    #[error("SERVICE <{endpoint}> failed: {message}")]
    Failed {
        /// The endpoint IRI.
        endpoint: String,
        /// What went wrong.
        message: String,
    },
    /// The query's time ran out before or during the call.
    #[error("SERVICE <{0}> ran out of time")]
    Timeout(String),
}

/// The federation settings a query runs with: the allowlist, the client and the limits.
#[derive(Clone)]
pub struct Federation {
    endpoints: Arc<BTreeSet<String>>,
    client: Arc<dyn ServiceClient>,
    max_calls: usize,
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federation")
            .field("endpoints", &self.endpoints)
            .field("max_calls", &self.max_calls)
            .finish_non_exhaustive()
    }
}

/// Calls per query when [`Federation::with_max_calls`] is not used.
pub const DEFAULT_MAX_CALLS: usize = 16;

impl Federation {
    /// Allows SERVICE calls to exactly these endpoint IRIs, made through `client`.
    pub fn new(
        endpoints: impl IntoIterator<Item = String>,
        client: Arc<dyn ServiceClient>,
    ) -> Self {
        Self {
            endpoints: Arc::new(endpoints.into_iter().collect()),
            client,
            max_calls: DEFAULT_MAX_CALLS,
        }
    }

    /// Caps the SERVICE calls one query may make (a SERVICE inside a loop calls once per
    /// input row).
    #[must_use]
    pub fn with_max_calls(mut self, max_calls: usize) -> Self {
        self.max_calls = max_calls.max(1);
        self
    }

    /// The allowlisted endpoints.
    pub fn endpoints(&self) -> impl Iterator<Item = &str> {
        self.endpoints.iter().map(String::as_str)
    }

    /// Whether a query may call `endpoint`.
    pub fn allows(&self, endpoint: &str) -> bool {
        self.endpoints.contains(endpoint)
    }

    /// Refuses, before anything runs, a query whose SERVICE names an endpoint off the
    /// allowlist, or names it by a variable (an endpoint must be written out).
    pub(crate) fn check(&self, query: &spargebra::Query) -> Result<()> {
        let mut refused = None;
        crate::guard::walk(crate::guard::query_pattern(query), &mut |p| {
            let GraphPattern::Service { name, .. } = p else {
                return;
            };
            if refused.is_some() {
                return;
            }
            refused = match name {
                NamedNodePattern::NamedNode(n) if self.allows(n.as_str()) => None,
                NamedNodePattern::NamedNode(n) => Some(not_allowed(n.as_str())),
                NamedNodePattern::Variable(v) => Some(format!(
                    "SERVICE ?{} is refused: a SERVICE must name its endpoint, one of this server's federation allowlist",
                    v.as_str()
                )),
            };
        });
        match refused {
            Some(message) => Err(Error::Refused(message)),
            None => Ok(()),
        }
    }

    /// The handler one query evaluation uses; `deadline` is when the query's time ends.
    pub(crate) fn handler(&self, deadline: Option<Instant>) -> Handler {
        Handler {
            federation: self.clone(),
            calls: AtomicUsize::new(0),
            deadline,
        }
    }
}

fn not_allowed(endpoint: &str) -> String {
    format!(
        "SERVICE <{endpoint}> is refused: the endpoint is not on this server's federation allowlist"
    )
}

/// Evaluates the SERVICE calls of one query.
pub(crate) struct Handler {
    federation: Federation,
    calls: AtomicUsize,
    deadline: Option<Instant>,
}

impl DefaultServiceHandler for Handler {
    type Error = ServiceError;

    fn handle(
        &self,
        service_name: &NamedNode,
        pattern: &GraphPattern,
        base_iri: Option<&oxiri::Iri<String>>,
    ) -> std::result::Result<QuerySolutionIter<'static>, ServiceError> {
        let endpoint = service_name.as_str();
        // Checked before evaluation too; this is the last line of defence.
        if !self.federation.allows(endpoint) {
            return Err(ServiceError::Refused(not_allowed(endpoint)));
        }
        let made = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        if made > self.federation.max_calls {
            return Err(ServiceError::Refused(format!(
                "SERVICE is refused: a query may make at most {} SERVICE calls",
                self.federation.max_calls
            )));
        }
        let timeout = match self.deadline {
            None => None,
            Some(at) => match at.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Err(ServiceError::Timeout(endpoint.to_owned())),
            },
        };
        let query = spargebra::Query::Select {
            dataset: None,
            pattern: pattern.clone(),
            base_iri: base_iri.cloned(),
        }
        .to_string();
        tracing::debug!(endpoint, "SERVICE call");
        self.federation.client.select(service_name, &query, timeout)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    struct Never;

    impl ServiceClient for Never {
        fn select(
            &self,
            endpoint: &NamedNode,
            _query: &str,
            _timeout: Option<Duration>,
        ) -> std::result::Result<QuerySolutionIter<'static>, ServiceError> {
            Err(ServiceError::Failed {
                endpoint: endpoint.as_str().to_owned(),
                message: "unreachable".into(),
            })
        }
    }

    fn parse(q: &str) -> spargebra::Query {
        spargebra::SparqlParser::new().parse_query(q).unwrap()
    }

    #[test]
    fn only_allowlisted_endpoints_pass_the_check_wherever_they_sit() {
        let f = Federation::new(["http://ok.example/sparql".to_owned()], Arc::new(Never));
        f.check(&parse(
            "SELECT * { SERVICE <http://ok.example/sparql> { ?s ?p ?o } }",
        ))
        .unwrap();
        let err = f
            .check(&parse("SELECT * { SERVICE ?e { ?s ?p ?o } }"))
            .unwrap_err();
        assert!(err.to_string().contains("must name its endpoint"), "{err}");
        for hidden in [
            "SELECT * { SERVICE <http://evil.example/> { ?s ?p ?o } }",
            "SELECT * { ?a ?b ?c OPTIONAL { SERVICE <http://evil.example/> { ?s ?p ?o } } }",
            "SELECT * { ?a ?b ?c FILTER EXISTS { SERVICE <http://evil.example/> { ?s ?p ?o } } }",
            "SELECT * { { SELECT ?s { SERVICE <http://ok.example/sparql> { SERVICE <http://evil.example/> { ?s ?p ?o } } } } }",
            "ASK { ?a ?b ?c MINUS { SERVICE SILENT <http://evil.example/> { ?a ?p ?o } } }",
            "CONSTRUCT { ?s ?p ?o } WHERE { BIND(EXISTS { SERVICE <http://evil.example/> { ?s ?p ?o } } AS ?x) ?s ?p ?o }",
        ] {
            let err = f.check(&parse(hidden)).unwrap_err().to_string();
            assert!(err.contains("<http://evil.example/>"), "{hidden}: {err}");
        }
    }

    #[test]
    fn the_handler_refuses_unlisted_endpoints_extra_calls_and_spent_time() {
        let f = Federation::new(["http://ok.example/sparql".to_owned()], Arc::new(Never))
            .with_max_calls(2);
        let pattern = GraphPattern::Bgp {
            patterns: Vec::new(),
        };
        let ok = NamedNode::new("http://ok.example/sparql").unwrap();
        let evil = NamedNode::new("http://evil.example/").unwrap();
        let h = f.handler(None);
        assert!(matches!(
            h.handle(&evil, &pattern, None),
            Err(ServiceError::Refused(_))
        ));
        for _ in 0..2 {
            assert!(matches!(
                h.handle(&ok, &pattern, None),
                Err(ServiceError::Failed { .. })
            ));
        }
        assert!(matches!(
            h.handle(&ok, &pattern, None),
            Err(ServiceError::Refused(m)) if m.contains("at most 2")
        ));
        let late = f.handler(Some(Instant::now()));
        assert!(matches!(
            late.handle(&ok, &pattern, None),
            Err(ServiceError::Timeout(_))
        ));
    }
}
