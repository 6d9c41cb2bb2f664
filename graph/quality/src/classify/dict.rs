//! Dictionaries of given names, family names, places and value sets, compiled in from
//! `data/`.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use super::names::fold;

fn words(text: &'static str) -> HashSet<&'static str> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(str::split_whitespace)
        .collect()
}

fn first_names() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| words(include_str!("../../data/first_names.txt")))
}

fn last_names() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        // Multi-word names ("van dijk") are matched on their last word.
        words(include_str!("../../data/last_names.txt"))
            .into_iter()
            .filter(|w| !matches!(*w, "de" | "van" | "der" | "den"))
            .collect()
    })
}

fn cities() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        include_str!("../../data/cities.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(|l| l.split(','))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect()
    })
}

fn value_sets() -> &'static HashMap<&'static str, HashSet<&'static str>> {
    static SETS: OnceLock<HashMap<&'static str, HashSet<&'static str>>> = OnceLock::new();
    SETS.get_or_init(|| {
        include_str!("../../data/values.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| {
                (
                    k.trim(),
                    v.split(',')
                        .map(str::trim)
                        .filter(|x| !x.is_empty())
                        .collect(),
                )
            })
            .collect()
    })
}

pub(crate) fn is_first_name(w: &str) -> bool {
    first_names().contains(fold(w).as_str())
}

pub(crate) fn is_last_name(w: &str) -> bool {
    last_names().contains(fold(w).as_str())
}

pub(crate) fn is_city(folded: &str) -> bool {
    cities().contains(folded.trim())
}

pub(crate) fn in_set(set: &str, folded: &str) -> bool {
    value_sets()
        .get(set)
        .is_some_and(|s| s.contains(folded.trim()))
}
