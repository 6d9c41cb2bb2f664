//! One column's running statistics.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::sketch::{FxBuild, Hll, hash_bytes, hash_u64};
use super::{ColumnProfile, EXACT_DISTINCT, PatternCount, TOP_VALUES, ValueCount};
use crate::classify::{Category, ColumnSample, classify_column, values};

/// What a column's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Whole numbers.
    Integer,
    /// Fixed-point numbers with this many decimal places.
    Decimal(u32),
    /// Floating-point numbers.
    Float,
    /// true/false.
    Boolean,
    /// Days since 1970-01-01.
    Date,
    /// Microseconds since 1970-01-01T00:00:00Z.
    Timestamp,
    /// Text (and anything else, as text).
    Text,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Integer => "integer",
            Kind::Decimal(_) => "decimal",
            Kind::Float => "float",
            Kind::Boolean => "boolean",
            Kind::Date => "date",
            Kind::Timestamp => "timestamp",
            Kind::Text => "text",
        }
    }
    fn numeric(self) -> bool {
        matches!(self, Kind::Integer | Kind::Decimal(_) | Kind::Float)
    }
}

/// Values whose patterns and semantic type are looked at.
const PATTERN_SAMPLE: usize = 1_000;

/// Running statistics of one column.
#[derive(Debug)]
pub(crate) struct Accumulator {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    rows: u64,
    nulls: u64,
    // numbers (and dates, timestamps and booleans by their numeric value)
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    numbers: Vec<f64>,
    // text
    text_min: Option<String>,
    text_max: Option<String>,
    len_min: u64,
    len_max: u64,
    len_sum: u64,
    // distinct values and their counts
    number_counts: HashMap<u64, u64, FxBuild>,
    text_counts: HashMap<Box<str>, u64, FxBuild>,
    overflow: bool,
    hll: Hll,
    sample: Vec<String>,
}

impl Accumulator {
    pub(crate) fn new(name: impl Into<String>, kind: Kind) -> Self {
        Self {
            name: name.into(),
            kind,
            rows: 0,
            nulls: 0,
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            numbers: Vec::new(),
            text_min: None,
            text_max: None,
            len_min: u64::MAX,
            len_max: 0,
            len_sum: 0,
            number_counts: HashMap::with_hasher(FxBuild),
            text_counts: HashMap::with_hasher(FxBuild),
            overflow: false,
            hll: Hll::default(),
            sample: Vec::new(),
        }
    }

    pub(crate) fn null(&mut self) {
        self.rows += 1;
        self.nulls += 1;
    }

    /// A non-null number (for dates: days; timestamps: microseconds; booleans: 0 or 1).
    pub(crate) fn number(&mut self, x: f64) {
        self.rows += 1;
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
        if x < self.min {
            self.min = x;
        }
        if x > self.max {
            self.max = x;
        }
        self.numbers.push(x);
        let bits = if x == 0.0 { 0 } else { x.to_bits() };
        self.hll.add(hash_u64(bits));
        if !self.overflow {
            if let Some(c) = self.number_counts.get_mut(&bits) {
                *c += 1;
            } else if self.number_counts.len() < EXACT_DISTINCT {
                self.number_counts.insert(bits, 1);
            } else {
                self.overflow = true;
            }
        }
        if self.sample.len() < PATTERN_SAMPLE {
            self.sample.push(self.show(x));
        }
    }

    /// A non-null text value.
    pub(crate) fn text(&mut self, s: &str) {
        self.rows += 1;
        self.n += 1;
        let len = s.chars().count() as u64;
        self.len_min = self.len_min.min(len);
        self.len_max = self.len_max.max(len);
        self.len_sum += len;
        if self.text_min.as_deref().is_none_or(|m| s < m) {
            self.text_min = Some(s.to_owned());
        }
        if self.text_max.as_deref().is_none_or(|m| s > m) {
            self.text_max = Some(s.to_owned());
        }
        self.hll.add(hash_bytes(s.as_bytes()));
        if !self.overflow {
            if let Some(c) = self.text_counts.get_mut(s) {
                *c += 1;
            } else if self.text_counts.len() < EXACT_DISTINCT {
                self.text_counts.insert(s.into(), 1);
            } else {
                self.overflow = true;
            }
        }
        if self.sample.len() < PATTERN_SAMPLE {
            self.sample.push(s.to_owned());
        }
    }

    /// Takes in what `other` saw of the same column, as though its rows came after these
    /// (so the first values sampled for patterns stay the first). Distinct values stay exact
    /// while the union fits [`EXACT_DISTINCT`]; beyond that the HyperLogLogs merge.
    #[cfg_attr(not(feature = "datafusion"), allow(dead_code))]
    pub(crate) fn merge(&mut self, other: Accumulator) {
        self.rows += other.rows;
        self.nulls += other.nulls;
        if other.n > 0 {
            let n = self.n + other.n;
            let delta = other.mean - self.mean;
            self.m2 += other.m2 + delta * delta * (self.n as f64) * (other.n as f64) / n as f64;
            self.mean += delta * other.n as f64 / n as f64;
            self.n = n;
        }
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.numbers.extend(other.numbers);
        if let Some(m) = other.text_min
            && self.text_min.as_deref().is_none_or(|x| m.as_str() < x)
        {
            self.text_min = Some(m);
        }
        if let Some(m) = other.text_max
            && self.text_max.as_deref().is_none_or(|x| m.as_str() > x)
        {
            self.text_max = Some(m);
        }
        self.len_min = self.len_min.min(other.len_min);
        self.len_max = self.len_max.max(other.len_max);
        self.len_sum += other.len_sum;
        self.hll.merge(&other.hll);
        self.overflow |= other.overflow;
        if !self.overflow {
            for (k, c) in other.number_counts {
                *self.number_counts.entry(k).or_default() += c;
            }
            for (k, c) in other.text_counts {
                *self.text_counts.entry(k).or_default() += c;
            }
            if self.number_counts.len() + self.text_counts.len() > EXACT_DISTINCT {
                self.overflow = true;
            }
        }
        let room = PATTERN_SAMPLE.saturating_sub(self.sample.len());
        self.sample.extend(other.sample.into_iter().take(room));
    }

    /// A number as the column shows it.
    fn show(&self, x: f64) -> String {
        match self.kind {
            Kind::Integer => format!("{}", x as i64),
            Kind::Decimal(scale) => format!("{x:.*}", scale as usize),
            Kind::Boolean => (x != 0.0).to_string(),
            Kind::Date => date_string(x as i64),
            Kind::Timestamp => timestamp_string(x as i64),
            Kind::Float | Kind::Text => format!("{x}"),
        }
    }

    fn json_number(&self, x: f64) -> Value {
        match self.kind {
            Kind::Integer => json!(x as i64),
            Kind::Decimal(scale) => {
                let f = 10f64.powi(scale as i32);
                json!((x * f).round() / f)
            }
            Kind::Date | Kind::Timestamp | Kind::Boolean => json!(self.show(x)),
            Kind::Float | Kind::Text => json!(x),
        }
    }

    pub(crate) fn finish(mut self) -> ColumnProfile {
        let non_null = self.n;
        let distinct_is_approximate = self.overflow;
        let distinct_count = if self.overflow {
            self.hll.estimate()
        } else {
            (self.number_counts.len() + self.text_counts.len()) as u64
        };
        let mut top: Vec<ValueCount> = if self.text_counts.is_empty() {
            let mut v: Vec<(u64, u64)> = self.number_counts.iter().map(|(k, c)| (*k, *c)).collect();
            v.sort_unstable_by(|a, b| {
                b.1.cmp(&a.1)
                    .then(f64::from_bits(a.0).total_cmp(&f64::from_bits(b.0)))
            });
            v.truncate(TOP_VALUES);
            v.into_iter()
                .map(|(bits, count)| ValueCount {
                    value: self.show(f64::from_bits(bits)),
                    count,
                })
                .collect()
        } else {
            let mut v: Vec<(&str, u64)> = self
                .text_counts
                .iter()
                .map(|(k, c)| (k.as_ref(), *c))
                .collect();
            v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            v.truncate(TOP_VALUES);
            v.into_iter()
                .map(|(value, count)| ValueCount {
                    value: value.to_owned(),
                    count,
                })
                .collect()
        };
        // A column of unique values has no meaningful most-frequent values.
        if top.first().is_some_and(|t| t.count == 1) {
            top.clear();
        }
        let numeric = self.kind != Kind::Text && non_null > 0;
        let (min, max) = if numeric {
            (self.json_number(self.min), self.json_number(self.max))
        } else {
            (
                self.text_min.clone().map_or(Value::Null, Value::String),
                self.text_max.clone().map_or(Value::Null, Value::String),
            )
        };
        let quartiles = if numeric
            && matches!(
                self.kind,
                Kind::Integer | Kind::Decimal(_) | Kind::Float | Kind::Date | Kind::Timestamp
            ) {
            let n = self.numbers.len();
            let mut at = |q: f64| {
                let k = ((q * (n - 1) as f64).floor() as usize).min(n - 1);
                let (_, v, _) = self.numbers.select_nth_unstable_by(k, f64::total_cmp);
                *v
            };
            let (a, b, c) = (at(0.25), at(0.5), at(0.75));
            [
                self.json_number(a),
                self.json_number(b),
                self.json_number(c),
            ]
        } else {
            [Value::Null, Value::Null, Value::Null]
        };
        let (mean, stddev) = if self.kind.numeric() && non_null > 0 {
            let sd = if non_null > 1 {
                Some((self.m2 / (non_null - 1) as f64).sqrt())
            } else {
                None
            };
            (Some(self.mean), sd)
        } else {
            (None, None)
        };
        let text = self.kind == Kind::Text && non_null > 0;
        let patterns = pattern_counts(&self.sample);
        let semantic_type = semantic_type(
            &self.name,
            self.kind,
            &self.sample,
            distinct_count,
            non_null,
        );
        let [q25, q50, q75] = quartiles;
        ColumnProfile {
            name: self.name,
            data_type: self.kind.name().to_owned(),
            count: self.rows,
            null_count: self.nulls,
            null_percentage: if self.rows == 0 {
                0.0
            } else {
                (self.nulls as f64 * 10_000.0 / self.rows as f64).round() / 100.0
            },
            distinct_count,
            distinct_is_approximate,
            min,
            max,
            mean,
            stddev,
            q25,
            q50,
            q75,
            top_values: top,
            top_values_are_approximate: distinct_is_approximate,
            min_length: text.then_some(self.len_min),
            max_length: text.then_some(self.len_max),
            mean_length: text
                .then(|| ((self.len_sum as f64 / non_null as f64) * 100.0).round() / 100.0),
            patterns,
            semantic_type,
        }
    }
}

/// `A` for upper-case letters, `a` for lower-case, `9` for digits; runs of more than four of
/// one class are written `a+`.
pub(crate) fn pattern(s: &str) -> String {
    let mut out = String::new();
    let mut last: Option<char> = None;
    let mut run = 0;
    for c in s.chars().take(40) {
        let class = if c.is_ascii_digit() {
            '9'
        } else if c.is_uppercase() {
            'A'
        } else if c.is_alphabetic() {
            'a'
        } else {
            c
        };
        if Some(class) == last && matches!(class, '9' | 'A' | 'a') {
            run += 1;
            if run == 5 {
                out.push('+');
            }
            if run >= 5 {
                continue;
            }
        } else {
            run = 1;
        }
        out.push(class);
        last = Some(class);
    }
    out
}

pub(crate) fn pattern_counts(sample: &[String]) -> Vec<PatternCount> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for s in sample {
        *counts.entry(pattern(s)).or_default() += 1;
    }
    let mut v: Vec<PatternCount> = counts
        .into_iter()
        .map(|(pattern, count)| PatternCount { pattern, count })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.pattern.cmp(&b.pattern)));
    v.truncate(5);
    v
}

pub(crate) fn semantic_type(
    name: &str,
    kind: Kind,
    sample: &[String],
    distinct: u64,
    non_null: u64,
) -> String {
    if non_null == 0 {
        return "empty".to_owned();
    }
    let pii = classify_column(&ColumnSample::new(name, sample.to_vec()));
    if pii.category != Category::None {
        return pii.category.id().to_owned();
    }
    let share = |f: &dyn Fn(&str) -> bool| {
        sample.iter().filter(|v| f(v)).count() as f64 / sample.len().max(1) as f64
    };
    let unique = distinct as f64 >= 0.98 * non_null as f64;
    match kind {
        Kind::Boolean => "boolean",
        Kind::Date | Kind::Timestamp => "date",
        Kind::Integer if unique => "identifier",
        _ if share(&values::is_uuid) > 0.9 => "uuid",
        _ if share(&values::is_url) > 0.9 => "url",
        _ if distinct <= 50 && non_null >= 4 * distinct => "categorical",
        Kind::Integer | Kind::Decimal(_) | Kind::Float => "numeric",
        Kind::Text if unique && share(&|v: &str| !v.contains(' ')) > 0.9 => "identifier",
        Kind::Text if share(&|v: &str| v.split_whitespace().count() >= 4) > 0.5 => "free_text",
        Kind::Text => "text",
    }
    .to_owned()
}

/// Days since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian).
pub(crate) fn date_string(days: i64) -> String {
    let (y, m, d) = govgraph_graph::loader::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 of a calendar date.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Microseconds since the epoch as an ISO timestamp.
pub(crate) fn timestamp_string(micros: i64) -> String {
    let days = micros.div_euclid(86_400_000_000);
    let rest = micros.rem_euclid(86_400_000_000) / 1_000_000;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date_string(days),
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        for days in [-719_468i64, -1, 0, 1, 10_957, 20_000, 2_932_896] {
            let s = date_string(days);
            let p: Vec<i64> = s.split('-').map(|x| x.parse().unwrap_or(0)).collect();
            assert_eq!(days_from_civil(p[0], p[1], p[2]), days, "{s}");
        }
        assert_eq!(date_string(0), "1970-01-01");
        assert_eq!(date_string(8036), "1992-01-02");
    }

    #[test]
    fn patterns_collapse_runs() {
        assert_eq!(pattern("AB-123"), "AA-999");
        assert_eq!(pattern("hello world"), "aaaa+ aaaa+");
    }

    #[test]
    fn statistics_follow_their_definitions() {
        let mut a = Accumulator::new("x", Kind::Integer);
        for x in [4.0, 1.0, 3.0, 2.0, 5.0] {
            a.number(x);
        }
        a.null();
        let p = a.finish();
        assert_eq!((p.count, p.null_count, p.distinct_count), (6, 1, 5));
        assert_eq!(p.null_percentage, 16.67);
        assert_eq!((p.min.clone(), p.max.clone()), (json!(1), json!(5)));
        assert_eq!(p.mean, Some(3.0));
        assert!((p.stddev.unwrap_or(0.0) - 1.581_138_8).abs() < 1e-6);
        assert_eq!((p.q25, p.q50, p.q75), (json!(2), json!(3), json!(4)));
    }

    #[test]
    fn merged_halves_profile_as_one_pass() {
        let values: Vec<Option<f64>> = (0..5000)
            .map(|i| (i % 13 != 0).then(|| f64::from((i * 7919) % 1013) / 4.0))
            .collect();
        let feed = |acc: &mut Accumulator, v: &Option<f64>| match v {
            Some(x) => acc.number(*x),
            None => acc.null(),
        };
        let mut whole = Accumulator::new("x", Kind::Decimal(2));
        values.iter().for_each(|v| feed(&mut whole, v));
        let (a, b) = values.split_at(1700);
        let mut first = Accumulator::new("x", Kind::Decimal(2));
        a.iter().for_each(|v| feed(&mut first, v));
        let mut second = Accumulator::new("x", Kind::Decimal(2));
        b.iter().for_each(|v| feed(&mut second, v));
        first.merge(second);
        let (w, m) = (whole.finish(), first.finish());
        assert!((w.mean.unwrap_or(0.0) - m.mean.unwrap_or(1.0)).abs() < 1e-9);
        assert!((w.stddev.unwrap_or(0.0) - m.stddev.unwrap_or(1.0)).abs() < 1e-9);
        let strip = |mut p: ColumnProfile| {
            p.mean = None;
            p.stddev = None;
            p
        };
        assert_eq!(strip(w), strip(m));
        // Beyond the exact limit the sketches merge: the estimate is the one-pass estimate.
        let mut whole = Accumulator::new("t", Kind::Text);
        let mut first = Accumulator::new("t", Kind::Text);
        let mut second = Accumulator::new("t", Kind::Text);
        for i in 0..(EXACT_DISTINCT + 5000) {
            let v = format!("v{i}");
            whole.text(&v);
            if i % 2 == 0 {
                first.text(&v);
            } else {
                second.text(&v);
            }
        }
        first.merge(second);
        let (w, m) = (whole.finish(), first.finish());
        assert!(w.distinct_is_approximate && m.distinct_is_approximate);
        assert_eq!(w.distinct_count, m.distinct_count);
    }
}
