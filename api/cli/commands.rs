//! One function per subcommand.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use govgraph_api::results::{Limits, SolutionsFormat, serialize};
use govgraph_api::{AppState, ServerConfig};
use govgraph_graph::loader::{format_for_name, source_graph};
use govgraph_graph::oxigraph::io::RdfFormat;
use govgraph_graph::oxigraph::model::NamedNode;
use govgraph_graph::oxigraph::sparql::results::QueryResultsFormat;
use govgraph_graph::{
    GraphStore, IriScheme, LoadOptions, LoadSource, QueryOptions, Severity, StoreConfig,
};
use govgraph_quality::locate::DatasetSource;

use crate::progress::Bars;

/// What every command needs.
#[derive(Debug, Clone)]
pub struct Context {
    pub data: PathBuf,
    /// Whether --data or GOVGRAPH_DATA named the data directory (else a config file may).
    pub data_given: bool,
    pub base_iri: String,
    /// The search embedder as the flags and the environment give it.
    pub embedder: EmbedderFlags,
}

/// `--embedder`, `--embedder-url` and `--embedder-model` (or their environment variables).
#[derive(Debug, Clone, Default)]
pub struct EmbedderFlags {
    pub kind: Option<String>,
    pub url: Option<String>,
    pub model: Option<String>,
}

impl Context {
    /// The `[embeddings]` settings: a serve config's section (or the defaults), then the
    /// environment and the flags.
    pub(crate) fn embeddings(
        &self,
        file: Option<&govgraph_api::config::EmbeddingsSection>,
    ) -> govgraph_api::config::EmbeddingsSection {
        let mut section = file.cloned().unwrap_or_default();
        if let Some(kind) = &self.embedder.kind {
            section.kind.clone_from(kind);
        }
        if let Some(url) = &self.embedder.url {
            section.base_url = Some(url.clone());
        }
        if let Some(model) = &self.embedder.model {
            // A model name for an endpoint, a directory for a local model.
            if section.kind == "local" {
                section.path = Some(PathBuf::from(model));
            } else {
                section.model = Some(model.clone());
            }
        }
        section
    }

    /// The search embedder: see [`embeddings`](Self::embeddings). An endpoint's key comes
    /// from `GOVGRAPH_EMBEDDER_API_KEY`.
    pub(crate) fn embedder(
        &self,
        file: Option<&govgraph_api::config::EmbeddingsSection>,
    ) -> Result<Arc<dyn govgraph_search::Embedder>> {
        let key = std::env::var("GOVGRAPH_EMBEDDER_API_KEY")
            .ok()
            .filter(|k| !k.is_empty());
        let settings = self.embeddings(file).settings(key)?;
        let kind = settings.kind();
        govgraph_agents::embedding::embedder(&settings)
            .with_context(|| format!("the {kind} embedder"))
    }

    fn config(&self) -> Result<StoreConfig> {
        Ok(StoreConfig {
            scheme: IriScheme::new(&self.base_iri).context("--base-iri")?,
        })
    }

    /// Opens the store for writing; fails if another process holds it.
    pub(crate) fn open(&self) -> Result<GraphStore> {
        #[cfg(feature = "rocksdb")]
        {
            Ok(GraphStore::open(&self.data, self.config()?)?)
        }
        #[cfg(not(feature = "rocksdb"))]
        {
            let _ = self.config()?;
            bail!("this build has no on-disk storage; rebuild with the `rocksdb` feature")
        }
    }

    /// Opens the store for reading, read-only if another process holds it.
    pub(crate) fn open_for_reading(&self) -> Result<GraphStore> {
        #[cfg(feature = "rocksdb")]
        {
            Ok(GraphStore::open_for_reading(&self.data, self.config()?)?)
        }
        #[cfg(not(feature = "rocksdb"))]
        {
            self.open()
        }
    }
}

pub fn init(ctx: &Context) -> Result<ExitCode> {
    let store = ctx.open()?;
    let stats = store.stats()?;
    println!(
        "initialised {} ({} quads in {} graphs)",
        ctx.data.display(),
        stats.quads,
        stats.graphs
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Files to load; `-` reads standard input (then --format is required).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Source name (only with one file). Default: `file:` plus the file name.
    #[arg(long)]
    source: Option<String>,
    /// Format, when the extension does not tell: turtle, ntriples, nquads, trig, rdfxml, jsonld.
    #[arg(long)]
    format: Option<String>,
    /// Base IRI for relative IRIs in the files.
    #[arg(long)]
    base: Option<String>,
    /// Skip the SHACL validation.
    #[arg(long)]
    no_validate: bool,
    /// Print the load report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn load(ctx: &Context, args: LoadArgs) -> Result<ExitCode> {
    if args.source.is_some() && args.files.len() > 1 {
        bail!("--source names one source; give one file, or leave it out");
    }
    let format = match &args.format {
        Some(name) => {
            Some(format_for_name(name).with_context(|| format!("unknown format {name:?}"))?)
        }
        None => None,
    };
    let mut sources = Vec::new();
    for path in &args.files {
        let mut source = if path.as_os_str() == "-" {
            let format = format.context("reading standard input needs --format")?;
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("reading standard input")?;
            LoadSource::from_bytes(
                args.source.as_deref().unwrap_or("stdin"),
                "stdin",
                format,
                bytes,
            )
        } else {
            LoadSource::from_path(path, args.source.as_deref(), format)?
        };
        source.base_iri.clone_from(&args.base);
        sources.push(source);
    }
    let store = ctx.open()?;
    let options = LoadOptions {
        validate: !args.no_validate,
        ..LoadOptions::default()
    };
    let report = store.load(sources, &options, &Bars::default())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for g in &report.graphs {
            println!(
                "{}: {} triples into <{}> ({} inferred types, {} replaced)",
                g.location, g.triples, g.graph, g.inferred, g.replaced
            );
        }
        let secs = report.elapsed.as_secs_f64();
        println!(
            "loaded {} triples in {:.2}s ({:.0} triples/s)",
            report.triples(),
            secs,
            report.triples() as f64 / secs.max(1e-9)
        );
        print_validation_notes(&report.validation);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_validation_notes(report: &govgraph_graph::ValidationReport) {
    let warnings = report
        .results
        .iter()
        .filter(|r| r.severity == Severity::Warning)
        .count();
    let infos = report
        .results
        .iter()
        .filter(|r| r.severity == Severity::Info)
        .count();
    if warnings + infos > 0 {
        eprintln!(
            "validation: {warnings} warning(s), {infos} info(s); `govgraph validate` lists them"
        );
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TableFormat {
    /// An aligned text table.
    Table,
    /// SPARQL results JSON.
    Json,
    /// CSV.
    Csv,
    /// TSV.
    Tsv,
    /// SPARQL results XML.
    Xml,
}

#[derive(Debug, Args)]
pub struct SparqlArgs {
    /// The query; `@FILE` reads it from a file and `-` from standard input.
    query: String,
    /// Output format for SELECT and ASK.
    #[arg(long, value_enum, default_value = "table")]
    format: TableFormat,
    /// Output format for CONSTRUCT and DESCRIBE: turtle, ntriples, jsonld, rdfxml.
    #[arg(long, default_value = "turtle")]
    graph_format: String,
    /// Graphs that form the default graph (default: the union of all graphs).
    #[arg(long = "default-graph")]
    default_graphs: Vec<String>,
    /// Cancel the query after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

fn read_query(arg: &str) -> Result<String> {
    if arg == "-" {
        let mut q = String::new();
        std::io::stdin()
            .read_to_string(&mut q)
            .context("reading the query from standard input")?;
        Ok(q)
    } else if let Some(path) = arg.strip_prefix('@') {
        std::fs::read_to_string(path).with_context(|| format!("reading the query from {path}"))
    } else {
        Ok(arg.to_owned())
    }
}

pub fn sparql(ctx: &Context, args: SparqlArgs) -> Result<ExitCode> {
    let query = read_query(&args.query)?;
    let graph_format = format_for_name(&args.graph_format)
        .with_context(|| format!("unknown graph format {:?}", args.graph_format))?;
    let solutions = match args.format {
        TableFormat::Table => SolutionsFormat::Table,
        TableFormat::Json => SolutionsFormat::Sparql(QueryResultsFormat::Json),
        TableFormat::Csv => SolutionsFormat::Sparql(QueryResultsFormat::Csv),
        TableFormat::Tsv => SolutionsFormat::Sparql(QueryResultsFormat::Tsv),
        TableFormat::Xml => SolutionsFormat::Sparql(QueryResultsFormat::Xml),
    };
    let default_graphs = args
        .default_graphs
        .iter()
        .map(|g| NamedNode::new(g.clone()).with_context(|| format!("--default-graph {g:?}")))
        .collect::<Result<Vec<_>>>()?;
    let store = ctx.open_for_reading()?;
    let options = QueryOptions {
        default_graphs,
        named_graphs: Vec::new(),
        timeout: Some(Duration::from_secs(args.timeout)),
        federation: None,
    };
    let outcome = store.query(&query, &options)?;
    let limits = Limits {
        max_bytes: usize::MAX,
    };
    let out = serialize(
        outcome.results,
        &outcome.deadline,
        solutions,
        graph_format,
        limits,
        None,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out.body)?;
    if !out.body.ends_with(b"\n") {
        writeln!(stdout)?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// nquads or trig keep the graphs; turtle, ntriples, rdfxml and jsonld write one graph
    /// (or the union of all).
    #[arg(long, default_value = "nquads")]
    format: String,
    /// Export only this graph (an IRI).
    #[arg(long, conflicts_with = "source")]
    graph: Option<String>,
    /// Export only this source's graph.
    #[arg(long)]
    source: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Include the graphs govgraph manages itself (ontology, shapes, load records).
    #[arg(long)]
    all: bool,
}

pub fn export(ctx: &Context, args: ExportArgs) -> Result<ExitCode> {
    let format = format_for_name(&args.format)
        .with_context(|| format!("unknown format {:?}", args.format))?;
    let graph = match (&args.graph, &args.source) {
        (Some(g), _) => Some(NamedNode::new(g.clone()).with_context(|| format!("--graph {g:?}"))?),
        (None, Some(s)) => Some(source_graph(s)?),
        (None, None) => None,
    };
    let store = ctx.open_for_reading()?;
    let n = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            let n = store.export(
                &mut w,
                format,
                graph.as_ref().map(NamedNode::as_ref),
                args.all,
            )?;
            w.flush()?;
            n
        }
        None => {
            let stdout = std::io::stdout().lock();
            let mut w = std::io::BufWriter::new(stdout);
            let n = store.export(
                &mut w,
                format,
                graph.as_ref().map(NamedNode::as_ref),
                args.all,
            )?;
            w.flush()?;
            n
        }
    };
    eprintln!(
        "exported {n} {}",
        if format.supports_datasets() {
            "quads"
        } else {
            "triples"
        }
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    /// One line per result.
    Text,
    /// JSON.
    Json,
    /// A SHACL validation report in Turtle.
    Turtle,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

pub fn validate(ctx: &Context, args: ValidateArgs) -> Result<ExitCode> {
    let store = ctx.open_for_reading()?;
    let report = store.validate()?;
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ReportFormat::Turtle => {
            let mut ser =
                govgraph_graph::oxigraph::io::RdfSerializer::from_format(RdfFormat::Turtle)
                    .with_prefix("sh", govgraph_graph::vocab::sh::NS)?
                    .for_writer(std::io::stdout().lock());
            for t in report.to_graph().iter() {
                ser.serialize_triple(t)?;
            }
            ser.finish()?.flush()?;
        }
        ReportFormat::Text => {
            for r in &report.results {
                let severity = match r.severity {
                    Severity::Violation => "violation",
                    Severity::Warning => "warning",
                    Severity::Info => "info",
                };
                println!(
                    "[{severity}] {} {}: {}",
                    r.focus_node,
                    r.path.as_deref().unwrap_or("-"),
                    r.message
                );
            }
            let warnings = report
                .results
                .iter()
                .filter(|r| r.severity == Severity::Warning)
                .count();
            println!(
                "{} violation(s), {warnings} warning(s), {} info(s)",
                report.violations(),
                report.results.len() - report.violations() - warnings
            );
        }
    }
    Ok(if report.violations() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// A directory that does not exist yet.
    target: PathBuf,
}

pub fn backup(ctx: &Context, args: BackupArgs) -> Result<ExitCode> {
    #[cfg(feature = "rocksdb")]
    {
        // A running server holds the directory; RocksDB can still checkpoint it read-only.
        let store = ctx.open_for_reading()?;
        store.backup(&args.target)?;
        println!(
            "backed up {} to {}",
            ctx.data.display(),
            args.target.display()
        );
        Ok(ExitCode::SUCCESS)
    }
    #[cfg(not(feature = "rocksdb"))]
    {
        let _ = (ctx, args);
        bail!("this build has no on-disk storage")
    }
}

#[derive(Debug, Args)]
pub struct SourcesArgs {
    /// Remove this source and all its facts.
    #[arg(long)]
    remove: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn sources(ctx: &Context, args: SourcesArgs) -> Result<ExitCode> {
    if let Some(name) = &args.remove {
        let store = ctx.open()?;
        let n = store.remove_source(name)?;
        println!("removed {n} triples of source {name}");
        return Ok(ExitCode::SUCCESS);
    }
    let store = ctx.open_for_reading()?;
    let sources = store.sources()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&sources)?);
    } else {
        let header = ["graph", "triples", "loaded at", "location"].map(String::from);
        let rows: Vec<Vec<String>> = sources
            .iter()
            .map(|s| {
                vec![
                    s.graph.clone(),
                    s.triples.map(|n| n.to_string()).unwrap_or_default(),
                    s.loaded_at.clone().unwrap_or_default(),
                    s.location.clone().unwrap_or_default(),
                ]
            })
            .collect();
        govgraph_api::results::write_table(&mut std::io::stdout().lock(), &header, &rows)?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Subcommand)]
pub enum IngestCommand {
    /// SQL DDL: CREATE TABLE/VIEW, COMMENT ON and ALTER TABLE ... ADD CONSTRAINT become
    /// datasets, columns, constraint rules and relationships; views, CREATE TABLE AS and
    /// INSERT ... SELECT become column lineage. One source per file, all or nothing.
    Sql(IngestSqlArgs),
    /// A dbt target directory: manifest.json (schema v10 to v12), and catalog.json and
    /// run_results.json when present. Models, sources, seeds, snapshots, exposures, columns,
    /// tags, meta, groups, owners, tests with their latest results, and column lineage from
    /// the compiled SQL. One source per project, all or nothing, recorded as a run.
    Dbt(IngestDbtArgs),
    /// A PostgreSQL (or Redshift) database, read in one read-only snapshot: schemas, tables,
    /// views (their SQL becomes lineage), materialised views, columns, types, comments,
    /// constraints and row estimates. The password comes from --password-file, PGPASSWORD or
    /// the URL, and is never stored or logged. Unreachable servers are retried 3 times.
    Postgres(IngestPostgresArgs),
    /// A folder of CSV, TSV, Parquet and JSON-lines files, as datasets with inferred schemas;
    /// a folder of partitioned Parquet (key=value/ folders) is one dataset.
    Files(IngestFilesArgs),
    /// OpenLineage events from a JSON-lines file (one RunEvent, DatasetEvent or JobEvent per
    /// line), as `POST /api/v1/lineage` takes them. Every event is checked before any is
    /// applied.
    Openlineage(IngestOpenLineageArgs),
}

#[derive(Debug, Args)]
pub struct IngestDbtArgs {
    /// The dbt target directory (holding manifest.json).
    target_dir: PathBuf,
    /// The system the warehouse relations live in; use the same key as other connectors that
    /// see the same warehouse [default: the manifest's adapter type].
    #[arg(long)]
    system: Option<String>,
    /// The dialect of the compiled SQL [default: from the adapter type].
    #[arg(long)]
    dialect: Option<String>,
    /// Name datasets schema.table instead of database.schema.table.
    #[arg(long)]
    without_database: bool,
    /// Print the run record as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct IngestPostgresArgs {
    /// postgres://user@host[:port]/database, or a key=value connection string.
    url: String,
    /// The system the tables live in [default: host, port unless 5432, and database].
    #[arg(long)]
    system: Option<String>,
    /// A file whose first line is the password.
    #[arg(long, env = "GOVGRAPH_PG_PASSWORD_FILE")]
    password_file: Option<PathBuf>,
    /// Only schemas matching these patterns (`*` and `?` wildcards); repeatable.
    #[arg(long = "schema")]
    include_schemas: Vec<String>,
    /// Leave out schemas matching these patterns; repeatable.
    #[arg(long = "exclude-schema")]
    exclude_schemas: Vec<String>,
    /// Rows sampled per table for profiling and classification (0: none).
    #[arg(long, default_value_t = 1000)]
    sample_rows: u64,
    /// Seconds to wait for a connection.
    #[arg(long, default_value_t = 10)]
    connect_timeout: u64,
    /// Print the run record as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct IngestFilesArgs {
    /// The folder.
    dir: PathBuf,
    /// The system the files belong to [default: the folder's name].
    #[arg(long)]
    system: Option<String>,
    /// Records per file that column types are inferred from (0: all).
    #[arg(long, default_value_t = 10_000)]
    sample_rows: usize,
    /// Print the run record as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct IngestOpenLineageArgs {
    /// A JSON-lines file of events.
    file: PathBuf,
    /// Print one report per event as JSON lines.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct IngestSqlArgs {
    /// SQL files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// SQL dialect: generic, postgres, snowflake, bigquery, duckdb, redshift, mysql,
    /// databricks (spark), hive, mssql, sqlite, ansi.
    #[arg(long, default_value = "generic")]
    dialect: String,
    /// The system the tables belong to.
    #[arg(long, default_value = "sql")]
    system: String,
    /// The schema of unqualified table names.
    #[arg(long)]
    default_schema: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn ingest(ctx: &Context, cmd: IngestCommand) -> Result<ExitCode> {
    use govgraph_connectors::{dbt, files, postgres};
    let (report, json) = match cmd {
        IngestCommand::Sql(args) => return ingest_sql(ctx, args),
        IngestCommand::Openlineage(args) => return ingest_openlineage(ctx, args),
        IngestCommand::Dbt(args) => {
            let dialect = match &args.dialect {
                Some(d) => Some(d.parse().map_err(|e| anyhow::anyhow!("{e}"))?),
                None => None,
            };
            let options = dbt::DbtOptions {
                target_dir: args.target_dir,
                system: args.system,
                dialect,
                without_database: args.without_database,
            };
            let store = ctx.open()?;
            (
                dbt::ingest_dbt(&store, &options, &Bars::default())?,
                args.json,
            )
        }
        IngestCommand::Postgres(args) => {
            let mut options = postgres::PostgresOptions::new(args.url);
            options.system = args.system;
            options.password_file = args.password_file;
            options.include_schemas = args.include_schemas;
            options.exclude_schemas = args.exclude_schemas;
            options.sample_rows = args.sample_rows;
            options.connect_timeout = Duration::from_secs(args.connect_timeout.max(1));
            let store = ctx.open()?;
            (
                postgres::ingest_postgres(&store, &options, &Bars::default())?,
                args.json,
            )
        }
        IngestCommand::Files(args) => {
            let options = files::FilesOptions {
                system: args.system,
                sample_rows: args.sample_rows,
            };
            let store = ctx.open()?;
            (
                files::ingest_files(&store, &args.dir, &options, &Bars::default())?,
                args.json,
            )
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let counts: Vec<String> = report
            .counts
            .iter()
            .map(|(what, n)| format!("{n} {}", what.replace('_', " ")))
            .collect();
        println!(
            "ingested {} from {}: {} ({} triples); run {}",
            report.connector,
            report.source,
            counts.join(", "),
            report.load.as_ref().map_or(0, |l| l.triples()),
            report.run
        );
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn ingest_openlineage(ctx: &Context, args: IngestOpenLineageArgs) -> Result<ExitCode> {
    use govgraph_connectors::openlineage;
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let events: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l))
        .collect();
    let store = ctx.open()?;
    let scope = govgraph_graph::Scope::all();
    for (line, event) in &events {
        openlineage::check_event(&store, &scope, event.as_bytes())
            .with_context(|| format!("{}:{line}", args.file.display()))?;
    }
    let mut edges = 0;
    for (line, event) in &events {
        let report = openlineage::apply_event(&store, &scope, event.as_bytes())
            .with_context(|| format!("{}:{line}", args.file.display()))?;
        edges += report.lineage_edges;
        if args.json {
            println!("{}", serde_json::to_string(&report)?);
        }
        for w in &report.warnings {
            eprintln!("warning: {}:{line}: {w}", args.file.display());
        }
    }
    if !args.json {
        println!(
            "applied {} OpenLineage events ({edges} column-lineage edges)",
            events.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn ingest_sql(ctx: &Context, args: IngestSqlArgs) -> Result<ExitCode> {
    let dialect: govgraph_lineage::Dialect =
        args.dialect.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let files = args
        .files
        .iter()
        .map(|p| {
            Ok(govgraph_graph::ingest::SqlFile {
                location: p.display().to_string(),
                text: std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let store = ctx.open()?;
    let options = govgraph_graph::ingest::SqlIngestOptions {
        dialect,
        system: args.system,
        default_schema: args.default_schema,
    };
    let report = govgraph_graph::ingest::ingest_sql(&store, &files, &options, &Bars::default())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "ingested {} datasets, {} columns, {} constraint rules, {} relationships, {} column-lineage edges ({} triples)",
            report.datasets,
            report.columns,
            report.rules,
            report.relationships,
            report.lineage_edges,
            report.load.triples()
        );
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Subcommand)]
pub enum LineageCommand {
    /// Column-level lineage of SQL, as JSON (nothing is stored).
    Sql(LineageSqlArgs),
    /// What a table or column is derived from, hop by hop.
    Upstream(WalkArgs),
    /// What depends on a table or column: the impact of changing it.
    Downstream(WalkArgs),
}

#[derive(Debug, Args)]
pub struct WalkArgs {
    /// A dataset (`gold.daily_sales`), a column (`gold.daily_sales.revenue`, with --column)
    /// or an IRI.
    reference: String,
    /// Walk column-level lineage instead of table-level.
    #[arg(long)]
    column: bool,
    /// The most hops.
    #[arg(long, default_value_t = 10)]
    depth: usize,
    /// Column level: follow only DIRECT derivations.
    #[arg(long)]
    direct_only: bool,
    /// Skip this many nodes.
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Return at most this many nodes.
    #[arg(long, default_value_t = 1000)]
    limit: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct LineageSqlArgs {
    /// A .sql file, or `-` for standard input.
    #[arg(required_unless_present = "dir")]
    file: Option<PathBuf>,
    /// Run over every .sql file of a folder and print a summary.
    #[arg(long, conflicts_with = "file")]
    dir: Option<PathBuf>,
    /// SQL dialect.
    #[arg(long, default_value = "generic")]
    dialect: String,
    /// A schema in sqlglot's mapping format (`{"table": {"col": "type"}}`, or nested by
    /// schema and database). Without it, the catalog's tables are the schema.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// The schema of unqualified table names.
    #[arg(long)]
    default_schema: Option<String>,
}

fn lineage_sql(ctx: &Context, args: LineageSqlArgs) -> Result<ExitCode> {
    let dialect: govgraph_lineage::Dialect =
        args.dialect.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let schema = match &args.schema {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            govgraph_lineage::Schema::from_mapping_json(&text)
                .with_context(|| format!("{}", path.display()))?
        }
        None if ctx.data.join("store").exists() => {
            govgraph_graph::ingest::schema_from_store(&ctx.open_for_reading()?)?.0
        }
        None => govgraph_lineage::Schema::new(),
    };
    let options = govgraph_lineage::Options {
        dialect,
        default_database: None,
        default_schema: args.default_schema.clone(),
    };
    if let Some(dir) = &args.dir {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "sql"))
            .collect();
        files.sort();
        let (mut statements, mut columns, mut errors, mut warnings) = (0, 0, 0, 0);
        let header = [
            "file",
            "statements",
            "target",
            "columns",
            "errors",
            "warnings",
        ]
        .map(String::from);
        let mut rows = Vec::new();
        for f in &files {
            let text =
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            let a = govgraph_lineage::analyze(&text, &schema, &options);
            let e = a.statements.iter().filter(|s| s.error.is_some()).count();
            let w: usize = a.statements.iter().map(|s| s.warnings.len()).sum();
            let c: usize = a.statements.iter().map(|s| s.columns.len()).sum();
            let targets: Vec<String> = a
                .statements
                .iter()
                .filter_map(|s| s.target.clone())
                .collect();
            statements += a.statements.len();
            columns += c;
            errors += e;
            warnings += w;
            rows.push(vec![
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                a.statements.len().to_string(),
                targets.join(", "),
                c.to_string(),
                e.to_string(),
                w.to_string(),
            ]);
        }
        govgraph_api::results::write_table(&mut std::io::stdout().lock(), &header, &rows)?;
        println!(
            "{} files, {statements} statements, {columns} output columns, {errors} parse errors, {warnings} warnings",
            files.len()
        );
        return Ok(if errors > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    let text = match args.file.as_deref() {
        Some(p) if p.as_os_str() == "-" => {
            let mut t = String::new();
            std::io::stdin().read_to_string(&mut t)?;
            t
        }
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => bail!("give a file, `-`, or --dir"),
    };
    let analysis = govgraph_lineage::analyze(&text, &schema, &options);
    println!("{}", serde_json::to_string_pretty(&analysis)?);
    Ok(if analysis.statements.iter().any(|s| s.error.is_some()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub fn lineage(ctx: &Context, cmd: LineageCommand) -> Result<ExitCode> {
    use govgraph_graph::traverse::{Direction, Level, Traversal, resolve, traverse};
    let (args, direction) = match cmd {
        LineageCommand::Sql(args) => return lineage_sql(ctx, args),
        LineageCommand::Upstream(a) => (a, Direction::Upstream),
        LineageCommand::Downstream(a) => (a, Direction::Downstream),
    };
    let level = if args.column {
        Level::Column
    } else {
        Level::Table
    };
    let store = ctx.open_for_reading()?;
    let start = resolve(&store, &args.reference, level)?;
    let mut walk = Traversal::new(start, level, direction);
    walk.max_depth = args.depth;
    walk.include_indirect = !args.direct_only;
    walk.offset = args.offset;
    walk.limit = args.limit;
    let result = traverse(&store, &walk)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
        return Ok(ExitCode::SUCCESS);
    }
    let short = |iri: &str| {
        store
            .scheme()
            .parse(iri)
            .map(|p| match p {
                govgraph_graph::iri::Parsed::Dataset(k) => format!("{}/{}", k.system, k.name),
                govgraph_graph::iri::Parsed::Column(k) => {
                    format!("{}/{}.{}", k.dataset.system, k.dataset.name, k.name)
                }
                govgraph_graph::iri::Parsed::Other(kind, key) => format!("{kind}:{key}"),
            })
            .unwrap_or_else(|| iri.to_owned())
    };
    let header = ["depth", "node", "via"].map(String::from);
    let rows: Vec<Vec<String>> = result
        .nodes
        .iter()
        .map(|n| {
            let via: Vec<String> = result
                .edges
                .iter()
                .filter(|e| e.to == n.iri)
                .map(|e| match (&e.transformation, &e.subtype) {
                    (Some(t), Some(s)) => format!("{} ({t}/{s})", short(&e.from)),
                    _ => short(&e.from),
                })
                .collect();
            vec![n.depth.to_string(), short(&n.iri), via.join(", ")]
        })
        .collect();
    govgraph_api::results::write_table(&mut std::io::stdout().lock(), &header, &rows)?;
    if result.total > result.nodes.len() {
        println!(
            "showing {} of {} nodes (use --offset and --limit)",
            result.nodes.len(),
            result.total
        );
    }
    if result.truncated {
        println!(
            "the walk stopped at depth {}; there is more beyond it",
            args.depth
        );
    }
    for cycle in &result.cycles {
        println!(
            "cycle: {}",
            cycle
                .iter()
                .map(|c| short(c))
                .collect::<Vec<_>>()
                .join(" -> ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A TOML configuration file: [server], [limits], [audit] and [[principals]]. Values
    /// from the environment and flags override it.
    #[arg(long, env = "GOVGRAPH_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:7878). Without API keys only loopback
    /// addresses are allowed.
    #[arg(long, env = "GOVGRAPH_ADDR")]
    addr: Option<SocketAddr>,
    /// Cancel queries after this many seconds (default 10).
    #[arg(long, env = "GOVGRAPH_QUERY_TIMEOUT")]
    query_timeout: Option<u64>,
    /// Principals as `name:key:role[,role][:domain[,domain][:tenant]]`, `;`-separated.
    #[arg(long, env = "GOVGRAPH_API_KEYS", hide_env_values = true)]
    api_keys: Option<String>,
    /// Requests per minute per principal (0: no limit).
    #[arg(long, env = "GOVGRAPH_RATE_LIMIT")]
    rate_limit: Option<u32>,
    /// Queries, updates and searches running at once.
    #[arg(long, env = "GOVGRAPH_MAX_CONCURRENT")]
    max_concurrent: Option<usize>,
    /// The audit log (default DATA/audit.jsonl).
    #[arg(long, env = "GOVGRAPH_AUDIT_LOG")]
    audit_log: Option<PathBuf>,
}

impl ServeArgs {
    /// The configuration: the file, then the environment and the flags.
    fn resolve(&self, ctx: &Context) -> Result<(govgraph_api::config::FileConfig, PathBuf)> {
        let mut file = match &self.config {
            Some(path) => govgraph_api::config::FileConfig::from_file(path)?,
            None => govgraph_api::config::FileConfig::default(),
        };
        if let Some(keys) = &self.api_keys {
            file.add_env_keys(keys)?;
        }
        if let Some(a) = self.addr {
            file.server.addr = Some(a);
        }
        if let Some(t) = self.query_timeout {
            file.limits.query_timeout_ms = t.saturating_mul(1000).max(1);
        }
        if let Some(r) = self.rate_limit {
            file.limits.requests_per_minute = r;
        }
        if let Some(m) = self.max_concurrent {
            file.limits.max_concurrent = m.max(1);
        }
        let data = match (&file.server.data, ctx.data_given) {
            (Some(d), false) => d.clone(),
            _ => ctx.data.clone(),
        };
        if let Some(a) = &self.audit_log {
            file.audit.path = Some(a.clone());
        }
        if file.audit.path.is_none() {
            file.audit.path = Some(data.join("audit.jsonl"));
        }
        if file.products.output_dir.is_none() {
            file.products.output_dir = Some(data.join("products"));
        }
        Ok((file, data))
    }
}

fn run_server(
    ctx: &Context,
    store: GraphStore,
    data: &std::path::Path,
    file: &govgraph_api::config::FileConfig,
    banner: impl FnOnce(SocketAddr) + Send + 'static,
) -> Result<ExitCode> {
    let store = Arc::new(store);
    let metrics = Arc::new(govgraph_api::metrics::Metrics::default());
    let embedder = ctx.embedder(Some(&file.embeddings))?;
    let index = govgraph_search::SearchIndex::open(&data.join("search"), embedder)?;
    let on_sync = {
        let metrics = metrics.clone();
        move |r: &govgraph_search::SyncReport| {
            tracing::info!(
                mode = r.mode,
                indexed = r.indexed,
                deleted = r.deleted,
                ms = r.elapsed_ms,
                "search index synced"
            );
            metrics.search_synced(r.documents);
        }
    };
    // The startup check: whatever the index misses or holds stale is rebuilt before serving.
    let search = Arc::new(govgraph_search::LiveIndex::start(
        store.clone(),
        index,
        Duration::from_secs(5),
        on_sync,
    )?);
    let state = Arc::new(AppState::new(
        store,
        search,
        metrics,
        ServerConfig::from_file(file),
    )?);
    let addr = file
        .server
        .addr
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 7878)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let shutdown = async {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term =
                    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    {
                        Ok(t) => t,
                        Err(_) => {
                            let _ = ctrl_c.await;
                            return;
                        }
                    };
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            #[cfg(not(unix))]
            {
                let _ = ctrl_c.await;
            }
            eprintln!("shutting down: finishing requests in flight");
        };
        govgraph_api::serve(state, addr, banner, shutdown).await
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn serve(ctx: &Context, args: ServeArgs) -> Result<ExitCode> {
    let (file, data) = args.resolve(ctx)?;
    let ctx = Context {
        data: data.clone(),
        ..ctx.clone()
    };
    let store = ctx.open()?;
    let keys = file.principals.len();
    run_server(&ctx, store, &data, &file, move |addr| {
        if keys == 0 {
            println!("no API keys configured: read-only, loopback only");
        } else {
            println!("{keys} principals configured");
        }
        println!(
            "govgraph serving http://{addr}/ (SPARQL at /sparql, REST at /api/v1, docs at /docs)"
        );
    })
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Load the demo catalog and exit without serving.
    #[arg(long)]
    no_serve: bool,
}

pub fn demo(ctx: &Context, args: DemoArgs) -> Result<ExitCode> {
    let store = ctx.open()?;
    let sources = govgraph_seeds::demo::DEMO_SOURCES
        .iter()
        .map(|s| LoadSource::from_bytes(s.name, s.path, RdfFormat::Turtle, s.turtle))
        .collect();
    let report = store.load(sources, &LoadOptions::default(), &Bars::default())?;
    // Column lineage comes from the silver and gold SQL models themselves.
    let models: Vec<govgraph_graph::ingest::SqlFile> = govgraph_seeds::DEMO_SQL
        .iter()
        .map(|m| govgraph_graph::ingest::SqlFile {
            location: m.path.to_owned(),
            text: m.sql.to_owned(),
        })
        .collect();
    let sql = govgraph_graph::ingest::ingest_sql(
        &store,
        &models,
        &govgraph_graph::ingest::SqlIngestOptions {
            dialect: govgraph_lineage::Dialect::DuckDb,
            system: govgraph_seeds::DEMO_SQL_SYSTEM.to_owned(),
            default_schema: None,
        },
        &Bars::default(),
    )?;
    for w in &sql.warnings {
        eprintln!("warning: {w}");
    }
    let overview = govgraph_agents::overview(&store)?;
    // The embedder the server will use, so that it finds the index up to date.
    let embeddings = match &args.serve.config {
        Some(path) => Some(govgraph_api::config::FileConfig::from_file(path)?.embeddings),
        None => None,
    };
    let indexed = {
        let mut index = govgraph_search::SearchIndex::open(
            &ctx.data.join("search"),
            ctx.embedder(embeddings.as_ref())?,
        )?;
        index.sync(&store)?.documents
    };
    println!(
        "demo catalog loaded into {} ({} triples in {} sources, {:.1}s)",
        ctx.data.display(),
        report.triples(),
        report.graphs.len(),
        report.elapsed.as_secs_f64()
    );
    println!(
        "  {} systems, {} datasets, {} columns, {} glossary terms, {} domains, {} people and teams,\n  \
         {} tags, {} quality rules, {} policies, {} processing activities, {} table lineage edges,\n  \
         {} column lineage edges derived from {} SQL models; {} entities indexed for search",
        overview.systems,
        overview.datasets,
        overview.columns,
        overview.terms,
        overview.domains,
        overview.agents,
        overview.tags,
        overview.rules,
        overview.policies,
        overview.processing_activities,
        overview.table_lineage_edges,
        sql.lineage_edges,
        models.len(),
        indexed
    );
    print_validation_notes(&report.validation);
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    let (mut file, data) = args.serve.resolve(ctx)?;
    // The demo's data files live in the seeds folder; products read them there.
    if file.products.data_root.is_none() {
        file.products.data_root = Some(govgraph_seeds::seeds_dir());
    }
    run_server(ctx, store, &data, &file, |addr| {
        println!(
            "\ngovgraph is serving the demo at http://{addr}/ (SPARQL at /sparql, REST at /api/v1, docs at /docs)\n"
        );
        println!("Try:");
        for (what, query) in EXAMPLES {
            println!("  # {what}");
            println!(
                "  curl -s http://{addr}/sparql -H 'Accept: text/csv' --data-urlencode 'query={}'\n",
                query.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
        println!("  # Ask in plain words (answers cite the graph; --data-raw for any question)");
        println!(
            "  curl -s http://{addr}/api/v1/ask -H 'Content-Type: application/json' --data-raw '{{\"question\": \"what breaks if bronze.customers changes?\"}}'\n"
        );
        println!(
            "  # Build a data product from a request in words (intent, SQL, quality rules, spec)"
        );
        println!(
            "  curl -s http://{addr}/api/v1/data-products -H 'Content-Type: application/json' --data-raw '{{\"request\": \"daily net revenue by region and category for completed orders\"}}'\n"
        );
        println!("Press Ctrl-C to stop.");
    })
}

const EXAMPLES: &[(&str, &str)] = &[
    (
        "datasets by domain and layer",
        "SELECT ?domain ?layer (COUNT(?d) AS ?datasets) WHERE { ?d a dcat:Dataset ; gg:layer ?layer ; \
         gg:domain/skos:prefLabel ?domain } GROUP BY ?domain ?layer ORDER BY ?domain ?layer",
    ),
    (
        "columns that hold personal data, with their classification",
        "SELECT ?table ?column ?tag WHERE { ?c gg:tag ?t ; csvw:name ?column ; gg:columnOf/dct:identifier ?table . \
         ?t a gg:Classification ; skos:prefLabel ?tag } ORDER BY ?table ?column",
    ),
    (
        "what \"revenue\" means, and which columns implement it",
        "SELECT ?term ?definition ?column WHERE { ?t skos:altLabel \"revenue\" ; skos:prefLabel ?term ; \
         skos:definition ?definition . OPTIONAL { ?c gg:term ?t ; csvw:name ?name ; gg:columnOf/dct:identifier ?ds . \
         BIND(CONCAT(?ds, \".\", ?name) AS ?column) } }",
    ),
    (
        "everything gold.customer_lifetime_value is derived from, transitively",
        "SELECT DISTINCT ?upstream WHERE { ?g dct:identifier \"gold.customer_lifetime_value\" ; \
         prov:wasDerivedFrom+ ?u . ?u dct:identifier ?upstream }",
    ),
];

/// Where an OpenAI-compatible LLM is, for the commands that can use one.
#[derive(Debug, clap::Args)]
pub struct LlmArgs {
    /// Use the LLM. Needs a build with the `openai` feature; the key comes from
    /// GOVGRAPH_LLM_API_KEY.
    #[arg(long = "llm")]
    enabled: bool,
    /// The LLM endpoint's API base.
    #[arg(
        long = "llm-base-url",
        env = "GOVGRAPH_LLM_BASE_URL",
        default_value = "https://api.openai.com/v1"
    )]
    base_url: String,
    /// The LLM model.
    #[arg(
        long = "llm-model",
        env = "GOVGRAPH_LLM_MODEL",
        default_value = "gpt-4o-mini"
    )]
    model: String,
}

#[derive(Debug, clap::Args)]
pub struct AskArgs {
    /// The question, e.g. "what breaks if bronze.orders.total_amount changes?".
    question: String,
    /// Answer as this role: admin, steward, engineer, analyst or viewer. Analysts and
    /// viewers never obtain personal values.
    #[arg(long, default_value = "analyst")]
    role: String,
    /// Print the whole answer (entities, value, citations, timings) as JSON.
    #[arg(long)]
    json: bool,
    /// Include the plan and each step's timing.
    #[arg(long)]
    explain: bool,
    /// Why you ask (a DPV purpose such as dpv:Marketing, or words such as "customer care"):
    /// the policies decide with it.
    #[arg(long)]
    purpose: Option<String>,
    /// Let an OpenAI-compatible LLM answer through the catalog's tools (search, describe,
    /// read-only SPARQL, lineage, glossary, quality, policy); the offline answer is the
    /// fallback when it fails or times out.
    #[command(flatten)]
    llm: LlmArgs,
    /// Seconds the LLM may take for a whole answer.
    #[arg(long, default_value_t = 30)]
    llm_timeout: u64,
}

#[cfg(feature = "openai")]
fn asker(args: &AskArgs) -> Result<govgraph_agents::ask::Asker> {
    use govgraph_agents::ask::llm::{LlmAskConfig, LlmBrain};
    use govgraph_agents::ask::{AskConfig, Asker};
    if !args.llm.enabled {
        return Ok(Asker::default());
    }
    let mut config = LlmAskConfig::new(&args.llm.base_url, &args.llm.model);
    config.endpoint.api_key = std::env::var("GOVGRAPH_LLM_API_KEY").ok();
    config.endpoint.timeout = Duration::from_secs(args.llm_timeout.max(1));
    Ok(Asker::with_llm(
        AskConfig::default(),
        LlmBrain::new(config)?,
    ))
}

#[cfg(not(feature = "openai"))]
fn asker(args: &AskArgs) -> Result<govgraph_agents::ask::Asker> {
    if args.llm.enabled {
        bail!("--llm needs a build with the `openai` feature (cargo build --features openai)");
    }
    Ok(govgraph_agents::ask::Asker::default())
}

pub fn ask(ctx: &Context, args: AskArgs) -> Result<ExitCode> {
    use govgraph_agents::ask::{AskRequest, Role};
    use govgraph_search::SearchIndex;
    let asker = asker(&args)?;
    let role: Role = args
        .role
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--role {e}"))?;
    let store = Arc::new(ctx.open_for_reading()?);
    let embedder = ctx.embedder(None)?;
    let mut index = match SearchIndex::open(&ctx.data.join("search"), embedder.clone()) {
        Ok(index) => index,
        Err(e) => {
            tracing::info!("search index busy ({e}); indexing in memory");
            SearchIndex::in_memory(embedder)?
        }
    };
    index.sync(&store)?;
    let key = govgraph_policy::MaskKey::load_or_create(&ctx.data)?;
    let asker = asker.with_policy(Arc::new(govgraph_policy::Engine::new(
        Arc::clone(&store),
        key,
    )));
    let mut request = AskRequest::new(&args.question);
    request.role = role;
    request.explain = args.explain;
    request.purpose = args.purpose.clone();
    let answer = asker.ask(&store, Some(&index), &request)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(if answer.refused {
            ExitCode::from(3)
        } else {
            ExitCode::SUCCESS
        });
    }
    println!("{}", answer.answer);
    if let Some(r) = answer.reason.as_deref().filter(|_| !answer.refused) {
        eprintln!("note: {r}");
    }
    if let Some(v) = answer.value {
        println!("\nvalue: {v}");
    }
    if !answer.entities.is_empty() {
        println!();
        for e in answer.entities.iter().take(50) {
            println!(
                "  {:<20} {}",
                format!("{:?}", e.kind).to_lowercase(),
                e.name
            );
        }
    }
    if let Some(plan) = &answer.plan {
        println!("\nplan:");
        for s in plan {
            println!(
                "  {:>8.2} ms  {:<10} {} [{}]",
                s.ms, s.agent, s.action, s.outcome
            );
            for t in &s.tools {
                println!(
                    "  {:>8.2} ms      {} → {} ({})",
                    t.ms,
                    t.tool,
                    t.results,
                    t.input
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .chars()
                        .take(140)
                        .collect::<String>()
                );
            }
        }
    }
    println!(
        "\n({} ms, {} citations, intent {})",
        answer.timings.total_ms.round(),
        answer.citations.len(),
        answer.intent
    );
    Ok(if answer.refused {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// What to look for.
    query: String,
    /// Only this kind: dataset, column, term, domain, owner, tag, rule, policy, product,
    /// dashboard (repeatable).
    #[arg(long)]
    kind: Vec<String>,
    /// Only entities in this domain (repeatable).
    #[arg(long)]
    domain: Vec<String>,
    /// Only entities with this tag (repeatable).
    #[arg(long)]
    tag: Vec<String>,
    /// Only entities owned or stewarded by this person or team (repeatable).
    #[arg(long)]
    owner: Vec<String>,
    /// Only entities in this system (repeatable).
    #[arg(long)]
    system: Vec<String>,
    /// Only personal data (`--pii true`) or only other data (`--pii false`).
    #[arg(long)]
    pii: Option<bool>,
    /// Ranking: hybrid, text or vector.
    #[arg(long, default_value = "hybrid")]
    mode: String,
    /// Results to show.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Results to skip.
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Print the full response (hits, reasons, facets) as JSON.
    #[arg(long)]
    json: bool,
}

pub fn search(ctx: &Context, args: SearchArgs) -> Result<ExitCode> {
    use govgraph_search::{EntityKind, SearchIndex, SearchRequest};
    let kinds = args
        .kind
        .iter()
        .map(|k| {
            EntityKind::parse(k).ok_or_else(|| {
                anyhow::anyhow!(
                    "--kind {k}: expected one of {}",
                    EntityKind::ALL.map(EntityKind::as_str).join(", ")
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let store = ctx.open_for_reading()?;
    let embedder = ctx.embedder(None)?;
    // The on-disk index, unless a server holds it: then a throwaway one in memory.
    let mut index = match SearchIndex::open(&ctx.data.join("search"), embedder.clone()) {
        Ok(index) => index,
        Err(e) => {
            tracing::info!("search index busy ({e}); indexing in memory");
            SearchIndex::in_memory(embedder)?
        }
    };
    let sync = index.sync(&store)?;
    if sync.mode != "unchanged" {
        tracing::info!(
            mode = sync.mode,
            indexed = sync.indexed,
            ms = sync.elapsed_ms,
            "search index updated"
        );
    }
    let request = SearchRequest {
        query: args.query,
        kinds,
        domains: args.domain,
        tags: args.tag,
        owners: args.owner,
        systems: args.system,
        pii: args.pii,
        mode: args.mode.parse()?,
        offset: args.offset,
        limit: args.limit,
        ..SearchRequest::default()
    };
    let response = index.search(&request)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&response)?);
        return Ok(ExitCode::SUCCESS);
    }
    if response.hits.is_empty() {
        println!("nothing found for \"{}\"", response.query);
        return Ok(ExitCode::SUCCESS);
    }
    for (i, h) in response.hits.iter().enumerate() {
        let kind = h.kind.map(|k| k.as_str()).unwrap_or("?");
        let mut flags = Vec::new();
        if h.pii {
            flags.push("PII".to_owned());
        }
        if h.certified {
            flags.push("certified".to_owned());
        }
        if let Some(d) = h.domain.first() {
            flags.push(d.clone());
        }
        let label = h
            .label
            .as_deref()
            .filter(|l| *l != h.path)
            .map(|l| format!(" — {l}"))
            .unwrap_or_default();
        println!(
            "{:>2}. {kind:<8} {}{label}{}",
            args.offset + i + 1,
            h.path,
            if flags.is_empty() {
                String::new()
            } else {
                format!("  [{}]", flags.join(", "))
            }
        );
        for r in &h.reasons {
            let via = r
                .via
                .as_deref()
                .map(|v| format!(" ({v})"))
                .unwrap_or_default();
            println!("      {}: {}{via}", r.field, r.highlight);
        }
    }
    let kinds: Vec<String> = response
        .facets
        .kind
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    println!(
        "\n{} matches ({}), {:.1} ms",
        response.total,
        kinds.join(", "),
        response.took_ms
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The audit log (default DATA/audit.jsonl).
    #[arg(long = "file", env = "GOVGRAPH_AUDIT_LOG")]
    file: Option<PathBuf>,
    /// Only this principal's requests.
    #[arg(long)]
    principal: Option<String>,
    /// Only this action (sparql.query, sparql.update, rest.read, search, lineage.read, audit.read).
    #[arg(long)]
    action: Option<String>,
    /// Only `allow` or `deny`.
    #[arg(long)]
    decision: Option<String>,
    /// Only records at or after this time (such as 2026-11-22T00:00:00Z).
    #[arg(long)]
    since: Option<String>,
    /// Only records before this time.
    #[arg(long)]
    until: Option<String>,
    /// The most records to show, newest first.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn audit(ctx: &Context, args: AuditArgs) -> Result<ExitCode> {
    let path = args.file.unwrap_or_else(|| ctx.data.join("audit.jsonl"));
    let filter = govgraph_api::audit::AuditFilter {
        principal: args.principal,
        action: args.action,
        decision: args.decision,
        since: args.since,
        until: args.until,
    };
    let (records, total) = govgraph_api::audit::read_records(&path, &filter, 0, args.limit)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        for r in &records {
            writeln!(out, "{}", serde_json::to_string(r)?)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    for r in &records {
        writeln!(
            out,
            "{}  {:<5} {:<14} {:<16} {:>3} {:<6} {} {}{}",
            r.time,
            r.decision,
            r.principal,
            r.action,
            r.status,
            r.method,
            r.resource,
            r.reason
                .as_deref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default(),
            r.tenant
                .as_deref()
                .map(|t| format!(" [tenant {t}]"))
                .unwrap_or_default(),
        )?;
    }
    writeln!(out, "{} of {total} matching records", records.len())?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["target", "postgres", "review"])))]
pub struct ClassifyArgs {
    /// A CSV, TSV, JSON-lines or Parquet file, or a catalog dataset given as SYSTEM/NAME
    /// (read from the file or PostgreSQL table it was ingested from; its labels are stored).
    target: Option<String>,
    /// Store the file's labels on this catalog dataset, given as SYSTEM/NAME.
    #[arg(long, requires = "target")]
    dataset: Option<String>,
    /// Harvest this PostgreSQL database (as `ingest postgres` does), classify the rows it
    /// samples, and store the labels on its tables.
    #[arg(long)]
    postgres: Option<String>,
    /// With --postgres: the system the tables live in.
    #[arg(long, requires = "postgres")]
    system: Option<String>,
    /// With --postgres: only schemas matching these patterns; repeatable.
    #[arg(long = "schema", requires = "postgres")]
    include_schemas: Vec<String>,
    /// Rows sampled per file or table.
    #[arg(long, default_value_t = 1000)]
    rows: usize,
    /// Record a steward's decision on a column's label: SYSTEM/DATASET/COLUMN.
    #[arg(long, requires = "category")]
    review: Option<String>,
    /// With --review: the category decided on, such as `email`.
    #[arg(long)]
    category: Option<String>,
    /// With --review: the label is right; it stays whatever later runs say.
    #[arg(long, conflicts_with = "reject")]
    confirm: bool,
    /// With --review: the label is wrong; runs never apply it to the column again.
    #[arg(long)]
    reject: bool,
    /// With --review: who decides (an agent key).
    #[arg(long, default_value = "")]
    by: String,
    /// Print `{"dataset", "columns": [{"name", "category", "dpv", "special_category",
    /// "confidence", "evidence"}]}`; with --postgres, an array of those, one per table.
    #[arg(long)]
    json: bool,
}

fn dataset_key(s: &str) -> Result<govgraph_graph::DatasetKey> {
    let (system, name) = s
        .split_once('/')
        .with_context(|| format!("{s:?}: expected SYSTEM/NAME"))?;
    Ok(govgraph_graph::DatasetKey::new(system, name))
}

fn print_classification(
    dataset: &str,
    results: &[govgraph_quality::ColumnClassification],
    json: bool,
) -> Result<()> {
    if json {
        let doc = serde_json::json!({ "dataset": dataset, "columns": results });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    println!("{dataset}");
    for r in results {
        let why = [
            r.evidence.name_match.as_deref(),
            r.evidence.pattern.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ");
        println!(
            "  {:<28} {:<20} {:>4.2}  {}{}",
            r.name,
            r.category.id(),
            r.confidence,
            why,
            if r.evidence.values_sampled > 0 {
                format!(
                    " ({}/{} values)",
                    r.evidence.values_matched, r.evidence.values_sampled
                )
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// What `profile` and `classify` were given: a file, or a catalog dataset and its data.
enum Target {
    File(PathBuf),
    Dataset(govgraph_graph::DatasetKey, DatasetSource),
}

/// A path that exists is a file; anything else is SYSTEM/NAME in the catalog.
fn read_target(ctx: &Context, target: &str) -> Result<Target> {
    let path = PathBuf::from(target);
    if path.exists() {
        return Ok(Target::File(path));
    }
    let key = dataset_key(target).with_context(|| format!("{target}: no such file"))?;
    let store = ctx.open_for_reading()?;
    let source = govgraph_quality::locate::locate(&store, &key)?;
    Ok(Target::Dataset(key, source))
}

fn print_stored(stored: &govgraph_quality::store::StoredLabels) {
    println!(
        "  stored in {}: {} applied, {} proposed, {} confirmed, {} rejected",
        stored.graph, stored.applied, stored.below_threshold, stored.confirmed, stored.rejected
    );
}

/// `govgraph classify`.
pub fn classify(ctx: &Context, args: ClassifyArgs) -> Result<ExitCode> {
    use govgraph_quality::store::{Decision, review, store_labels};
    use govgraph_quality::{classify_table, sample};
    if let Some(column) = &args.review {
        let (dataset, name) = column
            .rsplit_once('/')
            .with_context(|| format!("{column:?}: expected SYSTEM/DATASET/COLUMN"))?;
        let key = govgraph_graph::ColumnKey::new(dataset_key(dataset)?, name);
        let category: govgraph_quality::Category = args
            .category
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|e: String| anyhow::anyhow!(e))?;
        let decision = match (args.confirm, args.reject) {
            (true, false) => Decision::Confirmed,
            (false, true) => Decision::Rejected,
            _ => bail!("--review needs --confirm or --reject"),
        };
        let store = ctx.open()?;
        review(&store, &key, category, decision, &args.by)?;
        println!("{column}: {} {decision:?}", category.id());
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(url) = args.postgres {
        let mut options = govgraph_connectors::postgres::PostgresOptions::new(url);
        options.system = args.system;
        options.include_schemas = args.include_schemas;
        options.sample_rows = args.rows as u64;
        let store = ctx.open()?;
        let (report, samples) = govgraph_connectors::postgres::ingest_postgres_with_samples(
            &store,
            &options,
            &Bars::default(),
        )?;
        if report.status != "succeeded" {
            bail!("the harvest failed: {}", report.error.unwrap_or_default());
        }
        // With --json, one array holding a document per table.
        let mut documents = Vec::new();
        for s in &samples {
            let results = classify_table(&sample::from_table_sample(s));
            let stored = store_labels(&store, &s.dataset, &results, &[])?;
            let name = format!("{}/{}", s.dataset.system, s.dataset.name);
            if args.json {
                documents.push(serde_json::json!({ "dataset": name, "columns": results }));
            } else {
                print_classification(&name, &results, false)?;
                print_stored(&stored);
            }
        }
        if args.json {
            println!("{}", serde_json::to_string_pretty(&documents)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let Some(target) = args.target else {
        bail!("give a file, --postgres URL or --review COLUMN");
    };
    let (columns, dataset) = match read_target(ctx, &target)? {
        Target::File(path) => (sample::sample_file(&path, args.rows)?, args.dataset.clone()),
        Target::Dataset(key, source) => {
            let columns = govgraph_quality::locate::sample_source(&source, args.rows)?;
            (columns, Some(format!("{}/{}", key.system, key.name)))
        }
    };
    let results = classify_table(&columns);
    let name = dataset.clone().unwrap_or_else(|| target.clone());
    print_classification(&name, &results, args.json)?;
    if let Some(dataset) = &dataset {
        let store = ctx.open()?;
        let stored = store_labels(&store, &dataset_key(dataset)?, &results, &[])?;
        if !args.json {
            print_stored(&stored);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["file", "postgres"])))]
pub struct ProfileArgs {
    /// A CSV, TSV, JSON-lines or Parquet file, or a catalog dataset given as SYSTEM/NAME
    /// (read from the file or PostgreSQL table it was ingested from; the profile is stored).
    file: Option<String>,
    /// Profile a PostgreSQL table by SQL push-down instead (with --table), in a read-only
    /// transaction; the password comes from the URL or PGPASSWORD.
    #[arg(long, requires = "table")]
    postgres: Option<String>,
    /// With --postgres: the table, as SCHEMA.TABLE.
    #[arg(long)]
    table: Option<String>,
    /// Store the profile as DQV measurements on this catalog dataset, given as SYSTEM/NAME.
    /// Every run adds to the history, so each metric is a time series.
    #[arg(long)]
    dataset: Option<String>,
    /// Print `{"dataset", "row_count", "columns": [{"name", "type", "count", "null_count",
    /// "null_percentage", "distinct_count", "distinct_is_approximate", "min", "max", "mean",
    /// "stddev", "q25", "q50", "q75", "top_values": [{"value", "count"}], ...}]}`.
    #[arg(long)]
    json: bool,
    /// What reads data files: `datafusion` (builds with the `datafusion` feature), `native`
    /// (govgraph's own streaming readers) or `auto` (where the build has both, DataFusion for
    /// rules and native for profiles, the faster of each). Both compute the same metrics and
    /// rule results.
    #[arg(long, default_value = "auto", value_parser = parse_engine)]
    engine: govgraph_quality::engine::FileEngine,
}

fn parse_engine(s: &str) -> Result<govgraph_quality::engine::FileEngine, String> {
    s.parse()
}

/// `govgraph profile`.
pub fn profile(ctx: &Context, args: ProfileArgs) -> Result<ExitCode> {
    let mut dataset = args.dataset.clone();
    let mut profile = match (&args.file, &args.postgres) {
        (Some(target), _) => match read_target(ctx, target)? {
            Target::File(path) => govgraph_quality::profile::profile_file_with(&path, args.engine)?,
            Target::Dataset(key, source) => {
                dataset = Some(format!("{}/{}", key.system, key.name));
                govgraph_quality::locate::profile_source_with(&source, args.engine)?
            }
        },
        (None, Some(url)) => {
            let table = args.table.as_deref().unwrap_or_default();
            let (schema, name) = table
                .split_once('.')
                .with_context(|| format!("--table {table:?}: expected SCHEMA.TABLE"))?;
            let source = DatasetSource::Postgres {
                location: url.clone(),
                schema: schema.to_owned(),
                table: name.to_owned(),
            };
            govgraph_quality::locate::profile_source(&source)?
        }
        (None, None) => bail!("give a file or --postgres URL --table SCHEMA.TABLE"),
    };
    if let Some(d) = &dataset {
        profile.dataset = d.clone();
        let store = ctx.open()?;
        let stored =
            govgraph_quality::profile::store::store_profile(&store, &dataset_key(d)?, &profile)?;
        if !args.json {
            println!(
                "stored {} measurements in {}",
                stored.measurements, stored.graph
            );
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&profile)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}: {} rows", profile.dataset, profile.row_count);
    for c in &profile.columns {
        let show = |v: &serde_json::Value| match v {
            serde_json::Value::Null => "-".to_owned(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        println!(
            "  {:<24} {:<9} nulls {:>6.2}%  distinct {}{:<9} min {} max {}  {}",
            c.name,
            c.data_type,
            c.null_percentage,
            if c.distinct_is_approximate { "~" } else { "" },
            c.distinct_count,
            show(&c.min),
            show(&c.max),
            c.semantic_type
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Subcommand)]
pub enum QualityCommand {
    /// Suggest rules for a catalog dataset (SYSTEM/NAME) from its schema (required and key
    /// columns, foreign keys), a fresh profile of its data (null rates, uniqueness, accepted
    /// values, ranges, formats, volume, freshness) and its standards (rules written on the
    /// glossary terms its columns implement or on its domain; formats of known business
    /// concepts and PII categories). Rules it already has are left out.
    Suggest(QualitySuggestArgs),
    /// Run every rule of a catalog dataset where its data lives (the file, or the PostgreSQL
    /// table by push-down), profile it, look for anomalies in its metric history, score it per
    /// dimension and store the run with its violations (a few failing rows each, personal
    /// data masked). Exits 1 when a rule of severity error fails or cannot run.
    Run(QualityRunArgs),
    /// Write a catalog dataset's rules as an ODCS v3.1 contract (YAML), a Great Expectations
    /// 1.x suite (JSON) or Soda checks (YAML).
    Export(QualityExportArgs),
}

#[derive(Debug, Args)]
pub struct QualitySuggestArgs {
    /// The dataset, as SYSTEM/NAME.
    dataset: String,
    /// Store the suggestions as the dataset's rules (replacing earlier applied suggestions).
    #[arg(long)]
    apply: bool,
    /// Print the suggestions as a JSON array.
    #[arg(long)]
    json: bool,
    /// Also ask an OpenAI-compatible LLM for rules (it sees the dataset's shape, never
    /// personal values); its answers are checked like any stored rule.
    #[command(flatten)]
    llm: LlmArgs,
}

#[derive(Debug, Args)]
pub struct QualityRunArgs {
    /// The dataset, as SYSTEM/NAME.
    dataset: String,
    /// Do not profile the data first (anomalies are then judged on the history as it is).
    #[arg(long)]
    no_profile: bool,
    /// What reads data files: `datafusion` (builds with the `datafusion` feature), `native`
    /// (govgraph's own streaming readers) or `auto` (where the build has both, DataFusion for
    /// rules and native for profiles, the faster of each). Both compute the same metrics and
    /// rule results.
    #[arg(long, default_value = "auto", value_parser = parse_engine)]
    engine: govgraph_quality::engine::FileEngine,
    /// Print the whole run as JSON: results with counts and masked sample rows, anomalies,
    /// scores.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// Open Data Contract Standard v3.1 quality blocks, YAML.
    Odcs,
    /// Great Expectations 1.x expectation suite, JSON.
    Ge,
    /// Soda checks (SodaCL), YAML.
    Soda,
}

#[derive(Debug, Args)]
pub struct QualityExportArgs {
    /// The dataset, as SYSTEM/NAME.
    dataset: String,
    /// The format.
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// Write to this file instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
}

/// `govgraph quality`.
pub fn quality(ctx: &Context, cmd: QualityCommand) -> Result<ExitCode> {
    use govgraph_quality::rules;
    match cmd {
        QualityCommand::Suggest(args) => {
            let key = dataset_key(&args.dataset)?;
            let suggestions = {
                let store = if args.apply {
                    ctx.open()?
                } else {
                    ctx.open_for_reading()?
                };
                let (facts, profile, existing) = rules::assess::suggestion_inputs(&store, &key)?;
                let mut suggestions = rules::suggest::suggest(
                    &facts,
                    profile.as_ref(),
                    &existing,
                    rules::run::now_micros(),
                );
                if args.llm.enabled {
                    let mut known = existing.clone();
                    known.extend(suggestions.iter().map(|s| s.rule.clone()));
                    suggestions.extend(llm_suggestions(
                        &args,
                        &key,
                        &facts,
                        profile.as_ref(),
                        &known,
                    )?);
                }
                rules::suggest::assign_iris(&store, &mut suggestions);
                if args.apply {
                    let picked: Vec<rules::Rule> =
                        suggestions.iter().map(|s| s.rule.clone()).collect();
                    let graph = rules::store::store_rules(&store, &key, &picked)?;
                    if !args.json {
                        println!("stored {} rules in {graph}", picked.len());
                    }
                }
                suggestions
            };
            if args.json {
                println!("{}", serde_json::to_string_pretty(&suggestions)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{}: {} suggestions", args.dataset, suggestions.len());
            for s in &suggestions {
                println!(
                    "  {:<15} {:<5} {:<13} {}",
                    s.rule.check.rule_type(),
                    s.rule.severity,
                    s.source,
                    s.rule.title
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        QualityCommand::Run(args) => {
            let key = dataset_key(&args.dataset)?;
            let store = ctx.open()?;
            let options = rules::assess::AssessOptions {
                profile: !args.no_profile,
                store: true,
                engine: args.engine,
            };
            let a = rules::assess::assess(&store, &key, options)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&a)?);
            } else {
                print_assessment(&a);
            }
            Ok(if a.has_errors() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        QualityCommand::Export(args) => {
            let key = dataset_key(&args.dataset)?;
            let store = ctx.open_for_reading()?;
            let (found, unreadable) = rules::catalog_rules(&store, &key)?;
            for u in &unreadable {
                eprintln!("warning: rule {} left out: {}", u.key, u.reason);
            }
            let format = match args.format {
                ExportFormat::Odcs => rules::export::Format::Odcs,
                ExportFormat::Ge => rules::export::Format::GreatExpectations,
                ExportFormat::Soda => rules::export::Format::Soda,
            };
            let table = key.name.rsplit('.').next().unwrap_or(&key.name).to_owned();
            let text = rules::export::export(format, &args.dataset, &table, &found);
            match &args.output {
                Some(path) => std::fs::write(path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Rule suggestions from the configured LLM. When the model cannot be reached, the offline
/// suggestions stand and a warning says so.
#[cfg(feature = "openai")]
fn llm_suggestions(
    args: &QualitySuggestArgs,
    key: &govgraph_graph::DatasetKey,
    facts: &govgraph_quality::rules::suggest::CatalogFacts,
    profile: Option<&govgraph_quality::profile::DatasetProfile>,
    known: &[govgraph_quality::rules::Rule],
) -> Result<Vec<govgraph_quality::rules::suggest::Suggestion>> {
    use govgraph_agents::quality::{LlmConfig, LlmRuleSuggester, parse_rule_reply, rule_prompt};
    let mut config = LlmConfig::new(&args.llm.base_url, &args.llm.model);
    config.api_key = std::env::var("GOVGRAPH_LLM_API_KEY").ok();
    let prompt = rule_prompt(key, facts, profile, known);
    let answer = match LlmRuleSuggester::new(config).and_then(|llm| llm.ask(&prompt)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("warning: {e}; only the offline suggestions are given");
            return Ok(Vec::new());
        }
    };
    let columns: Vec<String> = match profile {
        Some(p) => p.columns.iter().map(|c| c.name.clone()).collect(),
        None => facts.columns.iter().map(|c| c.name.clone()).collect(),
    };
    let (kept, rejected) = parse_rule_reply(&answer, key, &columns, known);
    for r in rejected {
        eprintln!("warning: LLM suggestion left out: {r}");
    }
    Ok(kept)
}

#[cfg(not(feature = "openai"))]
fn llm_suggestions(
    _: &QualitySuggestArgs,
    _: &govgraph_graph::DatasetKey,
    _: &govgraph_quality::rules::suggest::CatalogFacts,
    _: Option<&govgraph_quality::profile::DatasetProfile>,
    _: &[govgraph_quality::rules::Rule],
) -> Result<Vec<govgraph_quality::rules::suggest::Suggestion>> {
    bail!("--llm needs a build with the `openai` feature (cargo build --features openai)")
}

fn print_assessment(a: &govgraph_quality::rules::assess::Assessment) {
    println!("{}: {} rows from {}", a.dataset, a.row_count, a.source);
    for r in &a.results {
        let detail = r.message.as_deref().unwrap_or_default();
        println!(
            "  {:<5} {:<5} {:<13} {:<44} {detail}",
            r.status,
            r.severity,
            r.dimension,
            r.title.chars().take(44).collect::<String>()
        );
    }
    for u in &a.unreadable {
        println!("  skip  rule {} cannot be read: {}", u.key, u.reason);
    }
    println!(
        "  anomalies: {} in {} metric series",
        a.anomalies.len(),
        a.series_checked
    );
    for an in &a.anomalies {
        println!("    {}", an.message());
    }
    print_scores("score", &a.scores);
    if let Some(s) = &a.stored {
        println!(
            "stored {} rule runs and {} violations in {}",
            s.rule_runs, s.violations, s.graph
        );
    }
}

fn print_scores(label: &str, s: &govgraph_quality::rules::score::Scores) {
    let score = s
        .score
        .map_or_else(|| "-".to_owned(), |x| format!("{x:.1}"));
    let dims: Vec<String> = s
        .dimensions
        .iter()
        .map(|(d, v)| format!("{} {v:.1}", d.to_lowercase()))
        .collect();
    println!(
        "  {label} {score}  ({} rules: {} pass, {} fail, {} error)  {}",
        s.rules,
        s.passed,
        s.failed,
        s.errors,
        dims.join(", ")
    );
}

#[derive(Debug, Args)]
pub struct ScorecardArgs {
    /// Only this domain (its key).
    #[arg(long, conflicts_with = "dataset")]
    domain: Option<String>,
    /// Only this dataset, as SYSTEM/NAME.
    #[arg(long)]
    dataset: Option<String>,
    /// Print the scorecard as JSON.
    #[arg(long)]
    json: bool,
}

/// `govgraph scorecard`.
pub fn scorecard(ctx: &Context, args: ScorecardArgs) -> Result<ExitCode> {
    use govgraph_quality::rules::score::{Scope, scorecard};
    let scope = match (&args.domain, &args.dataset) {
        (Some(d), _) => Scope::Domain(d.clone()),
        (None, Some(d)) => {
            dataset_key(d)?;
            Scope::Dataset(d.clone())
        }
        (None, None) => Scope::All,
    };
    let store = ctx.open_for_reading()?;
    let card = scorecard(&store, &scope)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&card)?);
        return Ok(ExitCode::SUCCESS);
    }
    print_scores("overall", &card.scores);
    for d in &card.domains {
        println!("domain {}", d.domain);
        print_scores("domain", &d.scores);
        for ds in &d.datasets {
            println!("  {}", ds.dataset);
            print_scores("  dataset", &ds.scores);
            if ds.never_run > 0 {
                println!("      {} rules have never run", ds.never_run);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
