package dev.squall;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.io.StringWriter;
import java.util.Objects;

/**
 * Who is on the other end of a connection: a user id, and optionally what the app says about them ({@code info}, a
 * JSON object such as {@code {"name":"Ada"}}) that the channels they join may show. From a signed token's {@code sub}
 * and {@code info} claims (the names Centrifugo's tokens use), or from the app. The user is empty for an anonymous
 * connection.
 *
 * <p>Immutable. Two identities are equal when their user and info are.
 */
public final class Identity {

    /** No user: what every connection is when nothing decides who may connect. */
    public static final Identity ANONYMOUS = new Identity("", null);

    private static final JsonFactory JSON = new JsonFactory();
    /** The longest user id: a token's {@code sub} is usually a database id or a UUID. */
    public static final int MAX_USER_LENGTH = 256;
    /** The largest {@code info}, in characters of its compact JSON: it travels with every join and leave event. */
    public static final int MAX_INFO_LENGTH = 4096;

    private final String user;
    private final @Nullable String info;

    private Identity(String user, @Nullable String info) {
        this.user = user;
        this.info = info;
    }

    /**
     * A user with no info.
     *
     * @throws IllegalArgumentException when {@code user} is longer than {@value #MAX_USER_LENGTH} characters
     */
    public static Identity of(String user) {
        return of(user, null);
    }

    /**
     * A user and what the app says about them.
     *
     * @param info a JSON object as text (kept compact), or null for none
     * @throws IllegalArgumentException when {@code user} is longer than {@value #MAX_USER_LENGTH} characters, or
     *                                  {@code info} is not one JSON object, or longer than {@value #MAX_INFO_LENGTH}
     *                                  characters once compact
     */
    public static Identity of(String user, @Nullable String info) {
        Objects.requireNonNull(user, "user (an anonymous one is \"\")");
        if (user.length() > MAX_USER_LENGTH) {
            throw new IllegalArgumentException("a user id is at most " + MAX_USER_LENGTH + " characters, got " + user.length());
        }
        if (info == null) return user.isEmpty() ? ANONYMOUS : new Identity(user, null);
        String compact = compactObject(info);
        if (compact.length() > MAX_INFO_LENGTH) {
            throw new IllegalArgumentException("info is at most " + MAX_INFO_LENGTH + " characters of compact JSON, got "
                    + compact.length());
        }
        return new Identity(user, compact);
    }

    /** The user id; empty when anonymous. */
    public String user() {
        return user;
    }

    /** What the app says about the user, as compact JSON object text, or null when it says nothing. */
    public @Nullable String info() {
        return info;
    }

    /** Whether this is no one in particular: the user id is empty. */
    public boolean isAnonymous() {
        return user.isEmpty();
    }

    /** {@code text}, which must be exactly one JSON object, without insignificant whitespace. */
    private static String compactObject(String text) {
        StringWriter out = new StringWriter(text.length());
        try (JsonParser parser = JSON.createParser(text); JsonGenerator generator = JSON.createGenerator(out)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) throw notAnObject();
            generator.copyCurrentStructure(parser);
            if (parser.nextToken() != null) throw notAnObject();
        } catch (IOException e) {
            throw notAnObject();
        }
        return out.toString();
    }

    private static IllegalArgumentException notAnObject() {
        return new IllegalArgumentException("info must be one JSON object, such as {\"name\":\"Ada\"}");
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof Identity other && user.equals(other.user) && Objects.equals(info, other.info);
    }

    @Override
    public int hashCode() {
        return Objects.hash(user, info);
    }

    /** The user only: info may be personal, and this ends up in logs. */
    @Override
    public String toString() {
        return user.isEmpty() ? "Identity[anonymous]" : "Identity[" + user + "]";
    }
}
