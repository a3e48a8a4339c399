package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.EvictionListener;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.ToolCall;
import io.agentmemory.core.inmemory.InMemoryMemory;
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
 * Callers of one call id removed by max age out of sequence order, with several tool messages each: Redis keeps the
 * same messages, windows and removals (with their causes) as the in-memory backend, with and without a listener, and
 * an append whose expired message has its older caller in the same batch reads nothing of the stored messages.
 */
class RedisMovedAnswersTest {
    private static final String PREFIX = TestRedis.newPrefix("moved-answers");

    @AfterAll
    static void deleteKeys() {
        TestRedis.deleteKeys(TestRedis.url(), PREFIX);
    }

    private static Message call(String content, Instant at, String... ids) {
        List<ToolCall> calls = new ArrayList<>();
        for (String id : ids) {
            calls.add(new ToolCall(id, "f", "{}"));
        }
        return Message.assistant(content, calls).toBuilder().timestamp(at).build();
    }

    private static Message tool(String content, Instant at) {
        return Message.tool("c", content).toBuilder().timestamp(at).build();
    }

    interface Steps {
        void run(MemoryStore store, MutableClock clock);
    }

    private static List<String> run(boolean redisBackend, Retention retention, boolean listener, Steps steps) {
        MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
        List<String> out = new ArrayList<>();
        EvictionListener l = listener
                ? (key, messages, cause) -> messages.forEach(m -> out.add(cause + ":" + m.content()))
                : EvictionListener.NONE;
        SessionKey key = SessionKey.of("acme", "m-" + UUID.randomUUID());
        if (redisBackend) {
            try (RedisMemory redis =
                    RedisMemory.open(TestRedis.settings(PREFIX), new MemoryContext(clock, m -> 1, retention, l))) {
                MemoryStore store = redis.session(key);
                steps.run(store, clock);
                store.history().forEach(m -> out.add("kept:" + m.content()));
                store.contextWindow(1000).forEach(m -> out.add("window:" + m.content()));
            }
        } else {
            try (InMemoryMemory memory = InMemoryMemory.builder()
                    .clock(clock)
                    .tokenCounter(m -> 1)
                    .retention(retention)
                    .evictionListener(l)
                    .build()) {
                MemoryStore store = memory.session(key);
                steps.run(store, clock);
                store.history().forEach(m -> out.add("kept:" + m.content()));
                store.contextWindow(1000).forEach(m -> out.add("window:" + m.content()));
            }
        }
        return out;
    }

    private static void same(Retention retention, Steps steps) {
        for (boolean listener : new boolean[] {false, true}) {
            List<String> expected = run(false, retention, listener, steps);
            assertThat(run(true, retention, listener, steps))
                    .as("listener " + listener)
                    .isEqualTo(expected);
        }
    }

    /** a2 expires and SIZE removes a1 in the same write: t1 answers a1 by then. */
    @Test
    void expiryAndSizeInOneWrite() {
        same(Retention.builder().maxAge(Duration.ofHours(1)).maxMessages(5).build(), (store, clock) -> {
            Instant t0 = clock.instant();
            store.add(call("a1", t0, "c"));
            store.add(call("a2", t0.minus(Duration.ofMinutes(50)), "c"));
            store.add(tool("t1", t0));
            store.add(tool("t2", t0));
            clock.set(t0.plus(Duration.ofMinutes(15)));
            List<Message> users = new ArrayList<>();
            for (int i = 1; i <= 4; i++) {
                users.add(Message.user("u" + i).toBuilder()
                        .timestamp(clock.instant())
                        .build());
            }
            store.addAll(users);
        });
    }

    /** Three callers, the two newer expire in one write, each with answers; then the oldest goes by SIZE. */
    @Test
    void twoNewerCallersExpireTogether() {
        same(Retention.builder().maxAge(Duration.ofHours(1)).maxMessages(6).build(), (store, clock) -> {
            Instant t0 = clock.instant();
            Instant old = t0.minus(Duration.ofMinutes(50));
            store.add(call("a1", t0, "c"));
            store.add(tool("t0", t0));
            store.add(call("a2", old, "c"));
            store.add(tool("t2a", t0));
            store.add(tool("t2b", t0));
            store.add(call("a3", old, "c"));
            store.add(tool("t3a", t0));
            store.add(tool("t3b", t0));
            clock.set(t0.plus(Duration.ofMinutes(15)));
            store.add(Message.user("u1").toBuilder().timestamp(clock.instant()).build());
            store.add(tool("late", clock.instant()));
            for (int i = 2; i <= 5; i++) {
                store.add(Message.user("u" + i).toBuilder()
                        .timestamp(clock.instant())
                        .build());
            }
        });
    }

    /** As above across writes: a3 expires first, then a2, then a1 by size. */
    @Test
    void newerCallersExpireInTurn() {
        same(Retention.builder().maxAge(Duration.ofHours(1)).maxMessages(7).build(), (store, clock) -> {
            Instant t0 = clock.instant();
            store.add(call("a1", t0, "c"));
            store.add(tool("t0", t0));
            store.add(call("a2", t0.minus(Duration.ofMinutes(40)), "c"));
            store.add(tool("t2a", t0));
            store.add(tool("t2b", t0));
            store.add(call("a3", t0.minus(Duration.ofMinutes(55)), "c"));
            store.add(tool("t3a", t0));
            store.add(tool("t3b", t0));
            clock.set(t0.plus(Duration.ofMinutes(10)));
            store.add(Message.user("u1").toBuilder().timestamp(clock.instant()).build());
            clock.set(t0.plus(Duration.ofMinutes(25)));
            store.add(Message.user("u2").toBuilder().timestamp(clock.instant()).build());
            for (int i = 3; i <= 7; i++) {
                store.add(Message.user("u" + i).toBuilder()
                        .timestamp(clock.instant())
                        .build());
            }
        });
    }

    /** A pinned caller between the two unpinned ones. */
    @Test
    void pinnedCallerBetween() {
        same(Retention.builder().maxAge(Duration.ofHours(1)).maxMessages(4).build(), (store, clock) -> {
            Instant t0 = clock.instant();
            store.add(call("a1", t0, "c"));
            store.add(call("p", t0, "c").toBuilder().pinned().build());
            store.add(call("a2", t0.minus(Duration.ofMinutes(50)), "c"));
            store.add(tool("t1", t0));
            store.add(tool("t2", t0));
            clock.set(t0.plus(Duration.ofMinutes(15)));
            store.add(Message.user("u1").toBuilder().timestamp(clock.instant()).build());
            store.add(tool("t3", clock.instant()));
            store.add(Message.user("u2").toBuilder().timestamp(clock.instant()).build());
            store.add(Message.user("u3").toBuilder().timestamp(clock.instant()).build());
            store.add(Message.user("u4").toBuilder().timestamp(clock.instant()).build());
        });
    }

    /** A batch holding the older caller, the expired newer one and their answers, with already-stored ids. */
    @Test
    void batchWithBothCallers() {
        same(Retention.builder().maxAge(Duration.ofHours(1)).maxMessages(5).build(), (store, clock) -> {
            Instant t0 = clock.instant();
            Message u0 = Message.user("u0").toBuilder().timestamp(t0).build();
            store.add(u0);
            store.addAll(List.of(
                    u0,
                    call("a1", t0, "c", "d"),
                    call("a2", t0.minus(Duration.ofHours(2)), "c", "d"),
                    tool("t1", t0),
                    Message.tool("d", "d1").toBuilder().timestamp(t0).build(),
                    tool("t2", t0),
                    Message.tool("d", "d2").toBuilder().timestamp(t0).build()));
            store.add(Message.user("u1").toBuilder().timestamp(t0).build());
            store.add(Message.user("u2").toBuilder().timestamp(t0).build());
            store.add(Message.user("u3").toBuilder().timestamp(t0).build());
        });
    }

    /**
     * Cost: an append whose expired message's older caller is in the same batch needs nothing of the stored
     * messages, yet moveAnswers reads every stored assistant message's header (readStoredCallers).
     */
    @Test
    void anExpiredCallerWhoseOlderCallerIsInTheBatchDoesNotReadTheSession() {
        MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
        try (RedisMemory redis = RedisMemory.open(
                TestRedis.settings(PREFIX),
                new MemoryContext(clock, m -> 1, Retention.maxAge(Duration.ofHours(1)), EvictionListener.NONE))) {
            MemoryStore store = redis.session(SessionKey.of("acme", "cost-" + UUID.randomUUID()));
            List<Message> batch = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                batch.add(call("s", clock.instant(), "x" + i));
                if (batch.size() == 500) {
                    store.addAll(batch);
                    batch.clear();
                }
            }
            long before = TestRedis.commandCalls(RedisExpiryCostTest.READS);
            store.addAll(List.of(
                    call("a1", clock.instant(), "c"),
                    call("a2", clock.instant().minus(Duration.ofHours(2)), "c"),
                    tool("t1", clock.instant()),
                    tool("t2", clock.instant())));
            long reads = TestRedis.commandCalls(RedisExpiryCostTest.READS) - before;
            assertThat(store.count()).isEqualTo(3002);
            assertThat(reads)
                    .as("reads by an append of 4 messages above 3,000 stored ones")
                    .isLessThan(100);
        }
    }
}
