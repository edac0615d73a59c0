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
# Lint (eslint with type information) and the type check (tsc, then the build's two tsc runs)
# are each one single-threaded process: on the CI's 2 cores they run side by side, each into its
# own log, printed in this order once both are done (with how long each took). Any of them
# failing fails the run, as before.
checks=$(mktemp -d)
(
  set +e
  start=$SECONDS
  npx eslint . --max-warnings=0 && npx prettier --check . --log-level=warn
  rc=$? && echo "(lint and format: $((SECONDS - start)) s)" && exit $rc
) > "$checks/lint.log" 2>&1 &
lint_pid=$!
(
  set +e
  start=$SECONDS
  npx tsc -p tsconfig.json --noEmit && echo "(type check: $((SECONDS - start)) s)" && echo "== build" && npm run -s build
  rc=$? && echo "(type check and build: $((SECONDS - start)) s)" && exit $rc
) > "$checks/types.log" 2>&1 &
types_pid=$!
lint_rc=0 && wait "$lint_pid" || lint_rc=$?
types_rc=0 && wait "$types_pid" || types_rc=$?
echo "== lint, then format (prettier --check; fix with npm run format): exit $lint_rc" && cat "$checks/lint.log"
echo "== type check, then build: exit $types_rc" && cat "$checks/types.log"
rm -rf "$checks"
if [ "$lint_rc" -ne 0 ] || [ "$types_rc" -ne 0 ]; then echo "test.sh: lint, format, type check or build failed (above)"; exit 1; fi
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
