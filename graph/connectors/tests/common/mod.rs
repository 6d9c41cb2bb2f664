//! Helpers shared by the data-driven connector tests: expectation files that
//! `GOVGRAPH_BLESS=1` rewrites, and SELECT results rendered as sorted lines.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

use govgraph_graph::GraphStore;
use govgraph_graph::oxigraph::model::Term;

pub fn bless() -> bool {
    std::env::var_os("GOVGRAPH_BLESS").is_some()
}

/// Compares `actual` with the file at `path`, or rewrites the file when blessing.
pub fn check(path: &Path, actual: &str) {
    if bless() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|_| panic!("{} is missing; run with GOVGRAPH_BLESS=1", path.display()));
    assert_eq!(
        expected,
        actual,
        "{} differs; run with GOVGRAPH_BLESS=1 to accept",
        path.display()
    );
}

/// A term as text: IRIs without the entity base, literals by value.
pub fn text(t: Option<&Term>) -> String {
    match t {
        Some(Term::NamedNode(n)) => n
            .as_str()
            .trim_start_matches("https://id.govgraph.dev/")
            .to_owned(),
        Some(Term::Literal(l)) => l.value().to_owned(),
        Some(other) => other.to_string(),
        None => "-".to_owned(),
    }
}

/// The rows of a SELECT, one line each, sorted, under a `## title` heading.
pub fn table(store: &GraphStore, title: &str, sparql: &str, out: &mut String) {
    let rows = store.select(sparql).unwrap();
    let mut lines: Vec<String> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|(_, v)| text(Some(v)))
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect();
    lines.sort();
    writeln!(out, "## {title}").unwrap();
    for l in lines {
        writeln!(out, "{l}").unwrap();
    }
}
