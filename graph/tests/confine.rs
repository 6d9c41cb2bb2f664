//! A tenant's lookups are answered by filtered GRAPH patterns instead of one read per visible
//! graph. The answers must be exactly those of the plain path: each query here runs as the
//! tenant as written (the rewritten path where it qualifies) and again with its dataset
//! spelled out as FROM clauses over the tenant's visible graphs (always the plain path).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use govgraph_graph::oxigraph::io::RdfFormat;
use govgraph_graph::oxigraph::sparql::QueryResults;
use govgraph_graph::{GraphStore, LoadSource, QueryOptions, Scope, StoreConfig};

const ACME_CRM: &str = r#"
<urn:ex:shared> <urn:ex:label> "acme crm" ; <urn:ex:links> <urn:ex:orders> .
<urn:ex:orders> <urn:ex:label> "orders" ; <urn:ex:owner> <urn:ex:ada> .
<urn:ex:ada> <urn:ex:name> "Ada" .
"#;

const ACME_ERP: &str = r#"
<urn:ex:shared> <urn:ex:label> "acme erp" .
<urn:ex:orders> <urn:ex:label> "orders" ; <urn:ex:rows> 12 .
<urn:ex:lines> <urn:ex:partOf> <urn:ex:orders> .
"#;

const BETA: &str = r#"
<urn:ex:shared> <urn:ex:label> "beta secret" ; <urn:ex:links> <urn:ex:payroll> .
<urn:ex:orders> <urn:ex:owner> <urn:ex:mallory> .
<urn:ex:payroll> <urn:ex:partOf> <urn:ex:orders> .
"#;

fn store() -> GraphStore {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    for (name, ttl) in [
        ("tenant:acme:crm", ACME_CRM),
        ("tenant:acme:erp", ACME_ERP),
        ("tenant:beta:hr", BETA),
        ("global", BETA),
    ] {
        store
            .load_one(LoadSource::from_bytes(
                name,
                &format!("{name}.ttl"),
                RdfFormat::Turtle,
                ttl,
            ))
            .unwrap();
    }
    store
}

/// Every answer as sorted text: solutions, a boolean, or triples.
fn answers(store: &GraphStore, sparql: &str, scope: &Scope) -> Vec<String> {
    let outcome = store
        .query_in(sparql, &QueryOptions::default(), scope)
        .unwrap_or_else(|e| panic!("{sparql}: {e}"));
    let mut out: Vec<String> = match outcome.results {
        QueryResults::Solutions(s) => s
            .map(|s| {
                let s = s.unwrap();
                let mut row: Vec<String> = s.iter().map(|(v, t)| format!("{v}={t}")).collect();
                row.sort();
                row.join(" ")
            })
            .collect(),
        QueryResults::Boolean(b) => vec![b.to_string()],
        QueryResults::Graph(g) => g.map(|t| t.unwrap().to_string()).collect(),
    };
    out.sort();
    out
}

const CASES: &[&str] = &[
    "SELECT ?p ?o WHERE { <urn:ex:shared> ?p ?o }",
    "SELECT * WHERE { ?s ?p <urn:ex:orders> }",
    "SELECT ?l ?n WHERE { <urn:ex:orders> <urn:ex:label> ?l ; <urn:ex:owner> ?o . ?o ?q ?n }",
    "SELECT ?l WHERE { <urn:ex:shared> <urn:ex:label> ?l OPTIONAL { <urn:ex:shared> <urn:ex:links> ?x } }",
    "SELECT ?o WHERE { { <urn:ex:shared> ?p ?o } UNION { <urn:ex:orders> ?p ?o } }",
    "SELECT ?o WHERE { <urn:ex:orders> ?p ?o FILTER NOT EXISTS { <urn:ex:orders> <urn:ex:owner> ?o } }",
    "SELECT ?o WHERE { <urn:ex:orders> ?p ?o MINUS { <urn:ex:orders> <urn:ex:rows> ?o } }",
    "SELECT (COUNT(*) AS ?n) WHERE { <urn:ex:shared> ?p ?o }",
    "SELECT DISTINCT ?o WHERE { <urn:ex:orders> <urn:ex:label> ?o }",
    "SELECT ?o WHERE { { SELECT ?o WHERE { <urn:ex:orders> ?p ?o } ORDER BY ?o LIMIT 2 } }",
    "ASK { <urn:ex:payroll> ?p ?o }",
    "ASK { <urn:ex:lines> ?p <urn:ex:orders> }",
    "CONSTRUCT { <urn:ex:shared> ?p ?o } WHERE { <urn:ex:shared> ?p ?o }",
    "SELECT ?s WHERE { ?s ?p 'beta secret' }",
    // Not rewritten (a scan, a class lookup, a path): the plain path either way.
    "SELECT ?s WHERE { ?s <urn:ex:partOf> <urn:ex:orders> }",
    "SELECT ?o WHERE { <urn:ex:shared> <urn:ex:links>/<urn:ex:owner> ?o }",
];

/// Runs every case as acme, rewritten and plain, and checks they agree and leak nothing.
fn check_cases(store: &GraphStore) {
    let acme = Scope::tenant("acme").unwrap();
    let from: String = store
        .visible_graphs(&acme)
        .unwrap()
        .iter()
        .map(|g| format!("FROM <{}> ", g.as_str()))
        .collect();
    for q in CASES {
        let rewritten = answers(store, q, &acme);
        let at = q.find("WHERE").or_else(|| q.find('{')).unwrap();
        let (head, body) = q.split_at(at);
        let plain = answers(store, &format!("{head}{from}{body}"), &acme);
        assert_eq!(rewritten, plain, "{q}");
        let text = rewritten.join("\n");
        for secret in ["beta secret", "mallory", "payroll"] {
            assert!(!text.contains(secret), "{q} leaked {secret}: {text}");
        }
    }
}

/// How many named graphs acme may read, and how many it may not.
fn split(store: &GraphStore) -> (usize, usize) {
    let visible = store
        .visible_graphs(&Scope::tenant("acme").unwrap())
        .unwrap()
        .len();
    let all = store.raw().named_graphs().count();
    (visible, all - visible)
}

#[test]
fn rewritten_lookups_answer_as_the_plain_path_and_never_leak() {
    let store = store();
    let acme = Scope::tenant("acme").unwrap();
    // acme may read most of this store's graphs, so its lookups name those it may not.
    let (visible, hidden) = split(&store);
    assert!(hidden < visible, "{visible} visible, {hidden} hidden");
    check_cases(&store);
    // The rewrite finds what the tenant has, in every visible graph.
    assert_eq!(
        answers(
            &store,
            "SELECT ?l WHERE { <urn:ex:shared> <urn:ex:label> ?l }",
            &acme
        ),
        ["?l=\"acme crm\"", "?l=\"acme erp\""]
    );
    // Another tenant, and the unscoped view, see their own.
    assert_eq!(
        answers(
            &store,
            "SELECT ?l WHERE { <urn:ex:shared> <urn:ex:label> ?l }",
            &Scope::tenant("beta").unwrap()
        ),
        ["?l=\"beta secret\""]
    );
    assert_eq!(
        answers(&store, "ASK { <urn:ex:payroll> ?p ?o }", &Scope::all()),
        ["true"]
    );
}

#[test]
fn many_tenants_and_new_graphs_keep_each_tenant_to_its_own() {
    let store = store();
    // Another tenant's graph arrives after acme's graph lists were cached: acme must not see
    // it, whichever way its lookups name graphs.
    check_cases(&store);
    store
        .load_one(LoadSource::from_bytes(
            "tenant:beta:payroll",
            "payroll.ttl",
            RdfFormat::Turtle,
            BETA,
        ))
        .unwrap();
    check_cases(&store);
    // Many tenants: acme may read few of the graphs, so its lookups name those it may read.
    for i in 0..8 {
        let name = format!("tenant:t{i}:data");
        store
            .load_one(LoadSource::from_bytes(
                &name,
                "data.ttl",
                RdfFormat::Turtle,
                BETA,
            ))
            .unwrap();
    }
    let (visible, hidden) = split(&store);
    assert!(hidden > visible, "{visible} visible, {hidden} hidden");
    check_cases(&store);
    assert_eq!(
        answers(
            &store,
            "SELECT ?l WHERE { <urn:ex:shared> <urn:ex:label> ?l }",
            &Scope::tenant("acme").unwrap()
        ),
        ["?l=\"acme crm\"", "?l=\"acme erp\""]
    );
}
