/**
 * Internal: one node (its hub, broker, heartbeat, writers and metrics, and the order they start and stop in), its
 * settings as checked from the plugin's config, and the drain of a stop. No compatibility promise.
 */
@NullMarked
package dev.squall.internal.node;

import org.jspecify.annotations.NullMarked;
