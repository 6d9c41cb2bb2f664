//! Dropping very large syntax trees without deep recursion.
//!
//! sqlparser builds left-deep trees for flat chains (`a OR b OR …`,
//! `x::t::t…`, `SELECT … UNION ALL SELECT …`) without any recursion limit,
//! and dropping a `Box` chain recurses once per link: a chain of some tens of
//! thousands of links overflows a 2 MiB stack. [`dispose`] detaches every
//! link of such chains into a work list first, so that each node is dropped
//! with its children already taken out.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Query, SetExpr, Statement, Value, Values, VisitMut, VisitorMut};

/// Drops `stmts` using a bounded amount of stack.
pub(crate) fn dispose(stmts: Vec<Statement>) {
    let mut d = Detacher::default();
    for mut s in stmts {
        let _ = s.visit(&mut d);
        drop(s);
        d.drain();
    }
}

#[derive(Default)]
struct Detacher {
    exprs: Vec<Expr>,
    sets: Vec<SetExpr>,
}

fn placeholder_expr() -> Expr {
    Expr::value(Value::Null)
}

fn placeholder_set() -> SetExpr {
    SetExpr::Values(Values {
        explicit_row: false,
        value_keyword: false,
        rows: Vec::new(),
    })
}

impl Detacher {
    fn take(&mut self, e: &mut Expr) {
        self.exprs.push(std::mem::replace(e, placeholder_expr()));
    }

    fn drain(&mut self) {
        loop {
            if let Some(mut e) = self.exprs.pop() {
                let _ = e.visit(self);
                drop(e);
            } else if let Some(mut s) = self.sets.pop() {
                if let SetExpr::SetOperation { left, right, .. } = &mut s {
                    self.sets
                        .push(std::mem::replace(&mut **left, placeholder_set()));
                    self.sets
                        .push(std::mem::replace(&mut **right, placeholder_set()));
                }
                let _ = s.visit(self);
                drop(s);
            } else {
                break;
            }
        }
    }
}

impl VisitorMut for Detacher {
    type Break = ();

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        if matches!(*q.body, SetExpr::SetOperation { .. }) {
            self.sets
                .push(std::mem::replace(&mut *q.body, placeholder_set()));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match e {
            Expr::BinaryOp { left, right, .. }
            | Expr::AnyOp { left, right, .. }
            | Expr::AllOp { left, right, .. } => {
                self.take(left);
                self.take(right);
            }
            Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
                self.take(a);
                self.take(b);
            }
            Expr::Like { expr, pattern, .. }
            | Expr::ILike { expr, pattern, .. }
            | Expr::SimilarTo { expr, pattern, .. }
            | Expr::RLike { expr, pattern, .. } => {
                self.take(expr);
                self.take(pattern);
            }
            Expr::AtTimeZone {
                timestamp,
                time_zone,
            } => {
                self.take(timestamp);
                self.take(time_zone);
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                self.take(expr);
                self.take(low);
                self.take(high);
            }
            Expr::InUnnest {
                expr, array_expr, ..
            } => {
                self.take(expr);
                self.take(array_expr);
            }
            Expr::IsFalse(x)
            | Expr::IsNotFalse(x)
            | Expr::IsTrue(x)
            | Expr::IsNotTrue(x)
            | Expr::IsNull(x)
            | Expr::IsNotNull(x)
            | Expr::IsUnknown(x)
            | Expr::IsNotUnknown(x)
            | Expr::Nested(x)
            | Expr::Cast { expr: x, .. }
            | Expr::Collate { expr: x, .. }
            | Expr::UnaryOp { expr: x, .. }
            | Expr::IsNormalized { expr: x, .. }
            | Expr::InList { expr: x, .. }
            | Expr::InSubquery { expr: x, .. }
            | Expr::CompoundFieldAccess { root: x, .. }
            | Expr::JsonAccess { value: x, .. } => self.take(x),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use sqlparser::dialect::GenericDialect;
    use sqlparser::parser::Parser;

    #[test]
    fn disposes_long_chains_on_a_small_stack() {
        let n = 100_000;
        let sqls = [
            format!("SELECT {}", vec!["a"; n].join(" + ")),
            format!("SELECT a{}", "::int".repeat(n / 2)),
            vec!["SELECT 1"; n / 4].join(" UNION ALL "),
            format!("SELECT (SELECT 1 {})", " UNION SELECT 2".repeat(n / 4)),
        ];
        for sql in sqls {
            let stmts = Parser::parse_sql(&GenericDialect {}, &sql).unwrap();
            std::thread::Builder::new()
                .stack_size(512 * 1024)
                .spawn(move || dispose(stmts))
                .unwrap()
                .join()
                .unwrap();
        }
    }
}
