//! The full-text side: a tantivy index whose text fields go through [`crate::analyze`].

use std::path::Path;

use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EnableScoring, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{
    DocAddress, DocSet, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};

use crate::analyze;
use crate::docs::EntityDoc;
use crate::error::{Error, Result};

/// The name the analyser is registered under.
pub const TOKENIZER: &str = "govgraph";

/// Splits identifiers, expands abbreviations, stems: [`analyze::analyze`] as a tantivy
/// tokenizer.
#[derive(Debug, Clone, Default)]
pub struct IdentTokenizer;

/// The tokens of one text.
#[derive(Debug)]
pub struct IdentTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl Tokenizer for IdentTokenizer {
    type TokenStream<'a> = IdentTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> IdentTokenStream {
        let tokens = analyze::analyze(text)
            .into_iter()
            .map(|t| Token {
                offset_from: 0,
                offset_to: 0,
                position: t.position,
                text: t.text,
                position_length: 1,
            })
            .collect();
        IdentTokenStream { tokens, index: 0 }
    }
}

impl TokenStream for IdentTokenStream {
    fn advance(&mut self) -> bool {
        if self.index < self.tokens.len() {
            self.index += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self
            .index
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1))]
    }

    fn token_mut(&mut self) -> &mut Token {
        let i = self
            .index
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1));
        &mut self.tokens[i]
    }
}

/// A searchable text field and its weight.
#[derive(Debug, Clone, Copy)]
pub struct TextField {
    /// Its name in the schema and in match reasons.
    pub name: &'static str,
    /// BM25 boost.
    pub boost: f32,
    /// Whether typos are tolerated in it.
    pub fuzzy: bool,
}

/// The text fields, most telling first.
pub const TEXT_FIELDS: &[TextField] = &[
    TextField {
        name: "name",
        boost: 3.0,
        fuzzy: true,
    },
    TextField {
        name: "label",
        boost: 2.5,
        fuzzy: true,
    },
    TextField {
        name: "synonyms",
        boost: 2.2,
        fuzzy: true,
    },
    TextField {
        name: "path",
        boost: 1.2,
        fuzzy: false,
    },
    TextField {
        name: "tags",
        boost: 1.5,
        fuzzy: true,
    },
    TextField {
        name: "domain",
        boost: 1.0,
        fuzzy: true,
    },
    TextField {
        name: "owner",
        boost: 1.0,
        fuzzy: true,
    },
    TextField {
        name: "description",
        boost: 0.7,
        fuzzy: false,
    },
    TextField {
        name: "system",
        boost: 0.5,
        fuzzy: false,
    },
];

/// The values of a text field in a document.
pub fn field_values<'a>(doc: &'a EntityDoc, field: &str) -> Vec<&'a str> {
    match field {
        "name" => vec![doc.name.as_str()],
        "label" => doc.label.iter().map(String::as_str).collect(),
        "synonyms" => doc.synonyms.iter().map(String::as_str).collect(),
        "path" => vec![doc.path.as_str()],
        "tags" => doc.tags.iter().map(String::as_str).collect(),
        "domain" => doc.domain.iter().map(String::as_str).collect(),
        "owner" => doc.owner.iter().map(String::as_str).collect(),
        "description" => doc.description.iter().map(String::as_str).collect(),
        "system" => doc.system.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Filterable keyword fields: `kind`, `domain`, `tag`, `owner`, `pii`, `system`, plus
/// `graph` (the named graphs that describe the entity), `tenant` (the tenants whose graphs
/// those are, `-` for none) and `iri`.
pub const KEYWORD_FIELDS: &[&str] = &[
    "f_kind", "f_domain", "f_tag", "f_owner", "f_pii", "f_system", "f_graph", "f_tenant", "iri",
];

/// The tenants whose graphs describe a document (`-` when none does).
pub fn tenants_of(graphs: &[String]) -> Vec<String> {
    let mut out: Vec<String> = graphs
        .iter()
        .filter_map(|g| g.strip_prefix(govgraph_graph::scope::TENANT_PREFIX))
        .filter_map(|rest| rest.split(':').next())
        .map(str::to_owned)
        .collect();
    out.sort();
    out.dedup();
    if out.is_empty() {
        out.push("-".into());
    }
    out
}

/// Lower-cased, trimmed: how keyword values and filters compare.
pub fn keyword(s: &str) -> String {
    s.trim().to_lowercase()
}

/// The tantivy index and its fields.
pub struct TextIndex {
    index: Index,
    reader: IndexReader,
    writer: IndexWriter,
    text: Vec<(TextField, Field)>,
    doc_field: Field,
    digest_field: Field,
    iri_field: Field,
    sort_field: Field,
    keyword: std::collections::HashMap<&'static str, Field>,
}

impl std::fmt::Debug for TextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextIndex").finish_non_exhaustive()
    }
}

fn schema() -> Schema {
    let mut b = Schema::builder();
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(TOKENIZER)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    for f in TEXT_FIELDS {
        b.add_text_field(
            f.name,
            TextOptions::default().set_indexing_options(indexing.clone()),
        );
    }
    for k in KEYWORD_FIELDS {
        b.add_text_field(k, STRING | STORED);
    }
    b.add_text_field("digest", STRING | STORED);
    // The listing order: the lower-cased path.
    b.add_text_field("sort", STRING | FAST);
    b.add_text_field("doc", STORED);
    b.build()
}

fn tantivy_err(e: tantivy::TantivyError) -> Error {
    Error::Index(e.to_string())
}

impl TextIndex {
    /// Opens the index in `dir`, creating it (empty) when there is none or its schema is
    /// from another version. The boolean says whether it was created.
    pub fn open(dir: &Path) -> Result<(Self, bool)> {
        std::fs::create_dir_all(dir)?;
        let wanted = schema();
        let (index, created) = match Index::open_in_dir(dir) {
            Ok(index) if index.schema() == wanted => (index, false),
            _ => {
                // Missing, unreadable or from another schema: start over.
                for entry in std::fs::read_dir(dir)? {
                    let p = entry?.path();
                    if p.is_dir() {
                        std::fs::remove_dir_all(&p)?;
                    } else {
                        std::fs::remove_file(&p)?;
                    }
                }
                (
                    Index::create_in_dir(dir, wanted).map_err(tantivy_err)?,
                    true,
                )
            }
        };
        Self::wrap(index, created)
    }

    /// An index held in memory (tests, throwaway catalogs).
    pub fn in_memory() -> Result<Self> {
        Ok(Self::wrap(Index::create_in_ram(schema()), true)?.0)
    }

    fn wrap(index: Index, created: bool) -> Result<(Self, bool)> {
        index
            .tokenizers()
            .register(TOKENIZER, TextAnalyzer::builder(IdentTokenizer).build());
        let writer = index
            .writer_with_options(
                tantivy::indexer::IndexWriterOptions::builder()
                    .memory_budget_per_thread(64_000_000)
                    .num_worker_threads(1)
                    .num_merge_threads(1)
                    .build(),
            )
            .map_err(tantivy_err)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(tantivy_err)?;
        let schema = index.schema();
        let field = |name: &str| schema.get_field(name).map_err(tantivy_err);
        let text = TEXT_FIELDS
            .iter()
            .map(|f| Ok((*f, field(f.name)?)))
            .collect::<Result<Vec<_>>>()?;
        let mut keyword = std::collections::HashMap::new();
        for k in KEYWORD_FIELDS {
            keyword.insert(*k, field(k)?);
        }
        keyword.insert("sort", field("sort")?);
        Ok((
            Self {
                doc_field: field("doc")?,
                digest_field: field("digest")?,
                iri_field: field("iri")?,
                sort_field: field("sort")?,
                index,
                reader,
                writer,
                text,
                keyword,
            },
            created,
        ))
    }

    /// The payload of the last commit.
    pub fn payload(&self) -> Result<Option<String>> {
        Ok(self.index.load_metas().map_err(tantivy_err)?.payload)
    }

    /// Documents in the committed index.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Queues a document (replacing any with the same IRI).
    pub fn upsert(&mut self, doc: &EntityDoc) -> Result<()> {
        self.delete(&doc.iri);
        let mut d = TantivyDocument::default();
        for (f, field) in &self.text {
            for v in field_values(doc, f.name) {
                d.add_text(*field, v);
            }
        }
        let kw = |d: &mut TantivyDocument, name: &str, v: &str| {
            if let Some(f) = self.keyword.get(name) {
                d.add_text(*f, keyword(v));
            }
        };
        kw(&mut d, "f_kind", doc.kind.map(|k| k.as_str()).unwrap_or(""));
        for v in &doc.domain {
            kw(&mut d, "f_domain", v);
        }
        for v in &doc.tags {
            kw(&mut d, "f_tag", v);
        }
        for v in &doc.owner {
            kw(&mut d, "f_owner", v);
        }
        kw(&mut d, "f_pii", if doc.pii { "true" } else { "false" });
        if let Some(s) = &doc.system {
            kw(&mut d, "f_system", s);
        }
        for g in &doc.graphs {
            if let Some(f) = self.keyword.get("f_graph") {
                d.add_text(*f, g);
            }
        }
        for t in tenants_of(&doc.graphs) {
            kw(&mut d, "f_tenant", &t);
        }
        d.add_text(self.iri_field, &doc.iri);
        d.add_text(self.sort_field, keyword(&doc.path));
        d.add_text(self.digest_field, doc.digest());
        d.add_text(self.doc_field, serde_json::to_string(doc)?);
        self.writer.add_document(d).map_err(tantivy_err)?;
        Ok(())
    }

    /// Queues the deletion of a document.
    pub fn delete(&mut self, iri: &str) {
        self.writer
            .delete_term(Term::from_field_text(self.iri_field, iri));
    }

    /// Queues the deletion of every document.
    pub fn delete_all(&mut self) -> Result<()> {
        self.writer.delete_all_documents().map_err(tantivy_err)?;
        Ok(())
    }

    /// Commits what is queued with `payload`, and makes it visible to searches.
    pub fn commit(&mut self, payload: &str) -> Result<()> {
        let mut prepared = self.writer.prepare_commit().map_err(tantivy_err)?;
        prepared.set_payload(payload);
        prepared.commit().map_err(tantivy_err)?;
        self.reader.reload().map_err(tantivy_err)?;
        Ok(())
    }

    /// The IRIs and digests of documents whose keyword `field` is `value`.
    pub fn with_keyword(&self, field: &str, value: &str) -> Result<Vec<(String, String)>> {
        let Some(f) = self.keyword.get(field) else {
            return Ok(Vec::new());
        };
        let searcher = self.reader.searcher();
        let q = TermQuery::new(Term::from_field_text(*f, value), IndexRecordOption::Basic);
        let found = searcher.search(&q, &DocSetCollector).map_err(tantivy_err)?;
        let mut out = Vec::with_capacity(found.len());
        for addr in found {
            let d: TantivyDocument = searcher.doc(addr).map_err(tantivy_err)?;
            let get = |f: Field| {
                d.get_first(f)
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            };
            out.push((get(self.iri_field), get(self.digest_field)));
        }
        Ok(out)
    }

    /// The stored document of an entity.
    pub fn get(&self, iri: &str) -> Result<Option<EntityDoc>> {
        let searcher = self.reader.searcher();
        let q = TermQuery::new(
            Term::from_field_text(self.iri_field, iri),
            IndexRecordOption::Basic,
        );
        let top = searcher
            .search(&q, &TopDocs::with_limit(1).order_by_score())
            .map_err(tantivy_err)?;
        match top.first() {
            Some((_, addr)) => self.load(*addr).map(Some),
            None => Ok(None),
        }
    }

    /// The stored documents of some entities, in one search; unknown IRIs are left out.
    pub fn get_many(&self, iris: &[&str]) -> Result<std::collections::HashMap<String, EntityDoc>> {
        let mut out = std::collections::HashMap::with_capacity(iris.len());
        if iris.is_empty() {
            return Ok(out);
        }
        let searcher = self.reader.searcher();
        let any: Vec<(Occur, Box<dyn Query>)> = iris
            .iter()
            .map(|iri| {
                (
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.iri_field, iri),
                        IndexRecordOption::Basic,
                    )) as Box<dyn Query>,
                )
            })
            .collect();
        let found = searcher
            .search(&BooleanQuery::new(any), &DocSetCollector)
            .map_err(tantivy_err)?;
        for addr in found {
            let doc = self.load_with(&searcher, addr)?;
            out.insert(doc.iri.clone(), doc);
        }
        Ok(out)
    }

    fn load(&self, addr: DocAddress) -> Result<EntityDoc> {
        self.load_with(&self.reader.searcher(), addr)
    }

    fn load_with(&self, searcher: &tantivy::Searcher, addr: DocAddress) -> Result<EntityDoc> {
        let d: TantivyDocument = searcher.doc(addr).map_err(tantivy_err)?;
        let text = d
            .get_first(self.doc_field)
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Ok(serde_json::from_str(&text)?)
    }

    /// Every stored document (for rebuilding the vector index).
    pub fn all(&self) -> Result<Vec<EntityDoc>> {
        let searcher = self.reader.searcher();
        let found = searcher
            .search(&AllQuery, &DocSetCollector)
            .map_err(tantivy_err)?;
        let mut out = Vec::with_capacity(found.len());
        for addr in found {
            out.push(self.load(addr)?);
        }
        Ok(out)
    }

    /// BM25 over the analysed query tokens, with typo tolerance on the short fields, under
    /// keyword filters (`(field, allowed values)`, all must hold). Returns up to `limit`
    /// documents with their scores, best first.
    ///
    /// The query is a plain union of term queries, so that tantivy can skip, by block-max
    /// WAND, every block of postings whose best score cannot enter the top `limit`: the cost
    /// follows the answer, not the length of the posting lists (which grow with the catalog).
    /// Typo tolerance keeps that shape: a word a fuzzy field has never seen is taken for a
    /// typo, and the field's known words within one or two edits of it stand in for it as
    /// ordinary terms; a word the field knows is not expanded. Filters do not break the
    /// pruning either: a document is offered to the top `limit` only if it passes them, and
    /// the threshold rises with the documents that do.
    pub fn search(
        &self,
        tokens: &[analyze::Token],
        filters: &[(&str, Vec<String>)],
        limit: usize,
    ) -> Result<Vec<(f32, EntityDoc)>> {
        let searcher = self.reader.searcher();
        let Some(query) = self.query(&searcher, tokens)? else {
            return Ok(Vec::new());
        };
        let filter: Option<Box<dyn Query>> = {
            let clauses = self.filter_clauses(filters);
            (!clauses.is_empty()).then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>)
        };
        let top = top_k(&searcher, &query, filter.as_deref(), limit.max(1))?;
        top.into_iter()
            .map(|(score, addr)| Ok((score, self.load_with(&searcher, addr)?)))
            .collect()
    }

    /// The union of weighted term queries for `tokens`, none when there is no term to look
    /// for: each token in each text field, or, for a word a fuzzy field does not know, the
    /// field's nearest known words.
    fn query(
        &self,
        searcher: &tantivy::Searcher,
        tokens: &[analyze::Token],
    ) -> Result<Option<BooleanQuery>> {
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut clause = |term: Term, boost: f32| {
            should.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                    boost,
                )) as Box<dyn Query>,
            ));
        };
        for t in tokens {
            for (f, field) in &self.text {
                let term = Term::from_field_text(*field, &t.text);
                let weight = if t.expanded { 0.8 } else { 1.0 };
                let n = t.text.chars().count();
                let fuzzy =
                    f.fuzzy && !t.expanded && n >= 4 && !t.text.chars().all(|c| c.is_ascii_digit());
                if fuzzy && searcher.doc_freq(&term).map_err(tantivy_err)? == 0 {
                    let distance = if n >= 8 { 2 } else { 1 };
                    for near in near_terms(searcher, *field, &term, distance)? {
                        clause(near, f.boost * FUZZY_WEIGHT);
                    }
                } else {
                    clause(term, f.boost * weight);
                }
            }
        }
        Ok((!should.is_empty()).then(|| BooleanQuery::new(should)))
    }

    /// The documents that pass `filters`, ordered by path: a page of them, and how many
    /// there are in all.
    pub fn list(
        &self,
        filters: &[(&str, Vec<String>)],
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<EntityDoc>, usize)> {
        let clauses = self.filter_clauses(filters);
        let query: Box<dyn Query> = if clauses.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(clauses))
        };
        let searcher = self.reader.searcher();
        let total = searcher.search(&query, &Count).map_err(tantivy_err)?;
        if limit == 0 || offset >= total {
            return Ok((Vec::new(), total));
        }
        let top = searcher
            .search(
                &query,
                &TopDocs::with_limit(limit)
                    .and_offset(offset)
                    .order_by_string_fast_field("sort", Order::Asc),
            )
            .map_err(tantivy_err)?;
        let docs = top
            .into_iter()
            .map(|(_, addr)| self.load_with(&searcher, addr))
            .collect::<Result<Vec<_>>>()?;
        Ok((docs, total))
    }

    fn filter_clauses(&self, filters: &[(&str, Vec<String>)]) -> Vec<(Occur, Box<dyn Query>)> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (name, values) in filters {
            let Some(f) = self.keyword.get(name) else {
                continue;
            };
            let any: Vec<(Occur, Box<dyn Query>)> = values
                .iter()
                .map(|v| {
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(
                            Term::from_field_text(*f, &keyword(v)),
                            IndexRecordOption::Basic,
                        )) as Box<dyn Query>,
                    )
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        clauses
    }
}

/// The weight of a term that stands in for a query word the field does not know, against
/// the word's own weight.
const FUZZY_WEIGHT: f32 = 0.4;

/// At most this many known words stand in for an unknown one: the most frequent first.
const MAX_NEAR_TERMS: usize = 8;

/// The words of `field` within `distance` edits of `term` (a transposition counts as one),
/// the most frequent first.
fn near_terms(
    searcher: &tantivy::Searcher,
    field: Field,
    term: &Term,
    distance: u8,
) -> Result<Vec<Term>> {
    let fuzzy = FuzzyTermQuery::new(term.clone(), distance, true);
    let mut freq: std::collections::BTreeMap<Vec<u8>, u64> = std::collections::BTreeMap::new();
    for reader in searcher.segment_readers() {
        let inverted = reader.inverted_index(field).map_err(tantivy_err)?;
        let mut stream = inverted
            .terms()
            .search(fuzzy.automaton().map_err(tantivy_err)?)
            .into_stream()?;
        while stream.advance() {
            *freq.entry(stream.key().to_vec()).or_default() += u64::from(stream.value().doc_freq);
        }
    }
    let mut found: Vec<(Vec<u8>, u64)> = freq.into_iter().collect();
    // Most frequent first; equal counts in word order, so the choice is stable.
    found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(found
        .into_iter()
        .take(MAX_NEAR_TERMS)
        .filter_map(|(bytes, _)| {
            std::str::from_utf8(&bytes)
                .ok()
                .map(|w| Term::from_field_text(field, w))
        })
        .collect())
}

/// A scored document in the top-k heap, where the worst document is the greatest.
#[derive(Debug, Clone, Copy)]
struct Scored(f32, DocAddress);

impl PartialEq for Scored {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Scored {}
impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scored {
    /// Lower scores first and, among equal scores, later documents first: the heap's top is
    /// the document to drop.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .0
            .total_cmp(&self.0)
            .then_with(|| self.1.cmp(&other.1))
    }
}

/// The `k` best documents for `query` that also match `filter`, best first.
///
/// Every segment is scored through tantivy's pruning loop (block-max WAND for a union of
/// terms), with one threshold across segments: the k-th best score so far among the
/// documents that passed the filter and are not deleted.
fn top_k(
    searcher: &tantivy::Searcher,
    query: &dyn Query,
    filter: Option<&dyn Query>,
    k: usize,
) -> Result<Vec<(f32, DocAddress)>> {
    let weight = query
        .weight(EnableScoring::enabled_from_searcher(searcher))
        .map_err(tantivy_err)?;
    let filter_weight = filter
        .map(|f| f.weight(EnableScoring::disabled_from_searcher(searcher)))
        .transpose()
        .map_err(tantivy_err)?;
    let mut heap: std::collections::BinaryHeap<Scored> = std::collections::BinaryHeap::new();
    let mut threshold = f32::MIN;
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let ord = u32::try_from(ord).map_err(|_| Error::Index("too many segments".into()))?;
        let mut filter_docs = filter_weight
            .as_ref()
            .map(|w| w.scorer(reader, 1.0))
            .transpose()
            .map_err(tantivy_err)?;
        let alive = reader.alive_bitset();
        weight
            .for_each_pruning(threshold, reader, &mut |doc, score| {
                if alive.is_some_and(|a| a.is_deleted(doc)) {
                    return threshold;
                }
                // Documents arrive in increasing order, so the filter's postings are read
                // forward once.
                if let Some(docs) = filter_docs.as_mut() {
                    let at = if docs.doc() < doc {
                        docs.seek(doc)
                    } else {
                        docs.doc()
                    };
                    if at != doc {
                        return threshold;
                    }
                }
                heap.push(Scored(score, DocAddress::new(ord, doc)));
                if heap.len() > k {
                    heap.pop();
                }
                if heap.len() == k
                    && let Some(worst) = heap.peek()
                {
                    threshold = worst.0;
                }
                threshold
            })
            .map_err(tantivy_err)?;
    }
    let mut best: Vec<Scored> = heap.into_vec();
    best.sort();
    Ok(best.into_iter().map(|Scored(s, a)| (s, a)).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::docs::EntityKind;

    const WORDS: &[&str] = &[
        "customer", "email", "address", "order", "amount", "region", "revenue", "phone", "status",
        "created", "product", "payment", "invoice", "shipment", "country",
    ];

    /// A catalog of `n` documents in several segments, with words drawn unevenly, so that
    /// posting lists have very different lengths and scores vary.
    fn catalog(n: usize) -> TextIndex {
        let mut idx = TextIndex::in_memory().unwrap();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |m: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % m as u64) as usize
        };
        for i in 0..n {
            let words: Vec<&str> = (0..1 + next(4))
                .map(|_| WORDS[next(WORDS.len()).min(next(WORDS.len()))])
                .collect();
            let doc = EntityDoc {
                iri: format!("urn:e{i}"),
                kind: Some(if i % 5 == 0 {
                    EntityKind::Dataset
                } else {
                    EntityKind::Column
                }),
                name: words.join("_"),
                description: Some(words.iter().rev().copied().collect::<Vec<_>>().join(" ")),
                path: format!("t{}.c{i}", i / 20),
                pii: i % 7 == 0,
                ..EntityDoc::default()
            };
            idx.upsert(&doc).unwrap();
            if i % 700 == 699 {
                idx.commit("{}").unwrap();
            }
        }
        // Replaced documents leave deleted ones behind, which must never come back.
        for i in (0..n).step_by(11) {
            let doc = EntityDoc {
                iri: format!("urn:e{i}"),
                kind: Some(EntityKind::Column),
                name: "customer_email".into(),
                path: format!("r.c{i}"),
                ..EntityDoc::default()
            };
            idx.upsert(&doc).unwrap();
        }
        idx.commit("{}").unwrap();
        idx
    }

    fn tokens(query: &str) -> Vec<analyze::Token> {
        analyze::words(query)
            .into_iter()
            .enumerate()
            .map(|(position, w)| analyze::Token {
                text: analyze::stem(&w),
                position,
                expanded: false,
            })
            .collect()
    }

    /// The exhaustive answer: every match scored by tantivy's plain collector, then filtered.
    fn exhaustive(
        idx: &TextIndex,
        query: &str,
        keep: impl Fn(&EntityDoc) -> bool,
        k: usize,
    ) -> Vec<(f32, String)> {
        let all = idx.search(&tokens(query), &[], 100_000).unwrap();
        all.into_iter()
            .filter(|(_, d)| keep(d))
            .take(k)
            .map(|(s, d)| (s, d.iri))
            .collect()
    }

    fn same(got: &[(f32, EntityDoc)], want: &[(f32, String)], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        for (i, ((gs, gd), (ws, wi))) in got.iter().zip(want).enumerate() {
            assert!((gs - ws).abs() < 1e-4, "{what}: score {i}: {gs} vs {ws}");
            // Equal scores may come in another order, and any document that ties with the
            // last one kept may be the one kept; otherwise the documents must be the same.
            if gd.iri != *wi {
                let tied = want
                    .iter()
                    .any(|(s, w)| *w == gd.iri && (s - gs).abs() < 1e-4);
                let at_the_cut = want.last().is_some_and(|(s, _)| (s - gs).abs() < 1e-4);
                assert!(
                    tied || at_the_cut,
                    "{what}: {i}: {} instead of {wi}",
                    gd.iri
                );
            }
        }
    }

    #[test]
    fn pruned_search_is_exact_with_and_without_filters() {
        let idx = catalog(3_000);
        let searcher = idx.reader.searcher();
        for query in [
            "customer",
            "customer email",
            "order amount revenue",
            "region country phone status",
            "invoce adress",
            "invoice",
        ] {
            for k in [1, 10, 100] {
                // Unfiltered, against tantivy's own top-k collector (no shared threshold,
                // no filter) over the same query.
                let got = idx.search(&tokens(query), &[], k).unwrap();
                let plain = {
                    let query = idx.query(&searcher, &tokens(query)).unwrap().unwrap();
                    searcher
                        .search(&query, &TopDocs::with_limit(k).order_by_score())
                        .unwrap()
                        .into_iter()
                        .map(|(s, a)| (s, idx.load_with(&searcher, a).unwrap().iri))
                        .collect::<Vec<_>>()
                };
                same(&got, &plain, &format!("{query} top {k}"));
                assert!(!got.is_empty(), "{query}");

                // Filtered: the head of the exhaustive ranking that passes the filters.
                let datasets = vec![("f_kind", vec!["dataset".to_owned()])];
                let got = idx.search(&tokens(query), &datasets, k).unwrap();
                let want = exhaustive(&idx, query, |d| d.kind == Some(EntityKind::Dataset), k);
                same(&got, &want, &format!("{query} datasets top {k}"));

                let pii_columns = vec![
                    ("f_kind", vec!["column".to_owned()]),
                    ("f_pii", vec!["true".to_owned()]),
                ];
                let got = idx.search(&tokens(query), &pii_columns, k).unwrap();
                let want = exhaustive(
                    &idx,
                    query,
                    |d| d.kind == Some(EntityKind::Column) && d.pii,
                    k,
                );
                same(&got, &want, &format!("{query} pii columns top {k}"));
            }
        }
    }

    #[test]
    fn an_unknown_word_is_read_as_its_nearest_known_words() {
        let idx = catalog(500);
        let searcher = idx.reader.searcher();
        let name = idx.text[0].1;
        // Stemmed, "invoice" is indexed as "invoic"; "invoce" (stemmed "invoc") is one edit away.
        let near = near_terms(&searcher, name, &Term::from_field_text(name, "invoc"), 1).unwrap();
        assert_eq!(near, vec![Term::from_field_text(name, "invoic")]);
        let near = near_terms(&searcher, name, &Term::from_field_text(name, "adress"), 1).unwrap();
        assert_eq!(near, vec![Term::from_field_text(name, "address")]);
        // A known word is searched as itself, not expanded.
        let hits = idx.search(&tokens("invoice"), &[], 1000).unwrap();
        assert!(!hits.is_empty());
        assert!(hits.iter().all(|(_, d)| d.name.contains("invoice")));
        // The typo finds what the word finds.
        let typo: Vec<String> = idx
            .search(&tokens("adress"), &[], 10)
            .unwrap()
            .into_iter()
            .map(|(_, d)| d.iri)
            .collect();
        assert_eq!(typo.len(), 10);
        let right = idx.search(&tokens("address"), &[], 1000).unwrap();
        assert!(typo.iter().all(|i| right.iter().any(|(_, d)| d.iri == *i)));
    }
}
