#!/usr/bin/env node
// The DuckDB oracle: runs one case (tests/oracle/cases/<name>.mjs) through
// tidewatch and through DuckDB, and fails unless the two results agree row for
// row and tidewatch's --stats-json counts match what the case expects.
//
//   node tests/oracle/oracle.mjs --bin build/tidewatch --case seed [--scale full|san] [--workdir DIR]
//
// A case exports: sizes {full, san}; generate(dir, n, {bin}) -> {sources, lines, ...};
// sql (text) or sqlFile (path); then (the --then query); keys (sort columns);
// duck(info) -> equivalent DuckDB SQL; expect({duck, ...info}) -> stats expectations;
// cleanup (remove the input after a pass, for large inputs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { openDuck, runTidewatch, compareResults, checkStats } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    bin: { type: 'string' },
    case: { type: 'string' },
    scale: { type: 'string', default: 'full' },
    count: { type: 'string' },
    workdir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    // Runs only the generator and DuckDB (with the oracle's self-checks):
    // for working on cases while no tidewatch binary is at hand.
    'duck-only': { type: 'boolean', default: false },
  },
});
if (!opt.bin || !opt.case) {
  console.error('usage: oracle.mjs --bin PATH --case NAME [--scale full|san] [--count N] [--workdir DIR] [--keep]');
  process.exit(2);
}

const { default: tc } = await import(path.join(here, 'cases', `${opt.case}.mjs`));
const n = opt.count ? Number(opt.count) : tc.sizes[opt.scale];
if (!Number.isInteger(n) || n <= 0) throw new Error(`bad size for scale ${opt.scale}`);
const base = opt.workdir ?? path.join(os.tmpdir(), 'tidewatch-oracle');
const dir = path.join(base, `${opt.case}-${opt.scale}`);
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });

const t0 = Date.now();
const info = tc.generate(dir, n, { bin: opt.bin });
const sqlPath = tc.sqlFile ?? path.join(dir, `${opt.case}.sql`);
if (!tc.sqlFile) fs.writeFileSync(sqlPath, tc.sql);
const statsPath = path.join(dir, 'stats.json');

const tw = opt['duck-only'] ? { error: null } : runTidewatch(opt.bin, { sqlFiles: [sqlPath], sources: info.sources, then: tc.then, statsPath });
const problems = [];
if (tw.error) problems.push(tw.error);

const duck = await openDuck();
const expected = await tc.duck(info);
const t1 = Date.now();
const dk = await duck.query(expected);
const duckSeconds = (Date.now() - t1) / 1000;
const expectStats = await tc.expect({ duck, ...info });
if (opt['duck-only']) {
  console.log(`duck-only ${opt.case}: ${n} lines, ${dk.rows.length} rows in ${duckSeconds.toFixed(2)} s; ` +
    `expected stats ${JSON.stringify(expectStats)}`);
  console.log(dk.names.join(','));
  for (const r of dk.rows.slice(0, 3)) console.log(JSON.stringify(r));
  process.exit(0);
}

if (!tw.error) {
  problems.push(...compareResults(tw.result, dk, tc.keys));
  problems.push(...checkStats(tw.stats, expectStats));
}

const label = `oracle.${opt.case} (${opt.scale}, ${n} lines)`;
if (problems.length) {
  console.error(`FAIL ${label}`);
  if (tw.cmdline) console.error(`  command: ${tw.cmdline}`);
  console.error(`  then: ${tc.then}`);
  console.error(`  inputs kept in ${dir}`);
  for (const p of problems) console.error('  ' + p);
  console.error(`  duckdb query:\n${expected}`);
  process.exit(1);
}
console.log(`PASS ${label}: ${dk.rows.length} result rows; tidewatch ${tw.seconds.toFixed(2)} s, ` +
  `duckdb ${duckSeconds.toFixed(2)} s, total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (tc.cleanup && !opt.keep) fs.rmSync(dir, { recursive: true, force: true });
