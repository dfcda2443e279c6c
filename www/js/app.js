// app.js: the page's entry point: the session (login, logout), the header
// (connection, speeds, limits, the alternative-limits toggle) and which
// view is shown (the URL's #fragment).
import { getJSON, sendJSON, postEmpty, postForm, setUnauthorizedHandler, ApiError } from './api.js';
import { createDownloadsFeed } from './downloads-feed.js';
import { createSocket } from './ws.js';
import { speed, setMsg } from './format.js';
import { initDownloads } from './downloads.js';
import { initCharts } from './charts.js';
import { initSearch } from './search.js';
import { initShared, initServers, initLog } from './network.js';
import { initCategories } from './categories.js';
import { initHistory } from './history.js';
import { initSettings } from './settings.js';
import { initUsers } from './users.js';

const $ = (id) => document.getElementById(id);
const socket = createSocket({ onState: (st) => feed.socketState(st) });
const feed = createDownloadsFeed({ interval: 1500, socket });
let session = null;     // /api/auth/status
const views = {};       // name -> {show(), hide()}

async function boot() {
  setUnauthorizedHandler(() => { if (session) showLogin('Your session ended; sign in again.'); });
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('alt-toggle').addEventListener('click', toggleAlt);
  $('limits-form').addEventListener('submit', setLimits);
  $('limits').addEventListener('toggle', fillLimits);
  window.addEventListener('hashchange', route);
  feed.subscribe(renderHeader);
  views.downloads = initDownloads(feed, socket);
  views.search = initSearch(feed, socket);
  views.shared = initShared(socket);
  views.servers = initServers(feed, socket);
  views.log = initLog(socket);
  views.categories = initCategories(feed, socket);
  views.charts = initCharts();
  views.history = initHistory();
  views.settings = initSettings();
  views.users = initUsers(() => session);
  let st;
  try {
    st = await getJSON('/api/auth/status');
  } catch (e) {
    showLogin(e.message);
    return;
  }
  if (st.authenticated) enter(st); else showLogin('');
}

function showLogin(message) {
  session = null;
  feed.stop();
  socket.close();
  feed.reset();
  for (const v of Object.values(views)) v.hide();
  $('app').hidden = true;
  $('login').hidden = false;
  setMsg($('login-error'), message, true);
  $('login-user').focus();
}

async function login(ev) {
  ev.preventDefault();
  const f = ev.target;
  const btn = $('login-submit');
  btn.disabled = true;
  setMsg($('login-error'), '');
  try {
    await sendJSON('POST', '/api/auth/login', {
      username: f.username.value, password: f.password.value, rememberMe: f.rememberMe.checked,
    });
    f.password.value = '';
    enter(await getJSON('/api/auth/status'));
  } catch (e) {
    let m = e.message;
    if (e instanceof ApiError && e.body && e.body.retryDelay) m += ` (try again in ${Math.ceil(e.body.retryDelay / 1000)} s)`;
    if (e instanceof ApiError && e.status === 429) m = 'Too many failed sign-ins from this address; wait and try again.';
    setMsg($('login-error'), m, true);
  } finally {
    btn.disabled = false;
  }
}

async function logout() {
  feed.stop();
  socket.close();
  try { await postEmpty('/api/auth/logout'); } catch { /* signed out anyway */ }
  location.hash = '';
  showLogin('Signed out.');
}

function enter(st) {
  session = st;
  $('login').hidden = true;
  $('app').hidden = false;
  $('whoami').textContent = st.username || '';
  for (const a of document.querySelectorAll('nav.tabs a[data-admin]')) a.hidden = !st.isAdmin;
  for (const a of document.querySelectorAll('nav.tabs a[data-cap]')) a.hidden = !mayOpen(a.dataset.view);
  $('alt-toggle').disabled = $('limits-form').querySelector('button').disabled = !st.isAdmin;
  socket.open();
  // /ws shows every download to everyone: an account limited to its own polls
  feed.start({ live: st.isAdmin || (st.capabilities || []).includes('view_all_downloads') });
  route();
}

// the views the session may open: Settings and Users for admins, the views
// over /ws by the capability /ws asks for
function mayOpen(name) {
  if (session.isAdmin) return true;
  if (name === 'settings' || name === 'users') return false;
  const a = document.querySelector(`nav.tabs a[data-view="${name}"][data-cap]`);
  return !a || (session.capabilities || []).includes(a.dataset.cap);
}

function route() {
  if (!session) return;
  let name = location.hash.slice(1) || 'downloads';
  if (!views[name] || !mayOpen(name)) name = 'downloads';
  for (const [n, v] of Object.entries(views)) if (n !== name) v.hide();
  for (const a of document.querySelectorAll('nav.tabs a'))
    if (a.dataset.view === name) {
      a.setAttribute('aria-current', 'page');
      a.scrollIntoView({ block: 'nearest', inline: 'nearest' });   // the tabs scroll at phone width
    } else {
      a.removeAttribute('aria-current');
    }
  views[name].show();
}

// ------------------------------------------------------------- the header
const CONN = {
  connected: ['Connected · HighID', 'ok'],
  firewalled: ['Connected · LowID', 'warn'],
  disconnected: ['Disconnected', 'bad'],
};

// Kad's state over /ws (networkStatus.kad); polled, only its contact count
// (server_state's dht_nodes)
const KAD = {
  connected: ['Kad: connected (open)', 'ok'],
  firewalled: ['Kad: connected (firewalled)', 'warn'],
  connecting: ['Kad: connecting', 'warn'],
  off: ['Kad: off', 'bad'],
};

function renderKad(s) {
  const kad = $('kad');
  const [text, cls] = s.kad_status ? KAD[s.kad_status] || KAD.off
    : ['Kad · ' + (s.dht_nodes || 0) + ' contacts', ''];
  kad.textContent = text;
  kad.className = 'conn ' + cls;
}

function renderHeader(state) {
  const s = state.server;
  renderKad(s);
  const [text, cls] = state.error ? ['Muleteer unreachable', 'bad'] : CONN[s.connection_status] || ['…', ''];
  const conn = $('conn');
  conn.textContent = text;
  conn.className = 'conn ' + cls;
  conn.title = state.error || 'eD2K server connection (' + (s.connection_status || 'unknown') + ')';
  // server_state's speeds are the last transfer sample (every 15 s); the
  // downloads' own speeds are the daemon's now: the larger of the two
  let down = 0, up = 0;
  for (const t of state.torrents.values()) { down += t.dlspeed || 0; up += t.upspeed || 0; }
  $('speed-down').textContent = '↓ ' + speed(Math.max(down, s.dl_info_speed || 0));
  $('speed-up').textContent = '↑ ' + speed(Math.max(up, s.up_info_speed || 0));
  const lim = (b) => (b > 0 ? Math.round(b / 1024) + ' KiB/s' : '∞');
  $('limits-summary').textContent = `Limits ↓ ${lim(s.dl_rate_limit)} ↑ ${lim(s.up_rate_limit)}`;
  const alt = !!s.use_alt_speed_limits;
  $('alt-toggle').setAttribute('aria-pressed', String(alt));
  $('alt-toggle').textContent = alt ? 'Alt limits: on' : 'Alt limits: off';
  const tr = $('transport');
  const [tt, tc, tip] = TRANSPORT[state.transport] || TRANSPORT.connecting;
  tr.textContent = tt;
  tr.className = 'transport ' + tc;
  tr.title = state.transport === 'polling' && state.transportNote ? state.transportNote : tip;
}

const TRANSPORT = {
  ws: ['Live', 'ok', 'The list is pushed over the WebSocket (/ws)'],
  polling: ['Polling', 'warn', 'The WebSocket (/ws) cannot be reached: the list is read from /api/v2/sync/maindata every 1.5 s'],
  connecting: ['Connecting…', '', 'Opening the WebSocket (/ws)'],
};

function fillLimits() {
  const s = feed.state.server;
  if (!$('limits').open) return;
  $('limit-down').value = Math.round((s.dl_rate_limit || 0) / 1024);
  $('limit-up').value = Math.round((s.up_rate_limit || 0) / 1024);
  setMsg($('limits-msg'), '');
  $('limit-down').focus();
}

async function setLimits(ev) {
  ev.preventDefault();
  const down = Math.max(0, Number($('limit-down').value) || 0) * 1024;
  const up = Math.max(0, Number($('limit-up').value) || 0) * 1024;
  try {
    await postForm('/api/v2/transfer/setDownloadLimit', { limit: String(down) });
    await postForm('/api/v2/transfer/setUploadLimit', { limit: String(up) });
    setMsg($('limits-msg'), 'Set.');
    await feed.refresh();
  } catch (e) {
    setMsg($('limits-msg'), e.message, true);
  }
}

async function toggleAlt() {
  try {
    await postForm('/api/v2/transfer/toggleSpeedLimitsMode', {});
    await feed.refresh();
  } catch (e) {
    const b = $('banner');
    b.textContent = 'Could not switch the limits: ' + e.message;
    b.hidden = false;
  }
}

boot();
