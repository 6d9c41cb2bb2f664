//! The OpenAI embeddings wire protocol, against a small HTTP server in the test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::TcpListener;

use common::{Seen, serve};
use govgraph_agents::embed::{OpenAiEmbedder, OpenAiEmbedderConfig};
use govgraph_search::Embedder;
use serde_json::{Value, json};

/// Serves embeddings of `dim` floats: element 0 is the input's length, the rest its index.
/// Indices in the reply are reversed, as a server may reorder them. A `bad` input gets a
/// vector one too short; the model `missing` gets a 404.
fn server(dim: usize) -> (String, Seen) {
    serve(move |body| {
        let inputs: Vec<String> = body["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        if body["model"] == "missing" {
            (
                "404 Not Found",
                json!({"error": {"message": "no such model", "type": "invalid_request_error",
                             "param": null, "code": null}}),
            )
        } else {
            let data: Vec<Value> = inputs
                .iter()
                .enumerate()
                .rev()
                .map(|(i, text)| {
                    let n = if text == "bad" { dim - 1 } else { dim };
                    let mut v = vec![i as f32; n];
                    v[0] = text.len() as f32;
                    json!({"object": "embedding", "index": i, "embedding": v})
                })
                .collect();
            (
                "200 OK",
                json!({"object": "list", "data": data, "model": body["model"],
                   "usage": {"prompt_tokens": 3, "total_tokens": 3}}),
            )
        }
    })
}

#[test]
fn embeds_in_order_in_batches_with_the_key() {
    let (base, seen) = server(8);
    let mut config = OpenAiEmbedderConfig::new(&base, "text-embedding-test");
    config.api_key = Some("sk-test".into());
    config.batch = 2;
    let e = OpenAiEmbedder::connect(config).unwrap();
    assert_eq!(e.dimension(), 8, "learned from the probe");
    assert!(e.id().contains("text-embedding-test") && e.id().ends_with(":8"));
    let texts: Vec<String> = ["a", "bb", "ccc", "", "eeeee"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let v = e.embed(&texts).unwrap();
    assert_eq!(v.len(), 5);
    // Back in input order although the server reversed them; batches of two.
    assert_eq!(
        v.iter().map(|x| x[0]).collect::<Vec<_>>(),
        [1.0, 2.0, 3.0, 1.0, 5.0]
    );
    assert_eq!(v[1][1], 1.0);
    assert_eq!(v[4][1], 0.0);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1 + 3, "a probe, then three batches");
    for (line, auth, body) in seen.iter() {
        assert_eq!(line, "POST /v1/embeddings HTTP/1.1");
        assert_eq!(auth.as_deref(), Some("Bearer sk-test"));
        assert_eq!(body["model"], "text-embedding-test");
        assert!(body["input"].as_array().unwrap().len() <= 2);
    }
    // The empty text went out as a placeholder, never as "".
    assert!(
        seen.iter()
            .all(|(_, _, b)| b["input"].as_array().unwrap().iter().all(|s| s != ""))
    );
}

#[test]
fn bad_answers_are_errors_that_name_the_endpoint() {
    let (base, _) = server(4);
    let mut config = OpenAiEmbedderConfig::new(&base, "m");
    config.dimension = Some(4);
    let e = OpenAiEmbedder::connect(config).unwrap();
    let err = e
        .embed(&["fine".into(), "bad".into()])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("length 3") && err.contains("dimension 4"),
        "{err}"
    );

    let err = OpenAiEmbedder::connect(OpenAiEmbedderConfig::new(&base, "missing"))
        .unwrap_err()
        .to_string();
    assert!(err.contains(&base) && err.contains("missing"), "{err}");

    // Nothing listens here.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = OpenAiEmbedder::connect(OpenAiEmbedderConfig::new(
        &format!("http://{closed}/v1"),
        "m",
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("embeddings"), "{err}");
}
