package dev.squall.broker;

/** One message as a channel's stream holds it: its offset in the stream and the message itself. */
public record Publication(long offset, Message message) {
}
