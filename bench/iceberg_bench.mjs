#!/usr/bin/env node
// Iceberg sink throughput and commit latency, and DuckDB's COPY ... TO
// parquet of the same rows in the same run.
//
//   node bench/iceberg_bench.mjs --bin build/tidewatch [--count 2000000] [--workdir DIR]
//
// 1. sink rows/s: an append-only sink FROM an append-only projection of the
//    source (every input row reaches Parquet), one commit at the end, on one
//    decoding thread; the same run with --no-sinks is subtracted, so the
//    figure is the sink's own cost (Parquet encoding, zstd, manifests, commit).
// 2. commit latency: the run repeated with a commit at every barrier
//    (--barrier-interval 10); (time - one-commit time) / (extra commits).
// 3. DuckDB (1 thread) copies the table's rows from tidewatch's files into one
//    zstd Parquet file: time and size against tidewatch's.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { cliArgs, gen, localPath, openDuck, run, sqliteMetadataLocation } from '../tests/integration/iceberg_sink_lib.mjs';

const args = cliArgs();
if (!args.bin) {
  console.error('usage: iceberg_bench.mjs --bin TIDEWATCH [--count N] [--workdir DIR]');
  process.exit(2);
}
const n = Number(args.count ?? 2000000);
const workdir = path.resolve(args.workdir ?? path.join(os.tmpdir(), 'tidewatch-iceberg-bench'));
fs.rmSync(workdir, { recursive: true, force: true });
fs.mkdirSync(workdir, { recursive: true });
const input = path.join(workdir, 'metrics.ndjson');
gen(args.bin, n, 1, input);

const sql = (every) => `
CREATE SOURCE network_metrics_source (
    device_id VARCHAR, timestamp TIMESTAMP, src_ip VARCHAR, dst_ip VARCHAR, protocol VARCHAR,
    latency_ms FLOAT, packet_loss_rate FLOAT, bandwidth_usage_percent FLOAT, flow_bytes BIGINT
) WITH (connector = 'kafka', topic = 'network_metrics', properties.bootstrap.server = 'localhost:9092')
FORMAT PLAIN ENCODE JSON;
CREATE MATERIALIZED VIEW metrics_copy AS SELECT * FROM network_metrics_source;
CREATE CONNECTION lake WITH (type = 'iceberg', catalog.type = 'sql', catalog.uri = 'sqlite:catalog.db',
    warehouse.path = 'warehouse');
CREATE SINK metrics_history FROM metrics_copy WITH (connector = 'iceberg', type = 'append-only',
    connection = public.lake, database.name = 'public', table.name = 'metrics_history',
    create_table_if_not_exists = 'true', commit_checkpoint_interval = '${every}');
`;

function timed(name, every, extra = []) {
  const dir = path.join(workdir, name);
  fs.mkdirSync(dir, { recursive: true });
  const sqlFile = path.join(dir, 'bench.sql');
  fs.writeFileSync(sqlFile, sql(every));
  const a = ['run', '--exit-at-eof', '--quiet', '--threads', '1', '--data-dir', dir, ...extra,
    '--source', `network_metrics_source=file:${input}`, sqlFile];
  const t0 = process.hrtime.bigint();
  const r = run(args.bin, a);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${name}: tidewatch exited ${r.status ?? r.signal}: ${r.stderr.slice(0, 2000)}`);
  return { dir, s };
}
const best = (f, reps = 3) => {
  let b = null;
  for (let i = 0; i < reps; i++) {
    const x = f(i);
    if (!b || x.s < b.s) b = x;
  }
  return b;
};

const noSink = best((i) => timed(`nosink${i}`, 100000, ['--no-sinks']));
const one = best((i) => timed(`one${i}`, 100000));
const many = timed('many', 1, ['--barrier-interval', '10']);
const metaOf = (dir) => JSON.parse(fs.readFileSync(localPath(sqliteMetadataLocation(path.join(dir, 'catalog.db'), 'metrics_history')), 'utf8'));
const oneMeta = metaOf(one.dir), manyMeta = metaOf(many.dir);
const commits = manyMeta.snapshots.length;
const cur = oneMeta.snapshots.find((s) => s['snapshot-id'] === oneMeta['current-snapshot-id']);
const rows = Number(cur.summary['total-records']);
const twBytes = Number(cur.summary['total-files-size']);
const sinkS = one.s - noSink.s;
const commitMs = commits > 1 ? ((many.s - one.s) / (commits - 1)) * 1000 : NaN;

// DuckDB writes the same rows.
const files = fs.readdirSync(path.join(one.dir, 'warehouse/public/metrics_history/data')).map((f) =>
  `'${path.join(one.dir, 'warehouse/public/metrics_history/data', f)}'`);
const duck = await openDuck();
await duck.rows(`CREATE TABLE t AS SELECT * FROM read_parquet([${files.join(', ')}])`);
const duckOut = path.join(workdir, 'duck.parquet');
let duckS = Infinity;
for (let i = 0; i < 3; i++) {
  const t0 = process.hrtime.bigint();
  await duck.rows(`COPY t TO '${duckOut}' (FORMAT parquet, COMPRESSION zstd)`);
  duckS = Math.min(duckS, Number(process.hrtime.bigint() - t0) / 1e9);
}
const duckBytes = fs.statSync(duckOut).size;
const [{ c }] = await duck.rows(`SELECT count(*) AS c FROM read_parquet('${duckOut}')`);
if (Number(c) !== rows || rows !== n) throw new Error(`row counts: table ${rows}, duckdb ${c}, input ${n}`);

const f = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(`iceberg_bench: ${f(n)} rows (${os.cpus()[0].model}), best of 3`);
console.log('| measure | figure |');
console.log('| --- | --- |');
console.log(`| run without sink (decode + MV, 1 thread) | ${f(noSink.s, 2)} s |`);
console.log(`| run with the Iceberg sink, one commit | ${f(one.s, 2)} s |`);
console.log(`| sink alone: rows/s into Parquet (zstd) + commit | ${f(rows / sinkS)} rows/s |`);
console.log(`| whole pipeline with sink | ${f(rows / one.s)} rows/s |`);
console.log(`| commit latency (${commits} commits at every 10 ms barrier) | ${f(commitMs, 1)} ms/commit |`);
console.log(`| tidewatch Parquet size | ${f(twBytes / 1048576, 1)} MiB (${f(twBytes / rows, 1)} B/row) |`);
console.log(`| DuckDB COPY TO parquet (zstd, 1 thread), same rows | ${f(duckS, 2)} s = ${f(rows / duckS)} rows/s, ${f(duckBytes / 1048576, 1)} MiB |`);
fs.rmSync(workdir, { recursive: true, force: true });
