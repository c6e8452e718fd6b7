#!/bin/sh
# Kafka consume benchmark: N messages (default 5 M) of `tidewatch gen`
# output in a mock cluster; in the same run, kcat reads the topic raw
# (kcat -C -e -q -o beginning > /dev/null) and tidewatch consumes and
# processes it with the seed's SQL (--exit-at-eof). Prints both rates and
# the ratio. The mock keeps about 5 MB per partition, so messages are lz4
# compressed (both readers decompress) and spread over enough partitions for
# all of them to stay (checked by kcat's count). 1000 devices keep the seed's
# aggregation at its usual cost (with 20000 devices the engine alone takes
# 24 s for 5 M rows).
# Also prints tidewatch's peak RSS (prefetch included; see docs/kafka.md).
# Extra source options: TW_QUERY='properties.key=value&...'.
# Usage: bench/kafka_bench.sh [BUILD_DIR] [MESSAGES]
set -u
build=${1:-build}; count=${2:-5000000}
bin=$build/tidewatch; mock_bin=$build/tests/kafka_mock
seed_sql=$(dirname "$0")/../tests/data/sql/seed.sql
parts=$(( (count + 12499) / 12500 )) # about 1 MB compressed a partition
tmp=$(mktemp -d) || exit 1
. "$(dirname "$0")/../tests/integration/kafka_lib.sh"

now() { date +%s.%N; }
start_mock --topic "network_metrics:$parts"
echo "producing $count messages into $parts partitions..."
"$bin" gen --count "$count" --devices 1000 --seed 1 --kafka "$BOOT" --topic network_metrics \
    --kafka-property linger.ms=50 --kafka-property batch.num.messages=10000 \
    --kafka-property compression.type=lz4 || fail "gen --kafka"

t0=$(now)
got=$(kcat -C -e -q -o beginning -t network_metrics -b "$BOOT" -f '%p\n' | wc -l)
[ "$got" -eq "$count" ] || fail "the topic holds $got messages, not $count (mock retention)"
t1=$(now)
kcat -C -e -q -o beginning -t network_metrics -b "$BOOT" >/dev/null || fail "kcat"
t2=$(now)
/usr/bin/time -f 'peak RSS %M KB' -o "$tmp/rss" \
    "$bin" run -q --exit-at-eof --no-sinks --http off --source "network_metrics_source=kafka://$BOOT/network_metrics${TW_QUERY:+?$TW_QUERY}" \
    --stats-json "$tmp/stats.json" "$seed_sql" 2>"$tmp/tw.err" &
tw=$!; track_pid $tw
wait_for "$tmp/tw.err" 'assigned partitions|reading all' 60 || fail "no partitions assigned: $(cat "$tmp/tw.err")"
ta=$(now)
wait $tw || fail "tidewatch: $(cat "$tmp/tw.err")"
t3=$(now)
grep -q "\"rows\": $count," "$tmp/stats.json" || fail "tidewatch did not process $count rows: $(cat "$tmp/stats.json")"
# tidewatch's time includes joining the consumer group (about 3 s with the
# mock); the rate without it is printed too.
awk -v n="$count" -v k="$(echo "$t2 - $t1" | bc)" -v t="$(echo "$t3 - $t2" | bc)" \
    -v a="$(echo "$t3 - $ta" | bc)" 'BEGIN {
    printf "kcat raw:                         %.2f s  %.0f msg/s\n", k, n / k
    printf "tidewatch (seed SQL), whole run:  %.2f s  %.0f msg/s  ratio %.2f\n", t, n / t, k / t
    printf "tidewatch, from group assignment: %.2f s  %.0f msg/s  ratio %.2f\n", a, n / a, k / a
}'
echo "tidewatch $(cat "$tmp/rss")"
