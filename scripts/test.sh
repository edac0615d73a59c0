#!/usr/bin/env bash
# The test command the README gives (`npm test`): installs what is missing, starts the real
# servers (idempotently), then lint, type check and every test group. Ends with
# "N passed, N failed, N skipped" (a cancelled test counts as failed).
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/check-node.mjs
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "== lint" && npx eslint . --max-warnings=0
echo "== format (prettier --check; fix with npm run format)" && npx prettier --check . --log-level=warn
echo "== type check" && npx tsc -p tsconfig.json --noEmit
echo "== build" && npm run -s build
# Qdrant's OpenAPI document is optional (a public clone has no ../shared): say which way this run goes.
openapi="${QDRANT_OPENAPI:-../shared/contracts/qdrant-openapi-1.19.json}"
if [ -f "$openapi" ]; then echo "== Qdrant contract checking: ON ($openapi)"
else echo "== Qdrant contract checking: OFF (no $openapi; set QDRANT_OPENAPI to turn it on)"; fi
# A whole run starts the unit group (it needs no server) while the services install and start,
# which on a fresh machine is minutes of downloads; its output is printed once it is done.
early=""
if [ $# -eq 0 ]; then
  early=$(mktemp -d)
  echo "== unit tests: running beside the services' set-up (output below, once done)"
  node scripts/run-tests.mjs unit --totals-out="$early/unit.json" > "$early/unit.log" 2>&1 &
  unit_pid=$!
  trap 'kill "$unit_pid" 2>/dev/null || true' EXIT
fi
echo "== services" && bash scripts/services.sh up
echo "== browser (Debian chromium for the dashboard test)" && bash scripts/browser.sh
echo "== observability tools" && bash scripts/obs-tools.sh
eval "$(bash scripts/services.sh env)"
if [ -n "$early" ]; then
  echo "== unit tests (waiting for them to finish)"
  wait "$unit_pid" || true
  trap - EXIT
  cat "$early/unit.log"
  echo "== tests"
  node scripts/run-tests.mjs conformance integration crash e2e --totals-in="$early/unit.json"
else
  echo "== tests"
  node scripts/run-tests.mjs "$@"
fi
