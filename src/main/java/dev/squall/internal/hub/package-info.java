/**
 * Internal: the connections of one node, their bounded queues, the fan-out writers and the heartbeat. Not part
 * of Squall's API (see {@link dev.squall}); its types may change in any release.
 */
@NullMarked
package dev.squall.internal.hub;

import org.jspecify.annotations.NullMarked;
