// The page's channel view: squall.js in use. Subscribing opens one squall.v1 WebSocket for every channel
// the reader picks; each message shows its offset, and after a reconnect each channel says whether the
// server could replay what it missed. Message content is only ever set as text, never parsed as HTML.
import { connect } from './squall.js';

const params = new URLSearchParams(window.location.search);
// A server that needs tokens (--token-hmac-secret, ...) takes one from the page's own URL, /?token=...: squall.js
// sends it in its connect command, and the status line says who the server took it for.
const token = params.get('token') || undefined;

// The same query overrides as app.js (?heartbeat=2000&deadline=1000&backoffMax=2000), so tests need not wait.
const options = {
  pingIntervalMs: positiveInt('heartbeat', 20000),
  pingTimeoutMs: positiveInt('deadline', 10000),
  connectTimeoutMs: positiveInt('connectTimeout', 10000),
  commandTimeoutMs: positiveInt('commandTimeout', 10000),
  token,
  backoffBaseMs: positiveInt('backoffBase', 500),
  backoffMaxMs: positiveInt('backoffMax', 10000),
  stableMs: positiveInt('stable', 5000),
};
const logMax = positiveInt('logMax', 500);

// Prefixed, so that the two status lines on the page (and what a screen reader announces) say which is which.
const STATUS_TEXT = {
  idle: () => 'Channels: not connected; subscribe to a channel to connect.',
  connecting: () => 'Channels: connecting…',
  open: ({ user }) => (user === undefined ? 'Channels: connection open'
    : `Channels: connection open, signed in as ${user === '' ? 'an anonymous user' : user}`),
  reconnecting: ({ delayMs }) => `Channels: reconnecting in ${Math.max(1, Math.ceil(delayMs / 1000))} s`,
  // With a reason only when the server made squall.js stop (a token expired or refused): say why.
  closed: ({ reason }) => (reason ? `Channels: connection closed: ${reason}` : 'Channels: connection closed'),
};
const RECOVERY_TEXT = {
  subscribing: 'subscribing…',
  reconnecting: 'reconnecting…', // was on the lost connection; recovered or not once the next one resubscribes
  live: 'live',
  recovered: 'recovered',
  'not-recovered': 'not recovered: some messages may be missing',
};

const el = {
  card: document.getElementById('channels'),
  form: document.getElementById('channel-form'),
  input: document.getElementById('channel-input'),
  status: document.getElementById('channel-status'),
  list: document.getElementById('channel-list'),
  log: document.getElementById('channel-log'),
};

/** @type {import('./squall.js').Client | null} opened by the first subscribe, closed after the last */
let client = null;
/** @type {Map<string, {subscription: import('./squall.js').Subscription, row: HTMLLIElement}>} */
const channels = new Map();

function positiveInt(name, fallback) {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

// Same host and path prefix as the page, so it also works behind a proxy that mounts Squall elsewhere.
function socketUrl() {
  const url = new URL('ws', document.baseURI);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  url.hash = '';
  return url.href;
}

// ---- display ----------------------------------------------------------------------------------

function showState(state, detail = {}) {
  el.card.dataset.state = state;
  el.status.textContent = STATUS_TEXT[state](detail);
  if (state === 'open') {
    if (detail.user === undefined) delete el.card.dataset.user;
    else el.card.dataset.user = detail.user;
  }
  if (state === 'closed' && channels.size > 0) {
    // The server made squall.js stop (its status says why) and its subscriptions went with it: so do the rows, and
    // the next subscribe starts a new client.
    for (const { row } of channels.values()) row.remove();
    channels.clear();
    client = null;
  }
  if (state === 'reconnecting' || state === 'connecting') {
    // A row must not go on saying live (or recovered) for a connection that is gone: until the next connection
    // resubscribes it, nothing arrives on it. One still waiting for its first reply stays subscribing.
    for (const channel of channels.keys()) {
      if (channels.get(channel).row.dataset.recovery !== 'subscribing') showRecovery(channel, 'reconnecting');
    }
  }
}

function part(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

const ENTRY_CLASS = {
  publication: 'entry entry-received entry-publication',
  system: 'entry entry-system',
  error: 'entry entry-error',
};

function addEntry(kind, label, text, offset) {
  const item = document.createElement('li');
  item.className = ENTRY_CLASS[kind];
  item.dataset.kind = kind;
  item.append(part('span', 'entry-kind', label), ' ');
  if (offset !== undefined) {
    item.dataset.offset = String(offset);
    item.append(part('span', 'entry-offset', `#${offset}`), ' ');
  }
  const now = new Date();
  const time = part('time', 'entry-time', now.toLocaleTimeString([], { hour12: false }));
  time.dateTime = now.toISOString();
  item.append(part('span', 'entry-text', text), ' ', time);
  const followTail = el.log.scrollHeight - el.log.scrollTop - el.log.clientHeight < 40;
  el.log.append(item);
  while (el.log.childElementCount > logMax) el.log.firstElementChild.remove();
  if (followTail) el.log.scrollTop = el.log.scrollHeight;
  return item;
}

function textOf(data) {
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return `[binary ${data.byteLength} bytes]`;
  return JSON.stringify(data);
}

function showRecovery(channel, recovery, offset) {
  const entry = channels.get(channel);
  if (!entry) return;
  entry.row.dataset.recovery = recovery;
  entry.row.querySelector('.channel-state').textContent = RECOVERY_TEXT[recovery];
  if (offset !== undefined) entry.row.querySelector('.channel-offset').textContent = `offset ${offset}`;
}

// ---- channels ---------------------------------------------------------------------------------

function subscribe(channel) {
  if (channels.has(channel)) {
    addEntry('system', 'Info', `Already subscribed to ${channel}.`);
    return;
  }
  if (!client) client = connect(socketUrl(), { ...options, onState: showState, onDropped, onError: onClientError });
  const row = channelRow(channel);
  const subscription = client.subscribe(channel, {
    onPublication(data, { offset }) {
      const item = addEntry('publication', channel, textOf(data), offset);
      item.dataset.channel = channel;
      showRecovery(channel, channels.get(channel).row.dataset.recovery, offset);
    },
    onSubscribed({ offset, epoch, recovered, resubscribed }) {
      if (recovered === false) {
        showRecovery(channel, 'not-recovered', offset);
        addEntry('system', 'Info', `${channel}: not recovered: some messages may be missing. Now at offset ${offset} (epoch ${epoch}).`);
      } else if (recovered === true) {
        showRecovery(channel, 'recovered', offset);
        addEntry('system', 'Info', `${channel}: recovered after offset ${offset}; what was missed follows.`);
      } else {
        // Only a subscribe without a position has no "recovered"; squall.js resubscribes with one.
        showRecovery(channel, 'live', offset);
        addEntry('system', 'Info', `${resubscribed ? 'Subscribed again' : 'Subscribed'} to ${channel} at offset ${offset}.`);
      }
    },
    onError(err) {
      addEntry('error', 'Error', `Not subscribed to ${channel}: ${err.message}`);
      forget(channel);
    },
  });
  channels.set(channel, { subscription, row });
  el.list.append(row);
}

function channelRow(channel) {
  const row = document.createElement('li');
  row.className = 'channel';
  row.dataset.channel = channel;
  row.dataset.recovery = 'subscribing';
  const button = part('button', 'unsubscribe', 'Unsubscribe');
  button.type = 'button';
  button.setAttribute('aria-label', `Unsubscribe from ${channel}`);
  button.addEventListener('click', () => {
    addEntry('system', 'Info', `Unsubscribed from ${channel}.`);
    forget(channel);
    el.input.focus(); // the button is gone; keep keyboard focus somewhere useful
  });
  // Name, state and offset wrap among themselves; the button keeps its place beside them, however long the
  // state's words ("not recovered: ...") or the name.
  const about = document.createElement('span');
  about.className = 'channel-about';
  about.append(
    part('span', 'channel-name', channel), ' ',
    part('span', 'channel-state', RECOVERY_TEXT.subscribing), ' ',
    part('span', 'channel-offset', ''),
  );
  row.append(about, ' ', button);
  return row;
}

function forget(channel) {
  const entry = channels.get(channel);
  if (!entry) return;
  channels.delete(channel);
  entry.subscription.unsubscribe();
  entry.row.remove();
  if (channels.size === 0 && client) {
    // No channel, no connection: the page holds a socket only while it has something to listen to.
    client.close();
    client = null;
    showState('idle');
  }
}

function onDropped(count) {
  addEntry('system', 'Info', `${count} messages were dropped here: this page fell behind.`);
}

function onClientError(err) {
  addEntry('error', 'Error', `Problem with the channel connection: ${err.message}`);
}

function onSubmit(event) {
  event.preventDefault();
  const channel = el.input.value.trim();
  if (channel === '') return;
  subscribe(channel);
  el.input.value = '';
}

// For tests and curious readers, as window.squall is for the tutorial's connection.
Object.defineProperty(window, 'squallChannels', {
  enumerable: true,
  value: Object.freeze({
    get state() { return client ? client.state : 'idle'; },
    get stats() { return client ? { ...client.stats } : null; },
    get attempt() { return client ? client.attempt : 0; },
    get channels() { return [...channels.keys()]; },
  }),
});

el.form.addEventListener('submit', onSubmit);
showState('idle');
// ?channel=news&channel=sport subscribes at once: a link to the page can name what to watch. (Not a
// comma-separated list: a comma is allowed in channel names.)
for (const channel of params.getAll('channel')) {
  if (channel.trim() !== '') subscribe(channel.trim());
}
