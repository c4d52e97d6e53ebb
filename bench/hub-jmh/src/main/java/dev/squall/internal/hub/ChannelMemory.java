package dev.squall.internal.hub;

import dev.squall.SlowConsumerPolicy;
import dev.squall.internal.broker.InMemoryBroker;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.PublishOptions;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Issue 9: what a channel costs in memory, in-process (no sockets: the 20,000-descriptor limit of this machine
 * would cap a socket run at about 10,000 connections, and a connection's own cost is another issue's). Not a JMH
 * benchmark: it measures live heap after full collections, in four phases over {@code N} connections (default
 * 100,000):
 * <ol>
 *   <li>N connections on no channel (the baseline);</li>
 *   <li>each subscribed to a channel of its own: N channels of one subscriber, with their broker streams;</li>
 *   <li>one 64-byte publication retained in each channel's history;</li>
 *   <li>every connection gone and the history expired: back to where the hub and broker started?</li>
 * </ol>
 * Run: {@code java -Xmx2g -cp bench/hub-jmh/target/hub-jmh.jar:target/squall.jar dev.squall.internal.hub.ChannelMemory [N]}.
 */
public final class ChannelMemory {

    private ChannelMemory() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(OneSubscriberPublish.daemon("bench-scheduler"));
        InMemoryBroker broker = new InMemoryBroker(scheduler, Duration.ofMillis(100));
        Hub hub = new Hub(new OutboundLimits(1 << 20, 1000, SlowConsumerPolicy.CLOSE, Duration.ofSeconds(1)),
                new Metrics(), scheduler, List.of(), broker, 300);
        Duration ttl = Duration.ofSeconds(3);
        PublishOptions withHistory = new PublishOptions(100, ttl, null, Duration.ZERO);
        Message message = Message.text("#0:1:123456789:" + "x".repeat(48));     // 64 bytes, as bench fanout

        long empty = liveHeap();
        System.out.printf("hub + broker, nothing open: %,d bytes of live heap%n", empty);
        OneSubscriberPublish.CountingWire wire = new OneSubscriberPublish.CountingWire();
        // Twice: the second round shows whether anything a first round left behind grows (a leak) or is reused.
        for (int round = 1; round <= 2; round++) {
            List<Connection> connections = new ArrayList<>(n);
            long before = liveHeap();
            for (int i = 0; i < n; i++) {
                Connection connection = hub.connect(wire, "c" + i);
                hub.opened(connection);
                connections.add(connection);
            }
            long connected = liveHeap();
            for (int i = 0; i < n; i++) hub.subscribe(connections.get(i), "ch-" + i);
            long subscribed = liveHeap();
            for (int i = 0; i < n; i++) broker.publish("ch-" + i, message, withHistory);
            long retained = liveHeap();
            for (int i = 0; i < n; i++) hub.leave("c" + i, 1000);
            connections = null;
            // The hub forgets a channel when its last subscriber leaves; the broker when its history has expired
            // too (swept every 100 ms): wait out the TTL, then the next sweeps.
            long expiredAt = System.nanoTime() + ttl.plusMillis(500).toNanos();
            while (System.nanoTime() < expiredAt) Thread.sleep(100);
            if (hub.channelCount() > 0) throw new IllegalStateException(hub.channelCount() + " channels are still in the hub");
            long gone = liveHeap();

            System.out.printf("round %d, %,d connections with a channel each:%n", round, n);
            System.out.printf("  connections, no channel:         +%,d bytes/connection (hub only: no socket)%n", (connected - before) / n);
            System.out.printf("  + a channel each (1 subscriber): +%,d bytes/channel%n", (subscribed - connected) / n);
            System.out.printf("  + one 64-byte message retained:  +%,d bytes/channel%n", (retained - subscribed) / n);
            System.out.printf("  all gone, history expired:       %+,d bytes against the round's start (%+,d against nothing open)%n",
                    gone - before, gone - empty);
        }
        System.out.printf("frames written to the wires: %,d%n", wire.frames.get());
        scheduler.shutdownNow();
    }

    /** Used heap after collections have stopped freeing anything (within 1 %, up to ten tries). */
    private static long liveHeap() throws InterruptedException {
        long previous = Long.MAX_VALUE;
        for (int i = 0; i < 10; i++) {
            System.gc();
            Thread.sleep(200);
            long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            if (previous != Long.MAX_VALUE && Math.abs(previous - used) < previous / 100) return used;
            previous = used;
        }
        return previous;
    }
}
