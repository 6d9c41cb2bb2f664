//! The local BERT embedder against an independent reference implementation.
//!
//! The fixtures under `tests/local_model/` are two tiny random-weight models and their
//! expected token ids and embeddings, all written by one script (numpy only). Regenerate them
//! from the repository root with:
//!
//!     python3 agents/tests/local_model/make_fixture.py

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use govgraph_agents::local_embed::{LocalEmbedder, LocalEmbedderConfig};
use govgraph_search::Embedder;
use proptest::prelude::*;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/local_model")
        .join(name)
}

fn load(dir: &Path) -> LocalEmbedder {
    LocalEmbedder::load(LocalEmbedderConfig::new(dir)).unwrap()
}

fn load_err(dir: &Path) -> String {
    LocalEmbedder::load(LocalEmbedderConfig::new(dir))
        .unwrap_err()
        .to_string()
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

fn check_against_reference(name: &str) {
    let dir = fixture(name);
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let embedder = load(&dir);
    assert_eq!(embedder.dimension(), 32);
    assert_eq!(
        embedder.max_tokens() as u64,
        expected["max_tokens"].as_u64().unwrap()
    );
    let cases = expected["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    let texts: Vec<String> = cases
        .iter()
        .map(|c| c["text"].as_str().unwrap().to_owned())
        .collect();
    let vectors = embedder.embed(&texts).unwrap();
    assert_eq!(vectors.len(), texts.len());
    for ((case, text), got) in cases.iter().zip(&texts).zip(&vectors) {
        let ids: Vec<u32> = case["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(
            embedder.tokenize(text),
            ids,
            "{name}: token ids of {text:?}"
        );
        let want: Vec<f32> = case["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(got.len(), want.len());
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "{name}: {text:?} is off by {worst}");
        assert!(
            (norm(got) - 1.0).abs() < 1e-5,
            "{name}: {text:?} is not unit length"
        );
    }
}

#[test]
fn f32_model_with_mean_pooling_matches_the_reference() {
    check_against_reference("tiny");
}

#[test]
fn f16_and_bf16_model_with_cls_pooling_and_tanh_gelu_matches_the_reference() {
    check_against_reference("tiny-f16");
}

#[test]
fn the_fixture_exercises_the_tokenizer_edge_cases() {
    let embedder = load(&fixture("tiny"));
    let unk = 1;
    // Accents stripped, punctuation split, out-of-vocabulary words, ## pieces, truncation.
    assert_eq!(embedder.tokenize("Café"), embedder.tokenize("cafe"));
    assert!(embedder.tokenize("xylophone").contains(&unk));
    // r ##e ##o ##r ##d ##er ##ing: the longest piece first, then the next.
    assert_eq!(embedder.tokenize("reordering").len(), 2 + 7);
    assert_eq!(embedder.tokenize(""), [2, 3]);
    assert_eq!(embedder.tokenize(&"sales ".repeat(500)).len(), 64);
}

#[test]
fn vectors_are_deterministic_and_independent_of_the_batch() {
    let embedder = load(&fixture("tiny"));
    let texts: Vec<String> = [
        "customer address",
        "",
        "total revenue of the sales region",
        "Café",
        "orders",
    ]
    .map(str::to_owned)
    .to_vec();
    let batch = embedder.embed(&texts).unwrap();
    assert_eq!(embedder.embed(&texts).unwrap(), batch);
    for (text, vector) in texts.iter().zip(&batch) {
        assert_eq!(
            &embedder.embed(std::slice::from_ref(text)).unwrap()[0],
            vector
        );
        assert_eq!(&embedder.embed_query(text).unwrap(), vector);
    }
    // Different texts give different vectors.
    assert_ne!(batch[0], batch[2]);
    // Batches smaller than the input change nothing either.
    let small = LocalEmbedder::load(LocalEmbedderConfig {
        batch: 2,
        ..LocalEmbedderConfig::new(fixture("tiny"))
    })
    .unwrap();
    assert_eq!(small.embed(&texts).unwrap(), batch);
    assert!(embedder.embed(&[]).unwrap().is_empty());
}

#[test]
fn prefixes_go_before_queries_and_documents() {
    let plain = load(&fixture("tiny"));
    let prefixed = LocalEmbedder::load(LocalEmbedderConfig {
        query_prefix: Some("query: ".to_owned()),
        document_prefix: Some("passage: ".to_owned()),
        ..LocalEmbedderConfig::new(fixture("tiny"))
    })
    .unwrap();
    let q = prefixed.embed_query("customer email").unwrap();
    assert_eq!(
        q,
        plain.embed(&["query: customer email".to_owned()]).unwrap()[0]
    );
    let d = prefixed.embed(&["customer email".to_owned()]).unwrap();
    assert_eq!(
        d,
        plain
            .embed(&["passage: customer email".to_owned()])
            .unwrap()
    );
    assert_ne!(q, d[0]);
    // The document prefix changes stored vectors, so it changes the id; the query prefix does not.
    assert_ne!(prefixed.id(), plain.id());
    let query_only = LocalEmbedder::load(LocalEmbedderConfig {
        query_prefix: Some("query: ".to_owned()),
        ..LocalEmbedderConfig::new(fixture("tiny"))
    })
    .unwrap();
    assert_eq!(query_only.id(), plain.id());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the `tiny` fixture in a temporary directory named `tiny`.
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tiny");
    copy_dir(&fixture("tiny"), &dir);
    (tmp, dir)
}

#[test]
fn the_id_is_stable_and_follows_the_weights() {
    let original = load(&fixture("tiny"));
    let id = original.id();
    assert!(id.starts_with("local:tiny:"), "{id}");
    assert_eq!(id.len(), "local:tiny:".len() + 12);
    assert_eq!(load(&fixture("tiny")).id(), id);

    let (_tmp, dir) = scratch();
    assert_eq!(load(&dir).id(), id, "a copy is the same model");
    // The last bytes of the file belong to the pooler, which the encoder ignores: the id
    // still changes, since the whole file is hashed.
    let weights = dir.join("model.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&weights, &bytes).unwrap();
    let changed = load(&dir);
    assert_ne!(changed.id(), id);
    assert_eq!(
        changed.embed(&["customer".to_owned()]).unwrap(),
        original.embed(&["customer".to_owned()]).unwrap()
    );
    // A shorter max_tokens changes the id too.
    let short = LocalEmbedder::load(LocalEmbedderConfig {
        max_tokens: 16,
        ..LocalEmbedderConfig::new(fixture("tiny"))
    })
    .unwrap();
    assert_eq!(short.max_tokens(), 16);
    assert_ne!(short.id(), id);
}

/// Rewrites the safetensors header of `path` through `edit`, keeping the data.
fn edit_header(path: &Path, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    let bytes = std::fs::read(path).unwrap();
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: Value = serde_json::from_slice(&bytes[8..8 + len]).unwrap();
    edit(header.as_object_mut().unwrap());
    let mut new_header = serde_json::to_vec(&header).unwrap();
    while !new_header.len().is_multiple_of(8) {
        new_header.push(b' ');
    }
    let mut out = (new_header.len() as u64).to_le_bytes().to_vec();
    out.extend(new_header);
    out.extend(&bytes[8 + len..]);
    std::fs::write(path, out).unwrap();
}

const QUERY: &str = "bert.encoder.layer.0.attention.self.query.weight";

#[test]
fn a_missing_file_is_named() {
    let (_tmp, dir) = scratch();
    std::fs::remove_file(dir.join("vocab.txt")).unwrap();
    let e = load_err(&dir);
    assert!(e.contains("vocab.txt"), "{e}");

    let (_tmp, dir) = scratch();
    std::fs::remove_file(dir.join("model.safetensors")).unwrap();
    let e = load_err(&dir);
    assert!(e.contains("model.safetensors"), "{e}");

    let e = load_err(Path::new("/nonexistent/model"));
    assert!(e.contains("config.json"), "{e}");
}

#[test]
fn a_tensor_of_the_wrong_shape_is_named_with_both_shapes() {
    let (_tmp, dir) = scratch();
    edit_header(&dir.join("model.safetensors"), |h| {
        h[QUERY]["shape"] = serde_json::json!([16, 64]);
    });
    let e = load_err(&dir);
    assert!(e.contains(QUERY), "{e}");
    assert!(e.contains("[16, 64]") && e.contains("[32, 32]"), "{e}");
}

#[test]
fn a_missing_tensor_or_an_unsupported_dtype_is_named() {
    let (_tmp, dir) = scratch();
    edit_header(&dir.join("model.safetensors"), |h| {
        let t = h.remove(QUERY).unwrap();
        h.insert("renamed".to_owned(), t);
    });
    let e = load_err(&dir);
    assert!(
        e.contains("encoder.layer.0.attention.self.query.weight"),
        "{e}"
    );
    assert!(e.contains("[32, 32]"), "{e}");

    let (_tmp, dir) = scratch();
    edit_header(&dir.join("model.safetensors"), |h| {
        h[QUERY]["dtype"] = Value::from("I32");
    });
    let e = load_err(&dir);
    assert!(e.contains(QUERY) && e.contains("I32"), "{e}");
}

#[test]
fn unsupported_configuration_is_named() {
    let (_tmp, dir) = scratch();
    let path = dir.join("config.json");
    let config = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, config.replace("\"gelu\"", "\"relu\"")).unwrap();
    let e = load_err(&dir);
    assert!(e.contains("hidden_act") && e.contains("relu"), "{e}");

    std::fs::write(&path, config.replace("\"hidden_size\"", "\"width\"")).unwrap();
    let e = load_err(&dir);
    assert!(
        e.contains("hidden_size") && e.contains("config.json"),
        "{e}"
    );

    std::fs::write(&path, &config).unwrap();
    let pooling = dir.join("1_Pooling/config.json");
    let p = std::fs::read_to_string(&pooling).unwrap();
    std::fs::write(
        &pooling,
        p.replace(
            "\"pooling_mode_max_tokens\": false",
            "\"pooling_mode_max_tokens\": true",
        ),
    )
    .unwrap();
    let e = load_err(&dir);
    assert!(e.contains("pooling_mode_max_tokens"), "{e}");
    std::fs::write(&pooling, &p).unwrap();

    std::fs::write(dir.join("vocab.txt"), "[PAD]\n[UNK]\n[SEP]\n").unwrap();
    let e = load_err(&dir);
    assert!(e.contains("[CLS]") && e.contains("vocab.txt"), "{e}");
}

/// The fixture loaded with several token limits, shared by the property test's cases.
fn embedders() -> &'static [LocalEmbedder] {
    static EMBEDDERS: OnceLock<Vec<LocalEmbedder>> = OnceLock::new();
    EMBEDDERS.get_or_init(|| {
        [0, 2, 3, 5, 16, 64, 1000]
            .into_iter()
            .map(|max_tokens| {
                LocalEmbedder::load(LocalEmbedderConfig {
                    max_tokens,
                    ..LocalEmbedderConfig::new(fixture("tiny"))
                })
                .unwrap()
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn tokenizing_never_panics_and_keeps_the_frame(
        text in prop_oneof![
            any::<String>(),
            "[a-zA-Zàéü数 _,.!'\\-\\t\\n\u{0}\u{FFFD}\u{200B}\u{301}]{0,200}",
        ],
        which in 0usize..7,
    ) {
        let embedder = &embedders()[which];
        let limit = embedder.max_tokens();
        prop_assert!((2..=64).contains(&limit));
        let ids = embedder.tokenize(&text);
        prop_assert_eq!(ids.first(), Some(&2), "[CLS] first");
        prop_assert_eq!(ids.last(), Some(&3), "[SEP] last");
        prop_assert!(ids.len() >= 2 && ids.len() <= limit, "{} ids, limit {}", ids.len(), limit);
        prop_assert!(ids[1..ids.len() - 1].iter().all(|&i| i != 2 && i != 3 && i < 131));
        let v = embedder.embed_query(&text).unwrap();
        prop_assert!((norm(&v) - 1.0).abs() < 1e-4);
    }
}

#[test]
fn the_embedder_settings_choose_the_local_model_and_search_uses_it() {
    use govgraph_agents::embedding::{EmbedderSettings, embedder};
    let dir = fixture("tiny");
    let settings = EmbedderSettings::Local {
        path: dir.clone(),
        max_tokens: 32,
        query_prefix: Some("query: ".to_owned()),
        document_prefix: Some("passage: ".to_owned()),
    };
    let chosen = embedder(&settings).unwrap();
    let mut config = LocalEmbedderConfig::new(&dir);
    config.max_tokens = 32;
    config.query_prefix = Some("query: ".to_owned());
    config.document_prefix = Some("passage: ".to_owned());
    let direct = LocalEmbedder::load(config).unwrap();
    assert!(chosen.id().starts_with("local:tiny:"), "{}", chosen.id());
    assert_eq!(chosen.id(), direct.id());
    assert_eq!(chosen.dimension(), direct.dimension());
    let texts = vec!["customer email address".to_owned()];
    assert_eq!(chosen.embed(&texts).unwrap(), direct.embed(&texts).unwrap());
    assert_eq!(
        chosen.embed_query("email").unwrap(),
        direct.embed_query("email").unwrap()
    );
    // The demo catalog indexed with the model (no prefixes): a document's own text finds
    // it through the vectors.
    use govgraph_graph::oxigraph::io::RdfFormat;
    use govgraph_graph::{GraphStore, LoadOptions, LoadSource, NoProgress, StoreConfig};
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let sources = govgraph_seeds::DEMO_SOURCES
        .iter()
        .map(|s| LoadSource::from_bytes(s.name, s.path, RdfFormat::Turtle, s.turtle))
        .collect();
    store
        .load(sources, &LoadOptions::default(), &NoProgress)
        .unwrap();
    let plain = EmbedderSettings::Local {
        path: dir.clone(),
        max_tokens: 64,
        query_prefix: None,
        document_prefix: None,
    };
    let mut index = govgraph_search::SearchIndex::in_memory(embedder(&plain).unwrap()).unwrap();
    index.sync(&store).unwrap();
    assert!(index.vector_points() > 100, "{}", index.vector_points());
    let hit = index
        .search(&govgraph_search::SearchRequest::new("customer email"))
        .unwrap()
        .hits
        .into_iter()
        .next()
        .unwrap();
    let doc = index.get(&hit.iri).unwrap().unwrap();
    let nearest = index.nearest(&doc.text_for_embedding(), 10, false).unwrap();
    assert!(
        nearest
            .iter()
            .any(|(iri, sim)| *iri == hit.iri && *sim > 0.99),
        "{} not among {nearest:?}",
        hit.iri
    );
    // A directory without a model is refused with the file named.
    let missing = EmbedderSettings::Local {
        path: dir.join("nowhere"),
        max_tokens: 32,
        query_prefix: None,
        document_prefix: None,
    };
    let err = embedder(&missing).err().unwrap().to_string();
    assert!(err.contains("nowhere"), "{err}");
}
