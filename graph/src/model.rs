//! The typed model: govgraph's entities as Rust values, written to and read from RDF.
//!
//! Each entity knows its IRI (minted by an [`IriScheme`] from its natural key), the triples
//! that describe it, and how to read itself back from any [`TripleRead`]. References between
//! entities are natural keys, so a value is meaningful without the graph at hand.

use std::collections::BTreeMap;

use oxigraph::model::{
    Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, Term as RdfTerm,
    Triple,
};

use crate::error::{Error, Result};
use crate::iri::{ColumnKey, DatasetKey, IriScheme, Kind, Parsed};
use crate::vocab::{csvw, dcat, dct, dprod, dqv, foaf, gg, odrl, org, prov, rdf, skos, xsd};

/// Anything triples can be read from: an in-memory graph or the store.
pub trait TripleRead {
    /// The objects of `subject predicate ?o`, in a stable order, without duplicates.
    fn objects(
        &self,
        subject: NamedOrBlankNodeRef<'_>,
        predicate: NamedNodeRef<'_>,
    ) -> Result<Vec<RdfTerm>>;
    /// The subjects of `?s predicate object`, in a stable order, without duplicates.
    fn subjects(
        &self,
        predicate: NamedNodeRef<'_>,
        object: oxigraph::model::TermRef<'_>,
    ) -> Result<Vec<NamedOrBlankNode>>;
}

impl TripleRead for oxigraph::model::Graph {
    fn objects(
        &self,
        subject: NamedOrBlankNodeRef<'_>,
        predicate: NamedNodeRef<'_>,
    ) -> Result<Vec<RdfTerm>> {
        let mut out: Vec<RdfTerm> = self
            .objects_for_subject_predicate(subject, predicate)
            .map(|t| t.into_owned())
            .collect();
        out.sort_by_key(ToString::to_string);
        out.dedup();
        Ok(out)
    }
    fn subjects(
        &self,
        predicate: NamedNodeRef<'_>,
        object: oxigraph::model::TermRef<'_>,
    ) -> Result<Vec<NamedOrBlankNode>> {
        let mut out: Vec<NamedOrBlankNode> = self
            .subjects_for_predicate_object(predicate, object)
            .map(|t| t.into_owned())
            .collect();
        out.sort_by_key(ToString::to_string);
        out.dedup();
        Ok(out)
    }
}

/// A typed entity of the governance model.
pub trait Entity: Sized {
    /// A short name of the kind, for messages.
    const KIND: &'static str;
    /// The entity's IRI.
    fn iri(&self, scheme: &IriScheme) -> NamedNode;
    /// Appends the triples that describe the entity.
    fn write(&self, scheme: &IriScheme, out: &mut Vec<Triple>);
    /// Reads the entity named `iri` back.
    fn read(source: &impl TripleRead, scheme: &IriScheme, iri: NamedNodeRef<'_>) -> Result<Self>;

    /// The triples that describe the entity.
    fn to_triples(&self, scheme: &IriScheme) -> Vec<Triple> {
        let mut out = Vec::new();
        self.write(scheme, &mut out);
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Writing and reading helpers

struct W<'a> {
    subject: NamedOrBlankNode,
    out: &'a mut Vec<Triple>,
}

impl<'a> W<'a> {
    fn new(
        subject: impl Into<NamedOrBlankNode>,
        class: NamedNodeRef<'_>,
        out: &'a mut Vec<Triple>,
    ) -> Self {
        let mut w = Self {
            subject: subject.into(),
            out,
        };
        w.iri(rdf::TYPE, class.into_owned());
        w
    }
    fn term(&mut self, p: NamedNodeRef<'_>, o: impl Into<RdfTerm>) {
        self.out
            .push(Triple::new(self.subject.clone(), p.into_owned(), o.into()));
    }
    fn iri(&mut self, p: NamedNodeRef<'_>, o: NamedNode) {
        self.term(p, o);
    }
    fn iris(&mut self, p: NamedNodeRef<'_>, os: impl IntoIterator<Item = NamedNode>) {
        for o in os {
            self.iri(p, o);
        }
    }
    fn str(&mut self, p: NamedNodeRef<'_>, v: &str) {
        self.term(p, Literal::new_simple_literal(v));
    }
    fn opt_str(&mut self, p: NamedNodeRef<'_>, v: Option<&str>) {
        if let Some(v) = v {
            self.str(p, v);
        }
    }
    fn strs(&mut self, p: NamedNodeRef<'_>, vs: &[String]) {
        for v in vs {
            self.str(p, v);
        }
    }
    fn typed(&mut self, p: NamedNodeRef<'_>, v: impl ToString, dt: NamedNodeRef<'_>) {
        self.term(p, Literal::new_typed_literal(v.to_string(), dt));
    }
    fn opt_bool(&mut self, p: NamedNodeRef<'_>, v: Option<bool>) {
        if let Some(v) = v {
            self.term(p, Literal::from(v));
        }
    }
}

/// The description of one subject, read once, queried by property.
struct R {
    subject: String,
    props: BTreeMap<NamedNode, Vec<RdfTerm>>,
}

impl R {
    fn load(
        source: &impl TripleRead,
        subject: NamedOrBlankNodeRef<'_>,
        predicates: &[NamedNodeRef<'_>],
    ) -> Result<Self> {
        let mut props = BTreeMap::new();
        for p in predicates {
            let objects = source.objects(subject, *p)?;
            if !objects.is_empty() {
                props.insert(p.into_owned(), objects);
            }
        }
        Ok(Self {
            subject: subject.to_string(),
            props,
        })
    }
    fn all(&self, p: NamedNodeRef<'_>) -> &[RdfTerm] {
        self.props.get(&p.into_owned()).map_or(&[], Vec::as_slice)
    }
    fn field(&self, p: NamedNodeRef<'_>) -> String {
        format!("{} {}", self.subject, p)
    }
    fn has_type(&self, class: NamedNodeRef<'_>) -> bool {
        self.all(rdf::TYPE)
            .iter()
            .any(|t| matches!(t, RdfTerm::NamedNode(n) if n.as_ref() == class))
    }
    fn require_type(&self, class: NamedNodeRef<'_>, kind: &str) -> Result<()> {
        if self.has_type(class) {
            Ok(())
        } else if self.props.is_empty() {
            Err(Error::NotFound(format!("{kind} {}", self.subject)))
        } else {
            Err(Error::invalid(&self.subject, format!("is not a {class}")))
        }
    }
    fn strs(&self, p: NamedNodeRef<'_>) -> Result<Vec<String>> {
        self.all(p)
            .iter()
            .map(|t| match t {
                RdfTerm::Literal(l) => Ok(l.value().to_owned()),
                other => Err(Error::invalid(
                    self.field(p),
                    format!("expected a literal, found {other}"),
                )),
            })
            .collect()
    }
    fn opt_str(&self, p: NamedNodeRef<'_>) -> Result<Option<String>> {
        let mut v = self.strs(p)?;
        if v.len() > 1 {
            return Err(Error::invalid(self.field(p), "expected at most one value"));
        }
        Ok(v.pop())
    }
    fn str(&self, p: NamedNodeRef<'_>) -> Result<String> {
        self.opt_str(p)?
            .ok_or_else(|| Error::invalid(self.field(p), "is required"))
    }
    fn iris(&self, p: NamedNodeRef<'_>) -> Result<Vec<NamedNode>> {
        self.all(p)
            .iter()
            .map(|t| match t {
                RdfTerm::NamedNode(n) => Ok(n.clone()),
                other => Err(Error::invalid(
                    self.field(p),
                    format!("expected an IRI, found {other}"),
                )),
            })
            .collect()
    }
    fn opt_iri(&self, p: NamedNodeRef<'_>) -> Result<Option<NamedNode>> {
        let mut v = self.iris(p)?;
        if v.len() > 1 {
            return Err(Error::invalid(self.field(p), "expected at most one value"));
        }
        Ok(v.pop())
    }
    fn parsed<T: std::str::FromStr>(&self, p: NamedNodeRef<'_>) -> Result<Option<T>> {
        self.opt_str(p)?
            .map(|s| {
                s.parse::<T>()
                    .map_err(|_| Error::invalid(self.field(p), format!("cannot read {s:?}")))
            })
            .transpose()
    }
    fn keys(&self, scheme: &IriScheme, kind: Kind, p: NamedNodeRef<'_>) -> Result<Vec<String>> {
        let field = self.field(p);
        let mut keys = self
            .iris(p)?
            .iter()
            .map(|n| scheme.key_of(kind, n.as_str(), &field))
            .collect::<Result<Vec<_>>>()?;
        keys.sort();
        Ok(keys)
    }
    fn opt_key(
        &self,
        scheme: &IriScheme,
        kind: Kind,
        p: NamedNodeRef<'_>,
    ) -> Result<Option<String>> {
        let field = self.field(p);
        self.opt_iri(p)?
            .map(|n| scheme.key_of(kind, n.as_str(), &field))
            .transpose()
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

fn entity_iris<'a>(
    scheme: &'a IriScheme,
    kind: Kind,
    keys: &'a [String],
) -> impl Iterator<Item = NamedNode> + 'a {
    keys.iter().map(move |k| scheme.entity(kind, k))
}

// ---------------------------------------------------------------------------------------------
// Systems and datasets

/// A source system: a database, a warehouse, a folder of files, a dbt project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct System {
    /// Natural key (slug).
    pub key: String,
    /// Display name.
    pub title: String,
    /// The platform, such as `postgres`, `files` or `dbt`.
    pub platform: String,
    /// Free text.
    pub description: Option<String>,
}

impl Entity for System {
    const KIND: &'static str = "system";
    fn iri(&self, scheme: &IriScheme) -> NamedNode {
        scheme.entity(Kind::System, &self.key)
    }
    fn write(&self, scheme: &IriScheme, out: &mut Vec<Triple>) {
        let mut w = W::new(self.iri(scheme), gg::SYSTEM, out);
        w.str(dct::TITLE, &self.title);
        w.str(gg::PLATFORM, &self.platform);
        w.opt_str(dct::DESCRIPTION, self.description.as_deref());
    }
    fn read(source: &impl TripleRead, scheme: &IriScheme, iri: NamedNodeRef<'_>) -> Result<Self> {
        let r = R::load(
            source,
            iri.into(),
            &[rdf::TYPE, dct::TITLE, gg::PLATFORM, dct::DESCRIPTION],
        )?;
        r.require_type(gg::SYSTEM, Self::KIND)?;
        Ok(Self {
            key: scheme.key_of(Kind::System, iri.as_str(), "system")?,
            title: r.str(dct::TITLE)?,
            platform: r.str(gg::PLATFORM)?,
            description: r.opt_str(dct::DESCRIPTION)?,
        })
    }
}

/// What kind of dataset something is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DatasetKind {
    /// A table.
    Table,
    /// A view.
    View,
    /// A materialised view.
    MaterializedView,
    /// A file or folder of files.
    File,
    /// A dbt model.
    Model,
    /// A dashboard or other downstream consumer.
    Dashboard,
}

impl DatasetKind {
    const ALL: [DatasetKind; 6] = [
        Self::Table,
        Self::View,
        Self::MaterializedView,
        Self::File,
        Self::Model,
        Self::Dashboard,
    ];

    /// The class this kind is written as.
    pub fn class(self) -> NamedNodeRef<'static> {
        match self {
            Self::Table => gg::TABLE,
            Self::View => gg::VIEW,
            Self::MaterializedView => gg::MATERIALIZED_VIEW,
            Self::File => gg::FILE_DATASET,
            Self::Model => gg::MODEL,
            Self::Dashboard => gg::DASHBOARD,
        }
    }
}

/// A dataset: a table, view, file, model or dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// Natural key: system and qualified name.
    pub key: DatasetKey,
    /// What kind of dataset it is.
    pub kind: DatasetKind,
    /// Display name.
    pub title: String,
    /// Free text.
    pub description: Option<String>,
    /// Medallion layer (`bronze`, `silver`, `gold`), if any.
    pub layer: Option<String>,
    /// Owning domain (key).
    pub domain: Option<String>,
    /// Owners (agent keys).
    pub owners: Vec<String>,
    /// Stewards (agent keys).
    pub stewards: Vec<String>,
    /// Tags (tag keys).
    pub tags: Vec<String>,
    /// Glossary terms the dataset is about (term keys).
    pub terms: Vec<String>,
    /// Table-level lineage: the datasets this one is derived from.
    pub derived_from: Vec<DatasetKey>,
    /// The SQL that defines a view or model.
    pub definition_sql: Option<String>,
    /// Number of rows, when known.
    pub row_count: Option<u64>,
    /// Whether a steward certified it.
    pub certified: Option<bool>,
}

impl Dataset {
    /// A dataset with only its key, kind and title set.
    pub fn new(key: DatasetKey, kind: DatasetKind, title: impl Into<String>) -> Self {
        Self {
            key,
            kind,
            title: title.into(),
            description: None,
            layer: None,
            domain: None,
            owners: Vec::new(),
            stewards: Vec::new(),
            tags: Vec::new(),
            terms: Vec::new(),
            derived_from: Vec::new(),
            definition_sql: None,
            row_count: None,
            certified: None,
        }
    }
}

impl Entity for Dataset {
    const KIND: &'static str = "dataset";
    fn iri(&self, scheme: &IriScheme) -> NamedNode {
        scheme.dataset(&self.key)
    }
    fn write(&self, scheme: &IriScheme, out: &mut Vec<Triple>) {
        let mut w = W::new(self.iri(scheme), self.kind.class(), out);
        w.str(dct::TITLE, &self.title);
        w.str(dct::IDENTIFIER, &self.key.name);
        w.iri(
            gg::SYSTEM_PROP,
            scheme.entity(Kind::System, &self.key.system),
        );
        w.opt_str(dct::DESCRIPTION, self.description.as_deref());
        w.opt_str(gg::LAYER, self.layer.as_deref());
        if let Some(d) = &self.domain {
            w.iri(gg::DOMAIN_PROP, scheme.entity(Kind::Domain, d));
        }
        w.iris(gg::OWNER, entity_iris(scheme, Kind::Agent, &self.owners));
        w.iris(
            gg::STEWARD,
            entity_iris(scheme, Kind::Agent, &self.stewards),
        );
        w.iris(gg::TAG_PROP, entity_iris(scheme, Kind::Tag, &self.tags));
        w.iris(dcat::THEME, entity_iris(scheme, Kind::Term, &self.terms));
        w.iris(
            prov::WAS_DERIVED_FROM,
            self.derived_from.iter().map(|k| scheme.dataset(k)),
        );
        w.opt_str(gg::DEFINITION_SQL, self.definition_sql.as_deref());
        if let Some(n) = self.row_count {
            w.typed(gg::ROW_COUNT, n, xsd::INTEGER);
        }
        w.opt_bool(gg::CERTIFIED, self.certified);
    }
    fn read(source: &impl TripleRead, scheme: &IriScheme, iri: NamedNodeRef<'_>) -> Result<Self> {
        let r = R::load(
            source,
            iri.into(),
            &[
                rdf::TYPE,
                dct::TITLE,
                dct::DESCRIPTION,
                gg::LAYER,
                gg::DOMAIN_PROP,
                gg::OWNER,
                gg::STEWARD,
                gg::TAG_PROP,
                dcat::THEME,
                prov::WAS_DERIVED_FROM,
                gg::DEFINITION_SQL,
                gg::ROW_COUNT,
                gg::CERTIFIED,
            ],
        )?;
        let kind = DatasetKind::ALL
            .into_iter()
            .find(|k| r.has_type(k.class()))
            .ok_or_else(|| match r.props.is_empty() {
                true => Error::NotFound(format!("dataset {iri}")),
                false => Error::invalid(
                    iri.to_string(),
                    "has no dataset kind (gg:Table, gg:View, ...)",
                ),
            })?;
        let field = r.field(prov::WAS_DERIVED_FROM);
        let mut derived_from = r
            .iris(prov::WAS_DERIVED_FROM)?
            .iter()
            .map(|n| scheme.dataset_key_of(n.as_str(), &field))
            .collect::<Result<Vec<_>>>()?;
        derived_from.sort();
        Ok(Self {
            key: scheme.dataset_key_of(iri.as_str(), "dataset")?,
            kind,
            title: r.str(dct::TITLE)?,
            description: r.opt_str(dct::DESCRIPTION)?,
            layer: r.opt_str(gg::LAYER)?,
            domain: r.opt_key(scheme, Kind::Domain, gg::DOMAIN_PROP)?,
            owners: r.keys(scheme, Kind::Agent, gg::OWNER)?,
            stewards: r.keys(scheme, Kind::Agent, gg::STEWARD)?,
            tags: r.keys(scheme, Kind::Tag, gg::TAG_PROP)?,
            terms: r.keys(scheme, Kind::Term, dcat::THEME)?,
            derived_from,
            definition_sql: r.opt_str(gg::DEFINITION_SQL)?,
            row_count: r.parsed(gg::ROW_COUNT)?,
            certified: r.parsed(gg::CERTIFIED)?,
        })
    }
}

/// A column of a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Natural key: dataset and slugged name.
    pub key: ColumnKey,
    /// The name as the source spells it.
    pub name: String,
    /// Physical type, such as `varchar(255)`.
    pub data_type: Option<String>,
    /// 1-based position.
    pub ordinal: Option<u32>,
    /// Whether values are required (NOT NULL).
    pub required: Option<bool>,
    /// Free text.
    pub description: Option<String>,
    /// Whether it is part of the primary key.
    pub primary_key: bool,
    /// Glossary terms it implements (term keys).
    pub terms: Vec<String>,
    /// Tags and classifications (tag keys).
    pub tags: Vec<String>,
}

impl Column {
    /// A column with only its dataset and name set.
    pub fn new(dataset: DatasetKey, name: &str) -> Self {
        Self {
            key: ColumnKey::new(dataset, name),
            name: name.to_owned(),
            data_type: None,
            ordinal: None,
            required: None,
            description: None,
            primary_key: false,
            terms: Vec::new(),
            tags: Vec::new(),
        }
    }
}

impl Entity for Column {
    const KIND: &'static str = "column";
    fn iri(&self, scheme: &IriScheme) -> NamedNode {
        scheme.column(&self.key)
    }
    fn write(&self, scheme: &IriScheme, out: &mut Vec<Triple>) {
        let mut w = W::new(self.iri(scheme), csvw::COLUMN, out);
        w.str(csvw::NAME, &self.name);
        w.iri(gg::COLUMN_OF, scheme.dataset(&self.key.dataset));
        w.opt_str(gg::DATA_TYPE, self.data_type.as_deref());
        if let Some(o) = self.ordinal {
            w.typed(gg::ORDINAL, o, xsd::INTEGER);
        }
        w.opt_bool(csvw::REQUIRED, self.required);
        w.opt_str(dct::DESCRIPTION, self.description.as_deref());
        if self.primary_key {
            w.opt_bool(gg::IS_PRIMARY_KEY, Some(true));
        }
        w.iris(gg::TERM, entity_iris(scheme, Kind::Term, &self.terms));
        w.iris(gg::TAG_PROP, entity_iris(scheme, Kind::Tag, &self.tags));
    }
    fn read(source: &impl TripleRead, scheme: &IriScheme, iri: NamedNodeRef<'_>) -> Result<Self> {
        let r = R::load(
            source,
            iri.into(),
            &[
                rdf::TYPE,
                csvw::NAME,
                gg::COLUMN_OF,
                gg::DATA_TYPE,
                gg::ORDINAL,
                csvw::REQUIRED,
                dct::DESCRIPTION,
                gg::IS_PRIMARY_KEY,
                gg::TERM,
                gg::TAG_PROP,
            ],
        )?;
        r.require_type(csvw::COLUMN, Self::KIND)?;
        let key = scheme.column_key_of(iri.as_str(), "column")?;
        let of = r
            .opt_iri(gg::COLUMN_OF)?
            .ok_or_else(|| Error::invalid(r.field(gg::COLUMN_OF), "is required"))?;
        if scheme.dataset_key_of(of.as_str(), &r.field(gg::COLUMN_OF))? != key.dataset {
            return Err(Error::invalid(
                r.field(gg::COLUMN_OF),
                "names a different dataset than the column's IRI",
            ));
        }
        Ok(Self {
            key,
            name: r.str(csvw::NAME)?,
            data_type: r.opt_str(gg::DATA_TYPE)?,
            ordinal: r.parsed(gg::ORDINAL)?,
            required: r.parsed(csvw::REQUIRED)?,
            description: r.opt_str(dct::DESCRIPTION)?,
            primary_key: r.parsed(gg::IS_PRIMARY_KEY)?.unwrap_or(false),
            terms: r.keys(scheme, Kind::Term, gg::TERM)?,
            tags: r.keys(scheme, Kind::Tag, gg::TAG_PROP)?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Glossary, domains, agents, tags

/// A glossary term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// Natural key (slug).
    pub key: String,
    /// The glossary it belongs to (key).
    pub glossary: Option<String>,
    /// The preferred label.
    pub label: String,
    /// Synonyms and abbreviations.
    pub synonyms: Vec<String>,
    /// The definition.
    pub definition: Option<String>,
    /// Broader terms (keys).
    pub broader: Vec<String>,
    /// Related terms (keys).
    pub related: Vec<String>,
    /// Owning domain (key).
    pub domain: Option<String>,
    /// Stewards (agent keys).
    pub stewards: Vec<String>,
}

impl Entity for Term {
    const KIND: &'static str = "term";
    fn iri(&self, scheme: &IriScheme) -> NamedNode {
        scheme.entity(Kind::Term, &self.key)
    }
    fn write(&self, scheme: &IriScheme, out: &mut Vec<Triple>) {
        let mut w = W::new(self.iri(scheme), gg::GLOSSARY_TERM, out);
        w.iri(rdf::TYPE, skos::CONCEPT.into_owned());
        if let Some(g) = &self.glossary {
            w.iri(skos::IN_SCHEME, scheme.entity(Kind::Glossary, g));
        }
        w.str(skos::PREF_LABEL, &self.label);
        w.strs(skos::ALT_LABEL, &self.synonyms);
        w.opt_str(skos::DEFINITION, self.definition.as_deref());
        w.iris(
            skos::BROADER,
            entity_iris(scheme, Kind::Term, &self.broader),
        );
        w.iris(
            skos::RELATED,
            entity_iris(scheme, Kind::Term, &self.related),
        );
        if let Some(d) = &self.domain {
            w.iri(gg::DOMAIN_PROP, scheme.entity(Kind::Domain, d));
        }
        w.iris(
            gg::STEWARD,
            entity_iris(scheme, Kind::Agent, &self.stewards),
        );
    }
    fn read(source: &impl TripleRead, scheme: &IriScheme, iri: NamedNodeRef<'_>) -> Result<Self> {
        let r = R::load(
            source,
            iri.into(),
            &[
                rdf::TYPE,
                skos::IN_SCHEME,
                skos::PREF_LABEL,
                skos::ALT_LABEL,
                skos::DEFINITION,
                skos::BROADER,
                skos::RELATED,
                gg::DOMAIN_PROP,
                gg::STEWARD,
            ],
        )?;
        r.require_type(skos::CONCEPT, Self::KIND)?;
        Ok(Self {
            key: scheme.key_of(Kind::Term, iri.as_str(), "term")?,
            glossary: r.opt_key(scheme, Kind::Glossary, skos::IN_SCHEME)?,
            label: r.str(skos::PREF_LABEL)?,
            synonyms: sorted(r.strs(skos::ALT_LABEL)?),
            definition: r.opt_str(skos::DEFINITION)?,
            broader: r.keys(scheme, Kind::Term, skos::BROADER)?,
            related: r.keys(scheme, Kind::Term, skos::RELATED)?,
            domain: r.opt_key(scheme, Kind::Domain, gg::DOMAIN_PROP)?,
            stewards: r.keys(scheme, Kind::Agent, gg::STEWARD)?,
        })
    }
}

/// A business domain: a unit of the organisation that owns data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// Natural key (slug).
    pub key: String,
    /// Display name.
    pub label: String,
    /// Free text.
    pub description: Option<String>,
    /// Owners (agent keys).
    pub owners: Vec<String>,
    /// Stewards (agent keys).
    pub stewards: Vec<String>,
    /// The organisation it is a unit of (key).
    pub organization: Option<String>,
}

impl Entity for Domain {
    const KIND: &'static str = "domain";
    fn iri(&self, scheme: &IriScheme) -> NamedNode {
        scheme.entity(Kind::Domain, &self.key)
    }
    fn write(&self, scheme: &IriScheme, out: &mut Vec<Triple>) {
        let mut w = W::new(self.iri(scheme), gg::DOMAIN, out);
        w.str(skos::PREF_LABEL, &self.label);
        w.opt_str(dct::DESCRIPTION, self.description.as_deref());
        w.iris(gg::OWNER, entity_iris(scheme, Kind::Agent, &self.owners));
        w.iris(
            gg::STEWARD,
            entity_iris(scheme, Kind::Agent, &self.stewards),
        );
        if let Some(o) = &self.organization {
            w.iri(org::UNIT_OF, scheme.entity(Kind::Organization, o));
        }
    }
    fn read(source: &impl TripleRead, scheme: &IriScheme, iri: NamedNodeRef<'_>) -> Result<Self> {
        let r = R::load(
            source,
            iri.into(),
            &[
                rdf::TYPE,
                skos::PREF_LABEL,
                dct::DESCRIPTION,
                gg::OWNER,
                gg::STEWARD,
                org::UNIT_OF,
            ],
        )?;
        r.require_type(gg::DOMAIN, Self::KIND)?;
        Ok(Self {
            key: scheme.key_of(Kind::Domain, iri.as_str(), "domain")?,
            label: r.str(skos::PREF_LABEL)?,
            description: r.opt_str(dct::DESCRIPTION)?,
            owners: r.keys(scheme, Kind::Agent, gg::OWNER)?,
            stewards: r.keys(scheme, Kind::Agent, gg::STEWARD)?,
            organization: r.opt_key(scheme, Kind::Organization, org::UNIT_OF)?,
        })
    }
}

/// Whether an agent is a person or a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentKind {
    /// A person.
    Person,
    /// A team or group.
    Group,
}

/// A person or team that owns or stewards data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// Natural key (slug).
    pub key: String,
    /// Person or team.
    pub kind: AgentKind,
    /// Display name.
    pub name: String,
    /// E-mail address, without `mailto:`.
    pub email: Option<String>,
    /// Domains the agent belongs to (keys).
    pub member_of: Vec<String>,
}

impl Entity for Agent {
    const KIND: &'static str = "agent";
    fn iri(&self, scheme: &IriScheme) -> NamedNode {
        scheme.entity(Kind::Agent, &self.key)
    }
    fn write(&self, scheme: &IriScheme, out: &mut Vec<Triple>) {
        let class = match self.kind {
            AgentKind::Person => foaf::PERSON,
            AgentKind::Group => foaf::GROUP,
        };
        let mut w = W::new(self.iri(scheme), class, out);
        w.str(foaf::NAME, &self.name);
        if let Some(mail) = &self.email {
            w.iri(
                foaf::MBOX,
                NamedNode::new_unchecked(format!("mailto:{mail}")),
            );
        }
        w.iris(
            org::MEMBER_OF,
            entity_iris(scheme, Kind::Domain, &self.member_of),
        );
    }
    fn read(source: &impl TripleRead, scheme: &IriScheme, iri: NamedNodeRef<'_>) -> Result<Self> {
        let r = R::load(
            source,
            iri.into(),
            &[rdf::TYPE, foaf::NAME, foaf::MBOX, org::MEMBER_OF],
        )?;
        let kind = if r.has_type(foaf::PERSON) {
            AgentKind::Person
        } else {
            r.require_type(foaf::GROUP, Self::KIND)?;
            AgentKind::Group
        };
        let email = r
            .opt_iri(foaf::MBOX)?
            .map(|m| m.as_str().trim_start_matches("mailto:").to_owned());
        Ok(Self {
            key: scheme.key_of(Kind::Agent, iri.as_str(), "agent")?,
            kind,
            name: r.str(foaf::NAME)?,
            email,
            member_of: r.keys(scheme, Kind::Domain, org::MEMBER_OF)?,
        })
    }
}

/// What a classification tag says about personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// The DPV personal-data category IRI, such as `https://w3id.org/dpv/pd#EmailAddress`.
    pub personal_data_category: Option<String>,
    /// Whether it is a special category under GDPR Art. 9.
    pub special_category: bool,
    /// `public`, `internal`, `confidential` or `restricted`.
    pub sensitivity: Option<String>,
}

/// A tag, or a classification when `classification` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Natural key (slug), such as `pii.email`.
    pub key: String,
    /// Display name.
    pub label: String,
    /// What the tag means.
    pub definition: Option<String>,
    /// The broader tag (key).
    pub broader: Option<String>,
    /// Set for classification tags.
    pub classification: Option<Classification>,
}

impl Entity for Tag {
    const KIND: &'static str = "tag";
    fn iri(&self, scheme: &IriScheme) -> NamedNode {
        scheme.entity(Kind::Tag, &self.key)
    }
    fn write(&self, scheme: &IriScheme, out: &mut Vec<Triple>) {
        let class = if self.classification.is_some() {
            gg::CLASSIFICATION
        } else {
            gg::TAG
        };
        let mut w = W::new(self.iri(scheme), class, out);
        w.str(skos::PREF_LABEL, &self.label);
        w.opt_str(skos::DEFINITION, self.definition.as_deref());
        if let Some(b) = &self.broader {
            w.iri(skos::BROADER, scheme.entity(Kind::Tag, b));
        }
        if let Some(c) = &self.classification {
            if let Some(pd) = &c.personal_data_category {
                w.iri(
                    gg::PERSONAL_DATA_CATEGORY,
                    NamedNode::new_unchecked(pd.clone()),
                );
            }
            w.opt_bool(gg::SPECIAL_CATEGORY, Some(c.special_category));
            w.opt_str(gg::SENSITIVITY, c.sensitivity.as_deref());
        }
    }
    fn read(source: &impl TripleRead, scheme: &IriScheme, iri: NamedNodeRef<'_>) -> Result<Self> {
        let r = R::load(
            source,
            iri.into(),
            &[
                rdf::TYPE,
                skos::PREF_LABEL,
                skos::DEFINITION,
                skos::BROADER,
                gg::PERSONAL_DATA_CATEGORY,
                gg::SPECIAL_CATEGORY,
                gg::SENSITIVITY,
            ],
        )?;
        if !r.has_type(gg::CLASSIFICATION) {
            r.require_type(gg::TAG, Self::KIND)?;
        }
        let classification = if r.has_type(gg::CLASSIFICATION) {
            Some(Classification {
                personal_data_category: r
                    .opt_iri(gg::PERSONAL_DATA_CATEGORY)?
                    .map(NamedNode::into_string),
                special_category: r.parsed(gg::SPECIAL_CATEGORY)?.unwrap_or(false),
                sensitivity: r.opt_str(gg::SENSITIVITY)?,
            })
        } else {
            None
        };
        Ok(Self {
            key: scheme.key_of(Kind::Tag, iri.as_str(), "tag")?,
            label: r.str(skos::PREF_LABEL)?,
            definition: r.opt_str(skos::DEFINITION)?,
            broader: r.opt_key(scheme, Kind::Tag, skos::BROADER)?,
            classification,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Quality, policy, lineage, products

/// A dataset or a column: what a rule or policy applies to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AssetRef {
    /// A dataset.
    Dataset(DatasetKey),
    /// A column.
    Column(ColumnKey),
}

impl AssetRef {
    /// The asset's IRI.
    pub fn iri(&self, scheme: &IriScheme) -> NamedNode {
        match self {
            Self::Dataset(k) => scheme.dataset(k),
            Self::Column(k) => scheme.column(k),
        }
    }

    fn parse(scheme: &IriScheme, iri: &str, field: &str) -> Result<Self> {
        match scheme.parse(iri) {
            Some(Parsed::Dataset(k)) => Ok(Self::Dataset(k)),
            Some(Parsed::Column(k)) => Ok(Self::Column(k)),
            _ => Err(Error::invalid(
                field,
                format!("<{iri}> is neither a dataset nor a column"),
            )),
        }
    }
}

/// A data-quality rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityRule {
    /// Natural key (slug).
    pub key: String,
    /// Display name.
    pub title: String,
    /// Free text.
    pub description: Option<String>,
    /// `not_null`, `unique`, `accepted_values`, `range`, `regex`, `row_count`, `freshness`,
    /// `referential` or `custom_sql`.
    pub rule_type: String,
    /// What the rule checks.
    pub applies_to: Vec<AssetRef>,
    /// Rule parameters as a JSON document.
    pub parameters: Option<String>,
    /// A SQL expression, for `custom_sql`.
    pub expression: Option<String>,
    /// The DQV dimension's local name in our namespace, such as `Completeness`.
    pub dimension: Option<String>,
    /// `error` or `warn`.
    pub severity: String,
    /// Owner (agent key).
    pub owner: Option<String>,
}

impl Entity for QualityRule {
    const KIND: &'static str = "quality rule";
    fn iri(&self, scheme: &IriScheme) -> NamedNode {
        scheme.entity(Kind::Rule, &self.key)
    }
    fn write(&self, scheme: &IriScheme, out: &mut Vec<Triple>) {
        let mut w = W::new(self.iri(scheme), gg::QUALITY_RULE, out);
        w.str(dct::TITLE, &self.title);
        w.opt_str(dct::DESCRIPTION, self.description.as_deref());
        w.str(gg::RULE_TYPE, &self.rule_type);
        w.iris(
            gg::APPLIES_TO,
            self.applies_to.iter().map(|a| a.iri(scheme)),
        );
        w.opt_str(gg::PARAMETERS, self.parameters.as_deref());
        w.opt_str(gg::EXPRESSION, self.expression.as_deref());
        if let Some(d) = &self.dimension {
            w.iri(
                dqv::IN_DIMENSION,
                NamedNode::new_unchecked(format!("{}{d}", gg::NS)),
            );
        }
        w.str(gg::SEVERITY, &self.severity);
        if let Some(o) = &self.owner {
            w.iri(gg::OWNER, scheme.entity(Kind::Agent, o));
        }
    }
    fn read(source: &impl TripleRead, scheme: &IriScheme, iri: NamedNodeRef<'_>) -> Result<Self> {
        let r = R::load(
            source,
            iri.into(),
            &[
                rdf::TYPE,
                dct::TITLE,
                dct::DESCRIPTION,
                gg::RULE_TYPE,
                gg::APPLIES_TO,
                gg::PARAMETERS,
                gg::EXPRESSION,
                dqv::IN_DIMENSION,
                gg::SEVERITY,
                gg::OWNER,
            ],
        )?;
        r.require_type(gg::QUALITY_RULE, Self::KIND)?;
        let field = r.field(gg::APPLIES_TO);
        let mut applies_to = r
            .iris(gg::APPLIES_TO)?
            .iter()
            .map(|n| AssetRef::parse(scheme, n.as_str(), &field))
            .collect::<Result<Vec<_>>>()?;
        applies_to.sort();
        let dimension = r
            .opt_iri(dqv::IN_DIMENSION)?
            .map(|d| {
                d.as_str()
                    .strip_prefix(gg::NS)
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        Error::invalid(r.field(dqv::IN_DIMENSION), "is not a gg: dimension")
                    })
            })
            .transpose()?;
        Ok(Self {
            key: scheme.key_of(Kind::Rule, iri.as_str(), "rule")?,
            title: r.str(dct::TITLE)?,
            description: r.opt_str(dct::DESCRIPTION)?,
            rule_type: r.str(gg::RULE_TYPE)?,
            applies_to,
            parameters: r.opt_str(gg::PARAMETERS)?,
            expression: r.opt_str(gg::EXPRESSION)?,
            dimension,
            severity: r.str(gg::SEVERITY)?,
            owner: r.opt_key(scheme, Kind::Agent, gg::OWNER)?,
        })
    }
}

/// Where a policy comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyScope {
    /// Set by the central governance office; wins over domain policies.
    Central,
    /// Set by a domain for its own data.
    Domain,
}

/// Whether an ODRL rule permits, prohibits or obliges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RuleKind {
    /// `odrl:permission`.
    Permission,
    /// `odrl:prohibition`.
    Prohibition,
    /// `odrl:obligation`.
    Obligation,
}

impl RuleKind {
    fn property(self) -> NamedNodeRef<'static> {
        match self {
            Self::Permission => odrl::PERMISSION,
            Self::Prohibition => odrl::PROHIBITION,
            Self::Obligation => odrl::OBLIGATION,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Self::Permission => "permission",
            Self::Prohibition => "prohibition",
            Self::Obligation => "obligation",
        }
    }
}

/// An ODRL constraint: `left operator right`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// Left operand IRI, such as `odrl:purpose` or `odrl:elapsedTime`.
    pub left: NamedNode,
    /// Operator IRI, such as `odrl:eq` or `odrl:lteq`.
    pub operator: NamedNode,
    /// Right operand: an IRI or a literal such as `"P3Y"^^xsd:duration`.
    pub right: RdfTerm,
}

/// A duty attached to a rule, such as masking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duty {
    /// Action IRI, such as `odrl:anonymize`.
    pub action: NamedNode,
    /// `redact`, `hash`, `partial` or `tokenize`, for masking duties.
    pub masking_method: Option<String>,
}

/// One permission, prohibition or obligation of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    /// What kind of rule.
    pub kind: RuleKind,
    /// Action IRI, such as `odrl:read`.
    pub action: NamedNode,
    /// Assets or tags the rule targets.
    pub targets: Vec<NamedNode>,
    /// Roles or parties the rule applies to.
    pub assignees: Vec<NamedNode>,
    /// Constraints, all of which must hold.
    pub constraints: Vec<Constraint>,
    /// Duties.
    pub duties: Vec<Duty>,
    /// A SQL condition on the rows a permission grants (`gg:rowFilter`).
    pub row_filter: Option<String>,
}

/// An ODRL policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Natural key (slug).
    pub key: String,
    /// Display name.
    pub title: String,
    /// Free text.
    pub description: Option<String>,
    /// Central or domain.
    pub scope: PolicyScope,
    /// The domain, for domain policies (key).
    pub domain: Option<String>,
    /// Version number.
    pub version: u32,
    /// `draft`, `proposed`, `approved` or `retired`.
    pub status: String,
    /// The rules, in order.
    pub rules: Vec<PolicyRule>,
}

impl Entity for Policy {
    const KIND: &'static str = "policy";
    fn iri(&self, scheme: &IriScheme) -> NamedNode {
        scheme.entity(Kind::Policy, &self.key)
    }
    fn write(&self, scheme: &IriScheme, out: &mut Vec<Triple>) {
        let iri = self.iri(scheme);
        let mut w = W::new(iri.clone(), odrl::SET, out);
        w.typed(odrl::UID, iri.as_str(), xsd::ANY_URI);
        w.str(dct::TITLE, &self.title);
        w.opt_str(dct::DESCRIPTION, self.description.as_deref());
        w.iri(
            gg::POLICY_SCOPE,
            match self.scope {
                PolicyScope::Central => gg::CENTRAL,
                PolicyScope::Domain => gg::DOMAIN_LOCAL,
            }
            .into_owned(),
        );
        if let Some(d) = &self.domain {
            w.iri(gg::DOMAIN_PROP, scheme.entity(Kind::Domain, d));
        }
        w.typed(gg::VERSION, self.version, xsd::INTEGER);
        w.str(gg::POLICY_STATUS, &self.status);
        let mut counters = [0usize; 3];
        for rule in &self.rules {
            let n = &mut counters[rule.kind as usize];
            *n += 1;
            let rule_iri =
                NamedNode::new_unchecked(format!("{}#{}-{n}", iri.as_str(), rule.kind.name()));
            w.iri(rule.kind.property(), rule_iri.clone());
            let mut rw = W {
                subject: rule_iri.clone().into(),
                out: &mut *w.out,
            };
            rw.iri(odrl::ACTION, rule.action.clone());
            rw.iris(odrl::TARGET, rule.targets.iter().cloned());
            rw.iris(odrl::ASSIGNEE, rule.assignees.iter().cloned());
            for (i, c) in rule.constraints.iter().enumerate() {
                let c_iri =
                    NamedNode::new_unchecked(format!("{}-constraint-{}", rule_iri.as_str(), i + 1));
                rw.iri(odrl::CONSTRAINT, c_iri.clone());
                let mut cw = W {
                    subject: c_iri.into(),
                    out: &mut *rw.out,
                };
                cw.iri(odrl::LEFT_OPERAND, c.left.clone());
                cw.iri(odrl::OPERATOR, c.operator.clone());
                cw.term(odrl::RIGHT_OPERAND, c.right.clone());
            }
            for (i, d) in rule.duties.iter().enumerate() {
                let d_iri =
                    NamedNode::new_unchecked(format!("{}-duty-{}", rule_iri.as_str(), i + 1));
                rw.iri(odrl::DUTY, d_iri.clone());
                let mut dw = W {
                    subject: d_iri.into(),
                    out: &mut *rw.out,
                };
                dw.iri(odrl::ACTION, d.action.clone());
                dw.opt_str(gg::MASKING_METHOD, d.masking_method.as_deref());
            }
            rw.opt_str(gg::ROW_FILTER, rule.row_filter.as_deref());
        }
    }
    fn read(source: &impl TripleRead, scheme: &IriScheme, iri: NamedNodeRef<'_>) -> Result<Self> {
        let r = R::load(
            source,
            iri.into(),
            &[
                rdf::TYPE,
                dct::TITLE,
                dct::DESCRIPTION,
                gg::POLICY_SCOPE,
                gg::DOMAIN_PROP,
                gg::VERSION,
                gg::POLICY_STATUS,
                odrl::PERMISSION,
                odrl::PROHIBITION,
                odrl::OBLIGATION,
            ],
        )?;
        if !r.has_type(odrl::POLICY) {
            r.require_type(odrl::SET, Self::KIND)?;
        }
        let scope = match r.opt_iri(gg::POLICY_SCOPE)? {
            Some(s) if s.as_ref() == gg::CENTRAL => PolicyScope::Central,
            Some(s) if s.as_ref() == gg::DOMAIN_LOCAL => PolicyScope::Domain,
            Some(s) => {
                return Err(Error::invalid(
                    r.field(gg::POLICY_SCOPE),
                    format!("unknown scope {s}"),
                ));
            }
            None => PolicyScope::Domain,
        };
        let mut rules = Vec::new();
        for kind in [
            RuleKind::Permission,
            RuleKind::Prohibition,
            RuleKind::Obligation,
        ] {
            for node in r.all(kind.property()) {
                let subject = term_subject(node, &r.field(kind.property()))?;
                rules.push(read_rule(source, kind, subject.as_ref())?);
            }
        }
        rules.sort_by_key(|r| r.kind);
        Ok(Self {
            key: scheme.key_of(Kind::Policy, iri.as_str(), "policy")?,
            title: r.str(dct::TITLE)?,
            description: r.opt_str(dct::DESCRIPTION)?,
            scope,
            domain: r.opt_key(scheme, Kind::Domain, gg::DOMAIN_PROP)?,
            version: r.parsed(gg::VERSION)?.unwrap_or(1),
            status: r
                .opt_str(gg::POLICY_STATUS)?
                .unwrap_or_else(|| "approved".to_owned()),
            rules,
        })
    }
}

fn term_subject(term: &RdfTerm, field: &str) -> Result<NamedOrBlankNode> {
    match term {
        RdfTerm::NamedNode(n) => Ok(n.clone().into()),
        RdfTerm::BlankNode(b) => Ok(b.clone().into()),
        RdfTerm::Literal(_) => Err(Error::invalid(field, "expected a node, found a literal")),
        #[allow(unreachable_patterns)]
        _ => Err(Error::invalid(field, "expected a node")),
    }
}

fn read_rule(
    source: &impl TripleRead,
    kind: RuleKind,
    subject: NamedOrBlankNodeRef<'_>,
) -> Result<PolicyRule> {
    let r = R::load(
        source,
        subject,
        &[
            odrl::ACTION,
            odrl::TARGET,
            odrl::ASSIGNEE,
            odrl::CONSTRAINT,
            odrl::DUTY,
            gg::ROW_FILTER,
        ],
    )?;
    let action = r
        .iris(odrl::ACTION)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::invalid(r.field(odrl::ACTION), "is required"))?;
    let mut constraints = Vec::new();
    for c in r.all(odrl::CONSTRAINT) {
        let cs = term_subject(c, &r.field(odrl::CONSTRAINT))?;
        let cr = R::load(
            source,
            cs.as_ref(),
            &[odrl::LEFT_OPERAND, odrl::OPERATOR, odrl::RIGHT_OPERAND],
        )?;
        let right = cr
            .all(odrl::RIGHT_OPERAND)
            .first()
            .cloned()
            .ok_or_else(|| Error::invalid(cr.field(odrl::RIGHT_OPERAND), "is required"))?;
        constraints.push(Constraint {
            left: cr
                .opt_iri(odrl::LEFT_OPERAND)?
                .ok_or_else(|| Error::invalid(cr.field(odrl::LEFT_OPERAND), "is required"))?,
            operator: cr
                .opt_iri(odrl::OPERATOR)?
                .ok_or_else(|| Error::invalid(cr.field(odrl::OPERATOR), "is required"))?,
            right,
        });
    }
    let mut duties = Vec::new();
    for d in r.all(odrl::DUTY) {
        let ds = term_subject(d, &r.field(odrl::DUTY))?;
        let dr = R::load(source, ds.as_ref(), &[odrl::ACTION, gg::MASKING_METHOD])?;
        duties.push(Duty {
            action: dr
                .iris(odrl::ACTION)?
                .into_iter()
                .next()
                .ok_or_else(|| Error::invalid(dr.field(odrl::ACTION), "is required"))?,
            masking_method: dr.opt_str(gg::MASKING_METHOD)?,
        });
    }
    Ok(PolicyRule {
        kind,
        action,
        targets: r.iris(odrl::TARGET)?,
        assignees: r.iris(odrl::ASSIGNEE)?,
        constraints,
        duties,
        row_filter: r.opt_str(gg::ROW_FILTER)?,
    })
}

pub use govgraph_lineage::{TransformationSubtype, TransformationType};

fn gg_individual(local: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{}{local}", gg::NS))
}

/// A column-level lineage edge: `target` is derived from `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineageEdge {
    /// The derived column.
    pub target: ColumnKey,
    /// The column it derives from.
    pub source: ColumnKey,
    /// DIRECT or INDIRECT.
    pub transformation: TransformationType,
    /// The subtype.
    pub subtype: TransformationSubtype,
    /// Free text, such as the expression.
    pub description: Option<String>,
    /// Whether the transformation masks the values.
    pub masking: bool,
    /// The job that performs it (key).
    pub job: Option<String>,
}

impl LineageEdge {
    /// The edge node's IRI.
    pub fn edge_iri(&self, scheme: &IriScheme) -> NamedNode {
        scheme.lineage(
            scheme.column(&self.target).as_str(),
            scheme.column(&self.source).as_str(),
            self.transformation.as_str(),
            self.subtype.as_str(),
        )
    }
}

impl Entity for LineageEdge {
    const KIND: &'static str = "lineage edge";
    fn iri(&self, scheme: &IriScheme) -> NamedNode {
        self.edge_iri(scheme)
    }
    fn write(&self, scheme: &IriScheme, out: &mut Vec<Triple>) {
        let edge = self.edge_iri(scheme);
        let target = scheme.column(&self.target);
        let source = scheme.column(&self.source);
        out.push(Triple::new(
            target.clone(),
            prov::QUALIFIED_DERIVATION.into_owned(),
            edge.clone(),
        ));
        if self.transformation == TransformationType::Direct {
            out.push(Triple::new(
                target,
                prov::WAS_DERIVED_FROM.into_owned(),
                source.clone(),
            ));
        }
        let mut w = W::new(edge, gg::COLUMN_DERIVATION, out);
        w.iri(prov::ENTITY, source);
        w.iri(
            gg::TRANSFORMATION_TYPE,
            gg_individual(self.transformation.as_str()),
        );
        w.iri(
            gg::TRANSFORMATION_SUBTYPE,
            gg_individual(self.subtype.as_str()),
        );
        w.opt_str(gg::TRANSFORMATION_DESCRIPTION, self.description.as_deref());
        w.opt_bool(gg::MASKING, Some(self.masking));
        if let Some(job) = &self.job {
            w.iri(prov::HAD_ACTIVITY, scheme.entity(Kind::Job, job));
        }
    }
    fn read(source: &impl TripleRead, scheme: &IriScheme, iri: NamedNodeRef<'_>) -> Result<Self> {
        let r = R::load(
            source,
            iri.into(),
            &[
                rdf::TYPE,
                prov::ENTITY,
                gg::TRANSFORMATION_TYPE,
                gg::TRANSFORMATION_SUBTYPE,
                gg::TRANSFORMATION_DESCRIPTION,
                gg::MASKING,
                prov::HAD_ACTIVITY,
            ],
        )?;
        r.require_type(gg::COLUMN_DERIVATION, Self::KIND)?;
        let local = |p: NamedNodeRef<'_>| -> Result<String> {
            let n = r
                .opt_iri(p)?
                .ok_or_else(|| Error::invalid(r.field(p), "is required"))?;
            n.as_str()
                .strip_prefix(gg::NS)
                .map(str::to_owned)
                .ok_or_else(|| Error::invalid(r.field(p), format!("{n} is not a gg: individual")))
        };
        let t = local(gg::TRANSFORMATION_TYPE)?;
        let st = local(gg::TRANSFORMATION_SUBTYPE)?;
        let entity = r
            .opt_iri(prov::ENTITY)?
            .ok_or_else(|| Error::invalid(r.field(prov::ENTITY), "is required"))?;
        let targets = source.subjects(prov::QUALIFIED_DERIVATION, iri.into())?;
        let field = format!("^{} of {iri}", prov::QUALIFIED_DERIVATION);
        let target = match targets.as_slice() {
            [NamedOrBlankNode::NamedNode(n)] => n.clone(),
            _ => return Err(Error::invalid(field, "expected exactly one derived column")),
        };
        Ok(Self {
            target: scheme.column_key_of(target.as_str(), &field)?,
            source: scheme.column_key_of(entity.as_str(), &r.field(prov::ENTITY))?,
            transformation: TransformationType::parse(&t).ok_or_else(|| {
                Error::invalid(
                    r.field(gg::TRANSFORMATION_TYPE),
                    format!("unknown type {t}"),
                )
            })?,
            subtype: TransformationSubtype::parse(&st).ok_or_else(|| {
                Error::invalid(
                    r.field(gg::TRANSFORMATION_SUBTYPE),
                    format!("unknown subtype {st}"),
                )
            })?,
            description: r.opt_str(gg::TRANSFORMATION_DESCRIPTION)?,
            masking: r.parsed(gg::MASKING)?.unwrap_or(false),
            job: r.opt_key(scheme, Kind::Job, prov::HAD_ACTIVITY)?,
        })
    }
}

/// A data product: a governed, published dataset with ports, owner and SLA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataProduct {
    /// Natural key (slug).
    pub key: String,
    /// Display name.
    pub title: String,
    /// Free text.
    pub description: Option<String>,
    /// Owner (agent key).
    pub owner: Option<String>,
    /// Domain (key).
    pub domain: Option<String>,
    /// What it is for.
    pub purpose: Option<String>,
    /// Lifecycle status, such as `draft` or `published`.
    pub lifecycle_status: Option<String>,
    /// Input datasets.
    pub inputs: Vec<DatasetKey>,
    /// Output datasets.
    pub outputs: Vec<DatasetKey>,
    /// Semantic version.
    pub version: String,
    /// Service-level agreement, in words.
    pub sla: Option<String>,
}

impl Entity for DataProduct {
    const KIND: &'static str = "data product";
    fn iri(&self, scheme: &IriScheme) -> NamedNode {
        scheme.entity(Kind::Product, &self.key)
    }
    fn write(&self, scheme: &IriScheme, out: &mut Vec<Triple>) {
        let mut w = W::new(self.iri(scheme), gg::DATA_PRODUCT, out);
        w.str(dct::TITLE, &self.title);
        w.opt_str(dct::DESCRIPTION, self.description.as_deref());
        if let Some(o) = &self.owner {
            w.iri(dprod::DATA_PRODUCT_OWNER, scheme.entity(Kind::Agent, o));
        }
        if let Some(d) = &self.domain {
            w.iri(gg::DOMAIN_PROP, scheme.entity(Kind::Domain, d));
        }
        w.opt_str(dprod::PURPOSE, self.purpose.as_deref());
        w.opt_str(dprod::LIFECYCLE_STATUS, self.lifecycle_status.as_deref());
        w.iris(
            dprod::INPUT_DATASET,
            self.inputs.iter().map(|k| scheme.dataset(k)),
        );
        w.iris(
            dprod::OUTPUT_DATASET,
            self.outputs.iter().map(|k| scheme.dataset(k)),
        );
        w.str(gg::VERSION, &self.version);
        w.opt_str(gg::SLA, self.sla.as_deref());
    }
    fn read(source: &impl TripleRead, scheme: &IriScheme, iri: NamedNodeRef<'_>) -> Result<Self> {
        let r = R::load(
            source,
            iri.into(),
            &[
                rdf::TYPE,
                dct::TITLE,
                dct::DESCRIPTION,
                dprod::DATA_PRODUCT_OWNER,
                gg::DOMAIN_PROP,
                dprod::PURPOSE,
                dprod::LIFECYCLE_STATUS,
                dprod::INPUT_DATASET,
                dprod::OUTPUT_DATASET,
                gg::VERSION,
                gg::SLA,
            ],
        )?;
        r.require_type(gg::DATA_PRODUCT, Self::KIND)?;
        let datasets = |p: NamedNodeRef<'_>| -> Result<Vec<DatasetKey>> {
            let field = r.field(p);
            let mut v = r
                .iris(p)?
                .iter()
                .map(|n| scheme.dataset_key_of(n.as_str(), &field))
                .collect::<Result<Vec<_>>>()?;
            v.sort();
            Ok(v)
        };
        Ok(Self {
            key: scheme.key_of(Kind::Product, iri.as_str(), "product")?,
            title: r.str(dct::TITLE)?,
            description: r.opt_str(dct::DESCRIPTION)?,
            owner: r.opt_key(scheme, Kind::Agent, dprod::DATA_PRODUCT_OWNER)?,
            domain: r.opt_key(scheme, Kind::Domain, gg::DOMAIN_PROP)?,
            purpose: r.opt_str(dprod::PURPOSE)?,
            lifecycle_status: r.opt_str(dprod::LIFECYCLE_STATUS)?,
            inputs: datasets(dprod::INPUT_DATASET)?,
            outputs: datasets(dprod::OUTPUT_DATASET)?,
            version: r.str(gg::VERSION)?,
            sla: r.opt_str(gg::SLA)?,
        })
    }
}
