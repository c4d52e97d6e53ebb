// Squall's browser client: the tutorial's "open a WebSocket, send Hello, show each message" page,
// made to survive real networks: a heartbeat that notices silently dead connections, reconnection
// with exponential backoff and full jitter, and a log that never renders messages as HTML.
'use strict';

(() => {
  const params = new URLSearchParams(window.location.search);
  // A server that needs tokens gets the one in the page's URL (/?token=...) on the socket's URL: browsers cannot
  // give a WebSocket a header.
  const token = params.get('token');

  // Timings are query-overridable so browser tests need not wait tens of seconds,
  // e.g. ?heartbeat=2000&deadline=1000&backoffMax=2000.
  const config = Object.freeze({
    heartbeatMs: positiveInt('heartbeat', 20000), // silence before we probe
    deadlineMs: positiveInt('deadline', 10000), // time for any frame to answer a probe
    connectTimeoutMs: positiveInt('connectTimeout', 10000), // a hung handshake counts as a failure
    backoffBaseMs: positiveInt('backoffBase', 500),
    backoffMaxMs: positiveInt('backoffMax', 10000),
    stableMs: positiveInt('stable', 5000), // open this long -> backoff starts over
    logMax: positiveInt('logMax', 500), // bounded so a long session keeps bounded memory
  });

  // The server echoes binary frames, so this probe comes back and proves the path works both ways.
  const PROBE = new TextEncoder().encode('squall-heartbeat');

  const STATUS_TEXT = {
    connecting: () => 'Connecting…',
    open: () => 'Connection open',
    reconnecting: (seconds) => `Reconnecting in ${seconds} s`,
    closed: (why) => (why ? `Connection closed: ${why}` : 'Connection closed'),
  };
  const KIND_LABEL = { received: 'Received', sent: 'Sent', system: 'Info' };
  // The server's own notices are JSON objects with this top-level member. The server refuses (HTTP 400) any
  // published message that has it, so a frame that carries it comes from the server and may be believed.
  const NOTICE_KEY = 'squall';

  const el = {
    body: document.body,
    statusText: document.getElementById('status-text'),
    connectButton: document.getElementById('connect-button'),
    log: document.getElementById('log'),
    sendForm: document.getElementById('send-form'),
    messageInput: document.getElementById('message-input'),
    publishForm: document.getElementById('publish-form'),
    publishInput: document.getElementById('publish-input'),
    tokenInput: document.getElementById('token-input'),
    publishResult: document.getElementById('publish-result'),
  };

  // All mutable state of the connection lives here; only the functions below change it.
  const conn = {
    socket: null, // the one live socket, or null: never two at once
    state: 'connecting',
    wanted: true, // false after the user pressed Disconnect
    attempt: 0, // consecutive failed attempts, drives the backoff
    opens: 0,
    probesSent: 0,
    probesInFlight: 0,
    heartbeatFailures: 0,
    lastReceivedAt: 0,
    probeSentAt: 0,
    reconnectTimer: 0,
    connectTimer: 0,
    stableTimer: 0,
    idleTimer: 0,
    deadlineTimer: 0,
  };

  let publishing = false;

  function positiveInt(name, fallback) {
    const raw = params.get(name);
    if (raw === null) return fallback;
    const value = Number(raw);
    if (Number.isInteger(value) && value > 0) return value;
    console.warn(`squall: ignoring ?${name}=${raw}, expected a positive integer`);
    return fallback;
  }

  function seconds(ms) {
    return Math.round(ms / 100) / 10;
  }

  // Same host and path prefix as the page, so it also works behind a proxy that mounts Squall elsewhere.
  function socketUrl() {
    const url = new URL('ws', document.baseURI);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.search = token ? `?${new URLSearchParams({ token })}` : '';
    url.hash = '';
    return url.href;
  }

  // Close codes after which the same URL would only be refused again (a secured server's): stop, and say why.
  const FINAL_CLOSE = {
    3005: 'the token in the page\'s URL has expired',
    3500: 'the token in the page\'s URL was refused',
    3503: 'the server asked not to reconnect',
  };

  // ---- state display ----------------------------------------------------------------------

  function setState(state, detail) {
    conn.state = state;
    el.body.dataset.state = state;
    el.statusText.textContent = STATUS_TEXT[state](detail);
    el.connectButton.textContent = state === 'closed' ? 'Connect' : 'Disconnect';
  }

  // ---- log --------------------------------------------------------------------------------

  // textContent only: a message like <img src=x onerror=...> must stay text and run nothing.
  function addEntry(kind, text) {
    const item = document.createElement('li');
    item.className = `entry entry-${kind}`;
    item.dataset.kind = kind;
    const now = new Date();
    item.append(
      part('span', 'entry-kind', KIND_LABEL[kind]),
      ' ',
      part('span', 'entry-text', text),
      ' ',
      timeOf(now),
    );
    const followTail = isScrolledToEnd(el.log);
    el.log.append(item);
    while (el.log.childElementCount > config.logMax) el.log.firstElementChild.remove();
    // Follow new messages only if the reader has not scrolled up to read older ones.
    if (followTail) el.log.scrollTop = el.log.scrollHeight;
  }

  function part(tag, className, text) {
    const node = document.createElement(tag);
    node.className = className;
    node.textContent = text;
    return node;
  }

  function timeOf(date) {
    const node = part('time', 'entry-time', date.toLocaleTimeString([], { hour12: false }));
    node.dateTime = date.toISOString();
    return node;
  }

  function isScrolledToEnd(box) {
    return box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  }

  // ---- connection -------------------------------------------------------------------------

  function connect() {
    if (conn.socket || !conn.wanted) return;
    clearTimeout(conn.reconnectTimer);
    conn.reconnectTimer = 0;
    setState('connecting');
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (err) {
      // Only a malformed URL or a blocked port throws here; treat it like a failed attempt.
      addEntry('system', `Cannot open a WebSocket: ${err.message}`);
      scheduleReconnect();
      return;
    }
    ws.binaryType = 'arraybuffer'; // lets us measure and compare frames synchronously
    conn.socket = ws;
    // Every handler first checks that its socket is still the current one: events of a socket we
    // already gave up on (say, after a heartbeat timeout) must not touch the new connection.
    ws.onopen = () => ws === conn.socket && onOpen();
    ws.onmessage = (event) => ws === conn.socket && onMessage(event);
    ws.onclose = (event) => ws === conn.socket && onClose(event);
    // No onerror: an error is always followed by a close event, which is where we react.
    // A stopped or overloaded server can accept the TCP connection and never answer the upgrade;
    // the browser would then wait for minutes before giving up.
    conn.connectTimer = setTimeout(onConnectTimeout, config.connectTimeoutMs);
  }

  function onConnectTimeout() {
    conn.connectTimer = 0;
    addEntry('system', `No answer from the server within ${seconds(config.connectTimeoutMs)} s.`);
    closeSocket(4000, 'connect timeout');
    scheduleReconnect();
  }

  function onOpen() {
    clearTimeout(conn.connectTimer);
    conn.connectTimer = 0;
    conn.opens += 1;
    conn.lastReceivedAt = Date.now();
    setState('open');
    addEntry('system', conn.opens === 1 ? 'Connected.' : 'Connected again.');
    // Reset the backoff only once the connection has proven stable, so a server that accepts and
    // immediately drops connections is not hammered at the base delay.
    conn.stableTimer = setTimeout(() => { conn.attempt = 0; }, config.stableMs);
    scheduleIdleCheck();
  }

  function onMessage(event) {
    conn.lastReceivedAt = Date.now();
    if (conn.deadlineTimer) {
      // Any frame proves the connection is alive, not just the probe's echo.
      clearTimeout(conn.deadlineTimer);
      conn.deadlineTimer = 0;
      scheduleIdleCheck();
    }
    const notice = typeof event.data === 'string' && noticeOf(event.data);
    if (notice) {
      showNotice(notice, event.data);
    } else if (typeof event.data === 'string') {
      addEntry('received', event.data);
    } else if (isProbeEcho(event.data)) {
      conn.probesInFlight -= 1; // our own heartbeat coming back: not a message for the reader
    } else {
      addEntry('received', `[binary ${event.data.byteLength} bytes]`);
    }
  }

  // The notice in a text frame, or null for an ordinary message (JSON or not) that lacks the reserved key.
  function noticeOf(text) {
    if (!text.startsWith('{')) return null;
    let value;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return null; // not JSON: an ordinary message that happens to start with a brace
    }
    const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
    return isObject && Object.prototype.hasOwnProperty.call(value, NOTICE_KEY) ? value : null;
  }

  function showNotice(notice, text) {
    const { count } = notice;
    if (notice[NOTICE_KEY] === 'dropped' && Number.isInteger(count) && count > 0) {
      // Sent by a server running --slow-consumer drop-oldest: this page fell behind and missed messages.
      addEntry('system', `${count} messages were dropped here: this page fell behind.`);
    } else {
      // A newer server may send notices this page does not know yet: say so, but never show one as a message.
      const shown = text.length <= 200 ? text : `${text.slice(0, 197)}...`;
      addEntry('system', `The server sent a notice this page does not know: ${shown}`);
    }
  }

  function onClose(event) {
    const wasOpen = conn.state === 'open';
    release();
    const reason = event.reason ? `, ${event.reason}` : '';
    // A failed attempt (server down, origin refused) never had a connection to close; say so.
    addEntry('system', wasOpen
      ? `Connection closed (code ${event.code}${reason}).`
      : `Could not connect (code ${event.code}${reason}).`);
    const final = FINAL_CLOSE[event.code];
    if (final) {
      conn.wanted = false;
      setState('closed', final);
      return;
    }
    scheduleReconnect();
  }

  // Forgets the current socket and its timers without waiting for its close event, which on a
  // silently dead network may take minutes to arrive.
  function release() {
    const ws = conn.socket;
    conn.socket = null;
    conn.probesInFlight = 0;
    for (const timer of ['connectTimer', 'stableTimer', 'idleTimer', 'deadlineTimer']) {
      clearTimeout(conn[timer]);
      conn[timer] = 0;
    }
    if (ws) ws.onopen = ws.onmessage = ws.onclose = null;
    return ws;
  }

  function closeSocket(code, reason) {
    const ws = release();
    if (!ws) return;
    try {
      ws.close(code, reason);
    } catch (err) {
      // close() only throws for invalid codes/reasons, which ours are not; nothing to recover.
    }
  }

  function scheduleReconnect() {
    if (!conn.wanted || conn.reconnectTimer) return;
    // Full jitter: a random delay up to the exponential bound, so that many pages dropped by one
    // server restart do not all come back in the same millisecond.
    const bound = Math.min(config.backoffMaxMs, config.backoffBaseMs * 2 ** Math.min(conn.attempt, 30));
    const delay = Math.random() * bound;
    conn.attempt += 1;
    setState('reconnecting', Math.max(1, Math.ceil(delay / 1000)));
    conn.reconnectTimer = setTimeout(() => {
      conn.reconnectTimer = 0;
      connect();
    }, delay);
  }

  // Skips the remaining backoff wait, for moments when a retry is likely to work at once.
  function reconnectNow() {
    if (!conn.wanted || conn.socket) return;
    clearTimeout(conn.reconnectTimer);
    conn.reconnectTimer = 0;
    connect();
  }

  // ---- heartbeat --------------------------------------------------------------------------
  // The server's protocol-level pings are invisible to JavaScript, and a dropped network often
  // produces no close event at all. So after a quiet spell we send a probe and expect a frame back.

  function scheduleIdleCheck() {
    clearTimeout(conn.idleTimer);
    const due = conn.lastReceivedAt + config.heartbeatMs - Date.now();
    conn.idleTimer = setTimeout(checkIdle, Math.max(0, due));
  }

  // Reschedules rather than resetting a timer on every message, so busy connections cost nothing.
  function checkIdle() {
    conn.idleTimer = 0;
    if (conn.state !== 'open' || conn.deadlineTimer) return;
    if (Date.now() - conn.lastReceivedAt < config.heartbeatMs) {
      scheduleIdleCheck();
      return;
    }
    sendProbe();
  }

  function sendProbe() {
    conn.socket.send(PROBE);
    conn.probesSent += 1;
    conn.probesInFlight += 1;
    conn.probeSentAt = Date.now();
    conn.deadlineTimer = setTimeout(checkDeadline, config.deadlineMs);
  }

  function checkDeadline() {
    conn.deadlineTimer = 0;
    // Compare times rather than trusting the timer alone: in a background tab it may fire late.
    if (conn.lastReceivedAt >= conn.probeSentAt) {
      scheduleIdleCheck();
      return;
    }
    conn.heartbeatFailures += 1;
    addEntry('system', `No answer to the heartbeat within ${seconds(config.deadlineMs)} s; the connection is dead.`);
    closeSocket(4000, 'heartbeat timeout');
    scheduleReconnect();
  }

  function isProbeEcho(buffer) {
    if (conn.probesInFlight <= 0 || buffer.byteLength !== PROBE.length) return false;
    const bytes = new Uint8Array(buffer);
    return PROBE.every((byte, i) => bytes[i] === byte);
  }

  // ---- user actions -----------------------------------------------------------------------

  function onSendSubmit(event) {
    event.preventDefault();
    const text = el.messageInput.value;
    if (conn.state !== 'open') {
      addEntry('system', `Not sent: the connection is ${conn.state}.`);
      return;
    }
    conn.socket.send(text);
    addEntry('sent', text);
    el.messageInput.value = '';
    el.messageInput.focus();
  }

  async function onPublishSubmit(event) {
    event.preventDefault();
    if (publishing) return; // one request at a time keeps the result line unambiguous
    publishing = true;
    showPublishResult('pending', 'Publishing…');
    try {
      const response = await fetch(new URL('receive', document.baseURI), {
        method: 'POST',
        headers: publishHeaders(),
        body: el.publishInput.value,
        cache: 'no-store',
      });
      reportPublish(response.status, response.ok, await readJson(response));
    } catch (err) {
      showPublishResult('error', `Not published: could not reach the server (${err.message}).`);
    } finally {
      publishing = false;
    }
  }

  function publishHeaders() {
    const headers = { 'Content-Type': 'text/plain; charset=utf-8' };
    const token = el.tokenInput.value.trim();
    if (token) headers.Authorization = `Bearer ${token}`;
    return headers;
  }

  async function readJson(response) {
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch (err) {
      return { error: text.trim().slice(0, 200) || response.statusText };
    }
  }

  function reportPublish(status, ok, body) {
    el.publishResult.dataset.httpStatus = String(status);
    if (ok && typeof body.delivered === 'number') {
      const n = body.delivered;
      el.publishResult.dataset.delivered = String(n);
      showPublishResult('ok', `Published: delivered to ${n} ${n === 1 ? 'connection' : 'connections'}.`);
      el.publishInput.value = '';
    } else {
      delete el.publishResult.dataset.delivered;
      const message = body.error || `unexpected answer ${JSON.stringify(body)}`;
      showPublishResult('error', `Not published (HTTP ${status}): ${message}`);
    }
  }

  function showPublishResult(outcome, text) {
    el.publishResult.dataset.outcome = outcome;
    el.publishResult.textContent = text;
  }

  function onConnectButton() {
    if (conn.wanted) {
      conn.wanted = false;
      clearTimeout(conn.reconnectTimer);
      conn.reconnectTimer = 0;
      closeSocket(1000, 'closed by the user');
      setState('closed');
      addEntry('system', 'Disconnected.');
    } else {
      conn.wanted = true;
      conn.attempt = 0;
      connect();
    }
  }

  // ---- browser events ---------------------------------------------------------------------

  function onVisible() {
    if (document.visibilityState !== 'visible') return;
    if (!conn.socket) {
      reconnectNow();
    } else {
      checkIdle(); // timers in hidden tabs are throttled; check liveness now that the user looks
    }
  }

  // Close on pagehide so the page can enter the back/forward cache; reopen when it is restored.
  function onPageHide(event) {
    if (!event.persisted) return;
    clearTimeout(conn.reconnectTimer);
    conn.reconnectTimer = 0;
    closeSocket(1001, 'page hidden');
  }

  function onPageShow(event) {
    if (event.persisted) reconnectNow();
  }

  function exposeDebugInfo() {
    const info = Object.freeze({
      get state() { return conn.state; },
      get connections() { return conn.opens; },
      get reconnects() { return Math.max(0, conn.opens - 1); },
      get attempt() { return conn.attempt; },
      get probesSent() { return conn.probesSent; },
      get heartbeatFailures() { return conn.heartbeatFailures; },
      get socketUrl() { return socketUrl(); },
      config,
    });
    Object.defineProperty(window, 'squall', { value: info, enumerable: true });
  }

  function start() {
    exposeDebugInfo();
    el.sendForm.addEventListener('submit', onSendSubmit);
    el.publishForm.addEventListener('submit', onPublishSubmit);
    el.connectButton.addEventListener('click', onConnectButton);
    window.addEventListener('online', reconnectNow);
    document.addEventListener('visibilitychange', onVisible);
    window.addEventListener('pagehide', onPageHide);
    window.addEventListener('pageshow', onPageShow);
    if (!('WebSocket' in window)) {
      conn.wanted = false;
      setState('closed', 'this browser has no WebSocket support');
      return;
    }
    connect();
  }

  start();
})();
