//! The graph store: oxigraph on disk (RocksDB) or in memory, with govgraph's rules around it.
//!
//! One process owns a data directory at a time (an advisory lock says who). The ontology and
//! the shapes live in their own graphs and are refreshed when the binary's copies change.
//! Every write goes through one writer lock, and is atomic: one transaction, or for a large
//! load one atomic ingestion of sorted files (see the `stage` module).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::fs::File;
#[cfg(feature = "rocksdb")]
use std::fs::OpenOptions;
use std::io::Write;
#[cfg(feature = "rocksdb")]
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use oxigraph::io::{RdfFormat, RdfSerializer};
use oxigraph::model::{
    GraphNameRef, NamedNode, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, Quad, Term,
    TermRef,
};
use oxigraph::sparql::{
    CancellationToken, PreparedSparqlQuery, QueryEvaluationError, QueryResults, QuerySolution,
    SparqlEvaluator, UpdateEvaluationError,
};
#[cfg(feature = "rocksdb")]
use oxigraph::store::StorageError;
use oxigraph::store::Store;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::iri::IriScheme;
use crate::loader::{
    LoadOptions, LoadReport, LoadSource, NoProgress, Progress, StageLoad, SuperClasses,
};
use crate::model::TripleRead;
use crate::ontology;
use crate::scope::{Scope, WriteTargets};
use crate::shacl::{Shapes, ValidationReport};
use crate::stage::{Overlay, add_context};
use crate::vocab::{self, gg, graphs, rdfs};

#[cfg(feature = "rocksdb")]
const LOCK_FILE: &str = "govgraph.lock";
#[cfg(feature = "rocksdb")]
const STORE_DIR: &str = "store";

/// A load of at least this many quads is validated from memory: the stored quads of the
/// graphs it does not replace are copied there first...
const CONTEXT_FROM: usize = 50_000;
/// ...when there are at most this many more of them than the load has quads.
const CONTEXT_QUADS: usize = 200_000;

/// Settings of a store.
#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    /// How entity IRIs are minted.
    pub scheme: IriScheme,
}

/// How a SPARQL query is run.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    /// Graphs that form the default graph (`default-graph-uri`). Empty: the query's FROM, or
    /// else the union of all graphs.
    pub default_graphs: Vec<NamedNode>,
    /// Graphs available to GRAPH (`named-graph-uri`). Empty: the query's FROM NAMED, or all.
    pub named_graphs: Vec<NamedNode>,
    /// Cancel evaluation after this long.
    pub timeout: Option<Duration>,
    /// The SERVICE endpoints the query may call, and how. `None`: every SERVICE is refused.
    pub federation: Option<crate::federation::Federation>,
}

/// A running query's results, and the timer that cancels it if it runs too long.
pub struct QueryOutcome {
    /// The results. They are computed lazily, while being read.
    pub results: QueryResults<'static>,
    /// Keeps the deadline armed until the results are consumed.
    pub deadline: Deadline,
}

impl std::fmt::Debug for QueryOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryOutcome")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// Cancels a query when its time is up, unless dropped first.
#[derive(Debug)]
pub struct Deadline {
    id: Option<u64>,
    timeout: Option<Duration>,
}

/// One thread for every deadline in the process: a heap of due times, and the tokens of the
/// deadlines still armed.
#[derive(Default)]
struct Timer {
    state: Mutex<TimerState>,
    wake: Condvar,
}

#[derive(Default)]
struct TimerState {
    due: BinaryHeap<Reverse<(Instant, u64)>>,
    armed: HashMap<u64, CancellationToken>,
    next: u64,
    running: bool,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<Timer> = OnceLock::new();
    TIMER.get_or_init(Timer::default)
}

/// Whether `text` may use `prefix`: whether a colon somewhere follows it and no other
/// character a prefix name can hold. A false alarm (in a string, say) costs nothing.
fn uses_prefix(text: &str, prefix: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, b)| {
        *b == b':'
            && i >= prefix.len()
            && &bytes[i - prefix.len()..i] == prefix.as_bytes()
            && (i == prefix.len() || {
                let c = bytes[i - prefix.len() - 1];
                !(c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.' || c >= 0x80)
            })
    })
}

fn timer_loop() {
    let t = timer();
    let mut s = match t.state.lock() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    };
    loop {
        let now = Instant::now();
        // Due deadlines fire; those of queries already finished leave the heap as soon as
        // they reach its top, so the thread wakes only for deadlines still armed.
        while let Some(Reverse((at, id))) = s.due.peek().copied() {
            let armed = s.armed.contains_key(&id);
            if armed && at > now {
                break;
            }
            s.due.pop();
            if armed && let Some(token) = s.armed.remove(&id) {
                token.cancel();
            }
        }
        let wait = s
            .due
            .peek()
            .map(|Reverse((at, _))| at.saturating_duration_since(now));
        s = match wait {
            Some(w) => match t.wake.wait_timeout(s, w) {
                Ok((s, _)) => s,
                Err(p) => p.into_inner().0,
            },
            None => match t.wake.wait(s) {
                Ok(s) => s,
                Err(p) => p.into_inner(),
            },
        };
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let Some(id) = self.id
            && let Ok(mut s) = timer().state.lock()
        {
            // The heap entry stays until the timer thread next finds it on top; only the
            // token matters.
            s.armed.remove(&id);
        }
    }
}

impl Deadline {
    fn arm(timeout: Option<Duration>, token: CancellationToken) -> Self {
        let Some(limit) = timeout else {
            return Self { id: None, timeout };
        };
        let t = timer();
        let Ok(mut s) = t.state.lock() else {
            return Self { id: None, timeout };
        };
        if !s.running {
            let started = std::thread::Builder::new()
                .name("query-deadlines".into())
                .spawn(timer_loop);
            if started.is_err() {
                return Self { id: None, timeout };
            }
            s.running = true;
        }
        let id = s.next;
        s.next += 1;
        let at = Instant::now() + limit;
        // The timer thread sleeps until the earliest deadline; wake it only for an earlier one.
        let earlier = s.due.peek().is_none_or(|Reverse((first, _))| at < *first);
        s.due.push(Reverse((at, id)));
        s.armed.insert(id, token);
        if earlier {
            t.wake.notify_one();
        }
        Self {
            id: Some(id),
            timeout,
        }
    }

    /// Maps an evaluation error, turning a cancellation into [`Error::Timeout`].
    pub fn map_error(&self, e: QueryEvaluationError) -> Error {
        match e {
            QueryEvaluationError::Cancelled => Error::Timeout(self.timeout.unwrap_or_default()),
            QueryEvaluationError::UnsupportedService(_) => Error::Refused(SERVICE_REFUSED.into()),
            QueryEvaluationError::UnboundService => {
                Error::Refused("SERVICE is refused: its endpoint variable is unbound".into())
            }
            QueryEvaluationError::Service(e) => {
                match e.downcast::<crate::federation::ServiceError>() {
                    Ok(e) => match *e {
                        crate::federation::ServiceError::Refused(m) => Error::Refused(m),
                        crate::federation::ServiceError::Timeout(_) => {
                            Error::Timeout(self.timeout.unwrap_or_default())
                        }
                        other => Error::Service(other.to_string()),
                    },
                    Err(other) => Error::Service(other.to_string()),
                }
            }
            other => Error::Query(other.to_string()),
        }
    }
}

const SERVICE_REFUSED: &str =
    "SERVICE is refused: federation is off for this request, so no other endpoint is called";

/// A loaded source, as the meta graph records it.
#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    /// The graph IRI.
    pub graph: String,
    /// Where the data came from.
    pub location: Option<String>,
    /// The format name.
    pub format: Option<String>,
    /// Triples read from it.
    pub triples: Option<u64>,
    /// When it was loaded.
    pub loaded_at: Option<String>,
    /// SHA-256 of its bytes.
    pub content_hash: Option<String>,
}

/// Sizes of the store.
#[derive(Debug, Clone, Serialize)]
pub struct StoreStats {
    /// Quads over all graphs.
    pub quads: usize,
    /// Named graphs.
    pub graphs: usize,
}

/// govgraph's graph store.
pub struct GraphStore {
    store: Store,
    dir: Option<PathBuf>,
    read_only: bool,
    _lock: Option<File>,
    scheme: IriScheme,
    shapes: Arc<Shapes>,
    supers: RwLock<SuperClasses>,
    writer: Mutex<()>,
    /// Bumped by every commit when it is done: caches of the graph list are valid for one
    /// generation.
    generation: AtomicU64,
    /// Bumped by every commit before it starts: equal to `generation` while no write is under
    /// way (see [`GraphStore::begin_write`]).
    started: AtomicU64,
    /// Per tenant: the generation it was read at and the graphs it may and may not read.
    visible: Mutex<HashMap<String, TenantGraphs>>,
}

/// A tenant's view of the store's named graphs at one generation.
#[derive(Debug, Default)]
struct GraphLists {
    /// The graphs it may read.
    visible: Arc<Vec<NamedNode>>,
    /// The graphs it may not read.
    hidden: Vec<NamedNode>,
}

/// The generation a tenant's graph lists were read at, and the lists.
type TenantGraphs = (u64, Arc<GraphLists>);

/// A write under way: made before a commit, dropped after it (or after it failed).
struct Writing<'a>(&'a GraphStore);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.generation.fetch_add(1, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for GraphStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphStore")
            .field("dir", &self.dir)
            .field("read_only", &self.read_only)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "rocksdb")]
fn lock_dir(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(|e| Error::io(&path, e))?;
            file.rewind().map_err(|e| Error::io(&path, e))?;
            writeln!(file, "pid {}", std::process::id()).map_err(|e| Error::io(&path, e))?;
            file.flush().map_err(|e| Error::io(&path, e))?;
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            Err(Error::InUse {
                path: dir.to_owned(),
                holder: (!holder.is_empty()).then(|| holder.to_owned()),
            })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}

#[cfg(feature = "rocksdb")]
fn is_transient(e: &StorageError) -> bool {
    let text = e.to_string();
    text.contains("No such file") || text.contains("Corruption")
}

#[cfg(feature = "rocksdb")]
fn storage_open_error(dir: &Path, e: StorageError) -> Error {
    let text = e.to_string();
    if text.contains("lock")
        || text.contains("LOCK")
        || text.contains("Resource temporarily unavailable")
    {
        Error::InUse {
            path: dir.to_owned(),
            holder: None,
        }
    } else {
        Error::Storage(e)
    }
}

impl GraphStore {
    /// Opens (creating if needed) the store in a data directory, for reading and writing.
    ///
    /// Fails with [`Error::InUse`] when another process holds the directory.
    #[cfg(feature = "rocksdb")]
    pub fn open(dir: &Path, config: StoreConfig) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let lock = lock_dir(dir)?;
        let store = Store::open(dir.join(STORE_DIR)).map_err(|e| storage_open_error(dir, e))?;
        Self::finish_open(store, Some(dir.to_owned()), false, Some(lock), config)
    }

    /// Opens an existing store without writing to it. It works while another process holds
    /// the directory, and sees the data as of the moment it opens.
    #[cfg(feature = "rocksdb")]
    pub fn open_read_only(dir: &Path, config: StoreConfig) -> Result<Self> {
        let path = dir.join(STORE_DIR);
        if !path.exists() {
            return Err(Error::invalid(
                dir.display().to_string(),
                "no govgraph store here; run `govgraph init` or `govgraph load` first",
            ));
        }
        // A writer in another process may be flushing or compacting while we read its file
        // list; such a race shows up as a missing file, and a new attempt sees the new list.
        let mut attempt = 0;
        let store = loop {
            match Store::open_read_only(&path) {
                Ok(store) => break store,
                Err(e) if attempt < 8 && is_transient(&e) => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100 * attempt));
                }
                Err(e) => return Err(storage_open_error(dir, e)),
            }
        };
        Self::finish_open(store, Some(dir.to_owned()), true, None, config)
    }

    /// Opens for reading and writing, or read-only when another process holds the directory.
    #[cfg(feature = "rocksdb")]
    pub fn open_for_reading(dir: &Path, config: StoreConfig) -> Result<Self> {
        if !dir.join(STORE_DIR).exists() {
            return Err(Error::invalid(
                dir.display().to_string(),
                "no govgraph store here; run `govgraph init`, `load` or `demo` first, or pass --data",
            ));
        }
        match Self::open(dir, config.clone()) {
            Err(Error::InUse { .. }) => Self::open_read_only(dir, config),
            other => other,
        }
    }

    /// A fresh store in memory, for tests and one-off work.
    pub fn in_memory(config: StoreConfig) -> Result<Self> {
        Self::finish_open(Store::new()?, None, false, None, config)
    }

    fn finish_open(
        store: Store,
        dir: Option<PathBuf>,
        read_only: bool,
        lock: Option<File>,
        config: StoreConfig,
    ) -> Result<Self> {
        let shapes = Shapes::from_turtle(ontology::SHAPES_TTL, "ontology/shapes.ttl")?;
        let this = Self {
            store,
            dir,
            read_only,
            _lock: lock,
            scheme: config.scheme,
            shapes: Arc::new(shapes),
            supers: RwLock::new(SuperClasses::default()),
            writer: Mutex::new(()),
            generation: AtomicU64::new(0),
            started: AtomicU64::new(0),
            visible: Mutex::default(),
        };
        if !read_only {
            this.install_ontology()?;
            #[cfg(feature = "rocksdb")]
            if let Some(dir) = &this.dir
                && crate::stage::recover(&this.store, dir)?
            {
                drop(this.begin_write());
            }
        }
        this.refresh_superclasses()?;
        Ok(this)
    }

    /// Writes the ontology and the shapes into their graphs when the stored copies differ.
    fn install_ontology(&self) -> Result<()> {
        let mut hasher = Sha256::new();
        hasher.update(ontology::ONTOLOGY_TTL.as_bytes());
        hasher.update([0]);
        hasher.update(ontology::SHAPES_TTL.as_bytes());
        let hash: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let current = self.store.quads_for_pattern(
            Some(graphs::ONTOLOGY.into()),
            Some(gg::CONTENT_HASH),
            None,
            Some(GraphNameRef::NamedNode(graphs::META)),
        );
        for q in current {
            if let Term::Literal(l) = q?.object
                && l.value() == hash
            {
                return Ok(());
            }
        }
        let _w = self
            .writer
            .lock()
            .map_err(|_| Error::Query("writer lock poisoned".into()))?;
        let mut tx = self.store.start_transaction()?;
        for (graph, text, location) in [
            (
                graphs::ONTOLOGY,
                ontology::ONTOLOGY_TTL,
                "ontology/govgraph.ttl",
            ),
            (graphs::SHAPES, ontology::SHAPES_TTL, "ontology/shapes.ttl"),
        ] {
            tx.clear_graph(GraphNameRef::NamedNode(graph))?;
            let parser =
                oxigraph::io::RdfParser::from_format(RdfFormat::Turtle).with_default_graph(graph);
            for quad in parser.for_slice(text.as_bytes()) {
                let quad = quad.map_err(|e| crate::loader::parse_error(location, e))?;
                tx.insert(&quad);
            }
        }
        let meta = GraphNameRef::NamedNode(graphs::META);
        let old: Vec<Quad> = tx
            .quads_for_pattern(Some(graphs::ONTOLOGY.into()), None, None, Some(meta))
            .collect::<Result<_, _>>()?;
        for q in &old {
            tx.remove(q);
        }
        tx.insert(oxigraph::model::QuadRef::new(
            graphs::ONTOLOGY,
            gg::CONTENT_HASH,
            oxigraph::model::LiteralRef::new_simple_literal(&hash),
            meta,
        ));
        let writing = self.begin_write();
        tx.commit()?;
        drop(writing);
        Ok(())
    }

    fn refresh_superclasses(&self) -> Result<()> {
        let mut supers = SuperClasses::default();
        for q in self
            .store
            .quads_for_pattern(None, Some(rdfs::SUB_CLASS_OF), None, None)
        {
            let q = q?;
            if let (NamedOrBlankNode::NamedNode(sub), Term::NamedNode(sup)) = (q.subject, q.object)
            {
                supers.add(sub, sup);
            }
        }
        *self
            .supers
            .write()
            .map_err(|_| Error::Query("superclass lock poisoned".into()))? = supers;
        Ok(())
    }

    /// The data directory, for on-disk stores.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// A counter bumped by every commit through this handle: a cache built at one
    /// generation is stale at the next.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Marks a commit as under way until the guard drops. Every change to the store goes
    /// between the two, so a reader that finds `started == generation` before it plans and
    /// `started` unchanged after its snapshot was taken knows its snapshot holds exactly the
    /// graphs of that generation.
    fn begin_write(&self) -> Writing<'_> {
        self.started.fetch_add(1, Ordering::SeqCst);
        Writing(self)
    }

    /// The generation, when no write is under way.
    fn at_rest(&self) -> Option<u64> {
        let generation = self.generation.load(Ordering::SeqCst);
        (self.started.load(Ordering::SeqCst) == generation).then_some(generation)
    }

    /// Whether the store was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The IRI scheme of this deployment.
    pub fn scheme(&self) -> &IriScheme {
        &self.scheme
    }

    /// The strict super-classes of `class` in the ontology and everything loaded, so that
    /// writers outside a load can materialise types the way loads do.
    pub fn super_classes(&self, class: &NamedNode) -> Vec<NamedNode> {
        match self.supers.read() {
            Ok(s) => s.of(class),
            Err(poisoned) => poisoned.into_inner().of(class),
        }
    }

    /// The underlying oxigraph store, for reads the wrapper does not cover.
    pub fn raw(&self) -> &Store {
        &self.store
    }

    fn check_writable(&self) -> Result<()> {
        if self.read_only {
            Err(Error::InUse {
                path: self.dir.clone().unwrap_or_default(),
                holder: Some("opened read-only because another process holds it".into()),
            })
        } else {
            Ok(())
        }
    }

    /// Loads sources atomically; see [`crate::loader`].
    pub fn load(
        &self,
        sources: Vec<LoadSource>,
        options: &LoadOptions,
        progress: &dyn Progress,
    ) -> Result<LoadReport> {
        self.check_writable()?;
        let _w = self
            .writer
            .lock()
            .map_err(|_| Error::Query("writer lock poisoned".into()))?;
        let start = Instant::now();
        let supers = self
            .supers
            .read()
            .map_err(|_| Error::Query("superclass lock poisoned".into()))?
            .clone();
        let mut run = StageLoad { progress, supers };
        let mut staged = run.run(sources)?;
        let replaced: HashSet<NamedNode> = staged.touched.iter().cloned().collect();
        // Validation reads the other graphs too. A large load reads them from memory when
        // they are not many more than itself; a small one looks up the few it needs.
        let in_memory = options.validate && staged.quads.len() >= CONTEXT_FROM && {
            progress.phase("reading the other graphs", None);
            let cap = staged.quads.len() + CONTEXT_QUADS;
            let copied = add_context(&mut staged.quads, &self.store, &replaced, cap)?;
            progress.finish();
            copied
        };
        staged.quads.seal();
        let validation = if options.validate {
            progress.phase("validating against the SHACL shapes", None);
            let overlay = Overlay {
                staged: &staged.quads,
                store: (!in_memory).then_some(&self.store),
                replaced: &replaced,
            };
            let report = self.shapes.validate(&overlay, Some(&staged.touched))?;
            progress.finish();
            report
        } else {
            ValidationReport {
                conforms: true,
                results: Vec::new(),
            }
        };
        if validation.violations() > 0 {
            return Err(Error::Validation(Box::new(validation)));
        }
        let writing = self.begin_write();
        let held = crate::stage::write(
            &self.store,
            self.dir.as_deref().filter(|_| cfg!(feature = "rocksdb")),
            &staged,
            options.bulk_from,
            progress,
        );
        drop(writing);
        let held = held?;
        for r in &mut staged.reports {
            r.replaced = held.get(&r.graph).copied().unwrap_or(0);
        }
        *self
            .supers
            .write()
            .map_err(|_| Error::Query("superclass lock poisoned".into()))? = run.supers;
        Ok(LoadReport {
            graphs: staged.reports,
            validation,
            elapsed: start.elapsed(),
        })
    }

    /// Loads one source with default options and no progress.
    pub fn load_one(&self, source: LoadSource) -> Result<LoadReport> {
        self.load(vec![source], &LoadOptions::default(), &NoProgress)
    }

    /// Removes a source's graph and its record, atomically. Returns the triples removed.
    pub fn remove_source(&self, name: &str) -> Result<u64> {
        self.check_writable()?;
        let graph = crate::loader::source_graph(name)?;
        let _w = self
            .writer
            .lock()
            .map_err(|_| Error::Query("writer lock poisoned".into()))?;
        let mut tx = self.store.start_transaction()?;
        let n = tx
            .quads_for_pattern(None, None, None, Some(graph.as_ref().into()))
            .count() as u64;
        tx.remove_named_graph(graph.as_ref())?;
        let meta = GraphNameRef::NamedNode(graphs::META);
        let old: Vec<Quad> = tx
            .quads_for_pattern(Some(graph.as_ref().into()), None, None, Some(meta))
            .collect::<Result<_, _>>()?;
        for q in &old {
            tx.remove(q);
        }
        let writing = self.begin_write();
        tx.commit()?;
        drop(writing);
        Ok(n)
    }

    /// The loaded sources, from the meta graph.
    pub fn sources(&self) -> Result<Vec<SourceInfo>> {
        let rows = self.select(
            "SELECT ?g ?loc ?fmt ?n ?at ?hash WHERE { GRAPH <urn:govgraph:graph:meta> {
               ?g a gg:Source .
               OPTIONAL { ?g gg:sourceLocation ?loc } OPTIONAL { ?g gg:format ?fmt }
               OPTIONAL { ?g gg:tripleCount ?n } OPTIONAL { ?g prov:generatedAtTime ?at }
               OPTIONAL { ?g gg:contentHash ?hash } } } ORDER BY ?g",
        )?;
        let lit = |row: &QuerySolution, v: &str| match row.get(v) {
            Some(Term::Literal(l)) => Some(l.value().to_owned()),
            _ => None,
        };
        Ok(rows
            .iter()
            .filter_map(|row| {
                let graph = match row.get("g")? {
                    Term::NamedNode(n) => n.as_str().to_owned(),
                    _ => return None,
                };
                Some(SourceInfo {
                    graph,
                    location: lit(row, "loc"),
                    format: lit(row, "fmt"),
                    triples: lit(row, "n").and_then(|n| n.parse().ok()),
                    loaded_at: lit(row, "at"),
                    content_hash: lit(row, "hash"),
                })
            })
            .collect())
    }

    /// An evaluator that stops when `token` is cancelled.
    fn evaluator(token: CancellationToken) -> Result<SparqlEvaluator> {
        // Queries and updates reach the evaluator parsed, so it needs no prefixes.
        static TEMPLATE: OnceLock<SparqlEvaluator> = OnceLock::new();
        Ok(TEMPLATE
            .get_or_init(SparqlEvaluator::new)
            .clone()
            .with_cancellation_token(token))
    }

    /// A parser for `text` with govgraph's prefixes predeclared. Only the prefixes the text
    /// can use (those followed by a colon somewhere in it) are declared: a query of full IRIs
    /// gets a bare parser.
    fn parser(text: &str) -> Result<spargebra::SparqlParser> {
        let mut parser = spargebra::SparqlParser::new();
        for (prefix, ns) in vocab::prefix_pairs() {
            if uses_prefix(text, prefix) {
                parser = parser
                    .with_prefix(prefix, ns)
                    .map_err(|e| Error::Query(e.to_string()))?;
            }
        }
        Ok(parser)
    }

    /// The named graphs a tenant scope may read (empty for an unscoped one, which reads all).
    /// The list is cached per tenant until the next commit.
    pub fn visible_graphs(&self, scope: &Scope) -> Result<Arc<Vec<NamedNode>>> {
        Ok(match self.graph_lists(scope)? {
            Some((_, lists)) => lists.visible.clone(),
            None => Arc::default(),
        })
    }

    /// The named graphs a tenant scope may and may not read, and the generation they were
    /// listed at (`None` for an unscoped one). Cached per tenant until the next commit.
    fn graph_lists(&self, scope: &Scope) -> Result<Option<TenantGraphs>> {
        let Some(tenant) = scope.tenant_id() else {
            return Ok(None);
        };
        let generation = self.generation.load(Ordering::SeqCst);
        if let Ok(cache) = self.visible.lock()
            && let Some((g, lists)) = cache.get(tenant)
            && *g == generation
        {
            return Ok(Some((*g, lists.clone())));
        }
        let mut visible = Vec::new();
        let mut hidden = Vec::new();
        for g in self.store.named_graphs() {
            if let NamedOrBlankNode::NamedNode(n) = g? {
                if scope.can_read(n.as_str()) {
                    visible.push(n);
                } else {
                    hidden.push(n);
                }
            }
        }
        let lists = Arc::new(GraphLists {
            visible: Arc::new(visible),
            hidden,
        });
        if let Ok(mut cache) = self.visible.lock() {
            cache.insert(tenant.to_owned(), (generation, lists.clone()));
        }
        Ok(Some((generation, lists)))
    }

    /// Prepares a SPARQL query with govgraph's prefixes predeclared and the dataset set:
    /// protocol graphs first, else the query's FROM, else the union of all graphs; then
    /// closed to what `scope` may read.
    fn prepare(
        &self,
        sparql: &str,
        options: &QueryOptions,
        scope: &Scope,
        at_rest: Option<u64>,
        token: CancellationToken,
    ) -> Result<(PreparedSparqlQuery, bool)> {
        let mut query = Self::parser(sparql)?
            .parse_query(sparql)
            .map_err(|e| Error::Syntax {
                message: e.to_string(),
            })?;
        crate::guard::check_query(&query)?;
        let reads_named = crate::guard::reads_named_graphs(&query);
        let lists = self.graph_lists(scope)?;
        let visible = lists
            .as_ref()
            .map(|(_, l)| l.visible.clone())
            .unwrap_or_default();
        let own_dataset = match &query {
            spargebra::Query::Select { dataset, .. }
            | spargebra::Query::Construct { dataset, .. }
            | spargebra::Query::Describe { dataset, .. }
            | spargebra::Query::Ask { dataset, .. } => dataset.is_some(),
        } || !options.default_graphs.is_empty()
            || !options.named_graphs.is_empty();
        // A tenant's lookups: one filtered seek per pattern instead of one per visible graph.
        let confined = scope.tenant_id().is_some()
            && !own_dataset
            && !reads_named
            && crate::confine::qualifies(&query);
        // On a store at rest, naming the fewer of the graphs it may and may not read.
        let mut outside = false;
        if confined {
            let graphs = match &lists {
                Some((generation, l))
                    if at_rest == Some(*generation) && l.hidden.len() < l.visible.len() =>
                {
                    outside = true;
                    crate::confine::Confinement::Outside(&l.hidden)
                }
                _ => crate::confine::Confinement::Within(&visible),
            };
            crate::confine::rewrite(&mut query, graphs);
        }
        let mut evaluator = Self::evaluator(token)?;
        if let Some(federation) = &options.federation {
            federation.check(&query)?;
            let deadline = options.timeout.map(|t| Instant::now() + t);
            evaluator = evaluator.with_default_service_handler(federation.handler(deadline));
        }
        let mut prepared = evaluator.for_query(query);
        let dataset = prepared.dataset_mut();
        if !options.default_graphs.is_empty() || !options.named_graphs.is_empty() {
            if options.default_graphs.is_empty() {
                dataset.set_default_graph_as_union();
            } else {
                dataset.set_default_graph(
                    options
                        .default_graphs
                        .iter()
                        .cloned()
                        .map(Into::into)
                        .collect(),
                );
            }
            if !options.named_graphs.is_empty() {
                dataset.set_available_named_graphs(
                    options
                        .named_graphs
                        .iter()
                        .cloned()
                        .map(Into::into)
                        .collect(),
                );
            }
        }
        scope.restrict(dataset, &visible)?;
        if confined {
            // Only the rewritten, filtered GRAPH patterns read anything; the default graph is
            // empty, so nothing else can.
            *dataset = oxigraph::sparql::QueryDatasetSpecification::new();
            dataset.set_default_graph(Vec::new());
        } else if scope.tenant_id().is_some() && !reads_named {
            // No GRAPH pattern reads them: an empty list spares the engine resolving every
            // visible graph's name against the store, and closes GRAPH should one be missed.
            dataset.set_available_named_graphs(Vec::new());
        }
        Ok((prepared, outside))
    }

    /// Runs a SPARQL query. Without FROM or protocol graphs, the default graph is the union
    /// of all graphs.
    pub fn query(&self, sparql: &str, options: &QueryOptions) -> Result<QueryOutcome> {
        self.query_in(sparql, options, &Scope::all())
    }

    /// Runs a SPARQL query within a scope: a tenant's query sees only the graphs it may read,
    /// whatever its text says. SERVICE is refused unless `options.federation` allows it.
    pub fn query_in(
        &self,
        sparql: &str,
        options: &QueryOptions,
        scope: &Scope,
    ) -> Result<QueryOutcome> {
        let token = CancellationToken::new();
        let deadline = Deadline::arm(options.timeout, token.clone());
        let mut at_rest = self.at_rest();
        loop {
            let (prepared, outside) =
                self.prepare(sparql, options, scope, at_rest, token.clone())?;
            // `on_store` takes the snapshot.
            let results = prepared
                .on_store(&self.store)
                .execute()
                .map_err(|e| deadline.map_error(e))?;
            // Naming the graphs the tenant may not read was sound only if no write began
            // since the lists were read; if one did, plan again with the graphs it may read.
            if !outside || Some(self.started.load(Ordering::SeqCst)) == at_rest {
                return Ok(QueryOutcome { results, deadline });
            }
            at_rest = None;
        }
    }

    /// Runs a SPARQL update within a scope, atomically: every graph it writes must be
    /// writable in the scope (a tenant's default-graph writes go to its own default graph),
    /// its WHERE clause reads only what the scope may read, and LOAD and SERVICE are refused.
    /// Returns what it wrote.
    pub fn update(
        &self,
        sparql: &str,
        scope: &Scope,
        timeout: Option<Duration>,
    ) -> Result<WriteTargets> {
        self.check_writable()?;
        let mut update = Self::parser(sparql)?
            .parse_update(sparql)
            .map_err(|e| Error::Syntax {
                message: e.to_string(),
            })?;
        for op in &update.operations {
            if let spargebra::GraphUpdateOperation::DeleteInsert { pattern, .. } = op {
                crate::guard::check_pattern(pattern)?;
            }
        }
        let mut targets = scope.confine(&mut update)?;
        let _w = self
            .writer
            .lock()
            .map_err(|_| Error::Query("writer lock poisoned".into()))?;
        let token = CancellationToken::new();
        let mut prepared = Self::evaluator(token.clone())?.for_update(update);
        let visible = self.visible_graphs(scope)?;
        for dataset in prepared.using_datasets_mut() {
            scope.restrict(dataset, &visible)?;
        }
        let named = |store: &Store| -> Result<Vec<String>> {
            let mut out = Vec::new();
            for g in store.named_graphs() {
                if let NamedOrBlankNode::NamedNode(n) = g? {
                    out.push(n.into_string());
                }
            }
            Ok(out)
        };
        if targets.all_graphs {
            targets.graphs.extend(named(&self.store)?);
        }
        let deadline = Deadline::arm(timeout, token.clone());
        let mut tx = self.store.start_transaction()?;
        prepared
            .on_transaction(&mut tx)
            .execute()
            .map_err(|e| match e {
                _ if token.is_cancelled() => Error::Timeout(deadline.timeout.unwrap_or_default()),
                UpdateEvaluationError::UnsupportedService(_)
                | UpdateEvaluationError::UnboundService => Error::Refused(SERVICE_REFUSED.into()),
                other => Error::Query(other.to_string()),
            })?;
        if targets.all_graphs {
            for g in tx.named_graphs() {
                if let NamedOrBlankNode::NamedNode(n) = g? {
                    targets.graphs.insert(n.into_string());
                }
            }
        }
        // Every graph written gets a new version in the meta graph, in the same transaction,
        // so derived indexes can never miss a committed change, even across a crash.
        let digest = {
            let mut h = Sha256::new();
            h.update(sparql.as_bytes());
            h.update(crate::loader::now_xsd().as_bytes());
            h.update(format!("{:?}", Instant::now()).as_bytes());
            format!("update:{:x}", h.finalize())
        };
        for g in &targets.graphs {
            if crate::scope::is_managed(g) {
                continue;
            }
            let graph = NamedNode::new(g.as_str()).map_err(|e| Error::Query(e.to_string()))?;
            crate::loader::touch_meta(&mut tx, &graph, &digest)?;
        }
        let writing = self.begin_write();
        tx.commit()?;
        drop(writing);
        Ok(targets)
    }

    /// Runs a SELECT query and collects its solutions.
    pub fn select(&self, sparql: &str) -> Result<Vec<QuerySolution>> {
        let outcome = self.query(sparql, &QueryOptions::default())?;
        collect_solutions(outcome.results, &outcome.deadline)
    }

    /// Validates the whole store against the shapes.
    pub fn validate(&self) -> Result<ValidationReport> {
        self.shapes.validate(&StoreData(self), None)
    }

    /// Writes the store (or one graph) in `format`. Dataset formats (N-Quads, TriG) keep the
    /// graphs; triple formats get one graph, or the union of all graphs when none is named.
    /// Without a graph, the graphs govgraph manages itself (ontology, shapes, meta) are left out
    /// unless `include_managed` is set, so the dump loads back into any store.
    pub fn export(
        &self,
        writer: impl Write,
        format: RdfFormat,
        graph: Option<NamedNodeRef<'_>>,
        include_managed: bool,
    ) -> Result<u64> {
        let mut serializer = RdfSerializer::from_format(format);
        for (prefix, ns) in vocab::prefix_pairs() {
            serializer = serializer
                .with_prefix(prefix, ns)
                .map_err(|e| Error::invalid("prefix", e.to_string()))?;
        }
        let mut out = serializer.for_writer(writer);
        let mut n = 0u64;
        let graph_filter = graph.map(GraphNameRef::NamedNode);
        let io_err = |e: std::io::Error| Error::io("export", e);
        let managed = [graphs::ONTOLOGY, graphs::SHAPES, graphs::META];
        for quad in self.store.quads_for_pattern(None, None, None, graph_filter) {
            let quad = quad?;
            if graph.is_none()
                && !include_managed
                && matches!(&quad.graph_name, oxigraph::model::GraphName::NamedNode(g) if managed.contains(&g.as_ref()))
            {
                continue;
            }
            if format.supports_datasets() {
                out.serialize_quad(&quad).map_err(io_err)?;
            } else {
                out.serialize_triple(oxigraph::model::TripleRef::new(
                    &quad.subject,
                    &quad.predicate,
                    &quad.object,
                ))
                .map_err(io_err)?;
            }
            n += 1;
        }
        out.finish().map_err(io_err)?;
        Ok(n)
    }

    /// Takes a consistent backup of an on-disk store into `target`, a directory that must not
    /// exist yet. The result is itself a data directory. It runs while the store is in use; on
    /// the same file system it hard-links the immutable files, so it is cheap.
    #[cfg(feature = "rocksdb")]
    pub fn backup(&self, target: &Path) -> Result<()> {
        if self.dir.is_none() {
            return Err(Error::invalid(
                "backup",
                "an in-memory store cannot be backed up; use export",
            ));
        }
        if target.exists() {
            return Err(Error::invalid(
                target.display().to_string(),
                "already exists; backups go to a new directory",
            ));
        }
        if !self.read_only {
            self.store.flush()?;
        }
        std::fs::create_dir_all(target).map_err(|e| Error::io(target, e))?;
        if let Err(e) = self.store.backup(target.join(STORE_DIR)) {
            let _ = std::fs::remove_dir_all(target);
            return Err(e.into());
        }
        Ok(())
    }

    /// Counts quads and named graphs.
    pub fn stats(&self) -> Result<StoreStats> {
        Ok(StoreStats {
            quads: self.store.len()?,
            graphs: self.store.named_graphs().count(),
        })
    }
}

/// Collects a SELECT's solutions, mapping evaluation errors.
pub fn collect_solutions(
    results: QueryResults<'_>,
    deadline: &Deadline,
) -> Result<Vec<QuerySolution>> {
    match results {
        QueryResults::Solutions(solutions) => solutions
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| deadline.map_error(e)),
        _ => Err(Error::invalid("query", "expected a SELECT query")),
    }
}

/// What validation reads from the committed store.
struct StoreData<'a>(&'a GraphStore);

impl crate::shacl::ShapeData for StoreData<'_> {
    fn select(&self, sparql: &str) -> Result<Vec<QuerySolution>> {
        self.0.select(sparql)
    }
    fn quads(
        &self,
        subject: Option<NamedOrBlankNodeRef<'_>>,
        predicate: Option<NamedNodeRef<'_>>,
        object: Option<TermRef<'_>>,
        graph: Option<GraphNameRef<'_>>,
    ) -> Result<Vec<Quad>> {
        self.0
            .store
            .quads_for_pattern(subject, predicate, object, graph)
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::from)
    }
}

impl TripleRead for GraphStore {
    fn objects(
        &self,
        subject: NamedOrBlankNodeRef<'_>,
        predicate: NamedNodeRef<'_>,
    ) -> Result<Vec<Term>> {
        let mut out = self
            .store
            .quads_for_pattern(Some(subject), Some(predicate), None, None)
            .map(|q| q.map(|q| q.object))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(ToString::to_string);
        out.dedup();
        Ok(out)
    }

    fn subjects(
        &self,
        predicate: NamedNodeRef<'_>,
        object: TermRef<'_>,
    ) -> Result<Vec<NamedOrBlankNode>> {
        let mut out = self
            .store
            .quads_for_pattern(None, Some(predicate), Some(object), None)
            .map(|q| q.map(|q| q.subject))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(ToString::to_string);
        out.dedup();
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_declared_only_where_the_text_can_use_them() {
        assert!(uses_prefix("SELECT * { ?d a dcat:Dataset }", "dcat"));
        assert!(uses_prefix("dcat:x", "dcat"));
        assert!(uses_prefix("{(dcat:x)}", "dcat"));
        assert!(!uses_prefix(
            "SELECT * { <https://x.org/dcat> ?p ?o }",
            "dcat"
        ));
        assert!(!uses_prefix(
            "SELECT * { <https://id.govgraph.dev/a> ?p ?o }",
            "dct"
        ));
        assert!(!uses_prefix("xdcat:y", "dcat"));
        assert!(!uses_prefix("x.dcat:y", "dcat"));
        assert!(!uses_prefix("dca", "dcat"));
        // Prefixed names parse; full IRIs parse with no prefix declared.
        let q = "SELECT * { ?d a dcat:Dataset ; dct:title ?t }";
        GraphStore::parser(q).unwrap().parse_query(q).unwrap();
        let q = "SELECT * { <https://id.govgraph.dev/a> ?p ?o }";
        GraphStore::parser(q).unwrap().parse_query(q).unwrap();
        let q = "SELECT * { ?d a skos:Concept }";
        let e = GraphStore::parser("SELECT * { }")
            .unwrap()
            .parse_query(q)
            .unwrap_err();
        assert!(e.to_string().contains("Prefix not found"), "{e}");
    }

    #[test]
    fn a_write_under_way_is_seen_until_it_ends() {
        let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
        let before = store.at_rest().unwrap();
        let writing = store.begin_write();
        assert_eq!(store.at_rest(), None);
        // A tenant's lookup still answers, naming the graphs it may read.
        let acme = Scope::tenant("acme").unwrap();
        let outcome = store
            .query_in(
                "SELECT ?p ?o WHERE { <urn:ex:a> ?p ?o }",
                &QueryOptions::default(),
                &acme,
            )
            .unwrap();
        let QueryResults::Solutions(rows) = outcome.results else {
            panic!("not solutions");
        };
        assert_eq!(rows.count(), 0);
        drop(writing);
        assert_eq!(store.at_rest(), Some(before + 1));
    }
}
