//! Embeddings from a local BERT-architecture sentence-transformers model, behind
//! govgraph-search's [`Embedder`] trait: pure Rust, no network, nothing downloaded.
//!
//! The model is a directory as published for sentence-transformers (such as
//! `all-MiniLM-L6-v2`, `bge-small-en-v1.5` or `e5-small-v2`):
//! - `config.json`: the `BertConfig` (`hidden_act` must be `gelu`, or `gelu_new` /
//!   `gelu_pytorch_tanh` for the tanh approximation);
//! - `vocab.txt`: the WordPiece vocabulary, one token per line;
//! - `model.safetensors`: the weights in F32, F16 or BF16 (converted to f32 at load), named
//!   with or without a `bert.` prefix; `pooler.*` is ignored;
//! - optionally `tokenizer_config.json` (`do_lower_case`, default true; `strip_accents`;
//!   `model_max_length`) and `1_Pooling/config.json` (`pooling_mode_cls_token` or
//!   `pooling_mode_mean_tokens`; mean pooling when absent). A `modules.json` listing a
//!   `Dense` module is refused, since its projection would be skipped.
//!
//! Every vector is L2-normalised, whether or not the model lists a `Normalize` module:
//! govgraph compares vectors by cosine, so a unit length changes no ranking and keeps the
//! scores comparable across models.
//!
//! Each text is tokenized (`[CLS]` … `[SEP]`, truncated to
//! [`LocalEmbedderConfig::max_tokens`]) and encoded without padding: a few texts share each
//! matrix product, so the weights are read once for them, but attention, norms and every row
//! of a product see one text only, so a text's vector does not depend on the batch it came
//! in. Groups of texts run in parallel on rayon's pool.

mod bert;
mod wordpiece;

use std::path::{Path, PathBuf};

use govgraph_search::{Embedder, Error, Result};
use rayon::prelude::*;
use safetensors::SafeTensors;
use serde_json::Value;
use sha2::{Digest, Sha256};

use bert::{Bert, BertConfig, Pooling};

/// Texts that share one pass of the encoder's matrix products (one read of the weights).
/// Vectors do not depend on it.
const TEXTS_PER_PASS: usize = 8;
use wordpiece::WordPiece;

/// Where the model is and how to use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalEmbedderConfig {
    /// The model directory (`config.json`, `vocab.txt`, `model.safetensors`, …).
    pub dir: PathBuf,
    /// Tokens per text, `[CLS]` and `[SEP]` included; longer texts are truncated. Capped by
    /// the model's `max_position_embeddings` (and `model_max_length` when given).
    pub max_tokens: usize,
    /// Texts handed to the thread pool at a time.
    pub batch: usize,
    /// Put before every query, such as `"query: "` for e5 models or bge's retrieval
    /// instruction.
    pub query_prefix: Option<String>,
    /// Put before every document, such as `"passage: "` for e5 models.
    pub document_prefix: Option<String>,
}

impl LocalEmbedderConfig {
    /// A configuration with defaults: 256 tokens per text, batches of 64, no prefixes.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            max_tokens: 256,
            batch: 64,
            query_prefix: None,
            document_prefix: None,
        }
    }
}

/// An [`Embedder`] that runs a BERT sentence-embedding model on the CPU.
pub struct LocalEmbedder {
    config: LocalEmbedderConfig,
    model: Bert,
    tokenizer: WordPiece,
    pooling: Pooling,
    max_tokens: usize,
    id: String,
}

impl std::fmt::Debug for LocalEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEmbedder")
            .field("id", &self.id)
            .field("dimension", &self.model.hidden())
            .field("max_tokens", &self.max_tokens)
            .field("pooling", &self.pooling)
            .finish_non_exhaustive()
    }
}

fn failed(e: impl std::fmt::Display) -> Error {
    Error::Embedding(e.to_string())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| failed(format!("cannot read {}: {e}", path.display())))
}

/// Reads an optional JSON file: `None` when it does not exist.
fn read_json(path: &Path) -> Result<Option<(Vec<u8>, Value)>> {
    if !path.exists() {
        return Ok(None);
    }
    let bytes = read(path)?;
    let value =
        serde_json::from_slice(&bytes).map_err(|e| failed(format!("{}: {e}", path.display())))?;
    Ok(Some((bytes, value)))
}

fn flag(json: &Value, key: &str) -> Option<bool> {
    json.get(key).and_then(Value::as_bool)
}

/// The pooling `1_Pooling/config.json` asks for; only one of CLS and mean is supported.
fn pooling(json: Option<&Value>, path: &Path) -> Result<Pooling> {
    let Some(json) = json else {
        return Ok(Pooling::Mean);
    };
    for mode in [
        "pooling_mode_max_tokens",
        "pooling_mode_mean_sqrt_len_tokens",
        "pooling_mode_weightedmean_tokens",
        "pooling_mode_lasttoken",
    ] {
        if flag(json, mode) == Some(true) {
            return Err(failed(format!(
                "{}: unsupported {mode} (supported: pooling_mode_cls_token, pooling_mode_mean_tokens)",
                path.display()
            )));
        }
    }
    match (
        flag(json, "pooling_mode_cls_token") == Some(true),
        flag(json, "pooling_mode_mean_tokens") == Some(true),
    ) {
        (true, true) => Err(failed(format!(
            "{}: both pooling_mode_cls_token and pooling_mode_mean_tokens are set; only one is supported",
            path.display()
        ))),
        (true, false) => Ok(Pooling::Cls),
        _ => Ok(Pooling::Mean),
    }
}

impl LocalEmbedder {
    /// Reads and checks the model directory. Errors name the file, the tensor (with the
    /// expected and found shapes) or the configuration field at fault.
    pub fn load(config: LocalEmbedderConfig) -> Result<Self> {
        let dir = config.dir.clone();
        let mut hasher = Sha256::new();
        let mut hash = |name: &str, bytes: &[u8]| {
            hasher.update(name.as_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };

        let config_path = dir.join("config.json");
        let config_bytes = read(&config_path)?;
        let bert_config: BertConfig = serde_json::from_slice(&config_bytes)
            .map_err(|e| failed(format!("{}: {e}", config_path.display())))?;
        hash("config.json", &config_bytes);

        let vocab_path = dir.join("vocab.txt");
        let vocab_bytes = read(&vocab_path)?;
        hash("vocab.txt", &vocab_bytes);
        let vocab = std::str::from_utf8(&vocab_bytes)
            .map_err(|e| failed(format!("{}: {e}", vocab_path.display())))?;

        let tokenizer_path = dir.join("tokenizer_config.json");
        let tokenizer_config = read_json(&tokenizer_path)?;
        let (lower_case, strip_accents, model_max_length) = match &tokenizer_config {
            Some((bytes, json)) => {
                hash("tokenizer_config.json", bytes);
                let lower = flag(json, "do_lower_case").unwrap_or(true);
                let max = json
                    .get("model_max_length")
                    .and_then(Value::as_f64)
                    .filter(|m| *m >= 2.0 && *m < 1e9)
                    .map(|m| m as usize);
                (lower, flag(json, "strip_accents").unwrap_or(lower), max)
            }
            None => (true, true, None),
        };
        let tokenizer = WordPiece::new(vocab, lower_case, strip_accents)
            .map_err(|e| failed(format!("{}: {e}", vocab_path.display())))?;

        let pooling_path = dir.join("1_Pooling").join("config.json");
        let pooling_config = read_json(&pooling_path)?;
        if let Some((bytes, _)) = &pooling_config {
            hash("1_Pooling/config.json", bytes);
        }
        let pooling = pooling(pooling_config.as_ref().map(|(_, j)| j), &pooling_path)?;

        let modules_path = dir.join("modules.json");
        if let Some((_, modules)) = read_json(&modules_path)? {
            for module in modules.as_array().into_iter().flatten() {
                let kind = module.get("type").and_then(Value::as_str).unwrap_or("");
                if kind.ends_with(".Dense") {
                    return Err(failed(format!(
                        "{}: unsupported module {kind} (a projection after pooling)",
                        modules_path.display()
                    )));
                }
            }
        }

        let weights_path = dir.join("model.safetensors");
        let weights = read(&weights_path)?;
        hash("model.safetensors", &weights);
        let weights_name = weights_path.display().to_string();
        let tensors = SafeTensors::deserialize(&weights)
            .map_err(|e| failed(format!("{weights_name}: {e}")))?;
        let model = Bert::load(&bert_config, &tensors, &weights_name).map_err(failed)?;
        drop(tensors);
        drop(weights);

        let max_id = tokenizer.max_id() as usize;
        if max_id >= model.vocab_rows() {
            return Err(failed(format!(
                "{}: token id {max_id} is past the {} rows of embeddings.word_embeddings.weight (vocab_size)",
                vocab_path.display(),
                model.vocab_rows()
            )));
        }

        let max_tokens = config
            .max_tokens
            .min(model.max_positions())
            .min(model_max_length.unwrap_or(usize::MAX))
            .max(2);
        hash("max_tokens", &(max_tokens as u64).to_le_bytes());
        hash(
            "document_prefix",
            config.document_prefix.as_deref().unwrap_or("").as_bytes(),
        );
        let digest = hasher.finalize();
        let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .or_else(|| {
                let dir = dir.canonicalize().ok()?;
                Some(dir.file_name()?.to_string_lossy().into_owned())
            })
            .unwrap_or_default();
        let id = format!("local:{name}:{short}");

        Ok(Self {
            config,
            model,
            tokenizer,
            pooling,
            max_tokens,
            id,
        })
    }

    /// The token ids the model sees for `text` (no prefix added): `[CLS]`, the WordPiece
    /// pieces, `[SEP]`, at most [`max_tokens`](Self::max_tokens) in all.
    pub fn tokenize(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text, self.max_tokens)
    }

    /// Tokens per text after capping by the model's limits.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// The settings the embedder was loaded with.
    pub fn config(&self) -> &LocalEmbedderConfig {
        &self.config
    }

    fn embed_all(&self, texts: &[String], prefix: Option<&str>) -> Vec<Vec<f32>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.config.batch.max(1)) {
            let groups: Vec<Vec<Vec<f32>>> = chunk
                .par_chunks(TEXTS_PER_PASS)
                .map(|group| {
                    let ids: Vec<Vec<u32>> = group
                        .iter()
                        .map(|text| match prefix {
                            Some(p) => self.tokenize(&format!("{p}{text}")),
                            None => self.tokenize(text),
                        })
                        .collect();
                    self.model.embed(&ids, self.pooling)
                })
                .collect();
            out.extend(groups.into_iter().flatten());
        }
        out
    }
}

impl Embedder for LocalEmbedder {
    /// `local:<directory name>:<12 hex digits>`, the digits from a SHA-256 of the model's
    /// files (weights included) and of the settings that change document vectors
    /// (`max_tokens`, `document_prefix`).
    fn id(&self) -> String {
        self.id.clone()
    }

    fn dimension(&self) -> usize {
        self.model.hidden()
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        Ok(self.embed_all(texts, self.config.document_prefix.as_deref()))
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>> {
        let mut v = self.embed_all(&[text.to_owned()], self.config.query_prefix.as_deref());
        Ok(v.pop().unwrap_or_else(|| vec![0.0; self.model.hidden()]))
    }
}
