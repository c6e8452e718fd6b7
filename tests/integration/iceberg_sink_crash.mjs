#!/usr/bin/env node
// Exactly once across crashes: the seed pipeline sinks into a SQLite-catalog
// table, committing at every barrier (commit_checkpoint_interval = '1',
// --barrier-interval 20), from a file source. tidewatch is killed with
// SIGKILL at 10 moments and restarted each time with the same command, then
// run until it exits 0. The final table must hold every oracle row exactly
// once: nothing lost, no (device_id, window_start) twice.
//
// The moments are deterministic from --seed: a clean run is timed first, and
// the k-th kill comes a random fraction (0.2..1) of a tenth of that time
// after the k-th start, so the kills spread over the whole run.
//
// With --kafka-mock BUILD/tests/kafka_mock the same input is first produced
// (keyed by device, with kcat) into a 16-partition topic of a mock cluster (it keeps about 5 MB a partition, and keys put each of the 5 devices in one: keep --count small) and
// tidewatch reads it from there: a restart resumes each partition at the
// offset the sink's last commit recorded.
//
//   node iceberg_sink_crash.mjs --bin BUILD/tidewatch --workdir DIR [--count 2000000] [--seed 1]
//        [--kafka-mock BUILD/tests/kafka_mock]
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  ANOMALY_COLUMNS, cliArgs, compareRows, duckRows, gen, makeChecker, openDuck, readBack, seedDuckSql, seedSql,
  shellLine, sqliteConnection, sqliteMetadataLocation,
} from './iceberg_sink_lib.mjs';
import { makeRng } from '../oracle/lib.mjs';

const args = cliArgs();
if (!args.bin || !args.workdir) {
  console.error('usage: iceberg_sink_crash.mjs --bin TIDEWATCH --workdir DIR [--count N] [--seed S]');
  process.exit(2);
}
const n = Number(args.count ?? 2000000);
const seed = Number(args.seed ?? 1);
const workdir = path.resolve(args.workdir);
const label = `iceberg_sink_crash(${n} lines, seed ${seed}${args['kafka-mock'] ? ', kafka' : ''})`;
const checker = makeChecker(label);
const { check, finish } = checker;
fs.rmSync(workdir, { recursive: true, force: true });
fs.mkdirSync(workdir, { recursive: true });

const input = path.join(workdir, 'metrics.ndjson');
// Through Kafka the input is small (the mock keeps ~5 MB a partition), so
// incidents are made frequent: commits then happen all through the run.
gen(args.bin, n, 3, input, args['kafka-mock'] ? ['--anomaly-rate', '0.3'] : []);
const sqlFile = path.join(workdir, 'seed_crash.sql');
fs.writeFileSync(sqlFile, seedSql({ connection: sqliteConnection(), sinkOptions: { commit_checkpoint_interval: '1' } }));
let sourceUri = `file:${input}`;
let mock = null;
if (args['kafka-mock']) {
  mock = spawn(args['kafka-mock'], ['--topic', 'network_metrics:16'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const boot = await new Promise((resolve, reject) => {
    let out = '';
    mock.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0].trim());
    });
    mock.on('exit', (code) => reject(new Error(`kafka_mock exited ${code}`)));
  });
  process.on('exit', () => mock.kill('SIGKILL'));
  // Keyed by device id, so one device's rows stay in order in one partition.
  const keyed = fs.readFileSync(input, 'utf8').split('\n').filter((l) => l)
    .map((l) => `${JSON.parse(l).device_id}\t${l}`).join('\n') + '\n';
  execFileSync('kcat', ['-P', '-b', boot, '-t', 'network_metrics', '-K', '\t', '-X', 'linger.ms=50'],
    { input: keyed, maxBuffer: 1 << 30 });
  sourceUri = `kafka://${boot}/network_metrics`;
}
const twArgs = (dataDir) => ['run', '--exit-at-eof', '--quiet', '--barrier-interval', '20', '--threads', '1',
  '--data-dir', dataDir, '--source', `network_metrics_source=${sourceUri}`, sqlFile];

// Starts tidewatch; kills it after killAfterMs (if given and still running).
function runOnce(dataDir, killAfterMs) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(args.bin, twArgs(dataDir), { cwd: workdir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '', killed = false, timer = null;
    p.stderr.on('data', (d) => { stderr += d; });
    if (killAfterMs !== undefined) timer = setTimeout(() => { killed = p.kill('SIGKILL'); }, killAfterMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, killed: killed && signal === 'SIGKILL', stderr, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
  });
}

const measure = await runOnce(path.join(workdir, 'measure'));
if (!check(measure.code === 0, `the timing run exited ${measure.code ?? measure.signal}: ${measure.stderr.slice(0, 2000)}`)) finish();
const totalMs = measure.ms;

const rng = makeRng(seed);
const dataDir = path.join(workdir, 'data');
const kills = [];
let done = false;
for (let k = 0; k < 10 && !done; k++) {
  // A Kafka run spends its first few hundred ms connecting, so its kills
  // fall anywhere in the run (each restart starts over from its last
  // commit); a file run's fall in the k-th tenth.
  const delay = mock ? Math.round((0.1 + 0.6 * rng.next()) * totalMs)
    : Math.round((0.2 + 0.8 * rng.next()) * totalMs / 10);
  const r = await runOnce(dataDir, delay);
  kills.push(`${delay}ms:${r.killed ? 'killed' : r.code}`);
  if (!r.killed) {
    check(r.code === 0, `run ${k + 1} (to be killed at ${delay} ms) exited ${r.code ?? r.signal}\n  command: ` +
      `${shellLine(args.bin, twArgs(dataDir))}\n  stderr: ${r.stderr.slice(0, 3000)}`);
    // Through Kafka, how long a run takes varies with the broker; a run that
    // finished is followed by the remaining kills anyway: a restart after
    // the end must add nothing.
    done = !mock;
  }
}
let finalRuns = 0;
while (!done && finalRuns < 3) {
  const r = await runOnce(dataDir);
  finalRuns++;
  done = check(r.code === 0, `the final run exited ${r.code ?? r.signal}\n  command: ${shellLine(args.bin, twArgs(dataDir))}\n` +
    `  stderr: ${r.stderr.slice(0, 3000)}`);
}
const hits = kills.filter((k) => k.endsWith('killed')).length;
check(hits >= (mock ? 3 : 5), `at least ${mock ? 3 : 5} of the kills hit a running tidewatch (${kills.join(', ')})`);

const duck = await openDuck();
const expected = await duckRows(duck, seedDuckSql([input]), ANOMALY_COLUMNS);
const location = sqliteMetadataLocation(path.join(dataDir, 'catalog.db'), 'network_anomalies_history');
const got = await readBack({ check, where: 'after crashes', metadataLocation: location, columns: ANOMALY_COLUMNS, duck });
const keys = ['device_id', 'window_start'];
if (got.duckdb) for (const p of compareRows(got.duckdb, expected, ANOMALY_COLUMNS, keys, 'table', 'oracle')) check(false, p);
console.log(`${label}: clean run ${totalMs.toFixed(0)} ms; kills ${kills.join(', ')}; ${got.metadata?.snapshots.length} snapshots, ` +
  `${expected.length} oracle rows, ${got.duckdb?.length} table rows`);
// The 2M-line input is large; keep it only for a failure's post-mortem.
if (checker.failures === 0) fs.rmSync(input, { force: true });
if (mock) mock.kill('SIGKILL');
finish();
