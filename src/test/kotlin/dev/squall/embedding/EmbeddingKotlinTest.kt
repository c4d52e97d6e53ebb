package dev.squall.embedding

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import dev.squall.Identity
import dev.squall.Payload
import dev.squall.ReadAccess
import dev.squall.SquallConnection
import dev.squall.SquallPlugin
import dev.squall.SubscribeAccess
import dev.squall.kotlin.identity
import dev.squall.kotlin.publications
import dev.squall.kotlin.squall
import dev.squall.kotlin.user
import dev.squall.support.Await
import dev.squall.support.RawHttp
import dev.squall.support.RawWsClient
import dev.squall.support.Stopping
import dev.squall.support.WsTestClient
import io.javalin.Javalin
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import org.assertj.core.api.Assertions.assertThat
import org.jspecify.annotations.NullMarked
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.charset.StandardCharsets
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.time.Duration.Companion.seconds

/**
 * Squall embedded in a Kotlin app, as docs/embedding.md shows it beside the Java of [EmbeddingTest]: the same apps,
 * written with the DSL of `dev.squall.kotlin`, each on a real server on a free port with real clients; and the Java
 * API called from Kotlin as it stands, which the guide says works too.
 */
@Timeout(120)
class EmbeddingKotlinTest {

    private val http: HttpClient = HttpClient.newHttpClient()
    private val json = ObjectMapper()
    private val clients = mutableListOf<AutoCloseable>()
    private var app: Javalin? = null
    /** Set by the tests that run a plugin as documented, with the default drain window: stopped without it. */
    private var documented: SquallPlugin? = null

    /** The app's own scope for its coroutines, which it cancels when it stops. */
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    @AfterEach
    fun stop() {
        scope.cancel()
        clients.forEach { it.close() }
        val app = app ?: return
        documented?.let { Stopping.withoutDrain(app, it) } ?: app.stop()
    }

    @Test
    fun `an app with its own routes gets an echo route and pushes from its own handler`() {
        // docs:embedding-kotlin:start
        val plugin = squall {
            pingInterval = 15.seconds                                      // every setting, as a property
            ws("/chat") {
                onOpen { send("hello ${queryParam("name") ?: "stranger"}") }   // the connection is the receiver
                onMessage { text -> send("echo: $text") }
            }
        }
        val app = Javalin.create { config ->
            config.registerPlugin(plugin)
            config.routes.get("/orders") { ctx -> ctx.result("no orders yet") }   // the app's own routes
            config.routes.post("/orders") { ctx ->
                val delivered = plugin.squall().broadcast("new order: ${ctx.body()}")
                ctx.json(mapOf("delivered" to delivered))
            }
        }.start("127.0.0.1", 0)
        // docs:embedding-kotlin:end
        this.app = app
        this.documented = plugin

        val ann = connect("/chat?name=ann")
        val bob = connect("/chat")
        assertThat(ann.takeText()).isEqualTo("hello ann")
        assertThat(bob.takeText()).`as`("no name: queryParam is null").isEqualTo("hello stranger")
        ann.send("hi")
        assertThat(ann.takeText()).isEqualTo("echo: hi")

        val posted = post("/orders", "42 apples")
        assertThat(posted.statusCode()).isEqualTo(200)
        assertThat(posted.body()).isEqualTo("{\"delivered\":2}")
        assertThat(ann.takeText()).isEqualTo("new order: 42 apples")
        assertThat(bob.takeText()).isEqualTo("new order: 42 apples")
        assertThat(get("/orders").body()).isEqualTo("no orders yet")
    }

    data class Order(val id: String, val items: Int)

    @Test
    fun `an app publishes values, names channels from the path, listens itself as a Flow and serves the browser client`() {
        val audit = CopyOnWriteArrayList<String>()
        // docs:api-kotlin:start
        val plugin = squall {
            clientPath = "/js/squall.js"                               // the browser client, for the app's pages
            ws("/rooms/{room}") {
                channelFrom { "room:${pathParam("room")}" }             // the Handshake is the receiver
                onMessage { text -> squall().publish("room:${pathParam("room")}", Payload.text(text)) }
            }
        }
        val app = Javalin.create { config ->
            config.registerPlugin(plugin)
            config.routes.post("/orders/{id}") { ctx ->
                val order = Order(ctx.pathParam("id"), ctx.body().toInt())
                val published = plugin.squall().publish("orders",
                    Payload.json(order).idempotencyKey("order-${order.id}"))   // a retry publishes once
                ctx.json(mapOf("offset" to published.offset()))
            }
        }.start("127.0.0.1", 0)
        scope.launch(start = CoroutineStart.UNDISPATCHED) {            // the app listens too, from here on
            plugin.squall().publications("orders").collect { audit.add("${it.offset()} ${it.text()}") }
        }
        // docs:api-kotlin:end
        this.app = app
        this.documented = plugin

        val ann = connect("/rooms/lobby")
        assertThat(ann.takeText()).contains("\"channel\":\"room:lobby\"")
        ann.send("hi all")
        assertThat(ann.takeText()).isEqualTo("hi all")
        assertThat(post("/orders/o-7", "3").body()).isEqualTo("{\"offset\":1}")
        assertThat(post("/orders/o-7", "3").body()).`as`("the retry").isEqualTo("{\"offset\":1}")
        Await.until("the app's own subscriber", WsTestClient.DEADLINE) { audit.size == 1 }
        assertThat(audit).containsExactly("1 {\"id\":\"o-7\",\"items\":3}")
        assertThat(get("/js/squall.js").body()).contains("squall.v1")
    }

    /** The app's own sessions: the identity of a signed-in session id, or null. */
    private object Sessions {
        fun identityOf(session: String?): Identity? = when (session) {
            "s-ada" -> Identity.of("ada")
            "s-bob" -> Identity.of("bob")
            else -> null
        }
    }

    @Test
    fun `the guide's example lets users in by session, each to their own account and everyone to the news`() {
        val sessions = Sessions
        // docs:who-may-connect-kotlin:start
        val plugin = squall {
            // Who is connecting, with the Handshake as receiver: the app's own session cookie says; null refuses (401).
            authenticate { sessions.identityOf(cookie("session")) }
            // What a user, the receiver, may do with a channel its rules leave to the app: only their own account.
            authorize { channel, _ -> channel == "account:$user" }
            namespace("account") {
                subscribe = SubscribeAccess.TOKEN     // private: a token or the hook must grant it (the default)
                read = ReadAccess.SUBSCRIBERS         // history and presence too (the default)
            }
            namespace("news") { subscribe = SubscribeAccess.PUBLIC }   // anyone signed in listens
            ws("/ws") { onOpen { send("hello ${identity.user}") } }
        }
        // docs:who-may-connect-kotlin:end
        val app = Javalin.create { it.registerPlugin(plugin) }.start("127.0.0.1", 0).also { this.app = it }
        documented = plugin

        assertThat(RawHttp.get(app.port(), "/ws", upgradeHeaders(null) + ("Cookie" to "session=forged")).status()).isEqualTo(401)
        assertThat(connect("/ws", "s-ada").takeText()).isEqualTo("hello ada")

        val bob = connect("/ws", "s-bob", listOf("squall.v1"))
        assertThat(call(bob, 1, "subscribe", "account:ada").path("code").asText()).isEqualTo("forbidden")
        assertThat(call(bob, 2, "presence", "account:ada").path("code").asText()).isEqualTo("forbidden")
        assertThat(call(bob, 3, "subscribe", "account:bob").path("type").asText()).isEqualTo("subscribed")
        assertThat(call(bob, 4, "presence", "account:bob").path("type").asText()).isEqualTo("presence")
        assertThat(call(bob, 5, "subscribe", "news:today").path("type").asText()).isEqualTo("subscribed")
        assertThat(call(bob, 6, "subscribe", "elsewhere").path("code").asText())
            .`as`("outside the namespaces: private, and the hook says no").isEqualTo("forbidden")
    }

    @Test
    fun `allowedOrigins set in the DSL is checked before the upgrade, and same-origin and origin-less clients connect`() {
        val plugin = squall {
            drainWindow = 0.seconds
            allowedOrigins = listOf("http://good.example")
            ws("/chat") { onOpen { send("hello") } }
        }
        val app = Javalin.create { it.registerPlugin(plugin) }.start("127.0.0.1", 0).also { this.app = it }

        val refused = RawHttp.get(app.port(), "/chat", upgradeHeaders("http://evil.example"))
        assertThat(refused.status()).isEqualTo(403)
        assertThat(refused.body()).contains("add http://evil.example to squall { allowedOrigins }")
        assertThat(upgrade("/chat", "http://good.example")).isEqualTo(101)
        assertThat(upgrade("/chat", "http://localhost:${app.port()}")).`as`("the page's own origin").isEqualTo(101)
        assertThat(upgrade("/chat", null)).`as`("no Origin: not a browser").isEqualTo(101)
    }

    @Test
    fun `the Java API works from Kotlin without the DSL - lambdas for its Consumers and subscribers, nullness from @NullMarked`() {
        // Without @NullMarked on dev.squall, Kotlin would see platform types (String!) and check nothing below.
        assertThat(SquallConnection::class.java.`package`.isAnnotationPresent(NullMarked::class.java)).isTrue()
        val seen = LinkedBlockingQueue<String>()
        val plugin = SquallPlugin { cfg ->
            cfg.drainWindow = java.time.Duration.ZERO
            cfg.ws("/ws/{channel}") { ws ->
                ws.channelFrom("channel")
                ws.onOpen { client ->
                    val id: String = client.id()
                    val name: String? = client.queryParam("name")
                    seen.add("${id.isNotEmpty()} $name ${client.identity().user().isEmpty()}")
                }
            }
        }
        app = Javalin.create { it.registerPlugin(plugin) }.start("127.0.0.1", 0)
        val subscription = plugin.squall().subscribe("news") { message -> seen.add("app got ${message.text()}") }

        val client = connect("/ws/news")
        assertThat(client.takeText()).startsWith("{\"squall\":\"subscribed\"")
        assertThat(seen.poll(10, TimeUnit.SECONDS)).isEqualTo("true null true")
        plugin.squall().publish("news", "hello")
        assertThat(client.takeText()).isEqualTo("hello")
        assertThat(seen.poll(10, TimeUnit.SECONDS)).isEqualTo("app got hello")
        subscription.close()
    }

    private fun connect(pathAndQuery: String): WsTestClient =
        WsTestClient.connect(URI.create("ws://127.0.0.1:${app!!.port()}$pathAndQuery")).also { clients.add(it) }

    /** A client whose request carries the app's session cookie. */
    private fun connect(path: String, session: String, subprotocols: List<String> = listOf()): WsTestClient =
        WsTestClient.connect(URI.create("ws://127.0.0.1:${app!!.port()}$path"), mapOf("Cookie" to "session=$session"), subprotocols)
            .also { clients.add(it) }

    /** A `squall.v1` command on [channel], and its reply (pushes before it skipped). */
    private fun call(client: WsTestClient, id: Int, type: String, channel: String): JsonNode {
        client.send("""{"id":$id,"type":"$type","channel":"$channel"}""")
        while (true) {
            val frame = json.readTree(client.takeText())
            if (frame.has("id")) return frame
        }
    }

    /** The status of a WebSocket handshake on [path], with this Origin (null: none), on a bare socket: the JDK client sets none. */
    private fun upgrade(path: String, origin: String?): Int {
        val request = StringBuilder("GET $path HTTP/1.1\r\nHost: localhost:${app!!.port()}\r\n")
        upgradeHeaders(origin).forEach { (name, value) -> request.append("$name: $value\r\n") }
        request.append("\r\n")
        return RawWsClient.handshake(app!!.port(), request.toString().toByteArray(StandardCharsets.US_ASCII), 0).use { it.status() }
    }

    private fun upgradeHeaders(origin: String?): Map<String, String> = buildMap {
        put("Upgrade", "websocket")
        put("Connection", "Upgrade")
        put("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        put("Sec-WebSocket-Version", "13")
        if (origin != null) put("Origin", origin)
    }

    private fun get(path: String): HttpResponse<String> = http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:${app!!.port()}$path")).timeout(WsTestClient.DEADLINE).build(),
        HttpResponse.BodyHandlers.ofString(),
    )

    private fun post(path: String, body: String): HttpResponse<String> = http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:${app!!.port()}$path")).timeout(WsTestClient.DEADLINE)
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString(),
    )
}
