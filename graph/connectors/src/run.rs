//! Ingestion runs: every connector's output is stored in one atomic, validated load, and the
//! run itself is recorded as a PROV activity (`gg:IngestionRun`) with its source, start, end,
//! counts, warnings and error.
//!
//! A run whose source cannot be reached is retried with exponential backoff; a run that fails
//! for good leaves the previous version of its source in place and is recorded as failed.

use std::collections::BTreeMap;
use std::time::Duration;

use govgraph_graph::GraphStore;
use govgraph_graph::loader::{LoadOptions, LoadReport, LoadSource, Progress};
use oxigraph::model::{Literal, NamedNode, Triple};
use serde::Serialize;

use crate::error::{Error, Result};

/// One source graph a connector produced: its facts replace the graph's previous facts.
#[derive(Debug, Clone)]
pub struct ExtractSource {
    /// The source name, such as `dbt:jaffle_shop`; the graph is `urn:govgraph:graph:{name}`.
    pub name: String,
    /// Where the facts came from, for messages and the meta graph (never with credentials).
    pub location: String,
    /// The facts.
    pub triples: Vec<Triple>,
}

/// What a connector read, before it is stored.
#[derive(Debug, Clone, Default)]
pub struct Extract {
    /// The graphs to write, all in one transaction.
    pub sources: Vec<ExtractSource>,
    /// Counts by what was counted: `datasets`, `columns`, `rules`, `lineage_edges`...
    pub counts: BTreeMap<String, u64>,
    /// Things that did not stop the run, as `location: message`.
    pub warnings: Vec<String>,
}

impl Extract {
    /// Adds `n` to the count called `what`.
    pub fn count(&mut self, what: &str, n: u64) {
        *self.counts.entry(what.to_owned()).or_default() += n;
    }
}

/// How often, and how patiently, a run retries a source it cannot reach.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Retries after the first attempt (default 3).
    pub retries: u32,
    /// The first wait; each further wait doubles it (default 1 s: 1 s, 2 s, 4 s).
    pub base_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            retries: 3,
            base_delay: Duration::from_secs(1),
        }
    }
}

impl Retry {
    /// Calls `attempt` until it succeeds, fails with something other than
    /// [`Error::Unreachable`], or has been retried `retries` times. Returns the outcome and
    /// the number of attempts made.
    pub fn call<T>(&self, mut attempt: impl FnMut(u32) -> Result<T>) -> (Result<T>, u32) {
        let mut n = 0;
        loop {
            n += 1;
            match attempt(n) {
                Err(Error::Unreachable { location, message }) if n <= self.retries => {
                    let wait = self.base_delay * 2u32.saturating_pow(n - 1);
                    tracing::warn!(%location, %message, attempt = n, wait_ms = wait.as_millis() as u64, "source unreachable; retrying");
                    std::thread::sleep(wait);
                }
                other => return (other, n),
            }
        }
    }
}

/// The record of one run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The run's IRI.
    pub run: String,
    /// The connector: `dbt`, `openlineage`, `postgres` or `files`.
    pub connector: String,
    /// Where it read from (credentials removed).
    pub source: String,
    /// `succeeded` or `failed`.
    pub status: String,
    /// When it started and ended (xsd:dateTime).
    pub started_at: String,
    /// When it ended.
    pub ended_at: String,
    /// Attempts made to reach the source.
    pub attempts: u32,
    /// Counts of what was stored.
    pub counts: BTreeMap<String, u64>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// The error, for a failed run.
    pub error: Option<String>,
    /// The load, for a successful run.
    pub load: Option<LoadReport>,
}

/// One ingestion: a connector reading one source into the store.
#[derive(Debug)]
pub struct Ingestion<'a> {
    store: &'a GraphStore,
    connector: String,
    source: String,
    retry: Retry,
}

impl<'a> Ingestion<'a> {
    /// An ingestion by `connector` of `source` (a path or a URL without credentials).
    pub fn new(store: &'a GraphStore, connector: &str, source: &str) -> Self {
        Self {
            store,
            connector: connector.to_owned(),
            source: source.to_owned(),
            retry: Retry::default(),
        }
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Runs `extract` (retried while the source is unreachable), stores what it returns in
    /// one load together with the run record, and returns the record. When extraction or the
    /// load fails, the record alone is stored, with status `failed`, and the error is
    /// returned; the previous facts of the source stay in place.
    pub fn run(
        self,
        progress: &dyn Progress,
        extract: impl FnMut(u32) -> Result<Extract>,
    ) -> Result<RunReport> {
        let started = govgraph_graph::loader::now_xsd();
        let id = run_id(&self.connector, &self.source, &started);
        let span = tracing::info_span!("ingest", connector = %self.connector, source = %self.source, run = %id);
        let _enter = span.enter();
        let (outcome, attempts) = self.retry.call(extract);
        let mut report = RunReport {
            run: String::new(),
            connector: self.connector.clone(),
            source: self.source.clone(),
            status: "succeeded".to_owned(),
            started_at: started,
            ended_at: String::new(),
            attempts,
            counts: BTreeMap::new(),
            warnings: Vec::new(),
            error: None,
            load: None,
        };
        let extract = match outcome {
            Ok(e) => e,
            Err(e) => return Err(self.fail(&id, report, e, progress)),
        };
        report.counts = extract.counts.clone();
        report.warnings = extract.warnings.clone();
        report.ended_at = govgraph_graph::loader::now_xsd();
        let generated: Vec<String> = extract.sources.iter().map(|s| s.name.clone()).collect();
        let mut sources: Vec<LoadSource> = extract
            .sources
            .into_iter()
            .map(|s| LoadSource::from_triples(&s.name, &s.location, s.triples))
            .collect();
        let (name, triples) = self.record(&id, &report, &generated)?;
        sources.push(LoadSource::from_triples(&name, &self.source, triples));
        match self.store.load(sources, &LoadOptions::default(), progress) {
            Ok(load) => {
                report.run = self.run_iri(&id).as_str().to_owned();
                report.load = Some(load);
                tracing::info!(counts = ?report.counts, "ingestion stored");
                Ok(report)
            }
            Err(e) => Err(self.fail(&id, report, e.into(), progress)),
        }
    }

    /// Records a failed run and hands back its error.
    fn fail(
        &self,
        id: &str,
        mut report: RunReport,
        error: Error,
        progress: &dyn Progress,
    ) -> Error {
        report.status = "failed".to_owned();
        report.ended_at = govgraph_graph::loader::now_xsd();
        report.counts.clear();
        report.error = Some(error.to_string());
        tracing::warn!(error = %error, "ingestion failed");
        match self.record(id, &report, &[]) {
            Ok((name, triples)) => {
                let source = LoadSource::from_triples(&name, &self.source, triples);
                if let Err(e) = self
                    .store
                    .load(vec![source], &LoadOptions::default(), progress)
                {
                    tracing::error!(error = %e, "could not record the failed run");
                }
            }
            Err(e) => tracing::error!(error = %e, "could not record the failed run"),
        }
        error
    }

    fn run_iri(&self, id: &str) -> NamedNode {
        self.store
            .scheme()
            .entity(govgraph_graph::iri::Kind::Job, &format!("ingestion.{id}"))
    }

    /// The run record as a source of its own: `ingestion:{connector}:{id}`.
    fn record(
        &self,
        id: &str,
        report: &RunReport,
        generated: &[String],
    ) -> Result<(String, Vec<Triple>)> {
        use govgraph_graph::vocab::{gg, prov, rdf, xsd};
        let run = self.run_iri(id);
        let mut out = Vec::new();
        let lit = |s: &str| Literal::new_simple_literal(s);
        let time = |s: &str| Literal::new_typed_literal(s, xsd::DATE_TIME);
        let int = |n: u64| Literal::new_typed_literal(n.to_string(), xsd::INTEGER);
        out.push(Triple::new(run.clone(), rdf::TYPE, gg::INGESTION_RUN));
        out.push(Triple::new(
            run.clone(),
            gg::CONNECTOR,
            lit(&report.connector),
        ));
        out.push(Triple::new(
            run.clone(),
            gg::SOURCE_LOCATION,
            lit(&report.source),
        ));
        out.push(Triple::new(run.clone(), gg::STATUS, lit(&report.status)));
        out.push(Triple::new(
            run.clone(),
            prov::STARTED_AT_TIME,
            time(&report.started_at),
        ));
        out.push(Triple::new(
            run.clone(),
            prov::ENDED_AT_TIME,
            time(&report.ended_at),
        ));
        out.push(Triple::new(
            run.clone(),
            gg::ATTEMPTS,
            int(u64::from(report.attempts)),
        ));
        for (what, n) in &report.counts {
            let count = NamedNode::new_unchecked(format!(
                "{}#count-{}",
                run.as_str(),
                govgraph_graph::iri::slug(what)
            ));
            out.push(Triple::new(run.clone(), gg::RECORD_COUNT, count.clone()));
            out.push(Triple::new(count.clone(), gg::COUNTED, lit(what)));
            out.push(Triple::new(count, gg::COUNT, int(*n)));
        }
        for w in &report.warnings {
            out.push(Triple::new(run.clone(), gg::WARNING, lit(w)));
        }
        if let Some(e) = &report.error {
            out.push(Triple::new(run.clone(), gg::ERROR_MESSAGE, lit(e)));
        }
        for g in generated {
            out.push(Triple::new(
                run.clone(),
                prov::GENERATED,
                govgraph_graph::loader::source_graph(g)?,
            ));
        }
        Ok((format!("ingestion:{}:{id}", report.connector), out))
    }
}

/// A short, unique, sortable id for a run: its start time and a digest of what it reads.
fn run_id(connector: &str, source: &str, started: &str) -> String {
    use sha2::{Digest, Sha256};
    use std::sync::atomic::{AtomicU64, Ordering};
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    let digest = Sha256::digest(
        format!(
            "{connector}\n{source}\n{started}\n{nanos}\n{n}\n{}",
            std::process::id()
        )
        .as_bytes(),
    );
    let stamp: String = started
        .chars()
        .filter(char::is_ascii_digit)
        .take(17)
        .collect();
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{connector}.{stamp}.{hex}")
}
