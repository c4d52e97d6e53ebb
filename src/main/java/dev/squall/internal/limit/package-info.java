/**
 * Internal: the limits no client can talk its way past: how fast one connection may send, and how many connections
 * one address, one user and the whole node may hold. Counting only: the routes decide what a refusal looks like
 * in their protocol. No compatibility promise.
 */
@NullMarked
package dev.squall.internal.limit;

import org.jspecify.annotations.NullMarked;
