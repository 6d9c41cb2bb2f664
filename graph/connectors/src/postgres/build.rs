//! From the catalog to the model: datasets, columns, constraints as quality rules, foreign
//! keys as `gg:references`, and view definitions as column lineage. Pure: no connection.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use govgraph_graph::iri::{ColumnKey, DatasetKey, IriScheme, slug};
use govgraph_graph::loader::Progress;
use govgraph_graph::model::{
    AssetRef, Column, Dataset, DatasetKind, Entity, LineageEdge, QualityRule, System,
};
use govgraph_graph::vocab::gg;
use govgraph_lineage::{Dialect, Options, Schema};
use oxigraph::model::Triple;

use super::Flavor;
use super::catalog::{Catalog, Constraint, ConstraintKind, RelKind, Relation, is_system_schema};

/// What the model builder needs besides the catalog.
#[derive(Debug)]
pub(super) struct Settings<'a> {
    /// The system key.
    pub system: &'a str,
    /// The password-free URL, for the system's description and warnings.
    pub location: &'a str,
    /// Schema patterns to harvest (all when empty).
    pub include: &'a [String],
    /// Schema patterns to leave out.
    pub exclude: &'a [String],
}

/// The model of a catalog.
#[derive(Debug, Default)]
pub(super) struct Built {
    /// The facts.
    pub triples: Vec<Triple>,
    /// Counts by what was counted.
    pub counts: BTreeMap<String, u64>,
    /// Views whose SQL could not be resolved completely, and the like.
    pub warnings: Vec<String>,
    /// The harvested relations (indexes into the catalog) with their dataset keys.
    pub harvested: Vec<(usize, DatasetKey)>,
}

impl Built {
    fn count(&mut self, what: &str, n: u64) {
        *self.counts.entry(what.to_owned()).or_default() += n;
    }
}

/// Whether `name` matches a glob `pattern` (`*` any run of characters, `?` one character).
pub(super) fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matching with backtracking to the last `*`.
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        match p.get(i) {
            Some('*') => {
                star = Some((i, j));
                i += 1;
            }
            Some(&c) if c == '?' || Some(&c) == n.get(j) => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((si, sj)) => {
                    i = si + 1;
                    j = sj + 1;
                    star = Some((si, sj + 1));
                }
                None => return false,
            },
        }
    }
    p.get(i..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// Whether a schema is harvested: not a system schema, matching an include pattern (when
/// there are any) and no exclude pattern.
pub(super) fn schema_selected(name: &str, include: &[String], exclude: &[String]) -> bool {
    !is_system_schema(name)
        && (include.is_empty() || include.iter().any(|p| glob(p, name)))
        && !exclude.iter().any(|p| glob(p, name))
}

/// The dataset key of a relation: its system and `schema.name` as the catalog spells them
/// (PostgreSQL stores unquoted names folded to lower case), slugged.
pub(super) fn dataset_key(system: &str, relation: &Relation) -> DatasetKey {
    DatasetKey::new(system, &relation.qualified())
}

/// Builds the model of the catalog's harvested relations.
pub(super) fn build(
    catalog: &Catalog,
    settings: &Settings<'_>,
    scheme: &IriScheme,
    progress: &dyn Progress,
) -> Built {
    let mut built = Built::default();
    let relations = &catalog.relations;
    let keys: HashMap<u32, DatasetKey> = relations
        .iter()
        .map(|r| (r.oid, dataset_key(settings.system, r)))
        .collect();
    built.harvested = relations
        .iter()
        .enumerate()
        .filter(|(_, r)| schema_selected(&r.schema, settings.include, settings.exclude))
        .filter_map(|(i, r)| keys.get(&r.oid).map(|k| (i, k.clone())))
        .collect();
    let harvested: HashSet<u32> = built
        .harvested
        .iter()
        .filter_map(|(i, _)| relations.get(*i).map(|r| r.oid))
        .collect();
    let mut by_relation: HashMap<u32, Vec<&Constraint>> = HashMap::new();
    for c in &catalog.constraints {
        by_relation.entry(c.relation).or_default().push(c);
    }

    let server = &catalog.server;
    System {
        key: slug(settings.system),
        title: server.database.clone(),
        platform: server.flavor.name().to_owned(),
        description: Some(format!(
            "{} database {} at {}: {}",
            server.flavor.title(),
            server.database,
            settings.location,
            server.version
        )),
    }
    .write(scheme, &mut built.triples);

    progress.phase(
        "postgres: modelling relations",
        Some(built.harvested.len() as u64),
    );
    let mut datasets: BTreeMap<DatasetKey, Dataset> = BTreeMap::new();
    let harvested_list = built.harvested.clone();
    for (index, key) in &harvested_list {
        let Some(relation) = relations.get(*index) else {
            continue;
        };
        let constraints = by_relation
            .get(&relation.oid)
            .map_or(&[][..], Vec::as_slice);
        let mut dataset = Dataset::new(key.clone(), dataset_kind(relation.kind), &relation.name);
        dataset.description = relation.comment.clone();
        dataset.definition_sql = relation.definition.clone();
        dataset.row_count = relation.rows;
        datasets.insert(key.clone(), dataset);
        write_columns(&mut built, scheme, relation, key, constraints);
        for constraint in constraints {
            write_constraint(
                &mut built, scheme, relations, &keys, relation, key, constraint,
            );
        }
        progress.advance(1);
    }
    progress.finish();

    write_lineage(
        &mut built,
        &mut datasets,
        catalog,
        settings,
        scheme,
        &harvested,
    );
    for dataset in datasets.values_mut() {
        dataset.derived_from.sort();
        dataset.derived_from.dedup();
        dataset.write(scheme, &mut built.triples);
    }
    built.count("datasets", datasets.len() as u64);
    built
}

fn dataset_kind(kind: RelKind) -> DatasetKind {
    match kind {
        RelKind::View => DatasetKind::View,
        RelKind::MaterializedView => DatasetKind::MaterializedView,
        RelKind::Table | RelKind::Partitioned | RelKind::Foreign => DatasetKind::Table,
    }
}

/// The names of a constraint's columns, in key order.
fn names(relation: &Relation, numbers: &[i16]) -> Vec<String> {
    numbers
        .iter()
        .filter_map(|n| relation.column(*n).map(|c| c.name.clone()))
        .collect()
}

fn write_columns(
    built: &mut Built,
    scheme: &IriScheme,
    relation: &Relation,
    key: &DatasetKey,
    constraints: &[&Constraint],
) {
    let primary: HashSet<i16> = constraints
        .iter()
        .filter(|c| c.kind == ConstraintKind::PrimaryKey)
        .flat_map(|c| c.columns.iter().copied())
        .collect();
    for (i, attribute) in relation.columns.iter().enumerate() {
        let pk = primary.contains(&attribute.num);
        let mut column = Column::new(key.clone(), &attribute.name);
        column.data_type = (!attribute.data_type.is_empty()).then(|| attribute.data_type.clone());
        column.ordinal = Some(u32::try_from(i + 1).unwrap_or(u32::MAX));
        column.required = Some(attribute.not_null || pk);
        column.primary_key = pk;
        column.description = attribute.comment.clone();
        column.write(scheme, &mut built.triples);
        built.count("columns", 1);
        if attribute.not_null && !pk {
            let rule = Rule::new(key, std::slice::from_ref(&attribute.name), "not_null");
            rule.write(scheme, &mut built.triples, "Completeness");
            built.count("rules", 1);
        }
    }
}

fn write_constraint(
    built: &mut Built,
    scheme: &IriScheme,
    relations: &[Relation],
    keys: &HashMap<u32, DatasetKey>,
    relation: &Relation,
    key: &DatasetKey,
    constraint: &Constraint,
) {
    let columns = names(relation, &constraint.columns);
    match constraint.kind {
        ConstraintKind::PrimaryKey => {
            let from = format!("From the primary key {} in the catalog.", constraint.name);
            let mut unique = Rule::new(key, &columns, "unique");
            unique.note = Some("primary key".to_owned());
            unique.description.clone_from(&from);
            unique.write(scheme, &mut built.triples, "Uniqueness");
            for c in &columns {
                let mut not_null = Rule::new(key, std::slice::from_ref(c), "not_null");
                not_null.note = Some("primary key".to_owned());
                not_null.description.clone_from(&from);
                not_null.write(scheme, &mut built.triples, "Completeness");
            }
            built.count("rules", 1 + columns.len() as u64);
        }
        ConstraintKind::Unique => {
            let mut unique = Rule::new(key, &columns, "unique");
            unique.description = format!(
                "From the unique constraint {} in the catalog.",
                constraint.name
            );
            unique.write(scheme, &mut built.triples, "Uniqueness");
            built.count("rules", 1);
        }
        ConstraintKind::ForeignKey => {
            let Some((target_oid, target_numbers)) = &constraint.references else {
                return;
            };
            let target = relations.iter().find(|r| r.oid == *target_oid);
            let (Some(target), Some(target_key)) = (target, keys.get(target_oid)) else {
                built.warnings.push(format!(
                    "{}: foreign key {} references a relation that is not in the catalog",
                    relation.qualified(),
                    constraint.name
                ));
                return;
            };
            let target_name = target.qualified();
            let to = names(target, target_numbers);
            let mut rule = Rule::new(key, &columns, "referential");
            rule.note = Some(format!("references {target_name}"));
            rule.description = format!("From the foreign key {} in the catalog.", constraint.name);
            rule.parameters =
                Some(serde_json::json!({ "references": target_name, "columns": to }).to_string());
            rule.write(scheme, &mut built.triples, "Consistency");
            built.count("rules", 1);
            for (from, to) in columns.iter().zip(&to) {
                built.triples.push(Triple::new(
                    scheme.column(&ColumnKey::new(key.clone(), from)),
                    gg::REFERENCES.into_owned(),
                    scheme.column(&ColumnKey::new(target_key.clone(), to)),
                ));
                built.count("relationships", 1);
            }
        }
        ConstraintKind::Check => {
            let Some(definition) = &constraint.definition else {
                return;
            };
            let expression = check_expression(definition);
            let mut rule = Rule::new(key, &columns, "custom_sql");
            rule.key = format!("{}.check.{}", key.name, constraint.name);
            rule.note = Some(format!("check {expression}"));
            rule.expression = Some(expression);
            rule.description = format!(
                "From the check constraint {} in the catalog.",
                constraint.name
            );
            rule.write(scheme, &mut built.triples, "Validity");
            built.count("rules", 1);
        }
    }
}

/// The boolean expression of `CHECK ((expr))` or `CHECK (expr) NOT VALID`.
pub(super) fn check_expression(definition: &str) -> String {
    let text = definition.trim();
    let text = text.strip_suffix("NOT VALID").map_or(text, str::trim_end);
    let text = text.strip_suffix("NO INHERIT").map_or(text, str::trim_end);
    let text = text.strip_prefix("CHECK").map_or(text, str::trim_start);
    let mut inner = text;
    // Peel the parentheses that wrap the whole expression.
    while let Some(stripped) = inner.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        if !balanced(stripped) {
            break;
        }
        inner = stripped.trim();
    }
    inner.to_owned()
}

/// Whether the parentheses of `text` (outside quotes) balance without going negative.
fn balanced(text: &str) -> bool {
    let mut depth = 0i64;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && quote.is_none()
}

/// A constraint as a quality rule, keyed like the SQL DDL ingester keys it, so that both
/// meet on the same rule.
struct Rule<'a> {
    key: String,
    table: &'a DatasetKey,
    columns: &'a [String],
    rule_type: &'static str,
    note: Option<String>,
    parameters: Option<String>,
    expression: Option<String>,
    description: String,
}

impl<'a> Rule<'a> {
    fn new(table: &'a DatasetKey, columns: &'a [String], rule_type: &'static str) -> Self {
        let key = if columns.is_empty() {
            format!("{}.{rule_type}", table.name)
        } else {
            format!(
                "{}.{}.{}",
                table.name,
                columns.join("-"),
                rule_type.replace('_', "-")
            )
        };
        Self {
            key,
            table,
            columns,
            rule_type,
            note: None,
            parameters: None,
            expression: None,
            description: "From a NOT NULL column in the catalog.".to_owned(),
        }
    }

    fn write(self, scheme: &IriScheme, out: &mut Vec<Triple>, dimension: &str) {
        let applies_to = if self.columns.is_empty() {
            vec![AssetRef::Dataset(self.table.clone())]
        } else {
            self.columns
                .iter()
                .map(|c| AssetRef::Column(ColumnKey::new(self.table.clone(), c)))
                .collect()
        };
        let what = if self.columns.is_empty() {
            self.table.name.clone()
        } else {
            format!("{}.{}", self.table.name, self.columns.join(", "))
        };
        let note = self.note.clone().unwrap_or_default();
        let title = match self.rule_type {
            "not_null" => format!("{what} is never null"),
            "unique" => format!("{what} is unique"),
            "referential" => format!("{what} {note}"),
            _ => format!("{what}: {note}"),
        };
        QualityRule {
            key: self.key,
            title,
            description: Some(self.description),
            rule_type: self.rule_type.to_owned(),
            applies_to,
            parameters: self.parameters,
            expression: self.expression,
            dimension: Some(dimension.to_owned()),
            severity: "error".to_owned(),
            owner: None,
        }
        .write(scheme, out);
    }
}

/// Runs every harvested view's definition through the lineage engine, resolved against the
/// harvested relations, and writes column edges and table-level `prov:wasDerivedFrom`.
fn write_lineage(
    built: &mut Built,
    datasets: &mut BTreeMap<DatasetKey, Dataset>,
    catalog: &Catalog,
    settings: &Settings<'_>,
    scheme: &IriScheme,
    harvested: &HashSet<u32>,
) {
    let dialect = match catalog.server.flavor {
        Flavor::Postgres => Dialect::Postgres,
        Flavor::Redshift => Dialect::Redshift,
    };
    let mut schema = Schema::new();
    let mut known: HashMap<String, DatasetKey> = HashMap::new();
    for relation in catalog
        .relations
        .iter()
        .filter(|r| harvested.contains(&r.oid))
    {
        let columns: Vec<(&str, &str)> = relation
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.data_type.as_str()))
            .collect();
        schema.add_table(&relation.qualified(), &columns);
        known.insert(relation.qualified(), dataset_key(settings.system, relation));
    }
    let options = Options {
        dialect,
        default_database: None,
        default_schema: None,
    };
    for relation in catalog
        .relations
        .iter()
        .filter(|r| harvested.contains(&r.oid))
    {
        let Some(definition) = &relation.definition else {
            continue;
        };
        let target_key = dataset_key(settings.system, relation);
        let name = relation.qualified();
        let analysis = govgraph_lineage::analyze(definition, &schema, &options);
        let mut upstream = BTreeSet::new();
        for statement in &analysis.statements {
            if let Some(e) = &statement.error {
                built.warnings.push(format!(
                    "{}: {name}: the view's SQL could not be read ({}:{}: {})",
                    settings.location, e.line, e.column, e.message
                ));
                continue;
            }
            for w in &statement.warnings {
                built
                    .warnings
                    .push(format!("{}: {name}: {}", settings.location, w.message));
            }
            for (output, lineage) in &statement.columns {
                for source in &lineage.sources {
                    let Some(source_key) = known.get(&source.table) else {
                        continue;
                    };
                    upstream.insert(source_key.clone());
                    LineageEdge {
                        target: ColumnKey::new(target_key.clone(), output),
                        source: ColumnKey::new(source_key.clone(), &source.column),
                        transformation: source.kind,
                        subtype: source.subtype,
                        description: lineage.expression.clone(),
                        masking: false,
                        job: None,
                    }
                    .write(scheme, &mut built.triples);
                    built.count("lineage_edges", 1);
                }
            }
            for source in &statement.dataset_sources {
                if let Some(k) = known.get(&source.table) {
                    upstream.insert(k.clone());
                }
            }
        }
        if let Some(dataset) = datasets.get_mut(&target_key) {
            dataset
                .derived_from
                .extend(upstream.into_iter().filter(|k| *k != target_key));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_names() {
        assert!(glob("sales*", "sales_eu"));
        assert!(glob("*_tmp", "x_tmp"));
        assert!(!glob("*_tmp", "x_tmp2"));
        assert!(glob("s?les", "sales"));
        assert!(glob("*", ""));
        assert!(!glob("a", "A"));
        assert!(glob("a*b*c", "aXbYbZc"));
        assert!(schema_selected("sales", &[], &[]));
        assert!(!schema_selected("pg_catalog", &[], &[]));
        assert!(!schema_selected("sales", &["mart*".into()], &[]));
        assert!(!schema_selected(
            "mart_tmp",
            &["mart*".into()],
            &["*_tmp".into()]
        ));
    }

    #[test]
    fn check_definitions_lose_their_wrapping() {
        assert_eq!(
            check_expression("CHECK ((amount >= (0)::numeric))"),
            "amount >= (0)::numeric"
        );
        assert_eq!(
            check_expression("CHECK ((a > 0) AND (b > 0)) NOT VALID"),
            "(a > 0) AND (b > 0)"
        );
        assert_eq!(check_expression("CHECK ((x = ')'::text))"), "x = ')'::text");
    }

    proptest::proptest! {
        #[test]
        fn globs_and_checks_never_panic(p in ".{0,12}", n in ".{0,12}") {
            let _ = glob(&p, &n);
            let _ = check_expression(&n);
        }

        #[test]
        fn a_star_matches_everything(n in ".{0,20}") {
            proptest::prop_assert!(glob("*", &n));
            let (pattern, name) = (format!("{n}*"), format!("{n}x"));
            proptest::prop_assert!(glob(&pattern, &name));
        }
    }
}
