package dev.squall.support;

import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One headless Chromium for a test class: Debian's {@code /usr/bin/chromium} driven through
 * {@code /usr/bin/chromedriver}, with a throw-away profile. Both paths are given to Selenium explicitly, so
 * Selenium Manager is never asked to find or download anything. {@link #close()} quits the browser, stops the
 * driver and deletes the profile; a shutdown hook does the same if a test run ends without reaching it.
 *
 * <p>When Chromium or its driver is missing this fails (it never skips) and says what to install.
 */
public final class Browser implements AutoCloseable {

    public static final Path CHROMIUM = Path.of(System.getProperty("squall.chromium", "/usr/bin/chromium"));
    public static final Path CHROMEDRIVER = Path.of(System.getProperty("squall.chromedriver", "/usr/bin/chromedriver"));

    /** Where screenshots go, one file per state, overwritten on every run. */
    public static final Path SCREENSHOTS = Path.of("target", "screenshots");

    private final Path profile;
    private final ChromeDriverService service;
    private final ChromeDriver driver;
    private final Thread cleanupOnExit = new Thread(this::quietlyClose, "browser-cleanup");
    private final String homeTab;
    private volatile boolean closed;

    private Browser(int width, int height) {
        requireInstalled();
        // Belt and braces: these keep Selenium from looking anything up even if a path above were ignored.
        System.setProperty(ChromeDriverService.CHROME_DRIVER_EXE_PROPERTY, CHROMEDRIVER.toString());
        try {
            profile = Files.createTempDirectory("squall-chromium-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .withLogOutput(OutputStream.nullOutputStream()) // chromedriver's chatter; failures surface as exceptions
                .build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments(
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
                // Keep timers running in tabs the test is not looking at, so heartbeats behave as in a visible tab.
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--window-size=" + width + "," + height,
                "--user-data-dir=" + profile);
        Runtime.getRuntime().addShutdownHook(cleanupOnExit);
        ChromeDriver started;
        try {
            started = new ChromeDriver(service, options);
        } catch (RuntimeException e) {
            quietlyClose();
            throw new IllegalStateException("Could not start " + CHROMIUM + " through " + CHROMEDRIVER
                    + " (both come from apt: chromium chromium-driver, same version): " + e.getMessage(), e);
        }
        driver = started;
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(15));
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
        homeTab = driver.getWindowHandle();
    }

    /** Starts Chromium with a window (and so a layout viewport) of this size. */
    public static Browser start(int width, int height) {
        return new Browser(width, height);
    }

    private static void requireInstalled() {
        List<String> missing = new ArrayList<>();
        if (!Files.isExecutable(CHROMIUM)) missing.add(CHROMIUM.toString());
        if (!Files.isExecutable(CHROMEDRIVER)) missing.add(CHROMEDRIVER.toString());
        if (!missing.isEmpty()) {
            throw new IllegalStateException("The browser tests need headless Chromium and its WebDriver, but "
                    + String.join(" and ", missing) + (missing.size() == 1 ? " is" : " are") + " missing. "
                    + "Install them with: apt-get update && apt-get install -y chromium chromium-driver");
        }
    }

    public ChromeDriver driver() {
        return driver;
    }

    /** Opens a fresh tab and makes it current; {@link #closeTab()} closes it (and its WebSockets). */
    public void openTab(String url) {
        driver.switchTo().newWindow(WindowType.TAB);
        driver.get(url);
    }

    /** Closes every tab but the blank home tab, so no page of one test keeps a connection into the next. */
    public void closeTab() {
        for (String handle : driver.getWindowHandles()) {
            if (handle.equals(homeTab)) continue;
            driver.switchTo().window(handle);
            driver.close();
        }
        driver.switchTo().window(homeTab);
    }

    @SuppressWarnings("unchecked")
    public <T> T js(String script, Object... args) {
        return (T) ((JavascriptExecutor) driver).executeScript(script, args);
    }

    @SuppressWarnings("unchecked")
    public <T> T asyncJs(String script, Object... args) {
        return (T) ((JavascriptExecutor) driver).executeAsyncScript(script, args);
    }

    /** Saves what the current tab shows as {@code target/screenshots/NAME.png} and returns the path. */
    public Path screenshot(String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            Path file = SCREENSHOTS.resolve(name + ".png");
            Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Saves the whole page of the current tab, beyond the viewport, as {@code target/screenshots/NAME.png}
     * (Chrome DevTools' own capture, so nothing is stitched together).
     */
    @SuppressWarnings("unchecked")
    public Path fullPageScreenshot(String name) {
        Map<String, Object> metrics = driver.executeCdpCommand("Page.getLayoutMetrics", Map.of());
        Map<String, Object> size = (Map<String, Object>) metrics.get("cssContentSize");
        Map<String, Object> clip = Map.of("x", 0, "y", 0, "scale", 1,
                "width", ((Number) size.get("width")).doubleValue(),
                "height", ((Number) size.get("height")).doubleValue());
        Map<String, Object> shot = driver.executeCdpCommand("Page.captureScreenshot",
                Map.of("format", "png", "captureBeyondViewport", true, "clip", clip));
        try {
            Files.createDirectories(SCREENSHOTS);
            Path file = SCREENSHOTS.resolve(name + ".png");
            Files.write(file, Base64.getDecoder().decode((String) shot.get("data")));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        quietlyClose();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook is running or has run; nothing left to do
        }
    }

    private synchronized void quietlyClose() {
        if (closed) return;
        closed = true;
        try {
            if (driver != null) driver.quit();
        } catch (RuntimeException e) {
            // the browser may already be gone; the driver service is stopped below either way
        } finally {
            service.stop();
            deleteRecursively(profile);
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        } catch (IOException | UncheckedIOException e) {
            // a leftover temp profile is harmless; do not hide the test's own outcome
        }
    }
}
