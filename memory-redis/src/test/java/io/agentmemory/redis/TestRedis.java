package io.agentmemory.redis;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;
import redis.embedded.RedisServer;

/**
 * The standalone Redis the tests use: the server MEMORY_TEST_REDIS_URL names (CI points it at the machine's Redis),
 * or else a real redis-server started from the embedded-redis artifact. With CI=true a named server that cannot be
 * reached fails the tests; nothing is skipped. Every test class writes under its own key prefix and deletes its keys
 * afterwards, since other processes use the same server. Thread-safe.
 */
final class TestRedis {
    private static String url;
    private static RedisServer embedded;

    private TestRedis() {}

    /** The url of the standalone server, starting the embedded one if none is named. */
    static synchronized String url() {
        if (url == null) {
            String named = System.getenv("MEMORY_TEST_REDIS_URL");
            if (named != null && !named.isBlank()) {
                RuntimeException failure = reach(named);
                if (failure == null) {
                    url = named;
                    return url;
                }
                if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                    throw new IllegalStateException(
                            "MEMORY_TEST_REDIS_URL names a Redis that cannot be reached, and CI=true", failure);
                }
                System.err.println("MEMORY_TEST_REDIS_URL cannot be reached (" + failure
                        + "); starting an embedded redis-server instead");
            }
            url = startEmbedded();
        }
        return url;
    }

    private static RuntimeException reach(String named) {
        try (Jedis jedis = new Jedis(java.net.URI.create(named), 2000)) {
            jedis.ping();
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }

    private static String startEmbedded() {
        int port = RedisProcess.freePort();
        try {
            embedded = RedisServer.newRedisServer()
                    .port(port)
                    .setting("bind 127.0.0.1")
                    .setting("save \"\"")
                    .setting("appendonly no")
                    .build();
            embedded.start();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("starting the embedded redis-server failed", e);
        }
        RedisServer server = embedded;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.stop();
            } catch (java.io.IOException e) {
                // the JVM is ending
            }
        }));
        return "redis://127.0.0.1:" + port;
    }

    /** A key prefix no other test run uses. */
    static String newPrefix(String what) {
        return "amtest:" + what + ":" + UUID.randomUUID() + ":";
    }

    /** The settings of a memory on the standalone server under {@code prefix}. */
    static Map<String, String> config(String prefix) {
        return Map.of(RedisSettings.URL, url(), RedisSettings.KEY_PREFIX, prefix);
    }

    static RedisSettings settings(String prefix) {
        return RedisSettings.fromConfig(config(prefix));
    }

    /** Deletes every key under {@code prefix} on the server at {@code port} of 127.0.0.1 or at {@link #url()}. */
    static long deleteKeys(String serverUrl, String prefix) {
        try (Jedis jedis = new Jedis(java.net.URI.create(serverUrl), 5000)) {
            return deleteKeys(jedis, prefix);
        }
    }

    static long deleteKeys(Jedis jedis, String prefix) {
        long deleted = 0;
        ScanParams params = new ScanParams().match(glob(prefix) + "*").count(1000);
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            ScanResult<String> page = jedis.scan(cursor, params);
            List<String> keys = page.getResult();
            for (String key : keys) {
                deleted += jedis.del(key);
            }
            cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        return deleted;
    }

    /**
     * How many times the server of {@link #url()} ran the given commands (lower case, as {@code INFO commandstats} names
     * them) since it started: calls from scripts included.
     */
    static long commandCalls(String... commands) {
        try (Jedis jedis = new Jedis(java.net.URI.create(url()), 5000)) {
            String stats = jedis.info("commandstats");
            long total = 0;
            for (String command : commands) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("cmdstat_" + command + ":calls=(\\d+)")
                        .matcher(stats);
                if (m.find()) {
                    total += Long.parseLong(m.group(1));
                }
            }
            return total;
        }
    }

    /** The bytes the server has sent to its clients since it started ({@code INFO stats}). */
    static long outputBytes(Jedis jedis) {
        return jedis.info("stats")
                .lines()
                .filter(l -> l.startsWith("total_net_output_bytes:"))
                .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(':') + 1).strip()))
                .findFirst()
                .orElseThrow();
    }

    /** Keys under {@code prefix} on one server. */
    static long countKeys(Jedis jedis, String prefix) {
        long n = 0;
        ScanParams params = new ScanParams().match(glob(prefix) + "*").count(1000);
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            ScanResult<String> page = jedis.scan(cursor, params);
            n += page.getResult().size();
            cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        return n;
    }

    private static String glob(String prefix) {
        return prefix.replaceAll("([*?\\[\\]\\\\])", "\\\\$1");
    }
}
