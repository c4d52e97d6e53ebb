@file:JvmName("SquallDsl")

package dev.squall.kotlin

import dev.squall.SettingNames
import dev.squall.SquallPlugin

/**
 * A [SquallPlugin] configured the Kotlin way, as Ktor's `install(WebSockets) { pingPeriod = 15.seconds }` is:
 *
 * ```
 * val plugin = squall {
 *     pingInterval = 25.seconds
 *     ws("/rooms/{room}") {
 *         channelFrom { "room:" + pathParam("room") }
 *         onMessage { text -> squall().publish("room:" + pathParam("room"), Payload.text(text)) }
 *     }
 * }
 * Javalin.create { config -> config.registerPlugin(plugin) }
 * ```
 *
 * Every setting starts from the default [SquallPlugin.Config] documents, and is checked at `Javalin.create()`: a bad
 * value fails it with an [IllegalArgumentException] that names the setting as written here (`squall { pingInterval }`).
 * Needs nothing but Squall and Javalin; [awaitPublish] and [publications] need kotlinx-coroutines.
 */
fun squall(configure: SquallConfig.() -> Unit): SquallPlugin =
    SquallPlugin({ config -> SquallConfig(config).configure() }, KotlinNames)

/** Keeps a block of the DSL from reaching the receivers around it: `onMessage` inside `onOpen { }` does not compile. */
@DslMarker
@Target(AnnotationTarget.CLASS, AnnotationTarget.TYPE)
annotation class SquallDslMarker

/** How errors name the settings to a Kotlin user: as the DSL writes them, `squall { maxQueueBytes }`. */
private object KotlinNames : SettingNames() {
    override fun name(field: String) = "squall { $field }"

    override fun howToList(field: String, value: String) = "add $value to ${name(field)}"

    override fun howToSet(field: String, value: String) = "set ${name(field)} to $value"

    override fun howToSkipTheDrain() = ""

    override fun namespace(namespace: String) = "squall { namespace(\"$namespace\") }"

    override fun inNamespace(namespace: String, field: String) = "squall { namespace(\"$namespace\") { $field } }"
}
