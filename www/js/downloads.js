// downloads.js: the Downloads view: the table (sort, filter by state,
// category and name, multi-select), the actions on the selection (pause,
// resume, delete with or without files, category, priority) and the "add
// links" box. Its data comes from the downloads feed (downloads-feed.js);
// the priority is set over /ws (batchSetPriority, Muleteer's own action),
// and each row's parts map is drawn from the segment data (gapStatus).
import { postForm, qbitOk } from './api.js';
import { bytes, speed, percent, h, setMsg } from './format.js';
import { createDetail } from './detail.js';
import { md4Of } from './downloads-feed.js';

// qBittorrent 5 states -> [label, filter group]
const STATES = {
  downloading: ['Downloading', 'downloading'], forcedDL: ['Downloading (forced)', 'downloading'],
  metaDL: ['Downloading', 'downloading'], stalledDL: ['Stalled', 'stalled'],
  queuedDL: ['Queued', 'queued'], checkingDL: ['Checking', 'checking'],
  checkingUP: ['Checking', 'checking'], checkingResumeData: ['Checking', 'checking'],
  moving: ['Moving', 'checking'], stoppedDL: ['Paused', 'paused'], pausedDL: ['Paused', 'paused'],
  error: ['Error', 'error'], missingFiles: ['File missing', 'error'],
  uploading: ['Completed · uploading', 'completed'], stalledUP: ['Completed', 'completed'],
  forcedUP: ['Completed · uploading', 'completed'], queuedUP: ['Completed', 'completed'],
  stoppedUP: ['Completed · sharing stopped', 'completed'], pausedUP: ['Completed · sharing stopped', 'completed'],
};
const stateOf = (t) => STATES[t.state] || [t.state || '?', ''];

const COLS = ['name', 'size', 'progress', 'dlspeed', 'sources', 'state', 'priority', 'category', 'added_by'];
const LABELS = ['Name', 'Size', 'Progress', 'Speed', 'Sources', 'State', 'Priority', 'Category', 'Added by'];
const PRIO_RANK = { low: 0, normal: 1, high: 2 };
const PRIO_LABEL = { low: 'Low', normal: 'Normal', high: 'High' };

/** partsGradient(gaps, size): the CSS background of a parts map: verified
 * data green, the gaps (inclusive byte ranges [s1, e1, ...]) left bare;
 * gaps closer than 0.5 % of the width are drawn as one, so that a row
 * costs a few dozen stops at most. {image, verified (0..1), ranges}. */
export function partsGradient(gaps, size) {
  if (!size || !Array.isArray(gaps)) return null;
  const merged = [];
  const near = size / 200;
  let missing = 0;
  for (let i = 0; i + 1 < gaps.length; i += 2) {
    const s = Math.max(0, Number(gaps[i])), e = Math.min(size - 1, Number(gaps[i + 1]));
    if (!(e >= s)) continue;
    missing += e - s + 1;
    const last = merged[merged.length - 1];
    if (last && s - last[1] <= near) last[1] = Math.max(last[1], e); else merged.push([s, e]);
  }
  const pct = (x) => (x / size * 100).toFixed(2) + '%';
  const stops = [];
  let at = 0;
  for (const [s, e] of merged) {
    if (s > at) stops.push(`var(--ok) ${pct(at)} ${pct(s)}`);
    stops.push(`transparent ${pct(s)} ${pct(e + 1)}`);
    at = e + 1;
  }
  if (at < size) stops.push(`var(--ok) ${pct(at)} 100%`);
  if (stops.length === 1) stops.push(stops[0]);   // a gradient needs two
  return { image: `linear-gradient(to right, ${stops.join(', ')})`, verified: 1 - missing / size, ranges: merged.length };
}

export function initDownloads(feed, socket) {
  const $ = (id) => document.getElementById(id);
  const section = $('view-downloads');
  const body = $('dl-body');
  const rows = new Map();           // hash -> tr
  const selected = new Set();
  let sortKey = 'name', sortDir = 1, shown = [], visible = false;
  const detail = createDetail();

  const sortValue = (t, k) => (k === 'sources' ? (t.num_seeds || 0) * 1e6 + (t.num_leechs || 0)
    : k === 'state' ? stateOf(t)[0] : k === 'category' ? t.category || ''
      : k === 'priority' ? PRIO_RANK[t.priority] ?? -1 : t[k] ?? '');

  function filtered(state) {
    const fs = $('filter-state').value, fc = $('filter-category').value;
    const fn = $('filter-name').value.trim().toLowerCase();
    const list = [];
    for (const t of state.torrents.values()) {
      if (fs && stateOf(t)[1] !== fs) continue;
      if (fc === '\u0000none' ? t.category : fc && t.category !== fc) continue;
      if (fn && !(t.name || '').toLowerCase().includes(fn)) continue;
      list.push(t);
    }
    list.sort((a, b) => {
      const x = sortValue(a, sortKey), y = sortValue(b, sortKey);
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return c * sortDir || String(a.name).localeCompare(String(b.name));
    });
    return list;
  }

  function makeRow(t) {
    const cb = h('input', { type: 'checkbox', 'aria-label': 'Select ' + t.name,
      onchange: (e) => { if (e.target.checked) selected.add(t.hash); else selected.delete(t.hash); updateActions(); } });
    const fill = h('div', { class: 'fill' });
    const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100' }, fill);
    // the parts map: one element, its background drawn only when the gaps change
    const parts = h('div', { class: 'parts-strip', 'aria-hidden': 'true', hidden: true });
    const tds = COLS.map((k, i) => h('td', { class: 'c-' + k, dataset: { label: LABELS[i] } }));
    const nameBtn = h('button', { type: 'button', class: 'link', title: 'Details',
      onclick: () => detail.open(md4Of(t.hash), nameBtn.textContent, (feed.state.torrents.get(t.hash) || t).priority) });
    tds[0].append(nameBtn);
    tds[2].append(bar, parts, h('span', { class: 'pct' }));
    const tr = h('tr', { dataset: { hash: t.hash } }, h('td', { class: 'sel' }, cb), tds);
    tr._cells = { cb, fill, bar, parts, tds, nameBtn, gapKey: undefined };
    return tr;
  }

  function fillParts(cells, t) {
    const key = t.gaps ? t.size + ':' + t.gaps.join(',') : null;
    if (key === cells.gapKey) return;
    cells.gapKey = key;
    const g = key ? partsGradient(t.gaps, t.size) : null;
    cells.parts.hidden = !g;
    if (!g) return;
    cells.parts.style.backgroundImage = g.image;
    cells.parts.dataset.verified = g.verified.toFixed(3);
    cells.parts.dataset.ranges = String(g.ranges);
    cells.parts.title = `parts map: ${percent(g.verified)} verified`;
  }

  function fillRow(tr, t) {
    const { cb, fill, bar, tds, nameBtn } = tr._cells;
    const [label, group] = stateOf(t);
    if (nameBtn.textContent !== (t.name || t.hash)) nameBtn.textContent = t.name || t.hash;
    tds[1].textContent = bytes(t.size);
    const pct = Math.max(0, Math.min(1, Number(t.progress) || 0));
    fill.style.width = (pct * 100).toFixed(2) + '%';
    bar.setAttribute('aria-valuenow', (pct * 100).toFixed(1));
    tds[2].dataset.progress = String(pct);
    tds[2].querySelector('.pct').textContent = percent(pct);
    tds[3].textContent = speed(t.dlspeed) + (t.upspeed > 0 ? ' ↑ ' + speed(t.upspeed) : '');
    tds[4].textContent = `${t.num_seeds || 0}/${(t.num_seeds || 0) + (t.num_leechs || 0)}`;
    tds[4].title = 'complete sources / all sources';
    tds[5].textContent = label;
    if (t.comment) tds[5].append(h('small', { class: 'reason' }, t.comment));
    tds[5].dataset.state = t.state || '';
    tr.className = 'st-' + group;
    tds[6].textContent = PRIO_LABEL[t.priority] || '';
    tds[6].dataset.priority = t.priority || '';
    tds[7].textContent = t.category || '';
    tds[8].textContent = t.added_by || '';
    fillParts(tr._cells, t);
    cb.checked = selected.has(t.hash);
  }

  function render(state) {
    fillCategories(state);
    if (!visible) return;
    shown = filtered(state);
    for (const hash of [...rows.keys()]) if (!state.torrents.has(hash)) { rows.get(hash).remove(); rows.delete(hash); }
    for (const hash of [...selected]) if (!state.torrents.has(hash)) selected.delete(hash);
    const want = new Set(shown.map((t) => t.hash));
    for (const [hash, tr] of rows) if (!want.has(hash) && tr.parentNode) tr.remove();
    let prev = null;
    for (const t of shown) {
      let tr = rows.get(t.hash);
      if (!tr) { tr = makeRow(t); rows.set(t.hash, tr); }
      fillRow(tr, t);
      const at = prev ? prev.nextSibling : body.firstChild;
      if (at !== tr) body.insertBefore(tr, at);
      prev = tr;
    }
    $('dl-empty').hidden = shown.length > 0;
    $('dl-empty').textContent = state.torrents.size ? 'No download matches the filter.' : 'No downloads yet: add links above.';
    updateActions();
  }

  let catKey = '';
  function fillCategories(state) {
    const names = [...state.categories.keys()].sort();
    if (names.join('\n') === catKey) return;
    catKey = names.join('\n');
    const keep = (sel) => sel.value;
    const fc = $('filter-category'), ac = $('act-category'), v1 = keep(fc), v2 = keep(ac);
    fc.replaceChildren(h('option', { value: '' }, 'All'), h('option', { value: '\u0000none' }, '(none)'),
      ...names.map((n) => h('option', { value: n }, n)));
    ac.replaceChildren(h('option', { value: '' }, '(none)'), ...names.map((n) => h('option', { value: n }, n)));
    fc.value = v1; ac.value = v2;
    $('category-list').replaceChildren(...names.map((n) => h('option', { value: n })));
  }

  function updateActions() {
    const n = selected.size;
    $('dl-selected').textContent = n + ' selected';
    for (const id of ['act-pause', 'act-resume', 'act-delete', 'act-setcat', 'act-setprio']) $(id).disabled = n === 0;
    const all = $('sel-all');
    const onPage = shown.filter((t) => selected.has(t.hash)).length;
    all.checked = shown.length > 0 && onPage === shown.length;
    all.indeterminate = onPage > 0 && onPage < shown.length;
  }

  // the selection in batches of 100 (the most /api/v2 takes in hashes)
  async function act(path, extra = {}) {
    const hashes = [...selected];
    try {
      for (let i = 0; i < hashes.length; i += 100)
        await postForm('/api/v2/torrents/' + path, { hashes: hashes.slice(i, i + 100).join('|'), ...extra });
      setMsg($('dl-msg'), '');
    } catch (e) {
      setMsg($('dl-msg'), e.message, true);
    }
    await feed.refresh();
  }

  // the priority over /ws, in batches of 1000 (the most an action names)
  async function setPriority(hashes, priority, msgEl) {
    const md4s = hashes.map(md4Of).filter(Boolean);
    let denied = 0, failed = [];
    try {
      for (let i = 0; i < md4s.length; i += 1000) {
        const r = await socket.request('batchSetPriority', {
          items: md4s.slice(i, i + 1000).map((fileHash) => ({ fileHash })), priority,
        }, 'batch-priority-complete', 30000);
        for (const x of r.results || []) {
          if (x.denied) denied++;
          else if (!x.success) failed.push((x.fileName || x.fileHash) + (x.error ? ' (' + x.error + ')' : ''));
        }
      }
      const notes = [];
      if (denied) notes.push(`${denied} not yours to change`);
      if (failed.length) notes.push('failed: ' + failed.join(', '));
      setMsg(msgEl, notes.length ? 'Priority not set for ' + notes.join('; ') + '.' : '', notes.length > 0);
      return notes.length === 0;
    } catch (e) {
      setMsg(msgEl, 'The priority could not be set: ' + e.message, true);
      return false;
    }
  }
  detail.onPriority = (md4, priority) => setPriority([md4 + '00000000'], priority, $('detail-msg'));

  function sortBy(key) {
    sortDir = key === sortKey ? -sortDir : 1;
    sortKey = key;
    for (const th of section.querySelectorAll('th[data-key]'))
      th.setAttribute('aria-sort', th.dataset.key === key ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
    render(feed.state);
  }

  for (const th of section.querySelectorAll('th[data-key]'))
    th.querySelector('button').addEventListener('click', () => sortBy(th.dataset.key));
  for (const id of ['filter-state', 'filter-category']) $(id).addEventListener('change', () => render(feed.state));
  $('filter-name').addEventListener('input', () => render(feed.state));
  $('sel-all').addEventListener('change', (e) => {
    for (const t of shown) if (e.target.checked) selected.add(t.hash); else selected.delete(t.hash);
    render(feed.state);
  });
  $('act-pause').addEventListener('click', () => act('pause'));
  $('act-resume').addEventListener('click', () => act('resume'));
  $('act-setcat').addEventListener('click', () => act('setCategory', { category: $('act-category').value }));
  $('act-setprio').addEventListener('click', () => setPriority([...selected], $('act-priority').value, $('dl-msg')));
  $('act-delete').addEventListener('click', () => {
    $('confirm-text').textContent = `Delete ${selected.size} download${selected.size === 1 ? '' : 's'}?`;
    $('confirm-delete').hidden = false;
    $('del-keep').focus();
  });
  const closeConfirm = () => { $('confirm-delete').hidden = true; $('act-delete').focus(); };
  $('del-cancel').addEventListener('click', closeConfirm);
  $('confirm-delete').addEventListener('keydown', (e) => { if (e.key === 'Escape') closeConfirm(); });
  $('del-keep').addEventListener('click', async () => { closeConfirm(); await act('delete', { deleteFiles: 'false' }); });
  $('del-files').addEventListener('click', async () => { closeConfirm(); await act('delete', { deleteFiles: 'true' }); });
  $('add-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const links = $('add-links').value.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    if (!links.length) return;
    const params = { urls: links.join('\n') };
    if ($('add-category').value.trim()) params.category = $('add-category').value.trim();
    if ($('add-stopped').checked) params.stopped = 'true';
    $('add-submit').disabled = true;
    try {
      const r = await postForm('/api/v2/torrents/add', params);
      if (qbitOk(r)) {
        setMsg($('add-msg'), `Added (${links.length} link${links.length === 1 ? '' : 's'} sent).`);
        $('add-links').value = '';
      } else {
        setMsg($('add-msg'), 'Nothing was added: the links are not eD2K links or magnets, or the files are already there.', true);
      }
    } catch (e) {
      setMsg($('add-msg'), e.message, true);
    } finally {
      $('add-submit').disabled = false;
    }
    await feed.refresh();
  });

  feed.subscribe(render);
  return {
    show() { visible = true; section.hidden = false; feed.segments(true); render(feed.state); },
    hide() { visible = false; section.hidden = true; feed.segments(false); detail.close(false); },
  };
}
