package dev.squall.server;

import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.Locale;

/**
 * The server socket, bound by Squall before Jetty starts and then handed to Jetty's connector. Left to Jetty, a
 * {@code --host} that is not this machine's or a {@code --port} in use surfaces as Javalin's ERROR line plus a
 * chain of causes; bound here, it is one sentence naming the flag, like any other bad setting. Nothing of
 * Javalin's logging is silenced for it: its start simply no longer fails that way.
 */
final class ListeningSocket {

    /**
     * Connections the kernel may hold, handshake done, until the server accepts them (Linux caps it at
     * {@code net.core.somaxconn}, 4096 by default). Java's and Jetty's default is 50: in a reconnect storm the
     * 51st client's SYN is dropped and retried a second later, which made 5000 upgrades take 1.4 s where Node
     * (511) and Go (somaxconn) took 0.3-0.4 s. A full queue only delays a client; it never refuses one.
     */
    static final int ACCEPT_BACKLOG = 4096;

    private ListeningSocket() {
    }

    /**
     * A channel bound to {@code host:port} (port 0: any free one), with Jetty's default socket options and a
     * backlog fit for a reconnect storm.
     */
    static ServerSocketChannel bind(String host, int port) {
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) throw new CannotListen(notThisMachine(host));
        ServerSocketChannel channel = null;
        try {
            channel = ServerSocketChannel.open();
            // As Jetty's ServerConnector does, so a restart can bind while old connections sit in TIME_WAIT;
            // on Linux this never lets two servers listen on one port.
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            channel.bind(address, ACCEPT_BACKLOG);
            return channel;
        } catch (IOException e) {
            close(channel);
            String problem = explain(host, address, e);
            if (problem == null) throw new UncheckedIOException("cannot listen on " + host + ":" + port, e);
            throw new CannotListen(problem);
        }
    }

    /** What to change, or null when the failure is not about the settings (out of file descriptors...). */
    private static @Nullable String explain(String host, InetSocketAddress address, IOException e) {
        String port = Integer.toString(address.getPort());
        if (!isThisMachine(address.getAddress())) return notThisMachine(host);
        String reason = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (e instanceof BindException && reason.contains("in use")) {
            return "--port " + port + " is already in use on " + host + ": stop the other server or pick another --port";
        }
        if (e instanceof BindException && (reason.contains("permission") || reason.contains("denied"))) {
            return "--port " + port + " needs privileges on this machine (ports below 1024 usually do): "
                    + "pick a --port from 1024 up, or grant the capability to bind it";
        }
        return null;
    }

    private static String notThisMachine(String host) {
        return "--host " + host + " is not an address of this machine (or a name that resolves to one)";
    }

    /** The wildcard, any loopback address (all of 127/8 is bindable on Linux), or one an interface has. */
    private static boolean isThisMachine(InetAddress address) {
        if (address.isAnyLocalAddress() || address.isLoopbackAddress()) return true;
        try {
            return NetworkInterface.getByInetAddress(address) != null;
        } catch (SocketException e) {
            return true;                                        // cannot tell: let the error message speak
        }
    }

    private static void close(@Nullable ServerSocketChannel channel) {
        if (channel == null) return;
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing was bound; the original error is the one to report
        }
    }

    /** The listening socket cannot be had: a setting to change, reported like a bad flag (exit code 2). */
    static final class CannotListen extends RuntimeException {
        CannotListen(String message) {
            super(message);
        }
    }
}
