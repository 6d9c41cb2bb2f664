//! The guardrail: roles, requests for values, and masking of personal data in every answer.

use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::answer::{Outcome, restricted_columns};
use super::facts::{EntityRef, refs};
use super::intent::VALUE_NOUNS;
use super::kb::{Kb, text, values};
use super::lexicon::{Entry, Kind, Lexicon};
use super::text::{has_any, join_names};
use crate::error::Result;

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Curates a domain's data: may see values to judge them.
    Steward,
    /// Builds pipelines: may see values except restricted ones.
    Engineer,
    /// Analyses data: never sees personal values in clear.
    Analyst,
    /// Reads the catalog: never sees personal values.
    #[default]
    Viewer,
}

impl Role {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Steward => "steward",
            Role::Engineer => "engineer",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
        }
    }

    /// May this role see values of personal data (`restricted`: of restricted data)?
    pub fn may_see(self, pii: bool, restricted: bool) -> bool {
        match self {
            Role::Admin | Role::Steward => true,
            Role::Engineer => !restricted,
            Role::Analyst | Role::Viewer => !pii && !restricted,
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "steward" => Ok(Role::Steward),
            "engineer" => Ok(Role::Engineer),
            "analyst" => Ok(Role::Analyst),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!(
                "`{other}`: expected admin, steward, engineer, analyst or viewer"
            )),
        }
    }
}

/// Categories of values that are restricted whatever the catalog says.
const RESTRICTED_NOUNS: &[&str] = &[
    "salary",
    "salaries",
    "ssn",
    "ssns",
    "social security",
    "passport",
    "national id",
    "national ids",
    "credit card",
    "card numbers",
    "iban",
    "ibans",
    "password",
    "passwords",
    "date of birth",
    "dates of birth",
    "birth dates",
    "birthdays",
    "health",
    "religion",
    "ethnic",
];

/// The policy decision point, as one asker sees it.
#[derive(Debug)]
pub struct PolicyCheck<'a> {
    /// The engine.
    pub engine: &'a govgraph_policy::Engine,
    /// What the asker may read.
    pub scope: &'a govgraph_graph::Scope,
    /// Who asks.
    pub subject: govgraph_policy::Subject,
    /// Why, if they said.
    pub purpose: Option<String>,
}

impl PolicyCheck<'_> {
    /// The decision on `action` over `resource` for this asker (or, with `role`, for a
    /// principal of that role), for `purpose` (default: the asker's).
    pub fn decide(
        &self,
        resource: &str,
        action: &str,
        role: Option<&str>,
        purpose: Option<&str>,
    ) -> Result<govgraph_policy::Decided> {
        let principal = match role {
            Some(r) => govgraph_policy::Subject::with_role(r),
            None => self.subject.clone(),
        };
        let request = govgraph_policy::Request {
            principal,
            action: action.to_owned(),
            resource: resource.to_owned(),
            purpose: purpose.map(str::to_owned).or_else(|| self.purpose.clone()),
        };
        Ok(self.engine.decide(self.scope, &request)?)
    }
}

/// Where the values asked for live (the catalog holds none).
fn where_values_live(columns: &[EntityRef]) -> String {
    format!(
        "The catalog holds metadata, not row values. The values you ask for live in {}; read them from the source with your own access.",
        join_names(
            &columns
                .iter()
                .take(12)
                .map(|e| e.name.clone())
                .collect::<Vec<_>>()
        )
    )
}

/// A refusal naming the columns withheld, why, and the policies that decided.
fn refusal(role: Role, withheld: Vec<EntityRef>, policies: Vec<EntityRef>, why: &str) -> Outcome {
    let what = if withheld.is_empty() {
        "personal or restricted values".to_owned()
    } else {
        format!(
            "the values of {}",
            join_names(&withheld.iter().map(|e| e.name.clone()).collect::<Vec<_>>())
        )
    };
    let reason = format!(
        "The {} role may not obtain {what}{why}{}.",
        role.name(),
        if policies.is_empty() {
            String::new()
        } else {
            format!(
                " (policy: {})",
                join_names(&policies.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
            )
        }
    );
    let mut entities = withheld;
    entities.extend(policies);
    Outcome {
        text: format!("I can't share that. {reason}"),
        entities,
        refused: Some(reason),
        ..Outcome::default()
    }
}

/// Decides by the policy engine: the asked columns the asker may read in clear, and the
/// refusal when there are none.
fn decide_values(
    kb: &Kb<'_>,
    lex: &Lexicon,
    role: Role,
    policy: &PolicyCheck<'_>,
    columns: &[String],
) -> Result<Outcome> {
    let mut clear = Vec::new();
    let mut withheld = Vec::new();
    let mut deciders: Vec<String> = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    for c in columns {
        let d = policy.decide(c, "read", None, None)?.decision;
        if d.permits() && d.mask().is_none() {
            clear.push(c.clone());
            continue;
        }
        withheld.push(c.clone());
        for p in &d.decided_by {
            if !deciders.contains(&p.policy) {
                deciders.push(p.policy.clone());
            }
        }
        for r in &d.reasons {
            let r = match d.mask() {
                Some(m) if d.permits() => format!(
                    "{r}; values come only {}",
                    match m {
                        govgraph_policy::MaskMethod::Hash => "hashed",
                        govgraph_policy::MaskMethod::Redact => "redacted",
                        govgraph_policy::MaskMethod::Partial => "partially masked",
                        govgraph_policy::MaskMethod::Tokenize => "tokenized",
                    }
                ),
                _ => r.clone(),
            };
            if !reasons.contains(&r) {
                reasons.push(r);
            }
        }
    }
    let withheld_refs = refs(kb, lex, &withheld)?;
    if clear.is_empty() {
        let policies = refs(kb, lex, &deciders)?;
        return Ok(refusal(
            role,
            withheld_refs,
            policies,
            &format!(" in clear: {}", reasons.join("; ")),
        ));
    }
    let col_refs = refs(kb, lex, &clear)?;
    let mut text = where_values_live(&col_refs);
    if !withheld_refs.is_empty() {
        text.push_str(&format!(
            " Policy withholds {} from you.",
            join_names(
                &withheld_refs
                    .iter()
                    .take(12)
                    .map(|e| e.name.clone())
                    .collect::<Vec<_>>()
            )
        ));
    }
    Ok(Outcome {
        text,
        entities: col_refs,
        ..Outcome::default()
    })
}

/// Decides a request for values. The catalog holds metadata, so even a permitted request is
/// answered with where the values live, never with the values. With a policy engine, each
/// column's decision rules; without one, the role's defaults do.
pub fn values_request(
    kb: &Kb<'_>,
    lex: &Lexicon,
    role: Role,
    policy: Option<&PolicyCheck<'_>>,
    words: &[String],
    exact: &[Entry],
    mentions: &[Vec<Entry>],
) -> Result<Outcome> {
    // The columns the request is about.
    let mut columns: Vec<String> = exact
        .iter()
        .filter(|e| e.kind == Kind::Column)
        .map(|e| e.iri.clone())
        .collect();
    let datasets: Vec<String> = exact
        .iter()
        .chain(mentions.iter().flatten())
        .filter(|e| e.kind == Kind::Dataset)
        .map(|e| e.iri.clone())
        .collect();
    let concepts: Vec<String> = mentions
        .iter()
        .flatten()
        .filter(|e| matches!(e.kind, Kind::Term | Kind::Tag))
        .map(|e| e.iri.clone())
        .collect();
    if columns.is_empty() && !concepts.is_empty() {
        let scope = if datasets.is_empty() {
            String::new()
        } else {
            values("ds", &datasets)
        };
        let rows = kb.select(&format!(
            "SELECT DISTINCT ?c WHERE {{ {} {scope} ?n skos:broader* ?t . {{ ?c gg:term ?n }} UNION {{ ?c gg:tag ?n }} ?c gg:columnOf ?ds }}",
            values("t", &concepts)
        ))?;
        columns.extend(rows.iter().filter_map(|r| text(r, "c")));
    }
    if columns.is_empty() && !datasets.is_empty() {
        let rows = kb.select(&format!(
            "SELECT ?c WHERE {{ {} ?c gg:columnOf ?ds }}",
            values("ds", &datasets)
        ))?;
        columns.extend(rows.iter().filter_map(|r| text(r, "c")));
    }
    let flags = restricted_columns(kb, &columns)?;
    let named_restricted = has_any(words, RESTRICTED_NOUNS);
    if let Some(policy) = policy
        && !columns.is_empty()
    {
        // "the email addresses of all customers": where some of the columns hold personal
        // data, those are the ones asked about.
        let personal: Vec<String> = flags
            .iter()
            .filter(|(_, pii, restricted)| *pii || *restricted)
            .map(|(c, _, _)| c.clone())
            .collect();
        let asked = if personal.is_empty() {
            columns
        } else {
            personal
        };
        return decide_values(kb, lex, role, policy, &asked);
    }
    let denied: Vec<&(String, bool, bool)> = flags
        .iter()
        .filter(|(_, pii, restricted)| !role.may_see(*pii, *restricted))
        .collect();
    if !denied.is_empty()
        || (named_restricted
            && !role.may_see(true, true)
            && (columns.is_empty() || !denied.is_empty()))
        || (columns.is_empty() && !role.may_see(true, false) && has_any(words, VALUE_NOUNS))
    {
        let denied_iris: Vec<String> = denied.iter().map(|(c, _, _)| c.clone()).collect();
        let denied_refs = refs(kb, lex, &denied_iris)?;
        let any_restricted = denied.iter().any(|(_, _, r)| *r) || named_restricted;
        let policies = prohibiting_policies(kb, lex, role, &denied_iris)?;
        let why = if any_restricted {
            "restricted personal data (special categories, national identifiers, financial details of persons) is only shown to stewards and admins"
        } else {
            "personal data is only shown masked to this role"
        };
        return Ok(refusal(role, denied_refs, policies, &format!(": {why}")));
    }
    // "the email addresses of all customers": where some of the columns hold personal data,
    // those are the ones asked about.
    let personal: Vec<String> = flags
        .iter()
        .filter(|(_, pii, _)| *pii)
        .map(|(c, _, _)| c.clone())
        .collect();
    let columns = if personal.is_empty() {
        columns
    } else {
        personal
    };
    let col_refs = refs(kb, lex, &columns)?;
    let text = if col_refs.is_empty() {
        "No catalogued column holds those values.".to_owned()
    } else {
        where_values_live(&col_refs)
    };
    Ok(Outcome {
        text,
        entities: col_refs,
        ..Outcome::default()
    })
}

/// Policies that prohibit `role` from reading the columns (through the columns, their
/// datasets or their tags).
fn prohibiting_policies(
    kb: &Kb<'_>,
    lex: &Lexicon,
    role: Role,
    columns: &[String],
) -> Result<Vec<EntityRef>> {
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let assignee = format!("gg:{}Role", capitalised(role.name()));
    let rows = kb.select(&format!(
        "SELECT DISTINCT ?p WHERE {{ {} {{ ?c gg:columnOf ?cd . BIND (?c AS ?t) }} UNION {{ ?c gg:columnOf ?t }} UNION {{ ?c gg:tag ?x . ?x skos:broader* ?t }}
           ?p a odrl:Policy ; odrl:prohibition ?r . ?r odrl:target ?t ; odrl:assignee {assignee} }} ORDER BY ?p",
        values("c", columns)
    ))?;
    refs(
        kb,
        lex,
        &rows.iter().filter_map(|r| text(r, "p")).collect::<Vec<_>>(),
    )
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn patterns() -> &'static [(Regex, &'static str)] {
    static P: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    P.get_or_init(|| {
        [
            (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", "[email]"),
            (
                r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
                "[iban]",
            ),
            (r"\b(?:\d[ -]?){13,19}\b", "[number]"),
            (r"\b\d{3}-\d{2}-\d{4}\b", "[national id]"),
            (
                r"\+?\(?\d{1,4}\)?[ .-]?\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]\d{3,4}\b",
                "[phone]",
            ),
            (r"\b(?:\d{1,3}\.){3}\d{1,3}\b", "[ip address]"),
        ]
        .into_iter()
        .filter_map(|(p, m)| Regex::new(p).ok().map(|r| (r, m)))
        .collect()
    })
}

/// Masks personal values in text: emails, IBANs, card and account numbers, national ids,
/// phone numbers and IP addresses.
pub fn mask(text: &str) -> String {
    let mut out = text.to_owned();
    for (re, with) in patterns() {
        out = re.replace_all(&out, *with).into_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_personal_values() {
        assert_eq!(
            mask("write to jane.doe@example.com now"),
            "write to [email] now"
        );
        assert_eq!(mask("call +49 30 1234 5678"), "call [phone]");
        assert_eq!(mask("from 192.168.1.20"), "from [ip address]");
        assert_eq!(mask("ssn 123-45-6789"), "ssn [national id]");
        assert_eq!(
            mask("bronze.orders has 5002 rows"),
            "bronze.orders has 5002 rows"
        );
        assert_eq!(mask("card 4111 1111 1111 1111"), "card [number]");
    }

    #[test]
    fn roles_see_what_they_may() {
        assert!(Role::Steward.may_see(true, true));
        assert!(Role::Engineer.may_see(true, false));
        assert!(!Role::Engineer.may_see(true, true));
        assert!(!Role::Analyst.may_see(true, false));
        assert!(Role::Analyst.may_see(false, false));
    }
}
