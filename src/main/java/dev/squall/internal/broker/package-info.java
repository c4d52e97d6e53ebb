/**
 * Internal: the seam between publishing and the hub ({@link dev.squall.internal.broker.Broker}), and its in-memory
 * implementation. Not part of Squall's API yet (see {@link dev.squall}).
 */
@NullMarked
package dev.squall.internal.broker;

import org.jspecify.annotations.NullMarked;
