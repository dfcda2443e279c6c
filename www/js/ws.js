// ws.js: the page's one WebSocket to /ws (muleteer-ws, aMuTorrent's
// protocol, docs/websocket.md): opened after sign-in, reopened with a
// growing delay when it closes, and shared by every view: send() an action,
// on() a message type.

const MIN_DELAY = 500, MAX_DELAY = 15000;

/**
 * createSocket({onState}): a socket, closed until open().
 * onState(s) runs when the connection changes: s = {open, everOpened,
 * failures (closes in a row without ever opening), code, reason}.
 */
export function createSocket({ onState = () => {} } = {}) {
  const handlers = new Map();   // type -> Set of fn(msg)
  let ws = null, wanted = false, delay = MIN_DELAY, timer = 0;
  const st = { open: false, everOpened: false, failures: 0, code: 0, reason: '' };

  function dispatch(msg) {
    for (const fn of handlers.get(msg.type) || []) fn(msg);
    for (const fn of handlers.get('*') || []) fn(msg);
  }

  function connect() {
    clearTimeout(timer);
    if (!wanted) return;
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
    let opened = false;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      st.failures++;
      onState(st);
      timer = setTimeout(connect, delay);
      return;
    }
    const sock = ws;
    sock.onopen = () => {
      opened = true;
      delay = MIN_DELAY;
    };
    sock.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (!msg || typeof msg.type !== 'string') return;
      if (msg.type === 'connected') {   // authenticated: the stream follows
        st.open = true; st.everOpened = true; st.failures = 0; st.code = 0; st.reason = '';
        onState(st);
      }
      dispatch(msg);
    };
    sock.onclose = (ev) => {
      if (ws === sock) ws = null;
      const was = st.open;
      st.open = false;
      st.code = ev.code;
      st.reason = ev.reason || '';
      if (!opened || !was) st.failures++;
      onState(st);
      if (!wanted) return;
      timer = setTimeout(connect, delay);
      delay = Math.min(MAX_DELAY, delay * 2);
    };
    sock.onerror = () => { /* onclose follows and says what to do */ };
  }

  return {
    state: st,
    /** open(): connect (again) now. */
    open() { wanted = true; if (!ws) { delay = MIN_DELAY; connect(); } },
    /** close(): disconnect and stay so. */
    close() {
      wanted = false;
      clearTimeout(timer);
      if (ws) { const s = ws; ws = null; s.close(1000); }
      st.open = false; st.failures = 0;
    },
    /** send(action, fields): false when the socket is not open. */
    send(action, fields = {}) {
      if (!ws || !st.open) return false;
      ws.send(JSON.stringify({ action, ...fields }));
      return true;
    },
    /** on(type, fn): fn(msg) for each message of that type ('*': all); returns the undo. */
    on(type, fn) {
      if (!handlers.has(type)) handlers.set(type, new Set());
      handlers.get(type).add(fn);
      return () => handlers.get(type).delete(fn);
    },
    /** request(action, fields, replyType, ms): the first reply of that type
     * (or an "error" message) as a promise; rejects on timeout. */
    request(action, fields, replyType, ms = 15000) {
      return new Promise((resolve, reject) => {
        let offA = null, offE = null, t = 0;
        const done = (fn, v) => { clearTimeout(t); offA(); offE(); fn(v); };
        offA = this.on(replyType, (m) => done(resolve, m));
        offE = this.on('error', (m) => done(reject, new Error(m.message || 'error')));
        t = setTimeout(() => done(reject, new Error('No answer from /ws')), ms);
        if (!this.send(action, fields)) done(reject, new Error('The live connection (/ws) is not open'));
      });
    },
  };
}
