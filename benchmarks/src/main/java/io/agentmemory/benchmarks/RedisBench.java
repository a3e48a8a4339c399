package io.agentmemory.benchmarks;

import java.net.URI;
import java.util.UUID;

/** What the Redis benchmarks share: the server (MEMORY_TEST_REDIS_URL, default the local one) and key prefixes. */
final class RedisBench {
    /** The server both Redis benchmarks use. */
    static final String URL = System.getenv().getOrDefault("MEMORY_TEST_REDIS_URL", "redis://127.0.0.1:6379");

    private RedisBench() {}

    static URI uri() {
        return URI.create(URL);
    }

    /** A key prefix of its own for each trial, deleted afterwards. */
    static String prefix(String what) {
        return "bench:" + what + ":" + UUID.randomUUID() + ":";
    }
}
