//! A SHACL validator for the shapes govgraph ships.
//!
//! It supports the SHACL Core and SHACL-SPARQL features the ontology's shapes use: node shapes
//! with `sh:targetClass`, `sh:targetNode`, `sh:targetSubjectsOf` and `sh:targetObjectsOf`;
//! property shapes over a predicate or an inverse predicate with `sh:minCount`, `sh:maxCount`,
//! `sh:datatype`, `sh:class`, `sh:nodeKind`, `sh:in` and `sh:pattern`; and `sh:sparql`
//! SELECT constraints. Each constraint becomes one set-oriented SPARQL query over the whole
//! dataset, so validation costs a handful of queries however large the graph is.
//!
//! Data is validated with its `rdfs:subClassOf` super-types materialised (see `loader`), so
//! `sh:targetClass` matches instances of subclasses, as SHACL requires.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use oxigraph::io::{RdfFormat, RdfParser};
use oxigraph::model::{
    Graph, GraphNameRef, NamedNode, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, Quad,
    Term, TermRef, Triple,
};
use oxigraph::sparql::QuerySolution;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::vocab::{self, rdf, sh};

/// Focus nodes per validation task.
const FOCUS_CHUNK: usize = 4096;

/// What validation reads: pattern lookups and SELECT queries over the data, with the
/// default graph as the union of all graphs. Validation reads from several threads.
pub trait ShapeData: Sync {
    /// Runs one SPARQL SELECT query and returns its solutions.
    fn select(&self, sparql: &str) -> Result<Vec<QuerySolution>>;
    /// The quads matching a pattern; `graph` `None` means every graph.
    fn quads(
        &self,
        subject: Option<NamedOrBlankNodeRef<'_>>,
        predicate: Option<NamedNodeRef<'_>>,
        object: Option<TermRef<'_>>,
        graph: Option<GraphNameRef<'_>>,
    ) -> Result<Vec<Quad>>;
}

/// The focus nodes of a shape's targets, in `scope` when given, in first-seen order.
fn focus_nodes(
    data: &dyn ShapeData,
    targets: &[Target],
    scope: Option<&[NamedNode]>,
) -> Result<Vec<Term>> {
    let graphs: Vec<Option<GraphNameRef<'_>>> = match scope {
        Some(graphs) => graphs
            .iter()
            .map(|g| Some(GraphNameRef::NamedNode(g.as_ref())))
            .collect(),
        None => vec![None],
    };
    let mut seen: HashSet<Term> = HashSet::new();
    let mut out = Vec::new();
    let mut push = |t: Term| {
        if seen.insert(t.clone()) {
            out.push(t);
        }
    };
    for target in targets {
        match target {
            Target::Node(n) => push(n.clone()),
            Target::Class(c) => {
                for g in &graphs {
                    for q in data.quads(None, Some(rdf::TYPE), Some(c.as_ref().into()), *g)? {
                        push(q.subject.into());
                    }
                }
            }
            Target::SubjectsOf(p) => {
                for g in &graphs {
                    for q in data.quads(None, Some(p.as_ref()), None, *g)? {
                        push(q.subject.into());
                    }
                }
            }
            Target::ObjectsOf(p) => {
                for g in &graphs {
                    for q in data.quads(None, Some(p.as_ref()), None, *g)? {
                        push(q.object);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The distinct values of `path` from `focus`, over every graph.
fn path_values(data: &dyn ShapeData, focus: &Term, path: &Path) -> Result<Vec<Term>> {
    let mut seen: HashSet<Term> = HashSet::new();
    let quads = match (path, focus) {
        (Path::Predicate(p), Term::NamedNode(n)) => {
            data.quads(Some(n.as_ref().into()), Some(p.as_ref()), None, None)?
        }
        (Path::Predicate(p), Term::BlankNode(b)) => {
            data.quads(Some(b.as_ref().into()), Some(p.as_ref()), None, None)?
        }
        (Path::Predicate(_), Term::Literal(_)) => Vec::new(),
        (Path::Inverse(p), focus) => {
            data.quads(None, Some(p.as_ref()), Some(focus.as_ref()), None)?
        }
    };
    Ok(quads
        .into_iter()
        .map(|q| match path {
            Path::Predicate(_) => q.object,
            Path::Inverse(_) => q.subject.into(),
        })
        .filter(|t| seen.insert(t.clone()))
        .collect())
}

/// The distinct objects of every predicate of `focus`, over every graph.
fn outgoing_values(data: &dyn ShapeData, focus: &Term) -> Result<HashMap<NamedNode, Vec<Term>>> {
    let subject: NamedOrBlankNodeRef<'_> = match focus {
        Term::NamedNode(n) => n.as_ref().into(),
        Term::BlankNode(b) => b.as_ref().into(),
        Term::Literal(_) => return Ok(HashMap::new()),
    };
    let mut out: HashMap<NamedNode, Vec<Term>> = HashMap::new();
    let mut seen: HashSet<(NamedNode, Term)> = HashSet::new();
    for q in data.quads(Some(subject), None, None, None)? {
        if seen.insert((q.predicate.clone(), q.object.clone())) {
            out.entry(q.predicate).or_default().push(q.object);
        }
    }
    Ok(out)
}

/// Whether `value` is typed `class` in some graph.
fn has_type(data: &dyn ShapeData, value: &Term, class: &NamedNode) -> Result<bool> {
    let subject: NamedOrBlankNodeRef<'_> = match value {
        Term::NamedNode(n) => n.as_ref().into(),
        Term::BlankNode(b) => b.as_ref().into(),
        Term::Literal(_) => return Ok(false),
    };
    Ok(!data
        .quads(
            Some(subject),
            Some(rdf::TYPE),
            Some(class.as_ref().into()),
            None,
        )?
        .is_empty())
}

/// `sh:pattern` with its `sh:flags` (`i`, `s`, `m`, `x`), as XPath regular expressions are
/// read by SPARQL's `regex`. An invalid pattern matches nothing, as in SPARQL.
fn compile_pattern(pattern: &str, flags: Option<&str>) -> Option<regex::Regex> {
    let flags = flags.unwrap_or("");
    regex::RegexBuilder::new(pattern)
        .case_insensitive(flags.contains('i'))
        .dot_matches_new_line(flags.contains('s'))
        .multi_line(flags.contains('m'))
        .ignore_whitespace(flags.contains('x'))
        .build()
        .ok()
}

/// How serious a validation result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// `sh:Info`.
    Info,
    /// `sh:Warning`.
    Warning,
    /// `sh:Violation`: a load that causes one is refused.
    Violation,
}

impl Severity {
    fn iri(self) -> NamedNodeRef<'static> {
        match self {
            Self::Info => sh::INFO,
            Self::Warning => sh::WARNING,
            Self::Violation => sh::VIOLATION,
        }
    }
}

/// One result of a validation: a focus node that breaks a constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationResult {
    /// The node that breaks the constraint.
    pub focus_node: String,
    /// The property path, when the constraint is about one.
    pub path: Option<String>,
    /// The offending value, when there is one.
    pub value: Option<String>,
    /// How serious it is.
    pub severity: Severity,
    /// What is wrong, in words.
    pub message: String,
    /// The shape that found it.
    pub source_shape: String,
    /// The SHACL constraint component, such as `sh:MinCountConstraintComponent`.
    pub constraint: String,
}

/// The outcome of validating data against the shapes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValidationReport {
    /// True when there are no results at all.
    pub conforms: bool,
    /// The results, sorted by severity (worst first), focus node and path.
    pub results: Vec<ValidationResult>,
}

impl ValidationReport {
    /// The number of results of `sh:Violation` severity.
    pub fn violations(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.severity == Severity::Violation)
            .count()
    }

    /// One paragraph that names the first few violations.
    pub fn summary(&self) -> String {
        let n = self.violations();
        let mut out = format!("{n} SHACL violation{}", if n == 1 { "" } else { "s" });
        for r in self
            .results
            .iter()
            .filter(|r| r.severity == Severity::Violation)
            .take(10)
        {
            let _ = write!(out, "\n  {} ", r.focus_node);
            if let Some(p) = &r.path {
                let _ = write!(out, "{p} ");
            }
            let _ = write!(out, "- {}", r.message);
        }
        if n > 10 {
            let _ = write!(out, "\n  ... and {} more", n - 10);
        }
        out
    }

    /// The report as a SHACL `sh:ValidationReport` graph.
    pub fn to_graph(&self) -> Graph {
        let mut g = Graph::new();
        let report = NamedOrBlankNode::from(oxigraph::model::BlankNode::default());
        g.insert(&Triple::new(
            report.clone(),
            rdf::TYPE.into_owned(),
            sh::VALIDATION_REPORT.into_owned(),
        ));
        g.insert(&Triple::new(
            report.clone(),
            sh::CONFORMS.into_owned(),
            oxigraph::model::Literal::from(self.conforms),
        ));
        for r in &self.results {
            let node = NamedOrBlankNode::from(oxigraph::model::BlankNode::default());
            g.insert(&Triple::new(
                report.clone(),
                sh::RESULT.into_owned(),
                node.clone(),
            ));
            let mut add = |p: NamedNodeRef<'_>, o: Term| {
                g.insert(&Triple::new(node.clone(), p.into_owned(), o));
            };
            add(rdf::TYPE, sh::VALIDATION_RESULT.into_owned().into());
            if let Some(t) = parse_term(&r.focus_node) {
                add(sh::FOCUS_NODE, t);
            }
            if let Some(t) = r.path.as_deref().and_then(parse_term) {
                add(sh::RESULT_PATH, t);
            }
            if let Some(t) = r.value.as_deref().and_then(parse_term) {
                add(sh::VALUE, t);
            }
            add(sh::RESULT_SEVERITY, r.severity.iri().into_owned().into());
            add(
                sh::RESULT_MESSAGE,
                oxigraph::model::Literal::new_simple_literal(&r.message).into(),
            );
            if let Some(t) = parse_term(&r.source_shape) {
                add(sh::SOURCE_SHAPE, t);
            }
            if let Some(c) = r.constraint.strip_prefix("sh:") {
                add(
                    sh::SOURCE_CONSTRAINT_COMPONENT,
                    NamedNode::new_unchecked(format!("{}{c}", sh::NS)).into(),
                );
            }
        }
        g
    }
}

fn parse_term(s: &str) -> Option<Term> {
    s.parse::<Term>().ok()
}

#[derive(Debug, Clone)]
enum Target {
    Class(NamedNode),
    Node(Term),
    SubjectsOf(NamedNode),
    ObjectsOf(NamedNode),
}

#[derive(Debug, Clone)]
enum Path {
    Predicate(NamedNode),
    Inverse(NamedNode),
}

impl Path {
    fn display(&self) -> String {
        match self {
            Self::Predicate(p) => p.to_string(),
            Self::Inverse(p) => format!("[ sh:inversePath {p} ]"),
        }
    }
}

#[derive(Debug, Clone)]
enum NodeKind {
    Iri,
    Literal,
    BlankNode,
    BlankNodeOrIri,
    IriOrLiteral,
    BlankNodeOrLiteral,
}

impl NodeKind {
    fn accepts(&self, t: &Term) -> bool {
        let (iri, blank, literal) = (
            matches!(t, Term::NamedNode(_)),
            matches!(t, Term::BlankNode(_)),
            matches!(t, Term::Literal(_)),
        );
        match self {
            Self::Iri => iri,
            Self::Literal => literal,
            Self::BlankNode => blank,
            Self::BlankNodeOrIri => blank || iri,
            Self::IriOrLiteral => iri || literal,
            Self::BlankNodeOrLiteral => blank || literal,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct PropertyShape {
    id: String,
    path: Option<Path>,
    min_count: Option<u64>,
    max_count: Option<u64>,
    datatype: Option<NamedNode>,
    class: Option<NamedNode>,
    node_kind: Option<NodeKind>,
    in_values: Option<Vec<Term>>,
    pattern: Option<(String, Option<String>)>,
    severity: Option<Severity>,
    message: Option<String>,
}

#[derive(Debug, Clone)]
struct SparqlConstraint {
    select: String,
    message: Option<String>,
}

#[derive(Debug, Clone)]
struct NodeShape {
    id: String,
    targets: Vec<Target>,
    properties: Vec<PropertyShape>,
    sparql: Vec<SparqlConstraint>,
    severity: Severity,
}

/// A set of shapes, read from Turtle.
#[derive(Debug, Clone)]
pub struct Shapes {
    shapes: Vec<NodeShape>,
    prefixes: BTreeMap<String, String>,
}

fn objects<'a>(
    g: &'a Graph,
    s: NamedOrBlankNodeRef<'a>,
    p: NamedNodeRef<'a>,
) -> impl Iterator<Item = TermRef<'a>> + 'a {
    g.objects_for_subject_predicate(s, p)
}

fn one<'a>(g: &'a Graph, s: NamedOrBlankNodeRef<'a>, p: NamedNodeRef<'a>) -> Option<TermRef<'a>> {
    g.object_for_subject_predicate(s, p)
}

fn literal(t: Option<TermRef<'_>>) -> Option<String> {
    match t? {
        TermRef::Literal(l) => Some(l.value().to_owned()),
        _ => None,
    }
}

fn named(t: Option<TermRef<'_>>) -> Option<NamedNode> {
    match t? {
        TermRef::NamedNode(n) => Some(n.into_owned()),
        _ => None,
    }
}

fn as_subject(t: TermRef<'_>) -> Option<NamedOrBlankNodeRef<'_>> {
    match t {
        TermRef::NamedNode(n) => Some(n.into()),
        TermRef::BlankNode(b) => Some(b.into()),
        _ => None,
    }
}

fn read_list(g: &Graph, head: TermRef<'_>) -> Vec<Term> {
    let first = NamedNodeRef::new_unchecked("http://www.w3.org/1999/02/22-rdf-syntax-ns#first");
    let rest = NamedNodeRef::new_unchecked("http://www.w3.org/1999/02/22-rdf-syntax-ns#rest");
    let mut out = Vec::new();
    let mut node = head;
    for _ in 0..10_000 {
        let Some(s) = as_subject(node) else { break };
        if let Some(v) = one(g, s, first) {
            out.push(v.into_owned());
        }
        match one(g, s, rest) {
            Some(next) => node = next,
            None => break,
        }
    }
    out
}

fn subject_id(s: NamedOrBlankNodeRef<'_>) -> String {
    s.to_string()
}

fn severity_of(g: &Graph, s: NamedOrBlankNodeRef<'_>) -> Option<Severity> {
    match named(one(g, s, sh::SEVERITY))? {
        n if n.as_ref() == sh::WARNING => Some(Severity::Warning),
        n if n.as_ref() == sh::INFO => Some(Severity::Info),
        _ => Some(Severity::Violation),
    }
}

fn deactivated(g: &Graph, s: NamedOrBlankNodeRef<'_>) -> bool {
    literal(one(g, s, sh::DEACTIVATED)).as_deref() == Some("true")
}

impl Shapes {
    /// Reads shapes from a Turtle document; `location` names it in errors.
    pub fn from_turtle(turtle: &str, location: &str) -> Result<Self> {
        let mut g = Graph::new();
        for triple in RdfParser::from_format(RdfFormat::Turtle).for_slice(turtle.as_bytes()) {
            let quad = triple.map_err(|e| crate::loader::parse_error(location, e))?;
            g.insert(&Triple::from(quad));
        }
        Self::from_graph(&g, location)
    }

    /// Reads shapes from a graph.
    pub fn from_graph(g: &Graph, location: &str) -> Result<Self> {
        let mut prefixes: BTreeMap<String, String> = vocab::prefix_pairs()
            .map(|(p, n)| (p.to_owned(), n.to_owned()))
            .collect();
        for decl in g.triples_for_predicate(sh::DECLARE) {
            let Some(d) = as_subject(decl.object) else {
                continue;
            };
            if let (Some(p), Some(n)) = (
                literal(one(g, d, sh::PREFIX)),
                literal(one(g, d, sh::NAMESPACE)),
            ) {
                prefixes.insert(p, n);
            }
        }
        let mut shapes = Vec::new();
        let mut shape_nodes: Vec<NamedOrBlankNodeRef<'_>> = g
            .subjects_for_predicate_object(rdf::TYPE, sh::NODE_SHAPE)
            .collect();
        shape_nodes.sort_by_key(|s| s.to_string());
        for s in shape_nodes {
            if deactivated(g, s) {
                continue;
            }
            let mut targets = Vec::new();
            targets.extend(
                objects(g, s, sh::TARGET_CLASS)
                    .filter_map(|t| named(Some(t)))
                    .map(Target::Class),
            );
            targets.extend(objects(g, s, sh::TARGET_NODE).map(|t| Target::Node(t.into_owned())));
            targets.extend(
                objects(g, s, sh::TARGET_SUBJECTS_OF)
                    .filter_map(|t| named(Some(t)))
                    .map(Target::SubjectsOf),
            );
            targets.extend(
                objects(g, s, sh::TARGET_OBJECTS_OF)
                    .filter_map(|t| named(Some(t)))
                    .map(Target::ObjectsOf),
            );
            let severity = severity_of(g, s).unwrap_or(Severity::Violation);
            let mut properties = Vec::new();
            for p in objects(g, s, sh::PROPERTY) {
                let Some(ps) = as_subject(p) else { continue };
                if deactivated(g, ps) {
                    continue;
                }
                properties.push(Self::property(g, ps, location)?);
            }
            let mut sparql = Vec::new();
            for c in objects(g, s, sh::SPARQL) {
                let Some(cs) = as_subject(c) else { continue };
                if deactivated(g, cs) {
                    continue;
                }
                let select = literal(one(g, cs, sh::SELECT)).ok_or_else(|| {
                    Error::invalid(
                        format!("{location}: {}", subject_id(cs)),
                        "sh:sparql constraint without sh:select",
                    )
                })?;
                sparql.push(SparqlConstraint {
                    select,
                    message: literal(one(g, cs, sh::MESSAGE)),
                });
            }
            shapes.push(NodeShape {
                id: subject_id(s),
                targets,
                properties,
                sparql,
                severity,
            });
        }
        Ok(Self { shapes, prefixes })
    }

    fn property(g: &Graph, ps: NamedOrBlankNodeRef<'_>, location: &str) -> Result<PropertyShape> {
        let path = match one(g, ps, sh::PATH) {
            Some(TermRef::NamedNode(n)) => Some(Path::Predicate(n.into_owned())),
            Some(t) => {
                let inner = as_subject(t).and_then(|b| named(one(g, b, sh::INVERSE_PATH)));
                match inner {
                    Some(n) => Some(Path::Inverse(n)),
                    None => {
                        return Err(Error::invalid(
                            format!("{location}: {}", subject_id(ps)),
                            "only predicate and inverse paths are supported",
                        ));
                    }
                }
            }
            None => None,
        };
        let count =
            |p: NamedNodeRef<'_>| literal(one(g, ps, p)).and_then(|v| v.parse::<u64>().ok());
        let node_kind = named(one(g, ps, sh::NODE_KIND)).and_then(|n| match n.as_ref() {
            k if k == sh::IRI => Some(NodeKind::Iri),
            k if k == sh::LITERAL => Some(NodeKind::Literal),
            k if k == sh::BLANK_NODE => Some(NodeKind::BlankNode),
            k if k == sh::BLANK_NODE_OR_IRI => Some(NodeKind::BlankNodeOrIri),
            k if k == sh::IRI_OR_LITERAL => Some(NodeKind::IriOrLiteral),
            k if k == sh::BLANK_NODE_OR_LITERAL => Some(NodeKind::BlankNodeOrLiteral),
            _ => None,
        });
        let flags = NamedNodeRef::new_unchecked("http://www.w3.org/ns/shacl#flags");
        Ok(PropertyShape {
            id: subject_id(ps),
            path,
            min_count: count(sh::MIN_COUNT),
            max_count: count(sh::MAX_COUNT),
            datatype: named(one(g, ps, sh::DATATYPE)),
            class: named(one(g, ps, sh::CLASS)),
            node_kind,
            in_values: one(g, ps, sh::IN).map(|l| read_list(g, l)),
            pattern: literal(one(g, ps, sh::PATTERN)).map(|p| (p, literal(one(g, ps, flags)))),
            severity: severity_of(g, ps),
            message: literal(one(g, ps, sh::MESSAGE)),
        })
    }

    /// The number of node shapes.
    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    /// True when there are no shapes.
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    fn prologue(&self) -> String {
        self.prefixes
            .iter()
            .map(|(p, n)| format!("PREFIX {p}: <{n}>\n"))
            .collect()
    }

    /// Validates the data `data` reads (over the union of all graphs).
    ///
    /// With `scope`, only focus nodes typed (or otherwise targeted) inside those graphs are
    /// checked: a load checks what it wrote. Property shapes are checked by pattern lookups,
    /// one per focus node and path; SPARQL constraints run as queries. The work is split
    /// into tasks (SPARQL constraints, and focus nodes in chunks) that run on every core.
    pub fn validate(
        &self,
        data: &dyn ShapeData,
        scope: Option<&[NamedNode]>,
    ) -> Result<ValidationReport> {
        enum Task<'s> {
            Properties(&'s NodeShape, &'s [Term]),
            Sparql(&'s NodeShape),
        }
        let mut focus: Vec<Vec<Term>> = Vec::with_capacity(self.shapes.len());
        for shape in &self.shapes {
            focus.push(if shape.targets.is_empty() {
                Vec::new()
            } else {
                focus_nodes(data, &shape.targets, scope)?
            });
        }
        let mut tasks: Vec<Task<'_>> = Vec::new();
        for shape in &self.shapes {
            if !shape.targets.is_empty() && !shape.sparql.is_empty() {
                tasks.push(Task::Sparql(shape));
            }
        }
        for (shape, nodes) in self.shapes.iter().zip(&focus) {
            for chunk in nodes.chunks(FOCUS_CHUNK) {
                tasks.push(Task::Properties(shape, chunk));
            }
        }
        let run = |task: &Task<'_>| match task {
            Task::Properties(shape, nodes) => self.check_properties(data, shape, nodes),
            Task::Sparql(shape) => self.check_sparql(data, shape, scope),
        };
        let focus_total: usize = focus.iter().map(Vec::len).sum();
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .min(tasks.len());
        let mut results = Vec::new();
        if threads <= 1 || focus_total < FOCUS_CHUNK {
            for task in &tasks {
                results.extend(run(task)?);
            }
        } else {
            let next = std::sync::atomic::AtomicUsize::new(0);
            let outcomes: Vec<Result<Vec<ValidationResult>>> = std::thread::scope(|s| {
                let workers: Vec<_> = (0..threads)
                    .map(|_| {
                        s.spawn(|| {
                            let mut out = Vec::new();
                            loop {
                                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some(task) = tasks.get(i) else { break };
                                out.extend(run(task)?);
                            }
                            Ok(out)
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .map(|w| {
                        w.join()
                            .unwrap_or_else(|_| Err(Error::Query("validation failed".into())))
                    })
                    .collect()
            });
            for outcome in outcomes {
                results.extend(outcome?);
            }
        }
        results.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.focus_node.cmp(&b.focus_node))
                .then_with(|| a.path.cmp(&b.path))
                .then_with(|| a.value.cmp(&b.value))
                .then_with(|| a.constraint.cmp(&b.constraint))
                .then_with(|| a.source_shape.cmp(&b.source_shape))
                .then_with(|| a.message.cmp(&b.message))
        });
        results.dedup();
        Ok(ValidationReport {
            conforms: results.is_empty(),
            results,
        })
    }

    /// The property shapes of `shape`, checked on `focus_nodes`.
    fn check_properties(
        &self,
        data: &dyn ShapeData,
        shape: &NodeShape,
        focus_nodes: &[Term],
    ) -> Result<Vec<ValidationResult>> {
        let mut results = Vec::new();
        let mut members: HashMap<(Term, NamedNode), bool> = HashMap::new();
        let shown_paths: Vec<String> = shape
            .properties
            .iter()
            .map(|ps| ps.path.as_ref().map(Path::display).unwrap_or_default())
            .collect();
        let patterns: Vec<Option<regex::Regex>> = shape
            .properties
            .iter()
            .map(|ps| match &ps.pattern {
                Some((re, flags)) => compile_pattern(re, flags.as_deref()),
                None => None,
            })
            .collect();
        for focus in focus_nodes {
            // One lookup for every outgoing value of the focus node, grouped by predicate.
            let outgoing = outgoing_values(data, focus)?;
            for ((ps, pattern), shown) in shape.properties.iter().zip(&patterns).zip(&shown_paths) {
                let Some(path) = &ps.path else { continue };
                let severity = ps.severity.unwrap_or(Severity::Violation);
                let inverse;
                let values: &[Term] = match path {
                    Path::Predicate(p) => outgoing.get(p).map_or(&[], Vec::as_slice),
                    Path::Inverse(_) => {
                        inverse = path_values(data, focus, path)?;
                        &inverse
                    }
                };
                let mut report = |component: &str,
                                  default_message: String,
                                  value: Option<&Term>,
                                  count: Option<usize>| {
                    let value = value.map(ToString::to_string);
                    let count = count.map(|c| c.to_string());
                    let template = ps.message.clone().unwrap_or(default_message);
                    results.push(ValidationResult {
                        message: interpolate(&template, focus, value.as_deref(), count.as_deref()),
                        focus_node: focus.to_string(),
                        path: Some(shown.clone()),
                        value,
                        severity,
                        source_shape: ps.id.clone(),
                        constraint: component.to_owned(),
                    });
                };
                if let Some(n) = ps.min_count.filter(|n| *n > 0)
                    && (values.len() as u64) < n
                {
                    report(
                        "sh:MinCountConstraintComponent",
                        format!("expected at least {n} value(s) of {shown}, found {{?count}}"),
                        None,
                        Some(values.len()),
                    );
                }
                if let Some(n) = ps.max_count
                    && (values.len() as u64) > n
                {
                    report(
                        "sh:MaxCountConstraintComponent",
                        format!("expected at most {n} value(s) of {shown}, found {{?count}}"),
                        None,
                        Some(values.len()),
                    );
                }
                for value in values {
                    if let Some(dt) = &ps.datatype {
                        let ok = matches!(value, Term::Literal(l) if l.datatype() == dt.as_ref());
                        if !ok {
                            report(
                                "sh:DatatypeConstraintComponent",
                                format!("value {{?value}} of {shown} is not a {dt}"),
                                Some(value),
                                None,
                            );
                        }
                    }
                    if let Some(class) = &ps.class {
                        let key = (value.clone(), class.clone());
                        let is_member = match members.get(&key) {
                            Some(m) => *m,
                            None => {
                                let m = has_type(data, value, class)?;
                                members.insert(key, m);
                                m
                            }
                        };
                        if !is_member {
                            report(
                                "sh:ClassConstraintComponent",
                                format!(
                                    "value {{?value}} of {shown} is not an instance of {class}"
                                ),
                                Some(value),
                                None,
                            );
                        }
                    }
                    if let Some(kind) = &ps.node_kind
                        && !kind.accepts(value)
                    {
                        report(
                            "sh:NodeKindConstraintComponent",
                            format!("value {{?value}} of {shown} has the wrong node kind"),
                            Some(value),
                            None,
                        );
                    }
                    if let Some(list) = &ps.in_values
                        && !list.contains(value)
                    {
                        let shown_list: Vec<String> =
                            list.iter().map(ToString::to_string).collect();
                        report(
                            "sh:InConstraintComponent",
                            format!(
                                "value {{?value}} of {shown} is not one of {}",
                                shown_list.join(", ")
                            ),
                            Some(value),
                            None,
                        );
                    }
                    if let (Some((source, _)), Some(re)) = (&ps.pattern, &pattern) {
                        let ok = match value {
                            Term::BlankNode(_) => false,
                            Term::NamedNode(n) => re.is_match(n.as_str()),
                            Term::Literal(l) => re.is_match(l.value()),
                        };
                        if !ok {
                            report(
                                "sh:PatternConstraintComponent",
                                format!("value {{?value}} of {shown} does not match {source}"),
                                Some(value),
                                None,
                            );
                        }
                    }
                }
            }
        }
        Ok(results)
    }

    /// The SPARQL constraints of `shape`, on its targets in `scope`.
    fn check_sparql(
        &self,
        data: &dyn ShapeData,
        shape: &NodeShape,
        scope: Option<&[NamedNode]>,
    ) -> Result<Vec<ValidationResult>> {
        let mut results = Vec::new();
        let targets = target_query(&shape.targets, scope);
        if !shape.sparql.is_empty() {
            let target_set: HashSet<Term> = data
                .select(&format!("SELECT DISTINCT ?this WHERE {{ {targets} }}"))?
                .into_iter()
                .filter_map(|row| row.get("this").cloned())
                .collect();
            for c in &shape.sparql {
                let select = c.select.replace("$this", "?this");
                // Start the query from the shape's targets (in scope), so that a load
                // pays for what it wrote, not for the whole store.
                let select = match select.find("WHERE").or_else(|| select.find("where")) {
                    Some(at) if select[at + 5..].trim_start().starts_with('{') => {
                        let brace = at + 5 + select[at + 5..].find('{').unwrap_or(0);
                        format!(
                            "{}{{ {targets} }} {}",
                            &select[..=brace],
                            &select[brace + 1..]
                        )
                    }
                    _ => select,
                };
                let query = format!("{}{select}", self.prologue());
                for row in data.select(&query)? {
                    let Some(focus) = row.get("this").cloned() else {
                        continue;
                    };
                    if !target_set.contains(&focus) {
                        continue;
                    }
                    let value = row.get("value").map(ToString::to_string);
                    let template = row
                        .get("message")
                        .and_then(|m| match m {
                            Term::Literal(l) => Some(l.value().to_owned()),
                            _ => None,
                        })
                        .or_else(|| c.message.clone())
                        .unwrap_or_else(|| "SPARQL constraint not satisfied".to_owned());
                    results.push(ValidationResult {
                        message: interpolate(&template, &focus, value.as_deref(), None),
                        focus_node: focus.to_string(),
                        path: row.get("path").map(ToString::to_string),
                        value,
                        severity: shape.severity,
                        source_shape: shape.id.clone(),
                        constraint: "sh:SPARQLConstraintComponent".to_owned(),
                    });
                }
            }
        }
        Ok(results)
    }
}

fn target_query(targets: &[Target], scope: Option<&[NamedNode]>) -> String {
    let scoped = |pattern: String| match scope {
        None => pattern,
        Some(graphs) => {
            let values: Vec<String> = graphs.iter().map(ToString::to_string).collect();
            format!(
                "GRAPH ?scope {{ {pattern} }} VALUES ?scope {{ {} }}",
                values.join(" ")
            )
        }
    };
    let parts: Vec<String> = targets
        .iter()
        .map(|t| match t {
            Target::Class(c) => format!("{{ {} }}", scoped(format!("?this a {c} ."))),
            Target::Node(n) => format!("{{ VALUES ?this {{ {n} }} }}"),
            Target::SubjectsOf(p) => format!("{{ {} }}", scoped(format!("?this {p} [] ."))),
            Target::ObjectsOf(p) => format!("{{ {} }}", scoped(format!("[] {p} ?this ."))),
        })
        .collect();
    parts.join(" UNION ")
}

fn interpolate(template: &str, focus: &Term, value: Option<&str>, count: Option<&str>) -> String {
    template
        .replace("{$this}", &focus.to_string())
        .replace("{?this}", &focus.to_string())
        .replace("{?value}", value.unwrap_or(""))
        .replace("{$value}", value.unwrap_or(""))
        .replace("{?count}", count.unwrap_or("0"))
}
