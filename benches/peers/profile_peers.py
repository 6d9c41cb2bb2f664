#!/usr/bin/env python3
"""Profile TPC-H lineitem (scale factor 1, 6,001,215 rows, Parquet) with `govgraph profile`
and with DuckDB's `SUMMARIZE`, on the same file, on the same machine, in one run; compare
wall time, peak memory and the statistics; time `govgraph classify` on it too (wall time and
peak memory); write benches/PROFILE.md.

    python benches/peers/profile_peers.py --govgraph target/release/govgraph \
        [--engines native,datafusion] [--data DIR] [--runs 3] [--out benches/PROFILE.md]

`--engines` lists the file engines `govgraph profile --engine` runs with (DataFusion needs a
binary built with `--features datafusion`); each is timed and checked in the same run.

The file is made once with DuckDB's tpch extension (`CALL dbgen(sf=1)`, then `COPY ... TO
... (FORMAT parquet)`) into --data and reused. Python side, in a virtualenv outside the
repository, offline like benches/peers/extract_tpc.py:

    pip install duckdb==1.5.5 duckdb-extension-tpch==1.5.5

Each tool runs in a child process of its own: wall time is measured around the child
(DuckDB's includes its import, about 0.1 s, reported separately), peak memory is the
child's maximum resident set size (wait4).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROWS = 6_001_215


def extension_path() -> Path:
    import duckdb

    module = importlib.import_module("duckdb_extension_tpch")
    base = Path(module.__file__).resolve().parent / "extensions"
    wanted = base / f"v{duckdb.__version__}" / "tpch.duckdb_extension"
    if not wanted.exists():
        sys.exit(f"no tpch extension for DuckDB {duckdb.__version__} under {base}")
    return wanted


def make_lineitem(path: Path) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute(f"LOAD '{extension_path().as_posix()}'")
    con.execute("CALL dbgen(sf=1)")
    con.execute(f"COPY lineitem TO '{path.as_posix()}' (FORMAT parquet)")


def run_measured(argv: list[str]) -> tuple[float, float, bytes]:
    """Like run_child, with the child's own peak RSS from wait4."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{argv[0]} exited with {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_maxrss / 1024, out


DUCKDB_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
t1 = time.perf_counter()
rows = con.sql("SUMMARIZE SELECT * FROM read_parquet('%s')").fetchall()
t2 = time.perf_counter()
exact = {}
if %s:
    src = "read_parquet('%s')"
    for (name, dtype) in con.sql(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {src})").fetchall():
        q = "NULL" if dtype == "VARCHAR" else f"quantile_disc({name}, [0.25, 0.5, 0.75])"
        d, qs = con.sql(f"SELECT count(DISTINCT {name}), {q} FROM {src}").fetchone()
        exact[name] = {"distinct": d, "quartiles": None if qs is None else [str(x) for x in qs]}
print(json.dumps({"import": t1 - t0, "summarize": t2 - t1, "exact": exact,
                  "rows": [[None if v is None else str(v) for v in r] for r in rows]}))
"""


def close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)


def compare(ours: dict, duck: list[list[str]], exact: dict) -> list[dict]:
    """Per column: which of govgraph's statistics agree with DuckDB's. Where DuckDB's
    SUMMARIZE only estimates (distinct counts by HyperLogLog, approximate quartiles), both
    are checked against DuckDB's exact `count(DISTINCT ...)` and `quantile_disc`."""
    columns = {c["name"]: c for c in ours["columns"]}
    report = []
    for row in duck:
        name, dtype, dmin, dmax, dunique, davg, dstd, dq25, dq50, dq75, dcount, dnull = row
        c = columns[name]
        numeric = c["type"] in ("integer", "decimal", "float")
        true_distinct = exact[name]["distinct"]
        checks = {
            "count": int(dcount) == c["count"],
            "nulls": float(dnull) == c["null_percentage"],
            "min": str(c["min"]) == dmin or (numeric and close(float(dmin), float(c["min"]), 1e-12)),
            "max": str(c["max"]) == dmax or (numeric and close(float(dmax), float(c["max"]), 1e-12)),
            "distinct": c["distinct_count"] == true_distinct
            if not c["distinct_is_approximate"]
            else close(c["distinct_count"], true_distinct, 0.02),
        }
        if numeric:
            checks["mean"] = close(float(davg), c["mean"], 1e-9)
            checks["stddev"] = close(float(dstd), c["stddev"], 1e-6)
        quartiles = exact[name]["quartiles"]
        if quartiles and (numeric or c["type"] == "date"):
            ours_q = [c["q25"], c["q50"], c["q75"]]
            checks["quartiles"] = all(
                (str(o) == str(e)[:10]) if c["type"] == "date" else close(float(o), float(e), 1e-12)
                for o, e in zip(ours_q, quartiles)
            )
        report.append({"column": name, "ours": c["type"], "checks": checks,
                       "distinct": (c["distinct_count"], int(dunique), true_distinct),
                       "approximate": c["distinct_is_approximate"]})
    return report


def _days(s: str) -> int:
    import datetime

    return datetime.date.fromisoformat(str(s)[:10]).toordinal()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--govgraph", required=True)
    ap.add_argument("--data", default=os.path.expanduser("~/.cache/govgraph/tpch"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default="benches/PROFILE.md")
    ap.add_argument("--engines", default="auto")
    args = ap.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    parquet = data / "lineitem-duckdb-sf1.parquet"
    if not parquet.exists():
        print("generating lineitem (sf=1) with DuckDB's tpch extension ...", flush=True)
        make_lineitem(parquet)

    # The exact reference statistics come from a child of their own, not timed.
    script = DUCKDB_CHILD % (parquet.as_posix(), "True", parquet.as_posix())
    _, _, out = run_measured([sys.executable, "-c", script])
    exact = json.loads(out)["exact"]

    ours_times = {e: [] for e in engines}
    ours_rss = {e: [] for e in engines}
    ours_json = {}
    duck_times, duck_rss, duck_imports = [], [], []
    classify_times, classify_rss = [], []
    duck_rows = None
    for i in range(args.runs):
        for e in engines:
            wall, rss, out = run_measured(
                [args.govgraph, "profile", str(parquet), "--json", "--engine", e])
            ours_times[e].append(wall)
            ours_rss[e].append(rss)
            ours_json[e] = json.loads(out)
        script = DUCKDB_CHILD % (parquet.as_posix(), "False", parquet.as_posix())
        wall, rss, out = run_measured([sys.executable, "-c", script])
        doc = json.loads(out)
        duck_times.append(doc["summarize"])
        duck_imports.append(doc["import"])
        duck_rss.append(rss)
        duck_rows = doc["rows"]
        wall, rss, out = run_measured([args.govgraph, "classify", str(parquet), "--json"])
        classify_times.append(wall)
        classify_rss.append(rss)
        classified = json.loads(out)["columns"]
        mine = ", ".join(f"govgraph ({e}) {ours_times[e][-1]:.2f} s" for e in engines)
        print(f"run {i + 1}: {mine}, DuckDB SUMMARIZE {duck_times[-1]:.2f} s, "
              f"classify {classify_times[-1]:.2f} s", flush=True)

    for e in engines:
        assert ours_json[e]["row_count"] == ROWS, ours_json[e]["row_count"]
    ours_med = {e: statistics.median(ours_times[e]) for e in engines}
    duck_med = statistics.median(duck_times)
    import duckdb

    lines = [
        "# Profiling TPC-H lineitem against DuckDB SUMMARIZE",
        "",
        f"Written by `benches/peers/profile_peers.py` on {time.strftime('%Y-%m-%d')}: "
        f"{os.cpu_count()} CPUs, {platform.machine()}, DuckDB {duckdb.__version__}, "
        f"{args.runs} runs each, alternating, on one file of {ROWS:,} rows "
        f"({parquet.stat().st_size / 2**20:.0f} MiB, made by DuckDB's `dbgen(sf=1)`).",
        "",
        "| tool | median wall time | runs | peak RSS (median) |",
        "|---|---:|---|---:|",
    ] + [
        f"| `govgraph profile --json --engine {e}` | {ours_med[e]:.2f} s | "
        f"{', '.join(f'{t:.2f}' for t in ours_times[e])} | {statistics.median(ours_rss[e]):.0f} MiB |"
        for e in engines
    ] + [
        f"| DuckDB `SUMMARIZE` | {duck_med:.2f} s | {', '.join(f'{t:.2f}' for t in duck_times)} | "
        f"{statistics.median(duck_rss):.0f} MiB |",
        "",
        "Ratio govgraph / DuckDB: "
        + "; ".join(f"{e} **{ours_med[e] / duck_med:.2f}×**" for e in engines)
        + " (target ≤ 1.5×). govgraph's "
        f"time includes process start and JSON output; DuckDB's excludes its import "
        f"(median {statistics.median(duck_imports):.2f} s).",
        "",
        "## Do the statistics match?",
        "",
        "Count, nulls, min, max, mean and standard deviation are compared with SUMMARIZE's. "
        "SUMMARIZE only estimates distinct counts (HyperLogLog) and quartiles, so those are "
        "compared with DuckDB's exact `count(DISTINCT ...)` and `quantile_disc` instead: "
        "govgraph's exact distinct counts (up to 100,000 values) must be equal, its "
        "HyperLogLog estimates within 2%, its quartiles equal.",
        "",
    ]
    failures = 0
    for e in engines:
        report = compare(ours_json[e], duck_rows, exact)
        lines += [
            "",
            f"Engine `{e}`:",
            "",
            "| column | type | agrees | differs | distinct: govgraph / SUMMARIZE / exact |",
            "|---|---|---|---|---:|",
        ]
        for r in report:
            ok = [k for k, v in r["checks"].items() if v]
            bad = [k for k, v in r["checks"].items() if not v]
            failures += len(bad)
            lines.append(f"| {r['column']} | {r['ours']} | {', '.join(ok)} | {', '.join(bad) or '—'} | "
                         f"{'~' if r['approximate'] else ''}{r['distinct'][0]:,} / {r['distinct'][1]:,} / "
                         f"{r['distinct'][2]:,} |")
    labels = ", ".join(f"{c['name']}: {c['category']}" for c in classified)
    lines += [
        "",
        "## Classification",
        "",
        f"`govgraph classify FILE --json` on the same file: it samples the first 1,000 rows of each "
        f"of the {len(classified)} columns and labels them from names and values.",
        "",
        "| tool | median wall time | runs | peak RSS (median) |",
        "|---|---:|---|---:|",
        f"| `govgraph classify --json` | {statistics.median(classify_times):.2f} s | "
        f"{', '.join(f'{t:.2f}' for t in classify_times)} | {statistics.median(classify_rss):.0f} MiB |",
        "",
        f"Labels: {labels}.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines) + "\n")
    ratios = ", ".join(f"{e} {ours_med[e] / duck_med:.2f}" for e in engines)
    print(f"ratio {ratios}; {failures} statistics differ; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
