package io.agentmemory.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.HistoryQuery;
import io.agentmemory.Memory;
import io.agentmemory.MemoryException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.ToolCall;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MutableClock;
import io.agentmemory.tck.RecordingEvictionListener;
import io.agentmemory.tck.TckTokenCounter;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Random conversations under random retention, run against the jdbc backend and memory-core's in-memory backend (the
 * reference for retention semantics) side by side: after every operation both hold the same history, count and
 * windows, and told their listeners the same removals with the same causes. Tool calls, pinned messages, orphan tool
 * messages, backdated timestamps, repeated ids, batches and failing listeners included. Set
 * {@code -Dagentmemory.jdbc.seed=<seed>} to replay a failure.
 */
abstract class InMemoryEquivalenceContract {
    private static final Instant START = Instant.parse("2030-01-01T00:00:00Z");

    /** A jdbc memory with {@code context}; closed by the test. */
    protected abstract Memory open(MemoryContext context);

    /** How many random conversations to run. */
    protected int conversations() {
        return 40;
    }

    @Test
    void randomConversationsMatchTheInMemoryBackend() {
        runConversations("", false);
    }

    /**
     * As {@link #randomConversationsMatchTheInMemoryBackend()}, with the call ids of some model servers, which number
     * every reply's calls from 0 ({@code call_0}, {@code call_1}, ...), and calls answered more than once or late,
     * after other messages, under every kind of retention: with maximum age and backdated timestamps, the newer of two
     * assistant messages with one call id (or of two answers to one call) may expire while the older stays, which then
     * takes its place in both backends.
     */
    @Test
    void randomConversationsWithRepeatedCallIdsMatchTheInMemoryBackend() {
        runConversations(" repeated call ids,", true);
    }

    private void runConversations(String kind, boolean repeatedIds) {
        Long fixed = Long.getLong("agentmemory.jdbc.seed");
        long seed = fixed != null ? fixed : new SecureRandom().nextLong();
        Random random = new Random(seed);
        for (int i = 0; i < conversations(); i++) {
            runConversation(
                    random,
                    "seed " + seed + " (replay with -Dagentmemory.jdbc.seed=" + seed + ")," + kind + " conversation "
                            + i,
                    repeatedIds);
        }
    }

    private void runConversation(Random random, String replay, boolean repeatedIds) {
        Retention retention = randomRetention(random);
        MutableClock clock = new MutableClock(START);
        TckTokenCounter counter = new TckTokenCounter();
        RecordingEvictionListener refListener = new RecordingEvictionListener();
        RecordingEvictionListener jdbcListener = new RecordingEvictionListener();
        SessionKey key = SessionKey.of("equivalence-" + UUID.randomUUID(), "chat");
        String context = replay + " with " + retention;
        try (Memory reference = InMemoryMemory.create(new MemoryContext(clock, counter, retention, refListener));
                Memory jdbc = open(new MemoryContext(clock, counter, retention, jdbcListener))) {
            MemoryStore ref = reference.session(key);
            MemoryStore db = jdbc.session(key);
            List<Message> sent = new ArrayList<>();
            int calls = 0;
            for (int step = 0; step < 30; step++) {
                int op = random.nextInt(20);
                String what = context + ", step " + step;
                if (op < 2) {
                    clock.advance(Duration.ofMinutes(random.nextInt(90)));
                } else if (op < 3) {
                    refListener.failWith(new IllegalStateException("refused"));
                    jdbcListener.failWith(new IllegalStateException("refused"));
                    Message m = next(random, clock, sent, calls++, repeatedIds);
                    same(what + " (failing listener)", r -> r.add(m), ref, db);
                    refListener.stopFailing();
                    jdbcListener.stopFailing();
                } else if (op < 6) {
                    List<Message> batch = new ArrayList<>();
                    int n = 1 + random.nextInt(4);
                    for (int k = 0; k < n; k++) {
                        Message m = next(random, clock, sent, calls++, repeatedIds);
                        if (batch.stream().noneMatch(b -> b.id().equals(m.id()))) {
                            batch.add(m);
                        }
                    }
                    same(what + " (addAll)", r -> r.addAll(batch), ref, db);
                } else {
                    Message m = next(random, clock, sent, calls++, repeatedIds);
                    same(what + " (add)", r -> r.add(m), ref, db);
                }
                assertThat(db.history()).as(what + ": history").isEqualTo(ref.history());
                assertThat(db.count()).as(what + ": count").isEqualTo(ref.count());
                assertThat(jdbcListener.events()).as(what + ": removals").isEqualTo(refListener.events());
                int budget = 1 + random.nextInt(120);
                same(what + ": window(" + budget + ")", r -> r.contextWindow(budget), ref, db);
                HistoryQuery query = HistoryQuery.builder()
                        .offset(random.nextInt(3))
                        .limit(random.nextInt(6))
                        .build();
                assertThat(db.history(query)).as(what + ": " + query).isEqualTo(ref.history(query));
            }
            db.clear();
            ref.clear();
            assertThat(jdbcListener.events()).as(context + ": after clear").isEqualTo(refListener.events());
        }
    }

    /** Runs {@code call} on both stores: equal results, or failures with equal codes. */
    private static <T> void same(String what, Function<MemoryStore, T> call, MemoryStore ref, MemoryStore db) {
        T expected = null;
        T actual = null;
        Throwable refFailure = null;
        try {
            expected = call.apply(ref);
        } catch (MemoryException e) {
            refFailure = e;
        }
        Throwable dbFailure = null;
        try {
            actual = call.apply(db);
        } catch (MemoryException e) {
            dbFailure = e;
        }
        if (refFailure != null) {
            assertThat(dbFailure)
                    .as(what + ": the reference failed with " + refFailure)
                    .isNotNull();
            assertThat(((MemoryException) dbFailure).code()).as(what).isEqualTo(((MemoryException) refFailure).code());
            return;
        }
        if (dbFailure != null) {
            throw new AssertionError(what + ": the jdbc backend failed but the reference did not", dbFailure);
        }
        assertThat(actual).as(what).isEqualTo(expected);
    }

    private static Retention randomRetention(Random random) {
        Retention.Builder b = Retention.builder();
        if (random.nextInt(3) == 0) {
            b.maxMessages(1 + random.nextInt(8));
        }
        if (random.nextInt(3) == 0) {
            b.maxTokens(5 + random.nextInt(80));
        }
        if (random.nextInt(3) == 0) {
            b.maxAge(Duration.ofMinutes(30 + random.nextInt(120)));
        }
        if (random.nextInt(4) == 0) {
            b.overflow(2 + random.nextInt(8), random.nextInt(4) / 4.0);
        }
        return b.build();
    }

    /**
     * A random next message: user, assistant (with 1-3 calls), a tool answer to an earlier call (each call answered at
     * most once), an orphan tool message, system or pinned; now or backdated; sometimes the id of an earlier message.
     * With {@code repeatedIds}, every reply numbers its calls from 0, and a tool message answers any call id made so
     * far, answered or not.
     */
    private static Message next(Random random, MutableClock clock, List<Message> sent, int n, boolean repeatedIds) {
        Instant ts = random.nextInt(6) == 0
                ? clock.instant().minus(Duration.ofMinutes(random.nextInt(300)))
                : clock.instant();
        int kind = random.nextInt(20);
        Message m;
        if (!sent.isEmpty() && kind == 0) {
            return sent.get(random.nextInt(sent.size())); // a retry of an earlier append
        } else if (kind < 3) {
            int calls = 1 + random.nextInt(3);
            List<ToolCall> list = new ArrayList<>();
            for (int i = 0; i < calls; i++) {
                list.add(new ToolCall(repeatedIds ? "call_" + i : "c" + n + "-" + i, "lookup", "{}"));
            }
            Message.Builder b = Message.builder(Message.ASSISTANT, "calls " + n).toolCalls(list);
            if (random.nextInt(5) == 0) {
                b.pinned();
            }
            m = b.timestamp(ts).build();
        } else if (kind < 7) {
            List<String> open = new ArrayList<>();
            for (Message s : sent) {
                for (ToolCall call : s.toolCalls()) {
                    if (repeatedIds
                            || sent.stream()
                                    .noneMatch(t -> t.toolCallId().orElse("").equals(call.id()))) {
                        open.add(call.id());
                    }
                }
            }
            String callId =
                    open.isEmpty() || random.nextInt(6) == 0 ? "orphan-" + n : open.get(random.nextInt(open.size()));
            m = Message.builder(Message.TOOL, "answer " + "x".repeat(random.nextInt(12)))
                    .toolCallId(callId)
                    .timestamp(ts)
                    .build();
        } else if (kind < 8) {
            m = Message.builder(Message.SYSTEM, "rules " + n).timestamp(ts).build();
        } else if (kind < 9) {
            m = Message.builder(Message.USER, "fact " + n)
                    .pinned()
                    .timestamp(ts)
                    .build();
        } else {
            m = Message.builder(
                            random.nextBoolean() ? Message.USER : Message.ASSISTANT,
                            "m" + n + " " + "y".repeat(random.nextInt(20)))
                    .timestamp(ts)
                    .build();
        }
        sent.add(m);
        return m;
    }
}
