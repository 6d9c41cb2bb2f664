//! Reading the catalog: one read-only snapshot transaction, and the system-catalog queries
//! that yield relations, columns, comments, constraints and row estimates.
//!
//! The queries use only what PostgreSQL 8.0 already had (`pg_class`, `pg_attribute`,
//! `pg_constraint`, `format_type`, `obj_description`, `col_description`, the one-argument
//! `pg_get_viewdef`, `array_to_string`), so they also run on Redshift's leader node.

use std::time::Duration;

use postgres::{Client, Row};

use super::connection::Target;
use super::{Flavor, ServerInfo};
use crate::error::{Error, Result};

/// What kind of relation a `pg_class` row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RelKind {
    /// `r`: an ordinary table.
    Table,
    /// `p`: a partitioned table (its partitions are not harvested separately).
    Partitioned,
    /// `v`: a view.
    View,
    /// `m`: a materialized view.
    MaterializedView,
    /// `f`: a foreign table.
    Foreign,
}

impl RelKind {
    fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "r" => Self::Table,
            "p" => Self::Partitioned,
            "v" => Self::View,
            "m" => Self::MaterializedView,
            "f" => Self::Foreign,
            _ => return None,
        })
    }

    /// Whether rows can be sampled from it cheaply (not views, not foreign tables).
    pub fn sampled(self) -> bool {
        matches!(
            self,
            Self::Table | Self::Partitioned | Self::MaterializedView
        )
    }
}

/// One column of a relation.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Attribute {
    /// `attnum`, as constraints refer to it.
    pub num: i16,
    /// The name as the catalog spells it.
    pub name: String,
    /// `format_type(atttypid, atttypmod)`.
    pub data_type: String,
    /// `attnotnull`.
    pub not_null: bool,
    /// `col_description`.
    pub comment: Option<String>,
}

/// A table, view, materialized view or foreign table.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Relation {
    /// Its oid.
    pub oid: u32,
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: RelKind,
    /// The planner's row estimate; `None` when unknown (never analysed: -1).
    pub rows: Option<u64>,
    /// `obj_description`.
    pub comment: Option<String>,
    /// `pg_get_viewdef`, for views and materialized views.
    pub definition: Option<String>,
    /// Its columns, in order.
    pub columns: Vec<Attribute>,
}

impl Relation {
    /// `schema.name`, as the catalog spells both.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// The column numbered `num`.
    pub fn column(&self, num: i16) -> Option<&Attribute> {
        self.columns.iter().find(|c| c.num == num)
    }
}

/// What kind of constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ConstraintKind {
    /// `p`.
    PrimaryKey,
    /// `u`.
    Unique,
    /// `f`.
    ForeignKey,
    /// `c`.
    Check,
}

/// A table constraint.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Constraint {
    /// The constrained relation's oid.
    pub relation: u32,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: ConstraintKind,
    /// The constrained columns (`conkey`), in key order.
    pub columns: Vec<i16>,
    /// For a foreign key: the referenced relation and columns (`confkey`), in key order.
    pub references: Option<(u32, Vec<i16>)>,
    /// `pg_get_constraintdef`, such as `CHECK ((amount >= (0)::numeric))`.
    pub definition: Option<String>,
}

/// Everything read from the catalog.
#[derive(Debug, Clone)]
pub(super) struct Catalog {
    /// The server.
    pub server: ServerInfo,
    /// Every relation outside the system schemas, whatever the include and exclude patterns
    /// (foreign keys may point into excluded schemas).
    pub relations: Vec<Relation>,
    /// Their constraints.
    pub constraints: Vec<Constraint>,
}

/// A query that failed without ending the harvest.
#[derive(Debug)]
pub(super) struct Failed {
    /// What the server said (scrubbed).
    pub message: String,
    /// Set when the transaction could not be recovered afterwards: the harvest stops.
    pub fatal: Option<Error>,
}

/// The connection inside one read-only transaction.
pub(super) struct Session<'a> {
    client: &'a mut Client,
    target: &'a Target,
    /// The server.
    pub server: ServerInfo,
    statement_timeout: Duration,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// The statement that opens the connector's transaction: a read-only snapshot.
pub(super) fn begin_sql(flavor: Flavor) -> &'static str {
    match flavor {
        // One snapshot for every query, and the server refuses any write.
        Flavor::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        // Redshift runs every transaction serializable (snapshot isolation).
        Flavor::Redshift => "BEGIN READ ONLY",
    }
}

impl<'a> Session<'a> {
    /// Asks the server what it is, then opens the read-only transaction.
    pub fn open(
        client: &'a mut Client,
        target: &'a Target,
        statement_timeout: Duration,
    ) -> Result<Self> {
        let row = client
            .query_one("SELECT version(), current_database()", &[])
            .map_err(|e| target.error("asking the server's version", &e))?;
        let version: String = get(target, &row, 0)?;
        let database: String = get(target, &row, 1)?;
        let flavor = super::connection::detect_flavor(&version);
        let mut session = Self {
            client,
            target,
            server: ServerInfo {
                flavor,
                version,
                database,
                read_only: false,
                isolation: String::new(),
            },
            statement_timeout,
        };
        session.begin()?;
        Ok(session)
    }

    /// Opens the transaction and checks that the server took it as read-only.
    fn begin(&mut self) -> Result<()> {
        let flavor = self.server.flavor;
        self.client
            .batch_execute(begin_sql(flavor))
            .map_err(|e| self.target.error("starting a read-only transaction", &e))?;
        let millis = self.statement_timeout.as_millis().max(1);
        // Views are read with every table qualified, whatever the user's search path.
        let settings =
            format!("SET LOCAL statement_timeout = {millis}; SET LOCAL search_path = pg_catalog");
        self.client
            .batch_execute(&settings)
            .map_err(|e| self.target.error("configuring the transaction", &e))?;
        match flavor {
            Flavor::Postgres => {
                let read_only = self.show("transaction_read_only")?;
                let isolation = self.show("transaction_isolation")?;
                if read_only != "on" {
                    return Err(Error::Source {
                        location: self.target.location.clone(),
                        message: format!(
                            "the server did not make the transaction read-only (transaction_read_only = {read_only}); nothing was read"
                        ),
                    });
                }
                self.server.read_only = true;
                self.server.isolation = isolation;
            }
            Flavor::Redshift => {
                self.server.read_only = true;
                "serializable".clone_into(&mut self.server.isolation);
            }
        }
        Ok(())
    }

    fn show(&mut self, setting: &str) -> Result<String> {
        let row = self
            .client
            .query_one(&format!("SHOW {setting}"), &[])
            .map_err(|e| self.target.error("reading the transaction's settings", &e))?;
        get(self.target, &row, 0)
    }

    /// Ends the transaction (it wrote nothing; committing only releases the snapshot).
    pub fn finish(self) -> Result<()> {
        self.client
            .batch_execute("COMMIT")
            .map_err(|e| self.target.error("ending the transaction", &e))
    }

    /// The connection target, for messages.
    pub fn target(&self) -> &Target {
        self.target
    }

    /// Runs a query whose failure is not fatal: inside a savepoint on PostgreSQL, so the
    /// transaction survives it; on Redshift, which has no savepoints, a failure ends the
    /// transaction and a new read-only one is opened.
    pub fn try_query(&mut self, sql: &str) -> std::result::Result<Vec<Row>, Failed> {
        let target = self.target;
        let failed = |e: &postgres::Error, fatal: Option<Error>| Failed {
            message: target.scrub(&super::connection::error_chain(e)),
            fatal,
        };
        match self.server.flavor {
            Flavor::Postgres => {
                self.client
                    .batch_execute("SAVEPOINT govgraph_try")
                    .map_err(|e| failed(&e, Some(target.error("setting a savepoint", &e))))?;
                match self.client.query(sql, &[]) {
                    Ok(rows) => {
                        self.client
                            .batch_execute("RELEASE SAVEPOINT govgraph_try")
                            .map_err(|e| {
                                failed(&e, Some(target.error("releasing a savepoint", &e)))
                            })?;
                        Ok(rows)
                    }
                    Err(e) => {
                        let fatal = self
                            .client
                            .batch_execute("ROLLBACK TO SAVEPOINT govgraph_try")
                            .err()
                            .map(|e| target.error("rolling back to a savepoint", &e));
                        Err(failed(&e, fatal))
                    }
                }
            }
            Flavor::Redshift => match self.client.query(sql, &[]) {
                Ok(rows) => Ok(rows),
                Err(e) => {
                    let fatal = match self.client.batch_execute("ROLLBACK") {
                        Ok(()) => self.begin().err(),
                        Err(e) => Some(target.error("rolling back", &e)),
                    };
                    Err(failed(&e, fatal))
                }
            },
        }
    }

    fn query(&mut self, doing: &str, sql: &str) -> Result<Vec<Row>> {
        self.client
            .query(sql, &[])
            .map_err(|e| self.target.error(doing, &e))
    }

    /// Reads relations, columns and constraints (and, on Redshift, row counts).
    pub fn read_catalog(&mut self) -> Result<Catalog> {
        let mut relations = self.relations()?;
        self.attach_columns(&mut relations)?;
        let constraints = self.constraints()?;
        if self.server.flavor == Flavor::Redshift {
            self.redshift_row_counts(&mut relations)?;
        }
        Ok(Catalog {
            server: self.server.clone(),
            relations,
            constraints,
        })
    }

    fn relations(&mut self) -> Result<Vec<Relation>> {
        let sql = format!(
            "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, c.reltuples::float8,
                    obj_description(c.oid, 'pg_class'),
                    CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {SYSTEM_SCHEMA_FILTER}
               AND NOT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                               WHERE i.inhrelid = c.oid AND p.relkind = 'p')
             ORDER BY 2, 3"
        );
        let rows = self.query("reading relations", &sql)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let kind: String = get(self.target, row, 3)?;
            let Some(kind) = RelKind::parse(&kind) else {
                continue;
            };
            let estimate: Option<f64> = get(self.target, row, 4)?;
            let rows_estimate = match kind {
                RelKind::View | RelKind::Foreign => None,
                _ => estimate.and_then(row_estimate),
            };
            out.push(Relation {
                oid: get(self.target, row, 0)?,
                schema: get(self.target, row, 1)?,
                name: get(self.target, row, 2)?,
                kind,
                rows: rows_estimate,
                comment: get(self.target, row, 5)?,
                definition: get::<Option<String>>(self.target, row, 6)?
                    .map(|d| d.trim().to_owned())
                    .filter(|d| !d.is_empty()),
                columns: Vec::new(),
            });
        }
        Ok(out)
    }

    fn attach_columns(&mut self, relations: &mut [Relation]) -> Result<()> {
        let sql = format!(
            "SELECT a.attrelid, a.attnum::int4, a.attname::text, format_type(a.atttypid, a.atttypmod),
                    a.attnotnull, col_description(a.attrelid, a.attnum)
             FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE a.attnum > 0 AND NOT a.attisdropped
               AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {SYSTEM_SCHEMA_FILTER}
             ORDER BY a.attrelid, a.attnum"
        );
        let rows = self.query("reading columns", &sql)?;
        let mut by_oid: std::collections::HashMap<u32, usize> = relations
            .iter()
            .enumerate()
            .map(|(i, r)| (r.oid, i))
            .collect();
        for row in &rows {
            let oid: u32 = get(self.target, row, 0)?;
            let Some(relation) = by_oid.get_mut(&oid).and_then(|i| relations.get_mut(*i)) else {
                continue;
            };
            let num: i32 = get(self.target, row, 1)?;
            relation.columns.push(Attribute {
                num: i16::try_from(num).unwrap_or(i16::MAX),
                name: get(self.target, row, 2)?,
                data_type: get::<Option<String>>(self.target, row, 3)?.unwrap_or_default(),
                not_null: get(self.target, row, 4)?,
                comment: get(self.target, row, 5)?,
            });
        }
        Ok(())
    }

    fn constraints(&mut self) -> Result<Vec<Constraint>> {
        // Redshift has no CHECK constraints and no pg_get_constraintdef.
        let definition = match self.server.flavor {
            Flavor::Postgres => {
                "CASE WHEN con.contype = 'c' THEN pg_get_constraintdef(con.oid) END"
            }
            Flavor::Redshift => "NULL::text",
        };
        let sql = format!(
            "SELECT con.conrelid, con.conname::text, con.contype::text,
                    array_to_string(con.conkey, ','), con.confrelid,
                    array_to_string(con.confkey, ','), {definition}
             FROM pg_constraint con
             JOIN pg_class c ON c.oid = con.conrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE con.contype IN ('p', 'u', 'f', 'c') AND {SYSTEM_SCHEMA_FILTER}
             ORDER BY 1, 2"
        );
        let rows = self.query("reading constraints", &sql)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let kind = match get::<String>(self.target, row, 2)?.as_str() {
                "p" => ConstraintKind::PrimaryKey,
                "u" => ConstraintKind::Unique,
                "f" => ConstraintKind::ForeignKey,
                "c" => ConstraintKind::Check,
                _ => continue,
            };
            let columns = numbers(get::<Option<String>>(self.target, row, 3)?.as_deref());
            let foreign: u32 = get(self.target, row, 4)?;
            let foreign_columns = numbers(get::<Option<String>>(self.target, row, 5)?.as_deref());
            out.push(Constraint {
                relation: get(self.target, row, 0)?,
                name: get(self.target, row, 1)?,
                kind,
                columns,
                references: (kind == ConstraintKind::ForeignKey)
                    .then_some((foreign, foreign_columns)),
                definition: get(self.target, row, 6)?,
            });
        }
        Ok(out)
    }

    /// Row counts from `svv_table_info`, which Redshift keeps instead of `reltuples`. The
    /// view only lists tables with data the user may see; the rest keep no count.
    fn redshift_row_counts(&mut self, relations: &mut [Relation]) -> Result<()> {
        let sql = "SELECT \"schema\"::text, \"table\"::text, tbl_rows::float8 FROM svv_table_info";
        match self.try_query(sql) {
            Ok(rows) => {
                let mut counts = std::collections::HashMap::new();
                for row in &rows {
                    if let (Ok(s), Ok(t), Ok(n)) = (
                        row.try_get::<_, String>(0),
                        row.try_get::<_, String>(1),
                        row.try_get::<_, Option<f64>>(2),
                    ) {
                        counts.insert((s, t), n.and_then(row_estimate));
                    }
                }
                for r in relations.iter_mut() {
                    r.rows = counts
                        .get(&(r.schema.clone(), r.name.clone()))
                        .copied()
                        .flatten();
                }
                Ok(())
            }
            Err(failed) => {
                let message = &failed.message;
                tracing::warn!(location = %self.target.location, %message, "no row counts from svv_table_info");
                for r in relations.iter_mut() {
                    r.rows = None;
                }
                failed.fatal.map_or(Ok(()), Err)
            }
        }
    }
}

/// Leaves out the system schemas: `pg_catalog`, `information_schema`, TOAST and temporary
/// schemas (and Redshift's internal ones, which all start with `pg_`).
const SYSTEM_SCHEMA_FILTER: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND substr(n.nspname, 1, 8) <> 'pg_toast' AND substr(n.nspname, 1, 8) <> 'pg_temp_'";

/// Whether a schema is one of the server's own.
pub(super) fn is_system_schema(name: &str) -> bool {
    matches!(
        name,
        "pg_catalog" | "information_schema" | "pg_internal" | "pg_automv"
    ) || name.starts_with("pg_toast")
        || name.starts_with("pg_temp_")
}

/// A planner estimate as a row count: negative means unknown.
fn row_estimate(estimate: f64) -> Option<u64> {
    if (0.0..1.8e19).contains(&estimate) {
        // In range and non-negative: the conversion is exact up to rounding.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(estimate.round() as u64)
    } else {
        None
    }
}

/// `"1,2,3"` as column numbers; anything unreadable is left out.
fn numbers(list: Option<&str>) -> Vec<i16> {
    list.unwrap_or_default()
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

/// A column of a row, with a message naming the column when its type is unexpected.
fn get<'r, T: postgres::types::FromSql<'r>>(
    target: &Target,
    row: &'r Row,
    index: usize,
) -> Result<T> {
    row.try_get(index).map_err(|e| Error::Source {
        location: target.location.clone(),
        message: target.scrub(&format!(
            "unexpected value in column {index} of a catalog query: {}",
            super::connection::error_chain(&e)
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_and_key_lists_are_read_defensively() {
        assert_eq!(row_estimate(-1.0), None);
        assert_eq!(row_estimate(f64::NAN), None);
        assert_eq!(row_estimate(0.0), Some(0));
        assert_eq!(row_estimate(5000.4), Some(5000));
        assert_eq!(numbers(Some("1,3, 2")), vec![1, 3, 2]);
        assert_eq!(numbers(None), Vec::<i16>::new());
        assert_eq!(numbers(Some("x,1")), vec![1]);
        assert!(is_system_schema("pg_toast_temp_1"));
        assert!(!is_system_schema("public"));
    }
}
