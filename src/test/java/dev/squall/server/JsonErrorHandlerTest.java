package dev.squall.server;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What the standalone server's Jetty error pages say: the status's own words for a 5xx, never Jetty's details. */
class JsonErrorHandlerTest {

    @Test
    void jettys_5xx_messages_never_reach_the_client_while_4xx_keep_theirs() {
        assertThat(JsonErrorHandler.describe(500, "java.lang.IllegalStateException: /secret/path/db.properties"))
                .isEqualTo("internal server error");
        assertThat(JsonErrorHandler.describe(503, "pool exhausted at org.eclipse.jetty...")).isEqualTo("service unavailable");
        assertThat(JsonErrorHandler.describe(400, "Bad request line")).isEqualTo("Bad request line");
    }
}
