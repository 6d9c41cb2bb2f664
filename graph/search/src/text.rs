//! The full-text side: a tantivy index whose text fields go through [`crate::analyze`].

use std::path::Path;

use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
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
    pub fn search(
        &self,
        tokens: &[analyze::Token],
        filters: &[(&str, Vec<String>)],
        limit: usize,
    ) -> Result<Vec<(f32, EntityDoc)>> {
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for t in tokens {
            for (f, field) in &self.text {
                let term = Term::from_field_text(*field, &t.text);
                let weight = if t.expanded { 0.8 } else { 1.0 };
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                        f.boost * weight,
                    )),
                ));
                let n = t.text.chars().count();
                if f.fuzzy && !t.expanded && n >= 4 && !t.text.chars().all(|c| c.is_ascii_digit()) {
                    let distance = if n >= 8 { 2 } else { 1 };
                    should.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(FuzzyTermQuery::new(term, distance, true)),
                            f.boost * 0.35,
                        )),
                    ));
                }
            }
        }
        if should.is_empty() {
            return Ok(Vec::new());
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        clauses.extend(self.filter_clauses(filters));
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())
            .map_err(tantivy_err)?;
        top.into_iter()
            .map(|(score, addr)| Ok((score, self.load_with(&searcher, addr)?)))
            .collect()
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
