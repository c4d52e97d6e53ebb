/**
 * Internal: what a channel may be called, and its namespace. No compatibility promise.
 */
@NullMarked
package dev.squall.internal.channel;

import org.jspecify.annotations.NullMarked;
