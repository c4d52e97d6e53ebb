package dev.squall;

/**
 * Where a publish to a channel went.
 *
 * @param offset    its place in the channel's stream; clients recover from offsets like this one
 * @param epoch     the stream's epoch: an offset only means something within it
 * @param delivered how many connections on this node it was queued to; -1 when the node runs on Redis, where
 *                  every node delivers it after the publish has returned, so no count is known then
 * @param duplicate true when it repeated an idempotency key seen within the window: nothing was published, and
 *                  offset and epoch are the first publish's
 */
public record Published(String channel, long offset, String epoch, int delivered, boolean duplicate) {
}
