//! The dbt connector: a dbt target directory (`manifest.json`, and optionally `catalog.json`
//! and `run_results.json`) into the catalog.
//!
//! What it reads, and what it makes of it:
//!
//! - **Relations.** Models (`gg:Model`), sources, seeds and snapshots (`gg:Table`) become
//!   datasets keyed by their relation name as the warehouse sees it (`database.schema.alias`,
//!   lower-cased), in the system named by [`DbtOptions::system`] (by default the manifest's
//!   `adapter_type`, such as `postgres`). A PostgreSQL harvest or OpenLineage events that name
//!   the same tables therefore land on the same IRIs. Ephemeral models, which the warehouse
//!   never sees, and exposures live in the project's own system, `dbt.{project}`.
//! - **Columns**, with catalog types winning over the manifest's `data_type`, descriptions,
//!   tags, and the `not_null` / `primary_key` constraints of model contracts.
//! - **Exposures** as dashboards derived from what they depend on, owned by their owner.
//! - **Tags and meta.** `meta` and `config.meta` are both read (`config` wins), on nodes and
//!   on columns: `owner` and `steward` (agents), `domain`, `pii` (the `pii` classification, or
//!   `pii.{category}` for a string such as `email`), `layer`, `certified`, and `retention`,
//!   which becomes an ODRL retention policy (delete after the period).
//! - **Groups** as domains owned by the group's owner; a node's `group` is its domain unless
//!   its meta names another.
//! - **Tests** as quality rules (`not_null`, `unique`, `accepted_values`, `relationships` as
//!   `referential`; anything else as `custom_sql` with the compiled SQL), and the results in
//!   `run_results.json` as each rule's latest run (`gg:RuleRun`) with a `gg:Violation` for a
//!   failure.
//! - **Lineage.** `depends_on.nodes` become table-level lineage; every model's and
//!   snapshot's compiled SQL is analysed once, in dependency order, by the lineage engine
//!   against a schema built from every relation's columns, which gives column-level lineage
//!   edges whose job is the model.
//!
//! Everything goes into one source graph per project, `dbt:{project}`, so re-ingesting a
//! project replaces what the previous run said about it. The manifest must use schema v10,
//! v11 or v12 (dbt 1.6 to 1.11); malformed input fails with the file and the JSON path at
//! fault, and nothing is stored.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use govgraph_graph::GraphStore;
use govgraph_graph::iri::{ColumnKey, DatasetKey, IriScheme, Kind, slug};
use govgraph_graph::loader::Progress;
use govgraph_graph::model::{
    Agent, AgentKind, AssetRef, Classification, Column, Constraint, Dataset, DatasetKind, Domain,
    Entity, LineageEdge, Policy, PolicyRule, PolicyScope, QualityRule, RuleKind, System, Tag,
};
use govgraph_graph::vocab::{dcat, dct, gg, odrl, prov, rdf, xsd};
use govgraph_lineage::{Dialect, Schema, StatementLineage};
use oxigraph::model::{Literal, NamedNode, Term, Triple};
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::run::{Extract, ExtractSource, Ingestion, RunReport};

/// The manifest schema versions this connector reads (dbt 1.6 to 1.11).
pub const SUPPORTED_MANIFEST_VERSIONS: [u32; 3] = [10, 11, 12];

/// At most this many warnings are kept; the rest are counted in a last one.
const MAX_WARNINGS: usize = 200;

/// Settings of a dbt ingestion.
#[derive(Debug, Clone, Default)]
pub struct DbtOptions {
    /// The dbt target directory: `manifest.json`, and optionally `catalog.json` (from
    /// `dbt docs generate`) and `run_results.json` (from `dbt test` or `dbt build`).
    pub target_dir: PathBuf,
    /// The key of the system the warehouse relations live in, shared with other connectors
    /// that see the same warehouse [default: the manifest's `adapter_type`, such as `postgres`].
    pub system: Option<String>,
    /// The SQL dialect of the compiled SQL [default: from the adapter type].
    pub dialect: Option<Dialect>,
    /// Name datasets `schema.table`, leaving out the database [default: `database.schema.table`,
    /// the relation name dbt and OpenLineage use].
    pub without_database: bool,
}

/// The artifacts of one dbt target directory, read into memory.
#[derive(Debug, Clone, Default)]
pub struct DbtArtifacts {
    /// Where `manifest.json` came from, for messages.
    pub manifest_location: String,
    /// The manifest's bytes.
    pub manifest: Vec<u8>,
    /// Where `catalog.json` came from, and its bytes, when there is one.
    pub catalog: Option<(String, Vec<u8>)>,
    /// Where `run_results.json` came from, and its bytes, when there is one.
    pub run_results: Option<(String, Vec<u8>)>,
}

impl DbtArtifacts {
    /// Reads the artifacts of a target directory. `manifest.json` is required; the catalog
    /// and the run results are read when they exist.
    pub fn read(target_dir: &Path) -> Result<Self> {
        let manifest_path = target_dir.join("manifest.json");
        let manifest_location = manifest_path.display().to_string();
        let manifest = std::fs::read(&manifest_path).map_err(|e| Error::Source {
            location: manifest_location.clone(),
            message: format!("cannot read the manifest: {e}"),
        })?;
        Ok(Self {
            manifest_location,
            manifest,
            catalog: read_optional(&target_dir.join("catalog.json"))?,
            run_results: read_optional(&target_dir.join("run_results.json"))?,
        })
    }
}

fn read_optional(path: &Path) -> Result<Option<(String, Vec<u8>)>> {
    let location = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some((location, bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Source {
            location,
            message: e.to_string(),
        }),
    }
}

/// Ingests a dbt target directory: reads it with [`read_dbt`] and stores the result in one
/// atomic, validated load recorded as an ingestion run.
pub fn ingest_dbt(
    store: &GraphStore,
    options: &DbtOptions,
    progress: &dyn Progress,
) -> Result<RunReport> {
    let location = options.target_dir.display().to_string();
    Ingestion::new(store, "dbt", &location).run(progress, |_| read_dbt(options, store.scheme()))
}

/// Reads a dbt target directory into the model, without touching a store.
pub fn read_dbt(options: &DbtOptions, scheme: &IriScheme) -> Result<Extract> {
    let artifacts = DbtArtifacts::read(&options.target_dir)?;
    read_dbt_artifacts(&artifacts, options, scheme)
}

/// Reads artifacts already in memory into the model ([`DbtOptions::target_dir`] is not used).
pub fn read_dbt_artifacts(
    artifacts: &DbtArtifacts,
    options: &DbtOptions,
    scheme: &IriScheme,
) -> Result<Extract> {
    let manifest: Manifest = parse_json(&artifacts.manifest_location, &artifacts.manifest)?;
    let catalog: Option<Catalog> = artifacts
        .catalog
        .as_ref()
        .map(|(location, bytes)| parse_json(location, bytes))
        .transpose()?;
    let run_results: Option<RunResults> = artifacts
        .run_results
        .as_ref()
        .map(|(location, bytes)| parse_json(location, bytes))
        .transpose()?;
    let _span = tracing::info_span!("dbt", manifest = %artifacts.manifest_location).entered();
    let project = project_name(&manifest, &artifacts.manifest_location)?;
    let mut builder = Builder::new(scheme, &manifest, options, project);
    builder.relations(&manifest, catalog.as_ref());
    builder.lineage();
    builder.groups(&manifest);
    builder.exposures(&manifest);
    builder.tests(&manifest, run_results.as_ref());
    Ok(builder.finish(&artifacts.manifest_location))
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Parses one JSON artifact; errors name the file and the JSON path at fault.
fn parse_json<T: DeserializeOwned>(location: &str, bytes: &[u8]) -> Result<T> {
    let invalid = |field: String, message: String| Error::Invalid {
        location: location.to_owned(),
        field,
        message,
    };
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(invalid(
            "(top level)".to_owned(),
            "expected a JSON object".to_owned(),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "(top level)".to_owned()
        } else {
            path
        };
        invalid(field, e.into_inner().to_string())
    })?;
    de.end()
        .map_err(|e| invalid("(top level)".to_owned(), e.to_string()))?;
    Ok(value)
}

/// `Option<T>` where `null` and absence both mean `T::default()`.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> std::result::Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The manifest schema version, checked against [`SUPPORTED_MANIFEST_VERSIONS`].
fn schema_version<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
    let url = String::deserialize(d)?;
    let version = url
        .trim()
        .trim_end_matches(".json")
        .rsplit_once("/v")
        .and_then(|(base, v)| base.ends_with("manifest").then_some(v))
        .and_then(|v| v.parse::<u32>().ok());
    match version {
        Some(v) if SUPPORTED_MANIFEST_VERSIONS.contains(&v) => Ok(v),
        _ => Err(de::Error::custom(format!(
            "unsupported dbt manifest schema {url:?}: govgraph reads manifest schemas v10, v11 \
             and v12 (dbt 1.6 to 1.11); regenerate the artifacts with a supported dbt version"
        ))),
    }
}

/// A string or a list of strings (dbt accepts both for tags and owner e-mails).
#[derive(Debug, Clone, Default)]
struct Strings(Vec<String>);

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Strings;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Strings, E> {
                Ok(Strings(vec![v.to_owned()]))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Strings, E> {
                Ok(Strings::default())
            }
            fn visit_none<E: de::Error>(self) -> std::result::Result<Strings, E> {
                Ok(Strings::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Strings, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(Strings(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON object read in document order (dbt writes columns in their declared order).
#[derive(Debug, Clone)]
struct Ordered<T>(Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Ordered<T>, E> {
                Ok(Ordered::default())
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Ordered<T>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[derive(Debug, Deserialize)]
struct Manifest {
    metadata: ManifestMetadata,
    #[serde(default, deserialize_with = "nullable")]
    nodes: BTreeMap<String, Node>,
    #[serde(default, deserialize_with = "nullable")]
    sources: BTreeMap<String, Node>,
    #[serde(default, deserialize_with = "nullable")]
    exposures: BTreeMap<String, Exposure>,
    #[serde(default, deserialize_with = "nullable")]
    groups: BTreeMap<String, Group>,
}

#[derive(Debug, Deserialize)]
struct ManifestMetadata {
    #[serde(deserialize_with = "schema_version")]
    dbt_schema_version: u32,
    project_name: Option<String>,
    adapter_type: Option<String>,
}

/// Any node of `nodes` or `sources`: the fields of every resource type that matter here.
#[derive(Debug, Deserialize)]
struct Node {
    unique_id: String,
    resource_type: String,
    name: String,
    package_name: Option<String>,
    database: Option<String>,
    schema: Option<String>,
    alias: Option<String>,
    identifier: Option<String>,
    relation_name: Option<String>,
    source_name: Option<String>,
    description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    columns: Ordered<ColumnInfo>,
    #[serde(default, deserialize_with = "nullable")]
    meta: Map<String, Value>,
    /// A source table's source-level meta, which its own `meta` overrides (dbt before 1.9
    /// does not copy it into `meta`).
    #[serde(default, deserialize_with = "nullable")]
    source_meta: Map<String, Value>,
    #[serde(default)]
    tags: Strings,
    #[serde(default, deserialize_with = "nullable")]
    config: NodeConfig,
    group: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    depends_on: DependsOn,
    compiled_code: Option<String>,
    compiled_sql: Option<String>,
    raw_code: Option<String>,
    raw_sql: Option<String>,
    column_name: Option<String>,
    attached_node: Option<String>,
    test_metadata: Option<TestMetadata>,
    #[serde(default, deserialize_with = "nullable")]
    constraints: Vec<ConstraintInfo>,
    #[serde(default, deserialize_with = "nullable")]
    primary_key: Vec<String>,
}

impl Node {
    fn compiled(&self) -> Option<&str> {
        self.compiled_code
            .as_deref()
            .or(self.compiled_sql.as_deref())
            .filter(|s| !s.trim().is_empty())
    }
    fn raw(&self) -> Option<&str> {
        self.raw_code
            .as_deref()
            .or(self.raw_sql.as_deref())
            .filter(|s| !s.trim().is_empty())
    }
    fn materialized(&self) -> Option<&str> {
        self.config.materialized.as_deref()
    }
}

#[derive(Debug, Default, Deserialize)]
struct NodeConfig {
    materialized: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    meta: Map<String, Value>,
    #[serde(default)]
    tags: Strings,
    severity: Option<String>,
    group: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct DependsOn {
    #[serde(default, deserialize_with = "nullable")]
    nodes: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ColumnInfo {
    name: String,
    description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    meta: Map<String, Value>,
    data_type: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    constraints: Vec<ConstraintInfo>,
    #[serde(default)]
    tags: Strings,
    #[serde(default, deserialize_with = "nullable")]
    config: ColumnConfig,
}

#[derive(Debug, Default, Deserialize)]
struct ColumnConfig {
    #[serde(default, deserialize_with = "nullable")]
    meta: Map<String, Value>,
    #[serde(default)]
    tags: Strings,
}

#[derive(Debug, Deserialize)]
struct ConstraintInfo {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, deserialize_with = "nullable")]
    columns: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct TestMetadata {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    kwargs: Map<String, Value>,
    namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Owner {
    #[serde(default)]
    email: Strings,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Exposure {
    unique_id: String,
    name: String,
    label: Option<String>,
    description: Option<String>,
    /// `dashboard`, `notebook`, `analysis`, `ml` or `application`.
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    owner: Owner,
    #[serde(default, deserialize_with = "nullable")]
    meta: Map<String, Value>,
    #[serde(default)]
    tags: Strings,
    #[serde(default, deserialize_with = "nullable")]
    config: NodeConfig,
    #[serde(default, deserialize_with = "nullable")]
    depends_on: DependsOn,
}

#[derive(Debug, Deserialize)]
struct Group {
    name: String,
    description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    owner: Owner,
}

#[derive(Debug, Deserialize)]
struct Catalog {
    #[serde(default, deserialize_with = "nullable")]
    nodes: BTreeMap<String, CatalogTable>,
    #[serde(default, deserialize_with = "nullable")]
    sources: BTreeMap<String, CatalogTable>,
}

#[derive(Debug, Deserialize)]
struct CatalogTable {
    #[serde(default, deserialize_with = "nullable")]
    metadata: CatalogTableMeta,
    #[serde(default, deserialize_with = "nullable")]
    columns: Ordered<CatalogColumn>,
    #[serde(default, deserialize_with = "nullable")]
    stats: Map<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct CatalogTableMeta {
    comment: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CatalogColumn {
    name: Option<String>,
    #[serde(rename = "type")]
    data_type: Option<String>,
    index: Option<u32>,
    comment: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RunResults {
    #[serde(default, deserialize_with = "nullable")]
    metadata: RunMetadata,
    #[serde(default, deserialize_with = "nullable")]
    results: Vec<RunResult>,
}

#[derive(Debug, Default, Deserialize)]
struct RunMetadata {
    generated_at: Option<String>,
    invocation_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RunResult {
    unique_id: String,
    status: String,
    failures: Option<u64>,
    message: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    timing: Vec<Timing>,
}

#[derive(Debug, Deserialize)]
struct Timing {
    name: String,
    started_at: Option<String>,
    completed_at: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Naming

/// The project's name: the manifest's `project_name`, or else the package most models
/// belong to (the root project's).
fn project_name(manifest: &Manifest, location: &str) -> Result<String> {
    if let Some(name) = manifest
        .metadata
        .project_name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        return Ok(name.trim().to_owned());
    }
    let mut packages: BTreeMap<&str, usize> = BTreeMap::new();
    for node in manifest
        .nodes
        .values()
        .filter(|n| n.resource_type == "model")
    {
        if let Some(p) = node.package_name.as_deref() {
            *packages.entry(p).or_default() += 1;
        }
    }
    let best = packages
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(p, _)| (*p).to_owned());
    best.ok_or_else(|| Error::Invalid {
        location: location.to_owned(),
        field: "metadata.project_name".to_owned(),
        message: "is missing, and there is no model whose package could name the project"
            .to_owned(),
    })
}

/// The SQL dialect of an adapter, when the lineage engine knows one.
fn adapter_dialect(adapter: &str) -> Option<Dialect> {
    let adapter = adapter.trim().to_ascii_lowercase();
    match adapter.as_str() {
        "fabric" | "synapse" => Some(Dialect::MsSql),
        "materialize" | "cockroachdb" | "risingwave" => Some(Dialect::Postgres),
        other => other.parse().ok(),
    }
}

/// Splits a relation name such as `"db"."schema"."table"`, `` `p`.`d`.`t` `` or
/// `[db].[schema].[t]` into its unquoted parts. `None` when a part is empty.
fn split_relation(name: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut close: Option<char> = None;
    let mut chars = name.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match close {
            Some(q) if c == q => {
                if chars.peek() == Some(&q) {
                    current.push(q);
                    chars.next();
                } else {
                    close = None;
                }
            }
            Some(_) => current.push(c),
            None => match c {
                '"' => close = Some('"'),
                '`' => close = Some('`'),
                '[' => close = Some(']'),
                '.' => parts.push(std::mem::take(&mut current)),
                c if c.is_whitespace() => {}
                c => current.push(c),
            },
        }
    }
    parts.push(current);
    (!parts.iter().any(String::is_empty)).then_some(parts)
}

// ---------------------------------------------------------------------------------------------
// Building the model

/// What a dbt resource becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    Model,
    Source,
    Seed,
    Snapshot,
}

/// One relation (model, source, seed or snapshot) and what is known of it.
#[derive(Debug)]
struct Relation<'m> {
    node: &'m Node,
    resource: Resource,
    key: DatasetKey,
    /// The qualified name the lineage schema knows it by, as the warehouse spells it; `None`
    /// for ephemeral models.
    schema_name: Option<String>,
    columns: Vec<ColumnSpec>,
    /// Column slugs → position in `columns`.
    column_index: HashMap<String, usize>,
    /// Whether the lineage schema already has the relation's columns.
    in_schema: bool,
    row_count: Option<u64>,
    /// The warehouse's comment on the relation, from the catalog.
    comment: Option<String>,
    governance: Governance,
}

impl Relation<'_> {
    fn has_column(&self, name: &str) -> bool {
        self.column_index.contains_key(&slug(name))
    }
    /// The column called `name` (by slug), added at the end when new.
    fn column_mut(&mut self, name: &str) -> Option<&mut ColumnSpec> {
        let columns = &mut self.columns;
        let at = *self.column_index.entry(slug(name)).or_insert_with(|| {
            columns.push(ColumnSpec::new(name));
            columns.len() - 1
        });
        columns.get_mut(at)
    }
}

#[derive(Debug, Default)]
struct ColumnSpec {
    name: String,
    data_type: Option<String>,
    description: Option<String>,
    ordinal: Option<u32>,
    required: Option<bool>,
    primary_key: bool,
    tags: BTreeSet<String>,
}

impl ColumnSpec {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }
}

/// Ownership and classification read from tags and meta.
#[derive(Debug, Default, Clone)]
struct Governance {
    owners: BTreeSet<String>,
    stewards: BTreeSet<String>,
    domain: Option<String>,
    tags: BTreeSet<String>,
    layer: Option<String>,
    certified: Option<bool>,
    retention: Option<String>,
}

/// `config.meta` over `meta`: config wins, key by key.
fn merged_meta(meta: &Map<String, Value>, config: &Map<String, Value>) -> Map<String, Value> {
    let mut out = meta.clone();
    for (k, v) in config {
        out.insert(k.clone(), v.clone());
    }
    out
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

struct Builder<'m> {
    scheme: &'m IriScheme,
    project: String,
    project_system: String,
    system: String,
    platform: String,
    dialect: Dialect,
    without_database: bool,
    relations: Vec<Relation<'m>>,
    by_id: HashMap<&'m str, usize>,
    /// Lineage-schema name → relation.
    by_schema_name: HashMap<String, usize>,
    schema: Schema,
    agents: BTreeMap<String, Agent>,
    domains: BTreeMap<String, Domain>,
    tags: BTreeMap<String, Tag>,
    datasets_extra: Vec<Dataset>,
    out: Vec<Triple>,
    edges: Vec<LineageEdge>,
    jobs: BTreeSet<(String, String)>,
    extract: Extract,
    dropped_warnings: usize,
}

impl<'m> Builder<'m> {
    fn new(
        scheme: &'m IriScheme,
        manifest: &'m Manifest,
        options: &DbtOptions,
        project: String,
    ) -> Self {
        let adapter = non_empty(manifest.metadata.adapter_type.as_deref());
        let mut warnings = Vec::new();
        let system = match (&options.system, &adapter) {
            (Some(s), _) if !s.trim().is_empty() => s.trim().to_owned(),
            (_, Some(a)) => a.clone(),
            _ => {
                warnings.push(
                    "metadata.adapter_type is missing; the relations are put in the system \"warehouse\""
                        .to_owned(),
                );
                "warehouse".to_owned()
            }
        };
        let dialect = match (options.dialect, &adapter) {
            (Some(d), _) => d,
            (None, Some(a)) => adapter_dialect(a).unwrap_or_else(|| {
                warnings.push(format!(
                    "adapter {a:?} has no SQL dialect of its own; the compiled SQL is read with the generic dialect"
                ));
                Dialect::Generic
            }),
            (None, None) => Dialect::Generic,
        };
        tracing::debug!(%project, %system, dialect = %dialect, version = manifest.metadata.dbt_schema_version, "reading dbt manifest");
        let mut builder = Self {
            scheme,
            project_system: format!("dbt.{project}"),
            project,
            platform: adapter.unwrap_or_else(|| system.clone()),
            system,
            dialect,
            without_database: options.without_database,
            relations: Vec::new(),
            by_id: HashMap::new(),
            by_schema_name: HashMap::new(),
            schema: Schema::new(),
            agents: BTreeMap::new(),
            domains: BTreeMap::new(),
            tags: BTreeMap::new(),
            datasets_extra: Vec::new(),
            out: Vec::new(),
            edges: Vec::new(),
            jobs: BTreeSet::new(),
            extract: Extract::default(),
            dropped_warnings: 0,
        };
        for w in warnings {
            builder.warn(w);
        }
        builder
    }

    fn warn(&mut self, message: String) {
        tracing::debug!(%message, "dbt warning");
        if self.extract.warnings.len() < MAX_WARNINGS {
            self.extract.warnings.push(message);
        } else {
            self.dropped_warnings += 1;
        }
    }

    // -- agents, domains, tags ----------------------------------------------------------------

    /// Registers an agent and returns its key. An e-mail address makes a person keyed by
    /// the address; a bare name makes a group (a team) keyed by the name.
    fn agent(&mut self, name: Option<&str>, email: Option<&str>) -> Option<String> {
        let name = non_empty(name);
        let email =
            non_empty(email).filter(|e| e.contains('@') && !e.contains(char::is_whitespace));
        let key = slug(email.as_deref().or(name.as_deref())?);
        let display = name.clone().or_else(|| email.clone()).unwrap_or_default();
        let kind = if email.is_some() {
            AgentKind::Person
        } else {
            AgentKind::Group
        };
        let agent = self.agents.entry(key.clone()).or_insert_with(|| Agent {
            key: key.clone(),
            kind,
            name: display.clone(),
            email: email.clone(),
            member_of: Vec::new(),
        });
        // A real name beats an address used as a name.
        if name.is_some() && agent.name.contains('@') {
            agent.name = display;
        }
        if agent.email.is_none() {
            agent.email = email;
        }
        Some(key)
    }

    /// The agents an owner object names (one per e-mail address, or one by name).
    fn owner_agents(&mut self, owner: &Owner) -> Vec<String> {
        if owner.email.0.is_empty() {
            return self
                .agent(owner.name.as_deref(), None)
                .into_iter()
                .collect();
        }
        let mut out = Vec::new();
        for (i, email) in owner.email.0.iter().enumerate() {
            let name = if i == 0 { owner.name.as_deref() } else { None };
            out.extend(self.agent(name, Some(email)));
        }
        out
    }

    /// The agents a `meta.owner` (or `steward`) value names: a string, a list, or an object
    /// with `name` and `email`.
    fn meta_agents(&mut self, value: &Value, what: &str) -> Vec<String> {
        match value {
            Value::String(s) => {
                let s = s.trim();
                if s.contains('@') && !s.contains(char::is_whitespace) {
                    self.agent(None, Some(s)).into_iter().collect()
                } else {
                    self.agent(Some(s), None).into_iter().collect()
                }
            }
            Value::Array(items) => items
                .iter()
                .flat_map(|v| self.meta_agents(v, what))
                .collect(),
            Value::Object(o) => {
                let owner = Owner {
                    email: Strings(
                        o.get("email")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                            .into_iter()
                            .collect(),
                    ),
                    name: o.get("name").and_then(Value::as_str).map(str::to_owned),
                };
                self.owner_agents(&owner)
            }
            Value::Null => Vec::new(),
            other => {
                self.warn(format!("{what}: cannot read {other} as an owner"));
                Vec::new()
            }
        }
    }

    fn domain(&mut self, name: &str) -> String {
        let key = slug(name);
        self.domains.entry(key.clone()).or_insert_with(|| Domain {
            key: key.clone(),
            label: name.trim().to_owned(),
            description: None,
            owners: Vec::new(),
            stewards: Vec::new(),
            organization: None,
        });
        key
    }

    fn tag(&mut self, name: &str) -> String {
        let key = slug(name);
        self.tags.entry(key.clone()).or_insert_with(|| Tag {
            key: key.clone(),
            label: name.trim().to_owned(),
            definition: None,
            broader: None,
            classification: None,
        });
        key
    }

    /// The `pii` classification, or `pii.{category}` under it.
    fn pii(&mut self, category: Option<&str>) -> String {
        let classification = Classification {
            personal_data_category: None,
            special_category: false,
            sensitivity: Some("confidential".to_owned()),
        };
        let root = self.tags.entry("pii".to_owned()).or_insert_with(|| Tag {
            key: "pii".to_owned(),
            label: "PII".to_owned(),
            definition: Some("Contains personal data (GDPR Art. 4(1)).".to_owned()),
            broader: None,
            classification: None,
        });
        root.classification
            .get_or_insert_with(|| classification.clone());
        let Some(category) = category.map(slug).filter(|c| c != "_") else {
            return "pii".to_owned();
        };
        let key = format!("pii.{category}");
        let tag = self.tags.entry(key.clone()).or_insert_with(|| Tag {
            key: key.clone(),
            label: format!("PII: {category}"),
            definition: None,
            broader: Some("pii".to_owned()),
            classification: None,
        });
        tag.classification.get_or_insert(classification);
        key
    }

    /// Reads tags and meta (`config` over the node's own).
    fn governance(
        &mut self,
        what: &str,
        meta: &Map<String, Value>,
        config_meta: &Map<String, Value>,
        tags: &[&Strings],
    ) -> Governance {
        let meta = merged_meta(meta, config_meta);
        let mut g = Governance::default();
        for t in tags.iter().flat_map(|s| s.0.iter()) {
            if !t.trim().is_empty() {
                g.tags.insert(self.tag(t));
            }
        }
        if let Some(v) = meta.get("owner") {
            g.owners
                .extend(self.meta_agents(v, &format!("{what}: meta.owner")));
        }
        if let Some(v) = meta.get("steward") {
            g.stewards
                .extend(self.meta_agents(v, &format!("{what}: meta.steward")));
        }
        if let Some(d) = meta
            .get("domain")
            .and_then(Value::as_str)
            .filter(|d| !d.trim().is_empty())
        {
            g.domain = Some(self.domain(d));
        }
        match meta.get("pii") {
            Some(Value::Bool(true)) => {
                g.tags.insert(self.pii(None));
            }
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "" | "false" | "no" | "none" => {}
                "true" | "yes" => {
                    g.tags.insert(self.pii(None));
                }
                category => {
                    g.tags.insert(self.pii(Some(category)));
                }
            },
            Some(Value::Bool(false) | Value::Null) | None => {}
            Some(other) => self.warn(format!("{what}: meta.pii: cannot read {other}")),
        }
        g.layer = meta
            .get("layer")
            .and_then(Value::as_str)
            .map(|l| l.trim().to_ascii_lowercase())
            .filter(|l| !l.is_empty());
        g.certified = meta.get("certified").and_then(Value::as_bool);
        g.retention = match meta.get("retention") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(Value::Number(n)) => Some(format!("{n} days")),
            _ => None,
        };
        g
    }

    // -- relations ----------------------------------------------------------------------------

    fn resource(node: &Node) -> Option<Resource> {
        match node.resource_type.as_str() {
            "model" => Some(Resource::Model),
            "source" => Some(Resource::Source),
            "seed" => Some(Resource::Seed),
            "snapshot" => Some(Resource::Snapshot),
            _ => None,
        }
    }

    /// The warehouse name of a relation, as its parts.
    fn relation_parts(&self, node: &Node) -> Option<Vec<String>> {
        if node.materialized() == Some("ephemeral") {
            return None;
        }
        let mut parts = node
            .relation_name
            .as_deref()
            .and_then(split_relation)
            .or_else(|| {
                let table = non_empty(node.identifier.as_deref())
                    .or_else(|| non_empty(node.alias.as_deref()))
                    .unwrap_or_else(|| node.name.clone());
                let parts: Vec<String> = [
                    non_empty(node.database.as_deref()),
                    non_empty(node.schema.as_deref()),
                ]
                .into_iter()
                .flatten()
                .chain([table])
                .collect();
                Some(parts)
            })?;
        if self.without_database && parts.len() > 2 {
            parts.remove(0);
        }
        Some(parts)
    }

    fn relations(&mut self, manifest: &'m Manifest, catalog: Option<&Catalog>) {
        let nodes = manifest.sources.values().chain(manifest.nodes.values());
        for node in nodes {
            let Some(resource) = Self::resource(node) else {
                continue;
            };
            if self.by_id.contains_key(node.unique_id.as_str()) {
                self.warn(format!(
                    "{}: appears twice; the first is kept",
                    node.unique_id
                ));
                continue;
            }
            let parts = self.relation_parts(node);
            let (key, schema_name) = match &parts {
                Some(parts) => {
                    let name = parts.join(".");
                    (
                        DatasetKey::new(&self.system, &name.to_lowercase()),
                        Some(name),
                    )
                }
                None => (
                    DatasetKey::new(&self.project_system, &format!("model.{}", node.name)),
                    None,
                ),
            };
            let governance = self.governance(
                &node.unique_id,
                &merged_meta(&node.source_meta, &node.meta),
                &node.config.meta,
                &[&node.tags, &node.config.tags],
            );
            let table = catalog.and_then(|c| {
                let tables = if resource == Resource::Source {
                    &c.sources
                } else {
                    &c.nodes
                };
                tables.get(&node.unique_id)
            });
            let mut relation = Relation {
                node,
                resource,
                key,
                schema_name,
                columns: Vec::new(),
                column_index: HashMap::new(),
                in_schema: false,
                row_count: table.and_then(row_count),
                comment: table.and_then(|t| non_empty(t.metadata.comment.as_deref())),
                governance,
            };
            self.columns(&mut relation, table);
            if let Some(name) = &relation.schema_name
                && !relation.columns.is_empty()
            {
                let pairs: Vec<(&str, &str)> = relation
                    .columns
                    .iter()
                    .map(|c| (c.name.as_str(), c.data_type.as_deref().unwrap_or("")))
                    .collect();
                self.schema.add_table(name, &pairs);
                relation.in_schema = true;
            }
            let at = self.relations.len();
            if let Some(name) = &relation.schema_name {
                self.by_schema_name.entry(name.clone()).or_insert(at);
                self.by_schema_name.entry(name.to_lowercase()).or_insert(at);
            }
            self.by_id.insert(node.unique_id.as_str(), at);
            self.relations.push(relation);
        }
    }

    /// A relation's columns: the catalog's first (their types win), then the manifest's.
    fn columns(&mut self, relation: &mut Relation<'m>, table: Option<&CatalogTable>) {
        let node = relation.node;
        if let Some(table) = table {
            for (position, (name, c)) in table.columns.0.iter().enumerate() {
                let name = c.name.as_deref().unwrap_or(name);
                if let Some(spec) = relation.column_mut(name) {
                    spec.data_type = non_empty(c.data_type.as_deref());
                    spec.description = non_empty(c.comment.as_deref());
                    spec.ordinal = c.index.or_else(|| u32::try_from(position + 1).ok());
                }
            }
        }
        for (name, info) in &node.columns.0 {
            let name = if info.name.trim().is_empty() {
                name
            } else {
                &info.name
            };
            let what = format!("{}: columns.{name}", node.unique_id);
            let g = self.governance(
                &what,
                &info.meta,
                &info.config.meta,
                &[&info.tags, &info.config.tags],
            );
            let Some(spec) = relation.column_mut(name) else {
                continue;
            };
            if spec.data_type.is_none() {
                spec.data_type = non_empty(info.data_type.as_deref());
            }
            if let Some(d) = non_empty(info.description.as_deref()) {
                spec.description = Some(d);
            }
            spec.tags.extend(g.tags);
            for c in &info.constraints {
                match c.kind.as_str() {
                    "not_null" => spec.required = Some(true),
                    "primary_key" => {
                        spec.primary_key = true;
                        spec.required = Some(true);
                    }
                    _ => {}
                }
            }
        }
        let keys: Vec<&String> = node
            .primary_key
            .iter()
            .chain(
                node.constraints
                    .iter()
                    .filter(|c| c.kind == "primary_key")
                    .flat_map(|c| c.columns.iter()),
            )
            .collect();
        for k in keys {
            if relation.has_column(k)
                && let Some(spec) = relation.column_mut(k)
            {
                spec.primary_key = true;
                spec.required = Some(true);
            }
        }
        for c in node.constraints.iter().filter(|c| c.kind == "not_null") {
            for k in &c.columns {
                if relation.has_column(k)
                    && let Some(spec) = relation.column_mut(k)
                {
                    spec.required = Some(true);
                }
            }
        }
    }

    // -- column lineage -----------------------------------------------------------------------

    /// Models and snapshots with compiled SQL, upstream first.
    fn lineage_order(&self) -> Vec<usize> {
        let analysed: Vec<usize> = self
            .relations
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.resource, Resource::Model | Resource::Snapshot))
            .map(|(i, _)| i)
            .collect();
        let wanted: BTreeSet<usize> = analysed.iter().copied().collect();
        let mut indegree: BTreeMap<usize, usize> = analysed.iter().map(|&i| (i, 0)).collect();
        let mut children: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &i in &analysed {
            let Some(r) = self.relations.get(i) else {
                continue;
            };
            let parents: BTreeSet<usize> = r
                .node
                .depends_on
                .nodes
                .iter()
                .filter_map(|p| self.by_id.get(p.as_str()).copied())
                .filter(|p| wanted.contains(p) && *p != i)
                .collect();
            for p in parents {
                children.entry(p).or_default().push(i);
                *indegree.entry(i).or_default() += 1;
            }
        }
        let mut ready: BTreeSet<usize> = indegree
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(i, _)| *i)
            .collect();
        let mut order = Vec::with_capacity(analysed.len());
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for c in children.get(&i).map(Vec::as_slice).unwrap_or_default() {
                if let Some(d) = indegree.get_mut(c) {
                    *d = d.saturating_sub(1);
                    if *d == 0 {
                        ready.insert(*c);
                    }
                }
            }
        }
        // A cycle (dbt forbids them) leaves nodes behind: analyse them anyway.
        if order.len() < analysed.len() {
            let done: BTreeSet<usize> = order.iter().copied().collect();
            order.extend(analysed.into_iter().filter(|i| !done.contains(i)));
        }
        order
    }

    fn lineage(&mut self) {
        for i in self.lineage_order() {
            let Some(relation) = self.relations.get(i) else {
                continue;
            };
            let node = relation.node;
            let Some(sql) = node.compiled() else {
                self.warn(format!(
                    "{}: not compiled; only its node lineage is recorded (run `dbt compile` for column lineage)",
                    node.unique_id
                ));
                continue;
            };
            let options = govgraph_lineage::Options {
                dialect: self.dialect,
                default_database: non_empty(node.database.as_deref()),
                default_schema: non_empty(node.schema.as_deref()),
            };
            let analysis = govgraph_lineage::analyze(sql, &self.schema, &options);
            if let Some(e) = analysis.statements.iter().find_map(|s| s.error.as_ref()) {
                self.warn(format!(
                    "{}: the compiled SQL does not parse (line {}, column {}): {}; only its node lineage is recorded",
                    node.unique_id, e.line, e.column, e.message
                ));
                continue;
            }
            let Some(statement) = analysis
                .statements
                .iter()
                .rev()
                .find(|s| !s.column_order.is_empty())
            else {
                self.warn(format!(
                    "{}: the compiled SQL has no output columns",
                    node.unique_id
                ));
                continue;
            };
            for w in &statement.warnings {
                let line = w.line.map(|l| format!(" (line {l})")).unwrap_or_default();
                self.warn(format!("{}{line}: {}", node.unique_id, w.message));
            }
            self.column_lineage(i, statement);
        }
    }

    /// Records the output columns of relation `i` and the edges into them.
    fn column_lineage(&mut self, i: usize, statement: &StatementLineage) {
        let mut edges = Vec::new();
        for (position, out) in statement.column_order.iter().enumerate() {
            let Some(lineage) = statement.columns.get(out) else {
                continue;
            };
            for s in &lineage.sources {
                let Some(&from) = self
                    .by_schema_name
                    .get(&s.table)
                    .or_else(|| self.by_schema_name.get(&s.table.to_lowercase()))
                else {
                    continue;
                };
                let Some(source) = self.relations.get(from) else {
                    continue;
                };
                if !source.has_column(&s.column) {
                    continue;
                }
                edges.push((
                    out.clone(),
                    source.key.clone(),
                    s.column.clone(),
                    s.kind,
                    s.subtype,
                    lineage.expression.clone(),
                ));
            }
            let Some(relation) = self.relations.get_mut(i) else {
                return;
            };
            let known = relation.has_column(out);
            if let Some(spec) = relation.column_mut(out)
                && (!known || spec.ordinal.is_none())
            {
                spec.ordinal = u32::try_from(position + 1).ok();
            }
        }
        let Some(relation) = self.relations.get_mut(i) else {
            return;
        };
        let target = relation.key.clone();
        let job = slug(&relation.node.unique_id);
        let title = format!("dbt {} {}", relation.node.resource_type, relation.node.name);
        if !relation.in_schema
            && let Some(name) = relation.schema_name.clone()
        {
            let pairs: Vec<(&str, &str)> = relation
                .columns
                .iter()
                .map(|c| (c.name.as_str(), c.data_type.as_deref().unwrap_or("")))
                .collect();
            self.schema.add_table(&name, &pairs);
            relation.in_schema = true;
        }
        if !edges.is_empty() {
            self.jobs.insert((job.clone(), title));
        }
        for (out, source, column, kind, subtype, expression) in edges {
            self.edges.push(LineageEdge {
                target: ColumnKey::new(target.clone(), &out),
                source: ColumnKey::new(source, &column),
                transformation: kind,
                subtype,
                description: expression,
                masking: false,
                job: Some(job.clone()),
            });
        }
    }

    // -- groups and exposures -----------------------------------------------------------------

    fn groups(&mut self, manifest: &Manifest) {
        for group in manifest.groups.values() {
            let owners = self.owner_agents(&group.owner);
            let key = self.domain(&group.name);
            for o in &owners {
                if let Some(agent) = self.agents.get_mut(o)
                    && !agent.member_of.contains(&key)
                {
                    agent.member_of.push(key.clone());
                }
            }
            if let Some(domain) = self.domains.get_mut(&key) {
                domain.description = non_empty(group.description.as_deref());
                domain.owners.extend(owners);
                domain.owners.sort();
                domain.owners.dedup();
            }
        }
    }

    fn exposures(&mut self, manifest: &'m Manifest) {
        for exposure in manifest.exposures.values() {
            let mut g = self.governance(
                &exposure.unique_id,
                &exposure.meta,
                &exposure.config.meta,
                &[&exposure.tags, &exposure.config.tags],
            );
            g.owners.extend(self.owner_agents(&exposure.owner));
            let key = DatasetKey::new(&self.project_system, &format!("exposure.{}", exposure.name));
            let title =
                non_empty(exposure.label.as_deref()).unwrap_or_else(|| exposure.name.clone());
            let mut d = Dataset::new(key, DatasetKind::Dashboard, title);
            d.description = non_empty(exposure.description.as_deref());
            d.derived_from = self.upstream(&exposure.depends_on.nodes);
            apply_governance(&mut d, &g);
            let iri = self.scheme.dataset(&d.key);
            if let Some(kind) = non_empty(exposure.kind.as_deref()) {
                // The exposure's type (dashboard, notebook, ml, ...) as a keyword.
                self.out.push(Triple::new(
                    iri.clone(),
                    dcat::KEYWORD.into_owned(),
                    Literal::new_simple_literal(kind),
                ));
            }
            match non_empty(exposure.url.as_deref()).map(NamedNode::new) {
                Some(Ok(url)) => {
                    self.out
                        .push(Triple::new(iri, dcat::LANDING_PAGE.into_owned(), url))
                }
                Some(Err(_)) => self.warn(format!(
                    "{}: url is not an absolute IRI; not recorded",
                    exposure.unique_id
                )),
                None => {}
            }
            self.datasets_extra.push(d);
            self.extract.count("exposures", 1);
        }
    }

    fn upstream(&self, ids: &[String]) -> Vec<DatasetKey> {
        let mut keys: Vec<DatasetKey> = ids
            .iter()
            .filter_map(|id| self.by_id.get(id.as_str()))
            .filter_map(|&i| self.relations.get(i))
            .map(|r| r.key.clone())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    // -- tests --------------------------------------------------------------------------------

    fn tests(&mut self, manifest: &'m Manifest, run_results: Option<&RunResults>) {
        let results: HashMap<&str, &RunResult> = run_results
            .map(|r| {
                r.results
                    .iter()
                    .map(|x| (x.unique_id.as_str(), x))
                    .collect()
            })
            .unwrap_or_default();
        let run_meta = run_results.map(|r| &r.metadata);
        for node in manifest
            .nodes
            .values()
            .filter(|n| n.resource_type == "test")
        {
            let Some(rule) = self.rule(node) else {
                continue;
            };
            rule.write(self.scheme, &mut self.out);
            self.extract.count("rules", 1);
            if let Some(result) = results.get(node.unique_id.as_str()) {
                self.rule_run(&rule, result, run_meta);
            }
        }
    }

    /// The relation and column a generic test is attached to.
    fn attachment(&self, node: &Node) -> Option<usize> {
        let attached = node.attached_node.as_deref().or_else(|| {
            node.depends_on
                .nodes
                .iter()
                .find(|id| self.by_id.contains_key(id.as_str()))
                .map(String::as_str)
        })?;
        self.by_id.get(attached).copied()
    }

    fn rule(&mut self, node: &Node) -> Option<QualityRule> {
        let attached = self.attachment(node);
        let column = non_empty(node.column_name.as_deref()).or_else(|| {
            node.test_metadata
                .as_ref()
                .and_then(|t| t.kwargs.get("column_name"))
                .and_then(Value::as_str)
                .and_then(|c| non_empty(Some(c)))
        });
        let relation = attached.and_then(|i| self.relations.get(i));
        let mut applies_to = Vec::new();
        let mut on_expression = None;
        let mut subject = String::new();
        let relation_owner = relation.and_then(|r| r.governance.owners.first().cloned());
        if let Some(r) = relation {
            subject = r.node.name.clone();
            match &column {
                Some(c) if r.has_column(c) => {
                    applies_to.push(AssetRef::Column(ColumnKey::new(r.key.clone(), c)));
                    subject = format!("{}.{c}", r.node.name);
                }
                Some(c) => {
                    applies_to.push(AssetRef::Dataset(r.key.clone()));
                    on_expression = Some(c.clone());
                    subject = format!("{}: {c}", r.node.name);
                }
                None => applies_to.push(AssetRef::Dataset(r.key.clone())),
            }
        }
        let kind = test_kind(node);
        if matches!(kind, TestKind::Singular) || applies_to.is_empty() {
            for key in self.upstream(&node.depends_on.nodes) {
                let asset = AssetRef::Dataset(key);
                if !applies_to.contains(&asset) {
                    applies_to.push(asset);
                }
            }
        }
        if applies_to.is_empty() {
            self.warn(format!(
                "{}: the test checks nothing this manifest catalogues; it is left out",
                node.unique_id
            ));
            return None;
        }
        let g = self.governance(&node.unique_id, &node.meta, &node.config.meta, &[]);
        let owner = g.owners.first().cloned().or(relation_owner);
        let severity = match node.config.severity.as_deref().map(str::to_ascii_lowercase) {
            Some(s) if s == "warn" => "warn",
            _ => "error",
        };
        let (rule_type, dimension, title, mut parameters, expression) =
            self.rule_shape(node, &kind, &subject, attached);
        if let (Some(expr), Value::Object(p)) = (&on_expression, &mut parameters) {
            p.insert("column".to_owned(), Value::String(expr.clone()));
        }
        Some(QualityRule {
            key: slug(&node.unique_id),
            title,
            description: non_empty(node.description.as_deref()),
            rule_type: rule_type.to_owned(),
            applies_to,
            parameters: Some(parameters.to_string()),
            expression,
            dimension: Some(dimension.to_owned()),
            severity: severity.to_owned(),
            owner,
        })
    }

    /// A test's rule type, dimension, title, parameters and expression.
    fn rule_shape(
        &mut self,
        node: &Node,
        kind: &TestKind,
        subject: &str,
        attached: Option<usize>,
    ) -> (&'static str, &'static str, String, Value, Option<String>) {
        let kwargs = node.test_metadata.as_ref().map(|t| &t.kwargs);
        let sql = || {
            node.compiled()
                .or_else(|| node.raw())
                .map(|s| s.trim().to_owned())
        };
        match kind {
            TestKind::NotNull => (
                "not_null",
                "Completeness",
                format!("{subject} is never null"),
                Value::Object(Map::new()),
                None,
            ),
            TestKind::Unique => (
                "unique",
                "Uniqueness",
                format!("{subject} is unique"),
                Value::Object(Map::new()),
                None,
            ),
            TestKind::AcceptedValues => {
                let values = kwargs
                    .and_then(|k| k.get("values"))
                    .cloned()
                    .unwrap_or(Value::Array(Vec::new()));
                let shown: Vec<String> = values
                    .as_array()
                    .map(|v| {
                        v.iter()
                            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut p = Map::new();
                p.insert("values".to_owned(), values);
                if let Some(q) = kwargs.and_then(|k| k.get("quote")) {
                    p.insert("quote".to_owned(), q.clone());
                }
                (
                    "accepted_values",
                    "Validity",
                    format!("{subject} is one of {}", shown.join(", ")),
                    Value::Object(p),
                    None,
                )
            }
            TestKind::Relationships => {
                let field = kwargs
                    .and_then(|k| k.get("field"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let target = node
                    .depends_on
                    .nodes
                    .iter()
                    .filter_map(|id| self.by_id.get(id.as_str()).copied())
                    .find(|i| Some(*i) != attached)
                    .or(attached);
                let (references, to_name) = target
                    .and_then(|i| self.relations.get(i))
                    .map(|r| (r.key.name.clone(), r.node.name.clone()))
                    .unwrap_or_default();
                self.reference(node, attached, target, &field);
                let mut p = Map::new();
                p.insert("references".to_owned(), Value::String(references));
                p.insert(
                    "columns".to_owned(),
                    Value::Array(vec![Value::String(field.clone())]),
                );
                (
                    "referential",
                    "Consistency",
                    format!("{subject} references {to_name}.{field}"),
                    Value::Object(p),
                    None,
                )
            }
            TestKind::Other(name) => {
                let mut args = kwargs.cloned().unwrap_or_default();
                args.remove("model");
                let mut p = Map::new();
                p.insert("test".to_owned(), Value::String(name.clone()));
                if !args.is_empty() {
                    p.insert("kwargs".to_owned(), Value::Object(args));
                }
                (
                    "custom_sql",
                    "Validity",
                    format!("{subject}: {name}"),
                    Value::Object(p),
                    sql(),
                )
            }
            TestKind::Singular => (
                "custom_sql",
                "Validity",
                node.name.clone(),
                Value::Object(Map::new()),
                sql(),
            ),
        }
    }

    /// `relationships` tests also say that a column references another: `gg:references`.
    fn reference(&mut self, node: &Node, from: Option<usize>, to: Option<usize>, field: &str) {
        let (Some(from), Some(to)) = (
            from.and_then(|i| self.relations.get(i)),
            to.and_then(|i| self.relations.get(i)),
        ) else {
            return;
        };
        let Some(column) = node.column_name.as_deref() else {
            return;
        };
        if from.has_column(column) && to.has_column(field) {
            self.out.push(Triple::new(
                self.scheme
                    .column(&ColumnKey::new(from.key.clone(), column)),
                gg::REFERENCES.into_owned(),
                self.scheme.column(&ColumnKey::new(to.key.clone(), field)),
            ));
        }
    }

    /// The rule's latest result: a `gg:RuleRun`, and a `gg:Violation` when records failed.
    fn rule_run(&mut self, rule: &QualityRule, result: &RunResult, meta: Option<&RunMetadata>) {
        let status = match result.status.as_str() {
            "pass" | "success" => "pass",
            "fail" | "warn" => "fail",
            "error" | "runtime error" => "error",
            "skipped" | "skip" => {
                self.extract.count("skipped_tests", 1);
                return;
            }
            other => {
                self.warn(format!(
                    "{}: unknown test status {other:?} in run_results.json; no result recorded",
                    result.unique_id
                ));
                return;
            }
        };
        let invocation = meta
            .and_then(|m| m.invocation_id.as_deref())
            .unwrap_or("latest");
        let run = self
            .scheme
            .entity(Kind::Run, &format!("{}.{invocation}", rule.key));
        let rule_iri = rule.iri(self.scheme);
        let timing = result
            .timing
            .iter()
            .find(|t| t.name == "execute")
            .or_else(|| result.timing.last());
        let started = timing
            .and_then(|t| t.started_at.as_deref())
            .and_then(date_time);
        let ended = timing
            .and_then(|t| t.completed_at.as_deref())
            .and_then(date_time)
            .or_else(|| {
                meta.and_then(|m| m.generated_at.as_deref())
                    .and_then(date_time)
            });
        let out = &mut self.out;
        let mut add = |s: &NamedNode, p: oxigraph::model::NamedNodeRef<'_>, o: Term| {
            out.push(Triple::new(s.clone(), p.into_owned(), o));
        };
        add(&run, rdf::TYPE, gg::RULE_RUN.into_owned().into());
        add(&run, gg::RULE, rule_iri.clone().into());
        add(&run, gg::STATUS, Literal::new_simple_literal(status).into());
        if let Some(t) = &started {
            add(&run, prov::STARTED_AT_TIME, t.clone().into());
        }
        if let Some(t) = &ended {
            add(&run, prov::ENDED_AT_TIME, t.clone().into());
        }
        if let Some(n) = result.failures {
            add(&run, gg::FAILED_COUNT, integer(n).into());
        }
        if let Some(m) = non_empty(result.message.as_deref()).filter(|_| status != "pass") {
            add(
                &run,
                dct::DESCRIPTION,
                Literal::new_simple_literal(m).into(),
            );
        }
        self.extract.count("rule_runs", 1);
        let failures = result.failures.unwrap_or(0);
        if status == "fail" && failures > 0 {
            let violation = NamedNode::new_unchecked(format!("{}#violation", run.as_str()));
            add(&violation, rdf::TYPE, gg::VIOLATION.into_owned().into());
            add(&violation, gg::RULE, rule_iri.into());
            for asset in &rule.applies_to {
                add(&violation, gg::FOCUS, asset.iri(self.scheme).into());
            }
            add(&violation, gg::COUNT, integer(failures).into());
            add(&violation, prov::WAS_GENERATED_BY, run.clone().into());
            if let Some(t) = ended.or(started) {
                add(&violation, prov::GENERATED_AT_TIME, t.into());
            }
            self.extract.count("violations", 1);
        }
    }

    // -- writing ------------------------------------------------------------------------------

    fn retention_policy(&mut self, dataset: &Dataset, retention: &str) {
        let Some(duration) = iso_duration(retention) else {
            self.warn(format!(
                "{}: meta.retention {retention:?} is not a period such as \"P3Y\", \"90 days\" or \"2 years\"; no retention policy recorded",
                dataset.key
            ));
            return;
        };
        let odrl_term = |local: &str| NamedNode::new_unchecked(format!("{}{local}", odrl::NS));
        let policy = Policy {
            key: format!("{}.{}.retention", dataset.key.system, dataset.key.name),
            title: format!("{} is kept for at most {retention}", dataset.title),
            description: Some(format!(
                "Declared in the dbt project {} (meta.retention: {retention}).",
                self.project
            )),
            scope: PolicyScope::Domain,
            domain: dataset.domain.clone(),
            version: 1,
            status: "approved".to_owned(),
            rules: vec![PolicyRule {
                kind: RuleKind::Obligation,
                action: odrl_term("delete"),
                targets: vec![self.scheme.dataset(&dataset.key)],
                assignees: Vec::new(),
                constraints: vec![Constraint {
                    left: odrl_term("elapsedTime"),
                    operator: odrl_term("lteq"),
                    right: Literal::new_typed_literal(duration, xsd::DURATION).into(),
                }],
                duties: Vec::new(),
                row_filter: None,
            }],
        };
        policy.write(self.scheme, &mut self.out);
        self.extract.count("policies", 1);
    }

    fn finish(mut self, location: &str) -> Extract {
        let scheme = self.scheme;
        System {
            key: slug(&self.system),
            title: self.system.clone(),
            platform: self.platform.clone(),
            description: None,
        }
        .write(scheme, &mut self.out);
        System {
            key: slug(&self.project_system),
            title: format!("dbt project {}", self.project),
            platform: "dbt".to_owned(),
            description: None,
        }
        .write(scheme, &mut self.out);
        let relations = std::mem::take(&mut self.relations);
        for r in &relations {
            let d = self.dataset(r, &relations);
            for c in &r.columns {
                let mut col = Column::new(r.key.clone(), &c.name);
                col.data_type = c.data_type.clone();
                col.ordinal = c.ordinal;
                col.required = c.required;
                col.description = c.description.clone();
                col.primary_key = c.primary_key;
                col.tags = c.tags.iter().cloned().collect();
                col.write(scheme, &mut self.out);
            }
            self.extract.count("columns", r.columns.len() as u64);
            if let Some(retention) = &r.governance.retention {
                self.retention_policy(&d, retention);
            }
            d.write(scheme, &mut self.out);
            self.extract.count("datasets", 1);
        }
        for d in std::mem::take(&mut self.datasets_extra) {
            d.write(scheme, &mut self.out);
            self.extract.count("datasets", 1);
        }
        for e in &self.edges {
            e.write(scheme, &mut self.out);
        }
        self.extract.count("lineage_edges", self.edges.len() as u64);
        for (job, title) in &self.jobs {
            let iri = scheme.entity(Kind::Job, job);
            self.out.push(Triple::new(
                iri.clone(),
                rdf::TYPE.into_owned(),
                gg::JOB.into_owned(),
            ));
            self.out.push(Triple::new(
                iri,
                dct::TITLE.into_owned(),
                Literal::new_simple_literal(title),
            ));
        }
        for a in self.agents.values() {
            a.write(scheme, &mut self.out);
        }
        for d in self.domains.values() {
            d.write(scheme, &mut self.out);
        }
        for t in self.tags.values() {
            t.write(scheme, &mut self.out);
        }
        self.extract.count("agents", self.agents.len() as u64);
        self.extract.count("domains", self.domains.len() as u64);
        self.extract.count("tags", self.tags.len() as u64);
        if self.dropped_warnings > 0 {
            let n = self.dropped_warnings;
            self.extract
                .warnings
                .push(format!("... and {n} more warnings"));
        }
        let mut extract = self.extract;
        extract.sources.push(ExtractSource {
            name: format!("dbt:{}", self.project),
            location: location.to_owned(),
            triples: self.out,
        });
        extract
    }

    fn dataset(&self, r: &Relation<'_>, relations: &[Relation<'_>]) -> Dataset {
        let node = r.node;
        let kind = match r.resource {
            Resource::Model => DatasetKind::Model,
            Resource::Source | Resource::Seed | Resource::Snapshot => DatasetKind::Table,
        };
        let title = match (r.resource, node.source_name.as_deref()) {
            (Resource::Source, Some(source)) => format!("{source}.{}", node.name),
            _ => node.name.clone(),
        };
        let mut d = Dataset::new(r.key.clone(), kind, title);
        d.description = non_empty(node.description.as_deref()).or_else(|| r.comment.clone());
        d.row_count = r.row_count;
        d.definition_sql = match r.resource {
            Resource::Model | Resource::Snapshot => {
                node.compiled().or_else(|| node.raw()).map(str::to_owned)
            }
            Resource::Source | Resource::Seed => None,
        };
        let mut upstream: Vec<DatasetKey> = node
            .depends_on
            .nodes
            .iter()
            .filter_map(|id| self.by_id.get(id.as_str()))
            .filter_map(|&i| relations.get(i))
            .map(|u| u.key.clone())
            .filter(|k| *k != r.key)
            .collect();
        upstream.sort();
        upstream.dedup();
        d.derived_from = upstream;
        apply_governance(&mut d, &r.governance);
        if d.domain.is_none() {
            let group = node.group.as_deref().or(node.config.group.as_deref());
            d.domain = group
                .filter(|g| !g.trim().is_empty())
                .map(slug)
                .filter(|k| self.domains.contains_key(k));
        }
        d
    }
}

fn apply_governance(d: &mut Dataset, g: &Governance) {
    d.owners = g.owners.iter().cloned().collect();
    d.stewards = g.stewards.iter().cloned().collect();
    d.tags = g.tags.iter().cloned().collect();
    d.domain = g.domain.clone();
    d.layer = g.layer.clone();
    d.certified = g.certified;
}

/// What a test is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TestKind {
    NotNull,
    Unique,
    AcceptedValues,
    Relationships,
    /// Another generic test, by its qualified name (`dbt_utils.expression_is_true`).
    Other(String),
    Singular,
}

fn test_kind(node: &Node) -> TestKind {
    let Some(meta) = &node.test_metadata else {
        return TestKind::Singular;
    };
    let name = meta.name.as_deref().unwrap_or("test");
    let builtin = matches!(meta.namespace.as_deref(), None | Some("dbt" | ""));
    match (builtin, name) {
        (true, "not_null") => TestKind::NotNull,
        (true, "unique") => TestKind::Unique,
        (true, "accepted_values") => TestKind::AcceptedValues,
        (true, "relationships") => TestKind::Relationships,
        _ => TestKind::Other(match meta.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => format!("{ns}.{name}"),
            _ => name.to_owned(),
        }),
    }
}

fn row_count(table: &CatalogTable) -> Option<u64> {
    ["num_rows", "row_count"].iter().find_map(|k| {
        let v = table.stats.get(*k)?.get("value")?;
        match v {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| *f >= 0.0 && f.is_finite())
                    .map(|f| f as u64)
            }),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    })
}

fn integer(n: u64) -> Literal {
    Literal::new_typed_literal(n.to_string(), xsd::INTEGER)
}

/// An `xsd:dateTime` literal from a dbt timestamp, when it is one.
fn date_time(s: &str) -> Option<Literal> {
    let s = s.trim();
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 19
        && digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(b.get(10), Some(b'T' | b' '))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19);
    if !shape {
        return None;
    }
    let rest = s.get(19..)?;
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(r) => {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            (r.get(..n)?, r.get(n..)?)
        }
        None => ("", rest),
    };
    if rest.starts_with('.') && fraction.is_empty() {
        return None;
    }
    let zone_ok = zone.is_empty()
        || zone == "Z"
        || (zone.len() == 6
            && matches!(zone.as_bytes().first(), Some(b'+' | b'-'))
            && zone.as_bytes().get(3) == Some(&b':')
            && zone
                .bytes()
                .enumerate()
                .all(|(i, c)| matches!(i, 0 | 3) || c.is_ascii_digit()));
    if !zone_ok {
        return None;
    }
    let date = s.get(..10)?;
    let time = s.get(11..19)?;
    let mut text = format!("{date}T{time}");
    if !fraction.is_empty() {
        text.push('.');
        text.push_str(fraction);
    }
    text.push_str(zone);
    Some(Literal::new_typed_literal(text, xsd::DATE_TIME))
}

/// An ISO 8601 duration from a retention period: `P3Y` as it is, `90 days`, `18 months`,
/// `2 years`, `6w`, `30d`, or a bare number of days.
fn iso_duration(text: &str) -> Option<String> {
    let t = text.trim();
    let upper = t.to_ascii_uppercase();
    if let Some(body) = upper.strip_prefix('P') {
        let valid = !body.is_empty()
            && body
                .chars()
                .all(|c| c.is_ascii_digit() || "YMWDTHS.".contains(c))
            && body
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || c == 'T')
            && body.chars().last().is_some_and(|c| c.is_ascii_alphabetic());
        return valid.then_some(upper);
    }
    let lower = t.to_ascii_lowercase();
    let digits: String = lower.chars().take_while(char::is_ascii_digit).collect();
    let n: u64 = digits.parse().ok()?;
    let unit = lower.get(digits.len()..)?.trim();
    let unit = unit.strip_suffix('s').unwrap_or(unit);
    Some(match unit {
        "" | "d" | "day" => format!("P{n}D"),
        "w" | "wk" | "week" => format!("P{}D", n.checked_mul(7)?),
        "m" | "mo" | "month" => format!("P{n}M"),
        "y" | "yr" | "year" => format!("P{n}Y"),
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn relation_names_split_on_unquoted_dots() {
        assert_eq!(
            split_relation("\"db\".\"my.schema\".\"T\"").unwrap(),
            ["db", "my.schema", "T"]
        );
        assert_eq!(split_relation("`p`.`d`.`t`").unwrap(), ["p", "d", "t"]);
        assert_eq!(
            split_relation("[db].[dbo].[t]").unwrap(),
            ["db", "dbo", "t"]
        );
        assert_eq!(
            split_relation("DB.SCHEMA.T").unwrap(),
            ["DB", "SCHEMA", "T"]
        );
        assert_eq!(split_relation("\"a\"\"b\".c").unwrap(), ["a\"b", "c"]);
        assert!(split_relation("a..b").is_none());
        assert!(split_relation("").is_none());
    }

    #[test]
    fn retention_periods_become_iso_durations() {
        assert_eq!(iso_duration("P3Y").as_deref(), Some("P3Y"));
        assert_eq!(iso_duration("p18m").as_deref(), Some("P18M"));
        assert_eq!(iso_duration("90 days").as_deref(), Some("P90D"));
        assert_eq!(iso_duration("2 years").as_deref(), Some("P2Y"));
        assert_eq!(iso_duration("6w").as_deref(), Some("P42D"));
        assert_eq!(iso_duration("30").as_deref(), Some("P30D"));
        assert_eq!(iso_duration("forever"), None);
        assert_eq!(iso_duration("P"), None);
        assert_eq!(iso_duration("3 fortnights"), None);
    }

    #[test]
    fn timestamps_are_checked_before_they_become_literals() {
        assert_eq!(
            date_time("2024-05-01T10:00:01.123456Z").unwrap().value(),
            "2024-05-01T10:00:01.123456Z"
        );
        assert_eq!(
            date_time("2024-05-01 10:00:01+02:00").unwrap().value(),
            "2024-05-01T10:00:01+02:00"
        );
        assert!(date_time("yesterday").is_none());
        assert!(date_time("2024-05-01T10:00:01.Z").is_none());
        assert!(date_time("2024-05-01T10:00:01+0200").is_none());
    }

    #[test]
    fn manifest_versions_outside_v10_to_v12_are_refused() {
        for (url, ok) in [
            ("https://schemas.getdbt.com/dbt/manifest/v10.json", true),
            ("https://schemas.getdbt.com/dbt/manifest/v12.json", true),
            ("https://schemas.getdbt.com/dbt/manifest/v9.json", false),
            ("https://schemas.getdbt.com/dbt/manifest/v13.json", false),
            ("https://schemas.getdbt.com/dbt/catalog/v1.json", false),
        ] {
            let json = format!(r#"{{"metadata": {{"dbt_schema_version": "{url}"}}}}"#);
            let r: Result<Manifest> = parse_json("manifest.json", json.as_bytes());
            assert_eq!(r.is_ok(), ok, "{url}: {r:?}");
            if let Err(Error::Invalid { field, message, .. }) = r {
                assert_eq!(field, "metadata.dbt_schema_version");
                assert!(message.contains("v10, v11 and v12"), "{message}");
            }
        }
    }
}
