-- Keeps a subscribed channel's stream known (RedisBroker.subscribe, and every refresh while subscribed):
-- creates its meta hash with a new epoch if it has none, and makes it live at least ARGV[2] ms.
-- KEYS[1] meta hash   KEYS[2] stream   ARGV[1] an epoch for a channel that has none   ARGV[2] ms
if redis.call('HSETNX', KEYS[1], 'e', ARGV[1]) == 1 then redis.call('DEL', KEYS[2]) end
local keep = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return {1}
