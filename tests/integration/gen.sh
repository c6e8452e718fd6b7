#!/bin/sh
# Integration test of `tidewatch gen`: determinism across runs, line count,
# --help, and the exit status of a bad option. Usage: gen.sh PATH/TO/tidewatch
set -u
bin=${1:?usage: gen.sh PATH/TO/tidewatch}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "gen.sh: FAIL: $*" >&2; exit 1; }

"$bin" gen --count 100000 --seed 7 >"$tmp/a.ndjson" 2>"$tmp/a.err" || fail "gen --count exited $?"
"$bin" gen --count 100000 --seed 7 --out "$tmp/b.ndjson" 2>"$tmp/b.err" || fail "gen --out exited $?"
sum_a=$(cksum <"$tmp/a.ndjson")
sum_b=$(cksum <"$tmp/b.ndjson")
[ "$sum_a" = "$sum_b" ] || fail "same seed gave different output ($sum_a vs $sum_b)"
[ ! -s "$tmp/a.err" ] || fail "stderr not empty when not a terminal: $(cat "$tmp/a.err")"

"$bin" gen --count 100000 --seed 7 --threads 1 >"$tmp/t1.ndjson" || fail "gen --threads 1 exited $?"
cmp -s "$tmp/a.ndjson" "$tmp/t1.ndjson" || fail "--threads 1 and the default wrote different bytes"

lines=$(wc -l <"$tmp/a.ndjson")
[ "$lines" -eq 100000 ] || fail "expected 100000 lines, got $lines"
head -n 1 "$tmp/a.ndjson" | grep -q '^{"device_id":"router-01","timestamp":"2026-01-01T00:00:00[.0-9]*Z","src_ip":"' ||
    fail "first line not in the expected format: $(head -n 1 "$tmp/a.ndjson")"

"$bin" gen --count 1000 --seed 8 >"$tmp/c.ndjson" || fail "gen --seed 8 exited $?"
head -n 1000 "$tmp/a.ndjson" | cmp -s - "$tmp/c.ndjson" && fail "seeds 7 and 8 gave the same output"

# A reader that stops early ends gen quietly and successfully.
status=$( { "$bin" gen --count 1000000 2>"$tmp/pipe.err"; echo $? >"$tmp/pipe.status"; } | head -n 1 >/dev/null; cat "$tmp/pipe.status")
[ "$status" -eq 0 ] || fail "gen into a closed pipe exited $status, expected 0"
[ ! -s "$tmp/pipe.err" ] || fail "gen into a closed pipe printed: $(cat "$tmp/pipe.err")"

"$bin" gen --help >"$tmp/help.txt" || fail "--help exited $?"
for opt in --devices --count --rate --seed --start --anomaly-rate --out --verbose; do
    grep -q -- "$opt" "$tmp/help.txt" || fail "--help does not mention $opt"
done

"$bin" gen --bogus >/dev/null 2>"$tmp/bad.err"
status=$?
[ "$status" -eq 2 ] || fail "unknown option exited $status, expected 2"
grep -q -- "--bogus" "$tmp/bad.err" || fail "unknown option message does not name it: $(cat "$tmp/bad.err")"

"$bin" gen --count 10 --devices 0 >/dev/null 2>"$tmp/bad.err"
status=$?
[ "$status" -eq 2 ] || fail "--devices 0 exited $status, expected 2"
grep -q -- "--devices" "$tmp/bad.err" || fail "bad value message does not name --devices: $(cat "$tmp/bad.err")"

echo "gen.sh: ok"
