// history.js: the History view: /api/history with search, status and
// category filters, server-side sorting and paging, and the CSV export
// link for the same filter.
import { getJSON } from './api.js';
import { bytes, dateTime, debounce, h } from './format.js';

const LIMIT = 25;
const LABELS = ['Name', 'Size', 'Status', 'Started', 'Completed', 'User', 'Category', 'Down', 'Up', 'Ratio'];

export function initHistory() {
  const $ = (id) => document.getElementById(id);
  const section = $('view-history');
  let sortBy = 'started_at', sortDir = 'desc', offset = 0, total = 0, visible = false, seq = 0;

  function params(paged) {
    const p = new URLSearchParams();
    const s = $('hist-search').value.trim(), st = $('hist-status').value, c = $('hist-category').value.trim();
    if (s) p.set('search', s);
    if (st) p.set('status', st);
    if (c) p.set('category', c);
    p.set('sortBy', sortBy);
    p.set('sortDir', sortDir);
    if (paged) { p.set('limit', String(LIMIT)); p.set('offset', String(offset)); }
    return p;
  }

  async function load() {
    if (!visible) return;
    const mine = ++seq;
    const ex = params(false);
    ex.set('format', 'csv');
    $('hist-export').href = '/api/history/export?' + ex;
    let d;
    try {
      d = await getJSON('/api/history?' + params(true));
    } catch (e) {
      if (mine !== seq) return;
      $('hist-body').replaceChildren(h('tr', {}, h('td', { colspan: '10', class: 'error' },
        e.status === 403 ? 'The history needs the view_history capability.' : e.message)));
      return;
    }
    if (mine !== seq) return;   // a newer request went out meanwhile
    total = d.total;
    $('hist-body').replaceChildren(...d.entries.map((e) => {
      const v = [e.filename, bytes(e.size), e.status, dateTime(e.started_at), dateTime(e.completed_at),
        e.username || '', e.category || '', bytes(e.downloaded), bytes(e.uploaded), (Number(e.ratio) || 0).toFixed(2)];
      return h('tr', { dataset: { hash: e.hash }, class: 'hs-' + e.status },
        v.map((x, i) => h('td', { dataset: { label: LABELS[i] }, title: i === 0 ? e.hash : null }, x)));
    }));
    if (!d.entries.length)
      $('hist-body').append(h('tr', {}, h('td', { colspan: '10', class: 'empty' }, 'No history matches.')));
    $('hist-range').textContent = total ? `${offset + 1}–${offset + d.entries.length} of ${total}` : '0 of 0';
    $('hist-prev').disabled = offset === 0;
    $('hist-next').disabled = offset + LIMIT >= total;
  }

  const reload = () => { offset = 0; load(); };
  $('hist-search').addEventListener('input', debounce(reload, 300));
  $('hist-category').addEventListener('input', debounce(reload, 300));
  $('hist-status').addEventListener('change', reload);
  $('hist-prev').addEventListener('click', () => { offset = Math.max(0, offset - LIMIT); load(); });
  $('hist-next').addEventListener('click', () => { offset += LIMIT; load(); });
  for (const th of section.querySelectorAll('th[data-key]'))
    th.querySelector('button').addEventListener('click', () => {
      sortDir = th.dataset.key === sortBy && sortDir === 'desc' ? 'asc' : 'desc';
      sortBy = th.dataset.key;
      for (const o of section.querySelectorAll('th[data-key]'))
        o.setAttribute('aria-sort', o === th ? (sortDir === 'asc' ? 'ascending' : 'descending') : 'none');
      reload();
    });
  return {
    show() { visible = true; section.hidden = false; load(); },
    hide() { visible = false; section.hidden = true; },
  };
}
