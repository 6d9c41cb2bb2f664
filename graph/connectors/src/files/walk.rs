//! Walking the folder and cutting it into datasets ("units"): single files, folders of part
//! files, and hive-partitioned folders.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{invalid, io_error};
use crate::error::Result;

/// What a file's name says it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Ext {
    /// `.csv`
    Csv,
    /// `.tsv`
    Tsv,
    /// `.parquet`, `.pq`
    Parquet,
    /// `.jsonl`, `.ndjson`
    JsonLines,
    /// `.json`: JSON lines, or an array of objects.
    Json,
}

/// Formats that may share a dataset folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// CSV and TSV.
    Delimited,
    /// Parquet.
    Parquet,
    /// JSON lines and JSON arrays.
    Json,
}

impl Ext {
    /// The format named by a file name, and the name without its extension.
    pub(crate) fn of(name: &str) -> Option<(Ext, &str)> {
        let lower = name.to_ascii_lowercase();
        let (ext, len) = [
            (".csv", Ext::Csv),
            (".tsv", Ext::Tsv),
            (".parquet", Ext::Parquet),
            (".pq", Ext::Parquet),
            (".jsonl", Ext::JsonLines),
            (".ndjson", Ext::JsonLines),
            (".json", Ext::Json),
        ]
        .into_iter()
        .find(|(suffix, _)| lower.ends_with(suffix) && lower.len() > suffix.len())
        .map(|(suffix, ext)| (ext, suffix.len()))?;
        let stem = name.get(..name.len() - len)?;
        Some((ext, stem))
    }

    /// The family the format belongs to.
    pub(crate) fn family(self) -> Family {
        match self {
            Ext::Csv | Ext::Tsv => Family::Delimited,
            Ext::Parquet => Family::Parquet,
            Ext::JsonLines | Ext::Json => Family::Json,
        }
    }
}

/// One data file found by the walk.
#[derive(Debug, Clone)]
pub(crate) struct DataFile {
    /// Its path components under the folder.
    pub rel: Vec<String>,
    /// Its path (the folder as given, joined with `rel`).
    pub path: PathBuf,
    /// Its format.
    pub ext: Ext,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last modified.
    pub modified: Option<SystemTime>,
}

impl DataFile {
    /// The path for messages.
    pub(crate) fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn name(&self) -> &str {
        self.rel.last().map_or("", String::as_str)
    }
}

/// A folder as the walk found it.
#[derive(Debug, Default)]
struct Dir {
    abs: PathBuf,
    rel: Vec<String>,
    files: Vec<DataFile>,
    dirs: Vec<Dir>,
}

/// What the walk found.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    /// The datasets, in path order.
    pub units: Vec<Unit>,
    /// Files of no known format, by relative path.
    pub skipped: Vec<String>,
    /// Things that did not stop the walk.
    pub warnings: Vec<String>,
}

/// A file's partition values: (`key`, value), `None` for a null partition.
pub(crate) type Partitions = Vec<(String, Option<String>)>;

/// The files of one dataset.
#[derive(Debug)]
pub(crate) struct Unit {
    /// The name components of the dataset (the folder path, or the file path without its
    /// extension).
    pub name: Vec<String>,
    /// The folder the dataset lives in (for datasets written in several formats side by side).
    pub parent: Vec<String>,
    /// The path relative to the folder, with `/`, or `.` for the folder itself.
    pub path: String,
    /// The file or folder name.
    pub title: String,
    /// Whether the dataset is a folder of files.
    pub folder: bool,
    /// Its files, each with its partition values (`key`, value; `None` for a null partition).
    pub files: Vec<(DataFile, Partitions)>,
}

/// Walks `dir` (or takes the one file `dir` names) and cuts what it finds into datasets.
/// `root_name` names a dataset that is the folder itself.
pub(crate) fn walk(dir: &Path, root_name: &str) -> Result<Walk> {
    let location = dir.display().to_string();
    let meta = fs::metadata(dir).map_err(|e| io_error(&location, &e))?;
    let mut out = Walk::default();
    let root = if meta.is_file() {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut root = Dir {
            abs: dir.parent().map(Path::to_path_buf).unwrap_or_default(),
            ..Dir::default()
        };
        match Ext::of(&name) {
            Some((ext, _)) => root.files.push(DataFile {
                rel: vec![name],
                path: dir.to_path_buf(),
                ext,
                size: meta.len(),
                modified: meta.modified().ok(),
            }),
            None => {
                return Err(invalid(
                    &location,
                    "file",
                    "is not a CSV, TSV, Parquet or JSON-lines file (by its extension)",
                ));
            }
        }
        root
    } else if meta.is_dir() {
        let mut visited = HashSet::new();
        if let Ok(canonical) = dir.canonicalize() {
            visited.insert(canonical);
        }
        read_dir(dir, Vec::new(), &mut visited, &mut out)?
    } else {
        return Err(invalid(&location, "path", "is neither a folder nor a file"));
    };
    let mut units = Vec::new();
    classify(root, root_name, &mut units)?;
    out.units = units;
    Ok(out)
}

/// Whether the walk ignores an entry: hidden files and folders (`.` or `_` first, as Hadoop,
/// Spark and Hive do: `_SUCCESS`, `_delta_log`, `.part-0.crc`) and checksum files.
fn ignored(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_') || name.to_ascii_lowercase().ends_with(".crc")
}

fn read_dir(
    abs: &Path,
    rel: Vec<String>,
    visited: &mut HashSet<PathBuf>,
    out: &mut Walk,
) -> Result<Dir> {
    let location = abs.display().to_string();
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    for entry in fs::read_dir(abs).map_err(|e| io_error(&location, &e))? {
        let entry = entry.map_err(|e| io_error(&location, &e))?;
        entries.push((
            entry.file_name().to_string_lossy().into_owned(),
            entry.path(),
        ));
    }
    entries.sort();
    let mut dir = Dir {
        abs: abs.to_path_buf(),
        rel: rel.clone(),
        ..Dir::default()
    };
    for (name, path) in entries {
        if ignored(&name) {
            continue;
        }
        let mut child = rel.clone();
        child.push(name.clone());
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                out.warnings.push(format!(
                    "{}: skipped: {e} (a broken symbolic link?)",
                    path.display()
                ));
                continue;
            }
        };
        if meta.is_dir() {
            let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
            if !visited.insert(canonical) {
                out.warnings.push(format!(
                    "{}: skipped: a symbolic link to a folder that is already read",
                    path.display()
                ));
                continue;
            }
            dir.dirs.push(read_dir(&path, child, visited, out)?);
        } else if let (true, Some((ext, _))) = (meta.is_file(), Ext::of(&name)) {
            dir.files.push(DataFile {
                rel: child,
                path,
                ext,
                size: meta.len(),
                modified: meta.modified().ok(),
            });
        } else {
            out.skipped.push(child.join("/"));
        }
    }
    Ok(dir)
}

/// `key=value`, with a non-empty key.
fn partition(component: &str) -> Option<(&str, &str)> {
    component.split_once('=').filter(|(k, _)| !k.is_empty())
}

/// A name Spark, Hive, DuckDB or Delta give the files of one table: `part-00000-...`,
/// `part_0`, `part0`, `data_0`, `data-0`, `data0`.
fn is_part_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let after = |prefix: &str| {
        lower
            .strip_prefix(prefix)
            .map(|r| r.trim_start_matches(['-', '_']))
    };
    lower.starts_with("part-")
        || lower.starts_with("part_")
        || after("part").is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        || after("data").is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
}

fn all_files(dir: Dir, out: &mut Vec<DataFile>) {
    out.extend(dir.files);
    for d in dir.dirs {
        all_files(d, out);
    }
}

fn dir_unit(rel: &[String], root_name: &str) -> (Vec<String>, Vec<String>, String, String) {
    match rel.split_last() {
        Some((last, parent)) => (rel.to_vec(), parent.to_vec(), rel.join("/"), last.clone()),
        None => (
            vec![root_name.to_owned()],
            Vec::new(),
            ".".to_owned(),
            root_name.to_owned(),
        ),
    }
}

/// Cuts a folder into datasets:
/// - a folder with a `key=value` subfolder is one partitioned dataset of every file under it;
/// - else a folder whose data files are all part files of one format is one dataset of those
///   files (its other subfolders are looked at on their own);
/// - else each data file is a dataset, and each subfolder is looked at on its own.
fn classify(dir: Dir, root_name: &str, out: &mut Vec<Unit>) -> Result<()> {
    let partitioned = dir
        .dirs
        .iter()
        .any(|d| d.rel.last().is_some_and(|n| partition(n).is_some()));
    if partitioned {
        let (name, parent, path, title) = dir_unit(&dir.rel, root_name);
        let depth = dir.rel.len();
        let location = dir.abs.display().to_string();
        let mut files = Vec::new();
        all_files(dir, &mut files);
        check_one_family(&files, &location)?;
        let files = files
            .into_iter()
            .map(|f| {
                let values = partition_values(&f, depth);
                (f, values)
            })
            .collect();
        out.push(Unit {
            name,
            parent,
            path,
            title,
            folder: true,
            files,
        });
        return Ok(());
    }
    let Dir {
        rel, files, dirs, ..
    } = dir;
    let part_folder = !files.is_empty()
        && files.iter().all(|f| is_part_file(f.name()))
        && files.iter().all(|f| {
            files
                .first()
                .is_some_and(|g| g.ext.family() == f.ext.family())
        });
    if part_folder {
        let (name, parent, path, title) = dir_unit(&rel, root_name);
        out.push(Unit {
            name,
            parent,
            path,
            title,
            folder: true,
            files: files.into_iter().map(|f| (f, Vec::new())).collect(),
        });
    } else {
        for f in files {
            let file_name = f.name().to_owned();
            let stem = Ext::of(&file_name)
                .map_or(file_name.as_str(), |(_, s)| s)
                .to_owned();
            let parent = f
                .rel
                .split_last()
                .map(|(_, p)| p.to_vec())
                .unwrap_or_default();
            let mut name = parent.clone();
            name.push(stem);
            out.push(Unit {
                name,
                parent,
                path: f.rel.join("/"),
                title: file_name,
                folder: false,
                files: vec![(f, Vec::new())],
            });
        }
    }
    for d in dirs {
        classify(d, root_name, out)?;
    }
    Ok(())
}

fn check_one_family(files: &[DataFile], location: &str) -> Result<()> {
    let Some(first) = files.first() else {
        return Ok(());
    };
    match files.iter().find(|f| f.ext.family() != first.ext.family()) {
        Some(other) => Err(invalid(
            location,
            "files",
            format!(
                "a partitioned dataset holds one format, but {} and {} differ",
                first.location(),
                other.location()
            ),
        )),
        None => Ok(()),
    }
}

/// The `key=value` folders between the dataset folder (at `depth`) and the file, decoded;
/// Hive's `__HIVE_DEFAULT_PARTITION__` and empty values are null.
fn partition_values(file: &DataFile, depth: usize) -> Partitions {
    let folders = file
        .rel
        .split_last()
        .map(|(_, p)| p.get(depth..).unwrap_or_default())
        .unwrap_or_default();
    folders
        .iter()
        .filter_map(|c| partition(c))
        .map(|(k, v)| {
            let v = percent_decode(v);
            let value = (!v.is_empty() && v != "__HIVE_DEFAULT_PARTITION__").then_some(v);
            (percent_decode(k), value)
        })
        .collect()
}

/// Undoes the `%XX` escapes Hive and Spark write into partition folder names.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn names_are_classified() {
        assert_eq!(Ext::of("a.CSV"), Some((Ext::Csv, "a")));
        assert_eq!(
            Ext::of("part-0.snappy.parquet"),
            Some((Ext::Parquet, "part-0.snappy"))
        );
        assert_eq!(Ext::of(".csv"), None);
        assert_eq!(Ext::of("a.csv.gz"), None);
        for n in [
            "part-00000-abc.c000.snappy.parquet",
            "part_1.csv",
            "part0.pq",
            "data_0.parquet",
            "data-3.csv",
        ] {
            assert!(is_part_file(n), "{n}");
        }
        for n in [
            "orders.csv",
            "partners.csv",
            "database.csv",
            "data.csv",
            "2024-01-01.csv",
        ] {
            assert!(!is_part_file(n), "{n}");
        }
        assert!(ignored("_SUCCESS") && ignored(".part-0.crc") && ignored("_delta_log"));
        assert_eq!(percent_decode("a%20b%3A"), "a b:");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
