#!/usr/bin/env node
// The seed pipeline writes its Iceberg table into S3: the seed's SQL with a
// SQLite catalog and warehouse.path = 's3://wh/warehouse', and the s3.*
// options exactly as the seed writes them (only the endpoint changed to the
// test server: s3rver behind a proxy that verifies every request with AWS's
// SigV4 signer, optionally injecting 5xx and stopping for a while). Then:
//   - every request tidewatch sent verified, every payload signed;
//   - the AWS CLI lists the table's objects (metadata JSON, manifest lists,
//     manifests, data files) and the catalog points at the newest metadata;
//   - the AWS CLI fetches them; DuckDB's read_parquet reads every data file
//     and the rows equal the DuckDB oracle's exactly;
//   - icebird reads the table over HTTP from the S3 server and its rows equal
//     the oracle's (timestamps at ms).
//
//   node s3_sink.mjs --bin BUILD/tidewatch --count 200000 --workdir DIR [--fault-rate 0.1] [--pause-ms 20000]
import fs from 'node:fs';
import path from 'node:path';
import { icebergManifests, icebergRead } from 'icebird';
import {
  ANOMALY_COLUMNS, compareRows, duckRows, gen, openDuck, run, seedDuckSql, seedSql, shellLine,
  sqliteMetadataLocation, toMs,
} from './iceberg_sink_lib.mjs';
import { aws, awsList, cliArgs, makeChecker, startS3 } from './s3_lib.mjs';

const args = cliArgs();
const bin = path.resolve(args.bin);
const n = Number(args.count ?? 100000);
const faultRate = Number(args['fault-rate'] ?? 0);
const pauseMs = Number(args['pause-ms'] ?? 0);
const workdir = path.resolve(args.workdir);
const label = `s3_sink(${n} lines${faultRate ? `, ${faultRate * 100}% 5xx injected` : ''}${pauseMs ? `, server down ${pauseMs / 1000} s` : ''})`;
const { check, finish } = makeChecker(label);
fs.rmSync(workdir, { recursive: true, force: true });
fs.mkdirSync(workdir, { recursive: true });

const input = path.join(workdir, 'metrics.ndjson');
gen(bin, n, 1, input);
const s3 = await startS3({ dir: path.join(workdir, 's3rver'), buckets: ['wh'], faultRate, seed: 3 });
try {
  const connection = [
    "catalog.type = 'sql'",
    "catalog.uri = 'sqlite:catalog.db'",
    "warehouse.path = 's3://wh/warehouse'",
    `s3.endpoint = '${s3.endpoint}'`,
    "s3.access.key = 'minioadmin'",
    "s3.secret.key = 'minioadmin'",
    "s3.region = 'us-east-1'",
    "s3.path.style.access = 'true'",
  ].join(',\n    ');
  const sqlFile = path.join(workdir, 'seed_s3.sql');
  // Several commits, so the table has a history to read.
  fs.writeFileSync(sqlFile, seedSql({ connection, sinkOptions: { commit_checkpoint_interval: '1' } }));
  const twArgs = ['run', '--exit-at-eof', '--quiet', '--data-dir', path.join(workdir, 'data'), '--barrier-interval', '5', '--threads', '1',
    '--source', `network_metrics_source=file:${input}`, sqlFile];
  // No AWS_* in the environment: the credentials must come from the connection.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  // The server goes down when the 8th request arrives: the first commit's
  // files are being written.
  if (pauseMs) await s3.pause(pauseMs, 8);
  const r = run(bin, twArgs, { cwd: workdir, env });
  if (!check(r.status === 0, `tidewatch exited ${r.status ?? r.signal}\n  command: ${shellLine(bin, twArgs)}\n  stderr: ${r.stderr.slice(0, 3000)}`))
    throw new Error('tidewatch failed');
  check(!r.stderr.includes('minioadmin'), 'the secret never appears in the output');
  if (faultRate > 0 || pauseMs > 0) check(/S3 at .* retrying in/.test(r.stderr), 'tidewatch reports its S3 retries');
  if (pauseMs > 0) check((await s3.stats()).pauses === 1, 'the server was stopped mid-run');

  const st = await s3.stats();
  check(st.violations.length === 0, `every request verified by AWS's signer: ${st.violations.slice(0, 3).join('\n  ')}`);
  check(st.unsigned === 0 && st.byAgent.tidewatch > 5, `tidewatch's requests (${st.byAgent.tidewatch}) all carry a signed payload`);

  // The catalog points into S3; the AWS CLI lists the table.
  const location = sqliteMetadataLocation(path.join(workdir, 'data', 'catalog.db'), 'network_anomalies_history');
  check(location.startsWith('s3://wh/warehouse/public/network_anomalies_history/metadata/'), `catalog points into S3: ${location}`);
  const objects = await awsList(s3.s3rver, 's3://wh/warehouse/');
  const keys = [...objects.keys()];
  const prefix = 'warehouse/public/network_anomalies_history/';
  const metadataFiles = keys.filter((k) => k.startsWith(`${prefix}metadata/`) && k.endsWith('.metadata.json')).sort();
  check(metadataFiles.length >= 2, `metadata files listed: ${metadataFiles.length}`);
  check(`s3://wh/${metadataFiles[metadataFiles.length - 1]}` === location, `the catalog points at the newest metadata file ${metadataFiles[metadataFiles.length - 1]}`);
  check(keys.some((k) => k.startsWith(`${prefix}data/`) && k.endsWith('.parquet')), 'data files listed');
  check(keys.some((k) => /metadata\/snap-.*\.avro$/.test(k)), 'manifest lists listed');

  // The AWS CLI fetches everything; DuckDB reads the current data files.
  const mirror = path.join(workdir, 'mirror');
  const cp = await aws(s3.s3rver, ['s3', 'cp', '--recursive', '--only-show-errors', 's3://wh/', mirror]);
  check(cp.status === 0, `aws s3 cp --recursive: ${cp.stderr}`);
  const local = (loc) => path.join(mirror, loc.replace(/^s3:\/\/wh\//, ''));
  const metadata = JSON.parse(fs.readFileSync(local(location), 'utf8'));
  check(metadata.location === 's3://wh/warehouse/public/network_anomalies_history', `table location ${metadata.location}`);
  check(metadata.snapshots.length >= 2, `several commits: ${metadata.snapshots.length} snapshots`);

  const duck = await openDuck();
  const expected = await duckRows(duck, seedDuckSql([input]), ANOMALY_COLUMNS);
  check(expected.length > 0, 'the oracle finds anomalies in the generated input');

  // icebird over HTTP: its s3:// -> https://BUCKET.s3.amazonaws.com/KEY URLs
  // go to the local S3 server (path style) instead.
  let httpGets = 0;
  const prevFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input.url;
    const m = /^https:\/\/([^./]+)\.s3\.amazonaws\.com\/(.*)$/.exec(url);
    if (!m) return prevFetch(input, init);
    httpGets++;
    return prevFetch(`${s3.s3rver}/${m[1]}/${m[2]}`, init);
  };
  let icebird = null;
  try {
    const got = await icebergRead({ tableUrl: metadata.location, metadataFileName: location.split('/').pop() });
    icebird = got.map((row) => ANOMALY_COLUMNS.map((c) => {
      const v = row[c];
      if (v === undefined || v === null) return null;
      if (v instanceof Date) return v.getTime() * 1000;
      return typeof v === 'bigint' ? Number(v) : v;
    }));
  } catch (e) {
    check(false, `icebird read failed: ${e.stack || e.message}`);
  }
  check(httpGets > 0, `icebird read ${httpGets} objects over HTTP from the S3 server`);
  if (icebird) for (const p of compareRows(icebird, toMs(expected, ANOMALY_COLUMNS), ANOMALY_COLUMNS, ['device_id', 'window_start'], 'icebird', 'oracle'))
    check(false, p);

  // DuckDB over the live data files of the current snapshot (the manifests
  // list them; the bytes are the AWS CLI's copies).
  const manifests = await icebergManifests(metadata);
  const dataFiles = manifests.flatMap((m) => m.entries).filter((e) => e.status !== 2 && !e.data_file.content)
    .map((e) => local(e.data_file.file_path));
  check(dataFiles.length > 0 && dataFiles.every((f) => fs.existsSync(f)), `the ${dataFiles.length} live data files were fetched`);
  const rows = await duckRows(duck, `SELECT * FROM read_parquet([${dataFiles.map((f) => `'${f}'`).join(', ')}])`, ANOMALY_COLUMNS);
  for (const p of compareRows(rows, expected, ANOMALY_COLUMNS, ['device_id', 'window_start'], 'read_parquet', 'oracle')) check(false, p);
  duck.close();
  console.log(`${label}: ${expected.length} oracle rows, ${metadata.snapshots.length} snapshots, ${dataFiles.length} data files, ` +
    `${st.verified} requests verified, ${st.injectedBefore + st.injectedAfter} faults injected`);
} catch (e) {
  check(false, e.stack || e.message);
} finally {
  await s3.stop();
}
finish();
