package dev.squall;

import dev.squall.hub.Metrics;
import dev.squall.broker.Message;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.broker.Broker;
import dev.squall.broker.InMemoryBroker;
import dev.squall.hub.Connection;
import dev.squall.hub.Heartbeat;
import dev.squall.hub.Hub;
import dev.squall.hub.Notice;
import dev.squall.hub.OutboundLimits;
import io.javalin.Javalin;
import io.javalin.http.BadRequestResponse;
import io.javalin.config.SizeUnit;
import io.javalin.config.JettyConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import io.javalin.http.MethodNotAllowedResponse;
import io.javalin.http.staticfiles.Location;
import io.javalin.websocket.WsContext;
import io.javalin.websocket.WsHandlerType;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.session.NullSessionCache;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.session.NullSessionDataStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The composition root: builds one Squall node from its configuration and declares every route.
 * {@link Main} and the tests both go through here, so tests run the real server.
 *
 * <p>The path of a message: {@code /receive} -> {@link Broker} -> {@link Hub} -> each {@link Connection}'s
 * bounded queue -> its socket.
 */
public final class App {

    private static final Logger log = LoggerFactory.getLogger(App.class);
    private static final Message WELCOME = Message.text("Welcome");

    private final SquallConfig config;
    private final Metrics metrics = new Metrics();
    private final ScheduledExecutorService scheduler;
    private final List<ExecutorService> writers;
    private final Hub hub;
    private final Broker broker;
    private final Heartbeat heartbeat;
    private final OriginPolicyPlugin originPolicy;
    private final PublishPolicy publishPolicy;
    private final ObjectMapper json = new ObjectMapper();
    private final PublishDecoder decoder;
    private final List<String> endpoints = new CopyOnWriteArrayList<>();
    private final Drain drain;
    private final ActivityLog activity;
    private final Javalin javalin;
    private volatile ServerSocketChannel listening;
    private volatile boolean ready;

    /** A node with the embedded in-memory broker. */
    public App(SquallConfig config) {
        this(config, new InMemoryBroker());
    }

    /** A node that publishes through {@code broker}; the node closes it when it stops. */
    public App(SquallConfig config, Broker broker) {
        this.config = config;
        this.broker = broker;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "squall-heartbeat");
            thread.setDaemon(true);
            return thread;
        });
        this.writers = writers(Math.max(1, Runtime.getRuntime().availableProcessors()));
        this.hub = new Hub(new OutboundLimits(config.maxQueueBytes(), config.maxQueueMessages(), config.slowConsumerPolicy(), Duration.ofSeconds(1)),
                metrics, scheduler, List.copyOf(writers));
        this.heartbeat = new Heartbeat(hub, scheduler, config.pingInterval(), config.pingTimeout(), config.writeTimeout());
        this.originPolicy = new OriginPolicyPlugin(plugin -> {
            plugin.allowedOrigins = config.allowedOrigins();
            // Bound to loopback, the server is meant for this machine: any other Host is a rebinding page.
            plugin.checkHosts = config.boundToLoopback() || !config.allowedHosts().isEmpty();
            plugin.allowedHosts = config.allowedHosts();
        });
        this.decoder = new PublishDecoder(json, config.maxPublishBytes());
        this.publishPolicy = new PublishPolicy(config.publishToken(), new OriginPolicy(config.allowedOrigins()),
                new HostPolicy(config.allowedHosts()));
        this.drain = new Drain(config.drainWindow());
        this.activity = new ActivityLog(metrics, hub::size);
        broker.subscribe(hub::deliver);
        this.javalin = createJavalin();
    }

    private Javalin createJavalin() {
        return Javalin.create(javalinConfig -> {
            javalinConfig.startup.showJavalinBanner = false;
            javalinConfig.http.maxRequestSize = config.maxPublishBytes();
            javalinConfig.http.prefer405over404 = true;
            // Javalin's default spools every file part over 1 byte to disk, with no size limit.
            var multipart = decoder.multipartConfig();
            javalinConfig.jetty.multipartConfig.maxFileSize(multipart.getMaxFileSize(), SizeUnit.BYTES);
            javalinConfig.jetty.multipartConfig.maxTotalRequestSize(multipart.getMaxRequestSize(), SizeUnit.BYTES);
            javalinConfig.jetty.multipartConfig.maxInMemoryFileSize(multipart.getFileSizeThreshold(), SizeUnit.BYTES);
            javalinConfig.jetty.threadPool = httpThreads();
            javalinConfig.jetty.addConnector((server, http) -> connector(server, http, javalinConfig.jetty));
            javalinConfig.registerPlugin(originPolicy);
            addStaticFiles(javalinConfig.staticFiles);
            javalinConfig.jetty.modifyServer(server -> {
                server.setStopTimeout(config.stopTimeout().toMillis());
                server.setErrorHandler(new JsonErrorHandler(json));
            });
            // Javalin reads the HTTP session on every WebSocket upgrade, which creates one; Jetty's default cache
            // keeps sessions forever, so each connection would leave one behind. Nothing in Squall uses sessions.
            javalinConfig.jetty.modifyServletContextHandler(context -> {
                NullSessionCache noCache = new NullSessionCache(context.getSessionHandler());
                noCache.setSessionDataStore(new NullSessionDataStore());
                context.getSessionHandler().setSessionCache(noCache);
                // ...and would send its JSESSIONID cookie with every upgrade, refused ones too.
                context.getSessionHandler().setUsingCookies(false);
            });
            javalinConfig.jetty.modifyWebSocketServletFactory(factory -> {
                factory.setMaxTextMessageSize(config.maxMessageBytes());
                factory.setMaxBinaryMessageSize(config.maxMessageBytes());
                factory.setMaxFrameSize(config.maxMessageBytes());
                // permessage-deflate would compress every broadcast once per connection, undoing encode-once,
                // and holds a deflater per connection; push payloads are small. Node's ws is off by default too.
                factory.getAvailableExtensionNames().remove("permessage-deflate");
                // With a heartbeat the heartbeat decides who is dead; pings are writes, and writes reset this. Without
                // one nothing closes a quiet connection (a listener may hear nothing for hours); a peer that stops
                // reading is dropped by the heartbeat's write timeout instead, which runs with pings off too.
                factory.setIdleTimeout(config.heartbeatEnabled()
                        ? config.pingInterval().plus(config.pingTimeout()).plusSeconds(30)
                        : Duration.ZERO);
            });
            javalinConfig.events.serverStarted(this::started);
            // Javalin fires serverStopping on the stopping thread before it stops Jetty, so the connectors are
            // still open while it runs: the drain window goes here, and an embedding app's stop() gets it too.
            javalinConfig.events.serverStopping(this::stopping);
            javalinConfig.events.serverStopped(this::release);
            javalinConfig.events.serverStopFailed(this::release);
            javalinConfig.events.handlerAdded(handler -> {
                if (handler.getHttpMethod().isHttpMethod()) endpoints.add(handler.getHttpMethod().name() + " " + handler.getPath());
            });
            javalinConfig.events.wsHandlerAdded(handler -> {
                if (handler.getHandlerType() == WsHandlerType.WEBSOCKET) endpoints.add("WS " + handler.getPath());
            });

            var routes = javalinConfig.routes;
            routes.get("/index", ctx -> ctx.result("Hello world"));
            routes.get("/receive", ctx -> {
                publishPolicy.check(ctx);
                ctx.json(Map.of("delivered", publish(decoder.fromQuery(ctx))));
            });
            routes.post("/receive", ctx -> {
                publishPolicy.check(ctx);
                ctx.json(Map.of("delivered", publish(decoder.fromBody(ctx))));
            });
            routes.get("/ws", ctx -> {
                UpgradeRequest.refuseIncomplete(ctx);
                ctx.header("Upgrade", "websocket");
                throw new HttpResponseException(HttpStatus.UPGRADE_REQUIRED.getCode(), "/ws is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)", Map.of());
            });
            routes.wsBeforeUpgrade("/ws", UpgradeRequest::requireValid);
            routes.ws("/ws", ws -> {
                ws.onConnect(ctx -> hub.join(ctx, Hub.DEFAULT_CHANNEL, WELCOME)); // Tornado: open()
                ws.onMessage(ctx -> {                                  // Tornado: on_message(message)
                    metrics.received();
                    reply(ctx, Message.text("new message :" + ctx.message()));
                });
                ws.onBinaryMessage(ctx -> {
                    metrics.received();
                    reply(ctx, Message.binary(copy(ctx.data())));
                });
                ws.onClose(ctx -> hub.leave(ctx.sessionId(), ctx.status())); // Tornado: on_close()
                ws.onError(ctx -> log.debug("WebSocket error on {}: {}", ctx.sessionId(), String.valueOf(ctx.error())));
            });
            routes.wsAfter("/ws", ws -> {
                ws.onConnect(ctx -> {
                    if (log.isDebugEnabled()) log.debug("WebSocket {} opened from {}", ctx.sessionId(), ctx.session.getRemoteSocketAddress());
                });
                ws.onClose(ctx -> log.debug("WebSocket {} closed: {} {}", ctx.sessionId(), ctx.status(), ctx.reason()));
            });
            routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()));
            routes.get("/health", ctx -> ctx.json(Map.of("status", "up")));
            routes.get("/ready", ctx -> {
                if (!ready) throw new HttpResponseException(HttpStatus.SERVICE_UNAVAILABLE.getCode(), "not ready", Map.of());
                ctx.json(Map.of("status", "ready"));
            });

            routes.exception(Drain.ShuttingDown.class, (e, ctx) -> ctx.status(e.getStatus())
                    .header("Retry-After", Long.toString(e.retryAfterSeconds))
                    .json(Map.of("error", e.getMessage())));
            routes.exception(HttpResponseException.class, (e, ctx) -> {
                if (e instanceof MethodNotAllowedResponse notAllowed) e = AllowedMethods.answer(notAllowed, ctx);
                // Whichever of the decoder's checks refused it (declared length, bytes read, decoded size, multipart).
                // Counted, and logged at debug only: a WARN per refusal would let any client fill the log.
                if (e.getStatus() == HttpStatus.CONTENT_TOO_LARGE.getCode()) {
                    metrics.tooLarge();
                    log.debug("Refused a request body over {} bytes: {} {} from {}", config.maxPublishBytes(), ctx.method(),
                            ctx.path(), ctx.req().getRemoteAddr());
                }
                ctx.status(e.getStatus()).json(Map.of("error", e.getMessage()));
                if (isUpgradeRequest(ctx)) writeResultNow(ctx);
            });
            routes.exception(Exception.class, (e, ctx) -> {
                log.error("Unexpected error on {} {}", ctx.method(), ctx.path(), e);
                ctx.status(HttpStatus.INTERNAL_SERVER_ERROR).json(Map.of("error", "internal server error"));
            });
        });
    }

    /** Javalin sends a request down its WebSocket path, where nothing writes a handler's result, on this header. */
    private static boolean isUpgradeRequest(Context ctx) {
        return ctx.header("Sec-WebSocket-Version") != null;
    }

    /** A refused upgrade would otherwise reach the client as a status with an empty body. */
    private static void writeResultNow(Context ctx) {
        try (InputStream result = ctx.resultInputStream()) {
            if (result != null) result.transferTo(ctx.res().getOutputStream());
        } catch (IOException e) {
            log.debug("Could not write the refusal of a WebSocket upgrade: {}", e.toString());
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

    /**
     * Nothing on Squall's paths blocks for long (sends never wait for a socket), so a burst of handshakes
     * needs few threads; Javalin's default pool grows to 250, each with its own stack.
     */
    private static QueuedThreadPool httpThreads() {
        QueuedThreadPool pool = new QueuedThreadPool(64, 8, 60_000);
        pool.setName("squall-http");
        return pool;
    }

    /** Serves the browser client: {@code --public DIR}, else {@code ./public}, else the copy inside the jar. */
    private void addStaticFiles(io.javalin.config.StaticFilesConfig staticFiles) {
        Optional<Path> folder = clientFolder();
        if (folder.isPresent()) {
            staticFiles.add(folder.get().toAbsolutePath().toString(), Location.EXTERNAL);
        } else {
            staticFiles.add("/public", Location.CLASSPATH);
        }
    }

    /** The folder the browser client is served from, or empty for the copy packaged with the classes. */
    private Optional<Path> clientFolder() {
        Path local = config.publicDir().orElse(Path.of("public"));
        return Files.isDirectory(local) ? Optional.of(local) : Optional.empty();
    }

    /**
     * Which client is served, for the start-up line: a {@code public/} folder that happens to be in the working
     * directory is served silently otherwise, and it may be some other project's.
     */
    private String describeClient() {
        return clientFolder()
                .map(folder -> (config.publicDir().isPresent() ? "--public " + folder : "./public")
                        + " (" + folder.toAbsolutePath().normalize() + ")")
                .orElse("bundled in the jar");
    }

    /** Publishes to every plain {@code /ws} client, through the broker; returns how many it was queued to. */
    int publish(Message message) {
        if (drain.draining()) throw drain.refusal();
        if (Notice.isReserved(message)) {
            throw new BadRequestResponse("msg: a JSON object with a top-level \"" + Notice.KEY + "\" member is reserved "
                    + "for the server's own notices (such as dropped messages); rename that member");
        }
        metrics.published();
        int delivered = broker.publish(Hub.DEFAULT_CHANNEL, message);
        hub.helpWrite();
        return delivered;
    }

    /** Tornado: {@code self.write_message(...)} to the client that sent the message. */
    private void reply(WsContext ctx, Message message) {
        Connection connection = hub.find(ctx.sessionId());
        if (connection != null) connection.send(message);
    }

    private static byte[] copy(ByteBuffer data) {
        byte[] bytes = new byte[data.remaining()];
        data.duplicate().get(bytes);
        return bytes;
    }

    private void started() {
        heartbeat.start();
        scheduler.scheduleAtFixedRate(activity, ActivityLog.INTERVAL.toMillis(), ActivityLog.INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        ready = true;
        String shownHost = config.host().equals("0.0.0.0") ? "localhost" : config.host();
        log.info("Squall listening on http://{}:{} (WebSocket /ws); origins: {}; publishing: {}; heartbeat: {}; client: {}",
                shownHost, javalin.port(), originPolicy.describe(), publishPolicy.describe(),
                config.heartbeatEnabled()
                        ? "ping every " + config.pingInterval().toSeconds() + " s, timeout " + config.pingTimeout().toSeconds() + " s"
                        : "off",
                describeClient());
    }

    /**
     * The first steps of a stop, while Jetty still serves: not ready and no publishes for the drain window, so a
     * load balancer stops routing here; then the heartbeat, so it pings nobody; then every WebSocket gets 1001 and
     * its close handshake, within the stop timeout. Jetty's stop would do that too, but it first cuts the idle timeout
     * of every connection to a second, and a connection quiet for longer is then dropped without a close frame.
     */
    private void stopping() {
        ready = false;
        if (!drain.window().isZero()) {
            log.info("Stopping: /ready answers 503 and /receive refuses publishes for {} s, then connections close "
                    + "(signal again to stop now)", drain.window().toSeconds());
        }
        drain.await();
        heartbeat.close();
        try {
            int left = hub.closeAll(config.stopTimeout());                 // Tornado: close() on every handler
            if (left > 0) log.info("{} connections did not finish their close handshake within {} s; Jetty drops them",
                    left, config.stopTimeout().toSeconds());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** After Jetty has closed every connection: the pools, then the broker, then metrics. */
    private void release() {
        scheduler.shutdownNow();
        writers.forEach(ExecutorService::shutdownNow);
        broker.close();
        metrics.close();
    }

    /**
     * Starts serving on the configured host and port.
     *
     * @throws ListeningSocket.CannotListen when the host is not this machine's or the port is taken
     */
    public App start() {
        listening = ListeningSocket.bind(config.host(), config.port());
        try {
            javalin.start(config.host(), config.port());
        } catch (RuntimeException e) {
            closeQuietly(listening);                            // Jetty closes it only once it has it
            throw e;
        }
        return this;
    }

    /**
     * Javalin's default connector, on the socket {@link #start()} has already bound. Started through
     * {@code javalin()} instead (JavalinTest, an embedding app), it binds where Javalin was told, as Javalin's would.
     */
    private ServerConnector connector(Server server, HttpConfiguration http, JettyConfig jetty) {
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(jetty.host);
        connector.setPort(jetty.port);
        if (listening != null) {
            try {
                connector.open(listening);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return connector;
    }

    private static void closeQuietly(ServerSocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("Could not close the listening socket: {}", e.toString());
        }
    }

    /**
     * Stops: {@code /ready} and {@code /receive} answer 503 for the drain window, then open WebSockets are closed
     * with 1001 (going away) within the stop timeout. Blocks until stopped; a concurrent call waits for the first.
     */
    public synchronized void stop() {
        javalin.stop();
    }

    /** Cuts the drain window short (a second SIGTERM or Ctrl-C); {@link #stop()} then goes on at once. */
    void stopNow() {
        if (drain.cutShort()) log.info("Stopping now: the rest of the drain window is skipped");
    }

    /** The port actually bound (useful with port 0). */
    public int port() {
        return javalin.port();
    }

    /** The underlying Javalin instance, for {@code JavalinTest}. */
    public Javalin javalin() {
        return javalin;
    }

    /** Every endpoint registered, as {@code "GET /index"} or {@code "WS /ws"}: what openapi.yaml must describe. */
    List<String> endpoints() {
        return List.copyOf(endpoints);
    }

    Hub hub() {
        return hub;
    }

    Metrics metrics() {
        return metrics;
    }
}
