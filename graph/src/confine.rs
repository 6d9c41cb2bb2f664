//! A faster way to confine a tenant's lookups.
//!
//! A tenant's default graph is the union of its visible graphs. Given as a list, the engine
//! reads a triple pattern once per visible graph: a point lookup such as `<e> ?p ?o` costs as
//! many index seeks as the tenant has graphs. When every triple pattern of a query is a
//! lookup (its subject an IRI, or its object an IRI under a variable predicate), each
//! pattern `tp` is rewritten instead into
//! `GRAPH ?h { tp } FILTER(?h IN (visible graphs))`, with `?h` a variable that no query text
//! can name: one seek over all graphs, and the quads of graphs the tenant may not read are
//! dropped before they join anything. The query's own default graph is then set empty, so a
//! pattern the rewrite missed reads nothing rather than too much.
//!
//! Each constant in that list costs the engine a store lookup when it plans the query. When
//! the tenant may read all but a few of the store's graphs (a store that holds one tenant,
//! or few), the filter names the graphs it may not read instead:
//! `FILTER(?h NOT IN (hidden graphs))`, or no filter at all when it may read every graph.
//! That is the same set only while no write adds a graph, so the caller uses it only on a
//! store at rest and checks after planning that no write began meanwhile (see
//! `GraphStore::query_in`).
//!
//! The rewrite applies only where it keeps the answers identical: no GRAPH pattern in the
//! query (it runs with every named graph open, and only its own filtered GRAPH patterns read
//! them), no property path (a path walks one graph at a time), not DESCRIBE (which reads the
//! default graph itself), no FROM or protocol dataset. SERVICE bodies are left as they are:
//! they run elsewhere.

use oxigraph::model::NamedNode;
use spargebra::algebra::{Expression, GraphPattern, OrderExpression};
use spargebra::term::{NamedNodePattern, TermPattern, TriplePattern, Variable};

/// Whether `query` qualifies for [`rewrite`].
pub(crate) fn qualifies(query: &spargebra::Query) -> bool {
    if matches!(query, spargebra::Query::Describe { .. }) {
        return false;
    }
    let mut ok = true;
    crate::guard::walk(crate::guard::query_pattern(query), &mut |p| match p {
        GraphPattern::Bgp { patterns } => ok &= patterns.iter().all(binds_a_term),
        GraphPattern::Path { .. } | GraphPattern::Graph { .. } => ok = false,
        _ => {}
    });
    ok
}

/// A lookup: a triple pattern whose subject is an IRI, or whose object is an IRI under a
/// variable predicate (`?s ?p <e>`), and that holds no blank node (a blank node joins the
/// patterns of its group, which the rewrite splits). A pattern such as `?d a dcat:Dataset`
/// or `?s ?p true` is not one: over all graphs it would read every tenant's matches to keep
/// one tenant's.
fn binds_a_term(t: &TriplePattern) -> bool {
    let iri = |p: &TermPattern| matches!(p, TermPattern::NamedNode(_));
    let blank = |p: &TermPattern| matches!(p, TermPattern::BlankNode(_));
    let open_predicate = matches!(t.predicate, NamedNodePattern::Variable(_));
    (iri(&t.subject) || (iri(&t.object) && open_predicate))
        && !blank(&t.subject)
        && !blank(&t.object)
}

/// Which named graphs a rewritten lookup may match.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Confinement<'a> {
    /// Only these graphs.
    Within(&'a [NamedNode]),
    /// Every graph of the store but these; only sound while the store's graph list is the
    /// one these were computed from.
    Outside(&'a [NamedNode]),
}

/// The test a lookup's graph variable must pass, if any.
struct GraphTest {
    graphs: Vec<Expression>,
    negated: bool,
}

impl GraphTest {
    fn on(&self, h: &Variable) -> Option<Expression> {
        if self.negated && self.graphs.is_empty() {
            return None;
        }
        let test = Expression::In(
            Box::new(Expression::Variable(h.clone())),
            self.graphs.clone(),
        );
        Some(if self.negated {
            Expression::Not(Box::new(test))
        } else {
            test
        })
    }
}

/// Rewrites every default-graph triple pattern of a qualifying query into a GRAPH lookup
/// confined to `graphs`.
pub(crate) fn rewrite(query: &mut spargebra::Query, graphs: Confinement<'_>) {
    let pattern = match query {
        spargebra::Query::Select { pattern, .. }
        | spargebra::Query::Construct { pattern, .. }
        | spargebra::Query::Describe { pattern, .. }
        | spargebra::Query::Ask { pattern, .. } => pattern,
    };
    let (list, negated) = match graphs {
        Confinement::Within(g) => (g, false),
        Confinement::Outside(g) => (g, true),
    };
    let test = GraphTest {
        graphs: list
            .iter()
            .map(|g| Expression::NamedNode(g.clone()))
            .collect(),
        negated,
    };
    let mut next = 0usize;
    rewrite_pattern(pattern, &test, &mut next);
}

fn rewrite_pattern(p: &mut GraphPattern, allowed: &GraphTest, next: &mut usize) {
    match p {
        GraphPattern::Bgp { patterns } => {
            if patterns.is_empty() {
                return;
            }
            let mut joined: Option<GraphPattern> = None;
            for t in std::mem::take(patterns) {
                // A space cannot appear in a variable written in SPARQL text.
                let h = Variable::new_unchecked(format!("gg scope {next}"));
                *next += 1;
                let test = allowed.on(&h);
                let graph = GraphPattern::Graph {
                    name: NamedNodePattern::Variable(h),
                    inner: Box::new(GraphPattern::Bgp { patterns: vec![t] }),
                };
                let lookup = match test {
                    Some(expr) => GraphPattern::Filter {
                        expr,
                        inner: Box::new(graph),
                    },
                    None => graph,
                };
                joined = Some(match joined {
                    None => lookup,
                    Some(left) => GraphPattern::Join {
                        left: Box::new(left),
                        right: Box::new(lookup),
                    },
                });
            }
            if let Some(j) = joined {
                *p = j;
            }
        }
        GraphPattern::Join { left, right }
        | GraphPattern::Union { left, right }
        | GraphPattern::Minus { left, right }
        | GraphPattern::Lateral { left, right } => {
            rewrite_pattern(left, allowed, next);
            rewrite_pattern(right, allowed, next);
        }
        GraphPattern::LeftJoin {
            left,
            right,
            expression,
        } => {
            rewrite_pattern(left, allowed, next);
            rewrite_pattern(right, allowed, next);
            if let Some(e) = expression {
                rewrite_expression(e, allowed, next);
            }
        }
        GraphPattern::Filter { expr, inner } => {
            rewrite_expression(expr, allowed, next);
            rewrite_pattern(inner, allowed, next);
        }
        GraphPattern::Extend {
            inner, expression, ..
        } => {
            rewrite_expression(expression, allowed, next);
            rewrite_pattern(inner, allowed, next);
        }
        GraphPattern::OrderBy { inner, expression } => {
            for e in expression {
                match e {
                    OrderExpression::Asc(e) | OrderExpression::Desc(e) => {
                        rewrite_expression(e, allowed, next);
                    }
                }
            }
            rewrite_pattern(inner, allowed, next);
        }
        GraphPattern::Group {
            inner, aggregates, ..
        } => {
            for (_, a) in aggregates {
                if let spargebra::algebra::AggregateExpression::FunctionCall { expr, .. } = a {
                    rewrite_expression(expr, allowed, next);
                }
            }
            rewrite_pattern(inner, allowed, next);
        }
        GraphPattern::Project { inner, .. }
        | GraphPattern::Distinct { inner }
        | GraphPattern::Reduced { inner }
        | GraphPattern::Slice { inner, .. } => rewrite_pattern(inner, allowed, next),
        // Runs at another endpoint, which gets the pattern as written.
        GraphPattern::Service { .. } => {}
        // Excluded by `qualifies`; left alone, they read the empty default graph.
        GraphPattern::Graph { .. } | GraphPattern::Path { .. } | GraphPattern::Values { .. } => {}
    }
}

fn rewrite_expression(e: &mut Expression, allowed: &GraphTest, next: &mut usize) {
    match e {
        Expression::Exists(p) => rewrite_pattern(p, allowed, next),
        Expression::Or(a, b)
        | Expression::And(a, b)
        | Expression::Equal(a, b)
        | Expression::SameTerm(a, b)
        | Expression::Greater(a, b)
        | Expression::GreaterOrEqual(a, b)
        | Expression::Less(a, b)
        | Expression::LessOrEqual(a, b)
        | Expression::Add(a, b)
        | Expression::Subtract(a, b)
        | Expression::Multiply(a, b)
        | Expression::Divide(a, b) => {
            rewrite_expression(a, allowed, next);
            rewrite_expression(b, allowed, next);
        }
        Expression::UnaryPlus(a) | Expression::UnaryMinus(a) | Expression::Not(a) => {
            rewrite_expression(a, allowed, next);
        }
        Expression::If(a, b, c) => {
            rewrite_expression(a, allowed, next);
            rewrite_expression(b, allowed, next);
            rewrite_expression(c, allowed, next);
        }
        Expression::In(a, list) => {
            rewrite_expression(a, allowed, next);
            for e in list {
                rewrite_expression(e, allowed, next);
            }
        }
        Expression::Coalesce(list) | Expression::FunctionCall(_, list) => {
            for e in list {
                rewrite_expression(e, allowed, next);
            }
        }
        Expression::NamedNode(_)
        | Expression::Literal(_)
        | Expression::Variable(_)
        | Expression::Bound(_) => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn parse(q: &str) -> spargebra::Query {
        spargebra::SparqlParser::new().parse_query(q).unwrap()
    }

    #[test]
    fn lookups_qualify_and_scans_paths_graphs_and_describe_do_not() {
        for q in [
            "SELECT ?p ?o WHERE { <urn:e> ?p ?o }",
            "SELECT * WHERE { <urn:e> ?p ?o . <urn:e> <urn:label> ?l }",
            "ASK { ?s ?p <urn:e> FILTER EXISTS { <urn:e> ?q ?r } }",
            "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p <urn:e> OPTIONAL { <urn:e> ?p ?o } }",
        ] {
            assert!(qualifies(&parse(q)), "{q}");
        }
        for q in [
            "SELECT * WHERE { ?s ?p ?o }",
            "SELECT * WHERE { <urn:e> ?p ?o . ?o ?q ?r }",
            "SELECT * WHERE { ?d a <urn:Dataset> }",
            "SELECT * WHERE { <urn:e> <urn:p>+ ?o }",
            "SELECT * WHERE { GRAPH ?g { <urn:e> ?p ?o } }",
            "SELECT * WHERE { <urn:e> ?p ?o FILTER EXISTS { ?a ?b ?c } }",
            "SELECT * WHERE { <urn:e> <urn:p> _:b . _:b <urn:q> 'x' }",
            "DESCRIBE <urn:e>",
            "SELECT * WHERE { ?s ?p 'x' }",
            // A SERVICE body is not looked into; a scan inside one keeps the slower path.
            "SELECT * WHERE { <urn:e> ?p ?o SERVICE <http://x/sparql> { ?s ?p ?o } }",
        ] {
            assert!(!qualifies(&parse(q)), "{q}");
        }
    }

    #[test]
    fn the_rewrite_filters_every_pattern_and_hides_its_variables() {
        let mut q = parse(
            "SELECT * WHERE { <urn:e> ?p ?o . ?s ?q <urn:e> FILTER NOT EXISTS { <urn:e> <urn:q> ?o } }",
        );
        let graphs = [
            NamedNode::new("urn:g:1").unwrap(),
            NamedNode::new("urn:g:2").unwrap(),
        ];
        let original = q.clone();
        rewrite(&mut q, Confinement::Within(&graphs));
        let text = format!("{q:?}");
        for h in ["gg scope 0", "gg scope 1", "gg scope 2"] {
            assert!(text.contains(h), "{text}");
        }
        // SELECT * was expanded when parsed: the hidden variables are not projected.
        let spargebra::Query::Select { pattern, .. } = &q else {
            panic!()
        };
        let GraphPattern::Project { variables, .. } = pattern else {
            panic!("{pattern:?}")
        };
        assert!(variables.iter().all(|v| !v.as_str().contains(' ')));
        assert_eq!(text.matches("urn:g:2").count(), 3, "{text}");
        assert!(!text.contains("Not(In("), "{text}");

        // Outside a list: each pattern's graph is tested with NOT IN.
        let mut q = original.clone();
        rewrite(&mut q, Confinement::Outside(&graphs[1..]));
        let text = format!("{q:?}");
        assert_eq!(text.matches("urn:g:2").count(), 3, "{text}");
        assert_eq!(text.matches("Not(In(").count(), 3, "{text}");
        assert!(!text.contains("urn:g:1"), "{text}");

        // Outside nothing: plain GRAPH patterns, no filter.
        let mut q = original;
        rewrite(&mut q, Confinement::Outside(&[]));
        let text = format!("{q:?}");
        assert_eq!(text.matches("gg scope").count(), 3, "{text}");
        assert!(!text.contains("In("), "{text}");
    }
}
