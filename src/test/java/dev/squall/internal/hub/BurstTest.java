package dev.squall.internal.hub;

import dev.squall.support.Await;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 19, bursts, on a real server: publishers only queue while the writers are a few publishes behind, so a
 * publisher is never the one that waits for a fan-out's sockets; that must not let a flood of publishes overflow
 * the queues of clients that read, which only the server's own writers are slow for.
 */
@Timeout(120)
class BurstTest {

    private final HttpClient http = HttpClient.newHttpClient();
    private final List<WsTestClient> clients = new ArrayList<>();
    private final ExecutorService publishers = Executors.newFixedThreadPool(4);
    private TestServer server;

    @AfterEach
    void stop() {
        publishers.shutdownNow();
        clients.forEach(WsTestClient::close);
        if (server != null) server.close();
    }

    @Test
    void a_flood_of_broadcasts_from_four_publishers_closes_no_client_that_reads() throws Exception {
        // Queues of 4000 messages against a flood of 10,000: unpaced publishers fill them long before the writers
        // have written the flood. Paced from a quarter full, a queue overflows only if a thread writing a connection
        // loses its core for as long as 3000 more broadcasts take; the default 1000 left a loaded box too little slack.
        server = TestServer.start(TestServer.config().maxQueueMessages(4000).build());
        int subscribers = 50, perPublisher = 2500;
        for (int i = 0; i < subscribers; i++) clients.add(WsTestClient.connect(http, server.ws(), java.util.Map.of()));
        for (WsTestClient client : clients) assertThat(client.takeText()).isEqualTo("Welcome");
        Await.until("open and subscribed", Duration.ofSeconds(10), () -> server.hub().openCount(), subscribers);

        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> running = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            int publisher = p;
            running.add(publishers.submit(() -> {
                go.await();
                for (int i = 0; i < perPublisher; i++) server.app.plugin().squall().broadcast("p" + publisher + " " + i);
                return null;
            }));
        }
        go.countDown();
        for (Future<?> publisher : running) publisher.get(60, TimeUnit.SECONDS);

        for (WsTestClient client : clients) {
            int[] next = new int[4];
            for (int i = 0; i < 4 * perPublisher; i++) {
                String[] text = client.takeText().split(" ");
                int publisher = Integer.parseInt(text[0].substring(1));
                assertThat(Integer.parseInt(text[1])).as("publisher %d's order", publisher).isEqualTo(next[publisher]++);
            }
        }
        assertThat(server.metric("squall_slow_consumers_total")).isZero();
        assertThat(server.hub().size()).isEqualTo(subscribers);
    }
}
