#!/usr/bin/env node
// Independent readers check the Iceberg tables tidewatch's table API wrote
// (tests/tools/iceberg_write), once with the storage catalog and once with
// a SQLite catalog:
//  - avsc decodes the manifest list of every snapshot and every manifest
//    with the v2 Avro schemas written below from the spec (not from the C
//    code), and the manifests' key/value metadata and counts are checked;
//  - icebird reads each table through a fetch shim serving the local
//    files and returns exactly the expected rows (equality deletes applied);
//  - DuckDB's read_parquet reads every data and delete file, with the
//    record count the manifest gives, and bounds equal to the file's
//    min/max of the id column.
//
//   node iceberg_read.mjs --tool BUILD/tests/iceberg_write --workdir DIR
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { icebergRead } from 'icebird';
import { DuckDBInstance } from '@duckdb/node-api';
import { decodeAvro, manifestEntrySchema, manifestFileSchema, opt, partitionAvro, resultType } from './iceberg_avro.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
if (!args.tool || !args.workdir) {
  console.error('usage: iceberg_read.mjs --tool ICEBERG_WRITE --workdir DIR');
  process.exit(2);
}

let failures = 0, checks = 0;
function check(ok, what) {
  checks++;
  if (!ok) {
    failures++;
    if (failures <= 40) console.error(`FAIL ${what}`);
  }
}

const localPath = (loc) => loc.replace(/^file:\/\//, '').replace(/^file:/, '');

// fetch for file:// URLs (icebird and hyparquet fetch everything), with
// Range and HEAD as hyparquet uses them.
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const url = typeof input === 'string' ? input : input.url;
  if (!url.startsWith('file:') && !url.startsWith('/')) return realFetch(input, init);
  const path = localPath(url); // file paths in metadata are literal, not URL-encoded
  if (!existsSync(path)) return new Response('not found', { status: 404, statusText: 'Not Found' });
  const bytes = readFileSync(path);
  const headers = new Headers(init.headers || {});
  if ((init.method || 'GET') === 'HEAD')
    return new Response(null, { status: 200, headers: { 'content-length': String(bytes.length) } });
  const range = headers.get('range');
  if (range) {
    const m = /bytes=(\d+)-(\d*)/.exec(range);
    const start = Number(m[1]), end = m[2] ? Number(m[2]) + 1 : bytes.length;
    return new Response(bytes.subarray(start, end), { status: 206,
      headers: { 'content-length': String(end - start), 'content-range': `bytes ${start}-${end - 1}/${bytes.length}` } });
  }
  return new Response(bytes, { status: 200, headers: { 'content-length': String(bytes.length) } });
};


// The id column's bound: an 8-byte little-endian long.
const boundLong = (buf) => buf.readBigInt64LE(0);

// ---- per catalog ----
const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
const conn = await inst.connect();
const rowsOf = async (sql) => (await conn.runAndReadAll(sql)).getRowObjects();

function normIcebird(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.getTime();
  return v;
}
function normExpected(v, column) {
  if (v === null) return null;
  if (column === 'ts') return Math.floor(Number(v) / 1000); // icebird gives Dates (ms)
  return v;
}

async function checkTable(catalog, name, exp, metadataLocation) {
  const where = `${catalog}/${name}`;
  const metadata = JSON.parse(readFileSync(localPath(metadataLocation), 'utf8'));
  check(metadata['format-version'] === 2, `${where}: format-version 2`);
  for (const key of ['table-uuid', 'location', 'last-sequence-number', 'last-updated-ms', 'last-column-id', 'schemas',
    'current-schema-id', 'partition-specs', 'default-spec-id', 'last-partition-id', 'sort-orders',
    'default-sort-order-id', 'properties', 'current-snapshot-id', 'refs', 'snapshots', 'snapshot-log', 'metadata-log'])
    check(key in metadata, `${where}: metadata has ${key}`);
  check(metadata.snapshots.length === exp.snapshots, `${where}: ${metadata.snapshots.length} snapshots, expected ${exp.snapshots}`);
  check(metadata.refs.main['snapshot-id'] === metadata['current-snapshot-id'], `${where}: refs.main is current`);
  check(metadata['last-sequence-number'] === exp.snapshots, `${where}: last-sequence-number`);
  const snapIds = new Set(metadata.snapshots.map((s) => s['snapshot-id']));
  check(snapIds.size === metadata.snapshots.length, `${where}: snapshot ids unique`);
  for (const s of metadata.snapshots) {
    check(Number.isSafeInteger(s['snapshot-id']) && s['snapshot-id'] > 0, `${where}: snapshot id below 2^53`);
    check(s['parent-snapshot-id'] === undefined || snapIds.has(s['parent-snapshot-id']), `${where}: parent exists`);
  }
  const current = metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id']);
  check(current.summary['tidewatch.positions'] === exp.positions, `${where}: summary carries tidewatch.positions`);
  check(current.summary['total-records'] !== undefined, `${where}: summary has total-records`);

  const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
  const spec = metadata['partition-specs'].find((s) => s['spec-id'] === metadata['default-spec-id']);
  const partitionFields = spec.fields.map((f) => opt(f.name, partitionAvro[resultType(f.transform,
    schema.fields.find((c) => c.id === f['source-id']).type)], f['field-id']));
  const entrySchema = manifestEntrySchema(partitionFields);

  // Every snapshot's manifest list and manifests.
  let liveRecords = 0n, liveDeletes = 0n;
  const files = [];
  for (const snap of metadata.snapshots) {
    const list = await decodeAvro(localPath(snap['manifest-list']), manifestFileSchema);
    check(list.records.length > 0 || snap.summary['added-data-files'] === undefined, `${where}: manifest list not empty`);
    for (const m of list.records) {
      check(existsSync(localPath(m.manifest_path)), `${where}: manifest ${m.manifest_path} exists`);
      const man = await decodeAvro(localPath(m.manifest_path), entrySchema);
      const meta = Object.fromEntries(Object.entries(man.header.meta).map(([k, v]) => [k, v.toString()]));
      for (const key of ['schema', 'schema-id', 'partition-spec', 'partition-spec-id', 'format-version', 'content'])
        check(key in meta, `${where}: manifest metadata has ${key}`);
      check(meta['format-version'] === '2', `${where}: manifest format-version`);
      check(meta.content === (m.content === 1 ? 'deletes' : 'data'), `${where}: manifest content key`);
      check(JSON.parse(meta['partition-spec']).length === spec.fields.length, `${where}: manifest partition-spec`);
      const writerSchema = JSON.parse(meta['avro.schema']);
      const df = writerSchema.fields.find((f) => f.name === 'data_file');
      check(df['field-id'] === 2 && df.type.fields.find((f) => f.name === 'upper_bounds')['field-id'] === 128,
        `${where}: writer schema field ids`);
      check(man.records.length === m.added_files_count + m.existing_files_count + m.deleted_files_count,
        `${where}: manifest entry count`);
      check(m.partitions === null ? spec.fields.length === 0 : m.partitions.length === spec.fields.length,
        `${where}: field summaries`);
      if (snap === current) {
        for (const e of man.records) {
          const f = e.data_file;
          files.push({ ...f, sequence_number: e.sequence_number ?? m.sequence_number });
          if (f.content === 0) liveRecords += f.record_count; else liveDeletes += f.record_count;
        }
      }
      if (m.added_snapshot_id === BigInt(snap['snapshot-id'])) {
        check(m.sequence_number === BigInt(snap['sequence-number']), `${where}: new manifest sequence number`);
        for (const e of man.records) {
          check(e.status === 1 && e.snapshot_id === BigInt(snap['snapshot-id']), `${where}: added entry`);
          check(e.sequence_number === null && e.file_sequence_number === null, `${where}: inherited sequence numbers`);
        }
      }
    }
  }
  check(String(liveRecords) === current.summary['total-records'], `${where}: total-records ${current.summary['total-records']} vs ${liveRecords}`);
  check(String(liveDeletes) === current.summary['total-equality-deletes'], `${where}: total-equality-deletes`);

  // DuckDB reads every file; counts and id bounds agree with the manifest.
  for (const f of files) {
    const path = localPath(f.file_path);
    const [r] = await rowsOf(`SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM read_parquet('${path}')`);
    check(BigInt(r.n) === f.record_count, `${where}: ${path} has ${r.n} rows, manifest says ${f.record_count}`);
    const idField = schema.fields.find((c) => c.name === 'id').id;
    const lo = f.lower_bounds.find((kv) => kv.key === idField), hi = f.upper_bounds.find((kv) => kv.key === idField);
    check(lo && boundLong(lo.value) === BigInt(r.lo) && boundLong(hi.value) === BigInt(r.hi), `${where}: ${path} id bounds`);
    check(f.value_counts.find((kv) => kv.key === idField).value === f.record_count, `${where}: value count`);
    if (f.content === 2) check(f.equality_ids.length === 1 && f.equality_ids[0] === idField, `${where}: equality ids`);
    if (spec.fields.length > 0) {
      const dir = path.split('/').slice(-1 - spec.fields.length, -1);
      check(dir.every((seg, i) => seg.startsWith(`${spec.fields[i].name}=`)), `${where}: partition path ${dir.join('/')}`);
    }
  }

  // icebird returns exactly the expected rows.
  const tableUrl = metadata.location;
  const metadataFileName = metadataLocation.split('/').pop();
  const got = await icebergRead({ tableUrl, metadataFileName });
  const cols = exp.columns;
  const norm = (rows) => rows.map((r) => JSON.stringify(r)).sort();
  const gotRows = norm(got.map((r) => cols.map((c) => normIcebird(r[c]))));
  const expRows = norm(exp.rows.map((r) => r.map((v, i) => normExpected(v, cols[i]))));
  check(gotRows.length === expRows.length, `${where}: icebird read ${gotRows.length} rows, expected ${expRows.length}`);
  const missing = expRows.filter((r) => !gotRows.includes(r));
  check(missing.length === 0, `${where}: icebird rows differ; missing e.g. ${missing[0]}, got e.g. ${gotRows.find((r) => !expRows.includes(r))}`);
}

const started = Date.now();
for (const catalog of ['storage', 'sqlite']) {
  const dir = join(args.workdir, catalog);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const warehouse = join(dir, 'warehouse');
  const db = join(dir, 'catalog.db');
  execFileSync(args.tool, [catalog === 'storage' ? 'storage' : `sqlite:${db}`, warehouse, join(dir, 'out.json')],
    { stdio: 'inherit' });
  const out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
  for (const [name, exp] of Object.entries(out)) {
    let location;
    if (catalog === 'storage') {
      const metaDir = join(warehouse, 'public', name, 'metadata');
      const version = readFileSync(join(metaDir, 'version-hint.text'), 'utf8').trim();
      location = join(metaDir, `v${version}.metadata.json`);
    } else {
      location = execFileSync('sqlite3', [db, `SELECT metadata_location FROM iceberg_tables WHERE catalog_name = 'default' AND table_namespace = 'public' AND table_name = '${name}'`], { encoding: 'utf8' }).trim();
    }
    await checkTable(catalog, name, exp, location);
  }
}
console.log(`iceberg_read: ${checks - failures} passed, ${failures} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(failures ? 1 : 0);
