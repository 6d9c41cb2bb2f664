#!/usr/bin/env python3
"""Time column-level lineage extraction by peer tools over a folder of SQL queries.

Peers (each is optional; a peer whose package is missing is reported and skipped):

* ``sqlglot`` -- the way the sqlglot docs show it: for every output column of the
  query's final SELECT, ``sqlglot.lineage.lineage(column, sql, schema=schema,
  dialect=DIALECT)``, then a walk of the returned ``Node`` tree down to its leaves.
  Each call parses and qualifies the query again; that is the cost being measured.
  The list of output columns comes from one extra ``parse_one`` + ``qualify`` (needed
  to expand ``SELECT *``), which is inside the timed region too.
* ``sqlglot_all`` -- the same result from a single ``lineage(None, sql, ...)`` call,
  which sqlglot >= 30 offers: one parse/qualify per query and a cache shared by all
  output columns. Not part of the original brief but the fairer sqlglot number.
  Left out with ``--peers sqlglot,openlineage``.
* ``openlineage`` -- ``openlineage_sql.parse([sql], dialect=DIALECT)`` (OpenLineage's
  Rust SQL parser behind a Python binding). It has no schema input, so it cannot
  expand ``*`` or place unqualified columns when more than one table is in scope.
  It does not know a ``duckdb`` dialect name and falls back to its generic dialect.

For each query, each peer's work is repeated ``--reps`` times (default 3) and the
median of ``time.perf_counter()`` wall time is reported. The lineage result is taken
from the first repetition (the peers are deterministic). One untimed warm-up query per
peer runs first, so import and dialect set-up costs are not charged to ``q01``.

Source sets: every output column maps to the set of base-table columns it reads,
``(table, column)``, lower-cased, table without schema/catalog. For sqlglot these are
the leaves of the lineage tree whose expression is a table; ``SELECT *`` leaves give
``(table, "*")``; a leaf whose table could not be resolved is listed under
``unresolved`` instead. Columns computed only from literals or ``count(*)`` have an
empty source set.

Usage:

    $HOME/.venvs/lineage-peers/bin/python benches/peers/lineage_peers.py \
        graph/lineage/tests/tpcds [--schema FILE] [--reps 3] [--out FILE] \
        [--peers sqlglot,sqlglot_all,openlineage] [--only q01,q14] [--timeout 120]

``--schema`` defaults to ``<folder>/schema.json``, sqlglot's mapping schema
(``{"table": {"column": "type"}}``). ``--out`` defaults to
``/tmp/lineage_peers_<folder name>.json``; keep results outside the repository.

Install (outside the repository): see benches/peers/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import signal
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

sys.dont_write_bytecode = True

DIALECT = "duckdb"
ALL_PEERS = ("sqlglot", "sqlglot_all", "openlineage")
FORMAT_VERSION = 1


# --------------------------------------------------------------------------- helpers


class PeerTimeout(BaseException):
    """Raised by the alarm; a BaseException so a peer's `except Exception` can't swallow it."""


def _alarm(_signum, _frame):
    raise PeerTimeout("timed out")


def with_timeout(seconds: float, fn: Callable[[], Any]) -> Any:
    """Run fn, raising PeerTimeout after `seconds` (main thread, POSIX only).

    Native code (openlineage's Rust parser) is only interrupted once it returns to
    Python, which is fine for a guard against runaway pure-Python work.
    """
    if seconds <= 0 or not hasattr(signal, "setitimer"):
        return fn()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def short_error(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}"
    text = " ".join(_ANSI.sub("", text).split())  # sqlglot underlines with ANSI codes
    return text if len(text) <= 500 else text[:497] + "..."


def pkg_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def pairs(sources: set[tuple[str | None, str]]) -> list[list[str | None]]:
    return [list(p) for p in sorted(sources, key=lambda p: (p[0] or "", p[1]))]


# --------------------------------------------------------------------------- peers
#
# A peer is an object with
#   name: str
#   info(): dict                       -- package, version, notes
#   run(sql) -> dict                   -- one whole extraction (this is what is timed),
#                                         returning:
#      {"columns": [{"name", "sources", "unresolved", "error"}],
#       "errors": [{"column", "message"}]}
# Timing wraps run() as a whole; the timeout alarm is armed outside the timed region.


class SqlglotPeer:
    """sqlglot.lineage.lineage() once per output column (the brief's method)."""

    name = "sqlglot"

    def __init__(self, schema: dict[str, dict[str, str]]):
        import sqlglot
        from sqlglot import exp
        from sqlglot.lineage import lineage
        from sqlglot.optimizer.qualify import qualify
        from sqlglot.schema import MappingSchema

        self.sqlglot, self.exp, self.lineage, self.qualify = sqlglot, exp, lineage, qualify
        # Built once, as the Rust side loads its schema once: lineage() would otherwise
        # rebuild (and re-normalise) a MappingSchema from the dict on every call.
        self.schema = MappingSchema(schema, dialect=DIALECT)

    def info(self) -> dict[str, Any]:
        from sqlglot import tokenizer_core

        compiled = not getattr(tokenizer_core, "__file__", "x.py").endswith(".py")
        return {
            "package": "sqlglot",
            "version": pkg_version("sqlglot"),
            "compiled_sqlglotc": compiled,
            "sqlglotc_version": pkg_version("sqlglotc"),
            "dialect": DIALECT,
            "method": "lineage(column, sql, schema, dialect) per output column",
        }

    def output_columns(self, sql: str) -> list[str]:
        tree = self.sqlglot.parse_one(sql, dialect=DIALECT)
        tree = self.qualify(tree, schema=self.schema, dialect=DIALECT,
                            validate_qualify_columns=False, identify=False)
        return [sel.alias_or_name for sel in tree.selects]

    def sources_of(self, root) -> tuple[set, list[str]]:
        exp = self.exp
        sources: set[tuple[str | None, str]] = set()
        unresolved: list[str] = []
        for node in root.walk():
            if node.downstream:
                continue
            expr = node.expression
            column = node.name.rsplit(".", 1)[-1].strip('"')
            if isinstance(expr, exp.Table):
                sources.add((expr.name.lower(), column.lower()))
            elif isinstance(expr, exp.Placeholder):
                unresolved.append(node.name)
            # any other leaf is the column's own expression with no column inputs
        return sources, sorted(set(unresolved))

    def run(self, sql: str) -> dict[str, Any]:
        exp = self.exp
        result: dict[str, Any] = {"columns": [], "errors": []}
        try:
            names = self.output_columns(sql)
        except Exception as err:  # noqa: BLE001 -- any failure is data
            result["errors"].append({"column": None, "message": short_error(err)})
            return result
        for name in names:
            col: dict[str, Any] = {"name": name, "sources": [], "unresolved": [], "error": None}
            try:
                if not name:
                    raise ValueError("unnamed projection")
                target = exp.Column(this=exp.to_identifier(name, quoted=True))
                node = self.lineage(target, sql, schema=self.schema, dialect=DIALECT)
                sources, unresolved = self.sources_of(node)
                col["sources"], col["unresolved"] = pairs(sources), unresolved
            except Exception as err:  # noqa: BLE001
                col["error"] = short_error(err)
                result["errors"].append({"column": name, "message": col["error"]})
            result["columns"].append(col)
        return result


class SqlglotAllPeer(SqlglotPeer):
    """sqlglot.lineage.lineage(None, ...): all output columns in one call."""

    name = "sqlglot_all"

    def info(self) -> dict[str, Any]:
        info = super().info()
        info["method"] = "lineage(None, sql, schema, dialect): all output columns at once"
        return info

    def run(self, sql: str) -> dict[str, Any]:
        result: dict[str, Any] = {"columns": [], "errors": []}
        try:
            nodes = self.lineage(None, sql, schema=self.schema, dialect=DIALECT)
            if not isinstance(nodes, dict):
                raise TypeError("this sqlglot's lineage() does not accept column=None")
        except Exception as err:  # noqa: BLE001
            result["errors"].append({"column": None, "message": short_error(err)})
            return result
        for name, node in nodes.items():
            col: dict[str, Any] = {"name": name, "sources": [], "unresolved": [], "error": None}
            try:
                sources, unresolved = self.sources_of(node)
                col["sources"], col["unresolved"] = pairs(sources), unresolved
            except Exception as err:  # noqa: BLE001
                col["error"] = short_error(err)
                result["errors"].append({"column": name, "message": col["error"]})
            result["columns"].append(col)
        return result


class OpenLineagePeer:
    """openlineage_sql.parse([sql], dialect)."""

    name = "openlineage"

    def __init__(self, schema: dict[str, dict[str, str]]):
        import openlineage_sql

        self.ol = openlineage_sql
        del schema  # no schema input in its API

    def info(self) -> dict[str, Any]:
        return {
            "package": "openlineage-sql",
            "version": pkg_version("openlineage-sql"),
            "provider": self.ol.provider() if hasattr(self.ol, "provider") else None,
            "dialect": DIALECT,
            "method": "parse([sql], dialect) -> SqlMeta.column_lineage",
            "note": "no schema input; unknown dialect names fall back to its generic dialect",
        }

    def run(self, sql: str) -> dict[str, Any]:
        # The timed work is the parse call plus reading its result into Python
        # objects; the latter is small next to the parse itself.
        result: dict[str, Any] = {"columns": [], "errors": []}
        meta = self.ol.parse([sql], dialect=DIALECT)
        for err in meta.errors:
            result["errors"].append({"column": None, "message": " ".join(str(err.message).split())})
        order: list[str] = []
        merged: dict[str, set] = {}
        for cl in meta.column_lineage:
            name = str(cl.descendant.name).lower()
            if name not in merged:
                order.append(name)
                merged[name] = set()
            for src in cl.lineage:
                table = src.origin.name.lower() if src.origin is not None else None
                merged[name].add((table, str(src.name).lower()))
        for name in order:
            sources = merged[name]
            result["columns"].append({
                "name": name,
                "sources": pairs({s for s in sources if s[0] is not None}),
                "unresolved": sorted(s[1] for s in sources if s[0] is None),
                "error": None,
            })
        result["in_tables"] = sorted({t.name.lower() for t in meta.in_tables})
        return result


PEER_CLASSES = {"sqlglot": SqlglotPeer, "sqlglot_all": SqlglotAllPeer, "openlineage": OpenLineagePeer}

WARMUP_SQL = "SELECT a.x AS y, count(*) AS n FROM t AS a GROUP BY a.x"


# --------------------------------------------------------------------------- driver


def measure(peer, sql: str, reps: int, timeout: float) -> dict[str, Any]:
    times: list[float] = []
    first: dict[str, Any] | None = None
    fatal: str | None = None
    for _ in range(reps):
        gc.collect()
        clock = [0.0]

        def timed() -> dict[str, Any]:
            clock[0] = time.perf_counter()
            res = peer.run(sql)
            clock[0] = time.perf_counter() - clock[0]
            return res

        try:
            out = with_timeout(timeout, timed)
        except (Exception, PeerTimeout) as err:  # noqa: BLE001 -- timeout or a peer bug
            times.append(time.perf_counter() - clock[0] if clock[0] else 0.0)
            fatal = short_error(err)
            break
        times.append(clock[0])
        if first is None:
            first = out
    result = first or {"columns": [], "errors": []}
    errors = list(result["errors"])
    if fatal is not None:
        errors.append({"column": None, "message": fatal})
    columns = result["columns"]
    entry: dict[str, Any] = {
        "ok": not errors,
        "time_s": statistics.median(times),
        "times_s": times,
        "n_columns": len(columns),
        "n_columns_with_sources": sum(1 for c in columns if c["sources"]),
        "n_columns_with_unresolved": sum(1 for c in columns if c["unresolved"]),
        "n_errors": len(errors),
        "errors": errors,
        "columns": columns,
    }
    if "in_tables" in result:
        entry["in_tables"] = result["in_tables"]
    return entry


def summarise(per_query: dict[str, dict], peer: str) -> dict[str, Any]:
    rows = [q["peers"][peer] for q in per_query.values() if peer in q["peers"]]
    times = [r["time_s"] for r in rows]
    failed = [name for name, q in per_query.items() if peer in q["peers"] and not q["peers"][peer]["ok"]]
    return {
        "queries": len(rows),
        "queries_ok": len(rows) - len(failed),
        "queries_with_errors": failed,
        "columns": sum(r["n_columns"] for r in rows),
        "columns_with_sources": sum(r["n_columns_with_sources"] for r in rows),
        "columns_with_unresolved": sum(r["n_columns_with_unresolved"] for r in rows),
        "column_errors": sum(1 for r in rows for c in r["columns"] if c["error"]),
        "errors": sum(r["n_errors"] for r in rows),
        "time_total_s": sum(times),
        "time_median_s": statistics.median(times) if times else None,
        "time_mean_s": statistics.fmean(times) if times else None,
        "time_min_s": min(times) if times else None,
        "time_max_s": max(times) if times else None,
    }


def agreement(per_query: dict[str, dict], a: str, b: str) -> dict[str, Any] | None:
    """Columns both peers name in a query, and how many have identical source sets."""
    both = same = 0
    differing: list[str] = []
    for qname, q in per_query.items():
        if a not in q["peers"] or b not in q["peers"]:
            continue
        ca = {c["name"]: c for c in q["peers"][a]["columns"] if not c["error"]}
        cb = {c["name"]: c for c in q["peers"][b]["columns"] if not c["error"]}
        for name in ca.keys() & cb.keys():
            both += 1
            if ca[name]["sources"] == cb[name]["sources"]:
                same += 1
            else:
                differing.append(f"{qname}.{name}")
    if not both:
        return None
    return {"peers": [a, b], "columns_compared": both, "identical_sources": same,
            "differing": differing}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path, help="folder of *.sql files (one query each)")
    ap.add_argument("--schema", type=Path, help="schema.json (default: <corpus>/schema.json)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions per query (median; default 3)")
    ap.add_argument("--peers", default=",".join(ALL_PEERS),
                    help=f"comma-separated subset of {','.join(ALL_PEERS)} (default: all)")
    ap.add_argument("--only", help="comma-separated query names (file stems) to run")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="seconds allowed for one repetition of one peer on one query (0: none)")
    ap.add_argument("--out", type=Path, help="output JSON (default: /tmp/lineage_peers_<corpus>.json)")
    ap.add_argument("--quiet", action="store_true", help="no per-query progress lines")
    args = ap.parse_args()

    corpus = args.corpus.resolve()
    schema_path = (args.schema or corpus / "schema.json").resolve()
    out_path = (args.out or Path(f"/tmp/lineage_peers_{corpus.name}.json")).resolve()
    if args.reps < 1:
        ap.error("--reps must be >= 1")
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    files = sorted(corpus.glob("*.sql"))
    if args.only:
        wanted = {s.strip() for s in args.only.split(",") if s.strip()}
        files = [f for f in files if f.stem in wanted]
    if not files:
        print(f"no .sql files in {corpus}", file=sys.stderr)
        return 2

    peers = []
    skipped: dict[str, str] = {}
    for name in [p.strip() for p in args.peers.split(",") if p.strip()]:
        if name not in PEER_CLASSES:
            ap.error(f"unknown peer {name!r}; choose from {', '.join(ALL_PEERS)}")
        try:
            peer = PEER_CLASSES[name](schema)
            peer.run(WARMUP_SQL)  # untimed warm-up: imports, dialect tables, caches
            peers.append(peer)
        except Exception as err:  # noqa: BLE001
            skipped[name] = short_error(err)
            print(f"peer {name} unavailable: {skipped[name]}", file=sys.stderr)
    if not peers:
        print("no peer could be loaded", file=sys.stderr)
        return 2

    load_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    started = time.time()
    per_query: dict[str, dict] = {}
    for f in files:
        sql = f.read_text(encoding="utf-8")
        entry: dict[str, Any] = {"file": f.name, "peers": {}}
        for peer in peers:
            entry["peers"][peer.name] = measure(peer, sql, args.reps, args.timeout)
        per_query[f.stem] = entry
        if not args.quiet:
            bits = "  ".join(
                f"{p}: {r['time_s'] * 1e3:8.2f} ms "
                + ("ok    " if r["ok"] else f"err x{r['n_errors']:<2}")
                for p, r in entry["peers"].items())
            print(f"{f.stem:>6}  {bits}", flush=True)
    load_end = os.getloadavg() if hasattr(os, "getloadavg") else None

    summary = {p.name: summarise(per_query, p.name) for p in peers}
    agreements = []
    names = [p.name for p in peers]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ag = agreement(per_query, a, b)
            if ag:
                agreements.append(ag)

    doc = {
        "format": "govgraph-lineage-peers",
        "format_version": FORMAT_VERSION,
        "meta": {
            "corpus": str(corpus),
            "schema": str(schema_path),
            "queries": len(files),
            "reps": args.reps,
            "timing": "median of reps of time.perf_counter() around one peer's whole per-query work",
            "dialect": DIALECT,
            "started_unix": started,
            "wall_s": time.time() - started,
            "python": sys.version.split()[0],
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "nproc": os.cpu_count(),
            "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "loadavg_start": load_start,
            "loadavg_end": load_end,
            "peers": {p.name: p.info() for p in peers},
            "peers_skipped": skipped,
        },
        "summary": summary,
        "agreement": agreements,
        "queries": per_query,
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")

    print()
    print(f"corpus {corpus}  ({len(files)} queries, reps={args.reps}, nproc={os.cpu_count()}, "
          f"load {fmt_load(load_start)} -> {fmt_load(load_end)})")
    header = f"{'peer':<12} {'ok':>7} {'cols':>6} {'w/src':>6} {'colerr':>6} {'median ms':>10} {'mean ms':>9} {'max ms':>9} {'total s':>9}"
    print(header)
    print("-" * len(header))
    for name, s in summary.items():
        print(f"{name:<12} {s['queries_ok']:>3}/{s['queries']:<3} {s['columns']:>6} "
              f"{s['columns_with_sources']:>6} {s['column_errors']:>6} "
              f"{s['time_median_s'] * 1e3:>10.2f} {s['time_mean_s'] * 1e3:>9.2f} "
              f"{s['time_max_s'] * 1e3:>9.2f} {s['time_total_s']:>9.3f}")
    for name, s in summary.items():
        if s["queries_with_errors"]:
            print(f"{name}: errors in {', '.join(s['queries_with_errors'])}")
    for ag in agreements:
        print(f"agreement {ag['peers'][0]} vs {ag['peers'][1]}: "
              f"{ag['identical_sources']}/{ag['columns_compared']} shared columns with identical sources")
    print(f"wrote {out_path}")
    return 0


def fmt_load(load) -> str:
    return "n/a" if load is None else "/".join(f"{x:.2f}" for x in load)


if __name__ == "__main__":
    sys.exit(main())
