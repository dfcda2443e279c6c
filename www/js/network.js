// network.js: the views read over /ws on demand: Shared (the shared
// files, getShared; the upload slots and the queue waiting for them,
// getUploadingQueue), Servers
// (getServersList, serverDoAction, a server added or a server.met
// imported as an ed2k link through addEd2kLinks, getServerInfo) and Log
// (getAppLog). Each reads when shown and again every few seconds while
// it is shown.
import { bytes, dateTime, h, setMsg } from './format.js';

/** poller(fn, ms): start()/stop() a repeated fn() while a view is shown. */
function poller(fn, ms) {
  let t = 0;
  return {
    start() { clearInterval(t); fn(); t = setInterval(fn, ms); },
    stop() { clearInterval(t); t = 0; },
  };
}

const td = (label, text, cls) => h('td', { 'data-label': label, class: cls }, text);

/** waited(s): "45 s", "12 min", "3 h 05 min". */
function waited(s) {
  s = Math.max(0, Math.round(Number(s) || 0));
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min';
  return Math.floor(s / 3600) + ' h ' + String(Math.floor(s / 60) % 60).padStart(2, '0') + ' min';
}

// ------------------------------------------------------------- shared
export function initShared(socket) {
  const $ = (id) => document.getElementById(id);
  const section = $('view-shared');
  let files = [], names = new Map();
  const read = () => { socket.send('getShared'); socket.send('getUploadingQueue'); };
  const p = poller(read, 5000);

  function renderFiles() {
    const f = $('sh-filter').value.trim().toLowerCase();
    const list = files.filter((x) => !f || String(x.fileName).toLowerCase().includes(f))
      .sort((a, b) => String(a.fileName).localeCompare(String(b.fileName)));
    $('sh-count').textContent = `${files.length} file${files.length === 1 ? '' : 's'} shared`;
    $('sh-body').replaceChildren(...list.map((x) => h('tr', { dataset: { hash: x.fileHash } },
      td('Name', x.fileName, 'c-name'), td('Size', bytes(x.fileSize), 'c-size'),
      td('Requests', String(x.requestsCount ?? 0)), td('Offered', x.withheld ? 'no (sharing stopped)' : 'yes'),
      td('Path', x.filePath || '', 'mono'))));
  }
  socket.on('connected', () => { if (!section.hidden) read(); });
  socket.on('shared-update', (m) => {
    files = Array.isArray(m.data) ? m.data : [];
    names = new Map(files.map((x) => [String(x.fileHash).toLowerCase(), x.fileName]));
    if (!section.hidden) renderFiles();
  });
  socket.on('uploads-update', (m) => {
    const ups = Array.isArray(m.data) ? m.data : [];
    $('up-body').replaceChildren(...ups.map((u) => h('tr', {},
      td('Peer', u.userName || ''), td('File', names.get(String(u.fileHash).toLowerCase()) || u.fileHash, 'c-name'),
      td('Sent', bytes(u.uploadSession), 'c-size'))));
    $('up-empty').hidden = ups.length > 0;
    // Muleteer's own "queue": who waits for a slot, in their order
    const queue = Array.isArray(m.queue) ? m.queue : [];
    $('queue-body').replaceChildren(...queue.map((q) => h('tr', { dataset: { peer: q.userName || '' } },
      td('Place', String(q.queueRank ?? ''), 'c-rank'), td('Peer', q.userName || ''),
      td('File', names.get(String(q.fileHash).toLowerCase()) || q.fileHash, 'c-name'),
      td('Waiting', waited(q.waitingSeconds), 'c-time'))));
    $('queue-empty').hidden = queue.length > 0;
    $('queue-count').textContent = queue.length ? `(${queue.length} waiting)` : '';
  });
  socket.on('shared-files-refreshed', (m) => { setMsg($('sh-msg'), m.message || 'Rescanning.'); read(); });
  $('sh-filter').addEventListener('input', renderFiles);
  $('sh-rescan').addEventListener('click', () => {
    if (!socket.send('refreshSharedFiles')) setMsg($('sh-msg'), 'The live connection (/ws) is not open.', true);
  });
  return {
    show() { section.hidden = false; renderFiles(); p.start(); },
    hide() { section.hidden = true; p.stop(); },
  };
}

// ------------------------------------------------------------- servers
const SERVER_TAGS = { name: 'EC_TAG_SERVER_NAME', users: 'EC_TAG_SERVER_USERS', files: 'EC_TAG_SERVER_FILES',
  ping: 'EC_TAG_SERVER_PING', version: 'EC_TAG_SERVER_VERSION', desc: 'EC_TAG_SERVER_DESC' };

export function initServers(feed, socket) {
  const $ = (id) => document.getElementById(id);
  const section = $('view-servers');
  const msg = (t, err) => setMsg($('sv-msg'), t, err);
  let servers = [];
  const read = () => { socket.send('getServersList'); socket.send('getServerInfo'); };
  const p = poller(read, 5000);

  async function act(ip, port, serverAction, done) {
    try {
      const r = await socket.request('serverDoAction', { ip, port, serverAction }, 'server-action', 15000);
      msg(r.data === false ? serverAction + ' failed' : done, r.data === false);
    } catch (e) {
      msg(e.message, true);
    }
    read();
  }

  function render() {
    const cur = feed.state.server.server_address || '';
    $('sv-body').replaceChildren(...servers.map((s) => {
      const addr = String(s._value || '');
      const i = addr.lastIndexOf(':');
      const ip = addr.slice(0, i), port = Number(addr.slice(i + 1));
      const name = s[SERVER_TAGS.name] || addr;
      const isCur = cur !== '' && cur === addr;
      return h('tr', { dataset: { address: addr }, class: isCur ? 'current' : null, title: s[SERVER_TAGS.desc] || null },
        td('Name', name, 'c-name'), td('Address', addr, 'mono'),
        td('Users', String(s[SERVER_TAGS.users] ?? '')), td('Files', String(s[SERVER_TAGS.files] ?? '')),
        td('Ping', s[SERVER_TAGS.ping] != null ? s[SERVER_TAGS.ping] + ' ms' : ''),
        td('Version', String(s[SERVER_TAGS.version] ?? '')),
        h('td', { 'data-label': 'Actions', class: 'buttons' },
          h('button', { type: 'button', class: 'sv-connect', disabled: isCur,
            onclick: () => act(ip, port, 'connect', 'Connecting to ' + name + '…') }, 'Connect'),
          h('button', { type: 'button', class: 'sv-remove danger',
            onclick: () => act(ip, port, 'remove', 'Removed ' + name + '.') }, 'Remove')));
    }));
    $('sv-empty').hidden = servers.length > 0;
  }

  socket.on('connected', () => { if (!section.hidden) read(); });
  socket.on('servers-update', (m) => {
    const d = m.data;
    servers = Array.isArray(d) ? d : d && Array.isArray(d.EC_TAG_SERVER) ? d.EC_TAG_SERVER : [];
    if (!section.hidden) render();
  });
  socket.on('server-info-update', (m) => {
    $('sv-info').textContent = (m.data && m.data.EC_TAG_STRING) || '';
  });
  let curKey = '';
  feed.subscribe((st) => {
    if (section.hidden || (st.server.server_address || '') === curKey) return;
    curKey = st.server.server_address || '';
    render();
  });

  async function addLink(link, done) {
    try {
      const r = await socket.request('addEd2kLinks', { links: [link], categoryName: 'Default' }, 'ed2k-added', 30000);
      const res = (r.results || [])[0] || {};
      msg(res.success ? done : 'Refused: ' + (res.error || 'unknown'), !res.success);
    } catch (e) {
      msg(e.message, true);
    }
    read();
  }
  $('sv-add').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const host = $('sv-host').value.trim(), port = $('sv-port').value.trim();
    if (!/^[A-Za-z0-9.-]+$/.test(host)) { msg('The address is a host name or an IPv4 address.', true); return; }
    addLink(`ed2k://|server|${host}|${port}|/`, `Added ${host}:${port}.`);
  });
  $('sv-import').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const url = $('sv-url').value.trim();
    addLink(`ed2k://|serverlist|${url}|/`, 'Imported the servers of ' + url + '.');
  });
  $('sv-disconnect').addEventListener('click', () => act('', 0, 'disconnect', 'Disconnected.'));
  return {
    show() { section.hidden = false; render(); p.start(); },
    hide() { section.hidden = true; p.stop(); },
  };
}

// ------------------------------------------------------------- log
export function initLog(socket) {
  const $ = (id) => document.getElementById(id);
  const section = $('view-log');
  let lines = [];
  const read = () => socket.send('getAppLog', { limit: 500, minLevel: $('log-level').value });
  const p = poller(read, 5000);

  function render() {
    const f = $('log-filter').value.trim().toLowerCase();
    const list = lines.filter((l) => !f || String(l.message).toLowerCase().includes(f)).slice().reverse();
    $('log-body').replaceChildren(...list.map((l) => h('tr', { class: 'lv-' + l.level },
      td('Time', dateTime(l.ts) + ':' + String(new Date(l.ts).getSeconds()).padStart(2, '0'), 'c-time'),
      td('Level', l.level), td('Message', l.message, 'c-msg'))));
    $('log-empty').hidden = list.length > 0;
  }
  socket.on('connected', () => { if (!section.hidden) read(); });
  socket.on('app-log-update', (m) => {
    lines = Array.isArray(m.data) ? m.data : [];
    if (!section.hidden) render();
  });
  $('log-level').addEventListener('change', read);
  $('log-reload').addEventListener('click', read);
  $('log-filter').addEventListener('input', render);
  $('log-follow').addEventListener('change', (e) => { if (e.target.checked) p.start(); else p.stop(); });
  return {
    show() { section.hidden = false; render(); if ($('log-follow').checked) p.start(); else read(); },
    hide() { section.hidden = true; p.stop(); },
  };
}
