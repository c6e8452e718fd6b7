#!/usr/bin/env bash
# Load on the HTTP API while events stream in: tidewatch runs the seed SQL on
# the network simulator at RATE events/s (default 100000) with its server on
# a free local port; after WARMUP_S seconds wrk sends GET /api/anomalies from
# 100 connections for DURATION_S seconds. Prints wrk's latency distribution,
# errors, the pipeline's achieved ingest rate, how many replies came from
# the reply cache, and the load average before and after (the machine may be
# shared: note it beside the figures). Traffic stays on 127.0.0.1.
#   bench/serve_load.sh [build/tidewatch]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/tidewatch}
RATE=${RATE:-100000}
DEVICES=${DEVICES:-500}
DURATION_S=${DURATION_S:-30}
WARMUP_S=${WARMUP_S:-20}
CONNECTIONS=${CONNECTIONS:-100}
command -v wrk >/dev/null || { echo "serve_load: wrk is missing (scripts/deps.sh installs it)" >&2; exit 1; }
out=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$out"' EXIT
"$BIN" run --no-sinks -q --http 127.0.0.1:0 \
  --source "network_metrics_source=netsim:?devices=$DEVICES&rate=$RATE&anomaly_rate=0.05" \
  tests/data/sql/seed.sql >/dev/null 2>"$out/stderr" &
pid=$!
for _ in $(seq 100); do
  url=$(grep -o 'http://[^ ]*' "$out/stderr" | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$out/stderr" >&2; exit 1; }
sleep "$WARMUP_S"
metric() { curl -s "${url}metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
load0=$(cut -d' ' -f1-3 /proc/loadavg)
hits0=$(metric tidewatch_http_cache_hits_total)
misses0=$(metric tidewatch_http_cache_misses_total)
rows0=$(metric tidewatch_ingest_rows_total)
t0=$(date +%s.%N)
q="${url}api/anomalies?types=latency,loss,bandwidth&limit=15"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION_S}s" --latency "$q" | tee "$out/wrk"
t1=$(date +%s.%N)
rows1=$(metric tidewatch_ingest_rows_total)
hits1=$(metric tidewatch_http_cache_hits_total)
misses1=$(metric tidewatch_http_cache_misses_total)
anomalies=$(curl -s "${url}api/anomalies?types=latency,loss,bandwidth&limit=1" | grep -o '"total":[0-9]*')
echo "ingest during the run: $(echo "($rows1 - $rows0) / ($t1 - $t0)" | bc) events/s (target $RATE)"
echo "anomaly rows served: ${anomalies#\"total\":}"
echo "reply cache: $((hits1 - hits0)) hits, $((misses1 - misses0)) misses"
echo "load average (1, 5, 15 min): $load0 before, $(cut -d' ' -f1-3 /proc/loadavg) after"
grep -E "Non-2xx|Socket errors" "$out/wrk" || echo "errors: none (no socket errors, no non-2xx responses)"
