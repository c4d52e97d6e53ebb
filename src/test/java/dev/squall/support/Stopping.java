package dev.squall.support;

import dev.squall.SquallPlugin;
import io.javalin.Javalin;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Stops an app whose plugin keeps the default drain window (3 s) because the test runs a documented example as it is
 * written: Javalin's {@code stop()} would wait out the window, 3 s of nothing for a test that is not about the drain.
 */
public final class Stopping {

    private Stopping() {
    }

    /** Stops {@code app}, cutting the drain of {@code plugin} short as a second stop request does. */
    public static void withoutDrain(Javalin app, SquallPlugin plugin) {
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(app::stop);
        // Cut it short until the stop is done: a cut that comes before the window has opened may not count.
        Await.until("the app to stop", Duration.ofSeconds(30), () -> {
            plugin.stopNow();
            return stopped.isDone();
        });
        stopped.join();
    }
}
