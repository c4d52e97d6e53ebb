@file:JvmName("SquallDsl")

package dev.squall.kotlin

import dev.squall.SettingNames
import dev.squall.SquallPlugin
import kotlin.time.Duration
import kotlin.time.toJavaDuration

/**
 * A [SquallPlugin] configured the Kotlin way, as Ktor's `install(WebSockets) { pingPeriod = 15.seconds }` is:
 *
 * ```
 * val plugin = squall {
 *     pingInterval = 25.seconds
 *     ws("/rooms/{room}") {
 *         channelFrom { "room:${pathParam("room")}" }
 *         onMessage { text -> squall().publish("room:${pathParam("room")}", Payload.text(text)) }
 *     }
 * }
 * Javalin.create { config -> config.registerPlugin(plugin) }
 * ```
 *
 * Every setting starts from the default [SquallPlugin.Config] documents, and is checked at `Javalin.create()`: a bad
 * value fails it with an [IllegalArgumentException] that names the setting as written here (`squall { pingInterval }`).
 * An infinite duration, which Java cannot hold, is refused as it is set, inside this block.
 * Needs nothing but Squall and Javalin; [awaitPublish] and [publications] need kotlinx-coroutines.
 */
fun squall(configure: SquallConfig.() -> Unit): SquallPlugin =
    SquallPlugin({ config -> SquallConfig(config).configure() }, KotlinNames)

/** Keeps a block of the DSL from reaching the receivers around it: `onMessage` inside `onOpen { }` does not compile. */
@DslMarker
@Target(AnnotationTarget.CLASS, AnnotationTarget.TYPE)
annotation class SquallDslMarker

/** How errors name the settings to a Kotlin user: as the DSL writes them, `squall { maxQueueBytes }`. */
internal object KotlinNames : SettingNames() {
    override fun name(field: String) = "squall { $field }"

    override fun howToList(field: String, value: String) = "add $value to ${name(field)}"

    override fun howToSet(field: String, value: String) = "set ${name(field)} to $value"

    override fun howToSkipTheDrain() = ""

    override fun namespace(namespace: String) = "squall { namespace(\"$namespace\") }"

    override fun inNamespace(namespace: String, field: String) = "squall { namespace(\"$namespace\") { $field } }"
}

/**
 * [value] for the Java [setting] (named as the DSL writes it), refused where it is set when it is infinite: Java has no
 * infinite duration, and `Duration.INFINITE` converts to one so long that the node's arithmetic on it would overflow.
 */
internal fun finite(value: Duration, setting: String, instead: String = ""): java.time.Duration {
    require(value.isFinite()) {
        "$setting must be a finite Duration, got $value" + if (instead.isEmpty()) "" else ": $instead"
    }
    return value.toJavaDuration()
}
