-- Sums the subscriber counts the other nodes shared for a channel (RedisPresence), dropping the fields that
-- have expired (a node that died without taking its count back).
-- KEYS[1] counts hash   ARGV[1] the reading node's id: its own field is left out (it adds its live count)
-- Returns {sum}.
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local fields = redis.call('HGETALL', KEYS[1])
local sum = 0
for i = 1, #fields, 2 do
  local value = fields[i + 1]
  local colon = string.find(value, ':', 1, true)
  local expires = colon and tonumber(string.sub(value, colon + 1))
  if not expires or expires <= ms then
    redis.call('HDEL', KEYS[1], fields[i])
  elseif fields[i] ~= ARGV[1] then
    sum = sum + tonumber(string.sub(value, 1, colon - 1))
  end
end
return {sum}
