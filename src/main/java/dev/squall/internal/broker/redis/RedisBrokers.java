package dev.squall.internal.broker.redis;

import dev.squall.internal.broker.Broker;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Where a node gets its Redis broker. Lettuce, the Redis client, is an optional dependency of the library: an app
 * that never sets {@code redis} need not have it. So nothing outside this package names a class of it that uses
 * Lettuce, the node reaches this one only when a Redis URI is configured, and {@link #clientPresent()} tells, before
 * any such class is loaded, whether the app has added the client.
 */
public final class RedisBrokers {

    private RedisBrokers() {
    }

    /** Whether Lettuce is on the classpath (it is inside the standalone jar; an embedding app adds {@link #client()}). */
    public static boolean clientPresent() {
        try {
            Class.forName("io.lettuce.core.RedisClient", false, RedisBrokers.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** The dependency an app adds for Redis, as {@code groupId:artifactId:version}: the Lettuce Squall was built with. */
    public static String client() {
        Properties properties = new Properties();
        try (InputStream in = RedisBrokers.class.getResourceAsStream("client.properties")) {
            if (in != null) properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return properties.getProperty("client", "io.lettuce:lettuce-core");
    }

    /**
     * A broker over the Redis instances of {@code uris}: a {@link RedisBroker} for one, {@link RedisShards} for
     * several. One that cannot be reached does not stop the node (the broker says so and keeps trying).
     *
     * @param setting how the setting is named to its user, for the message of a malformed URI
     * @throws IllegalArgumentException naming the setting (and the URI, password hidden) when a URI is malformed
     */
    public static Broker open(List<String> uris, ScheduledExecutorService scheduler, String setting) {
        try {
            if (uris.size() == 1) return new RedisBroker(uris.get(0), scheduler);
            return new RedisShards(uris, scheduler);
        } catch (IllegalArgumentException e) {
            String which = uris.size() == 1 ? " " + shown(uris.get(0)) : "";
            throw new IllegalArgumentException(setting + which + ": " + e.getMessage(), e);
        }
    }

    /**
     * The URI fit for a log line or an error: a password in it is shown as {@code ***}. A string function of its
     * own here, where nothing needs Lettuce: a start-up line or a settings error may show a URI before any broker.
     */
    public static String shown(String uri) {
        int scheme = uri.indexOf("://");
        int at = uri.indexOf('@', Math.max(scheme, 0));
        if (scheme < 0 || at < 0) return uri;
        int slash = uri.indexOf('/', scheme + 3);
        if (slash >= 0 && slash < at) return uri;             // an '@' after the host is not a password's
        String userInfo = uri.substring(scheme + 3, at);
        int colon = userInfo.indexOf(':');
        String user = colon < 0 ? "" : userInfo.substring(0, colon);
        return uri.substring(0, scheme + 3) + user + ":***" + uri.substring(at);
    }
}
