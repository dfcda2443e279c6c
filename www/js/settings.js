// settings.js: the Settings view (admins): the run-time settings of
// GET/PATCH /api/config and the settings fixed at start (the categories
// have their own view, categories.js).
import { getJSON, sendJSON } from './api.js';
import { h, setMsg } from './format.js';

// [name, label, kind, hint]
const FIELDS = [
  ['maxDownload', 'Download limit (KiB/s)', 'int', '0 = none'],
  ['maxUpload', 'Upload limit (KiB/s)', 'int', '0 = none'],
  ['altMaxDownload', 'Alternative download limit (KiB/s)', 'int'],
  ['altMaxUpload', 'Alternative upload limit (KiB/s)', 'int'],
  ['schedulerEnabled', 'Switch to the alternative limits on a schedule', 'bool'],
  ['schedule', 'Schedule of the alternative limits', 'text', 'HH:MM-HH:MM DAYS; …, DAYS: every, weekdays, weekends, mon … sun'],
  ['uploadSlots', 'Upload slots', 'int', '1-100'],
  ['maxConnections', 'Connections', 'int', '10-10000'],
  ['maxConnectionsPerIp', 'Connections per address', 'int', '1-1000'],
  ['sharedDirs', 'Shared directories', 'lines', 'one absolute directory a line'],
  ['serverAutoconnect', 'Connect to a server at start', 'bool'],
  ['historyRetentionDays', 'Keep history (days)', 'int', '0 = forever'],
  ['trackUsername', 'Record who added a download', 'bool'],
  ['torznabName', 'Torznab indexer name', 'text'],
  ['torznabCacheTime', 'Torznab cache (s)', 'int'],
  ['hookAdded', 'Program when a download is added', 'text', 'a command line; %h hash, %n name, %p path'],
  ['hookCompleted', 'Program when a download completes', 'text', 'empty = none'],
  ['hookFailed', 'Program when a download fails', 'text'],
  ['hookDiskFull', 'Program when the disk is full', 'text'],
  ['hookTimeout', 'Program time limit (s)', 'int'],
  ['webhookUrls', 'Webhook addresses', 'text', 'http(s), separated by blanks or commas'],
  ['ipfilter', 'IP filter list', 'text', 'ipfilter.dat or .p2p: an absolute path or an http(s) URL; empty = none'],
  ['ipfilterLevel', 'IP filter level', 'int', 'ranges below it block; 127 as aMule'],
  ['ipfilterRefreshHours', 'IP filter refresh (hours)', 'int', '0 = never again'],
  ['portForwarding', 'Port forwarding on the router', 'text', 'off, upnp, natpmp or auto (UPnP, then NAT-PMP)'],
  ['portForwardingLease', 'Port forwarding lease (s)', 'int', 'renewed at half; 0 = permanent'],
];

export function initSettings() {
  const $ = (id) => document.getElementById(id);
  const section = $('view-settings');
  const form = $('settings-form');
  const inputs = {};
  let current = null;

  for (const [name, label, kind, hint] of FIELDS) {
    const id = 'set-' + name;
    const input = kind === 'bool' ? h('input', { id, type: 'checkbox' })
      : kind === 'lines' ? h('textarea', { id, rows: '3', spellcheck: 'false' })
      : h('input', { id, type: kind === 'int' ? 'number' : 'text', min: kind === 'int' ? '0' : null });
    inputs[name] = input;
    form.append(kind === 'bool' ? h('label', { class: 'inline' }, input, ' ' + label)
      : h('label', {}, label, hint ? h('small', {}, ' (' + hint + ')') : null, input));
  }
  form.append(h('button', { type: 'submit' }, 'Save'), h('p', { id: 'settings-msg', class: 'msg', role: 'status' }));

  const valueOf = (name, kind) => {
    const el = inputs[name];
    if (kind === 'bool') return el.checked;
    if (kind === 'int') return Number(el.value);
    if (kind === 'lines') return el.value.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    return el.value.trim();
  };

  function fill(c) {
    current = c;
    for (const [name, , kind] of FIELDS) {
      const el = inputs[name];
      if (kind === 'bool') el.checked = !!c[name];
      else if (kind === 'lines') el.value = (c[name] || []).join('\n');
      else el.value = c[name] ?? '';
    }
    const ro = c.readOnly || {};
    const db = ro.database || {};
    const items = [['Node', ro.nodeName], ['Nickname', ro.nickname], ['Incoming', ro.incomingDir],
      ['Temporary', ro.tempDir], ['Download roots', (ro.downloadRoots || []).join(', ') || '–'],
      ['Ports (TCP/UDP)', `${ro.tcpPort}/${ro.udpPort}`], ['Web admin', ro.webUsername],
      ['Database', [db.host, db.port, db.dbname].filter(Boolean).join(' ')],
      ['Schedule time zone', ro.scheduleTimezone || 'the system\'s']];
    $('readonly').replaceChildren(...items.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '')]));
  }

  async function load() {
    try {
      fill(await getJSON('/api/config'));
      setMsg($('settings-msg'), '');
    } catch (e) {
      setMsg($('settings-msg'), e.status === 403 ? 'Settings are for admins.' : e.message, true);
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!current) return;
    const patch = {};
    for (const [name, , kind] of FIELDS) {
      const v = valueOf(name, kind);
      if (JSON.stringify(v) !== JSON.stringify(current[name])) patch[name] = v;
    }
    if (!Object.keys(patch).length) { setMsg($('settings-msg'), 'Nothing changed.'); return; }
    try {
      const c = await sendJSON('PATCH', '/api/config', patch);
      fill(c);
      setMsg($('settings-msg'), c.saved === false ? 'Applied, but muleteer.conf could not be written: it holds until the daemon stops.' : 'Saved.');
    } catch (e) {
      const p = e.body && e.body.error && e.body.error.parameter;
      setMsg($('settings-msg'), (p ? p + ': ' : '') + e.message, true);
      if (p && inputs[p]) inputs[p].focus();
    }
  });

  return {
    show() { section.hidden = false; load(); },
    hide() { section.hidden = true; },
  };
}
