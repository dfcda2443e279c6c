"""webui.py: drives Muleteer's web page in headless chromium (cdp.py)
against the stack webui.sh started, and checks it against the daemon
(the muleteer command). Prints one line per check: "ok DESC" or
"not-ok DESC", and "diag TEXT"; webui.sh turns them into TAP."""
import asyncio
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser, CdpError  # noqa: E402

E = os.environ
URL, PASS = E['MT_URL'], E['MT_PASS']
CLI, SOCK = E['MT_CLI'], E['MT_SOCK']
LINK, MD4 = E['MT_LINK'], E['MT_MD4']           # amuled's file, with amuled as source
LINK2, MD4_2 = E['MT_LINK2'], E['MT_MD4_2']     # a file nobody has
NAME2 = E['MT_NAME2']
MD4_3, NAME3 = E['MT_MD4_3'], E['MT_NAME3']     # amuled's second file, found by a search
SERVER_LOG = E['MT_SERVER_LOG']
WS_CONF = E['MT_WS_CONF']                       # muleteer-ws's -c, to find the stack's own
SHOTS = E['MT_SHOTS']
LINK4, MD4_4 = E['MT_LINK4'], E['MT_MD4_4']     # added from the command line while the page polls
NAME5 = E['MT_NAME5']                           # shared: two peers download it, one waits
MET_URL = E['MT_MET_URL']                       # a server.met of two servers on a local HTTP server
KAD_NAME, KAD_MD4 = E['MT_KAD_NAME'], E['MT_KAD_MD4']  # published over Kad by a muleteerd with no server
DESKTOP, PHONE = (1280, 900), (390, 844)


def out(kind, text):
    print(kind, text.replace('\n', ' | '), flush=True)


def check(desc, cond):
    out('ok' if cond else 'not-ok', desc)
    return bool(cond)


def ctl(command):
    """A control command's result through the CLI (muleteer --json call), or None."""
    try:
        r = subprocess.run([CLI, '--socket', SOCK, '--timeout', '5', '--json', 'call', command, '{}'],
                           capture_output=True, text=True, timeout=10)
        return json.loads(r.stdout) if r.returncode == 0 else None
    except (subprocess.SubprocessError, ValueError):
        return None


def daemon_downloads():
    """hash -> the daemon's download object (muleteer --json downloads)."""
    try:
        r = subprocess.run([CLI, '--socket', SOCK, '--timeout', '5', '--json', 'downloads'],
                           capture_output=True, text=True, timeout=10)
        d = json.loads(r.stdout)
    except (subprocess.SubprocessError, ValueError):
        return {}
    items = d.get('downloads', d) if isinstance(d, dict) else d
    return {x['hash'].lower(): x for x in items if isinstance(x, dict) and 'hash' in x}


async def until(fn, timeout, interval=0.5):
    end = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() >= end:
            return None
        await asyncio.sleep(interval)


async def shots(page, view):
    """Screenshots of the current view at desktop and phone width."""
    for name, (w, hgt) in (('desktop', DESKTOP), ('phone', PHONE)):
        await page.viewport(w, hgt, mobile=name == 'phone')
        await asyncio.sleep(0.6)
        await page.screenshot(os.path.join(SHOTS, 'webui-%s-%s.png' % (view, name)), full=name == 'phone')
    await page.viewport(*DESKTOP)


async def click(page, selector):
    """A click that does not end the run when the element is missing (the
    checks that follow fail instead)."""
    try:
        await page.click(selector)
    except CdpError as e:
        out('diag', str(e))


def amuled_offered(n):
    """The server fixture logged amuled's offer of its n files."""
    try:
        with open(SERVER_LOG) as f:
            return any(('files=%d' % n) in ln and 'offer' in ln for ln in f)
    except OSError:
        return False


def daemon_servers():
    """The daemon's server list, as "ip:port" strings."""
    try:
        r = subprocess.run([CLI, '--socket', SOCK, '--timeout', '5', '--json', 'servers'],
                           capture_output=True, text=True, timeout=10)
        d = json.loads(r.stdout)
    except (subprocess.SubprocessError, ValueError):
        return set()
    items = d.get('servers', []) if isinstance(d, dict) else d
    return {'%s:%s' % (x.get('ip') or x.get('address'), x.get('port')) for x in items if isinstance(x, dict)}


def daemon_categories():
    """name -> the daemon's category object (muleteer --json categories)."""
    try:
        r = subprocess.run([CLI, '--socket', SOCK, '--timeout', '5', '--json', 'categories'],
                           capture_output=True, text=True, timeout=10)
        d = json.loads(r.stdout)
    except (subprocess.SubprocessError, ValueError):
        return {}
    items = d.get('categories', []) if isinstance(d, dict) else d
    return {x['name']: x for x in items if isinstance(x, dict) and 'name' in x}


def row(md4):
    return 'document.querySelector(\'#dl-body tr[data-hash^="%s"]\')' % md4


async def run(page):
    await page.viewport(*DESKTOP)
    await page.goto(URL)
    check('the page loads and shows the login form',
          await page.wait_for("!document.getElementById('login').hidden", 15))
    await shots(page, 'login')

    # ---- login: a wrong password is refused, then the right one by keyboard
    await page.type_into('#login-user', 'admin')
    await page.type_into('#login-pass', 'wrong-password')
    await click(page, '#login-submit')
    check('a wrong password is refused with a message',
          await page.wait_for("document.getElementById('login-error').textContent.length > 0", 10))
    await asyncio.sleep(1.2)   # the retry delay after one failure
    await page.js("document.getElementById('login-pass').value = ''")
    await page.type_into('#login-pass', PASS)
    await page.key('Enter', 'Enter', '\r')
    since = len(page.b.events)   # console errors count from here
    check('signing in (Enter in the form) shows the app',
          await page.wait_for("!document.getElementById('app').hidden && "
                              "document.getElementById('whoami').textContent === 'admin'", 15))
    cookies = (await page.send('Network.getCookies', {'urls': [URL]}))['cookies']
    check('the session is the web API\'s amule.sid cookie, HttpOnly',
          any(c['name'] == 'amule.sid' and c['httpOnly'] for c in cookies))

    # ---- the header
    conn = await page.wait_for("document.getElementById('conn').textContent.includes('HighID') && "
                               "document.getElementById('conn').textContent", 60)
    check('the header shows the server connection with its HighID', conn)
    check('the header says the list is live over /ws',
          await page.wait_for("document.getElementById('transport').textContent === 'Live'", 15))
    kad = ctl('kad-status') or {}
    want = {'connected (open)': 'Kad: connected (open)', 'connected (firewalled)': 'Kad: connected (firewalled)',
            'connecting': 'Kad: connecting'}.get(kad.get('state'), 'Kad: off')
    check('the header shows Kad\'s state as the daemon has it (%s)' % want,
          await page.wait_for("document.getElementById('kad').textContent === %s" % json.dumps(want), 15))
    check('the header shows the speeds and the limits',
          await page.js("document.getElementById('speed-down').textContent.startsWith('↓') && "
                        "document.getElementById('limits-summary').textContent.startsWith('Limits')"))
    await click(page, '#alt-toggle')
    check('the alternative-limits toggle switches them on (server_state)',
          await page.wait_for("document.getElementById('alt-toggle').getAttribute('aria-pressed') === 'true'", 10))
    await click(page, '#alt-toggle')
    check('and off again',
          await page.wait_for("document.getElementById('alt-toggle').getAttribute('aria-pressed') === 'false'", 10))

    # ---- add two links through the page
    await click(page, '#add-box summary')
    await page.type_into('#add-links', LINK + '\n' + LINK2)
    await page.type_into('#add-category', 'webui')
    await click(page, '#add-submit')
    check('the add box says the links were added',
          await page.wait_for("document.getElementById('add-msg').textContent.startsWith('Added')", 15))
    both = await until(lambda: MD4 in daemon_downloads() and MD4_2 in daemon_downloads(), 20)
    check('both links are in `muleteer downloads`', both)
    dd = daemon_downloads()
    check('with the category given in the box',
          dd.get(MD4, {}).get('category') == 'webui' and dd.get(MD4_2, {}).get('category') == 'webui')

    # ---- amuled's file appears and its progress rises
    check('amuled\'s download appears in the table', await page.wait_for(row(MD4) + ' !== null', 15))
    prog = row(MD4) + "?.querySelector('.c-progress').dataset.progress"
    p1 = await page.wait_for('Number(%s) > 0 && Number(%s)' % (prog, prog), 120)
    check('its progress bar moves off zero (amuled sends)', p1)
    if p1:
        p2 = await page.wait_for('Number(%s) > %s && Number(%s)' % (prog, p1, prog), 60)
        check('and rises (%s -> %s)' % (p1, p2), p2)
        out('diag', 'progress seen: %s then %s' % (p1, p2))
    else:
        check('and rises', False)
        out('diag', 'daemon: %s' % json.dumps(daemon_downloads().get(MD4)))
    check('the row shows the sources and the category',
          await page.js(row(MD4) + "?.querySelector('.c-category').textContent === 'webui' && "
                        "/^\\d+\\/\\d+$/.test(" + row(MD4) + "?.querySelector('.c-sources').textContent)"))
    # the parts map of each row, from the segment data (gapStatus over /ws)
    strip = lambda md4: row(md4) + "?.querySelector('.parts-strip')"
    check('each row has a parts map: the stalled download\'s is all missing (1 range, 0 verified)',
          await page.wait_for("(() => { const s = %s; return s && !s.hidden && s.dataset.verified === '0.000'"
                              " && s.dataset.ranges === '1' && s.style.backgroundImage.includes('gradient'); })()"
                              % strip(MD4_2), 15))
    v = await page.wait_for("(() => { const s = %s; return s && !s.hidden && Number(s.dataset.verified) > 0"
                            " && s.dataset.verified; })()" % strip(MD4), 120)
    check('amuled\'s download\'s parts map shows a verified part as it comes (%s verified)' % v, v)
    check('the table came over /ws alone: no sync/maindata request was made',
          await page.js("performance.getEntriesByType('resource')"
                        ".filter(e => e.name.includes('/sync/maindata')).length === 0"))
    await shots(page, 'downloads')

    # ---- the detail panel: parts map and sources (/api/item/detail)
    await click(page, '#dl-body tr[data-hash^="%s"] .c-name button' % MD4)
    check('the detail panel shows the 3 parts of the 24 MB file',
          await page.wait_for("document.querySelectorAll('#detail-body .part').length === 3", 10))
    check('and amuled among its sources, with its software',
          await page.wait_for("[...document.querySelectorAll('#detail-body tbody tr')]"
                              ".some(r => /aMule/i.test(r.textContent))", 10))
    check('the panel shows its priority, normal',
          await page.wait_for("document.getElementById('detail-prio')?.value === 'normal' && "
                              "!document.getElementById('detail-prio').disabled", 10))
    await page.js("(() => { const s = document.getElementById('detail-prio'); if (!s) return; s.value = 'high';"
                  " s.dispatchEvent(new Event('change')); })()")
    high = await until(lambda: daemon_downloads().get(MD4, {}).get('priority') == 'high', 15)
    check('choosing High there sets it in the daemon (batchSetPriority over /ws)', high)
    check('and the row says High',
          await page.wait_for(row(MD4) + "?.querySelector('.c-priority')?.textContent === 'High'", 10))
    check('the panel shows its own limits, none (0)',
          await page.wait_for("document.getElementById('detail-limit-down')?.value === '0' && "
                              "!document.getElementById('detail-limit-down').disabled", 10))
    await page.js("(() => { document.getElementById('detail-limit-down').value = '900';"
                  " document.getElementById('detail-limit-up').value = '7';"
                  " document.getElementById('detail-limits').requestSubmit(); })()")
    lim = await until(lambda: daemon_downloads().get(MD4, {}).get('dl_limit') == 900 * 1024 and
                      daemon_downloads().get(MD4, {}).get('up_limit') == 7 * 1024, 15)
    check('setting 900 and 7 KiB/s there gives the download those limits in the daemon', lim)
    await page.js("(() => { document.getElementById('detail-limit-down').value = '0';"
                  " document.getElementById('detail-limit-up').value = '0';"
                  " document.getElementById('detail-limits').requestSubmit(); })()")
    lifted = await until(lambda: daemon_downloads().get(MD4, {}).get('dl_limit') == 0 and
                         daemon_downloads().get(MD4, {}).get('up_limit') == 0, 15)
    check('and 0 lifts them', lifted)
    await shots(page, 'detail')
    await page.js("document.getElementById('dl-detail').focus()")
    await page.key('Escape')
    check('Escape closes it', await page.wait_for("document.getElementById('dl-detail').hidden", 5))

    # ---- sort and filter
    await click(page, '#dl-table th[data-key="size"] button')
    check('sorting by size puts the smaller file first',
          await page.wait_for("document.querySelector('#dl-body tr').dataset.hash.startsWith('%s')" % MD4_2, 5))
    await page.js("(() => { const s = document.getElementById('filter-state'); s.value = 'paused';"
                  " s.dispatchEvent(new Event('change')); })()")
    check('the state filter "Paused" hides both running downloads',
          await page.wait_for("document.querySelectorAll('#dl-body tr').length === 0", 5))
    await page.js("(() => { const s = document.getElementById('filter-state'); s.value = '';"
                  " s.dispatchEvent(new Event('change')); })()")

    # ---- pause the second one from the page
    await click(page, '#dl-body tr[data-hash^="%s"] td.sel input' % MD4_2)
    check('selecting a row enables the actions',
          await page.wait_for("document.getElementById('dl-selected').textContent === '1 selected' && "
                              "!document.getElementById('act-pause').disabled", 5))
    await click(page, '#act-pause')
    paused = await until(lambda: daemon_downloads().get(MD4_2, {}).get('state') in ('paused', 'stopped'), 15)
    check('Pause on the page pauses it in the daemon (state %s)'
          % daemon_downloads().get(MD4_2, {}).get('state'), paused)
    check('and the page shows it paused',
          await page.wait_for(row(MD4_2) + "?.querySelector('.c-state').textContent === 'Paused'", 10))
    await page.js("(() => { const s = document.getElementById('filter-state'); s.value = 'paused';"
                  " s.dispatchEvent(new Event('change')); })()")
    check('the state filter "Paused" now shows it alone',
          await page.wait_for("document.querySelectorAll('#dl-body tr').length === 1 && " + row(MD4_2) + " !== null", 5))
    await page.js("(() => { const s = document.getElementById('filter-state'); s.value = '';"
                  " s.dispatchEvent(new Event('change')); })()")
    # priority of the selected one from the toolbar
    await page.js("(() => { const s = document.getElementById('act-priority'); if (s) s.value = 'low'; })()")
    await click(page, '#act-setprio')
    low = await until(lambda: daemon_downloads().get(MD4_2, {}).get('priority') == 'low', 15)
    check('"Set priority" Low on the selection sets it in the daemon (%s)'
          % daemon_downloads().get(MD4_2, {}).get('priority'), low)
    check('and the row says Low, the other High still',
          await page.wait_for(row(MD4_2) + "?.querySelector('.c-priority')?.textContent === 'Low' && "
                              + row(MD4) + "?.querySelector('.c-priority')?.textContent === 'High'", 10))
    # by size the low one is first: sorting by priority, twice (descending), puts the high one there
    await click(page, '#dl-table th[data-key="priority"] button')
    await click(page, '#dl-table th[data-key="priority"] button')
    check('sorting by priority, descending, puts the high one first',
          await page.wait_for("document.querySelector('#dl-body tr')?.dataset.hash.startsWith('%s')" % MD4, 5))
    # category change to none
    await page.js("document.getElementById('act-category').value = ''")
    await click(page, '#act-setcat')
    nocat = await until(lambda: daemon_downloads().get(MD4_2, {}).get('category') in (None, ''), 10)
    check('Set category "(none)" takes its category off in the daemon', nocat)

    # ---- charts
    await page.js("location.hash = '#charts'")
    pts = await page.wait_for(
        "(() => { const p = document.querySelector('#speed-chart path.series-down');"
        " return p && Number(p.dataset.points) >= 2 && Number(p.dataset.max) > 0 && Number(p.dataset.points); })()", 75)
    check('the speed chart draws a download series of %s points, not all zero' % pts, pts)
    check('the transfer chart draws bars',
          await page.wait_for("document.querySelectorAll('#bytes-chart rect.bar').length > 0", 10))
    await shots(page, 'charts')

    # ---- history
    await page.js("location.hash = '#history'")
    check('the history table lists both downloads',
          await page.wait_for("document.querySelectorAll('#hist-body tr[data-hash]').length >= 2", 15))
    await page.type_into('#hist-search', NAME2)
    check('a search filters it to the one download',
          await page.wait_for("(() => { const r = document.querySelectorAll('#hist-body tr[data-hash]');"
                              " return r.length === 1 && r[0].dataset.hash === '%s'; })()" % MD4_2, 10))
    check('the CSV export link carries the search',
          await page.js("document.getElementById('hist-export').href.includes('search=')"))
    await page.js("(() => { const i = document.getElementById('hist-search'); i.value = '';"
                  " i.dispatchEvent(new Event('input')); })()")
    await page.wait_for("document.querySelectorAll('#hist-body tr[data-hash]').length >= 2", 10)
    await shots(page, 'history')

    # ---- settings and users
    await page.js("location.hash = '#settings'")
    check('the settings show the configuration in force',
          await page.wait_for("document.getElementById('set-maxConnections').value !== ''", 10))
    await shots(page, 'settings')
    await page.js("location.hash = '#users'")
    # the list first: its rows arriving would move the form under the pointer
    await page.wait_for("document.querySelectorAll('#users-body tr').length > 0", 10)
    await page.type_into('#user-name', 'webui_bob')
    await page.type_into('#user-pass', 'bob-password-1')
    await click(page, '#user-form button[type=submit]')
    check('an admin adds a user on the Users view',
          await page.wait_for("document.querySelector('#users-body tr[data-user=\"webui_bob\"]') !== null", 10))
    await shots(page, 'users')

    # ---- search the server for amuled's second file and download it
    await page.js("location.hash = '#search'")
    check('the Search view shows its expression box, focused',
          await page.wait_for("!document.getElementById('view-search').hidden && "
                              "document.activeElement === document.getElementById('search-expr')", 10))
    offered = await until(lambda: amuled_offered(2), 150, 1)
    if not offered:
        out('diag', 'amuled has not offered its 2 files to the server fixture')
    word = NAME3.split('-')[1]   # "found": a word of the name alone
    await page.type_into('#search-expr', word)
    await page.js("(() => { const e = document.getElementById('search-min'); e.value = '100K'; })()")
    await page.js("document.getElementById('search-scope').value = 'local'")
    await page.key('Enter', 'Enter', '\r')
    check('the search says it runs (search-lock over /ws)',
          await page.wait_for("document.getElementById('search-status').textContent.startsWith('Search')", 10))
    found = await page.wait_for("document.querySelector('#sr-body tr[data-hash=\"%s\" i]') !== null" % MD4_3, 90)
    check('its results arrive: amuled\'s second file (%s) is among them' % NAME3, found)
    check('and the file of the 24 MB download is not (min:100K keeps it, the word does not match it)',
          await page.js("document.querySelector('#sr-body tr[data-hash=\"%s\" i]') === null" % MD4))
    check('the search finishes and says how many it found',
          await page.wait_for("/^Search finished: \\d+ result/.test(document.getElementById('search-status').textContent)", 60))
    check('each result says where it was found (Found by: the connected server)',
          await page.js("document.querySelector('#sr-body tr[data-hash=\"%s\" i] td.c-origins')"
                        ".textContent.split(', ').includes('server')" % MD4_3))
    await click(page, '#sr-body tr[data-hash="%s" i] td.sel input' % MD4_3)
    await page.type_into('#sr-category', 'found')
    await click(page, '#sr-download')
    check('"Download selected" says it started',
          await page.wait_for("document.getElementById('search-status').textContent.startsWith('Started 1')", 20))
    started = await until(lambda: MD4_3 in daemon_downloads(), 15)
    check('the result is in `muleteer downloads`, in the category given', started
          and daemon_downloads().get(MD4_3, {}).get('category') == 'found')
    check('and the result is marked as in the downloads',
          await page.wait_for("document.querySelector('#sr-body tr.have[data-hash=\"%s\" i]') !== null" % MD4_3, 15))
    await shots(page, 'search')
    await page.js("location.hash = '#downloads'")
    check('and it is in the downloads table',
          await page.wait_for(row(MD4_3) + ' !== null', 15))

    # ---- search again: a file only Kad knows (its sharer has no server)
    await page.js("location.hash = '#search'")
    await page.wait_for("!document.getElementById('view-search').hidden", 10)
    await page.js("(() => { for (const id of ['search-expr', 'search-min']) "
                  "document.getElementById(id).value = ''; })()")
    await page.type_into('#search-expr', KAD_NAME.split('.')[0])
    await page.key('Enter', 'Enter', '\r')
    kad_row = "document.querySelector('#sr-body tr[data-hash=\"%s\" i]')" % KAD_MD4
    check('a search on the page finds the file published over Kad (%s)' % KAD_NAME,
          await page.wait_for(kad_row + ' !== null', 60))
    check('its "Found by" says Kad, and only Kad',
          await page.js("(() => { const r = %s; return r !== null && "
                        "r.querySelector('td.c-origins').textContent === 'Kad'; })()" % kad_row))

    # ---- shared files and uploads
    await page.js("location.hash = '#shared'")
    check('the Shared view lists the searched file once it completed (getShared over /ws)',
          await page.wait_for("document.querySelector('#sh-body tr[data-hash=\"%s\" i]') !== null" % MD4_3, 90))
    check('and shows the uploads part (a table or its empty note)',
          await page.js("document.getElementById('up-body').children.length > 0 || "
                        "!document.getElementById('up-empty').hidden"))
    queue_row = ("[...document.querySelectorAll('#queue-body tr')].find(r => r.textContent.includes('%s'))"
                 % NAME5)
    check('the upload queue lists the peer waiting for the slot, with the file, place 1 and a waiting time',
          await page.wait_for("(() => { const r = %s; return r && r.querySelector('.c-rank')?.textContent === '1'"
                              " && /^\\d+ (s|min)/.test(r.querySelector('.c-time')?.textContent); })()"
                              % queue_row, 20))
    check('and the uploads table the peer that has it',
          await page.js("[...document.querySelectorAll('#up-body tr')].some(r => r.textContent.includes('%s'))"
                        % NAME5))
    await shots(page, 'shared')

    # ---- servers
    await page.js("location.hash = '#servers'")
    check('the Servers view lists the fixture, marked as the one connected',
          await page.wait_for("[...document.querySelectorAll('#sv-body tr.current')]"
                              ".some(r => r.textContent.includes('webui-fixture'))", 15))
    await page.type_into('#sv-host', '127.0.0.7')
    await page.js("document.getElementById('sv-port').value = '4999'")
    await click(page, '#sv-add button[type=submit]')
    added = await until(lambda: '127.0.0.7:4999' in daemon_servers(), 15)
    if not check('"Add server" adds it to the daemon\'s list', added):
        out('diag', 'daemon servers: %s' % sorted(daemon_servers()))
    check('and the page lists it',
          await page.wait_for("document.querySelector('#sv-body tr[data-address=\"127.0.0.7:4999\"]') !== null", 15))
    # a server.met imported from a URL (the test's own HTTP server)
    await page.type_into('#sv-url', MET_URL)
    await click(page, '#sv-import button[type=submit]')
    met = await until(lambda: {'127.0.0.31:4671', '127.0.0.32:4672'} <= daemon_servers(), 20)
    check('"Import" of a server.met URL adds its two servers to the daemon\'s list', met)
    check('the page says so and lists them by their names',
          await page.wait_for("document.getElementById('sv-msg').textContent.startsWith('Imported') && "
                              "['127.0.0.31:4671', '127.0.0.32:4672'].every(a => document.querySelector("
                              "`#sv-body tr[data-address=\"${a}\"]`)?.textContent.includes('webui-met-'))", 15))
    await shots(page, 'servers')
    await click(page, '#sv-body tr[data-address="127.0.0.7:4999"] .sv-remove')
    removed = await until(lambda: daemon_servers() and '127.0.0.7:4999' not in daemon_servers(), 15)
    check('"Remove" takes it off the daemon\'s list', removed)
    check('and off the page',
          await page.wait_for("document.querySelector('#sv-body tr[data-address=\"127.0.0.7:4999\"]') === null", 15))

    # ---- the log
    await page.js("location.hash = '#log'")
    check('the Log view shows the daemon\'s lines (getAppLog over /ws)',
          await page.wait_for("document.querySelectorAll('#log-body tr').length > 0", 15))
    check('among them the connection to the fixture',
          await page.js("[...document.querySelectorAll('#log-body tr')].some(r => /webui-fixture|127\\.0\\.0\\.1/.test(r.textContent))"))
    await shots(page, 'log')

    # ---- categories: create, edit (directory, colour, priority), remove
    await page.js("location.hash = '#categories'")
    check('the Categories view lists the two made so far (webui, found)',
          await page.wait_for("['webui', 'found'].every(n => document.querySelector("
                              "`#cats-body tr[data-name=\"${n}\"]`))", 15))
    await page.type_into('#cats-name', 'webui-cat')
    await page.type_into('#cats-path', 'webui-cat-dir')
    await page.js("(() => { document.getElementById('cats-color').value = '#ff8000';"
                  " document.getElementById('cats-prio').value = '1'; })()")
    await click(page, '#cats-submit')
    made = await until(lambda: daemon_categories().get('webui-cat'), 15)
    check('"Create" makes it in the daemon, with its directory, colour and a high priority (%s)' % json.dumps(made),
          made and str(made.get('incoming_path', '')).endswith('webui-cat-dir')
          and made.get('colour') == 0xff8000 and (made.get('priority') or 0) > 0)
    check('and the page lists it with its colour',
          await page.wait_for("document.querySelector('#cats-body tr[data-name=\"webui-cat\"] .swatch')"
                              "?.title === '#ff8000'", 10))
    await click(page, '#cats-body tr[data-name="webui-cat"] .cat-edit')
    check('"Edit" fills the form with it',
          await page.wait_for("document.getElementById('cats-name').value === 'webui-cat' && "
                              "document.getElementById('cats-submit').textContent === 'Save'", 5))
    await page.js("(() => { document.getElementById('cats-color').value = '#0080ff';"
                  " document.getElementById('cats-prio').value = '2'; })()")
    await click(page, '#cats-submit')
    edited = await until(lambda: daemon_categories().get('webui-cat', {}).get('colour') == 0x0080ff, 15)
    check('and "Save" changes its colour and priority in the daemon (%s)'
          % json.dumps(daemon_categories().get('webui-cat')),
          edited and (daemon_categories().get('webui-cat', {}).get('priority') or 0) < 0)
    await shots(page, 'categories')
    await click(page, '#cats-body tr[data-name="webui-cat"] .cat-remove')
    await click(page, '#cats-del-yes')
    gone = await until(lambda: daemon_categories() and 'webui-cat' not in daemon_categories(), 15)
    check('"Remove" takes it out of the daemon', gone)
    check('and off the page',
          await page.wait_for("document.querySelector('#cats-body tr[data-name=\"webui-cat\"]') === null", 10))

    # ---- delete the paused one with its file
    await page.js("location.hash = '#downloads'")
    await page.wait_for(row(MD4_2) + ' !== null', 10)
    sel = await page.js('%s?.querySelector("td.sel input").checked' % row(MD4_2))
    if not sel:
        await click(page, '#dl-body tr[data-hash^="%s"] td.sel input' % MD4_2)
    await click(page, '#act-delete')
    await click(page, '#del-files')
    gone = await until(lambda: MD4_2 not in daemon_downloads(), 15)
    check('Delete with files removes it from the daemon', gone)
    check('and from the table', await page.wait_for(row(MD4_2) + ' === null', 10))

    errs = page.console_errors(since)
    check('no console errors while signed in', not errs)
    for e in errs:
        out('diag', e)

    # ---- /ws goes away (muleteer-ws killed; run.sh starts it again): the
    # page says so, reconnects and takes a new snapshot, without polling
    r = subprocess.run(['pgrep', '-f', '-x', '.*/muleteer-ws -c ' + WS_CONF], capture_output=True, text=True)
    pids = [int(x) for x in r.stdout.split()]
    if pids:
        for pid in pids:
            os.kill(pid, 15)
        check('with /ws gone the header says it reconnects',
              await page.wait_for("document.getElementById('transport').textContent === 'Connecting…'", 10))
        check('and Live again once run.sh restarted muleteer-ws',
              await page.wait_for("document.getElementById('transport').textContent === 'Live'", 45))
        check('with the downloads back in the table (a new snapshot)',
              await page.wait_for(row(MD4) + ' !== null && ' + row(MD4_3) + ' !== null', 15))
        check('and without falling back to sync/maindata for a passing loss',
              await page.js("performance.getEntriesByType('resource')"
                            ".filter(e => e.name.includes('/sync/maindata')).length === 0"))
    else:
        check('muleteer-ws of this stack is found (pgrep)', False)

    # ---- /ws out of the browser's reach in a second tab, as behind a web
    # server that does not forward it: the tab's WebSockets go to /no-ws,
    # which lighttpd does not upgrade (Network.setBlockedURLs does not stop
    # WebSockets in Debian's chromium). The page falls back to polling
    # sync/maindata, and the table follows the daemon.
    p2 = await page.b.page()
    await p2.send('Page.addScriptToEvaluateOnNewDocument', {'source': '''(() => {
        const Real = window.WebSocket;
        const Blocked = function (url, protocols) {
          return new Real(String(url).replace(/\\/ws$/, '/no-ws'), protocols); };
        Blocked.prototype = Real.prototype;
        Object.assign(Blocked, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
        window.WebSocket = Blocked; })();'''})
    await p2.viewport(*DESKTOP)
    await p2.goto(URL)
    check('with /ws blocked a new tab says it polls',
          await p2.wait_for("document.getElementById('transport').textContent === 'Polling'", 30))
    check('and lists the downloads read from sync/maindata',
          await p2.wait_for(row(MD4) + ' !== null', 15) and
          await p2.js("performance.getEntriesByType('resource').some(e => e.name.includes('/sync/maindata'))"))
    subprocess.run([CLI, '--socket', SOCK, '--timeout', '5', 'add', LINK4], capture_output=True, timeout=10)
    check('a link added from the command line appears in the polled table',
          await p2.wait_for(row(MD4_4) + ' !== null', 15))
    await shots(p2, 'polling')
    subprocess.run([CLI, '--socket', SOCK, '--timeout', '5', 'delete', MD4_4], capture_output=True, timeout=10)
    check('and goes from it when deleted', await p2.wait_for(row(MD4_4) + ' === null', 15))
    await page.b.send('Target.closeTarget', {'targetId': p2.target})

    await click(page, '#logout')
    check('Sign out shows the login form again',
          await page.wait_for("!document.getElementById('login').hidden", 10))
    st = await page.js("fetch('/api/auth/status').then(r => r.json())")
    check('and the session is gone', st and st.get('authenticated') is False)

    # ---- an account without admin rights: no settings, only its own downloads
    since = len(page.b.events)
    await page.js("document.getElementById('login-user').value = ''; document.getElementById('login-pass').value = ''")
    await page.type_into('#login-user', 'webui_bob')
    await page.type_into('#login-pass', 'bob-password-1')
    await page.key('Enter', 'Enter', '\r')
    check('the new user signs in',
          await page.wait_for("document.getElementById('whoami').textContent === 'webui_bob'", 15))
    check('and sees no Settings or Users tab',
          await page.js("[...document.querySelectorAll('nav.tabs a[data-admin]')].every(a => a.hidden)"))
    check('and of the views over /ws only Search (his capabilities: search, not view_shared, view_servers, view_logs)',
          await page.js("['search', 'shared', 'servers', 'log'].map(v => !document.querySelector("
                        "`nav.tabs a[data-view=\"${v}\"]`).hidden).join() === 'true,false,false,false'"))
    check('nor the admin\'s download (view_all_downloads is not his)',
          await page.wait_for("!document.getElementById('dl-empty').hidden && "
                              "document.querySelectorAll('#dl-body tr').length === 0", 10))
    check('his list is polled (/ws does not tell the owners apart), and the header says so',
          await page.wait_for("document.getElementById('transport').textContent === 'Polling'", 10))
    errs = page.console_errors(since)
    check('no console errors for him either', not errs)
    for e in errs:
        out('diag', e)


async def main():
    b = Browser()
    try:
        await b.start()
        page = await b.page()
        await asyncio.wait_for(run(page), 600)
    except (CdpError, asyncio.TimeoutError, OSError) as e:
        out('not-ok', 'the browser session ran to its end (%s)' % (e or type(e).__name__))
    finally:
        b.stop()


asyncio.run(main())
