package io.agentmemory.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * One of the backend's Lua scripts, run by its SHA-1 ({@code EVALSHA}); a server that does not know it yet (a new or
 * restarted node, a flushed script cache) answers {@code NOSCRIPT}, and the script is then sent whole ({@code EVAL}),
 * which also caches it there. Immutable and thread-safe.
 */
final class Lua {
    static final Lua APPEND = load("append.lua");
    static final Lua READ = load("read.lua");
    static final Lua SESSION = load("session.lua");
    static final Lua INDEX = load("index.lua");

    private final String name;
    private final byte[] body;
    private final byte[] sha;

    private Lua(String name, byte[] body) {
        this.name = name;
        this.body = body;
        try {
            this.sha = HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-1").digest(body))
                    .getBytes(StandardCharsets.US_ASCII);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-1", e);
        }
    }

    private static Lua load(String name) {
        try (InputStream in = Lua.class.getResourceAsStream(name)) {
            Objects.requireNonNull(in, () -> "resource " + name + " is missing from memory-redis");
            return new Lua(name, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + name + " from memory-redis failed", e);
        }
    }

    /** Runs the script; its keys must share one hash slot. */
    Object run(UnifiedJedis jedis, List<byte[]> keys, List<byte[]> args) {
        try {
            return jedis.evalsha(sha, keys, args);
        } catch (JedisNoScriptException e) {
            return jedis.eval(body, keys, args);
        }
    }

    /** The SHA-1 the script is run by, as hex. */
    byte[] sha() {
        return sha.clone();
    }

    String name() {
        return name;
    }

    @Override
    public String toString() {
        return "Lua[" + name + "]";
    }
}
