// categories.js: the Categories view over /ws: the list of
// categories-update (colour, directory, comment, priority, how many
// downloads are in each), create (createCategory), edit (updateCategory:
// name, directory, colour, comment, priority) and remove (deleteCategory;
// its downloads go on without a category).
import { h, setMsg } from './format.js';

const PRIO = ['Normal', 'High', 'Low', 'Auto'];

export function initCategories(feed, socket) {
  const $ = (id) => document.getElementById(id);
  const section = $('view-categories');
  const msg = (t, err) => setMsg($('cats-msg'), t, err);
  let cats = [], editing = null, removing = null, opener = null;

  const hexOf = (c) => (/^#[0-9a-f]{6}$/i.test(c.hexColor || '') ? c.hexColor
    : '#' + [0, 8, 16].map((s) => (((Number(c.color) || 0) >> s) & 255).toString(16).padStart(2, '0')).join(''));

  // the colour through the CSSOM: the page's CSP refuses style attributes
  function swatch(hex) {
    const el = h('span', { class: 'swatch', title: hex, role: 'img', 'aria-label': 'colour ' + hex });
    el.style.backgroundColor = hex;
    return el;
  }

  function counts() {
    const n = new Map();
    for (const t of feed.state.torrents.values()) n.set(t.category || '', (n.get(t.category || '') || 0) + 1);
    return n;
  }

  function render() {
    const n = counts();
    const list = cats.filter((c) => c.title !== 'Default');
    $('cats-body').replaceChildren(...list.map((c) => h('tr', { dataset: { name: c.title } },
      h('td', { 'data-label': 'Colour' }, swatch(hexOf(c))),
      h('td', { 'data-label': 'Name', class: 'c-name' }, c.title),
      h('td', { 'data-label': 'Directory', class: 'mono' }, c.path || ''),
      h('td', { 'data-label': 'Comment' }, c.comment || ''),
      h('td', { 'data-label': 'Priority' }, PRIO[c.priority] || String(c.priority ?? '')),
      h('td', { 'data-label': 'Downloads' }, String(n.get(c.title) || 0)),
      h('td', { 'data-label': 'Actions', class: 'buttons' },
        h('button', { type: 'button', class: 'cat-edit', onclick: (e) => edit(c, e.target) }, 'Edit'),
        h('button', { type: 'button', class: 'cat-remove danger', onclick: (e) => askRemove(c, e.target) }, 'Remove')))));
    $('cats-empty').hidden = list.length > 0;
  }

  function edit(c, from) {
    editing = c ? c.title : null;
    opener = from || null;
    $('cat-form-title').textContent = c ? 'Edit ' + c.title : 'New category';
    $('cats-submit').textContent = c ? 'Save' : 'Create';
    $('cats-cancel').hidden = !c;
    $('cats-name').value = c ? c.title : '';
    $('cats-path').value = c ? c.path || '' : '';
    $('cats-color').value = c ? hexOf(c) : '#2f5d50';
    $('cats-prio').value = String(c ? c.priority || 0 : 0);
    $('cats-comment').value = c ? c.comment || '' : '';
    if (c) $('cats-name').focus();
  }

  function askRemove(c, from) {
    removing = c.title;
    opener = from;
    $('cats-confirm-text').textContent = `Remove the category ${c.title}? Its downloads go on without a category.`;
    $('cats-confirm').hidden = false;
    $('cats-del-no').focus();
  }
  const closeConfirm = () => { $('cats-confirm').hidden = true; removing = null; if (opener) opener.focus(); };

  socket.on('categories-update', (m) => {
    cats = Array.isArray(m.data) ? m.data : [];
    if (!section.hidden) render();
  });
  socket.on('connected', () => { if (!section.hidden) socket.send('getCategories'); });

  $('cats-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const fields = { title: $('cats-name').value.trim(), path: $('cats-path').value.trim(),
      color: $('cats-color').value, comment: $('cats-comment').value, priority: Number($('cats-prio').value) };
    if (!fields.title) return;
    const old = editing;
    try {
      const r = old === null
        ? await socket.request('createCategory', fields, 'category-created')
        : await socket.request('updateCategory', { name: old, ...fields }, 'category-updated');
      if (r.success === false) throw new Error(r.message || 'refused');
      msg(r.message || (old === null ? 'Created ' : 'Saved ') + fields.title + '.');
      edit(null);
    } catch (e) {
      msg(e.message, true);
    }
  });
  $('cats-cancel').addEventListener('click', () => { edit(null); if (opener) opener.focus(); });
  $('cats-del-no').addEventListener('click', closeConfirm);
  $('cats-confirm').addEventListener('keydown', (e) => { if (e.key === 'Escape') closeConfirm(); });
  $('cats-del-yes').addEventListener('click', async () => {
    const name = removing;
    closeConfirm();
    try {
      const r = await socket.request('deleteCategory', { name }, 'category-deleted');
      if (r.success === false) throw new Error(r.message || 'refused');
      msg(r.message || 'Removed ' + name + '.');
    } catch (e) {
      msg(e.message, true);
    }
  });
  let countKey = '';
  feed.subscribe(() => {
    if (section.hidden) return;
    const k = [...counts()].join();
    if (k !== countKey) { countKey = k; render(); }
  });

  return {
    show() { section.hidden = false; render(); socket.send('getCategories'); },
    hide() { section.hidden = true; },
  };
}
