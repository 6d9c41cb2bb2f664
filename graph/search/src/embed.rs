//! Embeddings: one [`Embedder`] trait, and a built-in implementation that needs no model
//! files and no network.
//!
//! [`HashEmbedder`] maps text to a fixed-size vector by feature hashing three kinds of
//! evidence, each with its own weight:
//! - analysed words (identifier-split, abbreviations expanded, stemmed), so `cust_addr` and
//!   "customer address" land close;
//! - business concepts from a built-in lexicon ([`CONCEPTS`]), so "how much money we made"
//!   lands near `net_revenue` and "area" near `region`;
//! - character trigrams of each word, so typos (`revnue`, `adress`) stay close.
//!
//! Other implementations (an OpenAI-compatible endpoint, a local model) live where their
//! dependencies are allowed and plug in through the same trait.

use crate::analyze;
use crate::error::Result;

/// Turns texts into vectors of a fixed dimension. Implementations must be deterministic for
/// a given [`id`](Embedder::id): the index records the id and re-embeds when it changes.
pub trait Embedder: Send + Sync {
    /// Identifies the model and its settings (stored with the index).
    fn id(&self) -> String;
    /// The vector length.
    fn dimension(&self) -> usize;
    /// Embeds documents.
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>>;
    /// Embeds a query. Defaults to [`embed`](Embedder::embed); models with query prefixes
    /// override it.
    fn embed_query(&self, text: &str) -> Result<Vec<f32>> {
        let mut v = self.embed(&[text.to_owned()])?;
        Ok(v.pop().unwrap_or_else(|| vec![0.0; self.dimension()]))
    }
}

impl std::fmt::Debug for dyn Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Embedder({})", self.id())
    }
}

/// Groups of words a catalog user treats as the same idea. The first word names the group.
/// Words are matched after stemming, so list base forms.
pub const CONCEPTS: &[&[&str]] = &[
    &[
        "revenue", "sales", "income", "turnover", "earnings", "money", "made", "earn", "gmv",
        "takings", "proceeds", "billing",
    ],
    &["profit", "margin", "gain", "earnings", "cost"],
    &[
        "cost", "expense", "spend", "spending", "cogs", "price", "fee",
    ],
    &["amount", "value", "total", "sum", "amt"],
    &[
        "quantity", "qty", "units", "volume", "count", "sold", "items",
    ],
    &[
        "region",
        "area",
        "territory",
        "geography",
        "geo",
        "zone",
        "market",
    ],
    &["country", "nation", "ctry", "cntry"],
    &["city", "town", "place", "location", "locality"],
    &[
        "address",
        "street",
        "postal",
        "zip",
        "postcode",
        "residence",
        "addr",
        "live",
        "reside",
        "home",
    ],
    &[
        "customer", "client", "buyer", "shopper", "consumer", "cust", "account", "patron",
    ],
    &["person", "people", "individual", "somebody", "human"],
    &["employee", "staff", "worker", "personnel", "hr", "agent"],
    &[
        "name",
        "firstname",
        "surname",
        "lastname",
        "fullname",
        "called",
    ],
    &["email", "mail", "e-mail", "inbox", "eml"],
    &["phone", "telephone", "mobile", "cell", "call", "tel"],
    &["birth", "dob", "birthday", "born", "age"],
    &[
        "date",
        "day",
        "time",
        "timestamp",
        "calendar",
        "daily",
        "period",
    ],
    &[
        "month", "monthly", "year", "yearly", "annual", "week", "weekly", "quarter",
    ],
    &[
        "order",
        "purchase",
        "transaction",
        "checkout",
        "basket",
        "cart",
        "bought",
        "buy",
        "sale",
    ],
    &[
        "product",
        "item",
        "article",
        "goods",
        "merchandise",
        "sku",
        "catalog",
    ],
    &[
        "category", "segment", "class", "group", "type", "kind", "family",
    ],
    &[
        "discount",
        "rebate",
        "coupon",
        "voucher",
        "promotion",
        "markdown",
    ],
    &["tax", "vat", "duty"],
    &["currency", "fx", "exchange", "eur", "usd", "gbp"],
    &["refund", "return", "returned", "chargeback"],
    &[
        "marketing",
        "campaign",
        "advert",
        "advertising",
        "promotion",
        "ad",
        "newsletter",
    ],
    &[
        "click",
        "impression",
        "view",
        "visit",
        "session",
        "event",
        "interaction",
    ],
    &["conversion", "convert", "funnel", "uplift"],
    &[
        "consent",
        "opt",
        "permission",
        "agree",
        "unsubscribe",
        "subscribe",
    ],
    &[
        "support",
        "ticket",
        "complaint",
        "case",
        "issue",
        "helpdesk",
        "incident",
    ],
    &[
        "satisfaction",
        "csat",
        "rating",
        "score",
        "happy",
        "nps",
        "feedback",
    ],
    &[
        "churn",
        "attrition",
        "cancel",
        "leave",
        "lost",
        "inactive",
        "stopped",
        "lapsed",
    ],
    &["active", "engaged", "current", "recent"],
    &["loyalty", "tier", "membership", "status", "level", "vip"],
    &["lifetime", "clv", "ltv", "longterm"],
    &[
        "personal",
        "pii",
        "sensitive",
        "private",
        "privacy",
        "gdpr",
        "confidential",
        "identifiable",
    ],
    &["ip", "network", "device", "browser", "useragent"],
    &["identifier", "id", "key", "code", "reference"],
    &[
        "owner",
        "responsible",
        "accountable",
        "steward",
        "custodian",
        "maintainer",
    ],
    &[
        "quality",
        "rule",
        "check",
        "test",
        "valid",
        "validity",
        "accuracy",
        "completeness",
    ],
    &[
        "policy",
        "access",
        "permission",
        "allow",
        "deny",
        "masking",
        "retention",
        "compliance",
    ],
    &[
        "lineage",
        "upstream",
        "downstream",
        "source",
        "derived",
        "feed",
        "depends",
    ],
    &[
        "shipping",
        "delivery",
        "shipment",
        "dispatch",
        "logistics",
        "ship",
    ],
    &[
        "payment", "pay", "paid", "invoice", "billing", "card", "iban",
    ],
    &[
        "description",
        "comment",
        "note",
        "text",
        "message",
        "body",
        "free",
    ],
];

/// Feature-hashing embedder: words, concepts and character trigrams. See the module docs.
#[derive(Debug, Clone)]
pub struct HashEmbedder {
    dimension: usize,
    concepts: std::collections::HashMap<String, Vec<usize>>,
}

impl Default for HashEmbedder {
    fn default() -> Self {
        Self::new(256)
    }
}

fn fnv(bytes: &[u8], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // final avalanche
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

const WORD_WEIGHT: f32 = 1.0;
const CONCEPT_WEIGHT: f32 = 1.2;
const TRIGRAM_WEIGHT: f32 = 0.35;
const BODY_WEIGHT: f32 = 0.4;

impl HashEmbedder {
    /// An embedder with vectors of `dimension` floats (at least 16).
    pub fn new(dimension: usize) -> Self {
        let mut concepts: std::collections::HashMap<String, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, group) in CONCEPTS.iter().enumerate() {
            for w in *group {
                for part in analyze::words(w) {
                    let e = concepts.entry(analyze::stem(&part)).or_default();
                    if !e.contains(&i) {
                        e.push(i);
                    }
                }
            }
        }
        Self {
            dimension: dimension.max(16),
            concepts,
        }
    }

    fn add(&self, v: &mut [f32], feature: &[u8], seed: u64, weight: f32) {
        let h = fnv(feature, seed);
        let idx = (h % self.dimension as u64) as usize;
        let sign = if (h >> 63) == 0 { 1.0 } else { -1.0 };
        v[idx] += sign * weight;
    }

    /// The vector of one text. Text after the first blank line (a document's description)
    /// weighs less than what comes before it (its names).
    pub fn vector(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0.0f32; self.dimension];
        let (head, tail) = text.split_once("\n\n").unwrap_or((text, ""));
        let mut seen = std::collections::HashSet::new();
        self.add_text(&mut v, head, 1.0, &mut seen);
        self.add_text(&mut v, tail, BODY_WEIGHT, &mut seen);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            for x in &mut v {
                *x /= norm;
            }
        }
        v
    }

    fn add_text(
        &self,
        v: &mut [f32],
        text: &str,
        scale: f32,
        seen: &mut std::collections::HashSet<String>,
    ) {
        let tokens = analyze::analyze(text);
        for t in &tokens {
            if analyze::is_stop_word(&t.text) && !self.concepts.contains_key(&t.text) {
                continue;
            }
            // Repeated words count once: a long description must not drown the name.
            if !seen.insert(t.text.clone()) {
                continue;
            }
            let w = scale * if t.expanded { 0.8 } else { 1.0 };
            if !analyze::is_stop_word(&t.text) {
                self.add(v, t.text.as_bytes(), 1, WORD_WEIGHT * w);
            }
            if let Some(groups) = self.concepts.get(&t.text) {
                for g in groups {
                    self.add(v, &g.to_le_bytes(), 2, CONCEPT_WEIGHT * w);
                }
            }
            if !t.expanded && !t.text.chars().all(|c| c.is_ascii_digit()) {
                let padded: Vec<char> = format!("^{}$", t.text).chars().collect();
                let n = padded.len().saturating_sub(2).max(1) as f32;
                for tri in padded.windows(3) {
                    let s: String = tri.iter().collect();
                    self.add(v, s.as_bytes(), 3, scale * TRIGRAM_WEIGHT / n.sqrt());
                }
            }
        }
    }
}

impl Embedder for HashEmbedder {
    fn id(&self) -> String {
        format!("govgraph-hash-v1-{}", self.dimension)
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    /// Large batches (an index build's) are embedded on every core, in order.
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        if texts.len() < 256 || threads < 2 {
            return Ok(texts.iter().map(|t| self.vector(t)).collect());
        }
        let per = texts.len().div_ceil(threads);
        Ok(std::thread::scope(|scope| {
            let parts: Vec<_> = texts
                .chunks(per)
                .map(|chunk| {
                    scope.spawn(move || chunk.iter().map(|t| self.vector(t)).collect::<Vec<_>>())
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|h| {
                    // A panic in a thread (there is none to expect) becomes the caller's.
                    h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
                })
                .collect()
        }))
    }
}

/// Cosine similarity of two vectors of the same length (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_large_batch_embeds_as_each_text_alone() {
        let e = HashEmbedder::default();
        let texts: Vec<String> = (0..1000)
            .map(|i| format!("cust_addr_{i} order {i}"))
            .collect();
        let batch = e.embed(&texts).unwrap();
        assert_eq!(batch.len(), texts.len());
        for (t, v) in texts.iter().zip(&batch) {
            assert_eq!(*v, e.vector(t), "{t}");
        }
    }

    #[test]
    fn deterministic_and_normalised() {
        let e = HashEmbedder::default();
        let a = e.vector("customer email address");
        assert_eq!(a, e.vector("customer email address"));
        let n: f32 = a.iter().map(|x| x * x).sum();
        assert!((n - 1.0).abs() < 1e-4);
        assert!(e.vector("").iter().all(|x| *x == 0.0));
    }

    #[test]
    fn meaning_beats_spelling() {
        let e = HashEmbedder::default();
        let q = e.vector("how much money we made per region");
        let good = e.vector("net_revenue region daily sales");
        let bad = e.vector("loyalty_tier marketing_opt_in");
        assert!(cosine(&q, &good) > cosine(&q, &bad));
        let typo = e.vector("custmer adress");
        assert!(
            cosine(&typo, &e.vector("customer address")) > cosine(&typo, &e.vector("order status"))
        );
        let abbr = e.vector("custEmailAddr2");
        assert!(cosine(&abbr, &e.vector("customer email address")) > 0.5);
    }
}
