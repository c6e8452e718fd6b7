# kafka_lib.sh - shared by the kafka_*.sh tests: a private mock cluster
# (tests/tools/kafka_mock) and small helpers. Source it after setting
# `tmp` (a scratch directory) and `mock_bin`; it installs an EXIT trap that
# stops the cluster and every process registered with track_pid.
tracked_pids=""
mock_pid=""

fail() { echo "$(basename "$0"): FAIL: $*" >&2; exit 1; }

track_pid() { tracked_pids="$tracked_pids $1"; }

kafka_cleanup() {
    for p in $tracked_pids; do kill "$p" 2>/dev/null; done
    if [ -n "$mock_pid" ]; then
        echo quit >&7 2>/dev/null
        kill "$mock_pid" 2>/dev/null
        wait "$mock_pid" 2>/dev/null
    fi
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap kafka_cleanup EXIT
trap 'exit 1' INT TERM

# start_mock ARGS...: starts the cluster, sets BOOT to its bootstrap address.
start_mock() {
    mkfifo "$tmp/mock.in" || fail "mkfifo"
    exec 7<>"$tmp/mock.in"
    "$mock_bin" "$@" <&7 >"$tmp/mock.out" 2>"$tmp/mock.err" &
    mock_pid=$!
    wait_for "$tmp/mock.out" '^127\.0\.0\.1:' 10 || fail "mock cluster did not start: $(cat "$tmp/mock.err")"
    BOOT=$(head -n 1 "$tmp/mock.out")
    [ -n "$BOOT" ] || fail "mock cluster printed no address"
}

# mock_cmd CMD: sends a command and waits for its answer.
mock_cmd() {
    before=$(grep -c -E '^(ok|error)' "$tmp/mock.out")
    echo "$1" >&7
    i=0
    while [ "$(grep -c -E '^(ok|error)' "$tmp/mock.out")" -le "$before" ]; do
        i=$((i + 1)); [ $i -le 100 ] || fail "mock did not answer '$1'"
        sleep 0.1
    done
    tail -n 1 "$tmp/mock.out" | grep -q '^ok' || fail "mock: '$1': $(tail -n 1 "$tmp/mock.out")"
}

# wait_for FILE REGEX SECONDS [COUNT]: waits until FILE has COUNT (default 1)
# lines matching REGEX; returns 1 on timeout.
wait_for() {
    n=0; want=${4:-1}
    while :; do
        got=$(grep -c -E "$2" "$1" 2>/dev/null)
        [ "${got:-0}" -lt "$want" ] || break
        n=$((n + 1)); [ $n -le $(($3 * 10)) ] || return 1
        sleep 0.1
    done
    return 0
}

# keyed FILE: prints "device_id<TAB>line" for kcat -P -K'\t'.
keyed() { sed 's/^{"device_id":"\([^"]*\)".*$/\1\t&/' "$1"; }

# The seed's source declaration pointed at this cluster, for SQL files.
source_sql() {
    cat <<SQL
CREATE SOURCE network_metrics_source (
    device_id VARCHAR, timestamp TIMESTAMP, src_ip VARCHAR, dst_ip VARCHAR,
    protocol VARCHAR, latency_ms FLOAT, packet_loss_rate FLOAT,
    bandwidth_usage_percent FLOAT, flow_bytes BIGINT
) WITH (
    connector = 'kafka', topic = '$1', properties.bootstrap.server = '$BOOT',
    scan.startup.mode = 'earliest', properties.session.timeout.ms = '3000',
    properties.heartbeat.interval.ms = '300'
) FORMAT PLAIN ENCODE JSON;
CREATE MATERIALIZED VIEW seen AS
SELECT device_id, src_ip, dst_ip, flow_bytes FROM network_metrics_source;
SQL
}

# expected_rows FILE...: the rows `seen` must hold for these NDJSON inputs,
# as sorted CSV lines.
expected_rows() {
    cat "$@" | sed 's/^{"device_id":"\([^"]*\)",.*"src_ip":"\([^"]*\)","dst_ip":"\([^"]*\)",.*"flow_bytes":\([0-9]*\)}$/\1,\2,\3,\4/' | LC_ALL=C sort
}

# dashboard_url ERRFILE: the API address a tidewatch started with
# --http 127.0.0.1:0 printed on stderr (waits for it).
dashboard_url() {
    wait_for "$1" 'dashboard at http' 20 || fail "no dashboard line in $1: $(cat "$1")"
    sed -n 's/.*dashboard at \(http:[^ ]*\/\).*/\1/p' "$1" | head -n 1
}

# metric_sum URL NAME: the sum of the samples of metric NAME on URL/metrics
# (0 when it has none or the server does not answer).
metric_sum() {
    curl -fsS "${1}metrics" 2>/dev/null |
        awk -v n="$2" 'index($0, n "{") == 1 || index($0, n " ") == 1 { s += $NF } END { printf "%d\n", s }'
}

# wait_metric URL NAME VALUE SECONDS: waits until metric_sum is VALUE.
wait_metric() {
    n=0
    until [ "$(metric_sum "$1" "$2")" -eq "$3" ]; do
        n=$((n + 1)); [ $n -le $(($4 * 10)) ] || return 1
        sleep 0.1
    done
}
