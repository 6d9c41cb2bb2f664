//! The server's configuration: a TOML file, then the environment, then flags.
//!
//! ```toml
//! [server]
//! addr = "0.0.0.0:7878"
//!
//! [limits]
//! query_timeout_ms = 10000
//! max_result_bytes = 67108864
//! max_body_bytes = 16777216
//! requests_per_minute = 600     # per principal
//! max_concurrent = 16           # queries, updates and searches at once
//! worker_threads = 0            # threads for store work (0: three per core)
//!
//! [[principals]]
//! name = "ada"
//! key_sha256 = "…"              # or `key = "…"`
//! roles = ["steward"]
//! domains = ["sales"]
//! tenant = "acme"               # optional: confines the principal to one tenant
//!
//! [products]
//! data_root = "/srv/lake"       # where the catalog's relative data-file paths live
//! output_dir = "/srv/products"  # where materialized products go (default: DATA/products)
//!
//! [federation]                  # SPARQL SERVICE; off unless endpoints are listed
//! endpoints = ["http://sparql.example.org/sparql"]
//! tenants = false               # tenant-confined principals may not use SERVICE
//! max_calls = 16                # SERVICE calls per query
//! max_response_bytes = 16777216
//! timeout_ms = 5000
//! ```
//!
//! `GOVGRAPH_API_KEYS` adds principals from the environment, `;`-separated, each
//! `name:key:role[,role…][:domain[,domain…][:tenant]]`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::auth::{PrincipalConfig, Role};
use crate::error::{ApiError, ApiResult};

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    /// `[server]`.
    pub server: ServerSection,
    /// `[limits]`.
    pub limits: LimitsSection,
    /// `[audit]`.
    pub audit: AuditSection,
    /// `[[principals]]`.
    pub principals: Vec<PrincipalConfig>,
    /// `[llm]`: an OpenAI-compatible model for `/api/v1/ask` (absent: offline only).
    pub llm: Option<LlmSection>,
    /// `[products]`: where data products read their inputs' files and write their outputs.
    pub products: ProductsSection,
    /// `[federation]`: the SERVICE endpoints queries may call (none by default).
    pub federation: FederationSection,
    /// `[embeddings]`: the embedder behind search's vectors (the built-in one by default).
    pub embeddings: EmbeddingsSection,
}

/// `[embeddings]`. The key of an OpenAI-compatible endpoint comes from
/// `GOVGRAPH_EMBEDDER_API_KEY`, never from the file. Every process that opens the data
/// directory must use the same settings: the search index re-embeds everything when the
/// embedder changes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddingsSection {
    /// `builtin` (no model files, no network), `openai` (an OpenAI-compatible endpoint) or
    /// `local` (a sentence-embedding model in a directory).
    pub kind: String,
    /// `openai`: the API base, such as `http://127.0.0.1:8080/v1`.
    pub base_url: Option<String>,
    /// `openai`: the model name.
    pub model: Option<String>,
    /// `openai`: the vector length (learned from the endpoint when absent).
    pub dimension: Option<usize>,
    /// `openai`: inputs per request.
    pub batch: usize,
    /// `openai`: seconds allowed for one request.
    pub timeout_s: u64,
    /// `local`: the model directory (`config.json`, `vocab.txt`, `model.safetensors`).
    pub path: Option<PathBuf>,
    /// `local`: tokens per text at most.
    pub max_tokens: usize,
    /// `local`: put before each query (e5 wants `query: `).
    pub query_prefix: Option<String>,
    /// `local`: put before each document (e5 wants `passage: `).
    pub document_prefix: Option<String>,
}

impl Default for EmbeddingsSection {
    fn default() -> Self {
        Self {
            kind: "builtin".to_owned(),
            base_url: None,
            model: None,
            dimension: None,
            batch: 128,
            timeout_s: 30,
            path: None,
            max_tokens: 256,
            query_prefix: None,
            document_prefix: None,
        }
    }
}

impl EmbeddingsSection {
    /// The embedder these settings describe, with the endpoint's key if it has one; names
    /// the setting that is missing or wrong.
    pub fn settings(
        &self,
        api_key: Option<String>,
    ) -> ApiResult<govgraph_agents::embedding::EmbedderSettings> {
        use govgraph_agents::embedding::EmbedderSettings;
        let missing = |field: &str| {
            ApiError::Config(format!(
                "[embeddings] {field} is required when kind = \"{}\"",
                self.kind
            ))
        };
        match self.kind.as_str() {
            "builtin" => Ok(EmbedderSettings::Builtin),
            "openai" => Ok(EmbedderSettings::OpenAi {
                base_url: self.base_url.clone().ok_or_else(|| missing("base_url"))?,
                model: self.model.clone().ok_or_else(|| missing("model"))?,
                api_key,
                dimension: self.dimension,
                batch: self.batch.max(1),
                timeout: Duration::from_secs(self.timeout_s.max(1)),
            }),
            "local" => Ok(EmbedderSettings::Local {
                path: self.path.clone().ok_or_else(|| missing("path"))?,
                max_tokens: self.max_tokens.max(2),
                query_prefix: self.query_prefix.clone(),
                document_prefix: self.document_prefix.clone(),
            }),
            other => Err(ApiError::Config(format!(
                "[embeddings] kind = \"{other}\": expected builtin, openai or local"
            ))),
        }
    }
}

/// `[federation]`. SPARQL SERVICE calls go only to the endpoints listed here; with none
/// listed (the default) every SERVICE is refused, so a query can never make the server call
/// an address of its choosing.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FederationSection {
    /// Endpoint IRIs a SERVICE may name, exactly as written in queries.
    pub endpoints: Vec<String>,
    /// Whether principals confined to a tenant may use SERVICE too.
    pub tenants: bool,
    /// SERVICE calls one query may make.
    pub max_calls: usize,
    /// The most bytes one SERVICE answer may have.
    pub max_response_bytes: usize,
    /// The most milliseconds one SERVICE call may take (the query's own limit still applies).
    pub timeout_ms: u64,
}

impl Default for FederationSection {
    fn default() -> Self {
        Self {
            endpoints: Vec::new(),
            tenants: false,
            max_calls: govgraph_graph::federation::DEFAULT_MAX_CALLS,
            max_response_bytes: 16 << 20,
            timeout_ms: 5_000,
        }
    }
}

/// `[products]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProductsSection {
    /// Where the catalog's relative data-file paths are resolved. Products read files only
    /// under this folder or `output_dir` (and files the server's connectors ingested).
    pub data_root: Option<PathBuf>,
    /// Where materialized products are written (default: DATA/products).
    pub output_dir: Option<PathBuf>,
}

/// `[llm]`. The key comes from `GOVGRAPH_LLM_API_KEY`, never from the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSection {
    /// The API base, such as `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// The model name.
    pub model: String,
    /// Seconds for a whole answer, every model call and tool included.
    pub timeout_s: u64,
    /// Model calls per answer at most.
    pub max_steps: usize,
    /// Tokens a tenant may spend in all (absent: no limit).
    pub token_budget: Option<u64>,
    /// Price of 1,000 tokens, for the cost budget.
    pub cost_per_1k_tokens: f64,
    /// What a tenant may spend in all (absent: no limit).
    pub cost_budget: Option<f64>,
}

impl Default for LlmSection {
    fn default() -> Self {
        Self {
            base_url: "https://api.openai.com/v1".to_owned(),
            model: "gpt-4o-mini".to_owned(),
            timeout_s: 30,
            max_steps: 6,
            token_budget: None,
            cost_per_1k_tokens: 0.0,
            cost_budget: None,
        }
    }
}

/// `[server]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSection {
    /// Where to listen.
    pub addr: Option<SocketAddr>,
    /// The data directory.
    pub data: Option<PathBuf>,
}

/// `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSection {
    /// Queries and updates are cancelled after this many milliseconds.
    pub query_timeout_ms: u64,
    /// The most bytes one response may carry.
    pub max_result_bytes: usize,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// Requests one principal may make per minute (0: no limit).
    pub requests_per_minute: u32,
    /// Queries, updates and searches running at once, over all principals.
    pub max_concurrent: usize,
    /// How long a request waits for a free slot before it is turned away, in milliseconds.
    pub queue_timeout_ms: u64,
    /// Threads that run store and index work (0: three per core). More threads than this
    /// start only while long queries hold the others.
    pub worker_threads: usize,
}

impl Default for LimitsSection {
    fn default() -> Self {
        Self {
            query_timeout_ms: 10_000,
            max_result_bytes: 64 << 20,
            max_body_bytes: 16 << 20,
            requests_per_minute: 6_000,
            max_concurrent: 16,
            queue_timeout_ms: 2_000,
            worker_threads: 0,
        }
    }
}

/// `[audit]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSection {
    /// The append-only JSON-lines log (default: DATA/audit.jsonl).
    pub path: Option<PathBuf>,
}

impl FileConfig {
    /// Reads and checks a configuration file.
    pub fn from_file(path: &Path) -> ApiResult<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ApiError::Config(format!("{}: {e}", path.display())))?;
        Self::from_toml(&text).map_err(|e| ApiError::Config(format!("{}: {e}", path.display())))
    }

    /// Parses a configuration from TOML text.
    pub fn from_toml(text: &str) -> ApiResult<Self> {
        let config: Self = toml::from_str(text).map_err(|e| ApiError::Config(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    /// Adds the principals of `GOVGRAPH_API_KEYS`-style text.
    pub fn add_env_keys(&mut self, text: &str) -> ApiResult<()> {
        for (i, entry) in text
            .split(';')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let parts: Vec<&str> = entry.split(':').collect();
            let at = |what: &str| {
                ApiError::Config(format!(
                    "GOVGRAPH_API_KEYS entry {}: {what}; expected name:key:role[,role][:domain[,domain][:tenant]]",
                    i + 1
                ))
            };
            if parts.len() < 3 || parts.len() > 5 {
                return Err(at("wrong number of fields"));
            }
            let list = |s: &str| -> Vec<String> {
                s.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            let mut roles = Vec::new();
            for r in list(parts[2]) {
                roles.push(r.parse::<Role>().map_err(|e| at(&e))?);
            }
            self.principals.push(PrincipalConfig {
                name: parts[0].trim().to_owned(),
                key: Some(parts[1].trim().to_owned()),
                key_sha256: None,
                roles,
                domains: parts.get(3).map(|d| list(d)).unwrap_or_default(),
                tenant: parts
                    .get(4)
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty()),
            });
        }
        self.check()
    }

    fn check(&self) -> ApiResult<()> {
        self.embeddings.settings(None)?;
        let mut names = std::collections::BTreeSet::new();
        for (i, p) in self.principals.iter().enumerate() {
            let at = |m: String| ApiError::Config(format!("principals[{i}] ({}): {m}", p.name));
            if p.name.trim().is_empty() {
                return Err(at("a principal needs a name".into()));
            }
            if !names.insert(p.name.as_str()) {
                return Err(at("the name is used twice".into()));
            }
            match (&p.key, &p.key_sha256) {
                (Some(k), None) if k.len() >= 16 => {}
                (Some(_), None) => return Err(at("a key needs at least 16 characters".into())),
                (None, Some(h)) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {}
                (None, Some(_)) => {
                    return Err(at("key_sha256 must be 64 hexadecimal digits".into()));
                }
                _ => return Err(at("give exactly one of key and key_sha256".into())),
            }
            if p.roles.is_empty() {
                return Err(at("a principal needs at least one role".into()));
            }
            if let Some(t) = &p.tenant {
                govgraph_graph::scope::check_tenant_id(t).map_err(|e| at(e.to_string()))?;
            }
        }
        for (i, e) in self.federation.endpoints.iter().enumerate() {
            let at = |m: &str| ApiError::Config(format!("federation.endpoints[{i}] ({e}): {m}"));
            let iri = govgraph_graph::oxigraph::model::NamedNode::new(e.as_str())
                .map_err(|err| at(&err.to_string()))?;
            let scheme = iri.as_str().split(':').next().unwrap_or_default();
            if scheme != "http" && scheme != "https" {
                return Err(at("an endpoint must be an http or https URL"));
            }
        }
        let f = &self.federation;
        if f.max_calls == 0 || f.max_response_bytes == 0 || f.timeout_ms == 0 {
            return Err(ApiError::Config(
                "federation: max_calls, max_response_bytes and timeout_ms must be positive".into(),
            ));
        }
        let l = &self.limits;
        if l.query_timeout_ms == 0 || l.max_concurrent == 0 || l.max_body_bytes == 0 {
            return Err(ApiError::Config(
                "limits: query_timeout_ms, max_concurrent and max_body_bytes must be positive"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The limits as durations and sizes.
    pub fn query_timeout(&self) -> Duration {
        Duration::from_millis(self.limits.query_timeout_ms)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_principals_parses() {
        let c = FileConfig::from_toml(
            r#"
            [server]
            addr = "127.0.0.1:9000"
            [limits]
            query_timeout_ms = 500
            [[principals]]
            name = "ada"
            key = "0123456789abcdef0"
            roles = ["steward"]
            domains = ["sales"]
            tenant = "acme"
            "#,
        )
        .unwrap();
        assert_eq!(c.principals.len(), 1);
        assert_eq!(c.query_timeout(), Duration::from_millis(500));
        assert_eq!(c.limits.max_concurrent, 16);
    }

    #[test]
    fn mistakes_name_the_field() {
        for (text, needle) in [
            ("[server]\nport = 1", "unknown field `port`"),
            (
                "[[principals]]\nname='a'\nkey='short'\nroles=['admin']",
                "at least 16",
            ),
            (
                "[[principals]]\nname='a'\nkey='0123456789abcdef'\nroles=['boss']",
                "boss",
            ),
            (
                "[[principals]]\nname='a'\nkey='0123456789abcdef'\nroles=['admin']\ntenant='A B'",
                "tenant",
            ),
            (
                "[embeddings]\nkind='magic'",
                "expected builtin, openai or local",
            ),
            (
                "[embeddings]\nkind='openai'\nmodel='m'",
                "[embeddings] base_url is required",
            ),
            (
                "[embeddings]\nkind='local'",
                "[embeddings] path is required",
            ),
            ("[embeddings]\nkind='local'\npth='x'", "unknown field `pth`"),
        ] {
            let e = FileConfig::from_toml(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn env_keys_add_principals() {
        let mut c = FileConfig::default();
        c.add_env_keys(
            "ops:0123456789abcdef:admin; ana:fedcba9876543210:analyst,viewer:sales,hr:acme",
        )
        .unwrap();
        assert_eq!(c.principals.len(), 2);
        assert_eq!(c.principals[1].domains, vec!["sales", "hr"]);
        assert_eq!(c.principals[1].tenant.as_deref(), Some("acme"));
        assert!(c.add_env_keys("x:0123456789abcdef").is_err());
    }
}
