//! What search indexes: one document per catalog entity, read from the graph.
//!
//! Documents are built with index scans (every quad of a subject, then the labels of what it
//! points to, memoised), not SPARQL, so a million columns take seconds. A column carries what
//! a searcher means by it: its dataset's path, domain and owner, the glossary terms it is
//! mapped to with their synonyms, and its tags.

use std::collections::{BTreeSet, HashMap};

use govgraph_graph::Scope;
use govgraph_graph::oxigraph::model::{GraphName, NamedNode, NamedNodeRef, NamedOrBlankNode, Term};
use govgraph_graph::oxigraph::store::Store;
use govgraph_graph::vocab::{csvw, dcat, dct, foaf, gg, odrl, prov, rdf, rdfs, skos};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Result;

/// The kinds of entity search knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntityKind {
    /// A table, view, file or model (`dcat:Dataset`).
    Dataset,
    /// A column (`csvw:Column`).
    Column,
    /// A glossary term.
    Term,
    /// A governance domain.
    Domain,
    /// A person or team that owns or stewards things.
    Owner,
    /// A tag or classification.
    Tag,
    /// A data-quality rule.
    Rule,
    /// An ODRL policy.
    Policy,
    /// A data product.
    Product,
    /// A dashboard or other downstream consumer.
    Dashboard,
}

impl EntityKind {
    /// Every kind, in display order.
    pub const ALL: [EntityKind; 10] = [
        EntityKind::Dataset,
        EntityKind::Column,
        EntityKind::Term,
        EntityKind::Domain,
        EntityKind::Owner,
        EntityKind::Tag,
        EntityKind::Rule,
        EntityKind::Policy,
        EntityKind::Product,
        EntityKind::Dashboard,
    ];

    /// The lower-case name used in filters and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Dataset => "dataset",
            EntityKind::Column => "column",
            EntityKind::Term => "term",
            EntityKind::Domain => "domain",
            EntityKind::Owner => "owner",
            EntityKind::Tag => "tag",
            EntityKind::Rule => "rule",
            EntityKind::Policy => "policy",
            EntityKind::Product => "product",
            EntityKind::Dashboard => "dashboard",
        }
    }

    /// Parses [`as_str`](Self::as_str); `table` is accepted for datasets.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        let s = match s.as_str() {
            "table" | "tables" | "datasets" => "dataset",
            "columns" => "column",
            "terms" | "glossary" => "term",
            "owners" | "person" | "people" | "team" => "owner",
            "tags" | "classification" => "tag",
            "rules" => "rule",
            "policies" => "policy",
            "products" | "data_product" | "data-product" => "product",
            other => other,
        };
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The class whose instances are of this kind (super-types are materialised on load).
    fn class(self) -> NamedNodeRef<'static> {
        match self {
            EntityKind::Dataset => dcat::DATASET,
            EntityKind::Column => csvw::COLUMN,
            EntityKind::Term => gg::GLOSSARY_TERM,
            EntityKind::Domain => gg::DOMAIN,
            EntityKind::Owner => FOAF_AGENT,
            EntityKind::Tag => gg::TAG,
            EntityKind::Rule => gg::QUALITY_RULE,
            EntityKind::Policy => odrl::POLICY,
            EntityKind::Product => gg::DATA_PRODUCT,
            EntityKind::Dashboard => gg::DASHBOARD,
        }
    }
}

const FOAF_AGENT: NamedNodeRef<'static> =
    NamedNodeRef::new_unchecked("http://xmlns.com/foaf/0.1/Agent");
const DQV_COMPUTED_ON: NamedNodeRef<'static> =
    NamedNodeRef::new_unchecked("http://www.w3.org/ns/dqv#computedOn");
const DQV_IS_MEASUREMENT_OF: NamedNodeRef<'static> =
    NamedNodeRef::new_unchecked("http://www.w3.org/ns/dqv#isMeasurementOf");
const DQV_VALUE: NamedNodeRef<'static> =
    NamedNodeRef::new_unchecked("http://www.w3.org/ns/dqv#value");
const GG_QUALITY_SCORE: NamedNodeRef<'static> =
    NamedNodeRef::new_unchecked("https://govgraph.dev/ns#QualityScore");
const SKOS_NOTATION: NamedNodeRef<'static> =
    NamedNodeRef::new_unchecked("http://www.w3.org/2004/02/skos/core#notation");
const ODRL_UID_PROP: NamedNodeRef<'static> = odrl::UID;

/// One entity as search sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntityDoc {
    /// The entity's IRI.
    pub iri: String,
    /// What it is.
    pub kind: Option<EntityKind>,
    /// Its identifier-like name: `csvw:name`, `dct:identifier`, `skos:notation`, or the IRI's
    /// last segment.
    pub name: String,
    /// Its human label: `dct:title`, `skos:prefLabel`, `foaf:name`, `rdfs:label`.
    pub label: Option<String>,
    /// Descriptions and definitions.
    pub description: Option<String>,
    /// Other names: a term's alternative labels; for datasets and columns, the labels and
    /// synonyms of the glossary terms they are mapped to.
    pub synonyms: Vec<String>,
    /// Labels of the glossary terms the entity is mapped to (a subset of what `synonyms`
    /// carries, kept apart to explain matches).
    pub terms: Vec<String>,
    /// Tag and classification labels and notations.
    pub tags: Vec<String>,
    /// Owner and steward names.
    pub owner: Vec<String>,
    /// Domain labels.
    pub domain: Vec<String>,
    /// The system the entity lives in (for columns, their dataset's).
    pub system: Option<String>,
    /// Where it sits: `dataset` or `dataset.column`.
    pub path: String,
    /// Whether it is classified as personal data.
    pub pii: bool,
    /// Whether its owner certified it.
    pub certified: bool,
    /// The latest quality score in [0, 1], if measured.
    pub quality: Option<f64>,
    /// How many things are derived from it (table or column lineage fan-out).
    pub popularity: u32,
    /// The named graphs that say something about it (its sources).
    #[serde(default)]
    pub graphs: Vec<String>,
}

impl EntityDoc {
    /// A digest of everything indexed, to tell a stale document from a fresh one.
    pub fn digest(&self) -> String {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        let d = Sha256::digest(&bytes);
        d.iter().take(12).map(|b| format!("{b:02x}")).collect()
    }

    /// Every text field joined, for the embedder: names, labels, synonyms and tags, then a
    /// blank line and the description.
    pub fn text_for_embedding(&self) -> String {
        let mut parts: Vec<&str> = vec![self.name.as_str()];
        if let Some(l) = &self.label {
            parts.push(l);
        }
        for s in &self.synonyms {
            parts.push(s);
        }
        for t in &self.tags {
            parts.push(t);
        }
        let mut text = parts.join(" . ");
        if let Some(d) = &self.description {
            text.push_str("\n\n");
            text.push_str(d);
        }
        text
    }
}

fn literal(term: &Term) -> Option<&str> {
    match term {
        Term::Literal(l) => Some(l.value()),
        _ => None,
    }
}

fn named(term: &Term) -> Option<&NamedNode> {
    match term {
        Term::NamedNode(n) => Some(n),
        _ => None,
    }
}

fn last_segment(iri: &str) -> &str {
    iri.rsplit(['/', '#']).next().unwrap_or(iri)
}

/// What an entity says about itself, from its own quads.
#[derive(Debug, Default, Clone)]
struct Facts {
    types: BTreeSet<String>,
    name: Option<String>,
    identifier: Option<String>,
    label: Option<String>,
    alt: Vec<String>,
    description: Option<String>,
    notation: Option<String>,
    terms: Vec<NamedNode>,
    tags: Vec<NamedNode>,
    owners: Vec<NamedNode>,
    domains: Vec<NamedNode>,
    system: Option<NamedNode>,
    column_of: Option<NamedNode>,
    broader: Vec<NamedNode>,
    certified: bool,
    personal_category: bool,
    special: bool,
    /// The named graphs that say anything about the node.
    graphs: BTreeSet<String>,
}

/// Reads entity documents out of a store, memoising what referenced nodes say.
pub struct DocReader<'a> {
    store: &'a Store,
    facts: HashMap<NamedNode, std::rc::Rc<Facts>>,
    pii_tag: HashMap<NamedNode, bool>,
    scope: Scope,
}

impl std::fmt::Debug for DocReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocReader")
            .field("memoised", &self.facts.len())
            .finish()
    }
}

impl<'a> DocReader<'a> {
    /// A reader over `store` (its union of named graphs).
    pub fn new(store: &'a Store) -> Self {
        Self {
            store,
            facts: HashMap::new(),
            pii_tag: HashMap::new(),
            scope: Scope::all(),
        }
    }

    /// A reader that sees only the graphs `scope` may read.
    pub fn scoped(store: &'a Store, scope: Scope) -> Self {
        Self {
            scope,
            ..Self::new(store)
        }
    }

    /// What a referenced node says, memoised (datasets, terms, tags, owners, domains).
    fn facts(&mut self, node: &NamedNode) -> Result<std::rc::Rc<Facts>> {
        if let Some(f) = self.facts.get(node) {
            return Ok(f.clone());
        }
        let f = std::rc::Rc::new(self.read_facts(node)?);
        self.facts.insert(node.clone(), f.clone());
        Ok(f)
    }

    /// What a node says, read afresh.
    fn read_facts(&self, node: &NamedNode) -> Result<Facts> {
        let mut f = Facts::default();
        for q in self.scope.filter_quads(self.store.quads_for_pattern(
            Some(node.as_ref().into()),
            None,
            None,
            None,
        )) {
            let q = q?;
            if let GraphName::NamedNode(g) = &q.graph_name
                && !f.graphs.contains(g.as_str())
            {
                f.graphs.insert(g.as_str().to_owned());
            }
            let p = q.predicate.as_ref();
            let o = &q.object;
            let set = |slot: &mut Option<String>| {
                if slot.is_none()
                    && let Some(v) = literal(o)
                {
                    *slot = Some(v.to_owned());
                }
            };
            if p == rdf::TYPE {
                if let Some(n) = named(o) {
                    f.types.insert(n.as_str().to_owned());
                }
            } else if p == csvw::NAME {
                set(&mut f.name);
            } else if p == dct::IDENTIFIER {
                set(&mut f.identifier);
            } else if p == dct::TITLE
                || p == skos::PREF_LABEL
                || p == foaf::NAME
                || p == rdfs::LABEL
            {
                set(&mut f.label);
            } else if p == skos::ALT_LABEL || p == dcat::KEYWORD {
                if let Some(v) = literal(o) {
                    f.alt.push(v.to_owned());
                }
            } else if p == dct::DESCRIPTION || p == skos::DEFINITION || p == rdfs::COMMENT {
                set(&mut f.description);
            } else if p == SKOS_NOTATION || p == ODRL_UID_PROP {
                set(&mut f.notation);
            } else if p == gg::TERM || p == dcat::THEME {
                if let Some(n) = named(o) {
                    f.terms.push(n.clone());
                }
            } else if p == gg::TAG_PROP {
                if let Some(n) = named(o) {
                    f.tags.push(n.clone());
                }
            } else if p == gg::OWNER || p == gg::STEWARD {
                if let Some(n) = named(o) {
                    f.owners.push(n.clone());
                }
            } else if p == gg::DOMAIN_PROP {
                if let Some(n) = named(o) {
                    f.domains.push(n.clone());
                }
            } else if p == gg::SYSTEM_PROP {
                if f.system.is_none() {
                    f.system = named(o).cloned();
                }
            } else if p == gg::COLUMN_OF {
                f.column_of = named(o).cloned();
            } else if p == skos::BROADER {
                if let Some(n) = named(o) {
                    f.broader.push(n.clone());
                }
            } else if p == gg::CERTIFIED {
                f.certified = literal(o) == Some("true");
            } else if p == gg::PERSONAL_DATA_CATEGORY {
                f.personal_category = true;
            } else if p == gg::SPECIAL_CATEGORY {
                f.special = literal(o) == Some("true");
            }
        }
        Ok(f)
    }

    fn label_of(&mut self, node: &NamedNode) -> Result<String> {
        let f = self.facts(node)?;
        Ok(f.label
            .clone()
            .or_else(|| f.identifier.clone())
            .or_else(|| f.name.clone())
            .unwrap_or_else(|| last_segment(node.as_str()).to_owned()))
    }

    /// A tag is personal data when it or a broader tag carries a personal-data category, or
    /// when its notation or a broader one is `pii`.
    fn is_pii_tag(&mut self, tag: &NamedNode, depth: usize) -> Result<bool> {
        if let Some(v) = self.pii_tag.get(tag) {
            return Ok(*v);
        }
        let f = self.facts(tag)?;
        let mut v = f.personal_category
            || f.special
            || f.notation
                .as_deref()
                .is_some_and(|n| n == "pii" || n.starts_with("pii."));
        if !v && depth < 8 {
            for b in f.broader.clone() {
                if self.is_pii_tag(&b, depth + 1)? {
                    v = true;
                    break;
                }
            }
        }
        self.pii_tag.insert(tag.clone(), v);
        Ok(v)
    }

    fn kind_of(f: &Facts) -> Option<EntityKind> {
        // Most specific first: a data product may also be typed as a dataset.
        [
            EntityKind::Product,
            EntityKind::Column,
            EntityKind::Dataset,
            EntityKind::Dashboard,
            EntityKind::Term,
            EntityKind::Tag,
            EntityKind::Domain,
            EntityKind::Rule,
            EntityKind::Policy,
            EntityKind::Owner,
        ]
        .into_iter()
        .find(|k| f.types.contains(k.class().as_str()))
    }

    fn quality(&self, node: &NamedNode) -> Result<Option<f64>> {
        let mut best: Option<(String, f64)> = None;
        for q in self.scope.filter_quads(self.store.quads_for_pattern(
            None,
            Some(DQV_COMPUTED_ON),
            Some(node.as_ref().into()),
            None,
        )) {
            let m = q?.subject;
            let is_score = self
                .scope
                .filter_quads(self.store.quads_for_pattern(
                    Some(m.as_ref()),
                    Some(DQV_IS_MEASUREMENT_OF),
                    Some(GG_QUALITY_SCORE.into()),
                    None,
                ))
                .next()
                .is_some();
            if !is_score {
                continue;
            }
            let mut value = None;
            let mut at = String::new();
            for q in self.scope.filter_quads(self.store.quads_for_pattern(
                Some(m.as_ref()),
                None,
                None,
                None,
            )) {
                let q = q?;
                if q.predicate.as_ref() == DQV_VALUE {
                    value = literal(&q.object).and_then(|v| v.parse::<f64>().ok());
                } else if q.predicate.as_ref() == prov::GENERATED_AT_TIME {
                    at = literal(&q.object).unwrap_or_default().to_owned();
                }
            }
            if let Some(v) = value
                && best.as_ref().is_none_or(|(t, _)| at > *t)
            {
                best = Some((at, if v > 1.0 { v / 100.0 } else { v }));
            }
        }
        Ok(best.map(|(_, v)| v.clamp(0.0, 1.0)))
    }

    fn popularity(&self, node: &NamedNode, kind: EntityKind) -> Result<u32> {
        let n = match kind {
            EntityKind::Dataset => self
                .scope
                .filter_quads(self.store.quads_for_pattern(
                    None,
                    Some(prov::WAS_DERIVED_FROM),
                    Some(node.as_ref().into()),
                    None,
                ))
                .count(),
            EntityKind::Column => self
                .scope
                .filter_quads(self.store.quads_for_pattern(
                    None,
                    Some(prov::ENTITY),
                    Some(node.as_ref().into()),
                    None,
                ))
                .count(),
            EntityKind::Term => self
                .scope
                .filter_quads(self.store.quads_for_pattern(
                    None,
                    Some(gg::TERM),
                    Some(node.as_ref().into()),
                    None,
                ))
                .count(),
            _ => 0,
        };
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// The document of one entity, or `None` when it is of no searchable kind.
    pub fn doc(&mut self, node: &NamedNode) -> Result<Option<EntityDoc>> {
        // Columns are many and referenced by nothing searched here: not memoised.
        let f = match self.facts.get(node) {
            Some(f) => f.clone(),
            None => std::rc::Rc::new(self.read_facts(node)?),
        };
        let Some(kind) = Self::kind_of(&f) else {
            return Ok(None);
        };
        let mut d = EntityDoc {
            iri: node.as_str().to_owned(),
            kind: Some(kind),
            label: f.label.clone(),
            description: f.description.clone(),
            certified: f.certified,
            graphs: f.graphs.iter().cloned().collect(),
            ..EntityDoc::default()
        };
        d.name = f
            .name
            .clone()
            .or_else(|| f.identifier.clone())
            .or_else(|| f.notation.clone())
            .unwrap_or_else(|| last_segment(node.as_str()).to_owned());
        d.synonyms.extend(f.alt.iter().cloned());
        if kind == EntityKind::Tag
            && let Some(n) = &f.notation
        {
            d.tags.push(n.clone());
        }
        // What it inherits from its dataset (columns).
        let mut owners = f.owners.clone();
        let mut domains = f.domains.clone();
        let mut system = f.system.clone();
        let mut tags = f.tags.clone();
        d.path = f.identifier.clone().unwrap_or_else(|| d.name.clone());
        if let Some(ds) = &f.column_of {
            let df = self.facts(ds)?;
            let table = df
                .identifier
                .clone()
                .unwrap_or_else(|| last_segment(ds.as_str()).to_owned());
            d.path = format!("{table}.{}", d.name);
            if owners.is_empty() {
                owners = df.owners.clone();
            }
            if domains.is_empty() {
                domains = df.domains.clone();
            }
            if system.is_none() {
                system = df.system.clone();
            }
            // A column's table-level tags (say, `financial`) describe it too, except
            // classifications, which are per column.
            for t in &df.tags {
                if !self.is_pii_tag(t, 0)? {
                    tags.push(t.clone());
                }
            }
        }
        for t in &f.terms {
            let tf = self.facts(t)?;
            let label = self.label_of(t)?;
            d.terms.push(label.clone());
            d.synonyms.push(label);
            d.synonyms.extend(tf.alt.iter().cloned());
        }
        for t in &tags {
            if self.is_pii_tag(t, 0)? {
                d.pii = true;
            }
            let tf = self.facts(t)?;
            d.tags.push(self.label_of(t)?);
            if let Some(n) = &tf.notation {
                d.tags.push(n.clone());
            }
        }
        if kind == EntityKind::Dataset && !d.pii {
            // A dataset holds personal data when one of its columns does.
            let columns: Vec<NamedNode> = self
                .scope
                .filter_quads(self.store.quads_for_pattern(
                    None,
                    Some(gg::COLUMN_OF),
                    Some(node.as_ref().into()),
                    None,
                ))
                .filter_map(|q| match q.ok()?.subject {
                    NamedOrBlankNode::NamedNode(n) => Some(n),
                    NamedOrBlankNode::BlankNode(_) => None,
                })
                .collect();
            'outer: for c in columns {
                let cf = self.read_facts(&c)?;
                for t in cf.tags {
                    if self.is_pii_tag(&t, 0)? {
                        d.pii = true;
                        break 'outer;
                    }
                }
            }
        }
        if kind == EntityKind::Tag {
            d.pii = self.is_pii_tag(node, 0)?;
        }
        for o in owners {
            d.owner.push(self.label_of(&o)?);
        }
        for dm in domains {
            d.domain.push(self.label_of(&dm)?);
        }
        if let Some(s) = system {
            d.system = Some(self.label_of(&s)?);
        }
        d.synonyms.sort();
        d.synonyms.dedup();
        d.tags.sort();
        d.tags.dedup();
        d.owner.sort();
        d.owner.dedup();
        d.domain.sort();
        d.domain.dedup();
        d.quality = self.quality(node)?;
        d.popularity = self.popularity(node, kind)?;
        Ok(Some(d))
    }

    /// Every searchable entity in the store, sorted by IRI.
    pub fn entities(&self) -> Result<Vec<NamedNode>> {
        let mut all = BTreeSet::new();
        for kind in EntityKind::ALL {
            for q in self.scope.filter_quads(self.store.quads_for_pattern(
                None,
                Some(rdf::TYPE),
                Some(kind.class().into()),
                None,
            )) {
                if let NamedOrBlankNode::NamedNode(n) = q?.subject {
                    all.insert(n);
                }
            }
        }
        Ok(all.into_iter().collect())
    }

    /// Forgets memoised facts (after the store changed).
    pub fn clear(&mut self) {
        self.facts.clear();
        self.pii_tag.clear();
    }
}

/// Every document in the store.
pub fn all_docs(store: &Store) -> Result<Vec<EntityDoc>> {
    let mut reader = DocReader::new(store);
    let mut out = Vec::new();
    for n in reader.entities()? {
        if let Some(d) = reader.doc(&n)? {
            out.push(d);
        }
    }
    Ok(out)
}
