/**
 * Internal: who a client is and what it may do with a channel. What a connection proved
 * ({@link dev.squall.internal.auth.Credentials}), each channel's rules ({@link dev.squall.internal.auth.ChannelRules}),
 * the decisions ({@link dev.squall.internal.auth.Access}) and the app's hooks, run on threads of their own with a
 * deadline ({@link dev.squall.internal.auth.AppHooks}). Signed tokens: which keys check them ({@link dev.squall.internal.auth.TokenSettings}), the check itself
 * ({@link dev.squall.internal.auth.TokenVerifier}), what a good token grants
 * ({@link dev.squall.internal.auth.VerifiedToken}) and why a bad one is refused
 * ({@link dev.squall.internal.auth.TokenRejected}). The only package that names nimbus-jose-jwt's classes, and a
 * leaf: it reads the API's value types ({@link dev.squall.Identity}) and channel names, and no other internal package. No
 * compatibility promise.
 */
@NullMarked
package dev.squall.internal.auth;

import org.jspecify.annotations.NullMarked;
