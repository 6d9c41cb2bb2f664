//! Masking: the four methods of `gg:maskingMethod`, the deployment's masking key, and the
//! [`Masker`] that hides protected values wherever they appear in an output.

use std::path::Path;

use aho_corasick::AhoCorasick;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// How a value is hidden, from the weakest to the strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskMethod {
    /// Keep a recognisable part (an email's domain, the last four characters).
    Partial,
    /// A stable surrogate token, keyed by the deployment.
    Tokenize,
    /// A keyed one-way hash: equal inputs give equal outputs, so joins keep working.
    Hash,
    /// A fixed placeholder.
    Redact,
}

impl MaskMethod {
    /// Its name in `gg:maskingMethod`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Partial => "partial",
            Self::Tokenize => "tokenize",
            Self::Hash => "hash",
            Self::Redact => "redact",
        }
    }

    /// Reads a name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "partial" => Some(Self::Partial),
            "tokenize" | "tokenise" => Some(Self::Tokenize),
            "hash" => Some(Self::Hash),
            "redact" => Some(Self::Redact),
            _ => None,
        }
    }
}

/// What replaces a value that may not be shown at all.
pub const WITHHELD: &str = "[withheld]";
/// What replaces a redacted value.
pub const REDACTED: &str = "[redacted]";

/// The deployment's secret for keyed hashes and tokens. Without it, the hash of a date of
/// birth could be reversed by hashing every date.
#[derive(Clone)]
pub struct MaskKey([u8; 32]);

impl std::fmt::Debug for MaskKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MaskKey(..)")
    }
}

impl MaskKey {
    /// A key from bytes (tests).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key (for a store that lives in memory).
    pub fn random() -> Self {
        let mut k = [0u8; 32];
        if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
            use std::io::Read;
            if f.read_exact(&mut k).is_ok() {
                return Self(k);
            }
        }
        // No system randomness: the clock and the heap are better than nothing.
        let seed = format!("{:?}{:p}", std::time::SystemTime::now(), &k as *const _);
        Self(Sha256::digest(seed.as_bytes()).into())
    }

    /// The key kept in `dir/masking.key`, created on first use (readable by its owner only).
    pub fn load_or_create(dir: &Path) -> Result<Self> {
        let path = dir.join("masking.key");
        let io =
            |e: std::io::Error| Error::invalid(path.display().to_string(), "(file)", e.to_string());
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() == 32 => {
                let mut k = [0u8; 32];
                k.copy_from_slice(&bytes);
                Ok(Self(k))
            }
            Ok(_) => Err(Error::invalid(
                path.display().to_string(),
                "(file)",
                "a masking key is 32 bytes",
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::random();
                std::fs::create_dir_all(dir).map_err(io)?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                match options.open(&path) {
                    Ok(mut f) => {
                        use std::io::Write;
                        f.write_all(&key.0).map_err(io)?;
                        Ok(key)
                    }
                    // Another process made it first.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::load_or_create(dir)
                    }
                    Err(e) => Err(io(e)),
                }
            }
            Err(e) => Err(io(e)),
        }
    }

    /// HMAC-SHA-256 of `message` under this key, with a label that separates uses.
    fn mac(&self, label: &str, message: &str) -> [u8; 32] {
        let mut inner = Sha256::new();
        let mut outer = Sha256::new();
        let mut ipad = [0x36u8; 64];
        let mut opad = [0x5cu8; 64];
        for (i, b) in self.0.iter().enumerate() {
            ipad[i] ^= b;
            opad[i] ^= b;
        }
        inner.update(ipad);
        inner.update(label.as_bytes());
        inner.update([0u8]);
        inner.update(message.as_bytes());
        outer.update(opad);
        outer.update(inner.finalize());
        outer.finalize().into()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hides `value` by `method`.
pub fn apply(method: MaskMethod, value: &str, key: &MaskKey) -> String {
    match method {
        MaskMethod::Redact => REDACTED.to_owned(),
        MaskMethod::Hash => format!("hash:{}", hex(&key.mac("hash", value)[..12])),
        MaskMethod::Tokenize => format!("tok_{}", hex(&key.mac("token", value)[..8])),
        MaskMethod::Partial => partial(value),
    }
}

/// Keeps an email's domain, or the last four characters of anything longer than six.
pub fn partial(value: &str) -> String {
    let v = value.trim();
    if let Some((_, domain)) = v.split_once('@') {
        return format!("***@{domain}");
    }
    let chars: Vec<char> = v.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len().max(1));
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{}{tail}", "*".repeat(chars.len() - 4))
}

/// How one protected value is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Treatment {
    /// Masked by this method.
    Mask(MaskMethod),
    /// Not shown at all.
    Withhold,
}

/// Values shorter than this are masked only where a whole output value equals them: inside
/// longer text they would match too much.
const MIN_EMBEDDED: usize = 6;

/// Hides protected values wherever they appear: as a whole literal, inside longer text, or
/// in JSON. It is built from the values the catalog holds for each column (profile extremes
/// and quartiles, classification evidence) and the decision on each column for one caller.
#[derive(Clone)]
pub struct Masker {
    exact: FxHashMap<String, String>,
    embedded: Option<(AhoCorasick, Vec<String>)>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field("values", &self.exact.len())
            .finish()
    }
}

impl Masker {
    /// A masker that hides nothing.
    pub fn none() -> Self {
        Self {
            exact: FxHashMap::default(),
            embedded: None,
        }
    }

    /// A masker for `(value, treatment)` pairs.
    pub fn new(values: impl IntoIterator<Item = (String, Treatment)>, key: &MaskKey) -> Self {
        let mut exact: FxHashMap<String, String> = FxHashMap::default();
        for (value, t) in values {
            let v = value.trim().to_owned();
            if v.is_empty() {
                continue;
            }
            let shown = match t {
                Treatment::Mask(m) => apply(m, &v, key),
                Treatment::Withhold => WITHHELD.to_owned(),
            };
            // Where two columns share a value, the stronger treatment wins.
            let stronger = |a: &str, b: &str| a == WITHHELD || (b != WITHHELD && a == REDACTED);
            match exact.get(&v) {
                Some(old) if stronger(old.as_str(), &shown) => {}
                _ => {
                    exact.insert(v, shown);
                }
            }
        }
        let mut long: Vec<(&String, &String)> = exact
            .iter()
            .filter(|(k, _)| k.chars().count() >= MIN_EMBEDDED)
            .collect();
        long.sort();
        let embedded = if long.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(long.iter().map(|(k, _)| k.as_str()))
                .ok()
                .map(|ac| (ac, long.iter().map(|(_, v)| (*v).clone()).collect()))
        };
        Self { exact, embedded }
    }

    /// Whether it hides anything.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }

    /// `text` with every protected value hidden; `None` when nothing changed.
    pub fn text(&self, text: &str) -> Option<String> {
        if let Some(shown) = self.exact.get(text.trim()) {
            return Some(shown.clone());
        }
        let (ac, replacements) = self.embedded.as_ref()?;
        if !ac.is_match(text) {
            return None;
        }
        Some(ac.replace_all(text, replacements))
    }

    /// Masks every string and number in a JSON value, in place.
    pub fn json(&self, v: &mut serde_json::Value) {
        use serde_json::Value;
        if self.is_empty() {
            return;
        }
        match v {
            Value::String(s) => {
                if let Some(m) = self.text(s) {
                    *s = m;
                }
            }
            Value::Number(n) => {
                if let Some(m) = self.text(&n.to_string()) {
                    *v = Value::String(m);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.json(i)),
            Value::Object(map) => map.values_mut().for_each(|i| self.json(i)),
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// A term with its literal masked (as a plain string), or `None` when unchanged.
    pub fn term(&self, term: &oxigraph::model::Term) -> Option<oxigraph::model::Term> {
        match term {
            oxigraph::model::Term::Literal(l) => self
                .text(l.value())
                .map(|m| oxigraph::model::Literal::new_simple_literal(m).into()),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn key() -> MaskKey {
        MaskKey::from_bytes([7; 32])
    }

    #[test]
    fn methods_hide_what_they_promise() {
        let k = key();
        assert_eq!(apply(MaskMethod::Redact, "x@y.com", &k), REDACTED);
        let h = apply(MaskMethod::Hash, "1980-01-02", &k);
        assert!(h.starts_with("hash:") && h.len() == 29, "{h}");
        assert_eq!(h, apply(MaskMethod::Hash, "1980-01-02", &k), "stable");
        assert_ne!(h, apply(MaskMethod::Hash, "1980-01-03", &k));
        assert_ne!(
            h,
            apply(
                MaskMethod::Hash,
                "1980-01-02",
                &MaskKey::from_bytes([8; 32])
            ),
            "keyed"
        );
        assert_eq!(partial("anna@example.com"), "***@example.com");
        assert_eq!(partial("+49 30 1234567"), "**********4567");
        assert_eq!(partial("abc"), "***");
        assert!(apply(MaskMethod::Tokenize, "x", &k).starts_with("tok_"));
    }

    #[test]
    fn the_masker_finds_values_whole_and_embedded() {
        let k = key();
        let m = Masker::new(
            [
                ("1961-04-02".to_owned(), Treatment::Mask(MaskMethod::Hash)),
                ("42".to_owned(), Treatment::Withhold),
            ],
            &k,
        );
        assert_eq!(m.text("42").as_deref(), Some(WITHHELD));
        assert_eq!(m.text("1420"), None, "short values only match whole");
        let hidden = m.text("born 1961-04-02, ok").unwrap();
        assert!(
            !hidden.contains("1961") && hidden.contains("hash:"),
            "{hidden}"
        );
        let mut v = serde_json::json!({"a": ["1961-04-02", 42, true], "b": "nothing"});
        m.json(&mut v);
        assert_eq!(v["a"][1], WITHHELD);
        assert!(v["a"][0].as_str().unwrap().starts_with("hash:"));
        assert_eq!(v["b"], "nothing");
    }

    #[test]
    fn the_key_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = MaskKey::load_or_create(dir.path()).unwrap();
        let b = MaskKey::load_or_create(dir.path()).unwrap();
        assert_eq!(a.0, b.0);
        std::fs::write(dir.path().join("masking.key"), b"short").unwrap();
        assert!(MaskKey::load_or_create(dir.path()).is_err());
    }
}
