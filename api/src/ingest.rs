//! Ingestion over HTTP: OpenLineage events at `POST /api/v1/lineage`, as Marquez takes them.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use govgraph_connectors::openlineage;

use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::rest::blocking;
use crate::server::{AppState, AuditAction};

/// Accepts one OpenLineage event (RunEvent, DatasetEvent or JobEvent, spec 2-0-2).
///
/// The event is stored in one transaction, or not at all: a malformed event is answered
/// with 400 and a problem document naming the field at fault. Needs the engineer role.
#[utoipa::path(
    post,
    path = "/api/v1/lineage",
    tag = "lineage",
    request_body(content = Object, description = "An OpenLineage RunEvent, DatasetEvent or JobEvent", content_type = "application/json"),
    responses(
        (status = 201, description = "The event was stored: its kind, the graphs written, the datasets, columns, lineage edges and assertions it carried, and warnings", body = Object),
        (status = 400, description = "The event is malformed; nothing was stored", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller may not ingest", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn post_lineage(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    body: Bytes,
) -> ApiResult<Response> {
    principal.require(Role::Engineer, "Posting OpenLineage events")?;
    let scope = principal.scope()?;
    let store = state.store.clone();
    let report =
        blocking(move || openlineage::apply_event(&store, &scope, &body).map_err(ApiError::from))
            .await?;
    crate::rest::search_caught_up(&state).await;
    tracing::info!(kind = ?report.kind, graph = %report.graph, edges = report.lineage_edges, "openlineage event");
    let mut response = (StatusCode::CREATED, Json(report)).into_response();
    response
        .extensions_mut()
        .insert(AuditAction("lineage.write"));
    Ok(response)
}
