//! Ingesting SQL: DDL into datasets, columns, constraints-as-rules and relationships; views,
//! CREATE TABLE AS and INSERT ... SELECT into column lineage.
//!
//! Everything a set of files yields is written in one atomic, validated load, one source
//! (named graph) per file. A statement that does not parse fails the ingest with its file,
//! line and column, and nothing is stored.

use std::collections::{BTreeMap, HashMap};

use govgraph_lineage::{Analysis, Dialect, Options, Schema, split_statements};
use oxigraph::io::RdfFormat;
use oxigraph::model::{Term, Triple};
use serde::Serialize;
use sqlparser::ast::{ColumnOption, CommentObject, ObjectName, Statement, TableConstraint};
use sqlparser::parser::Parser;

use crate::error::{Error, Result};
use crate::iri::{ColumnKey, DatasetKey, IriScheme};
use crate::loader::{LoadOptions, LoadReport, LoadSource, Progress};
use crate::model::{
    AssetRef, Column, Dataset, DatasetKind, Entity, LineageEdge, QualityRule, System,
};
use crate::store::GraphStore;
use crate::vocab::gg;

/// Settings of a SQL ingest.
#[derive(Debug, Clone)]
pub struct SqlIngestOptions {
    /// The SQL dialect.
    pub dialect: Dialect,
    /// The system the tables live in (its key).
    pub system: String,
    /// The schema of unqualified table names.
    pub default_schema: Option<String>,
}

/// One SQL file to ingest.
#[derive(Debug, Clone)]
pub struct SqlFile {
    /// Where it comes from (a file name); names its source graph `sql:{location}`.
    pub location: String,
    /// Its text.
    pub text: String,
}

/// What an ingest stored.
#[derive(Debug, Clone, Serialize)]
pub struct SqlIngestReport {
    /// Tables and views.
    pub datasets: usize,
    /// Columns.
    pub columns: usize,
    /// Quality rules made from constraints.
    pub rules: usize,
    /// Foreign-key relationships.
    pub relationships: usize,
    /// Column-lineage edges.
    pub lineage_edges: usize,
    /// Resolution warnings from the lineage engine, as `file:line: message`.
    pub warnings: Vec<String>,
    /// The load.
    pub load: LoadReport,
}

#[derive(Debug, Default)]
struct ColumnDef {
    name: String,
    data_type: String,
    not_null: bool,
    primary_key: bool,
    comment: Option<String>,
}

#[derive(Debug)]
struct TableDef {
    file: usize,
    kind: DatasetKind,
    columns: Vec<ColumnDef>,
    comment: Option<String>,
    definition: Option<String>,
    constraints: Vec<TableConstraint>,
}

/// The qualified name of a table as the lineage engine reports it: identifiers folded by the
/// dialect's rules, joined with dots.
fn qualified(name: &ObjectName, dialect: Dialect, default_schema: Option<&str>) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident())
        .map(|i| dialect.normalize(&i.value, i.quote_style.is_some()))
        .collect();
    match (parts.len(), default_schema) {
        (1, Some(s)) => format!("{}.{}", dialect.normalize(s, false), parts[0]),
        _ => parts.join("."),
    }
}

fn ident_list(columns: &[sqlparser::ast::IndexColumn]) -> Vec<String> {
    columns
        .iter()
        .map(|c| c.column.expr.to_string().trim_matches('"').to_owned())
        .collect()
}

/// Whether `subject` has a type in a graph other than `own`: another source describes it.
fn described_elsewhere(
    store: &GraphStore,
    subject: &oxigraph::model::NamedNode,
    own: &[oxigraph::model::NamedNode],
) -> Result<bool> {
    for q in store.raw().quads_for_pattern(
        Some(subject.as_ref().into()),
        Some(crate::vocab::rdf::TYPE),
        None,
        None,
    ) {
        if let oxigraph::model::GraphName::NamedNode(g) = q?.graph_name
            && !own.contains(&g)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The catalog's tables and columns as a lineage schema, keyed by `dct:identifier`, with the
/// dataset each identifier names.
pub fn schema_from_store(store: &GraphStore) -> Result<(Schema, HashMap<String, DatasetKey>)> {
    let rows = store.select(
        "SELECT ?d ?id ?name ?type ?ord WHERE { ?d a dcat:Dataset ; dct:identifier ?id .
           ?c gg:columnOf ?d ; csvw:name ?name . OPTIONAL { ?c gg:dataType ?type } OPTIONAL { ?c gg:ordinal ?ord } }",
    )?;
    let lit = |t: Option<&Term>| match t {
        Some(Term::Literal(l)) => l.value().to_owned(),
        _ => String::new(),
    };
    let mut tables: BTreeMap<String, Vec<(i64, String, String)>> = BTreeMap::new();
    let mut keys = HashMap::new();
    for row in &rows {
        let id = lit(row.get("id"));
        if let Some(Term::NamedNode(d)) = row.get("d")
            && let Ok(key) = store.scheme().dataset_key_of(d.as_str(), "dataset")
        {
            keys.insert(id.clone(), key);
        }
        let ord = lit(row.get("ord")).parse().unwrap_or(i64::MAX);
        tables
            .entry(id)
            .or_default()
            .push((ord, lit(row.get("name")), lit(row.get("type"))));
    }
    let mut schema = Schema::new();
    for (id, mut cols) in tables {
        cols.sort();
        cols.dedup_by(|a, b| a.1 == b.1);
        let pairs: Vec<(&str, &str)> = cols
            .iter()
            .map(|(_, n, t)| (n.as_str(), t.as_str()))
            .collect();
        schema.add_table(&id, &pairs);
    }
    Ok((schema, keys))
}

fn parse_error(file: &str, analysis: &Analysis) -> Option<Error> {
    analysis.statements.iter().find_map(|st| {
        st.error.as_ref().map(|e| Error::Parse {
            location: file.to_owned(),
            line: Some(e.line),
            column: Some(e.column),
            message: e.message.clone(),
        })
    })
}

/// Ingests SQL files; see the module documentation.
pub fn ingest_sql(
    store: &GraphStore,
    files: &[SqlFile],
    options: &SqlIngestOptions,
    progress: &dyn Progress,
) -> Result<SqlIngestReport> {
    let dialect = options.dialect;
    let parser_dialect = dialect.parser_dialect();
    let default_schema = options.default_schema.as_deref();
    let mut tables: BTreeMap<String, TableDef> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut comments: Vec<(CommentObject, String, Option<String>)> = Vec::new();
    let mut added: Vec<(String, TableConstraint)> = Vec::new();

    // 1. Read the DDL.
    for (index, file) in files.iter().enumerate() {
        for piece in split_statements(&file.text, dialect) {
            if piece.is_empty() {
                continue;
            }
            let text = &file.text[piece.text.clone()];
            let statements = match Parser::parse_sql(&*parser_dialect, text) {
                Ok(s) => s,
                // The lineage pass below reports the error with its position in the file.
                Err(_) => continue,
            };
            for statement in statements {
                match statement {
                    Statement::CreateTable(ct) => {
                        let name = qualified(&ct.name, dialect, default_schema);
                        let columns = ct
                            .columns
                            .iter()
                            .map(|c| {
                                let mut def = ColumnDef {
                                    name: dialect
                                        .normalize(&c.name.value, c.name.quote_style.is_some()),
                                    data_type: c.data_type.to_string(),
                                    ..ColumnDef::default()
                                };
                                for option in &c.options {
                                    match &option.option {
                                        ColumnOption::NotNull => def.not_null = true,
                                        ColumnOption::PrimaryKey(_) => def.primary_key = true,
                                        ColumnOption::Comment(text) => {
                                            def.comment = Some(text.clone())
                                        }
                                        _ => {}
                                    }
                                }
                                def
                            })
                            .collect();
                        let mut constraints = ct.constraints.clone();
                        for c in &ct.columns {
                            let column = sqlparser::ast::Ident::new(
                                dialect.normalize(&c.name.value, c.name.quote_style.is_some()),
                            );
                            for option in &c.options {
                                match &option.option {
                                    ColumnOption::PrimaryKey(p) => {
                                        let mut p = p.clone();
                                        p.columns = vec![column.clone().into()];
                                        constraints.push(TableConstraint::PrimaryKey(p));
                                    }
                                    ColumnOption::Unique(u) => {
                                        let mut u = u.clone();
                                        u.columns = vec![column.clone().into()];
                                        constraints.push(TableConstraint::Unique(u));
                                    }
                                    ColumnOption::ForeignKey(fk) => {
                                        let mut fk = fk.clone();
                                        fk.columns = vec![column.clone()];
                                        constraints.push(TableConstraint::ForeignKey(fk));
                                    }
                                    ColumnOption::Check(check) => {
                                        constraints.push(TableConstraint::Check(check.clone()))
                                    }
                                    _ => {}
                                }
                            }
                        }
                        let kind = DatasetKind::Table;
                        let definition = ct.query.as_ref().map(|_| text.to_owned());
                        let comment = ct.comment.as_ref().map(|c| match c {
                            sqlparser::ast::CommentDef::WithEq(s)
                            | sqlparser::ast::CommentDef::WithoutEq(s) => s.clone(),
                        });
                        if !tables.contains_key(&name) {
                            order.push(name.clone());
                        }
                        tables.insert(
                            name,
                            TableDef {
                                file: index,
                                kind,
                                columns,
                                comment,
                                definition,
                                constraints,
                            },
                        );
                    }
                    Statement::CreateView(view) => {
                        let name = qualified(&view.name, dialect, default_schema);
                        let kind = if view.materialized {
                            DatasetKind::MaterializedView
                        } else {
                            DatasetKind::View
                        };
                        if !tables.contains_key(&name) {
                            order.push(name.clone());
                        }
                        tables.insert(
                            name,
                            TableDef {
                                file: index,
                                kind,
                                columns: Vec::new(),
                                comment: None,
                                definition: Some(text.to_owned()),
                                constraints: Vec::new(),
                            },
                        );
                    }
                    Statement::Comment {
                        object_type,
                        object_name,
                        comment,
                        ..
                    } => {
                        comments.push((
                            object_type,
                            qualified(&object_name, dialect, None),
                            comment,
                        ));
                    }
                    Statement::AlterTable(alter) => {
                        let name = qualified(&alter.name, dialect, default_schema);
                        for op in &alter.operations {
                            if let sqlparser::ast::AlterTableOperation::AddConstraint {
                                constraint,
                                ..
                            } = op
                            {
                                added.push((name.clone(), constraint.clone()));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    for (table, constraint) in added {
        if let Some(t) = tables.get_mut(&table) {
            t.constraints.push(constraint);
        }
    }

    // 2. Lineage, resolved through the graph's tables and this DDL. A table that another
    // source already describes (a catalog, a harvest) keeps its identity and description:
    // this SQL adds its lineage and constraint rules, not a second description.
    let scheme = store.scheme();
    let own_graphs = files
        .iter()
        .map(|f| crate::loader::source_graph(&format!("sql:{}", f.location)))
        .collect::<Result<Vec<_>>>()?;
    let (mut schema, mut known) = schema_from_store(store)?;
    let mut external = std::collections::HashSet::new();
    for name in &order {
        if let Some(k) = known.get(name)
            && described_elsewhere(store, &scheme.dataset(k), &own_graphs)?
        {
            external.insert(name.clone());
        }
    }
    for name in &order {
        let t = &tables[name];
        if !t.columns.is_empty() {
            let pairs: Vec<(&str, &str)> = t
                .columns
                .iter()
                .map(|c| (c.name.as_str(), c.data_type.as_str()))
                .collect();
            schema.add_table(name, &pairs);
        }
        if !external.contains(name) {
            known.insert(name.clone(), DatasetKey::new(&options.system, name));
        }
    }
    let lineage_options = Options {
        dialect,
        default_database: None,
        default_schema: options.default_schema.clone(),
    };
    let mut analyses = Vec::new();
    let mut warnings = Vec::new();
    for file in files {
        let analysis = govgraph_lineage::analyze(&file.text, &schema, &lineage_options);
        if let Some(e) = parse_error(&file.location, &analysis) {
            return Err(e);
        }
        for st in &analysis.statements {
            for w in &st.warnings {
                warnings.push(format!(
                    "{}:{}: {}",
                    file.location,
                    w.line.unwrap_or(st.span.start_line),
                    w.message
                ));
            }
        }
        analyses.push(analysis);
    }

    // 3. The model.
    let system = System {
        key: crate::iri::slug(&options.system),
        title: options.system.clone(),
        platform: dialect.name().to_owned(),
        description: None,
    };
    let mut per_file: Vec<Vec<Triple>> = vec![Vec::new(); files.len()];
    // A system another source already describes keeps that description.
    let system_known = described_elsewhere(store, &system.iri(scheme), &own_graphs)?;
    if let (false, Some(first)) = (system_known, per_file.first_mut()) {
        system.write(scheme, first);
    }
    let mut report = (0usize, 0usize, 0usize, 0usize, 0usize);
    let mut datasets: BTreeMap<String, Dataset> = BTreeMap::new();
    for name in &order {
        let t = &tables[name];
        let is_external = external.contains(name);
        let key = known
            .get(name)
            .cloned()
            .unwrap_or_else(|| DatasetKey::new(&options.system, name));
        if !is_external {
            let mut d = Dataset::new(key.clone(), t.kind, name.rsplit('.').next().unwrap_or(name));
            d.description = t.comment.clone();
            d.definition_sql = t.definition.clone();
            datasets.insert(name.clone(), d);
        }
        let out = &mut per_file[t.file];
        for (i, c) in t.columns.iter().enumerate() {
            let pk = c.primary_key
                || t.constraints.iter().any(|k| matches!(k, TableConstraint::PrimaryKey(p) if ident_list(&p.columns).iter().any(|n| dialect.normalize(n, false) == c.name)));
            let mut col = Column::new(key.clone(), &c.name);
            col.data_type = (!c.data_type.is_empty()).then(|| c.data_type.clone());
            col.ordinal = Some(u32::try_from(i + 1).unwrap_or(u32::MAX));
            col.required = Some(c.not_null || pk);
            col.primary_key = pk;
            col.description = c.comment.clone();
            if !is_external {
                col.write(scheme, out);
                report.1 += 1;
            }
            if c.not_null && !pk {
                rule(
                    scheme,
                    out,
                    &key,
                    std::slice::from_ref(&c.name),
                    "not_null",
                    None,
                    None,
                    "Completeness",
                );
                report.2 += 1;
            }
        }
        for k in &t.constraints {
            match k {
                TableConstraint::PrimaryKey(p) => {
                    let cols: Vec<String> = ident_list(&p.columns)
                        .iter()
                        .map(|n| dialect.normalize(n, false))
                        .collect();
                    rule(
                        scheme,
                        out,
                        &key,
                        &cols,
                        "unique",
                        Some("primary key".into()),
                        None,
                        "Uniqueness",
                    );
                    for c in &cols {
                        rule(
                            scheme,
                            out,
                            &key,
                            std::slice::from_ref(c),
                            "not_null",
                            Some("primary key".into()),
                            None,
                            "Completeness",
                        );
                    }
                    report.2 += 1 + cols.len();
                }
                TableConstraint::Unique(u) => {
                    let cols: Vec<String> = ident_list(&u.columns)
                        .iter()
                        .map(|n| dialect.normalize(n, false))
                        .collect();
                    rule(scheme, out, &key, &cols, "unique", None, None, "Uniqueness");
                    report.2 += 1;
                }
                TableConstraint::ForeignKey(fk) => {
                    let target = qualified(&fk.foreign_table, dialect, default_schema);
                    let target_key = known
                        .get(&target)
                        .cloned()
                        .unwrap_or_else(|| DatasetKey::new(&options.system, &target));
                    let from: Vec<String> = fk
                        .columns
                        .iter()
                        .map(|i| dialect.normalize(&i.value, i.quote_style.is_some()))
                        .collect();
                    let to: Vec<String> = fk
                        .referred_columns
                        .iter()
                        .map(|i| dialect.normalize(&i.value, i.quote_style.is_some()))
                        .collect();
                    let params =
                        serde_json::json!({ "references": target, "columns": to }).to_string();
                    rule(
                        scheme,
                        out,
                        &key,
                        &from,
                        "referential",
                        Some(format!("references {target}")),
                        Some(params),
                        "Consistency",
                    );
                    report.2 += 1;
                    for (a, b) in from.iter().zip(&to) {
                        out.push(Triple::new(
                            scheme.column(&ColumnKey::new(key.clone(), a)),
                            gg::REFERENCES.into_owned(),
                            scheme.column(&ColumnKey::new(target_key.clone(), b)),
                        ));
                        report.3 += 1;
                    }
                }
                TableConstraint::Check(check) => {
                    let text = check.expr.to_string();
                    rule(
                        scheme,
                        out,
                        &key,
                        &[],
                        "custom_sql",
                        Some(format!("check {text}")),
                        None,
                        "Validity",
                    );
                    report.2 += 1;
                }
                _ => {}
            }
        }
    }
    for (object_type, name, comment) in comments {
        let Some(comment) = comment else { continue };
        let triple = match object_type {
            CommentObject::Table | CommentObject::View => {
                let name = if name.contains('.') {
                    name
                } else {
                    qualified_default(&name, default_schema, dialect)
                };
                known.get(&name).map(|k| {
                    Triple::new(
                        scheme.dataset(k),
                        crate::vocab::dct::DESCRIPTION.into_owned(),
                        oxigraph::model::Literal::new_simple_literal(&comment),
                    )
                })
            }
            CommentObject::Column => name.rsplit_once('.').and_then(|(table, column)| {
                let table = if table.contains('.') {
                    table.to_owned()
                } else {
                    qualified_default(table, default_schema, dialect)
                };
                known.get(&table).map(|k| {
                    Triple::new(
                        scheme.column(&ColumnKey::new(k.clone(), column)),
                        crate::vocab::dct::DESCRIPTION.into_owned(),
                        oxigraph::model::Literal::new_simple_literal(&comment),
                    )
                })
            }),
            _ => None,
        };
        if let (Some(t), Some(out)) = (triple, per_file.first_mut()) {
            out.push(t);
        }
    }
    for (index, analysis) in analyses.iter().enumerate() {
        for st in &analysis.statements {
            let Some(target) = &st.target else { continue };
            let target_key = known
                .get(target)
                .cloned()
                .unwrap_or_else(|| DatasetKey::new(&options.system, target));
            let job = format!(
                "{}.{}",
                crate::iri::slug(&target_key.name),
                st.span.start_line
            );
            let mut upstream = std::collections::BTreeSet::new();
            for (out_col, lineage) in &st.columns {
                for s in &lineage.sources {
                    let Some(source_key) = known.get(&s.table).cloned() else {
                        continue;
                    };
                    upstream.insert(source_key.clone());
                    let edge = LineageEdge {
                        target: ColumnKey::new(target_key.clone(), out_col),
                        source: ColumnKey::new(source_key, &s.column),
                        transformation: s.kind,
                        subtype: s.subtype,
                        description: lineage.expression.clone(),
                        masking: false,
                        job: Some(job.clone()),
                    };
                    edge.write(scheme, &mut per_file[index]);
                    report.4 += 1;
                }
            }
            for s in &st.dataset_sources {
                if let Some(k) = known.get(&s.table) {
                    upstream.insert(k.clone());
                }
            }
            if let Some(d) = datasets.get_mut(target) {
                d.derived_from
                    .extend(upstream.into_iter().filter(|k| *k != target_key));
                if d.kind != DatasetKind::Table && d.definition_sql.is_none() {
                    d.definition_sql = Some(st.sql.clone());
                }
            } else {
                for k in upstream.into_iter().filter(|k| *k != target_key) {
                    per_file[index].push(Triple::new(
                        scheme.dataset(&target_key),
                        crate::vocab::prov::WAS_DERIVED_FROM.into_owned(),
                        scheme.dataset(&k),
                    ));
                }
            }
            // The statement that makes the lineage, as a job.
            per_file[index].push(Triple::new(
                scheme.entity(crate::iri::Kind::Job, &job),
                crate::vocab::rdf::TYPE.into_owned(),
                gg::JOB.into_owned(),
            ));
            per_file[index].push(Triple::new(
                scheme.entity(crate::iri::Kind::Job, &job),
                gg::DEFINITION_SQL.into_owned(),
                oxigraph::model::Literal::new_simple_literal(&st.sql),
            ));
        }
    }
    for (name, mut d) in datasets {
        d.derived_from.sort();
        d.derived_from.dedup();
        let file = tables[&name].file;
        d.write(scheme, &mut per_file[file]);
        report.0 += 1;
    }

    // 4. One atomic, validated load.
    let sources = files
        .iter()
        .zip(per_file)
        .map(|(f, triples)| {
            let mut bytes = Vec::new();
            for t in triples {
                bytes.extend_from_slice(t.to_string().as_bytes());
                bytes.extend_from_slice(b" .\n");
            }
            LoadSource::from_bytes(
                &format!("sql:{}", f.location),
                &f.location,
                RdfFormat::NTriples,
                bytes,
            )
        })
        .collect();
    let load = store.load(sources, &LoadOptions::default(), progress)?;
    Ok(SqlIngestReport {
        datasets: report.0,
        columns: report.1,
        rules: report.2,
        relationships: report.3,
        lineage_edges: report.4,
        warnings,
        load,
    })
}

fn qualified_default(name: &str, default_schema: Option<&str>, dialect: Dialect) -> String {
    match default_schema {
        Some(s) => format!("{}.{name}", dialect.normalize(s, false)),
        None => name.to_owned(),
    }
}

fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn rule(
    scheme: &IriScheme,
    out: &mut Vec<Triple>,
    table: &DatasetKey,
    columns: &[String],
    rule_type: &str,
    note: Option<String>,
    parameters: Option<String>,
    dimension: &str,
) {
    let key = match (rule_type, columns) {
        ("custom_sql", _) => format!(
            "{}.check.{}",
            table.name,
            short_hash(note.as_deref().unwrap_or(""))
        ),
        (_, []) => format!("{}.{rule_type}", table.name),
        _ => format!(
            "{}.{}.{}",
            table.name,
            columns.join("-"),
            rule_type.replace('_', "-")
        ),
    };
    let applies_to = if columns.is_empty() {
        vec![AssetRef::Dataset(table.clone())]
    } else {
        columns
            .iter()
            .map(|c| AssetRef::Column(ColumnKey::new(table.clone(), c)))
            .collect()
    };
    let what = if columns.is_empty() {
        table.name.clone()
    } else {
        format!("{}.{}", table.name, columns.join(", "))
    };
    let title = match rule_type {
        "not_null" => format!("{what} is never null"),
        "unique" => format!("{what} is unique"),
        "referential" => format!("{what} {}", note.clone().unwrap_or_default()),
        _ => format!("{what}: {}", note.clone().unwrap_or_default()),
    };
    let expression = (rule_type == "custom_sql")
        .then(|| {
            note.as_deref()
                .and_then(|n| n.strip_prefix("check "))
                .map(str::to_owned)
        })
        .flatten();
    QualityRule {
        key,
        title,
        description: note.map(|n| format!("From the {n} constraint in the DDL.")),
        rule_type: rule_type.to_owned(),
        applies_to,
        parameters,
        expression,
        dimension: Some(dimension.to_owned()),
        severity: "error".to_owned(),
        owner: None,
    }
    .write(scheme, out);
}
