//! `govgraph product`: a data product from a request in words.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Result, bail};
use govgraph_agents::product::{BuilderConfig, ProductBuilder, ProductRequest};
use govgraph_graph::Scope;

use crate::commands::Context;

#[derive(Debug, clap::Args)]
pub struct ProductArgs {
    /// What you need, e.g. "daily net revenue by region and category for completed orders".
    request: String,
    /// The SQL dialect: duckdb, postgres, redshift, snowflake, bigquery, databricks or
    /// datafusion.
    #[arg(long, default_value = "duckdb")]
    dialect: String,
    /// Answer a clarification: PHRASE=TERM, such as revenue=net-revenue (repeatable).
    #[arg(long = "choose", value_name = "PHRASE=TERM")]
    choose: Vec<String>,
    /// The purpose the product serves (a DPV purpose such as dpv:Marketing, or words):
    /// the policies decide which columns it may carry.
    #[arg(long)]
    purpose: Option<String>,
    /// Build as this role (admin, steward, engineer, analyst or viewer): discovery and
    /// columns follow what it may read.
    #[arg(long, default_value = "analyst")]
    role: String,
    /// The requester's domains (keys), for domain policies (repeatable).
    #[arg(long)]
    domain: Vec<String>,
    /// The product's id (a slug); derived from the request when absent.
    #[arg(long)]
    name: Option<String>,
    /// Register the product, its output dataset and its column lineage in the graph.
    #[arg(long)]
    register: bool,
    /// Write the output as Parquet (into --output-dir) and profile it; implies --register.
    #[arg(long)]
    materialize: bool,
    /// Where the catalog's relative data-file paths are resolved (default: the demo's seeds
    /// folder when it exists). Only files under this folder or the output folder are read.
    #[arg(long, env = "GOVGRAPH_DATA_ROOT")]
    data_root: Option<PathBuf>,
    /// Where materialized products go (default: DATA/products).
    #[arg(long)]
    output_dir: Option<PathBuf>,
    /// Print the whole spec as JSON.
    #[arg(long, conflicts_with = "yaml")]
    json: bool,
    /// Print the whole spec as YAML.
    #[arg(long)]
    yaml: bool,
}

pub fn product(ctx: &Context, args: ProductArgs) -> Result<ExitCode> {
    let mut choices = BTreeMap::new();
    for c in &args.choose {
        let Some((phrase, term)) = c.split_once('=') else {
            bail!("--choose {c}: expected PHRASE=TERM, such as revenue=net-revenue");
        };
        choices.insert(phrase.trim().to_ascii_lowercase(), term.trim().to_owned());
    }
    let writes = args.register || args.materialize;
    let store = Arc::new(if writes {
        ctx.open()?
    } else {
        ctx.open_for_reading()?
    });
    let data_root = args.data_root.clone().or_else(|| {
        let seeds = govgraph_seeds::seeds_dir();
        seeds.join("data").is_dir().then_some(seeds)
    });
    let key = govgraph_policy::MaskKey::load_or_create(&ctx.data)?;
    let engine = Arc::new(govgraph_policy::Engine::new(Arc::clone(&store), key));
    let builder = ProductBuilder::new(BuilderConfig {
        data_root,
        output_dir: args
            .output_dir
            .clone()
            .unwrap_or_else(|| ctx.data.join("products")),
        ..BuilderConfig::default()
    })
    .with_policy(engine);
    let subject = govgraph_policy::Subject {
        name: format!("cli ({})", args.role),
        roles: vec![args.role.to_ascii_lowercase()],
        domains: args.domain.clone(),
    };
    let request = ProductRequest {
        request: args.request.clone(),
        dialect: Some(args.dialect.clone()),
        choices,
        purpose: args.purpose.clone(),
        name: args.name.clone(),
        register: args.register,
        materialize: args.materialize,
    };
    let product = builder.build(&store, &Scope::all(), &subject, &request)?;
    let code = if product.status == "ready" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&product)?);
        return Ok(code);
    }
    if args.yaml {
        print!("{}", product.spec_yaml);
        return Ok(code);
    }
    let spec = &product.spec;
    println!("{} ({})", spec.title, product.status);
    for c in &spec.clarifications {
        println!("\n? {}", c.question);
        for choice in &c.choices {
            println!(
                "    --choose \"{}={}\"  {}: {}",
                c.phrase,
                choice.id,
                choice.label,
                choice.definition.as_deref().unwrap_or("")
            );
        }
        println!("  (this draft assumes {})", c.assumed);
    }
    println!("\nintent:");
    for m in &spec.intent.metrics {
        println!("  measure    {:<28} ({:.2})", m.label, m.confidence);
    }
    for d in &spec.intent.dimensions {
        println!("  dimension  {:<28} ({:.2})", d.phrase, d.confidence);
    }
    if let Some((g, c)) = spec.intent.time_granularity {
        println!("  grain      {:<28} ({c:.2})", g.unit());
    }
    println!("\ndiscovery:");
    for c in &spec.discovery.candidates {
        println!(
            "  {} {:<40} score {:.2}, coverage {:.2}",
            if c.selected { "*" } else { " " },
            c.dataset,
            c.score,
            c.coverage
        );
    }
    for e in &spec.discovery.excluded {
        println!("  - {:<40} {}: {}", e.dataset, e.reason, e.detail);
    }
    println!(
        "\nmodel {} (key: {}):",
        spec.model.table,
        spec.model.primary_key.join(", ")
    );
    for c in &spec.model.columns {
        println!("  {:<28} {:<14} {:?}", c.name, c.sql_type, c.role);
    }
    for w in &spec.security.withheld {
        println!("  withheld: {} ({})", w.column, w.reason);
    }
    println!(
        "\n-- {} SQL\n{};",
        spec.transformation.dialect, spec.transformation.sql
    );
    let v = &spec.transformation.validation;
    match (&v.engine, v.row_count) {
        (Some(engine), Some(rows)) => println!(
            "\nran on {engine}: {rows} row(s); columns and types {}",
            if v.matches_declared == Some(true) {
                "as declared"
            } else {
                "differ"
            }
        ),
        _ => println!(
            "\nparsed: {}, checked against the catalog: {}; not executed: {}",
            v.parsed,
            v.schema_checked,
            v.not_executed.as_deref().unwrap_or("")
        ),
    }
    for p in &spec.problems {
        println!("  problem: {p}");
    }
    println!(
        "\nquality: {} rule(s) (dbt, Great Expectations and ODCS in --yaml/--json)",
        spec.quality.rules.len()
    );
    if let Some(iri) = &product.registered {
        println!("registered: {iri}");
    }
    if let Some((path, rows)) = &product.materialized {
        println!("materialized: {path} ({rows} rows, profiled)");
    }
    Ok(code)
}
