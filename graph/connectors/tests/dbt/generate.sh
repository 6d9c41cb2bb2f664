#!/usr/bin/env bash
# Regenerates the dbt target directories under targets/ by running the `shop` project with real
# dbt against PostgreSQL: dbt 1.6 (manifest v10), 1.7 (v11) and 1.9 (v12).
#
#   tests/dbt/generate.sh [POSTGRES_DATABASE]
#
# Needs python3 and a PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth). dbt installs
# into ~/.cache/govgraph/dbt-VERSION. The project's path is replaced by /project in the
# artifacts, and the manifests keep only what the connector reads (macros and docs are dropped).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
database="${1:-test}"
venvs="${HOME}/.cache/govgraph"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false DBT_DATABASE="$database" DBT_SCHEMA=dbt_shop

for pair in 1.6:v10 1.7:v11 1.9:v12; do
  version="${pair%%:*}" schema="${pair##*:}"
  venv="$venvs/dbt-$version"
  if [ ! -x "$venv/bin/dbt" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "dbt-core~=$version.0" "dbt-postgres~=$version.0"
  fi
  PGOPTIONS="-c client_min_messages=warning" psql -h 127.0.0.1 -U postgres -d "$database" -q -c \
    'drop schema if exists dbt_shop, dbt_shop_raw, dbt_shop_snapshots, shop_web cascade'
  work="$(mktemp -d)"
  cp -r "$here/shop/." "$work/"
  (
    cd "$work"
    # Tests fail on purpose, so `build` exits non-zero.
    "$venv/bin/dbt" build --profiles-dir . >"$work/build.log" || true
    cp target/run_results.json run_results.json
    "$venv/bin/dbt" docs generate --profiles-dir . >"$work/docs.log"
  )
  out="$here/targets/$schema"
  mkdir -p "$out"
  python3 - "$work" "$out" <<'PY'
import json, sys
work, out = sys.argv[1], sys.argv[2]
def load(p):
    with open(p) as f:
        return f.read().replace(work, "/project")
manifest = json.loads(load(f"{work}/target/manifest.json"))
for key in ("macros", "docs"):
    manifest[key] = {}
files = {
    "manifest.json": manifest,
    "catalog.json": json.loads(load(f"{work}/target/catalog.json")),
    "run_results.json": json.loads(load(f"{work}/run_results.json")),
}
for name, doc in files.items():
    with open(f"{out}/{name}", "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
PY
  grep -E "Completed|Done\." "$work/build.log" | sed "s/^/dbt $version: /" || true
  rm -rf "$work"
done
