//! Property tests: `analyze` never panics and reports positions inside the
//! input; the splitter's pieces tile the input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use govgraph_lineage::{Analysis, Dialect, Options, Schema, analyze, split_statements};
use proptest::prelude::*;

const SEEDS: &[&str] = &[
    "SELECT o.order_id, SUM(o.amount) AS total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = 'paid' GROUP BY 1 HAVING COUNT(*) > 1 ORDER BY total DESC",
    "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT n FROM t",
    "WITH a AS (SELECT id, amount FROM orders), b AS (SELECT id, SUM(amount) s FROM a GROUP BY id) SELECT * FROM b",
    "INSERT INTO summary (id, total) SELECT customer_id, SUM(amount) FROM orders GROUP BY customer_id",
    "CREATE TABLE x AS SELECT * FROM orders; SELECT * FROM x",
    "CREATE VIEW v (a, b) AS SELECT id, amount * 2 FROM orders",
    "MERGE INTO customers t USING orders s ON t.id = s.customer_id WHEN MATCHED THEN UPDATE SET name = s.status WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.customer_id, s.status)",
    "UPDATE customers c SET name = o.status FROM orders o WHERE o.customer_id = c.id",
    "SELECT CASE WHEN amount > 10 THEN 'big' ELSE status END, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY amount) FROM orders",
    "SELECT id FROM orders WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = orders.customer_id) AND id IN (SELECT id FROM orders)",
    "SELECT * FROM orders UNION ALL SELECT * FROM orders EXCEPT SELECT * FROM orders",
    "SELECT v.a FROM (VALUES (1, 'x'), (2, 'y')) AS v(a, b)",
    "SELECT u FROM orders o, LATERAL unnest(o.tags) AS u",
    "SELECT 'a;b', \"quoted\", $$dollar;$$ FROM orders -- c;\n/* x; */ ; SELECT 2",
    "SELECT (((((amount))))) FROM ((orders))",
    "SELECT id FROM orders o JOIN customers USING (id) NATURAL JOIN orders",
];

fn schema() -> Schema {
    let mut s = Schema::new();
    s.add_table(
        "shop.orders",
        &[
            ("id", "int"),
            ("customer_id", "int"),
            ("amount", "numeric"),
            ("status", "text"),
            ("tags", "text[]"),
        ],
    );
    s.add_table("shop.customers", &[("id", "int"), ("name", "text")]);
    s
}

fn dialect_strategy() -> impl Strategy<Value = Dialect> {
    (0..Dialect::ALL.len()).prop_map(|i| Dialect::ALL[i])
}

/// Line lengths in characters, for checking positions.
fn line_lengths(sql: &str) -> Vec<u64> {
    sql.split('\n').map(|l| l.chars().count() as u64).collect()
}

fn check_position(lines: &[u64], line: u64, column: u64, what: &str) {
    assert!(
        line >= 1 && (line as usize) <= lines.len(),
        "{what}: line {line} of {}",
        lines.len()
    );
    let len = lines[line as usize - 1];
    assert!(
        column >= 1 && column <= len + 1,
        "{what}: column {column} on a line of {len}"
    );
}

fn check_analysis(sql: &str, a: &Analysis) {
    let lines = line_lengths(sql);
    for st in &a.statements {
        let sp = st.span;
        check_position(&lines, sp.start_line, sp.start_column, "span start");
        check_position(&lines, sp.end_line, sp.end_column, "span end");
        assert!((sp.start_line, sp.start_column) <= (sp.end_line, sp.end_column));
        assert!(sql.contains(st.sql.as_str()));
        if let Some(e) = &st.error {
            check_position(&lines, e.line, e.column, "error");
            assert!(st.columns.is_empty());
        }
        for w in &st.warnings {
            if let (Some(l), Some(c)) = (w.line, w.column) {
                check_position(&lines, l, c, &w.message);
            }
        }
        assert_eq!(st.columns.len(), st.column_order.len());
        // Serialisation never fails.
        serde_json::to_string(st).unwrap();
    }
}

fn check_split(sql: &str, dialect: Dialect) {
    let pieces = split_statements(sql, dialect);
    assert!(!pieces.is_empty());
    let mut pos = 0;
    for (i, p) in pieces.iter().enumerate() {
        assert_eq!(p.range.start, pos, "pieces must be contiguous");
        assert!(p.range.end <= sql.len());
        assert!(sql.is_char_boundary(p.range.start) && sql.is_char_boundary(p.range.end));
        assert!(p.text.start >= p.range.start && p.text.end <= p.range.end);
        assert!(sql.is_char_boundary(p.text.start) && sql.is_char_boundary(p.text.end));
        if i + 1 < pieces.len() {
            assert_eq!(&sql[p.range.end..p.range.end + 1], ";");
            pos = p.range.end + 1;
        } else {
            assert_eq!(p.range.end, sql.len());
        }
    }
    // The pieces and the semicolons rebuild the input.
    let rebuilt: Vec<&str> = pieces.iter().map(|p| &sql[p.range.clone()]).collect();
    assert_eq!(rebuilt.join(";"), sql);
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Delete(usize, usize),
    Insert(usize, String),
    Duplicate(usize, usize),
}

fn mutation_strategy() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 0usize..20).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (
            any::<usize>(),
            prop_oneof![
                Just("(".to_string()),
                Just(")".to_string()),
                Just("'".to_string()),
                Just("\"".to_string()),
                Just(";".to_string()),
                Just("SELECT".to_string()),
                Just(" FROM ".to_string()),
                Just(",".to_string()),
                Just("/*".to_string()),
                Just("--".to_string()),
                Just("$$".to_string()),
                Just("WITH x AS (".to_string()),
                Just(" UNION ".to_string()),
                Just("*".to_string()),
                "[ -~]{0,8}",
                "\\PC{0,4}",
            ]
        )
            .prop_map(|(a, s)| Mutation::Insert(a, s)),
        (any::<usize>(), 0usize..40).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
    ]
}

fn mutate(seed: &str, muts: &[Mutation]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for m in muts {
        let n = chars.len();
        match m {
            Mutation::Truncate(at) => chars.truncate(at % (n + 1)),
            Mutation::Delete(at, len) => {
                let a = at % (n + 1);
                let b = (a + len).min(n);
                chars.drain(a..b);
            }
            Mutation::Insert(at, s) => {
                let a = at % (n + 1);
                let tail = chars.split_off(a);
                chars.extend(s.chars());
                chars.extend(tail);
            }
            Mutation::Duplicate(at, len) => {
                let a = at % (n + 1);
                let b = (a + len).min(n);
                let piece: Vec<char> = chars[a..b].to_vec();
                let tail = chars.split_off(b);
                chars.extend(piece);
                chars.extend(tail);
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_strings_never_panic(sql in any::<String>(), dialect in dialect_strategy()) {
        let a = analyze(&sql, &schema(), &Options { dialect, ..Options::default() });
        check_analysis(&sql, &a);
        check_split(&sql, dialect);
    }

    #[test]
    fn sqlish_strings_never_panic(
        sql in "[a-zA-Z0-9_ ,.;()'\"`*+=<>$\\[\\]\n#/-]{0,200}",
        dialect in dialect_strategy(),
    ) {
        let a = analyze(&sql, &schema(), &Options { dialect, ..Options::default() });
        check_analysis(&sql, &a);
        check_split(&sql, dialect);
    }

    #[test]
    fn mutated_sql_never_panics(
        seed in 0..SEEDS.len(),
        muts in proptest::collection::vec(mutation_strategy(), 1..5),
        dialect in dialect_strategy(),
    ) {
        let sql = mutate(SEEDS[seed], &muts);
        let a = analyze(&sql, &schema(), &Options { dialect, ..Options::default() });
        check_analysis(&sql, &a);
        check_split(&sql, dialect);
    }

    #[test]
    fn statements_joined_keep_their_lineage(a in 0..SEEDS.len(), b in 0..SEEDS.len()) {
        // Splitting a file gives each statement the same lineage it has alone
        // (statements that create tables are left out: they change later ones).
        let single: Vec<&str> = SEEDS
            .iter()
            .copied()
            .filter(|s| !s.contains(';') && !s.starts_with("CREATE"))
            .collect();
        let (x, y) = (single[a % single.len()], single[b % single.len()]);
        let opts = Options::default();
        let alone_x = analyze(x, &schema(), &opts);
        let alone_y = analyze(y, &schema(), &opts);
        let both = analyze(&format!("{x};\n{y}"), &schema(), &opts);
        prop_assert_eq!(both.statements.len(), 2);
        prop_assert_eq!(&both.statements[0].columns, &alone_x.statements[0].columns);
        prop_assert_eq!(&both.statements[1].columns, &alone_y.statements[0].columns);
        prop_assert_eq!(&both.statements[1].dataset_sources, &alone_y.statements[0].dataset_sources);
    }
}

fn tpc_queries() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut out = Vec::new();
    for corpus in ["tpch", "tpcds"] {
        if let Ok(rd) = std::fs::read_dir(dir.join(corpus)) {
            let mut files: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
            files.sort();
            for f in files {
                if f.extension().is_some_and(|e| e == "sql") {
                    out.push(std::fs::read_to_string(f).unwrap());
                }
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_tpc_queries_never_panic(
        pick in any::<usize>(),
        muts in proptest::collection::vec(mutation_strategy(), 1..6),
        dialect in dialect_strategy(),
    ) {
        let queries = tpc_queries();
        prop_assume!(!queries.is_empty());
        let sql = mutate(&queries[pick % queries.len()], &muts);
        let a = analyze(&sql, &schema(), &Options { dialect, ..Options::default() });
        check_analysis(&sql, &a);
        check_split(&sql, dialect);
    }
}

#[test]
fn seeds_analyse_cleanly_in_every_dialect() {
    for sql in SEEDS {
        for d in Dialect::ALL {
            let a = analyze(
                sql,
                &schema(),
                &Options {
                    dialect: d,
                    ..Options::default()
                },
            );
            check_analysis(sql, &a);
            check_split(sql, d);
        }
    }
}
