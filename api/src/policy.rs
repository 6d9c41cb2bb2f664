//! The policy endpoints: the decision point, the policy lifecycle, conflicts, retention
//! enforcement and the compliance reports.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use govgraph_policy::engine::{Decided, Request, Subject};
use govgraph_policy::report::Format;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::rest::blocking;
use crate::server::{AppState, AuditAction, AuditDetail};

impl From<govgraph_policy::Error> for ApiError {
    fn from(e: govgraph_policy::Error) -> Self {
        use govgraph_policy::Error as E;
        match e {
            E::Graph(g) => g.into(),
            E::Invalid { .. } => Self::BadRequest(e.to_string()),
            E::NotFound(_) => Self::NotFound(e.to_string()),
            E::Forbidden(m) => Self::Forbidden(m),
            E::Conflict(m) => Self::Conflict(m),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The policy subject a principal is.
pub fn subject(p: &Principal) -> Subject {
    Subject {
        name: p.name.clone(),
        roles: p.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        domains: p.domains.clone(),
    }
}

/// Who a decision is for: the caller when absent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrincipalBody {
    /// Roles: admin, steward, engineer, analyst, viewer.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Domains (keys).
    #[serde(default)]
    pub domains: Vec<String>,
    /// A name for explanations.
    #[serde(default)]
    pub name: Option<String>,
}

/// A question to the decision point.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideBody {
    /// Whom to decide for; the caller when absent. Deciding for someone else needs the
    /// steward role.
    #[serde(default)]
    pub principal: Option<PrincipalBody>,
    /// read, use, modify, delete, distribute... (default read).
    #[serde(default)]
    pub action: Option<String>,
    /// An IRI, a dataset (`bronze.customers`) or a column (`bronze.customers.email`).
    pub resource: String,
    /// A DPV purpose (`dpv:Marketing`) or words (`customer care`).
    #[serde(default)]
    pub purpose: Option<String>,
}

fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ApiError::BadRequest(format!(
            "body: {}: {}",
            if path == "." {
                "(document)".to_owned()
            } else {
                path
            },
            e.inner()
        ))
    })
}

/// Decides whether a principal may perform an action on a resource, for a purpose: permit
/// or deny, the obligations (masking, row filters, columns to leave out), the policies that
/// decided, the reasons and any conflicts. When no decision can be made the answer is deny.
#[utoipa::path(post, path = "/api/v1/policy/decide", tag = "policy", request_body = DecideBody,
    responses(
        (status = 200, description = "The decision", body = Object),
        (status = 400, description = "A malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Deciding for someone else without the steward role", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn decide(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    body: Bytes,
) -> ApiResult<Response> {
    let body: DecideBody = json_body(&body)?;
    let who = match &body.principal {
        None => subject(&principal),
        Some(p) => {
            principal.require(Role::Steward, "deciding for another principal")?;
            for r in &p.roles {
                r.parse::<Role>()
                    .map_err(|e| ApiError::BadRequest(format!("principal.roles: {e}")))?;
            }
            Subject {
                name: p.name.clone().unwrap_or_else(|| "someone".to_owned()),
                roles: p.roles.clone(),
                domains: p.domains.clone(),
            }
        }
    };
    let (decided_for, action, purpose) = (
        who.name.clone(),
        body.action.clone().unwrap_or_else(|| "read".to_owned()),
        body.purpose.clone(),
    );
    let request = Request {
        principal: who,
        action: action.clone(),
        resource: body.resource,
        purpose: body.purpose,
    };
    let scope = principal.scope()?;
    let engine = Arc::clone(&state.policy);
    let decided: Decided =
        blocking(move || engine.decide(&scope, &request).map_err(ApiError::from)).await?;
    // The audit keeps the question and the answer, not only the endpoint.
    let detail = serde_json::json!({
        "principal": decided_for,
        "resource": decided.resource.iri,
        "action": action,
        "purpose": purpose,
        "effect": decided.decision.effect,
        "decided_by": decided.decision.decided_by.iter().map(|p| p.policy.clone()).collect::<Vec<_>>(),
    });
    let mut response = Json(decided).into_response();
    response
        .extensions_mut()
        .insert(AuditAction("policy.decide"));
    response.extensions_mut().insert(AuditDetail(detail));
    Ok(response)
}

/// Proposes new versions of policies, written in YAML (`application/yaml`) or Turtle
/// (`text/turtle`). Stewards and admins propose; proposed versions are not enforced until an
/// admin approves them.
#[utoipa::path(post, path = "/api/v1/policies", tag = "policy",
    request_body(content = String, content_type = "application/yaml", description = "Policies in YAML or Turtle"),
    responses(
        (status = 201, description = "The proposed versions", body = Object),
        (status = 400, description = "Malformed policies; the detail names the line or field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a steward", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A version is already awaiting approval", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn propose(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    principal.require(Role::Steward, "proposing policies")?;
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/yaml")
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let file = match media.as_str() {
        "application/yaml" | "application/x-yaml" | "text/yaml" => "body.yaml",
        "text/turtle" => "body.ttl",
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "{other}: send policies as application/yaml or text/turtle"
            )));
        }
    };
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8".into()))?;
    let scope = principal.scope()?;
    let store = Arc::clone(&state.store);
    let who = subject(&principal);
    let done = blocking(
        move || -> ApiResult<Vec<govgraph_policy::lifecycle::Proposed>> {
            let policies = govgraph_policy::yaml::read_policies(&text, file, store.scheme())?;
            let mut out = Vec::new();
            for p in &policies {
                out.push(govgraph_policy::lifecycle::propose(
                    &store, &scope, p, &who, None,
                )?);
            }
            Ok(out)
        },
    )
    .await?;
    crate::rest::search_caught_up(&state).await;
    let mut response = (
        axum::http::StatusCode::CREATED,
        Json(serde_json::json!({ "proposed": done })),
    )
        .into_response();
    response
        .extensions_mut()
        .insert(AuditAction("policy.propose"));
    Ok(response)
}

/// A note for the change log.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// Why, in words.
    #[serde(default)]
    pub note: Option<String>,
}

async fn decide_version(
    state: Arc<AppState>,
    principal: Arc<Principal>,
    key: String,
    version: u32,
    approve: bool,
    body: Bytes,
) -> ApiResult<Response> {
    principal.require(
        Role::Admin,
        if approve {
            "approving policies"
        } else {
            "rejecting policies"
        },
    )?;
    let note: NoteBody = if body.is_empty() {
        NoteBody::default()
    } else {
        json_body(&body)?
    };
    let scope = principal.scope()?;
    let store = Arc::clone(&state.store);
    let who = subject(&principal);
    let change = blocking(move || {
        govgraph_policy::lifecycle::decide(
            &store,
            &scope,
            &key,
            version,
            approve,
            &who,
            note.note.as_deref(),
        )
        .map_err(ApiError::from)
    })
    .await?;
    crate::rest::search_caught_up(&state).await;
    let mut response = Json(change).into_response();
    response.extensions_mut().insert(AuditAction(if approve {
        "policy.approve"
    } else {
        "policy.reject"
    }));
    Ok(response)
}

/// Approves a proposed version: it is enforced from now on, and the version in force is
/// retired. Only an admin who did not propose it may approve.
#[utoipa::path(post, path = "/api/v1/policies/{id}/versions/{version}/approve", tag = "policy",
    params(("id" = String, Path, description = "The policy's key"), ("version" = u32, Path, description = "The version")),
    request_body(content = NoteBody, description = "An optional note"),
    responses(
        (status = 200, description = "The change", body = Object),
        (status = 403, description = "Not an admin, or the author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The version is not proposed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn approve(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Path((key, version)): Path<(String, u32)>,
    body: Bytes,
) -> ApiResult<Response> {
    decide_version(state, principal, key, version, true, body).await
}

/// Rejects a proposed version.
#[utoipa::path(post, path = "/api/v1/policies/{id}/versions/{version}/reject", tag = "policy",
    params(("id" = String, Path, description = "The policy's key"), ("version" = u32, Path, description = "The version")),
    request_body(content = NoteBody, description = "An optional note"),
    responses(
        (status = 200, description = "The change", body = Object),
        (status = 403, description = "Not an admin, or the author", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The version is not proposed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn reject(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Path((key, version)): Path<(String, u32)>,
    body: Bytes,
) -> ApiResult<Response> {
    decide_version(state, principal, key, version, false, body).await
}

/// A policy's versions and its change log (who proposed, approved or rejected what, when).
#[utoipa::path(get, path = "/api/v1/policies/{id}/history", tag = "policy",
    params(("id" = String, Path, description = "The policy's key")),
    responses(
        (status = 200, description = "Versions and changes", body = Object),
        (status = 404, description = "No such policy", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn history(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Path(key): Path<String>,
) -> ApiResult<Response> {
    let scope = principal.scope()?;
    let store = Arc::clone(&state.store);
    let h = blocking(move || {
        let h = govgraph_policy::lifecycle::history(&store, &scope, &key)?;
        if h.versions.is_empty() {
            return Err(ApiError::NotFound(format!("no policy {key:?}")));
        }
        Ok(h)
    })
    .await?;
    Ok(Json(h).into_response())
}

/// Conflicts between the approved policies: permissions and prohibitions that meet on the
/// same resources, which one wins and why; and domain policies that reach beyond their
/// domain.
#[utoipa::path(get, path = "/api/v1/policy/conflicts", tag = "policy",
    responses((status = 200, description = "The conflicts", body = Object)),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn conflicts(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
) -> ApiResult<Response> {
    let scope = principal.scope()?;
    let engine = Arc::clone(&state.policy);
    let lint = blocking(move || -> ApiResult<_> {
        let set = engine.policies(&scope)?;
        Ok(govgraph_policy::lint::lint(engine.store(), &scope, &set)?)
    })
    .await?;
    Ok(Json(lint).into_response())
}

/// Options of a retention run.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionBody {
    /// Judge ages as of this date (YYYY-MM-DD) instead of now.
    #[serde(default)]
    pub as_of: Option<String>,
    /// Report only; store no violations.
    #[serde(default)]
    pub dry_run: bool,
}

/// Finds data past its retention: for every retention policy, profiles the timestamp
/// columns of the datasets it covers (where an ingestion run located their data), counts
/// the expired rows and opens violations. Stewards and admins.
#[utoipa::path(post, path = "/api/v1/policy/retention", tag = "policy",
    request_body(content = RetentionBody, description = "Options"),
    responses(
        (status = 200, description = "The findings", body = Object),
        (status = 403, description = "Not a steward", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn retention(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    body: Bytes,
) -> ApiResult<Response> {
    principal.require(Role::Steward, "enforcing retention")?;
    let body: RetentionBody = if body.is_empty() {
        RetentionBody::default()
    } else {
        json_body(&body)?
    };
    let as_of = match &body.as_of {
        Some(d) => Some(govgraph_quality_time(d)?),
        None => None,
    };
    let scope = principal.scope()?;
    let engine = Arc::clone(&state.policy);
    let findings = blocking(move || -> ApiResult<_> {
        let set = engine.policies(&scope)?;
        Ok(govgraph_policy::retention::enforce(
            engine.store(),
            &scope,
            &set,
            &govgraph_policy::retention::RetentionOptions {
                as_of,
                root: None,
                store: !body.dry_run,
            },
        )?)
    })
    .await?;
    crate::rest::search_caught_up(&state).await;
    let mut response = Json(serde_json::json!({ "findings": findings })).into_response();
    response
        .extensions_mut()
        .insert(AuditAction("policy.retention"));
    Ok(response)
}

fn govgraph_quality_time(d: &str) -> ApiResult<i64> {
    govgraph_quality::rules::run::parse_timestamp(d)
        .ok_or_else(|| ApiError::BadRequest(format!("as_of: {d:?} is not a date (YYYY-MM-DD)")))
}

/// The format of a compliance report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// json, csv, markdown or html (default: from Accept, else json).
    pub format: Option<String>,
}

fn report_format(params: &ReportParams, headers: &HeaderMap) -> ApiResult<Format> {
    if let Some(f) = &params.format {
        return Format::parse(f).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "format: {f:?}: expected json, csv, markdown or html"
            ))
        });
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let offers = [
        ("application/json", Format::Json),
        ("text/csv", Format::Csv),
        ("text/markdown", Format::Markdown),
        ("text/html", Format::Html),
    ];
    match accept {
        None => Ok(Format::Json),
        Some(a) => crate::sparql::negotiate(Some(a), &offers).ok_or_else(|| {
            ApiError::NotAcceptable("reports come as JSON, CSV, Markdown or HTML".into())
        }),
    }
}

fn rendered(text: String, format: Format) -> Response {
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    r
}

/// The GDPR Art. 30 record of processing activities, generated from the graph: 30(1)(a)–(g)
/// for the activities of which the organisation is controller, 30(2) for those it carries out
/// as a processor, every line with its datasets and columns, and the gaps.
#[utoipa::path(get, path = "/api/v1/compliance/gdpr-art30", tag = "reports", params(ReportParams),
    responses((status = 200, description = "The record", body = Object)),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn gdpr_art30(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Query(params): Query<ReportParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let format = report_format(&params, &headers)?;
    let scope = principal.scope()?;
    let engine = Arc::clone(&state.policy);
    let text = blocking(move || -> ApiResult<String> {
        let set = engine.policies(&scope)?;
        let r = govgraph_policy::report::art30(engine.store(), &scope, &set)?;
        Ok(govgraph_policy::report::render_art30(&r, format)?)
    })
    .await?;
    Ok(rendered(text, format))
}

/// The CCPA/CPRA disclosures: the categories of personal information collected, their
/// sources, purposes and third parties, whether they are sold or shared, and retention.
#[utoipa::path(get, path = "/api/v1/compliance/ccpa", tag = "reports", params(ReportParams),
    responses((status = 200, description = "The disclosures", body = Object)),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn ccpa(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Query(params): Query<ReportParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let format = report_format(&params, &headers)?;
    let scope = principal.scope()?;
    let engine = Arc::clone(&state.policy);
    let text = blocking(move || -> ApiResult<String> {
        let set = engine.policies(&scope)?;
        let r = govgraph_policy::report::ccpa(engine.store(), &scope, &set)?;
        Ok(govgraph_policy::report::render_ccpa(&r, format)?)
    })
    .await?;
    Ok(rendered(text, format))
}

/// A token to map back.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetokenizeBody {
    /// A `tok_…` value from a masked response.
    pub token: String,
}

/// Maps a token back to the value it stands for, for a caller whose own decision on that
/// column shows the value in clear. Only values the catalog holds can be mapped back; the
/// request is audited.
#[utoipa::path(post, path = "/api/v1/policy/detokenize", tag = "policy", request_body = DetokenizeBody,
    responses(
        (status = 200, description = "{column, value}", body = Object),
        (status = 404, description = "No value the caller may see has this token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn detokenize(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    body: Bytes,
) -> ApiResult<Response> {
    let body: DetokenizeBody = json_body(&body)?;
    let scope = principal.scope()?;
    let engine = Arc::clone(&state.policy);
    let who = subject(&principal);
    let found = blocking(move || Ok(engine.detokenize(&scope, &who, body.token.trim())?)).await?;
    let mut response = match found {
        Some((column, value)) => {
            Json(serde_json::json!({ "column": column, "value": value })).into_response()
        }
        None => ApiError::NotFound("no value you may see has this token".into()).into_response(),
    };
    response
        .extensions_mut()
        .insert(AuditAction("policy.detokenize"));
    Ok(response)
}

/// The masker for a caller: what every value-bearing response passes through.
pub fn masker(state: &AppState, principal: &Principal) -> ApiResult<Arc<govgraph_policy::Masker>> {
    let scope = principal.scope()?;
    Ok(state.policy.masker(&scope, &subject(principal), None)?)
}
