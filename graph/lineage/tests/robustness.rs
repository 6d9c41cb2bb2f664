//! Inputs that could exhaust the stack or time: deep nesting and long chains.
//! Each runs on a thread with a 2 MiB stack, the size of a test thread and of
//! a tokio worker (`STACK_KB=1024` runs them on smaller stacks).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use govgraph_lineage::{Dialect, Options, Schema, analyze};

fn schema() -> Schema {
    let mut s = Schema::new();
    s.add_table(
        "shop.orders",
        &[("id", "int"), ("amount", "numeric"), ("status", "text")],
    );
    s
}

fn run_small_stack(sql: String, dialect: Dialect) -> govgraph_lineage::Analysis {
    std::thread::Builder::new()
        .stack_size(
            std::env::var("STACK_KB")
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(2048)
                * 1024,
        )
        .spawn(move || {
            let opts = Options {
                dialect,
                ..Options::default()
            };
            analyze(&sql, &schema(), &opts)
        })
        .unwrap()
        .join()
        .unwrap()
}

fn nested(depth: usize, open: &str, inner: &str, close: &str) -> String {
    format!("{}{}{}", open.repeat(depth), inner, close.repeat(depth))
}

#[test]
fn deep_nesting_of_every_kind() {
    let started = std::time::Instant::now();
    for depth in [1, 5, 10, 20, 30, 36, 38, 39, 40, 41, 45, 60, 200, 3000] {
        let cases = [
            format!("SELECT {} FROM orders", nested(depth, "(", "amount", ")")),
            format!("SELECT {}", nested(depth, "(SELECT ", "1", ")")),
            format!(
                "SELECT * FROM {} t",
                nested(depth, "(SELECT * FROM ", "orders", ") x")
            ),
            format!(
                "SELECT {} FROM orders",
                nested(depth, "abs(", "amount", ")")
            ),
            format!(
                "SELECT {} FROM orders",
                nested(depth, "CASE WHEN status = 'a' THEN ", "amount", " END")
            ),
            format!(
                "SELECT 1 FROM orders WHERE {}",
                nested(depth, "NOT (", "id = 1", ")")
            ),
            format!(
                "SELECT 1 FROM orders WHERE {}",
                nested(depth, "EXISTS (SELECT 1 FROM orders WHERE ", "id = 1", ")")
            ),
            format!("{} SELECT 1", nested(depth, "WITH a AS (", "SELECT 1", ")")),
            format!("SELECT {}", nested(depth, "ARRAY[", "1", "]")),
            format!("SELECT * FROM {}", nested(depth, "(", "orders", ")")),
        ];
        for sql in cases {
            for d in [Dialect::Generic, Dialect::Postgres, Dialect::Snowflake] {
                let a = run_small_stack(sql.clone(), d);
                assert_eq!(a.statements.len(), 1, "{sql}");
            }
        }
    }
    // sqlparser backtracks exponentially on some deep nestings; the bracket
    // limit keeps this fast.
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn keyword_nesting_without_brackets() {
    for depth in [10, 24, 25, 50, 100, 1000] {
        let case = format!(
            "SELECT {}amount{} FROM orders",
            "CASE WHEN status = 'a' THEN ".repeat(depth),
            " END".repeat(depth)
        );
        let a = run_small_stack(case, Dialect::Generic);
        assert_eq!(a.statements.len(), 1);
    }
}

#[test]
fn worst_inline_combinations() {
    // At most 8 bracket levels (analysed on the caller's thread) combined
    // with keyword nesting up to sqlparser's recursion limit.
    let case = |d: usize| {
        format!(
            "{}amount{}",
            "CASE WHEN NOT status = 'a' THEN ".repeat(d),
            " END".repeat(d)
        )
    };
    let nots = |d: usize| format!("{}TRUE", "NOT - ".repeat(d));
    for d in [5, 10, 15, 20, 24, 30, 48, 49, 50, 60] {
        let sqls = [
            format!("SELECT * FROM ((((((((orders)))))))) WHERE {}", case(d)),
            format!(
                "SELECT * FROM ((((((( (SELECT {} AS x FROM orders) t )))))))",
                case(d)
            ),
            format!("SELECT (((((((( {} )))))))) FROM orders", case(d)),
            format!("SELECT (((((((( {} )))))))) FROM orders", nots(d)),
            format!(
                "WITH a AS (SELECT {} AS x FROM ((((((orders)))))) ) SELECT x FROM a",
                case(d)
            ),
        ];
        for sql in sqls {
            for dialect in [
                Dialect::Generic,
                Dialect::Postgres,
                Dialect::Snowflake,
                Dialect::MsSql,
            ] {
                let a = run_small_stack(sql.clone(), dialect);
                assert_eq!(a.statements.len(), 1);
            }
        }
    }
}

#[test]
fn long_cte_chain_keeps_lineage() {
    let mut sql = String::from("WITH a0 AS (SELECT id, amount FROM orders)");
    for i in 1..500 {
        sql.push_str(&format!(
            ", a{i} AS (SELECT id, amount FROM a{} WHERE id > {i})",
            i - 1
        ));
    }
    sql.push_str(" SELECT amount FROM a499");
    let a = run_small_stack(sql, Dialect::Generic);
    let st = &a.statements[0];
    assert!(st.warnings.is_empty(), "{:?}", st.warnings);
    assert_eq!(st.columns["amount"].sources[0].table, "shop.orders");
    assert_eq!(st.dataset_sources.len(), 1);
}

#[test]
fn long_flat_chains() {
    // Long enough that dropping the chains recursively would overflow 2 MiB.
    let n = 50_000;
    let cases = [
        format!("SELECT {} FROM orders", vec!["amount"; n].join(" + ")),
        format!(
            "SELECT 1 FROM orders WHERE {}",
            vec!["id = 1"; n].join(" OR ")
        ),
        format!("SELECT amount{} FROM orders", "::int".repeat(n)),
        format!(
            "SELECT ({}) AS x",
            vec!["SELECT amount FROM orders"; n / 4].join(" UNION ALL ")
        ),
        format!("SELECT (1 {}) AS x FROM orders", "+ amount ".repeat(n / 4)),
        format!("SELECT amount{} FROM orders", " IS NULL".repeat(n)),
        vec!["SELECT amount FROM orders"; n].join(" UNION ALL "),
        format!(
            "SELECT id FROM orders WHERE id IN ({})",
            vec!["1"; n].join(", ")
        ),
        format!(
            "INSERT INTO orders (id) VALUES {}",
            vec!["(1)"; n].join(", ")
        ),
        ";".repeat(n),
        format!("SELECT {} FROM orders", "- ".repeat(n / 4) + "amount"),
        format!("SELECT {} TRUE", "NOT ".repeat(n / 4)),
        {
            let mut sql = String::from("WITH a0 AS (SELECT id, amount FROM orders)");
            for i in 1..2000 {
                sql.push_str(&format!(
                    ", a{i} AS (SELECT id, amount + 1 AS amount FROM a{})",
                    i - 1
                ));
            }
            sql.push_str(" SELECT amount FROM a1999");
            sql
        },
        format!(
            "SELECT o0.id FROM orders o0 {}",
            (1..2000)
                .map(|i| format!("JOIN orders o{i} ON o{i}.id = o{}.id", i - 1))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        "SELECT 1;".repeat(n / 10),
    ];
    for sql in cases {
        let a = run_small_stack(sql.clone(), Dialect::Postgres);
        assert!(!a.statements.is_empty() || sql.trim_matches(';').is_empty());
        let a = run_small_stack(sql.clone(), Dialect::Snowflake);
        assert!(!a.statements.is_empty() || sql.trim_matches(';').is_empty());
    }
}
