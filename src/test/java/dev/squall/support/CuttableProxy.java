package dev.squall.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A plain TCP proxy in front of a server (a {@code LiveServer} for a browser page, a redis-server for a node):
 * a client connected through it reaches the server only through it, so the test can cut its network. {@link #sever()} closes every connection and refuses new ones,
 * as when a Wi-Fi link drops; {@link #blackhole()} keeps connections open but lets no byte through either way,
 * as when a NAT forgets a connection (no close event reaches the page; only its own ping can notice);
 * {@link #restore()} lets new connections through again. A connection that was cut stays cut.
 *
 * <p>It adds no header, so the server sees a loopback peer and the proxy's own {@code Host}, which is also the
 * page's origin: to Squall the page is same-origin and may publish.
 */
public final class CuttableProxy implements AutoCloseable {

    private enum Mode { FORWARD, REFUSE, BLACKHOLE }

    private final ServerSocket listener;
    private final int targetPort;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private volatile Mode mode = Mode.FORWARD;
    private final java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();

    private CuttableProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "proxy-accept-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A proxy on a free loopback port that forwards to {@code 127.0.0.1:targetPort}. */
    public static CuttableProxy to(int targetPort) {
        try {
            return new CuttableProxy(targetPort);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String url(String pathAndQuery) {
        return "http://127.0.0.1:" + listener.getLocalPort() + pathAndQuery;
    }

    /** The proxy's loopback port, what a client connects to instead of the server's. */
    public int port() {
        return listener.getLocalPort();
    }

    /** Closes every connection through the proxy and refuses new ones until {@link #restore()}. */
    public void sever() {
        mode = Mode.REFUSE;
        for (Link link : links) link.close();
    }

    /** Lets nothing through any connection, old or new, and closes none, until {@link #restore()}. */
    public void blackhole() {
        mode = Mode.BLACKHOLE;
        for (Link link : links) link.silenced = true;
    }

    /** New connections are forwarded again; the ones that were cut stay cut. */
    public void restore() {
        mode = Mode.FORWARD;
    }

    /**
     * Lets nothing through from the server to the client on the {@code n}-th connection accepted (0 for the first),
     * while the client's bytes still reach the server: to the client that connection just went quiet, as a
     * pub/sub connection whose subscriptions the server lost.
     */
    public void muteReplies(int n) {
        for (Link link : links) if (link.index == n) link.repliesMuted = true;
    }

    /** How many connections the proxy has accepted so far. */
    public int accepted() {
        return accepted.get();
    }

    /** Connections that currently forward bytes. */
    public long forwarding() {
        return links.stream().filter(link -> !link.silenced).count();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            Mode now = mode;
            if (now == Mode.REFUSE) {
                closeQuietly(client);
                continue;
            }
            Link link = new Link(client, accepted.getAndIncrement());
            link.silenced = now == Mode.BLACKHOLE;
            links.add(link);
            link.start();
        }
    }

    /** One proxied connection: a thread per direction. */
    private final class Link {
        private final Socket client;
        private final Socket upstream = new Socket();
        final int index;
        volatile boolean silenced;
        volatile boolean repliesMuted;

        Link(Socket client, int index) {
            this.client = client;
            this.index = index;
        }

        void start() {
            Thread starter = new Thread(() -> {
                try {
                    upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5000);
                } catch (IOException e) {
                    close();
                    return;
                }
                pump(upstream, client, "down");
                pump(client, upstream, "up");
            }, "proxy-link");
            starter.setDaemon(true);
            starter.start();
        }

        private void pump(Socket from, Socket to, String direction) {
            Thread thread = new Thread(() -> {
                byte[] buffer = new byte[16 * 1024];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        if (silenced || (from == upstream && repliesMuted)) continue; // read and discard: the network went quiet
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                } catch (IOException e) {
                    // one side closed or was severed; close the other below
                } finally {
                    close();
                }
            }, "proxy-" + direction);
            thread.setDaemon(true);
            thread.start();
        }

        void close() {
            silenced = true;
            links.remove(this);
            closeQuietly(client);
            closeQuietly(upstream);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already gone; nothing to do
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Link link : links) link.close();
    }
}
