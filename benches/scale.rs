//! Scale proof: one synthetic catalog per size, from 10k to 4M columns, measured end to end.
//!
//! `cargo bench --bench scale -- [--sizes 10k,100k,1m,4m] [--work DIR] [--keep]
//!  [--samples N] [--queries N] [--questions N] [--http-secs S] [--report-only]`
//!
//! For each size (20 columns per table, so 4m is 200,000 tables with about 2M column-lineage
//! edges) it generates the catalog with the seeds generator, then measures each phase in a
//! fresh child process, so every phase has its own peak resident memory (VmHWM):
//!
//! 1. `load`: the product's load path (staged, super-types, SHACL validation, atomic commit)
//!    into a new on-disk store; then the store's size on disk.
//! 2. `search`: the search index built from scratch with the built-in embedder, then
//!    `--queries` searches of each ranking (hybrid, text, vector).
//! 3. `lineage`: `--samples` walks of 10 hops per kind, upstream and downstream, at table and
//!    column level.
//! 4. `sparql`: point lookups of sampled tables and columns, and a typical aggregate query.
//! 5. `ask`: `--questions` offline questions (no language model) with the search index.
//! 6. `http`: the real `govgraph serve` on the store, 32 concurrent clients (wrk) running
//!    point lookups as an authenticated analyst for `--http-secs`.
//!
//! Each size's figures go to `benches/scale/<size>.json`; then `benches/REPORT.md` is
//! written from every JSON file there (so sizes may be measured in separate runs), with
//! `benches/scale/NOTES.md` (the hand-written analysis) appended. `--report-only` only
//! rewrites the report.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use govgraph_agents::ask::{AskRequest, Asker, Role};
use govgraph_graph::oxigraph::model::vocab::rdf;
use govgraph_graph::oxigraph::model::{NamedNode, NamedNodeRef, NamedOrBlankNode};
use govgraph_graph::oxigraph::sparql::QueryResults;
use govgraph_graph::traverse::{Traversal, traverse};
use govgraph_graph::vocab::{csvw, gg};
use govgraph_graph::{GraphStore, LoadOptions, LoadSource, NoProgress, QueryOptions, StoreConfig};
use govgraph_search::{HashEmbedder, Mode, SearchIndex};
use serde_json::{Value, json};

const COLUMNS_PER_TABLE: usize = 20;
const DEPTH: usize = 10;
const CLIENTS: usize = 32;
const ANALYST_KEY: &str = "scale-analyst-key-0123";

/// The typical aggregate: how many columns each domain holds.
const AGGREGATE: &str = "SELECT ?domain (COUNT(?c) AS ?columns) WHERE { ?t gg:domain/skos:prefLabel ?domain . ?c gg:columnOf ?t } GROUP BY ?domain ORDER BY DESC(?columns)";

struct Args {
    sizes: Vec<(String, usize)>,
    work: Option<PathBuf>,
    keep: bool,
    samples: usize,
    queries: usize,
    questions: usize,
    http_secs: u64,
    report_only: bool,
    child: Option<(String, PathBuf)>,
}

fn parse_size(s: &str) -> Option<(String, usize)> {
    let s = s.trim().to_lowercase();
    let (digits, mult) = if let Some(d) = s.strip_suffix('k') {
        (d, 1_000)
    } else if let Some(d) = s.strip_suffix('m') {
        (d, 1_000_000)
    } else {
        (s.as_str(), 1)
    };
    let columns = digits.parse::<usize>().ok()? * mult;
    (columns >= COLUMNS_PER_TABLE).then(|| (s.clone(), columns))
}

fn parse_args() -> Args {
    let mut a = Args {
        sizes: ["10k", "100k", "1m", "4m"]
            .iter()
            .filter_map(|s| parse_size(s))
            .collect(),
        work: None,
        keep: false,
        samples: 200,
        queries: 1000,
        questions: 300,
        http_secs: 20,
        report_only: false,
        child: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let next = argv.get(i + 1).cloned().unwrap_or_default();
        let mut step = 2;
        match argv[i].as_str() {
            "--sizes" => {
                a.sizes = next.split(',').filter_map(parse_size).collect();
                assert!(!a.sizes.is_empty(), "--sizes: e.g. 10k,100k,1m,4m");
            }
            "--work" => a.work = Some(PathBuf::from(next)),
            "--samples" => a.samples = next.parse().unwrap_or(a.samples),
            "--queries" => a.queries = next.parse().unwrap_or(a.queries),
            "--questions" => a.questions = next.parse().unwrap_or(a.questions),
            "--http-secs" => a.http_secs = next.parse().unwrap_or(a.http_secs),
            "--keep" => {
                a.keep = true;
                step = 1;
            }
            "--report-only" => {
                a.report_only = true;
                step = 1;
            }
            "--child" => {
                a.child = Some((
                    next,
                    PathBuf::from(argv.get(i + 2).cloned().unwrap_or_default()),
                ));
                step = 3;
            }
            _ => step = 1, // cargo bench passes --bench
        }
        i += step;
    }
    a
}

fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

// ---------------------------------------------------------------------------------------
// Child phases: each prints one JSON line, its last line on stdout.

/// The data directory as `govgraph --data` lays it out: the store, and the search index in
/// `search/` (the bench's own files stay beside it).
fn data_dir(dir: &Path) -> PathBuf {
    dir.join("data")
}

fn open_store(dir: &Path) -> GraphStore {
    GraphStore::open(&data_dir(dir), StoreConfig::default()).expect("open the store")
}

fn open_index(dir: &Path, store: &GraphStore) -> (SearchIndex, Value) {
    let t = Instant::now();
    let mut index = SearchIndex::open(
        &data_dir(dir).join("search"),
        Arc::new(HashEmbedder::default()),
    )
    .expect("open the search index");
    let report = index.sync(store).expect("sync the search index");
    (
        index,
        json!({"mode": report.mode, "documents": report.documents, "secs": t.elapsed().as_secs_f64()}),
    )
}

fn phase_load(dir: &Path) -> Value {
    let store = open_store(dir);
    let source = LoadSource::from_path(&dir.join("synthetic.nt"), Some("synthetic"), None)
        .expect("open the input");
    let t = Instant::now();
    let report = store
        .load(vec![source], &LoadOptions::default(), &NoProgress)
        .expect("load");
    let secs = t.elapsed().as_secs_f64();
    let inferred: u64 = report.graphs.iter().map(|g| g.inferred).sum();
    json!({"secs": secs, "triples": report.triples(), "inferred": inferred,
           "triples_per_sec": report.triples() as f64 / secs})
}

fn phase_search(dir: &Path, queries: usize) -> Value {
    let store = open_store(dir);
    let rss_store = common::peak_rss_mib();
    let index_dir = data_dir(dir).join("search");
    let _ = std::fs::remove_dir_all(&index_dir);
    // The build only: reopening the index (and finding it up to date) is the ask phase's
    // first step, in a process of its own, so the two never add up in one high-water mark.
    let (index, built) = open_index(dir, &store);
    let rss_built = common::peak_rss_mib();
    let mut latency = serde_json::Map::new();
    for mode in [Mode::Hybrid, Mode::Text, Mode::Vector] {
        let reqs = common::search_requests(mode);
        for r in &reqs {
            index.search(r).expect("warm-up");
        }
        let times = (0..queries)
            .map(|n| {
                let t = Instant::now();
                std::hint::black_box(index.search(&reqs[n % reqs.len()]).expect("search"));
                ms_since(t)
            })
            .collect();
        latency.insert(
            format!("{mode:?}").to_lowercase(),
            common::latency(&sorted(times)),
        );
    }
    // The HNSW graph's recall: of the ten nearest in the pool a query asks it for, the share
    // at least as near as the tenth of an exhaustive scan. (Synthetic names repeat, so many
    // points tie; any of the tied ones is a right answer.)
    let mut recall = 0.0;
    for q in common::SEARCH_QUERIES {
        let exact = index.nearest(q, 10, true).expect("exact");
        let Some((_, tenth)) = exact.last() else {
            recall += 1.0;
            continue;
        };
        let approx = index.nearest(q, 100, false).expect("approximate");
        let found = approx
            .iter()
            .take(10)
            .filter(|(_, sim)| *sim >= tenth - 1e-5);
        recall += found.count() as f64 / exact.len() as f64;
    }
    recall /= common::SEARCH_QUERIES.len() as f64;
    json!({"build_secs": built["secs"], "documents": built["documents"],
           "vector_points": index.vector_points(),
           "index_bytes": common::dir_size(&index_dir),
           "peak_rss_mib_store_open": rss_store, "peak_rss_mib_after_build": rss_built,
           "vector_recall_at_10": recall,
           "latency": latency})
}

fn phase_lineage(dir: &Path, samples: usize) -> Value {
    let store = open_store(dir);
    let (kinds, column_edges) = common::walk_kinds(&store);
    let mut walks = serde_json::Map::new();
    for (i, kind) in kinds.into_iter().enumerate() {
        let starts = common::sample(kind.starts, samples, 42 + i as u64);
        let walk = |s: &NamedNode| {
            let mut t = Traversal::new(s.clone(), kind.level, kind.direction);
            t.max_depth = DEPTH;
            traverse(&store, &t).expect("walk")
        };
        // One untimed walk warms the path any served query would find warm.
        if let Some(first) = starts.first() {
            walk(first);
        }
        let mut times = Vec::with_capacity(starts.len());
        let mut nodes = 0.0;
        let mut max_nodes = 0.0f64;
        let mut deepest = 0usize;
        for s in &starts {
            let t = Instant::now();
            let r = walk(s);
            times.push(ms_since(t));
            nodes += r.total as f64;
            max_nodes = max_nodes.max(r.total as f64);
            deepest += usize::from(r.truncated);
        }
        let mut out = common::latency(&sorted(times));
        out["mean_nodes"] = json!(nodes / starts.len().max(1) as f64);
        out["max_nodes"] = json!(max_nodes);
        out["hit_depth_limit"] = json!(deepest);
        walks.insert(kind.name.to_owned(), out);
    }
    json!({"depth": DEPTH, "column_edges": column_edges, "walks": walks})
}

/// A deterministic reservoir sample of the subjects of `?s a class`.
fn subjects_of(store: &GraphStore, class: NamedNodeRef<'_>, n: usize, seed: u64) -> Vec<NamedNode> {
    let mut state = seed;
    let mut next = |bound: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % bound.max(1)
    };
    let mut keep: Vec<NamedNode> = Vec::with_capacity(n);
    let mut seen = 0u64;
    for q in store
        .raw()
        .quads_for_pattern(None, Some(rdf::TYPE), Some(class.into()), None)
    {
        let Ok(q) = q else { continue };
        let NamedOrBlankNode::NamedNode(s) = q.subject else {
            continue;
        };
        seen += 1;
        if keep.len() < n {
            keep.push(s);
        } else {
            let j = next(seen) as usize;
            if j < n {
                keep[j] = s;
            }
        }
    }
    keep
}

fn run_rows(store: &GraphStore, sparql: &str, timeout: Option<Duration>) -> usize {
    let outcome = store
        .query(
            sparql,
            &QueryOptions {
                timeout,
                ..Default::default()
            },
        )
        .expect("query");
    let mut n = 0;
    match outcome.results {
        QueryResults::Solutions(rows) => {
            for r in rows {
                std::hint::black_box(r.expect("row"));
                n += 1;
            }
        }
        QueryResults::Boolean(_) => n = 1,
        QueryResults::Graph(triples) => {
            for t in triples {
                std::hint::black_box(t.expect("triple"));
                n += 1;
            }
        }
    }
    n
}

fn phase_sparql(dir: &Path, samples: usize) -> Value {
    let store = open_store(dir);
    let mut entities = subjects_of(&store, csvw::COLUMN, samples, 11);
    entities.extend(subjects_of(&store, gg::TABLE, samples, 13));
    assert!(!entities.is_empty(), "the catalog has tables and columns");
    // The HTTP phase looks up the same entities.
    std::fs::write(
        dir.join("iris.txt"),
        entities
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .expect("write iris.txt");
    let lookup = |e: &NamedNode| format!("SELECT ?p ?o WHERE {{ <{}> ?p ?o }}", e.as_str());
    let timeout = Some(Duration::from_secs(10));
    for e in entities.iter().take(50) {
        run_rows(&store, &lookup(e), timeout);
    }
    let mut rows = 0usize;
    let times = entities
        .iter()
        .map(|e| {
            let t = Instant::now();
            rows += run_rows(&store, &lookup(e), timeout);
            ms_since(t)
        })
        .collect();
    let mut lookups = common::latency(&sorted(times));
    lookups["mean_rows"] = json!(rows as f64 / entities.len() as f64);
    let mut runs = Vec::new();
    let mut groups = 0;
    for _ in 0..3 {
        let t = Instant::now();
        groups = run_rows(&store, AGGREGATE, None);
        runs.push(ms_since(t));
    }
    let runs = sorted(runs);
    json!({"point_lookups": lookups,
           "aggregate": {"query": AGGREGATE, "groups": groups, "runs_ms": runs, "median_ms": runs[runs.len() / 2]}})
}

fn phase_ask(dir: &Path, questions: usize) -> Value {
    let store = open_store(dir);
    let (index, synced) = open_index(dir, &store);
    assert_eq!(
        synced["mode"], "unchanged",
        "a reopened index is up to date"
    );
    let questions = common::synthetic_questions(&store, questions);
    let asker = Asker::default();
    let ask = |q: &str| {
        let mut r = AskRequest::new(q);
        r.role = Role::Steward;
        asker.ask(&store, Some(&index), &r).expect("ask")
    };
    let t = Instant::now();
    ask("Who owns the first table?");
    let first_ms = ms_since(t);
    let mut times = Vec::new();
    let mut per: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    let mut refused = 0usize;
    for (i, q) in questions.iter().enumerate() {
        let t = Instant::now();
        let a = ask(q);
        let ms = ms_since(t);
        refused += usize::from(a.refused);
        times.push(ms);
        per.entry(common::ASK_TEMPLATES[i % common::ASK_TEMPLATES.len()])
            .or_default()
            .push(ms);
    }
    let mut out = common::latency(&sorted(times));
    out["first_question_ms"] = json!(first_ms);
    out["index_check"] = synced;
    out["refused"] = json!(refused);
    out["by_template"] = per
        .into_iter()
        .map(|(k, v)| {
            let v = sorted(v);
            (
                k.to_owned(),
                json!({"p50_ms": common::pct(&v, 0.5), "p95_ms": common::pct(&v, 0.95)}),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into();
    out
}

fn child(phase: &str, dir: &Path, args: &Args) {
    let mut out = match phase {
        "load" => phase_load(dir),
        "search" => phase_search(dir, args.queries),
        "lineage" => phase_lineage(dir, args.samples),
        "sparql" => phase_sparql(dir, args.samples * 5),
        "ask" => phase_ask(dir, args.questions),
        other => panic!("unknown phase {other}"),
    };
    out["peak_rss_mib"] = json!(common::peak_rss_mib());
    println!("{out}");
}

// ---------------------------------------------------------------------------------------
// The parent: generation, phases, the server under load, the report.

fn run_phase(phase: &str, dir: &Path, args: &Args) -> Value {
    eprintln!("  {phase}...");
    let t = Instant::now();
    let output = Command::new(std::env::current_exe().expect("own path"))
        .arg("--child")
        .arg(phase)
        .arg(dir)
        .args(["--samples", &args.samples.to_string()])
        .args(["--queries", &args.queries.to_string()])
        .args(["--questions", &args.questions.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .expect("run a phase");
    assert!(output.status.success(), "phase {phase} failed");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut v: Value = serde_json::from_str(text.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("phase {phase} printed no JSON ({e}): {text}"));
    v["wall_secs"] = json!(t.elapsed().as_secs_f64());
    eprintln!("  {phase} done in {:.1} s", t.elapsed().as_secs_f64());
    v
}

fn get_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).ok()?;
    std::str::from_utf8(&buf[..n])
        .ok()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A GET's whole answer (HTTP/1.0, so the server closes the connection after it).
fn get_body(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: application/sparql-results+json\r\nX-API-Key: {ANALYST_KEY}\r\n\r\n"
    )
    .expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// Percent-encodes a query string value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// wrk's latency in milliseconds ("1.23ms", "850.00us", "1.02s").
fn wrk_ms(s: &str) -> f64 {
    let (num, scale) = if let Some(v) = s.strip_suffix("us") {
        (v, 1e-3)
    } else if let Some(v) = s.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = s.strip_suffix('s') {
        (v, 1e3)
    } else {
        (s, f64::NAN)
    };
    num.parse::<f64>().map_or(f64::NAN, |n| n * scale)
}

fn wrk(port: u16, secs: u64, script: &Path) -> std::io::Result<String> {
    let out = Command::new("wrk")
        .env("KEY", ANALYST_KEY)
        .args([
            "-t2",
            &format!("-c{CLIENTS}"),
            &format!("-d{secs}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}"))
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn phase_http(dir: &Path, secs: u64) -> Value {
    if Command::new("wrk").arg("-v").output().is_err() {
        eprintln!("  http: skipped (wrk not found; it is Debian's `wrk` package)");
        return json!({"skipped": "wrk not found on PATH"});
    }
    eprintln!("  http...");
    let iris = std::fs::read_to_string(dir.join("iris.txt")).expect("iris.txt");
    let script = dir.join("lookup.lua");
    let mut lua = String::from("local iris = {\n");
    for iri in iris.lines() {
        lua.push_str(&format!("  \"{iri}\",\n"));
    }
    lua.push_str(
        r#"}
local function enc(s) return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end)) end
local i = 0
local key = os.getenv("KEY")
request = function()
  i = i + 1
  local path = "/sparql?query=" .. enc("SELECT ?p ?o WHERE { <" .. iris[(i % #iris) + 1] .. "> ?p ?o }")
  return wrk.format("GET", path, { ["Accept"] = "application/sparql-results+json", ["X-API-Key"] = key })
end
"#,
    );
    std::fs::write(&script, lua).expect("write the wrk script");
    let config = dir.join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "[limits]\nquery_timeout_ms = 10000\nrequests_per_minute = 100000000\n\n\
             [[principals]]\nname = \"scale-analyst\"\nkey = \"{ANALYST_KEY}\"\nroles = [\"analyst\"]\n"
        ),
    )
    .expect("write the server config");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let start = Instant::now();
    let mut server = Command::new(env!("CARGO_BIN_EXE_govgraph"))
        .arg("--data")
        .arg(data_dir(dir))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start govgraph serve");
    while get_status(port, "/readyz") != Some(200) {
        if let Ok(Some(status)) = server.try_wait() {
            panic!("govgraph serve exited with {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(1800),
            "the server did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let ready_secs = start.elapsed().as_secs_f64();
    // The server must answer from the loaded catalog, not an empty store.
    let first = iris.lines().next().expect("an entity to look up");
    let body = get_body(
        port,
        &format!(
            "/sparql?query={}",
            encode(&format!("SELECT ?p ?o WHERE {{ <{first}> ?p ?o }}"))
        ),
    );
    assert!(
        body.contains("\"bindings\":[{"),
        "the server found nothing about {first}: {body}"
    );
    let _ = wrk(port, 3, &script);
    let text = wrk(port, secs, &script).expect("run wrk");
    let rss = common::peak_rss_mib_of(&server.id().to_string());
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = server.kill();
    let _ = server.wait();
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
    };
    let rps = field("Requests/sec:").and_then(|v| v.parse::<f64>().ok());
    let non2xx = text
        .lines()
        .find(|l| l.contains("Non-2xx"))
        .and_then(|l| l.split_whitespace().last()?.parse::<u64>().ok())
        .unwrap_or(0);
    eprintln!("  http done: {rps:?} req/s");
    json!({"clients": CLIENTS, "secs": secs, "requests_per_sec": rps,
           "p50_ms": field("50%").map(|v| wrk_ms(&v)), "p99_ms": field("99%").map(|v| wrk_ms(&v)),
           "non_2xx": non2xx, "ready_secs": ready_secs, "server_peak_rss_mib": rss,
           "lookup": "SELECT ?p ?o WHERE { <entity> ?p ?o }, GET /sparql, JSON results, API key"})
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_default();
    let mem_gib =
        common::proc_kib("/proc/meminfo", "MemTotal:").map_or(f64::NAN, |kib| kib / 1048576.0);
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    json!({"cpu": cpu, "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
           "memory_gib": mem_gib,
           "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
           "rustc": rustc})
}

fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn measure(label: &str, columns: usize, work: &Path, args: &Args) -> Value {
    let dir = work.join(label);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("work dir");
    let tables = columns / COLUMNS_PER_TABLE;
    eprintln!("== {label}: {tables} tables x {COLUMNS_PER_TABLE} columns");
    let started = today();
    let cfg = govgraph_seeds::SyntheticConfig {
        tables,
        columns_per_table: COLUMNS_PER_TABLE,
        ..Default::default()
    };
    let t = Instant::now();
    let file = dir.join("synthetic.nt");
    let out = std::io::BufWriter::new(std::fs::File::create(&file).expect("create input"));
    let stats = govgraph_seeds::write_ntriples(&cfg, out).expect("generate");
    let generate_secs = t.elapsed().as_secs_f64();
    let input_bytes = std::fs::metadata(&file).map_or(0, |m| m.len());
    eprintln!(
        "  generated {} triples, {} column edges in {generate_secs:.1} s",
        stats.triples, stats.column_edges
    );
    let load = run_phase("load", &dir, args);
    let _ = std::fs::remove_file(&file);
    let data = data_dir(&dir);
    let store_bytes = common::dir_size(&data) - common::dir_size(&data.join("search"));
    let search = run_phase("search", &dir, args);
    let lineage = run_phase("lineage", &dir, args);
    let sparql = run_phase("sparql", &dir, args);
    let ask = run_phase("ask", &dir, args);
    let http = phase_http(&dir, args.http_secs);
    let peak = [&load, &search, &lineage, &sparql, &ask]
        .iter()
        .filter_map(|v| v["peak_rss_mib"].as_f64())
        .chain(http["server_peak_rss_mib"].as_f64())
        .fold(0.0, f64::max);
    if !args.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    json!({
        "size": label, "started": started, "machine": machine(),
        "catalog": {"tables": stats.tables, "columns": stats.columns, "terms": stats.terms,
                    "table_edges": stats.table_edges, "column_edges": stats.column_edges,
                    "triples": stats.triples, "input_bytes": input_bytes,
                    "generate_secs": generate_secs},
        "load": load, "store_bytes": store_bytes, "search": search, "lineage": lineage,
        "sparql": sparql, "ask": ask, "http": http, "peak_rss_mib": peak,
    })
}

// ---------------------------------------------------------------------------------------
// The report.

fn num(v: &Value, pointer: &str) -> Option<f64> {
    v.pointer(pointer).and_then(Value::as_f64)
}

fn fmt_num(x: Option<f64>, digits: usize) -> String {
    match x {
        Some(x) if x.is_finite() => {
            let s = format!("{x:.digits$}");
            // Thousands separators for the integer part.
            let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(a, b)| (a, b));
            let (sign, int) = int.strip_prefix('-').map_or(("", int), |i| ("-", i));
            let mut grouped = String::new();
            for (i, c) in int.chars().enumerate() {
                if i > 0 && (int.len() - i) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            if frac.is_empty() {
                format!("{sign}{grouped}")
            } else {
                format!("{sign}{grouped}.{frac}")
            }
        }
        _ => "—".into(),
    }
}

fn mib_to_gib(x: Option<f64>) -> Option<f64> {
    x.map(|m| m / 1024.0)
}

fn table(out: &mut String, head: &[&str], rows: Vec<Vec<String>>) {
    out.push_str(&format!("| {} |\n", head.join(" | ")));
    out.push_str(&format!(
        "|{}\n",
        head.iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { "---|" } else { "---:|" })
            .collect::<String>()
    ));
    for r in rows {
        out.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    out.push('\n');
}

/// The exponent `k` in cost ∝ size^k between two sizes.
fn exponent(a: Option<f64>, b: Option<f64>, size_a: f64, size_b: f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if a > 0.0 && b > 0.0 && size_b > size_a => {
            Some((b / a).ln() / (size_b / size_a).ln())
        }
        _ => None,
    }
}

fn report(runs: &[Value]) -> String {
    let mut o = String::new();
    o.push_str("# Scale report: 10k to 4M columns on one 2-core machine\n\n");
    o.push_str(
        "Generated by `cargo bench --bench scale`; do not edit by hand (the analysis at the end comes\n\
         from `benches/scale/NOTES.md`, the figures from `benches/scale/<size>.json`).\n\n",
    );
    o.push_str("## How to reproduce\n\n```sh\n");
    o.push_str("apt-get install -y libclang-dev wrk\n");
    o.push_str("cargo bench --bench scale -- --sizes 10k,100k,1m,4m\n");
    o.push_str("```\n\n");
    o.push_str(
        "Each size is a synthetic catalog from the seeds generator (`govgraph_seeds::write_ntriples`,\n\
         seed 42): 20 columns per table, three layers of tables with 1-4 inputs per derived table and\n\
         popular hub tables, column-level derivations (about 0.5 per column), a 500-term glossary,\n\
         domains, owners, stewards, PII and financial tags. Every phase runs in a fresh process,\n\
         so each has its own peak resident memory (VmHWM). The largest size is 200,000 tables.\n\n",
    );
    o.push_str("## Machine\n\n");
    for r in runs {
        let m = &r["machine"];
        o.push_str(&format!(
            "- {}: {} ({} cores, {:.0} GiB), Linux {}, {}, release profile; measured {}\n",
            r["size"].as_str().unwrap_or("?"),
            m["cpu"].as_str().unwrap_or("?"),
            m["cores"],
            m["memory_gib"].as_f64().unwrap_or(f64::NAN),
            m["kernel"].as_str().unwrap_or("?"),
            m["rustc"].as_str().unwrap_or("?"),
            r["started"].as_str().unwrap_or("?"),
        ));
    }
    o.push('\n');

    let cols = |name: &str| -> Vec<String> {
        std::iter::once(name.to_owned())
            .chain(
                runs.iter()
                    .map(|r| r["size"].as_str().unwrap_or("?").to_owned()),
            )
            .collect()
    };
    let head_owned = cols("");
    let head: Vec<&str> = head_owned.iter().map(String::as_str).collect();
    let row =
        |label: &str, pointer: &str, digits: usize, f: &dyn Fn(Option<f64>) -> Option<f64>| {
            std::iter::once(label.to_owned())
                .chain(runs.iter().map(|r| fmt_num(f(num(r, pointer)), digits)))
                .collect::<Vec<_>>()
        };
    let id = |x: Option<f64>| x;
    let gb = |x: Option<f64>| x.map(|b| b / 1e9);

    o.push_str("## Catalog and load\n\n");
    o.push_str("The load is the product's own path (`govgraph load`): staged, super-types inferred, SHACL-validated, committed atomically.\n\n");
    table(
        &mut o,
        &head,
        vec![
            row("tables", "/catalog/tables", 0, &id),
            row("columns", "/catalog/columns", 0, &id),
            row("column-lineage edges", "/catalog/column_edges", 0, &id),
            row("table-lineage edges", "/catalog/table_edges", 0, &id),
            row("triples loaded", "/load/triples", 0, &id),
            row("super-types inferred", "/load/inferred", 0, &id),
            row("generate (s)", "/catalog/generate_secs", 1, &id),
            row("**load (s)**", "/load/secs", 1, &id),
            row("load (triples/s)", "/load/triples_per_sec", 0, &id),
            row("store on disk (GB)", "/store_bytes", 2, &gb),
            row(
                "peak RSS of the load (GiB)",
                "/load/peak_rss_mib",
                2,
                &mib_to_gib,
            ),
        ],
    );

    o.push_str("## Search\n\n");
    o.push_str("The index (tantivy full text plus hnsw_rs vectors from the built-in embedder) is built from scratch; then a mix of 20 queries (names, abbreviations, typos, business phrases; a third filtered to columns, a third to PII) runs round-robin.\n\n");
    table(
        &mut o,
        &head,
        vec![
            row("documents", "/search/documents", 0, &id),
            row(
                "distinct vectors (HNSW points)",
                "/search/vector_points",
                0,
                &id,
            ),
            row("index build (s)", "/search/build_secs", 1, &id),
            row("index on disk (GB)", "/search/index_bytes", 2, &gb),
            row(
                "reopen and check against the store (s)",
                "/ask/index_check/secs",
                2,
                &id,
            ),
            row("hybrid p50 (ms)", "/search/latency/hybrid/p50_ms", 2, &id),
            row(
                "**hybrid p95 (ms)**",
                "/search/latency/hybrid/p95_ms",
                2,
                &id,
            ),
            row("hybrid p99 (ms)", "/search/latency/hybrid/p99_ms", 2, &id),
            row("text only p95 (ms)", "/search/latency/text/p95_ms", 2, &id),
            row(
                "vectors only p95 (ms)",
                "/search/latency/vector/p95_ms",
                2,
                &id,
            ),
            row(
                "vector recall@10 (HNSW against an exact scan)",
                "/search/vector_recall_at_10",
                3,
                &id,
            ),
            row(
                "peak RSS of the build (GiB)",
                "/search/peak_rss_mib",
                2,
                &mib_to_gib,
            ),
        ],
    );

    o.push_str("## Impact analysis (lineage, 10 hops)\n\n");
    o.push_str("The product's `traverse` with its defaults (10 hops, first 1,000 nodes returned, every node counted, cycles detected), from start nodes sampled with a fixed seed among those with lineage on the walked side.\n\n");
    let mut rows = Vec::new();
    for kind in [
        "table_upstream",
        "table_downstream",
        "column_upstream",
        "column_downstream",
    ] {
        for (stat, bold) in [("p50_ms", false), ("p95_ms", true), ("p99_ms", false)] {
            let label = format!(
                "{} {}",
                kind.replace('_', " "),
                stat.replace("_ms", " (ms)")
            );
            let label = if bold { format!("**{label}**") } else { label };
            rows.push(row(
                &label,
                &format!("/lineage/walks/{kind}/{stat}"),
                2,
                &id,
            ));
        }
        rows.push(row(
            &format!("{} mean nodes reached", kind.replace('_', " ")),
            &format!("/lineage/walks/{kind}/mean_nodes"),
            0,
            &id,
        ));
        rows.push(row(
            &format!("{} most nodes reached", kind.replace('_', " ")),
            &format!("/lineage/walks/{kind}/max_nodes"),
            0,
            &id,
        ));
        rows.push(row(
            &format!("{} walks stopped at 10 hops", kind.replace('_', " ")),
            &format!("/lineage/walks/{kind}/hit_depth_limit"),
            0,
            &id,
        ));
    }
    table(&mut o, &head, rows);

    o.push_str("## SPARQL\n\n");
    o.push_str(&format!(
        "Point lookups `SELECT ?p ?o WHERE {{ <entity> ?p ?o }}` of sampled tables and columns, and the aggregate\n`{AGGREGATE}`\n(median of 3 runs), through the store's query path.\n\n"
    ));
    table(
        &mut o,
        &head,
        vec![
            row(
                "point lookup p50 (ms)",
                "/sparql/point_lookups/p50_ms",
                3,
                &id,
            ),
            row(
                "point lookup p95 (ms)",
                "/sparql/point_lookups/p95_ms",
                3,
                &id,
            ),
            row(
                "point lookup p99 (ms)",
                "/sparql/point_lookups/p99_ms",
                3,
                &id,
            ),
            row("aggregate (ms)", "/sparql/aggregate/median_ms", 0, &id),
        ],
    );

    o.push_str("## Talk to metadata (offline, no language model)\n\n");
    o.push_str("Questions drawn with a fixed seed from ten templates over the catalog's tables, domains and owners (who owns, impact, upstream, PII columns, column count, quality rules, describe, steward, a person's datasets, a domain's dataset count), answered as a steward with the search index.\n\n");
    table(
        &mut o,
        &head,
        vec![
            row("questions", "/ask/n", 0, &id),
            row("p50 (ms)", "/ask/p50_ms", 1, &id),
            row("**p95 (ms)**", "/ask/p95_ms", 1, &id),
            row("p99 (ms)", "/ask/p99_ms", 1, &id),
            row(
                "first question, lexicon built (ms)",
                "/ask/first_question_ms",
                0,
                &id,
            ),
        ],
    );

    o.push_str("## HTTP, 32 concurrent clients\n\n");
    o.push_str("The real `govgraph serve` on the loaded store; wrk runs the point lookups by GET `/sparql` as an analyst with an API key (auth, rate limiting, the concurrency cap and the audit log all on), after a 3 s warm-up. The client runs on the same 2 cores.\n\n");
    table(
        &mut o,
        &head,
        vec![
            row("requests/s", "/http/requests_per_sec", 0, &id),
            row("p50 (ms)", "/http/p50_ms", 2, &id),
            row("p99 (ms)", "/http/p99_ms", 2, &id),
            row("non-2xx answers", "/http/non_2xx", 0, &id),
            row("start to ready (s)", "/http/ready_secs", 1, &id),
            row(
                "server peak RSS (GiB)",
                "/http/server_peak_rss_mib",
                2,
                &mib_to_gib,
            ),
        ],
    );

    o.push_str("## Peak memory\n\n");
    table(
        &mut o,
        &head,
        vec![
            row("load (GiB)", "/load/peak_rss_mib", 2, &mib_to_gib),
            row(
                "search build and queries (GiB)",
                "/search/peak_rss_mib",
                2,
                &mib_to_gib,
            ),
            row(
                "lineage walks (GiB)",
                "/lineage/peak_rss_mib",
                2,
                &mib_to_gib,
            ),
            row("SPARQL (GiB)", "/sparql/peak_rss_mib", 2, &mib_to_gib),
            row("ask (GiB)", "/ask/peak_rss_mib", 2, &mib_to_gib),
            row(
                "server under load (GiB)",
                "/http/server_peak_rss_mib",
                2,
                &mib_to_gib,
            ),
            row("**largest of all (GiB)**", "/peak_rss_mib", 2, &mib_to_gib),
        ],
    );

    // Targets at the largest size measured.
    o.push_str("## Targets at 4M columns with 2M lineage edges\n\n");
    let largest = runs
        .iter()
        .max_by_key(|r| num(r, "/catalog/columns").unwrap_or(0.0) as u64);
    if let Some(big) = largest {
        let size = big["size"].as_str().unwrap_or("?");
        if size != "4m" {
            o.push_str(&format!(
                "**The 4M-column catalog is not in this report**; the largest measured is {size}, so the figures below are for {size} and the targets are not yet shown to hold at 4M.\n\n"
            ));
        }
        let walk_p95 = [
            "table_upstream",
            "table_downstream",
            "column_upstream",
            "column_downstream",
        ]
        .iter()
        .filter_map(|k| num(big, &format!("/lineage/walks/{k}/p95_ms")))
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
        let targets: [(&str, Option<f64>, f64, &str); 5] = [
            (
                "peak RSS",
                mib_to_gib(num(big, "/peak_rss_mib")),
                8.0 * 1e9 / 1073741824.0,
                "GiB",
            ),
            ("10-hop impact p95 (slowest kind)", walk_p95, 100.0, "ms"),
            (
                "search p95 (hybrid)",
                num(big, "/search/latency/hybrid/p95_ms"),
                20.0,
                "ms",
            ),
            ("offline ask p95", num(big, "/ask/p95_ms"), 300.0, "ms"),
            (
                "load",
                num(big, "/load/secs").map(|s| s / 60.0),
                15.0,
                "min",
            ),
        ];
        let rows = targets
            .iter()
            .map(|(name, got, target, unit)| {
                let verdict = match got {
                    Some(g) if *g <= *target => "met".to_owned(),
                    Some(g) => format!(
                        "**missed** by {} ({:.2}× the target)",
                        fmt_num(Some(g - target), 2),
                        g / target
                    ),
                    None => "not measured".to_owned(),
                };
                vec![
                    (*name).to_owned(),
                    format!(
                        "≤ {} {unit}",
                        fmt_num(Some(*target), if *unit == "GiB" { 2 } else { 0 })
                    ),
                    format!("{} {unit}", fmt_num(*got, 2)),
                    verdict,
                ]
            })
            .collect();
        table(
            &mut o,
            &[&format!("target ({size})"), "bound", "measured", "verdict"],
            rows,
        );
        o.push_str("8 GB is taken as 8×10⁹ bytes (7.45 GiB).\n\n");
    }

    // Growth: the exponent of each cost against the catalog's size.
    if runs.len() >= 2 {
        o.push_str("## How each cost grows with size\n\n");
        o.push_str(
            "`k` in cost ∝ columns^k between consecutive sizes (1 is linear, 0 is flat).\n\n",
        );
        let metrics: [(&str, &str); 12] = [
            ("load time", "/load/secs"),
            ("store on disk", "/store_bytes"),
            ("load peak RSS", "/load/peak_rss_mib"),
            ("search build time", "/search/build_secs"),
            ("search build peak RSS", "/search/peak_rss_mib"),
            ("search p95", "/search/latency/hybrid/p95_ms"),
            (
                "table downstream impact p95",
                "/lineage/walks/table_downstream/p95_ms",
            ),
            (
                "column upstream impact p95",
                "/lineage/walks/column_upstream/p95_ms",
            ),
            ("point lookup p50", "/sparql/point_lookups/p50_ms"),
            ("aggregate", "/sparql/aggregate/median_ms"),
            ("ask p95", "/ask/p95_ms"),
            ("HTTP requests/s", "/http/requests_per_sec"),
        ];
        let head_owned: Vec<String> = std::iter::once("cost".to_owned())
            .chain(runs.windows(2).map(|w| {
                format!(
                    "{} → {}",
                    w[0]["size"].as_str().unwrap_or("?"),
                    w[1]["size"].as_str().unwrap_or("?")
                )
            }))
            .collect();
        let head: Vec<&str> = head_owned.iter().map(String::as_str).collect();
        let rows = metrics
            .iter()
            .map(|(name, p)| {
                std::iter::once((*name).to_owned())
                    .chain(runs.windows(2).map(|w| {
                        fmt_num(
                            exponent(
                                num(&w[0], p),
                                num(&w[1], p),
                                num(&w[0], "/catalog/columns").unwrap_or(0.0),
                                num(&w[1], "/catalog/columns").unwrap_or(0.0),
                            ),
                            2,
                        )
                    }))
                    .collect()
            })
            .collect();
        table(&mut o, &head, rows);
    }
    if let Ok(notes) = std::fs::read_to_string(here().join("benches/scale/NOTES.md")) {
        o.push_str(notes.trim_end());
        o.push('\n');
    }
    o
}

fn write_report(out_dir: &Path) {
    let mut runs: Vec<Value> = std::fs::read_dir(out_dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .filter_map(|t| serde_json::from_str(&t).ok())
                .collect()
        })
        .unwrap_or_default();
    runs.sort_by_key(|r| num(r, "/catalog/columns").unwrap_or(0.0) as u64);
    let path = here().join("benches/REPORT.md");
    std::fs::write(&path, report(&runs)).expect("write the report");
    eprintln!("wrote {} ({} sizes)", path.display(), runs.len());
}

fn main() {
    let args = parse_args();
    if let Some((phase, dir)) = &args.child {
        child(phase, dir, &args);
        return;
    }
    let out_dir = here().join("benches/scale");
    std::fs::create_dir_all(&out_dir).expect("benches/scale");
    if !args.report_only {
        let scratch = tempfile::tempdir().expect("temp dir");
        let work = args
            .work
            .clone()
            .unwrap_or_else(|| scratch.path().to_owned());
        for (label, columns) in &args.sizes {
            let doc = measure(label, *columns, &work, &args);
            std::fs::write(
                out_dir.join(format!("{label}.json")),
                serde_json::to_string_pretty(&doc).expect("JSON"),
            )
            .expect("write the figures");
            eprintln!(
                "== {label}: done, peak RSS {:.0} MiB",
                doc["peak_rss_mib"].as_f64().unwrap_or(0.0)
            );
        }
    }
    write_report(&out_dir);
}
