#!/usr/bin/env node
// Two sinks (different names, different input files) share one table, one
// after the other: writer B must not take writer A's recorded replay
// positions and watermark for its own. After both runs the table holds both
// oracles' rows exactly once; then writer B runs again over the same input
// (a restart after a completed run) and adds nothing.
//
//   node iceberg_sink_shared.mjs --bin BUILD/tidewatch --workdir DIR [--count 50000]
import fs from 'node:fs';
import path from 'node:path';
import {
  ANOMALY_COLUMNS, cliArgs, compareRows, duckRows, makeChecker, openDuck, readBack, run, seedDuckSql, seedSql,
  shellLine, sqliteConnection, sqliteMetadataLocation,
} from './iceberg_sink_lib.mjs';

const args = cliArgs();
if (!args.bin || !args.workdir) {
  console.error('usage: iceberg_sink_shared.mjs --bin TIDEWATCH --workdir DIR [--count N]');
  process.exit(2);
}
const n = Number(args.count ?? 50000);
const workdir = path.resolve(args.workdir);
const label = `iceberg_sink_shared(${n} lines a writer)`;
const { check, finish } = makeChecker(label);
fs.rmSync(workdir, { recursive: true, force: true });
fs.mkdirSync(workdir, { recursive: true });
const dataDir = path.join(workdir, 'data');

const writers = ['a', 'b'].map((w, i) => {
  const file = path.join(workdir, `metrics_${w}.ndjson`);
  // B's input is shorter, so A's recorded byte offset lies past B's end.
  const g = run(args.bin, ['gen', '--count', String(i ? n / 2 : n), '--seed', String(10 + i),
    '--start', `2026-0${2 + i}-01T00:00:00Z`, '--out', file]);
  if (g.status !== 0) throw new Error(`gen: ${g.stderr}`);
  const sqlFile = path.join(workdir, `shared_${w}.sql`);
  fs.writeFileSync(sqlFile, seedSql({ connection: sqliteConnection(), sinkName: `sink_writer_${w}`, tableName: 'shared_history' }));
  return { w, file, args: ['run', '--exit-at-eof', '--quiet', '--data-dir', dataDir,
    '--source', `network_metrics_source=file:${file}`, sqlFile] };
});
const duck = await openDuck();
const keys = ['device_id', 'window_start'];
const db = path.join(dataDir, 'catalog.db');

async function verify(when, files) {
  const expected = await duckRows(duck, seedDuckSql(files), ANOMALY_COLUMNS);
  const got = await readBack({ check, where: when, metadataLocation: sqliteMetadataLocation(db, 'shared_history'),
    columns: ANOMALY_COLUMNS, duck });
  if (got.duckdb) for (const p of compareRows(got.duckdb, expected, ANOMALY_COLUMNS, keys, 'table', 'oracle')) check(false, `${when}: ${p}`);
  return expected.length;
}

for (const [i, wr] of [...writers, writers[1]].entries()) {
  const r = run(args.bin, wr.args);
  check(r.status === 0, `run ${i + 1} (writer ${wr.w}) exited ${r.status ?? r.signal}\n  command: ${shellLine(args.bin, wr.args)}\n  stderr: ${r.stderr.slice(0, 2000)}`);
  const rows = await verify(`after run ${i + 1} (writer ${wr.w})`, writers.slice(0, Math.min(i, 1) + 1).map((w) => w.file));
  if (i === 0) check(rows > 0, 'writer a has anomalies to write');
}
finish();
