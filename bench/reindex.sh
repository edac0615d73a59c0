#!/usr/bin/env bash
# Issue 25 "Measure": the reindex rate and the write path's latency during a migration on both
# profiles (bench/reindex.ts), rows into one file (bench/results/reindex-<time>.jsonl, the machine
# row first), then the Markdown tables of BENCHMARKS.md's "Reindex" section on stdout.
#   bash scripts/services.sh up && bash bench/reindex.sh
#   SERVERS_ARGS="--docs 500" EMBEDDED_ARGS="--docs 300" bash bench/reindex.sh   # a loaded machine
#   PROFILES=embedded OPENAI=0 bash bench/reindex.sh                              # no openai rows
#   bash bench/reindex.sh --report bench/results/reindex-A.jsonl                   # only the tables
# The servers row empties the servers it is given (as bench/servers.ts does): it holds
# ${APEX_SERVERS_LOCK:-/tmp/apex-servers.lock} while it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--report" ]; then shift; exec node bench/reindex-table.mjs "$@"; fi
profiles=${PROFILES:-servers embedded}
eval "$(bash scripts/services.sh env)"
export APEX_TEST_DATABASE_URL APEX_TEST_PG_ADMIN_URL APEX_TEST_NEO4J_URL APEX_TEST_REDIS_URL APEX_TEST_QDRANT_URL
npm run build -w @apex-memory/saga >/dev/null
npx tsc -p tsconfig.bench.json
mkdir -p bench/results
out=${OUT:-bench/results/reindex-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
bench() { node .bench-build/bench/main.js "$@" --json | grep '^{' | tee -a "$out"; }
bench machine
for p in $profiles; do
  echo "bench: reindex --profile $p" >&2
  if [ "$p" = servers ]; then
    # shellcheck disable=SC2086 # the extra arguments are words on purpose
    flock "${APEX_SERVERS_LOCK:-/tmp/apex-servers.lock}" node .bench-build/bench/main.js reindex --profile servers ${SERVERS_ARGS:-} --json |
      grep '^{' | tee -a "$out"
  else
    # shellcheck disable=SC2086
    bench reindex --profile "$p" ${EMBEDDED_ARGS:-}
  fi
done
# The third row: the reindex loop to the OpenAI-compatible embedder against a local fake server.
if [ "${OPENAI:-1}" = 1 ]; then
  # shellcheck disable=SC2086
  bench reindex-openai --profile embedded ${OPENAI_ARGS:-}
fi
echo "bench: rows in $out" >&2
node bench/reindex-table.mjs "$out"
