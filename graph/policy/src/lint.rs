//! Conflicts between policies, found before any request: a permission and a prohibition
//! that can meet on the same resource, for the same role and action. The report says which
//! one wins and why, with an example resource.

use std::collections::{BTreeMap, BTreeSet};

use govgraph_graph::GraphStore;
use govgraph_graph::model::RuleKind;
use govgraph_graph::scope::Scope;
use serde::Serialize;

use crate::engine::{PolicyRef, PolicySet};
use crate::error::Result;
use crate::resource::text;

const ODRL_USE: &str = "http://www.w3.org/ns/odrl/2/use";
const ANY: &str = "https://govgraph.dev/ns#AnyAsset";

/// Two rules that meet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyConflict {
    /// The rule that wins.
    pub winner: PolicyRef,
    /// The rule that loses.
    pub loser: PolicyRef,
    /// A resource where they meet.
    pub example: String,
    /// How many resources they meet on.
    pub resources: usize,
    /// Why the winner wins.
    pub reason: String,
}

/// A domain policy that names data outside its domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutOfDomain {
    /// The policy.
    pub policy: PolicyRef,
    /// The resources it cannot govern.
    pub resources: Vec<String>,
}

/// What `lint` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Lint {
    /// Permissions and prohibitions that meet.
    pub conflicts: Vec<PolicyConflict>,
    /// Domain policies that reach beyond their domain (those parts never apply).
    pub out_of_domain: Vec<OutOfDomain>,
    /// Policies that could not be read.
    pub unreadable: Vec<(String, String)>,
}

/// The datasets and columns a target covers, with each one's domain.
fn coverage(
    store: &GraphStore,
    scope: &Scope,
    target: &str,
) -> Result<BTreeMap<String, Option<String>>> {
    crate::resource::check_iri(target, "target")?;
    let q = if target == ANY {
        "SELECT ?r ?dom WHERE { { ?r a dcat:Dataset BIND(?r AS ?d) } UNION { ?r gg:columnOf ?d } OPTIONAL { ?d gg:domain ?dom } }".to_owned()
    } else {
        format!(
            "SELECT DISTINCT ?r ?dom WHERE {{
               {{ BIND(<{target}> AS ?r) ?r a dcat:Dataset BIND(?r AS ?d) }}
               UNION {{ ?r gg:columnOf <{target}> BIND(<{target}> AS ?d) }}
               UNION {{ BIND(<{target}> AS ?r) ?r gg:columnOf ?d }}
               UNION {{ ?r gg:tag ?t . ?t skos:broader* <{target}> . OPTIONAL {{ ?r gg:columnOf ?d0 }} BIND(COALESCE(?d0, ?r) AS ?d) }}
               UNION {{ ?d gg:domain <{target}> . {{ BIND(?d AS ?r) }} UNION {{ ?r gg:columnOf ?d }} }}
               OPTIONAL {{ ?d gg:domain ?dom }} }}"
        )
    };
    let mut out = BTreeMap::new();
    for r in crate::resource::select(store, scope, &q)? {
        if let Some(x) = text(r.get("r")) {
            out.insert(x, text(r.get("dom")));
        }
    }
    Ok(out)
}

/// What a rule can reach: the datasets and columns of its targets (a domain rule only
/// those of its domain).
fn covered(
    store: &GraphStore,
    scope: &Scope,
    rule: &crate::engine::Compiled,
    cache: &mut BTreeMap<String, BTreeMap<String, Option<String>>>,
) -> Result<BTreeMap<String, Option<String>>> {
    let mut all = BTreeMap::new();
    let targets: Vec<String> = if rule.targets.is_empty() {
        vec![ANY.to_owned()]
    } else {
        rule.targets.iter().cloned().collect()
    };
    for t in targets {
        if !cache.contains_key(&t) {
            let c = coverage(store, scope, &t)?;
            cache.insert(t.clone(), c);
        }
        if let Some(c) = cache.get(&t) {
            all.extend(c.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    if !rule.central
        && let Some(d) = &rule.domain
    {
        all.retain(|_, dom| dom.as_ref() == Some(d));
    }
    Ok(all)
}

/// Finds the conflicts between the approved policies of `scope`.
pub fn lint(store: &GraphStore, scope: &Scope, set: &PolicySet) -> Result<Lint> {
    let mut cache: BTreeMap<String, BTreeMap<String, Option<String>>> = BTreeMap::new();
    let mut report = Lint {
        unreadable: set.unreadable.clone(),
        ..Lint::default()
    };
    let mut reach: Vec<BTreeSet<String>> = Vec::new();
    for rule in &set.rules {
        reach.push(
            covered(store, scope, rule, &mut cache)?
                .into_keys()
                .collect(),
        );
        if !rule.central
            && let Some(d) = &rule.domain
        {
            let mut outside = Vec::new();
            for t in &rule.targets {
                if let Some(c) = cache.get(t) {
                    outside.extend(
                        c.iter()
                            .filter(|(_, dom)| dom.as_ref() != Some(d))
                            .filter(|(r, _)| r == &t)
                            .map(|(r, _)| r.clone()),
                    );
                }
            }
            if !outside.is_empty() {
                outside.sort();
                outside.dedup();
                report.out_of_domain.push(OutOfDomain {
                    policy: rule.policy.clone(),
                    resources: outside,
                });
            }
        }
    }
    for (i, p) in set.rules.iter().enumerate() {
        if p.kind != RuleKind::Permission {
            continue;
        }
        for (j, q) in set.rules.iter().enumerate() {
            if q.kind != RuleKind::Prohibition {
                continue;
            }
            let actions = p.action == q.action || p.action == ODRL_USE || q.action == ODRL_USE;
            let roles = p.assignees.is_empty()
                || q.assignees.is_empty()
                || !p.assignees.is_disjoint(&q.assignees);
            if !actions || !roles {
                continue;
            }
            // A masking prohibition only conflicts with a permission that would show more.
            if let Some(m) = q.mask
                && p.mask.is_some_and(|pm| pm >= m)
            {
                continue;
            }
            let both: Vec<&String> = reach[i].intersection(&reach[j]).collect();
            let Some(example) = both.first() else {
                continue;
            };
            let reason = match (q.central, p.central, q.mask) {
                (true, false, _) => "a central prohibition beats a domain permission".to_owned(),
                (_, _, Some(m)) => format!(
                    "a prohibition with a masking duty keeps the mask ({})",
                    m.name()
                ),
                _ => "a prohibition beats a permission".to_owned(),
            };
            report.conflicts.push(PolicyConflict {
                winner: q.policy.clone(),
                loser: p.policy.clone(),
                example: (*example).clone(),
                resources: both.len(),
                reason,
            });
        }
    }
    report.conflicts.sort_by(|a, b| {
        (&a.winner.policy, &a.loser.policy).cmp(&(&b.winner.policy, &b.loser.policy))
    });
    report
        .conflicts
        .dedup_by(|a, b| a.winner.policy == b.winner.policy && a.loser.policy == b.loser.policy);
    Ok(report)
}
