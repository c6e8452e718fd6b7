#!/usr/bin/env bash
# Integration test of the SQL catalog through tests/tools/catalog_tool:
# create / load / swap / conflicts, then two processes each making COUNT
# compare-and-swap commits to one table at the same time; their logs of
# (expected -> new) swaps must form one unbroken chain with no lost commit.
#
#   catalog_pg.sh TOOL sqlite                  on a SQLite file, plus a swap
#       that meets a lock held past the busy timeout
#   catalog_pg.sh TOOL pg PG_TEST_SERVER_SH    on a PostgreSQL server it
#       starts, through postgresql:// and jdbc:postgresql:// URIs, plus the
#       schema as PostgreSQL sees it, a wrong password, and a reconnect
set -u
tool=${1:?usage: catalog_pg.sh TOOL sqlite|pg [PG_TEST_SERVER_SH]}
mode=${2:?usage: catalog_pg.sh TOOL sqlite|pg [PG_TEST_SERVER_SH]}
count=${TW_CAS_COUNT:-200}
tmp=$(mktemp -d) || exit 1
port=""
server=""
cleanup() {
    [ -n "$port" ] && "$server" stop "$port" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "catalog_pg.sh ($mode): FAIL: $*" >&2; exit 1; }

# expect STATUS TOOL_ARGS...: runs the tool, output in $out, stderr in $errout.
expect() {
    local want=$1 got
    shift
    out=$("$tool" "$@" 2>"$tmp/stderr")
    got=$?
    errout=$(cat "$tmp/stderr")
    [ "$got" -eq "$want" ] || fail "catalog_tool $* exited $got, expected $want (stderr: $errout)"
}

# basic_suite TABLE TOOL_OPTIONS_AND_URI...
basic_suite() {
    local t=$1
    shift
    expect 4 "$@" load net "$t"
    expect 0 "$@" create net "$t" "file:///w/$t/v1.metadata.json"
    expect 3 "$@" create net "$t" "file:///w/$t/other.metadata.json"
    expect 0 "$@" load net "$t"
    [ "$out" = "file:///w/$t/v1.metadata.json" ] || fail "load after create gave '$out'"
    expect 0 "$@" swap net "$t" "file:///w/$t/v1.metadata.json" "file:///w/$t/v2.metadata.json"
    expect 3 "$@" swap net "$t" "file:///w/$t/v1.metadata.json" "file:///w/$t/v3.metadata.json"
    expect 0 "$@" load net "$t"
    [ "$out" = "file:///w/$t/v2.metadata.json" ] || fail "load after swap gave '$out'"
}

# chain_check A_ARGS B_ARGS: the two-writer test; A and B are quoted
# argument strings (options and URI) for the two processes.
chain_check() {
    local a_args=$1 b_args=$2 start_s end_s final
    # shellcheck disable=SC2086
    expect 0 $a_args create net conc init
    # Both writers connect, then start together when "start" appears.
    # shellcheck disable=SC2086
    "$tool" -w "$tmp/start" $a_args cas-loop net conc "$count" A "$tmp/a.log" >"$tmp/a.out" 2>"$tmp/a.err" &
    local pid_a=$!
    # shellcheck disable=SC2086
    "$tool" -w "$tmp/start" $b_args cas-loop net conc "$count" B "$tmp/b.log" >"$tmp/b.out" 2>"$tmp/b.err" &
    local pid_b=$!
    sleep 0.3
    start_s=$(date +%s.%N)
    touch "$tmp/start"
    wait "$pid_a" || fail "writer A exited $?: $(cat "$tmp/a.err")"
    wait "$pid_b" || fail "writer B exited $?: $(cat "$tmp/b.err")"
    end_s=$(date +%s.%N)
    # shellcheck disable=SC2086
    expect 0 $a_args load net conc
    final=$out
    [ "$(wc -l <"$tmp/a.log")" -eq "$count" ] || fail "writer A logged $(wc -l <"$tmp/a.log") commits"
    [ "$(wc -l <"$tmp/b.log")" -eq "$count" ] || fail "writer B logged $(wc -l <"$tmp/b.log") commits"
    # Every swap replaced a distinct location, and following them from the
    # first location visits all 2*count links and ends at the current one.
    cat "$tmp/a.log" "$tmp/b.log" | awk -v first=init -v final="$final" -v want=$((2 * count)) '
        { if ($1 in next_of) { print "two commits replaced " $1; bad = 1 } next_of[$1] = $2; n++ }
        END {
            if (bad) exit 1
            cur = first
            for (i = 0; i < n; i++) {
                if (!(cur in next_of)) { print "chain broken after " i " links at " cur; exit 1 }
                cur = next_of[cur]
            }
            if (n != want) { print n " links, expected " want; exit 1 }
            if (cur != final) { print "chain ends at " cur " but the table points at " final; exit 1 }
        }' >"$tmp/chain.err" || fail "$(cat "$tmp/chain.err")"
    awk -v s="$start_s" -v e="$end_s" -v n=$((2 * count)) -v mode="$mode" -v a="$(cat "$tmp/a.out")" -v b="$(cat "$tmp/b.out")" \
        'BEGIN { printf "catalog_pg.sh (%s): %d commits by 2 writers in %.2f s (%.0f commits/s); A: %s; B: %s\n", mode, n, e - s, n / (e - s), a, b }'
}

case "$mode" in
sqlite)
    db="$tmp/catalog.db"
    basic_suite t1 "sqlite:$db"
    basic_suite t2 "sqlite://$db"
    chain_check "sqlite:$db" "sqlite://$db"

    # A writer that holds the file locked past the busy timeout makes the
    # swap an error, and the pointer stays where it was.
    expect 0 "sqlite:$db" load net t1
    before=$out
    "$tool" sqlite-hold "$db" 11 "$tmp/locked" 2>"$tmp/hold.err" &
    hold=$!
    for _ in $(seq 1 200); do [ -e "$tmp/locked" ] && break; sleep 0.05; done
    [ -e "$tmp/locked" ] || fail "could not lock the file: $(cat "$tmp/hold.err")"
    expect 1 "sqlite:$db" swap net t1 "$before" "file:///w/t1/locked.metadata.json"
    case "$errout" in *"stayed locked"*) ;; *) fail "swap under a held lock: $errout" ;; esac
    wait "$hold"
    expect 0 "sqlite:$db" load net t1
    [ "$out" = "$before" ] || fail "the pointer moved to '$out' while the swap failed"
    ;;
pg)
    server=${3:?usage: catalog_pg.sh TOOL pg PG_TEST_SERVER_SH}
    port=$("$server" start) || fail "could not start PostgreSQL"
    user=tidewatch
    password=tidewatch
    uri="postgresql://$user:$password@127.0.0.1:$port/postgres"
    jdbc="jdbc:postgresql://127.0.0.1:$port/postgres"
    basic_suite t_uri "$uri"
    basic_suite t_jdbc -u "$user" -p "$password" "$jdbc"
    basic_suite t_pg "postgres://$user:$password@127.0.0.1:$port/postgres"
    # One writer through each URI form: they share the one table.
    chain_check "$uri" "-u $user -p $password $jdbc"

    cols=$(PGPASSWORD=$password psql -X -h 127.0.0.1 -p "$port" -U "$user" -d postgres -Atc \
        "SELECT string_agg(column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') || ' ' || is_nullable, ', ' ORDER BY ordinal_position)
         FROM information_schema.columns WHERE table_name = 'iceberg_tables'") || fail "psql"
    [ "$cols" = "catalog_name character varying(255) NO, table_namespace character varying(255) NO, table_name character varying(255) NO, metadata_location character varying(1000) YES, previous_metadata_location character varying(1000) YES, iceberg_type character varying(5) YES" ] ||
        fail "iceberg_tables columns: $cols"
    ns_rows=$(PGPASSWORD=$password psql -X -h 127.0.0.1 -p "$port" -U "$user" -d postgres -Atc \
        "SELECT catalog_name || ' ' || namespace || ' ' || property_key || '=' || property_value FROM iceberg_namespace_properties") || fail "psql"
    [ "$ns_rows" = "default net exists=true" ] || fail "namespace rows: $ns_rows"

    expect 1 "postgresql://$user:wrong-pw-42@127.0.0.1:$port/postgres" load net t_uri
    case "$errout" in *"$user:***@127.0.0.1"*check*) ;; *) fail "wrong password error: $errout" ;; esac
    case "$errout" in *wrong-pw-42*) fail "the password shows in: $errout" ;; esac

    # The server ends the session between two loads: the second reconnects.
    "$tool" "$uri" load-pause net t_uri "$tmp/go" >"$tmp/pause.out" 2>"$tmp/pause.err" &
    pid=$!
    for _ in $(seq 1 100); do [ -s "$tmp/pause.out" ] && break; sleep 0.05; done
    killed=$(PGPASSWORD=$password psql -X -h 127.0.0.1 -p "$port" -U "$user" -d postgres -Atc \
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'tidewatch'")
    [ "$killed" = 1 ] || fail "expected to end 1 catalog session, ended $killed"
    touch "$tmp/go"
    wait "$pid" || fail "load after the server ended the session: $(cat "$tmp/pause.err")"
    [ "$(sort -u "$tmp/pause.out" | wc -l)" -eq 1 ] && [ "$(wc -l <"$tmp/pause.out")" -eq 2 ] ||
        fail "loads around the reconnect gave: $(cat "$tmp/pause.out")"
    ;;
*) fail "mode must be sqlite or pg" ;;
esac
echo "catalog_pg.sh ($mode): ok"
