//! Deterministic IRIs for everything govgraph mints.
//!
//! Every entity gets its IRI from its kind and its natural key, under a configurable base, so
//! ingesting the same source twice yields the same IRIs and nothing is duplicated.

use std::fmt;

use oxigraph::model::NamedNode;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The default base for minted IRIs.
pub const DEFAULT_BASE: &str = "https://id.govgraph.dev/";

/// The kinds of entity that have minted IRIs, with the path segment each uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A source system (`system/{slug}`).
    System,
    /// A dataset (`dataset/{system}/{name}`).
    Dataset,
    /// A column (`dataset/{system}/{name}/column/{column}`).
    Column,
    /// A glossary (`glossary/{slug}`).
    Glossary,
    /// A glossary term (`term/{slug}`).
    Term,
    /// A domain (`domain/{slug}`).
    Domain,
    /// A person or a team (`agent/{slug}`).
    Agent,
    /// An organisation (`org/{slug}`).
    Organization,
    /// A tag or classification (`tag/{slug}`).
    Tag,
    /// A quality rule (`rule/{slug}`).
    Rule,
    /// A rule run (`run/{slug}`).
    Run,
    /// A policy (`policy/{slug}`).
    Policy,
    /// A processing activity (`activity/{slug}`).
    Activity,
    /// A job (`job/{slug}`).
    Job,
    /// A data product (`product/{slug}`).
    Product,
    /// A column-lineage edge (`lineage/{hash}`).
    Lineage,
}

impl Kind {
    const ALL: [Kind; 16] = [
        Kind::System,
        Kind::Dataset,
        Kind::Column,
        Kind::Glossary,
        Kind::Term,
        Kind::Domain,
        Kind::Agent,
        Kind::Organization,
        Kind::Tag,
        Kind::Rule,
        Kind::Run,
        Kind::Policy,
        Kind::Activity,
        Kind::Job,
        Kind::Product,
        Kind::Lineage,
    ];

    /// The path segment of this kind.
    pub fn segment(self) -> &'static str {
        match self {
            Kind::System => "system",
            Kind::Dataset | Kind::Column => "dataset",
            Kind::Glossary => "glossary",
            Kind::Term => "term",
            Kind::Domain => "domain",
            Kind::Agent => "agent",
            Kind::Organization => "org",
            Kind::Tag => "tag",
            Kind::Rule => "rule",
            Kind::Run => "run",
            Kind::Policy => "policy",
            Kind::Activity => "activity",
            Kind::Job => "job",
            Kind::Product => "product",
            Kind::Lineage => "lineage",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Column => "column",
            other => other.segment(),
        })
    }
}

/// Turns any name into a slug: lowercase ASCII letters, digits, `.`, `_` and `-`.
///
/// Other characters become `-`, runs of `-` collapse, and leading or trailing `-` go.
/// An empty result becomes `_`.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "_".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// A dataset's natural key: the system it lives in and its qualified name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatasetKey {
    /// The system's slug.
    pub system: String,
    /// The qualified name, such as `bronze.orders`.
    pub name: String,
}

impl DatasetKey {
    /// A key from a system and a qualified name, both slugged.
    pub fn new(system: &str, name: &str) -> Self {
        Self {
            system: slug(system),
            name: slug(name),
        }
    }
}

impl fmt::Display for DatasetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.system, self.name)
    }
}

/// A column's natural key: its dataset and its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ColumnKey {
    /// The dataset.
    pub dataset: DatasetKey,
    /// The column name, slugged.
    pub name: String,
}

impl ColumnKey {
    /// A key from a dataset and a column name.
    pub fn new(dataset: DatasetKey, name: &str) -> Self {
        Self {
            dataset,
            name: slug(name),
        }
    }
}

/// What an IRI minted by an [`IriScheme`] names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A dataset.
    Dataset(DatasetKey),
    /// A column.
    Column(ColumnKey),
    /// Any other kind, with its slug.
    Other(Kind, String),
}

/// Mints and parses the IRIs of one deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IriScheme {
    base: String,
}

impl Default for IriScheme {
    fn default() -> Self {
        Self {
            base: DEFAULT_BASE.to_owned(),
        }
    }
}

impl IriScheme {
    /// A scheme under `base`, which must be an absolute IRI; a trailing `/` is added if missing.
    pub fn new(base: &str) -> Result<Self> {
        let mut base = base.trim().to_owned();
        if !base.ends_with('/') && !base.ends_with('#') {
            base.push('/');
        }
        NamedNode::new(base.clone()).map_err(|e| Error::invalid("base IRI", e.to_string()))?;
        Ok(Self { base })
    }

    /// The base IRI, ending in `/` or `#`.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn node(&self, path: String) -> NamedNode {
        NamedNode::new_unchecked(format!("{}{path}", self.base))
    }

    /// The IRI of an entity of `kind` with the given name (slugged). Not for datasets or columns.
    pub fn entity(&self, kind: Kind, name: &str) -> NamedNode {
        self.node(format!("{}/{}", kind.segment(), slug(name)))
    }

    /// The IRI of a dataset.
    pub fn dataset(&self, key: &DatasetKey) -> NamedNode {
        self.node(format!("dataset/{}/{}", key.system, key.name))
    }

    /// The IRI of a column.
    pub fn column(&self, key: &ColumnKey) -> NamedNode {
        self.node(format!(
            "dataset/{}/{}/column/{}",
            key.dataset.system, key.dataset.name, key.name
        ))
    }

    /// The IRI of a column-lineage edge, a hash of its ends and its transformation.
    pub fn lineage(&self, target: &str, source: &str, kind: &str, subtype: &str) -> NamedNode {
        let mut hasher = Sha256::new();
        for part in [target, source, kind, subtype] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        let digest = hasher.finalize();
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        self.node(format!("lineage/{hex}"))
    }

    /// Says what a minted IRI names, or `None` for an IRI outside this scheme.
    pub fn parse(&self, iri: &str) -> Option<Parsed> {
        let rest = iri.strip_prefix(&self.base)?;
        let (segment, key) = rest.split_once('/')?;
        if segment == "dataset" {
            let mut parts = key.split('/');
            let system = parts.next()?.to_owned();
            let name = parts.next()?.to_owned();
            let dataset = DatasetKey { system, name };
            return match (parts.next(), parts.next(), parts.next()) {
                (None, _, _) => Some(Parsed::Dataset(dataset)),
                (Some("column"), Some(column), None) => Some(Parsed::Column(ColumnKey {
                    dataset,
                    name: column.to_owned(),
                })),
                _ => None,
            };
        }
        if key.is_empty() || key.contains('/') {
            return None;
        }
        let kind = Kind::ALL
            .into_iter()
            .find(|k| !matches!(k, Kind::Dataset | Kind::Column) && k.segment() == segment)?;
        Some(Parsed::Other(kind, key.to_owned()))
    }

    /// The slug of a minted IRI of the given kind, or an error naming the field.
    pub fn key_of(&self, kind: Kind, iri: &str, field: &str) -> Result<String> {
        match self.parse(iri) {
            Some(Parsed::Other(k, key)) if k == kind => Ok(key),
            _ => Err(Error::invalid(
                field,
                format!("<{iri}> is not a {kind} IRI under {}", self.base),
            )),
        }
    }

    /// The key of a minted dataset IRI, or an error naming the field.
    pub fn dataset_key_of(&self, iri: &str, field: &str) -> Result<DatasetKey> {
        match self.parse(iri) {
            Some(Parsed::Dataset(key)) => Ok(key),
            _ => Err(Error::invalid(
                field,
                format!("<{iri}> is not a dataset IRI under {}", self.base),
            )),
        }
    }

    /// The key of a minted column IRI, or an error naming the field.
    pub fn column_key_of(&self, iri: &str, field: &str) -> Result<ColumnKey> {
        match self.parse(iri) {
            Some(Parsed::Column(key)) => Ok(key),
            _ => Err(Error::invalid(
                field,
                format!("<{iri}> is not a column IRI under {}", self.base),
            )),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_stable_and_safe() {
        assert_eq!(slug("Bronze.Orders"), "bronze.orders");
        assert_eq!(
            slug("  Customer Lifetime Value!"),
            "customer-lifetime-value"
        );
        assert_eq!(slug("a//b"), "a-b");
        assert_eq!(slug("***"), "_");
        assert_eq!(slug("order_id"), "order_id");
    }

    #[test]
    fn minted_iris_parse_back() {
        let s = IriScheme::new("https://x.test/id").unwrap();
        let ds = DatasetKey::new("shop", "bronze.orders");
        assert_eq!(
            s.dataset(&ds).as_str(),
            "https://x.test/id/dataset/shop/bronze.orders"
        );
        assert_eq!(
            s.parse(s.dataset(&ds).as_str()),
            Some(Parsed::Dataset(ds.clone()))
        );
        let col = ColumnKey::new(ds, "Order ID");
        assert_eq!(
            s.parse(s.column(&col).as_str()),
            Some(Parsed::Column(col.clone()))
        );
        let term = s.entity(Kind::Term, "Net Revenue");
        assert_eq!(
            s.parse(term.as_str()),
            Some(Parsed::Other(Kind::Term, "net-revenue".into()))
        );
        assert_eq!(s.parse("https://elsewhere.test/term/x"), None);
        assert!(s.key_of(Kind::Domain, term.as_str(), "domain").is_err());
    }

    #[test]
    fn lineage_iris_are_deterministic() {
        let s = IriScheme::default();
        let a = s.lineage("t", "s", "DIRECT", "IDENTITY");
        assert_eq!(a, s.lineage("t", "s", "DIRECT", "IDENTITY"));
        assert_ne!(a, s.lineage("t", "s", "DIRECT", "AGGREGATION"));
    }
}
