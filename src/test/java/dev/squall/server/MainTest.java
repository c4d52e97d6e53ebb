package dev.squall.server;

import dev.squall.SlowConsumerPolicy;
import dev.squall.support.ServerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The command line: help, version, and bad values refused with exit code 2 and one line naming the flag, a
 * --host or --port that cannot be listened on included. Every case here fails or finishes before a server
 * would start; only the port-in-use cases hold a port, to be refused it.
 */
class MainTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    /** Parses like {@code main} does, with {@code env} as the environment, and returns the resulting config. */
    private SquallConfig parse(Map<String, String> env, String... args) {
        Main main = new Main();
        Main.commandLine(main, env, new PrintWriter(out, true), new PrintWriter(err, true)).parseArgs(args);
        return main.toConfig();
    }

    /** Runs the whole command line with {@code env} as the environment; only for cases that fail before start. */
    private int runWith(Map<String, String> env, String... args) {
        return Main.commandLine(new Main(), env, new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    }

    private List<String> errLines() {
        return err.toString().lines().toList();
    }

    @Test
    void help_lists_every_flag_and_exits_0() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("--port", "--host", "--allowed-origins", "--ping-interval",
                "--ping-timeout", "--max-message-bytes", "--max-queue-bytes", "--max-queue-messages",
                "--slow-consumer", "--write-timeout", "--publish-token", "--public", "--drain-seconds", "--help", "--version");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void help_names_every_route_and_what_the_token_guards() {
        assertThat(run("--help")).isZero();
        String help = out.toString().replaceAll("\\s+", " ");
        assertThat(help).contains("/ws/CHANNEL", "/sse/CHANNEL", "squall.v1", "POST /publish", "GET /channels",
                "/channels/CHANNEL/history", "/metrics", "/health", "/ready", "/squall.js");
        int described = help.indexOf("--publish-token=TOKEN Require");
        String token = help.substring(described, help.indexOf("--public=DIR", described));
        assertThat(token).as("what --publish-token guards").contains("/receive", "/publish", "/channels", "squall.v1 publish", "presence");
    }

    @Test
    void the_readmes_flag_table_lists_exactly_the_flags_of_help() throws Exception {
        assertThat(run("--help")).isZero();
        java.util.Set<String> inHelp = new java.util.TreeSet<>();
        java.util.regex.Matcher flag = java.util.regex.Pattern.compile("(?m)^\\s+(?:-\\w, )?(--[a-z-]+)").matcher(out.toString());
        while (flag.find()) inHelp.add(flag.group(1));
        java.util.Set<String> inTable = new java.util.TreeSet<>();
        java.util.regex.Matcher row = java.util.regex.Pattern.compile("(?m)^\\| `(--[a-z-]+)[ `]").matcher(
                java.nio.file.Files.readString(Path.of("README.md")));
        while (row.find()) inTable.add(row.group(1));
        java.util.regex.Matcher more = java.util.regex.Pattern.compile("(?m)^\\| `--[a-z-]+`, `(--[a-z-]+)`").matcher(
                java.nio.file.Files.readString(Path.of("README.md")));
        while (more.find()) inTable.add(more.group(1));
        assertThat(inTable).isEqualTo(inHelp);
    }

    @Test
    void version_prints_squall_and_the_version() {
        assertThat(run("--version")).isZero();
        assertThat(out.toString().strip()).isEqualTo("squall 0.1.0");
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "--port, abc",
            "--port, 70000",
            "--port, -1",
            "--ping-interval, -1",
            "--ping-timeout, 0",
            "--write-timeout, -1",
            "--max-message-bytes, 0",
            "--max-queue-bytes, 10",
            "--allowed-origins, example.com",
            "--allowed-origins, http://x/path",
            "--publish-token, short",
            "--slow-consumer, bogus",
            "--slow-consumer, DROP_OLDEST",
            "--drain-seconds, -1",
            "--drain-seconds, 3601",
            "--redis, http://127.0.0.1:6379",
            "--redis, redis://",
            "--redis, redis://127.0.0.1:99999",
            "--redis, 127.0.0.1:6379",
            "--token-hmac-secret, short",
            "--token-public-key, pom.xml",
            "--token-public-key, missing.pem",
            "--token-jwks-url, ftp://auth.example/jwks.json",
            "--token-audience, squall",
            "--token-issuer, https://auth.example",
            "--token-cookie, squall token",
            "--token-cookie, squall_token",
            "--connect-proxy, ftp://app.example/connect",
            "--connect-proxy, not a url",
            "--subscribe-proxy, http://127.0.0.1:1/subscribe",
            "--proxy-headers, bad header",
            "--proxy-timeout, 0",
            "--proxy-timeout, 61",
            "--connect-timeout, 0",
    })
    void a_bad_value_exits_2_with_one_line_naming_the_flag(String flag, String value) {
        assertThat(run(flag, value)).isEqualTo(2);
        assertThat(errLines()).singleElement().asString().contains(flag);
        assertThat(out.toString()).isEmpty();
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "--port               | abc         | --port must be a whole number from 0 to 65535, got 'abc'",
            "--port               | 70000       | --port must be a whole number from 0 to 65535, got '70000'",
            "--port               | 99999999999 | --port must be a whole number from 0 to 65535, got '99999999999'",
            "--ping-interval      | 1.5         | --ping-interval must be a whole number of seconds from 0 to 86400, got '1.5'",
            "--ping-interval      | 86401       | --ping-interval must be a whole number of seconds from 0 to 86400, got '86401'",
            "--ping-timeout       | 0           | --ping-timeout must be a whole number of seconds from 1 to 86400, got '0'",
            "--max-message-bytes  | 64k         | --max-message-bytes must be a whole number of bytes from 1 to 2147483647, got '64k'",
            "--max-queue-bytes    | 10          | --max-queue-bytes must be a whole number of bytes from 1024 up, got '10'",
            "--max-queue-messages | many        | --max-queue-messages must be a whole number from 1 to 2147483647, got 'many'",
            "--drain-seconds      | soon        | --drain-seconds must be a whole number of seconds from 0 to 3600, got 'soon'",
            "--drain-seconds      | 3601        | --drain-seconds must be a whole number of seconds from 0 to 3600, got '3601'",
            "--redis              | ftp://x     | --redis must be a redis:// or rediss:// URI (such as redis://127.0.0.1:6379), got 'ftp://x'",
            "--redis              | redis://h/x | --redis may only name a database number after the port (such as redis://127.0.0.1:6379), got 'redis://h/x'",
            "--redis              | redis://a:6379,,redis://b:6379 | --redis has an empty entry 2 of 3 in 'redis://a:6379,,redis://b:6379'; separate the URIs with single commas",
            "--redis              | redis://a:6379,  | --redis has an empty entry 2 of 2 in 'redis://a:6379,'; separate the URIs with single commas",
            "--redis              | redis://:hunter2@a:6379,, | --redis has an empty entry 2 of 3; separate the URIs with single commas; a comma in a password is written %2C",
            "--redis              | 'redis://:hun,ter2@a:6379,redis://b' | --redis (entry 1 of 3) must name a host (such as redis://127.0.0.1:6379); a comma in a password is written %2C",
            "--redis              | redis://a:6379,redis://b:6379,rediss://:pw@A | --redis names the same Redis (a:6379/0) twice, as entries 1 and 3; list each Redis once",
            "--redis              | redis://a:6379,ftp://x | --redis 'ftp://x' (entry 2 of 2) must be a redis:// or rediss:// URI (such as redis://127.0.0.1:6379)",
            "--redis              | redis://a:6379, redis://b:99999 | --redis 'redis://b:99999' (entry 2 of 2) must have a port from 1 to 65535 (such as redis://127.0.0.1:6379)",
            "--redis              | redis://:hunter2@h/x | --redis may only name a database number after the port (such as redis://127.0.0.1:6379), got 'redis://:***@h/x'",
            "--max-messages-per-second  | -1    | --max-messages-per-second must be a whole number from 0 to 2147483647, got '-1'",
            "--max-messages-per-second  | 1.5   | --max-messages-per-second must be a whole number from 0 to 2147483647, got '1.5'",
            "--max-connections          | -1    | --max-connections must be a whole number from 0 to 2147483647, got '-1'",
            "--max-connections-per-ip   | lots  | --max-connections-per-ip must be a whole number from 0 to 2147483647, got 'lots'",
            "--max-connections-per-user | -5    | --max-connections-per-user must be a whole number from 0 to 2147483647, got '-5'",
            "--handshake-timeout        | 3601  | --handshake-timeout must be a whole number of seconds from 0 to 3600, got '3601'",
            "--handshake-timeout        | -1    | --handshake-timeout must be a whole number of seconds from 0 to 3600, got '-1'",
            "--max-channels             | -1    | --max-channels must be a whole number from 0 to 2147483647, got '-1'",
    })
    void a_bad_number_says_what_the_flag_accepts(String flag, String value, String message) {
        assertThat(run(flag, value)).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + message);
    }

    /** A generated password often holds '/' (base64): left unencoded, it ends the URI's authority early. */
    @ParameterizedTest(name = "--redis {0}")
    @CsvSource({"redis://:s3/cr3t@h:6379", "'redis://a:6379,redis://:s3/cr3t@h:6379'", "redis://:s3@cr3t@h:6379"})
    void a_bad_redis_uri_is_refused_without_showing_a_password_that_holds_a_slash_or_an_at(String value) {
        assertThat(run("--redis", value)).isEqualTo(2);
        assertThat(errLines()).singleElement().asString().startsWith("squall: --redis ").doesNotContain("s3", "cr3t");
    }

    @ParameterizedTest(name = "PORT={0}")
    @CsvSource({"abc", "70000", "-1"})
    void a_bad_PORT_names_the_variable_and_what_it_accepts(String value) {
        assertThat(runWith(Map.of("PORT", value))).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: PORT=" + value + ": must be a whole number from 0 to 65535");
    }

    @Test
    void a_short_SQUALL_PUBLISH_TOKEN_names_the_variable_without_echoing_it() {
        assertThat(runWith(Map.of("SQUALL_PUBLISH_TOKEN", "short-secret"))).as(err::toString).isEqualTo(2);
        assertThat(errLines()).singleElement().asString()
                .startsWith("squall: SQUALL_PUBLISH_TOKEN: must be at least 16 characters")
                .doesNotContain("short-secret");
    }

    @Test
    void a_short_token_secret_names_its_flag_or_variable_without_echoing_it() {
        assertThat(run("--token-hmac-secret", "short-secret")).isEqualTo(2);
        assertThat(errLines()).singleElement().asString()
                .isEqualTo("squall: --token-hmac-secret must be at least 32 bytes, got 12 (try: openssl rand -hex 32)");
        err.getBuffer().setLength(0);
        assertThat(runWith(Map.of("SQUALL_TOKEN_HMAC_SECRET", "short-secret"))).as(err::toString).isEqualTo(2);
        assertThat(errLines()).singleElement().asString()
                .isEqualTo("squall: SQUALL_TOKEN_HMAC_SECRET: must be at least 32 bytes, got 12 (try: openssl rand -hex 32)");
    }

    @Test
    void a_key_file_that_is_no_pem_public_key_stops_the_start_naming_the_flag_and_the_file(@TempDir Path dir) throws Exception {
        Path privateKey = java.nio.file.Files.writeString(dir.resolve("private.pem"),
                "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHh0aGlzIGlzIG5vdCBhIHJlYWwga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n");
        assertThat(run("--token-public-key", privateKey.toString())).isEqualTo(2);
        assertThat(errLines()).singleElement().asString()
                .startsWith("squall: --token-public-key " + privateKey + " holds a private key: give Squall only the public key")
                .doesNotContain("MC4CAQAw");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void the_token_secret_is_never_shown_by_help_wherever_it_comes_from(@TempDir Path dir) throws Exception {
        String secret = "a-secret-of-more-than-32-bytes-0123456789";
        Path file = java.nio.file.Files.writeString(dir.resolve("squall.yaml"), "token-hmac-secret: " + secret + "\n");
        assertThat(Main.run(new String[]{"--config", file.toString(), "--help"}, Map.of("SQUALL_TOKEN_HMAC_SECRET", secret),
                new PrintWriter(out, true), new PrintWriter(err, true))).isZero();
        assertThat(runWith(Map.of("SQUALL_TOKEN_HMAC_SECRET", secret), "--token-hmac-secret", secret, "--help")).isZero();
        assertThat(out.toString()).contains("--token-hmac-secret=SECRET", "SQUALL_TOKEN_HMAC_SECRET").doesNotContain(secret);
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void token_settings_reach_the_config_and_the_secret_comes_from_SQUALL_TOKEN_HMAC_SECRET_unless_the_flag_wins() {
        String secret = "0123456789abcdef0123456789abcdef";
        SquallConfig config = parse(Map.of("SQUALL_TOKEN_HMAC_SECRET", secret), "--token-public-key", "key.pem",
                "--token-audience", "squall", "--token-issuer", "https://auth.example", "--token-cookie", "squall_token");
        assertThat(config.tokenHmacSecret()).contains(secret);
        assertThat(config.tokenPublicKey()).contains(Path.of("key.pem"));
        assertThat(config.tokenJwksUrl()).isEmpty();
        assertThat(config.tokenAudience()).contains("squall");
        assertThat(config.tokenIssuer()).contains("https://auth.example");
        assertThat(config.tokenCookie()).contains("squall_token");
        assertThat(config.toString()).doesNotContain(secret).contains("tokenHmacSecret=***", "tokenAudience=Optional[squall]");
        assertThat(parse(Map.of("SQUALL_TOKEN_HMAC_SECRET", secret), "--token-hmac-secret", secret + "!").tokenHmacSecret())
                .contains(secret + "!");
        assertThat(parse(Map.of(), "--token-jwks-url", "https://auth.example/jwks").tokenJwksUrl()).contains("https://auth.example/jwks");
        assertThat(parse(Map.of()).tokenHmacSecret()).isEmpty();
    }

    @Test
    void the_flag_is_named_when_it_overrides_a_good_or_bad_variable() {
        assertThat(runWith(Map.of("PORT", "abc"), "--port", "x1")).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: --port must be a whole number from 0 to 65535, got 'x1'");
    }

    @Test
    void an_unknown_flag_exits_2_with_one_line_naming_it() {
        assertThat(run("--bogus")).isEqualTo(2);
        assertThat(errLines()).singleElement().asString().contains("--bogus");
    }

    @Test
    void a_missing_public_folder_exits_2_with_one_line_naming_the_flag() {
        assertThat(run("--public", "/definitely/not/here")).isEqualTo(2);
        assertThat(errLines()).singleElement().asString().contains("--public", "/definitely/not/here");
    }

    @Test
    void a_max_message_that_cannot_fit_the_queue_exits_2_and_says_how_to_fix_it() {
        assertThat(run("--max-message-bytes", "2000", "--max-queue-bytes", "2000")).isEqualTo(2);
        assertThat(errLines()).singleElement().asString()
                .contains("--max-message-bytes", "--max-queue-bytes", "raise");
    }

    @Test
    void a_port_in_use_exits_2_with_one_line_saying_what_to_do() throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            String port = Integer.toString(taken.getLocalPort());
            assertThat(run("--port", port)).isEqualTo(2);
            assertThat(errLines()).singleElement().asString().isEqualTo(
                    "squall: --port " + port + " is already in use on 0.0.0.0: stop the other server or pick another --port");
        }
    }

    @ParameterizedTest(name = "--host {0}")
    @CsvSource({"999.1.1.1", "192.0.2.1"})                          // not an address at all; TEST-NET-1, nobody's
    void a_host_that_is_not_this_machine_exits_2_with_one_line(String host) {
        assertThat(run("--host", host, "--port", "0")).isEqualTo(2);
        assertThat(errLines()).singleElement().asString().isEqualTo(
                "squall: --host " + host + " is not an address of this machine (or a name that resolves to one)");
    }

    @Test
    void a_port_in_use_is_the_only_line_the_process_prints(@TempDir Path workingDir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0);
             ServerProcess server = ServerProcess.start(workingDir, Path.of("target", "main-test-port-in-use.log"),
                     "--port", Integer.toString(taken.getLocalPort()))) {
            assertThat(server.exitCode(30)).isEqualTo(2);
            assertThat(server.output().lines()).as("no ERROR line from Javalin, no stack trace")
                    .containsExactly("squall: --port " + taken.getLocalPort() + " is already in use on 0.0.0.0: "
                            + "stop the other server or pick another --port");
        }
    }

    @Test
    void defaults_match_the_documented_ones() {
        SquallConfig config = parse(Map.of());
        assertThat(config.port()).isEqualTo(8000);
        assertThat(config.host()).isEqualTo("0.0.0.0");
        assertThat(config.allowedOrigins()).isEmpty();
        assertThat(config.pingInterval()).isEqualTo(Duration.ofSeconds(25));
        assertThat(config.pingTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.maxMessageBytes()).isEqualTo(65536);
        assertThat(config.maxQueueBytes()).isEqualTo(1_048_576);
        assertThat(config.publishToken()).isEmpty();
        assertThat(config.redis()).as("channels in memory").isEmpty();
        assertThat(config.publicDir()).isEmpty();
        assertThat(config.slowConsumerPolicy()).isEqualTo(SlowConsumerPolicy.CLOSE);
        assertThat(config.writeTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.drainWindow()).isEqualTo(Duration.ofSeconds(3))
                .isEqualTo(SquallConfig.builder().build().drainWindow());
    }

    @Test
    void the_limits_default_to_the_documented_values_in_the_flags_the_builder_and_the_plugin() {
        SquallConfig config = parse(Map.of());
        SquallConfig built = SquallConfig.builder().build();
        dev.squall.SquallPlugin.Config plugin = new dev.squall.SquallPlugin.Config();
        assertThat(List.of(config.maxMessagesPerSecond(), built.maxMessagesPerSecond(), plugin.maxMessagesPerSecond)).containsOnly(200);
        assertThat(List.of(config.maxConnections(), built.maxConnections(), plugin.maxConnections)).containsOnly(10_000);
        assertThat(List.of(config.maxConnectionsPerIp(), built.maxConnectionsPerIp(), plugin.maxConnectionsPerIp)).containsOnly(0);
        assertThat(List.of(config.maxConnectionsPerUser(), built.maxConnectionsPerUser(), plugin.maxConnectionsPerUser)).containsOnly(100);
        assertThat(List.of(config.handshakeTimeout(), built.handshakeTimeout(), plugin.handshakeTimeout)).containsOnly(Duration.ofSeconds(10));
        assertThat(List.of(config.maxChannels(), built.maxChannels(), plugin.maxChannels)).containsOnly(100_000);

        SquallConfig set = parse(Map.of(), "--max-messages-per-second", "0", "--max-connections", "5",
                "--max-connections-per-ip", "2", "--max-connections-per-user", "3", "--handshake-timeout", "0", "--max-channels", "7");
        assertThat(set.maxMessagesPerSecond()).isZero();
        assertThat(set.maxConnections()).isEqualTo(5);
        assertThat(set.maxConnectionsPerIp()).isEqualTo(2);
        assertThat(set.maxConnectionsPerUser()).isEqualTo(3);
        assertThat(set.handshakeTimeout()).isZero();
        assertThat(set.maxChannels()).isEqualTo(7);
    }

    @Test
    void help_says_what_each_limit_does_past_it() {
        assertThat(run("--help")).isZero();
        String help = out.toString().replaceAll("\\s+", " ");
        assertThat(between(help, "--max-messages-per-second=COUNT", "--max-connections=")).contains("3013", "0: no limit", "default: 200");
        assertThat(between(help, "--max-connections=COUNT", "--max-connections-per-ip=")).contains("503", "Retry-After", "default: 10000");
        assertThat(between(help, "--max-connections-per-ip=COUNT", "--max-connections-per-user=")).contains("429", "Loopback", "proxy", "default: 0");
        assertThat(between(help, "--max-connections-per-user=COUNT", "--handshake-timeout=")).contains("429", "3504", "anonymous", "default: 100");
        assertThat(between(help, "--handshake-timeout=SECONDS", "--redis=")).contains("head", "disconnected", "0: off", "default: 10");
        assertThat(between(help, "--max-channels=COUNT", "--max-messages-per-second=")).contains("channel_limit", "503", "default: 100000");
    }

    private static String between(String text, String from, String to) {
        int start = text.lastIndexOf(from);                  // past the usage line, which names every flag first
        assertThat(start).as(from).isNotNegative();
        return text.substring(start, text.indexOf(to, start));
    }

    @Test
    void the_slow_consumer_policy_can_drop_the_oldest_messages_instead_of_closing() {
        assertThat(parse(Map.of(), "--slow-consumer", "drop-oldest").slowConsumerPolicy()).isEqualTo(SlowConsumerPolicy.DROP_OLDEST);
        assertThat(run("--slow-consumer", "bogus")).isEqualTo(2);
        assertThat(errLines()).singleElement().asString().contains("'close' or 'drop-oldest'", "'bogus'");
    }

    @Test
    void the_publish_token_is_read_from_SQUALL_PUBLISH_TOKEN() {
        SquallConfig config = parse(Map.of("SQUALL_PUBLISH_TOKEN", "0123456789abcdef-env"));
        assertThat(config.publishToken()).contains("0123456789abcdef-env");
    }

    @Test
    void the_publish_token_flag_wins_over_the_environment() {
        SquallConfig config = parse(Map.of("SQUALL_PUBLISH_TOKEN", "0123456789abcdef-env"),
                "--publish-token", "0123456789abcdef-flag");
        assertThat(config.publishToken()).contains("0123456789abcdef-flag");
    }

    @Test
    void the_port_is_read_from_PORT_and_the_flag_wins() {
        assertThat(parse(Map.of("PORT", "9123")).port()).isEqualTo(9123);
        assertThat(parse(Map.of("PORT", "9123"), "--port", "9124").port()).isEqualTo(9124);
    }

    @Test
    void allowed_origins_are_split_on_commas_and_blank_entries_dropped() {
        SquallConfig config = parse(Map.of(), "--allowed-origins", "https://A.example, ,http://b.example:8080,",
                "--public", Path.of(".").toString());
        // Normalized (and checked) by the plugins the server registers: OriginPolicyTest's default-port test.
        assertThat(config.allowedOrigins()).containsExactly("https://A.example", "http://b.example:8080");
    }
}
