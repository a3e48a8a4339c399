-- agentmemory: a tenant's session index (a sorted set: member "session.scope" in base64url, score the time in ms
-- until which the session may live, +inf without a TTL). Entries whose time has passed are pruned on every call.
--
-- KEYS: 1 the index
-- ARGV: 1 op: 'add' (2 member, 3 expiry ms or 0 for none), 'remove' (2 member) or 'list'
local idx, op = KEYS[1], ARGV[1]
local SLACK = 60000
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', idx, '-inf', string.format('(%d', nowMs - SLACK))

if op == 'add' then
  local want = tonumber(ARGV[3])
  if want > 0 then
    redis.call('ZADD', idx, 'GT', string.format('%d', want + SLACK), ARGV[2])
  else
    redis.call('ZADD', idx, '+inf', ARGV[2])
  end
  local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
  if top[2] == 'inf' or top[2] == '+inf' then
    redis.call('PERSIST', idx)
  elseif top[2] then
    redis.call('PEXPIREAT', idx, top[2])
  end
  return {'OK'}
end
if op == 'remove' then
  redis.call('ZREM', idx, ARGV[2])
  return {'OK'}
end
if op == 'list' then
  return redis.call('ZRANGE', idx, 0, -1)
end
return redis.error_reply('agentmemory: unknown index operation ' .. tostring(op))
