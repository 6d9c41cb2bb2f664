//! What the store benches share: a synthetic catalog bulk-loaded into an on-disk store
//! (kept between runs), and process measurements.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Instant;

use govgraph_graph::oxigraph::io::{RdfFormat, RdfParser};
use govgraph_graph::oxigraph::model::NamedNode;
use govgraph_graph::{GraphStore, StoreConfig};
use serde_json::{Value, json};

/// Peak resident memory of this process so far, in MiB.
pub fn peak_rss_mib() -> f64 {
    peak_rss_mib_of("self")
}

/// Peak resident memory of process `pid` (or `self`) so far, in MiB (VmHWM).
pub fn peak_rss_mib_of(pid: &str) -> f64 {
    proc_kib(&format!("/proc/{pid}/status"), "VmHWM:").unwrap_or(0.0) / 1024.0
}

/// A `key: N kB` field of a /proc file, in KiB.
pub fn proc_kib(path: &str, key: &str) -> Option<f64> {
    std::fs::read_to_string(path).ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
    })
}

/// Bytes under a directory.
pub fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The `p` quantile of sorted values (nearest rank).
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx]
}

/// Generates the synthetic catalog and bulk-loads it into `data/store`, unless `data`
/// already holds one of this size. Returns what was loaded.
pub fn prepare(tables: usize, columns: usize, data: &Path) -> Value {
    let marker = data.join(format!("synthetic-{tables}x{columns}.json"));
    if let Ok(text) = std::fs::read_to_string(&marker) {
        eprintln!("reusing the store in {}", data.display());
        return serde_json::from_str(&text).unwrap_or(Value::Null);
    }
    let _ = std::fs::remove_dir_all(data);
    std::fs::create_dir_all(data).expect("data dir");
    let scratch = tempfile::tempdir().expect("temp dir");
    let file = scratch.path().join("synthetic.nt");
    let cfg = govgraph_seeds::SyntheticConfig {
        tables,
        columns_per_table: columns,
        ..Default::default()
    };
    let t = Instant::now();
    let out = std::io::BufWriter::new(std::fs::File::create(&file).expect("create input"));
    let stats = govgraph_seeds::write_ntriples(&cfg, out).expect("generate");
    let gen_secs = t.elapsed().as_secs_f64();
    eprintln!(
        "generated {} tables x {columns} columns: {} table edges, {} column edges, {} triples in {gen_secs:.1} s",
        stats.tables, stats.table_edges, stats.column_edges, stats.triples
    );
    let store = GraphStore::open(&data.join("store"), StoreConfig::default()).expect("open");
    let graph = NamedNode::new("urn:govgraph:graph:synthetic").expect("graph name");
    let t = Instant::now();
    let mut loader = store.raw().bulk_loader();
    loader
        .load_from_reader(
            RdfParser::from_format(RdfFormat::NTriples).with_default_graph(graph),
            std::io::BufReader::new(std::fs::File::open(&file).expect("open input")),
        )
        .expect("bulk load");
    loader.commit().expect("commit");
    let load_secs = t.elapsed().as_secs_f64();
    drop(store);
    let info = json!({
        "tables": stats.tables, "columns": stats.columns, "table_edges": stats.table_edges,
        "column_edges": stats.column_edges, "triples": stats.triples,
        "generate_secs": gen_secs, "bulk_load_secs": load_secs,
        "bulk_load_triples_per_sec": stats.triples as f64 / load_secs,
        "store_bytes": dir_size(&data.join("store")),
    });
    eprintln!("bulk-loaded in {load_secs:.1} s");
    std::fs::write(&marker, info.to_string()).expect("marker");
    info
}

/// Deterministic sample without replacement (SplitMix64 + partial Fisher-Yates), taken from
/// the values in IRI order so that it does not depend on how they were collected.
pub fn sample(mut v: Vec<NamedNode>, n: usize, seed: u64) -> Vec<NamedNode> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    v.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    let n = n.min(v.len());
    for i in 0..n {
        let j = i + (next() % (v.len() - i) as u64) as usize;
        v.swap(i, j);
    }
    v.truncate(n);
    v
}

/// One kind of lineage walk and the nodes it may start from.
pub struct WalkKind {
    pub name: &'static str,
    pub level: govgraph_graph::traverse::Level,
    pub direction: govgraph_graph::traverse::Direction,
    pub starts: Vec<NamedNode>,
}

/// The four walk kinds (table and column level, upstream and downstream), each with every
/// node that has lineage on the side it walks, and the number of column edges.
///
/// Direct column derivations also carry a `prov:wasDerivedFrom` shortcut between columns,
/// so table starts are the ends of those edges that are not columns (a raw bulk load does
/// not materialise super-types, so `dcat:Dataset` cannot tell).
pub fn walk_kinds(store: &GraphStore) -> (Vec<WalkKind>, u64) {
    use govgraph_graph::oxigraph::model::{NamedOrBlankNode, Term};
    use govgraph_graph::traverse::{Direction, Level};
    use govgraph_graph::vocab::{gg, prov};
    use std::collections::HashSet;

    let raw = store.raw();
    let is_dataset = |n: &NamedNode| {
        raw.quads_for_pattern(Some(n.as_ref().into()), Some(gg::COLUMN_OF), None, None)
            .next()
            .is_none()
    };
    let mut derived_tables = HashSet::new();
    let mut source_tables = HashSet::new();
    for q in raw.quads_for_pattern(None, Some(prov::WAS_DERIVED_FROM), None, None) {
        let q = q.expect("scan");
        if let NamedOrBlankNode::NamedNode(s) = q.subject
            && is_dataset(&s)
        {
            derived_tables.insert(s);
        }
        if let Term::NamedNode(o) = q.object
            && is_dataset(&o)
        {
            source_tables.insert(o);
        }
    }
    let mut derived_columns = HashSet::new();
    for q in raw.quads_for_pattern(None, Some(prov::QUALIFIED_DERIVATION), None, None) {
        if let NamedOrBlankNode::NamedNode(s) = q.expect("scan").subject {
            derived_columns.insert(s);
        }
    }
    let mut source_columns = HashSet::new();
    let mut column_edges = 0u64;
    for q in raw.quads_for_pattern(None, Some(prov::ENTITY), None, None) {
        column_edges += 1;
        if let Term::NamedNode(o) = q.expect("scan").object {
            source_columns.insert(o);
        }
    }
    let kind = |name, level, direction, starts: HashSet<NamedNode>| WalkKind {
        name,
        level,
        direction,
        starts: starts.into_iter().collect(),
    };
    (
        vec![
            kind(
                "table_upstream",
                Level::Table,
                Direction::Upstream,
                derived_tables,
            ),
            kind(
                "table_downstream",
                Level::Table,
                Direction::Downstream,
                source_tables,
            ),
            kind(
                "column_upstream",
                Level::Column,
                Direction::Upstream,
                derived_columns,
            ),
            kind(
                "column_downstream",
                Level::Column,
                Direction::Downstream,
                source_columns,
            ),
        ],
        column_edges,
    )
}

/// Latency figures of sorted millisecond timings, as JSON.
pub fn latency(sorted: &[f64]) -> Value {
    json!({"n": sorted.len(), "p50_ms": pct(sorted, 0.5), "p95_ms": pct(sorted, 0.95),
           "p99_ms": pct(sorted, 0.99), "max_ms": sorted.last()})
}

/// The search bench's query mix: names, abbreviations, typos and business phrases.
pub const SEARCH_QUERIES: &[&str] = &[
    "customer email",
    "custEmailAddr",
    "net amount",
    "revenue by region",
    "how much money we made per region",
    "invoice tax",
    "shipment date",
    "emial adress",
    "paymnt amount",
    "supplier contract",
    "employee phone",
    "date of birth",
    "dob",
    "qty on hand",
    "ticket priority",
    "campaign budget",
    "which customers stopped buying",
    "gross margin",
    "credit limit",
    "session device",
];

/// The query mix as requests of one ranking; every third filters to columns, every third
/// after that to personal data.
pub fn search_requests(mode: govgraph_search::Mode) -> Vec<govgraph_search::SearchRequest> {
    use govgraph_search::{EntityKind, SearchRequest};
    SEARCH_QUERIES
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let mut r = SearchRequest {
                mode,
                ..SearchRequest::new(q)
            };
            match i % 3 {
                1 => r.kinds = vec![EntityKind::Column],
                2 => r.pii = Some(true),
                _ => {}
            }
            r
        })
        .collect()
}

/// The question templates asked of a synthetic catalog.
pub const ASK_TEMPLATES: [&str; 10] = [
    "Who owns {t}?",
    "What breaks if {t} changes?",
    "Where does {t} come from?",
    "Which columns of {t} are PII?",
    "How many columns does {t} have?",
    "Which quality rules apply to {t}?",
    "Describe {t}.",
    "Who is the steward of {t}?",
    "Which datasets does {p} own?",
    "How many datasets are in the {d} domain?",
];

/// `n` questions over a synthetic catalog's tables, domains and people, drawn with a fixed
/// seed; question `i` uses template `i % ASK_TEMPLATES.len()`.
pub fn synthetic_questions(store: &GraphStore, n: usize) -> Vec<String> {
    use govgraph_graph::oxigraph::model::Term;
    let rows = store
        .select("SELECT ?id ?domain ?person WHERE { ?t a gg:Table ; dct:identifier ?id ; gg:domain/skos:prefLabel ?domain ; gg:owner/foaf:name ?person } ORDER BY ?id")
        .expect("list tables");
    let text = |r: &govgraph_graph::oxigraph::sparql::QuerySolution, v: &str| match r.get(v) {
        Some(Term::Literal(l)) => l.value().to_owned(),
        _ => String::new(),
    };
    let tables: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (text(r, "id"), text(r, "domain"), text(r, "person")))
        .collect();
    assert!(
        !tables.is_empty(),
        "the synthetic catalog has tables with identifiers, domains and owners"
    );
    let mut state = 7u64;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % n.max(1)
    };
    (0..n)
        .map(|i| {
            let (t, d, p) = &tables[next(tables.len())];
            ASK_TEMPLATES[i % ASK_TEMPLATES.len()]
                .replace("{t}", t)
                .replace("{d}", d)
                .replace("{p}", p)
        })
        .collect()
}
