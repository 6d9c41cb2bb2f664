//! Entity linking: the catalog's names, labels and synonyms, and the mentions of them in a
//! question.

use std::collections::HashMap;
use std::time::Duration;

use govgraph_graph::{GraphStore, Scope};
use serde::{Deserialize, Serialize};

use super::kb::{Kb, text};
use super::text::{is_stopword, key, words};
use crate::error::Result;

/// What an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A table, view, file or model.
    Dataset,
    /// A column.
    Column,
    /// A glossary term.
    Term,
    /// A data domain.
    Domain,
    /// A person or team.
    Person,
    /// A tag or classification.
    Tag,
    /// An ODRL policy.
    Policy,
    /// A processing activity (GDPR Art. 30).
    ProcessingActivity,
    /// A quality rule.
    Rule,
    /// A dashboard or other downstream consumer.
    Dashboard,
    /// A source system.
    System,
    /// An organisation (controller, processor, recipient).
    Organization,
    /// A data product.
    DataProduct,
}

impl Kind {
    /// The word for many of them.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Dataset => "datasets",
            Kind::Column => "columns",
            Kind::Term => "glossary terms",
            Kind::Domain => "domains",
            Kind::Person => "people and teams",
            Kind::Tag => "tags",
            Kind::Policy => "policies",
            Kind::ProcessingActivity => "processing activities",
            Kind::Rule => "quality rules",
            Kind::Dashboard => "dashboards",
            Kind::System => "systems",
            Kind::Organization => "organisations",
            Kind::DataProduct => "data products",
        }
    }
}

/// One catalog entity the lexicon knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its IRI.
    pub iri: String,
    /// Its kind.
    pub kind: Kind,
    /// Its name: a dataset's identifier, otherwise its label.
    pub name: String,
}

/// The names of everything but columns (columns are found through their dataset), keyed by
/// their singular words.
#[derive(Debug, Default)]
pub struct Lexicon {
    entries: Vec<Entry>,
    phrases: HashMap<String, Vec<usize>>,
    by_identifier: HashMap<String, usize>,
    by_segment: HashMap<String, Vec<usize>>,
    by_iri: HashMap<String, usize>,
    longest: usize,
    /// Tags that mark personal data: a personal-data category, a special category or the
    /// notation `pii`, on the tag or a broader one.
    pub pii_tags: Vec<String>,
    /// Tags that mark restricted data: sensitivity `restricted`, a special category, or the
    /// notation `restricted`.
    pub restricted_tags: Vec<String>,
}

/// A mention of catalog entities in a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// The first word of the mention, in the question's words.
    pub start: usize,
    /// One past its last word.
    pub end: usize,
    /// The entities it may mean (several when names collide, say a term and a domain).
    pub entries: Vec<Entry>,
}

impl Lexicon {
    /// Reads every name from the store, within a scope.
    pub fn build(store: &GraphStore, scope: &Scope) -> Result<Self> {
        let kb = Kb::new(store, scope, Duration::from_secs(60));
        let mut lex = Lexicon::default();
        let queries: [(Kind, &str); 10] = [
            (
                Kind::Dataset,
                "SELECT ?x ?name ?label WHERE { ?x a dcat:Dataset . FILTER NOT EXISTS { ?x a gg:Dashboard } OPTIONAL { ?x dct:identifier ?name } OPTIONAL { ?x dct:title ?label } }",
            ),
            (
                Kind::Dashboard,
                "SELECT ?x ?name ?label WHERE { ?x a gg:Dashboard . OPTIONAL { ?x dct:identifier ?name } OPTIONAL { ?x dct:title ?label } }",
            ),
            (
                Kind::Term,
                "SELECT ?x ?name ?label WHERE { ?x a gg:GlossaryTerm ; skos:prefLabel ?name . OPTIONAL { ?x skos:altLabel ?label } }",
            ),
            (
                Kind::Domain,
                "SELECT ?x ?name ?label WHERE { ?x a gg:Domain ; skos:prefLabel ?name }",
            ),
            (
                Kind::Person,
                "SELECT ?x ?name ?label WHERE { ?x a prov:Agent . { ?x foaf:name ?name } UNION { ?x skos:prefLabel ?name } FILTER NOT EXISTS { ?x a gg:Domain } FILTER NOT EXISTS { ?x a org:Organization } }",
            ),
            (
                Kind::Tag,
                "SELECT ?x ?name ?label WHERE { ?x a gg:Tag ; skos:prefLabel ?name . OPTIONAL { ?x skos:notation ?label } }",
            ),
            (
                Kind::Policy,
                "SELECT ?x ?name ?label WHERE { ?x a odrl:Policy ; dct:title ?name }",
            ),
            (
                Kind::ProcessingActivity,
                "SELECT ?x ?name ?label WHERE { ?x a gg:ProcessingActivity ; dct:title ?name }",
            ),
            (
                Kind::Organization,
                "SELECT ?x ?name ?label WHERE { ?x a org:Organization ; skos:prefLabel ?name . FILTER NOT EXISTS { ?x a gg:Domain } }",
            ),
            (
                Kind::System,
                "SELECT ?x ?name ?label WHERE { ?x a gg:System ; dct:title ?name }",
            ),
        ];
        for (kind, q) in queries {
            for row in kb.select(q)? {
                let Some(x) = text(&row, "x") else { continue };
                let name = text(&row, "name");
                let label = text(&row, "label");
                let shown = match kind {
                    Kind::Dataset | Kind::Dashboard => name
                        .clone()
                        .unwrap_or_else(|| x.rsplit('/').next().unwrap_or(&x).to_owned()),
                    _ => name.clone().unwrap_or_default(),
                };
                let i = lex.add(&x, kind, &shown);
                match kind {
                    Kind::Dataset | Kind::Dashboard => {
                        lex.by_identifier.insert(shown.to_lowercase(), i);
                        let segment = shown.rsplit('.').next().unwrap_or(&shown).to_lowercase();
                        let segs = lex.by_segment.entry(segment.clone()).or_default();
                        if !segs.contains(&i) {
                            segs.push(i);
                        }
                        lex.phrase(&shown, i);
                        lex.phrase(&segment, i);
                        if let Some(l) = &label {
                            lex.phrase(l, i);
                            if let Some((before, _)) = l.split_once('(') {
                                lex.phrase(before, i);
                            }
                        }
                    }
                    Kind::Person => {
                        if let Some(n) = &name {
                            lex.phrase(n, i);
                            // First or last name alone.
                            for w in words(n) {
                                if w.len() > 2 {
                                    lex.phrase(&w, i);
                                }
                            }
                        }
                    }
                    Kind::Tag => {
                        if let Some(n) = &name {
                            lex.phrase(n, i);
                            if let Some((_, after)) = n.split_once(':') {
                                lex.phrase(after, i);
                            }
                        }
                        if let Some(l) = &label {
                            lex.phrase(l, i);
                        }
                    }
                    Kind::Domain => {
                        if let Some(n) = &name {
                            lex.phrase(n, i);
                            lex.phrase(&format!("{n} domain"), i);
                        }
                    }
                    _ => {
                        if let Some(n) = &name {
                            lex.phrase(n, i);
                        }
                        if let Some(l) = &label {
                            lex.phrase(l, i);
                        }
                    }
                }
            }
        }
        let rows = kb.select(
            "SELECT DISTINCT ?t WHERE { ?t a gg:Tag . ?t skos:broader* ?r .
               { ?r skos:notation ?n FILTER (?n = \"pii\" || STRSTARTS(?n, \"pii.\")) }
               UNION { ?r gg:personalDataCategory ?c } UNION { ?r gg:specialCategory true } } ORDER BY ?t",
        )?;
        lex.pii_tags = rows.iter().filter_map(|r| text(r, "t")).collect();
        let rows = kb.select(
            "SELECT DISTINCT ?t WHERE { ?t a gg:Tag .
               { ?t gg:sensitivity \"restricted\" } UNION { ?t gg:specialCategory true } UNION { ?t skos:notation \"restricted\" } } ORDER BY ?t",
        )?;
        lex.restricted_tags = rows.iter().filter_map(|r| text(r, "t")).collect();
        Ok(lex)
    }

    fn add(&mut self, iri: &str, kind: Kind, name: &str) -> usize {
        if let Some(&i) = self.by_iri.get(iri) {
            if self.entries[i].name.is_empty() {
                self.entries[i].name = name.to_owned();
            }
            return i;
        }
        self.entries.push(Entry {
            iri: iri.to_owned(),
            kind,
            name: name.to_owned(),
        });
        let i = self.entries.len() - 1;
        self.by_iri.insert(iri.to_owned(), i);
        i
    }

    fn phrase(&mut self, text: &str, i: usize) {
        let k = key(text);
        if k.is_empty() {
            return;
        }
        self.longest = self.longest.max(k.split(' ').count());
        let list = self.phrases.entry(k).or_default();
        if !list.contains(&i) {
            list.push(i);
        }
    }

    /// The entry of an IRI.
    pub fn get(&self, iri: &str) -> Option<&Entry> {
        self.by_iri.get(iri).map(|&i| &self.entries[i])
    }

    /// How many entities it knows.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when it knows nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A dataset by identifier (`bronze.orders`, any case) or, failing that, by its last
    /// segment (`orders`) when that names one dataset only.
    pub fn dataset(&self, reference: &str) -> Option<&Entry> {
        let r = reference.to_lowercase();
        if let Some(&i) = self.by_identifier.get(&r) {
            return Some(&self.entries[i]);
        }
        match self.by_segment.get(&r).map(Vec::as_slice) {
            Some([i]) => Some(&self.entries[*i]),
            Some(list) if !list.is_empty() => {
                // Prefer the rawest layer's table of that name.
                list.iter()
                    .map(|&i| &self.entries[i])
                    .min_by_key(|e| layer_rank(&e.name))
            }
            _ => None,
        }
    }

    /// The mentions in a question's words, longest first, never overlapping. Single words
    /// that are stopwords never count.
    pub fn mentions(&self, q_words: &[String]) -> Vec<Mention> {
        let keys: Vec<String> = q_words.iter().map(|w| super::text::singular(w)).collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < keys.len() {
            let mut found = None;
            let max = self.longest.min(keys.len() - i);
            for len in (1..=max).rev() {
                if len == 1 && (is_stopword(&keys[i]) || is_stopword(&q_words[i])) {
                    continue;
                }
                let phrase = keys[i..i + len].join(" ");
                if let Some(list) = self.phrases.get(&phrase) {
                    found = Some((len, list));
                    break;
                }
            }
            match found {
                Some((len, list)) => {
                    out.push(Mention {
                        start: i,
                        end: i + len,
                        entries: list.iter().map(|&j| self.entries[j].clone()).collect(),
                    });
                    i += len;
                }
                None => i += 1,
            }
        }
        out
    }
}

/// bronze before silver before gold before anything else.
pub fn layer_rank(name: &str) -> usize {
    let n = name.to_lowercase();
    ["bronze.", "raw.", "staging.", "silver.", "gold."]
        .iter()
        .position(|p| n.starts_with(p))
        .unwrap_or(5)
}

/// Dotted references in a question (`bronze.orders`, `orders.amount`), with the words they
/// cover in `words(question)`.
pub fn dotted(question: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut word_index = 0;
    for raw in question.split(|c: char| {
        c.is_whitespace() || matches!(c, ',' | '?' | '!' | ';' | '(' | ')' | '"' | '\'' | '`')
    }) {
        let token = raw.trim_end_matches(['.', ':']);
        let n = words(token).len();
        if token.contains('.')
            && token.split('.').all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            })
        {
            out.push((token.to_lowercase(), word_index, word_index + n));
        }
        word_index += n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_references_keep_their_word_positions() {
        let q = "What breaks if orders.amount changes, or bronze.customers.email?";
        let d = dotted(q);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0], ("orders.amount".to_owned(), 3, 5));
        assert_eq!(d[1], ("bronze.customers.email".to_owned(), 7, 10));
        let w = words(q);
        assert_eq!(w[3..5], ["orders", "amount"]);
        assert_eq!(w[7..10], ["bronze", "customers", "email"]);
        assert!(dotted("It ends here. Then more.").is_empty());
    }

    #[test]
    fn layers_rank_raw_first() {
        assert!(layer_rank("bronze.orders") < layer_rank("silver.orders"));
        assert!(layer_rank("gold.x") < layer_rank("other.x"));
    }
}
