package dev.squall.bench.ws;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A set of event loops sharing the connections of one benchmark run. Connections are opened with a bounded
 * number of upgrades in flight: a server's accept backlog (128 for Tornado, 511 for Node) overflows if
 * thousands of SYNs arrive at once, and the resulting retransmits would measure the kernel, not the server.
 */
public final class ClientPool implements AutoCloseable {
    private final InetSocketAddress target;
    private final List<EventLoop> loops = new ArrayList<>();
    private final AtomicInteger upgraded = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicInteger closedAfterUpgrade = new AtomicInteger();
    private final AtomicReference<String> firstFailure = new AtomicReference<>();
    private volatile Semaphore upgradesInFlight = new Semaphore(Integer.MAX_VALUE);

    public ClientPool(InetSocketAddress target, String path, int loopCount, WsHandler handler) throws IOException {
        this(target, path, null, loopCount, handler);
    }

    /** A pool whose connections offer {@code subprotocol} (null: none). */
    public ClientPool(InetSocketAddress target, String path, String subprotocol, int loopCount, WsHandler handler) throws IOException {
        this.target = target;
        WsHandler counting = new WsHandler() {
            @Override
            public void onOpen(WsConnection connection) {
                upgraded.incrementAndGet();
                upgradesInFlight.release();
                handler.onOpen(connection);
            }

            @Override
            public void onText(WsConnection connection, ByteBuffer frame, int offset, int length) {
                handler.onText(connection, frame, offset, length);
            }

            @Override
            public void onClose(WsConnection connection, int code, String reason) {
                if (connection.upgraded) {
                    closedAfterUpgrade.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                    firstFailure.compareAndSet(null, reason);
                    upgradesInFlight.release();
                }
                handler.onClose(connection, code, reason);
            }
        };
        for (int i = 0; i < loopCount; i++) {
            EventLoop loop = new EventLoop("ws-loop-" + i, target, path, subprotocol, counting);
            loops.add(loop);
            loop.start();
        }
    }

    /**
     * Opens {@code count} connections, at most {@code maxInFlight} upgrades at a time, and waits until each
     * one upgraded or failed, or until {@code timeoutMs}. Returns how many upgraded.
     */
    public int connect(int count, int maxInFlight, long timeoutMs) throws InterruptedException {
        return connect(count, maxInFlight, timeoutMs, List.of(target));
    }

    /**
     * As {@link #connect(int, int, long)}, connection i to {@code targets[i % n]}: subscribers spread evenly
     * over several servers (nodes sharing a broker). The upgrade's Host header names the pool's own target.
     */
    public int connect(int count, int maxInFlight, long timeoutMs, List<InetSocketAddress> targets)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        upgradesInFlight = new Semaphore(maxInFlight);
        int startUpgraded = upgraded.get();
        int startFailed = failed.get();
        int issued = 0;
        for (; issued < count; issued++) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !upgradesInFlight.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                break;
            }
            loops.get(issued % loops.size()).connect(issued, targets.get(issued % targets.size()));
        }
        while (upgraded.get() - startUpgraded + failed.get() - startFailed < issued && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return upgraded.get() - startUpgraded;
    }

    public int failedConnects() {
        return failed.get();
    }

    /** Connections that upgraded and were later closed (by the server, an error, or us). */
    public int closedAfterUpgrade() {
        return closedAfterUpgrade.get();
    }

    public String firstFailure() {
        return firstFailure.get();
    }

    public List<EventLoop> loops() {
        return loops;
    }

    /** CPU time of each loop thread, to show whether one of them is saturated (the generator's bottleneck). */
    public long[] loopCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long[] cpu = new long[loops.size()];
        for (int i = 0; i < cpu.length; i++) {
            cpu[i] = threads.getThreadCpuTime(loops.get(i).threadId());
        }
        return cpu;
    }

    @Override
    public void close() throws InterruptedException {
        for (EventLoop loop : loops) {
            loop.closeAll(1000);
        }
        for (EventLoop loop : loops) {
            loop.stop(5_000);
        }
    }
}
