//! What reading one file yields: its columns and its row count.

use super::types::Ty;

/// One column of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    /// The name as the file spells it (nested fields joined with `.`).
    pub name: String,
    /// Its type.
    pub ty: Ty,
    /// Whether it may hold nulls; `None` when nothing says (a file without rows).
    pub nullable: Option<bool>,
}

/// The schema and size of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FileSchema {
    /// Its columns, in order.
    pub fields: Vec<Field>,
    /// Its exact number of records.
    pub rows: u64,
}

/// Makes column names unique and non-empty: an empty name becomes `column{n}` (1-based), a
/// repeated one gets `_2`, `_3`... appended, as most readers do.
pub(crate) fn unique_names(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for (i, name) in names.into_iter().enumerate() {
        let base = if name.trim().is_empty() {
            format!("column{}", i + 1)
        } else {
            name.trim().to_owned()
        };
        let mut candidate = base.clone();
        let mut n = 1;
        while out.contains(&candidate) {
            n += 1;
            candidate = format!("{base}_{n}");
        }
        out.push(candidate);
    }
    out
}
