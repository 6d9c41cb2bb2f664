//! SQL from a language model, for requests the templates cannot express ("a running total",
//! "share of", "excluding ..."). The model sees the request, the glossary's definitions of
//! the terms involved and the schema of the datasets the requester may read (names, types,
//! descriptions; never a value, never a withheld column). Its SQL is trusted no more than a
//! stranger's: one SELECT, parsed in the dialect, every column checked against that schema by
//! the lineage engine, then executed like the templates' SQL. Anything else is rejected with
//! the reason, and the template's SQL stands.

use std::collections::BTreeSet;

use super::catalog::Snapshot;
use super::plan::SqlDialect;
use crate::error::{Error, Result};

/// Writes SQL for a prompt: a language model behind the `openai` feature, or a stand-in.
pub trait SqlWriter: Send + Sync + std::fmt::Debug {
    /// Answers `prompt` under `system`'s instructions.
    fn write(&self, system: &str, prompt: &str) -> Result<String>;
    /// The writer's name for the spec (`llm:MODEL`).
    fn name(&self) -> String;
}

/// The instructions the model gets.
pub const SYSTEM_PROMPT: &str = "You are a senior analytics engineer. Write one SQL SELECT statement \
(a WITH clause is allowed) that builds the table the request describes, over the tables listed and only their \
listed columns. Use the glossary's definitions exactly as given for measures and filters. Name every output column \
in snake_case. Never write INSERT, UPDATE, DELETE, DDL or more than one statement. Answer with one JSON object and \
nothing else: {\"sql\": \"...\", \"explanation\": \"one sentence\"}.";

/// Words that carry no logic the templates would miss.
const PLAIN: &[&str] = &[
    "show", "give", "me", "want", "need", "table", "report", "data", "list", "please", "every",
    "sold", "made", "get", "build", "create", "product", "dataset", "view", "value", "amount",
    "average", "avg", "sum", "metric", "kpi", "broken", "down", "split", "ranked", "highest",
];

/// Why the templates cannot be trusted with this request, if they cannot.
pub fn beyond_templates(unused: &[String], problems: &[String]) -> Option<String> {
    let logic: Vec<&String> = unused
        .iter()
        .filter(|w| !PLAIN.contains(&w.as_str()) && w.parse::<f64>().is_err())
        .collect();
    if !logic.is_empty() {
        return Some(format!(
            "the templates do not express \"{}\"",
            logic
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    problems
        .first()
        .map(|p| format!("the templates could not serve it: {p}"))
}

/// The prompt: the request, the dialect, the glossary's definitions and the readable schema.
pub fn prompt(
    snap: &Snapshot,
    request: &str,
    dialect: SqlDialect,
    datasets: &[usize],
    withheld: &BTreeSet<String>,
    terms: &[String],
) -> String {
    let mut out = format!(
        "Request: {request}\nSQL dialect: {}\n\nGlossary:\n",
        dialect.name()
    );
    for t in terms.iter().filter_map(|t| snap.term(t)) {
        out.push_str(&format!(
            "- {}: {}",
            t.label,
            t.definition.as_deref().unwrap_or("")
        ));
        if let Some(m) = &t.measure {
            let table = snap
                .dataset(&m.dataset)
                .map_or("?", |d| snap.datasets[d].name.as_str());
            out.push_str(&format!(" Computed over {table} as {}", m.expression));
            if let Some(f) = &m.filter {
                out.push_str(&format!(" where {f}"));
            }
            out.push('.');
        }
        if let Some((f, d)) = &t.filter {
            let table = snap
                .dataset(d)
                .map_or("?", |d| snap.datasets[d].name.as_str());
            out.push_str(&format!(" Rows of {table} where {f}."));
        }
        out.push('\n');
    }
    out.push_str("\nTables:\n");
    for &d in datasets {
        let ds = &snap.datasets[d];
        out.push_str(&format!(
            "- {}: {}\n",
            ds.name,
            ds.description.as_deref().unwrap_or(&ds.title)
        ));
        for (_, c) in snap
            .columns_of(d)
            .filter(|(_, c)| !withheld.contains(&c.iri))
        {
            out.push_str(&format!(
                "    {} {}{}{}\n",
                c.name,
                c.data_type.as_deref().unwrap_or("unknown"),
                if c.primary_key { " primary key" } else { "" },
                c.description
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ));
        }
    }
    out
}

/// The SQL in a model's reply: the `sql` of a JSON object, else the text itself (code
/// fences removed).
pub fn sql_of(reply: &str) -> Result<String> {
    let text = reply.trim();
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```sql"))
        .or_else(|| text.strip_prefix("```"))
        .map_or(text, |t| t.trim_end().trim_end_matches("```"))
        .trim();
    let sql = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => v["sql"]
            .as_str()
            .ok_or_else(|| Error::Llm("the reply's JSON has no \"sql\"".into()))?
            .to_owned(),
        Err(_) => text.to_owned(),
    };
    let sql = sql.trim().trim_end_matches(';').trim().to_owned();
    if sql.is_empty() {
        return Err(Error::Llm("the reply holds no SQL".into()));
    }
    Ok(sql)
}

/// Checks a model's SQL: one SELECT that parses in `dialect` and reads only listed columns
/// of `datasets` (withheld ones are not listed). Returns its output columns.
pub fn check(
    snap: &Snapshot,
    sql: &str,
    dialect: SqlDialect,
    datasets: &[usize],
    withheld: &BTreeSet<String>,
) -> Result<Vec<String>> {
    let schema = snap.schema(datasets, withheld);
    let analysis = govgraph_lineage::analyze(
        sql,
        &schema,
        &govgraph_lineage::Options {
            dialect: dialect.grammar(),
            ..Default::default()
        },
    );
    let [st] = analysis.statements.as_slice() else {
        return Err(Error::Llm(format!(
            "{} statements; one SELECT is allowed",
            analysis.statements.len()
        )));
    };
    if let Some(e) = &st.error {
        return Err(Error::Llm(format!(
            "the SQL does not parse in {} (line {}, column {}): {}",
            dialect.name(),
            e.line,
            e.column,
            e.message
        )));
    }
    if st.kind != "select" {
        return Err(Error::Llm(format!(
            "a {} statement; only a SELECT is allowed",
            st.kind
        )));
    }
    if let Some(w) = st.warnings.first() {
        return Err(Error::Llm(format!(
            "the SQL reads something the requester's tables do not offer: {}",
            w.message
        )));
    }
    if st.column_order.is_empty() {
        return Err(Error::Llm("the SQL yields no named columns".into()));
    }
    Ok(st.column_order.clone())
}

#[cfg(feature = "openai")]
pub use client::LlmSqlWriter;

#[cfg(feature = "openai")]
mod client {
    use crate::error::Result;
    use crate::quality::LlmConfig;

    /// An OpenAI-compatible chat endpoint that writes SQL. Synchronous: it owns a small
    /// runtime, so call it from a blocking thread.
    pub struct LlmSqlWriter(crate::openai::Chat);

    impl std::fmt::Debug for LlmSqlWriter {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.0.debug(f, "LlmSqlWriter")
        }
    }

    impl LlmSqlWriter {
        /// Prepares the client (no request is made yet).
        pub fn new(config: LlmConfig) -> Result<Self> {
            Ok(Self(crate::openai::Chat::new(config)?))
        }
    }

    impl super::SqlWriter for LlmSqlWriter {
        fn write(&self, system: &str, prompt: &str) -> Result<String> {
            self.0.complete(system, prompt)
        }

        fn name(&self) -> String {
            format!("llm:{}", self.0.model())
        }
    }
}
