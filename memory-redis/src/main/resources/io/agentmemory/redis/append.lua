-- agentmemory: append messages to one session, assign sequence numbers, apply retention, refresh the TTL.
-- One atomic script per add/addAll. See memory-redis/README.md ("The scripts") for the key layout. Every
-- redis.call costs a few microseconds, so the script makes few: one HMGET reads the counters and the incoming ids,
-- one HSET and one HDEL write the hash. The common append (new plain messages that retention leaves alone) takes a
-- short path that writes exactly what the general one would, in one ZADD per key: 6 calls whatever the batch size.
-- A single such message has a version of that path of its own.
--
-- KEYS: 1 d (hash: counters, lock, headers, id index, stamps, tool-call maps), 2 u (zset: unpinned messages, score seq,
--       member "seq:tokens:kind:id"), 3 p (zset: pinned messages, score seq, member "seq:tokens"),
--       4 t (zset: unpinned messages by timestamp, score epoch second, member seq), 5 m (zset: every message's JSON,
--       score seq)
-- ARGV: 1 mode: 'c' commit (no listener), 'p' plan (commit at once unless something must be removed; else take the
--       lock and return the plan), 'l' commit under the lock taken by a plan
--       2 lock token, 3 lock lease (ms), 4 the version the plan saw, 5 ttl (ms, 0 for none),
--       6 expiry cutoff epoch second ('' without max age), 7 its nanoseconds,
--       8 overflow max size (0 for none), 9 overflow keep, 10 max messages (0 for none), 11 max tokens (0 for none),
--       12 a new epoch: stored as the session's "ep" by a write that finds none (one that creates the session, or
--       the first write to a session stored before epochs), so that a session deleted and written again is told
--       apart from its former self by readers that hold its messages, 13 a random tag, new for each append: a call
--       that commits stores as the session's "ver" a number drawn from the SHA-1 of the version it found and this
--       tag (see newVer below), 14 number of messages, then 7 per message:
--       id, JSON before the sequence, JSON after it, header (msgpack:
--       {tokens, epoch second, nanos, pinned, toolCallId or false, {call ids}, id, role, {metadata canon}}), '1' if
--       the message is plain (not pinned, no tool calls, no toolCallId) else '0', its tokens and its epoch second
--       (the header's, as text: the short path reads no header)
-- Returns {'OK', index, removed count, per message: its new sequence, or the stored JSON of a known id, the
--         session's epoch, its version before the call, its version after it, the sequences of the messages
--         retention removed (stored ones and incoming ones alike)}, {'PLAN', version, cause, count, JSON...,
--         cause, count, JSON...}, {'LOCKED'} or {'CONFLICT'}. A client that holds the session as of the version
--         before the call knows it as of the version after it from the reply and what it sent (see
--         WindowCache.java).
local d, u, p, t, m = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local mode, token, lease, expectVer = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local ttl = tonumber(ARGV[5])
local cutSec, cutNanos = ARGV[6], tonumber(ARGV[7])
local ovMax, ovKeep = tonumber(ARGV[8]), tonumber(ARGV[9])
local maxMsgs, maxTok = tonumber(ARGV[10]), tonumber(ARGV[11])
local epoch = ARGV[12]
local n = tonumber(ARGV[14])
local FIRST, STRIDE = 14, 7

-- The counters (last sequence, unpinned tokens and count, version, index and expiry marks, lock, epoch), then
-- whether each incoming id is known.
-- Lua's unpack takes a few thousand values at most: long argument lists go to Redis in chunks.
local function chunked(command, key, args, width)
  local i = 1
  while i <= #args do
    local last = math.min(#args, i + 1000 * width - 1)
    redis.call(command, key, unpack(args, i, last))
    i = last + 1
  end
end

local meta
if n == 1 then
  meta = redis.call('HMGET', d, 'seq', 'tok', 'n', 'ver', 'ix', 'ex', 'lk', 'ep', 'i:' .. ARGV[FIRST + 1])
else
  local fields = {'seq', 'tok', 'n', 'ver', 'ix', 'ex', 'lk', 'ep'}
  for i = 1, n do
    fields[8 + i] = 'i:' .. ARGV[FIRST + STRIDE * i - STRIDE + 1]
  end
  if #fields <= 1000 then
    meta = redis.call('HMGET', d, unpack(fields))
  else
    meta = {}
    local j = 1
    while j <= #fields do
      local last = math.min(#fields, j + 999)
      local got = redis.call('HMGET', d, unpack(fields, j, last))
      for k = 1, #got do
        meta[j + k - 1] = got[k]
      end
      j = last + 1
    end
  end
end
local ver, ix, ex, lk = meta[4] or '0', meta[5], meta[6], meta[7]
-- The version a commit leaves: 52 bits of SHA-1(version found, ':', tag), as a decimal number (so that a writer of
-- the previous release, which counts versions up, still reads it). Not a counter, so that a session put back from an
-- older copy and written again cannot come back to a version it had with other messages; derived from the version
-- found, so that a call run twice with the same arguments (a client's retry after a lost reply) leaves the same
-- version only when it found the same state.
local newVer = string.format('%.0f', tonumber(string.sub(redis.sha1hex(ver .. ':' .. ARGV[13]), 1, 13), 16))
-- Each message a commit stores gets that version as its stamp ("s:<seq>" in d): a message stored again under its
-- old number after the session was put back from an older copy (a retry) has another stamp than the one a reader
-- held (see read.lua's since).

local nowMs
local function now()
  if not nowMs then
    local time = redis.call('TIME')
    nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  end
  return nowMs
end

-- The lock: "token expiry-ms" in d, taken by a plan; a lock past its lease is no lock.
if lk then
  local space = string.find(lk, ' ', 1, true)
  if tonumber(string.sub(lk, space + 1)) > now() then
    if mode ~= 'l' or string.sub(lk, 1, space - 1) ~= token then
      return {'LOCKED'}
    end
  else
    lk = false
  end
end
if not lk and mode == 'l' and ver ~= expectVer then
  return {'CONFLICT'}
end

-- '' when the session's entry in the tenant's index is current; else the expiry to record there (ms, 0 for none).
local function indexWant()
  if ttl <= 0 then
    if ix == '0' then
      return ''
    end
    return '0'
  end
  if ix and (ix == '0' or tonumber(ix) >= now() + ttl) then
    return ''
  end
  return string.format('%d', now() + 2 * ttl)
end

-- Writes the counters and fields in set and deletes the fields in del (and an expired lock), then refreshes the
-- TTL: when a write would move the expiry by more than a thousandth of it (so at most every 86 s with 24 h), which
-- spares five PEXPIREs on most writes, forward or back (a TTL made shorter holds from the next write on); without a
-- TTL, keys left with one from a former TTL are persisted.
local function store(set, del, newPinned)
  if meta[7] then
    del[#del + 1] = 'lk'
  end
  local ttlAction
  if ttl > 0 then
    local due = now() + ttl
    if not ex or math.abs(due - tonumber(ex)) > math.max(1000, ttl / 1000) then
      ttlAction = 'refresh'
      set[#set + 1] = 'ex'
      set[#set + 1] = string.format('%d', due)
    else
      ttlAction = 'new keys'
    end
  elseif ex or ix ~= '0' then
    ttlAction = 'persist'
    if ex then
      del[#del + 1] = 'ex'
    end
  end
  chunked('HSET', d, set, 2)
  if #del > 0 then
    chunked('HDEL', d, del, 1)
  end
  if ttlAction == 'refresh' then
    redis.call('PEXPIRE', d, ttl)
    redis.call('PEXPIRE', u, ttl)
    redis.call('PEXPIRE', p, ttl)
    redis.call('PEXPIRE', t, ttl)
    redis.call('PEXPIRE', m, ttl)
  elseif ttlAction == 'new keys' then
    -- Keys this write may have created carry no expiry yet: give them the session's.
    local at = tonumber(ex)
    if tonumber(meta[3] or '0') == 0 then
      redis.call('PEXPIREAT', u, at)
      redis.call('PEXPIREAT', t, at)
      redis.call('PEXPIREAT', m, at)
    end
    if newPinned then
      redis.call('PEXPIREAT', p, at)
    end
  elseif ttlAction == 'persist' then
    redis.call('PERSIST', d)
    redis.call('PERSIST', u)
    redis.call('PERSIST', p)
    redis.call('PERSIST', t)
    redis.call('PERSIST', m)
  end
end

local seq = tonumber(meta[1] or '0')

-- One new plain message (most appends): the short path below for n = 1, its tables built whole (a Lua table built an
-- entry at a time is grown several times over, which here costs as much as the calls themselves), removing at most
-- the oldest unpinned message. Where it has to remove more, it leaves the append to the short path; where that
-- message is not plain or the tokens left are too many, to the general path, as the short path would.
local short = not lk and mode ~= 'l' and cutSec == '' and n > 0
if short and n == 1 and not meta[9] and ARGV[FIRST + 5] == '1' then
  local id, tk = ARGV[FIRST + 1], ARGV[FIRST + 6]
  local unCount = tonumber(meta[3] or '0') + 1
  local unTok = tonumber(meta[2] or '0') + tonumber(tk)
  local fits = ovMax == 0 or unCount <= ovMax
  local old, oldSeq, oldId
  if fits and not ((maxMsgs == 0 or unCount <= maxMsgs) and (maxTok == 0 or unTok <= maxTok)) then
    fits = false
    if mode == 'c' and maxMsgs > 0 and unCount == maxMsgs + 1 then
      short = false
      old = redis.call('ZRANGE', u, 0, 0)[1]
      if old then
        local s, otk, kind, oid = string.match(old, '^(%d+):(%d+):(%a):(.*)$')
        if kind == 'm' and (maxTok == 0 or unTok - tonumber(otk) <= maxTok) then
          oldSeq, oldId = s, oid
          unCount = unCount - 1
          unTok = unTok - tonumber(otk)
          fits = true
        end
      end
    end
  end
  if fits then
    seq = seq + 1
    local ss = string.format('%d', seq)
    redis.call('ZADD', m, ss, ARGV[FIRST + 2] .. ',"seq":' .. ss .. ARGV[FIRST + 3])
    redis.call('ZADD', u, ss, ss .. ':' .. tk .. ':m:' .. id)
    redis.call('ZADD', t, ARGV[FIRST + 7], ss)
    local set = {'seq', ss, 'tok', string.format('%d', unTok), 'n', unCount, 'ver', newVer,
                 'h:' .. ss, ARGV[FIRST + 4], 'i:' .. id, ss, 's:' .. ss, newVer}
    if not meta[8] then
      set[15] = 'ep'
      set[16] = epoch
    end
    local del = {}
    if oldSeq then
      redis.call('ZREMRANGEBYSCORE', m, oldSeq, oldSeq)
      redis.call('ZREM', u, old)
      redis.call('ZREM', t, oldSeq)
      del = {'h:' .. oldSeq, 'i:' .. oldId, 's:' .. oldSeq}
    end
    store(set, del, false)
    return {'OK', indexWant(), oldSeq and 1 or 0, seq, meta[8] or epoch, ver, newVer, tonumber(oldSeq)}
  end
end

-- The short path: every message new and plain (unpinned, no tool calls, no toolCallId), no lock in the way, no max
-- age, and retention that either removes nothing (the counts after the append within every limit) or, without a
-- listener, only the k oldest unpinned messages for max-messages when they are plain too (no tool-call groups) and
-- the tokens left are within max-tokens. It writes what the general path below would, without reading headers or
-- building its retention state: per key one ZADD for all the messages, and for removals one ZRANGE, one
-- ZREMRANGEBYSCORE per run of sequence numbers, one ZREM per index and one HDEL.
if short then
  local plain, addTok = true, 0
  for i = 1, n do
    local pos = FIRST + STRIDE * i - STRIDE
    if meta[8 + i] or ARGV[pos + 5] ~= '1' then
      plain = false
      break
    end
    addTok = addTok + tonumber(ARGV[pos + 6])
  end
  local unCount = tonumber(meta[3] or '0') + n
  local unTok = tonumber(meta[2] or '0') + addTok
  local noOverflow = ovMax == 0 or unCount <= ovMax
  local fits = plain and noOverflow and (maxMsgs == 0 or unCount <= maxMsgs) and (maxTok == 0 or unTok <= maxTok)
  local olds
  if plain and not fits and mode == 'c' and noOverflow and maxMsgs > 0 and unCount > maxMsgs
      and unCount - maxMsgs <= 64 then
    -- SIZE removes the k oldest unpinned messages, one at a time, as long as each is a group of one (plain).
    local k = unCount - maxMsgs
    olds = redis.call('ZRANGE', u, 0, k - 1)
    local remTok = 0
    if #olds == k then
      for i = 1, k do
        local tk, kind = string.match(olds[i], '^%d+:(%d+):(%a):')
        if kind ~= 'm' then
          olds = nil
          break
        end
        remTok = remTok + tonumber(tk)
      end
    else
      olds = nil
    end
    if olds and (maxTok == 0 or unTok - remTok <= maxTok) then
      unCount = unCount - k
      unTok = unTok - remTok
      fits = true
    else
      olds = nil
    end
  end
  if fits then
    local zm, zu, zt = {}, {}, {}
    local set = {'seq', 0, 'tok', string.format('%d', unTok), 'n', unCount, 'ver', newVer}
    if not meta[8] then
      set[#set + 1] = 'ep'
      set[#set + 1] = epoch
    end
    local reply = {'OK', '', 0}
    for i = 1, n do
      local pos = FIRST + STRIDE * i - STRIDE
      seq = seq + 1
      local ss = string.format('%d', seq)
      local id = ARGV[pos + 1]
      zm[#zm + 1] = ss
      zm[#zm + 1] = ARGV[pos + 2] .. ',"seq":' .. ss .. ARGV[pos + 3]
      zu[#zu + 1] = ss
      zu[#zu + 1] = ss .. ':' .. ARGV[pos + 6] .. ':m:' .. id
      zt[#zt + 1] = ARGV[pos + 7]
      zt[#zt + 1] = ss
      set[#set + 1] = 'h:' .. ss
      set[#set + 1] = ARGV[pos + 4]
      set[#set + 1] = 'i:' .. id
      set[#set + 1] = ss
      set[#set + 1] = 's:' .. ss
      set[#set + 1] = newVer
      reply[3 + i] = seq
    end
    set[2] = seq
    chunked('ZADD', m, zm, 2)
    chunked('ZADD', u, zu, 2)
    chunked('ZADD', t, zt, 2)
    local del = {}
    local seqs = {}
    if olds then
      for i = 1, #olds do
        local s, id = string.match(olds[i], '^(%d+):%d+:%a:(.*)$')
        seqs[i] = s
        del[#del + 1] = 'h:' .. s
        del[#del + 1] = 'i:' .. id
        del[#del + 1] = 's:' .. s
      end
      local lo = 1
      for i = 1, #seqs do
        if i == #seqs or tonumber(seqs[i + 1]) ~= tonumber(seqs[i]) + 1 then
          redis.call('ZREMRANGEBYSCORE', m, seqs[lo], seqs[i])
          lo = i + 1
        end
      end
      redis.call('ZREM', u, unpack(olds))
      redis.call('ZREM', t, unpack(seqs))
      reply[3] = #olds
    end
    store(set, del, false)
    reply[2] = indexWant()
    reply[#reply + 1] = meta[8] or epoch
    reply[#reply + 1] = ver
    reply[#reply + 1] = newVer
    for i = 1, #seqs do
      reply[#reply + 1] = tonumber(seqs[i])
    end
    return reply
  end
end

-- The tool-call groups of the unpinned messages, as memory-core's SessionState keeps them: a tool message answers
-- the newest assistant message stored before it that made its call (call ids repeat across replies), and of several
-- tool messages answering one call of one assistant message, the newest is the one in the group. In d:
--   "o:<callId>"       the call's current owner: the sequence of the newest unpinned assistant message that made it,
--                      dropped when that message is removed (or, when max age removed it before an older one that
--                      made the call, that one's);
--   "g:<seq>:<callId>" the tool message in the group of that call of assistant message <seq>, "0" for none yet;
--   "r:<seq>"          the assistant message whose group tool message <seq> joined when it was stored.
-- A tool message whose call has no current owner answers nothing, and is recorded as the previous release recorded
-- every tool message: "c:<callId>", its sequence (the newest such tool message of the call). Assistant messages that
-- release stored have no "g:" fields: their groups are read in that old form, paired by call id alone, except that a
-- tool message never answers an assistant message stored after it.
-- Current values, read from d on first use (nil: not read yet, false: no field), and the fields the call changed.
local gv, ov, rv, cv = {}, {}, {}, {}
local gDirty, oDirty, rDirty, cDirty = {}, {}, {}, {}
-- The fields known to be absent from d, which a value of false need not delete.
local was = {}

-- Reads in one HMGET the fields of reqs ({values, prefix, key} each) whose values are not known yet.
local function load(reqs)
  local fields, want = {}, {}
  for _, q in ipairs(reqs) do
    if q[1][q[3]] == nil then
      fields[#fields + 1] = q[2] .. q[3]
      want[#want + 1] = q
    end
  end
  -- At most 1000 fields an HMGET: Lua's unpack takes only so many values (a message may make thousands of calls).
  local i = 1
  while i <= #fields do
    local last = math.min(#fields, i + 999)
    local got = redis.call('HMGET', d, unpack(fields, i, last))
    for j = i, last do
      local q = want[j]
      local v = got[j - i + 1]
      q[1][q[3]] = v and tonumber(v) or false
      was[q[2] .. q[3]] = not v
    end
    i = last + 1
  end
end

local function put(values, dirty, k, v)
  values[k] = v
  dirty[k] = true
end

-- The incoming messages: known ids answer with the stored JSON; new ones get the next sequence numbers.
local out, new, bySeq, pinnedOv = {}, {}, {}, {}
for i = 1, n do
  local pos = FIRST + STRIDE * i - STRIDE
  local have = meta[8 + i]
  if have then
    out[i] = redis.call('ZRANGEBYSCORE', m, have, have)[1] or false
  else
    seq = seq + 1
    local id, hdr = ARGV[pos + 1], ARGV[pos + 4]
    local r
    if ARGV[pos + 5] == '1' then
      -- Plain (unpinned, no tool calls, no toolCallId): the header is unpacked only if retention needs it.
      r = {seq = seq, id = id, head = ARGV[pos + 2], tail = ARGV[pos + 3], hdr = hdr, pinned = false,
           tokens = tonumber(ARGV[pos + 6]), kind = 'm', new = true, sec = ARGV[pos + 7]}
      r.member = string.format('%d', seq) .. ':' .. ARGV[pos + 6] .. ':m:' .. id
    else
      local h = cmsgpack.unpack(hdr)
      local pinned = h[4]
      if not pinned and h[5] then
        -- A tool message answers the newest message before it that made its call, and is pinned when that one is.
        pinned = pinnedOv[h[5]]
        if pinned == nil then
          -- One read for both: the newest pinned message that made the call, and the unpinned one that owns it now.
          local got = redis.call('HMGET', d, 'P:' .. h[5], 'o:' .. h[5])
          pinned = got[1] and (not got[2] or tonumber(got[2]) < tonumber(got[1])) or false
          if ov[h[5]] == nil then
            ov[h[5]] = got[2] and tonumber(got[2]) or false
            was['o:' .. h[5]] = not got[2]
          end
        end
      end
      for _, c in ipairs(h[6]) do
        pinnedOv[c] = pinned
      end
      local kind = 'm'
      if h[5] then
        kind = 'r'
      elseif #h[6] > 0 then
        kind = 'a'
      end
      r = {seq = seq, id = id, head = ARGV[pos + 2], tail = ARGV[pos + 3], hdr = hdr, h = h, pinned = pinned,
           tokens = h[1], kind = kind, new = true, sec = ARGV[pos + 7]}
      r.member = string.format('%d:%d:%s:', seq, h[1], kind) .. id
    end
    new[#new + 1] = r
    bySeq[seq] = r
    out[i] = seq
  end
end

-- version: the session's version after the call; removed: sequence -> cause of what retention removed.
local function okReply(removedCount, version, removed)
  local reply = {'OK', indexWant(), removedCount}
  for i = 1, n do
    reply[#reply + 1] = out[i]
  end
  reply[#reply + 1] = meta[8] or epoch
  reply[#reply + 1] = ver
  reply[#reply + 1] = version
  for s in pairs(removed) do
    reply[#reply + 1] = s
  end
  return reply
end

if #new == 0 then
  return okReply(0, ver, {})
end

-- Retention, computed on the session as it would be after the append, without writing anything yet.
local unCount = tonumber(meta[3] or '0')
local unTok = tonumber(meta[2] or '0')
local newUnpinned = {}
for _, r in ipairs(new) do
  if not r.pinned then
    newUnpinned[#newUnpinned + 1] = r
    unCount = unCount + 1
    unTok = unTok + r.tokens
    if r.kind == 'a' then
      -- It owns each of its calls, with a group that holds no tool message yet.
      for _, c in ipairs(r.h[6]) do
        put(ov, oDirty, c, r.seq)
        put(gv, gDirty, r.seq .. ':' .. c, 0)
        was['g:' .. r.seq .. ':' .. c] = true
      end
    elseif r.kind == 'r' then
      local c = r.h[5]
      load({{ov, 'o:', c}})
      local owner = ov[c]
      if owner then
        -- It joins the group of the call's current owner, in place of an earlier tool message of that group.
        put(gv, gDirty, owner .. ':' .. c, r.seq)
        put(rv, rDirty, r.seq, owner)
        was['r:' .. r.seq] = true
      else
        rv[r.seq] = false
        put(cv, cDirty, c, r.seq)
      end
    end
  end
end

local CAUSES = {'EXPIRED', 'OVERFLOW', 'SIZE', 'TOKENS'}
local lists = {EXPIRED = {}, OVERFLOW = {}, SIZE = {}, TOKENS = {}}
local removed = {}
local removedCount = 0

local function existing(s, member)
  local e = bySeq[s]
  if e then
    return e
  end
  local _, tk, kind, id = string.match(member, '^(%d+):(%d+):(%a):(.*)$')
  e = {seq = s, tokens = tonumber(tk), kind = kind, member = member, id = id}
  bySeq[s] = e
  return e
end

-- The unpinned message with sequence s, or nil when it is missing: a tool message that a group names may be (a
-- writer of the previous release, which knows no "g:" fields, may have removed it), and the group is then taken to
-- hold no tool message.
local function bySequenceIf(s)
  local e = bySeq[s]
  if e then
    return e
  end
  local found = redis.call('ZRANGEBYSCORE', u, s, s)
  if #found == 0 then
    return nil
  end
  return existing(s, found[1])
end

local function bySequence(s)
  local e = bySequenceIf(s)
  if not e then
    error('agentmemory: unpinned message ' .. s .. ' is missing from its index')
  end
  return e
end

local function header(e)
  if not e.h then
    e.h = cmsgpack.unpack(e.hdr or redis.call('HGET', d, 'h:' .. e.seq))
  end
  return e.h
end

local function calls(e)
  if e.kind ~= 'a' then
    return {}
  end
  return header(e)[6]
end

-- The oldest unpinned message not removed yet: the stored ones first, then the incoming ones.
local cursor, step, buffer, bufPos, storedDone, newPos = 0, 4, {}, 1, false, 1
local function oldest()
  while not storedDone do
    if bufPos > #buffer then
      buffer = redis.call('ZRANGE', u, cursor, cursor + step - 1)
      cursor = cursor + step
      step = math.min(step * 4, 256)
      bufPos = 1
      if #buffer == 0 then
        storedDone = true
        break
      end
    end
    local member = buffer[bufPos]
    local s = tonumber(string.match(member, '^(%d+)'))
    if not removed[s] then
      return existing(s, member)
    end
    bufPos = bufPos + 1
  end
  while newPos <= #newUnpinned do
    local r = newUnpinned[newPos]
    if not removed[r.seq] then
      return r
    end
    newPos = newPos + 1
  end
  error('agentmemory: the unpinned count is out of step with the unpinned index')
end

-- The groups of an assistant message, one {call id, tool message's sequence or false, old form} per call, read
-- with the call's owner and old-form field in one HMGET (the header before it, unless known).
local function groupsOf(e)
  local cs = calls(e)
  local reqs = {}
  for _, c in ipairs(cs) do
    reqs[#reqs + 1] = {gv, 'g:', e.seq .. ':' .. c}
    reqs[#reqs + 1] = {ov, 'o:', c}
    reqs[#reqs + 1] = {cv, 'c:', c}
  end
  load(reqs)
  local groups = {}
  for _, c in ipairs(cs) do
    local g = gv[e.seq .. ':' .. c]
    local legacy = g == false
    local res = false
    if legacy then
      -- Stored by the previous release: the call's tool message, if stored after it.
      local v = cv[c]
      if v and v > e.seq and not removed[v] then
        res = v
      end
    elseif g > 0 and not removed[g] then
      res = g
    end
    groups[#groups + 1] = {c, res, legacy}
  end
  return groups
end

local function dropMessage(e, cause)
  removed[e.seq] = cause
  local lst = lists[cause]
  lst[#lst + 1] = e
  removedCount = removedCount + 1
  unCount = unCount - 1
  unTok = unTok - e.tokens
end

local function makesCall(e, c)
  for _, k in ipairs(calls(e)) do
    if k == c then
      return true
    end
  end
  return false
end

-- Every stored unpinned message with a sequence up to removedPrefix is removed by this call: expiry of a session
-- left idle takes its oldest messages, and nothing below them needs to be read again.
local removedPrefix, storedAllRemoved = 0, false
-- The first stored unpinned message above removedPrefix, not removed when last read: until it is, nothing changes.
local prefixBlocker
local function advanceRemovedPrefix()
  if prefixBlocker and not removed[prefixBlocker] then
    return removedPrefix
  end
  while not storedAllRemoved do
    local page = redis.call('ZRANGEBYSCORE', u, '(' .. string.format('%d', removedPrefix), '+inf', 'WITHSCORES',
      'LIMIT', 0, 64)
    if #page == 0 then
      storedAllRemoved = true
      break
    end
    for i = 2, #page, 2 do
      local seqAt = tonumber(page[i])
      if not removed[seqAt] then
        prefixBlocker = seqAt
        return removedPrefix
      end
      removedPrefix = seqAt
    end
  end
  return removedPrefix
end

-- The stored unpinned assistant messages that made each call, by call id, ascending; read whole (one pass over the
-- unpinned index and the assistant messages' headers) the first time an expired owner has stored messages below it,
-- so that the search costs one pass, not one per call: an expired message can make a thousand calls.
local storedCallers
local function readStoredCallers()
  if not storedCallers then
    storedCallers = {}
    local members = redis.call('ZRANGEBYSCORE', u, '(' .. string.format('%d', removedPrefix), '+inf', 'WITHSCORES')
    for i = 1, #members, 2 do
      local x = existing(tonumber(members[i + 1]), members[i])
      if x.kind == 'a' then
        for _, k in ipairs(calls(x)) do
          local list = storedCallers[k]
          if not list then
            list = {}
            storedCallers[k] = list
          end
          list[#list + 1] = x.seq
        end
      end
    end
  end
  return storedCallers
end

-- The newest assistant message below sequence `below`, not removed, that made call c (false for none): the incoming
-- ones first (they come after every stored one), then the stored ones.
local function olderCaller(c, below)
  for i = #newUnpinned, 1, -1 do
    local r = newUnpinned[i]
    if r.seq < below and r.kind == 'a' and not removed[r.seq] and makesCall(r, c) then
      return r.seq
    end
  end
  if advanceRemovedPrefix() + 1 >= below or storedAllRemoved then
    return false
  end
  local list = readStoredCallers()[c] or {}
  for i = #list, 1, -1 do
    local seqAt = list[i]
    if seqAt < below and not removed[seqAt] then
      return seqAt
    end
  end
  return false
end

-- Reads the "r:" field (the group each joined) of tool messages xs, in one HMGET.
local function loadJoined(xs)
  local reqs = {}
  for _, x in ipairs(xs) do
    reqs[#reqs + 1] = {rv, 'r:', x.seq}
  end
  load(reqs)
end

-- Gives the tool messages that answered the calls of assistant message e, which expired before older messages that
-- made those calls, to those messages: for each call, the newest stored message before them that made it. moves
-- holds {call id, the older message, the group's own tool message (which goes with e) or nil}. The tool messages of a
-- call lie between e and the next message that made it; the range above e is read once for all of e's calls, and
-- only when e was stored before this call (every stored message is older than an incoming one).
local function moveAnswers(e, moves)
  local a = e.seq
  local byCall, bound, widest = {}, {}, a
  for _, mv in ipairs(moves) do
    byCall[mv[1]] = mv
    bound[mv[1]] = math.huge
  end
  if not e.new then
    for c in pairs(byCall) do
      for _, seqAt in ipairs(readStoredCallers()[c] or {}) do
        if seqAt > a then
          bound[c] = seqAt
          break
        end
      end
    end
  end
  local candidates = {}
  for _, r in ipairs(newUnpinned) do
    if r.seq > a then
      if r.kind == 'a' then
        for _, k in ipairs(calls(r)) do
          if bound[k] and r.seq < bound[k] then
            bound[k] = r.seq
          end
        end
      elseif r.kind == 'r' then
        candidates[#candidates + 1] = r
      end
    end
  end
  if not e.new then
    for _, bc in pairs(bound) do
      widest = math.max(widest, bc)
    end
    local hi = widest == math.huge and '+inf' or '(' .. string.format('%d', widest)
    local members = redis.call('ZRANGEBYSCORE', u, '(' .. string.format('%d', a), hi, 'WITHSCORES')
    for i = 1, #members, 2 do
      local x = existing(tonumber(members[i + 1]), members[i])
      if x.kind == 'r' then
        candidates[#candidates + 1] = x
      end
    end
  end
  loadJoined(candidates)
  local newestMoved = {}
  for _, x in ipairs(candidates) do
    if not removed[x.seq] and rv[x.seq] == a then
      local c = header(x)[5]
      local mv = byCall[c]
      if mv and x.seq < bound[c] and x.seq ~= mv[3] then
        put(rv, rDirty, x.seq, mv[2])
        if not newestMoved[c] or x.seq > newestMoved[c] then
          newestMoved[c] = x.seq
        end
      end
    end
  end
  for c, seqAt in pairs(newestMoved) do
    -- Newer than every tool message of the older message's group: it is that group's now.
    put(gv, gDirty, byCall[c][2] .. ':' .. c, seqAt)
  end
end

-- The newest tool message between sequences a and `below`, not removed, in the group of call c of assistant message a
-- (false for none): the incoming ones first (they come after every stored one), then the stored ones above the removed
-- prefix, newest first, a page at a time.
local function olderAnswer(a, c, below)
  local function joined(x)
    return not removed[x.seq] and rv[x.seq] == a and header(x)[5] == c
  end
  local best = false
  for _, r in ipairs(newUnpinned) do
    if r.seq > a and r.seq < below and r.kind == 'r' and joined(r) then
      best = r.seq
    end
  end
  if best then
    return best
  end
  local above = math.max(a, advanceRemovedPrefix())
  if storedAllRemoved or above + 1 >= below then
    return false
  end
  local hi, lo = '(' .. string.format('%d', below), '(' .. string.format('%d', above)
  while true do
    local page = redis.call('ZREVRANGEBYSCORE', u, hi, lo, 'WITHSCORES', 'LIMIT', 0, 64)
    if #page == 0 then
      return false
    end
    local candidates = {}
    for i = 1, #page, 2 do
      local x = existing(tonumber(page[i + 1]), page[i])
      if x.kind == 'r' and not removed[x.seq] then
        candidates[#candidates + 1] = x
      end
      hi = '(' .. page[i + 1]
    end
    loadJoined(candidates)
    for _, x in ipairs(candidates) do
      if joined(x) then
        return x.seq
      end
    end
  end
end

-- Removes a message that is not removed with a group: an assistant message drops its ownerships (those it still
-- holds) and its groups; a tool message leaves the group it joined, if it is still the one in it. A call whose owner
-- expired before an older message that made it (given a backdated timestamp) is owned by that message again, the
-- newest stored one that made it, and a group whose tool message expired before an older one of the group holds that
-- one again, as the window rule reads what is stored; any other removal takes the oldest unpinned message, below
-- which none is stored.
local function removeAlone(e, cause)
  dropMessage(e, cause)
  if e.kind == 'a' then
    local moves = {}
    for _, c in ipairs(calls(e)) do
      load({{ov, 'o:', c}})
      local previous = cause == 'EXPIRED' and olderCaller(c, e.seq) or false
      if ov[c] == e.seq then
        put(ov, oDirty, c, previous)
      end
      if previous then
        local own = gv[e.seq .. ':' .. c]
        moves[#moves + 1] = {c, previous, own and own > 0 and own or nil}
      end
      put(gv, gDirty, e.seq .. ':' .. c, false)
    end
    if #moves > 0 then
      moveAnswers(e, moves)
    end
  elseif e.kind == 'r' then
    if not e.h and not e.new then
      local got = redis.call('HMGET', d, 'h:' .. e.seq, 'r:' .. e.seq)
      e.h = cmsgpack.unpack(got[1])
      if rv[e.seq] == nil then
        rv[e.seq] = got[2] and tonumber(got[2]) or false
        was['r:' .. e.seq] = not got[2]
      end
    end
    local c = e.h[5]
    load({{rv, 'r:', e.seq}})
    local a = rv[e.seq]
    if a then
      local k = a .. ':' .. c
      load({{gv, 'g:', k}, {cv, 'c:', c}})
      if gv[k] == e.seq then
        -- An older tool message of the group is its tool message again when this one expired first.
        put(gv, gDirty, k, cause == 'EXPIRED' and olderAnswer(a, c, e.seq) or 0)
      end
      put(rv, rDirty, e.seq, false)
    end
    load({{cv, 'c:', c}})
    if cv[c] == e.seq then
      put(cv, cDirty, c, false)
    end
  end
end

-- Removes a message with its group: an assistant message and the tool message of each of its calls.
local function removeGroup(e, cause)
  if e.kind ~= 'a' then
    removeAlone(e, cause)
    return
  end
  local groups = groupsOf(e)
  removeAlone(e, cause)
  for _, g in ipairs(groups) do
    if g[2] then
      local r = bySequenceIf(g[2])
      if r then
        dropMessage(r, cause)
        if g[3] then
          put(cv, cDirty, g[1], false)
        else
          put(rv, rDirty, r.seq, false)
        end
      end
    end
  end
end

-- The newest unpinned message not removed (the incoming ones first, then the stored ones, newest first).
local top, topPos, topFrom = {}, 1, 0
local function newest()
  for i = #newUnpinned, 1, -1 do
    if not removed[newUnpinned[i].seq] then
      return newUnpinned[i].seq
    end
  end
  while true do
    if topPos > #top then
      top = redis.call('ZREVRANGE', u, topFrom, topFrom + 7)
      topFrom = topFrom + 8
      topPos = 1
      if #top == 0 then
        error('agentmemory: the unpinned count is out of step with the unpinned index')
      end
    end
    local s = tonumber(string.match(top[topPos], '^(%d+)'))
    if not removed[s] then
      return s
    end
    topPos = topPos + 1
  end
end

-- Whether the oldest group holds the newest message, which max-messages and max-tokens never remove: a group's tool
-- messages need not follow it directly, so the oldest group may hold the newest message while others lie between.
local function oldestGroupHoldsNewest()
  if unCount <= 1 then
    return true
  end
  local e = oldest()
  if e.kind ~= 'a' then
    return false
  end
  local last = false
  for _, g in ipairs(groupsOf(e)) do
    if g[2] and (not last or g[2] > last) then
      last = g[2]
    end
  end
  return last and last == newest() or false
end

if cutSec ~= '' then
  local cs = tonumber(cutSec)
  local expired = {}
  local cand = redis.call('ZRANGEBYSCORE', t, '-inf', cutSec, 'WITHSCORES')
  for i = 1, #cand, 2 do
    local s = tonumber(cand[i])
    local sec = tonumber(cand[i + 1])
    local e = bySequence(s)
    if sec < cs or header(e)[3] < cutNanos then
      expired[#expired + 1] = e
    end
  end
  for _, r in ipairs(newUnpinned) do
    local h = header(r)
    if h[2] < cs or (h[2] == cs and h[3] < cutNanos) then
      expired[#expired + 1] = r
    end
  end
  -- Each with its group, oldest first (an assistant message before its tool messages).
  table.sort(expired, function(a, b) return a.seq < b.seq end)
  for _, e in ipairs(expired) do
    if not removed[e.seq] then
      removeGroup(e, 'EXPIRED')
    end
  end
end
if ovMax > 0 and unCount > ovMax then
  while unCount > ovKeep do
    removeGroup(oldest(), 'OVERFLOW')
  end
end
if maxMsgs > 0 then
  while unCount > maxMsgs and not oldestGroupHoldsNewest() do
    removeGroup(oldest(), 'SIZE')
  end
end
if maxTok > 0 then
  while unTok > maxTok and not oldestGroupHoldsNewest() do
    removeGroup(oldest(), 'TOKENS')
  end
end

local function jsonOf(e)
  if e.new then
    return e.head .. ',"seq":' .. e.seq .. e.tail
  end
  return redis.call('ZRANGEBYSCORE', m, e.seq, e.seq)[1]
end

if mode == 'p' and removedCount > 0 then
  -- Nothing is written but the lock: the caller reports the plan to its listener, then commits it under the lock.
  redis.call('HSET', d, 'lk', token .. ' ' .. string.format('%d', now() + lease))
  if not meta[1] then
    redis.call('PEXPIRE', d, lease)
  end
  local reply = {'PLAN', ver}
  for _, cause in ipairs(CAUSES) do
    local lst = lists[cause]
    if #lst > 0 then
      table.sort(lst, function(a, b) return a.seq < b.seq end)
      reply[#reply + 1] = cause
      reply[#reply + 1] = #lst
      for _, e in ipairs(lst) do
        reply[#reply + 1] = jsonOf(e)
      end
    end
  end
  return reply
end

-- Commit: write the new messages that stay, delete the removed stored ones, update the counters.
local set = {'seq', seq, 'tok', string.format('%d', unTok), 'n', unCount, 'ver', newVer}
if not meta[8] then
  set[#set + 1] = 'ep'
  set[#set + 1] = epoch
end
local del = {}
-- One ZADD per key for all the messages that stay.
local zm, zp, zu, zt = {}, {}, {}, {}
for _, r in ipairs(new) do
  if not removed[r.seq] then
    local ss = string.format('%d', r.seq)
    zm[#zm + 1] = ss
    zm[#zm + 1] = jsonOf(r)
    set[#set + 1] = 'h:' .. ss
    set[#set + 1] = r.hdr
    set[#set + 1] = 'i:' .. r.id
    set[#set + 1] = ss
    set[#set + 1] = 's:' .. ss
    set[#set + 1] = newVer
    if r.pinned then
      zp[#zp + 1] = ss
      zp[#zp + 1] = ss .. ':' .. string.format('%d', r.tokens)
      for _, c in ipairs(r.h[6]) do
        set[#set + 1] = 'P:' .. c
        set[#set + 1] = ss
      end
    else
      zu[#zu + 1] = ss
      zu[#zu + 1] = r.member
      zt[#zt + 1] = r.sec
      zt[#zt + 1] = ss
    end
  end
end
if #zm > 0 then
  chunked('ZADD', m, zm, 2)
end
if #zp > 0 then
  chunked('ZADD', p, zp, 2)
end
if #zu > 0 then
  chunked('ZADD', u, zu, 2)
  chunked('ZADD', t, zt, 2)
end
if removedCount > 0 then
  local members, seqs = {}, {}
  for _, cause in ipairs(CAUSES) do
    for _, e in ipairs(lists[cause]) do
      if not e.new then
        members[#members + 1] = e.member
        seqs[#seqs + 1] = e.seq
        del[#del + 1] = 'h:' .. e.seq
        del[#del + 1] = 'i:' .. e.id
        del[#del + 1] = 's:' .. e.seq
      end
    end
  end
  if #members > 0 then
    -- m by score, one range per run of consecutive sequence numbers (no other message lies inside such a run).
    table.sort(seqs)
    local lo = 1
    for i = 1, #seqs do
      if i == #seqs or seqs[i + 1] ~= seqs[i] + 1 then
        redis.call('ZREMRANGEBYSCORE', m, seqs[lo], seqs[i])
        lo = i + 1
      end
    end
    chunked('ZREM', u, members, 1)
    chunked('ZREM', t, seqs, 1)
  end
end
-- The tool-call fields the call changed; a field known to be absent is not deleted.
for _, f in ipairs({{gv, gDirty, 'g:'}, {ov, oDirty, 'o:'}, {rv, rDirty, 'r:'}, {cv, cDirty, 'c:'}}) do
  for k in pairs(f[2]) do
    local v = f[1][k]
    if v then
      set[#set + 1] = f[3] .. k
      set[#set + 1] = string.format('%d', v)
    elseif not was[f[3] .. k] then
      del[#del + 1] = f[3] .. k
    end
  end
end
local newPinned = false
for _, r in ipairs(new) do
  newPinned = newPinned or r.pinned
end
store(set, del, newPinned)
return okReply(removedCount, set[8], removed)
