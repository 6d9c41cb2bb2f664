//! The OpenAPI 3.1 description, generated from the handlers' annotations, and an
//! interactive page that reads it. The page is self-contained: it loads nothing from the
//! network, so it works on an air-gapped server.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{ask, ingest, policy, product, rest, sparql};

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "govgraph",
        description = "A data-governance knowledge graph: the catalog, its glossary, owners, \
                       classifications, quality and lineage, over SPARQL 1.1 and REST. Every \
                       request runs in the caller's scope; a tenant sees only its own graphs.",
        license(name = "Apache-2.0")
    ),
    paths(
        sparql::get, sparql::post,
        rest::me,
        rest::list_datasets, rest::get_dataset,
        rest::list_columns, rest::get_column,
        rest::list_terms, rest::get_term,
        rest::list_domains, rest::get_domain,
        rest::list_owners, rest::get_owner,
        rest::list_tags, rest::get_tag,
        rest::list_rules, rest::get_rule,
        rest::list_policies, rest::get_policy,
        rest::list_products, rest::get_product,
        rest::search, ask::post_ask, rest::lineage, ingest::post_lineage,
        rest::runs, rest::job_runs, rest::violations, rest::scorecards,
        rest::reports, rest::report,
        rest::ingestions, rest::ingestion_runs, rest::audit,
        policy::decide, policy::detokenize, policy::propose, policy::approve, policy::reject, policy::history,
        policy::conflicts, policy::retention, policy::gdpr_art30, policy::ccpa,
        product::build,
    ),
    modifiers(&Security),
    tags(
        (name = "sparql", description = "The SPARQL 1.1 Protocol"),
        (name = "catalog", description = "Datasets, columns and data products"),
        (name = "glossary", description = "Business terms"),
        (name = "governance", description = "Domains, owners and tags"),
        (name = "search", description = "Hybrid search"),
        (name = "ask", description = "Questions in plain words"),
        (name = "products", description = "Data products built from requests in words"),
        (name = "lineage", description = "Table and column lineage"),
        (name = "quality", description = "Rules, runs, violations and scorecards"),
        (name = "policy", description = "Policies: decisions, the lifecycle, conflicts and retention"),
        (name = "reports", description = "Built-in reports"),
        (name = "ingestion", description = "Loaded sources"),
        (name = "audit", description = "The audit log"),
        (name = "auth", description = "The caller"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The description as JSON.
pub fn document() -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.to_pretty_json().unwrap_or_else(|_| "{}".to_owned())
}

/// `GET /openapi.json`.
pub async fn spec() -> Response {
    let mut r = document().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// `GET /docs`: every operation, with a form to try it.
pub async fn docs() -> Html<&'static str> {
    Html(DOCS_PAGE)
}

const DOCS_PAGE: &str = r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>govgraph API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{background:#0b3d5c;color:#fff;padding:12px 20px;display:flex;gap:16px;align-items:center}
header h1{font-size:18px;margin:0}header input{flex:1;max-width:420px;padding:6px;border-radius:4px;border:0}
main{padding:12px 20px;max-width:1100px}details{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:6px 0}
summary{cursor:pointer;padding:8px 12px;font-family:ui-monospace,monospace}
.m{display:inline-block;width:52px;font-weight:700}.get{color:#1a7f37}.post{color:#9a6700}
.op{padding:0 12px 12px}label{display:block;margin:4px 0}label span{display:inline-block;min-width:170px;font-family:ui-monospace,monospace}
input.p,textarea{width:60%;padding:4px;font-family:ui-monospace,monospace}textarea{height:90px}
pre{background:#0d1117;color:#e6edf3;padding:10px;overflow:auto;max-height:420px;border-radius:4px}
button{padding:5px 14px;border-radius:4px;border:1px solid #0b3d5c;background:#0b3d5c;color:#fff;cursor:pointer}
.d{color:#57606a}h2{font-size:15px;margin:18px 0 4px;text-transform:uppercase;color:#57606a}
</style></head><body>
<header><h1>govgraph API</h1><input id="key" placeholder="API key (sent as X-API-Key)" autocomplete="off"></header>
<main id="ops"><p>Loading <a href="/openapi.json">/openapi.json</a>…</p></main>
<script>
const el=(t,a={},...c)=>{const e=document.createElement(t);for(const[k,v]of Object.entries(a))e[k]=v;for(const x of c)e.append(x);return e};
fetch('/openapi.json').then(r=>r.json()).then(spec=>{
  const main=document.getElementById('ops');main.textContent='';
  main.append(el('p',{className:'d',textContent:spec.info.description||''}));
  const byTag={};
  for(const[path,item]of Object.entries(spec.paths))for(const[method,op]of Object.entries(item)){
    const tag=(op.tags||['other'])[0];(byTag[tag]=byTag[tag]||[]).push([path,method,op]);}
  for(const[tag,ops]of Object.entries(byTag)){
    main.append(el('h2',{textContent:tag}));
    for(const[path,method,op]of ops){
      const form=el('div',{className:'op'});
      form.append(el('p',{className:'d',textContent:op.description||op.summary||''}));
      const inputs=[];
      for(const p of op.parameters||[]){
        const i=el('input',{className:'p',placeholder:(p.description||'').slice(0,90)});
        inputs.push([p,i]);form.append(el('label',{},el('span',{textContent:p.name+(p.required?' *':'')}),i));}
      let body=null;
      if(op.requestBody){body=el('textarea',{placeholder:'SELECT * WHERE { ?s ?p ?o } LIMIT 10'});
        const ct=el('select');for(const t of['application/sparql-query','application/sparql-update'])ct.append(el('option',{value:t,textContent:t}));
        form.append(el('label',{},el('span',{textContent:'body'}),body),el('label',{},el('span',{textContent:'content type'}),ct));body.ct=ct;}
      const out=el('pre',{textContent:''});
      const go=el('button',{textContent:'Send',onclick:async()=>{
        let url=path;const qs=new URLSearchParams();
        for(const[p,i]of inputs){if(!i.value)continue;
          if(p.in==='path')url=url.replace('{'+p.name+'}',encodeURIComponent(i.value));else qs.append(p.name,i.value);}
        if([...qs].length)url+='?'+qs;
        const headers={Accept:'application/json, application/sparql-results+json;q=0.9, text/turtle;q=0.8, */*;q=0.1'};
        const key=document.getElementById('key').value;if(key)headers['X-API-Key']=key;
        const init={method:method.toUpperCase(),headers};
        if(body){init.body=body.value;headers['Content-Type']=body.ct.value;}
        out.textContent='…';
        try{const r=await fetch(url,init);const t=await r.text();let shown=t;
          try{shown=JSON.stringify(JSON.parse(t),null,2)}catch(_){}
          out.textContent=r.status+' '+r.statusText+'\n\n'+shown;}catch(e){out.textContent=String(e)}}});
      form.append(go,out);
      main.append(el('details',{},el('summary',{},el('span',{className:'m '+method,textContent:method.toUpperCase()}),path+'  ',el('span',{className:'d',textContent:op.summary||''})),form));
    }}
}).catch(e=>{document.getElementById('ops').textContent='Could not read /openapi.json: '+e});
</script></body></html>"##;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_description_is_openapi_3_1_and_lists_every_route() {
        let doc: serde_json::Value = serde_json::from_str(&document()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/sparql",
            "/api/v1/datasets",
            "/api/v1/datasets/{id}",
            "/api/v1/search",
            "/api/v1/lineage",
            "/api/v1/runs",
            "/api/v1/violations",
            "/api/v1/scorecards",
            "/api/v1/reports/{id}",
            "/api/v1/ingestions",
            "/api/v1/audit",
        ] {
            assert!(paths.contains_key(p), "{p} is missing");
        }
        assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    }
}
