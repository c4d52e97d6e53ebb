package dev.squall.internal.web;

import dev.squall.internal.hub.Metrics;
import dev.squall.internal.node.Node;
import io.javalin.config.JavalinState;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.util.component.LifeCycle;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * {@code --handshake-timeout}: an HTTP/1 connection must deliver the whole head of its first request (a WebSocket
 * upgrade, an event stream's {@code GET}, any request) within the deadline of opening, and on a kept-alive
 * connection, the whole head of a later request within a deadline of its first bytes; otherwise it is closed, without
 * an answer. Jetty's idle timeout does not do this: it only cuts a connection over which nothing at all moves, so a
 * slowloris that sends a byte every few seconds would hold its socket, a parser and a request buffer for as long as it
 * likes (an 8 KiB head at a byte a second: over two hours).
 *
 * <p>One check per connection every deadline, on the connector's scheduler, reading Jetty's own counters (request
 * heads completed, responses begun, bytes read: nothing is added to the read path). It stops once the connection is
 * upgraded (a WebSocket's frames are the heartbeat's business) or closed. A later head counts as late when, at one
 * check, bytes have arrived since the last one without completing a head while no request was being handled, and at
 * the next check still no head has completed: it started more than a deadline ago. A connection that is quiet between
 * requests is left to the idle timeout.
 */
public final class HandshakeDeadline implements Connection.Listener {

    private static final Logger log = LoggerFactory.getLogger(HandshakeDeadline.class);
    /** The connection attribute holding its next check, so that a closed connection's is cancelled. */
    private static final String CHECK = "squall.handshakeCheck";

    private final long timeoutMillis;
    private final Scheduler scheduler;
    private final Metrics metrics;

    HandshakeDeadline(Duration timeout, Scheduler scheduler, Metrics metrics) {
        this.timeoutMillis = timeout.toMillis();
        this.scheduler = scheduler;
        this.metrics = metrics;
    }

    /**
     * Sets the deadline on every connector of the app's server as it starts (a plugin cannot reach the connectors
     * before: the app, or Javalin, adds them after the plugin has run). Nothing when {@code timeout} is zero.
     */
    public static void install(JavalinState state, Node node) {
        Duration timeout = node.settings().handshakeTimeout();
        Metrics metrics = node.metrics();
        if (timeout.isZero()) return;
        state.jetty.modifyServer(server -> server.addEventListener(new LifeCycle.Listener() {
            @Override
            public void lifeCycleStarting(LifeCycle event) {
                for (Connector connector : server.getConnectors()) {
                    if (connector.getEventListeners().stream().noneMatch(HandshakeDeadline.class::isInstance)) {
                        connector.addEventListener(new HandshakeDeadline(timeout, connector.getScheduler(), metrics));
                    }
                }
            }
        }));
    }

    /** What one check saw, for the next to compare with. */
    private record Seen(long heads, long bytes, boolean partialHead) {
    }

    @Override
    public void onOpened(Connection connection) {
        // HTTP/1 only: what a TLS connection carries gets its own HttpConnection, opened with it, and checked.
        if (!(connection instanceof ConnectionMetaData http) || http.getHttpVersion().getVersion() >= 20) return;
        schedule(connection, http, new Seen(0, 0, false));
    }

    @Override
    public void onClosed(Connection connection) {
        if (connection instanceof ConnectionMetaData http && http.removeAttribute(CHECK) instanceof Scheduler.Task task) task.cancel();
    }

    private void schedule(Connection connection, ConnectionMetaData http, Seen seen) {
        http.setAttribute(CHECK, scheduler.schedule(() -> check(connection, http, seen), timeoutMillis, TimeUnit.MILLISECONDS));
    }

    private void check(Connection connection, ConnectionMetaData http, Seen before) {
        EndPoint endPoint = connection.getEndPoint();
        if (!endPoint.isOpen() || endPoint.getConnection() != connection) return;   // closed, or upgraded
        // Jetty counts a request when its head is complete, and a response when it begins: equal, no request is being
        // handled, and what arrives is the start of the next head.
        long heads = connection.getMessagesIn();
        long responses = connection.getMessagesOut();
        long bytes = connection.getBytesIn();
        boolean partialHead = heads == responses && heads == before.heads() && bytes > before.bytes();
        if (heads == 0 || before.partialHead() && heads == before.heads()) {
            metrics.limited(Metrics.Limit.HANDSHAKE_TIMEOUT);
            log.debug("Closed a connection from {}: no whole request head within {} ms ({} bytes read)",
                    http.getRemoteSocketAddress(), timeoutMillis, bytes);
            connection.close();
            return;
        }
        schedule(connection, http, new Seen(heads, bytes, partialHead));
    }
}
