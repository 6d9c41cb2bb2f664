//! Embeddings from any OpenAI-compatible endpoint (`POST {base}/embeddings`), behind
//! govgraph-search's [`Embedder`] trait.
//!
//! The trait is synchronous, like the rest of the core; this adapter owns a small tokio
//! runtime and blocks on it, so call it from a blocking thread (never from inside an async
//! task). Requests carry at most [`OpenAiEmbedderConfig::batch`] inputs, time out after
//! [`OpenAiEmbedderConfig::timeout`], and every vector is checked for its length.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::embeddings::{CreateEmbeddingRequest, EmbeddingInput};
use govgraph_search::{Embedder, Error, Result};

/// Where and how to embed.
#[derive(Debug, Clone)]
pub struct OpenAiEmbedderConfig {
    /// The API base, such as `https://api.openai.com/v1` or `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// The model name.
    pub model: String,
    /// The API key, if the endpoint wants one.
    pub api_key: Option<String>,
    /// Vector length; learned from the endpoint when not given.
    pub dimension: Option<usize>,
    /// Inputs per request.
    pub batch: usize,
    /// Time allowed for one request.
    pub timeout: Duration,
}

impl OpenAiEmbedderConfig {
    /// A configuration with defaults: batches of 128, a 30 s timeout.
    pub fn new(base_url: &str, model: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            model: model.to_owned(),
            api_key: None,
            dimension: None,
            batch: 128,
            timeout: Duration::from_secs(30),
        }
    }
}

/// An [`Embedder`] that calls an OpenAI-compatible embeddings endpoint.
pub struct OpenAiEmbedder {
    config: OpenAiEmbedderConfig,
    dimension: usize,
    client: Client<OpenAIConfig>,
    runtime: crate::openai::BlockingRuntime,
}

impl std::fmt::Debug for OpenAiEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("base_url", &self.config.base_url)
            .field("model", &self.config.model)
            .field("dimension", &self.dimension)
            .finish_non_exhaustive()
    }
}

fn failed(e: impl std::fmt::Display) -> Error {
    Error::Embedding(e.to_string())
}

impl OpenAiEmbedder {
    /// Connects. Without a configured dimension, one probe request learns it.
    pub fn connect(config: OpenAiEmbedderConfig) -> Result<Self> {
        let (client, runtime) =
            crate::openai::client(&config.base_url, config.api_key.as_deref(), config.timeout)
                .map_err(failed)?;
        let mut this = Self {
            dimension: config.dimension.unwrap_or(0),
            config,
            client,
            runtime,
        };
        if this.dimension == 0 {
            let probe = this.call(&["dimension probe".to_owned()])?;
            this.dimension = probe.first().map_or(0, Vec::len);
            if this.dimension == 0 {
                return Err(Error::Embedding(format!(
                    "{} returned an empty vector for model {}",
                    this.config.base_url, this.config.model
                )));
            }
        }
        Ok(this)
    }

    fn call(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let request = CreateEmbeddingRequest {
            model: self.config.model.clone(),
            input: EmbeddingInput::StringArray(texts.to_vec()),
            ..CreateEmbeddingRequest::default()
        };
        let response = self
            .runtime
            .block_on(self.client.embeddings().create(request))
            .ok_or_else(|| Error::Embedding("the client is shutting down".to_owned()))?
            .map_err(|e| {
                Error::Embedding(format!(
                    "{}/embeddings (model {}): {e}",
                    self.config.base_url, self.config.model
                ))
            })?;
        let mut data = response.data;
        if data.len() != texts.len() {
            return Err(Error::Embedding(format!(
                "{} vectors for {} inputs",
                data.len(),
                texts.len()
            )));
        }
        data.sort_by_key(|e| e.index);
        Ok(data.into_iter().map(|e| e.embedding).collect())
    }
}

impl Embedder for OpenAiEmbedder {
    fn id(&self) -> String {
        format!(
            "openai:{}:{}:{}",
            self.config.base_url, self.config.model, self.dimension
        )
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.config.batch.max(1)) {
            // Endpoints reject empty inputs; an empty text gets a zero vector instead.
            let inputs: Vec<String> = chunk
                .iter()
                .map(|t| {
                    if t.trim().is_empty() {
                        "-".to_owned()
                    } else {
                        t.clone()
                    }
                })
                .collect();
            for v in self.call(&inputs)? {
                if v.len() != self.dimension {
                    return Err(Error::Embedding(format!(
                        "a vector of length {} from a model of dimension {}",
                        v.len(),
                        self.dimension
                    )));
                }
                out.push(v);
            }
        }
        Ok(out)
    }
}
