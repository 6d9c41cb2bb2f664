//! What the builder knows of the catalog: datasets with their columns, files and signals,
//! and the glossary's semantic layer (how measure terms are computed, which rows filter
//! terms name). Read once per request, within the caller's scope.

use std::collections::HashMap;

use govgraph_graph::oxigraph::sparql::QuerySolution;
use govgraph_graph::{GraphStore, QueryOptions, Scope};
use serde::Serialize;

use crate::ask::kb::{number, text};
use crate::error::Result;

/// A dataset of the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetInfo {
    /// Its IRI.
    pub iri: String,
    /// `SYSTEM/NAME`.
    pub id: String,
    /// Its system's key.
    pub system: String,
    /// Its qualified name (`bronze.orders`), as SQL names it.
    pub name: String,
    /// Display name.
    pub title: String,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Medallion layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// The owning domain's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The first owner's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Row count, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<f64>,
    /// Whether a steward certified it.
    pub certified: bool,
    /// The latest quality score (0 to 100), when a run scored it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality_score: Option<f64>,
    /// When it last changed or was last measured (xsd:dateTime), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// How many datasets and products are derived from it.
    pub consumers: u32,
    /// Its data files' paths as the catalog records them (relative to the data root, or
    /// absolute), Parquet first.
    #[serde(skip)]
    pub files: Vec<String>,
}

/// A column of a dataset.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnInfo {
    /// Its IRI.
    pub iri: String,
    /// Index of its dataset in [`Snapshot::datasets`].
    #[serde(skip)]
    pub dataset: usize,
    /// Its name.
    pub name: String,
    /// The declared type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Glossary terms (IRIs).
    pub terms: Vec<String>,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Position.
    #[serde(skip)]
    pub ordinal: i64,
}

/// How a measure term is computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeasureDef {
    /// The aggregate SQL expression.
    pub expression: String,
    /// The rows it counts, when restricted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The dataset it is computed over (IRI).
    pub dataset: String,
    /// The column that places its rows in time (IRI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// A glossary term.
#[derive(Debug, Clone, Serialize)]
pub struct TermInfo {
    /// Its IRI.
    pub iri: String,
    /// The last segment of its IRI.
    pub slug: String,
    /// Preferred label.
    pub label: String,
    /// Synonyms.
    pub alt: Vec<String>,
    /// Definition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// How it is computed, for a measure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measure: Option<MeasureDef>,
    /// The rows it names, for a filter term: `(condition, dataset IRI)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<(String, String)>,
}

/// The catalog as the builder reads it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Datasets.
    pub datasets: Vec<DatasetInfo>,
    /// Columns, grouped by dataset in ordinal order.
    pub columns: Vec<ColumnInfo>,
    /// Glossary terms.
    pub terms: Vec<TermInfo>,
    by_iri: HashMap<String, usize>,
    column_by_iri: HashMap<String, usize>,
}

fn select(store: &GraphStore, scope: &Scope, sparql: &str) -> Result<Vec<QuerySolution>> {
    let outcome = store.query_in(sparql, &QueryOptions::default(), scope)?;
    Ok(govgraph_graph::store::collect_solutions(
        outcome.results,
        &outcome.deadline,
    )?)
}

fn last_segment(iri: &str) -> String {
    iri.rsplit('/').next().unwrap_or(iri).to_owned()
}

impl Snapshot {
    /// Reads the catalog within `scope`.
    pub fn read(store: &GraphStore, scope: &Scope) -> Result<Self> {
        let mut snap = Snapshot::default();
        let rows = select(
            store,
            scope,
            "SELECT ?d ?name ?title ?desc ?layer ?domain ?owner ?rows ?cert ?modified
                    (COUNT(DISTINCT ?consumer) AS ?consumers) WHERE {
               ?d a dcat:Dataset ; dct:identifier ?name .
               OPTIONAL { ?d dct:title ?title }
               OPTIONAL { ?d dct:description ?desc }
               OPTIONAL { ?d gg:layer ?layer }
               OPTIONAL { ?d gg:domain ?domain }
               OPTIONAL { ?d gg:owner ?owner }
               OPTIONAL { ?d gg:rowCount ?rows }
               OPTIONAL { ?d gg:certified ?cert }
               OPTIONAL { ?d dct:modified ?modified }
               OPTIONAL { { ?consumer prov:wasDerivedFrom ?d } UNION { ?consumer dprod:inputDataset ?d } }
             } GROUP BY ?d ?name ?title ?desc ?layer ?domain ?owner ?rows ?cert ?modified
             ORDER BY ?d",
        )?;
        for row in &rows {
            let Some(iri) = text(row, "d") else { continue };
            if snap.by_iri.contains_key(&iri) {
                continue;
            }
            let Ok(key) = store.scheme().dataset_key_of(&iri, "dataset") else {
                continue;
            };
            let name = text(row, "name").unwrap_or_else(|| key.name.clone());
            snap.by_iri.insert(iri.clone(), snap.datasets.len());
            snap.datasets.push(DatasetInfo {
                id: format!("{}/{}", key.system, key.name),
                system: key.system.clone(),
                title: text(row, "title").unwrap_or_else(|| name.clone()),
                name,
                description: text(row, "desc"),
                layer: text(row, "layer"),
                domain: text(row, "domain").map(|d| last_segment(&d)),
                owner: text(row, "owner").map(|d| last_segment(&d)),
                rows: number(row, "rows"),
                certified: text(row, "cert").is_some_and(|v| v == "true"),
                quality_score: None,
                updated: text(row, "modified"),
                consumers: number(row, "consumers").unwrap_or(0.0) as u32,
                files: Vec::new(),
                iri,
            });
        }
        for row in &select(
            store,
            scope,
            "SELECT ?d ?path ?format WHERE { ?d a dcat:Dataset ; dcat:distribution ?x .
               ?x gg:path ?path . OPTIONAL { ?x dct:format ?format } }",
        )? {
            if let (Some(d), Some(path)) = (text(row, "d"), text(row, "path"))
                && let Some(&i) = snap.by_iri.get(&d)
            {
                snap.datasets[i].files.push(path);
            }
        }
        for d in &mut snap.datasets {
            // Parquet carries types; prefer it.
            d.files
                .sort_by_key(|p| (!p.to_ascii_lowercase().ends_with(".parquet"), p.to_owned()));
        }
        for row in &select(
            store,
            scope,
            "SELECT ?d ?v ?t WHERE { ?m dqv:isMeasurementOf gg:QualityScore ; dqv:computedOn ?d ;
               dqv:value ?v . OPTIONAL { ?m prov:generatedAtTime ?t } } ORDER BY ?d DESC(?t)",
        )? {
            if let (Some(d), Some(v)) = (text(row, "d"), number(row, "v"))
                && let Some(&i) = snap.by_iri.get(&d)
                && snap.datasets[i].quality_score.is_none()
            {
                snap.datasets[i].quality_score = Some(v);
                if snap.datasets[i].updated.is_none() {
                    snap.datasets[i].updated = text(row, "t");
                }
            }
        }
        let rows = select(
            store,
            scope,
            "SELECT ?c ?d ?name ?type ?desc ?pk ?ord (GROUP_CONCAT(DISTINCT STR(?term); separator=\" \") AS ?terms)
             WHERE { ?c a csvw:Column ; gg:columnOf ?d ; csvw:name ?name .
               OPTIONAL { ?c gg:dataType ?type } OPTIONAL { ?c dct:description ?desc }
               OPTIONAL { ?c gg:isPrimaryKey ?pk } OPTIONAL { ?c gg:ordinal ?ord }
               OPTIONAL { ?c gg:term ?term } }
             GROUP BY ?c ?d ?name ?type ?desc ?pk ?ord",
        )?;
        let mut columns: Vec<ColumnInfo> = rows
            .iter()
            .filter_map(|row| {
                let dataset = *snap.by_iri.get(&text(row, "d")?)?;
                Some(ColumnInfo {
                    iri: text(row, "c")?,
                    dataset,
                    name: text(row, "name")?,
                    data_type: text(row, "type"),
                    description: text(row, "desc"),
                    terms: text(row, "terms")
                        .map(|t| t.split_whitespace().map(str::to_owned).collect())
                        .unwrap_or_default(),
                    primary_key: text(row, "pk").is_some_and(|v| v == "true"),
                    ordinal: number(row, "ord").map_or(i64::MAX, |n| n as i64),
                })
            })
            .collect();
        columns
            .sort_by(|a, b| (a.dataset, a.ordinal, &a.name).cmp(&(b.dataset, b.ordinal, &b.name)));
        columns.dedup_by(|a, b| a.iri == b.iri);
        snap.column_by_iri = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.iri.clone(), i))
            .collect();
        snap.columns = columns;

        let rows = select(
            store,
            scope,
            "SELECT ?t ?label ?def ?mexpr ?mfilter ?mds ?mtime ?fexpr
                    (GROUP_CONCAT(DISTINCT ?alt; separator=\"\\u001f\") AS ?alts) WHERE {
               ?t a gg:GlossaryTerm ; skos:prefLabel ?label .
               OPTIONAL { ?t skos:altLabel ?alt }
               OPTIONAL { ?t skos:definition ?def }
               OPTIONAL { ?t gg:measureExpression ?mexpr }
               OPTIONAL { ?t gg:measureFilter ?mfilter }
               OPTIONAL { ?t gg:measureDataset ?mds }
               OPTIONAL { ?t gg:measureTime ?mtime }
               OPTIONAL { ?t gg:filterExpression ?fexpr }
             } GROUP BY ?t ?label ?def ?mexpr ?mfilter ?mds ?mtime ?fexpr ORDER BY ?t",
        )?;
        for row in &rows {
            let Some(iri) = text(row, "t") else { continue };
            if snap.terms.iter().any(|t| t.iri == iri) {
                continue;
            }
            let dataset = text(row, "mds");
            let measure = match (text(row, "mexpr"), &dataset) {
                (Some(expression), Some(d)) => Some(MeasureDef {
                    expression,
                    filter: text(row, "mfilter"),
                    dataset: d.clone(),
                    time: text(row, "mtime"),
                }),
                _ => None,
            };
            let filter = match (text(row, "fexpr"), &dataset) {
                (Some(f), Some(d)) => Some((f, d.clone())),
                _ => None,
            };
            snap.terms.push(TermInfo {
                slug: last_segment(&iri),
                label: text(row, "label").unwrap_or_default(),
                alt: text(row, "alts")
                    .map(|a| {
                        a.split('\u{1f}')
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                definition: text(row, "def"),
                measure,
                filter,
                iri,
            });
        }
        Ok(snap)
    }

    /// The dataset with this IRI.
    pub fn dataset(&self, iri: &str) -> Option<usize> {
        self.by_iri.get(iri).copied()
    }

    /// The column with this IRI.
    pub fn column(&self, iri: &str) -> Option<usize> {
        self.column_by_iri.get(iri).copied()
    }

    /// The columns of dataset `d`, in order.
    pub fn columns_of(&self, d: usize) -> impl Iterator<Item = (usize, &ColumnInfo)> + '_ {
        self.columns
            .iter()
            .enumerate()
            .filter(move |(_, c)| c.dataset == d)
    }

    /// The column of dataset `d` named `name` (case-insensitive).
    pub fn column_named(&self, d: usize, name: &str) -> Option<usize> {
        self.columns_of(d)
            .find(|(_, c)| c.name.eq_ignore_ascii_case(name))
            .map(|(i, _)| i)
    }

    /// The lineage engine's schema of datasets `read`, without the columns in `exclude`
    /// (IRIs).
    pub fn schema(
        &self,
        read: &[usize],
        exclude: &std::collections::BTreeSet<String>,
    ) -> govgraph_lineage::Schema {
        let mut schema = govgraph_lineage::Schema::new();
        for &d in read {
            let cols: Vec<(&str, &str)> = self
                .columns_of(d)
                .filter(|(_, c)| !exclude.contains(&c.iri))
                .map(|(_, c)| (c.name.as_str(), c.data_type.as_deref().unwrap_or("")))
                .collect();
            schema.add_table(&self.datasets[d].name, &cols);
        }
        schema
    }

    /// The term with this IRI.
    pub fn term(&self, iri: &str) -> Option<&TermInfo> {
        self.terms.iter().find(|t| t.iri == iri)
    }

    /// The dataset whose qualified name ends with `table` (`products` or `bronze.products`),
    /// preferring `near`'s system and layer.
    pub fn dataset_by_table(&self, table: &str, near: usize) -> Option<usize> {
        let table = table.to_ascii_lowercase();
        let base = &self.datasets[near];
        self.datasets
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                let n = d.name.to_ascii_lowercase();
                n == table || n.rsplit('.').next() == Some(table.as_str())
            })
            .min_by_key(|(_, d)| {
                (
                    d.system != base.system,
                    d.layer != base.layer,
                    d.name.clone(),
                )
            })
            .map(|(i, _)| i)
    }
}
