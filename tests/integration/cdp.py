"""cdp.py: a small Chrome DevTools Protocol client for the browser tests:
starts Debian's headless chromium, opens one page, evaluates JavaScript,
takes screenshots and collects console errors. Every wait is bounded."""
import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import websockets  # Debian's python3-websockets


class CdpError(Exception):
    pass


class Browser:
    """Browser(): start() launches chromium; page() a session on a new tab."""

    def __init__(self, binary=None):
        self.binary = binary or shutil.which('chromium') or shutil.which('chromium-browser')
        self.proc = None
        self.ws = None
        self.profile = None
        self.next_id = 0
        self.pending = {}
        self.events = []          # (sessionId, method, params)
        self.reader = None

    async def start(self, timeout=30):
        if not self.binary:
            raise CdpError('chromium is not installed (./run.sh check installs it)')
        # MT_CHROMIUM_TAG: the caller's mark in the profile's name, so that
        # it can tell its own browser from others' running at the same time
        tag = os.environ.get('MT_CHROMIUM_TAG', '')
        self.profile = tempfile.mkdtemp(prefix='mt-chromium.' + (tag + '.' if tag else ''))
        args = [self.binary, '--headless=new', '--no-sandbox', '--disable-gpu',
                '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check',
                '--disable-background-networking', '--disable-component-update',
                '--disable-sync', '--metrics-recording-only', '--mute-audio',
                '--remote-debugging-port=0', '--remote-allow-origins=*',
                '--user-data-dir=' + self.profile, 'about:blank']
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.profile, 'stderr.log'), 'w'),
                                     start_new_session=True)
        port_file = os.path.join(self.profile, 'DevToolsActivePort')
        end = time.time() + timeout
        while time.time() < end:
            if os.path.exists(port_file):
                lines = open(port_file).read().split('\n')
                if len(lines) >= 2 and lines[1]:
                    url = 'ws://127.0.0.1:%s%s' % (lines[0], lines[1])
                    self.ws = await websockets.connect(url, max_size=64 * 1024 * 1024)
                    self.reader = asyncio.ensure_future(self._read())
                    return
            if self.proc.poll() is not None:
                break
            await asyncio.sleep(0.1)
        raise CdpError('chromium did not open its DevTools port in %d s' % timeout)

    async def _read(self):
        async for raw in self.ws:
            msg = json.loads(raw)
            if 'id' in msg and msg['id'] in self.pending:
                self.pending.pop(msg['id']).set_result(msg)
            elif 'method' in msg:
                self.events.append((msg.get('sessionId'), msg['method'], msg.get('params', {})))

    async def send(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        fut = asyncio.get_event_loop().create_future()
        self.pending[self.next_id] = fut
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        await self.ws.send(json.dumps(msg))
        try:
            res = await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise CdpError('%s: no answer in %d s' % (method, timeout))
        if 'error' in res:
            raise CdpError('%s: %s' % (method, res['error'].get('message')))
        return res.get('result', {})

    async def page(self):
        t = await self.send('Target.createTarget', {'url': 'about:blank'})
        a = await self.send('Target.attachToTarget', {'targetId': t['targetId'], 'flatten': True})
        p = Page(self, a['sessionId'])
        p.target = t['targetId']
        for domain in ('Page', 'Runtime', 'Log', 'Network'):
            await p.send(domain + '.enable')
        return p

    def stop(self):
        """Kills the browser (its whole process group) and removes its profile."""
        if self.reader:
            self.reader.cancel()
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, browser, session):
        self.b = browser
        self.session = session
        self.target = None   # its target id (Target.closeTarget)

    def send(self, method, params=None, timeout=30):
        return self.b.send(method, params, self.session, timeout)

    async def goto(self, url, timeout=30):
        start = len(self.b.events)
        await self.send('Page.navigate', {'url': url})
        end = time.time() + timeout
        while time.time() < end:
            if any(s == self.session and m == 'Page.loadEventFired' for s, m, _ in self.b.events[start:]):
                return
            await asyncio.sleep(0.1)
        raise CdpError('%s did not load in %d s' % (url, timeout))

    async def js(self, expr, timeout=30):
        """The value of a JavaScript expression (awaited when a promise)."""
        r = await self.send('Runtime.evaluate', {'expression': expr, 'awaitPromise': True,
                                                 'returnByValue': True}, timeout)
        if 'exceptionDetails' in r:
            d = r['exceptionDetails']
            raise CdpError('JavaScript: %s' % (d.get('exception', {}).get('description') or d.get('text')))
        return r.get('result', {}).get('value')

    async def wait_for(self, expr, timeout=20, interval=0.25):
        """Waits until expr is truthy; its value, or None after timeout s."""
        end = time.time() + timeout
        while True:
            v = await self.js(expr)
            if v:
                return v
            if time.time() >= end:
                return None
            await asyncio.sleep(interval)

    async def viewport(self, width, height, mobile=False):
        await self.send('Emulation.setDeviceMetricsOverride', {
            'width': width, 'height': height, 'deviceScaleFactor': 1, 'mobile': mobile})

    async def screenshot(self, path, full=False, max_height=2400):
        """A PNG of the viewport, or with full of the whole page (up to max_height)."""
        params = {'format': 'png', 'captureBeyondViewport': False}
        if full:
            m = await self.send('Page.getLayoutMetrics')
            size = m.get('cssContentSize') or m['contentSize']
            params = {'format': 'png', 'captureBeyondViewport': True,
                      'clip': {'x': 0, 'y': 0, 'width': size['width'],
                               'height': min(size['height'], max_height), 'scale': 1}}
        r = await self.send('Page.captureScreenshot', params)
        with open(path, 'wb') as f:
            f.write(base64.b64decode(r['data']))

    async def type_into(self, selector, text):
        """Focuses the element and types text as key input (real input events)."""
        await self.js('document.querySelector(%s).focus()' % json.dumps(selector))
        await self.send('Input.insertText', {'text': text})

    async def click(self, selector):
        """A real mouse click in the middle of the element."""
        box = await self.js('''(() => { const e = document.querySelector(%s); if (!e) return null;
            e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2]; })()''' % json.dumps(selector))
        if not box:
            raise CdpError('no element %s to click' % selector)
        for t in ('mousePressed', 'mouseReleased'):
            await self.send('Input.dispatchMouseEvent', {'type': t, 'x': box[0], 'y': box[1],
                                                         'button': 'left', 'clickCount': 1})

    async def key(self, key, code=None, text=None):
        """One key press (keyDown + keyUp) to the focused element."""
        p = {'key': key, 'code': code or key, 'windowsVirtualKeyCode': {'Enter': 13, 'Tab': 9, 'Escape': 27, ' ': 32}.get(key, 0)}
        down = dict(p, type='keyDown')
        if text:
            down['text'] = text
        await self.send('Input.dispatchKeyEvent', down)
        await self.send('Input.dispatchKeyEvent', dict(p, type='keyUp'))

    def console_errors(self, since=0):
        """Console errors, uncaught exceptions and failed loads since the event index."""
        out = []
        for s, m, p in self.b.events[since:]:
            if s != self.session:
                continue
            if m == 'Runtime.exceptionThrown':
                d = p['exceptionDetails']
                out.append('exception: ' + (d.get('exception', {}).get('description') or d.get('text', '')))
            elif m == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert'):
                out.append('console.error: ' + ' '.join(str(a.get('value', a.get('description', ''))) for a in p['args']))
            elif m == 'Log.entryAdded' and p['entry'].get('level') == 'error':
                out.append('log: %s %s' % (p['entry'].get('text'), p['entry'].get('url', '')))
        return out
