#!/usr/bin/env node
// The seed's Iceberg sink through a REST catalog into S3, as the seed runs
// it against Lakekeeper and MinIO: tests/tools/rest_catalog_server.mjs in
// its S3 mode (Lakekeeper's layout: /catalog/v1/config?warehouse=rw_iceberg
// answers a prefix in overrides, tables live at
// s3://lakehouse/rw/<warehouse-id>/<table-uuid>, the catalog writes the
// metadata files into S3 and returns the table config) in front of s3rver
// behind the SigV4-verifying proxy (s3_server.mjs). Then:
//   - the catalog saw zero contract violations, S3 zero signature failures;
//   - the AWS CLI lists the metadata JSON, manifest lists, manifests and
//     data files, the newest metadata file is the catalog's, and fetches
//     them all;
//   - icebird reads the table over HTTP from the S3 server and DuckDB reads
//     the current data files; both equal the DuckDB oracle's rows;
//   - no secret appears in tidewatch's output.
// Scenarios:
//   seed     tests/data/sql/seed.sql verbatim, only localhost:8181 and
//            localhost:9000 changed to the test servers. The catalog
//            advertises s3.endpoint http://minio:9000 (what Lakekeeper in
//            docker compose says): the connection's s3.endpoint must win.
//            The connection has its keys, so tidewatch asks for none.
//   vended   the connection has only catalog.type, catalog.uri and
//            warehouse.path: endpoint, region, path style and keys all come
//            from the catalog's LoadTableResult config (asked for with
//            X-Iceberg-Access-Delegation: vended-credentials).
//   storage  as vended, with the keys in storage-credentials instead.
//   rotate   as vended, but every table load vends the other of two keys
//            (renewed credentials): tidewatch's S3 requests, seen by a
//            recording pass-through in front of the S3 server, switch to
//            the new key from one commit to the next.
//
//   node rest_s3.mjs --bin TIDEWATCH --server SERVER.mjs --spec SPEC.yaml --workdir DIR --scenario S
//        [--count N]
// docs/benchmarks.md takes its REST+S3 commit-cycle figure from a vended
// run with --count 2000000 (2000 s of event time: more commits).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { icebergManifests, icebergRead } from 'icebird';
import {
  ANOMALY_COLUMNS, SEED_SQL_PATH, cliArgs, compareRows, duckRows, gen, makeChecker, openDuck, seedDuckSql, seedSql,
  shellLine, toMs,
} from './iceberg_sink_lib.mjs';
import { aws, awsList, runAsync, startS3 } from './s3_lib.mjs';

const args = cliArgs();
if (!args.bin || !args.server || !args.spec || !args.workdir || !args.scenario) {
  console.error('usage: rest_s3.mjs --bin TIDEWATCH --server SERVER.mjs --spec SPEC.yaml --workdir DIR --scenario seed|vended|storage [--count N]');
  process.exit(2);
}
const scenario = args.scenario;
if (!['seed', 'vended', 'storage', 'rotate'].includes(scenario)) {
  console.error(`rest_s3.mjs: unknown scenario ${scenario}`);
  process.exit(2);
}
const n = Number(args.count ?? 50000);
const workdir = path.resolve(args.workdir);
const label = `rest_s3(${scenario}, ${path.basename(args.bin)}, ${n} lines)`;
const { check, finish } = makeChecker(label);
fs.rmSync(workdir, { recursive: true, force: true });
fs.mkdirSync(workdir, { recursive: true });

const BUCKET = 'lakehouse';
const WAREHOUSE = `s3://${BUCKET}/rw`;
// The catalog's own key for S3, which it also vends; the seed's connection
// signs with minioadmin.
const CATALOG_KEY = 'S3RVER';

async function startCatalog(s3Endpoint, recorder) {
  const extra = scenario === 'seed' ? ['--s3-advertised-endpoint', 'http://minio:9000', '--vend-credentials', 'config']
    : ['--vend-credentials', scenario === 'storage' ? 'storage-credentials' : 'config'];
  if (recorder) extra.push('--s3-advertised-endpoint', recorder.endpoint, '--vend-keys', 'minioadmin:minioadmin,S3RVER:S3RVER');
  const proc = spawn(process.execPath, [args.server, '--spec', args.spec, '--root', path.join(workdir, 'unused-local-root'),
    '--violations-file', path.join(workdir, 'violations.ndjson'), '--warehouse', 'rw_iceberg',
    '--s3-warehouse', WAREHOUSE, '--s3-endpoint', s3Endpoint, '--s3-access-key', CATALOG_KEY, '--s3-secret-key', CATALOG_KEY,
    '--s3-region', 'us-east-1', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: proc.stdout });
    lines.on('line', (l) => { const m = /^listening (\d+)$/.exec(l); if (m) resolve(Number(m[1])); });
    proc.on('exit', (code) => reject(new Error(`catalog server exited ${code}: ${stderr}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    port, base,
    get stderr() { return stderr; },
    json: async (p) => (await fetch(`${base}${p}`)).json(),
    stop: () => new Promise((resolve) => { proc.once('exit', resolve); proc.kill('SIGTERM'); }),
  };
}

// The SQL tidewatch runs: the seed file with only hosts and ports changed
// (seed), or the seed with a connection that names no S3 settings.
function pipelineSql(catalog, s3) {
  if (scenario === 'seed') {
    const seed = fs.readFileSync(SEED_SQL_PATH, 'utf8');
    const sql = seed.replaceAll('localhost:8181', `127.0.0.1:${catalog.port}`)
      .replaceAll('localhost:9000', new URL(s3.endpoint).host);
    const conn = (s) => /CREATE CONNECTION iceberg_minio_conn WITH \(([\s\S]*?)\);/.exec(s)[1];
    check(conn(sql).replace(/127\.0\.0\.1:\d+/g, 'HOST') === conn(seed).replace(/localhost:\d+/g, 'HOST'),
      'the CREATE CONNECTION is the seed\'s, hosts and ports aside');
    return sql;
  }
  return seedSql({
    connection: `catalog.type = 'rest',\n    catalog.uri = 'http://127.0.0.1:${catalog.port}/catalog',\n    warehouse.path = 'rw_iceberg'`,
    sinkOptions: { commit_checkpoint_interval: '1' },
  });
}

// A pass-through in front of the S3 server that records the access key of
// each request (headers and body forwarded untouched: the signed Host is
// this one's, which the verifying proxy takes from the header).
async function startRecorder(target) {
  const to = new URL(target);
  const keys = [];
  const server = http.createServer((req, res) => {
    keys.push(/Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? null);
    const up = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${server.address().port}`, keys, stop: () => new Promise((resolve) => server.close(resolve)) };
}

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
}

// icebird turns s3://BUCKET/KEY into https://BUCKET.s3.amazonaws.com/KEY:
// those GETs go to the test S3 server, path style.
function routeIcebirdTo(s3rver) {
  const counter = { gets: 0 };
  const prevFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input.url;
    const m = /^https:\/\/([^./]+)\.s3\.amazonaws\.com\/(.*)$/.exec(url);
    if (!m) return prevFetch(input, init);
    counter.gets++;
    return prevFetch(`${s3rver}/${m[1]}/${m[2]}`, init);
  };
  return counter;
}

const input = path.join(workdir, 'metrics.ndjson');
gen(args.bin, n, 1, input);
const s3 = await startS3({ dir: path.join(workdir, 's3rver'), buckets: [BUCKET] });
let catalog, recorder;
const duck = await openDuck();
try {
  if (scenario === 'rotate') recorder = await startRecorder(s3.endpoint);
  catalog = await startCatalog(s3.endpoint, recorder);
  const sqlFile = path.join(workdir, `${scenario}.sql`);
  fs.writeFileSync(sqlFile, pipelineSql(catalog, s3));
  const twArgs = ['run', '--exit-at-eof', '--quiet', '--http', 'off', '--data-dir', path.join(workdir, 'data'),
    '--barrier-interval', '5', '--threads', '1', '--source', `network_metrics_source=file:${input}`, sqlFile];
  // AWS_* emptied (tidewatch reads an empty one as unset): settings come
  // from the connection or the catalog.
  const noAws = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('AWS_')).map((k) => [k, '']));
  const r = await runAsync(args.bin, twArgs, { cwd: workdir, env: noAws });
  if (!check(r.status === 0, `tidewatch exited ${r.status}\n  command: ${shellLine(args.bin, twArgs)}\n  stderr: ${r.stderr.slice(0, 3000)}`))
    throw new Error('tidewatch failed');
  check(!r.stderr.includes('minioadmin') && !r.stderr.includes(CATALOG_KEY), 'no key or secret appears in tidewatch\'s output');
  if (recorder) {
    const switches = recorder.keys.filter((k, i) => i > 0 && k !== recorder.keys[i - 1]).length;
    const commits = (await catalog.json('/__stats')).committed;
    check(recorder.keys.every((k) => k === 'minioadmin' || k === 'S3RVER'), `tidewatch signed only with vended keys: ${[...new Set(recorder.keys)]}`);
    check(commits >= 3 && switches === commits - 1, `renewed keys taken up between commits: ${switches} key switches over ${commits} commits`);
  }

  // Both servers' views.
  const violations = await catalog.json('/__violations');
  check(violations.length === 0, `${violations.length} contract violations, first: ${JSON.stringify(violations[0])?.slice(0, 1500)}`);
  const stats = await catalog.json('/__stats');
  if (scenario === 'seed') check(stats.vended === 0, `the connection has keys: tidewatch asked for none (${stats.vended} vended)`);
  else check(stats.vended > 0, `tidewatch asked for vended credentials and got them ${stats.vended} times`);
  const st = await s3.stats();
  check(st.violations.length === 0, `every S3 request verified by AWS's signer: ${st.violations.slice(0, 3).join('\n  ')}`);
  check((st.byAgent.tidewatch ?? 0) >= 3 && st.unsigned === 0, `tidewatch's S3 requests (${st.byAgent.tidewatch}) all signed with their payload`);
  check(stats.s3Puts >= 2 && (st.byAgent['rest-catalog-test'] ?? 0) === stats.s3Puts, `the catalog PUT its ${stats.s3Puts} metadata files into S3`);

  // The catalog's answer, as any client reads it (Lakekeeper's path layout).
  const cfg = await catalog.json('/catalog/v1/config?warehouse=rw_iceberg');
  const table = await catalog.json(`/catalog/v1/${cfg.overrides.prefix}/namespaces/public/tables/network_anomalies_history`);
  const location = table['metadata-location'];
  const tableLocation = `${WAREHOUSE}/${cfg.overrides.prefix}/${table.metadata['table-uuid']}`;
  check(table.metadata.location === tableLocation, `table location ${table.metadata.location} is ${tableLocation}`);
  check(location.startsWith(`${tableLocation}/metadata/`), `metadata location ${location} is in the table`);

  // The AWS CLI lists and fetches the table.
  const keyOf = (loc) => loc.slice(`s3://${BUCKET}/`.length);
  const objects = await awsList(s3.s3rver, `${tableLocation}/`);
  const keys = [...objects.keys()];
  const prefix = keyOf(tableLocation);
  const metadataFiles = keys.filter((k) => k.startsWith(`${prefix}/metadata/`) && k.endsWith('.metadata.json')).sort();
  const snapshots = table.metadata.snapshots;
  check(metadataFiles.length === snapshots.length + 1, `aws s3 ls: ${metadataFiles.length} metadata files for ${snapshots.length} commits and the create`);
  check(metadataFiles.at(-1) === keyOf(location), `the newest listed metadata file ${metadataFiles.at(-1)} is the catalog's`);
  const manifestLists = keys.filter((k) => /\/metadata\/snap-[^/]*\.avro$/.test(k));
  const manifests = keys.filter((k) => k.includes('/metadata/') && k.endsWith('.avro') && !/\/snap-[^/]*$/.test(k));
  const dataFiles = keys.filter((k) => k.startsWith(`${prefix}/data/`) && k.endsWith('.parquet'));
  check(manifestLists.length === snapshots.length, `aws s3 ls: ${manifestLists.length} manifest lists for ${snapshots.length} snapshots`);
  check(manifests.length >= snapshots.length, `aws s3 ls: ${manifests.length} manifests`);
  check(dataFiles.length >= snapshots.length, `aws s3 ls: ${dataFiles.length} data files`);
  const mirror = path.join(workdir, 'mirror');
  const cp = await aws(s3.s3rver, ['s3', 'cp', '--recursive', '--only-show-errors', `${tableLocation}/`, mirror]);
  check(cp.status === 0, `aws s3 cp --recursive: ${cp.stderr}`);
  const local = (loc) => path.join(mirror, loc.slice(tableLocation.length + 1));
  const metadata = JSON.parse(fs.readFileSync(local(location), 'utf8'));
  check(metadata['current-snapshot-id'] === table.metadata['current-snapshot-id'] && metadata['table-uuid'] === table.metadata['table-uuid'],
    'the fetched metadata file is the table the catalog serves');
  check(snapshots.length >= 1 && metadata.snapshots.every((s) => fs.existsSync(local(s['manifest-list']))),
    `every snapshot's manifest list was fetched (${metadata.snapshots.length} snapshots)`);

  const expected = await duckRows(duck, seedDuckSql([input]), ANOMALY_COLUMNS);
  check(expected.length > 0, 'the oracle finds anomalies in the generated input');

  // icebird over HTTP from the S3 server.
  const http = routeIcebirdTo(s3.s3rver);
  try {
    const got = await icebergRead({ tableUrl: metadata.location, metadataFileName: location.split('/').pop() });
    const rows = got.map((row) => ANOMALY_COLUMNS.map((c) => {
      const v = row[c];
      if (v === undefined || v === null) return null;
      if (v instanceof Date) return v.getTime() * 1000;
      return typeof v === 'bigint' ? Number(v) : v;
    }));
    for (const p of compareRows(rows, toMs(expected, ANOMALY_COLUMNS), ANOMALY_COLUMNS, ['device_id', 'window_start'], 'icebird', 'oracle'))
      check(false, p);
  } catch (e) {
    check(false, `icebird read failed: ${e.stack || e.message}`);
  }
  check(http.gets > 0, `icebird read ${http.gets} objects over HTTP from the S3 server`);

  // DuckDB over the current snapshot's data files, as the AWS CLI fetched them.
  const live = (await icebergManifests(metadata)).flatMap((m) => m.entries).filter((e) => e.status !== 2 && !e.data_file.content)
    .map((e) => local(e.data_file.file_path));
  check(live.length > 0 && live.every((f) => fs.existsSync(f)), `the ${live.length} live data files were fetched`);
  const rows = await duckRows(duck, `SELECT * FROM read_parquet([${live.map((f) => `'${f}'`).join(', ')}])`, ANOMALY_COLUMNS);
  for (const p of compareRows(rows, expected, ANOMALY_COLUMNS, ['device_id', 'window_start'], 'read_parquet', 'oracle')) check(false, p);

  const cyc = stats.commitCycleMs;
  console.log(`${label}: ${expected.length} oracle rows, ${snapshots.length} snapshots, ${dataFiles.length} data files, ` +
    `${st.verified} S3 requests verified, ${stats.vended} credential vends; commit cycle through the catalog into S3 ` +
    `(load -> commit answer): median ${quantile(cyc, 0.5).toFixed(2)} ms, p95 ${quantile(cyc, 0.95).toFixed(2)} ms over ${cyc.length}`);
} catch (e) {
  check(false, `${e.stack || e.message}\n${catalog?.stderr ?? ''}`);
} finally {
  await catalog?.stop();
  await recorder?.stop();
  await s3.stop();
  duck.close();
}
finish();
