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

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use oxigraph::io::{RdfFormat, RdfParser};
use oxigraph::model::{
    Graph, NamedNode, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, Term, TermRef, Triple,
};
use oxigraph::sparql::QuerySolution;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::vocab::{self, rdf, sh};

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
    fn pattern(&self) -> String {
        match self {
            Self::Predicate(p) => format!("?this {p} ?value ."),
            Self::Inverse(p) => format!("?value {p} ?this ."),
        }
    }
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
    fn filter(&self) -> &'static str {
        match self {
            Self::Iri => "isIRI(?value)",
            Self::Literal => "isLiteral(?value)",
            Self::BlankNode => "isBlank(?value)",
            Self::BlankNodeOrIri => "(isBlank(?value) || isIRI(?value))",
            Self::IriOrLiteral => "(isIRI(?value) || isLiteral(?value))",
            Self::BlankNodeOrLiteral => "(isBlank(?value) || isLiteral(?value))",
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

    /// Validates the data that `select` queries (over the union of all graphs).
    ///
    /// With `scope`, only focus nodes typed (or otherwise targeted) inside those graphs are
    /// checked: a load checks what it wrote. `select` runs one SPARQL SELECT query and
    /// returns its solutions.
    pub fn validate(
        &self,
        select: &dyn Fn(&str) -> Result<Vec<QuerySolution>>,
        scope: Option<&[NamedNode]>,
    ) -> Result<ValidationReport> {
        let mut results = Vec::new();
        for shape in &self.shapes {
            if shape.targets.is_empty() {
                continue;
            }
            let targets = target_query(&shape.targets, scope);
            for ps in &shape.properties {
                let Some(path) = &ps.path else { continue };
                let severity = ps.severity.unwrap_or(Severity::Violation);
                for (component, query, default_message) in property_checks(&targets, ps, path) {
                    for row in select(&query)? {
                        let Some(focus) = row.get("this").cloned() else {
                            continue;
                        };
                        let value = row.get("value").map(ToString::to_string);
                        let count = row.get("count").map(|t| match t {
                            Term::Literal(l) => l.value().to_owned(),
                            other => other.to_string(),
                        });
                        let template = ps
                            .message
                            .clone()
                            .unwrap_or_else(|| default_message.clone());
                        results.push(ValidationResult {
                            message: interpolate(
                                &template,
                                &focus,
                                value.as_deref(),
                                count.as_deref(),
                            ),
                            focus_node: focus.to_string(),
                            path: Some(path.display()),
                            value,
                            severity,
                            source_shape: ps.id.clone(),
                            constraint: component.to_owned(),
                        });
                    }
                }
            }
            if !shape.sparql.is_empty() {
                let target_set: HashSet<Term> =
                    select(&format!("SELECT DISTINCT ?this WHERE {{ {targets} }}"))?
                        .into_iter()
                        .filter_map(|row| row.get("this").cloned())
                        .collect();
                for c in &shape.sparql {
                    let query =
                        format!("{}{}", self.prologue(), c.select.replace("$this", "?this"));
                    for row in select(&query)? {
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
        }
        results.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.focus_node.cmp(&b.focus_node))
                .then_with(|| a.path.cmp(&b.path))
                .then_with(|| a.value.cmp(&b.value))
        });
        results.dedup();
        Ok(ValidationReport {
            conforms: results.is_empty(),
            results,
        })
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

fn sparql_string(s: &str) -> String {
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

fn property_checks(
    targets: &str,
    ps: &PropertyShape,
    path: &Path,
) -> Vec<(&'static str, String, String)> {
    let focus = format!("{{ SELECT DISTINCT ?this WHERE {{ {targets} }} }}");
    let pattern = path.pattern();
    let shown = path.display();
    let mut checks = Vec::new();
    if let Some(n) = ps.min_count.filter(|n| *n > 0) {
        checks.push((
            "sh:MinCountConstraintComponent",
            format!(
                "SELECT ?this (COUNT(DISTINCT ?value) AS ?count) WHERE {{ {focus} OPTIONAL {{ {pattern} }} }} \
                 GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {n})"
            ),
            format!("expected at least {n} value(s) of {shown}, found {{?count}}"),
        ));
    }
    if let Some(n) = ps.max_count {
        checks.push((
            "sh:MaxCountConstraintComponent",
            format!(
                "SELECT ?this (COUNT(DISTINCT ?value) AS ?count) WHERE {{ {focus} {pattern} }} \
                 GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {n})"
            ),
            format!("expected at most {n} value(s) of {shown}, found {{?count}}"),
        ));
    }
    let per_value = |filter: String| {
        format!("SELECT DISTINCT ?this ?value WHERE {{ {focus} {pattern} FILTER({filter}) }}")
    };
    if let Some(dt) = &ps.datatype {
        checks.push((
            "sh:DatatypeConstraintComponent",
            per_value(format!("!isLiteral(?value) || datatype(?value) != {dt}")),
            format!("value {{?value}} of {shown} is not a {dt}"),
        ));
    }
    if let Some(class) = &ps.class {
        checks.push((
            "sh:ClassConstraintComponent",
            format!(
                "SELECT DISTINCT ?this ?value WHERE {{ {focus} {pattern} FILTER NOT EXISTS {{ ?value a {class} }} }}"
            ),
            format!("value {{?value}} of {shown} is not an instance of {class}"),
        ));
    }
    if let Some(kind) = &ps.node_kind {
        checks.push((
            "sh:NodeKindConstraintComponent",
            per_value(format!("!{}", kind.filter())),
            format!("value {{?value}} of {shown} has the wrong node kind"),
        ));
    }
    if let Some(values) = &ps.in_values {
        let list: Vec<String> = values.iter().map(ToString::to_string).collect();
        checks.push((
            "sh:InConstraintComponent",
            per_value(format!("?value NOT IN ({})", list.join(", "))),
            format!(
                "value {{?value}} of {shown} is not one of {}",
                list.join(", ")
            ),
        ));
    }
    if let Some((pattern_re, flags)) = &ps.pattern {
        let flags = flags
            .as_deref()
            .map(|f| format!(", {}", sparql_string(f)))
            .unwrap_or_default();
        checks.push((
            "sh:PatternConstraintComponent",
            per_value(format!(
                "isBlank(?value) || !regex(str(?value), {}{flags})",
                sparql_string(pattern_re)
            )),
            format!("value {{?value}} of {shown} does not match {pattern_re}"),
        ));
    }
    checks
}

fn interpolate(template: &str, focus: &Term, value: Option<&str>, count: Option<&str>) -> String {
    template
        .replace("{$this}", &focus.to_string())
        .replace("{?this}", &focus.to_string())
        .replace("{?value}", value.unwrap_or(""))
        .replace("{$value}", value.unwrap_or(""))
        .replace("{?count}", count.unwrap_or("0"))
}
