//! The executor and its specialists: one function per intent, each composing an answer from
//! typed look-ups. Catalog text (descriptions, definitions) is quoted as data, never read as
//! instructions.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use govgraph_graph::oxigraph::model::NamedNode;
use govgraph_graph::traverse::{self, Direction, Level, Traversal};
use govgraph_search::{EntityKind, SearchIndex, SearchRequest};

use super::facts::{
    EntityRef, Filters, columns_of, dataset_pii, datasets_of, duration_words, filter, people_of,
    pii_tagged, q, refs, restricted_tagged,
};
use super::guard::Role;
use super::intent::{Intent, Reading};
use super::kb::{Kb, ToolCall, boolean, number, text, values};
use super::lexicon::{Entry, Kind, Lexicon};
use super::text::{count_of, has_any, join_names};
use crate::error::Result;

/// What a specialist found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The answer in words.
    pub text: String,
    /// The entities it is about, in the order the text gives them.
    pub entities: Vec<EntityRef>,
    /// The number it gives, for counts and statistics.
    pub value: Option<f64>,
    /// Set when the question must be refused, with the reason.
    pub refused: Option<String>,
    /// Set when the question is ambiguous: the choices.
    pub choices: Vec<EntityRef>,
}

/// Everything a specialist needs.
#[allow(missing_debug_implementations)]
pub struct Ctx<'a> {
    /// The policy decision point, when the asker has one.
    pub policy: Option<&'a super::guard::PolicyCheck<'a>>,
    pub kb: &'a Kb<'a>,
    pub lex: &'a Lexicon,
    pub words: Vec<String>,
    pub reading: Reading,
    /// Linked entities, ambiguous mentions resolved by the intent's preferences later.
    pub mentions: Vec<Vec<Entry>>,
    /// Entities resolved from dotted references and column words: unambiguous.
    pub exact: Vec<Entry>,
    /// For lineage: the mentions in the result part of the question.
    pub target_mentions: Vec<Vec<Entry>>,
    pub filters: Filters,
    pub role: Role,
    pub search: Option<&'a SearchIndex>,
    /// Set for follow-ups: the previous answer's entities.
    pub previous: Vec<EntityRef>,
}

const ASSETS: &[Kind] = &[Kind::Dataset, Kind::Column, Kind::Dashboard];

impl Ctx<'_> {
    fn has(&self, phrases: &[&str]) -> bool {
        has_any(&self.words, phrases)
    }

    /// The subjects of the preferred kinds: exact references first, then each mention's
    /// entries of the first preferred kind it has.
    fn subjects(&self, prefer: &[Kind]) -> Vec<Entry> {
        let mut out: Vec<Entry> = self
            .exact
            .iter()
            .filter(|e| prefer.contains(&e.kind))
            .cloned()
            .collect();
        for m in &self.mentions {
            for k in prefer {
                let of: Vec<&Entry> = m.iter().filter(|e| e.kind == *k).collect();
                if !of.is_empty() {
                    for e in of {
                        if !out.iter().any(|o| o.iri == e.iri) {
                            out.push(e.clone());
                        }
                    }
                    break;
                }
            }
        }
        out
    }

    /// Like `subjects`, but only mentions whose every entry is of the kind.
    fn only(&self, kind: Kind) -> Vec<Entry> {
        let mut out: Vec<Entry> = self
            .exact
            .iter()
            .filter(|e| e.kind == kind)
            .cloned()
            .collect();
        for m in &self.mentions {
            if !m.is_empty() && m.iter().all(|e| e.kind == kind) {
                for e in m {
                    if !out.iter().any(|o| o.iri == e.iri) {
                        out.push(e.clone());
                    }
                }
            }
        }
        out
    }

    fn previous_of(&self, kinds: &[Kind]) -> Vec<EntityRef> {
        self.previous
            .iter()
            .filter(|e| kinds.contains(&e.kind))
            .cloned()
            .collect()
    }

    fn name(&self, iri: &str) -> String {
        self.lex
            .get(iri)
            .map(|e| e.name.clone())
            .unwrap_or_else(|| iri.rsplit('/').next().unwrap_or(iri).to_owned())
    }

    fn entity(&self, iri: &str, kind: Kind) -> EntityRef {
        self.lex
            .get(iri)
            .map(EntityRef::from_entry)
            .unwrap_or_else(|| EntityRef {
                iri: iri.to_owned(),
                name: self.name(iri),
                kind,
            })
    }
}

/// Runs the specialist for an intent.
pub fn execute(ctx: &Ctx<'_>, intent: Intent) -> Result<Outcome> {
    match intent {
        Intent::Discovery => discovery(ctx),
        Intent::Sensitivity => sensitivity(ctx),
        Intent::Ownership => ownership(ctx),
        Intent::Upstream => lineage(ctx, Direction::Upstream),
        Intent::Downstream => lineage(ctx, Direction::Downstream),
        Intent::Glossary => glossary(ctx),
        Intent::Quality => quality(ctx),
        Intent::Policy => policy(ctx),
        Intent::Compliance => compliance(ctx),
        Intent::Count => count(ctx),
        Intent::Listing => listing(ctx),
        Intent::Describe => describe(ctx),
        Intent::Values => Ok(Outcome::default()),
    }
}

fn names(items: &[EntityRef]) -> Vec<String> {
    items.iter().map(|e| e.name.clone()).collect()
}

/// At most `n` names, then "and N more".
fn some_names(items: &[EntityRef], n: usize) -> String {
    if items.len() <= n {
        return join_names(&names(items));
    }
    let mut shown = names(&items[..n]);
    shown.push(format!("{} more", items.len() - n));
    join_names(&shown)
}

fn dedup(items: Vec<EntityRef>) -> Vec<EntityRef> {
    let mut seen = BTreeSet::new();
    items
        .into_iter()
        .filter(|e| seen.insert(e.iri.clone()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Discovery

fn discovery(ctx: &Ctx<'_>) -> Result<Outcome> {
    let want_tables = matches!(ctx.reading.target, Some(Kind::Dataset));
    let within: Vec<String> = ctx
        .subjects(&[Kind::Dataset])
        .iter()
        .map(|e| e.iri.clone())
        .collect();
    // The concept is the last term or tag mentioned: in "customer emails" the head is "emails".
    let concept = ctx.mentions.iter().rev().find_map(|m| {
        let terms: Vec<Entry> = m.iter().filter(|e| e.kind == Kind::Term).cloned().collect();
        if !terms.is_empty() {
            return Some(terms);
        }
        let tags: Vec<Entry> = m.iter().filter(|e| e.kind == Kind::Tag).cloned().collect();
        (!tags.is_empty()).then_some(tags)
    });
    let mut columns: Vec<EntityRef> = Vec::new();
    let mut datasets: Vec<EntityRef> = Vec::new();
    let mut how = String::new();
    if let Some(concept) = &concept {
        let iris: Vec<String> = concept.iter().map(|e| e.iri.clone()).collect();
        let is_tag = concept[0].kind == Kind::Tag;
        let link = if is_tag { "gg:tag" } else { "gg:term" };
        let scope = if within.is_empty() {
            String::new()
        } else {
            values("ds", &within)
        };
        let rows = ctx.kb.select(&format!(
            "SELECT DISTINCT ?c ?ds ?name WHERE {{ {} {scope} ?n skos:broader* ?t . ?c {link} ?n ; gg:columnOf ?ds ; csvw:name ?name }} ORDER BY ?ds ?name",
            values("t", &iris)
        ))?;
        for r in &rows {
            if let (Some(c), Some(ds), Some(name)) = (text(r, "c"), text(r, "ds"), text(r, "name"))
            {
                columns.push(super::facts::column_ref(ctx.lex, &c, &ds, &name));
            }
        }
        let theme = if is_tag { "gg:tag" } else { "dcat:theme" };
        if within.is_empty() {
            let rows = ctx.kb.select(&format!(
                "SELECT DISTINCT ?ds WHERE {{ {} ?n skos:broader* ?t . ?ds {theme} ?n ; a dcat:Dataset }}",
                values("t", &iris)
            ))?;
            for r in &rows {
                if let Some(ds) = text(r, "ds") {
                    datasets.push(ctx.entity(&ds, Kind::Dataset));
                }
            }
        }
        how = format!(
            "mapped to the {} {}",
            if is_tag { "tag" } else { "glossary term" },
            join_names(
                &concept
                    .iter()
                    .map(|e| format!("\u{201c}{}\u{201d}", e.name))
                    .collect::<Vec<_>>()
            )
        );
        if concept.len() > 1 && !is_tag {
            how.push_str(" (the words match more than one term)");
        }
    } else if let Some(search) = ctx.search {
        // Nothing in the glossary: fall back to hybrid search over names and descriptions.
        let started = Instant::now();
        let mut request = SearchRequest::new(&ctx.words.join(" "));
        request.kinds = vec![if want_tables {
            EntityKind::Dataset
        } else {
            EntityKind::Column
        }];
        request.limit = 10;
        let response = search.search(&request)?;
        ctx.kb.log(ToolCall {
            tool: "search".to_owned(),
            input: request.query.clone(),
            results: response.hits.len(),
            attempts: 1,
            ms: started.elapsed().as_secs_f64() * 1e3,
            error: None,
        });
        let top = response.hits.first().map_or(0.0, |h| h.score);
        for h in response
            .hits
            .iter()
            .filter(|h| h.score >= top * 0.6)
            .take(5)
        {
            let kind = if want_tables {
                Kind::Dataset
            } else {
                Kind::Column
            };
            let e = ctx
                .lex
                .get(&h.iri)
                .map(EntityRef::from_entry)
                .unwrap_or_else(|| EntityRef {
                    iri: h.iri.clone(),
                    name: h.path.clone(),
                    kind,
                });
            if kind == Kind::Column {
                columns.push(e)
            } else {
                datasets.push(e)
            }
        }
        how = "found by search (no glossary term or tag matches the words)".to_owned();
    }
    let mut filters = ctx.filters.clone();
    filters.tags.clear();
    let columns = filter(ctx.kb, dedup(columns), &filters)?;
    let entities = if want_tables {
        let mut ds: Vec<EntityRef> = refs(ctx.kb, ctx.lex, &datasets_of(ctx.kb, &columns)?)?;
        ds.extend(datasets);
        filter(ctx.kb, dedup(ds), &filters)?
    } else if columns.is_empty() {
        filter(ctx.kb, dedup(datasets), &filters)?
    } else {
        columns
    };
    if entities.is_empty() {
        let what = concept
            .as_ref()
            .map(|c| c[0].name.clone())
            .unwrap_or_else(|| "those words".to_owned());
        return Ok(Outcome {
            text: format!(
                "I found no {} holding {what} in the catalog.",
                if want_tables { "datasets" } else { "columns" }
            ),
            ..Outcome::default()
        });
    }
    let noun = if entities[0].kind == Kind::Column {
        ("column", "columns")
    } else {
        ("dataset", "datasets")
    };
    Ok(Outcome {
        text: format!(
            "{} {how}: {}.",
            capital(&count_of(entities.len(), noun.0, noun.1)),
            some_names(&entities, 12)
        ),
        value: None,
        entities,
        ..Outcome::default()
    })
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------
// Sensitivity

fn sensitivity(ctx: &Ctx<'_>) -> Result<Outcome> {
    let restricted = ctx.has(&[
        "restricted",
        "special category",
        "special categories",
        "most sensitive",
    ]);
    let tags = ctx.only(Kind::Tag);
    let mut subjects: Vec<EntityRef> = ctx
        .subjects(ASSETS)
        .iter()
        .map(EntityRef::from_entry)
        .collect();
    if subjects.is_empty() && !ctx.previous.is_empty() {
        subjects = ctx.previous_of(ASSETS);
    }
    let asks_columns = matches!(ctx.reading.target, Some(Kind::Column));
    // Tagged with a named tag: "which columns are tagged financial?"
    if !tags.is_empty() && subjects.is_empty() {
        let iris: Vec<String> = tags.iter().map(|t| t.iri.clone()).collect();
        let class = if asks_columns {
            "csvw:Column"
        } else if matches!(ctx.reading.target, Some(Kind::Dataset)) {
            "dcat:Dataset"
        } else {
            "?any"
        };
        let type_pattern = if class == "?any" {
            String::new()
        } else {
            format!("?x a {class} .")
        };
        let rows = ctx.kb.select(&format!(
            "SELECT DISTINCT ?x WHERE {{ {} ?n skos:broader* ?t . ?x gg:tag ?n . {type_pattern} }}",
            values("t", &iris)
        ))?;
        // Sorted here: ORDER BY in the store decodes every term it compares.
        let mut found: Vec<String> = rows.iter().filter_map(|r| text(r, "x")).collect();
        found.sort();
        let items = filter(
            ctx.kb,
            refs(ctx.kb, ctx.lex, &found)?,
            &Filters {
                tags: vec![],
                ..ctx.filters.clone()
            },
        )?;
        return Ok(Outcome {
            text: if items.is_empty() {
                format!(
                    "Nothing is tagged {}.",
                    join_names(&names_of_entries(&tags))
                )
            } else {
                format!(
                    "Tagged {}: {}.",
                    join_names(&names_of_entries(&tags)),
                    some_names(&items, 15)
                )
            },
            entities: items,
            ..Outcome::default()
        });
    }
    if subjects.is_empty() {
        // Catalog-wide: which datasets or columns hold personal (or restricted) data.
        let mut filters = ctx.filters.clone();
        filters.pii = Some(true);
        filters.restricted = restricted;
        let columns_wanted = asks_columns || restricted;
        let class = if columns_wanted {
            "csvw:Column"
        } else {
            "dcat:Dataset"
        };
        let test = if columns_wanted {
            pii_tagged(ctx.kb, "?x", 10)
        } else {
            dataset_pii(ctx.kb, "?x", 10)
        };
        let rows = ctx.kb.select(&format!(
            "SELECT DISTINCT ?x WHERE {{ ?x a {class} . FILTER NOT EXISTS {{ ?x a gg:Dashboard }} FILTER ({test}) }}"
        ))?;
        // Sorted here: ORDER BY in the store decodes every term it compares.
        let mut found: Vec<String> = rows.iter().filter_map(|r| text(r, "x")).collect();
        found.sort();
        let items = filter(ctx.kb, refs(ctx.kb, ctx.lex, &found)?, &filters)?;
        let what = if restricted {
            "restricted data"
        } else {
            "personal data"
        };
        let noun = if columns_wanted {
            ("column", "columns")
        } else {
            ("dataset", "datasets")
        };
        return Ok(Outcome {
            text: format!(
                "{} hold {what}: {}.",
                capital(&count_of(items.len(), noun.0, noun.1)),
                some_names(&items, 20)
            ),
            entities: items,
            ..Outcome::default()
        });
    }
    let follow_up_filter =
        subjects.len() > 1 || ctx.has(&["of those", "of them", "of these", "which of"]);
    let datasets: Vec<String> = subjects
        .iter()
        .filter(|e| e.kind != Kind::Column)
        .map(|e| e.iri.clone())
        .collect();
    let cols: Vec<EntityRef> = subjects
        .iter()
        .filter(|e| e.kind == Kind::Column)
        .cloned()
        .collect();
    if follow_up_filter
        && !(asks_columns && !datasets.is_empty() && cols.is_empty() && datasets.len() == 1)
    {
        // "which of those are PII?": keep the subjects that hold personal data.
        let mut filters = Filters {
            pii: Some(true),
            restricted,
            ..Filters::default()
        };
        if ctx.has(&[
            "not pii",
            "non pii",
            "no pii",
            "without pii",
            "not personal",
        ]) {
            filters.pii = Some(false);
        }
        let kept = filter(ctx.kb, subjects.clone(), &filters)?;
        let what = if restricted {
            "restricted data"
        } else if filters.pii == Some(false) {
            "no personal data"
        } else {
            "personal data"
        };
        return Ok(Outcome {
            text: if kept.is_empty() {
                format!("None of {} holds {what}.", some_names(&subjects, 8))
            } else {
                format!(
                    "{} of the {} hold {what}: {}.",
                    kept.len(),
                    subjects.len(),
                    some_names(&kept, 15)
                )
            },
            value: Some(kept.len() as f64),
            entities: kept,
            ..Outcome::default()
        });
    }
    // One dataset or column: how sensitive is it?
    let facts = columns_of(ctx.kb, ctx.lex, &datasets)?;
    let mut lines = Vec::new();
    let mut entities = Vec::new();
    for ds in &datasets {
        let ds_tags = tags_of(ctx.kb, ds)?;
        let cols: Vec<&super::facts::ColumnFacts> = facts
            .iter()
            .filter(|c| &c.dataset == ds && if restricted { c.restricted } else { c.pii })
            .collect();
        let name = ctx.name(ds);
        if cols.is_empty() {
            lines.push(format!(
                "{name} has no columns classified as {}{}.",
                if restricted {
                    "restricted"
                } else {
                    "personal data"
                },
                if ds_tags.is_empty() {
                    String::new()
                } else {
                    format!(" (dataset tags: {})", ds_tags.join(", "))
                }
            ));
        } else {
            let listed: Vec<String> = cols
                .iter()
                .map(|c| {
                    format!(
                        "{} ({})",
                        c.r.name.rsplit('.').next().unwrap_or(&c.r.name),
                        c.tags.join(", ")
                    )
                })
                .collect();
            lines.push(format!(
                "Yes: {name} holds {}: {}.{}",
                if restricted {
                    "restricted data"
                } else {
                    "personal data"
                },
                join_names(&listed),
                if ds_tags.is_empty() {
                    String::new()
                } else {
                    format!(" Dataset tags: {}.", ds_tags.join(", "))
                }
            ));
            entities.extend(cols.iter().map(|c| c.r.clone()));
        }
    }
    if !cols.is_empty() {
        let ds_of = datasets_of(ctx.kb, &cols)?;
        let facts = columns_of(ctx.kb, ctx.lex, &ds_of)?;
        for c in &cols {
            let Some(f) = facts.iter().find(|f| f.r.iri == c.iri) else {
                continue;
            };
            if f.pii || f.restricted {
                lines.push(format!(
                    "Yes: {} is {} ({}).",
                    f.r.name,
                    if f.restricted {
                        "restricted personal data"
                    } else {
                        "personal data"
                    },
                    f.tags.join(", ")
                ));
                entities.push(f.r.clone());
            } else {
                lines.push(format!(
                    "No: {} is not classified as personal data{}.",
                    f.r.name,
                    if f.tags.is_empty() {
                        String::new()
                    } else {
                        format!(" (tags: {})", f.tags.join(", "))
                    }
                ));
            }
        }
    }
    let n = entities.len();
    Ok(Outcome {
        text: lines.join(" "),
        entities,
        value: Some(n as f64),
        ..Outcome::default()
    })
}

fn names_of_entries(e: &[Entry]) -> Vec<String> {
    e.iter().map(|e| e.name.clone()).collect()
}

fn tags_of(kb: &Kb<'_>, iri: &str) -> Result<Vec<String>> {
    let rows = kb.select(&format!(
        "SELECT DISTINCT ?n WHERE {{ {} gg:tag ?t . OPTIONAL {{ ?t skos:notation ?no }} OPTIONAL {{ ?t skos:prefLabel ?l }} BIND (COALESCE(?no, ?l) AS ?n) }} ORDER BY ?n",
        q(iri)
    ))?;
    Ok(rows.iter().filter_map(|r| text(r, "n")).collect())
}

// ---------------------------------------------------------------------------------------
// Ownership

fn ownership(ctx: &Ctx<'_>) -> Result<Outcome> {
    let steward_only = ctx.has(&["steward", "stewards", "stewarded", "stewardship"])
        && !ctx.has(&["owner", "owns", "own", "owned"]);
    let owner_only = ctx.has(&["owner", "owns", "own", "owned"])
        && !ctx.has(&["steward", "stewards", "stewarded"]);
    let gaps = ctx.has(&[
        "no owner",
        "without an owner",
        "without owner",
        "no steward",
        "without a steward",
        "unowned",
        "missing owner",
        "missing an owner",
        "lack an owner",
        "lacks an owner",
        "have no",
    ]);
    let people = ctx.only(Kind::Person);
    let others = ctx.subjects(&[
        Kind::Column,
        Kind::Dataset,
        Kind::Dashboard,
        Kind::Term,
        Kind::Domain,
        Kind::Policy,
        Kind::ProcessingActivity,
        Kind::System,
        Kind::Tag,
    ]);
    // "who owns the sales domain": a domain mention counts only when it is the subject.
    let mut subjects: Vec<EntityRef> = others
        .iter()
        .filter(|e| e.kind != Kind::Domain || ctx.has(&["domain"]) || ctx.reading.target.is_none())
        .map(EntityRef::from_entry)
        .collect();
    if gaps {
        let class = match ctx.reading.target {
            Some(Kind::Term) => "gg:GlossaryTerm",
            Some(Kind::Domain) => "gg:Domain",
            _ => "dcat:Dataset",
        };
        let pred = if steward_only {
            "gg:steward"
        } else {
            "gg:owner"
        };
        let rows = ctx.kb.select(&format!(
            "SELECT DISTINCT ?x WHERE {{ ?x a {class} . FILTER NOT EXISTS {{ ?x {pred} ?p }} FILTER NOT EXISTS {{ ?x a gg:Dashboard }} }}"
        ))?;
        // Sorted here: ORDER BY in the store decodes every term it compares.
        let mut found: Vec<String> = rows.iter().filter_map(|r| text(r, "x")).collect();
        found.sort();
        let items = filter(ctx.kb, refs(ctx.kb, ctx.lex, &found)?, &ctx.filters)?;
        let role = if steward_only { "steward" } else { "owner" };
        return Ok(Outcome {
            text: if items.is_empty() {
                format!("Every one of them has an {role}.").replace("an steward", "a steward")
            } else {
                format!(
                    "{} without an {role}: {}.",
                    capital(&count_of(items.len(), "entity", "entities")),
                    some_names(&items, 20)
                )
                .replace("an steward", "a steward")
            },
            value: Some(items.len() as f64),
            entities: items,
            ..Outcome::default()
        });
    }
    if subjects.is_empty() && !people.is_empty() {
        // What does a person own or steward?
        let preds = if steward_only {
            "gg:steward"
        } else if owner_only {
            "gg:owner"
        } else {
            "gg:owner|gg:steward"
        };
        let kind = match ctx.reading.target {
            Some(
                k @ (Kind::Term
                | Kind::Domain
                | Kind::Rule
                | Kind::Policy
                | Kind::Dashboard
                | Kind::ProcessingActivity),
            ) => k,
            _ => Kind::Dataset,
        };
        let iris: Vec<String> = people.iter().map(|p| p.iri.clone()).collect();
        // The lexicon knows every kind but rules: check those in the store, the rest here
        // (a type test per row is the slow part of this query on large catalogs).
        let rows = if kind == Kind::Rule {
            ctx.kb.select(&format!(
                "SELECT DISTINCT ?x WHERE {{ {} ?x {preds} ?p . FILTER EXISTS {{ ?x a gg:QualityRule }} }}",
                values("p", &iris)
            ))?
        } else {
            ctx.kb.select(&format!(
                "SELECT DISTINCT ?x WHERE {{ {} ?x {preds} ?p }}",
                values("p", &iris)
            ))?
        };
        let rows: Vec<_> = rows
            .into_iter()
            .filter(|r| {
                kind == Kind::Rule
                    || text(r, "x").and_then(|x| ctx.lex.get(&x).map(|e| e.kind)) == Some(kind)
            })
            .collect();
        // Sorted here: ORDER BY in the store decodes every term it compares.
        let mut found: Vec<String> = rows.iter().filter_map(|r| text(r, "x")).collect();
        found.sort();
        let mut filters = ctx.filters.clone();
        filters.owners.clear();
        let items = filter(ctx.kb, refs(ctx.kb, ctx.lex, &found)?, &filters)?;
        let verb = if steward_only {
            "stewards"
        } else if owner_only {
            "owns"
        } else {
            "owns or stewards"
        };
        let who = join_names(&names_of_entries(&people));
        return Ok(Outcome {
            text: if items.is_empty() {
                format!("{who} {verb} nothing of that kind.")
            } else {
                format!(
                    "{who} {verb} {}: {}.",
                    count_of(
                        items.len(),
                        kind_noun(items[0].kind),
                        items[0].kind.plural()
                    ),
                    some_names(&items, 20)
                )
            },
            value: Some(items.len() as f64),
            entities: items,
            ..Outcome::default()
        });
    }
    if subjects.is_empty() {
        subjects = ctx.previous.clone();
    }
    if subjects.is_empty() {
        // "who are the data stewards?"
        let pred = if steward_only {
            "gg:steward"
        } else {
            "gg:owner"
        };
        let rows = ctx.kb.select(&format!(
            "SELECT DISTINCT ?p WHERE {{ ?x {pred} ?p }} ORDER BY ?p"
        ))?;
        let found: Vec<String> = rows.iter().filter_map(|r| text(r, "p")).collect();
        let items = refs(ctx.kb, ctx.lex, &found)?;
        return Ok(Outcome {
            text: format!(
                "{} ({}): {}.",
                if steward_only { "Stewards" } else { "Owners" },
                items.len(),
                join_names(&names(&items))
            ),
            entities: items,
            ..Outcome::default()
        });
    }
    // Columns are owned through their datasets.
    let mut holders: Vec<(EntityRef, String)> = Vec::new();
    let ds_of = datasets_of(
        ctx.kb,
        &subjects
            .iter()
            .filter(|e| e.kind == Kind::Column)
            .cloned()
            .collect::<Vec<_>>(),
    )?;
    let mut ds_iter = ds_of.iter();
    for s in &subjects {
        if s.kind == Kind::Column {
            if let Some(d) = ds_iter.next() {
                holders.push((s.clone(), d.clone()));
            }
        } else {
            holders.push((s.clone(), s.iri.clone()));
        }
    }
    let iris: Vec<String> = holders.iter().map(|(_, h)| h.clone()).collect();
    let mut found = people_of(ctx.kb, ctx.lex, &iris)?;
    // Fall back to the domain's owner when an asset names none.
    let missing: Vec<String> = iris
        .iter()
        .filter(|i| !found.contains_key(*i))
        .cloned()
        .collect();
    let mut via_domain: HashMap<String, String> = HashMap::new();
    if !missing.is_empty() {
        let rows = ctx.kb.select(&format!(
            "SELECT ?x ?d WHERE {{ {} ?x gg:domain ?d }}",
            values("x", &missing)
        ))?;
        let domains: Vec<String> = rows.iter().filter_map(|r| text(r, "d")).collect();
        let of_domain = people_of(ctx.kb, ctx.lex, &domains)?;
        for r in &rows {
            if let (Some(x), Some(d)) = (text(r, "x"), text(r, "d"))
                && let Some(p) = of_domain.get(&d)
            {
                found.insert(x.clone(), p.clone());
                via_domain.insert(x, ctx.name(&d));
            }
        }
    }
    let mut lines = Vec::new();
    let mut entities: Vec<EntityRef> = Vec::new();
    for (s, h) in &holders {
        let list = found.get(h).cloned().unwrap_or_default();
        let pick = |role: &str| -> Vec<EntityRef> {
            list.iter()
                .filter(|(r, _)| *r == role)
                .map(|(_, p)| p.clone())
                .collect()
        };
        let owners = pick("owner");
        let stewards = pick("steward");
        let via = via_domain
            .get(h)
            .map(|d| format!(" (through its domain {d})"))
            .unwrap_or_default();
        let through = if s.kind == Kind::Column {
            format!(" (through {})", ctx.name(h))
        } else {
            String::new()
        };
        let mut parts = Vec::new();
        if !steward_only {
            parts.push(if owners.is_empty() {
                "has no owner".to_owned()
            } else {
                format!("is owned by {}", join_names(&names(&owners)))
            });
            entities.extend(owners.clone());
        }
        if !owner_only {
            parts.push(if stewards.is_empty() {
                "has no steward".to_owned()
            } else {
                format!(
                    "{}stewarded by {}",
                    if steward_only { "is " } else { "" },
                    join_names(&names(&stewards))
                )
            });
            entities.extend(stewards.clone());
        }
        lines.push(format!("{}{through} {}{via}.", s.name, parts.join(" and ")));
    }
    Ok(Outcome {
        text: lines.join(" "),
        entities: dedup(entities),
        ..Outcome::default()
    })
}

fn kind_noun(k: Kind) -> &'static str {
    match k {
        Kind::Dataset => "dataset",
        Kind::Column => "column",
        Kind::Term => "glossary term",
        Kind::Domain => "domain",
        Kind::Person => "person",
        Kind::Tag => "tag",
        Kind::Policy => "policy",
        Kind::ProcessingActivity => "processing activity",
        Kind::Rule => "quality rule",
        Kind::Dashboard => "dashboard",
        Kind::System => "system",
        Kind::Organization => "organisation",
        Kind::DataProduct => "data product",
    }
}

// ---------------------------------------------------------------------------------------
// Lineage

/// The lineage agent: walks from the subjects, or from a set named by owner, domain or
/// personal data, then filters what it reached by the words before the relation.
fn lineage(ctx: &Ctx<'_>, direction: Direction) -> Result<Outcome> {
    let mut starts: Vec<EntityRef> = ctx
        .subjects(&[Kind::Column, Kind::Dataset, Kind::Dashboard])
        .iter()
        .map(EntityRef::from_entry)
        .collect();
    let mut described = String::new();
    let mut set_is_pii = false;
    if starts.is_empty() {
        // A set: "data owned by Claire Dubois", "data in the customer domain", "PII data".
        let mut set = Filters::default();
        let subject_words = &ctx.words[ctx.reading.subject_from.min(ctx.words.len())..];
        for m in &ctx.mentions {
            for e in m {
                match e.kind {
                    Kind::Person => set.owners.push(e.iri.clone()),
                    Kind::Domain
                        if m.iter().all(|x| {
                            matches!(x.kind, Kind::Domain | Kind::Term | Kind::Dataset)
                        }) =>
                    {
                        set.domains.push(e.iri.clone())
                    }
                    Kind::Tag => set.tags.push(e.iri.clone()),
                    _ => {}
                }
            }
        }
        if has_any(subject_words, &["pii", "personal", "personal data"]) {
            set.pii = Some(true);
            set.tags.clear();
            set_is_pii = true;
        }
        if !set.is_empty() {
            let rows = ctx.kb.select(&format!(
                "SELECT DISTINCT ?x WHERE {{ ?x a dcat:Dataset . FILTER NOT EXISTS {{ ?x a gg:Dashboard }} {} }}",
                set.dataset_patterns(ctx.kb)
            ))?;
            // Sorted here: ORDER BY in the store decodes every term it compares.
            let mut found: Vec<String> = rows.iter().filter_map(|r| text(r, "x")).collect();
            found.sort();
            starts = refs(ctx.kb, ctx.lex, &found)?;
            described = format!(" ({})", some_names(&starts, 6));
        }
    }
    if starts.is_empty() {
        starts = ctx.previous_of(&[Kind::Column, Kind::Dataset, Kind::Dashboard]);
    }
    if starts.is_empty() {
        return Ok(Outcome {
            text: "Which dataset or column? Name it as schema.table or table.column.".to_owned(),
            ..Outcome::default()
        });
    }
    let level = if starts.iter().all(|s| s.kind == Kind::Column) {
        Level::Column
    } else {
        Level::Table
    };
    let starts: Vec<EntityRef> = if level == Level::Table {
        // Mixed: walk from the columns' datasets.
        refs(ctx.kb, ctx.lex, &datasets_of(ctx.kb, &starts)?)?
    } else {
        starts
    };
    let depth = if ctx.has(&[
        "direct",
        "directly",
        "immediate",
        "immediately",
        "one hop",
        "first level",
    ]) {
        1
    } else {
        10
    };
    let mut reached: Vec<(String, usize)> = Vec::new();
    let mut truncated = false;
    for s in &starts {
        let started = Instant::now();
        let mut t = Traversal::new(NamedNode::new_unchecked(s.iri.clone()), level, direction);
        t.max_depth = depth;
        t.limit = 5000;
        t.scope = ctx.kb.scope.clone();
        let result = traverse::traverse(ctx.kb.store, &t);
        ctx.kb.log(ToolCall {
            tool: "lineage".to_owned(),
            input: format!(
                "{} {} {} depth {depth}",
                s.iri,
                if level == Level::Table {
                    "table"
                } else {
                    "column"
                },
                if direction == Direction::Upstream {
                    "upstream"
                } else {
                    "downstream"
                }
            ),
            results: result.as_ref().map_or(0, |r| r.total),
            attempts: 1,
            ms: started.elapsed().as_secs_f64() * 1e3,
            error: result.as_ref().err().map(ToString::to_string),
        });
        let result = result?;
        truncated |= result.truncated || result.total > result.nodes.len();
        for n in result.nodes {
            if let Some(prev) = reached.iter_mut().find(|(i, _)| *i == n.iri) {
                prev.1 = prev.1.min(n.depth);
            } else if n.iri != s.iri {
                reached.push((n.iri, n.depth));
            }
        }
    }
    reached.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let iris: Vec<String> = reached.iter().map(|(i, _)| i.clone()).collect();
    let mut nodes = refs(ctx.kb, ctx.lex, &iris)?;
    // The words outside the subject filter the results: "which certified dashboards ...",
    // "... contain PII".
    let mut filters = Filters::default();
    if ctx.has(&["certified"]) {
        filters.certified = true;
    }
    if ctx.has(&["pii", "personal"]) && !set_is_pii {
        filters.pii = Some(true);
    }
    filters.layer = layer_word(&ctx.words);
    for m in &ctx.target_mentions {
        if m.iter().all(|e| e.kind == Kind::Domain) {
            filters.domains.extend(m.iter().map(|e| e.iri.clone()));
        }
    }
    nodes = filter(ctx.kb, nodes, &filters)?;
    if let Some(target) = ctx.reading.target {
        match target {
            Kind::Dashboard => nodes.retain(|n| n.kind == Kind::Dashboard),
            Kind::Dataset => nodes.retain(|n| n.kind == Kind::Dataset),
            Kind::Column if level == Level::Table => {
                // Asked for columns from a table: walk was table-level; say so.
            }
            _ => {}
        }
    }
    let start_names = some_names(&starts, 6);
    let dir_words = if direction == Direction::Upstream {
        "comes from"
    } else {
        "feeds"
    };
    if nodes.is_empty() {
        return Ok(Outcome {
            text: format!(
                "{start_names}{described} {} nothing{} in the recorded lineage.",
                if direction == Direction::Upstream {
                    "comes from"
                } else {
                    "feeds"
                },
                if filters.is_empty() && ctx.reading.target.is_none() {
                    String::new()
                } else {
                    " of that kind".to_owned()
                }
            ),
            value: Some(0.0),
            ..Outcome::default()
        });
    }
    let depth_of: HashMap<&str, usize> = reached.iter().map(|(i, d)| (i.as_str(), *d)).collect();
    let direct: Vec<EntityRef> = nodes
        .iter()
        .filter(|n| depth_of.get(n.iri.as_str()) == Some(&1))
        .cloned()
        .collect();
    let mut text = if direction == Direction::Downstream
        && ctx.has(&[
            "break", "breaks", "impact", "impacted", "affected", "affect",
        ]) {
        format!(
            "A change to {start_names}{described} reaches {}: {}.",
            count_of(
                nodes.len(),
                kind_noun(nodes[0].kind),
                nodes[0].kind.plural()
            ),
            some_names(&nodes, 20)
        )
    } else {
        format!(
            "{start_names}{described} {dir_words} {}: {}.",
            count_of(
                nodes.len(),
                kind_noun(nodes[0].kind),
                nodes[0].kind.plural()
            ),
            some_names(&nodes, 20)
        )
    };
    if depth > 1 && !direct.is_empty() && direct.len() < nodes.len() {
        text.push_str(&format!(" Directly: {}.", some_names(&direct, 10)));
    }
    if level == Level::Column && direction == Direction::Downstream {
        let ds = refs(ctx.kb, ctx.lex, &datasets_of(ctx.kb, &nodes)?)?;
        if !ds.is_empty() {
            text.push_str(&format!(" Datasets affected: {}.", some_names(&ds, 10)));
        }
    }
    if truncated {
        text.push_str(" The walk was cut at its limit; more lies beyond.");
    }
    Ok(Outcome {
        text,
        value: Some(nodes.len() as f64),
        entities: nodes,
        ..Outcome::default()
    })
}

// ---------------------------------------------------------------------------------------
// Glossary

fn glossary(ctx: &Ctx<'_>) -> Result<Outcome> {
    let mut terms = ctx.subjects(&[Kind::Term]);
    if terms.is_empty()
        && let Some(search) = ctx.search
    {
        let mut request = SearchRequest::new(&ctx.words.join(" "));
        request.kinds = vec![EntityKind::Term];
        request.limit = 1;
        let started = Instant::now();
        let response = search.search(&request)?;
        ctx.kb.log(ToolCall {
            tool: "search".to_owned(),
            input: request.query.clone(),
            results: response.hits.len(),
            attempts: 1,
            ms: started.elapsed().as_secs_f64() * 1e3,
            error: None,
        });
        terms.extend(
            response
                .hits
                .iter()
                .filter_map(|h| ctx.lex.get(&h.iri).cloned()),
        );
    }
    if terms.is_empty() {
        return Ok(Outcome {
            text: "That is not a term of the business glossary.".to_owned(),
            ..Outcome::default()
        });
    }
    let iris: Vec<String> = terms.iter().map(|t| t.iri.clone()).collect();
    let rows = ctx.kb.select(&format!(
        "SELECT ?t ?def ?alt ?broader WHERE {{ {} OPTIONAL {{ ?t skos:definition ?def }} OPTIONAL {{ ?t skos:altLabel ?alt }} OPTIONAL {{ ?t skos:broader/skos:prefLabel ?broader }} }}",
        values("t", &iris)
    ))?;
    let cols = ctx.kb.select(&format!(
        "SELECT DISTINCT ?t ?c ?ds ?name WHERE {{ {} ?c gg:term ?t ; gg:columnOf ?ds ; csvw:name ?name }} ORDER BY ?ds ?name",
        values("t", &iris)
    ))?;
    let mut lines = Vec::new();
    let mut entities = Vec::new();
    if terms.len() > 1 {
        lines.push(format!(
            "\u{201c}{}\u{201d} matches {} terms.",
            ctx.words.join(" "),
            terms.len()
        ));
    }
    for t in &terms {
        let mine: Vec<_> = rows
            .iter()
            .filter(|r| text(r, "t").as_deref() == Some(&t.iri))
            .collect();
        let def = mine.iter().find_map(|r| text(r, "def"));
        let mut alts: Vec<String> = mine.iter().filter_map(|r| text(r, "alt")).collect();
        alts.sort();
        alts.dedup();
        let broader = mine.iter().find_map(|r| text(r, "broader"));
        let implementing: Vec<EntityRef> = cols
            .iter()
            .filter(|r| text(r, "t").as_deref() == Some(&t.iri))
            .filter_map(|r| {
                Some(super::facts::column_ref(
                    ctx.lex,
                    &text(r, "c")?,
                    &text(r, "ds")?,
                    &text(r, "name")?,
                ))
            })
            .collect();
        let mut line = format!(
            "{}: \u{201c}{}\u{201d}",
            t.name,
            def.unwrap_or_else(|| "no definition recorded".to_owned())
        );
        if let Some(b) = broader {
            line.push_str(&format!(" It is a kind of {b}."));
        }
        if !alts.is_empty() {
            line.push_str(&format!(" Also called {}.", join_names(&alts)));
        }
        if implementing.is_empty() {
            line.push_str(" No column is mapped to it.");
        } else {
            line.push_str(&format!(
                " Implemented by {}.",
                some_names(&implementing, 10)
            ));
        }
        lines.push(line);
        entities.push(EntityRef::from_entry(t));
        entities.extend(implementing);
    }
    Ok(Outcome {
        text: lines.join(" "),
        choices: if terms.len() > 1 {
            terms.iter().map(EntityRef::from_entry).collect()
        } else {
            Vec::new()
        },
        entities,
        ..Outcome::default()
    })
}

// ---------------------------------------------------------------------------------------
// Quality

fn quality(ctx: &Ctx<'_>) -> Result<Outcome> {
    let mut subjects: Vec<EntityRef> = ctx
        .subjects(&[Kind::Column, Kind::Dataset])
        .iter()
        .map(EntityRef::from_entry)
        .collect();
    let people = ctx.only(Kind::Person);
    if subjects.is_empty() && people.is_empty() && ctx.has(&["those", "them", "these", "they"]) {
        subjects = ctx.previous_of(&[Kind::Column, Kind::Dataset]);
    }
    let gaps = ctx.has(&[
        "no quality rule",
        "no quality rules",
        "no rule",
        "no rules",
        "without rules",
        "without quality rules",
        "without a rule",
        "without any",
        "not covered",
        "no checks",
        "no tests",
        "lack",
        "untested",
    ]);
    if gaps {
        let rows = ctx.kb.select(
            "SELECT DISTINCT ?x WHERE { ?x a dcat:Dataset . FILTER NOT EXISTS { ?x a gg:Dashboard }
               FILTER NOT EXISTS { ?r a gg:QualityRule . { ?r gg:appliesTo ?x } UNION { ?r gg:appliesTo ?c . ?c gg:columnOf ?x } } }",
        )?;
        // Sorted here: ORDER BY in the store decodes every term it compares.
        let mut found: Vec<String> = rows.iter().filter_map(|r| text(r, "x")).collect();
        found.sort();
        let items = filter(ctx.kb, refs(ctx.kb, ctx.lex, &found)?, &ctx.filters)?;
        return Ok(Outcome {
            text: format!(
                "{} no quality rule: {}.",
                capital(&count_of(items.len(), "dataset has", "datasets have")),
                some_names(&items, 20)
            ),
            value: Some(items.len() as f64),
            entities: items,
            ..Outcome::default()
        });
    }
    let failing = ctx.has(&[
        "failing",
        "fail",
        "failed",
        "violation",
        "violations",
        "broken",
    ]);
    let mut scope = String::new();
    if !subjects.is_empty() {
        let iris: Vec<String> = subjects.iter().map(|e| e.iri.clone()).collect();
        scope = format!(
            "{} {{ ?r gg:appliesTo ?s }} UNION {{ ?r gg:appliesTo ?c . ?c gg:columnOf ?s }}",
            values("s", &iris)
        );
    } else if !people.is_empty() {
        let iris: Vec<String> = people.iter().map(|e| e.iri.clone()).collect();
        scope = format!("{} ?r gg:owner ?p .", values("p", &iris));
    }
    let rows = ctx.kb.select(&format!(
        "SELECT ?r ?title ?type ?severity ?dim ?status ?failed ?ended WHERE {{ ?r a gg:QualityRule . {scope}
           OPTIONAL {{ ?r dct:title ?title }} OPTIONAL {{ ?r gg:ruleType ?type }} OPTIONAL {{ ?r gg:severity ?severity }}
           OPTIONAL {{ ?r dqv:inDimension ?dim }}
           OPTIONAL {{ ?run gg:rule ?r ; a gg:RuleRun ; gg:status ?status ; prov:endedAtTime ?ended . OPTIONAL {{ ?run gg:failedCount ?failed }}
             FILTER NOT EXISTS {{ ?later gg:rule ?r ; a gg:RuleRun ; prov:endedAtTime ?e2 FILTER (?e2 > ?ended) }} }}
         }} ORDER BY ?r"
    ))?;
    #[derive(Default)]
    struct R {
        title: String,
        kind: String,
        severity: String,
        status: Option<String>,
        failed: Option<f64>,
    }
    let mut rules: BTreeMap<String, R> = BTreeMap::new();
    for r in &rows {
        let Some(iri) = text(r, "r") else { continue };
        let e = rules.entry(iri.clone()).or_default();
        e.title =
            text(r, "title").unwrap_or_else(|| iri.rsplit('/').next().unwrap_or(&iri).to_owned());
        e.kind = text(r, "type").unwrap_or_default();
        e.severity = text(r, "severity").unwrap_or_default();
        if let Some(s) = text(r, "status") {
            e.status = Some(s);
            e.failed = number(r, "failed");
        }
    }
    let total = rules.len();
    let ran = rules.values().filter(|r| r.status.is_some()).count();
    let failed: Vec<(&String, &R)> = rules
        .iter()
        .filter(|(_, r)| matches!(r.status.as_deref(), Some("fail" | "error")))
        .collect();
    let subject_names = some_names(&subjects, 5);
    let about = if !subjects.is_empty() {
        format!(" on {subject_names}")
    } else if !people.is_empty() {
        format!(" owned by {}", join_names(&names_of_entries(&people)))
    } else {
        String::new()
    };
    if failing {
        let entities: Vec<EntityRef> = failed
            .iter()
            .map(|(i, r)| EntityRef {
                iri: (*i).clone(),
                name: r.title.clone(),
                kind: Kind::Rule,
            })
            .collect();
        let text = if ran == 0 {
            format!(
                "No quality rule{about} has run yet, so none is failing ({} defined).",
                count_of(total, "rule", "rules")
            )
        } else if entities.is_empty() {
            format!("No rule{about} failed in its latest run ({ran} of {total} have run).")
        } else {
            format!(
                "{} failed in {} latest run: {}.",
                capital(&count_of(entities.len(), "rule", "rules")),
                if entities.len() == 1 { "its" } else { "their" },
                join_names(&names(&entities))
            )
        };
        return Ok(Outcome {
            text,
            value: Some(entities.len() as f64),
            entities,
            ..Outcome::default()
        });
    }
    // Scores, when a run measured them.
    let mut score_text = String::new();
    if !subjects.is_empty() {
        let iris: Vec<String> = subjects.iter().map(|e| e.iri.clone()).collect();
        let scores = ctx.kb.select(&format!(
            "SELECT ?s ?v ?t WHERE {{ {} ?m a dqv:QualityMeasurement ; dqv:computedOn ?s ; dqv:isMeasurementOf gg:QualityScore ; dqv:value ?v ; prov:generatedAtTime ?t .
               FILTER NOT EXISTS {{ ?m2 dqv:computedOn ?s ; dqv:isMeasurementOf gg:QualityScore ; prov:generatedAtTime ?t2 FILTER (?t2 > ?t) }} }}",
            values("s", &iris)
        ))?;
        for r in &scores {
            if let (Some(s), Some(v)) = (text(r, "s"), number(r, "v")) {
                score_text.push_str(&format!(
                    " The latest quality score of {} is {v:.0} out of 100.",
                    ctx.name(&s)
                ));
            }
        }
    }
    let entities: Vec<EntityRef> = rules
        .iter()
        .map(|(i, r)| EntityRef {
            iri: i.clone(),
            name: r.title.clone(),
            kind: Kind::Rule,
        })
        .collect();
    let listed: Vec<String> = rules
        .values()
        .map(|r| {
            let status = match r.status.as_deref() {
                Some("pass") => "passed".to_owned(),
                Some("fail") => format!(
                    "failed{}",
                    r.failed
                        .map(|f| format!(", {f:.0} rows"))
                        .unwrap_or_default()
                ),
                Some(other) => other.to_owned(),
                None => "not run yet".to_owned(),
            };
            format!("{} ({}, {}; {status})", r.title, r.kind, r.severity)
        })
        .collect();
    let text = if total == 0 {
        format!("No quality rule is defined{about}.")
    } else {
        format!(
            "{} defined{about}: {}. {} of them {} run; {} failing.{score_text}",
            capital(&count_of(total, "quality rule is", "quality rules are")),
            listed.join("; "),
            ran,
            if ran == 1 { "has" } else { "have" },
            failed.len()
        )
    };
    Ok(Outcome {
        text,
        value: Some(total as f64),
        entities,
        ..Outcome::default()
    })
}

// ---------------------------------------------------------------------------------------
// Policy

struct PolicyRule {
    policy: String,
    title: String,
    kind: String,
    action: Option<String>,
    assignee: Option<String>,
    masking: Option<String>,
    purpose: Option<String>,
    elapsed: Option<String>,
    central: bool,
    row_filter: Option<String>,
}

fn policy_rules(kb: &Kb<'_>, targets: &[String]) -> Result<Vec<PolicyRule>> {
    let scope = if targets.is_empty() {
        String::new()
    } else {
        format!("{} ?rule odrl:target ?target .", values("target", targets))
    };
    let rows = kb.select(&format!(
        "SELECT DISTINCT ?p ?title ?kind ?action ?assignee ?masking ?purpose ?elapsed ?scope ?filter WHERE {{
           ?p a odrl:Policy ; ?kind ?rule . VALUES ?kind {{ odrl:permission odrl:prohibition odrl:obligation }} {scope}
           # Only the versions in force: proposed, rejected and retired ones decide nothing.
           FILTER NOT EXISTS {{ ?p gg:policyStatus ?status FILTER(?status != \"approved\") }}
           OPTIONAL {{ ?p dct:title ?title }} OPTIONAL {{ ?p gg:policyScope ?scope }}
           OPTIONAL {{ ?rule odrl:action ?action }} OPTIONAL {{ ?rule odrl:assignee ?assignee }}
           OPTIONAL {{ ?rule odrl:duty/gg:maskingMethod ?masking }} OPTIONAL {{ ?rule gg:rowFilter ?filter }}
           OPTIONAL {{ ?rule odrl:constraint ?c1 . ?c1 odrl:leftOperand odrl:purpose ; odrl:rightOperand ?purpose }}
           OPTIONAL {{ ?rule odrl:constraint ?c2 . ?c2 odrl:leftOperand odrl:elapsedTime ; odrl:rightOperand ?elapsed }}
         }} ORDER BY ?p"
    ))?;
    let local = |s: Option<String>| s.map(|v| v.rsplit(['#', '/']).next().unwrap_or(&v).to_owned());
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(PolicyRule {
                policy: text(r, "p")?,
                title: text(r, "title").unwrap_or_default(),
                kind: local(text(r, "kind"))?,
                action: local(text(r, "action")),
                assignee: local(text(r, "assignee"))
                    .map(|a| a.trim_end_matches("Role").to_lowercase()),
                masking: text(r, "masking"),
                purpose: local(text(r, "purpose")),
                elapsed: text(r, "elapsed"),
                central: text(r, "scope").is_some_and(|s| s.ends_with("Central")),
                row_filter: text(r, "filter"),
            })
        })
        .collect())
}

/// The targets a policy may name for an asset: itself, its dataset, its tags and their
/// broader tags, and the dataset's tags.
fn policy_targets(kb: &Kb<'_>, assets: &[String]) -> Result<Vec<String>> {
    let rows = kb.select(&format!(
        "SELECT DISTINCT ?t WHERE {{ {} {{ ?a gg:columnOf ?t }} UNION {{ ?a gg:tag ?x . ?x skos:broader* ?t }}
           UNION {{ ?a gg:columnOf ?d . ?d gg:tag ?x . ?x skos:broader* ?t }} }}",
        values("a", assets)
    ))?;
    let mut out: Vec<String> = assets.to_vec();
    out.extend(rows.iter().filter_map(|r| text(r, "t")));
    out.sort();
    out.dedup();
    Ok(out)
}

/// "gold tables", "silver layer": a layer named as such.
pub fn layer_word(words: &[String]) -> Option<String> {
    for layer in ["bronze", "silver", "gold"] {
        for (i, w) in words.iter().enumerate() {
            if w == layer
                && words.get(i + 1).is_some_and(|n| {
                    n == "layer" || super::intent::kind_word(n) == Some(Kind::Dataset)
                })
            {
                return Some(layer.to_owned());
            }
        }
    }
    None
}

fn role_word(words: &[String]) -> Option<&'static str> {
    [
        ("analyst", "analyst"),
        ("analysts", "analyst"),
        ("engineer", "engineer"),
        ("engineers", "engineer"),
        ("viewer", "viewer"),
        ("viewers", "viewer"),
        ("steward", "steward"),
        ("stewards", "steward"),
        ("admin", "admin"),
        ("admins", "admin"),
    ]
    .iter()
    .find(|(w, _)| words.iter().any(|x| x == w))
    .map(|(_, r)| *r)
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// "Can an analyst read X?" answered by the policy engine: permit or deny, the masking and
/// row filters, the policies that decided, and the conflicts they resolved.
fn decided(
    ctx: &Ctx<'_>,
    pc: &super::guard::PolicyCheck<'_>,
    role: Option<&str>,
    assets: &[EntityRef],
) -> Result<Outcome> {
    use govgraph_policy::{MaskMethod, Obligation};
    let purpose = [
        ("marketing", "dpv:Marketing"),
        ("customer care", "dpv:CustomerCare"),
        ("customercare", "dpv:CustomerCare"),
        ("support", "dpv:CustomerCare"),
        ("fraud", "dpv:FraudPreventionAndDetection"),
        ("delivery", "dpv:DeliveryOfGoods"),
        ("research", "dpv:ResearchAndDevelopment"),
    ]
    .iter()
    .find(|(w, _)| ctx.has(&[w]) && (ctx.has(&["for"]) || ctx.has(&["purpose"])))
    .map(|(_, p)| *p);
    let action = if ctx.has(&["use"]) { "use" } else { "read" };
    let role_name = role.unwrap_or(ctx.role.name());
    let who_role = format!("{} {role_name}", article(role_name));
    let targets: Vec<&EntityRef> = assets.iter().take(4).collect();
    let who = some_names(assets, 4);
    let mut decisions = Vec::new();
    for a in &targets {
        decisions.push(pc.decide(&a.iri, action, role, purpose)?.decision);
    }
    let mut policies: Vec<String> = Vec::new();
    let mut titles: Vec<String> = Vec::new();
    for d in &decisions {
        for p in &d.decided_by {
            if !policies.contains(&p.policy) {
                policies.push(p.policy.clone());
                titles.push(p.title.clone());
            }
        }
    }
    let cited = if titles.is_empty() {
        String::new()
    } else {
        format!(" ({})", titles.join("; "))
    };
    let text = if let Some(d) = decisions.iter().find(|d| !d.permits()) {
        let mut t = format!("No: {}{cited}", d.reasons.join("; "));
        for (p, purpose) in &d.available_for {
            t.push_str(&format!(
                "; \"{}\" allows it for the purpose {purpose}",
                p.title
            ));
        }
        t.push('.');
        t
    } else {
        let mut masks: Vec<MaskMethod> = Vec::new();
        let mut filters: Vec<String> = Vec::new();
        for d in &decisions {
            for o in &d.obligations {
                match o {
                    Obligation::Mask { method, .. } if !masks.contains(method) => {
                        masks.push(*method)
                    }
                    Obligation::RowFilter { condition, .. } if !filters.contains(condition) => {
                        filters.push(condition.clone());
                    }
                    _ => {}
                }
            }
        }
        let masked = masks
            .iter()
            .map(|m| match m {
                MaskMethod::Hash => "hashed",
                MaskMethod::Redact => "redacted",
                MaskMethod::Partial => "partially masked",
                MaskMethod::Tokenize => "tokenized",
            })
            .collect::<Vec<_>>()
            .join(" or ");
        let granted = decisions
            .iter()
            .any(|d| d.decided_by.iter().any(|p| p.rule == "permission"));
        let purpose_words = purpose
            .map(|p| format!(" for the purpose {p}"))
            .unwrap_or_default();
        let rows = if filters.is_empty() {
            String::new()
        } else {
            format!(", only rows where {}", filters.join(" or "))
        };
        let mut t = if masks.is_empty() && filters.is_empty() {
            if granted {
                format!("Yes: {who_role} may {action} {who}{purpose_words}{cited}.")
            } else {
                format!("Yes: no policy restricts {who} for {who_role}.")
            }
        } else if granted {
            format!(
                "Yes, with conditions: {who_role} may {action} {who}{purpose_words}{}{rows}{cited}.",
                if masked.is_empty() {
                    String::new()
                } else {
                    format!(", {masked}")
                }
            )
        } else {
            format!("No, not in clear: {who_role} sees {who} only {masked}{rows}{cited}.")
        };
        for c in decisions.iter().flat_map(|d| &d.conflicts).take(2) {
            t.push_str(&format!(" Note: the {}.", c.reason));
        }
        t
    };
    let ents = refs(ctx.kb, ctx.lex, &policies)?;
    Ok(Outcome {
        text,
        entities: ents,
        ..Outcome::default()
    })
}

fn policy(ctx: &Ctx<'_>) -> Result<Outcome> {
    let mut assets: Vec<EntityRef> = ctx
        .subjects(&[Kind::Column, Kind::Dataset, Kind::Tag])
        .iter()
        .map(EntityRef::from_entry)
        .collect();
    if assets.is_empty() && ctx.has(&["those", "them", "these", "they"]) {
        assets = ctx.previous_of(&[Kind::Column, Kind::Dataset]);
    }
    let named = ctx.only(Kind::Policy);
    let retention = ctx.has(&[
        "retention",
        "how long",
        "kept",
        "keep",
        "retain",
        "retained",
        "deleted",
        "delete",
    ]);
    if !named.is_empty() {
        let rules: Vec<PolicyRule> = policy_rules(ctx.kb, &[])?
            .into_iter()
            .filter(|r| named.iter().any(|n| n.iri == r.policy))
            .collect();
        let desc = ctx.kb.select(&format!(
            "SELECT ?p ?d WHERE {{ {} ?p dct:description ?d }}",
            values(
                "p",
                &named.iter().map(|n| n.iri.clone()).collect::<Vec<_>>()
            )
        ))?;
        let text = named
            .iter()
            .map(|n| {
                let d = desc
                    .iter()
                    .find(|r| text(r, "p").as_deref() == Some(&n.iri))
                    .and_then(|r| text(r, "d"))
                    .unwrap_or_default();
                let rs: Vec<String> = rules
                    .iter()
                    .filter(|r| r.policy == n.iri)
                    .map(describe_rule)
                    .collect();
                format!("{}: \u{201c}{d}\u{201d} {}", n.name, rs.join(" "))
            })
            .collect::<Vec<_>>()
            .join(" ");
        return Ok(Outcome {
            text,
            entities: named.iter().map(EntityRef::from_entry).collect(),
            ..Outcome::default()
        });
    }
    if assets.is_empty() {
        // Catalog-wide: which policies (central, of a domain, on retention).
        let mut rules = policy_rules(ctx.kb, &[])?;
        if retention {
            rules.retain(|r| r.elapsed.is_some());
        }
        let domains = ctx.only(Kind::Domain);
        let mut policies: Vec<String> = Vec::new();
        let central_only = ctx.has(&["central", "office wide", "global", "company wide"]);
        let local_only =
            ctx.has(&["domain policies", "local", "domain level"]) || !domains.is_empty();
        let of_domain: BTreeSet<String> = if domains.is_empty() {
            BTreeSet::new()
        } else {
            let rows = ctx.kb.select(&format!(
                "SELECT ?p WHERE {{ ?p a odrl:Policy ; gg:domain ?d . {} }}",
                values(
                    "d",
                    &domains.iter().map(|d| d.iri.clone()).collect::<Vec<_>>()
                )
            ))?;
            rows.iter().filter_map(|r| text(r, "p")).collect()
        };
        for r in &rules {
            if central_only && !r.central
                || local_only && r.central
                || !domains.is_empty() && !of_domain.contains(&r.policy)
            {
                continue;
            }
            if !policies.contains(&r.policy) {
                policies.push(r.policy.clone());
            }
        }
        let items = refs(ctx.kb, ctx.lex, &policies)?;
        return Ok(Outcome {
            text: format!(
                "{}: {}.",
                capital(&count_of(items.len(), "policy", "policies")),
                join_names(&names(&items))
            ),
            value: Some(items.len() as f64),
            entities: items,
            ..Outcome::default()
        });
    }
    let iris: Vec<String> = assets.iter().map(|e| e.iri.clone()).collect();
    let targets = policy_targets(ctx.kb, &iris)?;
    let mut rules = policy_rules(ctx.kb, &targets)?;
    if retention {
        rules.retain(|r| r.elapsed.is_some());
        let who = some_names(&assets, 5);
        if rules.is_empty() {
            return Ok(Outcome {
                text: format!("No retention period is recorded for {who}."),
                ..Outcome::default()
            });
        }
        let periods: Vec<String> = rules
            .iter()
            .map(|r| {
                format!(
                    "{} ({})",
                    duration_words(r.elapsed.as_deref().unwrap_or("")),
                    r.title
                )
            })
            .collect();
        let ents = refs(
            ctx.kb,
            ctx.lex,
            &rules.iter().map(|r| r.policy.clone()).collect::<Vec<_>>(),
        )?;
        return Ok(Outcome {
            text: format!("{who} is kept for {}.", join_names(&periods)),
            entities: dedup(ents),
            ..Outcome::default()
        });
    }
    // "Can an analyst read X?": with a policy engine, its decisions.
    if let Some(pc) = ctx.policy {
        let role = role_word(&ctx.words);
        if role.is_some() || ctx.has(&["can i", "may i", "am i"]) {
            return decided(ctx, pc, role, &assets);
        }
    }
    // Without one, a decision from the stored rules, prohibitions first.
    if let Some(role) = role_word(&ctx.words).or(if ctx.has(&["can i", "may i", "am i"]) {
        Some(ctx.role.name())
    } else {
        None
    }) {
        let applies: Vec<&PolicyRule> = rules
            .iter()
            .filter(|r| r.assignee.as_deref() == Some(role) && r.kind != "obligation")
            .collect();
        let purpose = [
            "marketing",
            "customercare",
            "customer care",
            "fraud",
            "delivery",
        ]
        .iter()
        .find(|p| ctx.has(&[p]))
        .map(|p| p.replace(' ', ""));
        let prohibition = applies.iter().find(|r| r.kind == "prohibition");
        let permission = applies.iter().find(|r| {
            r.kind == "permission"
                && r.purpose.as_ref().is_none_or(|p| {
                    purpose
                        .as_ref()
                        .is_some_and(|want| p.to_lowercase().contains(want))
                })
        });
        let conditional = applies
            .iter()
            .find(|r| r.kind == "permission" && r.purpose.is_some() && permission.is_none());
        let who = some_names(&assets, 4);
        let (text, decided) = if let Some(p) = permission
            .filter(|p| !p.central || prohibition.is_none())
            .filter(|_| prohibition.is_none() || purpose.is_some())
        {
            (
                format!(
                    "Yes, with conditions: a {role} may {} {who}{}{}{} ({}).",
                    p.action.as_deref().unwrap_or("read"),
                    p.purpose
                        .as_ref()
                        .map(|x| format!(" for the purpose {x}"))
                        .unwrap_or_default(),
                    p.masking
                        .as_ref()
                        .map(|m| format!(", masked ({m})"))
                        .unwrap_or_default(),
                    p.row_filter
                        .as_ref()
                        .map(|f| format!(", rows where {f}"))
                        .unwrap_or_default(),
                    p.title
                ),
                vec![p.policy.clone()],
            )
        } else if let Some(p) = prohibition {
            (
                format!(
                    "No: a {role} may not read {who} in clear{} ({}){}.",
                    p.masking
                        .as_ref()
                        .map(|m| format!("; values are masked ({m})"))
                        .unwrap_or_default(),
                    p.title,
                    conditional
                        .map(|c| format!(
                            "; {} allows it for the purpose {}",
                            c.title,
                            c.purpose.clone().unwrap_or_default()
                        ))
                        .unwrap_or_default()
                ),
                vec![p.policy.clone()],
            )
        } else if let Some(c) = conditional {
            (
                format!(
                    "Only for the purpose {}: {} ({}).",
                    c.purpose.clone().unwrap_or_default(),
                    describe_rule(c),
                    c.title
                ),
                vec![c.policy.clone()],
            )
        } else {
            let pii = filter(
                ctx.kb,
                assets.clone(),
                &Filters {
                    pii: Some(true),
                    ..Filters::default()
                },
            )?;
            if pii.is_empty() {
                (
                    format!("Yes: no policy restricts {who} for a {role}."),
                    vec![],
                )
            } else {
                (
                    format!(
                        "No: {who} holds personal data and no policy grants a {role} access, so access is denied by default."
                    ),
                    vec![],
                )
            }
        };
        let ents = refs(ctx.kb, ctx.lex, &decided)?;
        return Ok(Outcome {
            text,
            entities: ents,
            ..Outcome::default()
        });
    }
    let mut seen = Vec::new();
    let mut lines = Vec::new();
    for r in &rules {
        if !seen.contains(&r.policy) {
            seen.push(r.policy.clone());
        }
        lines.push(format!("{}: {}", r.title, describe_rule(r)));
    }
    lines.dedup();
    let ents = refs(ctx.kb, ctx.lex, &seen)?;
    Ok(Outcome {
        text: if ents.is_empty() {
            format!(
                "No policy names {} or its classifications.",
                some_names(&assets, 4)
            )
        } else {
            format!(
                "{} {} to {}: {}.",
                capital(&count_of(ents.len(), "policy", "policies")),
                if ents.len() == 1 { "applies" } else { "apply" },
                some_names(&assets, 4),
                lines.join("; ")
            )
        },
        value: Some(ents.len() as f64),
        entities: ents,
        ..Outcome::default()
    })
}

fn describe_rule(r: &PolicyRule) -> String {
    let who = r
        .assignee
        .as_ref()
        .map(|a| format!("{a}s"))
        .unwrap_or_else(|| "everyone".to_owned());
    let action = r.action.clone().unwrap_or_else(|| "use".to_owned());
    let mut s = match r.kind.as_str() {
        "prohibition" => format!("{who} may not {action}"),
        "obligation" => match &r.elapsed {
            Some(e) => format!("{action} after {}", duration_words(e)),
            None => format!("must {action}"),
        },
        _ => format!("{who} may {action}"),
    };
    if let Some(p) = &r.purpose {
        s.push_str(&format!(" for the purpose {p}"));
    }
    if let Some(m) = &r.masking {
        s.push_str(&format!(", masked ({m})"));
    }
    if let Some(f) = &r.row_filter {
        s.push_str(&format!(", rows where {f}"));
    }
    s.push_str(if r.central { " [central]" } else { " [domain]" });
    s
}

// ---------------------------------------------------------------------------------------
// Compliance

fn compliance(ctx: &Ctx<'_>) -> Result<Outcome> {
    let activities = ctx.only(Kind::ProcessingActivity);
    let orgs = ctx.only(Kind::Organization);
    let mut assets: Vec<EntityRef> = ctx
        .subjects(&[Kind::Dataset, Kind::Column])
        .iter()
        .map(EntityRef::from_entry)
        .collect();
    let concepts = ctx.subjects(&[Kind::Tag, Kind::Term]);
    if !activities.is_empty() {
        let iris: Vec<String> = activities.iter().map(|a| a.iri.clone()).collect();
        let rows = ctx.kb.select(&format!(
            "SELECT ?a ?p ?o WHERE {{ {} ?a ?p ?o . VALUES ?p {{ dpv:hasPurpose dpv:hasLegalBasis dpv:hasPersonalData dpv:hasRecipient gg:processes dpv:hasDataSubject dpv:hasDataController dpv:hasTechnicalOrganisationalMeasure }} }}",
            values("a", &iris)
        ))?;
        let local = |s: &str| s.rsplit(['#', '/']).next().unwrap_or(s).to_owned();
        let mut lines = Vec::new();
        let mut entities = Vec::new();
        for a in &activities {
            let get = |p: &str| -> Vec<String> {
                let mut v: Vec<String> = rows
                    .iter()
                    .filter(|r| {
                        text(r, "a").as_deref() == Some(&a.iri)
                            && text(r, "p").is_some_and(|x| x.ends_with(p))
                    })
                    .filter_map(|r| text(r, "o"))
                    .collect();
                v.sort();
                v.dedup();
                v
            };
            let datasets = refs(ctx.kb, ctx.lex, &get("processes"))?;
            let recipients = refs(ctx.kb, ctx.lex, &get("hasRecipient"))?;
            let basis: Vec<String> = get("hasLegalBasis")
                .iter()
                .map(|b| legal_basis(&local(b)))
                .collect();
            let purposes: Vec<String> = get("hasPurpose").iter().map(|p| local(p)).collect();
            let data: Vec<String> = get("hasPersonalData").iter().map(|p| local(p)).collect();
            let only_basis = ctx.has(&["legal basis", "lawful basis"]);
            let only_recipients = ctx.has(&[
                "recipient",
                "recipients",
                "shared with",
                "share",
                "third party",
                "third parties",
                "processor",
                "processors",
                "receives",
                "receive",
            ]);
            let only_data = ctx.has(&[
                "which personal data",
                "what personal data",
                "categories",
                "kinds of personal data",
            ]);
            let only_datasets = matches!(ctx.reading.target, Some(Kind::Dataset));
            let only_purpose = ctx.has(&["purpose", "purposes"]) && !only_basis;
            if only_basis {
                lines.push(format!("{}: legal basis {}.", a.name, join_names(&basis)));
                entities.push(EntityRef::from_entry(a));
            } else if only_recipients {
                lines.push(format!(
                    "{} shares data with {}.",
                    a.name,
                    join_names(&names(&recipients))
                ));
                entities.extend(recipients);
            } else if only_datasets {
                lines.push(format!(
                    "{} processes {}.",
                    a.name,
                    join_names(&names(&datasets))
                ));
                entities.extend(datasets);
            } else if only_data {
                lines.push(format!(
                    "{} processes these personal data categories: {}.",
                    a.name,
                    join_names(&data)
                ));
                entities.push(EntityRef::from_entry(a));
            } else if only_purpose {
                lines.push(format!("{}: purpose {}.", a.name, join_names(&purposes)));
                entities.push(EntityRef::from_entry(a));
            } else {
                lines.push(format!(
                    "{}: purpose {}; legal basis {}; personal data {}; recipients {}; datasets {}.",
                    a.name,
                    join_names(&purposes),
                    join_names(&basis),
                    join_names(&data),
                    if recipients.is_empty() {
                        "none".to_owned()
                    } else {
                        join_names(&names(&recipients))
                    },
                    join_names(&names(&datasets))
                ));
                entities.push(EntityRef::from_entry(a));
                entities.extend(datasets);
            }
        }
        return Ok(Outcome {
            text: lines.join(" "),
            entities: dedup(entities),
            ..Outcome::default()
        });
    }
    if !orgs.is_empty() {
        let iris: Vec<String> = orgs.iter().map(|o| o.iri.clone()).collect();
        let rows = ctx.kb.select(&format!("SELECT DISTINCT ?a ?ds WHERE {{ {} ?a dpv:hasRecipient ?o . OPTIONAL {{ ?a gg:processes ?ds }} }} ORDER BY ?a ?ds", values("o", &iris)))?;
        let acts: Vec<String> = rows
            .iter()
            .filter_map(|r| text(r, "a"))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let ds: Vec<String> = rows
            .iter()
            .filter_map(|r| text(r, "ds"))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let acts = refs(ctx.kb, ctx.lex, &acts)?;
        let ds = refs(ctx.kb, ctx.lex, &ds)?;
        let want_ds = matches!(ctx.reading.target, Some(Kind::Dataset))
            || ctx.has(&["what data", "which data"]);
        return Ok(Outcome {
            text: format!(
                "{} receives data through {}{}.",
                join_names(&names_of_entries(&orgs)),
                join_names(&names(&acts)),
                if ds.is_empty() {
                    String::new()
                } else {
                    format!(", from {}", join_names(&names(&ds)))
                }
            ),
            entities: if want_ds { ds } else { acts },
            ..Outcome::default()
        });
    }
    if ctx.has(&[
        "not covered",
        "no processing activity",
        "without a processing activity",
        "undeclared",
        "not declared",
        "without processing",
        "no purpose",
        "without a purpose",
    ]) {
        let rows = ctx.kb.select(&format!(
            "SELECT DISTINCT ?x WHERE {{ ?x a dcat:Dataset . FILTER NOT EXISTS {{ ?x a gg:Dashboard }} FILTER ({}) FILTER NOT EXISTS {{ ?a gg:processes ?x }} }}",
            dataset_pii(ctx.kb, "?x", 20)
        ))?;
        // Sorted here: ORDER BY in the store decodes every term it compares.
        let mut found: Vec<String> = rows.iter().filter_map(|r| text(r, "x")).collect();
        found.sort();
        let items = refs(ctx.kb, ctx.lex, &found)?;
        return Ok(Outcome {
            text: if items.is_empty() {
                "Every dataset with personal data is covered by a processing activity.".to_owned()
            } else {
                format!(
                    "{} personal data but no processing activity: {}.",
                    capital(&count_of(items.len(), "dataset holds", "datasets hold")),
                    join_names(&names(&items))
                )
            },
            value: Some(items.len() as f64),
            entities: items,
            ..Outcome::default()
        });
    }
    if assets.is_empty() && ctx.has(&["those", "them", "these", "they"]) {
        assets = ctx.previous_of(&[Kind::Dataset, Kind::Column]);
    }
    let (pattern, about) = if !assets.is_empty() {
        let ds = datasets_of(ctx.kb, &assets)?;
        (
            format!("{} ?a gg:processes ?x .", values("x", &ds)),
            format!(" process {}", some_names(&assets, 4)),
        )
    } else if !concepts.is_empty() {
        // Personal data categories of tags, or of the tags on a term's columns.
        let iris: Vec<String> = concepts.iter().map(|c| c.iri.clone()).collect();
        (
            format!(
                "{} {{ ?c gg:personalDataCategory ?cat }} UNION {{ ?col gg:term ?c ; gg:tag/gg:personalDataCategory ?cat }} ?a dpv:hasPersonalData ?cat .",
                values("c", &iris)
            ),
            format!(" use {}", join_names(&names_of_entries(&concepts))),
        )
    } else if ctx.has(&[
        "third party",
        "third parties",
        "recipient",
        "recipients",
        "processor",
        "processors",
        "shared",
        "share",
    ]) {
        (
            "?a dpv:hasRecipient ?o .".to_owned(),
            " share data with recipients".to_owned(),
        )
    } else {
        (String::new(), String::new())
    };
    let rows = ctx.kb.select(&format!(
        "SELECT DISTINCT ?a WHERE {{ ?a a gg:ProcessingActivity . {pattern} }} ORDER BY ?a"
    ))?;
    let found: Vec<String> = rows.iter().filter_map(|r| text(r, "a")).collect();
    let items = refs(ctx.kb, ctx.lex, &found)?;
    Ok(Outcome {
        text: if items.is_empty() {
            format!("No processing activity{about}.")
        } else {
            format!(
                "{}{about}: {}.",
                capital(&count_of(
                    items.len(),
                    "processing activity",
                    "processing activities"
                )),
                join_names(&names(&items))
            )
        },
        value: Some(items.len() as f64),
        entities: items,
        ..Outcome::default()
    })
}

fn legal_basis(code: &str) -> String {
    match code {
        "A6-1-a" => "consent (GDPR Art. 6(1)(a))".to_owned(),
        "A6-1-b" => "contract (GDPR Art. 6(1)(b))".to_owned(),
        "A6-1-c" => "legal obligation (GDPR Art. 6(1)(c))".to_owned(),
        "A6-1-d" => "vital interests (GDPR Art. 6(1)(d))".to_owned(),
        "A6-1-e" => "public task (GDPR Art. 6(1)(e))".to_owned(),
        "A6-1-f" => "legitimate interests (GDPR Art. 6(1)(f))".to_owned(),
        other => other.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Counts, listings, descriptions

fn count(ctx: &Ctx<'_>) -> Result<Outcome> {
    if ctx.has(&["row", "rows", "record", "records"]) {
        let subjects: Vec<EntityRef> = ctx
            .subjects(&[Kind::Dataset])
            .iter()
            .map(EntityRef::from_entry)
            .collect();
        let subjects = if subjects.is_empty() {
            ctx.previous_of(&[Kind::Dataset])
        } else {
            subjects
        };
        if subjects.is_empty() {
            return Ok(Outcome {
                text: "Which dataset? Name it as schema.table.".to_owned(),
                ..Outcome::default()
            });
        }
        let iris: Vec<String> = subjects.iter().map(|s| s.iri.clone()).collect();
        let rows = ctx.kb.select(&format!(
            "SELECT ?x ?n ?m ?t WHERE {{ {} OPTIONAL {{ ?x gg:rowCount ?n }}
               OPTIONAL {{ ?q dqv:computedOn ?x ; dqv:isMeasurementOf gg:RowCount ; dqv:value ?m ; prov:generatedAtTime ?t .
                 FILTER NOT EXISTS {{ ?q2 dqv:computedOn ?x ; dqv:isMeasurementOf gg:RowCount ; prov:generatedAtTime ?t2 FILTER (?t2 > ?t) }} }} }}",
            values("x", &iris)
        ))?;
        let mut total = 0.0;
        let mut lines = Vec::new();
        for s in &subjects {
            let r = rows
                .iter()
                .find(|r| text(r, "x").as_deref() == Some(&s.iri));
            let measured = r.and_then(|r| number(r, "m").map(|m| (m, text(r, "t"))));
            let declared = r.and_then(|r| number(r, "n"));
            match (measured, declared) {
                (Some((m, t)), _) => {
                    total += m;
                    lines.push(format!(
                        "{} has {m:.0} rows (measured {}).",
                        s.name,
                        t.unwrap_or_default()
                    ));
                }
                (None, Some(n)) => {
                    total += n;
                    lines.push(format!(
                        "{} has {n:.0} rows (as recorded in the catalog).",
                        s.name
                    ));
                }
                _ => lines.push(format!("No row count is recorded for {}.", s.name)),
            }
        }
        return Ok(Outcome {
            text: lines.join(" "),
            value: Some(total),
            entities: subjects,
            ..Outcome::default()
        });
    }
    let inner = ctx.reading.counted.unwrap_or(Intent::Listing);
    let outcome = if inner == Intent::Count {
        listing(ctx)?
    } else {
        execute(ctx, inner)?
    };
    let target = ctx.reading.target;
    let mut counted: Vec<EntityRef> = match target {
        Some(k) if outcome.entities.iter().any(|e| e.kind == k) => outcome
            .entities
            .iter()
            .filter(|e| e.kind == k)
            .cloned()
            .collect(),
        _ => outcome.entities.clone(),
    };
    counted = dedup(counted);
    let n = counted.len();
    let noun = target
        .map(|k| (kind_noun(k), k.plural()))
        .unwrap_or(("entity", "entities"));
    Ok(Outcome {
        text: format!(
            "{}. {}",
            capital(&count_of(n, noun.0, noun.1)),
            outcome.text
        ),
        value: Some(n as f64),
        entities: counted,
        refused: outcome.refused,
        choices: outcome.choices,
    })
}

fn listing(ctx: &Ctx<'_>) -> Result<Outcome> {
    let kind = ctx.reading.target.unwrap_or(Kind::Dataset);
    // Subjects narrow a listing: "columns of bronze.orders", "terms of the sales domain".
    let datasets = ctx.subjects(&[Kind::Dataset]);
    let mut filters = ctx.filters.clone();
    let (class, extra) = match kind {
        Kind::Dataset => (
            "dcat:Dataset",
            "FILTER NOT EXISTS { ?x a gg:Dashboard }".to_owned(),
        ),
        Kind::Column => (
            "csvw:Column",
            if datasets.is_empty() {
                String::new()
            } else {
                format!(
                    "?x gg:columnOf ?lds . {}",
                    values(
                        "lds",
                        &datasets.iter().map(|d| d.iri.clone()).collect::<Vec<_>>()
                    )
                )
            },
        ),
        Kind::Term => ("gg:GlossaryTerm", String::new()),
        Kind::Domain => ("gg:Domain", String::new()),
        Kind::Person => (
            "prov:Agent",
            "FILTER NOT EXISTS { ?x a gg:Domain } FILTER NOT EXISTS { ?x a org:Organization }"
                .to_owned(),
        ),
        Kind::Tag => ("gg:Tag", String::new()),
        Kind::Policy => ("odrl:Policy", String::new()),
        Kind::ProcessingActivity => ("gg:ProcessingActivity", String::new()),
        Kind::Rule => ("gg:QualityRule", String::new()),
        Kind::Dashboard => ("gg:Dashboard", String::new()),
        Kind::System => ("gg:System", String::new()),
        Kind::Organization => (
            "org:Organization",
            "FILTER NOT EXISTS { ?x a gg:Domain }".to_owned(),
        ),
        Kind::DataProduct => ("gg:DataProduct", String::new()),
    };
    if ctx.has(&["pii", "personal"]) {
        filters.pii = Some(true);
    }
    let patterns = match kind {
        Kind::Dataset | Kind::Dashboard => filters.dataset_patterns(ctx.kb),
        Kind::Column => filters.patterns(ctx.kb),
        Kind::Term | Kind::Rule | Kind::Policy | Kind::ProcessingActivity => {
            let mut p = String::new();
            if !filters.domains.is_empty() {
                p.push_str(&format!(
                    "?x gg:domain ?fd . {}",
                    values("fd", &filters.domains)
                ));
            }
            if !filters.owners.is_empty() {
                p.push_str(&format!(
                    "{{ ?x gg:owner ?fo }} UNION {{ ?x gg:steward ?fo }} {}",
                    values("fo", &filters.owners)
                ));
            }
            p
        }
        Kind::Person if !filters.domains.is_empty() => {
            format!("?x org:memberOf ?fd . {}", values("fd", &filters.domains))
        }
        _ => String::new(),
    };
    let rows = ctx.kb.select(&format!(
        "SELECT DISTINCT ?x WHERE {{ ?x a {class} . {extra} {patterns} }}"
    ))?;
    // Sorted here: ORDER BY in the store decodes every term it compares.
    let mut found: Vec<String> = rows.iter().filter_map(|r| text(r, "x")).collect();
    found.sort();
    let mut items = refs(ctx.kb, ctx.lex, &found)?;
    for e in &mut items {
        if e.kind == Kind::Dataset && kind != Kind::Dataset && kind != Kind::Column {
            e.kind = kind;
        }
    }
    Ok(Outcome {
        text: if items.is_empty() {
            format!("There are no {} of that kind.", kind.plural())
        } else {
            format!(
                "{}: {}.",
                capital(&count_of(items.len(), kind_noun(kind), kind.plural())),
                some_names(&items, 25)
            )
        },
        value: Some(items.len() as f64),
        entities: items,
        ..Outcome::default()
    })
}

/// A column's range from its latest profile. The output guardrail masks it as the asker's
/// policies say; without a policy engine it is left out wherever the role may not see the
/// column's values.
fn profile_range(ctx: &Ctx<'_>, column: &str) -> Result<Option<String>> {
    if ctx.policy.is_none() {
        let flags = restricted_columns(ctx.kb, &[column.to_owned()])?;
        if flags
            .iter()
            .any(|(_, pii, restricted)| !ctx.role.may_see(*pii, *restricted))
        {
            return Ok(None);
        }
    }
    let rows = ctx.kb.select(&format!(
        "SELECT ?metric ?v ?t WHERE {{ ?m dqv:computedOn {} ; dqv:isMeasurementOf ?metric ; dqv:value ?v ; prov:generatedAtTime ?t .
           VALUES ?metric {{ gg:MinimumValue gg:MaximumValue }} }}",
        q(column)
    ))?;
    let newest = |suffix: &str| -> Option<String> {
        rows.iter()
            .filter(|r| text(r, "metric").is_some_and(|m| m.ends_with(suffix)))
            .max_by_key(|r| text(r, "t"))
            .and_then(|r| text(r, "v"))
    };
    Ok(match (newest("MinimumValue"), newest("MaximumValue")) {
        (Some(lo), Some(hi)) => Some(format!("Latest profile: from {lo} to {hi}.")),
        _ => None,
    })
}

fn describe(ctx: &Ctx<'_>) -> Result<Outcome> {
    let mut subjects: Vec<EntityRef> = ctx
        .subjects(&[
            Kind::Column,
            Kind::Dataset,
            Kind::Dashboard,
            Kind::Domain,
            Kind::Person,
            Kind::Term,
            Kind::Tag,
            Kind::Policy,
            Kind::ProcessingActivity,
            Kind::System,
            Kind::Organization,
        ])
        .iter()
        .map(EntityRef::from_entry)
        .collect();
    if subjects.is_empty() {
        subjects = ctx.previous.clone();
    }
    let Some(first) = subjects.first().cloned() else {
        return Ok(Outcome { text: "I could not tell what to look up. Name a dataset (schema.table), a column (table.column), a term, a domain or a person.".to_owned(), ..Outcome::default() });
    };
    match first.kind {
        Kind::Term => return glossary(ctx),
        Kind::Policy => return policy(ctx),
        Kind::ProcessingActivity | Kind::Organization => return compliance(ctx),
        _ => {}
    }
    if first.kind == Kind::Dataset && matches!(ctx.reading.target, Some(Kind::Column)) {
        let cols = columns_of(ctx.kb, ctx.lex, std::slice::from_ref(&first.iri))?;
        let listed: Vec<String> = cols
            .iter()
            .map(|c| {
                format!(
                    "{} ({})",
                    c.r.name.rsplit('.').next().unwrap_or(""),
                    c.data_type.clone().unwrap_or_default()
                )
            })
            .collect();
        return Ok(Outcome {
            text: format!(
                "{} has {}: {}.",
                first.name,
                count_of(cols.len(), "column", "columns"),
                listed.join(", ")
            ),
            value: Some(cols.len() as f64),
            entities: cols.into_iter().map(|c| c.r).collect(),
            ..Outcome::default()
        });
    }
    let rows = ctx.kb.select(&format!(
        "SELECT ?p ?o ?label WHERE {{ {} ?p ?o . VALUES ?p {{ dct:description skos:definition gg:layer gg:domain gg:system gg:owner gg:steward gg:certified gg:rowCount gg:dataType gg:columnOf gg:term org:memberOf gg:platform }}
           OPTIONAL {{ ?o dct:title|skos:prefLabel|foaf:name ?label }} }}",
        q(&first.iri)
    ))?;
    let get = |p: &str| -> Vec<String> {
        let mut v: Vec<String> = rows
            .iter()
            .filter(|r| text(r, "p").is_some_and(|x| x.ends_with(p)))
            .filter_map(|r| text(r, "label").or_else(|| text(r, "o")))
            .collect();
        v.dedup();
        v
    };
    let mut parts: Vec<String> = Vec::new();
    let mut texts = get("description");
    texts.extend(get("definition"));
    texts.sort();
    texts.dedup();
    for d in texts {
        parts.push(format!("\u{201c}{d}\u{201d}"));
    }
    for (p, label) in [
        ("layer", "Layer"),
        ("platform", "Platform"),
        ("columnOf", "In dataset"),
        ("dataType", "Type"),
        ("domain", "Domain"),
        ("system", "System"),
        ("owner", "Owner"),
        ("steward", "Steward"),
        ("term", "Glossary term"),
        ("memberOf", "Member of"),
        ("rowCount", "Rows"),
    ] {
        let v = get(p);
        if !v.is_empty() {
            parts.push(format!("{label}: {}.", v.join(", ")));
        }
    }
    if get("certified").first().is_some_and(|c| c == "true") {
        parts.push("Certified.".to_owned());
    }
    let tags = tags_of(ctx.kb, &first.iri)?;
    if !tags.is_empty() {
        parts.push(format!("Tags: {}.", tags.join(", ")));
    }
    if first.kind == Kind::Column
        && let Some(range) = profile_range(ctx, &first.iri)?
    {
        parts.push(range);
    }
    let mut value = None;
    if first.kind == Kind::Dataset {
        let cols = columns_of(ctx.kb, ctx.lex, std::slice::from_ref(&first.iri))?;
        let pii = cols.iter().filter(|c| c.pii).count();
        parts.push(format!(
            "{}{}.",
            capital(&count_of(cols.len(), "column", "columns")),
            if pii > 0 {
                format!(", {pii} with personal data")
            } else {
                String::new()
            }
        ));
        value = Some(cols.len() as f64);
    }
    if first.kind == Kind::Domain {
        let rows = ctx.kb.select(&format!(
            "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE {{ ?d gg:domain {} ; a dcat:Dataset }}",
            q(&first.iri)
        ))?;
        if let Some(n) = rows.first().and_then(|r| number(r, "n")) {
            parts.push(format!(
                "It holds {}.",
                count_of(n as usize, "dataset", "datasets")
            ));
            value = Some(n);
        }
    }
    Ok(Outcome {
        text: format!(
            "{} ({}): {}",
            first.name,
            kind_noun(first.kind),
            parts.join(" ")
        ),
        entities: vec![first],
        value,
        ..Outcome::default()
    })
}

/// Marks outcomes whose question asked for a restricted value; used by the guardrail.
pub fn restricted_columns(kb: &Kb<'_>, columns: &[String]) -> Result<Vec<(String, bool, bool)>> {
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let rows = kb.select(&format!(
        "SELECT ?c ?pii ?restricted WHERE {{ {} BIND ({} AS ?pii) BIND ({} AS ?restricted) }}",
        values("c", columns),
        pii_tagged(kb, "?c", 1),
        restricted_tagged(kb, "?c", 2)
    ))?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((text(r, "c")?, boolean(r, "pii"), boolean(r, "restricted"))))
        .collect())
}
