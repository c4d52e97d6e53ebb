package dev.squall

import com.fasterxml.jackson.databind.ObjectMapper
import dev.squall.kotlin.squall
import dev.squall.kotlin.user
import dev.squall.support.RawHttp
import dev.squall.support.Stopping
import dev.squall.support.WsTestClient
import io.javalin.Javalin
import org.assertj.core.api.Assertions.assertThat
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Test
import java.net.URI

/**
 * The README's authenticate and authorize hooks as a Kotlin app writes them, with the DSL of `dev.squall.kotlin`:
 * receivers instead of parameters, and Kotlin seeing from `@NullMarked` that a cookie may be null and that the hook may
 * answer null.
 */
class HooksKotlinTest {

    /** The app's sessions: the identity of a session id, or null for none. */
    private object Sessions {
        fun identityOf(sessionId: String?): Identity? = if (sessionId == "s-ada") Identity.of("ada") else null
    }

    private var app: Javalin? = null
    private var plugin: SquallPlugin? = null

    // The README's plugin keeps the default drain window (3 s), which a plain stop would wait out.
    @AfterEach
    fun stop() {
        val app = app ?: return
        plugin?.let { Stopping.withoutDrain(app, it) } ?: app.stop()
    }

    @Test
    fun `a session the app knows connects, and each user may subscribe to their own account only`() {
        val sessions = Sessions
        // docs:hooks-kotlin:start
        val plugin = squall {
            authenticate { sessions.identityOf(cookie("session")) }   // the Handshake is the receiver; null: 401
            authorize { channel, _ -> channel == "account:$user" }    // the Identity is the receiver
        }
        // docs:hooks-kotlin:end
        val started = Javalin.create { config -> config.registerPlugin(plugin) }.start("127.0.0.1", 0)
        app = started
        this.plugin = plugin
        val upgrade = mapOf(
            "Upgrade" to "websocket", "Connection" to "Upgrade",
            "Sec-WebSocket-Version" to "13", "Sec-WebSocket-Key" to "dGhlIHNhbXBsZSBub25jZQ==",
        )
        assertThat(RawHttp.get(started.port(), "/ws", upgrade).status()).`as`("no session").isEqualTo(401)

        WsTestClient.connect(
            URI.create("ws://127.0.0.1:${started.port()}/ws"), mapOf("Cookie" to "session=s-ada"), listOf("squall.v1"),
        ).use { ada ->
            ada.send("""{"id":1,"type":"subscribe","channel":"account:ada"}""")
            assertThat(ObjectMapper().readTree(ada.takeText())["type"].asText()).isEqualTo("subscribed")
            ada.send("""{"id":2,"type":"subscribe","channel":"account:bob"}""")
            assertThat(ObjectMapper().readTree(ada.takeText())["code"].asText()).isEqualTo("forbidden")
        }
    }
}
