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
echo "== services" && bash scripts/services.sh up
echo "== browser (Debian chromium for the dashboard test)" && bash scripts/browser.sh
echo "== observability tools" && bash scripts/obs-tools.sh
eval "$(bash scripts/services.sh env)"
# Qdrant's OpenAPI document is optional (a public clone has no ../shared): say which way this run goes.
openapi="${QDRANT_OPENAPI:-../shared/contracts/qdrant-openapi-1.19.json}"
if [ -f "$openapi" ]; then echo "== Qdrant contract checking: ON ($openapi)"
else echo "== Qdrant contract checking: OFF (no $openapi; set QDRANT_OPENAPI to turn it on)"; fi
echo "== tests"
node scripts/run-tests.mjs "$@"
