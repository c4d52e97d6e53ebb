// Squall's browser client for the squall.v1 protocol: one WebSocket, many channels, and a reconnect that
// loses and duplicates nothing. Dependency-free; copy it into an app or import it from a Squall server:
//
//   import { connect } from '/squall.js';
//   const client = connect('wss://push.example/ws', { onState: (state) => console.log(state) });
//   client.subscribe('news', {
//     onPublication: (data, { offset }) => show(offset, data),
//     onSubscribed: ({ recovered }) => { if (recovered === false) reload(); },
//   });
//
// On a server that needs tokens (README, "Securing Squall"), give it `getToken`, which it calls for a fresh one
// whenever it needs one, or a fixed `token`; channels of their own take a subscription token the same way:
//
//   const client = connect(url, { getToken: () => fetch('/squall-token').then((r) => r.text()) });
//   client.subscribe('private:42', { onPublication: show }, { getToken: (channel) => tokenFor(channel) });
//
// It then sends `connect` with the token before anything else, refreshes tokens before they expire, and comes
// back with a fresh one when the server says a token expired (close codes 3005, 3006), resuming every channel
// from its offset. Close codes it does not reconnect after: 3500 (invalid token; with getToken, after one more try
// with a fresh token), 3502 (no connect in time), 3503 (the server says not to come back), and any other from 3500
// to 3999 (Centrifugo's "do not reconnect" range: 3504 connection limit, 3505 channel limit, 3507 permission denied).
//
// It never touches the DOM: how a message is shown (as text, please) is the app's business.

const PROTOCOL = 'squall.v1';

/** Settings, all optional; times in milliseconds. */
const DEFAULTS = Object.freeze({
  pingIntervalMs: 20000, // silence after which we ask the server for a pong
  pingTimeoutMs: 10000, // time for any frame to arrive after that ping; then the connection counts as dead
  connectTimeoutMs: 10000, // a handshake that hangs this long counts as a failed attempt
  commandTimeoutMs: 10000, // a reply that takes longer fails its command (beyond the server's own 5 s deadlines)
  backoffBaseMs: 500,
  backoffMaxMs: 10000,
  stableMs: 5000, // open this long and the backoff starts over
});

/** A token refresh is never scheduled sooner than this, so that a device clock far ahead cannot make it spin. */
const MIN_REFRESH_DELAY_MS = 1000;
/** A token that expires within this is not used for a new connection or subscribe: getToken is asked first. */
const EXPIRY_MARGIN_MS = 1000;

/**
 * Close codes after which reconnecting cannot help (squall.v1's, from Centrifugo): what `lost` does on each is in
 * `afterClose`.
 */
const TOKEN_EXPIRED = 3005;
const SUBSCRIPTION_EXPIRED = 3006;
const INVALID_TOKEN = 3500;
const STALE = 3502;
const NO_RECONNECT = 3503;

/**
 * An error the server answered (`code` is one of squall.v1's error codes) or one of this client's own:
 * `disconnected` (the connection dropped, or was given up as dead, before the reply came), `timeout` (no reply
 * within `commandTimeoutMs` although the connection kept working), `closed` (the client was closed), `refused`
 * (the server closed the connection with 3503: do not come back), `token` (an app's getToken threw or rejected;
 * what it threw is the error's `cause`). When the client stops for good because of a
 * token (see `ConnectOptions.token`), `onError` gets `unauthorized` or `token_expired`.
 */
export class SquallError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'SquallError';
    /** @type {string} */
    this.code = code;
  }
}

/**
 * @typedef {object} ConnectOptions
 * @property {string} [token] a connection token (a JWT the app issued) for servers that need one: sent in a
 *   `connect` command as the first thing on every connection, before any subscribe. Alone it is never refreshed:
 *   when it expires (close 3005) or is refused (3500) the client closes for good (`onState('closed', {code})`,
 *   `onError` with `token_expired` or `unauthorized`). With `getToken` too, it is the first token used
 * @property {() => (string | null | Promise<string | null>)} [getToken] gets a fresh connection token (from the
 *   app's backend, say): called before the first connection, before the token expires (then sent in a `refresh`
 *   command, on the same connection: at 80 % of its remaining time, 10 s before its `exp` when that is earlier, and
 *   never sooner than 1 s), after the server said it expired (close 3005, or a `token_expired` reply; the client
 *   reconnects with the new one from every channel's offset) and once after a refusal (3500; a second refusal in a
 *   row closes the client). A token still valid is used again for a reconnect. A rejection is reported to `onError`
 *   and retried after a backoff delay; `null` or `''` (the user has signed out) closes the client with
 *   `unauthorized`. Times are read on the device's clock: one far off refreshes every second (ahead) or is cut and
 *   reconnects at each expiry (behind), losing nothing either way
 * @property {number} [pingIntervalMs] silence before an application-level ping (default 20000)
 * @property {number} [pingTimeoutMs] time for an answer to it before reconnecting (default 10000)
 * @property {number} [connectTimeoutMs] time for the WebSocket handshake (default 10000)
 * @property {number} [commandTimeoutMs] time for the reply to a command (subscribe, unsubscribe, publish,
 *   presence) before it fails with code `timeout` (default 10000); when nothing at all arrived meanwhile, the
 *   connection is given up as dead instead, and its commands fail with `disconnected`. A ping's is `pingTimeoutMs`
 * @property {number} [backoffBaseMs] first reconnect delay bound; it doubles per failed attempt (default 500)
 * @property {number} [backoffMaxMs] largest reconnect delay bound (default 10000)
 * @property {number} [stableMs] how long a connection must stay open to reset the backoff (default 5000)
 * @property {(state: 'connecting'|'open'|'reconnecting'|'closed', detail: StateDetail) => void} [onState]
 *   the connection's state changed
 * @property {(count: number) => void} [onDropped] the server dropped this many frames for this client (its
 *   --slow-consumer drop-oldest policy), just before the next one
 * @property {(error: Error) => void} [onError] a problem no subscription or promise owns
 * @property {typeof WebSocket} [WebSocket] the WebSocket class to use, for runtimes without a global one
 *   (Node's `ws` package) and for tests that play the server
 */

/**
 * @typedef {object} StateDetail
 * @property {number} [delayMs] for `reconnecting`: how long until the next attempt
 * @property {number} [code] for `reconnecting`, and `closed` when the server made the client stop (3005, 3500,
 *   3502, 3503): the close code of the connection that ended, if it had one
 * @property {string} [reason] why the last connection ended (close reason, `ping timeout`, ...)
 * @property {string} [user] for `open` after a `connect` with a token: who the server says this connection is
 *   (the token's `sub`; `''` for an anonymous user)
 */

/**
 * @typedef {object} SubscribeHandlers
 * @property {(data: unknown, meta: PublicationMeta) => void} [onPublication] each publication, once, in
 *   offset order; `data` is the JSON value published, or a Uint8Array for binary messages
 * @property {(info: SubscribedInfo) => void} [onSubscribed] after every (re)subscribe the server confirmed
 * @property {(error: SquallError) => void} [onError] the server refused the subscription, or did not answer it
 *   within `commandTimeoutMs` (code `timeout`); it has ended. To go on from where it was, subscribe again with
 *   `{ since: subscription.offset, epoch: subscription.epoch }` (when `offset` is not null). Not for
 *   `unavailable` (the server is draining or has lost Redis): that subscribe is asked again after a backoff delay
 * @property {(client: string, who: Who) => void} [onJoin] another client joined (namespaces with presence on)
 * @property {(client: string, who: Who) => void} [onLeave] another client left
 */

/**
 * @typedef {object} SubscribeOptions
 * @property {number|'latest'} [since] start after this offset (one the app kept, say in localStorage), or
 *   `'latest'` for the newest message in history first; without it, live from now
 * @property {string} [epoch] the epoch that `since` belongs to
 * @property {string} [token] a subscription token (claims `sub` and `channel`) for a private channel the
 *   connection's token does not grant: sent in every subscribe of this channel. Alone it is never refreshed: once
 *   expired, the next subscribe of it (after a reconnect) is refused with `token_expired` and the subscription ends
 * @property {(channel: string) => (string | null | Promise<string | null>)} [getToken] gets a fresh subscription
 *   token for the channel: before the first subscribe, before the token's `exp` (read from the token itself; sent
 *   in a `refresh` command with the channel, on the same timing as the connection's), after a `token_expired`
 *   refusal (once) and after the server closed the connection for an expired subscription (3006). A rejection is
 *   reported to the client's `onError` and the subscribe tried again after a backoff delay; `null` or `''` ends the
 *   subscription (`onError` with `unauthorized`)
 */

/**
 * @typedef {object} PublicationMeta
 * @property {string} channel
 * @property {number} offset
 */

/**
 * @typedef {object} SubscribedInfo
 * @property {string} channel
 * @property {number} offset the next publication has this offset plus one
 * @property {string} epoch
 * @property {boolean} [recovered] only when the subscribe asked to recover (every resubscribe after a
 *   reconnect does): true if the replay that follows closes the gap exactly; false if the server could not
 *   (history gone, server restarted): messages were missed and the app should reload its state
 * @property {boolean} resubscribed true after a reconnect
 * @property {boolean} [reset] true when the server itself lost the channel's stream while this connection was on
 *   it (a `reset` event: a gap no node could fill, or a new epoch); `recovered` is then false
 */

/**
 * Opens a squall.v1 connection that keeps itself open until {@link Client#close}.
 *
 * @param {string | URL} url a `ws:` or `wss:` URL of a Squall WebSocket route, such as `/ws`
 * @param {ConnectOptions} [options]
 * @returns {Client}
 */
export function connect(url, options = {}) {
  return new Client(url, options);
}

/** One squall.v1 connection and its subscriptions. Create it with {@link connect}. */
export class Client {
  /**
   * @param {string | URL} url
   * @param {ConnectOptions} [options]
   */
  constructor(url, options = {}) {
    // null counts as absent, so that `token: params.get('token')` works with and without one.
    if (options.token != null && (typeof options.token !== 'string' || options.token === '')) {
      throw new TypeError('token must be a non-empty string');
    }
    if (options.getToken != null && typeof options.getToken !== 'function') {
      throw new TypeError('getToken must be a function');
    }
    this.url = String(url);
    this.options = { ...DEFAULTS, ...options };
    /** @type {'connecting'|'open'|'reconnecting'|'closed'} */
    this.state = 'connecting';
    /** Counters, for an app's diagnostics and for tests. */
    this.stats = { opens: 0, pingsSent: 0, pingTimeouts: 0, duplicatesDropped: 0, commandTimeouts: 0, tokensFetched: 0,
      refreshes: 0 };
    /** @type {WebSocket | null} */
    this.socket = null;
    /** @type {Map<string, Subscription>} */
    this.subscriptions = new Map();
    /**
     * Commands waiting for their reply: how to settle each, and the timer of its deadline.
     * @type {Map<number, {settle: (error: SquallError | null, reply?: object) => void, timer: number}>}
     */
    this.pending = new Map();
    /** @type {Set<number>} ids of this socket's commands whose deadline passed: a late reply to one is dropped */
    this.expired = new Set();
    this.nextId = 1;
    this.attempt = 0; // consecutive failed attempts, drives the backoff
    this.lastFrameAt = 0;
    this.timers = { reconnect: 0, connect: 0, stable: 0, idle: 0, ping: 0, refresh: 0 };
    // Bumped whenever the current attempt is given up, so that a token that arrives after it is not used for it.
    this.generation = 0;
    /** @type {string | null} who the server says this connection is (its `connected` reply); null without a token */
    this.user = null;
    /**
     * The connection token: the one in use (or to use next), its expiry (ms, the server's word once connected),
     * whether the server said it expired or refused it, and refusals (3500) in a row since the last connect.
     */
    this.auth = { token: options.token ?? null, expiresAt: expiryOf(options.token),
      stale: false, refusals: 0 };
    this.onOnline = () => this.reconnectNow();
    // An open WebSocket keeps a page out of the back/forward cache: close it when the page is hidden into the
    // cache, and reconnect (recovering every channel from its last offset) when the page is shown again.
    this.onPageHide = (event) => {
      if (!event.persisted || this.state === 'closed') return;
      clearTimeout(this.timers.reconnect);
      this.closeSocket(1001, 'page hidden');
      this.failPending('disconnected', 'the page was hidden before the reply came');
      this.subscriptionsLost();
      this.setState('reconnecting', { reason: 'page hidden', delayMs: 0 });
    };
    this.onPageShow = (event) => {
      if (event.persisted && this.state === 'reconnecting' && !this.socket) this.reconnectNow();
    };
    if (typeof window !== 'undefined') {
      window.addEventListener('online', this.onOnline);
      window.addEventListener('pagehide', this.onPageHide);
      window.addEventListener('pageshow', this.onPageShow);
    }
    // Opened in a microtask, so the first onState call comes after connect() has returned the client.
    queueMicrotask(() => this.state === 'connecting' && this.open());
  }

  /**
   * Subscribes to a channel on this connection (and again after every reconnect, from the last offset seen).
   *
   * @param {string} channel a channel name, such as `news` or `chat:room1`
   * @param {SubscribeHandlers} [handlers]
   * @param {SubscribeOptions} [options]
   * @returns {Subscription}
   */
  subscribe(channel, handlers = {}, options = {}) {
    if (typeof channel !== 'string' || channel === '') throw new TypeError('channel must be a non-empty string');
    if (options.token != null && (typeof options.token !== 'string' || options.token === '')) {
      throw new TypeError('token must be a non-empty string');
    }
    if (options.getToken != null && typeof options.getToken !== 'function') {
      throw new TypeError('getToken must be a function');
    }
    if (this.subscriptions.has(channel)) throw new Error(`already subscribed to ${channel}`);
    if (this.state === 'closed') throw new SquallError('closed', 'the client is closed');
    const subscription = new Subscription(this, channel, handlers, options);
    this.subscriptions.set(channel, subscription);
    if (this.state === 'open') this.sendSubscribe(subscription);
    return subscription;
  }

  /**
   * Publishes to a channel over this connection (the server allows it only to publishers its publish policy
   * trusts). A rejection with code `disconnected` may or may not have been published: retry with the same
   * idempotency key and it is delivered once either way.
   *
   * @param {string} channel
   * @param {unknown} data any JSON value
   * @param {{idempotencyKey?: string}} [options]
   * @returns {Promise<{offset: number, epoch: string, delivered: number, duplicate: boolean}>}
   */
  publish(channel, data, options = {}) {
    const command = { type: 'publish', channel, data };
    if (options.idempotencyKey !== undefined) command.idempotency_key = options.idempotencyKey;
    return this.request(command);
  }

  /**
   * How many subscribers (connections) a channel has over the server's nodes, how many distinct users they are,
   * and its position.
   *
   * @param {string} channel
   * @returns {Promise<{subscribers: number, users: number, offset: number, epoch: string}>}
   */
  presence(channel) {
    return this.request({ type: 'presence', channel });
  }

  /** Closes the connection for good; subscriptions end and pending commands fail with code `closed`. */
  close() {
    if (this.state === 'closed') return;
    this.finish({});
  }

  /** Skips what is left of the backoff delay, for moments a retry is likely to work (the network is back). */
  reconnectNow() {
    if (this.state !== 'reconnecting') return;
    clearTimeout(this.timers.reconnect);
    this.open();
  }

  // ---- connection ---------------------------------------------------------------------------

  /** @private */
  open() {
    this.setState('connecting', {});
    if (!this.needsToken()) {
      this.openSocket();
      return;
    }
    // The token first, then the socket: the server's deadline for `connect` starts with the socket, and a slow
    // token endpoint must not use it up. A token that never comes counts as a failed attempt.
    const generation = ++this.generation;
    const current = () => generation === this.generation && this.state === 'connecting';
    this.timers.connect = setTimeout(() => current() && this.lost({ reason: 'getToken did not answer in time' }),
      this.options.connectTimeoutMs);
    this.fetchToken(this.options.getToken).then((token) => {
      if (!current()) return;
      clearTimeout(this.timers.connect);
      if (token === null) {
        this.stop({ reason: 'getToken gave no token' }, new SquallError('unauthorized', 'getToken gave no token: not connecting'));
        return;
      }
      this.auth = { ...this.auth, token, expiresAt: expiryOf(token), stale: false };
      this.openSocket();
    }, (err) => {
      if (!current()) return;
      this.report(tokenError(err));
      this.lost({ reason: 'getToken failed' });
    });
  }

  /** @private Whether getToken must be asked before connecting: no token yet, or one the server refused, or one about to expire. */
  needsToken() {
    if (typeof this.options.getToken !== 'function') return false;
    const { token, stale, expiresAt } = this.auth;
    return token === null || stale || (expiresAt !== null && expiresAt - Date.now() < EXPIRY_MARGIN_MS);
  }

  /**
   * @private Calls an app's getToken; resolves with its token, or null for none (the user has signed out).
   * @param {Function} getToken
   * @param {...unknown} args
   * @returns {Promise<string | null>}
   */
  fetchToken(getToken, ...args) {
    this.stats.tokensFetched += 1;
    return new Promise((resolve) => resolve(getToken(...args)))
      .then((token) => (typeof token === 'string' && token !== '' ? token : null));
  }

  /** @private */
  openSocket() {
    let ws;
    try {
      const Socket = this.options.WebSocket || WebSocket;
      ws = new Socket(this.url, PROTOCOL);
    } catch (err) {
      // A malformed URL or a blocked port: no point in retrying the same URL.
      this.report(err);
      this.close();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.socket = ws;
    // Each handler checks its socket is still the current one: a socket we gave up on must not touch the next.
    ws.onopen = () => ws === this.socket && this.onOpen(ws);
    ws.onmessage = (event) => ws === this.socket && this.onFrame(event.data);
    ws.onclose = (event) => ws === this.socket && this.lost({ code: event.code, reason: event.reason });
    this.timers.connect = setTimeout(() => this.lost({ reason: 'connect timeout' }), this.options.connectTimeoutMs);
  }

  /** @private */
  onOpen(ws) {
    clearTimeout(this.timers.connect);
    if (ws.protocol !== PROTOCOL) {
      // An older server, or a proxy that strips the header: it speaks the plain protocol, which we cannot.
      this.report(new SquallError('protocol', `the server did not select the ${PROTOCOL} subprotocol`));
      this.lost({ reason: 'no squall.v1' });
      return;
    }
    this.stats.opens += 1;
    this.lastFrameAt = Date.now();
    if (this.auth.token === null) {
      this.ready({});
    } else {
      this.sendConnect(ws, this.auth.token);
    }
  }

  /**
   * @private The connection may be used: the socket is open and, with a token, the server has said who it is.
   * @param {StateDetail} detail
   */
  ready(detail) {
    this.setState('open', detail);
    // Reset the backoff only once the connection proved stable, so a server that accepts and drops at once
    // is not hammered at the base delay.
    this.timers.stable = setTimeout(() => { this.attempt = 0; }, this.options.stableMs);
    this.scheduleIdleCheck();
    this.scheduleRefresh();
    for (const subscription of this.subscriptions.values()) this.sendSubscribe(subscription);
  }

  /**
   * @private `connect` is the first command: the server answers any other before it with a close (3500).
   * @param {WebSocket} ws
   * @param {string} token
   */
  sendConnect(ws, token) {
    this.send({ type: 'connect', token }, (error, reply) => {
      if (ws !== this.socket) return; // lost meanwhile: that has been dealt with
      if (!error) {
        this.auth = { ...this.auth, expiresAt: secondsToMs(reply.expires), refusals: 0 };
        this.user = typeof reply.user === 'string' ? reply.user : null;
        this.ready(this.user === null ? {} : { user: this.user });
      } else if (error.code === 'bad_command') {
        // The upgrade already said who this is (a token cookie, the app's own session): the server takes no
        // `connect`. A `refresh` makes it follow this token, which the client keeps fresh, instead.
        this.send({ type: 'refresh', token }, (again, refreshed) => {
          if (ws !== this.socket) return;
          if (!again) this.auth = { ...this.auth, expiresAt: secondsToMs(refreshed.expires), refusals: 0 };
          if (!again || again.code === 'bad_command') {
            this.ready({}); // bad_command again: a connection with the publish right, or a server without token keys
          } else {
            this.connectRefused(again);
          }
        });
      } else {
        this.connectRefused(error);
      }
    });
  }

  /**
   * @private The server refused the token: it closes the connection itself (3005 expired, 3500 invalid) right after
   * its reply; act on the reply at once, as on that close.
   * @param {SquallError} error
   */
  connectRefused(error) {
    if (error.code === 'token_expired') {
      this.lost({ code: TOKEN_EXPIRED, reason: error.message });
    } else if (error.code === 'unauthorized') {
      this.lost({ code: INVALID_TOKEN, reason: error.message });
    } else {
      // unavailable (the server cannot fetch its keys now), timeout, ...: try again after a backoff delay
      if (error.code !== 'unavailable') this.report(error);
      this.lost({ reason: `connect failed: ${error.message}` });
    }
  }

  /**
   * The connection ended or is presumed dead: forget it at once (a dead network may deliver its close event
   * minutes later), fail what waited for replies, and reconnect after a backoff delay.
   * @private
   */
  lost(detail) {
    this.closeSocket(4000, detail.reason || 'lost');
    this.failPending('disconnected', `the connection was lost before the reply came (${detail.reason || `code ${detail.code}`})`);
    this.subscriptionsLost();
    const stop = this.afterClose(detail.code);
    if (stop) {
      this.stop(detail, stop);
      return;
    }
    // Full jitter: a random delay up to the exponential bound, so the many clients of a restarted server do
    // not all come back in the same millisecond.
    const { backoffBaseMs, backoffMaxMs } = this.options;
    const delayMs = Math.random() * Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    this.setState('reconnecting', { ...detail, delayMs });
    this.timers.reconnect = setTimeout(() => this.open(), delayMs);
  }

  /**
   * @private What a close code means for the next attempt: null to reconnect (with a fresh token when one
   * expired), or the error to stop with.
   * @param {number | undefined} code
   * @returns {SquallError | null}
   */
  afterClose(code) {
    const refreshes = typeof this.options.getToken === 'function';
    switch (code) {
      case TOKEN_EXPIRED:
        if (refreshes) {
          this.auth.stale = true;
          return null;
        }
        // Without getToken the same token would only be refused again; without any token (the app's own session
        // identified the connection) the next upgrade may well be accepted.
        return this.auth.token === null ? null
          : new SquallError('token_expired', 'the token expired and there is no getToken to get another');
      case SUBSCRIPTION_EXPIRED:
        for (const subscription of this.subscriptions.values()) subscription.tokenStale = true;
        return null;
      case INVALID_TOKEN:
        if (refreshes && this.auth.refusals === 0) {
          this.auth.refusals += 1;
          this.auth.stale = true;
          return null;
        }
        return new SquallError('unauthorized', refreshes ? 'the server refused two tokens in a row'
          : 'the server refused the connection: it needs a valid token');
      case STALE:
        return new SquallError('unauthorized', 'the server waited for a connect command in vain');
      case NO_RECONNECT:
        return new SquallError('refused', 'the server closed the connection and asked not to come back');
      default:
        // 3500-3999 mean "do not reconnect" (Centrifugo's convention, which Squall's codes follow): a connection
        // or channel limit (3504, 3505), a permission refused (3507).
        return code !== undefined && code >= 3500 && code <= 3999
          ? new SquallError('refused', 'the server closed the connection (' + code + ') and asked not to come back')
          : null;
    }
  }

  /**
   * @private The server made reconnecting pointless: close for good, saying why.
   * @param {StateDetail} detail
   * @param {SquallError} error
   */
  stop(detail, error) {
    this.report(error);
    this.finish({ ...(detail.code === undefined ? {} : { code: detail.code }), reason: detail.reason || error.message });
  }

  /**
   * @private Closes for good: no socket, no timer, no subscription; then the `closed` state.
   * @param {StateDetail} detail
   */
  finish(detail) {
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', this.onOnline);
      window.removeEventListener('pagehide', this.onPageHide);
      window.removeEventListener('pageshow', this.onPageShow);
    }
    this.closeSocket(1000, 'client closed');
    clearTimeout(this.timers.reconnect);
    this.subscriptionsLost();
    this.subscriptions.clear();
    this.failPending('closed', 'the client is closed');
    this.setState('closed', detail);
  }

  /** @private No subscription is live without a connection, nor refreshes its token. */
  subscriptionsLost() {
    for (const subscription of this.subscriptions.values()) {
      subscription.live = false;
      clearTimeout(subscription.refreshTimer);
      clearTimeout(subscription.retryTimer);
    }
  }

  /** @private */
  closeSocket(code, reason) {
    const ws = this.socket;
    this.socket = null;
    this.generation += 1;
    for (const name of ['connect', 'stable', 'idle', 'ping', 'refresh']) clearTimeout(this.timers[name]);
    this.expired.clear(); // ids are never reused, and no reply can come from a socket we no longer read
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      // A close reason may have 123 bytes of UTF-8; ours can quote the server's messages.
      ws.close(code, reason.slice(0, 40));
    } catch (err) {
      // only invalid codes or reasons throw, and ours are valid
    }
  }

  /** @private */
  setState(state, detail) {
    this.state = state;
    if (this.options.onState) this.call(this.options.onState, state, detail);
  }

  // ---- liveness: browsers cannot send ping frames, so we ask for a pong in a command ------------

  /** @private */
  scheduleIdleCheck() {
    clearTimeout(this.timers.idle);
    const due = this.lastFrameAt + this.options.pingIntervalMs - Date.now();
    this.timers.idle = setTimeout(() => this.checkIdle(), Math.max(0, due));
  }

  /** @private Rescheduled rather than reset on every frame, so a busy connection costs no timer churn. */
  checkIdle() {
    if (this.state !== 'open') return;
    if (Date.now() - this.lastFrameAt < this.options.pingIntervalMs) {
      this.scheduleIdleCheck();
      return;
    }
    const sentAt = Date.now();
    this.stats.pingsSent += 1;
    // Any frame proves liveness, not only the pong; so the ping's own deadline only forgets it, and the timer
    // below decides whether the connection is dead.
    this.request({ type: 'ping' }, this.options.pingTimeoutMs).catch(() => {});
    this.timers.ping = setTimeout(() => {
      // Compare times rather than trusting the timer alone: in a background tab it may fire late.
      if (this.lastFrameAt >= sentAt) {
        this.scheduleIdleCheck();
      } else {
        this.stats.pingTimeouts += 1;
        this.lost({ reason: 'ping timeout' });
      }
    }, this.options.pingTimeoutMs);
  }

  // ---- frames -------------------------------------------------------------------------------

  /** @private */
  request(command, timeoutMs) {
    return new Promise((resolve, reject) => {
      this.command(command, (error, reply) => (error ? reject(error) : resolve(reply)), timeoutMs);
    });
  }

  /**
   * Sends a command; `settle(error, reply)` runs once: as the reply is read, before the next frame, which a
   * subscribe needs (its publications follow the reply at once; a promise would settle only after them), or
   * when its deadline passes, or when the connection is lost.
   * @private
   */
  command(command, settle, timeoutMs = this.options.commandTimeoutMs) {
    if (this.state !== 'open') {
      settle(new SquallError('disconnected', `not connected (${this.state})`));
      return;
    }
    this.send(command, settle, timeoutMs);
  }

  /** @private As {@link Client#command}, on an open socket that may still be waiting for its `connected` reply. */
  send(command, settle, timeoutMs = this.options.commandTimeoutMs) {
    const id = this.nextId++;
    const sentAt = Date.now();
    const timer = setTimeout(() => this.expire(id, command.type, sentAt, timeoutMs), timeoutMs);
    this.pending.set(id, { settle, timer });
    this.socket.send(JSON.stringify({ id, ...command }));
  }

  /**
   * A command's deadline passed without its reply. If nothing else came either, the connection is what failed
   * (a dead network, a server that stopped reading): reconnect, as the ping would, so that a subscribe is
   * retried on the next connection rather than given up. If other frames came, the connection works and only
   * this command failed.
   * @private
   */
  expire(id, type, sentAt, timeoutMs) {
    const waiting = this.pending.get(id);
    if (!waiting) return;
    this.stats.commandTimeouts += 1;
    const late = `no reply to ${type} within ${timeoutMs} ms`;
    // The ping has its own timer for this, which also counts pingTimeouts.
    if (type !== 'ping' && this.lastFrameAt < sentAt) {
      this.lost({ reason: late });
      return;
    }
    this.pending.delete(id);
    this.expired.add(id);
    waiting.settle(new SquallError('timeout', late));
  }

  /** @private */
  failPending(code, message) {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const { settle, timer } of waiting) {
      clearTimeout(timer);
      settle(new SquallError(code, message));
    }
  }

  // ---- tokens: refreshed before they expire, on the connection they keep open ----------------------

  /** @private Plans the connection token's refresh, when getToken can give one and the token expires. */
  scheduleRefresh() {
    clearTimeout(this.timers.refresh);
    const { expiresAt } = this.auth;
    if (typeof this.options.getToken !== 'function' || expiresAt === null || this.auth.token === null) return;
    const socket = this.socket;
    this.timers.refresh = setTimeout(() => this.refresh(socket), refreshDelay(expiresAt - Date.now()));
  }

  /** @private */
  refresh(socket) {
    const current = () => socket === this.socket && this.state === 'open';
    this.fetchToken(this.options.getToken).then((token) => {
      if (!current()) return;
      if (token === null) {
        this.stop({ reason: 'getToken gave no token' }, new SquallError('unauthorized', 'getToken gave no token: disconnected'));
        return;
      }
      this.command({ type: 'refresh', token }, (error, reply) => {
        if (!current()) return;
        if (!error) {
          this.stats.refreshes += 1;
          this.auth = { ...this.auth, token, expiresAt: secondsToMs(reply.expires), stale: false };
          this.scheduleRefresh();
        } else if (error.code !== 'token_expired' && error.code !== 'unauthorized' && error.code !== 'bad_command') {
          // Not refused (the server closes the connection after those, and the close says what to do next):
          // unavailable, timeout. Try again while the old token lasts.
          this.report(error);
          this.scheduleRefresh();
        }
      });
    }, (err) => {
      if (!current()) return;
      this.report(tokenError(err));
      this.scheduleRefresh();
    });
  }

  /** @private */
  sendSubscribe(subscription, tokenFetched = false) {
    if (!tokenFetched && subscription.needsToken()) {
      this.subscribeWithFreshToken(subscription);
      return;
    }
    const command = { type: 'subscribe', channel: subscription.channel };
    if (subscription.token !== null) command.token = subscription.token;
    if (subscription.offset !== null) {
      command.since = subscription.offset;
      if (subscription.epoch !== null) command.epoch = subscription.epoch;
    } else if (subscription.since === 'latest') {
      command.since = 'latest';
    }
    const resubscribed = subscription.confirmed;
    this.command(command, (error, reply) => (error ? subscription.onRefused(error) : subscription.onReply(reply, resubscribed)));
  }

  /** @private Asks the subscription's getToken, then subscribes with its token on this same connection. */
  subscribeWithFreshToken(subscription) {
    const socket = this.socket;
    const current = () => socket === this.socket && this.state === 'open' && this.subscriptions.get(subscription.channel) === subscription;
    this.fetchToken(subscription.getToken, subscription.channel).then((token) => {
      if (!current()) return;
      if (token === null) {
        subscription.end(new SquallError('unauthorized', `getToken gave no token for ${subscription.channel}`));
        return;
      }
      subscription.setToken(token);
      this.sendSubscribe(subscription, true);
    }, (err) => {
      if (!current()) return;
      this.report(tokenError(err));
      subscription.retryLater();
    });
  }

  /** @private */
  onFrame(raw) {
    this.lastFrameAt = Date.now();
    let frame;
    try {
      frame = typeof raw === 'string' ? JSON.parse(raw) : null;
    } catch (err) {
      frame = null;
    }
    if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
      this.report(new SquallError('bad_frame', 'the server sent a frame that is not a JSON object'));
      return;
    }
    // squall.v1 tells frames apart by their members: a reply has "id", an event "type", a publication neither.
    if (has(frame, 'id')) {
      this.onReply(frame);
    } else if (has(frame, 'type')) {
      this.onEvent(frame);
    } else {
      const subscription = this.subscriptions.get(frame.channel);
      if (subscription) subscription.onPublication(frame);
    }
  }

  /** @private */
  onReply(frame) {
    const waiting = this.pending.get(frame.id);
    if (!waiting) {
      // Its command already failed with `timeout` and was reported then: a late reply, success or error, changes
      // nothing (a subscribe that timed out was unsubscribed on the server, in order, right after).
      if (this.expired.delete(frame.id)) return;
      // "id": null means the server could not read our command at all: a bug worth seeing.
      if (frame.type === 'error') this.report(new SquallError(frame.code, frame.message));
      return;
    }
    this.pending.delete(frame.id);
    clearTimeout(waiting.timer);
    const { settle } = waiting;
    if (frame.type === 'error') {
      settle(new SquallError(frame.code, frame.message));
    } else {
      settle(null, frame);
    }
  }

  /** @private */
  onEvent(frame) {
    if (frame.type === 'dropped') {
      if (this.options.onDropped) this.call(this.options.onDropped, frame.count);
      return;
    }
    const subscription = this.subscriptions.get(frame.channel);
    if (!subscription) return;
    if (frame.type === 'join') subscription.call('onJoin', frame.client, who(frame));
    if (frame.type === 'leave') subscription.call('onLeave', frame.client, who(frame));
    if (frame.type === 'reset') subscription.onReset(frame);
    // other types come from a newer server; ignoring them keeps this client working with it
  }

  /** @private */
  report(error) {
    if (this.options.onError) {
      this.call(this.options.onError, error);
    } else {
      console.warn('squall:', error);
    }
  }

  /** @private An app's handler that throws must not break the connection for every other channel. */
  call(fn, ...args) {
    try {
      fn(...args);
    } catch (err) {
      console.error('squall: a handler threw', err);
    }
  }
}

/** One channel's subscription on a {@link Client}; it keeps its position across reconnects. */
export class Subscription {
  /** @private */
  constructor(client, channel, handlers, options) {
    this.client = client;
    /** @type {string} */
    this.channel = channel;
    this.handlers = handlers;
    this.since = options.since;
    /** @type {number | null} the offset of the last publication delivered (or the position to recover from) */
    this.offset = typeof options.since === 'number' ? options.since : null;
    /** @type {string | null} the epoch that offset belongs to */
    this.epoch = this.offset !== null && typeof options.epoch === 'string' ? options.epoch : null;
    this.confirmed = false; // the server has confirmed a subscribe at least once
    this.live = false; // confirmed on the current connection
    this.retries = 0; // subscribes refused in a row as `unavailable`, drives their backoff
    this.retryTimer = 0;
    /** @type {string | null} the subscription token in use, or to use next */
    this.token = options.token ?? null;
    this.getToken = options.getToken;
    this.tokenExpiresAt = expiryOf(this.token); // ms, from the token's exp (the server's word after a refresh)
    this.tokenStale = false; // the server said it expired: getToken is asked before the next subscribe
    this.tokenRetried = false; // one fresh token after a token_expired refusal, not a loop of them
    this.refreshTimer = 0;
  }

  /** @private */
  needsToken() {
    if (typeof this.getToken !== 'function') return false;
    return this.token === null || this.tokenStale
      || (this.tokenExpiresAt !== null && this.tokenExpiresAt - Date.now() < EXPIRY_MARGIN_MS);
  }

  /** @private */
  setToken(token, expiresAt = expiryOf(token)) {
    this.token = token;
    this.tokenExpiresAt = expiresAt;
    this.tokenStale = false;
  }

  /** Ends this subscription; nothing more is delivered to its handlers. */
  unsubscribe() {
    const { client } = this;
    if (client.subscriptions.get(this.channel) !== this) return;
    client.subscriptions.delete(this.channel);
    this.live = false;
    clearTimeout(this.retryTimer);
    clearTimeout(this.refreshTimer);
    // Sent even before the subscribe was confirmed: the server answers commands in order.
    if (client.state === 'open') client.request({ type: 'unsubscribe', channel: this.channel }).catch(() => {});
  }

  /** @private */
  onReply(reply, resubscribed) {
    if (this.client.subscriptions.get(this.channel) !== this) return; // unsubscribed meanwhile
    this.offset = reply.offset;
    this.epoch = reply.epoch;
    this.confirmed = true;
    this.live = true;
    this.retries = 0;
    this.tokenRetried = false;
    this.scheduleRefresh();
    const info = { channel: this.channel, offset: reply.offset, epoch: reply.epoch, resubscribed };
    if (typeof reply.recovered === 'boolean') info.recovered = reply.recovered;
    this.call('onSubscribed', info);
  }

  /**
   * @private The server lost track of this channel's stream (a gap it could not fill, or a new epoch): what
   * follows starts after the event's offset, in its epoch, so later offsets may be lower than the last one seen.
   */
  onReset(frame) {
    if (!this.live) return; // the reply of the subscribe under way brings the position
    this.offset = frame.offset;
    this.epoch = frame.epoch;
    this.call('onSubscribed', { channel: this.channel, offset: frame.offset, epoch: frame.epoch, resubscribed: false,
      recovered: false, reset: true });
  }

  /** @private */
  onRefused(err) {
    const { client } = this;
    if (client.subscriptions.get(this.channel) !== this) return; // unsubscribed meanwhile: nothing more to tell
    // Lost with the connection: the next connection subscribes again.
    if (err.code === 'disconnected' || err.code === 'closed') return;
    if (err.code === 'unavailable') {
      this.retryLater();
      return;
    }
    if (err.code === 'token_expired' && typeof this.getToken === 'function' && !this.tokenRetried) {
      this.tokenRetried = true;
      this.tokenStale = true;
      client.sendSubscribe(this);
      return;
    }
    client.subscriptions.delete(this.channel);
    this.live = false;
    clearTimeout(this.refreshTimer);
    if (err.code === 'timeout' && client.state === 'open') {
      // The server may still take the subscribe it did not answer in time. It handles commands in order, so this
      // unsubscribe comes after that subscribe, and any subscribe of the app's (even from onError) after both.
      client.request({ type: 'unsubscribe', channel: this.channel }).catch(() => {});
    }
    this.call('onError', err);
  }

  /**
   * @private Ends a subscription the client itself gives up (its getToken gave no token): as a refusal would, and the
   * server is told if it had it.
   * @param {SquallError} err
   */
  end(err) {
    const { client } = this;
    if (client.subscriptions.get(this.channel) !== this) return;
    const wasLive = this.live;
    client.subscriptions.delete(this.channel);
    this.live = false;
    clearTimeout(this.refreshTimer);
    clearTimeout(this.retryTimer);
    if (wasLive && client.state === 'open') client.request({ type: 'unsubscribe', channel: this.channel }).catch(() => {});
    this.call('onError', err);
  }

  /** @private Plans the subscription token's refresh, when getToken can give one and the token expires. */
  scheduleRefresh() {
    clearTimeout(this.refreshTimer);
    if (typeof this.getToken !== 'function' || this.token === null || this.tokenExpiresAt === null) return;
    const socket = this.client.socket;
    this.refreshTimer = setTimeout(() => this.refresh(socket), refreshDelay(this.tokenExpiresAt - Date.now()));
  }

  /** @private */
  refresh(socket) {
    const { client } = this;
    const current = () => socket === client.socket && client.state === 'open' && this.live
      && client.subscriptions.get(this.channel) === this;
    client.fetchToken(this.getToken, this.channel).then((token) => {
      if (!current()) return;
      if (token === null) {
        this.end(new SquallError('unauthorized', `getToken gave no token for ${this.channel}`));
        return;
      }
      client.command({ type: 'refresh', channel: this.channel, token }, (error, reply) => {
        if (!current()) return;
        if (!error) {
          client.stats.refreshes += 1;
          this.setToken(token, secondsToMs(reply.expires));
          this.scheduleRefresh();
        } else {
          // Refused or not, the old token still holds until its exp: try again while it lasts. When it runs out the
          // server closes the connection (3006), and the next one subscribes with a fresh token.
          client.report(error);
          this.scheduleRefresh();
        }
      });
    }, (err) => {
      if (!current()) return;
      client.report(tokenError(err));
      this.scheduleRefresh();
    });
  }

  /**
   * @private The server cannot take the subscribe now (it is draining, or has lost Redis) but the connection goes
   * on: ask again after a backoff delay, as long as this connection lasts (the next one subscribes anyway).
   */
  retryLater() {
    const { client } = this;
    const socket = client.socket;
    const { backoffBaseMs, backoffMaxMs } = client.options;
    const delayMs = Math.random() * Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.min(this.retries, 30));
    this.retries += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (client.socket === socket && client.state === 'open' && client.subscriptions.get(this.channel) === this) {
        client.sendSubscribe(this);
      }
    }, delayMs);
  }

  /** @private */
  onPublication(frame) {
    // The server sends the subscribe reply before any of the subscription's publications, so one that comes
    // earlier belongs to an older subscription of this channel.
    if (!this.live || typeof frame.offset !== 'number') return;
    if (frame.offset <= this.offset) {
      // The server promises no duplicates; this is defence in depth, counted so a test can see it never happens.
      this.client.stats.duplicatesDropped += 1;
      return;
    }
    this.offset = frame.offset;
    const data = frame.encoding === 'base64' ? bytesOf(frame.data) : frame.data;
    this.call('onPublication', data, { channel: this.channel, offset: frame.offset });
  }

  /** @private */
  call(name, ...args) {
    const handler = this.handlers[name];
    if (typeof handler === 'function') this.client.call(handler, ...args);
  }
}

/**
 * Whose connection a join or leave is about: its user ("" when anonymous) and the info its token or the app gave
 * it, if any.
 *
 * @typedef {object} Who
 * @property {string} user
 * @property {object} [info]
 */

/** @returns {Who} */
function who(frame) {
  const found = { user: typeof frame.user === 'string' ? frame.user : '' };
  if (frame.info !== undefined) found.info = frame.info;
  return found;
}

function has(object, key) {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** When to refresh a token that expires in `remainingMs`: at 80 % of it, 10 s before when that is earlier. */
function refreshDelay(remainingMs) {
  const delay = Math.min(remainingMs * 0.8, Math.max(remainingMs - 10000, remainingMs / 2));
  return Math.max(MIN_REFRESH_DELAY_MS, delay);
}

/** Unix seconds (the protocol's `expires`) as milliseconds, or null when absent (the token never expires). */
function secondsToMs(seconds) {
  return typeof seconds === 'number' ? seconds * 1000 : null;
}

/**
 * A JWT's `exp` in milliseconds, read from its payload without checking anything (the server does that), or null
 * when it has none or is not a JWT.
 */
function expiryOf(token) {
  if (typeof token !== 'string') return null;
  try {
    const payload = token.split('.')[1];
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '=');
    const claims = JSON.parse(new TextDecoder().decode(bytesOf(base64)));
    return typeof claims.exp === 'number' ? claims.exp * 1000 : null;
  } catch (err) {
    return null;
  }
}

/** What an app's getToken threw or rejected with, as a SquallError of code `token` (the original as its `cause`). */
function tokenError(err) {
  const error = new SquallError('token', `getToken failed: ${err instanceof Error ? err.message : String(err)}`);
  error.cause = err;
  return error;
}

function bytesOf(base64) {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
