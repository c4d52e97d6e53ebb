package dev.squall.server;

import dev.squall.SlowConsumerPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --config squall.yaml}: the flags' settings and per-namespace history in a file, overridden by flags and
 * environment variables; anything else in it is refused with one line naming the key, before a server starts.
 */
class ConfigFileTest {

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private Path file(String yaml) throws IOException {
        Path file = dir.resolve("squall.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private SquallConfig parse(Map<String, String> env, String... args) {
        Main main = new Main();
        picocli.CommandLine commandLine = Main.commandLine(main, env, new PrintWriter(out, true), new PrintWriter(err, true));
        Main.readConfigFile(main, commandLine, args);
        commandLine.parseArgs(args);
        return main.toConfig();
    }

    /** Runs the whole command line; only for files refused before a server would start. */
    private int run(String... args) {
        return Main.run(args, Map.of(), new PrintWriter(out, true), new PrintWriter(err, true));
    }

    private List<String> errLines() {
        return err.toString().lines().toList();
    }

    @Test
    void the_file_sets_what_the_flags_set_and_namespaces_keep_their_own_history() throws Exception {
        Path file = file("""
                port: 8123
                host: 127.0.0.1
                allowed-origins: [https://app.example, "http://localhost:3000"]
                ping-interval: 5
                slow-consumer: drop-oldest
                history-size: 50
                namespaces:
                  chat:
                    history-size: 500
                    history-ttl: 600
                    presence: true
                  prices:
                    history-size: 1
                  room:
                    subscribe: token
                    publish: subscribers
                    read: public
                max-channels-per-connection: 16
                """);

        SquallConfig config = parse(Map.of(), "--config", file.toString());

        assertThat(config.port()).isEqualTo(8123);
        assertThat(config.host()).isEqualTo("127.0.0.1");
        assertThat(config.allowedOrigins()).containsExactly("https://app.example", "http://localhost:3000");
        assertThat(config.pingInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.slowConsumerPolicy()).isEqualTo(SlowConsumerPolicy.DROP_OLDEST);
        assertThat(config.historySize()).isEqualTo(50);
        assertThat(config.namespaces()).containsEntry("chat", new SquallConfig.Namespace(500, Duration.ofSeconds(600), true))
                .containsEntry("prices", new SquallConfig.Namespace(1, null, false))
                .containsEntry("room", new SquallConfig.Namespace(null, null, false, dev.squall.SubscribeAccess.TOKEN,
                        dev.squall.PublishAccess.SUBSCRIBERS, dev.squall.ReadAccess.PUBLIC));
        assertThat(config.maxChannelsPerConnection()).isEqualTo(16);
    }

    @Test
    void max_channels_per_connection_defaults_to_128_and_is_checked_like_its_flag() throws Exception {
        assertThat(parse(Map.of()).maxChannelsPerConnection()).isEqualTo(128);
        assertThat(parse(Map.of(), "--max-channels-per-connection", "3").maxChannelsPerConnection()).isEqualTo(3);
        Path zero = file("max-channels-per-connection: 0\n");
        assertThat(run("--config", zero.toString())).isEqualTo(2);
        assertThat(errLines()).hasSize(1);
        assertThat(errLines().get(0)).startsWith("squall: " + zero + ": max-channels-per-connection must be a whole number from 1 to 100000");
    }

    @Test
    void the_limits_are_keys_like_their_flags_and_a_bad_one_is_refused_naming_the_key() throws Exception {
        SquallConfig config = parse(Map.of(), "--config", file("""
                max-messages-per-second: 50
                max-connections: 300
                max-connections-per-ip: 20
                max-connections-per-user: 5
                handshake-timeout: 4
                max-channels: 1000
                """).toString());
        assertThat(config.maxMessagesPerSecond()).isEqualTo(50);
        assertThat(config.maxConnections()).isEqualTo(300);
        assertThat(config.maxConnectionsPerIp()).isEqualTo(20);
        assertThat(config.maxConnectionsPerUser()).isEqualTo(5);
        assertThat(config.handshakeTimeout()).isEqualTo(Duration.ofSeconds(4));
        assertThat(config.maxChannels()).isEqualTo(1000);
        Path bad = file("max-connections-per-ip: -1\n");
        assertThat(run("--config", bad.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + bad + ": max-connections-per-ip must be a whole number from 0 to 2147483647, got '-1'");
    }

    @Test
    void redis_is_a_key_like_its_flag_and_a_bad_uri_is_refused_naming_the_key() throws Exception {
        assertThat(parse(Map.of(), "--config", file("redis: redis://10.0.0.5:6380\n").toString()).redis()).contains("redis://10.0.0.5:6380");
        assertThat(parse(Map.of()).redis()).isEmpty();
        Path bad = file("redis: localhost:6379\n");
        assertThat(run("--config", bad.toString())).isEqualTo(2);
        assertThat(errLines()).hasSize(1);
        assertThat(errLines().get(0)).contains("redis", "redis:// or rediss://", "localhost:6379");
    }

    @Test
    void redis_takes_a_yaml_list_and_a_redis_listed_twice_is_refused_naming_the_key() throws Exception {
        assertThat(parse(Map.of(), "--config", file("redis: [redis://10.0.0.5:6379, redis://10.0.0.6:6379]\n").toString()).redis())
                .contains("redis://10.0.0.5:6379,redis://10.0.0.6:6379");
        Path twice = file("redis:\n  - redis://10.0.0.5:6379\n  - redis://10.0.0.5\n");
        assertThat(run("--config", twice.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + twice
                + ": redis names the same Redis (10.0.0.5:6379/0) twice, as entries 1 and 2; list each Redis once");
    }

    @Test
    void token_settings_are_keys_and_a_bad_one_is_refused_naming_the_key_without_echoing_a_secret() throws Exception {
        SquallConfig config = parse(Map.of(), "--config", file("""
                token-hmac-secret: 0123456789abcdef0123456789abcdef
                token-jwks-url: https://auth.example/.well-known/jwks.json
                token-audience: squall
                token-issuer: https://auth.example
                token-cookie: squall_token
                """).toString());
        assertThat(config.tokenHmacSecret()).contains("0123456789abcdef0123456789abcdef");
        assertThat(config.tokenJwksUrl()).contains("https://auth.example/.well-known/jwks.json");
        assertThat(config.tokenAudience()).contains("squall");
        assertThat(config.tokenIssuer()).contains("https://auth.example");
        assertThat(config.tokenCookie()).contains("squall_token");

        Path file = file("token-hmac-secret: hunter2-is-short\n");
        assertThat(run("--config", file.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + file + ": token-hmac-secret must be at least 32 bytes, got 16 (try: openssl rand -hex 32)");

        err.getBuffer().setLength(0);
        Path missing = dir.resolve("missing.pem");
        file = file("token-public-key: " + missing + "\n");
        assertThat(run("--config", file.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + file + ": token-public-key " + missing + ": no such file");
    }

    @Test
    void the_readmes_complete_example_is_a_valid_file() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("```yaml\n") + "```yaml\n".length();
        String example = readme.substring(start, readme.indexOf("```", start));

        SquallConfig config = parse(Map.of(), "--config", file(example).toString());

        assertThat(config.allowedOrigins()).containsExactly("https://app.example", "http://localhost:3000");
        assertThat(config.namespaces()).containsOnlyKeys("chat", "prices", "private");
        assertThat(config.publishToken()).isPresent();
    }

    @Test
    void flags_and_environment_variables_override_the_file() throws Exception {
        Path file = file("port: 8123\nhistory-size: 50\n");

        assertThat(parse(Map.of(), "--config", file.toString(), "--port", "9000").port()).isEqualTo(9000);
        assertThat(parse(Map.of(), "--port=9001", "--config=" + file).port()).isEqualTo(9001);
        assertThat(parse(Map.of("PORT", "9002"), "--config", file.toString()).port()).isEqualTo(9002);
        assertThat(parse(Map.of(), "--config", file.toString(), "--history-size", "7").historySize()).isEqualTo(7);
    }

    @Test
    void an_empty_file_changes_nothing() throws Exception {
        assertThat(parse(Map.of(), "--config", file("").toString())).isEqualTo(parse(Map.of()));
    }

    @Test
    void an_unknown_key_is_refused_with_one_line_naming_it_and_the_keys() throws Exception {
        Path file = file("prot: 8000\n");
        assertThat(run("--config", file.toString())).isEqualTo(2);
        assertThat(errLines()).hasSize(1);
        assertThat(errLines().get(0)).startsWith("squall: " + file + ": unknown key 'prot'; the keys are the flags without '--' (")
                .contains("port", "history-size").endsWith(") and namespaces");
    }

    @Test
    void a_bad_value_names_the_key_in_the_file_and_what_is_allowed() throws Exception {
        Path badPort = file("port: 99999\n");
        assertThat(run("--config", badPort.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + badPort + ": port must be a whole number from 0 to 65535, got '99999'");
    }

    @Test
    void a_value_picocli_cannot_convert_names_the_key_in_the_file() throws Exception {
        Path file = file("ping-interval: soon\n");
        assertThat(run("--config", file.toString())).isEqualTo(2);
        assertThat(errLines()).hasSize(1);
        assertThat(errLines().get(0)).startsWith("squall: " + file + ": ping-interval must be").endsWith("got 'soon'");
    }

    @Test
    void a_rule_the_settings_check_names_the_key_in_the_file() throws Exception {
        Path file = file("slow-consumer: sometimes\n");
        assertThat(run("--config", file.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + file + ": slow-consumer must be 'close' or 'drop-oldest', got 'sometimes'");
    }

    @Test
    void namespaces_are_checked_too() throws Exception {
        Path unknown = file("namespaces:\n  chat:\n    history: 5\n");
        assertThat(run("--config", unknown.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + unknown
                + ": namespaces.chat: unknown key 'history'; a namespace takes history-size, history-ttl, presence, subscribe, publish and read");

        err.getBuffer().setLength(0);
        Path badAccess = file("namespaces:\n  chat:\n    publish: everyone\n");
        assertThat(run("--config", badAccess.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + badAccess + ": namespaces.chat.publish must be one of none, subscribers, got 'everyone'");

        err.getBuffer().setLength(0);
        Path notBoolean = file("namespaces:\n  chat:\n    presence: yes please\n");
        assertThat(run("--config", notBoolean.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + notBoolean + ": namespaces.chat.presence must be true or false, got 'yes please'");

        err.getBuffer().setLength(0);
        Path negative = file("namespaces:\n  chat:\n    history-size: -5\n");
        assertThat(run("--config", negative.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + negative + ": namespaces.chat.history-size must be a whole number from 0, got -5");

        err.getBuffer().setLength(0);
        Path badName = file("namespaces:\n  \"chat:room\":\n    history-size: 5\n");
        assertThat(run("--config", badName.toString(), "--port", "0", "--host", "127.0.0.1")).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + badName
                + ": namespaces.chat:room: 'chat:room' is not a namespace name: use 1-255 letters, digits and - _ . @ = , (no ':')");
    }

    @Test
    void a_key_given_twice_is_refused_naming_it_and_both_lines() throws Exception {
        Path twice = file("port: 8000\nhost: 127.0.0.1\nport: 9000\n");
        assertThat(run("--config", twice.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + twice + ": port is given twice, on lines 1 and 3; keep one");

        err.getBuffer().setLength(0);
        Path inNamespace = file("namespaces:\n  chat:\n    history-size: 1\n    presence: true\n    history-size: 2\n");
        assertThat(run("--config", inNamespace.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + inNamespace
                + ": namespaces.chat.history-size is given twice, on lines 3 and 5; keep one");

        err.getBuffer().setLength(0);
        Path namespaceTwice = file("namespaces:\n  chat: {presence: true}\n  prices: {history-size: 1}\n  chat: {history-size: 5}\n");
        assertThat(run("--config", namespaceTwice.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + namespaceTwice + ": namespaces.chat is given twice, on lines 2 and 4; keep one");
    }

    @Test
    void a_yaml_syntax_error_names_its_line_and_column() throws Exception {
        Path broken = file("port: 8000\nallowed-origins: [https://a.example\nhistory-size: 5\n");
        assertThat(run("--config", broken.toString())).isEqualTo(2);
        assertThat(errLines()).hasSize(1);
        assertThat(errLines().get(0)).startsWith("squall: --config " + broken + ": not readable YAML at line 3, column ");

        err.getBuffer().setLength(0);
        Path tab = file("port: 8000\n\thost: 127.0.0.1\n");
        assertThat(run("--config", tab.toString())).isEqualTo(2);
        assertThat(errLines()).singleElement().asString().startsWith("squall: --config " + tab + ": not readable YAML at line 2, column 1: ");
    }

    @Test
    void a_bad_list_value_names_the_key_in_the_file_not_the_flag() throws Exception {
        Path origins = file("allowed-origins: 5\n");
        assertThat(run("--config", origins.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + origins + ": allowed-origins: '5' is not an origin; use "
                + "scheme://host[:port], for example https://example.com or http://localhost:3000, or '*' alone");

        err.getBuffer().setLength(0);
        Path hosts = file("allowed-hosts: [squall.example, 'a b']\n");
        assertThat(run("--config", hosts.toString())).isEqualTo(2);
        assertThat(errLines()).singleElement().asString().startsWith("squall: " + hosts + ": allowed-hosts: 'a b' is not a host name");

        err.getBuffer().setLength(0);
        assertThat(run("--allowed-origins", "5")).as("on the command line, the flag").isEqualTo(2);
        assertThat(errLines()).singleElement().asString().startsWith("squall: --allowed-origins: '5' is not an origin");
    }

    @Test
    void a_missing_or_broken_file_is_one_line_too() throws Exception {
        assertThat(run("--config", dir.resolve("nope.yaml").toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: --config " + dir.resolve("nope.yaml") + ": no such file");

        err.getBuffer().setLength(0);
        Path broken = file("port: [unclosed\n");
        assertThat(run("--config", broken.toString())).isEqualTo(2);
        assertThat(errLines()).hasSize(1);
        assertThat(errLines().get(0)).startsWith("squall: --config " + broken + ": not readable YAML");

        err.getBuffer().setLength(0);
        Path list = file("- port\n");
        assertThat(run("--config", list.toString())).isEqualTo(2);
        assertThat(errLines()).containsExactly("squall: " + list + ": must be a mapping of settings (key: value)");
    }
}
