//! Registration: the product as a `gg:DataProduct` (DPROD) with its spec (never its preview
//! rows) and request, its quality rules, its
//! output dataset with the model's columns, and the column lineage from its inputs, in one
//! validated, atomic load into the graph `product:{id}` (a rebuild replaces it whole).

use std::path::Path;

use govgraph_graph::model::{
    Column, DataProduct, Dataset, DatasetKind, Entity, LineageEdge, System,
};
use govgraph_graph::oxigraph::io::RdfFormat;
use govgraph_graph::oxigraph::model::{Literal, NamedNode, Triple};
use govgraph_graph::vocab::gg;
use govgraph_graph::{ColumnKey, DatasetKey, GraphStore, LoadOptions, LoadSource, NoProgress};

use super::catalog::Snapshot;
use super::spec::Spec;
use crate::error::{Error, Result};

/// The system that holds data products' outputs.
pub const PRODUCTS_SYSTEM: &str = "products";

fn key_of(id: &str) -> Option<DatasetKey> {
    let (system, name) = id.split_once('/')?;
    Some(DatasetKey {
        system: system.to_owned(),
        name: name.to_owned(),
    })
}

/// Stores the product; returns its IRI.
pub fn register(
    store: &GraphStore,
    snap: &Snapshot,
    spec: &Spec,
    file: Option<&Path>,
) -> Result<String> {
    let scheme = store.scheme();
    let mut triples: Vec<Triple> = Vec::new();
    let output = spec
        .ports
        .output
        .first()
        .and_then(|p| key_of(&p.dataset))
        .ok_or_else(|| Error::Invalid("spec: no output port".into()))?;
    System {
        key: PRODUCTS_SYSTEM.into(),
        title: "govgraph data products".into(),
        platform: "govgraph".into(),
        description: Some("The outputs of data products built and registered by govgraph.".into()),
    }
    .write(scheme, &mut triples);

    let mut dataset = Dataset::new(output.clone(), DatasetKind::Table, spec.title.clone());
    dataset.description = Some(spec.description.clone());
    dataset.layer = Some("gold".into());
    dataset.domain = spec.domain.clone();
    dataset.owners = spec.owner.iter().cloned().collect();
    dataset.derived_from = spec
        .ports
        .input
        .iter()
        .filter_map(|p| key_of(&p.dataset))
        .collect();
    dataset.definition_sql = Some(spec.transformation.sql.clone());
    dataset.row_count = spec.transformation.validation.row_count;
    dataset.certified = Some(false);
    dataset.write(scheme, &mut triples);
    let dataset_iri = scheme.dataset(&output);
    triples.push(Triple::new(
        dataset_iri.clone(),
        NamedNode::new_unchecked("http://purl.org/dc/terms/identifier"),
        Literal::new_simple_literal(&output.name),
    ));
    if let Some(f) = file {
        let dist =
            NamedNode::new_unchecked(format!("{}/distribution/parquet", dataset_iri.as_str()));
        triples.push(Triple::new(
            dataset_iri.clone(),
            NamedNode::new_unchecked("http://www.w3.org/ns/dcat#distribution"),
            dist.clone(),
        ));
        triples.push(Triple::new(
            dist.clone(),
            govgraph_graph::vocab::rdf::TYPE.into_owned(),
            NamedNode::new_unchecked("http://www.w3.org/ns/dcat#Distribution"),
        ));
        triples.push(Triple::new(
            dist.clone(),
            NamedNode::new_unchecked("http://purl.org/dc/terms/format"),
            Literal::new_simple_literal("parquet"),
        ));
        triples.push(Triple::new(
            dist,
            gg::PATH.into_owned(),
            Literal::new_simple_literal(f.display().to_string()),
        ));
    }
    for (i, c) in spec.model.columns.iter().enumerate() {
        let mut col = Column::new(output.clone(), &c.name);
        col.data_type = Some(c.sql_type.clone());
        col.ordinal = u32::try_from(i + 1).ok();
        col.required = Some(!c.nullable);
        col.description = Some(c.description.clone());
        col.primary_key = c.primary_key;
        col.terms = c
            .term
            .iter()
            .filter_map(|t| snap.term(t).map(|t| t.slug.clone()))
            .collect();
        col.write(scheme, &mut triples);
    }
    for l in &spec.lineage {
        for s in &l.sources {
            let Some(source) = key_of(&s.dataset) else {
                continue;
            };
            let edge = LineageEdge {
                target: ColumnKey::new(output.clone(), &l.column),
                source: ColumnKey::new(source, &s.column),
                transformation: govgraph_lineage::TransformationType::parse(&s.transformation)
                    .unwrap_or(govgraph_lineage::TransformationType::Indirect),
                subtype: govgraph_lineage::TransformationSubtype::parse(&s.subtype)
                    .unwrap_or(govgraph_lineage::TransformationSubtype::Transformation),
                description: None,
                masking: false,
                job: None,
            };
            edge.write(scheme, &mut triples);
        }
    }
    // Its quality rules, so that `quality run` checks the product like any dataset.
    for r in &spec.quality.rules {
        govgraph_quality::rules::store::quality_rule(&output, r).write(scheme, &mut triples);
    }
    let product = DataProduct {
        key: spec.id.clone(),
        title: spec.title.clone(),
        description: Some(spec.description.clone()),
        owner: spec.owner.clone(),
        domain: spec.domain.clone(),
        purpose: spec.purpose.clone(),
        lifecycle_status: Some(spec.lifecycle_status.clone()),
        inputs: dataset.derived_from.clone(),
        outputs: vec![output],
        version: spec.version.clone(),
        sla: Some(format!(
            "refreshed {}; at most {} hours stale",
            spec.sla.refresh, spec.sla.max_staleness_hours
        )),
    };
    product.write(scheme, &mut triples);
    let product_iri = product.iri(scheme);
    // The graph keeps the spec without the preview rows: they are values the builder's
    // requester was allowed to see, and the graph is read by others.
    let mut stored = spec.clone();
    stored.transformation.validation.preview.clear();
    let json = serde_json::to_string(&stored).map_err(|e| Error::Invalid(format!("spec: {e}")))?;
    triples.push(Triple::new(
        product_iri.clone(),
        gg::PRODUCT_SPEC.into_owned(),
        Literal::new_simple_literal(json),
    ));
    triples.push(Triple::new(
        product_iri.clone(),
        gg::PRODUCT_REQUEST.into_owned(),
        Literal::new_simple_literal(&spec.request),
    ));
    let mut bytes = Vec::new();
    for t in &triples {
        bytes.extend_from_slice(t.to_string().as_bytes());
        bytes.extend_from_slice(b" .\n");
    }
    let source = LoadSource::from_bytes(
        &format!("product:{}", spec.id),
        &format!("data product {}", spec.id),
        RdfFormat::NTriples,
        bytes,
    );
    store.load(vec![source], &LoadOptions::default(), &NoProgress)?;
    tracing::info!(product = %product_iri, "data product registered");
    Ok(product_iri.as_str().to_owned())
}
