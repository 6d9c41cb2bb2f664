//! The one place an OpenAI-compatible client is made: a small current-thread runtime to block
//! on (the core stays synchronous) and an HTTP client with the request timeout.

use std::future::Future;
use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;

/// A small runtime to block on. Dropping it never blocks, so whatever owns it may be dropped
/// anywhere, a server's async shutdown included.
pub(crate) struct BlockingRuntime(Option<tokio::runtime::Runtime>);

impl BlockingRuntime {
    /// Runs `future` to completion on this runtime (`None` only while it is being dropped).
    pub(crate) fn block_on<F: Future>(&self, future: F) -> Option<F::Output> {
        self.0.as_ref().map(|rt| rt.block_on(future))
    }
}

impl Drop for BlockingRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// A client for `base_url` (with `api_key`, if any) and the runtime its calls block on.
pub(crate) fn client(
    base_url: &str,
    api_key: Option<&str>,
    timeout: Duration,
) -> Result<(Client<OpenAIConfig>, BlockingRuntime), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let mut openai = OpenAIConfig::new().with_api_base(base_url);
    if let Some(key) = api_key {
        openai = openai.with_api_key(key);
    }
    Ok((Client::build(http, openai), BlockingRuntime(Some(runtime))))
}

/// A chat endpoint with its model: one client and the runtime its calls block on.
pub(crate) struct Chat {
    config: crate::quality::LlmConfig,
    client: Client<OpenAIConfig>,
    runtime: BlockingRuntime,
}

impl Chat {
    /// Prepares the client (no request is made yet).
    pub(crate) fn new(config: crate::quality::LlmConfig) -> crate::error::Result<Self> {
        let (client, runtime) = client(&config.base_url, config.api_key.as_deref(), config.timeout)
            .map_err(crate::error::Error::Llm)?;
        Ok(Self {
            config,
            client,
            runtime,
        })
    }

    /// The model's name.
    pub(crate) fn model(&self) -> &str {
        &self.config.model
    }

    /// `name { base_url, model }` for Debug output (never the key).
    pub(crate) fn debug(&self, f: &mut std::fmt::Formatter<'_>, name: &str) -> std::fmt::Result {
        f.debug_struct(name)
            .field("base_url", &self.config.base_url)
            .field("model", &self.config.model)
            .finish_non_exhaustive()
    }

    /// One chat completion: `system` and `user` messages in, the first answer's text out, at
    /// temperature 0.
    pub(crate) fn complete(&self, system: &str, user: &str) -> crate::error::Result<String> {
        use crate::error::Error;
        use async_openai::types::chat::{
            ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
            ChatCompletionRequestUserMessage, CreateChatCompletionRequest,
        };
        let request = CreateChatCompletionRequest {
            model: self.config.model.clone(),
            messages: vec![
                ChatCompletionRequestMessage::from(ChatCompletionRequestSystemMessage::from(
                    system,
                )),
                ChatCompletionRequestMessage::from(ChatCompletionRequestUserMessage::from(user)),
            ],
            temperature: Some(0.0),
            ..CreateChatCompletionRequest::default()
        };
        let response = self
            .runtime
            .block_on(self.client.chat().create(request))
            .ok_or_else(|| Error::Llm("the client is shutting down".to_owned()))?
            .map_err(|e| {
                Error::Llm(format!(
                    "{}/chat/completions (model {}): {e}",
                    self.config.base_url, self.config.model
                ))
            })?;
        response
            .choices
            .into_iter()
            .find_map(|c| c.message.content)
            .ok_or_else(|| Error::Llm("the model returned no text".to_owned()))
    }
}
