//! `POST /api/v1/ask` with `[llm]` configured (feature `openai`): the model's client blocks on
//! its own runtime inside the server's blocking pool, and its tool calls reach the audit log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "../../agents/tests/common/mod.rs"]
mod openai;

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_model_answers_through_the_server() {
    let (base, seen) = openai::two_step_model(
        json!([{"id": "c1", "type": "function", "function": {"name": "describe_entity", "arguments": "{\"name\": \"bronze.orders\"}"}}]),
        "{\"answer\": \"Maria Keller owns bronze.orders.\", \"entities\": [\"bronze.orders\"]}",
        10,
    );
    let config = format!(
        "[[principals]]\nname = \"root\"\nkey = \"root-key-0123456789\"\nroles = [\"admin\"]\n\n[llm]\nbase_url = \"{base}\"\nmodel = \"m\"\ntimeout_s = 10\n"
    );
    let sources: Vec<(&str, &str)> = govgraph_seeds::DEMO_SOURCES
        .iter()
        .map(|s| (s.name, s.turtle))
        .collect();
    let s = common::state(&config, &sources);
    let req = Request::post("/api/v1/ask")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, "Bearer root-key-0123456789")
        .body(Body::from(
            json!({"question": "Who owns bronze.orders?"}).to_string(),
        ))
        .unwrap();
    let r = common::send(&s, req).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = r.json();
    assert_eq!(a["mode"], "llm", "{a}");
    assert_eq!(a["entities"][0]["name"], "bronze.orders", "{a}");
    assert_eq!(seen.lock().unwrap().len(), 2);
    let log = common::audited(&s, "action=ask", Some("root-key-0123456789")).await;
    let calls = log["items"][0]["detail"]["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        calls.iter().any(|c| c["tool"] == "llm:describe_entity"),
        "{calls:?}"
    );
}
