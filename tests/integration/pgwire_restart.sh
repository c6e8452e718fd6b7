#!/bin/bash
# pgwire_restart.sh - the pipeline survives a restart. psql creates the seed
# pipeline on `tidewatch serve` (Kafka mock source, Iceberg sink on a local
# warehouse); half the input is produced; SIGTERM; serve starts again with
# no SQL and the same --data-dir: the views are back (restored from the
# persistent catalog), the rest is produced, and the Iceberg table ends up
# with exactly the anomalies a batch run over the whole input gives, each
# (device, window) once: no loss, no duplicate.
#   pgwire_restart.sh TIDEWATCH KAFKA_MOCK SEED_SQL NODE SOURCE_ROOT
set -u
bin=${1:?usage}; mock_bin=${2:?usage}; seed_sql=${3:?usage}; node=${4:?usage}; root=${5:?usage}
tmp=$(mktemp -d) || exit 1
. "$(dirname "$0")/kafka_lib.sh"

awk '/^CREATE CONNECTION/ { print "CREATE CONNECTION iceberg_minio_conn WITH (\n    type = '"'"'iceberg'"'"',\n    catalog.type = '"'"'sql'"'"',\n    catalog.uri = '"'"'sqlite:catalog.db'"'"',\n    warehouse.path = '"'"'warehouse'"'"'\n);"; skip = 1; next }
     skip && /^\);/ { skip = 0; next }
     !skip { print }' "$seed_sql" >"$tmp/rw.sql"

start_mock --topic network_metrics:4
"$bin" gen --count 60000 --seed 5 --anomaly-rate 0.3 >"$tmp/m.ndjson" || fail "gen"
head -n 30000 "$tmp/m.ndjson" >"$tmp/a.ndjson"
tail -n +30001 "$tmp/m.ndjson" >"$tmp/b.ndjson"

serve() {
    log=$1
    "$bin" serve --pg 127.0.0.1:0 --http off --data-dir "$tmp/data" --barrier-interval 200 \
        --source "network_metrics_source=kafka://$BOOT/network_metrics?properties.session.timeout.ms=3000&properties.heartbeat.interval.ms=300" 2>"$log" &
    SERVE_PID=$!
    track_pid $SERVE_PID
    wait_for "$log" 'PostgreSQL protocol on' 10 || fail "serve did not start: $(cat "$log")"
    export PGHOST=127.0.0.1 PGDATABASE=dev PGUSER=root PGCONNECT_TIMEOUT=5
    PGPORT=$(sed -n 's/.*PostgreSQL protocol on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
    export PGPORT
}

# Rows in the Iceberg table's current snapshot (its summary's total-records),
# through the SQLite catalog's pointer to the current metadata file.
iceberg_rows() {
    meta=$(sqlite3 "$tmp/data/catalog.db" \
        "SELECT metadata_location FROM iceberg_tables WHERE table_name = 'network_anomalies_history'" 2>/dev/null)
    meta=${meta#file://}
    [ -n "$meta" ] && [ -f "$meta" ] || { echo 0; return; }
    n=$(grep -o '"total-records" *: *"[0-9]*"' "$meta" | tail -n 1 | grep -o '[0-9]*"$' | tr -d '"')
    echo "${n:-0}"
}

serve "$tmp/serve1.log"
psql -X -q -v ON_ERROR_STOP=1 -f "$tmp/rw.sql" >"$tmp/psql.out" 2>&1 || fail "psql -f: $(cat "$tmp/psql.out")"
keyed "$tmp/a.ndjson" | kcat -P -b "$BOOT" -t network_metrics -K '	' || fail "kcat a"
# Let the sink commit some windows before the stop.
for _ in $(seq 100); do
    [ "$(iceberg_rows)" -gt 0 ] && break
    sleep 0.2
done
before=$(iceberg_rows)
[ "$before" -gt 0 ] || fail "no Iceberg commit before the stop: $(cat "$tmp/serve1.log")"
kill -TERM $SERVE_PID
wait $SERVE_PID || fail "serve exited with an error: $(cat "$tmp/serve1.log")"

serve "$tmp/serve2.log"
grep -q '5 statements restored' "$tmp/serve2.log" || fail "catalog not restored: $(cat "$tmp/serve2.log")"
psql -X -t -A -c 'SHOW MATERIALIZED VIEWS' >"$tmp/show.out" 2>&1 || fail "SHOW"
[ "$(sort "$tmp/show.out" | tr '\n' ' ')" = "device_metrics_10s network_anomalies " ] ||
    fail "views not back: $(cat "$tmp/show.out")"
psql -X -t -A -c 'SHOW SINKS' | grep -q sink_network_anomalies || fail "sink not back"
keyed "$tmp/b.ndjson" | kcat -P -b "$BOOT" -t network_metrics -K '	' || fail "kcat b"

# What the whole input gives, in one batch run.
"$bin" run -q --exit-at-eof --no-sinks --http off --pg off \
    --source "network_metrics_source=file:$tmp/m.ndjson" "$tmp/rw.sql" \
    --then 'SELECT device_id, window_start FROM network_anomalies ORDER BY 1, 2' \
    >"$tmp/expected.csv" 2>"$tmp/run.err" || fail "batch run: $(cat "$tmp/run.err")"
tail -n +2 "$tmp/expected.csv" | sed 's/T/ /; s/Z$//; s/\.[0-9]*$//' | sort >"$tmp/expected.keys"
want=$(wc -l <"$tmp/expected.keys")
[ "$want" -gt 10 ] || fail "too few expected anomalies ($want)"

# Windows close by wall-clock time once the input stops (sink lateness 5 s).
got=0
for _ in $(seq 200); do
    got=$(iceberg_rows)
    [ "$got" -ge "$want" ] && break
    sleep 0.2
done
sleep 1
got=$(iceberg_rows)
[ "$got" -eq "$want" ] ||
    fail "Iceberg holds $got rows, the batch run gives $want (loss if fewer, duplicates if more); $before before the restart"
echo "pgwire_restart.sh: ok: $before rows committed before the restart, $want after: no loss, no duplicate"
