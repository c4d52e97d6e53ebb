package dev.squall.kotlin

import dev.squall.SlowConsumerPolicy
import dev.squall.SquallPlugin
import kotlin.time.Duration
import kotlin.time.toKotlinDuration

/**
 * What [squall]'s block configures: every setting of [SquallPlugin.Config], under the same name and with the same
 * default and meaning (see each field there), durations as [kotlin.time.Duration]; routes with [ws], namespaces with
 * [namespace].
 */
@SquallDslMarker
class SquallConfig internal constructor(private val config: SquallPlugin.Config) {

    /** Between server pings to each connection; [Duration.ZERO] turns pings and dead-peer detection off. */
    var pingInterval: Duration
        get() = config.pingInterval.toKotlinDuration()
        set(value) { config.pingInterval = finite(value, KotlinNames.name("pingInterval"), "Duration.ZERO turns pings off") }

    /** After a ping, how long until something must have arrived, or the connection is dropped. */
    var pingTimeout: Duration
        get() = config.pingTimeout.toKotlinDuration()
        set(value) { config.pingTimeout = finite(value, KotlinNames.name("pingTimeout")) }

    /** How long a connection may have messages waiting while its socket takes none; zero turns it off. */
    var writeTimeout: Duration
        get() = config.writeTimeout.toKotlinDuration()
        set(value) { config.writeTimeout = finite(value, KotlinNames.name("writeTimeout"), "Duration.ZERO turns it off") }

    /** Largest message a client may send, in bytes; a larger one closes that connection with 1009. */
    var maxMessageBytes: Int
        get() = config.maxMessageBytes
        set(value) { config.maxMessageBytes = value }

    /** Bytes one connection may have waiting to be sent; past it, [slowConsumerPolicy] applies. */
    var maxQueueBytes: Long
        get() = config.maxQueueBytes
        set(value) { config.maxQueueBytes = value }

    /** Messages one connection may have waiting to be sent; past it, [slowConsumerPolicy] applies. */
    var maxQueueMessages: Int
        get() = config.maxQueueMessages
        set(value) { config.maxQueueMessages = value }

    /** Largest message one publish or broadcast may carry; null: a quarter of [maxQueueBytes]. */
    var maxPublishBytes: Long?
        get() = config.maxPublishBytes
        set(value) { config.maxPublishBytes = value }

    /** What happens to a connection whose queue is full. */
    var slowConsumerPolicy: SlowConsumerPolicy
        get() = config.slowConsumerPolicy
        set(value) { config.slowConsumerPolicy = value }

    /** Browser origins, besides the page's own, that may connect and publish; `"*"` alone for any. */
    var allowedOrigins: List<String>
        get() = config.allowedOrigins
        set(value) { config.allowedOrigins = value }

    /** Host names (any port), besides loopback ones, that name this server. */
    var allowedHosts: List<String>
        get() = config.allowedHosts
        set(value) { config.allowedHosts = value }

    /** Whether Squall's routes refuse a `Host` that is neither loopback nor in [allowedHosts]. */
    var checkHosts: Boolean
        get() = config.checkHosts
        set(value) { config.checkHosts = value }

    /** When set (16 characters or more), publishing needs `Authorization: Bearer <token>`; null: this machine only. */
    var publishToken: String?
        get() = config.publishToken
        set(value) { config.publishToken = value }

    /** Where `GET ?msg=` and `POST` publishes are taken; null: no publish route. */
    var publishPath: String?
        get() = config.publishPath
        set(value) { config.publishPath = value }

    /** Where Prometheus metrics are served; null: not mounted. */
    var metricsPath: String?
        get() = config.metricsPath
        set(value) { config.metricsPath = value }

    /** Where a liveness probe answers; null: not mounted. */
    var healthPath: String?
        get() = config.healthPath
        set(value) { config.healthPath = value }

    /** Where a readiness probe answers 200 while serving and 503 while starting or stopping; null: not mounted. */
    var readyPath: String?
        get() = config.readyPath
        set(value) { config.readyPath = value }

    /** Publications each channel keeps for recovery and history (0 turns history off). */
    var historySize: Int
        get() = config.historySize
        set(value) { config.historySize = value }

    /** How long each publication stays in its channel's history. */
    var historyTtl: Duration
        get() = config.historyTtl.toKotlinDuration()
        set(value) { config.historyTtl = finite(value, KotlinNames.name("historyTtl")) }

    /** The most publications one recovery replays. */
    var maxRecovery: Int
        get() = config.maxRecovery
        set(value) { config.maxRecovery = value }

    /** The most channels one `squall.v1` connection may be subscribed to at once. */
    var maxChannelsPerConnection: Int
        get() = config.maxChannelsPerConnection
        set(value) { config.maxChannelsPerConnection = value }

    /** The Redis that several nodes share channels through (`redis://host:port`, several comma-separated); null: in memory. */
    var redis: String?
        get() = config.redis
        set(value) { config.redis = value }

    /** How long a publish's idempotency key is remembered. */
    var idempotencyWindow: Duration
        get() = config.idempotencyWindow.toKotlinDuration()
        set(value) { config.idempotencyWindow = finite(value, KotlinNames.name("idempotencyWindow")) }

    /** Where `POST {"channel", "data"}` publishes are taken; null: not mounted. */
    var publishApiPath: String?
        get() = config.publishApiPath
        set(value) { config.publishApiPath = value }

    /** Where a channel is streamed as Server-Sent Events, a path with a `{channel}` parameter; null: not mounted. */
    var ssePath: String?
        get() = config.ssePath
        set(value) { config.ssePath = value }

    /** Where the browser client `squall.js` is served, such as `/js/squall.js`; null: not mounted. */
    var clientPath: String?
        get() = config.clientPath
        set(value) { config.clientPath = value }

    /** Where channels are described: `PATH/{channel}/history`; null: not mounted. */
    var channelsPath: String?
        get() = config.channelsPath
        set(value) { config.channelsPath = value }

    /** On stop, how long [readyPath] and [publishPath] answer 503 before connections are closed. */
    var drainWindow: Duration
        get() = config.drainWindow.toKotlinDuration()
        set(value) { config.drainWindow = finite(value, KotlinNames.name("drainWindow")) }

    /** On stop, how long connections get to finish their close handshake. */
    var stopTimeout: Duration
        get() = config.stopTimeout.toKotlinDuration()
        set(value) { config.stopTimeout = finite(value, KotlinNames.name("stopTimeout")) }

    /**
     * Declares a Squall WebSocket route at [path] (Javalin path syntax, such as `/rooms/{room}`); [route] sets its
     * channel and handlers. Without [SquallRoute.channelFrom], its clients receive every broadcast.
     */
    fun ws(path: String, route: SquallRoute.() -> Unit) {
        config.ws(path) { SquallRoute(it).route() }
    }

    /** Options for the channels of one namespace (`chat` for `chat:room1`); what [options] leaves unset comes from here. */
    fun namespace(name: String, options: SquallNamespace.() -> Unit) {
        config.namespace(name) { SquallNamespace(name, it).options() }
    }
}
