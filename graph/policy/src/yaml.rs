//! The YAML form of policies, which compiles to ODRL 2.2.
//!
//! ```yaml
//! policies:
//!   - id: pii-masking-for-analysts
//!     title: Analysts never see personal data in clear
//!     scope: central            # or: domain (then `domain: marketing`)
//!     rules:
//!       - effect: prohibit      # permit, prohibit or oblige
//!         action: read
//!         targets: [tag:pii]    # tag:, pd: (a DPV personal-data category), dataset:SYSTEM/NAME,
//!                               # column:SYSTEM/NAME.COLUMN, domain:, term:, any, or an IRI
//!         assignees: [analyst]
//!         mask: hash            # redact, hash, partial or tokenize
//!       - effect: permit
//!         action: read
//!         targets: [column:shop/bronze.customers.email]
//!         assignees: [analyst]
//!         purpose: marketing    # a DPV purpose; narrower purposes match too
//!         assignee_domain: same # the caller must belong to the data's domain (or name one)
//!         row_filter: marketing_opt_in = TRUE
//!       - effect: oblige
//!         action: delete
//!         targets: [dataset:shop/bronze.support_tickets]
//!         retention: P3Y        # an ISO 8601 duration
//! ```

use govgraph_graph::IriScheme;
use govgraph_graph::iri::{DatasetKey, Kind};
use govgraph_graph::model::{Constraint, Duty, Policy, PolicyRule, PolicyScope, RuleKind};
use oxigraph::model::{Literal, NamedNode};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::mask::MaskMethod;

const ODRL: &str = "http://www.w3.org/ns/odrl/2/";
const GG: &str = "https://govgraph.dev/ns#";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Many {
    policies: Vec<YamlPolicy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlPolicy {
    id: String,
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    status: Option<String>,
    rules: Vec<YamlRule>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlRule {
    effect: String,
    action: String,
    #[serde(default, alias = "target")]
    targets: Option<OneOrMany>,
    #[serde(default, alias = "assignee")]
    assignees: Option<OneOrMany>,
    #[serde(default, alias = "purposes")]
    purpose: Option<OneOrMany>,
    #[serde(default)]
    assignee_domain: Option<String>,
    #[serde(default)]
    mask: Option<String>,
    #[serde(default)]
    row_filter: Option<String>,
    #[serde(default)]
    retention: Option<String>,
}

const ROLES: &[&str] = &["admin", "steward", "engineer", "analyst", "viewer"];

fn node(iri: String) -> NamedNode {
    NamedNode::new_unchecked(iri)
}

fn checked_iri(s: &str, file: &str, field: &str) -> Result<NamedNode> {
    NamedNode::new(s).map_err(|e| Error::invalid(file, field, format!("{s:?} is not an IRI: {e}")))
}

/// A target written as `tag:pii`, `pd:EmailAddress`, `dataset:shop/bronze.orders`,
/// `column:shop/bronze.orders.id`, `domain:sales`, `term:revenue`, `any`, or an IRI.
fn target(s: &str, scheme: &IriScheme, file: &str, field: &str) -> Result<NamedNode> {
    let s = s.trim();
    if s == "any" || s == "*" {
        return Ok(node(format!("{GG}AnyAsset")));
    }
    if s.starts_with("http://") || s.starts_with("https://") || s.starts_with("urn:") {
        return checked_iri(s, file, field);
    }
    if let Some(local) = s.strip_prefix("pd:") {
        return checked_iri(&format!("https://w3id.org/dpv/pd#{local}"), file, field);
    }
    let bad = |why: &str| Error::invalid(file, field, format!("{s:?}: {why}"));
    let (kind, rest) = s
        .split_once(':')
        .ok_or_else(|| bad("expected tag:, dataset:, column:, domain:, term:, any, or an IRI"))?;
    if rest.is_empty() {
        return Err(bad("the name is missing"));
    }
    let dataset = |r: &str| -> Result<DatasetKey> {
        let (system, name) = r
            .split_once('/')
            .ok_or_else(|| bad("expected SYSTEM/NAME, such as shop/bronze.orders"))?;
        Ok(DatasetKey::new(system, name))
    };
    match kind {
        "tag" => Ok(scheme.entity(Kind::Tag, rest)),
        "domain" => Ok(scheme.entity(Kind::Domain, rest)),
        "term" => Ok(scheme.entity(Kind::Term, rest)),
        "dataset" => Ok(scheme.dataset(&dataset(rest)?)),
        "column" => {
            let (table, column) = rest
                .rsplit_once('.')
                .ok_or_else(|| bad("expected SYSTEM/NAME.COLUMN"))?;
            Ok(scheme.column(&govgraph_graph::iri::ColumnKey::new(
                dataset(table)?,
                column,
            )))
        }
        _ => Err(bad(
            "expected tag:, dataset:, column:, domain:, term:, any, or an IRI",
        )),
    }
}

fn assignee(s: &str, scheme: &IriScheme, file: &str, field: &str) -> Result<NamedNode> {
    let s = s.trim();
    if ROLES.contains(&s.to_ascii_lowercase().as_str()) {
        let l = s.to_ascii_lowercase();
        let mut c = l.chars();
        let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or_default();
        return Ok(node(format!("{GG}{first}{}Role", c.as_str())));
    }
    if let Some(team) = s.strip_prefix("agent:") {
        return Ok(scheme.entity(Kind::Agent, team));
    }
    if s.contains("://") || s.starts_with("urn:") {
        return checked_iri(s, file, field);
    }
    Err(Error::invalid(
        file,
        field,
        format!(
            "{s:?}: expected a role (admin, steward, engineer, analyst, viewer), agent:NAME or an IRI"
        ),
    ))
}

/// Whether `s` is an ISO 8601 duration such as `P3Y`, `P18M`, `P30D` or `PT12H`.
pub fn is_duration(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('P') else {
        return false;
    };
    if rest.is_empty() {
        return false;
    }
    let mut digits = false;
    let mut time = false;
    let mut any = false;
    for c in rest.chars() {
        match c {
            '0'..='9' => digits = true,
            'T' if !time && !digits => time = true,
            'Y' | 'M' | 'W' | 'D' if !time && digits => {
                digits = false;
                any = true;
            }
            'H' | 'M' | 'S' if time && digits => {
                digits = false;
                any = true;
            }
            _ => return false,
        }
    }
    any && !digits
}

/// Compiles the YAML text of `file` into policies.
pub fn compile(text: &str, file: &str, scheme: &IriScheme) -> Result<Vec<Policy>> {
    let located = |e: yaml_serde::Error| {
        let field = e.location().map_or_else(
            || "(document)".to_owned(),
            |l| format!("line {}, column {}", l.line(), l.column()),
        );
        Error::invalid(file, field, e.to_string())
    };
    // One policy, or `policies:` with a list: decided first, so that errors keep their line.
    let many = matches!(
        yaml_serde::from_str::<yaml_serde::Value>(text).map_err(located)?,
        yaml_serde::Value::Mapping(ref m) if m.contains_key("policies")
    );
    let list = if many {
        yaml_serde::from_str::<Many>(text)
            .map_err(located)?
            .policies
    } else {
        vec![yaml_serde::from_str::<YamlPolicy>(text).map_err(located)?]
    };
    if list.is_empty() {
        return Err(Error::invalid(file, "policies", "no policy"));
    }
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, p) in list.into_iter().enumerate() {
        let at = format!("policies[{i}]");
        let key = govgraph_graph::iri::slug(&p.id);
        if key != p.id {
            return Err(Error::invalid(
                file,
                format!("{at}.id"),
                format!(
                    "{:?}: use lowercase letters, digits, '.', '_' and '-' (such as {key:?})",
                    p.id
                ),
            ));
        }
        if !seen.insert(key.clone()) {
            return Err(Error::invalid(
                file,
                format!("{at}.id"),
                format!("{key:?} appears twice"),
            ));
        }
        if p.title.trim().is_empty() {
            return Err(Error::invalid(file, format!("{at}.title"), "is empty"));
        }
        let scope = match p.scope.as_deref().unwrap_or(if p.domain.is_some() {
            "domain"
        } else {
            "central"
        }) {
            "central" => PolicyScope::Central,
            "domain" => PolicyScope::Domain,
            other => {
                return Err(Error::invalid(
                    file,
                    format!("{at}.scope"),
                    format!("{other:?}: expected central or domain"),
                ));
            }
        };
        if scope == PolicyScope::Domain && p.domain.is_none() {
            return Err(Error::invalid(
                file,
                format!("{at}.domain"),
                "a domain policy names its domain",
            ));
        }
        if scope == PolicyScope::Central && p.domain.is_some() {
            return Err(Error::invalid(
                file,
                format!("{at}.domain"),
                "a central policy has no domain",
            ));
        }
        let status = p.status.clone().unwrap_or_else(|| "approved".to_owned());
        if !["draft", "proposed", "approved", "retired"].contains(&status.as_str()) {
            return Err(Error::invalid(
                file,
                format!("{at}.status"),
                format!("{status:?}: expected draft, proposed, approved or retired"),
            ));
        }
        if p.rules.is_empty() {
            return Err(Error::invalid(
                file,
                format!("{at}.rules"),
                "a policy has at least one rule",
            ));
        }
        let mut rules = Vec::new();
        for (j, r) in p.rules.into_iter().enumerate() {
            rules.push(rule(r, scheme, file, &format!("{at}.rules[{j}]"))?);
        }
        out.push(Policy {
            key,
            title: p.title.trim().to_owned(),
            description: p.description.map(|d| d.trim().to_owned()),
            scope,
            domain: p.domain.map(|d| govgraph_graph::iri::slug(&d)),
            version: p.version.unwrap_or(1),
            status,
            rules,
        });
    }
    Ok(out)
}

fn rule(r: YamlRule, scheme: &IriScheme, file: &str, at: &str) -> Result<PolicyRule> {
    let kind = match r.effect.as_str() {
        "permit" | "permission" => RuleKind::Permission,
        "prohibit" | "prohibition" | "deny" => RuleKind::Prohibition,
        "oblige" | "obligation" => RuleKind::Obligation,
        other => {
            return Err(Error::invalid(
                file,
                format!("{at}.effect"),
                format!("{other:?}: expected permit, prohibit or oblige"),
            ));
        }
    };
    let action = r.action.trim();
    if action.is_empty() || action.contains(char::is_whitespace) {
        return Err(Error::invalid(
            file,
            format!("{at}.action"),
            "expected an ODRL action such as read, use or delete",
        ));
    }
    let action = if action.contains("://") {
        checked_iri(action, file, &format!("{at}.action"))?
    } else {
        node(format!("{ODRL}{}", action.trim_start_matches("odrl:")))
    };
    let mut targets = Vec::new();
    for (k, t) in r
        .targets
        .map(OneOrMany::into_vec)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        targets.push(target(t, scheme, file, &format!("{at}.targets[{k}]"))?);
    }
    if targets.is_empty() {
        return Err(Error::invalid(
            file,
            format!("{at}.targets"),
            "name at least one target (or `any`)",
        ));
    }
    let mut assignees = Vec::new();
    for (k, a) in r
        .assignees
        .map(OneOrMany::into_vec)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        assignees.push(assignee(a, scheme, file, &format!("{at}.assignees[{k}]"))?);
    }
    let mut constraints = Vec::new();
    for p in r.purpose.map(OneOrMany::into_vec).unwrap_or_default() {
        constraints.push(Constraint {
            left: node(format!("{ODRL}purpose")),
            operator: node(format!("{ODRL}isA")),
            right: node(crate::engine::purpose_iri(&p)).into(),
        });
    }
    if let Some(d) = r.assignee_domain {
        let right = if d == "same" {
            node(format!("{GG}ResourceDomain"))
        } else {
            scheme.entity(Kind::Domain, &d)
        };
        constraints.push(Constraint {
            left: node(format!("{GG}assigneeDomain")),
            operator: node(format!("{ODRL}eq")),
            right: right.into(),
        });
    }
    if let Some(period) = r.retention {
        if !is_duration(&period) {
            return Err(Error::invalid(
                file,
                format!("{at}.retention"),
                format!("{period:?}: expected an ISO 8601 duration such as P3Y or P18M"),
            ));
        }
        if kind != RuleKind::Obligation {
            return Err(Error::invalid(
                file,
                format!("{at}.retention"),
                "retention belongs to an `oblige` rule (action delete)",
            ));
        }
        constraints.push(Constraint {
            left: node(format!("{ODRL}elapsedTime")),
            operator: node(format!("{ODRL}lteq")),
            right: Literal::new_typed_literal(period, govgraph_graph::vocab::xsd::DURATION).into(),
        });
    }
    let mut duties = Vec::new();
    if let Some(m) = r.mask {
        let method = MaskMethod::parse(&m).ok_or_else(|| {
            Error::invalid(
                file,
                format!("{at}.mask"),
                format!("{m:?}: expected redact, hash, partial or tokenize"),
            )
        })?;
        if kind == RuleKind::Obligation {
            return Err(Error::invalid(
                file,
                format!("{at}.mask"),
                "masking belongs to a permit or prohibit rule",
            ));
        }
        duties.push(Duty {
            action: node(format!("{ODRL}anonymize")),
            masking_method: Some(method.name().to_owned()),
        });
    }
    if r.row_filter.is_some() && kind != RuleKind::Permission {
        return Err(Error::invalid(
            file,
            format!("{at}.row_filter"),
            "a row filter belongs to a permit rule",
        ));
    }
    if let Some(f) = &r.row_filter
        && f.trim().is_empty()
    {
        return Err(Error::invalid(file, format!("{at}.row_filter"), "is empty"));
    }
    Ok(PolicyRule {
        kind,
        action,
        targets,
        assignees,
        constraints,
        duties,
        row_filter: r.row_filter.map(|f| f.trim().to_owned()),
    })
}

/// Writes policies as Turtle (what `compile` produces, for review or loading).
pub fn to_turtle(policies: &[Policy], scheme: &IriScheme) -> Result<String> {
    use govgraph_graph::model::Entity;
    let mut triples = Vec::new();
    for p in policies {
        p.write(scheme, &mut triples);
    }
    let mut serializer = oxigraph::io::RdfSerializer::from_format(oxigraph::io::RdfFormat::Turtle);
    for (prefix, ns) in govgraph_graph::vocab::prefix_pairs() {
        serializer = serializer
            .with_prefix(prefix, ns)
            .map_err(|e| Error::invalid("(turtle)", "prefix", e.to_string()))?;
    }
    let mut w = serializer.for_writer(Vec::new());
    for t in &triples {
        w.serialize_triple(t)
            .map_err(|e| Error::invalid("(turtle)", "triple", e.to_string()))?;
    }
    let bytes = w
        .finish()
        .map_err(|e| Error::invalid("(turtle)", "triple", e.to_string()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads policies from a file's text: YAML (`.yaml`, `.yml`) compiled to ODRL, or Turtle
/// (anything else) read as ODRL.
pub fn read_policies(text: &str, file: &str, scheme: &IriScheme) -> Result<Vec<Policy>> {
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        return compile(text, file, scheme);
    }
    use govgraph_graph::model::Entity;
    use govgraph_graph::vocab::{odrl, rdf};
    let mut graph = oxigraph::model::Graph::new();
    for t in oxigraph::io::RdfParser::from_format(oxigraph::io::RdfFormat::Turtle)
        .for_slice(text.as_bytes())
    {
        let t = t.map_err(|e| {
            let field = e.location().map_or_else(
                || "(document)".to_owned(),
                |l| format!("line {}, column {}", l.start.line + 1, l.start.column + 1),
            );
            Error::invalid(file, field, e.to_string())
        })?;
        graph.insert(&t.into());
    }
    let mut subjects: Vec<NamedNode> = Vec::new();
    for class in [odrl::SET, odrl::POLICY] {
        for s in graph.subjects_for_predicate_object(rdf::TYPE, class) {
            if let oxigraph::model::NamedOrBlankNodeRef::NamedNode(n) = s
                && !subjects.iter().any(|x| x.as_ref() == n)
            {
                subjects.push(n.into_owned());
            }
        }
    }
    if subjects.is_empty() {
        return Err(Error::invalid(
            file,
            "(document)",
            "no odrl:Set or odrl:Policy in the file",
        ));
    }
    subjects.sort();
    let mut out = Vec::new();
    for s in subjects {
        out.push(
            Policy::read(&graph, scheme, s.as_ref())
                .map_err(|e| Error::invalid(file, s.as_str(), e.to_string()))?,
        );
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for ok in ["P3Y", "P18M", "P30D", "PT12H", "P1Y6M", "P2W"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "P", "3Y", "PY", "P3", "PT", "P3H", "P1Y2"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }
}
