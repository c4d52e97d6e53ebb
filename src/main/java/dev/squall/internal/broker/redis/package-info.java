/**
 * Internal: the Redis broker ({@link dev.squall.internal.broker.redis.RedisBroker}), which lets several Squall nodes share
 * one stream per channel, and its Lua scripts (resources beside this package); {@link dev.squall.internal.broker.redis.RedisShards}
 * spreads the channels over several Redis instances, one {@code RedisBroker} each. The only package that uses
 * Lettuce, an optional dependency. No compatibility promise.
 */
@NullMarked
package dev.squall.internal.broker.redis;

import org.jspecify.annotations.NullMarked;
