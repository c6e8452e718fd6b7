#!/usr/bin/env node
// An Iceberg REST catalog for tests only: in memory, Lakekeeper's layout
// (base path /catalog; GET /catalog/v1/config?warehouse=NAME answers the
// warehouse's id as the path prefix; later paths are
// /catalog/v1/{prefix}/namespaces/...), metadata files written by the
// server as a real catalog does. Table locations are in a local directory
// (file:// URLs), or with --s3-warehouse in S3 as Lakekeeper lays them out:
// s3://BUCKET/PREFIX/<warehouse-id>/<table-uuid>, the metadata files PUT by
// the catalog itself (SigV4-signed, with its own --s3-access-key), and every
// LoadTableResult carrying the table config Lakekeeper sends (s3.endpoint,
// s3.region, client.region, s3.path-style-access); with --vend-credentials
// MODE, a client that asks for vended-credentials (X-Iceberg-Access-Delegation)
// also gets s3.access-key-id / s3.secret-access-key (as Lakekeeper does with
// STS and remote signing off) in the `config` map (MODE config) or in
// `storage-credentials` for the warehouse prefix (MODE storage-credentials). Every request and response on /catalog/v1 is validated
// against the OpenAPI contract (shared/specs/iceberg-rest-catalog-open-api.yaml,
// OpenAPI 3.1: JSON Schema 2020-12 through ajv, with OpenAPI's `nullable`
// and `discriminator` mapped onto it); each violation is recorded, served
// at GET /__violations and appended to --violations-file, and the tests fail
// on any.
//
//   node rest_catalog_server.mjs --spec SPEC.yaml --root DIR [--port 0] [--warehouse rw_iceberg]
//        [--credential id:secret [--token-uses N]] [--violations-file F]
//        [--s3-warehouse s3://BUCKET/PREFIX --s3-endpoint URL --s3-access-key K --s3-secret-key S
//         [--s3-region us-east-1] [--s3-advertised-endpoint URL] [--vend-credentials config|storage-credentials]
//         [--vend-keys K1:S1,K2:S2]]
// --vend-keys K1:S1,K2:S2 vends those keys in turn, a new one with every
// load (credentials renewed, as STS-vended ones are), instead of the
// catalog's own.
// --s3-advertised-endpoint is the s3.endpoint handed to clients when it is
// not the one the catalog itself uses (a catalog in docker compose says
// http://minio:9000, which only the containers can resolve).
//
// Prints "listening PORT" once ready. Test hooks (not part of the
// contract, not validated): GET /__violations, GET /__stats,
// POST /__faults {"failBeforeApply": n, "failAfterApply": n, "foreignCommits": n,
// "hangAfterApply": n, "hangMs": ms} makes the next n commits answer 500
// without applying / 500 after applying, first lands a snapshot by "another
// writer" (a copy of the current one) so the request's
// assert-ref-snapshot-id fails with 409, or applies and answers only after
// hangMs (past the client's timeout).
// With --credential, /v1 requires a bearer token from POST /v1/oauth/tokens
// (client credentials); with --token-uses N a token stops working after N
// requests, so clients must fetch a new one on 401.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@aws-sdk/signature-v4';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const args = {};
for (let i = 2; i < process.argv.length; i++)
  if (process.argv[i].startsWith('--')) args[process.argv[i].slice(2)] = process.argv[i + 1];
if (!args.spec || !args.root) {
  console.error('usage: rest_catalog_server.mjs --spec SPEC.yaml --root DIR [--port N] [--warehouse NAME] ' +
    '[--credential id:secret [--token-uses N]] [--violations-file F]');
  process.exit(2);
}
const BASE = '/catalog';
const s3 = args['s3-warehouse'] ? {
  warehouse: args['s3-warehouse'].replace(/\/+$/, ''),
  endpoint: new URL(args['s3-endpoint']),
  advertised: new URL(args['s3-advertised-endpoint'] ?? args['s3-endpoint']).origin,
  region: args['s3-region'] ?? 'us-east-1',
  vend: args['vend-credentials'],
  vendKeys: (args['vend-keys'] ?? `${args['s3-access-key']}:${args['s3-secret-key']}`).split(',').map((k) => k.split(':')),
  signer: new SignatureV4({ service: 's3', region: args['s3-region'] ?? 'us-east-1', sha256: Sha256, uriEscapePath: false,
    applyChecksum: false, credentials: { accessKeyId: args['s3-access-key'], secretAccessKey: args['s3-secret-key'] } }),
} : null;
if (s3 && (!/^s3:\/\/[^/]+/.test(s3.warehouse) || !args['s3-access-key'] || !args['s3-secret-key'])) {
  console.error('--s3-warehouse needs s3://BUCKET[/PREFIX], --s3-endpoint, --s3-access-key and --s3-secret-key');
  process.exit(2);
}
if (s3?.vend && !['config', 'storage-credentials'].includes(s3.vend)) {
  console.error('--vend-credentials is config or storage-credentials');
  process.exit(2);
}
const root = path.resolve(args.root);
const warehouses = new Map((args.warehouse ?? 'rw_iceberg').split(',').map((name) =>
  [name, { name, id: crypto.randomUUID(), namespaces: new Map(), tables: new Map() }]));
const tokenUses = args['token-uses'] ? Number(args['token-uses']) : Infinity;
const tokens = new Map(); // token -> uses left
const violations = [];
const stats = { requests: 0, commits: 0, committed: 0, conflicts: 0, injected500: 0, foreign: 0, hung: 0, tokens: 0, unauthorized: 0,
  invalidRequests: 0, commitCycleMs: [], s3Puts: 0, vended: 0 };
// A writer's commit cycle, as the catalog sees it: from its load of the
// table (tidewatch refreshes first) to the commit's answer.
const lastLoad = new Map();
const faults = { failBeforeApply: 0, failAfterApply: 0, foreignCommits: 0, hangAfterApply: 0, hangMs: 3000 };

// ---- the contract ----
const spec = YAML.parse(fs.readFileSync(args.spec, 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
const inProgress = new WeakMap(); // data object -> mapped schema names being checked
ajv.addKeyword({
  // OpenAPI's discriminator: the object must also match the schema its
  // discriminating property maps to. Mapped schemas extend the base (allOf),
  // so a value already being checked against a mapping is not checked again.
  keyword: 'x-discriminator',
  schemaType: 'object',
  validate: function check(disc, data) {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return true;
    const tag = data[disc.propertyName];
    const ref = disc.mapping?.[tag];
    if (!ref) {
      check.errors = [{ keyword: 'x-discriminator', message: `${disc.propertyName} '${tag}' is not one of ${Object.keys(disc.mapping ?? {})}`, params: {} }];
      return false;
    }
    const active = inProgress.get(data) ?? new Set();
    if (active.has(ref)) return true;
    active.add(ref);
    inProgress.set(data, active);
    try {
      const v = ajv.getSchema(`spec${ref}`);
      if (v(data)) return true;
      check.errors = v.errors;
      return false;
    } finally {
      active.delete(ref);
    }
  },
  errors: true,
});
const formats = new Set();
(function adapt(node) {
  if (Array.isArray(node)) return node.forEach(adapt);
  if (!node || typeof node !== 'object') return;
  for (const v of Object.values(node)) adapt(v);
  if (typeof node.format === 'string') formats.add(node.format);
  if (node.nullable === true) {
    delete node.nullable;
    if (typeof node.type === 'string') node.type = [node.type, 'null'];
    else if (!Array.isArray(node.type)) {
      const inner = { ...node };
      for (const k of Object.keys(node)) delete node[k];
      node.anyOf = [inner, { type: 'null' }];
    }
  }
  if (node.discriminator?.mapping) node['x-discriminator'] = node.discriminator;
})(spec);
for (const f of formats) if (!ajv.formats[f]) ajv.addFormat(f, true); // int64 etc.: types do the work
ajv.addSchema(spec, 'spec');

// Path templates of the contract as regexps, most specific first.
const routes = Object.entries(spec.paths).map(([tpl, item]) => {
  const names = [];
  const re = new RegExp(`^${tpl.replace(/\{([^}]+)\}/g, (_, n) => { names.push(n); return '([^/]+)'; })}$`);
  return { tpl, item, re, names };
});

const deref = (obj) => {
  while (obj && obj.$ref) {
    obj = obj.$ref.slice(2).split('/').reduce((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return obj;
};

function violation(where, what, details) {
  const v = { time: new Date().toISOString(), where, what, details };
  violations.push(v);
  console.error(`CONTRACT VIOLATION ${where}: ${what}${details ? ` ${JSON.stringify(details).slice(0, 2000)}` : ''}`);
  if (args['violations-file']) fs.appendFileSync(args['violations-file'], `${JSON.stringify(v)}\n`);
}

function validateSchema(schema, value, where, what) {
  const ref = schema.$ref ? `spec${schema.$ref}` : null;
  const v = ref ? ajv.getSchema(ref) : ajv.compile(schema);
  if (!v(value)) violation(where, what, v.errors.slice(0, 10));
}

function findOperation(method, p) {
  for (const r of routes) {
    const m = r.re.exec(p);
    if (!m) continue;
    const op = r.item[method.toLowerCase()];
    if (!op) continue;
    const params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
    return { op, tpl: r.tpl, params, pathParams: r.item.parameters ?? [] };
  }
  return null;
}

function validateRequest(found, req, url, body, where) {
  const declared = [...found.pathParams, ...(found.op.parameters ?? [])].map(deref);
  for (const [k, v] of url.searchParams) {
    const p = declared.find((d) => d.in === 'query' && d.name === k);
    if (!p) violation(where, `undeclared query parameter ${k}`);
    else if (p.schema) validateSchema(p.schema, v, where, `query parameter ${k}`);
  }
  for (const p of declared) {
    if (p.in === 'path' && p.required && found.params[p.name] === undefined) violation(where, `missing path parameter ${p.name}`);
    if (p.in === 'query' && p.required && !url.searchParams.has(p.name)) violation(where, `missing query parameter ${p.name}`);
    if (p.in === 'header' && req.headers[p.name.toLowerCase()] !== undefined && p.schema) {
      // style: simple (the only style headers have): an array is comma-separated.
      const raw = req.headers[p.name.toLowerCase()];
      const value = deref(p.schema).type === 'array' ? raw.split(',').map((x) => x.trim()) : raw;
      validateSchema(p.schema, value, where, `header ${p.name}`);
    }
  }
  const rb = deref(found.op.requestBody);
  if (!rb) {
    if (body.length) violation(where, 'a body where the operation takes none');
    return null;
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
  const media = rb.content?.[type];
  if (!media) {
    violation(where, `request content type '${type}' is not one of ${Object.keys(rb.content ?? {})}`);
    return null;
  }
  let value;
  try {
    value = type === 'application/json' ? JSON.parse(body.toString('utf8'))
      : Object.fromEntries(new URLSearchParams(body.toString('utf8')));
  } catch (e) {
    violation(where, `request body is not ${type}: ${e.message}`);
    return null;
  }
  validateSchema(media.schema, value, where, 'request body');
  return value;
}

function responseSpec(op, status) {
  const rs = op.responses ?? {};
  return deref(rs[String(status)] ?? rs[`${String(status)[0]}XX`] ?? rs.default);
}

// ---- storage ----
const nsKey = (levels) => levels.join('\u001f');
const ms = () => Date.now();

// Writes the next metadata file of a table; resolves its location.
async function writeMetadata(table, metadata) {
  const version = table.version + 1;
  const name = `${String(version).padStart(5, '0')}-${crypto.randomUUID()}.metadata.json`;
  const text = JSON.stringify(metadata, null, 2);
  if (metadata.location.startsWith('s3://')) {
    const location = `${metadata.location}/metadata/${name}`;
    await s3Put(location, Buffer.from(text));
    table.version = version;
    return location;
  }
  const dir = path.join(fileURLToPathSafe(metadata.location), 'metadata');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
  table.version = version;
  return pathToFileURL(file).href;
}

// PUT s3://BUCKET/KEY to the S3 endpoint (path style), signed as any S3
// client signs, so a verifying S3 server checks the catalog too.
async function s3Put(location, body) {
  if (!s3) throw new Error(`the test catalog was started without --s3-warehouse, so it cannot write ${location}`);
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  const { hostname, port } = s3.endpoint;
  const request = { method: 'PUT', protocol: 'http:', hostname, port: port ? Number(port) : undefined, path: `/${m[1]}/${m[2]}`,
    query: {}, headers: { host: s3.endpoint.host, 'x-amz-content-sha256': crypto.createHash('sha256').update(body).digest('hex'),
      'content-length': String(body.length), 'user-agent': 'rest-catalog-test' }, body };
  const signed = await s3.signer.sign(request);
  const status = await new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method: 'PUT', path: request.path, headers: signed.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
  if (status !== 200) throw new Error(`PUT ${location} to ${s3.endpoint.origin}: HTTP ${status}`);
  stats.s3Puts++;
}

function fileURLToPathSafe(loc) {
  if (!loc.startsWith('file:')) throw new Error(`the test catalog only stores file:// locations, not ${loc}`);
  return decodeURIComponent(loc.replace(/^file:\/\//, '').replace(/^file:/, ''));
}

function newTableMetadata(req, location) {
  const fieldIds = (fields) => fields.flatMap((f) => [f.id, ...(f.type?.fields ? fieldIds(f.type.fields) : [])]);
  const schema = { ...req.schema, 'schema-id': 0 };
  const spec0 = { 'spec-id': 0, fields: req['partition-spec']?.fields ?? [] };
  return {
    'format-version': 2,
    'table-uuid': crypto.randomUUID(),
    location,
    'last-sequence-number': 0,
    'last-updated-ms': ms(),
    'last-column-id': Math.max(0, ...fieldIds(schema.fields)),
    schemas: [schema],
    'current-schema-id': 0,
    'partition-specs': [spec0],
    'default-spec-id': 0,
    'last-partition-id': Math.max(999, ...spec0.fields.map((f) => f['field-id'])),
    'sort-orders': [req['write-order'] ?? { 'order-id': 0, fields: [] }],
    'default-sort-order-id': req['write-order']?.['order-id'] ?? 0,
    properties: req.properties ?? {},
    'current-snapshot-id': -1,
    refs: {},
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
  };
}

class HttpError extends Error {
  constructor(code, type, message) { super(message); this.code = code; this.type = type; }
}

// Applies a CommitTableRequest to a copy of the table's metadata. Callers
// hold the table's lock (writing the metadata file awaits).
async function applyCommit(table, body) {
  const md = structuredClone(table.metadata);
  for (const r of body.requirements) {
    if (r.type === 'assert-table-uuid') {
      if (r.uuid !== md['table-uuid']) throw new HttpError(409, 'CommitFailedException', `table uuid is ${md['table-uuid']}, not ${r.uuid}`);
    } else if (r.type === 'assert-ref-snapshot-id') {
      const have = md.refs[r.ref]?.['snapshot-id'] ?? null;
      if (have !== r['snapshot-id'])
        throw new HttpError(409, 'CommitFailedException', `requirement failed: ref ${r.ref} is at ${have}, expected ${r['snapshot-id']}`);
    } else {
      throw new HttpError(400, 'BadRequestException', `the test catalog does not check requirement ${r.type}`);
    }
  }
  for (const u of body.updates) {
    if (u.action === 'add-snapshot') {
      const s = u.snapshot;
      if (md.snapshots.some((x) => x['snapshot-id'] === s['snapshot-id']))
        throw new HttpError(400, 'BadRequestException', `snapshot ${s['snapshot-id']} already exists`);
      if (s['sequence-number'] <= md['last-sequence-number'])
        throw new HttpError(400, 'BadRequestException', `sequence number ${s['sequence-number']} is not above ${md['last-sequence-number']}`);
      md.snapshots.push(s);
      md['last-sequence-number'] = s['sequence-number'];
      md['last-updated-ms'] = Math.max(md['last-updated-ms'] + 1, s['timestamp-ms']);
    } else if (u.action === 'set-snapshot-ref') {
      const s = md.snapshots.find((x) => x['snapshot-id'] === u['snapshot-id']);
      if (!s) throw new HttpError(400, 'BadRequestException', `set-snapshot-ref to unknown snapshot ${u['snapshot-id']}`);
      md.refs[u['ref-name']] = { 'snapshot-id': u['snapshot-id'], type: u.type };
      if (u['ref-name'] === 'main') {
        md['current-snapshot-id'] = u['snapshot-id'];
        md['snapshot-log'].push({ 'timestamp-ms': s['timestamp-ms'], 'snapshot-id': u['snapshot-id'] });
      }
    } else {
      throw new HttpError(400, 'BadRequestException', `the test catalog does not apply update ${u.action}`);
    }
  }
  md['metadata-log'].push({ 'timestamp-ms': table.metadata['last-updated-ms'], 'metadata-file': table.metadataLocation });
  const location = await writeMetadata(table, md);
  table.metadata = md;
  table.metadataLocation = location;
}

// Runs fn with the table to itself: one commit at a time, as a catalog's
// compare-and-swap on its database row would serialize them.
function withTable(table, fn) {
  const run = (table.lock ?? Promise.resolve()).then(() => fn(table));
  table.lock = run.catch(() => {});
  return run;
}

// "Another writer" commits a copy of the current snapshot (same files).
async function foreignCommit(table) {
  const md = table.metadata;
  const cur = md.snapshots.find((s) => s['snapshot-id'] === md['current-snapshot-id']);
  const id = Number(crypto.randomBytes(6).readUIntBE(0, 6));
  const snap = { ...cur, 'snapshot-id': id, 'parent-snapshot-id': cur['snapshot-id'],
    'sequence-number': md['last-sequence-number'] + 1, 'timestamp-ms': ms(),
    summary: { ...cur.summary, operation: 'append', 'added-records': '0', 'added-data-files': '0', 'test.foreign-writer': 'true' } };
  await applyCommit(table, { requirements: [], updates: [{ action: 'add-snapshot', snapshot: snap },
    { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id }] });
}

// ---- handlers: (params, body, url) -> [status, body] ----
function warehouseOf(params) {
  const wh = [...warehouses.values()].find((w) => w.id === params.prefix);
  if (!wh) throw new HttpError(404, 'NoSuchWarehouseException', `no warehouse with id ${params.prefix}`);
  return wh;
}
const nsLevels = (s) => s.split('\u001f');
function tableOf(params) {
  const wh = warehouseOf(params);
  const ns = nsKey(nsLevels(params.namespace));
  if (!wh.namespaces.has(ns)) throw new HttpError(404, 'NoSuchNamespaceException', `namespace ${params.namespace} does not exist`);
  const t = wh.tables.get(`${ns}\u0000${params.table}`);
  if (!t) throw new HttpError(404, 'NoSuchTableException', `table ${params.table} does not exist`);
  return t;
}
// A LoadTableResult. In S3 mode its config tells the client how to reach the
// table's files, as Lakekeeper's does; vended keys only for a client that
// asked for them.
function loadResult(t, req) {
  const out = { 'metadata-location': t.metadataLocation, metadata: t.metadata, config: {} };
  if (!s3 || !t.metadata.location.startsWith('s3://')) return out;
  out.config = { 's3.endpoint': s3.advertised, 's3.region': s3.region, 'client.region': s3.region,
    's3.path-style-access': 'true' };
  const asked = (req.headers['x-iceberg-access-delegation'] ?? '').split(',').map((x) => x.trim());
  if (s3.vend && asked.includes('vended-credentials')) {
    const [id, secret] = s3.vendKeys[stats.vended++ % s3.vendKeys.length];
    const keys = { 's3.access-key-id': id, 's3.secret-access-key': secret };
    if (s3.vend === 'config') Object.assign(out.config, keys);
    else out['storage-credentials'] = [{ prefix: `${s3.warehouse}/`, config: { 's3.region': s3.region } },
      { prefix: t.metadata.location, config: keys }];
  }
  return out;
}

const handlers = {
  'GET /v1/config': (p, b, url) => {
    const name = url.searchParams.get('warehouse');
    const wh = warehouses.get(name);
    if (!wh) throw new HttpError(400, 'BadRequestException', `warehouse '${name}' does not exist`);
    return [200, { defaults: {}, overrides: { prefix: wh.id }, endpoints: Object.keys(handlers).filter((k) => k.includes('{prefix}')) }];
  },
  'POST /v1/oauth/tokens': (p, b) => {
    if (!args.credential || b.grant_type !== 'client_credentials' || `${b.client_id}:${b.client_secret}` !== args.credential)
      return [401, { error: 'invalid_client', error_description: 'unknown client or wrong secret' }];
    const token = crypto.randomBytes(16).toString('hex');
    tokens.set(token, tokenUses);
    stats.tokens++;
    return [200, { access_token: token, token_type: 'bearer', expires_in: 3600, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' }];
  },
  'GET /v1/{prefix}/namespaces': (p) => [200, { namespaces: [...warehouseOf(p).namespaces.keys()].map(nsLevels) }],
  'POST /v1/{prefix}/namespaces': (p, b) => {
    const wh = warehouseOf(p);
    const key = nsKey(b.namespace);
    if (wh.namespaces.has(key)) throw new HttpError(409, 'AlreadyExistsException', `namespace ${b.namespace} exists`);
    wh.namespaces.set(key, b.properties ?? {});
    return [200, { namespace: b.namespace, properties: b.properties ?? {} }];
  },
  'GET /v1/{prefix}/namespaces/{namespace}': (p) => {
    const wh = warehouseOf(p);
    const props = wh.namespaces.get(nsKey(nsLevels(p.namespace)));
    if (!props) throw new HttpError(404, 'NoSuchNamespaceException', `namespace ${p.namespace} does not exist`);
    return [200, { namespace: nsLevels(p.namespace), properties: props }];
  },
  'POST /v1/{prefix}/namespaces/{namespace}/tables': async (p, b, url, req) => {
    const wh = warehouseOf(p);
    const levels = nsLevels(p.namespace);
    if (!wh.namespaces.has(nsKey(levels))) throw new HttpError(404, 'NoSuchNamespaceException', `namespace ${p.namespace} does not exist`);
    const key = `${nsKey(levels)}\u0000${b.name}`;
    if (wh.tables.has(key)) throw new HttpError(409, 'AlreadyExistsException', `table ${b.name} exists`);
    const t = { version: -1, metadata: newTableMetadata(b, b.location ?? pathToFileURL(path.join(root, wh.name, ...levels, b.name)).href) };
    // Lakekeeper's layout: the warehouse's id, then the table's.
    if (s3 && !b.location) t.metadata.location = `${s3.warehouse}/${wh.id}/${t.metadata['table-uuid']}`;
    wh.tables.set(key, t); // taken now: a racing create gets 409
    try {
      t.metadataLocation = await writeMetadata(t, t.metadata);
    } catch (e) {
      wh.tables.delete(key);
      throw e;
    }
    return [200, loadResult(t, req)];
  },
  'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}': (p, b, url, req) => [200, loadResult(tableOf(p), req)],
  'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}': (p, b) => withTable(tableOf(p), (t) => commitTable(t, b)),
};

async function commitTable(t, b) {
  stats.commits++;
  if (faults.failBeforeApply > 0) {
    faults.failBeforeApply--;
    stats.injected500++;
    throw new HttpError(500, 'InternalServerError', 'injected failure before the commit applied');
  }
  if (faults.foreignCommits > 0 && t.metadata['current-snapshot-id'] !== -1) {
    faults.foreignCommits--;
    stats.foreign++;
    await foreignCommit(t);
  }
  try {
    await applyCommit(t, b);
  } catch (e) {
    if (e.code === 409) stats.conflicts++;
    throw e;
  }
  stats.committed++;
  if (faults.failAfterApply > 0) {
    faults.failAfterApply--;
    stats.injected500++;
    throw new HttpError(500, 'CommitStateUnknownException', 'injected failure after the commit applied');
  }
  if (faults.hangAfterApply > 0) {
    faults.hangAfterApply--;
    stats.hung++;
    return [200, { 'metadata-location': t.metadataLocation, metadata: t.metadata }, faults.hangMs];
  }
  return [200, { 'metadata-location': t.metadataLocation, metadata: t.metadata }];
}

// ---- server ----
function send(res, status, body, found, where) {
  if (found) {
    const rs = responseSpec(found.op, status);
    if (!rs) violation(where, `response status ${status} is not declared`);
    else if (body !== undefined) {
      const media = rs.content?.['application/json'];
      if (!media) violation(where, `response ${status} declares no JSON body`);
      else validateSchema(media.schema, body, where, `response ${status} body`);
    }
  }
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://x');
    const where = `${req.method} ${url.pathname}${url.search}`;
    if (url.pathname === '/__violations') return send(res, 200, violations);
    if (url.pathname === '/__stats') return send(res, 200, { ...stats, faults });
    if (url.pathname === '/__faults' && req.method === 'POST') {
      Object.assign(faults, JSON.parse(body.toString('utf8')));
      return send(res, 200, faults);
    }
    stats.requests++;
    if (!url.pathname.startsWith(`${BASE}/v1/`)) {
      violation(where, `not below ${BASE}/v1`);
      return send(res, 404, { error: { message: `no route ${url.pathname}`, type: 'NotFoundException', code: 404 } });
    }
    const p = url.pathname.slice(BASE.length);
    // Match on the raw path: %1F separates namespace levels inside one segment.
    const found = findOperation(req.method, p);
    if (!found) {
      violation(where, 'no operation in the contract has this method and path');
      return send(res, 404, { error: { message: `no route ${req.method} ${p}`, type: 'NotFoundException', code: 404 } });
    }
    const before = violations.length;
    const parsed = validateRequest(found, req, url, body, where);
    const fail = (code, type, message) => send(res, code, { error: { message, type, code } }, found, where);
    if (violations.length > before) {
      stats.invalidRequests++;
      return fail(400, 'BadRequestException', `the request violates the contract: ${violations[before].what}`);
    }
    if (args.credential && found.tpl !== '/v1/oauth/tokens') {
      const auth = req.headers.authorization ?? '';
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : null;
      const left = token ? tokens.get(token) : undefined;
      if (!left) {
        stats.unauthorized++;
        return fail(401, 'NotAuthorizedException', token ? 'the token expired' : 'a bearer token is required');
      }
      tokens.set(token, left - 1);
    }
    const h = handlers[`${req.method} ${found.tpl}`];
    if (!h) return fail(406, 'UnsupportedOperationException', `the test catalog does not implement ${req.method} ${found.tpl}`);
    const client = `${req.socket.remoteAddress}:${req.socket.remotePort} ${url.pathname}`;
    const t0 = performance.now();
    if (req.method === 'GET' && found.tpl.endsWith('{table}')) lastLoad.set(client, t0);
    try {
      const [status, out, delayMs] = await h(found.params, parsed ?? {}, url, req);
      if (delayMs) return setTimeout(() => send(res, status, out, found, where), delayMs);
      send(res, status, out, found, where);
      if (req.method === 'POST' && found.tpl.endsWith('{table}') && status === 200 && lastLoad.has(client))
        stats.commitCycleMs.push(performance.now() - lastLoad.get(client));
    } catch (e) {
      if (!(e instanceof HttpError)) {
        console.error(e);
        return fail(500, 'InternalServerError', e.message);
      }
      fail(e.code, e.type, e.message);
    }
  });
});
server.listen(Number(args.port ?? 0), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
