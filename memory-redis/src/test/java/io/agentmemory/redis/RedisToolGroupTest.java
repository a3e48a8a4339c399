package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.EvictionListener;
import io.agentmemory.InvalidInputException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.TokenCounter;
import io.agentmemory.ToolCall;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.agentmemory.spi.MemoryContext;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * Tool-call groups whose call ids repeat across replies and whose tool messages arrive late: the append script keeps
 * them as memory-core's in-memory backend does (the same messages held and the same removals reported, step by step,
 * pinned replies and messages that arrive expired, which max age removes out of sequence order, included),
 * and a session whose groups were written in the previous release's form ("c:<callId>") keeps working.
 */
class RedisToolGroupTest {
    private static final String PREFIX = TestRedis.newPrefix("groups");
    private static final TokenCounter LENGTH = m -> m.content().length();

    @AfterAll
    static void deleteKeys() {
        TestRedis.deleteKeys(TestRedis.url(), PREFIX);
    }

    private static Message call(String content, String... callIds) {
        List<ToolCall> calls = new ArrayList<>();
        for (String id : callIds) {
            calls.add(new ToolCall(id, "f", "{}"));
        }
        return Message.assistant(content, calls);
    }

    /** Removals by message id, with their cause. */
    private static EvictionListener recording(Map<String, RemovalCause> into) {
        return (key, messages, cause) -> messages.forEach(m -> into.put(m.id(), cause));
    }

    private static RedisMemory redis(Retention retention, EvictionListener listener) {
        return RedisMemory.open(
                TestRedis.settings(PREFIX), new MemoryContext(Clock.systemUTC(), LENGTH, retention, listener));
    }

    private static List<String> ids(List<Message> messages) {
        return messages.stream().map(Message::id).toList();
    }

    /** The ids of a window, or the error code when the pinned messages need more than {@code maxTokens}. */
    private static List<String> window(MemoryStore store, int maxTokens) {
        try {
            return ids(store.contextWindow(maxTokens));
        } catch (InvalidInputException e) {
            return List.of(e.code().name());
        }
    }

    /** One new session on Redis and in memory, with the removals each listener was told (Redis's with a listener). */
    private interface Comparison {
        void run(
                MemoryStore r,
                MemoryStore m,
                Map<String, RemovalCause> redisRemoved,
                Map<String, RemovalCause> memoryRemoved);
    }

    private static void inBoth(Retention retention, boolean listener, Comparison comparison) {
        Map<String, RemovalCause> redisRemoved = new HashMap<>();
        Map<String, RemovalCause> memoryRemoved = new HashMap<>();
        try (RedisMemory redis = redis(retention, listener ? recording(redisRemoved) : EvictionListener.NONE);
                InMemoryMemory memory = InMemoryMemory.builder()
                        .tokenCounter(LENGTH)
                        .retention(retention)
                        .evictionListener(recording(memoryRemoved))
                        .build()) {
            SessionKey key = SessionKey.of("acme", "s-" + UUID.randomUUID());
            comparison.run(redis.session(key), memory.session(key), redisRemoved, memoryRemoved);
        }
    }

    private static void compareRandomly(Retention retention, boolean listener, long seed) {
        inBoth(retention, listener, (r, m, redisRemoved, memoryRemoved) -> {
            Random random = new Random(seed);
            for (int step = 0; step < 60; step++) {
                List<Message> batch = new ArrayList<>();
                int size = random.nextInt(4) == 0 ? 1 + random.nextInt(4) : 1;
                for (int i = 0; i < size; i++) {
                    String content = "x".repeat(random.nextInt(6));
                    int kind = random.nextInt(7);
                    if (kind < 2) {
                        Message calling = random.nextInt(4) == 0
                                ? call(content, "call_" + random.nextInt(3), "call_" + (3 + random.nextInt(2)))
                                : call(content, "call_" + random.nextInt(3));
                        // Now and then a pinned one: its calls' tool messages are pinned until an unpinned reply
                        // makes the call again.
                        batch.add(
                                random.nextInt(6) == 0
                                        ? calling.toBuilder().pinned().build()
                                        : calling);
                    } else if (kind < 5) {
                        batch.add(Message.tool("call_" + random.nextInt(5), content));
                    } else {
                        batch.add(Message.user(content));
                    }
                    if (retention.maxAge().isPresent() && random.nextInt(5) == 0) {
                        // Expired when it arrives: removed out of sequence order, before older messages.
                        Message last = batch.remove(batch.size() - 1);
                        batch.add(last.toBuilder()
                                .timestamp(Instant.now().minus(Duration.ofHours(2)))
                                .build());
                    }
                }
                List<Message> fromRedis = batch.size() == 1 ? List.of(r.add(batch.get(0))) : r.addAll(batch);
                List<Message> fromMemory = batch.size() == 1 ? List.of(m.add(batch.get(0))) : m.addAll(batch);
                assertThat(ids(fromRedis)).isEqualTo(ids(fromMemory));
                String at = "seed " + seed + ", step " + step + ", " + retention;
                assertThat(ids(r.history())).as(at).isEqualTo(ids(m.history()));
                assertThat(window(r, 12)).as(at).isEqualTo(window(m, 12));
                if (listener) {
                    assertThat(redisRemoved).as(at).isEqualTo(memoryRemoved);
                }
            }
        });
    }

    @Test
    void repeatedCallIdsAndLateResultsAreKeptAsTheInMemoryBackendKeepsThem() {
        List<Retention> retentions = List.of(
                Retention.maxMessages(1),
                Retention.maxMessages(3),
                Retention.maxMessages(6),
                Retention.maxTokens(12),
                Retention.builder().overflow(6, 0.5).build(),
                Retention.builder().maxMessages(5).maxTokens(14).build(),
                Retention.builder().maxAge(Duration.ofHours(1)).maxMessages(4).build(),
                Retention.builder().maxAge(Duration.ofHours(1)).maxTokens(14).build());
        long seed = 1;
        for (Retention retention : retentions) {
            for (int i = 0; i < 8; i++) {
                compareRandomly(retention, i % 2 == 0, seed++);
            }
        }
    }

    /** Rewrites a session's tool-call fields into the previous release's form: "c:<callId>" of each tool message. */
    private static void toPreviousForm(SessionKey key, Map<String, Long> resultByCallId) {
        byte[] d = new RedisKeys(PREFIX).session(key).get(RedisKeys.DATA);
        try (Jedis jedis = new Jedis(java.net.URI.create(TestRedis.url()), 5000)) {
            for (byte[] field : jedis.hkeys(d)) {
                String f = new String(field, StandardCharsets.UTF_8);
                if (f.startsWith("g:") || f.startsWith("o:") || f.startsWith("r:") || f.startsWith("c:")) {
                    jedis.hdel(d, field);
                }
            }
            resultByCallId.forEach((callId, seq) -> jedis.hset(
                    d,
                    ("c:" + callId).getBytes(StandardCharsets.UTF_8),
                    Long.toString(seq).getBytes()));
        }
    }

    /**
     * An assistant message making the most tool calls a message may make, each answered, is removed whole with its
     * answers, by every kind of retention that looks at its group, with and without a listener, as the in-memory
     * backend removes it; the session takes later appends.
     */
    @Test
    void anAssistantMessageMakingTheMostToolCallsIsRemovedWhole() {
        String[] ids = new String[Message.MAX_TOOL_CALLS];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = "call_" + i;
        }
        List<Message> conversation = new ArrayList<>();
        conversation.add(call("many", ids));
        for (String id : ids) {
            conversation.add(Message.tool(id, "r"));
        }
        for (Retention retention : List.of(Retention.maxMessages(1), Retention.maxTokens(3))) {
            for (boolean listener : new boolean[] {false, true}) {
                inBoth(retention, listener, (r, m, redisRemoved, memoryRemoved) -> {
                    r.addAll(conversation);
                    m.addAll(conversation);
                    Message next = Message.user("next");
                    r.add(next);
                    m.add(next);
                    String at = retention + (listener ? ", with a listener" : "");
                    assertThat(ids(r.history()))
                            .as(at)
                            .isEqualTo(ids(m.history()))
                            .containsExactly(next.id());
                    assertThat(memoryRemoved).as(at).hasSize(1 + ids.length);
                    if (listener) {
                        assertThat(redisRemoved).as(at).isEqualTo(memoryRemoved);
                    }
                });
            }
        }
    }

    @Test
    void aSessionWrittenInThePreviousFormKeepsItsGroupsWhole() {
        Map<String, RemovalCause> removed = new HashMap<>();
        try (RedisMemory redis = redis(Retention.maxMessages(4), recording(removed))) {
            SessionKey key = SessionKey.of("acme", "s-" + UUID.randomUUID());
            MemoryStore store = redis.session(key);
            Message a1 = store.add(call("a1", "c1"));
            Message r1 = store.add(Message.tool("c1", "r1"));
            Message a2 = store.add(call("a2", "c2"));
            toPreviousForm(key, Map.of("c1", r1.sequence()));
            // The result of a call the previous release stored arrives after the upgrade: it joins that group.
            Message r2 = store.add(Message.tool("c2", "r2"));
            // A call id used again after the upgrade: the new group is kept in the new form.
            Message a3 = store.add(call("a3", "c1"));
            assertThat(removed).containsOnlyKeys(a1.id(), r1.id());
            assertThat(ids(store.history())).containsExactly(a2.id(), r2.id(), a3.id());
            Message r3 = store.add(Message.tool("c1", "r3"));
            assertThat(removed).containsOnlyKeys(a1.id(), r1.id());
            assertThat(ids(store.history())).containsExactly(a2.id(), r2.id(), a3.id(), r3.id());
            Message u = store.add(Message.user("u"));
            assertThat(removed).containsOnlyKeys(a1.id(), r1.id(), a2.id(), r2.id());
            assertThat(ids(store.history())).containsExactly(a3.id(), r3.id(), u.id());
            store.add(Message.user("v"));
            store.add(Message.user("w"));
            assertThat(removed).containsKeys(a3.id(), r3.id());
            assertThat(removed.values()).containsOnly(RemovalCause.SIZE);
        }
    }
}
