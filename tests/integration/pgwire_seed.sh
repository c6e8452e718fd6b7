#!/usr/bin/env bash
# pgwire_seed.sh - psql runs the seed's SQL file against `tidewatch serve`
# (twice: the DROP ... IF EXISTS preamble makes it repeatable) and SELECTs
# rows; the libpq client (prepared statements, parameters, error fields);
# bad SQL shows SQLSTATE and position in psql; garbage on the socket does
# not take the server down; SCRAM-SHA-256 with --pg-password.
#   pgwire_seed.sh TIDEWATCH PG_CLIENT SEED_SQL
set -u
bin=$1 client=$2 seed_sql=$3
tmp=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "pgwire_seed.sh: FAIL: $*" >&2; for f in "$tmp"/*.log; do echo "== $f"; cat "$f"; done >&2; exit 1; }

# The seed's SQL verbatim, except the connection: a SQLite catalog and a
# local warehouse in the data directory (docs/sql.md) instead of Lakekeeper
# and MinIO.
awk '/^CREATE CONNECTION/ { print "CREATE CONNECTION iceberg_minio_conn WITH (\n    type = '"'"'iceberg'"'"',\n    catalog.type = '"'"'sql'"'"',\n    catalog.uri = '"'"'sqlite:catalog.db'"'"',\n    warehouse.path = '"'"'warehouse'"'"'\n);"; skip = 1; next }
     skip && /^\);/ { skip = 0; next }
     !skip { print }' "$seed_sql" >"$tmp/rw.sql"
grep -q "sqlite:catalog.db" "$tmp/rw.sql" || fail "could not rewrite the connection"
"$bin" gen --count 60000 --seed 3 --anomaly-rate 0.3 --out "$tmp/m.ndjson" || fail "gen"

# start_serve LOG ARGS...: starts tidewatch serve, sets PORT.
start_serve() {
    log=$1; shift
    "$bin" serve --pg 127.0.0.1:0 --http off "$@" 2>"$log" &
    pids="$pids $!"
    for _ in $(seq 100); do
        PORT=$(sed -n 's/.*PostgreSQL protocol on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    fail "tidewatch serve did not start: $(cat "$log")"
}

start_serve "$tmp/serve.log" --data-dir "$tmp/data" --barrier-interval 200 \
    --source "network_metrics_source=file:$tmp/m.ndjson"
export PGHOST=127.0.0.1 PGPORT=$PORT PGDATABASE=dev PGUSER=root PGCONNECT_TIMEOUT=5
unset PGPASSWORD

for run in 1 2; do
    psql -X -v ON_ERROR_STOP=1 -f "$tmp/rw.sql" >"$tmp/psql$run.out" 2>&1 ||
        fail "psql -f rw.sql (run $run): $(cat "$tmp/psql$run.out")"
    grep -q '^CREATE_SINK$' "$tmp/psql$run.out" || fail "no CREATE_SINK tag: $(cat "$tmp/psql$run.out")"
    [ "$(grep -c '^DROP_' "$tmp/psql$run.out")" -eq 5 ] || fail "five DROP tags expected"
    rows=0
    for _ in $(seq 50); do
        psql -X -c 'SELECT * FROM network_anomalies ORDER BY 1, 2 LIMIT 5' >"$tmp/select$run.out" 2>&1 ||
            fail "SELECT: $(cat "$tmp/select$run.out")"
        rows=$(grep -c '^ [a-z]*-0[12] |' "$tmp/select$run.out")
        [ "$rows" -eq 5 ] && break
        sleep 0.2
    done
    [ "$rows" -eq 5 ] || fail "run $run: expected 5 rows: $(cat "$tmp/select$run.out")"
    grep -q '(5 rows)' "$tmp/select$run.out" || fail "run $run: no (5 rows) footer"
done
echo "psql -f rw.sql twice, then 5 rows:"
cat "$tmp/select2.out"

psql -X -t -A -c 'SHOW MATERIALIZED VIEWS' >"$tmp/show.out" 2>&1 || fail "SHOW"
[ "$(sort "$tmp/show.out" | tr '\n' ' ')" = "device_metrics_10s network_anomalies " ] ||
    fail "SHOW MATERIALIZED VIEWS: $(cat "$tmp/show.out")"
psql -X -c '\dt' >"$tmp/dt.out" 2>&1 || fail "\\dt: $(cat "$tmp/dt.out")"
grep -q 'network_metrics_source' "$tmp/dt.out" || fail "\\dt lists no source: $(cat "$tmp/dt.out")"

"$client" "host=127.0.0.1 port=$PORT dbname=dev user=root" >"$tmp/client.log" 2>&1 ||
    fail "pg_client"
cat "$tmp/client.log"

# Bad SQL: psql shows the SQLSTATE (verbose) and the position (LINE + caret).
psql -X -v VERBOSITY=verbose -c 'SELECT device_id, nope FROM network_anomalies' \
    >"$tmp/bad.out" 2>&1 && fail "bad SQL succeeded"
grep -q '^ERROR:  42703: column .nope. does not exist' "$tmp/bad.out" || fail "$(cat "$tmp/bad.out")"
grep -q '^LINE 1: SELECT device_id, nope FROM network_anomalies' "$tmp/bad.out" || fail "$(cat "$tmp/bad.out")"
grep -q '^                          \^' "$tmp/bad.out" || fail "caret: $(cat "$tmp/bad.out")"
psql -X -v VERBOSITY=verbose -c 'SELEC 1' >"$tmp/bad2.out" 2>&1 && fail "SELEC succeeded"
grep -q '^ERROR:  42601' "$tmp/bad2.out" || fail "$(cat "$tmp/bad2.out")"
echo "bad SQL through psql:"
cat "$tmp/bad.out" "$tmp/bad2.out"

# Garbage on the socket: the server answers with an error and stays up.
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "connect"
printf '\x00\x00\x00\x09\x00\x02\x00\x00garbage\xff\xff\xff' >&3
exec 3<&-
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "connect"
printf '\x00\x00\x00\x08\x00\x03\x00\x00Q\x7f\xff\xff\xffxyz' >&3
exec 3<&-
psql -X -t -A -c 'SELECT 1' >"$tmp/alive.out" 2>&1 || fail "server down after garbage"
[ "$(cat "$tmp/alive.out")" = 1 ] || fail "$(cat "$tmp/alive.out")"

# SCRAM-SHA-256: the right password works, a wrong one is refused.
start_serve "$tmp/scram.log" --data-dir "$tmp/data2" --pg-password 's3cret pw'
PGPASSWORD='s3cret pw' psql -X -p "$PORT" -t -A -c 'SELECT 2' >"$tmp/scram.out" 2>&1 ||
    fail "SCRAM login: $(cat "$tmp/scram.out")"
[ "$(cat "$tmp/scram.out")" = 2 ] || fail "$(cat "$tmp/scram.out")"
PGPASSWORD=wrong psql -X -p "$PORT" -c 'SELECT 2' >"$tmp/scram_bad.out" 2>&1 && fail "wrong password accepted"
grep -q 'password authentication failed' "$tmp/scram_bad.out" || fail "$(cat "$tmp/scram_bad.out")"
"$client" "host=127.0.0.1 port=$PORT dbname=dev user=root password=s3cret\ pw" password \
    >"$tmp/client_scram.log" 2>&1 || fail "pg_client with SCRAM: $(cat "$tmp/client_scram.log")"
echo "pgwire_seed.sh: ok"
