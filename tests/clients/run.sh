#!/usr/bin/env bash
# Verifies the HTTP API with real clients against the real binary:
#   - SPARQLWrapper and rdflib's SPARQLStore (pip), and Comunica (npm), over the SPARQL 1.1
#     protocol (Comunica 4.5, the last line that runs on Node.js 20);
#   - the openlineage-python client (pip) posting events to /api/v1/lineage, as to Marquez;
#   - schemathesis (pip) against /openapi.json: no response may be a 5xx.
# usage: tests/clients/run.sh PATH/TO/govgraph
# Tools are installed outside the repository, under $GOVGRAPH_TOOLS (default ~/.cache/govgraph).
set -euo pipefail
bin="$(realpath "${1:?usage: run.sh PATH/TO/govgraph}")"
here="$(cd "$(dirname "$0")" && pwd)"
tools="${GOVGRAPH_TOOLS:-$HOME/.cache/govgraph}"
venv="$tools/clients-venv"
log() { printf '==> %s\n' "$*"; }

if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/python" -c 'import SPARQLWrapper, rdflib, openlineage.client' 2>/dev/null; then
  log "installing SPARQLWrapper, rdflib, openlineage-python and schemathesis into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'SPARQLWrapper==2.0.0' 'rdflib==7.*' 'openlineage-python==1.*' 'schemathesis==4.*'
fi
comunica="$tools/comunica/node_modules/.bin/comunica-sparql"
if [ ! -x "$comunica" ]; then
  log "installing Comunica into $tools/comunica"
  mkdir -p "$tools/comunica"
  (cd "$tools/comunica" && npm init -y >/dev/null && npm install --no-audit --no-fund -s @comunica/query-sparql@4.5.0 >/dev/null)
fi

work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" --data "$work/data" demo --no-serve >/dev/null
export GOVGRAPH_API_KEYS="sam:steward-key-0123456:steward;ana:analyst-key-01234567:analyst;root:root-key-0123456789:admin;etl:engineer-key-0123456:engineer"
"$bin" --data "$work/data" serve --addr 127.0.0.1:0 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 600); do
  addr="$(grep -o 'http://[0-9.:]*' "$work/out" | head -n1 || true)"
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { cat "$work/err"; echo "the server did not start" >&2; exit 1; }
log "server at $addr"

log "SPARQLWrapper and rdflib"
"$venv/bin/python" "$here/sparql_clients.py" "$addr/sparql" steward-key-0123456 analyst-key-01234567

log "Comunica"
out="$("$comunica" "sparql@${addr/http:\/\//http://ana:analyst-key-01234567@}/sparql" -t 'application/sparql-results+json' \
  'SELECT ?d WHERE { ?d a <http://www.w3.org/ns/dcat#Dataset> } LIMIT 3')"
n="$(printf '%s' "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
[ "$n" = 3 ] || { echo "Comunica: expected 3 results, got: $out" >&2; exit 1; }
echo "ok   Comunica SELECT over the SPARQL protocol"
out="$("$comunica" "sparql@${addr/http:\/\//http://ana:analyst-key-01234567@}/sparql" -t 'application/sparql-results+json' \
  'ASK { ?t a <https://govgraph.dev/ns#GlossaryTerm> }')"
[ "$out" = "true" ] || printf '%s' "$out" | grep -q true || { echo "Comunica ASK: $out" >&2; exit 1; }
echo "ok   Comunica ASK"

log "openlineage-python"
"$venv/bin/python" "$here/openlineage_client.py" "$addr" engineer-key-0123456 analyst-key-01234567

log "schemathesis against $addr/openapi.json (no 5xx allowed)"
# schemathesis keeps a cache in the current directory; keep it out of the clone.
(cd "$work" && "$venv/bin/st" run "$addr/openapi.json" \
  --checks not_a_server_error \
  --header "X-API-Key: root-key-0123456789" \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-30}" \
  --phases examples,fuzzing \
  --suppress-health-check all \
  --request-timeout 20)
log "clients and schemathesis passed"
