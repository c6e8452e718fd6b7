#!/bin/sh
# Must-show 4: broker faults. tidewatch starts while the cluster refuses
# connections, says so, and starts consuming once it is up; then the broker
# goes down and up mid-run: tidewatch says so each time, recovers, and the
# view (a plain projection) holds every produced message exactly once.
# Usage: kafka_faults.sh TIDEWATCH KAFKA_MOCK
set -u
bin=${1:?usage}; mock_bin=${2:?usage}
tmp=$(mktemp -d) || exit 1
. "$(dirname "$0")/kafka_lib.sh"

start_mock --topic network_metrics:4 --down
source_sql network_metrics >"$tmp/p.sql"
"$bin" gen --count 10000 --devices 16 --seed 3 >"$tmp/one.ndjson"
"$bin" gen --count 10000 --devices 16 --seed 4 >"$tmp/two.ndjson"

"$bin" run --http 127.0.0.1:0 --pg off -q "$tmp/p.sql" --then 'SELECT * FROM seen' >"$tmp/t.csv" 2>"$tmp/t.err" &
t=$!; track_pid $t
url=$(dashboard_url "$tmp/t.err")
wait_for "$tmp/t.err" 'unreachable.*retrying' 20 || fail "no message about the unreachable broker: $(cat "$tmp/t.err")"
mock_cmd "up all"
wait_for "$tmp/t.err" 'now consuming 0,1,2,3\)' 30 || fail "no assignment once the broker was up: $(cat "$tmp/t.err")"
keyed "$tmp/one.ndjson" | kcat -P -b "$BOOT" -t network_metrics -K '	' || fail "kcat"
wait_metric "$url" tidewatch_kafka_messages_total 10000 30 ||
    fail "the first 10000 messages were not processed: $(metric_sum "$url" tidewatch_kafka_messages_total)"
downs=$(grep -c 'unreachable' "$tmp/t.err")
mock_cmd "down all"
wait_for "$tmp/t.err" 'unreachable.*retrying' 20 $((downs + 1)) ||
    fail "no message when the broker went down: $(cat "$tmp/t.err")"
sleep 2
kill -0 $t 2>/dev/null || fail "tidewatch died while the broker was down: $(cat "$tmp/t.err")"
mock_cmd "up all"
wait_for "$tmp/t.err" '/1 reachable again' 20 || fail "no message when the broker came back: $(cat "$tmp/t.err")"
# The group may have dropped the member meanwhile: wait until it consumes
# every partition again.
n=0
until grep 'now consuming' "$tmp/t.err" | tail -n 1 | grep -q 'now consuming 0,1,2,3)'; do
    n=$((n + 1)); [ $n -le 300 ] || fail "partitions not assigned again: $(cat "$tmp/t.err")"
    sleep 0.1
done
keyed "$tmp/two.ndjson" | kcat -P -b "$BOOT" -t network_metrics -K '	' || fail "kcat"
# Counted since the process started, across the reassignment.
wait_metric "$url" tidewatch_kafka_messages_total 20000 30 ||
    fail "not all 20000 messages were processed: $(metric_sum "$url" tidewatch_kafka_messages_total)"
kill -TERM $t
wait $t || fail "tidewatch exited $? on SIGTERM: $(cat "$tmp/t.err")"
expected_rows "$tmp/one.ndjson" "$tmp/two.ndjson" >"$tmp/want"
tail -n +2 "$tmp/t.csv" | LC_ALL=C sort >"$tmp/got"
cmp -s "$tmp/want" "$tmp/got" ||
    fail "the view differs from the produced messages ($(wc -l <"$tmp/want") wanted, $(wc -l <"$tmp/got") got)"
echo "kafka_faults.sh: ok"
