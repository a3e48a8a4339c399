-- agentmemory: clearing one session, and the small steps around it.
--
-- KEYS: 1 d, 2 u, 3 p, 4 t, 5 m (see append.lua)
-- ARGV: 1 op
--   'read'    2 token, 3 lease (ms): takes the lock and returns {'READ', version, JSON of every message in sequence
--             order}, or {'EMPTY'} (after deleting what is left of an empty session) or {'LOCKED'}; marks the
--             session as not indexed, so that a later write indexes it again
--   'delete'  2 mode ('c' unconditional, 'l' under the lock), 3 token, 4 version: deletes the session's keys and
--             returns {'OK', messages held}, or {'LOCKED'} or {'CONFLICT'}
--   'unindex' marks the session as not indexed; {'OK'} or {'LOCKED'}
--   'unlock'  2 token: releases the lock if the token still holds it
--   'ixset'   2 expiry recorded in the index (ms, 0 for none): remembers that the index entry is current
local d, u, p, t, m = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op = ARGV[1]

local function holder()
  local lk = redis.call('HGET', d, 'lk')
  if not lk then
    return nil
  end
  local space = string.find(lk, ' ', 1, true)
  local time = redis.call('TIME')
  local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  if tonumber(string.sub(lk, space + 1)) <= nowMs then
    return nil
  end
  return string.sub(lk, 1, space - 1), nowMs
end

if op == 'unlock' then
  if holder() == ARGV[2] then
    redis.call('HDEL', d, 'lk')
  end
  return {'OK'}
end
if op == 'ixset' then
  if redis.call('HEXISTS', d, 'seq') == 1 then
    redis.call('HSET', d, 'ix', ARGV[2])
  end
  return {'OK'}
end

local lock = holder()
if op == 'read' then
  if lock then
    return {'LOCKED'}
  end
  if redis.call('ZCARD', m) == 0 then
    redis.call('DEL', d, u, p, t, m)
    return {'EMPTY'}
  end
  local time = redis.call('TIME')
  local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  redis.call('HSET', d, 'lk', ARGV[2] .. ' ' .. string.format('%d', nowMs + tonumber(ARGV[3])))
  redis.call('HDEL', d, 'ix')
  local reply = {'READ', redis.call('HGET', d, 'ver') or '0'}
  for _, json in ipairs(redis.call('ZRANGE', m, 0, -1)) do
    reply[#reply + 1] = json
  end
  return reply
end

if op == 'unindex' then
  if lock then
    return {'LOCKED'}
  end
  redis.call('HDEL', d, 'ix')
  return {'OK'}
end

if op == 'delete' then
  local mode, token, expectVer = ARGV[2], ARGV[3], ARGV[4]
  if lock then
    if mode ~= 'l' or lock ~= token then
      return {'LOCKED'}
    end
  elseif mode == 'l' and (redis.call('HGET', d, 'ver') or '0') ~= expectVer then
    return {'CONFLICT'}
  end
  local held = redis.call('ZCARD', m)
  redis.call('DEL', d, u, p, t, m)
  return {'OK', held}
end

return redis.error_reply('agentmemory: unknown session operation ' .. tostring(op))
