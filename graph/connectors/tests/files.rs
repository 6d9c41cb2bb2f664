//! The files connector against a real in-memory store with the ontology and shapes installed.
//!
//! Every folder under `tests/files/cases/` is a case: its `input/` folder (if any) is copied
//! into a temporary folder named after the case, the Parquet files listed in its
//! `parquet.txt` (`path | rows | message type`, one per line) are written there, the folder is
//! ingested, and what the store then holds (or the error, for a case whose name starts with
//! `err_`) must equal `expected.txt`. `GOVGRAPH_BLESS=1` rewrites the expectations:
//!
//! `GOVGRAPH_BLESS=1 cargo test -p govgraph-connectors --no-default-features --test files`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use govgraph_connectors::RunReport;
use govgraph_connectors::files::{FilesOptions, ingest_files, read_files};
use govgraph_graph::model::{Column, Dataset, Entity};
use govgraph_graph::{DatasetKey, GraphStore, NoProgress, Progress, StoreConfig};
use oxigraph::model::{NamedNode, Term};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::{ByteArray, FixedLenByteArray, Int96};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use proptest::prelude::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/files")
}

fn seeds_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/data")
}

fn bless() -> bool {
    std::env::var_os("GOVGRAPH_BLESS").is_some_and(|v| v != "0" && !v.is_empty())
}

fn store() -> GraphStore {
    GraphStore::in_memory(StoreConfig::default()).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Writes a Parquet file of `rows` rows with the given message type; every value is a
/// default of its physical type (the reader only looks at the footer).
fn write_parquet(path: &Path, message: &str, rows: usize) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let schema = Arc::new(parse_message_type(message).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_created_by("govgraph-tests".to_owned())
            .build(),
    );
    let mut writer = SerializedFileWriter::new(File::create(path).unwrap(), schema, props).unwrap();
    let columns = writer.schema_descr().columns().to_vec();
    let mut group = writer.next_row_group().unwrap();
    let mut i = 0;
    while let Some(mut col) = group.next_column().unwrap() {
        let d = &columns[i];
        i += 1;
        let defs = vec![d.max_def_level(); rows];
        let reps = vec![0i16; rows];
        let defs = (d.max_def_level() > 0).then_some(defs.as_slice());
        let reps = (d.max_rep_level() > 0).then_some(reps.as_slice());
        match col.untyped() {
            ColumnWriter::BoolColumnWriter(c) => c.write_batch(&vec![true; rows], defs, reps),
            ColumnWriter::Int32ColumnWriter(c) => c.write_batch(&vec![1; rows], defs, reps),
            ColumnWriter::Int64ColumnWriter(c) => c.write_batch(&vec![1; rows], defs, reps),
            ColumnWriter::Int96ColumnWriter(c) => {
                c.write_batch(&vec![Int96::new(); rows], defs, reps)
            }
            ColumnWriter::FloatColumnWriter(c) => c.write_batch(&vec![1.0; rows], defs, reps),
            ColumnWriter::DoubleColumnWriter(c) => c.write_batch(&vec![1.0; rows], defs, reps),
            ColumnWriter::ByteArrayColumnWriter(c) => {
                c.write_batch(&vec![ByteArray::from("x"); rows], defs, reps)
            }
            ColumnWriter::FixedLenByteArrayColumnWriter(c) => {
                let v = FixedLenByteArray::from(vec![0u8; d.type_length() as usize]);
                c.write_batch(&vec![v; rows], defs, reps)
            }
        }
        .unwrap();
        col.close().unwrap();
    }
    group.close().unwrap();
    writer.close().unwrap();
}

/// Writes the Parquet files a case's `parquet.txt` lists under `into`.
fn write_listed_parquet(manifest: &Path, into: &Path) {
    let Ok(text) = fs::read_to_string(manifest) else {
        return;
    };
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let parts: Vec<&str> = line.splitn(3, '|').map(str::trim).collect();
        let [path, rows, message] = parts.as_slice() else {
            panic!("{}: bad line {line:?}", manifest.display());
        };
        write_parquet(&into.join(path), message, rows.parse().unwrap());
    }
}

/// A case's input, ready in a temporary folder named after the case.
fn prepare(case: &Path, tmp: &Path) -> PathBuf {
    let dir = tmp.join(case.file_name().unwrap());
    fs::create_dir_all(&dir).unwrap();
    if case.join("input").is_dir() {
        copy_dir(&case.join("input"), &dir);
    }
    write_listed_parquet(&case.join("parquet.txt"), &dir);
    dir
}

fn literal(t: &Term) -> String {
    match t {
        Term::Literal(l) => l.value().to_owned(),
        other => other.to_string(),
    }
}

fn file_datasets(store: &GraphStore, system: &str) -> Vec<NamedNode> {
    let q = format!(
        "SELECT ?d WHERE {{ GRAPH <urn:govgraph:graph:files:{system}> {{ ?d a gg:FileDataset }} }} ORDER BY ?d"
    );
    store
        .select(&q)
        .unwrap()
        .iter()
        .map(|row| match row.get("d") {
            Some(Term::NamedNode(n)) => n.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// What the store holds about a system of files, as text.
fn render(store: &GraphStore, system: &str, report: &RunReport, dir: &Path) -> String {
    let s = store.scheme();
    let mut out = String::new();
    let rows = store
        .select(&format!(
            "SELECT ?title ?platform WHERE {{ <{}> dct:title ?title ; gg:platform ?platform }}",
            s.entity(govgraph_graph::Kind::System, system).as_str()
        ))
        .unwrap();
    for r in &rows {
        out.push_str(&format!(
            "system {system}: {} ({})\n",
            literal(r.get("title").unwrap()),
            literal(r.get("platform").unwrap())
        ));
    }
    for iri in file_datasets(store, system) {
        let d = Dataset::read(store, s, iri.as_ref()).unwrap();
        out.push_str(&format!(
            "\ndataset {} {:?} rows={}{}\n",
            d.key.name,
            d.title,
            d.row_count.map_or("?".to_owned(), |n| n.to_string()),
            d.layer.map(|l| format!(" layer={l}")).unwrap_or_default()
        ));
        if let Some(desc) = &d.description {
            out.push_str(&format!("  {desc}\n"));
        }
        let modified = store
            .select(&format!(
                "SELECT ?m WHERE {{ <{}> dct:modified ?m FILTER(DATATYPE(?m) = xsd:dateTime) }}",
                iri.as_str()
            ))
            .unwrap();
        assert_eq!(modified.len(), 1, "{iri} has no single dct:modified");
        for r in store
            .select(&format!(
                "SELECT ?title ?format ?media ?path ?size WHERE {{ <{}> dcat:distribution ?x . ?x a dcat:Distribution ; dct:title ?title ; dct:format ?format ; dcat:mediaType ?media ; gg:path ?path ; dcat:byteSize ?size }} ORDER BY ?path ?format",
                iri.as_str()
            ))
            .unwrap()
        {
            let v = |k: &str| literal(r.get(k).unwrap());
            out.push_str(&format!(
                "  distribution {} {} {} {} bytes {:?}\n",
                v("format"),
                v("media"),
                v("path"),
                v("size"),
                v("title")
            ));
        }
        for r in store
            .select(&format!(
                "SELECT ?c WHERE {{ ?c gg:columnOf <{}> ; gg:ordinal ?o }} ORDER BY ?o",
                iri.as_str()
            ))
            .unwrap()
        {
            let Some(Term::NamedNode(c)) = r.get("c") else {
                panic!()
            };
            let c = Column::read(store, s, c.as_ref()).unwrap();
            out.push_str(&format!(
                "  {} {} {} {}{}\n",
                c.ordinal.unwrap(),
                c.name,
                c.data_type.unwrap_or_default(),
                match c.required {
                    Some(true) => "required",
                    Some(false) => "nullable",
                    None => "unknown",
                },
                if c.key.name == govgraph_graph::iri::slug(&c.name) {
                    String::new()
                } else {
                    format!(" (key {})", c.key.name)
                }
            ));
        }
    }
    out.push_str("\ncounts:");
    for (k, v) in &report.counts {
        out.push_str(&format!(" {k}={v}"));
    }
    out.push('\n');
    for w in &report.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out.replace(&dir.display().to_string(), "$DIR")
}

fn no_file_datasets(store: &GraphStore) -> bool {
    store
        .select("SELECT ?d WHERE { ?d a gg:FileDataset }")
        .unwrap()
        .is_empty()
}

/// Ingests one case; returns what the store holds, or the error.
fn run_case(case: &Path) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let dir = prepare(case, tmp.path());
    let system = case.file_name().unwrap().to_str().unwrap();
    let store = store();
    match ingest_files(&store, &dir, &FilesOptions::default(), &NoProgress) {
        Ok(report) => {
            assert_eq!(report.status, "succeeded");
            render(&store, &govgraph_graph::iri::slug(system), &report, &dir)
        }
        Err(e) => {
            assert!(no_file_datasets(&store), "a failed run stored datasets");
            let failed = store
                .select("SELECT ?r WHERE { ?r a gg:IngestionRun ; gg:status \"failed\" ; gg:errorMessage ?m }")
                .unwrap();
            assert_eq!(failed.len(), 1, "the failed run is not recorded");
            format!(
                "error: {}\n",
                e.to_string().replace(&dir.display().to_string(), "$DIR")
            )
        }
    }
}

#[test]
fn cases() {
    let mut cases: Vec<PathBuf> = fs::read_dir(fixtures().join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 12, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let actual = run_case(case);
        let name = case.file_name().unwrap().to_str().unwrap();
        assert_eq!(
            name.starts_with("err_"),
            actual.starts_with("error: "),
            "{name}: {actual}"
        );
        let expected_path = case.join("expected.txt");
        if bless() {
            fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        match fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{name}:\n--- expected\n{expected}\n--- actual\n{actual}"
            )),
            Err(_) => failures.push(format!(
                "{name}: no expected.txt (run with GOVGRAPH_BLESS=1 to write it)"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// The demo seeds

fn catalog() -> oxigraph::model::Graph {
    use oxigraph::io::{RdfFormat, RdfParser};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/catalog/datasets.ttl");
    let mut graph = oxigraph::model::Graph::new();
    for t in RdfParser::from_format(RdfFormat::Turtle).for_reader(File::open(path).unwrap()) {
        let q = t.unwrap();
        graph.insert(&oxigraph::model::Triple::new(
            q.subject,
            q.predicate,
            q.object,
        ));
    }
    graph
}

/// Name, type, ordinal and required flag of a dataset's columns, by ordinal.
fn columns_of(
    source: &impl govgraph_graph::model::TripleRead,
    scheme: &govgraph_graph::IriScheme,
    key: &DatasetKey,
    graph: &oxigraph::model::Graph,
) -> Vec<(u32, String, String, Option<bool>)> {
    use govgraph_graph::vocab::gg;
    use oxigraph::model::TermRef;
    let dataset = scheme.dataset(key);
    let mut out: Vec<_> = graph
        .subjects_for_predicate_object(gg::COLUMN_OF, TermRef::from(dataset.as_ref()))
        .map(|c| match c {
            oxigraph::model::NamedOrBlankNodeRef::NamedNode(n) => {
                let c = Column::read(source, scheme, n).unwrap();
                (c.ordinal.unwrap(), c.name, c.data_type.unwrap(), c.required)
            }
            other => panic!("{other}"),
        })
        .collect();
    out.sort();
    out
}

fn store_graph(store: &GraphStore, system: &str) -> oxigraph::model::Graph {
    use oxigraph::model::{GraphNameRef, NamedNodeRef};
    let name = format!("urn:govgraph:graph:files:{system}");
    let mut g = oxigraph::model::Graph::new();
    for q in store.raw().quads_for_pattern(
        None,
        None,
        None,
        Some(GraphNameRef::NamedNode(NamedNodeRef::new(&name).unwrap())),
    ) {
        let q = q.unwrap();
        g.insert(&oxigraph::model::Triple::new(
            q.subject,
            q.predicate,
            q.object,
        ));
    }
    g
}

/// The demo's bronze exports, read in place, describe exactly the bronze datasets of the
/// demo catalog: the same keys, columns, types, nullability and row counts.
#[test]
fn seeds_match_the_demo_catalog() {
    let store = store();
    let options = FilesOptions {
        system: Some("shop".into()),
        ..FilesOptions::default()
    };
    let report = ingest_files(&store, &seeds_data(), &options, &NoProgress).unwrap();
    let s = store.scheme();
    let rendered = render(&store, "shop", &report, &seeds_data());
    let expected_path = fixtures().join("seeds.expected.txt");
    if bless() {
        fs::write(&expected_path, &rendered).unwrap();
    } else {
        assert_eq!(fs::read_to_string(&expected_path).unwrap(), rendered);
    }
    let catalog = catalog();
    let ours = store_graph(&store, "shop");
    let datasets = file_datasets(&store, "shop");
    assert_eq!(datasets.len(), 7);
    for iri in datasets {
        let mine = Dataset::read(&store, s, iri.as_ref()).unwrap();
        let theirs = Dataset::read(&catalog, s, iri.as_ref()).unwrap();
        assert_eq!(mine.row_count, theirs.row_count, "{}", mine.key);
        assert_eq!(mine.layer, theirs.layer, "{}", mine.key);
        assert_eq!(
            columns_of(&store, s, &mine.key, &ours),
            columns_of(&catalog, s, &mine.key, &catalog),
            "{}",
            mine.key
        );
    }
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

/// The bronze CSVs alone (types inferred from text) agree with the catalog on names, types
/// and row counts, and never call a catalogued required column nullable.
#[test]
fn seed_csvs_infer_the_catalog_types() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bronze");
    fs::create_dir_all(&dir).unwrap();
    for e in fs::read_dir(seeds_data().join("bronze")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "csv") {
            fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
    let store = store();
    let options = FilesOptions {
        system: Some("shop".into()),
        sample_rows: 0,
    };
    ingest_files(&store, tmp.path(), &options, &NoProgress).unwrap();
    let s = store.scheme();
    let catalog = catalog();
    let ours = store_graph(&store, "shop");
    let datasets = file_datasets(&store, "shop");
    assert_eq!(datasets.len(), 7);
    for iri in datasets {
        let mine = Dataset::read(&store, s, iri.as_ref()).unwrap();
        let theirs = Dataset::read(&catalog, s, iri.as_ref()).unwrap();
        assert_eq!(mine.row_count, theirs.row_count, "{}", mine.key);
        let a = columns_of(&store, s, &mine.key, &ours);
        let b = columns_of(&catalog, s, &mine.key, &catalog);
        assert_eq!(a.len(), b.len(), "{}", mine.key);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((x.0, &x.1, &x.2), (y.0, &y.1, &y.2), "{}", mine.key);
            if y.3 == Some(true) {
                assert_eq!(x.3, Some(true), "{} {}", mine.key, x.1);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Runs

#[test]
fn a_failed_run_keeps_the_previous_facts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shop");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("orders.csv"), "id,total\n1,2.5\n").unwrap();
    fs::write(dir.join("customers.jsonl"), "{\"id\":1}\n").unwrap();
    let store = store();
    ingest_files(&store, &dir, &FilesOptions::default(), &NoProgress).unwrap();
    assert_eq!(file_datasets(&store, "shop").len(), 2);

    fs::write(dir.join("customers.jsonl"), "{\"id\":1}\n{\"id\":\n").unwrap();
    let e = ingest_files(&store, &dir, &FilesOptions::default(), &NoProgress).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("customers.jsonl: line 2, column 6: is not JSON"),
        "{msg}"
    );
    assert_eq!(
        file_datasets(&store, "shop").len(),
        2,
        "the previous facts are gone"
    );
    let runs = store
        .select("SELECT ?s WHERE { ?r a gg:IngestionRun ; gg:connector \"files\" ; gg:status ?s } ORDER BY ?s")
        .unwrap();
    let statuses: Vec<String> = runs.iter().map(|r| literal(r.get("s").unwrap())).collect();
    assert_eq!(statuses, ["failed", "succeeded"]);

    // Fixed and with one file fewer: the system's graph is replaced.
    fs::remove_file(dir.join("customers.jsonl")).unwrap();
    let report = ingest_files(&store, &dir, &FilesOptions::default(), &NoProgress).unwrap();
    assert_eq!(report.counts.get("datasets"), Some(&1));
    let left = file_datasets(&store, "shop");
    assert_eq!(left.len(), 1);
    assert!(
        left[0].as_str().ends_with("/dataset/shop/orders"),
        "{}",
        left[0]
    );
}

#[test]
fn the_system_key_comes_from_options_or_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("Web Shop");
    fs::create_dir_all(dir.join("sales")).unwrap();
    fs::write(dir.join("sales/Orders 2024.csv"), "a\n1\n").unwrap();
    let scheme = govgraph_graph::IriScheme::default();
    let e = read_files(&dir, &FilesOptions::default(), &scheme, &NoProgress).unwrap();
    assert_eq!(e.sources.len(), 1);
    assert_eq!(e.sources[0].name, "files:web-shop");
    let text: String = e.sources[0]
        .triples
        .iter()
        .map(|t| format!("{t}\n"))
        .collect();
    assert!(
        text.contains("/dataset/web-shop/sales.orders-2024>"),
        "{text}"
    );
    assert!(text.contains("\"sales/Orders 2024.csv\""), "{text}");
    let e = read_files(
        &dir,
        &FilesOptions {
            system: Some("Lake".into()),
            ..FilesOptions::default()
        },
        &scheme,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(e.sources[0].name, "files:lake");
    // One file names itself; the system is its folder's.
    let e = read_files(
        &dir.join("sales/Orders 2024.csv"),
        &FilesOptions::default(),
        &scheme,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(e.sources[0].name, "files:sales");
    assert_eq!(e.counts.get("datasets"), Some(&1));
    let empty = FilesOptions {
        system: Some(" ".into()),
        ..FilesOptions::default()
    };
    assert!(read_files(&dir, &empty, &scheme, &NoProgress).is_err());
    let missing = read_files(
        &dir.join("nope"),
        &FilesOptions::default(),
        &scheme,
        &NoProgress,
    )
    .unwrap_err()
    .to_string();
    assert!(missing.contains("nope: cannot read"), "{missing}");
}

#[test]
fn sample_rows_bound_type_inference_but_not_nulls_or_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("t.csv"), "a,b\n1,x\n2,y\nthree,\n").unwrap();
    fs::write(
        dir.join("j.jsonl"),
        "{\"a\":1}\n{\"a\":2}\n{\"a\":\"three\"}\n{\"b\":1}\n",
    )
    .unwrap();
    let store = store();
    let few = FilesOptions {
        system: None,
        sample_rows: 2,
    };
    let report = ingest_files(&store, &dir, &few, &NoProgress).unwrap();
    let text = render(&store, "s", &report, &dir);
    assert!(text.contains("dataset t \"t.csv\" rows=3"), "{text}");
    assert!(
        text.contains("  1 a bigint required\n  2 b varchar nullable"),
        "{text}"
    );
    // Keys first met after the sample are not columns; a missing key still makes a nullable.
    assert!(text.contains("dataset j \"j.jsonl\" rows=4\n"), "{text}");
    assert!(text.contains("  1 a bigint nullable\n\n"), "{text}");
    let report = ingest_files(&store, &dir, &FilesOptions::default(), &NoProgress).unwrap();
    let text = render(&store, "s", &report, &dir);
    assert!(
        text.contains("  1 a varchar required\n  2 b varchar nullable"),
        "{text}"
    );
}

#[derive(Default)]
struct Recorder {
    phases: Mutex<Vec<(String, Option<u64>)>>,
    advanced: AtomicU64,
}

impl Progress for Recorder {
    fn phase(&self, name: &str, total: Option<u64>) {
        self.phases.lock().unwrap().push((name.to_owned(), total));
    }
    fn advance(&self, n: u64) {
        self.advanced.fetch_add(n, Ordering::SeqCst);
    }
}

#[test]
fn progress_counts_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = prepare(&fixtures().join("cases/lake"), tmp.path());
    let recorder = Recorder::default();
    let scheme = govgraph_graph::IriScheme::default();
    let e = read_files(&dir, &FilesOptions::default(), &scheme, &recorder).unwrap();
    let phases = recorder.phases.lock().unwrap().clone();
    assert_eq!(phases, [("scanning files".to_owned(), Some(17))]);
    assert_eq!(recorder.advanced.load(Ordering::SeqCst), 17);
    assert_eq!(e.counts.get("files"), Some(&17));
}

#[cfg(unix)]
#[test]
fn symbolic_link_loops_end() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("looped");
    fs::create_dir_all(dir.join("a")).unwrap();
    fs::write(dir.join("a/x.csv"), "v\n1\n").unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("a/back")).unwrap();
    std::os::unix::fs::symlink(dir.join("a/x.csv"), dir.join("y.csv")).unwrap();
    std::os::unix::fs::symlink(dir.join("gone.csv"), dir.join("broken.csv")).unwrap();
    let store = store();
    let report = ingest_files(&store, &dir, &FilesOptions::default(), &NoProgress).unwrap();
    let text = render(&store, "looped", &report, &dir);
    assert_eq!(report.counts.get("datasets"), Some(&2), "{text}");
    assert!(text.contains("dataset a.x "), "{text}");
    assert!(text.contains("dataset y "), "{text}");
    assert!(
        text.contains(
            "warning: $DIR/a/back: skipped: a symbolic link to a folder that is already read"
        ),
        "{text}"
    );
    assert!(text.contains("warning: $DIR/broken.csv: skipped"), "{text}");
}

#[test]
fn truncated_parquet_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t");
    let path = dir.join("events.parquet");
    write_parquet(&path, "message m { required int64 id; }", 10);
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
    let store = store();
    let e = ingest_files(&store, &dir, &FilesOptions::default(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!(
            "{}: footer: is not a readable Parquet footer",
            path.display()
        )),
        "{e}"
    );
    assert!(no_file_datasets(&store));
}

#[cfg(target_os = "linux")]
#[test]
fn an_unreadable_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("u");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("ok.csv"), "a\n1\n").unwrap();
    // Reading the process's own memory from offset 0 fails with an I/O error, even as root.
    std::os::unix::fs::symlink("/proc/self/mem", dir.join("mem.csv")).unwrap();
    let store = store();
    let e = ingest_files(&store, &dir, &FilesOptions::default(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("{}: cannot read", dir.join("mem.csv").display())),
        "{e}"
    );
    assert!(no_file_datasets(&store));
}

// ---------------------------------------------------------------------------------------------
// Robustness: no input makes the reader panic.

fn read_one(name: &str, bytes: &[u8]) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
    let scheme = govgraph_graph::IriScheme::default();
    let options = FilesOptions {
        system: None,
        sample_rows: 5,
    };
    if let Err(e) = read_files(&dir, &options, &scheme, &NoProgress) {
        assert!(e.to_string().contains(name), "{e}");
    }
}

fn valid_parquet() -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("v.parquet");
    write_parquet(
        &path,
        "message m { required int64 id; optional binary s (STRING); optional group l (LIST) { repeated group list { optional int32 element; } } optional group g { required double x; } }",
        3,
    );
    fs::read(path).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        for name in ["x.csv", "x.tsv", "x.jsonl", "x.json", "x.parquet"] {
            read_one(name, &bytes);
        }
    }

    #[test]
    fn text_like_input_never_panics(text in "[a-z0-9,;|\t\"' \n\r{}\\[\\]:.=-]{0,400}") {
        for name in ["x.csv", "x.jsonl", "x.json"] {
            read_one(name, text.as_bytes());
        }
    }

    #[test]
    fn mutated_parquet_never_panics(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in 0usize..64,
    ) {
        let mut bytes = valid_parquet();
        let len = bytes.len();
        // Mutate the footer (the tail) mostly, where the schema lives.
        for (at, value) in flips {
            let i = len - 1 - at.index(len.min(400));
            bytes[i] = value;
        }
        if cut > 48 {
            bytes.truncate(len - (cut - 48));
        }
        read_one("m.parquet", &bytes);
    }
}
