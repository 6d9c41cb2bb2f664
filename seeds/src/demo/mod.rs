//! The demo catalog: a small e-commerce company with seven bronze tables (CSV and
//! Parquet), silver/gold SQL models and a hand-curated governance catalog in Turtle.
//!
//! The committed files under `seeds/` are outputs of [`generate`]; the SQL models under
//! `seeds/sql/` are hand-written inputs. [`DEMO_SOURCES`] embeds the committed Turtle.

pub mod catalog;
pub mod data;
pub mod dates;
pub mod files;
pub mod schema;
pub(crate) mod turtle;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One embedded demo Turtle file.
#[derive(Debug, Clone, Copy)]
pub struct DemoSource {
    /// Source name, e.g. `demo:datasets`.
    pub name: &'static str,
    /// Path relative to the seeds folder.
    pub path: &'static str,
    /// The Turtle text.
    pub turtle: &'static str,
}

/// Every demo catalog file, embedded at compile time.
pub const DEMO_SOURCES: &[DemoSource] = &[
    DemoSource {
        name: "demo:domains",
        path: "catalog/domains.ttl",
        turtle: include_str!("../../catalog/domains.ttl"),
    },
    DemoSource {
        name: "demo:glossary",
        path: "catalog/glossary.ttl",
        turtle: include_str!("../../catalog/glossary.ttl"),
    },
    DemoSource {
        name: "demo:tags",
        path: "catalog/tags.ttl",
        turtle: include_str!("../../catalog/tags.ttl"),
    },
    DemoSource {
        name: "demo:datasets",
        path: "catalog/datasets.ttl",
        turtle: include_str!("../../catalog/datasets.ttl"),
    },
    DemoSource {
        name: "demo:quality",
        path: "catalog/quality.ttl",
        turtle: include_str!("../../catalog/quality.ttl"),
    },
    DemoSource {
        name: "demo:policies",
        path: "catalog/policies.ttl",
        turtle: include_str!("../../catalog/policies.ttl"),
    },
    DemoSource {
        name: "demo:processing",
        path: "catalog/processing.ttl",
        turtle: include_str!("../../catalog/processing.ttl"),
    },
];

/// One embedded demo SQL model (a `CREATE TABLE ... AS SELECT`).
#[derive(Debug, Clone, Copy)]
pub struct DemoSql {
    /// Path relative to the seeds folder.
    pub path: &'static str,
    /// The SQL text.
    pub sql: &'static str,
}

/// The system the silver and gold models live in.
pub const DEMO_SQL_SYSTEM: &str = "warehouse";

/// The silver and gold SQL models in build order, embedded at compile time. Their column
/// lineage is derived by the lineage engine when the demo loads them.
pub const DEMO_SQL: &[DemoSql] = &[
    DemoSql {
        path: "sql/silver/orders_clean.sql",
        sql: include_str!("../../sql/silver/orders_clean.sql"),
    },
    DemoSql {
        path: "sql/silver/customers_clean.sql",
        sql: include_str!("../../sql/silver/customers_clean.sql"),
    },
    DemoSql {
        path: "sql/silver/order_facts.sql",
        sql: include_str!("../../sql/silver/order_facts.sql"),
    },
    DemoSql {
        path: "sql/gold/daily_sales_by_region_category.sql",
        sql: include_str!("../../sql/gold/daily_sales_by_region_category.sql"),
    },
    DemoSql {
        path: "sql/gold/customer_lifetime_value.sql",
        sql: include_str!("../../sql/gold/customer_lifetime_value.sql"),
    },
    DemoSql {
        path: "sql/gold/campaign_performance.sql",
        sql: include_str!("../../sql/gold/campaign_performance.sql"),
    },
];

/// The seeds folder (this crate's directory), where the data files live.
pub fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    /// (relative path, bytes) of every file written.
    pub files: Vec<(String, u64)>,
    /// (qualified table name, rows).
    pub rows: Vec<(String, usize)>,
    /// Glossary terms.
    pub terms: usize,
    /// Quality rules.
    pub rules: usize,
    /// Policies.
    pub policies: usize,
    /// Tags.
    pub tags: usize,
}

/// One output file: path relative to the seeds folder, and its bytes.
pub type RenderedFile = (String, Vec<u8>);

/// Every output, in a fixed order.
pub fn render() -> io::Result<(Vec<RenderedFile>, DemoSummary)> {
    let data = data::generate();
    let mut out = Vec::new();
    let mut summary = DemoSummary::default();
    for t in &data.tables {
        let name = t.spec.name;
        out.push((
            format!("data/bronze/{name}.csv"),
            files::to_csv(t).into_bytes(),
        ));
        out.push((format!("data/bronze/{name}.parquet"), files::to_parquet(t)?));
        summary.rows.push((t.spec.qualified(), t.rows.len()));
    }
    for (file, text) in catalog::render(&data)? {
        out.push((format!("catalog/{file}"), text.into_bytes()));
    }
    let (terms, rules, policies, tags) = catalog::counts();
    summary.terms = terms;
    summary.rules = rules;
    summary.policies = policies;
    summary.tags = tags;
    summary.files = out
        .iter()
        .map(|(p, b)| (p.clone(), b.len() as u64))
        .collect();
    Ok((out, summary))
}

/// Writes every output under `out_dir` (normally [`seeds_dir`]).
pub fn generate(out_dir: &Path) -> io::Result<DemoSummary> {
    let (files, summary) = render()?;
    for (rel, bytes) in files {
        let path = out_dir.join(&rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, bytes)?;
    }
    Ok(summary)
}
