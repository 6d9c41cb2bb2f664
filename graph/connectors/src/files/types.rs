//! Column types: the SQL-ish names govgraph writes as `gg:dataType`, how values found in text
//! are recognised, and how the types of the files of one dataset are unified.

use std::fmt;

/// A column type, as read from a Parquet footer or inferred from text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ty {
    /// No value seen yet (an all-empty column); written as `varchar`.
    Null,
    /// `boolean`.
    Boolean,
    /// An integer of `bits` bits: `tinyint`, `smallint`, `integer`, `bigint`, or their
    /// unsigned forms `utinyint` ... `ubigint`.
    Int {
        /// 8, 16, 32 or 64.
        bits: u8,
        /// Whether negative values are allowed.
        signed: bool,
    },
    /// `float` (32 bits).
    Float,
    /// `double` (64 bits).
    Double,
    /// `decimal(precision,scale)`.
    Decimal(u32, u32),
    /// `date`.
    Date,
    /// `time`.
    Time,
    /// `timestamp`, with or without a zone.
    Timestamp,
    /// `varchar`.
    Varchar,
    /// Any other named type: `blob`, `json`, `uuid`, `interval`...
    Other(&'static str),
    /// `array<element>`.
    Array(Box<Ty>),
    /// `map<key,value>`.
    Map(Box<Ty>, Box<Ty>),
    /// `struct<name:type,...>`.
    Struct(Vec<(String, Ty)>),
}

/// The widest integer.
pub(crate) const BIGINT: Ty = Ty::Int {
    bits: 64,
    signed: true,
};

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Null | Ty::Varchar => f.write_str("varchar"),
            Ty::Boolean => f.write_str("boolean"),
            Ty::Int { bits, signed } => {
                let name = match bits {
                    8 => "tinyint",
                    16 => "smallint",
                    32 => "integer",
                    _ => "bigint",
                };
                if *signed {
                    f.write_str(name)
                } else {
                    write!(f, "u{name}")
                }
            }
            Ty::Float => f.write_str("float"),
            Ty::Double => f.write_str("double"),
            Ty::Decimal(p, s) => write!(f, "decimal({p},{s})"),
            Ty::Date => f.write_str("date"),
            Ty::Time => f.write_str("time"),
            Ty::Timestamp => f.write_str("timestamp"),
            Ty::Other(name) => f.write_str(name),
            Ty::Array(e) => write!(f, "array<{e}>"),
            Ty::Map(k, v) => write!(f, "map<{k},{v}>"),
            Ty::Struct(fields) => {
                f.write_str("struct<")?;
                for (i, (name, ty)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}:{ty}")?;
                }
                f.write_str(">")
            }
        }
    }
}

/// How two types of the same column meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Widen {
    /// Declared types (Parquet): only lossless widening; anything else is a conflict.
    Strict,
    /// Inferred types (CSV, JSON): what cannot widen becomes `varchar`.
    Lenient,
}

/// The narrowest type that holds values of both `a` and `b`, or `None` for a conflict (only
/// under [`Widen::Strict`]).
pub(crate) fn unify(a: &Ty, b: &Ty, mode: Widen) -> Option<Ty> {
    let fallback = || match mode {
        Widen::Strict => None,
        Widen::Lenient => Some(Ty::Varchar),
    };
    match (a, b) {
        _ if a == b => Some(a.clone()),
        (Ty::Null, other) | (other, Ty::Null) => Some(other.clone()),
        (
            Ty::Int {
                bits: b1,
                signed: s1,
            },
            Ty::Int {
                bits: b2,
                signed: s2,
            },
        ) => unify_ints(*b1, *s1, *b2, *s2).or(match mode {
            Widen::Strict => None,
            Widen::Lenient => Some(Ty::Double),
        }),
        (Ty::Int { .. } | Ty::Float | Ty::Double, Ty::Int { .. } | Ty::Float | Ty::Double) => {
            Some(Ty::Double)
        }
        (Ty::Decimal(p1, s1), Ty::Decimal(p2, s2)) => {
            let scale = (*s1).max(*s2);
            let digits = p1.saturating_sub(*s1).max(p2.saturating_sub(*s2));
            Some(Ty::Decimal((digits + scale).min(38), scale))
        }
        (Ty::Date, Ty::Timestamp) | (Ty::Timestamp, Ty::Date) => Some(Ty::Timestamp),
        (Ty::Array(x), Ty::Array(y)) => match unify(x, y, mode) {
            Some(e) => Some(Ty::Array(Box::new(e))),
            None => fallback(),
        },
        (Ty::Map(k1, v1), Ty::Map(k2, v2)) => match (unify(k1, k2, mode), unify(v1, v2, mode)) {
            (Some(k), Some(v)) => Some(Ty::Map(Box::new(k), Box::new(v))),
            _ => fallback(),
        },
        (Ty::Struct(x), Ty::Struct(y)) => match unify_fields(x, y, mode) {
            Some(fields) => Some(Ty::Struct(fields)),
            None => fallback(),
        },
        _ => fallback(),
    }
}

fn unify_ints(b1: u8, s1: bool, b2: u8, s2: bool) -> Option<Ty> {
    if s1 == s2 {
        return Some(Ty::Int {
            bits: b1.max(b2),
            signed: s1,
        });
    }
    // A signed type holds an unsigned one of half its width.
    let (signed_bits, unsigned_bits) = if s1 { (b1, b2) } else { (b2, b1) };
    let bits = signed_bits.max(unsigned_bits.saturating_mul(2));
    (bits <= 64).then_some(Ty::Int { bits, signed: true })
}

/// The fields of two structs, by name, in first-seen order.
pub(crate) fn unify_fields(
    x: &[(String, Ty)],
    y: &[(String, Ty)],
    mode: Widen,
) -> Option<Vec<(String, Ty)>> {
    let mut out: Vec<(String, Ty)> = x.to_vec();
    for (name, ty) in y {
        match out.iter_mut().find(|(n, _)| n == name) {
            Some((_, existing)) => *existing = unify(existing, ty, mode)?,
            None => out.push((name.clone(), ty.clone())),
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Recognising values in text

/// How a text value reads as missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// A value.
    No,
    /// Empty, `NULL`, `null`, `Null` or `\N`: missing in any column.
    Always,
    /// `NA`, `N/A` or `n/a`: missing in a column of numbers, dates or booleans, but a value
    /// in a text column (`NA` is also North America and Namibia).
    InTypedColumn,
}

/// Whether a text value spells a missing value.
pub(crate) fn missing(s: &str) -> Missing {
    match s.trim() {
        "" | "NULL" | "null" | "Null" | "\\N" => Missing::Always,
        "NA" | "N/A" | "n/a" => Missing::InTypedColumn,
        _ => Missing::No,
    }
}

/// Whether a text value may spell a missing value.
pub(crate) fn is_null_token(s: &str) -> bool {
    missing(s) != Missing::No
}

/// `true` or `false`, in any case.
pub(crate) fn is_bool(s: &str) -> bool {
    s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false")
}

/// Splits an optional sign from a number.
fn unsigned_part(s: &str) -> &str {
    s.strip_prefix(['+', '-']).unwrap_or(s)
}

/// A run of ASCII digits without a meaningless leading zero (`0` alone is fine).
fn plain_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s.len() == 1 || !s.starts_with('0'))
}

/// A 64-bit integer. Leading zeros (`007`, a postal code) make it text, not a number.
pub(crate) fn is_int(s: &str) -> bool {
    plain_digits(unsigned_part(s)) && s.parse::<i64>().is_ok()
}

/// A 64-bit integer, leading zeros allowed (partition values such as `month=01`).
pub(crate) fn is_int_lax(s: &str) -> bool {
    let digits = unsigned_part(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && s.parse::<i64>().is_ok()
}

/// A decimal number: `12`, `-3.5`, `.5`, `1e6`, `2.5E-3`. No `inf` or `NaN` words.
pub(crate) fn is_double(s: &str) -> bool {
    let body = unsigned_part(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (body.get(..i).unwrap_or(""), body.get(i + 1..)),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let int_ok = if int.is_empty() {
        frac.is_some_and(|f| !f.is_empty())
    } else {
        plain_digits(int)
    };
    let frac_ok = frac.is_none_or(|f| f.bytes().all(|b| b.is_ascii_digit()));
    let exp_ok = exponent.is_none_or(|e| {
        let e = unsigned_part(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    int_ok && frac_ok && exp_ok && s.parse::<f64>().is_ok_and(f64::is_finite)
}

fn number(s: &str, len: usize) -> Option<u32> {
    if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

/// An ISO 8601 calendar date, `yyyy-mm-dd`, that exists.
pub(crate) fn is_date(s: &str) -> bool {
    let mut parts = s.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    match (number(y, 4), number(m, 2), number(d, 2)) {
        (Some(y), Some(m), Some(d)) => d >= 1 && d <= days_in_month(y, m),
        _ => false,
    }
}

/// `hh:mm[:ss[.fraction]]`.
fn is_time(s: &str) -> bool {
    let mut parts = s.splitn(3, ':');
    let (Some(h), Some(m)) = (parts.next(), parts.next()) else {
        return false;
    };
    let seconds_ok = parts.next().is_none_or(|sec| {
        let (whole, frac) = match sec.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (sec, None),
        };
        number(whole, 2).is_some_and(|v| v <= 60)
            && frac.is_none_or(|f| {
                !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit())
            })
    });
    number(h, 2).is_some_and(|v| v <= 23) && number(m, 2).is_some_and(|v| v <= 59) && seconds_ok
}

/// `Z`, `±hh`, `±hhmm` or `±hh:mm`.
fn is_zone(s: &str) -> bool {
    if s == "Z" || s == "z" {
        return true;
    }
    let Some(rest) = s.strip_prefix(['+', '-']) else {
        return false;
    };
    let (h, m) = match rest.len() {
        2 => (rest, "00"),
        4 => (rest.get(..2).unwrap_or(""), rest.get(2..).unwrap_or("")),
        5 => match rest.split_once(':') {
            Some(hm) => hm,
            None => return false,
        },
        _ => return false,
    };
    number(h, 2).is_some_and(|v| v <= 23) && number(m, 2).is_some_and(|v| v <= 59)
}

/// An ISO 8601 date and time, `T` or a space between them, with or without a zone:
/// `2024-03-01T12:30`, `2024-03-01 12:30:00.123`, `2024-03-01T12:30:00Z`, `...+01:00`.
pub(crate) fn is_timestamp(s: &str) -> bool {
    let Some(date) = s.get(..10) else {
        return false;
    };
    let Some(rest) = s.get(10..) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(['T', ' ']) else {
        return false;
    };
    if !is_date(date) {
        return false;
    }
    let zone_at = rest
        .find(['Z', 'z', '+'])
        .or_else(|| rest.get(1..).and_then(|r| r.find('-')).map(|i| i + 1));
    match zone_at {
        Some(i) => match (rest.get(..i), rest.get(i..)) {
            (Some(time), Some(zone)) => is_time(time) && is_zone(zone),
            _ => false,
        },
        None => is_time(rest),
    }
}

/// What a text column can still be, narrowed value by value.
#[derive(Debug, Clone)]
pub(crate) struct Guess {
    seen: bool,
    boolean: bool,
    int: bool,
    double: bool,
    date: bool,
    timestamp: bool,
}

impl Default for Guess {
    fn default() -> Self {
        Self {
            seen: false,
            boolean: true,
            int: true,
            double: true,
            date: true,
            timestamp: true,
        }
    }
}

impl Guess {
    /// Narrows the guess with one non-null value.
    pub(crate) fn observe(&mut self, value: &str) {
        let v = value.trim();
        self.seen = true;
        self.boolean = self.boolean && is_bool(v);
        self.int = self.int && is_int(v);
        self.double = self.double && is_double(v);
        let date = is_date(v);
        self.date = self.date && date;
        self.timestamp = self.timestamp && (date || is_timestamp(v));
    }

    /// The narrowest type that fits every value seen.
    pub(crate) fn ty(&self) -> Ty {
        if !self.seen {
            Ty::Null
        } else if self.boolean {
            Ty::Boolean
        } else if self.int {
            BIGINT
        } else if self.double {
            Ty::Double
        } else if self.date {
            Ty::Date
        } else if self.timestamp {
            Ty::Timestamp
        } else {
            Ty::Varchar
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn values_are_recognised() {
        for v in ["0", "-12", "+7", "9223372036854775807"] {
            assert!(is_int(v), "{v}");
        }
        for v in ["007", "", "-", "1.0", "9223372036854775808", "1_000"] {
            assert!(!is_int(v), "{v}");
        }
        for v in ["1.5", "-0.25", ".5", "1e6", "2.5E-3", "10"] {
            assert!(is_double(v), "{v}");
        }
        for v in ["inf", "NaN", "00.5", "1e", "e5", "1,5", ".", "-"] {
            assert!(!is_double(v), "{v}");
        }
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2024-13-01"));
        for v in [
            "2024-03-01T12:30",
            "2024-03-01 12:30:00",
            "2024-03-01T12:30:00.123456Z",
            "2024-03-01T12:30:00+01:00",
            "2024-03-01T12:30:00-0500",
            "2024-03-01T12:30:00+02",
        ] {
            assert!(is_timestamp(v), "{v}");
        }
        for v in [
            "2024-03-01",
            "2024-03-01T25:00",
            "2024-03-01T12:30:00+1",
            "2024-03-01X12:00",
        ] {
            assert!(!is_timestamp(v), "{v}");
        }
    }

    #[test]
    fn guesses_narrow() {
        let ty = |vals: &[&str]| {
            let mut g = Guess::default();
            for v in vals {
                g.observe(v);
            }
            g.ty().to_string()
        };
        assert_eq!(ty(&["1", "2"]), "bigint");
        assert_eq!(ty(&["1", "2.5"]), "double");
        assert_eq!(ty(&["true", "FALSE"]), "boolean");
        assert_eq!(ty(&["2024-01-01", "2024-01-02T10:00:00Z"]), "timestamp");
        assert_eq!(ty(&["2024-01-01"]), "date");
        assert_eq!(ty(&["1", "x"]), "varchar");
        assert_eq!(ty(&["01234"]), "varchar");
        assert_eq!(ty(&[]), "varchar");
    }

    #[test]
    fn types_unify() {
        let u = |a: &Ty, b: &Ty, m| unify(a, b, m).map(|t| t.to_string());
        let int = Ty::Int {
            bits: 32,
            signed: true,
        };
        assert_eq!(u(&int, &BIGINT, Widen::Strict).as_deref(), Some("bigint"));
        assert_eq!(
            u(&int, &Ty::Double, Widen::Strict).as_deref(),
            Some("double")
        );
        assert_eq!(u(&int, &Ty::Varchar, Widen::Strict), None);
        assert_eq!(
            u(&int, &Ty::Varchar, Widen::Lenient).as_deref(),
            Some("varchar")
        );
        assert_eq!(
            u(&Ty::Decimal(10, 2), &Ty::Decimal(12, 4), Widen::Strict).as_deref(),
            Some("decimal(12,4)")
        );
        let unsigned = Ty::Int {
            bits: 32,
            signed: false,
        };
        assert_eq!(u(&int, &unsigned, Widen::Strict).as_deref(), Some("bigint"));
        assert_eq!(
            u(
                &BIGINT,
                &Ty::Int {
                    bits: 64,
                    signed: false
                },
                Widen::Strict
            ),
            None
        );
        let s1 = Ty::Struct(vec![("a".into(), int.clone())]);
        let s2 = Ty::Struct(vec![("b".into(), Ty::Varchar)]);
        assert_eq!(
            u(&s1, &s2, Widen::Strict).as_deref(),
            Some("struct<a:integer,b:varchar>")
        );
    }
}
