package dev.squall.server;

import dev.squall.SlowConsumerPolicy;
import dev.squall.SquallPlugin;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;

/** Command line -> {@link SquallConfig} -> {@link App} -> serve until SIGTERM/SIGINT, then stop in order and exit 0. */
@Command(name = "squall",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
                "Squall: a real-time push server.",
                "WebSocket /ws: the tutorial's clients, which get every broadcast. WebSocket /ws/CHANNEL: one channel, "
                        + "with recovery (?since=OFFSET&epoch=EPOCH). Any of them, offered the subprotocol squall.v1: JSON "
                        + "commands to subscribe to many channels, publish and ask for presence.",
                "GET /sse/CHANNEL: one channel as Server-Sent Events (EventSource), with recovery.",
                "GET /receive?msg=X, POST /receive: publish to every /ws client (?channel=C: to channel C). "
                        + "POST /publish: JSON {\"channel\": C, \"data\": ...} to a channel.",
                "GET /channels, /channels/CHANNEL, /channels/CHANNEL/history: channels, subscribers, users, history.",
                "POST /disconnect: JSON {\"user\": U} closes every connection of user U (close code 3503).",
                "GET /metrics, /health, /ready, /index. GET / and /squall.js: the browser client.",
                "Publishing, disconnecting users and reading channels need --publish-token, or come from this machine.",
                "Tokens (JWTs with Centrifugo's claims: sub, exp, info, channels, channel): with --token-hmac-secret, "
                        + "--token-public-key or --token-jwks-url, every route needs a valid token: each connection "
                        + "(/ws included) a connection token that covers its channels, sent as Authorization: Bearer, "
                        + "?token=, the --token-cookie or a squall.v1 connect command; channel reads one that covers "
                        + "the channel, or --publish-token, which publishing still needs.",
                ""},
        footer = {"", "SIGTERM or Ctrl-C stops in order (see --drain-seconds; the signal again skips the rest of the drain).",
                "Exit codes: 0 after such a stop; 2 for a bad flag or setting, a --port in use or a --host that is not "
                        + "this machine's; 1 when the server fails for any other reason."})
public final class Main implements Callable<Integer> {

    /** Options that fall back to an environment variable when the flag is absent. */
    private static final Map<String, String> ENVIRONMENT_DEFAULTS = Map.of(
            "--port", "PORT",
            "--publish-token", "SQUALL_PUBLISH_TOKEN",
            "--token-hmac-secret", "SQUALL_TOKEN_HMAC_SECRET");

    /** Environment variables whose value must not be echoed in an error. */
    private static final Set<String> SECRETS = Set.of("SQUALL_PUBLISH_TOKEN", "SQUALL_TOKEN_HMAC_SECRET");

    /** Flags whose value must not be echoed in an error, wherever it came from. */
    private static final Set<String> SECRET_FLAGS = Set.of("--publish-token", "--token-hmac-secret");

    /** Every numeric option's accepted values, checked here so the message can name the flag or the variable. */
    private static final Map<String, FlagRange> RANGES = Map.ofEntries(
            Map.entry("--port", FlagRange.of(0, 65535)),
            Map.entry("--ping-interval", FlagRange.seconds(0, 86_400)),
            Map.entry("--ping-timeout", FlagRange.seconds(1, 86_400)),
            Map.entry("--max-message-bytes", FlagRange.bytes(1, Integer.MAX_VALUE)),
            Map.entry("--max-queue-bytes", FlagRange.bytes(1024, Long.MAX_VALUE)),
            Map.entry("--max-queue-messages", FlagRange.of(1, Integer.MAX_VALUE)),
            Map.entry("--write-timeout", FlagRange.seconds(0, 86_400)),
            Map.entry("--max-publish-bytes", FlagRange.bytes(1, Long.MAX_VALUE)),
            Map.entry("--drain-seconds", FlagRange.seconds(0, SquallConfig.MAX_DRAIN.toSeconds())),
            Map.entry("--history-size", FlagRange.of(0, SquallPlugin.Config.MAX_HISTORY)),
            Map.entry("--history-ttl", FlagRange.seconds(1, 86_400 * 7)),
            Map.entry("--max-recovery", FlagRange.of(0, SquallPlugin.Config.MAX_HISTORY)),
            Map.entry("--max-channels-per-connection", FlagRange.of(1, SquallPlugin.Config.MAX_CHANNELS_PER_CONNECTION)),
            Map.entry("--proxy-timeout", FlagRange.seconds(1, 60)),
            Map.entry("--connect-timeout", FlagRange.seconds(1, 3600)),
            Map.entry("--max-messages-per-second", FlagRange.of(0, Integer.MAX_VALUE)),
            Map.entry("--max-connections", FlagRange.of(0, Integer.MAX_VALUE)),
            Map.entry("--max-connections-per-ip", FlagRange.of(0, Integer.MAX_VALUE)),
            Map.entry("--max-connections-per-user", FlagRange.of(0, Integer.MAX_VALUE)),
            Map.entry("--handshake-timeout", FlagRange.seconds(0, SquallConfig.MAX_HANDSHAKE_TIMEOUT.toSeconds())),
            Map.entry("--max-channels", FlagRange.of(0, Integer.MAX_VALUE)));

    // picocli assigns @Spec, and every @Option that has a defaultValue, before call(): reflection NullAway cannot
    // follow, hence NullAway.Init on those fields. An @Option without a default stays null when absent: @Nullable.
    @SuppressWarnings("NullAway.Init")
    @Spec
    CommandSpec spec;

    /** Where the environment defaults came from, to name a variable whose value is wrong. */
    private Map<String, String> env = Map.of();

    /** The {@code --config} file's settings, read before parsing so that they can serve as defaults. */
    private ConfigFile configFile = ConfigFile.NONE;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8000",
            description = "TCP port to listen on, 0-65535 (env PORT; default: ${DEFAULT-VALUE}).")
    int port;

    @SuppressWarnings("NullAway.Init")
    @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "0.0.0.0",
            description = "Address to bind (default: ${DEFAULT-VALUE}, every interface).")
    String host;

    @SuppressWarnings("NullAway.Init")
    @Option(names = "--allowed-origins", paramLabel = "ORIGINS", split = ",", defaultValue = "",
            description = "Browser origins, besides the server's own, that may open the WebSockets and event streams "
                    + "and call the HTTP routes: "
                    + "comma-separated scheme://host[:port] values, or '*' for any (default: same origin only).")
    List<String> allowedOrigins;

    @SuppressWarnings("NullAway.Init")
    @Option(names = "--allowed-hosts", paramLabel = "HOSTS", split = ",", defaultValue = "",
            description = "Host names, besides localhost and loopback addresses, that clients may use to reach this server "
                    + "(the Host header; any port): comma-separated. Publishing and reading channels without --publish-token "
                    + "need a loopback name or one of these; "
                    + "when given, or when --host is a loopback address, every request needs one (default: loopback names only).")
    List<String> allowedHosts;

    @Option(names = "--ping-interval", paramLabel = "SECONDS", defaultValue = "25",
            description = "Seconds between server pings to each connection; 0 turns pings and dead-peer detection off (default: ${DEFAULT-VALUE}).")
    long pingInterval;

    @Option(names = "--ping-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "Seconds after a ping within which something must arrive, or the connection is dropped (default: ${DEFAULT-VALUE}).")
    long pingTimeout;

    @Option(names = "--max-message-bytes", paramLabel = "BYTES", defaultValue = "65536",
            description = "Largest message a client may send; a larger one closes that connection with 1009 (default: ${DEFAULT-VALUE}).")
    int maxMessageBytes;

    @Option(names = "--max-queue-bytes", paramLabel = "BYTES", defaultValue = "1048576",
            description = "Bytes one connection may have waiting to be sent; past it, see --slow-consumer (default: ${DEFAULT-VALUE}).")
    long maxQueueBytes;

    @Option(names = "--max-publish-bytes", paramLabel = "BYTES",
            description = "Largest message one publish may carry, and largest POST /receive body; larger is 413. "
                    + "At most half of --max-queue-bytes (default: a quarter of it, 262144 with the default queue).")
    @Nullable Long maxPublishBytes;

    @Option(names = "--max-queue-messages", paramLabel = "COUNT", defaultValue = "1000",
            description = "Messages one connection may have waiting to be sent; past it, see --slow-consumer (default: ${DEFAULT-VALUE}).")
    int maxQueueMessages;

    @SuppressWarnings("NullAway.Init")
    @Option(names = "--slow-consumer", paramLabel = "POLICY", defaultValue = "close",
            description = "What happens to a connection whose queue is full: 'close' closes it with 1008 'slow consumer'; "
                    + "'drop-oldest' keeps it and drops its oldest queued messages, then sends the notice "
                    + "{\"squall\":\"dropped\",\"count\":N} just before the next message it gets. A top-level \"squall\" member "
                    + "is reserved for such notices: /receive refuses it with 400 (default: ${DEFAULT-VALUE}).")
    String slowConsumer;

    @Option(names = "--write-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "Seconds a connection may have messages waiting while its socket takes none of them; then it is "
                    + "dropped, as a peer that stopped reading. Works with pings off too; 0 turns it off (default: ${DEFAULT-VALUE}).")
    long writeTimeout;

    @Option(names = "--publish-token", paramLabel = "TOKEN",
            description = "Require 'Authorization: Bearer TOKEN' (16 characters or more) from every client that publishes "
                    + "(GET and POST /receive, POST /publish, a squall.v1 publish), disconnects users (POST /disconnect) "
                    + "or reads channels (GET /channels, /channels/CHANNEL, /channels/CHANNEL/history, a squall.v1 presence "
                    + "outside namespaces with presence on); a squall.v1 client sends it with its upgrade request (env SQUALL_PUBLISH_TOKEN). "
                    + "Without it only this machine may do either: a loopback peer, no proxy header, a loopback or "
                    + "--allowed-hosts Host, and no cross-site browser request.")
    @Nullable String publishToken;

    @Option(names = "--public", paramLabel = "DIR",
            description = "Folder with the browser client (default: ./public if present, else the copy in the jar).")
    @Nullable Path publicDir;

    @Option(names = "--drain-seconds", paramLabel = "SECONDS", defaultValue = "3",
            description = "On SIGTERM or Ctrl-C, seconds during which /ready answers 503 and publishes are refused "
                    + "(/receive and /publish with 503) while connections "
                    + "stay open, so a load balancer stops routing here; then every WebSocket is closed with 1001. "
                    + "0-3600; the signal again stops at once (default: ${DEFAULT-VALUE}).")
    long drainSeconds;

    @Option(names = "--config", paramLabel = "FILE",
            description = "A YAML file with any of these settings under their names without '--' (port: 8000, "
                    + "allowed-origins: [https://a.example]) and per-namespace settings (namespaces: {chat: {history-size: 500, "
                    + "history-ttl: 600, presence: true}}). Flags and environment variables override it; an unknown key is an error.")
    @Nullable Path config;

    @Option(names = "--history-size", paramLabel = "COUNT", defaultValue = "100",
            description = "Publications each channel keeps, so a client that reconnects to /ws/CHANNEL?since=OFFSET gets what "
                    + "it missed; 0 turns history off (default: ${DEFAULT-VALUE}).")
    int historySize;

    @Option(names = "--history-ttl", paramLabel = "SECONDS", defaultValue = "300",
            description = "Seconds each publication stays in its channel's history (default: ${DEFAULT-VALUE}).")
    long historyTtl;

    @Option(names = "--max-recovery", paramLabel = "COUNT", defaultValue = "300",
            description = "The most publications one reconnecting client is replayed; one further behind is told "
                    + "recovered: false and resynchronises (default: ${DEFAULT-VALUE}).")
    int maxRecovery;

    @Option(names = "--max-channels-per-connection", paramLabel = "COUNT", defaultValue = "128",
            description = "The most channels one squall.v1 connection may be subscribed to at once; one more subscribe "
                    + "is refused with too_many_channels (default: ${DEFAULT-VALUE}).")
    int maxChannelsPerConnection;

    @Option(names = "--max-channels", paramLabel = "COUNT", defaultValue = "100000",
            description = "The most channels with subscribers this server holds at once (the /ws broadcast aside); a "
                    + "subscribe that would add one more is refused (squall.v1: channel_limit; /ws/CHANNEL: 503; "
                    + "/sse/CHANNEL: the stream ends and the EventSource retries), while channels that exist keep taking "
                    + "subscribers. A channel frees its place when its last subscriber leaves. 0: no limit (default: ${DEFAULT-VALUE}).")
    int maxChannels;

    @Option(names = "--max-messages-per-second", paramLabel = "COUNT", defaultValue = "200",
            description = "Messages one WebSocket client may send per second (plain or squall.v1, text or binary), in "
                    + "bursts of as many; a client over it is closed with 3013 'too many requests' (it may reconnect). "
                    + "Leave room for a squall.v1 client that subscribes to all its channels at once. 0: no limit "
                    + "(default: ${DEFAULT-VALUE}).")
    int maxMessagesPerSecond;

    @Option(names = "--max-connections", paramLabel = "COUNT", defaultValue = "10000",
            description = "WebSockets and event streams this server holds at once; one more is refused before its "
                    + "handshake with 503 and Retry-After. 0: no limit (default: ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--max-connections-per-ip", paramLabel = "COUNT", defaultValue = "0",
            description = "WebSockets and event streams one client address (an IPv4 address or an IPv6 /64) may hold at "
                    + "once; one more is refused before its handshake with 429 and Retry-After. Loopback counts like "
                    + "any address, and behind a proxy every client has the proxy's address. 0: no limit "
                    + "(default: ${DEFAULT-VALUE}).")
    int maxConnectionsPerIp;

    @Option(names = "--max-connections-per-user", paramLabel = "COUNT", defaultValue = "100",
            description = "WebSockets and event streams one user (a token's sub) may hold at once; anonymous connections "
                    + "never count. One more is refused with 429 before its handshake, or closed with 3504 "
                    + "'connection limit' when the user is only known after it. 0: no limit (default: ${DEFAULT-VALUE}).")
    int maxConnectionsPerUser;

    @Option(names = "--handshake-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "Seconds a client has, from opening its TCP connection, to send the whole head of its first "
                    + "request (a WebSocket upgrade, an event stream, any request), and on a kept-alive connection to "
                    + "finish a later head it has started; a slower one is disconnected. 0: off (default: ${DEFAULT-VALUE}).")
    long handshakeTimeout;

    @Option(names = "--redis", paramLabel = "URI[,URI...]",
            description = "Share channels with every other node on this Redis (redis://host:port): publishes on any node "
                    + "reach subscribers on all of them, in one order, history and recovery work across nodes, and "
                    + "subscriber counts and join/leave events cover every node. "
                    + "Several, comma-separated, spread the channels over them (each channel on one; every node lists "
                    + "the same ones, in any order). "
                    + "If a Redis cannot be reached (at start or later) the server keeps running and retries with "
                    + "backoff; /ready, and publishes to its channels, answer 503 until it is back. "
                    + "Without it channels live in this process.")
    @Nullable String redis;

    @Option(names = "--token-hmac-secret", paramLabel = "SECRET",
            description = "Check tokens signed HS256 with this secret, at least 32 bytes (HS384 and HS512 too from 48 "
                    + "and 64 bytes; try: openssl rand -hex 32). Never shown, not even in errors (env SQUALL_TOKEN_HMAC_SECRET). "
                    + "May go with --token-public-key or --token-jwks-url. With any token key, every route needs a valid "
                    + "token (see Tokens above).")
    @Nullable String tokenHmacSecret;

    @Option(names = "--token-public-key", paramLabel = "FILE",
            description = "Check tokens signed with the RSA or EC key in this PEM file (a PUBLIC KEY, or a CERTIFICATE "
                    + "that holds one): RS256/384/512 and PS256/384/512 for RSA (2048 bits or more), ES256, ES384 or "
                    + "ES512 by the EC key's curve. Read at start; a file that is not such a key stops the start.")
    @Nullable Path tokenPublicKey;

    @Option(names = "--token-jwks-url", paramLabel = "URL",
            description = "Check tokens signed with the RSA and EC keys of this JWKS endpoint (an identity provider's "
                    + "jwks_uri, https://...): fetched when a token first needs it, cached for 5 minutes, fetched again "
                    + "for an unknown kid at most twice per 10 seconds. While it cannot be fetched and no copy is "
                    + "cached, tokens are refused as unavailable (try again), not as bad. Not with --token-public-key.")
    @Nullable String tokenJwksUrl;

    @Option(names = "--token-audience", paramLabel = "AUDIENCE",
            description = "A token's aud claim must contain this (default: any audience). Needs a token key.")
    @Nullable String tokenAudience;

    @Option(names = "--token-issuer", paramLabel = "ISSUER",
            description = "A token's iss claim must equal this (default: any issuer). Needs a token key.")
    @Nullable String tokenIssuer;

    @Option(names = "--token-cookie", paramLabel = "NAME",
            description = "Take a connection token from this cookie too, for browsers' EventSource and WebSocket, which "
                    + "cannot send an Authorization header; the origin check still applies, so no other site can use "
                    + "it (default: none).")
    @Nullable String tokenCookie;

    @Option(names = "--connect-proxy", paramLabel = "URL",
            description = "POST each connection that brings no token to this endpoint of your app, which answers who the "
                    + "client is (Centrifugo's connect proxy: the request's cookies and --proxy-headers in, {\"result\": "
                    + "{\"user\", \"info\"}} or {\"error\": ...} out; openapi.yaml, callback connectProxy). Like a token "
                    + "key, it makes every route need an identity. A refusal is 401; an app that is down, slow or answers "
                    + "nonsense refuses too (403).")
    @Nullable String connectProxy;

    @Option(names = "--subscribe-proxy", paramLabel = "URL",
            description = "POST each subscribe (and read) that a channel's rules leave to the app to this endpoint, which "
                    + "allows ({\"result\": {}}) or refuses (openapi.yaml, callback subscribeProxy). Needs a token key or "
                    + "--connect-proxy, which say who the user is.")
    @Nullable String subscribeProxy;

    @SuppressWarnings("NullAway.Init")
    @Option(names = "--proxy-headers", paramLabel = "HEADERS", split = ",", defaultValue = "",
            description = "Request headers the connect proxy is sent besides cookies, comma-separated, such as "
                    + "Authorization,X-Api-Key (default: none).")
    List<String> proxyHeaders;

    @Option(names = "--proxy-timeout", paramLabel = "SECONDS", defaultValue = "5",
            description = "How long a proxy may take to answer before the request is refused (default: ${DEFAULT-VALUE}).")
    long proxyTimeout;

    @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "How long a squall.v1 connection that brought no token has to send its connect command before "
                    + "it is closed with 3502 (default: ${DEFAULT-VALUE}).")
    long connectTimeout;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Parses, validates and runs; returns the process exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return run(args, System.getenv(), out, err);
    }

    /** As {@link #run(String[], PrintWriter, PrintWriter)}, with this environment (tests pass their own). */
    public static int run(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err) {
        Main main = new Main();
        CommandLine commandLine = commandLine(main, env, out, err);
        try {
            readConfigFile(main, commandLine, args);
        } catch (IllegalArgumentException e) {
            err.println("squall: " + e.getMessage());
            return CommandLine.ExitCode.USAGE;
        }
        return commandLine.execute(args);
    }

    /** Reads the {@code --config} file named in {@code args}, if any, so that its settings become the defaults. */
    static void readConfigFile(Main main, CommandLine commandLine, String[] args) {
        Path file = configPath(args);
        if (file == null) return;
        main.configFile = ConfigFile.read(file, commandLine.getCommandSpec().optionsMap().keySet().stream()
                .filter(name -> name.startsWith("--")).collect(java.util.stream.Collectors.toSet()));
    }

    /** The {@code --config} argument, found before picocli parses (its settings are the parse's defaults). */
    private static @Nullable Path configPath(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) return Path.of(args[i + 1]);
            if (args[i].startsWith("--config=")) return Path.of(args[i].substring("--config=".length()));
        }
        return null;
    }

    /** The parser for {@code main}, reading environment defaults from {@code env} (tests pass their own). */
    public static CommandLine commandLine(Main main, Map<String, String> env, PrintWriter out, PrintWriter err) {
        main.env = env;
        CommandLine commandLine = new CommandLine(main);
        commandLine.setOut(out);
        commandLine.setErr(err);
        // picocli's ${env:...} reads System.getenv directly; a provider lets the environment be passed in.
        // Flag, else environment variable, else the --config file, else the option's own default.
        commandLine.setDefaultValueProvider(arg -> {
            if (!(arg instanceof CommandLine.Model.OptionSpec option)) return null;
            String variable = ENVIRONMENT_DEFAULTS.get(option.longestName());
            if (variable != null && env.containsKey(variable)) return env.get(variable);
            return main.configFile.values.get(option.longestName());
        });
        commandLine.setParameterExceptionHandler((exception, arguments) -> {
            err.println("squall: " + describe(exception, arguments, env, main.configFile));
            return CommandLine.ExitCode.USAGE;
        });
        return commandLine;
    }

    @Override
    public Integer call() throws InterruptedException {
        SquallConfig config;
        try {
            config = toConfig();
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("squall: " + e.getMessage());
            return CommandLine.ExitCode.USAGE;
        }
        App app;
        try {
            app = new App(config);
        } catch (IllegalArgumentException e) {
            // A namespace of the config file, checked where the plugin checks every namespace; a setting named by
            // its flag, by where its value came from.
            String reason = messageOf(e);
            String message = reason.startsWith("namespaces.") ? configFile.path + ": " + reason : naming(reason);
            spec.commandLine().getErr().println("squall: " + message);
            return CommandLine.ExitCode.USAGE;
        }
        // Before the start: the start-up line is printed while starting, and a SIGTERM right after it (a supervisor, a
        // test) must find the orderly stop in place, not the JVM's default (exit 143 with no drain).
        StopSignals signals = StopSignals.install(app::stopNow);
        try {
            app.start();
        } catch (ListeningSocket.CannotListen e) {
            spec.commandLine().getErr().println("squall: " + e.getMessage());
            return CommandLine.ExitCode.USAGE;
        } catch (RuntimeException e) {
            spec.commandLine().getErr().println("squall: cannot start on " + config.host() + ":" + config.port() + ": " + rootMessage(e));
            return 1;
        }
        // For every other way out (SIGHUP, System.exit elsewhere): stop in order too, with the JVM's exit code.
        Runtime.getRuntime().addShutdownHook(new Thread(app::stop, "squall-shutdown"));
        signals.await();
        app.stop();
        return 0;
    }

    /** picocli's {@code 'abc' is not an int} says what is wrong, not what is allowed: say that instead. */
    private static String describe(CommandLine.ParameterException exception, String[] arguments, Map<String, String> env,
                                   ConfigFile file) {
        if (exception.getCause() instanceof CommandLine.TypeConversionException
                && exception.getArgSpec() instanceof CommandLine.Model.OptionSpec option) {
            String flag = option.longestName();
            FlagRange range = RANGES.get(flag);
            if (range != null) {
                String variable = ENVIRONMENT_DEFAULTS.get(flag);
                boolean onCommandLine = givenOnCommandLine(flag, arguments);
                boolean fromEnvironment = variable != null && !onCommandLine && env.containsKey(variable);
                String source = fromEnvironment ? variable : onCommandLine ? null : file.nameOf(flag);
                return problem(flag, source, exception.getValue(), "must be " + range.describe());
            }
        }
        return exception.getMessage() + " (see --help)";
    }

    private static boolean givenOnCommandLine(String flag, String[] arguments) {
        for (String argument : arguments) {
            if (argument.equals(flag) || argument.startsWith(flag + "=")) return true;
        }
        return false;
    }

    /**
     * {@code --port must be ..., got 'abc'}; when the value came from the environment {@code PORT=abc: must be ...};
     * from the config file {@code squall.yaml: port must be ..., got 'abc'}. Secrets are never echoed.
     */
    private static String problem(String flag, @Nullable String source, String value, String rule) {
        boolean secret = SECRET_FLAGS.contains(flag);
        if (source == null) return flag + " " + rule + (secret ? "" : ", got '" + value + "'");
        if (source.contains(": ")) return source + " " + rule + (secret ? "" : ", got '" + value + "'");
        return (SECRETS.contains(source) ? source : source + "=" + value) + ": " + rule;
    }

    public SquallConfig toConfig() {
        checkRanges();
        try {
            return buildConfig();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(naming(messageOf(e)), e);
        }
    }

    private void checkRanges() {
        RANGES.forEach((flag, range) -> {
            Number given = spec.findOption(flag).getValue();
            if (given == null) return;                           // an option whose default is computed later
            long value = given.longValue();
            if (!range.contains(value)) {
                throw new IllegalArgumentException(problem(flag, sourceOf(flag), Long.toString(value),
                        "must be " + range.describe()));
            }
        });
    }

    /**
     * SquallConfig's messages name flags; a value that came from the environment is named by its variable, one
     * from the config file by its key there.
     */
    private String naming(String message) {
        // "--port must be ..." and, for the lists' entries, "--allowed-origins: 'x' is not an origin; ...".
        java.util.regex.Matcher leading = java.util.regex.Pattern.compile("^(--[a-z-]+)(:? )(.*)$", java.util.regex.Pattern.DOTALL).matcher(message);
        if (!leading.matches()) return message;
        String flag = leading.group(1);
        String source = spec.findOption(flag) == null ? null : sourceOf(flag);
        if (source == null) return message;
        if (source.contains(": ")) return source + leading.group(2) + leading.group(3);   // the rule already says what it got
        return problem(flag, source, String.valueOf((Object) spec.findOption(flag).getValue()), leading.group(3));
    }

    /** Where an option's value came from when not from the command line: its variable, or its config-file key. */
    private @Nullable String sourceOf(String flag) {
        String variable = variableThatSet(flag);
        if (variable != null) return variable;
        if (spec.commandLine().getParseResult().hasMatchedOption(flag)) return null;
        return configFile.nameOf(flag);
    }

    /** The environment variable the option's value came from, or null when the flag was given (or defaulted). */
    private @Nullable String variableThatSet(String flag) {
        String variable = ENVIRONMENT_DEFAULTS.get(flag);
        if (variable == null || spec.commandLine().getParseResult().hasMatchedOption(flag)) return null;
        return env.containsKey(variable) ? variable : null;
    }

    private SquallConfig buildConfig() {
        return SquallConfig.builder()
                .host(host)
                .port(port)
                .allowedOrigins(allowedOrigins)
                .pingInterval(Duration.ofSeconds(pingInterval))
                .pingTimeout(Duration.ofSeconds(pingTimeout))
                .maxMessageBytes(maxMessageBytes)
                .maxQueueBytes(maxQueueBytes)
                .maxQueueMessages(maxQueueMessages)
                .slowConsumerPolicy(SlowConsumerPolicy.fromFlag(slowConsumer))
                .writeTimeout(Duration.ofSeconds(writeTimeout))
                .publishToken(publishToken)
                .publicDir(publicDir)
                .allowedHosts(allowedHosts)
                .maxPublishBytes(maxPublishBytes)
                .drainWindow(Duration.ofSeconds(drainSeconds))
                .historySize(historySize)
                .historyTtl(Duration.ofSeconds(historyTtl))
                .maxRecovery(maxRecovery)
                .namespaces(configFile.namespaces)
                .maxChannelsPerConnection(maxChannelsPerConnection)
                .redis(redis)
                .tokenHmacSecret(tokenHmacSecret)
                .tokenPublicKey(tokenPublicKey)
                .tokenJwksUrl(tokenJwksUrl)
                .tokenAudience(tokenAudience)
                .tokenIssuer(tokenIssuer)
                .tokenCookie(tokenCookie)
                .connectProxy(connectProxy)
                .subscribeProxy(subscribeProxy)
                .proxyHeaders(proxyHeaders.stream().map(String::trim).filter(h -> !h.isEmpty()).toList())
                .proxyTimeout(Duration.ofSeconds(proxyTimeout))
                .connectTimeout(Duration.ofSeconds(connectTimeout))
                .maxMessagesPerSecond(maxMessagesPerSecond)
                .maxConnections(maxConnections)
                .maxConnectionsPerIp(maxConnectionsPerIp)
                .maxConnectionsPerUser(maxConnectionsPerUser)
                .handshakeTimeout(Duration.ofSeconds(handshakeTimeout))
                .maxChannels(maxChannels)
                .build();
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) root = root.getCause();
        return messageOf(root);
    }

    /** An exception's message, or its class's name when it has none. */
    private static String messageOf(Throwable e) {
        String message = e.getMessage();
        return message != null ? message : e.getClass().getSimpleName();
    }

    /** Reads the version Maven wrote into the jar. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws Exception {
            Properties properties = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
                if (in != null) properties.load(in);
            }
            return new String[]{"squall " + properties.getProperty("version", "unknown")};
        }
    }
}
