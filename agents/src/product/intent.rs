//! The first step: what the request asks for. Measures come from the glossary's semantic
//! layer, dimensions from the terms and column names of the catalog, the grain from "daily",
//! "by month" and the dimensions, filters from filter terms ("completed orders"), known
//! values ("EMEA"), and periods ("in 2024"). Deterministic, no model; each element carries a
//! confidence, and a phrase that names two measures is an ambiguity, never a silent guess.

use std::collections::BTreeMap;

use serde::Serialize;

use super::catalog::Snapshot;
use crate::ask::text::key_words;

/// A time granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// Calendar day.
    Day,
    /// ISO week (starting Monday).
    Week,
    /// Calendar month.
    Month,
    /// Calendar quarter.
    Quarter,
    /// Calendar year.
    Year,
}

impl Granularity {
    /// The unit's name in `DATE_TRUNC`.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
        }
    }

    fn from_word(w: &str) -> Option<Self> {
        Some(match w {
            "daily" | "day" => Self::Day,
            "weekly" | "week" => Self::Week,
            "monthly" | "month" => Self::Month,
            "quarterly" | "quarter" => Self::Quarter,
            "yearly" | "annual" | "annually" | "year" => Self::Year,
            _ => return None,
        })
    }
}

/// A measure the product computes.
#[derive(Debug, Clone, Serialize)]
pub struct MetricIntent {
    /// The words that named it.
    pub phrase: String,
    /// The glossary term (IRI).
    pub term: String,
    /// The term's label.
    pub label: String,
    /// How sure the reading is (0 to 1).
    pub confidence: f64,
}

/// A dimension the product groups by.
#[derive(Debug, Clone, Serialize)]
pub struct DimensionIntent {
    /// The words that named it.
    pub phrase: String,
    /// The glossary terms the words name (IRIs); empty when they name a column directly.
    pub terms: Vec<String>,
    /// Column names the words spell, when no term matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub column_names: Vec<String>,
    /// The terms of the words just before, which name whose attribute it is ("customer" in
    /// "customer country").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owner: Vec<String>,
    /// How sure the reading is.
    pub confidence: f64,
}

/// A restriction on the rows.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FilterIntent {
    /// A filter term of the glossary ("completed orders").
    Term {
        /// The words.
        phrase: String,
        /// The term (IRI).
        term: String,
        /// Its label.
        label: String,
        /// How sure.
        confidence: f64,
    },
    /// A value of a column ("EMEA"); resolved against the data in the discovery step.
    Value {
        /// The words.
        phrase: String,
        /// How sure.
        confidence: f64,
    },
    /// A period: `[from, to)` as ISO dates.
    Period {
        /// The words.
        phrase: String,
        /// First day, inclusive.
        from: String,
        /// Day after the last, exclusive; none for an open end.
        #[serde(skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        /// How sure.
        confidence: f64,
    },
}

/// One possible reading of an ambiguous phrase.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    /// What to pass back to pick it (the term's slug).
    pub id: String,
    /// The term's label.
    pub label: String,
    /// Its definition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
}

/// A phrase that could mean several things.
#[derive(Debug, Clone, Serialize)]
pub struct Ambiguity {
    /// The words.
    pub phrase: String,
    /// The question to put to the requester.
    pub question: String,
    /// The readings.
    pub choices: Vec<Choice>,
    /// The reading the draft below assumed until the requester picks one.
    pub assumed: String,
}

/// What the request asks for.
#[derive(Debug, Clone, Serialize)]
pub struct Intent {
    /// The measures.
    pub metrics: Vec<MetricIntent>,
    /// The dimensions, in the order named.
    pub dimensions: Vec<DimensionIntent>,
    /// The time granularity, with its confidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_granularity: Option<(Granularity, f64)>,
    /// The filters.
    pub filters: Vec<FilterIntent>,
    /// "top 10": how many rows, by the first measure, descending (ascending for "bottom").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<(u64, bool)>,
    /// Phrases with several readings.
    pub ambiguities: Vec<Ambiguity>,
    /// Words the reading did not use.
    pub unused_words: Vec<String>,
    /// The grain: filled by the modelling step (one row per ...).
    pub grain: Vec<String>,
}

#[derive(Debug, Clone)]
enum Entry {
    Term(String),
    Column(String),
}

/// Words that open a list of dimensions.
const DIMENSION_OPENERS: &[&str] = &["by", "per", "each", "across", "breakdown", "split"];
/// Words that continue a list.
const CONNECTORS: &[&str] = &["and", "or", "then"];
/// Words that end a list of dimensions and open a filter.
const FILTER_OPENERS: &[&str] = &[
    "for",
    "of",
    "in",
    "with",
    "where",
    "only",
    "from",
    "during",
    "on",
    "excluding",
    "at",
];
/// Words that say "count of".
const COUNTERS: &[&str] = &["number", "count", "many", "total"];

/// Reads `request`. `choices` maps an ambiguous phrase (or a term slug it could mean) to
/// the slug chosen.
pub fn read(request: &str, snap: &Snapshot, choices: &BTreeMap<String, String>) -> Intent {
    let words = key_words(request);
    // The phrase dictionary: term labels and synonyms, then column names.
    let mut phrases: BTreeMap<Vec<String>, Vec<Entry>> = BTreeMap::new();
    for t in &snap.terms {
        for label in std::iter::once(&t.label).chain(&t.alt) {
            let k = key_words(label);
            if k.is_empty() {
                continue;
            }
            let e = phrases.entry(k).or_default();
            if !e.iter().any(|x| matches!(x, Entry::Term(i) if *i == t.iri)) {
                e.push(Entry::Term(t.iri.clone()));
            }
        }
    }
    for c in &snap.columns {
        let k = key_words(&c.name);
        if k.is_empty() {
            continue;
        }
        let e = phrases.entry(k).or_default();
        if !e
            .iter()
            .any(|x| matches!(x, Entry::Column(n) if n.eq_ignore_ascii_case(&c.name)))
        {
            e.push(Entry::Column(c.name.to_ascii_lowercase()));
        }
    }
    let longest = phrases.keys().map(Vec::len).max().unwrap_or(1);

    let mut intent = Intent {
        metrics: Vec::new(),
        dimensions: Vec::new(),
        time_granularity: None,
        filters: Vec::new(),
        top: None,
        ambiguities: Vec::new(),
        unused_words: Vec::new(),
        grain: Vec::new(),
    };
    let mut in_dimensions = false;
    let mut counting = false;
    let mut last_dimension_end: Option<usize> = None;
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        // "top 10" / "bottom 5"
        if (w == "top" || w == "bottom")
            && let Some(n) = words.get(i + 1).and_then(|n| n.parse::<u64>().ok())
        {
            intent.top = Some((n.clamp(1, 100_000), w == "top"));
            i += 2;
            continue;
        }
        if let Some(g) = Granularity::from_word(w) {
            // "daily", "by month", "per day", "each week"; "year" followed by a number is a
            // period, handled below.
            let is_adverb = matches!(
                w,
                "daily" | "weekly" | "monthly" | "quarterly" | "yearly" | "annual" | "annually"
            );
            if is_adverb || in_dimensions {
                let confidence = if is_adverb { 0.95 } else { 0.9 };
                intent.time_granularity = Some((g, confidence));
                i += 1;
                continue;
            }
        }
        if let Some(period) = period_at(&words, i) {
            intent.filters.push(period.0);
            in_dimensions = false;
            i = period.1;
            continue;
        }
        if DIMENSION_OPENERS.contains(&w) {
            in_dimensions = true;
            i += 1;
            continue;
        }
        if CONNECTORS.contains(&w) || matches!(w, "a" | "the" | "all" | "their" | "its") {
            i += 1;
            continue;
        }
        if FILTER_OPENERS.contains(&w) {
            in_dimensions = false;
            i += 1;
            continue;
        }
        if COUNTERS.contains(&w) {
            counting = true;
            i += 1;
            continue;
        }
        // The longest phrase that starts here.
        // Glossary terms win over column names: a column's name ("units_sold" of a model)
        // is used only when no term's label or synonym starts here.
        let mut found = None;
        for len in (1..=longest.min(words.len() - i)).rev() {
            if let Some(entries) = phrases.get(&words[i..i + len]) {
                let has_term = entries.iter().any(|e| matches!(e, Entry::Term(_)));
                let live_column = entries.iter().any(|e| match e {
                    Entry::Column(n) => snap.columns.iter().any(|c| {
                        c.name.eq_ignore_ascii_case(n) && !snap.datasets[c.dataset].files.is_empty()
                    }),
                    Entry::Term(_) => false,
                });
                if has_term || (live_column && found.is_none()) {
                    found = Some((len, entries));
                    break;
                }
                if found.is_none() {
                    found = Some((len, entries));
                }
            }
        }
        let Some((len, entries)) = found else {
            if !crate::ask::text::is_stopword(w) {
                intent.unused_words.push(w.to_owned());
            }
            i += 1;
            continue;
        };
        let phrase = words[i..i + len].join(" ");
        i += len;
        let terms: Vec<&super::catalog::TermInfo> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Term(iri) => snap.term(iri),
                Entry::Column(_) => None,
            })
            .collect();
        let measures: Vec<_> = terms.iter().filter(|t| t.measure.is_some()).collect();
        let filters: Vec<_> = terms.iter().filter(|t| t.filter.is_some()).collect();
        let exact = |t: &super::catalog::TermInfo| key_words(&t.label).join(" ") == phrase;
        if let Some(t) = filters.first()
            && !in_dimensions
        {
            let confidence = if exact(t) { 0.95 } else { 0.85 };
            intent.filters.push(FilterIntent::Term {
                phrase,
                term: t.iri.clone(),
                label: t.label.clone(),
                confidence,
            });
            continue;
        }
        // After "by", a measure is still a measure when no column implements it ("top 10
        // products by net revenue"); otherwise the words name the column ("by quantity").
        let implemented = terms.iter().any(|t| {
            let id_label = format!("{} id", key_words(&t.label).join(" "));
            snap.columns.iter().any(|c| {
                // Only columns with data count: a model's net_revenue column does not make
                // "by net revenue" a dimension of the bronze data.
                !snap.datasets[c.dataset].files.is_empty()
                    && (c.terms.contains(&t.iri)
                        || c.terms.iter().any(|x| {
                            snap.term(x)
                                .is_some_and(|x| key_words(&x.label).join(" ") == id_label)
                        }))
            })
        });
        if !measures.is_empty()
            && (!in_dimensions || counting || !implemented || intent.top.is_some())
        {
            counting = false;
            let picked = pick(&phrase, &measures, choices);
            let t = measures[picked];
            let confidence = if measures.len() > 1 {
                if choices.is_empty() { 0.5 } else { 0.9 }
            } else if exact(t) {
                0.95
            } else {
                0.85
            };
            if measures.len() > 1 && !chosen(&phrase, &measures, choices) {
                intent.ambiguities.push(Ambiguity {
                    question: format!(
                        "\"{phrase}\" has {} definitions in the glossary; which one do you mean?",
                        measures.len()
                    ),
                    phrase: phrase.clone(),
                    choices: measures
                        .iter()
                        .map(|t| Choice {
                            id: t.slug.clone(),
                            label: t.label.clone(),
                            definition: t.definition.clone(),
                        })
                        .collect(),
                    assumed: t.slug.clone(),
                });
            }
            if !intent.metrics.iter().any(|m| m.term == t.iri) {
                intent.metrics.push(MetricIntent {
                    phrase,
                    term: t.iri.clone(),
                    label: t.label.clone(),
                    confidence,
                });
            }
            continue;
        }
        // A dimension: terms first, column names otherwise.
        let dimension_terms: Vec<String> = terms.iter().map(|t| t.iri.clone()).collect();
        let column_names: Vec<String> = if dimension_terms.is_empty() {
            entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Column(n) => Some(n.clone()),
                    Entry::Term(_) => None,
                })
                .collect()
        } else {
            Vec::new()
        };
        let confidence = match (in_dimensions, terms.iter().any(|t| exact(t))) {
            (true, true) => 0.95,
            (true, false) => 0.85,
            (false, true) => 0.75,
            (false, false) => 0.65,
        };
        // "customer email": a dimension right after another names the second's owner;
        // the second is what the product shows.
        let mut owner = Vec::new();
        if last_dimension_end == Some(i - len)
            && let Some(previous) = intent.dimensions.pop()
        {
            owner = previous.terms;
        }
        last_dimension_end = Some(i);
        if !intent.dimensions.iter().any(|d| d.phrase == phrase) {
            intent.dimensions.push(DimensionIntent {
                phrase,
                terms: dimension_terms,
                column_names,
                owner,
                confidence,
            });
        }
    }
    // "returned orders by month": a filter term with nothing to measure counts the rows it
    // names, by the measure of its head term ("Returned Order" -> "Order").
    if intent.metrics.is_empty() {
        let heads: Vec<(String, String)> = intent
            .filters
            .iter()
            .filter_map(|f| match f {
                FilterIntent::Term { phrase, label, .. } => Some((phrase.clone(), label.clone())),
                _ => None,
            })
            .collect();
        for (phrase, label) in heads {
            let head = key_words(&label).last().cloned().unwrap_or_default();
            if let Some(t) = snap
                .terms
                .iter()
                .find(|t| t.measure.is_some() && key_words(&t.label) == [head.clone()])
            {
                intent.metrics.push(MetricIntent {
                    phrase,
                    term: t.iri.clone(),
                    label: t.label.clone(),
                    confidence: 0.8,
                });
                break;
            }
        }
    }
    intent
}

fn chosen(
    phrase: &str,
    measures: &[&&super::catalog::TermInfo],
    choices: &BTreeMap<String, String>,
) -> bool {
    choices
        .get(phrase)
        .is_some_and(|c| measures.iter().any(|t| t.slug == *c || t.iri == *c))
        || measures
            .iter()
            .any(|t| choices.values().any(|c| *c == t.slug || *c == t.iri))
}

fn pick(
    phrase: &str,
    measures: &[&&super::catalog::TermInfo],
    choices: &BTreeMap<String, String>,
) -> usize {
    if let Some(c) = choices.get(phrase)
        && let Some(i) = measures.iter().position(|t| t.slug == *c || t.iri == *c)
    {
        return i;
    }
    if let Some(i) = measures
        .iter()
        .position(|t| choices.values().any(|c| *c == t.slug || *c == t.iri))
    {
        return i;
    }
    // The assumption until the requester picks: the term whose label is the phrase itself,
    // else the first in label order (stable and stated, never hidden).
    let mut order: Vec<usize> = (0..measures.len()).collect();
    order.sort_by_key(|&i| {
        (
            key_words(&measures[i].label).join(" ") != phrase,
            measures[i].label.clone(),
        )
    });
    order[0]
}

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn year_of(w: &str) -> Option<i32> {
    let y: i32 = w.parse().ok()?;
    (w.len() == 4 && (1900..=2199).contains(&y)).then_some(y)
}

fn month_of(w: &str) -> Option<u32> {
    let w = if w.len() >= 3 { w } else { return None };
    MONTHS
        .iter()
        .position(|m| *m == w || (w.len() == 3 && m.starts_with(w)))
        .map(|i| i as u32 + 1)
}

/// A period starting at word `i`: "2024", "march 2024", "since 2024", "before 2024",
/// "q1 2024"; returns the filter and the index after it.
fn period_at(words: &[String], i: usize) -> Option<(FilterIntent, usize)> {
    let w = words[i].as_str();
    let next = words.get(i + 1).map(String::as_str);
    let after = words.get(i + 2).map(String::as_str);
    if matches!(w, "since" | "after" | "from" | "before" | "until")
        && let Some(y) = next.and_then(year_of)
    {
        let (from, to) = match w {
            "since" | "from" => (format!("{y:04}-01-01"), None),
            "after" => (format!("{:04}-01-01", y + 1), None),
            _ => ("0001-01-01".to_owned(), Some(format!("{y:04}-01-01"))),
        };
        return Some((
            FilterIntent::Period {
                phrase: format!("{w} {y}"),
                from,
                to,
                confidence: 0.9,
            },
            i + 2,
        ));
    }
    if let Some(m) = month_of(w)
        && let Some(y) = next.and_then(year_of)
    {
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        return Some((
            FilterIntent::Period {
                phrase: format!("{w} {y}"),
                from: format!("{y:04}-{m:02}-01"),
                to: Some(format!("{ny:04}-{nm:02}-01")),
                confidence: 0.95,
            },
            i + 2,
        ));
    }
    if let Some(q) = w.strip_prefix('q').and_then(|q| q.parse::<u32>().ok())
        && (1..=4).contains(&q)
        && let Some(y) = next.and_then(year_of)
    {
        let m = (q - 1) * 3 + 1;
        let (ny, nm) = if q == 4 { (y + 1, 1) } else { (y, m + 3) };
        return Some((
            FilterIntent::Period {
                phrase: format!("{w} {y}"),
                from: format!("{y:04}-{m:02}-01"),
                to: Some(format!("{ny:04}-{nm:02}-01")),
                confidence: 0.95,
            },
            i + 2,
        ));
    }
    if let Some(y) = year_of(w) {
        let _ = after;
        return Some((
            FilterIntent::Period {
                phrase: w.to_owned(),
                from: format!("{y:04}-01-01"),
                to: Some(format!("{:04}-01-01", y + 1)),
                confidence: 0.9,
            },
            i + 1,
        ));
    }
    None
}
