package dev.squall.browser;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.support.Browser;
import dev.squall.support.CuttableProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The page's channel view, that is {@code public/squall.js} speaking squall.v1, in a real headless Chromium
 * against a real Squall: offsets shown, nothing lost or duplicated over a network cut (through
 * {@link CuttableProxy}) and a silent network, a restart reported as not recovered, channels isolated on one
 * connection, data shown as text. One browser for the class, a fresh server and tab for each test.
 */
class BrowserChannelClientTest {

    private static final Duration DEADLINE = Duration.ofSeconds(15);
    /** Short timings so a reconnect takes well under a second; the page reads them from its query. */
    private static final String FAST = "backoffBase=100&backoffMax=400&stable=500&connectTimeout=1500";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static Browser browser;
    private LiveServer server;

    @BeforeAll
    static void startBrowser() {
        browser = Browser.start(1000, 1100);
    }

    @AfterAll
    static void quitBrowser() {
        if (browser != null) browser.close();
    }

    @BeforeEach
    void startServer() {
        server = LiveServer.start();
    }

    @AfterEach
    void closeTabAndServer() {
        try {
            if (browser != null) browser.closeTab();
        } finally {
            server.close();
        }
    }

    @Test
    void aChannelTypedByTheReaderIsSubscribedAndEachMessageShowsItsOffset() {
        open("/");
        assertThat(text("#channel-status")).isEqualTo("Channels: not connected; subscribe to a channel to connect.");
        await("the tutorial connection alone", d -> server.openConnections() == 1);

        find("#channel-input").sendKeys("news", Keys.ENTER);
        awaitRecovery("news", "live");
        assertThat(find("#channel-input").getAttribute("value")).as("the input is cleared").isEmpty();
        assertThat(text("#channel-status")).isEqualTo("Channels: connection open");
        assertThat(rowText("news")).contains("news", "live", "offset 0");

        server.publishTo("news", string("hello"));
        server.publishTo("news", "{\"price\":42}");
        server.publishTo("news", "7");
        awaitPublications("news", "1 hello", "2 {\"price\":42}", "3 7");
        assertThat(rowText("news")).contains("offset 3");
        assertThat(infoTexts()).contains("Subscribed to news at offset 0.");
        assertThat((Long) browser.js("return document.querySelectorAll('#log li[data-kind=received]').length"))
                .as("channel messages in the tutorial connection's log (it only shows Welcome)").isEqualTo(1);
        assertThat(server.openConnections()).as("the tutorial connection and one squall.v1 connection").isEqualTo(2);
        browser.fullPageScreenshot("channel-view");
    }

    @Test
    void messagesPublishedWhileTheNetworkIsCutArriveAfterTheReconnectExactlyOnceAndInOrder() throws Exception {
        try (CuttableProxy proxy = CuttableProxy.to(server.port())) {
            browser.openTab(proxy.url("/?channel=news&" + FAST));
            awaitRecovery("news", "live");
            List<String> expected = new ArrayList<>();
            for (int i = 1; i <= 3; i++) expected.add(publish("news", "before the cut " + i));
            awaitPublications("news", expected.toArray(String[]::new));

            proxy.sever();
            await("the page to notice the cut", d -> "reconnecting".equals(channelState()) || "connecting".equals(channelState()));
            for (int i = 1; i <= 7; i++) expected.add(publish("news", "during the cut " + i));
            // Let a retry fail against the cut network first, so the backoff is really exercised.
            await("a failed retry", d -> ((Number) browser.js("return window.squallChannels.stats.opens")).intValue() == 1
                    && "reconnecting".equals(channelState()) && attempts() >= 2);

            // Publishing goes on while the page reconnects, so some of these land in its replay, some live, and
            // some in between, at the switch-over. Paced (the reconnect takes up to backoffMax, 400 ms) and at
            // most 60, so that with the 7 above they stay within the channel's history (100) and the recovery
            // can be exact.
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<String> duringReconnect = Collections.synchronizedList(new ArrayList<>());
            Thread publisher = new Thread(() -> {
                try {
                    for (int i = 1; i <= 60; i++) {
                        duringReconnect.add(publish("news", "while reconnecting " + i));
                        Thread.sleep(10);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "publisher");
            publisher.start();
            proxy.restore();
            awaitRecovery("news", "recovered");
            publisher.join(DEADLINE.toMillis());
            assertThat(publisher.isAlive()).as("publisher still running").isFalse();
            assertThat(failure.get()).isNull();
            expected.addAll(duringReconnect);

            awaitPublications("news", expected.toArray(String[]::new));
            assertThat(expected).as("offsets published, in order, one apart")
                    .extracting(line -> Long.parseLong(line.substring(0, line.indexOf(' '))))
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, expected.size()).boxed().toList());
            assertThat(stat("opens")).as("connections the page opened").isEqualTo(2);
            assertThat(stat("duplicatesDropped")).as("duplicates the server sent (the client drops them)").isZero();
            assertThat(infoTexts()).contains("news: recovered after offset 3; what was missed follows.");
            System.out.printf("recovered %d messages over a network cut, %d published during the reconnect%n",
                    expected.size() - 3, duringReconnect.size());
        }
    }

    @Test
    void aSilentNetworkIsNoticedByTheApplicationPingAndWhatWasLostInFlightIsRecovered() {
        try (CuttableProxy proxy = CuttableProxy.to(server.port())) {
            browser.openTab(proxy.url("/?channel=news&heartbeat=300&deadline=700&" + FAST));
            awaitRecovery("news", "live");
            await("a ping answered", d -> stat("pingsSent") >= 1);
            List<String> expected = new ArrayList<>(List.of(publish("news", "before")));
            awaitPublications("news", expected.toArray(String[]::new));

            proxy.blackhole();
            // The server writes these into a connection that still looks open to it; none of them arrives.
            for (int i = 1; i <= 4; i++) expected.add(publish("news", "lost in flight " + i));
            await("the ping to time out", d -> stat("pingTimeouts") >= 1);
            assertThat(publicationCount("news")).as("publications shown while the network was silent").isEqualTo(1);

            proxy.restore();
            awaitRecovery("news", "recovered");
            expected.add(publish("news", "after"));
            awaitPublications("news", expected.toArray(String[]::new));
            assertThat(stat("duplicatesDropped")).isZero();
        }
    }

    @Test
    void aServerRestartIsReportedAsNotRecoveredAndThePageKeepsWorking() {
        open("/?channel=news&" + FAST);
        awaitRecovery("news", "live");
        publish("news", "first");
        publish("news", "second");
        awaitPublications("news", "1 first", "2 second");

        server.stop();
        server.restartOnSamePort();
        // The new node has a new epoch for the channel: the page's offset 2 means nothing to it.
        awaitRecovery("news", "not-recovered");
        assertThat(rowText("news")).contains("not recovered: some messages may be missing", "offset 0");
        assertUnsubscribeBesideState("news", "at 1000 px");
        assertThat(infoTexts()).anyMatch(line -> line.startsWith("news: not recovered: some messages may be missing. Now at offset 0"));

        // Offset 1 again, in the new epoch: not mistaken for a duplicate of the old offset 1.
        assertThat(publish("news", "after the restart")).isEqualTo("1 after the restart");
        awaitPublications("news", "1 first", "2 second", "1 after the restart");
        assertThat(stat("duplicatesDropped")).isZero();
        assertThat(text("#channel-status")).isEqualTo("Channels: connection open");
        browser.js("document.getElementById('channels').scrollIntoView()");
        browser.screenshot("channel-not-recovered");

        browser.driver().executeCdpCommand("Emulation.setDeviceMetricsOverride",
                Map.of("width", 375, "height", 667, "deviceScaleFactor", 2, "mobile", true));
        try {
            assertUnsubscribeBesideState("news", "on a 375 px phone");
        } finally {
            browser.driver().executeCdpCommand("Emulation.clearDeviceMetricsOverride", Map.of());
        }
    }

    @Test
    void whileThePageReconnectsEveryChannelRowSaysSoAndNoneSaysLive() {
        try (CuttableProxy proxy = CuttableProxy.to(server.port())) {
            browser.openTab(proxy.url("/?channel=news&channel=sport&" + FAST));
            awaitRecovery("news", "live");
            awaitRecovery("sport", "live");
            // Both get a publication: a channel never published to is forgotten by the server once nobody is on it
            // (its epoch with it), and would come back not recovered.
            publish("news", "before the cut");
            publish("sport", "before the cut");
            awaitPublications("news", "1 before the cut");
            awaitPublications("sport", "1 before the cut");

            proxy.sever();
            await("the page to notice the cut", d -> "reconnecting".equals(channelState()));
            assertThat(recoveries()).as("rows while reconnecting").isEqualTo(Map.of("news", "reconnecting", "sport", "reconnecting"));
            assertThat(rowText("news")).contains("reconnecting…", "offset 1").doesNotContain("live");
            // Retries against the cut network go through connecting and back: the rows keep saying it.
            await("a failed retry", d -> attempts() >= 2 && "reconnecting".equals(channelState()));
            assertThat(recoveries()).as("rows after a failed retry").isEqualTo(Map.of("news", "reconnecting", "sport", "reconnecting"));

            proxy.restore();
            awaitRecovery("news", "recovered");
            awaitRecovery("sport", "recovered");
            assertThat(rowText("sport")).contains("recovered", "offset 1");
        }
    }

    @Test
    void aSubscribeTheServerRefusesIsShownAsAnErrorNotAsInfo() {
        open("/?channel=news");
        awaitRecovery("news", "live");

        find("#channel-input").sendKeys("bad name", Keys.ENTER);
        await("the refusal", d -> !errorTexts().isEmpty());
        assertThat(errorTexts()).singleElement().asString().startsWith("Not subscribed to bad name: ");
        assertThat(infoTexts()).noneMatch(line -> line.contains("bad name"));

        Map<String, String> error = entryLook("error");
        Map<String, String> info = entryLook("system");
        assertThat(error.get("label")).isEqualTo("ERROR");
        assertThat(info.get("label")).isEqualTo("INFO");
        assertThat(error.get("badge")).as("the error's badge colours").isNotEqualTo(info.get("badge"));
        assertThat(error.get("text")).as("the error's text colour").isNotEqualTo(info.get("text"));
        assertThat(error.get("style")).as("an error is not in a notice's italics").isEqualTo("normal");
    }

    @Test
    void twoChannelsOnOneConnectionStayIsolatedAndTheLastUnsubscribeClosesIt() {
        open("/?channel=news&channel=sport");
        awaitRecovery("news", "live");
        awaitRecovery("sport", "live");
        await("two connections: the tutorial's and one squall.v1", d -> server.openConnections() == 2);

        publish("news", "n1");
        publish("sport", "s1");
        publish("news", "n2");
        publish("other", "for nobody here");
        publish("sport", "s2");
        awaitPublications("news", "1 n1", "2 n2");
        awaitPublications("sport", "1 s1", "2 s2");
        assertThat(publicationCount("other")).isZero();
        assertThat(stat("opens")).as("squall.v1 connections for both channels").isEqualTo(1);

        find(".channel[data-channel=sport] .unsubscribe").click();
        await("sport's row to go", d -> browser.<Long>js("return document.querySelectorAll('.channel').length") == 1);
        publish("sport", "s3");
        publish("news", "n3");
        awaitPublications("news", "1 n1", "2 n2", "3 n3");
        assertThat(publications("sport")).as("sport after its unsubscribe").containsExactly("1 s1", "2 s2");

        find(".channel[data-channel=news] .unsubscribe").click();
        await("the channel view to disconnect", d -> "idle".equals(channelState()));
        await("the squall.v1 connection to close", d -> server.openConnections() == 1);
        assertThat(text("#channel-status")).isEqualTo("Channels: not connected; subscribe to a channel to connect.");
    }

    @Test
    void anAppPublishesAndAsksForPresenceThroughTheModuleAndARetriedKeyIsDeliveredOnce() throws Exception {
        open("/?channel=news");
        awaitRecovery("news", "live");

        // What the README shows an app doing, in the page: a second client of its own, publishing.
        String answer = browser.asyncJs("""
                const done = arguments[arguments.length - 1];
                (async () => {
                  const { connect } = await import('/squall.js');
                  let opened;
                  const isOpen = new Promise((resolve) => { opened = resolve; });
                  const client = connect(new URL('/ws', location.href.replace(/^http/, 'ws')), {
                    onState: (state) => { if (state === 'open') opened(); },
                  });
                  await isOpen;
                  const published = await client.publish('news', { from: 'the module' }, { idempotencyKey: 'post-1' });
                  const retried = await client.publish('news', { from: 'the module' }, { idempotencyKey: 'post-1' });
                  const presence = await client.presence('news');
                  const refused = await client.publish('bad name', 1).catch((e) => e.code);
                  client.close();
                  return { published, retried, presence, refused };
                })().then((value) => done(JSON.stringify(value)), (e) => done(JSON.stringify({ error: String(e) })));
                """);
        JsonNode result = JSON.readTree(answer);
        assertThat(result.has("error")).as(answer).isFalse();

        assertThat(result.at("/published/offset").asLong()).isEqualTo(1);
        assertThat(result.at("/published/delivered").asInt()).as("delivered to the page's subscription").isEqualTo(1);
        assertThat(result.at("/published/duplicate").asBoolean()).isFalse();
        assertThat(result.at("/retried/offset").asLong()).as("the retry answers the first offset").isEqualTo(1);
        assertThat(result.at("/retried/duplicate").asBoolean()).isTrue();
        assertThat(result.at("/presence/subscribers").asInt()).isEqualTo(1);
        assertThat(result.at("/presence/offset").asLong()).isEqualTo(1);
        assertThat(result.at("/refused").asText()).isEqualTo("bad_channel");
        publish("news", "next");
        awaitPublications("news", "1 {\"from\":\"the module\"}", "2 next");
    }

    @Test
    void markupInChannelDataAndInARefusedChannelNameIsShownAsTextAndRunsNothing() {
        open("/?channel=news");
        awaitRecovery("news", "live");

        String attack = "<img src=x onerror=\"window.__pwned=1\"> <b>bold?</b>";
        publish("news", attack);
        server.publishTo("news", "{\"html\":\"<script>window.__pwned=2</script>\"}");
        publish("news", "after the attack");
        awaitPublications("news", "1 " + attack, "2 {\"html\":\"<script>window.__pwned=2</script>\"}", "3 after the attack");

        // A name outside the rule: the server refuses it (bad_channel) and the page shows why, as text.
        find("#channel-input").sendKeys("<b>bad</b>", Keys.ENTER);
        await("the refusal", d -> errorTexts().stream().anyMatch(line -> line.startsWith("Not subscribed to <b>bad</b>: ")));
        assertThat(browser.<Long>js("return document.querySelectorAll('.channel').length")).as("rows after the refusal").isEqualTo(1);

        assertThat((Object) browser.js("return window.__pwned")).isNull();
        assertThat((Long) browser.js("return document.querySelectorAll('#channels img, #channels b, #channels script').length")).isZero();
        assertThat((Long) browser.js("return document.images.length")).isZero();
    }

    @Test
    void theChannelViewWorksByKeyboardAloneWithLabelledControlsAndAVisibleFocus() {
        open("/");
        find("#channel-input").click();
        new Actions(browser.driver()).sendKeys("news", Keys.ENTER).perform();
        awaitRecovery("news", "live");
        assertThat((String) browser.js("return document.querySelector('#channel-status').getAttribute('role')")).isEqualTo("status");
        assertThat((String) browser.js("return document.querySelector('#channel-input').labels[0].textContent")).isEqualTo("Channel");

        // From the channel input: Subscribe, then the channel's Unsubscribe button, then the channel log.
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            new Actions(browser.driver()).sendKeys(Keys.TAB).perform();
            Map<String, Object> focus = browser.js("""
                    const e = document.activeElement, s = getComputedStyle(e);
                    return {name: e.id || e.getAttribute('aria-label'), style: s.outlineStyle, visible: e.matches(':focus-visible')};
                    """);
            order.add((String) focus.get("name"));
            assertThat((Boolean) focus.get("visible")).as("keyboard focus on " + focus.get("name") + " is visible").isTrue();
            assertThat((String) focus.get("style")).as("outline of " + focus.get("name")).isNotEqualTo("none");
        }
        assertThat(order).containsExactly("subscribe-button", "Unsubscribe from news", "channel-log");

        new Actions(browser.driver()).keyDown(Keys.SHIFT).sendKeys(Keys.TAB).keyUp(Keys.SHIFT).sendKeys(Keys.ENTER).perform();
        await("the channel view to disconnect", d -> "idle".equals(channelState()));
        assertThat((String) browser.js("return document.activeElement.id")).as("focus after the button went away").isEqualTo("channel-input");
    }

    @Test
    void onAPhoneSizedViewportLongChannelNamesAndMessagesDoNotScrollSideways() {
        browser.openTab("about:blank");
        browser.driver().executeCdpCommand("Emulation.setDeviceMetricsOverride",
                Map.of("width", 375, "height", 667, "deviceScaleFactor", 2, "mobile", true));
        try {
            String longName = "n".repeat(255);
            browser.driver().get(server.url("/?channel=news&channel=" + longName));
            awaitRecovery("news", "live");
            awaitRecovery(longName, "live");
            publish(longName, "x".repeat(300));
            awaitPublications(longName, "1 " + "x".repeat(300));
            publish("news", "not recovered: some messages may be missing".repeat(3));
            awaitPublications("news", "1 " + "not recovered: some messages may be missing".repeat(3));
            browser.js("document.getElementById('channels').scrollIntoView()");
            browser.screenshot("channel-view-phone-375x667");

            assertThat((Long) browser.js("return document.documentElement.scrollWidth")).isLessThanOrEqualTo(375);
            List<String> wide = browser.js(
                    "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)"
                            + ".map(e => e.tagName + '#' + e.id + '.' + e.className);");
            assertThat(wide).as("elements sticking out of the viewport").isEmpty();
            Map<String, Object> fontSizes = browser.js(
                    "return Object.fromEntries(Array.from(document.querySelectorAll('#channels input, #channels button'),"
                            + " e => [e.id || e.getAttribute('aria-label'), parseFloat(getComputedStyle(e).fontSize)]));");
            assertThat(fontSizes).hasSize(4);
            fontSizes.forEach((id, size) -> assertThat(((Number) size).doubleValue()).as("font size of " + id).isGreaterThanOrEqualTo(16));
        } finally {
            browser.driver().executeCdpCommand("Emulation.clearDeviceMetricsOverride", Map.of());
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private void open(String pathAndQuery) {
        browser.openTab(server.url(pathAndQuery));
    }

    /** Publishes {@code text} as a JSON string to {@code channel}; returns how the page should show it. */
    private String publish(String channel, String text) {
        return server.publishTo(channel, string(text)) + " " + text;
    }

    private static String string(String text) {
        try {
            return JSON.writeValueAsString(text);
        } catch (JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    private WebElement find(String css) {
        return browser.driver().findElement(By.cssSelector(css));
    }

    private String text(String css) {
        return find(css).getText();
    }

    private String channelState() {
        return browser.js("return document.getElementById('channels').dataset.state");
    }

    private long stat(String name) {
        return ((Number) browser.js("const s = window.squallChannels.stats; return s ? s[arguments[0]] : -1;", name)).longValue();
    }

    /** Reconnect attempts the channel view's client has made in a row (its backoff exponent). */
    private long attempts() {
        return ((Number) browser.js("return window.squallChannels.attempt")).longValue();
    }

    /** "OFFSET TEXT" for each publication the page shows for {@code channel}, in page order. */
    private List<String> publications(String channel) {
        return browser.js("""
                return [...document.querySelectorAll('#channel-log li[data-kind=publication]')]
                    .filter(e => e.dataset.channel === arguments[0])
                    .map(e => e.dataset.offset + ' ' + e.querySelector('.entry-text').textContent);
                """, channel);
    }

    private long publicationCount(String channel) {
        return publications(channel).size();
    }

    private List<String> infoTexts() {
        return browser.js("return [...document.querySelectorAll('#channel-log li[data-kind=system] .entry-text')].map(e => e.textContent);");
    }

    /** Texts of the error entries in the channel log. */
    private List<String> errorTexts() {
        return browser.js("return [...document.querySelectorAll('#channel-log li[data-kind=error] .entry-text')].map(e => e.textContent);");
    }

    /** How the first channel-log entry of this kind looks: its label as shown, badge and text colours, font style. */
    private Map<String, String> entryLook(String kind) {
        return browser.js("""
                const entry = document.querySelector(`#channel-log li[data-kind="${arguments[0]}"]`);
                const badge = getComputedStyle(entry.querySelector('.entry-kind'));
                const text = getComputedStyle(entry.querySelector('.entry-text'));
                return { label: entry.querySelector('.entry-kind').innerText, badge: badge.backgroundColor + ' ' + badge.color,
                         text: text.color, style: text.fontStyle };
                """, kind);
    }

    /** Each channel row's recovery state, by channel. */
    private Map<String, String> recoveries() {
        return browser.js("return Object.fromEntries([...document.querySelectorAll('.channel')].map(e => [e.dataset.channel, e.dataset.recovery]));");
    }

    /** The channel's Unsubscribe button shares a line with its state (beside it), rather than taking one of its own. */
    private void assertUnsubscribeBesideState(String channel, String where) {
        Map<String, Number> box = browser.js("""
                const row = [...document.querySelectorAll('.channel')].find(e => e.dataset.channel === arguments[0]);
                const state = row.querySelector('.channel-state').getBoundingClientRect();
                const button = row.querySelector('.unsubscribe').getBoundingClientRect();
                return { stateTop: state.top, stateBottom: state.bottom, stateRight: state.right,
                         buttonTop: button.top, buttonBottom: button.bottom, buttonLeft: button.left };
                """, channel);
        double stateTop = box.get("stateTop").doubleValue();
        double stateBottom = box.get("stateBottom").doubleValue();
        double buttonTop = box.get("buttonTop").doubleValue();
        double buttonBottom = box.get("buttonBottom").doubleValue();
        assertThat(buttonTop < stateBottom && buttonBottom > stateTop)
                .as("Unsubscribe on the same line as " + channel + "'s state " + where + ": " + box).isTrue();
        assertThat(box.get("buttonLeft").doubleValue()).as("Unsubscribe right of the state " + where + ": " + box)
                .isGreaterThanOrEqualTo(box.get("stateRight").doubleValue());
    }

    private String rowText(String channel) {
        return browser.js("return [...document.querySelectorAll('.channel')].find(e => e.dataset.channel === arguments[0]).textContent;", channel);
    }

    private void awaitRecovery(String channel, String recovery) {
        await(channel + " " + recovery, d -> recovery.equals(browser.js(
                "const row = [...document.querySelectorAll('.channel')].find(e => e.dataset.channel === arguments[0]);"
                        + " return row ? row.dataset.recovery : null;", channel)));
    }

    /** Waits until the page shows exactly these publications for the channel (and no more), in this order. */
    private void awaitPublications(String channel, String... expected) {
        List<String> wanted = List.of(expected);
        AtomicReference<List<String>> last = new AtomicReference<>();
        new WebDriverWait(browser.driver(), DEADLINE, Duration.ofMillis(25))
                .withMessage(() -> "waiting for " + channel + " to show " + abbreviate(wanted) + "; shows " + abbreviate(last.get())
                        + "; log " + abbreviate(infoTexts()))
                .until(d -> {
                    last.set(publications(channel));
                    return last.get().size() >= wanted.size();
                });
        assertThat(publications(channel)).as("publications on " + channel).containsExactlyElementsOf(wanted);
    }

    private void await(String what, Function<WebDriver, Boolean> condition) {
        new WebDriverWait(browser.driver(), DEADLINE, Duration.ofMillis(25))
                .withMessage(() -> "waiting for " + what + "; channel view " + channelState() + ", log " + abbreviate(infoTexts()))
                .until(condition);
    }

    /** Long lines and long lists cut short, so that a failure message stays readable. */
    private static String abbreviate(List<String> lines) {
        if (lines == null) return "nothing";
        List<String> shown = lines.stream().limit(12).map(line -> line.length() <= 80 ? line : line.substring(0, 77) + "...").toList();
        return lines.size() <= shown.size() ? shown.toString() : shown + " and " + (lines.size() - shown.size()) + " more";
    }
}
