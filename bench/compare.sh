#!/usr/bin/env bash
# Runs the engine bench and the anchors' floor rows back to back, REPS times each, and prints the
# medians and the engine/floor ratios. Needs the test servers (PostgreSQL) for the pg rows:
#   bash scripts/services.sh up && bash bench/compare.sh [REPS]
# Peers (DBOS, Restate) come from ../shared/bench/anchors/run.sh, which installs them itself.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}
eval "$(bash scripts/services.sh env)"
npx tsc -p tsconfig.bench.json
anchors=node_modules/.cache/anchors
mkdir -p "$anchors" bench/results
cp ../shared/bench/anchors/floor.mjs ../shared/bench/anchors/lib.mjs "$anchors/"
out=bench/results/compare-$(date -u +%Y%m%dT%H%M%SZ).jsonl
for _ in $(seq "$reps"); do
  MODE=sqlite-per-record N=1000 CONC=1 node "$anchors/floor.mjs" | tee -a "$out"
  MODE=sqlite-group N=4000 CONC=64 node "$anchors/floor.mjs" | tee -a "$out"
  MODE=pg-group N=1000 CONC=1 PG_URL="$APEX_TEST_PG_ADMIN_URL" node "$anchors/floor.mjs" | tee -a "$out"
  MODE=pg-group N=4000 CONC=64 PG_URL="$APEX_TEST_PG_ADMIN_URL" node "$anchors/floor.mjs" | tee -a "$out"
  node .bench-build/bench/main.js engine --log sqlite --concurrency 1 --n 1000 --json | tee -a "$out"
  node .bench-build/bench/main.js engine --log sqlite --concurrency 64 --n 4000 --json | tee -a "$out"
  node .bench-build/bench/main.js engine --log sqlite --concurrency 64 --n 4000 --json --thread | tee -a "$out"
  node .bench-build/bench/main.js engine --log postgres --concurrency 1 --n 1000 --json --pg-url "$APEX_TEST_DATABASE_URL" | tee -a "$out"
  node .bench-build/bench/main.js engine --log postgres --concurrency 64 --n 4000 --json --pg-url "$APEX_TEST_DATABASE_URL" | tee -a "$out"
done
node bench/summarize.mjs "$out"
