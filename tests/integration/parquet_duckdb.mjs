#!/usr/bin/env node
// DuckDB reads the Parquet files tidewatch's writer produced
// (tests/tools/parquet_write files DIR) and must find:
//  - exactly the rows the tool wrote (DIR/X.ndjson), value for value;
//  - the schema: field ids, repetition, physical, converted and logical types;
//  - per row group and column: the codec, the encodings (dictionary or
//    PLAIN as configured), and statistics equal to the min / max / NULL count
//    this script computes itself from the expected rows of that row group;
//  - the iceberg.schema key/value metadata;
//  - the writer's own file statistics (manifest.json) equal to the file's.
//
//   node parquet_duckdb.mjs --tool BUILD/tests/parquet_write --workdir DIR
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
if (!args.tool || !args.workdir) {
  console.error('usage: parquet_duckdb.mjs --tool PARQUET_WRITE --workdir DIR');
  process.exit(2);
}
const dir = join(args.workdir, 'parquet');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
execFileSync(args.tool, ['files', dir], { stdio: 'inherit' });
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

const inst = await DuckDBInstance.create(':memory:', { threads: '1'});
const conn = await inst.connect();
const rowsOf = async (sql) => (await conn.runAndReadAll(sql)).getRowObjects();

let failures = 0;
function check(ok, what) {
  if (!ok) {
    failures++;
    if (failures <= 40) console.error(`FAIL ${what}`);
  }
}

const SCHEMA = {
  boolean: { type: 'BOOLEAN', converted: null, logical: null },
  smallint: { type: 'INT32', converted: 'INT_16', logical: /^IntType\(bitWidth=.*isSigned=1\)$/ },
  integer: { type: 'INT32', converted: 'INT_32', logical: /^IntType\(bitWidth=.*isSigned=1\)$/ },
  bigint: { type: 'INT64', converted: null, logical: null },
  real: { type: 'FLOAT', converted: null, logical: null },
  double: { type: 'DOUBLE', converted: null, logical: null },
  varchar: { type: 'BYTE_ARRAY', converted: 'UTF8', logical: /^StringType\(\)$/ },
  timestamp: { type: 'INT64', converted: 'TIMESTAMP_MICROS', logical: /^TimestampType\(isAdjustedToUTC=0, .*MICROS=MicroSeconds\(\)/ },
  timestamptz: { type: 'INT64', converted: 'TIMESTAMP_MICROS', logical: /^TimestampType\(isAdjustedToUTC=1, .*MICROS=MicroSeconds\(\)/ },
};
const duckTypes = { boolean: 'BOOLEAN', smallint: 'SMALLINT', integer: 'INTEGER', bigint: 'BIGINT', real: 'FLOAT',
  double: 'DOUBLE', varchar: 'VARCHAR', timestamp: 'TIMESTAMP', timestamptz: 'TIMESTAMP WITH TIME ZONE' };

// A DuckDB value in the tool's NDJSON form.
function norm(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'object' && 'micros' in v) return String(v.micros);
  return `unexpected ${typeof v} ${String(v)}`;
}
const same = (a, b) => (typeof a === 'number' && typeof b === 'number' ? Object.is(a, b) : a === b);

// Parquet order of two non-NULL expected values; NaN is not ordered (null).
function cmp(type, a, b) {
  if (type === 'varchar') return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  if (type === 'bigint' || type.startsWith('timestamp')) return BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b);
  if (type === 'boolean') return Number(a) - Number(b);
  const x = Number(a), y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
function expectedStats(type, values) {
  let min = null, max = null, nulls = 0, nans = 0;
  for (const v of values) {
    if (v === null) { nulls++; continue; }
    if (v === 'NaN') { nans++; continue; }
    if (min === null || cmp(type, v, min) < 0) min = v;
    if (max === null || cmp(type, v, max) > 0) max = v;
  }
  // the spec's zero rule: a zero min is -0.0, a zero max +0.0
  if (typeof min === 'number' && min === 0) min = -0;
  if (typeof max === 'number' && max === 0) max = 0;
  return { min, max, nulls, nans };
}
function parseTimestamp(s) {
  const m = /^(-?\d+)-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:\+00)?$/.exec(s);
  if (!m) return `unparsed ${s}`;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return String(BigInt(ms) * 1000n + BigInt((m[7] ?? '').padEnd(6, '0')));
}
// DuckDB prints a statistic as text; bring it to the NDJSON form of its type.
function statValue(type, s) {
  if (s === null) return null;
  switch (type) {
    case 'boolean': return s === 'true';
    case 'smallint': case 'integer': return Number(s);
    case 'bigint': return s;
    case 'real': return Math.fround(Number(s));
    case 'double': return Number(s);
    case 'timestamp': case 'timestamptz': return parseTimestamp(s);
    default: return s;
  }
}
const sameStat = (type, got, want) =>
  type === 'real' && typeof want === 'number' ? Object.is(got, Math.fround(want)) : same(got, want);

for (const file of manifest) {
  const path = join(dir, `${file.name}.parquet`);
  const expected = readFileSync(join(dir, `${file.name}.ndjson`), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  const cols = file.columns;
  const tag = file.name;

  // rows
  const got = (await conn.runAndReadAll(`SELECT * FROM read_parquet('${path}')`)).getRows();
  check(got.length === expected.length, `${tag}: ${got.length} rows, expected ${expected.length}`);
  for (let r = 0; r < Math.min(got.length, expected.length); r++) {
    for (let c = 0; c < cols.length; c++) {
      const g = norm(got[r][c]), e = expected[r][c];
      check(same(g, e), `${tag}: row ${r} column ${cols[c].name}: got ${JSON.stringify(g)}, expected ${JSON.stringify(e)}`);
    }
  }

  // schema
  const schema = await rowsOf(`SELECT * FROM parquet_schema('${path}')`);
  check(schema.length === cols.length + 1, `${tag}: ${schema.length} schema elements`);
  for (const col of cols) {
    const el = schema.find((s) => s.name === col.name);
    const want = SCHEMA[col.type];
    check(el && String(el.field_id) === String(col.field_id), `${tag}: ${col.name} field_id ${el?.field_id}`);
    check(el?.repetition_type === (col.required ? 'REQUIRED' : 'OPTIONAL'), `${tag}: ${col.name} repetition ${el?.repetition_type}`);
    check(el?.type === want.type, `${tag}: ${col.name} type ${el?.type}`);
    check((el?.converted_type ?? null) === want.converted, `${tag}: ${col.name} converted_type ${el?.converted_type}`);
    check(want.logical ? want.logical.test(el?.logical_type ?? '') : el?.logical_type === null,
      `${tag}: ${col.name} logical_type ${el?.logical_type}`);
    check(el?.duckdb_type === duckTypes[col.type], `${tag}: ${col.name} read as ${el?.duckdb_type}`);
  }

  // row groups: codec, encodings, statistics
  const meta = await rowsOf(`SELECT * FROM parquet_metadata('${path}') ORDER BY row_group_id, column_id`);
  const groups = [...new Set(meta.map((m) => Number(m.row_group_id)))];
  let first = 0;
  const splitOffsets = [];
  for (const g of groups) {
    const chunks = meta.filter((m) => Number(m.row_group_id) === g);
    const n = Number(chunks[0].row_group_num_rows);
    const slice = expected.slice(first, first + n);
    splitOffsets.push(Number(chunks[0].dictionary_page_offset ?? chunks[0].data_page_offset));
    for (let c = 0; c < cols.length; c++) {
      const m = chunks[c], col = cols[c], where = `${tag}: group ${g} column ${col.name}`;
      const want = expectedStats(col.type, slice.map((row) => row[c]));
      check(m.compression === file.codec, `${where}: codec ${m.compression}`);
      const enc = m.encodings.split(', ');
      const dictionary = col.type === 'varchar' && file.dictionary && want.nulls < n;
      check(enc.includes('RLE_DICTIONARY') === dictionary, `${where}: encodings ${m.encodings}`);
      check(dictionary ? m.dictionary_page_offset !== null : m.dictionary_page_offset === null,
        `${where}: dictionary_page_offset ${m.dictionary_page_offset}`);
      check(enc.includes('RLE') === !col.required, `${where}: level encoding in ${m.encodings}`);
      check(Number(m.stats_null_count) === want.nulls, `${where}: null_count ${m.stats_null_count}, expected ${want.nulls}`);
      for (const [side, stat] of [['min', m.stats_min_value], ['max', m.stats_max_value]]) {
        const w = want[side];
        const v = statValue(col.type, stat);
        // DuckDB does not show an infinite lower bound (it reads it as no bound).
        const ok = sameStat(col.type, v, w) || (v === null && (w === '-Infinity' || w === 'Infinity'));
        check(ok, `${where}: ${side} ${JSON.stringify(stat)}, expected ${JSON.stringify(w)}`);
      }
    }
    first += n;
  }
  check(first === expected.length, `${tag}: row groups hold ${first} rows`);
  if (tag === 'big') check(groups.length >= 3, `big: only ${groups.length} row groups`);
  if (tag === 'strings_dict') {
    const fallback = meta.find((m) => m.path_in_schema === 'unique_s');
    check(/PLAIN/.test(fallback.encodings) && /RLE_DICTIONARY/.test(fallback.encodings),
      `strings_dict: unique_s should fall back from dictionary to PLAIN: ${fallback.encodings}`);
  }

  // key/value metadata and created_by
  const kv = await rowsOf(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${path}')`);
  check(kv.some((r) => r.k === 'iceberg.schema' && r.v === '{"type":"struct","schema-id":0}'), `${tag}: iceberg.schema metadata ${JSON.stringify(kv)}`);
  const fm = (await rowsOf(`SELECT created_by, num_rows FROM parquet_file_metadata('${path}')`))[0];
  check(/^tidewatch version /.test(fm.created_by), `${tag}: created_by ${fm.created_by}`);

  // the writer's file statistics (what the Iceberg manifest will say)
  const st = file.stats;
  check(st.file_size_bytes === statSync(path).size, `${tag}: file_size_bytes ${st.file_size_bytes}`);
  check(st.record_count === expected.length && String(fm.num_rows) === String(expected.length), `${tag}: record_count ${st.record_count}`);
  check(JSON.stringify(st.split_offsets) === JSON.stringify(splitOffsets), `${tag}: split_offsets ${st.split_offsets} vs ${splitOffsets}`);
  for (let c = 0; c < cols.length; c++) {
    const s = st.columns[c], col = cols[c], where = `${tag}: file stats ${col.name}`;
    const want = expectedStats(col.type, expected.map((row) => row[c]));
    const chunks = meta.filter((m) => Number(m.column_id) === c);
    check(s.field_id === col.field_id, `${where}: field_id`);
    check(s.value_count === expected.length, `${where}: value_count ${s.value_count}`);
    check(s.null_count === want.nulls, `${where}: null_count ${s.null_count}`);
    check(s.nan_count === want.nans, `${where}: nan_count ${s.nan_count}, expected ${want.nans}`);
    check(s.compressed_bytes === chunks.reduce((a, m) => a + Number(m.total_compressed_size), 0), `${where}: compressed_bytes`);
    check(same(s.min, want.min) && same(s.max, want.max),
      `${where}: bounds ${JSON.stringify([s.min, s.max])}, expected ${JSON.stringify([want.min, want.max])}`);
  }
  console.log(`ok ${tag}: ${expected.length} rows, ${groups.length} row group(s), ${file.codec}`);
}

if (failures) {
  console.error(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('parquet_duckdb: all files read back exactly');
