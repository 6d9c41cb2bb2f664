#!/usr/bin/env python3
"""One run, one report: govgraph's lineage engine against sqlglot and openlineage-sql.

It runs, back to back on this machine:

1. ``cargo bench -p govgraph-lineage --bench tpc`` (release profile), which times our
   engine over the TPC-H and TPC-DS corpora and writes its per-query source sets;
2. ``lineage_peers.py`` over the same corpora, for sqlglot (per column and all at
   once) and openlineage-sql;

then compares every output column of every query and writes a Markdown report
(default ``benches/LINEAGE.md``) plus the merged JSON (default under /tmp).

Who is right, when engines disagree, is decided by rules that need no engine:

* a source ``(table, column)`` whose table is not a base table of the schema, or whose
  column is not a column of that table, is wrong;
* an input that names no table (openlineage without a schema) is unresolved, so the
  set it belongs to is incomplete;
* when govgraph and sqlglot give the same set and that set passes the schema check,
  a third set that differs is wrong, and the report says which sources it lacks or
  adds;
* any difference between govgraph and sqlglot is printed in full under "Needs a
  human verdict" and makes the script exit with status 1, so it cannot go unnoticed.

Usage (from the repository root, with the venv of benches/peers/README.md):

    $HOME/.venvs/lineage-peers/bin/python benches/peers/lineage_report.py \
        [--reps-rust 21] [--reps-peers 3] [--corpus tpch,tpcds] \
        [--md benches/LINEAGE.md] [--json /tmp/lineage_report.json]

``--from-json FILE`` rebuilds the Markdown from an earlier merged JSON without
running anything.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPORA = {"tpch": "TPC-H", "tpcds": "TPC-DS"}
PEERS = ("govgraph", "sqlglot", "sqlglot_all", "openlineage")
LABEL = {
    "govgraph": "govgraph (Rust, in process)",
    "sqlglot": "sqlglot `lineage(col)` per column",
    "sqlglot_all": "sqlglot `lineage(None)` all columns",
    "openlineage": "openlineage-sql `parse`",
}


# --------------------------------------------------------------------------- running


def run_rust(corpora: list[str], reps: int, out: Path) -> None:
    cmd = ["cargo", "bench", "-p", "govgraph-lineage", "--bench", "tpc", "--",
           "--reps", str(reps), "--out", str(out), *corpora]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def run_peers(corpus: str, reps: int, out: Path) -> None:
    cmd = [sys.executable, str(HERE / "lineage_peers.py"),
           str(ROOT / "graph/lineage/tests" / corpus), "--reps", str(reps),
           "--out", str(out), "--quiet"]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def collect(args) -> dict[str, Any]:
    corpora = [c.strip() for c in args.corpus.split(",") if c.strip()]
    load_start = os.getloadavg()
    started = dt.datetime.now(dt.timezone.utc)
    with tempfile.TemporaryDirectory(prefix="govgraph-lineage-") as tmp:
        rust_out = Path(tmp) / "govgraph.json"
        run_rust(corpora, args.reps_rust, rust_out)
        rust = json.loads(rust_out.read_text())
        peers = {}
        for corpus in corpora:
            out = Path(tmp) / f"peers_{corpus}.json"
            run_peers(corpus, args.reps_peers, out)
            peers[corpus] = json.loads(out.read_text())
    merged: dict[str, Any] = {
        "format": "govgraph-lineage-report",
        "format_version": 1,
        "meta": {
            "started_utc": started.isoformat(timespec="seconds"),
            "finished_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "cpu": cpu_model(),
            "nproc": os.cpu_count(),
            "mem_gib": mem_gib(),
            "os": platform.platform(),
            "python": sys.version.split()[0],
            "rustc": subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip(),
            "loadavg_start": load_start,
            "loadavg_end": os.getloadavg(),
            "reps_rust": args.reps_rust,
            "reps_peers": args.reps_peers,
        },
        "corpora": {},
    }
    for corpus in corpora:
        p = peers[corpus]
        queries = p["queries"]
        for q, entry in rust.get(corpus, {}).get("queries", {}).items():
            queries.setdefault(q, {"file": entry.get("file"), "peers": {}})
            queries[q]["peers"]["govgraph"] = entry["peers"]["govgraph"]
        merged["meta"].setdefault("peers", p["meta"]["peers"])
        merged["corpora"][corpus] = {"schema": p["meta"]["schema"], "queries": queries}
    return merged


# --------------------------------------------------------------------------- judging


def key(pairs) -> frozenset:
    return frozenset((t, c) for t, c in pairs)


def schema_of(path: str) -> dict[str, set[str]]:
    raw = json.loads(Path(path).read_text())
    return {t.lower(): {c.lower() for c in cols} for t, cols in raw.items()}


def bad_pairs(pairs: frozenset, schema: dict[str, set[str]]) -> list[str]:
    out = []
    for t, c in sorted(pairs):
        if t not in schema:
            out.append(f"`{t}` is not a base table")
        elif c not in schema[t]:
            out.append(f"`{t}` has no column `{c}`")
    return out


def fmt_pairs(pairs) -> str:
    return ", ".join(f"{t}.{c}" for t, c in sorted(pairs)) or "∅"


def judge(corpus: dict[str, Any]) -> dict[str, Any]:
    """Compare every output column; return counts and the list of disagreements."""
    schema = schema_of(corpus["schema"])
    rows: list[dict[str, Any]] = []
    human: list[dict[str, Any]] = []
    counts = {"columns": 0, "gov_eq_sqlglot": 0, "ol_named": 0, "ol_eq_sqlglot": 0,
              "gov_bad": 0, "sqlglot_bad": 0, "ol_bad": 0, "named_differently": 0}
    for q in sorted(corpus["queries"]):
        peers = corpus["queries"][q]["peers"]
        if "govgraph" not in peers or "sqlglot" not in peers:
            continue
        gcols = peers["govgraph"]["columns"]
        scols = peers["sqlglot"]["columns"]
        ol = {c["name"].lower(): c for c in peers.get("openlineage", {}).get("columns", [])}
        # Both list output columns in select order. They name an unaliased expression
        # differently (sqlglot `_col_5`, govgraph the expression text), so columns are
        # paired by position; by name only if the counts differ.
        if len(gcols) == len(scols):
            paired = list(zip(gcols, scols))
        else:
            by_name = {c["name"].lower(): c for c in scols}
            paired = [(g, by_name.get(g["name"].lower())) for g in gcols]
            names = {g["name"].lower() for g in gcols}
            paired += [(None, c) for c in scols if c["name"].lower() not in names]
        for gc, sc in paired:
            counts["columns"] += 1
            name = (gc or sc)["name"].lower()
            if gc and sc and gc["name"].lower() != sc["name"].lower():
                counts["named_differently"] += 1
            g = key(gc["sources"]) if gc else None
            s = key(sc["sources"]) if sc and not sc["error"] else None
            gbad = bad_pairs(g, schema) if g is not None else ["not reported"]
            sbad = bad_pairs(s, schema) if s is not None else ["not reported"]
            if sc and sc.get("unresolved"):
                sbad.append("unresolved " + ", ".join(sc["unresolved"]))
            counts["gov_bad"] += bool(gbad)
            counts["sqlglot_bad"] += bool(sbad)
            ref = None
            if g is not None and g == s:
                counts["gov_eq_sqlglot"] += 1
                if not gbad:
                    ref = g
            else:
                human.append({"query": q, "column": name,
                              "govgraph": fmt_pairs(g or []), "govgraph_problems": gbad,
                              "sqlglot": fmt_pairs(s or []), "sqlglot_problems": sbad})
            # openlineage
            if not ol and "openlineage" not in peers:
                continue
            o = ol.get(name)
            if o is None and sc:
                o = ol.get(sc["name"].lower())
            if o is None:
                if ref is not None and ref:
                    rows.append({"query": q, "column": name, "right": "govgraph, sqlglot",
                                 "expected": fmt_pairs(ref),
                                 "why": "openlineage-sql reports no output column of this name"})
                continue
            counts["ol_named"] += 1
            op = key(o["sources"])
            unresolved = o.get("unresolved") or []
            obad = bad_pairs(op, schema)
            counts["ol_bad"] += bool(obad or unresolved)
            if s is not None and op == s and not unresolved:
                counts["ol_eq_sqlglot"] += 1
                continue
            if ref is None:
                continue  # reported under "needs a human verdict"
            why = []
            if unresolved:
                why.append("no schema, so it cannot place " + ", ".join(f"`{u}`" for u in unresolved))
            why.extend(obad)
            missing = sorted(ref - op)
            extra = sorted((op - ref) - {p for p in op if bad_pairs(frozenset([p]), schema)})
            if missing:
                why.append("misses " + fmt_pairs(missing))
            if extra:
                why.append("adds " + fmt_pairs(extra) + ", which the schema has but the value does not read")
            rows.append({"query": q, "column": name, "right": "govgraph, sqlglot",
                         "expected": fmt_pairs(ref), "openlineage": fmt_pairs(op),
                         "why": "; ".join(why)})
    return {"counts": counts, "rows": rows, "human": human}


def speed(corpus: dict[str, Any]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    queries = corpus["queries"]
    for peer in PEERS:
        times = {q: e["peers"][peer]["time_s"] for q, e in queries.items() if peer in e["peers"]}
        if not times:
            continue
        ok = sum(1 for e in queries.values() if peer in e["peers"] and e["peers"][peer]["ok"])
        vals = sorted(times.values())
        out[peer] = {
            "queries": len(vals), "ok": ok,
            "median": statistics.median(vals),
            "mean": statistics.fmean(vals),
            "p95": vals[min(len(vals) - 1, int(round(0.95 * (len(vals) - 1))))],
            "max": vals[-1],
            "total": sum(vals),
        }
        if peer != "govgraph" and "govgraph" in out:
            ratios = [times[q] / queries[q]["peers"]["govgraph"]["time_s"]
                      for q in times if "govgraph" in queries[q]["peers"]
                      and queries[q]["peers"]["govgraph"]["time_s"] > 0]
            out[peer]["ratio_median_of_medians"] = out[peer]["median"] / out["govgraph"]["median"]
            out[peer]["ratio_total"] = out[peer]["total"] / out["govgraph"]["total"]
            out[peer]["ratio_per_query_median"] = statistics.median(ratios) if ratios else float("nan")
            out[peer]["queries_where_govgraph_faster"] = sum(1 for r in ratios if r > 1)
    return out


# --------------------------------------------------------------------------- report


def ms(x: float) -> str:
    return f"{x * 1e3:.3f}" if x < 0.01 else f"{x * 1e3:.1f}"


def render(merged: dict[str, Any]) -> tuple[str, int]:
    meta = merged["meta"]
    peers_meta = meta.get("peers", {})
    lines: list[str] = []
    w = lines.append
    w("# Column-level lineage: govgraph against sqlglot and openlineage-sql")
    w("")
    w("Generated by `benches/peers/lineage_report.py`; do not edit by hand. Every figure below")
    w("comes from one run: our engine and both peers, back to back on the same machine.")
    w("")
    w("## How to reproduce")
    w("")
    w("```sh")
    w("python3 -m venv $HOME/.venvs/lineage-peers")
    w("$HOME/.venvs/lineage-peers/bin/pip install sqlglot==30.30.0 openlineage-sql==1.54.0")
    w(f"$HOME/.venvs/lineage-peers/bin/python benches/peers/lineage_report.py "
      f"--reps-rust {meta['reps_rust']} --reps-peers {meta['reps_peers']}")
    w("```")
    w("")
    w("## Machine and versions")
    w("")
    load = lambda v: "/".join(f"{x:.2f}" for x in v)  # noqa: E731
    w(f"- CPU: {meta['cpu']}, {meta['nproc']} cores; memory {meta['mem_gib']:.0f} GiB; {meta['os']}")
    w(f"- Run: {meta['started_utc']} to {meta['finished_utc']}; load average "
      f"{load(meta['loadavg_start'])} at the start, {load(meta['loadavg_end'])} at the end")
    w(f"- govgraph: {meta['rustc']}, release profile, one thread; median of {meta['reps_rust']} repetitions per query")
    sg = peers_meta.get("sqlglot", {})
    olm = peers_meta.get("openlineage", {})
    w(f"- sqlglot {sg.get('version')} (compiled sqlglotc: {sg.get('compiled_sqlglotc')}), "
      f"openlineage-sql {olm.get('version')} (provider {olm.get('provider')}), CPython {meta['python']}; "
      f"median of {meta['reps_peers']} repetitions per query")
    w("- Timed work per query, for every engine: parse, resolve, and produce the source set of every")
    w("  output column. Schemas are loaded once, outside the timed region. Python timings include the")
    w("  interpreter, which is a real cost for a Python user; openlineage-sql is Rust behind a thin binding.")
    w("")
    failures = 0
    for corpus, data in merged["corpora"].items():
        title = CORPORA.get(corpus, corpus)
        sp = speed(data)
        jd = judge(data)
        c = jd["counts"]
        n = len(data["queries"])
        w(f"## {title} ({n} queries)")
        w("")
        w("### Speed")
        w("")
        w("| engine | queries without error | median ms/query | mean ms | p95 ms | max ms | total ms | slower than govgraph (median / total / per-query median) | queries where govgraph is faster |")
        w("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for peer in PEERS:
            if peer not in sp:
                continue
            s = sp[peer]
            ratio = "—" if peer == "govgraph" else (
                f"{s['ratio_median_of_medians']:.1f}× / {s['ratio_total']:.1f}× / {s['ratio_per_query_median']:.1f}×")
            faster = "—" if peer == "govgraph" else f"{s['queries_where_govgraph_faster']}/{s['queries']}"
            w(f"| {LABEL[peer]} | {s['ok']}/{s['queries']} | {ms(s['median'])} | {ms(s['mean'])} | "
              f"{ms(s['p95'])} | {ms(s['max'])} | {ms(s['total'])} | {ratio} | {faster} |")
        w("")
        if "sqlglot" in sp and "openlineage" in sp:
            t50 = min(sp["sqlglot"]["ratio_median_of_medians"], sp.get("sqlglot_all", sp["sqlglot"])["ratio_median_of_medians"])
            tol = sp["openlineage"]["ratio_median_of_medians"]
            w(f"Targets: at least 50× faster than sqlglot — **{'met' if t50 >= 50 else 'missed'}** "
              f"({t50:.0f}× against sqlglot's faster form, by median per query); no slower than "
              f"openlineage-sql — **{'met' if tol >= 1 else 'missed'}** ({tol:.1f}×).")
            w("")
        w("### Accuracy")
        w("")
        w(f"- Output columns: {c['columns']}. govgraph and sqlglot give the same source set for "
          f"**{c['gov_eq_sqlglot']}/{c['columns']}**.")
        if c["named_differently"]:
            w(f"- {c['named_differently']} unaliased expressions are named differently (sqlglot "
              f"`_col_N`, govgraph the expression's text); they are compared by position.")
        w(f"- Sources that fail the schema check (a table that is not a base table, or a column that "
          f"table lacks): govgraph {c['gov_bad']}, sqlglot {c['sqlglot_bad']}, openlineage-sql "
          f"{c['ol_bad']} (counting its table-less inputs).")
        w(f"- openlineage-sql names {c['ol_named']} of the columns and agrees with sqlglot on "
          f"{c['ol_eq_sqlglot']} of them (the same set, with no input left unplaced). It takes no schema, so it cannot expand `*` or place an "
          f"unqualified column when a scope has several tables.")
        w("")
        if jd["human"]:
            failures += len(jd["human"])
            w("### Needs a human verdict: govgraph and sqlglot differ")
            w("")
            w("| query.column | govgraph | sqlglot | schema problems |")
            w("| --- | --- | --- | --- |")
            for r in jd["human"]:
                probs = "; ".join([*(f"govgraph: {p}" for p in r["govgraph_problems"]),
                                   *(f"sqlglot: {p}" for p in r["sqlglot_problems"])]) or "none"
                w(f"| {r['query']}.{r['column']} | {r['govgraph']} | {r['sqlglot']} | {probs} |")
            w("")
        w(f"### Every disagreement ({len(jd['rows'])})")
        w("")
        if not jd["rows"] and not jd["human"]:
            w("None.")
        else:
            w("In every row below govgraph and sqlglot agree, their set passes the schema check, and "
              "openlineage-sql differs; so govgraph and sqlglot are right and the last column says "
              "what openlineage-sql gets wrong.")
            w("")
            tally = {
                "cannot place an unqualified column (no schema)": sum("cannot place" in r["why"] for r in jd["rows"]),
                "names a CTE, alias or derived table as a source table": sum("not a base table" in r["why"] for r in jd["rows"]),
                "puts a column on a table that lacks it": sum("has no column" in r["why"] for r in jd["rows"]),
                "misses real sources": sum("misses" in r["why"] for r in jd["rows"]),
                "reports no output column of that name": sum("no output column" in r["why"] for r in jd["rows"]),
            }
            w("Kinds of openlineage-sql error (a row can show several): "
              + "; ".join(f"{k}: {v}" for k, v in tally.items() if v) + ".")
            w("")
            w("| query.column | right (govgraph = sqlglot) | openlineage-sql | what is wrong |")
            w("| --- | --- | --- | --- |")
            for r in jd["rows"]:
                w(f"| {r['query']}.{r['column']} | {r['expected']} | {r.get('openlineage', '—')} | {r['why']} |")
        w("")
    return "\n".join(lines), failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps-rust", type=int, default=21)
    ap.add_argument("--reps-peers", type=int, default=3)
    ap.add_argument("--corpus", default="tpch,tpcds")
    ap.add_argument("--md", type=Path, default=ROOT / "benches" / "LINEAGE.md")
    ap.add_argument("--json", type=Path, default=Path(tempfile.gettempdir()) / "lineage_report.json")
    ap.add_argument("--from-json", type=Path, help="render an earlier merged JSON; run nothing")
    args = ap.parse_args()
    if args.from_json:
        merged = json.loads(args.from_json.read_text())
    else:
        merged = collect(args)
        args.json.write_text(json.dumps(merged, indent=1) + "\n")
        print(f"wrote {args.json}")
    text, failures = render(merged)
    args.md.write_text(text + "\n")
    print(f"wrote {args.md}")
    if failures:
        print(f"{failures} column(s) where govgraph and sqlglot differ: see the report", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
