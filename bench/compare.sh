#!/usr/bin/env bash
# Runs the engine bench and the anchors' floor rows back to back, REPS times each, and prints the
# medians and the engine/floor ratios. Needs the test servers (PostgreSQL) for the pg rows:
#   bash scripts/services.sh up && bash bench/compare.sh [REPS]
# Peers (DBOS, Restate) come from ../shared/bench/anchors/run.sh, which installs them itself.
# The anchors' code is optional (APEX_BENCH_ANCHORS, default ../shared/bench/anchors; a public clone
# has none): without it the floor rows are left out, the output says so, and the engine rows run.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}
eval "$(bash scripts/services.sh env)"
npx tsc -p tsconfig.bench.json
src_anchors=${APEX_BENCH_ANCHORS:-../shared/bench/anchors}
anchors=node_modules/.cache/anchors
mkdir -p bench/results
if [ -f "$src_anchors/floor.mjs" ] && [ -f "$src_anchors/lib.mjs" ]; then
  mkdir -p "$anchors"
  cp "$src_anchors/floor.mjs" "$src_anchors/lib.mjs" "$anchors/"
  have_anchors=1
else
  echo "bench: anchors absent ($src_anchors/floor.mjs not found): floor rows and ratios skipped, engine rows only" >&2
  have_anchors=0
fi
out=bench/results/compare-$(date -u +%Y%m%dT%H%M%SZ).jsonl
for _ in $(seq "$reps"); do
  if [ "$have_anchors" = 1 ]; then
    MODE=sqlite-per-record N=1000 CONC=1 node "$anchors/floor.mjs" | tee -a "$out"
    MODE=sqlite-group N=4000 CONC=64 node "$anchors/floor.mjs" | tee -a "$out"
    MODE=pg-group N=1000 CONC=1 PG_URL="$APEX_TEST_PG_ADMIN_URL" node "$anchors/floor.mjs" | tee -a "$out"
    MODE=pg-group N=4000 CONC=64 PG_URL="$APEX_TEST_PG_ADMIN_URL" node "$anchors/floor.mjs" | tee -a "$out"
  fi
  node .bench-build/bench/main.js engine --log sqlite --concurrency 1 --n 1000 --json | tee -a "$out"
  node .bench-build/bench/main.js engine --log sqlite --concurrency 64 --n 4000 --json | tee -a "$out"
  node .bench-build/bench/main.js engine --log sqlite --concurrency 64 --n 4000 --json --thread | tee -a "$out"
  node .bench-build/bench/main.js engine --log postgres --concurrency 1 --n 1000 --json --pg-url "$APEX_TEST_DATABASE_URL" | tee -a "$out"
  node .bench-build/bench/main.js engine --log postgres --concurrency 64 --n 4000 --json --pg-url "$APEX_TEST_DATABASE_URL" | tee -a "$out"
done
node bench/summarize.mjs "$out"
