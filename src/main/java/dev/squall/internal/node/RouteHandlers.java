package dev.squall.internal.node;

import dev.squall.Handshake;
import dev.squall.WsRoute;
import org.jspecify.annotations.Nullable;

import java.util.function.Function;

/**
 * One WebSocket route as the app declared it with {@code ws(path, ...)}: where its clients' channel comes from, and
 * its handlers; any may be absent. Read off the {@link WsRoute} by the plugin, which alone sees inside it.
 *
 * @param channelParam the path parameter that names the channel ({@code channelFrom(String)}), or null
 * @param channelNamer the function of the handshake that names it ({@code channelFrom(Function)}), or null
 */
public record RouteHandlers(@Nullable String channelParam, @Nullable Function<Handshake, @Nullable String> channelNamer,
                            WsRoute.@Nullable OpenHandler open, WsRoute.@Nullable TextHandler text,
                            WsRoute.@Nullable BinaryHandler binary, WsRoute.@Nullable CloseHandler close) {

    /** A push-only route: no channel of its own, no handler. */
    public static final RouteHandlers PUSH_ONLY = new RouteHandlers(null, null, null, null, null, null);

    /** Whether its clients are put on a channel of their own (else on the broadcast channel). */
    public boolean hasChannel() {
        return channelParam != null || channelNamer != null;
    }
}
