//! The executor's tools: scoped, time-limited SPARQL over the store, each call recorded for the
//! citations, the trace and the audit log.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use govgraph_graph::oxigraph::model::Term;
use govgraph_graph::oxigraph::sparql::QuerySolution;
use govgraph_graph::store::collect_solutions;
use govgraph_graph::{GraphStore, QueryOptions, Scope};
use serde::Serialize;

use crate::error::Result;

/// One tool call, as the trace and the audit log show it.
#[derive(Debug, Clone, Serialize)]
pub struct ToolCall {
    /// The tool: `sparql`, `lineage`, `search`.
    pub tool: String,
    /// What it was asked (the query text, the start node, the search words).
    pub input: String,
    /// How many rows or nodes came back.
    pub results: usize,
    /// Attempts made (more than 1 after a retry).
    pub attempts: u32,
    /// Wall time in milliseconds.
    pub ms: f64,
    /// The error, when the call failed in the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The store as the executor sees it: one tenant's graphs, a deadline per call, and a log.
#[allow(missing_debug_implementations)]
pub struct Kb<'a> {
    pub(crate) store: &'a GraphStore,
    pub(crate) scope: &'a Scope,
    pub(crate) timeout: Duration,
    pub(crate) calls: RefCell<Vec<ToolCall>>,
    /// Tags that mark personal data (from the lexicon).
    pub(crate) pii_tags: Vec<String>,
    /// Tags that mark restricted data.
    pub(crate) restricted_tags: Vec<String>,
}

/// Attempts per tool call; the waits between them double from 20 ms.
const ATTEMPTS: u32 = 3;

impl<'a> Kb<'a> {
    pub(crate) fn new(store: &'a GraphStore, scope: &'a Scope, timeout: Duration) -> Self {
        Self {
            store,
            scope,
            timeout,
            calls: RefCell::new(Vec::new()),
            pii_tags: Vec::new(),
            restricted_tags: Vec::new(),
        }
    }

    /// Runs a SELECT within the scope. A failure that may pass (anything but a bad query or an
    /// exhausted deadline) is retried with exponential backoff.
    pub fn select(&self, sparql: &str) -> Result<Vec<QuerySolution>> {
        let start = Instant::now();
        let mut attempts = 0;
        let options = QueryOptions {
            timeout: Some(self.timeout),
            ..QueryOptions::default()
        };
        let outcome = loop {
            attempts += 1;
            let r = self
                .store
                .query_in(sparql, &options, self.scope)
                .and_then(|o| collect_solutions(o.results, &o.deadline));
            match r {
                Err(e) if attempts < ATTEMPTS && transient(&e) => {
                    std::thread::sleep(Duration::from_millis(20 << (attempts - 1)));
                }
                other => break other,
            }
        };
        self.log(ToolCall {
            tool: "sparql".to_owned(),
            input: sparql.trim().to_owned(),
            results: outcome.as_ref().map_or(0, Vec::len),
            attempts,
            ms: start.elapsed().as_secs_f64() * 1e3,
            error: outcome.as_ref().err().map(ToString::to_string),
        });
        Ok(outcome?)
    }

    /// Records a call made outside `select` (lineage walks, searches).
    pub fn log(&self, call: ToolCall) {
        self.calls.borrow_mut().push(call);
    }

    /// The calls so far.
    pub fn calls(&self) -> Vec<ToolCall> {
        self.calls.borrow().clone()
    }
}

fn transient(e: &govgraph_graph::Error) -> bool {
    !matches!(
        e,
        govgraph_graph::Error::Query(_)
            | govgraph_graph::Error::Timeout(_)
            | govgraph_graph::Error::Invalid { .. }
            | govgraph_graph::Error::Syntax { .. }
    )
}

/// A solution's value as text (an IRI's string or a literal's lexical form).
pub fn text(row: &QuerySolution, var: &str) -> Option<String> {
    match row.get(var)? {
        Term::NamedNode(n) => Some(n.as_str().to_owned()),
        Term::Literal(l) => Some(l.value().to_owned()),
        Term::BlankNode(b) => Some(format!("_:{}", b.as_str())),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// A solution's value as a number.
pub fn number(row: &QuerySolution, var: &str) -> Option<f64> {
    text(row, var)?.parse().ok()
}

/// A solution's value as a boolean.
pub fn boolean(row: &QuerySolution, var: &str) -> bool {
    text(row, var).is_some_and(|v| v == "true" || v == "1")
}

/// An IRI written for a SPARQL query (`<...>`), with anything that could break out of it refused.
pub fn iri(s: &str) -> String {
    let clean: String = s
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\' | ' '
            )
        })
        .collect();
    format!("<{clean}>")
}

/// A string literal for a SPARQL query.
pub fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `VALUES ?var { <a> <b> }`.
pub fn values(var: &str, iris: &[String]) -> String {
    let list: Vec<String> = iris.iter().map(|i| iri(i)).collect();
    format!("VALUES ?{var} {{ {} }}", list.join(" "))
}
