//! Refuses query shapes that no timeout can stop in time.
//!
//! The SPARQL engine checks its cancellation token when it reads the store, not while it
//! combines rows already in memory; and an aggregate keeps draining its input after an
//! error. A cartesian product of unrestricted patterns (`?a ?b ?c . ?d ?e ?f`) is therefore
//! computed to the end whatever the deadline says, and grows as the store's size to the power
//! of the number of factors. Such products are refused before evaluation. A pattern is
//! unrestricted when its subject, predicate and object are all variables; a product needs at
//! least two groups of patterns that share no variable, each group holding one.

use std::collections::BTreeSet;

use spargebra::algebra::{Expression, GraphPattern};
use spargebra::term::{NamedNodePattern, TermPattern, TriplePattern};

use crate::error::{Error, Result};

/// Fails when the query holds a cartesian product of unrestricted patterns.
pub fn check_query(query: &spargebra::Query) -> Result<()> {
    let pattern = match query {
        spargebra::Query::Select { pattern, .. }
        | spargebra::Query::Construct { pattern, .. }
        | spargebra::Query::Describe { pattern, .. }
        | spargebra::Query::Ask { pattern, .. } => pattern,
    };
    check_pattern(pattern)
}

/// The same check for a pattern (an update's WHERE clause).
pub fn check_pattern(pattern: &GraphPattern) -> Result<()> {
    let mut triples = Vec::new();
    collect_join(pattern, &mut triples)?;
    check_product(&triples)
}

fn var(t: &TermPattern) -> Option<&str> {
    match t {
        TermPattern::Variable(v) => Some(v.as_str()),
        _ => None,
    }
}

fn vars(t: &TriplePattern) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    out.extend(var(&t.subject));
    if let NamedNodePattern::Variable(v) = &t.predicate {
        out.insert(v.as_str());
    }
    out.extend(var(&t.object));
    out
}

fn unrestricted(t: &TriplePattern) -> bool {
    var(&t.subject).is_some()
        && matches!(t.predicate, NamedNodePattern::Variable(_))
        && var(&t.object).is_some()
}

/// Groups the triple patterns of one join by shared variables and refuses a product of two
/// or more groups that each hold an unrestricted pattern.
fn check_product(triples: &[&TriplePattern]) -> Result<()> {
    let n = triples.len();
    let mut group: Vec<usize> = (0..n).collect();
    fn root(g: &mut [usize], mut i: usize) -> usize {
        while g[i] != i {
            g[i] = g[g[i]];
            i = g[i];
        }
        i
    }
    let sets: Vec<BTreeSet<&str>> = triples.iter().map(|t| vars(t)).collect();
    for i in 0..n {
        for j in i + 1..n {
            if !sets[i].is_disjoint(&sets[j]) {
                let (a, b) = (root(&mut group, i), root(&mut group, j));
                group[a] = b;
            }
        }
    }
    let mut open_groups = BTreeSet::new();
    for (i, t) in triples.iter().enumerate() {
        if unrestricted(t) {
            open_groups.insert(root(&mut group, i));
        }
    }
    if open_groups.len() >= 2 {
        return Err(Error::Refused(
            "the query joins unrestricted patterns (such as ?s ?p ?o) that share no variable: \
             a cartesian product of the whole store that no timeout can stop in time; \
             connect the patterns with a shared variable or bind a term"
                .into(),
        ));
    }
    Ok(())
}

/// Collects the triple patterns joined at this level, checking nested patterns on the way.
fn collect_join<'a>(p: &'a GraphPattern, out: &mut Vec<&'a TriplePattern>) -> Result<()> {
    match p {
        GraphPattern::Bgp { patterns } => out.extend(patterns.iter()),
        GraphPattern::Join { left, right } => {
            collect_join(left, out)?;
            collect_join(right, out)?;
        }
        GraphPattern::Filter { expr, inner } => {
            check_expression(expr)?;
            collect_join(inner, out)?;
        }
        GraphPattern::Extend {
            inner, expression, ..
        } => {
            check_expression(expression)?;
            collect_join(inner, out)?;
        }
        GraphPattern::Graph { inner, .. } => collect_join(inner, out)?,
        GraphPattern::LeftJoin {
            left,
            right,
            expression,
        } => {
            if let Some(e) = expression {
                check_expression(e)?;
            }
            collect_join(left, out)?;
            check_pattern(right)?;
        }
        GraphPattern::Lateral { left, right }
        | GraphPattern::Union { left, right }
        | GraphPattern::Minus { left, right } => {
            check_pattern(left)?;
            check_pattern(right)?;
        }
        GraphPattern::OrderBy { inner, .. }
        | GraphPattern::Project { inner, .. }
        | GraphPattern::Distinct { inner }
        | GraphPattern::Reduced { inner }
        | GraphPattern::Slice { inner, .. }
        | GraphPattern::Group { inner, .. }
        | GraphPattern::Service { inner, .. } => check_pattern(inner)?,
        GraphPattern::Path { .. } | GraphPattern::Values { .. } => {}
    }
    Ok(())
}

fn check_expression(e: &Expression) -> Result<()> {
    let mut result = Ok(());
    expression_patterns(e, &mut |p| {
        if result.is_ok() {
            result = check_pattern(p);
        }
    });
    result
}

/// The pattern a query evaluates.
pub(crate) fn query_pattern(query: &spargebra::Query) -> &GraphPattern {
    match query {
        spargebra::Query::Select { pattern, .. }
        | spargebra::Query::Construct { pattern, .. }
        | spargebra::Query::Describe { pattern, .. }
        | spargebra::Query::Ask { pattern, .. } => pattern,
    }
}

/// Visits `pattern` and every pattern nested in it, those inside expressions (EXISTS in a
/// FILTER, a BIND, an ORDER BY or an aggregate) included.
pub(crate) fn walk(pattern: &GraphPattern, visit: &mut impl FnMut(&GraphPattern)) {
    visit(pattern);
    match pattern {
        GraphPattern::Join { left, right }
        | GraphPattern::Union { left, right }
        | GraphPattern::Minus { left, right }
        | GraphPattern::Lateral { left, right } => {
            walk(left, visit);
            walk(right, visit);
        }
        GraphPattern::LeftJoin {
            left,
            right,
            expression,
        } => {
            walk(left, visit);
            walk(right, visit);
            if let Some(e) = expression {
                walk_expression(e, visit);
            }
        }
        GraphPattern::Filter { expr, inner } => {
            walk_expression(expr, visit);
            walk(inner, visit);
        }
        GraphPattern::Extend {
            inner, expression, ..
        } => {
            walk_expression(expression, visit);
            walk(inner, visit);
        }
        GraphPattern::OrderBy { inner, expression } => {
            for e in expression {
                match e {
                    spargebra::algebra::OrderExpression::Asc(e)
                    | spargebra::algebra::OrderExpression::Desc(e) => walk_expression(e, visit),
                }
            }
            walk(inner, visit);
        }
        GraphPattern::Group {
            inner, aggregates, ..
        } => {
            for (_, a) in aggregates {
                if let spargebra::algebra::AggregateExpression::FunctionCall { expr, .. } = a {
                    walk_expression(expr, visit);
                }
            }
            walk(inner, visit);
        }
        GraphPattern::Graph { inner, .. }
        | GraphPattern::Project { inner, .. }
        | GraphPattern::Distinct { inner }
        | GraphPattern::Reduced { inner }
        | GraphPattern::Slice { inner, .. }
        | GraphPattern::Service { inner, .. } => walk(inner, visit),
        GraphPattern::Bgp { .. } | GraphPattern::Path { .. } | GraphPattern::Values { .. } => {}
    }
}

fn walk_expression(e: &Expression, visit: &mut impl FnMut(&GraphPattern)) {
    expression_patterns(e, &mut |p| walk(p, visit));
}

/// Calls `f` on each pattern an expression holds (the patterns of EXISTS and NOT EXISTS),
/// without descending into them.
fn expression_patterns(e: &Expression, f: &mut impl FnMut(&GraphPattern)) {
    match e {
        Expression::Exists(p) => f(p),
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
            expression_patterns(a, f);
            expression_patterns(b, f);
        }
        Expression::UnaryPlus(a) | Expression::UnaryMinus(a) | Expression::Not(a) => {
            expression_patterns(a, f)
        }
        Expression::If(a, b, c) => {
            expression_patterns(a, f);
            expression_patterns(b, f);
            expression_patterns(c, f);
        }
        Expression::In(a, list) => {
            expression_patterns(a, f);
            for e in list {
                expression_patterns(e, f);
            }
        }
        Expression::Coalesce(list) | Expression::FunctionCall(_, list) => {
            for e in list {
                expression_patterns(e, f);
            }
        }
        Expression::NamedNode(_)
        | Expression::Literal(_)
        | Expression::Variable(_)
        | Expression::Bound(_) => {}
    }
}

/// Whether a query reads named graphs (a GRAPH pattern anywhere in it).
pub(crate) fn reads_named_graphs(query: &spargebra::Query) -> bool {
    let mut found = false;
    walk(query_pattern(query), &mut |p| {
        found |= matches!(p, GraphPattern::Graph { .. });
    });
    found
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn check(q: &str) -> Result<()> {
        check_query(&spargebra::SparqlParser::new().parse_query(q).unwrap())
    }

    #[test]
    fn products_of_unrestricted_patterns_are_refused() {
        for q in [
            "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }",
            "SELECT * WHERE { ?a ?b ?c { ?d ?e ?f } }",
            "SELECT * WHERE { GRAPH ?g { ?a ?b ?c } ?d ?e ?f }",
            "ASK { FILTER EXISTS { ?a ?b ?c . ?d ?e ?f } }",
            "SELECT * WHERE { { SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } } }",
        ] {
            assert!(matches!(check(q), Err(Error::Refused(_))), "{q}");
        }
    }

    #[test]
    fn graph_patterns_are_found_wherever_they_sit() {
        let parse = |q: &str| spargebra::SparqlParser::new().parse_query(q).unwrap();
        for q in [
            "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
            "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { GRAPH <urn:g> { ?s ?p ?o } } }",
            "SELECT * WHERE { ?s ?p ?o } ORDER BY (EXISTS { GRAPH ?g { ?s ?p ?o } })",
            "SELECT (SUM(IF(EXISTS { GRAPH ?g { ?s ?p ?o } }, 1, 0)) AS ?n) WHERE { ?s ?p ?o }",
            "SELECT * WHERE { ?s ?p ?o OPTIONAL { ?o ?q ?r FILTER NOT EXISTS { GRAPH ?g {} } } }",
            "ASK { { SELECT ?s { GRAPH ?g { ?s ?p ?o } } } }",
            "SELECT * WHERE { ?s ?p ?o BIND(COALESCE(EXISTS { GRAPH ?g { ?s ?p ?o } }) AS ?x) }",
        ] {
            let parsed = spargebra::SparqlParser::new()
                .parse_query(q)
                .unwrap_or_else(|e| panic!("{q}: {e}"));
            assert!(reads_named_graphs(&parsed), "{q}");
        }
        for q in [
            "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { ?o ?q ?r } }",
            "CONSTRUCT { ?s ?p ?o } WHERE { ?s <urn:p>* ?o }",
            "DESCRIBE <urn:x>",
        ] {
            assert!(!reads_named_graphs(&parse(q)), "{q}");
        }
    }

    #[test]
    fn connected_or_restricted_patterns_pass() {
        for q in [
            "SELECT * WHERE { ?s ?p ?o }",
            "SELECT * WHERE { ?a ?b ?c . ?c ?d ?e }",
            "SELECT * WHERE { ?a a <urn:T> . ?b a <urn:U> }",
            "SELECT * WHERE { ?a ?b ?c . <urn:x> ?p ?o }",
            "SELECT * WHERE { { ?a ?b ?c } UNION { ?d ?e ?f } }",
            "SELECT * WHERE { ?a ?b ?c OPTIONAL { ?c ?d ?e } }",
        ] {
            assert!(check(q).is_ok(), "{q}");
        }
    }
}
