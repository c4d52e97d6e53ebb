@file:JvmName("SquallCoroutines")

package dev.squall.kotlin

import dev.squall.ChannelMessage
import dev.squall.ChannelSubscriber
import dev.squall.Payload
import dev.squall.Published
import dev.squall.Squall
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.trySendBlocking
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.future.await

// The coroutine half of the Kotlin layer, alone in this file: only it names kotlinx.coroutines, an optional dependency
// that an app using the DSL alone never loads (ArchitectureTest, scripts/check-jars.sh).

/**
 * Publishes [payload] to [channel] as [Squall.publish] does, suspending instead of blocking while Redis answers
 * ([Squall.publishAsync]). Throws what `publish` throws. Cancelling the caller stops the wait, not a publish already
 * under way: it may have been published (give the payload an idempotency key to retry safely).
 *
 * Named apart from [Squall.publish], whose member would always be chosen over an extension of the same signature.
 */
suspend fun Squall.awaitPublish(channel: String, payload: Payload): Published =
    publishAsync(channel, payload).await()

/**
 * The publications of [channel] from the moment the flow is collected, as [Squall.subscribe] delivers them: in the
 * channel's order, each once, with Redis from every node. Each collection is its own subscription, made as collection
 * starts, in the collector's coroutine before it first suspends (so `launch(start = CoroutineStart.UNDISPATCHED) {
 * ... collect { } }` is listening once `launch` returns; with Redis, subscribing waits for Redis as [Squall.subscribe]
 * does), and closed when the collector stops (cancelled, or done, as after `take(n)`).
 *
 * No buffer of its own: a publication waits in the subscription's queue, which has a client's bounds
 * (`maxQueueMessages`, `maxQueueBytes`), until the collector has taken it. A collector that falls further behind is
 * dropped as a slow client would be, and so is one that takes nothing for `writeTimeout` while publications wait:
 * the flow then ends with a [SubscriptionEndedException], as it does when the server stops. A `buffer(n)` or
 * `conflate()` after it holds publications outside those bounds. A reset (publications lost, see
 * [ChannelSubscriber.onReset]) is not an element: the next message's epoch, or a gap in offsets, shows it. A name
 * outside the channel rule, or Redis unavailable, fails the collection with what [Squall.subscribe] throws.
 */
fun Squall.publications(channel: String): Flow<ChannelMessage> = flow {
    val handOver = Channel<ChannelMessage>(Channel.RENDEZVOUS)
    val subscription = subscribe(channel, object : ChannelSubscriber {
        override fun onPublication(message: ChannelMessage) {
            // Blocks Squall's subscriber thread (one of a pool that grows) until the collector takes the message, so
            // that the subscription's queue, not this flow, holds what the collector has not taken yet.
            try {
                handOver.trySendBlocking(message)       // fails only once the collector has gone
            } catch (stopping: InterruptedException) {
                Thread.currentThread().interrupt()      // the server stops; onClose follows
            }
        }

        override fun onClose(reason: String) {
            handOver.close(SubscriptionEndedException(channel, reason))
        }
    })
    try {
        for (message in handOver) emit(message)
    } finally {
        handOver.cancel()                               // lets a hand-over under way go
        subscription.close()
    }
}
