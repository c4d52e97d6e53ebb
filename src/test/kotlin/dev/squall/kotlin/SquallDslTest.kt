package dev.squall.kotlin

import com.fasterxml.jackson.databind.ObjectMapper
import dev.squall.ChannelAction
import dev.squall.Identity
import dev.squall.Payload
import dev.squall.SlowConsumerPolicy
import dev.squall.SquallPlugin
import dev.squall.support.RawHttp
import dev.squall.support.RawWsClient
import dev.squall.support.WsTestClient
import io.javalin.Javalin
import org.assertj.core.api.Assertions.assertThat
import org.assertj.core.api.Assertions.assertThatThrownBy
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import java.lang.reflect.Modifier
import java.net.URI
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.time.Duration
import kotlin.time.Duration.Companion.days
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds
import kotlin.time.toJavaDuration

/**
 * The Kotlin DSL (`squall { }`) against a real server and real clients: receiver handlers, channels named from the
 * request, the handle reached from a handler, kotlin.time settings that the server acts on, and errors that name a
 * setting as the DSL writes it.
 */
@Timeout(60)
class SquallDslTest {

    private val json = ObjectMapper()
    private val open = mutableListOf<AutoCloseable>()
    private var app: Javalin? = null

    @AfterEach
    fun stop() {
        open.forEach { it.close() }
        app?.stop()
    }

    /** A server with the plugin the DSL builds; no drain window, so that each test's stop is quick. */
    private fun start(configure: SquallConfig.() -> Unit): Javalin {
        val plugin = squall {
            drainWindow = Duration.ZERO
            configure()
        }
        return Javalin.create { it.registerPlugin(plugin) }.start("127.0.0.1", 0).also { app = it }
    }

    private fun connect(path: String): WsTestClient =
        WsTestClient.connect(URI.create("ws://127.0.0.1:${app!!.port()}$path")).also { open.add(it) }

    @Test
    fun `a route's handlers have the connection as receiver - they greet, echo text and bytes, and hear the close`() {
        val closes = LinkedBlockingQueue<String>()
        start {
            ws("/chat") {
                onOpen { send("hello ${queryParam("name") ?: "stranger"} on ${path()}") }
                onMessage { text -> send("echo: $text") }
                onBinaryMessage { bytes -> send(bytes.reversedArray()) }
                onClose { code, reason -> closes.add("$code $reason") }
            }
        }
        val ada = connect("/chat?name=ada")
        assertThat(ada.takeText()).isEqualTo("hello ada on /chat")
        ada.send("hi")
        assertThat(ada.takeText()).isEqualTo("echo: hi")
        ada.sendBinary(byteArrayOf(1, 2, 3))
        assertThat(ada.takeBinary()).containsExactly(3, 2, 1)

        ada.closeWith(4000, "done")
        assertThat(closes.poll(10, TimeUnit.SECONDS)).isEqualTo("4000 done")
    }

    @Test
    fun `a handler reads who its client is as properties - identity, its user and info`() {
        start {
            ws("/chat") {
                onOpen { send("anonymous=${identity.isAnonymous} user='${identity.user}' info=${identity.info}") }
            }
        }
        assertThat(connect("/chat").takeText()).`as`("an open server: every client is anonymous")
            .isEqualTo("anonymous=true user='' info=null")

        val ada = Identity.of("42", "{ \"name\": \"Ada\" }")
        assertThat(ada.user).isEqualTo("42")
        assertThat(ada.info).isEqualTo("{\"name\":\"Ada\"}")
        assertThat(ada.isAnonymous).isFalse()
    }

    @Test
    fun `authenticate has the Handshake as receiver and authorize the Identity - the app's own session admits ada to her channel alone`() {
        val server = start {
            hookTimeout = 2.seconds
            authenticate {
                when (cookie("session")) {
                    "s-ada" -> Identity.of("ada", "{\"name\":\"Ada\"}")
                    "s-bob" -> Identity.of("bob")
                    else -> null
                }
            }
            authorize { channel, action -> action == ChannelAction.SUBSCRIBE && channel == "private:$user" }
            ws("/ws/{channel}") {
                channelFrom("channel")
                onOpen { send("hello ${identity.user} ${identity.info}") }
            }
        }
        val ada = WsTestClient.connect(URI.create("ws://127.0.0.1:${server.port()}/ws/private:ada"),
            mapOf("Cookie" to "session=s-ada"), listOf()).also { open.add(it) }
        assertThat(json.readTree(ada.takeText()).path("squall").asText()).isEqualTo("subscribed")
        assertThat(ada.takeText()).isEqualTo("hello ada {\"name\":\"Ada\"}")

        val bob = RawHttp.get(server.port(), "/ws/private:ada", upgradeHeaders() + ("Cookie" to "session=s-bob"))
        assertThat(bob.status()).`as`("bob, to ada's channel").isEqualTo(403)
        val stranger = RawHttp.get(server.port(), "/ws/private:ada", upgradeHeaders() + ("Cookie" to "session=forged"))
        assertThat(stranger.status()).`as`("a session the app does not know").isEqualTo(401)
    }

    @Test
    fun `channelFrom names the channel from the handshake, a handler publishes through squall(), and the namespace's options apply`() {
        val server = start {
            channelsPath = "/channels"
            ws("/rooms/{room}") {
                channelFrom { if (queryParam("private") != null) null else "room:" + pathParam("room") }
                onMessage { text -> squall().publish("room:" + pathParam("room"), Payload.text(text)) }
            }
            ws("/ws/{channel}") { channelFrom("channel") }
            namespace("room") { historySize = 2 }
        }
        val ann = connect("/rooms/lobby")
        assertThat(json.readTree(ann.takeText()).path("channel").asText()).isEqualTo("room:lobby")
        val watcher = connect("/ws/room:lobby")
        assertThat(json.readTree(watcher.takeText()).path("squall").asText()).isEqualTo("subscribed")

        for (text in listOf("a", "b", "c")) ann.send(text)
        assertThat(listOf(ann.takeText(), ann.takeText(), ann.takeText())).containsExactly("a", "b", "c")
        assertThat(listOf(watcher.takeText(), watcher.takeText(), watcher.takeText())).containsExactly("a", "b", "c")
        val history = json.readTree(RawHttp.get(server.port(), "/channels/room:lobby/history", mapOf()).body())
        assertThat(history.path("publications").map { it.path("data").asText() })
            .`as`("namespace(\"room\") { historySize = 2 }").containsExactly("b", "c")

        val refused = RawHttp.get(server.port(), "/rooms/lobby?private=1", upgradeHeaders())
        assertThat(refused.status()).`as`("a namer that answers null: no channel").isEqualTo(400)
    }

    @Test
    fun `kotlin time settings reach the server - a peer that never answers pings is dropped after pingInterval plus pingTimeout`() {
        val interval = 300.milliseconds
        val timeout = 1.seconds
        val server = start {
            pingInterval = interval
            pingTimeout = timeout
        }
        val answering = connect("/ws")
        RawWsClient.connect(server.port()).use { silent ->
            assertThat(silent.status()).isEqualTo(101)
            // The defaults (25 s and 10 s) would keep it far longer than this deadline.
            assertThat(silent.awaitServerClose(((interval + timeout) * 3).toJavaDuration())).isEqualTo(1006)
        }
        assertThat(answering.isOpen).`as`("a client that answers pings stays").isTrue()
    }

    @Test
    fun `every setting of SquallPlugin Config is a property of the DSL, durations as kotlin time, landing on the Java field`() {
        val fields = SquallPlugin.Config::class.java.fields.filter { !Modifier.isStatic(it.modifiers) }.map { it.name }
        val getters = SquallConfig::class.java.methods.map { it.name.substringBefore('-') }
        assertThat(fields).isNotEmpty.allSatisfy { field ->
            assertThat(getters).`as`("SquallConfig.$field").contains("get" + field.replaceFirstChar(Char::uppercase))
        }
        val namespaceFields = SquallPlugin.Namespace::class.java.fields.map { it.name }
        val namespaceGetters = SquallNamespace::class.java.methods.map { it.name.substringBefore('-') }
        assertThat(namespaceFields).allSatisfy { field ->
            assertThat(namespaceGetters).`as`("SquallNamespace.$field").contains("get" + field.replaceFirstChar(Char::uppercase))
        }

        val javaConfig = SquallPlugin.Config()
        val config = SquallConfig(javaConfig)
        assertThat(config.pingInterval).`as`("the Java default, read as kotlin.time").isEqualTo(25.seconds)
        assertThat(config.idempotencyWindow).isEqualTo(5.minutes)
        config.apply {
            pingInterval = 7.seconds
            pingTimeout = 1500.milliseconds
            writeTimeout = Duration.ZERO
            historyTtl = 2.hours
            idempotencyWindow = 90.seconds
            drainWindow = 250.milliseconds
            stopTimeout = 3.seconds
            slowConsumerPolicy = SlowConsumerPolicy.DROP_OLDEST
            maxPublishBytes = 4096
            allowedOrigins = listOf("https://app.example")
            namespace("chat") { historyTtl = 30.seconds; presence = true }
        }
        assertThat(javaConfig.pingInterval).isEqualTo(java.time.Duration.ofSeconds(7))
        assertThat(javaConfig.pingTimeout).isEqualTo(java.time.Duration.ofMillis(1500))
        assertThat(javaConfig.writeTimeout).isEqualTo(java.time.Duration.ZERO)
        assertThat(javaConfig.historyTtl).isEqualTo(java.time.Duration.ofHours(2))
        assertThat(javaConfig.idempotencyWindow).isEqualTo(java.time.Duration.ofSeconds(90))
        assertThat(javaConfig.drainWindow).isEqualTo(java.time.Duration.ofMillis(250))
        assertThat(javaConfig.stopTimeout).isEqualTo(java.time.Duration.ofSeconds(3))
        assertThat(javaConfig.slowConsumerPolicy).isEqualTo(SlowConsumerPolicy.DROP_OLDEST)
        assertThat(javaConfig.maxPublishBytes).isEqualTo(4096L)
        assertThat(javaConfig.allowedOrigins).containsExactly("https://app.example")
    }

    @Test
    fun `a bad setting fails Javalin create with the setting named as the DSL writes it`() {
        assertThatThrownBy { Javalin.create { it.registerPlugin(squall { maxQueueBytes = 10 }) } }
            .isInstanceOf(IllegalArgumentException::class.java)
            .hasMessageContaining("squall { maxQueueBytes } must be at least 1024, got 10")
        assertThatThrownBy { Javalin.create { it.registerPlugin(squall { namespace("chat") { historyTtl = Duration.ZERO } }) } }
            .isInstanceOf(IllegalArgumentException::class.java)
            .hasMessageContaining("squall { namespace(\"chat\") { historyTtl } } must be at least 1 second")
    }

    @Test
    fun `Duration INFINITE, which Java has no room for, is refused where it is set, naming the setting and what turns it off`() {
        assertThatThrownBy { squall { pingInterval = Duration.INFINITE } }
            .isInstanceOf(IllegalArgumentException::class.java)
            .hasMessage("squall { pingInterval } must be a finite Duration, got Infinity: Duration.ZERO turns pings off")
        assertThatThrownBy { squall { writeTimeout = Duration.INFINITE } }
            .hasMessage("squall { writeTimeout } must be a finite Duration, got Infinity: Duration.ZERO turns it off")
        assertThatThrownBy { squall { namespace("chat") { historyTtl = Duration.INFINITE } } }
            .hasMessage("squall { namespace(\"chat\") { historyTtl } } must be a finite Duration, got Infinity")
        val settings = listOf<SquallConfig.() -> Unit>(
            { pingTimeout = Duration.INFINITE }, { historyTtl = Duration.INFINITE }, { idempotencyWindow = Duration.INFINITE },
            { drainWindow = Duration.INFINITE }, { stopTimeout = Duration.INFINITE }, { connectTimeout = Duration.INFINITE },
            { hookTimeout = Duration.INFINITE },
        )
        for (setting in settings) {
            assertThatThrownBy { squall(setting) }.isInstanceOf(IllegalArgumentException::class.java)
                .hasMessageContaining("must be a finite Duration, got Infinity")
        }
        assertThat(squall { historyTtl = 3650.days }).`as`("long, but finite").isNotNull()
    }

    @Test
    fun `a refused origin is told how to allow it in the DSL's terms`() {
        val server = start { ws("/chat") { } }
        val refused = RawHttp.get(server.port(), "/chat", upgradeHeaders() + ("Origin" to "http://evil.example"))
        assertThat(refused.status()).isEqualTo(403)
        assertThat(refused.body()).contains("add http://evil.example to squall { allowedOrigins }")
    }

    private fun upgradeHeaders(): Map<String, String> = mapOf(
        "Upgrade" to "websocket",
        "Connection" to "Upgrade",
        "Sec-WebSocket-Key" to "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version" to "13",
    )
}
