package dev.squall.kotlin

/**
 * How a [publications] flow ends when Squall, not its collector, ended the subscription: [reason] says why (it fell
 * too far behind, `slow consumer`; the server stops). Publications after the last one collected did not reach it.
 */
class SubscriptionEndedException(
    /** The channel the flow listened to. */
    val channel: String,
    /** Why it ended, in words fit for a log line. */
    val reason: String,
) : IllegalStateException("the subscription to channel '$channel' ended: $reason")
