// users.js: the Users view (admins): the accounts of /api/users: list,
// add, capabilities, disable, a new API key (shown once), remove.
import { getJSON, sendJSON } from './api.js';
import { dateTime, h, setMsg } from './format.js';

const CAPS = ['search', 'add_downloads', 'remove_downloads', 'pause_resume', 'assign_categories',
  'move_files', 'rename_files', 'set_comment', 'manage_categories', 'view_history', 'clear_history',
  'view_shared', 'view_uploads', 'view_statistics', 'view_logs', 'view_servers',
  'view_all_downloads', 'edit_all_downloads'];

function capBoxes(prefix, have) {
  return CAPS.map((c) => h('label', { class: 'inline cap' },
    h('input', { type: 'checkbox', value: c, id: prefix + c, checked: have.includes(c) }), ' ' + c));
}
const checkedCaps = (root) => [...root.querySelectorAll('input[type=checkbox][value]:checked')].map((i) => i.value);

export function initUsers(session) {
  const $ = (id) => document.getElementById(id);
  const section = $('view-users');
  const msg = (t, err) => setMsg($('users-msg'), t, err);
  $('user-caps').append(...capBoxes('newcap-', ['search', 'add_downloads', 'pause_resume', 'view_history', 'view_statistics']));

  async function call(method, url, body, done) {
    try {
      const r = await sendJSON(method, url, body);
      msg(done(r) || '');
      await load();
    } catch (e) {
      msg(e.message, true);
    }
  }

  function row(u) {
    const editor = h('td', { colspan: '5', class: 'caps-editor' }, h('fieldset', {},
      h('legend', {}, 'Capabilities of ' + u.username), ...capBoxes('cap-' + u.id + '-', u.capabilities),
      h('button', { type: 'button', onclick: (e) => call('PUT', '/api/users/' + u.id,
        { capabilities: checkedCaps(e.target.closest('fieldset')) }, () => 'Capabilities of ' + u.username + ' saved.') }, 'Save capabilities')));
    const editRow = h('tr', { hidden: true }, editor);
    const me = session() && session().username && session().username.toLowerCase() === u.username.toLowerCase();
    const main = h('tr', { dataset: { user: u.username } },
      h('td', { dataset: { label: 'Name' } }, u.username, u.disabled ? h('small', { class: 'reason' }, 'disabled') : null),
      h('td', { dataset: { label: 'Role' } }, u.isAdmin ? 'admin' : 'user'),
      h('td', { dataset: { label: 'Capabilities' } }, u.isAdmin ? 'all' : String(u.capabilities.length)),
      h('td', { dataset: { label: 'Last login' } }, dateTime(u.lastLoginAt) || 'never'),
      h('td', { class: 'buttons', dataset: { label: 'Actions' } },
        u.isAdmin ? null : h('button', { type: 'button', 'aria-expanded': 'false', onclick: (e) => {
          editRow.hidden = !editRow.hidden; e.target.setAttribute('aria-expanded', String(!editRow.hidden)); } }, 'Capabilities'),
        h('button', { type: 'button', onclick: () => call('PUT', '/api/users/' + u.id, { disabled: !u.disabled },
          () => u.username + (u.disabled ? ' enabled.' : ' disabled.')) }, u.disabled ? 'Enable' : 'Disable'),
        h('button', { type: 'button', onclick: () => call('POST', '/api/users/' + u.id + '/api-key', {},
          (r) => `New API key of ${u.username} (shown once): ${r.apiKey}`) }, 'New API key'),
        me ? null : h('button', { type: 'button', class: 'danger', onclick: () => call('DELETE', '/api/users/' + u.id, undefined,
          () => u.username + ' removed.') }, 'Remove')));
    return [main, editRow];
  }

  async function load() {
    try {
      const d = await getJSON('/api/users');
      $('users-body').replaceChildren(...d.users.flatMap(row));
      if (!d.users.length) $('users-body').append(h('tr', {}, h('td', { colspan: '5', class: 'empty' },
        'No accounts: the admin of muleteer.conf signs in with web_password.')));
    } catch (e) {
      msg(e.status === 403 ? 'Users are for admins.' : e.message, true);
    }
  }

  $('user-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = { username: $('user-name').value.trim(), password: $('user-pass').value,
      isAdmin: $('user-admin').checked, capabilities: checkedCaps($('user-caps')) };
    call('POST', '/api/users', body, (r) => {
      $('user-name').value = $('user-pass').value = '';
      return 'User ' + r.user.username + ' added.';
    });
  });
  return {
    show() { section.hidden = false; load(); },
    hide() { section.hidden = true; },
  };
}
