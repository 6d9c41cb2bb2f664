#!/usr/bin/env python3
"""Run eight data-quality rules on TPC-H lineitem (scale factor 1, Parquet) with govgraph and
with DuckDB, on the same file, on the same machine, in one run; compare wall time, peak memory
and the failing-row counts; write benches/RULES.md.

    python benches/peers/rules_peers.py [--engines native,datafusion] [--data DIR] [--runs 3]
        [--out benches/RULES.md]

`--engines` lists the file engines the bench runs with; DataFusion's bench is built with
`--features datafusion`.

govgraph's side is `cargo bench --bench rules` (built here without RocksDB: its catalog is in
memory): each run is a whole `quality run` without profiling: catalog read, PII detection for
masking, one streaming pass over the file for all eight rules, anomaly check, scores and the
stored run. DuckDB's side is the same checks as one aggregate query plus one GROUP BY for the
composite key, in a child process. The file is made by benches/peers/profile_peers.py (or
here, the same way). Python side: `pip install duckdb==1.5.5 duckdb-extension-tpch==1.5.5`
in a virtualenv outside the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from profile_peers import make_lineitem, run_measured  # noqa: E402

DUCKDB_CHILD = r"""
import json, time
import duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
t = "read_parquet('%s')"
t0 = time.perf_counter()
row = con.sql(f'''SELECT count(*),
  count(*) FILTER (WHERE l_orderkey IS NULL),
  count(*) FILTER (WHERE l_returnflag IS NOT NULL AND CAST(l_returnflag AS TEXT) NOT IN ('A', 'N', 'R')),
  count(*) FILTER (WHERE l_discount IS NOT NULL AND (l_discount < 0 OR l_discount > 0.1)),
  count(*) FILTER (WHERE l_shipdate IS NOT NULL AND (l_shipdate < '1992-01-01' OR l_shipdate > '1998-08-01')),
  count(*) FILTER (WHERE l_shipmode IS NOT NULL AND NOT regexp_matches(CAST(l_shipmode AS TEXT), '^[A-Z ]+$')),
  count(*) FILTER (WHERE NOT (l_commitdate <= l_receiptdate))
  FROM {t}''').fetchone()
dupes = con.sql(f'''SELECT COALESCE(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {t}
  WHERE l_orderkey IS NOT NULL AND l_linenumber IS NOT NULL
  GROUP BY l_orderkey, l_linenumber HAVING count(*) > 1)''').fetchone()[0]
t1 = time.perf_counter()
print(json.dumps({"seconds": t1 - t0, "failed": {
  "li-orderkey-not-null": row[1], "li-key-unique": int(dupes), "li-returnflag-values": row[2],
  "li-discount-range": row[3], "li-shipdate-range": row[4], "li-shipmode-format": row[5],
  "li-commit-before-receipt": row[6], "li-volume": 0 if row[0] >= 6000000 else 1}}))
"""


def bench_executable(datafusion: bool) -> str:
    features = ["--features", "datafusion"] if datafusion else []
    out = subprocess.run(
        ["cargo", "bench", "--locked", "--no-default-features", *features, "--bench", "rules",
         "--no-run", "--message-format=json"],
        check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "rules" \
                and msg.get("executable"):
            return msg["executable"]
    sys.exit("cargo built no rules bench")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.expanduser("~/.cache/govgraph/tpch"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default="benches/RULES.md")
    ap.add_argument("--engines", default="native,datafusion")
    args = ap.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    parquet = data / "lineitem-duckdb-sf1.parquet"
    if not parquet.exists():
        make_lineitem(parquet)
    exe = bench_executable("datafusion" in engines)
    ours = {}
    for e in engines:
        _, _, out = run_measured([exe, str(parquet), str(args.runs), e])
        ours[e] = json.loads(out)
    duck_times, duck_rss, duck_failed = [], [], None
    for _ in range(args.runs):
        _, rss_d, out = run_measured([sys.executable, "-c", DUCKDB_CHILD % parquet.as_posix()])
        doc = json.loads(out)
        duck_times.append(doc["seconds"])
        duck_rss.append(rss_d)
        duck_failed = doc["failed"]
    ours_med = {e: statistics.median(ours[e]["times"]) for e in engines}
    duck_med = statistics.median(duck_times)
    first = ours[engines[0]]
    import duckdb

    lines = [
        "# Data-quality rules on TPC-H lineitem against DuckDB",
        "",
        f"Written by `benches/peers/rules_peers.py` on {time.strftime('%Y-%m-%d')}: "
        f"{os.cpu_count()} CPUs, {platform.machine()}, DuckDB {duckdb.__version__}, "
        f"{args.runs} runs each, on one Parquet file of {first['rows']:,} rows "
        f"({parquet.stat().st_size / 2**20:.0f} MiB).",
        "",
        "| tool | median wall time | runs | peak RSS |",
        "|---|---:|---|---:|",
    ] + [
        f"| govgraph `quality run --engine {e}` (8 rules, no profile) | {ours_med[e]:.2f} s | "
        f"{', '.join(f'{t:.2f}' for t in ours[e]['times'])} | {ours[e]['peak_rss_mib']:.0f} MiB |"
        for e in engines
    ] + [
        f"| DuckDB (one aggregate query + one GROUP BY) | {duck_med:.2f} s | "
        f"{', '.join(f'{t:.2f}' for t in duck_times)} | {statistics.median(duck_rss):.0f} MiB |",
        "",
        "Ratio govgraph / DuckDB: "
        + "; ".join(f"{e} **{ours_med[e] / duck_med:.1f}×**" for e in engines)
        + ". govgraph's time is a whole "
        "assessment (catalog read, PII detection on a sample, the rules over the file, scoring, "
        "storing the run); DuckDB's is its two queries. govgraph's peak RSS is the bench "
        "process's, with the in-memory catalog (one process runs every timed run of an engine).",
        "",
        "| rule | " + " | ".join(f"govgraph {e} failed" for e in engines)
        + " | DuckDB failed | agree |",
        "|---|" + "---:|" * len(engines) + "---:|---|",
    ]
    disagree = 0
    for i, r in enumerate(first["results"]):
        theirs = duck_failed.get(r["rule"])
        counts = [ours[e]["results"][i]["failed"] for e in engines]
        same = all(c == theirs for c in counts)
        disagree += 0 if same else 1
        lines.append(f"| {r['rule']} | " + " | ".join(f"{c:,}" for c in counts)
                     + f" | {theirs:,} | {'yes' if same else 'NO'} |")
    lines.append("")
    Path(args.out).write_text("\n".join(lines) + "\n")
    ratios = ", ".join(f"{e} {ours_med[e] / duck_med:.1f}" for e in engines)
    print(f"ratio {ratios}; {disagree} counts differ; wrote {args.out}")
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
