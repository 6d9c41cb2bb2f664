//! Splitting a SQL file into statements.
//!
//! The splitter cuts at every `;` that is not inside a string, a quoted
//! identifier, a comment or a dollar-quoted body. It understands single and
//! double quotes (with doubled-quote escapes and, where the dialect has them,
//! backslash escapes and `E'…'` strings), backticks, `[brackets]` (T-SQL,
//! SQLite), `'''triple'''` quotes (BigQuery), `$$…$$` and `$tag$…$tag$`,
//! `--` and `#` (MySQL, BigQuery, Snowflake, Hive) line comments and `/* */`
//! block comments (nested where the dialect nests them). An unterminated
//! quote or comment runs to the end of the input.
//!
//! Procedural blocks whose body holds bare semicolons (`BEGIN … END` outside
//! a dollar-quoted body) are cut at those semicolons.

use std::ops::Range;

use crate::dialect::{Dialect, Lexical};

/// One piece of the input between semicolons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementText {
    /// The whole piece, from just after the previous `;` (or the start) up to,
    /// not including, the next `;` (or the end). The pieces and the semicolons
    /// between them tile the input.
    pub range: Range<usize>,
    /// The statement itself: `range` without leading and trailing whitespace
    /// and comments. Empty when the piece holds only whitespace and comments.
    pub text: Range<usize>,
    /// The deepest nesting of `(`, `[` and `{` outside quotes and comments.
    pub max_depth: usize,
    /// The byte offset of the first bracket that reaches `max_depth`.
    pub max_depth_at: usize,
}

impl StatementText {
    /// Whether the piece holds no statement.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// Splits `sql` into statements under the dialect's lexical rules.
pub fn split_statements(sql: &str, dialect: Dialect) -> Vec<StatementText> {
    split_with(sql, &dialect.lexical())
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

pub(crate) fn split_with(sql: &str, lx: &Lexical) -> Vec<StatementText> {
    let b = sql.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut first_sig: Option<usize> = None;
    let mut last_sig_end = 0usize;
    let mut i = 0usize;
    let mut depth = 0usize;
    let mut max_depth = 0usize;
    let mut max_depth_at = 0usize;

    macro_rules! significant {
        ($from:expr, $to:expr) => {{
            if first_sig.is_none() {
                first_sig = Some($from);
            }
            last_sig_end = $to;
        }};
    }

    while i < n {
        let c = b[i];
        match c {
            b';' => {
                let text = match first_sig {
                    Some(f) => f..last_sig_end,
                    None => i..i,
                };
                out.push(StatementText {
                    range: start..i,
                    text,
                    max_depth,
                    max_depth_at,
                });
                i += 1;
                start = i;
                first_sig = None;
                last_sig_end = i;
                depth = 0;
                max_depth = 0;
                max_depth_at = i;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = skip_line(b, i + 2);
            }
            b'#' if lx.hash_comments => {
                i = skip_line(b, i + 1);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(b, i + 2, lx.nested_comments);
            }
            b'\'' | b'"' => {
                let from = i;
                let escape = lx.backslash_escape
                    || (c == b'\''
                        && lx.escape_strings
                        && i >= 1
                        && matches!(b[i - 1], b'e' | b'E')
                        && (i < 2 || !is_ident_byte(b[i - 2])));
                if lx.triple_quotes && b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&c) {
                    i = skip_triple(b, i + 3, c, escape);
                } else {
                    i = skip_quoted(b, i + 1, c, escape);
                }
                significant!(from, i);
            }
            b'`' if lx.backtick_quotes => {
                let from = i;
                i = skip_quoted(b, i + 1, b'`', false);
                significant!(from, i);
            }
            b'[' if lx.bracket_quotes => {
                let from = i;
                i = skip_quoted(b, i + 1, b']', false);
                significant!(from, i);
            }
            b'$' if lx.dollar_quotes && (i == 0 || !is_ident_byte(b[i - 1])) => {
                let from = i;
                match dollar_tag_end(b, i) {
                    Some(tag_end) => {
                        let tag = &b[i..tag_end];
                        i = find(b, tag_end, tag).map_or(n, |p| p + tag.len());
                    }
                    None => i += 1,
                }
                significant!(from, i);
            }
            c if c.is_ascii_whitespace() => i += 1,
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    max_depth = depth;
                    max_depth_at = i;
                }
                significant!(i, i + 1);
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                significant!(i, i + 1);
                i += 1;
            }
            _ => {
                // Advance over a whole UTF-8 character.
                let from = i;
                i += 1;
                while i < n && (b[i] & 0xC0) == 0x80 {
                    i += 1;
                }
                significant!(from, i);
            }
        }
    }
    let text = match first_sig {
        Some(f) => f..last_sig_end,
        None => n..n,
    };
    out.push(StatementText {
        range: start..n,
        text,
        max_depth,
        max_depth_at,
    });
    out
}

fn skip_line(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] != b'\n' {
        i += 1;
    }
    i
}

fn skip_block_comment(b: &[u8], mut i: usize, nested: bool) -> usize {
    let mut depth = 1usize;
    while i < b.len() {
        if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else if nested && b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    b.len()
}

/// From just after the opening quote to just after the closing one.
fn skip_quoted(b: &[u8], mut i: usize, close: u8, backslash: bool) -> usize {
    while i < b.len() {
        let c = b[i];
        if backslash && c == b'\\' {
            i += 2;
            continue;
        }
        if c == close {
            if b.get(i + 1) == Some(&close) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

fn skip_triple(b: &[u8], mut i: usize, q: u8, backslash: bool) -> usize {
    while i < b.len() {
        if backslash && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q && b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q) {
            return i + 3;
        }
        i += 1;
    }
    b.len()
}

/// If a dollar-quote tag (`$$` or `$tag$`) starts at `i`, the end of the tag.
fn dollar_tag_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if b.get(j) == Some(&b'$') {
        return Some(j + 1);
    }
    match b.get(j) {
        Some(&c) if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {}
        _ => return None,
    }
    while j < b.len() && is_ident_byte(b[j]) {
        j += 1;
    }
    (b.get(j) == Some(&b'$')).then_some(j + 1)
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Converts byte offsets of a text into 1-based line and column numbers.
/// Columns count characters, and only `\n` ends a line, as in sqlparser.
#[derive(Debug)]
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, c)| c == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { text, starts }
    }

    /// The 1-based (line, column) of the character at byte `offset`.
    pub fn position(&self, offset: usize) -> (u64, u64) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let ls = self.starts[line];
        let col = self
            .text
            .get(ls..offset)
            .map_or(offset - ls, |s| s.chars().count());
        (line as u64 + 1, col as u64 + 1)
    }

    /// The position of the last character before byte `end` (exclusive).
    pub fn last_char_position(&self, start: usize, end: usize) -> (u64, u64) {
        if end <= start {
            return self.position(start);
        }
        let mut p = end - 1;
        while p > start && !self.text.is_char_boundary(p) {
            p -= 1;
        }
        self.position(p)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn texts(sql: &str, d: Dialect) -> Vec<&str> {
        split_statements(sql, d)
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(|p| &sql[p.text])
            .collect()
    }

    #[test]
    fn simple() {
        assert_eq!(
            texts("select 1; select 2;", Dialect::Generic),
            ["select 1", "select 2"]
        );
        assert_eq!(texts("  select 1  ", Dialect::Generic), ["select 1"]);
        assert_eq!(texts(";;", Dialect::Generic), Vec::<&str>::new());
        assert_eq!(split_statements("", Dialect::Generic).len(), 1);
    }

    #[test]
    fn quotes() {
        assert_eq!(
            texts("select 'a;b'; select 2", Dialect::Generic),
            ["select 'a;b'", "select 2"]
        );
        assert_eq!(
            texts("select 'it''s;'; x", Dialect::Generic),
            ["select 'it''s;'", "x"]
        );
        assert_eq!(
            texts(r#"select "a;b" from t; y"#, Dialect::Postgres),
            [r#"select "a;b" from t"#, "y"]
        );
        assert_eq!(
            texts("select `a;b`; y", Dialect::MySql),
            ["select `a;b`", "y"]
        );
        assert_eq!(
            texts("select [a;b] from t; y", Dialect::MsSql),
            ["select [a;b] from t", "y"]
        );
        // Postgres has no backslash escapes in standard strings: 'C:\' ends.
        assert_eq!(
            texts(r"select 'C:\'; y", Dialect::Postgres),
            [r"select 'C:\'", "y"]
        );
        // ...but E'' strings have them.
        assert_eq!(
            texts(r"select E'a\';b'; y", Dialect::Postgres),
            [r"select E'a\';b'", "y"]
        );
        // MySQL has backslash escapes.
        assert_eq!(
            texts(r"select 'a\';b'; y", Dialect::MySql),
            [r"select 'a\';b'", "y"]
        );
        assert_eq!(
            texts("select '''a;b'''; y", Dialect::BigQuery),
            ["select '''a;b'''", "y"]
        );
    }

    #[test]
    fn comments() {
        assert_eq!(
            texts("-- a;b\nselect 1; /* x; */ select 2", Dialect::Generic),
            ["select 1", "select 2"]
        );
        assert_eq!(
            texts(
                "select 1 -- trailing; comment\n; select 2",
                Dialect::Generic
            ),
            ["select 1", "select 2"]
        );
        assert_eq!(texts("# c;\nselect 1", Dialect::MySql), ["select 1"]);
        assert_eq!(
            texts("/* a /* b */ ; */ select 1", Dialect::Postgres),
            ["select 1"]
        );
        // Not nested in MySQL: the first */ ends the comment.
        assert_eq!(
            texts("/* a /* b */ select 1; select 2", Dialect::MySql),
            ["select 1", "select 2"]
        );
        assert_eq!(
            texts("-- only a comment", Dialect::Generic),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn dollar_quotes() {
        let sql = "create function f() returns int as $$ select 1; $$ language sql; select 2";
        assert_eq!(texts(sql, Dialect::Postgres).len(), 2);
        let sql =
            "create function f() returns int as $body$ select '$$'; $body$ language sql; select 2";
        assert_eq!(texts(sql, Dialect::Postgres).len(), 2);
        assert_eq!(
            texts("select $1; select a$b;", Dialect::Postgres),
            ["select $1", "select a$b"]
        );
    }

    #[test]
    fn unterminated_runs_to_end() {
        assert_eq!(
            texts("select 'abc; select 2", Dialect::Generic),
            ["select 'abc; select 2"]
        );
        assert_eq!(
            texts("select 1 /* ; select 2", Dialect::Generic),
            ["select 1"]
        );
    }

    #[test]
    fn depth() {
        let p = split_statements("select ((1)), '(((' ; select [[[x]]]", Dialect::Generic);
        assert_eq!(p[0].max_depth, 2);
        assert_eq!(p[0].max_depth_at, 8);
        assert_eq!(p[1].max_depth, 3);
    }

    #[test]
    fn utf8() {
        assert_eq!(
            texts("select 'é;'; select ü", Dialect::Generic),
            ["select 'é;'", "select ü"]
        );
    }

    #[test]
    fn positions() {
        let t = "ab\ncdé\nf";
        let li = LineIndex::new(t);
        assert_eq!(li.position(0), (1, 1));
        assert_eq!(li.position(3), (2, 1));
        assert_eq!(li.position(5), (2, 3));
        assert_eq!(li.position(8), (3, 1));
        assert_eq!(li.last_char_position(3, 7), (2, 3));
    }
}
