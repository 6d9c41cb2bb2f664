#!/usr/bin/env bash
# Load test of the HTTP API against a bare oxigraph server on the same data, in one run.
#
#   benches/peers/api_load.sh PATH/TO/release/govgraph [SECONDS]
#
# Needs wrk (Debian package) and pyoxigraph's `oxigraph` command (pip install oxigraph) in
# $OXIGRAPH or on PATH. Writes benches/API_LOAD.md.
#
# 1. SPARQL point lookups (one entity's facts), 32 concurrent clients, on govgraph as a
#    tenant principal (auth, tenant scoping, rate limiting and audit all on) and on
#    `oxigraph serve-read-only` over the same quads.
# 2. /healthz latency while 8 clients run expensive queries (cut off by the query timeout),
#    then point lookups from 8 more clients while those queries still run: long queries must
#    not hold up short ones.
set -euo pipefail
bin="$(realpath "${1:?usage: api_load.sh PATH/TO/govgraph [SECONDS]}")"
secs="${2:-20}"
oxigraph="${OXIGRAPH:-$(command -v oxigraph || true)}"
[ -x "$oxigraph" ] || { echo "oxigraph not found: pip install oxigraph, or set OXIGRAPH" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
here="$(cd "$(dirname "$0")" && pwd)"
out_md="$here/../API_LOAD.md"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "==> preparing the demo catalog as tenant acme's graphs"
"$bin" --data "$work/demo" demo --no-serve >/dev/null
"$bin" --data "$work/demo" export --format nquads >"$work/all.nq"
# Tenant acme owns every catalog graph; the graphs govgraph manages stay as they are.
grep -v -E '<urn:govgraph:graph:(ontology|shapes|meta)> \.$' "$work/all.nq" |
  sed -E 's#<urn:govgraph:graph:([^>]*)> \.$#<urn:govgraph:graph:tenant:acme:\1> .#' >"$work/acme.nq"
quads=$(wc -l <"$work/acme.nq")
"$bin" --data "$work/gg" load "$work/acme.nq" >/dev/null
"$oxigraph" load --location "$work/ox" --file "$work/acme.nq" >/dev/null 2>&1

# The entities to look up: every dataset and column.
"$bin" --data "$work/gg" sparql 'SELECT DISTINCT ?e WHERE { { ?e a dcat:Dataset } UNION { ?e a csvw:Column } }' --format csv |
  tail -n +2 | tr -d '\r' >"$work/iris.txt"
n_iris=$(wc -l <"$work/iris.txt")

cat >"$work/config.toml" <<TOML
[limits]
query_timeout_ms = 2000
requests_per_minute = 100000000
max_concurrent = 16

[[principals]]
name = "acme-analyst"
key = "acme-analyst-key-0123"
roles = ["analyst"]
tenant = "acme"

[[principals]]
name = "ops"
key = "ops-admin-key-0123456"
roles = ["admin"]
TOML

port_gg=$((20000 + RANDOM % 10000))
port_ox=$((port_gg + 1))
"$bin" --data "$work/gg" serve --config "$work/config.toml" --addr "127.0.0.1:$port_gg" >"$work/gg.out" 2>"$work/gg.err" &
pids+=($!)
"$oxigraph" serve-read-only --location "$work/ox" --bind "127.0.0.1:$port_ox" --union-default-graph >"$work/ox.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$port_gg/healthz" >/dev/null 2>&1 && curl -sf -o /dev/null "http://127.0.0.1:$port_ox/" 2>/dev/null && break
  sleep 0.2
done

# wrk script: GET /sparql?query=SELECT ?p ?o WHERE { <iri> ?p ?o }, rotating over the IRIs.
lua="$work/lookup.lua"
{
  echo 'local iris = {'
  sed 's/.*/  "&",/' "$work/iris.txt"
  echo '}'
  cat <<'LUA'
local function enc(s) return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end)) end
local i = 0
local key = os.getenv("KEY")
request = function()
  i = i + 1
  local iri = iris[(i % #iris) + 1]
  local path = "/sparql?query=" .. enc("SELECT ?p ?o WHERE { <" .. iri .. "> ?p ?o }")
  local headers = { ["Accept"] = "application/sparql-results+json" }
  if key and key ~= "" then headers["X-API-Key"] = key end
  return wrk.format("GET", path, headers)
end
response = function(status, headers, body)
  if status ~= 200 then wrk.thread:stop() end
end
LUA
} >"$lua"

# wrk prints latency percentiles with --latency; pull p50, p99 and requests/s.
run_wrk() { # url conns seconds script key
  KEY="$5" wrk -t2 -c"$2" -d"$3"s --latency ${4:+-s "$4"} "$1" 2>&1
}
pct() { awk -v k="$1" '$1==k {print $2}' ; }
rps() { awk '/Requests\/sec/ {print $2}'; }
non2xx() { awk '/Non-2xx/ {print $NF}'; }

echo "==> point lookups, 32 clients, ${secs}s each (warm-up 3s)"
run_wrk "http://127.0.0.1:$port_gg" 32 3 "$lua" acme-analyst-key-0123 >/dev/null
run_wrk "http://127.0.0.1:$port_ox" 32 3 "$lua" "" >/dev/null
gg_out="$(run_wrk "http://127.0.0.1:$port_gg" 32 "$secs" "$lua" acme-analyst-key-0123)"
ox_out="$(run_wrk "http://127.0.0.1:$port_ox" 32 "$secs" "$lua" "")"
# The same lookups unscoped (an administrator): what tenant scoping itself costs.
adm_out="$(run_wrk "http://127.0.0.1:$port_gg" 32 "$secs" "$lua" ops-admin-key-0123456)"
adm_rps=$(echo "$adm_out" | rps); adm_p50=$(echo "$adm_out" | pct 50%); adm_p99=$(echo "$adm_out" | pct 99%)
adm_bad=$(echo "$adm_out" | non2xx)
echo "$gg_out" >"$work/gg.wrk"; echo "$ox_out" >"$work/ox.wrk"
gg_rps=$(echo "$gg_out" | rps); ox_rps=$(echo "$ox_out" | rps)
gg_p50=$(echo "$gg_out" | pct 50%); gg_p99=$(echo "$gg_out" | pct 99%)
ox_p50=$(echo "$ox_out" | pct 50%); ox_p99=$(echo "$ox_out" | pct 99%)
gg_bad=$(echo "$gg_out" | non2xx); ox_bad=$(echo "$ox_out" | non2xx)
ratio=$(python3 -c "print(f'{$gg_rps / $ox_rps:.2f}')")

echo "==> /healthz while 8 clients run expensive queries"
heavy="$work/heavy.lua"
cat >"$heavy" <<'LUA'
local q = "SELECT (COUNT(*) AS ?n) WHERE { ?a (!<urn:x:none>)+ ?b }"
local function enc(s) return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end)) end
request = function()
  return wrk.format("GET", "/sparql?query=" .. enc(q), { ["Accept"] = "application/sparql-results+json", ["X-API-Key"] = os.getenv("KEY") })
end
LUA
KEY=acme-analyst-key-0123 wrk -t1 -c8 -d"$((2 * secs + 6))"s --timeout 30s -s "$heavy" "http://127.0.0.1:$port_gg" >"$work/heavy.wrk" 2>&1 &
heavy_pid=$!
sleep 3
hz_out="$(wrk -t1 -c2 -d"$secs"s --latency "http://127.0.0.1:$port_gg/healthz" 2>&1)"
mix_out="$(run_wrk "http://127.0.0.1:$port_gg" 8 "$secs" "$lua" acme-analyst-key-0123)"
wait "$heavy_pid" || true
mix_rps=$(echo "$mix_out" | rps); mix_p50=$(echo "$mix_out" | pct 50%); mix_p99=$(echo "$mix_out" | pct 99%)
mix_bad=$(echo "$mix_out" | non2xx)
hz_p50=$(echo "$hz_out" | pct 50%); hz_p99=$(echo "$hz_out" | pct 99%); hz_rps=$(echo "$hz_out" | rps)
heavy_done=$(awk '/requests in/ {print $1}' "$work/heavy.wrk")
heavy_503=$(awk '/Non-2xx/ {print $NF}' "$work/heavy.wrk")
heavy_503=${heavy_503:-0}
audit_lines=$(wc -l <"$work/gg/audit.jsonl")

{
  echo "# HTTP API load test"
  echo
  echo "Generated by \`benches/peers/api_load.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, wrk $(wrk -v 2>&1 | head -n1 | awk '{print $2}'),"
  echo "$("$oxigraph" --version 2>/dev/null | head -n1 || echo oxigraph). The demo catalog as tenant \`acme\`'s graphs: $quads quads, $n_iris entities looked up in turn."
  echo
  echo "## SPARQL point lookups, 32 concurrent clients, ${secs} s"
  echo
  echo "\`SELECT ?p ?o WHERE { <entity> ?p ?o }\` by GET, JSON results. govgraph answers as a tenant principal: API key,"
  echo "tenant scoping (the dataset closed to acme's graphs), rate limiting, the concurrency cap and one audit record per request."
  echo
  echo "| server | requests/s | p50 | p99 | non-2xx |"
  echo "|---|---:|---:|---:|---:|"
  echo "| govgraph | $gg_rps | $gg_p50 | $gg_p99 | ${gg_bad:-0} |"
  echo "| oxigraph serve-read-only | $ox_rps | $ox_p50 | $ox_p99 | ${ox_bad:-0} |"
  echo "| govgraph, unscoped administrator | $adm_rps | $adm_p50 | $adm_p99 | ${adm_bad:-0} |"
  echo
  echo "govgraph throughput / oxigraph throughput: **$ratio** (unscoped: $(python3 -c "print(f'{$adm_rps / $ox_rps:.2f}')"))."
  echo
  echo "## /healthz while 8 clients run expensive queries"
  echo
  echo "8 clients loop on the transitive closure of every edge in the store, which the 2 s query timeout cuts off"
  echo "($heavy_done finished in the window, $heavy_503 of them answered 503 at the deadline);"
  echo "2 clients poll /healthz meanwhile."
  echo
  echo "| /healthz p50 | p99 | requests/s |"
  echo "|---:|---:|---:|"
  echo "| $hz_p50 | $hz_p99 | $hz_rps |"
  echo
  echo "Then 8 more clients make the point lookups above while the expensive queries still run:"
  echo
  echo "| lookups/s | p50 | p99 | non-2xx |"
  echo "|---:|---:|---:|---:|"
  echo "| $mix_rps | $mix_p50 | $mix_p99 | ${mix_bad:-0} |"
  echo
  echo "The audit log holds $audit_lines records after the run."
} >"$out_md"
cat "$out_md"
