#!/usr/bin/env node
// The seed pipeline sinks network_anomalies into public.network_anomalies_history
// through a SQLite catalog and a local warehouse (`tidewatch run --exit-at-eof`
// over `tidewatch gen` output). Independent readers must agree with the DuckDB
// oracle: icebird reads the table (timestamps at ms), DuckDB's read_parquet
// reads every data file (exact microseconds), avsc decodes every manifest and
// manifest list with the spec's schemas, the catalog row (sqlite3 CLI) points
// at the newest metadata file, and every snapshot summary carries
// tidewatch.watermark-us and tidewatch.positions.
//
//   node iceberg_sink_sqlite.mjs --bin BUILD/tidewatch --count 200000 --workdir DIR [--relative 1]
//        [--commit-every N --barrier-interval MS]
//
// With --relative 1 the data directory is given as a relative path (the
// process runs in DIR): the locations written must still be absolute, since
// readers do not share tidewatch's working directory. With --commit-every
// (commit_checkpoint_interval) and a short --barrier-interval the history
// has many snapshots, each with its own data file.
import fs from 'node:fs';
import path from 'node:path';
import {
  ANOMALY_COLUMNS, cliArgs, compareRows, duckRows, gen, makeChecker, openDuck, readBack, run, seedDuckSql,
  seedSql, shellLine, sqliteConnection, sqliteMetadataLocation, summaryValue, toMs,
} from './iceberg_sink_lib.mjs';

const args = cliArgs();
if (!args.bin || !args.workdir) {
  console.error('usage: iceberg_sink_sqlite.mjs --bin TIDEWATCH --workdir DIR [--count N] [--relative 1]');
  process.exit(2);
}
const n = Number(args.count ?? 200000);
const relative = args.relative === '1';
const workdir = path.resolve(args.workdir);
const commitEvery = args['commit-every'];
const label = `iceberg_sink_sqlite(${path.basename(args.bin)}, ${n} lines${relative ? ', relative data dir' : ''}` +
  `${commitEvery ? `, commit every ${commitEvery} barriers of ${args['barrier-interval']} ms` : ''})`;
const { check, finish } = makeChecker(label);

fs.rmSync(workdir, { recursive: true, force: true });
fs.mkdirSync(workdir, { recursive: true });
const input = path.join(workdir, 'metrics.ndjson');
gen(args.bin, n, 1, input);
const sqlFile = path.join(workdir, 'seed_local.sql');
fs.writeFileSync(sqlFile, seedSql({ connection: sqliteConnection(),
  sinkOptions: commitEvery ? { commit_checkpoint_interval: commitEvery } : {} }));
const dataDir = relative ? 'data' : path.join(workdir, 'data');
const statsFile = path.join(workdir, 'stats.json');
const twArgs = ['run', '--exit-at-eof', '--quiet', '--data-dir', dataDir, '--stats-json', statsFile,
  ...(args['barrier-interval'] ? ['--barrier-interval', args['barrier-interval'], '--threads', '1'] : []),
  '--source', `network_metrics_source=file:${input}`, sqlFile];
const r = run(args.bin, twArgs, { cwd: workdir });
if (!check(r.status === 0, `tidewatch exited ${r.status ?? r.signal}\n  command (in ${workdir}): ${shellLine(args.bin, twArgs)}\n  stderr: ${r.stderr.slice(0, 3000)}`))
  finish();
process.chdir(workdir);

const db = path.join(workdir, 'data', 'catalog.db');
check(fs.existsSync(db), `the SQLite catalog is ${db} (catalog.uri is relative to the data directory)`);
const location = sqliteMetadataLocation(db, 'network_anomalies_history');
// The catalog points at the newest metadata file.
const metaDir = path.join(workdir, 'data', 'warehouse', 'public', 'network_anomalies_history', 'metadata');
const metaFiles = fs.existsSync(metaDir) ? fs.readdirSync(metaDir).filter((f) => f.endsWith('.metadata.json')).sort() : [];
check(metaFiles.length > 0 && path.basename(location) === metaFiles[metaFiles.length - 1],
  `catalog points at ${location}, newest metadata file is ${metaFiles[metaFiles.length - 1]}`);
const prev = run('sqlite3', [db, "SELECT previous_metadata_location FROM iceberg_tables WHERE table_name = 'network_anomalies_history'"]).stdout.trim();

const duck = await openDuck();
const got = await readBack({ check, where: 'network_anomalies_history', metadataLocation: location, columns: ANOMALY_COLUMNS, duck });
if (got.metadata) {
  const log = got.metadata['metadata-log'];
  check(log.length === 0 ? prev === '' : log[log.length - 1]['metadata-file'] === prev,
    `previous_metadata_location ${prev} is the metadata log's last entry`);
  check(summaryValue(got.current?.summary, 'tidewatch.watermark-us') !== undefined, 'current snapshot records the watermark');
  if (commitEvery) check(got.metadata.snapshots.length >= 3, `several commits: ${got.metadata.snapshots.length} snapshots`);
}
const expected = await duckRows(duck, seedDuckSql([input]), ANOMALY_COLUMNS);
check(expected.length > 0, 'the oracle finds anomalies in the generated input');
const keys = ['device_id', 'window_start'];
if (got.duckdb) for (const p of compareRows(got.duckdb, expected, ANOMALY_COLUMNS, keys, 'read_parquet', 'oracle')) check(false, p);
if (got.icebird) {
  for (const p of compareRows(got.icebird, toMs(expected, ANOMALY_COLUMNS), ANOMALY_COLUMNS, keys, 'icebird', 'oracle'))
    check(false, p);
}
// The sink's counters (--stats-json, also behind /metrics' tidewatch_sink_*):
// one commit per snapshot, every oracle row written once, nothing failed.
const sinkStats = JSON.parse(fs.readFileSync(statsFile, 'utf8')).sinks?.sink_network_anomalies;
if (check(sinkStats, `--stats-json has sinks.sink_network_anomalies: ${fs.readFileSync(statsFile, 'utf8')}`)) {
  check(sinkStats.commits === (got.metadata?.snapshots.length ?? -1),
    `stats: ${sinkStats.commits} commits, the table has ${got.metadata?.snapshots.length} snapshots`);
  check(sinkStats.rows_written === expected.length, `stats: ${sinkStats.rows_written} rows written, oracle ${expected.length}`);
  check(sinkStats.commit_failures === 0 && sinkStats.pending_rows === 0,
    `stats: ${sinkStats.commit_failures} failures, ${sinkStats.pending_rows} pending at exit`);
  check(Number.isInteger(sinkStats.watermark_us), 'stats: the sink reports its watermark');
}
console.log(`${label}: ${expected.length} oracle rows, ${got.metadata?.snapshots.length ?? 0} snapshots, ${got.files.length} files`);
finish();
