package dev.squall.browser;

import dev.squall.support.Browser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * Takes the README's pictures of the page, {@code docs/screenshot.png} and {@code docs/channels.png}, in headless
 * Chromium against a real Squall. Not part of the suite (the name does not end in {@code Test}, so Surefire
 * leaves it out, and a build never rewrites {@code docs/}): run it by hand after changing the page, and look at
 * both pictures before committing them.
 *
 * <pre>mvn -q test -Dtest=DocsScreenshots</pre>
 */
class DocsScreenshots {

    private static final Duration DEADLINE = Duration.ofSeconds(15);
    private static final Path DOCS = Path.of("docs");

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
            browser.closeTab();
        } finally {
            server.close();
        }
    }

    /** The whole page, connected: the tutorial's connection with its demo, and two channels with messages. */
    @Test
    void thePageConnectedWithChannels() throws IOException {
        browser.openTab(server.url("/?channel=news&channel=chat:room1"));
        awaitJs("the tutorial's Welcome", "[...document.querySelectorAll('#log li[data-kind=received]')].length === 1");
        browser.driver().findElement(By.id("message-input")).sendKeys("Hello", Keys.ENTER);
        awaitJs("the echo", "[...document.querySelectorAll('#log li[data-kind=received]')].length === 2");
        server.publish("pushed by GET /receive");
        awaitJs("the push", "[...document.querySelectorAll('#log li[data-kind=received]')].length === 3");

        awaitJs("both channels live", "[...document.querySelectorAll('.channel')].every((row) => row.dataset.recovery === 'live')"
                + " && document.querySelectorAll('.channel').length === 2");
        server.publishTo("news", "\"Squall 0.1 is out\"");
        server.publishTo("chat:room1", "{\"from\":\"ann\",\"text\":\"hi all\"}");
        server.publishTo("news", "{\"headline\":\"Channels recover after a reconnect\"}");
        server.publishTo("chat:room1", "{\"from\":\"bob\",\"text\":\"hello ann\"}");
        awaitJs("the channel messages", "document.querySelectorAll('#channel-log li[data-kind=publication]').length === 4");
        browser.js("document.activeElement.blur()");

        copyToDocs(browser.fullPageScreenshot("docs-screenshot"), "screenshot.png");
    }

    /** The channel view after the server restarted: the channel says it was not recovered; offsets start again. */
    @Test
    void theChannelViewAfterARestart() throws IOException {
        browser.openTab(server.url("/?channel=news&backoffBase=100&backoffMax=400"));
        awaitJs("news live", "document.querySelector('.channel').dataset.recovery === 'live'");
        server.publishTo("news", "\"first\"");
        server.publishTo("news", "\"second\"");
        awaitJs("two messages", "document.querySelectorAll('#channel-log li[data-kind=publication]').length === 2");

        server.stop();
        server.restartOnSamePort();
        awaitJs("news not recovered", "document.querySelector('.channel').dataset.recovery === 'not-recovered'");
        server.publishTo("news", "\"after the restart\"");
        awaitJs("the next message", "document.querySelectorAll('#channel-log li[data-kind=publication]').length === 3");
        awaitJs("the tutorial connection back", "document.body.dataset.state === 'open'");
        browser.js("document.activeElement.blur(); document.getElementById('channels').scrollIntoView()");

        copyToDocs(browser.screenshot("docs-channels"), "channels.png");
    }

    private static void awaitJs(String what, String condition) {
        new WebDriverWait(browser.driver(), DEADLINE, Duration.ofMillis(25))
                .withMessage("waiting for " + what)
                .until(d -> browser.<Boolean>js("return " + condition + ";"));
    }

    private static void copyToDocs(Path shot, String name) throws IOException {
        Path target = DOCS.resolve(name);
        Files.copy(shot, target, StandardCopyOption.REPLACE_EXISTING);
        System.out.println("wrote " + target.toAbsolutePath());
    }
}
