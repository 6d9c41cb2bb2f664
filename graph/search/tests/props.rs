//! Arbitrary text never breaks analysis, embedding or search.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::OnceLock;

use govgraph_search::analyze::{analyze, words};
use govgraph_search::{Embedder, HashEmbedder, Mode, SearchIndex, SearchRequest};
use proptest::prelude::*;

fn index() -> &'static SearchIndex {
    static INDEX: OnceLock<SearchIndex> = OnceLock::new();
    INDEX.get_or_init(|| common::demo_index().1)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn analysis_is_total(text in any::<String>()) {
        for w in words(&text) {
            prop_assert!(!w.is_empty());
            prop_assert_eq!(w.to_lowercase(), w.clone());
            prop_assert!(w.chars().all(char::is_alphanumeric));
        }
        let _ = analyze(&text);
        let v = HashEmbedder::default().embed(&[text]).unwrap();
        prop_assert_eq!(v[0].len(), 256);
        prop_assert!(v[0].iter().all(|x| x.is_finite()));
    }

    #[test]
    fn search_is_total(
        query in "\\PC{0,60}",
        mode in prop_oneof![Just(Mode::Hybrid), Just(Mode::Text), Just(Mode::Vector)],
        offset in 0usize..30,
        limit in 0usize..30,
    ) {
        let r = index()
            .search(&SearchRequest { mode, offset, limit, ..SearchRequest::new(&query) })
            .unwrap();
        let page = if limit == 0 { 10 } else { limit };
        prop_assert!(r.hits.len() <= page);
        prop_assert!(r.hits.len() <= r.total.saturating_sub(offset));
        prop_assert!(r.hits.windows(2).all(|w| w[0].score >= w[1].score));
    }
}
