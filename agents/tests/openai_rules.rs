//! Rule suggestions over the OpenAI chat-completions wire protocol, against a small HTTP
//! server in the test: the request carries the model, the instructions and the dataset's
//! shape (without personal values), and the reply's rules are checked before they are kept.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Seen, serve};
use govgraph_agents::quality::{LlmConfig, LlmRuleSuggester, parse_rule_reply, rule_prompt};
use govgraph_graph::DatasetKey;
use govgraph_quality::rules::suggest::{CatalogFacts, ColumnFacts};
use serde_json::json;

/// Answers every chat request with `content`; the model `broken` gets a 500.
fn server(content: &'static str) -> (String, Seen) {
    serve(move |body| {
        if body["model"] == "broken" {
            (
                "500 Internal Server Error",
                json!({"error": {"message": "overloaded", "type": "server_error", "param": null, "code": null}}),
            )
        } else {
            (
                "200 OK",
                json!({
                    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
                }),
            )
        }
    })
}

const REPLY: &str = r#"{"rules": [
  {"column": "amount", "type": "range", "parameters": {"min": 0}, "severity": "warn", "title": "amount is never negative", "reason": "prices are positive"},
  {"column": "tier", "type": "accepted_values", "parameters": {"values": ["gold", "silver"]}, "reason": "loyalty tiers"},
  {"column": "ghost", "type": "not_null"}
]}"#;

#[test]
fn rules_are_asked_for_and_checked() {
    let (base, seen) = server(REPLY);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("members.csv");
    std::fs::write(
        &file,
        "email,tier,amount\nada@example.com,gold,10.5\nalan@example.org,silver,3\n",
    )
    .unwrap();
    let profile = govgraph_quality::profile::profile_file(&file).unwrap();
    let facts = CatalogFacts {
        dataset: None,
        columns: vec![ColumnFacts {
            name: "email".to_owned(),
            pii: vec!["email".to_owned()],
            ..ColumnFacts::default()
        }],
        standards: Vec::new(),
    };
    let key = DatasetKey::new("lake", "members");
    let prompt = rule_prompt(&key, &facts, Some(&profile), &[]);
    let mut config = LlmConfig::new(&base, "rules-model");
    config.api_key = Some("sk-test".to_owned());
    let llm = LlmRuleSuggester::new(config).unwrap();
    let answer = llm.ask(&prompt).unwrap();
    let columns: Vec<String> = profile.columns.iter().map(|c| c.name.clone()).collect();
    let (suggestions, rejected) = parse_rule_reply(&answer, &key, &columns, &[]);
    assert_eq!(suggestions.len(), 2, "{rejected:?}");
    assert_eq!(rejected, ["rule 3: no column \"ghost\""]);
    assert!(suggestions.iter().all(|s| s.source == "llm"));

    let seen = seen.lock().unwrap();
    let (line, auth, body) = &seen[0];
    assert_eq!(line, "POST /v1/chat/completions HTTP/1.1");
    assert_eq!(auth.as_deref(), Some("Bearer sk-test"));
    assert_eq!(body["model"], "rules-model");
    assert_eq!(body["temperature"], 0.0);
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["role"], "user");
    let sent = body["messages"][1]["content"].as_str().unwrap();
    assert!(sent.contains("\"tier\"") && sent.contains("gold"), "{sent}");
    assert!(
        !sent.contains("ada@example.com"),
        "personal values never leave: {sent}"
    );
}

#[test]
fn a_failing_endpoint_is_a_clear_error() {
    let (base, _) = server(REPLY);
    let llm = LlmRuleSuggester::new(LlmConfig::new(&base, "broken")).unwrap();
    let err = llm.ask("{}").unwrap_err().to_string();
    assert!(
        err.contains("chat/completions") && err.contains("broken"),
        "{err}"
    );
    let unreachable = LlmRuleSuggester::new(LlmConfig::new("http://127.0.0.1:9/v1", "m")).unwrap();
    assert!(unreachable.ask("{}").is_err());
}
