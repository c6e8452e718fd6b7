#!/usr/bin/env node
// Upsert mode: the seed's device_metrics_10s sinks with type = 'upsert',
// primary_key = 'device_id,window_start', committing at every barrier. The
// input is two generated streams over the same event times, one after the
// other, so every window written in the first half changes again in the
// second: the history must carry equality deletes, and reading it with the
// deletes applied (icebird, and by hand over DuckDB's read_parquet of every
// file) must equal the final view (--then 'SELECT * FROM device_metrics_10s'),
// which itself equals the DuckDB oracle.
//
//   node iceberg_sink_upsert.mjs --bin BUILD/tidewatch --workdir DIR [--count 100000]
import fs from 'node:fs';
import path from 'node:path';
import {
  METRIC_10S_COLUMNS, applyEqualityDeletes, cliArgs, compareRows, duckRows, makeChecker, openDuck, readBack, run,
  seedDuckSql, seedSql, shellLine, sqliteConnection, sqliteMetadataLocation, toMs,
} from './iceberg_sink_lib.mjs';
import { parseCsv } from '../oracle/lib.mjs';

const args = cliArgs();
if (!args.bin || !args.workdir) {
  console.error('usage: iceberg_sink_upsert.mjs --bin TIDEWATCH --workdir DIR [--count N]');
  process.exit(2);
}
const n = Number(args.count ?? 100000);
const workdir = path.resolve(args.workdir);
const label = `iceberg_sink_upsert(${n} + ${n} lines)`;
const { check, finish } = makeChecker(label);
fs.rmSync(workdir, { recursive: true, force: true });
fs.mkdirSync(workdir, { recursive: true });

const parts = [1, 2].map((seed) => {
  const r = run(args.bin, ['gen', '--count', String(n), '--seed', String(seed)], { encoding: 'buffer' });
  if (r.status !== 0) throw new Error(`gen: ${r.stderr}`);
  return r.stdout;
});
const input = path.join(workdir, 'metrics.ndjson');
fs.writeFileSync(input, Buffer.concat(parts));

const sqlFile = path.join(workdir, 'upsert.sql');
fs.writeFileSync(sqlFile, seedSql({
  connection: sqliteConnection(), from: 'device_metrics_10s', tableName: 'device_metrics_history',
  sinkOptions: { type: 'upsert', primary_key: 'device_id,window_start', commit_checkpoint_interval: '1' },
}).replace(/\n\s*force_append_only = 'true',/, ''));
const dataDir = path.join(workdir, 'data');
const twArgs = ['run', '--exit-at-eof', '--quiet', '--barrier-interval', '5', '--threads', '1', '--data-dir', dataDir,
  '--source', `network_metrics_source=file:${input}`, '--format', 'csv',
  '--then', 'SELECT * FROM device_metrics_10s', sqlFile];
const r = run(args.bin, twArgs);
if (!check(r.status === 0, `tidewatch exited ${r.status ?? r.signal}\n  command: ${shellLine(args.bin, twArgs)}\n  stderr: ${r.stderr.slice(0, 3000)}`))
  finish();

// The final view, typed like the table rows.
const csv = parseCsv(r.stdout);
check(csv.header.join(',') === METRIC_10S_COLUMNS.join(','), `view columns ${csv.header}`);
const mv = csv.rows.map((row) => row.map((v, i) => {
  const c = METRIC_10S_COLUMNS[i];
  if (v === null) return null;
  if (c === 'window_start' || c === 'window_end') return Date.parse(`${v}Z`) * 1000;
  if (c === 'device_id') return v;
  return Number(v);
}));
const keys = ['device_id', 'window_start'];
const duck = await openDuck();
const oracle = await duckRows(duck, seedDuckSql([input], 'device_metrics_10s'), METRIC_10S_COLUMNS);
for (const p of compareRows(mv, oracle, METRIC_10S_COLUMNS, keys, 'view', 'oracle')) check(false, p);

const location = sqliteMetadataLocation(path.join(dataDir, 'catalog.db'), 'device_metrics_history');
const got = await readBack({ check, where: 'device_metrics_history', metadataLocation: location, columns: METRIC_10S_COLUMNS, duck });
if (got.metadata) {
  const snaps = got.metadata.snapshots;
  check(snaps.length >= 3, `several commits: ${snaps.length} snapshots`);
  const schema = got.metadata.schemas.find((s) => s['schema-id'] === got.metadata['current-schema-id']);
  check(JSON.stringify(schema['identifier-field-ids']) === JSON.stringify([1, 2]), `identifier-field-ids ${schema['identifier-field-ids']}`);
  const deletes = got.files.filter((f) => f.content === 2);
  check(deletes.length > 0, 'the live files include equality delete files');
  // Rows changed across commits: a key written by an earlier commit is deleted by a later one.
  const firstSeq = Math.min(...got.files.filter((f) => f.content === 0).map((f) => Number(f.sequence_number)));
  check(deletes.some((d) => Number(d.sequence_number) > firstSeq), 'an equality delete follows an earlier data commit');
  for (const d of deletes) check(JSON.stringify(d.equality_ids) === '[1,2]', `equality_ids ${d.equality_ids}`);
  const merged = applyEqualityDeletes(got.files, METRIC_10S_COLUMNS);
  for (const p of compareRows(merged, mv, METRIC_10S_COLUMNS, keys, 'read_parquet with deletes applied', 'view')) check(false, p);
  console.log(`${label}: ${snaps.length} snapshots, ${got.files.length - deletes.length} data files, ${deletes.length} delete files, ` +
    `${got.duckdb?.length} data rows, ${mv.length} view rows`);
}
if (got.icebird) for (const p of compareRows(got.icebird, toMs(mv, METRIC_10S_COLUMNS), METRIC_10S_COLUMNS, keys, 'icebird', 'view')) check(false, p);
finish();
