//! Running rules: over a file, one streaming pass evaluates every rule at once; on
//! PostgreSQL, each rule is one push-down query (plus one for its sample rows) inside the
//! read-only transaction, each under a savepoint so a failing rule does not stop the others.
//!
//! A result counts the rows checked and the rows that failed, keeps a few failing rows (with
//! the values of personal-data columns masked), and says pass, fail or error.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use postgres::Client;
use serde::Serialize;
use serde_json::{Map, Value};

use super::expr::{Predicate, compare};
use super::{Check, Rule, counted_condition, is_query, quote_ident};
use crate::error::Result;
use crate::profile::accumulate::{days_from_civil, timestamp_string};

/// How many failing rows a result keeps.
pub const SAMPLE_ROWS: usize = 5;

/// What running a rule found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleResult {
    /// The rule's IRI.
    pub iri: String,
    /// The rule's key.
    pub rule: String,
    /// Its title.
    pub title: String,
    /// `not_null`, `unique`, ...
    pub rule_type: String,
    /// The DQV dimension.
    pub dimension: String,
    /// `error` or `warn`.
    pub severity: String,
    /// The columns checked.
    pub columns: Vec<String>,
    /// `pass`, `fail` or `error` (the check could not run).
    pub status: String,
    /// Rows examined (1 for whole-dataset checks).
    pub checked: u64,
    /// Rows that broke the rule (0 or 1 for whole-dataset checks).
    pub failed: u64,
    /// The share of checked rows that passed, from 0 to 1; `None` when the check errored.
    pub pass_rate: Option<f64>,
    /// What was found, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The SQL that selects the failing rows, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// A few failing rows, column to value; personal data masked.
    pub samples: Vec<Map<String, Value>>,
}

impl RuleResult {
    fn new(rule: &Rule) -> Self {
        Self {
            iri: rule.iri.clone(),
            rule: rule.key.clone(),
            title: rule.title.clone(),
            rule_type: rule.check.rule_type().to_owned(),
            dimension: rule.dimension.clone(),
            severity: rule.severity.clone(),
            columns: rule.columns.clone(),
            status: "pass".to_owned(),
            checked: 0,
            failed: 0,
            pass_rate: None,
            message: None,
            sql: rule.check.failing_predicate(&rule.columns),
            samples: Vec::new(),
        }
    }

    fn error(mut self, message: impl Into<String>) -> Self {
        self.status = "error".to_owned();
        self.message = Some(message.into());
        self.pass_rate = None;
        self.samples.clear();
        self
    }

    /// Settles status and pass rate from the counts.
    fn settle(mut self, check: &Check) -> Self {
        if self.status == "error" {
            return self;
        }
        let rate = if self.checked == 0 {
            1.0
        } else {
            1.0 - self.failed as f64 / self.checked as f64
        };
        self.pass_rate = Some((rate * 1e6).round() / 1e6);
        let failing = match check {
            Check::NotNull {
                max_null_rate: Some(limit),
            } => self.checked > 0 && (self.failed as f64 / self.checked as f64) > *limit,
            _ => self.failed > 0,
        };
        self.status = if failing { "fail" } else { "pass" }.to_owned();
        if self.message.is_none() && self.failed > 0 {
            self.message = Some(format!(
                "{} of {} {} ({:.2}%)",
                self.failed,
                self.checked,
                if self.checked == 1 {
                    "row fails"
                } else {
                    "rows fail"
                },
                100.0 * self.failed as f64 / self.checked.max(1) as f64
            ));
        }
        if !failing {
            self.samples.clear();
        }
        self
    }
}

fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Columns whose values are masked in sample rows, with the reason (a PII category).
    pub masked: HashMap<String, String>,
    /// "Now" for freshness checks, in microseconds since the epoch (`None`: the clock).
    pub now_micros: Option<i64>,
}

impl RunOptions {
    fn now(&self) -> i64 {
        self.now_micros.unwrap_or_else(now_micros)
    }

    fn sample(&self, columns: &[String], row: &[Option<&str>]) -> Map<String, Value> {
        columns
            .iter()
            .zip(row)
            .map(|(c, v)| {
                let v = match (v, self.masked.get(c)) {
                    (None, _) => Value::Null,
                    (Some(_), Some(why)) => Value::String(format!("***{why}***")),
                    (Some(v), None) => Value::String((*v).to_owned()),
                };
                (c.clone(), v)
            })
            .collect()
    }

    fn mask_object(&self, mut object: Map<String, Value>) -> Map<String, Value> {
        for (c, v) in &mut object {
            if let Some(why) = self.masked.get(c)
                && !v.is_null()
            {
                *v = Value::String(format!("***{why}***"));
            }
        }
        object
    }
}

/// Microseconds since the epoch, now.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// A date or timestamp (`YYYY-MM-DD`, optionally with a time and an offset) in microseconds
/// since the epoch, UTC.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let t = s.trim();
    let num = |a: usize, b: usize| t.get(a..b).and_then(|x| x.parse::<i64>().ok());
    if t.len() < 10 || t.as_bytes().get(4) != Some(&b'-') || t.as_bytes().get(7) != Some(&b'-') {
        return None;
    }
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut micros = days_from_civil(y, m, d) * 86_400_000_000;
    let rest = t
        .get(10..)
        .unwrap_or_default()
        .trim_start_matches(['T', ' ']);
    if rest.len() >= 8 {
        let (h, mi, se) = (
            rest.get(0..2)?.parse::<i64>().ok()?,
            rest.get(3..5)?.parse::<i64>().ok()?,
            rest.get(6..8)?.parse::<i64>().ok()?,
        );
        micros += ((h * 60 + mi) * 60 + se) * 1_000_000;
        let tail = rest.get(8..).unwrap_or_default();
        if let Some(fraction) = tail.strip_prefix('.') {
            let digits: String = fraction
                .chars()
                .take_while(char::is_ascii_digit)
                .take(6)
                .collect();
            if let Ok(n) = format!("{digits:0<6}").parse::<i64>() {
                micros += n;
            }
        }
        let tail = tail.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
        let tail = tail.trim();
        if let Some(sign) = tail.chars().next().filter(|c| *c == '+' || *c == '-') {
            let digits: String = tail.chars().filter(char::is_ascii_digit).collect();
            let hours = digits
                .get(0..2)
                .and_then(|x| x.parse::<i64>().ok())
                .unwrap_or(0);
            let minutes = digits
                .get(2..4)
                .and_then(|x| x.parse::<i64>().ok())
                .unwrap_or(0);
            let offset = (hours * 60 + minutes) * 60_000_000;
            micros -= if sign == '+' { offset } else { -offset };
        }
    }
    Some(micros)
}

/// Judges freshness from the newest value.
fn freshness(mut r: RuleResult, newest: Option<&str>, max_age_hours: f64, now: i64) -> RuleResult {
    r.checked = 1;
    match newest.and_then(parse_timestamp) {
        None if newest.is_none() => {
            r.failed = 1;
            r.message = Some("the column holds no value at all".to_owned());
        }
        None => {
            return r.error(format!(
                "the newest value {:?} is not a date or timestamp",
                newest.unwrap_or_default()
            ));
        }
        Some(t) => {
            let age = (now - t) as f64 / 3_600_000_000.0;
            r.failed = u64::from(age > max_age_hours);
            r.message = Some(format!(
                "newest value {} is {:.1} hours old; at most {max_age_hours} allowed",
                timestamp_string(t),
                age
            ));
        }
    }
    r
}

fn row_count(mut r: RuleResult, rows: u64, min: Option<u64>, max: Option<u64>) -> RuleResult {
    r.checked = 1;
    let low = min.is_some_and(|m| rows < m);
    let high = max.is_some_and(|m| rows > m);
    r.failed = u64::from(low || high);
    let expected = match (min, max) {
        (Some(a), Some(b)) => format!("between {a} and {b}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(b)) => format!("at most {b}"),
        (None, None) => "any number".to_owned(),
    };
    r.message = Some(format!(
        "{} {}; expected {expected}",
        rows,
        plural(rows, "row", "rows")
    ));
    r
}

/// The values of a referenced dataset's key columns, joined by `\u{1f}`.
pub type KeySet = HashSet<String>;

fn key_of<'a>(values: impl Iterator<Item = Option<&'a str>>) -> Option<String> {
    let mut out = String::new();
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.push('\u{1f}');
        }
        out.push_str(v?);
    }
    Some(out)
}

enum Evaluator {
    Predicate(Predicate),
    Unique(
        Vec<usize>,
        HashMap<String, u32, crate::profile::sketch::FxBuild>,
    ),
    Referential(Vec<usize>, KeySet),
    RowCount,
    Freshness(usize, Option<String>),
    Failed(String),
}

/// Whether SQL text names `column` as a word (quoted or not).
fn mentions(sql: &str, column: &str) -> bool {
    let lower = sql.to_lowercase();
    let name = column.to_lowercase();
    lower.match_indices(&name).any(|(i, _)| {
        let before = lower[..i].chars().next_back();
        let after = lower[i + name.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !word(before) && !word(after)
    })
}

/// Runs `rules` over a file whose rows are read as `columns` (the catalog's columns; rule
/// columns are added when missing). `parents` gives the key values of each referenced
/// dataset (by the rule's key), read beforehand.
pub fn run_file(
    path: &Path,
    columns: &[String],
    rules: &[Rule],
    parents: &mut dyn FnMut(&Rule) -> std::result::Result<KeySet, String>,
    options: &RunOptions,
) -> Result<(u64, Vec<RuleResult>)> {
    // The pass reads only the columns rules look at; sample rows are completed afterwards.
    let mut full = columns.to_vec();
    let mut needed: Vec<String> = Vec::new();
    for r in rules {
        let mut add = |c: &String| {
            if !full.contains(c) {
                full.push(c.clone());
            }
            if !needed.contains(c) {
                needed.push(c.clone());
            }
        };
        r.columns.iter().for_each(&mut add);
        match &r.check {
            Check::Freshness { column, .. } => add(column),
            check => {
                // Conditions may name any column.
                if let Some(sql) = check.failing_predicate(&r.columns) {
                    for c in columns {
                        if mentions(&sql, c) {
                            add(c);
                        }
                    }
                }
            }
        }
    }
    let columns = needed;
    let index = |c: &str| columns.iter().position(|x| x == c);
    let mut evaluators: Vec<Evaluator> = rules
        .iter()
        .map(|r| {
            let at: Option<Vec<usize>> = r.columns.iter().map(|c| index(c)).collect();
            let at = at.unwrap_or_default();
            match &r.check {
                Check::Unique if !at.is_empty() => Evaluator::Unique(at, HashMap::default()),
                Check::Unique => Evaluator::Failed("a uniqueness rule needs columns".to_owned()),
                Check::Referential { .. } if at.is_empty() => {
                    Evaluator::Failed("a reference rule needs columns".to_owned())
                }
                Check::Referential { .. } => match parents(r) {
                    Ok(keys) => Evaluator::Referential(at, keys),
                    Err(e) => Evaluator::Failed(e),
                },
                Check::RowCount { .. } => Evaluator::RowCount,
                Check::Freshness { column, .. } => {
                    Evaluator::Freshness(index(column).unwrap_or_default(), None)
                }
                Check::CustomSql { expression } if whole_query(expression) => {
                    Evaluator::Failed(WHOLE_QUERY_ON_FILES.to_owned())
                }
                check => match check.failing_predicate(&r.columns) {
                    Some(sql) => match Predicate::parse(&sql, &columns) {
                        Ok(p) => Evaluator::Predicate(p),
                        Err(e) => Evaluator::Failed(format!("cannot evaluate {sql}: {e}")),
                    },
                    None => Evaluator::Failed("the rule names no column".to_owned()),
                },
            }
        })
        .collect();
    let mut results: Vec<RuleResult> = rules.iter().map(RuleResult::new).collect();
    let mut sample_rows: Vec<Vec<u64>> = vec![Vec::new(); rules.len()];
    let mut index = 0u64;
    let rows = crate::sample::visit_rows(path, &columns, &mut |row| {
        for ((e, r), picked) in evaluators
            .iter_mut()
            .zip(results.iter_mut())
            .zip(sample_rows.iter_mut())
        {
            let failed = match e {
                Evaluator::Predicate(p) => p.eval(row) == Some(true),
                Evaluator::Unique(at, seen) => {
                    match key_of(at.iter().map(|i| row.get(*i).copied().flatten())) {
                        Some(k) => {
                            let n = seen.entry(k).or_default();
                            *n += 1;
                            *n > 1
                        }
                        None => false,
                    }
                }
                Evaluator::Referential(at, keys) => {
                    key_of(at.iter().map(|i| row.get(*i).copied().flatten()))
                        .is_some_and(|k| !keys.contains(&k))
                }
                Evaluator::Freshness(at, newest) => {
                    if let Some(v) = row.get(*at).copied().flatten()
                        && newest.as_deref().is_none_or(|n| compare(v, n).is_gt())
                    {
                        *newest = Some(v.to_owned());
                    }
                    false
                }
                Evaluator::RowCount | Evaluator::Failed(_) => false,
            };
            r.checked += 1;
            if failed {
                r.failed += 1;
                if picked.len() < SAMPLE_ROWS {
                    picked.push(index);
                }
            }
        }
        index += 1;
        true
    })?;
    // A second, short pass reads the whole sample rows (it stops at the last one needed).
    let last = sample_rows.iter().flatten().max().copied();
    if let Some(last) = last {
        let mut rows_by_index: HashMap<u64, Map<String, Value>> = HashMap::new();
        let wanted: HashSet<u64> = sample_rows.iter().flatten().copied().collect();
        let mut at = 0u64;
        crate::sample::visit_rows(path, &full, &mut |row| {
            if wanted.contains(&at) {
                rows_by_index.insert(at, options.sample(&full, row));
            }
            at += 1;
            at <= last
        })?;
        for (r, picked) in results.iter_mut().zip(&sample_rows) {
            r.samples = picked
                .iter()
                .filter_map(|i| rows_by_index.get(i).cloned())
                .collect();
        }
    }
    let now = options.now();
    let results = results
        .into_iter()
        .zip(evaluators)
        .zip(rules)
        .map(|((r, e), rule)| match (e, &rule.check) {
            (Evaluator::Failed(why), _) => r.error(why),
            (Evaluator::RowCount, Check::RowCount { min, max }) => {
                row_count(r, rows, *min, *max).settle(&rule.check)
            }
            (Evaluator::Freshness(_, newest), Check::Freshness { max_age_hours, .. }) => {
                freshness(r, newest.as_deref(), *max_age_hours, now).settle(&rule.check)
            }
            (Evaluator::Unique(..), _) => {
                let mut r = r.settle(&rule.check);
                if r.failed > 0 {
                    r.message = Some(format!(
                        "{} {} a value already seen (of {} checked)",
                        r.failed,
                        plural(r.failed, "row repeats", "rows repeat"),
                        r.checked
                    ));
                }
                r
            }
            _ => r.settle(&rule.check),
        })
        .collect();
    Ok((rows, results))
}

/// Finds the data file a reference rule points to, or says why it cannot.
pub type ParentFile<'a> = dyn FnMut(&Rule) -> std::result::Result<std::path::PathBuf, String> + 'a;

/// Why a custom rule that is a whole query does not run on a file.
const WHOLE_QUERY_ON_FILES: &str =
    "this rule is a whole SQL query; it runs on the database it was written for, not on files";

/// Whether a custom rule is a whole query (rather than a condition or a counted condition).
fn whole_query(expression: &str) -> bool {
    is_query(expression) && counted_condition(expression).is_none()
}

/// The column numbering a value's repeats in a uniqueness rule's sample query.
const REPEAT: &str = "govgraph_repeat";

/// What a rule becomes in the SQL run.
enum Planned {
    /// Its failing rows are counted by aggregate `n` of the one scan; `predicate` selects them.
    Counted(usize, String),
    /// Its newest value is aggregate `n` of the scan.
    Newest(usize),
    RowCount,
    /// Its own query counts the failing rows; another selects a few of them.
    Own {
        count: String,
        rows: String,
    },
    /// The native row evaluator runs it (the engine cannot), after the scan.
    Native,
    Failed(String),
}

/// Runs `rules` over a file through `runner` (the engine's SQL): one scan counts the failing
/// rows of every row check and the newest value of every freshness check; uniqueness and
/// references run a query each; a few failing rows are then selected for every failed rule.
/// A rule the engine cannot plan (a regular expression the engine does not accept, a type it
/// cannot compare) is run by the native row evaluator instead, so the results never depend on
/// the engine. `columns` are the catalog's columns; `parent` locates a referenced dataset's
/// file.
pub fn run_sql(
    runner: &dyn crate::engine::SqlRunner,
    path: &Path,
    columns: &[String],
    rules: &[Rule],
    parent: &mut ParentFile<'_>,
    options: &RunOptions,
) -> Result<(u64, Vec<RuleResult>)> {
    use crate::engine::TableFile;
    let _span = tracing::info_span!(
        "rules.run_sql",
        engine = runner.engine(),
        rules = rules.len()
    )
    .entered();
    let mut tables = vec![TableFile {
        name: "t".to_owned(),
        path: path.to_path_buf(),
    }];
    let mut aggregates = vec!["count(*)".to_owned()];
    let mut plans: Vec<Planned> = Vec::with_capacity(rules.len());
    for rule in rules {
        let cols: Vec<String> = rule.columns.iter().map(|c| quote_ident(c)).collect();
        let plan = match &rule.check {
            Check::RowCount { .. } => Planned::RowCount,
            Check::Freshness { column, .. } => {
                aggregates.push(format!("CAST(max({}) AS VARCHAR)", quote_ident(column)));
                Planned::Newest(aggregates.len() - 1)
            }
            Check::Unique if cols.is_empty() => {
                Planned::Failed("a uniqueness rule needs columns".to_owned())
            }
            Check::Unique => {
                let list = cols.join(", ");
                let not_null = cols
                    .iter()
                    .map(|c| format!("{c} IS NOT NULL"))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                Planned::Own {
                    count: format!(
                        "SELECT CAST(COALESCE(sum(n - 1), 0) AS BIGINT) FROM (SELECT count(*) AS n FROM t WHERE {not_null} GROUP BY {list} HAVING count(*) > 1) AS g"
                    ),
                    // The repeats only, as the native evaluator counts them (the first row of
                    // each value is not a failure).
                    rows: format!(
                        "SELECT * FROM (SELECT t.*, row_number() OVER (PARTITION BY {list}) AS {REPEAT} FROM t WHERE {not_null}) AS r WHERE {REPEAT} > 1 LIMIT {SAMPLE_ROWS}"
                    ),
                }
            }
            Check::Referential { .. } if cols.is_empty() => {
                Planned::Failed("a reference rule needs columns".to_owned())
            }
            Check::Referential { columns: to, .. } => match parent(rule) {
                Err(e) => Planned::Failed(e),
                Ok(file) => {
                    let name = format!("p{}", tables.len());
                    tables.push(TableFile {
                        name: name.clone(),
                        path: file,
                    });
                    let predicate = orphans(&cols, &parent_columns(rule, to), &name);
                    Planned::Own {
                        count: format!("SELECT count(*) FROM t WHERE {predicate}"),
                        rows: format!("SELECT t.* FROM t WHERE {predicate} LIMIT {SAMPLE_ROWS}"),
                    }
                }
            },
            Check::CustomSql { expression } if whole_query(expression) => {
                Planned::Failed(WHOLE_QUERY_ON_FILES.to_owned())
            }
            check => match check.failing_predicate(&rule.columns) {
                Some(predicate) => {
                    aggregates.push(format!(
                        "CAST(COALESCE(sum(CASE WHEN {predicate} THEN 1 ELSE 0 END), 0) AS BIGINT)"
                    ));
                    Planned::Counted(aggregates.len() - 1, predicate)
                }
                None => Planned::Failed("the rule names no column".to_owned()),
            },
        };
        plans.push(plan);
    }
    // The scan; when the engine rejects it, each aggregate is tried alone to find the rules
    // it cannot run, and those go to the native evaluator.
    let scan = format!("SELECT {} FROM t", aggregates.join(", "));
    let mut own: Vec<String> = Vec::new();
    for p in &plans {
        if let Planned::Own { count, .. } = p {
            own.push(count.clone());
        }
    }
    let mut queries = vec![scan];
    queries.extend(own);
    let mut answers = runner.run_each(&queries, &tables, 1).into_iter();
    let scanned = answers.next().unwrap_or_else(|| Ok(Default::default()));
    let (rows, values): (u64, Vec<Option<String>>) = match scanned {
        Ok(out) => {
            let rows = out.cell(0).and_then(|c| c.parse().ok()).unwrap_or(0);
            (rows, out.rows.into_iter().next().unwrap_or_default())
        }
        Err(e) => {
            tracing::debug!(error = %e, "the engine rejected the scan; trying each rule alone");
            let alone: Vec<String> = aggregates
                .iter()
                .map(|a| format!("SELECT count(*), {a} FROM t"))
                .collect();
            let outs = runner.run_each(&alone, &tables, 1);
            let mut values = vec![None; aggregates.len()];
            let mut rows = None;
            for (i, out) in outs.iter().enumerate() {
                match out {
                    Ok(o) => {
                        rows = rows.or_else(|| o.cell(0).and_then(|c| c.parse::<u64>().ok()));
                        values[i] = o.cell(1).map(str::to_owned);
                    }
                    Err(e) if i == 0 => {
                        // The engine cannot read the file at all: the native readers do.
                        tracing::debug!(error = %e, "the engine cannot read the file");
                        let mut keys = |rule: &Rule| native_keys(parent, rule);
                        return run_file(path, columns, rules, &mut keys, options);
                    }
                    Err(_) => {
                        for p in plans.iter_mut() {
                            if matches!(p, Planned::Counted(n, _) | Planned::Newest(n) if *n == i) {
                                *p = Planned::Native;
                            }
                        }
                    }
                }
            }
            (rows.unwrap_or(0), values)
        }
    };
    let now = options.now();
    let mut results: Vec<RuleResult> = Vec::with_capacity(rules.len());
    let mut samples: Vec<(usize, String)> = Vec::new();
    let mut native: Vec<usize> = Vec::new();
    for (i, (rule, plan)) in rules.iter().zip(&plans).enumerate() {
        let mut r = RuleResult::new(rule);
        let value = |n: &usize| values.get(*n).cloned().flatten();
        let r = match plan {
            Planned::Failed(why) => r.error(why.clone()),
            Planned::Native => {
                native.push(i);
                r
            }
            Planned::RowCount => match &rule.check {
                Check::RowCount { min, max } => row_count(r, rows, *min, *max).settle(&rule.check),
                _ => r,
            },
            Planned::Newest(n) => match &rule.check {
                Check::Freshness { max_age_hours, .. } => {
                    freshness(r, value(n).as_deref(), *max_age_hours, now).settle(&rule.check)
                }
                _ => r,
            },
            Planned::Counted(n, predicate) => {
                r.checked = rows;
                r.failed = value(n).and_then(|v| v.parse().ok()).unwrap_or(0);
                let r = r.settle(&rule.check);
                if r.status == "fail" {
                    samples.push((
                        i,
                        format!("SELECT * FROM t WHERE {predicate} LIMIT {SAMPLE_ROWS}"),
                    ));
                }
                r
            }
            Planned::Own { rows: select, .. } => match answers.next() {
                Some(Ok(out)) => {
                    r.checked = rows;
                    r.failed = out.cell(0).and_then(|v| v.parse().ok()).unwrap_or(0);
                    let mut r = r.settle(&rule.check);
                    if r.failed > 0 && matches!(rule.check, Check::Unique) {
                        r.message = Some(format!(
                            "{} {} a value already seen (of {} checked)",
                            r.failed,
                            plural(r.failed, "row repeats", "rows repeat"),
                            r.checked
                        ));
                    }
                    if r.status == "fail" {
                        samples.push((i, select.clone()));
                    }
                    r
                }
                Some(Err(e)) => {
                    tracing::debug!(rule = %rule.key, error = %e, "left to the native evaluator");
                    native.push(i);
                    r
                }
                None => r.error("the engine gave no answer"),
            },
        };
        results.push(r);
    }
    // A few failing rows of every failed rule, whole, with personal data masked.
    if !samples.is_empty() {
        let sqls: Vec<String> = samples.iter().map(|(_, s)| s.clone()).collect();
        for ((i, _), out) in samples
            .iter()
            .zip(runner.run_each(&sqls, &tables, SAMPLE_ROWS))
        {
            let Ok(out) = out else { continue };
            let names: Vec<String> = out.columns.iter().map(|c| c.name.clone()).collect();
            if let Some(r) = results.get_mut(*i) {
                r.samples = out
                    .rows
                    .iter()
                    .map(|row| {
                        let cells: Vec<Option<&str>> = row.iter().map(|c| c.as_deref()).collect();
                        let mut sample = options.sample(&names, &cells);
                        sample.remove(REPEAT);
                        sample
                    })
                    .collect();
            }
        }
    }
    if !native.is_empty() {
        let subset: Vec<Rule> = native
            .iter()
            .filter_map(|i| rules.get(*i).cloned())
            .collect();
        let mut keys = |rule: &Rule| native_keys(parent, rule);
        let (_, done) = run_file(path, columns, &subset, &mut keys, options)?;
        for (i, r) in native.iter().zip(done) {
            if let Some(slot) = results.get_mut(*i) {
                *slot = r;
            }
        }
    }
    Ok((rows, results))
}

/// The key values a reference rule's parent file holds, for the native evaluator.
fn native_keys(parent: &mut ParentFile<'_>, rule: &Rule) -> std::result::Result<KeySet, String> {
    let Check::Referential { columns: to, .. } = &rule.check else {
        return Err("not a reference rule".to_owned());
    };
    file_keys(&parent(rule)?, &parent_columns(rule, to)).map_err(|e| e.to_string())
}

/// The referenced dataset's key columns: those the rule names, else the rule's own.
pub fn parent_columns(rule: &Rule, to: &[String]) -> Vec<String> {
    if to.is_empty() {
        rule.columns.clone()
    } else {
        to.to_vec()
    }
}

/// The predicate that selects rows of `t` whose (quoted) key `columns` are all set but match
/// no row of `parent` on `to`.
fn orphans(columns: &[String], to: &[String], parent: &str) -> String {
    let matches = columns
        .iter()
        .zip(to)
        .map(|(c, p)| format!("p.{} = t.{c}", quote_ident(p)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let not_null = columns
        .iter()
        .map(|c| format!("t.{c} IS NOT NULL"))
        .collect::<Vec<_>>()
        .join(" AND ");
    format!("{not_null} AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {matches})")
}

/// The key values of `columns` in a file, for reference checks.
pub fn file_keys(path: &Path, columns: &[String]) -> Result<KeySet> {
    let mut keys = KeySet::new();
    crate::sample::visit_rows(path, columns, &mut |row| {
        if let Some(k) = key_of(row.iter().copied()) {
            keys.insert(k);
        }
        true
    })?;
    Ok(keys)
}

fn pg_message(e: &postgres::Error) -> String {
    e.as_db_error().map_or_else(
        || e.to_string(),
        |db| format!("{}: {}", db.severity(), db.message()),
    )
}

/// `"schema"."table"`.
pub fn qualified(schema: &str, table: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(table))
}

/// Finds the (schema, table) a reference rule points to, or says why it cannot.
pub type ParentTable<'a> = dyn FnMut(&Rule) -> std::result::Result<(String, String), String> + 'a;

/// Runs `rules` on `schema.table` by push-down. `client` must be inside a transaction (the
/// connector's read-only one); `parent` names the table a reference rule points to.
pub fn run_postgres(
    client: &mut Client,
    schema: &str,
    table: &str,
    rules: &[Rule],
    parent: &mut ParentTable<'_>,
    options: &RunOptions,
) -> Result<(u64, Vec<RuleResult>)> {
    let from = format!("{} AS t", qualified(schema, table));
    let location = format!("{schema}.{table}");
    let rows: i64 = client
        .query_one(&format!("SELECT count(*) FROM {from}"), &[])
        .map_err(|e| crate::error::Error::Source {
            location: location.clone(),
            message: pg_message(&e),
        })?
        .get(0);
    let rows = rows.max(0) as u64;
    let now = options.now();
    let mut results = Vec::new();
    for rule in rules {
        let r = RuleResult::new(rule);
        if let Err(e) = client.batch_execute("SAVEPOINT govgraph_rule") {
            results.push(r.error(pg_message(&e)));
            continue;
        }
        let outcome = run_one(client, &from, rows, rule, r.clone(), parent, options, now);
        let end = match &outcome {
            Ok(_) => "RELEASE SAVEPOINT govgraph_rule",
            Err(_) => "ROLLBACK TO SAVEPOINT govgraph_rule",
        };
        let _ = client.batch_execute(end);
        results.push(match outcome {
            Ok(r) => r.settle(&rule.check),
            Err(e) => r.error(e),
        });
    }
    Ok((rows, results))
}

#[allow(clippy::too_many_arguments)]
fn run_one(
    client: &mut Client,
    from: &str,
    rows: u64,
    rule: &Rule,
    mut r: RuleResult,
    parent: &mut ParentTable<'_>,
    options: &RunOptions,
    now: i64,
) -> std::result::Result<RuleResult, String> {
    let count = |client: &mut Client, sql: &str| -> std::result::Result<u64, String> {
        let n: i64 = client
            .query_one(sql, &[])
            .map_err(|e| pg_message(&e))?
            .get(0);
        Ok(n.max(0) as u64)
    };
    let samples =
        |client: &mut Client, sql: &str| -> std::result::Result<Vec<Map<String, Value>>, String> {
            let rows = client.query(sql, &[]).map_err(|e| pg_message(&e))?;
            Ok(rows
                .iter()
                .filter_map(|row| row.get::<_, Option<String>>(0))
                .filter_map(|json| match serde_json::from_str(&json) {
                    Ok(Value::Object(o)) => Some(options.mask_object(o)),
                    _ => None,
                })
                .collect())
        };
    let cols: Vec<String> = rule.columns.iter().map(|c| quote_ident(c)).collect();
    let predicate = match &rule.check {
        Check::RowCount { min, max } => return Ok(row_count(r, rows, *min, *max)),
        Check::Freshness {
            column,
            max_age_hours,
        } => {
            let newest: Option<String> = client
                .query_one(
                    &format!("SELECT max({})::text FROM {from}", quote_ident(column)),
                    &[],
                )
                .map_err(|e| pg_message(&e))?
                .get(0);
            return Ok(freshness(r, newest.as_deref(), *max_age_hours, now));
        }
        Check::Unique => {
            if cols.is_empty() {
                return Err("a uniqueness rule needs columns".to_owned());
            }
            let list = cols.join(", ");
            let not_null = cols
                .iter()
                .map(|c| format!("{c} IS NOT NULL"))
                .collect::<Vec<_>>()
                .join(" AND ");
            let dupes = format!(
                "SELECT {list} FROM {from} WHERE {not_null} GROUP BY {list} HAVING count(*) > 1"
            );
            r.checked = rows;
            r.failed = count(
                client,
                &format!(
                    "SELECT COALESCE(sum(n - 1), 0)::bigint FROM (SELECT count(*) AS n FROM {from} WHERE {not_null} GROUP BY {list} HAVING count(*) > 1) d"
                ),
            )?;
            if r.failed > 0 {
                r.samples = samples(
                    client,
                    &format!(
                        "SELECT (row_to_json(t)::jsonb - 'govgraph_rn')::text FROM (SELECT t.*, row_number() OVER (PARTITION BY {list}) AS govgraph_rn FROM {from} WHERE {not_null}) t WHERE govgraph_rn > 1 LIMIT {SAMPLE_ROWS}"
                    ),
                )?;
                r.message = Some(format!(
                    "{} {} a value already seen (of {} checked)",
                    r.failed,
                    plural(r.failed, "row repeats", "rows repeat"),
                    r.checked
                ));
            }
            r.sql = Some(dupes);
            return Ok(r);
        }
        Check::Referential { columns, .. } => {
            if cols.is_empty() {
                return Err("a reference rule needs columns".to_owned());
            }
            let (schema, table) = parent(rule)?;
            orphans(
                &cols,
                &parent_columns(rule, columns),
                &qualified(&schema, &table),
            )
        }
        Check::CustomSql { expression } if whole_query(expression) => {
            let query = expression.trim().trim_end_matches(';');
            r.checked = rows;
            r.failed = count(client, &format!("SELECT count(*) FROM ({query}) q"))?;
            if r.failed > 0 {
                r.samples = samples(
                    client,
                    &format!("SELECT row_to_json(q)::text FROM ({query}) q LIMIT {SAMPLE_ROWS}"),
                )?;
            }
            r.sql = Some(query.to_owned());
            return Ok(r);
        }
        check => check
            .failing_predicate(&rule.columns)
            .ok_or("the rule names no column")?,
    };
    r.checked = rows;
    r.failed = count(
        client,
        &format!("SELECT count(*) FROM {from} WHERE {predicate}"),
    )?;
    if r.failed > 0 {
        r.samples = samples(
            client,
            &format!(
                "SELECT row_to_json(t)::text FROM {from} WHERE {predicate} LIMIT {SAMPLE_ROWS}"
            ),
        )?;
    }
    r.sql = Some(predicate);
    Ok(r)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn timestamps_parse_with_offsets() {
        let base = parse_timestamp("2024-03-01").unwrap();
        assert_eq!(parse_timestamp("2024-03-01T00:00:00Z"), Some(base));
        assert_eq!(
            parse_timestamp("2024-03-01 01:00:00+01"),
            Some(base),
            "an offset is taken off"
        );
        assert_eq!(
            parse_timestamp("2024-03-01 00:00:00.000000 +00:00"),
            Some(base)
        );
        assert_eq!(
            parse_timestamp("2024-03-01T00:00:01.25Z"),
            Some(base + 1_250_000)
        );
        assert_eq!(parse_timestamp("2024-13-01"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn literals_are_quoted() {
        assert_eq!(crate::rules::quote_literal("O'Brien"), "'O''Brien'");
    }
}
