//! End-to-end tests of the `govgraph` binary over an on-disk data directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Stdio};

use common::*;

const COUNT_ALL: &str = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }";

fn count_graph(data: &std::path::Path, graph: &str) -> u64 {
    count(
        data,
        &format!("SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"),
    )
}

#[test]
fn every_rdf_format_loads_into_its_own_graph() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    for file in ["catalog.ttl", "catalog.nt", "catalog.rdf", "catalog.jsonld"] {
        let path = data_file(file);
        let out = ok(data, &["load", path.to_str().unwrap()]);
        assert!(out.contains("27 triples"), "{file}: {out}");
        // 27 asserted triples plus materialised super-types.
        assert!(count_graph(data, &format!("urn:govgraph:graph:file:{file}")) > 27);
    }
    // Quad formats keep their own graph names.
    for file in ["catalog.nq", "catalog.trig"] {
        let out = ok(data, &["load", data_file(file).to_str().unwrap()]);
        assert!(
            out.contains("<urn:govgraph:graph:crm:accounts>"),
            "{file}: {out}"
        );
    }
    let sources = ok(data, &["sources"]);
    assert!(
        sources.contains("urn:govgraph:graph:file:catalog.jsonld"),
        "{sources}"
    );
    // Super-types are materialised: the gg:Table is a dcat:Dataset.
    assert_eq!(
        count(
            data,
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:govgraph:graph:file:catalog.ttl> { \
             <https://id.govgraph.dev/dataset/crm/public.accounts> a dcat:Dataset } }"
        ),
        1
    );
}

#[test]
fn reloading_a_source_replaces_exactly_its_facts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let path = data_file("catalog.ttl");
    ok(data, &["load", path.to_str().unwrap(), "--source", "crm"]);
    ok(
        data,
        &[
            "load",
            data_file("catalog.nt").to_str().unwrap(),
            "--source",
            "other",
        ],
    );
    let total = count(data, COUNT_ALL);
    let crm = count_graph(data, "urn:govgraph:graph:crm");
    let edited = dir.path().join("edited.ttl");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("Customer accounts", "All customer accounts");
    std::fs::write(&edited, text).unwrap();
    let out = ok(data, &["load", edited.to_str().unwrap(), "--source", "crm"]);
    assert!(out.contains("replaced"), "{out}");
    assert_eq!(count_graph(data, "urn:govgraph:graph:crm"), crm);
    assert_eq!(count(data, COUNT_ALL), total);
    assert_eq!(
        count(
            data,
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:govgraph:graph:crm> { ?d dct:description \"All customer accounts\" } }"
        ),
        1
    );
    assert_eq!(count_graph(data, "urn:govgraph:graph:other"), crm);
}

#[test]
fn a_syntax_error_names_file_line_and_column_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(data, &["load", data_file("catalog.ttl").to_str().unwrap()]);
    let before = count(data, COUNT_ALL);
    let bad = data_file("bad_syntax.ttl");
    // The good file and the bad one in one load: all or nothing.
    let out = govgraph(
        data,
        &[
            "load",
            data_file("catalog.nt").to_str().unwrap(),
            bad.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad_syntax.ttl:6:"), "{stderr}");
    assert_eq!(count(data, COUNT_ALL), before);
    assert_eq!(count_graph(data, "urn:govgraph:graph:file:catalog.nt"), 0);
}

#[test]
fn a_shacl_violation_refuses_the_load_and_validate_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(data, &["init"]);
    let before = count(data, COUNT_ALL);
    let bad = data_file("violation.ttl");
    let out = govgraph(data, &["load", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SHACL violation"), "{stderr}");
    assert!(stderr.contains("public.leads/column/id"), "{stderr}");
    assert_eq!(count(data, COUNT_ALL), before);

    ok(data, &["load", bad.to_str().unwrap(), "--no-validate"]);
    let out = govgraph(data, &["validate"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .contains("[violation] <https://id.govgraph.dev/dataset/crm/public.leads/column/id_2>"),
        "{stdout}"
    );
    let out = govgraph(data, &["validate", "--format", "turtle"]);
    assert_eq!(out.status.code(), Some(1));
    let turtle = String::from_utf8_lossy(&out.stdout);
    assert!(
        turtle.contains("sh:conforms false") && turtle.contains("sh:focusNode"),
        "{turtle}"
    );
}

#[test]
fn bad_sparql_names_the_position() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init"]);
    let out = govgraph(dir.path(), &["sparql", "SELECT ?x WHERE { ?x ?y }"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid SPARQL") && stderr.contains("1:"),
        "{stderr}"
    );
}

#[test]
fn data_survives_a_restart_and_export_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&data, &["load", data_file("catalog.ttl").to_str().unwrap()]);
    let before = count(&data, COUNT_ALL);
    // Each command is a new process: the store was closed and opened again.
    assert_eq!(count(&data, COUNT_ALL), before);
    let table = ok(
        &data,
        &[
            "sparql",
            "SELECT ?name WHERE { ?c csvw:name ?name } ORDER BY ?name",
        ],
    );
    assert!(
        table.contains("account_id") && table.contains("(2 rows)"),
        "{table}"
    );

    let dump = dir.path().join("dump.nq");
    ok(&data, &["export", "--output", dump.to_str().unwrap()]);
    let copy = dir.path().join("copy");
    ok(&copy, &["load", dump.to_str().unwrap(), "--no-validate"]);
    // The copy holds the same quads (its own ontology install and meta aside).
    let q = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:govgraph:graph:file:catalog.ttl> { ?s ?p ?o } }";
    assert_eq!(count(&copy, q), count(&data, q));

    let backup = dir.path().join("backup");
    ok(&data, &["backup", backup.to_str().unwrap()]);
    assert_eq!(count(&backup, COUNT_ALL), before);
}

#[test]
fn a_second_process_gets_a_clear_in_use_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(data, &["load", data_file("catalog.ttl").to_str().unwrap()]);
    let server = spawn_server(data, &["serve"]);
    let out = govgraph(data, &["load", data_file("catalog.nt").to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("in use by another govgraph process"),
        "{stderr}"
    );
    // Reads still work, read-only, while the server holds the directory, and so does an
    // online backup.
    let total = count(data, COUNT_ALL);
    assert!(total > 0);
    let backup = dir.path().join("online-backup");
    ok(data, &["backup", backup.to_str().unwrap()]);
    assert_eq!(count(&backup, COUNT_ALL), total);
    let out = govgraph(&dir.path().join("nowhere"), &["sparql", COUNT_ALL]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no govgraph store here"));
    let (status, _, body) = http(
        server.addr,
        "GET",
        &format!(
            "/sparql?query={}",
            urlencode("SELECT (COUNT(*) AS ?n) WHERE { ?c a csvw:Column }")
        ),
        &[("Accept", "text/csv")],
        b"",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.lines().nth(1), Some("2"), "{body}");
}

#[test]
fn kill_9_during_a_large_load_leaves_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.nt");
    let cfg = govgraph_seeds::SyntheticConfig {
        tables: 300,
        columns_per_table: 20,
        ..Default::default()
    };
    let stats = govgraph_seeds::write_ntriples(
        &cfg,
        std::io::BufWriter::new(std::fs::File::create(&big).unwrap()),
    )
    .unwrap();
    assert!(stats.triples > 50_000, "{stats:?}");
    let graph = "urn:govgraph:graph:big";
    let load = |data: &std::path::Path| {
        Command::new(bin())
            .arg("--data")
            .arg(data)
            .args([
                "load",
                big.to_str().unwrap(),
                "--source",
                "big",
                "--no-validate",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };

    // A completed load tells what "all" is and how long a load takes here.
    let reference = dir.path().join("reference");
    ok(&reference, &["init"]);
    let started = std::time::Instant::now();
    assert!(load(&reference).wait().unwrap().success());
    let full_time = started.elapsed();
    let all = count_graph(&reference, graph);
    assert!(all > stats.triples);

    let mut outcomes = Vec::new();
    for (i, fraction) in [0.15f64, 0.5, 0.85].into_iter().enumerate() {
        let data = dir.path().join(format!("killed-{i}"));
        ok(&data, &["init"]);
        let mut child = load(&data);
        std::thread::sleep(full_time.mul_f64(fraction));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let n = count_graph(&data, graph);
        assert!(
            n == 0 || n == all,
            "after kill -9 at {fraction} of a load the graph holds {n} of {all} triples"
        );
        // The store opens and takes writes again.
        ok(&data, &["load", data_file("catalog.ttl").to_str().unwrap()]);
        outcomes.push((fraction, finished, n));
    }
    // The kills landed in the middle of the load.
    assert!(
        outcomes.iter().any(|(_, finished, n)| !finished && *n == 0),
        "{outcomes:?}"
    );
}

#[test]
fn demo_loads_idempotently_and_serves_sparql() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let first = ok(data, &["demo", "--no-serve"]);
    assert!(first.contains("demo catalog loaded"), "{first}");
    let n = count(data, COUNT_ALL);
    ok(data, &["demo", "--no-serve"]);
    assert_eq!(
        count(data, COUNT_ALL),
        n,
        "running demo twice must not duplicate anything"
    );
    assert!(ok(data, &["validate"]).contains("0 violation(s)"));

    // Table-level lineage of a gold model reaches the bronze layer.
    let walk = ok(
        data,
        &["lineage", "upstream", "gold.customer_lifetime_value"],
    );
    assert!(
        walk.contains("silver.order_facts") && walk.contains("bronze.orders"),
        "{walk}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(
        data,
        &[
            "lineage",
            "downstream",
            "bronze.orders",
            "--depth",
            "1",
            "--json",
        ],
    ))
    .unwrap();
    assert!(
        json["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["depth"] == 1),
        "{json}"
    );
    assert!(json["total"].as_u64().unwrap() >= 1, "{json}");

    // Column lineage derived from the demo's SQL models: net revenue comes from the bronze
    // order lines through two models.
    let json: serde_json::Value = serde_json::from_str(&ok(
        data,
        &[
            "lineage",
            "upstream",
            "gold.daily_sales_by_region_category.net_revenue",
            "--column",
            "--json",
        ],
    ))
    .unwrap();
    let reached: Vec<&str> = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["iri"].as_str())
        .collect();
    for column in [
        "silver.order_facts/column/net_amount_eur",
        "bronze.orders/column/unit_price",
        "bronze.orders/column/discount_amount",
    ] {
        assert!(
            reached.iter().any(|n| n.ends_with(column)),
            "{column}: {json}"
        );
    }

    // Search finds columns by abbreviations, with reasons and facets, and follows loads.
    let json: serde_json::Value = serde_json::from_str(&ok(
        data,
        &["search", "custEmailAddr", "--kind", "column", "--json"],
    ))
    .unwrap();
    assert!(
        json["hits"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with(".email"),
        "{json}"
    );
    assert!(json["hits"][0]["pii"].as_bool().unwrap(), "{json}");
    assert!(
        !json["hits"][0]["reasons"].as_array().unwrap().is_empty(),
        "{json}"
    );
    assert_eq!(json["facets"]["kind"]["column"], json["total"], "{json}");
    let extra = dir.path().join("extra.ttl");
    std::fs::write(
        &extra,
        "@prefix gg: <https://govgraph.dev/ns#> . @prefix dct: <http://purl.org/dc/terms/> .
         @prefix csvw: <http://www.w3.org/ns/csvw#> .
         <https://id.govgraph.dev/system/erp> a gg:System ; dct:title \"ERP\" ; gg:platform \"postgres\" .
         <https://id.govgraph.dev/dataset/erp/erp.sprockets> a gg:Table ; dct:identifier \"erp.sprockets\" ;
             dct:title \"Sprockets\" ; gg:system <https://id.govgraph.dev/system/erp> .",
    )
    .unwrap();
    ok(data, &["load", extra.to_str().unwrap()]);
    let found = ok(data, &["search", "sprocket"]);
    assert!(found.contains("erp.sprockets"), "{found}");
    // Another embedder is chosen by flag or environment; one this build lacks is refused
    // with the feature named, and a bad choice with the choices.
    #[cfg(not(feature = "local-model"))]
    {
        let out = govgraph(
            data,
            &[
                "--embedder",
                "local",
                "--embedder-model",
                "models/x",
                "search",
                "sprocket",
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("`local-model` feature"),
            "{err}"
        );
    }
    let out = govgraph(data, &["--embedder", "magic", "search", "sprocket"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("builtin, openai, local"),
        "{err}"
    );
    let out = govgraph(data, &["--embedder", "openai", "search", "sprocket"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("base_url is required"),
        "{err}"
    );

    let server = spawn_server(data, &["demo"]);
    assert!(server.banner.contains("/sparql"), "{}", server.banner);
    let query = "SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE { ?t a gg:GlossaryTerm }";
    let (status, headers, body) = http(
        server.addr,
        "GET",
        &format!("/sparql?query={}", urlencode(query)),
        &[("Accept", "application/sparql-results+json")],
        b"",
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("application/sparql-results+json"))
    );
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let terms: u64 = json["results"]["bindings"][0]["n"]["value"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(terms >= 30, "{terms} glossary terms");
}

#[test]
fn dbt_ingestion_and_classification_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // A real dbt 1.9 target directory.
    let target = root.join("graph/connectors/tests/dbt/targets/v12");
    let out = ok(
        &data,
        &["ingest", "dbt", target.to_str().unwrap(), "--json"],
    );
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["status"], "succeeded", "{out}");
    assert_eq!(report["counts"]["violations"], 2, "{out}");
    assert!(count(&data, "SELECT (COUNT(*) AS ?n) WHERE { ?d a gg:Model }") >= 7);
    // dbt's test results are rule runs like any other: they land on the scorecard.
    let card: serde_json::Value =
        serde_json::from_str(&ok(&data, &["scorecard", "--json"])).unwrap();
    assert_eq!(card["failed"], 2, "{card:#}");
    assert!(card["passed"].as_u64().unwrap() > 2, "{card:#}");
    assert!(card["score"].as_f64().unwrap() < 100.0, "{card:#}");

    // Classify a file, store its labels on the catalog dataset, then review one.
    let lake = dir.path().join("lake");
    std::fs::create_dir(&lake).unwrap();
    std::fs::copy(
        root.join("seeds/data/bronze/customers.csv"),
        lake.join("customers.csv"),
    )
    .unwrap();
    ok(
        &data,
        &[
            "ingest",
            "files",
            lake.to_str().unwrap(),
            "--system",
            "lake",
        ],
    );
    let file = lake.join("customers.csv");
    let out = ok(
        &data,
        &[
            "classify",
            file.to_str().unwrap(),
            "--dataset",
            "lake/customers",
            "--json",
        ],
    );
    let labels: serde_json::Value = serde_json::from_str(&out).unwrap();
    let email = labels["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "email")
        .unwrap();
    assert_eq!(email["category"], "email");
    assert_eq!(email["dpv"], "https://w3id.org/dpv/pd#EmailAddress");
    assert_eq!(email["special_category"], false);
    // A catalog dataset is read back from the file it was ingested from.
    let out = ok(&data, &["classify", "lake/customers", "--json"]);
    assert!(out.contains("\"dataset\": \"lake/customers\""), "{out}");
    let out = ok(&data, &["profile", "lake/customers", "--json"]);
    let profile: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(profile["row_count"], 1003);
    let tagged = "SELECT (COUNT(*) AS ?n) WHERE { ?c csvw:name \"city\" ; gg:tag <https://id.govgraph.dev/tag/pii.city> }";
    assert_eq!(count(&data, tagged), 1);
    ok(
        &data,
        &[
            "classify",
            "--review",
            "lake/customers/city",
            "--category",
            "city",
            "--reject",
            "--by",
            "steward-1",
        ],
    );
    assert_eq!(count(&data, tagged), 0);
    ok(
        &data,
        &[
            "classify",
            file.to_str().unwrap(),
            "--dataset",
            "lake/customers",
        ],
    );
    assert_eq!(
        count(&data, tagged),
        0,
        "a rejected label stays off after a re-run"
    );
    // Unknown categories and datasets are refused with their names.
    let out = govgraph(
        &data,
        &[
            "classify",
            "--review",
            "lake/customers/city",
            "--category",
            "shoe_size",
            "--confirm",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("shoe_size"));
    let out = govgraph(
        &data,
        &["classify", file.to_str().unwrap(), "--dataset", "lake/nope"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("lake/nope"));
}

#[test]
fn postgres_tables_are_profiled_by_push_down_and_classified_from_samples() {
    let Some(url) = std::env::var("GOVGRAPH_TEST_POSTGRES_URL").ok() else {
        eprintln!("skipped: GOVGRAPH_TEST_POSTGRES_URL is not set");
        return;
    };
    let admin = |sql: &str| psql(&url, sql);
    admin(
        "DROP SCHEMA IF EXISTS govgraph_cli_pii CASCADE; CREATE SCHEMA govgraph_cli_pii;
         CREATE TABLE govgraph_cli_pii.members (member_id integer PRIMARY KEY, email text, iban text, joined date);
         INSERT INTO govgraph_cli_pii.members VALUES
           (1, 'ada@example.com', 'DE89 3704 0044 0532 0130 00', '2024-01-02'),
           (2, 'alan@example.org', 'GB82WEST12345698765432', '2024-02-03'),
           (3, NULL, 'GB82WEST12345698765432', '2024-03-04');",
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = ok(
        &data,
        &[
            "profile",
            "--postgres",
            &url,
            "--table",
            "govgraph_cli_pii.members",
            "--json",
        ],
    );
    let profile: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(profile["row_count"], 3);
    assert_eq!(profile["columns"][1]["null_count"], 1);
    assert_eq!(profile["columns"][2]["distinct_count"], 2);
    assert_eq!(profile["columns"][3]["min"], "2024-01-02");
    let out = ok(
        &data,
        &[
            "classify",
            "--postgres",
            &url,
            "--schema",
            "govgraph_cli_pii",
            "--system",
            "wh",
            "--json",
        ],
    );
    // The harvested table is now a catalog dataset: profile it by name.
    let by_name = ok(&data, &["profile", "wh/govgraph_cli_pii.members", "--json"]);
    admin("DROP SCHEMA govgraph_cli_pii CASCADE");
    let by_name: serde_json::Value = serde_json::from_str(&by_name).unwrap();
    assert_eq!(by_name["dataset"], "wh/govgraph_cli_pii.members");
    assert_eq!(by_name["columns"][2]["distinct_count"], 2);
    let measured = "SELECT (COUNT(*) AS ?n) WHERE { ?m dqv:isMeasurementOf gg:DistinctCount ; dqv:computedOn/csvw:name \"iban\" }";
    assert_eq!(count(&data, measured), 1);
    let labels: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(labels.as_array().map(Vec::len), Some(1), "{out}");
    assert_eq!(labels[0]["dataset"], "wh/govgraph_cli_pii.members");
    let category = |name: &str| {
        labels[0]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .map(|c| c["category"].clone())
    };
    assert_eq!(category("email"), Some(serde_json::json!("email")));
    assert_eq!(category("iban"), Some(serde_json::json!("iban")));
    assert_eq!(category("joined"), Some(serde_json::json!("none")));
    let tagged = "SELECT (COUNT(*) AS ?n) WHERE { ?c csvw:name \"iban\" ; gg:tag <https://id.govgraph.dev/tag/pii.iban> }";
    assert_eq!(count(&data, tagged), 1);
}

#[test]
fn quality_rules_are_suggested_run_scored_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shop = root.join("graph/quality/tests/rules/shop");
    let lake = dir.path().join("lake");
    std::fs::create_dir(&lake).unwrap();
    for f in ["orders.csv", "customers.csv"] {
        std::fs::copy(shop.join(f), lake.join(f)).unwrap();
    }
    ok(
        &data,
        &[
            "ingest",
            "files",
            lake.to_str().unwrap(),
            "--system",
            "lake",
        ],
    );
    ok(&data, &["load", shop.join("catalog.ttl").to_str().unwrap()]);
    ok(&data, &["classify", "lake/customers", "--json"]);

    // Suggestions: the glossary term's standard reaches customers.email; applying stores them.
    let out = ok(
        &data,
        &["quality", "suggest", "lake/customers", "--apply", "--json"],
    );
    let suggestions: serde_json::Value = serde_json::from_str(&out).unwrap();
    let email_format = suggestions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "glossary" && s["columns"][0] == "email")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(email_format["check"]["type"], "regex");
    let applied = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:govgraph:graph:quality-rules:lake.customers> { ?r a gg:QualityRule } }";
    assert_eq!(
        count(&data, applied),
        suggestions.as_array().unwrap().len() as u64
    );

    // A run with failing error rules exits 1 and prints the whole run.
    let run = govgraph(&data, &["quality", "run", "lake/customers", "--json"]);
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let result = |rule: &str| {
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"].as_str().unwrap().contains(rule))
            .cloned()
            .unwrap_or_else(|| panic!("{rule}: {report:#}"))
    };
    let email = result("email.regex");
    assert_eq!(
        (email["status"].as_str(), email["failed"].as_u64()),
        (Some("fail"), Some(1))
    );
    assert_eq!(
        email["samples"][0]["email"], "***email***",
        "personal data is masked"
    );
    assert_eq!(email["samples"][0]["customer_id"], "7");
    assert_eq!(result("customers-country-code")["failed"], 1);
    assert!(
        report["profile_graph"]
            .as_str()
            .unwrap()
            .starts_with("profile:lake.customers:")
    );
    let stored = report["stored"]["graph"].as_str().unwrap();
    let samples = format!(
        "SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <urn:govgraph:graph:{stored}> {{ ?v a gg:Violation ; gg:sampleRow ?s FILTER(CONTAINS(?s, \"***email***\")) }} }}"
    );
    assert!(count(&data, &samples) >= 1);

    // orders: the planted defects fail, the volume passes; the scorecard agrees with the run.
    let run = govgraph(&data, &["quality", "run", "lake/orders", "--json"]);
    assert_eq!(run.status.code(), Some(1));
    let orders: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let failed = orders["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "fail")
        .count();
    assert_eq!(failed, 9, "{orders:#}");
    let card: serde_json::Value =
        serde_json::from_str(&ok(&data, &["scorecard", "--domain", "sales", "--json"])).unwrap();
    assert_eq!(card["domains"][0]["domain"], "sales");
    assert_eq!(card["domains"][0]["datasets"][0]["dataset"], "lake/orders");
    assert_eq!(
        card["domains"][0]["datasets"][0]["score"],
        orders["scores"]["score"]
    );
    let all: serde_json::Value =
        serde_json::from_str(&ok(&data, &["scorecard", "--json"])).unwrap();
    assert_eq!(
        all["domains"].as_array().unwrap().len(),
        2,
        "sales and datasets without a domain"
    );

    // Exports render the stored rules; Soda's matches the library's expectation file.
    let soda = ok(
        &data,
        &["quality", "export", "lake/orders", "--format", "soda"],
    );
    assert_eq!(
        soda,
        std::fs::read_to_string(shop.join("orders.soda.yaml")).unwrap()
    );
    let ge: serde_json::Value = serde_json::from_str(&ok(
        &data,
        &["quality", "export", "lake/orders", "--format", "ge"],
    ))
    .unwrap();
    assert_eq!(ge["expectations"].as_array().unwrap().len(), 10);
    let odcs = ok(
        &data,
        &["quality", "export", "lake/orders", "--format", "odcs"],
    );
    assert!(odcs.contains("apiVersion: v3.1.0"), "{odcs}");

    // A dataset that is not in the catalog is a clear error.
    let missing = govgraph(&data, &["quality", "run", "lake/nothing"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("lake/nothing"));
    // The store is still valid after all of it.
    ok(&data, &["validate"]);
}

#[test]
fn quality_rules_run_on_postgres_by_push_down() {
    let Some(url) = std::env::var("GOVGRAPH_TEST_POSTGRES_URL").ok() else {
        eprintln!("skipped: GOVGRAPH_TEST_POSTGRES_URL is not set");
        return;
    };
    let admin = |sql: &str| psql(&url, sql);
    admin(
        "DROP SCHEMA IF EXISTS govgraph_cli_dq CASCADE; CREATE SCHEMA govgraph_cli_dq;
         CREATE TABLE govgraph_cli_dq.customers (id integer PRIMARY KEY, email text);
         CREATE TABLE govgraph_cli_dq.orders (id integer PRIMARY KEY,
           customer_id integer REFERENCES govgraph_cli_dq.customers (id),
           status text NOT NULL, amount numeric(10,2) CHECK (amount > -1000), placed timestamptz);
         INSERT INTO govgraph_cli_dq.customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 20) g;
         INSERT INTO govgraph_cli_dq.orders SELECT g, 1 + g % 20, CASE WHEN g % 10 = 0 THEN 'lost' ELSE 'open' END,
           CASE WHEN g = 7 THEN -5 ELSE g * 1.5 END, now() - g * interval '1 hour' FROM generate_series(1, 60) g;",
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(
        &data,
        &[
            "ingest",
            "postgres",
            &url,
            "--schema",
            "govgraph_cli_dq",
            "--system",
            "wh",
        ],
    );
    // The harvested constraints are rules, and the data keeps them.
    let run = govgraph(
        &data,
        &["quality", "run", "wh/govgraph_cli_dq.orders", "--json"],
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&run.stderr)));
    assert!(run.status.success(), "{report:#}");
    let results = report["results"].as_array().unwrap();
    assert!(results.len() >= 4, "{report:#}");
    assert!(
        results
            .iter()
            .all(|r| r["status"] == "pass" && r["checked"] == 60),
        "{report:#}"
    );
    assert!(results.iter().any(|r| r["rule_type"] == "referential"));
    // A steward adds rules by hand; they run by push-down with the same meaning as on files.
    let rules = dir.path().join("rules.ttl");
    std::fs::write(
        &rules,
        r#"@prefix gg: <https://govgraph.dev/ns#> . @prefix dct: <http://purl.org/dc/terms/> .
<https://id.govgraph.dev/rule/dq-status> a gg:QualityRule ; dct:title "status is open or closed" ;
  gg:ruleType "accepted_values" ; gg:parameters "{\"values\": [\"open\", \"closed\"]}" ; gg:severity "warn" ;
  gg:appliesTo <https://id.govgraph.dev/dataset/wh/govgraph_cli_dq.orders/column/status> .
<https://id.govgraph.dev/rule/dq-amount> a gg:QualityRule ; dct:title "amount is positive" ;
  gg:ruleType "range" ; gg:parameters "{\"min\": 0}" ; gg:severity "error" ;
  gg:appliesTo <https://id.govgraph.dev/dataset/wh/govgraph_cli_dq.orders/column/amount> .
<https://id.govgraph.dev/rule/dq-fresh> a gg:QualityRule ; dct:title "placed within a day" ;
  gg:ruleType "freshness" ; gg:parameters "{\"column\": \"placed\", \"max_age\": \"P1D\"}" ; gg:severity "warn" ;
  gg:appliesTo <https://id.govgraph.dev/dataset/wh/govgraph_cli_dq.orders> .
"#,
    )
    .unwrap();
    ok(&data, &["load", rules.to_str().unwrap()]);
    let run = govgraph(
        &data,
        &["quality", "run", "wh/govgraph_cli_dq.orders", "--json"],
    );
    admin("DROP SCHEMA govgraph_cli_dq CASCADE");
    assert_eq!(run.status.code(), Some(1), "the amount rule is an error");
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let result = |rule: &str| {
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == rule)
            .cloned()
            .unwrap_or_else(|| panic!("{rule}: {report:#}"))
    };
    assert_eq!(result("dq-status")["failed"], 6);
    assert_eq!(result("dq-status")["samples"].as_array().unwrap().len(), 5);
    assert_eq!(result("dq-amount")["failed"], 1);
    assert_eq!(result("dq-amount")["samples"][0]["id"], 7);
    assert_eq!(result("dq-fresh")["status"], "pass");
    assert!(report["scores"]["dimensions"]["Validity"].as_f64().unwrap() < 100.0);
}

#[test]
fn llm_suggestions_need_the_feature_or_fall_back_when_the_model_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lake = dir.path().join("lake");
    std::fs::create_dir(&lake).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("graph/quality/tests/rules/shop/orders.csv"),
        lake.join("orders.csv"),
    )
    .unwrap();
    ok(
        &data,
        &[
            "ingest",
            "files",
            lake.to_str().unwrap(),
            "--system",
            "lake",
        ],
    );
    let out = govgraph(
        &data,
        &[
            "quality",
            "suggest",
            "lake/orders",
            "--llm",
            "--llm-base-url",
            "http://127.0.0.1:9/v1",
            "--json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    if cfg!(feature = "openai") {
        // The offline suggestions stand, and the warning says why the model's are missing.
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("only the offline suggestions"), "{stderr}");
        let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(!s.as_array().unwrap().is_empty());
    } else {
        assert!(!out.status.success());
        assert!(stderr.contains("`openai` feature"), "{stderr}");
    }
}

#[test]
fn ask_answers_from_the_demo_and_refuses_values_by_role() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(data, &["demo", "--no-serve"]);
    let a: serde_json::Value = serde_json::from_str(&ok(
        data,
        &[
            "ask",
            "which dashboards depend on data owned by Claire Dubois?",
            "--json",
        ],
    ))
    .unwrap();
    let mut names: Vec<&str> = a["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["bi.campaign_roi", "bi.customer_value", "bi.executive_sales"],
        "{a}"
    );
    assert_eq!(a["mode"], "offline");
    let text = ok(data, &["ask", "who owns bronze.orders?", "--explain"]);
    assert!(
        text.contains("Maria Keller") && text.contains("planner"),
        "{text}"
    );
    // A refusal exits 3 and says why.
    let out = govgraph(
        data,
        &[
            "ask",
            "show me the dates of birth in bronze.customers",
            "--role",
            "analyst",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("analyst role may not"));
    // --llm without the feature says what is missing.
    if !cfg!(feature = "openai") {
        let out = govgraph(data, &["ask", "who owns bronze.orders?", "--llm"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("openai"));
    }
}

#[test]
fn products_are_built_clarified_and_registered_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(data, &["demo", "--no-serve"]);
    let flagship = "daily revenue by region and category for completed orders";
    // "revenue" has two definitions: the command asks (exit 2) and lists the choices.
    let out = govgraph(data, &["product", flagship]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("--choose \"revenue=net-revenue\""), "{text}");
    assert!(
        text.contains("--choose \"revenue=gross-revenue\""),
        "{text}"
    );
    // Answered, it is ready; --json carries the SQL and its dialect.
    let p: serde_json::Value = serde_json::from_str(&ok(
        data,
        &[
            "product",
            flagship,
            "--choose",
            "revenue=net-revenue",
            "--dialect",
            "snowflake",
            "--role",
            "steward",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(p["status"], "ready");
    assert_eq!(p["transformation"]["dialect"], "snowflake");
    let sql = p["transformation"]["sql"].as_str().unwrap();
    assert!(
        sql.contains("DATE_TRUNC('day', o.order_date)")
            && sql.contains("LEFT JOIN bronze.products AS p"),
        "{sql}"
    );
    assert_eq!(
        p["model"]["primary_key"],
        serde_json::json!(["order_day", "region", "category"])
    );
    assert_eq!(
        p["transformation"]["validation"]["executed"],
        cfg!(feature = "datafusion"),
        "{}",
        p["transformation"]["validation"]
    );
    // YAML is the same spec; registering stores it, and the REST listing finds it.
    let yaml = ok(
        data,
        &["product", "monthly net revenue by region", "--yaml"],
    );
    assert!(yaml.contains("api_version: govgraph.dev/v1"), "{yaml}");
    let text = ok(
        data,
        &[
            "product",
            "monthly net revenue by region",
            "--register",
            "--role",
            "steward",
        ],
    );
    assert!(
        text.contains("registered: https://id.govgraph.dev/product/monthly-net-revenue-by-region"),
        "{text}"
    );
    let rows = ok(
        data,
        &[
            "sparql",
            "SELECT ?p WHERE { ?p a gg:DataProduct ; gg:productRequest \"monthly net revenue by region\" }",
            "--format",
            "csv",
        ],
    );
    assert!(
        rows.contains("/product/monthly-net-revenue-by-region"),
        "{rows}"
    );
    // Its column lineage joins the catalog's: impact analysis now reaches the product.
    let impact = ok(
        data,
        &["ask", "what breaks if bronze.orders.unit_price changes?"],
    );
    assert!(
        impact.contains("product.monthly_net_revenue_by_region.net_revenue"),
        "{impact}"
    );
    // A request naming nothing the catalog knows is a clear error.
    let out = govgraph(data, &["product", "lorem ipsum dolor"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no measure or attribute"));
}

#[test]
fn policies_decide_test_compile_lint_retain_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    ok(data, &["demo", "--no-serve"]);
    // The demo's decision cases all hold.
    let cases = repo.join("tests/policy/demo-cases.yaml");
    let out = ok(data, &["policy", "test", cases.to_str().unwrap()]);
    assert!(out.contains(" 0 failed"), "{out}");
    // A failing case exits 1 and says why.
    let bad = dir.path().join("bad-cases.yaml");
    std::fs::write(
        &bad,
        "cases:\n  - name: viewers read emails\n    role: viewer\n    resource: bronze.customers.email\n    expect: permit\n",
    )
    .unwrap();
    let out = govgraph(data, &["policy", "test", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("expected permit, got deny"));
    // Decisions: permit exits 0, deny exits 3.
    let d: serde_json::Value = serde_json::from_str(&ok(
        data,
        &[
            "policy",
            "decide",
            "--role",
            "analyst",
            "--resource",
            "bronze.customers.email",
            "--purpose",
            "marketing",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(d["effect"], "permit");
    assert_eq!(d["obligations"].as_array().unwrap().len(), 2, "{d}");
    let out = govgraph(
        data,
        &[
            "policy",
            "decide",
            "--role",
            "viewer",
            "--resource",
            "bronze.customers.date_of_birth",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Dates of birth are for stewards only"));
    // YAML compiles to ODRL; an error names the file and the field.
    let yaml = dir.path().join("p.yaml");
    std::fs::write(
        &yaml,
        "id: no-export\ntitle: Personal data is never distributed\nrules:\n  - effect: prohibit\n    action: distribute\n    targets: [tag:pii]\n",
    )
    .unwrap();
    let ttl = ok(data, &["policy", "compile", yaml.to_str().unwrap()]);
    assert!(
        ttl.contains("odrl:prohibition") && ttl.contains("odrl:distribute"),
        "{ttl}"
    );
    std::fs::write(&yaml, "id: no-export\ntitle: T\nrules:\n  - effect: prohibit\n    action: distribute\n    targets: [table:x]\n").unwrap();
    let out = govgraph(data, &["policy", "compile", yaml.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("rules[0].targets[0]"));
    // Conflicts.
    let lint = ok(data, &["policy", "lint"]);
    assert!(
        lint.contains("central prohibition beats a domain permission"),
        "{lint}"
    );
    // Propose, approve, history.
    std::fs::write(
        &yaml,
        "id: no-export\ntitle: Personal data is never distributed\nrules:\n  - effect: prohibit\n    action: distribute\n    targets: [tag:pii]\n",
    )
    .unwrap();
    ok(
        data,
        &[
            "policy",
            "propose",
            yaml.to_str().unwrap(),
            "--role",
            "steward",
            "--as",
            "sam",
        ],
    );
    let out = govgraph(
        data,
        &[
            "policy",
            "approve",
            "no-export",
            "1",
            "--role",
            "admin",
            "--as",
            "sam",
        ],
    );
    assert!(!out.status.success(), "the author may not approve");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("another admin"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ok(
        data,
        &[
            "policy",
            "approve",
            "no-export",
            "1",
            "--role",
            "admin",
            "--as",
            "ada",
        ],
    );
    let h = ok(data, &["policy", "history", "no-export"]);
    assert!(
        h.contains("approved by ada") && h.contains("proposed by sam"),
        "{h}"
    );
    let out = govgraph(
        data,
        &[
            "policy",
            "decide",
            "--role",
            "steward",
            "--action",
            "distribute",
            "--resource",
            "bronze.customers.email",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    // Retention over the demo's files, as of a fixed day.
    let f: serde_json::Value = serde_json::from_str(&ok(
        data,
        &[
            "policy",
            "retention",
            "--root",
            repo.join("seeds").to_str().unwrap(),
            "--as-of",
            "2026-12-06",
            "--json",
        ],
    ))
    .unwrap();
    let tickets = f
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["dataset"].as_str().unwrap().ends_with("support_tickets"))
        .unwrap();
    assert_eq!(tickets["status"], "violation", "{tickets}");
    assert!(tickets["rows_expired"].as_u64().unwrap() > 0);
    assert!(
        count(
            data,
            "SELECT (COUNT(*) AS ?n) WHERE { ?v a gg:Violation ; gg:cutoff ?c }"
        ) >= 2
    );
    // Reports.
    let md = ok(data, &["compliance", "gdpr"]);
    assert!(
        md.contains("Art. 30(2)") && md.contains("Nordic Crafts Marketplace"),
        "{md}"
    );
    let html = dir.path().join("ccpa.html");
    ok(
        data,
        &[
            "compliance",
            "ccpa",
            "--format",
            "html",
            "--out",
            html.to_str().unwrap(),
        ],
    );
    assert!(std::fs::read_to_string(&html).unwrap().contains("<table>"));
}

#[test]
fn retention_counts_expired_rows_in_postgres_by_push_down() {
    let Some(url) = std::env::var("GOVGRAPH_TEST_POSTGRES_URL").ok() else {
        eprintln!("skipped: GOVGRAPH_TEST_POSTGRES_URL is not set");
        return;
    };
    let admin = |sql: &str| psql(&url, sql);
    admin(
        "DROP SCHEMA IF EXISTS govgraph_cli_ret CASCADE; CREATE SCHEMA govgraph_cli_ret;
         CREATE TABLE govgraph_cli_ret.events (event_id integer PRIMARY KEY, created_at timestamptz, birth_date date);
         INSERT INTO govgraph_cli_ret.events VALUES
           (1, '2020-01-02 10:00:00+00', '1960-01-01'),
           (2, '2025-06-30 23:59:59+00', '1970-01-01'),
           (3, '2026-11-30 08:00:00+00', '1980-01-01'),
           (4, NULL, '1990-01-01');",
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(
        &data,
        &[
            "ingest",
            "postgres",
            &url,
            "--system",
            "wh",
            "--schema",
            "govgraph_cli_ret",
        ],
    );
    let yaml = dir.path().join("retention.yaml");
    std::fs::write(
        &yaml,
        "id: events-retention\ntitle: Events are kept for one year\nscope: central\nrules:\n  - effect: oblige\n    action: delete\n    targets: [dataset:wh/govgraph_cli_ret.events]\n    retention: P1Y\n",
    )
    .unwrap();
    ok(
        &data,
        &[
            "policy",
            "propose",
            yaml.to_str().unwrap(),
            "--role",
            "steward",
            "--as",
            "sam",
        ],
    );
    // Proposed policies are not enforced.
    let f: serde_json::Value = serde_json::from_str(&ok(
        &data,
        &[
            "policy",
            "retention",
            "--as-of",
            "2026-12-06",
            "--dry-run",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(f.as_array().map(Vec::len), Some(0), "{f}");
    ok(
        &data,
        &[
            "policy",
            "approve",
            "events-retention",
            "1",
            "--role",
            "admin",
            "--as",
            "ada",
        ],
    );
    let out = ok(
        &data,
        &["policy", "retention", "--as-of", "2026-12-06", "--json"],
    );
    admin("DROP SCHEMA govgraph_cli_ret CASCADE");
    let f: serde_json::Value = serde_json::from_str(&out).unwrap();
    let e = &f[0];
    // The creation time, not the birth date, judges the age; two rows are older than a year.
    assert_eq!(e["column"], "created_at", "{e}");
    assert_eq!(e["cutoff"], "2025-12-06T00:00:00Z");
    assert_eq!(e["rows_expired"], 2, "{e}");
    assert_eq!(e["rows_checked"], 4, "{e}");
    assert_eq!(e["status"], "violation");
    assert_eq!(
        count(
            &data,
            "SELECT (COUNT(*) AS ?n) WHERE { ?v a gg:Violation ; gg:rule <https://id.govgraph.dev/policy/events-retention> ; gg:count 2 }"
        ),
        1
    );
}
