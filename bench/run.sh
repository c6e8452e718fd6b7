#!/usr/bin/env bash
# The seed benchmark (what `make bench` runs). Builds nothing: expects
# build/tidewatch (override with TW_BIN). Generates 5 M seed-format lines once
# into bench/out/ (kept between runs), then times, best of 3:
#   gen   tidewatch gen --count N --seed 1 --out /dev/null
#   tw    tidewatch run --exit-at-eof --no-sinks --quiet on the seed SQL,
#         --then 'SELECT count(*) FROM network_anomalies'
#   duck  DuckDB (node, SET threads=1) running the same pipeline as one batch
#         query over the same file (bench/seed_bench.mjs)
# and prints a markdown table for docs/benchmarks.md. Exits non-zero when
# tidewatch and DuckDB disagree on the anomaly count.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${TW_BIN:-build/tidewatch}
COUNT=${TW_BENCH_COUNT:-5000000}
RUNS=3
OUT=bench/out
DATA=$OUT/seed-$COUNT-s1.ndjson
SQL=tests/data/sql/seed.sql
THEN='SELECT count(*) FROM network_anomalies'

[ -x "$BIN" ] || { echo "bench: $BIN not found; run 'make build' first" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time (Debian package 'time') is needed for peak RSS" >&2; exit 1; }
mkdir -p "$OUT"

# The input is regenerated only when missing or incomplete (a stamp file
# records a finished generation with the binary's version line).
version=$("$BIN" --version 2>/dev/null | head -1 || true)
if [ ! -f "$DATA" ] || [ "$(cat "$DATA.done" 2>/dev/null)" != "$version" ]; then
  echo "bench: generating $COUNT lines into $DATA" >&2
  rm -f "$DATA.done"
  "$BIN" gen --count "$COUNT" --seed 1 --out "$DATA"
  echo "$version" > "$DATA.done"
fi
lines=$(wc -l < "$DATA")
bytes=$(stat -c %s "$DATA")

now_ns() { date +%s%N; }
best() { sort -g | head -1; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'; }
div() { awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN { printf f, a / b }'; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# gen: events/s
for i in $(seq $RUNS); do
  t0=$(now_ns)
  "$BIN" gen --count "$COUNT" --seed 1 --out /dev/null
  t1=$(now_ns)
  secs "$t0" "$t1"
done > "$tmp/gen"
gen_s=$(best < "$tmp/gen")

# tidewatch run: rows/s and peak RSS (KiB, from /usr/bin/time %M)
tw_cmd=("$BIN" run --exit-at-eof --no-sinks --http off --quiet --format csv
  --source "network_metrics_source=file:$DATA" --then "$THEN" "$SQL")
for i in $(seq $RUNS); do
  t0=$(now_ns)
  /usr/bin/time -f %M -o "$tmp/rss.$i" "${tw_cmd[@]}" > "$tmp/tw_out.$i"
  t1=$(now_ns)
  echo "$(secs "$t0" "$t1") $(tail -1 "$tmp/rss.$i")"
done > "$tmp/tw"
tw_s=$(cut -d' ' -f1 "$tmp/tw" | best)
tw_rss_kib=$(cut -d' ' -f2 "$tmp/tw" | sort -g | tail -1)
tw_count=$(sed -n 2p "$tmp/tw_out.1")

# The same with one decoding thread: the pipeline thread plus one decoder,
# the closest tidewatch gets to DuckDB's threads=1.
for i in $(seq $RUNS); do
  t0=$(now_ns)
  "${tw_cmd[@]}" --threads 1 > /dev/null
  t1=$(now_ns)
  secs "$t0" "$t1"
done > "$tmp/tw1"
tw1_s=$(best < "$tmp/tw1")

# DuckDB: same pipeline, one batch query, threads=1
node bench/seed_bench.mjs "$DATA" $RUNS > "$tmp/duck"
duck_s=$(cut -d' ' -f1 "$tmp/duck" | best)
duck_count=$(head -1 "$tmp/duck" | cut -d' ' -f2)

gen_rate=$(div "$COUNT" "$gen_s" %.0f)
tw_rate=$(div "$lines" "$tw_s" %.0f)
duck_rate=$(div "$lines" "$duck_s" %.0f)
ratio=$(div "$duck_s" "$tw_s" %.2f)
tw1_rate=$(div "$lines" "$tw1_s" %.0f)
ratio1=$(div "$duck_s" "$tw1_s" %.2f)

tw_cmd_str=$(printf '%q ' "${tw_cmd[@]}")
cat <<MD
### Seed pipeline, $lines lines ($((bytes / 1048576)) MiB), $(date -u +%Y-%m-%d)

Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); tidewatch $version.
Command: \`bench/run.sh\` (best of $RUNS; tidewatch: \`${tw_cmd_str% }\`)

| measurement | best time (s) | rate | notes |
| --- | ---: | ---: | --- |
| tidewatch gen --count $COUNT --out /dev/null | $gen_s | $gen_rate events/s | |
| tidewatch run (seed SQL, file source) | $tw_s | $tw_rate rows/s | peak RSS $((tw_rss_kib / 1024)) MiB; $tw_count anomalies; decoding on every core |
| tidewatch run --threads 1 | $tw1_s | $tw1_rate rows/s | one decoder thread + the pipeline thread |
| DuckDB $(node --input-type=module -e "import { version } from '@duckdb/node-api'; console.log(version())" 2>/dev/null || true) batch query, threads=1 | $duck_s | $duck_rate rows/s | $duck_count anomalies |
| ratio tidewatch / DuckDB (throughput) | | ${ratio}x | --threads 1: ${ratio1}x |
MD

if [ "$tw_count" != "$duck_count" ]; then
  echo "bench: MISMATCH: tidewatch counts $tw_count anomalies, DuckDB $duck_count" >&2
  exit 1
fi
