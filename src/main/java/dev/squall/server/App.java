package dev.squall.server;

import dev.squall.OriginPolicyPlugin;
import dev.squall.Squall;
import dev.squall.SquallPlugin;
import io.javalin.Javalin;
import io.javalin.config.JettyConfig;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import io.javalin.http.MethodNotAllowedResponse;
import io.javalin.http.staticfiles.Location;
import io.javalin.websocket.WsHandlerType;
import jakarta.servlet.DispatcherType;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.session.NullSessionCache;
import org.eclipse.jetty.session.NullSessionDataStore;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The standalone server: the tutorial's routes, declared with lambdas, on a Javalin app that Squall's plugin
 * serves. {@link Main} and the tests both go through here, so tests run the real server. Everything push
 * (the hub, fan-out, heartbeat, limits, publish policy, probes) comes from {@link SquallPlugin}; this class only
 * chooses the settings, the paths, and what a whole server has besides (static files, error pages, the socket).
 */
public final class App {

    private static final Logger log = LoggerFactory.getLogger(App.class);

    private final SquallConfig config;
    private final SquallPlugin squall;
    private final OriginPolicyPlugin originPolicy;
    private final List<String> endpoints = new CopyOnWriteArrayList<>();
    private final Javalin javalin;
    private volatile @Nullable ServerSocketChannel listening;

    public App(SquallConfig config) {
        this.config = config;
        this.squall = new SquallPlugin(cfg -> {
            cfg.pingInterval = config.pingInterval();
            cfg.pingTimeout = config.pingTimeout();
            cfg.writeTimeout = config.writeTimeout();
            cfg.maxMessageBytes = config.maxMessageBytes();
            cfg.maxQueueBytes = config.maxQueueBytes();
            cfg.maxQueueMessages = config.maxQueueMessages();
            cfg.maxPublishBytes = config.maxPublishBytes();
            cfg.slowConsumerPolicy = config.slowConsumerPolicy();
            cfg.allowedOrigins = config.allowedOrigins();
            cfg.allowedHosts = config.allowedHosts();
            // Bound to loopback, the server is meant for this machine: any other Host is a rebinding page.
            cfg.checkHosts = config.boundToLoopback();
            cfg.publishToken = config.publishToken().orElse(null);
            cfg.drainWindow = config.drainWindow();
            cfg.stopTimeout = config.stopTimeout();
            cfg.publishPath = "/receive";                                      // GET /receive?msg=X, and POST
            cfg.metricsPath = "/metrics";
            cfg.healthPath = "/health";
            cfg.readyPath = "/ready";
            cfg.publishApiPath = "/publish";                                   // POST {"channel", "data"}
            cfg.channelsPath = "/channels";                                    // GET /channels/{c}/history
            cfg.disconnectPath = "/disconnect";                                // POST {"user"}: logouts and bans
            cfg.ssePath = "/sse/{channel}";                                    // EventSource, with recovery
            cfg.historySize = config.historySize();
            cfg.historyTtl = config.historyTtl();
            cfg.maxRecovery = config.maxRecovery();
            cfg.maxChannelsPerConnection = config.maxChannelsPerConnection();
            cfg.redis = config.redis().orElse(null);
            cfg.tokenHmacSecret = config.tokenHmacSecret().orElse(null);
            cfg.tokenPublicKey = config.tokenPublicKey().orElse(null);
            cfg.tokenJwksUrl = config.tokenJwksUrl().orElse(null);
            cfg.tokenAudience = config.tokenAudience().orElse(null);
            cfg.tokenIssuer = config.tokenIssuer().orElse(null);
            cfg.tokenCookie = config.tokenCookie().orElse(null);
            cfg.connectProxy = config.connectProxy().orElse(null);
            cfg.subscribeProxy = config.subscribeProxy().orElse(null);
            cfg.proxyHeaders = config.proxyHeaders();
            cfg.hookTimeout = config.proxyTimeout();
            cfg.connectTimeout = config.connectTimeout();
            cfg.maxMessagesPerSecond = config.maxMessagesPerSecond();
            cfg.maxConnections = config.maxConnections();
            cfg.maxConnectionsPerIp = config.maxConnectionsPerIp();
            cfg.maxConnectionsPerUser = config.maxConnectionsPerUser();
            cfg.handshakeTimeout = config.handshakeTimeout();
            cfg.maxChannels = config.maxChannels();
            config.namespaces().forEach((name, settings) -> cfg.namespace(name, namespace -> {
                namespace.historySize = settings.historySize();
                namespace.historyTtl = settings.historyTtl();
                namespace.presence = settings.presence();
                namespace.subscribe = settings.subscribe();
                namespace.publish = settings.publish();
                namespace.read = settings.read();
            }));
            cfg.ws("/ws", ws -> {
                ws.onOpen(client -> client.send("Welcome"));                                   // Tornado: open()
                ws.onMessage((client, message) -> client.send("new message :" + message));  // Tornado: on_message()
                ws.onBinaryMessage((client, data) -> client.send(data));
            });
            cfg.ws("/ws/{channel}", ws -> {                                    // one channel, with recovery
                ws.channelFrom("channel");
                ws.onMessage((client, message) -> client.send("new message :" + message));
                ws.onBinaryMessage((client, data) -> client.send(data));
            });
        }, Flags.NAMES);
        this.originPolicy = new OriginPolicyPlugin(plugin -> {
            plugin.allowedOrigins = config.allowedOrigins();
            plugin.checkHosts = config.boundToLoopback();
            plugin.allowedHosts = config.allowedHosts();
        }, Flags.NAMES);
        this.javalin = createJavalin();
    }

    private Javalin createJavalin() {
        return Javalin.create(javalinConfig -> {
            javalinConfig.startup.showJavalinBanner = false;
            javalinConfig.http.maxRequestSize = config.maxPublishBytes();
            javalinConfig.http.prefer405over404 = true;
            // Javalin's default spools every file part over 1 byte to disk, with no size limit.
            long maxBody = config.maxPublishBytes();
            javalinConfig.jetty.multipartConfig.maxFileSize(maxBody, SizeUnit.BYTES);
            javalinConfig.jetty.multipartConfig.maxTotalRequestSize(maxBody, SizeUnit.BYTES);
            javalinConfig.jetty.multipartConfig.maxInMemoryFileSize((int) Math.min(Integer.MAX_VALUE, maxBody), SizeUnit.BYTES);
            javalinConfig.jetty.threadPool = httpThreads();
            javalinConfig.jetty.addConnector((server, http) -> connector(server, http, javalinConfig.jetty));
            javalinConfig.registerPlugin(originPolicy);
            javalinConfig.registerPlugin(squall);
            addStaticFiles(javalinConfig.staticFiles);
            javalinConfig.jetty.modifyServer(server -> {
                server.setStopTimeout(config.stopTimeout().toMillis());
                server.setErrorHandler(new JsonErrorHandler(new com.fasterxml.jackson.databind.ObjectMapper()));
            });
            // Javalin reads the HTTP session on every WebSocket upgrade, which creates one; Jetty's default cache
            // keeps sessions forever, so each connection would leave one behind. Nothing in this server uses sessions.
            javalinConfig.jetty.modifyServletContextHandler(context -> {
                NullSessionCache noCache = new NullSessionCache(context.getSessionHandler());
                noCache.setSessionDataStore(new NullSessionDataStore());
                context.getSessionHandler().setSessionCache(noCache);
                // ...and would send its JSESSIONID cookie with every upgrade, refused ones too.
                context.getSessionHandler().setUsingCookies(false);
                // Upgrades get an empty session that costs nothing instead (a fifth of a handshake's CPU went to sessions).
                context.addFilter(new FilterHolder(new SessionlessUpgrades()), "/*", EnumSet.of(DispatcherType.REQUEST));
            });
            // The whole server is Squall's, so this may be global: permessage-deflate would compress every broadcast
            // once per connection, undoing encode-once, and holds a deflater per connection; push payloads are
            // small. Node's ws is off by default too. (The plugin itself leaves an embedding app's choice alone.)
            javalinConfig.jetty.modifyWebSocketServletFactory(factory -> factory.getAvailableExtensionNames().remove("permessage-deflate"));
            javalinConfig.events.serverStarted(this::started);
            javalinConfig.events.handlerAdded(handler -> {
                if (handler.getHttpMethod().isHttpMethod()) endpoints.add(handler.getHttpMethod().name() + " " + handler.getPath());
            });
            javalinConfig.events.wsHandlerAdded(handler -> {
                if (handler.getHandlerType() == WsHandlerType.WEBSOCKET) endpoints.add("WS " + handler.getPath());
            });

            javalinConfig.routes.get("/index", ctx -> ctx.result("Hello world"));

            javalinConfig.routes.exception(HttpResponseException.class, (e, ctx) -> {
                if (e instanceof MethodNotAllowedResponse notAllowed) e = AllowedMethods.answer(notAllowed, ctx);
                ctx.status(e.getStatus()).json(Map.of("error", e.getMessage()));
                if (ctx.header("Sec-WebSocket-Version") != null) writeResultNow(ctx);
            });
            javalinConfig.routes.exception(Exception.class, (e, ctx) -> {
                if (clientWentAway(e)) {
                    // A client that closes or resets its socket mid-request (an upgrade left before its 101) is no
                    // error of the server's, and any client can do it at will: a debug line, not an ERROR with a trace.
                    log.debug("{} {}: the client went away ({})", ctx.method(), ctx.path(), e.toString());
                    return;
                }
                log.error("Unexpected error on {} {}", ctx.method(), ctx.path(), e);
                ctx.status(HttpStatus.INTERNAL_SERVER_ERROR).json(Map.of("error", "internal server error"));
            });
        });
    }

    /** Whether Jetty failed a request because its client's connection ended (closed or reset) under it. */
    private static boolean clientWentAway(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof org.eclipse.jetty.io.EofException) return true;
        }
        return false;
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
            staticFiles.add(folder.get().toString(), Location.EXTERNAL);
        } else {
            staticFiles.add("/public", Location.CLASSPATH);
        }
    }

    /**
     * The folder the browser client is served from, as its real path, or empty for the copy packaged with the classes.
     * Jetty serves nothing from a base folder whose path is not its real one ({@code ./public}, {@code a/../public},
     * a symbolic link: "Base Resource should not be an alias"), so each of those would be a 404 for every file.
     */
    private Optional<Path> clientFolder() {
        Path local = config.publicDir().orElse(Path.of("public"));
        if (!Files.isDirectory(local)) return Optional.empty();
        try {
            return Optional.of(local.toRealPath());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the folder " + local, e);
        }
    }

    /**
     * Which client is served, for the start-up line: a {@code public/} folder that happens to be in the working
     * directory is served silently otherwise, and it may be some other project's.
     */
    private String describeClient() {
        return clientFolder()
                .map(folder -> (config.publicDir().map(dir -> "--public " + dir).orElse("./public")) + " (" + folder + ")")
                .orElse("bundled in the jar");
    }

    private void started() {
        String shownHost = config.host().equals("0.0.0.0") ? "localhost" : config.host();
        log.info("Squall listening on http://{}:{} (WebSocket /ws, channels /ws/CHANNEL); channels: {}; connecting: {}; origins: {}; publishing: {}; heartbeat: {}; client: {}",
                shownHost, javalin.port(),
                squall.describeChannels(), squall.describeConnecting(),
                originPolicy.describe(), squall.describePublishing(),
                config.heartbeatEnabled()
                        ? "ping every " + config.pingInterval().toSeconds() + " s, timeout " + config.pingTimeout().toSeconds() + " s"
                        : "off",
                describeClient());
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
    private static final long SHUTDOWN_IDLE_TIMEOUT_MS = 100;

    private ServerConnector connector(Server server, HttpConfiguration http, JettyConfig jetty) {
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(jetty.host);
        connector.setPort(jetty.port);
        // On stop Jetty gives every connection this idle timeout and waits for it: an idle keep-alive connection
        // (a publisher's, a browser's) would hold each stop for Jetty's default of a second. Squall has closed its
        // WebSockets by then, and a request still running is not idle, so a short one loses nothing.
        connector.setShutdownIdleTimeout(SHUTDOWN_IDLE_TIMEOUT_MS);
        connector.setAcceptQueueSize(ListeningSocket.ACCEPT_BACKLOG);   // bound by Jetty (javalin()): the same backlog
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
    public void stopNow() {
        if (squall.stopNow()) log.info("Stopping now: the rest of the drain window is skipped");
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
    public List<String> endpoints() {
        return List.copyOf(endpoints);
    }

    /**
     * A refused upgrade (a route of the server's own, such as a WebSocket path it does not have) would otherwise
     * reach the client as a status with an empty body: Javalin writes no result on its WebSocket path.
     */
    private static void writeResultNow(io.javalin.http.Context ctx) {
        try (java.io.InputStream result = ctx.resultInputStream()) {
            if (result != null) result.transferTo(ctx.res().getOutputStream());
        } catch (IOException e) {
            log.debug("Could not write the refusal of a WebSocket upgrade: {}", e.toString());
        }
    }

    /** The plugin this server is built on. */
    public SquallPlugin plugin() {
        return squall;
    }
}
