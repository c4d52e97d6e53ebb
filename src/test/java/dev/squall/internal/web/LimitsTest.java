package dev.squall.internal.web;

import dev.squall.server.Main;
import dev.squall.server.SquallConfig;
import dev.squall.support.Await;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 2 item 7: a message of exactly {@code --max-message-bytes} is accepted, one byte more closes that
 * connection with 1009, and nobody else notices. (A peer that answers pings is never closed for being idle:
 * see {@link HeartbeatTest}.)
 */
@Timeout(60)
class LimitsTest {

    private static final int LIMIT = 1024;
    private static final int MESSAGE_TOO_BIG = 1009;

    private TestServer server;

    @BeforeEach
    void start() {
        server = TestServer.start(TestServer.config().maxMessageBytes(LIMIT).build());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void a_text_message_of_exactly_the_limit_is_answered_counting_utf8_bytes() {
        String ascii = "a".repeat(LIMIT);
        String twoByte = "é".repeat(LIMIT / 2);
        String mixed = "€".repeat(LIMIT / 3) + "a".repeat(LIMIT % 3);     // 3-byte characters, topped up to the limit
        try (WsTestClient client = WsTestClient.connect(server.ws())) {
            client.takeText();
            for (String text : new String[]{ascii, twoByte, mixed}) {
                assertThat(text.getBytes(StandardCharsets.UTF_8)).hasSize(LIMIT);
                client.send(text);
                assertThat(client.takeText()).isEqualTo("new message :" + text);
            }
            assertThat(client.isOpen()).isTrue();
        }
    }

    @Test
    void a_text_message_one_byte_over_the_limit_closes_that_connection_with_1009_and_no_other() throws Exception {
        assertOneByteOverClosesOnlyTheSender(offender -> offender.send("a".repeat(LIMIT + 1)));
    }

    @Test
    void a_multibyte_text_message_one_byte_over_the_limit_closes_with_1009() throws Exception {
        String text = "é".repeat(LIMIT / 2) + "a";                          // 1024 + 1 bytes, 513 characters
        assertThat(text.getBytes(StandardCharsets.UTF_8)).hasSize(LIMIT + 1);
        assertOneByteOverClosesOnlyTheSender(offender -> offender.send(text));
    }

    @Test
    void a_binary_message_of_exactly_the_limit_is_echoed() {
        byte[] bytes = new byte[LIMIT];
        Arrays.fill(bytes, (byte) 0xAB);
        try (WsTestClient client = WsTestClient.connect(server.ws())) {
            client.takeText();
            client.sendBinary(bytes);
            assertThat(client.takeBinary()).containsExactly(bytes);
        }
    }

    @Test
    void a_binary_message_one_byte_over_the_limit_closes_that_connection_with_1009_and_no_other() throws Exception {
        assertOneByteOverClosesOnlyTheSender(offender -> offender.sendBinary(new byte[LIMIT + 1]));
    }

    @Test
    void max_publish_bytes_defaults_to_a_quarter_of_the_queue_and_may_be_at_most_half_of_it() {
        assertThat(SquallConfig.builder().build().maxPublishBytes()).isEqualTo(262_144);
        assertThat(SquallConfig.builder().maxMessageBytes(1024).maxQueueBytes(4096).build().maxPublishBytes()).isEqualTo(1024);
        assertThat(SquallConfig.builder().maxMessageBytes(1024).maxQueueBytes(4096).maxPublishBytes(2048L).build().maxPublishBytes()).isEqualTo(2048);
        for (long refused : new long[]{0, -1, 2049}) {
            assertThatThrownBy(() -> SquallConfig.builder().maxMessageBytes(1024).maxQueueBytes(4096).maxPublishBytes(refused).build())
                    .as("%d", refused).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--max-publish-bytes").hasMessageContaining("--max-queue-bytes");
        }
    }

    @Test
    void main_refuses_a_publish_limit_over_half_the_queue_with_exit_code_2_and_one_line() {
        StringWriter err = new StringWriter();
        int code = Main.run(new String[]{"--max-queue-bytes", "1048576", "--max-publish-bytes", "600000"},
                new PrintWriter(new StringWriter()), new PrintWriter(err, true));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString().lines().toList()).singleElement().asString()
                .contains("--max-publish-bytes (600000)", "--max-queue-bytes (1048576", "524288");
    }

    private void assertOneByteOverClosesOnlyTheSender(java.util.function.Consumer<WsTestClient> oversize) throws Exception {
        try (WsTestClient bystander = WsTestClient.connect(server.ws());
             WsTestClient offender = WsTestClient.connect(server.ws())) {
            bystander.takeText();
            offender.takeText();

            oversize.accept(offender);

            assertThat(offender.awaitClose()).isEqualTo(MESSAGE_TOO_BIG);
            Await.until("hub size", Duration.ofSeconds(5), () -> server.hub().size(), 1);

            // The other connection, open all along, still echoes and still receives broadcasts; its echo being the
            // next thing it takes shows nothing of the offender's reached it, late or not.
            assertThat(bystander.isOpen()).isTrue();
            bystander.send("still fine");
            assertThat(bystander.takeText()).isEqualTo("new message :still fine");
            assertThat(server.get("/receive?msg=after").body()).isEqualTo("{\"delivered\":1}");
            assertThat(bystander.takeText()).isEqualTo("after");
            assertThat(server.metric("squall_disconnects_total{code=\"1009\"}")).isEqualTo(1.0);
        }
    }
}
