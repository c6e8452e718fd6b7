#!/bin/sh
# Must-show 1: the seed's SQL over a 16-partition Kafka topic (produced by
# kcat from `tidewatch gen` output) gives the same network_anomalies as the
# file run over the same lines. Floats may differ by 1e-9 relative (sums
# over a different interleaving); everything else must be identical.
# Usage: kafka_seed.sh TIDEWATCH KAFKA_MOCK SEED_SQL LINES
set -u
bin=${1:?usage}; mock_bin=${2:?usage}; seed_sql=${3:?usage}; lines=${4:?usage}
tmp=$(mktemp -d) || exit 1
. "$(dirname "$0")/kafka_lib.sh"

start_mock --topic network_metrics:16
"$bin" gen --count "$lines" --devices 100 --seed 11 >"$tmp/m.ndjson" || fail "gen"
# lz4: the mock keeps about 5 MB per partition.
keyed "$tmp/m.ndjson" | kcat -P -b "$BOOT" -t network_metrics -z lz4 -K '	' ||
    fail "kcat could not produce"

query='SELECT * FROM network_anomalies ORDER BY device_id, window_start'
"$bin" run --http off --exit-at-eof --no-sinks --source "network_metrics_source=file:$tmp/m.ndjson" \
    "$seed_sql" --then "$query" >"$tmp/file.csv" 2>"$tmp/file.err" ||
    fail "file run exited $?: $(cat "$tmp/file.err")"
# The second Kafka run keeps at most 64 messages prefetched a partition, so
# partitions keep stopping at that bound and being woken again (a seek to
# the next offset, src/source/kafka.c); the third has a 64 KiB budget over
# all partitions, so drained partitions keep being paused and resumed.
# Nothing may be lost or repeated, and neither may stall.
for opts in "" "?properties.queued.min.messages=64" "?properties.queued.max.messages.kbytes=64"; do
"$bin" run --http off --exit-at-eof --no-sinks --source "network_metrics_source=kafka://$BOOT/network_metrics$opts" \
    "$seed_sql" --then "$query" >"$tmp/kafka.csv" 2>"$tmp/kafka.err" ||
    fail "kafka run ($opts) exited $?: $(cat "$tmp/kafka.err")"
grep -q "^tidewatch: $lines lines, $lines rows" "$tmp/kafka.err" ||
    fail "the kafka run ($opts) did not read $lines lines: $(cat "$tmp/kafka.err")"
rows=$(wc -l <"$tmp/file.csv")
[ "$rows" -gt 10 ] || fail "too few anomalies ($rows lines) for a meaningful comparison"
awk -F, 'NR == FNR { want[FNR] = $0; n = FNR; next }
    {
        got = FNR
        if (!(FNR in want)) { print "extra line " FNR ": " $0; bad = 1; exit }
        split(want[FNR], w, ",")
        if (NF != length(w)) { print "line " FNR ": " $0 " vs " want[FNR]; bad = 1; exit }
        for (i = 1; i <= NF; i++) {
            if ($i == w[i]) continue
            a = $i + 0; b = w[i] + 0
            d = a - b; if (d < 0) d = -d
            m = (a < 0 ? -a : a); if ((b < 0 ? -b : b) > m) m = (b < 0 ? -b : b)
            if ($i !~ /^-?[0-9.e+-]+$/ || d > 1e-9 * m) {
                print "line " FNR " field " i ": " $i " vs " w[i]; bad = 1; exit
            }
        }
    }
    END { if (!bad && got != n) { print got + 0 " lines vs " n; bad = 1 } exit bad }' \
    "$tmp/file.csv" "$tmp/kafka.csv" || fail "kafka ($opts) and file results differ"
done
# The consumer metrics (issue 3): --stats-json gives every partition, and a
# live run serves the same per-partition lag and counts on /metrics, where
# the lag falls to 0 once everything is processed.
"$bin" run --http off --exit-at-eof --no-sinks --stats-json "$tmp/stats.json" \
    --source "network_metrics_source=kafka://$BOOT/network_metrics" "$seed_sql" 2>"$tmp/stats.err" ||
    fail "stats run exited $?: $(cat "$tmp/stats.err")"
parts=$(grep -o '"partition": [0-9]*, "lag": 0, "messages": [0-9]*' "$tmp/stats.json" | wc -l)
[ "$parts" -eq 16 ] || fail "--stats-json shows $parts of 16 partitions with lag 0: $(cat "$tmp/stats.json")"
"$bin" run --http 127.0.0.1:0 --pg off --no-sinks \
    --source "network_metrics_source=kafka://$BOOT/network_metrics?properties.group.id=metrics-$$" \
    "$seed_sql" >/dev/null 2>"$tmp/live.err" &
live=$!; track_pid $live
wait_for "$tmp/live.err" 'dashboard at http' 20 || fail "no dashboard line: $(cat "$tmp/live.err")"
url=$(sed -n 's/.*dashboard at \(http:[^ ]*\/\).*/\1/p' "$tmp/live.err" | head -n 1)
i=0
while :; do
    curl -fsS "${url}metrics" >"$tmp/metrics.txt" 2>/dev/null || true
    done_msgs=$(awk '/^tidewatch_kafka_messages_total\{/ { s += $2 } END { print s + 0 }' "$tmp/metrics.txt")
    zero_lag=$(grep -c '^tidewatch_kafka_consumer_lag{source="network_metrics_source",partition="[0-9]*"} 0$' "$tmp/metrics.txt")
    [ "$done_msgs" -eq "$lines" ] && [ "$zero_lag" -eq 16 ] && break
    i=$((i + 1)); [ $i -le 300 ] || fail "/metrics: $done_msgs of $lines messages, $zero_lag of 16 partitions at lag 0: $(grep kafka "$tmp/metrics.txt")"
    sleep 0.1
done
kill $live
echo "kafka_seed.sh: ok ($lines lines, $rows result lines)"
