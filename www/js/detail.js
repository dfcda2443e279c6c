// detail.js: the detail panel of one download (Downloads view): its
// priority (set through onPriority, downloads.js), its own download and
// upload limits (/api/v2/torrents/setDownloadLimit, setUploadLimit), parts map, sources with
// their software, the names it had and its history, from
// /api/item/detail/<hash>, refreshed every 5 s while open.
import { getJSON, postForm } from './api.js';
import { bytes, dateTime, h, setMsg } from './format.js';

const PART = ['missing', 'partial', 'complete'];   // the parts command's states

export function createDetail() {
  const $ = (id) => document.getElementById(id);
  const panel = $('dl-detail');
  let md4 = null, timer = 0, opener = null;

  // the priority select stays put between refreshes: it follows the
  // daemon unless the user is on it
  function showPriority(p) {
    const sel = $('detail-prio');
    sel.disabled = !md4 || !p;
    if (p && document.activeElement !== sel) sel.value = p;
  }

  // the limit inputs follow the daemon unless the user is in the form
  function showLimits(raw) {
    const form = $('detail-limits');
    const known = !!md4 && raw.dl_limit !== undefined;
    for (const el of form.elements) el.disabled = !known;
    if (!known || form.contains(document.activeElement)) return;
    $('detail-limit-down').value = Math.round((raw.dl_limit || 0) / 1024);
    $('detail-limit-up').value = Math.round((raw.up_limit || 0) / 1024);
  }

  async function setLimits(ev) {
    ev.preventDefault();
    if (!md4) return;
    const mine = md4, hashes = md4 + '00000000';
    const kib = (id) => String(Math.max(0, Math.floor(Number($(id).value) || 0)) * 1024);
    // both read now: a refresh while the first request runs may rewrite
    // the inputs
    const down = kib('detail-limit-down'), up = kib('detail-limit-up');
    try {
      await postForm('/api/v2/torrents/setDownloadLimit', { hashes, limit: down });
      await postForm('/api/v2/torrents/setUploadLimit', { hashes, limit: up });
      setMsg($('detail-msg'), 'Limits set.');
    } catch (e) {
      setMsg($('detail-msg'), 'Could not set the limits: ' + e.message, true);
    }
    // leave the form (the inputs follow the daemon again), unless the
    // user has moved on meanwhile
    if ($('detail-limits').contains(document.activeElement)) document.activeElement.blur();
    if (mine === md4) load();
  }

  function render(d) {
    const raw = d.raw || {};
    showPriority(raw.priority);
    showLimits(raw);
    const states = (d.parts && d.parts.states) || [];
    const done = states.filter((x) => x === 2).length;
    const map = h('div', { class: 'parts', role: 'img',
      'aria-label': `${done} of ${states.length} parts complete` },
    states.map((x, i) => h('span', { class: 'part p-' + (PART[x] || 'missing'), title: `part ${i + 1}: ${PART[x] || x}` })));
    const sources = (d.sources || []).map((s) => h('tr', {},
      h('td', { dataset: { label: 'Peer' } }, s.peer || s.name || ''),
      h('td', { dataset: { label: 'Software' } }, s.software || ''),
      h('td', { dataset: { label: 'State' } }, s.state || ''),
      h('td', { dataset: { label: 'Received' } }, bytes(s.received)),
      h('td', { dataset: { label: 'Complete' } }, s.complete ? 'yes' : 'no')));
    const history = (d.history || []).map((r) => h('tr', {},
      h('td', { dataset: { label: 'Status' } }, r.status),
      h('td', { dataset: { label: 'Started' } }, dateTime(r.started_at)),
      h('td', { dataset: { label: 'Completed' } }, dateTime(r.completed_at)),
      h('td', { dataset: { label: 'User' } }, r.username || ''),
      h('td', { dataset: { label: 'Via' } }, r.added_via || '')));
    $('detail-body').replaceChildren(
      h('dl', { class: 'stats' },
        h('dt', {}, 'eD2K hash'), h('dd', { class: 'mono' }, d.hash),
        h('dt', {}, 'Size'), h('dd', {}, raw.size !== undefined ? bytes(raw.size) : ''),
        h('dt', {}, 'State'), h('dd', {}, (raw.state || (d.finished ? 'finished' : '')) + (raw.error ? ' · ' + raw.error : '')),
        h('dt', {}, 'Names'), h('dd', {}, (d.names || []).join(' · '))),
      h('h4', {}, `Parts (${done} of ${states.length} complete)`), states.length ? map : h('p', { class: 'empty' }, 'No parts map.'),
      h('h4', {}, `Sources (${sources.length})`),
      sources.length ? h('table', { class: 'grid' }, h('thead', {}, h('tr', {},
        ['Peer', 'Software', 'State', 'Received', 'Complete'].map((x) => h('th', {}, x)))), h('tbody', {}, sources))
        : h('p', { class: 'empty' }, 'No sources.'),
      h('h4', {}, 'History'),
      h('table', { class: 'grid' }, h('thead', {}, h('tr', {},
        ['Status', 'Started', 'Completed', 'User', 'Via'].map((x) => h('th', {}, x)))), h('tbody', {}, history)));
  }

  async function load() {
    clearTimeout(timer);
    if (!md4) return;
    const mine = md4;
    try {
      const d = await getJSON('/api/item/detail/' + md4);
      if (mine === md4) render(d);
    } catch (e) {
      if (mine === md4) $('detail-body').replaceChildren(h('p', { class: 'error' }, e.message));
    }
    if (mine === md4) timer = setTimeout(load, 5000);
  }

  function close(refocus = true) {
    md4 = null;
    clearTimeout(timer);
    panel.hidden = true;
    if (refocus && opener) opener.focus();
  }

  $('detail-close').addEventListener('click', () => close());
  $('detail-limits').addEventListener('submit', setLimits);
  $('detail-prio').addEventListener('change', async (e) => {
    if (!md4 || !api.onPriority) return;
    const mine = md4;
    await api.onPriority(mine, e.target.value);
    if (mine === md4) load();
  });
  panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(); });
  const api = {
    /** onPriority(md4, priority): sets it (downloads.js); a promise. */
    onPriority: null,
    /** open(md4, name, priority): shows the panel for that download. */
    open(hash, name, priority) {
      opener = document.activeElement;
      $('detail-title').textContent = name;
      setMsg($('detail-msg'), '');
      if (!hash) {
        md4 = null;
        $('detail-body').replaceChildren(h('p', { class: 'empty' }, 'Listed under a BitTorrent hash: no eD2K detail to show.'));
      } else {
        md4 = hash;
        $('detail-body').replaceChildren(h('p', { class: 'empty' }, 'Loading…'));
        load();
      }
      showPriority(priority);
      showLimits({});
      panel.hidden = false;
      panel.focus();
      panel.scrollIntoView({ block: 'nearest' });
    },
    close,
  };
  return api;
}
