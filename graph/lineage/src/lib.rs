//! Column-level lineage from SQL.
//!
//! [`analyze`] splits a SQL text into statements, parses each with
//! sqlparser 0.62, resolves every column reference through a [`Schema`] with
//! the dialect's identifier rules, and reports, for every output column, the
//! base-table columns it is computed from, classified the way OpenLineage's
//! `columnLineage` facet does (`DIRECT`/`INDIRECT` and a subtype).
//!
//! ```
//! use govgraph_lineage::{analyze, Options, Schema};
//!
//! let mut schema = Schema::new();
//! schema.add_table("shop.orders", &[("id", "int"), ("amount", "numeric")]);
//! let a = analyze("SELECT id, amount * 2 AS double FROM orders WHERE amount > 0",
//!                 &schema, &Options::default());
//! let st = &a.statements[0];
//! assert_eq!(st.column_order, ["id", "double"]);
//! assert_eq!(st.columns["double"].sources[0].table, "shop.orders");
//! ```
//!
//! See the crate README for the transformation rules, the composition rule
//! through CTEs and subqueries, and the dialect table (also on [`Dialect`]).

mod analyzer;
mod dialect;
mod dispose;
mod grammar;
mod schema;
mod split;

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;

use serde::Serialize;
use sqlparser::parser::{Parser, ParserError};

pub use dialect::{Dialect, UnknownDialect};
pub use schema::{Column, Schema, SchemaError, Table};
pub use split::{StatementText, split_statements};

/// How to analyse: the dialect and the defaults used to resolve partly
/// qualified table names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The SQL dialect (grammar and identifier rules).
    pub dialect: Dialect,
    /// The database (catalog) an unqualified or two-part name lives in.
    pub default_database: Option<String>,
    /// The schema an unqualified table name lives in.
    pub default_schema: Option<String>,
}

/// The result of [`analyze`]: one entry per statement, in input order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Analysis {
    /// The statements.
    pub statements: Vec<StatementLineage>,
}

/// The lineage of one statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementLineage {
    /// The table or view written (`"schema.table"`), or `None` for a query.
    pub target: Option<String>,
    /// `select`, `insert`, `create_table_as`, `create_view`, `merge`,
    /// `update`, `ddl` or `other`.
    pub kind: String,
    /// Output column name -> its lineage.
    pub columns: BTreeMap<String, ColumnLineage>,
    /// The output column names in output order.
    pub column_order: Vec<String>,
    /// Columns that decide which rows the statement produces (JOIN, FILTER,
    /// GROUP_BY, SORT), deduplicated and sorted.
    pub dataset_sources: Vec<SourceRef>,
    /// Problems found while resolving names.
    pub warnings: Vec<Warning>,
    /// Set when the statement failed to parse; `columns` is then empty.
    pub error: Option<ParseError>,
    /// Where the statement sits in the input.
    pub span: Span,
    /// The statement's text.
    pub sql: String,
}

/// The lineage of one output column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnLineage {
    /// The input columns, sorted by (table, column, type, subtype), without
    /// duplicates.
    pub sources: Vec<SourceRef>,
    /// The SQL text of the output expression (sqlparser's rendering); `None`
    /// for columns that come from `*`.
    pub expression: Option<String>,
}

/// One input column and how it reaches the output.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SourceRef {
    /// The table, as the schema names it (`schema.table`).
    pub table: String,
    /// The column.
    pub column: String,
    /// `DIRECT` or `INDIRECT`.
    #[serde(rename = "type")]
    pub kind: TransformationType,
    /// The subtype.
    pub subtype: TransformationSubtype,
}

/// OpenLineage's transformation type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransformationType {
    /// The column's values flow into the output.
    Direct,
    /// The column decides which rows or which value, without flowing in.
    Indirect,
}

/// OpenLineage's transformation subtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransformationSubtype {
    /// The value unchanged (a column reference or alias).
    Identity,
    /// A non-aggregate expression or function of the value.
    Transformation,
    /// An aggregate of the value.
    Aggregation,
    /// A join key.
    Join,
    /// A filter (WHERE, HAVING, QUALIFY, aggregate FILTER, semi-join subquery).
    Filter,
    /// A grouping key.
    GroupBy,
    /// A sort key.
    Sort,
    /// A window's PARTITION BY or ORDER BY key.
    Window,
    /// A CASE / IF condition.
    Conditional,
}

impl TransformationType {
    /// OpenLineage's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "DIRECT",
            Self::Indirect => "INDIRECT",
        }
    }

    /// Parses OpenLineage's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Direct, Self::Indirect]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

impl TransformationSubtype {
    /// Every subtype.
    pub const ALL: [Self; 9] = [
        Self::Identity,
        Self::Transformation,
        Self::Aggregation,
        Self::Join,
        Self::Filter,
        Self::GroupBy,
        Self::Sort,
        Self::Window,
        Self::Conditional,
    ];

    /// OpenLineage's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identity => "IDENTITY",
            Self::Transformation => "TRANSFORMATION",
            Self::Aggregation => "AGGREGATION",
            Self::Join => "JOIN",
            Self::Filter => "FILTER",
            Self::GroupBy => "GROUP_BY",
            Self::Sort => "SORT",
            Self::Window => "WINDOW",
            Self::Conditional => "CONDITIONAL",
        }
    }

    /// Parses OpenLineage's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A problem found while analysing (unknown or ambiguous names, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Warning {
    /// What went wrong.
    pub message: String,
    /// 1-based line in the whole input, when known.
    pub line: Option<u64>,
    /// 1-based column (in characters) in the whole input, when known.
    pub column: Option<u64>,
}

/// A statement that failed to parse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseError {
    /// sqlparser's message, without its position suffix.
    pub message: String,
    /// 1-based line in the whole input.
    pub line: u64,
    /// 1-based column (in characters) in the whole input.
    pub column: u64,
}

/// Where a statement sits: 1-based, inclusive, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Span {
    /// Line of the first character.
    pub start_line: u64,
    /// Column of the first character.
    pub start_column: u64,
    /// Line of the last character.
    pub end_line: u64,
    /// Column of the last character.
    pub end_column: u64,
}

/// sqlparser's own recursion limit (its default). Deeper input is a parse error.
const PARSER_RECURSION_LIMIT: usize = 50;

/// Statements whose brackets nest deeper than this are refused before
/// parsing: sqlparser backtracks exponentially on some deeply nested
/// brackets (`ARRAY[ARRAY[…]]`) and does not count `((t))` in FROM against
/// its recursion limit.
pub const MAX_BRACKET_DEPTH: usize = 30;

/// Input whose brackets nest at most this deep is analysed on the caller's
/// thread; anything deeper runs on a helper thread with a large stack.
/// sqlparser does not count `((t))` in FROM against its recursion limit and
/// uses about 100 KiB of stack per such level in debug builds.
const INLINE_BRACKET_DEPTH: usize = 8;

/// Statements longer than this (in bytes) have their syntax tree dropped
/// iteratively: a flat chain of tens of thousands of operators would
/// otherwise overflow the stack when dropped.
const LARGE_STATEMENT: usize = 16 * 1024;

/// The stack of the helper thread for deeply nested input.
const ANALYSIS_STACK: usize = 64 * 1024 * 1024;

/// Analyses every statement of `sql`. Never panics; problems are reported
/// in each statement's `error` and `warnings`.
///
/// Ordinary SQL is analysed on the caller's thread, which needs the usual
/// 2 MiB of stack. Input whose brackets nest deeper than a few levels is
/// analysed on a scoped helper thread with a 64 MiB stack, so that deep
/// nesting cannot overflow the caller's stack (if that thread cannot be
/// started, it runs on the caller's thread).
pub fn analyze(sql: &str, schema: &Schema, options: &Options) -> Analysis {
    let pieces = split_statements(sql, options.dialect);
    let deepest = pieces.iter().map(|p| p.max_depth).max().unwrap_or(0);
    if deepest <= INLINE_BRACKET_DEPTH {
        return analyze_pieces(sql, &pieces, schema, options);
    }
    std::thread::scope(|s| {
        let spawned = std::thread::Builder::new()
            .name("govgraph-lineage".to_string())
            .stack_size(ANALYSIS_STACK)
            .spawn_scoped(s, || analyze_pieces(sql, &pieces, schema, options));
        match spawned {
            Ok(handle) => handle.join().unwrap_or_default(),
            Err(_) => analyze_pieces(sql, &pieces, schema, options),
        }
    })
}

/// [`analyze`] always on the caller's thread, for measurements: deeply
/// nested input may overflow a small stack.
#[doc(hidden)]
pub fn analyze_on_this_thread(sql: &str, schema: &Schema, options: &Options) -> Analysis {
    let pieces = split_statements(sql, options.dialect);
    analyze_pieces(sql, &pieces, schema, options)
}

fn analyze_pieces(
    sql: &str,
    pieces: &[StatementText],
    schema: &Schema,
    options: &Options,
) -> Analysis {
    let parser_dialect = grammar::Grammar(options.dialect.parser_dialect());
    let lines = split::LineIndex::new(sql);
    let mut overlay = Schema::new();
    let mut statements = Vec::new();
    for piece in pieces {
        if piece.is_empty() {
            continue;
        }
        let text = &sql[piece.text.clone()];
        let (start_line, start_column) = lines.position(piece.text.start);
        let (end_line, end_column) = lines.last_char_position(piece.text.start, piece.text.end);
        let span = Span {
            start_line,
            start_column,
            end_line,
            end_column,
        };
        let failed = |message: String, line: u64, column: u64| StatementLineage {
            target: None,
            kind: "other".to_string(),
            columns: BTreeMap::new(),
            column_order: Vec::new(),
            dataset_sources: Vec::new(),
            warnings: Vec::new(),
            error: Some(ParseError {
                message,
                line,
                column,
            }),
            span,
            sql: text.to_string(),
        };
        if piece.max_depth > MAX_BRACKET_DEPTH {
            let (line, column) = lines.position(piece.max_depth_at);
            statements.push(failed(
                format!(
                    "brackets nest {} levels deep; at most {MAX_BRACKET_DEPTH} are analysed",
                    piece.max_depth
                ),
                line,
                column,
            ));
            continue;
        }
        // A panic in the parser or the analyser is a bug; it must not take
        // the other statements down.
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let parsed = Parser::new(&parser_dialect)
                .with_recursion_limit(PARSER_RECURSION_LIMIT)
                .try_with_sql(text)
                .and_then(|mut p| p.parse_statements());
            match parsed {
                Ok(stmts) => {
                    let done = stmts
                        .iter()
                        .map(|stmt| {
                            analyzer::analyze_statement(stmt, schema, &overlay, options, span, text)
                        })
                        .collect::<Vec<_>>();
                    if text.len() > LARGE_STATEMENT {
                        dispose::dispose(stmts);
                    }
                    Ok(done)
                }
                Err(e) => Err(e),
            }
        }));
        match result {
            Ok(Ok(done)) => {
                for (lineage, created) in done {
                    if let Some((parts, cols)) = created {
                        overlay.add_parts(parts, cols);
                    }
                    statements.push(lineage);
                }
            }
            Ok(Err(e)) => {
                let (message, line, column) = parse_error_position(&e, span);
                statements.push(failed(message, line, column));
            }
            Err(_) => statements.push(failed(
                "internal error while analysing this statement".to_string(),
                span.start_line,
                span.start_column,
            )),
        }
    }
    Analysis { statements }
}

/// Splits sqlparser's " at Line: X, Column: Y" off the message and shifts the
/// position from the statement to the whole input. Without a position the
/// error is placed at the statement's last character (most such errors are
/// "found: EOF").
fn parse_error_position(e: &ParserError, span: Span) -> (String, u64, u64) {
    let raw = match e {
        ParserError::TokenizerError(s) | ParserError::ParserError(s) => s.clone(),
        ParserError::RecursionLimitExceeded => {
            return (
                "recursion limit exceeded: the statement is nested too deeply".to_string(),
                span.start_line,
                span.start_column,
            );
        }
    };
    if let Some(at) = raw.rfind(" at Line: ") {
        let tail = &raw[at + " at Line: ".len()..];
        let mut it = tail.splitn(2, ", Column: ");
        let line = it.next().and_then(|l| l.trim().parse::<u64>().ok());
        let col = it.next().and_then(|c| {
            let digits: String = c.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u64>().ok()
        });
        if let (Some(l), Some(c)) = (line, col)
            && l >= 1
            && c >= 1
        {
            let (line, column) = shift(span, l, c);
            return (raw[..at].to_string(), line, column);
        }
    }
    (raw, span.end_line, span.end_column)
}

/// Shifts a 1-based position inside a statement to the whole input.
pub(crate) fn shift(span: Span, line: u64, column: u64) -> (u64, u64) {
    if line <= 1 {
        (span.start_line, span.start_column + column.max(1) - 1)
    } else {
        (span.start_line + line - 1, column)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn error_position_is_shifted() {
        let sql = "SELECT 1;\n\n  SELECT a FROM t WHERE AND b;\nSELECT 2";
        let a = analyze(sql, &Schema::new(), &Options::default());
        assert_eq!(a.statements.len(), 3);
        let e = a.statements[1].error.as_ref().unwrap();
        assert_eq!(e.line, 3);
        assert!(e.column >= 3, "{e:?}");
        assert!(!e.message.contains("Line:"));
        assert!(a.statements[0].error.is_none());
        assert!(a.statements[2].error.is_none());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let sql = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
        let a = analyze(&sql, &Schema::new(), &Options::default());
        assert!(a.statements[0].error.is_some());
    }
}
