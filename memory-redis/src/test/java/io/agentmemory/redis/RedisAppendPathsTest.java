package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.EvictionListener;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.ToolCall;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.RecordingEvictionListener;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.resps.Tuple;

/**
 * The append script's short path (new plain messages that retention leaves alone) against its general path: the same
 * writes through a memory with the short path and one without leave the very same Redis state (every hash field,
 * every sorted set member and score, the expiries) and return the same messages, under every kind of retention, with
 * and without a TTL and an eviction listener, for single appends, batches (past the script's chunk size), retries and
 * mixes with pinned and tool messages. Runs on a redis-server of its own, whose command statistics also show which
 * path ran.
 */
class RedisAppendPathsTest {
    private static final String TEXT = "please summarize the order and the invoice of the customer account";
    private static RedisProcess server;

    @BeforeAll
    static void start() {
        server = RedisProcess.start("paths", List.of());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** Two memories, with and without the short path, on the same server under their own prefixes. */
    private static final class Pair implements AutoCloseable {
        final String shortPrefix;
        final String generalPrefix;
        final RecordingEvictionListener shortListener = new RecordingEvictionListener();
        final RecordingEvictionListener generalListener = new RecordingEvictionListener();
        final RedisMemory fast;
        final RedisMemory general;
        final SessionKey key;

        Pair(Retention retention, Duration ttl, boolean listener) {
            this(
                    TestRedis.newPrefix("short"),
                    TestRedis.newPrefix("general"),
                    SessionKey.of("acme", "s-" + UUID.randomUUID()),
                    retention,
                    ttl,
                    listener);
        }

        /** The sessions of {@code earlier}, through memories of another retention, as another process may have. */
        Pair(Pair earlier, Retention retention, boolean listener) {
            this(earlier.shortPrefix, earlier.generalPrefix, earlier.key, retention, Duration.ofHours(24), listener);
        }

        private Pair(
                String shortPrefix,
                String generalPrefix,
                SessionKey key,
                Retention retention,
                Duration ttl,
                boolean listener) {
            this.shortPrefix = shortPrefix;
            this.generalPrefix = generalPrefix;
            this.key = key;
            fast = open(shortPrefix, retention, ttl, listener ? shortListener : EvictionListener.NONE, true);
            general = open(generalPrefix, retention, ttl, listener ? generalListener : EvictionListener.NONE, false);
        }

        private static RedisMemory open(
                String prefix, Retention retention, Duration ttl, EvictionListener listener, boolean shortPath) {
            return RedisMemory.open(
                    RedisSettings.builder()
                            .node("127.0.0.1", server.port())
                            .keyPrefix(prefix)
                            .ttl(ttl)
                            .build(),
                    new MemoryContext(Clock.systemUTC(), TokenCounters.heuristic(), retention, listener),
                    shortPath);
        }

        void add(Message m) {
            assertThat(fast.session(key).add(m)).isEqualTo(general.session(key).add(m));
        }

        void addAll(List<Message> batch) {
            assertThat(fast.session(key).addAll(batch))
                    .isEqualTo(general.session(key).addAll(batch));
        }

        void assertSameState() {
            MemoryStore a = fast.session(key);
            MemoryStore b = general.session(key);
            assertThat(a.history()).isEqualTo(b.history());
            assertThat(a.count()).isEqualTo(b.count());
            assertThat(a.contextWindow(1_000)).isEqualTo(b.contextWindow(1_000));
            assertThat(shortListener.events()).isEqualTo(generalListener.events());
            try (Jedis jedis = server.client()) {
                assertThat(dump(jedis, new RedisKeys(shortPrefix), key))
                        .isEqualTo(dump(jedis, new RedisKeys(generalPrefix), key));
            }
        }

        @Override
        public void close() {
            fast.delete(key);
            general.delete(key);
            fast.close();
            general.close();
        }
    }

    /**
     * Everything the session's keys hold, without their names: hash fields and values (the times of the last TTL
     * refresh and of the index entry, and the random epoch and version, only as present or not), sorted set members with scores, whether each key
     * expires; and whether the tenant's index lists the session, and until when (a time, or never).
     */
    private static Map<String, Object> dump(Jedis jedis, RedisKeys keys, SessionKey key) {
        Map<String, Object> out = new TreeMap<>();
        List<byte[]> k = keys.session(key);
        Map<String, String> hash = new TreeMap<>();
        jedis.hgetAll(k.get(0)).forEach((f, v) -> {
            String field = text(f);
            hash.put(
                    field,
                    field.equals("ex") || field.equals("ix")
                            ? "(a time)"
                            : field.equals("ep")
                                    ? "(an epoch)"
                                    : field.equals("ver") || field.startsWith("s:") ? "(a version)" : text(v));
        });
        out.put("d", hash);
        String[] names = {"d", "u", "p", "t", "m"};
        for (int i = 1; i < 5; i++) {
            List<String> members = new ArrayList<>();
            for (Tuple t : jedis.zrangeWithScores(k.get(i), 0, -1)) {
                members.add(t.getScore() + " " + text(t.getBinaryElement()));
            }
            out.put(names[i], members);
        }
        for (int i = 0; i < 5; i++) {
            long pttl = jedis.pttl(k.get(i));
            out.put(names[i] + ".ttl", pttl == -2 ? "no key" : pttl == -1 ? "never" : "expires");
        }
        Double until = jedis.zscore(keys.index(key.tenant()), RedisKeys.indexMember(key));
        out.put("index", until == null ? "absent" : until.isInfinite() ? "never" : "a time");
        return out;
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static Message plain(int i) {
        Message.Builder b = Message.builder(i % 2 == 0 ? Message.USER : Message.ASSISTANT, TEXT + " " + i);
        if (i % 3 == 0) {
            b.metadata(Map.of("topic", "orders", "n", 1.5, "nested", Map.of("a", List.of(1, 2), "b", "x")));
        }
        if (i % 5 == 0) {
            b.timestamp(Instant.parse("2020-01-01T00:00:00.123456Z").plusSeconds(i));
        }
        return b.build();
    }

    /** A mix of writes: single plain appends, batches, retries, pinned, system and tool messages. */
    private static void mixedWrites(Pair pair) {
        int n = 0;
        for (int i = 0; i < 8; i++) {
            pair.add(plain(n++));
        }
        pair.addAll(List.of(plain(n++), plain(n++), plain(n++)));
        Message system = Message.system("you are a helpful agent");
        pair.add(system);
        pair.add(Message.builder(Message.USER, "remember this").pinned().build());
        Message calls =
                Message.assistant("", List.of(new ToolCall("c1", "lookup", "{}"), new ToolCall("c2", "f", "{}")));
        pair.add(calls);
        pair.add(Message.tool("c1", "result one"));
        pair.addAll(List.of(plain(n++), Message.tool("c2", "result two"), plain(n++)));
        Message known = plain(n++);
        pair.add(known);
        pair.add(known);
        pair.addAll(List.of(known, plain(n++)));
        pair.addAll(List.of(system, plain(n++)));
        for (int i = 0; i < 10; i++) {
            pair.add(plain(n++));
        }
        List<Message> large = new ArrayList<>();
        for (int i = 0; i < 1_100; i++) {
            large.add(Message.user("m" + i));
        }
        pair.addAll(large);
        pair.add(plain(n++));
        pair.addAll(List.of());
    }

    private static void compare(Retention retention, Duration ttl, boolean listener, Consumer<Pair> writes) {
        try (Pair pair = new Pair(retention, ttl, listener)) {
            writes.accept(pair);
            pair.assertSameState();
        }
    }

    @Test
    void withoutRetentionBothPathsLeaveTheSameState() {
        compare(Retention.none(), Duration.ofHours(24), false, RedisAppendPathsTest::mixedWrites);
        compare(Retention.none(), null, false, RedisAppendPathsTest::mixedWrites);
        compare(Retention.none(), Duration.ofHours(24), true, RedisAppendPathsTest::mixedWrites);
    }

    @Test
    void underAndOverEveryRetentionLimitBothPathsLeaveTheSameState() {
        List<Retention> retentions = List.of(
                Retention.maxMessages(6),
                Retention.maxMessages(2_000),
                Retention.maxTokens(120),
                Retention.maxTokens(1_000_000),
                Retention.builder().overflow(10, 0.5).build(),
                Retention.builder().maxMessages(30).maxTokens(400).build(),
                Retention.maxAge(Duration.ofDays(365)));
        for (Retention retention : retentions) {
            compare(retention, Duration.ofHours(24), false, RedisAppendPathsTest::mixedWrites);
            compare(retention, null, true, RedisAppendPathsTest::mixedWrites);
        }
    }

    /** Tool-call groups and an orphan tool result become the oldest messages while plain ones push them out. */
    private static void toolGroupWrites(Pair pair) {
        pair.add(Message.tool("orphan", "a result whose call is gone"));
        for (int i = 0; i < 4; i++) {
            pair.add(plain(i));
        }
        pair.add(Message.assistant("", List.of(new ToolCall("g1", "f", "{}"), new ToolCall("g2", "f", "{}"))));
        pair.add(Message.tool("g1", "r1"));
        pair.add(Message.tool("g2", "r2"));
        for (int i = 4; i < 9; i++) {
            pair.add(plain(i));
        }
        pair.add(Message.assistant("", List.of(new ToolCall("g3", "f", "{}"))));
        pair.add(plain(9));
        pair.add(Message.tool("g3", "r3"));
        pair.addAll(List.of(plain(10), plain(11)));
        for (int i = 12; i < 20; i++) {
            pair.add(plain(i));
        }
    }

    @Test
    void whenToolGroupsAreTheOldestBothPathsLeaveTheSameState() {
        List<Retention> retentions = List.of(
                Retention.maxMessages(1),
                Retention.maxMessages(2),
                Retention.maxMessages(3),
                Retention.maxMessages(4),
                Retention.builder().maxMessages(4).maxTokens(60).build(),
                Retention.builder().maxMessages(5).overflow(8, 0.5).build());
        for (Retention retention : retentions) {
            compare(retention, Duration.ofHours(24), false, RedisAppendPathsTest::toolGroupWrites);
            compare(retention, null, true, RedisAppendPathsTest::toolGroupWrites);
        }
    }

    /** Plain messages from 1 to 40 words, so that the tokens left after max-messages are sometimes too many. */
    private static void varyingLengthWrites(Pair pair) {
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < 60; i++) {
            int words = 1 + random.nextInt(40);
            pair.add(Message.user(String.join(" ", java.util.Collections.nCopies(words, "word" + i))));
        }
        pair.addAll(List.of(Message.user("a b c"), Message.user("d e f g h i j k l m n o p q r s t u v w")));
    }

    @Test
    void whenMaxMessagesAndMaxTokensBothBindBothPathsLeaveTheSameState() {
        for (int tokens : new int[] {20, 60, 100, 150}) {
            compare(
                    Retention.builder().maxMessages(4).maxTokens(tokens).build(),
                    Duration.ofHours(24),
                    false,
                    RedisAppendPathsTest::varyingLengthWrites);
        }
    }

    /**
     * A single add to a session that holds more messages than its memory's max-messages (a process with a lower
     * limit writes to it) removes all that are too many, not only the oldest one, on both paths.
     */
    @Test
    void aSingleAddTrimsASessionAboveALowerMaxMessagesAlikeOnBothPaths() {
        for (int limit : new int[] {1, 5, 9, 10}) {
            for (boolean listener : new boolean[] {false, true}) {
                try (Pair before = new Pair(Retention.maxMessages(10), Duration.ofHours(24), false)) {
                    for (int i = 0; i < 10; i++) {
                        before.add(plain(i));
                    }
                    try (Pair after = new Pair(before, Retention.maxMessages(limit), listener)) {
                        after.add(plain(10));
                        assertThat(after.fast.session(after.key).count()).isEqualTo(limit);
                        after.add(plain(11));
                        after.assertSameState();
                        assertThat(after.fast.session(after.key).count()).isEqualTo(limit);
                    }
                }
            }
        }
    }

    @Test
    void aSessionWhoseTtlEndedOrWasDroppedIsWrittenAlikeOnBothPaths() {
        for (Duration ttl : new Duration[] {Duration.ofHours(24), null}) {
            compare(Retention.none(), ttl, false, pair -> {
                pair.add(plain(1));
                try (Jedis jedis = server.client()) {
                    // Another process with another TTL setting wrote last: the keys carry a shorter expiry, or none.
                    for (String prefix : List.of(pair.shortPrefix, pair.generalPrefix)) {
                        List<byte[]> keys = new RedisKeys(prefix).session(pair.key);
                        for (byte[] k : keys) {
                            if (ttl == null) {
                                jedis.pexpire(k, 600_000);
                            } else {
                                jedis.persist(k);
                            }
                        }
                        jedis.hdel(keys.get(0), "ex".getBytes(StandardCharsets.US_ASCII));
                    }
                }
                pair.add(plain(2));
                pair.addAll(List.of(plain(3), plain(4)));
            });
        }
    }

    @Test
    void eitherPathWritesABatchWithOneZaddPerKeyAndReadsWithOneHmget() {
        try (Pair pair = new Pair(Retention.none(), Duration.ofHours(24), false);
                Jedis jedis = server.client()) {
            List<Message> batch = List.of(plain(1), plain(2), plain(3), plain(4), plain(5));
            pair.add(plain(0));
            for (RedisMemory memory : List.of(pair.fast, pair.general)) {
                jedis.configResetStat();
                memory.session(pair.key).addAll(batch);
                assertThat(calls(jedis, "zadd")).isEqualTo(3);
                assertThat(calls(jedis, "hmget")).isEqualTo(1);
                assertThat(calls(jedis, "hset")).isEqualTo(1);
                assertThat(calls(jedis, "hget")).isZero();
            }
            List<Message> mixed = List.of(plain(6), Message.system("rules"), plain(7));
            for (RedisMemory memory : List.of(pair.fast, pair.general)) {
                jedis.configResetStat();
                memory.session(pair.key).addAll(mixed);
                assertThat(calls(jedis, "zadd")).isEqualTo(4);
            }
        }
    }

    private static long calls(Jedis jedis, String command) {
        return jedis.info("commandstats")
                .lines()
                .filter(l -> l.startsWith("cmdstat_" + command + ":"))
                .findFirst()
                .map(l -> Long.parseLong(l.replaceAll("^cmdstat_[a-z]+:calls=(\\d+),.*$", "$1")))
                .orElse(0L);
    }
}
