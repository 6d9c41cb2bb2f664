//! The catalog that column references are resolved against.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::dialect::{CaseRules, ci_key};

/// One column of a [`Table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column name, as the schema spells it.
    pub name: String,
    /// Its type, free text (`"BIGINT"`, `"varchar(20)"`, or empty).
    pub data_type: String,
}

/// A table (or view) of a [`Schema`]: a qualified name and ordered columns.
#[derive(Debug, Clone)]
pub struct Table {
    name: String,
    parts: Vec<String>,
    columns: Vec<Column>,
    /// Lower-cased column name -> positions.
    index: HashMap<String, Vec<u32>>,
}

impl Table {
    fn new(parts: Vec<String>, columns: Vec<Column>) -> Table {
        let mut index: HashMap<String, Vec<u32>> = HashMap::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            index
                .entry(ci_key(&c.name).into_owned())
                .or_default()
                .push(i as u32);
        }
        Table {
            name: parts.join("."),
            parts,
            columns,
            index,
        }
    }

    /// The qualified name: `table`, `schema.table` or `db.schema.table`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name's parts, outermost first.
    pub fn parts(&self) -> &[String] {
        &self.parts
    }

    /// The columns in declaration order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The position of the column the identifier names, under the dialect's
    /// rules. When several spellings differ only in case, the exact one wins.
    pub(crate) fn find_column(&self, value: &str, quoted: bool, rules: &CaseRules) -> Option<u32> {
        let hits = self.index.get(ci_key(value).as_ref())?;
        let mut first = None;
        for &i in hits {
            let name = &self.columns[i as usize].name;
            if rules.matches(value, quoted, name) {
                if name == value {
                    return Some(i);
                }
                first.get_or_insert(i);
            }
        }
        first
    }
}

/// Why a schema could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The text is not JSON.
    #[error("schema is not valid JSON: {0}")]
    Json(String),
    /// The top level is not an object.
    #[error("schema must be a JSON object of tables, schemas or databases")]
    NotAnObject,
    /// A value is neither a type string nor an object.
    #[error("schema key \"{key}\": expected a column type string or an object, found {found}")]
    BadValue {
        /// The dotted path of the offending key.
        key: String,
        /// What was found instead.
        found: &'static str,
    },
    /// An object mixes columns (string values) and nested objects.
    #[error(
        "schema key \"{key}\": an object must hold either columns (string values) or nested objects, not both"
    )]
    MixedLevel {
        /// The dotted path of the offending key.
        key: String,
    },
    /// Tables nested deeper than `db.schema.table`.
    #[error(
        "schema key \"{key}\": tables may be nested at most three levels deep (db.schema.table)"
    )]
    TooDeep {
        /// The dotted path of the offending key.
        key: String,
    },
    /// The same key twice in one object.
    #[error("schema key \"{key}\" appears twice")]
    Duplicate {
        /// The dotted path of the offending key.
        key: String,
    },
}

/// A catalog: tables by qualified name, each with ordered, typed columns.
///
/// Build it with [`Schema::add_table`] or load sqlglot's mapping-schema JSON
/// with [`Schema::from_mapping_json`].
#[derive(Debug, Clone, Default)]
pub struct Schema {
    tables: Vec<Table>,
    /// Lower-cased bare table name -> positions in `tables`.
    by_name: HashMap<String, Vec<u32>>,
    /// Lower-cased qualified name -> position.
    by_qualified: HashMap<String, u32>,
}

/// The result of looking a table reference up.
#[derive(Debug)]
pub(crate) enum Lookup<'s> {
    Found(u32, &'s Table),
    Ambiguous(Vec<&'s Table>),
    NotFound,
}

impl Schema {
    /// An empty schema.
    pub fn new() -> Schema {
        Schema::default()
    }

    /// Adds (or replaces) a table. `qualified_name` is split on `.` into at most
    /// three parts (`table`, `schema.table`, `db.schema.table`); `columns` are
    /// `(name, type)` pairs in order.
    pub fn add_table(&mut self, qualified_name: &str, columns: &[(&str, &str)]) {
        let parts: Vec<String> = qualified_name
            .split('.')
            .map(|p| p.trim().to_string())
            .collect();
        let cols = columns
            .iter()
            .map(|(n, t)| Column {
                name: (*n).to_string(),
                data_type: (*t).to_string(),
            })
            .collect();
        self.insert(Table::new(parts, cols));
    }

    pub(crate) fn add_parts(&mut self, parts: Vec<String>, columns: Vec<Column>) {
        self.insert(Table::new(parts, columns));
    }

    fn insert(&mut self, table: Table) {
        let qkey = ci_key(&table.name).into_owned();
        // Replace a table of exactly the same name.
        if let Some(&pos) = self.by_qualified.get(&qkey)
            && self.tables[pos as usize].name == table.name
        {
            self.tables[pos as usize] = table;
            return;
        }
        let pos = self.tables.len() as u32;
        let bare = table.parts.last().map(String::as_str).unwrap_or("");
        self.by_name
            .entry(ci_key(bare).into_owned())
            .or_default()
            .push(pos);
        self.by_qualified.entry(qkey).or_insert(pos);
        self.tables.push(table);
    }

    /// The tables, in insertion order.
    pub fn tables(&self) -> impl Iterator<Item = &Table> + '_ {
        self.tables.iter()
    }

    /// A table by its exact qualified name.
    pub fn table(&self, qualified_name: &str) -> Option<&Table> {
        self.by_qualified
            .get(ci_key(qualified_name).as_ref())
            .map(|&i| &self.tables[i as usize])
            .filter(|t| t.name == qualified_name)
            .or_else(|| self.tables.iter().find(|t| t.name == qualified_name))
    }

    /// The number of tables.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// Whether the schema has no tables.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Loads sqlglot's mapping schema: `{"table": {"col": "type"}}`,
    /// `{"schema": {"table": {...}}}` or `{"db": {"schema": {"table": {...}}}}`.
    /// An object whose values are strings is a table's column level.
    pub fn from_mapping_json(json: &str) -> Result<Schema, SchemaError> {
        let root: Node =
            serde_json::from_str(json).map_err(|e| SchemaError::Json(e.to_string()))?;
        let Node::Obj(entries) = root else {
            return Err(SchemaError::NotAnObject);
        };
        let mut schema = Schema::new();
        let mut path: Vec<String> = Vec::new();
        load_level(&mut schema, &entries, &mut path)?;
        Ok(schema)
    }

    /// Looks a table reference up (`parts` outermost first, as written).
    pub(crate) fn lookup(
        &self,
        parts: &[(&str, bool)],
        rules: &CaseRules,
        default_db: Option<&str>,
        default_schema: Option<&str>,
    ) -> Lookup<'_> {
        let Some(&(bare, bare_q)) = parts.last() else {
            return Lookup::NotFound;
        };
        let Some(cands) = self.by_name.get(ci_key(bare).as_ref()) else {
            return Lookup::NotFound;
        };
        let mut with_defaults: Vec<u32> = Vec::new();
        let mut suffix: Vec<u32> = Vec::new();
        for &c in cands {
            let t = &self.tables[c as usize];
            if !rules.matches_table(
                bare,
                bare_q,
                t.parts.last().map(String::as_str).unwrap_or(""),
            ) {
                continue;
            }
            let n = parts.len();
            let m = t.parts.len();
            let common = n.min(m);
            let ok = (1..common).all(|i| {
                let (v, q) = parts[n - 1 - i];
                rules.matches_table(v, q, &t.parts[m - 1 - i])
            });
            if !ok {
                continue;
            }
            suffix.push(c);
            // Parts the reference leaves out must agree with the defaults.
            let mut default_ok = true;
            if n < m {
                for (i, part) in t.parts[..m - n].iter().enumerate() {
                    // position from the right: m-1-i; the schema part sits at m-2,
                    // the database part at m-3.
                    let from_right = m - 1 - i;
                    let want = match from_right {
                        1 => default_schema,
                        2 => default_db,
                        _ => None,
                    };
                    if let Some(w) = want
                        && !rules.matches_table(w, false, part)
                    {
                        default_ok = false;
                    }
                }
            }
            if default_ok {
                with_defaults.push(c);
            }
        }
        let pick = |v: &Vec<u32>| -> Option<Lookup<'_>> {
            match v.len() {
                0 => None,
                1 => Some(Lookup::Found(v[0], &self.tables[v[0] as usize])),
                _ => {
                    // An exact qualified match (all parts given) beats the rest.
                    Some(Lookup::Ambiguous(
                        v.iter().map(|&i| &self.tables[i as usize]).collect(),
                    ))
                }
            }
        };
        if let Some(found) = pick(&with_defaults) {
            return found;
        }
        pick(&suffix).unwrap_or(Lookup::NotFound)
    }
}

fn load_level(
    schema: &mut Schema,
    entries: &[(String, Node)],
    path: &mut Vec<String>,
) -> Result<(), SchemaError> {
    let dotted = |path: &Vec<String>, key: &str| {
        let mut p = path.clone();
        p.push(key.to_string());
        p.join(".")
    };
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    for (k, _) in entries {
        if !seen.insert(k.as_str()) {
            return Err(SchemaError::Duplicate {
                key: dotted(path, k),
            });
        }
    }
    for (key, node) in entries {
        match node {
            Node::Obj(children) => {
                let has_str = children.iter().any(|(_, n)| matches!(n, Node::Str(_)));
                let has_obj = children.iter().any(|(_, n)| matches!(n, Node::Obj(_)));
                if let Some((bad_key, bad)) =
                    children.iter().find(|(_, n)| matches!(n, Node::Other(_)))
                {
                    let found = match bad {
                        Node::Other(k) => k,
                        _ => "something else",
                    };
                    let mut p = path.clone();
                    p.push(key.clone());
                    return Err(SchemaError::BadValue {
                        key: dotted(&p, bad_key),
                        found,
                    });
                }
                if has_str && has_obj {
                    return Err(SchemaError::MixedLevel {
                        key: dotted(path, key),
                    });
                }
                if has_obj {
                    if path.len() >= 2 {
                        return Err(SchemaError::TooDeep {
                            key: dotted(path, key),
                        });
                    }
                    path.push(key.clone());
                    load_level(schema, children, path)?;
                    path.pop();
                } else {
                    // Column level (or an empty table).
                    let mut cols = Vec::with_capacity(children.len());
                    let mut seen = std::collections::HashSet::with_capacity(children.len());
                    for (c, n) in children {
                        if !seen.insert(c.as_str()) {
                            let mut p = path.clone();
                            p.push(key.clone());
                            return Err(SchemaError::Duplicate { key: dotted(&p, c) });
                        }
                        if let Node::Str(t) = n {
                            cols.push(Column {
                                name: c.clone(),
                                data_type: t.clone(),
                            });
                        }
                    }
                    let mut parts = path.clone();
                    parts.push(key.clone());
                    schema.add_parts(parts, cols);
                }
            }
            Node::Str(_) => {
                // A string at table level: the schema itself is a column level,
                // which has no table name.
                return Err(SchemaError::BadValue {
                    key: dotted(path, key),
                    found: "a string (columns must sit inside a table object)",
                });
            }
            Node::Other(found) => {
                return Err(SchemaError::BadValue {
                    key: dotted(path, key),
                    found,
                });
            }
        }
    }
    Ok(())
}

/// A JSON value that keeps object keys in document order.
enum Node {
    Str(String),
    Obj(Vec<(String, Node)>),
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Other("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Other("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Other("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Other("a number"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Other("null"))
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Other("null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Node::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut out = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Node>()? {
            out.push((k, v));
        }
        Ok(Node::Obj(out))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::Dialect;

    fn names(s: &Schema) -> Vec<&str> {
        s.tables().map(|t| t.name()).collect()
    }

    #[test]
    fn flat() {
        let s = Schema::from_mapping_json(
            r#"{"orders": {"id": "int", "amount": "decimal(10,2)"}, "customers": {"id": "int"}}"#,
        )
        .unwrap();
        assert_eq!(names(&s), ["orders", "customers"]);
        let cols: Vec<_> = s
            .table("orders")
            .unwrap()
            .columns()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(cols, ["id", "amount"]);
        assert_eq!(
            s.table("orders").unwrap().columns()[1].data_type,
            "decimal(10,2)"
        );
    }

    #[test]
    fn column_order_is_kept() {
        let s =
            Schema::from_mapping_json(r#"{"t": {"z": "int", "a": "int", "m": "int"}}"#).unwrap();
        let cols: Vec<_> = s
            .table("t")
            .unwrap()
            .columns()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(cols, ["z", "a", "m"]);
    }

    #[test]
    fn two_levels() {
        let s = Schema::from_mapping_json(r#"{"bronze": {"orders": {"id": "int"}}, "silver": {"orders": {"id": "int"}, "x": {}}}"#).unwrap();
        assert_eq!(names(&s), ["bronze.orders", "silver.orders", "silver.x"]);
    }

    #[test]
    fn three_levels() {
        let s = Schema::from_mapping_json(r#"{"shop": {"bronze": {"orders": {"id": "int"}}}}"#)
            .unwrap();
        assert_eq!(names(&s), ["shop.bronze.orders"]);
        assert_eq!(
            s.table("shop.bronze.orders").unwrap().parts(),
            ["shop", "bronze", "orders"]
        );
    }

    #[test]
    fn errors_name_the_key() {
        let e = Schema::from_mapping_json(r#"{"bronze": {"orders": {"id": 5}}}"#).unwrap_err();
        assert_eq!(
            e,
            SchemaError::BadValue {
                key: "bronze.orders.id".into(),
                found: "a number"
            }
        );
        assert!(e.to_string().contains("bronze.orders.id"));
        let e = Schema::from_mapping_json(r#"{"bronze": {"orders": {"id": "int"}, "bad": "int"}}"#)
            .unwrap_err();
        assert_eq!(
            e,
            SchemaError::MixedLevel {
                key: "bronze".into()
            }
        );
        let e =
            Schema::from_mapping_json(r#"{"a": {"b": {"c": {"d": {"col": "int"}}}}}"#).unwrap_err();
        assert_eq!(
            e,
            SchemaError::TooDeep {
                key: "a.b.c".into()
            }
        );
        let e = Schema::from_mapping_json(r#"{"t": "int"}"#).unwrap_err();
        assert!(matches!(e, SchemaError::BadValue { ref key, .. } if key == "t"));
        let e = Schema::from_mapping_json(r#"{"t": {"a": "int", "a": "text"}}"#).unwrap_err();
        assert_eq!(e, SchemaError::Duplicate { key: "t.a".into() });
        let e = Schema::from_mapping_json(r#"{"t": {"a": null}}"#).unwrap_err();
        assert_eq!(
            e,
            SchemaError::BadValue {
                key: "t.a".into(),
                found: "null"
            }
        );
        assert!(matches!(
            Schema::from_mapping_json("[1]"),
            Err(SchemaError::NotAnObject)
        ));
        assert!(matches!(
            Schema::from_mapping_json("{"),
            Err(SchemaError::Json(_))
        ));
    }

    #[test]
    fn lookup_with_defaults() {
        let mut s = Schema::new();
        s.add_table("bronze.orders", &[("id", "int")]);
        s.add_table("silver.orders", &[("id", "int")]);
        s.add_table("bronze.customers", &[("id", "int")]);
        let r = Dialect::Generic.rules();
        assert!(
            matches!(s.lookup(&[("orders", false)], &r, None, Some("bronze")), Lookup::Found(_, t) if t.name() == "bronze.orders")
        );
        assert!(
            matches!(s.lookup(&[("orders", false)], &r, None, None), Lookup::Ambiguous(v) if v.len() == 2)
        );
        assert!(
            matches!(s.lookup(&[("customers", false)], &r, None, Some("silver")), Lookup::Found(_, t) if t.name() == "bronze.customers")
        );
        assert!(
            matches!(s.lookup(&[("silver", false), ("orders", false)], &r, None, Some("bronze")), Lookup::Found(_, t) if t.name() == "silver.orders")
        );
        assert!(matches!(
            s.lookup(&[("gold", false), ("orders", false)], &r, None, None),
            Lookup::NotFound
        ));
        assert!(matches!(
            s.lookup(&[("nope", false)], &r, None, None),
            Lookup::NotFound
        ));
    }

    #[test]
    fn add_table_replaces() {
        let mut s = Schema::new();
        s.add_table("a.t", &[("x", "int")]);
        s.add_table("a.t", &[("y", "int")]);
        assert_eq!(s.len(), 1);
        assert_eq!(s.table("a.t").unwrap().columns()[0].name, "y");
    }
}
