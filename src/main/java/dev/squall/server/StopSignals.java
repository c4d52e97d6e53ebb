package dev.squall.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * SIGTERM and SIGINT (Ctrl-C) as a request to stop in order, taken on by {@code main}'s thread.
 *
 * <p>When the JVM handles these signals itself it runs the shutdown hooks and then exits with 128 + the signal
 * (143, 130), which systemd and container runtimes count as a failure; a stop that was asked for and went well
 * should exit 0. So the first signal only releases {@link #await()}, {@code main} stops the app and returns 0;
 * a later one calls {@code again} (cut the drain short). {@code sun.misc.Signal} is in {@code jdk.unsupported}, on
 * every JDK since 9; where a signal cannot be handled (e.g. {@code -Xrs}) the JVM's default and the shutdown hook
 * still stop the server, with the JVM's exit code.
 */
final class StopSignals {

    private static final Logger log = LoggerFactory.getLogger(StopSignals.class);

    private final CountDownLatch requested = new CountDownLatch(1);
    private final AtomicInteger received = new AtomicInteger();
    private final Runnable again;

    private StopSignals(Runnable again) {
        this.again = again;
    }

    /** Handles TERM and INT from now on: the first releases {@link #await()}, every later one runs {@code again}. */
    static StopSignals install(Runnable again) {
        StopSignals signals = new StopSignals(again);
        for (String name : new String[]{"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), signals::received);
            } catch (IllegalArgumentException e) {
                log.debug("SIG{} stays with the JVM (exit code 128 + signal): {}", name, e.getMessage());
            }
        }
        return signals;
    }

    /** Waits for the first TERM or INT. */
    void await() throws InterruptedException {
        requested.await();
    }

    private void received(Signal signal) {
        if (received.incrementAndGet() == 1) {
            log.debug("SIG{}: stopping", signal.getName());
            requested.countDown();
        } else {
            again.run();
        }
    }
}
