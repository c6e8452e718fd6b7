#!/usr/bin/env node
// Parquet writer benchmark: tidewatch's writer against DuckDB's COPY, on the
// same rows shaped like the seed's network_anomalies (device_id VARCHAR,
// window_start / window_end TIMESTAMP, three DOUBLE averages, three BOOLEAN
// flags), both ZSTD level 3 (both writers' default), DuckDB with threads=1.
//
// tidewatch: `parquet_write bench OUT ROWS` builds the rows in memory, then
// times writer_new .. close (file written to disk). DuckDB: the table is
// loaded from tidewatch's file (untimed), then
// COPY t TO 'x.parquet' (FORMAT parquet, COMPRESSION zstd) is timed.
// Best of RUNS for each; prints a markdown table for docs/benchmarks.md.
// Exits non-zero when the two files do not hold the same rows.
//
//   node bench/parquet_bench.mjs [--tool build/tests/parquet_write] [--rows 5000000] [--runs 3]
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, version } from '@duckdb/node-api';

const opt = { tool: 'build/tests/parquet_write', rows: '5000000', runs: '3', out: 'bench/out' };
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const rows = Number(opt.rows), runs = Number(opt.runs);
mkdirSync(opt.out, { recursive: true });
const twFile = join(opt.out, 'parquet-bench-tw.parquet');
const duckFile = join(opt.out, 'parquet-bench-duck.parquet');

let tw = null;
for (let i = 0; i < runs; i++) {
  const r = JSON.parse(execFileSync(opt.tool, ['bench', twFile, String(rows)], { encoding: 'utf8' }));
  if (!tw || r.seconds < tw.seconds) tw = r;
}

const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
const conn = await inst.connect();
await conn.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${twFile}')`);
let duckSeconds = Infinity;
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  await conn.run(`COPY t TO '${duckFile}' (FORMAT parquet, COMPRESSION zstd)`);
  duckSeconds = Math.min(duckSeconds, Number(process.hrtime.bigint() - t0) / 1e9);
}
const duckBytes = statSync(duckFile).size;
const diff = (await conn.runAndReadAll(
  `SELECT count(*) FROM ((SELECT * FROM read_parquet('${twFile}') EXCEPT ALL SELECT * FROM read_parquet('${duckFile}'))
     UNION ALL (SELECT * FROM read_parquet('${duckFile}') EXCEPT ALL SELECT * FROM read_parquet('${twFile}')))`)).getRows()[0][0];
const duckRows = (await conn.runAndReadAll(`SELECT count(*) FROM read_parquet('${duckFile}')`)).getRows()[0][0];

const rate = (s) => Math.round(rows / s).toLocaleString('en-US');
const mib = (b) => (b / 1048576).toFixed(1);
console.log(`### Parquet writer, ${rows.toLocaleString('en-US')} network_anomalies rows, ${new Date().toISOString().slice(0, 10)}

Machine: ${cpus().length} cores, ${cpus()[0].model}; DuckDB ${version()} (threads=1).
Command: \`node bench/parquet_bench.mjs --rows ${rows} --runs ${runs}\` (best of ${runs}; ZSTD level 3 for both)

| writer | best time (s) | rows/s | file size |
| --- | ---: | ---: | ---: |
| tidewatch (tests/tools/parquet_write bench) | ${tw.seconds.toFixed(3)} | ${rate(tw.seconds)} | ${mib(tw.bytes)} MiB |
| DuckDB COPY ... (FORMAT parquet, COMPRESSION zstd) | ${duckSeconds.toFixed(3)} | ${rate(duckSeconds)} | ${mib(duckBytes)} MiB |
| ratio tidewatch / DuckDB | | ${(duckSeconds / tw.seconds).toFixed(2)}x throughput | ${(tw.bytes / duckBytes).toFixed(3)}x size |`);
if (Number(diff) !== 0 || Number(duckRows) !== rows || tw.rows !== rows) {
  console.error(`parquet_bench: MISMATCH: ${diff} rows differ; tidewatch ${tw.rows}, DuckDB ${duckRows}, expected ${rows}`);
  process.exit(1);
}
