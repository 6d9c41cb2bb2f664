//! Prints the lineage of a SQL file as JSON.
//!
//! `cargo run -p govgraph-lineage --example lineage -- FILE.sql [SCHEMA.json] [DIALECT] [DEFAULT_SCHEMA]`

use std::process::ExitCode;

use govgraph_lineage::{Options, Schema, analyze};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(sql_path) = args.first() else {
        eprintln!("usage: lineage FILE.sql [SCHEMA.json] [DIALECT] [DEFAULT_SCHEMA]");
        return ExitCode::FAILURE;
    };
    let sql = match std::fs::read_to_string(sql_path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{sql_path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let schema = match args.get(1) {
        Some(p) => match std::fs::read_to_string(p)
            .map_err(|e| e.to_string())
            .and_then(|s| Schema::from_mapping_json(&s).map_err(|e| e.to_string()))
        {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{p}: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => Schema::new(),
    };
    let mut options = Options::default();
    if let Some(d) = args.get(2) {
        match d.parse() {
            Ok(d) => options.dialect = d,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    options.default_schema = args.get(3).cloned();
    let analysis = analyze(&sql, &schema, &options);
    match serde_json::to_string_pretty(&analysis) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
