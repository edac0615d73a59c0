#!/usr/bin/env bash
# Issue 18's measurements in one bench run (docs/performance.md, BENCHMARKS.md "Store group commit"):
# the servers profile at c = 1, 8, 32, 64, 128 on both saga logs, the per-document and the batched raw
# floors, the sequential plan, c=1 with the group commit on and off alternately (the build before
# it: APEX_STORE_COALESCE=off takes the per-document path that build had), the embedded profile,
# and the 100,000-document backfill through `apex-memory ingest` followed by `verify`.
# Every servers row carries CPU seconds per document of each server process (bench/server-cpu.ts).
# Run it on a quiet machine; it takes about an hour at the defaults (REPS=3, BACKFILL=100000).
#   bash scripts/services.sh up && bash bench/throughput.sh
#   REPS=1 BACKFILL=0 bash bench/throughput.sh     # a quick look, no backfill
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${REPS:-3}
backfill=${BACKFILL:-100000}
eval "$(bash scripts/services.sh env)"
export APEX_TEST_DATABASE_URL APEX_TEST_PG_ADMIN_URL APEX_TEST_NEO4J_URL APEX_TEST_REDIS_URL APEX_TEST_QDRANT_URL
npx tsc -p tsconfig.bench.json
mkdir -p bench/results
out=${OUT:-bench/results/throughput-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
n_for() { [ "$1" = 1 ] && echo 60 || echo $(($1 * 10)); }
b() { node --expose-gc .bench-build/bench/main.js "$@" --json | grep '^{' | tee -a "$out" || echo "bench: row failed: $*" >&2; }
node .bench-build/bench/main.js machine --json | grep '^{' | tee -a "$out"
# The servers are shared with the tests: hold the lock for the whole run.
exec 9>/tmp/apex-servers.lock
flock 9
for rep in $(seq "$reps"); do
  echo "bench: round $rep/$reps" >&2
  for c in 1 8 32 64 128; do
    n=$(n_for "$c")
    b servers --plan default --log sqlite -c "$c" --n "$n"
    b servers --plan default --log postgres -c "$c" --n "$n"
  done
  # The floors at c=64: the per-document one (no group commit) and the batched one.
  APEX_STORE_COALESCE=off b servers --plan raw -c 64 --n 640
  b servers --plan raw -c 64 --n 640
  b servers --plan adr --log sqlite -c 64 --n 640
  # c=1 before/after, alternately, in the same round.
  for _ in 1 2 3; do
    APEX_STORE_COALESCE=off b servers --plan default --log sqlite -c 1 --n 60
    b servers --plan default --log sqlite -c 1 --n 60
  done
  b embedded -c 8
done
flock -u 9
if [ "$backfill" -gt 0 ]; then
  # The backfill a user runs: a generated corpus through the CLI on the servers profile, then verify.
  dir=$(mktemp -d)
  node .bench-build/bench/main.js corpus --n "$backfill" --out "$dir/corpus.jsonl" --json >&2
  npm run -s build
  export DATABASE_URL="$APEX_TEST_DATABASE_URL" NEO4J_URL="$APEX_TEST_NEO4J_URL" REDIS_URL="$APEX_TEST_REDIS_URL" QDRANT_URL="$APEX_TEST_QDRANT_URL"
  # The servers profile (the URLs select it) with the SQLite saga log in a scratch data directory.
  # The 100,000 documents stay on the test servers afterwards (their id prefix: backfill-).
  export APEX_DATA_DIR="$dir/data"
  t0=$(date +%s.%N)
  node dist/cli/main.js ingest "$dir/corpus.jsonl" -c 64 --no-progress --json >"$dir/ingest.json" 2>"$dir/ingest.err" || true
  t1=$(date +%s.%N)
  node dist/cli/main.js verify --json >"$dir/verify.json" 2>"$dir/verify.err" || true
  t2=$(date +%s.%N)
  node -e '
    const [n, t0, t1, t2, ingest, verify] = process.argv.slice(1);
    const fs = require("node:fs");
    // The commands print one indented JSON document (--json): parse it whole, else its last line.
    const last = (f) => { const t = fs.readFileSync(f, "utf8").trim(); try { return JSON.parse(t); } catch { try { const l = t.split("\n").filter((x) => x.startsWith("{")); return JSON.parse(l[l.length - 1] ?? "{}"); } catch { return {}; } } };
    const i = last(ingest), v = last(verify);
    console.log(JSON.stringify({ name: "backfill servers", n: +n, wall_s: +(t1 - t0).toFixed(1), throughput_per_s: +(n / (t1 - t0)).toFixed(1),
      verify_s: +(t2 - t1).toFixed(1), ingest: i.summary ?? i, documents: v.documents ?? null, violations: v.violations?.length ?? null,
      violations_on_backfill: Array.isArray(v.violations) ? v.violations.filter((x) => String(x.docId ?? "").startsWith("backfill-")).length : null }));
  ' "$backfill" "$t0" "$t1" "$t2" "$dir/ingest.json" "$dir/verify.json" | tee -a "$out"
  rm -rf "$dir"
fi
echo "bench: rows in $out" >&2
