package dev.squall.kotlin

import dev.squall.Handshake
import dev.squall.SquallConnection
import dev.squall.WsRoute

/**
 * What [SquallConfig.ws]'s block declares: the route's channel and its handlers ([WsRoute]), each handler with the
 * connection as its receiver, so that it reads `send(...)`, `pathParam(...)`, `close(...)`, who the client is as
 * [identity], and reaches the push handle as `squall()`. Every handler is optional; a second call of one replaces the
 * first.
 *
 * Handlers of one connection run one at a time, in the order of events, on Jetty's threads: one that throws is
 * logged, and its connection is closed with 1011.
 */
@SquallDslMarker
class SquallRoute internal constructor(private val route: WsRoute) {

    /** Puts each client on the channel the path parameter [pathParam] names (`/ws/{channel}`): see [WsRoute.channelFrom]. */
    fun channelFrom(pathParam: String) {
        route.channelFrom(pathParam)
    }

    /**
     * Puts each client on the channel [namer] names from its upgrade request (path, query, headers, cookies): such as
     * `channelFrom { "room:${pathParam("room")}" }` on `/rooms/{room}`. Null, or a name outside the rule, is refused
     * with 400 before the upgrade; a namer that throws gets 500, and is logged.
     */
    fun channelFrom(namer: @SquallDslMarker Handshake.() -> String?) {
        route.channelFrom { handshake -> handshake.namer() }
    }

    /** Runs when a client has connected: what it sends arrives before any broadcast (on a channel route, after `subscribed`). */
    fun onOpen(handler: @SquallDslMarker SquallConnection.() -> Unit) {
        route.onOpen { connection -> connection.handler() }
    }

    /** Runs for each text message. */
    fun onMessage(handler: @SquallDslMarker SquallConnection.(text: String) -> Unit) {
        route.onMessage { connection, text -> connection.handler(text) }
    }

    /** Runs for each binary message; the array is the handler's own. */
    fun onBinaryMessage(handler: @SquallDslMarker SquallConnection.(bytes: ByteArray) -> Unit) {
        route.onBinaryMessage { connection, bytes -> connection.handler(bytes) }
    }

    /** Runs once when the connection has closed, whoever closed it. */
    fun onClose(handler: @SquallDslMarker SquallConnection.(code: Int, reason: String?) -> Unit) {
        route.onClose { connection, code, reason -> connection.handler(code, reason) }
    }
}
