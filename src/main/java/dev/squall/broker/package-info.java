/**
 * Internal: the seam between publishing and the hub ({@link dev.squall.broker.Broker}), and its in-memory
 * implementation. Not part of Squall's API yet (see {@link dev.squall}).
 */
@NullMarked
package dev.squall.broker;

import org.jspecify.annotations.NullMarked;
