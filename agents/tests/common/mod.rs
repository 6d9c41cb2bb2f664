//! A small OpenAI-compatible HTTP server for wire-protocol tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// What the server saw: (request line, authorization header, JSON body).
pub type Seen = Arc<Mutex<Vec<(String, Option<String>, Value)>>>;

/// Serves every request with `respond(body) -> (status line, JSON reply)`; returns the API
/// base (`http://127.0.0.1:PORT/v1`) and the log of requests.
pub fn serve(respond: impl Fn(&Value) -> (&'static str, Value) + Send + 'static) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let (mut length, mut auth) = (0usize, None);
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h == "\r\n" || h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap();
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => length = v.trim().parse().unwrap(),
                    "authorization" => auth = Some(v.trim().to_owned()),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let body: Value = serde_json::from_slice(&body).unwrap();
            log.lock()
                .unwrap()
                .push((line.trim().to_owned(), auth, body.clone()));
            let (status, reply) = respond(&body);
            let text = reply.to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (format!("http://{addr}/v1"), seen)
}

/// Loads the demo catalog into `store`: its Turtle sources, then the column lineage of its
/// silver and gold SQL models.
pub fn load_demo(store: &govgraph_graph::GraphStore, extra: Option<&str>) {
    use govgraph_graph::oxigraph::io::RdfFormat;
    use govgraph_graph::{LoadOptions, LoadSource, NoProgress};
    let mut sources: Vec<LoadSource> = govgraph_seeds::DEMO_SOURCES
        .iter()
        .map(|s| LoadSource::from_bytes(s.name, s.path, RdfFormat::Turtle, s.turtle))
        .collect();
    if let Some(ttl) = extra {
        sources.push(LoadSource::from_bytes(
            "extra",
            "extra.ttl",
            RdfFormat::Turtle,
            ttl.to_owned(),
        ));
    }
    store
        .load(sources, &LoadOptions::default(), &NoProgress)
        .unwrap();
    let models: Vec<govgraph_graph::ingest::SqlFile> = govgraph_seeds::DEMO_SQL
        .iter()
        .map(|m| govgraph_graph::ingest::SqlFile {
            location: m.path.to_owned(),
            text: m.sql.to_owned(),
        })
        .collect();
    govgraph_graph::ingest::ingest_sql(
        store,
        &models,
        &govgraph_graph::ingest::SqlIngestOptions {
            dialect: govgraph_lineage::Dialect::DuckDb,
            system: govgraph_seeds::DEMO_SQL_SYSTEM.to_owned(),
            default_schema: None,
        },
        &NoProgress,
    )
    .unwrap();
}

/// A chat completion carrying `message`, which cost `tokens`.
pub fn completion(message: Value, tokens: u64) -> Value {
    serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
        "usage": {"prompt_tokens": tokens / 2, "completion_tokens": tokens / 2, "total_tokens": tokens}
    })
}

/// A model that asks for `tool_calls` first and, once their results are in, answers `content`;
/// each call costs `tokens`.
pub fn two_step_model(tool_calls: Value, content: &'static str, tokens: u64) -> (String, Seen) {
    serve(move |body| {
        let answered = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["role"] == "tool");
        let message = if answered {
            serde_json::json!({"role": "assistant", "content": content})
        } else {
            serde_json::json!({"role": "assistant", "content": null, "tool_calls": tool_calls.clone()})
        };
        ("200 OK", completion(message, tokens))
    })
}
