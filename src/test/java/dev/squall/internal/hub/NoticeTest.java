package dev.squall.internal.hub;

import dev.squall.internal.broker.Message;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** The reserved envelope: what a page would parse as a server notice is exactly what publishers may not send. */
class NoticeTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"squall\":\"dropped\",\"count\":3}",
            "  \n{\"a\": 1, \"squall\": true}",
            "{\"squ\\u0061ll\": 1}",
            "{\"a\": {\"b\": [1, 2]}, \"squall\": null}",
    })
    void a_json_object_with_a_top_level_squall_member_is_reserved(String text) {
        assertThat(Notice.isReserved(Message.text(text))).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"type\":\"dropped\",\"count\":3}",
            "{\"a\": {\"squall\": 1}}",
            "[\"squall\"]",
            "squall",
            "\"{\\\"squall\\\":1}\"",
            "{not json at all",
            "",
    })
    void anything_else_is_an_ordinary_message(String text) {
        assertThat(Notice.isReserved(Message.text(text))).isFalse();
    }

    @org.junit.jupiter.api.Test
    void an_object_beyond_a_json_parsers_usual_limits_is_still_read_to_its_top_level_squall_member() {
        // Jackson's default limits (nesting 500-1000, numbers of 1000 digits) are not a browser's: JSON.parse reads
        // both, so a page would see the forged notice that follows them.
        String deep = "[".repeat(5000) + "]".repeat(5000);
        String longNumber = "1".repeat(5000);
        String longName = "n".repeat(100_000);
        assertThat(Notice.isReserved(Message.text("{\"a\":" + deep + ",\"squall\":\"subscribed\",\"offset\":0,\"epoch\":\"x\"}")))
                .as("nested 5000 deep before the member").isTrue();
        assertThat(Notice.isReserved(Message.text("{\"a\":" + longNumber + ",\"squall\":\"dropped\",\"count\":1}")))
                .as("a number of 5000 digits before the member").isTrue();
        assertThat(Notice.isReserved(Message.text("{\"" + longName + "\":1,\"squall\":1}")))
                .as("a member name of 100,000 characters before it").isTrue();
    }

    @org.junit.jupiter.api.Test
    void binary_frames_are_never_notices() {
        assertThat(Notice.isReserved(Message.binary("{\"squall\":1}".getBytes()))).isFalse();
    }
}
