//! Files next to their expected labels: each `tests/cases/NAME.csv` (or `.jsonl`, `.parquet`)
//! is sampled and classified, and the JSON `govgraph classify --json` prints must equal
//! `tests/cases/NAME.expected.json`. `GOVGRAPH_BLESS=1` rewrites the expectations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use govgraph_quality::{classify_table, sample};

#[test]
fn files_match_their_expected_labels() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with(".expected.json"))
        .collect();
    files.sort();
    assert!(files.len() >= 2);
    for file in files {
        let columns = sample::sample_file(&file, sample::DEFAULT_ROWS).unwrap();
        let results = classify_table(&columns);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let actual = serde_json::to_string_pretty(
            &serde_json::json!({ "dataset": name, "columns": results }),
        )
        .unwrap()
            + "\n";
        let expected_path = file.with_extension("expected.json");
        if std::env::var_os("GOVGRAPH_BLESS").is_some() {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
            panic!(
                "{} is missing; run with GOVGRAPH_BLESS=1",
                expected_path.display()
            )
        });
        assert_eq!(
            expected, actual,
            "{name} differs; GOVGRAPH_BLESS=1 rewrites it"
        );
    }
}

#[test]
fn arbitrary_text_never_panics() {
    use govgraph_quality::{ColumnSample, classify_column};
    use proptest::prelude::*;
    proptest!(ProptestConfig::with_cases(300), |(name in ".{0,40}", values in proptest::collection::vec(".{0,60}", 0..20))| {
        let r = classify_column(&ColumnSample::new(name, values));
        prop_assert!((0.0..=1.0).contains(&r.confidence));
    });
}

#[test]
fn unreadable_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"a\": 1}\nnot json\n").unwrap();
    let err = sample::sample_file(&bad, 10).unwrap_err().to_string();
    assert!(err.contains("bad.jsonl") && err.contains("line 2"), "{err}");
    let unknown = dir.path().join("data.xlsx");
    std::fs::write(&unknown, "x").unwrap();
    let err = sample::sample_file(&unknown, 10).unwrap_err().to_string();
    assert!(
        err.contains("data.xlsx") && err.contains("unknown format"),
        "{err}"
    );
}

#[test]
fn corrupt_parquet_and_csv_never_panic() {
    use proptest::prelude::*;
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/data/bronze");
    let parquet = std::fs::read(seeds.join("marketing_campaigns.parquet")).unwrap();
    let csv = std::fs::read(seeds.join("marketing_campaigns.csv")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    proptest!(ProptestConfig::with_cases(64), |(at in 0usize..100_000, byte in any::<u8>(), cut in 0usize..100_000)| {
        for (name, original) in [("f.parquet", &parquet), ("f.csv", &csv)] {
            let mut bytes = original.clone();
            let at = at % bytes.len();
            bytes[at] = byte;
            bytes.truncate(cut % bytes.len() + 1);
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).unwrap();
            let _ = sample::sample_file(&path, 100);
        }
    });
}
