// search.js: the Search view: an expression (docs/search.md's language;
// the filter fields add their name:value words to it), sent over /ws
// ("search"); results are shown as they are pushed (search-results,
// merged by hash) and the selected ones downloaded
// (batchDownloadSearchResults).
import { bytes, h, setMsg } from './format.js';
import { md4Of } from './downloads-feed.js';

const FILTERS = [['search-type', 'type'], ['search-ext', 'ext'], ['search-min', 'min'],
  ['search-max', 'max'], ['search-avail', 'avail']];

/** expression(text, filters): the text with the filter fields' words
 * added, each only when the text does not already carry that filter. */
export function expression(text, filters) {
  let e = text.trim();
  for (const [name, value] of filters) {
    const v = String(value || '').trim();
    if (!v || /\s/.test(v) || new RegExp('(^|\\s)' + name + ':', 'i').test(e)) continue;
    e += ' ' + name + ':' + v;
  }
  return e;
}

// where a result was found: the connected server, other servers (the
// global search over UDP), Kad
const ORIGIN = { server: 'server', udp: 'global', kad: 'Kad' };
export function foundBy(origins) {
  return (Array.isArray(origins) ? origins : []).map((o) => ORIGIN[o] || o).join(', ');
}

export function initSearch(feed, socket) {
  const $ = (id) => document.getElementById(id);
  const section = $('view-search');
  const results = new Map();   // fileHash -> result
  const rows = new Map();      // fileHash -> its tr
  const selected = new Set();
  let sortKey = 'sourceCount', sortDir = -1, shown = [], searching = false;
  const status = (t, err) => setMsg($('search-status'), t, err);

  const inDownloads = (hash) => {
    for (const k of feed.state.torrents.keys()) if (md4Of(k) === hash.toLowerCase()) return true;
    return false;
  };

  function makeRow(r) {
    const cb = h('input', { type: 'checkbox', 'aria-label': 'Select ' + r.fileName, onchange: (e) => {
      if (e.target.checked) selected.add(r.fileHash); else selected.delete(r.fileHash);
      updateActions();
    } });
    const name = h('td', { class: 'c-name', 'data-label': 'Name', title: r.fileName });
    const size = h('td', { class: 'c-size', 'data-label': 'Size' });
    const src = h('td', { class: 'c-sources', 'data-label': 'Sources' });
    const full = h('td', { class: 'c-sources', 'data-label': 'Complete' });
    const by = h('td', { class: 'c-origins', 'data-label': 'Found by' });
    const tr = h('tr', { dataset: { hash: r.fileHash } }, h('td', { class: 'sel' }, cb), name, size, src, full, by);
    tr._cells = { cb, name, size, src, full, by };
    return tr;
  }

  function fillRow(tr, r) {
    const { cb, name, size, src, full, by } = tr._cells;
    const have = inDownloads(r.fileHash);
    tr.className = have ? 'have' : '';
    name.replaceChildren(r.fileName, have ? h('small', { class: 'tag' }, ' in downloads') : '');
    size.textContent = bytes(r.fileSize);
    src.textContent = String(r.sourceCount ?? '');
    full.textContent = String(r.sourceCountXfer ?? '');
    by.textContent = foundBy(r.origins);
    cb.checked = selected.has(r.fileHash);
  }

  function render() {
    const f = $('sr-filter').value.trim().toLowerCase();
    shown = [...results.values()].filter((r) => !f || String(r.fileName).toLowerCase().includes(f));
    shown.sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return c * sortDir || String(a.fileName).localeCompare(String(b.fileName));
    });
    // rows are kept by hash and moved, not made again: results pushed
    // while the user picks some keep the keyboard focus and the selection
    const body = $('sr-body');
    const want = new Set(shown.map((r) => r.fileHash));
    for (const [hash, tr] of rows) if (!want.has(hash)) { tr.remove(); if (!results.has(hash)) rows.delete(hash); }
    let prev = null;
    for (const r of shown) {
      let tr = rows.get(r.fileHash);
      if (!tr) { tr = makeRow(r); rows.set(r.fileHash, tr); }
      fillRow(tr, r);
      const at = prev ? prev.nextSibling : body.firstChild;
      if (at !== tr) body.insertBefore(tr, at);
      prev = tr;
    }
    $('sr-empty').hidden = shown.length > 0;
    $('sr-empty').textContent = results.size ? 'No result matches the filter.' : searching ? 'Waiting for results…' : 'No results yet.';
    updateActions();
  }

  function updateActions() {
    for (const k of [...selected]) if (!results.has(k)) selected.delete(k);
    $('sr-selected').textContent = selected.size + ' selected';
    $('sr-download').disabled = selected.size === 0;
    const on = shown.filter((r) => selected.has(r.fileHash)).length;
    $('sr-all').checked = shown.length > 0 && on === shown.length;
    $('sr-all').indeterminate = on > 0 && on < shown.length;
  }

  function take(list, replace) {
    if (replace) results.clear();
    for (const r of list || []) if (r && r.fileHash) results.set(r.fileHash, r);
    if (section.hidden) return;
    render();
  }

  socket.on('search-lock', (m) => {
    searching = !!m.locked;
    $('search-submit').disabled = searching;
    if (searching) status('Searching…');
    else if (!section.hidden && $('search-status').textContent.startsWith('Searching…'))
      status(`Search finished: ${results.size} result${results.size === 1 ? '' : 's'}.`);
    render();
  });
  // results come as they are pushed: merged, so that a later push adds to them
  socket.on('search-results', (m) => {
    take(Array.isArray(m.data) ? m.data : [], false);
    if (!searching) status(`Search finished: ${results.size} result${results.size === 1 ? '' : 's'}.`);
    else status(`Searching… ${results.size} result${results.size === 1 ? '' : 's'} so far`);
  });
  socket.on('previous-search-results', (m) => { if (!results.size) take(m.data, true); });

  $('search-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const query = expression($('search-expr').value, FILTERS.map(([id, n]) => [n, $(id).value]));
    if (!query) return;
    results.clear();
    selected.clear();
    render();
    status('Searching…');
    try {
      await socket.request('search', { query, type: $('search-scope').value }, 'search-lock', 15000);
    } catch (e) {
      status(e.message, true);
    }
  });

  $('sr-download').addEventListener('click', async () => {
    const fileHashes = [...selected];
    const categoryName = $('sr-category').value.trim() || 'Default';
    $('sr-download').disabled = true;
    try {
      const r = await socket.request('batchDownloadSearchResults', { fileHashes, categoryName },
        'batch-download-complete', 30000);
      const bad = (r.results || []).filter((x) => !x.success);
      status(bad.length ? `${fileHashes.length - bad.length} started; failed: ` + bad.map((x) => {
        const res = results.get(x.fileHash);
        return (res ? res.fileName : x.fileHash) + (x.error ? ' (' + x.error + ')' : '');
      }).join(', ') : `Started ${fileHashes.length} download${fileHashes.length === 1 ? '' : 's'}.`, bad.length > 0);
      if (!bad.length) selected.clear();
    } catch (e) {
      status(e.message, true);
    }
    render();
  });

  $('sr-filter').addEventListener('input', render);
  $('sr-all').addEventListener('change', (e) => {
    for (const r of shown) if (e.target.checked) selected.add(r.fileHash); else selected.delete(r.fileHash);
    render();
  });
  for (const th of section.querySelectorAll('th[data-key]'))
    th.querySelector('button').addEventListener('click', () => {
      sortDir = th.dataset.key === sortKey ? -sortDir : th.dataset.key === 'fileName' ? 1 : -1;
      sortKey = th.dataset.key;
      for (const o of section.querySelectorAll('th[data-key]'))
        o.setAttribute('aria-sort', o.dataset.key === sortKey ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
      render();
    });
  // a result that became a download is marked: render when that changes only
  // (a render on every delta would take the keyboard focus away)
  let haveKey = '';
  feed.subscribe(() => {
    if (section.hidden || !results.size) return;
    const k = [...results.keys()].filter(inDownloads).join();
    if (k !== haveKey) { haveKey = k; render(); }
  });

  return {
    show() {
      section.hidden = false;
      if (!results.size) socket.send('getPreviousSearchResults');
      render();
      $('search-expr').focus();
    },
    hide() { section.hidden = true; },
  };
}
