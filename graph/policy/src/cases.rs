//! Policy tests: a YAML file of decision cases, each a request and what its decision must
//! be, run by `govgraph policy test`.
//!
//! ```yaml
//! cases:
//!   - name: analysts see emails hashed
//!     role: analyst                 # or principal: {roles: [..], domains: [..]}
//!     action: read                  # default read
//!     resource: bronze.customers.email
//!     purpose: marketing            # optional
//!     expect: permit                # permit or deny
//!     obligations: [mask:hash, row_filter]   # each must be present; [] means none at all
//!     decided_by: [pii-masking-for-analysts] # policy keys, each must have decided
//! ```

use govgraph_graph::scope::Scope;
use serde::{Deserialize, Serialize};

use crate::engine::{Effect, Engine, Obligation, Request, Subject};
use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    cases: Vec<Case>,
}

/// One decision case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What it checks.
    pub name: String,
    /// The caller's single role (shorthand for `principal`).
    #[serde(default)]
    pub role: Option<String>,
    /// The caller.
    #[serde(default)]
    pub principal: Option<Subject>,
    /// The action (default `read`).
    #[serde(default)]
    pub action: Option<String>,
    /// The resource: an IRI or a dotted name.
    pub resource: String,
    /// The purpose.
    #[serde(default)]
    pub purpose: Option<String>,
    /// `permit` or `deny`.
    pub expect: Effect,
    /// Obligations that must be present (`mask:hash`, `mask`, `row_filter`, `omit_column`);
    /// an empty list means none.
    #[serde(default)]
    pub obligations: Option<Vec<String>>,
    /// Policies (keys) that must be among those that decided.
    #[serde(default)]
    pub decided_by: Vec<String>,
}

/// How one case went.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The case's name.
    pub name: String,
    /// Whether the decision met every expectation.
    pub passed: bool,
    /// What did not match.
    pub failures: Vec<String>,
    /// The decision's effect.
    pub effect: Effect,
    /// Its reasons.
    pub reasons: Vec<String>,
}

/// Reads a case file.
pub fn parse(text: &str, file: &str) -> Result<Vec<Case>> {
    let f: File = yaml_serde::from_str(text).map_err(|e| {
        let field = e.location().map_or_else(
            || "(document)".to_owned(),
            |l| format!("line {}, column {}", l.line(), l.column()),
        );
        Error::invalid(file, field, e.to_string())
    })?;
    for (i, c) in f.cases.iter().enumerate() {
        if c.role.is_none() && c.principal.is_none() {
            return Err(Error::invalid(
                file,
                format!("cases[{i}]"),
                "give a role or a principal",
            ));
        }
    }
    Ok(f.cases)
}

fn obligation_names(o: &Obligation) -> Vec<String> {
    match o {
        Obligation::Mask { method, column, .. } => {
            let base = if column.is_some() {
                "column_mask"
            } else {
                "mask"
            };
            vec![base.to_owned(), format!("{base}:{}", method.name())]
        }
        Obligation::OmitColumn { .. } => vec!["omit_column".to_owned()],
        Obligation::RowFilter { .. } => vec!["row_filter".to_owned()],
    }
}

/// Runs the cases against the engine's policies in `scope`.
pub fn run(engine: &Engine, scope: &Scope, cases: &[Case]) -> Result<Vec<Outcome>> {
    let mut out = Vec::new();
    for c in cases {
        let principal = c
            .principal
            .clone()
            .unwrap_or_else(|| Subject::with_role(c.role.as_deref().unwrap_or("viewer")));
        let request = Request {
            principal,
            action: c.action.clone().unwrap_or_else(|| "read".to_owned()),
            resource: c.resource.clone(),
            purpose: c.purpose.clone(),
        };
        let d = engine.decide(scope, &request)?.decision;
        let mut failures = Vec::new();
        if d.effect != c.expect {
            failures.push(format!("expected {:?}, got {:?}", c.expect, d.effect).to_lowercase());
        }
        let have: Vec<String> = d.obligations.iter().flat_map(obligation_names).collect();
        match &c.obligations {
            Some(want) if want.is_empty() && !d.obligations.is_empty() => {
                failures.push(format!("expected no obligations, got {}", have.join(", ")));
            }
            Some(want) => {
                for w in want {
                    if !have.contains(w) {
                        failures.push(format!(
                            "missing obligation {w} (got {})",
                            if have.is_empty() {
                                "none".to_owned()
                            } else {
                                have.join(", ")
                            }
                        ));
                    }
                }
            }
            None => {}
        }
        for p in &c.decided_by {
            if !d
                .decided_by
                .iter()
                .any(|r| r.policy.rsplit('/').next() == Some(p.as_str()) || &r.policy == p)
            {
                failures.push(format!(
                    "{p} did not decide (decided by: {})",
                    if d.decided_by.is_empty() {
                        "the default".to_owned()
                    } else {
                        d.decided_by
                            .iter()
                            .map(|r| r.policy.rsplit('/').next().unwrap_or_default().to_owned())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ));
            }
        }
        out.push(Outcome {
            name: c.name.clone(),
            passed: failures.is_empty(),
            failures,
            effect: d.effect,
            reasons: d.reasons.clone(),
        });
    }
    Ok(out)
}
