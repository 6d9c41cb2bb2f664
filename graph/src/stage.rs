//! What a load is about to write, held in memory before anything is stored.
//!
//! A load first reads every input into a [`Staged`] set of quads (terms interned, three
//! sorted indexes), validates the store *as it would be* through an [`Overlay`] (the staged
//! graphs in place of their stored versions), and only then writes the difference between the
//! stored and the staged graphs. Small differences go through one transaction. Large ones go
//! through RocksDB's atomic ingestion of sorted files (oxigraph's bulk loader), with a
//! journal that makes the removals that follow survive a crash; see [`GraphStore::load`].
//!
//! [`GraphStore::load`]: crate::GraphStore::load

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use hashbrown::HashTable;
use oxigraph::io::{RdfFormat, RdfParser};
use oxigraph::model::{
    GraphName, GraphNameRef, Literal, NamedNode, NamedNodeRef, NamedOrBlankNode,
    NamedOrBlankNodeRef, Quad, QuadRef, Term, TermRef,
};
use oxigraph::sparql::{QueryResults, QuerySolution};
use oxigraph::store::{StorageError, Store};
use rustc_hash::FxHasher;
use spareval::{InternalQuad, QueryEvaluator, QueryableDataset};

use crate::error::{Error, Result};
use crate::loader::{Progress, StagedLoad};
use crate::vocab::{gg, graphs};

/// A quad as four term ids: subject, predicate, object, graph.
type Ids = [u32; 4];

/// Quads in memory, their terms interned, sorted three ways for pattern lookups.
#[derive(Default)]
pub(crate) struct Staged {
    terms: Vec<Term>,
    /// Ids of `terms`, found by hashing a term reference: lookups never allocate.
    ids: HashTable<u32>,
    /// Sorted by subject, predicate, object, graph; no duplicates.
    spog: Vec<Ids>,
    /// Positions in `spog`, sorted by predicate, object, subject.
    pos: Vec<u32>,
    /// Positions in `spog`, sorted by object, subject, predicate.
    osp: Vec<u32>,
    sealed: bool,
}

impl std::fmt::Debug for Staged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staged")
            .field("terms", &self.terms.len())
            .field("quads", &self.spog.len())
            .finish_non_exhaustive()
    }
}

fn hash(term: TermRef<'_>) -> u64 {
    let mut h = FxHasher::default();
    term.hash(&mut h);
    h.finish()
}

impl Staged {
    fn intern(&mut self, term: TermRef<'_>) -> u32 {
        let h = hash(term);
        let terms = &self.terms;
        if let Some(id) = self.ids.find(h, |id| terms[*id as usize].as_ref() == term) {
            return *id;
        }
        let id = u32::try_from(self.terms.len()).unwrap_or(u32::MAX);
        self.terms.push(term.into_owned());
        let terms = &self.terms;
        self.ids
            .insert_unique(h, id, |id| hash(terms[*id as usize].as_ref()));
        id
    }

    /// The id of a term already staged.
    pub(crate) fn term_ref(&self, term: TermRef<'_>) -> Option<u32> {
        self.ids
            .find(hash(term), |id| self.terms[*id as usize].as_ref() == term)
            .copied()
    }

    /// Adds a quad (before [`Self::seal`]).
    pub(crate) fn add(&mut self, quad: QuadRef<'_>) {
        debug_assert!(!self.sealed, "quads are added before the set is sealed");
        let s = self.intern(quad.subject.into());
        let p = self.intern(quad.predicate.into());
        let o = self.intern(quad.object);
        let g = match quad.graph_name {
            GraphNameRef::NamedNode(n) => self.intern(n.into()),
            GraphNameRef::BlankNode(b) => self.intern(b.into()),
            GraphNameRef::DefaultGraph => u32::MAX,
        };
        self.spog.push([s, p, o, g]);
    }

    /// Sorts, removes duplicates and builds the indexes; no quad is added after.
    pub(crate) fn seal(&mut self) {
        self.spog.sort_unstable();
        self.spog.dedup();
        let n = u32::try_from(self.spog.len()).unwrap_or(u32::MAX);
        let key = |spog: &[Ids], i: u32, order: [usize; 4]| {
            let q = spog[i as usize];
            [q[order[0]], q[order[1]], q[order[2]], q[order[3]]]
        };
        let mut pos: Vec<u32> = (0..n).collect();
        pos.sort_unstable_by_key(|i| key(&self.spog, *i, [1, 2, 0, 3]));
        let mut osp: Vec<u32> = (0..n).collect();
        osp.sort_unstable_by_key(|i| key(&self.spog, *i, [2, 0, 1, 3]));
        self.pos = pos;
        self.osp = osp;
        self.sealed = true;
    }

    /// How many quads are staged: distinct ones once sealed.
    pub(crate) fn len(&self) -> usize {
        self.spog.len()
    }

    fn quad(&self, q: Ids) -> Quad {
        let t = |i: u32| self.terms[i as usize].clone();
        let subject = match t(q[0]) {
            Term::NamedNode(n) => NamedOrBlankNode::NamedNode(n),
            Term::BlankNode(b) => NamedOrBlankNode::BlankNode(b),
            // Subjects are staged from quads, whose subjects are never literals.
            Term::Literal(_) => NamedOrBlankNode::NamedNode(NamedNode::new_unchecked("")),
        };
        let predicate = match t(q[1]) {
            Term::NamedNode(n) => n,
            _ => NamedNode::new_unchecked(""),
        };
        let graph_name = match q[3] {
            u32::MAX => GraphName::DefaultGraph,
            g => match t(g) {
                Term::NamedNode(n) => GraphName::NamedNode(n),
                Term::BlankNode(b) => GraphName::BlankNode(b),
                Term::Literal(_) => GraphName::DefaultGraph,
            },
        };
        Quad::new(subject, predicate, t(q[2]), graph_name)
    }

    /// The ids of `quad` when it is staged.
    fn find(&self, quad: QuadRef<'_>) -> Option<Ids> {
        self.ids_of(quad)
            .filter(|ids| self.spog.binary_search(ids).is_ok())
    }

    /// The ids of a quad whose terms are all staged.
    fn ids_of(&self, quad: QuadRef<'_>) -> Option<Ids> {
        let s = self.term_ref(TermRef::from(quad.subject))?;
        let p = self.term_ref(TermRef::from(quad.predicate))?;
        let o = self.term_ref(quad.object)?;
        let g = match quad.graph_name {
            GraphNameRef::NamedNode(n) => self.term_ref(n.into())?,
            GraphNameRef::BlankNode(b) => self.term_ref(b.into())?,
            GraphNameRef::DefaultGraph => u32::MAX,
        };
        Some([s, p, o, g])
    }

    /// The staged quads matching a pattern; `graph` `None` means every graph.
    pub(crate) fn matching(
        &self,
        subject: Option<TermRef<'_>>,
        predicate: Option<TermRef<'_>>,
        object: Option<TermRef<'_>>,
        graph: Option<GraphNameRef<'_>>,
    ) -> Vec<Quad> {
        // A bound term that is not staged matches nothing.
        let bound = |t: Option<TermRef<'_>>| match t {
            None => Some(None),
            Some(t) => self.term_ref(t).map(Some),
        };
        let (Some(s), Some(p), Some(o)) = (bound(subject), bound(predicate), bound(object)) else {
            return Vec::new();
        };
        let g = match graph {
            None => None,
            Some(GraphNameRef::DefaultGraph) => Some(u32::MAX),
            Some(GraphNameRef::NamedNode(n)) => match self.term_ref(n.into()) {
                Some(id) => Some(id),
                None => return Vec::new(),
            },
            Some(GraphNameRef::BlankNode(b)) => match self.term_ref(b.into()) {
                Some(id) => Some(id),
                None => return Vec::new(),
            },
        };
        let keep = |q: &Ids| {
            s.is_none_or(|s| q[0] == s)
                && p.is_none_or(|p| q[1] == p)
                && o.is_none_or(|o| q[2] == o)
                && g.is_none_or(|g| q[3] == g)
        };
        let out = |q: &Ids| keep(q).then(|| self.quad(*q));
        if let Some(s) = s {
            // Subject first, then the predicate and the object when they follow it.
            let prefix: Vec<u32> = match (p, o) {
                (Some(p), Some(o)) => vec![s, p, o],
                (Some(p), None) => vec![s, p],
                _ => vec![s],
            };
            let range = range(&self.spog, |q| cmp_prefix(q, &prefix));
            self.spog[range].iter().filter_map(out).collect()
        } else if let Some(p) = p {
            let prefix: Vec<u32> = match o {
                Some(o) => vec![p, o],
                None => vec![p],
            };
            let range = range(&self.pos, |i| {
                let q = self.spog[*i as usize];
                cmp_prefix(&[q[1], q[2]], &prefix)
            });
            self.pos[range]
                .iter()
                .filter_map(|i| out(&self.spog[*i as usize]))
                .collect()
        } else if let Some(o) = o {
            let range = range(&self.osp, |i| self.spog[*i as usize][2].cmp(&o));
            self.osp[range]
                .iter()
                .filter_map(|i| out(&self.spog[*i as usize]))
                .collect()
        } else {
            self.spog.iter().filter_map(out).collect()
        }
    }
}

/// Compares a key's first `prefix.len()` parts with `prefix`.
fn cmp_prefix(key: &[u32], prefix: &[u32]) -> Ordering {
    key.iter().take(prefix.len()).cmp(prefix.iter())
}

/// The range of a sorted slice whose items compare equal.
fn range<T>(items: &[T], cmp: impl Fn(&T) -> Ordering) -> std::ops::Range<usize> {
    let start = items.partition_point(|x| cmp(x) == Ordering::Less);
    let end = start + items[start..].partition_point(|x| cmp(x) != Ordering::Greater);
    start..end
}

/// The store as a load would leave it: the staged quads in place of everything stored in
/// the graphs the load replaces.
pub(crate) struct Overlay<'a> {
    pub(crate) staged: &'a Staged,
    /// The store, for the quads of the other graphs; `None` when [`add_context`] copied
    /// them all into `staged`.
    pub(crate) store: Option<&'a Store>,
    pub(crate) replaced: &'a HashSet<NamedNode>,
}

/// Copies every stored quad outside the replaced graphs into `staged` when there are at most
/// `cap` of them, so that validation reads memory only. Returns whether it did. Those quads
/// keep their graphs, which the load does not write.
pub(crate) fn add_context(
    staged: &mut Staged,
    store: &Store,
    replaced: &HashSet<NamedNode>,
    cap: usize,
) -> Result<bool> {
    let mut quads: Vec<Quad> = Vec::new();
    let mut graphs: Vec<GraphName> = vec![GraphName::DefaultGraph];
    for g in store.named_graphs() {
        match g? {
            NamedOrBlankNode::NamedNode(n) if replaced.contains(&n) => {}
            NamedOrBlankNode::NamedNode(n) => graphs.push(n.into()),
            NamedOrBlankNode::BlankNode(b) => graphs.push(b.into()),
        }
    }
    for g in &graphs {
        for q in store.quads_for_pattern(None, None, None, Some(g.as_ref())) {
            quads.push(q?);
            if quads.len() > cap {
                return Ok(false);
            }
        }
    }
    for q in &quads {
        staged.add(q.as_ref());
    }
    Ok(true)
}

impl Overlay<'_> {
    fn matching(
        &self,
        subject: Option<TermRef<'_>>,
        predicate: Option<NamedNodeRef<'_>>,
        object: Option<TermRef<'_>>,
        graph: Option<GraphNameRef<'_>>,
    ) -> std::result::Result<Vec<Quad>, StorageError> {
        let mut out = self
            .staged
            .matching(subject, predicate.map(Into::into), object, graph);
        let Some(store) = self.store else {
            return Ok(out);
        };
        if let Some(GraphNameRef::NamedNode(g)) = graph
            && self.replaced.contains(&g.into_owned())
        {
            return Ok(out);
        }
        let stored_subject: Option<NamedOrBlankNodeRef<'_>> = match subject {
            None => None,
            Some(TermRef::NamedNode(n)) => Some(n.into()),
            Some(TermRef::BlankNode(b)) => Some(b.into()),
            Some(TermRef::Literal(_)) => return Ok(out),
        };
        for q in store.quads_for_pattern(stored_subject, predicate, object, graph) {
            let q = q?;
            if let GraphName::NamedNode(g) = &q.graph_name
                && self.replaced.contains(g)
            {
                continue;
            }
            out.push(q);
        }
        Ok(out)
    }
}

impl crate::shacl::ShapeData for Overlay<'_> {
    fn select(&self, sparql: &str) -> Result<Vec<QuerySolution>> {
        let query = spargebra::SparqlParser::new()
            .parse_query(sparql)
            .map_err(|e| Error::Syntax {
                message: e.to_string(),
            })?;
        let evaluator = QueryEvaluator::new();
        let mut prepared = evaluator.prepare(&query);
        prepared.dataset_mut().set_default_graph_as_union();
        match prepared
            .execute(OverlayDataset(self))
            .map_err(|e| Error::Query(e.to_string()))?
        {
            QueryResults::Solutions(s) => s
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| Error::Query(e.to_string())),
            _ => Err(Error::invalid("query", "expected a SELECT query")),
        }
    }

    fn quads(
        &self,
        subject: Option<NamedOrBlankNodeRef<'_>>,
        predicate: Option<NamedNodeRef<'_>>,
        object: Option<TermRef<'_>>,
        graph: Option<GraphNameRef<'_>>,
    ) -> Result<Vec<Quad>> {
        Ok(self.matching(subject.map(Into::into), predicate, object, graph)?)
    }
}

/// [`Overlay`] as a dataset for the SPARQL evaluator; terms are their own ids.
#[derive(Clone, Copy)]
struct OverlayDataset<'a, 'b>(&'a Overlay<'b>);

impl<'a, 'b: 'a> QueryableDataset<'a> for OverlayDataset<'a, 'b> {
    type InternalTerm = Term;
    type Error = StorageError;

    fn internal_quads_for_pattern(
        &self,
        subject: Option<&Term>,
        predicate: Option<&Term>,
        object: Option<&Term>,
        graph_name: Option<Option<&Term>>,
    ) -> impl Iterator<Item = std::result::Result<InternalQuad<Term>, StorageError>> + use<'a, 'b>
    {
        let graph: Option<GraphNameRef<'_>> = match graph_name {
            None => None,
            Some(None) => Some(GraphNameRef::DefaultGraph),
            Some(Some(Term::NamedNode(n))) => Some(n.as_ref().into()),
            Some(Some(Term::BlankNode(b))) => Some(b.as_ref().into()),
            Some(Some(Term::Literal(_))) => return Vec::new().into_iter(),
        };
        let predicate = match predicate {
            None => None,
            Some(Term::NamedNode(n)) => Some(n.as_ref()),
            Some(_) => return Vec::new().into_iter(),
        };
        match self.0.matching(
            subject.map(Term::as_ref),
            predicate,
            object.map(Term::as_ref),
            graph,
        ) {
            Ok(quads) => quads
                .into_iter()
                .map(|q| {
                    Ok(InternalQuad {
                        subject: q.subject.into(),
                        predicate: q.predicate.into(),
                        object: q.object,
                        graph_name: match q.graph_name {
                            GraphName::NamedNode(n) => Some(n.into()),
                            GraphName::BlankNode(b) => Some(b.into()),
                            GraphName::DefaultGraph => None,
                        },
                    })
                })
                .collect::<Vec<_>>()
                .into_iter(),
            Err(e) => vec![Err(e)].into_iter(),
        }
    }

    fn internalize_term(&self, term: Term) -> std::result::Result<Term, StorageError> {
        Ok(term)
    }

    fn externalize_term(&self, term: Term) -> std::result::Result<Term, StorageError> {
        Ok(term)
    }
}

/// The journal of a large replacement, in the data directory, while it is written.
pub(crate) const JOURNAL: &str = "load-journal.nq";

/// Writes a staged load: each graph it replaces gets exactly the staged quads, and each
/// graph's record in the meta graph the new record. Returns how many quads each graph held
/// before.
///
/// Only the difference is written. A difference under `bulk_from` quads (or any difference,
/// in memory) is one transaction. A larger one is ingested as sorted files, which RocksDB adds
/// atomically; when stored quads must also go, they are removed by a transaction right after,
/// and a journal in `dir` lets [`recover`] finish that removal if the process stops in
/// between. Readers in that moment see the union of the old and the new version.
pub(crate) fn write(
    store: &Store,
    dir: Option<&Path>,
    load: &StagedLoad,
    bulk_from: usize,
    progress: &dyn Progress,
) -> Result<HashMap<String, u64>> {
    if let Some(dir) = dir {
        recover(store, dir)?;
    }
    let staged = &load.quads;
    // Only the quads of the replaced graphs are written (validation may have added others).
    let written: HashSet<u32> = load
        .touched
        .iter()
        .filter_map(|g| staged.term_ref(g.as_ref().into()))
        .collect();
    let staged_quads = staged.spog.iter().filter(|q| written.contains(&q[3]));
    let total = staged_quads.clone().count();
    progress.phase("comparing with the stored graphs", None);
    let mut held: HashMap<String, u64> = HashMap::new();
    let mut removals: Vec<Quad> = Vec::new();
    // Staged quads that are stored already.
    let mut kept: HashSet<Ids> = HashSet::new();
    for g in &load.touched {
        let mut n = 0;
        for q in store.quads_for_pattern(None, None, None, Some(g.as_ref().into())) {
            let q = q?;
            n += 1;
            match staged.find(q.as_ref()) {
                Some(ids) => {
                    kept.insert(ids);
                }
                None => removals.push(q),
            }
        }
        held.insert(g.as_str().to_owned(), n);
    }
    let new_records: HashSet<&Quad> = load.records.iter().collect();
    let mut old_records: HashSet<Quad> = HashSet::new();
    for g in &load.touched {
        for q in store.quads_for_pattern(
            Some(g.as_ref().into()),
            None,
            None,
            Some(GraphNameRef::NamedNode(graphs::META)),
        ) {
            let q = q?;
            if new_records.contains(&q) {
                old_records.insert(q);
            } else {
                removals.push(q);
            }
        }
    }
    progress.finish();
    let additions = || {
        staged_quads
            .clone()
            .filter(|ids| !kept.contains(*ids))
            .map(|ids| staged.quad(*ids))
            .chain(
                load.records
                    .iter()
                    .filter(|q| !old_records.contains(*q))
                    .cloned(),
            )
    };
    let added = total - kept.len() + load.records.len() - old_records.len();
    let changes = added + removals.len();
    let Some(dir) = dir.filter(|_| changes >= bulk_from) else {
        progress.phase("committing", Some(changes as u64));
        let mut tx = store.start_transaction()?;
        for q in &removals {
            tx.remove(q);
        }
        for q in additions() {
            tx.insert(&q);
        }
        tx.commit()?;
        progress.finish();
        return Ok(held);
    };
    let _span = tracing::info_span!("bulk write", added, removed = removals.len()).entered();
    if removals.is_empty() {
        progress.phase("writing sorted files", Some(added as u64));
        bulk(store, additions(), added)?;
        progress.finish();
        return Ok(held);
    }
    let token = token();
    let marker = marker(&token);
    progress.phase("journaling removals", Some(removals.len() as u64));
    write_journal(dir, &token, &removals)?;
    progress.phase("writing sorted files", Some(added as u64));
    if let Err(e) = bulk(
        store,
        additions().chain(std::iter::once(marker.clone())),
        added + 1,
    ) {
        // Nothing was ingested: the journal is moot.
        let _ = std::fs::remove_file(dir.join(JOURNAL));
        return Err(e);
    }
    progress.phase("removing replaced quads", Some(removals.len() as u64));
    finish(store, &removals, &marker)?;
    std::fs::remove_file(dir.join(JOURNAL)).map_err(|e| Error::io(dir.join(JOURNAL), e))?;
    progress.finish();
    Ok(held)
}

/// Ingests `count` quads as sorted files: all of them or, on any error, none.
fn bulk(store: &Store, quads: impl Iterator<Item = Quad>, count: usize) -> Result<()> {
    // One batch per thread, so that the threads finish together; at most a million quads a
    // batch, as oxigraph does by default.
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let batch = count.div_ceil(threads).clamp(10_000, 1_000_000);
    let mut loader = store
        .bulk_loader()
        .with_num_threads(threads)
        .with_max_memory_size_in_megabytes((batch * threads).div_ceil(1000));
    loader.load_quads(quads)?;
    loader.commit()?;
    Ok(())
}

/// Removes the replaced quads and the marker of a load, in one transaction.
fn finish(store: &Store, removals: &[Quad], marker: &Quad) -> Result<()> {
    let mut tx = store.start_transaction()?;
    for q in removals {
        tx.remove(q);
    }
    tx.remove(marker);
    tx.commit()?;
    Ok(())
}

/// A token that names one load.
fn token() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}-{:x}", std::process::id())
}

/// The quad in the meta graph that says a load's new quads are stored.
fn marker(token: &str) -> Quad {
    Quad::new(
        NamedNode::new_unchecked(format!("urn:govgraph:load:{token}")),
        gg::PENDING_LOAD,
        Literal::new_simple_literal(token),
        graphs::META,
    )
}

/// Writes the quads a load will remove, durably, before its new quads are stored.
fn write_journal(dir: &Path, token: &str, removals: &[Quad]) -> Result<()> {
    let path = dir.join(JOURNAL);
    let io = |e| Error::io(&path, e);
    let mut out = BufWriter::new(File::create(&path).map_err(io)?);
    writeln!(out, "# govgraph load {token}").map_err(io)?;
    for q in removals {
        writeln!(out, "{q} .").map_err(io)?;
    }
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok(())
}

/// Finishes a large load that stopped between storing its new quads and removing the old
/// ones, from its journal; discards the journal of one that stored nothing. Returns whether
/// a load was finished.
pub(crate) fn recover(store: &Store, dir: &Path) -> Result<bool> {
    let path = dir.join(JOURNAL);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let mut reader = BufReader::new(file);
    let mut first = String::new();
    reader
        .read_line(&mut first)
        .map_err(|e| Error::io(&path, e))?;
    let token = first
        .trim()
        .strip_prefix("# govgraph load ")
        .map(str::to_owned);
    let marker = token.as_deref().map(marker);
    let landed = match &marker {
        Some(m) => store.contains(m)?,
        None => false,
    };
    if let (true, Some(marker)) = (landed, marker) {
        let location = path.display().to_string();
        let removals = RdfParser::from_format(RdfFormat::NQuads)
            .for_reader(reader)
            .collect::<std::result::Result<Vec<Quad>, _>>()
            .map_err(|e| crate::loader::parse_error(&location, e))?;
        finish(store, &removals, &marker)?;
        tracing::warn!(
            removed = removals.len(),
            "finished a load that had stopped between its two steps"
        );
    } else {
        tracing::warn!("discarded the journal of a load that stored nothing");
    }
    std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
    Ok(landed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use oxigraph::model::Literal;

    fn n(s: &str) -> NamedNode {
        NamedNode::new_unchecked(format!("http://x/{s}"))
    }

    fn staged(quads: &[Quad]) -> Staged {
        let mut s = Staged::default();
        for q in quads {
            s.add(q.as_ref());
        }
        s.seal();
        s
    }

    #[test]
    fn lookups_match_a_scan_for_every_pattern() {
        let g1 = GraphName::NamedNode(n("g1"));
        let g2 = GraphName::NamedNode(n("g2"));
        let mut quads = Vec::new();
        for s in 0..6 {
            for p in 0..3 {
                let o: Term = if (s + p) % 2 == 0 {
                    n(&format!("o{}", (s * p) % 4)).into()
                } else {
                    Literal::new_simple_literal(format!("v{}", s % 3)).into()
                };
                let g = if s % 2 == 0 { &g1 } else { &g2 };
                quads.push(Quad::new(
                    n(&format!("s{s}")),
                    n(&format!("p{p}")),
                    o,
                    g.clone(),
                ));
            }
        }
        quads.push(quads[0].clone());
        let set = staged(&quads);
        assert_eq!(set.len(), quads.len() - 1);
        let terms: Vec<Option<Term>> = vec![
            None,
            Some(n("s2").into()),
            Some(n("p1").into()),
            Some(n("o0").into()),
            Some(Literal::new_simple_literal("v1").into()),
            Some(n("absent").into()),
        ];
        let graphs = [
            None,
            Some(g1.clone()),
            Some(g2.clone()),
            Some(GraphName::DefaultGraph),
        ];
        for s in &terms {
            for p in &terms {
                for o in &terms {
                    for g in &graphs {
                        let mut got = set.matching(
                            s.as_ref().map(Term::as_ref),
                            p.as_ref().map(Term::as_ref),
                            o.as_ref().map(Term::as_ref),
                            g.as_ref().map(GraphName::as_ref),
                        );
                        let mut want: Vec<Quad> = quads[..quads.len() - 1]
                            .iter()
                            .filter(|q| {
                                s.as_ref()
                                    .is_none_or(|s| Term::from(q.subject.clone()) == *s)
                                    && p.as_ref()
                                        .is_none_or(|p| Term::from(q.predicate.clone()) == *p)
                                    && o.as_ref().is_none_or(|o| q.object == *o)
                                    && g.as_ref().is_none_or(|g| q.graph_name == *g)
                            })
                            .cloned()
                            .collect();
                        got.sort_by_key(ToString::to_string);
                        want.sort_by_key(ToString::to_string);
                        assert_eq!(got, want, "{s:?} {p:?} {o:?} {g:?}");
                    }
                }
            }
        }
        assert!(set.find(quads[3].as_ref()).is_some());
        let absent = Quad::new(n("s0"), n("p0"), n("zzz"), g1.clone());
        assert!(set.find(absent.as_ref()).is_none());
    }

    #[test]
    fn the_overlay_reads_the_same_from_memory_as_from_the_store() {
        use crate::shacl::ShapeData;
        let store = Store::new().unwrap();
        let old = GraphName::NamedNode(n("old"));
        let kept = GraphName::NamedNode(n("kept"));
        for (s, o, g) in [
            ("a", "x", &old),
            ("b", "y", &old),
            ("a", "z", &kept),
            ("c", "x", &kept),
        ] {
            store
                .insert(&Quad::new(n(s), n("p"), n(o), g.clone()))
                .unwrap();
        }
        let replaced: HashSet<NamedNode> = [n("old")].into_iter().collect();
        let new_quads = [
            Quad::new(n("a"), n("p"), n("w"), old.clone()),
            Quad::new(n("d"), n("q"), n("x"), old.clone()),
        ];
        let from_store = staged(&new_quads);
        let mut with_context = Staged::default();
        for q in &new_quads {
            with_context.add(q.as_ref());
        }
        assert!(add_context(&mut with_context, &store, &replaced, 100).unwrap());
        with_context.seal();
        // Too many other quads: nothing is copied.
        assert!(!add_context(&mut Staged::default(), &store, &replaced, 1).unwrap());
        let modes = [
            Overlay {
                staged: &from_store,
                store: Some(&store),
                replaced: &replaced,
            },
            Overlay {
                staged: &with_context,
                store: None,
                replaced: &replaced,
            },
        ];
        let read = |o: &Overlay<'_>| {
            let mut out: Vec<String> = Vec::new();
            for (s, g) in [
                (None, None),
                (Some(n("a")), None),
                (Some(n("b")), None),
                (Some(n("a")), Some(old.clone())),
                (None, Some(kept.clone())),
            ] {
                let s = s.as_ref().map(|s| NamedOrBlankNodeRef::from(s.as_ref()));
                let mut quads: Vec<String> = o
                    .quads(s, None, None, g.as_ref().map(GraphName::as_ref))
                    .unwrap()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                quads.sort();
                out.push(quads.join(" | "));
            }
            let mut rows: Vec<String> = o
                .select("SELECT ?s ?o WHERE { ?s <http://x/p> ?o . ?t ?q ?o . FILTER(?t != ?s) }")
                .unwrap()
                .iter()
                .map(|r| format!("{:?} {:?}", r.get("s"), r.get("o")))
                .collect();
            rows.sort();
            out.push(rows.join(" | "));
            out
        };
        let first = read(&modes[0]);
        assert_eq!(first, read(&modes[1]));
        // The replaced graph's stored quads are gone; the new ones and the kept graph show.
        assert!(!first[0].contains("/y>"), "{first:?}");
        assert!(
            first[0].contains("/w>") && first[0].contains("/z>"),
            "{first:?}"
        );
        assert_eq!(first[2], "");
        assert!(
            first[5].contains("http://x/c") && first[5].contains("http://x/x"),
            "{first:?}"
        );
    }

    #[cfg(feature = "rocksdb")]
    fn quad(s: &str) -> Quad {
        Quad::new(
            n(s),
            n("p"),
            Literal::new_simple_literal("v"),
            NamedNode::new_unchecked("urn:govgraph:graph:x"),
        )
    }

    #[cfg(feature = "rocksdb")]
    #[test]
    fn a_replacement_stopped_between_its_steps_is_finished_when_the_store_opens() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = crate::GraphStore::open(dir.path(), Default::default()).unwrap();
            let raw = store.raw();
            raw.insert(&quad("old")).unwrap();
            raw.insert(&quad("kept")).unwrap();
            // The load stops right after its new quads are stored.
            write_journal(dir.path(), "t1", &[quad("old")]).unwrap();
            bulk(raw, [quad("new"), marker("t1")].into_iter(), 2).unwrap();
            assert!(raw.contains(&quad("old")).unwrap());
        }
        let store = crate::GraphStore::open(dir.path(), Default::default()).unwrap();
        let raw = store.raw();
        assert!(!raw.contains(&quad("old")).unwrap());
        assert!(raw.contains(&quad("new")).unwrap());
        assert!(raw.contains(&quad("kept")).unwrap());
        assert!(!raw.contains(&marker("t1")).unwrap());
        assert!(!dir.path().join(JOURNAL).exists());
    }

    #[cfg(feature = "rocksdb")]
    #[test]
    fn the_journal_of_a_load_that_stored_nothing_is_discarded() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = crate::GraphStore::open(dir.path(), Default::default()).unwrap();
            store.raw().insert(&quad("old")).unwrap();
            // The load stops before its sorted files are ingested.
            write_journal(dir.path(), "t2", &[quad("old")]).unwrap();
        }
        let store = crate::GraphStore::open(dir.path(), Default::default()).unwrap();
        assert!(store.raw().contains(&quad("old")).unwrap());
        assert!(!dir.path().join(JOURNAL).exists());
    }
}
