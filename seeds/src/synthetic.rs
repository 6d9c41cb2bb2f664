//! A scalable synthetic catalog, streamed as N-Triples, for benchmarks.
//!
//! Shape: systems, domains with owners and stewards, a glossary of `terms` terms with
//! synonyms and a three-level hierarchy, `tables` datasets in three layers (30% bronze
//! sources without inputs, then silver and gold transformations), `columns_per_table`
//! columns each with business-word names, types and descriptions, glossary terms on about a
//! third of the columns, PII and financial tags, and (unless disabled) a lineage DAG: 1-4
//! inputs per derived table with a heavy tail of popular hub tables, table-level
//! `prov:wasDerivedFrom` and column-level `gg:ColumnDerivation` nodes (about 0.5 column
//! edges per column at 20 columns per table).
//!
//! Memory use is constant apart from per-table state: everything about table `i` is
//! recomputed from `(seed, i)` when needed, so upstream columns are regenerated rather
//! than remembered. Output is deterministic for a given configuration.

use crate::rng::{SplitMix64, hash_str, mix64};
use crate::vocab::{BASE, CSVW, DCAT, DCT, FOAF, GG, Iris, ORG, PROV, RDF, SKOS, XSD, slug};
use std::io::{self, BufWriter, Write};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SyntheticConfig {
    /// Number of datasets.
    pub tables: usize,
    /// Columns per dataset.
    pub columns_per_table: usize,
    /// Glossary terms.
    pub terms: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Instance base IRI.
    pub base: String,
    /// Emit table and column lineage.
    pub lineage: bool,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self {
            tables: 1000,
            columns_per_table: 20,
            terms: 500,
            seed: 42,
            base: BASE.to_string(),
            lineage: true,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyntheticStats {
    /// Datasets.
    pub tables: u64,
    /// Columns.
    pub columns: u64,
    /// Glossary terms.
    pub terms: u64,
    /// Table-level `prov:wasDerivedFrom` edges.
    pub table_edges: u64,
    /// Column-level derivations (`gg:ColumnDerivation` nodes).
    pub column_edges: u64,
    /// N-Triples statements.
    pub triples: u64,
}

// ---------------------------------------------------------------------------------------
// Vocabulary of business words
// ---------------------------------------------------------------------------------------

static DOMAINS: &[&str] = &[
    "sales",
    "customer",
    "marketing",
    "finance",
    "logistics",
    "product",
    "support",
    "hr",
    "risk",
    "procurement",
    "web",
    "operations",
];

/// (entity, domain index)
static ENTITIES: &[(&str, usize)] = &[
    ("customer", 1),
    ("order", 0),
    ("order_line", 0),
    ("product", 5),
    ("invoice", 3),
    ("payment", 3),
    ("shipment", 4),
    ("account", 3),
    ("subscription", 0),
    ("campaign", 2),
    ("session", 10),
    ("ticket", 6),
    ("supplier", 9),
    ("employee", 7),
    ("store", 11),
    ("inventory", 4),
    ("contract", 9),
    ("claim", 8),
    ("device", 10),
    ("lead", 2),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pii {
    None,
    Email,
    Phone,
    Name,
    Address,
    Dob,
    Ip,
    FreeText,
    Financial,
}

/// (attribute, data type, description, tag)
static ATTRS: &[(&str, &str, &str, Pii)] = &[
    ("amount", "decimal(12,2)", "monetary amount", Pii::Financial),
    (
        "net_amount",
        "decimal(12,2)",
        "net amount after discounts, excluding tax",
        Pii::Financial,
    ),
    (
        "gross_amount",
        "decimal(12,2)",
        "gross amount before discounts and tax",
        Pii::Financial,
    ),
    ("tax_amount", "decimal(12,2)", "tax charged", Pii::Financial),
    (
        "discount_amount",
        "decimal(12,2)",
        "discount granted",
        Pii::Financial,
    ),
    (
        "revenue",
        "decimal(18,2)",
        "recognised revenue",
        Pii::Financial,
    ),
    ("margin", "decimal(18,2)", "gross margin", Pii::Financial),
    ("cost", "decimal(12,2)", "cost of goods", Pii::Financial),
    (
        "balance",
        "decimal(18,2)",
        "outstanding balance",
        Pii::Financial,
    ),
    (
        "credit_limit",
        "decimal(18,2)",
        "approved credit limit",
        Pii::Financial,
    ),
    (
        "unit_price",
        "decimal(12,2)",
        "price per unit",
        Pii::Financial,
    ),
    (
        "lifetime_value",
        "decimal(18,2)",
        "lifetime value to date",
        Pii::Financial,
    ),
    ("currency", "char(3)", "ISO 4217 currency code", Pii::None),
    ("quantity", "integer", "number of units", Pii::None),
    ("status", "varchar", "lifecycle status", Pii::None),
    ("type", "varchar", "type code", Pii::None),
    ("category", "varchar", "business category", Pii::None),
    ("channel", "varchar", "sales or contact channel", Pii::None),
    ("segment", "varchar", "customer segment", Pii::None),
    ("region", "varchar", "sales region", Pii::None),
    ("priority", "varchar", "priority level", Pii::None),
    (
        "country_code",
        "char(2)",
        "ISO 3166-1 alpha-2 country",
        Pii::None,
    ),
    ("language", "varchar", "preferred language", Pii::None),
    ("timezone", "varchar", "IANA time zone", Pii::None),
    ("created_at", "timestamp", "creation time", Pii::None),
    ("updated_at", "timestamp", "last update time", Pii::None),
    ("order_date", "date", "date of the order", Pii::None),
    ("due_date", "date", "payment due date", Pii::None),
    ("paid_at", "timestamp", "time of payment", Pii::None),
    ("shipped_at", "timestamp", "time of shipment", Pii::None),
    ("delivered_at", "timestamp", "time of delivery", Pii::None),
    (
        "load_ts",
        "timestamp",
        "time the record was loaded",
        Pii::None,
    ),
    (
        "is_active",
        "boolean",
        "whether the record is active",
        Pii::None,
    ),
    ("is_deleted", "boolean", "soft-delete flag", Pii::None),
    ("opt_in", "boolean", "marketing consent flag", Pii::None),
    ("churn_flag", "boolean", "churn indicator", Pii::None),
    ("score", "double", "model score", Pii::None),
    (
        "risk_score",
        "double",
        "risk score between 0 and 1",
        Pii::None,
    ),
    ("rank", "integer", "rank within its group", Pii::None),
    (
        "tenure_days",
        "integer",
        "days since the relationship started",
        Pii::None,
    ),
    (
        "duration_seconds",
        "integer",
        "duration in seconds",
        Pii::None,
    ),
    ("event_count", "bigint", "number of events", Pii::None),
    ("weight_kg", "double", "weight in kilograms", Pii::None),
    ("latitude", "double", "latitude in degrees", Pii::None),
    ("longitude", "double", "longitude in degrees", Pii::None),
    ("name", "varchar", "display name", Pii::None),
    ("code", "varchar", "business code", Pii::None),
    ("description", "varchar", "free-text description", Pii::None),
    (
        "comment",
        "varchar",
        "free-text comment entered by a person",
        Pii::FreeText,
    ),
    (
        "external_ref",
        "varchar",
        "reference in the source system",
        Pii::None,
    ),
    ("invoice_number", "varchar", "invoice number", Pii::None),
    ("sku", "varchar", "stock keeping unit", Pii::None),
    ("brand", "varchar", "brand name", Pii::None),
    (
        "return_reason",
        "varchar",
        "reason given for a return",
        Pii::None,
    ),
    (
        "source_system",
        "varchar",
        "system the record came from",
        Pii::None,
    ),
    ("batch_id", "bigint", "load batch identifier", Pii::None),
    ("customer_id", "bigint", "customer identifier", Pii::None),
    ("order_id", "bigint", "order identifier", Pii::None),
    ("product_id", "bigint", "product identifier", Pii::None),
    ("account_id", "bigint", "account identifier", Pii::None),
    ("store_id", "bigint", "store identifier", Pii::None),
    ("supplier_id", "bigint", "supplier identifier", Pii::None),
    ("employee_id", "bigint", "employee identifier", Pii::None),
    ("campaign_id", "bigint", "campaign identifier", Pii::None),
    ("session_id", "varchar", "web session identifier", Pii::None),
    ("email", "varchar", "email address", Pii::Email),
    ("phone", "varchar", "phone number", Pii::Phone),
    ("first_name", "varchar", "given name", Pii::Name),
    ("last_name", "varchar", "family name", Pii::Name),
    (
        "street_address",
        "varchar",
        "street and house number",
        Pii::Address,
    ),
    ("postal_code", "varchar", "postal code", Pii::Address),
    ("city", "varchar", "city", Pii::Address),
    ("birth_date", "date", "date of birth", Pii::Dob),
    ("ip_address", "varchar", "client IP address", Pii::Ip),
];

/// Word abbreviations people use when they search (for `skos:altLabel`).
static ABBREVIATIONS: &[(&str, &str)] = &[
    ("customer", "cust"),
    ("amount", "amt"),
    ("quantity", "qty"),
    ("order", "ord"),
    ("number", "no"),
    ("date", "dt"),
    ("address", "addr"),
    ("description", "desc"),
    ("account", "acct"),
    ("product", "prod"),
    ("revenue", "rev"),
    ("invoice", "inv"),
    ("payment", "pmt"),
    ("shipment", "shpt"),
    ("employee", "emp"),
    ("supplier", "supp"),
    ("category", "cat"),
    ("transaction", "txn"),
    ("identifier", "id"),
    ("subscription", "sub"),
    ("inventory", "inv"),
    ("campaign", "cmp"),
    ("birth", "dob"),
    ("phone", "tel"),
    ("email", "e-mail"),
    ("margin", "mgn"),
];

static FIRST: &[&str] = &[
    "Alex", "Sam", "Maria", "Jonas", "Priya", "Chen", "Fatima", "Lucas", "Aisha", "Tomás",
    "Ingrid", "Kenji", "Olga", "Noah", "Zoe", "Ravi",
];
static LAST: &[&str] = &[
    "Novak",
    "Okafor",
    "Lindqvist",
    "García",
    "Nakamura",
    "Schulz",
    "Dubois",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Park",
    "Silva",
    "Jensen",
    "Moreau",
];

static SOURCE_PLATFORMS: &[&str] = &["postgres", "mysql", "files", "kafka", "oracle", "mongodb"];
static WAREHOUSE_PLATFORMS: &[&str] = &["snowflake", "dbt", "bigquery", "duckdb"];

const SUBTYPES: &[&str] = &[
    "IDENTITY",
    "TRANSFORMATION",
    "AGGREGATION",
    "JOIN",
    "FILTER",
    "GROUP_BY",
    "SORT",
    "WINDOW",
    "CONDITIONAL",
];

fn humanize(snake: &str) -> String {
    snake
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w == "id" || w == "ip" || w == "ts" || w == "kg" {
                w.to_uppercase()
            } else {
                let mut c = w.chars();
                c.next().map_or(String::new(), |f| {
                    f.to_uppercase().collect::<String>() + c.as_str()
                })
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn abbreviate(label: &str) -> Option<String> {
    let mut changed = false;
    let words: Vec<String> = label
        .split(' ')
        .map(|w| {
            let lw = w.to_lowercase();
            match ABBREVIATIONS.iter().find(|(full, _)| *full == lw) {
                Some((_, a)) => {
                    changed = true;
                    (*a).to_string()
                }
                None => lw,
            }
        })
        .collect();
    changed.then(|| words.join(" "))
}

// ---------------------------------------------------------------------------------------
// Glossary layout: attribute terms, entity terms, "Entity Attribute" terms,
// "Domain Entity Attribute" terms, then numbered variants.
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct TermInfo {
    label: String,
    broader: Option<usize>,
    related: Option<usize>,
    domain: usize,
    definition: String,
}

fn n_attr() -> usize {
    ATTRS.len()
}
fn n_ent() -> usize {
    ENTITIES.len()
}
fn combo_base() -> usize {
    n_attr() + n_ent()
}
fn triple_base() -> usize {
    combo_base() + n_ent() * n_attr()
}
fn variant_base() -> usize {
    triple_base() + DOMAINS.len() * n_ent() * n_attr()
}

fn term_info(i: usize) -> TermInfo {
    let (na, ne) = (n_attr(), n_ent());
    if i < na {
        let (a, _, desc, _) = ATTRS[i];
        TermInfo {
            label: humanize(a),
            broader: None,
            related: None,
            domain: 0,
            definition: format!("The {desc} of a business record."),
        }
    } else if i < combo_base() {
        let (e, d) = ENTITIES[i - na];
        TermInfo {
            label: humanize(e),
            broader: None,
            related: None,
            domain: d,
            definition: format!(
                "A {} as recorded in the company's systems.",
                e.replace('_', " ")
            ),
        }
    } else if i < triple_base() {
        let k = i - combo_base();
        let (e, d) = ENTITIES[k / na];
        let (a, _, desc, _) = ATTRS[k % na];
        TermInfo {
            label: format!("{} {}", humanize(e), humanize(a)),
            broader: Some(na + k / na),
            related: Some(k % na),
            domain: d,
            definition: format!("The {desc} of a {}.", e.replace('_', " ")),
        }
    } else if i < variant_base() {
        let k = i - triple_base();
        let d = k / (ne * na);
        let rest = k % (ne * na);
        let (e, _) = ENTITIES[rest / na];
        let (a, _, desc, _) = ATTRS[rest % na];
        TermInfo {
            label: format!("{} {} {}", humanize(DOMAINS[d]), humanize(e), humanize(a)),
            broader: Some(combo_base() + rest),
            related: None,
            domain: d,
            definition: format!(
                "The {desc} of a {} as defined by the {} domain.",
                e.replace('_', " "),
                DOMAINS[d]
            ),
        }
    } else {
        let k = i - variant_base();
        let base = combo_base() + k % (ne * na);
        let mut t = term_info(base);
        t.label = format!("{} (variant {})", t.label, k / (ne * na) + 2);
        t.broader = Some(base);
        t.related = None;
        t.definition = format!("{} Local variant {}.", t.definition, k / (ne * na) + 2);
        t
    }
}

fn term_slug(i: usize) -> String {
    slug(&term_info(i).label.replace(['(', ')'], ""))
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

// ---------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Bronze,
    Silver,
    Gold,
}

impl Layer {
    fn name(self) -> &'static str {
        match self {
            Layer::Bronze => "bronze",
            Layer::Silver => "silver",
            Layer::Gold => "gold",
        }
    }
}

#[derive(Debug, Clone)]
struct ColInfo {
    name: String,
    attr: Option<usize>,
    dtype: &'static str,
    pk: bool,
    required: bool,
    term: Option<usize>,
    tag: Pii,
}

#[derive(Debug, Clone)]
struct TableInfo {
    layer: Layer,
    system: String,
    domain: usize,
    entity: usize,
    qualified: String,
    iri: String,
    rows: u64,
    cols: Vec<ColInfo>,
}

/// Layer boundaries: [0, s) bronze, [s, g) silver, [g, n) gold.
#[derive(Debug, Clone, Copy)]
struct Layout {
    s: usize,
    g: usize,
    src_systems: usize,
    wh_systems: usize,
}

impl Layout {
    fn new(n: usize) -> Self {
        let s = if n == 0 { 0 } else { (n * 3 / 10).max(1) };
        let g = s + (n - s) * 6 / 10;
        Self {
            s,
            g,
            src_systems: (n / 1000).clamp(2, 50),
            wh_systems: (n / 4000).clamp(1, 20),
        }
    }
    fn layer(&self, i: usize) -> Layer {
        if i < self.s {
            Layer::Bronze
        } else if i < self.g {
            Layer::Silver
        } else {
            Layer::Gold
        }
    }
}

fn system_name(warehouse: bool, k: usize) -> String {
    let list = if warehouse {
        WAREHOUSE_PLATFORMS
    } else {
        SOURCE_PLATFORMS
    };
    format!("{}-{:02}", list[k % list.len()], k + 1)
}

fn system_platform(warehouse: bool, k: usize) -> &'static str {
    let list = if warehouse {
        WAREHOUSE_PLATFORMS
    } else {
        SOURCE_PLATFORMS
    };
    list[k % list.len()]
}

struct Gen<'a> {
    cfg: &'a SyntheticConfig,
    iris: Iris,
    layout: Layout,
}

impl Gen<'_> {
    fn table(&self, i: usize) -> TableInfo {
        let mut rng = SplitMix64::derive(self.cfg.seed, (i as u64) << 1);
        let layer = self.layout.layer(i);
        let entity = rng.index(ENTITIES.len());
        let (ename, edomain) = ENTITIES[entity];
        let domain = if rng.chance(0.8) {
            edomain
        } else {
            rng.index(DOMAINS.len())
        };
        let system = match layer {
            Layer::Bronze => system_name(false, i % self.layout.src_systems),
            _ => system_name(true, i % self.layout.wh_systems),
        };
        let suffix = match layer {
            Layer::Bronze => ["", "_raw", "_export", "_cdc"][rng.index(4)],
            Layer::Silver => {
                ["_clean", "_enriched", "_history", "_snapshot", "_current"][rng.index(5)]
            }
            Layer::Gold => [
                "_daily",
                "_summary",
                "_kpis",
                "_by_region",
                "_monthly",
                "_scorecard",
            ][rng.index(6)],
        };
        let qualified = format!(
            "{}.{}_{}{}_{}",
            layer.name(),
            DOMAINS[domain],
            ename,
            suffix,
            i
        );
        let iri = self.iris.dataset(&system, &qualified);
        let rows = 10u64.pow(3 + rng.below(5) as u32) * (1 + rng.below(9));
        let m = self.cfg.columns_per_table;
        let mut cols: Vec<ColInfo> = Vec::with_capacity(m);
        let mut used = std::collections::HashSet::with_capacity(m * 2);
        for k in 0..m {
            let (name, attr, dtype, pk) = if k == 0 {
                (format!("{ename}_id"), None, "bigint", true)
            } else {
                let a = rng.index(ATTRS.len());
                let base = ATTRS[a].0;
                let name = if rng.chance(0.25) && !base.starts_with(ename) {
                    format!("{ename}_{base}")
                } else {
                    base.to_string()
                };
                (name, Some(a), ATTRS[a].1, false)
            };
            let mut unique = name.clone();
            let mut n = 2;
            while !used.insert(unique.clone()) {
                unique = format!("{name}_{n}");
                n += 1;
            }
            let required = pk || rng.chance(0.6);
            let term = match attr {
                Some(a) if rng.chance(0.35) => {
                    let combo = combo_base() + entity * n_attr() + a;
                    if combo < self.cfg.terms {
                        Some(combo)
                    } else if a < self.cfg.terms {
                        Some(a)
                    } else {
                        None
                    }
                }
                None if combo_base() > n_attr()
                    && n_attr() + entity < self.cfg.terms
                    && rng.chance(0.5) =>
                {
                    Some(n_attr() + entity)
                }
                _ => None,
            };
            let tag = attr.map_or(Pii::None, |a| ATTRS[a].3);
            cols.push(ColInfo {
                name: unique,
                attr,
                dtype,
                pk,
                required,
                term,
                tag,
            });
        }
        TableInfo {
            layer,
            system,
            domain,
            entity,
            qualified,
            iri,
            rows,
            cols,
        }
    }

    /// Upstream table indexes of table `i` (empty for bronze).
    fn inputs(&self, i: usize, rng: &mut SplitMix64) -> Vec<usize> {
        let l = self.layout;
        let layer = l.layer(i);
        if layer == Layer::Bronze {
            return Vec::new();
        }
        let k = 1 + rng.weighted(&[30, 35, 22, 13]);
        let mut out = Vec::with_capacity(k);
        let mut attempts = 0;
        while out.len() < k && attempts < 16 {
            attempts += 1;
            let (lo, hi) = match layer {
                Layer::Silver => {
                    if i > l.s && rng.chance(0.25) {
                        (l.s, i)
                    } else {
                        (0, l.s)
                    }
                }
                _ => match rng.weighted(&[70, 15, 15]) {
                    0 if l.g > l.s => (l.s, l.g),
                    1 if i > l.g => (l.g, i),
                    _ => (0, l.s),
                },
            };
            if hi <= lo {
                continue;
            }
            let span = hi - lo;
            // Hubs: a few popular tables at the start of each range get a share of all reads.
            let pick = if rng.chance(0.2) {
                lo + rng.index((span / 50).max(1))
            } else {
                lo + rng.index(span)
            };
            if pick < i && !out.contains(&pick) {
                out.push(pick);
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// N-Triples writer
// ---------------------------------------------------------------------------------------

struct Nt<W: Write> {
    out: BufWriter<W>,
    triples: u64,
    buf: String,
}

fn escape_literal(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
}

impl<W: Write> Nt<W> {
    fn iri(&mut self, s: &str, p: &str, o: &str) -> io::Result<()> {
        self.triples += 1;
        writeln!(self.out, "<{s}> <{p}> <{o}> .")
    }
    fn lit(&mut self, s: &str, p: &str, o: &str) -> io::Result<()> {
        self.triples += 1;
        self.buf.clear();
        escape_literal(o, &mut self.buf);
        writeln!(self.out, "<{s}> <{p}> \"{}\" .", self.buf)
    }
    fn int(&mut self, s: &str, p: &str, v: u64) -> io::Result<()> {
        self.triples += 1;
        writeln!(self.out, "<{s}> <{p}> \"{v}\"^^<{XSD}integer> .")
    }
    fn long(&mut self, s: &str, p: &str, v: u64) -> io::Result<()> {
        self.triples += 1;
        writeln!(self.out, "<{s}> <{p}> \"{v}\"^^<{XSD}integer> .")
    }
    fn boolean(&mut self, s: &str, p: &str, v: bool) -> io::Result<()> {
        self.triples += 1;
        writeln!(self.out, "<{s}> <{p}> \"{v}\"^^<{XSD}boolean> .")
    }
}

fn gg(local: &str) -> String {
    format!("{GG}{local}")
}

fn check_base(base: &str) -> io::Result<()> {
    let ok = (base.starts_with("http://")
        || base.starts_with("https://")
        || base.starts_with("urn:"))
        && !base.chars().any(|c| {
            c.is_whitespace() || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\')
        });
    if ok {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid base IRI: {base}"),
        ))
    }
}

/// Streams the synthetic catalog as N-Triples into `out`.
pub fn write_ntriples<W: Write>(cfg: &SyntheticConfig, out: W) -> io::Result<SyntheticStats> {
    check_base(&cfg.base)?;
    let iris = Iris::new(&cfg.base);
    let g = Gen {
        cfg,
        iris: iris.clone(),
        layout: Layout::new(cfg.tables),
    };
    let mut w = Nt {
        out: BufWriter::with_capacity(1 << 20, out),
        triples: 0,
        buf: String::new(),
    };
    let rdf_type = format!("{RDF}type");
    let a = rdf_type.as_str();
    let mut stats = SyntheticStats::default();
    let p = |ns: &str, l: &str| format!("{ns}{l}");

    let (dct_title, dct_desc, dct_id) =
        (p(DCT, "title"), p(DCT, "description"), p(DCT, "identifier"));
    let (skos_pref, skos_alt, skos_def, skos_broader, skos_narrower, skos_related, skos_in) = (
        p(SKOS, "prefLabel"),
        p(SKOS, "altLabel"),
        p(SKOS, "definition"),
        p(SKOS, "broader"),
        p(SKOS, "narrower"),
        p(SKOS, "related"),
        p(SKOS, "inScheme"),
    );
    let (g_owner, g_steward, g_domain, g_system, g_layer, g_tag, g_term) = (
        gg("owner"),
        gg("steward"),
        gg("domain"),
        gg("system"),
        gg("layer"),
        gg("tag"),
        gg("term"),
    );
    let (g_column_of, g_data_type, g_ordinal, g_is_pk, g_row_count) = (
        gg("columnOf"),
        gg("dataType"),
        gg("ordinal"),
        gg("isPrimaryKey"),
        gg("rowCount"),
    );
    let (csvw_name, csvw_required, csvw_column) =
        (p(CSVW, "name"), p(CSVW, "required"), p(CSVW, "Column"));
    let (prov_derived, prov_qualified, prov_entity) = (
        p(PROV, "wasDerivedFrom"),
        p(PROV, "qualifiedDerivation"),
        p(PROV, "entity"),
    );
    let (g_ttype, g_tsub, g_tdesc) = (
        gg("transformationType"),
        gg("transformationSubtype"),
        gg("transformationDescription"),
    );
    let g_coldev = gg("ColumnDerivation");
    let g_table = gg("Table");
    let dcat_theme = p(DCAT, "theme");

    // Organisation, domains and people.
    let org = iris.of("org", "synthetic-corp");
    w.iri(&org, a, &p(ORG, "Organization"))?;
    w.lit(&org, &skos_pref, "Synthetic Corp")?;
    let person = |d: usize, role: usize| -> (String, String) {
        let h = mix64(cfg.seed ^ ((d as u64) << 8 | role as u64));
        let first = FIRST[(h % FIRST.len() as u64) as usize];
        let last = LAST[((h >> 20) % LAST.len() as u64) as usize];
        let name = format!("{first} {last}");
        (
            iris.of(
                "agent",
                &format!("{}-{}-{}", slug(first), slug(last), d * 2 + role),
            ),
            name,
        )
    };
    for (d, dname) in DOMAINS.iter().enumerate() {
        let di = iris.of("domain", dname);
        w.iri(&di, a, &gg("Domain"))?;
        w.lit(&di, &skos_pref, &humanize(dname))?;
        w.lit(&di, &dct_desc, &format!("The {dname} data domain."))?;
        w.iri(&di, &p(ORG, "unitOf"), &org)?;
        for role in 0..2 {
            let (pi, name) = person(d, role);
            w.iri(&pi, a, &p(FOAF, "Person"))?;
            w.lit(&pi, &p(FOAF, "name"), &name)?;
            w.iri(
                &pi,
                &p(FOAF, "mbox"),
                &format!("mailto:{}@synthetic.example", slug(&name).replace('-', ".")),
            )?;
            w.iri(&pi, &p(ORG, "memberOf"), &di)?;
            w.iri(&di, if role == 0 { &g_owner } else { &g_steward }, &pi)?;
        }
    }
    // Systems.
    for (warehouse, count) in [(false, g.layout.src_systems), (true, g.layout.wh_systems)] {
        for k in 0..count {
            let si = iris.system(&system_name(warehouse, k));
            w.iri(&si, a, &gg("System"))?;
            w.lit(&si, &dct_title, &system_name(warehouse, k))?;
            w.lit(&si, &gg("platform"), system_platform(warehouse, k))?;
        }
    }
    // Tags.
    let tag_iri = |t: Pii| -> Option<String> {
        let s = match t {
            Pii::None => return None,
            Pii::Email => "pii.email",
            Pii::Phone => "pii.phone",
            Pii::Name => "pii.name",
            Pii::Address => "pii.address",
            Pii::Dob => "pii.dob",
            Pii::Ip => "pii.ip",
            Pii::FreeText => "pii.free_text",
            Pii::Financial => "financial",
        };
        Some(iris.of("tag", s))
    };
    let pii = iris.of("tag", "pii");
    w.iri(&pii, a, &gg("Classification"))?;
    w.lit(&pii, &skos_pref, "pii")?;
    w.lit(&pii, &gg("sensitivity"), "confidential")?;
    w.boolean(&pii, &gg("specialCategory"), false)?;
    for (t, pd, sens) in [
        (Pii::Email, "EmailAddress", "confidential"),
        (Pii::Phone, "TelephoneNumber", "confidential"),
        (Pii::Name, "Name", "confidential"),
        (Pii::Address, "PhysicalAddress", "confidential"),
        (Pii::Dob, "BirthDate", "restricted"),
        (Pii::Ip, "IPAddress", "confidential"),
        (Pii::FreeText, "Communication", "restricted"),
        (Pii::Financial, "", "internal"),
    ] {
        if let Some(ti) = tag_iri(t) {
            w.iri(&ti, a, &gg("Classification"))?;
            w.lit(&ti, &skos_pref, ti.rsplit('/').next().unwrap_or(""))?;
            w.lit(&ti, &gg("sensitivity"), sens)?;
            w.boolean(&ti, &gg("specialCategory"), false)?;
            if !pd.is_empty() {
                w.iri(
                    &ti,
                    &gg("personalDataCategory"),
                    &format!("https://w3id.org/dpv/pd#{pd}"),
                )?;
                w.iri(&ti, &skos_broader, &pii)?;
            }
        }
    }
    // Glossary.
    let scheme = iris.of("glossary", "synthetic-glossary");
    w.iri(&scheme, a, &p(SKOS, "ConceptScheme"))?;
    w.lit(&scheme, &dct_title, "Synthetic business glossary")?;
    let term_iri = |i: usize| iris.of("term", &term_slug(i));
    for i in 0..cfg.terms {
        let t = term_info(i);
        let ti = term_iri(i);
        w.iri(&ti, a, &p(SKOS, "Concept"))?;
        w.iri(&ti, a, &gg("GlossaryTerm"))?;
        w.lit(&ti, &skos_pref, &t.label)?;
        w.lit(&ti, &skos_alt, &t.label.to_lowercase().replace(' ', "_"))?;
        if let Some(ab) = abbreviate(&t.label) {
            w.lit(&ti, &skos_alt, &ab)?;
        }
        w.lit(&ti, &skos_def, &t.definition)?;
        w.iri(&ti, &skos_in, &scheme)?;
        if let Some(b) = t.broader.filter(|b| *b < cfg.terms) {
            let bi = term_iri(b);
            w.iri(&ti, &skos_broader, &bi)?;
            w.iri(&bi, &skos_narrower, &ti)?;
        } else {
            w.iri(&ti, &p(SKOS, "topConceptOf"), &scheme)?;
        }
        if let Some(r) = t.related.filter(|r| *r < cfg.terms) {
            let ri = term_iri(r);
            w.iri(&ti, &skos_related, &ri)?;
            w.iri(&ri, &skos_related, &ti)?;
        }
        let (owner, _) = person(t.domain, 0);
        let (steward, _) = person(t.domain, 1);
        w.iri(&ti, &g_domain, &iris.of("domain", DOMAINS[t.domain]))?;
        w.iri(&ti, &g_owner, &owner)?;
        w.iri(&ti, &g_steward, &steward)?;
        stats.terms += 1;
    }

    // Datasets, columns and lineage.
    let mut col_iris: Vec<String> = Vec::with_capacity(cfg.columns_per_table);
    for i in 0..cfg.tables {
        let t = g.table(i);
        let ti = &t.iri;
        w.iri(ti, a, &g_table)?;
        w.lit(ti, &dct_id, &t.qualified)?;
        w.lit(
            ti,
            &dct_title,
            &humanize(t.qualified.split('.').nth(1).unwrap_or(&t.qualified)),
        )?;
        let (ename, _) = ENTITIES[t.entity];
        w.lit(
            ti,
            &dct_desc,
            &format!(
                "{} {} data of the {} domain, {} layer, held in {}.",
                humanize(ename),
                match t.layer {
                    Layer::Bronze => "raw",
                    Layer::Silver => "cleaned and conformed",
                    Layer::Gold => "aggregated reporting",
                },
                DOMAINS[t.domain],
                t.layer.name(),
                t.system
            ),
        )?;
        w.lit(ti, &g_layer, t.layer.name())?;
        w.iri(ti, &g_system, &iris.system(&t.system))?;
        w.iri(ti, &g_domain, &iris.of("domain", DOMAINS[t.domain]))?;
        w.iri(ti, &g_owner, &person(t.domain, 0).0)?;
        w.iri(ti, &g_steward, &person(t.domain, 1).0)?;
        w.long(ti, &g_row_count, t.rows)?;
        if n_attr() + t.entity < cfg.terms {
            w.iri(ti, &dcat_theme, &term_iri(n_attr() + t.entity))?;
        }
        if t.cols
            .iter()
            .any(|c| !matches!(c.tag, Pii::None | Pii::Financial))
        {
            w.iri(ti, &g_tag, &pii)?;
        }
        stats.tables += 1;
        col_iris.clear();
        for (k, c) in t.cols.iter().enumerate() {
            let ci = Iris::column(ti, &c.name);
            w.iri(&ci, a, &csvw_column)?;
            w.lit(&ci, &csvw_name, &c.name)?;
            w.iri(&ci, &g_column_of, ti)?;
            w.lit(&ci, &g_data_type, c.dtype)?;
            w.int(&ci, &g_ordinal, k as u64 + 1)?;
            w.boolean(&ci, &csvw_required, c.required)?;
            w.boolean(&ci, &g_is_pk, c.pk)?;
            let desc = match c.attr {
                Some(at) => format!(
                    "The {} of the {} ({} layer, {} domain).",
                    ATTRS[at].2,
                    ename.replace('_', " "),
                    t.layer.name(),
                    DOMAINS[t.domain]
                ),
                None => format!(
                    "Identifier of the {} (primary key).",
                    ename.replace('_', " ")
                ),
            };
            w.lit(&ci, &dct_desc, &desc)?;
            if let Some(term) = c.term {
                w.iri(&ci, &g_term, &term_iri(term))?;
            }
            if let Some(tag) = tag_iri(c.tag) {
                w.iri(&ci, &g_tag, &tag)?;
            }
            col_iris.push(ci);
            stats.columns += 1;
        }
        if !cfg.lineage {
            continue;
        }
        let mut rng = SplitMix64::derive(cfg.seed, ((i as u64) << 1) | 1);
        let inputs = g.inputs(i, &mut rng);
        if inputs.is_empty() {
            continue;
        }
        let ups: Vec<TableInfo> = inputs.iter().map(|u| g.table(*u)).collect();
        for u in &ups {
            w.iri(ti, &prov_derived, &u.iri)?;
            stats.table_edges += 1;
        }
        for (k, c) in t.cols.iter().enumerate() {
            let n_sources = if c.pk {
                1
            } else if rng.chance(0.55) {
                if rng.chance(0.3) { 2 } else { 1 }
            } else {
                0
            };
            let mut done: Vec<String> = Vec::with_capacity(2);
            for s in 0..n_sources {
                let u = if c.pk && s == 0 {
                    &ups[0]
                } else {
                    &ups[rng.index(ups.len())]
                };
                if u.cols.is_empty() {
                    continue;
                }
                let same = u.cols.iter().find(|x| x.attr.is_some() && x.attr == c.attr);
                let (src, subtype) = if c.pk {
                    (
                        &u.cols[0],
                        if t.entity == u.entity {
                            "IDENTITY"
                        } else {
                            "JOIN"
                        },
                    )
                } else if let Some(x) = same {
                    let st = if x.dtype != c.dtype {
                        "TRANSFORMATION"
                    } else if t.layer == Layer::Gold && c.dtype.starts_with("decimal") {
                        "AGGREGATION"
                    } else {
                        "IDENTITY"
                    };
                    (x, st)
                } else {
                    let x = &u.cols[rng.index(u.cols.len())];
                    let st = match rng.below(10) {
                        0..=4 => "TRANSFORMATION",
                        5 | 6 => "AGGREGATION",
                        7 => "CONDITIONAL",
                        8 => "WINDOW",
                        _ => SUBTYPES[4 + rng.index(4)],
                    };
                    (x, st)
                };
                let src_iri = Iris::column(&u.iri, &src.name);
                if done.contains(&src_iri) {
                    continue;
                }
                let indirect = !matches!(subtype, "IDENTITY" | "TRANSFORMATION" | "AGGREGATION");
                let tgt = &col_iris[k];
                let id = mix64(hash_str(tgt) ^ hash_str(&src_iri).rotate_left(17));
                let li = iris.lineage(id);
                w.iri(&li, a, &g_coldev)?;
                w.iri(&li, &prov_entity, &src_iri)?;
                w.iri(
                    &li,
                    &g_ttype,
                    &gg(if indirect { "INDIRECT" } else { "DIRECT" }),
                )?;
                w.iri(&li, &g_tsub, &gg(subtype))?;
                if subtype != "IDENTITY" && rng.chance(0.2) {
                    w.lit(
                        &li,
                        &g_tdesc,
                        &format!(
                            "{} of {}.{}",
                            subtype.to_lowercase().replace('_', " "),
                            u.qualified,
                            src.name
                        ),
                    )?;
                }
                w.iri(tgt, &prov_qualified, &li)?;
                w.iri(tgt, &prov_derived, &src_iri)?;
                stats.column_edges += 1;
                done.push(src_iri);
            }
        }
    }
    w.out.flush()?;
    stats.triples = w.triples;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_slugs_are_unique_for_the_first_thousands() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..variant_base() + 200 {
            assert!(
                seen.insert(term_slug(i)),
                "duplicate term slug {}",
                term_slug(i)
            );
        }
    }

    #[test]
    fn abbreviations() {
        assert_eq!(
            abbreviate("Customer Net Amount").as_deref(),
            Some("cust net amt")
        );
        assert_eq!(abbreviate("Status"), None);
    }
}
