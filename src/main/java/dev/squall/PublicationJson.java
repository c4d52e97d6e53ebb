package dev.squall;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.squall.broker.Message;

import java.util.Base64;

/**
 * A publication's {@code data} as JSON (history, and the JSON protocol): a value published as JSON is that value,
 * text is a string, and binary is its base64 with {@code "encoding": "base64"} beside it.
 */
final class PublicationJson {

    private PublicationJson() {
    }

    static void putData(ObjectNode into, Message message) {
        if (message.kind() == Message.Kind.BINARY) {
            byte[] bytes = new byte[message.size()];
            message.payload().get(bytes);
            into.put("data", Base64.getEncoder().encodeToString(bytes));
            into.put("encoding", "base64");
        } else if (message.isJson()) {
            into.putRawValue("data", new RawValue(message.textPayload()));
        } else {
            into.put("data", message.textPayload());
        }
    }
}
