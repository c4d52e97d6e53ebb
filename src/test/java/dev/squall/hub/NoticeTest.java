package dev.squall.hub;

import dev.squall.broker.Message;
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
    void binary_frames_are_never_notices() {
        assertThat(Notice.isReserved(Message.binary("{\"squall\":1}".getBytes()))).isFalse();
    }
}
