//! Anomalies in the metric time series of a dataset and its columns (row counts, null
//! counts, distinct counts, means, scores...).
//!
//! The newest value of each series is compared with its history by a robust z-score,
//! `0.6745 · (x − median) / MAD` (Iglewicz and Hoaglin), over the most recent comparable
//! points; a value whose score exceeds [`THRESHOLD`] is an anomaly. Once the history spans
//! three weeks and holds at least [`MIN_SEASONAL`] points on the same weekday, only those are
//! compared (weekly seasonality: Monday volumes against earlier Mondays). A series needs
//! [`MIN_HISTORY`] earlier points before it is judged. When the history is constant, any
//! change of more than 1% is an anomaly.

use std::collections::BTreeMap;

use govgraph_graph::GraphStore;
use govgraph_graph::iri::DatasetKey;
use serde::Serialize;

use super::run::parse_timestamp;
use super::text;
use crate::error::Result;

/// Earlier points a series needs before its newest one is judged.
pub const MIN_HISTORY: usize = 5;
/// Same-weekday points needed before weekly seasonality is used.
pub const MIN_SEASONAL: usize = 3;
/// The robust z-score beyond which a value is an anomaly.
pub const THRESHOLD: f64 = 3.5;
/// How many of the most recent comparable points make the baseline.
pub const WINDOW: usize = 30;

const DAY: i64 = 86_400_000_000;

/// One point of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Microseconds since the epoch.
    pub at: i64,
    /// The value.
    pub value: f64,
}

/// How the newest point compares with its history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The newest value.
    pub value: f64,
    /// The baseline: the median of the comparable earlier values.
    pub expected: f64,
    /// The robust z-score; `None` when the history is constant.
    pub z: Option<f64>,
    /// `robust_z` or `weekly_seasonal`.
    pub method: &'static str,
    /// Earlier points compared.
    pub history: usize,
    /// Whether it is an anomaly.
    pub anomalous: bool,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Judges the newest point of `series` (in any order) against the earlier ones; `None` while
/// the history is too short.
pub fn judge(series: &[Point]) -> Option<Verdict> {
    let mut points = series.to_vec();
    points.sort_by_key(|p| p.at);
    let (last, earlier) = points.split_last()?;
    if earlier.len() < MIN_HISTORY {
        return None;
    }
    let weekday = |at: i64| at.div_euclid(DAY).rem_euclid(7);
    let span = last.at - earlier.first().map_or(last.at, |p| p.at);
    let same_day: Vec<f64> = earlier
        .iter()
        .filter(|p| weekday(p.at) == weekday(last.at))
        .map(|p| p.value)
        .collect();
    let (mut baseline, method) = if span >= 21 * DAY && same_day.len() >= MIN_SEASONAL {
        (same_day, "weekly_seasonal")
    } else {
        (earlier.iter().map(|p| p.value).collect(), "robust_z")
    };
    if baseline.len() > WINDOW {
        baseline.drain(..baseline.len() - WINDOW);
    }
    let history = baseline.len();
    let centre = median(&mut baseline);
    let mut deviations: Vec<f64> = baseline.iter().map(|v| (v - centre).abs()).collect();
    let mad = median(&mut deviations);
    let diff = last.value - centre;
    let (z, anomalous) = if mad > 0.0 {
        let z = 0.6745 * diff / mad;
        (Some((z * 100.0).round() / 100.0), z.abs() > THRESHOLD)
    } else {
        (None, diff.abs() > 0.01 * centre.abs() && diff != 0.0)
    };
    Some(Verdict {
        value: last.value,
        expected: centre,
        z,
        method,
        history,
        anomalous,
    })
}

/// An anomaly found in a stored series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    /// The dataset or column IRI.
    pub asset: String,
    /// The column's name, or the dataset for dataset metrics.
    pub name: String,
    /// The metric's local name, such as `NullCount`.
    pub metric: String,
    /// When the anomalous value was measured.
    pub at: String,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
}

impl Anomaly {
    /// The anomaly in words.
    pub fn message(&self) -> String {
        let z = self.verdict.z.map_or_else(
            || "the history is constant".to_owned(),
            |z| format!("robust z {z}"),
        );
        format!(
            "{} of {} is {}, expected about {} ({z}, {} over {} earlier values)",
            self.metric,
            self.name,
            self.verdict.value,
            self.verdict.expected,
            self.verdict.method,
            self.verdict.history
        )
    }
}

/// Every numeric measurement series of `dataset` and its columns, judged at its newest
/// point. Returns the series judged and the anomalies.
pub fn detect(store: &GraphStore, dataset: &DatasetKey) -> Result<(usize, Vec<Anomaly>)> {
    let iri = store.scheme().dataset(dataset);
    let rows = store.select(&format!(
        "SELECT ?asset ?name ?metric ?v ?t WHERE {{
           {{ ?m dqv:computedOn {iri} . BIND ({iri} AS ?asset) }}
           UNION {{ ?m dqv:computedOn ?asset . ?asset gg:columnOf {iri} ; csvw:name ?name }}
           ?m dqv:isMeasurementOf ?metric ; dqv:value ?v ; prov:generatedAtTime ?t .
           FILTER (isNumeric(?v))
         }}"
    ))?;
    // (asset, metric) → (name, points with their timestamps)
    type Series = BTreeMap<(String, String), (String, Vec<(Point, String)>)>;
    let mut series: Series = BTreeMap::new();
    for row in &rows {
        let (Some(asset), Some(metric), Some(v), Some(t)) = (
            text(row.get("asset")),
            text(row.get("metric")),
            text(row.get("v")).and_then(|v| v.parse::<f64>().ok()),
            text(row.get("t")),
        ) else {
            continue;
        };
        let Some(at) = parse_timestamp(&t) else {
            continue;
        };
        let name = text(row.get("name")).unwrap_or_else(|| dataset.name.clone());
        let metric = metric.rsplit('#').next().unwrap_or(&metric).to_owned();
        series
            .entry((asset, metric))
            .or_insert_with(|| (name, Vec::new()))
            .1
            .push((Point { at, value: v }, t));
    }
    let mut judged = 0;
    let mut anomalies = Vec::new();
    for ((asset, metric), (name, points)) in series {
        let newest = points
            .iter()
            .max_by_key(|(p, _)| p.at)
            .map(|(_, t)| t.clone())
            .unwrap_or_default();
        let values: Vec<Point> = points.iter().map(|(p, _)| *p).collect();
        if let Some(verdict) = judge(&values) {
            judged += 1;
            if verdict.anomalous {
                anomalies.push(Anomaly {
                    asset,
                    name,
                    metric,
                    at: newest,
                    verdict,
                });
            }
        }
    }
    Ok((judged, anomalies))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn series(values: &[f64]) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                at: i as i64 * DAY,
                value: *v,
            })
            .collect()
    }

    #[test]
    fn a_spike_is_an_anomaly_and_noise_is_not() {
        let calm = judge(&series(&[100.0, 102.0, 98.0, 101.0, 99.0, 103.0])).unwrap();
        assert!(!calm.anomalous, "{calm:?}");
        assert_eq!(calm.method, "robust_z");
        let spike = judge(&series(&[100.0, 102.0, 98.0, 101.0, 99.0, 160.0])).unwrap();
        assert!(spike.anomalous, "{spike:?}");
        assert_eq!(spike.expected, 100.0);
        // One wild value in the history does not hide the next one.
        let robust = judge(&series(&[100.0, 5000.0, 98.0, 101.0, 99.0, 102.0, 160.0])).unwrap();
        assert!(robust.anomalous, "{robust:?}");
    }

    #[test]
    fn short_history_is_not_judged_and_constant_history_flags_any_change() {
        assert_eq!(judge(&series(&[1.0, 2.0, 3.0, 4.0, 5.0])), None);
        let constant = judge(&series(&[0.0, 0.0, 0.0, 0.0, 0.0, 3.0])).unwrap();
        assert!(constant.anomalous);
        assert_eq!(constant.z, None);
        let same = judge(&series(&[7.0, 7.0, 7.0, 7.0, 7.0, 7.0])).unwrap();
        assert!(!same.anomalous);
    }

    #[test]
    fn weekly_seasonality_is_used_once_there_is_history() {
        // Four weeks of daily volumes: weekends are quiet.
        let mut values = Vec::new();
        for day in 0..29 {
            values.push(if day % 7 == 5 || day % 7 == 6 {
                10.0 + (day % 3) as f64
            } else {
                1000.0 + (day % 4) as f64
            });
        }
        // Day 33 is a weekend day (33 % 7 == 5): a quiet value is normal.
        let mut points = series(&values);
        points.push(Point {
            at: 33 * DAY,
            value: 11.0,
        });
        let v = judge(&points).unwrap();
        assert_eq!(v.method, "weekly_seasonal");
        assert!(!v.anomalous, "{v:?}");
        // The same quiet value on a weekday (day 29) is an anomaly.
        let mut points = series(&values);
        points.push(Point {
            at: 29 * DAY,
            value: 11.0,
        });
        let v = judge(&points).unwrap();
        assert_eq!(v.method, "weekly_seasonal");
        assert!(v.anomalous, "{v:?}");
        // Without seasonality a quiet weekend would look like an outage.
        let plain = judge(&series(&[1000.0, 1001.0, 1002.0, 1000.0, 1003.0, 11.0])).unwrap();
        assert!(plain.anomalous);
    }
}
