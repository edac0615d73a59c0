#!/usr/bin/env bash
# One bench session: every mode's rows into one file (bench/results/run-<time>.jsonl), REPS runs
# of each (medians of 3 by default), then BENCHMARKS.md and bench/latency.svg regenerated from the
# given sessions. Needs the test servers (bash scripts/services.sh up).
#   bash bench/run-all.sh                     # everything
#   PARTS="engine servers" REPS=3 bash bench/run-all.sh
#   bash bench/run-all.sh --report bench/results/run-A.jsonl bench/results/run-B.jsonl   # only regenerate
# Server benches take /tmp/apex-servers.lock (they share Neo4j with the tests). The anchors' floor
# rows and peers (DBOS, Restate) come from ../shared/bench/anchors when it is there; without it the
# engine rows run alone and the report says the anchors were absent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--report" ]; then shift; exec node bench/report.mjs "$@"; fi
reps=${REPS:-3}
parts=${PARTS:-engine servers embedded recovery memory}
eval "$(bash scripts/services.sh env)"
export APEX_TEST_DATABASE_URL APEX_TEST_PG_ADMIN_URL APEX_TEST_NEO4J_URL APEX_TEST_REDIS_URL APEX_TEST_QDRANT_URL
npx tsc -p tsconfig.bench.json
mkdir -p bench/results
out=${OUT:-bench/results/run-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"  # absolute: the anchors' run.sh changes directory
bench() { node --expose-gc .bench-build/bench/main.js "$@" --json | grep '^{' | tee -a "$out"; }
has() { [[ " $parts " == *" $1 "* ]]; }
bench machine

src_anchors=${APEX_BENCH_ANCHORS:-../shared/bench/anchors}
anchors=node_modules/.cache/anchors
have_anchors=0
if [ -f "$src_anchors/floor.mjs" ] && [ -f "$src_anchors/lib.mjs" ]; then
  mkdir -p "$anchors" && cp "$src_anchors/floor.mjs" "$src_anchors/lib.mjs" "$anchors/" && have_anchors=1
else
  echo "bench: anchors absent ($src_anchors/floor.mjs not found): floor and peer rows skipped" >&2
fi
floor() { MODE=$1 N=$2 CONC=$3 PG_URL="$APEX_TEST_PG_ADMIN_URL" node "$anchors/floor.mjs" | tee -a "$out"; }

for rep in $(seq "$reps"); do
  echo "bench: run $rep/$reps" >&2
  if has engine; then
    if [ "$have_anchors" = 1 ]; then
      floor sqlite-per-record 1000 1; floor sqlite-group 4000 64; floor sqlite-group 8000 256
      floor pg-group 1000 1; floor pg-group 4000 64; floor pg-group 8000 256
    fi
    for c in 1 64 256; do
      n=$([ "$c" = 1 ] && echo 1000 || echo $((c * 60)))
      bench engine --log sqlite -c "$c" --n "$n"
      bench engine --log postgres -c "$c" --n "$n" --pg-url "$APEX_TEST_DATABASE_URL"
    done
  fi
  if has embedded; then bench embedded -c 8; fi
done
# The server rows: all runs under one hold of the lock (waiting for it once, not once per run).
if has servers; then
  flock /tmp/apex-servers.lock bash -c '
    set -euo pipefail
    b() { node .bench-build/bench/main.js "$@" --json | grep "^{" | tee -a "'"$out"'" || echo "bench: row failed: $*" >&2; }
    for rep in $(seq '"$reps"'); do
      echo "bench: servers run $rep" >&2
      for c in 1 8 16 32; do
        n=$([ "$c" = 1 ] && echo 50 || echo $((c * 10)))
        b servers --plan raw -c "$c" --n "$n"
        b servers --plan default --log sqlite -c "$c" --n "$n"
        [ "$c" = 16 ] && continue
        b servers --plan adr --log sqlite -c "$c" --n "$n"
        b servers --plan default --log postgres -c "$c" --n "$n"
        b servers --plan default --log sqlite-thread -c "$c" --n "$n"
      done
      b servers --plan default --log sqlite -c 8 --n 200 --faults 0.01
      b servers --plan adr --log sqlite -c 8 --n 200 --faults 0.01
    done
  '
fi
# Recovery and memory are long: one run each unless REPS_LONG says otherwise.
for rep in $(seq "${REPS_LONG:-1}"); do
  if has recovery; then
    bench recovery --log sqlite --n 10000 -c 256
    bench recovery --log postgres --n 10000 --workers 3 -c 128
  fi
  if has memory; then
    bench memory --log sqlite -c 64 --n "${MEMORY_N:-1000000}" --first 100000
    bench memory --log postgres -c 64 --n "${MEMORY_N:-1000000}" --first 100000
  fi
done
if has peers && [ "$have_anchors" = 1 ] && [ -x "$src_anchors/run.sh" ]; then
  PG_URL="$APEX_TEST_PG_ADMIN_URL" timeout 900 bash "$src_anchors/run.sh" "$out" >/dev/null || echo "bench: anchors run.sh failed or timed out; peers missing" >&2
fi
echo "bench: rows in $out" >&2
node bench/report.mjs "$out" ${EXTRA_REPORT:-}
