/**
 * Internal: Squall's routes on Javalin (WebSocket, SSE, publish, channels, probes), their upgrade and request
 * checks, the {@code squall.v1} sessions, request decoding and refusals. No compatibility promise: public only so
 * that the plugin (see {@link dev.squall}) can wire it.
 */
@NullMarked
package dev.squall.internal.web;

import org.jspecify.annotations.NullMarked;
