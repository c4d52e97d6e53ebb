package dev.squall.kotlin

import com.fasterxml.jackson.databind.ObjectMapper
import dev.squall.ChannelMessage
import dev.squall.Payload
import dev.squall.Squall
import dev.squall.support.Await
import dev.squall.support.RawHttp
import dev.squall.support.RedisProcess
import dev.squall.support.WsTestClient
import io.javalin.Javalin
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.cancel
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.assertj.core.api.Assertions.assertThat
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import java.net.URI
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/**
 * The coroutine half of the Kotlin layer against a real server: [awaitPublish] and the [publications] flow, in memory
 * and, across two nodes, on a real redis-server. Whether a flow is listening is read where an operator would read it,
 * the channel's subscriber count (`GET /channels/{channel}`), never guessed with a sleep.
 */
@Timeout(60)
class SquallCoroutinesTest {

    private val json = ObjectMapper()
    private val deadline = java.time.Duration.ofSeconds(30)
    private val open = mutableListOf<AutoCloseable>()
    private val apps = mutableListOf<Javalin>()

    @AfterEach
    fun stop() {
        apps.forEach { it.stop() }
        open.forEach { it.close() }
    }

    private fun start(configure: SquallConfig.() -> Unit = {}): Pair<Javalin, Squall> {
        val plugin = squall {
            drainWindow = Duration.ZERO
            channelsPath = "/channels"
            configure()
        }
        val app = Javalin.create { it.registerPlugin(plugin) }.start("127.0.0.1", 0)
        apps.add(app)
        return app to plugin.squall()
    }

    private fun subscribers(app: Javalin, channel: String): Int =
        json.readTree(RawHttp.get(app.port(), "/channels/$channel", mapOf()).body()).path("subscribers").asInt()

    private fun awaitSubscribers(app: Javalin, channel: String, count: Int) =
        Await.until("$count subscribers of $channel", deadline, { subscribers(app, channel) }, count)

    @Test
    fun `awaitPublish answers where the publish went, and a refused one throws what publish throws`() = runBlocking<Unit> {
        val (app, squall) = start { ws("/ws/{channel}") { channelFrom("channel") } }
        val client = WsTestClient.connect(URI.create("ws://127.0.0.1:${app.port()}/ws/news")).also { open.add(it) }
        assertThat(client.takeText()).startsWith("{\"squall\":\"subscribed\"")

        val published = squall.awaitPublish("news", Payload.json(mapOf("headline" to "hello")))

        assertThat(published.channel()).isEqualTo("news")
        assertThat(published.offset()).isEqualTo(1)
        assertThat(published.delivered()).isEqualTo(1)
        assertThat(client.takeText()).isEqualTo("{\"headline\":\"hello\"}")
        val refused = assertThrows<IllegalArgumentException> { squall.awaitPublish("bad name!", Payload.text("x")) }
        assertThat(refused).`as`("the cause itself, not a CompletionException around it").hasMessageContaining("space")
    }

    @Test
    fun `publications delivers every publication in order, and a collector that stops closes its subscription`() = runBlocking<Unit> {
        val (app, squall) = start()
        val firstHundred = async(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
            squall.publications("prices").take(100).toList()
        }
        assertThat(subscribers(app, "prices")).`as`("subscribed before the collector first suspends").isEqualTo(1)

        for (i in 1..150) squall.publish("prices", Payload.json(mapOf("p" to i)))

        val got = withTimeout(30.seconds) { firstHundred.await() }
        assertThat(got.map { it.offset() }).isEqualTo((1L..100L).toList())
        assertThat(got.map { it.text() }).startsWith("{\"p\":1}", "{\"p\":2}")
        assertThat(got.map { it.epoch() }.distinct()).hasSize(1)
        awaitSubscribers(app, "prices", 0)
    }

    @Test
    fun `cancelling the collector closes its subscription`() = runBlocking<Unit> {
        val (app, squall) = start()
        val got = CopyOnWriteArrayList<String>()
        val collector = launch(Dispatchers.Default) { squall.publications("news").collect { got.add(it.text()) } }
        awaitSubscribers(app, "news", 1)
        squall.publish("news", "one")
        Await.until("the first publication", deadline) { got.size == 1 }

        collector.cancelAndJoin()

        awaitSubscribers(app, "news", 0)
        squall.publish("news", "after")
        assertThat(got).containsExactly("one")
    }

    @Test
    fun `a collector that falls too far behind ends with SubscriptionEndedException, as a slow client is closed`() = runBlocking<Unit> {
        val (app, squall) = start { maxQueueMessages = 5 }
        val gate = CompletableDeferred<Unit>()
        val got = CopyOnWriteArrayList<ChannelMessage>()
        val ended = async(Dispatchers.Default) {
            runCatching { squall.publications("fast").collect { got.add(it); gate.await() } }.exceptionOrNull()
        }
        awaitSubscribers(app, "fast", 1)

        squall.publish("fast", "m1")
        Await.until("the collector holds the first publication", deadline) { got.size == 1 }
        for (i in 2..20) squall.publish("fast", "m$i")
        awaitSubscribers(app, "fast", 0)                // dropped while its collector still holds the first
        gate.complete(Unit)

        val error = withTimeout(30.seconds) { ended.await() }
        assertThat(error).isInstanceOf(SubscriptionEndedException::class.java)
        error as SubscriptionEndedException
        assertThat(error.channel).isEqualTo("fast")
        assertThat(error.reason).isEqualTo("slow consumer")
        assertThat(got.map { it.text() }).`as`("the one it held, and at most the one handed over as it fell behind")
            .isSubsetOf("m1", "m2").startsWith("m1")
    }

    @Test
    fun `the flow ends with SubscriptionEndedException when the server stops`() = runBlocking<Unit> {
        val (app, squall) = start()
        val ended = async(Dispatchers.Default) {
            runCatching { squall.publications("news").collect { } }.exceptionOrNull()
        }
        awaitSubscribers(app, "news", 1)

        apps.remove(app)
        app.stop()

        val error = withTimeout(30.seconds) { ended.await() }
        assertThat(error).isInstanceOf(SubscriptionEndedException::class.java).hasMessageContaining("the server stops")
    }

    @Test
    fun `a flow bridges one channel into another, publishing with awaitPublish from the collector`() = runBlocking<Unit> {
        val (_, squall) = start()
        val scope = CoroutineScope(Dispatchers.Default)
        val receipts = async(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
            squall.publications("receipts").take(2).toList()
        }
        try {
            // docs:coroutines-kotlin:start
            scope.launch(start = CoroutineStart.UNDISPATCHED) {               // listening once launch returns
                squall.publications("orders").collect { order ->               // each publication, in order
                    val receipt = mapOf("order" to order.offset(), "status" to "received")
                    squall.awaitPublish("receipts", Payload.json(receipt))     // suspends while Redis answers
                }
            }
            // docs:coroutines-kotlin:end
            squall.publish("orders", Payload.json(mapOf("id" to "o-1")))
            squall.publish("orders", Payload.json(mapOf("id" to "o-2")))

            val got = withTimeout(30.seconds) { receipts.await() }
            assertThat(got.map { it.text() })
                .containsExactly("{\"order\":1,\"status\":\"received\"}", "{\"order\":2,\"status\":\"received\"}")
        } finally {
            scope.cancel()
        }
    }

    @Test
    fun `a channel name outside the rule fails the collection with what subscribe throws`() = runBlocking<Unit> {
        val (_, squall) = start()
        val refused = assertThrows<IllegalArgumentException> { squall.publications("bad name!").first() }
        assertThat(refused).hasMessageContaining("space")
    }

    @Test
    fun `with Redis, what one node publishes with awaitPublish reaches a flow on another node, in order`() = runBlocking<Unit> {
        val server = RedisProcess.start().also { open.add(it) }
        val (a, nodeA) = start { redis = server.uri() }
        val (_, nodeB) = start { redis = server.uri() }
        val fifty = async(Dispatchers.Default) { nodeA.publications("orders").take(50).toList() }
        awaitSubscribers(a, "orders", 1)

        val published = (1..50).map { nodeB.awaitPublish("orders", Payload.text("o-$it")) }

        assertThat(published.map { it.delivered() }).`as`("not known with Redis").containsOnly(-1)
        val got = withTimeout(30.seconds) { fifty.await() }
        assertThat(got.map { it.text() }).isEqualTo((1..50).map { "o-$it" })
        assertThat(got.map { it.offset() }).isEqualTo(published.map { it.offset() })
    }
}
