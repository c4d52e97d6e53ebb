package dev.squall.internal.limit;

import dev.squall.Identity;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many connections (WebSockets and SSE streams) the node holds, in all, per client address and per user, against
 * {@code --max-connections}, {@code --max-connections-per-ip} and {@code --max-connections-per-user} (0: no limit).
 * A connection holds a {@link Permit} from before its handshake is answered until it ends; {@link Permit#release}
 * gives back everything it counts, once, however often it is called.
 *
 * <p>Anonymous connections count in all and per address, never per user: they are no one in particular, and all of
 * them together would be one "user". A permit counts under a user from {@link Permit#identify} on.
 *
 * <p>An address is a client's IPv4 address, or its IPv6 /64 network: one IPv6 host is usually given a whole /64,
 * and a limit per single IPv6 address would let it open connections from as many addresses as it likes.
 *
 * <p>Counts per address and per user are kept only while they are above zero, so the maps hold the addresses and
 * users that have connections now, and nothing else.
 */
public final class ConnectionLimits {

    /** Which limit refused a connection. */
    public enum Kind {
        /** {@code --max-connections}: the node is full. */
        TOTAL,
        /** {@code --max-connections-per-ip}: this address holds as many as it may. */
        ADDRESS,
        /** {@code --max-connections-per-user}: this user holds as many as they may. */
        USER
    }

    /** A connection one of the limits does not let in; nothing was counted for it. */
    public static final class Refused extends Exception {
        private final Kind kind;
        private final int limit;

        Refused(Kind kind, int limit) {
            super(kind + " limit " + limit, null, false, false);          // thrown per refused client: no stack trace
            this.kind = kind;
            this.limit = limit;
        }

        public Kind kind() {
            return kind;
        }

        /** The limit that was reached. */
        public int limit() {
            return limit;
        }
    }

    private final int maxTotal;
    private final int maxPerAddress;
    private final int maxPerUser;
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentHashMap<String, Integer> perAddress = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Integer> perUser = new ConcurrentHashMap<>();

    /** Each limit 0 for none. */
    public ConnectionLimits(int maxTotal, int maxPerAddress, int maxPerUser) {
        this.maxTotal = maxTotal;
        this.maxPerAddress = maxPerAddress;
        this.maxPerUser = maxPerUser;
    }

    /**
     * Counts one more connection from {@code address} (the peer's IP address as text), anonymous until
     * {@link Permit#identify} says who it is.
     *
     * @throws Refused when the address, or the node, holds as many as it may; nothing is counted then
     */
    public Permit acquire(String address) throws Refused {
        String key = addressKey(address);
        if (!increment(perAddress, key, maxPerAddress)) throw new Refused(Kind.ADDRESS, maxPerAddress);
        if (!incrementTotal()) {
            decrement(perAddress, key);
            throw new Refused(Kind.TOTAL, maxTotal);
        }
        return new Permit(key);
    }

    /** Connections counted now (those being opened included). */
    public int connections() {
        return total.get();
    }

    /** Addresses with at least one connection counted now. */
    public int addresses() {
        return perAddress.size();
    }

    /** Users with at least one connection counted now. */
    public int users() {
        return perUser.size();
    }

    /** Whether a per-user limit is set: without one, identifying a connection counts nothing. */
    public boolean limitsUsers() {
        return maxPerUser > 0;
    }

    private boolean incrementTotal() {
        int now;
        do {
            now = total.get();
            if (maxTotal > 0 && now >= maxTotal) return false;
        } while (!total.compareAndSet(now, now + 1));
        return true;
    }

    /** One more for {@code key}, unless it already has {@code max} (0: no limit). */
    private static boolean increment(ConcurrentHashMap<String, Integer> counts, String key, int max) {
        boolean[] counted = {false};
        counts.compute(key, (k, n) -> {
            int held = n == null ? 0 : n;
            if (max > 0 && held >= max) return n;
            counted[0] = true;
            return held + 1;
        });
        return counted[0];
    }

    /** One fewer for {@code key}; a key left at zero is dropped. */
    private static void decrement(ConcurrentHashMap<String, Integer> counts, String key) {
        counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    }

    /**
     * The key an address is counted under: an IPv4 address as it is (an IPv4-mapped IPv6 one too), an IPv6 address
     * as its /64 network. Text that is no IP address (a Unix socket's peer, say) is counted as itself.
     */
    static String addressKey(String address) {
        if (address.indexOf(':') < 0) return address;
        InetAddress parsed;
        try {
            // Only a literal gets here (':' rules out a host name), so this parses and never asks DNS.
            parsed = InetAddress.getByName(address.startsWith("[") && address.endsWith("]")
                    ? address.substring(1, address.length() - 1) : address);
        } catch (UnknownHostException | IllegalArgumentException notAnAddress) {
            return address;
        }
        if (!(parsed instanceof Inet6Address)) return parsed.getHostAddress();
        byte[] bytes = parsed.getAddress();
        StringBuilder network = new StringBuilder();
        for (int i = 0; i < 8; i += 2) {
            network.append(Integer.toHexString(((bytes[i] & 0xff) << 8) | (bytes[i + 1] & 0xff))).append(':');
        }
        return network.append(":/64").toString();
    }

    /**
     * What one connection holds against the limits. It is pending from {@link ConnectionLimits#acquire} until the
     * connection it was taken for opens ({@link #open}); a pending permit that is {@link #expire expired} is
     * released, so an upgrade that never became a connection gives its place back.
     */
    public final class Permit {
        private final String address;
        private String user = "";
        private boolean open;
        private boolean released;

        private Permit(String address) {
            this.address = address;
        }

        /**
         * Says who holds this connection, once that is known (a token's {@code sub} at the upgrade, or at a
         * {@code squall.v1} {@code connect}): from now on it counts under that user too. False, and nothing changes,
         * when the user already holds {@code --max-connections-per-user}: refuse the connection (429 at the upgrade,
         * close code 3504 after it). An anonymous identity counts under no user. Called again with another user, the
         * connection moves from the old one to the new.
         */
        public synchronized boolean identify(Identity identity) {
            String who = identity.user();
            if (released || who.equals(user)) return true;
            if (!who.isEmpty() && !increment(perUser, who, maxPerUser)) return false;
            if (!user.isEmpty()) decrement(perUser, user);
            user = who;
            return true;
        }

        /** The connection it was taken for has opened: from now on only {@link #release} ends it. False if it expired. */
        public synchronized boolean open() {
            if (released) return false;
            open = true;
            return true;
        }

        /** Releases the permit if its connection never opened; true if it did release it. */
        public synchronized boolean expire() {
            if (open || released) return false;
            release();
            return true;
        }

        /** Gives back what this permit counts: once, whichever way the connection ends and however often this is called. */
        public synchronized void release() {
            if (released) return;
            released = true;
            decrement(perAddress, address);
            if (!user.isEmpty()) decrement(perUser, user);
            total.decrementAndGet();
        }

        /** Whether it has been given back. */
        public synchronized boolean released() {
            return released;
        }

        @Override
        public synchronized String toString() {
            return "Permit[" + (released ? "released" : open ? "open" : "pending") + "]";
        }
    }
}
