#!/usr/bin/env bash
# Installs Debian's `chromium` for the dashboard's browser test (playwright-core drives it through
# its executablePath; nothing downloads a browser). Idempotent: does nothing when it is there.
# `apt-get update` runs only when the package is not known to apt yet.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if ! apt-cache show chromium >/dev/null 2>&1; then
  $SUDO apt-get update -qq
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
