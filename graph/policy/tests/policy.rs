//! The policy engine over the demo catalog: the decision cases, YAML policies, the
//! lifecycle, attribute-based access, conflicts, masking, retention and the reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use govgraph_graph::oxigraph::io::RdfFormat;
use govgraph_graph::{GraphStore, LoadOptions, LoadSource, NoProgress, Scope, StoreConfig};
use govgraph_policy::engine::{Effect, Engine, Obligation, Request, Subject};
use govgraph_policy::mask::{MaskKey, MaskMethod};
use govgraph_policy::{Error, cases, lifecycle, lint, report, retention, yaml};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn demo() -> Arc<GraphStore> {
    let store = GraphStore::in_memory(StoreConfig::default()).unwrap();
    let sources: Vec<LoadSource> = govgraph_seeds::DEMO_SOURCES
        .iter()
        .map(|s| LoadSource::from_bytes(s.name, s.path, RdfFormat::Turtle, s.turtle))
        .collect();
    store
        .load(sources, &LoadOptions::default(), &NoProgress)
        .unwrap();
    Arc::new(store)
}

fn engine(store: &Arc<GraphStore>) -> Engine {
    Engine::new(Arc::clone(store), MaskKey::from_bytes([3; 32]))
}

fn ask(e: &Engine, role: &str, resource: &str, purpose: Option<&str>) -> govgraph_policy::Decision {
    e.decide(
        &Scope::all(),
        &Request {
            principal: Subject::with_role(role),
            action: "read".into(),
            resource: resource.into(),
            purpose: purpose.map(str::to_owned),
        },
    )
    .unwrap()
    .decision
}

#[test]
fn the_demo_decision_cases_hold() {
    let store = demo();
    let e = engine(&store);
    let file = repo().join("tests/policy/demo-cases.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let list = cases::parse(&text, "demo-cases.yaml").unwrap();
    assert!(list.len() >= 20, "{} cases", list.len());
    let outcomes = cases::run(&e, &Scope::all(), &list).unwrap();
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.passed)
        .map(|o| {
            format!(
                "{}: {} ({})",
                o.name,
                o.failures.join("; "),
                o.reasons.join("; ")
            )
        })
        .collect();
    assert!(failed.is_empty(), "failing cases:\n{}", failed.join("\n"));
}

#[test]
fn a_failing_case_says_what_differs() {
    let store = demo();
    let e = engine(&store);
    let list = cases::parse(
        "cases:\n  - name: wrong on purpose\n    role: viewer\n    resource: bronze.customers.email\n    expect: permit\n    obligations: [mask:hash]\n    decided_by: [stewards-read-all]\n",
        "x.yaml",
    )
    .unwrap();
    let o = &cases::run(&e, &Scope::all(), &list).unwrap()[0];
    assert!(!o.passed);
    let all = o.failures.join("\n");
    assert!(all.contains("expected permit, got deny"), "{all}");
    assert!(all.contains("missing obligation mask:hash"), "{all}");
    assert!(all.contains("stewards-read-all did not decide"), "{all}");
    // A case file names the line at fault.
    let err = cases::parse(
        "cases:\n  - name: x\n    resource: y\n    expect: maybe\n",
        "bad.yaml",
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("bad.yaml") && err.to_string().contains("line 4"),
        "{err}"
    );
}

#[test]
fn decisions_are_cached_until_the_store_changes() {
    let store = demo();
    let e = engine(&store);
    let r = Request {
        principal: Subject::with_role("analyst"),
        action: "read".into(),
        resource: "bronze.customers.email".into(),
        purpose: None,
    };
    assert!(!e.decide(&Scope::all(), &r).unwrap().cached);
    assert!(e.decide(&Scope::all(), &r).unwrap().cached);
    // A steward removes the column's classification: the cache is dropped and the column
    // is no longer personal data (its dataset is still classified, so reading is open).
    store
        .update(
            "DELETE DATA { GRAPH <urn:govgraph:graph:demo:tags> { <https://id.govgraph.dev/dataset/shop/bronze.customers/column/email> <https://govgraph.dev/ns#tag> <https://id.govgraph.dev/tag/pii.email> } }",
            &Scope::all(),
            None,
        )
        .unwrap();
    let d = e.decide(&Scope::all(), &r).unwrap();
    assert!(!d.cached);
    assert_eq!(d.decision.effect, Effect::Permit);
    assert!(d.decision.obligations.is_empty(), "{:?}", d.decision);
}

const YAML: &str = r#"
policies:
  - id: sales-analysts-own-data
    title: Sales analysts read their own domain's data
    scope: domain
    domain: customer
    rules:
      - effect: permit
        action: read
        targets: [tag:pii.phone]
        assignees: [analyst]
        assignee_domain: same
        mask: partial
        row_filter: country = 'DE'
  - id: no-export-of-personal-data
    title: Personal data is never distributed
    rules:
      - effect: prohibit
        action: distribute
        targets: [tag:pii]
  - id: emails-by-category
    title: Email addresses are never distributed
    rules:
      - effect: prohibit
        action: distribute
        targets: [pd:EmailAddress]
        assignees: [steward]
  - id: ip-retention
    title: IP addresses are kept one year
    rules:
      - effect: oblige
        action: delete
        targets: [pd:IPAddress]
        retention: P1Y
  - id: orders-retention
    title: Orders are kept ten years
    scope: domain
    domain: sales
    rules:
      - effect: oblige
        action: delete
        targets: [dataset:shop/bronze.orders]
        retention: P10Y
"#;

#[test]
fn yaml_compiles_to_odrl_and_back() {
    let store = demo();
    let scheme = store.scheme();
    let policies = yaml::compile(YAML, "p.yaml", scheme).unwrap();
    assert_eq!(policies.len(), 5);
    let ttl = yaml::to_turtle(&policies, scheme).unwrap();
    assert!(
        ttl.contains("odrl:prohibition") && ttl.contains("\"P10Y\"^^xsd:duration"),
        "{ttl}"
    );
    assert!(
        ttl.contains("gg:assigneeDomain") && ttl.contains("gg:rowFilter"),
        "{ttl}"
    );
    let back = yaml::read_policies(&ttl, "p.ttl", scheme).unwrap();
    let mut a = policies.clone();
    a.sort_by(|x, y| x.key.cmp(&y.key));
    assert_eq!(a, back);
}

#[test]
fn bad_yaml_names_the_field() {
    let store = demo();
    let scheme = store.scheme();
    let cases = [
        (
            "policies: [{id: x, title: T, rules: [{effect: allow, action: read, targets: [any]}]}]",
            "policies[0].rules[0].effect",
        ),
        (
            "policies: [{id: x, title: T, rules: [{effect: permit, action: read, targets: [table:x]}]}]",
            "policies[0].rules[0].targets[0]",
        ),
        (
            "policies: [{id: x, title: T, rules: [{effect: permit, action: read, targets: [any], mask: blur}]}]",
            "policies[0].rules[0].mask",
        ),
        (
            "policies: [{id: x, title: T, rules: [{effect: oblige, action: delete, targets: [any], retention: 3 years}]}]",
            "policies[0].rules[0].retention",
        ),
        (
            "policies: [{id: x, title: T, scope: domain, rules: [{effect: permit, action: read, targets: [any]}]}]",
            "policies[0].domain",
        ),
        (
            "policies: [{id: X Y, title: T, rules: [{effect: permit, action: read, targets: [any]}]}]",
            "policies[0].id",
        ),
        (
            "policies: [{id: x, title: T, rules: []}]",
            "policies[0].rules",
        ),
        (
            "policies: [{id: x, title: T, rules: [{effect: permit, action: read, targets: [any], assignees: [wizard]}]}]",
            "policies[0].rules[0].assignees[0]",
        ),
        (
            "policies: [{id: x, title: T, rules: [{effect: permit, action: read}]}]",
            "policies[0].rules[0].targets",
        ),
        (
            "policies:\n  - id: x\n    title: T\n    colour: red\n    rules: []\n",
            "line ",
        ),
    ];
    for (text, field) in cases {
        let err = yaml::compile(text, "p.yaml", scheme).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("p.yaml: ") && msg.contains(field),
            "{text}\n=> {msg}"
        );
    }
}

#[test]
fn attributes_and_actions_decide() {
    let store = demo();
    let scheme = store.scheme().clone();
    let policies = yaml::compile(YAML, "p.yaml", &scheme).unwrap();
    let admin = Subject {
        name: "ada".into(),
        roles: vec!["admin".into()],
        domains: vec![],
    };
    let steward = Subject {
        name: "sam".into(),
        roles: vec!["steward".into()],
        domains: vec![],
    };
    let steward_admin = Subject {
        roles: vec!["admin".into()],
        ..steward.clone()
    };
    for p in &policies {
        lifecycle::propose(&store, &Scope::all(), p, &steward, Some("new")).unwrap();
        // The author may not approve a first version either.
        assert!(matches!(
            lifecycle::decide(&store, &Scope::all(), &p.key, 1, true, &steward_admin, None),
            Err(Error::Forbidden(_))
        ));
        lifecycle::decide(&store, &Scope::all(), &p.key, 1, true, &admin, None).unwrap();
    }
    let e = engine(&store);
    let in_customer = Subject {
        name: "cara".into(),
        roles: vec!["analyst".into()],
        domains: vec!["customer".into()],
    };
    let decide = |s: &Subject, action: &str, resource: &str| {
        e.decide(
            &Scope::all(),
            &Request {
                principal: s.clone(),
                action: action.into(),
                resource: resource.into(),
                purpose: None,
            },
        )
        .unwrap()
        .decision
    };
    // The customer domain's analysts get the permission's row filter; the central hash
    // still applies (a central prohibition beats a domain permission).
    let d = decide(&in_customer, "read", "bronze.customers.phone");
    assert_eq!(d.effect, Effect::Permit);
    assert_eq!(d.mask(), Some(MaskMethod::Hash));
    assert!(d.obligations.iter().any(
        |o| matches!(o, Obligation::RowFilter { condition, .. } if condition == "country = 'DE'")
    ));
    assert_eq!(d.conflicts.len(), 1, "{:?}", d.conflicts);
    // An analyst of another domain does not meet the attribute.
    let other = Subject {
        domains: vec!["sales".into()],
        ..in_customer.clone()
    };
    let d = decide(&other, "read", "bronze.customers.phone");
    assert!(
        !d.obligations
            .iter()
            .any(|o| matches!(o, Obligation::RowFilter { .. }))
    );
    // Distribution of personal data is prohibited, even for stewards.
    assert_eq!(
        decide(&steward, "distribute", "bronze.customers.email").effect,
        Effect::Deny
    );
    // A rule may name the DPV personal-data category instead of the tag.
    let d = decide(&steward, "distribute", "silver.customers_clean.email");
    assert!(
        d.decided_by
            .iter()
            .any(|p| p.title == "Email addresses are never distributed"),
        "{d:?}"
    );
    // A retention rule on a category covers every dataset with such a column.
    let set = govgraph_policy::PolicySet::load(&store, &Scope::all()).unwrap();
    let found = retention::enforce(
        &store,
        &Scope::all(),
        &set,
        &retention::RetentionOptions {
            as_of: govgraph_quality::rules::run::parse_timestamp("2026-12-06"),
            root: Some(repo().join("seeds")),
            store: false,
        },
    )
    .unwrap();
    assert!(
        found
            .iter()
            .any(|f| f.policy.title.starts_with("IP addresses")
                && f.dataset.ends_with("bronze.marketing_events")
                && f.rows_expired > 0)
    );
    // Stewards may use (so distribute) other data; analysts were granted nothing but reading.
    assert_eq!(
        decide(&steward, "distribute", "bronze.orders.status").effect,
        Effect::Permit
    );
    assert_eq!(
        decide(&in_customer, "distribute", "bronze.orders.status").effect,
        Effect::Deny
    );
    assert_eq!(
        decide(&in_customer, "read", "bronze.orders.status").effect,
        Effect::Permit
    );
}

#[test]
fn the_lifecycle_needs_a_proposal_and_another_admins_approval() {
    let store = demo();
    let e = engine(&store);
    let scheme = store.scheme().clone();
    let steward = Subject {
        name: "sam".into(),
        roles: vec!["steward".into()],
        domains: vec![],
    };
    let analyst = Subject::with_role("analyst");
    let admin = Subject {
        name: "ada".into(),
        roles: vec!["admin".into()],
        domains: vec![],
    };
    let author_admin = Subject {
        name: "sam".into(),
        roles: vec!["admin".into()],
        domains: vec![],
    };
    let decide = |version: u32, approve: bool, who: &Subject, note: Option<&str>| {
        lifecycle::decide(
            &store,
            &Scope::all(),
            "pii-masking-for-analysts",
            version,
            approve,
            who,
            note,
        )
    };
    // Version 2 of the analysts' masking policy redacts instead of hashing.
    let v2 = yaml::compile(
        "id: pii-masking-for-analysts\ntitle: Analysts never see personal data in clear\nrules:\n  - effect: prohibit\n    action: read\n    targets: [tag:pii]\n    assignees: [analyst]\n    mask: redact\n",
        "v2.yaml",
        &scheme,
    )
    .unwrap()
    .remove(0);
    assert!(matches!(
        lifecycle::propose(&store, &Scope::all(), &v2, &analyst, None),
        Err(Error::Forbidden(_))
    ));
    let proposed = lifecycle::propose(
        &store,
        &Scope::all(),
        &v2,
        &steward,
        Some("hashes of emails can be guessed"),
    )
    .unwrap();
    assert_eq!(proposed.version, 2);
    assert!(
        proposed
            .iri
            .ends_with("/policy/pii-masking-for-analysts.v2"),
        "{}",
        proposed.iri
    );
    // A second proposal waits for the first.
    assert!(matches!(
        lifecycle::propose(&store, &Scope::all(), &v2, &steward, None),
        Err(Error::Conflict(_))
    ));
    // Proposed is not enforced.
    assert_eq!(
        ask(&e, "analyst", "bronze.customers.email", None).mask(),
        Some(MaskMethod::Hash)
    );
    // Stewards do not approve, and nobody approves their own proposal.
    assert!(matches!(
        decide(2, true, &steward, None),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        decide(2, true, &author_admin, None),
        Err(Error::Forbidden(_))
    ));
    decide(2, true, &admin, Some("ok")).unwrap();
    // Approved is enforced at once (the cache follows the store), and version 1 is retired.
    let d = ask(&e, "analyst", "bronze.customers.email", None);
    assert_eq!(d.mask(), Some(MaskMethod::Redact));
    assert_eq!(d.decided_by[0].version, 2);
    let h = lifecycle::history(&store, &Scope::all(), "pii-masking-for-analysts").unwrap();
    let status: Vec<(u32, &str)> = h
        .versions
        .iter()
        .map(|v| (v.version, v.status.as_str()))
        .collect();
    assert_eq!(status, vec![(1, "retired"), (2, "approved")]);
    let log: Vec<(&str, &str)> = h
        .changes
        .iter()
        .map(|c| (c.action.as_str(), c.actor.as_str()))
        .collect();
    assert_eq!(log, vec![("proposed", "sam"), ("approved", "ada")]);
    assert_eq!(
        h.changes[0].note.as_deref(),
        Some("hashes of emails can be guessed")
    );
    // Approving again is a conflict; an unknown version is not found.
    assert!(matches!(
        decide(2, true, &admin, None),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        decide(9, true, &admin, None),
        Err(Error::NotFound(_))
    ));
    // A rejected version stays in the history and is never enforced.
    let v3 = yaml::compile(
        "id: pii-masking-for-analysts\ntitle: Analysts see personal data\nrules:\n  - effect: permit\n    action: read\n    targets: [tag:pii]\n    assignees: [analyst]\n",
        "v3.yaml",
        &scheme,
    )
    .unwrap()
    .remove(0);
    lifecycle::propose(&store, &Scope::all(), &v3, &steward, None).unwrap();
    decide(3, false, &admin, Some("no")).unwrap();
    assert_eq!(
        ask(&e, "analyst", "bronze.customers.email", None).mask(),
        Some(MaskMethod::Redact)
    );
    let h = lifecycle::history(&store, &Scope::all(), "pii-masking-for-analysts").unwrap();
    assert_eq!(
        h.versions.last().map(|v| v.status.as_str()),
        Some("rejected")
    );
    // A malformed proposal is refused, and nothing is written.
    let count = |s: &GraphStore| {
        s.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
            .unwrap()[0]
            .get("n")
            .unwrap()
            .to_string()
    };
    let before = count(&store);
    let mut broken = v3.clone();
    broken.status = "approved".into();
    broken.title = String::new();
    assert!(matches!(
        lifecycle::propose(&store, &Scope::all(), &broken, &steward, None),
        Err(Error::Invalid { .. })
    ));
    assert_eq!(count(&store), before);
}

#[test]
fn conflicts_are_reported() {
    let store = demo();
    let set = govgraph_policy::PolicySet::load(&store, &Scope::all()).unwrap();
    let l = lint::lint(&store, &Scope::all(), &set).unwrap();
    let pairs: Vec<(String, String)> = l
        .conflicts
        .iter()
        .map(|c| (c.winner.title.clone(), c.loser.title.clone()))
        .collect();
    assert!(
        pairs.contains(&(
            "Analysts never see personal data in clear".into(),
            "Marketing may read emails of consenting customers".into()
        )),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&(
            "Dates of birth are for stewards only".into(),
            "Engineers may use the bronze layer".into()
        )),
        "{pairs:?}"
    );
    let c = l
        .conflicts
        .iter()
        .find(|c| c.loser.title.starts_with("Marketing"))
        .unwrap();
    assert!(
        c.reason
            .contains("central prohibition beats a domain permission"),
        "{}",
        c.reason
    );
    assert!(l.out_of_domain.is_empty(), "{:?}", l.out_of_domain);
    assert!(l.unreadable.is_empty());
}

#[test]
fn protected_values_are_masked_for_whoever_may_not_see_them() {
    let store = demo();
    // Profile the customers file so that the graph holds date-of-birth extremes.
    let key = govgraph_graph::DatasetKey::new("shop", "bronze.customers");
    let profile =
        govgraph_quality::profile::profile_file(&repo().join("seeds/data/bronze/customers.csv"))
            .unwrap();
    govgraph_quality::profile::store::store_profile(&store, &key, &profile).unwrap();
    let dob = profile
        .columns
        .iter()
        .find(|c| c.name == "date_of_birth")
        .unwrap();
    let min = dob.min.as_str().unwrap().to_owned();
    let e = engine(&store);
    let analyst = e
        .masker(&Scope::all(), &Subject::with_role("analyst"), None)
        .unwrap();
    let steward = e
        .masker(&Scope::all(), &Subject::with_role("steward"), None)
        .unwrap();
    assert_eq!(
        analyst.text(&min).as_deref(),
        Some(govgraph_policy::mask::WITHHELD)
    );
    assert_eq!(
        analyst.text(&format!("born {min}")).as_deref(),
        Some(format!("born {}", govgraph_policy::mask::WITHHELD).as_str())
    );
    assert_eq!(steward.text(&min), None);
}

#[test]
fn retention_finds_expired_rows() {
    let store = demo();
    let set = govgraph_policy::PolicySet::load(&store, &Scope::all()).unwrap();
    let as_of = govgraph_quality::rules::run::parse_timestamp("2026-12-06").unwrap();
    let findings = retention::enforce(
        &store,
        &Scope::all(),
        &set,
        &retention::RetentionOptions {
            as_of: Some(as_of),
            root: Some(repo().join("seeds")),
            store: true,
        },
    )
    .unwrap();
    // The expected counts, read straight from the files.
    let older = |file: &str, column: &str, cutoff: &str| -> u64 {
        let mut r = csv::Reader::from_path(repo().join("seeds/data/bronze").join(file)).unwrap();
        let idx = r
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == column)
            .unwrap();
        r.records()
            .filter(|x| {
                x.as_ref()
                    .unwrap()
                    .get(idx)
                    .is_some_and(|v| !v.is_empty() && v < cutoff)
            })
            .count() as u64
    };
    let tickets = findings
        .iter()
        .find(|f| f.dataset.ends_with("bronze.support_tickets"))
        .unwrap();
    assert_eq!(tickets.status, "violation", "{tickets:?}");
    assert_eq!(tickets.column.as_deref(), Some("created_at"));
    assert_eq!(tickets.cutoff, "2023-12-06T00:00:00Z");
    assert_eq!(
        tickets.rows_expired,
        older("support_tickets.csv", "created_at", "2023-12-06T00:00:00Z")
    );
    assert!(tickets.rows_expired > 0 && tickets.status == "violation");
    let events = findings
        .iter()
        .find(|f| f.dataset.ends_with("bronze.marketing_events"))
        .unwrap();
    assert_eq!(events.column.as_deref(), Some("event_time"));
    assert_eq!(
        events.rows_expired,
        older("marketing_events.csv", "event_time", "2024-12-06T00:00:00Z")
    );
    // The violations are in the graph, with their counts.
    let rows = store
        .select("SELECT ?n WHERE { ?v a gg:Violation ; gg:rule <https://id.govgraph.dev/policy/support-tickets-retention> ; gg:count ?n }")
        .unwrap();
    assert_eq!(rows.len(), 1);
    // Far in the past nothing has expired.
    let early = retention::enforce(
        &store,
        &Scope::all(),
        &set,
        &retention::RetentionOptions {
            as_of: govgraph_quality::rules::run::parse_timestamp("2024-01-01"),
            root: Some(repo().join("seeds")),
            store: false,
        },
    )
    .unwrap();
    assert!(
        early
            .iter()
            .all(|f| f.rows_expired == 0 || f.dataset.ends_with("marketing_events"))
    );
}

fn bless_or_compare(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expected")
        .join(name);
    if std::env::var_os("GOVGRAPH_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with GOVGRAPH_BLESS=1", path.display()));
    assert_eq!(
        expected, actual,
        "{name} differs; run with GOVGRAPH_BLESS=1 to accept"
    );
}

fn stable(text: &str, at: &str) -> String {
    text.replace(at, "GENERATED_AT")
}

#[test]
fn the_art30_record_and_ccpa_disclosures() {
    let store = demo();
    let set = govgraph_policy::PolicySet::load(&store, &Scope::all()).unwrap();
    let r = report::art30(&store, &Scope::all(), &set).unwrap();
    let names: Vec<&str> = r
        .controller_activities
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(
        names,
        vec!["Customer support", "Email marketing", "Order fulfilment"]
    );
    assert_eq!(r.processor_activities.len(), 1);
    assert_eq!(
        r.processor_activities[0].controller.as_ref().unwrap().name,
        "Nordic Crafts Marketplace"
    );
    let marketing = &r.controller_activities[1];
    let controller = marketing.controller.as_ref().unwrap();
    assert_eq!(controller.name, "Lumen Retail Group");
    assert!(
        controller
            .dpo
            .as_deref()
            .unwrap()
            .contains("dpo@lumen-retail.example")
    );
    assert_eq!(marketing.transfers[0].country, "United States");
    assert!(marketing.retention.iter().any(|x| x.period == "P2Y"));
    assert!(
        marketing
            .columns
            .iter()
            .any(|c| c.name == "bronze.marketing_events.ip_address")
    );
    let kinds: std::collections::BTreeSet<&str> = r.gaps.iter().map(|g| g.kind.as_str()).collect();
    assert!(
        kinds.contains("no_retention") && kinds.contains("undeclared_personal_data"),
        "{kinds:?}"
    );
    // Order fulfilment reads bronze.customers, whose dates of birth it does not declare.
    assert!(r.gaps.iter().any(|g| g.kind == "undeclared_personal_data"
        && g.subject.ends_with("bronze.customers/column/date_of_birth")
        && g.message.starts_with("Order fulfilment")));
    for f in [
        report::Format::Markdown,
        report::Format::Csv,
        report::Format::Html,
    ] {
        let text = report::render_art30(&r, f).unwrap();
        let ext = match f {
            report::Format::Markdown => "md",
            report::Format::Csv => "csv",
            _ => "html",
        };
        bless_or_compare(&format!("art30.{ext}"), &stable(&text, &r.generated_at));
    }
    let json: serde_json::Value =
        serde_json::from_str(&report::render_art30(&r, report::Format::Json).unwrap()).unwrap();
    assert_eq!(json["controller_activities"].as_array().unwrap().len(), 3);

    let c = report::ccpa(&store, &Scope::all(), &set).unwrap();
    let letters: Vec<&str> = c.categories.iter().map(|x| x.notation.as_str()).collect();
    assert!(
        letters.contains(&"A") && letters.contains(&"F"),
        "{letters:?}"
    );
    let identifiers = c.categories.iter().find(|x| x.notation == "A").unwrap();
    assert_eq!(identifiers.sold, "no");
    assert!(
        identifiers
            .third_parties
            .iter()
            .any(|t| t.label == "Mailwave")
    );
    assert!(
        identifiers
            .columns
            .iter()
            .any(|x| x.name == "bronze.customers.email")
    );
    for f in [report::Format::Markdown, report::Format::Csv] {
        let text = report::render_ccpa(&c, f).unwrap();
        let ext = if f == report::Format::Markdown {
            "md"
        } else {
            "csv"
        };
        bless_or_compare(&format!("ccpa.{ext}"), &stable(&text, &c.generated_at));
    }
}

mod fuzz {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn yaml_never_panics(text in "\\PC{0,200}") {
            let scheme = govgraph_graph::IriScheme::new(govgraph_graph::iri::DEFAULT_BASE).unwrap();
            let _ = govgraph_policy::yaml::compile(&text, "f.yaml", &scheme);
            let _ = govgraph_policy::yaml::read_policies(&text, "f.ttl", &scheme);
            let _ = govgraph_policy::cases::parse(&text, "c.yaml");
        }

        #[test]
        fn generated_policies_round_trip(
            effect in prop::sample::select(vec!["permit", "prohibit"]),
            role in prop::sample::select(vec!["analyst", "viewer", "engineer"]),
            tag in "[a-z]{1,8}",
            mask in prop::option::of(prop::sample::select(vec!["redact", "hash", "partial", "tokenize"])),
            purpose in prop::option::of("[a-z]{1,6}( [a-z]{1,6})?"),
        ) {
            let scheme = govgraph_graph::IriScheme::new(govgraph_graph::iri::DEFAULT_BASE).unwrap();
            let mut y = format!("id: p\ntitle: P\nrules:\n  - effect: {effect}\n    action: read\n    targets: [tag:{tag}]\n    assignees: [{role}]\n");
            if let Some(m) = mask { y.push_str(&format!("    mask: {m}\n")); }
            if let Some(p) = &purpose { y.push_str(&format!("    purpose: {p}\n")); }
            let p = govgraph_policy::yaml::compile(&y, "g.yaml", &scheme).unwrap();
            let ttl = govgraph_policy::yaml::to_turtle(&p, &scheme).unwrap();
            let back = govgraph_policy::yaml::read_policies(&ttl, "g.ttl", &scheme).unwrap();
            prop_assert_eq!(p, back);
        }
    }
}

#[test]
fn tokens_map_back_only_for_those_who_may_see_the_value() {
    let store = demo();
    let key = govgraph_graph::DatasetKey::new("shop", "bronze.customers");
    let profile =
        govgraph_quality::profile::profile_file(&repo().join("seeds/data/bronze/customers.csv"))
            .unwrap();
    govgraph_quality::profile::store::store_profile(&store, &key, &profile).unwrap();
    let min = profile
        .columns
        .iter()
        .find(|c| c.name == "date_of_birth")
        .unwrap()
        .min
        .as_str()
        .unwrap()
        .to_owned();
    // Viewers see dates of birth tokenized under this version.
    let scheme = store.scheme().clone();
    let v2 = yaml::compile(
        "id: dates-of-birth-stewards-only\ntitle: Dates of birth are tokenized for viewers\nrules:\n  - effect: prohibit\n    action: read\n    targets: [tag:pii.dob]\n    assignees: [viewer]\n    mask: tokenize\n",
        "v2.yaml",
        &scheme,
    )
    .unwrap()
    .remove(0);
    let steward = Subject {
        name: "sam".into(),
        roles: vec!["steward".into()],
        domains: vec![],
    };
    let admin = Subject {
        name: "ada".into(),
        roles: vec!["admin".into()],
        domains: vec![],
    };
    lifecycle::propose(&store, &Scope::all(), &v2, &steward, None).unwrap();
    lifecycle::decide(
        &store,
        &Scope::all(),
        "dates-of-birth-stewards-only",
        2,
        true,
        &admin,
        None,
    )
    .unwrap();
    let e = engine(&store);
    let token = e
        .masker(&Scope::all(), &Subject::with_role("viewer"), None)
        .unwrap()
        .text(&min)
        .unwrap();
    assert!(token.starts_with("tok_"), "{token}");
    let dob = "https://id.govgraph.dev/dataset/shop/bronze.customers/column/date_of_birth";
    assert_eq!(
        e.detokenize(&Scope::all(), &steward, &token).unwrap(),
        Some((dob.to_owned(), min.clone()))
    );
    assert_eq!(
        e.detokenize(&Scope::all(), &Subject::with_role("viewer"), &token)
            .unwrap(),
        None
    );
    assert_eq!(
        e.detokenize(&Scope::all(), &steward, "tok_0000").unwrap(),
        None
    );
}
