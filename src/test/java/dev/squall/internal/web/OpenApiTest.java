package dev.squall.internal.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.squall.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** openapi.yaml describes exactly the routes App registers: none missing, none invented. */
class OpenApiTest {

    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

    private static TestServer server;
    private static JsonNode spec;

    @BeforeAll
    static void load() throws Exception {
        spec = new ObjectMapper(new YAMLFactory()).readTree(Path.of("openapi.yaml").toFile());
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** "GET /path" for every operation in the spec; {@code statics} selects those served as static files. */
    private static Set<String> documented(boolean statics) {
        Set<String> operations = new TreeSet<>();
        spec.path("paths").fields().forEachRemaining(path -> path.getValue().fields().forEachRemaining(operation -> {
            if (METHODS.contains(operation.getKey())
                    && operation.getValue().path("x-squall-static").asBoolean(false) == statics) {
                operations.add(operation.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey());
            }
        }));
        return operations;
    }

    /** What App registered, in the spec's terms: a WebSocket is a GET upgrade; {name} and <name> are path parameters. */
    private static Set<String> registered() {
        Set<String> routes = new TreeSet<>();
        for (String endpoint : server.app.endpoints()) {
            String route = endpoint.startsWith("WS ") ? "GET " + endpoint.substring(3) : endpoint;
            routes.add(route.replaceAll("<([^>]+)>", "{$1}"));
        }
        return routes;
    }

    @Test
    void the_spec_is_openapi_3_1_served_on_localhost_8000() {
        assertThat(spec.path("openapi").asText()).startsWith("3.1");
        assertThat(spec.path("servers").findValuesAsText("url")).contains("http://localhost:8000");
        assertThat(spec.at("/components/schemas/Error/required").toString()).isEqualTo("[\"error\"]");
    }

    @Test
    void every_registered_route_is_in_the_spec() {
        Set<String> missing = new TreeSet<>(registered());
        missing.removeAll(documented(false));
        assertThat(missing).as("routes registered in App but missing from openapi.yaml").isEmpty();
    }

    @Test
    void every_route_in_the_spec_is_registered() {
        Set<String> invented = new TreeSet<>(documented(false));
        invented.removeAll(registered());
        assertThat(invented).as("operations in openapi.yaml that App does not register").isEmpty();
    }

    @Test
    void the_registered_routes_are_the_expected_ones() {
        // Guards the comparison itself: an accessor that saw nothing would make both directions pass.
        assertThat(registered()).contains("GET /index", "GET /receive", "POST /receive", "GET /ws", "GET /metrics");
    }

    @Test
    void every_static_path_in_the_spec_is_served() throws Exception {
        assertThat(documented(true)).isNotEmpty();
        for (String operation : documented(true)) {
            String path = operation.substring(operation.indexOf(' ') + 1);
            HttpResponse<String> response = server.get(path);
            assertThat(response.statusCode()).as(operation).isEqualTo(200);
        }
    }

    @Test
    void every_operation_documents_its_error_shape() {
        spec.path("paths").fields().forEachRemaining(path -> path.getValue().fields().forEachRemaining(operation -> {
            if (!METHODS.contains(operation.getKey())) return;
            operation.getValue().path("responses").fields().forEachRemaining(response -> {
                int status = Integer.parseInt(response.getKey());
                if (status < 400) return;
                JsonNode body = response.getValue();
                String ref = body.path("$ref").asText();
                if (!ref.isEmpty()) body = spec.at(ref.substring(1));
                assertThat(body.at("/content/application~1json/schema/$ref").asText())
                        .as(operation.getKey() + " " + path.getKey() + " " + status)
                        .isEqualTo("#/components/schemas/Error");
            });
        }));
    }
}
