//! The scope-aware resolver: walks one parsed statement and computes the
//! lineage of its output columns.
//!
//! # Model
//!
//! Every relation (a base table, a CTE, a derived table, a set operation) is
//! a list of output columns, each carrying the base-table columns it comes
//! from, with a transformation ([`Tx`]). A column reference resolves, through
//! the scope chain, to one column of one FROM item, and contributes that
//! column's sources *composed* with the context it sits in:
//!
//! * direct contexts rank IDENTITY < TRANSFORMATION < AGGREGATION and the
//!   composition keeps the strongest (`IDENTITY∘X = X`,
//!   `TRANSFORMATION∘AGGREGATION = AGGREGATION`, …);
//! * an indirect context (a CASE condition, a window key, a WHERE clause …)
//!   turns everything under it into that indirect subtype; an indirect source
//!   seen through a direct context keeps its own subtype.
//!
//! Filters, joins, groupings and sorts anywhere in the statement (including
//! in CTEs and subqueries that are used) go to the statement's dataset-level
//! sources.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use sqlparser::ast::{
    self, AccessExpr, AssignmentTarget, Cte, Distinct, ExcludeSelectItem, Expr, Function,
    FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArguments, GroupByExpr,
    GroupByWithModifier, Ident, JoinConstraint, JoinOperator, JsonPathElem, JsonTableColumn,
    MergeAction, MergeInsertKind, NamedWindowDefinition, NamedWindowExpr, ObjectName, OrderBy,
    OrderByKind, PivotValueSource, Query, Select, SelectItem, SelectItemQualifiedWildcardKind,
    SetExpr, SetOperator, SetQuantifier, Statement, Subscript, TableAlias, TableFactor,
    TableObject, TableWithJoins, UpdateTableFromKind, Values, WildcardAdditionalOptions,
    WindowSpec, WindowType, With,
};
use sqlparser::tokenizer::Location;

use crate::dialect::{CaseRules, ci_key, eq_ci};
use crate::schema::{Column, Lookup, Schema, Table};
use crate::{
    ColumnLineage, Options, SourceRef, Span, StatementLineage, TransformationSubtype,
    TransformationType, Warning,
};

/// How deep the walk may recurse (queries, expressions, FROM items).
const MAX_DEPTH: u32 = 200;
/// Flat operator chains longer than this are not rendered as text.
const MAX_RENDERED_CHAIN: usize = 200;
/// Fixpoint iterations for a recursive CTE.
const RECURSIVE_CTE_ROUNDS: usize = 8;

// ---------------------------------------------------------------- sources

/// A transformation, in OpenLineage's terms; the first three are DIRECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Tx {
    Identity,
    Transformation,
    Aggregation,
    Join,
    Filter,
    GroupBy,
    Sort,
    Window,
    Conditional,
}

impl Tx {
    fn is_indirect(self) -> bool {
        !matches!(self, Tx::Identity | Tx::Transformation | Tx::Aggregation)
    }
    /// The context of an operand of a non-aggregate expression.
    fn bump(self) -> Tx {
        if self == Tx::Identity {
            Tx::Transformation
        } else {
            self
        }
    }
    /// The context of an aggregate's argument.
    fn agg(self) -> Tx {
        if matches!(self, Tx::Identity | Tx::Transformation) {
            Tx::Aggregation
        } else {
            self
        }
    }
    /// An indirect context, unless already inside one.
    fn indirect(self, sub: Tx) -> Tx {
        if self.is_indirect() { self } else { sub }
    }
    /// `self` is the context, `inner` how the referenced column got its source.
    fn compose(self, inner: Tx) -> Tx {
        if self.is_indirect() {
            self
        } else if inner.is_indirect() {
            inner
        } else {
            self.max(inner)
        }
    }
    fn public(self) -> (TransformationType, TransformationSubtype) {
        use TransformationSubtype as S;
        use TransformationType::{Direct, Indirect};
        match self {
            Tx::Identity => (Direct, S::Identity),
            Tx::Transformation => (Direct, S::Transformation),
            Tx::Aggregation => (Direct, S::Aggregation),
            Tx::Join => (Indirect, S::Join),
            Tx::Filter => (Indirect, S::Filter),
            Tx::GroupBy => (Indirect, S::GroupBy),
            Tx::Sort => (Indirect, S::Sort),
            Tx::Window => (Indirect, S::Window),
            Tx::Conditional => (Indirect, S::Conditional),
        }
    }
}

/// A base column (interned) and how it reaches the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Src {
    col: u32,
    tx: Tx,
}

fn normalize(v: &mut Vec<Src>) {
    v.sort_unstable();
    v.dedup();
}

fn push_composed(sink: &mut Vec<Src>, from: &[Src], tx: Tx) {
    sink.extend(from.iter().map(|s| Src {
        col: s.col,
        tx: tx.compose(s.tx),
    }));
}

/// The name behind an interned column id.
enum ColName<'a> {
    Schema(&'a Table, u32),
    Named(Rc<str>, String),
}

// ---------------------------------------------------------------- relations

#[derive(Debug, Clone, PartialEq)]
struct OutCol {
    name: String,
    srcs: Vec<Src>,
    expr: Option<String>,
}

impl OutCol {
    fn new(name: String, mut srcs: Vec<Src>, expr: Option<String>) -> OutCol {
        normalize(&mut srcs);
        OutCol { name, srcs, expr }
    }
}

/// The output of a query: named columns with their sources.
#[derive(Debug, Clone, Default)]
struct Relation {
    cols: Vec<OutCol>,
    /// Lower-cased name -> positions, for wide relations.
    index: Option<HashMap<String, Vec<u32>>>,
}

impl Relation {
    fn new(cols: Vec<OutCol>) -> Relation {
        let mut r = Relation { cols, index: None };
        r.reindex();
        r
    }

    fn reindex(&mut self) {
        self.index = (self.cols.len() > 16).then(|| {
            let mut ix: HashMap<String, Vec<u32>> = HashMap::with_capacity(self.cols.len());
            for (i, c) in self.cols.iter().enumerate() {
                ix.entry(ci_key(&c.name).into_owned())
                    .or_default()
                    .push(i as u32);
            }
            ix
        });
    }

    fn find(&self, value: &str, quoted: bool, rules: &CaseRules) -> Option<u32> {
        match &self.index {
            Some(ix) => ix
                .get(ci_key(value).as_ref())?
                .iter()
                .copied()
                .find(|&i| rules.matches(value, quoted, &self.cols[i as usize].name)),
            None => self
                .cols
                .iter()
                .position(|c| rules.matches(value, quoted, &c.name))
                .map(|i| i as u32),
        }
    }

    fn same(&self, other: &Relation) -> bool {
        self.cols == other.cols
    }
}

// ---------------------------------------------------------------- scopes

enum Cols<'a> {
    /// A schema table; `key` identifies it for interning.
    Table { t: &'a Table, key: u64 },
    /// A CTE, derived table or other relation with known columns.
    Rel(Rc<Relation>),
    /// A relation whose columns are not (all) known: an unknown table (its
    /// columns are taken as written) or a table function (any column comes
    /// from the function's arguments).
    Open {
        table: Option<Rc<str>>,
        known: Rc<Relation>,
        args: Vec<Src>,
        /// Accepts column names it does not list.
        open: bool,
    },
}

/// A FROM item in scope.
struct Source<'a> {
    /// The names a qualified reference may use: `[alias]`, or the table's
    /// name parts when there is no alias.
    qual: Vec<String>,
    aliased: bool,
    /// For messages: the table name, "subquery", "CTE x", …
    origin: String,
    cols: Cols<'a>,
}

impl Source<'_> {
    fn label(&self) -> &str {
        self.qual.last().map(String::as_str).unwrap_or("")
    }
    fn accepts_unknown(&self) -> bool {
        matches!(self.cols, Cols::Open { open: true, .. })
    }
}

/// A column found in a source.
#[derive(Debug, Clone)]
enum Hit {
    Table(u32),
    Rel(u32),
    Known(u32),
    Open(String),
}

/// A column merged by `JOIN … USING` / `NATURAL JOIN`.
struct UsingCol {
    name: String,
    srcs: Vec<Src>,
    /// Where `*` shows it: (source, column name).
    anchor: (usize, String),
    /// Columns `*` leaves out because the merged column stands for them.
    hidden: Vec<(usize, String)>,
}

struct Scope<'a, 'p> {
    sources: Vec<Source<'a>>,
    using: Vec<UsingCol>,
    parent: Option<&'p Scope<'a, 'p>>,
}

impl<'a, 'p> Scope<'a, 'p> {
    fn new(parent: Option<&'p Scope<'a, 'p>>) -> Self {
        Scope {
            sources: Vec::new(),
            using: Vec::new(),
            parent,
        }
    }
}

#[derive(Clone)]
enum CteState {
    Pending,
    Running(Option<Rc<Relation>>),
    Done(Rc<Relation>, Rc<[Src]>),
}

struct CteDef<'a> {
    cte: &'a Cte,
    name: String,
    state: RefCell<CteState>,
}

struct CteEnv<'a, 'p> {
    defs: Vec<CteDef<'a>>,
    recursive: bool,
    parent: Option<CteView<'a, 'p>>,
    outer: Option<&'p Scope<'a, 'p>>,
}

/// The CTEs visible at a point: the first `limit` of `env`, then its parents.
#[derive(Clone, Copy)]
struct CteView<'a, 'p> {
    env: &'p CteEnv<'a, 'p>,
    limit: usize,
}

#[derive(Clone, Copy)]
struct Env<'a, 'p> {
    scope: Option<&'p Scope<'a, 'p>>,
    ctes: Option<CteView<'a, 'p>>,
}

impl Env<'_, '_> {
    fn root() -> Self {
        Env {
            scope: None,
            ctes: None,
        }
    }
}

/// The context of an expression.
#[derive(Clone, Copy)]
struct ECx<'a, 'p, 'x> {
    env: Env<'a, 'p>,
    /// Select-list outputs that an unqualified name may refer to.
    aliases: &'x [OutCol],
    /// Output aliases win over input columns (ORDER BY).
    alias_first: bool,
    windows: &'a [NamedWindowDefinition],
}

impl<'a, 'p> ECx<'a, 'p, 'static> {
    fn new(env: Env<'a, 'p>) -> Self {
        ECx {
            env,
            aliases: &[],
            alias_first: false,
            windows: &[],
        }
    }
}

// ---------------------------------------------------------------- analyzer

type Created = Option<(Vec<String>, Vec<Column>)>;

struct StmtOut {
    target: Option<String>,
    kind: &'static str,
    cols: Vec<OutCol>,
    created: Created,
}

struct Analyzer<'a> {
    schema: &'a Schema,
    overlay: &'a Schema,
    opts: &'a Options,
    rules: CaseRules,
    span: Span,
    names: Vec<ColName<'a>>,
    schema_ids: HashMap<u64, u32>,
    named_ids: HashMap<String, u32>,
    dataset: Vec<Src>,
    warnings: Vec<Warning>,
    depth: u32,
    depth_warned: bool,
    /// Set when the current expression is too deep or long to render.
    display_risk: bool,
    lambda: Vec<String>,
    /// The next derived table is LATERAL (CROSS / OUTER APPLY).
    lateral_next: bool,
}

/// Analyses one parsed statement. Returns its lineage and, for statements
/// that create a table or view, the new relation's name parts and columns.
pub(crate) fn analyze_statement(
    stmt: &Statement,
    schema: &Schema,
    overlay: &Schema,
    options: &Options,
    span: Span,
    text: &str,
) -> (StatementLineage, Created) {
    let mut an = Analyzer {
        schema,
        overlay,
        opts: options,
        rules: options.dialect.rules(),
        span,
        names: Vec::new(),
        schema_ids: HashMap::new(),
        named_ids: HashMap::new(),
        dataset: Vec::new(),
        warnings: Vec::new(),
        depth: 0,
        depth_warned: false,
        display_risk: false,
        lambda: Vec::new(),
        lateral_next: false,
    };
    let out = an.statement(stmt);
    an.finish(out, text)
}

fn loc(id: &Ident) -> Option<Location> {
    Some(id.span.start)
}

fn last_ident(name: &ObjectName) -> Option<&Ident> {
    name.0.last().and_then(|p| p.as_ident())
}

fn idents(name: &ObjectName) -> Vec<&Ident> {
    name.0.iter().filter_map(|p| p.as_ident()).collect()
}

fn ordinal(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n.parse::<usize>().ok(),
            _ => None,
        },
        _ => None,
    }
}

fn is_quoted(id: &Ident) -> bool {
    id.quote_style.is_some()
}

/// Unquoted words that are not columns when nothing else matches them:
/// date parts used as function arguments and niladic pseudo-columns.
fn is_keyword_like(id: &Ident) -> bool {
    if is_quoted(id) {
        return false;
    }
    const WORDS: &[&str] = &[
        "current_date",
        "current_time",
        "current_timestamp",
        "localtime",
        "localtimestamp",
        "current_user",
        "session_user",
        "current_role",
        "current_schema",
        "current_catalog",
        "user",
        "sysdate",
        "systimestamp",
        "rownum",
        "level",
        "null",
        "true",
        "false",
        "year",
        "years",
        "quarter",
        "month",
        "months",
        "week",
        "weeks",
        "isoweek",
        "isoyear",
        "day",
        "days",
        "dayofweek",
        "dayofyear",
        "dow",
        "doy",
        "weekday",
        "hour",
        "hours",
        "minute",
        "minutes",
        "second",
        "seconds",
        "millisecond",
        "milliseconds",
        "microsecond",
        "microseconds",
        "nanosecond",
        "epoch",
        "decade",
        "century",
        "millennium",
        "date",
        "time",
        "datetime",
        "timestamp",
        "yy",
        "yyyy",
        "mm",
        "dd",
        "hh",
        "mi",
        "ss",
        "ms",
    ];
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(&id.value))
}

fn is_aggregate(name: &str) -> bool {
    const AGG: &[&str] = &[
        "any_value",
        "approx_count_distinct",
        "approx_distinct",
        "approx_percentile",
        "approx_quantiles",
        "approx_top_count",
        "approx_top_k",
        "arbitrary",
        "arg_max",
        "arg_min",
        "argmax",
        "argmin",
        "array_agg",
        "array_concat_agg",
        "array_union_agg",
        "array_unique_agg",
        "avg",
        "bit_and",
        "bit_or",
        "bit_xor",
        "bitand_agg",
        "bitor_agg",
        "bitxor_agg",
        "bool_and",
        "bool_or",
        "booland_agg",
        "boolor_agg",
        "checksum_agg",
        "collect_list",
        "collect_set",
        "corr",
        "count",
        "count_big",
        "count_if",
        "countif",
        "covar_pop",
        "covar_samp",
        "every",
        "first",
        "group_concat",
        "grouping",
        "grouping_id",
        "histogram",
        "hll",
        "json_agg",
        "json_arrayagg",
        "json_object_agg",
        "json_objectagg",
        "jsonb_agg",
        "jsonb_object_agg",
        "kurtosis",
        "last",
        "list",
        "listagg",
        "logical_and",
        "logical_or",
        "max",
        "max_by",
        "median",
        "min",
        "min_by",
        "mode",
        "object_agg",
        "percentile",
        "percentile_approx",
        "percentile_cont",
        "percentile_disc",
        "product",
        "regr_avgx",
        "regr_avgy",
        "regr_count",
        "regr_intercept",
        "regr_r2",
        "regr_slope",
        "regr_sxx",
        "regr_sxy",
        "regr_syy",
        "skewness",
        "stddev",
        "stddev_pop",
        "stddev_samp",
        "stdev",
        "stdevp",
        "string_agg",
        "sum",
        "var",
        "var_pop",
        "var_samp",
        "variance",
        "varp",
        "xmlagg",
    ];
    AGG.iter().any(|a| a.eq_ignore_ascii_case(name))
}

impl<'a> Analyzer<'a> {
    // ------------------------------------------------------------ helpers

    /// Renames a query's output columns by an explicit column list (CREATE TABLE t (a, b) AS,
    /// CREATE VIEW v (a, b) AS), warning when the counts differ.
    fn rename_outputs(&mut self, cols: &mut [OutCol], names: &[&Ident], what: &str) {
        let Some(first) = names.first() else { return };
        if names.len() != cols.len() {
            self.warn(
                format!(
                    "{what} lists {} columns but its query produces {}",
                    names.len(),
                    cols.len()
                ),
                loc(first),
            );
        }
        for (c, d) in cols.iter_mut().zip(names) {
            c.name = self.norm(d);
        }
    }

    fn warn(&mut self, message: String, at: Option<Location>) {
        let (line, column) = match at {
            Some(l) if l.line > 0 => {
                let (line, column) = crate::shift(self.span, l.line, l.column);
                (Some(line), Some(column))
            }
            _ => (None, None),
        };
        self.warnings.push(Warning {
            message,
            line,
            column,
        });
    }

    fn enter(&mut self) -> bool {
        if self.depth >= MAX_DEPTH {
            self.display_risk = true;
            if !self.depth_warned {
                self.depth_warned = true;
                self.warn(
                    format!(
                        "the statement nests deeper than {MAX_DEPTH} levels; lineage below that depth is left out"
                    ),
                    None,
                );
            }
            return false;
        }
        self.depth += 1;
        true
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn norm(&self, id: &Ident) -> String {
        self.rules.normalize(&id.value, is_quoted(id))
    }

    fn intern_table_col(&mut self, t: &'a Table, key: u64, col: u32) -> u32 {
        let names = &mut self.names;
        *self
            .schema_ids
            .entry(key | u64::from(col))
            .or_insert_with(|| {
                names.push(ColName::Schema(t, col));
                (names.len() - 1) as u32
            })
    }

    fn intern_named(&mut self, table: &Rc<str>, col: &str) -> u32 {
        let key = format!("{table}\u{0}{col}");
        let names = &mut self.names;
        *self.named_ids.entry(key).or_insert_with(|| {
            names.push(ColName::Named(table.clone(), col.to_string()));
            (names.len() - 1) as u32
        })
    }

    fn expr_text(&self, e: &Expr) -> Option<String> {
        (!self.display_risk).then(|| e.to_string())
    }

    /// Walks `e` into `sink` and renders it, unless something under it is
    /// too deep or too long to render. A risk found under `e` also stops the
    /// expressions around it from being rendered.
    fn walk_and_render(
        &mut self,
        e: &'a Expr,
        cx: &ECx<'a, '_, '_>,
        tx: Tx,
        sink: &mut Vec<Src>,
    ) -> Option<String> {
        let saved = std::mem::take(&mut self.display_risk);
        self.expr(e, cx, tx, sink);
        let text = self.expr_text(e);
        self.display_risk |= saved;
        text
    }

    /// Looks a table name up, first among the tables created earlier in the
    /// input, then in the schema. The u8 tells which (for interning keys).
    fn lookup_table(&self, parts: &[(&str, bool)]) -> (Lookup<'a>, u8) {
        let db = self.opts.default_database.as_deref();
        let sc = self.opts.default_schema.as_deref();
        match self.overlay.lookup(parts, &self.rules, db, sc) {
            Lookup::NotFound => (self.schema.lookup(parts, &self.rules, db, sc), 0),
            found => (found, 1),
        }
    }

    /// The reported name of a table that is not in the schema: the parts as
    /// the dialect folds them, completed with the default schema/database.
    fn qualify_unknown(&self, parts: &[(&str, bool)]) -> Vec<String> {
        let mut out: Vec<String> = parts
            .iter()
            .map(|(v, q)| self.rules.normalize(v, *q))
            .collect();
        if out.len() == 1
            && let Some(s) = &self.opts.default_schema
        {
            out.insert(0, s.clone());
        }
        if out.len() == 2
            && let Some(d) = &self.opts.default_database
        {
            out.insert(0, d.clone());
        }
        out
    }

    /// The target of a write: its schema name when known, else the folded,
    /// default-qualified name. Also returns the schema table when known.
    fn target_name(&self, name: &ObjectName) -> (String, Vec<String>, Option<&'a Table>) {
        let ids = idents(name);
        let parts: Vec<(&str, bool)> = ids
            .iter()
            .map(|i| (i.value.as_str(), is_quoted(i)))
            .collect();
        match self.lookup_table(&parts) {
            (Lookup::Found(_, t), _) => (t.name().to_string(), t.parts().to_vec(), Some(t)),
            _ => {
                let q = self.qualify_unknown(&parts);
                (q.join("."), q, None)
            }
        }
    }

    // ------------------------------------------------------------ resolution

    fn find_in_source(&self, src: &Source<'a>, id: &Ident) -> Option<Hit> {
        let q = is_quoted(id);
        match &src.cols {
            Cols::Table { t, .. } => t.find_column(&id.value, q, &self.rules).map(Hit::Table),
            Cols::Rel(r) => r.find(&id.value, q, &self.rules).map(Hit::Rel),
            Cols::Open { known, .. } => known.find(&id.value, q, &self.rules).map(Hit::Known),
        }
    }

    fn hit_name(src: &Source<'a>, hit: &Hit) -> String {
        match (hit, &src.cols) {
            (Hit::Table(i), Cols::Table { t, .. }) => t.columns()[*i as usize].name.clone(),
            (Hit::Rel(i), Cols::Rel(r)) => r.cols[*i as usize].name.clone(),
            (Hit::Known(i), Cols::Open { known, .. }) => known.cols[*i as usize].name.clone(),
            (Hit::Open(n), _) => n.clone(),
            _ => String::new(),
        }
    }

    fn push_hit(&mut self, src: &Source<'a>, hit: &Hit, tx: Tx, sink: &mut Vec<Src>) {
        match (hit, &src.cols) {
            (Hit::Table(i), Cols::Table { t, key }) => {
                let col = self.intern_table_col(t, *key, *i);
                sink.push(Src {
                    col,
                    tx: tx.compose(Tx::Identity),
                });
            }
            (Hit::Rel(i), Cols::Rel(r)) => push_composed(sink, &r.cols[*i as usize].srcs, tx),
            (Hit::Known(i), Cols::Open { known, .. }) => {
                push_composed(sink, &known.cols[*i as usize].srcs, tx)
            }
            (
                Hit::Open(name),
                Cols::Open {
                    table: Some(tn), ..
                },
            ) => {
                let col = self.intern_named(tn, name);
                sink.push(Src {
                    col,
                    tx: tx.compose(Tx::Identity),
                });
            }
            (
                Hit::Open(_),
                Cols::Open {
                    table: None, args, ..
                },
            ) => push_composed(sink, args, tx),
            _ => {}
        }
    }

    fn qual_matches(&self, src: &Source<'a>, qual: &[Ident]) -> bool {
        if qual.is_empty() || src.qual.is_empty() {
            return false;
        }
        if src.aliased {
            return qual.len() == 1
                && self
                    .rules
                    .matches(&qual[0].value, is_quoted(&qual[0]), &src.qual[0]);
        }
        qual.len() <= src.qual.len()
            && qual
                .iter()
                .rev()
                .zip(src.qual.iter().rev())
                .all(|(i, p)| self.rules.matches_table(&i.value, is_quoted(i), p))
    }

    fn find_alias<'x>(&self, aliases: &'x [OutCol], id: &Ident) -> Option<&'x OutCol> {
        aliases
            .iter()
            .find(|c| self.rules.matches(&id.value, is_quoted(id), &c.name))
    }

    /// Resolves an unqualified column name (with `fields` when struct fields
    /// follow it). Returns whether it resolved; warns unless `quiet`.
    #[allow(clippy::too_many_arguments)]
    fn unqualified(
        &mut self,
        id: &Ident,
        fields: bool,
        cx: &ECx<'a, '_, '_>,
        tx: Tx,
        sink: &mut Vec<Src>,
        mut name_out: Option<&mut String>,
        quiet: bool,
        allow_open: bool,
    ) -> bool {
        let tx = if fields { tx.bump() } else { tx };
        let q = is_quoted(id);
        if !q && self.lambda.iter().any(|p| eq_ci(p, &id.value)) {
            return true;
        }
        if cx.alias_first
            && let Some(c) = self.find_alias(cx.aliases, id)
        {
            push_composed(sink, &c.srcs, tx);
            if let Some(n) = name_out.as_deref_mut() {
                *n = c.name.clone();
            }
            return true;
        }
        let mut scope = cx.env.scope;
        let mut level = 0;
        while let Some(s) = scope {
            if let Some(u) = s
                .using
                .iter()
                .find(|u| self.rules.matches(&id.value, q, &u.name))
            {
                push_composed(sink, &u.srcs, tx);
                if let Some(n) = name_out.as_deref_mut() {
                    *n = u.name.clone();
                }
                // Another FROM item outside the join may have it too.
                let mut others: Vec<String> = Vec::new();
                for (i, src) in s.sources.iter().enumerate() {
                    if u.anchor.0 == i || u.hidden.iter().any(|(h, _)| *h == i) {
                        continue;
                    }
                    if let Some(h) = self.find_in_source(src, id) {
                        others.push(format!(
                            "{}.{} ({})",
                            src.label(),
                            Self::hit_name(src, &h),
                            src.origin
                        ));
                        self.push_hit(src, &h, tx, sink);
                    }
                }
                if !others.is_empty() && !quiet {
                    self.warn(
                        format!(
                            "ambiguous column \"{}\": candidates {} (USING), {}",
                            id.value,
                            u.name,
                            others.join(", ")
                        ),
                        loc(id),
                    );
                }
                return true;
            }
            let mut first: Option<(usize, Hit)> = None;
            let mut count = 0;
            for (i, src) in s.sources.iter().enumerate() {
                if let Some(h) = self.find_in_source(src, id) {
                    count += 1;
                    if first.is_none() {
                        first = Some((i, h));
                    }
                }
            }
            if let Some((i, h)) = first {
                if count > 1 {
                    let mut cands = Vec::new();
                    for (j, src) in s.sources.iter().enumerate() {
                        if let Some(h2) = self.find_in_source(src, id) {
                            cands.push(format!(
                                "{}{} ({})",
                                if src.label().is_empty() {
                                    String::new()
                                } else {
                                    format!("{}.", src.label())
                                },
                                Self::hit_name(src, &h2),
                                src.origin
                            ));
                            if j != i {
                                self.push_hit(src, &h2, tx, sink);
                            }
                        }
                    }
                    if !quiet {
                        self.warn(
                            format!(
                                "ambiguous column \"{}\": candidates {}",
                                id.value,
                                cands.join(", ")
                            ),
                            loc(id),
                        );
                    }
                }
                let src = &s.sources[i];
                self.push_hit(src, &h, tx, sink);
                if let Some(n) = name_out.as_deref_mut() {
                    *n = Self::hit_name(src, &h);
                }
                return true;
            }
            // Not in a known column list: an unknown table or a table
            // function of this scope may have it.
            let mut opens = s
                .sources
                .iter()
                .filter(|s| allow_open && s.accepts_unknown());
            if let Some(only) = opens.next() {
                if opens.next().is_none() {
                    let name = self.norm(id);
                    let hit = Hit::Open(name.clone());
                    self.push_hit(only, &hit, tx, sink);
                    if let Some(n) = name_out.as_deref_mut() {
                        *n = name;
                    }
                } else if !quiet {
                    let list: Vec<&str> = s
                        .sources
                        .iter()
                        .filter(|s| s.accepts_unknown())
                        .map(|s| s.origin.as_str())
                        .collect();
                    self.warn(
                        format!(
                            "column \"{}\" cannot be placed: it may come from any of {}",
                            id.value,
                            list.join(", ")
                        ),
                        loc(id),
                    );
                }
                return true;
            }
            if level == 0
                && !cx.alias_first
                && let Some(c) = self.find_alias(cx.aliases, id)
            {
                push_composed(sink, &c.srcs, tx);
                if let Some(n) = name_out.as_deref_mut() {
                    *n = c.name.clone();
                }
                return true;
            }
            scope = s.parent;
            level += 1;
        }
        if cx.env.scope.is_none()
            && !cx.alias_first
            && let Some(c) = self.find_alias(cx.aliases, id)
        {
            push_composed(sink, &c.srcs, tx);
            return true;
        }
        if quiet {
            return false;
        }
        // A whole-row reference (`SELECT t FROM t`).
        let mut scope = cx.env.scope;
        while let Some(s) = scope {
            if let Some(src) = s
                .sources
                .iter()
                .find(|src| self.qual_matches(src, std::slice::from_ref(id)))
            {
                if let Some(cols) = self.source_columns(src, None) {
                    for c in cols {
                        push_composed(sink, &c.srcs, tx.bump());
                    }
                }
                return true;
            }
            scope = s.parent;
        }
        if is_keyword_like(id) {
            return true;
        }
        let looked: Vec<&str> = cx
            .env
            .scope
            .map(|s| s.sources.iter().map(|src| src.origin.as_str()).collect())
            .unwrap_or_default();
        let msg = if looked.is_empty() {
            format!(
                "unknown column \"{}\": there is no table in scope",
                id.value
            )
        } else {
            format!(
                "unknown column \"{}\": not in {}",
                id.value,
                looked.join(", ")
            )
        };
        self.warn(msg, loc(id));
        false
    }

    /// Resolves `q.col`, `s.t.col`, `db.s.t.col`, or `col.field…`.
    fn qualified(
        &mut self,
        ids: &[Ident],
        cx: &ECx<'a, '_, '_>,
        tx: Tx,
        sink: &mut Vec<Src>,
        mut name_out: Option<&mut String>,
    ) {
        let mut scope = cx.env.scope;
        while let Some(s) = scope {
            for k in (1..=ids.len().saturating_sub(1).min(3)).rev() {
                let qual = &ids[..k];
                let Some(si) = s
                    .sources
                    .iter()
                    .position(|src| self.qual_matches(src, qual))
                else {
                    continue;
                };
                let src = &s.sources[si];
                let col = &ids[k];
                let fields = k + 1 < ids.len();
                let tx2 = if fields { tx.bump() } else { tx };
                let hit = match self.find_in_source(src, col) {
                    Some(h) => Some(h),
                    None if src.accepts_unknown() => Some(Hit::Open(self.norm(col))),
                    None => None,
                };
                match hit {
                    Some(h) => {
                        self.push_hit(src, &h, tx2, sink);
                        if let Some(n) = name_out.as_deref_mut() {
                            *n = match ids.last() {
                                Some(last) if fields => self.norm(last),
                                _ => Self::hit_name(src, &h),
                            };
                        }
                    }
                    None => {
                        let written: Vec<&str> =
                            ids[..=k].iter().map(|i| i.value.as_str()).collect();
                        let origin = src.origin.clone();
                        self.warn(
                            format!(
                                "unknown column \"{}\": {} has no column \"{}\"",
                                written.join("."),
                                origin,
                                col.value
                            ),
                            loc(col),
                        );
                    }
                }
                return;
            }
            scope = s.parent;
        }
        // `col.field`: a struct field of an unqualified column.
        if self.unqualified(
            &ids[0],
            true,
            cx,
            tx,
            sink,
            name_out.as_deref_mut(),
            true,
            false,
        ) {
            if let (Some(n), Some(last)) = (name_out, ids.last()) {
                *n = self.norm(last);
            }
            return;
        }
        let written: Vec<&str> = ids.iter().map(|i| i.value.as_str()).collect();
        self.warn(
            format!(
                "unknown column \"{}\": no table or alias \"{}\" in scope",
                written.join("."),
                ids[0].value
            ),
            loc(&ids[0]),
        );
    }

    fn column_ref(
        &mut self,
        ids: &[Ident],
        cx: &ECx<'a, '_, '_>,
        tx: Tx,
        sink: &mut Vec<Src>,
        name_out: Option<&mut String>,
    ) {
        match ids {
            [] => {}
            [one] => {
                self.unqualified(one, false, cx, tx, sink, name_out, false, true);
            }
            _ => self.qualified(ids, cx, tx, sink, name_out),
        }
    }

    /// The columns of a source in order, or `None` when they are unknown.
    fn source_columns(&mut self, src: &Source<'a>, at: Option<Location>) -> Option<Vec<OutCol>> {
        match &src.cols {
            Cols::Table { t, key } => {
                let mut out = Vec::with_capacity(t.columns().len());
                for (i, c) in t.columns().iter().enumerate() {
                    let col = self.intern_table_col(t, *key, i as u32);
                    out.push(OutCol {
                        name: c.name.clone(),
                        srcs: vec![Src {
                            col,
                            tx: Tx::Identity,
                        }],
                        expr: None,
                    });
                }
                Some(out)
            }
            Cols::Rel(r) => Some(
                r.cols
                    .iter()
                    .map(|c| OutCol {
                        name: c.name.clone(),
                        srcs: c.srcs.clone(),
                        expr: None,
                    })
                    .collect(),
            ),
            Cols::Open { known, .. } => {
                if known.cols.is_empty() {
                    let origin = src.origin.clone();
                    if at.is_some() {
                        self.warn(
                            format!("cannot expand * over {origin}: its columns are unknown"),
                            at,
                        );
                    }
                    return None;
                }
                Some(
                    known
                        .cols
                        .iter()
                        .map(|c| OutCol {
                            name: c.name.clone(),
                            srcs: c.srcs.clone(),
                            expr: None,
                        })
                        .collect(),
                )
            }
        }
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self, e: &'a Expr, cx: &ECx<'a, '_, '_>, tx: Tx, sink: &mut Vec<Src>) {
        if !self.enter() {
            return;
        }
        self.expr_inner(e, cx, tx, sink);
        self.leave();
    }

    fn exprs(&mut self, es: &'a [Expr], cx: &ECx<'a, '_, '_>, tx: Tx, sink: &mut Vec<Src>) {
        for e in es {
            self.expr(e, cx, tx, sink);
        }
    }

    fn subquery_values(&mut self, q: &'a Query, cx: &ECx<'a, '_, '_>, tx: Tx, sink: &mut Vec<Src>) {
        let rel = self.query(q, cx.env);
        for c in &rel.cols {
            push_composed(sink, &c.srcs, tx);
        }
    }

    fn expr_inner(&mut self, e: &'a Expr, cx: &ECx<'a, '_, '_>, tx: Tx, sink: &mut Vec<Src>) {
        // Walk down the left spine iteratively: sqlparser builds left-deep
        // trees for `a OR b OR …`, `x::t::t…`, `x IS NULL IS NULL…` without
        // limit, and recursing down them could exhaust the stack.
        let mut cur = e;
        let mut tx = tx;
        let mut len = 0usize;
        loop {
            let t = tx.bump();
            let next: Option<&'a Expr> = match cur {
                Expr::BinaryOp { left, right, .. } => {
                    self.expr(right, cx, t, sink);
                    Some(left)
                }
                Expr::IsFalse(x)
                | Expr::IsNotFalse(x)
                | Expr::IsTrue(x)
                | Expr::IsNotTrue(x)
                | Expr::IsNull(x)
                | Expr::IsNotNull(x)
                | Expr::IsUnknown(x)
                | Expr::IsNotUnknown(x)
                | Expr::Cast { expr: x, .. }
                | Expr::Collate { expr: x, .. }
                | Expr::UnaryOp { expr: x, .. }
                | Expr::IsNormalized { expr: x, .. } => Some(x),
                Expr::AtTimeZone {
                    timestamp,
                    time_zone,
                } => {
                    self.expr(time_zone, cx, t, sink);
                    Some(timestamp)
                }
                Expr::Like { expr, pattern, .. }
                | Expr::ILike { expr, pattern, .. }
                | Expr::SimilarTo { expr, pattern, .. }
                | Expr::RLike { expr, pattern, .. } => {
                    self.expr(pattern, cx, t, sink);
                    Some(expr)
                }
                Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
                    self.expr(b, cx, t, sink);
                    Some(a)
                }
                Expr::InList { expr, list, .. } => {
                    self.exprs(list, cx, t, sink);
                    Some(expr)
                }
                Expr::InSubquery { expr, subquery, .. } => {
                    self.subquery_values(subquery, cx, t, sink);
                    Some(expr)
                }
                Expr::InUnnest {
                    expr, array_expr, ..
                } => {
                    self.expr(array_expr, cx, t, sink);
                    Some(expr)
                }
                Expr::Between {
                    expr, low, high, ..
                } => {
                    self.expr(low, cx, t, sink);
                    self.expr(high, cx, t, sink);
                    Some(expr)
                }
                Expr::AnyOp { left, right, .. } | Expr::AllOp { left, right, .. } => {
                    self.expr(right, cx, t, sink);
                    Some(left)
                }
                Expr::MemberOf(m) => {
                    self.expr(&m.array, cx, t, sink);
                    Some(&m.value)
                }
                Expr::CompoundFieldAccess { root, access_chain } => {
                    // `t.col[1]`, `col.field[0]`: a (qualified) column name
                    // followed by subscripts.
                    let mut path: Vec<Ident> = match &**root {
                        Expr::Identifier(i) => vec![i.clone()],
                        Expr::CompoundIdentifier(ids) => ids.clone(),
                        _ => Vec::new(),
                    };
                    let mut rest = &access_chain[..];
                    if !path.is_empty() {
                        while let [AccessExpr::Dot(Expr::Identifier(i)), tail @ ..] = rest {
                            path.push(i.clone());
                            rest = tail;
                        }
                    }
                    for a in rest {
                        match a {
                            AccessExpr::Dot(inner) => {
                                // A field name, unless it is a call.
                                if !matches!(
                                    inner,
                                    Expr::Identifier(_) | Expr::CompoundIdentifier(_)
                                ) {
                                    self.expr(inner, cx, t, sink);
                                }
                            }
                            AccessExpr::Subscript(Subscript::Index { index }) => {
                                self.expr(index, cx, t, sink)
                            }
                            AccessExpr::Subscript(Subscript::Slice {
                                lower_bound,
                                upper_bound,
                                stride,
                            }) => {
                                for b in [lower_bound, upper_bound, stride].into_iter().flatten() {
                                    self.expr(b, cx, t, sink);
                                }
                            }
                        }
                    }
                    if path.is_empty() {
                        Some(root)
                    } else {
                        let ctx = if rest.is_empty() { tx } else { t };
                        self.column_ref(&path, cx, ctx, sink, None);
                        if len > MAX_RENDERED_CHAIN {
                            self.display_risk = true;
                        }
                        return;
                    }
                }
                Expr::JsonAccess { value, path } => {
                    for p in &path.path {
                        match p {
                            JsonPathElem::Bracket { key } | JsonPathElem::ColonBracket { key } => {
                                self.expr(key, cx, t, sink)
                            }
                            JsonPathElem::Dot { .. } => {}
                        }
                    }
                    Some(value)
                }
                _ => None,
            };
            match next {
                Some(n) => {
                    cur = n;
                    tx = t;
                    len += 1;
                }
                None => break,
            }
        }
        if len > MAX_RENDERED_CHAIN {
            self.display_risk = true;
        }
        self.expr_leaf(cur, cx, tx, sink);
    }

    /// The expressions that are not links of a left spine.
    fn expr_leaf(&mut self, e: &'a Expr, cx: &ECx<'a, '_, '_>, tx: Tx, sink: &mut Vec<Src>) {
        let t = tx.bump();
        match e {
            Expr::Identifier(id) => self.column_ref(std::slice::from_ref(id), cx, tx, sink, None),
            Expr::CompoundIdentifier(ids) => self.column_ref(ids, cx, tx, sink, None),
            Expr::OuterJoin(x) | Expr::Prior(x) => self.expr(x, cx, t, sink),
            Expr::Convert { expr, styles, .. } => {
                self.expr(expr, cx, t, sink);
                self.exprs(styles, cx, t, sink);
            }
            Expr::Extract { expr, .. } => self.expr(expr, cx, t, sink),
            Expr::Ceil { expr, .. } | Expr::Floor { expr, .. } => self.expr(expr, cx, t, sink),
            Expr::Position { expr, r#in } => {
                self.expr(expr, cx, t, sink);
                self.expr(r#in, cx, t, sink);
            }
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                self.expr(expr, cx, t, sink);
                for x in [substring_from, substring_for].into_iter().flatten() {
                    self.expr(x, cx, t, sink);
                }
            }
            Expr::Trim {
                expr,
                trim_what,
                trim_characters,
                ..
            } => {
                self.expr(expr, cx, t, sink);
                if let Some(w) = trim_what {
                    self.expr(w, cx, t, sink);
                }
                if let Some(cs) = trim_characters {
                    self.exprs(cs, cx, t, sink);
                }
            }
            Expr::Overlay {
                expr,
                overlay_what,
                overlay_from,
                overlay_for,
            } => {
                self.expr(expr, cx, t, sink);
                self.expr(overlay_what, cx, t, sink);
                self.expr(overlay_from, cx, t, sink);
                if let Some(f) = overlay_for {
                    self.expr(f, cx, t, sink);
                }
            }
            Expr::Nested(x) => self.expr(x, cx, tx, sink),
            Expr::Value(_) | Expr::TypedString(_) => {}
            Expr::Prefixed { value, .. } => self.expr(value, cx, t, sink),
            Expr::Function(f) => self.function(f, cx, tx, sink),
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                let cond = tx.indirect(Tx::Conditional);
                if let Some(op) = operand {
                    self.expr(op, cx, cond, sink);
                }
                for w in conditions {
                    self.expr(&w.condition, cx, cond, sink);
                    self.expr(&w.result, cx, t, sink);
                }
                if let Some(x) = else_result {
                    self.expr(x, cx, t, sink);
                }
            }
            Expr::Exists { subquery, .. } => {
                // Only its filters matter; they land in the dataset sources.
                let _ = self.query(subquery, cx.env);
            }
            Expr::Subquery(q) => self.subquery_values(q, cx, tx, sink),
            Expr::GroupingSets(sets) | Expr::Cube(sets) | Expr::Rollup(sets) => {
                for set in sets {
                    self.exprs(set, cx, tx, sink);
                }
            }
            Expr::Tuple(xs) => self.exprs(xs, cx, t, sink),
            Expr::Struct { values, .. } => self.exprs(values, cx, t, sink),
            Expr::Named { expr, .. } => self.expr(expr, cx, tx, sink),
            Expr::Dictionary(fields) => {
                for f in fields {
                    self.expr(&f.value, cx, t, sink);
                }
            }
            Expr::Map(m) => {
                for en in &m.entries {
                    self.expr(&en.key, cx, t, sink);
                    self.expr(&en.value, cx, t, sink);
                }
            }
            Expr::Array(a) => self.exprs(&a.elem, cx, t, sink),
            Expr::Interval(i) => self.expr(&i.value, cx, t, sink),
            Expr::MatchAgainst { columns, .. } => {
                for c in columns {
                    let ids: Vec<Ident> = idents(c).into_iter().cloned().collect();
                    self.column_ref(&ids, cx, t, sink, None);
                }
            }
            Expr::Wildcard(_) | Expr::QualifiedWildcard(..) => {}
            Expr::Lambda(l) => {
                let n = self.lambda.len();
                for p in l.params.iter() {
                    self.lambda.push(p.name.value.clone());
                }
                self.expr(&l.body, cx, t, sink);
                self.lambda.truncate(n);
            }
            // Links of a left spine, handled by `expr_inner`.
            Expr::BinaryOp { .. }
            | Expr::IsFalse(_)
            | Expr::IsNotFalse(_)
            | Expr::IsTrue(_)
            | Expr::IsNotTrue(_)
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsUnknown(_)
            | Expr::IsNotUnknown(_)
            | Expr::Cast { .. }
            | Expr::Collate { .. }
            | Expr::UnaryOp { .. }
            | Expr::IsNormalized { .. }
            | Expr::AtTimeZone { .. }
            | Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::SimilarTo { .. }
            | Expr::RLike { .. }
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::InList { .. }
            | Expr::InSubquery { .. }
            | Expr::InUnnest { .. }
            | Expr::Between { .. }
            | Expr::AnyOp { .. }
            | Expr::AllOp { .. }
            | Expr::MemberOf(_)
            | Expr::CompoundFieldAccess { .. }
            | Expr::JsonAccess { .. } => self.expr_inner(e, cx, tx, sink),
        }
    }

    fn function(&mut self, f: &'a Function, cx: &ECx<'a, '_, '_>, tx: Tx, sink: &mut Vec<Src>) {
        let name = last_ident(&f.name).map(|i| i.value.as_str()).unwrap_or("");
        let distinct = matches!(&f.args, FunctionArguments::List(l)
            if matches!(l.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct)));
        let aggregate =
            is_aggregate(name) || f.filter.is_some() || !f.within_group.is_empty() || distinct;
        let arg_tx = if aggregate { tx.agg() } else { tx.bump() };
        let is_count = name.eq_ignore_ascii_case("count");
        let conditional_first = name.eq_ignore_ascii_case("if") || name.eq_ignore_ascii_case("iif");

        if let FunctionArguments::List(l) = &f.parameters {
            for a in &l.args {
                self.function_arg(a, cx, tx.bump(), sink, false);
            }
        }
        match &f.args {
            FunctionArguments::None => {}
            FunctionArguments::Subquery(q) => self.subquery_values(q, cx, arg_tx, sink),
            FunctionArguments::List(l) => {
                for (i, a) in l.args.iter().enumerate() {
                    let atx = if conditional_first && i == 0 {
                        tx.indirect(Tx::Conditional)
                    } else {
                        arg_tx
                    };
                    self.function_arg(a, cx, atx, sink, is_count);
                }
                for c in &l.clauses {
                    match c {
                        FunctionArgumentClause::OrderBy(obs) => {
                            for o in obs {
                                self.expr(&o.expr, cx, tx.indirect(Tx::Sort), sink);
                            }
                        }
                        FunctionArgumentClause::Having(h) => {
                            self.expr(&h.1, cx, tx.indirect(Tx::Conditional), sink)
                        }
                        _ => {}
                    }
                }
            }
        }
        if let Some(filter) = &f.filter {
            self.expr(filter, cx, tx.indirect(Tx::Filter), sink);
        }
        // Ordered-set aggregates (`percentile_cont(0.5) WITHIN GROUP (ORDER
        // BY x)`) aggregate the ordering column itself; for the others
        // (`listagg(x, ',') WITHIN GROUP (ORDER BY y)`) it only sorts.
        let ordered_set = [
            "percentile_cont",
            "percentile_disc",
            "percentile",
            "mode",
            "median",
            "approx_percentile",
            "rank",
            "dense_rank",
            "percent_rank",
            "cume_dist",
        ]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name));
        let within_tx = if ordered_set {
            tx.agg()
        } else {
            tx.indirect(Tx::Sort)
        };
        for o in &f.within_group {
            self.expr(&o.expr, cx, within_tx, sink);
        }
        if let Some(w) = &f.over {
            let wtx = tx.indirect(Tx::Window);
            match w {
                WindowType::WindowSpec(spec) => self.window_spec(spec, cx, wtx, sink, 0),
                WindowType::NamedWindow(n) => self.named_window(n, cx, wtx, sink, 0),
            }
        }
    }

    fn function_arg(
        &mut self,
        a: &'a FunctionArg,
        cx: &ECx<'a, '_, '_>,
        tx: Tx,
        sink: &mut Vec<Src>,
        is_count: bool,
    ) {
        let arg = match a {
            FunctionArg::Named { arg, .. } | FunctionArg::ExprNamed { arg, .. } => arg,
            FunctionArg::Unnamed(arg) => arg,
        };
        match arg {
            FunctionArgExpr::Expr(e) => self.expr(e, cx, tx, sink),
            FunctionArgExpr::QualifiedWildcard(name) if !is_count => {
                let ids: Vec<Ident> = idents(name).into_iter().cloned().collect();
                self.whole_rows(Some(&ids), cx, tx, sink);
            }
            FunctionArgExpr::Wildcard | FunctionArgExpr::WildcardWithOptions(_) if !is_count => {
                self.whole_rows(None, cx, tx, sink);
            }
            _ => {}
        }
    }

    /// `f(t.*)` / `f(*)`: every column of the source(s) flows in.
    fn whole_rows(
        &mut self,
        qual: Option<&[Ident]>,
        cx: &ECx<'a, '_, '_>,
        tx: Tx,
        sink: &mut Vec<Src>,
    ) {
        let Some(scope) = cx.env.scope else { return };
        for src in &scope.sources {
            if let Some(q) = qual
                && !self.qual_matches(src, q)
            {
                continue;
            }
            if let Some(cols) = self.source_columns(src, None) {
                for c in cols {
                    push_composed(sink, &c.srcs, tx);
                }
            }
        }
    }

    fn window_spec(
        &mut self,
        spec: &'a WindowSpec,
        cx: &ECx<'a, '_, '_>,
        tx: Tx,
        sink: &mut Vec<Src>,
        hops: usize,
    ) {
        if let Some(n) = &spec.window_name {
            self.named_window(n, cx, tx, sink, hops + 1);
        }
        self.exprs(&spec.partition_by, cx, tx, sink);
        for o in &spec.order_by {
            self.expr(&o.expr, cx, tx, sink);
        }
    }

    fn named_window(
        &mut self,
        name: &Ident,
        cx: &ECx<'a, '_, '_>,
        tx: Tx,
        sink: &mut Vec<Src>,
        hops: usize,
    ) {
        if hops > cx.windows.len() {
            return;
        }
        let found = cx
            .windows
            .iter()
            .find(|d| self.rules.matches(&name.value, is_quoted(name), &d.0.value));
        match found {
            Some(NamedWindowDefinition(_, NamedWindowExpr::WindowSpec(spec))) => {
                self.window_spec(spec, cx, tx, sink, hops)
            }
            Some(NamedWindowDefinition(_, NamedWindowExpr::NamedWindow(other))) => {
                self.named_window(other, cx, tx, sink, hops + 1)
            }
            None => self.warn(format!("unknown window \"{}\"", name.value), loc(name)),
        }
    }

    /// An expression whose columns go to the dataset-level sources.
    fn dataset_expr(&mut self, e: &'a Expr, cx: &ECx<'a, '_, '_>, sub: Tx) {
        let mut v = Vec::new();
        self.expr(e, cx, sub, &mut v);
        self.dataset.extend(v);
    }

    /// A GROUP BY / ORDER BY key: an ordinal, an output alias or an expression.
    fn key_expr(&mut self, e: &'a Expr, cx: &ECx<'a, '_, '_>, outs: &[OutCol], sub: Tx) {
        if let Some(n) = ordinal(e) {
            match outs.get(n.wrapping_sub(1)) {
                Some(c) => {
                    let mut v = Vec::new();
                    push_composed(&mut v, &c.srcs, sub);
                    self.dataset.extend(v);
                }
                None => self.warn(format!("position {n} is not in the select list"), None),
            }
            return;
        }
        self.dataset_expr(e, cx, sub);
    }

    fn order_by(&mut self, ob: &'a OrderBy, cx: &ECx<'a, '_, '_>, outs: &[OutCol]) {
        match &ob.kind {
            OrderByKind::All(_) => {
                for c in outs {
                    let mut v = Vec::new();
                    push_composed(&mut v, &c.srcs, Tx::Sort);
                    self.dataset.extend(v);
                }
            }
            OrderByKind::Expressions(list) => {
                let cx2 = ECx {
                    aliases: outs,
                    alias_first: true,
                    ..*cx
                };
                for o in list {
                    self.key_expr(&o.expr, &cx2, outs, Tx::Sort);
                }
            }
        }
    }

    // ------------------------------------------------------------ queries

    fn query(&mut self, q: &'a Query, env: Env<'a, '_>) -> Relation {
        if !self.enter() {
            return Relation::default();
        }
        let rel = match &q.with {
            Some(with) => {
                let cenv = self.cte_env(with, env);
                let view = CteView {
                    env: &cenv,
                    limit: cenv.defs.len(),
                };
                // CTEs are computed in order, so that a long chain of CTEs
                // does not turn into deep recursion; their filters count only
                // where they are referenced.
                for i in 0..cenv.defs.len() {
                    self.compute_cte(view, i);
                }
                let inner = Env {
                    scope: env.scope,
                    ctes: Some(view),
                };
                self.query_body(q, inner)
            }
            None => self.query_body(q, env),
        };
        self.leave();
        rel
    }

    fn query_body(&mut self, q: &'a Query, env: Env<'a, '_>) -> Relation {
        if !q.pipe_operators.is_empty() {
            self.warn(
                "pipe operators (|>) are not analysed; their effect is left out".to_string(),
                None,
            );
        }
        match &*q.body {
            SetExpr::Select(s) => self.select(s, env, q.order_by.as_ref()),
            body => {
                let rel = self.set_expr(body, env);
                if let Some(ob) = &q.order_by {
                    let cx = ECx::new(Env {
                        scope: None,
                        ctes: env.ctes,
                    });
                    self.order_by(ob, &cx, &rel.cols);
                }
                rel
            }
        }
    }

    fn cte_env<'p>(&self, with: &'a With, env: Env<'a, 'p>) -> CteEnv<'a, 'p> {
        CteEnv {
            defs: with
                .cte_tables
                .iter()
                .map(|c| CteDef {
                    cte: c,
                    name: self.norm(&c.alias.name),
                    state: RefCell::new(CteState::Pending),
                })
                .collect(),
            recursive: with.recursive,
            parent: env.ctes,
            outer: env.scope,
        }
    }

    fn find_cte<'p>(
        &self,
        view: Option<CteView<'a, 'p>>,
        id: &Ident,
    ) -> Option<(CteView<'a, 'p>, usize)> {
        let mut v = view;
        while let Some(cv) = v {
            for i in (0..cv.limit.min(cv.env.defs.len())).rev() {
                if self
                    .rules
                    .matches(&id.value, is_quoted(id), &cv.env.defs[i].name)
                {
                    return Some((cv, i));
                }
            }
            v = cv.env.parent;
        }
        None
    }

    /// A reference to CTE `i`: its relation, and its filters join the
    /// statement's dataset sources.
    fn cte_relation(&mut self, cv: CteView<'a, '_>, i: usize, at: &Ident) -> Option<Rc<Relation>> {
        self.compute_cte(cv, i);
        let def = &cv.env.defs[i];
        let state = def.state.borrow().clone();
        match state {
            CteState::Done(rel, ds) => {
                self.dataset.extend_from_slice(&ds);
                Some(rel)
            }
            CteState::Running(Some(partial)) => Some(partial),
            CteState::Running(None) | CteState::Pending => {
                self.warn(
                    format!(
                        "CTE \"{}\" refers to itself outside the recursive part of a UNION; that reference is left out",
                        def.name
                    ),
                    loc(at),
                );
                None
            }
        }
    }

    /// Computes CTE `i` unless it is computed or being computed.
    fn compute_cte(&mut self, cv: CteView<'a, '_>, i: usize) {
        let def = &cv.env.defs[i];
        if !matches!(*def.state.borrow(), CteState::Pending) {
            return;
        }
        *def.state.borrow_mut() = CteState::Running(None);
        let mark = self.dataset.len();
        let limit = if cv.env.recursive {
            cv.env.defs.len()
        } else {
            i
        };
        let env = Env {
            scope: cv.env.outer,
            ctes: Some(CteView { env: cv.env, limit }),
        };
        let rel = if cv.env.recursive {
            self.recursive_cte(def, env)
        } else {
            let mut rel = self.query(&def.cte.query, env);
            self.rename_cols(&mut rel.cols, &def.cte.alias);
            rel.reindex();
            rel
        };
        let ds: Rc<[Src]> = self.dataset.drain(mark.min(self.dataset.len())..).collect();
        *def.state.borrow_mut() = CteState::Done(Rc::new(rel), ds);
    }

    /// `anchor UNION [ALL] recursive`: the recursive member sees the rows
    /// found so far; iterate until the sources stop growing.
    fn recursive_cte(&mut self, def: &CteDef<'a>, env: Env<'a, '_>) -> Relation {
        let q = &def.cte.query;
        if let (
            None,
            SetExpr::SetOperation {
                left,
                op: SetOperator::Union,
                right,
                ..
            },
        ) = (&q.with, &*q.body)
        {
            let mut anchor = self.set_expr(left, env);
            self.rename_cols(&mut anchor.cols, &def.cte.alias);
            anchor.reindex();
            let mut current = Rc::new(anchor.clone());
            for _ in 0..RECURSIVE_CTE_ROUNDS {
                *def.state.borrow_mut() = CteState::Running(Some(current.clone()));
                let rec = self.set_expr(right, env);
                if rec.cols.len() != anchor.cols.len() {
                    self.warn(
                        format!(
                            "recursive CTE \"{}\": the anchor has {} columns and the recursive part {}",
                            def.name,
                            anchor.cols.len(),
                            rec.cols.len()
                        ),
                        loc(&def.cte.alias.name),
                    );
                }
                let mut merged = anchor.clone();
                for (m, r) in merged.cols.iter_mut().zip(&rec.cols) {
                    m.srcs.extend_from_slice(&r.srcs);
                    normalize(&mut m.srcs);
                }
                if merged.same(&current) {
                    break;
                }
                current = Rc::new(merged);
            }
            return Rc::try_unwrap(current).unwrap_or_else(|rc| (*rc).clone());
        }
        let mut rel = self.query(q, env);
        self.rename_cols(&mut rel.cols, &def.cte.alias);
        rel.reindex();
        rel
    }

    fn rename_cols(&mut self, cols: &mut [OutCol], alias: &TableAlias) {
        if alias.columns.is_empty() {
            return;
        }
        if alias.columns.len() > cols.len() {
            self.warn(
                format!(
                    "\"{}\" names {} columns but has {}",
                    alias.name.value,
                    alias.columns.len(),
                    cols.len()
                ),
                loc(&alias.name),
            );
        }
        for (c, a) in cols.iter_mut().zip(&alias.columns) {
            c.name = self.rules.normalize(&a.name.value, is_quoted(&a.name));
        }
    }

    fn set_expr(&mut self, s: &'a SetExpr, env: Env<'a, '_>) -> Relation {
        match s {
            SetExpr::Select(sel) => self.select(sel, env, None),
            SetExpr::Query(q) => self.query(q, env),
            SetExpr::SetOperation { .. } => {
                // Left-deep chains of set operations are walked iteratively.
                let mut chain = Vec::new();
                let mut cur = s;
                while let SetExpr::SetOperation {
                    left,
                    op,
                    set_quantifier,
                    right,
                } = cur
                {
                    chain.push((*op, *set_quantifier, &**right));
                    cur = left;
                }
                if chain.len() > MAX_RENDERED_CHAIN {
                    self.display_risk = true;
                }
                let mut acc = self.set_expr(cur, env);
                for (op, quant, right) in chain.into_iter().rev() {
                    let r = self.set_expr(right, env);
                    acc = self.combine(acc, r, op, quant);
                }
                acc
            }
            SetExpr::Values(v) => self.values(v, env),
            SetExpr::Table(t) => {
                let mut parts: Vec<(&str, bool)> = Vec::new();
                if let Some(s) = &t.schema_name {
                    parts.push((s.as_str(), false));
                }
                if let Some(n) = &t.table_name {
                    parts.push((n.as_str(), false));
                }
                let mut scope = Scope::new(env.scope);
                self.push_table_source(&mut scope, &parts, None, None);
                let mut outs = Vec::new();
                for src in &scope.sources {
                    if let Some(cols) = self.source_columns(src, None) {
                        outs.extend(cols);
                    }
                }
                Relation::new(outs)
            }
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                self.warn(
                    "a data-modifying statement used as a query is not analysed".to_string(),
                    None,
                );
                Relation::default()
            }
        }
    }

    fn combine(&mut self, l: Relation, r: Relation, op: SetOperator, q: SetQuantifier) -> Relation {
        let by_name = matches!(
            q,
            SetQuantifier::ByName | SetQuantifier::AllByName | SetQuantifier::DistinctByName
        );
        if matches!(op, SetOperator::Except | SetOperator::Minus) {
            // Rows of the right side only remove rows: a filter.
            for c in &r.cols {
                let mut v = Vec::new();
                push_composed(&mut v, &c.srcs, Tx::Filter);
                self.dataset.extend(v);
            }
            if !by_name && l.cols.len() != r.cols.len() {
                self.warn(
                    format!(
                        "set operation sides have {} and {} columns",
                        l.cols.len(),
                        r.cols.len()
                    ),
                    None,
                );
            }
            return l;
        }
        let mut cols = l.cols;
        if by_name {
            for rc in &r.cols {
                match cols
                    .iter_mut()
                    .find(|c| self.rules.matches(&rc.name, false, &c.name))
                {
                    Some(c) => {
                        c.srcs.extend_from_slice(&rc.srcs);
                        normalize(&mut c.srcs);
                    }
                    None => cols.push(rc.clone()),
                }
            }
        } else {
            if cols.len() != r.cols.len() {
                self.warn(
                    format!(
                        "set operation sides have {} and {} columns",
                        cols.len(),
                        r.cols.len()
                    ),
                    None,
                );
            }
            for (c, rc) in cols.iter_mut().zip(&r.cols) {
                c.srcs.extend_from_slice(&rc.srcs);
                normalize(&mut c.srcs);
            }
        }
        Relation::new(cols)
    }

    fn values(&mut self, v: &'a Values, env: Env<'a, '_>) -> Relation {
        let width = v.rows.first().map_or(0, |r| r.content.len());
        let mut cols: Vec<OutCol> = (0..width)
            .map(|i| OutCol {
                name: self.opts.dialect.values_column_name(i),
                srcs: Vec::new(),
                expr: None,
            })
            .collect();
        let cx = ECx::new(env);
        let single = v.rows.len() == 1;
        let mut warned = false;
        for row in &v.rows {
            if row.content.len() != width && !warned {
                warned = true;
                self.warn("VALUES rows have different lengths".to_string(), None);
            }
            for (i, e) in row.content.iter().enumerate().take(width) {
                let mut srcs = std::mem::take(&mut cols[i].srcs);
                let text = self.walk_and_render(e, &cx, Tx::Identity, &mut srcs);
                cols[i].srcs = srcs;
                if single {
                    cols[i].expr = text;
                }
            }
        }
        for c in &mut cols {
            normalize(&mut c.srcs);
        }
        Relation::new(cols)
    }

    fn select(
        &mut self,
        s: &'a Select,
        env: Env<'a, '_>,
        order_by: Option<&'a OrderBy>,
    ) -> Relation {
        let mut scope = Scope::new(env.scope);
        for twj in &s.from {
            self.table_with_joins(twj, &mut scope, env);
        }
        for lv in &s.lateral_views {
            let mut srcs = Vec::new();
            {
                let cx = ECx::new(Env {
                    scope: Some(&scope),
                    ctes: env.ctes,
                });
                self.expr(&lv.lateral_view, &cx, Tx::Identity, &mut srcs);
            }
            normalize(&mut srcs);
            let name = last_ident(&lv.lateral_view_name)
                .map(|i| self.norm(i))
                .unwrap_or_default();
            let known: Vec<OutCol> = lv
                .lateral_col_alias
                .iter()
                .map(|a| OutCol {
                    name: self.norm(a),
                    srcs: srcs.clone(),
                    expr: None,
                })
                .collect();
            let open = known.is_empty();
            scope.sources.push(Source {
                qual: vec![name.clone()],
                aliased: true,
                origin: format!("LATERAL VIEW {name}"),
                cols: Cols::Open {
                    table: None,
                    known: Rc::new(Relation::new(known)),
                    args: srcs,
                    open,
                },
            });
        }
        let senv = Env {
            scope: Some(&scope),
            ctes: env.ctes,
        };
        let cx = ECx {
            env: senv,
            aliases: &[],
            alias_first: false,
            windows: &s.named_window,
        };
        if let Some(w) = &s.prewhere {
            self.dataset_expr(w, &cx, Tx::Filter);
        }
        if let Some(w) = &s.selection {
            self.dataset_expr(w, &cx, Tx::Filter);
        }
        for c in &s.connect_by {
            match c {
                ast::ConnectByKind::ConnectBy { relationships, .. } => {
                    for r in relationships {
                        self.dataset_expr(r, &cx, Tx::Filter);
                    }
                }
                ast::ConnectByKind::StartWith { condition, .. } => {
                    self.dataset_expr(condition, &cx, Tx::Filter)
                }
            }
        }

        // The select list.
        let mut outs: Vec<OutCol> = Vec::with_capacity(s.projection.len());
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let (name, srcs, expr) = self.select_expr(e, &cx, &outs);
                    outs.push(OutCol::new(name, srcs, expr));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let (_, srcs, text) = self.select_expr(expr, &cx, &outs);
                    outs.push(OutCol::new(self.norm(alias), srcs, text));
                }
                SelectItem::ExprWithAliases { expr, aliases } => {
                    let (_, srcs, text) = self.select_expr(expr, &cx, &outs);
                    for a in aliases {
                        outs.push(OutCol::new(self.norm(a), srcs.clone(), text.clone()));
                    }
                }
                SelectItem::Wildcard(opts) => {
                    self.star(&scope, None, opts, s.exclude.as_ref(), &cx, &mut outs);
                }
                SelectItem::QualifiedWildcard(kind, opts) => match kind {
                    SelectItemQualifiedWildcardKind::ObjectName(name) => {
                        let ids: Vec<Ident> = idents(name).into_iter().cloned().collect();
                        match scope
                            .sources
                            .iter()
                            .position(|src| self.qual_matches(src, &ids))
                        {
                            Some(i) => {
                                self.star(&scope, Some(i), opts, s.exclude.as_ref(), &cx, &mut outs)
                            }
                            None => {
                                // A struct column's fields (`s.*`) or an outer alias.
                                let at = ids.first().and_then(loc);
                                self.warn(
                                    format!(
                                        "cannot expand {name}.*: no table or alias \"{name}\" in this FROM clause"
                                    ),
                                    at,
                                );
                            }
                        }
                    }
                    SelectItemQualifiedWildcardKind::Expr(e) => {
                        let mut srcs = Vec::new();
                        self.expr(e, &cx, Tx::Transformation, &mut srcs);
                        self.warn(
                            format!(
                                "cannot expand ({e}).*: the fields of an expression are unknown"
                            ),
                            Some(opts.wildcard_token.0.span.start),
                        );
                    }
                },
            }
        }

        // Row-deciding clauses.
        let kcx = ECx {
            aliases: &outs,
            ..cx
        };
        if let Some(Distinct::On(exprs)) = &s.distinct {
            for e in exprs {
                self.key_expr(e, &kcx, &outs, Tx::GroupBy);
            }
        }
        match &s.group_by {
            GroupByExpr::All(_) => {
                for c in &outs {
                    if !c.srcs.iter().any(|x| x.tx == Tx::Aggregation) {
                        let mut v = Vec::new();
                        push_composed(&mut v, &c.srcs, Tx::GroupBy);
                        self.dataset.extend(v);
                    }
                }
            }
            GroupByExpr::Expressions(exprs, mods) => {
                for e in exprs {
                    self.key_expr(e, &kcx, &outs, Tx::GroupBy);
                }
                for m in mods {
                    if let GroupByWithModifier::GroupingSets(e) = m {
                        self.key_expr(e, &kcx, &outs, Tx::GroupBy);
                    }
                }
            }
        }
        if let Some(h) = &s.having {
            self.dataset_expr(h, &kcx, Tx::Filter);
        }
        if let Some(qf) = &s.qualify {
            self.dataset_expr(qf, &kcx, Tx::Filter);
        }
        for e in s.cluster_by.iter().chain(&s.distribute_by) {
            self.key_expr(e, &kcx, &outs, Tx::Sort);
        }
        for o in &s.sort_by {
            self.key_expr(&o.expr, &kcx, &outs, Tx::Sort);
        }
        if let Some(ob) = order_by {
            self.order_by(ob, &cx, &outs);
        }
        Relation::new(outs)
    }

    /// One select-list expression: (name, sources, text).
    fn select_expr(
        &mut self,
        e: &'a Expr,
        cx: &ECx<'a, '_, '_>,
        outs: &[OutCol],
    ) -> (String, Vec<Src>, Option<String>) {
        let cx2 = ECx {
            aliases: outs,
            ..*cx
        };
        let mut srcs = Vec::new();
        let mut name = String::new();
        let saved = std::mem::take(&mut self.display_risk);
        match e {
            Expr::Identifier(id) => {
                self.column_ref(
                    std::slice::from_ref(id),
                    &cx2,
                    Tx::Identity,
                    &mut srcs,
                    Some(&mut name),
                );
                if name.is_empty() {
                    name = self.norm(id);
                }
            }
            Expr::CompoundIdentifier(ids) => {
                self.column_ref(ids, &cx2, Tx::Identity, &mut srcs, Some(&mut name));
                if name.is_empty() {
                    name = ids.last().map(|i| self.norm(i)).unwrap_or_default();
                }
            }
            _ => self.expr(e, &cx2, Tx::Identity, &mut srcs),
        }
        let text = self.expr_text(e);
        self.display_risk |= saved;
        if name.is_empty() {
            name = text.clone().unwrap_or_else(|| "?column?".to_string());
        }
        (name, srcs, text)
    }

    /// Expands `*` (all sources) or `t.*` (source `which`).
    fn star(
        &mut self,
        scope: &Scope<'a, '_>,
        which: Option<usize>,
        opts: &'a WildcardAdditionalOptions,
        select_exclude: Option<&'a ExcludeSelectItem>,
        cx: &ECx<'a, '_, '_>,
        outs: &mut Vec<OutCol>,
    ) {
        let at = Some(opts.wildcard_token.0.span.start);
        let start = outs.len();
        let mut emitted = vec![false; scope.using.len()];
        for (si, src) in scope.sources.iter().enumerate() {
            if which.is_some_and(|w| w != si) {
                continue;
            }
            let Some(cols) = self.source_columns(src, at) else {
                continue;
            };
            for c in cols {
                if which.is_none() {
                    if scope
                        .using
                        .iter()
                        .any(|u| u.hidden.iter().any(|(s2, n)| *s2 == si && *n == c.name))
                    {
                        continue;
                    }
                    if let Some(j) = scope
                        .using
                        .iter()
                        .position(|u| u.anchor.0 == si && u.anchor.1 == c.name)
                    {
                        if !emitted[j] {
                            emitted[j] = true;
                            let u = &scope.using[j];
                            outs.push(OutCol::new(u.name.clone(), u.srcs.clone(), None));
                        }
                        continue;
                    }
                }
                outs.push(c);
            }
        }
        // EXCLUDE / EXCEPT / ILIKE / RENAME / REPLACE.
        let mut drop: Vec<&Ident> = Vec::new();
        for ex in [opts.opt_exclude.as_ref(), select_exclude]
            .into_iter()
            .flatten()
        {
            match ex {
                ExcludeSelectItem::Single(n) => drop.extend(last_ident(n)),
                ExcludeSelectItem::Multiple(ns) => drop.extend(ns.iter().filter_map(last_ident)),
            }
        }
        if let Some(ex) = &opts.opt_except {
            drop.push(&ex.first_element);
            drop.extend(ex.additional_elements.iter());
        }
        if !drop.is_empty() {
            let rules = self.rules;
            let mut i = start;
            while i < outs.len() {
                if drop
                    .iter()
                    .any(|d| rules.matches(&d.value, is_quoted(d), &outs[i].name))
                {
                    outs.remove(i);
                } else {
                    i += 1;
                }
            }
        }
        if let Some(il) = &opts.opt_ilike {
            let pat = il.pattern.to_lowercase();
            let mut i = start;
            while i < outs.len() {
                if like_ci(&pat, &outs[i].name.to_lowercase()) {
                    i += 1;
                } else {
                    outs.remove(i);
                }
            }
        }
        if let Some(rn) = &opts.opt_rename {
            let items: Vec<&ast::IdentWithAlias> = match rn {
                ast::RenameSelectItem::Single(x) => vec![x],
                ast::RenameSelectItem::Multiple(xs) => xs.iter().collect(),
            };
            for it in items {
                let new = self.norm(&it.alias);
                if let Some(c) = outs[start..].iter_mut().find(|c| {
                    self.rules
                        .matches(&it.ident.value, is_quoted(&it.ident), &c.name)
                }) {
                    c.name = new;
                }
            }
        }
        if let Some(rep) = &opts.opt_replace {
            for el in &rep.items {
                let mut srcs = Vec::new();
                let text = self.walk_and_render(&el.expr, cx, Tx::Identity, &mut srcs);
                let col = &el.column_name;
                if let Some(c) = outs[start..]
                    .iter_mut()
                    .find(|c| self.rules.matches(&col.value, is_quoted(col), &c.name))
                {
                    normalize(&mut srcs);
                    c.srcs = srcs;
                    c.expr = text;
                }
            }
        }
    }

    // ------------------------------------------------------------ FROM

    fn table_with_joins(
        &mut self,
        twj: &'a TableWithJoins,
        scope: &mut Scope<'a, '_>,
        env: Env<'a, '_>,
    ) {
        let left_start = scope.sources.len();
        self.table_factor(&twj.relation, scope, env);
        for j in &twj.joins {
            self.join(j, scope, env, left_start);
        }
    }

    fn join(
        &mut self,
        j: &'a ast::Join,
        scope: &mut Scope<'a, '_>,
        env: Env<'a, '_>,
        left_start: usize,
    ) {
        let right_start = scope.sources.len();
        // CROSS / OUTER APPLY: the right side sees the left one.
        self.lateral_next = matches!(
            j.join_operator,
            JoinOperator::CrossApply | JoinOperator::OuterApply
        );
        self.table_factor(&j.relation, scope, env);
        self.lateral_next = false;
        #[derive(Clone, Copy)]
        enum Pick {
            Left,
            Right,
            Both,
        }
        let (constraint, pick) = match &j.join_operator {
            JoinOperator::Join(c)
            | JoinOperator::Inner(c)
            | JoinOperator::StraightJoin(c)
            | JoinOperator::CrossJoin(c)
            | JoinOperator::Left(c)
            | JoinOperator::LeftOuter(c)
            | JoinOperator::Semi(c)
            | JoinOperator::LeftSemi(c)
            | JoinOperator::Anti(c)
            | JoinOperator::LeftAnti(c) => (Some(c), Pick::Left),
            JoinOperator::Right(c)
            | JoinOperator::RightOuter(c)
            | JoinOperator::RightSemi(c)
            | JoinOperator::RightAnti(c) => (Some(c), Pick::Right),
            JoinOperator::FullOuter(c) => (Some(c), Pick::Both),
            JoinOperator::AsOf {
                match_condition,
                constraint,
            } => {
                let cx = ECx::new(Env {
                    scope: Some(&*scope),
                    ctes: env.ctes,
                });
                self.dataset_expr(match_condition, &cx, Tx::Join);
                (Some(constraint), Pick::Left)
            }
            JoinOperator::CrossApply
            | JoinOperator::OuterApply
            | JoinOperator::ArrayJoin
            | JoinOperator::LeftArrayJoin
            | JoinOperator::InnerArrayJoin => (None, Pick::Left),
        };
        let names: Vec<(Ident, Option<Location>)> = match constraint {
            Some(JoinConstraint::On(e)) => {
                let cx = ECx::new(Env {
                    scope: Some(&*scope),
                    ctes: env.ctes,
                });
                self.dataset_expr(e, &cx, Tx::Join);
                return;
            }
            Some(JoinConstraint::Using(cols)) => cols
                .iter()
                .filter_map(last_ident)
                .map(|i| (i.clone(), loc(i)))
                .collect(),
            Some(JoinConstraint::Natural) => {
                // The names both sides have.
                let mut right_names: Vec<String> = Vec::new();
                let mut unknown = false;
                for si in right_start..scope.sources.len() {
                    match self.source_columns(&scope.sources[si], None) {
                        Some(cols) => right_names.extend(cols.into_iter().map(|c| c.name)),
                        None => unknown = true,
                    }
                }
                let mut left_names: Vec<String> =
                    scope.using.iter().map(|u| u.name.clone()).collect();
                for si in left_start..right_start {
                    match self.source_columns(&scope.sources[si], None) {
                        Some(cols) => left_names.extend(cols.into_iter().map(|c| c.name)),
                        None => unknown = true,
                    }
                }
                if unknown {
                    self.warn(
                        "NATURAL JOIN over a relation with unknown columns: its join columns may be incomplete".to_string(),
                        None,
                    );
                }
                let mut seen = HashSet::new();
                right_names
                    .into_iter()
                    .filter(|n| left_names.iter().any(|l| eq_ci(l, n)))
                    .filter(|n| seen.insert(n.to_lowercase()))
                    // Exact names from the relations: compare them quoted.
                    .map(|n| (Ident::with_quote('"', n), None))
                    .collect()
            }
            Some(JoinConstraint::None) | None => return,
        };
        for (quoted_id, at) in names {
            let name = quoted_id.value.clone();
            // Left side: an earlier USING column of that name, or the sources.
            let mut left_srcs: Vec<Src> = Vec::new();
            let mut anchor: Option<(usize, String)> = None;
            let mut hidden: Vec<(usize, String)> = Vec::new();
            let existing = scope.using.iter().position(|u| {
                self.rules
                    .matches(&quoted_id.value, is_quoted(&quoted_id), &u.name)
            });
            let mut found_left = existing.is_some();
            if let Some(ui) = existing {
                left_srcs.extend_from_slice(&scope.using[ui].srcs);
            } else {
                for (si, h) in self.side_hits(scope, left_start..right_start, &quoted_id) {
                    let src = &scope.sources[si];
                    let n = Self::hit_name(src, &h);
                    self.push_hit(src, &h, Tx::Identity, &mut left_srcs);
                    if anchor.is_none() {
                        anchor = Some((si, n));
                    } else {
                        hidden.push((si, n));
                    }
                    found_left = true;
                }
            }
            let mut right_srcs: Vec<Src> = Vec::new();
            let mut found_right = false;
            for (si, h) in self.side_hits(scope, right_start..scope.sources.len(), &quoted_id) {
                let src = &scope.sources[si];
                let n = Self::hit_name(src, &h);
                self.push_hit(src, &h, Tx::Identity, &mut right_srcs);
                hidden.push((si, n));
                found_right = true;
            }
            if !found_left || !found_right {
                self.warn(
                    format!(
                        "USING column \"{name}\" is not on the {} side of the join",
                        if found_left { "right" } else { "left" }
                    ),
                    at,
                );
            }
            let mut v = Vec::new();
            push_composed(&mut v, &left_srcs, Tx::Join);
            push_composed(&mut v, &right_srcs, Tx::Join);
            self.dataset.extend(v);
            let mut merged = match pick {
                Pick::Left => left_srcs,
                Pick::Right => right_srcs,
                Pick::Both => {
                    let mut m = Vec::new();
                    push_composed(&mut m, &left_srcs, Tx::Transformation);
                    push_composed(&mut m, &right_srcs, Tx::Transformation);
                    m
                }
            };
            normalize(&mut merged);
            match existing {
                Some(ui) => {
                    let u = &mut scope.using[ui];
                    u.srcs = merged;
                    u.hidden.extend(hidden);
                }
                None => {
                    let anchor = anchor.unwrap_or_else(|| {
                        // Only the right side has it: show it there.
                        hidden
                            .first()
                            .cloned()
                            .unwrap_or((right_start, name.clone()))
                    });
                    hidden.retain(|h| *h != anchor);
                    let display = anchor.1.clone();
                    scope.using.push(UsingCol {
                        name: display,
                        srcs: merged,
                        anchor,
                        hidden,
                    });
                }
            }
        }
    }

    /// The sources in `range` that have column `id`: those that list it, or
    /// else the single source that accepts unknown names.
    fn side_hits(
        &self,
        scope: &Scope<'a, '_>,
        range: std::ops::Range<usize>,
        id: &Ident,
    ) -> Vec<(usize, Hit)> {
        let mut hits: Vec<(usize, Hit)> = range
            .clone()
            .filter_map(|si| self.find_in_source(&scope.sources[si], id).map(|h| (si, h)))
            .collect();
        if hits.is_empty() {
            let mut open = range.filter(|&si| scope.sources[si].accepts_unknown());
            if let (Some(si), None) = (open.next(), open.next()) {
                hits.push((si, Hit::Open(self.norm(id))));
            }
        }
        hits
    }

    fn alias_qual(&self, alias: Option<&TableAlias>) -> Option<Vec<String>> {
        alias.map(|a| vec![self.norm(&a.name)])
    }

    /// A table name in FROM: a CTE, a schema table, or an unknown table.
    fn push_table_source(
        &mut self,
        scope: &mut Scope<'a, '_>,
        parts: &[(&str, bool)],
        alias: Option<&'a TableAlias>,
        at: Option<Location>,
    ) {
        let written: Vec<&str> = parts.iter().map(|(v, _)| *v).collect();
        let written = written.join(".");
        match self.lookup_table(parts) {
            (Lookup::Found(idx, t), which) => {
                let key = (u64::from(which) << 63) | (u64::from(idx) << 32);
                let (qual, aliased) = match self.alias_qual(alias) {
                    Some(q) => (q, true),
                    None => (t.parts().to_vec(), false),
                };
                let cols = match alias {
                    Some(a) if !a.columns.is_empty() => {
                        let src = Source {
                            qual: Vec::new(),
                            aliased: true,
                            origin: String::new(),
                            cols: Cols::Table { t, key },
                        };
                        let mut cols = self.source_columns(&src, None).unwrap_or_default();
                        self.rename_cols(&mut cols, a);
                        Cols::Rel(Rc::new(Relation::new(cols)))
                    }
                    _ => Cols::Table { t, key },
                };
                scope.sources.push(Source {
                    qual,
                    aliased,
                    origin: t.name().to_string(),
                    cols,
                });
            }
            (lookup, _) => {
                let q = self.qualify_unknown(parts);
                let display = q.join(".");
                match lookup {
                    Lookup::Ambiguous(ts) => {
                        let names: Vec<&str> = ts.iter().map(|t| t.name()).collect();
                        self.warn(
                            format!(
                                "ambiguous table \"{written}\": candidates {}; set a default schema or qualify it. Its columns are taken as written",
                                names.join(", ")
                            ),
                            at,
                        );
                    }
                    _ => self.warn(
                        format!(
                            "unknown table \"{written}\": not in the schema; its columns are taken as written"
                        ),
                        at,
                    ),
                }
                let (qual, aliased) = match self.alias_qual(alias) {
                    Some(qa) => (qa, true),
                    None => (q, false),
                };
                let mut known = Vec::new();
                let table: Rc<str> = Rc::from(display.as_str());
                if let Some(a) = alias {
                    for c in &a.columns {
                        let n = self.norm(&c.name);
                        let col = self.intern_named(&table, &n);
                        known.push(OutCol {
                            name: n,
                            srcs: vec![Src {
                                col,
                                tx: Tx::Identity,
                            }],
                            expr: None,
                        });
                    }
                }
                let open = known.is_empty();
                scope.sources.push(Source {
                    qual,
                    aliased,
                    origin: display,
                    cols: Cols::Open {
                        table: Some(table),
                        known: Rc::new(Relation::new(known)),
                        args: Vec::new(),
                        open,
                    },
                });
            }
        }
    }

    /// A table function, UNNEST, LATERAL VIEW …: columns come from `args`.
    fn push_function_source(
        &mut self,
        scope: &mut Scope<'a, '_>,
        fname: &str,
        alias: Option<&'a TableAlias>,
        mut args: Vec<Src>,
        default_cols: Vec<OutCol>,
    ) {
        normalize(&mut args);
        let mut known: Vec<OutCol> = default_cols;
        let mut open = true;
        if let Some(a) = alias {
            if !a.columns.is_empty() {
                known = a
                    .columns
                    .iter()
                    .map(|c| OutCol {
                        name: self.norm(&c.name),
                        srcs: args.clone(),
                        expr: None,
                    })
                    .collect();
                open = false;
            } else if known.is_empty() {
                // A scalar function's single column is named by the alias.
                known.push(OutCol {
                    name: self.norm(&a.name),
                    srcs: args.clone(),
                    expr: None,
                });
            }
        }
        let (qual, aliased) = match self.alias_qual(alias) {
            Some(q) => (q, true),
            None => (vec![fname.to_string()], true),
        };
        scope.sources.push(Source {
            qual,
            aliased,
            origin: format!("function {fname}"),
            cols: Cols::Open {
                table: None,
                known: Rc::new(Relation::new(known)),
                args,
                open,
            },
        });
    }

    fn function_args_srcs(&mut self, args: &'a [FunctionArg], env: Env<'a, '_>) -> Vec<Src> {
        let cx = ECx::new(env);
        let mut srcs = Vec::new();
        for a in args {
            self.function_arg(a, &cx, Tx::Transformation, &mut srcs, false);
        }
        srcs
    }

    fn table_factor(&mut self, tf: &'a TableFactor, scope: &mut Scope<'a, '_>, env: Env<'a, '_>) {
        if !self.enter() {
            return;
        }
        self.table_factor_inner(tf, scope, env);
        self.leave();
    }

    fn table_factor_inner(
        &mut self,
        tf: &'a TableFactor,
        scope: &mut Scope<'a, '_>,
        env: Env<'a, '_>,
    ) {
        match tf {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let ids = idents(name);
                let fname = ids.last().map(|i| self.norm(i)).unwrap_or_default();
                if let Some(args) = args {
                    let srcs = self.function_args_srcs(
                        &args.args,
                        Env {
                            scope: Some(&*scope),
                            ctes: env.ctes,
                        },
                    );
                    self.push_function_source(scope, &fname, alias.as_ref(), srcs, Vec::new());
                    return;
                }
                if let [one] = ids.as_slice()
                    && let Some((cv, i)) = self.find_cte(env.ctes, one)
                {
                    let cte_name = cv.env.defs[i].name.clone();
                    let rel = self.cte_relation(cv, i, one);
                    let (qual, aliased) = match self.alias_qual(alias.as_ref()) {
                        Some(q) => (q, true),
                        None => (vec![cte_name.clone()], true),
                    };
                    let cols = match rel {
                        Some(rel) => match alias {
                            Some(a) if !a.columns.is_empty() => {
                                let mut cols = rel.cols.clone();
                                self.rename_cols(&mut cols, a);
                                Cols::Rel(Rc::new(Relation::new(cols)))
                            }
                            _ => Cols::Rel(rel),
                        },
                        None => Cols::Open {
                            table: None,
                            known: Rc::new(Relation::default()),
                            args: Vec::new(),
                            open: true,
                        },
                    };
                    scope.sources.push(Source {
                        qual,
                        aliased,
                        origin: format!("CTE {cte_name}"),
                        cols,
                    });
                    return;
                }
                let parts: Vec<(&str, bool)> = ids
                    .iter()
                    .map(|i| (i.value.as_str(), is_quoted(i)))
                    .collect();
                self.push_table_source(
                    scope,
                    &parts,
                    alias.as_ref(),
                    ids.first().and_then(|i| loc(i)),
                );
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                let rel = if *lateral || std::mem::take(&mut self.lateral_next) {
                    self.query(
                        subquery,
                        Env {
                            scope: Some(&*scope),
                            ctes: env.ctes,
                        },
                    )
                } else {
                    self.query(subquery, env)
                };
                let mut cols = rel.cols;
                if let Some(a) = alias {
                    self.rename_cols(&mut cols, a);
                }
                let (qual, aliased) = match self.alias_qual(alias.as_ref()) {
                    Some(q) => (q, true),
                    None => (Vec::new(), true),
                };
                scope.sources.push(Source {
                    qual,
                    aliased,
                    origin: "subquery".to_string(),
                    cols: Cols::Rel(Rc::new(Relation::new(cols))),
                });
            }
            TableFactor::TableFunction { expr, alias } => {
                let mut srcs = Vec::new();
                {
                    let cx = ECx::new(Env {
                        scope: Some(&*scope),
                        ctes: env.ctes,
                    });
                    self.expr(expr, &cx, Tx::Transformation, &mut srcs);
                }
                self.push_function_source(scope, "TABLE", alias.as_ref(), srcs, Vec::new());
            }
            TableFactor::Function {
                name, args, alias, ..
            } => {
                let fname = last_ident(name).map(|i| self.norm(i)).unwrap_or_default();
                let srcs = self.function_args_srcs(
                    args,
                    Env {
                        scope: Some(&*scope),
                        ctes: env.ctes,
                    },
                );
                self.push_function_source(scope, &fname, alias.as_ref(), srcs, Vec::new());
            }
            TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset,
                with_offset_alias,
                with_ordinality,
            } => {
                let mut per: Vec<Vec<Src>> = Vec::new();
                {
                    let cx = ECx::new(Env {
                        scope: Some(&*scope),
                        ctes: env.ctes,
                    });
                    for e in array_exprs {
                        let mut v = Vec::new();
                        self.expr(e, &cx, Tx::Transformation, &mut v);
                        normalize(&mut v);
                        per.push(v);
                    }
                }
                let all: Vec<Src> = per.iter().flatten().copied().collect();
                let mut known: Vec<OutCol> = Vec::new();
                let mut open = true;
                match alias {
                    Some(a) if !a.columns.is_empty() => {
                        for (i, c) in a.columns.iter().enumerate() {
                            let srcs = if per.len() == 1 {
                                per[0].clone()
                            } else {
                                per.get(i).cloned().unwrap_or_else(|| all.clone())
                            };
                            known.push(OutCol::new(self.norm(&c.name), srcs, None));
                        }
                        open = false;
                    }
                    Some(a) => {
                        known.push(OutCol::new(
                            self.norm(&a.name),
                            per.first().cloned().unwrap_or_default(),
                            None,
                        ));
                        for (i, p) in per.iter().enumerate().skip(1) {
                            known.push(OutCol::new(
                                format!("{}_{}", self.norm(&a.name), i + 1),
                                p.clone(),
                                None,
                            ));
                        }
                    }
                    None => {
                        known.push(OutCol::new("unnest".to_string(), all.clone(), None));
                    }
                }
                if *with_offset {
                    let n = with_offset_alias
                        .as_ref()
                        .map(|i| self.norm(i))
                        .unwrap_or_else(|| "offset".to_string());
                    known.push(OutCol::new(n, Vec::new(), None));
                }
                if *with_ordinality {
                    known.push(OutCol::new("ordinality".to_string(), Vec::new(), None));
                }
                let (qual, aliased) = match self.alias_qual(alias.as_ref()) {
                    Some(q) => (q, true),
                    None => (vec!["unnest".to_string()], true),
                };
                scope.sources.push(Source {
                    qual,
                    aliased,
                    origin: "UNNEST".to_string(),
                    cols: Cols::Open {
                        table: None,
                        known: Rc::new(Relation::new(known)),
                        args: all,
                        open,
                    },
                });
            }
            TableFactor::JsonTable {
                json_expr,
                columns,
                alias,
                ..
            } => {
                let srcs = self.lateral_expr_srcs(json_expr, scope, env);
                let mut names = Vec::new();
                json_table_names(columns, &mut names);
                let known = names
                    .into_iter()
                    .map(|n| OutCol::new(self.norm(n), srcs.clone(), None))
                    .collect();
                self.push_function_source(scope, "JSON_TABLE", alias.as_ref(), srcs, known);
            }
            TableFactor::OpenJsonTable {
                json_expr,
                columns,
                alias,
                ..
            } => {
                let srcs = self.lateral_expr_srcs(json_expr, scope, env);
                let known = columns
                    .iter()
                    .map(|c| OutCol::new(self.norm(&c.name), srcs.clone(), None))
                    .collect();
                self.push_function_source(scope, "OPENJSON", alias.as_ref(), srcs, known);
            }
            TableFactor::XmlTable {
                row_expression,
                passing,
                columns,
                alias,
                ..
            } => {
                let mut srcs = self.lateral_expr_srcs(row_expression, scope, env);
                for p in &passing.arguments {
                    srcs.extend(self.lateral_expr_srcs(&p.expr, scope, env));
                }
                normalize(&mut srcs);
                let known = columns
                    .iter()
                    .map(|c| OutCol::new(self.norm(&c.name), srcs.clone(), None))
                    .collect();
                self.push_function_source(scope, "XMLTABLE", alias.as_ref(), srcs, known);
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let start = scope.sources.len();
                let using_start = scope.using.len();
                self.table_with_joins(table_with_joins, scope, env);
                if let Some(a) = alias {
                    // `(a JOIN b) AS x`: one relation with all the columns.
                    let mut cols = Vec::new();
                    let inner: Vec<Source<'a>> = scope.sources.drain(start..).collect();
                    for src in &inner {
                        if let Some(c) = self.source_columns(src, None) {
                            cols.extend(c);
                        }
                    }
                    scope.using.truncate(using_start);
                    self.rename_cols(&mut cols, a);
                    scope.sources.push(Source {
                        qual: vec![self.norm(&a.name)],
                        aliased: true,
                        origin: "join".to_string(),
                        cols: Cols::Rel(Rc::new(Relation::new(cols))),
                    });
                }
            }
            TableFactor::Pivot {
                table,
                aggregate_functions,
                value_column,
                value_source,
                alias,
                ..
            } => self.pivot(
                table,
                aggregate_functions,
                value_column,
                value_source,
                alias.as_ref(),
                scope,
                env,
            ),
            TableFactor::Unpivot {
                table,
                value,
                name,
                columns,
                alias,
                ..
            } => self.unpivot(table, value, name, columns, alias.as_ref(), scope, env),
            TableFactor::MatchRecognize { table, .. } => {
                self.warn(
                    "MATCH_RECOGNIZE is analysed as its input table; its measures are left out"
                        .to_string(),
                    None,
                );
                self.table_factor(table, scope, env);
            }
            TableFactor::SemanticView { name, alias, .. } => {
                let n = last_ident(name).map(|i| self.norm(i)).unwrap_or_default();
                self.warn(format!("SEMANTIC_VIEW \"{n}\" is not analysed"), None);
                self.push_function_source(scope, &n, alias.as_ref(), Vec::new(), Vec::new());
            }
        }
    }

    fn lateral_expr_srcs(
        &mut self,
        e: &'a Expr,
        scope: &Scope<'a, '_>,
        env: Env<'a, '_>,
    ) -> Vec<Src> {
        let mut srcs = Vec::new();
        let cx = ECx::new(Env {
            scope: Some(scope),
            ctes: env.ctes,
        });
        self.expr(e, &cx, Tx::Transformation, &mut srcs);
        normalize(&mut srcs);
        srcs
    }

    #[allow(clippy::too_many_arguments)]
    fn pivot(
        &mut self,
        table: &'a TableFactor,
        aggregates: &'a [ast::ExprWithAlias],
        value_column: &'a [Expr],
        value_source: &'a PivotValueSource,
        alias: Option<&'a TableAlias>,
        scope: &mut Scope<'a, '_>,
        env: Env<'a, '_>,
    ) {
        let mut inner = Scope::new(env.scope);
        self.table_factor(table, &mut inner, env);
        let mut agg_srcs: Vec<Vec<Src>> = Vec::new();
        let mut val_srcs = Vec::new();
        {
            let cx = ECx::new(Env {
                scope: Some(&inner),
                ctes: env.ctes,
            });
            for a in aggregates {
                let mut v = Vec::new();
                self.expr(&a.expr, &cx, Tx::Identity, &mut v);
                normalize(&mut v);
                agg_srcs.push(v);
            }
            self.exprs(value_column, &cx, Tx::Conditional, &mut val_srcs);
        }
        normalize(&mut val_srcs);
        let used: HashSet<u32> = agg_srcs
            .iter()
            .flatten()
            .chain(&val_srcs)
            .map(|s| s.col)
            .collect();
        let mut cols = Vec::new();
        for src in &inner.sources {
            if let Some(cs) = self.source_columns(src, None) {
                for c in cs {
                    if !c.srcs.is_empty() && c.srcs.iter().all(|s| used.contains(&s.col)) {
                        continue;
                    }
                    // The columns left over group the pivot.
                    let mut v = Vec::new();
                    push_composed(&mut v, &c.srcs, Tx::GroupBy);
                    self.dataset.extend(v);
                    cols.push(c);
                }
            }
        }
        let all_agg: Vec<Src> = agg_srcs.iter().flatten().copied().collect();
        if let PivotValueSource::List(values) = value_source {
            for v in values {
                let base = match &v.alias {
                    Some(a) => self.norm(a),
                    None => {
                        let t = v.expr.to_string();
                        t.trim_matches(|c| c == '\'' || c == '"').to_string()
                    }
                };
                for (j, a) in aggregates.iter().enumerate() {
                    let name = if aggregates.len() == 1 {
                        base.clone()
                    } else {
                        match &a.alias {
                            Some(al) => format!("{base}_{}", self.norm(al)),
                            None => format!("{base}_{}", j + 1),
                        }
                    };
                    let mut s = agg_srcs[j].clone();
                    s.extend_from_slice(&val_srcs);
                    cols.push(OutCol::new(name, s, None));
                }
            }
        }
        if let Some(a) = alias {
            self.rename_cols(&mut cols, a);
        }
        let mut args = all_agg;
        args.extend_from_slice(&val_srcs);
        normalize(&mut args);
        let (qual, aliased) = match self.alias_qual(alias) {
            Some(q) => (q, true),
            None => (Vec::new(), true),
        };
        scope.sources.push(Source {
            qual,
            aliased,
            origin: "PIVOT".to_string(),
            cols: Cols::Open {
                table: None,
                known: Rc::new(Relation::new(cols)),
                args,
                open: true,
            },
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn unpivot(
        &mut self,
        table: &'a TableFactor,
        value: &'a Expr,
        name: &'a Ident,
        columns: &'a [ast::ExprWithAlias],
        alias: Option<&'a TableAlias>,
        scope: &mut Scope<'a, '_>,
        env: Env<'a, '_>,
    ) {
        let mut inner = Scope::new(env.scope);
        self.table_factor(table, &mut inner, env);
        let mut unpivoted = Vec::new();
        {
            let cx = ECx::new(Env {
                scope: Some(&inner),
                ctes: env.ctes,
            });
            for c in columns {
                self.expr(&c.expr, &cx, Tx::Identity, &mut unpivoted);
            }
        }
        normalize(&mut unpivoted);
        let used: HashSet<u32> = unpivoted.iter().map(|s| s.col).collect();
        let mut cols = Vec::new();
        for src in &inner.sources {
            if let Some(cs) = self.source_columns(src, None) {
                cols.extend(cs.into_iter().filter(|c| {
                    c.srcs.is_empty() || !c.srcs.iter().all(|s| used.contains(&s.col))
                }));
            }
        }
        cols.push(OutCol::new(self.norm(name), Vec::new(), None));
        let value_names: Vec<String> = match value {
            Expr::Identifier(i) => vec![self.norm(i)],
            Expr::Tuple(xs) => xs
                .iter()
                .filter_map(|x| match x {
                    Expr::Identifier(i) => Some(self.norm(i)),
                    _ => None,
                })
                .collect(),
            other => vec![other.to_string()],
        };
        for n in value_names {
            cols.push(OutCol::new(n, unpivoted.clone(), None));
        }
        if let Some(a) = alias {
            self.rename_cols(&mut cols, a);
        }
        let (qual, aliased) = match self.alias_qual(alias) {
            Some(q) => (q, true),
            None => (Vec::new(), true),
        };
        scope.sources.push(Source {
            qual,
            aliased,
            origin: "UNPIVOT".to_string(),
            cols: Cols::Rel(Rc::new(Relation::new(cols))),
        });
    }

    // ------------------------------------------------------------ statements

    fn statement(&mut self, stmt: &'a Statement) -> StmtOut {
        let mut out = StmtOut {
            target: None,
            kind: "other",
            cols: Vec::new(),
            created: None,
        };
        match stmt {
            Statement::Query(q)
                if matches!(
                    &*q.body,
                    SetExpr::Insert(_)
                        | SetExpr::Update(_)
                        | SetExpr::Merge(_)
                        | SetExpr::Delete(_)
                ) =>
            {
                // `WITH … INSERT / UPDATE / MERGE`.
                let cenv = q.with.as_ref().map(|w| self.cte_env(w, Env::root()));
                let view = cenv.as_ref().map(|c| CteView {
                    env: c,
                    limit: c.defs.len(),
                });
                if let Some(v) = view {
                    for i in 0..v.env.defs.len() {
                        self.compute_cte(v, i);
                    }
                }
                let env = Env {
                    scope: None,
                    ctes: view,
                };
                match &*q.body {
                    SetExpr::Insert(Statement::Insert(ins)) => self.insert(ins, &mut out, env),
                    SetExpr::Update(Statement::Update(u)) => self.update(u, &mut out, env),
                    SetExpr::Merge(Statement::Merge(m)) => self.merge(m, &mut out, env),
                    _ => {}
                }
            }
            Statement::Query(q) => {
                let rel = self.query(q, Env::root());
                out.cols = rel.cols;
                out.kind = "select";
                if let SetExpr::Select(s) = &*q.body
                    && let Some(into) = &s.into
                {
                    let (name, parts, _) = self.target_name(&into.name);
                    out.kind = "create_table_as";
                    out.target = Some(name);
                    out.created = Some((parts, Vec::new()));
                }
            }
            Statement::Insert(ins) => self.insert(ins, &mut out, Env::root()),
            Statement::CreateTable(ct) => {
                let (name, parts, _) = self.target_name(&ct.name);
                out.target = Some(name);
                if let Some(q) = &ct.query {
                    out.kind = "create_table_as";
                    let mut cols = self.query(q, Env::root()).cols;
                    let names: Vec<&Ident> = ct.columns.iter().map(|c| &c.name).collect();
                    self.rename_outputs(&mut cols, &names, "CREATE TABLE");
                    out.cols = cols;
                    out.created = Some((parts, Vec::new()));
                } else {
                    out.kind = "ddl";
                    let mut cols: Vec<Column> = ct
                        .columns
                        .iter()
                        .map(|c| Column {
                            name: self.norm(&c.name),
                            data_type: c.data_type.to_string(),
                        })
                        .collect();
                    let like = match &ct.like {
                        Some(ast::CreateTableLikeKind::Parenthesized(l))
                        | Some(ast::CreateTableLikeKind::Plain(l)) => Some(&l.name),
                        None => ct.clone.as_ref(),
                    };
                    if let Some(src) = like.or(ct.clone.as_ref()) {
                        let ids = idents(src);
                        let p: Vec<(&str, bool)> = ids
                            .iter()
                            .map(|i| (i.value.as_str(), is_quoted(i)))
                            .collect();
                        if let (Lookup::Found(_, t), _) = self.lookup_table(&p) {
                            cols.extend(t.columns().iter().cloned());
                        }
                    }
                    out.created = Some((parts, cols));
                }
            }
            Statement::CreateView(cv) => {
                let (name, parts, _) = self.target_name(&cv.name);
                out.target = Some(name);
                out.kind = "create_view";
                let mut cols = self.query(&cv.query, Env::root()).cols;
                let names: Vec<&Ident> = cv.columns.iter().map(|c| &c.name).collect();
                self.rename_outputs(&mut cols, &names, "the view");
                out.cols = cols;
                out.created = Some((parts, Vec::new()));
            }
            Statement::AlterView {
                name,
                columns,
                query,
                ..
            } => {
                let (tname, parts, _) = self.target_name(name);
                out.target = Some(tname);
                out.kind = "create_view";
                let mut cols = self.query(query, Env::root()).cols;
                for (c, d) in cols.iter_mut().zip(columns) {
                    c.name = self.norm(d);
                }
                out.cols = cols;
                out.created = Some((parts, Vec::new()));
            }
            Statement::Merge(m) => self.merge(m, &mut out, Env::root()),
            Statement::Update(u) => self.update(u, &mut out, Env::root()),
            Statement::AlterTable(at) => {
                out.kind = "ddl";
                out.target = Some(self.target_name(&at.name).0);
            }
            Statement::Drop { names, .. } => {
                out.kind = "ddl";
                if let [one] = names.as_slice() {
                    out.target = Some(self.target_name(one).0);
                }
            }
            Statement::CreateIndex(_)
            | Statement::CreateSchema { .. }
            | Statement::CreateDatabase { .. }
            | Statement::CreateSequence { .. }
            | Statement::CreateType { .. }
            | Statement::CreateExtension(_)
            | Statement::CreateFunction(_)
            | Statement::CreateVirtualTable { .. }
            | Statement::AlterIndex { .. }
            | Statement::AlterSchema(_)
            | Statement::AlterType(_)
            | Statement::DropFunction(_)
            | Statement::Truncate(_) => out.kind = "ddl",
            _ => {}
        }
        out
    }

    fn target_column(&mut self, id: &Ident, table: Option<&'a Table>, tname: &str) -> String {
        match table {
            Some(t) => match t.find_column(&id.value, is_quoted(id), &self.rules) {
                Some(i) => t.columns()[i as usize].name.clone(),
                None => {
                    self.warn(
                        format!("column \"{}\" is not in target table {tname}", id.value),
                        loc(id),
                    );
                    self.norm(id)
                }
            },
            None => self.norm(id),
        }
    }

    fn insert(&mut self, ins: &'a ast::Insert, out: &mut StmtOut, env: Env<'a, '_>) {
        out.kind = "insert";
        let TableObject::TableName(name) = &ins.table else {
            self.warn(
                "INSERT into a table function is not analysed".to_string(),
                None,
            );
            return;
        };
        if ins.multi_table_insert_type.is_some() {
            self.warn(
                "multi-table INSERT (INSERT ALL / INSERT FIRST) is not analysed".to_string(),
                None,
            );
            return;
        }
        let (tname, _, table) = self.target_name(name);
        out.target = Some(tname.clone());
        // Hive: `PARTITION (dt = '2024')` sets partition columns to constants;
        // the query fills the other columns.
        let mut static_parts: Vec<(&'a Ident, &'a Expr)> = Vec::new();
        for p in ins.partitioned.iter().flatten() {
            if let Expr::BinaryOp {
                left,
                op: ast::BinaryOperator::Eq,
                right,
            } = p
                && let Expr::Identifier(id) = &**left
            {
                static_parts.push((id, &**right));
            }
        }
        let rel = match &ins.source {
            Some(q) => self.query(q, env),
            None => {
                // INSERT … SET col = expr
                let cx = ECx::new(Env::root());
                for a in &ins.assignments {
                    self.assignment(a, &cx, table, &tname, &mut out.cols);
                }
                return;
            }
        };
        let targets: Vec<String> = if !ins.columns.is_empty() {
            ins.columns
                .iter()
                .filter_map(last_ident)
                .map(|c| self.target_column(c, table, &tname))
                .collect()
        } else if let Some(t) = table {
            t.columns()
                .iter()
                .filter(|c| {
                    !static_parts
                        .iter()
                        .any(|(id, _)| self.rules.matches(&id.value, is_quoted(id), &c.name))
                })
                .map(|c| c.name.clone())
                .collect()
        } else {
            self.warn(
                format!(
                    "target table {tname} is not in the schema and the INSERT lists no columns: columns are named after the query's output"
                ),
                last_ident(name).and_then(loc),
            );
            rel.cols.iter().map(|c| c.name.clone()).collect()
        };
        if targets.len() != rel.cols.len() {
            self.warn(
                format!(
                    "INSERT into {tname} has {} target columns but the query produces {}",
                    targets.len(),
                    rel.cols.len()
                ),
                last_ident(name).and_then(loc),
            );
        }
        for (t, c) in targets.into_iter().zip(rel.cols) {
            out.cols.push(OutCol {
                name: t,
                srcs: c.srcs,
                expr: c.expr,
            });
        }
        for (id, value) in static_parts {
            let name = self.target_column(id, table, &tname);
            out.cols.push(OutCol {
                name,
                srcs: Vec::new(),
                expr: Some(value.to_string()),
            });
        }
    }

    fn merge_into(cols: &mut Vec<OutCol>, name: String, mut srcs: Vec<Src>, expr: Option<String>) {
        match cols.iter_mut().find(|c| c.name == name) {
            Some(c) => {
                c.srcs.append(&mut srcs);
                normalize(&mut c.srcs);
                if c.expr.is_none() {
                    c.expr = expr;
                }
            }
            None => cols.push(OutCol::new(name, srcs, expr)),
        }
    }

    fn assignment(
        &mut self,
        a: &'a ast::Assignment,
        cx: &ECx<'a, '_, '_>,
        table: Option<&'a Table>,
        tname: &str,
        cols: &mut Vec<OutCol>,
    ) {
        match &a.target {
            AssignmentTarget::ColumnName(n) => {
                let Some(id) = last_ident(n) else { return };
                let name = self.target_column(id, table, tname);
                let mut srcs = Vec::new();
                let text = self.walk_and_render(&a.value, cx, Tx::Identity, &mut srcs);
                Self::merge_into(cols, name, srcs, text);
            }
            AssignmentTarget::Tuple(names) => {
                let targets: Vec<String> = names
                    .iter()
                    .filter_map(last_ident)
                    .map(|i| self.target_column(i, table, tname))
                    .collect();
                match &a.value {
                    Expr::Tuple(vals) => {
                        for (t, v) in targets.into_iter().zip(vals) {
                            let mut srcs = Vec::new();
                            let text = self.walk_and_render(v, cx, Tx::Identity, &mut srcs);
                            Self::merge_into(cols, t, srcs, text);
                        }
                    }
                    Expr::Subquery(q) => {
                        let rel = self.query(q, cx.env);
                        for (t, c) in targets.into_iter().zip(rel.cols) {
                            Self::merge_into(cols, t, c.srcs, c.expr);
                        }
                    }
                    other => {
                        let mut srcs = Vec::new();
                        let text = self.walk_and_render(other, cx, Tx::Identity, &mut srcs);
                        for t in targets {
                            Self::merge_into(cols, t, srcs.clone(), text.clone());
                        }
                    }
                }
            }
        }
    }

    fn update(&mut self, u: &'a ast::Update, out: &mut StmtOut, env: Env<'a, '_>) {
        out.kind = "update";
        let mut scope = Scope::new(None);
        self.table_with_joins(&u.table, &mut scope, env);
        if let Some(UpdateTableFromKind::BeforeSet(v) | UpdateTableFromKind::AfterSet(v)) = &u.from
        {
            for twj in v {
                self.table_with_joins(twj, &mut scope, env);
            }
        }
        let (tname, table) = match &u.table.relation {
            TableFactor::Table { name, .. } => {
                let (n, _, t) = self.target_name(name);
                (n, t)
            }
            _ => (String::new(), None),
        };
        if !tname.is_empty() {
            out.target = Some(tname.clone());
        }
        let cx = ECx::new(Env {
            scope: Some(&scope),
            ctes: env.ctes,
        });
        for a in &u.assignments {
            self.assignment(a, &cx, table, &tname, &mut out.cols);
        }
        if let Some(w) = &u.selection {
            self.dataset_expr(w, &cx, Tx::Filter);
        }
    }

    fn merge(&mut self, m: &'a ast::Merge, out: &mut StmtOut, env: Env<'a, '_>) {
        out.kind = "merge";
        let (tname, table) = match &m.table {
            TableFactor::Table { name, .. } => {
                let (n, _, t) = self.target_name(name);
                (n, t)
            }
            _ => {
                self.warn(
                    "MERGE into something other than a table is not analysed".to_string(),
                    None,
                );
                return;
            }
        };
        out.target = Some(tname.clone());
        let mut scope = Scope::new(None);
        self.table_factor(&m.table, &mut scope, env);
        let source_at = scope.sources.len();
        self.table_factor(&m.source, &mut scope, env);
        let cx = ECx::new(Env {
            scope: Some(&scope),
            ctes: env.ctes,
        });
        self.dataset_expr(&m.on, &cx, Tx::Join);
        let default_targets: Vec<String> = table
            .map(|t| t.columns().iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default();
        for clause in &m.clauses {
            if let Some(p) = &clause.predicate {
                self.dataset_expr(p, &cx, Tx::Filter);
            }
            match &clause.action {
                MergeAction::Update(up) => {
                    for a in &up.assignments {
                        self.assignment(a, &cx, table, &tname, &mut out.cols);
                    }
                    for p in [&up.update_predicate, &up.delete_predicate]
                        .into_iter()
                        .flatten()
                    {
                        self.dataset_expr(p, &cx, Tx::Filter);
                    }
                }
                MergeAction::Insert(ins) => {
                    let targets: Vec<String> = if ins.columns.is_empty() {
                        default_targets.clone()
                    } else {
                        ins.columns
                            .iter()
                            .filter_map(last_ident)
                            .map(|c| self.target_column(c, table, &tname))
                            .collect()
                    };
                    match &ins.kind {
                        MergeInsertKind::Values(v) => {
                            for row in &v.rows {
                                if targets.len() != row.content.len() {
                                    self.warn(
                                        format!(
                                            "MERGE INSERT into {tname} has {} target columns and {} values",
                                            targets.len(),
                                            row.content.len()
                                        ),
                                        None,
                                    );
                                }
                                for (t, e) in targets.iter().zip(&row.content) {
                                    let mut srcs = Vec::new();
                                    let text =
                                        self.walk_and_render(e, &cx, Tx::Identity, &mut srcs);
                                    Self::merge_into(&mut out.cols, t.clone(), srcs, text);
                                }
                            }
                        }
                        MergeInsertKind::Row => {
                            if let Some(src) = scope.sources.get(source_at)
                                && let Some(cols) = self.source_columns(src, None)
                            {
                                for (t, c) in targets.iter().zip(cols) {
                                    Self::merge_into(&mut out.cols, t.clone(), c.srcs, None);
                                }
                            }
                        }
                    }
                    if let Some(p) = &ins.insert_predicate {
                        self.dataset_expr(p, &cx, Tx::Filter);
                    }
                }
                MergeAction::Delete { .. } => {}
            }
        }
    }

    // ------------------------------------------------------------ output

    fn col_names(&self, id: u32) -> (String, String) {
        match &self.names[id as usize] {
            ColName::Schema(t, i) => (t.name().to_string(), t.columns()[*i as usize].name.clone()),
            ColName::Named(t, c) => (t.to_string(), c.clone()),
        }
    }

    fn refs(&self, srcs: &[Src]) -> Vec<SourceRef> {
        let mut v: Vec<SourceRef> = srcs
            .iter()
            .map(|s| {
                let (table, column) = self.col_names(s.col);
                let (kind, subtype) = s.tx.public();
                SourceRef {
                    table,
                    column,
                    kind,
                    subtype,
                }
            })
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn finish(mut self, out: StmtOut, text: &str) -> (StatementLineage, Created) {
        let mut columns = BTreeMap::new();
        let mut order = Vec::with_capacity(out.cols.len());
        for c in out.cols {
            let mut name = c.name;
            if columns.contains_key(&name) {
                let base = name.clone();
                let mut k = 2;
                loop {
                    let cand = format!("{base}_{k}");
                    if !columns.contains_key(&cand) {
                        name = cand;
                        break;
                    }
                    k += 1;
                }
                self.warn(
                    format!("duplicate output column \"{base}\" is reported as \"{name}\""),
                    None,
                );
            }
            let sources = self.refs(&c.srcs);
            columns.insert(
                name.clone(),
                ColumnLineage {
                    sources,
                    expression: c.expr,
                },
            );
            order.push(name);
        }
        let mut ds = std::mem::take(&mut self.dataset);
        normalize(&mut ds);
        let dataset_sources = self.refs(&ds);
        let mut seen = HashSet::new();
        let warnings: Vec<Warning> = std::mem::take(&mut self.warnings)
            .into_iter()
            .filter(|w| seen.insert(w.clone()))
            .collect();
        let created = out.created.map(|(parts, mut cols)| {
            if cols.is_empty() {
                cols = order
                    .iter()
                    .map(|n| Column {
                        name: n.clone(),
                        data_type: String::new(),
                    })
                    .collect();
            }
            (parts, cols)
        });
        (
            StatementLineage {
                target: out.target,
                kind: out.kind.to_string(),
                columns,
                column_order: order,
                dataset_sources,
                warnings,
                error: None,
                span: self.span,
                sql: text.to_string(),
            },
            created,
        )
    }
}

fn json_table_names<'a>(cols: &'a [JsonTableColumn], out: &mut Vec<&'a Ident>) {
    for c in cols {
        match c {
            JsonTableColumn::Named(n) => out.push(&n.name),
            JsonTableColumn::ForOrdinality(i) => out.push(i),
            JsonTableColumn::Nested(n) => json_table_names(&n.columns, out),
        }
    }
}

/// Case-insensitive SQL LIKE (`%`, `_`), both sides already lower-cased.
fn like_ci(pat: &str, s: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '%' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_rules() {
        assert_eq!(Tx::Identity.compose(Tx::Aggregation), Tx::Aggregation);
        assert_eq!(Tx::Transformation.compose(Tx::Aggregation), Tx::Aggregation);
        assert_eq!(Tx::Aggregation.compose(Tx::Identity), Tx::Aggregation);
        assert_eq!(Tx::Identity.compose(Tx::Conditional), Tx::Conditional);
        assert_eq!(Tx::Filter.compose(Tx::Aggregation), Tx::Filter);
        assert_eq!(Tx::Window.compose(Tx::Conditional), Tx::Window);
        assert_eq!(Tx::Identity.bump(), Tx::Transformation);
        assert_eq!(Tx::Filter.bump(), Tx::Filter);
        assert_eq!(Tx::Transformation.agg(), Tx::Aggregation);
        assert_eq!(Tx::Conditional.agg(), Tx::Conditional);
    }

    #[test]
    fn like() {
        assert!(like_ci("a%", "abc"));
        assert!(like_ci("%c", "abc"));
        assert!(like_ci("a_c", "abc"));
        assert!(!like_ci("a_d", "abc"));
        assert!(like_ci("%", ""));
    }
}
