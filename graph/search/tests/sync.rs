//! The indexes follow the store: incremental syncs, persistence, and recovery after the
//! index fell behind. Plus filters, facets and match reasons on the demo catalog.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use govgraph_graph::oxigraph::io::RdfFormat;
use govgraph_graph::{GraphStore, LoadOptions, LoadSource, NoProgress, StoreConfig};
use govgraph_search::{EntityKind, HashEmbedder, Mode, SearchIndex, SearchRequest};

const PREFIXES: &str = "@prefix gg: <https://govgraph.dev/ns#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix csvw: <http://www.w3.org/ns/csvw#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://id.govgraph.dev/> .
";

fn load(store: &GraphStore, name: &str, turtle: &str) {
    let text = format!("{PREFIXES}{turtle}");
    store
        .load(
            vec![LoadSource::from_bytes(name, name, RdfFormat::Turtle, text)],
            &LoadOptions {
                validate: false,
                ..Default::default()
            },
            &NoProgress,
        )
        .unwrap();
}

const WIDGETS: &str = "
<https://id.govgraph.dev/dataset/erp/widgets> a gg:Table ; dct:identifier \"erp.widgets\" ; dct:title \"Widgets\" .
<https://id.govgraph.dev/dataset/erp/widgets/column/sprocket_count> a csvw:Column ; csvw:name \"sprocket_count\" ;
    gg:columnOf <https://id.govgraph.dev/dataset/erp/widgets> .
<https://id.govgraph.dev/dataset/erp/widgets/column/gizmo_colour> a csvw:Column ; csvw:name \"gizmo_colour\" ;
    gg:columnOf <https://id.govgraph.dev/dataset/erp/widgets> .
";

fn names(index: &SearchIndex, q: &str) -> Vec<String> {
    index
        .search(&SearchRequest::new(q))
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.path)
        .collect()
}

fn embedder() -> Arc<HashEmbedder> {
    Arc::new(HashEmbedder::default())
}

#[test]
fn changes_reach_the_index_incrementally() {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    load(&store, "erp", WIDGETS);
    let mut index = SearchIndex::in_memory(embedder()).unwrap();
    let r = index.sync(&store).unwrap();
    assert_eq!(r.mode, "rebuild");
    assert!(names(&index, "sprocket").contains(&"erp.widgets.sprocket_count".to_owned()));
    assert_eq!(index.sync(&store).unwrap().mode, "unchanged");

    // Rename one column, drop the other.
    load(
        &store,
        "erp",
        "<https://id.govgraph.dev/dataset/erp/widgets> a gg:Table ; dct:identifier \"erp.widgets\" ; dct:title \"Widgets\" .
         <https://id.govgraph.dev/dataset/erp/widgets/column/flange_count> a csvw:Column ; csvw:name \"flange_count\" ;
             gg:columnOf <https://id.govgraph.dev/dataset/erp/widgets> .",
    );
    let r = index.sync(&store).unwrap();
    assert_eq!(r.mode, "incremental");
    assert!(r.deleted >= 2, "{r:?}");
    assert!(names(&index, "flange").contains(&"erp.widgets.flange_count".to_owned()));
    assert!(
        !names(&index, "sprocket")
            .iter()
            .any(|n| n.contains("sprocket"))
    );
    assert!(
        !names(&index, "gizmo colour")
            .iter()
            .any(|n| n.contains("gizmo"))
    );

    // Another source tags the column: the column's document changes although its own
    // source did not.
    load(
        &store,
        "tags",
        "<https://id.govgraph.dev/tag/hardware> a gg:Tag ; skos:prefLabel \"Hardware\" ; skos:notation \"hardware\" .
         <https://id.govgraph.dev/dataset/erp/widgets/column/flange_count> gg:tag <https://id.govgraph.dev/tag/hardware> .",
    );
    let r = index.sync(&store).unwrap();
    assert_eq!(r.mode, "incremental");
    let tagged = index
        .search(&SearchRequest {
            tags: vec!["hardware".into()],
            kinds: vec![EntityKind::Column],
            ..SearchRequest::new("flange")
        })
        .unwrap();
    assert_eq!(tagged.hits.len(), 1);
    assert!(tagged.hits[0].tags.contains(&"Hardware".to_owned()));

    // Removing the tag source takes the tag away again.
    store.remove_source("tags").unwrap();
    index.sync(&store).unwrap();
    let tagged = index
        .search(&SearchRequest {
            tags: vec!["hardware".into()],
            ..SearchRequest::new("flange")
        })
        .unwrap();
    assert!(tagged.hits.is_empty());
    assert!(
        index
            .get("https://id.govgraph.dev/tag/hardware")
            .unwrap()
            .is_none()
    );
}

#[test]
fn the_index_persists_and_catches_up_after_falling_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    load(&store, "erp", WIDGETS);
    {
        let mut index = SearchIndex::open(dir.path(), embedder()).unwrap();
        assert_eq!(index.sync(&store).unwrap().mode, "rebuild");
    }
    {
        let mut index = SearchIndex::open(dir.path(), embedder()).unwrap();
        assert_eq!(index.sync(&store).unwrap().mode, "unchanged");
        // The vector index came back from disk.
        let v = index
            .search(&SearchRequest {
                mode: Mode::Vector,
                ..SearchRequest::new("sprocket count")
            })
            .unwrap();
        assert_eq!(v.hits[0].path, "erp.widgets.sprocket_count");
        // The store moves on while this index is not looking (as after a crash between a
        // store commit and an index commit).
    }
    load(
        &store,
        "more",
        "<https://id.govgraph.dev/dataset/erp/gears> a gg:Table ; dct:identifier \"erp.gears\" ; dct:title \"Gears\" .",
    );
    let mut index = SearchIndex::open(dir.path(), embedder()).unwrap();
    assert!(!names(&index, "gears").contains(&"erp.gears".to_owned()));
    let r = index.sync(&store).unwrap();
    assert_eq!(r.mode, "incremental");
    assert_eq!(names(&index, "gears"), ["erp.gears"]);
    // Another embedder means other vectors: everything is rebuilt.
    drop(index);
    let mut index = SearchIndex::open(dir.path(), Arc::new(HashEmbedder::new(64))).unwrap();
    assert_eq!(index.sync(&store).unwrap().mode, "rebuild");
}

fn demo() -> SearchIndex {
    common::demo_index().1
}

#[test]
fn filters_facets_and_reasons() {
    let index = demo();
    let r = index
        .search(&SearchRequest {
            kinds: vec![EntityKind::Column],
            pii: Some(true),
            limit: 50,
            ..SearchRequest::new("customer")
        })
        .unwrap();
    assert!(!r.hits.is_empty());
    assert!(
        r.hits
            .iter()
            .all(|h| h.kind == Some(EntityKind::Column) && h.pii)
    );
    assert_eq!(r.facets.kind.keys().collect::<Vec<_>>(), ["column"]);
    assert_eq!(r.facets.pii.get("true"), Some(&r.total));
    assert_eq!(r.facets.kind["column"], r.total);

    let domain = index
        .search(&SearchRequest {
            domains: vec!["Marketing".into()],
            limit: 100,
            ..SearchRequest::new("campaign")
        })
        .unwrap();
    assert!(
        domain
            .hits
            .iter()
            .all(|h| h.domain.iter().any(|d| d == "Marketing"))
    );

    // The reasons say how each result matched.
    let via = |q: &str| -> Vec<String> {
        index.search(&SearchRequest::new(q)).unwrap().hits[0]
            .reasons
            .iter()
            .filter_map(|r| r.via.clone())
            .collect()
    };
    assert!(
        via("emial").iter().any(|v| v == "typo"),
        "{:?}",
        via("emial")
    );
    let meaning = index
        .search(&SearchRequest {
            mode: Mode::Vector,
            ..SearchRequest::new("which customers stopped buying")
        })
        .unwrap();
    assert_eq!(meaning.hits[0].reasons[0].field, "meaning");
    assert!(
        meaning.hits[0].reasons[0]
            .via
            .as_deref()
            .unwrap()
            .starts_with("vector similarity")
    );
    let cust = index.search(&SearchRequest::new("custEmailAddr")).unwrap();
    assert!(
        cust.hits[0]
            .reasons
            .iter()
            .any(|r| r.highlight.contains('«'))
    );
    let term = index
        .search(&SearchRequest {
            kinds: vec![EntityKind::Column],
            ..SearchRequest::new("gross sales")
        })
        .unwrap();
    assert!(
        term.hits[0].reasons.iter().any(|r| r.field == "synonyms"),
        "{:?}",
        term.hits[0]
    );
    // Paging: the second page follows the first.
    let p1 = index
        .search(&SearchRequest {
            limit: 5,
            ..SearchRequest::new("order")
        })
        .unwrap();
    let p2 = index
        .search(&SearchRequest {
            limit: 5,
            offset: 5,
            ..SearchRequest::new("order")
        })
        .unwrap();
    assert_eq!(p1.total, p2.total);
    assert!(
        p1.hits
            .iter()
            .all(|a| p2.hits.iter().all(|b| a.iri != b.iri))
    );
}

#[test]
fn a_writer_that_waits_reads_its_own_write() {
    use govgraph_search::LiveIndex;
    use std::time::Duration;
    let store = Arc::new(GraphStore::in_memory(StoreConfig::default()).unwrap());
    load(&store, "erp", WIDGETS);
    let index = SearchIndex::in_memory(embedder()).unwrap();
    // A period far longer than the test: only the writer's announcement can bring the change.
    let live = LiveIndex::start(store.clone(), index, Duration::from_secs(3600), |_| {}).unwrap();
    let has = |q: &str| {
        live.search(&SearchRequest::new(q))
            .unwrap()
            .hits
            .iter()
            .any(|h| h.path.contains(q))
    };
    assert!(has("sprocket_count"));
    for round in 0..5 {
        let name = format!("flange_width_{round}");
        load(
            &store,
            &format!("erp{round}"),
            &format!(
                "<https://id.govgraph.dev/dataset/erp/widgets/column/{name}> a csvw:Column ; \
                 csvw:name \"{name}\" ; gg:columnOf <https://id.govgraph.dev/dataset/erp/widgets> ."
            ),
        );
        assert!(
            live.changed_and_wait(Duration::from_secs(30)),
            "round {round}"
        );
        assert!(
            has(&name),
            "round {round}: {name} not searchable after the wait"
        );
    }
    live.stop();
    // Once stopped, a wait returns at once, saying the index did not catch up.
    assert!(!live.changed_and_wait(Duration::from_secs(30)));
}
