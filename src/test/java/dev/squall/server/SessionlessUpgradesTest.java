package dev.squall.server;

import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SessionlessUpgradesTest {

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void the_servers_upgrades_create_no_http_session() throws Exception {
        try (TestServer server = TestServer.start()) {
            for (int i = 0; i < 5; i++) {
                try (WsTestClient client = WsTestClient.connect(http, server.ws(), Map.of())) {
                    assertThat(client.takeText()).isEqualTo("Welcome");
                }
            }
            ServletContextHandler context = server.app.javalin().jettyServer().server().getDescendant(ServletContextHandler.class);
            // Javalin asks every upgrade for its session; without the filter each of the five creates one.
            assertThat(context.getSessionHandler().getSessionsCreated()).isZero();
        }
    }
}
