-- Gives a channel a new epoch when its stream went back (RedisBroker: a position behind what the node had already
-- delivered in the same epoch, which only a Redis that lost writes can show): its offsets would name other
-- messages from here on. Only if the epoch is still the one found rolled back (or gone), so a node that comes
-- second leaves the first one's new epoch alone.
-- KEYS[1] meta hash   KEYS[2] stream   ARGV[1] the epoch that went back   ARGV[2] a new epoch   ARGV[3] keep ms
-- ARGV[4] the run id of this Redis process, as the calling node read it from INFO when it connected
-- Returns {offset, epoch}: the channel's position afterwards.
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch or epoch == ARGV[1] then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', ARGV[2], 'o', 0, 'r', ARGV[4])
  local keep = tonumber(ARGV[3])
  if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
end
local now = redis.call('HMGET', KEYS[1], 'o', 'e')
return {tonumber(now[1] or '0'), now[2]}
