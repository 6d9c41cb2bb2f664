//! Scopes: which named graphs a request may read and write.
//!
//! Federated governance gives each tenant its own named graphs. A tenant's graphs are the
//! ones whose IRI starts with `urn:govgraph:graph:tenant:{id}:`; loading a source `name` for
//! tenant `acme` writes the graph `urn:govgraph:graph:tenant:acme:name`. A tenant also reads
//! the shared vocabulary (the ontology and the shapes) and nothing else: not another tenant's
//! graphs, not the bookkeeping graph, not graphs outside any tenant.
//!
//! A scope is enforced on the parsed query or update, never on its text: the dataset of every
//! query and of every update's WHERE clause is replaced by the graphs the scope may read,
//! whatever FROM, FROM NAMED, USING or GRAPH ?g the text holds, and every graph an update
//! writes is checked, with writes to the default graph sent to the tenant's own default graph.
//! LOAD is refused everywhere, and SERVICE unless the caller passes a federation allowlist
//! (see [`crate::federation`]).

use std::collections::BTreeSet;

use oxigraph::model::{GraphName, GraphNameRef, NamedNode, NamedOrBlankNode, Quad};
use oxigraph::sparql::QueryDatasetSpecification;
use serde::Serialize;
use spargebra::GraphUpdateOperation;
use spargebra::algebra::GraphTarget;
use spargebra::term::{GraphName as AlgebraGraphName, GraphNamePattern};

use crate::error::{Error, Result};
use crate::vocab::graphs;

/// The prefix of every tenant's graphs.
pub const TENANT_PREFIX: &str = "urn:govgraph:graph:tenant:";

/// The graphs every scope may read: the ontology and the SHACL shapes.
pub fn is_shared(graph: &str) -> bool {
    graph == graphs::ONTOLOGY.as_str() || graph == graphs::SHAPES.as_str()
}

/// The graphs govgraph itself manages (ontology, shapes, bookkeeping).
pub fn is_managed(graph: &str) -> bool {
    is_shared(graph) || graph == graphs::META.as_str()
}

/// Checks a tenant id: 1 to 64 lowercase ASCII letters, digits, `-` or `_`, starting with a
/// letter or digit.
pub fn check_tenant_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && id
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "tenant",
            format!(
                "{id:?} is not a tenant id: use 1 to 64 lowercase letters, digits, - or _, starting with a letter or digit"
            ),
        ))
    }
}

/// What a request may read and write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    tenant: Option<String>,
    managed_writable: bool,
}

impl Scope {
    /// Every graph, for reading and writing, but for the graphs govgraph manages.
    pub fn all() -> Self {
        Self::default()
    }

    /// Every graph, the managed ones included (administrators).
    pub fn admin() -> Self {
        Self {
            tenant: None,
            managed_writable: true,
        }
    }

    /// One tenant's graphs, plus the shared vocabulary for reading.
    pub fn tenant(id: &str) -> Result<Self> {
        check_tenant_id(id)?;
        Ok(Self {
            tenant: Some(id.to_owned()),
            managed_writable: false,
        })
    }

    /// The tenant, if the scope is one tenant's.
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// The prefix of this tenant's graph IRIs.
    pub fn graph_prefix(&self) -> Option<String> {
        self.tenant.as_ref().map(|t| format!("{TENANT_PREFIX}{t}:"))
    }

    /// Where writes to "the default graph" go: the tenant's own default graph, or
    /// `urn:govgraph:graph:default` outside tenants. The store's unnamed default graph is
    /// never written through a scope; queries read the union of all graphs anyway.
    pub fn default_graph(&self) -> NamedNode {
        match self.graph_prefix() {
            Some(p) => NamedNode::new_unchecked(format!("{p}default")),
            None => NamedNode::new_unchecked(format!("{}default", graphs::PREFIX)),
        }
    }

    /// The source name a load by this scope gets: `tenant:{id}:{name}` for a tenant.
    pub fn source_name(&self, name: &str) -> String {
        match &self.tenant {
            Some(t) => format!("tenant:{t}:{name}"),
            None => name.to_owned(),
        }
    }

    /// Whether a named graph is this tenant's own (always true for an unscoped request).
    pub fn owns(&self, graph: &str) -> bool {
        match self.graph_prefix() {
            Some(p) => graph.starts_with(&p),
            None => true,
        }
    }

    /// Whether a named graph may be read.
    pub fn can_read(&self, graph: &str) -> bool {
        self.owns(graph) || (self.tenant.is_some() && is_shared(graph))
    }

    /// Whether a named graph may be written.
    pub fn can_write(&self, graph: &str) -> bool {
        if is_managed(graph) {
            return self.managed_writable;
        }
        self.owns(graph)
    }

    /// Whether a quad in `graph` may be read: the store's default graph belongs to no tenant.
    pub fn reads(&self, graph: GraphNameRef<'_>) -> bool {
        match graph {
            GraphNameRef::NamedNode(n) => self.can_read(n.as_str()),
            GraphNameRef::DefaultGraph => self.tenant.is_none(),
            GraphNameRef::BlankNode(_) => false,
        }
    }

    /// Keeps the quads of an iterator that this scope may read.
    pub fn filter_quads<'a, E: 'a>(
        &'a self,
        quads: impl Iterator<Item = std::result::Result<Quad, E>> + 'a,
    ) -> impl Iterator<Item = std::result::Result<Quad, E>> + 'a {
        quads.filter(move |q| {
            self.tenant.is_none()
                || q.as_ref()
                    .map_or(true, |q| self.reads(q.graph_name.as_ref()))
        })
    }

    fn refuse_read(&self, graph: &str) -> Error {
        Error::Refused(format!(
            "graph <{graph}> is not visible to tenant {:?}",
            self.tenant.as_deref().unwrap_or_default()
        ))
    }

    /// Restricts a dataset (a query's, or an update's WHERE clause's) to what this scope may
    /// read. `visible` lists the readable graphs for a tenant scope (see
    /// [`crate::GraphStore::visible_graphs`]); it is ignored for an unscoped request, whose
    /// default dataset becomes the union of all graphs.
    pub fn restrict(
        &self,
        dataset: &mut QueryDatasetSpecification,
        visible: &[NamedNode],
    ) -> Result<()> {
        if self.tenant.is_none() {
            if dataset.is_default_dataset() {
                dataset.set_default_graph_as_union();
            }
            return Ok(());
        }
        let explicit = !dataset.is_default_dataset();
        let visible_terms =
            || -> Vec<GraphName> { visible.iter().cloned().map(GraphName::NamedNode).collect() };
        let visible_named = || -> Vec<NamedOrBlankNode> {
            visible
                .iter()
                .cloned()
                .map(NamedOrBlankNode::NamedNode)
                .collect()
        };
        if !explicit {
            dataset.set_default_graph(visible_terms());
            dataset.set_available_named_graphs(visible_named());
            return Ok(());
        }
        // An explicit dataset (FROM, FROM NAMED, USING, protocol parameters): every graph it
        // names must be readable; what it leaves open is closed to the visible graphs.
        let default: Vec<GraphName> = match dataset.default_graph_graphs() {
            None => visible_terms(),
            Some(graphs) => {
                let mut out = Vec::with_capacity(graphs.len());
                for g in graphs {
                    match g {
                        GraphName::NamedNode(n) if self.can_read(n.as_str()) => out.push(g.clone()),
                        GraphName::NamedNode(n) => return Err(self.refuse_read(n.as_str())),
                        // The store's own default graph belongs to no tenant: a tenant's
                        // "default graph" is the union of its graphs.
                        GraphName::DefaultGraph => out.extend(visible_terms()),
                        GraphName::BlankNode(_) => {}
                    }
                }
                out
            }
        };
        let named: Vec<NamedOrBlankNode> = match dataset.available_named_graphs() {
            None => visible_named(),
            Some(graphs) => {
                let mut out = Vec::with_capacity(graphs.len());
                for g in graphs {
                    match g {
                        NamedOrBlankNode::NamedNode(n) if self.can_read(n.as_str()) => {
                            out.push(g.clone())
                        }
                        NamedOrBlankNode::NamedNode(n) => {
                            return Err(self.refuse_read(n.as_str()));
                        }
                        NamedOrBlankNode::BlankNode(_) => {}
                    }
                }
                out
            }
        };
        dataset.set_default_graph(default);
        dataset.set_available_named_graphs(named);
        Ok(())
    }

    /// Checks every graph an update writes, sends a tenant's default-graph writes to its own
    /// default graph, and says what the update will write.
    pub fn confine(&self, update: &mut spargebra::Update) -> Result<WriteTargets> {
        let mut targets = WriteTargets::default();
        for op in &mut update.operations {
            match op {
                GraphUpdateOperation::InsertData { data } => {
                    for q in data {
                        self.target(&mut q.graph_name, &mut targets)?;
                    }
                }
                GraphUpdateOperation::DeleteData { data } => {
                    for q in data {
                        self.target(&mut q.graph_name, &mut targets)?;
                    }
                }
                GraphUpdateOperation::DeleteInsert { delete, insert, .. } => {
                    for q in delete {
                        self.target_pattern(&mut q.graph_name, &mut targets)?;
                    }
                    for q in insert {
                        self.target_pattern(&mut q.graph_name, &mut targets)?;
                    }
                }
                GraphUpdateOperation::Load { source, .. } => {
                    return Err(Error::Refused(format!(
                        "LOAD <{}> is refused: the server fetches nothing from the network; \
                         load files with the CLI or the ingestion endpoints",
                        source.as_str()
                    )));
                }
                GraphUpdateOperation::Create { graph, .. } => {
                    self.check_write(graph.as_str())?;
                    targets.graphs.insert(graph.as_str().to_owned());
                }
                GraphUpdateOperation::Clear { graph, silent }
                | GraphUpdateOperation::Drop { graph, silent } => match graph {
                    GraphTarget::NamedNode(n) => {
                        self.check_write(n.as_str())?;
                        targets.graphs.insert(n.as_str().to_owned());
                    }
                    GraphTarget::DefaultGraph => {
                        // The default graph always exists; the named graph standing in for
                        // it may not yet.
                        let d = self.default_graph();
                        targets.graphs.insert(d.as_str().to_owned());
                        *graph = GraphTarget::NamedNode(d);
                        *silent = true;
                    }
                    GraphTarget::NamedGraphs | GraphTarget::AllGraphs => {
                        if self.tenant.is_some() || !self.managed_writable {
                            return Err(Error::Refused(
                                "CLEAR or DROP of NAMED or ALL graphs needs an administrator \
                                     without a tenant; name the graph instead"
                                    .into(),
                            ));
                        }
                        targets.all_graphs = true;
                    }
                },
            }
        }
        Ok(targets)
    }

    fn check_write(&self, graph: &str) -> Result<()> {
        if self.can_write(graph) {
            return Ok(());
        }
        Err(Error::Refused(if is_managed(graph) {
            format!("graph <{graph}> is managed by govgraph; only an administrator may write it")
        } else {
            format!(
                "graph <{graph}> is outside tenant {:?}; its graphs start with {}",
                self.tenant.as_deref().unwrap_or_default(),
                self.graph_prefix().unwrap_or_default()
            )
        }))
    }

    fn target(&self, graph: &mut AlgebraGraphName, targets: &mut WriteTargets) -> Result<()> {
        match graph {
            AlgebraGraphName::NamedNode(n) => {
                self.check_write(n.as_str())?;
                targets.graphs.insert(n.as_str().to_owned());
            }
            AlgebraGraphName::DefaultGraph => {
                let d = self.default_graph();
                targets.graphs.insert(d.as_str().to_owned());
                *graph = AlgebraGraphName::NamedNode(d);
            }
        }
        Ok(())
    }

    fn target_pattern(
        &self,
        graph: &mut GraphNamePattern,
        targets: &mut WriteTargets,
    ) -> Result<()> {
        match graph {
            GraphNamePattern::NamedNode(n) => {
                self.check_write(n.as_str())?;
                targets.graphs.insert(n.as_str().to_owned());
            }
            GraphNamePattern::DefaultGraph => {
                let d = self.default_graph();
                targets.graphs.insert(d.as_str().to_owned());
                *graph = GraphNamePattern::NamedNode(d);
            }
            GraphNamePattern::Variable(v) => {
                if self.tenant.is_some() || !self.managed_writable {
                    return Err(Error::Refused(format!(
                        "a graph variable (?{}) in an update template could write any graph; \
                         name the graph instead",
                        v.as_str()
                    )));
                }
                targets.all_graphs = true;
            }
        }
        Ok(())
    }
}

/// What an update writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WriteTargets {
    /// Named graphs written.
    pub graphs: BTreeSet<String>,
    /// Whether graphs that cannot be known before evaluation are written.
    pub all_graphs: bool,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn parse(s: &str) -> spargebra::Update {
        spargebra::SparqlParser::new().parse_update(s).unwrap()
    }

    #[test]
    fn tenant_ids_are_checked() {
        assert!(Scope::tenant("acme").is_ok());
        assert!(Scope::tenant("acme-2_x").is_ok());
        for bad in ["", "Acme", "a:b", "-a", "a b", "a/b", &"x".repeat(65)] {
            assert!(Scope::tenant(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tenants_read_their_graphs_and_the_vocabulary() {
        let s = Scope::tenant("acme").unwrap();
        assert!(s.can_read("urn:govgraph:graph:tenant:acme:crm"));
        assert!(!s.can_read("urn:govgraph:graph:tenant:acmex:crm"));
        assert!(!s.can_read("urn:govgraph:graph:tenant:beta:crm"));
        assert!(s.can_read(graphs::ONTOLOGY.as_str()));
        assert!(!s.can_read(graphs::META.as_str()));
        assert!(!s.can_read("urn:govgraph:graph:crm"));
        assert!(!s.can_write(graphs::ONTOLOGY.as_str()));
        assert!(Scope::all().can_read("urn:govgraph:graph:tenant:beta:crm"));
        assert!(!Scope::all().can_write(graphs::SHAPES.as_str()));
        assert!(Scope::admin().can_write(graphs::SHAPES.as_str()));
    }

    #[test]
    fn tenant_default_graph_writes_are_redirected() {
        let s = Scope::tenant("acme").unwrap();
        let mut u = parse("INSERT DATA { <urn:a> <urn:b> <urn:c> }");
        let t = s.confine(&mut u).unwrap();
        assert_eq!(
            t.graphs.iter().collect::<Vec<_>>(),
            vec!["urn:govgraph:graph:tenant:acme:default"]
        );
        assert!(
            u.to_string()
                .contains("urn:govgraph:graph:tenant:acme:default")
        );
    }

    #[test]
    fn tenant_writes_outside_are_refused() {
        let s = Scope::tenant("acme").unwrap();
        for text in [
            "INSERT DATA { GRAPH <urn:govgraph:graph:tenant:beta:x> { <urn:a> <urn:b> <urn:c> } }",
            "INSERT DATA { GRAPH <urn:govgraph:graph:ontology> { <urn:a> <urn:b> <urn:c> } }",
            "DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } }",
            "DROP ALL",
            "CLEAR NAMED",
            "DROP GRAPH <urn:govgraph:graph:meta>",
            "LOAD <http://169.254.169.254/latest/meta-data>",
            "WITH <urn:govgraph:graph:tenant:beta:x> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        ] {
            let mut u = parse(text);
            assert!(
                matches!(s.confine(&mut u), Err(Error::Refused(_))),
                "{text}"
            );
        }
        let mut ok = parse(
            "WITH <urn:govgraph:graph:tenant:acme:x> DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
        );
        assert!(s.confine(&mut ok).is_ok());
    }

    #[test]
    fn tenant_datasets_are_closed() {
        let s = Scope::tenant("acme").unwrap();
        let visible = vec![NamedNode::new_unchecked(
            "urn:govgraph:graph:tenant:acme:crm",
        )];
        let mut d = QueryDatasetSpecification::new();
        s.restrict(&mut d, &visible).unwrap();
        assert_eq!(d.available_named_graphs().unwrap().len(), 1);
        assert_eq!(d.default_graph_graphs().unwrap().len(), 1);

        let mut d = QueryDatasetSpecification::new();
        d.set_available_named_graphs(vec![NamedOrBlankNode::NamedNode(NamedNode::new_unchecked(
            "urn:govgraph:graph:tenant:beta:crm",
        ))]);
        assert!(matches!(
            s.restrict(&mut d, &visible),
            Err(Error::Refused(_))
        ));
    }
}
