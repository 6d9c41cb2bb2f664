//! Upstream and downstream lineage traversal, for tables and for columns.
//!
//! A breadth-first walk over the store's indexes with a depth limit, a visited set (so cycles
//! end the walk instead of looping), pagination over the nodes found, and an exact report of
//! the cycles met (strongly connected components of the explored subgraph).

use std::collections::{HashMap, HashSet, VecDeque};

use oxigraph::model::{NamedNode, NamedOrBlankNode, Term};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::store::GraphStore;
use crate::vocab::{gg, prov};

/// Tables (datasets) or columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Dataset-to-dataset lineage (`prov:wasDerivedFrom`).
    Table,
    /// Column-to-column lineage (`prov:qualifiedDerivation`).
    Column,
}

/// Which way to walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Towards the sources.
    Upstream,
    /// Towards the consumers (impact).
    Downstream,
}

/// What to walk.
#[derive(Debug, Clone)]
pub struct Traversal {
    /// Where to start.
    pub start: NamedNode,
    /// Tables or columns.
    pub level: Level,
    /// Up or down.
    pub direction: Direction,
    /// The most hops (at least 1).
    pub max_depth: usize,
    /// Column level only: follow INDIRECT derivations too (default true).
    pub include_indirect: bool,
    /// Pagination: nodes to skip.
    pub offset: usize,
    /// Pagination: nodes to return at most.
    pub limit: usize,
    /// The graphs the walk may read (a tenant's, or all).
    pub scope: Scope,
}

impl Traversal {
    /// A traversal with defaults: 10 hops, indirect edges included, the first 1000 nodes.
    pub fn new(start: NamedNode, level: Level, direction: Direction) -> Self {
        Self {
            start,
            level,
            direction,
            max_depth: 10,
            include_indirect: true,
            offset: 0,
            limit: 1000,
            scope: Scope::all(),
        }
    }
}

/// One edge walked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// The node nearer the start.
    pub from: String,
    /// The node one hop further.
    pub to: String,
    /// OpenLineage transformation type, for column edges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transformation: Option<String>,
    /// OpenLineage transformation subtype, for column edges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
}

/// A node reached, with its distance from the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reached {
    /// The node's IRI.
    pub iri: String,
    /// Hops from the start (1 = a direct neighbour).
    pub depth: usize,
}

/// The outcome of a walk.
#[derive(Debug, Clone, Serialize)]
pub struct LineageResult {
    /// The start node.
    pub start: String,
    /// The requested page of nodes, ordered by depth then IRI.
    pub nodes: Vec<Reached>,
    /// Every edge between the start and the nodes found (all pages).
    pub edges: Vec<Edge>,
    /// Nodes found in all, over all pages.
    pub total: usize,
    /// True when the depth limit stopped the walk while there was more to see.
    pub truncated: bool,
    /// Each cycle met, as the set of nodes that form it.
    pub cycles: Vec<Vec<String>>,
}

fn iri_of(term: &Term) -> Option<NamedNode> {
    match term {
        Term::NamedNode(n) => Some(n.clone()),
        _ => None,
    }
}

fn subject_iri(s: &NamedOrBlankNode) -> Option<NamedNode> {
    match s {
        NamedOrBlankNode::NamedNode(n) => Some(n.clone()),
        NamedOrBlankNode::BlankNode(_) => None,
    }
}

fn local(term: Option<&Term>) -> Option<String> {
    match term? {
        Term::NamedNode(n) => Some(
            n.as_str()
                .strip_prefix(gg::NS)
                .unwrap_or(n.as_str())
                .to_owned(),
        ),
        _ => None,
    }
}

/// A neighbour, with the transformation type and subtype of the edge to it.
type Neighbour = (NamedNode, Option<String>, Option<String>);

/// One hop: the neighbours of `node` with the transformation of each edge.
fn neighbours(store: &GraphStore, node: &NamedNode, t: &Traversal) -> Result<Vec<Neighbour>> {
    let raw = store.raw();
    let mut out = Vec::new();
    match (t.level, t.direction) {
        (Level::Table, Direction::Upstream) => {
            for q in t.scope.filter_quads(raw.quads_for_pattern(
                Some(node.as_ref().into()),
                Some(prov::WAS_DERIVED_FROM),
                None,
                None,
            )) {
                if let Some(n) = iri_of(&q?.object) {
                    out.push((n, None, None));
                }
            }
        }
        (Level::Table, Direction::Downstream) => {
            for q in t.scope.filter_quads(raw.quads_for_pattern(
                None,
                Some(prov::WAS_DERIVED_FROM),
                Some(node.as_ref().into()),
                None,
            )) {
                if let Some(n) = subject_iri(&q?.subject) {
                    out.push((n, None, None));
                }
            }
        }
        (Level::Column, direction) => {
            let derivations: Vec<(NamedOrBlankNode, NamedNode)> = match direction {
                Direction::Upstream => {
                    let mut v = Vec::new();
                    for q in t.scope.filter_quads(raw.quads_for_pattern(
                        Some(node.as_ref().into()),
                        Some(prov::QUALIFIED_DERIVATION),
                        None,
                        None,
                    )) {
                        let d = match q?.object {
                            Term::NamedNode(n) => NamedOrBlankNode::NamedNode(n),
                            Term::BlankNode(b) => NamedOrBlankNode::BlankNode(b),
                            _ => continue,
                        };
                        for e in t.scope.filter_quads(raw.quads_for_pattern(
                            Some(d.as_ref()),
                            Some(prov::ENTITY),
                            None,
                            None,
                        )) {
                            if let Some(src) = iri_of(&e?.object) {
                                v.push((d.clone(), src));
                            }
                        }
                    }
                    v
                }
                Direction::Downstream => {
                    let mut v = Vec::new();
                    for q in t.scope.filter_quads(raw.quads_for_pattern(
                        None,
                        Some(prov::ENTITY),
                        Some(node.as_ref().into()),
                        None,
                    )) {
                        let d = q?.subject;
                        let d_term: Term = match &d {
                            NamedOrBlankNode::NamedNode(n) => n.clone().into(),
                            NamedOrBlankNode::BlankNode(b) => b.clone().into(),
                        };
                        for e in t.scope.filter_quads(raw.quads_for_pattern(
                            None,
                            Some(prov::QUALIFIED_DERIVATION),
                            Some(d_term.as_ref()),
                            None,
                        )) {
                            if let Some(target) = subject_iri(&e?.subject) {
                                v.push((d.clone(), target));
                            }
                        }
                    }
                    v
                }
            };
            for (d, other) in derivations {
                let kind = t
                    .scope
                    .filter_quads(raw.quads_for_pattern(
                        Some(d.as_ref()),
                        Some(gg::TRANSFORMATION_TYPE),
                        None,
                        None,
                    ))
                    .next()
                    .transpose()?
                    .map(|q| q.object);
                let subtype = t
                    .scope
                    .filter_quads(raw.quads_for_pattern(
                        Some(d.as_ref()),
                        Some(gg::TRANSFORMATION_SUBTYPE),
                        None,
                        None,
                    ))
                    .next()
                    .transpose()?
                    .map(|q| q.object);
                let kind = local(kind.as_ref());
                if !t.include_indirect && kind.as_deref() == Some("INDIRECT") {
                    continue;
                }
                out.push((other, kind, local(subtype.as_ref())));
            }
        }
    }
    out.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()).then_with(|| a.2.cmp(&b.2)));
    out.dedup();
    Ok(out)
}

/// Walks the lineage graph from `t.start`.
pub fn traverse(store: &GraphStore, t: &Traversal) -> Result<LineageResult> {
    if t.max_depth == 0 {
        return Err(Error::invalid("depth", "must be at least 1"));
    }
    if t.limit == 0 {
        return Err(Error::invalid("limit", "must be at least 1"));
    }
    let mut depth_of: HashMap<NamedNode, usize> = HashMap::new();
    depth_of.insert(t.start.clone(), 0);
    let mut queue = VecDeque::from([t.start.clone()]);
    let mut edges = Vec::new();
    let mut truncated = false;
    while let Some(node) = queue.pop_front() {
        let depth = depth_of.get(&node).copied().unwrap_or(0);
        let next = neighbours(store, &node, t)?;
        if depth == t.max_depth {
            truncated |= !next.is_empty();
            continue;
        }
        for (other, kind, subtype) in next {
            edges.push(Edge {
                from: node.as_str().to_owned(),
                to: other.as_str().to_owned(),
                transformation: kind,
                subtype,
            });
            if !depth_of.contains_key(&other) {
                depth_of.insert(other.clone(), depth + 1);
                queue.push_back(other);
            }
        }
    }
    let cycles = cycles(&edges);
    let mut nodes: Vec<Reached> = depth_of
        .into_iter()
        .filter(|(n, _)| *n != t.start)
        .map(|(n, depth)| Reached {
            iri: n.into_string(),
            depth,
        })
        .collect();
    nodes.sort_by(|a, b| a.depth.cmp(&b.depth).then_with(|| a.iri.cmp(&b.iri)));
    let total = nodes.len();
    let nodes = nodes.into_iter().skip(t.offset).take(t.limit).collect();
    Ok(LineageResult {
        start: t.start.as_str().to_owned(),
        nodes,
        edges,
        total,
        truncated,
        cycles,
    })
}

/// The strongly connected components with a cycle (Tarjan's algorithm, iterative).
fn cycles(edges: &[Edge]) -> Vec<Vec<String>> {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    for e in edges {
        for n in [e.from.as_str(), e.to.as_str()] {
            ids.entry(n).or_insert_with(|| {
                names.push(n);
                names.len() - 1
            });
        }
    }
    let n = names.len();
    let mut adj = vec![Vec::new(); n];
    let mut self_loop = HashSet::new();
    for e in edges {
        let (a, b) = (ids[e.from.as_str()], ids[e.to.as_str()]);
        adj[a].push(b);
        if a == b {
            self_loop.insert(a);
        }
    }
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut out = Vec::new();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut i)) = call.last_mut() {
            if *i < adj[v].len() {
                let w = adj[v][*i];
                *i += 1;
                if index[w] == usize::MAX {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        component.push(names[w].to_owned());
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 || self_loop.contains(&v) {
                        component.sort();
                        out.push(component);
                    }
                }
            }
        }
    }
    out.sort();
    out
}

/// Resolves a user's reference to a dataset or column: an IRI, or a dataset identifier such
/// as `gold.daily_sales`, or `dataset.column`.
pub fn resolve(store: &GraphStore, reference: &str, level: Level) -> Result<NamedNode> {
    if reference.contains("://") || reference.starts_with("urn:") {
        return NamedNode::new(reference).map_err(|e| Error::invalid("reference", e.to_string()));
    }
    let escape = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let query = match level {
        Level::Table => format!(
            "SELECT DISTINCT ?x WHERE {{ ?x a dcat:Dataset ; dct:identifier \"{}\" }} LIMIT 3",
            escape(reference)
        ),
        Level::Column => {
            let (table, column) = reference.rsplit_once('.').ok_or_else(|| {
                Error::invalid(
                    "reference",
                    "a column is written table.column (or as an IRI)",
                )
            })?;
            format!(
                "SELECT DISTINCT ?x WHERE {{ ?x a csvw:Column ; csvw:name \"{}\" ; gg:columnOf/dct:identifier \"{}\" }} LIMIT 3",
                escape(column),
                escape(table)
            )
        }
    };
    let rows = store.select(&query)?;
    let found: Vec<NamedNode> = rows
        .iter()
        .filter_map(|r| r.get("x").and_then(iri_of))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::NotFound(
            format!("no {level:?} named {reference}").to_lowercase(),
        )),
        many => Err(Error::invalid(
            "reference",
            format!(
                "{reference} is ambiguous: {}",
                many.iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::model::{Entity, LineageEdge, TransformationSubtype, TransformationType};
    use crate::{ColumnKey, DatasetKey, LoadOptions, LoadSource, NoProgress, StoreConfig};
    use oxigraph::io::{RdfFormat, RdfSerializer};

    fn store_with(ttl: &str, edges: &[LineageEdge]) -> GraphStore {
        let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
        let mut ser = RdfSerializer::from_format(RdfFormat::NTriples).for_writer(Vec::new());
        for e in edges {
            for t in e.to_triples(store.scheme()) {
                ser.serialize_triple(&t).unwrap();
            }
        }
        let mut bytes = ttl.as_bytes().to_vec();
        bytes.extend(ser.finish().unwrap());
        store
            .load(
                vec![LoadSource::from_bytes(
                    "t",
                    "t.ttl",
                    RdfFormat::Turtle,
                    bytes,
                )],
                &LoadOptions {
                    validate: false,
                    ..Default::default()
                },
                &NoProgress,
            )
            .unwrap();
        store
    }

    const TABLES: &str = "@prefix prov: <http://www.w3.org/ns/prov#> .
        <urn:a> prov:wasDerivedFrom <urn:b>, <urn:c> . <urn:b> prov:wasDerivedFrom <urn:d> .
        <urn:c> prov:wasDerivedFrom <urn:d> . <urn:d> prov:wasDerivedFrom <urn:e> .
        <urn:e> prov:wasDerivedFrom <urn:c> .\n";

    #[test]
    fn tables_upstream_with_depth_pages_and_cycles() {
        let store = store_with(TABLES, &[]);
        let mut t = Traversal::new(
            NamedNode::new("urn:a").unwrap(),
            Level::Table,
            Direction::Upstream,
        );
        let r = traverse(&store, &t).unwrap();
        let got: Vec<(&str, usize)> = r.nodes.iter().map(|n| (n.iri.as_str(), n.depth)).collect();
        assert_eq!(
            got,
            [("urn:b", 1), ("urn:c", 1), ("urn:d", 2), ("urn:e", 3)]
        );
        assert_eq!(
            r.cycles,
            vec![vec!["urn:c".to_owned(), "urn:d".into(), "urn:e".into()]]
        );
        assert!(!r.truncated);

        t.max_depth = 1;
        let r = traverse(&store, &t).unwrap();
        assert_eq!(r.total, 2);
        assert!(r.truncated);

        t.max_depth = 10;
        t.offset = 1;
        t.limit = 2;
        let r = traverse(&store, &t).unwrap();
        assert_eq!(r.total, 4);
        assert_eq!(
            r.nodes.iter().map(|n| n.iri.as_str()).collect::<Vec<_>>(),
            ["urn:c", "urn:d"]
        );

        let down = traverse(
            &store,
            &Traversal::new(
                NamedNode::new("urn:d").unwrap(),
                Level::Table,
                Direction::Downstream,
            ),
        )
        .unwrap();
        let got: Vec<&str> = down.nodes.iter().map(|n| n.iri.as_str()).collect();
        assert_eq!(got, ["urn:b", "urn:c", "urn:a", "urn:e"]);
    }

    #[test]
    fn columns_follow_qualified_derivations() {
        let ds = |n: &str| DatasetKey::new("s", n);
        let col = |t: &str, c: &str| ColumnKey::new(ds(t), c);
        let edge = |to: ColumnKey, from: ColumnKey, kind, subtype| LineageEdge {
            target: to,
            source: from,
            transformation: kind,
            subtype,
            description: None,
            masking: false,
            job: None,
        };
        let edges = [
            edge(
                col("gold", "revenue"),
                col("silver", "amount"),
                TransformationType::Direct,
                TransformationSubtype::Aggregation,
            ),
            edge(
                col("gold", "revenue"),
                col("silver", "status"),
                TransformationType::Indirect,
                TransformationSubtype::Conditional,
            ),
            edge(
                col("silver", "amount"),
                col("bronze", "amount"),
                TransformationType::Direct,
                TransformationSubtype::Identity,
            ),
        ];
        let store = store_with("", &edges);
        let start = store.scheme().column(&col("gold", "revenue"));
        let mut t = Traversal::new(start, Level::Column, Direction::Upstream);
        let r = traverse(&store, &t).unwrap();
        assert_eq!(r.total, 3);
        assert!(
            r.edges
                .iter()
                .any(|e| e.subtype.as_deref() == Some("CONDITIONAL"))
        );
        t.include_indirect = false;
        assert_eq!(traverse(&store, &t).unwrap().total, 2);

        let bronze = store.scheme().column(&col("bronze", "amount"));
        let impact = traverse(
            &store,
            &Traversal::new(bronze, Level::Column, Direction::Downstream),
        )
        .unwrap();
        let got: Vec<(String, usize)> = impact
            .nodes
            .iter()
            .map(|n| {
                (
                    n.iri.rsplit('/').take(3).collect::<Vec<_>>().join("<"),
                    n.depth,
                )
            })
            .collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(impact.nodes[1].depth, 2);
    }
}
