package io.agentmemory.benchmarks;

import io.agentmemory.Message;
import io.agentmemory.core.json.MessageJson;
import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import redis.clients.jedis.RedisClient;

/**
 * A lower bound for any Redis store that keeps memory-redis's write guarantees in one atomic call per append,
 * measured next to {@link PairedRedisTurns}' turns: a script that answers a known message id with its number (so that
 * a retried append stores nothing twice), gives a new message the session's next number, stores it in a sorted set by
 * that number, drops the oldest beyond {@code n} with their ids, and sets the TTL of both keys; 9 calls, on two keys.
 * It counts no tokens, keeps no pinned messages, tool groups, timestamps or versions, and reports no eviction. The
 * message's JSON is made once, outside the measurement. Its window is free (a perfect cache), so its turn is its two
 * appends.
 */
final class RedisTurnBound {
    private static final String SCRIPT = String.join(
            "\n",
            "local have = redis.call('HGET', KEYS[1], ARGV[1])",
            "if have then return tonumber(have) end",
            "local seq = redis.call('HINCRBY', KEYS[1], '', 1)",
            "redis.call('HSET', KEYS[1], ARGV[1], seq)",
            "redis.call('ZADD', KEYS[2], seq, ARGV[1] .. '\\n' .. ARGV[2])",
            "local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])",
            "if excess > 0 then",
            "  local old = redis.call('ZPOPMIN', KEYS[2], excess)",
            "  local ids = {}",
            "  for i = 1, #old, 2 do ids[#ids + 1] = string.match(old[i], '^[^\\n]*') end",
            "  redis.call('HDEL', KEYS[1], unpack(ids))",
            "end",
            "redis.call('PEXPIRE', KEYS[1], ARGV[4])",
            "redis.call('PEXPIRE', KEYS[2], ARGV[4])",
            "return seq");

    private final RedisClient redis;
    private final byte[] sha;
    private final List<byte[]> keys;
    private final byte[] n;
    private final byte[] ttl =
            Long.toString(RedisFloorBenchmark.TTL_SECONDS * 1000).getBytes(StandardCharsets.US_ASCII);
    private final Map<Message, byte[]> json = new IdentityHashMap<>();

    RedisTurnBound(RedisClient redis, String prefix, int n) {
        this.redis = redis;
        this.sha = redis.scriptLoad(SCRIPT).getBytes(StandardCharsets.US_ASCII);
        this.keys = List.of(bytes(prefix + "{bound}:d"), bytes(prefix + "{bound}:m"));
        this.n = bytes(Integer.toString(n));
    }

    /** Appends {@code m}; returns its number. */
    long append(Message m) {
        byte[] body = json.computeIfAbsent(m, MessageJson::toJsonBytes);
        return (Long) redis.evalsha(sha, keys, List.of(bytes(m.id()), body, n, ttl));
    }

    /** How many messages the session holds. */
    long size() {
        return redis.zcard(keys.get(1));
    }

    void delete() {
        redis.del(keys.get(0), keys.get(1));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
