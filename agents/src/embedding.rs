//! Which embedder search uses: the built-in one (no model files, no network), an
//! OpenAI-compatible endpoint (feature `openai`), or a local sentence-embedding model read
//! from a directory (feature `local-model`). Callers (the CLI, the server) fill in
//! [`EmbedderSettings`] from their configuration and call [`embedder`].
//!
//! The search index records the embedder's id and re-embeds everything when it changes, so
//! every process that opens a data directory must be given the same settings.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use govgraph_search::{Embedder, HashEmbedder};

use crate::error::{Error, Result};

/// Which embedder, and its settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmbedderSettings {
    /// The built-in feature-hashing embedder.
    #[default]
    Builtin,
    /// An OpenAI-compatible embeddings endpoint.
    OpenAi {
        /// The API base, such as `http://127.0.0.1:8080/v1`.
        base_url: String,
        /// The model name.
        model: String,
        /// The API key, if the endpoint wants one.
        api_key: Option<String>,
        /// Vector length; learned from the endpoint when absent.
        dimension: Option<usize>,
        /// Inputs per request.
        batch: usize,
        /// Time allowed for one request.
        timeout: Duration,
    },
    /// A sentence-embedding model (BERT family) in a local directory.
    Local {
        /// The directory holding `config.json`, `vocab.txt` and `model.safetensors`.
        path: PathBuf,
        /// Tokens per text at most (longer texts are cut).
        max_tokens: usize,
        /// Put before each query (models such as e5 and bge want one).
        query_prefix: Option<String>,
        /// Put before each document.
        document_prefix: Option<String>,
    },
}

impl EmbedderSettings {
    /// The name of the kind: `builtin`, `openai` or `local`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Builtin => "builtin",
            Self::OpenAi { .. } => "openai",
            Self::Local { .. } => "local",
        }
    }
}

/// Builds the embedder the settings describe. An OpenAI-compatible endpoint is probed once
/// when its vector length is not given; a local model is read and checked whole.
pub fn embedder(settings: &EmbedderSettings) -> Result<Arc<dyn Embedder>> {
    match settings {
        EmbedderSettings::Builtin => Ok(Arc::new(HashEmbedder::default())),
        EmbedderSettings::OpenAi {
            base_url,
            model,
            api_key,
            dimension,
            batch,
            timeout,
        } => openai(
            base_url,
            model,
            api_key.as_deref(),
            *dimension,
            *batch,
            *timeout,
        ),
        EmbedderSettings::Local {
            path,
            max_tokens,
            query_prefix,
            document_prefix,
        } => local(path, *max_tokens, query_prefix, document_prefix),
    }
}

#[cfg(feature = "openai")]
fn openai(
    base_url: &str,
    model: &str,
    api_key: Option<&str>,
    dimension: Option<usize>,
    batch: usize,
    timeout: Duration,
) -> Result<Arc<dyn Embedder>> {
    let mut config = crate::embed::OpenAiEmbedderConfig::new(base_url, model);
    config.api_key = api_key.map(str::to_owned);
    config.dimension = dimension;
    config.batch = batch.max(1);
    config.timeout = timeout;
    Ok(Arc::new(crate::embed::OpenAiEmbedder::connect(config)?))
}

#[cfg(not(feature = "openai"))]
fn openai(
    _: &str,
    _: &str,
    _: Option<&str>,
    _: Option<usize>,
    _: usize,
    _: Duration,
) -> Result<Arc<dyn Embedder>> {
    Err(Error::Invalid(
        "the `openai` embedder needs govgraph built with the `openai` feature".to_owned(),
    ))
}

#[cfg(feature = "local-model")]
fn local(
    path: &std::path::Path,
    max_tokens: usize,
    query_prefix: &Option<String>,
    document_prefix: &Option<String>,
) -> Result<Arc<dyn Embedder>> {
    let mut config = crate::local_embed::LocalEmbedderConfig::new(path);
    config.max_tokens = max_tokens;
    config.query_prefix.clone_from(query_prefix);
    config.document_prefix.clone_from(document_prefix);
    Ok(Arc::new(crate::local_embed::LocalEmbedder::load(config)?))
}

#[cfg(not(feature = "local-model"))]
fn local(
    _: &std::path::Path,
    _: usize,
    _: &Option<String>,
    _: &Option<String>,
) -> Result<Arc<dyn Embedder>> {
    Err(Error::Invalid(
        "the `local` embedder needs govgraph built with the `local-model` feature".to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_builtin_embedder_is_the_default() {
        let e = embedder(&EmbedderSettings::default()).unwrap();
        assert_eq!(e.id(), HashEmbedder::default().id());
        assert_eq!(EmbedderSettings::default().kind(), "builtin");
    }

    #[cfg(not(feature = "local-model"))]
    #[test]
    fn a_kind_left_out_of_the_build_says_which_feature_it_needs() {
        let settings = EmbedderSettings::Local {
            path: PathBuf::from("model"),
            max_tokens: 256,
            query_prefix: None,
            document_prefix: None,
        };
        let err = embedder(&settings).err().unwrap().to_string();
        assert!(err.contains("`local-model` feature"), "{err}");
    }
}
