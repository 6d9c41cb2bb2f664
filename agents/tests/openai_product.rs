//! Data-product SQL written by a model over the OpenAI chat-completions wire protocol,
//! against a small HTTP server in the test: the request carries the instructions, the
//! glossary's definitions and the requester's schema; the reply's SQL is checked before it
//! is used, and an unreachable model leaves the template's SQL in place.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use govgraph_agents::product::llm::LlmSqlWriter;
use govgraph_agents::product::{BuilderConfig, ProductBuilder, ProductRequest};
use govgraph_agents::quality::LlmConfig;
use govgraph_graph::{GraphStore, Scope, StoreConfig};
use govgraph_policy::Subject;
use serde_json::json;

const SQL: &str = "SELECT region, SUM(quantity * unit_price) AS gross, SUM(quantity * unit_price) * 100.0 / SUM(SUM(quantity * unit_price)) OVER () AS share_pct FROM bronze.orders GROUP BY region";

/// The demo catalog, and a builder whose SQL writer is the model at `config`.
fn setup(config: LlmConfig) -> (GraphStore, ProductBuilder) {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    common::load_demo(&store, None);
    let builder = ProductBuilder::new(BuilderConfig::default())
        .with_runner(None)
        .with_writer(Arc::new(LlmSqlWriter::new(config).unwrap()));
    (store, builder)
}

fn share_request(
    store: &GraphStore,
    builder: &ProductBuilder,
) -> govgraph_agents::product::Product {
    let subject = Subject {
        name: "ana".into(),
        roles: vec!["steward".into()],
        domains: Vec::new(),
    };
    let request = ProductRequest {
        request: "gross revenue by region with each region's share in percent".into(),
        ..ProductRequest::default()
    };
    builder
        .build(store, &Scope::all(), &subject, &request)
        .unwrap()
}

#[test]
fn the_model_writes_sql_that_is_then_checked() {
    let (base, seen) = common::serve(|_| {
        (
            "200 OK",
            common::completion(
                json!({"role": "assistant", "content": json!({"sql": SQL, "explanation": "shares"}).to_string()}),
                40,
            ),
        )
    });
    let mut config = LlmConfig::new(&base, "sql-model");
    config.api_key = Some("sk-test".into());
    let (store, builder) = setup(config);
    let p = share_request(&store, &builder);
    let t = &p.spec.transformation;
    assert_eq!(t.method, "llm", "{:?}", p.spec.problems);
    assert_eq!(t.writer.as_deref(), Some("llm:sql-model"));
    assert_eq!(t.sql, SQL);
    let names: Vec<&str> = p
        .spec
        .model
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["region", "gross", "share_pct"]);
    // The wire: one chat completion with the instructions, the request and the schema.
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let (line, auth, body) = &seen[0];
    assert_eq!(line, "POST /v1/chat/completions HTTP/1.1");
    assert_eq!(auth.as_deref(), Some("Bearer sk-test"));
    assert_eq!(body["model"], "sql-model");
    assert!(
        body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("one SQL SELECT")
    );
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(
        user.contains("each region's share in percent") && user.contains("Gross Revenue:"),
        "{user}"
    );
    assert!(
        user.contains("bronze.orders") && user.contains("unit_price double"),
        "{user}"
    );
}

#[test]
fn an_unreachable_model_leaves_the_templates_sql() {
    let mut config = LlmConfig::new("http://127.0.0.1:9/v1", "gone");
    config.timeout = std::time::Duration::from_secs(2);
    let (store, builder) = setup(config);
    let p = share_request(&store, &builder);
    assert_eq!(p.spec.transformation.method, "template");
    assert!(
        p.spec
            .problems
            .iter()
            .any(|x| x.contains("rejected") && x.contains("language model")),
        "{:?}",
        p.spec.problems
    );
}
