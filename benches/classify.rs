//! PII classification speed: columns per second, each column judged from its name and
//! 1,000 sampled values.
//!
//! `cargo bench --bench classify`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use govgraph_quality::{classify_column, classify_table, sample};

fn bench(c: &mut Criterion) {
    let bronze = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/data/bronze");
    let mut columns = Vec::new();
    for file in [
        "customers.csv",
        "orders.csv",
        "support_tickets.csv",
        "marketing_events.csv",
        "products.csv",
    ] {
        columns.extend(sample::sample_file(&bronze.join(file), 1_000).unwrap());
    }
    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(columns.len() as u64));
    group.bench_with_input(
        BenchmarkId::new("seed_columns_1000_values", columns.len()),
        &columns,
        |b, columns| b.iter(|| classify_table(columns)),
    );
    // The costliest single columns: free text and names.
    for name in ["body", "first_name", "street_address"] {
        let column = columns.iter().find(|c| c.name == name).unwrap();
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("column", name), column, |b, c| {
            b.iter(|| classify_column(c))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
