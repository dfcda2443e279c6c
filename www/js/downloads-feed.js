// downloads-feed.js: the one source of the downloads list, the categories
// and the transfer state for the page. Today it polls /api/v2/sync/maindata
// with rid deltas; the views only see subscribe()/refresh(), so the /ws
// push endpoint can replace the polling here alone.
import { getJSON, ApiError } from './api.js';

/**
 * createDownloadsFeed({interval}): a feed, stopped until start().
 * subscribe(fn): fn(state) after each change; state = {torrents: Map of
 * hash -> torrent (qBittorrent fields, plus added_by), categories: Map of
 * name -> {name, savePath}, server: server_state, error: null or text}.
 */
export function createDownloadsFeed({ interval = 1500 } = {}) {
  const state = { torrents: new Map(), categories: new Map(), server: {}, error: null };
  const subscribers = new Set();
  const addedBy = new Map();  // md4 -> name, from the history (not in maindata)
  const asking = new Set();
  let rid = 0, timer = 0, running = false, inFlight = null;

  const emit = () => { for (const fn of subscribers) fn(state); };

  function merge(d) {
    if (d.full_update) {
      state.torrents.clear();
      state.categories.clear();
      state.server = {};
    }
    for (const [hash, t] of Object.entries(d.torrents || {})) {
      const old = state.torrents.get(hash);
      const row = old ? Object.assign(old, t) : Object.assign({ hash }, t);
      if (!row.added_by) row.added_by = addedBy.get(md4Of(hash)) || '';
      state.torrents.set(hash, row);
    }
    for (const hash of d.torrents_removed || []) state.torrents.delete(hash);
    for (const [name, c] of Object.entries(d.categories || {}))
      state.categories.set(name, Object.assign(state.categories.get(name) || { name }, c));
    for (const name of d.categories_removed || []) state.categories.delete(name);
    Object.assign(state.server, d.server_state || {});
  }

  // who added a download: its latest history row (one request per new
  // download, kept); left empty without view_history
  function lookUpAddedBy() {
    for (const [hash, t] of state.torrents) {
      const md4 = md4Of(hash);
      if (t.added_by || !md4 || asking.has(md4) || addedBy.has(md4) || asking.size >= 4) continue;
      asking.add(md4);
      getJSON('/api/history/' + md4).then((e) => {
        const name = (e && (e.username || (e.entries && e.entries[0] && e.entries[0].username))) || '';
        addedBy.set(md4, name || '–');
      }).catch(() => addedBy.set(md4, '–')).finally(() => {
        asking.delete(md4);
        let changed = false;
        for (const [h, row] of state.torrents)
          if (md4Of(h) === md4 && !row.added_by) { row.added_by = addedBy.get(md4); changed = true; }
        if (changed) emit();
        lookUpAddedBy();
      });
    }
  }

  async function poll() {
    try {
      const d = await getJSON('/api/v2/sync/maindata?rid=' + rid);
      rid = d.rid;
      merge(d);
      state.error = null;
      lookUpAddedBy();
    } catch (e) {
      state.error = e instanceof ApiError ? e.message : String(e);
      if (e.status === 403 || e.status === 401) running = false;
    }
    emit();
  }

  function schedule() {
    clearTimeout(timer);
    if (running) timer = setTimeout(tick, interval);
  }
  async function tick() {
    inFlight = poll();
    await inFlight;
    inFlight = null;
    schedule();
  }

  return {
    state,
    subscribe(fn) { subscribers.add(fn); fn(state); return () => subscribers.delete(fn); },
    start() { if (running) return; running = true; tick(); },
    stop() { running = false; clearTimeout(timer); },
    /** refresh(): poll now (after an action), not at the next interval. */
    async refresh() {
      if (inFlight) await inFlight;
      clearTimeout(timer);
      await poll();
      schedule();
    },
    /** reset(): forget everything (another user signed in). */
    reset() { rid = 0; state.torrents.clear(); state.categories.clear(); state.server = {}; addedBy.clear(); },
  };
}

/** md4Of(hash): the eD2K hash of a listed hash (the padded MD4's first 32
 * digits); null for a download listed under a BitTorrent btih. */
export function md4Of(hash) {
  return /^[0-9a-f]{32}00000000$/.test(hash) ? hash.slice(0, 32) : null;
}
