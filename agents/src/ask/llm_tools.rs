//! The model's tools, run by the asker: each is an inner offline question or a scoped,
//! read-only SPARQL query, so the model sees exactly what the asker may see.

use std::time::{Duration, Instant};

use govgraph_graph::oxigraph::model::Term;
use govgraph_graph::store::collect_solutions;
use govgraph_graph::{GraphStore, QueryOptions};
use govgraph_search::{EntityKind, SearchIndex, SearchRequest};
use serde_json::{Value, json};

use super::llm::{LlmBrain, ToolOutput, ToolRunner};
use super::{Answer, AskRequest, Asker, EntityRef, Step, ToolCall, guard, text};

struct Runner<'a> {
    asker: &'a Asker,
    store: &'a GraphStore,
    search: Option<&'a SearchIndex>,
    request: &'a AskRequest,
}

impl Runner<'_> {
    fn inner(&self, question: String) -> Result<ToolOutput, String> {
        let mut r = AskRequest::new(&question);
        r.role = self.request.role;
        r.scope = self.request.scope.clone();
        let a = self
            .asker
            .ask_offline(self.store, self.search, &r, false)
            .map_err(|e| e.to_string())?;
        Ok(ToolOutput {
            data: json!({
                "answer": a.answer,
                "refused": a.refused,
                "value": a.value,
                "entities": a.entities.iter().map(|e| json!({"name": e.name, "kind": e.kind})).collect::<Vec<_>>(),
            }),
            entities: a.entities,
            calls: a.tool_calls,
        })
    }

    fn sparql(&self, query: &str) -> Result<ToolOutput, String> {
        let started = Instant::now();
        let options = QueryOptions {
            timeout: Some(Duration::from_secs(10)),
            ..QueryOptions::default()
        };
        let rows = self
            .store
            .query_in(query, &options, &self.request.scope)
            .and_then(|o| collect_solutions(o.results, &o.deadline))
            .map_err(|e| format!("the query failed: {e} (only SELECT queries are allowed)"))?;
        let shown: Vec<Value> = rows
            .iter()
            .take(50)
            .map(|r| {
                let mut o = serde_json::Map::new();
                for (var, term) in r.iter() {
                    let v = match term {
                        Term::NamedNode(n) => n.as_str().to_owned(),
                        // The model never sees a value the asker's policies protect.
                        Term::Literal(l) => self
                            .asker
                            .policy_mask(self.request, &guard::mask(l.value()))
                            .unwrap_or_else(|| "[withheld]".to_owned()),
                        other => other.to_string(),
                    };
                    o.insert(var.as_str().to_owned(), Value::String(v));
                }
                Value::Object(o)
            })
            .collect();
        Ok(ToolOutput {
            data: json!({"rows": shown, "total": rows.len()}),
            entities: Vec::new(),
            calls: vec![ToolCall {
                tool: "sparql".to_owned(),
                input: query.trim().to_owned(),
                results: rows.len(),
                attempts: 1,
                ms: started.elapsed().as_secs_f64() * 1e3,
                error: None,
            }],
        })
    }
}

fn arg<'v>(args: &'v Value, name: &str) -> Result<&'v str, String> {
    args.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| format!("missing argument `{name}`"))
}

impl ToolRunner for Runner<'_> {
    fn run(&self, name: &str, args: &Value) -> Result<ToolOutput, String> {
        match name {
            "search_catalog" => {
                let search = self.search.ok_or("search is not available here")?;
                let mut r = SearchRequest::new(arg(args, "query")?);
                r.kinds = args
                    .get("kind")
                    .and_then(Value::as_str)
                    .and_then(EntityKind::parse)
                    .into_iter()
                    .collect();
                r.tenant = self.request.scope.tenant_id().map(str::to_owned);
                let started = Instant::now();
                let response = search.search(&r).map_err(|e| e.to_string())?;
                let hits: Vec<Value> = response
                    .hits
                    .iter()
                    .map(|h| json!({"name": h.path, "kind": h.kind, "label": h.label, "pii": h.pii, "domain": h.domain}))
                    .collect();
                Ok(ToolOutput {
                    data: json!({"hits": hits}),
                    entities: Vec::new(),
                    calls: vec![ToolCall {
                        tool: "search".to_owned(),
                        input: r.query.clone(),
                        results: hits.len(),
                        attempts: 1,
                        ms: started.elapsed().as_secs_f64() * 1e3,
                        error: None,
                    }],
                })
            }
            "describe_entity" => self.inner(format!("Describe {}.", arg(args, "name")?)),
            "run_sparql" => self.sparql(arg(args, "query")?),
            "lineage" => {
                let direction = if args.get("direction").and_then(Value::as_str) == Some("upstream")
                {
                    "upstream"
                } else {
                    "downstream"
                };
                self.inner(format!("What is {direction} of {}?", arg(args, "entity")?))
            }
            "glossary_lookup" => self.inner(format!("What does {} mean?", arg(args, "term")?)),
            "quality_status" => self.inner(format!(
                "Which quality rules apply to {}?",
                arg(args, "entity")?
            )),
            "policy_check" => {
                let entity = arg(args, "entity")?;
                match args.get("role").and_then(Value::as_str) {
                    Some(role) => {
                        let purpose = args
                            .get("purpose")
                            .and_then(Value::as_str)
                            .map(|p| format!(" for {p}"))
                            .unwrap_or_default();
                        self.inner(format!("Can an {role} read {entity}{purpose}?"))
                    }
                    None => self.inner(format!("Which policies apply to {entity}?")),
                }
            }
            other => Err(format!("there is no tool named {other}")),
        }
    }
}

impl Asker {
    /// The model answers through the tools; on any failure the offline answer stands and
    /// says so.
    pub(crate) fn ask_llm(
        &self,
        brain: &LlmBrain,
        store: &GraphStore,
        search: Option<&SearchIndex>,
        request: &AskRequest,
        offline: Answer,
    ) -> Answer {
        let started = Instant::now();
        // Answers differ by what the policies let the asker see.
        let subject = request.subject.as_ref();
        let key = format!(
            "{}|{}|{}|{}|{}|{}",
            request.scope.tenant_id().unwrap_or(""),
            request.role.name(),
            subject.map(|s| s.roles.join(",")).unwrap_or_default(),
            subject.map(|s| s.domains.join(",")).unwrap_or_default(),
            request.purpose.as_deref().unwrap_or(""),
            text::words(&request.question).join(" ")
        );
        if request.session.is_none()
            && let Some(mut cached) = brain.cached(&key)
        {
            cached.session = offline.session;
            if let Some(plan) = cached.plan.as_mut() {
                plan.push(Step {
                    agent: "executor",
                    action: "answer from the response cache".to_owned(),
                    outcome: "ok",
                    ms: 0.0,
                    tools: Vec::new(),
                });
            }
            return cached;
        }
        let runner = Runner {
            asker: self,
            store,
            search,
            request,
        };
        let result = brain.answer(
            &request.question,
            request.role.name(),
            &request.scope,
            &runner,
        );
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let mut answer = offline;
        // The evaluator: a model's answer stands only on what its tools found in the graph.
        let result = result.and_then(|o| {
            let grounded = o.tools.iter().any(|(_, _, out)| {
                !out.entities.is_empty()
                    || out
                        .calls
                        .iter()
                        .any(|c| c.tool == "sparql" && c.results > 0)
            });
            if grounded {
                Ok(o)
            } else {
                Err(crate::error::Error::Llm(
                    "its answer rests on nothing it looked up in the graph".to_owned(),
                ))
            }
        });
        match result {
            Ok(o) => {
                let mut all: Vec<EntityRef> = Vec::new();
                let mut calls: Vec<ToolCall> = Vec::new();
                for (name, args, out) in &o.tools {
                    all.extend(out.entities.iter().cloned());
                    calls.push(ToolCall {
                        tool: format!("llm:{name}"),
                        input: args.to_string(),
                        results: out.entities.len(),
                        attempts: 1,
                        ms: 0.0,
                        error: None,
                    });
                    calls.extend(out.calls.iter().cloned());
                }
                let mut seen = std::collections::BTreeSet::new();
                all.retain(|e| seen.insert(e.iri.clone()));
                let lower = o.text.to_lowercase();
                let named: Vec<EntityRef> = all
                    .iter()
                    .filter(|e| {
                        o.named.iter().any(|n| n.eq_ignore_ascii_case(&e.name))
                            || lower.contains(&e.name.to_lowercase())
                    })
                    .cloned()
                    .collect();
                answer.entities = if named.is_empty() { all } else { named };
                answer.answer = self
                    .policy_mask(request, &guard::mask(&o.text))
                    .unwrap_or_else(|| super::WITHHELD_ANSWER.to_owned());
                answer.mode = "llm";
                let mut citations: Vec<String> =
                    answer.entities.iter().map(|e| e.iri.clone()).collect();
                for c in &calls {
                    if c.tool == "sparql" && !citations.contains(&c.input) {
                        citations.push(c.input.clone());
                    }
                }
                answer.citations = citations;
                answer.tool_calls.extend(calls.clone());
                answer.timings.execute_ms += ms;
                answer.timings.total_ms += ms;
                if let Some(plan) = answer.plan.as_mut() {
                    plan.push(Step {
                        agent: "executor",
                        action: format!(
                            "language model: {} calls, {} tools, {} tokens",
                            o.steps,
                            o.tools.len(),
                            o.tokens
                        ),
                        outcome: "ok",
                        ms,
                        tools: calls,
                    });
                }
                if request.session.is_none() {
                    brain.remember(key, &answer);
                }
            }
            Err(e) => {
                answer.reason = Some(format!(
                    "The language model gave no usable answer ({e}), so this is the offline answer."
                ));
                answer.timings.total_ms += ms;
                if let Some(plan) = answer.plan.as_mut() {
                    plan.push(Step {
                        agent: "executor",
                        action: format!("language model failed: {e}"),
                        outcome: "fallback",
                        ms,
                        tools: Vec::new(),
                    });
                }
            }
        }
        answer
    }
}
