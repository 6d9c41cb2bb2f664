//! Column-level lineage from SQL.
