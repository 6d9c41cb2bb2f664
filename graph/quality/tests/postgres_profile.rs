//! PostgreSQL push-down profiles use the file profiler's metric definitions: the same rows
//! as a table and as a CSV file give the same statistics. Reads
//! `GOVGRAPH_TEST_POSTGRES_URL` (CI sets it); without it the test says it was skipped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use govgraph_connectors::postgres::{Flavor, PostgresOptions, begin_read_only, connect};
use govgraph_quality::profile::{postgres::profile_table, profile_file};

const ROWS: &[(&str, &str, &str, &str, &str)] = &[
    ("1", "10.50", "2024-01-01", "a", "true"),
    ("2", "", "2024-01-03", "b", "false"),
    ("3", "7.50", "2024-01-02", "a", "true"),
    ("4", "2.00", "", "", "true"),
    ("5", "7.50", "2024-02-29", "ccc", "false"),
];

#[test]
fn a_table_and_a_csv_of_the_same_rows_profile_alike() {
    let Some(url) = std::env::var("GOVGRAPH_TEST_POSTGRES_URL").ok() else {
        eprintln!("skipped: GOVGRAPH_TEST_POSTGRES_URL is not set");
        return;
    };
    let options = PostgresOptions::new(url);
    let mut admin = connect(&options).unwrap();
    let sql_value = |v: &str, quoted: bool| {
        if v.is_empty() {
            "NULL".to_owned()
        } else if quoted {
            format!("'{v}'")
        } else {
            v.to_owned()
        }
    };
    let values: Vec<String> = ROWS
        .iter()
        .map(|(id, amount, when, label, flag)| {
            format!(
                "({id}, {}, {}, {}, {flag})",
                sql_value(amount, false),
                sql_value(when, true),
                sql_value(label, true)
            )
        })
        .collect();
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS govgraph_profile_test CASCADE; CREATE SCHEMA govgraph_profile_test;
             CREATE TABLE govgraph_profile_test.t (id integer, amount numeric(10,2), \"when\" date, label text, flag boolean);
             INSERT INTO govgraph_profile_test.t VALUES {};",
            values.join(", ")
        ))
        .unwrap();
    let mut client = connect(&options).unwrap();
    begin_read_only(&mut client, Flavor::Postgres).unwrap();
    let table = profile_table(&mut client, "govgraph_profile_test", "t").unwrap();
    client.batch_execute("ROLLBACK").unwrap();
    admin
        .batch_execute("DROP SCHEMA govgraph_profile_test CASCADE")
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    let mut text = "id,amount,when,label,flag\n".to_owned();
    for (id, amount, when, label, flag) in ROWS {
        text.push_str(&format!("{id},{amount},{when},{label},{flag}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let file = profile_file(&csv).unwrap();

    assert_eq!(table.row_count, file.row_count);
    for (a, b) in table.columns.iter().zip(&file.columns) {
        assert_eq!(a.name, b.name);
        let n = a.name.as_str();
        assert_eq!(
            (a.count, a.null_count, a.distinct_count),
            (b.count, b.null_count, b.distinct_count),
            "{n}"
        );
        assert_eq!(a.null_percentage, b.null_percentage, "{n}");
        let num = |v: &serde_json::Value| {
            v.as_f64()
                .map_or_else(|| v.to_string(), |x| format!("{x:.4}"))
        };
        for (x, y) in [
            (&a.min, &b.min),
            (&a.max, &b.max),
            (&a.q25, &b.q25),
            (&a.q50, &b.q50),
            (&a.q75, &b.q75),
        ] {
            assert_eq!(num(x), num(y), "{n}: {a:?} {b:?}");
        }
        for (x, y) in [(a.mean, b.mean), (a.stddev, b.stddev)] {
            assert_eq!(
                x.map(|v| format!("{v:.9}")),
                y.map(|v| format!("{v:.9}")),
                "{n}"
            );
        }
        assert_eq!(
            (a.min_length, a.max_length, a.mean_length),
            (b.min_length, b.max_length, b.mean_length),
            "{n}"
        );
        // The same values, though a numeric(10,2) shows 7.50 where a CSV float shows 7.5.
        let tops = |p: &govgraph_quality::profile::ColumnProfile| -> Vec<(String, u64)> {
            p.top_values
                .iter()
                .map(|t| {
                    (
                        t.value
                            .parse::<f64>()
                            .map_or_else(|_| t.value.clone(), |x| x.to_string()),
                        t.count,
                    )
                })
                .collect()
        };
        assert_eq!(tops(a), tops(b), "{n}");
    }
    assert_eq!(table.columns[1].data_type, "decimal");
}
