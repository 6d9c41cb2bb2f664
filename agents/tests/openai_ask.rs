//! Talk to metadata with a language model, over the OpenAI chat-completions wire protocol,
//! against a small HTTP server in the test: tool calls and their results, the JSON answer,
//! errors, timeouts, the token budget, the response cache, and refusals that never reach
//! the model.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Seen, completion, serve, two_step_model};
use govgraph_agents::ask::llm::{LlmAskConfig, LlmBrain};
use govgraph_agents::ask::{AskConfig, AskRequest, Asker, Role};
use govgraph_graph::{GraphStore, StoreConfig};
use govgraph_search::{HashEmbedder, SearchIndex};
use serde_json::{Value, json};

fn demo() -> (GraphStore, SearchIndex) {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    common::load_demo(&store, None);
    let mut index = SearchIndex::in_memory(Arc::new(HashEmbedder::default())).unwrap();
    index.sync(&store).unwrap();
    (store, index)
}

/// A model that first calls `lineage` on bronze.customers (and two more tools), then answers
/// in JSON.
fn tool_model() -> (String, Seen) {
    two_step_model(
        json!([
            {"id": "call-1", "type": "function", "function": {"name": "lineage", "arguments": "{\"entity\": \"bronze.customers\", \"direction\": \"downstream\"}"}},
            {"id": "call-2", "type": "function", "function": {"name": "run_sparql", "arguments": "{\"query\": \"SELECT ?n WHERE { ?d dct:identifier ?n } ORDER BY ?n LIMIT 3\"}"}},
            {"id": "call-3", "type": "function", "function": {"name": "no_such_tool", "arguments": "{}"}}
        ]),
        "{\"answer\": \"A change to bronze.customers reaches gold.customer_lifetime_value, among others.\", \"entities\": [\"gold.customer_lifetime_value\"]}",
        40,
    )
}

fn asker(base: &str, tweak: impl FnOnce(&mut LlmAskConfig)) -> Asker {
    let mut config = LlmAskConfig::new(base, "m");
    config.endpoint.api_key = Some("sk-test".to_owned());
    tweak(&mut config);
    Asker::with_llm(AskConfig::default(), LlmBrain::new(config).unwrap())
}

#[test]
fn the_model_calls_tools_and_answers_in_json() {
    let (store, index) = demo();
    let (base, seen) = tool_model();
    let a = asker(&base, |_| {});
    let mut r = AskRequest::new("What breaks if bronze.customers changes?");
    r.role = Role::Analyst;
    r.explain = true;
    let answer = a.ask(&store, Some(&index), &r).unwrap();
    assert_eq!(answer.mode, "llm", "{answer:?}");
    assert!(
        answer.answer.contains("gold.customer_lifetime_value"),
        "{}",
        answer.answer
    );
    let names: Vec<&str> = answer.entities.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["gold.customer_lifetime_value"],
        "the entities the model relied on"
    );
    assert!(
        answer
            .citations
            .iter()
            .any(|c| c.contains("dct:identifier")),
        "the model's SPARQL is cited"
    );

    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.len(),
        2,
        "one call with tool requests, one with their results"
    );
    let (line, auth, first) = &seen[0];
    assert!(line.starts_with("POST /v1/chat/completions"), "{line}");
    assert_eq!(auth.as_deref(), Some("Bearer sk-test"));
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    for t in [
        "search_catalog",
        "describe_entity",
        "run_sparql",
        "lineage",
        "glossary_lookup",
        "quality_status",
        "policy_check",
    ] {
        assert!(tools.contains(&t), "{t} offered: {tools:?}");
    }
    assert!(
        first["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("analyst"),
        "the role is stated"
    );
    let results: Vec<&Value> = seen[1].2["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .collect();
    assert_eq!(results.len(), 3, "every tool call is answered");
    assert_eq!(results[0]["tool_call_id"], "call-1");
    assert!(
        results[0]["content"]
            .as_str()
            .unwrap()
            .contains("silver.customers_clean"),
        "the lineage tool ran: {}",
        results[0]["content"]
    );
    assert!(
        results[1]["content"].as_str().unwrap().contains("rows"),
        "{}",
        results[1]["content"]
    );
    assert!(
        results[2]["content"]
            .as_str()
            .unwrap()
            .contains("no tool named"),
        "{}",
        results[2]["content"]
    );
    let assistant = seen[1].2["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "assistant")
        .unwrap();
    assert_eq!(
        assistant["tool_calls"].as_array().unwrap().len(),
        3,
        "the model's calls are sent back"
    );
}

#[test]
fn errors_and_timeouts_fall_back_to_offline_and_say_so() {
    let (store, index) = demo();
    let (base, _) = serve(|_| {
        (
            "500 Internal Server Error",
            json!({"error": {"message": "overloaded", "type": "server_error", "param": null, "code": null}}),
        )
    });
    let a = asker(&base, |c| c.endpoint.timeout = Duration::from_secs(5));
    let answer = a
        .ask(
            &store,
            Some(&index),
            &AskRequest::new("Who owns bronze.orders?"),
        )
        .unwrap();
    assert_eq!(answer.mode, "offline");
    assert!(
        answer.reason.as_deref().unwrap().contains("offline answer"),
        "{:?}",
        answer.reason
    );
    assert_eq!(answer.entities[0].name, "Maria Keller");

    let (base, _) = serve(|_| {
        std::thread::sleep(Duration::from_secs(3));
        (
            "200 OK",
            completion(json!({"role": "assistant", "content": "late"}), 10),
        )
    });
    let a = asker(&base, |c| c.endpoint.timeout = Duration::from_millis(800));
    let t = Instant::now();
    let answer = a
        .ask(
            &store,
            Some(&index),
            &AskRequest::new("Who owns bronze.orders?"),
        )
        .unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(2500),
        "cut off at the timeout: {:?}",
        t.elapsed()
    );
    assert_eq!(answer.mode, "offline");
    assert!(
        answer.reason.as_deref().unwrap().contains("within"),
        "{:?}",
        answer.reason
    );
}

/// A model that looks up bronze.orders' description, then answers; 25 tokens a call.
fn describing_model() -> (String, Seen) {
    two_step_model(
        json!([{"id": "call-1", "type": "function", "function": {"name": "describe_entity", "arguments": "{\"name\": \"bronze.orders\"}"}}]),
        "Maria Keller owns it.",
        25,
    )
}

#[test]
fn budgets_cache_grounding_and_refusals_bound_the_model() {
    let (store, index) = demo();
    let (base, seen) = describing_model();
    let a = asker(&base, |c| c.token_budget = Some(60));
    let q = AskRequest::new("Who owns bronze.orders?");
    let first = a.ask(&store, Some(&index), &q).unwrap();
    assert_eq!(first.mode, "llm", "{:?}", first.reason);
    assert_eq!(
        first.entities[0].name, "bronze.orders",
        "grounded in the tool's result"
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
    // The same question again: from the cache, no request.
    let again = a.ask(&store, Some(&index), &q).unwrap();
    assert_eq!(
        (again.mode, again.answer.as_str()),
        ("llm", first.answer.as_str())
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
    // 50 of 60 tokens spent: one more call is allowed, the next is not.
    let second = a
        .ask(
            &store,
            Some(&index),
            &AskRequest::new("Who owns bronze.products?"),
        )
        .unwrap();
    assert_eq!(second.mode, "offline", "over budget");
    assert!(
        second.reason.as_deref().unwrap().contains("budget"),
        "{:?}",
        second.reason
    );
    assert_eq!(seen.lock().unwrap().len(), 3);
    let third = a
        .ask(
            &store,
            Some(&index),
            &AskRequest::new("Who owns bronze.customers?"),
        )
        .unwrap();
    assert_eq!(third.mode, "offline");
    assert_eq!(
        seen.lock().unwrap().len(),
        3,
        "no call once the budget is spent"
    );
    assert_eq!(
        third.entities[0].name, "Claire Dubois",
        "the offline answer stands"
    );
    // A refused question never reaches the model.
    let mut r = AskRequest::new("Show me the email addresses of all customers.");
    r.role = Role::Analyst;
    let refused = asker(&base, |_| {}).ask(&store, Some(&index), &r).unwrap();
    assert!(refused.refused);
    assert_eq!(seen.lock().unwrap().len(), 3);
    // A model that answers without looking anything up is not believed.
    let (base, _) = serve(|_| {
        (
            "200 OK",
            completion(
                json!({"role": "assistant", "content": "Nobody owns it."}),
                10,
            ),
        )
    });
    let answer = asker(&base, |_| {}).ask(&store, Some(&index), &q).unwrap();
    assert_eq!(answer.mode, "offline");
    assert!(
        answer
            .reason
            .as_deref()
            .unwrap()
            .contains("nothing it looked up"),
        "{:?}",
        answer.reason
    );
    assert_eq!(answer.entities[0].name, "Maria Keller");
}
