//! The BERT tokenizer: basic tokenization (cleaning, CJK spacing, lowercasing and accent
//! stripping, splits on whitespace and punctuation) followed by greedy longest-match-first
//! WordPiece with the `##` continuation prefix.
//!
//! It follows the reference `BertTokenizer` (and the `tokenizers` crate's `BertNormalizer`
//! with `BertPreTokenizer`, which sentence-transformers uses) for every model trained with
//! them: no NFC pass before splitting, as in the latter.

use std::collections::HashMap;

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;

/// Words longer than this many characters become `[UNK]`, as in the reference.
const MAX_WORD_CHARS: usize = 100;

/// A WordPiece vocabulary and the special tokens' ids.
#[derive(Debug, Clone)]
pub(crate) struct WordPiece {
    vocab: HashMap<String, u32>,
    lower_case: bool,
    strip_accents: bool,
    cls: u32,
    sep: u32,
    unk: u32,
}

impl WordPiece {
    /// Builds the tokenizer from `vocab.txt`'s text (one token per line, the id is the line
    /// number). Names the missing special token when `[CLS]`, `[SEP]` or `[UNK]` is absent.
    pub(crate) fn new(
        vocab_txt: &str,
        lower_case: bool,
        strip_accents: bool,
    ) -> Result<Self, String> {
        let mut vocab = HashMap::new();
        for (id, line) in vocab_txt.lines().enumerate() {
            let token = line.trim_end_matches('\r');
            let id = u32::try_from(id).map_err(|_| "more than 2^32 tokens".to_owned())?;
            // A repeated token keeps its last id, as in the reference loader.
            vocab.insert(token.to_owned(), id);
        }
        let special = |t: &str| {
            vocab
                .get(t)
                .copied()
                .ok_or_else(|| format!("the vocabulary has no {t} token"))
        };
        Ok(Self {
            cls: special("[CLS]")?,
            sep: special("[SEP]")?,
            unk: special("[UNK]")?,
            vocab,
            lower_case,
            strip_accents,
        })
    }

    /// The largest id the tokenizer can produce.
    pub(crate) fn max_id(&self) -> u32 {
        self.vocab.values().copied().max().unwrap_or(0)
    }

    /// `[CLS]`, the text's pieces (truncated), `[SEP]`: at most `max_tokens` ids, and never
    /// fewer than two (`max_tokens` below 2 is taken as 2).
    pub(crate) fn encode(&self, text: &str, max_tokens: usize) -> Vec<u32> {
        let room = max_tokens.max(2) - 2;
        let mut ids = Vec::with_capacity(room.min(64) + 2);
        ids.push(self.cls);
        'words: for word in basic_tokenize(text, self.lower_case, self.strip_accents) {
            let start = ids.len();
            if !self.word_pieces(&word, &mut ids) {
                ids.truncate(start);
                ids.push(self.unk);
            }
            if ids.len() > room {
                ids.truncate(room + 1);
                break 'words;
            }
        }
        ids.push(self.sep);
        ids
    }

    /// Appends the word's pieces; false when the word cannot be covered (or is too long).
    fn word_pieces(&self, word: &str, ids: &mut Vec<u32>) -> bool {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        if chars.len() > MAX_WORD_CHARS {
            return false;
        }
        let mut piece = String::with_capacity(word.len() + 2);
        let mut start = 0;
        while start < chars.len() {
            let from = chars[start].0;
            let mut end = chars.len();
            let mut found = None;
            while start < end {
                let to = chars.get(end).map_or(word.len(), |c| c.0);
                piece.clear();
                if start > 0 {
                    piece.push_str("##");
                }
                piece.push_str(&word[from..to]);
                if let Some(&id) = self.vocab.get(piece.as_str()) {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(id) => ids.push(id),
                None => return false,
            }
            start = end;
        }
        true
    }
}

/// Splits text into words and punctuation marks, cleaned, lowercased when `lower_case`, and
/// without accents (NFD, then no nonspacing marks) when `strip_accents`.
pub(crate) fn basic_tokenize(text: &str, lower_case: bool, strip_accents: bool) -> Vec<String> {
    let mut cleaned = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c == '\0' || c == '\u{FFFD}' || is_control(c) {
            continue;
        }
        if is_whitespace(c) {
            cleaned.push(' ');
        } else if is_cjk(c) {
            cleaned.push(' ');
            cleaned.push(c);
            cleaned.push(' ');
        } else {
            cleaned.push(c);
        }
    }
    let mut words = Vec::new();
    for raw in cleaned.split_whitespace() {
        let lowered;
        let word = if lower_case {
            lowered = raw.to_lowercase();
            lowered.as_str()
        } else {
            raw
        };
        let stripped;
        let word = if strip_accents {
            stripped = word
                .nfd()
                .filter(|&c| get_general_category(c) != GeneralCategory::NonspacingMark)
                .collect::<String>();
            stripped.as_str()
        } else {
            word
        };
        let mut current = String::new();
        for c in word.chars() {
            if is_punctuation(c) {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
                words.push(c.to_string());
            } else {
                current.push(c);
            }
        }
        if !current.is_empty() {
            words.push(current);
        }
    }
    words
}

fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
        || get_general_category(c) == GeneralCategory::SpaceSeparator
}

fn is_control(c: char) -> bool {
    if matches!(c, '\t' | '\n' | '\r') {
        return false;
    }
    matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::Unassigned
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
    )
}

fn is_punctuation(c: char) -> bool {
    let cp = u32::from(c);
    if (33..=47).contains(&cp)
        || (58..=64).contains(&cp)
        || (91..=96).contains(&cp)
        || (123..=126).contains(&cp)
    {
        return true;
    }
    matches!(
        get_general_category(c),
        GeneralCategory::ConnectorPunctuation
            | GeneralCategory::DashPunctuation
            | GeneralCategory::OpenPunctuation
            | GeneralCategory::ClosePunctuation
            | GeneralCategory::InitialPunctuation
            | GeneralCategory::FinalPunctuation
            | GeneralCategory::OtherPunctuation
    )
}

/// The CJK Unified Ideographs blocks the reference surrounds with spaces (not Hangul, not
/// Hiragana or Katakana).
fn is_cjk(c: char) -> bool {
    matches!(
        u32::from(c),
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B820..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn tok() -> WordPiece {
        let vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nun\n##aff\n##able\nrun\n##ning\n,\n!\ncafe\n数\n";
        WordPiece::new(vocab, true, true).unwrap()
    }

    #[test]
    fn basic_tokenization_cleans_lowercases_and_splits() {
        assert_eq!(
            basic_tokenize(" Héllo,\tWORLD!\u{0}\u{FFFD}数据 a_b ", true, true),
            ["hello", ",", "world", "!", "数", "据", "a", "_", "b"]
        );
        assert_eq!(basic_tokenize("Héllo", false, false), ["Héllo"]);
        assert_eq!(basic_tokenize("Héllo", false, true), ["Hello"]);
        assert!(basic_tokenize(" \n\u{3000} ", true, true).is_empty());
    }

    #[test]
    fn wordpiece_is_greedy_longest_match_first() {
        let t = tok();
        assert_eq!(
            t.encode("Unaffable running, café!", 64),
            [2, 4, 5, 6, 7, 8, 9, 11, 10, 3]
        );
        // An uncovered word is one [UNK], however many pieces matched before.
        assert_eq!(t.encode("unaffablex", 64), [2, 1, 3]);
        assert_eq!(t.encode(&"a".repeat(101), 64), [2, 1, 3]);
        assert_eq!(t.encode("", 64), [2, 3]);
        // Truncation keeps [CLS] and [SEP].
        assert_eq!(t.encode("unaffable running", 4), [2, 4, 5, 3]);
        assert_eq!(t.encode("unaffable running", 0), [2, 3]);
    }

    #[test]
    fn missing_special_tokens_are_named() {
        let e = WordPiece::new("[PAD]\n[UNK]\n[SEP]\n", true, true).unwrap_err();
        assert!(e.contains("[CLS]"), "{e}");
    }
}
