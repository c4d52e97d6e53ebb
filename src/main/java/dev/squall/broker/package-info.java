/**
 * Internal: the seam between publishing and the hub ({@link dev.squall.broker.Broker}), and its in-memory
 * implementation. Not part of Squall's API yet (see {@link dev.squall}).
 */
package dev.squall.broker;
