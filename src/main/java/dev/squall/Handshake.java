package dev.squall;

import org.jspecify.annotations.Nullable;

import java.util.List;
import java.util.Map;

/**
 * What a client's WebSocket upgrade request says, as Squall's routes read it before the connection is made: for
 * {@link WsRoute#channelFrom(java.util.function.Function)}, to name the channel from any part of it. Valid while the
 * function runs; keep the values, not the handshake.
 */
public interface Handshake {

    /** The path of the request, such as {@code /rooms/lobby}. */
    String path();

    /** A parameter of the route's path, such as {@code room} in {@code /rooms/{room}}, or null when it has none. */
    @Nullable String pathParam(String name);

    /** The first value of a query parameter, decoded, or null when absent. */
    @Nullable String queryParam(String name);

    /** Every query parameter, decoded, in order; unmodifiable. */
    Map<String, List<String>> queryParams();

    /** A request header's first value, or null when absent (names are case-insensitive). */
    @Nullable String header(String name);

    /** A cookie's value, or null when absent. */
    @Nullable String cookie(String name);

    /** Every cookie, by name; unmodifiable. */
    Map<String, String> cookies();

    /** The peer's IP address as the server sees it (a proxy's, behind one). */
    String remoteAddress();
}
