//! The demo generator: regeneration is byte-identical to the committed files, the
//! embedded Turtle matches them, and the Parquet files read back with the CSV's rows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use govgraph_seeds::demo::{self, DEMO_SOURCES, seeds_dir};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, RowAccessor};
use std::fs;
use std::path::PathBuf;

const EXPECTED_ROWS: &[(&str, usize)] = &[
    ("orders", 5002),
    ("customers", 1003),
    ("products", 200),
    ("marketing_campaigns", 25),
    ("marketing_events", 5000),
    ("user_interactions", 8000),
    ("support_tickets", 500),
];

/// RFC 4180 records (quoted fields may hold commas, quotes and line breaks).
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => record.push(std::mem::take(&mut field)),
                '\n' => {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                c => field.push(c),
            }
        }
    }
    assert!(
        !quoted && field.is_empty() && record.is_empty(),
        "file ends with a complete record"
    );
    records
}

#[test]
fn regeneration_is_byte_identical_to_the_committed_files() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("govgraph-seeds-test-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let summary = demo::generate(&dir).unwrap();
    assert_eq!(
        summary.files.len(),
        21,
        "7 CSV + 7 Parquet + 7 Turtle files"
    );
    let mut total = 0;
    for (rel, bytes) in &summary.files {
        let fresh = fs::read(dir.join(rel)).unwrap();
        let committed = fs::read(seeds_dir().join(rel))
            .unwrap_or_else(|e| panic!("committed {rel} missing: {e}"));
        assert_eq!(fresh.len() as u64, *bytes);
        assert!(
            fresh == committed,
            "{rel} differs from the committed file: run `cargo run -p govgraph-seeds --bin seedgen -- demo`"
        );
        total += bytes;
    }
    assert!(
        total < 10 * 1024 * 1024,
        "demo data stays under 10 MB, is {total}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn embedded_sources_match_the_files() {
    assert_eq!(DEMO_SOURCES.len(), 7);
    let mut names = std::collections::HashSet::new();
    for s in DEMO_SOURCES {
        assert!(names.insert(s.name));
        assert!(s.name.starts_with("demo:"));
        let on_disk = fs::read_to_string(seeds_dir().join(s.path)).unwrap();
        assert_eq!(s.turtle, on_disk, "{} is embedded as committed", s.path);
        assert!(
            s.turtle
                .contains("@prefix gg: <https://govgraph.dev/ns#> .")
        );
    }
    let glossary = DEMO_SOURCES
        .iter()
        .find(|s| s.name == "demo:glossary")
        .unwrap()
        .turtle;
    assert!(glossary.matches("a skos:Concept, gg:GlossaryTerm").count() >= 35);
    for label in [
        "\"Gross Revenue\"",
        "\"Net Revenue\"",
        "\"Active Customer\"",
        "\"Customer Lifetime Value\"",
        "\"Date of Birth\"",
        "\"DOB\"",
        "\"txn\"",
        "\"amt\"",
        "\"cust\"",
    ] {
        assert!(glossary.contains(label), "glossary has {label}");
    }
    let quality = DEMO_SOURCES
        .iter()
        .find(|s| s.name == "demo:quality")
        .unwrap()
        .turtle;
    assert!(quality.matches("a gg:QualityRule").count() >= 10);
    let policies = DEMO_SOURCES
        .iter()
        .find(|s| s.name == "demo:policies")
        .unwrap()
        .turtle;
    assert!(policies.matches("a odrl:Set").count() >= 5);
}

#[test]
fn csv_and_parquet_hold_the_same_rows() {
    for (table, expected) in EXPECTED_ROWS {
        let csv = fs::read_to_string(seeds_dir().join(format!("data/bronze/{table}.csv"))).unwrap();
        let records = csv_records(&csv);
        let header = &records[0];
        for r in &records[1..] {
            assert_eq!(
                r.len(),
                header.len(),
                "{table}: every record has {} fields",
                header.len()
            );
        }
        assert_eq!(records.len() - 1, *expected, "{table} CSV rows");

        let file =
            fs::File::open(seeds_dir().join(format!("data/bronze/{table}.parquet"))).unwrap();
        let reader = SerializedFileReader::new(file).unwrap();
        assert_eq!(
            reader.metadata().file_metadata().num_rows(),
            *expected as i64,
            "{table} Parquet rows"
        );
        let schema = reader.metadata().file_metadata().schema_descr();
        let names: Vec<&str> = schema.columns().iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            header.iter().map(String::as_str).collect::<Vec<_>>(),
            "{table}: same columns"
        );
        let mut n = 0;
        for (row, rec) in reader.get_row_iter(None).unwrap().zip(records[1..].iter()) {
            let row = row.unwrap();
            assert_eq!(
                row.get_long(0).unwrap().to_string(),
                rec[0],
                "{table}: same ids in the same order"
            );
            for (i, (_, field)) in row.get_column_iter().enumerate() {
                match field {
                    Field::Null => assert_eq!(rec[i], "", "{table}: null is an empty CSV field"),
                    Field::Str(s) => assert_eq!(s, &rec[i], "{table}.{}", header[i]),
                    Field::Long(v) => assert_eq!(v.to_string(), rec[i]),
                    Field::Double(v) => assert!((v - rec[i].parse::<f64>().unwrap()).abs() < 1e-9),
                    Field::Bool(b) => assert_eq!(b.to_string(), rec[i]),
                    _ => {}
                }
            }
            n += 1;
        }
        assert_eq!(n, *expected);
    }
}

#[test]
fn deliberate_defects_are_present() {
    let read = |t: &str| {
        csv_records(&fs::read_to_string(seeds_dir().join(format!("data/bronze/{t}.csv"))).unwrap())
    };
    let orders = read("orders");
    let mut ids: Vec<&str> = orders[1..].iter().map(|r| r[0].as_str()).collect();
    ids.sort_unstable();
    let dups = ids.windows(2).filter(|w| w[0] == w[1]).count();
    assert_eq!(dups, 2, "two duplicate order ids");
    assert_eq!(
        orders[1..].iter().filter(|r| r[6].starts_with('-')).count(),
        1,
        "one negative quantity"
    );
    assert_eq!(
        orders[1..]
            .iter()
            .filter(|r| r[2].as_str() > "2030")
            .count(),
        1,
        "one future order date"
    );
    let customers = read("customers");
    assert_eq!(
        customers[1..].iter().filter(|r| r[3].is_empty()).count(),
        6,
        "six null emails"
    );
    let tickets = read("support_tickets");
    let bodies = tickets.len() - 1;
    let with_email = tickets[1..].iter().filter(|r| r[7].contains('@')).count();
    let with_phone = tickets[1..].iter().filter(|r| r[7].contains(" +")).count();
    assert!(
        (bodies * 10 / 100..bodies * 20 / 100).contains(&with_email),
        "about 15% of bodies hold an email: {with_email}"
    );
    assert!(
        (bodies * 6 / 100..bodies * 14 / 100).contains(&with_phone),
        "about 10% of bodies hold a phone number: {with_phone}"
    );
}

#[test]
fn sql_models_are_single_commented_statements() {
    for layer in ["silver", "gold"] {
        for entry in fs::read_dir(seeds_dir().join("sql").join(layer)).unwrap() {
            let path = entry.unwrap().path();
            let sql = fs::read_to_string(&path).unwrap();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            assert!(
                sql.starts_with(&format!("-- {layer}.{name}:")),
                "{} starts with a describing comment",
                path.display()
            );
            assert_eq!(
                sql.matches("CREATE ").count(),
                1,
                "{} is one statement",
                path.display()
            );
            assert!(sql.contains(&format!("CREATE TABLE {layer}.{name} AS")));
            assert!(sql.trim_end().ends_with(';'));
        }
    }
}
