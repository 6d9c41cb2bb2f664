//! SQL dialects and their identifier rules (see [`Dialect`]).

use std::fmt;
use std::str::FromStr;

use sqlparser::dialect as sp;

/// A SQL dialect: it picks sqlparser's grammar and the identifier rules.
///
/// Every dialect decides three things about an identifier: how an *unquoted*
/// identifier is folded, whether an unquoted identifier is compared with the
/// schema case-insensitively, and the same for a *quoted* one. Names found in
/// the schema are always reported as the schema spells them; the fold only
/// decides how names that are not in the schema (aliases, output columns,
/// unknown tables) are reported.
///
/// | dialect | unquoted identifiers | quoted identifiers | notes |
/// |---|---|---|---|
/// | `generic` | kept as written, compared case-insensitively | kept, compared case-sensitively | |
/// | `ansi` | folded to UPPER, compared case-insensitively | kept, case-sensitive | the SQL standard's rule |
/// | `postgres` | folded to lower, then compared **exactly** | kept, case-sensitive | a schema name `CustomerID` is reachable only as `"CustomerID"` |
/// | `redshift` | folded to lower, case-insensitive | folded to lower, case-insensitive | the default `enable_case_sensitive_identifier = off` |
/// | `duckdb` | kept as written, case-insensitive | kept, case-insensitive | DuckDB compares all identifiers case-insensitively |
/// | `snowflake` | folded to UPPER, case-insensitive | kept, case-sensitive | `"orders"` only matches a schema name spelled `orders` |
/// | `bigquery` | kept, case-insensitive for columns and aliases | same | dataset and table names are case-**sensitive** |
/// | `mysql` | kept, case-insensitive | kept, case-insensitive | assumes `lower_case_table_names` = 1 or 2 |
/// | `databricks` / `spark` | kept, case-insensitive | kept, case-insensitive | `spark.sql.caseSensitive = false` |
/// | `hive` | folded to lower, case-insensitive | folded to lower, case-insensitive | the metastore stores lower case |
/// | `mssql` | kept, case-insensitive | kept, case-insensitive | the default case-insensitive collation |
/// | `sqlite` | kept, case-insensitive | kept, case-insensitive | ASCII case-insensitive, quoted or not |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// sqlparser's generic dialect.
    #[default]
    Generic,
    /// PostgreSQL.
    Postgres,
    /// Snowflake.
    Snowflake,
    /// Google BigQuery.
    BigQuery,
    /// DuckDB.
    DuckDb,
    /// Amazon Redshift.
    Redshift,
    /// MySQL (and MariaDB).
    MySql,
    /// Databricks SQL; `spark` parses to this dialect and follows its rules.
    Databricks,
    /// Apache Hive.
    Hive,
    /// Microsoft SQL Server / T-SQL.
    MsSql,
    /// SQLite.
    Sqlite,
    /// ANSI SQL.
    Ansi,
}

/// The error of [`Dialect::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown dialect {0:?}; expected one of generic, postgres, snowflake, bigquery, duckdb, redshift, mysql, databricks, spark, hive, mssql, sqlite, ansi"
)]
pub struct UnknownDialect(pub String);

impl Dialect {
    /// Every dialect, in declaration order.
    pub const ALL: [Dialect; 12] = [
        Dialect::Generic,
        Dialect::Postgres,
        Dialect::Snowflake,
        Dialect::BigQuery,
        Dialect::DuckDb,
        Dialect::Redshift,
        Dialect::MySql,
        Dialect::Databricks,
        Dialect::Hive,
        Dialect::MsSql,
        Dialect::Sqlite,
        Dialect::Ansi,
    ];

    /// The canonical lower-case name, as accepted by [`FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Generic => "generic",
            Dialect::Postgres => "postgres",
            Dialect::Snowflake => "snowflake",
            Dialect::BigQuery => "bigquery",
            Dialect::DuckDb => "duckdb",
            Dialect::Redshift => "redshift",
            Dialect::MySql => "mysql",
            Dialect::Databricks => "databricks",
            Dialect::Hive => "hive",
            Dialect::MsSql => "mssql",
            Dialect::Sqlite => "sqlite",
            Dialect::Ansi => "ansi",
        }
    }

    /// The name an identifier stands for under this dialect's case folding (unquoted
    /// identifiers folded, quoted ones kept where the dialect keeps them).
    pub fn normalize(self, value: &str, quoted: bool) -> String {
        self.rules().normalize(value, quoted)
    }

    /// The sqlparser dialect that parses this dialect's grammar.
    pub fn parser_dialect(self) -> Box<dyn sp::Dialect> {
        match self {
            Dialect::Generic => Box::new(sp::GenericDialect {}),
            Dialect::Postgres => Box::new(sp::PostgreSqlDialect {}),
            Dialect::Snowflake => Box::new(sp::SnowflakeDialect {}),
            Dialect::BigQuery => Box::new(sp::BigQueryDialect {}),
            Dialect::DuckDb => Box::new(sp::DuckDbDialect {}),
            Dialect::Redshift => Box::new(sp::RedshiftSqlDialect {}),
            Dialect::MySql => Box::new(sp::MySqlDialect {}),
            Dialect::Databricks => Box::new(sp::DatabricksDialect {}),
            Dialect::Hive => Box::new(sp::HiveDialect {}),
            Dialect::MsSql => Box::new(sp::MsSqlDialect {}),
            Dialect::Sqlite => Box::new(sp::SQLiteDialect {}),
            Dialect::Ansi => Box::new(sp::AnsiDialect {}),
        }
    }

    /// The identifier rules of the dialect (see the module table).
    pub(crate) fn rules(self) -> CaseRules {
        use Fold::*;
        let (fold, fold_quoted, unquoted_ci, quoted_ci, tables_cs) = match self {
            Dialect::Generic => (Keep, false, true, false, false),
            Dialect::Ansi => (Upper, false, true, false, false),
            Dialect::Postgres => (Lower, false, false, false, false),
            Dialect::Redshift => (Lower, true, true, true, false),
            Dialect::DuckDb => (Keep, false, true, true, false),
            Dialect::Snowflake => (Upper, false, true, false, false),
            Dialect::BigQuery => (Keep, false, true, true, true),
            Dialect::MySql => (Keep, false, true, true, false),
            Dialect::Databricks => (Keep, false, true, true, false),
            Dialect::Hive => (Lower, true, true, true, false),
            Dialect::MsSql => (Keep, false, true, true, false),
            Dialect::Sqlite => (Keep, false, true, true, false),
        };
        CaseRules {
            fold,
            fold_quoted,
            unquoted_ci,
            quoted_ci,
            tables_cs,
        }
    }

    /// How the statement splitter reads this dialect's lexical structure.
    pub(crate) fn lexical(self) -> Lexical {
        let d = self.parser_dialect();
        Lexical {
            backslash_escape: d.supports_string_literal_backslash_escape(),
            hash_comments: matches!(
                self,
                Dialect::Snowflake | Dialect::BigQuery | Dialect::MySql | Dialect::Hive
            ),
            bracket_quotes: d.is_delimited_identifier_start('['),
            backtick_quotes: true,
            nested_comments: d.supports_nested_comments(),
            dollar_quotes: !d.supports_dollar_placeholder(),
            triple_quotes: d.supports_triple_quoted_string(),
            escape_strings: d.supports_string_escape_constant(),
        }
    }

    /// Column names of a bare `VALUES` list.
    pub(crate) fn values_column_name(self, index: usize) -> String {
        match self {
            Dialect::DuckDb => format!("col{index}"),
            Dialect::Snowflake => format!("COLUMN{}", index + 1),
            _ => format!("column{}", index + 1),
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Ok(match lower.as_str() {
            "generic" => Dialect::Generic,
            "postgres" | "postgresql" | "pg" => Dialect::Postgres,
            "snowflake" => Dialect::Snowflake,
            "bigquery" => Dialect::BigQuery,
            "duckdb" => Dialect::DuckDb,
            "redshift" => Dialect::Redshift,
            "mysql" | "mariadb" => Dialect::MySql,
            "databricks" | "spark" | "sparksql" | "spark_sql" => Dialect::Databricks,
            "hive" => Dialect::Hive,
            "mssql" | "tsql" | "sqlserver" => Dialect::MsSql,
            "sqlite" => Dialect::Sqlite,
            "ansi" => Dialect::Ansi,
            _ => return Err(UnknownDialect(s.to_string())),
        })
    }
}

/// How unquoted identifiers are folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fold {
    Keep,
    Lower,
    Upper,
}

/// Identifier comparison rules of a dialect.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CaseRules {
    pub fold: Fold,
    /// Quoted identifiers are folded too (Redshift, Hive).
    pub fold_quoted: bool,
    pub unquoted_ci: bool,
    pub quoted_ci: bool,
    /// Table (and schema/database) names compare case-sensitively whatever the
    /// quoting (BigQuery).
    pub tables_cs: bool,
}

impl CaseRules {
    /// The name an identifier stands for when it is not found in the schema.
    pub fn normalize(&self, value: &str, quoted: bool) -> String {
        if quoted && !self.fold_quoted {
            return value.to_string();
        }
        match self.fold {
            Fold::Keep => value.to_string(),
            Fold::Lower => value.to_lowercase(),
            Fold::Upper => value.to_uppercase(),
        }
    }

    fn ci(&self, quoted: bool) -> bool {
        if quoted {
            self.quoted_ci
        } else {
            self.unquoted_ci
        }
    }

    /// Does the identifier (`value`, quoted or not) name `name`?
    pub fn matches(&self, value: &str, quoted: bool, name: &str) -> bool {
        if self.ci(quoted) {
            eq_ci(value, name)
        } else if quoted && !self.fold_quoted {
            value == name
        } else {
            match self.fold {
                Fold::Keep => value == name,
                Fold::Lower => fold_eq(value, name, char::to_lowercase),
                Fold::Upper => fold_eq(value, name, char::to_uppercase),
            }
        }
    }

    /// Same for table, schema and database names.
    pub fn matches_table(&self, value: &str, quoted: bool, name: &str) -> bool {
        if self.tables_cs {
            value == name
        } else {
            self.matches(value, quoted, name)
        }
    }
}

fn fold_eq<I: Iterator<Item = char>>(value: &str, name: &str, f: fn(char) -> I) -> bool {
    value.chars().flat_map(f).eq(name.chars())
}

/// Case-insensitive equality (full Unicode lower-casing, fast for ASCII).
pub(crate) fn eq_ci(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.chars()
            .flat_map(char::to_lowercase)
            .eq(b.chars().flat_map(char::to_lowercase))
    }
}

/// The key under which names are indexed for case-insensitive lookup.
pub(crate) fn ci_key(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        std::borrow::Cow::Owned(s.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Lexical settings used by the statement splitter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lexical {
    pub backslash_escape: bool,
    pub hash_comments: bool,
    pub bracket_quotes: bool,
    pub backtick_quotes: bool,
    pub nested_comments: bool,
    pub dollar_quotes: bool,
    pub triple_quotes: bool,
    pub escape_strings: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names() {
        for d in Dialect::ALL {
            assert_eq!(d.name().parse::<Dialect>(), Ok(d));
            assert_eq!(d.to_string(), d.name());
        }
        assert_eq!("spark".parse::<Dialect>(), Ok(Dialect::Databricks));
        assert_eq!("PostgreSQL".parse::<Dialect>(), Ok(Dialect::Postgres));
        assert!("oracle".parse::<Dialect>().is_err());
    }

    #[test]
    fn postgres_rules() {
        let r = Dialect::Postgres.rules();
        assert!(r.matches("Orders", false, "orders"));
        assert!(!r.matches("Orders", true, "orders"));
        assert!(r.matches("Orders", true, "Orders"));
        assert!(!r.matches("CustomerID", false, "CustomerID"));
        assert_eq!(r.normalize("Total", false), "total");
        assert_eq!(r.normalize("Total", true), "Total");
    }

    #[test]
    fn snowflake_rules() {
        let r = Dialect::Snowflake.rules();
        assert!(r.matches("orders", false, "ORDERS"));
        assert!(r.matches("orders", false, "orders"));
        assert!(!r.matches("ORDERS", true, "orders"));
        assert!(r.matches("orders", true, "orders"));
        assert_eq!(r.normalize("total", false), "TOTAL");
    }

    #[test]
    fn other_rules() {
        assert!(Dialect::DuckDb.rules().matches("ID", true, "id"));
        assert!(Dialect::Redshift.rules().matches("ID", true, "id"));
        assert_eq!(Dialect::Redshift.rules().normalize("ID", true), "id");
        assert!(!Dialect::Generic.rules().matches("ID", true, "id"));
        assert!(Dialect::Generic.rules().matches("ID", false, "id"));
        let bq = Dialect::BigQuery.rules();
        assert!(bq.matches("ID", true, "id"));
        assert!(!bq.matches_table("Orders", false, "orders"));
        assert!(Dialect::MsSql.rules().matches("ID", true, "id"));
        assert!(Dialect::Hive.rules().matches("ID", true, "id"));
    }
}
