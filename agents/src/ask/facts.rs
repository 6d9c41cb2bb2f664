//! Typed look-ups the executor composes answers from. Each is one scoped SPARQL query.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::kb::{Kb, boolean, iri, number, text, values};
use super::lexicon::{Entry, Kind, Lexicon};
use crate::error::Result;

/// An entity in an answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityRef {
    /// Its IRI.
    pub iri: String,
    /// Its name: a dataset's identifier, a column's `dataset.column`, otherwise its label.
    pub name: String,
    /// Its kind.
    pub kind: Kind,
}

impl EntityRef {
    pub(crate) fn from_entry(e: &Entry) -> Self {
        Self {
            iri: e.iri.clone(),
            name: e.name.clone(),
            kind: e.kind,
        }
    }

    pub(crate) fn entry(&self) -> Entry {
        Entry {
            iri: self.iri.clone(),
            kind: self.kind,
            name: self.name.clone(),
        }
    }
}

/// `EXISTS { var is tagged with personal data }`, with the personal-data tags the lexicon
/// worked out (a tag, or a broader one, with a personal-data category, a special category, or
/// the notation `pii`). `n` keeps variable names apart.
pub fn pii_tagged(kb: &Kb<'_>, var: &str, n: usize) -> String {
    format!(
        "EXISTS {{ {var} gg:tag ?pt{n} . {} }}",
        values(&format!("pt{n}"), &kb.pii_tags)
    )
}

/// `EXISTS { var is tagged restricted }`: a tag of sensitivity `restricted`, a special
/// category, or the classifier's `restricted` tag.
pub fn restricted_tagged(kb: &Kb<'_>, var: &str, n: usize) -> String {
    format!(
        "EXISTS {{ {var} gg:tag ?rt{n} . {} }}",
        values(&format!("rt{n}"), &kb.restricted_tags)
    )
}

/// A dataset holds personal data when it or one of its columns is tagged so.
pub fn dataset_pii(kb: &Kb<'_>, var: &str, n: usize) -> String {
    format!(
        "EXISTS {{ {{ {var} gg:tag ?pt{n} }} UNION {{ ?pc_col{n} gg:columnOf {var} ; gg:tag ?pt{n} }} {} }}",
        values(&format!("pt{n}"), &kb.pii_tags)
    )
}

/// What narrows a list of datasets or columns.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Filters {
    /// In one of these domains.
    pub domains: Vec<String>,
    /// Owned or stewarded by one of these.
    pub owners: Vec<String>,
    /// Tagged with one of these (or a narrower tag).
    pub tags: Vec<String>,
    /// In one of these systems.
    pub systems: Vec<String>,
    /// In this layer (bronze, silver, gold).
    pub layer: Option<String>,
    /// Certified only.
    pub certified: bool,
    /// Personal data only (true) or none (false).
    pub pii: Option<bool>,
    /// Restricted only.
    pub restricted: bool,
}

impl Filters {
    /// True when it narrows nothing.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
            && self.owners.is_empty()
            && self.tags.is_empty()
            && self.systems.is_empty()
            && self.layer.is_none()
            && !self.certified
            && self.pii.is_none()
            && !self.restricted
    }

    /// The graph patterns for `?x` (a dataset or a column; `?ds` is the dataset).
    pub fn patterns(&self, kb: &Kb<'_>) -> String {
        self.patterns_on(kb, false)
    }

    /// The graph patterns for `?x` when it is a dataset: simpler, and much faster on large
    /// catalogs (no optional column step).
    pub fn dataset_patterns(&self, kb: &Kb<'_>) -> String {
        self.patterns_on(kb, true)
    }

    fn patterns_on(&self, kb: &Kb<'_>, datasets: bool) -> String {
        let mut p = if datasets {
            String::new()
        } else {
            String::from("OPTIONAL { ?x gg:columnOf ?ds0 } BIND (COALESCE(?ds0, ?x) AS ?ds)\n")
        };
        if !self.domains.is_empty() {
            p.push_str(&format!(
                "?ds gg:domain ?fd . {}\n",
                values("fd", &self.domains)
            ));
        }
        if !self.owners.is_empty() {
            p.push_str(&format!(
                "{{ ?ds gg:owner ?fo }} UNION {{ ?ds gg:steward ?fo }} {}\n",
                values("fo", &self.owners)
            ));
        }
        if !self.systems.is_empty() {
            p.push_str(&format!(
                "?ds gg:system ?fs . {}\n",
                values("fs", &self.systems)
            ));
        }
        if !self.tags.is_empty() {
            p.push_str(&format!(
                "?x gg:tag ?ft . ?ft skos:broader* ?ftt . {}\n",
                values("ftt", &self.tags)
            ));
        }
        if let Some(layer) = &self.layer {
            p.push_str(&format!(
                "OPTIONAL {{ ?ds gg:layer ?fl }} OPTIONAL {{ ?ds dct:identifier ?fid }}
                 FILTER (LCASE(STR(?fl)) = \"{layer}\" || STRSTARTS(LCASE(STR(?fid)), \"{layer}.\"))\n"
            ));
        }
        if self.certified {
            p.push_str(
                "FILTER (EXISTS { ?ds gg:certified true } || EXISTS { ?ds gg:tag ?fc . ?fc skos:notation \"certified\" })\n",
            );
        }
        if let Some(want) = self.pii {
            let test = if datasets {
                dataset_pii(kb, "?x", 2)
            } else {
                format!(
                    "(IF(BOUND(?ds0), {}, {}))",
                    pii_tagged(kb, "?x", 1),
                    dataset_pii(kb, "?x", 2)
                )
            };
            p.push_str(&format!("FILTER ({}{test})\n", if want { "" } else { "!" }));
        }
        if self.restricted {
            p.push_str(&format!("FILTER ({})\n", restricted_tagged(kb, "?x", 3)));
        }
        if datasets {
            p = p.replace("?ds ", "?x ").replace("?ds)", "?x)");
        }
        p
    }
}

/// The subset of `items` that pass `filters` (order kept).
pub fn filter(kb: &Kb<'_>, items: Vec<EntityRef>, filters: &Filters) -> Result<Vec<EntityRef>> {
    if filters.is_empty() || items.is_empty() {
        return Ok(items);
    }
    let iris: Vec<String> = items.iter().map(|e| e.iri.clone()).collect();
    let rows = kb.select(&format!(
        "SELECT DISTINCT ?x WHERE {{ {} {} }}",
        values("x", &iris),
        filters.patterns(kb)
    ))?;
    let keep: BTreeSet<String> = rows.iter().filter_map(|r| text(r, "x")).collect();
    Ok(items
        .into_iter()
        .filter(|e| keep.contains(&e.iri))
        .collect())
}

/// A column's reference from its parts.
pub fn column_ref(lex: &Lexicon, column: &str, dataset: &str, name: &str) -> EntityRef {
    let ds = lex
        .get(dataset)
        .map(|e| e.name.clone())
        .unwrap_or_else(|| dataset.rsplit('/').next().unwrap_or(dataset).to_owned());
    EntityRef {
        iri: column.to_owned(),
        name: format!("{ds}.{name}"),
        kind: Kind::Column,
    }
}

/// References for IRIs of any kind: the lexicon first, then one query for the rest
/// (columns, rules, unknown kinds).
pub fn refs(kb: &Kb<'_>, lex: &Lexicon, iris: &[String]) -> Result<Vec<EntityRef>> {
    let mut out: Vec<Option<EntityRef>> = iris
        .iter()
        .map(|i| lex.get(i).map(EntityRef::from_entry))
        .collect();
    let missing: Vec<String> = iris
        .iter()
        .zip(&out)
        .filter(|(_, r)| r.is_none())
        .map(|(i, _)| i.clone())
        .collect();
    if !missing.is_empty() {
        // Three plain look-ups (optional patterns over a list are slow on large stores).
        let mut found: HashMap<String, EntityRef> = HashMap::new();
        let rows = kb.select(&format!(
            "SELECT ?x ?ds ?col WHERE {{ {} ?x gg:columnOf ?ds ; csvw:name ?col }}",
            values("x", &missing)
        ))?;
        for r in &rows {
            if let (Some(x), Some(ds), Some(col)) = (text(r, "x"), text(r, "ds"), text(r, "col")) {
                let e = column_ref(lex, &x, &ds, &col);
                found.entry(x).or_insert(e);
            }
        }
        let rest: Vec<String> = missing
            .iter()
            .filter(|i| !found.contains_key(*i))
            .cloned()
            .collect();
        if !rest.is_empty() {
            let rules: BTreeSet<String> = kb
                .select(&format!(
                    "SELECT ?x WHERE {{ {} ?x a gg:QualityRule }}",
                    values("x", &rest)
                ))?
                .iter()
                .filter_map(|r| text(r, "x"))
                .collect();
            let rows = kb.select(&format!(
                "SELECT ?x ?label WHERE {{ {} ?x dct:title|skos:prefLabel|foaf:name|dct:identifier ?label }}",
                values("x", &rest)
            ))?;
            let mut labels: HashMap<String, String> = HashMap::new();
            for r in &rows {
                if let (Some(x), Some(l)) = (text(r, "x"), text(r, "label")) {
                    labels.entry(x).or_insert(l);
                }
            }
            for x in rest {
                let name = labels
                    .remove(&x)
                    .unwrap_or_else(|| x.rsplit('/').next().unwrap_or(&x).to_owned());
                let kind = if rules.contains(&x) {
                    Kind::Rule
                } else {
                    Kind::Dataset
                };
                found.insert(x.clone(), EntityRef { iri: x, name, kind });
            }
        }
        for (slot, i) in out.iter_mut().zip(iris) {
            if slot.is_none() {
                *slot = found.remove(i);
            }
        }
    }
    Ok(out.into_iter().flatten().collect())
}

/// A column as the answers see it.
#[derive(Debug, Clone)]
pub struct ColumnFacts {
    /// The reference.
    pub r: EntityRef,
    /// Its dataset's IRI.
    pub dataset: String,
    /// Its declared type.
    pub data_type: Option<String>,
    /// Its tags' notations (or labels).
    pub tags: Vec<String>,
    /// Personal data.
    pub pii: bool,
    /// Restricted.
    pub restricted: bool,
}

/// The columns of some datasets, in declared order, with their tags.
pub fn columns_of(kb: &Kb<'_>, lex: &Lexicon, datasets: &[String]) -> Result<Vec<ColumnFacts>> {
    if datasets.is_empty() {
        return Ok(Vec::new());
    }
    let rows = kb.select(&format!(
        "SELECT ?c ?ds ?name ?type ?ord ?tag ?pii ?restricted WHERE {{ {}
           ?c gg:columnOf ?ds ; csvw:name ?name .
           OPTIONAL {{ ?c gg:dataType ?type }} OPTIONAL {{ ?c gg:ordinal ?ord }}
           OPTIONAL {{ ?c gg:tag ?t . OPTIONAL {{ ?t skos:notation ?n }} OPTIONAL {{ ?t skos:prefLabel ?l }} BIND (COALESCE(?n, ?l) AS ?tag) }}
           BIND ({} AS ?pii) BIND ({} AS ?restricted) }}",
        values("ds", datasets),
        pii_tagged(kb, "?c", 1),
        restricted_tagged(kb, "?c", 2)
    ))?;
    let mut order: Vec<String> = Vec::new();
    let mut by: HashMap<String, (ColumnFacts, f64)> = HashMap::new();
    for r in &rows {
        let (Some(c), Some(ds), Some(name)) = (text(r, "c"), text(r, "ds"), text(r, "name")) else {
            continue;
        };
        let entry = by.entry(c.clone()).or_insert_with(|| {
            order.push(c.clone());
            (
                ColumnFacts {
                    r: column_ref(lex, &c, &ds, &name),
                    dataset: ds.clone(),
                    data_type: text(r, "type"),
                    tags: Vec::new(),
                    pii: boolean(r, "pii"),
                    restricted: boolean(r, "restricted"),
                },
                number(r, "ord").unwrap_or(f64::MAX),
            )
        });
        if let Some(t) = text(r, "tag")
            && !entry.0.tags.contains(&t)
        {
            entry.0.tags.push(t);
        }
    }
    let mut out: Vec<(ColumnFacts, f64)> =
        order.into_iter().filter_map(|c| by.remove(&c)).collect();
    let rank: HashMap<&str, usize> = datasets
        .iter()
        .enumerate()
        .map(|(i, d)| (d.as_str(), i))
        .collect();
    out.sort_by(|a, b| {
        rank.get(a.0.dataset.as_str())
            .cmp(&rank.get(b.0.dataset.as_str()))
            .then(a.1.total_cmp(&b.1))
            .then(a.0.r.name.cmp(&b.0.r.name))
    });
    Ok(out.into_iter().map(|(c, _)| c).collect())
}

/// Owners and stewards of entities: entity → (role, person reference).
pub fn people_of(
    kb: &Kb<'_>,
    lex: &Lexicon,
    entities: &[String],
) -> Result<BTreeMap<String, Vec<(&'static str, EntityRef)>>> {
    let mut out: BTreeMap<String, Vec<(&'static str, EntityRef)>> = BTreeMap::new();
    if entities.is_empty() {
        return Ok(out);
    }
    let rows = kb.select(&format!(
        "SELECT ?x ?role ?p ?name WHERE {{ {} VALUES ?role {{ gg:owner gg:steward }} ?x ?role ?p .
           OPTIONAL {{ ?p foaf:name|skos:prefLabel ?name }} }} ORDER BY ?x ?role ?name",
        values("x", entities)
    ))?;
    for r in &rows {
        let (Some(x), Some(role), Some(p)) = (text(r, "x"), text(r, "role"), text(r, "p")) else {
            continue;
        };
        let role = if role.ends_with("owner") {
            "owner"
        } else {
            "steward"
        };
        let person = lex
            .get(&p)
            .map(EntityRef::from_entry)
            .unwrap_or_else(|| EntityRef {
                iri: p.clone(),
                name: text(r, "name")
                    .unwrap_or_else(|| p.rsplit('/').next().unwrap_or(&p).to_owned()),
                kind: Kind::Person,
            });
        let list = out.entry(x).or_default();
        if !list
            .iter()
            .any(|(ro, e)| *ro == role && e.iri == person.iri)
        {
            list.push((role, person));
        }
    }
    Ok(out)
}

/// The dataset each column belongs to (datasets map to themselves).
pub fn datasets_of(kb: &Kb<'_>, items: &[EntityRef]) -> Result<Vec<String>> {
    let columns: Vec<String> = items
        .iter()
        .filter(|e| e.kind == Kind::Column)
        .map(|e| e.iri.clone())
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut of: HashMap<String, String> = HashMap::new();
    if !columns.is_empty() {
        for r in kb.select(&format!(
            "SELECT ?x ?ds WHERE {{ {} ?x gg:columnOf ?ds }}",
            values("x", &columns)
        ))? {
            if let (Some(x), Some(ds)) = (text(&r, "x"), text(&r, "ds")) {
                of.insert(x, ds);
            }
        }
    }
    for e in items {
        let d = if e.kind == Kind::Column {
            of.get(&e.iri).cloned()
        } else {
            Some(e.iri.clone())
        };
        if let Some(d) = d
            && !out.contains(&d)
        {
            out.push(d);
        }
    }
    Ok(out)
}

/// A literal's display: an xsd:duration like P3Y as words.
pub fn duration_words(d: &str) -> String {
    let Some(rest) = d.strip_prefix('P') else {
        return d.to_owned();
    };
    let mut out = Vec::new();
    let mut num = String::new();
    let mut in_time = false;
    for c in rest.chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        if c == 'T' {
            in_time = true;
            continue;
        }
        let unit = match (c, in_time) {
            ('Y', _) => "year",
            ('M', false) => "month",
            ('W', _) => "week",
            ('D', _) => "day",
            ('H', _) => "hour",
            ('M', true) => "minute",
            ('S', _) => "second",
            _ => return d.to_owned(),
        };
        let plural = if num == "1" { "" } else { "s" };
        out.push(format!("{num} {unit}{plural}"));
        num.clear();
    }
    if out.is_empty() {
        d.to_owned()
    } else {
        out.join(" ")
    }
}

/// The IRI for a SPARQL query (re-exported for the executors).
pub fn q(i: &str) -> String {
    iri(i)
}
