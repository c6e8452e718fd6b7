// Shared pieces of the HTTP API and browser tests: a designed data set whose
// anomalies are known exactly, a running `tidewatch run` fed on stdin with
// its server on a free port, and small HTTP helpers.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRng, isoUtc } from '../oracle/lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SEED_SQL = path.join(here, '..', 'data', 'sql', 'seed.sql');
export const XSS_DEVICE = '<img src=x onerror=alert(1)>';
export const TYPES = ['latency', 'loss', 'bandwidth'];
const WINDOW_US = 10e6;

// Every (device, 10 s window) gets all-normal rows or rows with a chosen set
// of metrics far over the seed's thresholds, so each window's averages sit
// clearly on one side of every threshold. Windows end before now, within
// the last `minutes` minutes (so quick ranges and the retention cover them).
export function designedData({ devices = 8, minutes = 30, seed = 5, xss = true } = {}) {
  const rng = makeRng(seed);
  const nowUs = Date.now() * 1000;
  const lastStart = Math.floor(nowUs / WINDOW_US) * WINDOW_US - 2 * WINDOW_US;
  const nwin = Math.floor((minutes * 60e6) / WINDOW_US);
  const ids = Array.from({ length: devices }, (_, i) => `dev-${String(i).padStart(2, '0')}`);
  if (xss) ids.push(XSS_DEVICE);
  const lines = [];
  const expected = []; // {device_id, window_start_us, types: []}
  const series = new Map(); // device -> count of windows
  for (let w = 0; w < nwin; w++) {
    const start = lastStart - (nwin - 1 - w) * WINDOW_US;
    for (const id of ids) {
      const mask = rng.chance(0.3) ? rng.int(1, 7) : 0;
      for (const off of [1e6, 4e6, 7e6]) {
        lines.push(JSON.stringify({
          device_id: id,
          timestamp: isoUtc(start + off),
          src_ip: '10.0.0.1', dst_ip: '10.0.0.2', protocol: 'TCP',
          latency_ms: mask & 1 ? rng.round2(150, 190) : rng.round2(10, 50),
          packet_loss_rate: mask & 2 ? rng.round2(8, 14) : rng.round2(0, 2),
          bandwidth_usage_percent: mask & 4 ? rng.round2(95, 99) : rng.round2(30, 70),
          flow_bytes: rng.int(1024, 1048576),
        }));
      }
      series.set(id, (series.get(id) || 0) + 1);
      if (mask) expected.push({ device_id: id, window_start_us: start, types: TYPES.filter((_, i) => mask & (1 << i)) });
    }
  }
  return { lines, expected, ids, series, firstStartUs: lastStart - (nwin - 1) * WINDOW_US, lastStartUs: lastStart };
}

export const isoZ = (us) => isoUtc(us);

// Sorts expected rows as the API does: by window_start, ties by device_id
// in the same direction (byte order).
export function sortRows(rows, desc) {
  const cmp = (a, b) => a.window_start_us - b.window_start_us ||
    (a.device_id < b.device_id ? -1 : a.device_id > b.device_id ? 1 : 0);
  return [...rows].sort((a, b) => (desc ? -cmp(a, b) : cmp(a, b)));
}

// The seed SQL with its Kafka source replaced by a followed NDJSON file:
// the test appends lines and tidewatch picks them up as they come. (A
// followed file, unlike stdin, never blocks the pipeline while idle.)
export function followedSql(dataPath, sql = fs.readFileSync(SEED_SQL, 'utf8')) {
  const out = sql.replace(/connector = 'kafka',[\s\S]*?scan\.startup\.mode = 'earliest'/,
    `connector = 'file', path = '${dataPath.replace(/'/g, "''")}', follow = 'true'`);
  if (out === sql) throw new Error('followedSql: no Kafka WITH block to replace');
  return out;
}

// Starts `tidewatch run` on the seed SQL (or `sql` text) reading a followed
// file, with the server on a free port. Resolves once the dashboard URL is
// printed; write(lines) appends to the file.
export function startTidewatch(bin, { args = [], env = {}, sql } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-api-'));
  const dataPath = path.join(dir, 'metrics.ndjson');
  fs.writeFileSync(dataPath, '');
  const sqlPath = path.join(dir, 'pipeline.sql');
  fs.writeFileSync(sqlPath, followedSql(dataPath, sql));
  const proc = spawn(bin, ['run', '--no-sinks', '-q', '--barrier-interval', '200',
    '--http', '127.0.0.1:0', ...args, sqlPath],
  { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tidewatch did not start: ${stderr}`)), 15000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tidewatch exited with ${code}: ${stderr}`));
    });
    proc.stderr.on('data', (d) => {
      stderr += d;
      const m = /dashboard at (http:\/\/[^\s]+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve({
          proc,
          url: m[1].replace(/\/$/, ''),
          stderr: () => stderr,
          write: async (lines) => fs.appendFileSync(dataPath, lines.map((l) => l + '\n').join('')),
          stop: () => new Promise((res) => {
            const done = (code) => {
              fs.rmSync(dir, { recursive: true, force: true });
              res(code);
            };
            if (proc.exitCode !== null) return done(proc.exitCode);
            proc.removeAllListeners('exit');
            proc.on('exit', done);
            proc.kill('SIGTERM');
          }),
        });
      }
    });
  });
}

// Starts `tidewatch serve` (PostgreSQL protocol and HTTP on free ports,
// data directory dataDir). Resolves once both addresses are printed with
// { url, pgPort, stderr(), psql(args) -> stdout (asserts success),
// stop() -> exit code }.
export async function startServe(bin, dataDir, { psqlBin = 'psql', args = [] } = {}) {
  const proc = spawn(bin, ['serve', '--pg', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data-dir', dataDir,
    '--barrier-interval', '200', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  await waitFor(() => /dashboard at/.test(stderr) && /PostgreSQL protocol on/.test(stderr), 'serve to start');
  const url = /dashboard at (http:\/\/[^\s]+)/.exec(stderr)[1].replace(/\/$/, '');
  const pgPort = Number(/PostgreSQL protocol on 127\.0\.0\.1:(\d+)/.exec(stderr)[1]);
  return {
    url,
    pgPort,
    stderr: () => stderr,
    psql(psqlArgs) {
      const r = spawnSync(psqlBin, ['-X', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(pgPort),
        '-d', 'dev', '-U', 'root', ...psqlArgs], { encoding: 'utf8', timeout: 20000,
        env: { ...process.env, PGCONNECT_TIMEOUT: '5' } });
      if (r.status !== 0) throw new Error(`psql ${psqlArgs.join(' ')}: ${r.stdout}${r.stderr}`);
      return r.stdout;
    },
    stop() {
      if (proc.exitCode !== null) return Promise.resolve(proc.exitCode);
      const exited = new Promise((res) => proc.on('exit', (code, signal) => res(code ?? signal)));
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

export async function getJson(url, opts = {}) {
  const res = await fetch(url, opts);
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, headers: res.headers, body };
}

export async function waitFor(fn, what, timeoutMs = 15000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function argValue(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}
