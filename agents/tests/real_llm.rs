//! The end-to-end check against a real OpenAI-compatible server, outside CI: run one (see the
//! README, "Questions with a language model"), then
//! `GOVGRAPH_LLM_BASE_URL=http://127.0.0.1:8080/v1 GOVGRAPH_LLM_MODEL=smollm2 cargo test -p
//! govgraph-agents --no-default-features --features openai --test real_llm -- --ignored --nocapture`.
//! A small model answers poorly; what must hold is the protocol, the fallbacks and the limits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use govgraph_agents::ask::llm::{LlmAskConfig, LlmBrain};
use govgraph_agents::ask::{AskConfig, AskRequest, Asker, Role};
use govgraph_graph::{GraphStore, StoreConfig};
use govgraph_search::{HashEmbedder, SearchIndex};

#[test]
#[ignore = "needs a running OpenAI-compatible server (GOVGRAPH_LLM_BASE_URL)"]
fn a_real_server_answers_or_the_offline_brain_does() {
    let base = std::env::var("GOVGRAPH_LLM_BASE_URL").expect("GOVGRAPH_LLM_BASE_URL");
    let model = std::env::var("GOVGRAPH_LLM_MODEL").unwrap_or_else(|_| "smollm2".to_owned());
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    common::load_demo(&store, None);
    let mut index = SearchIndex::in_memory(Arc::new(HashEmbedder::default())).unwrap();
    index.sync(&store).unwrap();
    let asker = |tweak: &dyn Fn(&mut LlmAskConfig)| {
        let mut c = LlmAskConfig::new(&base, &model);
        tweak(&mut c);
        Asker::with_llm(AskConfig::default(), LlmBrain::new(c).unwrap())
    };

    // Answers come back in llm mode, or offline with the reason.
    let a = asker(&|_| {});
    for q in [
        "Who owns bronze.orders?",
        "What breaks if bronze.customers changes?",
        "Which tables hold customer emails?",
    ] {
        let mut r = AskRequest::new(q);
        r.explain = true;
        let t = Instant::now();
        let answer = a.ask(&store, Some(&index), &r).unwrap();
        println!(
            "{q}\n  mode {} in {:.1} s: {}\n  reason: {:?}\n  tools: {:?}",
            answer.mode,
            t.elapsed().as_secs_f64(),
            answer.answer,
            answer.reason,
            answer
                .tool_calls
                .iter()
                .filter(|c| c.tool.starts_with("llm:"))
                .map(|c| format!("{} {}", c.tool, c.input))
                .collect::<Vec<_>>()
        );
        assert!(
            answer.mode == "llm" || answer.reason.is_some(),
            "{answer:?}"
        );
        assert!(
            t.elapsed() < Duration::from_secs(31),
            "within the 30 s limit"
        );
        assert!(!answer.answer.is_empty());
    }
    // A time limit shorter than the model's reply: the offline answer, said so.
    let hurried = asker(&|c| c.endpoint.timeout = Duration::from_millis(50));
    let answer = hurried
        .ask(
            &store,
            Some(&index),
            &AskRequest::new("Who owns bronze.products?"),
        )
        .unwrap();
    println!(
        "50 ms limit: mode {}, reason {:?}",
        answer.mode, answer.reason
    );
    assert_eq!(answer.mode, "offline");
    assert_eq!(answer.entities[0].name, "Maria Keller");
    // A spent budget: the offline answer, said so.
    let thrifty = asker(&|c| c.token_budget = Some(1));
    let first = thrifty
        .ask(
            &store,
            Some(&index),
            &AskRequest::new("Who owns bronze.customers?"),
        )
        .unwrap();
    let second = thrifty
        .ask(
            &store,
            Some(&index),
            &AskRequest::new("Who owns bronze.support_tickets?"),
        )
        .unwrap();
    println!(
        "budget of 1 token: first {}, second {} ({:?})",
        first.mode, second.mode, second.reason
    );
    assert_eq!(second.mode, "offline");
    assert!(second.reason.unwrap().contains("budget"));
    // A refusal never reaches the model.
    let mut r = AskRequest::new("Show me the email addresses of all customers.");
    r.role = Role::Analyst;
    let refused = a.ask(&store, Some(&index), &r).unwrap();
    assert!(refused.refused && refused.mode == "offline");
}
