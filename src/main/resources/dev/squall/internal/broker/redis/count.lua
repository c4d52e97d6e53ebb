-- Shares one node's subscriber count of a channel (RedisPresence): its field in the channel's counts hash is
-- "count:expiresAt" (ms, Redis's clock, so the nodes' clocks never matter); a count of 0 takes the field out.
-- KEYS[1] counts hash   ARGV[1] node id   ARGV[2] count   ARGV[3] life ms
-- Returns {1} when the field was written, {0} when it was taken out.
local count, life = tonumber(ARGV[2]), tonumber(ARGV[3])
if count <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return {0}
end
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], count .. ':' .. (ms + life))
-- The hash outlives its newest field, and is never shortened here: another node may share for longer.
if redis.call('PTTL', KEYS[1]) < life then redis.call('PEXPIRE', KEYS[1], life) end
return {1}
