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
                  onJoin: (id) => seen.push(`join ${id}`),
                  onLeave: (id) => seen.push(`leave ${id}`),
                });
                const s = await socket(0);
                s.accept();
                s.push({ id: 1, type: 'subscribed', channel: 'chat:room', offset: 0, epoch: 'e' });
                s.push({ channel: 'chat:room', offset: 1, data: 'AAEC/w==', encoding: 'base64' });
                s.push({ type: 'join', channel: 'chat:room', client: 'c7' });
                s.push({ type: 'dropped', count: 3 });
                s.push({ type: 'something-newer', channel: 'chat:room' });
                s.push('not json');
                s.push({ channel: 'chat:room', offset: 5, data: 'after the drop' });
                s.push({ type: 'leave', channel: 'chat:room', client: 'c7' });
                return { seen, errors };
                """);

        assertThat(texts(result.get("seen"))).containsExactly(
                "1 bytes 0,1,2,255", "join c7", "dropped 3", "5 after the drop", "leave c7");
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
