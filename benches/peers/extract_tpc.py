#!/usr/bin/env python3
"""Regenerate the TPC-H and TPC-DS lineage corpora from DuckDB's tpch/tpcds extensions.

What it writes (relative to the repository root):

    graph/lineage/tests/tpch/q01.sql ... q22.sql   + schema.json
    graph/lineage/tests/tpcds/q01.sql ... q99.sql  + schema.json

The queries are DuckDB's own copies (``tpch_queries()`` / ``tpcds_queries()``), so they
are in DuckDB's SQL dialect. Each ``.sql`` file holds exactly one query, byte-for-byte as
DuckDB returns it, with surrounding blank lines trimmed and a single trailing newline.

``schema.json`` is in sqlglot's "mapping schema" form, flat and lower-cased::

    {"table": {"column": "TYPE", ...}, ...}

tables sorted by name, columns in their declared (ordinal) order, types as DuckDB spells
them (``INTEGER``, ``DECIMAL(15,2)``, ``VARCHAR``, ``DATE``...). The tables come from
``CALL dbgen(sf=0)`` / ``CALL dsdgen(sf=0)``, which create the empty TPC schemas; each
benchmark is generated in its own in-memory database because both define ``customer``.

Requirements (install into a virtualenv outside the repository; nothing is downloaded
by this script itself, and DuckDB's extension auto-install is switched off):

    python3 -m venv $HOME/.venvs/lineage-peers
    $HOME/.venvs/lineage-peers/bin/pip install \
        duckdb==1.5.5 duckdb-extension-tpch==1.5.5 duckdb-extension-tpcds==1.5.5

The ``duckdb-extension-*`` wheels carry the prebuilt ``.duckdb_extension`` binaries for a
given DuckDB version, and their version must equal DuckDB's. This script LOADs those
files straight from the installed wheels. ``INSTALL tpch`` on its own does not work
offline, because DuckDB tries to download the extension from its own server.

Run (from anywhere):

    $HOME/.venvs/lineage-peers/bin/python benches/peers/extract_tpc.py [--out-root DIR]

``--out-root`` defaults to the repository root, found from this file's location.
``--check`` regenerates into memory and reports any file that differs from the one on
disk, without writing anything (exit status 1 when something differs).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

# Keep the interpreter from writing __pycache__ next to imported modules. This matters
# only if someone imports this file from inside the repository.
sys.dont_write_bytecode = True

import duckdb  # noqa: E402

BENCHMARKS = {
    # name: (wheel module, schema generator call, queries table function, query count)
    "tpch": ("duckdb_extension_tpch", "CALL dbgen(sf=0)", "tpch_queries()", 22),
    "tpcds": ("duckdb_extension_tpcds", "CALL dsdgen(sf=0)", "tpcds_queries()", 99),
}


def extension_path(module_name: str, ext_name: str) -> Path:
    """Path of the .duckdb_extension binary shipped in the matching wheel."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        sys.exit(
            f"error: cannot import {module_name}: install the "
            f"{module_name.replace('_', '-')}=={duckdb.__version__} wheel ({err})"
        )
    base = Path(module.__file__).resolve().parent / "extensions"
    wanted = base / f"v{duckdb.__version__}" / f"{ext_name}.duckdb_extension"
    if wanted.is_file():
        return wanted
    found = sorted(p.relative_to(base).as_posix() for p in base.glob("*/*.duckdb_extension"))
    sys.exit(
        f"error: {wanted} not found; the {module_name} wheel has {found or 'nothing'} but "
        f"duckdb is {duckdb.__version__}: install matching versions"
    )


def connect_with(ext_name: str, module_name: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    # Never reach for the network: fail instead of auto-installing anything.
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    path = extension_path(module_name, ext_name)
    con.execute(f"LOAD '{path.as_posix()}'")
    return con


def schema_of(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    rows = con.execute(
        """
        SELECT table_name, column_name, data_type
        FROM duckdb_columns()
        WHERE database_name = current_database() AND schema_name = 'main'
        ORDER BY table_name, column_index
        """
    ).fetchall()
    schema: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        schema.setdefault(table.lower(), {})[column.lower()] = data_type
    return schema


def queries_of(con: duckdb.DuckDBPyConnection, table_fn: str) -> list[tuple[int, str]]:
    rows = con.execute(f"SELECT query_nr, query FROM {table_fn} ORDER BY query_nr").fetchall()
    return [(int(nr), text) for nr, text in rows]


def normalise_sql(text: str) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(line.rstrip() for line in lines) + "\n"


def render(name: str) -> dict[str, str]:
    """All files of one benchmark, as {relative file name: content}."""
    module_name, schema_call, table_fn, expected = BENCHMARKS[name]
    con = connect_with(name, module_name)
    try:
        con.execute(schema_call)
        schema = schema_of(con)
        queries = queries_of(con, table_fn)
    finally:
        con.close()
    numbers = [nr for nr, _ in queries]
    if numbers != list(range(1, expected + 1)):
        sys.exit(f"error: {table_fn} returned queries {numbers}, expected 1..{expected}")
    files = {f"q{nr:02d}.sql": normalise_sql(text) for nr, text in queries}
    files["schema.json"] = json.dumps(schema, indent=2) + "\n"
    return files


def main() -> int:
    default_root = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-root", type=Path, default=default_root,
                        help="repository root to write under (default: %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files on disk instead of writing")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append",
                        help="generate just this benchmark (repeatable)")
    args = parser.parse_args()

    differing = 0
    for name in args.only or list(BENCHMARKS):
        out_dir = args.out_root / "graph" / "lineage" / "tests" / name
        files = render(name)
        if not args.check:
            out_dir.mkdir(parents=True, exist_ok=True)
        for rel, content in sorted(files.items()):
            target = out_dir / rel
            if args.check:
                current = target.read_text(encoding="utf-8") if target.is_file() else None
                if current != content:
                    differing += 1
                    print(f"differs: {target}")
                continue
            tmp = target.with_suffix(target.suffix + ".tmp")
            tmp.write_text(content, encoding="utf-8", newline="\n")
            os.replace(tmp, target)
        n_queries = sum(1 for rel in files if rel.endswith(".sql"))
        verb = "checked" if args.check else "wrote"
        print(f"{name}: {verb} {n_queries} queries + schema.json "
              f"({len(json.loads(files['schema.json']))} tables) in {out_dir} "
              f"[duckdb {duckdb.__version__}]")
    if args.check and differing:
        print(f"{differing} file(s) differ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
