#!/usr/bin/env node
// Backfill over psql: `tidewatch serve` runs the seed pipeline (a followed
// file source, SQLite catalog, local warehouse) on data; then, as a NetOps
// user iterating on a rule does, psql drops the sink and network_anomalies
// and re-creates them with another latency threshold (plus a second sink
// into a new table). With no new input, the new view must hold exactly the
// DuckDB oracle's rows for the new threshold, and the new table must get
// every already-closed window once. Then more input arrives, overlapping
// the windows the backfill delivered: the view must stay exact (nothing
// counted both by the backfill and by the live changelog), and the old
// table must hold each (device, window) once: the old rule's rows up to the
// watermark its last commit recorded, the new rule's after it.
//
//   node pgwire_backfill.mjs --bin BUILD/tidewatch --workdir DIR [--psql psql]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  ANOMALY_COLUMNS, METRIC_10S_COLUMNS, TS_COLUMNS, cliArgs, compareRows, duckRows, gen, makeChecker, openDuck,
  localPath, readBack, seedDuckSql, seedSql, sqliteConnection, sqliteMetadataLocation,
} from './iceberg_sink_lib.mjs';
import { followedSql, waitFor } from './api_lib.mjs';

const args = cliArgs();
if (!args.bin || !args.workdir) {
  console.error('usage: pgwire_backfill.mjs --bin TIDEWATCH --workdir DIR [--psql psql]');
  process.exit(2);
}
const psqlBin = args.psql ?? 'psql';
const workdir = path.resolve(args.workdir);
const { check, finish } = makeChecker('pgwire_backfill');
fs.rmSync(workdir, { recursive: true, force: true });
fs.mkdirSync(workdir, { recursive: true });

// Part 1: five minutes of metrics (gen's 1000 a second). Part 2: its last
// minute again (moving averages of windows the backfill delivered) and one
// more.
const part1 = path.join(workdir, 'part1.ndjson');
const part2 = path.join(workdir, 'part2.ndjson');
// Latency episodes average about 140-150 ms, so a threshold of 145 keeps
// some of the windows 100 selects.
const genArgs = ['--anomaly-rate', '0.05', '--latency-anomaly-rate', '0.3'];
gen(args.bin, 300000, 3, part1, genArgs);
gen(args.bin, 120000, 4, part2, [...genArgs, '--start', '2026-01-01T00:04:00Z']);
const NEW_THRESHOLD = 145;
const PART1_END_US = Date.UTC(2026, 0, 1, 0, 5, 0) * 1000;
const input = path.join(workdir, 'input.ndjson');
fs.copyFileSync(part1, input);

const dataDir = path.join(workdir, 'data');
const db = path.join(dataDir, 'catalog.db');
const seed = seedSql({ connection: sqliteConnection() });
fs.writeFileSync(path.join(workdir, 'pipeline.sql'), followedSql(input, seed));
const sinkWith = /CREATE SINK sink_network_anomalies\s+FROM network_anomalies\s+(WITH \([\s\S]*?\);)/.exec(seed)[1];
const anomalyView = (threshold) => `CREATE MATERIALIZED VIEW network_anomalies AS
SELECT device_id, window_start, window_end, avg_latency_ms, avg_packet_loss_rate, avg_bandwidth_usage,
       avg_latency_ms > ${threshold} AS is_high_latency,
       avg_packet_loss_rate > 5 AS is_high_packet_loss,
       avg_bandwidth_usage > 90 AS is_bandwidth_saturation
FROM device_metrics_10s
WHERE avg_latency_ms > ${threshold} OR avg_packet_loss_rate > 5 OR avg_bandwidth_usage > 90;`;

let stderr = '';
const proc = spawn(args.bin, ['serve', '--pg', '127.0.0.1:0', '--http', 'off', '--data-dir', dataDir,
  '--barrier-interval', '100', '--sink-lateness', '2 seconds'], { stdio: ['ignore', 'ignore', 'pipe'] });
proc.stderr.on('data', (d) => { stderr += d; });
const stop = () => { if (proc.exitCode === null) proc.kill('SIGTERM'); };
process.on('exit', stop);
const fail = (what) => { check(false, `${what}\n  serve stderr:\n${stderr.slice(-3000)}`); stop(); finish(); };

let psqlStderr = ''; // the last psql's stderr: its NOTICE lines
function psql(psqlArgs) {
  const r = spawnSync(psqlBin, ['-X', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(pgPort), '-d', 'dev',
    '-U', 'root', ...psqlArgs], { encoding: 'utf8', timeout: 30000, env: { ...process.env, PGCONNECT_TIMEOUT: '5' } });
  if (r.status !== 0) fail(`psql ${psqlArgs.join(' ')}: ${r.stdout}${r.stderr}`);
  psqlStderr = r.stderr;
  return r.stdout;
}

// A view's rows over psql, as duckRows gives the oracle's: timestamps in
// epoch microseconds, numbers, booleans.
function viewRows(view, columns) {
  const out = psql(['-t', '-A', '-F', '|', '-c', `SELECT ${columns.join(', ')} FROM ${view}`]);
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('|').map((v, i) => {
    if (TS_COLUMNS.has(columns[i])) return Date.parse(v.replace(' ', 'T') + 'Z') * 1000;
    if (v === 't' || v === 'f') return v === 't';
    return i === 0 ? v : Number(v);
  }));
}

// The watermark the table's current snapshot recorded for `sink`, or null.
function tableWatermark(table, sink) {
  const location = fs.existsSync(db) ? sqliteMetadataLocation(db, table) : '';
  if (!location) return null;
  const metadata = JSON.parse(fs.readFileSync(localPath(location), 'utf8'));
  const snap = metadata.snapshots.find((x) => x['snapshot-id'] === metadata['current-snapshot-id']);
  const wm = snap?.summary?.[`tidewatch.watermark-us.${sink}`];
  return wm === undefined ? null : Number(wm);
}

// The table's rows, read back whole (and checked against the spec).
async function tableRows(table) {
  const got = await readBack({ check, where: table, metadataLocation: sqliteMetadataLocation(db, table),
    columns: ANOMALY_COLUMNS, duck });
  return got.duckdb ?? [];
}

// Waits until the sink has committed every window of part 1.
const committedPart1 = (table, sink) => waitFor(() => tableWatermark(table, sink) >= PART1_END_US,
  `sink ${sink} to commit every window of part 1`, 30000).catch((e) => fail(e.message));

const keys = ['device_id', 'window_start'];
const duck = await openDuck();
const oracle = async (files, threshold) => duckRows(duck,
  seedDuckSql(files).replaceAll('avg_latency_ms > 100', `avg_latency_ms > ${threshold}`), ANOMALY_COLUMNS);
const metrics1 = await duckRows(duck, seedDuckSql([part1], 'device_metrics_10s'), METRIC_10S_COLUMNS);
const old1 = await oracle([part1], 100);
const new1 = await oracle([part1], NEW_THRESHOLD);
const new12 = await oracle([part1, part2], NEW_THRESHOLD);
check(new1.length > 0 && new1.length < old1.length, `the new threshold selects other rows (${new1.length} vs ${old1.length})`);

let pgPort;
try {
  await waitFor(() => /PostgreSQL protocol on 127\.0\.0\.1:(\d+)/.test(stderr), 'serve to start');
} catch (e) { fail(e.message); }
pgPort = Number(/PostgreSQL protocol on 127\.0\.0\.1:(\d+)/.exec(stderr)[1]);
psql(['-f', path.join(workdir, 'pipeline.sql')]);

// The seed pipeline has read part 1, and its sink has committed.
try {
  await waitFor(() => viewRows('device_metrics_10s', ['device_id']).length === metrics1.length &&
    compareRows(viewRows('network_anomalies', ANOMALY_COLUMNS), old1, ANOMALY_COLUMNS, keys).length === 0,
  'the seed views to hold part 1', 30000);
  await waitFor(() => tableWatermark('network_anomalies_history', 'sink_network_anomalies') !== null,
    'the seed sink to commit', 30000);
} catch (e) { fail(e.message); }

// A view straight over the source, which has been read, cannot be
// backfilled: the client is told so as a NOTICE (not serve's stderr).
psql(['-c', 'CREATE MATERIALIZED VIEW late_view AS SELECT device_id FROM network_metrics_source']);
check(/NOTICE:\s+view 'late_view' reads source 'network_metrics_source', which has already been read/.test(psqlStderr),
  `psql shows the NOTICE: ${psqlStderr}`);
check(!stderr.includes("view 'late_view'"), 'the notice went to the client, not to the server log');
psql(['-c', 'DROP MATERIALIZED VIEW late_view']);

// Iterate on the rule: the sink depends on the view, so it goes first.
psql(['-c', 'DROP SINK sink_network_anomalies']);
const oldWmUs = tableWatermark('network_anomalies_history', 'sink_network_anomalies');
psql(['-c', `DROP MATERIALIZED VIEW network_anomalies; ${anomalyView(NEW_THRESHOLD)}
CREATE SINK sink_network_anomalies FROM network_anomalies ${sinkWith}
CREATE SINK sink_v2 FROM network_anomalies ${sinkWith.replace(/table\.name = '[^']*'/, "table.name = 'network_anomalies_v2'")}`]);

// No new input: the re-created view holds the new rule's rows at once.
for (const p of compareRows(viewRows('network_anomalies', ANOMALY_COLUMNS), new1, ANOMALY_COLUMNS, keys, 'view', 'oracle'))
  check(false, `re-created view, no new input: ${p}`);

// Every window of part 1 is closed (idle input): the new table gets them all.
await committedPart1('network_anomalies_v2', 'sink_v2');
for (const p of compareRows(await tableRows('network_anomalies_v2'), new1, ANOMALY_COLUMNS, keys, 'new table', 'oracle'))
  check(false, `network_anomalies_v2: ${p}`);

// The old table: the old rule through the watermark of its last commit
// before the drop, the re-created sink's rows after it, none twice.
await committedPart1('network_anomalies_history', 'sink_network_anomalies');
const history = await tableRows('network_anomalies_history');
const endCol = ANOMALY_COLUMNS.indexOf('window_end');
const expectHistory = [...old1.filter((r) => r[endCol] <= oldWmUs), ...new1.filter((r) => r[endCol] > oldWmUs)];
check(new1.some((r) => r[endCol] > oldWmUs) || old1.every((r) => r[endCol] <= oldWmUs),
  'the re-created sink had windows left to write');
for (const p of compareRows(history, expectHistory, ANOMALY_COLUMNS, keys, 'history table', 'expected'))
  check(false, `network_anomalies_history (old watermark ${oldWmUs}): ${p}`);

// Live input after the backfill, updating windows it delivered.
fs.appendFileSync(input, fs.readFileSync(part2));
let last = [];
try {
  await waitFor(() => {
    last = compareRows(viewRows('network_anomalies', ANOMALY_COLUMNS), new12, ANOMALY_COLUMNS, keys, 'view', 'oracle');
    return last.length === 0;
  }, 'the re-created view to follow part 2', 30000);
} catch (e) {
  for (const p of last) check(false, `after part 2: ${p}`);
}
console.log(`network_anomalies: ${new1.length} rows at once after re-create (${old1.length} before), ` +
  `${new12.length} after part 2; history table: ${history.length} rows, old watermark ${oldWmUs}`);
// A clean stop (under ASan: no error, no leak).
const exited = new Promise((res) => proc.on('exit', (code, signal) => res(code ?? signal)));
stop();
const code = await exited;
check(code === 0 && !/AddressSanitizer|runtime error/.test(stderr), `serve exited ${code}: ${stderr.slice(-2000)}`);
finish();
