// charts.js: the Charts view: speed over 24 h / 7 d / 30 d and the bytes
// transferred per bucket, drawn as SVG from /api/metrics/dashboard (the
// route aMuTorrent polls), refreshed every 15 s while shown.
import { getJSON } from './api.js';
import { bytes, speed, dateTime, debounce, h, setMsg } from './format.js';

// W follows the chart's width on screen (320 to 1000), so that its text
// stays readable on a phone
let W = 800;
const H = 220, PAD = { l: 64, r: 10, t: 10, b: 24 };
const GAP = { '24h': 15e3, '7d': 9e5, '30d': 36e5 };       // speed bucket sizes
const BAR = { '24h': 9e5, '7d': 72e5, '30d': 216e5 };      // history bucket sizes
const SPAN = { '24h': 864e5, '7d': 6048e5, '30d': 2592e6 };
const svg = (tag, attrs, ...c) => h('svg:' + tag, attrs, ...c);

/** points(data, key, n): at most n points (each the mean of its group),
 * a null where buckets are missing (a gap: the daemon was not running). */
function points(data, key, bucket, n) {
  const out = [];
  const step = Math.max(1, Math.ceil(data.length / n));
  let prevEnd = null;
  for (let i = 0; i < data.length; i += step) {
    const g = data.slice(i, i + step);
    if (prevEnd !== null && g[0].timestamp - prevEnd > bucket * 1.5) out.push(null);
    let sum = 0;
    for (const b of g) sum += Number(b[key]) || 0;
    out.push({ t: g[0].timestamp, v: sum / g.length });
    prevEnd = g[g.length - 1].timestamp;
  }
  return out;
}

function frame(t0, t1, max, fmt) {
  const g = svg('g', { class: 'axes' });
  for (let i = 0; i <= 4; i++) {
    const y = PAD.t + (H - PAD.t - PAD.b) * (1 - i / 4);
    g.append(svg('line', { x1: PAD.l, x2: W - PAD.r, y1: y, y2: y, class: 'grid' }),
      svg('text', { x: PAD.l - 6, y: y + 4, 'text-anchor': 'end' }, i === 0 ? '0' : fmt((max * i) / 4)));
  }
  g.append(svg('text', { x: PAD.l, y: H - 6 }, dateTime(t0)),
    svg('text', { x: W - PAD.r, y: H - 6, 'text-anchor': 'end' }, dateTime(t1)));
  return g;
}

const fitWidth = (el) => { W = Math.max(320, Math.min(1000, Math.round(el.clientWidth) || 800)); };

function lineChart(el, data, bucket, series) {
  fitWidth(el);
  const n = W - PAD.l - PAD.r;
  const sets = series.map((s) => points(data, s.key, bucket, n));
  const real = sets.flat().filter(Boolean);
  const max = Math.max(1, ...real.map((p) => p.v)) * 1.1;
  const t0 = data.length ? data[0].timestamp : Date.now(), t1 = data.length ? data[data.length - 1].timestamp : t0 + 1;
  const x = (t) => PAD.l + ((t - t0) / Math.max(1, t1 - t0)) * n;
  const y = (v) => PAD.t + (H - PAD.t - PAD.b) * (1 - v / max);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Speed chart' }, frame(t0, t1, max, speed));
  sets.forEach((pts, i) => {
    let d = '', pen = 'M';
    for (const p of pts) {
      if (!p) { pen = 'M'; continue; }
      d += `${pen}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)} `;
      pen = 'L';
    }
    const count = pts.filter(Boolean).length;
    root.append(svg('path', { d: d.trim() || 'M0,0', class: 'series ' + series[i].cls,
      dataset: { points: String(count), max: String(Math.max(0, ...pts.filter(Boolean).map((p) => p.v))) } }));
  });
  root.append(legend(series));
  el.replaceChildren(root);
}

// bars over the whole range (a bucket's share of the width), so that a
// day, a week or a month reads the same way however much of it ran
function barChart(el, data, bucket, series, span) {
  fitWidth(el);
  const n = W - PAD.l - PAD.r;
  const t1 = Math.ceil(Date.now() / bucket) * bucket, t0 = t1 - span;
  const max = Math.max(1, ...data.flatMap((b) => series.map((s) => Number(b[s.key]) || 0))) * 1.1;
  const bw = Math.max(1, (n * bucket) / Math.max(1, t1 - t0) / series.length - 0.5);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Bytes per bucket' }, frame(t0, t1, max, bytes));
  for (const b of data.filter((x) => x.timestamp >= t0)) {
    series.forEach((s, i) => {
      const v = Number(b[s.key]) || 0;
      const hgt = (H - PAD.t - PAD.b) * (v / max);
      root.append(svg('rect', { class: 'bar ' + s.cls, x: PAD.l + ((b.timestamp - t0) / (t1 - t0)) * n + i * bw,
        y: H - PAD.b - hgt, width: bw, height: hgt }, svg('title', {}, `${dateTime(b.timestamp)} ${s.label}: ${bytes(v)}`)));
    });
  }
  root.append(legend(series));
  el.replaceChildren(root);
}

function legend(series) {
  return svg('g', { class: 'legend' }, series.map((s, i) => svg('g', {},
    svg('rect', { x: W - PAD.r - 190 + i * 95, y: PAD.t, width: 10, height: 10, class: 'key ' + s.cls }),
    svg('text', { x: W - PAD.r - 176 + i * 95, y: PAD.t + 9 }, s.label))));
}

const SERIES_SPEED = [{ key: 'downloadSpeed', cls: 'series-down', label: 'download' },
  { key: 'uploadSpeed', cls: 'series-up', label: 'upload' }];
const SERIES_BYTES = [{ key: 'downloadedDelta', cls: 'series-down', label: 'downloaded' },
  { key: 'uploadedDelta', cls: 'series-up', label: 'uploaded' }];

export function initCharts() {
  const $ = (id) => document.getElementById(id);
  const section = $('view-charts');
  let range = '24h', timer = 0, visible = false, last = null;

  function draw(d) {
    lineChart($('speed-chart'), d.speedData.data, GAP[range], SERIES_SPEED);
    barChart($('bytes-chart'), d.historicalData.data, BAR[range], SERIES_BYTES, SPAN[range]);
  }
  window.addEventListener('resize', debounce(() => { if (visible && last) draw(last); }, 150));

  async function load() {
    clearTimeout(timer);
    if (!visible) return;
    try {
      const d = await getJSON('/api/metrics/dashboard?range=' + range);
      last = d;
      draw(d);
      const s = d.historicalStats;
      $('chart-stats').replaceChildren(
        h('dt', {}, 'Downloaded'), h('dd', {}, bytes(s.totalDownloaded)),
        h('dt', {}, 'Uploaded'), h('dd', {}, bytes(s.totalUploaded)),
        h('dt', {}, 'Average ↓ / ↑'), h('dd', {}, `${speed(s.avgDownloadSpeed)} / ${speed(s.avgUploadSpeed)}`),
        h('dt', {}, 'Peak ↓ / ↑'), h('dd', {}, `${speed(s.peakDownloadSpeed)} / ${speed(s.peakUploadSpeed)}`));
      setMsg($('charts-msg'), d.speedData.data.length ? '' : 'No samples in this range yet.');
    } catch (e) {
      setMsg($('charts-msg'), e.status === 403 ? 'Charts need the view_statistics capability.' : e.message, true);
    }
    timer = setTimeout(load, 15000);
  }

  for (const b of section.querySelectorAll('button.range'))
    b.addEventListener('click', () => {
      range = b.dataset.range;
      for (const o of section.querySelectorAll('button.range')) o.setAttribute('aria-pressed', String(o === b));
      load();
    });
  return {
    show() { visible = true; section.hidden = false; load(); },
    hide() { visible = false; section.hidden = true; clearTimeout(timer); },
  };
}
