package dev.squall.internal.hub;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;

/**
 * Squall's counters, exported in Prometheus text format on {@code GET /metrics}.
 * Hot-path updates are striped adders (no lock, no allocation); gauges are read only when scraped.
 */
public final class Metrics implements AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    private final ConcurrentMap<String, Counter> disconnectsByCode = new ConcurrentHashMap<>();

    private final Counter connects = counter("squall.connects", "connections opened (WebSocket and SSE)");
    private final Counter messagesReceived = counter("squall.messages.received", "messages received from clients");
    private final Counter messagesSent = counter("squall.messages.sent", "messages queued to clients (each copy counts)");
    private final Counter bytesSent = counter("squall.bytes.sent", "payload bytes queued to clients");
    private final Counter publishes = counter("squall.publishes", "messages published through /receive");
    private final Counter slowConsumers = counter("squall.slow.consumers", "connections closed for exceeding their outbound queue (1008)");
    private final Counter droppedMessages = counter("squall.dropped.messages", "queued messages dropped to make room (--slow-consumer drop-oldest)");
    private final Counter deadPeers = counter("squall.dead.peers", "connections closed because nothing arrived after a ping");
    private final Counter stalledPeers = counter("squall.stalled.peers", "connections dropped because their socket took nothing of their queue for --write-timeout");
    private final Counter tooLarge = counter("squall.requests.too.large", "request bodies refused with 413 (larger than the limit)");
    private final Counter idempotencyRefused = counter("squall.idempotency.refused",
            "publishes with a new idempotency key refused because the node holds as many live keys as it keeps");
    private final Counter recovered = Counter.builder("squall.recoveries").description("reconnecting clients that asked for what they missed, by outcome")
            .tag("result", "recovered").register(registry);
    private final Counter notRecovered = Counter.builder("squall.recoveries").description("reconnecting clients that asked for what they missed, by outcome")
            .tag("result", "not_recovered").register(registry);
    private final java.util.Map<Limit, Counter> limited = new java.util.EnumMap<>(Limit.class);

    /** The limits no client can pass, as {@code squall_limited_total} labels them. */
    public enum Limit {
        /** {@code --max-messages-per-second}: a client closed with 3013. */
        MESSAGES_PER_SECOND,
        /** {@code --max-connections}: an upgrade or stream refused with 503. */
        CONNECTIONS,
        /** {@code --max-connections-per-ip}: refused with 429. */
        CONNECTIONS_PER_IP,
        /** {@code --max-connections-per-user}: refused with 429, or closed with 3504. */
        CONNECTIONS_PER_USER,
        /** {@code --handshake-timeout}: a connection cut before it finished a request's head. */
        HANDSHAKE_TIMEOUT,
        /** {@code --max-channels}: a subscribe to a new channel refused. */
        CHANNELS;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public Metrics() {
        // Every limit from the start, at 0: a dashboard can tell "never reached" from "not exported".
        for (Limit limit : Limit.values()) {
            limited.put(limit, Counter.builder("squall.limited")
                    .description("connections, messages, handshakes and subscribes stopped by a limit, by limit")
                    .tag("limit", limit.label()).register(registry));
        }
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** Registers the gauges whose values live elsewhere: they are read on scrape, never on the hot path. */
    public void watch(Supplier<Number> connections, Supplier<Number> queuedBytes, Supplier<Number> channels) {
        Gauge.builder("squall.connections", connections).description("open connections (WebSocket and SSE)").register(registry);
        Gauge.builder("squall.channels", channels).description("channels with subscribers on this node").register(registry);
        Gauge.builder("squall.queued.bytes", queuedBytes).description("bytes waiting in outbound queues").register(registry);
    }

    /** {@code squall_broker_connected}: 1 while the broker can publish and deliver, 0 while it has lost Redis (any of them). */
    public void watchBroker(java.util.function.BooleanSupplier connected) {
        Gauge.builder("squall.broker.connected", () -> connected.getAsBoolean() ? 1 : 0)
                .description("1 while the broker can publish and deliver (always in memory; with Redis, 0 while it is lost)")
                .register(registry);
    }

    /** {@code squall_idempotency_keys}: the live idempotency keys the in-memory broker holds; read on scrape. */
    public void watchIdempotencyKeys(Supplier<Number> keys) {
        Gauge.builder("squall.idempotency.keys", keys)
                .description("idempotency keys held within their window (in memory; with Redis they live in Redis)")
                .register(registry);
    }

    /**
     * What the connection limits count now: connections (being opened included), client addresses and users with at
     * least one; read on scrape. Each is 0 whenever no connection is open: nothing is held for one that has ended.
     */
    public void watchLimits(Supplier<Number> connections, Supplier<Number> addresses, Supplier<Number> users) {
        Gauge.builder("squall.limit.connections", connections)
                .description("connections counted against --max-connections (WebSocket and SSE, those being opened included)")
                .register(registry);
        Gauge.builder("squall.limit.addresses", addresses)
                .description("client addresses (IPv4, or IPv6 /64) with connections counted against --max-connections-per-ip")
                .register(registry);
        Gauge.builder("squall.limit.users", users)
                .description("users with connections counted against --max-connections-per-user (anonymous ones are none)")
                .register(registry);
    }

    /** The open SSE streams (each one is also a connection in {@code squall_connections}); read on scrape. */
    public void watchSseStreams(Supplier<Number> streams) {
        Gauge.builder("squall.sse.streams", streams).description("open Server-Sent Events streams (also counted in squall_connections)")
                .register(registry);
    }

    public void connected() { connects.increment(); }

    /** A client asked to recover from an offset: whether it got everything it missed, or nothing (never a part). */
    public void recovery(boolean wasRecovered) {
        (wasRecovered ? recovered : notRecovered).increment();
    }

    public void disconnected(int closeCode) {
        disconnectsByCode.computeIfAbsent(codeLabel(closeCode), code -> Counter.builder("squall.disconnects")
                .description("connections closed, by close code (an SSE stream: the code of the same cause, 1006 when the client went away)")
                .tag("code", code)
                .register(registry)).increment();
    }

    /**
     * The code itself for the protocol's own codes and Squall's (3013 too many requests, 3504 connection limit); one
     * label per range for the other codes from 3000 to 4999, which a client may pick freely, or a client could
     * create a time series per code it closes with.
     */
    private static String codeLabel(int closeCode) {
        if (closeCode >= 1000 && closeCode < 3000) return Integer.toString(closeCode);
        if (closeCode == Connection.TOO_MANY_REQUESTS || closeCode == Connection.CONNECTION_LIMIT) return Integer.toString(closeCode);
        if (closeCode >= 3000 && closeCode < 4000) return "3000-3999";
        if (closeCode >= 4000 && closeCode < 5000) return "4000-4999";
        return "other";
    }

    public void received() { messagesReceived.increment(); }

    public void sent(int copies, long bytesPerCopy) {
        sentTotal(copies, (long) copies * bytesPerCopy);
    }

    /** {@code messages} of different sizes, {@code bytes} in all (a replay). */
    public void sentTotal(int messages, long bytes) {
        messagesSent.increment(messages);
        bytesSent.increment((double) bytes);
    }

    public void published() { publishes.increment(); }

    public void slowConsumer() { slowConsumers.increment(); }

    public void dropped(int messages) { droppedMessages.increment(messages); }

    public void deadPeer() { deadPeers.increment(); }

    public void stalledPeer() { stalledPeers.increment(); }

    public void tooLarge() { tooLarge.increment(); }

    public void idempotencyRefused() { idempotencyRefused.increment(); }

    /** A limit stopped a connection, a message flood, a handshake or a subscribe. */
    public void limited(Limit limit) {
        java.util.Objects.requireNonNull(limited.get(limit), "every limit is registered").increment();
    }

    /** The counters {@link ActivityLog} summarises, read together. */
    public Totals totals() {
        long disconnects = 0;
        for (Counter counter : disconnectsByCode.values()) disconnects += (long) counter.count();
        return new Totals((long) connects.count(), disconnects, (long) slowConsumers.count(), (long) deadPeers.count(),
                (long) tooLarge.count());
    }

    /** Totals since start; {@link #minus} gives what happened in between two readings. */
    public record Totals(long connects, long disconnects, long slowConsumers, long deadPeers, long tooLarge) {
        public Totals minus(Totals earlier) {
            return new Totals(connects - earlier.connects, disconnects - earlier.disconnects,
                    slowConsumers - earlier.slowConsumers, deadPeers - earlier.deadPeers, tooLarge - earlier.tooLarge);
        }

        public boolean isZero() {
            return equals(new Totals(0, 0, 0, 0, 0));
        }
    }

    /** The Prometheus text exposition of every metric. */
    public String scrape() {
        return registry.scrape();
    }

    private Counter counter(String name, String description) {
        return Counter.builder(name).description(description).register(registry);
    }

    @Override
    public void close() {
        gcMetrics.close();
        registry.close();
    }
}
