//! The policy endpoints through the router, and the cross-path check: a protected column's
//! values leave masked alike through REST, SPARQL, search, ask and data products.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

const CONFIG: &str = r#"
[[principals]]
name = "root"
key = "root-key-0123456789"
roles = ["admin"]

[[principals]]
name = "ada"
key = "admin2-key-01234567"
roles = ["admin"]

[[principals]]
name = "sam"
key = "steward-key-0123456"
roles = ["steward"]

[[principals]]
name = "ana"
key = "analyst-key-0123456"
roles = ["analyst"]
domains = ["customer"]

[[principals]]
name = "val"
key = "viewer-key-01234567"
roles = ["viewer"]
"#;

const ROOT: Option<&str> = Some("root-key-0123456789");
const ADA: Option<&str> = Some("admin2-key-01234567");
const STEWARD: Option<&str> = Some("steward-key-0123456");
const ANALYST: Option<&str> = Some("analyst-key-0123456");
const VIEWER: Option<&str> = Some("viewer-key-01234567");

const DOB: &str = "https://id.govgraph.dev/dataset/shop/bronze.customers/column/date_of_birth";

fn demo() -> Arc<govgraph_api::AppState> {
    let sources: Vec<(&str, &str)> = govgraph_seeds::DEMO_SOURCES
        .iter()
        .map(|s| (s.name, s.turtle))
        .collect();
    common::state(CONFIG, &sources)
}

fn post(uri: &str, body: &str, media: &str, key: Option<&str>) -> Request<Body> {
    let mut b = Request::post(uri).header(header::CONTENT_TYPE, media);
    if let Some(k) = key {
        b = b.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

fn decide(body: serde_json::Value, key: Option<&str>) -> Request<Body> {
    post(
        "/api/v1/policy/decide",
        &body.to_string(),
        "application/json",
        key,
    )
}

#[tokio::test]
async fn the_decision_point_answers_for_the_caller_or_for_whom_a_steward_names() {
    let s = demo();
    let r = common::send(
        &s,
        decide(
            serde_json::json!({"resource": "bronze.customers.email"}),
            ANALYST,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = r.json();
    assert_eq!(d["effect"], "permit");
    assert_eq!(d["obligations"][0]["type"], "mask");
    assert_eq!(d["obligations"][0]["method"], "hash");
    assert_eq!(
        d["decided_by"][0]["title"],
        "Analysts never see personal data in clear"
    );
    assert_eq!(d["resource"]["personal"], true);
    // With a purpose, the domain's permission adds its row filter and the conflict is named.
    let d = common::send(
        &s,
        decide(
            serde_json::json!({"resource": "bronze.customers.email", "purpose": "marketing"}),
            ANALYST,
        ),
    )
    .await
    .json();
    assert!(
        d["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["type"] == "row_filter")
    );
    assert!(
        d["conflicts"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("keeps the mask"),
        "{d}"
    );
    // An analyst may not ask on someone else's behalf; a steward may.
    let other = serde_json::json!({"resource": "bronze.customers.date_of_birth", "principal": {"roles": ["engineer"]}});
    assert_eq!(
        common::send(&s, decide(other.clone(), ANALYST))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let d = common::send(&s, decide(other, STEWARD)).await.json();
    assert_eq!(d["effect"], "deny");
    assert_eq!(
        d["decided_by"][0]["title"],
        "Dates of birth are for stewards only"
    );
    // The second time comes from the cache.
    let d = common::send(
        &s,
        decide(
            serde_json::json!({"resource": "bronze.customers.email"}),
            ANALYST,
        ),
    )
    .await
    .json();
    assert_eq!(d["cached"], true);
    // Bad bodies name the field.
    let r = common::send(
        &s,
        decide(serde_json::json!({"resource": "x", "colour": 1}), ANALYST),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("colour"), "{}", r.body);
    let r = common::send(
        &s,
        decide(serde_json::json!({"resource": "bronze x"}), ANALYST),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // Unknown resources are denied, not errors.
    let d = common::send(
        &s,
        decide(serde_json::json!({"resource": "bronze.nothing"}), ANALYST),
    )
    .await
    .json();
    assert_eq!(d["effect"], "deny");
    // The decision is audited.
    let log = common::audited(&s, "action=policy.decide", ROOT).await;
    let record = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["principal"] == "ana"
                && r["detail"]["resource"]
                    .as_str()
                    .is_some_and(|x| x.ends_with("/column/email"))
        })
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(record["detail"]["effect"], "permit", "{record}");
    assert_eq!(record["detail"]["action"], "read", "{record}");
    // A deny is audited with what was asked.
    assert!(log["items"].as_array().unwrap().iter().any(|r| r["detail"]["effect"] == "deny"
        && r["detail"]["resource"] == "bronze.nothing"));
}

const V2: &str = "id: dates-of-birth-stewards-only
title: Dates of birth are for stewards only
description: Engineers and viewers may not use dates of birth; analysts see them hashed.
rules:
  - effect: prohibit
    action: use
    targets: [tag:pii.dob]
    assignees: [engineer, viewer]
  - effect: prohibit
    action: read
    targets: [tag:pii.dob]
    assignees: [analyst]
    mask: hash
";

#[tokio::test]
async fn policies_are_proposed_approved_and_logged() {
    let s = demo();
    let propose = |key| post("/api/v1/policies", V2, "application/yaml", key);
    assert_eq!(
        common::send(&s, propose(ANALYST)).await.status,
        StatusCode::FORBIDDEN
    );
    let r = common::send(
        &s,
        post(
            "/api/v1/policies",
            "id: x\ntitle: T\nrules:\n  - effect: allow\n",
            "application/yaml",
            STEWARD,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("line"), "{}", r.body);
    let r = common::send(
        &s,
        post("/api/v1/policies", "{}", "application/json", STEWARD),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = common::send(&s, propose(STEWARD)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["proposed"][0]["version"], 2);
    assert_eq!(
        common::send(&s, propose(STEWARD)).await.status,
        StatusCode::CONFLICT
    );
    let approve = "/api/v1/policies/dates-of-birth-stewards-only/versions/2/approve";
    assert_eq!(
        common::send(&s, post(approve, "", "application/json", STEWARD))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = common::send(
        &s,
        post(
            approve,
            r#"{"note": "analysts need ages"}"#,
            "application/json",
            ROOT,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let h = common::send(
        &s,
        common::get(
            "/api/v1/policies/dates-of-birth-stewards-only/history",
            VIEWER,
        ),
    )
    .await
    .json();
    let versions: Vec<(u64, String)> = h["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        vec![(1, "retired".into()), (2, "approved".into())]
    );
    assert_eq!(h["changes"][1]["actor"], "root");
    assert_eq!(h["changes"][1]["note"], "analysts need ages");
    let d = common::send(
        &s,
        decide(
            serde_json::json!({"resource": "bronze.customers.date_of_birth"}),
            ANALYST,
        ),
    )
    .await
    .json();
    assert_eq!(d["effect"], "permit", "{d}");
    assert_eq!(d["obligations"][0]["method"], "hash");
    assert_eq!(
        common::send(&s, common::get("/api/v1/policies/nothing/history", VIEWER))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let _ = ADA;
}

#[tokio::test]
async fn conflicts_and_compliance_reports() {
    let s = demo();
    let c = common::send(&s, common::get("/api/v1/policy/conflicts", VIEWER))
        .await
        .json();
    assert!(!c["conflicts"].as_array().unwrap().is_empty(), "{c}");
    let r = common::send(&s, common::get("/api/v1/compliance/gdpr-art30", VIEWER)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json()["controller_activities"].as_array().unwrap().len(),
        3
    );
    let r = common::send(
        &s,
        common::get("/api/v1/compliance/gdpr-art30?format=markdown", VIEWER),
    )
    .await;
    assert!(
        r.content_type.starts_with("text/markdown") && r.body.contains("## Gaps"),
        "{}",
        r.content_type
    );
    let mut req = common::get("/api/v1/compliance/ccpa", VIEWER);
    req.headers_mut()
        .insert(header::ACCEPT, "text/csv".parse().unwrap());
    let r = common::send(&s, req).await;
    assert!(
        r.content_type.starts_with("text/csv") && r.body.contains("Identifiers"),
        "{}",
        r.body
    );
    let r = common::send(
        &s,
        common::get("/api/v1/compliance/ccpa?format=pdf", VIEWER),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

/// A steward proposes `yaml` as `version` of the dates-of-birth policy and an admin approves it.
async fn enact(s: &Arc<govgraph_api::AppState>, yaml: &str, version: u32) {
    let r = common::send(
        s,
        post("/api/v1/policies", yaml, "application/yaml", STEWARD),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let approve =
        format!("/api/v1/policies/dates-of-birth-stewards-only/versions/{version}/approve");
    let r = common::send(s, post(&approve, "", "application/json", ROOT)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

/// The values the REST, SPARQL, search and ask paths show for the date of birth's range.
async fn shown(
    s: &Arc<govgraph_api::AppState>,
    key: Option<&str>,
) -> (String, String, String, String) {
    let rest = common::send(
        s,
        common::get(&format!("/api/v1/columns/{}", common::enc(DOB)), key),
    )
    .await;
    assert_eq!(rest.status, StatusCode::OK, "{}", rest.body);
    let rest = rest.json()["profile"]["MinimumValue"]
        .as_str()
        .unwrap()
        .to_owned();
    let sparql = common::send(
        s,
        common::query(
            &format!("SELECT ?v ?t WHERE {{ ?m dqv:computedOn <{DOB}> ; dqv:isMeasurementOf gg:MinimumValue ; dqv:value ?v ; prov:generatedAtTime ?t }} ORDER BY DESC(?t) LIMIT 1"),
            key,
        ),
    )
    .await
    .json()["results"]["bindings"][0]["v"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let hits = common::send(
        s,
        common::get(
            "/api/v1/search?q=date%20of%20birth&kind=column&limit=20",
            key,
        ),
    )
    .await
    .json();
    let search = hits["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["iri"] == DOB)
        .map(|h| h["range"]["MinimumValue"].as_str().unwrap().to_owned())
        .unwrap();
    let a = common::send(
        s,
        post(
            "/api/v1/ask",
            &serde_json::json!({"question": "Describe bronze.customers.date_of_birth"}).to_string(),
            "application/json",
            key,
        ),
    )
    .await
    .json();
    let ask = a["answer"].as_str().unwrap().to_owned();
    (rest, sparql, search, ask)
}

/// What a data product built by the caller does with the date of birth: `Ok(sql)` when the
/// column is in the product, `Err(reason)` when it is left out.
async fn product_path(
    s: &Arc<govgraph_api::AppState>,
    key: Option<&str>,
    min: &str,
) -> Result<String, String> {
    let r = common::send(
        s,
        post(
            "/api/v1/data-products",
            &serde_json::json!({"request": "number of customers by date of birth"}).to_string(),
            "application/json",
            key,
        ),
    )
    .await;
    if r.status == StatusCode::FORBIDDEN {
        // Not even the dataset: the product cannot be built, and the problem says why.
        assert!(!r.body.contains(min), "{}", r.body);
        return Err(r.json()["detail"].as_str().unwrap().to_owned());
    }
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = r.json();
    let columns: Vec<&str> = p["model"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let sql = p["transformation"]["sql"].as_str().unwrap().to_owned();
    if columns.contains(&"date_of_birth") {
        return Ok(sql);
    }
    assert!(!sql.contains("date_of_birth"), "{sql}");
    assert!(
        !r.body.contains(min),
        "a withheld value in the product: {}",
        r.body
    );
    let w = &p["security"]["withheld"][0];
    assert_eq!(w["column"], "shop/bronze.customers.date_of_birth");
    Err(w["reason"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_masked_column_is_masked_alike_on_every_read_path() {
    let s = demo();
    // Profile the customers file: the graph now holds the dates of birth's extremes.
    let key = govgraph_graph::DatasetKey::new("shop", "bronze.customers");
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds/data/bronze/customers.csv");
    let profile = govgraph_quality::profile::profile_file(&file).unwrap();
    govgraph_quality::profile::store::store_profile(&s.store, &key, &profile).unwrap();
    s.search.changed();
    let min = profile
        .columns
        .iter()
        .find(|c| c.name == "date_of_birth")
        .unwrap()
        .min
        .as_str()
        .unwrap()
        .to_owned();
    // A steward sees the value everywhere.
    let (rest, sparql, search, ask) = shown(&s, STEWARD).await;
    assert_eq!(
        (rest.as_str(), sparql.as_str(), search.as_str()),
        (min.as_str(), min.as_str(), min.as_str())
    );
    assert!(ask.contains(&min), "{ask}");
    let sql = product_path(&s, STEWARD, &min).await.unwrap();
    assert!(sql.contains("c.date_of_birth AS date_of_birth"), "{sql}");
    // An analyst may not use dates of birth at all: withheld everywhere.
    let (rest, sparql, search, ask) = shown(&s, ANALYST).await;
    let w = govgraph_policy::mask::WITHHELD;
    assert_eq!((rest.as_str(), sparql.as_str(), search.as_str()), (w, w, w));
    assert!(!ask.contains(&min) && ask.contains(w), "{ask}");
    let reason = product_path(&s, ANALYST, &min).await.unwrap_err();
    assert!(reason.contains("may not read"), "{reason}");
    // Registering a product is for engineers, stewards and admins.
    let r = common::send(
        &s,
        post(
            "/api/v1/data-products",
            &serde_json::json!({"request": "number of customers by country", "register": true})
                .to_string(),
            "application/json",
            ANALYST,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Once version 2 lets analysts see them hashed, every path shows the same hash.
    enact(&s, V2, 2).await;
    let (rest, sparql, search, ask) = shown(&s, ANALYST).await;
    assert!(rest.starts_with("hash:"), "{rest}");
    assert_eq!(sparql, rest);
    assert_eq!(search, rest);
    assert!(ask.contains(&rest) && !ask.contains(&min), "{ask}");
    // A product never copies masked values: the column stays out, and the spec says why.
    let reason = product_path(&s, ANALYST, &min).await.unwrap_err();
    assert!(reason.contains("only masked (hash)"), "{reason}");
    // Viewers still get nothing.
    let (rest, sparql, _, _) = shown(&s, VIEWER).await;
    assert_eq!((rest.as_str(), sparql.as_str()), (w, w));
    assert!(product_path(&s, VIEWER, &min).await.is_err());
    // Version 3 tokenizes for viewers; a token maps back only for whoever may see the value.
    let v3 = "id: dates-of-birth-stewards-only
title: Dates of birth are tokenized for viewers
rules:
  - effect: prohibit
    action: use
    targets: [tag:pii.dob]
    assignees: [engineer]
  - effect: prohibit
    action: read
    targets: [tag:pii.dob]
    assignees: [viewer]
    mask: tokenize
";
    enact(&s, v3, 3).await;
    let (token, sparql, _, _) = shown(&s, VIEWER).await;
    assert!(
        token.starts_with("tok_") && sparql == token,
        "{token} {sparql}"
    );
    let detokenize = |key| {
        post(
            "/api/v1/policy/detokenize",
            &serde_json::json!({"token": token}).to_string(),
            "application/json",
            key,
        )
    };
    let r = common::send(&s, detokenize(STEWARD)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["value"], min.as_str());
    assert_eq!(r.json()["column"], DOB);
    assert_eq!(
        common::send(&s, detokenize(VIEWER)).await.status,
        StatusCode::NOT_FOUND
    );
    // CONSTRUCT results are masked too.
    let mut req = Request::get(format!(
        "/sparql?query={}",
        common::enc(&format!(
            "CONSTRUCT {{ ?m dqv:value ?v }} WHERE {{ ?m dqv:computedOn <{DOB}> ; dqv:value ?v }}"
        ))
    ))
    .header(header::ACCEPT, "application/n-triples");
    req = req.header(
        header::AUTHORIZATION,
        format!("Bearer {}", ANALYST.unwrap()),
    );
    let r = common::send(&s, req.body(Body::empty()).unwrap()).await;
    assert!(
        r.body.contains("hash:") && !r.body.contains(&min),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn retention_runs_from_the_api() {
    let s = demo();
    assert_eq!(
        common::send(
            &s,
            post(
                "/api/v1/policy/retention",
                "{}",
                "application/json",
                ANALYST
            )
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // Without an ingestion run the demo's data cannot be located: each finding says so.
    let r = common::send(
        &s,
        post(
            "/api/v1/policy/retention",
            r#"{"dry_run": true, "as_of": "2026-12-06"}"#,
            "application/json",
            STEWARD,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let f = r.json();
    let findings = f["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(
        findings.iter().all(|x| x["status"] == "error"
            && x["message"]
                .as_str()
                .unwrap()
                .contains("not in the catalog")),
        "{f}"
    );
    let r = common::send(
        &s,
        post(
            "/api/v1/policy/retention",
            r#"{"as_of": "yesterday"}"#,
            "application/json",
            STEWARD,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
