#!/usr/bin/env node
// An S3 server for tests: s3rver (npm) behind a front proxy on 127.0.0.1
// that checks every request's SigV4 signature independently, with AWS's
// own signer (@aws-sdk/signature-v4), and the payload against its signed
// SHA-256; s3rver itself only checks that the access key exists. The proxy
// also injects faults on demand: HTTP 5xx on a fraction of requests (half
// answered before reaching s3rver, half after it processed them, so the
// outcome is unknown to the client), and stops listening for a while (the
// server down: connections refused, open ones reset).
//
//   node s3_server.mjs --dir DIR --buckets a,b [--fault-rate 0.1] [--seed 1]
//
// Prints one JSON line {endpoint, control, s3rver} once ready. Control
// (HTTP on its own port): GET /stats, POST /faults?rate=R, POST /pause?ms=N[&after=K]
// (down for N ms, now or when the K-th request from now arrives).
// Credentials: S3RVER/S3RVER and the seed's minioadmin/minioadmin.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');
const { SignatureV4 } = require('@aws-sdk/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
const SECRETS = { S3RVER: 'S3RVER', minioadmin: 'minioadmin' };
DUMMY_ACCOUNT.createKeyPair('minioadmin', 'minioadmin');

let faultRate = Number(args['fault-rate'] ?? 0);
let rng = Number(args.seed ?? 1) >>> 0 || 1;
const random = () => { // xorshift32: the same faults for the same seed and request order
  rng ^= rng << 13; rng >>>= 0; rng ^= rng >>> 17; rng ^= rng << 5; rng >>>= 0;
  return rng / 2 ** 32;
};
const stats = { requests: 0, verified: 0, unsigned: 0, violations: [], injectedBefore: 0, injectedAfter: 0,
  pauses: 0, byAgent: {}, methods: {} };

fs.mkdirSync(args.dir, { recursive: true });
const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: args.dir,
  serviceEndpoint: 'localhost', vhostBuckets: true,
  configureBuckets: (args.buckets ?? '').split(',').filter(Boolean).map((name) => ({ name })) });
const s3addr = await s3.run();

function violation(what, req) {
  stats.violations.push(`${req.method} ${req.url} (${req.headers['user-agent'] ?? '?'}): ${what}`);
}

// Recomputes the signature of a received request with AWS's signer and
// compares. Returns null when it verifies, else what is wrong.
async function verify(req, body) {
  const auth = req.headers.authorization;
  if (!auth) return 'no Authorization header';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return `malformed Authorization: ${auth}`;
  const [, accessKeyId, day, region, service, signedList, signature] = m;
  const secretAccessKey = SECRETS[accessKeyId];
  if (!secretAccessKey) return `unknown access key ${accessKeyId}`;
  const signed = signedList.split(';');
  for (const h of ['host', 'x-amz-date', 'x-amz-content-sha256'])
    if (!signed.includes(h)) return `${h} is not signed`;
  if (req.headers.range !== undefined && !signed.includes('range')) return 'range sent but not signed';
  const declared = req.headers['x-amz-content-sha256'];
  if (declared === 'UNSIGNED-PAYLOAD') stats.unsigned++;
  else if (declared !== createHash('sha256').update(body).digest('hex'))
    return `x-amz-content-sha256 ${declared} is not the SHA-256 of the ${body.length}-byte body`;
  const amzDate = req.headers['x-amz-date'];
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== day) return `bad x-amz-date ${amzDate}`;
  const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T` +
    `${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = {};
  if (q >= 0) {
    for (const part of req.url.slice(q + 1).split('&').filter(Boolean)) {
      const eq = part.indexOf('=');
      const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
      const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
      query[k] = k in query ? [].concat(query[k], v) : v;
    }
  }
  const headers = {};
  for (const h of signed) {
    if (req.headers[h] === undefined) return `signed header ${h} was not sent`;
    headers[h] = req.headers[h];
  }
  const [hostname, port] = req.headers.host.split(':');
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region, service,
    sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  // S3 signs the path exactly as sent (each segment encoded once).
  const out = await signer.sign({ method: req.method, protocol: 'http:', hostname, port: port ? Number(port) : undefined,
    path, query, headers, body }, { signingDate });
  const expected = /Signature=([0-9a-f]{64})/.exec(out.headers.authorization ?? out.headers.Authorization)[1];
  if (expected !== signature) return `signature ${signature} does not verify (AWS's signer computes ${expected})`;
  return null;
}

function forward(req, body) {
  return new Promise((resolve, reject) => {
    const up = http.request({ host: '127.0.0.1', port: s3addr.port, method: req.method, path: req.url,
      headers: req.headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    up.on('error', reject);
    up.end(body);
  });
}

const errorXml = (code, message) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;

const sockets = new Set();
let pendingPause = null; // {at: request count, ms}
const front = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  stats.requests++;
  if (pendingPause && stats.requests >= pendingPause.at) {
    const { ms } = pendingPause;
    pendingPause = null;
    pause(ms); // this request's connection drops with the rest
    return;
  }
  const agent = (req.headers['user-agent'] ?? 'unknown').split(/[ /]/)[0];
  stats.byAgent[agent] = (stats.byAgent[agent] ?? 0) + 1;
  stats.methods[req.method] = (stats.methods[req.method] ?? 0) + 1;
  let problem;
  try {
    problem = await verify(req, body);
  } catch (e) {
    problem = `verifier error: ${e.message}`;
  }
  if (problem) {
    violation(problem, req);
    res.writeHead(403, { 'content-type': 'application/xml' });
    res.end(errorXml('SignatureDoesNotMatch', problem.replace(/[<&]/g, ' ')));
    return;
  }
  stats.verified++;
  const fault = faultRate > 0 && random() < faultRate ? (random() < 0.5 ? 'before' : 'after') : null;
  if (fault === 'before') {
    stats.injectedBefore++;
    res.writeHead(503, { 'content-type': 'application/xml' });
    res.end(errorXml('SlowDown', 'injected before processing'));
    return;
  }
  let up;
  try {
    up = await forward(req, body);
  } catch (e) {
    res.writeHead(502);
    res.end(errorXml('BadGateway', e.message));
    return;
  }
  if (fault === 'after') {
    stats.injectedAfter++;
    res.writeHead(500, { 'content-type': 'application/xml' });
    res.end(errorXml('InternalError', 'injected after processing'));
    return;
  }
  const headers = { ...up.headers };
  delete headers['transfer-encoding'];
  if (req.method !== 'HEAD') headers['content-length'] = String(up.body.length);
  res.writeHead(up.status, headers);
  res.end(req.method === 'HEAD' ? undefined : up.body);
});
front.keepAliveTimeout = 5000;
front.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
await new Promise((r) => front.listen(0, '127.0.0.1', r));
const frontPort = front.address().port;

// The server "down": the listener closes and open connections drop, so
// clients see refused and reset connections; it listens again after ms.
function pause(ms) {
  stats.pauses++;
  front.close();
  for (const s of sockets) s.destroy();
  setTimeout(() => front.listen(frontPort, '127.0.0.1'), ms);
}

const control = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/stats') {
    res.end(JSON.stringify({ ...stats, faultRate }));
  } else if (url.pathname === '/faults') {
    faultRate = Number(url.searchParams.get('rate'));
    res.end('{}');
  } else if (url.pathname === '/pause') {
    const after = Number(url.searchParams.get('after') ?? 0);
    if (after > 0) pendingPause = { at: stats.requests + after, ms: Number(url.searchParams.get('ms')) };
    else pause(Number(url.searchParams.get('ms')));
    res.end('{}');
  } else {
    res.statusCode = 404;
    res.end();
  }
});
await new Promise((r) => control.listen(0, '127.0.0.1', r));
console.log(JSON.stringify({ endpoint: `http://127.0.0.1:${frontPort}`, port: frontPort,
  control: `http://127.0.0.1:${control.address().port}`, s3rver: `http://127.0.0.1:${s3addr.port}` }));

const stop = async () => { front.close(); control.close(); await s3.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
