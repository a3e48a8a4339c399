package io.agentmemory.redis;

import io.agentmemory.BackendUnavailableException;
import io.agentmemory.ConfigurationException;
import io.agentmemory.IntegrityException;
import io.agentmemory.MemoryException;
import java.util.List;
import redis.clients.jedis.exceptions.JedisAccessControlException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Turns Jedis's exceptions into the {@link MemoryException} family: connection failures, exhausted cluster retries,
 * and the server's transient refusals (LOADING, TRYAGAIN, CLUSTERDOWN, BUSY...) become a retryable
 * {@link BackendUnavailableException}; refused credentials a {@link ConfigurationException}; a key holding something
 * this backend did not write an {@link IntegrityException}. Messages name the operation and the session, never
 * message content or the password. Thread-safe (stateless).
 */
final class RedisErrors {
    private static final List<String> TRANSIENT = List.of(
            "LOADING",
            "TRYAGAIN",
            "CLUSTERDOWN",
            "MASTERDOWN",
            "READONLY",
            "BUSY",
            "NOREPLICAS",
            "MOVED",
            "ASK",
            "OOM",
            "NOSCRIPT",
            "UNBLOCKED",
            "MISCONF");

    private RedisErrors() {}

    /**
     * The exception to throw for {@code e}, which Jedis threw while doing {@code what}.
     *
     * @param what the operation and its target, e.g. "append to SessionKey[...]"
     */
    static MemoryException translate(JedisException e, String what) {
        if (e instanceof JedisAccessControlException) {
            return new ConfigurationException("Redis refused the credentials while trying to " + what + " ("
                    + firstWord(e) + "); check memory.redis.user and memory.redis.password");
        }
        if (e instanceof JedisDataException) {
            String word = firstWord(e);
            if (word.equals("NOAUTH") || word.equals("WRONGPASS") || word.equals("NOPERM")) {
                return new ConfigurationException("Redis refused the credentials or permissions while trying to " + what
                        + " (" + word + "); check memory.redis.user and memory.redis.password");
            }
            if (word.equals("WRONGTYPE") || String.valueOf(e.getMessage()).contains("agentmemory:")) {
                return new IntegrityException(
                        "the Redis keys of the session hold data this backend did not write or"
                                + " that is out of step, while trying to " + what + ": " + redisMessage(e),
                        e);
            }
            if (TRANSIENT.contains(word)) {
                return new BackendUnavailableException("Redis is not ready to " + what + ": " + redisMessage(e), e);
            }
            return new BackendUnavailableException("Redis failed to " + what + ": " + redisMessage(e), e);
        }
        return new BackendUnavailableException(
                "Redis is unavailable, could not " + what + " (" + e.getClass().getSimpleName() + ": " + redisMessage(e)
                        + "); retry later",
                e);
    }

    private static String firstWord(Exception e) {
        String m = String.valueOf(e.getMessage()).strip();
        int space = m.indexOf(' ');
        return space < 0 ? m : m.substring(0, space);
    }

    /** The server's or client's message, first line, at most 200 characters (it never holds message content). */
    private static String redisMessage(Exception e) {
        String m = String.valueOf(e.getMessage()).strip();
        int newline = m.indexOf('\n');
        if (newline >= 0) {
            m = m.substring(0, newline);
        }
        return m.length() <= 200 ? m : m.substring(0, 200) + "...";
    }
}
