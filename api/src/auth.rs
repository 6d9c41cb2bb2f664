//! Authentication: API keys and bearer tokens map to principals with roles and attributes.
//!
//! Keys are kept only as SHA-256 digests. A request carries its key as
//! `Authorization: Bearer KEY`, `X-API-Key: KEY`, or as the password of HTTP Basic
//! authentication (what most SPARQL clients can send). With no key configured the server is
//! open, read-only, to one anonymous viewer, and binds only to loopback.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderMap, header};
use govgraph_graph::Scope;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};

/// What a principal may do. Each role includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads the catalog.
    Viewer,
    /// Reads the catalog and runs queries and searches.
    Analyst,
    /// Also runs ingestion and quality jobs.
    Engineer,
    /// Also writes the graph (SPARQL Update): classifications, terms, owners.
    Steward,
    /// Everything, including the audit log and the graphs govgraph manages.
    Admin,
}

impl Role {
    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Engineer => "engineer",
            Role::Steward => "steward",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "analyst" => Ok(Role::Analyst),
            "engineer" => Ok(Role::Engineer),
            "steward" => Ok(Role::Steward),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}: expected admin, steward, engineer, analyst or viewer"
            )),
        }
    }
}

/// A principal as the configuration declares it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalConfig {
    /// Who.
    pub name: String,
    /// The key in clear (at least 16 characters).
    #[serde(default)]
    pub key: Option<String>,
    /// Or its SHA-256 digest, in hex.
    #[serde(default)]
    pub key_sha256: Option<String>,
    /// Its roles.
    pub roles: Vec<Role>,
    /// Its domains (attributes that policies can test).
    #[serde(default)]
    pub domains: Vec<String>,
    /// The tenant it is confined to, if any.
    #[serde(default)]
    pub tenant: Option<String>,
}

/// Who is making a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The name.
    pub name: String,
    /// The roles.
    pub roles: Vec<Role>,
    /// The domains.
    pub domains: Vec<String>,
    /// The tenant, if confined to one.
    pub tenant: Option<String>,
}

impl Principal {
    /// The read-only principal of a server with no keys.
    pub fn anonymous() -> Self {
        Self {
            name: "anonymous".into(),
            roles: vec![Role::Analyst],
            domains: Vec::new(),
            tenant: None,
        }
    }

    /// The highest role.
    pub fn role(&self) -> Role {
        self.roles.iter().copied().max().unwrap_or(Role::Viewer)
    }

    /// Whether the principal has `role` or a higher one.
    pub fn has(&self, role: Role) -> bool {
        self.role() >= role
    }

    /// Fails unless the principal has `role` or a higher one.
    pub fn require(&self, role: Role, action: &str) -> ApiResult<()> {
        if self.has(role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "{action} needs the {} role; {} has {}",
                role.as_str(),
                self.name,
                self.role().as_str()
            )))
        }
    }

    /// The graphs this principal may read and write.
    pub fn scope(&self) -> ApiResult<Scope> {
        match &self.tenant {
            Some(t) => Scope::tenant(t).map_err(|e| ApiError::Internal(e.to_string())),
            None if self.has(Role::Admin) => Ok(Scope::admin()),
            None => Ok(Scope::all()),
        }
    }
}

/// Decodes standard base64 (with or without padding); `None` on anything else.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let bytes = s.trim_end_matches('=').as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= value(*c)? << (18 - 6 * i);
        }
        let n = chunk.len() - 1;
        for i in 0..n {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// Maps keys to principals.
#[derive(Debug)]
pub struct Authenticator {
    by_digest: HashMap<[u8; 32], Arc<Principal>>,
    anonymous: Arc<Principal>,
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn parse_hex(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Authenticator {
    /// An authenticator over configured principals (already checked).
    pub fn new(principals: &[PrincipalConfig]) -> ApiResult<Self> {
        let mut by_digest = HashMap::new();
        for p in principals {
            let d = match (&p.key, &p.key_sha256) {
                (Some(k), _) => digest(k),
                (None, Some(h)) => parse_hex(h).ok_or_else(|| {
                    ApiError::Config(format!("{}: key_sha256 is not hex", p.name))
                })?,
                (None, None) => {
                    return Err(ApiError::Config(format!("{}: no key", p.name)));
                }
            };
            let principal = Principal {
                name: p.name.clone(),
                roles: p.roles.clone(),
                domains: p.domains.clone(),
                tenant: p.tenant.clone(),
            };
            if by_digest.insert(d, Arc::new(principal)).is_some() {
                return Err(ApiError::Config(format!(
                    "{}: the same key is given to two principals",
                    p.name
                )));
            }
        }
        Ok(Self {
            by_digest,
            anonymous: Arc::new(Principal::anonymous()),
        })
    }

    /// Whether any key is configured (else the server is open and read-only).
    pub fn has_keys(&self) -> bool {
        !self.by_digest.is_empty()
    }

    /// The principal a request's headers name.
    pub fn authenticate(&self, headers: &HeaderMap) -> ApiResult<Arc<Principal>> {
        let key = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.trim().split_once(' ')?;
                if scheme.eq_ignore_ascii_case("bearer") {
                    Some(rest.trim().to_owned())
                } else if scheme.eq_ignore_ascii_case("basic") {
                    // SPARQL clients speak Basic: any user name, the key as the password.
                    let decoded = decode_base64(rest.trim())?;
                    let text = String::from_utf8(decoded).ok()?;
                    text.split_once(':').map(|(_, key)| key.to_owned())
                } else {
                    None
                }
            })
            .or_else(|| {
                headers
                    .get("x-api-key")
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.trim().to_owned())
            });
        if !self.has_keys() {
            return Ok(self.anonymous.clone());
        }
        let Some(key) = key.filter(|k| !k.is_empty()) else {
            return Err(ApiError::Unauthorized(
                "this server needs an API key: send `Authorization: Bearer KEY` or `X-API-Key: KEY`"
                    .into(),
            ));
        };
        self.by_digest
            .get(&digest(&key))
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("the API key is not valid".into()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn config() -> Vec<PrincipalConfig> {
        vec![
            PrincipalConfig {
                name: "ops".into(),
                key: Some("0123456789abcdef".into()),
                key_sha256: None,
                roles: vec![Role::Admin],
                domains: vec![],
                tenant: None,
            },
            PrincipalConfig {
                name: "ana".into(),
                key: None,
                key_sha256: Some(
                    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
                ),
                roles: vec![Role::Analyst],
                domains: vec!["sales".into()],
                tenant: Some("acme".into()),
            },
        ]
    }

    #[test]
    fn keys_map_to_principals() {
        let auth = Authenticator::new(&config()).unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer 0123456789abcdef"),
        );
        assert_eq!(auth.authenticate(&h).unwrap().name, "ops");
        let mut h = HeaderMap::new();
        // sha256("test")
        h.insert("x-api-key", HeaderValue::from_static("test"));
        let ana = auth.authenticate(&h).unwrap();
        assert_eq!(ana.tenant.as_deref(), Some("acme"));
        assert!(!ana.has(Role::Steward));
        assert!(matches!(
            auth.authenticate(&HeaderMap::new()),
            Err(ApiError::Unauthorized(_))
        ));
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer nope"),
        );
        assert!(matches!(
            auth.authenticate(&h),
            Err(ApiError::Unauthorized(_))
        ));
    }

    #[test]
    fn basic_auth_carries_the_key_as_password() {
        let auth = Authenticator::new(&config()).unwrap();
        let mut h = HeaderMap::new();
        // base64("ops:0123456789abcdef")
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic b3BzOjAxMjM0NTY3ODlhYmNkZWY="),
        );
        assert_eq!(auth.authenticate(&h).unwrap().name, "ops");
        assert_eq!(decode_base64("aGk").unwrap(), b"hi");
        assert!(decode_base64("a$==").is_none());
    }

    #[test]
    fn no_keys_means_anonymous_read_only() {
        let auth = Authenticator::new(&[]).unwrap();
        let p = auth.authenticate(&HeaderMap::new()).unwrap();
        assert_eq!(p.name, "anonymous");
        assert!(p.require(Role::Steward, "SPARQL Update").is_err());
    }
}
