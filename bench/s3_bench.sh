#!/bin/sh
# S3 upload benchmark against the local test server (s3rver, reached
# directly, not through the verifying proxy), in one run: tidewatch's S3
# fileio (tests/tools/s3_tool: create, 64 KiB writes, commit; multipart
# above 8 MiB) and the AWS CLI copy the same files, each to its own prefix.
#   - small files: N x 256 KiB, the size of a seed commit's Parquet file;
#     commit latency = the time of the commit call (the single PUT), median
#     and p95 per file; the AWS CLI's per-file latency is one `aws s3 cp`
#     of one file (its process start included, as a user would see it);
#   - throughput: 2 x 64 MiB (multipart), MiB/s, and the whole small set.
# Usage: bench/s3_bench.sh [BUILD_DIR] [SMALL_FILES]
set -u
build=${1:-build}; nsmall=${2:-40}
tool=$build/tests/s3_tool
here=$(cd "$(dirname "$0")" && pwd)
aws_bin=aws; [ -x /usr/bin/aws ] && aws_bin=/usr/bin/aws
tmp=$(mktemp -d) || exit 1
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
node "$here/../tests/integration/s3_server.mjs" --dir "$tmp/s3rver" --buckets bench > "$tmp/server.json" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
for _ in $(seq 100); do [ -s "$tmp/server.json" ] && break; sleep 0.1; done
ep=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$tmp/server.json','utf8')).s3rver)")

mkdir -p "$tmp/small" "$tmp/big"
i=0; while [ $i -lt "$nsmall" ]; do head -c 262144 /dev/urandom > "$tmp/small/f$i.parquet"; i=$((i + 1)); done
head -c 67108864 /dev/urandom > "$tmp/big/a.bin"; head -c 67108864 /dev/urandom > "$tmp/big/b.bin"

now() { date +%s.%N; }
stats() { # JSON lines of s3_tool put -> "median p95 total_s"
  node -e "
    const l=require('fs').readFileSync(0,'utf8').split('\n').filter(x=>x.includes('commit_seconds')).map(JSON.parse);
    const c=l.map(x=>x.commit_seconds*1000).sort((a,b)=>a-b), t=l.reduce((s,x)=>s+x.seconds,0);
    console.log(c[Math.floor(c.length/2)].toFixed(2), c[Math.floor(c.length*0.95)].toFixed(2), t.toFixed(3));"
}

args=""; for f in "$tmp"/small/*; do args="$args s3://bench/tw/small/$(basename "$f") $f"; done
# shellcheck disable=SC2086
"$tool" --endpoint "$ep" put $args > "$tmp/tw_small.json" || exit 1
set -- $(stats < "$tmp/tw_small.json"); tw_med=$1; tw_p95=$2; tw_small_s=$3
"$tool" --endpoint "$ep" put s3://bench/tw/big/a.bin "$tmp/big/a.bin" s3://bench/tw/big/b.bin "$tmp/big/b.bin" \
  > "$tmp/tw_big.json" || exit 1
set -- $(stats < "$tmp/tw_big.json"); tw_big_s=$3

t0=$(now); $aws_bin --endpoint-url "$ep" s3 cp --recursive --only-show-errors "$tmp/small" s3://bench/cli/small/ || exit 1
cli_small_s=$(echo "$(now) - $t0" | bc)
t0=$(now); $aws_bin --endpoint-url "$ep" s3 cp --recursive --only-show-errors "$tmp/big" s3://bench/cli/big/ || exit 1
cli_big_s=$(echo "$(now) - $t0" | bc)
lat=""; for k in 1 2 3 4 5; do
  t0=$(now); $aws_bin --endpoint-url "$ep" s3 cp --only-show-errors "$tmp/small/f$k.parquet" "s3://bench/cli/one/f$k" || exit 1
  lat="$lat $(echo "($(now) - $t0) * 1000" | bc)"
done
cli_lat=$(echo "$lat" | tr ' ' '\n' | grep . | sort -n | sed -n 3p)

small_mib=$(echo "$nsmall * 0.25" | bc)
printf 'S3 upload to s3rver on 127.0.0.1 (same run, same files)\n'
printf '%-34s %12s %12s\n' '' tidewatch 'aws cli'
printf '%-34s %12.1f %12.1f\n' "MiB/s, 2 x 64 MiB (multipart)" "$(echo "128 / $tw_big_s" | bc -l)" "$(echo "128 / $cli_big_s" | bc -l)"
printf '%-34s %12.1f %12.1f\n' "MiB/s, $nsmall x 256 KiB" "$(echo "$small_mib / $tw_small_s" | bc -l)" "$(echo "$small_mib / $cli_small_s" | bc -l)"
printf '%-34s %12s %12s\n' "commit latency ms, 256 KiB (median)" "$tw_med" "$(printf '%.1f' "$cli_lat")"
printf '%-34s %12s %12s\n' "commit latency ms, 256 KiB (p95)" "$tw_p95" "-"
echo "(aws cli: --recursive copies run its transfers in parallel, 10 by default; tidewatch writes one file at a time;"
echo " its per-file latency is a whole 'aws s3 cp' of one file, process start included)"
