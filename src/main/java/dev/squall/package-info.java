/**
 * Squall: real-time push for Javalin apps. This package is the API an app imports, and all of it:
 * {@link dev.squall.SquallPlugin} (with its {@link dev.squall.SquallPlugin.Config}), the handles
 * {@link dev.squall.Squall} and {@link dev.squall.SquallConnection}, {@link dev.squall.WsRoute} and its handlers,
 * {@link dev.squall.SlowConsumerPolicy}, {@link dev.squall.Published}, {@link dev.squall.SettingNames}, and
 * {@link dev.squall.OriginPolicyPlugin} for an app-wide origin policy.
 *
 * <p>{@code dev.squall.server} is the standalone server, built on this API like any app. The packages under
 * {@code dev.squall.internal} are Squall's own: public only because Java has no other way across packages, with no
 * compatibility promise, and never named in a signature of this package (the build checks it).
 *
 * <p>Nothing in this package is null unless marked {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.squall;

import org.jspecify.annotations.NullMarked;
