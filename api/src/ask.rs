//! `POST /api/v1/ask`: governance questions in plain words, answered as JSON or streamed as
//! server-sent events.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use govgraph_agents::ask::{AskRequest, Role as AskRole};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::rest::blocking;
use crate::server::{AppState, AuditAction, AuditDetail};

/// A question.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskBody {
    /// The question, e.g. "which tables hold customer emails?".
    pub question: String,
    /// The conversation it continues (the `session` of an earlier answer), for follow-ups
    /// such as "and which of those are PII?".
    #[serde(default)]
    pub session: Option<String>,
    /// Answer as a lower role than the caller's (never a higher one).
    #[serde(default)]
    pub role: Option<String>,
    /// Include the plan with each step's timing and tool calls.
    #[serde(default)]
    pub explain: bool,
    /// Why the caller asks (a DPV purpose, such as `dpv:Marketing` or `customer care`): the
    /// policies decide with it.
    #[serde(default)]
    pub purpose: Option<String>,
}

fn ask_role(r: Role) -> AskRole {
    match r {
        Role::Admin => AskRole::Admin,
        Role::Steward => AskRole::Steward,
        Role::Engineer => AskRole::Engineer,
        Role::Analyst => AskRole::Analyst,
        Role::Viewer => AskRole::Viewer,
    }
}

fn rank(r: AskRole) -> u8 {
    match r {
        AskRole::Viewer => 0,
        AskRole::Analyst => 1,
        AskRole::Engineer => 2,
        AskRole::Steward => 3,
        AskRole::Admin => 4,
    }
}

/// Answers a governance question from the graph. The answer carries the entities it is
/// about, a number for counts, the citations (IRIs and the SPARQL that ran), the mode and
/// timings; refusals say why. With `Accept: text/event-stream` the plan's steps and then the
/// answer arrive as server-sent events (`step`, `answer`, `done`).
#[utoipa::path(
    post,
    path = "/api/v1/ask",
    tag = "ask",
    request_body = AskBody,
    responses(
        (status = 200, description = "The answer: {answer, entities [{iri, name, kind}], value, refused, reason, citations, mode, timings, session, intent, choices, plan}", body = Object),
        (status = 400, description = "The body is not a question", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The requested role is above the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn post_ask(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let body: AskBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!("the body must be {{\"question\": ...}}: {e}"))
    })?;
    let own = ask_role(principal.role());
    let role = match body.role.as_deref() {
        None => own,
        Some(r) => {
            let wanted: AskRole = r
                .parse()
                .map_err(|e: String| ApiError::BadRequest(format!("role: {e}")))?;
            if rank(wanted) > rank(own) {
                return Err(ApiError::Forbidden(format!(
                    "{} may not ask as {}: its role is {}",
                    principal.name,
                    wanted.name(),
                    own.name()
                )));
            }
            wanted
        }
    };
    let stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    // The policies judge the caller as it is, or as the lower role it asked to be.
    let mut subject = crate::policy::subject(&principal);
    if body.role.is_some() {
        subject.roles = vec![role.name().to_owned()];
    }
    let request = AskRequest {
        question: body.question.clone(),
        role,
        session: body.session.clone(),
        scope: principal.scope()?,
        explain: body.explain || stream,
        subject: Some(subject),
        purpose: body.purpose.clone(),
    };
    let (store, search, asker) = (
        state.store.clone(),
        state.search.clone(),
        state.asker.clone(),
    );
    let mut answer = blocking(move || {
        search
            .with_index(|index| asker.ask(&store, Some(index), &request))?
            .map_err(ApiError::from)
    })
    .await?;
    let detail = serde_json::json!({
        "question": body.question,
        "role": role.name(),
        "intent": answer.intent,
        "refused": answer.refused,
        "session": answer.session,
        "tool_calls": answer.tool_calls.iter().map(|t| serde_json::json!({
            "tool": t.tool,
            "input": t.input.chars().take(2000).collect::<String>(),
            "results": t.results,
            "attempts": t.attempts,
            "ms": t.ms,
            "error": t.error,
        })).collect::<Vec<_>>(),
    });
    let mut response = if stream {
        let mut text = String::new();
        for step in answer.plan.iter().flatten() {
            push_event(
                &mut text,
                "step",
                &serde_json::to_string(step).unwrap_or_default(),
            );
        }
        if !body.explain {
            answer.plan = None;
        }
        push_event(
            &mut text,
            "answer",
            &serde_json::to_string(&answer).unwrap_or_default(),
        );
        push_event(&mut text, "done", "{}");
        let mut r = text.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        r
    } else {
        Json(answer).into_response()
    };
    response.extensions_mut().insert(AuditAction("ask"));
    response.extensions_mut().insert(AuditDetail(detail));
    Ok(response)
}

/// One server-sent event; `data` is one line of JSON.
fn push_event(out: &mut String, event: &str, data: &str) {
    out.push_str("event: ");
    out.push_str(event);
    out.push('\n');
    for line in data.lines() {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
}
