//! Retention enforcement: for every retention obligation, find the datasets it covers,
//! profile their timestamp columns, count the rows older than the period allows, and open a
//! violation with the counts.

use std::path::{Path, PathBuf};

use govgraph_graph::GraphStore;
use govgraph_graph::iri::DatasetKey;
use govgraph_graph::loader::{LoadOptions, LoadSource, NoProgress};
use govgraph_graph::scope::Scope;
use govgraph_graph::vocab::{dct, gg, prov, rdf, xsd};
use govgraph_quality::locate::DatasetSource;
use govgraph_quality::rules::run::{RunOptions, run_file, run_postgres};
use govgraph_quality::rules::{Check, Rule};
use oxigraph::io::RdfFormat;
use oxigraph::model::{Literal, NamedNode, Triple};
use serde::Serialize;

use crate::engine::{PolicyRef, PolicySet};
use crate::error::{Error, Result};
use crate::resource::text;

use govgraph_graph::loader::{civil_from_days, days_from_civil};

const DAY: i64 = 86_400_000_000;

/// `micros` since the epoch as an `xsd:dateTime` in UTC, to the microsecond.
pub fn timestamp_micros(micros: i64) -> String {
    let seconds = timestamp(micros);
    format!(
        "{}.{:06}Z",
        &seconds[..seconds.len() - 1],
        micros.rem_euclid(1_000_000)
    )
}

/// `micros` since the epoch as an `xsd:dateTime` in UTC, to the second.
pub fn timestamp(micros: i64) -> String {
    let days = micros.div_euclid(DAY);
    let rest = micros.rem_euclid(DAY) / 1_000_000;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// `now` minus an ISO 8601 duration (calendar years and months, then days and time), or
/// `None` when `period` is not a duration.
pub fn subtract(now: i64, period: &str) -> Option<i64> {
    if !crate::yaml::is_duration(period) {
        return None;
    }
    let (date_part, time_part) = match period[1..].split_once('T') {
        Some((d, t)) => (d, t),
        None => (&period[1..], ""),
    };
    let (mut years, mut months, mut days, mut micros) = (0i64, 0i64, 0i64, 0i64);
    let mut n = String::new();
    for c in date_part.chars() {
        if c.is_ascii_digit() {
            n.push(c);
            continue;
        }
        let v: i64 = n.parse().ok()?;
        n.clear();
        match c {
            'Y' => years += v,
            'M' => months += v,
            'W' => days += 7 * v,
            'D' => days += v,
            _ => return None,
        }
    }
    for c in time_part.chars() {
        if c.is_ascii_digit() {
            n.push(c);
            continue;
        }
        let v: i64 = n.parse().ok()?;
        n.clear();
        match c {
            'H' => micros += v * 3_600_000_000,
            'M' => micros += v * 60_000_000,
            'S' => micros += v * 1_000_000,
            _ => return None,
        }
    }
    let day = now.div_euclid(DAY);
    let of_day = now.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(day);
    let (m, d) = (i64::from(m), i64::from(d));
    let total = y * 12 + (m - 1) - (years * 12 + months);
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    // The 31st of a shorter month becomes its last day.
    let last = days_from_civil(
        if nm == 12 { ny + 1 } else { ny },
        if nm == 12 { 1 } else { nm + 1 },
        1,
    ) - days_from_civil(ny, nm, 1);
    let nd = d.min(last);
    Some((days_from_civil(ny, nm, nd) - days) * DAY + of_day - micros)
}

/// What one retention check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The retention policy.
    pub policy: PolicyRef,
    /// The dataset.
    pub dataset: String,
    /// The timestamp column judged, if one was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The period, such as `P3Y`.
    pub period: String,
    /// Rows older than this are past their retention.
    pub cutoff: String,
    /// Rows examined.
    pub rows_checked: u64,
    /// Rows past their retention.
    pub rows_expired: u64,
    /// `violation`, `ok` or `error` (the data could not be judged).
    pub status: String,
    /// What was found, in words.
    pub message: String,
    /// The violation stored, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violation: Option<String>,
}

/// How to enforce.
#[derive(Debug, Clone, Default)]
pub struct RetentionOptions {
    /// "Now", in microseconds since the epoch (`None`: the clock).
    pub as_of: Option<i64>,
    /// Where relative distribution paths (`gg:path`) are resolved, for datasets that no
    /// ingestion run located.
    pub root: Option<PathBuf>,
    /// Store the violations in the graph.
    pub store: bool,
}

/// The datasets a retention rule covers: those it names, those whose columns carry a
/// classification it names (or a narrower one) or a classification of the DPV personal-data
/// category it names, and those of a domain it names.
pub(crate) fn covered(
    store: &GraphStore,
    scope: &Scope,
    targets: &[String],
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for t in targets {
        crate::resource::check_iri(t, "target")?;
        let q = format!(
            "SELECT DISTINCT ?d WHERE {{
               {{ BIND(<{t}> AS ?d) ?d a dcat:Dataset }}
               UNION {{ ?c gg:tag ?x . ?x skos:broader* <{t}> . ?c gg:columnOf ?d }}
               UNION {{ ?c gg:tag ?x . ?x gg:personalDataCategory <{t}> . ?c gg:columnOf ?d }}
               UNION {{ ?d a dcat:Dataset ; gg:domain <{t}> }}
             }}"
        );
        for r in crate::resource::select(store, scope, &q)? {
            if let Some(d) = text(r.get("d"))
                && !out.contains(&d)
            {
                out.push(d);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Where a dataset's data is: what an ingestion run recorded, or else its distribution's
/// path under `root`.
fn source(
    store: &GraphStore,
    key: &DatasetKey,
    iri: &str,
    root: Option<&Path>,
) -> Result<DatasetSource> {
    match govgraph_quality::locate::locate(store, key) {
        Ok(s) => return Ok(s),
        Err(govgraph_quality::Error::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let rows = store.select(&format!(
        "SELECT ?path WHERE {{ <{iri}> dcat:distribution ?d . ?d gg:path ?path }}"
    ))?;
    let mut paths: Vec<String> = rows.iter().filter_map(|r| text(r.get("path"))).collect();
    // CSV first: a text pass is the cheapest to count with.
    paths.sort_by_key(|p| !p.ends_with(".csv"));
    for p in paths {
        let path = match root {
            Some(r) if Path::new(&p).is_relative() => r.join(&p),
            _ => PathBuf::from(&p),
        };
        if path.is_file() {
            return Ok(DatasetSource::File(path));
        }
    }
    Err(Error::NotFound(format!(
        "the data of {}/{} (no ingestion run located it and no distribution path exists{})",
        key.system,
        key.name,
        root.map(|r| format!(" under {}", r.display()))
            .unwrap_or_default()
    )))
}

/// Names that say when a record was made, best first.
const CREATED: &[&str] = &[
    "created_at",
    "created",
    "creation_date",
    "event_time",
    "event_at",
    "occurred_at",
    "recorded_at",
    "inserted_at",
    "timestamp",
    "event_date",
    "order_date",
    "date",
];

fn rank(name: &str) -> Option<usize> {
    let n = name.to_ascii_lowercase();
    if [
        "birth", "dob", "expir", "valid_to", "deleted", "resolved", "updated", "modified",
    ]
    .iter()
    .any(|w| n.contains(w))
    {
        return None;
    }
    CREATED
        .iter()
        .position(|c| *c == n)
        .or_else(|| {
            (n.ends_with("_at")
                || n.ends_with("_time")
                || n.ends_with("_date")
                || n.ends_with("_ts"))
            .then_some(CREATED.len())
        })
        .or(Some(CREATED.len() + 1))
}

/// Enforces every retention obligation visible in `scope`.
pub fn enforce(
    store: &GraphStore,
    scope: &Scope,
    set: &PolicySet,
    options: &RetentionOptions,
) -> Result<Vec<Finding>> {
    let now = options
        .as_of
        .unwrap_or_else(govgraph_quality::rules::run::now_micros);
    let mut findings = Vec::new();
    for (policy, targets, period) in set.retention() {
        let Some(cutoff) = subtract(now, &period) else {
            findings.push(Finding {
                policy: policy.clone(),
                dataset: String::new(),
                column: None,
                period: period.clone(),
                cutoff: String::new(),
                rows_checked: 0,
                rows_expired: 0,
                status: "error".into(),
                message: format!("{period:?} is not an ISO 8601 duration"),
                violation: None,
            });
            continue;
        };
        let cutoff_text = timestamp(cutoff);
        for dataset in covered(store, scope, &targets)? {
            let mut f = Finding {
                policy: policy.clone(),
                dataset: dataset.clone(),
                column: None,
                period: period.clone(),
                cutoff: cutoff_text.clone(),
                rows_checked: 0,
                rows_expired: 0,
                status: "ok".into(),
                message: String::new(),
                violation: None,
            };
            match check(store, &dataset, &cutoff_text, options.root.as_deref()) {
                Ok((column, checked, expired)) => {
                    f.column = Some(column.clone());
                    f.rows_checked = checked;
                    f.rows_expired = expired;
                    if expired > 0 {
                        f.status = "violation".into();
                        f.message = format!(
                            "{expired} of {checked} rows have {column} before {cutoff_text}, past the retention of {period} (\"{}\")",
                            policy.title
                        );
                    } else {
                        f.message = format!("no row has {column} before {cutoff_text}");
                    }
                }
                Err(e) => {
                    f.status = "error".into();
                    f.message = e.to_string();
                }
            }
            findings.push(f);
        }
    }
    if options.store {
        store_findings(store, scope, &mut findings, now)?;
    }
    Ok(findings)
}

/// Profiles the dataset's timestamp columns, picks the one that says when a record was
/// made, and counts the rows older than `cutoff`: `(column, rows, expired rows)`.
fn check(
    store: &GraphStore,
    dataset: &str,
    cutoff: &str,
    root: Option<&Path>,
) -> Result<(String, u64, u64)> {
    let key = store.scheme().dataset_key_of(dataset, "dataset")?;
    let src = source(store, &key, dataset, root)?;
    let profile = govgraph_quality::locate::profile_source(&src)?;
    let mut candidates: Vec<(usize, String)> = profile
        .columns
        .iter()
        .filter(|c| {
            matches!(c.data_type.as_str(), "timestamp" | "date" | "datetime")
                // Text files carry instants as text: ISO 8601 at both ends counts.
                || (c.data_type == "text"
                    && [&c.min, &c.max].iter().all(|v| {
                        v.as_str()
                            .is_some_and(|s| govgraph_quality::rules::run::parse_timestamp(s).is_some())
                    }))
        })
        .filter_map(|c| rank(&c.name).map(|r| (r, c.name.clone())))
        .collect();
    candidates.sort();
    let Some((_, column)) = candidates.into_iter().next() else {
        return Err(Error::invalid(
            dataset,
            "(columns)",
            "no timestamp or date column says when its records were made",
        ));
    };
    let cutoff_value = if profile
        .columns
        .iter()
        .any(|c| c.name == column && c.data_type == "date")
    {
        cutoff[..10].to_owned()
    } else {
        cutoff.to_owned()
    };
    let rule = Rule {
        iri: format!("{dataset}#retention"),
        key: "retention".into(),
        title: "retention".into(),
        description: None,
        dataset: format!("{}/{}", key.system, key.name),
        columns: Vec::new(),
        check: Check::CustomSql {
            expression: format!(
                "{} >= {}",
                govgraph_quality::rules::quote_ident(&column),
                govgraph_quality::rules::quote_literal(&cutoff_value)
            ),
        },
        dimension: "Timeliness".into(),
        severity: "error".into(),
        origin: "retention".into(),
    };
    let options = RunOptions::default();
    let (rows, results) = match &src {
        DatasetSource::File(path) => {
            let columns: Vec<String> = profile.columns.iter().map(|c| c.name.clone()).collect();
            run_file(
                path,
                &columns,
                &[rule],
                &mut |_| Err("no references".into()),
                &options,
            )?
        }
        DatasetSource::Postgres {
            location,
            schema,
            table,
        } => {
            let mut client = govgraph_quality::locate::open_read_only(location)?;
            run_postgres(
                &mut client,
                schema,
                table,
                &[rule],
                &mut |_| Err("no references".into()),
                &options,
            )?
        }
    };
    let r = results
        .into_iter()
        .next()
        .ok_or_else(|| Error::invalid(dataset, &column, "the count did not run"))?;
    if r.status == "error" {
        return Err(Error::invalid(
            dataset,
            &column,
            r.message.unwrap_or_default(),
        ));
    }
    Ok((column, rows.max(r.checked), r.failed))
}

fn store_findings(
    store: &GraphStore,
    scope: &Scope,
    findings: &mut [Finding],
    now: i64,
) -> Result<()> {
    let stamp: String = timestamp(now)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let at = Literal::new_typed_literal(timestamp(now), xsd::DATE_TIME);
    let mut sources = Vec::new();
    for f in findings.iter_mut().filter(|f| f.status == "violation") {
        let key = store.scheme().dataset_key_of(&f.dataset, "dataset")?;
        let name = scope.source_name(&format!("retention:{}.{}:{stamp}", key.system, key.name));
        let v = NamedNode::new_unchecked(format!("{}#retention-{stamp}", f.dataset));
        let policy = NamedNode::new_unchecked(f.policy.policy.clone());
        let dataset = NamedNode::new_unchecked(f.dataset.clone());
        let triples = vec![
            Triple::new(v.clone(), rdf::TYPE, gg::VIOLATION),
            Triple::new(v.clone(), gg::RULE, policy),
            Triple::new(v.clone(), gg::FOCUS, dataset),
            Triple::new(
                v.clone(),
                gg::COUNT,
                Literal::new_typed_literal(f.rows_expired.to_string(), xsd::INTEGER),
            ),
            Triple::new(
                v.clone(),
                gg::CHECKED_COUNT,
                Literal::new_typed_literal(f.rows_checked.to_string(), xsd::INTEGER),
            ),
            Triple::new(
                v.clone(),
                gg::CUTOFF,
                Literal::new_typed_literal(f.cutoff.clone(), xsd::DATE_TIME),
            ),
            Triple::new(
                v.clone(),
                gg::RETENTION_COLUMN,
                Literal::new_simple_literal(f.column.clone().unwrap_or_default()),
            ),
            Triple::new(
                v.clone(),
                dct::DESCRIPTION,
                Literal::new_simple_literal(f.message.clone()),
            ),
            Triple::new(v.clone(), prov::GENERATED_AT_TIME, at.clone()),
        ];
        let mut body = String::new();
        for t in &triples {
            body.push_str(&t.to_string());
            body.push_str(" .\n");
        }
        f.violation = Some(v.into_string());
        sources.push(LoadSource::from_bytes(
            &name,
            &name,
            RdfFormat::NTriples,
            body.into_bytes(),
        ));
    }
    if !sources.is_empty() {
        store.load(sources, &LoadOptions::default(), &NoProgress)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        let (y, m, d) = (
            s[0..4].parse().unwrap(),
            s[5..7].parse().unwrap(),
            s[8..10].parse().unwrap(),
        );
        days_from_civil(y, m, d) * DAY
    }

    #[test]
    fn periods_are_calendar_periods() {
        assert_eq!(
            timestamp(subtract(at("2026-12-06"), "P3Y").unwrap()),
            "2023-12-06T00:00:00Z"
        );
        assert_eq!(
            timestamp(subtract(at("2026-03-31"), "P1M").unwrap()),
            "2026-02-28T00:00:00Z"
        );
        assert_eq!(
            timestamp(subtract(at("2024-02-29"), "P1Y").unwrap()),
            "2023-02-28T00:00:00Z"
        );
        assert_eq!(
            timestamp(subtract(at("2026-01-10"), "P18M").unwrap()),
            "2024-07-10T00:00:00Z"
        );
        assert_eq!(
            timestamp(subtract(at("2026-01-10"), "P2W").unwrap()),
            "2025-12-27T00:00:00Z"
        );
        assert_eq!(
            timestamp(subtract(at("2026-01-10"), "PT12H").unwrap()),
            "2026-01-09T12:00:00Z"
        );
        assert_eq!(subtract(0, "3 years"), None);
    }

    #[test]
    fn creation_columns_come_first() {
        assert!(rank("created_at") < rank("event_time"));
        assert!(rank("event_time") < rank("shipped_at"));
        assert_eq!(rank("date_of_birth"), None);
        assert_eq!(rank("resolved_at"), None);
    }
}
