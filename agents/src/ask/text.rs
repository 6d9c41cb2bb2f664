//! Words: how questions and catalog names are cut and compared.

/// Lower-cases and cuts text into words: letters and digits; everything else separates.
/// Dotted and snake_case names fall apart into their parts.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A word's singular, so that "emails" meets "email" and "categories" meets "category".
pub fn singular(word: &str) -> String {
    let n = word.len();
    if n > 4 && word.ends_with("ies") {
        return format!("{}y", &word[..n - 3]);
    }
    if n > 4 && (word.ends_with("sses") || word.ends_with("xes") || word.ends_with("ches")) {
        return word[..n - 2].to_owned();
    }
    if n > 3
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
    {
        return word[..n - 1].to_owned();
    }
    word.to_owned()
}

/// The words of `text`, each made singular: the form the lexicon keys on.
pub fn key_words(text: &str) -> Vec<String> {
    words(text).iter().map(|w| singular(w)).collect()
}

/// The lexicon key of a phrase.
pub fn key(text: &str) -> String {
    key_words(text).join(" ")
}

/// Words that never name a catalog entity on their own.
pub fn is_stopword(w: &str) -> bool {
    matches!(
        w,
        "a" | "an"
            | "the"
            | "of"
            | "in"
            | "on"
            | "to"
            | "for"
            | "and"
            | "or"
            | "is"
            | "are"
            | "be"
            | "by"
            | "with"
            | "what"
            | "which"
            | "who"
            | "whom"
            | "where"
            | "when"
            | "how"
            | "do"
            | "doe"
            | "does"
            | "did"
            | "it"
            | "its"
            | "this"
            | "that"
            | "these"
            | "those"
            | "them"
            | "they"
            | "me"
            | "my"
            | "we"
            | "our"
            | "i"
            | "all"
            | "any"
            | "some"
            | "there"
            | "from"
            | "data"
            | "table"
            | "dataset"
            | "column"
            | "field"
            | "value"
            | "if"
            | "can"
            | "may"
            | "should"
            | "would"
            | "will"
            | "have"
            | "has"
            | "get"
            | "show"
            | "list"
            | "give"
            | "tell"
            | "about"
            | "at"
            | "as"
            | "s"
            | "than"
            | "most"
            | "many"
            | "much"
            | "not"
            | "no"
            | "one"
            | "each"
            | "every"
            | "own"
            | "owned"
            | "use"
            | "used"
            | "new"
            | "us"
    )
}

/// True when `text` contains `phrase` as whole words (both lower-case).
pub fn has_phrase(words: &[String], phrase: &str) -> bool {
    let p: Vec<&str> = phrase.split(' ').collect();
    if p.is_empty() || p.len() > words.len() {
        return false;
    }
    words
        .windows(p.len())
        .any(|w| w.iter().zip(&p).all(|(a, b)| a == b))
}

/// True when any of `phrases` occurs in `words`.
pub fn has_any(words: &[String], phrases: &[&str]) -> bool {
    phrases.iter().any(|p| has_phrase(words, p))
}

/// Where `phrase` starts in `words`, if it occurs.
pub fn find_phrase(words: &[String], phrase: &str) -> Option<usize> {
    let p: Vec<&str> = phrase.split(' ').collect();
    if p.len() > words.len() {
        return None;
    }
    words
        .windows(p.len())
        .position(|w| w.iter().zip(&p).all(|(a, b)| a == b))
}

/// Joins names for an answer: "a", "a and b", "a, b and c".
pub fn join_names<S: AsRef<str>>(names: &[S]) -> String {
    match names.len() {
        0 => String::new(),
        1 => names[0].as_ref().to_owned(),
        n => {
            let head: Vec<&str> = names[..n - 1].iter().map(AsRef::as_ref).collect();
            format!("{} and {}", head.join(", "), names[n - 1].as_ref())
        }
    }
}

/// "1 column", "2 columns".
pub fn count_of(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_and_folds() {
        assert_eq!(
            words("Which tables hold customer_emails?"),
            ["which", "tables", "hold", "customer", "emails"]
        );
        assert_eq!(key("Customer Emails"), "customer email");
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("status"), "status");
        assert_eq!(singular("address"), "address");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(join_names(&["a", "b", "c"]), "a, b and c");
        assert!(has_phrase(
            &words("what breaks if it changes"),
            "what breaks"
        ));
    }
}
