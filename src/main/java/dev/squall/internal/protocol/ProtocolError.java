package dev.squall.internal.protocol;

import org.jspecify.annotations.Nullable;

/**
 * A command that cannot be carried out, as the error reply will say it: the command's id (null when the frame had
 * no usable one), the code, and a sentence for the developer. Thrown by whatever refuses the command; it carries
 * no stack trace, since any client can cause one on every frame.
 */
public final class ProtocolError extends RuntimeException {

    private final @Nullable Long id;
    private final ErrorCode code;

    public ProtocolError(@Nullable Long id, ErrorCode code, String message) {
        super(message, null, false, false);
        this.id = id;
        this.code = code;
    }

    public @Nullable Long id() {
        return id;
    }

    public ErrorCode code() {
        return code;
    }
}
