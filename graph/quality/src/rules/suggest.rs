//! Rule suggestions for a dataset, each with where it comes from and why.
//!
//! - **Schema**: required and primary-key columns are not null, primary keys unique, foreign
//!   keys (`gg:references`) are references.
//! - **Profile**: completeness (no nulls seen, or a null-rate ceiling above what was seen),
//!   uniqueness of columns whose values never repeat, accepted values of small categorical
//!   columns, ranges of numbers, the dominant format of codes as a pattern, a volume band
//!   around the row count, and freshness of update timestamps.
//! - **Glossary and domain standards**: rules a steward wrote on a glossary term apply to
//!   every column that implements the term, and dataset rules written on a domain to every
//!   dataset of the domain; well-known business concepts (email, country and currency codes,
//!   percentages, amounts, quantities, dates of birth) bring their format or range, from the
//!   term's labels or from the column's PII classification.
//!
//! Suggestions that repeat a rule the dataset already has (same type, same columns) are left
//! out.

use std::collections::BTreeMap;

use govgraph_graph::GraphStore;
use govgraph_graph::iri::{DatasetKey, Kind, slug};
use serde::Serialize;
use serde_json::json;

use super::text;
use super::{Check, Rule};
use crate::error::Result;
use crate::profile::{ColumnProfile, DatasetProfile};

/// A column as the catalog describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnFacts {
    /// The name, as the source spells it.
    pub name: String,
    /// NOT NULL in the source.
    pub required: bool,
    /// Part of the primary key.
    pub primary_key: bool,
    /// The glossary terms it implements: (key, labels: preferred first, then synonyms).
    pub terms: Vec<(String, Vec<String>)>,
    /// PII categories of its tags (`email`, ...).
    pub pii: Vec<String>,
    /// The column it references: (dataset as the rule parameter names it, column).
    pub references: Option<(String, String)>,
}

/// What the catalog says about a dataset, for suggestions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogFacts {
    /// The dataset.
    pub dataset: Option<DatasetKey>,
    /// Its columns, in order.
    pub columns: Vec<ColumnFacts>,
    /// Rules written on glossary terms or on the dataset's domain, instantiated for it.
    pub standards: Vec<Rule>,
}

/// A suggested rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The rule.
    #[serde(flatten)]
    pub rule: Rule,
    /// `schema`, `profile`, `glossary`, `domain` or `classification`.
    pub source: String,
    /// Why.
    pub reason: String,
}

fn last_segment(iri: &str) -> String {
    iri.rsplit('/').next().unwrap_or(iri).to_owned()
}

/// Reads what the catalog knows about `dataset`.
pub fn catalog_facts(store: &GraphStore, dataset: &DatasetKey) -> Result<CatalogFacts> {
    let scheme = store.scheme();
    let iri = scheme.dataset(dataset);
    let mut facts = CatalogFacts {
        dataset: Some(dataset.clone()),
        ..CatalogFacts::default()
    };
    // A file's NOT NULL is only what its rows showed when it was ingested, not a constraint;
    // the profile speaks for it.
    let declared = store
        .select(&format!(
            "SELECT ?t WHERE {{ {iri} a gg:FileDataset }} LIMIT 1"
        ))?
        .is_empty();
    for row in store.select(&format!(
        "SELECT ?name (SAMPLE(?r) AS ?required) (SAMPLE(?p) AS ?pk) (MIN(?o) AS ?ordinal) WHERE {{
           ?col gg:columnOf {iri} ; csvw:name ?name .
           OPTIONAL {{ ?col csvw:required ?r }} OPTIONAL {{ ?col gg:isPrimaryKey ?p }}
           OPTIONAL {{ ?col gg:ordinal ?o }}
         }} GROUP BY ?name ORDER BY ?ordinal ?name"
    ))? {
        let flag = |v: &str| text(row.get(v)).is_some_and(|t| t == "true" || t == "1");
        if let Some(name) = text(row.get("name")) {
            facts.columns.push(ColumnFacts {
                name,
                required: declared && flag("required"),
                primary_key: flag("pk"),
                ..ColumnFacts::default()
            });
        }
    }
    let column = |name: &Option<String>| -> Option<usize> {
        let name = name.as_ref()?;
        facts.columns.iter().position(|c| &c.name == name)
    };
    let mut terms: Vec<(usize, String, String)> = Vec::new();
    for row in store.select(&format!(
        "SELECT ?name ?term ?label WHERE {{
           ?col gg:columnOf {iri} ; csvw:name ?name ; gg:term ?term .
           {{ ?term skos:prefLabel ?label }} UNION {{ ?term skos:altLabel ?label }}
         }} ORDER BY ?name ?term"
    ))? {
        if let (Some(i), Some(t), Some(l)) = (
            column(&text(row.get("name"))),
            text(row.get("term")),
            text(row.get("label")),
        ) {
            terms.push((i, last_segment(&t), l));
        }
    }
    let mut pii: Vec<(usize, String)> = Vec::new();
    for row in store.select(&format!(
        "SELECT ?name ?tag WHERE {{ ?col gg:columnOf {iri} ; csvw:name ?name ; gg:tag ?tag }}"
    ))? {
        if let (Some(i), Some(tag)) = (column(&text(row.get("name"))), text(row.get("tag")))
            && let Some(category) = last_segment(&tag).strip_prefix("pii.")
        {
            pii.push((i, category.to_owned()));
        }
    }
    let mut references: Vec<(usize, String, String)> = Vec::new();
    for row in store.select(&format!(
        "SELECT ?name ?tds ?tname WHERE {{
           ?col gg:columnOf {iri} ; csvw:name ?name ; gg:references ?target .
           ?target gg:columnOf ?tds ; csvw:name ?tname }}"
    ))? {
        if let (Some(i), Some(tds), Some(tname)) = (
            column(&text(row.get("name"))),
            text(row.get("tds")),
            text(row.get("tname")),
        ) && let Ok(key) = scheme.dataset_key_of(&tds, "references")
        {
            let target = if key.system == dataset.system {
                key.name
            } else {
                format!("{}/{}", key.system, key.name)
            };
            references.push((i, target, tname));
        }
    }
    for (i, key, label) in terms {
        if let Some(c) = facts.columns.get_mut(i) {
            match c.terms.iter_mut().find(|(k, _)| *k == key) {
                Some((_, labels)) => labels.push(label),
                None => c.terms.push((key, vec![label])),
            }
        }
    }
    for (i, category) in pii {
        if let Some(c) = facts.columns.get_mut(i)
            && !c.pii.contains(&category)
        {
            c.pii.push(category);
        }
    }
    for (i, target, column) in references {
        if let Some(c) = facts.columns.get_mut(i) {
            c.references = Some((target, column));
        }
    }
    facts.standards = standards(store, dataset, &facts)?;
    Ok(facts)
}

/// Rules written on the glossary terms the dataset's columns implement, or on its domain.
fn standards(store: &GraphStore, dataset: &DatasetKey, facts: &CatalogFacts) -> Result<Vec<Rule>> {
    let scheme = store.scheme();
    let iri = scheme.dataset(dataset);
    let rows = store.select(&format!(
        "SELECT ?rule ?on ?kind ?name ?type ?title ?params ?expr ?severity ?dim WHERE {{
           {{ ?col gg:columnOf {iri} ; csvw:name ?name ; gg:term ?on . ?rule gg:appliesTo ?on .
              BIND (\"glossary\" AS ?kind) }}
           UNION {{ {iri} gg:domain ?on . ?rule gg:appliesTo ?on . BIND (\"domain\" AS ?kind) }}
           ?rule a gg:QualityRule ; gg:ruleType ?type .
           OPTIONAL {{ ?rule dct:title ?title }}
           OPTIONAL {{ ?rule gg:parameters ?params }}
           OPTIONAL {{ ?rule gg:expression ?expr }}
           OPTIONAL {{ ?rule gg:severity ?severity }}
           OPTIONAL {{ ?rule dqv:inDimension ?dim }}
         }} ORDER BY ?rule ?name"
    ))?;
    let mut out = Vec::new();
    for row in &rows {
        let (Some(rule), Some(on), Some(kind), Some(rule_type)) = (
            text(row.get("rule")),
            text(row.get("on")),
            text(row.get("kind")),
            text(row.get("type")),
        ) else {
            continue;
        };
        let Ok(check) = Check::from_stored(
            &rule_type,
            text(row.get("params")).as_deref(),
            text(row.get("expr")).as_deref(),
        ) else {
            continue;
        };
        let name = text(row.get("name"));
        // A domain's rules are dataset checks; a freshness rule needs its column here.
        if kind == "domain" {
            let fits = match &check {
                Check::RowCount { .. } => true,
                Check::Freshness { column, .. } => facts.columns.iter().any(|c| &c.name == column),
                _ => false,
            };
            if !fits {
                continue;
            }
        }
        let columns: Vec<String> = name.into_iter().collect();
        let base = last_segment(&rule);
        let title = text(row.get("title")).unwrap_or_else(|| base.clone());
        let what = columns
            .first()
            .cloned()
            .unwrap_or_else(|| dataset.name.clone());
        out.push(Rule {
            iri: String::new(),
            key: String::new(),
            title: format!("{what}: {title}"),
            description: Some(format!(
                "From the {kind} standard {base} ({}).",
                last_segment(&on)
            )),
            dataset: format!("{}/{}", dataset.system, dataset.name),
            columns,
            dimension: text(row.get("dim"))
                .and_then(|d| d.rsplit('#').next().map(str::to_owned))
                .unwrap_or_else(|| check.default_dimension().to_owned()),
            severity: text(row.get("severity")).unwrap_or_else(|| "error".to_owned()),
            origin: kind,
            check,
        });
    }
    Ok(out)
}

const EMAIL: &str = r"^[^@\s]+@[^@\s]+\.[^@\s]+$";

/// What a business concept implies: (check, reason).
fn concept_check(words: &str, profile: Option<&ColumnProfile>) -> Option<(Check, &'static str)> {
    let w = words.to_lowercase();
    let has = |k: &[&str]| k.iter().any(|x| w.contains(x));
    let numeric =
        profile.is_none_or(|p| matches!(p.data_type.as_str(), "integer" | "decimal" | "float"));
    if has(&["email", "e-mail"]) {
        return Some((
            Check::Regex {
                pattern: EMAIL.to_owned(),
            },
            "an email address",
        ));
    }
    if has(&["country code", "iso 3166"]) {
        return Some((
            Check::Regex {
                pattern: "^[A-Z]{2}$".to_owned(),
            },
            "an ISO 3166 country code",
        ));
    }
    if has(&["currency code", "currency", "iso 4217"]) && !numeric {
        return Some((
            Check::Regex {
                pattern: "^[A-Z]{3}$".to_owned(),
            },
            "an ISO 4217 currency code",
        ));
    }
    if has(&["iban"]) {
        return Some((
            Check::Regex {
                pattern: "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$".to_owned(),
            },
            "an IBAN",
        ));
    }
    if has(&["date of birth", "birth date", "birthdate", "date_of_birth"]) {
        return Some((
            Check::Range {
                min: Some(json!("1900-01-01")),
                max: None,
            },
            "a date of birth, which is after 1900",
        ));
    }
    if !numeric {
        return None;
    }
    if has(&["percentage", "percent", "pct"]) {
        let max = if profile
            .and_then(|p| p.max.as_f64())
            .is_some_and(|m| m <= 1.0)
        {
            1
        } else {
            100
        };
        return Some((
            Check::Range {
                min: Some(json!(0)),
                max: Some(json!(max)),
            },
            "a percentage",
        ));
    }
    if has(&[
        "amount", "price", "revenue", "cost", "salary", "fee", "quantity", "qty",
    ]) {
        return Some((
            Check::Range {
                min: Some(json!(0)),
                max: None,
            },
            "an amount or quantity, which is never negative",
        ));
    }
    None
}

/// Whether a column's name says it holds identifiers (`id`, `order_id`, `customerId`).
fn is_key_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "id"
        || n.ends_with("_id")
        || n.ends_with("-id")
        || name.ends_with("Id")
        || n.ends_with("key")
}

/// Turns a format pattern (`AA-999`, `a+`) into an anchored regular expression.
pub fn pattern_regex(pattern: &str) -> String {
    let mut out = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let class = match c {
            '9' => Some("[0-9]"),
            'A' => Some("[A-Z]"),
            'a' => Some("[a-z]"),
            _ => None,
        };
        match class {
            Some(class) => {
                let mut n = 1;
                while chars.get(i + n) == Some(&c) {
                    n += 1;
                }
                i += n;
                if chars.get(i) == Some(&'+') {
                    i += 1;
                    out.push_str(&format!("{class}{{{n},}}"));
                } else if n == 1 {
                    out.push_str(class);
                } else {
                    out.push_str(&format!("{class}{{{n}}}"));
                }
            }
            None => {
                out.push_str(&regex::escape(&c.to_string()));
                i += 1;
            }
        }
    }
    out.push('$');
    out
}

fn round_up(x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let magnitude = 10f64.powf(x.abs().log10().floor() - 1.0);
    // Rounding keeps float noise (5.6000000000000005) out of the bounds.
    ((x / magnitude).ceil() * magnitude * 1e6).round() / 1e6
}

fn round_down(x: f64) -> f64 {
    -round_up(-x)
}

/// Suggests rules for a dataset from its catalog facts and a fresh profile. `existing` are
/// the rules it already has; `now` is microseconds since the epoch (for freshness).
pub fn suggest(
    facts: &CatalogFacts,
    profile: Option<&DatasetProfile>,
    existing: &[Rule],
    now: i64,
) -> Vec<Suggestion> {
    let dataset = facts
        .dataset
        .clone()
        .unwrap_or_else(|| DatasetKey::new("file", profile.map_or("data", |p| p.dataset.as_str())));
    let label = format!("{}/{}", dataset.system, dataset.name);
    let mut out: Vec<Suggestion> = Vec::new();
    let mut push = |columns: Vec<String>,
                    check: Check,
                    severity: &str,
                    title: String,
                    source: &str,
                    reason: String| {
        let taken = |r: &Rule| r.check.rule_type() == check.rule_type() && r.columns == columns;
        if existing.iter().any(taken) || out.iter().any(|s| taken(&s.rule)) {
            return;
        }
        let what = if columns.is_empty() {
            "rows".to_owned()
        } else {
            columns.join("-")
        };
        let key = slug(&format!(
            "{}.{}.{}.{}",
            dataset.system,
            dataset.name,
            what,
            check.rule_type().replace('_', "-")
        ));
        out.push(Suggestion {
            rule: Rule {
                iri: String::new(),
                key,
                title,
                description: Some(reason.clone()),
                dataset: label.clone(),
                columns,
                dimension: check.default_dimension().to_owned(),
                severity: severity.to_owned(),
                origin: "suggested".to_owned(),
                check,
            },
            source: source.to_owned(),
            reason,
        });
    };
    let profile_of = |name: &str| profile.and_then(|p| p.columns.iter().find(|c| c.name == name));

    // Schema.
    let keys: Vec<String> = facts
        .columns
        .iter()
        .filter(|c| c.primary_key)
        .map(|c| c.name.clone())
        .collect();
    for c in &facts.columns {
        if c.required || c.primary_key {
            push(
                vec![c.name.clone()],
                Check::NotNull {
                    max_null_rate: None,
                },
                "error",
                format!("{} is never null", c.name),
                "schema",
                format!(
                    "{} is {} in the catalog.",
                    c.name,
                    if c.primary_key {
                        "part of the primary key"
                    } else {
                        "NOT NULL"
                    }
                ),
            );
        }
    }
    if !keys.is_empty() {
        push(
            keys.clone(),
            Check::Unique,
            "error",
            format!("{} is unique", keys.join(", ")),
            "schema",
            "The primary key in the catalog.".to_owned(),
        );
    }
    for c in &facts.columns {
        if let Some((target, column)) = &c.references {
            push(
                vec![c.name.clone()],
                Check::Referential {
                    references: target.clone(),
                    columns: vec![column.clone()],
                },
                "error",
                format!("{} references {target}.{column}", c.name),
                "schema",
                format!("{} references {target}.{column} in the catalog.", c.name),
            );
        }
    }

    // Glossary and domain standards.
    for s in &facts.standards {
        push(
            s.columns.clone(),
            s.check.clone(),
            &s.severity,
            s.title.clone(),
            &s.origin,
            s.description.clone().unwrap_or_default(),
        );
    }
    for c in &facts.columns {
        let p = profile_of(&c.name);
        for (term, labels) in &c.terms {
            if let Some((check, what)) = concept_check(&labels.join(" | "), p) {
                let title = format!("{} is {what}", c.name);
                push(
                    vec![c.name.clone()],
                    check,
                    "warn",
                    title,
                    "glossary",
                    format!(
                        "{} implements the glossary term {term} ({}), {what}.",
                        c.name,
                        labels.first().cloned().unwrap_or_default()
                    ),
                );
            }
        }
        for category in &c.pii {
            if let Some((check, what)) = concept_check(&category.replace('_', " "), p) {
                push(
                    vec![c.name.clone()],
                    check,
                    "warn",
                    format!("{} is {what}", c.name),
                    "classification",
                    format!("{} is classified as {category}.", c.name),
                );
            }
        }
    }

    // Profile.
    let Some(profile) = profile else {
        return out;
    };
    let rows = profile.row_count;
    if rows > 0 {
        let min = (rows as f64 * 0.5).floor() as u64;
        let max = (rows as f64 * 2.0).ceil() as u64;
        push(
            Vec::new(),
            Check::RowCount {
                min: Some(min),
                max: Some(max),
            },
            "warn",
            format!("{} has between {min} and {max} rows", dataset.name),
            "profile",
            format!(
                "The profile counted {rows} rows; volume should stay within half and twice that."
            ),
        );
    }
    for c in &profile.columns {
        let non_null = c.count.saturating_sub(c.null_count);
        if c.count >= 10 && c.null_count == 0 {
            push(
                vec![c.name.clone()],
                Check::NotNull {
                    max_null_rate: None,
                },
                "warn",
                format!("{} is never null", c.name),
                "profile",
                format!("None of the {} profiled rows is null.", c.count),
            );
        } else if c.count >= 10 && c.null_percentage < 50.0 && c.null_count > 0 {
            let seen = c.null_count as f64 / c.count as f64;
            let ceiling = (round_up(seen * 1.5 + 0.01) * 1000.0).round() / 1000.0;
            push(
                vec![c.name.clone()],
                Check::NotNull {
                    max_null_rate: Some(ceiling.min(1.0)),
                },
                "warn",
                format!("{} is at most {:.1}% null", c.name, ceiling * 100.0),
                "profile",
                format!(
                    "{:.2}% of the profiled rows are null; more than {:.1}% would be unusual.",
                    c.null_percentage,
                    ceiling * 100.0
                ),
            );
        }
        let exact = !c.distinct_is_approximate && !c.top_values_are_approximate;
        let identifier = matches!(c.semantic_type.as_str(), "identifier" | "uuid" | "email");
        if non_null >= 10
            && c.distinct_count == non_null
            && exact
            && c.null_count == 0
            && identifier
        {
            push(
                vec![c.name.clone()],
                Check::Unique,
                "warn",
                format!("{} is unique", c.name),
                "profile",
                format!("All {non_null} profiled values are different."),
            );
        }
        let listed: u64 = c.top_values.iter().map(|v| v.count).sum();
        let small = c.distinct_count <= 12 && c.top_values.len() as u64 == c.distinct_count;
        let text_like = matches!(c.data_type.as_str(), "text" | "boolean" | "integer");
        if exact
            && small
            && listed == non_null
            && non_null >= 5 * c.distinct_count.max(1)
            && text_like
            && c.distinct_count > 1
        {
            let mut values: Vec<String> = c.top_values.iter().map(|v| v.value.clone()).collect();
            values.sort();
            push(
                vec![c.name.clone()],
                Check::AcceptedValues {
                    values: values.clone(),
                },
                "warn",
                format!("{} is one of {}", c.name, values.join(", ")),
                "profile",
                format!(
                    "The {non_null} profiled values take only these {} values.",
                    values.len()
                ),
            );
        }
        if matches!(c.data_type.as_str(), "integer" | "decimal" | "float")
            && let (Some(lo), Some(hi)) = (c.min.as_f64(), c.max.as_f64())
            && non_null >= 10
            && !matches!(c.semantic_type.as_str(), "identifier")
            && !is_key_name(&c.name)
        {
            let span = (hi - lo).abs();
            let mut min = if lo >= 0.0 {
                0.0
            } else {
                round_down(lo - 0.1 * span)
            };
            let mut max = round_up(hi + 0.1 * span);
            if c.data_type == "integer" {
                (min, max) = (min.floor(), max.ceil());
            }
            let bound = |x: f64| {
                if x.fract() == 0.0 {
                    json!(x as i64)
                } else {
                    json!(x)
                }
            };
            push(
                vec![c.name.clone()],
                Check::Range {
                    min: Some(bound(min)),
                    max: Some(bound(max)),
                },
                "warn",
                format!("{} lies between {min} and {max}", c.name),
                "profile",
                format!("Profiled values run from {lo} to {hi}."),
            );
        }
        if c.data_type == "text"
            && let Some(top) = c.patterns.first()
            && c.distinct_count > 12
            && !matches!(c.semantic_type.as_str(), "free_text" | "text")
        {
            let sampled: u64 = c.patterns.iter().map(|p| p.count).sum();
            let dominant = top.count as f64 >= 0.98 * sampled as f64 && sampled >= 20;
            let c_name = c.name.clone();
            if dominant && top.pattern.chars().count() <= 40 {
                let regex = pattern_regex(&top.pattern);
                push(
                    vec![c_name.clone()],
                    Check::Regex {
                        pattern: regex.clone(),
                    },
                    "warn",
                    format!("{c_name} has the format {}", top.pattern),
                    "profile",
                    format!(
                        "{} of {sampled} sampled values have the format {}.",
                        top.count, top.pattern
                    ),
                );
            }
        }
        let stamp_name = {
            let n = c.name.to_lowercase();
            [
                "updated",
                "modified",
                "loaded",
                "ingested",
                "created",
                "inserted",
                "event_time",
                "timestamp",
                "_at",
                "_ts",
            ]
            .iter()
            .any(|k| n.contains(k))
        };
        if matches!(c.data_type.as_str(), "timestamp" | "date")
            && stamp_name
            && let Some(newest) = c.max.as_str().and_then(super::run::parse_timestamp)
        {
            let age = (now - newest) as f64 / 3_600_000_000.0;
            if (0.0..=24.0 * 90.0).contains(&age) {
                let hours = (age * 2.0).max(24.0).ceil();
                push(
                    vec![],
                    Check::Freshness {
                        column: c.name.clone(),
                        max_age_hours: hours,
                    },
                    "warn",
                    format!("{} is refreshed at least every {hours} hours", dataset.name),
                    "profile",
                    format!("The newest {} is {age:.1} hours old.", c.name),
                );
            }
        }
    }
    out
}

/// Gives suggestions their IRIs in `store`'s scheme.
pub fn assign_iris(store: &GraphStore, suggestions: &mut [Suggestion]) {
    for s in suggestions {
        s.rule.iri = store
            .scheme()
            .entity(Kind::Rule, &s.rule.key)
            .as_str()
            .to_owned();
    }
}

/// Suggestions grouped by source, for display.
pub fn by_source(suggestions: &[Suggestion]) -> BTreeMap<&str, usize> {
    let mut m = BTreeMap::new();
    for s in suggestions {
        *m.entry(s.source.as_str()).or_default() += 1;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_become_anchored_expressions() {
        assert_eq!(pattern_regex("AA-999"), "^[A-Z]{2}\\-[0-9]{3}$");
        assert_eq!(pattern_regex("Aa+"), "^[A-Z][a-z]{1,}$");
        assert_eq!(pattern_regex("9999a+"), "^[0-9]{4}[a-z]{1,}$");
    }

    #[test]
    fn bounds_round_outward() {
        assert_eq!(round_up(1234.0), 1300.0);
        assert_eq!(round_down(-1234.0), -1300.0);
        assert_eq!(round_up(0.0), 0.0);
    }

    #[test]
    fn business_concepts_bring_checks() {
        assert!(matches!(
            concept_check("Customer email", None),
            Some((Check::Regex { .. }, _))
        ));
        assert!(matches!(
            concept_check("Discount percentage", None),
            Some((Check::Range { .. }, _))
        ));
        assert!(concept_check("Customer", None).is_none());
    }
}
