package dev.squall.internal.auth;

import dev.squall.Authenticator;
import dev.squall.ChannelAction;
import dev.squall.ChannelAuthorizer;
import dev.squall.Handshake;
import dev.squall.Identity;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs the app's {@link Authenticator} and {@link ChannelAuthorizer} (or the proxies that stand in for them) on
 * threads of its own, with a deadline. A hook may be slow (a database call): on these threads it cannot hold Jetty's,
 * and its caller waits at most the deadline. A hook that throws or runs out of time refuses, never admits: the failure
 * is logged here, as a server error, and the client is only told it is refused.
 */
public final class AppHooks {

    private static final Logger log = LoggerFactory.getLogger(AppHooks.class);
    /** Hooks running at once: a database's pool is about this size; more would only queue there. */
    static final int THREADS = 32;
    /** Hooks waiting for a thread: past this, the app is too slow for the load, and more waiting helps no one. */
    static final int MAX_WAITING = 1024;

    private final @Nullable Authenticator authenticator;
    private final @Nullable ChannelAuthorizer authorizer;
    private final Duration timeout;
    private final @Nullable ThreadPoolExecutor threads;
    /** When a failure was last logged: an app that is down fails every request, and one line per 10 s says so. */
    private final java.util.concurrent.atomic.AtomicLong lastLogged = new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE);
    private final java.util.concurrent.atomic.AtomicLong unlogged = new java.util.concurrent.atomic.AtomicLong();
    private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    public AppHooks(@Nullable Authenticator authenticator, @Nullable ChannelAuthorizer authorizer, Duration timeout) {
        this.authenticator = authenticator;
        this.authorizer = authorizer;
        this.timeout = timeout;
        this.threads = authenticator == null && authorizer == null ? null : newThreads();
    }

    /** No hooks. */
    public static AppHooks none() {
        return new AppHooks(null, null, Duration.ofSeconds(1));
    }

    private static ThreadPoolExecutor newThreads() {
        AtomicInteger count = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(MAX_WAITING), runnable -> {
                    Thread thread = new Thread(runnable, "squall-hooks-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /** Whether the app decides who connects. */
    public boolean authenticates() {
        return authenticator != null;
    }

    /** Whether the app decides what a user may do with a channel. */
    public boolean authorizes() {
        return authorizer != null;
    }

    /** Why a hook gave no answer: it threw, ran out of time, or too many were waiting. Already logged. */
    public static final class Failed extends Exception {
        Failed(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Who the client is, as the app says; null when it refuses.
     *
     * @param handshake a copy of the request that outlives it: the hook may still run after the caller gave up
     * @throws Failed when the hook threw or took longer than the deadline
     */
    public @Nullable Identity authenticate(Handshake handshake) throws Failed {
        Authenticator hook = authenticator;
        if (hook == null) return null;
        return call(() -> hook.authenticate(handshake), "authenticate");
    }

    /** Whether the app allows it; false also when the hook failed (logged). */
    public boolean allows(Identity who, String channel, ChannelAction action) {
        ChannelAuthorizer hook = authorizer;
        if (hook == null) return false;
        try {
            Boolean allowed = call(() -> hook.allows(who, channel, action), "authorize");
            return Boolean.TRUE.equals(allowed);
        } catch (Failed e) {
            return false;
        }
    }

    private <T> @Nullable T call(Callable<@Nullable T> hook, String which) throws Failed {
        ThreadPoolExecutor pool = java.util.Objects.requireNonNull(threads);
        Future<@Nullable T> answer;
        try {
            answer = pool.submit(hook);
        } catch (RejectedExecutionException e) {
            if (mayLog()) log.warn("The app's {} hook has {} calls waiting; refusing until it catches up{}", which, MAX_WAITING, suppressed());
            throw new Failed("too many waiting");
        }
        try {
            return answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            answer.cancel(true);
            if (mayLog()) log.warn("The app's {} hook ({}) took longer than {} ms; refused{}", which, hookName(which), timeout.toMillis(), suppressed());
            throw new Failed("timed out");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (mayLog()) {
                // A proxy's failure is its message; an app's own hook that throws is a bug, shown with its trace.
                if (cause instanceof java.io.IOException) log.error("The app's {} hook ({}) failed; refused: {}{}", which, hookName(which), cause.toString(), suppressed());
                else log.error("The app's {} hook failed; refused{}", which, suppressed(), cause);
            }
            throw new Failed("failed");
        } catch (InterruptedException e) {
            answer.cancel(true);
            Thread.currentThread().interrupt();
            throw new Failed("interrupted");
        }
    }

    private boolean mayLog() {
        long now = System.nanoTime();
        long last = lastLogged.get();
        if (last != Long.MIN_VALUE && now - last < LOG_EVERY_NANOS) {
            unlogged.incrementAndGet();
            return false;
        }
        return lastLogged.compareAndSet(last, now);
    }

    private String suppressed() {
        long count = unlogged.getAndSet(0);
        return count == 0 ? "" : " (and " + count + " more failures since the last line)";
    }

    private String hookName(String which) {
        Object hook = which.equals("authenticate") ? authenticator : authorizer;
        return String.valueOf(hook);
    }

    /** Stops the hooks' threads; a hook still running is interrupted. */
    public void close() {
        if (threads != null) threads.shutdownNow();
    }
}
