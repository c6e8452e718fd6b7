#!/usr/bin/env node
// DuckDB side of the seed benchmark: runs the seed pipeline as one batch query
// (the oracle's equivalent SQL, tests/oracle/cases/seed.mjs) with threads=1
// over an NDJSON file, RUNS times, each in a fresh in-memory database.
// Prints one line per run: "<seconds> <count of network_anomalies rows>".
//
//   node bench/seed_bench.mjs FILE [RUNS]
import { DuckDBInstance } from '@duckdb/node-api';
import seedCase from '../tests/oracle/cases/seed.mjs';

const [file, runsArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: seed_bench.mjs FILE [RUNS]');
  process.exit(2);
}
const sql = `SELECT count(*) FROM (${seedCase.duck({ sources: { network_metrics_source: file } })})`;
for (let i = 0; i < Number(runsArg ?? 3); i++) {
  const inst = await DuckDBInstance.create(':memory:', { threads: '1', preserve_insertion_order: 'true' });
  const conn = await inst.connect();
  const t0 = process.hrtime.bigint();
  const r = await conn.runAndReadAll(sql);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${seconds.toFixed(3)} ${r.getRows()[0][0]}`);
  conn.closeSync();
}
