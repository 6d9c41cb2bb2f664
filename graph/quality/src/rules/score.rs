//! Quality scores, per dimension, dataset and domain.
//!
//! A rule's pass rate is the share of the rows it checked that passed (for whole-dataset
//! checks such as volume and freshness, 1 or 0); a check that could not run counts nowhere.
//! A dimension's score is the mean pass rate of its rules, rules of severity `error` counting
//! twice, times 100; the dataset's score is the same mean over all its rules. A domain's
//! scores are the means of its datasets' scores. The scorecard uses the latest run of every
//! rule, whoever ran it: `quality run`, dbt's run results, OpenLineage assertions.

use std::collections::BTreeMap;

use govgraph_graph::GraphStore;
use serde::Serialize;

use super::text;
use crate::error::Result;

/// The dimensions scores are given for, in display order.
pub const DIMENSIONS: [&str; 6] = [
    "Completeness",
    "Validity",
    "Uniqueness",
    "Consistency",
    "Timeliness",
    "Accuracy",
];

/// One rule's latest outcome, as scoring sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The DQV dimension.
    pub dimension: String,
    /// `error` or `warn`.
    pub severity: String,
    /// From 0 to 1; `None` when the check errored.
    pub pass_rate: Option<f64>,
    /// `pass`, `fail` or `error`.
    pub status: String,
}

/// Scores over a set of rule outcomes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    /// The overall score, 0 to 100; `None` with no scorable rule.
    pub score: Option<f64>,
    /// Scores of the dimensions that have rules.
    pub dimensions: BTreeMap<String, f64>,
    /// Rules counted.
    pub rules: usize,
    /// Rules that passed.
    pub passed: usize,
    /// Rules that failed.
    pub failed: usize,
    /// Rules whose check could not run.
    pub errors: usize,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Scores `outcomes`.
pub fn score(outcomes: &[Outcome]) -> Scores {
    let weight = |o: &Outcome| if o.severity == "warn" { 1.0 } else { 2.0 };
    let mut sums: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let (mut total, mut weights) = (0.0, 0.0);
    for o in outcomes {
        if let Some(rate) = o.pass_rate {
            let w = weight(o);
            let e = sums.entry(o.dimension.clone()).or_default();
            e.0 += w * rate;
            e.1 += w;
            total += w * rate;
            weights += w;
        }
    }
    Scores {
        score: (weights > 0.0).then(|| round2(100.0 * total / weights)),
        dimensions: sums
            .into_iter()
            .map(|(d, (s, w))| (d, round2(100.0 * s / w)))
            .collect(),
        rules: outcomes.len(),
        passed: outcomes.iter().filter(|o| o.status == "pass").count(),
        failed: outcomes.iter().filter(|o| o.status == "fail").count(),
        errors: outcomes.iter().filter(|o| o.status == "error").count(),
    }
}

/// Means of several score sets (a domain's datasets).
pub fn mean(sets: &[&Scores]) -> Scores {
    let avg =
        |xs: Vec<f64>| (!xs.is_empty()).then(|| round2(xs.iter().sum::<f64>() / xs.len() as f64));
    let mut dimensions = BTreeMap::new();
    for d in DIMENSIONS {
        if let Some(m) = avg(sets
            .iter()
            .filter_map(|s| s.dimensions.get(d).copied())
            .collect())
        {
            dimensions.insert(d.to_owned(), m);
        }
    }
    Scores {
        score: avg(sets.iter().filter_map(|s| s.score).collect()),
        dimensions,
        rules: sets.iter().map(|s| s.rules).sum(),
        passed: sets.iter().map(|s| s.passed).sum(),
        failed: sets.iter().map(|s| s.failed).sum(),
        errors: sets.iter().map(|s| s.errors).sum(),
    }
}

/// One dataset on the scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetCard {
    /// `SYSTEM/NAME`.
    pub dataset: String,
    /// Its IRI.
    pub iri: String,
    /// Its scores.
    #[serde(flatten)]
    pub scores: Scores,
    /// Rules that apply to it but have never run.
    pub never_run: usize,
    /// When its newest rule run ended.
    pub last_run: Option<String>,
}

/// One domain on the scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainCard {
    /// The domain's key, or `(none)` for datasets without one.
    pub domain: String,
    /// The mean of its datasets' scores.
    #[serde(flatten)]
    pub scores: Scores,
    /// Its datasets that have rules.
    pub datasets: Vec<DatasetCard>,
}

/// The scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// The mean over all domains' datasets.
    #[serde(flatten)]
    pub scores: Scores,
    /// The domains.
    pub domains: Vec<DomainCard>,
}

/// What a scorecard covers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Scope {
    /// Every dataset with rules.
    #[default]
    All,
    /// One domain (its key).
    Domain(String),
    /// One dataset (`SYSTEM/NAME`).
    Dataset(String),
}

/// The scorecard from the latest run of every rule in the store.
pub fn scorecard(store: &GraphStore, scope: &Scope) -> Result<Scorecard> {
    let scheme = store.scheme();
    let filter = match scope {
        Scope::All => String::new(),
        Scope::Domain(d) => format!(
            "FILTER (?domain = {})",
            scheme.entity(govgraph_graph::iri::Kind::Domain, d)
        ),
        Scope::Dataset(d) => {
            let (system, name) = d.split_once('/').unwrap_or(("", d));
            format!(
                "FILTER (?ds = {})",
                scheme.dataset(&govgraph_graph::iri::DatasetKey::new(system, name))
            )
        }
    };
    let rows = store.select(&format!(
        "SELECT DISTINCT ?rule ?ds ?system ?name ?domain ?dim ?severity ?run ?status ?checked ?failed ?ended ?started WHERE {{
           ?rule a gg:QualityRule ; gg:appliesTo ?asset .
           {{ ?asset gg:columnOf ?ds }} UNION {{ ?asset a dcat:Dataset . BIND (?asset AS ?ds) }}
           OPTIONAL {{ ?ds gg:domain ?domain }}
           OPTIONAL {{ ?rule dqv:inDimension ?dim }}
           OPTIONAL {{ ?rule gg:severity ?severity }}
           OPTIONAL {{
             ?run a gg:RuleRun ; gg:rule ?rule ; gg:status ?status .
             OPTIONAL {{ ?run gg:checkedCount ?checked }}
             OPTIONAL {{ ?run gg:failedCount ?failed }}
             OPTIONAL {{ ?run prov:endedAtTime ?ended }}
             OPTIONAL {{ ?run prov:startedAtTime ?started }}
           }}
           {filter}
         }}"
    ))?;
    // Latest run per (dataset, rule).
    struct Latest {
        domain: Option<String>,
        at: String,
        outcome: Option<Outcome>,
    }
    let mut latest: BTreeMap<(String, String), Latest> = BTreeMap::new();
    for row in &rows {
        let (Some(ds), Some(rule)) = (text(row.get("ds")), text(row.get("rule"))) else {
            continue;
        };
        let domain = text(row.get("domain")).map(|d| d.rsplit('/').next().unwrap_or(&d).to_owned());
        let outcome = text(row.get("status")).map(|status| {
            let checked = text(row.get("checked")).and_then(|c| c.parse::<f64>().ok());
            let failed = text(row.get("failed")).and_then(|c| c.parse::<f64>().ok());
            let pass_rate = match (status.as_str(), checked, failed) {
                ("error", _, _) => None,
                (_, Some(c), Some(f)) if c > 0.0 => Some((1.0 - f / c).clamp(0.0, 1.0)),
                ("pass", _, _) => Some(1.0),
                _ => Some(0.0),
            };
            Outcome {
                dimension: text(row.get("dim"))
                    .and_then(|d| d.rsplit('#').next().map(str::to_owned))
                    .unwrap_or_else(|| "Validity".to_owned()),
                severity: text(row.get("severity")).unwrap_or_else(|| "error".to_owned()),
                pass_rate,
                status,
            }
        });
        let at = text(row.get("ended"))
            .or_else(|| text(row.get("started")))
            .unwrap_or_default();
        let key = (ds, rule);
        let newer = latest.get(&key).is_none_or(|l| {
            (l.outcome.is_none() && outcome.is_some()) || (outcome.is_some() && at > l.at)
        });
        if newer {
            latest.insert(
                key,
                Latest {
                    domain,
                    at,
                    outcome,
                },
            );
        }
    }
    // Group by dataset.
    // dataset → (domain, outcomes, rules never run, last run)
    type Grouped = BTreeMap<String, (Option<String>, Vec<Outcome>, usize, Option<String>)>;
    let mut datasets: Grouped = BTreeMap::new();
    for ((ds, _), l) in latest {
        let e = datasets
            .entry(ds)
            .or_insert((l.domain.clone(), Vec::new(), 0, None));
        if e.0.is_none() {
            e.0 = l.domain;
        }
        match l.outcome {
            Some(o) => {
                e.1.push(o);
                if !l.at.is_empty() && e.3.as_deref().is_none_or(|t| l.at.as_str() > t) {
                    e.3 = Some(l.at);
                }
            }
            None => e.2 += 1,
        }
    }
    let mut domains: BTreeMap<String, Vec<DatasetCard>> = BTreeMap::new();
    for (iri, (domain, outcomes, never_run, last_run)) in datasets {
        let dataset = scheme
            .dataset_key_of(&iri, "dataset")
            .map(|k| format!("{}/{}", k.system, k.name))
            .unwrap_or_else(|_| iri.clone());
        domains
            .entry(domain.unwrap_or_else(|| "(none)".to_owned()))
            .or_default()
            .push(DatasetCard {
                dataset,
                iri,
                scores: score(&outcomes),
                never_run,
                last_run,
            });
    }
    let domains: Vec<DomainCard> = domains
        .into_iter()
        .map(|(domain, datasets)| DomainCard {
            domain,
            scores: mean(&datasets.iter().map(|d| &d.scores).collect::<Vec<_>>()),
            datasets,
        })
        .collect();
    let all: Vec<&Scores> = domains
        .iter()
        .flat_map(|d| d.datasets.iter().map(|x| &x.scores))
        .collect();
    Ok(Scorecard {
        scores: mean(&all),
        domains,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(dimension: &str, severity: &str, rate: Option<f64>) -> Outcome {
        Outcome {
            dimension: dimension.to_owned(),
            severity: severity.to_owned(),
            pass_rate: rate,
            status: match rate {
                None => "error",
                Some(r) if r < 1.0 => "fail",
                Some(_) => "pass",
            }
            .to_owned(),
        }
    }

    #[test]
    fn errors_weigh_twice_and_errored_checks_count_nowhere() {
        let s = score(&[
            o("Completeness", "error", Some(1.0)),
            o("Completeness", "warn", Some(0.7)),
            o("Validity", "error", Some(0.5)),
            o("Validity", "error", None),
        ]);
        assert_eq!(s.dimensions.get("Completeness"), Some(&90.0));
        assert_eq!(s.dimensions.get("Validity"), Some(&50.0));
        // (2·1 + 0.7 + 2·0.5) / 5
        assert_eq!(s.score, Some(74.0));
        assert_eq!((s.rules, s.passed, s.failed, s.errors), (4, 1, 2, 1));
        assert_eq!(score(&[]).score, None);
    }
}
