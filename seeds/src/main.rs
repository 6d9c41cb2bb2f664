//! `seedgen`: writes the demo catalog or a synthetic benchmark catalog.

use govgraph_seeds::demo;
use govgraph_seeds::synthetic::{SyntheticConfig, write_ntriples};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage:
  seedgen demo [--out DIR]
      Regenerate the demo data and catalog under DIR (default: the seeds crate folder).
  seedgen synthetic --tables N --columns M [--terms T] [--seed S] [--base IRI] [--no-lineage] [--out FILE|-]
      Stream a synthetic catalog as N-Triples to FILE or standard output (default: -).
  seedgen help";

enum Cmd {
    Demo {
        out: PathBuf,
    },
    Synthetic {
        cfg: SyntheticConfig,
        out: Option<PathBuf>,
    },
    Help,
}

fn parse_num<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    v.replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: not a number: {v}"))
}

fn parse(args: Vec<String>) -> Result<Cmd, String> {
    let mut it = args.into_iter();
    match it.next().as_deref() {
        Some("demo") => {
            let mut out = demo::seeds_dir();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--out" => out = PathBuf::from(it.next().ok_or("--out needs a value")?),
                    _ => return Err(format!("unknown argument: {a}")),
                }
            }
            Ok(Cmd::Demo { out })
        }
        Some("synthetic") => {
            let mut cfg = SyntheticConfig::default();
            let (mut tables, mut columns) = (None, None);
            let mut out = None;
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--tables" => tables = Some(parse_num::<usize>("--tables", it.next())?),
                    "--columns" => columns = Some(parse_num::<usize>("--columns", it.next())?),
                    "--terms" => cfg.terms = parse_num("--terms", it.next())?,
                    "--seed" => cfg.seed = parse_num("--seed", it.next())?,
                    "--base" => cfg.base = it.next().ok_or("--base needs a value")?,
                    "--no-lineage" => cfg.lineage = false,
                    "--out" => {
                        let v = it.next().ok_or("--out needs a value")?;
                        out = if v == "-" {
                            None
                        } else {
                            Some(PathBuf::from(v))
                        };
                    }
                    _ => return Err(format!("unknown argument: {a}")),
                }
            }
            cfg.tables = tables.ok_or("--tables is required")?;
            cfg.columns_per_table = columns.ok_or("--columns is required")?;
            if cfg.columns_per_table == 0 {
                return Err("--columns must be at least 1".into());
            }
            Ok(Cmd::Synthetic { cfg, out })
        }
        Some("help" | "--help" | "-h") => Ok(Cmd::Help),
        Some(other) => Err(format!("unknown command: {other}")),
        None => Err("no command given".into()),
    }
}

fn run(cmd: Cmd) -> io::Result<()> {
    match cmd {
        Cmd::Help => println!("{USAGE}"),
        Cmd::Demo { out } => {
            let s = demo::generate(&out)?;
            let total: u64 = s.files.iter().map(|(_, b)| b).sum();
            for (path, bytes) in &s.files {
                println!("{bytes:>10}  {}", out.join(path).display());
            }
            for (table, rows) in &s.rows {
                println!("{rows:>10}  rows in {table}");
            }
            println!(
                "{total:>10}  bytes in {} files; {} terms, {} tags, {} rules, {} policies",
                s.files.len(),
                s.terms,
                s.tags,
                s.rules,
                s.policies
            );
        }
        Cmd::Synthetic { cfg, out } => {
            let stats = match out {
                Some(path) => write_ntriples(&cfg, std::fs::File::create(path)?)?,
                None => write_ntriples(&cfg, io::stdout().lock())?,
            };
            let mut err = io::stderr().lock();
            writeln!(
                err,
                "tables={} columns={} terms={} table_edges={} column_edges={} triples={}",
                stats.tables,
                stats.columns,
                stats.terms,
                stats.table_edges,
                stats.column_edges,
                stats.triples
            )?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse(std::env::args().skip(1).collect()) {
        Ok(cmd) => match run(cmd) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("seedgen: {e}");
                ExitCode::FAILURE
            }
        },
        Err(msg) => {
            eprintln!("seedgen: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
