#!/usr/bin/env node
// The seed pipeline's Iceberg sink with a PostgreSQL catalog on a real
// server the test starts (scripts/pg_test_server.sh: initdb in a temp dir,
// 127.0.0.1, a free port):
//  - catalog.type = 'jdbc' with catalog.uri = 'jdbc:postgresql://...' and
//    catalog.jdbc.user/password, as RisingWave writes it;
//  - catalog.type = 'sql' with a postgresql:// URI;
//  - two tidewatch processes (different inputs, different sink names) commit
//    to one table at the same time: both exit 0, the history is one linear
//    chain holding both writers' snapshots, and the table holds both
//    oracles' rows exactly once (a snapshot lost to a race would lose rows).
// Each table is read back as in iceberg_sink_sqlite.mjs (icebird, read_parquet,
// avsc) and compared with the DuckDB oracle.
//
//   node iceberg_sink_pg.mjs --bin BUILD/tidewatch --pg-server scripts/pg_test_server.sh --workdir DIR [--count N]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  ANOMALY_COLUMNS, cliArgs, compareRows, duckRows, gen, makeChecker, openDuck, readBack, run, seedDuckSql,
  seedSql, shellLine, summaryValue, toMs,
} from './iceberg_sink_lib.mjs';

const args = cliArgs();
if (!args.bin || !args.workdir || !args['pg-server']) {
  console.error('usage: iceberg_sink_pg.mjs --bin TIDEWATCH --pg-server PG_TEST_SERVER_SH --workdir DIR [--count N]');
  process.exit(2);
}
const n = Number(args.count ?? 200000);
const workdir = path.resolve(args.workdir);
const label = `iceberg_sink_pg(${n} lines)`;
const { check, finish } = makeChecker(label);
fs.rmSync(workdir, { recursive: true, force: true });
fs.mkdirSync(workdir, { recursive: true });

const user = 'tidewatch', password = 'tidewatch';
const started = run(args['pg-server'], ['start'], { env: { ...process.env, TW_PG_USER: user, TW_PG_PASSWORD: password } });
if (started.status !== 0) {
  console.error(`pg_test_server.sh start failed: ${started.stderr}`);
  process.exit(1);
}
const port = started.stdout.trim();
const pgUrl = `postgresql://${user}:${password}@127.0.0.1:${port}/postgres`;
const psql = (sql) => {
  const r = run('psql', [pgUrl, '-Atc', sql]);
  if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
  return r.stdout.trim();
};
const catalogLocation = (catalog, table) => psql(`SELECT metadata_location FROM iceberg_tables WHERE catalog_name = '${catalog}' ` +
  `AND table_namespace = 'public' AND table_name = '${table}'`);

const duck = await openDuck();
const keys = ['device_id', 'window_start'];

async function compareTable(where, location, expected) {
  const got = await readBack({ check, where, metadataLocation: location, columns: ANOMALY_COLUMNS, duck });
  if (got.duckdb) for (const p of compareRows(got.duckdb, expected, ANOMALY_COLUMNS, keys, 'read_parquet', 'oracle')) check(false, `${where}: ${p}`);
  if (got.icebird) for (const p of compareRows(got.icebird, toMs(expected, ANOMALY_COLUMNS), ANOMALY_COLUMNS, keys, 'icebird', 'oracle'))
    check(false, `${where}: ${p}`);
  return got;
}

const twArgs = (sqlFile, input, extra = []) => ['run', '--exit-at-eof', '--quiet', '--data-dir', workdir, ...extra,
  '--source', `network_metrics_source=file:${input}`, sqlFile];

try {
  const input = path.join(workdir, 'metrics.ndjson');
  gen(args.bin, n, 1, input);
  const expected = await duckRows(duck, seedDuckSql([input]), ANOMALY_COLUMNS);
  check(expected.length > 0, 'the oracle finds anomalies in the generated input');

  // One run per URI form.
  const forms = {
    jdbc: `catalog.type = 'jdbc',\n    catalog.uri = 'jdbc:postgresql://127.0.0.1:${port}/postgres',\n` +
      `    catalog.jdbc.user = '${user}',\n    catalog.jdbc.password = '${password}',\n    warehouse.path = 'wh_jdbc'`,
    sql: `catalog.type = 'sql',\n    catalog.uri = '${pgUrl}',\n    catalog.name = 'pgsql',\n    warehouse.path = 'wh_sql'`,
  };
  for (const [form, connection] of Object.entries(forms)) {
    const sqlFile = path.join(workdir, `seed_${form}.sql`);
    fs.writeFileSync(sqlFile, seedSql({ connection }));
    const a = twArgs(sqlFile, input);
    const r = run(args.bin, a, { cwd: workdir });
    if (!check(r.status === 0, `${form}: tidewatch exited ${r.status ?? r.signal}\n  command: ${shellLine(args.bin, a)}\n  stderr: ${r.stderr.slice(0, 3000)}`))
      continue;
    const location = catalogLocation(form === 'jdbc' ? 'default' : 'pgsql', 'network_anomalies_history');
    check(location !== '', `${form}: the catalog row exists`);
    const metaDir = path.join(workdir, `wh_${form}`, 'public', 'network_anomalies_history', 'metadata');
    const newest = fs.readdirSync(metaDir).filter((f) => f.endsWith('.metadata.json')).sort().pop();
    check(path.basename(location) === newest, `${form}: catalog points at ${location}, newest metadata is ${newest}`);
    await compareTable(`${form}`, location, expected);
  }

  // Two writers, one table, at the same time; disjoint event times so each
  // oracle row appears once in the union.
  const writers = ['a', 'b'].map((w, i) => {
    const file = path.join(workdir, `metrics_${w}.ndjson`);
    const g = run(args.bin, ['gen', '--count', String(n * 5), '--seed', String(10 + i),
      '--start', `2026-0${2 + i}-01T00:00:00Z`, '--out', file]);
    if (g.status !== 0) throw new Error(`gen: ${g.stderr}`);
    const sqlFile = path.join(workdir, `shared_${w}.sql`);
    fs.writeFileSync(sqlFile, seedSql({
      connection: `catalog.type = 'jdbc',\n    catalog.uri = 'jdbc:postgresql://127.0.0.1:${port}/postgres',\n` +
        `    catalog.jdbc.user = '${user}',\n    catalog.jdbc.password = '${password}',\n    warehouse.path = 'wh_shared'`,
      sinkName: `sink_writer_${w}`, tableName: 'shared_history', sinkOptions: { commit_checkpoint_interval: '1' },
    }));
    return { w, file, args: twArgs(sqlFile, file, ['--barrier-interval', '10', '--threads', '1']) };
  });
  const results = await Promise.all(writers.map((wr) => new Promise((resolve) => {
    const p = spawn(args.bin, wr.args, { cwd: workdir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code, signal) => resolve({ ...wr, code, signal, stderr }));
  })));
  for (const r of results)
    check(r.code === 0, `writer ${r.w} exited ${r.code ?? r.signal}\n  command: ${shellLine(args.bin, r.args)}\n  stderr: ${r.stderr.slice(0, 3000)}`);
  const sharedExpected = await duckRows(duck, seedDuckSql(writers.map((w) => w.file)), ANOMALY_COLUMNS);
  const location = catalogLocation('default', 'shared_history');
  const got = await compareTable('shared_history', location, sharedExpected);
  if (got.metadata) {
    const snaps = got.metadata.snapshots;
    // One linear history: each snapshot's parent is the one before it.
    snaps.forEach((s, i) => {
      check(s['sequence-number'] === i + 1, `shared_history: snapshot ${i} has sequence number ${s['sequence-number']}`);
      if (i > 0) check(s['parent-snapshot-id'] === snaps[i - 1]['snapshot-id'], `shared_history: snapshot ${i}'s parent is snapshot ${i - 1}`);
    });
    check(got.metadata['snapshot-log'].length === snaps.length, 'shared_history: snapshot-log lists every snapshot');
    // Each writer's commits (told apart by their watermark's month, or the
    // end-of-input watermark) are all there, and they interleave.
    const february = Date.UTC(2026, 1, 1) * 1000, march = Date.UTC(2026, 2, 1) * 1000;
    const owner = snaps.map((s) => {
      const wm = Number(summaryValue(s.summary, 'tidewatch.watermark-us'));
      return wm >= february && wm < march ? 'a' : wm >= march && wm < march * 2 ? 'b' : 'end';
    });
    const count = (w) => owner.filter((o) => o === w).length;
    check(count('a') >= 2 && count('b') >= 2, `shared_history: both writers committed several times (${owner.join('')})`);
    const firstEnd = owner.indexOf('end');
    check(firstEnd < 0 || owner.slice(0, firstEnd).includes('a') && owner.slice(0, firstEnd).includes('b'),
      `shared_history: the writers' commits interleave (${owner.join('')})`);
    const added = snaps.reduce((acc, s) => acc + Number(s.summary['added-records'] ?? 0), 0);
    check(String(added) === got.current?.summary['total-records'],
      `shared_history: added-records over all snapshots ${added} = total-records ${got.current?.summary['total-records']}`);
    console.log(`${label}: shared table ${snaps.length} snapshots (${owner.join('')}), ${sharedExpected.length} oracle rows`);
  }
} finally {
  run(args['pg-server'], ['stop', port]);
}
finish();
