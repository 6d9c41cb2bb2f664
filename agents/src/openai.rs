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
