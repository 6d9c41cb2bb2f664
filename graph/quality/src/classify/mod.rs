//! PII classification of columns.
//!
//! Each column is judged from two kinds of signal:
//!
//! - its **name** ([`names`]): phrases in seven languages, with vetoes for names that are
//!   about the thing rather than the thing (`phone_model`, `email_verified`);
//! - a **sample of its values** ([`values`]): validators with checksums (Luhn, IBAN mod-97,
//!   national-id check digits), formats (email, phone, IP, MAC, postal codes, dates of birth
//!   judged by plausibility), dictionaries of given names, family names, places and value
//!   sets (gender, religion, ethnic origin), and a scan of free text for embedded PII.
//!
//! A validated value pattern that most values follow wins on its own. Otherwise the name's
//! category is kept when the values are plausible for it. Otherwise a dictionary match
//! decides. Every result carries a confidence and the evidence behind it: the phrase that
//! matched, the validator, how many sampled values matched, and a few masked examples.

mod category;
mod dict;
pub(crate) mod names;
pub(crate) mod values;

use std::collections::HashSet;

use serde::Serialize;

pub use category::{Category, DPV_PD};
use names::{Name, fold, name_signals};

/// At most this many values of a column are looked at.
pub const MAX_SAMPLE: usize = 1_000;

/// A column to classify: its name, its declared type if any, and a sample of its values.
#[derive(Debug, Clone, Default)]
pub struct ColumnSample {
    /// The column's name.
    pub name: String,
    /// The declared or inferred type, if known.
    pub data_type: Option<String>,
    /// Non-null sample values, as text.
    pub values: Vec<String>,
}

impl ColumnSample {
    /// A column with a name and values.
    pub fn new(name: impl Into<String>, values: Vec<String>) -> Self {
        Self {
            name: name.into(),
            data_type: None,
            values,
        }
    }
}

/// Why a column got its label.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evidence {
    /// The column-name phrase that matched, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_match: Option<String>,
    /// The value pattern or dictionary that matched, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// How many sampled values matched it.
    pub values_matched: usize,
    /// How many non-null values were sampled.
    pub values_sampled: usize,
    /// A few matching values, masked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

/// One column's label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnClassification {
    /// The column's name.
    pub name: String,
    /// The category id (`none` when the column holds no personal data).
    pub category: Category,
    /// The DPV personal-data concept.
    pub dpv: Option<String>,
    /// Whether it is a special category of personal data (GDPR Art. 9).
    pub special_category: bool,
    /// How sure the classifier is, from 0 to 1.
    pub confidence: f64,
    /// Why.
    pub evidence: Evidence,
}

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// Classifies the columns of one table together (a `lat` column beside a `lon` column is
/// geolocation even when each alone is ambiguous).
pub fn classify_table(columns: &[ColumnSample]) -> Vec<ColumnClassification> {
    let names: HashSet<String> = columns
        .iter()
        .flat_map(|c| Name::new(&c.name).tokens)
        .collect();
    columns
        .iter()
        .map(|c| {
            let mut r = classify_column(c);
            // `long` is geolocation only beside a latitude.
            if r.category == Category::None
                && Name::new(&c.name)
                    .tokens
                    .iter()
                    .any(|t| t == "long" || t == "longitude")
                && (names.contains("lat") || names.contains("latitude"))
            {
                let stats = Stats::of(&c.values);
                if stats.n == 0 || stats.ratio(stats.coordinate_lon) >= 0.8 {
                    r = result(
                        c,
                        Category::Geolocation,
                        0.7,
                        Evidence {
                            name_match: Some("long (beside a latitude)".to_owned()),
                            pattern: Some("decimal degrees".to_owned()),
                            values_matched: stats.coordinate_lon,
                            values_sampled: stats.n,
                            examples: Vec::new(),
                        },
                    );
                }
            }
            r
        })
        .collect()
}

fn result(
    c: &ColumnSample,
    category: Category,
    confidence: f64,
    evidence: Evidence,
) -> ColumnClassification {
    ColumnClassification {
        name: c.name.clone(),
        category,
        dpv: category.dpv(),
        special_category: category.special_category(),
        confidence: (confidence.clamp(0.0, 1.0) * 100.0).round() / 100.0,
        evidence,
    }
}

/// Counts of what the sampled values look like.
#[derive(Debug, Default)]
struct Stats {
    n: usize,
    distinct: usize,
    email: usize,
    phone: usize,
    card: usize,
    iban: usize,
    national: usize,
    national_kind: Option<&'static str>,
    national_digits: usize,
    ip: usize,
    mac: usize,
    postal_distinct: usize,
    postal_any: usize,
    dates: usize,
    dob_years: usize,
    min_year: i32,
    max_year: i32,
    crypt_hash: usize,
    hex_digest: usize,
    uuid: usize,
    profile_url: usize,
    url: usize,
    numeric: usize,
    coordinate_lat: usize,
    coordinate_lon: usize,
    coordinate_pair: usize,
    plate: usize,
    passport: usize,
    icd10: usize,
    street: usize,
    alphabetic: usize,
    multi_word: usize,
    first_names: usize,
    last_names: usize,
    full_names: usize,
    cities: usize,
    gender: usize,
    religion: usize,
    ethnicity: usize,
    long_text: usize,
    text_with_pii: usize,
    no_spaces: usize,
}

fn current_year() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    1970 + (secs / 31_556_952) as i32
}

impl Stats {
    fn of(values: &[String]) -> Self {
        let year = current_year();
        let mut s = Stats {
            min_year: i32::MAX,
            max_year: i32::MIN,
            ..Stats::default()
        };
        let mut seen = HashSet::new();
        for v in values.iter().take(MAX_SAMPLE) {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            s.n += 1;
            seen.insert(v);
            let folded = fold(v);
            let words: Vec<&str> = folded
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|w| !w.is_empty())
                .collect();
            s.email += usize::from(values::is_email(v));
            s.phone += usize::from(
                values::is_phone(v)
                    && !values::is_us_ssn(v)
                    && !values::is_distinctive_postal_code(v),
            );
            s.card += usize::from(values::is_credit_card(v));
            s.iban += usize::from(values::is_iban(v));
            if let Some(kind) = values::national_id(v) {
                s.national += 1;
                s.national_kind.get_or_insert(kind);
            }
            if let Some(kind) = values::national_id_digits(v) {
                s.national_digits += 1;
                s.national_kind.get_or_insert(kind);
            }
            s.ip += usize::from(values::is_ipv4(v) || values::is_ipv6(v));
            s.mac += usize::from(values::is_mac(v));
            s.postal_distinct += usize::from(values::is_distinctive_postal_code(v));
            s.postal_any += usize::from(values::is_postal_code(v));
            if let Some((y, _, _)) = values::parse_date(v) {
                s.dates += 1;
                s.min_year = s.min_year.min(y);
                s.max_year = s.max_year.max(y);
                let age = year - y;
                s.dob_years += usize::from((14..=105).contains(&age));
            }
            s.crypt_hash += usize::from(values::is_password_hash(v));
            s.hex_digest += usize::from(values::is_hex_digest(v));
            s.uuid += usize::from(values::is_uuid(v));
            s.profile_url += usize::from(values::is_profile_url(v));
            s.url += usize::from(values::is_url(v));
            s.numeric += usize::from(values::parse_number(v).is_some());
            s.coordinate_lat += usize::from(values::is_coordinate(v, 90.0));
            s.coordinate_lon += usize::from(values::is_coordinate(v, 180.0));
            s.coordinate_pair += usize::from(values::is_coordinate_pair(v));
            s.plate += usize::from(values::is_plate_like(v));
            s.passport += usize::from(values::is_passport_like(v));
            s.icd10 += usize::from(values::is_icd10(v));
            s.street += usize::from(values::is_street_address(v));
            let alphabetic = folded
                .chars()
                .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '.' | '(' | ')'))
                && folded.chars().any(char::is_alphabetic);
            s.alphabetic += usize::from(alphabetic);
            s.no_spaces += usize::from(!v.contains(char::is_whitespace));
            if alphabetic {
                let clean: Vec<String> = words
                    .iter()
                    .map(|w| w.trim_matches(|c: char| !c.is_alphabetic()).to_owned())
                    .filter(|w| !w.is_empty())
                    .collect();
                if clean.len() == 1 {
                    s.first_names += usize::from(dict::is_first_name(&clean[0]));
                    s.last_names += usize::from(dict::is_last_name(&clean[0]));
                } else if (2..=4).contains(&clean.len()) {
                    s.multi_word += 1;
                    let first = dict::is_first_name(&clean[0])
                        || (clean.len() > 2 && dict::is_first_name(&clean[1]));
                    let last = clean.last().is_some_and(|w| dict::is_last_name(w));
                    s.full_names += usize::from(first || last);
                }
                s.cities += usize::from(dict::is_city(&folded));
            }
            s.gender += usize::from(dict::in_set("gender", &folded));
            s.religion += usize::from(dict::in_set("religion", &folded));
            s.ethnicity += usize::from(dict::in_set("ethnic_origin", &folded));
            if v.len() >= 25 && words.len() >= 4 {
                s.long_text += 1;
                let pii = values::contains_email(v)
                    || values::contains_phone(v)
                    || values::contains_credit_card(v)
                    || v.split_whitespace().any(|w| {
                        let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
                        values::is_iban(w) || values::is_us_ssn(w)
                    });
                s.text_with_pii += usize::from(pii);
            }
        }
        s.distinct = seen.len();
        s
    }

    fn ratio(&self, x: usize) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            x as f64 / self.n as f64
        }
    }
}

/// Keeps the first character and the last two (or the domain of an email).
pub fn mask(v: &str) -> String {
    let v = v.trim();
    if let Some((local, domain)) = v.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let chars: Vec<char> = v.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..1].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}***{tail}")
}

fn examples(values: &[String], matches: impl Fn(&str) -> bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values.iter().take(MAX_SAMPLE) {
        if out.len() == 3 {
            break;
        }
        if matches(v) {
            let m = mask(v);
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// A value pattern strong enough to decide on its own.
struct Strong {
    category: Category,
    pattern: &'static str,
    matched: usize,
    threshold: f64,
}

fn strong_patterns(s: &Stats) -> Vec<Strong> {
    let mut v = vec![
        Strong {
            category: Category::Email,
            pattern: "email address",
            matched: s.email,
            threshold: 0.6,
        },
        Strong {
            category: Category::CreditCard,
            pattern: "card number with issuer prefix and Luhn check",
            matched: s.card,
            threshold: 0.6,
        },
        Strong {
            category: Category::Iban,
            pattern: "IBAN with mod-97 check",
            matched: s.iban,
            threshold: 0.6,
        },
        Strong {
            category: Category::IpAddress,
            pattern: "IPv4 or IPv6 address",
            matched: s.ip,
            threshold: 0.6,
        },
        Strong {
            category: Category::MacAddress,
            pattern: "MAC address",
            matched: s.mac,
            threshold: 0.6,
        },
        Strong {
            category: Category::NationalId,
            pattern: s.national_kind.unwrap_or("national id"),
            matched: s.national,
            threshold: 0.6,
        },
        Strong {
            category: Category::PersonalUrl,
            pattern: "personal profile URL",
            matched: s.profile_url,
            threshold: 0.6,
        },
        Strong {
            category: Category::PasswordHash,
            pattern: "password hash encoding",
            matched: s.crypt_hash,
            threshold: 0.6,
        },
        Strong {
            category: Category::Geolocation,
            pattern: "latitude, longitude pair",
            matched: s.coordinate_pair,
            threshold: 0.6,
        },
        Strong {
            category: Category::Phone,
            pattern: "telephone number",
            matched: s.phone,
            threshold: 0.6,
        },
        Strong {
            category: Category::PostalCode,
            pattern: "postal code format",
            matched: s.postal_distinct,
            threshold: 0.6,
        },
        Strong {
            category: Category::StreetAddress,
            pattern: "house number and street word",
            matched: s.street,
            threshold: 0.5,
        },
    ];
    // Free text counts when a fair share of long values embed PII.
    if s.ratio(s.long_text) >= 0.6
        && s.long_text > 0
        && s.text_with_pii as f64 / s.long_text as f64 >= 0.1
    {
        v.push(Strong {
            category: Category::FreeTextWithPii,
            pattern: "PII inside free text",
            matched: s.text_with_pii,
            threshold: 0.0,
        });
    }
    v
}

/// Whether values are plausible for the category the name suggests; `Some((matched,
/// pattern))` when they are, with what supported them.
fn plausible(category: Category, s: &Stats) -> Option<(usize, &'static str)> {
    if s.n == 0 {
        // Without values the name decides, except for free text, which needs PII in it.
        return (category != Category::FreeTextWithPii).then_some((0, "column name only"));
    }
    let r = |x: usize| s.ratio(x);
    let ok = |cond: bool, x: usize, p: &'static str| cond.then_some((x, p));
    match category {
        Category::Email => ok(r(s.email) >= 0.3, s.email, "email address"),
        Category::Phone => ok(
            r(s.phone) >= 0.3 || (r(s.numeric) >= 0.8 && r(s.dates) < 0.2 && s.distinct > 1),
            s.phone,
            "telephone number",
        ),
        Category::CreditCard => ok(r(s.card) >= 0.3, s.card, "Luhn check"),
        Category::Iban => ok(r(s.iban) >= 0.3, s.iban, "IBAN mod-97"),
        Category::IpAddress => ok(r(s.ip) >= 0.3, s.ip, "IP address"),
        Category::MacAddress => ok(r(s.mac) >= 0.3, s.mac, "MAC address"),
        Category::PostalCode => ok(
            r(s.postal_any) >= 0.6
                || r(s.alphabetic) < 0.5 && r(s.no_spaces) > 0.5 && r(s.dates) < 0.2,
            s.postal_any,
            "postal code",
        ),
        Category::DateOfBirth => ok(
            r(s.dates) >= 0.8 && r(s.dob_years) >= 0.7,
            s.dob_years,
            "plausible birth date",
        ),
        Category::NationalId => {
            let matched = s.national + s.national_digits;
            ok(
                (r(matched) >= 0.3 || r(s.no_spaces) >= 0.8) && r(s.uuid) < 0.5 && r(s.dates) < 0.2,
                matched,
                s.national_kind.unwrap_or("identifier layout"),
            )
        }
        Category::PassportNumber => ok(r(s.passport) >= 0.5, s.passport, "passport number layout"),
        Category::LicensePlate => ok(r(s.plate) >= 0.5, s.plate, "licence plate layout"),
        Category::BankAccount => ok(
            r(s.numeric) >= 0.5 || r(s.iban) >= 0.3 || r(s.no_spaces) >= 0.8,
            s.numeric.max(s.iban),
            "account number",
        ),
        Category::Geolocation => ok(
            r(s.coordinate_lon) >= 0.8 || r(s.coordinate_pair) >= 0.6 || r(s.numeric) >= 0.9,
            s.coordinate_lon.max(s.coordinate_pair),
            "decimal degrees",
        ),
        Category::Salary => ok(r(s.numeric) >= 0.9, s.numeric, "amount"),
        Category::PersonalUrl => ok(r(s.url) >= 0.5, s.url, "URL"),
        Category::PasswordHash => ok(
            r(s.crypt_hash + s.hex_digest) >= 0.5 || r(s.no_spaces) >= 0.9,
            s.crypt_hash + s.hex_digest,
            "hash or secret",
        ),
        Category::Username => ok(
            r(s.no_spaces) >= 0.8 && r(s.email) < 0.5 && r(s.uuid) < 0.5,
            s.no_spaces,
            "single token",
        ),
        Category::FirstName | Category::LastName | Category::City => ok(
            r(s.alphabetic) >= 0.8,
            s.first_names.max(s.last_names).max(s.cities),
            "alphabetic",
        ),
        Category::PersonName => ok(
            r(s.alphabetic) >= 0.8
                && (r(s.multi_word) >= 0.5
                    || r(s.first_names + s.last_names + s.full_names) >= 0.3),
            s.full_names + s.first_names + s.last_names,
            "names",
        ),
        Category::StreetAddress => ok(
            r(s.street) >= 0.2 || r(s.multi_word) >= 0.5,
            s.street,
            "street address",
        ),
        Category::Gender => ok(
            s.distinct <= 12 && (r(s.gender) >= 0.5 || r(s.numeric) >= 0.9),
            s.gender,
            "gender values",
        ),
        Category::Religion => ok(
            s.distinct <= 60 && r(s.alphabetic) >= 0.8,
            s.religion,
            "religion values",
        ),
        Category::EthnicOrigin => ok(
            s.distinct <= 60 && r(s.alphabetic) >= 0.8,
            s.ethnicity,
            "ethnic-origin values",
        ),
        Category::Health => ok(
            r(s.numeric) < 0.5 || r(s.icd10) >= 0.5,
            s.icd10,
            "health information",
        ),
        Category::FreeTextWithPii => (s.text_with_pii > 0 && r(s.long_text) >= 0.3)
            .then_some((s.text_with_pii, "PII inside free text")),
        Category::None => None,
    }
}

/// Dictionary and plausibility signals, for columns whose name says nothing.
fn weak_patterns(s: &Stats) -> Option<(Category, usize, &'static str, f64)> {
    let r = |x: usize| s.ratio(x);
    let span = if s.dates == 0 {
        0
    } else {
        s.max_year.saturating_sub(s.min_year)
    };
    let candidates = [
        (
            Category::DateOfBirth,
            s.dob_years,
            "plausible birth dates",
            r(s.dates) >= 0.9 && r(s.dob_years) >= 0.9 && span >= 15,
        ),
        (
            Category::Gender,
            s.gender,
            "gender values",
            r(s.gender) >= 0.9 && s.distinct <= 8 && s.n >= 10,
        ),
        (
            Category::Religion,
            s.religion,
            "religion values",
            r(s.religion) >= 0.8 && s.distinct >= 2,
        ),
        (
            Category::EthnicOrigin,
            s.ethnicity,
            "ethnic-origin values",
            r(s.ethnicity) >= 0.8 && s.distinct >= 2,
        ),
        (
            Category::PersonName,
            s.full_names,
            "given and family names",
            r(s.full_names) >= 0.5 && r(s.multi_word) >= 0.7,
        ),
        (
            Category::FirstName,
            s.first_names,
            "given names",
            r(s.first_names) >= 0.5 && r(s.first_names) >= r(s.last_names),
        ),
        (
            Category::LastName,
            s.last_names,
            "family names",
            r(s.last_names) >= 0.4,
        ),
        (Category::City, s.cities, "place names", r(s.cities) >= 0.5),
    ];
    candidates
        .into_iter()
        .find(|c| c.3)
        .map(|(cat, m, p, _)| (cat, m, p, 0.4 + 0.4 * r(m)))
}

/// Classifies one column from its name and its values.
pub fn classify_column(c: &ColumnSample) -> ColumnClassification {
    let name = Name::new(&c.name);
    let signals = name_signals(&name);
    let stats = Stats::of(&c.values);
    let matcher = |cat: Category| -> Box<dyn Fn(&str) -> bool> {
        match cat {
            Category::Email => Box::new(values::is_email),
            Category::CreditCard => Box::new(values::is_credit_card),
            Category::Iban => Box::new(values::is_iban),
            Category::IpAddress => Box::new(|v| values::is_ipv4(v) || values::is_ipv6(v)),
            Category::MacAddress => Box::new(values::is_mac),
            Category::NationalId => Box::new(|v| {
                values::national_id(v).is_some() || values::national_id_digits(v).is_some()
            }),
            Category::PersonalUrl => Box::new(values::is_url),
            Category::PasswordHash => {
                Box::new(|v| values::is_password_hash(v) || values::is_hex_digest(v))
            }
            Category::Geolocation => {
                Box::new(|v| values::is_coordinate_pair(v) || values::is_coordinate(v, 180.0))
            }
            Category::Phone => Box::new(values::is_phone),
            Category::PostalCode => Box::new(values::is_postal_code),
            Category::StreetAddress => Box::new(values::is_street_address),
            Category::FreeTextWithPii => Box::new(|v| {
                values::contains_email(v)
                    || values::contains_phone(v)
                    || values::contains_credit_card(v)
            }),
            Category::DateOfBirth => Box::new(values::looks_like_date),
            _ => Box::new(|_| true),
        }
    };
    let evidence =
        |name_match: Option<&str>, pattern: Option<&str>, matched: usize, cat: Category| Evidence {
            name_match: name_match.map(str::to_owned),
            pattern: pattern.map(str::to_owned),
            values_matched: matched,
            values_sampled: stats.n,
            examples: if matched > 0 {
                examples(&c.values, matcher(cat))
            } else {
                Vec::new()
            },
        };

    // 1. A validated value pattern that most values follow.
    let strong = strong_patterns(&stats)
        .into_iter()
        .filter(|p| p.matched > 0 && stats.ratio(p.matched) >= p.threshold)
        // The first (most specific) pattern wins a tie.
        .reduce(|best, p| {
            if stats.ratio(p.matched) > stats.ratio(best.matched) {
                p
            } else {
                best
            }
        });
    if let Some(p) = strong {
        let agreeing = signals
            .iter()
            .find(|(cat, _)| *cat == p.category)
            .map(|(_, phrase)| *phrase);
        let ratio = stats.ratio(p.matched);
        let confidence = if p.category == Category::FreeTextWithPii {
            0.5 + 0.4 * (p.matched as f64 / stats.long_text.max(1) as f64)
        } else {
            0.45 + 0.45 * ratio
        } + if agreeing.is_some() { 0.1 } else { 0.0 };
        return result(
            c,
            p.category,
            confidence,
            evidence(agreeing, Some(p.pattern), p.matched, p.category),
        );
    }

    // 2. The name, when the values are plausible for it.
    for (cat, phrase) in &signals {
        if let Some((matched, pattern)) = plausible(*cat, &stats) {
            let support = if stats.n == 0 {
                0.0
            } else {
                stats.ratio(matched).min(1.0)
            };
            let confidence = if stats.n == 0 {
                0.6
            } else {
                0.65 + 0.3 * support
            };
            let pattern = (stats.n > 0).then_some(pattern);
            return result(
                c,
                *cat,
                confidence,
                evidence(Some(phrase), pattern, matched, *cat),
            );
        }
    }

    // 3. Dictionaries and plausibility alone.
    if let Some((cat, matched, pattern, confidence)) = weak_patterns(&stats) {
        let ev = Evidence {
            name_match: None,
            pattern: Some(pattern.to_owned()),
            values_matched: matched,
            values_sampled: stats.n,
            examples: examples(&c.values, |v| match cat {
                Category::DateOfBirth => values::looks_like_date(v),
                _ => true,
            }),
        };
        return result(c, cat, confidence, ev);
    }

    let confidence = if stats.n == 0 { 0.5 } else { 0.8 };
    result(
        c,
        Category::None,
        confidence,
        Evidence {
            values_sampled: stats.n,
            ..Evidence::default()
        },
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cat(name: &str, values: &[&str]) -> Category {
        classify_column(&ColumnSample::new(
            name,
            values.iter().map(|s| (*s).to_owned()).collect(),
        ))
        .category
    }

    #[test]
    fn names_in_seven_languages() {
        for (name, expected) in [
            ("email_address", Category::Email),
            ("custEmailAddr", Category::Email),
            ("Telefonnummer", Category::Phone),
            ("numero_de_telephone", Category::Phone),
            ("Geburtsdatum", Category::DateOfBirth),
            ("fecha_de_nacimiento", Category::DateOfBirth),
            ("data_di_nascita", Category::DateOfBirth),
            ("voornaam", Category::FirstName),
            ("prenom", Category::FirstName),
            ("cognome", Category::LastName),
            ("sobrenome", Category::LastName),
            ("Postleitzahl", Category::PostalCode),
            ("codigo_postal", Category::PostalCode),
            ("customer_name", Category::PersonName),
            ("ip_address", Category::IpAddress),
            ("iban", Category::Iban),
            ("religion", Category::Religion),
            ("geslacht", Category::Gender),
            ("kenteken", Category::LicensePlate),
        ] {
            assert_eq!(cat(name, &[]), expected, "{name}");
        }
    }

    #[test]
    fn misleading_names_and_hard_negatives() {
        assert_eq!(
            cat("phone_model", &["iPhone 14", "Pixel 8", "Galaxy S23"]),
            Category::None
        );
        assert_eq!(
            cat("email_verified", &["true", "false", "true"]),
            Category::None
        );
        assert_eq!(
            cat(
                "product_name",
                &["Ergonomic Steel Chair", "Small Wooden Table"]
            ),
            Category::None
        );
        assert_eq!(
            cat("order_id", &["123e4567-e89b-12d3-a456-426614174000"]),
            Category::None
        );
        assert_eq!(
            cat("order_date", &["2025-01-03", "2025-02-11", "2024-12-24"]),
            Category::None
        );
        assert_eq!(cat("sku", &["SKU-12345-XL", "SKU-99881-S"]), Category::None);
    }

    #[test]
    fn values_alone() {
        assert_eq!(
            cat("c1", &["ada@example.com", "alan@example.org"]),
            Category::Email
        );
        assert_eq!(
            cat("c2", &["4111 1111 1111 1111", "378282246310005"]),
            Category::CreditCard
        );
        assert_eq!(
            cat(
                "c3",
                &["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432"]
            ),
            Category::Iban
        );
        assert_eq!(
            cat("c4", &["123-45-6789", "219-09-9999"]),
            Category::NationalId
        );
        assert_eq!(
            cat(
                "c5",
                &["1961-04-12", "1975-11-02", "1990-01-30", "1948-07-07"]
            ),
            Category::DateOfBirth
        );
        assert_eq!(
            cat(
                "notes",
                &[
                    "Customer asked to be called back on +44 20 7946 0958 after 5pm",
                    "Sent invoice again, no reply from the customer yet"
                ]
            ),
            Category::FreeTextWithPii
        );
    }

    #[test]
    fn masking_keeps_little() {
        assert_eq!(mask("ada@example.com"), "a***@example.com");
        assert_eq!(mask("4111111111111111"), "4***11");
        assert_eq!(mask("abc"), "***");
    }
}
