//! Property tests: no input makes a load panic, and a failed load changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use govgraph_graph::oxigraph::io::{JsonLdProfileSet, RdfFormat};
use govgraph_graph::{GraphStore, LoadOptions, LoadSource, NoProgress, StoreConfig};
use proptest::prelude::*;

const VALID: &str = r#"@prefix gg: <https://govgraph.dev/ns#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix csvw: <http://www.w3.org/ns/csvw#> .
<https://id.govgraph.dev/dataset/s/t> a gg:Table ; dct:title "t" .
<https://id.govgraph.dev/dataset/s/t/column/a> a csvw:Column ; csvw:name "a" ;
    gg:columnOf <https://id.govgraph.dev/dataset/s/t> .
"#;

fn formats() -> impl Strategy<Value = RdfFormat> {
    prop_oneof![
        Just(RdfFormat::Turtle),
        Just(RdfFormat::NTriples),
        Just(RdfFormat::NQuads),
        Just(RdfFormat::TriG),
        Just(RdfFormat::RdfXml),
        Just(RdfFormat::JsonLd {
            profile: JsonLdProfileSet::empty()
        }),
    ]
}

/// Valid Turtle with a slice replaced by arbitrary bytes.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        0..VALID.len(),
        0..40usize,
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(at, cut, insert)| {
            let mut bytes = VALID.as_bytes().to_vec();
            let end = (at + cut).min(bytes.len());
            bytes.splice(at..end, insert);
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_failed_loads_change_nothing(
        bytes in prop_oneof![proptest::collection::vec(any::<u8>(), 0..400), mutated()],
        format in formats(),
    ) {
        let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
        store.load_one(LoadSource::from_bytes("base", "base.ttl", RdfFormat::Turtle, VALID)).unwrap();
        let before = store.stats().unwrap().quads;
        let result = store.load(
            vec![LoadSource::from_bytes("fuzz", "fuzz", format, bytes)],
            &LoadOptions::default(),
            &NoProgress,
        );
        if let Err(e) = result {
            prop_assert!(!e.to_string().is_empty());
            prop_assert_eq!(store.stats().unwrap().quads, before);
        }
    }
}
