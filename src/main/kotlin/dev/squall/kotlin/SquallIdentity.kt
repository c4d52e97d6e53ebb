@file:JvmName("SquallIdentity")

package dev.squall.kotlin

import dev.squall.Identity
import dev.squall.SquallConnection

// Who a connection is, read as Kotlin reads a value: `identity.user` inside a handler, where Java writes
// `client.identity().user()`. Identity's `isAnonymous()` needs nothing here: Kotlin already reads it as a property.

/** Who the client is ([SquallConnection.identity]): [Identity.ANONYMOUS] when nothing decides who may connect. */
val SquallConnection.identity: Identity
    get() = identity()

/** The user id ([Identity.user]); empty when anonymous. */
val Identity.user: String
    get() = user()

/** What the app says about the user, as compact JSON object text ([Identity.info]), or null when it says nothing. */
val Identity.info: String?
    get() = info()
