package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.EvictionListener;
import io.agentmemory.InvalidInputException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.TokenCounter;
import io.agentmemory.ToolCall;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Random conversations on Redis and on memory-core's in-memory backend, with one clock moved forward between steps,
 * backdated timestamps (max age then removes messages out of sequence order) and ids sent again: the same results,
 * history, count, windows and removals with their causes, step by step.
 */
class RedisExpiryDifferentialTest {
    private static final String PREFIX = TestRedis.newPrefix("expiry-diff");
    private static final TokenCounter LENGTH = m -> m.content().length();

    @AfterAll
    static void deleteKeys() {
        TestRedis.deleteKeys(TestRedis.url(), PREFIX);
    }

    private static Message call(String content, Instant at, String... callIds) {
        List<ToolCall> calls = new ArrayList<>();
        for (String id : callIds) {
            calls.add(new ToolCall(id, "f", "{}"));
        }
        return Message.assistant(content, calls).toBuilder().timestamp(at).build();
    }

    private static List<String> ids(List<Message> messages) {
        return messages.stream().map(Message::id).toList();
    }

    private static List<String> window(MemoryStore store, int maxTokens) {
        try {
            return ids(store.contextWindow(maxTokens));
        } catch (InvalidInputException e) {
            return List.of(e.code().name());
        }
    }

    private static EvictionListener recording(List<String> into) {
        return (key, messages, cause) -> messages.forEach(m -> into.add(cause + ":" + m.id()));
    }

    /** Returns null when equal, else a description of the first difference. */
    static String compare(Retention retention, boolean listener, long seed, int steps, boolean log) {
        MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00.000001Z"));
        List<String> redisRemoved = new ArrayList<>();
        List<String> memoryRemoved = new ArrayList<>();
        List<String> trace = new ArrayList<>();
        try (RedisMemory redis = RedisMemory.open(
                        TestRedis.settings(PREFIX),
                        new MemoryContext(
                                clock, LENGTH, retention, listener ? recording(redisRemoved) : EvictionListener.NONE));
                InMemoryMemory memory = InMemoryMemory.builder()
                        .clock(clock)
                        .tokenCounter(LENGTH)
                        .retention(retention)
                        .evictionListener(recording(memoryRemoved))
                        .build()) {
            SessionKey key = SessionKey.of("acme", "d-" + UUID.randomUUID());
            MemoryStore r = redis.session(key);
            MemoryStore m = memory.session(key);
            Random random = new Random(seed);
            List<Message> sent = new ArrayList<>();
            for (int step = 0; step < steps; step++) {
                clock.advance(Duration.ofMinutes(random.nextInt(20)));
                List<Message> batch = new ArrayList<>();
                Set<String> inBatch = new LinkedHashSet<>();
                int size = random.nextInt(3) == 0 ? 1 + random.nextInt(5) : 1;
                for (int i = 0; i < size; i++) {
                    Instant at = clock.instant()
                            .minus(Duration.ofMinutes(random.nextInt(4) == 0 ? random.nextInt(90) : 0))
                            .minusNanos(1000L * random.nextInt(1000));
                    String content = "x".repeat(random.nextInt(6));
                    int kind = random.nextInt(9);
                    Message msg;
                    if (kind < 3) {
                        Message calling = random.nextInt(4) == 0
                                ? call(content, at, "c" + random.nextInt(3), "c" + (3 + random.nextInt(2)))
                                : call(content, at, "c" + random.nextInt(3));
                        msg = random.nextInt(5) == 0
                                ? calling.toBuilder().pinned().build()
                                : calling;
                    } else if (kind < 6) {
                        msg = Message.tool("c" + random.nextInt(5), content).toBuilder()
                                .timestamp(at)
                                .build();
                    } else if (kind < 7 && !sent.isEmpty()) {
                        msg = sent.get(random.nextInt(sent.size()));
                    } else {
                        msg = Message.user(content).toBuilder().timestamp(at).build();
                    }
                    if (inBatch.add(msg.id())) {
                        batch.add(msg);
                    }
                }
                sent.addAll(batch);
                for (Message b : batch) {
                    trace.add("step " + step + " now=" + clock.instant() + " " + b.role() + " " + b.id().substring(0, 8)
                            + (b.isPinned() ? " pinned" : "") + " calls="
                            + b.toolCalls().stream().map(ToolCall::id).toList()
                            + " answers=" + b.toolCallId().orElse("-") + " ts=" + b.timestamp()
                            + " tok=" + b.content().length());
                }
                List<Message> fromRedis = batch.size() == 1 ? List.of(r.add(batch.get(0))) : r.addAll(batch);
                List<Message> fromMemory = batch.size() == 1 ? List.of(m.add(batch.get(0))) : m.addAll(batch);
                String at = "seed " + seed + ", step " + step + ", " + retention + ", listener " + listener;
                String diff = null;
                if (!fromRedis.stream()
                        .map(x -> x.id() + "@" + x.sequence())
                        .toList()
                        .equals(fromMemory.stream()
                                .map(x -> x.id() + "@" + x.sequence())
                                .toList())) {
                    diff = "returned";
                } else if (!ids(r.history()).equals(ids(m.history()))) {
                    diff = "history redis=" + ids(r.history()) + " memory=" + ids(m.history());
                } else if (r.count() != m.count()) {
                    diff = "count";
                } else if (!window(r, 12).equals(window(m, 12))) {
                    diff = "window12 redis=" + window(r, 12) + " memory=" + window(m, 12);
                } else if (!window(r, 40).equals(window(m, 40))) {
                    diff = "window40 redis=" + window(r, 40) + " memory=" + window(m, 40);
                } else if (listener && !redisRemoved.equals(memoryRemoved)) {
                    diff = "removed redis=" + redisRemoved + " memory=" + memoryRemoved;
                }
                if (diff != null) {
                    if (log) {
                        trace.forEach(System.out::println);
                    }
                    return at + ": " + diff;
                }
            }
        }
        return null;
    }

    @Test
    void redisAgreesWithInMemoryUnderOutOfOrderExpiry() {
        List<Retention> retentions = List.of(
                Retention.maxAge(Duration.ofHours(1)),
                Retention.builder().maxAge(Duration.ofHours(1)).maxMessages(6).build(),
                Retention.builder().maxAge(Duration.ofHours(1)).maxTokens(20).build(),
                Retention.builder().maxAge(Duration.ofHours(1)).overflow(8, 0.5).build());
        Map<String, String> failures = new LinkedHashMap<>();
        long seed = Long.getLong("diff.seed", 1000);
        int runs = Integer.getInteger("diff.runs", 40);
        for (int i = 0; i < runs; i++) {
            for (Retention retention : retentions) {
                for (boolean listener : new boolean[] {false, true}) {
                    String f = compare(retention, listener, seed + i, 80, false);
                    if (f != null) {
                        failures.put(f, f);
                    }
                }
            }
        }
        failures.keySet().stream().limit(20).forEach(System.out::println);
        assertThat(failures).isEmpty();
    }
}
