//! Atomic, validated loading of RDF sources into their own named graphs.
//!
//! A load parses every input into memory, one named graph per source, materialises the
//! `rdfs:subClassOf` super-types of every typed node into the same graph, and prepares each
//! source's record for the meta graph. The store then checks the SHACL shapes against the
//! store as the load would leave it, and only then writes the difference (see
//! the `stage` module). Any error, whether a syntax error, a reserved graph or a SHACL
//! violation, ends the load before anything is written, so the store stays exactly as it was.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::time::Duration;

use oxigraph::io::{JsonLdProfileSet, RdfFormat, RdfParseError, RdfParser};
use oxigraph::model::{
    GraphName, GraphNameRef, Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, Quad, QuadRef,
    Term, Triple,
};
use oxigraph::store::Transaction;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::shacl::ValidationReport;
use crate::stage::Staged;
use crate::vocab::{gg, graphs, prov, rdf, rdfs, xsd};

/// Builds an [`Error::Parse`] from a parser error, with its line and column (1-based).
pub(crate) fn parse_error(location: &str, e: impl Into<RdfParseError>) -> Error {
    match e.into() {
        RdfParseError::Syntax(e) => {
            let (line, column) = match e.location() {
                Some(range) => (Some(range.start.line + 1), Some(range.start.column + 1)),
                None => (None, None),
            };
            let text = e.to_string();
            // The Turtle family repeats the position in its message; it is in the fields already.
            let message = match text.strip_prefix("Parser error at line ") {
                Some(rest) => rest
                    .split_once(": ")
                    .map_or(text.clone(), |(_, m)| m.to_owned()),
                None => text,
            };
            Error::Parse {
                location: location.to_owned(),
                line,
                column,
                message,
            }
        }
        RdfParseError::Io(e) => Error::Parse {
            location: location.to_owned(),
            line: None,
            column: None,
            message: e.to_string(),
        },
    }
}

/// The RDF format for a file name, from its extension.
pub fn format_for_path(path: &Path) -> Option<RdfFormat> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "ttl" | "turtle" => RdfFormat::Turtle,
        "nt" | "ntriples" => RdfFormat::NTriples,
        "nq" | "nquads" => RdfFormat::NQuads,
        "trig" => RdfFormat::TriG,
        "rdf" | "xml" | "owl" | "rdfxml" => RdfFormat::RdfXml,
        "jsonld" | "json" => RdfFormat::JsonLd {
            profile: JsonLdProfileSet::empty(),
        },
        "n3" => RdfFormat::N3,
        _ => return None,
    })
}

/// The RDF format for a name such as `turtle`, `nt`, `nquads`, `trig`, `rdfxml`, `jsonld`,
/// or a media type.
pub fn format_for_name(name: &str) -> Option<RdfFormat> {
    let lower = name.to_ascii_lowercase();
    RdfFormat::from_media_type(&lower)
        .or_else(|| format_for_path(Path::new(&format!("x.{lower}"))))
        .or(match lower.as_str() {
            "n-triples" => Some(RdfFormat::NTriples),
            "n-quads" => Some(RdfFormat::NQuads),
            "rdf/xml" => Some(RdfFormat::RdfXml),
            "json-ld" => Some(RdfFormat::JsonLd {
                profile: JsonLdProfileSet::empty(),
            }),
            _ => None,
        })
}

/// The named graph of a source. Names are free text; the graph IRI is
/// `urn:govgraph:graph:` followed by the name, percent-encoded where needed.
pub fn source_graph(name: &str) -> Result<NamedNode> {
    if name.trim().is_empty() {
        return Err(Error::invalid("source", "a source needs a name"));
    }
    let mut encoded = String::with_capacity(name.len());
    for b in name.trim().bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/@!$&'()*+,;=".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let iri = format!("{}{encoded}", graphs::PREFIX);
    check_not_reserved(&iri)?;
    NamedNode::new(iri).map_err(|e| Error::invalid("source", e.to_string()))
}

fn check_not_reserved(iri: &str) -> Result<()> {
    for reserved in [graphs::ONTOLOGY, graphs::SHAPES, graphs::META] {
        if iri == reserved.as_str() {
            return Err(Error::invalid(
                iri,
                "this graph is managed by govgraph itself and cannot be loaded into",
            ));
        }
    }
    Ok(())
}

/// One input to a load.
pub struct LoadSource {
    /// The source's name; its facts live in the graph [`source_graph`] gives for it.
    pub name: String,
    /// Where the data comes from, for messages and the meta graph (a file name, `stdin`).
    pub location: String,
    /// The serialisation.
    pub format: RdfFormat,
    /// The bytes.
    pub reader: Box<dyn Read + Send>,
    /// The total size in bytes, when known, for progress.
    pub size: Option<u64>,
    /// Base IRI for relative IRIs.
    pub base_iri: Option<String>,
    /// Triples already in memory (see [`LoadSource::from_triples`]); `reader` is then empty.
    triples: Option<Vec<Triple>>,
}

impl std::fmt::Debug for LoadSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadSource")
            .field("name", &self.name)
            .field("location", &self.location)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl LoadSource {
    /// A file. The format comes from the extension unless given; the source name defaults
    /// to `file:` plus the file name.
    pub fn from_path(path: &Path, name: Option<&str>, format: Option<RdfFormat>) -> Result<Self> {
        let location = path.display().to_string();
        let format = match format.or_else(|| format_for_path(path)) {
            Some(f) => f,
            None => {
                return Err(Error::UnknownFormat {
                    location,
                    hint: path
                        .extension()
                        .map(|e| format!(".{}", e.to_string_lossy())),
                });
            }
        };
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let size = file.metadata().ok().map(|m| m.len());
        let name = match name {
            Some(n) => n.to_owned(),
            None => format!(
                "file:{}",
                path.file_name()
                    .map_or_else(|| location.clone(), |f| f.to_string_lossy().into_owned())
            ),
        };
        Ok(Self {
            name,
            location,
            format,
            reader: Box::new(BufReader::with_capacity(1 << 20, file)),
            size,
            base_iri: None,
            triples: None,
        })
    }

    /// Bytes held in memory.
    pub fn from_bytes(
        name: &str,
        location: &str,
        format: RdfFormat,
        bytes: impl Into<Vec<u8>>,
    ) -> Self {
        let bytes = bytes.into();
        Self {
            name: name.to_owned(),
            location: location.to_owned(),
            format,
            size: Some(bytes.len() as u64),
            reader: Box::new(std::io::Cursor::new(bytes)),
            base_iri: None,
            triples: None,
        }
    }

    /// Triples held in memory, as a connector builds them: loaded without being written out
    /// and parsed again. The source is recorded as N-Triples, with the digest of its
    /// N-Triples text.
    pub fn from_triples(name: &str, location: &str, triples: Vec<Triple>) -> Self {
        Self {
            name: name.to_owned(),
            location: location.to_owned(),
            format: RdfFormat::NTriples,
            size: Some(triples.len() as u64),
            reader: Box::new(std::io::empty()),
            base_iri: None,
            triples: Some(triples),
        }
    }
}

/// Reports the progress of long work. Every method has a do-nothing default.
pub trait Progress: Sync {
    /// A phase starts; `total` is in the phase's unit (bytes while parsing, else items).
    fn phase(&self, _name: &str, _total: Option<u64>) {}
    /// `n` more units are done.
    fn advance(&self, _n: u64) {}
    /// The phase is over.
    fn finish(&self) {}
}

/// A [`Progress`] that reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// Settings of a load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Check the SHACL shapes and refuse the load on a violation (default true).
    pub validate: bool,
    /// From how many changed quads an on-disk store is written by ingesting sorted files
    /// rather than through one transaction (default 20,000). Both are atomic; files are
    /// much faster for large loads, a transaction for small ones.
    pub bulk_from: usize,
}

/// The default of [`LoadOptions::bulk_from`].
pub const BULK_FROM: usize = 20_000;

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            validate: true,
            bulk_from: BULK_FROM,
        }
    }
}

/// What a load did to one graph.
#[derive(Debug, Clone, Serialize)]
pub struct GraphReport {
    /// The source name.
    pub source: String,
    /// The graph IRI.
    pub graph: String,
    /// Where the data came from.
    pub location: String,
    /// Triples read from the input (after de-duplication).
    pub triples: u64,
    /// Super-type triples added.
    pub inferred: u64,
    /// Triples the graph held before and that were replaced.
    pub replaced: u64,
}

/// What a load did.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// One entry per graph written.
    pub graphs: Vec<GraphReport>,
    /// Non-blocking validation results (warnings and infos).
    pub validation: ValidationReport,
    /// Wall time.
    #[serde(with = "duration_ms")]
    pub elapsed: Duration,
}

impl LoadReport {
    /// Triples read, over all graphs.
    pub fn triples(&self) -> u64 {
        self.graphs.iter().map(|g| g.triples).sum()
    }
}

mod duration_ms {
    use serde::Serializer;
    pub fn serialize<S: Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u128(d.as_millis())
    }
}

/// Counts and hashes the bytes a parser reads, and reports progress.
struct Tap<'a, R> {
    inner: R,
    hasher: Sha256,
    progress: &'a dyn Progress,
    pending: u64,
}

impl<R: Read> Read for Tap<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.pending += n as u64;
        if self.pending >= 1 << 20 {
            self.progress.advance(self.pending);
            self.pending = 0;
        }
        Ok(n)
    }
}

/// The `rdfs:subClassOf` closure: for each class, all its strict super-classes.
#[derive(Debug, Clone, Default)]
pub(crate) struct SuperClasses {
    direct: HashMap<NamedNode, BTreeSet<NamedNode>>,
}

impl SuperClasses {
    pub(crate) fn add(&mut self, sub: NamedNode, sup: NamedNode) {
        if sub != sup {
            self.direct.entry(sub).or_default().insert(sup);
        }
    }

    /// All strict super-classes of `class`, cycles tolerated.
    pub(crate) fn of(&self, class: &NamedNode) -> Vec<NamedNode> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&NamedNode> = vec![class];
        while let Some(c) = stack.pop() {
            if let Some(sups) = self.direct.get(c) {
                for s in sups {
                    if s != class && seen.insert(s.clone()) {
                        stack.push(s);
                    }
                }
            }
        }
        seen.into_iter().collect()
    }
}

/// What a load read, before anything is written: the quads of every graph it replaces
/// (super-types included), and each graph's record for the meta graph.
pub(crate) struct StagedLoad {
    /// The quads, in their graphs; sealed by the store, which may first add stored quads
    /// of other graphs for validation to read (those are never written).
    pub(crate) quads: Staged,
    /// One entry per graph, in the order written; `replaced` is filled in when written.
    pub(crate) reports: Vec<GraphReport>,
    /// The graphs replaced.
    pub(crate) touched: Vec<NamedNode>,
    /// The new records of those graphs in the meta graph.
    pub(crate) records: Vec<Quad>,
}

/// Reads `sources` into memory; the caller validates and writes.
pub(crate) struct StageLoad<'p> {
    pub(crate) progress: &'p dyn Progress,
    pub(crate) supers: SuperClasses,
}

impl StageLoad<'_> {
    pub(crate) fn run(&mut self, sources: Vec<LoadSource>) -> Result<StagedLoad> {
        let mut quads = Staged::default();
        let mut reports: Vec<GraphReport> = Vec::new();
        let mut touched: Vec<NamedNode> = Vec::new();
        let mut records: Vec<Quad> = Vec::new();
        let mut typed: Vec<(NamedOrBlankNode, NamedNode, NamedNode)> = Vec::new();
        for source in sources {
            let graph = source_graph(&source.name)?;
            if touched.contains(&graph) {
                return Err(Error::invalid(
                    &source.name,
                    "two inputs of one load name the same source",
                ));
            }
            // Graphs of this source, in first-seen order, with their triple counts.
            let mut counts: Vec<(NamedNode, u64)> = vec![(graph.clone(), 0)];
            self.progress
                .phase(&format!("parsing {}", source.location), source.size);
            let mut parser = RdfParser::from_format(source.format)
                .rename_blank_nodes()
                .with_default_graph(graph.clone());
            if let Some(base) = &source.base_iri {
                parser = parser
                    .with_base_iri(base.clone())
                    .map_err(|e| Error::invalid("base IRI", e.to_string()))?;
            }
            let mut tap = Tap {
                inner: source.reader,
                hasher: Sha256::new(),
                progress: self.progress,
                pending: 0,
            };
            if let Some(triples) = &source.triples {
                // The digest of the N-Triples text, as if it had been parsed.
                let mut text = String::new();
                for t in triples {
                    text.clear();
                    let _ = writeln!(text, "{t} .");
                    tap.hasher.update(text.as_bytes());
                }
            }
            let input: Box<dyn Iterator<Item = Result<Quad>>> = match source.triples {
                Some(triples) => Box::new(triples.into_iter().enumerate().map(|(i, t)| {
                    if i % 65_536 == 65_535 {
                        self.progress.advance(65_536);
                    }
                    Ok(t.in_graph(graph.clone()))
                })),
                None => Box::new(
                    parser
                        .for_reader(&mut tap)
                        .map(|q| q.map_err(|e| parse_error(&source.location, e))),
                ),
            };
            for quad in input {
                let quad: Quad = quad?;
                let g = match &quad.graph_name {
                    GraphName::NamedNode(n) => n.clone(),
                    GraphName::BlankNode(b) => {
                        return Err(Error::invalid(
                            &source.location,
                            format!(
                                "blank-node graph names are not supported (_:{})",
                                b.as_str()
                            ),
                        ));
                    }
                    GraphName::DefaultGraph => graph.clone(),
                };
                let count = match counts.iter().position(|(c, _)| *c == g) {
                    Some(i) => i,
                    None => {
                        check_not_reserved(g.as_str())?;
                        if touched.contains(&g) {
                            return Err(Error::invalid(
                                &source.location,
                                format!("the graph {g} is written by another input of this load"),
                            ));
                        }
                        counts.push((g.clone(), 0));
                        counts.len() - 1
                    }
                };
                if quad.predicate.as_ref() == rdf::TYPE {
                    if let Term::NamedNode(class) = &quad.object {
                        typed.push((quad.subject.clone(), class.clone(), g.clone()));
                    }
                } else if quad.predicate.as_ref() == rdfs::SUB_CLASS_OF
                    && let (NamedOrBlankNode::NamedNode(sub), Term::NamedNode(sup)) =
                        (&quad.subject, &quad.object)
                {
                    self.supers.add(sub.clone(), sup.clone());
                }
                quads.add(QuadRef::new(
                    &quad.subject,
                    &quad.predicate,
                    &quad.object,
                    &g,
                ));
                counts[count].1 += 1;
            }
            self.progress.advance(tap.pending);
            self.progress.finish();
            let hash: String = tap
                .hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            counts.sort_by(|a, b| a.0.cmp(&b.0));
            for (g, triples) in counts {
                let location = Literal::new_simple_literal(&source.location).into();
                records.extend(record_quads(
                    &g,
                    location,
                    source.format.name(),
                    &hash,
                    Some(triples),
                ));
                touched.push(g.clone());
                reports.push(GraphReport {
                    source: source.name.clone(),
                    graph: g.into_string(),
                    location: source.location.clone(),
                    triples,
                    inferred: 0,
                    replaced: 0,
                });
            }
        }
        self.progress
            .phase("inferring super-types", Some(typed.len() as u64));
        let mut inferred: HashMap<String, u64> = HashMap::new();
        for (i, (subject, class, g)) in typed.iter().enumerate() {
            for sup in self.supers.of(class) {
                quads.add(QuadRef::new(subject, rdf::TYPE, &sup, g));
                *inferred.entry(g.as_str().to_owned()).or_default() += 1;
            }
            if i % 65_536 == 65_535 {
                self.progress.advance(65_536);
            }
        }
        self.progress.finish();
        for r in &mut reports {
            r.inferred = inferred.get(&r.graph).copied().unwrap_or(0);
        }
        Ok(StagedLoad {
            quads,
            reports,
            touched,
            records,
        })
    }
}

/// Removes a graph's record from the meta graph and returns what it said.
fn take_meta(tx: &mut Transaction<'_>, graph: &NamedNode) -> Result<Vec<Quad>> {
    let meta = GraphNameRef::NamedNode(graphs::META);
    let old: Vec<Quad> = tx
        .quads_for_pattern(Some(graph.as_ref().into()), None, None, Some(meta))
        .collect::<Result<_, _>>()?;
    for q in &old {
        tx.remove(q);
    }
    Ok(old)
}

/// Records in the meta graph that an update changed `graph`: its version changes (so search
/// and other derived indexes see it), and a graph left empty loses its record. Runs in the
/// update's own transaction.
pub(crate) fn touch_meta(tx: &mut Transaction<'_>, graph: &NamedNode, digest: &str) -> Result<()> {
    let old = take_meta(tx, graph)?;
    let location = old
        .iter()
        .find(|q| q.predicate.as_ref() == gg::SOURCE_LOCATION)
        .map(|q| q.object.clone());
    let empty = tx
        .quads_for_pattern(None, None, None, Some(graph.as_ref().into()))
        .next()
        .is_none();
    if empty {
        return Ok(());
    }
    let location = location.unwrap_or_else(|| Literal::new_simple_literal("SPARQL Update").into());
    write_record(tx, graph, location, "SPARQL Update", digest, None);
    Ok(())
}

/// Writes a source's record into the meta graph (the old one already taken out).
fn write_record(
    tx: &mut Transaction<'_>,
    graph: &NamedNode,
    location: Term,
    format: &str,
    hash: &str,
    triples: Option<u64>,
) {
    for q in record_quads(graph, location, format, hash, triples) {
        tx.insert(&q);
    }
}

/// A source's record in the meta graph: where it came from, in which format, its digest,
/// its size and when it was written.
pub(crate) fn record_quads(
    graph: &NamedNode,
    location: Term,
    format: &str,
    hash: &str,
    triples: Option<u64>,
) -> Vec<Quad> {
    let meta = GraphName::NamedNode(graphs::META.into_owned());
    let quad =
        |p: NamedNodeRef<'_>, o: Term| Quad::new(graph.clone(), p.into_owned(), o, meta.clone());
    let mut out = vec![
        quad(rdf::TYPE, gg::SOURCE.into_owned().into()),
        quad(gg::GRAPH, graph.clone().into()),
        quad(gg::SOURCE_LOCATION, location),
        quad(gg::FORMAT, Literal::new_simple_literal(format).into()),
        quad(gg::CONTENT_HASH, Literal::new_simple_literal(hash).into()),
    ];
    if let Some(n) = triples {
        out.push(quad(
            gg::TRIPLE_COUNT,
            Literal::new_typed_literal(n.to_string(), xsd::INTEGER).into(),
        ));
    }
    out.push(quad(
        prov::GENERATED_AT_TIME,
        Literal::new_typed_literal(now_xsd(), xsd::DATE_TIME).into(),
    ));
    out
}

/// The current time as an `xsd:dateTime` in UTC.
pub fn now_xsd() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// A proleptic Gregorian date to days since 1970-01-01 (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_right() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn formats_from_names() {
        assert_eq!(format_for_path(Path::new("a.TTL")), Some(RdfFormat::Turtle));
        assert_eq!(format_for_path(Path::new("a.nq")), Some(RdfFormat::NQuads));
        assert_eq!(format_for_name("text/turtle"), Some(RdfFormat::Turtle));
        assert_eq!(format_for_name("ntriples"), Some(RdfFormat::NTriples));
        assert_eq!(format_for_path(Path::new("a.csv")), None);
    }

    #[test]
    fn source_graphs_are_encoded_and_reserved_ones_refused() {
        assert_eq!(
            source_graph("file:a b.ttl").unwrap().as_str(),
            "urn:govgraph:graph:file:a%20b.ttl"
        );
        assert!(source_graph("ontology").is_err());
        assert!(source_graph(" ").is_err());
    }

    #[test]
    fn superclass_closure_is_transitive_and_tolerates_cycles() {
        let n = |s: &str| NamedNode::new_unchecked(format!("http://x/{s}"));
        let mut s = SuperClasses::default();
        s.add(n("a"), n("b"));
        s.add(n("b"), n("c"));
        s.add(n("c"), n("a"));
        assert_eq!(s.of(&n("a")), vec![n("b"), n("c")]);
    }
}
