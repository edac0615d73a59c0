#!/usr/bin/env bash
# Installs the observability tools the tests use, from Debian packages, idempotently:
#   prometheus              (prometheus and promtool: rule checks, rule unit tests, the acceptance test)
#   prometheus-pushgateway  (the Pushgateway one-shot CLI runs push to; its test)
# Nothing happens when both are present. `apt-get update` runs only when apt does not know the
# packages yet (a fresh machine). The packages' own services are not started here: the tests run
# their own Prometheus and Pushgateway on 127.0.0.1 with temporary data directories.
set -euo pipefail

need=()
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-pushgateway >/dev/null 2>&1 || need+=(prometheus-pushgateway)
if [ ${#need[@]} -eq 0 ]; then
  echo "obs-tools: $(promtool --version 2>&1 | head -n1); pushgateway present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
known() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; }
for p in "${need[@]}"; do
  if ! known "$p"; then
    echo "obs-tools: apt does not know $p yet: apt-get update"
    $SUDO apt-get update -qq
    break
  fi
done
echo "obs-tools: installing ${need[*]}"
# policy-rc.d 101 keeps the packages' services from starting (no stray Prometheus on :9090).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod +x "$policy" && created_policy=1
fi
cleanup() { if [ "$created_policy" -eq 1 ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "obs-tools: $(promtool --version 2>&1 | head -n1)"
