package dev.squall.browser;

import dev.squall.SlowConsumerPolicy;
import dev.squall.support.Browser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The page in {@code public/} in a real headless Chromium against a real Squall: what a newcomer's browser
 * does, end to end. One browser for the class, a fresh server and a fresh tab for each test.
 *
 * <p>Needs Debian's {@code chromium} and {@code chromium-driver}; without them every test fails and says so.
 */
class BrowserClientTest {

    /** Generous for a shared 2-core machine; a passing test waits only as long as the page needs. */
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private static final String RECEIVED_TEXTS =
            "return Array.from(document.querySelectorAll('#log li[data-kind=received] .entry-text'), e => e.textContent);";

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

    // ---- the tutorial's demo ----------------------------------------------------------------

    @Test
    void pageLoadsFromRootConnectsAndShowsWelcome() {
        open("/");

        awaitState("open");
        awaitReceived("Welcome");
        assertThat(browser.driver().getTitle()).isEqualTo("Squall");
        assertThat(text("#status")).contains("Connection open");
        assertThat((String) browser.js("return window.squall.socketUrl")).isEqualTo(server.wsUrl());
        await("the server to count the page's connection", d -> server.openConnections() == 1);
    }

    @Test
    void sendingHelloWithEnterOrTheSendButtonEchoesNewMessage() {
        open("/");
        awaitReceived("Welcome");

        WebElement input = find("#message-input");
        input.sendKeys("Hello", Keys.ENTER);
        awaitReceivedCount("new message :Hello", 1);
        assertThat(input.getAttribute("value")).as("input is cleared after sending").isEmpty();

        input.sendKeys("Hello");
        find("#send-button").click();
        awaitReceivedCount("new message :Hello", 2);

        List<String> sent = browser.js(
                "return Array.from(document.querySelectorAll('#log li[data-kind=sent] .entry-text'), e => e.textContent);");
        assertThat(sent).containsExactly("Hello", "Hello");
    }

    @Test
    void publishesFromTheTestAndFromThePagesOwnFormAppear() {
        open("/");
        awaitReceived("Welcome");
        awaitState("open");

        find("#message-input").sendKeys("Hello", Keys.ENTER);
        awaitReceived("new message :Hello");

        assertThat(server.publish("pushed by GET /receive")).isEqualTo(1);
        awaitReceived("pushed by GET /receive");

        find("#publish-input").sendKeys("published from the page");
        find("#publish-button").click();
        await("#publish-result to say ok", d -> "ok".equals(find("#publish-result").getAttribute("data-outcome")));
        WebElement result = find("#publish-result");
        assertThat(result.getAttribute("data-http-status")).isEqualTo("200");
        assertThat(result.getAttribute("data-delivered")).isEqualTo("1");
        assertThat(result.getText()).contains("delivered to 1 connection");
        awaitReceived("published from the page");

        assertThat(receivedTexts()).containsExactly(
                "Welcome", "new message :Hello", "pushed by GET /receive", "published from the page");
        browser.fullPageScreenshot("open-with-messages");
    }

    @Test
    void aPublisherCannotForgeTheServersNoticeAndLookalikeJsonIsAnOrdinaryMessage() {
        open("/");
        awaitReceived("Welcome");

        assertThat(server.publishStatus("{\"squall\":\"dropped\",\"count\":42}"))
                .as("a publish in the server's reserved notice envelope").isEqualTo(400);
        // What the server used to send as its notice, before the envelope: now anybody's JSON, shown as such.
        String lookalike = "{\"type\":\"dropped\",\"count\":42}";
        assertThat(server.publish(lookalike)).isEqualTo(1);
        server.publish("the next message");
        awaitReceived("the next message");

        assertThat(receivedTexts()).containsExactly("Welcome", lookalike, "the next message");
        assertThat(infoTexts()).noneMatch(text -> text.contains("dropped"));
    }

    @Test
    void aPageThatFellBehindIsToldByTheServerHowManyMessagesWereDropped() {
        server.close();
        server = LiveServer.start(LiveServer.config()
                .slowConsumerPolicy(SlowConsumerPolicy.DROP_OLDEST)
                .maxQueueMessages(8)
                .maxQueueBytes(256 * 1024)
                .build());
        open("/?logMax=5000");
        awaitReceived("Welcome");
        int entriesBeforePause = logEntryCount();

        // Pause the page in its next message listener: the onmessage for the first message below. A paused page
        // takes no frames, so Chromium stops reading the socket once its own buffer is full, then the kernel's
        // buffers fill, then the server's queue. (Debugger.pause would also stop the scripts ChromeDriver itself
        // runs after a command, and hang it.)
        browser.driver().executeCdpCommand("Debugger.enable", Map.of());
        browser.driver().executeCdpCommand("DOMDebugger.setEventListenerBreakpoint", Map.of("eventName", "message"));
        int published = 0;
        long bytesPublished = 0;
        try {
            server.publish("the page pauses here");
            published++;
            // Large messages fill the kernel's and Chromium's buffers quickly; both bounds keep a page that never
            // falls behind from turning this into an endless loop.
            String padding = "x".repeat(32 * 1024);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (server.droppedMessages() == 0) {
                assertThat(published).as("messages published without the server dropping any").isLessThan(2000);
                assertThat(System.nanoTime() - deadline).as("time spent publishing without a drop").isNegative();
                String filler = "filler " + published + " " + padding;
                server.publishInBody(filler);
                published++;
                bytesPublished += filler.length();
            }
            assertThat(logEntryCount()).as("log entries while the page is paused").isEqualTo(entriesBeforePause);
        } finally {
            // Disabling the debugger also resumes the page, and unlike Debugger.resume it does not fail when the
            // page never paused, which would hide why this test failed.
            browser.driver().executeCdpCommand("DOMDebugger.removeEventListenerBreakpoint", Map.of("eventName", "message"));
            browser.driver().executeCdpCommand("Debugger.disable", Map.of());
        }
        System.out.printf("the server began dropping after %d messages (%d kB) to a paused page%n",
                published, bytesPublished / 1024);

        server.publish("the last message");
        published++;
        awaitReceived("the last message");
        // Every drop happened before the last message was queued, and is reported before the next message written.
        long dropped = server.droppedMessages();
        List<String> notices = infoTexts().stream().filter(text -> text.contains(" were dropped here")).toList();
        assertThat(notices).isNotEmpty().allMatch(text -> text.matches("[1-9]\\d* messages were dropped here: this page fell behind\\."));
        long reported = notices.stream().mapToLong(text -> Long.parseLong(text.substring(0, text.indexOf(' ')))).sum();
        assertThat(reported).as("dropped messages the page was told about, in " + notices).isEqualTo(dropped);
        long receivedAfterWelcome = browser.<Long>js("return [...document.querySelectorAll('#log li[data-kind=received] .entry-text')]"
                + ".filter(e => e.textContent !== 'Welcome').length");
        assertThat(receivedAfterWelcome + dropped).as("messages received plus dropped").isEqualTo(published);
        assertThat((Long) browser.js("return [...document.querySelectorAll('#log li[data-kind=received] .entry-text')]"
                + ".filter(e => e.textContent.includes('squall')).length")).as("received entries that show a notice").isZero();
    }

    @Test
    void markupInAMessageIsShownAsTextAndRunsNothing() {
        open("/");
        awaitReceived("Welcome");

        String attack = "<img src=x onerror=\"window.__pwned=1\"> <b>bold?</b>";
        server.publish(attack);
        awaitReceived(attack);
        // A later message proves the page has had time to load (and fail) the image, had it been one.
        server.publish("after the attack");
        awaitReceived("after the attack");

        assertThat((Object) browser.js("return window.__pwned")).isNull();
        assertThat((Long) browser.js("return document.querySelectorAll('#log img, #log b').length")).isZero();
        assertThat((Long) browser.js("return document.images.length")).isZero();
    }

    // ---- keeping the connection alive --------------------------------------------------------

    @Test
    void pageReconnectsByItselfAfterTheServerRestartsOnTheSamePort() {
        long backoffMaxMs = 1500;
        open("/?backoffBase=200&backoffMax=" + backoffMaxMs + "&stable=1000&connectTimeout=3000");
        awaitReceived("Welcome");
        awaitState("open");
        int port = server.port();

        server.stop();
        // The page flips between reconnecting and connecting while the server is down: check state and
        // status text in one script, after at least one failed retry.
        await("a failed retry and a reconnect countdown", d -> browser.<Boolean>js("""
                return document.body.dataset.state === 'reconnecting'
                    && document.getElementById('status').textContent.trim().startsWith('Reconnecting in')
                    && Array.from(document.querySelectorAll('#log li[data-kind=system] .entry-text'))
                           .some(e => e.textContent.startsWith('Could not connect'));
                """));
        browser.screenshot("reconnecting");

        server.restartOnSamePort();
        assertThat(server.port()).isEqualTo(port);
        long restartedAt = System.nanoTime();
        // The page retries at most backoffMax after the server is back; the rest is slack for this machine.
        new WebDriverWait(browser.driver(), Duration.ofMillis(backoffMaxMs + 3000), Duration.ofMillis(25))
                .withMessage(() -> "page did not reconnect; state " + state() + ", log " + logTexts())
                .until(d -> "open".equals(state()));
        long reconnectMs = (System.nanoTime() - restartedAt) / 1_000_000;

        assertThat((Long) browser.js("return window.squall.reconnects")).isGreaterThanOrEqualTo(1);
        awaitReceivedCount("Welcome", 2);
        await("the restarted server to count the page", d -> server.openConnections() == 1);
        assertThat(server.publish("after the restart")).isEqualTo(1);
        awaitReceived("after the restart");
        assertThat(logTexts())
                .as("the shutdown is a clean 1001; failed retries are not reported as closed connections")
                .anyMatch(line -> line.startsWith("system: Connection closed (code 1001"))
                .noneMatch(line -> line.startsWith("system: Connection closed (code 1006"));
        System.out.printf("page reconnected %d ms after the restart (backoffMax %d ms)%n", reconnectMs, backoffMaxMs);
    }

    @Test
    void heartbeatProbesAreEchoedAndTheConnectionStaysOpen() {
        open("/?heartbeat=300&deadline=2000");
        awaitReceived("Welcome");

        await("three heartbeat probes", d -> ((Long) browser.js("return window.squall.probesSent")) >= 3);

        assertThat(state()).isEqualTo("open");
        assertThat((Long) browser.js("return window.squall.heartbeatFailures")).isZero();
        assertThat((Long) browser.js("return window.squall.connections")).isEqualTo(1);
        assertThat(receivedTexts()).as("probe echoes are not shown as messages").containsExactly("Welcome");
    }

    // ---- origin policy ------------------------------------------------------------------------

    @Test
    void aPageFromAnOriginThePolicyRefusesCannotConnect() {
        open("/");
        awaitReceived("Welcome");
        String pageOrigin = server.origin();

        try (LiveServer other = LiveServer.start()) {
            assertThat(tryWebSocket(other.wsUrl())).as("another origin, default same-origin policy").isEqualTo("refused");
            assertThat(other.connectsSoFar()).as("connections the refusing server accepted").isZero();
            assertThat(other.openConnections()).isZero();

            // The same URL from the same page, only the policy changed: now it connects.
            other.stop();
            other.restartOnSamePort(config -> config.allowedOrigins(List.of(pageOrigin)));
            assertThat(tryWebSocket(other.wsUrl())).as("origin on the allow-list").isEqualTo("open:Welcome");
            assertThat(other.connectsSoFar()).isEqualTo(1);
        }
    }

    /** From the current page: "open:FIRST MESSAGE" if a WebSocket to {@code url} opens, "refused" if it never does. */
    private String tryWebSocket(String url) {
        return browser.asyncJs("""
                const [url, done] = arguments;
                let opened = false;
                const ws = new WebSocket(url);
                ws.onopen = () => { opened = true; };
                ws.onmessage = (e) => { done('open:' + e.data); ws.close(); };
                ws.onclose = (e) => { if (!opened) done('refused'); else done('open, then closed ' + e.code); };
                """, url);
    }

    // ---- accessibility and small screens ------------------------------------------------------

    @Test
    void everyControlIsLabelledAndAButtonAndReachableByKeyboardWithAVisibleFocus() {
        open("/");
        awaitReceived("Welcome");

        List<String> unlabelled = browser.js(
                "return Array.from(document.querySelectorAll('input, select, textarea'))"
                        + ".filter(e => e.labels.length === 0 || e.labels[0].textContent.trim() === '').map(e => e.id || e.outerHTML);");
        assertThat(unlabelled).as("inputs without a label").isEmpty();
        List<String> buttons = browser.js(
                "return Array.from(document.querySelectorAll('button, [role=button], input[type=button], input[type=submit], [onclick]'),"
                        + " e => e.tagName + '#' + e.id + ':' + e.textContent.trim());");
        assertThat(buttons).containsExactlyInAnyOrder(
                "BUTTON#connect-button:Disconnect", "BUTTON#send-button:Send", "BUTTON#publish-button:Publish",
                "BUTTON#subscribe-button:Subscribe");
        assertThat(find("#status").getAttribute("role")).isEqualTo("status");

        browser.js("document.activeElement && document.activeElement.blur(); window.focus();");
        List<String> order = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            new Actions(browser.driver()).sendKeys(Keys.TAB).perform();
            Map<String, Object> focus = browser.js("""
                    const e = document.activeElement, s = getComputedStyle(e);
                    return {id: e.id, style: s.outlineStyle, width: parseFloat(s.outlineWidth), visible: e.matches(':focus-visible')};
                    """);
            order.add((String) focus.get("id"));
            assertThat((Boolean) focus.get("visible")).as("keyboard focus on #" + focus.get("id") + " matches :focus-visible").isTrue();
            assertThat((String) focus.get("style")).as("outline style of focused #" + focus.get("id")).isNotEqualTo("none");
            assertThat(((Number) focus.get("width")).doubleValue()).as("outline width of focused #" + focus.get("id")).isPositive();
        }
        assertThat(order).containsExactly("connect-button", "log", "message-input", "send-button",
                "publish-input", "token-input", "publish-button", "channel-input", "subscribe-button", "channel-log");

        // Keyboard only: back to the message box, type, Enter.
        new Actions(browser.driver()).keyDown(Keys.SHIFT)
                .sendKeys(Keys.TAB, Keys.TAB, Keys.TAB, Keys.TAB, Keys.TAB, Keys.TAB, Keys.TAB).keyUp(Keys.SHIFT).perform();
        assertThat((String) browser.js("return document.activeElement.id")).isEqualTo("message-input");
        new Actions(browser.driver()).sendKeys("typed", Keys.ENTER).perform();
        awaitReceived("new message :typed");
    }

    @Test
    void onAPhoneSizedViewportNothingScrollsSidewaysAndInputsAreLargeEnough() {
        // Emulation applies to the current tab, so open the tab first, then emulate, then load the page.
        browser.openTab("about:blank");
        browser.driver().executeCdpCommand("Emulation.setDeviceMetricsOverride",
                Map.of("width", 375, "height", 667, "deviceScaleFactor", 2, "mobile", true));
        try {
            browser.driver().get(server.url("/"));
            awaitReceived("Welcome");
            find("#message-input").sendKeys("Hello", Keys.ENTER);
            awaitReceived("new message :Hello");
            browser.screenshot("phone-375x667");
            // A long word with no break opportunity is the classic cause of sideways scrolling.
            String unbroken = "x".repeat(300);
            server.publish(unbroken);
            awaitReceived(unbroken);

            assertThat((Long) browser.js("return window.innerWidth")).isEqualTo(375);
            Long scrollWidth = browser.js("return document.documentElement.scrollWidth");
            assertThat(scrollWidth).as("page width at 375 px").isLessThanOrEqualTo(375);
            List<String> wide = browser.js(
                    "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)"
                            + ".map(e => e.tagName + '#' + e.id + '.' + e.className);");
            assertThat(wide).as("elements sticking out of the viewport").isEmpty();
            Map<String, Object> fontSizes = browser.js(
                    "return Object.fromEntries(Array.from(document.querySelectorAll('input, button'), e => [e.id, parseFloat(getComputedStyle(e).fontSize)]));");
            assertThat(fontSizes).hasSize(8);
            fontSizes.forEach((id, size) -> assertThat(((Number) size).doubleValue()).as("font size of #" + id).isGreaterThanOrEqualTo(16));
        } finally {
            browser.driver().executeCdpCommand("Emulation.clearDeviceMetricsOverride", Map.of());
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private void open(String pathAndQuery) {
        browser.openTab(server.url(pathAndQuery));
    }

    private WebElement find(String css) {
        return browser.driver().findElement(By.cssSelector(css));
    }

    private String text(String css) {
        return find(css).getText();
    }

    private String state() {
        return browser.js("return document.body.dataset.state");
    }

    private List<String> receivedTexts() {
        return browser.js(RECEIVED_TEXTS);
    }

    private List<String> infoTexts() {
        return browser.js("return Array.from(document.querySelectorAll('#log li[data-kind=system] .entry-text'), e => e.textContent);");
    }

    /** How many entries the log holds, read through DevTools' DOM domain: it answers even while scripts are paused. */
    @SuppressWarnings("unchecked")
    private int logEntryCount() {
        Map<String, Object> document = browser.driver().executeCdpCommand("DOM.getDocument", Map.of("depth", 0));
        Object root = ((Map<String, Object>) document.get("root")).get("nodeId");
        Map<String, Object> found = browser.driver().executeCdpCommand("DOM.querySelectorAll",
                Map.of("nodeId", root, "selector", "#log li"));
        return ((List<?>) found.get("nodeIds")).size();
    }

    private List<String> logTexts() {
        // Abbreviated, so that a failure message stays readable when the log holds large messages.
        return browser.js("return Array.from(document.querySelectorAll('#log li'), e => e.dataset.kind + ': '"
                + " + e.querySelector('.entry-text').textContent.slice(0, 80));");
    }

    private void awaitState(String expected) {
        await("state " + expected, d -> expected.equals(state()));
    }

    private void awaitReceived(String text) {
        // Compared in the page: a log of large messages is slow to copy out on every poll.
        await("received \"" + abbreviate(text) + "\"", d -> browser.<Boolean>js(
                "return [...document.querySelectorAll('#log li[data-kind=received] .entry-text')].some(e => e.textContent === arguments[0]);",
                text));
    }

    private void awaitReceivedCount(String text, long count) {
        await(count + " x received \"" + text + "\"", d -> receivedTexts().stream().filter(text::equals).count() == count);
    }

    private void await(String what, Function<org.openqa.selenium.WebDriver, Boolean> condition) {
        new WebDriverWait(browser.driver(), DEADLINE, Duration.ofMillis(25))
                .withMessage(() -> "waiting for " + what + "; state " + state() + ", log " + logTexts())
                .until(condition);
    }

    private static String abbreviate(String text) {
        return text.length() <= 60 ? text : text.substring(0, 57) + "...";
    }
}
