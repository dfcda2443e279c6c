// downloads-feed.js: the one source of the downloads list, the categories
// and the transfer state for the page. It listens to /ws (ws.js): a
// batch-update snapshot, then numbered deltas (a gap in the numbers asks
// for a new snapshot, as does every reconnect). Only while /ws cannot be
// reached at all does it poll /api/v2/sync/maindata with rid deltas
// instead, and it polls for an account without view_all_downloads, whom
// /ws would show every download. state.transport says which is in use.
import { getJSON, ApiError, signalUnauthorized } from './api.js';

/**
 * createDownloadsFeed({interval}): a feed, stopped until start().
 * subscribe(fn): fn(state) after each change; state = {torrents: Map of
 * hash -> torrent (qBittorrent fields, plus added_by; over /ws also
 * priority 'low'/'normal'/'high' and gaps, the byte ranges [s1, e1, ...]
 * not verified yet, or null when unknown), categories: Map of
 * name -> {name, savePath, color, comment, priority}, server: server_state,
 * error: null or text, transport: 'ws' (live over /ws), 'polling' or
 * 'connecting'}.
 * socket: the page's ws.js socket (shared with the other views).
 */
export function createDownloadsFeed({ interval = 1500, socket = null } = {}) {
  const state = { torrents: new Map(), categories: new Map(), server: {}, error: null, transport: 'connecting' };
  const subscribers = new Set();
  const addedBy = new Map();  // md4 -> name, from the history (not in maindata)
  const asking = new Set();
  let rid = 0, timer = 0, running = false, inFlight = null;
  let useWs = false, polling = false, seq = -1, limitsTimer = 0, snapshots = 0;
  const items = new Map();    // "instanceId:hash" -> the /ws item
  // segment data (gapStatus, the parts map): wanted while the table is
  // shown; on: subscribed on this connection
  const segments = { wanted: false, on: false };

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
  // download, kept); left empty without view_history. Asked with a search
  // (200 with no entry) rather than /api/history/<hash>, whose 404 for a
  // download whose row is not written yet the browser logs as an error;
  // not found yet: asked again 10 s later
  const retryAt = new Map();  // md4 -> ms
  function lookUpAddedBy() {
    const now = Date.now();
    for (const [hash, t] of state.torrents) {
      const md4 = md4Of(hash);
      if (t.added_by || !md4 || asking.has(md4) || addedBy.has(md4) || asking.size >= 4) continue;
      if ((retryAt.get(md4) || 0) > now) continue;
      asking.add(md4);
      getJSON('/api/history?limit=5&search=' + md4).then((e) => {
        const row = ((e && e.entries) || []).find((x) => String(x.hash).toLowerCase() === md4);
        if (row) addedBy.set(md4, row.username || '–');
        else retryAt.set(md4, Date.now() + 10000);
      }).catch(() => addedBy.set(md4, '–')).finally(() => {
        asking.delete(md4);
        let changed = false;
        for (const [h, row] of state.torrents)
          if (md4Of(h) === md4 && !row.added_by && addedBy.has(md4)) { row.added_by = addedBy.get(md4); changed = true; }
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
    if (running && polling) timer = setTimeout(tick, interval);
  }
  async function tick() {
    inFlight = poll();
    await inFlight;
    inFlight = null;
    schedule();
  }
  function startPolling(why) {
    state.transportNote = why;
    if (polling) return;
    polling = true;
    state.transport = 'polling';
    rid = 0;
    tick();
  }
  function stopPolling() { polling = false; clearTimeout(timer); }

  // ------------------------------------------------------------- over /ws
  // the header's limits and mode are not in /ws's stats: transfer/info
  async function readLimits() {
    try {
      const [info, mode] = await Promise.all([getJSON('/api/v2/transfer/info'),
        getJSON('/api/v2/transfer/speedLimitsMode')]);
      Object.assign(state.server, {
        dl_rate_limit: info.dl_rate_limit, up_rate_limit: info.up_rate_limit,
        dl_info_speed: info.dl_info_speed, up_info_speed: info.up_info_speed,
        use_alt_speed_limits: String(mode).trim() === '1',
      });
      emit();
    } catch { /* the header keeps the last; the socket says when Muleteer is away */ }
  }
  function limitsLoop() {
    clearTimeout(limitsTimer);
    if (!running || !useWs || polling) return;
    readLimits();
    limitsTimer = setTimeout(limitsLoop, 15000);
  }

  const STATUS = { green: 'connected', yellow: 'firewalled', red: 'disconnected' };
  const KAD_STATUS = { green: 'connected', yellow: 'connecting', red: 'off' };
  const PRIORITY = ['low', 'normal', 'high'];   // the items' downloadPriority codes
  function wsStats(stats) {
    if (!stats) return;
    let down = 0, up = 0;
    for (const sp of Object.values(stats.instanceSpeeds || {})) { down += sp.downloadSpeed || 0; up += sp.uploadSpeed || 0; }
    state.server.dl_info_speed = down;
    state.server.up_info_speed = up;
    const inst = Object.values(stats.instances || {})[0];
    if (inst) {
      const ed = (inst.networkStatus && inst.networkStatus.ed2k) || {};
      state.server.connection_status = STATUS[ed.status] || 'disconnected';
      state.server.server_name = ed.serverName || '';
      state.server.server_address = ed.serverAddress || '';
      const kad = (inst.networkStatus && inst.networkStatus.kad) || {};
      state.server.kad_status = kad.connected ? (kad.firewalledTcp ? 'firewalled' : 'connected')
        : KAD_STATUS[kad.status] || 'off';
      state.error = inst.error || null;
    }
  }

  function rowOf(it) {
    const md4 = String(it.hash || '').toLowerCase();
    const hash = /^[0-9a-f]{32}$/.test(md4) ? md4 + '00000000' : md4;
    const src = it.sources || {};
    const done = !!it.complete || (!it.downloading && !!it.shared);
    let st;
    if (it.status === 'moving') st = 'moving';
    else if (it.status === 'paused') st = done ? 'pausedUP' : 'pausedDL';
    else if (done) st = it.uploadSpeed > 0 ? 'uploading' : 'stalledUP';
    else st = it.downloadSpeed > 0 ? 'downloading' : 'stalledDL';
    const total = src.total || 0, conn = src.connected || 0;
    return {
      hash, name: it.name || '', size: it.size || 0,
      progress: done ? 1 : (Number(it.progress) || 0) / 100,
      downloaded: it.sizeDownloaded || 0, dlspeed: it.downloadSpeed || 0, upspeed: it.uploadSpeed || 0,
      eta: it.eta, num_seeds: conn, num_leechs: Math.max(0, total - conn), state: st,
      category: !it.category || it.category === 'Default' ? '' : it.category,
      priority: PRIORITY[it.downloadPriority] || '', ratio: it.ratio, added_on: it.addedAt,
      added_by: addedBy.get(md4) || '',
      // the byte ranges not verified yet (segment data); [] once complete
      gaps: done ? [] : Array.isArray(it.gapStatus) ? it.gapStatus : null,
    };
  }
  const keyOf = (it) => (it.instanceId || '') + ':' + String(it.hash || '').toLowerCase();
  function rebuild() {
    state.torrents.clear();
    for (const it of items.values()) { const r = rowOf(it); state.torrents.set(r.hash, r); }
  }
  function wsCategories(list) {
    if (!Array.isArray(list)) return;
    state.categories.clear();
    for (const c of list) {
      const name = c.title || c.name;
      if (!name || name === 'Default') continue;
      state.categories.set(name, { name, savePath: c.path || '', color: c.color, comment: c.comment || '',
        priority: c.priority, id: c.id });
    }
  }

  function onBatch(msg) {
    if (!useWs) return;
    const d = msg.data || {};
    wsStats(d.stats);
    if (Array.isArray(d.items)) {                  // a snapshot
      const old = new Map(items);
      items.clear();
      for (const it of d.items) {
        const k = keyOf(it), was = old.get(k);
        // segment data comes apart from the snapshots: keep the last
        if (was && was.gapStatus && !it.gapStatus) it.gapStatus = was.gapStatus;
        items.set(k, it);
      }
      if (typeof d.seq === 'number') seq = d.seq;
      snapshots++;
      wsCategories(d.categories);
      if (segments.wanted && !segments.on) segments.on = socket.send('subscribe', { channel: 'segmentData' });
    } else if (d.delta) {
      const dl = d.delta;
      if (!snapshots) return;                     // deltas apply to a snapshot only
      if (typeof dl.seq === 'number') {
        if (seq >= 0 && dl.seq !== seq + 1) { socket.send('requestFullSnapshot'); return; }
        seq = dl.seq;
      }
      for (const it of dl.added || []) items.set(keyOf(it), it);
      for (const k of dl.removed || []) {
        const i = k.indexOf(':');
        items.delete(k.slice(0, i + 1) + k.slice(i + 1).toLowerCase());
      }
      for (const ch of dl.changed || []) {
        const k = keyOf(ch);
        if (typeof dl.seq !== 'number' && !items.has(k)) continue;   // segments of one not listed
        items.set(k, Object.assign(items.get(k) || {}, ch));
      }
    }
    rebuild();
    if (state.transport !== 'ws') { state.transport = 'ws'; stopPolling(); limitsLoop(); }
    lookUpAddedBy();
    emit();
  }

  // the socket's state: live, reconnecting, or (never reached) polling
  function onSocket(st) {
    segments.on = false;   // a new connection subscribes again
    if (!running || !useWs) return;
    if (st.open) {
      // muleteer-ws sends a snapshot on connect; ask for one if it is late
      // (a reconnect must never go on from the old list)
      seq = -1;
      snapshots = 0;
      setTimeout(() => { if (!snapshots && socket.state.open) socket.send('requestFullSnapshot'); }, 1500);
      return;
    }
    if (st.code === 1008 || st.code === 4001) { signalUnauthorized(); return; }
    if (!st.everOpened && st.failures >= 2)   // /ws unreachable: poll
      startPolling('The WebSocket (/ws) cannot be reached: the list is read from /api/v2/sync/maindata every 1.5 s');
    else if (state.transport === 'ws') {
      state.transport = 'connecting';
      state.error = 'The live connection (/ws) was lost; reconnecting';
      emit();
    }
  }

  if (socket) {
    socket.on('batch-update', onBatch);
    socket.on('categories-update', (m) => { if (useWs) { wsCategories(m.data); emit(); } });
  }

  return {
    state,
    /** socketState(st): ws.js's onState goes here. */
    socketState: onSocket,
    subscribe(fn) { subscribers.add(fn); fn(state); return () => subscribers.delete(fn); },
    /** start({live}): live: the account may see every download, so /ws's
     * stream is its list; otherwise (or without a socket) it polls. */
    start({ live = true } = {}) {
      if (running) return;
      running = true;
      useWs = !!socket && live;
      if (!useWs) { startPolling('This account sees only its own downloads, which /ws does not tell apart: the list is read from /api/v2/sync/maindata'); return; }
      state.transport = 'connecting';
      emit();
      if (socket.state.open) onSocket(socket.state);
      limitsLoop();
    },
    stop() { running = false; stopPolling(); clearTimeout(limitsTimer); },
    /** refresh(): read now (after an action), not at the next interval;
     * over /ws the daemon's change arrives as a delta by itself. */
    async refresh() {
      if (useWs && !polling) { await readLimits(); return; }
      if (inFlight) await inFlight;
      clearTimeout(timer);
      await poll();
      schedule();
    },
    /** segments(on): the parts map (gapStatus over /ws) wanted or not. */
    segments(on) {
      segments.wanted = on;
      if (!useWs || !socket.state.open || on === segments.on) return;
      if (on && !snapshots) return;   // asked for after the snapshot
      socket.send(on ? 'subscribe' : 'unsubscribe', { channel: 'segmentData' });
      segments.on = on;
    },
    /** reset(): forget everything (another user signed in). */
    reset() {
      rid = 0; seq = -1; snapshots = 0; items.clear(); state.torrents.clear(); state.categories.clear();
      state.server = {}; addedBy.clear(); retryAt.clear(); state.transport = 'connecting'; state.error = null;
    },
  };
}

/** md4Of(hash): the eD2K hash of a listed hash (the padded MD4's first 32
 * digits); null for a download listed under a BitTorrent btih. */
export function md4Of(hash) {
  return /^[0-9a-f]{32}00000000$/.test(hash) ? hash.slice(0, 32) : null;
}
