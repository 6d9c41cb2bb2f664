//! Where a catalog dataset's data lives: the file a files ingestion found it in, or the
//! PostgreSQL table a harvest read it from, from the latest successful ingestion run that
//! wrote its graph; failing that, for the output of a data product, the file its own
//! distribution names by an absolute path (where the product was materialized).

use std::path::PathBuf;

use govgraph_graph::GraphStore;
use govgraph_graph::iri::DatasetKey;
use oxigraph::model::Term;

use crate::error::{Error, Result};

/// The data behind a catalog dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatasetSource {
    /// A data file.
    File(PathBuf),
    /// A PostgreSQL table; `location` is the server without credentials.
    Postgres {
        /// `postgres://user@host:port/database`.
        location: String,
        /// The schema.
        schema: String,
        /// The table.
        table: String,
    },
}

fn text(t: Option<&Term>) -> String {
    match t {
        Some(Term::Literal(l)) => l.value().to_owned(),
        Some(Term::NamedNode(n)) => n.as_str().to_owned(),
        _ => String::new(),
    }
}

/// Finds the data behind `dataset`.
pub fn locate(store: &GraphStore, dataset: &DatasetKey) -> Result<DatasetSource> {
    let iri = store.scheme().dataset(dataset);
    let rows = store.select(&format!(
        "SELECT ?connector ?location ?path WHERE {{
           ?run a gg:IngestionRun ; gg:connector ?connector ; gg:status \"succeeded\" ;
                gg:sourceLocation ?location ; prov:generated ?g ; prov:endedAtTime ?t .
           GRAPH ?g {{ {iri} a dcat:Dataset }}
           OPTIONAL {{ GRAPH ?g {{ {iri} dcat:distribution ?d . ?d gg:path ?path }} }}
         }} ORDER BY DESC(?t) LIMIT 1"
    ))?;
    let Some(row) = rows.first() else {
        // A data product's output records its own file by an absolute path.
        let own = store.select(&format!(
            "SELECT ?path WHERE {{ ?product dprod:outputDataset {iri} .
               {iri} dcat:distribution ?d . ?d gg:path ?path }}"
        ))?;
        if let Some(path) = own
            .iter()
            .map(|r| PathBuf::from(text(r.get("path"))))
            .find(|p| p.is_absolute() && p.is_file())
        {
            return Ok(DatasetSource::File(path));
        }
        return Err(Error::NotFound(format!(
            "dataset {}/{} from a files or PostgreSQL ingestion",
            dataset.system, dataset.name
        )));
    };
    let location = text(row.get("location"));
    match text(row.get("connector")).as_str() {
        "files" => {
            let path = text(row.get("path"));
            let base = PathBuf::from(&location);
            // A single file ingested on its own is its own location.
            let file = if path.is_empty() || path == "." || base.is_file() {
                base
            } else {
                base.join(path)
            };
            if file.is_dir() {
                return Err(Error::Invalid {
                    location: file.display().to_string(),
                    field: "(folder)".to_owned(),
                    message:
                        "the dataset is a folder of files; profile or classify one of its files"
                            .to_owned(),
                });
            }
            Ok(DatasetSource::File(file))
        }
        "postgres" => {
            let (schema, table) = dataset.name.split_once('.').ok_or_else(|| Error::Invalid {
                location: location.clone(),
                field: dataset.name.clone(),
                message: "expected SCHEMA.TABLE".to_owned(),
            })?;
            Ok(DatasetSource::Postgres {
                location,
                schema: schema.to_owned(),
                table: table.to_owned(),
            })
        }
        other => Err(Error::Invalid {
            location,
            field: format!("{}/{}", dataset.system, dataset.name),
            message: format!("data ingested by {other:?} cannot be read back; give a file instead"),
        }),
    }
}

/// A read-only session on the PostgreSQL server at `location` (the password comes from
/// `PGPASSWORD` or the password-file settings, never from the catalog).
pub fn open_read_only(location: &str) -> Result<govgraph_connectors::postgres::Client> {
    use govgraph_connectors::postgres::{PostgresOptions, begin_read_only, connect, detect_flavor};
    let mut client = connect(&PostgresOptions::new(location))?;
    let version: String = client
        .query_one("SELECT version()", &[])
        .map_err(|e| Error::Source {
            location: location.to_owned(),
            message: format!("reading the server version: {e}"),
        })?
        .get(0);
    begin_read_only(&mut client, detect_flavor(&version))?;
    Ok(client)
}

/// Profiles the data behind a dataset: the file, or the table by push-down.
pub fn profile_source(source: &DatasetSource) -> Result<crate::profile::DatasetProfile> {
    profile_source_with(source, crate::engine::FileEngine::Auto)
}

/// Profiles the data behind a dataset, a file with `engine`.
pub fn profile_source_with(
    source: &DatasetSource,
    engine: crate::engine::FileEngine,
) -> Result<crate::profile::DatasetProfile> {
    match source {
        DatasetSource::File(path) => crate::profile::profile_file_with(path, engine),
        DatasetSource::Postgres {
            location,
            schema,
            table,
        } => {
            let mut client = open_read_only(location)?;
            crate::profile::postgres::profile_table(&mut client, schema, table)
        }
    }
}

/// Samples up to `rows` rows of the data behind a dataset.
pub fn sample_source(
    source: &DatasetSource,
    rows: usize,
) -> Result<Vec<crate::classify::ColumnSample>> {
    match source {
        DatasetSource::File(path) => crate::sample::sample_file(path, rows),
        DatasetSource::Postgres {
            location,
            schema,
            table,
        } => {
            let mut client = open_read_only(location)?;
            crate::profile::postgres::sample_table(&mut client, schema, table, rows)
        }
    }
}
