//! `govgraph policy ...` and `govgraph compliance ...`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};
use govgraph_graph::Scope;
use govgraph_policy::engine::{Engine, Request, Subject};
use govgraph_policy::report::Format;

use crate::commands::Context;

/// Policies: decide, compile, propose, approve, test, lint, enforce retention.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Ask the decision point: may this principal do this action on this resource, for
    /// this purpose? Prints permit or deny, the obligations and the deciding policies.
    Decide(DecideArgs),
    /// Compile policies written in YAML into ODRL 2.2 Turtle (printed, or written to --out).
    Compile(CompileArgs),
    /// Propose new versions of policies (YAML or Turtle). Stewards and admins propose; an
    /// admin approves. Proposed versions are not enforced.
    Propose(ProposeArgs),
    /// Approve (or with --reject, reject) a proposed version. Only an admin who did not
    /// propose it may decide; approving retires the version in force.
    Approve(ApproveArgs),
    /// A policy's versions and its change log.
    History(HistoryArgs),
    /// Run a file of decision cases; exits 1 when one fails.
    Test(TestArgs),
    /// Report conflicts between the approved policies (a permission and a prohibition that
    /// meet) and domain policies that reach beyond their domain.
    Lint(JsonArg),
    /// Find data past its retention: profile the timestamp columns of every dataset a
    /// retention policy covers, count the expired rows and open violations.
    Retention(RetentionArgs),
    /// Map a token (`tok_…`) back to the value it stands for, if the principal may see that
    /// column's values in clear.
    Detokenize(DetokenizeArgs),
}

#[derive(Debug, Args)]
pub struct DetokenizeArgs {
    /// The token.
    token: String,
    #[command(flatten)]
    principal: PrincipalArgs,
}

/// Who the principal is.
#[derive(Debug, Args)]
pub struct PrincipalArgs {
    /// Role (admin, steward, engineer, analyst, viewer); repeat for several.
    #[arg(long = "role", required = true)]
    roles: Vec<String>,
    /// A domain the principal belongs to (key); repeat for several.
    #[arg(long = "domain")]
    domains: Vec<String>,
    /// The principal's name, for the change log.
    #[arg(long = "as", default_value = "cli")]
    name: String,
}

impl PrincipalArgs {
    fn subject(&self) -> Subject {
        Subject {
            name: self.name.clone(),
            roles: self.roles.clone(),
            domains: self.domains.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    #[command(flatten)]
    principal: PrincipalArgs,
    /// The action: read, use, modify, delete, distribute...
    #[arg(long, default_value = "read")]
    action: String,
    /// The resource: an IRI, a dataset (bronze.customers) or a column (bronze.customers.email).
    #[arg(long)]
    resource: String,
    /// The purpose: a DPV purpose (dpv:Marketing, or words such as "customer care").
    #[arg(long)]
    purpose: Option<String>,
    /// Print the decision as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The YAML file.
    file: PathBuf,
    /// Write the Turtle here instead of printing it.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProposeArgs {
    /// The policies: YAML (.yaml, .yml) or Turtle.
    file: PathBuf,
    #[command(flatten)]
    principal: PrincipalArgs,
    /// Why, in words (kept in the change log).
    #[arg(long)]
    note: Option<String>,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The policy's key, such as pii-masking-for-analysts.
    key: String,
    /// The version to decide on.
    #[arg(value_name = "VERSION")]
    number: u32,
    /// Reject instead of approving.
    #[arg(long)]
    reject: bool,
    #[command(flatten)]
    principal: PrincipalArgs,
    /// Why, in words (kept in the change log).
    #[arg(long)]
    note: Option<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The policy's key.
    key: String,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The YAML file of cases.
    file: PathBuf,
    /// Print the outcomes as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// Judge ages as of this date (YYYY-MM-DD) instead of now.
    #[arg(long)]
    as_of: Option<String>,
    /// Resolve relative distribution paths of datasets no ingestion run located against
    /// this folder (for the demo: the repository's seeds folder).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Report only; store no violations.
    #[arg(long)]
    dry_run: bool,
    /// Print the findings as JSON.
    #[arg(long)]
    json: bool,
}

/// Compliance reports generated from the graph.
#[derive(Debug, Subcommand)]
pub enum ComplianceCommand {
    /// The GDPR Art. 30 record of processing activities: 30(1)(a)-(g) as controller and
    /// 30(2) as processor, each line with its datasets and columns, and the gaps.
    Gdpr(ReportArgs),
    /// The CCPA/CPRA disclosures: categories of personal information, sources, purposes,
    /// third parties, sold or shared, retention, and the gaps.
    Ccpa(ReportArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// json, csv, markdown or html.
    #[arg(long, default_value = "markdown")]
    format: String,
    /// Write to this file instead of printing.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn engine(ctx: &Context, store: govgraph_graph::GraphStore) -> Result<Engine> {
    let key = govgraph_policy::MaskKey::load_or_create(&ctx.data)?;
    Ok(Engine::new(Arc::new(store), key))
}

fn read(path: &PathBuf) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// `govgraph policy`.
pub fn policy(ctx: &Context, cmd: PolicyCommand) -> Result<ExitCode> {
    let all = Scope::all();
    match cmd {
        PolicyCommand::Decide(a) => {
            let engine = engine(ctx, ctx.open_for_reading()?)?;
            let request = Request {
                principal: a.principal.subject(),
                action: a.action,
                resource: a.resource,
                purpose: a.purpose,
            };
            let d = engine.decide(&all, &request)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&d)?);
            } else {
                println!("{:?}: {}", d.decision.effect, d.resource.iri);
                for r in &d.decision.reasons {
                    println!("  because {r}");
                }
                for o in &d.decision.obligations {
                    println!("  obligation: {}", serde_json::to_string(o)?);
                }
                for c in &d.decision.conflicts {
                    println!("  conflict: {}", c.reason);
                }
                for (p, purpose) in &d.decision.available_for {
                    println!("  would apply for purpose {purpose}: \"{}\"", p.title);
                }
            }
            Ok(if d.decision.permits() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            })
        }
        PolicyCommand::Compile(a) => {
            let scheme = govgraph_graph::IriScheme::new(&ctx.base_iri)?;
            let file = a.file.display().to_string();
            let policies = govgraph_policy::yaml::compile(&read(&a.file)?, &file, &scheme)?;
            let ttl = govgraph_policy::yaml::to_turtle(&policies, &scheme)?;
            match a.out {
                Some(out) => {
                    std::fs::write(&out, ttl)
                        .with_context(|| format!("writing {}", out.display()))?;
                    eprintln!("{} policies written to {}", policies.len(), out.display());
                }
                None => print!("{ttl}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Propose(a) => {
            let store = ctx.open()?;
            let file = a.file.display().to_string();
            let policies =
                govgraph_policy::yaml::read_policies(&read(&a.file)?, &file, store.scheme())?;
            let subject = a.principal.subject();
            for p in &policies {
                let done = govgraph_policy::lifecycle::propose(
                    &store,
                    &all,
                    p,
                    &subject,
                    a.note.as_deref(),
                )?;
                println!("proposed {} version {} ({})", p.key, done.version, done.iri);
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Approve(a) => {
            let store = ctx.open()?;
            let change = govgraph_policy::lifecycle::decide(
                &store,
                &all,
                &a.key,
                a.number,
                !a.reject,
                &a.principal.subject(),
                a.note.as_deref(),
            )?;
            println!("{} {} version {}", change.action, a.key, change.version);
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::History(a) => {
            let store = ctx.open_for_reading()?;
            let h = govgraph_policy::lifecycle::history(&store, &all, &a.key)?;
            if h.versions.is_empty() {
                bail!("no policy {}", a.key);
            }
            if a.json {
                println!("{}", serde_json::to_string_pretty(&h)?);
                return Ok(ExitCode::SUCCESS);
            }
            for v in &h.versions {
                println!("v{} {:<9} {} ({})", v.version, v.status, v.title, v.iri);
            }
            for c in &h.changes {
                println!(
                    "{} v{} {} by {}{}",
                    c.at,
                    c.version,
                    c.action,
                    c.actor,
                    c.note
                        .as_ref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Test(a) => {
            let engine = engine(ctx, ctx.open_for_reading()?)?;
            let file = a.file.display().to_string();
            let cases = govgraph_policy::cases::parse(&read(&a.file)?, &file)?;
            let outcomes = govgraph_policy::cases::run(&engine, &all, &cases)?;
            let failed = outcomes.iter().filter(|o| !o.passed).count();
            if a.json {
                println!("{}", serde_json::to_string_pretty(&outcomes)?);
            } else {
                for o in &outcomes {
                    if o.passed {
                        println!("ok    {}", o.name);
                    } else {
                        println!("FAIL  {}", o.name);
                        for f in &o.failures {
                            println!("        {f}");
                        }
                        for r in &o.reasons {
                            println!("        (because {r})");
                        }
                    }
                }
                println!(
                    "{} cases, {} passed, {failed} failed",
                    outcomes.len(),
                    outcomes.len() - failed
                );
            }
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        PolicyCommand::Lint(a) => {
            let store = ctx.open_for_reading()?;
            let set = govgraph_policy::PolicySet::load(&store, &all)?;
            let lint = govgraph_policy::lint::lint(&store, &all, &set)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&lint)?);
            } else {
                for c in &lint.conflicts {
                    println!(
                        "conflict: \"{}\" ({} {}) wins over \"{}\" ({} {}) on {} resources, such as {}: {}",
                        c.winner.title,
                        c.winner.scope,
                        c.winner.rule,
                        c.loser.title,
                        c.loser.scope,
                        c.loser.rule,
                        c.resources,
                        c.example,
                        c.reason
                    );
                }
                for o in &lint.out_of_domain {
                    println!(
                        "outside its domain: \"{}\" names {} (never applied there)",
                        o.policy.title,
                        o.resources.join(", ")
                    );
                }
                for (p, why) in &lint.unreadable {
                    println!("unreadable: {p}: {why}");
                }
                if lint.conflicts.is_empty()
                    && lint.out_of_domain.is_empty()
                    && lint.unreadable.is_empty()
                {
                    println!("no conflicts");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Detokenize(a) => {
            let engine = engine(ctx, ctx.open_for_reading()?)?;
            match engine.detokenize(&all, &a.principal.subject(), a.token.trim())? {
                Some((column, value)) => {
                    println!("{value}\t{column}");
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("no value you may see has this token");
                    Ok(ExitCode::from(3))
                }
            }
        }
        PolicyCommand::Retention(a) => {
            let store = if a.dry_run {
                ctx.open_for_reading()?
            } else {
                ctx.open()?
            };
            let as_of = match &a.as_of {
                Some(d) => Some(
                    govgraph_quality::rules::run::parse_timestamp(d)
                        .with_context(|| format!("--as-of {d:?}: expected YYYY-MM-DD"))?,
                ),
                None => None,
            };
            let set = govgraph_policy::PolicySet::load(&store, &all)?;
            let findings = govgraph_policy::retention::enforce(
                &store,
                &all,
                &set,
                &govgraph_policy::retention::RetentionOptions {
                    as_of,
                    root: a.root.clone(),
                    store: !a.dry_run,
                },
            )?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&findings)?);
            } else {
                for f in &findings {
                    println!(
                        "{:<9} {} ({}): {}",
                        f.status,
                        f.dataset.rsplit('/').next().unwrap_or_default(),
                        f.period,
                        f.message
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `govgraph compliance`.
pub fn compliance(ctx: &Context, cmd: ComplianceCommand) -> Result<ExitCode> {
    let store = ctx.open_for_reading()?;
    let all = Scope::all();
    let set = govgraph_policy::PolicySet::load(&store, &all)?;
    let (args, text) = match cmd {
        ComplianceCommand::Gdpr(a) => {
            let format = Format::parse(&a.format).with_context(|| {
                format!(
                    "--format {:?}: expected json, csv, markdown or html",
                    a.format
                )
            })?;
            let r = govgraph_policy::report::art30(&store, &all, &set)?;
            let t = govgraph_policy::report::render_art30(&r, format)?;
            (a, t)
        }
        ComplianceCommand::Ccpa(a) => {
            let format = Format::parse(&a.format).with_context(|| {
                format!(
                    "--format {:?}: expected json, csv, markdown or html",
                    a.format
                )
            })?;
            let r = govgraph_policy::report::ccpa(&store, &all, &set)?;
            let t = govgraph_policy::report::render_ccpa(&r, format)?;
            (a, t)
        }
    };
    match args.out {
        Some(out) => {
            std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
