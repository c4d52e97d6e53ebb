package dev.squall.browser;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.squall.Payload;
import dev.squall.Squall;
import dev.squall.SquallPlugin;
import dev.squall.support.Browser;
import dev.squall.support.Tokens;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.staticfiles.Location;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Signed tokens in a real Chromium against a real Squall that needs them (issue 18): {@code squall.js} with a
 * {@code getToken} that asks the app's own token route, short-lived tokens it keeps fresh on the same connection
 * without losing a message, an expired token it recovers from, the demo page with a token in its URL, and an
 * {@code EventSource} that carries the token cookie on its own origin while a page of another origin, whose request
 * carries the same cookie, is refused by the origin check. One browser, one server (and a second one for the other
 * origin) for the class; a fresh tab per test.
 */
class BrowserTokensTest {

    private static final Duration DEADLINE = Duration.ofSeconds(20);
    private static final String SECRET = "a-browser-test-secret-of-at-least-32-bytes";
    private static final String COOKIE = "squall_token";

    /** What page scripts share: {@code log(text)} into {@code window.seen}, and a subscription's handlers that log. */
    private static final String LOGGING = """
            window.seen = [];
            window.failure = null;
            window.log = (text) => seen.push(text);
            window.handlers = (name) => ({
              onSubscribed: ({ offset, recovered }) => log(`${name} subscribed ${offset}${recovered === undefined ? '' : ' recovered ' + recovered}`),
              onPublication: (data, { offset }) => log(`${name} ${offset} ${data}`),
              onError: (e) => log(`${name} error ${e.code}: ${e.message}`),
            });
            window.watch = {
              onState: (state, { user, code }) => log(`state ${state}${user === undefined ? '' : ' as ' + user}${code ? ' ' + code : ''}`),
              onError: (e) => log(`error ${e.code}: ${e.message}`),
            };
            window.token = async (query) => (await fetch('/token?' + query)).text();
            window.wsUrl = location.origin.replace(/^http/, 'ws') + '/ws';
            """;

    private static Browser browser;
    private static Javalin app;
    private static Squall squall;
    private static Javalin elsewhere;
    /** Each request for the event stream, as the server finished it: origin, whether it carried the cookie, status. */
    private static final Queue<String> streamRequests = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void start() throws IOException {
        browser = Browser.start(1000, 1100);
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.tokenHmacSecret = SECRET;
            cfg.tokenCookie = COOKIE;
            cfg.ssePath = "/sse/{channel}";
            cfg.ws("/ws", ws -> ws.onOpen(client -> client.send("Welcome")));
        });
        String page = Path.of("public").toRealPath().toString();
        app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.registerPlugin(plugin);
            config.staticFiles.add(page, Location.EXTERNAL);
            // The app's own route that hands its signed-in user a token (here: user 42, always).
            config.routes.get("/token", BrowserTokensTest::mint);
            config.routes.get("/blank", ctx -> ctx.html("<!doctype html><title>blank</title>"));
            config.requestLogger.http((ctx, ms) -> {
                if (ctx.path().startsWith("/sse/")) {
                    streamRequests.add(ctx.header("Origin") + " cookie " + (ctx.cookie(COOKIE) != null) + " " + ctx.statusCode());
                }
            });
        }).start("127.0.0.1", 0);
        squall = plugin.squall();
        // Another origin on the same host: same-site, so the browser sends the host's cookies along.
        elsewhere = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.routes.get("/", ctx -> ctx.html("<!doctype html><title>elsewhere</title>"));
        }).start("127.0.0.1", 0);
    }

    @AfterAll
    static void stop() {
        try {
            if (browser != null) browser.close();
        } finally {
            if (app != null) app.stop();
            if (elsewhere != null) elsewhere.stop();
        }
    }

    @AfterEach
    void closeTab() {
        browser.closeTab();
    }

    /**
     * {@code ?ttl=SECONDS} (default an hour, negative for one already expired); with {@code ?channel=C} a
     * subscription token for C, else a connection token for the channels private:* (each test has its own).
     */
    private static void mint(Context ctx) {
        String ttl = ctx.queryParam("ttl");
        JWTClaimsSet.Builder claims = Tokens.claims("42", Instant.now(), ttl == null ? 3600 : Long.parseLong(ttl));
        String channel = ctx.queryParam("channel");
        if (channel != null) claims.claim("channel", channel);
        else claims.claim("channels", List.of("private:*"));
        ctx.result(Tokens.hmac(JWSAlgorithm.HS256, SECRET, claims.build()));
    }

    private static String origin() {
        return "http://127.0.0.1:" + app.port();
    }

    @Test
    void twoSecondTokensAreRefreshedOnTheSameConnectionAndEveryMessageOfBothChannelsArrivesOnce() throws Exception {
        browser.openTab(origin() + "/blank");
        begin("""
                window.asked = { connection: 0, subscription: 0 };
                window.client = connect(wsUrl, { ...watch, getToken: () => { asked.connection += 1; return token('ttl=2'); } });
                client.subscribe('private:refresh', handlers('private'));   // granted by the connection token's channels claim
                client.subscribe('secret:refresh', handlers('secret'), {     // granted by a subscription token only
                  getToken: (channel) => { asked.subscription += 1; return token('ttl=2&channel=' + encodeURIComponent(channel)); },
                });
                """);
        awaitPage("both subscribed", "seen.includes('private subscribed 0') && seen.includes('secret subscribed 0')");

        // Publishing for about 5 s: the first tokens would have cut the connection after at most 4 (exp + 2 s).
        int total = 50;
        for (int i = 1; i <= total; i++) {
            squall.publish("private:refresh", Payload.text("p" + i));
            squall.publish("secret:refresh", Payload.text("s" + i));
            Thread.sleep(100);
        }
        awaitPage("every publication", "seen.includes('private " + total + " p" + total + "') && seen.includes('secret " + total + " s" + total + "')");

        List<String> seen = seen();
        assertThat(seen.stream().filter(line -> line.startsWith("private ") && !line.contains("subscribed")))
                .containsExactlyElementsOf(IntStream.rangeClosed(1, total).mapToObj(i -> "private " + i + " p" + i).toList());
        assertThat(seen.stream().filter(line -> line.startsWith("secret ") && !line.contains("subscribed")))
                .containsExactlyElementsOf(IntStream.rangeClosed(1, total).mapToObj(i -> "secret " + i + " s" + i).toList());
        assertThat(seen.stream().filter(line -> line.startsWith("state ") || line.startsWith("error ")))
                .as("one connection, never lost, nothing refused").containsExactly("state connecting", "state open as 42");
        assertThat(browser.<Long>js("return client.stats.opens")).isEqualTo(1);
        // Both tokens lived 1 to 2 s and were refreshed about every second: at least twice each over 5 s.
        assertThat(browser.<Long>js("return asked.connection")).isGreaterThanOrEqualTo(3);
        assertThat(browser.<Long>js("return asked.subscription")).isGreaterThanOrEqualTo(3);
        assertThat(browser.<Long>js("return client.stats.refreshes")).isGreaterThanOrEqualTo(4);
    }

    @Test
    void aGetTokenThatFirstGivesAnExpiredTokenConnectsWithTheNextOne() {
        browser.openTab(origin() + "/blank");
        begin("""
                window.asked = 0;
                window.client = connect(wsUrl, { ...watch, backoffBaseMs: 50, getToken: () => token(++asked === 1 ? 'ttl=-60' : 'ttl=3600') });
                client.subscribe('private:expired', handlers('private'));
                """);
        awaitPage("subscribed", "seen.includes('private subscribed 0')");
        long offset = squall.publish("private:expired", Payload.text("after the expired token")).offset();
        awaitPage("the publication", "seen.includes('private " + offset + " after the expired token')");

        assertThat(seen().stream().filter(line -> line.startsWith("state ") || line.startsWith("error ")))
                .containsExactly("state connecting", "state reconnecting 3005", "state connecting", "state open as 42");
        assertThat(browser.<Long>js("return asked")).isEqualTo(2);
        assertThat(browser.<Long>js("return client.stats.opens")).isEqualTo(2);
    }

    @Test
    void theDemoPageTakesTheTokenInItsUrlForBothItsConnectionsAndSaysWhoItIs() {
        String token = Tokens.hmac(JWSAlgorithm.HS256, SECRET,
                Tokens.claims("42", Instant.now(), 3600).claim("channels", List.of("private:*")).build());
        browser.openTab(origin() + "/?channel=private:page&token=" + token);
        awaitPage("the channel to be live", "document.querySelector('.channel[data-channel=\"private:page\"]')?.dataset.recovery === 'live'");
        assertThat(browser.<String>js("return document.getElementById('channel-status').textContent"))
                .isEqualTo("Channels: connection open, signed in as 42");
        assertThat(browser.<String>js("return document.getElementById('channels').dataset.user")).isEqualTo("42");
        long offset = squall.publish("private:page", Payload.text("for 42 only")).offset();
        awaitPage("the publication", "[...document.querySelectorAll('#channel-log li[data-kind=publication]')]"
                + ".some((e) => e.dataset.offset === '" + offset + "' && e.querySelector('.entry-text').textContent === 'for 42 only')");
        // The tutorial's plain connection carries it in its URL, which is all a browser's WebSocket can do.
        awaitPage("the tutorial connection", "document.body.dataset.state === 'open'"
                + " && [...document.querySelectorAll('#log li[data-kind=received] .entry-text')].some((e) => e.textContent === 'Welcome')");
    }

    @Test
    void anEventSourceCarriesTheTokenCookieOnItsOwnOriginAndAnotherOriginsPageCannotUseIt() {
        String token = Tokens.hmac(JWSAlgorithm.HS256, SECRET,
                Tokens.claims("42", Instant.now(), 3600).claim("channels", List.of("private:cookie")).build());
        browser.openTab(origin() + "/blank");
        browser.js(LOGGING + """
                document.cookie = `%s=${arguments[0]}; path=/; SameSite=Strict`;
                const stream = new EventSource('/sse/private:cookie');
                stream.addEventListener('subscribed', () => log('subscribed'));
                stream.onmessage = (e) => log('message ' + e.data);
                """.formatted(COOKIE), token);
        awaitPage("the stream to start", "seen.includes('subscribed')");
        squall.publish("private:cookie", Payload.text("through the cookie"));
        awaitPage("the publication", "seen.includes('message through the cookie')");

        String other = "http://127.0.0.1:" + elsewhere.port();
        browser.openTab(other + "/");
        browser.js(LOGGING + """
                const stream = new EventSource(arguments[0] + '/sse/private:cookie', { withCredentials: true });
                stream.onerror = () => log('error, readyState ' + stream.readyState);
                stream.onmessage = (e) => log('message ' + e.data);
                """, origin());
        awaitPage("the refusal", "seen.includes('error, readyState 2')");   // 2: CLOSED, not retried
        new WebDriverWait(browser.driver(), DEADLINE, Duration.ofMillis(25))
                .withMessage(() -> "waiting for the other origin's request; seen " + streamRequests)
                .until(d -> streamRequests.stream().anyMatch(line -> line.startsWith(other)));
        assertThat(streamRequests).as("the cookie went along and the origin check refused it")
                .contains(other + " cookie true 403");
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Starts {@code body} (an async function body with {@code connect} imported) in the current tab, and returns at once. */
    private void begin(String body) {
        browser.js(LOGGING + "(async () => {\nconst { connect } = await import('/squall.js');\n" + body
                + "\n})().catch((e) => { window.failure = String(e && e.stack || e); });");
    }

    /** Waits until {@code condition} (a JavaScript expression) holds in the page; fails with what the page logged. */
    private void awaitPage(String what, String condition) {
        new WebDriverWait(browser.driver(), DEADLINE, Duration.ofMillis(25))
                .withMessage(() -> "waiting for " + what + "; seen " + seenOrNothing() + ", script failure " + browser.js("return window.failure;"))
                .until(d -> browser.<Boolean>js("return (window.failure === undefined || window.failure === null) && !!(" + condition + ");"));
    }

    private List<String> seen() {
        return browser.js("return [...window.seen];");
    }

    private Object seenOrNothing() {
        return browser.js("return window.seen ? [...window.seen] : null;");
    }
}
