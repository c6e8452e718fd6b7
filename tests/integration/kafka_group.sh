#!/bin/sh
# Must-show 3: two tidewatch processes in one consumer group split the
# partitions; one is stopped (SIGTERM: it prints its view and commits what
# it processed) and the other takes its partitions over from there. The
# view is a plain projection, so the union of both outputs must be exactly
# the produced messages: nothing lost, nothing twice.
# Usage: kafka_group.sh TIDEWATCH KAFKA_MOCK
set -u
bin=${1:?usage}; mock_bin=${2:?usage}
tmp=$(mktemp -d) || exit 1
. "$(dirname "$0")/kafka_lib.sh"

start_mock --topic network_metrics:16
source_sql network_metrics >"$tmp/p.sql"
"$bin" gen --count 20000 --devices 64 --seed 1 >"$tmp/one.ndjson"
"$bin" gen --count 20000 --devices 64 --seed 2 >"$tmp/two.ndjson"
keyed "$tmp/one.ndjson" | kcat -P -b "$BOOT" -t network_metrics -K '	' || fail "kcat"

"$bin" run --http 127.0.0.1:0 --pg off -q "$tmp/p.sql" --then 'SELECT * FROM seen' >"$tmp/a.csv" 2>"$tmp/a.err" &
a=$!; track_pid $a
a_url=$(dashboard_url "$tmp/a.err")
wait_for "$tmp/a.err" 'assigned partitions' 20 || fail "A got no partitions: $(cat "$tmp/a.err")"
"$bin" run --http 127.0.0.1:0 --pg off -q "$tmp/p.sql" --then 'SELECT * FROM seen' >"$tmp/b.csv" 2>"$tmp/b.err" &
b=$!; track_pid $b
b_url=$(dashboard_url "$tmp/b.err")
wait_for "$tmp/b.err" 'assigned partitions' 30 || fail "B got no partitions: $(cat "$tmp/b.err")"
wait_for "$tmp/a.err" 'revoked \(now consuming [0-9]' 30 || fail "A did not give B a share: $(cat "$tmp/a.err")"
grep 'assigned' "$tmp/b.err" | grep -q 'now consuming 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15)' &&
    fail "B took every partition while A was there"
# Both are caught up: every one of the 16 partitions is reported by one of
# them with lag 0 (B's may have been handed over already processed).
lagged() { curl -fsS "${1}metrics" 2>/dev/null | grep -c '^tidewatch_kafka_consumer_lag{.*} 0$'; }
n=0
until [ $(($(lagged "$a_url") + $(lagged "$b_url"))) -eq 16 ] &&
    [ "$(metric_sum "$a_url" tidewatch_kafka_messages_total)" -gt 0 ]; do
    n=$((n + 1)); [ $n -le 300 ] || fail "A and B did not catch up on the first messages: $(lagged "$a_url") + $(lagged "$b_url") of 16 partitions at lag 0"
    sleep 0.1
done
kill -TERM $a
wait $a || fail "A exited $? on SIGTERM: $(cat "$tmp/a.err")"
wait_for "$tmp/b.err" 'now consuming 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\)' 30 ||
    fail "B did not take A's partitions over: $(cat "$tmp/b.err")"
a_rows=$(($(wc -l <"$tmp/a.csv") - 1))
keyed "$tmp/two.ndjson" | kcat -P -b "$BOOT" -t network_metrics -K '	' || fail "kcat"
# B has processed everything A did not (its counter spans both assignments).
wait_metric "$b_url" tidewatch_kafka_messages_total $((40000 - a_rows)) 30 ||
    fail "B processed $(metric_sum "$b_url" tidewatch_kafka_messages_total) of $((40000 - a_rows)) messages"
kill -TERM $b
wait $b || fail "B exited $? on SIGTERM: $(cat "$tmp/b.err")"

a_rows=$(($(wc -l <"$tmp/a.csv") - 1)); b_rows=$(($(wc -l <"$tmp/b.csv") - 1))
[ "$a_rows" -gt 0 ] && [ "$b_rows" -gt 0 ] || fail "one process did nothing (A $a_rows, B $b_rows rows)"
expected_rows "$tmp/one.ndjson" "$tmp/two.ndjson" >"$tmp/want"
{ tail -n +2 "$tmp/a.csv"; tail -n +2 "$tmp/b.csv"; } | LC_ALL=C sort >"$tmp/got"
cmp -s "$tmp/want" "$tmp/got" ||
    fail "union differs from the produced messages: $(diff "$tmp/want" "$tmp/got" | head -5) ($(wc -l <"$tmp/want") wanted, $(wc -l <"$tmp/got") got)"
echo "kafka_group.sh: ok (A $a_rows rows, B $b_rows rows, union exact)"
