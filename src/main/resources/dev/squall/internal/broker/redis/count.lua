-- Shares one node's presence on a channel (RedisPresence). Its subscriber count goes in the channel's counts hash
-- as "count:expiresAt" (ms, Redis's clock, so the nodes' clocks never matter). Its distinct users go in the
-- channel's users hash: a field "<node>" holding the node's generation, and one field "<node>:<user>" per user
-- holding the generation that wrote it. A user field counts only while its node's count is live and its generation
-- is the node's: a node that writes everything again (after losing Redis) takes a new generation, so whatever it
-- could not take out before is void at once, and the next read drops it. A count of 0 (the last local subscriber
-- left) takes the node's count and generation out.
-- KEYS[1] counts hash   KEYS[2] users hash
-- ARGV[1] node id   ARGV[2] count   ARGV[3] life ms   ARGV[4] generation
-- ARGV[5] 'full': the users that follow are all of the node's (none: it has no user there); 'delta': the users that
--         follow came or went since its last write
-- ARGV[6..] '+user' (among the node's users) or '-user' (not any more)
-- Returns {written, lapsed}: written 1 when the count was written, 0 when it was taken out; lapsed 1 when a delta
-- found the node's count gone (expired, or dropped by a read), so what it wrote before may be gone too.
local node, count, life, gen, mode = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local lapsed = 0
if mode == 'delta' and count > 0 then
  local before = redis.call('HGET', KEYS[1], node)
  local colon = before and string.find(before, ':', 1, true)
  local expires = colon and tonumber(string.sub(before, colon + 1))
  if not expires or expires <= ms then lapsed = 1 end
end
local adds = false
for i = 6, #ARGV do
  local field = node .. ':' .. string.sub(ARGV[i], 2)
  if count > 0 and string.sub(ARGV[i], 1, 1) == '+' then
    redis.call('HSET', KEYS[2], field, gen)
    adds = true
  else
    redis.call('HDEL', KEYS[2], field)
  end
end
if count <= 0 then
  redis.call('HDEL', KEYS[1], node)
  redis.call('HDEL', KEYS[2], node)
  return {0, lapsed}
end
redis.call('HSET', KEYS[1], node, count .. ':' .. (ms + life))
if adds then
  redis.call('HSET', KEYS[2], node, gen)
elseif mode == 'full' then
  redis.call('HDEL', KEYS[2], node)
end
-- Both hashes outlive their newest field, and are never shortened here: another node may share for longer.
if redis.call('PTTL', KEYS[1]) < life then redis.call('PEXPIRE', KEYS[1], life) end
local users = redis.call('PTTL', KEYS[2])
if users ~= -2 and users < life then redis.call('PEXPIRE', KEYS[2], life) end
return {1, lapsed}
