-- Reads a channel's position and history in one atomic step (RedisBroker.history and latest): Squall's own script.
-- KEYS[1] meta hash   KEYS[2] stream
-- ARGV[1] 'since' or 'latest'   ARGV[2] the first offset wanted (since only)   ARGV[3] at most this many
-- ARGV[4] an epoch for a channel that needs one   ARGV[5] how long such a new stream is kept, ms
-- ARGV[6] the run id of this Redis process, as the calling node read it from INFO when it connected
-- Returns {offset, epoch, entries} with entries as XRANGE gives them, oldest first; each entry's fields are x
-- (expires at, ms), k (kind), d (payload). A channel with no stream, or one another Redis process wrote (see
-- publish.lua), gets a new one here, at offset 0: every position a read answers has an epoch a client can offer
-- back, and the channel keeps it for a while.
local meta, stream = KEYS[1], KEYS[2]
local limit = tonumber(ARGV[3])

local known = redis.call('HMGET', meta, 'e', 'o', 'r')
local epoch = known[1]
if not epoch or known[3] ~= ARGV[6] then
  epoch = ARGV[4]
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'e', epoch, 'o', 0, 'r', ARGV[6])
  redis.call('PEXPIRE', meta, tonumber(ARGV[5]))
  return {0, epoch, {}}
end
local offset = tonumber(known[2] or '0')
if limit <= 0 then return {offset, epoch, {}} end

-- Drops the expired entries first. They are the oldest ones as long as the channel's history TTL stays the
-- same, so trimming the expired head leaves only live entries for the read below.
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
while true do
  local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 16)
  if #oldest == 0 then break end
  local live = nil
  for _, entry in ipairs(oldest) do
    if tonumber(entry[2][2]) > now then live = entry[1] break end
  end
  if live then
    redis.call('XTRIM', stream, 'MINID', live)
    break
  end
  if #oldest < 16 then
    redis.call('DEL', stream)
    break
  end
  -- All 16 expired: trim past the newest of them (an ID is offset-1) and look further.
  redis.call('XTRIM', stream, 'MINID', tonumber(string.match(oldest[#oldest][1], '^%d+')) + 1)
end

local entries
if ARGV[1] == 'latest' then
  local newest = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', limit)
  entries = {}
  for i = #newest, 1, -1 do entries[#entries + 1] = newest[i] end
else
  entries = redis.call('XRANGE', stream, ARGV[2] .. '-0', '+', 'COUNT', limit)
end
return {offset, epoch, entries}
