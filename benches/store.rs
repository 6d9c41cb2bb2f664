//! Criterion benches of the store's hot paths on synthetic catalogs held in memory:
//! a validated load, a point lookup, an aggregate, and full SHACL validation.
//!
//! `cargo bench --bench store`

#![allow(clippy::expect_used)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use govgraph_graph::oxigraph::io::RdfFormat;
use govgraph_graph::{GraphStore, LoadOptions, LoadSource, NoProgress, StoreConfig};

fn catalog(tables: usize) -> (Vec<u8>, u64) {
    let cfg = govgraph_seeds::SyntheticConfig {
        tables,
        columns_per_table: 20,
        ..Default::default()
    };
    let mut out = Vec::new();
    let stats = govgraph_seeds::write_ntriples(&cfg, &mut out).expect("generate");
    (out, stats.triples)
}

fn loaded(bytes: &[u8]) -> GraphStore {
    let store = GraphStore::in_memory(StoreConfig::default()).expect("store");
    store
        .load(
            vec![LoadSource::from_bytes(
                "synthetic",
                "synthetic.nt",
                RdfFormat::NTriples,
                bytes.to_vec(),
            )],
            &LoadOptions::default(),
            &NoProgress,
        )
        .expect("load");
    store
}

fn bench(c: &mut Criterion) {
    let mut load = c.benchmark_group("load");
    load.sample_size(10);
    for tables in [50usize, 200] {
        let (bytes, triples) = catalog(tables);
        load.throughput(Throughput::Elements(triples));
        load.bench_with_input(
            BenchmarkId::new("validated_in_memory", format!("{tables}x20")),
            &bytes,
            |b, bytes| {
                b.iter(|| loaded(bytes));
            },
        );
    }
    load.finish();

    let (bytes, _) = catalog(200);
    let store = loaded(&bytes);
    let mut query = c.benchmark_group("sparql");
    query.bench_function("point_lookup_columns_of_a_table", |b| {
        b.iter(|| {
            store
                .select(
                    "SELECT ?name ?type WHERE { ?t dct:identifier \"bronze.finance_invoice_export_2\" . \
                     ?c gg:columnOf ?t ; csvw:name ?name ; gg:dataType ?type }",
                )
                .expect("query")
        });
    });
    query.bench_function("aggregate_columns_per_layer", |b| {
        b.iter(|| {
            store
                .select("SELECT ?layer (COUNT(?c) AS ?n) WHERE { ?c gg:columnOf/gg:layer ?layer } GROUP BY ?layer")
                .expect("query")
        });
    });
    query.finish();

    let mut validate = c.benchmark_group("validate");
    validate.sample_size(10);
    validate.bench_function("full_store_200x20", |b| {
        b.iter(|| store.validate().expect("validate"))
    });
    validate.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
