/**
 * Squall: real-time push for Javalin apps, and the standalone server built on it.
 *
 * <p>The API: {@link dev.squall.SquallPlugin} (with its {@link dev.squall.SquallPlugin.Config}), the handles
 * {@link dev.squall.Squall} and {@link dev.squall.SquallConnection}, {@link dev.squall.WsRoute} and its handlers,
 * {@link dev.squall.SlowConsumerPolicy}, and {@link dev.squall.OriginPolicyPlugin} for an app-wide origin policy.
 * {@link dev.squall.server.Main} and {@link dev.squall.server.App} are the standalone server. Everything else, here and in the
 * {@code hub} and {@code broker} packages, is internal and may change in any release.
 *
 * <p>Nothing in this package is null unless marked {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.squall;

import org.jspecify.annotations.NullMarked;
