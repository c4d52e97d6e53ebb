/**
 * Internal: who may connect, by {@code Origin} and {@code Host}: the rules, and the parsing of the settings that
 * list them. No compatibility promise.
 */
@NullMarked
package dev.squall.internal.policy;

import org.jspecify.annotations.NullMarked;
