//! The `govgraph` command line: main only parses the arguments and wires subcommands.

mod commands;
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
    /// The data directory.
    #[arg(
        long,
        global = true,
        env = "GOVGRAPH_DATA",
        default_value = "./govgraph-data"
    )]
    data: PathBuf,

    /// Base IRI under which govgraph mints entity IRIs.
    #[arg(long, global = true, env = "GOVGRAPH_BASE_IRI", default_value = govgraph_graph::iri::DEFAULT_BASE)]
    base_iri: String,

    /// Log filter, such as `info` or `govgraph_api=debug`.
    #[arg(long, global = true, env = "GOVGRAPH_LOG", default_value = "warn")]
    log: String,

    #[command(subcommand)]
    command: Command,
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
    /// Serve the HTTP API (the SPARQL endpoint) over the data directory.
    Serve(commands::ServeArgs),
    /// Load the demo catalog into the data directory and serve it.
    Demo(commands::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let ctx = commands::Context {
        data: cli.data,
        base_iri: cli.base_iri,
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
        Command::Serve(args) => commands::serve(&ctx, args),
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
