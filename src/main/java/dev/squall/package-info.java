/**
 * Squall's public API. Every type in it is non-null unless marked {@code @Nullable}, so Kotlin sees {@code String}
 * for {@link dev.squall.SquallConnection#id()} and {@code String?} for
 * {@link dev.squall.SquallConnection#queryParam(String)}, not platform types.
 */
@NullMarked
package dev.squall;

import org.jspecify.annotations.NullMarked;
