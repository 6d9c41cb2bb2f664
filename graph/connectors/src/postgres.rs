//! The PostgreSQL (and Redshift) connector: harvests a database's catalog into the graph and
//! samples its tables for profiling.
//!
//! # What is read
//!
//! Everything is read in one read-only transaction (`BEGIN ISOLATION LEVEL REPEATABLE READ
//! READ ONLY`: one consistent snapshot, and the server refuses any write), with a statement
//! timeout and `search_path = pg_catalog` so view definitions come back fully qualified:
//!
//! - every table, partitioned table (its partitions are left out), view, materialized view
//!   and foreign table outside `pg_catalog`, `information_schema` and the TOAST and temporary
//!   schemas, filtered by the include and exclude schema patterns;
//! - columns with their types (`format_type`), NOT NULL flags, positions and comments
//!   (`obj_description`, `col_description`);
//! - primary keys, unique, foreign-key and check constraints, as quality rules (`unique`,
//!   `not_null`, `referential`, `custom_sql`) keyed like the SQL DDL ingester's, foreign keys
//!   also as `gg:references` between columns;
//! - row estimates (`pg_class.reltuples`; -1, never analysed, means unknown);
//! - view and materialized-view definitions (`pg_get_viewdef`), run through the lineage
//!   engine against the harvested columns: column lineage edges and `prov:wasDerivedFrom`.
//!
//! # Keys
//!
//! The system key is [`PostgresOptions::system`], by default the first host and the database,
//! with the port when it is not 5432, slugged: `127.0.0.1-test`, `db.example.com-5433-sales`.
//! A dataset is `schema.table` as the catalog spells it (PostgreSQL folds unquoted names to
//! lower case and keeps quoted ones), slugged like every dataset key, so a SQL DDL ingest
//! (dialect `postgres`), dbt or OpenLineage naming the same tables under the same system
//! meets on the same IRIs. One database is one source graph: `postgres:{system}`.
//!
//! # Samples
//!
//! Up to [`PostgresOptions::sample_rows`] rows per table and materialized view, every value as
//! text cut to [`MAX_VALUE_CHARS`] characters: all rows of a small table, otherwise
//! `TABLESAMPLE BERNOULLI` (or `SYSTEM` above ten million rows) at a percentage derived from
//! the row estimate, then `LIMIT`. Samples may hold personal data: they are returned in
//! [`Harvest::samples`] for profiling and classification and never written to the graph or
//! to logs.
//!
//! # Credentials
//!
//! The password comes from [`PostgresOptions::password_file`], else the URL, else the
//! `PGPASSWORD` environment variable. It is never stored or logged: the run's location is the
//! URL rebuilt without it (`postgres://user@host:5432/db`), and error messages are scrubbed.
//! Connections are made without TLS (`sslmode=prefer` falls back to plain; `require` fails).
//!
//! # Failures
//!
//! A refused connection, a connect timeout or a server not accepting connections yet is
//! [`Error::Unreachable`]: the run retries with backoff and then records a failed run, leaving
//! the previous harvest in place. A table that cannot be sampled (no privilege) is a warning.
//!
//! # Redshift
//!
//! Redshift speaks the same protocol and is detected from `SELECT version()`. The catalog
//! queries use only what PostgreSQL 8.0 had (the one-argument `pg_get_viewdef`,
//! `array_to_string` instead of array functions); row counts come from `svv_table_info`;
//! samples use `ORDER BY random() LIMIT n` (there is no `TABLESAMPLE`); failed statements
//! restart the transaction (there are no savepoints); check constraints do not exist there.
//! Late-binding views have no columns in `pg_attribute` and are harvested without columns.
//! The Redshift path has not been run against a real cluster.

mod build;
mod catalog;
mod connection;
mod sample;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use govgraph_graph::GraphStore;
use govgraph_graph::iri::{DatasetKey, IriScheme};
use govgraph_graph::loader::Progress;
use serde::Serialize;

pub use ::postgres::Client;
pub use connection::{detect_flavor, location};
pub use sample::{MAX_VALUE_CHARS, quote_ident};

use crate::error::{Error, Result};
use crate::run::{Extract, ExtractSource, Ingestion, Retry, RunReport};

/// Settings of a PostgreSQL harvest.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// The connection URL, `postgres://user[:password]@host[:port]/database[?params]`, or a
    /// `key=value` connection string. The password is better given by `password_file` or
    /// `PGPASSWORD`.
    pub url: String,
    /// The system key the datasets live in (default: host, port unless 5432, and database,
    /// slugged, such as `127.0.0.1-test`).
    pub system: Option<String>,
    /// A file holding the password (its first line without the line break); wins over the
    /// URL and `PGPASSWORD`.
    pub password_file: Option<PathBuf>,
    /// Harvest only schemas matching one of these patterns (`*` and `?` wildcards,
    /// case-sensitive); all schemas when empty.
    pub include_schemas: Vec<String>,
    /// Leave out schemas matching one of these patterns.
    pub exclude_schemas: Vec<String>,
    /// Rows to sample per table for profiling (default 1000; 0 disables sampling).
    pub sample_rows: u64,
    /// How long to wait for a connection (default 10 s).
    pub connect_timeout: Duration,
    /// The longest any one query may run (default 60 s).
    pub statement_timeout: Duration,
    /// Retries of an unreachable server (default 3, after 1 s, 2 s and 4 s).
    pub retry: Retry,
}

impl PostgresOptions {
    /// Options for `url` with every default.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            system: None,
            password_file: None,
            include_schemas: Vec::new(),
            exclude_schemas: Vec::new(),
            sample_rows: 1000,
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(60),
            retry: Retry::default(),
        }
    }
}

/// Which server speaks the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// PostgreSQL (or a compatible server that does not say otherwise).
    Postgres,
    /// Amazon Redshift.
    Redshift,
}

impl Flavor {
    /// The platform name written on the system: `postgres` or `redshift`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Redshift => "redshift",
        }
    }

    /// The product's name, for descriptions.
    pub fn title(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::Redshift => "Redshift",
        }
    }
}

/// The server a harvest read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerInfo {
    /// PostgreSQL or Redshift.
    pub flavor: Flavor,
    /// `SELECT version()`.
    pub version: String,
    /// `current_database()`.
    pub database: String,
    /// Whether the server confirmed the harvest's transaction as read-only
    /// (`SHOW transaction_read_only` = `on`; on Redshift, that `BEGIN READ ONLY` succeeded).
    pub read_only: bool,
    /// The transaction's isolation level (`repeatable read` on PostgreSQL).
    pub isolation: String,
}

/// How a table's rows were sampled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum SampleMethod {
    /// The first rows (`LIMIT n`): the whole of a small table, or a table without an estimate.
    All,
    /// `TABLESAMPLE BERNOULLI (percent)`: rows drawn independently.
    Bernoulli {
        /// The share of rows drawn, in percent.
        percent: f64,
    },
    /// `TABLESAMPLE SYSTEM (percent)`: whole pages drawn, for very large tables.
    System {
        /// The share of pages drawn, in percent.
        percent: f64,
    },
    /// `ORDER BY random()` (Redshift).
    Random,
}

impl fmt::Display for SampleMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("limit"),
            Self::Bernoulli { percent } => write!(f, "bernoulli({percent})"),
            Self::System { percent } => write!(f, "system({percent})"),
            Self::Random => f.write_str("random"),
        }
    }
}

/// Rows sampled from one table, for profiling and classification. They may hold personal
/// data: they are never written to the graph, and their `Debug` form leaves the values out.
#[derive(Clone, PartialEq)]
pub struct TableSample {
    /// The dataset the rows come from.
    pub dataset: DatasetKey,
    /// The schema, as the catalog spells it.
    pub schema: String,
    /// The table, as the catalog spells it.
    pub table: String,
    /// The column names, in order.
    pub columns: Vec<String>,
    /// The rows: one value per column, as text (`None` for NULL), cut to
    /// [`MAX_VALUE_CHARS`] characters.
    pub rows: Vec<Vec<Option<String>>>,
    /// How they were drawn.
    pub method: SampleMethod,
    /// The table's estimated row count when it was sampled.
    pub estimated_rows: Option<u64>,
}

impl fmt::Debug for TableSample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableSample")
            .field("dataset", &self.dataset)
            .field("columns", &self.columns)
            .field("rows", &self.rows.len())
            .field("method", &self.method)
            .field("estimated_rows", &self.estimated_rows)
            .finish()
    }
}

/// What a harvest read: the facts to store, the samples to profile, and the server.
#[derive(Debug, Clone)]
pub struct Harvest {
    /// The facts, one source graph `postgres:{system}`.
    pub extract: Extract,
    /// Sampled rows per table (not part of the extract).
    pub samples: Vec<TableSample>,
    /// The server.
    pub server: ServerInfo,
}

/// Harvests the database `options.url` names; see the module documentation. Connects once
/// (retries are the caller's, see [`ingest_postgres`]).
pub fn read_postgres(
    options: &PostgresOptions,
    scheme: &IriScheme,
    progress: &dyn Progress,
) -> Result<Harvest> {
    let env_password = std::env::var(connection::PASSWORD_ENV).ok();
    let target = connection::target(options, env_password)?;
    let system = match &options.system {
        Some(s) if !s.trim().is_empty() => govgraph_graph::iri::slug(s),
        _ => connection::default_system(&target),
    };
    let mut client = target.connect()?;
    let mut session = catalog::Session::open(&mut client, &target, options.statement_timeout)?;
    progress.phase("postgres: reading the catalog", None);
    let catalog = session.read_catalog()?;
    progress.finish();
    let settings = build::Settings {
        system: &system,
        location: &target.location,
        include: &options.include_schemas,
        exclude: &options.exclude_schemas,
    };
    let built = build::build(&catalog, &settings, scheme, progress);
    let mut warnings = built.warnings;
    let samples = sample::sample_all(
        &mut session,
        &catalog.relations,
        &built.harvested,
        options.sample_rows,
        progress,
        &mut warnings,
    )?;
    session.finish()?;
    let mut extract = Extract {
        sources: vec![ExtractSource {
            name: format!("postgres:{system}"),
            location: target.location.clone(),
            triples: built.triples,
        }],
        counts: built.counts,
        warnings,
    };
    extract.count("sampled_tables", samples.len() as u64);
    extract.count(
        "sampled_rows",
        samples.iter().map(|s| s.rows.len() as u64).sum(),
    );
    tracing::info!(location = %target.location, %system, counts = ?extract.counts, "harvested");
    Ok(Harvest {
        extract,
        samples,
        server: catalog.server,
    })
}

/// Harvests the database into `store` as one recorded, atomic run (retried while the
/// server is unreachable) and returns the run's record. The samples are dropped; see
/// [`ingest_postgres_with_samples`].
pub fn ingest_postgres(
    store: &GraphStore,
    options: &PostgresOptions,
    progress: &dyn Progress,
) -> Result<RunReport> {
    ingest_postgres_with_samples(store, options, progress).map(|(report, _)| report)
}

/// [`ingest_postgres`], also returning the samples of the successful attempt for profiling.
pub fn ingest_postgres_with_samples(
    store: &GraphStore,
    options: &PostgresOptions,
    progress: &dyn Progress,
) -> Result<(RunReport, Vec<TableSample>)> {
    let mut samples = Vec::new();
    let report = Ingestion::new(store, "postgres", &location(&options.url))
        .retry(options.retry)
        .run(progress, |_attempt| {
            let harvest = read_postgres(options, store.scheme(), progress)?;
            samples = harvest.samples;
            Ok(harvest.extract)
        })?;
    Ok((report, samples))
}

/// Opens the connector's read-only snapshot transaction on `client`, exactly as a harvest
/// does (`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` on PostgreSQL, `BEGIN READ ONLY`
/// on Redshift). Every statement until `COMMIT` or `ROLLBACK` sees one snapshot, and the
/// server refuses writes.
pub fn begin_read_only(client: &mut Client, flavor: Flavor) -> Result<()> {
    client
        .batch_execute(catalog::begin_sql(flavor))
        .map_err(|e| Error::Source {
            location: "postgres".to_owned(),
            message: format!(
                "starting a read-only transaction: {}",
                connection::error_chain(&e)
            ),
        })
}

/// Connects as a harvest would (password from the file, the URL or `PGPASSWORD`; the connect
/// timeout; errors classified and free of credentials), for callers that need a client of
/// their own.
pub fn connect(options: &PostgresOptions) -> Result<Client> {
    let env_password = std::env::var(connection::PASSWORD_ENV).ok();
    connection::target(options, env_password)?.connect()
}
