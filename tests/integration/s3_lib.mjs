// Shared pieces of the S3 tests (s3_*.mjs) and bench/s3_bench.sh: start the
// test S3 server (s3_server.mjs: s3rver behind a SigV4-verifying,
// fault-injecting proxy) in its own process, talk to its control port, run
// the AWS CLI and the s3_tool without blocking the event loop.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_DEFAULT_REGION: 'us-east-1' };

// Debian's awscli (/usr/bin/aws) when installed, else whatever `aws` is on PATH.
export const AWS = fs.existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';

export async function startS3({ dir, buckets, faultRate = 0, seed = 1 }) {
  const child = spawn(process.execPath, [path.join(here, 's3_server.mjs'), '--dir', dir, '--buckets', buckets.join(','),
    '--fault-rate', String(faultRate), '--seed', String(seed)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`s3_server.mjs exited ${code} before it was ready`)));
  });
  const info = JSON.parse(line);
  const control = async (p, method = 'GET') => (await fetch(`${info.control}${p}`, { method })).json();
  return {
    ...info,
    stats: () => control('/stats'),
    setFaults: (rate) => control(`/faults?rate=${rate}`, 'POST'),
    pause: (ms, afterRequests = 0) => control(`/pause?ms=${ms}&after=${afterRequests}`, 'POST'),
    stop: () => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); }),
  };
}

// Runs a command; resolves {status, stdout, stderr, seconds}.
export function runAsync(cmd, args, { env = {}, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr,
      seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
  });
}

export const aws = (endpoint, args) => runAsync(AWS, ['--endpoint-url', endpoint, ...args], { env: CREDENTIALS });

// `aws s3 ls --recursive` as a Map key -> size.
export async function awsList(endpoint, url) {
  const r = await aws(endpoint, ['s3', 'ls', '--recursive', url]);
  if (r.status !== 0) throw new Error(`aws s3 ls ${url}: ${r.stderr}`);
  const out = new Map();
  for (const line of r.stdout.split('\n')) {
    const m = /^\S+ \S+\s+(\d+) (.*)$/.exec(line);
    if (m) out.set(m[2], Number(m[1]));
  }
  return out;
}

// The JSON lines a tool printed.
export const jsonLines = (text) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

// --name value pairs from argv.
export function cliArgs(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i++) if (argv[i].startsWith('--')) out[argv[i].slice(2)] = argv[i + 1];
  return out;
}

// Deterministic bytes (a seeded xorshift), so a failure reproduces.
export function pseudoRandomBytes(n, seed) {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
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
    finish() {
      console.log(`${label}: ${checks - failures} passed, ${failures} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      process.exit(failures ? 1 : 0);
    },
  };
}
