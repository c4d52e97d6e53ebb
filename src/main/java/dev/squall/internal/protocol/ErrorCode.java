package dev.squall.internal.protocol;

import java.util.Locale;

/** Why a command failed: the {@code code} of an error reply. A bad command never closes the connection. */
public enum ErrorCode {
    /** The frame is not text, not JSON, or not one JSON object. */
    BAD_JSON,
    /** A field is missing, has the wrong type or an unknown value, or the id is not usable. */
    BAD_COMMAND,
    /** The {@code type} names no command. */
    UNKNOWN_TYPE,
    /** The channel name breaks the naming rule (the message says which). */
    BAD_CHANNEL,
    /** Subscribe to a channel this connection is already on. */
    ALREADY_SUBSCRIBED,
    /** Unsubscribe from a channel this connection is not on. */
    NOT_SUBSCRIBED,
    /** One subscribe more than a connection may hold. */
    TOO_MANY_CHANNELS,
    /** A subscribe to a new channel while the node holds as many channels as it may ({@code --max-channels}). */
    CHANNEL_LIMIT,
    /** Not allowed on this connection: its token, the channel's rules or the app do not allow it. */
    FORBIDDEN,
    /**
     * No valid token: a command before {@code connect} on a connection that needs one, or a token that is forged,
     * malformed, for someone else or for another channel. The connection is closed after it (3500).
     */
    UNAUTHORIZED,
    /** The token has expired: get a fresh one from the app, and reconnect or refresh with it. */
    TOKEN_EXPIRED,
    /** The publish's data is larger than the largest publish. */
    TOO_LARGE,
    /** The publish's data would forge a plain client's {@code {"squall": ...}} notice. */
    RESERVED,
    /** The server is draining or stopping: try another node, or later. */
    UNAVAILABLE,
    /** The server failed; the details are in its log. */
    INTERNAL;

    /** The code as it is on the wire: {@code bad_json}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
