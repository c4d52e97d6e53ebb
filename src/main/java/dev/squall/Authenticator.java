package dev.squall;

import org.jspecify.annotations.Nullable;

/**
 * The app's answer to "who is connecting?", from what the request carries: its own session cookie, a header, an
 * API key in the query. Set with {@link SquallPlugin.Config#authenticate}; asked at every WebSocket upgrade and
 * Server-Sent Events request that brings no token (a request with a token is decided by the token).
 *
 * <p>It may be slow (a database call): Squall runs it on threads of its own, never on Jetty's, and waits at most
 * {@link SquallPlugin.Config#hookTimeout}; past that, or when it throws, the client is refused (403, the exception
 * logged, nothing of it shown to the client). Called from many threads at once.
 */
@FunctionalInterface
public interface Authenticator {

    /**
     * Who the client is.
     *
     * @return the client's identity ({@link Identity#ANONYMOUS} admits it as no one in particular), or null to
     *         refuse it: 401, or for a {@code squall.v1} client with tokens configured, a wait for its
     *         {@code connect} command
     */
    @Nullable Identity authenticate(Handshake handshake) throws Exception;
}
