#!/usr/bin/env node
// The S3 file IO against s3rver behind a proxy that verifies every request
// with AWS's own SigV4 signer: s3_tool writes objects through the fileio
// (keys with spaces and non-ASCII characters, an empty object, a multipart
// upload, path-style and virtual-host addressing), the AWS CLI lists and
// fetches them and gets the same bytes, ranged reads return the right
// slices, an aborted upload leaves nothing, remove removes, and a request
// signed with the wrong secret is refused by the verifier (so it can fail).
//
//   node s3_fileio.mjs --tool BUILD/tests/s3_tool --workdir DIR
import fs from 'node:fs';
import path from 'node:path';
import { aws, awsList, cliArgs, CREDENTIALS, jsonLines, makeChecker, pseudoRandomBytes, runAsync, startS3 } from './s3_lib.mjs';

const args = cliArgs();
const workdir = path.resolve(args.workdir);
const { check, finish } = makeChecker('s3_fileio');
fs.rmSync(workdir, { recursive: true, force: true });
fs.mkdirSync(workdir, { recursive: true });

const PART = 5 << 20;
const files = [
  { key: 'plain/small.json', bytes: Buffer.from('{"hello": "s3"}\n') },
  { key: 'with space/a b c.parquet', bytes: pseudoRandomBytes(70000, 2) },
  { key: 'non-ascii/données é ü 日本/ключ+plus=eq&amp.avro', bytes: pseudoRandomBytes(1234, 3) },
  { key: 'empty/zero', bytes: Buffer.alloc(0) },
  { key: 'multipart/big file.bin', bytes: pseudoRandomBytes(2 * PART + 123457, 4) }, // 3 parts
  { key: 'exact/one-part.bin', bytes: pseudoRandomBytes(PART, 5) }, // exactly one part: a single PUT
];
for (const [i, f] of files.entries()) {
  f.local = path.join(workdir, `in${i}`);
  fs.writeFileSync(f.local, f.bytes);
}

const s3 = await startS3({ dir: path.join(workdir, 's3rver'), buckets: ['wh', 'vhostbucket'] });
const tool = (toolArgs, env = {}) => runAsync(args.tool, ['--endpoint', s3.endpoint, '--part-size', String(PART), '--', ...toolArgs],
  { env: { ...CREDENTIALS, ...env } });
try {
  // Write everything through the fileio (in 64 KiB writes).
  const put = await tool(['put', ...files.flatMap((f) => [`s3://wh/${f.key}`, f.local])]);
  check(put.status === 0, `s3_tool put exited ${put.status}: ${put.stderr}`);
  const written = jsonLines(put.stdout).filter((l) => l.location);
  check(written.length === files.length, `${written.length} files written, expected ${files.length}`);

  // The AWS CLI lists them with their sizes, and fetches the same bytes.
  const listed = await awsList(s3.endpoint, 's3://wh/');
  for (const f of files) {
    check(listed.get(f.key) === f.bytes.length, `aws s3 ls: '${f.key}' is ${listed.get(f.key)} bytes, expected ${f.bytes.length}`);
    const out = path.join(workdir, 'cli.out');
    fs.rmSync(out, { force: true });
    const cp = await aws(s3.endpoint, ['s3', 'cp', `s3://wh/${f.key}`, out]);
    check(cp.status === 0 && fs.existsSync(out) && Buffer.compare(fs.readFileSync(out), f.bytes) === 0,
      `aws s3 cp of '${f.key}' gives the bytes written (${cp.stderr.trim()})`);
  }
  check(listed.size === files.length, `aws s3 ls lists ${listed.size} objects, expected ${files.length} (nothing extra)`);

  // The fileio reads them back (ranged GETs of one part each).
  for (const f of files) {
    const out = path.join(workdir, 'get.out');
    const r = await tool(['get', `s3://wh/${f.key}`, out]);
    check(r.status === 0 && Buffer.compare(fs.readFileSync(out), f.bytes) === 0, `fileio read of '${f.key}': ${r.stderr}`);
  }

  // Ranged reads: inside, across part boundaries, to the end, past the end.
  const big = files[4];
  for (const [offset, length] of [[0, 10], [PART - 5, 10], [PART * 2, 123457], [1000, -1], [big.bytes.length - 3, 100],
    [big.bytes.length + 10, 5]]) {
    const out = path.join(workdir, 'range.out');
    const r = await tool(['range', `s3://wh/${big.key}`, String(offset), String(length), out]);
    const end = length < 0 ? big.bytes.length : Math.min(big.bytes.length, offset + length);
    const want = offset >= big.bytes.length ? Buffer.alloc(0) : big.bytes.subarray(offset, end);
    check(r.status === 0 && Buffer.compare(fs.readFileSync(out), want) === 0,
      `range ${offset}+${length}: ${want.length} bytes expected (${r.stderr.trim()})`);
  }

  // Virtual-host addressing: bucket.s3.localhost (curl resolves *.localhost).
  const vhost = await runAsync(args.tool, ['--endpoint', `http://s3.localhost:${s3.port}`, '--path-style', '0',
    '--part-size', String(PART), 'put', 's3://vhostbucket/v host/ä.bin', files[4].local], { env: CREDENTIALS });
  check(vhost.status === 0, `virtual-host put: ${vhost.stderr}`);
  const vlisted = await awsList(s3.endpoint, 's3://vhostbucket/');
  check(vlisted.get('v host/ä.bin') === files[4].bytes.length, `virtual-host object listed in its bucket: ${[...vlisted]}`);

  // Abort: a multipart upload written and aborted leaves no object.
  const ab = await tool(['abort', 's3://wh/aborted/big.bin', files[4].local]);
  check(ab.status === 0, `abort: ${ab.stderr}`);
  const head = await tool(['head', 's3://wh/aborted/big.bin']);
  check(head.stdout.startsWith('missing'), `an aborted upload is not visible: ${head.stdout}`);
  const uploads = await aws(s3.endpoint, ['s3api', 'list-multipart-uploads', '--bucket', 'wh']);
  if (uploads.status === 0) check(!uploads.stdout.includes('aborted/big.bin'), `no multipart upload left: ${uploads.stdout}`);

  // Remove.
  const rm = await tool(['rm', `s3://wh/${files[0].key}`]);
  const rmMissing = await tool(['rm', 's3://wh/never/was']);
  check(rm.status === 0 && rmMissing.status === 0, `rm (and rm of a missing key): ${rm.stderr} ${rmMissing.stderr}`);
  check(!(await awsList(s3.endpoint, 's3://wh/')).has(files[0].key), 'a removed object is gone');

  // The verifier refuses a bad signature, and the error names endpoint and bucket.
  const before = (await s3.stats()).violations.length;
  const bad = await tool(['put', 's3://wh/bad', files[0].local], { AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
  check(bad.status !== 0 && bad.stderr.includes(s3.endpoint) && bad.stderr.includes("bucket 'wh'") && bad.stderr.includes('403'),
    `a wrong secret fails with a clear message: ${bad.stderr}`);
  check(!bad.stderr.includes('not-the-secret'), 'the secret is not in the message');

  const st = await s3.stats();
  check(st.violations.length === before + 1, `only the deliberately bad request fails verification: ${st.violations.join('\n  ')}`);
  check(st.unsigned === 0, 'every payload is signed');
  check(st.byAgent.tidewatch > 20 && st.byAgent['aws-cli'] > 5, `requests from both clients verified: ${JSON.stringify(st.byAgent)}`);
  check(st.methods.POST >= 4, `multipart uploads (start and complete are POSTs): ${JSON.stringify(st.methods)}`);
  console.log(`s3_fileio: ${st.verified} requests verified by AWS's SigV4 signer (${JSON.stringify(st.byAgent)})`);
} finally {
  await s3.stop();
}
finish();
