//! Serialising query results: the SPARQL results formats, RDF formats for graphs, and a plain
//! text table for people at a terminal.

use std::io::Write;

use govgraph_graph::oxigraph::io::{RdfFormat, RdfSerializer};
use govgraph_graph::oxigraph::model::Term;
use govgraph_graph::oxigraph::sparql::results::{QueryResultsFormat, QueryResultsSerializer};
use govgraph_graph::oxigraph::sparql::{QueryResults, QuerySolution, Variable};
use govgraph_graph::store::Deadline;
use govgraph_graph::vocab;

use crate::error::{ApiError, ApiResult};

/// How solutions (SELECT, ASK) are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolutionsFormat {
    /// One of the W3C SPARQL results formats.
    Sparql(QueryResultsFormat),
    /// An aligned text table.
    Table,
}

/// The output of a query, serialised, and the media type it is in.
#[derive(Debug)]
pub struct Serialized {
    /// The bytes.
    pub body: Vec<u8>,
    /// The media type.
    pub media_type: &'static str,
    /// Rows (solutions or triples) written.
    pub rows: u64,
}

/// A cap on what one response may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most bytes a serialised result may have.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 256 << 20,
        }
    }
}

/// A writer that refuses to grow past a limit.
struct Capped {
    buf: Vec<u8>,
    max: usize,
}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "result too large",
            ));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    // Serialisers write in many small pieces: one check and one copy each.
    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.write(data).map(drop)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn io_error(e: std::io::Error, limits: Limits) -> ApiError {
    if e.kind() == std::io::ErrorKind::FileTooLarge {
        ApiError::TooLarge(format!(
            "the result is larger than {} MiB; add a LIMIT or narrow the query",
            limits.max_bytes >> 20
        ))
    } else {
        ApiError::Internal(e.to_string())
    }
}

/// Serialises results: solutions and booleans with `solutions`, graphs with `graph`.
pub fn serialize(
    results: QueryResults<'_>,
    deadline: &Deadline,
    solutions: SolutionsFormat,
    graph: RdfFormat,
    limits: Limits,
    mask: Option<&govgraph_policy::Masker>,
) -> ApiResult<Serialized> {
    let mask = mask.filter(|m| !m.is_empty());
    // A solution with its protected literals masked.
    let masked = |solution: QuerySolution| -> QuerySolution {
        let Some(m) = mask else {
            return solution;
        };
        // Most rows hold nothing protected: they pass as they are, without a copy.
        let changed: Vec<(usize, Term)> = solution
            .values()
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((i, m.term(v.as_ref()?)?)))
            .collect();
        if changed.is_empty() {
            return solution;
        }
        let variables: Vec<Variable> = solution.variables().to_vec();
        let mut values: Vec<Option<Term>> = solution.values().to_vec();
        for (i, t) in changed {
            values[i] = Some(t);
        }
        QuerySolution::from((variables, values))
    };
    let mut out = Capped {
        buf: Vec::new(),
        max: limits.max_bytes,
    };
    let mut rows = 0u64;
    let media_type = match results {
        QueryResults::Boolean(value) => match solutions {
            SolutionsFormat::Sparql(format) => {
                QueryResultsSerializer::from_format(format)
                    .serialize_boolean_to_writer(&mut out, value)
                    .map_err(|e| io_error(e, limits))?;
                format.media_type()
            }
            SolutionsFormat::Table => {
                writeln!(out, "{value}").map_err(|e| io_error(e, limits))?;
                "text/plain"
            }
        },
        QueryResults::Solutions(iter) => {
            let variables = iter.variables().to_vec();
            match solutions {
                SolutionsFormat::Sparql(format) => {
                    let mut ser = QueryResultsSerializer::from_format(format)
                        .serialize_solutions_to_writer(&mut out, variables)
                        .map_err(|e| io_error(e, limits))?;
                    for solution in iter {
                        let solution =
                            masked(solution.map_err(|e| ApiError::from(deadline.map_error(e)))?);
                        ser.serialize(&solution).map_err(|e| io_error(e, limits))?;
                        rows += 1;
                    }
                    ser.finish().map_err(|e| io_error(e, limits))?;
                    format.media_type()
                }
                SolutionsFormat::Table => {
                    let mut table: Vec<Vec<String>> = Vec::new();
                    for solution in iter {
                        let solution =
                            masked(solution.map_err(|e| ApiError::from(deadline.map_error(e)))?);
                        table.push(
                            variables
                                .iter()
                                .map(|v| solution.get(v).map(short).unwrap_or_default())
                                .collect(),
                        );
                        rows += 1;
                    }
                    let header: Vec<String> =
                        variables.iter().map(|v| v.as_str().to_owned()).collect();
                    write_table(&mut out, &header, &table).map_err(|e| io_error(e, limits))?;
                    "text/plain"
                }
            }
        }
        QueryResults::Graph(triples) => {
            let mut serializer = RdfSerializer::from_format(graph);
            for (prefix, ns) in vocab::prefix_pairs() {
                serializer = serializer
                    .with_prefix(prefix, ns)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
            }
            let mut ser = serializer.for_writer(&mut out);
            for triple in triples {
                let mut triple = triple.map_err(|e| ApiError::from(deadline.map_error(e)))?;
                if let Some(m) = mask
                    && let Some(o) = m.term(&triple.object)
                {
                    triple.object = o;
                }
                ser.serialize_triple(&triple)
                    .map_err(|e| io_error(e, limits))?;
                rows += 1;
            }
            ser.finish().map_err(|e| io_error(e, limits))?;
            graph.media_type()
        }
    };
    Ok(Serialized {
        body: out.buf,
        media_type,
        rows,
    })
}

/// A term as a person reads it: IRIs compacted with govgraph's prefixes, literals bare.
pub fn short(term: &Term) -> String {
    match term {
        Term::NamedNode(n) => {
            let iri = n.as_str();
            for (prefix, ns) in vocab::prefix_pairs() {
                if let Some(local) = iri.strip_prefix(ns)
                    && !local.is_empty()
                    && local
                        .chars()
                        .all(|c| c.is_alphanumeric() || "_-.".contains(c))
                {
                    return format!("{prefix}:{local}");
                }
            }
            format!("<{iri}>")
        }
        Term::BlankNode(b) => format!("_:{}", b.as_str()),
        Term::Literal(l) => l.value().to_owned(),
        #[allow(unreachable_patterns)]
        other => other.to_string(),
    }
}

/// Writes an aligned text table with a header rule.
pub fn write_table(
    out: &mut impl Write,
    header: &[String],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    const MAX: usize = 80;
    let clip = |s: &str| -> String {
        let one_line = s.replace('\n', " ");
        if one_line.chars().count() > MAX {
            let mut c: String = one_line.chars().take(MAX - 1).collect();
            c.push('…');
            c
        } else {
            one_line
        }
    };
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    let clipped: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| clip(c)).collect())
        .collect();
    for row in &clipped {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    writeln!(out, "{}", line(header))?;
    writeln!(
        out,
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  ")
    )?;
    for row in &clipped {
        writeln!(out, "{}", line(row))?;
    }
    writeln!(
        out,
        "({} row{})",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    )
}
