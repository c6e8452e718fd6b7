// tidewatch dashboard: vanilla JS, no external requests. Every value from
// the server is rendered with textContent or SVG attributes, never as HTML.
'use strict';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const PAGE_SIZE = 15;
const COLORS = { latency: '#d92d20', loss: '#e8720c', bandwidth: '#7a3ee0' };
const OTHER_COLORS = ['#3b7d6e', '#2e90fa', '#c11574', '#667085'];
const RANGES = { '10m': 10 * 60e3, '1h': 3600e3, '24h': 24 * 3600e3 };
// As the seed's dashboard: the last 24 hours until the user picks otherwise.
const DEFAULT_RANGE = '24h';

const state = {
  q: '', from: '', to: '', range: '', sort: 'time_desc', page: 1,
  types: null, // null: every type (until meta says which exist)
  device: '', tz: 'utc', paused: false,
};
let meta = { types: [] };
let lastTotal = 0;
let pendingChanges = 0;
const freshKeys = new Set();
const latest = {}; // channel -> request number; older responses are dropped
const controllers = {};

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function svgEl(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

function typeColor(name, i) {
  return COLORS[name] || OTHER_COLORS[i % OTHER_COLORS.length];
}

// ---- time --------------------------------------------------------------

function tzOffsetMin() {
  return state.tz === 'utc' ? 0 : -new Date().getTimezoneOffset();
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// "YYYY-MM-DD HH:MM:SS" in the chosen zone: the text the API's q matches.
function showTime(iso) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return String(iso);
  const d = new Date(ms + tzOffsetMin() * 60e3);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

// datetime-local value (in the chosen zone) -> ISO instant with Z.
function inputToIso(v) {
  if (!v) return '';
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?/.exec(v);
  if (!m) return '';
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)) - tzOffsetMin() * 60e3;
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function isoToInput(iso) {
  if (!iso) return '';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  return showTime(new Date(ms).toISOString()).replace(' ', 'T');
}

// ---- URL state ------------------------------------------------------------

function readUrl() {
  const p = new URLSearchParams(location.search);
  state.q = p.get('q') || '';
  state.from = p.get('from') || '';
  state.to = p.get('to') || '';
  state.range = RANGES[p.get('range')] || p.get('range') === 'all' ? p.get('range') : '';
  if (!p.has('range') && !p.has('from') && !p.has('to')) state.range = DEFAULT_RANGE;
  state.sort = p.get('sort') === 'time_asc' ? 'time_asc' : 'time_desc';
  state.page = Math.max(1, parseInt(p.get('page') || '1', 10) || 1);
  state.types = p.has('types') ? p.get('types').split(',').filter(Boolean) : null;
  state.device = p.get('device') || '';
  state.tz = p.get('tz') === 'local' ? 'local' : 'utc';
  state.paused = p.get('live') === '0';
}

function writeUrl() {
  const p = new URLSearchParams();
  if (state.q) p.set('q', state.q);
  if (state.range && state.range !== DEFAULT_RANGE) p.set('range', state.range);
  else {
    if (state.from) p.set('from', state.from);
    if (state.to) p.set('to', state.to);
  }
  if (state.sort !== 'time_desc') p.set('sort', state.sort);
  if (state.page > 1) p.set('page', String(state.page));
  if (state.types) p.set('types', state.types.join(','));
  if (state.device) p.set('device', state.device);
  if (state.tz !== 'utc') p.set('tz', state.tz);
  if (state.paused) p.set('live', '0');
  const qs = p.toString();
  history.replaceState(null, '', qs ? `?${qs}` : location.pathname);
}

// The effective time range: a quick range is relative to now, so it is
// recomputed on every query.
function timeRange() {
  if (state.range && RANGES[state.range]) {
    return { from: new Date(Date.now() - RANGES[state.range]).toISOString(), to: '' };
  }
  if (state.range === 'all') return { from: '', to: '' };
  return { from: state.from, to: state.to };
}

function selectedTypes() {
  return state.types || meta.types.map((t) => t.name);
}

function filterParams() {
  const p = new URLSearchParams();
  if (state.q) p.set('q', state.q);
  const r = timeRange();
  if (r.from) p.set('from', r.from);
  if (r.to) p.set('to', r.to);
  p.set('types', selectedTypes().join(','));
  if (tzOffsetMin()) p.set('tz', String(tzOffsetMin()));
  return p;
}

// ---- fetching -------------------------------------------------------------

async function getJson(channel, url) {
  const n = (latest[channel] = (latest[channel] || 0) + 1);
  if (controllers[channel]) controllers[channel].abort();
  const ctl = (controllers[channel] = new AbortController());
  let res;
  try {
    res = await fetch(url, { signal: ctl.signal, credentials: 'same-origin' });
  } catch (e) {
    if (e.name === 'AbortError') return null;
    throw e;
  }
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (n !== latest[channel]) return null; // a newer request has been sent
  if (res.status === 401) {
    $('auth').hidden = false;
    throw new Error('This server needs an access token.');
  }
  if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

function showError(msg) {
  $('error').hidden = !msg;
  $('error').textContent = msg || '';
}

async function loadRows() {
  const p = filterParams();
  p.set('sort', state.sort);
  p.set('limit', String(PAGE_SIZE));
  p.set('offset', String((state.page - 1) * PAGE_SIZE));
  $('loading').hidden = false;
  try {
    const body = await getJson('rows', `/api/anomalies?${p}`);
    if (!body) return;
    showError('');
    renderRows(body);
  } catch (e) {
    showError(e.message);
  } finally {
    $('loading').hidden = true;
  }
}

function renderRows(body) {
  lastTotal = body.total;
  const pages = Math.max(1, Math.ceil(body.total / PAGE_SIZE));
  if (state.page > pages && body.total > 0) {
    state.page = pages;
    writeUrl();
    loadRows();
    return;
  }
  const tbody = $('rows');
  const rows = body.rows.map((r) => {
    const tr = el('tr');
    tr.tabIndex = 0;
    tr.dataset.device = r.device_id;
    const key = `${r.device_id}\u0000${r.window_start}`;
    if (freshKeys.has(key)) tr.className = 'fresh';
    tr.append(el('td', r.device_id, 'device'), el('td', showTime(r.window_start)),
      el('td', fmt(r.avg_latency_ms), 'num'), el('td', fmt(r.avg_packet_loss_rate), 'num'),
      el('td', fmt(r.avg_bandwidth_usage), 'num'));
    const tags = el('td');
    for (const t of r.types || []) tags.append(el('span', labelOf(t), `tag ${cssType(t)}`));
    tr.append(tags);
    tr.addEventListener('click', () => openDevice(r.device_id));
    tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') openDevice(r.device_id); });
    return tr;
  });
  tbody.replaceChildren(...rows);
  freshKeys.clear();
  $('empty').hidden = body.total !== 0;
  $('showing').textContent = `Showing ${body.rows.length} of ${body.total}`;
  $('page').textContent = `Page ${state.page} of ${pages}`;
  $('prev').disabled = state.page <= 1;
  $('next').disabled = state.page >= pages;
  $('updated').textContent = `Last update: ${showTime(new Date().toISOString())}${state.tz === 'utc' ? ' UTC' : ''}`;
}

function fmt(v) {
  return typeof v === 'number' ? v.toFixed(2) : v === null || v === undefined ? '—' : String(v);
}

function cssType(t) {
  return COLORS[t] ? t : 'other';
}

function labelOf(t) {
  const m = meta.types.find((x) => x.name === t);
  return m ? m.label : t;
}

async function loadSummary() {
  const p = filterParams();
  try {
    const body = await getJson('summary', `/api/summary?${p}`);
    if (body) renderChart(body);
  } catch (e) {
    showError(e.message);
  }
}

function renderChart(body) {
  const W = 600, H = 180, padL = 32, padB = 18;
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Anomalies per time bucket by type' });
  const buckets = body.buckets;
  const max = Math.max(1, ...buckets.map((b) => body.types.reduce((s, t) => s + (b.counts[t] || 0), 0)));
  const bw = buckets.length ? (W - padL) / buckets.length : 0;
  svg.append(svgEl('line', { x1: padL, y1: H - padB, x2: W, y2: H - padB, stroke: '#c9ced8' }));
  const yl = svgEl('text', { x: 2, y: 12, 'font-size': 10, fill: '#667085' });
  yl.textContent = String(max);
  svg.append(yl);
  buckets.forEach((b, i) => {
    let y = H - padB;
    body.types.forEach((t, ti) => {
      const n = b.counts[t] || 0;
      if (!n) return;
      const h = (n / max) * (H - padB - 8);
      y -= h;
      const rect = svgEl('rect', { x: padL + i * bw + 1, y, width: Math.max(1, bw - 2), height: h, fill: typeColor(t, ti) });
      const title = svgEl('title');
      title.textContent = `${showTime(b.start)} ${labelOf(t)}: ${n}`;
      rect.append(title);
      svg.append(rect);
    });
  });
  for (const i of [0, buckets.length - 1]) {
    if (i < 0 || !buckets[i]) continue;
    const tx = svgEl('text', { x: i === 0 ? padL : W - 2, y: H - 4, 'font-size': 10, fill: '#667085', 'text-anchor': i === 0 ? 'start' : 'end' });
    tx.textContent = showTime(buckets[i].start).slice(5, 16);
    svg.append(tx);
  }
  $('chart').replaceChildren(svg);
  $('bucket').textContent = `(${body.bucket_seconds} s buckets)`;
  $('legend').replaceChildren(...body.types.map((t, ti) => {
    const s = el('span');
    const sw = el('span', null, 'swatch');
    sw.style.background = typeColor(t, ti);
    s.append(sw, document.createTextNode(labelOf(t)));
    return s;
  }));
}

async function loadDevices() {
  try {
    const body = await getJson('devices', '/api/devices?limit=10');
    if (!body) return;
    $('top-devices').replaceChildren(...body.devices.map((d) => {
      const li = el('li');
      const b = el('button', d.device_id);
      b.type = 'button';
      b.addEventListener('click', () => openDevice(d.device_id));
      li.append(b, document.createTextNode(` ${d.anomalies} anomal${d.anomalies === 1 ? 'y' : 'ies'}${d.anomalous_now ? ' · now' : ''}`));
      return li;
    }));
  } catch (e) {
    showError(e.message);
  }
}

// ---- drill-down -----------------------------------------------------------

function openDevice(id) {
  state.device = id;
  writeUrl();
  loadDrill();
  $('drill').scrollIntoView({ block: 'nearest' });
}

function closeDevice() {
  state.device = '';
  writeUrl();
  $('drill').hidden = true;
}

async function loadDrill() {
  if (!state.device) {
    $('drill').hidden = true;
    return;
  }
  $('drill').hidden = false;
  $('drill-device').textContent = state.device;
  const p = new URLSearchParams({ device: state.device, limit: '360' });
  const r = timeRange();
  if (r.from) p.set('from', r.from);
  if (r.to) p.set('to', r.to);
  try {
    const body = await getJson('drill', `/api/series?${p}`);
    if (!body) return;
    $('drill-info').textContent = `${body.rows.length} windows${body.truncated ? ' (latest shown)' : ''}`;
    const metrics = meta.types.filter((t) => t.metric);
    const seen = new Set(metrics.map((t) => t.metric));
    for (const name of ['avg_latency_ms', 'avg_packet_loss_rate', 'avg_bandwidth_usage']) {
      if (!seen.has(name)) metrics.push({ metric: name, label: name, name });
    }
    $('drill-charts').replaceChildren(...metrics.map((m, i) => seriesChart(body.rows, m, i)));
  } catch (e) {
    $('drill-info').textContent = e.message;
  }
}

function seriesChart(rows, m, i) {
  const W = 320, H = 140, pad = 6;
  const fig = el('figure');
  const vals = rows.map((r) => r[m.metric]).filter((v) => typeof v === 'number');
  const hi = Math.max(typeof m.threshold === 'number' ? m.threshold * 1.2 : 1, ...vals);
  const x = (k) => pad + (rows.length > 1 ? (k * (W - 2 * pad)) / (rows.length - 1) : (W - 2 * pad) / 2);
  const y = (v) => H - pad - (v / hi) * (H - 2 * pad);
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': m.metric });
  if (typeof m.threshold === 'number') {
    svg.append(svgEl('line', { x1: 0, x2: W, y1: y(m.threshold), y2: y(m.threshold), stroke: '#d92d20', 'stroke-dasharray': '4 3', class: 'threshold' }));
  }
  const pts = rows.map((r, k) => (typeof r[m.metric] === 'number' ? `${x(k).toFixed(1)},${y(r[m.metric]).toFixed(1)}` : null)).filter(Boolean);
  svg.append(svgEl('polyline', { points: pts.join(' '), fill: 'none', stroke: typeColor(m.name, i), 'stroke-width': 1.5 }));
  const cap = el('figcaption', `${m.metric}${typeof m.threshold === 'number' ? ` (threshold ${m.threshold}${m.unit ? ' ' + m.unit : ''})` : ''}` +
    (vals.length ? ` · latest ${fmt(vals[vals.length - 1])}` : ''));
  fig.append(svg, cap);
  return fig;
}

// ---- live -----------------------------------------------------------------

let refreshTimer = 0;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshAll, 250);
}

function refreshAll() {
  pendingChanges = 0;
  $('pending').hidden = true;
  loadRows();
  loadSummary();
  loadDevices();
  if (state.device) loadDrill();
}

function setLive(text, cls) {
  $('live-state').textContent = text;
  $('live-dot').className = `dot ${cls || ''}`;
}

function connectStream() {
  const es = new EventSource('/api/stream');
  es.addEventListener('hello', () => setLive(state.paused ? 'paused' : 'live', state.paused ? 'paused' : 'live'));
  const onChange = (ev) => {
    try {
      const row = JSON.parse(ev.data);
      if (ev.type !== 'cleared') freshKeys.add(`${row.device_id}\u0000${row.window_start}`);
    } catch (e) { /* a malformed event only costs its highlight */ }
    if (state.paused) {
      pendingChanges++;
      $('pending').hidden = false;
      $('pending').textContent = `${pendingChanges} change${pendingChanges === 1 ? '' : 's'} while paused`;
      return;
    }
    scheduleRefresh();
  };
  for (const t of ['new', 'updated', 'cleared']) es.addEventListener(t, onChange);
  // The anomaly view was created or dropped (e.g. over psql): its types and
  // thresholds may have changed.
  es.addEventListener('meta', () => loadMeta().then((ok) => { if (ok) refreshAll(); }));
  es.onerror = () => setLive('reconnecting…', '');
}

// ---- controls -------------------------------------------------------------

function syncControls() {
  $('q').value = state.q;
  // A quick range shows its window in the pickers (as the seed's did),
  // while it stays relative to now.
  const quick = RANGES[state.range];
  $('from').value = isoToInput(quick ? new Date(Date.now() - quick).toISOString() : state.range ? '' : state.from);
  $('to').value = isoToInput(quick ? new Date().toISOString() : state.range ? '' : state.to);
  $('sort').value = state.sort;
  for (const b of document.querySelectorAll('[data-range]')) {
    b.classList.toggle('active', b.dataset.range === state.range);
  }
  const sel = new Set(selectedTypes());
  for (const cb of document.querySelectorAll('#types input')) cb.checked = sel.has(cb.value);
  $('tz').textContent = `Times: ${state.tz === 'utc' ? 'UTC' : 'Local'}`;
  $('pause').textContent = state.paused ? 'Resume live' : 'Pause live';
  $('pause').setAttribute('aria-pressed', String(state.paused));
  setLive(state.paused ? 'paused' : 'live', state.paused ? 'paused' : 'live');
  const p = filterParams();
  p.set('sort', state.sort);
  $('export').href = `/api/anomalies.csv?${p}`;
}

function changed(resetPage = true) {
  if (resetPage) state.page = 1;
  writeUrl();
  syncControls();
  refreshAll();
}

function buildTypes() {
  const box = $('types');
  const legend = box.querySelector('legend');
  box.replaceChildren(legend, ...meta.types.map((t) => {
    const lab = el('label');
    const cb = el('input');
    cb.type = 'checkbox';
    cb.value = t.name;
    cb.id = `type-${t.name}`;
    cb.addEventListener('change', () => {
      state.types = [...box.querySelectorAll('input:checked')].map((x) => x.value);
      changed();
    });
    lab.append(cb, el('span', t.label, `tag ${cssType(t.name)}`));
    return lab;
  }));
  const parts = meta.types.filter((t) => typeof t.threshold === 'number')
    .map((t) => `${t.label}: ${t.metric} ${t.op || '>'} ${t.threshold}${t.unit ? ' ' + t.unit : ''}`);
  $('thresholds').textContent = parts.length
    ? `Anomaly thresholds (per 10 s window average) · ${parts.join(' · ')}`
    : 'Anomaly types come from the boolean is_* columns of the anomaly view.';
}

function wire() {
  let debounce = 0;
  $('q').addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { state.q = $('q').value.trim(); changed(); }, 250);
  });
  for (const id of ['from', 'to']) {
    $(id).addEventListener('change', () => {
      state.range = '';
      state.from = inputToIso($('from').value);
      state.to = inputToIso($('to').value);
      changed();
    });
  }
  $('sort').addEventListener('change', () => { state.sort = $('sort').value; changed(); });
  for (const b of document.querySelectorAll('[data-range]')) {
    b.addEventListener('click', () => {
      state.range = b.dataset.range;
      state.from = state.to = '';
      changed();
    });
  }
  $('refresh').addEventListener('click', () => refreshAll());
  $('prev').addEventListener('click', () => { if (state.page > 1) { state.page--; changed(false); } });
  $('next').addEventListener('click', () => {
    if (state.page < Math.ceil(lastTotal / PAGE_SIZE)) { state.page++; changed(false); }
  });
  $('pause').addEventListener('click', () => {
    state.paused = !state.paused;
    writeUrl();
    syncControls();
    if (!state.paused && pendingChanges) refreshAll();
  });
  $('tz').addEventListener('click', () => {
    // Keep the same instants while the inputs switch zone.
    state.tz = state.tz === 'utc' ? 'local' : 'utc';
    changed(false);
  });
  $('drill-close').addEventListener('click', closeDevice);
  $('auth-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.href = `/?token=${encodeURIComponent($('token').value)}`;
  });
  document.addEventListener('keydown', (ev) => {
    const typing = ['INPUT', 'SELECT', 'TEXTAREA'].includes(document.activeElement.tagName);
    if (ev.key === 'Escape' && state.device) closeDevice();
    if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === '/') { ev.preventDefault(); $('q').focus(); }
    else if (ev.key === 'r') refreshAll();
    else if (ev.key === 'p') $('pause').click();
    else if (ev.key === 't') $('tz').click();
  });
}

async function loadMeta() {
  try {
    const m = await getJson('meta', '/api/meta');
    if (!m) return false; // superseded by a newer load
    meta = m;
    $('version').textContent = meta.version || '';
  } catch (e) {
    showError(e.message);
    return false;
  }
  buildTypes();
  if (state.types) state.types = state.types.filter((t) => meta.types.some((m) => m.name === t));
  syncControls();
  return true;
}

async function start() {
  readUrl();
  wire();
  if (!(await loadMeta())) return;
  refreshAll();
  connectStream();
}

start();
