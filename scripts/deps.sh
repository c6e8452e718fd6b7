#!/usr/bin/env bash
# Installs what tidewatch builds and tests with: Debian packages (apt-get,
# only those missing) and the npm packages the tests use (project-local
# node_modules from package-lock.json). Safe to run again: it skips what is
# already present.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(
  build-essential cmake pkg-config
  libcmocka-dev sqlite3
  libjansson-dev libzstd-dev libsnappy-dev zlib1g-dev libsqlite3-dev
  librdkafka-dev kcat curl
  libmicrohttpd-dev libavro-dev libpq-dev libcurl4-openssl-dev libssl-dev
  hyperfine
  postgresql
  chromium wrk
  awscli
)
# Node.js may come from elsewhere than Debian (with its own npm): only ask
# apt for it when the commands are missing.
command -v node >/dev/null 2>&1 || debs+=(nodejs)
command -v npm >/dev/null 2>&1 || debs+=(npm)

missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages for the tests (DuckDB as the oracle, ...). Reinstall only
# when package-lock.json changed since the last install.
if [ -f package-lock.json ]; then
  stamp=node_modules/.tidewatch-lock
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    echo "deps: installing npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
  fi
fi
