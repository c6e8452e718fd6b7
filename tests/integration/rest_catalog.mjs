#!/usr/bin/env node
// The seed's SQL through a REST catalog: its CREATE CONNECTION with only the
// hosts and ports changed (catalog.type = 'rest', catalog.uri =
// 'http://127.0.0.1:PORT/catalog', warehouse.path = 'rw_iceberg', the s3.*
// options kept), against tests/tools/rest_catalog_server.mjs, which
// validates every request and response against the OpenAPI contract and
// hands out local file:// table locations. The table is read back from the
// location the catalog reports (icebird, DuckDB, avsc; see
// iceberg_sink_lib.mjs) and must equal the DuckDB oracle's rows, with no
// contract violation.
//
//   node rest_catalog.mjs --bin TIDEWATCH --server SERVER.mjs --spec SPEC.yaml --workdir DIR
//        --scenario seed|faults|writers|oauth [--count N]
//
// seed:    one run, a commit every 5 ms barrier; reports the commit cycle
//          latency the catalog observed.
// faults:  the next commits answer 500 before applying (2), 500 after
//          applying (2), one applies but answers after the client's 1 s
//          timeout, and 3 are preceded by another writer's commit (409):
//          every injected fault is recovered from, no snapshot is duplicated
//          or lost, every file referenced exists.
// writers: two sinks on one table run at the same time, committing often.
// oauth:   the catalog requires OAuth2 client credentials (catalog.credential)
//          and tokens expire after 4 requests: tidewatch fetches new ones on
//          401; a wrong secret fails naming the URI and the HTTP status.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import {
  ANOMALY_COLUMNS, cliArgs, compareRows, duckRows, gen, makeChecker, openDuck, readBack, run, seedDuckSql,
  seedSql, shellLine, summaryValue, toMs,
} from './iceberg_sink_lib.mjs';

const args = cliArgs();
if (!args.bin || !args.server || !args.spec || !args.workdir || !args.scenario) {
  console.error('usage: rest_catalog.mjs --bin TIDEWATCH --server SERVER.mjs --spec SPEC.yaml --workdir DIR --scenario S [--count N]');
  process.exit(2);
}
const scenario = args.scenario;
const n = Number(args.count ?? 50000);
const workdir = path.resolve(args.workdir);
const label = `rest_catalog(${scenario}, ${path.basename(args.bin)}, ${n} lines)`;
const { check, finish } = makeChecker(label);
fs.rmSync(workdir, { recursive: true, force: true });
fs.mkdirSync(workdir, { recursive: true });

// ---- the catalog server ----
async function startServer(extra = []) {
  const proc = spawn(process.execPath, [args.server, '--spec', args.spec, '--root', path.join(workdir, 'warehouse'),
    '--violations-file', path.join(workdir, 'violations.ndjson'), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: proc.stdout });
    lines.on('line', (l) => { const m = /^listening (\d+)$/.exec(l); if (m) resolve(Number(m[1])); });
    proc.on('exit', (code) => reject(new Error(`catalog server exited ${code}: ${stderr}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    port, base, proc,
    get stderr() { return stderr; },
    json: async (p, body) => (await fetch(`${base}${p}`, body === undefined ? {} :
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json(),
    stop: () => new Promise((resolve) => { proc.once('exit', resolve); proc.kill('SIGTERM'); }),
  };
}

const connection = (port, extra = '') => `catalog.type = 'rest',
    catalog.uri = 'http://127.0.0.1:${port}/catalog',
    warehouse.path = 'rw_iceberg',${extra}
    s3.endpoint = 'http://127.0.0.1:9000',
    s3.access.key = 'minioadmin',
    s3.secret.key = 'minioadmin',
    s3.region = 'us-east-1',
    s3.path.style.access = 'true'`;

function writeSql(name, opts) {
  const file = path.join(workdir, `${name}.sql`);
  fs.writeFileSync(file, seedSql(opts));
  return file;
}

const twArgs = (sqlFile, input, extra = []) => ['run', '--exit-at-eof', '--quiet', '--http', 'off',
  '--data-dir', path.join(workdir, 'data'), '--barrier-interval', '5', '--threads', '1',
  '--source', `network_metrics_source=file:${input}`, ...extra, sqlFile];

function runTw(a) {
  return new Promise((resolve) => {
    const p = spawn(args.bin, a, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('exit', (code, signal) => resolve({ status: code, signal, stderr }));
  });
}

// The table's current metadata location, as the catalog reports it.
async function currentLocation(server, table) {
  const headers = server.token ? { authorization: `Bearer ${server.token}` } : {};
  const cfg = await (await fetch(`${server.base}/catalog/v1/config?warehouse=rw_iceberg`, { headers })).json();
  const r = await fetch(`${server.base}/catalog/v1/${cfg.overrides.prefix}/namespaces/public/tables/${table}`, { headers });
  if (!check(r.status === 200, `GET table ${table}: HTTP ${r.status}`)) return null;
  return (await r.json())['metadata-location'];
}

const duck = await openDuck();
const keys = ['device_id', 'window_start'];

async function verify(server, where, table, inputs) {
  const expected = await duckRows(duck, seedDuckSql(inputs), ANOMALY_COLUMNS);
  check(expected.length > 0, `${where}: the oracle finds anomalies`);
  const got = await readBack({ check, where, metadataLocation: await currentLocation(server, table), columns: ANOMALY_COLUMNS, duck });
  if (got.duckdb) for (const p of compareRows(got.duckdb, expected, ANOMALY_COLUMNS, keys, 'read_parquet', 'oracle')) check(false, `${where}: ${p}`);
  if (got.icebird)
    for (const p of compareRows(got.icebird, toMs(expected, ANOMALY_COLUMNS), ANOMALY_COLUMNS, keys, 'icebird', 'oracle')) check(false, `${where}: ${p}`);
  return { expected, got };
}

async function noViolations(server, where) {
  const v = await server.json('/__violations');
  check(v.length === 0, `${where}: ${v.length} contract violations, first: ${JSON.stringify(v[0])?.slice(0, 1500)}`);
}

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
}

const input = path.join(workdir, 'metrics.ndjson');
gen(args.bin, n, 1, input);
let server;
try {
  if (scenario === 'seed' || scenario === 'faults') {
    server = await startServer();
    if (scenario === 'faults')
      await server.json('/__faults', { failBeforeApply: 2, failAfterApply: 2, foreignCommits: 3, hangAfterApply: 1, hangMs: 2500 });
    const sql = writeSql('seed_rest', { connection: connection(server.port, scenario === 'faults' ? "\n    catalog.timeout_ms = '1000'," : ''),
      sinkOptions: { commit_checkpoint_interval: '1' } });
    const a = twArgs(sql, input);
    const t0 = Date.now();
    const r = await runTw(a);
    const seconds = (Date.now() - t0) / 1000;
    check(r.status === 0, `tidewatch exited ${r.status ?? r.signal}\n  command: ${shellLine(args.bin, a)}\n  stderr: ${r.stderr.slice(0, 3000)}`);
    const { got } = await verify(server, scenario, 'network_anomalies_history', [input]);
    const stats = await server.json('/__stats');
    const snaps = got.metadata?.snapshots ?? [];
    check(snaps.length >= 3, `several commits: ${snaps.length} snapshots`);
    // Each tidewatch snapshot adds its own files: none twice, none lost.
    const ours = snaps.filter((s) => s.summary['test.foreign-writer'] === undefined);
    const seen = new Set();
    for (const f of got.files) {
      check(!seen.has(f.file_path), `data file ${f.file_path} is live once`);
      seen.add(f.file_path);
    }
    check(stats.committed + stats.foreign === snaps.length,
      `catalog applied ${stats.committed} commits (and ${stats.foreign} foreign), table has ${snaps.length} snapshots`);
    if (scenario === 'faults') {
      check(stats.injected500 === 4, `4 injected 500s were answered: ${stats.injected500}`);
      check(stats.hung === 1, `one commit applied but answered after the client's timeout: ${stats.hung}`);
      check(stats.foreign === 3 && stats.conflicts >= 3, `3 foreign commits made 409s: foreign ${stats.foreign}, conflicts ${stats.conflicts}`);
      check(snaps.length - stats.foreign === ours.length,
        `snapshots: ${ours.length} of tidewatch, ${stats.foreign} foreign, ${snaps.length} in all`);
      // After a 500 that applied, the next commit's parent is that snapshot:
      // the history is one chain.
      const ids = new Set(snaps.map((s) => s['snapshot-id']));
      check(snaps.every((s, i) => i === 0 || ids.has(s['parent-snapshot-id'])), 'every snapshot has its parent');
      check(snaps.every((s, i) => i === 0 || s['parent-snapshot-id'] === snaps[i - 1]['snapshot-id']), 'one linear chain of snapshots');
    }
    const cyc = stats.commitCycleMs;
    console.log(`${label}: ${snaps.length} snapshots, ${stats.commits} commit requests, ${stats.conflicts} conflicts, ` +
      `${stats.injected500} injected 500s, run ${seconds.toFixed(2)} s; commit cycle through the catalog ` +
      `(load -> commit answer): median ${quantile(cyc, 0.5).toFixed(2)} ms, p95 ${quantile(cyc, 0.95).toFixed(2)} ms over ${cyc.length}`);
    check(summaryValue(got.current?.summary, 'tidewatch.positions') !== undefined, 'the current snapshot records the replay positions');
    await noViolations(server, scenario);
  } else if (scenario === 'writers') {
    server = await startServer();
    const input2 = path.join(workdir, 'metrics_b.ndjson');
    const g = run(args.bin, ['gen', '--count', String(n), '--seed', '11', '--start', '2026-03-01T00:00:00Z', '--out', input2]);
    if (g.status !== 0) throw new Error(`gen: ${g.stderr}`);
    const runs = ['a', 'b'].map((w, i) => {
      const sql = writeSql(`writer_${w}`, { connection: connection(server.port), sinkName: `sink_writer_${w}`,
        tableName: 'shared_history', sinkOptions: { commit_checkpoint_interval: '1' } });
      const a = twArgs(sql, i ? input2 : input);
      return runTw(a).then((r) => check(r.status === 0, `writer ${w} exited ${r.status ?? r.signal}\n  command: ${shellLine(args.bin, a)}\n  stderr: ${r.stderr.slice(0, 3000)}`));
    });
    await Promise.all(runs);
    await verify(server, 'two writers', 'shared_history', [input, input2]);
    const stats = await server.json('/__stats');
    console.log(`${label}: ${stats.committed} commits applied, ${stats.conflicts} conflicts (409) retried`);
    await noViolations(server, scenario);
  } else if (scenario === 'oauth') {
    server = await startServer(['--credential', 'tidewatch:s3cr3t with space', '--token-uses', '4']);
    const bad = writeSql('oauth_bad', { connection: connection(server.port, "\n    catalog.credential = 'tidewatch:xyzzy-not-it',") });
    const rb = await runTw(twArgs(bad, input));
    check(rb.status !== 0, 'a wrong client secret fails the run');
    check(rb.stderr.includes(`http://127.0.0.1:${server.port}/catalog`) && rb.stderr.includes('HTTP 401') && rb.stderr.includes('invalid_client'),
      `the error names the URI, the HTTP status and the server's message: ${rb.stderr.slice(0, 600)}`);
    check(!rb.stderr.includes('xyzzy'), 'the secret is not shown in the error');
    const sql = writeSql('oauth', { connection: connection(server.port, "\n    catalog.credential = 'tidewatch:s3cr3t with space',"),
      sinkOptions: { commit_checkpoint_interval: '1' } });
    const a = twArgs(sql, input);
    const r = await runTw(a);
    check(r.status === 0, `tidewatch exited ${r.status ?? r.signal}\n  command: ${shellLine(args.bin, a)}\n  stderr: ${r.stderr.slice(0, 3000)}`);
    const tok = await (await fetch(`${server.base}/catalog/v1/oauth/tokens`, { method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=tidewatch&client_secret=s3cr3t%20with%20space&scope=catalog' })).json();
    server.token = tok.access_token;
    await verify(server, 'oauth', 'network_anomalies_history', [input]);
    const stats = await server.json('/__stats');
    check(stats.tokens >= 3, `tokens were fetched again after they expired: ${stats.tokens} tokens, ${stats.unauthorized} 401s`);
    console.log(`${label}: ${stats.tokens} tokens issued, ${stats.unauthorized} requests answered 401, ${stats.committed} commits`);
    await noViolations(server, scenario);
  } else {
    check(false, `unknown scenario ${scenario}`);
  }
} catch (e) {
  check(false, `${e.stack}\n${server?.stderr ?? ''}`);
} finally {
  await server?.stop();
  duck.close();
}
finish();
