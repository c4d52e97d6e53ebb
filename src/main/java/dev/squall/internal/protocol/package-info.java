/**
 * Internal: the {@code squall.v1} WebSocket subprotocol's frames, as {@code asyncapi.yaml} documents them: the
 * commands a client sends ({@link dev.squall.internal.protocol.Command}), the replies and pushes the server sends, the error
 * codes ({@link dev.squall.internal.protocol.ErrorCode}), all read and written by one {@link dev.squall.internal.protocol.Codec}, and
 * the {@link dev.squall.internal.protocol.V1Framing} that wraps a channel's publications for the hub. Not part of Squall's
 * API (see {@link dev.squall}); the wire format is, and changes only with a new subprotocol name.
 */
@NullMarked
package dev.squall.internal.protocol;

import org.jspecify.annotations.NullMarked;
