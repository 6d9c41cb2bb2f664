//! Row predicates written in SQL, evaluated over text rows.
//!
//! Rules select their failing rows with a SQL predicate. PostgreSQL runs it as it is; for
//! files it is parsed here (PostgreSQL syntax) and evaluated row by row with SQL's three-valued
//! logic, so one definition holds on every source. The subset covers what rules and check
//! constraints use: comparisons, `AND`/`OR`/`NOT`, `IS [NOT] NULL`, `[NOT] IN`, `BETWEEN`,
//! `LIKE`/`ILIKE`, the regular-expression operators `~`, `~*`, `!~`, `!~*`, casts, arithmetic,
//! the functions `length`, `char_length`, `lower`, `upper`, `trim`, `abs` and `coalesce`, and
//! `CURRENT_TIMESTAMP`, `CURRENT_DATE` and `now()`.

use std::cmp::Ordering;

use regex::Regex;
use sqlparser::ast::{
    BinaryOperator, CastKind, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    UnaryOperator, Value as SqlValue,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// A cell: absent (SQL NULL) or text. Numbers and dates are compared as such when both sides
/// read as one.
pub type Cell<'a> = Option<std::borrow::Cow<'a, str>>;

/// A compiled predicate over the columns of one table.
#[derive(Debug, Clone)]
pub struct Predicate {
    root: Node,
}

#[derive(Debug, Clone)]
enum Node {
    Column(usize),
    Literal(Option<String>),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Compare(Box<Node>, Ordering, bool, Box<Node>),
    IsNull(Box<Node>, bool),
    InList(Box<Node>, Vec<Node>, bool),
    Between(Box<Node>, Box<Node>, Box<Node>, bool),
    Matches(Box<Node>, Regex, bool),
    MatchesDynamic(Box<Node>, Box<Node>, bool, bool),
    Arithmetic(Box<Node>, char, Box<Node>),
    Negate(Box<Node>),
    Function(Function, Vec<Node>),
}

#[derive(Debug, Clone, Copy)]
enum Function {
    Length,
    Lower,
    Upper,
    Trim,
    Abs,
    Coalesce,
    Now,
}

impl Predicate {
    /// Parses `sql`, resolving column names (case-insensitively, quoted or not) against
    /// `columns`.
    pub fn parse(sql: &str, columns: &[String]) -> Result<Self, String> {
        let expr = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(sql)
            .and_then(|mut p| p.parse_expr())
            .map_err(|e| e.to_string())?;
        Ok(Self {
            root: compile(&expr, columns)?,
        })
    }

    /// SQL's answer for one row: `Some(true)`, `Some(false)` or `None` (unknown).
    pub fn eval(&self, row: &[Option<&str>]) -> Option<bool> {
        truth(&self.root, row)
    }
}

fn compile(e: &Expr, columns: &[String]) -> Result<Node, String> {
    let b = |e: &Expr| compile(e, columns).map(Box::new);
    Ok(match e {
        Expr::Identifier(id) => column(&id.value, columns)?,
        Expr::CompoundIdentifier(ids) => match ids.last() {
            Some(id) => column(&id.value, columns)?,
            None => return Err("empty identifier".to_owned()),
        },
        Expr::Nested(inner) => compile(inner, columns)?,
        Expr::Value(v) => Node::Literal(literal(&v.value)?),
        Expr::TypedString(t) => Node::Literal(literal(&t.value.value)?),
        Expr::Cast {
            kind: CastKind::Cast | CastKind::DoubleColon,
            expr,
            data_type,
            ..
        } => cast(compile(expr, columns)?, data_type),
        Expr::UnaryOp { op, expr } => match op {
            UnaryOperator::Not => Node::Not(b(expr)?),
            UnaryOperator::Minus => Node::Negate(b(expr)?),
            UnaryOperator::Plus => compile(expr, columns)?,
            other => return Err(format!("unsupported operator {other}")),
        },
        Expr::BinaryOp { left, op, right } => {
            let (l, r) = (b(left)?, b(right)?);
            match op {
                BinaryOperator::And => Node::And(l, r),
                BinaryOperator::Or => Node::Or(l, r),
                BinaryOperator::Eq => Node::Compare(l, Ordering::Equal, true, r),
                BinaryOperator::NotEq => Node::Compare(l, Ordering::Equal, false, r),
                BinaryOperator::Lt => Node::Compare(l, Ordering::Less, true, r),
                BinaryOperator::GtEq => Node::Compare(l, Ordering::Less, false, r),
                BinaryOperator::Gt => Node::Compare(l, Ordering::Greater, true, r),
                BinaryOperator::LtEq => Node::Compare(l, Ordering::Greater, false, r),
                BinaryOperator::Plus => Node::Arithmetic(l, '+', r),
                BinaryOperator::Minus => Node::Arithmetic(l, '-', r),
                BinaryOperator::Multiply => Node::Arithmetic(l, '*', r),
                BinaryOperator::Divide => Node::Arithmetic(l, '/', r),
                BinaryOperator::Modulo => Node::Arithmetic(l, '%', r),
                BinaryOperator::StringConcat => Node::Arithmetic(l, '|', r),
                BinaryOperator::PGRegexMatch => regex_node(l, *r, false, true)?,
                BinaryOperator::PGRegexIMatch => regex_node(l, *r, true, true)?,
                BinaryOperator::PGRegexNotMatch => regex_node(l, *r, false, false)?,
                BinaryOperator::PGRegexNotIMatch => regex_node(l, *r, true, false)?,
                other => return Err(format!("unsupported operator {other}")),
            }
        }
        Expr::IsNull(x) => Node::IsNull(b(x)?, true),
        Expr::IsNotNull(x) => Node::IsNull(b(x)?, false),
        Expr::InList {
            expr,
            list,
            negated,
        } => Node::InList(
            b(expr)?,
            list.iter()
                .map(|x| compile(x, columns))
                .collect::<Result<_, _>>()?,
            !negated,
        ),
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => Node::Between(b(expr)?, b(low)?, b(high)?, !negated),
        Expr::Like {
            negated,
            any: false,
            expr,
            pattern,
            escape_char: None,
        } => like(b(expr)?, compile(pattern, columns)?, false, !negated)?,
        Expr::ILike {
            negated,
            any: false,
            expr,
            pattern,
            escape_char: None,
        } => like(b(expr)?, compile(pattern, columns)?, true, !negated)?,
        Expr::Function(f)
            if matches!(f.args, FunctionArguments::None)
                || matches!(&f.args, FunctionArguments::List(l) if l.args.is_empty()) =>
        {
            let name = f.name.to_string().to_ascii_lowercase();
            match name.as_str() {
                "current_timestamp" | "now" | "localtimestamp" | "current_date" => {
                    Node::Function(Function::Now, Vec::new())
                }
                other => return Err(format!("unsupported function {other}()")),
            }
        }
        Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_lowercase();
            let function = match name.as_str() {
                "length" | "char_length" | "character_length" => Function::Length,
                "lower" => Function::Lower,
                "upper" => Function::Upper,
                "trim" | "btrim" => Function::Trim,
                "abs" => Function::Abs,
                "coalesce" => Function::Coalesce,
                other => return Err(format!("unsupported function {other}()")),
            };
            let FunctionArguments::List(list) = &f.args else {
                return Err(format!("{name}() needs arguments"));
            };
            let args = list
                .args
                .iter()
                .map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => compile(x, columns),
                    _ => Err(format!("unsupported argument to {name}()")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            if args.is_empty() {
                return Err(format!("{name}() needs arguments"));
            }
            Node::Function(function, args)
        }
        Expr::Trim { expr, .. } => Node::Function(Function::Trim, vec![compile(expr, columns)?]),
        other => return Err(format!("unsupported expression {other}")),
    })
}

fn column(name: &str, columns: &[String]) -> Result<Node, String> {
    columns
        .iter()
        .position(|c| c == name)
        .or_else(|| columns.iter().position(|c| c.eq_ignore_ascii_case(name)))
        .map(Node::Column)
        .ok_or_else(|| format!("no column {name:?}"))
}

fn literal(v: &SqlValue) -> Result<Option<String>, String> {
    Ok(match v {
        SqlValue::Null => None,
        SqlValue::Number(n, _) => Some(n.clone()),
        SqlValue::Boolean(b) => Some(b.to_string()),
        SqlValue::SingleQuotedString(s)
        | SqlValue::DoubleQuotedString(s)
        | SqlValue::EscapedStringLiteral(s)
        | SqlValue::NationalStringLiteral(s) => Some(s.clone()),
        other => return Err(format!("unsupported literal {other}")),
    })
}

/// Casts only matter for regular-expression and `LIKE` matching, which see the text anyway,
/// and for dates, which compare as dates when they read as dates; the value passes through.
fn cast(node: Node, _to: &DataType) -> Node {
    node
}

fn regex_node(l: Box<Node>, r: Node, insensitive: bool, positive: bool) -> Result<Node, String> {
    match r {
        Node::Literal(Some(p)) => {
            let p = if insensitive { format!("(?i){p}") } else { p };
            let re = Regex::new(&p).map_err(|e| format!("bad regular expression: {e}"))?;
            Ok(Node::Matches(l, re, positive))
        }
        other => Ok(Node::MatchesDynamic(
            l,
            Box::new(other),
            insensitive,
            positive,
        )),
    }
}

/// `LIKE` patterns become anchored regular expressions.
fn like(l: Box<Node>, pattern: Node, insensitive: bool, positive: bool) -> Result<Node, String> {
    match pattern {
        Node::Literal(Some(p)) => {
            let re = like_regex(&p, insensitive)?;
            Ok(Node::Matches(l, re, positive))
        }
        _ => Err("LIKE needs a literal pattern".to_owned()),
    }
}

fn like_regex(p: &str, insensitive: bool) -> Result<Regex, String> {
    let mut re = String::from(if insensitive { "(?is)^" } else { "(?s)^" });
    for c in p.chars() {
        match c {
            '%' => re.push_str(".*"),
            '_' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).map_err(|e| e.to_string())
}

/// A value as a number, when it reads as one.
fn number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// A value as a date or timestamp key (`YYYY-MM-DD HH:MM:SS.ffffff`, a bare date at
/// midnight), when it reads as one; built on the stack, as it runs for every row.
fn date_key(s: &str) -> Option<([u8; 26], usize)> {
    let b = s.trim().as_bytes();
    let is_date = b.len() >= 10
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && b.iter().take(4).all(u8::is_ascii_digit);
    if !is_date {
        return None;
    }
    let mut key = [0u8; 26];
    let mut n = 0;
    for (i, &c) in b.iter().enumerate() {
        if n == key.len()
            || c == b'Z'
            || c == b'+'
            || (c == b' ' && i > 10)
            || (c == b'-' && i > 10)
        {
            break;
        }
        key[n] = if i == 10 && c == b'T' { b' ' } else { c };
        n += 1;
    }
    if n == 10 {
        for c in b" 00:00:00" {
            key[n] = *c;
            n += 1;
        }
    }
    Some((key, n))
}

/// Compares two non-null values: as numbers, then as dates, then as text.
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
    }
    if let (Some((x, n)), Some((y, m))) = (date_key(a), date_key(b)) {
        return x[..n].cmp(&y[..m]);
    }
    a.cmp(b)
}

fn value<'a>(n: &'a Node, row: &[Option<&'a str>]) -> Cell<'a> {
    use std::borrow::Cow;
    match n {
        Node::Column(i) => row.get(*i).copied().flatten().map(Cow::Borrowed),
        Node::Literal(v) => v.as_deref().map(Cow::Borrowed),
        Node::Arithmetic(l, op, r) => {
            let (a, b) = (value(l, row)?, value(r, row)?);
            if *op == '|' {
                return Some(Cow::Owned(format!("{a}{b}")));
            }
            let (x, y) = (number(&a)?, number(&b)?);
            let z = match op {
                '+' => x + y,
                '-' => x - y,
                '*' => x * y,
                '/' if y != 0.0 => x / y,
                '%' if y != 0.0 => x % y,
                _ => return None,
            };
            Some(Cow::Owned(format_number(z)))
        }
        Node::Negate(x) => {
            let v = number(&value(x, row)?)?;
            Some(Cow::Owned(format_number(-v)))
        }
        Node::Function(f, args) => match f {
            Function::Now => Some(Cow::Owned(crate::profile::accumulate::timestamp_string(
                super::run::now_micros(),
            ))),
            Function::Coalesce => args.iter().find_map(|a| value(a, row)),
            Function::Length => {
                let v = value(args.first()?, row)?;
                Some(Cow::Owned(v.chars().count().to_string()))
            }
            Function::Lower => Some(Cow::Owned(value(args.first()?, row)?.to_lowercase())),
            Function::Upper => Some(Cow::Owned(value(args.first()?, row)?.to_uppercase())),
            Function::Trim => Some(Cow::Owned(value(args.first()?, row)?.trim().to_owned())),
            Function::Abs => {
                let v = number(&value(args.first()?, row)?)?;
                Some(Cow::Owned(format_number(v.abs())))
            }
        },
        // A boolean sub-expression used as a value.
        other => truth(other, row).map(|b| Cow::Borrowed(if b { "true" } else { "false" })),
    }
}

fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn boolean(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "y" => Some(true),
        "false" | "f" | "0" | "no" | "n" => Some(false),
        _ => None,
    }
}

fn truth(n: &Node, row: &[Option<&str>]) -> Option<bool> {
    match n {
        Node::Not(x) => truth(x, row).map(|b| !b),
        Node::And(l, r) => match (truth(l, row), truth(r, row)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Node::Or(l, r) => match (truth(l, row), truth(r, row)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Node::Compare(l, ord, positive, r) => {
            let (a, b) = (value(l, row)?, value(r, row)?);
            Some((compare(&a, &b) == *ord) == *positive)
        }
        Node::IsNull(x, positive) => Some(value(x, row).is_none() == *positive),
        Node::InList(x, list, positive) => {
            let v = value(x, row)?;
            let mut unknown = false;
            for item in list {
                match value(item, row) {
                    Some(i) if compare(&v, &i) == Ordering::Equal => return Some(*positive),
                    Some(_) => {}
                    None => unknown = true,
                }
            }
            if unknown { None } else { Some(!*positive) }
        }
        Node::Between(x, low, high, positive) => {
            let (v, lo, hi) = (value(x, row)?, value(low, row)?, value(high, row)?);
            let inside =
                compare(&v, &lo) != Ordering::Less && compare(&v, &hi) != Ordering::Greater;
            Some(inside == *positive)
        }
        Node::Matches(x, re, positive) => Some(re.is_match(&value(x, row)?) == *positive),
        Node::MatchesDynamic(x, p, insensitive, positive) => {
            let (v, p) = (value(x, row)?, value(p, row)?);
            let p = if *insensitive {
                format!("(?i){p}")
            } else {
                p.into_owned()
            };
            let re = Regex::new(&p).ok()?;
            Some(re.is_match(&v) == *positive)
        }
        other => value(other, row).and_then(|v| boolean(&v)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn eval(sql: &str, row: &[Option<&str>]) -> Option<bool> {
        let columns = ["a".to_owned(), "B".to_owned(), "c".to_owned()];
        Predicate::parse(sql, &columns).unwrap().eval(row)
    }

    #[test]
    fn three_valued_logic() {
        assert_eq!(eval("a > 10", &[Some("9.5"), None, None]), Some(false));
        assert_eq!(eval("a > 10", &[Some("10.5"), None, None]), Some(true));
        assert_eq!(eval("a > 10", &[None, None, None]), None);
        assert_eq!(eval("a > 10 OR b IS NULL", &[None, None, None]), Some(true));
        assert_eq!(eval("a > 10 AND b IS NULL", &[None, None, None]), None);
        assert_eq!(
            eval("NOT (a IN ('x', 'y'))", &[Some("x"), None, None]),
            Some(false)
        );
        assert_eq!(eval("a NOT IN ('x', NULL)", &[Some("z"), None, None]), None);
    }

    #[test]
    fn numbers_dates_and_text_compare_as_such() {
        assert_eq!(eval("a < 9", &[Some("10"), None, None]), Some(false));
        assert_eq!(
            eval(
                "a >= '2024-01-01'",
                &[Some("2024-01-01T08:00:00Z"), None, None]
            ),
            Some(true)
        );
        assert_eq!(eval("a < 'b'", &[Some("a"), None, None]), Some(true));
        assert_eq!(eval("a + b = 3", &[Some("1"), Some("2"), None]), Some(true));
        assert_eq!(
            eval("a BETWEEN 1 AND 5", &[Some("5"), None, None]),
            Some(true)
        );
    }

    #[test]
    fn patterns_functions_and_casts() {
        let email = "a::text !~ '^[^@]+@[^@]+\\.[a-z]+$'";
        assert_eq!(eval(email, &[Some("x@y.org"), None, None]), Some(false));
        assert_eq!(eval(email, &[Some("x-at-y"), None, None]), Some(true));
        assert_eq!(
            eval("a ILIKE 'ab%'", &[Some("ABC"), None, None]),
            Some(true)
        );
        assert_eq!(
            eval("length(trim(a)) = 2", &[Some(" ab "), None, None]),
            Some(true)
        );
        assert_eq!(
            eval("coalesce(a, c) = 'z'", &[None, None, Some("z")]),
            Some(true)
        );
        assert_eq!(eval("\"b\" = 'q'", &[None, Some("q"), None]), Some(true));
    }

    #[test]
    fn bad_predicates_are_errors() {
        let columns = ["a".to_owned()];
        assert!(Predicate::parse("nope = 1", &columns).is_err());
        assert!(Predicate::parse("a = ", &columns).is_err());
        assert!(Predicate::parse("a ~ '('", &columns).is_err());
        assert!(Predicate::parse("random() > a", &columns).is_err());
    }
}
