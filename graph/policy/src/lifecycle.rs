//! The policy lifecycle: a steward proposes a new version, an admin (not its author)
//! approves or rejects it, and every step is a `gg:PolicyChange` in the graph.
//!
//! Version 1 of a policy has the policy's own IRI; version `n > 1` has the key `KEY.vN`
//! and points to the first with `dct:isVersionOf` and to the one it replaces with
//! `prov:wasRevisionOf`. Each proposed version lives in its own graph
//! (`policy:KEY:vN`) and each change in its own (`policy-change:KEY:vN:ACTION`). Approving
//! retires the version that was in force, in the same transaction.

use govgraph_graph::GraphStore;
use govgraph_graph::iri::Kind;
use govgraph_graph::loader::{LoadOptions, LoadSource, NoProgress};
use govgraph_graph::model::{Entity, Policy};
use govgraph_graph::scope::Scope;
use govgraph_graph::vocab::{dct, gg, prov, rdf, xsd};
use oxigraph::model::{Literal, NamedNode, Triple};
use serde::Serialize;

use crate::engine::Subject;
use crate::error::{Error, Result};
use crate::resource::{select, text};

/// One version of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    /// Its IRI.
    pub iri: String,
    /// Its number.
    pub version: u32,
    /// draft, proposed, approved, rejected or retired.
    pub status: String,
    /// Its title.
    pub title: String,
}

/// One step of the lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The version it concerns.
    pub policy: String,
    /// Its number.
    pub version: u32,
    /// proposed, approved or rejected.
    pub action: String,
    /// Who did it.
    pub actor: String,
    /// When (xsd:dateTime).
    pub at: String,
    /// Why, in their words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A policy's versions and change log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct History {
    /// The policy (its first version's IRI).
    pub policy: String,
    /// Its versions, oldest first.
    pub versions: Vec<Version>,
    /// Its changes, oldest first.
    pub changes: Vec<Change>,
}

fn now() -> String {
    let micros = govgraph_quality::rules::run::now_micros();
    crate::retention::timestamp_micros(micros)
}

/// The versions and changes of the policy `key`.
pub fn history(store: &GraphStore, scope: &Scope, key: &str) -> Result<History> {
    let series = store.scheme().entity(Kind::Policy, key);
    let rows = select(
        store,
        scope,
        &format!(
            "SELECT ?v ?n ?status ?title WHERE {{
               {{ BIND({series} AS ?v) {series} gg:policyStatus ?status }}
               UNION {{ ?v dct:isVersionOf {series} ; gg:policyStatus ?status }}
               OPTIONAL {{ ?v gg:version ?n }} OPTIONAL {{ ?v dct:title ?title }}
             }}"
        ),
    )?;
    let mut versions: Vec<Version> = rows
        .iter()
        .filter_map(|r| {
            Some(Version {
                iri: text(r.get("v"))?,
                version: text(r.get("n")).and_then(|n| n.parse().ok()).unwrap_or(1),
                status: text(r.get("status")).unwrap_or_default(),
                title: text(r.get("title")).unwrap_or_default(),
            })
        })
        .collect();
    versions.sort_by_key(|v| v.version);
    versions.dedup_by(|a, b| a.iri == b.iri && a.version == b.version);
    let rows = select(
        store,
        scope,
        &format!(
            "SELECT ?v ?n ?change ?actor ?at ?note WHERE {{
               ?c a gg:PolicyChange ; gg:policy ?v ; gg:change ?change ; gg:actor ?actor ; prov:atTime ?at .
               OPTIONAL {{ ?c dct:description ?note }}
               FILTER(?v = {series} || EXISTS {{ ?v dct:isVersionOf {series} }})
               OPTIONAL {{ ?v gg:version ?n }}
             }}"
        ),
    )?;
    let mut changes: Vec<Change> = rows
        .iter()
        .filter_map(|r| {
            Some(Change {
                policy: text(r.get("v"))?,
                version: text(r.get("n")).and_then(|n| n.parse().ok()).unwrap_or(1),
                action: text(r.get("change"))?,
                actor: text(r.get("actor"))?,
                at: text(r.get("at"))?,
                note: text(r.get("note")),
            })
        })
        .collect();
    changes.sort_by(|a, b| a.at.cmp(&b.at).then(a.version.cmp(&b.version)));
    Ok(History {
        policy: series.into_string(),
        versions,
        changes,
    })
}

fn has_role(actor: &Subject, roles: &[&str]) -> bool {
    actor
        .roles
        .iter()
        .any(|r| roles.iter().any(|x| r.eq_ignore_ascii_case(x)))
}

fn change_triples(
    graph_iri: &str,
    policy: &NamedNode,
    change: &str,
    actor: &str,
    at: &str,
    note: Option<&str>,
) -> Vec<Triple> {
    let c = NamedNode::new_unchecked(format!("{graph_iri}#change"));
    let mut out = vec![
        Triple::new(c.clone(), rdf::TYPE, gg::POLICY_CHANGE),
        Triple::new(c.clone(), rdf::TYPE, prov::ACTIVITY),
        Triple::new(c.clone(), gg::POLICY_PROP, policy.clone()),
        Triple::new(c.clone(), gg::CHANGE, Literal::new_simple_literal(change)),
        Triple::new(c.clone(), gg::ACTOR, Literal::new_simple_literal(actor)),
        Triple::new(
            c.clone(),
            prov::AT_TIME,
            Literal::new_typed_literal(at, xsd::DATE_TIME),
        ),
    ];
    if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
        out.push(Triple::new(
            c,
            dct::DESCRIPTION,
            Literal::new_simple_literal(n.trim()),
        ));
    }
    out
}

/// What a proposal made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposed {
    /// The new version's IRI.
    pub iri: String,
    /// Its number.
    pub version: u32,
    /// The graph that holds it.
    pub graph: String,
}

/// Proposes `policy` (its key names the policy) as a new version. Stewards and admins may
/// propose. The version is validated like any load and enforced only once approved.
pub fn propose(
    store: &GraphStore,
    scope: &Scope,
    policy: &Policy,
    actor: &Subject,
    note: Option<&str>,
) -> Result<Proposed> {
    if !has_role(actor, &["steward", "admin"]) {
        return Err(Error::Forbidden(
            "only stewards and admins propose policies".into(),
        ));
    }
    let key = policy.key.clone();
    let at = format!("policy {key}");
    if policy.title.trim().is_empty() {
        return Err(Error::invalid(&at, "title", "is empty"));
    }
    if policy.rules.is_empty() {
        return Err(Error::invalid(
            &at,
            "rules",
            "a policy has at least one rule",
        ));
    }
    if policy.scope == govgraph_graph::model::PolicyScope::Domain && policy.domain.is_none() {
        return Err(Error::invalid(
            &at,
            "domain",
            "a domain policy names its domain",
        ));
    }
    for (i, r) in policy.rules.iter().enumerate() {
        if r.targets.is_empty() {
            return Err(Error::invalid(
                &at,
                format!("rules[{i}].targets"),
                "name at least one target",
            ));
        }
    }
    let h = history(store, scope, &key)?;
    if let Some(open) = h.versions.iter().find(|v| v.status == "proposed") {
        return Err(Error::Conflict(format!(
            "version {} of {key} is still awaiting approval; approve or reject it first",
            open.version
        )));
    }
    let version = h
        .versions
        .iter()
        .map(|v| v.version)
        .max()
        .map_or(1, |n| n + 1);
    let mut p = policy.clone();
    p.version = version;
    p.status = "proposed".to_owned();
    if version > 1 {
        p.key = format!("{key}.v{version}");
    }
    let scheme = store.scheme();
    let iri = p.iri(scheme);
    let mut triples = Vec::new();
    p.write(scheme, &mut triples);
    let series = scheme.entity(Kind::Policy, &key);
    if version > 1 {
        triples.push(Triple::new(iri.clone(), dct::IS_VERSION_OF, series.clone()));
        if let Some(current) = h.versions.iter().rev().find(|v| v.status == "approved") {
            triples.push(Triple::new(
                iri.clone(),
                prov::WAS_REVISION_OF,
                NamedNode::new_unchecked(current.iri.clone()),
            ));
        }
    }
    let name = scope.source_name(&format!("policy:{key}:v{version}"));
    let change_name = scope.source_name(&format!("policy-change:{key}:v{version}:proposed"));
    let change_graph = format!("{}{change_name}", govgraph_graph::vocab::graphs::PREFIX);
    let changes = change_triples(&change_graph, &iri, "proposed", &actor.name, &now(), note);
    store.load(
        vec![
            LoadSource::from_triples(&name, &name, triples),
            LoadSource::from_triples(&change_name, &change_name, changes),
        ],
        &LoadOptions::default(),
        &NoProgress,
    )?;
    Ok(Proposed {
        iri: iri.into_string(),
        version,
        graph: format!("{}{name}", govgraph_graph::vocab::graphs::PREFIX),
    })
}

/// Approves (`approve = true`) or rejects version `version` of `key`. Only admins decide,
/// and never on their own proposal. Approving retires the version in force.
pub fn decide(
    store: &GraphStore,
    scope: &Scope,
    key: &str,
    version: u32,
    approve: bool,
    actor: &Subject,
    note: Option<&str>,
) -> Result<Change> {
    if !has_role(actor, &["admin"]) {
        return Err(Error::Forbidden(
            "only admins approve or reject policies".into(),
        ));
    }
    let h = history(store, scope, key)?;
    let v = h
        .versions
        .iter()
        .find(|v| v.version == version)
        .ok_or_else(|| Error::NotFound(format!("version {version} of policy {key}")))?;
    if v.status != "proposed" {
        return Err(Error::Conflict(format!(
            "version {version} of {key} is {}, not proposed",
            v.status
        )));
    }
    if let Some(p) = h
        .changes
        .iter()
        .rev()
        .find(|c| c.policy == v.iri && c.action == "proposed")
        && p.actor == actor.name
    {
        return Err(Error::Forbidden(format!(
            "{} proposed this version; another admin must decide on it",
            actor.name
        )));
    }
    let action = if approve { "approved" } else { "rejected" };
    let at = now();
    let change_name = scope.source_name(&format!("policy-change:{key}:v{version}:{action}"));
    let change_graph = format!("{}{change_name}", govgraph_graph::vocab::graphs::PREFIX);
    let target = NamedNode::new_unchecked(v.iri.clone());
    let changes = change_triples(&change_graph, &target, action, &actor.name, &at, note);
    let mut data = String::new();
    for t in &changes {
        data.push_str(&t.to_string());
        data.push_str(" .\n");
    }
    // Each status is rewritten in the graph that holds it.
    let mut changes_to: Vec<(String, &str)> =
        vec![(v.iri.clone(), if approve { "approved" } else { "rejected" })];
    if approve {
        changes_to.extend(
            h.versions
                .iter()
                .filter(|o| o.status == "approved" && o.iri != v.iri)
                .map(|o| (o.iri.clone(), "retired")),
        );
    }
    let mut update = String::new();
    for (iri, status) in &changes_to {
        for r in select(
            store,
            scope,
            &format!("SELECT DISTINCT ?g ?s WHERE {{ GRAPH ?g {{ <{iri}> gg:policyStatus ?s }} }}"),
        )? {
            let (Some(g), Some(s)) = (text(r.get("g")), r.get("s")) else {
                continue;
            };
            update.push_str(&format!(
                "DELETE DATA {{ GRAPH <{g}> {{ <{iri}> gg:policyStatus {s} }} }} ;\nINSERT DATA {{ GRAPH <{g}> {{ <{iri}> gg:policyStatus \"{status}\" }} }} ;\n"
            ));
        }
    }
    update.push_str(&format!(
        "INSERT DATA {{ GRAPH <{change_graph}> {{ {data} }} }}"
    ));
    store.update(&update, scope, Some(std::time::Duration::from_secs(30)))?;
    Ok(Change {
        policy: v.iri.clone(),
        version,
        action: action.to_owned(),
        actor: actor.name.clone(),
        at,
        note: note.map(str::to_owned),
    })
}
