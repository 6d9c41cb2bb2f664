//! Every model type survives a trip through RDF: to triples, to Turtle text, parsed back, read
//! back; and through the store, loaded and read back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use govgraph_graph::model::*;
use govgraph_graph::oxigraph::io::{RdfFormat, RdfParser, RdfSerializer};
use govgraph_graph::oxigraph::model::{Graph, Literal, NamedNode, Triple};
use govgraph_graph::{DatasetKey, GraphStore, IriScheme, LoadSource, StoreConfig};

fn scheme() -> IriScheme {
    IriScheme::new("https://acme.example/id/").unwrap()
}

fn through_turtle(triples: &[Triple]) -> Graph {
    let mut ser = RdfSerializer::from_format(RdfFormat::Turtle).for_writer(Vec::new());
    for t in triples {
        ser.serialize_triple(t).unwrap();
    }
    let bytes = ser.finish().unwrap();
    let mut g = Graph::new();
    for q in RdfParser::from_format(RdfFormat::Turtle).for_slice(&bytes) {
        g.insert(&Triple::from(q.unwrap()));
    }
    g
}

fn roundtrip<E: Entity + PartialEq + std::fmt::Debug>(entity: &E) {
    let s = scheme();
    let triples = entity.to_triples(&s);
    let graph = through_turtle(&triples);
    let back = E::read(&graph, &s, entity.iri(&s).as_ref()).unwrap();
    assert_eq!(&back, entity, "through Turtle");

    let store = GraphStore::in_memory(StoreConfig { scheme: s.clone() }).unwrap();
    let mut nt = RdfSerializer::from_format(RdfFormat::NTriples).for_writer(Vec::new());
    for t in &triples {
        nt.serialize_triple(t).unwrap();
    }
    let bytes = nt.finish().unwrap();
    let options = govgraph_graph::LoadOptions {
        validate: false,
        ..Default::default()
    };
    store
        .load(
            vec![LoadSource::from_bytes(
                "test",
                "test.nt",
                RdfFormat::NTriples,
                bytes,
            )],
            &options,
            &govgraph_graph::NoProgress,
        )
        .unwrap();
    let back = E::read(&store, &s, entity.iri(&s).as_ref()).unwrap();
    assert_eq!(&back, entity, "through the store");
}

fn orders() -> DatasetKey {
    DatasetKey::new("shop", "bronze.orders")
}

#[test]
fn system() {
    roundtrip(&System {
        key: "shop".into(),
        title: "Web shop".into(),
        platform: "postgres".into(),
        description: Some("The e-commerce database".into()),
    });
}

#[test]
fn dataset() {
    let mut d = Dataset::new(
        DatasetKey::new("warehouse", "gold.daily_sales"),
        DatasetKind::Model,
        "Daily sales",
    );
    d.description =
        Some("Revenue per day, region and category.\nSecond line with \"quotes\".".into());
    d.layer = Some("gold".into());
    d.domain = Some("sales".into());
    d.owners = vec!["ana-lima".into(), "sales-team".into()];
    d.stewards = vec!["li-wei".into()];
    d.tags = vec!["certified".into(), "financial".into()];
    d.terms = vec!["net-revenue".into()];
    d.derived_from = vec![orders(), DatasetKey::new("shop", "bronze.products")];
    d.derived_from.sort();
    d.definition_sql = Some("SELECT 1".into());
    d.row_count = Some(12_345_678_901);
    d.certified = Some(true);
    roundtrip(&d);
    roundtrip(&Dataset::new(orders(), DatasetKind::Table, "orders"));
}

#[test]
fn column() {
    let mut c = Column::new(orders(), "Customer Email");
    c.data_type = Some("varchar(255)".into());
    c.ordinal = Some(3);
    c.required = Some(false);
    c.description = Some("Where receipts go".into());
    c.primary_key = true;
    c.terms = vec!["email-address".into()];
    c.tags = vec!["pii".into(), "pii.email".into()];
    roundtrip(&c);
}

#[test]
fn term_domain_agent_tag() {
    roundtrip(&Term {
        key: "net-revenue".into(),
        glossary: Some("business".into()),
        label: "Net Revenue".into(),
        synonyms: vec!["net sales".into(), "revenue".into()],
        definition: Some("Gross revenue less discounts, returns and tax.".into()),
        broader: vec!["revenue".into()],
        related: vec!["gross-revenue".into()],
        domain: Some("sales".into()),
        stewards: vec!["li-wei".into()],
    });
    roundtrip(&Domain {
        key: "sales".into(),
        label: "Sales".into(),
        description: Some("Orders and revenue".into()),
        owners: vec!["ana-lima".into()],
        stewards: vec!["li-wei".into()],
        organization: Some("acme".into()),
    });
    roundtrip(&Agent {
        key: "ana-lima".into(),
        kind: AgentKind::Person,
        name: "Ana Lima".into(),
        email: Some("ana@acme.example".into()),
        member_of: vec!["sales".into()],
    });
    roundtrip(&Agent {
        key: "sales-team".into(),
        kind: AgentKind::Group,
        name: "Sales analytics".into(),
        email: None,
        member_of: vec![],
    });
    roundtrip(&Tag {
        key: "pii.email".into(),
        label: "PII: e-mail".into(),
        definition: Some("An e-mail address".into()),
        broader: Some("pii".into()),
        classification: Some(Classification {
            personal_data_category: Some("https://w3id.org/dpv/pd#EmailAddress".into()),
            special_category: false,
            sensitivity: Some("confidential".into()),
        }),
    });
    roundtrip(&Tag {
        key: "certified".into(),
        label: "Certified".into(),
        definition: None,
        broader: None,
        classification: None,
    });
}

#[test]
fn quality_rule() {
    roundtrip(&QualityRule {
        key: "orders-amount-positive".into(),
        title: "Order amounts are positive".into(),
        description: None,
        rule_type: "range".into(),
        applies_to: vec![AssetRef::Column(govgraph_graph::ColumnKey::new(
            orders(),
            "total_amount",
        ))],
        parameters: Some(r#"{"min": 0}"#.into()),
        expression: None,
        dimension: Some("Validity".into()),
        severity: "error".into(),
        owner: Some("li-wei".into()),
    });
}

#[test]
fn policy() {
    let odrl = |l: &str| NamedNode::new_unchecked(format!("http://www.w3.org/ns/odrl/2/{l}"));
    let s = scheme();
    roundtrip(&Policy {
        key: "pii-masking".into(),
        title: "Analysts see PII masked".into(),
        description: Some("Central rule".into()),
        scope: PolicyScope::Central,
        domain: None,
        version: 3,
        status: "approved".into(),
        rules: vec![
            PolicyRule {
                kind: RuleKind::Permission,
                action: odrl("read"),
                targets: vec![s.entity(govgraph_graph::Kind::Tag, "pii")],
                assignees: vec![NamedNode::new_unchecked(
                    "https://govgraph.dev/ns#AnalystRole",
                )],
                constraints: vec![Constraint {
                    left: odrl("purpose"),
                    operator: odrl("eq"),
                    right: NamedNode::new_unchecked("https://w3id.org/dpv#Marketing").into(),
                }],
                duties: vec![Duty {
                    action: odrl("anonymize"),
                    masking_method: Some("hash".into()),
                }],
                row_filter: Some("marketing_opt_in = TRUE".into()),
            },
            PolicyRule {
                kind: RuleKind::Obligation,
                action: odrl("delete"),
                targets: vec![s.dataset(&orders())],
                assignees: vec![],
                constraints: vec![Constraint {
                    left: odrl("elapsedTime"),
                    operator: odrl("lteq"),
                    right: Literal::new_typed_literal(
                        "P3Y",
                        NamedNode::new_unchecked("http://www.w3.org/2001/XMLSchema#duration"),
                    )
                    .into(),
                }],
                duties: vec![],
                row_filter: None,
            },
        ],
    });
}

#[test]
fn lineage_edge_and_product() {
    let gold = DatasetKey::new("warehouse", "gold.daily_sales");
    roundtrip(&LineageEdge {
        target: govgraph_graph::ColumnKey::new(gold.clone(), "revenue"),
        source: govgraph_graph::ColumnKey::new(orders(), "total_amount"),
        transformation: TransformationType::Direct,
        subtype: TransformationSubtype::Aggregation,
        description: Some("SUM(total_amount)".into()),
        masking: false,
        job: Some("daily-sales".into()),
    });
    roundtrip(&DataProduct {
        key: "daily-revenue".into(),
        title: "Daily revenue".into(),
        description: None,
        owner: Some("ana-lima".into()),
        domain: Some("sales".into()),
        purpose: Some("Track revenue".into()),
        lifecycle_status: Some("published".into()),
        inputs: vec![orders()],
        outputs: vec![gold],
        version: "1.2.0".into(),
        sla: Some("refreshed daily by 06:00 UTC".into()),
    });
}

#[test]
fn reading_a_missing_or_foreign_entity_is_an_error() {
    let s = scheme();
    let g = Graph::new();
    let err = Dataset::read(&g, &s, s.dataset(&orders()).as_ref()).unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
    let c = Column::new(orders(), "x");
    let mut triples = c.to_triples(&s);
    // A column whose gg:columnOf names another dataset than its IRI says is refused.
    triples.retain(|t| t.predicate.as_str() != "https://govgraph.dev/ns#columnOf");
    triples.push(Triple::new(
        s.column(&c.key),
        NamedNode::new_unchecked("https://govgraph.dev/ns#columnOf"),
        s.dataset(&DatasetKey::new("shop", "other")),
    ));
    let g = through_turtle(&triples);
    let err = Column::read(&g, &s, s.column(&c.key).as_ref()).unwrap_err();
    assert!(err.to_string().contains("different dataset"), "{err}");
}
