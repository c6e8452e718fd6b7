#!/bin/sh
# `tidewatch run` and `tidewatch serve` share their pipeline options
# (src/cli/pipeline_args.c): both document every shared option in --help,
# and both reject the same bad values with exit status 2 and a message that
# names the option and the value. Usage: cli_options.sh PATH/TO/tidewatch
set -u
bin=${1:?usage: cli_options.sh PATH/TO/tidewatch}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "cli_options.sh: FAIL: $*" >&2; exit 1; }

for cmd in run serve; do
    "$bin" $cmd --help >"$tmp/help.txt" || fail "$cmd --help exited $?"
    for opt in --source --barrier-interval --retention --sink-lateness --data-dir --http \
        --http-token --anomalies --series --pg --pg-password; do
        grep -q -- "^  $opt " "$tmp/help.txt" || fail "$cmd --help does not document $opt"
    done
    # bad value: option and value the message must name
    while IFS='|' read -r opt value want; do
        "$bin" $cmd --data-dir "$tmp/data" "$opt" "$value" >/dev/null 2>"$tmp/bad.err" </dev/null
        status=$?
        [ "$status" -eq 2 ] || fail "$cmd $opt '$value' exited $status, expected 2: $(cat "$tmp/bad.err")"
        grep -q -- "$want" "$tmp/bad.err" || fail "$cmd $opt '$value': message does not say '$want': $(cat "$tmp/bad.err")"
        grep -q "^tidewatch $cmd: " "$tmp/bad.err" || fail "$cmd $opt: message does not name the command: $(cat "$tmp/bad.err")"
    done <<'CASES'
--barrier-interval|0|--barrier-interval must be 1..3600000 ms, not '0'
--barrier-interval|10x|not '10x'
--retention|soon|--retention takes a duration such as '1 hour', not 'soon'
--retention|0 seconds|not '0 seconds'
--sink-lateness|later|--sink-lateness takes a duration
--source|network_metrics_source|--source needs NAME=URI
CASES
    "$bin" $cmd --bogus >/dev/null 2>"$tmp/bad.err" </dev/null
    [ $? -eq 2 ] || fail "$cmd --bogus: exit status is not 2"
    grep -q "tidewatch $cmd --help" "$tmp/bad.err" || fail "$cmd --bogus does not point to --help: $(cat "$tmp/bad.err")"
done

"$bin" serve --data-dir "$tmp/data" --pg off >/dev/null 2>"$tmp/bad.err" </dev/null
[ $? -eq 2 ] || fail "serve --pg off: exit status is not 2"
grep -q "PostgreSQL protocol" "$tmp/bad.err" || fail "serve --pg off: $(cat "$tmp/bad.err")"
echo "cli_options.sh: ok"
