//! Compliance reports generated from the graph: the GDPR Art. 30 record of processing
//! activities (controller, 30(1)(a)–(g), and processor, 30(2)) and the CCPA/CPRA
//! disclosures, in JSON, CSV, Markdown or HTML. Every line names its datasets and columns,
//! and the gaps are listed.

use std::collections::{BTreeMap, BTreeSet};

use govgraph_graph::GraphStore;
use govgraph_graph::scope::Scope;
use serde::Serialize;

use crate::engine::PolicySet;
use crate::error::{Error, Result};
use crate::resource::{select, text};

/// A concept or party with a readable label.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Named {
    /// Its IRI.
    pub iri: String,
    /// Its label.
    pub label: String,
}

/// A column holding personal data.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ColumnRef {
    /// The column's IRI.
    pub iri: String,
    /// Its dataset's IRI.
    pub dataset: String,
    /// `dataset.column`.
    pub name: String,
    /// Its DPV personal-data category, if its classification has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// A retention period that covers a dataset.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Retention {
    /// The dataset.
    pub dataset: String,
    /// The period, such as `P3Y`.
    pub period: String,
    /// The policy that sets it.
    pub policy: String,
}

/// A transfer to a third country (Art. 30(1)(e)).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Transfer {
    /// The recipient.
    pub recipient: String,
    /// The country.
    pub country: String,
    /// The safeguard (Art. 46), if recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safeguard: Option<String>,
}

/// One processing activity, with everything Art. 30 asks for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    /// Its IRI.
    pub iri: String,
    /// Its name.
    pub name: String,
    /// What it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who owns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Named>,
    /// (a) The controller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<Party>,
    /// (a) The processors acting for it.
    pub processors: Vec<Named>,
    /// (b) Purposes.
    pub purposes: Vec<Named>,
    /// Legal bases (Art. 6 and 9).
    pub legal_bases: Vec<Named>,
    /// (c) Categories of data subjects.
    pub data_subjects: Vec<Named>,
    /// (c) Categories of personal data.
    pub personal_data: Vec<Named>,
    /// (d) Recipients.
    pub recipients: Vec<Named>,
    /// (e) Transfers to third countries.
    pub transfers: Vec<Transfer>,
    /// (f) Time limits for erasure.
    pub retention: Vec<Retention>,
    /// (g) Technical and organisational measures.
    pub measures: Vec<Named>,
    /// Sources of the personal data.
    pub sources: Vec<Named>,
    /// Whether it sells personal information (CCPA), if recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sold: Option<bool>,
    /// Whether it shares personal information for cross-context advertising (CPRA), if
    /// recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<bool>,
    /// The datasets it processes.
    pub datasets: Vec<String>,
    /// The personal-data columns of those datasets.
    pub columns: Vec<ColumnRef>,
}

/// A controller, processor or DPO with contact details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    /// Its IRI.
    pub iri: String,
    /// Its name.
    pub name: String,
    /// How to reach it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Its data protection officer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpo: Option<String>,
    /// Its representative in the Union (Art. 27).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub representative: Option<String>,
}

/// Something missing from the record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Gap {
    /// `no_purpose`, `no_legal_basis`, `no_owner`, `no_retention`, `undeclared_personal_data`,
    /// `no_sale_statement`.
    pub kind: String,
    /// The dataset, column or activity concerned.
    pub subject: String,
    /// What is missing, in words.
    pub message: String,
}

/// The GDPR Art. 30 record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Art30 {
    /// When it was generated.
    pub generated_at: String,
    /// 30(1): the activities of which the organisation is controller.
    pub controller_activities: Vec<Activity>,
    /// 30(2): the activities it carries out as a processor on behalf of other controllers.
    pub processor_activities: Vec<Activity>,
    /// What is missing.
    pub gaps: Vec<Gap>,
}

/// One CCPA category of personal information and what the business does with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CcpaCategory {
    /// The category (`gg:CCPAIdentifiers`...).
    pub category: Named,
    /// Its letter in §1798.140(v)(1).
    pub notation: String,
    /// The personal data behind it.
    pub personal_data: Vec<Named>,
    /// Sources.
    pub sources: Vec<Named>,
    /// Business or commercial purposes.
    pub purposes: Vec<Named>,
    /// Third parties and service providers it is disclosed to.
    pub third_parties: Vec<Named>,
    /// Sold: yes if any activity sells it, no if every activity says it does not, unknown
    /// otherwise.
    pub sold: String,
    /// Shared for cross-context behavioural advertising, likewise.
    pub shared: String,
    /// Retention.
    pub retention: Vec<Retention>,
    /// The activities.
    pub activities: Vec<String>,
    /// The datasets.
    pub datasets: Vec<String>,
    /// The columns.
    pub columns: Vec<ColumnRef>,
}

/// The CCPA/CPRA disclosures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ccpa {
    /// When it was generated.
    pub generated_at: String,
    /// The categories collected.
    pub categories: Vec<CcpaCategory>,
    /// What is missing.
    pub gaps: Vec<Gap>,
}

/// A readable label for a vocabulary IRI with no label in the graph.
pub fn label_of(iri: &str) -> String {
    let local = iri.rsplit(['#', '/']).next().unwrap_or(iri);
    if iri.contains("/legal/eu/gdpr#") {
        let named = match local {
            "A6-1-a" => "consent",
            "A6-1-b" => "contract",
            "A6-1-c" => "legal obligation",
            "A6-1-d" => "vital interests",
            "A6-1-e" => "public interest",
            "A6-1-f" => "legitimate interests",
            "A9-2-a" => "explicit consent",
            _ => "",
        };
        let mut parts = local.split('-');
        let article = parts.next().unwrap_or_default().trim_start_matches('A');
        let rest: Vec<&str> = parts.collect();
        let cite = format!(
            "GDPR Art. {article}{}",
            rest.iter().map(|p| format!("({p})")).collect::<String>()
        );
        return if named.is_empty() {
            cite
        } else {
            format!("{cite} {named}")
        };
    }
    // DeliveryOfGoods → Delivery of goods; IPAddress → IP address.
    let chars: Vec<char> = local.replace(['_', '-'], " ").chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase() || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if (boundary || c == ' ') && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c != ' ' {
            word.push(c);
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let acronym =
                w.chars().count() > 1 && w.chars().all(|c| c.is_uppercase() || c.is_ascii_digit());
            if i == 0 || acronym {
                w.clone()
            } else {
                w.to_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A party's contact, data protection officer and representative.
type Contacts = (Option<String>, Option<String>, Option<String>);

struct Graph {
    labels: BTreeMap<String, String>,
    /// activity → property local name → values.
    props: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    /// dataset → personal-data columns.
    columns: BTreeMap<String, Vec<ColumnRef>>,
    /// datasets with an owner.
    owned: BTreeSet<String>,
    /// party → contact, dpo, representative.
    parties: BTreeMap<String, Contacts>,
    /// recipient → (country, safeguard).
    countries: BTreeMap<String, (String, Option<String>)>,
    /// dataset → retention.
    retention: BTreeMap<String, Vec<Retention>>,
}

impl Graph {
    fn load(store: &GraphStore, scope: &Scope, policies: &PolicySet) -> Result<Self> {
        let mut labels = BTreeMap::new();
        for r in select(
            store,
            scope,
            "SELECT ?x ?l WHERE { { ?x skos:prefLabel ?l } UNION { ?x dct:title ?l } UNION { ?x rdfs:label ?l } UNION { ?x foaf:name ?l } }",
        )? {
            if let (Some(x), Some(l)) = (text(r.get("x")), text(r.get("l"))) {
                labels.entry(x).or_insert(l);
            }
        }
        let mut props: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for r in select(
            store,
            scope,
            "SELECT ?a ?p ?o WHERE { ?a a gg:ProcessingActivity ; ?p ?o .
               FILTER(?p IN (dpv:hasPurpose, dpv:hasLegalBasis, dpv:hasPersonalData, dpv:hasDataController,
                 dpv:hasDataProcessor, dpv:hasJointDataControllers, dpv:hasDataSubject, dpv:hasRecipient,
                 dpv:hasTechnicalOrganisationalMeasure, dpv:hasDataSource, gg:processes, gg:owner, gg:domain,
                 dct:description, gg:sellsPersonalData, gg:sharesPersonalData)) }",
        )? {
            if let (Some(a), Some(p), Some(o)) = (text(r.get("a")), text(r.get("p")), text(r.get("o"))) {
                let local = p.rsplit(['#', '/']).next().unwrap_or_default().to_owned();
                props.entry(a).or_default().entry(local).or_default().insert(o);
            }
        }
        // Activities with no property of interest still appear.
        for r in select(
            store,
            scope,
            "SELECT ?a WHERE { ?a a gg:ProcessingActivity }",
        )? {
            if let Some(a) = text(r.get("a")) {
                props.entry(a).or_default();
            }
        }
        let mut columns: BTreeMap<String, Vec<ColumnRef>> = BTreeMap::new();
        for r in select(
            store,
            scope,
            "SELECT DISTINCT ?c ?d ?name ?cat WHERE {
               ?c gg:columnOf ?d ; gg:tag ?t . ?t skos:broader* ?root .
               { ?root gg:personalDataCategory ?any } UNION { ?root skos:notation \"pii\" }
               OPTIONAL { ?t gg:personalDataCategory ?cat }
               OPTIONAL { ?c csvw:name ?name } }",
        )? {
            let (Some(c), Some(d)) = (text(r.get("c")), text(r.get("d"))) else {
                continue;
            };
            let col = c.rsplit('/').next().unwrap_or_default().to_owned();
            let ds = d.rsplit('/').next().unwrap_or_default().to_owned();
            let entry = columns.entry(d.clone()).or_default();
            let cat = text(r.get("cat"));
            if let Some(existing) = entry.iter_mut().find(|x| x.iri == c) {
                if existing.category.is_none() {
                    existing.category = cat;
                }
                continue;
            }
            entry.push(ColumnRef {
                iri: c,
                dataset: d,
                name: format!("{ds}.{}", text(r.get("name")).unwrap_or(col)),
                category: cat,
            });
        }
        for v in columns.values_mut() {
            v.sort();
        }
        let owned = select(
            store,
            scope,
            "SELECT DISTINCT ?d WHERE { ?d a dcat:Dataset ; gg:owner ?o }",
        )?
        .iter()
        .filter_map(|r| text(r.get("d")))
        .collect();
        let mut parties = BTreeMap::new();
        for r in select(
            store,
            scope,
            "SELECT ?p ?contact ?dpo ?rep WHERE {
               { ?x dpv:hasDataController ?p } UNION { ?x dpv:hasDataProcessor ?p } UNION { ?x dpv:hasRecipient ?p }
               OPTIONAL { ?p foaf:mbox ?contact } OPTIONAL { ?p dpv:hasDataProtectionOfficer ?dpo0 .
                 OPTIONAL { ?dpo0 foaf:name ?dponame } OPTIONAL { ?dpo0 foaf:mbox ?dpomail }
                 BIND(CONCAT(COALESCE(?dponame, STR(?dpo0)), IF(BOUND(?dpomail), CONCAT(\" <\", REPLACE(STR(?dpomail), \"^mailto:\", \"\"), \">\"), \"\")) AS ?dpo) }
               OPTIONAL { ?p dpv:hasRepresentative ?rep0 . OPTIONAL { ?rep0 foaf:name ?repname } BIND(COALESCE(?repname, STR(?rep0)) AS ?rep) } }",
        )? {
            if let Some(p) = text(r.get("p")) {
                let contact = text(r.get("contact")).map(|c| c.trim_start_matches("mailto:").to_owned());
                parties.entry(p).or_insert((contact, text(r.get("dpo")), text(r.get("rep"))));
            }
        }
        let mut countries = BTreeMap::new();
        for r in select(
            store,
            scope,
            "SELECT ?p ?country ?safeguard WHERE { ?p dpv:hasThirdCountry ?country . OPTIONAL { ?p gg:transferSafeguard ?safeguard } }",
        )? {
            if let (Some(p), Some(c)) = (text(r.get("p")), text(r.get("country"))) {
                countries.insert(p, (c, text(r.get("safeguard"))));
            }
        }
        let mut retention: BTreeMap<String, Vec<Retention>> = BTreeMap::new();
        for (policy, targets, period) in policies.retention() {
            for d in crate::retention::covered(store, scope, &targets)? {
                retention.entry(d.clone()).or_default().push(Retention {
                    dataset: d,
                    period: period.clone(),
                    policy: policy.title.clone(),
                });
            }
        }
        Ok(Self {
            labels,
            props,
            columns,
            owned,
            parties,
            countries,
            retention,
        })
    }

    fn named(&self, iri: &str) -> Named {
        Named {
            iri: iri.to_owned(),
            label: self
                .labels
                .get(iri)
                .cloned()
                .unwrap_or_else(|| label_of(iri)),
        }
    }

    fn all(&self, a: &str, prop: &str) -> Vec<String> {
        self.props
            .get(a)
            .and_then(|p| p.get(prop))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn party(&self, iri: &str) -> Party {
        let (contact, dpo, representative) = self.parties.get(iri).cloned().unwrap_or_default();
        Party {
            iri: iri.to_owned(),
            name: self.named(iri).label,
            contact,
            dpo,
            representative,
        }
    }

    fn flag(&self, a: &str, prop: &str) -> Option<bool> {
        self.all(a, prop).first().map(|v| v == "true" || v == "1")
    }

    fn activity(&self, a: &str) -> Activity {
        let named = |prop: &str| -> Vec<Named> {
            self.all(a, prop).iter().map(|i| self.named(i)).collect()
        };
        let datasets = self.all(a, "processes");
        let mut columns: Vec<ColumnRef> = datasets
            .iter()
            .flat_map(|d| self.columns.get(d).cloned().unwrap_or_default())
            .collect();
        columns.sort();
        let mut retention: Vec<Retention> = datasets
            .iter()
            .flat_map(|d| self.retention.get(d).cloned().unwrap_or_default())
            .collect();
        retention.sort();
        retention.dedup();
        let recipients = named("hasRecipient");
        let transfers = recipients
            .iter()
            .filter_map(|r| {
                self.countries.get(&r.iri).map(|(c, s)| Transfer {
                    recipient: r.label.clone(),
                    country: self.named(c).label,
                    safeguard: s.clone(),
                })
            })
            .collect();
        Activity {
            iri: a.to_owned(),
            name: self.named(a).label,
            description: self.all(a, "description").into_iter().next(),
            owner: self.all(a, "owner").first().map(|o| self.named(o)),
            controller: self
                .all(a, "hasDataController")
                .first()
                .map(|c| self.party(c)),
            processors: named("hasDataProcessor"),
            purposes: named("hasPurpose"),
            legal_bases: named("hasLegalBasis"),
            data_subjects: named("hasDataSubject"),
            personal_data: named("hasPersonalData"),
            recipients,
            transfers,
            retention,
            measures: named("hasTechnicalOrganisationalMeasure"),
            sources: named("hasDataSource"),
            sold: self.flag(a, "sellsPersonalData"),
            shared: self.flag(a, "sharesPersonalData"),
            datasets,
            columns,
        }
    }

    /// The organisation itself: the controller most activities name.
    fn organisation(&self) -> Option<String> {
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for a in self.props.keys() {
            for c in self.all(a, "hasDataController") {
                *count.entry(c).or_default() += 1;
            }
        }
        count
            .into_iter()
            .max_by_key(|(k, n)| (*n, std::cmp::Reverse(k.clone())))
            .map(|(k, _)| k)
    }

    fn gaps(&self, activities: &[Activity]) -> Vec<Gap> {
        let mut gaps = BTreeSet::new();
        let processed: BTreeSet<&String> = activities.iter().flat_map(|a| &a.datasets).collect();
        for (d, cols) in &self.columns {
            let short = d.rsplit('/').next().unwrap_or(d);
            if !processed.contains(d) {
                for c in cols {
                    gaps.insert(Gap {
                        kind: "no_purpose".into(),
                        subject: c.iri.clone(),
                        message: format!("{} holds personal data that no processing activity declares a purpose for", c.name),
                    });
                }
            }
            if !self.owned.contains(d) {
                gaps.insert(Gap {
                    kind: "no_owner".into(),
                    subject: d.clone(),
                    message: format!("{short} holds personal data and has no owner"),
                });
            }
            if !self.retention.contains_key(d) {
                gaps.insert(Gap {
                    kind: "no_retention".into(),
                    subject: d.clone(),
                    message: format!(
                        "{short} holds personal data and no retention period covers it"
                    ),
                });
            }
        }
        for a in activities {
            if a.legal_bases.is_empty() {
                gaps.insert(Gap {
                    kind: "no_legal_basis".into(),
                    subject: a.iri.clone(),
                    message: format!("{} has no legal basis", a.name),
                });
            }
            if a.purposes.is_empty() {
                gaps.insert(Gap {
                    kind: "no_purpose".into(),
                    subject: a.iri.clone(),
                    message: format!("{} has no purpose", a.name),
                });
            }
            if a.owner.is_none() {
                gaps.insert(Gap {
                    kind: "no_owner".into(),
                    subject: a.iri.clone(),
                    message: format!("{} has no owner", a.name),
                });
            }
            let declared: BTreeSet<&String> = a.personal_data.iter().map(|p| &p.iri).collect();
            for c in &a.columns {
                if let Some(cat) = &c.category
                    && !declared.contains(cat)
                {
                    gaps.insert(Gap {
                        kind: "undeclared_personal_data".into(),
                        subject: c.iri.clone(),
                        message: format!(
                            "{} processes {} ({}), which it does not declare",
                            a.name,
                            c.name,
                            self.named(cat).label
                        ),
                    });
                }
            }
        }
        gaps.into_iter().collect()
    }
}

/// Builds the Art. 30 record.
pub fn art30(store: &GraphStore, scope: &Scope, policies: &PolicySet) -> Result<Art30> {
    let g = Graph::load(store, scope, policies)?;
    let us = g.organisation();
    let mut controller_activities = Vec::new();
    let mut processor_activities = Vec::new();
    for a in g.props.keys() {
        let act = g.activity(a);
        let ours_as_processor = us.as_ref().is_some_and(|u| {
            act.processors.iter().any(|p| &p.iri == u)
                && act.controller.as_ref().is_none_or(|c| &c.iri != u)
        });
        if ours_as_processor {
            processor_activities.push(act);
        } else {
            controller_activities.push(act);
        }
    }
    let mut all = controller_activities.clone();
    all.extend(processor_activities.iter().cloned());
    let gaps = g.gaps(&all);
    Ok(Art30 {
        generated_at: govgraph_graph::loader::now_xsd(),
        controller_activities,
        processor_activities,
        gaps,
    })
}

/// Builds the CCPA/CPRA disclosures.
pub fn ccpa(store: &GraphStore, scope: &Scope, policies: &PolicySet) -> Result<Ccpa> {
    let g = Graph::load(store, scope, policies)?;
    // Personal-data concept → CCPA categories, from the ontology's mappings.
    let mut mapping: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for r in select(
        store,
        scope,
        "SELECT ?cat ?pd ?n WHERE { ?cat skos:inScheme gg:CCPACategories ; skos:closeMatch ?pd ; skos:notation ?n }",
    )? {
        if let (Some(c), Some(pd), Some(n)) =
            (text(r.get("cat")), text(r.get("pd")), text(r.get("n")))
        {
            mapping.entry(pd).or_default().push((c, n));
        }
    }
    let activities: Vec<Activity> = g.props.keys().map(|a| g.activity(a)).collect();
    let us = g.organisation();
    let mut cats: BTreeMap<String, CcpaCategory> = BTreeMap::new();
    let mut unmapped = BTreeSet::new();
    let mut add =
        |cat: &str, notation: &str, pd: &str, a: Option<&Activity>, column: Option<&ColumnRef>| {
            let entry = cats.entry(cat.to_owned()).or_insert_with(|| CcpaCategory {
                category: g.named(cat),
                notation: notation.to_owned(),
                personal_data: Vec::new(),
                sources: Vec::new(),
                purposes: Vec::new(),
                third_parties: Vec::new(),
                sold: String::new(),
                shared: String::new(),
                retention: Vec::new(),
                activities: Vec::new(),
                datasets: Vec::new(),
                columns: Vec::new(),
            });
            let n = g.named(pd);
            if !entry.personal_data.contains(&n) {
                entry.personal_data.push(n);
            }
            if let Some(c) = column {
                if !entry.columns.contains(c) {
                    entry.columns.push(c.clone());
                }
                if !entry.datasets.contains(&c.dataset) {
                    entry.datasets.push(c.dataset.clone());
                }
            }
            if let Some(a) = a
                && !entry.activities.contains(&a.iri)
            {
                entry.activities.push(a.iri.clone());
            }
        };
    for a in &activities {
        for pd in &a.personal_data {
            match mapping.get(&pd.iri) {
                Some(m) => {
                    for (cat, n) in m {
                        add(cat, n, &pd.iri, Some(a), None);
                    }
                }
                None => {
                    unmapped.insert(pd.iri.clone());
                }
            }
        }
        for c in &a.columns {
            if let Some(cat) = &c.category
                && let Some(m) = mapping.get(cat)
            {
                for (ccpa, n) in m {
                    add(ccpa, n, cat, Some(a), Some(c));
                }
            }
        }
    }
    // Personal data no activity processes is still collected.
    for cols in g.columns.values() {
        for c in cols {
            if let Some(cat) = &c.category
                && let Some(m) = mapping.get(cat)
            {
                for (ccpa, n) in m {
                    add(ccpa, n, cat, None, Some(c));
                }
            }
        }
    }
    let by_iri: BTreeMap<&String, &Activity> = activities.iter().map(|a| (&a.iri, a)).collect();
    let mut gaps = g.gaps(&activities);
    for c in cats.values_mut() {
        let acts: Vec<&Activity> = c
            .activities
            .iter()
            .filter_map(|a| by_iri.get(a).copied())
            .collect();
        let mut sources = BTreeSet::new();
        let mut purposes = BTreeSet::new();
        let mut third = BTreeSet::new();
        let mut retention = BTreeSet::new();
        for a in &acts {
            sources.extend(a.sources.iter().cloned());
            purposes.extend(a.purposes.iter().cloned());
            third.extend(a.recipients.iter().cloned());
            third.extend(a.processors.iter().cloned());
        }
        // The business itself is no third party.
        third.retain(|t| Some(&t.iri) != us.as_ref());
        for d in &c.datasets {
            retention.extend(g.retention.get(d).cloned().unwrap_or_default());
        }
        let verdict = |f: &dyn Fn(&Activity) -> Option<bool>| -> String {
            if acts.iter().any(|a| f(a) == Some(true)) {
                "yes".into()
            } else if !acts.is_empty() && acts.iter().all(|a| f(a) == Some(false)) {
                "no".into()
            } else {
                "unknown".into()
            }
        };
        c.sold = verdict(&|a| a.sold);
        c.shared = verdict(&|a| a.shared);
        if c.sold == "unknown" || c.shared == "unknown" {
            gaps.push(Gap {
                kind: "no_sale_statement".into(),
                subject: c.category.iri.clone(),
                message: format!(
                    "{}: not every activity states whether it sells or shares this information",
                    c.category.label
                ),
            });
        }
        c.sources = sources.into_iter().collect();
        c.purposes = purposes.into_iter().collect();
        c.third_parties = third.into_iter().collect();
        c.retention = retention.into_iter().collect();
        c.columns.sort();
        c.datasets.sort();
    }
    for pd in unmapped {
        gaps.push(Gap {
            kind: "no_ccpa_category".into(),
            subject: pd.clone(),
            message: format!("{} maps to no CCPA category", g.named(&pd).label),
        });
    }
    gaps.sort();
    let mut categories: Vec<CcpaCategory> = cats.into_values().collect();
    categories.sort_by(|a, b| a.notation.cmp(&b.notation));
    Ok(Ccpa {
        generated_at: govgraph_graph::loader::now_xsd(),
        categories,
        gaps,
    })
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// CSV: one line per activity (or category) and column.
    Csv,
    /// Markdown.
    Markdown,
    /// HTML.
    Html,
}

impl Format {
    /// Reads `json`, `csv`, `md`/`markdown` or `html`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Some(Self::Json),
            "csv" => Some(Self::Csv),
            "md" | "markdown" => Some(Self::Markdown),
            "html" => Some(Self::Html),
            _ => None,
        }
    }

    /// Its media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Markdown => "text/markdown; charset=utf-8",
            Self::Html => "text/html; charset=utf-8",
        }
    }
}

fn labels(v: &[Named]) -> String {
    v.iter()
        .map(|n| n.label.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A table: a title, headers and rows.
struct Table {
    title: String,
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

fn short_names(iris: &[String]) -> String {
    iris.iter()
        .map(|d| d.rsplit('/').next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A line's rows: one with its datasets and columns, or (for CSV) one per column, each with
/// the column's dataset and IRI.
fn push_rows(
    rows: &mut Vec<Vec<String>>,
    base: Vec<String>,
    datasets: &[String],
    columns: &[ColumnRef],
    per_column: bool,
) {
    if !per_column || columns.is_empty() {
        let mut row = base;
        row.push(short_names(datasets));
        row.push(if per_column {
            String::new()
        } else {
            columns
                .iter()
                .map(|c| c.name.clone())
                .collect::<Vec<_>>()
                .join("; ")
        });
        rows.push(row);
        return;
    }
    for c in columns {
        let mut row = base.clone();
        row.push(c.dataset.clone());
        row.push(c.iri.clone());
        rows.push(row);
    }
}

fn art30_tables(r: &Art30, per_column: bool) -> Vec<Table> {
    let activity_rows = |acts: &[Activity]| -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        for a in acts {
            let base = vec![
                a.name.clone(),
                a.controller
                    .as_ref()
                    .map(|c| {
                        let mut s = c.name.clone();
                        if let Some(x) = &c.contact {
                            s.push_str(&format!(" <{x}>"));
                        }
                        if let Some(d) = &c.dpo {
                            s.push_str(&format!("; DPO: {d}"));
                        }
                        if let Some(rep) = &c.representative {
                            s.push_str(&format!("; representative: {rep}"));
                        }
                        s
                    })
                    .unwrap_or_default(),
                labels(&a.processors),
                labels(&a.purposes),
                labels(&a.legal_bases),
                labels(&a.data_subjects),
                labels(&a.personal_data),
                labels(&a.recipients),
                a.transfers
                    .iter()
                    .map(|t| {
                        format!(
                            "{} ({}{})",
                            t.recipient,
                            t.country,
                            t.safeguard
                                .as_ref()
                                .map(|s| format!(", {s}"))
                                .unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                a.retention
                    .iter()
                    .map(|x| {
                        format!(
                            "{}: {}",
                            x.dataset.rsplit('/').next().unwrap_or_default(),
                            x.period
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                labels(&a.measures),
            ];
            push_rows(&mut rows, base, &a.datasets, &a.columns, per_column);
        }
        rows
    };
    let headers = vec![
        "activity",
        "controller (a)",
        "processors (a)",
        "purposes (b)",
        "legal basis",
        "data subjects (c)",
        "personal data (c)",
        "recipients (d)",
        "third-country transfers (e)",
        "erasure (f)",
        "security measures (g)",
        "datasets",
        "columns",
    ];
    vec![
        Table {
            title: "Art. 30(1): processing as controller".into(),
            headers: headers.clone(),
            rows: activity_rows(&r.controller_activities),
        },
        Table {
            title: "Art. 30(2): processing as processor".into(),
            headers,
            rows: activity_rows(&r.processor_activities),
        },
        gap_table(&r.gaps),
    ]
}

fn gap_table(gaps: &[Gap]) -> Table {
    Table {
        title: "Gaps".into(),
        headers: vec!["gap", "subject", "message"],
        rows: gaps
            .iter()
            .map(|g| vec![g.kind.clone(), g.subject.clone(), g.message.clone()])
            .collect(),
    }
}

fn ccpa_tables(r: &Ccpa, per_column: bool) -> Vec<Table> {
    let mut rows = Vec::new();
    for c in &r.categories {
        let base = vec![
            format!("{} {}", c.notation, c.category.label),
            labels(&c.personal_data),
            labels(&c.sources),
            labels(&c.purposes),
            labels(&c.third_parties),
            c.sold.clone(),
            c.shared.clone(),
            c.retention
                .iter()
                .map(|x| {
                    format!(
                        "{}: {}",
                        x.dataset.rsplit('/').next().unwrap_or_default(),
                        x.period
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        ];
        push_rows(&mut rows, base, &c.datasets, &c.columns, per_column);
    }
    vec![
        Table {
            title: "CCPA/CPRA: categories of personal information".into(),
            headers: vec![
                "category",
                "personal data",
                "sources",
                "purposes",
                "third parties",
                "sold",
                "shared",
                "retention",
                "datasets",
                "columns",
            ],
            rows,
        },
        gap_table(&r.gaps),
    ]
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn render_tables(title: &str, tables: &[Table], format: Format) -> Result<String> {
    match format {
        Format::Json => Err(Error::invalid(
            "report",
            "format",
            "JSON is rendered from the record",
        )),
        Format::Csv => {
            // One CSV: the first table (the record); gaps follow in their own section.
            let mut w = csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(Vec::new());
            let mut first = true;
            for t in tables {
                if !first {
                    w.write_record([""])
                        .map_err(|e| Error::invalid("report", "csv", e.to_string()))?;
                }
                first = false;
                let mut header = vec!["section"];
                header.extend(t.headers.iter().copied());
                w.write_record(&header)
                    .map_err(|e| Error::invalid("report", "csv", e.to_string()))?;
                for row in &t.rows {
                    let mut r = vec![t.title.clone()];
                    r.extend(row.iter().cloned());
                    w.write_record(&r)
                        .map_err(|e| Error::invalid("report", "csv", e.to_string()))?;
                }
            }
            let bytes = w
                .into_inner()
                .map_err(|e| Error::invalid("report", "csv", e.to_string()))?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
        Format::Markdown => {
            let mut out = format!("# {title}\n");
            for t in tables {
                out.push_str(&format!("\n## {}\n\n", t.title));
                if t.rows.is_empty() {
                    out.push_str("None.\n");
                    continue;
                }
                out.push_str(&format!("| {} |\n", t.headers.join(" | ")));
                out.push_str(&format!("|{}\n", "---|".repeat(t.headers.len())));
                for r in &t.rows {
                    out.push_str(&format!(
                        "| {} |\n",
                        r.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | ")
                    ));
                }
            }
            Ok(out)
        }
        Format::Html => {
            let mut out = format!(
                "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title>\n<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}}th{{background:#f3f3f3}}</style></head><body>\n<h1>{0}</h1>\n",
                html_escape(title)
            );
            for t in tables {
                out.push_str(&format!("<h2>{}</h2>\n", html_escape(&t.title)));
                if t.rows.is_empty() {
                    out.push_str("<p>None.</p>\n");
                    continue;
                }
                out.push_str("<table><thead><tr>");
                for h in &t.headers {
                    out.push_str(&format!("<th>{}</th>", html_escape(h)));
                }
                out.push_str("</tr></thead><tbody>\n");
                for r in &t.rows {
                    out.push_str("<tr>");
                    for c in r {
                        if c.starts_with("http") && !c.contains(' ') {
                            out.push_str(&format!(
                                "<td><a href=\"{0}\">{1}</a></td>",
                                html_escape(c),
                                html_escape(c.rsplit('/').next().unwrap_or(c))
                            ));
                        } else {
                            out.push_str(&format!("<td>{}</td>", html_escape(c)));
                        }
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody></table>\n");
            }
            out.push_str("</body></html>\n");
            Ok(out)
        }
    }
}

/// Renders the Art. 30 record.
pub fn render_art30(r: &Art30, format: Format) -> Result<String> {
    if format == Format::Json {
        return serde_json::to_string_pretty(r)
            .map_err(|e| Error::invalid("report", "json", e.to_string()));
    }
    render_tables(
        &format!(
            "Record of processing activities (GDPR Art. 30), {}",
            r.generated_at
        ),
        &art30_tables(r, format == Format::Csv),
        format,
    )
}

/// Renders the CCPA disclosures.
pub fn render_ccpa(r: &Ccpa, format: Format) -> Result<String> {
    if format == Format::Json {
        return serde_json::to_string_pretty(r)
            .map_err(|e| Error::invalid("report", "json", e.to_string()));
    }
    render_tables(
        &format!("CCPA/CPRA disclosures, {}", r.generated_at),
        &ccpa_tables(r, format == Format::Csv),
        format,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_iris_read_as_words() {
        assert_eq!(label_of("https://w3id.org/dpv/pd#IPAddress"), "IP address");
        assert_eq!(
            label_of("https://w3id.org/dpv#DeliveryOfGoods"),
            "Delivery of goods"
        );
        assert_eq!(
            label_of("https://w3id.org/dpv#DataSubjectDataSource"),
            "Data subject data source"
        );
        assert_eq!(
            label_of("https://w3id.org/dpv/legal/eu/gdpr#A6-1-f"),
            "GDPR Art. 6(1)(f) legitimate interests"
        );
        assert_eq!(
            label_of("https://w3id.org/dpv/legal/eu/gdpr#A46-2-c"),
            "GDPR Art. 46(2)(c)"
        );
    }
}
