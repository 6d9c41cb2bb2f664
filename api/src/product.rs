//! `POST /api/v1/data-products`: a data product from a request in words.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};
use govgraph_agents::product::ProductRequest;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::rest::blocking;
use crate::server::{AppState, AuditAction, AuditDetail};

/// A request for a data product.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    /// What is needed, e.g. "daily net revenue by region and category for completed orders".
    pub request: String,
    /// The SQL dialect: duckdb (default), postgres, redshift, snowflake, bigquery,
    /// databricks or datafusion.
    #[serde(default)]
    pub dialect: Option<String>,
    /// Answers to clarifications: the ambiguous phrase mapped to the chosen term's id, such
    /// as `{"revenue": "net-revenue"}`.
    #[serde(default)]
    pub choices: BTreeMap<String, String>,
    /// The purpose the product serves (a DPV purpose, such as `dpv:Marketing`, or words):
    /// the policies decide which columns it may carry.
    #[serde(default)]
    pub purpose: Option<String>,
    /// The product's id (a slug); derived from the request when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Register the product, its output dataset and its column lineage in the graph
    /// (engineers, stewards and admins).
    #[serde(default)]
    pub register: bool,
    /// Also write the output as Parquet and profile it.
    #[serde(default)]
    pub materialize: bool,
}

/// Builds a data product: intent, discovery (honouring the caller's access), target model,
/// SQL checked against the catalog and executed on the data, quality rules (dbt, Great
/// Expectations, ODCS) and the packaged spec, validated against its JSON Schema. When the
/// request is ambiguous, `status` is `needs_clarification` and `clarifications` lists the
/// choices; send them back in `choices`.
#[utoipa::path(
    post,
    path = "/api/v1/data-products",
    tag = "products",
    request_body = ProductBody,
    responses(
        (status = 200, description = "The product: {status, id, intent, discovery, model, transformation {dialect, sql, validation}, quality, ports, lineage, security, clarifications, spec_yaml, trace}", body = Object),
        (status = 201, description = "The product, registered (and materialized) in the graph", body = Object),
        (status = 400, description = "The request names nothing the catalog holds, or cannot be served", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Registering needs the engineer, steward or admin role", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn build(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let body: ProductBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("the body must be {{\"request\": ...}}: {e}")))?;
    let writes = body.register || body.materialize;
    if writes {
        principal.require(Role::Engineer, "registering data products")?;
    }
    let scope = principal.scope()?;
    if writes && scope.tenant_id().is_some() {
        return Err(ApiError::BadRequest(
            "register: data products are registered in the shared catalog, not in a tenant's graphs"
                .into(),
        ));
    }
    let subject = crate::policy::subject(&principal);
    let request = ProductRequest {
        request: body.request.clone(),
        dialect: body.dialect.clone(),
        choices: body.choices.clone(),
        purpose: body.purpose.clone(),
        name: body.name.clone(),
        register: body.register,
        materialize: body.materialize,
    };
    let (store, builder) = (Arc::clone(&state.store), Arc::clone(&state.products));
    let product = blocking(move || {
        builder
            .build(&store, &scope, &subject, &request)
            .map_err(ApiError::from)
    })
    .await?;
    if product.registered.is_some() {
        crate::rest::search_caught_up(&state).await;
    }
    let detail = serde_json::json!({
        "request": body.request,
        "purpose": body.purpose,
        "status": product.status,
        "product": product.spec.id,
        "registered": product.registered,
        "withheld": product.spec.security.withheld.iter().map(|w| &w.column).collect::<Vec<_>>(),
        "excluded": product.spec.discovery.excluded.iter().filter(|e| e.reason == "access").map(|e| &e.dataset).collect::<Vec<_>>(),
    });
    let status = if product.registered.is_some() {
        axum::http::StatusCode::CREATED
    } else {
        axum::http::StatusCode::OK
    };
    let mut response = (status, Json(product)).into_response();
    response
        .extensions_mut()
        .insert(AuditAction("product.build"));
    response.extensions_mut().insert(AuditDetail(detail));
    Ok(response)
}
