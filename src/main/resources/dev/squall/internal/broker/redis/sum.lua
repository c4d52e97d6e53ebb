-- A channel's presence over the nodes (RedisPresence): the sum of the subscriber counts the other nodes shared, and
-- the distinct users over the other nodes and the reader. Drops what is dead on the way: a count past its expiry
-- (a node that died without taking it back), and user fields whose node has no live count or whose generation is
-- not their node's (see count.lua).
-- KEYS[1] counts hash   KEYS[2] users hash
-- ARGV[1] the reading node's id: its own count and users are left out (it counts its live ones instead)
-- ARGV[2..] the reading node's own users of the channel, right now
-- Returns {sum, users}.
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local fields = redis.call('HGETALL', KEYS[1])
local sum = 0
local live = {}
for i = 1, #fields, 2 do
  local value = fields[i + 1]
  local colon = string.find(value, ':', 1, true)
  local expires = colon and tonumber(string.sub(value, colon + 1))
  if not expires or expires <= ms then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    live[fields[i]] = true
    if fields[i] ~= ARGV[1] then sum = sum + tonumber(string.sub(value, 1, colon - 1)) end
  end
end
local seen = {}
local users = 0
local entries = redis.call('HGETALL', KEYS[2])
if #entries > 0 then
  local generation = {}
  for i = 1, #entries, 2 do
    if not string.find(entries[i], ':', 1, true) then generation[entries[i]] = entries[i + 1] end
  end
  for i = 1, #entries, 2 do
    local field = entries[i]
    local colon = string.find(field, ':', 1, true)
    local node = colon and string.sub(field, 1, colon - 1) or field
    if not live[node] or (colon and generation[node] ~= entries[i + 1]) then
      redis.call('HDEL', KEYS[2], field)
    elseif colon and node ~= ARGV[1] then
      local user = string.sub(field, colon + 1)
      if not seen[user] then
        seen[user] = true
        users = users + 1
      end
    end
  end
end
for i = 2, #ARGV do
  if not seen[ARGV[i]] then
    seen[ARGV[i]] = true
    users = users + 1
  end
end
return {sum, users}
