//! The `govgraph` command line: main only parses the arguments and wires subcommands.

mod commands;
mod policy;
mod product;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// govgraph: a data-governance knowledge graph in one binary.
///
/// It keeps your catalog (systems, datasets, columns, glossary, domains, owners, tags,
/// quality rules, policies and lineage) in an embedded RDF store and answers SPARQL over it.
#[derive(Debug, Parser)]
#[command(name = "govgraph", version, propagate_version = true)]
struct Cli {
    /// The data directory [default: ./govgraph-data, or [server] data in a serve config].
    #[arg(long, global = true, env = "GOVGRAPH_DATA")]
    data: Option<PathBuf>,

    /// Base IRI under which govgraph mints entity IRIs.
    #[arg(long, global = true, env = "GOVGRAPH_BASE_IRI", default_value = govgraph_graph::iri::DEFAULT_BASE)]
    base_iri: String,

    /// Log filter, such as `info` or `govgraph_api=debug`.
    #[arg(long, global = true, env = "GOVGRAPH_LOG", default_value = "warn")]
    log: String,

    /// Log format: `text` for people, `json` (one object per line) for log collectors.
    #[arg(
        long,
        global = true,
        env = "GOVGRAPH_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,

    /// The embedder behind search's vectors: `builtin` (no model files, no network),
    /// `openai` (an OpenAI-compatible endpoint; its key in GOVGRAPH_EMBEDDER_API_KEY) or
    /// `local` (a sentence-embedding model directory; build with the `local-model` feature)
    /// [default: builtin, or [embeddings] in a serve config]. Every command that opens the
    /// data directory must be given the same one: search re-embeds everything on a change.
    #[arg(long, global = true, env = "GOVGRAPH_EMBEDDER", value_parser = ["builtin", "openai", "local"])]
    embedder: Option<String>,

    /// The embeddings endpoint's API base for `--embedder openai`, such as
    /// http://127.0.0.1:8080/v1.
    #[arg(long, global = true, env = "GOVGRAPH_EMBEDDER_URL")]
    embedder_url: Option<String>,

    /// The embedding model: its name for `openai`, its directory for `local`.
    #[arg(long, global = true, env = "GOVGRAPH_EMBEDDER_MODEL")]
    embedder_model: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the data directory and install the ontology and shapes.
    Init,
    /// Load RDF files (Turtle, N-Triples, N-Quads, TriG, RDF/XML, JSON-LD), all or nothing.
    ///
    /// Each file is a source with its own named graph; loading a source again replaces
    /// exactly its facts. The load is validated against the SHACL shapes and refused on a
    /// violation.
    Load(commands::LoadArgs),
    /// Run a SPARQL query and print the results.
    Sparql(commands::SparqlArgs),
    /// Write the store, or one graph, as RDF.
    Export(commands::ExportArgs),
    /// Validate the store against the SHACL shapes; exits 1 on a violation.
    Validate(commands::ValidateArgs),
    /// Take a consistent backup into a new directory (itself a data directory).
    Backup(commands::BackupArgs),
    /// List the loaded sources, or remove one.
    Sources(commands::SourcesArgs),
    /// Ingest metadata from a source.
    #[command(subcommand)]
    Ingest(commands::IngestCommand),
    /// Lineage: walk it upstream or downstream, or extract it from SQL.
    #[command(subcommand)]
    Lineage(commands::LineageCommand),
    /// Search the catalog: names, business words, abbreviations, typos.
    ///
    /// Full text (BM25) and vectors, fused, then certification, quality and popularity.
    /// The index lives in DATA/search and is brought up to date with the store first.
    Search(commands::SearchArgs),
    /// Ask a governance question in plain words: discovery, sensitivity, ownership,
    /// lineage and impact, the glossary, quality, policy, compliance and counts. Answers
    /// come from the graph, with citations, and respect the role's limits (no language
    /// model needed).
    Ask(commands::AskArgs),
    /// Build a data product from a request in words: intent, discovery (honouring your
    /// access), target model, SQL checked against the catalog and executed on the data
    /// (with the `datafusion` feature), quality rules (dbt, Great Expectations, ODCS) and
    /// the packaged spec. Exits 2 when the request needs a clarification.
    Product(product::ProductArgs),
    /// Serve the HTTP API over the data directory: SPARQL 1.1 at /sparql, REST at /api/v1
    /// (OpenAPI at /openapi.json, docs at /docs), /metrics, /healthz and /readyz.
    ///
    /// Configuration comes from a TOML file (--config), then the environment, then flags.
    /// Without API keys the server is read-only and listens on loopback only.
    Serve(commands::ServeArgs),
    /// Read the audit log: who did what, when, and whether it was allowed.
    Audit(commands::AuditArgs),
    /// Classify columns as personal data (PII) from their names and sampled values: a file,
    /// or the tables of a PostgreSQL database; or record a steward's decision on a label.
    ///
    /// Each label has a category (email, iban, date_of_birth, ...), the DPV personal-data
    /// concept, a special-category flag, a confidence and the evidence. Stored labels become
    /// tags on the columns; confirmed and rejected labels survive later runs.
    Classify(commands::ClassifyArgs),
    /// Profile a file: counts, nulls, distinct values, min, max, mean, standard deviation,
    /// quartiles, most frequent values, lengths, format patterns and semantic types.
    Profile(commands::ProfileArgs),
    /// Data-quality rules: suggest them, run them, export them.
    #[command(subcommand)]
    Quality(commands::QualityCommand),
    /// Quality scores per dimension, dataset and domain, from the latest run of every rule
    /// (quality runs, dbt test results, OpenLineage assertions).
    Scorecard(commands::ScorecardArgs),
    /// Policies: decide on requests, compile YAML to ODRL, propose and approve versions,
    /// run policy tests, report conflicts, and enforce retention.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Compliance reports from the graph: the GDPR Art. 30 record and the CCPA/CPRA
    /// disclosures, in JSON, CSV, Markdown or HTML.
    #[command(subcommand)]
    Compliance(policy::ComplianceCommand),
    /// Load the demo catalog into the data directory and serve it.
    Demo(commands::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    match cli.log_format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
    }
    let ctx = commands::Context {
        data_given: cli.data.is_some(),
        data: cli.data.unwrap_or_else(|| PathBuf::from("./govgraph-data")),
        base_iri: cli.base_iri,
        embedder: commands::EmbedderFlags {
            kind: cli.embedder,
            url: cli.embedder_url,
            model: cli.embedder_model,
        },
    };
    let result = match cli.command {
        Command::Init => commands::init(&ctx),
        Command::Load(args) => commands::load(&ctx, args),
        Command::Sparql(args) => commands::sparql(&ctx, args),
        Command::Export(args) => commands::export(&ctx, args),
        Command::Validate(args) => commands::validate(&ctx, args),
        Command::Backup(args) => commands::backup(&ctx, args),
        Command::Sources(args) => commands::sources(&ctx, args),
        Command::Ingest(cmd) => commands::ingest(&ctx, cmd),
        Command::Lineage(cmd) => commands::lineage(&ctx, cmd),
        Command::Search(args) => commands::search(&ctx, args),
        Command::Ask(args) => commands::ask(&ctx, args),
        Command::Product(args) => product::product(&ctx, args),
        Command::Serve(args) => commands::serve(&ctx, args),
        Command::Audit(args) => commands::audit(&ctx, args),
        Command::Classify(args) => commands::classify(&ctx, args),
        Command::Profile(args) => commands::profile(&ctx, args),
        Command::Quality(cmd) => commands::quality(&ctx, cmd),
        Command::Scorecard(args) => commands::scorecard(&ctx, args),
        Command::Policy(cmd) => policy::policy(&ctx, cmd),
        Command::Compliance(cmd) => policy::compliance(&ctx, cmd),
        Command::Demo(args) => commands::demo(&ctx, args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
