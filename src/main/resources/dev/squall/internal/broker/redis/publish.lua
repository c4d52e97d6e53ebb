-- Publishes one message to a channel in one atomic step (RedisBroker.publish): Squall's own script.
-- KEYS[1] meta hash {e = epoch, o = offset}   KEYS[2] stream   KEYS[3] idempotency key (unused when ARGV[6] is 0)
-- ARGV[1] pub/sub channel   ARGV[2] kind (t text, j JSON, b binary)   ARGV[3] payload (any bytes)
-- ARGV[4] history size   ARGV[5] history TTL ms   ARGV[6] idempotency window ms
-- ARGV[7] an epoch for a channel that needs one   ARGV[8] the shortest life of a meta hash, ms
-- ARGV[9] the run id of this Redis process, as the calling node read it from INFO when it connected
-- Returns {offset, epoch, duplicate (0 or 1)}.
local meta, stream, idem = KEYS[1], KEYS[2], KEYS[3]
local size, ttl, window = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

if window > 0 then
  local seen = redis.call('GET', idem)
  if seen then
    local colon = string.find(seen, ':', 1, true)
    return {tonumber(string.sub(seen, 1, colon - 1)), string.sub(seen, colon + 1), 1}
  end
end

-- A missing meta hash is a lost stream (expired, or Redis restarted without it): a new epoch, and whatever is
-- left of an old stream goes, so no offset of the old epoch is read as one of the new. So is one another Redis
-- process wrote (r): this one was restarted from a snapshot, or is a replica promoted after a failover, and may
-- have lost the newest publications of the epoch, whose offsets would then name other messages.
local known = redis.call('HMGET', meta, 'e', 'r')
local epoch = known[1]
if not epoch or known[2] ~= ARGV[9] then
  epoch = ARGV[7]
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'e', epoch, 'o', 0, 'r', ARGV[9])
end
local offset = redis.call('HINCRBY', meta, 'o', 1)

if size > 0 and ttl > 0 then
  local now = redis.call('TIME')
  local expires = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + ttl
  -- The stream ID is the offset, so history after an offset is one XRANGE; x is when the entry expires.
  redis.call('XADD', stream, 'MAXLEN', size, offset .. '-1', 'x', expires, 'k', ARGV[2], 'd', ARGV[3])
  redis.call('PEXPIRE', stream, ttl)
end

-- The meta hash outlives the stream, and is never shortened here: a subscribed node keeps it longer.
local kept = 0
if size > 0 then kept = ttl end
local keep = math.max(kept, tonumber(ARGV[8]))
if redis.call('PTTL', meta) < keep then redis.call('PEXPIRE', meta, keep) end

if window > 0 then redis.call('SET', idem, offset .. ':' .. epoch, 'NX', 'PX', window) end

-- The envelope: kind:offset:epoch:payload (neither offset nor epoch holds a colon; the payload may).
redis.call('PUBLISH', ARGV[1], ARGV[2] .. ':' .. offset .. ':' .. epoch .. ':' .. ARGV[3])
return {offset, epoch, 0}
