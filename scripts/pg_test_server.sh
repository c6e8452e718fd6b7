#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for tests and stops it again.
#
#   pg_test_server.sh start      initdb into a new temp dir, listen on
#                                127.0.0.1 only, at a free port; prints the
#                                port. The server stops by itself when the
#                                calling process exits.
#   pg_test_server.sh stop PORT  stops that server and removes its files.
#
# Password authentication (scram-sha-256) for user $TW_PG_USER (default
# tidewatch) with password $TW_PG_PASSWORD (default tidewatch), database
# postgres. fsync is off: the data is thrown away. Run as root, the server
# runs as the postgres user (initdb refuses root). PostgreSQL's server
# binaries come from $PGBIN (default /usr/lib/postgresql/15/bin;
# scripts/deps.sh installs them).
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
pg_user=${TW_PG_USER:-tidewatch}
pg_password=${TW_PG_PASSWORD:-tidewatch}
state_root=${TMPDIR:-/tmp}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

stop_server() { # DIR
    [ -d "$1/data" ] && (cd "$1" && as_owner "$PGBIN/pg_ctl" -D "$1/data" -m immediate -w stop) >/dev/null 2>&1 || true
    rm -rf "$1"
}

port_in_use() { # PORT: something accepts connections there
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
    [ -x "$PGBIN/initdb" ] || { echo "pg_test_server: no $PGBIN/initdb; run scripts/deps.sh (package postgresql)" >&2; exit 1; }
    local caller=$PPID dir port started=""
    dir=$(mktemp -d "$state_root/tw-pg.XXXXXX")
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    printf '%s\n' "$pg_password" >"$dir/pwfile"
    chmod 644 "$dir/pwfile"
    cd "$dir"
    if ! as_owner "$PGBIN/initdb" -D "$dir/data" -U "$pg_user" --pwfile="$dir/pwfile" \
        -A scram-sha-256 -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        exit 1
    fi
    rm -f "$dir/pwfile"
    # A port free now may be taken before the server binds it: try others.
    for _ in $(seq 1 20); do
        port=$((20000 + RANDOM % 40000))
        port_in_use "$port" && continue
        if as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o \
            "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c full_page_writes=off -c max_connections=30 -c shared_buffers=16MB" \
            start >/dev/null 2>&1; then
            started=1
            break
        fi
    done
    if [ -z "$started" ]; then
        echo "pg_test_server: the server did not start; its log:" >&2
        cat "$dir/server.log" >&2 || true
        rm -rf "$dir"
        exit 1
    fi
    echo "$dir" >"$state_root/tw-pg-$port.dir"
    # The watchdog keeps no stdout open, so $(pg_test_server.sh start) returns.
    nohup "$0" watch "$caller" "$port" >/dev/null 2>&1 </dev/null &
    echo "$port"
}

stop() { # PORT
    local record="$state_root/tw-pg-$1.dir"
    [ -f "$record" ] || { echo "pg_test_server: no test server on port $1" >&2; exit 1; }
    stop_server "$(cat "$record")"
    rm -f "$record"
}

watch() { # CALLER_PID PORT
    local record="$state_root/tw-pg-$2.dir"
    while kill -0 "$1" 2>/dev/null && [ -f "$record" ]; do sleep 1; done
    [ -f "$record" ] && stop "$2"
    exit 0
}

case "${1:-}" in
start) start ;;
stop) stop "${2:?usage: pg_test_server.sh stop PORT}" ;;
watch) watch "$2" "$3" ;;
*) echo "usage: pg_test_server.sh start | stop PORT" >&2; exit 2 ;;
esac
