//! OpenLineage: RunEvent, DatasetEvent and JobEvent (spec 2-0-2), as Marquez accepts them.
//!
//! An event is parsed completely (a malformed one is refused with the JSON path at fault and
//! stores nothing), turned into one SPARQL update, and applied in one transaction. Facts go
//! to one graph per namespace, `openlineage:{namespace}` (inside a tenant's graphs for a
//! tenant), so that an event replaces exactly what its facets describe:
//!
//! - `schema` replaces the dataset's columns (their lineage stays);
//! - `columnLineage` replaces the column-lineage edges into the dataset's columns and its
//!   table-level `prov:wasDerivedFrom`;
//! - `sql` is stored on the job, and parsed into column lineage for outputs that carry no
//!   `columnLineage` facet;
//! - `ownership`, `documentation`, `tags` and `dataSource` replace owners, description, tags
//!   and the system's description;
//! - the input facets `dataQualityAssertions` and `dataQualityMetrics` become rules with rule
//!   runs (and violations for failed assertions) and DQV measurements.
//!
//! A facet marked `"_deleted": true` removes what that facet described. Run history is kept:
//! every RunEvent adds a `gg:RunEvent` (state and time) to its `gg:JobRun`, whose
//! `gg:runState` is the latest state; a terminal state (COMPLETE, FAIL, ABORT) is never
//! replaced by a START or RUNNING event that arrives late.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use govgraph_graph::iri::{ColumnKey, DatasetKey, Kind, slug};
use govgraph_graph::model::{
    Agent, AgentKind, AssetRef, Column, Dataset, DatasetKind, Entity, LineageEdge, QualityRule,
    System, Tag, TransformationSubtype, TransformationType,
};
use govgraph_graph::vocab::{dct, dqv, gg, prov, rdf, xsd};
use govgraph_graph::{GraphStore, IriScheme, Scope};
use oxigraph::model::{Literal, NamedNode, Term, Triple};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

const LOCATION: &str = "event";

/// The event types a RunEvent may carry.
const EVENT_TYPES: [&str; 6] = ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"];
const TERMINAL: [&str; 3] = ["COMPLETE", "ABORT", "FAIL"];

// --- the wire format ------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    event_time: String,
    producer: String,
    #[serde(rename = "schemaURL")]
    schema_url: String,
    #[serde(default)]
    event_type: Option<String>,
    #[serde(default)]
    run: Option<RawRun>,
    #[serde(default)]
    job: Option<RawJob>,
    #[serde(default, deserialize_with = "nullable")]
    dataset: Option<RawDataset>,
    #[serde(default, deserialize_with = "nullable")]
    inputs: Vec<RawDataset>,
    #[serde(default, deserialize_with = "nullable")]
    outputs: Vec<RawDataset>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRun {
    run_id: String,
    #[serde(default, deserialize_with = "nullable")]
    facets: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct RawJob {
    namespace: String,
    name: String,
    #[serde(default, deserialize_with = "nullable")]
    facets: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDataset {
    namespace: String,
    name: String,
    #[serde(default, deserialize_with = "nullable")]
    facets: Map<String, Value>,
    #[serde(default, deserialize_with = "nullable")]
    input_facets: Map<String, Value>,
    #[serde(default, deserialize_with = "nullable")]
    output_facets: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OutputStatisticsFacet {
    #[serde(default)]
    row_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct SchemaFacet {
    #[serde(default, deserialize_with = "nullable")]
    fields: Vec<SchemaField>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaField {
    name: String,
    #[serde(default)]
    ordinal_position: Option<u32>,
    #[serde(rename = "type", default)]
    ty: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    fields: Vec<SchemaField>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ColumnLineageFacet {
    #[serde(default, deserialize_with = "nullable")]
    fields: BTreeMap<String, ColumnLineageField>,
    #[serde(default, deserialize_with = "nullable")]
    dataset: Vec<InputField>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ColumnLineageField {
    input_fields: Vec<InputField>,
    #[serde(default)]
    transformation_description: Option<String>,
    #[serde(default)]
    transformation_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct InputField {
    namespace: String,
    name: String,
    field: String,
    #[serde(default, deserialize_with = "nullable")]
    transformations: Vec<Transformation>,
}

#[derive(Debug, Deserialize)]
struct Transformation {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    subtype: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    masking: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct SqlFacet {
    query: String,
    #[serde(default)]
    dialect: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OwnershipFacet {
    #[serde(default, deserialize_with = "nullable")]
    owners: Vec<Owner>,
}

#[derive(Debug, Deserialize)]
struct Owner {
    name: String,
    #[serde(rename = "type", default)]
    ty: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DocumentationFacet {
    description: String,
}

#[derive(Debug, Deserialize)]
struct DataSourceFacet {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    uri: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TagsFacet {
    #[serde(default, deserialize_with = "nullable")]
    tags: Vec<TagEntry>,
}

#[derive(Debug, Deserialize)]
struct TagEntry {
    key: String,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    field: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AssertionsFacet {
    assertions: Vec<Assertion>,
}

#[derive(Debug, Deserialize)]
struct Assertion {
    assertion: String,
    #[serde(default)]
    name: Option<String>,
    success: bool,
    #[serde(default)]
    column: Option<String>,
    #[serde(default)]
    severity: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetricsFacet {
    #[serde(default)]
    row_count: Option<u64>,
    #[serde(default, deserialize_with = "nullable")]
    column_metrics: BTreeMap<String, ColumnMetrics>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ColumnMetrics {
    #[serde(default)]
    null_count: Option<f64>,
    #[serde(default)]
    distinct_count: Option<f64>,
}

/// A count sent as a JSON number, which clients may write as a float.
fn count(n: Option<f64>) -> Option<u64> {
    n.filter(|n| n.is_finite() && *n >= 0.0 && n.fract() == 0.0 && *n < 1e18)
        .map(|n| n as u64)
}

/// `null` as the default value, as clients send for empty lists and maps.
fn nullable<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Deserialize)]
struct ErrorMessageFacet {
    message: String,
}

#[derive(Debug, Deserialize)]
struct ParentFacet {
    run: ParentRun,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ParentRun {
    run_id: String,
}

// --- parsing ----------------------------------------------------------------------------------

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Invalid {
        location: LOCATION.to_owned(),
        field: field.into(),
        message: message.into(),
    }
}

fn typed<T: for<'de> Deserialize<'de>>(value: &Value, path: &str) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let field = if inner == "." || inner.is_empty() {
            path.to_owned()
        } else {
            format!("{path}.{inner}")
        };
        invalid(field, e.into_inner().to_string())
    })
}

/// A facet, unless absent; `Some(None)` for a facet marked `_deleted`.
fn facet<T: for<'de> Deserialize<'de>>(
    facets: &Map<String, Value>,
    name: &str,
    path: &str,
) -> Result<Option<Option<T>>> {
    let Some(value) = facets.get(name) else {
        return Ok(None);
    };
    if value.get("_deleted").and_then(Value::as_bool) == Some(true) {
        return Ok(Some(None));
    }
    if !value.is_object() {
        return Err(invalid(
            format!("{path}.{name}"),
            "a facet must be an object",
        ));
    }
    typed(value, &format!("{path}.{name}")).map(|t| Some(Some(t)))
}

fn check_time(value: &str, field: &str) -> Result<()> {
    if is_date_time(value) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("{value:?} is not an ISO 8601 date-time with a time zone"),
        ))
    }
}

/// A strict check of `yyyy-mm-ddThh:mm:ss[.f](Z|±hh:mm)`.
fn is_date_time(value: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    let (date, rest) = match value.split_once(['T', 't']) {
        Some(p) => p,
        None => return false,
    };
    let mut d = date.split('-');
    let (Some(y), Some(m), Some(dd), None) = (d.next(), d.next(), d.next(), d.next()) else {
        return false;
    };
    if !(digits(y) && y.len() == 4 && digits(m) && m.len() == 2 && digits(dd) && dd.len() == 2) {
        return false;
    }
    let month: u32 = m.parse().unwrap_or(0);
    let day: u32 = dd.parse().unwrap_or(0);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    let (time, zone) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, true)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let z = &rest[i + 1..];
        let ok = z.len() == 5 && z.as_bytes().get(2) == Some(&b':');
        (&rest[..i], ok)
    } else {
        (rest, false)
    };
    let (hms, frac) = match time.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (time, None),
    };
    let mut t = hms.split(':');
    let (Some(h), Some(mi), Some(s), None) = (t.next(), t.next(), t.next(), t.next()) else {
        return false;
    };
    zone && [h, mi, s].iter().all(|p| digits(p) && p.len() == 2)
        && h.parse::<u32>().unwrap_or(99) < 24
        && mi.parse::<u32>().unwrap_or(99) < 60
        && s.parse::<u32>().unwrap_or(99) < 61
        && frac.is_none_or(digits)
}

/// Whether `s` looks like an e-mail address that can be written as a `mailto:` IRI.
fn is_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"@.-_+".contains(&b))
    })
}

/// Whether `s` is a UUID in its canonical textual form.
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// What kind of event a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A RunEvent: a job run changed state.
    Run,
    /// A DatasetEvent: metadata about a dataset, outside any run.
    Dataset,
    /// A JobEvent: metadata about a job, outside any run.
    Job,
}

/// What applying an event stored.
#[derive(Debug, Clone, Serialize)]
pub struct EventReport {
    /// The kind of event.
    pub kind: EventKind,
    /// The RunEvent's type (START, COMPLETE...).
    pub event_type: Option<String>,
    /// The graph of the job (or of the dataset, for a DatasetEvent).
    pub graph: String,
    /// Every graph written: the job's namespace and each dataset's namespace.
    pub graphs: Vec<String>,
    /// The job run's IRI.
    pub run: Option<String>,
    /// The job's IRI.
    pub job: Option<String>,
    /// Datasets mentioned.
    pub datasets: usize,
    /// Columns described.
    pub columns: usize,
    /// Column-lineage edges written.
    pub lineage_edges: usize,
    /// Quality assertions recorded.
    pub assertions: usize,
    /// Problems that did not refuse the event (unparsable SQL, say).
    pub warnings: Vec<String>,
}

// --- planning ---------------------------------------------------------------------------------

/// The SPARQL update for one event: deletions, then the triples to insert.
#[derive(Debug, Default)]
struct Plan {
    deletes: Vec<String>,
    inserts: Vec<(NamedNode, Triple)>,
}

impl Plan {
    fn delete(&mut self, graph: &NamedNode, template: &str, pattern: &str) {
        self.deletes.push(format!(
            "DELETE {{ GRAPH {graph} {{ {template} }} }} WHERE {{ GRAPH {graph} {{ {pattern} }} }}"
        ));
    }

    /// Adds the super-classes of every type inserted, as loads do.
    fn materialise(&mut self, store: &GraphStore) {
        let mut extra = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (g, t) in &self.inserts {
            if t.predicate.as_ref() == rdf::TYPE
                && let Term::NamedNode(class) = &t.object
            {
                for sup in store.super_classes(class) {
                    if seen.insert((g.clone(), t.subject.clone(), sup.clone())) {
                        extra.push((
                            g.clone(),
                            Triple::new(t.subject.clone(), rdf::TYPE.into_owned(), sup),
                        ));
                    }
                }
            }
        }
        self.inserts.extend(extra);
    }

    fn sparql(&self) -> String {
        let mut out = String::from(
            "PREFIX gg: <https://govgraph.dev/ns#>\nPREFIX prov: <http://www.w3.org/ns/prov#>\n\
             PREFIX dct: <http://purl.org/dc/terms/>\n",
        );
        for d in &self.deletes {
            out.push_str(d);
            out.push_str(" ;\n");
        }
        let mut by_graph: BTreeMap<&str, Vec<&Triple>> = BTreeMap::new();
        for (g, t) in &self.inserts {
            by_graph.entry(g.as_str()).or_default().push(t);
        }
        out.push_str("INSERT DATA {\n");
        for (g, triples) in by_graph {
            out.push_str(&format!("GRAPH <{g}> {{\n"));
            for t in triples {
                out.push_str(&t.to_string());
                out.push_str(" .\n");
            }
            out.push_str("}\n");
        }
        out.push('}');
        out
    }
}

/// The dataset key OpenLineage's `namespace` and `name` map to: the namespace names the
/// system (`postgres://db:5432` → `postgres-db-5432`), the name the dataset.
pub fn dataset_key(namespace: &str, name: &str) -> DatasetKey {
    DatasetKey::new(namespace, name)
}

/// The platform a namespace's scheme names (`postgres`, `s3`, `bigquery`...).
fn platform(namespace: &str) -> String {
    namespace
        .split_once("://")
        .map_or_else(|| namespace.to_owned(), |(s, _)| s.to_owned())
}

fn is_file_namespace(namespace: &str) -> bool {
    matches!(
        platform(namespace).as_str(),
        "file" | "s3" | "s3a" | "gs" | "gcs" | "hdfs" | "abfss" | "wasbs" | "dbfs"
    )
}

/// A dataSource facet's name and URI.
type SourceName = (Option<String>, Option<String>);

struct Planner<'a> {
    store: &'a GraphStore,
    scheme: &'a IriScheme,
    scope: &'a Scope,
    /// The graph facts go to now: the namespace's of the dataset or job being planned.
    current: NamedNode,
    graphs: BTreeSet<String>,
    plan: Plan,
    report: EventReport,
    /// Namespaces seen, with the (name, uri) of their dataSource facet when one came.
    systems: BTreeMap<String, Option<SourceName>>,
    event_time: String,
}

impl<'a> Planner<'a> {
    fn finish(mut self, store: &GraphStore) -> (String, EventReport) {
        self.write_systems(store);
        self.plan.materialise(store);
        self.report.graphs = std::mem::take(&mut self.graphs).into_iter().collect();
        (self.plan.sparql(), self.report)
    }

    fn push(
        &mut self,
        s: impl Into<oxigraph::model::NamedOrBlankNode>,
        p: oxigraph::model::NamedNodeRef<'_>,
        o: impl Into<Term>,
    ) {
        self.plan
            .inserts
            .push((self.current.clone(), Triple::new(s, p.into_owned(), o)));
    }

    /// Writes an entity into the current graph.
    fn write(&mut self, entity: &impl Entity) {
        let mut triples = Vec::new();
        entity.write(self.scheme, &mut triples);
        let g = self.current.clone();
        self.plan
            .inserts
            .extend(triples.into_iter().map(|t| (g.clone(), t)));
    }

    /// Makes the namespace's graph the current one.
    fn enter(&mut self, namespace: &str) -> Result<NamedNode> {
        let source = self
            .scope
            .source_name(&format!("openlineage:{}", slug(namespace)));
        let graph = govgraph_graph::loader::source_graph(&source)?;
        self.graphs.insert(graph.as_str().to_owned());
        self.current = graph.clone();
        Ok(graph)
    }

    /// Deletes, in the current graph, every value of `predicate` (a prefixed name) on
    /// `subject`: a facet replaces what it said before.
    fn clear(&mut self, subject: &NamedNode, predicate: &str) {
        let triple = format!("{subject} {predicate} ?value");
        self.delete(&triple, &triple);
    }

    /// Deletes, in the current graph, what matches `pattern`.
    fn delete(&mut self, template: &str, pattern: &str) {
        let g = self.current.clone();
        self.plan.delete(&g, template, pattern);
    }

    fn system(&mut self, namespace: &str, source: Option<&DataSourceFacet>) {
        let entry = self.systems.entry(namespace.to_owned()).or_default();
        if let Some(s) = source {
            *entry = Some((s.name.clone(), s.uri.clone()));
        }
    }

    /// One system per namespace: named by a dataSource facet when the event has one, else
    /// by the namespace unless the store already names it.
    fn write_systems(&mut self, store: &GraphStore) {
        let systems = std::mem::take(&mut self.systems);
        for (namespace, source) in systems {
            let mut system = System {
                key: slug(&namespace),
                title: namespace.clone(),
                platform: platform(&namespace),
                description: None,
            };
            let iri = system.iri(self.scheme);
            match source {
                Some((name, uri)) => {
                    self.delete(
                        &format!("{iri} dct:title ?t . {iri} dct:description ?d"),
                        &format!("OPTIONAL {{ {iri} dct:title ?t }} OPTIONAL {{ {iri} dct:description ?d }}"),
                    );
                    if let Some(name) = name.filter(|n| !n.is_empty()) {
                        system.title = name;
                    }
                    system.description = uri.map(|u| format!("OpenLineage data source {u}"));
                }
                None => {
                    let named = store
                        .raw()
                        .quads_for_pattern(Some(iri.as_ref().into()), Some(dct::TITLE), None, None)
                        .next()
                        .is_some();
                    if named {
                        continue;
                    }
                }
            }
            self.write(&system);
        }
    }

    /// The dataset itself, and the facets every dataset may carry.
    fn dataset(&mut self, d: &RawDataset, path: &str) -> Result<DatasetKey> {
        if d.namespace.is_empty() || d.name.is_empty() {
            return Err(invalid(path, "namespace and name must not be empty"));
        }
        let key = dataset_key(&d.namespace, &d.name);
        self.enter(&d.namespace)?;
        let iri = self.scheme.dataset(&key);
        let facets = &d.facets;
        let fpath = format!("{path}.facets");
        let source: Option<Option<DataSourceFacet>> = facet(facets, "dataSource", &fpath)?;
        self.system(&d.namespace, source.as_ref().and_then(Option::as_ref));
        let kind = if is_file_namespace(&d.namespace) {
            DatasetKind::File
        } else {
            DatasetKind::Table
        };
        let title = d
            .name
            .rsplit(['.', '/'])
            .find(|s| !s.is_empty())
            .unwrap_or(&d.name);
        let mut dataset = Dataset::new(key.clone(), kind, title);
        // The identifier is the name as OpenLineage spells it, so SQL can be resolved.
        let mut base = Vec::new();
        dataset.write(self.scheme, &mut base);
        for t in base {
            if t.predicate.as_ref() == dct::IDENTIFIER {
                self.push(
                    iri.clone(),
                    dct::IDENTIFIER,
                    Literal::new_simple_literal(&d.name),
                );
            } else {
                self.plan.inserts.push((self.current.clone(), t));
            }
        }
        self.report.datasets += 1;
        dataset.description = None;

        if let Some(doc) = facet::<DocumentationFacet>(facets, "documentation", &fpath)? {
            self.clear(&iri, "dct:description");
            if let Some(doc) = doc {
                self.push(
                    iri.clone(),
                    dct::DESCRIPTION,
                    Literal::new_simple_literal(&doc.description),
                );
            }
        }
        if let Some(owners) = facet::<OwnershipFacet>(facets, "ownership", &fpath)? {
            self.clear(&iri, "gg:owner");
            for owner in owners.map(|o| o.owners).unwrap_or_default() {
                let agent = self.agent(&owner);
                self.push(iri.clone(), gg::OWNER, agent);
            }
        }
        if let Some(schema) = facet::<SchemaFacet>(facets, "schema", &fpath)? {
            // Columns are replaced; their lineage (written by columnLineage) stays.
            self.delete(
                "?c ?p ?o",
                &format!(
                    "?c gg:columnOf {iri} ; ?p ?o . FILTER(?p NOT IN (prov:qualifiedDerivation, prov:wasDerivedFrom, gg:tag))"
                ),
            );
            let fields = schema.map(|s| s.fields).unwrap_or_default();
            let mut flat = Vec::new();
            flatten(&fields, "", &mut flat);
            for (i, (name, field)) in flat.iter().enumerate() {
                let mut c = Column::new(key.clone(), name);
                c.data_type = field.ty.clone();
                c.description = field.description.clone();
                c.ordinal = field.ordinal_position.or_else(|| u32::try_from(i + 1).ok());
                self.write(&c);
                self.report.columns += 1;
            }
        }
        if let Some(tags) = facet::<TagsFacet>(facets, "tags", &fpath)? {
            self.clear(&iri, "gg:tag");
            self.delete("?c gg:tag ?t", &format!("?c gg:columnOf {iri} ; gg:tag ?t"));
            for tag in tags.map(|t| t.tags).unwrap_or_default() {
                let tag_iri = self.tag(&tag);
                match &tag.field {
                    Some(f) if !f.is_empty() => {
                        let column = self.scheme.column(&ColumnKey::new(key.clone(), f));
                        self.push(column, gg::TAG_PROP, tag_iri);
                    }
                    _ => self.push(iri.clone(), gg::TAG_PROP, tag_iri),
                }
            }
        }
        Ok(key)
    }

    fn agent(&mut self, owner: &Owner) -> NamedNode {
        let (kind_hint, name) = match owner.name.split_once(':') {
            Some((k, n)) if !n.is_empty() => (Some(k.to_ascii_lowercase()), n.to_owned()),
            _ => (None, owner.name.clone()),
        };
        let kind_text = owner
            .ty
            .clone()
            .map(|t| t.to_ascii_lowercase())
            .or(kind_hint);
        let kind = match kind_text.as_deref() {
            Some("team" | "group" | "org" | "organization" | "organisation") => AgentKind::Group,
            _ => AgentKind::Person,
        };
        let agent = Agent {
            key: slug(&name),
            kind,
            name: name.clone(),
            email: is_email(&name).then(|| name.clone()),
            member_of: Vec::new(),
        };
        self.write(&agent);
        agent.iri(self.scheme)
    }

    fn tag(&mut self, tag: &TagEntry) -> NamedNode {
        let value = tag
            .value
            .as_deref()
            .filter(|v| !v.is_empty() && *v != "true");
        let (key, label) = match value {
            Some(v) => (
                slug(&format!("{}.{v}", tag.key)),
                format!("{}: {v}", tag.key),
            ),
            None => (slug(&tag.key), tag.key.clone()),
        };
        let t = Tag {
            key,
            label,
            definition: None,
            broader: None,
            classification: None,
        };
        let iri = t.iri(self.scheme);
        // A tag the catalog already defines keeps its own label.
        let known = self
            .store
            .raw()
            .quads_for_pattern(Some(iri.as_ref().into()), Some(rdf::TYPE), None, None)
            .next()
            .is_some();
        if !known {
            self.write(&t);
        }
        iri
    }

    /// The column-lineage facet of an output dataset.
    fn column_lineage(
        &mut self,
        target: &DatasetKey,
        target_ds: (&str, &str),
        facet: Option<ColumnLineageFacet>,
        job: Option<&str>,
    ) {
        let iri = self.scheme.dataset(target);
        self.clear_lineage(target);
        let Some(facet) = facet else { return };
        let mut upstream = BTreeSet::new();
        for (out, field) in &facet.fields {
            self.ensure_column(target_ds.0, target_ds.1, out);
            for input in &field.input_fields {
                let source = dataset_key(&input.namespace, &input.name);
                upstream.insert(source.clone());
                self.ensure_column(&input.namespace, &input.name, &input.field);
                let transformations: Vec<(
                    TransformationType,
                    TransformationSubtype,
                    Option<String>,
                    bool,
                )> = if input.transformations.is_empty() {
                    // Facets before 1-1 only say it at the field level.
                    let ty = field
                        .transformation_type
                        .as_deref()
                        .and_then(TransformationType::parse)
                        .unwrap_or(TransformationType::Direct);
                    let subtype = if ty == TransformationType::Direct {
                        TransformationSubtype::Transformation
                    } else {
                        TransformationSubtype::Filter
                    };
                    vec![(ty, subtype, field.transformation_description.clone(), false)]
                } else {
                    input
                        .transformations
                        .iter()
                        .map(|t| {
                            let ty = TransformationType::parse(&t.ty)
                                .unwrap_or(TransformationType::Direct);
                            let subtype = t
                                .subtype
                                .as_deref()
                                .and_then(TransformationSubtype::parse)
                                .unwrap_or(if ty == TransformationType::Direct {
                                    TransformationSubtype::Transformation
                                } else {
                                    TransformationSubtype::Filter
                                });
                            (
                                ty,
                                subtype,
                                t.description.clone(),
                                t.masking.unwrap_or(false),
                            )
                        })
                        .collect()
                };
                for (ty, subtype, description, masking) in transformations {
                    let edge = LineageEdge {
                        target: ColumnKey::new(target.clone(), out),
                        source: ColumnKey::new(source.clone(), &input.field),
                        transformation: ty,
                        subtype,
                        description,
                        masking,
                        job: job.map(str::to_owned),
                    };
                    self.write(&edge);
                    self.report.lineage_edges += 1;
                }
            }
        }
        for input in &facet.dataset {
            upstream.insert(dataset_key(&input.namespace, &input.name));
        }
        for source in upstream {
            if &source != target {
                self.push(
                    iri.clone(),
                    prov::WAS_DERIVED_FROM,
                    self.scheme.dataset(&source),
                );
            }
        }
    }

    /// Removes the lineage into a dataset's columns, and its table-level derivations.
    fn clear_lineage(&mut self, target: &DatasetKey) {
        let iri = self.scheme.dataset(target);
        self.delete(
            "?e ?p ?o",
            &format!("?c gg:columnOf {iri} ; prov:qualifiedDerivation ?e . ?e ?p ?o"),
        );
        self.delete(
            "?c prov:qualifiedDerivation ?e . ?c prov:wasDerivedFrom ?s",
            &format!(
                "?c gg:columnOf {iri} . OPTIONAL {{ ?c prov:qualifiedDerivation ?e }} OPTIONAL {{ ?c prov:wasDerivedFrom ?s }}"
            ),
        );
        self.clear(&iri, "prov:wasDerivedFrom");
    }

    /// A column named by lineage, so that walks can name it even before its schema arrives.
    fn ensure_column(&mut self, namespace: &str, name: &str, field: &str) {
        let key = dataset_key(namespace, name);
        let c = Column::new(key, field);
        let iri = self.scheme.column(&c.key);
        self.push(
            iri.clone(),
            rdf::TYPE,
            govgraph_graph::vocab::csvw::COLUMN.into_owned(),
        );
        self.push(
            iri.clone(),
            govgraph_graph::vocab::csvw::NAME,
            Literal::new_simple_literal(field),
        );
        self.push(iri, gg::COLUMN_OF, self.scheme.dataset(&c.key.dataset));
    }

    fn measurement(
        &mut self,
        on: NamedNode,
        metric: oxigraph::model::NamedNodeRef<'_>,
        value: u64,
        id: &str,
    ) {
        let m = NamedNode::new_unchecked(format!("{}#m-{id}", on.as_str()));
        let m = NamedNode::new_unchecked(format!(
            "{}-{}",
            m.as_str(),
            self.event_time
                .chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
        ));
        self.push(m.clone(), rdf::TYPE, dqv::QUALITY_MEASUREMENT.into_owned());
        self.push(m.clone(), dqv::COMPUTED_ON, on);
        self.push(m.clone(), dqv::IS_MEASUREMENT_OF, metric.into_owned());
        self.push(
            m.clone(),
            dqv::VALUE,
            Literal::new_typed_literal(value.to_string(), xsd::INTEGER),
        );
        self.push(
            m,
            prov::GENERATED_AT_TIME,
            Literal::new_typed_literal(&self.event_time, xsd::DATE_TIME),
        );
    }
}

fn flatten<'a>(fields: &'a [SchemaField], prefix: &str, out: &mut Vec<(String, &'a SchemaField)>) {
    for f in fields {
        let name = if prefix.is_empty() {
            f.name.clone()
        } else {
            format!("{prefix}.{}", f.name)
        };
        out.push((name.clone(), f));
        flatten(&f.fields, &name, out);
    }
}

/// Parses one OpenLineage event and applies it to the store within `scope`, atomically.
pub fn apply_event(store: &GraphStore, scope: &Scope, body: &[u8]) -> Result<EventReport> {
    let (sparql, report) = prepare(store, scope, body)?;
    store.update(&sparql, scope, None)?;
    Ok(report)
}

/// Checks an event as [`apply_event`] would, without storing anything.
pub fn check_event(store: &GraphStore, scope: &Scope, body: &[u8]) -> Result<EventReport> {
    prepare(store, scope, body).map(|(_, report)| report)
}

fn prepare(store: &GraphStore, scope: &Scope, body: &[u8]) -> Result<(String, EventReport)> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        invalid(
            format!("line {} column {}", e.line(), e.column()),
            format!("not JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(invalid("$", "an OpenLineage event is a JSON object"));
    }
    let raw: RawEvent = typed(&value, "$")?;
    plan(store, scope, &raw)
}

fn plan(store: &GraphStore, scope: &Scope, raw: &RawEvent) -> Result<(String, EventReport)> {
    check_time(&raw.event_time, "$.eventTime")?;
    if raw.producer.is_empty() {
        return Err(invalid("$.producer", "must not be empty"));
    }
    if raw.schema_url.is_empty() {
        return Err(invalid("$.schemaURL", "must not be empty"));
    }
    let kind = match (&raw.run, &raw.job, &raw.dataset) {
        (Some(_), Some(_), _) => EventKind::Run,
        (Some(_), None, _) => return Err(invalid("$.job", "a RunEvent needs a job")),
        (None, _, Some(_)) => EventKind::Dataset,
        (None, Some(_), None) => EventKind::Job,
        (None, None, None) => {
            return Err(invalid(
                "$",
                "an event needs run and job (RunEvent), dataset (DatasetEvent) or job (JobEvent)",
            ));
        }
    };
    if let Some(t) = &raw.event_type
        && !EVENT_TYPES.contains(&t.as_str())
    {
        return Err(invalid(
            "$.eventType",
            format!("{t:?} is not one of {}", EVENT_TYPES.join(", ")),
        ));
    }
    let namespace = match (&raw.job, &raw.dataset) {
        (Some(j), _) => j.namespace.clone(),
        (None, Some(d)) => d.namespace.clone(),
        (None, None) => String::new(),
    };
    if namespace.is_empty() {
        return Err(invalid(
            if raw.job.is_some() {
                "$.job.namespace"
            } else {
                "$.dataset.namespace"
            },
            "must not be empty",
        ));
    }
    let source = scope.source_name(&format!("openlineage:{}", slug(&namespace)));
    let graph = govgraph_graph::loader::source_graph(&source)?;
    let scheme = store.scheme();
    let mut p = Planner {
        store,
        scheme,
        scope,
        current: graph.clone(),
        graphs: BTreeSet::new(),
        plan: Plan::default(),
        report: EventReport {
            kind,
            event_type: raw.event_type.clone(),
            graph: graph.as_str().to_owned(),
            graphs: Vec::new(),
            run: None,
            job: None,
            datasets: 0,
            columns: 0,
            lineage_edges: 0,
            assertions: 0,
            warnings: Vec::new(),
        },
        systems: BTreeMap::new(),
        event_time: raw.event_time.clone(),
    };

    if let Some(d) = &raw.dataset {
        p.dataset(d, "$.dataset")?;
        let lineage: Option<Option<ColumnLineageFacet>> =
            facet(&d.facets, "columnLineage", "$.dataset.facets")?;
        if let Some(l) = lineage {
            let key = dataset_key(&d.namespace, &d.name);
            p.column_lineage(&key, (&d.namespace, &d.name), l, None);
        }
        return Ok(p.finish(store));
    }
    let Some(job) = &raw.job else {
        return Err(invalid("$.job", "missing"));
    };
    if job.name.is_empty() {
        return Err(invalid("$.job.name", "must not be empty"));
    }
    let job_key = slug(&format!("{}.{}", job.namespace, job.name));
    p.enter(&job.namespace)?;
    let job_iri = scheme.entity(Kind::Job, &job_key);
    p.report.job = Some(job_iri.as_str().to_owned());
    p.push(job_iri.clone(), rdf::TYPE, gg::JOB.into_owned());
    p.push(
        job_iri.clone(),
        dct::TITLE,
        Literal::new_simple_literal(&job.name),
    );
    p.push(
        job_iri.clone(),
        dct::IDENTIFIER,
        Literal::new_simple_literal(&job.name),
    );
    let jpath = "$.job.facets";
    let sql: Option<Option<SqlFacet>> = facet(&job.facets, "sql", jpath)?;
    if let Some(s) = &sql {
        p.clear(&job_iri, "gg:definitionSql");
        if let Some(s) = s {
            p.push(
                job_iri.clone(),
                gg::DEFINITION_SQL,
                Literal::new_simple_literal(&s.query),
            );
        }
    }
    if let Some(doc) = facet::<DocumentationFacet>(&job.facets, "documentation", jpath)? {
        p.clear(&job_iri, "dct:description");
        if let Some(doc) = doc {
            p.push(
                job_iri.clone(),
                dct::DESCRIPTION,
                Literal::new_simple_literal(&doc.description),
            );
        }
    }
    if let Some(owners) = facet::<OwnershipFacet>(&job.facets, "ownership", jpath)? {
        p.clear(&job_iri, "gg:owner");
        for owner in owners.map(|o| o.owners).unwrap_or_default() {
            let a = p.agent(&owner);
            p.push(job_iri.clone(), gg::OWNER, a);
        }
    }

    let mut inputs = Vec::new();
    for (i, d) in raw.inputs.iter().enumerate() {
        inputs.push((p.dataset(d, &format!("$.inputs[{i}]"))?, d));
    }
    let mut outputs = Vec::new();
    for (i, d) in raw.outputs.iter().enumerate() {
        outputs.push((p.dataset(d, &format!("$.outputs[{i}]"))?, d));
    }
    p.enter(&job.namespace)?;

    // Column lineage: the facet where present, else the job's SQL.
    let mut without_facet = Vec::new();
    for (i, (key, d)) in outputs.iter().enumerate() {
        let path = format!("$.outputs[{i}].facets");
        p.enter(&d.namespace)?;
        match facet::<ColumnLineageFacet>(&d.facets, "columnLineage", &path)? {
            Some(l) => p.column_lineage(key, (&d.namespace, &d.name), l, Some(&job_key)),
            None => without_facet.push((key.clone(), *d)),
        }
    }
    if let Some(Some(sql)) = &sql
        && !without_facet.is_empty()
    {
        lineage_from_sql(store, &mut p, sql, &inputs, &without_facet, &job_key)?;
    }

    // Quality facets of the inputs.
    let run_iri = raw
        .run
        .as_ref()
        .map(|r| scheme.entity(Kind::Run, &slug(&r.run_id)));
    for (i, (key, d)) in inputs.iter().enumerate() {
        p.enter(&d.namespace)?;
        let path = format!("$.inputs[{i}].inputFacets");
        let metrics = match facet::<MetricsFacet>(&d.input_facets, "dataQualityMetrics", &path)? {
            Some(m) => m,
            None => facet::<MetricsFacet>(
                &d.facets,
                "dataQualityMetrics",
                &format!("$.inputs[{i}].facets"),
            )?
            .flatten(),
        };
        if let Some(metrics) = metrics {
            let ds = scheme.dataset(key);
            if let Some(n) = metrics.row_count {
                p.clear(&ds, "gg:rowCount");
                p.push(
                    ds.clone(),
                    gg::ROW_COUNT,
                    Literal::new_typed_literal(n.to_string(), xsd::INTEGER),
                );
                p.measurement(ds.clone(), gg::ROW_COUNT_METRIC, n, "row-count");
            }
            for (col, m) in &metrics.column_metrics {
                let c = scheme.column(&ColumnKey::new(key.clone(), col));
                if let Some(n) = count(m.null_count) {
                    p.measurement(c.clone(), gg::NULL_COUNT_METRIC, n, "null-count");
                }
                if let Some(n) = count(m.distinct_count) {
                    p.measurement(c.clone(), gg::DISTINCT_COUNT_METRIC, n, "distinct-count");
                }
            }
        }
        if let Some(Some(assertions)) =
            facet::<AssertionsFacet>(&d.input_facets, "dataQualityAssertions", &path)?
        {
            for (n, a) in assertions.assertions.iter().enumerate() {
                assertion(&mut p, key, a, run_iri.as_ref(), n, &raw.event_time);
            }
        }
    }

    for (i, (key, d)) in outputs.iter().enumerate() {
        p.enter(&d.namespace)?;
        let path = format!("$.outputs[{i}].outputFacets");
        if let Some(Some(stats)) =
            facet::<OutputStatisticsFacet>(&d.output_facets, "outputStatistics", &path)?
            && let Some(n) = stats.row_count
        {
            let ds = scheme.dataset(key);
            p.clear(&ds, "gg:rowCount");
            p.push(
                ds.clone(),
                gg::ROW_COUNT,
                Literal::new_typed_literal(n.to_string(), xsd::INTEGER),
            );
            p.measurement(ds, gg::ROW_COUNT_METRIC, n, "row-count");
        }
    }

    // The run and its history, in the job's graph.
    p.enter(&job.namespace)?;
    if let Some(run) = &raw.run {
        if !is_uuid(&run.run_id) {
            return Err(invalid(
                "$.run.runId",
                format!("{:?} is not a UUID", run.run_id),
            ));
        }
        let run_iri = scheme.entity(Kind::Run, &slug(&run.run_id));
        p.report.run = Some(run_iri.as_str().to_owned());
        let state = raw.event_type.clone().unwrap_or_else(|| "OTHER".to_owned());
        p.push(run_iri.clone(), rdf::TYPE, gg::JOB_RUN.into_owned());
        p.push(run_iri.clone(), gg::JOB_PROP, job_iri.clone());
        p.push(
            run_iri.clone(),
            dct::IDENTIFIER,
            Literal::new_simple_literal(&run.run_id),
        );
        let time = Literal::new_typed_literal(&raw.event_time, xsd::DATE_TIME);
        let event = NamedNode::new_unchecked(format!(
            "{}#event-{}-{}",
            run_iri.as_str(),
            raw.event_time
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>(),
            state.to_ascii_lowercase()
        ));
        p.push(run_iri.clone(), gg::EVENT, event.clone());
        p.push(event.clone(), rdf::TYPE, gg::RUN_EVENT.into_owned());
        p.push(
            event.clone(),
            gg::RUN_STATE,
            Literal::new_simple_literal(&state),
        );
        p.push(event, prov::AT_TIME, time.clone());
        let current = current_state(store, &graph, &run_iri)?;
        let late = !TERMINAL.contains(&state.as_str())
            && current.as_deref().is_some_and(|c| TERMINAL.contains(&c));
        if !late {
            p.clear(&run_iri, "gg:runState");
            p.push(
                run_iri.clone(),
                gg::RUN_STATE,
                Literal::new_simple_literal(&state),
            );
        }
        match state.as_str() {
            "START" => {
                // The earliest START is when the run started.
                p.plan.deletes.push(format!(
                    "DELETE {{ GRAPH {graph} {{ {run_iri} prov:startedAtTime ?t }} }} \
                     INSERT {{ GRAPH {graph} {{ {run_iri} prov:startedAtTime {time} }} }} \
                     WHERE {{ OPTIONAL {{ GRAPH {graph} {{ {run_iri} prov:startedAtTime ?t }} }} \
                     FILTER(!BOUND(?t) || ?t > {time}) }}"
                ));
            }
            s if TERMINAL.contains(&s) => {
                p.clear(&run_iri, "prov:endedAtTime");
                p.push(run_iri.clone(), prov::ENDED_AT_TIME, time);
            }
            _ => {}
        }
        for (key, _) in &inputs {
            p.push(run_iri.clone(), prov::USED, scheme.dataset(key));
        }
        for (key, _) in &outputs {
            p.push(run_iri.clone(), prov::GENERATED, scheme.dataset(key));
        }
        let rpath = "$.run.facets";
        if let Some(Some(e)) = facet::<ErrorMessageFacet>(&run.facets, "errorMessage", rpath)? {
            p.push(
                run_iri.clone(),
                gg::ERROR_MESSAGE,
                Literal::new_simple_literal(&e.message),
            );
        }
        if let Some(Some(parent)) = facet::<ParentFacet>(&run.facets, "parent", rpath)? {
            if !is_uuid(&parent.run.run_id) {
                return Err(invalid("$.run.facets.parent.run.runId", "not a UUID"));
            }
            p.push(
                run_iri,
                prov::WAS_INFORMED_BY,
                scheme.entity(Kind::Run, &slug(&parent.run.run_id)),
            );
        }
    }
    Ok(p.finish(store))
}

fn assertion(
    p: &mut Planner<'_>,
    dataset: &DatasetKey,
    a: &Assertion,
    run: Option<&NamedNode>,
    n: usize,
    time: &str,
) {
    let scheme = p.scheme;
    let target = match &a.column {
        Some(c) if !c.is_empty() => AssetRef::Column(ColumnKey::new(dataset.clone(), c)),
        _ => AssetRef::Dataset(dataset.clone()),
    };
    let rule_type = match a.assertion.as_str() {
        "not_null" | "unique" | "accepted_values" | "row_count" | "freshness" => {
            a.assertion.clone()
        }
        _ => "custom_sql".to_owned(),
    };
    let what = a.column.as_deref().unwrap_or("");
    let rule = QualityRule {
        key: slug(&format!("{}.{}.{}", dataset.name, what, a.assertion)),
        title: a.name.clone().unwrap_or_else(|| {
            format!(
                "{}{} {}",
                dataset.name,
                if what.is_empty() {
                    String::new()
                } else {
                    format!(".{what}")
                },
                a.assertion
            )
        }),
        description: Some("Reported by an OpenLineage dataQualityAssertions facet.".to_owned()),
        rule_type,
        applies_to: vec![target.clone()],
        parameters: None,
        expression: None,
        dimension: None,
        severity: match a.severity.as_deref() {
            Some("warn" | "warning") => "warn".to_owned(),
            _ => "error".to_owned(),
        },
        owner: None,
    };
    p.write(&rule);
    p.report.assertions += 1;
    let rule_iri = rule.iri(scheme);
    let Some(run) = run else { return };
    let rr = NamedNode::new_unchecked(format!("{}.assertion-{n}", run.as_str()));
    let status = if a.success { "pass" } else { "fail" };
    let t = Literal::new_typed_literal(time, xsd::DATE_TIME);
    p.push(rr.clone(), rdf::TYPE, gg::RULE_RUN.into_owned());
    p.push(rr.clone(), gg::RULE, rule_iri.clone());
    p.push(rr.clone(), gg::STATUS, Literal::new_simple_literal(status));
    p.push(rr.clone(), prov::STARTED_AT_TIME, t.clone());
    p.push(rr.clone(), prov::ENDED_AT_TIME, t.clone());
    p.push(rr.clone(), prov::WAS_INFORMED_BY, run.clone());
    if !a.success {
        let v = NamedNode::new_unchecked(format!("{}.violation", rr.as_str()));
        p.push(v.clone(), rdf::TYPE, gg::VIOLATION.into_owned());
        p.push(v.clone(), gg::RULE, rule_iri);
        p.push(v.clone(), gg::FOCUS, target.iri(scheme));
        p.push(v.clone(), prov::WAS_GENERATED_BY, rr);
        p.push(v, prov::GENERATED_AT_TIME, t);
    }
}

fn current_state(store: &GraphStore, graph: &NamedNode, run: &NamedNode) -> Result<Option<String>> {
    let rows = store.select(&format!(
        "SELECT ?s WHERE {{ GRAPH {graph} {{ {run} gg:runState ?s }} }} LIMIT 1"
    ))?;
    Ok(rows.first().and_then(|r| match r.get("s") {
        Some(Term::Literal(l)) => Some(l.value().to_owned()),
        _ => None,
    }))
}

/// Column lineage from the job's SQL, for outputs without a columnLineage facet.
fn lineage_from_sql(
    store: &GraphStore,
    p: &mut Planner<'_>,
    sql: &SqlFacet,
    inputs: &[(DatasetKey, &RawDataset)],
    outputs: &[(DatasetKey, &RawDataset)],
    job: &str,
) -> Result<()> {
    use govgraph_lineage::{Dialect, Options, Schema};
    let dialect = sql
        .dialect
        .as_deref()
        .and_then(|d| d.parse::<Dialect>().ok())
        .or_else(|| {
            inputs
                .iter()
                .chain(outputs)
                .find_map(|(_, d)| platform(&d.namespace).parse::<Dialect>().ok())
        })
        .unwrap_or(Dialect::Generic);
    // Tables as the SQL names them: every suffix of each dataset's dotted name.
    let mut by_name: HashMap<String, (DatasetKey, &RawDataset)> = HashMap::new();
    let mut schema = Schema::new();
    let mut databases = BTreeSet::new();
    for (key, d) in inputs.iter().chain(outputs) {
        let name = d.name.to_ascii_lowercase();
        let parts: Vec<&str> = name.split('.').collect();
        let mut columns = Vec::new();
        if let Some(Some(s)) = facet::<SchemaFacet>(&d.facets, "schema", "$")? {
            let mut flat = Vec::new();
            flatten(&s.fields, "", &mut flat);
            columns = flat
                .into_iter()
                .map(|(n, f)| (n.to_ascii_lowercase(), f.ty.clone().unwrap_or_default()))
                .collect();
        }
        if columns.is_empty() {
            columns = known_columns(store, p.scheme, key)?;
        }
        for i in 0..parts.len() {
            by_name
                .entry(parts[i..].join("."))
                .or_insert((key.clone(), *d));
        }
        if !columns.is_empty() {
            let pairs: Vec<(&str, &str)> = columns
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            schema.add_table(&name, &pairs);
        }
        databases.insert(
            (parts.len() == 3)
                .then(|| parts.first().map(|p| (*p).to_owned()))
                .flatten(),
        );
    }
    // Names qualified as database.schema.table, all in one database: SQL may leave it out.
    let default_database = match (databases.len(), databases.into_iter().next()) {
        (1, Some(db)) => db,
        _ => None,
    };
    let options = Options {
        dialect,
        default_database,
        default_schema: None,
    };
    let analysis = govgraph_lineage::analyze(&sql.query, &schema, &options);
    for st in &analysis.statements {
        if let Some(e) = &st.error {
            p.report
                .warnings
                .push(format!("sql facet line {}: {}", e.line, e.message));
            continue;
        }
        for w in &st.warnings {
            p.report.warnings.push(format!("sql facet: {}", w.message));
        }
        // The statement's target, or the only output for a bare SELECT.
        let target = match &st.target {
            Some(t) => by_name.get(&t.to_ascii_lowercase()).map(|(k, _)| k.clone()),
            None if outputs.len() == 1 => outputs.first().map(|(k, _)| k.clone()),
            None => None,
        };
        let Some((target, out_ds)) = target.and_then(|t| {
            outputs
                .iter()
                .find(|(k, _)| *k == t)
                .map(|(k, d)| (k.clone(), *d))
        }) else {
            continue;
        };
        p.enter(&out_ds.namespace)?;
        p.clear_lineage(&target);
        let mut upstream = BTreeSet::new();
        for (out, lineage) in &st.columns {
            p.ensure_column(&out_ds.namespace, &out_ds.name, out);
            for s in &lineage.sources {
                let Some((source, d)) = by_name.get(&s.table.to_ascii_lowercase()) else {
                    continue;
                };
                upstream.insert(source.clone());
                p.ensure_column(&d.namespace, &d.name, &s.column);
                let edge = LineageEdge {
                    target: ColumnKey::new(target.clone(), out),
                    source: ColumnKey::new(source.clone(), &s.column),
                    transformation: s.kind,
                    subtype: s.subtype,
                    description: lineage.expression.clone(),
                    masking: false,
                    job: Some(job.to_owned()),
                };
                p.write(&edge);
                p.report.lineage_edges += 1;
            }
        }
        for s in &st.dataset_sources {
            if let Some((k, _)) = by_name.get(&s.table.to_ascii_lowercase()) {
                upstream.insert(k.clone());
            }
        }
        let iri = p.scheme.dataset(&target);
        for k in upstream.into_iter().filter(|k| *k != target) {
            p.push(iri.clone(), prov::WAS_DERIVED_FROM, p.scheme.dataset(&k));
        }
    }
    Ok(())
}

/// The columns the store already knows for a dataset, with their types.
fn known_columns(
    store: &GraphStore,
    scheme: &IriScheme,
    key: &DatasetKey,
) -> Result<Vec<(String, String)>> {
    let ds = scheme.dataset(key);
    let rows = store.select(&format!(
        "SELECT ?n ?t WHERE {{ ?c gg:columnOf {ds} ; csvw:name ?n . OPTIONAL {{ ?c gg:dataType ?t }} }}"
    ))?;
    Ok(rows
        .iter()
        .filter_map(|r| match (r.get("n"), r.get("t")) {
            (Some(Term::Literal(n)), t) => Some((
                n.value().to_ascii_lowercase(),
                match t {
                    Some(Term::Literal(t)) => t.value().to_owned(),
                    _ => String::new(),
                },
            )),
            _ => None,
        })
        .collect())
}
