package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.EvictionListener;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.ToolCall;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * What max age costs the append script when it removes many assistant messages that make calls, counted in the
 * server's own commands (deterministic, unlike time): finding whether an older stored message made an expired
 * owner's call reads each stored message at most once a write, never once for each expired message or each call.
 */
class RedisExpiryCostTest {
    /** The commands that read a sorted set's range or a hash's fields. */
    static final String[] READS = {"zrange", "zrangebyscore", "zrevrangebyscore", "hget", "hmget"};

    private static final String PREFIX = TestRedis.newPrefix("expiry-cost");

    @AfterAll
    static void deleteKeys() {
        TestRedis.deleteKeys(TestRedis.url(), PREFIX);
    }

    private static void store(MemoryStore store, int n, Instant at) {
        List<Message> batch = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            batch.add(Message.assistant("a", List.of(new ToolCall("x" + i, "f", "{}"))).toBuilder()
                    .timestamp(at)
                    .build());
            if (batch.size() == 500 || i == n - 1) {
                store.addAll(batch);
                batch.clear();
            }
        }
    }

    /** A session left idle past its max age: 2,000 assistant messages, each making a call of its own, expire at once. */
    @Test
    void assistantMessagesExpiringTogetherAreReadOnce() {
        MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
        try (RedisMemory redis = RedisMemory.open(
                TestRedis.settings(PREFIX),
                new MemoryContext(clock, m -> 1, Retention.maxAge(Duration.ofHours(1)), EvictionListener.NONE))) {
            MemoryStore store = redis.session(SessionKey.of("acme", "idle-" + UUID.randomUUID()));
            store(store, 2000, clock.instant());
            clock.advance(Duration.ofHours(2));
            long before = TestRedis.commandCalls(READS);
            store.add(
                    Message.user("back").toBuilder().timestamp(clock.instant()).build());
            long reads = TestRedis.commandCalls(READS) - before;
            assertThat(store.count()).isEqualTo(1);
            // A few a message (its header, its group's fields, whether a stored message is left below it); reading
            // every
            // message below each expired one took about 40,000.
            assertThat(reads)
                    .as("reads by the append that expired 2,000 messages")
                    .isLessThan(5 * 2000);
        }
    }

    /** One message making the most calls arrives expired above 3,000 stored assistant messages that made none of them. */
    @Test
    void anExpiredMessageMakingTheMostCallsReadsTheStoredMessagesOnce() {
        try (RedisMemory redis = RedisMemory.open(
                TestRedis.settings(PREFIX),
                new MemoryContext(
                        java.time.Clock.systemUTC(),
                        m -> 1,
                        Retention.maxAge(Duration.ofHours(1)),
                        EvictionListener.NONE))) {
            MemoryStore store = redis.session(SessionKey.of("acme", "many-" + UUID.randomUUID()));
            store(store, 3000, Instant.now());
            List<ToolCall> calls = new ArrayList<>();
            for (int i = 0; i < Message.MAX_TOOL_CALLS; i++) {
                calls.add(new ToolCall("call_" + i, "f", "{}"));
            }
            long before = TestRedis.commandCalls(READS);
            store.add(Message.assistant("old", calls).toBuilder()
                    .timestamp(Instant.now().minus(Duration.ofHours(2)))
                    .build());
            long reads = TestRedis.commandCalls(READS) - before;
            assertThat(store.count()).isEqualTo(3000);
            // Each stored message's header once, for all 1,024 calls; once for each call took about 52,000.
            assertThat(reads).as("reads by the append of the expired message").isLessThan(2 * 3000);
        }
    }

    /**
     * An expired message making 1,024 calls that an older stored message made too, with 3,000 tool messages above it:
     * the tool messages it passes to the older message are read from the range above it once, not once a call (about
     * 3 million index entries).
     */
    @Test
    void theToolMessagesOfAnExpiredMessageMakingManyCallsAreReadOnce() {
        MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
        try (RedisMemory redis = RedisMemory.open(
                TestRedis.settings(PREFIX),
                new MemoryContext(clock, m -> 1, Retention.maxAge(Duration.ofHours(1)), EvictionListener.NONE))) {
            MemoryStore store = redis.session(SessionKey.of("acme", "moved-" + UUID.randomUUID()));
            List<ToolCall> calls = new ArrayList<>();
            for (int i = 0; i < Message.MAX_TOOL_CALLS; i++) {
                calls.add(new ToolCall("call_" + i, "f", "{}"));
            }
            Message older = store.add(Message.assistant("a0", calls).toBuilder()
                    .timestamp(clock.instant())
                    .build());
            store.add(Message.assistant("a1", calls).toBuilder()
                    .timestamp(clock.instant().minus(Duration.ofMinutes(50)))
                    .build());
            List<Message> batch = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                batch.add(Message.tool("call_" + (i % Message.MAX_TOOL_CALLS), "r").toBuilder()
                        .timestamp(clock.instant())
                        .build());
                if (batch.size() == 500 || i == 2999) {
                    store.addAll(batch);
                    batch.clear();
                }
            }
            clock.advance(Duration.ofMinutes(15));
            long before = TestRedis.commandCalls("zrangebyscore");
            store.add(Message.user("u").toBuilder().timestamp(clock.instant()).build());
            assertThat(TestRedis.commandCalls("zrangebyscore") - before)
                    .as("range reads by the append")
                    .isLessThan(20);
            // a1 and the newest answer of each call went; the others answer a0 now and stay.
            assertThat(store.count()).isEqualTo(1 + 3000 - Message.MAX_TOOL_CALLS + 1);
            assertThat(store.history().get(0)).isEqualTo(older);
        }
    }
}
