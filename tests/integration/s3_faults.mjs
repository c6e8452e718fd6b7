#!/usr/bin/env node
// The S3 file IO under faults: HTTP 5xx injected on 10% of requests (half
// before the server acts, half after it did, so retries must be safe when
// the outcome is unknown), and the server down for 20 s in the middle of
// the writes (connections refused and reset). s3_tool writes many small
// files and two multipart ones through the fileio; it must retry, say so
// on stderr, and succeed; the AWS CLI, talking to s3rver directly, then
// finds exactly the files written, byte for byte, and the fileio reads them
// back exactly while the faults continue.
//
//   node s3_faults.mjs --tool BUILD/tests/s3_tool --workdir DIR [--pause-ms 20000] [--fault-rate 0.1]
import fs from 'node:fs';
import path from 'node:path';
import { aws, awsList, cliArgs, CREDENTIALS, jsonLines, makeChecker, pseudoRandomBytes, runAsync, startS3 } from './s3_lib.mjs';

const args = cliArgs();
const workdir = path.resolve(args.workdir);
const pauseMs = Number(args['pause-ms'] ?? 20000);
const faultRate = Number(args['fault-rate'] ?? 0.1);
const { check, finish } = makeChecker(`s3_faults(${faultRate * 100}% 5xx, down ${pauseMs / 1000} s)`);
fs.rmSync(workdir, { recursive: true, force: true });
fs.mkdirSync(path.join(workdir, 'in'), { recursive: true });

const PART = 5 << 20;
const files = [];
for (let i = 0; i < 40; i++) files.push({ key: `data/part ${i} é.parquet`, bytes: pseudoRandomBytes(100000 + i * 997, 100 + i) });
files.push({ key: 'data/multi one.bin', bytes: pseudoRandomBytes(2 * PART + 777, 11) });
files.push({ key: 'data/multi two.bin', bytes: pseudoRandomBytes(3 * PART + 5, 12) });
for (const [i, f] of files.entries()) {
  f.local = path.join(workdir, 'in', String(i));
  fs.writeFileSync(f.local, f.bytes);
}

const s3 = await startS3({ dir: path.join(workdir, 's3rver'), buckets: ['wh'], faultRate, seed: 7 });
const tool = (toolArgs) => runAsync(args.tool, ['--endpoint', s3.endpoint, '--part-size', String(PART),
  '--max-retry-ms', String(pauseMs + 60000), '--max-attempts', '40', '--', ...toolArgs], { env: CREDENTIALS });
try {
  // The server goes down when the 25th request from now arrives: mid-write.
  await s3.pause(pauseMs, 25);
  const put = await tool(['put', ...files.flatMap((f) => [`s3://wh/${f.key}`, f.local])]);
  check(put.status === 0, `s3_tool put exited ${put.status}: ${put.stderr.slice(-2000)}`);
  const counters = jsonLines(put.stdout).find((l) => l.retries !== undefined) ?? {};
  check(counters.retries > 0, `the writer retried (${counters.retries} retries in ${counters.requests} requests)`);
  check(/retrying in \d+ ms/.test(put.stderr) && put.stderr.includes(s3.endpoint) && put.stderr.includes("bucket 'wh'"),
    'each retry is reported on stderr with the endpoint and bucket');
  check(/Couldn't connect|Connection refused|Failure when receiving|Server returned nothing|Send failure/i.test(put.stderr),
    `connection failures while the server was down were retried: ${put.stderr.split('\n').filter((l) => !/HTTP 5/.test(l)).slice(0, 3).join(' | ')}`);
  check(put.seconds * 1000 >= pauseMs * 0.9, `the write outlasted the ${pauseMs} ms outage (${put.seconds.toFixed(1)} s)`);

  const st = await s3.stats();
  check(st.pauses === 1, 'the server was stopped once');
  check(st.injectedBefore + st.injectedAfter > 0, `faults were injected (${st.injectedBefore} before, ${st.injectedAfter} after processing)`);
  check(st.violations.length === 0, `every request verified: ${st.violations.slice(0, 3).join('\n  ')}`);

  // The AWS CLI on s3rver itself (no proxy, no faults): exactly these objects, byte for byte.
  const listed = await awsList(s3.s3rver, 's3://wh/');
  check(listed.size === files.length, `aws s3 ls lists ${listed.size} objects, expected ${files.length}`);
  const mirror = path.join(workdir, 'mirror');
  const cp = await aws(s3.s3rver, ['s3', 'cp', '--recursive', '--only-show-errors', 's3://wh/', mirror]);
  check(cp.status === 0, `aws s3 cp --recursive: ${cp.stderr}`);
  for (const f of files) {
    const p = path.join(mirror, f.key);
    check(fs.existsSync(p) && Buffer.compare(fs.readFileSync(p), f.bytes) === 0, `'${f.key}' is exact`);
  }

  // Reads retry too: the fileio reads every file back exactly through the faults.
  let readOk = 0;
  for (const f of files) {
    const out = path.join(workdir, 'get.out');
    const r = await tool(['get', `s3://wh/${f.key}`, out]);
    if (check(r.status === 0 && Buffer.compare(fs.readFileSync(out), f.bytes) === 0, `fileio read of '${f.key}': ${r.stderr.slice(-500)}`))
      readOk++;
  }
  const end = await s3.stats();
  console.log(`s3_faults: ${files.length} files written in ${put.seconds.toFixed(1)} s with ${counters.retries} retries ` +
    `(${st.injectedBefore + st.injectedAfter} injected 5xx, ${pauseMs / 1000} s outage); ${readOk} read back; ` +
    `${end.injectedBefore + end.injectedAfter} faults injected in all, ${end.verified} requests verified`);
} finally {
  await s3.stop();
}
finish();
