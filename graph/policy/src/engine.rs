//! The decision point: `{principal, action, resource, purpose}` in, permit or deny out, with
//! the obligations and the policies that decided.
//!
//! The algorithm, for one request:
//! 1. The resource's facts: its dataset, classifications (with their broader concepts) and
//!    domain. A resource the catalog does not know is denied.
//! 2. The rules that apply: approved policies only; the rule targets the resource, its
//!    dataset, one of its classifications, its domain or `gg:AnyAsset`; its assignee is one of
//!    the caller's roles (or there is none); its action is the requested one or `odrl:use`;
//!    every constraint holds. A domain policy governs only its own domain's data. A
//!    permission whose constraint cannot be judged (no purpose given) does not apply; a
//!    prohibition whose constraint cannot be judged does (fail safe).
//! 3. Precedence: a prohibition without a masking duty denies (a central one first). A
//!    prohibition with a masking duty (ODRL's remedy) lets the data through only masked: no
//!    permission lifts that mask, and a central prohibition beats any domain permission.
//!    Otherwise a permission permits, with its duties and row filter (the least restrictive
//!    one wins when several apply). Otherwise personal, restricted or unclassified data is
//!    denied by default, as is any action other than reading or using; reading anything
//!    else is permitted.
//! 4. Every permission that lost to a prohibition is reported as a conflict.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use govgraph_graph::GraphStore;
use govgraph_graph::model::{Entity, Policy, PolicyRule, PolicyScope, RuleKind};
use govgraph_graph::scope::Scope;
use govgraph_graph::store::QueryOptions;
use oxigraph::model::{NamedNode, Term};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::mask::{MaskKey, MaskMethod, Masker, Treatment};
use crate::resource::{self, Resource, ResourceKind};

const ODRL: &str = "http://www.w3.org/ns/odrl/2/";
const GG: &str = "https://govgraph.dev/ns#";
const DPV: &str = "https://w3id.org/dpv#";

/// Who asks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Subject {
    /// A name for the audit and explanations.
    #[serde(default)]
    pub name: String,
    /// Roles: admin, steward, engineer, analyst, viewer (or role IRIs).
    #[serde(default)]
    pub roles: Vec<String>,
    /// The domains the caller belongs to (keys, such as `sales`, or IRIs).
    #[serde(default)]
    pub domains: Vec<String>,
}

impl Subject {
    /// A subject with one role.
    pub fn with_role(role: &str) -> Self {
        Self {
            name: role.to_owned(),
            roles: vec![role.to_owned()],
            domains: Vec::new(),
        }
    }

    /// The IRIs an ODRL assignee may use for this subject: `gg:AnalystRole` for `analyst`.
    fn assignee_names(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for r in &self.roles {
            if r.contains(':') {
                out.insert(r.clone());
            } else {
                let mut c = r.trim().chars();
                if let Some(first) = c.next() {
                    out.insert(format!(
                        "{GG}{}{}Role",
                        first.to_ascii_uppercase(),
                        c.as_str().to_ascii_lowercase()
                    ));
                }
            }
        }
        out
    }

    fn in_domain(&self, domain_iri: &str) -> bool {
        let key = domain_iri.rsplit('/').next().unwrap_or(domain_iri);
        self.domains
            .iter()
            .any(|d| d == domain_iri || d.eq_ignore_ascii_case(key))
    }
}

/// One question to the decision point.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Request {
    /// Who asks.
    pub principal: Subject,
    /// `read`, `use`, `modify`, `delete`, `distribute`... (or an ODRL action IRI).
    pub action: String,
    /// The resource's IRI.
    pub resource: String,
    /// The purpose (a DPV purpose IRI, `dpv:Marketing`, or words such as `marketing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

/// Permit or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Allowed, with the obligations.
    Permit,
    /// Refused.
    Deny,
}

/// Something the caller must do, or have done, to use a permit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Obligation {
    /// Show the values only masked.
    Mask {
        /// How.
        method: MaskMethod,
        /// The column, where the decision is about a dataset.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        column: Option<String>,
        /// The policy that asks for it.
        policy: String,
    },
    /// Leave a column out (a dataset decision, for a column the caller may not read).
    OmitColumn {
        /// The column.
        column: String,
        /// The policy that decided, if any (none: denied by default).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy: Option<String>,
    },
    /// Return only the rows where this SQL condition holds.
    RowFilter {
        /// The condition.
        condition: String,
        /// The policy that asks for it.
        policy: String,
    },
}

/// A policy rule that took part in a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRef {
    /// The policy's IRI.
    pub policy: String,
    /// Its title.
    pub title: String,
    /// `central` or `domain`.
    pub scope: String,
    /// Its version.
    pub version: u32,
    /// `permission`, `prohibition` or `obligation`.
    pub rule: String,
}

/// A permission that a prohibition overrode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The rule that won.
    pub winner: PolicyRef,
    /// The rule that lost.
    pub loser: PolicyRef,
    /// Why.
    pub reason: String,
}

/// The answer of the decision point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Permit or deny.
    pub effect: Effect,
    /// What a permit requires.
    pub obligations: Vec<Obligation>,
    /// The policies that decided (empty for a default decision).
    pub decided_by: Vec<PolicyRef>,
    /// The reasons, in words.
    pub reasons: Vec<String>,
    /// Permissions that prohibitions overrode.
    pub conflicts: Vec<Conflict>,
    /// Permissions that would apply with another purpose: `(policy, purpose)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub available_for: Vec<(PolicyRef, String)>,
}

impl Decision {
    /// Whether it permits.
    pub fn permits(&self) -> bool {
        self.effect == Effect::Permit
    }

    /// The masking the decision asks for on the resource itself (not on a dataset's columns).
    pub fn mask(&self) -> Option<MaskMethod> {
        self.obligations
            .iter()
            .filter_map(|o| match o {
                Obligation::Mask {
                    method,
                    column: None,
                    ..
                } => Some(*method),
                _ => None,
            })
            .max()
    }

    /// How this decision shows a value: as it is, masked, or not at all.
    pub fn treatment(&self) -> Option<Treatment> {
        if !self.permits() {
            Some(Treatment::Withhold)
        } else {
            self.mask().map(Treatment::Mask)
        }
    }

    fn deny(reason: String, by: Vec<PolicyRef>) -> Self {
        Self {
            effect: Effect::Deny,
            obligations: Vec::new(),
            decided_by: by,
            reasons: vec![reason],
            conflicts: Vec::new(),
            available_for: Vec::new(),
        }
    }
}

/// An approved rule, ready to match.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub(crate) policy: PolicyRef,
    pub(crate) central: bool,
    pub(crate) domain: Option<String>,
    pub(crate) kind: RuleKind,
    pub(crate) action: String,
    pub(crate) targets: BTreeSet<String>,
    pub(crate) assignees: BTreeSet<String>,
    pub(crate) constraints: Vec<(String, String, String)>,
    pub(crate) mask: Option<MaskMethod>,
    pub(crate) row_filter: Option<String>,
}

/// The approved policies of one scope, compiled.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    pub(crate) rules: Vec<Compiled>,
    /// Policies that could not be read, with the reason (they decide nothing; the resources
    /// they target are denied by default where that matters).
    pub unreadable: Vec<(String, String)>,
}

fn term_text(t: &Term) -> String {
    match t {
        Term::NamedNode(n) => n.as_str().to_owned(),
        Term::Literal(l) => l.value().to_owned(),
        other => other.to_string(),
    }
}

fn policy_ref(p: &Policy, iri: &NamedNode, kind: RuleKind) -> PolicyRef {
    PolicyRef {
        policy: iri.as_str().to_owned(),
        title: p.title.clone(),
        scope: match p.scope {
            PolicyScope::Central => "central",
            PolicyScope::Domain => "domain",
        }
        .to_owned(),
        version: p.version,
        rule: match kind {
            RuleKind::Permission => "permission",
            RuleKind::Prohibition => "prohibition",
            RuleKind::Obligation => "obligation",
        }
        .to_owned(),
    }
}

fn compile_rule(
    p: &Policy,
    iri: &NamedNode,
    r: &PolicyRule,
    scheme: &govgraph_graph::IriScheme,
) -> Compiled {
    let mask = r
        .duties
        .iter()
        .filter(|d| d.action.as_str() == format!("{ODRL}anonymize") || d.masking_method.is_some())
        .map(|d| {
            d.masking_method
                .as_deref()
                .and_then(MaskMethod::parse)
                .unwrap_or(MaskMethod::Redact)
        })
        .max();
    Compiled {
        policy: policy_ref(p, iri, r.kind),
        central: p.scope == PolicyScope::Central,
        domain: p
            .domain
            .as_ref()
            .map(|d| scheme.entity(govgraph_graph::Kind::Domain, d).into_string()),
        kind: r.kind,
        action: r.action.as_str().to_owned(),
        targets: r.targets.iter().map(|t| t.as_str().to_owned()).collect(),
        assignees: r.assignees.iter().map(|t| t.as_str().to_owned()).collect(),
        constraints: r
            .constraints
            .iter()
            .map(|c| {
                (
                    c.left.as_str().to_owned(),
                    c.operator.as_str().to_owned(),
                    term_text(&c.right),
                )
            })
            .collect(),
        mask,
        row_filter: r.row_filter.clone(),
    }
}

/// Approved policies with their IRIs, and the policies that could not be read with why.
pub type Approved = (Vec<(NamedNode, Policy)>, Vec<(String, String)>);

/// Lists the approved policies visible in `scope`.
pub fn approved_policies(store: &GraphStore, scope: &Scope) -> Result<Approved> {
    let options = QueryOptions {
        timeout: Some(std::time::Duration::from_secs(30)),
        ..QueryOptions::default()
    };
    let outcome = store.query_in(
        "SELECT DISTINCT ?p WHERE { { ?p a odrl:Set } UNION { ?p a odrl:Policy } }",
        &options,
        scope,
    )?;
    let rows = govgraph_graph::store::collect_solutions(outcome.results, &outcome.deadline)?;
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for r in rows {
        let Some(Term::NamedNode(iri)) = r.get("p") else {
            continue;
        };
        match Policy::read(store, store.scheme(), iri.as_ref()) {
            Ok(p) if p.status == "approved" => out.push((iri.clone(), p)),
            Ok(_) => {}
            Err(e) => bad.push((iri.as_str().to_owned(), e.to_string())),
        }
    }
    out.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    Ok((out, bad))
}

impl PolicySet {
    /// Reads and compiles the approved policies visible in `scope`.
    pub fn load(store: &GraphStore, scope: &Scope) -> Result<Self> {
        let (policies, unreadable) = approved_policies(store, scope)?;
        let mut rules = Vec::new();
        for (iri, p) in &policies {
            for r in &p.rules {
                rules.push(compile_rule(p, iri, r, store.scheme()));
            }
        }
        Ok(Self { rules, unreadable })
    }

    /// The retention obligations: `(policy, targets, ISO 8601 duration)`.
    pub fn retention(&self) -> Vec<(PolicyRef, Vec<String>, String)> {
        self.rules
            .iter()
            .filter(|r| r.kind == RuleKind::Obligation)
            .filter_map(|r| {
                let period = r
                    .constraints
                    .iter()
                    .find(|(l, _, _)| l == &format!("{ODRL}elapsedTime"))?
                    .2
                    .clone();
                Some((
                    r.policy.clone(),
                    r.targets.iter().cloned().collect(),
                    period,
                ))
            })
            .collect()
    }
}

/// Turns what a person writes for a purpose into an IRI: `marketing` → `dpv:Marketing`.
pub fn purpose_iri(purpose: &str) -> String {
    let p = purpose.trim();
    if p.starts_with("http://") || p.starts_with("https://") {
        return p.to_owned();
    }
    if let Some(local) = p.strip_prefix("dpv:") {
        return format!("{DPV}{local}");
    }
    let camel: String = p
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f)
                    if w.chars().any(|x| x.is_ascii_lowercase())
                        && w.chars().skip(1).any(|x| x.is_ascii_uppercase()) =>
                {
                    // Already CamelCase.
                    format!("{}{}", f.to_ascii_uppercase(), c.as_str())
                }
                Some(f) => format!(
                    "{}{}",
                    f.to_ascii_uppercase(),
                    c.as_str().to_ascii_lowercase()
                ),
                None => String::new(),
            }
        })
        .collect();
    format!("{DPV}{camel}")
}

/// Turns an action name into an ODRL IRI: `read` → `odrl:read`.
pub fn action_iri(action: &str) -> String {
    let a = action.trim();
    if a.contains(':') && !a.starts_with("odrl:") {
        return a.to_owned();
    }
    format!("{ODRL}{}", a.trim_start_matches("odrl:"))
}

/// Whether a constraint holds: `Some(true)`, `Some(false)`, or `None` when it cannot be
/// judged for this request.
fn constraint_holds(
    (left, op, right): &(String, String, String),
    subject: &Subject,
    resource: &Resource,
    purposes: Option<(&str, &BTreeSet<String>)>,
) -> Option<bool> {
    let op = op.strip_prefix(ODRL).unwrap_or(op);
    let left = left.as_str();
    if left == format!("{ODRL}purpose") {
        let purposes = purposes?;
        let (exact, all) = purposes;
        let held = match op {
            // `isA`: the request's purpose is the constraint's or a narrower one.
            "isA" | "isAnyOf" | "isPartOf" => all.contains(right),
            "eq" => exact == right,
            "neq" => exact != right,
            "isNoneOf" => !all.contains(right),
            _ => return None,
        };
        return Some(held);
    }
    if left == format!("{GG}assigneeDomain") {
        let domain = if right == &format!("{GG}ResourceDomain") {
            resource.domain.clone()?
        } else {
            right.clone()
        };
        let held = subject.in_domain(&domain);
        return match op {
            "eq" | "isA" | "isAnyOf" | "isPartOf" => Some(held),
            "neq" | "isNoneOf" => Some(!held),
            _ => None,
        };
    }
    None
}

/// The outcome of matching one rule.
enum Match {
    Applies,
    NeedsPurpose(String),
    No,
}

fn matches(
    rule: &Compiled,
    req_action: &str,
    subject: &Subject,
    subject_names: &BTreeSet<String>,
    resource: &Resource,
    names: &BTreeSet<String>,
    purposes: Option<(&str, &BTreeSet<String>)>,
) -> Match {
    if rule.kind == RuleKind::Obligation {
        return Match::No;
    }
    if rule.action != req_action && rule.action != format!("{ODRL}use") {
        return Match::No;
    }
    let any = format!("{GG}AnyAsset");
    if !rule.targets.is_empty() && !rule.targets.contains(&any) && rule.targets.is_disjoint(names) {
        return Match::No;
    }
    if !rule.assignees.is_empty() && rule.assignees.is_disjoint(subject_names) {
        return Match::No;
    }
    // A domain governs only its own data.
    if !rule.central
        && let Some(d) = &rule.domain
        && resource.domain.as_ref() != Some(d)
    {
        return Match::No;
    }
    for c in &rule.constraints {
        match constraint_holds(c, subject, resource, purposes) {
            Some(true) => {}
            Some(false) => return Match::No,
            None => {
                return match rule.kind {
                    RuleKind::Prohibition => Match::Applies,
                    _ if c.0 == format!("{ODRL}purpose") => Match::NeedsPurpose(c.2.clone()),
                    _ => Match::No,
                };
            }
        }
    }
    Match::Applies
}

fn short(iri: &str) -> String {
    if let Some(l) = iri.strip_prefix(DPV) {
        return format!("dpv:{l}");
    }
    iri.rsplit(['/', '#']).next().unwrap_or(iri).to_owned()
}

/// Decides one request about a resource whose facts are known.
pub fn decide_on(
    set: &PolicySet,
    request: &Request,
    resource: &Resource,
    purposes: Option<(&str, &BTreeSet<String>)>,
) -> Decision {
    let action = action_iri(&request.action);
    let subject_names = request.principal.assignee_names();
    let names = resource.target_names();
    let mut hard: Vec<&Compiled> = Vec::new();
    let mut masking: Vec<&Compiled> = Vec::new();
    let mut permissions: Vec<&Compiled> = Vec::new();
    let mut available = Vec::new();
    for rule in &set.rules {
        match matches(
            rule,
            &action,
            &request.principal,
            &subject_names,
            resource,
            &names,
            purposes,
        ) {
            Match::Applies => match (rule.kind, rule.mask) {
                (RuleKind::Prohibition, None) => hard.push(rule),
                (RuleKind::Prohibition, Some(_)) => masking.push(rule),
                (RuleKind::Permission, _) => permissions.push(rule),
                _ => {}
            },
            Match::NeedsPurpose(p) => available.push((rule.policy.clone(), short(&p))),
            Match::No => {}
        }
    }
    // Central rules first, then by policy IRI, so that explanations are stable.
    let order = |v: &mut Vec<&Compiled>| {
        v.sort_by(|a, b| {
            b.central
                .cmp(&a.central)
                .then(a.policy.policy.cmp(&b.policy.policy))
        });
    };
    order(&mut hard);
    order(&mut masking);
    order(&mut permissions);
    let what = short(&resource.iri);
    let conflicts = |winners: &[&Compiled], losers: &[&Compiled], why: &str| -> Vec<Conflict> {
        let Some(w) = winners.first() else {
            return Vec::new();
        };
        losers
            .iter()
            .map(|l| Conflict {
                winner: w.policy.clone(),
                loser: l.policy.clone(),
                reason: format!(
                    "{} {} \"{}\" {why} the {} permission \"{}\"",
                    w.policy.scope, w.policy.rule, w.policy.title, l.policy.scope, l.policy.title
                ),
            })
            .collect()
    };
    if !hard.is_empty() {
        let mut d = Decision::deny(
            format!(
                "{} prohibits {} on {what}",
                hard.iter()
                    .map(|r| format!("\"{}\"", r.policy.title))
                    .collect::<Vec<_>>()
                    .join(", "),
                short(&action)
            ),
            hard.iter().map(|r| r.policy.clone()).collect(),
        );
        d.conflicts = conflicts(&hard, &permissions, "overrides");
        d.available_for = Vec::new();
        return d;
    }
    if !masking.is_empty() {
        let method = masking
            .iter()
            .filter_map(|r| r.mask)
            .max()
            .unwrap_or(MaskMethod::Redact);
        let decider = masking
            .iter()
            .find(|r| r.mask == Some(method))
            .copied()
            .unwrap_or(masking[0]);
        let mut obligations = vec![Obligation::Mask {
            method,
            column: None,
            policy: decider.policy.policy.clone(),
        }];
        // A permission's row filter still narrows the rows.
        let mut by: Vec<PolicyRef> = masking.iter().map(|r| r.policy.clone()).collect();
        if let Some(p) = permissions.iter().find(|p| p.row_filter.is_some()) {
            obligations.push(Obligation::RowFilter {
                condition: p.row_filter.clone().unwrap_or_default(),
                policy: p.policy.policy.clone(),
            });
            by.push(p.policy.clone());
        }
        return Decision {
            effect: Effect::Permit,
            obligations,
            decided_by: by,
            reasons: vec![format!(
                "\"{}\" allows {what} only masked ({})",
                decider.policy.title,
                method.name()
            )],
            conflicts: conflicts(
                &masking,
                &permissions
                    .iter()
                    .filter(|p| p.mask.is_none_or(|m| m < method))
                    .copied()
                    .collect::<Vec<_>>(),
                "keeps the mask over",
            ),
            available_for: Vec::new(),
        };
    }
    if !permissions.is_empty() {
        // The least restrictive permission: no mask before a weak mask, no row filter first.
        let best = permissions
            .iter()
            .min_by_key(|p| (p.mask, p.row_filter.is_some(), !p.central))
            .copied()
            .unwrap_or(permissions[0]);
        let mut obligations = Vec::new();
        if let Some(m) = best.mask {
            obligations.push(Obligation::Mask {
                method: m,
                column: None,
                policy: best.policy.policy.clone(),
            });
        }
        if let Some(f) = &best.row_filter {
            obligations.push(Obligation::RowFilter {
                condition: f.clone(),
                policy: best.policy.policy.clone(),
            });
        }
        return Decision {
            effect: Effect::Permit,
            obligations,
            decided_by: vec![best.policy.clone()],
            reasons: vec![format!(
                "\"{}\" permits {} on {what}",
                best.policy.title,
                short(&action)
            )],
            conflicts: Vec::new(),
            available_for: Vec::new(),
        };
    }
    let mut d = if resource.personal || resource.restricted {
        Decision::deny(
            format!(
                "{what} holds {} data and no policy grants this access: denied by default",
                if resource.restricted {
                    "restricted"
                } else {
                    "personal"
                }
            ),
            Vec::new(),
        )
    } else if action != format!("{ODRL}read") && action != format!("{ODRL}use") {
        Decision::deny(
            format!(
                "no policy grants {} on {what}: denied by default",
                short(&action)
            ),
            Vec::new(),
        )
    } else if !resource.classified {
        Decision::deny(
            format!("{what} has not been classified: denied until it is"),
            Vec::new(),
        )
    } else {
        Decision {
            effect: Effect::Permit,
            obligations: Vec::new(),
            decided_by: Vec::new(),
            reasons: vec![format!("no policy restricts {} on {what}", short(&action))],
            conflicts: Vec::new(),
            available_for: Vec::new(),
        }
    };
    d.available_for = available;
    d
}

/// A decision with the facts it rested on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decided {
    /// The decision.
    #[serde(flatten)]
    pub decision: Decision,
    /// The resource's facts.
    pub resource: Resource,
    /// Whether it came from the cache.
    pub cached: bool,
}

#[derive(Debug, Default)]
struct Cache {
    generation: u64,
    sets: HashMap<Option<String>, Arc<PolicySet>>,
    resources: HashMap<(Option<String>, String), Arc<Resource>>,
    /// What a name (`bronze.customers.email`) resolved to.
    names: HashMap<(Option<String>, String), String>,
    purposes: HashMap<String, Arc<BTreeSet<String>>>,
    decisions: HashMap<(Option<String>, Request), Decided>,
    maskers: HashMap<(Option<String>, Subject, Option<String>), Arc<Masker>>,
}

/// The most decisions kept before the cache starts over.
const MAX_CACHED: usize = 100_000;

/// The decision point over a store, with its cache. Every commit to the store (a policy
/// changed, or a classification, or a column moved) empties the cache: decisions depend on
/// all of them.
#[derive(Debug)]
pub struct Engine {
    store: Arc<GraphStore>,
    key: MaskKey,
    cache: Mutex<Cache>,
}

impl Engine {
    /// An engine over `store`, masking with `key`.
    pub fn new(store: Arc<GraphStore>, key: MaskKey) -> Self {
        Self {
            store,
            key,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<GraphStore> {
        &self.store
    }

    /// The masking key.
    pub fn key(&self) -> &MaskKey {
        &self.key
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        let mut c = match self.cache.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = self.store.generation();
        if c.generation != now {
            *c = Cache {
                generation: now,
                ..Cache::default()
            };
        }
        c
    }

    /// The compiled policies of `scope`.
    pub fn policies(&self, scope: &Scope) -> Result<Arc<PolicySet>> {
        let key = scope.tenant_id().map(str::to_owned);
        if let Some(s) = self.cache().sets.get(&key) {
            return Ok(Arc::clone(s));
        }
        let set = Arc::new(PolicySet::load(&self.store, scope)?);
        self.cache().sets.insert(key, Arc::clone(&set));
        Ok(set)
    }

    fn resource(&self, scope: &Scope, iri: &str) -> Result<Arc<Resource>> {
        let key = (scope.tenant_id().map(str::to_owned), iri.to_owned());
        if let Some(r) = self.cache().resources.get(&key) {
            return Ok(Arc::clone(r));
        }
        let r = Arc::new(resource::load(&self.store, scope, iri)?);
        self.cache().resources.insert(key, Arc::clone(&r));
        Ok(r)
    }

    fn purposes(&self, purpose: &str) -> Result<Arc<BTreeSet<String>>> {
        let iri = purpose_iri(purpose);
        if let Some(p) = self.cache().purposes.get(&iri) {
            return Ok(Arc::clone(p));
        }
        let p = Arc::new(resource::purpose_ancestors(&self.store, &iri)?);
        self.cache().purposes.insert(iri, Arc::clone(&p));
        Ok(p)
    }

    /// Decides `request` within `scope`. The resource may be an IRI or a dotted name. A
    /// failure to decide is a deny, never an error: only a malformed request is an error.
    pub fn decide(&self, scope: &Scope, request: &Request) -> Result<Decided> {
        let mut request = request.clone();
        let tenant = scope.tenant_id().map(str::to_owned);
        let name_key = (tenant.clone(), request.resource.clone());
        let known = self.cache().names.get(&name_key).cloned();
        let resolved = match known {
            Some(iri) => Ok(iri),
            None => resource::resolve(&self.store, scope, &request.resource).inspect(|iri| {
                let mut c = self.cache();
                if c.names.len() >= MAX_CACHED {
                    c.names.clear();
                }
                c.names.insert(name_key, iri.clone());
            }),
        };
        request.resource = match resolved {
            Ok(iri) => iri,
            Err(Error::NotFound(what)) => {
                return Ok(Decided {
                    decision: Decision::deny(
                        format!("{what} is not in the catalog: denied"),
                        Vec::new(),
                    ),
                    resource: Resource::unknown(&request.resource),
                    cached: false,
                });
            }
            Err(e) => return Err(e),
        };
        if let Some(p) = &request.purpose
            && p.trim().is_empty()
        {
            request.purpose = None;
        }
        let key = (tenant, request.clone());
        if let Some(d) = self.cache().decisions.get(&key) {
            let mut d = d.clone();
            d.cached = true;
            return Ok(d);
        }
        let decided = match self.evaluate(scope, &request) {
            Ok(d) => d,
            Err(e @ Error::Invalid { .. }) => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, resource = %request.resource, "policy decision failed; denying");
                Decided {
                    decision: Decision::deny(
                        "the policy engine could not decide: denied".to_owned(),
                        Vec::new(),
                    ),
                    resource: Resource::unknown(&request.resource),
                    cached: false,
                }
            }
        };
        let mut c = self.cache();
        if c.decisions.len() >= MAX_CACHED {
            c.decisions.clear();
        }
        c.decisions.insert(key, decided.clone());
        Ok(decided)
    }

    fn evaluate(&self, scope: &Scope, request: &Request) -> Result<Decided> {
        let set = self.policies(scope)?;
        let resource = self.resource(scope, &request.resource)?;
        let purposes = match &request.purpose {
            Some(p) => Some((purpose_iri(p), self.purposes(p)?)),
            None => None,
        };
        let mut decision = decide_on(
            &set,
            request,
            &resource,
            purposes.as_ref().map(|(p, a)| (p.as_str(), &**a)),
        );
        if resource.kind == ResourceKind::Dataset && decision.permits() {
            self.add_column_obligations(scope, request, &resource, &mut decision)?;
        }
        Ok(Decided {
            decision,
            resource: (*resource).clone(),
            cached: false,
        })
    }

    /// A dataset's permit carries what applies to each of its columns.
    fn add_column_obligations(
        &self,
        scope: &Scope,
        request: &Request,
        dataset: &Resource,
        decision: &mut Decision,
    ) -> Result<()> {
        let options = QueryOptions {
            timeout: Some(std::time::Duration::from_secs(10)),
            ..QueryOptions::default()
        };
        let outcome = self.store.query_in(
            &format!("SELECT ?c WHERE {{ ?c gg:columnOf <{}> }}", dataset.iri),
            &options,
            scope,
        )?;
        let rows = govgraph_graph::store::collect_solutions(outcome.results, &outcome.deadline)?;
        let mut columns: Vec<String> = rows
            .iter()
            .filter_map(|r| match r.get("c") {
                Some(Term::NamedNode(n)) => Some(n.as_str().to_owned()),
                _ => None,
            })
            .collect();
        columns.sort();
        let set = self.policies(scope)?;
        let purposes = match &request.purpose {
            Some(p) => Some((purpose_iri(p), self.purposes(p)?)),
            None => None,
        };
        for c in columns {
            let facts = self.resource(scope, &c)?;
            let mut r = request.clone();
            r.resource = c.clone();
            let d = decide_on(
                &set,
                &r,
                &facts,
                purposes.as_ref().map(|(p, a)| (p.as_str(), &**a)),
            );
            if !d.permits() {
                decision.obligations.push(Obligation::OmitColumn {
                    column: c,
                    policy: d.decided_by.first().map(|p| p.policy.clone()),
                });
            } else {
                for o in d.obligations {
                    match o {
                        Obligation::Mask { method, policy, .. } => {
                            decision.obligations.push(Obligation::Mask {
                                method,
                                column: Some(c.clone()),
                                policy,
                            });
                        }
                        Obligation::RowFilter { .. } if !decision.obligations.contains(&o) => {
                            decision.obligations.push(o);
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// The masker for one caller: every value the catalog holds for a column (profile
    /// extremes and quartiles, classification evidence), treated as that column's decision
    /// for `subject` says. Built once per caller and store generation.
    pub fn masker(
        &self,
        scope: &Scope,
        subject: &Subject,
        purpose: Option<&str>,
    ) -> Result<Arc<Masker>> {
        let key = (
            scope.tenant_id().map(str::to_owned),
            subject.clone(),
            purpose.map(str::to_owned),
        );
        if let Some(m) = self.cache().maskers.get(&key) {
            return Ok(Arc::clone(m));
        }
        let values = self.protected_values(scope)?;
        let mut pairs = Vec::new();
        for (column, vals) in values {
            let request = Request {
                principal: subject.clone(),
                action: "read".to_owned(),
                resource: column,
                purpose: purpose.map(str::to_owned),
            };
            let d = self.decide(scope, &request)?;
            if let Some(t) = d.decision.treatment() {
                pairs.extend(vals.into_iter().map(|v| (v, t.clone())));
            }
        }
        let m = Arc::new(Masker::new(pairs, &self.key));
        self.cache().maskers.insert(key, Arc::clone(&m));
        Ok(m)
    }

    /// Maps a token back to the value it stands for, for a caller whose own decision on that
    /// column shows it in clear: `(column, value)`, or `None` when no value the catalog holds
    /// has this token or the caller may not see it. Tokens are keyed, so only this deployment
    /// can map them back; nothing beyond the catalog's own values is kept for it.
    pub fn detokenize(
        &self,
        scope: &Scope,
        caller: &Subject,
        token: &str,
    ) -> Result<Option<(String, String)>> {
        if !token.starts_with("tok_") {
            return Ok(None);
        }
        for (column, values) in self.protected_values(scope)? {
            for v in values {
                if crate::mask::apply(MaskMethod::Tokenize, v.trim(), &self.key) != token {
                    continue;
                }
                let d = self.decide(
                    scope,
                    &Request {
                        principal: caller.clone(),
                        action: "read".to_owned(),
                        resource: column.clone(),
                        purpose: None,
                    },
                )?;
                return Ok(
                    (d.decision.permits() && d.decision.mask().is_none()).then_some((column, v))
                );
            }
        }
        Ok(None)
    }

    /// The values the catalog holds for each column.
    fn protected_values(&self, scope: &Scope) -> Result<BTreeMap<String, Vec<String>>> {
        let options = QueryOptions {
            timeout: Some(std::time::Duration::from_secs(30)),
            ..QueryOptions::default()
        };
        let outcome = self.store.query_in(
            "SELECT DISTINCT ?c ?v WHERE {
               ?m dqv:computedOn ?c ; dqv:isMeasurementOf ?metric ; dqv:value ?v .
               VALUES ?metric { gg:MinimumValue gg:MaximumValue gg:FirstQuartile gg:Median gg:ThirdQuartile }
               ?c gg:columnOf ?d .
             }",
            &options,
            scope,
        )?;
        let rows = govgraph_graph::store::collect_solutions(outcome.results, &outcome.deadline)?;
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in rows {
            if let (Some(Term::NamedNode(c)), Some(v)) = (r.get("c"), r.get("v")) {
                out.entry(c.as_str().to_owned())
                    .or_default()
                    .push(term_text(v));
            }
        }
        Ok(out)
    }
}
