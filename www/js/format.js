// format.js: numbers, sizes, speeds and times as the page shows them, and
// h(), the one helper that builds DOM nodes (text always as text nodes).

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** bytes(n): "1.5 MiB". */
export function bytes(n) {
  n = Number(n) || 0;
  let i = 0;
  while (Math.abs(n) >= 1024 && i < UNITS.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(Math.round(n)) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)) + ' ' + UNITS[i];
}

/** speed(bps): "12.0 KiB/s", "–" for zero. */
export function speed(bps) { return bps > 0 ? bytes(bps) + '/s' : '–'; }

/** percent(p): progress 0..1 as "42.0 %". */
export function percent(p) { return (Math.floor((Number(p) || 0) * 1000) / 10).toFixed(1) + ' %'; }

/** dateTime(v): an ISO string or ms as local "2026-12-07 19:30"; "" for null. */
export function dateTime(v) {
  if (v === null || v === undefined || v === '') return '';
  const d = new Date(v);
  if (isNaN(d)) return '';
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** h(tag, attrs, ...children): an element; attrs may hold on* handlers,
 * "class", "dataset" and plain attributes; children strings become text. */
export function h(tag, attrs, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'checked' || k === 'value' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** debounce(fn, ms): fn called once the calls stop for ms. */
export function debounce(fn, ms) {
  let t = 0;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

/** setMsg(el, text, isError): a status line. */
export function setMsg(el, text, isError = false) {
  el.textContent = text || '';
  el.classList.toggle('error', !!isError);
}
