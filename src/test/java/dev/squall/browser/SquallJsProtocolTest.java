package dev.squall.browser;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.internal.protocol.Command;
import dev.squall.support.Browser;
import dev.squall.support.CuttableProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code public/squall.js} in Chromium against a scripted server: what a real Squall never does (send a
 * duplicate, a publication before its subscribe reply, stay silent, refuse the subprotocol) and the exact frames
 * the client sends, which {@link BrowserChannelClientTest} cannot see. The script plays the server through the
 * module's {@code WebSocket} option: a socket whose opening, frames and closing the test decides, so every step
 * is deterministic. Command deadlines are tested over real WebSockets instead: against a {@link V1Peer} that
 * answers when the test says so, and against a real Squall behind a {@link CuttableProxy}. The module itself is
 * the one the page serves, loaded from a real Squall. One browser and one server for the class, a fresh tab (so
 * a fresh copy of the module) for each test.
 */
class SquallJsProtocolTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    /**
     * For tests that run over real sockets, where the Java side plays its part while the page's script runs:
     * {@code log(text)} appends to {@code window.seen}, {@code handlers(name)} logs a subscription's callbacks
     * under that name.
     */
    private static final String LOGGING = """
            window.seen = [];
            window.failure = null;
            window.log = (text) => seen.push(text);
            window.handlers = (name) => ({
              onSubscribed: ({ offset, recovered }) => log(`${name} subscribed ${offset}${recovered === undefined ? '' : ' recovered ' + recovered}`),
              onPublication: (data, { offset }) => log(`${name} publication ${offset} ${data}`),
              onError: (e) => log(`${name} error ${e.code}: ${e.message}`),
            });
            """;

    /**
     * A socket the script controls: {@code accept()} opens it as a squall.v1 server would, {@code push(frame)}
     * delivers a frame, {@code drop()} closes it from the server's side. {@code until(condition)} waits, with a
     * deadline, for what the client does on its own timers.
     */
    private static final String HARNESS = """
            class ScriptedSocket {
              static all = [];
              constructor(url, protocol) {
                this.url = url; this.offered = protocol; this.protocol = ''; this.sent = []; this.closedWith = null;
                ScriptedSocket.all.push(this);
              }
              send(text) { this.sent.push(JSON.parse(text)); }
              close(code, reason) { this.closedWith = { code, reason }; }
              accept(protocol = 'squall.v1') { this.protocol = protocol; this.onopen && this.onopen({}); }
              push(frame) { this.onmessage && this.onmessage({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) }); }
              drop(code = 1006) { this.onclose && this.onclose({ code, reason: '' }); }
            }
            async function until(what, condition, ms = 5000) {
              const end = Date.now() + ms;
              while (!condition()) {
                if (Date.now() > end) throw new Error('timed out waiting for ' + what);
                await new Promise((resolve) => setTimeout(resolve, 5));
              }
            }
            const { connect } = await import('/squall.js');
            const socket = async (n) => { await until('socket ' + n, () => ScriptedSocket.all.length > n); return ScriptedSocket.all[n]; };
            const fast = { WebSocket: ScriptedSocket, backoffBaseMs: 1, backoffMaxMs: 5, onError: (e) => errors.push(e.code) };
            const errors = [];
            // Unsigned look-alikes of JWTs: the client only reads their exp; checking them is the server's part.
            const base64url = (value) => btoa(JSON.stringify(value)).replace(/[+]/g, '-').replace(/[/]/g, '_').replace(/=+$/, '');
            const jwt = (claims) => `${base64url({ alg: 'HS256' })}.${base64url(claims)}.c2lnbmF0dXJl`;
            const inSeconds = (seconds) => Math.floor(Date.now() / 1000) + seconds;
            const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
            """;

    private static Browser browser;
    /** Only serves the module: the scripted sockets never reach it, so one server does for the class. */
    private static LiveServer server;

    @BeforeAll
    static void startBrowserAndServer() {
        browser = Browser.start(1000, 1100);
        server = LiveServer.start();
    }

    @AfterAll
    static void quitBrowserAndServer() {
        try {
            if (browser != null) browser.close();
        } finally {
            if (server != null) server.close();
        }
    }

    @BeforeEach
    void openAPageOfTheServer() {
        browser.openTab(server.url("/index")); // any same-origin document may import the module
    }

    @AfterEach
    void closeTab() {
        browser.closeTab();
    }

    @Test
    void duplicatesStaleOffsetsAndEarlyPublicationsAreDroppedAndAReconnectResubscribesFromTheLastOffsetAndEpoch() {
        JsonNode result = run("""
                const got = [], infos = [];
                const client = connect('ws://squall.test/ws', fast);
                client.subscribe('news', {
                  onPublication: (data, { channel, offset }) => got.push(`${channel} ${offset} ${data}`),
                  onSubscribed: (info) => infos.push(info),
                });
                const first = await socket(0);
                first.accept();
                const firstSubscribe = first.sent[0];
                first.push({ channel: 'news', offset: 3, data: 'before the reply: an older subscription' });
                first.push({ id: 1, type: 'subscribed', channel: 'news', offset: 4, epoch: 'e1' });
                for (const [offset, data] of [[4, 'the reply offset itself'], [5, 'a'], [5, 'a again'], [3, 'old'], [6, 'b']]) {
                  first.push({ channel: 'news', offset, data });
                }
                first.push({ channel: 'other', offset: 7, data: 'not subscribed' });
                const beforeCut = [...got];

                first.drop();
                const second = await socket(1);
                second.accept();
                const resubscribe = second.sent[0];
                second.push({ id: resubscribe.id, type: 'subscribed', channel: 'news', offset: 0, epoch: 'e2', recovered: false });
                second.push({ channel: 'news', offset: 1, data: 'first of the new epoch' });
                return { offered: first.offered, firstSubscribe, beforeCut, resubscribe, got, infos,
                         duplicates: client.stats.duplicatesDropped, opens: client.stats.opens, errors };
                """);

        assertThat(result.get("offered").asText()).isEqualTo("squall.v1");
        assertThat(result.get("firstSubscribe")).isEqualTo(json("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"news\"}"));
        assertThat(texts(result.get("beforeCut"))).containsExactly("news 5 a", "news 6 b");
        assertThat(result.get("duplicates").asInt()).as("publications at or below the last offset").isEqualTo(3);
        assertThat(result.get("resubscribe"))
                .isEqualTo(json("{\"id\":2,\"type\":\"subscribe\",\"channel\":\"news\",\"since\":6,\"epoch\":\"e1\"}"));
        assertThat(texts(result.get("got"))).as("offset 1 of a new epoch is new, not a duplicate")
                .containsExactly("news 5 a", "news 6 b", "news 1 first of the new epoch");
        assertThat(result.get("infos")).isEqualTo(json("""
                [{"channel":"news","offset":4,"epoch":"e1","resubscribed":false},
                 {"channel":"news","offset":0,"epoch":"e2","resubscribed":true,"recovered":false}]"""));
        assertThat(result.get("opens").asInt()).isEqualTo(2);
        assertThat(result.get("errors")).isEmpty();
    }

    @Test
    void aPageHiddenIntoTheBackForwardCacheClosesItsSocketAndRecoversEveryChannelWhenShownAgain() {
        JsonNode result = run("""
                const states = [];
                const client = connect('ws://squall.test/ws', { ...fast, onState: (state) => states.push(state) });
                client.subscribe('news', {});
                const first = await socket(0);
                first.accept();
                first.push({ id: 1, type: 'subscribed', channel: 'news', offset: 4, epoch: 'e1' });
                first.push({ channel: 'news', offset: 5, data: 'a' });
                window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
                const closedByAnOrdinaryUnload = first.closedWith;
                window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
                const closedWith = first.closedWith;
                await new Promise((resolve) => setTimeout(resolve, 50));   // the fast backoff would have reconnected by now
                const socketsWhileHidden = ScriptedSocket.all.length;
                window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
                const second = await socket(1);
                second.accept();
                return { closedByAnOrdinaryUnload, closedWith, socketsWhileHidden, resubscribe: second.sent[0], states };
                """);

        assertThat(result.get("closedByAnOrdinaryUnload").isNull()).as("a page that is really leaving keeps its socket until it goes").isTrue();
        assertThat(result.get("closedWith")).isEqualTo(json("{\"code\":1001,\"reason\":\"page hidden\"}"));
        assertThat(result.get("socketsWhileHidden").asInt()).as("no reconnect while in the cache").isEqualTo(1);
        assertThat(result.get("resubscribe"))
                .isEqualTo(json("{\"id\":2,\"type\":\"subscribe\",\"channel\":\"news\",\"since\":5,\"epoch\":\"e1\"}"));
        assertThat(texts(result.get("states"))).containsExactly("connecting", "open", "reconnecting", "connecting", "open");
    }

    @Test
    void aResetEventReportsNotRecoveredAndTheNewEpochsLowerOffsetsAreDeliveredNotDroppedAsDuplicates() {
        JsonNode result = run("""
                const got = [], infos = [];
                const client = connect('ws://squall.test/ws', fast);
                client.subscribe('news', {
                  onPublication: (data, { offset }) => got.push(`${offset} ${data}`),
                  onSubscribed: (info) => infos.push(info),
                });
                const first = await socket(0);
                first.accept();
                first.push({ id: 1, type: 'subscribed', channel: 'news', offset: 40, epoch: 'e1' });
                first.push({ channel: 'news', offset: 41, data: 'old epoch' });
                first.push({ type: 'reset', channel: 'news', offset: 2, epoch: 'e2', recovered: false });
                first.push({ channel: 'news', offset: 3, data: 'new epoch' });
                first.drop();
                const second = await socket(1);
                second.accept();
                return { got, infos, resubscribe: second.sent[0], duplicates: client.stats.duplicatesDropped };
                """);

        assertThat(texts(result.get("got"))).containsExactly("41 old epoch", "3 new epoch");
        assertThat(result.get("infos").get(1)).isEqualTo(json(
                "{\"channel\":\"news\",\"offset\":2,\"epoch\":\"e2\",\"resubscribed\":false,\"recovered\":false,\"reset\":true}"));
        assertThat(result.get("duplicates").asInt()).isZero();
        assertThat(result.get("resubscribe"))
                .isEqualTo(json("{\"id\":2,\"type\":\"subscribe\",\"channel\":\"news\",\"since\":3,\"epoch\":\"e2\"}"));
    }

    @Test
    void aQuietConnectionIsPingedAndOneThatDoesNotAnswerIsReplaced() {
        JsonNode result = run("""
                const client = connect('ws://squall.test/ws', { ...fast, pingIntervalMs: 40, pingTimeoutMs: 150 });
                const first = await socket(0);
                first.accept();
                await until('a ping', () => first.sent.length === 1);
                const ping = first.sent[0];
                first.push({ id: ping.id, type: 'pong' });
                await until('a second ping', () => first.sent.length === 2);
                // Not answered: after pingTimeoutMs the client gives up on this socket and opens another.
                const second = await socket(1);
                return { ping, secondPing: first.sent[1], closedWith: first.closedWith, pingsSent: client.stats.pingsSent,
                         pingTimeouts: client.stats.pingTimeouts, state: client.state, sockets: ScriptedSocket.all.length };
                """);

        assertThat(result.get("ping")).isEqualTo(json("{\"id\":1,\"type\":\"ping\"}"));
        assertThat(result.get("secondPing")).isEqualTo(json("{\"id\":2,\"type\":\"ping\"}"));
        assertThat(result.get("pingsSent").asInt()).isEqualTo(2);
        assertThat(result.get("pingTimeouts").asInt()).isEqualTo(1);
        assertThat(result.get("closedWith")).isEqualTo(json("{\"code\":4000,\"reason\":\"ping timeout\"}"));
        assertThat(result.get("state").asText()).isEqualTo("connecting");
        assertThat(result.get("sockets").asInt()).isEqualTo(2);
    }

    @Test
    void reconnectDelaysAreFullJitterUnderADoublingBoundAndAStableConnectionResetsIt() {
        JsonNode result = run("""
                const delays = [];
                const client = connect('ws://squall.test/ws', { ...fast, backoffBaseMs: 10, backoffMaxMs: 80, stableMs: 30,
                  onState: (state, detail) => { if (state === 'reconnecting') delays.push(detail.delayMs); } });
                for (let n = 0; n < 6; n++) (await socket(n)).drop();   // six failed attempts in a row
                const failedInARow = [...delays];
                const stable = await socket(6);
                stable.accept();
                await until('the backoff to reset', () => client.attempt === 0);
                stable.drop(1001);
                await socket(7);
                const open = ScriptedSocket.all.filter((s) => s.closedWith === null && s.onopen !== null).length;
                return { failedInARow, afterStable: delays[6], open };
                """);

        double[] bounds = {10, 20, 40, 80, 80, 80};
        JsonNode delays = result.get("failedInARow");
        assertThat(delays).hasSize(6);
        for (int i = 0; i < bounds.length; i++) {
            assertThat(delays.get(i).asDouble()).as("delay after failure " + (i + 1)).isBetween(0.0, bounds[i]);
        }
        assertThat(result.get("afterStable").asDouble()).as("delay after a stable connection ended").isBetween(0.0, 10.0);
        assertThat(result.get("open").asInt()).as("sockets the client still listens to").isEqualTo(1);
    }

    @Test
    void aServerThatDoesNotSelectSquallV1IsNotSpokenToAndARefusedSubscriptionEnds() {
        JsonNode result = run("""
                const refusals = [];
                const client = connect('ws://squall.test/ws', fast);
                client.subscribe('bad name', { onError: (e) => refusals.push(`${e.code}: ${e.message}`) });
                const plain = await socket(0);
                plain.accept('');                              // an old server: no subprotocol selected
                const sentToPlain = plain.sent.length;
                const v1 = await socket(1);
                v1.accept();
                const subscribe = v1.sent[0];
                v1.push({ id: subscribe.id, type: 'error', code: 'bad_channel', message: 'channel names are 1-255 characters' });
                v1.drop();
                const next = await socket(2);
                next.accept();
                return { errors, sentToPlain, refusals, sentAfterRefusal: next.sent.length };
                """);

        assertThat(result.get("errors")).isEqualTo(json("[\"protocol\"]"));
        assertThat(result.get("sentToPlain").asInt()).isZero();
        assertThat(texts(result.get("refusals"))).containsExactly("bad_channel: channel names are 1-255 characters");
        assertThat(result.get("sentAfterRefusal").asInt()).as("commands after a reconnect: the refused channel is not retried").isZero();
    }

    @Test
    void repliesSettleTheirCommandsByIdAndALostConnectionFailsWhatWasWaiting() {
        JsonNode result = run("""
                const client = connect('ws://squall.test/ws', fast);
                const s = await socket(0);
                s.accept();
                const published = client.publish('news', { price: 42 }, { idempotencyKey: 'k1' });
                const refused = client.publish('news', 'x').catch((e) => `${e.code}: ${e.message}`);
                const presence = client.presence('news');
                const lost = client.publish('news', 'never answered').catch((e) => e.code);
                const [p1, p2, p3] = s.sent;
                // Answered out of order: the id, not the order, says which command a reply settles.
                s.push({ id: p3.id, type: 'presence', channel: 'news', subscribers: 5, offset: 42, epoch: 'e' });
                s.push({ id: p2.id, type: 'error', code: 'forbidden', message: 'publishing needs a token' });
                s.push({ id: p1.id, type: 'published', channel: 'news', offset: 43, epoch: 'e', delivered: 5, duplicate: false });
                const answers = { published: await published, refused: await refused, presence: await presence };
                s.drop();
                return { sent: s.sent, answers, lost: await lost };
                """);

        assertThat(result.get("sent").get(0)).isEqualTo(json(
                "{\"id\":1,\"type\":\"publish\",\"channel\":\"news\",\"data\":{\"price\":42},\"idempotency_key\":\"k1\"}"));
        assertThat(result.at("/answers/published/offset").asInt()).isEqualTo(43);
        assertThat(result.at("/answers/refused").asText()).isEqualTo("forbidden: publishing needs a token");
        assertThat(result.at("/answers/presence/subscribers").asInt()).isEqualTo(5);
        assertThat(result.get("lost").asText()).isEqualTo("disconnected");
    }

    @Test
    void binaryDataArrivesAsBytesAndOtherServerEventsReachTheirHandlers() {
        JsonNode result = run("""
                const seen = [];
                const client = connect('ws://squall.test/ws', { ...fast, onDropped: (n) => seen.push(`dropped ${n}`) });
                client.subscribe('chat:room', {
                  onPublication: (data, { offset }) => seen.push(`${offset} ${data instanceof Uint8Array ? 'bytes ' + [...data] : data}`),
                  onJoin: (id, who) => seen.push(`join ${id} ${JSON.stringify(who)}`),
                  onLeave: (id, who) => seen.push(`leave ${id} ${JSON.stringify(who)}`),
                });
                const s = await socket(0);
                s.accept();
                s.push({ id: 1, type: 'subscribed', channel: 'chat:room', offset: 0, epoch: 'e' });
                s.push({ channel: 'chat:room', offset: 1, data: 'AAEC/w==', encoding: 'base64' });
                s.push({ type: 'join', channel: 'chat:room', client: 'c7', user: '42', info: { name: 'Ada' } });
                s.push({ type: 'dropped', count: 3 });
                s.push({ type: 'something-newer', channel: 'chat:room' });
                s.push('not json');
                s.push({ channel: 'chat:room', offset: 5, data: 'after the drop' });
                s.push({ type: 'leave', channel: 'chat:room', client: 'c7', user: '' });
                s.push({ type: 'leave', channel: 'chat:room', client: 'c8' });          // an older server: no user
                return { seen, errors };
                """);

        assertThat(texts(result.get("seen"))).containsExactly(
                "1 bytes 0,1,2,255", "join c7 {\"user\":\"42\",\"info\":{\"name\":\"Ada\"}}", "dropped 3", "5 after the drop",
                "leave c7 {\"user\":\"\"}", "leave c8 {\"user\":\"\"}");
        assertThat(result.get("errors")).isEqualTo(json("[\"bad_frame\"]"));
    }

    @Test
    void anUnsubscribeBeforeTheReplyStopsDeliveryAndTellsTheServer() {
        JsonNode result = run("""
                const got = [];
                const client = connect('ws://squall.test/ws', fast);
                const sub = client.subscribe('news', { onPublication: (data) => got.push(data) });
                const s = await socket(0);
                s.accept();
                sub.unsubscribe();
                s.push({ id: 1, type: 'subscribed', channel: 'news', offset: 0, epoch: 'e' });
                s.push({ channel: 'news', offset: 1, data: 'too late' });
                const again = client.subscribe('news', { onPublication: (data) => got.push('again: ' + data) });
                s.push({ id: 2, type: 'unsubscribed', channel: 'news' });
                s.push({ channel: 'news', offset: 2, data: 'still the old subscription' });
                s.push({ id: 3, type: 'subscribed', channel: 'news', offset: 2, epoch: 'e' });
                s.push({ channel: 'news', offset: 3, data: 'new' });
                client.close();
                s.push({ channel: 'news', offset: 4, data: 'after close' });
                return { sent: s.sent, got, closedWith: s.closedWith, state: client.state };
                """);

        assertThat(result.get("sent")).isEqualTo(json("""
                [{"id":1,"type":"subscribe","channel":"news"},
                 {"id":2,"type":"unsubscribe","channel":"news"},
                 {"id":3,"type":"subscribe","channel":"news"}]"""));
        assertThat(texts(result.get("got"))).containsExactly("again: new");
        assertThat(result.get("closedWith")).isEqualTo(json("{\"code\":1000,\"reason\":\"client closed\"}"));
        assertThat(result.get("state").asText()).isEqualTo("closed");
    }

    @Test
    void aCommandWithoutAReplyOnAWorkingConnectionFailsWithTimeoutAndItsLateReplyChangesNothing() {
        try (V1Peer peer = V1Peer.start()) {
            begin("""
                    let opened;
                    const open = new Promise((resolve) => { opened = resolve; });
                    window.client = connect(arguments[0], { commandTimeoutMs: 1000, onError: (e) => log(`client error ${e.code}`),
                      onState: (state) => state === 'open' && opened() });
                    client.subscribe('slow', handlers('first'));
                    await open;
                    client.publish('news', 'hello').then(() => log('published'), (e) => log(`publish ${e.code}: ${e.message}`));
                    client.presence('news').then(() => log('presence'), (e) => log(`presence ${e.code}: ${e.message}`));
                    """, peer.wsUrl());
            V1Peer.Command subscribe = peer.take(DEADLINE);
            V1Peer.Command publish = peer.take(DEADLINE);
            V1Peer.Command presence = peer.take(DEADLINE);
            assertThat(subscribe.frame()).isEqualTo(json("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"slow\"}"));
            assertThat(List.of(publish.type(), presence.type())).containsExactly("publish", "presence");
            // A publication of a channel the client is not on: the connection works, only the replies do not come.
            subscribe.send("{\"channel\":\"elsewhere\",\"offset\":1,\"data\":\"proof of life\"}");

            awaitPage("the three deadlines", "seen.length >= 3");
            assertThat(seen()).containsExactly(
                    "first error timeout: no reply to subscribe within 1000 ms",
                    "publish timeout: no reply to publish within 1000 ms",
                    "presence timeout: no reply to presence within 1000 ms");
            // The subscribe may still land on the server: the client unsubscribes right after it, in order.
            V1Peer.Command unsubscribe = peer.take(DEADLINE);
            assertThat(unsubscribe.frame()).isEqualTo(json("{\"id\":4,\"type\":\"unsubscribe\",\"channel\":\"slow\"}"));

            // The late replies, and a publication of the subscription that timed out: none may resurrect it, settle a
            // promise twice or be reported as an error.
            subscribe.send("{\"id\":1,\"type\":\"subscribed\",\"channel\":\"slow\",\"offset\":7,\"epoch\":\"e\"}");
            subscribe.send("{\"channel\":\"slow\",\"offset\":8,\"data\":\"of the subscription that timed out\"}");
            publish.send("{\"id\":2,\"type\":\"error\",\"code\":\"unavailable\",\"message\":\"too late\"}");
            presence.send("{\"id\":3,\"type\":\"presence\",\"channel\":\"news\",\"subscribers\":1,\"offset\":0,\"epoch\":\"e\"}");
            unsubscribe.send("{\"id\":4,\"type\":\"unsubscribed\",\"channel\":\"slow\"}");

            // The app subscribes again: a new subscription, which gets its own reply and each publication once.
            browser.js("client.subscribe('slow', handlers('again'))");
            V1Peer.Command again = peer.take(DEADLINE);
            assertThat(again.frame()).isEqualTo(json("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"slow\"}"));
            again.send("{\"id\":5,\"type\":\"subscribed\",\"channel\":\"slow\",\"offset\":8,\"epoch\":\"e\"}");
            again.send("{\"channel\":\"slow\",\"offset\":9,\"data\":\"fresh\"}");

            awaitPage("the new subscription's publication", "seen.includes('again publication 9 fresh')");
            assertThat(seen()).containsExactly(
                    "first error timeout: no reply to subscribe within 1000 ms",
                    "publish timeout: no reply to publish within 1000 ms",
                    "presence timeout: no reply to presence within 1000 ms",
                    "again subscribed 8",
                    "again publication 9 fresh");
            JsonNode client = json(browser.js("""
                    return JSON.stringify({ pending: client.pending.size, expired: client.expired.size, state: client.state,
                                            stats: client.stats });"""));
            assertThat(client.get("pending").asInt()).as("commands still waiting").isZero();
            assertThat(client.get("expired").asInt()).as("late replies still expected").isZero();
            assertThat(client.get("state").asText()).isEqualTo("open");
            assertThat(client.at("/stats/opens").asInt()).as("connections: a working one is kept").isEqualTo(1);
            assertThat(client.at("/stats/commandTimeouts").asInt()).isEqualTo(3);
            assertThat(peer.waiting()).as("commands sent besides").isZero();
        }
    }

    @Test
    void aCommandThatNothingAnswersGivesUpTheConnectionAndEverySubscriptionGoesOnOnTheNext() {
        try (CuttableProxy proxy = CuttableProxy.to(server.port())) {
            browser.openTab(proxy.url("/index"));
            begin("""
                    window.client = connect(location.origin.replace(/^http/, 'ws') + '/ws', { commandTimeoutMs: 500,
                      connectTimeoutMs: 500, backoffBaseMs: 20, backoffMaxMs: 100, onError: (e) => log(`client error ${e.code}`),
                      onState: (state, { reason }) => state === 'reconnecting' && log(`reconnecting: ${reason}`) });
                    client.subscribe('news', handlers('news'));
                    """);
            awaitPage("news to be subscribed", "seen.includes('news subscribed 0')");

            proxy.blackhole();   // the network goes silent: the server neither hears the client nor answers it
            browser.js("""
                    client.publish('news', 'into the silence').then(() => log('published'), (e) => log(`publish ${e.code}: ${e.message}`));
                    client.subscribe('sport', handlers('sport'));""");
            awaitPage("the publish to fail", "seen.some((line) => line.startsWith('publish '))");
            assertThat(seen()).startsWith(
                    "news subscribed 0",
                    "reconnecting: no reply to publish within 500 ms",
                    "publish disconnected: the connection was lost before the reply came (no reply to publish within 500 ms)");

            proxy.restore();
            awaitPage("both channels on a new connection", "seen.includes('news subscribed 0 recovered true') && seen.includes('sport subscribed 0')");
            server.publishTo("sport", "\"after\"");
            awaitPage("sport's publication", "seen.includes('sport publication 1 after')");
            assertThat(seen()).as("no subscription failed").noneMatch(line -> line.contains("error"));
        }
    }

    @Test
    void aSubscribeTheServerCannotTakeNowIsAskedAgainOnTheSameConnection() {
        try (V1Peer peer = V1Peer.start()) {
            begin("""
                    window.client = connect(arguments[0], { backoffBaseMs: 50, backoffMaxMs: 200, onError: (e) => log(`client error ${e.code}`) });
                    client.subscribe('news', handlers('news'));
                    """, peer.wsUrl());
            // Draining, or (with --redis) Redis lost: the connection goes on, and so must the subscription.
            V1Peer.Command first = peer.take(DEADLINE);
            first.send("{\"id\":1,\"type\":\"error\",\"code\":\"unavailable\",\"message\":\"Redis is not reachable\"}");
            V1Peer.Command second = peer.take(DEADLINE);
            assertThat(second.frame()).isEqualTo(json("{\"id\":2,\"type\":\"subscribe\",\"channel\":\"news\"}"));
            second.send("{\"id\":2,\"type\":\"error\",\"code\":\"unavailable\",\"message\":\"Redis is not reachable\"}");
            V1Peer.Command third = peer.take(DEADLINE);
            assertThat(third.frame()).isEqualTo(json("{\"id\":3,\"type\":\"subscribe\",\"channel\":\"news\"}"));
            third.send("{\"id\":3,\"type\":\"subscribed\",\"channel\":\"news\",\"offset\":3,\"epoch\":\"e\"}");
            third.send("{\"channel\":\"news\",\"offset\":4,\"data\":\"x\"}");

            awaitPage("the publication", "seen.includes('news publication 4 x')");
            assertThat(seen()).containsExactly("news subscribed 3", "news publication 4 x");
            assertThat(browser.<Long>js("return client.stats.opens")).as("connections").isEqualTo(1);
            assertThat(peer.waiting()).as("commands sent besides").isZero();
        }
    }

    @Test
    void withATokenConnectIsTheFirstCommandAndSubscribesWaitForItsReplyAndAValidTokenIsUsedAgainAfterACut() {
        JsonNode result = run("""
                const states = [];
                let asked = 0;
                const client = connect('ws://squall.test/ws', { ...fast, getToken: async () => `token-${++asked}`,
                  onState: (state, detail) => states.push(detail.user === undefined ? state : `${state} as ${detail.user}`) });
                client.subscribe('news', {});
                const first = await socket(0);
                first.accept();
                await until('the connect command', () => first.sent.length === 1);
                const early = await client.publish('news', 'too early').catch((e) => e.code);
                const sentBeforeConnected = first.sent.length;
                first.push({ id: first.sent[0].id, type: 'connected', user: '42' });   // no expires: never refreshed
                await until('the subscribe', () => first.sent.length === 2);
                first.drop();                                                          // a cut: the token is still good
                const second = await socket(1);
                second.accept();
                await until('the connect command again', () => second.sent.length === 1);
                return { sent: first.sent, early, sentBeforeConnected, again: second.sent[0], asked, user: client.user, states };
                """);

        assertThat(result.get("sent")).isEqualTo(json("""
                [{"id":1,"type":"connect","token":"token-1"},
                 {"id":2,"type":"subscribe","channel":"news"}]"""));
        assertThat(result.get("early").asText()).as("a publish before the connected reply").isEqualTo("disconnected");
        assertThat(result.get("sentBeforeConnected").asInt()).isEqualTo(1);
        assertThat(result.get("again")).isEqualTo(json("{\"id\":3,\"type\":\"connect\",\"token\":\"token-1\"}"));
        assertThat(result.get("asked").asInt()).as("getToken calls: the token had not expired").isEqualTo(1);
        assertThat(result.get("user").asText()).isEqualTo("42");
        assertThat(texts(result.get("states"))).containsExactly("connecting", "open as 42", "reconnecting", "connecting");
    }

    @Test
    void aTokenIsRefreshedOnTheSameConnectionBeforeItExpiresAndNotBeforeASecond() {
        JsonNode result = run("""
                let asked = 0;
                const client = connect('ws://squall.test/ws', { ...fast, getToken: () => jwt({ sub: '42', exp: inSeconds(3600), n: ++asked }) });
                const s = await socket(0);
                s.accept();
                await until('the connect command', () => s.sent.length === 1);
                const connectedAt = Date.now();
                s.push({ id: 1, type: 'connected', user: '42', expires: inSeconds(2) });
                await until('the refresh', () => s.sent.length === 2, 8000);
                const refreshedAfterMs = Date.now() - connectedAt;
                const refresh = s.sent[1];
                s.push({ id: refresh.id, type: 'refreshed', expires: inSeconds(3600) });   // an hour: nothing more for now
                await pause(300);
                return { refresh, token: JSON.parse(atob(refresh.token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))),
                         refreshedAfterMs, sent: s.sent.length, stats: client.stats, state: client.state, errors };
                """);

        assertThat(result.at("/refresh/type").asText()).isEqualTo("refresh");
        assertThat(result.get("refresh").has("channel")).isFalse();
        assertThat(result.at("/token/n").asInt()).as("a fresh token from getToken").isEqualTo(2);
        // expires is in whole seconds, so 1 to 2 s were left: the refresh waits the 1 s floor, not less.
        assertThat(result.get("refreshedAfterMs").asLong()).isGreaterThanOrEqualTo(900);
        assertThat(result.get("sent").asInt()).as("no second refresh for an hour-long token").isEqualTo(2);
        assertThat(result.at("/stats/refreshes").asInt()).isEqualTo(1);
        assertThat(result.at("/stats/opens").asInt()).isEqualTo(1);
        assertThat(result.get("state").asText()).isEqualTo("open");
        assertThat(result.get("errors")).isEmpty();
    }

    @Test
    void closeCodesSayWhetherAFreshTokenCanHelpAndWhenToStop() {
        JsonNode result = run("""
                const stopped = [];
                const watch = (name) => ({ ...fast, onError: (e) => errors.push(`${name} ${e.code}`),
                  onState: (state, detail) => state === 'closed' && stopped.push(`${name} ${detail.code}`) });
                const connected = async (n, token) => {
                  const s = await socket(n);
                  s.accept();
                  if (token) await until('connect', () => s.sent.length === 1);
                  return s;
                };

                // Expired (3005): a fresh token and back; refused (3500, here as the connect's reply): once more, then stop.
                let asked = 0;
                const a = connect('ws://squall.test/ws', { ...watch('a'), getToken: () => `a${++asked}` });
                const a0 = await connected(0, true);
                a0.push({ id: 1, type: 'connected', user: '42' });
                a0.drop(3005);
                const a1 = await connected(1, true);
                const afterExpiry = a1.sent[0].token;
                a1.push({ id: a1.sent[0].id, type: 'error', code: 'unauthorized', message: 'invalid token: bad signature' });
                const a2 = await connected(2, true);
                const afterRefusal = a2.sent[0].token;
                a2.drop(3500);
                await until('a to stop', () => a.state === 'closed');

                // A fixed token cannot be renewed: expired, the client stops.
                const b = connect('ws://squall.test/ws', { ...watch('b'), token: 'fixed' });
                const b0 = await connected(3, true);
                b0.push({ id: 1, type: 'connected', user: '42' });
                b0.drop(3005);
                await until('b to stop', () => b.state === 'closed');

                // No connect in time, and "do not come back": stop, token or not.
                const c = connect('ws://squall.test/ws', watch('c'));
                (await connected(4, false)).drop(3502);
                await until('c to stop', () => c.state === 'closed');
                const d = connect('ws://squall.test/ws', watch('d'));
                (await connected(5, false)).drop(3503);
                await until('d to stop', () => d.state === 'closed');
                // Any other code of Centrifugo's "do not reconnect" range, such as a connection limit.
                const f = connect('ws://squall.test/ws', watch('f'));
                (await connected(6, false)).drop(3504);
                await until('f to stop', () => f.state === 'closed');

                // Without a token of its own (the app's session cookie said who it is) an expiry is only a reconnect.
                const e = connect('ws://squall.test/ws', watch('e'));
                (await connected(7, false)).drop(3005);
                await socket(8);
                await pause(50);   // the fast backoff would have opened more sockets by now
                return { afterExpiry, afterRefusal, asked, stopped, errors, sockets: ScriptedSocket.all.length, e: e.state };
                """);

        assertThat(result.get("afterExpiry").asText()).isEqualTo("a2");
        assertThat(result.get("afterRefusal").asText()).isEqualTo("a3");
        assertThat(result.get("asked").asInt()).isEqualTo(3);
        assertThat(texts(result.get("stopped"))).containsExactly("a 3500", "b 3005", "c 3502", "d 3503", "f 3504");
        assertThat(texts(result.get("errors"))).containsExactly("a unauthorized", "b token_expired", "c unauthorized", "d refused",
                "f refused");
        assertThat(result.get("sockets").asInt()).as("sockets opened: none after a stop").isEqualTo(9);
        assertThat(result.get("e").asText()).isEqualTo("connecting");
    }

    @Test
    void aSubscriptionTokenIsSentRenewedAfterARefusalRefreshedBeforeItsExpAndFetchedAgainAfter3006() {
        JsonNode result = run("""
                let asked = 0;
                const got = [], refusals = [];
                const client = connect('ws://squall.test/ws', fast);
                client.subscribe('private:42', { onPublication: (data, { offset }) => got.push(`${offset} ${data}`) },
                  { getToken: async (channel) => jwt({ sub: '42', channel, exp: inSeconds(2), n: ++asked }) });
                client.subscribe('private:7', { onError: (e) => refusals.push(e.code) }, { token: jwt({ sub: '42', channel: 'private:7', exp: 1 }) });
                const s = await socket(0);
                s.accept();
                await until('two subscribes', () => s.sent.length === 2);
                const fixed = s.sent.find((command) => command.channel === 'private:7');
                const subscribe = s.sent.find((command) => command.channel === 'private:42');
                s.push({ id: fixed.id, type: 'error', code: 'token_expired', message: 'the token has expired' });
                s.push({ id: subscribe.id, type: 'error', code: 'token_expired', message: 'the token has expired' });
                await until('the subscribe again', () => s.sent.length === 3);
                const again = s.sent[2];
                s.push({ id: again.id, type: 'subscribed', channel: 'private:42', offset: 0, epoch: 'e' });
                s.push({ channel: 'private:42', offset: 1, data: 'one' });
                await until('the refresh', () => s.sent.length === 4, 8000);
                const refresh = s.sent[3];
                s.push({ id: refresh.id, type: 'refreshed', channel: 'private:42', expires: inSeconds(3600) });
                s.drop(3006);
                const next = await socket(1);
                next.accept();
                await until('the resubscribe', () => next.sent.length === 1);
                const claims = (command) => JSON.parse(atob(command.token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
                return { subscribe: { ...subscribe, token: claims(subscribe) }, again: claims(again),
                         refresh: { ...refresh, token: claims(refresh) }, resubscribe: { ...next.sent[0], token: claims(next.sent[0]) },
                         refusals, got, channels: [...client.subscriptions.keys()], errors };
                """);

        assertThat(result.at("/subscribe/token/n").asInt()).isEqualTo(1);
        assertThat(result.at("/subscribe/token/channel").asText()).isEqualTo("private:42");
        assertThat(result.at("/again/n").asInt()).as("one fresh token after token_expired").isEqualTo(2);
        assertThat(result.at("/refresh/type").asText()).isEqualTo("refresh");
        assertThat(result.at("/refresh/channel").asText()).isEqualTo("private:42");
        assertThat(result.at("/refresh/token/n").asInt()).isEqualTo(3);
        assertThat(result.at("/resubscribe/type").asText()).isEqualTo("subscribe");
        assertThat(result.at("/resubscribe/since").asInt()).isEqualTo(1);
        assertThat(result.at("/resubscribe/token/n").asInt()).as("fetched again after 3006").isEqualTo(4);
        assertThat(texts(result.get("refusals"))).as("a fixed, expired subscription token").containsExactly("token_expired");
        assertThat(texts(result.get("channels"))).containsExactly("private:42");
        assertThat(texts(result.get("got"))).containsExactly("1 one");
        assertThat(result.get("errors")).isEmpty();
    }

    @Test
    void anUpgradeThatAlreadySaidWhoItIsGetsARefreshInsteadAndAGetTokenThatFailsIsRetriedUntilItGivesNothing() {
        JsonNode result = run("""
                const states = [];
                const token = jwt({ sub: '42', exp: inSeconds(3600) });
                const a = connect('ws://squall.test/ws', { ...fast, token, getToken: () => token, onState: (state) => states.push(state) });
                a.subscribe('news', {});
                const s = await socket(0);
                s.accept();
                await until('connect', () => s.sent.length === 1);
                s.push({ id: 1, type: 'error', code: 'bad_command', message: 'already connected' });
                await until('refresh', () => s.sent.length === 2);
                s.push({ id: 2, type: 'refreshed', expires: inSeconds(3600) });
                await until('subscribe', () => s.sent.length === 3);

                let calls = 0;
                const failures = [];
                const b = connect('ws://squall.test/ws', { ...fast, onError: (e) => failures.push(`${e.code}: ${e.message}`),
                  getToken: () => {
                    calls += 1;
                    if (calls === 1) throw new Error('the backend is down');
                    if (calls === 2) return Promise.reject(new Error('still down'));
                    return null;   // signed out
                  } });
                await until('b to stop', () => b.state === 'closed');
                return { sent: s.sent.map((command) => command.type), states, calls, failures, sockets: ScriptedSocket.all.length };
                """);

        assertThat(texts(result.get("sent"))).containsExactly("connect", "refresh", "subscribe");
        assertThat(texts(result.get("states"))).containsExactly("connecting", "open");
        assertThat(result.get("calls").asInt()).isEqualTo(3);
        assertThat(texts(result.get("failures"))).containsExactly(
                "token: getToken failed: the backend is down",
                "token: getToken failed: still down",
                "unauthorized: getToken gave no token: not connecting");
        assertThat(result.get("sockets").asInt()).as("no socket without a token").isEqualTo(1);
    }

    // ---- helpers -------------------------------------------------------------------------------

    /**
     * Starts {@code body} (an async function body; {@code connect} is imported, {@link #LOGGING} set up,
     * {@code arguments[0]} is {@code argument}) in the current tab and returns at once, so that the test can play
     * the server's part meanwhile.
     */
    private void begin(String body, Object... arguments) {
        browser.js(LOGGING + "(async () => {\nconst { connect } = await import('/squall.js');\n" + body
                + "\n})().catch((e) => { window.failure = String(e && e.stack || e); });", arguments);
    }

    /** Waits until {@code condition} (a JavaScript expression) holds in the page; fails with what the page logged. */
    private void awaitPage(String what, String condition) {
        new WebDriverWait(browser.driver(), DEADLINE, Duration.ofMillis(20))
                .withMessage(() -> "waiting for " + what + "; seen " + seen() + ", script failure " + browser.js("return window.failure;"))
                .until(d -> browser.<Boolean>js("return window.failure === null && !!(" + condition + ");"));
    }

    private List<String> seen() {
        return browser.js("return [...window.seen];");
    }


    /** Runs {@code body} (an async function body that returns a JSON-able value) after the harness. */
    private JsonNode run(String body) {
        String script = "const done = arguments[arguments.length - 1];\n(async () => {\n" + HARNESS + body + "\n})()"
                + ".then((value) => done(JSON.stringify({ value })), (e) => done(JSON.stringify({ error: String(e && e.stack || e) })));";
        String answer = browser.asyncJs(script);
        JsonNode node = json(answer);
        if (node.has("error")) throw new AssertionError("the script failed: " + node.get("error").asText());
        return node.get("value");
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static java.util.List<String> texts(JsonNode array) {
        java.util.List<String> texts = new java.util.ArrayList<>();
        array.forEach(item -> texts.add(item.asText()));
        return texts;
    }
}
