package dev.squall.server;

import dev.squall.Squall;
import dev.squall.support.Await;
import dev.squall.support.RedisProcess;
import dev.squall.support.ServerProcess;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16 item 15: the README promises one log line when Redis is lost and one when it is back. Presence shares
 * its subscriber counts every second while a write is pending, and each failed write was a WARN of its own: a line a
 * second for as long as Redis was away. A child process with a real redis-server the test kills; RedisPresence at
 * debug, so the test can wait for its failures instead of sleeping.
 */
@Timeout(120)
class RedisOutageLogTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final String PRESENCE = "dev.squall.internal.broker.redis.RedisPresence";
    private static final List<String> LOGGING = List.of("-Dorg.slf4j.simpleLogger.log.dev.squall=info",
            "-Dorg.slf4j.simpleLogger.log." + PRESENCE + "=debug");

    @Test
    void an_outage_is_one_line_when_lost_and_one_when_back_however_often_presence_fails(@TempDir Path workingDir) throws Exception {
        try (RedisProcess redis = RedisProcess.start();
             ServerProcess server = start(workingDir, redis, "redis-outage-log.log")) {
            WsTestClient stays = subscriber(server);                             // a count above 0: shared at every flush
            for (int outage = 1; outage <= 2; outage++) {
                WsTestClient leaves = subscriber(server);
                int failuresBefore = presenceFailures(server);
                long linesBefore = server.output().lines().count();

                redis.kill();
                Await.until("the loss to be logged (log: " + server.log() + ")", DEADLINE, () -> linesSince(server, linesBefore)
                        .stream().anyMatch(line -> line.contains("Lost Redis at")));
                leaves.close();                                                  // a changed count: presence writes, and fails
                Await.until("presence to have failed to share three times (log: " + server.log() + ")", DEADLINE,
                        () -> presenceFailures(server) >= failuresBefore + 3);
                redis.restart();
                Await.until("Redis to be back (log: " + server.log() + ")", DEADLINE, () -> linesSince(server, linesBefore)
                        .stream().anyMatch(line -> line.contains(" is back after ")));

                // Redis restarted empty, so the channel's stream is gone: its own line, about the channel, not the outage.
                assertThat(linesSince(server, linesBefore).stream().filter(line -> !line.contains(" DEBUG "))
                        .filter(line -> !line.contains("Channel 'room' lost publications")))
                        .as("outage %d: what the log says at info and above", outage)
                        .satisfiesExactly(lost -> assertThat(lost).contains("WARN", "Lost Redis at " + redis.uri()),
                                back -> assertThat(back).contains("INFO", "Redis at " + redis.uri() + " is back after"));
            }
            stays.close();
        }
    }

    @Test
    void presence_that_redis_refuses_while_connected_is_one_warning_until_a_write_succeeds(@TempDir Path workingDir) throws Exception {
        try (RedisProcess redis = RedisProcess.start();
             ServerProcess server = start(workingDir, redis, "redis-presence-refused-log.log")) {
            WsTestClient stays = subscriber(server);
            WsTestClient leaves = subscriber(server);
            int failuresBefore = presenceFailures(server);
            long linesBefore = server.output().lines().count();

            command(redis, "CONFIG SET maxmemory 1");                         // writes refused (OOM), the connection fine
            leaves.close();
            Await.until("presence to have failed to share three times (log: " + server.log() + ")", DEADLINE,
                    () -> presenceFailures(server) >= failuresBefore + 3);
            assertThat(linesSince(server, linesBefore).stream().filter(line -> line.contains(" WARN ") && line.contains(PRESENCE)))
                    .singleElement().asString().contains("Could not share", "OOM");

            command(redis, "CONFIG SET maxmemory 0");
            long linesWhenWritable = server.output().lines().count();
            Await.until("a write to succeed again (log: " + server.log() + ")", DEADLINE, () -> linesSince(server, linesWhenWritable)
                    .stream().anyMatch(line -> line.contains(PRESENCE) && line.contains("shared again")));
            WsTestClient again = subscriber(server);
            command(redis, "CONFIG SET maxmemory 1");
            again.close();
            Await.until("the next failure to warn again (log: " + server.log() + ")", DEADLINE, () -> linesSince(server, linesWhenWritable)
                    .stream().anyMatch(line -> line.contains(" WARN ") && line.contains(PRESENCE)));
            stays.close();
        }
    }

    private static ServerProcess start(Path workingDir, RedisProcess redis, String log) throws Exception {
        ServerProcess server = ServerProcess.start(workingDir, Path.of("target", log), LOGGING,
                "--port", Integer.toString(freePort()), "--host", "127.0.0.1", "--drain-seconds", "0", "--redis", redis.uri());
        Await.until("the start-up line (log: " + server.log() + ")", DEADLINE, () -> server.output().contains("Squall listening on"));
        return server;
    }

    /** A client of channel {@code room}, once subscribed. */
    private static WsTestClient subscriber(ServerProcess server) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + port(server) + "/ws/room"));
        assertThat(client.takeText()).startsWith("{\"squall\":\"subscribed\"");
        return client;
    }

    /** The port the start-up line names. */
    private static int port(ServerProcess server) {
        String line = server.output().lines().filter(l -> l.contains("Squall listening on http://")).findFirst().orElseThrow();
        String rest = line.substring(line.indexOf("Squall listening on http://") + "Squall listening on http://".length());
        return Integer.parseInt(rest.substring(rest.indexOf(':') + 1, rest.indexOf(' ')));
    }

    private static int presenceFailures(ServerProcess server) {
        return (int) server.output().lines().filter(line -> line.contains(PRESENCE) && line.contains("Could not share")).count();
    }

    private static List<String> linesSince(ServerProcess server, long count) {
        return server.output().lines().skip(count).toList();
    }

    /** One command to Redis, in its inline form, and its one-line answer. */
    private static void command(RedisProcess redis, String command) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), redis.port()), 1000);
            socket.setSoTimeout(2000);
            OutputStream out = socket.getOutputStream();
            out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            String answer = new String(in.readNBytes(5), StandardCharsets.US_ASCII);
            assertThat(answer).as(command).isEqualTo("+OK\r\n");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
