#!/bin/sh
# Must-show 2: `tidewatch gen --kafka` into the mock cluster, read back with
# kcat: every message parses, every key is its device_id, one device stays
# in one partition in time order, and the count matches.
# Usage: kafka_gen.sh TIDEWATCH KAFKA_MOCK NODE
set -u
bin=${1:?usage}; mock_bin=${2:?usage}; node=${3:?usage}
tmp=$(mktemp -d) || exit 1
. "$(dirname "$0")/kafka_lib.sh"
count=30000

start_mock --topic gen_metrics:8
"$bin" gen --count $count --devices 40 --seed 5 --kafka "$BOOT" --topic gen_metrics \
    --kafka-property compression.type=lz4 2>"$tmp/gen.err" || fail "gen --kafka exited $?: $(cat "$tmp/gen.err")"
grep -q "^tidewatch gen: $count delivered, 0 failed to topic 'gen_metrics'" "$tmp/gen.err" ||
    fail "no delivery report: $(cat "$tmp/gen.err")"
kcat -C -b "$BOOT" -t gen_metrics -e -q -o beginning -f '%p\t%k\t%s\n' >"$tmp/back.tsv" ||
    fail "kcat could not consume"
"$node" -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
const want = Number(process.argv[2]);
if (lines.length !== want) throw new Error(`read ${lines.length} messages, produced ${want}`);
const partOf = new Map(), last = new Map();
for (const l of lines) {
  const [p, k, v] = l.split("\t");
  const m = JSON.parse(v);
  if (m.device_id !== k) throw new Error(`key ${k} for device ${m.device_id}`);
  if (partOf.has(k) && partOf.get(k) !== p) throw new Error(`device ${k} in partitions ${partOf.get(k)} and ${p}`);
  partOf.set(k, p);
  if (last.has(k) && last.get(k) > m.timestamp) throw new Error(`device ${k} out of order`);
  last.set(k, m.timestamp);
}
if (new Set(partOf.values()).size < 2) throw new Error("all devices in one partition");
' "$tmp/back.tsv" $count || fail "read-back check failed"
"$bin" gen --count 1 --topic x >/dev/null 2>&1 && fail "--topic without --kafka was accepted"
echo "kafka_gen.sh: ok"
