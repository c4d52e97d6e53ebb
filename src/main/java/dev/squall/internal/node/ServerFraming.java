package dev.squall.internal.node;

import dev.squall.Payload;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.hub.Framing;
import dev.squall.internal.hub.Subscribed;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * How a server-side subscriber's queue carries a channel's publications and notices: not a wire format, just what
 * its {@link ServerSubscriber} reads back, so that it goes through the same bounded queue, order and slow-consumer
 * policy as a client's frames. Each frame is {@code type, offset, epoch, kind, payload}: {@code p} a publication,
 * {@code r} a reset, {@code d} a count of dropped publications (in the offset's place).
 */
final class ServerFraming implements Framing {

    static final ServerFraming INSTANCE = new ServerFraming();

    static final byte PUBLICATION = 'p';
    static final byte RESET = 'r';
    static final byte DROPPED = 'd';
    private static final byte TEXT = 't';
    private static final byte JSON = 'j';
    private static final byte BINARY = 'b';

    private ServerFraming() {
    }

    @Override
    public Message frame(String channel, Publication publication) {
        Message message = publication.message();
        byte kind = message.kind() == Message.Kind.BINARY ? BINARY : message.isJson() ? JSON : TEXT;
        return encode(PUBLICATION, publication.offset(), publication.epoch(), kind, message.payload());
    }

    @Override
    public Message dropped(int count) {
        return encode(DROPPED, count, "", TEXT, ByteBuffer.allocate(0));
    }

    @Override
    public Message reset(Subscribed restarted) {
        return encode(RESET, restarted.after(), restarted.position().epoch(), TEXT, ByteBuffer.allocate(0));
    }

    @Override
    public long frameBound(String channel, Message message) {
        return (long) message.size() + 64;
    }

    @Override
    public String clients() {
        return "server-side subscribers";
    }

    private static Message encode(byte type, long offset, String epoch, byte kind, ByteBuffer payload) {
        byte[] epochBytes = epoch.getBytes(StandardCharsets.UTF_8);
        ByteBuffer frame = ByteBuffer.allocate(1 + 8 + 2 + epochBytes.length + 1 + payload.remaining());
        frame.put(type).putLong(offset).putShort((short) epochBytes.length).put(epochBytes).put(kind).put(payload);
        return Message.binary(frame.array());
    }

    /** One frame read back. */
    record Frame(byte type, long offset, String epoch, Payload.Kind kind, byte[] payload) {
    }

    static Frame decode(Message message) {
        ByteBuffer frame = message.payload();
        byte type = frame.get();
        long offset = frame.getLong();
        byte[] epoch = new byte[frame.getShort()];
        frame.get(epoch);
        byte kind = frame.get();
        byte[] payload = new byte[frame.remaining()];
        frame.get(payload);
        Payload.Kind as = kind == BINARY ? Payload.Kind.BYTES : kind == JSON ? Payload.Kind.JSON : Payload.Kind.TEXT;
        return new Frame(type, offset, new String(epoch, StandardCharsets.UTF_8), as, payload);
    }
}
