package dev.squall.kotlin

import dev.squall.ChannelAction
import dev.squall.ChannelAuthorizer
import dev.squall.Handshake
import dev.squall.Identity
import dev.squall.PublishAccess
import dev.squall.ReadAccess
import dev.squall.SlowConsumerPolicy
import dev.squall.SquallPlugin
import dev.squall.SubscribeAccess
import java.nio.file.Path
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

    /** Where `POST {"user": "42"}` closes every connection of a user on every node, as `squall.disconnect` does; null: not mounted. */
    var disconnectPath: String?
        get() = config.disconnectPath
        set(value) { config.disconnectPath = value }

    /** On stop, how long [readyPath] and [publishPath] answer 503 before connections are closed. */
    var drainWindow: Duration
        get() = config.drainWindow.toKotlinDuration()
        set(value) { config.drainWindow = finite(value, KotlinNames.name("drainWindow")) }

    /** On stop, how long connections get to finish their close handshake. */
    var stopTimeout: Duration
        get() = config.stopTimeout.toKotlinDuration()
        set(value) { config.stopTimeout = finite(value, KotlinNames.name("stopTimeout")) }

    /**
     * A secret (32 bytes or more) that verifies HMAC-signed tokens; null: none. A token key, [authenticate] or a proxy
     * makes every connection need an identity.
     */
    var tokenHmacSecret: String?
        get() = config.tokenHmacSecret
        set(value) { config.tokenHmacSecret = value }

    /** A PEM file with the public key (RSA or EC) that verifies tokens; null: none. */
    var tokenPublicKey: Path?
        get() = config.tokenPublicKey
        set(value) { config.tokenPublicKey = value }

    /** A JWKS endpoint whose keys verify tokens, fetched and cached; null: none. */
    var tokenJwksUrl: String?
        get() = config.tokenJwksUrl
        set(value) { config.tokenJwksUrl = value }

    /** When set, a token's `aud` must name it. */
    var tokenAudience: String?
        get() = config.tokenAudience
        set(value) { config.tokenAudience = value }

    /** When set, a token's `iss` must be it. */
    var tokenIssuer: String?
        get() = config.tokenIssuer
        set(value) { config.tokenIssuer = value }

    /** The cookie a token may come in (for `EventSource`, which sends no headers); null: none. */
    var tokenCookie: String?
        get() = config.tokenCookie
        set(value) { config.tokenCookie = value }

    /** How long a `squall.v1` connection that brought no token has to send its `connect` command. */
    var connectTimeout: Duration
        get() = config.connectTimeout.toKotlinDuration()
        set(value) { config.connectTimeout = finite(value, KotlinNames.name("connectTimeout")) }

    /** The longest Squall waits for [authenticate], [authorize] or a proxy before refusing. */
    var hookTimeout: Duration
        get() = config.hookTimeout.toKotlinDuration()
        set(value) { config.hookTimeout = finite(value, KotlinNames.name("hookTimeout")) }

    /** Messages one connection may send per second (a token bucket); past it, closed with 3013. 0: no limit. */
    var maxMessagesPerSecond: Int
        get() = config.maxMessagesPerSecond
        set(value) { config.maxMessagesPerSecond = value }

    /** Connections this node holds at once; one more is refused with 503 before its handshake. 0: no limit. */
    var maxConnections: Int
        get() = config.maxConnections
        set(value) { config.maxConnections = value }

    /** Connections one client address may hold; one more is refused with 429 before its handshake. 0: no limit. */
    var maxConnectionsPerIp: Int
        get() = config.maxConnectionsPerIp
        set(value) { config.maxConnectionsPerIp = value }

    /** Connections one user may hold; one more is refused with 429, or closed with 3504 after `connect`. 0: no limit. */
    var maxConnectionsPerUser: Int
        get() = config.maxConnectionsPerUser
        set(value) { config.maxConnectionsPerUser = value }

    /** How long a client has to send the head of its request; a slower one is disconnected. [Duration.ZERO]: off. */
    var handshakeTimeout: Duration
        get() = config.handshakeTimeout.toKotlinDuration()
        set(value) { config.handshakeTimeout = finite(value, KotlinNames.name("handshakeTimeout"), "Duration.ZERO turns it off") }

    /** Channels with subscribers this node holds at once; a subscribe that would add one more is refused. 0: no limit. */
    var maxChannels: Int
        get() = config.maxChannels
        set(value) { config.maxChannels = value }

    /** The app's HTTP endpoint that decides who a client is when it brings no token (for [authenticate]); null: none. */
    var connectProxy: String?
        get() = config.connectProxy
        set(value) { config.connectProxy = value }

    /** The app's HTTP endpoint that decides subscriptions left to the app, instead of [authorize]; null: none. */
    var subscribeProxy: String?
        get() = config.subscribeProxy
        set(value) { config.subscribeProxy = value }

    /** The request headers the proxies are sent, besides cookies, such as `Authorization`. */
    var proxyHeaders: List<String>
        get() = config.proxyHeaders
        set(value) { config.proxyHeaders = value }

    /** Who may subscribe to channels outside any namespace; null: [SubscribeAccess]'s default. */
    var subscribe: SubscribeAccess?
        get() = config.subscribe
        set(value) { config.subscribe = value }

    /** Who may publish to them from a `squall.v1` connection; null: [PublishAccess.NONE]. */
    var publish: PublishAccess?
        get() = config.publish
        set(value) { config.publish = value }

    /** Who may read their history and presence; null: [ReadAccess.SUBSCRIBERS]. */
    var read: ReadAccess?
        get() = config.read
        set(value) { config.read = value }

    /**
     * Decides who each client is from its request, with the [Handshake] as receiver, when it brings no token: an
     * [Identity] admits it ([Identity.ANONYMOUS] as no one in particular), null refuses it (401). Such as
     * `authenticate { cookie("session")?.let { sessions.identityOf(it) } }`. It may block (a database call): it runs
     * on Squall's threads, within [hookTimeout]; one that throws or takes longer refuses (403). With it, every route
     * needs an identity, and channels are private unless their namespace says otherwise
     * ([SquallPlugin.Config.authenticate]).
     */
    fun authenticate(authenticator: @SquallDslMarker Handshake.() -> Identity?) {
        config.authenticate { handshake -> handshake.authenticator() }
    }

    /**
     * Decides what a user, the [Identity] receiver, may do with a channel where its rules leave it to the app:
     * `authorize { channel, action -> channel == "user:$user" }`. As [authenticate], it runs on Squall's threads within
     * [hookTimeout], and one that throws or takes longer answers no ([ChannelAuthorizer]).
     */
    fun authorize(authorizer: @SquallDslMarker Identity.(channel: String, action: ChannelAction) -> Boolean) {
        config.authorize { who, channel, action -> who.authorizer(channel, action) }
    }

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
