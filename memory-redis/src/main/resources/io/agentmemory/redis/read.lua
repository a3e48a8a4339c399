-- agentmemory: reads of one session that need more than one native command, each a consistent snapshot. Writes
-- nothing. (Unfiltered history and counts without a max age are native commands on m and need no script.)
--
-- KEYS: 1 d, 2 u, 3 p, 4 t, 5 m (see append.lua)
-- ARGV: 1 op: 'count', 'history', 'window' or 'since'; 2 expiry cutoff epoch second ('' without max age), 3 its
--       nanoseconds, 4 the most messages whose JSON is returned inline (more come back as sequences to fetch
--       natively: JSON is costly to pass through Lua)
--   count:   the number of messages that have not expired
--   history: 5 offset, 6 limit (-1 for none), 7 from second ('' for none), 8 from nanos, 9 to second ('' for none),
--            10 to nanos, 11 number of roles, the roles, then the number of metadata entries and (key, value)
--            canons; returns {'I', JSON...} or {'S', sequence...}, newest first
--   window:  5 the window's token budget; returns {kind, epoch ('' for none), last sequence, oldest sequence of the
--            range or '-inf', 1 if the range reaches the oldest unpinned message else 0, the stamp of the message with
--            the last sequence ('' for none; see append.lua), number of expired unpinned
--            messages in the range, their sequences..., pinned count, pinned JSON (chronological)...}, then for kind
--            'I' the unpinned JSON of the range (newest first, expired ones left out); for kind 'R' the unpinned
--            messages to walk are the range's messages of m that are neither pinned nor expired, read natively. The
--            walk ends after the first non-tool message that overdraws the budget left after the pinned messages,
--            which no window can pass.
--   since:   what changed since a window the client holds: 5 the oldest sequence of the unpinned messages it holds,
--            6 the session's last sequence as of that window, 7 the id of the newest message it holds, 8 that
--            message's sequence (ARGV 2 and 3 are unused: the client drops expired messages itself); returns {'S',
--            epoch ('' for none), last sequence, the sequence the held id has now (-1 for none), number of messages
--            above ARGV 6, number of pinned messages, number of unpinned messages from ARGV 5 to ARGV 6, the oldest of
--            them (-1 for none), the session's version (see append.lua; '' for none), the stamp stored under ARGV 8
--            ('' for none), the stamp of the message with the last sequence ('' for none)}, followed,
--            when at most ARGV 4 messages lie above ARGV 6, by the number of pinned ones among them, their sequences,
--            and the JSON of all of them, newest first.
local d, u, p, t, m = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op, cutSec, cutNanos, inline = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])

local function seqOf(member)
  return tonumber(string.match(member, '^(%d+)'))
end

local function header(s)
  return cmsgpack.unpack(redis.call('HGET', d, 'h:' .. s))
end

-- The unpinned messages hidden by the max age: sequence -> true, and how many.
local function expiredSet()
  local set, count = {}, 0
  if cutSec == '' then
    return set, 0
  end
  local cs = tonumber(cutSec)
  local cand = redis.call('ZRANGEBYSCORE', t, '-inf', cutSec, 'WITHSCORES')
  for i = 1, #cand, 2 do
    local s = tonumber(cand[i])
    if tonumber(cand[i + 1]) < cs or header(s)[3] < cutNanos then
      set[s] = true
      count = count + 1
    end
  end
  return set, count
end

local function json(s)
  return redis.call('ZRANGEBYSCORE', m, s, s)[1]
end

if op == 'count' then
  local _, expired = expiredSet()
  return redis.call('ZCARD', m) - expired
end

if op == 'history' then
  local offset, limit = tonumber(ARGV[5]), tonumber(ARGV[6])
  if limit == 0 then
    return {'I'}
  end
  local fromSec, fromNanos, toSec, toNanos = ARGV[7], tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10])
  local roles, nroles = {}, tonumber(ARGV[11])
  local pos = 11
  for _ = 1, nroles do
    pos = pos + 1
    roles[ARGV[pos]] = true
  end
  pos = pos + 1
  local nmeta = tonumber(ARGV[pos])
  local meta = {}
  for _ = 1, nmeta do
    meta[#meta + 1] = {ARGV[pos + 1], ARGV[pos + 2]}
    pos = pos + 2
  end
  if fromSec ~= '' then
    fromSec = tonumber(fromSec)
  end
  if toSec ~= '' then
    toSec = tonumber(toSec)
  end
  local filtered = nroles > 0 or nmeta > 0 or fromSec ~= '' or toSec ~= ''
  local expired = expiredSet()

  local function matches(s)
    if not filtered then
      return true
    end
    local h = header(s)
    if nroles > 0 and not roles[h[8]] then
      return false
    end
    if fromSec ~= '' and (h[2] < fromSec or (h[2] == fromSec and h[3] < fromNanos)) then
      return false
    end
    if toSec ~= '' and (h[2] > toSec or (h[2] == toSec and h[3] > toNanos)) then
      return false
    end
    local md = h[9]
    for _, kv in ipairs(meta) do
      if md[kv[1]] ~= kv[2] then
        return false
      end
    end
    return true
  end

  -- Pages of the unpinned and pinned sets, newest first, merged by sequence.
  local function pager(key)
    local buf, i, rank, done = {}, 1, 0, false
    return function(advance)
      if i > #buf and not done then
        buf = redis.call('ZREVRANGE', key, rank, rank + 255)
        rank = rank + 256
        done = #buf < 256
        i = 1
      end
      local member = buf[i]
      if member and advance then
        i = i + 1
      end
      return member
    end
  end
  local nextU, nextP = pager(u), pager(p)
  local seqs, skipped = {}, 0
  while limit < 0 or #seqs < limit do
    local mu, mp = nextU(false), nextP(false)
    local s
    if mu and (not mp or seqOf(mu) > seqOf(mp)) then
      s = seqOf(nextU(true))
    elseif mp then
      s = seqOf(nextP(true))
    else
      break
    end
    if not expired[s] and matches(s) then
      if skipped < offset then
        skipped = skipped + 1
      else
        seqs[#seqs + 1] = s
      end
    end
  end
  if #seqs > inline then
    local reply = {'S'}
    for _, s in ipairs(seqs) do
      reply[#reply + 1] = s
    end
    return reply
  end
  local reply = {'I'}
  for _, s in ipairs(seqs) do
    reply[#reply + 1] = json(s)
  end
  return reply
end

if op == 'window' then
  local pinned = redis.call('ZRANGE', p, 0, -1)
  local pinnedTokens, pinnedSeqs = 0, {}
  for _, member in ipairs(pinned) do
    local s, tk = string.match(member, '^(%d+):(%d+)$')
    pinnedSeqs[tonumber(s)] = true
    pinnedTokens = pinnedTokens + tonumber(tk)
  end
  local budget = tonumber(ARGV[5]) - pinnedTokens
  local expired = expiredSet()
  local meta = redis.call('HMGET', d, 'seq', 'tok', 'n', 'ep')
  local hi, total, count = tonumber(meta[1] or '0'), tonumber(meta[2] or '0'), tonumber(meta[3] or '0')
  local stamp = redis.call('HGET', d, 's:' .. hi) or ''

  -- The reply's head: kind, epoch, last sequence, the range's oldest sequence, whether the range reaches the oldest
  -- unpinned message, the last message's stamp, and the expired sequences in the range.
  local function head(kind, lo, fromOldest)
    local reply = {kind, meta[4] or '', hi, lo or '-inf', fromOldest and 1 or 0, stamp, 0}
    for s in pairs(expired) do
      if not lo or s >= lo then
        reply[#reply + 1] = s
      end
    end
    reply[7] = #reply - 7
    return reply
  end

  -- The head, then pinned count, pinned JSON..., unpinned JSON of sequences lo..hi newest first: one range read of
  -- m, split into the pinned and the unpinned messages that are not expired.
  local function inlineReply(lo, fromOldest)
    local pinnedJson, unpinnedJson = {}, {}
    if #pinned > 0 then
      local first = tonumber(string.match(pinned[1], '^(%d+)'))
      if first < lo then
        -- Pinned messages older than the range: one read each (they are few).
        for s in pairs(pinnedSeqs) do
          if s < lo then
            pinnedJson[#pinnedJson + 1] = {s, redis.call('ZRANGEBYSCORE', m, s, s)[1]}
          end
        end
      end
    end
    local range = redis.call('ZRANGE', m, hi, lo, 'BYSCORE', 'REV', 'WITHSCORES')
    for i = 1, #range, 2 do
      local s = tonumber(range[i + 1])
      if pinnedSeqs[s] then
        pinnedJson[#pinnedJson + 1] = {s, range[i]}
      elseif not expired[s] then
        unpinnedJson[#unpinnedJson + 1] = range[i]
      end
    end
    table.sort(pinnedJson, function(x, y) return x[1] < y[1] end)
    local reply = head('I', lo, fromOldest)
    reply[#reply + 1] = #pinnedJson
    for _, pj in ipairs(pinnedJson) do
      reply[#reply + 1] = pj[2]
    end
    for _, j in ipairs(unpinnedJson) do
      reply[#reply + 1] = j
    end
    return reply
  end

  if count == 0 then
    return inlineReply(hi + 1, true)
  end
  local lo, walked, overdrawn = nil, 0, false
  if total <= budget then
    -- Every unpinned message fits, whatever the tool groups: the walk is all of them, from the oldest unpinned one
    -- (so that the client reads the range in one page).
    if count <= inline then
      lo = 0
    else
      lo = seqOf(redis.call('ZRANGE', u, 0, 0)[1])
    end
    walked = count
  else
    -- Walk newest first until the budget is overdrawn.
    local spent, rank, done = 0, 0, false
    while not done do
      local members = redis.call('ZREVRANGE', u, rank, rank + 127)
      rank = rank + 128
      for _, member in ipairs(members) do
        local s, tk, kind = string.match(member, '^(%d+):(%d+):(%a)')
        s = tonumber(s)
        lo = s
        if not expired[s] then
          walked = walked + 1
          if kind ~= 'r' then
            spent = spent + tonumber(tk)
            if spent > budget then
              done, overdrawn = true, true
              break
            end
          end
        end
      end
      if #members < 128 then
        done = true
      end
    end
  end
  if lo and walked <= inline then
    return inlineReply(lo, not overdrawn)
  end
  -- The head, then pinned count, pinned JSON...
  local reply = head('R', lo, not overdrawn)
  reply[#reply + 1] = #pinned
  for _, member in ipairs(pinned) do
    reply[#reply + 1] = json(seqOf(member))
  end
  return reply
end

if op == 'since' then
  local lo, last = ARGV[5], ARGV[6]
  local meta = redis.call('HMGET', d, 'ep', 'seq', 'i:' .. ARGV[7], 'ver', 's:' .. ARGV[8])
  local above = redis.call('ZCOUNT', m, '(' .. last, '+inf')
  local held = redis.call('ZCOUNT', u, lo, last)
  local oldest = -1
  if held > 0 then
    oldest = seqOf(redis.call('ZRANGE', u, lo, last, 'BYSCORE', 'LIMIT', 0, 1)[1])
  end
  local reply = {'S', meta[1] or '', tonumber(meta[2] or '0'), tonumber(meta[3] or '-1'), above,
                 redis.call('ZCARD', p), held, oldest, meta[4] or '', meta[5] or '',
                 redis.call('HGET', d, 's:' .. (meta[2] or '0')) or ''}
  if above <= inline then
    local newPinned = redis.call('ZRANGE', p, '(' .. last, '+inf', 'BYSCORE')
    reply[#reply + 1] = #newPinned
    for _, member in ipairs(newPinned) do
      reply[#reply + 1] = seqOf(member)
    end
    if above > 0 then
      for _, j in ipairs(redis.call('ZRANGE', m, '+inf', '(' .. last, 'BYSCORE', 'REV')) do
        reply[#reply + 1] = j
      end
    end
  end
  return reply
end

return redis.error_reply('agentmemory: unknown read ' .. tostring(op))
