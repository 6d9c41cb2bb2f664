//! Profiles in the graph, as DQV measurements.
//!
//! Every run is a source graph of its own, `profile:{system}.{dataset}:{time}`, so no run
//! replaces another and every metric of every column is a time series: one
//! `dqv:QualityMeasurement` per column and metric (`gg:NullCount`, `gg:DistinctCount`,
//! `gg:MinimumValue`, `gg:Median`, ...) with `dqv:computedOn`, `dqv:value` and
//! `prov:generatedAtTime`, and one `gg:RowCount` on the dataset. The most frequent values
//! are not stored: they may hold personal data.

use govgraph_graph::GraphStore;
use govgraph_graph::iri::{ColumnKey, DatasetKey};
use govgraph_graph::vocab::{dqv, gg, prov, rdf, xsd};
use oxigraph::model::{Literal, NamedNode, NamedNodeRef, Term, Triple};
use serde::Serialize;
use serde_json::Value;

use super::{ColumnProfile, DatasetProfile};
use crate::error::{Error, Result};
use crate::store::dataset_exists;

/// What a stored profile wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredProfile {
    /// The run's graph.
    pub graph: String,
    /// Measurements written.
    pub measurements: usize,
}

fn literal(v: &Value, data_type: &str) -> Option<Literal> {
    match v {
        Value::Null => None,
        Value::Number(n) if n.is_i64() => {
            Some(Literal::new_typed_literal(n.to_string(), xsd::INTEGER))
        }
        Value::Number(n) => Some(Literal::new_typed_literal(n.to_string(), xsd::DECIMAL)),
        Value::String(s) if data_type == "date" => Some(Literal::new_typed_literal(s, xsd::DATE)),
        Value::String(s) if data_type == "timestamp" => {
            Some(Literal::new_typed_literal(s, xsd::DATE_TIME))
        }
        Value::String(s) => Some(Literal::new_simple_literal(s)),
        other => Some(Literal::new_simple_literal(other.to_string())),
    }
}

fn decimal(x: f64) -> Literal {
    Literal::new_typed_literal(format!("{x}"), xsd::DECIMAL)
}

fn integer(n: u64) -> Literal {
    Literal::new_typed_literal(n.to_string(), xsd::INTEGER)
}

/// The measurements of one column.
fn column_measurements(c: &ColumnProfile) -> Vec<(NamedNodeRef<'static>, Literal)> {
    let mut m = vec![
        (gg::NULL_COUNT_METRIC, integer(c.null_count)),
        (gg::NULL_PERCENTAGE_METRIC, decimal(c.null_percentage)),
        (gg::DISTINCT_COUNT_METRIC, integer(c.distinct_count)),
    ];
    for (metric, value) in [
        (gg::MINIMUM_VALUE, &c.min),
        (gg::MAXIMUM_VALUE, &c.max),
        (gg::FIRST_QUARTILE, &c.q25),
        (gg::MEDIAN, &c.q50),
        (gg::THIRD_QUARTILE, &c.q75),
    ] {
        // Text extremes may be personal data; only numbers and dates are stored.
        if c.data_type != "text"
            && let Some(l) = literal(value, &c.data_type)
        {
            m.push((metric, l));
        }
    }
    for (metric, value) in [
        (gg::MEAN_VALUE, c.mean),
        (gg::STANDARD_DEVIATION, c.stddev),
        (gg::MEAN_LENGTH, c.mean_length),
    ] {
        if let Some(x) = value.filter(|x| x.is_finite()) {
            m.push((metric, decimal(x)));
        }
    }
    for (metric, value) in [
        (gg::MINIMUM_LENGTH, c.min_length),
        (gg::MAXIMUM_LENGTH, c.max_length),
    ] {
        if let Some(n) = value {
            m.push((metric, integer(n)));
        }
    }
    m
}

/// Stores `profile` as measurements on `dataset` (which must be in the catalog), adding to
/// the history.
pub fn store_profile(
    store: &GraphStore,
    dataset: &DatasetKey,
    profile: &DatasetProfile,
) -> Result<StoredProfile> {
    if !dataset_exists(store, dataset)? {
        return Err(Error::NotFound(format!(
            "dataset {}/{}",
            dataset.system, dataset.name
        )));
    }
    let scheme = store.scheme();
    // Microseconds keep two runs of the same second apart.
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let days = micros.div_euclid(86_400_000_000);
    let of_day = micros.rem_euclid(86_400_000_000);
    let now = format!(
        "{}T{:02}:{:02}:{:02}.{:06}Z",
        super::accumulate::date_string(days),
        of_day / 3_600_000_000,
        of_day / 60_000_000 % 60,
        of_day / 1_000_000 % 60,
        of_day % 1_000_000
    );
    let stamp: String = now.chars().filter(char::is_ascii_alphanumeric).collect();
    let at = Literal::new_typed_literal(now.clone(), xsd::DATE_TIME);
    let mut out: Vec<Triple> = Vec::new();
    let mut count = 0;
    let mut measure =
        |on: &NamedNode, metric: NamedNodeRef<'_>, value: Literal, out: &mut Vec<Triple>| {
            let local = metric.as_str().rsplit('#').next().unwrap_or("metric");
            let m = NamedNode::new_unchecked(format!("{}#profile-{stamp}-{local}", on.as_str()));
            let mut add =
                |p: NamedNodeRef<'_>, o: Term| out.push(Triple::new(m.clone(), p.into_owned(), o));
            add(rdf::TYPE, dqv::QUALITY_MEASUREMENT.into_owned().into());
            add(dqv::COMPUTED_ON, on.clone().into());
            add(dqv::IS_MEASUREMENT_OF, metric.into_owned().into());
            add(dqv::VALUE, value.into());
            add(prov::GENERATED_AT_TIME, at.clone().into());
            count += 1;
        };
    let dataset_iri = scheme.dataset(dataset);
    measure(
        &dataset_iri,
        gg::ROW_COUNT_METRIC,
        integer(profile.row_count),
        &mut out,
    );
    for c in &profile.columns {
        let column = scheme.column(&ColumnKey::new(dataset.clone(), &c.name));
        for (metric, value) in column_measurements(c) {
            measure(&column, metric, value, &mut out);
        }
    }
    let graph = format!("profile:{}.{}:{stamp}", dataset.system, dataset.name);
    crate::store::load(store, &graph, &out)?;
    Ok(StoredProfile {
        graph,
        measurements: count,
    })
}
