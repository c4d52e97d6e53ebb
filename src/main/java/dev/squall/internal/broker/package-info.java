/**
 * Internal: the seam between publishing and the hub ({@link dev.squall.internal.broker.Broker}), and its in-memory
 * implementation. No compatibility promise (see {@link dev.squall}).
 */
@NullMarked
package dev.squall.internal.broker;

import org.jspecify.annotations.NullMarked;
