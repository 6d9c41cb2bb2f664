//! govgraph-search: hybrid catalog search over the graph.
//!
//! - [`analyze`]: identifier splitting, abbreviations and stemming, shared by everything.
//! - [`docs`]: one document per entity, read from the store with index scans.
//! - [`text`]: the tantivy index (BM25, typo tolerance, keyword filters).
//! - [`embed`]: the [`Embedder`] trait and the built-in [`HashEmbedder`].
//! - [`vectors`]: the hnsw_rs index with tombstones, persisted.
//! - [`SearchIndex`]: both indexes kept in step with the store ([`SearchIndex::sync`]), and
//!   hybrid ranking (reciprocal rank fusion, then graph signals) with filters, facets and
//!   the reason each result matched.
//!
//! The store is the truth. The index records, in its commit payload, the version of every
//! source it has seen; [`SearchIndex::sync`] compares that with the store and re-indexes what
//! changed, so an index left behind by a crash is put right on the next sync.

pub mod analyze;
pub mod docs;
pub mod embed;
pub mod error;
pub mod live;
pub mod text;
pub mod vectors;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use govgraph_graph::GraphStore;
use govgraph_graph::oxigraph::model::{GraphName, NamedNode, NamedNodeRef, NamedOrBlankNode, Term};
use govgraph_graph::vocab::{dcat, gg, prov, skos};
use serde::{Deserialize, Serialize};

pub use docs::{EntityDoc, EntityKind};
pub use embed::{Embedder, HashEmbedder};
pub use error::{Error, Result};
pub use live::LiveIndex;

use text::TextIndex;
use vectors::VectorIndex;

/// Bumped when documents, fields or the vector distance change meaning: an index of another
/// version is rebuilt.
const INDEX_VERSION: u32 = 5;
/// Reciprocal rank fusion's constant.
const RRF_K: f32 = 60.0;
/// Weights of the two rankings in the fusion.
const TEXT_WEIGHT: f32 = 1.0;
const VECTOR_WEIGHT: f32 = 0.5;
/// Vector hits less similar than this share of the best one are left out of the fusion.
const VECTOR_FLOOR: f32 = 0.6;
/// In hybrid ranking, vector neighbours less similar than this are noise, not meaning: a
/// query with no real neighbour gets none rather than the least unrelated entities.
const VECTOR_MIN_SIMILARITY: f32 = 0.2;
/// How many candidates each side contributes before fusion.
const POOL: usize = 100;

/// What the index last saw, saved in its commit payload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Payload {
    version: u32,
    embedder: String,
    vectors_generation: u64,
    /// Source graph IRI -> its version (content hash and load time).
    sources: BTreeMap<String, String>,
}

/// What a [`SearchIndex::sync`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// `unchanged`, `incremental` or `rebuild`.
    pub mode: &'static str,
    /// Source graphs that changed since the last sync.
    pub changed_sources: usize,
    /// Entities (re)indexed.
    pub indexed: usize,
    /// Entities removed.
    pub deleted: usize,
    /// Documents in the index afterwards.
    pub documents: u64,
    /// Wall time in milliseconds.
    pub elapsed_ms: f64,
}

/// Which ranking to use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// BM25 and vectors fused, then graph signals.
    #[default]
    Hybrid,
    /// BM25 alone.
    Text,
    /// Vectors alone.
    Vector,
}

impl std::str::FromStr for Mode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "hybrid" => Ok(Mode::Hybrid),
            "text" | "bm25" => Ok(Mode::Text),
            "vector" | "vectors" => Ok(Mode::Vector),
            other => Err(Error::Invalid {
                field: "mode",
                message: format!("`{other}`: expected hybrid, text or vector"),
            }),
        }
    }
}

/// A search.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchRequest {
    /// Words, names, abbreviations, a question.
    pub query: String,
    /// Only these kinds (none: all).
    pub kinds: Vec<EntityKind>,
    /// Only entities in one of these domains (by label, case-insensitive).
    pub domains: Vec<String>,
    /// Only entities with one of these tags (label or notation).
    pub tags: Vec<String>,
    /// Only entities owned or stewarded by one of these (by name).
    pub owners: Vec<String>,
    /// Only entities in one of these systems.
    pub systems: Vec<String>,
    /// Only personal data (true) or only not (false).
    pub pii: Option<bool>,
    /// Only entities described in this tenant's graphs (a tenant principal's searches).
    pub tenant: Option<String>,
    /// Only entities at one of these paths (`dataset` or `dataset.column`, any case).
    pub paths: Vec<String>,
    /// The ranking.
    pub mode: Mode,
    /// Results to skip.
    pub offset: usize,
    /// Results to return (default 10).
    pub limit: usize,
}

impl SearchRequest {
    /// A hybrid search for `query`, first 10 results.
    pub fn new(query: &str) -> Self {
        Self {
            query: query.to_owned(),
            limit: 10,
            ..Self::default()
        }
    }
}

/// Why a result matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// The field that matched (`name`, `synonyms`, `description`, ...), or `meaning` for a
    /// vector match.
    pub field: String,
    /// The field's value, matched words between `«` and `»`.
    pub highlight: String,
    /// How: `glossary term`, `synonym`, `abbreviation`, `typo`, `vector similarity 0.71`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// One result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hit {
    /// The entity.
    pub iri: String,
    /// Its kind.
    pub kind: Option<EntityKind>,
    /// Its name.
    pub name: String,
    /// Its label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Where it sits (`dataset.column`).
    pub path: String,
    /// Its description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Domains.
    pub domain: Vec<String>,
    /// Owners and stewards.
    pub owner: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Personal data.
    pub pii: bool,
    /// Certified.
    pub certified: bool,
    /// Latest quality score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<f64>,
    /// The final score.
    pub score: f32,
    /// Rank in the BM25 list (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_rank: Option<usize>,
    /// Rank in the vector list (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_rank: Option<usize>,
    /// Why it matched, most telling first.
    pub reasons: Vec<Reason>,
}

/// Counts of the matching entities by facet value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Facets {
    /// By kind.
    pub kind: BTreeMap<String, usize>,
    /// By domain.
    pub domain: BTreeMap<String, usize>,
    /// By tag.
    pub tag: BTreeMap<String, usize>,
    /// By owner.
    pub owner: BTreeMap<String, usize>,
    /// By personal-data flag.
    pub pii: BTreeMap<String, usize>,
    /// By system.
    pub system: BTreeMap<String, usize>,
}

/// Search results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchResponse {
    /// The query.
    pub query: String,
    /// The ranking used.
    pub mode: Mode,
    /// Matching entities among the fused candidates (what the facets count).
    pub total: usize,
    /// This page.
    pub hits: Vec<Hit>,
    /// Facet counts over all `total` matches.
    pub facets: Facets,
    /// Time taken, in milliseconds.
    pub took_ms: f64,
}

/// Predicates whose subject's document shows something of the object: when the object
/// changes, the subject is re-indexed.
const REFERENCING: &[NamedNodeRef<'static>] = &[
    gg::TERM,
    dcat::THEME,
    gg::TAG_PROP,
    gg::OWNER,
    gg::STEWARD,
    gg::DOMAIN_PROP,
    gg::COLUMN_OF,
    gg::SYSTEM_PROP,
    skos::BROADER,
];

const DQV_COMPUTED_ON: NamedNodeRef<'static> =
    NamedNodeRef::new_unchecked("http://www.w3.org/ns/dqv#computedOn");

/// Both indexes, kept in step with a store.
pub struct SearchIndex {
    root: Option<PathBuf>,
    text: TextIndex,
    vectors: VectorIndex,
    embedder: Arc<dyn Embedder>,
    payload: Payload,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("root", &self.root)
            .field("vectors", &self.vectors)
            .field("embedder", &self.embedder.id())
            .finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens (or creates) the indexes under `dir`. Call [`sync`](Self::sync) before searching.
    pub fn open(dir: &Path, embedder: Arc<dyn Embedder>) -> Result<Self> {
        let (text, _created) = TextIndex::open(&dir.join("text"))?;
        let payload: Payload = text
            .payload()?
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default();
        let vectors = if payload.embedder == embedder.id() {
            VectorIndex::load(&vectors::generation_dir(dir, payload.vectors_generation)).ok()
        } else {
            None
        };
        let consistent = vectors.is_some();
        let vectors = vectors.unwrap_or_else(|| VectorIndex::new(embedder.dimension(), 1024));
        let mut index = Self {
            root: Some(dir.to_path_buf()),
            text,
            vectors,
            embedder,
            payload,
        };
        if !consistent {
            // Vectors missing or from another embedder: the next sync rebuilds everything.
            index.payload = Payload::default();
        }
        Ok(index)
    }

    /// Indexes held in memory.
    pub fn in_memory(embedder: Arc<dyn Embedder>) -> Result<Self> {
        Ok(Self {
            root: None,
            text: TextIndex::in_memory()?,
            vectors: VectorIndex::new(embedder.dimension(), 1024),
            embedder,
            payload: Payload::default(),
        })
    }

    /// Documents indexed.
    pub fn len(&self) -> u64 {
        self.text.num_docs()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The indexed document of an entity.
    pub fn get(&self, iri: &str) -> Result<Option<EntityDoc>> {
        self.text.get(iri)
    }

    /// The `k` entities whose vectors are nearest to `text`'s, with their cosine similarity:
    /// through the HNSW graph, or by scanning every vector when `exact` (to measure the
    /// graph's recall).
    pub fn nearest(&self, text: &str, k: usize, exact: bool) -> Result<Vec<(String, f32)>> {
        let q = self.embedder.embed_query(text)?;
        if exact {
            self.vectors.exact_search(&q, k)
        } else {
            self.vectors.search(&q, k, None)
        }
    }

    /// Points in the vector graph: the distinct vectors (entities that share a vector share
    /// a point).
    pub fn vector_points(&self) -> usize {
        self.vectors.points()
    }

    /// The embedder in use.
    pub fn embedder(&self) -> &Arc<dyn Embedder> {
        &self.embedder
    }

    fn store_versions(store: &GraphStore) -> Result<BTreeMap<String, String>> {
        Ok(store
            .sources()?
            .into_iter()
            .map(|s| {
                let v = format!(
                    "{}@{}",
                    s.content_hash.unwrap_or_default(),
                    s.loaded_at.unwrap_or_default()
                );
                (s.graph, v)
            })
            .collect())
    }

    /// Brings the indexes in line with the store: nothing when no source changed, the
    /// entities of the changed sources (and what shows them) when some did, everything when
    /// the index is new, of another version or of another embedder.
    pub fn sync(&mut self, store: &GraphStore) -> Result<SyncReport> {
        let start = Instant::now();
        let versions = Self::store_versions(store)?;
        let fresh =
            self.payload.version != INDEX_VERSION || self.payload.embedder != self.embedder.id();
        let mut report = if fresh {
            self.rebuild(store, versions)?
        } else {
            let changed: BTreeSet<String> = versions
                .iter()
                .filter(|(g, v)| self.payload.sources.get(*g) != Some(*v))
                .map(|(g, _)| g.clone())
                .chain(
                    self.payload
                        .sources
                        .keys()
                        .filter(|g| !versions.contains_key(*g))
                        .cloned(),
                )
                .collect();
            if changed.is_empty() {
                SyncReport {
                    mode: "unchanged",
                    ..SyncReport::default()
                }
            } else {
                self.incremental(store, &changed, versions)?
            }
        };
        report.documents = self.text.num_docs();
        report.elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
        tracing::debug!(
            mode = report.mode,
            indexed = report.indexed,
            deleted = report.deleted,
            ms = report.elapsed_ms,
            "search sync"
        );
        Ok(report)
    }

    /// Re-indexes everything.
    pub fn rebuild_all(&mut self, store: &GraphStore) -> Result<SyncReport> {
        let start = Instant::now();
        let versions = Self::store_versions(store)?;
        let mut report = self.rebuild(store, versions)?;
        report.documents = self.text.num_docs();
        report.elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
        Ok(report)
    }

    fn rebuild(
        &mut self,
        store: &GraphStore,
        versions: BTreeMap<String, String>,
    ) -> Result<SyncReport> {
        self.text.delete_all()?;
        // The old vectors go first, so the two graphs are never in memory together; until
        // the commit below, the index on disk still says a rebuild is due.
        self.vectors = VectorIndex::new(1, 0);
        self.payload = Payload {
            vectors_generation: self.payload.vectors_generation,
            ..Payload::default()
        };
        let entities = docs::DocReader::new(store.raw()).entities()?;
        let mut vectors = VectorIndex::new(self.embedder.dimension(), entities.len());
        let mut batch: Vec<EntityDoc> = Vec::with_capacity(2048);
        let mut indexed = 0usize;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        for chunk in entities.chunks(4096) {
            for doc in read_docs(store, chunk, threads)? {
                self.text.upsert(&doc)?;
                batch.push(doc);
                indexed += 1;
                if batch.len() >= 2048 {
                    self.embed_into(&mut vectors, std::mem::take(&mut batch))?;
                }
            }
        }
        self.embed_into(&mut vectors, batch)?;
        self.vectors = vectors;
        self.commit(versions)?;
        Ok(SyncReport {
            mode: "rebuild",
            changed_sources: self.payload.sources.len(),
            indexed,
            ..SyncReport::default()
        })
    }

    fn embed_into(&self, vectors: &mut VectorIndex, docs: Vec<EntityDoc>) -> Result<()> {
        if docs.is_empty() {
            return Ok(());
        }
        // Catalogs repeat themselves (the same column in many tables): each distinct text is
        // embedded once, which matters when an embedding costs a model call.
        let texts: Vec<String> = docs.iter().map(EntityDoc::text_for_embedding).collect();
        let mut slots: HashMap<&str, usize> = HashMap::with_capacity(texts.len());
        let mut unique: Vec<String> = Vec::new();
        let which: Vec<usize> = texts
            .iter()
            .map(|t| {
                *slots.entry(t.as_str()).or_insert_with(|| {
                    unique.push(t.clone());
                    unique.len() - 1
                })
            })
            .collect();
        let embedded = self.embedder.embed(&unique)?;
        if embedded.len() != unique.len() {
            return Err(Error::Embedding(format!(
                "{} vectors for {} texts",
                embedded.len(),
                unique.len()
            )));
        }
        vectors.upsert(
            docs.into_iter()
                .zip(which)
                .map(|(d, i)| {
                    let label = vector_label(&d);
                    (d.iri, embedded[i].clone(), label)
                })
                .collect(),
        )
    }

    fn incremental(
        &mut self,
        store: &GraphStore,
        changed: &BTreeSet<String>,
        versions: BTreeMap<String, String>,
    ) -> Result<SyncReport> {
        let raw = store.raw();
        let mut affected: HashSet<NamedNode> = HashSet::new();
        for g in changed {
            for (iri, _) in self.text.with_keyword("f_graph", g)? {
                if let Ok(n) = NamedNode::new(iri) {
                    affected.insert(n);
                }
            }
            let Ok(graph) = NamedNode::new(g.as_str()) else {
                continue;
            };
            let gref: GraphName = graph.clone().into();
            for q in raw.quads_for_pattern(None, None, None, Some(gref.as_ref())) {
                let q = q?;
                if let NamedOrBlankNode::NamedNode(s) = &q.subject {
                    affected.insert(s.clone());
                }
                // Popularity and quality live on the objects of these.
                let p = q.predicate.as_ref();
                if (p == prov::WAS_DERIVED_FROM
                    || p == prov::ENTITY
                    || p == DQV_COMPUTED_ON
                    || p == gg::TERM)
                    && let Term::NamedNode(o) = &q.object
                {
                    affected.insert(o.clone());
                }
            }
        }
        // What shows the affected entities: columns of a changed dataset, things tagged with
        // a changed tag, mapped to a changed term, owned by a changed person...
        let mut frontier: Vec<NamedNode> = affected.iter().cloned().collect();
        for _ in 0..2 {
            let mut next = Vec::new();
            for x in &frontier {
                for p in REFERENCING {
                    for q in raw.quads_for_pattern(None, Some(*p), Some(x.as_ref().into()), None) {
                        if let NamedOrBlankNode::NamedNode(s) = q?.subject
                            && affected.insert(s.clone())
                        {
                            next.push(s);
                        }
                    }
                }
            }
            frontier = next;
        }
        let mut reader = docs::DocReader::new(raw);
        let mut indexed = 0usize;
        let mut deleted = 0usize;
        let mut to_embed = Vec::new();
        let mut sorted: Vec<NamedNode> = affected.into_iter().collect();
        sorted.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        for node in sorted {
            let old = self.text.get(node.as_str())?;
            match reader.doc(&node)? {
                Some(doc) => {
                    if old.as_ref().is_some_and(|o| o.digest() == doc.digest()) {
                        continue;
                    }
                    self.text.upsert(&doc)?;
                    indexed += 1;
                    to_embed.push(doc);
                }
                None => {
                    if old.is_some() {
                        self.text.delete(node.as_str());
                        self.vectors.remove(node.as_str());
                        deleted += 1;
                    }
                }
            }
        }
        let mut vectors = std::mem::replace(&mut self.vectors, VectorIndex::new(1, 1));
        let result = self.embed_into(&mut vectors, to_embed);
        self.vectors = vectors;
        result?;
        if self.vectors.needs_rebuild() {
            let all = self.text.all()?;
            let mut fresh = VectorIndex::new(self.embedder.dimension(), all.len());
            for chunk in all.chunks(2048) {
                self.embed_into(&mut fresh, chunk.to_vec())?;
            }
            self.vectors = fresh;
        }
        self.commit(versions)?;
        Ok(SyncReport {
            mode: "incremental",
            changed_sources: changed.len(),
            indexed,
            deleted,
            ..SyncReport::default()
        })
    }

    /// Saves a new vector generation, then commits the text index with a payload naming it:
    /// a crash in between leaves the old payload, and the next sync redoes the work.
    fn commit(&mut self, versions: BTreeMap<String, String>) -> Result<()> {
        let previous = self.payload.vectors_generation;
        let generation = previous + 1;
        if let Some(root) = &self.root {
            let dir = vectors::generation_dir(root, generation);
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
            self.vectors.save(&dir)?;
        }
        let payload = Payload {
            version: INDEX_VERSION,
            embedder: self.embedder.id(),
            vectors_generation: generation,
            sources: versions,
        };
        self.text.commit(&serde_json::to_string(&payload)?)?;
        self.payload = payload;
        if let Some(root) = &self.root {
            // Older generations are garbage now.
            for entry in std::fs::read_dir(root)?.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(n) = name
                    .strip_prefix("vectors-")
                    .and_then(|n| n.parse::<u64>().ok())
                    && n != generation
                {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        Ok(())
    }

    /// The documents that pass a request's filters (its query text is ignored), ordered by
    /// path: one page, and how many pass in all. REST listings use it.
    pub fn list(&self, request: &SearchRequest) -> Result<(Vec<EntityDoc>, usize)> {
        let filters = self.filters(request);
        self.text.list(&filters, request.offset, request.limit)
    }

    /// Runs a search.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse> {
        let start = Instant::now();
        let limit = if request.limit == 0 {
            10
        } else {
            request.limit.min(1000)
        };
        let words = analyze::words(&request.query);
        let content: Vec<String> = words
            .iter()
            .filter(|w| !analyze::is_stop_word(w))
            .cloned()
            .collect();
        let kept = if content.is_empty() {
            words.clone()
        } else {
            content
        };
        let mut tokens: Vec<analyze::Token> = analyze::expand(&kept)
            .into_iter()
            .map(|(w, position, expanded)| analyze::Token {
                text: analyze::stem(&w),
                position,
                expanded,
            })
            .collect();
        let mut seen = HashSet::new();
        tokens.retain(|t| seen.insert(t.text.clone()));

        let filters = self.filters(request);
        let pool = POOL.max(request.offset + limit);
        let text_hits = if request.mode != Mode::Vector && !tokens.is_empty() {
            self.text.search(&tokens, &filters, pool)?
        } else {
            Vec::new()
        };
        let found = if request.mode != Mode::Text && !request.query.trim().is_empty() {
            let q = self.embedder.embed_query(&request.query)?;
            // Kind and PII are in each point's label, so the vector index applies them itself
            // (it asks the graph for enough neighbours that about k pass). Other filters are
            // applied to the documents afterwards, so they need more neighbours to leave
            // enough.
            let labelled = label_filter(request);
            let k = if filters.len() == labelled.filters {
                pool
            } else {
                pool * 8
            };
            let mut found = self.vectors.search(&q, k, labelled.accept.as_deref())?;
            if request.mode == Mode::Hybrid {
                let best = found.first().map_or(0.0, |(_, s)| *s);
                found.retain(|(_, sim)| {
                    *sim >= VECTOR_FLOOR * best && *sim >= VECTOR_MIN_SIMILARITY
                });
            }
            found
        } else {
            Vec::new()
        };

        // Fusion.
        struct Candidate {
            doc: EntityDoc,
            text_rank: Option<usize>,
            vector_rank: Option<usize>,
            similarity: Option<f32>,
            score: f32,
        }
        let mut by_iri: HashMap<String, Candidate> = HashMap::new();
        for (i, (_, doc)) in text_hits.into_iter().enumerate() {
            by_iri.insert(
                doc.iri.clone(),
                Candidate {
                    doc,
                    text_rank: Some(i + 1),
                    vector_rank: None,
                    similarity: None,
                    score: 0.0,
                },
            );
        }
        // Vector hits the text side already returned passed the same filters; the others are
        // read in small batches, as far down the list as the pool needs, and filtered here.
        let mut rank = 0usize;
        for chunk in found.chunks(32) {
            if rank >= pool {
                break;
            }
            let missing: Vec<&str> = chunk
                .iter()
                .map(|(iri, _)| iri.as_str())
                .filter(|iri| !by_iri.contains_key(*iri))
                .collect();
            let mut fetched = self.text.get_many(&missing)?;
            for (iri, sim) in chunk {
                if rank >= pool {
                    break;
                }
                if let Some(c) = by_iri.get_mut(iri) {
                    rank += 1;
                    c.vector_rank = Some(rank);
                    c.similarity = Some(*sim);
                } else if let Some(doc) = fetched.remove(iri)
                    && (filters.is_empty() || matches_filters(&doc, request))
                {
                    rank += 1;
                    by_iri.insert(
                        iri.clone(),
                        Candidate {
                            doc,
                            text_rank: None,
                            vector_rank: Some(rank),
                            similarity: Some(*sim),
                            score: 0.0,
                        },
                    );
                }
            }
        }
        let mut candidates: Vec<Candidate> = by_iri.into_values().collect();
        for c in &mut candidates {
            let rrf = c
                .text_rank
                .map_or(0.0, |r| TEXT_WEIGHT / (RRF_K + r as f32))
                + c.vector_rank
                    .map_or(0.0, |r| VECTOR_WEIGHT / (RRF_K + r as f32));
            c.score = if request.mode == Mode::Hybrid {
                rrf * graph_boost(&c.doc)
            } else {
                rrf
            };
        }
        candidates.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.doc.iri.cmp(&b.doc.iri))
        });
        let mut facets = Facets::default();
        for c in &candidates {
            count_facets(&mut facets, &c.doc);
        }
        let total = candidates.len();
        let hits = candidates
            .into_iter()
            .skip(request.offset)
            .take(limit)
            .map(|c| {
                let reasons = reasons(&c.doc, &tokens, c.similarity, c.text_rank.is_some());
                let d = c.doc;
                Hit {
                    iri: d.iri,
                    kind: d.kind,
                    name: d.name,
                    label: d.label,
                    path: d.path,
                    description: d.description,
                    domain: d.domain,
                    owner: d.owner,
                    tags: d.tags,
                    pii: d.pii,
                    certified: d.certified,
                    quality: d.quality,
                    score: c.score,
                    text_rank: c.text_rank,
                    vector_rank: c.vector_rank,
                    reasons,
                }
            })
            .collect();
        Ok(SearchResponse {
            query: request.query.clone(),
            mode: request.mode,
            total,
            hits,
            facets,
            took_ms: start.elapsed().as_secs_f64() * 1e3,
        })
    }

    fn filters(&self, r: &SearchRequest) -> Vec<(&'static str, Vec<String>)> {
        let mut f = Vec::new();
        if !r.kinds.is_empty() {
            f.push((
                "f_kind",
                r.kinds.iter().map(|k| k.as_str().to_owned()).collect(),
            ));
        }
        for (name, values) in [
            ("f_domain", &r.domains),
            ("f_tag", &r.tags),
            ("f_owner", &r.owners),
            ("f_system", &r.systems),
        ] {
            if !values.is_empty() {
                f.push((name, values.clone()));
            }
        }
        if let Some(p) = r.pii {
            f.push(("f_pii", vec![p.to_string()]));
        }
        if let Some(t) = &r.tenant {
            f.push(("f_tenant", vec![t.clone()]));
        }
        if !r.paths.is_empty() {
            f.push(("sort", r.paths.clone()));
        }
        f
    }
}

/// A vector point's label: its kind's place in [`EntityKind::ALL`] (0 for none) and, in the
/// top bit, whether it holds personal data.
fn vector_label(doc: &EntityDoc) -> u8 {
    let kind = doc
        .kind
        .and_then(|k| EntityKind::ALL.iter().position(|x| *x == k))
        .map_or(0, |i| (i + 1) as u8);
    kind | if doc.pii { 0x80 } else { 0 }
}

/// The part of a request's filters that vector labels can decide.
struct LabelFilter {
    /// How many of the request's filters it covers.
    filters: usize,
    accept: Option<Box<dyn Fn(u8) -> bool>>,
}

fn label_filter(r: &SearchRequest) -> LabelFilter {
    let kinds: Vec<u8> = r
        .kinds
        .iter()
        .filter_map(|k| EntityKind::ALL.iter().position(|x| x == k))
        .map(|i| (i + 1) as u8)
        .collect();
    let by_kind = !r.kinds.is_empty();
    let pii = r.pii;
    let filters = usize::from(by_kind) + usize::from(pii.is_some());
    if filters == 0 {
        return LabelFilter {
            filters,
            accept: None,
        };
    }
    LabelFilter {
        filters,
        accept: Some(Box::new(move |label: u8| {
            (!by_kind || kinds.contains(&(label & 0x7f)))
                && pii.is_none_or(|p| p == (label & 0x80 != 0))
        })),
    }
}

fn any_eq(values: &[String], wanted: &[String]) -> bool {
    wanted.is_empty()
        || values
            .iter()
            .any(|v| wanted.iter().any(|w| text::keyword(v) == text::keyword(w)))
}

/// The documents of `nodes` (in their order, skipping those of no searchable kind), read
/// by `threads` readers at once, each with its own memo.
fn read_docs(store: &GraphStore, nodes: &[NamedNode], threads: usize) -> Result<Vec<EntityDoc>> {
    let per = nodes.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let readers: Vec<_> = nodes
            .chunks(per)
            .map(|part| {
                s.spawn(move || -> Result<Vec<EntityDoc>> {
                    let mut reader = docs::DocReader::new(store.raw());
                    let mut out = Vec::with_capacity(part.len());
                    for node in part {
                        if let Some(doc) = reader.doc(node)? {
                            out.push(doc);
                        }
                    }
                    Ok(out)
                })
            })
            .collect();
        let mut all = Vec::with_capacity(nodes.len());
        for r in readers {
            all.extend(
                r.join()
                    .map_err(|_| Error::Index("a document reader panicked".into()))??,
            );
        }
        Ok(all)
    })
}

/// Whether a document passes a request's filters (the vector side's post-filter; the text
/// side filters inside tantivy with the same rules).
pub fn matches_filters(doc: &EntityDoc, r: &SearchRequest) -> bool {
    (r.kinds.is_empty() || doc.kind.is_some_and(|k| r.kinds.contains(&k)))
        && any_eq(&doc.domain, &r.domains)
        && any_eq(&doc.tags, &r.tags)
        && any_eq(&doc.owner, &r.owners)
        && any_eq(doc.system.as_slice(), &r.systems)
        && r.pii.is_none_or(|p| p == doc.pii)
        && r.tenant
            .as_ref()
            .is_none_or(|t| text::tenants_of(&doc.graphs).contains(t))
        && (r.paths.is_empty()
            || r.paths
                .iter()
                .any(|p| text::keyword(p) == text::keyword(&doc.path)))
}

/// Graph signals after fusion: certification, quality, popularity. Glossary mappings act
/// earlier, at retrieval: a column's document carries the labels and synonyms of the terms
/// it is mapped to, so a query naming a term finds its columns (and says so in the reasons).
fn graph_boost(doc: &EntityDoc) -> f32 {
    let mut b = 1.0f32;
    // The rest are tie-breakers: a few percent, never enough to outrank a better match.
    if doc.certified {
        b *= 1.03;
    }
    if let Some(q) = doc.quality {
        b *= 0.98 + 0.04 * q as f32;
    }
    b * (1.0 + 0.01 * (1.0 + doc.popularity.min(10_000) as f32).ln())
}

fn count_facets(f: &mut Facets, d: &EntityDoc) {
    if let Some(k) = d.kind {
        *f.kind.entry(k.as_str().to_owned()).or_default() += 1;
    }
    for v in &d.domain {
        *f.domain.entry(v.clone()).or_default() += 1;
    }
    for v in &d.tags {
        *f.tag.entry(v.clone()).or_default() += 1;
    }
    for v in &d.owner {
        *f.owner.entry(v.clone()).or_default() += 1;
    }
    *f.pii.entry(d.pii.to_string()).or_default() += 1;
    if let Some(s) = &d.system {
        *f.system.entry(s.clone()).or_default() += 1;
    }
}

/// Whether `a` and `b` are at most `max` edits apart (insert, delete, replace, swap).
fn levenshtein_at_most(a: &str, b: &str, max: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    // Optimal string alignment: a swap of neighbours costs one, as in the full-text side.
    let mut before: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(before[j - 2] + 1);
            }
        }
        before = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()] <= max
}

/// Marks the chunks of `value` (split at spaces) that contain a matching word.
fn highlight(value: &str, matches: &dyn Fn(&str) -> bool) -> (String, bool) {
    let mut any = false;
    let parts: Vec<String> = value
        .split(' ')
        .map(|chunk| {
            let hit = analyze::expand(&analyze::words(chunk))
                .iter()
                .any(|(w, _, _)| matches(&analyze::stem(w)));
            if hit {
                any = true;
                format!("«{chunk}»")
            } else {
                chunk.to_owned()
            }
        })
        .collect();
    (parts.join(" "), any)
}

fn reasons(
    doc: &EntityDoc,
    tokens: &[analyze::Token],
    similarity: Option<f32>,
    lexical: bool,
) -> Vec<Reason> {
    let mut out = Vec::new();
    if lexical {
        let exact: HashSet<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        let expanded: HashSet<&str> = tokens
            .iter()
            .filter(|t| t.expanded)
            .map(|t| t.text.as_str())
            .collect();
        for f in text::TEXT_FIELDS {
            for value in text::field_values(doc, f.name) {
                let (marked, hit) = highlight(value, &|w| exact.contains(w));
                if hit {
                    let via = if f.name == "synonyms" {
                        if doc.terms.iter().any(|t| t == value) {
                            Some(format!("glossary term {value}"))
                        } else {
                            Some("synonym".to_owned())
                        }
                    } else {
                        let value_stems: HashSet<String> = analyze::analyze(value)
                            .into_iter()
                            .map(|t| t.text)
                            .collect();
                        let only_expanded = exact
                            .iter()
                            .filter(|w| value_stems.contains(**w))
                            .all(|w| expanded.contains(w));
                        only_expanded.then(|| "abbreviation".to_owned())
                    };
                    out.push(Reason {
                        field: f.name.to_owned(),
                        highlight: marked,
                        via,
                    });
                    continue;
                }
                if f.fuzzy {
                    let (marked, hit) = highlight(value, &|w| {
                        tokens.iter().any(|t| {
                            let n = t.text.chars().count();
                            // The distances the full-text side tolerates.
                            !t.expanded
                                && n >= 4
                                && levenshtein_at_most(&t.text, w, if n >= 8 { 2 } else { 1 })
                        })
                    });
                    if hit {
                        out.push(Reason {
                            field: f.name.to_owned(),
                            highlight: marked,
                            via: Some("typo".to_owned()),
                        });
                    }
                }
            }
            if out.len() >= 3 {
                break;
            }
        }
    }
    if let Some(s) = similarity
        && (out.is_empty() || !lexical)
    {
        out.push(Reason {
            field: "meaning".to_owned(),
            highlight: doc.label.clone().unwrap_or_else(|| doc.name.clone()),
            via: Some(format!("vector similarity {s:.2}")),
        });
    }
    out.truncate(3);
    out
}
