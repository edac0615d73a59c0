#!/usr/bin/env bash
# The test command the README gives (`npm test`): installs what is missing, starts the real
# servers (idempotently), then lint, type check and every test group. Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/check-node.mjs
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "== lint" && npx eslint . --max-warnings=0
echo "== type check" && npx tsc -p tsconfig.json --noEmit
echo "== build" && npm run -s build
echo "== services" && bash scripts/services.sh up
echo "== browser (Debian chromium for the dashboard test)" && bash scripts/browser.sh
echo "== observability tools" && bash scripts/obs-tools.sh
eval "$(bash scripts/services.sh env)"
echo "== tests"
node scripts/run-tests.mjs "$@"
