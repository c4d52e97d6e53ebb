package dev.squall.embedding

import com.fasterxml.jackson.databind.ObjectMapper
import dev.squall.Payload
import dev.squall.SquallConnection
import dev.squall.kotlin.publications
import dev.squall.kotlin.squall
import dev.squall.support.Await
import dev.squall.support.RawHttp
import dev.squall.support.RawWsClient
import dev.squall.support.WsTestClient
import io.javalin.Javalin
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import org.assertj.core.api.Assertions.assertThat
import org.jspecify.annotations.NullMarked
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.MethodOrderer
import org.junit.jupiter.api.Order as RunOrder
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.TestMethodOrder
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.charset.StandardCharsets
import java.util.Base64
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.time.Duration.Companion.seconds

// docs:embedding-kotlin:start
fun startShop(port: Int, origins: List<String> = emptyList()): Javalin {
    val plugin = squall {
        pingInterval = 25.seconds
        allowedOrigins = origins // pages from these origins may connect, besides the server's own
        ws("/chat") {
            onOpen { send("hello ${queryParam("name") ?: "stranger"}") }
            onMessage { text -> send("echo: $text") }
        }
    }
    return Javalin.create { config ->
        config.registerPlugin(plugin)
        config.routes.get("/orders") { ctx -> ctx.result("no orders") } // the app's own routes
        config.routes.post("/orders") { ctx ->
            val delivered = plugin.squall().broadcast("new order: ${ctx.body()}")
            ctx.json(mapOf("delivered" to delivered))
        }
    }.start("127.0.0.1", port)
}
// docs:embedding-kotlin:end

/**
 * Squall embedded the way a Kotlin user would: [startShop] above is the docs' example, a Javalin app with its own
 * routes that registers the plugin the Kotlin DSL builds and pushes from its own handler; the docs' second Kotlin
 * example (values, a channel from the path, the app listening, `squall.js`) runs in an app of its own. One real server on a free port for the
 * class (its stop waits out the default drain window once, not once per test), real clients.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation::class)
class EmbeddingKotlinTest {

    private val app: Javalin = startShop(0, origins = listOf("http://good.example"))
    private val port: Int = app.port()
    private val http: HttpClient = HttpClient.newHttpClient()

    @AfterAll
    fun stopApp() {
        app.stop()
    }

    private fun chat(port: Int, query: String = ""): WsTestClient =
        WsTestClient.connect(URI.create("ws://127.0.0.1:$port/chat$query"))

    @Test
    fun `a chat client is greeted first, then each message it sends is echoed back`() {
        chat(port, "?name=ada").use { ada ->
            assertThat(ada.takeText()).isEqualTo("hello ada")
            ada.send("hi")
            assertThat(ada.takeText()).isEqualTo("echo: hi")
            ada.send("and again")
            assertThat(ada.takeText()).isEqualTo("echo: and again")
        }
        chat(port).use { anonymous ->
            assertThat(anonymous.takeText()).`as`("no name query parameter: queryParam is null").isEqualTo("hello stranger")
        }
    }

    // First, so that no client of another test on this shared server can still be counted among the recipients.
    @Test
    @RunOrder(1)
    fun `a POST to the app's own route broadcasts to every chat client and answers how many it reached`() {
        chat(port, "?name=ada").use { ada ->
            chat(port, "?name=bob").use { bob ->
                // The greeting is sent from onOpen, so once it is here the client is among the broadcast's recipients.
                assertThat(ada.takeText()).isEqualTo("hello ada")
                assertThat(bob.takeText()).isEqualTo("hello bob")

                val response = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:$port/orders"))
                        .timeout(WsTestClient.DEADLINE)
                        .POST(HttpRequest.BodyPublishers.ofString("#42"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString(),
                )
                assertThat(response.statusCode()).isEqualTo(200)
                assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying {
                    assertThat(it).startsWith("application/json")
                }
                assertThat(ObjectMapper().readTree(response.body())["delivered"]?.asInt()).isEqualTo(2)

                assertThat(ada.takeText()).isEqualTo("new order: #42")
                assertThat(bob.takeText()).isEqualTo("new order: #42")
            }
        }
    }

    @Test
    fun `the app's own GET route still answers beside Squall's`() {
        val response = http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:$port/orders")).timeout(WsTestClient.DEADLINE).build(),
            HttpResponse.BodyHandlers.ofString(),
        )
        assertThat(response.statusCode()).isEqualTo(200)
        assertThat(response.body()).isEqualTo("no orders")
    }

    @Test
    fun `an upgrade from a foreign origin is refused with 403 while same-origin and origin-less clients connect`() {

        val refused = refusedUpgrade(port, "http://evil.example")
        assertThat(refused.status()).isEqualTo(403)
        assertThat(refused.body()).contains("http://evil.example")

        // The page's own origin: what a browser sends for a page served by this server.
        rawUpgrade(port, "/chat?name=page", origin = "http://localhost:$port").use { page ->
            assertThat(page.status()).isEqualTo(101)
            assertThat(page.read(WsTestClient.DEADLINE).text()).isEqualTo("hello page")
        }
        // No Origin at all (the JDK client, a native app): not a browser page, so not refused.
        chat(port, "?name=cli").use { cli ->
            assertThat(cli.takeText()).isEqualTo("hello cli")
        }
    }

    @Test
    fun `an origin in allowedOrigins connects, and others are still refused`() {

        rawUpgrade(port, "/chat?name=good", origin = "http://good.example").use { good ->
            assertThat(good.status()).isEqualTo(101)
            assertThat(good.read(WsTestClient.DEADLINE).text()).isEqualTo("hello good")
        }
        assertThat(refusedUpgrade(port, "http://evil.example").status()).isEqualTo(403)
    }

    data class Order(val id: String, val items: Int)

    @Test
    fun `an app publishes values, names channels from the path, listens itself as a Flow and serves the browser client`() {
        val audit = CopyOnWriteArrayList<String>()
        val scope = CoroutineScope(Dispatchers.Default)
        // docs:api-kotlin:start
        val plugin = squall {
            clientPath = "/js/squall.js"                          // the browser client, for the app's pages
            ws("/rooms/{room}") {
                channelFrom { "room:" + pathParam("room") }
                onMessage { text -> squall().publish("room:" + pathParam("room"), Payload.text(text)) }
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
        val auditing = scope.launch(start = CoroutineStart.UNDISPATCHED) {   // the app listens too, from here on
            plugin.squall().publications("orders").collect { audit.add("${it.offset()} ${it.text()}") }
        }
        // docs:api-kotlin:end
        try {
            WsTestClient.connect(URI.create("ws://127.0.0.1:${app.port()}/rooms/lobby")).use { ann ->
                assertThat(ann.takeText()).contains("\"channel\":\"room:lobby\"")
                ann.send("hi all")
                assertThat(ann.takeText()).isEqualTo("hi all")
            }
            repeat(2) {
                val posted = RawHttp.request(app.port(), "POST", "/orders/o-7", mapOf(), "3".toByteArray())
                assertThat(posted.body()).`as`("the order, then its retry").isEqualTo("{\"offset\":1}")
            }
            Await.until("the app's own subscriber", WsTestClient.DEADLINE) { audit.size == 1 }
            assertThat(audit).containsExactly("1 {\"id\":\"o-7\",\"items\":3}")
            assertThat(RawHttp.get(app.port(), "/js/squall.js", mapOf()).body()).contains("squall.v1")
            assertThat(auditing.isActive).isTrue()
        } finally {
            scope.cancel()
            app.stop()
        }
    }

    @Test
    fun `Squall's API is @NullMarked, so Kotlin sees String for id() and String? only where the API says @Nullable`() {
        // Without @NullMarked on dev.squall, Kotlin would see platform types (String!) and check nothing.
        assertThat(SquallConnection::class.java.`package`.isAnnotationPresent(NullMarked::class.java)).isTrue()
    }

    /** A complete WebSocket handshake on a bare socket: the JDK client refuses to set Origin. */
    private fun rawUpgrade(port: Int, target: String, origin: String): RawWsClient {
        val key = Base64.getEncoder().encodeToString("squall-kotlin-16".toByteArray())
        val request = "GET $target HTTP/1.1\r\n" +
            "Host: localhost:$port\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            "Sec-WebSocket-Key: $key\r\n" +
            "Sec-WebSocket-Version: 13\r\n" +
            "Origin: $origin\r\n" +
            "\r\n"
        return RawWsClient.handshake(port, request.toByteArray(StandardCharsets.US_ASCII), 0)
    }

    /** An upgrade request to /chat with this Origin, read as plain HTTP: the refusal's status and body. */
    private fun refusedUpgrade(port: Int, origin: String): RawHttp =
        RawHttp.get(
            port, "/chat", mapOf(
                "Upgrade" to "websocket",
                "Connection" to "Upgrade",
                "Sec-WebSocket-Key" to "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version" to "13",
                "Origin" to origin,
            )
        )
}
