//! A small, deterministic Turtle writer: subjects with predicate lists, nested blank
//! nodes, full IRIs in angle brackets and prefixed names for vocabulary terms.

use crate::vocab::TURTLE_PREFIXES;
use std::fmt::Write as _;

/// An RDF object.
#[derive(Debug, Clone)]
pub(crate) enum O {
    /// A full IRI.
    Iri(String),
    /// A prefixed name such as `gg:Table`.
    Name(&'static str),
    /// A plain string literal.
    Str(String),
    /// A typed literal: lexical form and prefixed datatype.
    Typed(String, &'static str),
    /// An `xsd:integer` literal written bare.
    Int(i64),
    /// An `xsd:boolean` literal written bare.
    Bool(bool),
    /// A nested anonymous node.
    Blank(Props),
}

/// An ordered list of predicate-object pairs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Props(Vec<(&'static str, O)>);

impl Props {
    pub(crate) fn new() -> Self {
        Self::default()
    }
    /// `a <class>` (a prefixed name).
    pub(crate) fn a(self, class: &'static str) -> Self {
        self.add("a", O::Name(class))
    }
    pub(crate) fn add(mut self, p: &'static str, o: O) -> Self {
        self.0.push((p, o));
        self
    }
    pub(crate) fn iri(self, p: &'static str, iri: impl Into<String>) -> Self {
        self.add(p, O::Iri(iri.into()))
    }
    pub(crate) fn iris<S: Into<String>>(
        mut self,
        p: &'static str,
        iris: impl IntoIterator<Item = S>,
    ) -> Self {
        for i in iris {
            self = self.iri(p, i);
        }
        self
    }
    pub(crate) fn name(self, p: &'static str, n: &'static str) -> Self {
        self.add(p, O::Name(n))
    }
    pub(crate) fn str(self, p: &'static str, s: impl Into<String>) -> Self {
        self.add(p, O::Str(s.into()))
    }
    pub(crate) fn strs<S: Into<String>>(
        mut self,
        p: &'static str,
        items: impl IntoIterator<Item = S>,
    ) -> Self {
        for s in items {
            self = self.str(p, s);
        }
        self
    }
    pub(crate) fn typed(self, p: &'static str, lex: impl Into<String>, dt: &'static str) -> Self {
        self.add(p, O::Typed(lex.into(), dt))
    }
    pub(crate) fn int(self, p: &'static str, v: i64) -> Self {
        self.add(p, O::Int(v))
    }
    pub(crate) fn long(self, p: &'static str, v: i64) -> Self {
        self.add(p, O::Int(v))
    }
    pub(crate) fn bool(self, p: &'static str, v: bool) -> Self {
        self.add(p, O::Bool(v))
    }
    pub(crate) fn blank(self, p: &'static str, inner: Props) -> Self {
        self.add(p, O::Blank(inner))
    }
}

/// A Turtle document being written.
#[derive(Debug)]
pub(crate) struct Turtle {
    out: String,
}

impl Turtle {
    /// A document with a header comment and every contract prefix declared.
    pub(crate) fn new(header: &str) -> Self {
        let mut out = String::new();
        for line in header.lines() {
            if line.is_empty() {
                out.push_str("#\n");
            } else {
                let _ = writeln!(out, "# {line}");
            }
        }
        out.push('\n');
        for (p, ns) in TURTLE_PREFIXES {
            let _ = writeln!(out, "@prefix {p}: <{ns}> .");
        }
        out.push('\n');
        Self { out }
    }

    /// A comment line introducing a group of statements.
    pub(crate) fn section(&mut self, title: &str) {
        let _ = writeln!(self.out, "# --- {title} ---\n");
    }

    /// One subject (a full IRI, a prefixed name, or `[]`) and its predicate list.
    pub(crate) fn node(&mut self, subject: &str, props: Props) {
        if subject.contains("://") {
            let _ = write!(self.out, "<{subject}>");
        } else {
            self.out.push_str(subject);
        }
        write_props(&mut self.out, &props, 1, true);
        self.out.push_str(" .\n\n");
    }

    /// The finished document.
    pub(crate) fn finish(self) -> String {
        let mut s = self.out;
        while s.ends_with("\n\n") {
            s.pop();
        }
        s
    }
}

fn write_props(out: &mut String, props: &Props, depth: usize, first_inline: bool) {
    let pad = "    ".repeat(depth);
    let mut i = 0;
    let items = &props.0;
    let mut first = true;
    while i < items.len() {
        let (p, _) = &items[i];
        let mut j = i;
        while j < items.len() && items[j].0 == *p {
            j += 1;
        }
        if first && first_inline {
            out.push(' ');
        } else {
            if !first {
                out.push_str(" ;");
            }
            out.push('\n');
            out.push_str(&pad);
        }
        first = false;
        out.push_str(p);
        out.push(' ');
        for (k, (_, o)) in items[i..j].iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            write_object(out, o, depth);
        }
        i = j;
    }
}

fn write_object(out: &mut String, o: &O, depth: usize) {
    match o {
        O::Iri(i) => {
            let _ = write!(out, "<{i}>");
        }
        O::Name(n) => out.push_str(n),
        O::Str(s) => write_string(out, s),
        O::Typed(lex, dt) => {
            write_string(out, lex);
            out.push_str("^^");
            out.push_str(dt);
        }
        O::Int(v) => {
            let _ = write!(out, "{v}");
        }
        O::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        O::Blank(inner) => {
            out.push('[');
            write_props(out, inner, depth + 1, false);
            out.push('\n');
            out.push_str(&"    ".repeat(depth));
            out.push(']');
        }
    }
}

/// A Turtle string literal: a long `"""` literal for multi-line text without quotes or
/// backslashes, otherwise a short literal with escapes.
fn write_string(out: &mut String, s: &str) {
    if s.contains('\n') && !s.contains('"') && !s.contains('\\') && !s.contains('\r') {
        out.push_str("\"\"\"");
        out.push_str(s);
        out.push_str("\"\"\"");
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_grouped_predicates_and_blank_nodes() {
        let mut t = Turtle::new("test");
        t.node(
            "https://id.govgraph.dev/x",
            Props::new()
                .a("gg:Table")
                .str("skos:altLabel", "a")
                .str("skos:altLabel", "b \"q\"")
                .blank(
                    "odrl:permission",
                    Props::new().name("odrl:action", "odrl:read"),
                ),
        );
        let s = t.finish();
        assert!(s.contains("<https://id.govgraph.dev/x> a gg:Table ;\n    skos:altLabel \"a\", \"b \\\"q\\\"\" ;\n    odrl:permission [\n        odrl:action odrl:read\n    ] .\n"), "{s}");
    }
}
