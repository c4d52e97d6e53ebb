-- Keeps a subscribed channel's stream known (RedisBroker.subscribe, and every refresh while subscribed): gives
-- it a new epoch if it has none, or if another Redis process wrote it (see publish.lua), and makes its meta hash
-- live at least ARGV[2] ms.
-- KEYS[1] meta hash   KEYS[2] stream   ARGV[1] an epoch for a channel that needs one   ARGV[2] ms
-- ARGV[3] the run id of this Redis process, as the calling node read it from INFO when it connected
local meta = redis.call('HMGET', KEYS[1], 'e', 'r')
if not meta[1] or meta[2] ~= ARGV[3] then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', ARGV[1], 'o', 0, 'r', ARGV[3])
end
local keep = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return {1}
