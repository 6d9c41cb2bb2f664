//! The synthetic N-Triples generator: determinism, scaling, syntax and shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use govgraph_seeds::synthetic::{SyntheticConfig, SyntheticStats, write_ntriples};
use std::collections::{HashMap, HashSet};

fn generate(cfg: &SyntheticConfig) -> (Vec<u8>, SyntheticStats) {
    let mut out = Vec::new();
    let stats = write_ntriples(cfg, &mut out).unwrap();
    (out, stats)
}

fn cfg(tables: usize, columns: usize, terms: usize) -> SyntheticConfig {
    SyntheticConfig {
        tables,
        columns_per_table: columns,
        terms,
        ..SyntheticConfig::default()
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// A parsed term of an N-Triples line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum T {
    Iri(String),
    Lit(String, Option<String>),
}

fn parse_iri(s: &str) -> Result<(String, &str), String> {
    let rest = s.strip_prefix('<').ok_or("expected <")?;
    let end = rest.find('>').ok_or("unterminated IRI")?;
    let iri = &rest[..end];
    if iri.is_empty() || !iri.contains(':') {
        return Err(format!("not an absolute IRI: {iri}"));
    }
    if iri.chars().any(|c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, '<' | '"' | '{' | '}' | '|' | '^' | '`' | '\\')
    }) {
        return Err(format!("bad character in IRI: {iri}"));
    }
    Ok((iri.to_string(), &rest[end + 1..]))
}

fn parse_literal(s: &str) -> Result<(T, &str), String> {
    let mut chars = s.char_indices();
    if chars.next().map(|(_, c)| c) != Some('"') {
        return Err("expected \"".into());
    }
    let mut value = String::new();
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                end = Some(i + 1);
                break;
            }
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('"') => value.push('"'),
                Some('\\') => value.push('\\'),
                Some('n') => value.push('\n'),
                Some('r') => value.push('\r'),
                Some('t') => value.push('\t'),
                Some('u') => {
                    let hex: String = (0..4)
                        .filter_map(|_| chars.next().map(|(_, c)| c))
                        .collect();
                    let v = u32::from_str_radix(&hex, 16).map_err(|_| "bad \\u escape")?;
                    value.push(char::from_u32(v).ok_or("bad code point")?);
                }
                other => return Err(format!("bad escape {other:?}")),
            },
            '\n' | '\r' => return Err("raw line break in literal".into()),
            c => value.push(c),
        }
    }
    let end = end.ok_or("unterminated literal")?;
    let rest = &s[end..];
    if let Some(r) = rest.strip_prefix("^^") {
        let (dt, rest) = parse_iri(r)?;
        Ok((T::Lit(value, Some(dt)), rest))
    } else if rest.starts_with('@') {
        Err("language tags are not used".into())
    } else {
        Ok((T::Lit(value, None), rest))
    }
}

/// A strict checker for the subset of N-Triples the generator writes.
fn parse_line(line: &str) -> Result<(String, String, T), String> {
    let (s, rest) = parse_iri(line)?;
    let rest = rest
        .strip_prefix(' ')
        .ok_or("expected a space after the subject")?;
    let (p, rest) = parse_iri(rest)?;
    let rest = rest
        .strip_prefix(' ')
        .ok_or("expected a space after the predicate")?;
    let (o, rest) = if rest.starts_with('<') {
        let (o, r) = parse_iri(rest)?;
        (T::Iri(o), r)
    } else {
        parse_literal(rest)?
    };
    if rest != " ." {
        return Err(format!("expected ' .' at the end, found {rest:?}"));
    }
    Ok((s, p, o))
}

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const CSVW_NAME: &str = "http://www.w3.org/ns/csvw#name";
const CSVW_COLUMN: &str = "http://www.w3.org/ns/csvw#Column";
const GG_COLUMN_OF: &str = "https://govgraph.dev/ns#columnOf";
const GG_TABLE: &str = "https://govgraph.dev/ns#Table";
const PROV_DERIVED: &str = "http://www.w3.org/ns/prov#wasDerivedFrom";

#[test]
fn line_checker_rejects_bad_lines() {
    assert!(parse_line("<http://a/b> <http://a/p> \"x\\\"y\" .").is_ok());
    assert!(
        parse_line("<http://a/b> <http://a/p> \"1\"^^<http://www.w3.org/2001/XMLSchema#long> .")
            .is_ok()
    );
    assert!(parse_line("<http://a/b> <http://a/p> \"x\"y\" .").is_err());
    assert!(parse_line("<http://a/b c> <http://a/p> <http://a/o> .").is_err());
    assert!(parse_line("<http://a/b> <http://a/p> <http://a/o>").is_err());
}

#[test]
fn output_is_deterministic() {
    let c = cfg(300, 12, 80);
    let (a, sa) = generate(&c);
    let (b, sb) = generate(&c);
    assert_eq!(fnv(&a), fnv(&b));
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    let (other, _) = generate(&SyntheticConfig { seed: 7, ..c });
    assert_ne!(
        fnv(&a),
        fnv(&other),
        "a different seed gives a different catalog"
    );
}

#[test]
fn counts_scale_with_the_config() {
    for (tables, columns, terms) in [(1, 1, 0), (10, 5, 3), (250, 8, 40), (1000, 20, 400)] {
        let (out, stats) = generate(&cfg(tables, columns, terms));
        assert_eq!(stats.tables, tables as u64);
        assert_eq!(stats.columns, (tables * columns) as u64);
        assert_eq!(stats.terms, terms as u64);
        let lines = out.iter().filter(|b| **b == b'\n').count() as u64;
        assert_eq!(stats.triples, lines, "every triple is one line");
        let text = String::from_utf8(out).unwrap();
        let tables_typed = text
            .lines()
            .filter(|l| l.ends_with(&format!("<{RDF_TYPE}> <{GG_TABLE}> .")))
            .count();
        assert_eq!(tables_typed, tables);
    }
}

#[test]
fn lineage_density_matches_the_target() {
    let (_, stats) = generate(&cfg(2000, 20, 300));
    assert!(
        stats.table_edges > 1400 * 3 / 2,
        "derived tables have 1-4 inputs: {stats:?}"
    );
    let per_column = stats.column_edges as f64 / stats.columns as f64;
    assert!(
        (0.4..0.65).contains(&per_column),
        "about 0.5 column edges per column, got {per_column}"
    );
    let (out, stats) = generate(&SyntheticConfig {
        lineage: false,
        ..cfg(2000, 20, 300)
    });
    assert_eq!((stats.table_edges, stats.column_edges), (0, 0));
    assert!(!String::from_utf8(out).unwrap().contains(PROV_DERIVED));
}

#[test]
fn every_line_is_valid_and_the_shape_holds() {
    let (out, stats) = generate(&cfg(600, 15, 120));
    let text = String::from_utf8(out).unwrap();
    let mut column_of: HashMap<String, Vec<String>> = HashMap::new();
    let mut names: HashMap<String, Vec<String>> = HashMap::new();
    let mut columns = HashSet::new();
    let mut tables = HashSet::new();
    let mut table_inputs = Vec::new();
    let mut seen = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let (s, p, o) = parse_line(line).unwrap_or_else(|e| panic!("line {}: {e}: {line}", n + 1));
        assert!(
            seen.insert(line),
            "duplicate triple on line {}: {line}",
            n + 1
        );
        assert!(
            s.starts_with("https://id.govgraph.dev/"),
            "subject outside the base: {s}"
        );
        match (p.as_str(), &o) {
            (RDF_TYPE, T::Iri(c)) if c == CSVW_COLUMN => {
                columns.insert(s);
            }
            (RDF_TYPE, T::Iri(c)) if c == GG_TABLE => {
                tables.insert(s);
            }
            (GG_COLUMN_OF, T::Iri(d)) => column_of.entry(s).or_default().push(d.clone()),
            (CSVW_NAME, T::Lit(v, None)) => names.entry(s).or_default().push(v.clone()),
            (PROV_DERIVED, T::Iri(d)) if !s.contains("/column/") => table_inputs.push(d.clone()),
            _ => {}
        }
    }
    assert_eq!(columns.len() as u64, stats.columns);
    let mut per_table: HashMap<&str, HashSet<&str>> = HashMap::new();
    for c in &columns {
        let of = column_of
            .get(c)
            .unwrap_or_else(|| panic!("{c} has no gg:columnOf"));
        assert_eq!(of.len(), 1, "{c} has exactly one gg:columnOf");
        assert!(tables.contains(&of[0]), "{c} belongs to a declared table");
        let name = names
            .get(c)
            .unwrap_or_else(|| panic!("{c} has no csvw:name"));
        assert_eq!(name.len(), 1, "{c} has exactly one csvw:name");
        assert!(
            per_table
                .entry(of[0].as_str())
                .or_default()
                .insert(name[0].as_str()),
            "duplicate column name {} in {}",
            name[0],
            of[0]
        );
    }
    for t in table_inputs {
        assert!(tables.contains(&t), "lineage input {t} is a declared table");
    }
}

#[test]
fn wide_tables_keep_column_names_unique() {
    let (out, stats) = generate(&cfg(20, 300, 10));
    assert_eq!(stats.columns, 6000);
    let text = String::from_utf8(out).unwrap();
    let mut seen = HashSet::new();
    for line in text
        .lines()
        .filter(|l| l.contains(&format!("<{CSVW_NAME}>")))
    {
        let (s, _, _) = parse_line(line).unwrap();
        assert!(seen.insert(s), "column IRI declared twice: {line}");
    }
}

#[test]
fn base_is_configurable_and_validated() {
    let (out, _) = generate(&SyntheticConfig {
        base: "https://example.org/cat".into(),
        ..cfg(5, 3, 5)
    });
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("<https://example.org/cat/dataset/"));
    assert!(!text.contains("id.govgraph.dev"));
    assert!(
        write_ntriples(
            &SyntheticConfig {
                base: "not an iri".into(),
                ..cfg(1, 1, 1)
            },
            Vec::new()
        )
        .is_err()
    );
}
