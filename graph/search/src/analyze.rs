//! Text analysis shared by the full-text index, the query side and the built-in embedder.
//!
//! Catalog names are identifiers, not prose: `custEmailAddr2`, `order_ts`, `dim.customer`.
//! [`words`] splits them at underscores, dots, dashes, spaces, case changes and digit runs;
//! [`expand`] adds the long form of common abbreviations (`cust` gives `customer`, `dob`
//! gives `date of birth`); [`stem`] reduces English inflections (`orders`, `ordered` give
//! `order`). [`analyze`] chains the three and is what both the index and queries use, so a
//! document and a query always agree on their tokens.

/// Abbreviations and short forms seen in column and table names, with their long forms.
/// Lower case, each key once. A long form of several words expands to all of them.
pub const ABBREVIATIONS: &[(&str, &str)] = &[
    ("acct", "account"),
    ("acc", "account"),
    ("addr", "address"),
    ("adr", "address"),
    ("amt", "amount"),
    ("aov", "average order value"),
    ("arr", "annual recurring revenue"),
    ("avg", "average"),
    ("bal", "balance"),
    ("bday", "birthday"),
    ("cat", "category"),
    ("catg", "category"),
    ("ccy", "currency"),
    ("cid", "customer identifier"),
    ("clv", "customer lifetime value"),
    ("cnt", "count"),
    ("cntry", "country"),
    ("ctry", "country"),
    ("cogs", "cost of goods sold"),
    ("conv", "conversion"),
    ("cr", "credit"),
    ("crt", "created"),
    ("csat", "customer satisfaction"),
    ("ctr", "click through rate"),
    ("cur", "currency"),
    ("curr", "currency"),
    ("cust", "customer"),
    ("cx", "customer"),
    ("dept", "department"),
    ("desc", "description"),
    ("disc", "discount"),
    ("dob", "date of birth"),
    ("dr", "debit"),
    ("dt", "date"),
    ("dte", "date"),
    ("eml", "email"),
    ("emp", "employee"),
    ("fname", "first name"),
    ("fx", "foreign exchange"),
    ("gmv", "gross merchandise value"),
    ("id", "identifier"),
    ("ident", "identifier"),
    ("inv", "invoice"),
    ("ip", "ip address"),
    ("kpi", "key performance indicator"),
    ("lname", "last name"),
    ("loc", "location"),
    ("ltv", "lifetime value"),
    ("mgr", "manager"),
    ("mkt", "marketing"),
    ("mktg", "marketing"),
    ("mob", "mobile"),
    ("mrr", "monthly recurring revenue"),
    ("msg", "message"),
    ("mth", "month"),
    ("nbr", "number"),
    ("nm", "name"),
    ("no", "number"),
    ("num", "number"),
    ("org", "organisation"),
    ("ord", "order"),
    ("pct", "percent"),
    ("perc", "percent"),
    ("ph", "phone"),
    ("phn", "phone"),
    ("pii", "personal data"),
    ("pk", "primary key"),
    ("pmt", "payment"),
    ("pos", "point of sale"),
    ("prc", "price"),
    ("prd", "product"),
    ("prod", "product"),
    ("pymt", "payment"),
    ("qty", "quantity"),
    ("rcpt", "receipt"),
    ("ref", "reference"),
    ("rev", "revenue"),
    ("sku", "stock keeping unit"),
    ("ssn", "social security number"),
    ("stat", "status"),
    ("sts", "status"),
    ("tel", "telephone"),
    ("tkt", "ticket"),
    ("ts", "timestamp"),
    ("tx", "transaction"),
    ("txn", "transaction"),
    ("uom", "unit of measure"),
    ("usr", "user"),
    ("val", "value"),
    ("vol", "volume"),
    ("wh", "warehouse"),
    ("yr", "year"),
    ("zip", "postal code"),
];

/// The long form of an abbreviation, if it is one.
pub fn long_form(word: &str) -> Option<&'static str> {
    static MAP: std::sync::OnceLock<std::collections::HashMap<&'static str, &'static str>> =
        std::sync::OnceLock::new();
    MAP.get_or_init(|| ABBREVIATIONS.iter().copied().collect())
        .get(word)
        .copied()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Lower,
    Upper,
    Digit,
    Other,
}

fn class(c: char) -> Class {
    if c.is_lowercase() {
        Class::Lower
    } else if c.is_uppercase() {
        Class::Upper
    } else if c.is_numeric() {
        Class::Digit
    } else if c.is_alphabetic() {
        // Scripts without case (CJK and others) behave as lower case letters.
        Class::Lower
    } else {
        Class::Other
    }
}

/// Splits text and identifiers into lower-case words: at every character that is not a letter
/// or digit, at lower-to-upper case changes (`custEmail`), at the end of an upper-case run
/// followed by a word (`HTTPServer` gives `http`, `server`), and between letters and digits
/// (`addr2` gives `addr`, `2`).
pub fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    let mut prev = Class::Other;
    for (i, &c) in chars.iter().enumerate() {
        let k = class(c);
        let boundary = match (prev, k) {
            (_, Class::Other) => true,
            (Class::Other, _) => false,
            (Class::Lower, Class::Upper) => true,
            (Class::Upper, Class::Upper) => false,
            // An upper-case run followed by lower case: the run's last letter starts the
            // next word (`HTTPServer`: `HTTP` + `Server`).
            (Class::Upper, Class::Lower) => {
                if current.chars().count() > 1 {
                    let last = current.pop();
                    if !current.is_empty() {
                        out.push(std::mem::take(&mut current).to_lowercase());
                    }
                    if let Some(l) = last {
                        current.push(l);
                    }
                }
                false
            }
            (a, b) => (a == Class::Digit) != (b == Class::Digit),
        };
        if boundary && !current.is_empty() {
            out.push(std::mem::take(&mut current).to_lowercase());
        }
        if k != Class::Other {
            current.push(c);
        }
        prev = k;
        let _ = i;
    }
    if !current.is_empty() {
        out.push(current.to_lowercase());
    }
    out
}

/// English Snowball stemming (Porter 2), the stemmer tantivy ships: `orders`, `ordered` and
/// `ordering` all give `order`; `completed` and `complete` both give `complet`.
pub fn stem(word: &str) -> String {
    thread_local! {
        static STEMMER: frostem::Stemmer = frostem::Stemmer::new(frostem::Algorithm::English);
    }
    STEMMER.with(|s| s.stem(word).into_owned())
}

/// One analysed token: the stemmed form, and whether it came from an abbreviation's long
/// form rather than the text itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Stemmed, lower case.
    pub text: String,
    /// Position of the word it comes from.
    pub position: usize,
    /// True for a long form added by [`expand`].
    pub expanded: bool,
}

/// Words, with abbreviations expanded (the short form is kept too).
pub fn expand(words: &[String]) -> Vec<(String, usize, bool)> {
    let mut out = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        out.push((w.clone(), i, false));
        if let Some(long) = long_form(w) {
            for part in long.split(' ') {
                out.push((part.to_owned(), i, true));
            }
        }
    }
    out
}

/// The full chain: [`words`], [`expand`], [`stem`].
pub fn analyze(text: &str) -> Vec<Token> {
    expand(&words(text))
        .into_iter()
        .map(|(w, position, expanded)| Token {
            text: stem(&w),
            position,
            expanded,
        })
        .collect()
}

/// Words that carry no meaning in a catalog question.
pub const STOP_WORDS: &[&str] = &[
    "a", "about", "all", "an", "and", "any", "are", "as", "at", "be", "by", "can", "did", "do",
    "does", "find", "for", "from", "get", "give", "has", "have", "how", "i", "in", "is", "it",
    "its", "list", "me", "much", "my", "of", "on", "or", "our", "over", "per", "show", "that",
    "the", "their", "there", "these", "this", "those", "to", "us", "we", "what", "where", "which",
    "who", "whose", "with",
];

/// Whether a (lower-case) word is a stop word.
pub fn is_stop_word(word: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    SET.get_or_init(|| STOP_WORDS.iter().copied().collect())
        .contains(word)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dictionaries_have_no_duplicates() {
        let keys: std::collections::HashSet<_> = ABBREVIATIONS.iter().map(|(k, _)| k).collect();
        assert_eq!(keys.len(), ABBREVIATIONS.len());
        assert_eq!(long_form("cust"), Some("customer"));
        assert!(is_stop_word("the") && !is_stop_word("revenue"));
    }

    #[test]
    fn identifiers_split() {
        assert_eq!(words("custEmailAddr2"), ["cust", "email", "addr", "2"]);
        assert_eq!(
            words("customer_email_address"),
            ["customer", "email", "address"]
        );
        assert_eq!(words("HTTPServer"), ["http", "server"]);
        assert_eq!(words("silver.order_facts"), ["silver", "order", "facts"]);
        assert_eq!(words("  Net-Revenue (EUR) "), ["net", "revenue", "eur"]);
        assert_eq!(words("ID"), ["id"]);
        assert_eq!(words("orderID"), ["order", "id"]);
        assert!(words("").is_empty());
    }

    #[test]
    fn abbreviations_expand() {
        let t: Vec<String> = analyze("custEmailAddr2")
            .into_iter()
            .map(|t| t.text)
            .collect();
        for w in ["customer", "email", "address", "cust", "addr"] {
            assert!(t.contains(&stem(w)), "{w} in {t:?}");
        }
        let t: Vec<String> = analyze("dob").into_iter().map(|t| t.text).collect();
        assert_eq!(t, ["dob", "date", "of", "birth"]);
    }

    #[test]
    fn stems() {
        for (a, b) in [
            ("orders", "ordered"),
            ("categories", "category"),
            ("addresses", "address"),
            ("shipping", "shipped"),
            ("emails", "email"),
            ("completed", "complete"),
        ] {
            assert_eq!(stem(a), stem(b), "{a} {b}");
        }
        assert_ne!(stem("order"), stem("customer"));
    }
}
