// Shared pieces of the Iceberg sink's end-to-end tests (iceberg_sink_*.mjs)
// and bench/iceberg_bench.mjs: the seed SQL with a local connection, the
// DuckDB oracle rows, a fetch shim so icebird reads local files, the spec's
// v2 Avro schemas for avsc, and a full read-back of a table (metadata JSON,
// every manifest list and manifest, every data file through DuckDB, the rows
// through icebird) compared with expected rows.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { icebergRead } from 'icebird';
import { DuckDBInstance } from '@duckdb/node-api';
import { decodeAvro, manifestEntrySchema, manifestFileSchema, opt, partitionAvro, resultType } from './iceberg_avro.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// A sink records its entries under "<base>.<sink name>", so writers sharing
// a table each find their own: the value of the first such key.
export function summaryValue(summary, base) {
  if (!summary) return undefined;
  const key = Object.keys(summary).find((k) => k.startsWith(`${base}.`));
  return key === undefined ? undefined : summary[key];
}

export const SEED_SQL_PATH = path.join(here, '../data/sql/seed.sql');

// --name value pairs from argv.
export function cliArgs(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i++) if (argv[i].startsWith('--')) out[argv[i].slice(2)] = argv[i + 1];
  if (out.bin) out.bin = path.resolve(out.bin); // tidewatch runs in other directories
  return out;
}

export function makeChecker(label) {
  let failures = 0, checks = 0;
  const t0 = Date.now();
  return {
    check(ok, what) {
      checks++;
      if (!ok) {
        failures++;
        if (failures <= 40) console.error(`FAIL ${label}: ${what}`);
      }
      return ok;
    },
    get failures() { return failures; },
    finish() {
      console.log(`${label}: ${checks - failures} passed, ${failures} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      process.exit(failures ? 1 : 0);
    },
  };
}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 30, encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  return r;
}

export const shellLine = (cmd, args) => [cmd, ...args.map((a) => (/[\s'*"]/.test(a) ? `'${a}'` : a))].join(' ');

export function gen(bin, n, seed, file, extra = []) {
  const r = run(bin, ['gen', '--count', String(n), '--seed', String(seed), '--out', file, ...extra]);
  if (r.status !== 0) throw new Error(`tidewatch gen failed (${r.status}): ${r.stderr}`);
}

// The seed's SQL with its REST+S3 connection replaced by `connection` (the
// WITH options as text) and extra options appended to the sink's WITH list.
// sinkName/tableName rename the sink and its table; from replaces the view.
export function seedSql({ connection, sinkOptions = {}, sinkName, tableName, from } = {}) {
  let s = fs.readFileSync(SEED_SQL_PATH, 'utf8');
  const conn = /CREATE CONNECTION iceberg_minio_conn WITH \(([\s\S]*?)\);/;
  if (!conn.test(s)) throw new Error('seed.sql: no CREATE CONNECTION iceberg_minio_conn');
  s = s.replace(conn, `CREATE CONNECTION iceberg_minio_conn WITH (\n    type = 'iceberg',\n    ${connection}\n);`);
  const sink = /(CREATE SINK sink_network_anomalies\s+FROM network_anomalies\s+WITH \()([\s\S]*?)\);/;
  const m = sink.exec(s);
  if (!m) throw new Error('seed.sql: no CREATE SINK sink_network_anomalies FROM network_anomalies');
  let body = m[2].trimEnd();
  if (tableName) body = body.replace(/table\.name = '[^']*'/, `table.name = '${tableName}'`);
  for (const [k, v] of Object.entries(sinkOptions)) {
    const re = new RegExp(`\\n\\s*${k.replace('.', '\\.')} = '[^']*',?`);
    body = body.replace(re, '');
    body = body.trimEnd().replace(/,?$/, `,\n    ${k} = '${v}'`);
  }
  let head = m[1];
  if (sinkName) head = head.replace('sink_network_anomalies', sinkName);
  if (from) head = head.replace('FROM network_anomalies', `FROM ${from}`);
  s = s.replace(sink, `${head}${body}\n);`);
  if (sinkName) s = s.replace('DROP SINK IF EXISTS sink_network_anomalies', `DROP SINK IF EXISTS ${sinkName}`);
  return s;
}

export const sqliteConnection = (uri = 'sqlite:catalog.db', warehouse = 'warehouse') =>
  `catalog.type = 'sql',\n    catalog.uri = '${uri}',\n    warehouse.path = '${warehouse}'`;

// ---- DuckDB ----
export async function openDuck() {
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await inst.connect();
  return {
    conn,
    rows: async (sql) => (await conn.runAndReadAll(sql)).getRowObjects(),
    close: () => { conn.closeSync?.(); inst.closeSync?.(); },
  };
}

export const ANOMALY_COLUMNS = ['device_id', 'window_start', 'window_end', 'avg_latency_ms', 'avg_packet_loss_rate',
  'avg_bandwidth_usage', 'is_high_latency', 'is_high_packet_loss', 'is_bandwidth_saturation'];
export const METRIC_10S_COLUMNS = ['device_id', 'window_start', 'window_end', 'avg_latency_ms', 'avg_packet_loss_rate',
  'avg_bandwidth_usage', 'total_flow_bytes'];
export const TS_COLUMNS = new Set(['window_start', 'window_end']);

// The seed pipeline as one batch query over NDJSON files (the oracle's
// tests/oracle/cases/seed.mjs, with several input files).
export function seedDuckSql(files, view = 'network_anomalies') {
  const list = files.map((f) => `'${f}'`).join(', ');
  const metrics = `
    WITH src AS (
      SELECT * FROM read_json([${list}], format='newline_delimited',
        columns={device_id:'VARCHAR', "timestamp":'TIMESTAMP', src_ip:'VARCHAR', dst_ip:'VARCHAR',
                 protocol:'VARCHAR', latency_ms:'DOUBLE', packet_loss_rate:'DOUBLE',
                 bandwidth_usage_percent:'DOUBLE', flow_bytes:'BIGINT'})),
    device_metrics_10s AS (
      SELECT device_id, ws AS window_start, ws + INTERVAL 10 SECOND AS window_end,
             AVG(latency_ms) AS avg_latency_ms, AVG(packet_loss_rate) AS avg_packet_loss_rate,
             AVG(bandwidth_usage_percent) AS avg_bandwidth_usage, SUM(flow_bytes) AS total_flow_bytes
      FROM (SELECT *, make_timestamp((epoch_us("timestamp") // 10000000) * 10000000) AS ws
            FROM src WHERE "timestamp" IS NOT NULL)
      GROUP BY device_id, ws)`;
  if (view === 'device_metrics_10s') return `${metrics} SELECT * FROM device_metrics_10s`;
  return `${metrics}
    SELECT device_id, window_start, window_end, avg_latency_ms, avg_packet_loss_rate, avg_bandwidth_usage,
           avg_latency_ms > 100 AS is_high_latency, avg_packet_loss_rate > 5 AS is_high_packet_loss,
           avg_bandwidth_usage > 90 AS is_bandwidth_saturation
    FROM device_metrics_10s
    WHERE avg_latency_ms > 100 OR avg_packet_loss_rate > 5 OR avg_bandwidth_usage > 90`;
}

// Rows from DuckDB with timestamps as epoch microseconds (Number: they are
// below 2^53), bigints as Number, in `columns` order.
export async function duckRows(duck, sql, columns) {
  const sel = columns.map((c) => (TS_COLUMNS.has(c) ? `epoch_us("${c}") AS "${c}"` : `"${c}"`)).join(', ');
  const rows = await duck.rows(`SELECT ${sel} FROM (${sql})`);
  return rows.map((r) => columns.map((c) => (typeof r[c] === 'bigint' ? Number(r[c]) : r[c])));
}

// ---- row comparison ----
function floatsEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== 'number' || typeof b !== 'number') return false;
  const diff = Math.abs(a - b);
  return diff <= 1e-12 || diff <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

// Compares rows (arrays in `columns` order) keyed by keyCols; returns problems.
// Duplicated keys on either side are problems too.
export function compareRows(got, exp, columns, keyCols, gotName = 'table', expName = 'oracle') {
  const problems = [];
  const ki = keyCols.map((k) => columns.indexOf(k));
  const keyOf = (r) => JSON.stringify(ki.map((i) => r[i]));
  const index = (rows, name) => {
    const m = new Map();
    for (const r of rows) {
      const k = keyOf(r);
      if (m.has(k)) problems.push(`${name} has key ${k} twice`);
      m.set(k, r);
    }
    return m;
  };
  const g = index(got, gotName), e = index(exp, expName);
  if (got.length !== exp.length) problems.push(`${gotName} has ${got.length} rows, ${expName} ${exp.length}`);
  let shown = 0;
  for (const [k, er] of e) {
    const gr = g.get(k);
    if (!gr) { if (shown++ < 5) problems.push(`only in ${expName}: ${JSON.stringify(er)}`); continue; }
    const bad = columns.filter((c, i) => !(gr[i] === er[i] || floatsEqual(gr[i], er[i])));
    if (bad.length && shown++ < 5) problems.push(`differ in [${bad}]: ${gotName} ${JSON.stringify(gr)} ${expName} ${JSON.stringify(er)}`);
  }
  for (const [k, gr] of g) if (!e.has(k) && shown++ < 10) problems.push(`only in ${gotName}: ${JSON.stringify(gr)}`);
  return problems;
}

// ---- file access for icebird: fetch over local paths ----
export const localPath = (loc) => decodeURI(loc).replace(/^file:\/\//, '').replace(/^file:/, '');
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const url = typeof input === 'string' ? input : input.url;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file:')) return realFetch(input, init);
  const p = localPath(url);
  if (!fs.existsSync(p)) return new Response('not found', { status: 404, statusText: 'Not Found' });
  const bytes = fs.readFileSync(p);
  if ((init.method || 'GET') === 'HEAD')
    return new Response(null, { status: 200, headers: { 'content-length': String(bytes.length) } });
  const range = new Headers(init.headers || {}).get('range');
  if (range) {
    const m = /bytes=(\d+)-(\d*)/.exec(range);
    const start = Number(m[1]), end = m[2] ? Number(m[2]) + 1 : bytes.length;
    return new Response(bytes.subarray(start, end), { status: 206,
      headers: { 'content-length': String(end - start), 'content-range': `bytes ${start}-${end - 1}/${bytes.length}` } });
  }
  return new Response(bytes, { status: 200, headers: { 'content-length': String(bytes.length) } });
};

// icebird applies an equality delete with `row[key] !== delete[key]`, so two
// Dates for the same timestamp never match and deletes keyed by a timestamp
// column are silently skipped. Interning the Dates that icebird's hyparquet
// builds (one object per instant) makes that comparison compare instants.
{
  const icebirdDir = path.dirname(path.dirname(fileURLToPath(import.meta.resolve('icebird'))));
  const candidates = [path.join(icebirdDir, 'node_modules/hyparquet/src/convert.js'),
    path.join(icebirdDir, '../hyparquet/src/convert.js')];
  const convert = candidates.find((c) => fs.existsSync(c));
  if (!convert) throw new Error(`cannot find the hyparquet icebird uses (looked at ${candidates})`);
  const { DEFAULT_PARSERS } = await import(pathToFileURL(convert).href);
  const interned = new Map();
  const intern = (ms) => {
    let d = interned.get(ms);
    if (!d) interned.set(ms, (d = new Date(ms)));
    return d;
  };
  DEFAULT_PARSERS.timestampFromMicroseconds = (us) => intern(Number(us / 1000n));
  DEFAULT_PARSERS.timestampFromMilliseconds = (ms) => intern(Number(ms));
}


// The metadata_location the SQL catalog holds for a table (sqlite3 CLI).
export function sqliteMetadataLocation(db, table, namespace = 'public', catalog = 'default') {
  const r = run('sqlite3', [db, `SELECT metadata_location FROM iceberg_tables WHERE catalog_name = '${catalog}' ` +
    `AND table_namespace = '${namespace}' AND table_name = '${table}'`]);
  if (r.status !== 0) throw new Error(`sqlite3 ${db}: ${r.stderr}`);
  return r.stdout.trim();
}

// Reads a table back completely and checks it against the spec; returns
// {metadata, current, files, icebird, duckdb} where icebird and duckdb are
// the rows (arrays in `columns` order) each reader returned, or null when
// the table could not be read. `check` records failures.
export async function readBack({ check, where, metadataLocation, columns, duck }) {
  const out = { metadata: null, current: null, files: [], icebird: null, duckdb: null };
  if (!check(metadataLocation && fs.existsSync(localPath(metadataLocation)),
    `${where}: metadata ${metadataLocation} exists`)) return out;
  check(path.isAbsolute(localPath(metadataLocation)), `${where}: metadata location ${metadataLocation} is absolute`);
  const metadata = JSON.parse(fs.readFileSync(localPath(metadataLocation), 'utf8'));
  out.metadata = metadata;
  check(metadata['format-version'] === 2, `${where}: format-version 2`);
  check(path.isAbsolute(localPath(metadata.location)), `${where}: table location ${metadata.location} is absolute`);
  for (const key of ['table-uuid', 'location', 'last-sequence-number', 'last-updated-ms', 'last-column-id', 'schemas',
    'current-schema-id', 'partition-specs', 'default-spec-id', 'last-partition-id', 'sort-orders',
    'default-sort-order-id', 'properties', 'current-snapshot-id', 'refs', 'snapshots', 'snapshot-log', 'metadata-log'])
    check(key in metadata, `${where}: metadata has ${key}`);
  const snapIds = new Set(metadata.snapshots.map((s) => s['snapshot-id']));
  check(snapIds.size === metadata.snapshots.length, `${where}: snapshot ids unique`);
  check(metadata['last-sequence-number'] === Math.max(0, ...metadata.snapshots.map((s) => s['sequence-number'])),
    `${where}: last-sequence-number is the newest snapshot's`);
  for (const s of metadata.snapshots) {
    check(Number.isSafeInteger(s['snapshot-id']) && s['snapshot-id'] > 0, `${where}: snapshot id ${s['snapshot-id']} below 2^53`);
    check(s['parent-snapshot-id'] === undefined || snapIds.has(s['parent-snapshot-id']), `${where}: parent exists`);
    for (const k of ['total-records', 'added-records', 'operation'])
      check(s.summary && s.summary[k] !== undefined, `${where}: snapshot ${s['snapshot-id']} summary has ${k}`);
    const positions = summaryValue(s.summary, 'tidewatch.positions');
    const watermark = summaryValue(s.summary, 'tidewatch.watermark-us');
    let positionsOk = false;
    try { positionsOk = typeof JSON.parse(positions) === 'object'; } catch { /* checked below */ }
    check(positionsOk, `${where}: tidewatch.positions.<sink> is a JSON object: ${positions}`);
    check(/^-?\d+$/.test(watermark ?? ''), `${where}: tidewatch.watermark-us.<sink> is an integer`);
  }
  if (metadata['current-snapshot-id'] === undefined || metadata['current-snapshot-id'] === null ||
    metadata['current-snapshot-id'] === -1) {
    out.icebird = [];
    out.duckdb = [];
    return out;
  }
  check(metadata.refs?.main?.['snapshot-id'] === metadata['current-snapshot-id'], `${where}: refs.main is current`);
  const current = metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id']);
  out.current = current;
  if (!check(current, `${where}: current snapshot listed`)) return out;

  const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
  check(columns.every((c) => schema.fields.some((f) => f.name === c)), `${where}: schema has ${columns}`);
  const spec = metadata['partition-specs'].find((s) => s['spec-id'] === metadata['default-spec-id']);
  const partitionFields = spec.fields.map((f) => opt(f.name, partitionAvro[resultType(f.transform,
    schema.fields.find((c) => c.id === f['source-id']).type)], f['field-id']));
  const entrySchema = manifestEntrySchema(partitionFields);

  let liveRecords = 0n, liveEqDeletes = 0n;
  for (const snap of metadata.snapshots) {
    const ml = localPath(snap['manifest-list']);
    if (!check(fs.existsSync(ml), `${where}: manifest list ${ml} exists`)) continue;
    const lst = await decodeAvro(ml, manifestFileSchema);
    for (const m of lst.records) {
      const mp = localPath(m.manifest_path);
      if (!check(fs.existsSync(mp), `${where}: manifest ${mp} exists`)) continue;
      const man = await decodeAvro(mp, entrySchema);
      const meta = Object.fromEntries(Object.entries(man.header.meta).map(([k, v]) => [k, v.toString()]));
      for (const key of ['schema', 'schema-id', 'partition-spec', 'partition-spec-id', 'format-version', 'content'])
        check(key in meta, `${where}: manifest metadata has ${key}`);
      check(meta.content === (m.content === 1 ? 'deletes' : 'data'), `${where}: manifest content key`);
      const df = JSON.parse(meta['avro.schema']).fields.find((f) => f.name === 'data_file');
      check(df['field-id'] === 2 && df.type.fields.find((f) => f.name === 'upper_bounds')['field-id'] === 128,
        `${where}: manifest writer schema field ids`);
      check(man.records.length === m.added_files_count + m.existing_files_count + m.deleted_files_count,
        `${where}: manifest entry count`);
      if (snap === current) {
        for (const e of man.records) {
          if (e.status === 2) continue;
          out.files.push({ ...e.data_file, sequence_number: e.sequence_number ?? m.sequence_number });
          if (e.data_file.content === 0) liveRecords += e.data_file.record_count;
          else liveEqDeletes += e.data_file.record_count;
        }
      }
      if (m.added_snapshot_id === BigInt(snap['snapshot-id'])) {
        check(m.sequence_number === BigInt(snap['sequence-number']), `${where}: new manifest's sequence number`);
        for (const e of man.records)
          check(e.status === 1 && e.snapshot_id === BigInt(snap['snapshot-id']), `${where}: added entry of its snapshot`);
      }
    }
  }
  check(String(liveRecords) === current.summary['total-records'],
    `${where}: total-records ${current.summary['total-records']} vs live data records ${liveRecords}`);
  check(String(liveEqDeletes) === (current.summary['total-equality-deletes'] ?? '0'),
    `${where}: total-equality-deletes ${current.summary['total-equality-deletes']} vs ${liveEqDeletes}`);

  // DuckDB reads every file; the counts are the manifest's.
  const byName = Object.fromEntries(schema.fields.map((f) => [f.name, f.id]));
  const dataRows = [];
  for (const f of out.files) {
    const p = localPath(f.file_path);
    if (!check(fs.existsSync(p), `${where}: data file ${p} exists`)) continue;
    let rows;
    try {
      if (f.content !== 0) {
        const names = f.equality_ids.map((id) => schema.fields.find((x) => x.id === id).name);
        f.rows = await duckRows(duck, `SELECT * FROM read_parquet('${p}')`, names);
        f.columns = names;
        check(BigInt(f.rows.length) === f.record_count, `${where}: ${p} has ${f.rows.length} rows, manifest says ${f.record_count}`);
        continue;
      }
      rows = await duckRows(duck, `SELECT * FROM read_parquet('${p}')`, columns);
    } catch (e) {
      check(false, `${where}: DuckDB read_parquet('${p}'): ${e.message}`);
      continue;
    }
    check(BigInt(rows.length) === f.record_count, `${where}: ${p} has ${rows.length} rows, manifest says ${f.record_count}`);
    for (const c of columns) {
      const id = byName[c];
      check(f.value_counts?.find((kv) => kv.key === id)?.value === f.record_count, `${where}: ${p} value count of ${c}`);
      check(f.null_value_counts?.some((kv) => kv.key === id), `${where}: ${p} null count of ${c}`);
    }
    f.rows = rows;
    dataRows.push(...rows);
  }
  out.duckdb = dataRows;

  // icebird (equality deletes applied).
  try {
    const got = await icebergRead({ tableUrl: metadata.location, metadataFileName: localPath(metadataLocation).split('/').pop() });
    out.icebird = got.map((r) => columns.map((c) => {
      const v = r[c];
      if (v === undefined || v === null) return null;
      if (v instanceof Date) return v.getTime() * 1000;
      if (typeof v === 'bigint') return Number(v);
      return v;
    }));
  } catch (e) {
    check(false, `${where}: icebird read failed: ${e.stack || e.message}`);
  }
  return out;
}

// Merge on read by hand: the rows of the data files readBack returned, less
// those an equality delete with a higher sequence number matches.
export function applyEqualityDeletes(files, columns) {
  const deletes = files.filter((f) => f.content === 2);
  const rows = [];
  for (const f of files.filter((x) => x.content === 0)) {
    for (const r of f.rows ?? []) {
      const dead = deletes.some((d) => d.sequence_number > f.sequence_number && (d.rows ?? []).some((k) =>
        d.columns.every((c, i) => k[i] === r[columns.indexOf(c)])));
      if (!dead) rows.push(r);
    }
  }
  return rows;
}

// Timestamps at ms precision, as icebird returns them.
export const toMs = (rows, columns) => rows.map((r) => r.map((v, i) => (TS_COLUMNS.has(columns[i]) && v !== null ? Math.floor(v / 1000) * 1000 : v)));
