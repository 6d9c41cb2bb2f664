//! Criterion benches of the policy decision point on the demo catalog: a cold decision (a
//! fresh engine: the policies compiled and the resource read), a cached one, a dataset
//! decision with its columns' obligations, the per-caller masker, and masking a JSON body.
//!
//! `cargo bench --bench policy`

#![allow(clippy::expect_used)]

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use govgraph_graph::oxigraph::io::RdfFormat;
use govgraph_graph::{GraphStore, LoadOptions, LoadSource, NoProgress, Scope, StoreConfig};
use govgraph_policy::{Engine, MaskKey, Request, Subject};

fn demo() -> Arc<GraphStore> {
    let store = GraphStore::in_memory(StoreConfig::default()).expect("store");
    let sources: Vec<LoadSource> = govgraph_seeds::DEMO_SOURCES
        .iter()
        .map(|s| LoadSource::from_bytes(s.name, s.path, RdfFormat::Turtle, s.turtle))
        .collect();
    store
        .load(sources, &LoadOptions::default(), &NoProgress)
        .expect("load");
    // A profile, so that the masker has values to protect.
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/data/bronze/customers.csv");
    let profile = govgraph_quality::profile::profile_file(&file).expect("profile");
    govgraph_quality::profile::store::store_profile(
        &store,
        &govgraph_graph::DatasetKey::new("shop", "bronze.customers"),
        &profile,
    )
    .expect("store profile");
    Arc::new(store)
}

fn request(resource: &str) -> Request {
    Request {
        principal: Subject::with_role("analyst"),
        action: "read".into(),
        resource: resource.into(),
        purpose: Some("marketing".into()),
    }
}

fn bench(c: &mut Criterion) {
    let store = demo();
    let all = Scope::all();
    let column = "https://id.govgraph.dev/dataset/shop/bronze.customers/column/email";
    let dataset = "https://id.govgraph.dev/dataset/shop/bronze.customers";
    let mut g = c.benchmark_group("decide");
    g.bench_function("column_cold", |b| {
        b.iter(|| {
            let e = Engine::new(Arc::clone(&store), MaskKey::from_bytes([1; 32]));
            e.decide(&all, &request(column)).expect("decide")
        });
    });
    let warm = Engine::new(Arc::clone(&store), MaskKey::from_bytes([1; 32]));
    warm.decide(&all, &request(column)).expect("decide");
    g.bench_function("column_cached", |b| {
        b.iter(|| warm.decide(&all, &request(column)).expect("decide"));
    });
    g.bench_function("column_by_dotted_name_cached", |b| {
        b.iter(|| {
            warm.decide(&all, &request("bronze.customers.email"))
                .expect("decide")
        });
    });
    g.bench_function("dataset_with_13_columns_cold", |b| {
        b.iter(|| {
            let e = Engine::new(Arc::clone(&store), MaskKey::from_bytes([1; 32]));
            e.decide(&all, &request(dataset)).expect("decide")
        });
    });
    g.finish();

    let mut m = c.benchmark_group("mask");
    m.bench_function("masker_build", |b| {
        b.iter(|| {
            let e = Engine::new(Arc::clone(&store), MaskKey::from_bytes([1; 32]));
            e.masker(&all, &Subject::with_role("analyst"), None)
                .expect("masker")
        });
    });
    let masker = warm
        .masker(&all, &Subject::with_role("analyst"), None)
        .expect("masker");
    // What every SPARQL request pays: the caller's masker from the cache.
    m.bench_function("masker_cached", |b| {
        b.iter(|| {
            warm.masker(&all, &Subject::with_role("analyst"), None)
                .expect("masker")
        });
    });
    let body: serde_json::Value = serde_json::json!({
        "items": (0..100).map(|i| serde_json::json!({
            "iri": format!("https://id.govgraph.dev/dataset/shop/t{i}"),
            "description": "A table of the web shop with its orders and their amounts.",
            "min": "1961-04-02", "count": i,
        })).collect::<Vec<_>>()
    });
    let bytes = body.to_string().len() as u64;
    m.throughput(Throughput::Bytes(bytes));
    m.bench_function("json_100_items", |b| {
        b.iter(|| {
            let mut v = body.clone();
            masker.json(&mut v);
            v
        });
    });
    m.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
