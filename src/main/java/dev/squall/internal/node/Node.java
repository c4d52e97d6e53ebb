package dev.squall.internal.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.ChannelSubscriber;
import dev.squall.Payload;
import dev.squall.Published;
import dev.squall.ServerSubscription;
import dev.squall.Squall;
import dev.squall.internal.auth.Access;
import dev.squall.internal.broker.Broker;
import dev.squall.internal.broker.History;
import dev.squall.internal.broker.InMemoryBroker;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.PublishOptions;
import dev.squall.internal.broker.PublishResult;
import dev.squall.internal.broker.TooManyIdempotencyKeys;
import dev.squall.internal.broker.redis.RedisBrokers;
import dev.squall.internal.channel.ChannelName;
import dev.squall.internal.hub.Connection;
import dev.squall.internal.hub.Framing;
import dev.squall.internal.hub.Heartbeat;
import dev.squall.internal.hub.Hub;
import dev.squall.internal.hub.Metrics;
import dev.squall.internal.hub.Notice;
import dev.squall.internal.hub.OutboundLimits;
import dev.squall.internal.hub.Recovery;
import dev.squall.internal.hub.Subscribed;
import dev.squall.internal.limit.ConnectionLimits;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * One Squall node: its hub, broker, heartbeat, writer threads and metrics, and the order they start and stop in.
 * The web layer ({@link Endpoints}) and server-side code ({@link Squall}) both publish through here.
 *
 * <p>The path of a message: publish -> {@link Broker} -> {@link Hub} -> each connection's bounded queue -> its
 * socket.
 */
public final class Node implements Squall {

    private static final Logger log = LoggerFactory.getLogger(Node.class);

    private final NodeSettings settings;
    private final Metrics metrics = new Metrics();
    private final ScheduledExecutorService scheduler;
    private final ExecutorService brokerChanges;
    private final List<ExecutorService> writers;
    private final @Nullable ExecutorService commandThreads;
    private final Access access;
    private final Hub hub;
    private final Broker broker;
    private final Heartbeat heartbeat;
    private final Drain drain;
    private final ActivityLog activity;
    private final ConnectionLimits connectionLimits;
    /** How a named channel's publications may be framed, by the protocols that can subscribe to one. */
    private final List<Framing> channelFramings;
    private final Function<Object, String> jsonWriter;
    private final ExecutorService subscriberThreads = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "squall-subscribers");
        thread.setDaemon(true);
        return thread;
    });
    private final java.util.concurrent.atomic.AtomicLong subscriberIds = new java.util.concurrent.atomic.AtomicLong();
    private static final ObjectMapper JSON = new ObjectMapper();
    private volatile boolean ready;
    private volatile boolean stopped;

    /**
     * @param channelFramings how the protocols that can subscribe to a named channel frame its publications (the
     *                        web layer's): a publish is refused when one of them would make it too large
     * @param jsonWriter      writes a value as JSON for {@link Payload#json} (the app's mapper); may throw
     */
    public Node(NodeSettings settings, List<Framing> channelFramings, Function<Object, String> jsonWriter) {
        this.settings = settings;
        this.jsonWriter = jsonWriter;
        // First: a bad key fails here, before any thread is started.
        this.access = settings.auth().access(settings.names()::name);
        this.channelFramings = Stream.concat(channelFramings.stream(), Stream.of(ServerFraming.INSTANCE)).toList();
        java.util.concurrent.ScheduledThreadPoolExecutor timer = new java.util.concurrent.ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "squall-heartbeat");
            thread.setDaemon(true);
            return thread;
        });
        // A token's expiry is cancelled when its connection goes first: gone from the queue then, not hours later.
        timer.setRemoveOnCancelPolicy(true);
        this.scheduler = timer;
        this.broker = broker(settings, scheduler);
        this.brokerChanges = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "squall-broker-changes");
            thread.setDaemon(true);
            return thread;
        });
        this.writers = writers(Math.max(1, Runtime.getRuntime().availableProcessors()));
        // A command may wait for Redis, for the app's hooks or for a JWKS endpoint: never on the thread that reads.
        this.commandThreads = broker.networked() || access.mayBlock() || settings.auth().tokens().jwksUrl() != null
                ? newCommandThreads() : null;
        this.hub = new Hub(new OutboundLimits(settings.maxQueueBytes(), settings.maxQueueMessages(), settings.slowConsumerPolicy(),
                Duration.ofSeconds(1)), metrics, scheduler, writers, broker, settings.maxRecovery(), settings::presence,
                brokerChanges, settings.maxChannels());
        this.heartbeat = new Heartbeat(hub, scheduler, settings.pingInterval(), settings.pingTimeout(), settings.writeTimeout());
        this.drain = new Drain(settings.drainWindow());
        this.activity = new ActivityLog(metrics, hub::size);
        metrics.watchBroker(broker::connected);
        this.connectionLimits = new ConnectionLimits(settings.maxConnections(), settings.maxConnectionsPerIp(), settings.maxConnectionsPerUser());
        metrics.watchLimits(connectionLimits::connections, connectionLimits::addresses, connectionLimits::users);
        if (broker instanceof InMemoryBroker inMemory) metrics.watchIdempotencyKeys(inMemory::idempotencyKeys);
    }

    /**
     * The in-memory broker without {@code redis}; with one Redis its broker, with several a broker that spreads the
     * channels over them. A Redis that cannot be reached does not stop the node (the broker says so and keeps
     * trying); a malformed URI names the setting. Only {@link RedisBrokers} names the classes that need Lettuce,
     * an optional dependency, so a node without Redis never loads them.
     */
    private static Broker broker(NodeSettings settings, ScheduledExecutorService scheduler) {
        List<String> redis = settings.redis();
        if (redis.isEmpty()) return new InMemoryBroker(scheduler, Duration.ofSeconds(1));
        try {
            return RedisBrokers.open(redis, scheduler, settings.names().name("redis"));
        } catch (IllegalArgumentException e) {
            scheduler.shutdownNow();
            throw e;
        }
    }

    /**
     * One fan-out writer per core: writing a broadcast to 1000 sockets is 1000 system calls, and on one thread a
     * single broadcast cannot use a second core. Publishers only queue (see {@link Hub}).
     */
    private static List<ExecutorService> writers(int count) {
        List<ExecutorService> writers = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String name = "squall-fanout-" + (i + 1);
            writers.add(Executors.newSingleThreadExecutor(runnable -> {
                Thread thread = new Thread(runnable, name);
                thread.setDaemon(true);
                return thread;
            }));
        }
        return List.copyOf(writers);
    }

    /** Threads that squall.v1 commands may wait on Redis in, as many as the broker lets wait at once. */
    private static ExecutorService newCommandThreads() {
        java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
        return Executors.newFixedThreadPool(COMMAND_THREADS, runnable -> {
            Thread thread = new Thread(runnable, "squall-commands-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    /** As many as the Redis broker lets wait for it at once ({@code RedisBroker.MAX_CALLERS}). */
    private static final int COMMAND_THREADS = 16;

    /**
     * Where {@code squall.v1} commands run: with Redis, the app's hooks or a JWKS endpoint, threads of their own, so a
     * command that waits never holds the Jetty thread that reads its connection (and its pongs); otherwise nothing
     * waits, and they run on the thread that read them.
     */
    public java.util.concurrent.Executor commandThreads() {
        return commandThreads != null ? commandThreads : Runnable::run;
    }

    /** Who may connect, subscribe, publish and read. */
    public Access access() {
        return access;
    }

    /** The node's timer thread: for deadlines such as a token's expiry, whose tasks only queue a close. */
    public ScheduledExecutorService timer() {
        return scheduler;
    }

    @Override
    public int broadcast(String text) {
        return broadcastChecked(Message.text(text));
    }

    @Override
    public int broadcast(byte[] data) {
        return broadcastChecked(Message.binary(data.clone()));
    }

    private int broadcastChecked(Message message) {
        check(message, "a broadcast");
        return deliver(message);
    }

    @Override
    public Published publish(String channel, String text) {
        return publishChecked(channel, Message.text(text));
    }

    @Override
    public Published publish(String channel, byte[] data) {
        return publishChecked(channel, Message.binary(data.clone()));
    }

    private Published publishChecked(String channel, Message message) {
        String problem = ChannelName.problem(channel);
        if (problem != null) throw new IllegalArgumentException(problem);
        check(message, "a publish");
        String framed = framedTooLarge(channel, message, "a publish");
        if (framed != null) throw new IllegalArgumentException(framed);
        return toChannel(channel, message, null);
    }

    @Override
    public Published publish(String channel, Payload payload) {
        String problem = ChannelName.problem(channel);
        if (problem != null) throw new IllegalArgumentException(problem);
        Message message = messageOf(payload);
        check(message, "a publish");
        String framed = framedTooLarge(channel, message, "a publish");
        if (framed != null) throw new IllegalArgumentException(framed);
        return toChannel(channel, message, payload.idempotencyKey().isEmpty() ? null : payload.idempotencyKey());
    }

    /** A payload as the message its clients get: text as it is, JSON written compact (the app's mapper first), bytes. */
    private Message messageOf(Payload payload) {
        return switch (payload.kind()) {
            case TEXT -> Message.text(payload.text());
            case BYTES -> Message.binary(payload.bytes());
            case JSON -> Message.json(compactJson(payload.isWritten() ? payload.text() : writeJson(payload.value())));
        };
    }

    private String writeJson(Object value) {
        try {
            return jsonWriter.apply(value);
        } catch (Exception e) {                            // Javalin's Kotlin mapper throws Jackson's checked ones
            throw new IllegalArgumentException("the app's JSON mapper could not write a " + value.getClass().getName()
                    + ": " + e.getMessage(), e);
        }
    }

    /** Exactly one JSON value, written compact (what SSE's one data: line and the v1 frames need). */
    private static String compactJson(String json) {
        try (com.fasterxml.jackson.core.JsonParser parser = JSON.createParser(json)) {
            com.fasterxml.jackson.databind.JsonNode tree = JSON.readTree(parser);
            if (tree == null || tree.isMissingNode()) throw new IllegalArgumentException("JSON text must hold a value, got none");
            if (parser.nextToken() != null) throw new IllegalArgumentException("JSON text must hold exactly one value, got more");
            return JSON.writeValueAsString(tree);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
    }

    @Override
    public CompletableFuture<Published> publishAsync(String channel, Payload payload) {
        if (commandThreads != null) {
            try {
                return CompletableFuture.supplyAsync(() -> publish(channel, payload), commandThreads);
            } catch (java.util.concurrent.RejectedExecutionException stopped) {
                return CompletableFuture.failedFuture(new IllegalStateException("Squall has stopped: nothing can be published any more"));
            }
        }
        try {
            return CompletableFuture.completedFuture(publish(channel, payload));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public ServerSubscription subscribe(String channel, ChannelSubscriber subscriber) {
        String problem = ChannelName.problem(channel);
        if (problem != null) throw new IllegalArgumentException(problem);
        if (stopped) throw new IllegalStateException("Squall has stopped: nothing can be subscribed to any more");
        ServerSubscriber wire = new ServerSubscriber("server-" + subscriberIds.incrementAndGet(), channel, subscriber, hub,
                subscriberThreads);
        Connection connection = hub.connect(wire, wire.id(), ServerFraming.INSTANCE);
        Subscribed started;
        try {
            started = hub.subscribeUnlimited(connection, channel, Recovery.FROM_NOW, from -> null);
        } catch (RuntimeException e) {
            hub.leave(wire.id(), 1011);
            throw e;
        }
        if (started == null) throw new IllegalStateException("the subscription ended as it started");
        wire.started(started.after(), started.position().epoch());
        hub.openedUncounted(connection);
        return wire;
    }

    /**
     * Why {@code message} may not be published to {@code channel} although it fits {@code maxPublishBytes}: one of
     * the channel's framings makes it larger than half a client's queue (a queue must hold two of the largest
     * frames, or a client that is a frame behind is closed as slow, and one that recovers it is closed again). Null
     * when it fits. Most messages are far too small for any framing to matter, and are not scanned.
     */
    public @Nullable String framedTooLarge(String channel, Message message, String what) {
        long half = settings.maxQueueBytes() / 2;
        if ((long) Framing.MAX_GROWTH * message.size() + Framing.MAX_OVERHEAD + channel.length() <= half) return null;
        for (Framing framing : channelFramings) {
            long framed = framing.frameBound(channel, message);
            if (framed > half) {
                return what + " of " + message.size() + " bytes would be up to " + framed + " bytes framed for "
                        + framing.clients() + ", more than half of " + settings.names().name("maxQueueBytes") + " ("
                        + settings.maxQueueBytes() + " bytes; a client's queue holds two of the largest frames): send "
                        + "less, or raise " + settings.names().name("maxQueueBytes");
            }
        }
        return null;
    }

    private void check(Message message, String what) {
        if (message.size() > settings.maxPublishBytes()) {
            throw new IllegalArgumentException(what + " of " + message.size() + " bytes is larger than "
                    + settings.names().name("maxPublishBytes") + " (" + settings.maxPublishBytes() + " bytes)");
        }
        if (Notice.isReserved(message)) throw new IllegalArgumentException(reservedRule(what));
    }

    private Published toChannel(String channel, Message message, @Nullable String idempotencyKey) {
        if (stopped) throw new IllegalStateException("Squall has stopped: nothing can be published any more");
        PublishResult result;
        try {
            result = broker.publish(channel, message, settings.publishOptions(channel, idempotencyKey));
        } catch (TooManyIdempotencyKeys e) {
            metrics.idempotencyRefused();
            throw e;
        }
        metrics.published();
        hub.helpWrite();
        return new Published(channel, result.position().offset(), result.position().epoch(), result.delivered(), result.duplicate());
    }

    /** Where channels live, in one line: in this process, or through which Redis (passwords shown as {@code ***}). */
    public String describeChannels() {
        return NodeSettings.describeChannels(settings.redis());
    }

    /** The channel's history after {@code since}, at most {@code limit}, and its position. */
    public History history(String channel, long since, int limit) {
        return broker.history(channel, since, limit);
    }

    /**
     * The channel's subscribers and distinct users over all nodes (on Redis: this node's, plus what the others shared
     * at most about a second ago; in memory: this node's).
     *
     * @throws dev.squall.internal.broker.Unavailable when Redis cannot be reached now
     */
    public dev.squall.internal.broker.Presence presence(String channel) {
        return broker.presence(channel);
    }

    /**
     * A publish from a client (HTTP, {@code squall.v1}) whose route has checked it (its name, size, framed size,
     * notice envelope, the drain) and answers each refusal in its own protocol; refused only if the node has stopped.
     */
    public Published publishAdmitted(String channel, Message message, @Nullable String idempotencyKey) {
        return toChannel(channel, message, idempotencyKey);
    }

    /** Whether publishes are refused because the node is stopping (the drain window, then the stop). */
    public boolean draining() {
        return drain.draining() || stopped;
    }

    /** A broadcast from a client (HTTP) whose route has checked it, as {@link #publishAdmitted} is. */
    public int broadcastAdmitted(Message message) {
        return deliver(message);
    }

    /** How long the drain window of a stop lasts: what a publish refused while draining is told to wait. */
    public java.time.Duration drainWindow() {
        return drain.window();
    }

    private int deliver(Message message) {
        if (stopped) throw new IllegalStateException("Squall has stopped: nothing can be broadcast any more");
        int delivered = broker.publish(Hub.DEFAULT_CHANNEL, message, PublishOptions.NO_HISTORY).delivered();
        metrics.published();
        hub.helpWrite();
        return delivered;
    }

    public static String reservedRule(String what) {
        return what + ": a JSON object with a top-level \"" + Notice.KEY + "\" member is reserved "
                + "for the server's own notices (such as dropped messages); rename that member";
    }

    /** This node's connections of {@code user} first (they leave at once), then the broker tells the other nodes. */
    @Override
    public int disconnect(String user) {
        java.util.Objects.requireNonNull(user, "user");
        if (user.isEmpty()) {
            throw new IllegalArgumentException("anonymous connections (user \"\") are not one user: name the user to disconnect");
        }
        if (user.length() > dev.squall.Identity.MAX_USER_LENGTH) {
            throw new IllegalArgumentException("a user id is at most " + dev.squall.Identity.MAX_USER_LENGTH
                    + " characters, got " + user.length() + ": no connection has such a user");
        }
        if (stopped) throw new IllegalStateException("Squall has stopped: it has no connection left to close");
        int closed = hub.disconnect(user);
        log.debug("Disconnected a user: {} connections closed on this node", closed);
        broker.disconnect(user);
        return closed;
    }

    @Override
    public int connectionCount() {
        return hub.openCount();
    }

    /** When the server has started: pings, the activity summary, and ready. */
    public void start() {
        heartbeat.start();
        scheduler.scheduleAtFixedRate(activity, ActivityLog.INTERVAL.toMillis(), ActivityLog.INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        ready = true;
    }

    /**
     * The first steps of a stop, while Jetty still serves: not ready and no publishes for the drain window, so a
     * load balancer stops routing here; then the heartbeat, so it pings nobody; then every WebSocket gets 1001 and
     * its close handshake, within the stop timeout. Jetty's stop would do that too, but it first cuts the idle timeout
     * of every connection to a second, and a connection quiet for longer is then dropped without a close frame.
     */
    public void stopping() {
        ready = false;
        if (!drain.window().isZero()) {
            log.info("Stopping: {} for {} s, then connections close{}", drainingRoutes(), drain.window().toSeconds(),
                    settings.names().howToSkipTheDrain());
        }
        drain.await();
        heartbeat.close();
        try {
            int left = hub.closeAll(settings.stopTimeout());                 // Tornado: close() on every handler
            if (left > 0) log.info("{} connections did not finish their close handshake within {} s; Jetty drops them",
                    left, settings.stopTimeout().toSeconds());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What answers 503 while draining, for the log: {@code /ready answers 503 and /receive refuses publishes}. */
    private String drainingRoutes() {
        String ready = settings.readyPath() != null ? settings.readyPath() + " answers 503" : null;
        String publish = settings.publishPath() != null ? settings.publishPath() + " refuses publishes" : null;
        if (ready != null && publish != null) return ready + " and " + publish;
        if (ready != null) return ready;
        if (publish != null) return publish;
        return "connections stay open";
    }

    /** After Jetty has closed every connection: the pools, then the broker, then metrics. */
    public void release() {
        stopped = true;
        scheduler.shutdownNow();
        brokerChanges.shutdownNow();
        if (commandThreads != null) commandThreads.shutdownNow();
        access.close();
        subscriberThreads.shutdownNow();
        writers.forEach(ExecutorService::shutdownNow);
        broker.close();
        metrics.close();
    }

    /** Cuts the drain window short; true if one was running. */
    public boolean stopNow() {
        return drain.cutShort();
    }

    /** Started, not draining, and the broker connected (a lost Redis takes the node out of a balancer's rotation). */
    public boolean ready() {
        return ready && broker.connected();
    }

    /** Whether the broker can publish and read streams now: false while Redis is lost. */
    public boolean brokerConnected() {
        return broker.connected();
    }

    /** Whether the Redis that holds {@code channel} can be reached now (with several, one down refuses only its own). */
    public boolean brokerConnected(String channel) {
        return broker.connected(channel);
    }

    public NodeSettings settings() {
        return settings;
    }

    public Hub hub() {
        return hub;
    }

    public Metrics metrics() {
        return metrics;
    }

    /** How many connections the node, each client address and each user hold, against their limits. */
    public ConnectionLimits connectionLimits() {
        return connectionLimits;
    }

    /** The node's timer thread, for short deadlines that must not outlive the node (it stops with it). */
    public ScheduledExecutorService scheduler() {
        return scheduler;
    }

}
