//! dbt ingestion of a large synthetic project: a manifest of N models, each with compiled
//! SQL (joins, aggregates, CASE expressions and casts over 1 to 3 upstream relations), plus
//! its catalog and run results, ingested with column-level lineage into an on-disk store.
//!
//! `cargo bench --bench dbt_ingest` (5,000 models; `GOVGRAPH_BENCH_DBT_MODELS=N` to change)
//!
//! Two measurements per size: `read` parses the artifacts and runs every model's SQL through
//! the lineage engine (nothing stored); `ingest` is the whole `govgraph ingest dbt` path into
//! a fresh store, including validation and the run record: on disk when built with the
//! `rocksdb` feature (the default), in memory with `--no-default-features`. Figures:
//! `benches/DBT_INGEST.md`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::Path;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use govgraph_connectors::dbt::{DbtArtifacts, DbtOptions, ingest_dbt, read_dbt_artifacts};
use govgraph_graph::{GraphStore, NoProgress, Progress, StoreConfig};
use serde_json::{Map, Value, json};

const SOURCES: usize = 100;

/// Prints how long each phase of one ingestion takes.
#[derive(Default)]
struct PhaseTimes(std::sync::Mutex<Option<(String, std::time::Instant)>>);

impl Progress for PhaseTimes {
    fn phase(&self, name: &str, _total: Option<u64>) {
        self.finish();
        *self.0.lock().unwrap() = Some((name.to_owned(), std::time::Instant::now()));
    }
    fn finish(&self) {
        if let Some((name, at)) = self.0.lock().unwrap().take() {
            eprintln!("  {name}: {:.2} s", at.elapsed().as_secs_f64());
        }
    }
}
const SOURCE_COLUMNS: usize = 12;

fn columns(value: &Value) -> Map<String, Value> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let name = c.as_str().unwrap();
            (
                name.to_owned(),
                json!({"name": name, "description": format!("The {} of the row.", name.replace('_', " ")),
                       "meta": {}, "data_type": null, "constraints": [], "tags": []}),
            )
        })
        .collect()
}

/// A dbt target directory with `models` models over `SOURCES` sources.
fn write_project(dir: &Path, models: usize) {
    let mut nodes = Map::new();
    let mut sources = Map::new();
    let mut catalog = Map::new();
    let mut results = Vec::new();
    // Relation name → its columns, for the models that read it.
    let mut relations: Vec<(String, String, Vec<String>)> = Vec::new();
    for s in 0..SOURCES {
        let id = format!("source.bench.raw.src_{s}");
        let cols = source_columns();
        sources.insert(
            id.clone(),
            json!({"unique_id": id, "resource_type": "source", "name": format!("src_{s}"),
                   "source_name": "raw", "package_name": "bench", "database": "wh", "schema": "raw",
                   "identifier": format!("src_{s}"), "relation_name": format!("\"wh\".\"raw\".\"src_{s}\""),
                   "description": "A raw table.", "columns": columns(&json!(cols)), "meta": {"owner": "ingest@example.com"},
                   "tags": ["raw"], "config": {}, "depends_on": {"nodes": []}}),
        );
        catalog.insert(id.clone(), catalog_entry(&cols, 1000 + s as u64));
        relations.push((id, format!("wh.raw.src_{s}"), cols));
    }
    for m in 0..models {
        // Read from 1 to 3 relations defined earlier, mostly recent ones: long chains.
        let n_inputs = 1 + m % 3;
        let inputs: Vec<usize> = (0..n_inputs)
            .map(|k| {
                let span = relations.len();
                (span - 1 - (m * 7 + k * 13) % span.min(40 + k * 25)).min(span - 1)
            })
            .collect();
        let name = format!("model_{m}");
        let id = format!("model.bench.{name}");
        let mut from = format!("{} as t0", relations[inputs[0]].1);
        for (k, &i) in inputs.iter().enumerate().skip(1) {
            write!(
                from,
                " left join {} as t{k} on t{k}.id = t0.id",
                relations[i].1
            )
            .unwrap();
        }
        // Every relation has the same column names, so models stack without growing.
        let amount = (0..n_inputs)
            .map(|k| format!("coalesce(t{k}.amount, 0)"))
            .collect::<Vec<_>>()
            .join(" + ");
        let mut select = vec![
            "t0.id".to_owned(),
            "t0.customer_id".to_owned(),
            format!("{amount} as amount"),
            "cast(t0.created_at as date) as created_at".to_owned(),
            "upper(t0.status) as status".to_owned(),
        ];
        for j in 0..SOURCE_COLUMNS - 5 {
            let k = j % n_inputs;
            let c = format!("t{k}.attr_{}", (j + m) % (SOURCE_COLUMNS - 5));
            select.push(match (m + j) % 4 {
                0 => format!("{c} as attr_{j}"),
                1 => format!("cast({c} as varchar) as attr_{j}"),
                2 => format!("case when {c} is null then 'none' else {c} end as attr_{j}"),
                _ => format!("concat(t0.status, '-', {c}) as attr_{j}"),
            });
        }
        select.push("count(*) over (partition by t0.customer_id) as customer_rows".to_owned());
        let cols = source_columns();
        let mut all_cols = cols.clone();
        all_cols.push("customer_rows".to_owned());
        let sql = format!(
            "with base as (select {} from {from} where t0.status <> 'deleted') select * from base",
            select.join(", ")
        );
        let depends: Vec<&String> = inputs.iter().map(|&i| &relations[i].0).collect();
        nodes.insert(
            id.clone(),
            json!({"unique_id": id, "resource_type": "model", "name": name, "package_name": "bench",
                   "database": "wh", "schema": "analytics", "alias": name,
                   "relation_name": format!("\"wh\".\"analytics\".\"{name}\""),
                   "description": format!("Model {m}."), "columns": columns(&json!(all_cols)),
                   "meta": {}, "tags": ["bench"],
                   "config": {"materialized": if m % 5 == 0 { "view" } else { "table" },
                              "meta": {"owner": format!("team{}@example.com", m % 20), "domain": format!("domain_{}", m % 8)}},
                   "depends_on": {"nodes": depends}, "compiled_code": sql, "raw_code": "select 1"}),
        );
        catalog.insert(id.clone(), catalog_entry(&all_cols, 10 * m as u64));
        // One not_null test per model, every 50th failing.
        let test_id = format!("test.bench.not_null_{name}_id");
        nodes.insert(
            test_id.clone(),
            json!({"unique_id": test_id, "resource_type": "test", "name": format!("not_null_{name}_id"),
                   "package_name": "bench", "column_name": "id", "attached_node": id,
                   "test_metadata": {"name": "not_null", "kwargs": {"column_name": "id", "model": format!("{{{{ get_where_subquery(ref('{name}')) }}}}")}},
                   "config": {"severity": "ERROR"}, "depends_on": {"nodes": [id.clone()]},
                   "compiled_code": format!("select id from wh.analytics.{name} where id is null")}),
        );
        let failures = if m % 50 == 0 { 3 } else { 0 };
        results.push(json!({"unique_id": test_id, "status": if failures > 0 { "fail" } else { "pass" },
                            "failures": failures, "message": null,
                            "timing": [{"name": "execute", "started_at": "2026-01-01T00:00:00Z", "completed_at": "2026-01-01T00:00:01Z"}]}));
        relations.push((id, format!("wh.analytics.{name}"), cols));
    }
    let manifest = json!({
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
                     "project_name": "bench", "adapter_type": "postgres"},
        "nodes": nodes, "sources": sources, "exposures": {}, "groups": {},
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("catalog.json"),
        serde_json::to_vec(&json!({"nodes": catalog, "sources": {}})).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("run_results.json"),
        serde_json::to_vec(&json!({"metadata": {"invocation_id": "bench", "generated_at": "2026-01-01T00:00:02Z"}, "results": results}))
            .unwrap(),
    )
    .unwrap();
}

/// The columns of every source, and of every model before its window column.
fn source_columns() -> Vec<String> {
    let mut cols: Vec<String> = ["id", "customer_id", "amount", "created_at", "status"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    cols.extend((0..SOURCE_COLUMNS - 5).map(|j| format!("attr_{j}")));
    cols
}

fn catalog_entry(cols: &[String], rows: u64) -> Value {
    let columns: Map<String, Value> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let ty = match c.as_str() {
                "id" | "customer_id" | "customer_rows" => "bigint",
                "amount" => "numeric",
                "created_at" => "timestamp",
                _ => "text",
            };
            (
                c.clone(),
                json!({"name": c, "type": ty, "index": i + 1, "comment": null}),
            )
        })
        .collect();
    json!({"metadata": {"type": "BASE TABLE", "comment": null}, "columns": columns,
           "stats": {"num_rows": {"id": "num_rows", "value": rows, "include": true}}})
}

fn bench(c: &mut Criterion) {
    let models: usize = std::env::var("GOVGRAPH_BENCH_DBT_MODELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    // `GOVGRAPH_BENCH_DBT_DIR=DIR` keeps the generated target directory there.
    let temp = tempfile::tempdir().unwrap();
    let project = std::env::var_os("GOVGRAPH_BENCH_DBT_DIR")
        .map_or_else(|| temp.path().to_owned(), std::path::PathBuf::from);
    std::fs::create_dir_all(&project).unwrap();
    write_project(&project, models);
    let options = DbtOptions {
        target_dir: project.clone(),
        ..DbtOptions::default()
    };
    let artifacts = DbtArtifacts::read(&project).unwrap();
    let scheme = GraphStore::in_memory(StoreConfig::default())
        .unwrap()
        .scheme()
        .clone();
    // Say what one ingestion produces, once, so the numbers have a size.
    let extract = read_dbt_artifacts(&artifacts, &options, &scheme).unwrap();
    let triples: usize = extract.sources.iter().map(|s| s.triples.len()).sum();
    eprintln!(
        "dbt_ingest: {models} models, manifest {} MiB, {triples} triples, counts {:?}, {} warnings {:?}",
        artifacts.manifest.len() / (1 << 20),
        extract.counts,
        extract.warnings.len(),
        extract.warnings.iter().take(3).collect::<Vec<_>>()
    );

    {
        let _dir = tempfile::tempdir().unwrap();
        #[cfg(feature = "rocksdb")]
        let store = GraphStore::open(_dir.path(), StoreConfig::default()).unwrap();
        #[cfg(not(feature = "rocksdb"))]
        let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
        let start = std::time::Instant::now();
        eprintln!("one ingestion, phase by phase:");
        ingest_dbt(&store, &options, &PhaseTimes::default()).unwrap();
        eprintln!("  total: {:.2} s", start.elapsed().as_secs_f64());
    }

    let mut group = c.benchmark_group("dbt");
    group.sample_size(10);
    group.throughput(Throughput::Elements(models as u64));
    group.bench_with_input(
        BenchmarkId::new("read_with_column_lineage", models),
        &artifacts,
        |b, artifacts| b.iter(|| read_dbt_artifacts(artifacts, &options, &scheme).unwrap()),
    );
    let name = if cfg!(feature = "rocksdb") {
        "ingest_on_disk"
    } else {
        "ingest_in_memory"
    };
    group.bench_function(BenchmarkId::new(name, models), |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                #[cfg(feature = "rocksdb")]
                let store = GraphStore::open(dir.path(), StoreConfig::default()).unwrap();
                #[cfg(not(feature = "rocksdb"))]
                let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
                (dir, store)
            },
            |(dir, store)| {
                let report = ingest_dbt(&store, &options, &NoProgress).unwrap();
                assert_eq!(report.status, "succeeded");
                (dir, store)
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
