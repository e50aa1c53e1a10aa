#!/usr/bin/env bash
# Installs what the test suite needs when it is missing: the npm dependencies and the Debian
# packages that provide real peers (VictoriaMetrics for the InfluxDB v2 write API, socat for pty
# pairs, Mosquitto and its clients, Chromium for the nurse station). Tests start these on free loopback ports themselves.
# The Docker engine and the base image for the deployment tests come from ensure-docker.sh, which
# those tests run themselves (so they also work when run alone).
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v victoria-metrics >/dev/null 2>&1 || need+=(victoria-metrics)
command -v socat >/dev/null 2>&1 || need+=(socat)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# Real Chromium for the nurse-station end-to-end tests (driven by playwright-core).
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)

if [ ${#need[@]} -gt 0 ]; then
  echo "test setup: installing Debian packages: ${need[*]}" >&2
  if [ "$(id -u)" != "0" ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "test setup: installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi
