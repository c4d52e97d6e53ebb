package dev.squall.internal.web;

import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.util.FutureCallback;
import org.eclipse.jetty.websocket.core.Configuration;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.WebSocketComponents;
import org.eclipse.jetty.websocket.core.server.Handshaker;
import org.eclipse.jetty.websocket.core.server.WebSocketNegotiator;
import org.eclipse.jetty.websocket.core.server.WebSocketServerComponents;

import java.io.IOException;

/**
 * Answers an upgrade that Javalin is handling with Squall's own socket, on Jetty's core WebSocket API, at the end of
 * the route's {@code wsBeforeUpgrade} checks; Javalin's own upgrade then never runs (the caller skips it), and
 * nothing of Javalin's or of the HTTP request stays with the socket.
 *
 * <p>The 101 carries what the checks put in the response (the subprotocol chosen); Jetty negotiates extensions
 * from the server's registry, as for any upgrade.
 */
final class CoreUpgrade {

    private final Handshaker handshaker = Handshaker.newInstance();

    /**
     * Upgrades the request to {@code socket}, with {@code limits} applied to its session before it opens; returns
     * once the 101 has been written (a client that went away meanwhile makes this throw, and its socket never opens).
     */
    void upgrade(Context ctx, FrameHandler socket, Configuration.Customizer limits) throws IOException {
        ServletContextRequest request = ServletContextRequest.getServletContextRequest(ctx.req());
        if (request == null) throw new IllegalStateException("not a request of Jetty's servlet container");
        WebSocketNegotiator negotiator = WebSocketNegotiator.from((upgradeRequest, upgradeResponse, callback) -> socket,
                (endpoint, upgradeRequest, upgradeResponse) -> (FrameHandler) endpoint, limits);
        FutureCallback written = new FutureCallback();
        if (!handshaker.upgradeRequest(negotiator, request, request.getServletContextResponse(), written, components(ctx), null)) {
            // The route's checks let through only well-formed upgrades; this is one Jetty still would not take.
            throw new Refusal(HttpStatus.BAD_REQUEST.getCode(), "not a WebSocket upgrade this server can accept");
        }
        written.block();
    }

    private static WebSocketComponents components(Context ctx) {
        ServletContextHandler handler = ServletContextHandler.getServletContextHandler(ctx.req().getServletContext());
        WebSocketComponents components = WebSocketServerComponents.getWebSocketComponents(handler);
        return components != null ? components : WebSocketServerComponents.ensureWebSocketComponents(handler.getServer(), handler);
    }
}
