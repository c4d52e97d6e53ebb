package dev.squall.kotlin

import dev.squall.PublishAccess
import dev.squall.ReadAccess
import dev.squall.SquallPlugin
import dev.squall.SubscribeAccess
import kotlin.time.Duration
import kotlin.time.toKotlinDuration

/** What one namespace's channels do differently ([SquallPlugin.Namespace]); null follows the plugin's setting. */
@SquallDslMarker
class SquallNamespace internal constructor(private val name: String, private val namespace: SquallPlugin.Namespace) {

    /** Publications each channel of the namespace keeps (0: none); null: [SquallConfig.historySize]. */
    var historySize: Int?
        get() = namespace.historySize
        set(value) { namespace.historySize = value }

    /** How long each stays; null: [SquallConfig.historyTtl]. */
    var historyTtl: Duration?
        get() = namespace.historyTtl?.toKotlinDuration()
        set(value) { namespace.historyTtl = value?.let { finite(it, KotlinNames.inNamespace(name, "historyTtl")) } }

    /** Whether `squall.v1` subscribers of its channels get `join` and `leave` events. */
    var presence: Boolean
        get() = namespace.presence
        set(value) { namespace.presence = value }

    /** Who may subscribe to its channels; null: [SquallConfig.subscribe]. */
    var subscribe: SubscribeAccess?
        get() = namespace.subscribe
        set(value) { namespace.subscribe = value }

    /** Who may publish to them from `squall.v1` ([PublishAccess.SUBSCRIBERS]: a chat room); null: [SquallConfig.publish]. */
    var publish: PublishAccess?
        get() = namespace.publish
        set(value) { namespace.publish = value }

    /** Who may read their history and presence; null: [SquallConfig.read]. */
    var read: ReadAccess?
        get() = namespace.read
        set(value) { namespace.read = value }
}
