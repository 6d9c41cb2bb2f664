//! The data-product builder over the demo catalog, without executing SQL (the execution
//! tests need the `datafusion` feature: `product_eval`). Expected SQL sits in
//! `tests/products/expected`; `GOVGRAPH_BLESS=1` rewrites it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use govgraph_agents::error::Error;
use govgraph_agents::product::plan::SqlDialect;
use govgraph_agents::product::{BuilderConfig, Product, ProductBuilder, ProductRequest};
use govgraph_graph::{GraphStore, Scope, StoreConfig};
use govgraph_policy::{Engine, MaskKey, Subject};

const FLAGSHIP: &str = "daily revenue by region and category for completed orders";

fn store() -> Arc<GraphStore> {
    let store = Arc::new(GraphStore::in_memory(StoreConfig::default()).unwrap());
    common::load_demo(&store, None);
    store
}

fn builder(store: &Arc<GraphStore>) -> ProductBuilder {
    ProductBuilder::new(BuilderConfig {
        data_root: Some(govgraph_seeds::seeds_dir()),
        ..BuilderConfig::default()
    })
    .with_runner(None)
    .with_policy(Arc::new(Engine::new(
        Arc::clone(store),
        MaskKey::from_bytes([7; 32]),
    )))
}

fn who(role: &str) -> Subject {
    Subject {
        name: format!("a {role}"),
        roles: vec![role.to_owned()],
        domains: Vec::new(),
    }
}

fn request(text: &str) -> ProductRequest {
    ProductRequest {
        request: text.to_owned(),
        ..ProductRequest::default()
    }
}

fn build(store: &Arc<GraphStore>, role: &str, r: &ProductRequest) -> Product {
    builder(store)
        .build(store, &Scope::all(), &who(role), r)
        .unwrap_or_else(|e| panic!("{:?}: {e}", r.request))
}

fn bless_or_compare(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/products/expected")
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

#[test]
fn an_ambiguous_measure_asks_instead_of_guessing() {
    let store = store();
    let p = build(&store, "steward", &request(FLAGSHIP));
    assert_eq!(p.status, "needs_clarification");
    let c = &p.spec.clarifications[0];
    assert_eq!(c.phrase, "revenue");
    let ids: Vec<&str> = c.choices.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["gross-revenue", "net-revenue"]);
    assert!(c.choices.iter().all(|c| c.definition.is_some()));
    // The draft states its assumption; it is never registered.
    assert!(ids.contains(&c.assumed.as_str()));
    let mut r = request(FLAGSHIP);
    r.register = true;
    let refused = builder(&store)
        .build(&store, &Scope::all(), &who("steward"), &r)
        .unwrap_err();
    assert!(
        refused.to_string().contains("needs_clarification"),
        "{refused}"
    );
    assert!(refused.to_string().contains("\"revenue\""), "{refused}");
}

#[test]
fn the_flagship_request_reads_as_intended() {
    let store = store();
    let mut r = request(FLAGSHIP);
    r.choices.insert("revenue".into(), "net-revenue".into());
    let p = build(&store, "steward", &r);
    assert_eq!(p.status, "ready", "{:?}", p.spec.problems);
    let spec = &p.spec;
    assert_eq!(spec.intent.metrics[0].label, "Net Revenue");
    assert!(spec.intent.metrics[0].confidence >= 0.9);
    let dims: Vec<&str> = spec
        .intent
        .dimensions
        .iter()
        .map(|d| d.phrase.as_str())
        .collect();
    assert_eq!(dims, ["region", "category"]);
    assert_eq!(spec.model.primary_key, ["order_day", "region", "category"]);
    assert_eq!(spec.intent.grain, spec.model.primary_key);
    let names: Vec<&str> = spec.model.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["order_day", "region", "category", "net_revenue"]);
    assert_eq!(spec.model.columns[3].sql_type, "decimal(18,2)");
    assert_eq!(
        spec.model.partitioning,
        Some(("order_day".into(), "month".into()))
    );
    // Discovery: bronze.orders is chosen; the gold model that covers the same ground has
    // no data to execute on and says so.
    assert_eq!(spec.discovery.candidates[0].dataset, "shop/bronze.orders");
    assert!(spec.discovery.candidates[0].selected);
    assert!(
        spec.discovery.excluded.iter().any(|e| e
            .dataset
            .ends_with("gold.daily_sales_by_region_category")
            && e.reason == "no_data"),
        "{:?}",
        spec.discovery.excluded
    );
    let v = &spec.transformation.validation;
    assert!(v.parsed && v.schema_checked, "{:?}", v.problems);
    assert!(!v.executed);
    assert!(v.not_executed.as_deref().unwrap().contains("datafusion"));
    assert_eq!(spec.transformation.dialect, "duckdb");
    // Lineage: net revenue comes from the order amounts, the category through the join.
    let net = spec
        .lineage
        .iter()
        .find(|l| l.column == "net_revenue")
        .unwrap();
    for col in ["quantity", "unit_price", "discount_amount"] {
        assert!(
            net.sources
                .iter()
                .any(|s| s.column == col && s.transformation == "DIRECT"),
            "{col}"
        );
    }
    assert!(net.sources.iter().any(|s| s.column == "currency"));
    let category = spec
        .lineage
        .iter()
        .find(|l| l.column == "category")
        .unwrap();
    assert!(
        category
            .sources
            .iter()
            .any(|s| s.dataset == "shop/bronze.products" && s.column == "category")
    );
    assert_eq!(spec.ports.input.len(), 2);
    // Quality: the key, required columns, freshness, the glossary's bound, in three formats.
    let kinds: Vec<&str> = spec
        .quality
        .rules
        .iter()
        .map(|r| r.check.rule_type())
        .collect();
    for k in ["not_null", "unique", "row_count", "freshness", "range"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    assert!(
        spec.quality
            .dbt
            .contains("dbt_utils.unique_combination_of_columns")
    );
    assert!(spec.quality.odcs.contains("quality"));
    assert!(
        spec.quality.great_expectations["expectations"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    // The YAML is the same spec.
    assert!(p.spec_yaml.contains("api_version: govgraph.dev/v1"));
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["transformation"]["dialect"], "duckdb");
    assert!(
        json["transformation"]["sql"]
            .as_str()
            .unwrap()
            .starts_with("SELECT")
    );
    govgraph_agents::product::spec::validate_value(&serde_json::to_value(spec).unwrap()).unwrap();
    bless_or_compare(
        "flagship.duckdb.sql",
        &format!("{}\n", spec.transformation.sql),
    );
}

#[test]
fn every_dialect_parses_and_checks() {
    let store = store();
    for d in SqlDialect::ALL {
        let mut r = request(FLAGSHIP);
        r.choices.insert("revenue".into(), "net-revenue".into());
        r.dialect = Some(d.name().into());
        let p = build(&store, "steward", &r);
        let v = &p.spec.transformation.validation;
        assert!(
            v.parsed && v.schema_checked,
            "{}: {:?}",
            d.name(),
            v.problems
        );
        bless_or_compare(
            &format!("flagship.{}.sql", d.name()),
            &format!("{}\n", p.spec.transformation.sql),
        );
    }
    let e = builder(&store)
        .build(
            &store,
            &Scope::all(),
            &who("steward"),
            &ProductRequest {
                dialect: Some("cobol".into()),
                ..request(FLAGSHIP)
            },
        )
        .unwrap_err();
    assert!(e.to_string().contains("unknown dialect \"cobol\""), "{e}");
}

#[test]
fn the_evaluation_requests_compile_to_the_expected_sql() {
    #[derive(serde::Deserialize)]
    struct Case {
        request: String,
    }
    #[derive(serde::Deserialize)]
    struct Cases {
        cases: Vec<Case>,
    }
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/products/eval.yaml"
    ))
    .unwrap();
    let cases: Cases = yaml_serde::from_str(&text).unwrap();
    let store = store();
    let mut all = String::new();
    for c in &cases.cases {
        let p = build(&store, "steward", &request(&c.request));
        let v = &p.spec.transformation.validation;
        assert!(
            v.parsed && v.schema_checked,
            "{}: {:?}",
            c.request,
            v.problems
        );
        all.push_str(&format!(
            "-- {}\n-- status: {}\n{};\n\n",
            c.request, p.status, p.spec.transformation.sql
        ));
    }
    bless_or_compare("eval.duckdb.sql", &all);
}

#[test]
fn discovery_and_columns_follow_the_requesters_access() {
    let store = store();
    let r = request("number of orders by customer email");
    // A steward may read emails: the column is a dimension.
    let steward = build(&store, "steward", &r);
    assert!(steward.spec.model.columns.iter().any(|c| c.name == "email"));
    assert!(steward.spec.security.withheld.is_empty());
    // An analyst sees emails only masked: the product leaves the column out, and says why.
    let analyst = build(&store, "analyst", &r);
    assert!(!analyst.spec.model.columns.iter().any(|c| c.name == "email"));
    assert!(!analyst.spec.transformation.sql.contains("email"));
    let w = &analyst.spec.security.withheld[0];
    assert_eq!(w.column, "shop/bronze.customers.email");
    assert!(
        w.policy
            .as_deref()
            .is_some_and(|p| p.ends_with("pii-masking-for-analysts")),
        "{w:?}"
    );
    assert!(analyst.spec.security.enforced);
}

#[test]
fn registration_stores_the_product_and_its_lineage() {
    let store = store();
    let mut r = request("monthly net revenue by region");
    r.register = true;
    r.purpose = Some("dpv:ServiceProvision".into());
    let p = build(&store, "steward", &r);
    let iri = p.registered.clone().unwrap();
    assert!(
        iri.ends_with("/product/monthly-net-revenue-by-region"),
        "{iri}"
    );
    let ask = |q: &str| -> bool {
        matches!(
            store.query(q, &Default::default()).unwrap().results,
            govgraph_graph::oxigraph::sparql::QueryResults::Boolean(true)
        )
    };
    assert!(ask(&format!(
        "ASK {{ <{iri}> a gg:DataProduct ; dprod:inputDataset <https://id.govgraph.dev/dataset/shop/bronze.orders> ;
                 dprod:outputDataset ?out ; gg:productSpec ?spec ; gg:productRequest \"monthly net revenue by region\" .
                 ?out gg:layer \"gold\" . ?c gg:columnOf ?out ; csvw:name \"net_revenue\" }}"
    )));
    // Column lineage from the bronze amounts to the product's measure.
    assert!(ask(
        "ASK { <https://id.govgraph.dev/dataset/products/product.monthly_net_revenue_by_region/column/net_revenue>
                 prov:qualifiedDerivation ?d ; prov:wasDerivedFrom <https://id.govgraph.dev/dataset/shop/bronze.orders/column/unit_price> .
               ?d a gg:ColumnDerivation ; prov:entity <https://id.govgraph.dev/dataset/shop/bronze.orders/column/unit_price> }"
    ));
    // The whole store still conforms to the shapes; a rebuild replaces the product whole.
    let report = store.validate().unwrap();
    assert!(
        !report
            .results
            .iter()
            .any(|r| r.severity == govgraph_graph::Severity::Violation),
        "{:?}",
        report.results
    );
    let again = build(&store, "steward", &r);
    assert_eq!(again.registered, Some(iri));
    // Analysts cannot register through the API (role check there); the library leaves
    // that to its caller, but never registers a product that needs clarification.
}

#[test]
fn requests_that_name_nothing_get_a_clear_error() {
    let store = store();
    for (text, needle) in [
        ("", "request:"),
        ("   ", "request:"),
        ("the quick brown fox jumps", "no measure or attribute"),
    ] {
        let e = builder(&store)
            .build(&store, &Scope::all(), &who("steward"), &request(text))
            .unwrap_err();
        assert!(matches!(e, Error::Invalid(_)), "{e:?}");
        assert!(e.to_string().contains(needle), "{text:?}: {e}");
    }
    let mut r = request(FLAGSHIP);
    r.choices = BTreeMap::from([("revenue".to_owned(), "no-such-term".to_owned())]);
    let e = builder(&store)
        .build(&store, &Scope::all(), &who("steward"), &r)
        .unwrap_err();
    assert!(e.to_string().contains("choices.revenue"), "{e}");
}

/// A writer that answers every prompt with `reply`, and keeps the prompts.
#[derive(Debug)]
struct Scripted {
    reply: String,
    prompts: std::sync::Mutex<Vec<String>>,
}

impl govgraph_agents::product::SqlWriter for Scripted {
    fn write(&self, system: &str, prompt: &str) -> govgraph_agents::error::Result<String> {
        assert!(system.contains("one SQL SELECT"));
        self.prompts.lock().unwrap().push(prompt.to_owned());
        Ok(self.reply.clone())
    }
    fn name(&self) -> String {
        "llm:scripted".into()
    }
}

fn with_writer(store: &Arc<GraphStore>, reply: &str) -> (ProductBuilder, Arc<Scripted>) {
    let w = Arc::new(Scripted {
        reply: reply.to_owned(),
        prompts: std::sync::Mutex::new(Vec::new()),
    });
    (builder(store).with_writer(w.clone()), w)
}

const RUNNING: &str = "daily net revenue by region with a running total";

#[test]
fn logic_beyond_the_templates_goes_to_the_model_and_is_checked() {
    let store = store();
    let good = r#"{"sql": "SELECT CAST(DATE_TRUNC('day', order_date) AS DATE) AS order_day, region, SUM(quantity * unit_price - COALESCE(discount_amount, 0)) AS net_revenue, SUM(SUM(quantity * unit_price - COALESCE(discount_amount, 0))) OVER (PARTITION BY region ORDER BY CAST(DATE_TRUNC('day', order_date) AS DATE)) AS running_net_revenue FROM bronze.orders WHERE LOWER(TRIM(status)) IN ('completed', 'complete', 'shipped') GROUP BY 1, 2", "explanation": "a window over the daily sums"}"#;
    let (b, w) = with_writer(&store, good);
    let p = b
        .build(&store, &Scope::all(), &who("analyst"), &request(RUNNING))
        .unwrap();
    let t = &p.spec.transformation;
    assert_eq!(t.method, "llm", "{:?}", p.spec.problems);
    assert_eq!(t.writer.as_deref(), Some("llm:scripted"));
    assert!(t.validation.parsed && t.validation.schema_checked);
    let names: Vec<&str> = p
        .spec
        .model
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["order_day", "region", "net_revenue", "running_net_revenue"]
    );
    assert_eq!(p.spec.model.primary_key, ["order_day", "region"]);
    assert!(
        p.spec.problems.iter().any(|x| x.contains("running")),
        "{:?}",
        p.spec.problems
    );
    // The prompt carries the glossary's definition and the schema, never a withheld column.
    let prompt = w.prompts.lock().unwrap()[0].clone();
    assert!(
        prompt.contains("Net Revenue:") && prompt.contains("bronze.orders"),
        "{prompt}"
    );
    assert!(prompt.contains("    region varchar"), "{prompt}");
    assert!(
        !prompt.contains("    email "),
        "an analyst's withheld column reached the model:\n{prompt}"
    );
    // What the model may not do is rejected, and the template's SQL stands.
    for (reply, why) in [
        ("DELETE FROM bronze.orders", "only a SELECT"),
        (
            "SELECT email, COUNT(*) AS n FROM bronze.customers GROUP BY email",
            "do not offer",
        ),
        ("SELECT 1 AS a; SELECT 2 AS b", "one SELECT"),
        ("SELEC nonsense", "does not parse"),
        (r#"{"explanation": "no sql"}"#, "no \"sql\""),
    ] {
        let (b, _) = with_writer(&store, reply);
        let p = b
            .build(&store, &Scope::all(), &who("analyst"), &request(RUNNING))
            .unwrap();
        assert_eq!(p.spec.transformation.method, "template", "{reply}");
        assert!(
            p.spec
                .problems
                .iter()
                .any(|x| x.contains("rejected") && x.contains(why)),
            "{reply}: {:?}",
            p.spec.problems
        );
    }
    // Requests the templates serve never reach the model.
    let (b, w) = with_writer(&store, good);
    let p = b
        .build(
            &store,
            &Scope::all(),
            &who("analyst"),
            &request("monthly net revenue by region"),
        )
        .unwrap();
    assert_eq!(p.spec.transformation.method, "template");
    assert!(w.prompts.lock().unwrap().is_empty());
}

/// Sales analysts see only EMEA orders: a domain policy with a row filter.
const EMEA_ONLY: &str = r#"
@prefix odrl: <http://www.w3.org/ns/odrl/2/> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix gg: <https://govgraph.dev/ns#> .
<https://id.govgraph.dev/policy/emea-orders-only> a odrl:Set ;
    odrl:uid <https://id.govgraph.dev/policy/emea-orders-only> ;
    dct:title "Sales analysts read EMEA orders only" ;
    gg:policyScope gg:DomainLocal ;
    gg:domain <https://id.govgraph.dev/domain/sales> ;
    gg:version 1 ;
    gg:policyStatus "approved" ;
    odrl:permission [
        odrl:target <https://id.govgraph.dev/dataset/shop/bronze.orders> ;
        odrl:assignee gg:AnalystRole ;
        odrl:action odrl:read ;
        gg:rowFilter "region = 'EMEA'"
    ] .
"#;

#[test]
fn the_policies_row_filters_become_conditions_of_the_sql() {
    let store = Arc::new(GraphStore::in_memory(StoreConfig::default()).unwrap());
    common::load_demo(&store, Some(EMEA_ONLY));
    let r = request("monthly net revenue by region");
    let analyst = build(&store, "analyst", &r);
    assert_eq!(
        analyst.spec.security.row_filters,
        [(
            "shop/bronze.orders".to_owned(),
            "region = 'EMEA'".to_owned(),
            "https://id.govgraph.dev/policy/emea-orders-only".to_owned()
        )]
    );
    assert!(
        analyst
            .spec
            .transformation
            .sql
            .contains("AND (o.region = 'EMEA')"),
        "{}",
        analyst.spec.transformation.sql
    );
    // Stewards read everything: no filter.
    let steward = build(&store, "steward", &r);
    assert!(steward.spec.security.row_filters.is_empty());
    assert!(!steward.spec.transformation.sql.contains("'EMEA'"));
}

/// A glossary standard on Region and a domain standard on Sales.
const STANDARDS: &str = r#"
@prefix gg: <https://govgraph.dev/ns#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix dqv: <http://www.w3.org/ns/dqv#> .
<https://id.govgraph.dev/rule/region-known> a gg:QualityRule ;
    dct:title "Regions are the four sales regions" ;
    gg:ruleType "accepted_values" ;
    gg:appliesTo <https://id.govgraph.dev/term/region> ;
    gg:parameters "{\"values\":[\"EMEA\",\"NA\",\"APAC\",\"LATAM\"]}" ;
    dqv:inDimension gg:Validity ;
    gg:severity "error" .
<https://id.govgraph.dev/rule/sales-daily-fresh> a gg:QualityRule ;
    dct:title "Sales data is at most a day old" ;
    gg:ruleType "freshness" ;
    gg:appliesTo <https://id.govgraph.dev/domain/sales> ;
    gg:parameters "{\"column\":\"order_date\",\"max_age_hours\":24}" ;
    dqv:inDimension gg:Timeliness ;
    gg:severity "warn" .
"#;

#[test]
fn glossary_and_domain_standards_become_the_products_rules() {
    let store = Arc::new(GraphStore::in_memory(StoreConfig::default()).unwrap());
    common::load_demo(&store, Some(STANDARDS));
    let p = build(&store, "steward", &request("daily net revenue by region"));
    let rules = &p.spec.quality.rules;
    let region = rules
        .iter()
        .find(|r| r.origin == "glossary")
        .expect("the glossary standard");
    assert_eq!(region.columns, ["region"]);
    assert!(
        matches!(&region.check, govgraph_quality::rules::Check::AcceptedValues { values } if values.len() == 4)
    );
    let fresh: Vec<_> = rules
        .iter()
        .filter(|r| r.check.rule_type() == "freshness")
        .collect();
    assert_eq!(
        fresh.len(),
        1,
        "the domain's freshness replaces the default one"
    );
    assert_eq!(fresh[0].origin, "domain");
    assert_eq!(fresh[0].columns, ["order_day"]);
    assert_eq!(fresh[0].severity, "warn");
    assert!(
        p.spec.quality.dbt.contains("accepted_values"),
        "{}",
        p.spec.quality.dbt
    );
}

mod hostile_requests {
    use super::*;
    use proptest::prelude::*;

    /// Words the builder knows, to make the random requests hit its paths.
    const WORDS: &[&str] = &[
        "daily",
        "monthly",
        "net",
        "gross",
        "revenue",
        "by",
        "per",
        "region",
        "category",
        "for",
        "completed",
        "orders",
        "top",
        "10",
        "in",
        "2024",
        "march",
        "EMEA",
        "number",
        "of",
        "customers",
        "email",
        "'",
        "\"",
        ";",
        "DROP",
        "TABLE",
        "--",
        "(",
        ")",
        "é",
        "running",
        "total",
        "and",
        "or",
        "by",
        "q3",
        "since",
        "électronique",
        "*",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the words, the builder answers or refuses with a clear error; it never
        /// panics, and every SQL it writes parses and names nothing from the request verbatim.
        #[test]
        fn the_builder_never_panics_and_never_splices_words_into_sql(
            picks in proptest::collection::vec(0..WORDS.len(), 0..12),
            noise in "\\PC{0,40}",
        ) {
            let store = STORE.with(Arc::clone);
            let mut text: Vec<&str> = picks.iter().map(|&i| WORDS[i]).collect();
            text.push(&noise);
            let r = request(&text.join(" "));
            match builder(&store).build(&store, &Scope::all(), &who("steward"), &r) {
                Ok(p) => {
                    let sql = &p.spec.transformation.sql;
                    prop_assert!(p.spec.transformation.validation.parsed, "{sql}");
                    prop_assert!(!sql.contains("DROP"), "{sql}");
                    prop_assert!(!sql.contains("--"), "{sql}");
                }
                Err(e) => prop_assert!(matches!(e, Error::Invalid(_) | Error::Denied(_)), "{e:?}"),
            }
        }
    }

    thread_local! {
        static STORE: Arc<GraphStore> = store();
    }
}

#[test]
fn an_attributes_owner_picks_its_dataset_and_what_cannot_be_served_is_incomplete() {
    let store = store();
    // "customer country" is the customer's country, not the order's shipping country.
    let p = build(
        &store,
        "steward",
        &request("net revenue by customer country"),
    );
    assert_eq!(p.status, "ready");
    let names: Vec<&str> = p
        .spec
        .model
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["country", "net_revenue"]);
    assert!(
        p.spec
            .transformation
            .sql
            .contains("LEFT JOIN bronze.customers AS c ON c.customer_id = o.customer_id"),
        "{}",
        p.spec.transformation.sql
    );
    let p = build(&store, "steward", &request("net revenue by country"));
    assert_eq!(p.spec.model.columns[0].name, "shipping_country");
    // Orders have no campaign: the product is incomplete, says why, and is never registered.
    let r = request("orders per campaign");
    let p = build(&store, "steward", &r);
    assert_eq!(p.status, "incomplete");
    assert!(
        p.spec.problems.iter().any(|x| x.contains("\"campaign\"")),
        "{:?}",
        p.spec.problems
    );
    let e = builder(&store)
        .build(
            &store,
            &Scope::all(),
            &who("steward"),
            &ProductRequest {
                register: true,
                ..r
            },
        )
        .unwrap_err();
    assert!(e.to_string().contains("incomplete"), "{e}");
}

#[test]
fn files_outside_the_data_root_are_never_read() {
    let store = store();
    // A distribution pointing anywhere on the machine (here: the real file, outside the root).
    let outside = govgraph_seeds::seeds_dir().join("data/bronze/orders.parquet");
    let ttl = format!(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix gg: <https://govgraph.dev/ns#> .
         <https://id.govgraph.dev/dataset/shop/bronze.orders> dcat:distribution [ a dcat:Distribution ; gg:path \"{}\" ] .",
        outside.display()
    );
    store
        .load(
            vec![govgraph_graph::LoadSource::from_bytes(
                "elsewhere",
                "elsewhere.ttl",
                govgraph_graph::oxigraph::io::RdfFormat::Turtle,
                ttl,
            )],
            &Default::default(),
            &govgraph_graph::NoProgress,
        )
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let b = ProductBuilder::new(BuilderConfig {
        data_root: Some(root.path().to_path_buf()),
        output_dir: root.path().join("products"),
        ..BuilderConfig::default()
    })
    .with_runner(None);
    let p = b
        .build(
            &store,
            &Scope::all(),
            &who("steward"),
            &request("monthly net revenue by region"),
        )
        .unwrap();
    assert!(
        p.spec
            .discovery
            .excluded
            .iter()
            .any(|e| e.dataset == "shop/bronze.orders" && e.reason == "no_data"),
        "{:?}",
        p.spec.discovery.excluded
    );
    // Under the root, the same catalog path is read.
    let p = builder(&store)
        .build(
            &store,
            &Scope::all(),
            &who("steward"),
            &request("monthly net revenue by region"),
        )
        .unwrap();
    assert!(
        p.spec
            .discovery
            .candidates
            .iter()
            .any(|c| c.dataset == "shop/bronze.orders")
    );
}
