//! Rule suggestions from a language model, on top of the offline ones.
//!
//! The model sees a dataset's shape, never its data: column names, types, null rates,
//! distinct counts, numeric and date ranges, format patterns (`AA-999`), semantic types, the
//! glossary terms the columns implement, and the most frequent values only of columns that are
//! neither tagged nor detected as personal data. It answers with rules in JSON; every rule is
//! checked as a stored rule would be (known type, valid parameters, existing columns, a SQL
//! condition that parses, a regular expression that compiles) and the rest are rejected with
//! the reason. Suggestions keep their source, `llm`, and are never applied without a steward.

use govgraph_graph::iri::{DatasetKey, slug};
use govgraph_quality::profile::DatasetProfile;
use govgraph_quality::rules::expr::Predicate;
use govgraph_quality::rules::score::DIMENSIONS;
use govgraph_quality::rules::suggest::{CatalogFacts, Suggestion};
use govgraph_quality::rules::{Check, Rule};
use serde_json::{Value, json};

/// The instructions the model gets.
pub const SYSTEM_PROMPT: &str = "You are a data-quality engineer. Given the shape of one table, propose data-quality rules \
that a careful steward would add and that are not already there. Answer with one JSON object and nothing else: \
{\"rules\": [{\"column\": name or null, \"type\": one of not_null, unique, accepted_values, range, regex, row_count, freshness, custom_sql, \
\"parameters\": object, \"expression\": SQL condition every row must meet (custom_sql only), \"severity\": \"warn\" or \"error\", \
\"dimension\": one of Completeness, Validity, Uniqueness, Consistency, Timeliness, Accuracy, \"title\": short text, \"reason\": why}]}. \
Parameters: not_null {\"max_null_rate\": 0..1} or {}; accepted_values {\"values\": [...]}; range {\"min\": x, \"max\": y}; \
regex {\"pattern\": POSIX regular expression}; row_count {\"min\": n, \"max\": n}; freshness {\"column\": name, \"max_age_hours\": h}.";

/// The user message: the dataset's shape, without personal data.
pub fn rule_prompt(
    dataset: &DatasetKey,
    facts: &CatalogFacts,
    profile: Option<&DatasetProfile>,
    existing: &[Rule],
) -> String {
    let mut columns = Vec::new();
    let names: Vec<String> = match profile {
        Some(p) => p.columns.iter().map(|c| c.name.clone()).collect(),
        None => facts.columns.iter().map(|c| c.name.clone()).collect(),
    };
    for name in &names {
        let fact = facts.columns.iter().find(|c| &c.name == name);
        let p = profile.and_then(|p| p.columns.iter().find(|c| &c.name == name));
        let personal = fact.is_some_and(|f| !f.pii.is_empty())
            || p.is_some_and(|p| {
                p.semantic_type
                    .parse::<govgraph_quality::Category>()
                    .is_ok_and(|c| c != govgraph_quality::Category::None)
            });
        let mut c = json!({ "name": name });
        if let Some(f) = fact {
            c["required"] = json!(f.required);
            c["primary_key"] = json!(f.primary_key);
            let terms: Vec<&String> = f.terms.iter().filter_map(|(_, l)| l.first()).collect();
            if !terms.is_empty() {
                c["glossary_terms"] = json!(terms);
            }
            if personal {
                c["personal_data"] = json!(f.pii);
            }
        }
        if let Some(p) = p {
            c["type"] = json!(p.data_type);
            c["null_percentage"] = json!(p.null_percentage);
            c["distinct_count"] = json!(p.distinct_count);
            c["semantic_type"] = json!(p.semantic_type);
            if !personal {
                c["min"] = p.min.clone();
                c["max"] = p.max.clone();
                if p.distinct_count <= 20 {
                    c["values"] = json!(p.top_values.iter().map(|v| &v.value).collect::<Vec<_>>());
                }
            } else if p.data_type != "text" {
                c["min"] = p.min.clone();
                c["max"] = p.max.clone();
            }
            c["formats"] = json!(p.patterns.iter().map(|x| &x.pattern).collect::<Vec<_>>());
        }
        columns.push(c);
    }
    let existing: Vec<Value> = existing
        .iter()
        .map(|r| json!({ "columns": r.columns, "type": r.check.rule_type() }))
        .collect();
    let doc = json!({
        "dataset": format!("{}/{}", dataset.system, dataset.name),
        "rows": profile.map(|p| p.row_count),
        "columns": columns,
        "existing_rules": existing,
    });
    doc.to_string()
}

/// The first JSON object or array in a reply (models wrap answers in code fences or prose).
fn json_in(reply: &str) -> Option<Value> {
    let start = reply.find(['{', '['])?;
    let end = reply.rfind(['}', ']'])?;
    serde_json::from_str(reply.get(start..=end)?).ok()
}

/// Checks the model's reply: the suggestions that hold, and a reason for each one rejected.
pub fn parse_rule_reply(
    reply: &str,
    dataset: &DatasetKey,
    columns: &[String],
    existing: &[Rule],
) -> (Vec<Suggestion>, Vec<String>) {
    let mut out: Vec<Suggestion> = Vec::new();
    let mut rejected = Vec::new();
    let Some(doc) = json_in(reply) else {
        return (out, vec!["the reply holds no JSON".to_owned()]);
    };
    let list = match &doc {
        Value::Array(a) => a.clone(),
        Value::Object(o) => o
            .get("rules")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    for (i, item) in list.iter().enumerate() {
        let at = |why: String| format!("rule {}: {why}", i + 1);
        let column = item
            .get("column")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(c) = &column
            && !columns.contains(c)
        {
            rejected.push(at(format!("no column {c:?}")));
            continue;
        }
        let rule_type = item.get("type").and_then(Value::as_str).unwrap_or_default();
        if rule_type == "referential" {
            rejected.push(at(
                "references are suggested from the catalog's keys only".to_owned()
            ));
            continue;
        }
        let parameters = item
            .get("parameters")
            .filter(|p| !p.is_null())
            .map(Value::to_string);
        let expression = item.get("expression").and_then(Value::as_str);
        let check = match Check::from_stored(rule_type, parameters.as_deref(), expression) {
            Ok(c) => c,
            Err(e) => {
                rejected.push(at(e));
                continue;
            }
        };
        let row_check = !matches!(
            check,
            Check::RowCount { .. } | Check::Freshness { .. } | Check::CustomSql { .. }
        );
        if row_check && column.is_none() {
            rejected.push(at(format!("a {rule_type} rule needs a column")));
            continue;
        }
        let rule_columns: Vec<String> = if row_check {
            column.clone().into_iter().collect()
        } else {
            Vec::new()
        };
        if let Check::Freshness { column: c, .. } = &check
            && !columns.contains(c)
        {
            rejected.push(at(format!("no column {c:?} to judge freshness on")));
            continue;
        }
        if let Some(sql) = check.failing_predicate(&rule_columns)
            && let Err(e) = Predicate::parse(&sql, columns)
        {
            rejected.push(at(format!("{sql}: {e}")));
            continue;
        }
        let taken =
            |r: &Rule| r.check.rule_type() == check.rule_type() && r.columns == rule_columns;
        if existing.iter().any(taken) || out.iter().any(|s| taken(&s.rule)) {
            rejected.push(at("repeats a rule the dataset has".to_owned()));
            continue;
        }
        let dimension = item
            .get("dimension")
            .and_then(Value::as_str)
            .filter(|d| DIMENSIONS.contains(d))
            .unwrap_or(check.default_dimension())
            .to_owned();
        let severity = match item.get("severity").and_then(Value::as_str) {
            Some("error") => "error",
            _ => "warn",
        };
        let what = rule_columns
            .first()
            .cloned()
            .unwrap_or_else(|| "rows".to_owned());
        let reason = item
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or("suggested by the model")
            .to_owned();
        out.push(Suggestion {
            rule: Rule {
                iri: String::new(),
                key: slug(&format!(
                    "{}.{}.{what}.{}.llm",
                    dataset.system,
                    dataset.name,
                    check.rule_type().replace('_', "-")
                )),
                title: item
                    .get("title")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("{what}: {}", check.rule_type()), str::to_owned),
                description: Some(format!("Suggested by a language model: {reason}")),
                dataset: format!("{}/{}", dataset.system, dataset.name),
                columns: rule_columns,
                dimension,
                severity: severity.to_owned(),
                origin: "suggested".to_owned(),
                check,
            },
            source: "llm".to_owned(),
            reason,
        });
    }
    (out, rejected)
}

#[cfg(feature = "openai")]
pub use client::{LlmConfig, LlmRuleSuggester};

#[cfg(feature = "openai")]
mod client {
    use std::time::Duration;

    use crate::error::Result;

    /// Where and how to ask.
    #[derive(Debug, Clone)]
    pub struct LlmConfig {
        /// The API base, such as `https://api.openai.com/v1`.
        pub base_url: String,
        /// The model name.
        pub model: String,
        /// The API key, if the endpoint wants one.
        pub api_key: Option<String>,
        /// Time allowed for one request.
        pub timeout: Duration,
    }

    impl LlmConfig {
        /// A configuration with a 30 s timeout.
        pub fn new(base_url: &str, model: &str) -> Self {
            Self {
                base_url: base_url.trim_end_matches('/').to_owned(),
                model: model.to_owned(),
                api_key: None,
                timeout: Duration::from_secs(30),
            }
        }
    }

    /// Asks an OpenAI-compatible chat endpoint for rules. Synchronous: it owns a small
    /// runtime, so call it from a blocking thread.
    pub struct LlmRuleSuggester(crate::openai::Chat);

    impl std::fmt::Debug for LlmRuleSuggester {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.0.debug(f, "LlmRuleSuggester")
        }
    }

    impl LlmRuleSuggester {
        /// Prepares the client (no request is made yet).
        pub fn new(config: LlmConfig) -> Result<Self> {
            Ok(Self(crate::openai::Chat::new(config)?))
        }

        /// Sends the system prompt and `prompt`, returns the model's answer text.
        pub fn ask(&self, prompt: &str) -> Result<String> {
            self.0.complete(super::SYSTEM_PROMPT, prompt)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rule(columns: &[&str], check: Check) -> Rule {
        Rule {
            iri: String::new(),
            key: "k".to_owned(),
            title: "t".to_owned(),
            description: None,
            dataset: "lake/orders".to_owned(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            dimension: "Validity".to_owned(),
            severity: "warn".to_owned(),
            origin: "dbt".to_owned(),
            check,
        }
    }

    #[test]
    fn replies_are_checked_rule_by_rule() {
        let columns: Vec<String> = ["status", "amount", "placed"]
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
        let existing = [rule(
            &["status"],
            Check::NotNull {
                max_null_rate: None,
            },
        )];
        let reply = r#"Here you go:
```json
{"rules": [
  {"column": "amount", "type": "range", "parameters": {"min": 0}, "severity": "error", "dimension": "Validity", "title": "amount is never negative", "reason": "money"},
  {"column": "status", "type": "not_null", "parameters": {}},
  {"column": "colour", "type": "not_null"},
  {"column": "amount", "type": "regex", "parameters": {"pattern": "("}},
  {"column": null, "type": "custom_sql", "expression": "amount > nonsense_column"},
  {"column": null, "type": "custom_sql", "expression": "amount >= 0 OR status = 'refund'", "dimension": "Vibes"},
  {"column": null, "type": "freshness", "parameters": {"column": "placed", "max_age_hours": 24}},
  {"column": "amount", "type": "teleport"}
]}
```"#;
        let (ok, rejected) = parse_rule_reply(
            reply,
            &DatasetKey::new("lake", "orders"),
            &columns,
            &existing,
        );
        let kinds: Vec<&str> = ok.iter().map(|s| s.rule.check.rule_type()).collect();
        assert_eq!(kinds, ["range", "custom_sql", "freshness"], "{rejected:#?}");
        assert_eq!(ok[0].rule.severity, "error");
        assert_eq!(
            ok[1].rule.dimension, "Validity",
            "unknown dimensions fall back"
        );
        assert!(ok.iter().all(|s| s.source == "llm"));
        assert_eq!(rejected.len(), 5, "{rejected:#?}");
        assert!(rejected[0].contains("repeats"));
        assert!(rejected[1].contains("colour"));
        assert!(rejected[3].contains("nonsense_column"));
        assert_eq!(
            parse_rule_reply("no idea", &DatasetKey::new("a", "b"), &columns, &[])
                .1
                .len(),
            1
        );
    }

    #[test]
    fn the_prompt_never_carries_personal_values() {
        let facts = CatalogFacts {
            dataset: None,
            columns: vec![govgraph_quality::rules::suggest::ColumnFacts {
                name: "email".to_owned(),
                pii: vec!["email".to_owned()],
                ..Default::default()
            }],
            standards: Vec::new(),
        };
        let dir = std::env::temp_dir().join(format!("gg-llm-prompt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("people.csv");
        std::fs::write(
            &file,
            "email,tier\nada@example.com,gold\nalan@example.org,silver\n",
        )
        .unwrap();
        let profile = govgraph_quality::profile::profile_file(&file).unwrap();
        let prompt = rule_prompt(
            &DatasetKey::new("lake", "people"),
            &facts,
            Some(&profile),
            &[],
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!prompt.contains("ada@"), "{prompt}");
        assert!(
            prompt.contains("gold"),
            "non-personal values are shown: {prompt}"
        );
    }
}
