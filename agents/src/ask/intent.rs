//! The planner's first step: what kind of question this is, and which words carry the
//! subject, the filters and the relation. Deterministic keyword rules, no model.

use serde::Serialize;

use super::lexicon::Kind;
use super::text::{find_phrase, has_any, has_phrase};

/// The kinds of question the offline brain answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Where data about a business concept lives.
    Discovery,
    /// Personal data, classification and sensitivity.
    Sensitivity,
    /// Owners and stewards, or what a person owns.
    Ownership,
    /// Where something comes from.
    Upstream,
    /// What depends on something: impact.
    Downstream,
    /// What a glossary term means and what implements it.
    Glossary,
    /// Rules, runs, scores and violations.
    Quality,
    /// Access, masking and retention policies.
    Policy,
    /// Processing activities, legal bases, purposes and recipients.
    Compliance,
    /// Counts and statistics.
    Count,
    /// All entities of a kind, filtered.
    Listing,
    /// One entity described.
    Describe,
    /// A request for the data's values rather than its metadata.
    Values,
}

impl Intent {
    /// Its name in plans and answers.
    pub fn name(self) -> &'static str {
        match self {
            Intent::Discovery => "discovery",
            Intent::Sensitivity => "sensitivity",
            Intent::Ownership => "ownership",
            Intent::Upstream => "upstream",
            Intent::Downstream => "downstream",
            Intent::Glossary => "glossary",
            Intent::Quality => "quality",
            Intent::Policy => "policy",
            Intent::Compliance => "compliance",
            Intent::Count => "count",
            Intent::Listing => "listing",
            Intent::Describe => "describe",
            Intent::Values => "values",
        }
    }
}

const DOWNSTREAM: &[&str] = &[
    "what break",
    "what would break",
    "what will break",
    "break if",
    "breaks if",
    "impact",
    "impacted",
    "affected",
    "affect",
    "downstream",
    "depend on",
    "depends on",
    "depending on",
    "dependent",
    "dependents",
    "consumer",
    "consumers",
    "consume",
    "consumes",
    "who uses",
    "what uses",
    "used by",
    "uses",
    "rely on",
    "relies on",
    "feed into",
    "feeds into",
    "flow into",
    "flows into",
    "derived from it",
    "built on",
    "built from",
    "read from",
    "reads from",
    "fed by",
    "fed from",
];
// "fed by X" / "built from X" put X upstream of the answer: asking what is fed by X is
// asking for X's downstream.

const UPSTREAM: &[&str] = &[
    "come from",
    "comes from",
    "coming from",
    "upstream",
    "source of",
    "sources of",
    "source for",
    "sources for",
    "what feed",
    "what feeds",
    "which feed",
    "which feeds",
    "origin",
    "origins",
    "derived",
    "derive",
    "computed",
    "calculated",
    "lineage of",
    "lineage for",
    "provenance",
    "where is it from",
    "produced from",
    "made from",
    "inputs of",
    "inputs to",
    "input of",
];

const VALUE_VERBS: &[&str] = &[
    "show me", "show", "list", "give me", "export", "dump", "reveal", "print", "display",
    "send me", "read out", "output", "extract", "download", "tell me",
];

/// Words that name metadata, not values: "show me the tables ..." asks for metadata.
const META_NOUNS: &[&str] = &[
    "table",
    "tables",
    "dataset",
    "datasets",
    "column",
    "columns",
    "field",
    "fields",
    "rule",
    "rules",
    "policy",
    "policies",
    "owner",
    "owners",
    "steward",
    "stewards",
    "term",
    "terms",
    "lineage",
    "source",
    "sources",
    "activity",
    "activities",
    "tag",
    "tags",
    "domain",
    "domains",
    "people",
    "dashboard",
    "dashboards",
    "classification",
    "classifications",
    "description",
    "definition",
    "which",
    "where",
    "who",
    "what",
    "how",
    "glossary",
    "schema",
    "quality",
    "everything",
    "pii",
    "personal",
    "sensitive",
    "restricted",
    "upstream",
    "downstream",
    "processing",
    "report",
    "reports",
    "check",
    "checks",
    "test",
    "tests",
    "score",
    "scores",
    "violations",
    "retention",
    "me",
    "all",
    "datasets",
    "catalog",
    "model",
    "models",
    "view",
    "views",
    "data",
    "system",
    "systems",
    "i",
    "count",
    "number",
    "statistics",
    "stats",
];

/// Nouns for personal values: asking to see these is asking for values.
pub const VALUE_NOUNS: &[&str] = &[
    "salary",
    "salaries",
    "ssn",
    "ssns",
    "social security",
    "passport",
    "national id",
    "national ids",
    "credit card",
    "card numbers",
    "iban",
    "ibans",
    "password",
    "passwords",
    "email addresses",
    "emails",
    "phone numbers",
    "phones",
    "birth dates",
    "birthdays",
    "date of birth",
    "dates of birth",
    "home addresses",
    "addresses",
    "names",
    "ip addresses",
    "raw",
    "records",
    "rows",
    "sample",
    "samples",
    "values",
    "contents",
    "entries",
];

/// The planner's reading of a question.
#[derive(Debug, Clone, Serialize)]
pub struct Reading {
    /// The intent.
    pub intent: Intent,
    /// For counts: the intent whose list is counted.
    pub counted: Option<Intent>,
    /// The kind of entity the answer lists, if the question names one.
    pub target: Option<Kind>,
    /// Where the subject part starts (after the relation words), for lineage questions: words
    /// before it filter the results, words after it name what to walk from.
    pub subject_from: usize,
}

/// The kind a word asks for: "tables" → datasets.
pub fn kind_word(w: &str) -> Option<Kind> {
    Some(match w {
        "table" | "tables" | "dataset" | "datasets" | "view" | "views" | "model" | "models"
        | "file" | "files" | "asset" | "assets" | "source" | "sources" => Kind::Dataset,
        "column" | "columns" | "field" | "fields" | "attribute" | "attributes" => Kind::Column,
        "dashboard" | "dashboards" | "report" | "reports" | "exposure" | "exposures" => {
            Kind::Dashboard
        }
        "term" | "terms" | "glossary" => Kind::Term,
        "domain" | "domains" => Kind::Domain,
        "people" | "person" | "persons" | "team" | "teams" | "steward" | "stewards" | "owner"
        | "owners" => Kind::Person,
        "tag" | "tags" | "classification" | "classifications" => Kind::Tag,
        "policy" | "policies" => Kind::Policy,
        "activity" | "activities" => Kind::ProcessingActivity,
        "rule" | "rules" | "check" | "checks" | "test" | "tests" => Kind::Rule,
        "system" | "systems" | "platform" | "platforms" => Kind::System,
        "product" | "products" => Kind::DataProduct,
        "processor" | "processors" | "recipient" | "recipients" | "organisation"
        | "organisations" | "organization" | "organizations" | "vendor" | "vendors" => {
            Kind::Organization
        }
        _ => return None,
    })
}

/// The first kind word in `words`, from `from` on, stopping at `to`.
pub fn first_kind(words: &[String], from: usize, to: usize) -> Option<(usize, Kind)> {
    let to = to.min(words.len());
    (from..to).find_map(|i| {
        // "data product" and "processing activity" are two words.
        if words[i] == "data" && words.get(i + 1).is_some_and(|w| w.starts_with("product")) {
            return Some((i, Kind::DataProduct));
        }
        kind_word(&words[i]).map(|k| (i, k))
    })
}

/// Classifies a question. `words` are its lower-case words; `has_subject` says whether entity
/// linking found anything to talk about; `subject_kinds` what kinds it found.
pub fn read(words: &[String], subject_kinds: &[Kind]) -> Reading {
    let has = |p: &[&str]| has_any(words, p);
    let target_any = first_kind(words, 0, words.len()).map(|(_, k)| k);
    let reading = |intent, target| Reading {
        intent,
        counted: None,
        target,
        subject_from: 0,
    };

    // Counts first: "how many" wraps whatever is counted.
    let counting = has(&[
        "how many",
        "number of",
        "count of",
        "count the",
        "total number",
    ]);
    if counting && has(&["row", "rows", "record", "records"]) {
        return reading(Intent::Count, None);
    }
    if counting {
        let rest: Vec<String> = words
            .iter()
            .filter(|w| !matches!(w.as_str(), "how" | "many" | "number" | "count" | "total"))
            .cloned()
            .collect();
        let mut inner = read(&rest, subject_kinds);
        let counted = if matches!(inner.intent, Intent::Describe | Intent::Discovery)
            && inner.target.is_some()
        {
            Intent::Listing
        } else {
            inner.intent
        };
        // The subject split refers to `rest`; shift it back (the removed words come first).
        inner.subject_from += words.len() - rest.len();
        return Reading {
            intent: Intent::Count,
            counted: Some(counted),
            target: inner.target.or(target_any),
            subject_from: inner.subject_from,
        };
    }

    if is_values_request(words) {
        return reading(Intent::Values, target_any);
    }

    // Lineage: the relation words split the question into results and subject.
    let down = DOWNSTREAM
        .iter()
        .filter_map(|p| find_phrase(words, p).map(|i| (i, *p)))
        .min();
    let up = UPSTREAM
        .iter()
        .filter_map(|p| find_phrase(words, p).map(|i| (i, *p)))
        .min();
    let lineage = match (down, up) {
        (Some(d), Some(u)) => Some(if d.0 <= u.0 {
            (Intent::Downstream, d)
        } else {
            (Intent::Upstream, u)
        }),
        (Some(d), None) => Some((Intent::Downstream, d)),
        (None, Some(u)) => Some((Intent::Upstream, u)),
        (None, None) => None,
    };
    if let Some((intent, (at, phrase))) = lineage {
        // "which datasets are derived from X" asks for X's downstream.
        let intent = if intent == Intent::Upstream
            && phrase == "derived"
            && has_phrase(words, "derived from")
        {
            Intent::Downstream
        } else {
            intent
        };
        let subject_from = at + phrase.split(' ').count();
        // "What does X depend on?", "what is X built from?": the relation ends the question,
        // so its subject came first and the walk goes the other way.
        const FLIPPABLE: &[&str] = &[
            "depend on",
            "depends on",
            "depending on",
            "rely on",
            "relies on",
            "built on",
            "built from",
            "read from",
            "reads from",
            "fed by",
            "fed from",
            "uses",
            "consume",
            "consumes",
            "derived",
            "derive",
        ];
        if subject_from >= words.len() && at > 0 && FLIPPABLE.contains(&phrase) {
            let flipped = if intent == Intent::Downstream {
                Intent::Upstream
            } else {
                Intent::Downstream
            };
            return Reading {
                intent: flipped,
                counted: None,
                target: None,
                subject_from: 0,
            };
        }
        return Reading {
            intent,
            counted: None,
            target: first_kind(words, 0, at).map(|(_, k)| k),
            subject_from,
        };
    }

    if has(&[
        "owns",
        "own",
        "owner",
        "owners",
        "owned",
        "steward",
        "stewards",
        "stewarded",
        "stewardship",
        "responsible",
        "accountable",
        "contact",
        "maintains",
        "maintain",
        "in charge",
        "ask about",
    ]) && !has(&["retention"])
    {
        return reading(Intent::Ownership, target_any);
    }
    if has(&[
        "processing activity",
        "processing activities",
        "legal basis",
        "lawful basis",
        "purpose",
        "purposes",
        "recipient",
        "recipients",
        "processor",
        "processors",
        "third party",
        "third parties",
        "controller",
        "article 30",
        "art 30",
        "ropa",
        "ccpa",
        "cpra",
        "shared with",
        "share",
        "sold",
        "data subject",
        "data subjects",
        "process",
        "processes",
        "processed",
        "processing",
    ]) {
        return reading(Intent::Compliance, target_any);
    }
    if has(&[
        "policy",
        "policies",
        "allowed",
        "permitted",
        "permission",
        "prohibited",
        "may an",
        "can an",
        "can a",
        "may a",
        "access",
        "retention",
        "how long",
        "kept for",
        "masking",
        "masked",
        "mask",
        "deleted",
        "delete",
        "retain",
        "retained",
        "hashed",
        "redacted",
        "see the",
    ]) {
        return reading(Intent::Policy, target_any);
    }
    if has(&[
        "quality",
        "rule",
        "rules",
        "check",
        "checks",
        "checked",
        "test",
        "tests",
        "tested",
        "violation",
        "violations",
        "failing",
        "fail",
        "failed",
        "passing",
        "score",
        "scores",
        "scorecard",
        "valid",
        "validity",
        "completeness",
        "trust",
        "trustworthy",
        "reliable",
        "freshness",
    ]) {
        return reading(Intent::Quality, target_any);
    }
    if has(&[
        "mean",
        "means",
        "meaning",
        "define",
        "definition",
        "defined",
        "implement",
        "implements",
        "implemented",
        "synonym",
        "synonyms",
        "stand for",
        "stands for",
        "acronym",
    ]) && !has(&["how many"])
    {
        return reading(Intent::Glossary, target_any);
    }
    if has(&[
        "pii",
        "personal",
        "sensitive",
        "sensitivity",
        "classification",
        "classified",
        "confidential",
        "restricted",
        "special category",
        "gdpr",
        "tagged",
        "tag",
        "tags",
        "private",
        "secret",
        "privacy",
    ]) {
        return reading(Intent::Sensitivity, target_any);
    }
    if has(&[
        "describe",
        "tell me about",
        "what is in",
        "what s in",
        "overview of",
        "details of",
        "schema of",
        "columns of",
        "columns does",
        "columns in",
        "fields of",
        "structure of",
    ]) {
        return reading(Intent::Describe, target_any);
    }
    let concept_words = has(&[
        "hold",
        "holds",
        "contain",
        "contains",
        "containing",
        "store",
        "stores",
        "stored",
        "keep",
        "find",
        "where",
        "have",
        "has",
        "with",
        "about",
        "record",
        "records",
        "track",
        "tracks",
        "capture",
        "captures",
        "search",
        "look",
        "locate",
        "mention",
        "mentions",
    ]);
    if concept_words
        && !subject_kinds.iter().all(|k| {
            matches!(
                k,
                Kind::Dataset | Kind::Domain | Kind::Person | Kind::System
            )
        })
    {
        return reading(Intent::Discovery, target_any);
    }
    if has(&["what is", "what are", "what s", "who is", "tell me"]) && !subject_kinds.is_empty() {
        if subject_kinds.contains(&Kind::Term) && !subject_kinds.contains(&Kind::Dataset) {
            return reading(Intent::Glossary, target_any);
        }
        return reading(Intent::Describe, target_any);
    }
    if target_any.is_some() && (has(&["list", "which", "show", "all", "what"])) {
        if concept_words && subject_kinds.is_empty() {
            return reading(Intent::Discovery, target_any);
        }
        return reading(Intent::Listing, target_any);
    }
    if subject_kinds.is_empty() {
        return reading(Intent::Discovery, target_any);
    }
    reading(Intent::Describe, target_any)
}

/// "show me the emails", "list customer phone numbers", "what is the salary of ...": a request
/// for the data's values, not its metadata.
pub fn is_values_request(words: &[String]) -> bool {
    if has_any(
        words,
        &[
            "sample rows",
            "sample row",
            "raw values",
            "actual values",
            "raw data",
            "values of",
            "values in",
            "the values",
            "example values",
            "real values",
            "in clear",
            "unmasked",
            "plain text",
        ],
    ) {
        return !has_any(words, &["how many", "rule", "rules"]);
    }
    for verb in VALUE_VERBS {
        if let Some(at) = find_phrase(words, verb) {
            let after = at + verb.split(' ').count();
            // The object: skip articles, then look at the first noun.
            let object: Vec<&String> = words[after..]
                .iter()
                .filter(|w| {
                    !matches!(
                        w.as_str(),
                        "the" | "all" | "every" | "a" | "an" | "of" | "our" | "their" | "its"
                    )
                })
                .collect();
            let Some(first) = object.first() else {
                continue;
            };
            if META_NOUNS.contains(&first.as_str()) {
                continue;
            }
            let rest: Vec<String> = words[after..].to_vec();
            if has_any(&rest, VALUE_NOUNS) {
                return true;
            }
        }
    }
    // "what is the email of customer 42", "what is Maria's salary".
    if has_any(words, &["what is", "what are", "what s"])
        && has_any(
            words,
            &[
                "salary",
                "salaries",
                "ssn",
                "social security number",
                "passport number",
                "national id",
                "iban",
                "credit card number",
                "password",
                "date of birth",
                "birthday",
                "phone number of",
                "email of",
                "email address of",
                "address of",
                "ip address of",
            ],
        )
        && !has_any(
            words,
            &[
                "column",
                "columns",
                "table",
                "tables",
                "which",
                "where",
                "tag",
                "classification",
                "definition",
                "mean",
                "policy",
                "quality",
                "lineage",
                "owner",
            ],
        )
    {
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ask::text::words;

    fn intent(q: &str) -> Intent {
        read(&words(q), &[Kind::Dataset]).intent
    }

    #[test]
    fn a_relation_at_the_end_points_the_other_way() {
        assert_eq!(
            intent("what does gold.campaign_performance depend on?"),
            Intent::Upstream
        );
        assert_eq!(
            intent("which dashboards depend on bronze.orders?"),
            Intent::Downstream
        );
        assert_eq!(
            intent("what is silver.order_facts built from?"),
            Intent::Upstream
        );
    }

    #[test]
    fn reads_the_kinds_of_question() {
        assert_eq!(
            intent("what breaks if orders.amount changes?"),
            Intent::Downstream
        );
        assert_eq!(
            intent("where does gold.customer_lifetime_value come from?"),
            Intent::Upstream
        );
        assert_eq!(intent("who owns bronze.orders?"), Intent::Ownership);
        assert_eq!(
            intent("how many columns does bronze.orders have?"),
            Intent::Count
        );
        assert_eq!(
            intent("show me the email addresses of all customers"),
            Intent::Values
        );
        assert_eq!(
            read(
                &words("show me the tables with email addresses"),
                &[Kind::Term]
            )
            .intent,
            Intent::Discovery
        );
        assert!(!is_values_request(&words(
            "which tables hold customer emails?"
        )));
        assert!(is_values_request(&words(
            "what is the salary of Maria Keller?"
        )));
    }
}
