package dev.squall.internal.broker;

import org.jspecify.annotations.Nullable;

/**
 * Who a join or leave is about: the connection ({@code client}, its id on the node it is open on), and the identity
 * it had: {@code user} ({@code ""} when anonymous) and {@code info} (compact JSON object text, or null for none).
 * Carried as text, not as an {@code Identity}: it came from one, and a node that receives it from another only
 * writes it into a frame, so it is never parsed again.
 */
public record Member(String client, String user, @Nullable String info) {

    /** The member {@code client} is, with its identity's user and info. */
    public static Member of(String client, dev.squall.Identity identity) {
        return new Member(client, identity.user(), identity.info());
    }
}
