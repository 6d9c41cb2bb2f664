//! Namespaces and instance-IRI helpers from the govgraph vocabulary contract.

/// Default instance base.
pub const BASE: &str = "https://id.govgraph.dev/";

/// Our namespace.
pub const GG: &str = "https://govgraph.dev/ns#";
/// RDF.
pub const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
/// XML Schema datatypes.
pub const XSD: &str = "http://www.w3.org/2001/XMLSchema#";
/// DCAT 3.
pub const DCAT: &str = "http://www.w3.org/ns/dcat#";
/// Dublin Core terms.
pub const DCT: &str = "http://purl.org/dc/terms/";
/// PROV-O.
pub const PROV: &str = "http://www.w3.org/ns/prov#";
/// SKOS.
pub const SKOS: &str = "http://www.w3.org/2004/02/skos/core#";
/// CSVW.
pub const CSVW: &str = "http://www.w3.org/ns/csvw#";
/// FOAF.
pub const FOAF: &str = "http://xmlns.com/foaf/0.1/";
/// W3C ORG.
pub const ORG: &str = "http://www.w3.org/ns/org#";

/// Turtle `@prefix` lines shared by every demo file (the full contract list).
pub const TURTLE_PREFIXES: &[(&str, &str)] = &[
    ("rdf", RDF),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("xsd", XSD),
    ("owl", "http://www.w3.org/2002/07/owl#"),
    ("gg", GG),
    ("dcat", DCAT),
    ("dct", DCT),
    ("prov", PROV),
    ("skos", SKOS),
    ("dqv", "http://www.w3.org/ns/dqv#"),
    ("odrl", "http://www.w3.org/ns/odrl/2/"),
    ("dpv", "https://w3id.org/dpv#"),
    ("pd", "https://w3id.org/dpv/pd#"),
    ("eu-gdpr", "https://w3id.org/dpv/legal/eu/gdpr#"),
    ("csvw", CSVW),
    ("org", ORG),
    ("foaf", FOAF),
];

/// A contract slug: lowercase `[a-z0-9._-]`, every other character becomes `-`.
pub fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Instance IRIs under a base (which must end with `/`).
#[derive(Debug, Clone)]
pub struct Iris {
    base: String,
}

impl Default for Iris {
    fn default() -> Self {
        Self::new(BASE)
    }
}

impl Iris {
    /// IRIs under `base`; a missing trailing `/` is added.
    pub fn new(base: &str) -> Self {
        let mut base = base.to_string();
        if !base.ends_with('/') && !base.ends_with('#') {
            base.push('/');
        }
        Self { base }
    }

    /// The base.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `{base}{kind}/{slug}`.
    pub fn of(&self, kind: &str, name: &str) -> String {
        format!("{}{}/{}", self.base, kind, slug(name))
    }

    /// `{base}system/{slug}`.
    pub fn system(&self, name: &str) -> String {
        self.of("system", name)
    }

    /// `{base}dataset/{system}/{name}`.
    pub fn dataset(&self, system: &str, name: &str) -> String {
        format!("{}dataset/{}/{}", self.base, slug(system), slug(name))
    }

    /// `{dataset}/column/{column}`.
    pub fn column(dataset_iri: &str, column: &str) -> String {
        format!("{}/column/{}", dataset_iri, slug(column))
    }

    /// `{base}lineage/{16 hex}`.
    pub fn lineage(&self, id: u64) -> String {
        format!("{}lineage/{:016x}", self.base, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_contract() {
        assert_eq!(slug("Bronze.Orders"), "bronze.orders");
        assert_eq!(slug("Gross Revenue"), "gross-revenue");
        assert_eq!(slug("pii.email"), "pii.email");
        let i = Iris::default();
        assert_eq!(
            Iris::column(&i.dataset("shop", "bronze.orders"), "order_id"),
            "https://id.govgraph.dev/dataset/shop/bronze.orders/column/order_id"
        );
    }
}
