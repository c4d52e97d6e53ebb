package dev.squall.internal.web;

import dev.squall.SquallPlugin;
import dev.squall.support.Await;
import dev.squall.support.SseTestClient;
import io.javalin.Javalin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An app stopped just as its event streams end, the clients going first or the app first, with Javalin's default stop
 * timeout (0): every request thread ends. Finishing Javalin's request for a stream whose client had just gone sent a
 * Jetty thread into Javalin's error handling for good, writing gigabytes of log.
 */
@Timeout(120)
class SseStopTest {

    @Test
    void stopping_while_streams_end_leaves_no_request_thread_behind() {
        for (int round = 0; round < 20; round++) {
            SquallPlugin plugin = new SquallPlugin(cfg -> {
                cfg.drainWindow = Duration.ZERO;
                cfg.ssePath = "/sse/{channel}";
            });
            Javalin app = Javalin.create(javalin -> javalin.registerPlugin(plugin)).start("127.0.0.1", 0);
            List<SseTestClient> clients = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                SseTestClient client = SseTestClient.connect(URI.create("http://127.0.0.1:" + app.port() + "/sse/c" + i), Map.of());
                client.take();
                clients.add(client);
            }
            if (round % 2 == 0) {
                app.stop();
                clients.forEach(SseTestClient::close);
            } else {
                clients.forEach(SseTestClient::close);
                app.stop();
            }
        }
        Await.until("no request thread of the stopped apps still running", Duration.ofSeconds(30),
                () -> Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(thread -> thread.isAlive() && thread.getName().startsWith("JettyServerThreadPool")));
    }
}
