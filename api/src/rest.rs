//! REST under `/api/v1`, in JSON.
//!
//! Every collection pages and filters the same way: `limit` (default 50, at most 500) and
//! `offset`, and the filters `q`, `domain`, `tag`, `owner`, `system` and `pii` where they
//! make sense. A page is `{items, total, limit, offset, next}`. Errors are RFC 9457
//! problem details. Every read runs in the caller's scope: a tenant sees its own graphs only.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use govgraph_graph::oxigraph::model::{Literal, NamedNode, NamedOrBlankNode, Term};
use govgraph_graph::traverse::{self, Direction, Level, Traversal};
use govgraph_graph::{GraphStore, QueryOptions, Scope};
use govgraph_search::{EntityDoc, EntityKind, Mode, SearchRequest};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{AuditFilter, AuditRecord};
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::server::AppState;

/// The default page size.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest page size.
pub const MAX_LIMIT: usize = 500;

/// Query-string parameters, with errors as problem details.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Params(q.0))
            .map_err(|e| ApiError::BadRequest(format!("query parameters: {}", e.body_text())))
    }
}

/// Paging.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Items per page (default 50, at most 500).
    #[param(minimum = 0, maximum = 500)]
    pub limit: Option<usize>,
    /// Items to skip.
    #[param(minimum = 0)]
    pub offset: Option<usize>,
}

impl Paging {
    fn limit(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT)
    }
    fn offset(&self) -> usize {
        self.offset.unwrap_or(0).min(10_000_000)
    }
}

/// One page of a collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// This page's items.
    pub items: Vec<T>,
    /// Items in all, over every page.
    pub total: usize,
    /// The page size asked for.
    pub limit: usize,
    /// Items skipped.
    pub offset: usize,
    /// The `offset` of the next page, if there is one.
    pub next_offset: Option<usize>,
}

impl<T> Page<T> {
    fn new(items: Vec<T>, total: usize, paging: Paging) -> Self {
        let (limit, offset) = (paging.limit(), paging.offset());
        let next_offset =
            (offset + items.len() < total && !items.is_empty()).then_some(offset + items.len());
        Self {
            items,
            total,
            limit,
            offset,
            next_offset,
        }
    }
}

/// Filters shared by the catalog collections.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogFilter {
    /// Words to search for; results are then ranked by relevance instead of by path.
    pub q: Option<String>,
    /// Only this domain (its label).
    pub domain: Option<String>,
    /// Only this tag or classification (label or notation).
    pub tag: Option<String>,
    /// Only this owner or steward (name).
    pub owner: Option<String>,
    /// Only this system.
    pub system: Option<String>,
    /// Only personal data (true) or only not (false).
    pub pii: Option<bool>,
}

/// The catalog collections' query string, as it arrives (`pii` as text, to name it in errors).
#[derive(Debug, Deserialize)]
pub struct CatalogQuery {
    q: Option<String>,
    domain: Option<String>,
    tag: Option<String>,
    owner: Option<String>,
    system: Option<String>,
    pii: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

fn parse_bool(field: &str, v: Option<&str>) -> ApiResult<Option<bool>> {
    match v.map(|s| s.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) if s == "true" || s == "yes" || s == "1" => Ok(Some(true)),
        Some(s) if s == "false" || s == "no" || s == "0" => Ok(Some(false)),
        Some(s) => Err(ApiError::BadRequest(format!(
            "{field}: {s:?} is not a boolean; use true or false"
        ))),
    }
}

impl CatalogQuery {
    fn split(self) -> ApiResult<(CatalogFilter, Paging)> {
        Ok((
            CatalogFilter {
                pii: parse_bool("pii", self.pii.as_deref())?,
                q: self.q,
                domain: self.domain,
                tag: self.tag,
                owner: self.owner,
                system: self.system,
            },
            Paging {
                limit: self.limit,
                offset: self.offset,
            },
        ))
    }
}

/// A catalog entity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Entity {
    /// Its IRI.
    pub iri: String,
    /// dataset, column, term, domain, owner, tag, rule, policy, product or dashboard.
    pub kind: Option<String>,
    /// Its identifier-like name.
    pub name: String,
    /// Its human label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Where it sits: `dataset` or `dataset.column`.
    pub path: String,
    /// Its description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Other names: synonyms and mapped glossary terms.
    pub synonyms: Vec<String>,
    /// Glossary terms it is mapped to.
    pub terms: Vec<String>,
    /// Tags and classifications.
    pub tags: Vec<String>,
    /// Owners and stewards.
    pub owner: Vec<String>,
    /// Domains.
    pub domain: Vec<String>,
    /// Its system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Classified as personal data.
    pub pii: bool,
    /// Certified by its owner.
    pub certified: bool,
    /// Latest quality score in [0, 1].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<f64>,
    /// How many things derive from it.
    pub popularity: u32,
}

impl From<EntityDoc> for Entity {
    fn from(d: EntityDoc) -> Self {
        Self {
            iri: d.iri,
            kind: d.kind.map(|k| k.as_str().to_owned()),
            name: d.name,
            label: d.label,
            path: d.path,
            description: d.description,
            synonyms: d.synonyms,
            terms: d.terms,
            tags: d.tags,
            owner: d.owner,
            domain: d.domain,
            system: d.system,
            pii: d.pii,
            certified: d.certified,
            quality: d.quality,
            popularity: d.popularity,
        }
    }
}

/// An entity with what sits under it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityDetail {
    /// The entity.
    #[serde(flatten)]
    pub entity: Entity,
    /// For a dataset: its columns, by IRI.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// Every fact about it the caller may see: predicate IRI to values.
    pub properties: std::collections::BTreeMap<String, Vec<String>>,
    /// For a column: the latest profile, metric to value (values of protected columns are
    /// masked or withheld as the caller's policies say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<std::collections::BTreeMap<String, String>>,
}

/// The latest profile of each column: metric (local name) to value, and when.
pub fn column_profiles(
    store: &GraphStore,
    scope: &Scope,
    columns: &[String],
) -> ApiResult<std::collections::HashMap<String, std::collections::BTreeMap<String, String>>> {
    let mut out: std::collections::HashMap<String, std::collections::BTreeMap<String, String>> =
        Default::default();
    let iris: Vec<String> = columns
        .iter()
        .filter(|c| NamedNode::new(c.as_str()).is_ok())
        .map(|c| format!("<{c}>"))
        .collect();
    if iris.is_empty() {
        return Ok(out);
    }
    let q = format!(
        "SELECT ?c ?metric ?v ?t WHERE {{ VALUES ?c {{ {} }} ?m dqv:computedOn ?c ; dqv:isMeasurementOf ?metric ; dqv:value ?v ; prov:generatedAtTime ?t }}",
        iris.join(" ")
    );
    let options = QueryOptions {
        timeout: Some(std::time::Duration::from_secs(10)),
        ..QueryOptions::default()
    };
    let outcome = store.query_in(&q, &options, scope)?;
    let rows = govgraph_graph::store::collect_solutions(outcome.results, &outcome.deadline)?;
    // The newest value of each metric.
    let mut newest: std::collections::HashMap<(String, String), (String, String)> =
        Default::default();
    for r in &rows {
        let (Some(c), Some(m), Some(v), Some(t)) =
            (r.get("c"), r.get("metric"), r.get("v"), r.get("t"))
        else {
            continue;
        };
        let metric = term_text(m)
            .rsplit(['#', '/'])
            .next()
            .unwrap_or_default()
            .to_owned();
        let key = (term_text(c), metric);
        let (v, t) = (term_text(v), term_text(t));
        match newest.get(&key) {
            Some((_, old)) if old >= &t => {}
            _ => {
                newest.insert(key, (v, t));
            }
        }
    }
    for ((c, metric), (v, t)) in newest {
        let entry = out.entry(c).or_default();
        let at = entry.entry("measured_at".to_owned()).or_default();
        if t > *at {
            *at = t;
        }
        entry.insert(metric, v);
    }
    Ok(out)
}

/// Runs blocking store or index work on the worker pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    crate::pool::WorkPool::global().run(f).await
}

/// How long a write waits for search to take its change before answering anyway.
const SEARCH_CATCH_UP: std::time::Duration = std::time::Duration::from_secs(5);

/// After a committed write: tells search, and waits (off the runtime) until search has the
/// change, so that the writer's next read sees it (REST lookups go through search).
pub async fn search_caught_up(state: &Arc<AppState>) {
    let search = Arc::clone(&state.search);
    let caught_up = blocking(move || Ok(search.changed_and_wait(SEARCH_CATCH_UP)))
        .await
        .unwrap_or(false);
    if !caught_up {
        tracing::warn!(
            wait_ms = SEARCH_CATCH_UP.as_millis() as u64,
            "search has not taken a write yet; it catches up in the background"
        );
    }
}

fn search_request(p: &Principal, kind: Option<EntityKind>, f: &CatalogFilter) -> SearchRequest {
    let one = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
    SearchRequest {
        query: f.q.clone().unwrap_or_default(),
        kinds: kind.into_iter().collect(),
        domains: one(&f.domain),
        tags: one(&f.tag),
        owners: one(&f.owner),
        systems: one(&f.system),
        pii: f.pii,
        tenant: p.tenant.clone(),
        ..SearchRequest::default()
    }
}

async fn list_kind(
    state: Arc<AppState>,
    principal: Arc<Principal>,
    kind: EntityKind,
    query: CatalogQuery,
) -> ApiResult<Json<Page<Entity>>> {
    let (filter, paging) = query.split()?;
    let mut request = search_request(&principal, Some(kind), &filter);
    request.offset = paging.offset();
    request.limit = paging.limit();
    let search = state.search.clone();
    let (items, total) = blocking(move || {
        if request.query.trim().is_empty() {
            let (docs, total) = search.with_index(|i| i.list(&request))??;
            Ok((docs.into_iter().map(Entity::from).collect(), total))
        } else {
            let limit = request.limit;
            request.limit = limit.max(1);
            let r = search.search(&request)?;
            let items: Vec<Entity> = r
                .hits
                .into_iter()
                .take(limit)
                .map(|h| SearchHit::from(h).entity)
                .collect();
            Ok((items, r.total))
        }
    })
    .await?;
    Ok(Json(Page::new(items, total, paging)))
}

/// Finds an entity of a kind by IRI or by path, within the caller's scope.
fn find_entity(
    state: &AppState,
    principal: &Principal,
    kind: EntityKind,
    id: &str,
) -> ApiResult<EntityDoc> {
    let visible = |d: &EntityDoc| {
        d.kind == Some(kind)
            && principal
                .tenant
                .as_ref()
                .is_none_or(|t| govgraph_search::text::tenants_of(&d.graphs).contains(t))
    };
    if id.contains(':')
        && let Some(d) = state.search.with_index(|i| i.get(id))??
        && visible(&d)
    {
        return Ok(d);
    }
    let mut request = search_request(principal, Some(kind), &CatalogFilter::default());
    request.paths = vec![id.to_owned()];
    request.limit = 2;
    let (docs, _) = state.search.with_index(|i| i.list(&request))??;
    docs.into_iter()
        .find(visible)
        .ok_or_else(|| ApiError::NotFound(format!("no {} {id:?}", kind.as_str())))
}

fn term_text(t: &Term) -> String {
    match t {
        Term::NamedNode(n) => n.as_str().to_owned(),
        Term::BlankNode(b) => format!("_:{}", b.as_str()),
        Term::Literal(l) => l.value().to_owned(),
        #[allow(unreachable_patterns)]
        other => other.to_string(),
    }
}

fn detail(store: &GraphStore, scope: &Scope, doc: EntityDoc) -> ApiResult<EntityDetail> {
    let node = NamedNode::new(doc.iri.as_str())
        .map_err(|e| ApiError::Internal(format!("stored IRI: {e}")))?;
    let raw = store.raw();
    let mut properties: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for q in scope.filter_quads(raw.quads_for_pattern(Some(node.as_ref().into()), None, None, None))
    {
        let q = q.map_err(|e| ApiError::Internal(e.to_string()))?;
        let values = properties
            .entry(q.predicate.as_str().to_owned())
            .or_default();
        let v = term_text(&q.object);
        if !values.contains(&v) {
            values.push(v);
        }
    }
    let mut columns = Vec::new();
    if doc.kind == Some(EntityKind::Dataset) {
        for q in scope.filter_quads(raw.quads_for_pattern(
            None,
            Some(govgraph_graph::vocab::gg::COLUMN_OF),
            Some(node.as_ref().into()),
            None,
        )) {
            let q = q.map_err(|e| ApiError::Internal(e.to_string()))?;
            if let NamedOrBlankNode::NamedNode(c) = q.subject {
                columns.push(c.into_string());
            }
        }
        columns.sort();
        columns.dedup();
    }
    let profile = if doc.kind == Some(EntityKind::Column) {
        column_profiles(store, scope, std::slice::from_ref(&doc.iri))?.remove(&doc.iri)
    } else {
        None
    };
    Ok(EntityDetail {
        entity: Entity::from(doc),
        columns,
        properties,
        profile,
    })
}

/// `value` as JSON with every protected value masked for `principal`.
pub fn masked_json<T: Serialize>(
    state: &AppState,
    principal: &Principal,
    value: &T,
) -> ApiResult<serde_json::Value> {
    let mut v = serde_json::to_value(value).map_err(|e| ApiError::Internal(e.to_string()))?;
    crate::policy::masker(state, principal)?.json(&mut v);
    Ok(v)
}

async fn get_kind(
    state: Arc<AppState>,
    principal: Arc<Principal>,
    kind: EntityKind,
    id: String,
) -> ApiResult<Json<serde_json::Value>> {
    let scope = principal.scope()?;
    let s = state.clone();
    blocking(move || {
        let doc = find_entity(&s, &principal, kind, &id)?;
        let d = detail(&s.store, &scope, doc)?;
        masked_json(&s, &principal, &d).map(Json)
    })
    .await
}

macro_rules! collection {
    ($list:ident, $get:ident, $kind:expr, $path:literal, $item:literal, $tag:literal) => {
        #[doc = concat!("Lists ", $item, "s.")]
        #[utoipa::path(
            get,
            path = $path,
            tag = $tag,
            params(CatalogFilter, Paging),
            responses(
                (status = 200, description = "One page", body = Page<Entity>),
                (status = 400, description = "Bad parameters", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "No or bad API key", body = Problem, content_type = "application/problem+json"),
            ),
            security(("api_key" = []), ("bearer" = []))
        )]
        pub async fn $list(
            State(state): State<Arc<AppState>>,
            Extension(principal): Extension<Arc<Principal>>,
            Params(query): Params<CatalogQuery>,
        ) -> ApiResult<Json<Page<Entity>>> {
            list_kind(state, principal, $kind, query).await
        }

        #[doc = concat!("One ", $item, ", by IRI or by path.")]
        #[utoipa::path(
            get,
            path = concat!($path, "/{id}"),
            tag = $tag,
            params(("id" = String, Path, description = "The IRI (percent-encoded) or the path, such as `sales.orders` or `sales.orders.amount`")),
            responses(
                (status = 200, description = "The entity", body = EntityDetail),
                (status = 404, description = "Not there, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
            ),
            security(("api_key" = []), ("bearer" = []))
        )]
        pub async fn $get(
            State(state): State<Arc<AppState>>,
            Extension(principal): Extension<Arc<Principal>>,
            Path(id): Path<String>,
        ) -> ApiResult<Json<serde_json::Value>> {
            get_kind(state, principal, $kind, id).await
        }
    };
}

collection!(
    list_datasets,
    get_dataset,
    EntityKind::Dataset,
    "/api/v1/datasets",
    "dataset",
    "catalog"
);
collection!(
    list_columns,
    get_column,
    EntityKind::Column,
    "/api/v1/columns",
    "column",
    "catalog"
);
collection!(
    list_terms,
    get_term,
    EntityKind::Term,
    "/api/v1/terms",
    "glossary term",
    "glossary"
);
collection!(
    list_domains,
    get_domain,
    EntityKind::Domain,
    "/api/v1/domains",
    "domain",
    "governance"
);
collection!(
    list_owners,
    get_owner,
    EntityKind::Owner,
    "/api/v1/owners",
    "owner",
    "governance"
);
collection!(
    list_tags,
    get_tag,
    EntityKind::Tag,
    "/api/v1/tags",
    "tag",
    "governance"
);
collection!(
    list_rules,
    get_rule,
    EntityKind::Rule,
    "/api/v1/rules",
    "quality rule",
    "quality"
);
collection!(
    list_policies,
    get_policy,
    EntityKind::Policy,
    "/api/v1/policies",
    "policy",
    "policy"
);
collection!(
    list_products,
    get_product,
    EntityKind::Product,
    "/api/v1/products",
    "data product",
    "catalog"
);

// --- search ------------------------------------------------------------------------------

/// Search parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words, names, abbreviations, a question.
    pub q: String,
    /// Only this kind: dataset, column, term, domain, owner, tag, rule, policy, product, dashboard.
    pub kind: Option<String>,
    /// Only this domain.
    pub domain: Option<String>,
    /// Only this tag.
    pub tag: Option<String>,
    /// Only this owner.
    pub owner: Option<String>,
    /// Only this system.
    pub system: Option<String>,
    /// Only personal data (true) or not (false).
    pub pii: Option<String>,
    /// hybrid (default), text or vector.
    pub mode: Option<String>,
    /// Items per page (default 10, at most 500).
    pub limit: Option<usize>,
    /// Items to skip.
    pub offset: Option<usize>,
}

/// Why a result matched.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchReason {
    /// The field that matched, or `meaning` for a vector match.
    pub field: String,
    /// The field's value with the matched words between « and ».
    pub highlight: String,
    /// How: glossary term, synonym, abbreviation, typo, vector similarity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// One search result.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    /// The entity.
    #[serde(flatten)]
    pub entity: Entity,
    /// The fused score.
    pub score: f32,
    /// Why it matched, most telling first.
    pub reasons: Vec<MatchReason>,
    /// For a column: its latest profile's range (`MinimumValue`, `MaximumValue`), masked as
    /// the caller's policies say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<std::collections::BTreeMap<String, String>>,
}

impl From<govgraph_search::Hit> for SearchHit {
    fn from(h: govgraph_search::Hit) -> Self {
        Self {
            score: h.score,
            range: None,
            reasons: h
                .reasons
                .into_iter()
                .map(|x| MatchReason {
                    field: x.field,
                    highlight: x.highlight,
                    via: x.via,
                })
                .collect(),
            entity: Entity {
                iri: h.iri,
                kind: h.kind.map(|k| k.as_str().to_owned()),
                name: h.name,
                label: h.label,
                path: h.path,
                description: h.description,
                synonyms: Vec::new(),
                terms: Vec::new(),
                tags: h.tags,
                owner: h.owner,
                domain: h.domain,
                system: None,
                pii: h.pii,
                certified: h.certified,
                quality: h.quality,
                popularity: 0,
            },
        }
    }
}

/// Search results with facet counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchPage {
    /// The query.
    pub query: String,
    /// The ranking used.
    pub mode: String,
    /// This page.
    pub items: Vec<SearchHit>,
    /// Matches in all.
    pub total: usize,
    /// The page size.
    pub limit: usize,
    /// Items skipped.
    pub offset: usize,
    /// The offset of the next page, if any.
    pub next_offset: Option<usize>,
    /// Counts by kind, domain, tag, owner, pii and system over all matches.
    pub facets: std::collections::BTreeMap<String, std::collections::BTreeMap<String, usize>>,
    /// Milliseconds taken.
    pub took_ms: f64,
}

/// Hybrid search over the catalog: full text and vectors, fused, with facets and reasons.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "search",
    params(SearchParams),
    responses(
        (status = 200, description = "Ranked results", body = SearchPage),
        (status = 400, description = "Bad parameters", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn search(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Params(p): Params<SearchParams>,
) -> ApiResult<Json<serde_json::Value>> {
    let kind = match p.kind.as_deref().filter(|k| !k.trim().is_empty()) {
        None => None,
        Some(k) => Some(EntityKind::parse(k).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "kind: {k:?} is not one of dataset, column, term, domain, owner, tag, rule, policy, product, dashboard"
            ))
        })?),
    };
    let mode = match p.mode.as_deref().filter(|m| !m.trim().is_empty()) {
        None => Mode::Hybrid,
        Some(m) => m
            .parse::<Mode>()
            .map_err(|e| ApiError::BadRequest(e.to_string()))?,
    };
    let filter = CatalogFilter {
        q: Some(p.q.clone()),
        domain: p.domain,
        tag: p.tag,
        owner: p.owner,
        system: p.system,
        pii: parse_bool("pii", p.pii.as_deref())?,
    };
    let mut request = search_request(&principal, kind, &filter);
    request.mode = mode;
    request.limit = p.limit.unwrap_or(10).clamp(1, MAX_LIMIT);
    request.offset = p.offset.unwrap_or(0).min(10_000);
    let (limit, offset) = (request.limit, request.offset);
    let search = state.search.clone();
    let r = blocking(move || Ok(search.search(&request)?)).await?;
    let mut items: Vec<SearchHit> = r.hits.into_iter().map(SearchHit::from).collect();
    let columns: Vec<String> = items
        .iter()
        .filter(|h| h.entity.kind.as_deref() == Some("column"))
        .map(|h| h.entity.iri.clone())
        .collect();
    let f = r.facets;
    let facets = [
        ("kind", f.kind),
        ("domain", f.domain),
        ("tag", f.tag),
        ("owner", f.owner),
        ("pii", f.pii),
        ("system", f.system),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().collect()))
    .collect();
    let next_offset =
        (offset + items.len() < r.total && !items.is_empty()).then_some(offset + items.len());
    let (st, who) = (state.clone(), principal.clone());
    let (profiles, masker) = blocking(move || {
        let scope = who.scope()?;
        Ok((
            column_profiles(&st.store, &scope, &columns)?,
            crate::policy::masker(&st, &who)?,
        ))
    })
    .await?;
    for h in &mut items {
        if let Some(p) = profiles.get(&h.entity.iri) {
            let range: std::collections::BTreeMap<String, String> = p
                .iter()
                .filter(|(k, _)| k.as_str() == "MinimumValue" || k.as_str() == "MaximumValue")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !range.is_empty() {
                h.range = Some(range);
            }
        }
    }
    let page = SearchPage {
        query: r.query,
        mode: format!("{:?}", r.mode).to_lowercase(),
        items,
        total: r.total,
        limit,
        offset,
        next_offset,
        facets,
        took_ms: r.took_ms,
    };
    let mut v = serde_json::to_value(&page).map_err(|e| ApiError::Internal(e.to_string()))?;
    masker.json(&mut v);
    Ok(Json(v))
}

// --- lineage -----------------------------------------------------------------------------

/// Lineage parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LineageParams {
    /// The start: an IRI, or a dataset (`sales.orders`) or column (`sales.orders.amount`) name.
    pub node: String,
    /// upstream (default) or downstream.
    pub direction: Option<String>,
    /// table (default) or column.
    pub level: Option<String>,
    /// The most hops (default 10, at most 50).
    pub depth: Option<usize>,
    /// Column level: follow INDIRECT edges too (default true).
    pub indirect: Option<String>,
    /// Nodes per page (default 50, at most 500).
    pub limit: Option<usize>,
    /// Nodes to skip.
    pub offset: Option<usize>,
}

/// A node reached.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineageNode {
    /// Its IRI.
    pub iri: String,
    /// Hops from the start.
    pub depth: usize,
}

/// An edge walked.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineageEdge {
    /// The node nearer the start.
    pub from: String,
    /// The node one hop further.
    pub to: String,
    /// The OpenLineage transformation type (column edges).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transformation: Option<String>,
    /// The OpenLineage transformation subtype (column edges).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
}

/// A page of a lineage walk.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineagePage {
    /// The start node's IRI.
    pub start: String,
    /// upstream or downstream.
    pub direction: String,
    /// table or column.
    pub level: String,
    /// This page of nodes, by depth then IRI.
    pub items: Vec<LineageNode>,
    /// The edges between the start and every node found.
    pub edges: Vec<LineageEdge>,
    /// Nodes found in all.
    pub total: usize,
    /// The page size.
    pub limit: usize,
    /// Nodes skipped.
    pub offset: usize,
    /// The offset of the next page, if any.
    pub next_offset: Option<usize>,
    /// Whether the depth limit cut the walk short.
    pub truncated: bool,
    /// Cycles met, each as its nodes.
    pub cycles: Vec<Vec<String>>,
}

/// Upstream sources or downstream impact, at table or column level.
#[utoipa::path(
    get,
    path = "/api/v1/lineage",
    tag = "lineage",
    params(LineageParams),
    responses(
        (status = 200, description = "A page of the walk", body = LineagePage),
        (status = 404, description = "No such node, or not visible", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn lineage(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Params(p): Params<LineageParams>,
) -> ApiResult<Json<LineagePage>> {
    let direction = match p.direction.as_deref().unwrap_or("upstream") {
        "upstream" | "up" => Direction::Upstream,
        "downstream" | "down" => Direction::Downstream,
        other => {
            return Err(ApiError::BadRequest(format!(
                "direction: {other:?} is neither upstream nor downstream"
            )));
        }
    };
    let level = match p.level.as_deref().unwrap_or("table") {
        "table" | "dataset" => Level::Table,
        "column" => Level::Column,
        other => {
            return Err(ApiError::BadRequest(format!(
                "level: {other:?} is neither table nor column"
            )));
        }
    };
    let indirect = parse_bool("indirect", p.indirect.as_deref())?.unwrap_or(true);
    let paging = Paging {
        limit: p.limit,
        offset: p.offset,
    };
    let scope = principal.scope()?;
    let store = state.store.clone();
    let depth = p.depth.unwrap_or(10).clamp(1, 50);
    let node = p.node;
    let result = blocking(move || {
        let start = traverse::resolve(&store, &node, level).map_err(|e| match e {
            govgraph_graph::Error::NotFound(m) => ApiError::NotFound(m),
            other => other.into(),
        })?;
        let described = scope
            .filter_quads(store.raw().quads_for_pattern(
                Some(start.as_ref().into()),
                None,
                None,
                None,
            ))
            .next()
            .is_some();
        if !described {
            return Err(ApiError::NotFound(format!("not found: {node}")));
        }
        let mut t = Traversal::new(start, level, direction);
        t.max_depth = depth;
        t.include_indirect = indirect;
        t.offset = paging.offset();
        t.limit = paging.limit();
        t.scope = scope;
        Ok(traverse::traverse(&store, &t)?)
    })
    .await?;
    let items: Vec<LineageNode> = result
        .nodes
        .into_iter()
        .map(|n| LineageNode {
            iri: n.iri,
            depth: n.depth,
        })
        .collect();
    let mut page = Page::new(items, result.total, paging);
    Ok(Json(LineagePage {
        start: result.start,
        direction: format!("{direction:?}").to_lowercase(),
        level: format!("{level:?}").to_lowercase(),
        items: std::mem::take(&mut page.items),
        edges: result
            .edges
            .into_iter()
            .map(|e| LineageEdge {
                from: e.from,
                to: e.to,
                transformation: e.transformation,
                subtype: e.subtype,
            })
            .collect(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
        next_offset: page.next_offset,
        truncated: result.truncated,
        cycles: result.cycles,
    }))
}

// --- tables read with SPARQL: runs, violations, scorecards, reports ----------------------

/// A row of a table resource: column name to value (IRIs and literals as text, numbers as
/// numbers).
pub type Row = serde_json::Map<String, serde_json::Value>;

fn json_value(t: &Term) -> serde_json::Value {
    match t {
        Term::Literal(l) => {
            let dt = l.datatype().as_str();
            if dt.ends_with("#integer") || dt.ends_with("#int") || dt.ends_with("#long") {
                l.value()
                    .parse::<i64>()
                    .map(Into::into)
                    .unwrap_or_else(|_| l.value().into())
            } else if dt.ends_with("#decimal") || dt.ends_with("#double") || dt.ends_with("#float")
            {
                l.value()
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(serde_json::Value::Number)
                    .unwrap_or_else(|| l.value().into())
            } else if dt.ends_with("#boolean") {
                (l.value() == "true").into()
            } else {
                l.value().into()
            }
        }
        other => term_text(other).into(),
    }
}

/// A value safe to splice into SPARQL: an IRI when it looks like one, else a string literal.
fn sparql_value(v: &str) -> String {
    match NamedNode::new(v) {
        Ok(n) if v.contains(':') => n.to_string(),
        _ => Literal::new_simple_literal(v).to_string(),
    }
}

/// One table resource: a SELECT whose `?id` is the row, with named filters.
struct Table {
    /// The WHERE body; binds `?id` and the columns.
    body: &'static str,
    /// Output columns (variables, without `?`).
    columns: &'static [&'static str],
    /// Filter parameters: (parameter, variable); matched as IRI or literal text.
    filters: &'static [(&'static str, &'static str)],
    /// ORDER BY.
    order: &'static str,
}

const RUNS: Table = Table {
    body: "?id a gg:RuleRun . OPTIONAL { ?id gg:rule ?rule } OPTIONAL { ?id gg:status ?status }
           OPTIONAL { ?id prov:startedAtTime ?started } OPTIONAL { ?id prov:endedAtTime ?ended }
           OPTIONAL { ?id gg:checkedCount ?checked } OPTIONAL { ?id gg:failedCount ?failed }
           OPTIONAL { ?rule gg:appliesTo ?asset }",
    columns: &[
        "id", "rule", "asset", "status", "started", "ended", "checked", "failed",
    ],
    filters: &[("rule", "rule"), ("status", "status"), ("asset", "asset")],
    order: "DESC(?started) ?id",
};

const JOB_RUNS: Table = Table {
    body: "?id a gg:JobRun . OPTIONAL { ?id gg:job ?job } OPTIONAL { ?id gg:runState ?state }
           OPTIONAL { ?id prov:startedAtTime ?started } OPTIONAL { ?id prov:endedAtTime ?ended }
           OPTIONAL { ?id gg:errorMessage ?error } OPTIONAL { ?id prov:wasInformedBy ?parent }",
    columns: &["id", "job", "state", "started", "ended", "error", "parent"],
    filters: &[("job", "job"), ("state", "state")],
    order: "DESC(?started) ?id",
};

const INGESTION_RUNS: Table = Table {
    body: "?id a gg:IngestionRun . OPTIONAL { ?id gg:connector ?connector }
           OPTIONAL { ?id gg:sourceLocation ?source } OPTIONAL { ?id gg:status ?status }
           OPTIONAL { ?id prov:startedAtTime ?started } OPTIONAL { ?id prov:endedAtTime ?ended }
           OPTIONAL { ?id gg:attempts ?attempts } OPTIONAL { ?id gg:errorMessage ?error }",
    columns: &[
        "id",
        "connector",
        "source",
        "status",
        "started",
        "ended",
        "attempts",
        "error",
    ],
    filters: &[("connector", "connector"), ("status", "status")],
    order: "DESC(?started) ?id",
};

const VIOLATIONS: Table = Table {
    body: "?id a gg:Violation . OPTIONAL { ?id gg:rule ?rule } OPTIONAL { ?id gg:focus ?asset }
           OPTIONAL { ?id gg:count ?count } OPTIONAL { ?id prov:wasGeneratedBy ?run }
           OPTIONAL { ?id prov:generatedAtTime ?at } OPTIONAL { ?rule gg:severity ?severity }",
    columns: &["id", "rule", "asset", "count", "severity", "run", "at"],
    filters: &[
        ("rule", "rule"),
        ("asset", "asset"),
        ("severity", "severity"),
    ],
    order: "DESC(?at) ?id",
};

const SCORECARDS: Table = Table {
    // The latest run of each rule, and the latest overall score of each dataset.
    body: "{ SELECT ?id (COUNT(DISTINCT ?r) AS ?rules) (SUM(?passed) AS ?passing) (SUM(?failedrun) AS ?failing)
             WHERE {
               { ?r a gg:QualityRule ; gg:appliesTo ?target . ?target gg:columnOf? ?id . ?id a dcat:Dataset }
               OPTIONAL { { SELECT ?r (MAX(?t) AS ?last) WHERE { ?r0 gg:rule ?r ; a gg:RuleRun ; prov:endedAtTime ?t } GROUP BY ?r }
                          ?run a gg:RuleRun ; gg:rule ?r ; gg:status ?st ; prov:endedAtTime ?last .
                          BIND(IF(?st = \"pass\", 1, 0) AS ?passed) BIND(IF(?st = \"fail\", 1, 0) AS ?failedrun) }
             } GROUP BY ?id }
           OPTIONAL { { SELECT ?id (MAX(?t) AS ?measured_at) WHERE {
                          ?m dqv:computedOn ?id ; dqv:isMeasurementOf gg:QualityScore ; prov:generatedAtTime ?t } GROUP BY ?id }
                      ?latest dqv:computedOn ?id ; dqv:isMeasurementOf gg:QualityScore ;
                              prov:generatedAtTime ?measured_at ; dqv:value ?score }",
    columns: &["id", "rules", "passing", "failing", "score", "measured_at"],
    filters: &[],
    order: "?id",
};

const PII_INVENTORY: Table = Table {
    body: "?id a csvw:Column ; gg:tag ?t ; gg:columnOf ?dataset .
           { ?t a gg:Classification } UNION { ?t skos:broader+ ?c . ?c a gg:Classification }
           OPTIONAL { ?t skos:prefLabel ?classification }
           OPTIONAL { ?dataset gg:owner ?owner }
           OPTIONAL { ?dataset gg:domain/skos:prefLabel ?domain }",
    columns: &["id", "dataset", "classification", "owner", "domain"],
    filters: &[("dataset", "dataset"), ("domain", "domain")],
    order: "?dataset ?id",
};

const OWNERSHIP_GAPS: Table = Table {
    body: "?id a dcat:Dataset . FILTER NOT EXISTS { ?id gg:owner ?o }
           OPTIONAL { ?id gg:domain/skos:prefLabel ?domain } OPTIONAL { ?id gg:system ?system }",
    columns: &["id", "domain", "system"],
    filters: &[("domain", "domain")],
    order: "?id",
};

/// The built-in reports.
const REPORTS: &[(&str, &str, &Table)] = &[
    (
        "pii-inventory",
        "Columns that hold personal data, with their classification, dataset, owner and domain.",
        &PII_INVENTORY,
    ),
    (
        "ownership-gaps",
        "Datasets that nobody owns.",
        &OWNERSHIP_GAPS,
    ),
    (
        "quality-scorecards",
        "Per dataset: rules, passing and failing runs, and the latest quality score.",
        &SCORECARDS,
    ),
];

fn table_query(table: &Table, params: &std::collections::HashMap<String, String>) -> String {
    let mut filters = String::new();
    for (param, var) in table.filters {
        if let Some(v) = params.get(*param).filter(|v| !v.is_empty()) {
            let value = sparql_value(v);
            filters.push_str(&format!(
                " FILTER(?{var} = {value} || STR(?{var}) = STR({value}))"
            ));
        }
    }
    format!("{{ {} {filters} }}", table.body)
}

fn run_table(
    state: &AppState,
    principal: &Principal,
    table: &Table,
    params: &std::collections::HashMap<String, String>,
    paging: Paging,
) -> ApiResult<Page<Row>> {
    let scope = principal.scope()?;
    let body = table_query(table, params);
    let options = QueryOptions {
        timeout: Some(state.config.query_timeout),
        ..QueryOptions::default()
    };
    let count = format!("SELECT (COUNT(DISTINCT ?id) AS ?n) WHERE {body}");
    let outcome = state.store.query_in(&count, &options, &scope)?;
    let rows = govgraph_graph::store::collect_solutions(outcome.results, &outcome.deadline)?;
    let total = rows
        .first()
        .and_then(|r| r.get("n"))
        .and_then(|t| match t {
            Term::Literal(l) => l.value().parse::<usize>().ok(),
            _ => None,
        })
        .unwrap_or(0);
    let vars = table
        .columns
        .iter()
        .map(|c| format!("?{c}"))
        .collect::<Vec<_>>()
        .join(" ");
    let select = format!(
        "SELECT DISTINCT {vars} WHERE {body} ORDER BY {} LIMIT {} OFFSET {}",
        table.order,
        paging.limit(),
        paging.offset()
    );
    let outcome = state.store.query_in(&select, &options, &scope)?;
    let solutions = govgraph_graph::store::collect_solutions(outcome.results, &outcome.deadline)?;
    let items = solutions
        .iter()
        .map(|s| {
            let mut row = Row::new();
            for c in table.columns {
                row.insert(
                    (*c).to_owned(),
                    s.get(*c).map_or(serde_json::Value::Null, json_value),
                );
            }
            row
        })
        .collect::<Vec<Row>>();
    let masker = crate::policy::masker(state, principal)?;
    let items = items
        .into_iter()
        .map(|row| {
            let mut v = serde_json::Value::Object(row);
            masker.json(&mut v);
            match v {
                serde_json::Value::Object(m) => m,
                _ => Row::new(),
            }
        })
        .collect();
    Ok(Page::new(items, total, paging))
}

/// Filters of the table resources: any of `rule`, `status`, `asset`, `severity`,
/// `dataset`, `domain`, plus paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TableParams {
    /// Only this rule (IRI).
    pub rule: Option<String>,
    /// Only this outcome (runs: pass, fail, error).
    pub status: Option<String>,
    /// Only this dataset or column (IRI).
    pub asset: Option<String>,
    /// Only this severity (violations).
    pub severity: Option<String>,
    /// Only this dataset (IRI; reports).
    pub dataset: Option<String>,
    /// Only this domain (label; reports).
    pub domain: Option<String>,
    /// Items per page (default 50, at most 500).
    pub limit: Option<usize>,
    /// Items to skip.
    pub offset: Option<usize>,
}

impl TableParams {
    fn split(self) -> (std::collections::HashMap<String, String>, Paging) {
        let mut m = std::collections::HashMap::new();
        for (k, v) in [
            ("rule", self.rule),
            ("status", self.status),
            ("asset", self.asset),
            ("severity", self.severity),
            ("dataset", self.dataset),
            ("domain", self.domain),
        ] {
            if let Some(v) = v {
                m.insert(k.to_owned(), v);
            }
        }
        (
            m,
            Paging {
                limit: self.limit,
                offset: self.offset,
            },
        )
    }
}

async fn table_handler(
    state: Arc<AppState>,
    principal: Arc<Principal>,
    table: &'static Table,
    p: TableParams,
) -> ApiResult<Json<Page<Row>>> {
    let (params, paging) = p.split();
    blocking(move || run_table(&state, &principal, table, &params, paging))
        .await
        .map(Json)
}

/// Quality rule runs, newest first.
#[utoipa::path(get, path = "/api/v1/runs", tag = "quality", params(TableParams),
    responses((status = 200, description = "One page of runs", body = Page<Object>)),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn runs(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Params(p): Params<TableParams>,
) -> ApiResult<Json<Page<Row>>> {
    table_handler(state, principal, &RUNS, p).await
}

/// Job runs reported by OpenLineage, newest first, with their latest state.
#[utoipa::path(get, path = "/api/v1/job-runs", tag = "lineage", params(TableParams),
    responses((status = 200, description = "One page of job runs", body = Page<Object>)),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn job_runs(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Params(p): Params<TableParams>,
) -> ApiResult<Json<Page<Row>>> {
    table_handler(state, principal, &JOB_RUNS, p).await
}

/// Connector runs (dbt, PostgreSQL, files), newest first: source, status, timing, attempts
/// and error.
#[utoipa::path(get, path = "/api/v1/ingestion-runs", tag = "ingestion", params(TableParams),
    responses((status = 200, description = "One page of connector runs", body = Page<Object>)),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn ingestion_runs(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Params(p): Params<TableParams>,
) -> ApiResult<Json<Page<Row>>> {
    table_handler(state, principal, &INGESTION_RUNS, p).await
}

/// Quality violations, newest first.
#[utoipa::path(get, path = "/api/v1/violations", tag = "quality", params(TableParams),
    responses((status = 200, description = "One page of violations", body = Page<Object>)),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn violations(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Params(p): Params<TableParams>,
) -> ApiResult<Json<Page<Row>>> {
    table_handler(state, principal, &VIOLATIONS, p).await
}

/// Quality scorecards per dataset.
#[utoipa::path(get, path = "/api/v1/scorecards", tag = "quality", params(TableParams),
    responses((status = 200, description = "One page of scorecards", body = Page<Object>)),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn scorecards(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Params(p): Params<TableParams>,
) -> ApiResult<Json<Page<Row>>> {
    table_handler(state, principal, &SCORECARDS, p).await
}

/// A report the server can run.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportInfo {
    /// Its id, for `/api/v1/reports/{id}`.
    pub id: String,
    /// What it lists.
    pub description: String,
    /// Its columns.
    pub columns: Vec<String>,
}

/// The built-in reports.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", params(Paging),
    responses((status = 200, description = "The reports", body = Page<ReportInfo>)),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn reports(Params(paging): Params<Paging>) -> Json<Page<ReportInfo>> {
    let all: Vec<ReportInfo> = REPORTS
        .iter()
        .map(|(id, description, table)| ReportInfo {
            id: (*id).to_owned(),
            description: (*description).to_owned(),
            columns: table.columns.iter().map(|c| (*c).to_owned()).collect(),
        })
        .collect();
    let total = all.len();
    let items = all
        .into_iter()
        .skip(paging.offset())
        .take(paging.limit())
        .collect();
    Json(Page::new(items, total, paging))
}

/// Runs one report.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports",
    params(("id" = String, Path, description = "pii-inventory, ownership-gaps or quality-scorecards"), TableParams),
    responses(
        (status = 200, description = "One page of the report", body = Page<Object>),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn report(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Path(id): Path<String>,
    Params(p): Params<TableParams>,
) -> ApiResult<Json<Page<Row>>> {
    let table = REPORTS
        .iter()
        .find(|(r, _, _)| *r == id)
        .map(|(_, _, t)| *t)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no report {id:?}; try pii-inventory, ownership-gaps or quality-scorecards"
            ))
        })?;
    table_handler(state, principal, table, p).await
}

// --- ingestion runs, audit, me -----------------------------------------------------------

/// One ingestion run: a source loaded into its own named graph.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestionRun {
    /// The graph it wrote.
    pub graph: String,
    /// Where the data came from.
    pub location: Option<String>,
    /// Its format.
    pub format: Option<String>,
    /// Triples read.
    pub triples: Option<u64>,
    /// When it was loaded.
    pub loaded_at: Option<String>,
    /// The digest of what was loaded.
    pub content_hash: Option<String>,
}

/// Ingestion runs: the loaded sources the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/ingestions", tag = "ingestion", params(Paging),
    responses((status = 200, description = "One page of ingestion runs", body = Page<IngestionRun>)),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn ingestions(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Params(paging): Params<Paging>,
) -> ApiResult<Json<Page<IngestionRun>>> {
    let scope = principal.scope()?;
    let store = state.store.clone();
    let mut all: Vec<IngestionRun> = blocking(move || {
        Ok(store
            .sources()?
            .into_iter()
            .filter(|s| scope.can_read(&s.graph))
            .map(|s| IngestionRun {
                graph: s.graph,
                location: s.location,
                format: s.format,
                triples: s.triples,
                loaded_at: s.loaded_at,
                content_hash: s.content_hash,
            })
            .collect())
    })
    .await?;
    all.sort_by(|a, b| b.loaded_at.cmp(&a.loaded_at).then(a.graph.cmp(&b.graph)));
    let total = all.len();
    let items = all
        .into_iter()
        .skip(paging.offset())
        .take(paging.limit())
        .collect();
    Ok(Json(Page::new(items, total, paging)))
}

/// Audit query parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only this principal.
    pub principal: Option<String>,
    /// Only this action (sparql.query, sparql.update, rest.read, search, audit.read...).
    pub action: Option<String>,
    /// Only allow or deny.
    pub decision: Option<String>,
    /// From this time on (xsd:dateTime, UTC).
    pub since: Option<String>,
    /// Before this time.
    pub until: Option<String>,
    /// Items per page (default 50, at most 500).
    pub limit: Option<usize>,
    /// Items to skip.
    pub offset: Option<usize>,
}

/// The audit log, newest first (administrators only).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses(
        (status = 200, description = "One page of audit records", body = Page<AuditRecord>),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn audit(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    Params(p): Params<AuditParams>,
) -> ApiResult<Json<Page<AuditRecord>>> {
    principal.require(Role::Admin, "reading the audit log")?;
    let paging = Paging {
        limit: p.limit,
        offset: p.offset,
    };
    let filter = AuditFilter {
        principal: p.principal,
        action: p.action,
        decision: p.decision,
        since: p.since,
        until: p.until,
    };
    let log = state
        .audit
        .clone()
        .ok_or_else(|| ApiError::NotFound("this server keeps no audit log".into()))?;
    let (items, total) =
        blocking(move || log.query(&filter, paging.offset(), paging.limit())).await?;
    Ok(Json(Page::new(items, total, paging)))
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The principal's name.
    pub name: String,
    /// Its roles.
    pub roles: Vec<String>,
    /// Its domains.
    pub domains: Vec<String>,
    /// Its tenant, if confined to one.
    pub tenant: Option<String>,
    /// Whether it may write (SPARQL Update).
    pub can_write: bool,
}

/// The calling principal.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, description = "The caller", body = Me)),
    security(("api_key" = []), ("bearer" = [])))]
pub async fn me(Extension(principal): Extension<Arc<Principal>>) -> Json<Me> {
    Json(Me {
        name: principal.name.clone(),
        roles: principal
            .roles
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        domains: principal.domains.clone(),
        tenant: principal.tenant.clone(),
        can_write: principal.has(Role::Steward),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_cannot_break_out_of_the_query() {
        let mut p = std::collections::HashMap::new();
        p.insert(
            "rule".to_owned(),
            "x\" ) } GRAPH ?g { ?s ?p ?o } #".to_owned(),
        );
        let q = table_query(&RUNS, &p);
        assert!(q.contains(r#""x\" ) } GRAPH ?g { ?s ?p ?o } #""#), "{q}");
        let mut p = std::collections::HashMap::new();
        p.insert(
            "rule".to_owned(),
            "https://id.govgraph.dev/rule/a".to_owned(),
        );
        assert!(table_query(&RUNS, &p).contains("<https://id.govgraph.dev/rule/a>"));
    }

    #[test]
    fn pages_know_their_next_offset() {
        let p = Page::new(
            vec![1, 2],
            5,
            Paging {
                limit: Some(2),
                offset: Some(0),
            },
        );
        assert_eq!(p.next_offset, Some(2));
        let p = Page::new(
            vec![5],
            5,
            Paging {
                limit: Some(2),
                offset: Some(4),
            },
        );
        assert_eq!(p.next_offset, None);
    }
}
