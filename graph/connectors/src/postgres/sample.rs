//! Sampling rows for profiling and classification: a bounded, random-ish sample per table,
//! read inside the harvest's read-only snapshot and never written to the graph.

use govgraph_graph::iri::DatasetKey;
use govgraph_graph::loader::Progress;

use super::catalog::{Relation, Session};
use super::{Flavor, SampleMethod, TableSample};
use crate::error::Result;

/// The longest value a sample keeps, in characters; longer values are cut server-side.
pub const MAX_VALUE_CHARS: u32 = 1024;

/// Below this estimate PostgreSQL samples row by row (`BERNOULLI`, a full scan); above it,
/// block by block (`SYSTEM`, which reads only the sampled pages).
const BERNOULLI_MAX_ROWS: u64 = 10_000_000;

/// `name` as a double-quoted identifier: embedded quotes doubled, so any name is safe.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// How to sample `limit` rows from a table of about `estimate` rows.
pub(super) fn plan(flavor: Flavor, estimate: Option<u64>, limit: u64) -> SampleMethod {
    let Some(estimate) = estimate.filter(|&e| e > limit.saturating_mul(2)) else {
        // Unknown or small: the first `limit` rows are cheap and, for a small table, all.
        return SampleMethod::All;
    };
    if flavor == Flavor::Redshift {
        return SampleMethod::Random;
    }
    // Ask for more than needed so the LIMIT, not the luck of the draw, bounds the sample.
    #[allow(clippy::cast_precision_loss)]
    let share = limit as f64 / estimate as f64 * 100.0;
    if estimate <= BERNOULLI_MAX_ROWS {
        SampleMethod::Bernoulli {
            percent: (share * 1.5).clamp(0.000_001, 100.0),
        }
    } else {
        SampleMethod::System {
            percent: (share * 3.0).clamp(0.000_001, 100.0),
        }
    }
}

/// The sampling query: every column as text (cut to [`MAX_VALUE_CHARS`]), identifiers
/// quoted, at most `limit` rows.
pub(super) fn sample_sql(
    flavor: Flavor,
    relation: &Relation,
    method: SampleMethod,
    limit: u64,
) -> String {
    let columns: Vec<String> = relation
        .columns
        .iter()
        .map(|c| {
            let column = quote_ident(&c.name);
            match flavor {
                Flavor::Postgres => format!("substr({column}::text, 1, {MAX_VALUE_CHARS})"),
                Flavor::Redshift => {
                    format!("substr(CAST({column} AS VARCHAR(65535)), 1, {MAX_VALUE_CHARS})")
                }
            }
        })
        .collect();
    let table = format!(
        "{}.{}",
        quote_ident(&relation.schema),
        quote_ident(&relation.name)
    );
    let select = columns.join(", ");
    match method {
        SampleMethod::All => format!("SELECT {select} FROM {table} LIMIT {limit}"),
        SampleMethod::Bernoulli { percent } => {
            format!(
                "SELECT {select} FROM {table} TABLESAMPLE BERNOULLI ({percent:.6}) LIMIT {limit}"
            )
        }
        SampleMethod::System { percent } => {
            format!("SELECT {select} FROM {table} TABLESAMPLE SYSTEM ({percent:.6}) LIMIT {limit}")
        }
        SampleMethod::Random => {
            format!("SELECT {select} FROM {table} ORDER BY random() LIMIT {limit}")
        }
    }
}

/// Samples every harvested table and materialized view. A table that cannot be read (no
/// privilege, a type that does not turn into text) is a warning; a connection that cannot
/// go on is an error.
pub(super) fn sample_all(
    session: &mut Session<'_>,
    relations: &[Relation],
    harvested: &[(usize, DatasetKey)],
    limit: u64,
    progress: &dyn Progress,
    warnings: &mut Vec<String>,
) -> Result<Vec<TableSample>> {
    let mut samples = Vec::new();
    if limit == 0 {
        return Ok(samples);
    }
    let todo: Vec<(&Relation, &DatasetKey)> = harvested
        .iter()
        .filter_map(|(i, key)| relations.get(*i).map(|r| (r, key)))
        .filter(|(r, _)| r.kind.sampled() && !r.columns.is_empty())
        .collect();
    progress.phase("postgres: sampling tables", Some(todo.len() as u64));
    let flavor = session.server.flavor;
    for (relation, key) in todo {
        let method = plan(flavor, relation.rows, limit);
        let sql = sample_sql(flavor, relation, method, limit);
        match session.try_query(&sql) {
            Ok(rows) => {
                let mut values = Vec::with_capacity(rows.len());
                for row in &rows {
                    let cells = (0..relation.columns.len())
                        .map(|i| row.try_get::<_, Option<String>>(i).ok().flatten())
                        .collect();
                    values.push(cells);
                }
                tracing::debug!(table = %relation.qualified(), rows = values.len(), method = %method, "sampled");
                samples.push(TableSample {
                    dataset: key.clone(),
                    schema: relation.schema.clone(),
                    table: relation.name.clone(),
                    columns: relation.columns.iter().map(|c| c.name.clone()).collect(),
                    rows: values,
                    method,
                    estimated_rows: relation.rows,
                });
            }
            Err(failed) => {
                warnings.push(format!(
                    "{}: {}: not sampled: {}",
                    session.target().location,
                    relation.qualified(),
                    failed.message
                ));
                if let Some(fatal) = failed.fatal {
                    return Err(fatal);
                }
            }
        }
        progress.advance(1);
    }
    progress.finish();
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::super::catalog::{Attribute, RelKind};
    use super::*;

    fn relation() -> Relation {
        Relation {
            oid: 1,
            schema: "Ops \"Room\"".into(),
            name: "Audit Log".into(),
            kind: RelKind::Table,
            rows: Some(5000),
            comment: None,
            definition: None,
            columns: vec![Attribute {
                num: 1,
                name: "Who\"".into(),
                data_type: "text".into(),
                not_null: false,
                comment: None,
            }],
        }
    }

    #[test]
    fn plans_follow_the_estimate() {
        assert_eq!(plan(Flavor::Postgres, None, 1000), SampleMethod::All);
        assert_eq!(plan(Flavor::Postgres, Some(1500), 1000), SampleMethod::All);
        assert_eq!(
            plan(Flavor::Postgres, Some(100_000), 1000),
            SampleMethod::Bernoulli { percent: 1.5 }
        );
        assert_eq!(
            plan(Flavor::Postgres, Some(1_000_000_000), 1000),
            SampleMethod::System { percent: 0.0003 }
        );
        assert_eq!(
            plan(Flavor::Redshift, Some(100_000), 1000),
            SampleMethod::Random
        );
        assert_eq!(plan(Flavor::Redshift, Some(10), 1000), SampleMethod::All);
    }

    #[test]
    fn queries_quote_every_identifier() {
        let sql = sample_sql(
            Flavor::Postgres,
            &relation(),
            SampleMethod::Bernoulli { percent: 1.5 },
            10,
        );
        assert_eq!(
            sql,
            "SELECT substr(\"Who\"\"\"::text, 1, 1024) FROM \"Ops \"\"Room\"\"\".\"Audit Log\" TABLESAMPLE BERNOULLI (1.500000) LIMIT 10"
        );
        let sql = sample_sql(Flavor::Redshift, &relation(), SampleMethod::Random, 10);
        assert!(sql.ends_with("ORDER BY random() LIMIT 10"), "{sql}");
        assert!(sql.contains("CAST(\"Who\"\"\" AS VARCHAR(65535))"), "{sql}");
    }
}
