package io.agentmemory.benchmarks;

import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.core.config.Memories;
import io.agentmemory.core.tokens.TokenCounters;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One agent turn against the Redis backend, as {@link AgentTurnBenchmark} measures it in the heap: add a user message
 * (about 200 characters), read the context window with a budget that holds the whole session (so the window is all
 * {@code n} messages), add the assistant's answer (about 600 characters).
 *
 * <p>Configured by name as an application would ({@code memory.backend=redis}, {@code memory.redis.ttl=24h},
 * {@code memory.retention.max-messages=n}), on the server MEMORY_TEST_REDIS_URL names (default
 * {@code redis://127.0.0.1:6379}), with no eviction listener: each append is one script call. Steady state: sessions
 * are filled to {@code n} before measuring, so each append of a turn also removes the oldest message; every append
 * also refreshes the TTL. The heuristic token counter is used (counting is not measured here).
 *
 * <p>{@code calls=addAndWindow} adds the user message and reads the window in one call,
 * {@link MemoryStore#addAndWindow}: the append's reply brings the memory's held window up to date, so the window
 * costs no round trip of its own. {@code calls=separate} makes them two calls, {@code add} then
 * {@code contextWindow}: the window is then one pipelined round trip of native commands that checks the held window
 * is still the session's.
 *
 * <p>Compare with {@link RedisFloorBenchmark}: the same turn in plain Jedis (RPUSH + LTRIM + EXPIRE in one pipeline,
 * LRANGE of n), with the same prebuilt {@link TurnMessages}. Threads: {@link #oneThread}, and {@link #twoThreads}
 * with one session per thread of one shared memory. Scores are the average time of one turn of one thread.
 */
@BenchmarkMode(Mode.AverageTime)
@Fork(jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RedisAgentTurnBenchmark {
    /** A context-window budget that holds any session here: the window is the whole session. */
    static final int BUDGET = Integer.MAX_VALUE;

    /** The memory shared by every benchmark thread, and the parameters. */
    @State(Scope.Benchmark)
    public static class Shared {
        /** Messages each session holds. */
        @Param({"20", "200", "2000"})
        public int n;

        /** {@code addAndWindow}: the user message and the window in one call; {@code separate}: add, then window. */
        @Param({"addAndWindow", "separate"})
        public String calls;

        Memory memory;
        final String prefix = RedisBench.prefix("turn");
        final AtomicInteger sessions = new AtomicInteger();
        final Queue<Session> opened = new ConcurrentLinkedQueue<>();

        @Setup(Level.Trial)
        public void setUp() {
            memory = Memories.builder()
                    .config(Map.of(
                            "memory.backend",
                            "redis",
                            "memory.redis.url",
                            RedisBench.URL,
                            "memory.redis.key-prefix",
                            prefix,
                            "memory.redis.ttl",
                            "24h"))
                    .retention(Retention.maxMessages(n))
                    .tokenCounter(TokenCounters.heuristic())
                    .build();
        }

        /** After the measurement: every session is still in the steady state; then the sessions are deleted. */
        @TearDown(Level.Trial)
        public void tearDown() {
            try {
                opened.forEach(session -> session.check(n));
                opened.forEach(session -> memory.delete(session.store.key()));
            } finally {
                memory.close();
            }
        }
    }

    /** One thread's session, filled to {@code n} messages, and its prebuilt messages. */
    @State(Scope.Thread)
    public static class Session {
        MemoryStore store;
        TurnMessages messages;
        boolean combined;

        @Setup(Level.Trial)
        public void setUp(Shared shared) {
            store = shared.memory.session(SessionKey.of("bench", "session-" + shared.sessions.incrementAndGet()));
            messages = new TurnMessages(shared.n);
            combined = shared.calls.equals("addAndWindow");
            while (store.count() < shared.n) {
                store.add(messages.user());
                store.add(messages.assistant());
            }
            check(shared.n);
            shared.opened.add(this);
        }

        /** One turn; every result goes to the black hole. */
        void turn(Blackhole bh) {
            if (combined) {
                bh.consume(store.addAndWindow(messages.user(), BUDGET));
            } else {
                bh.consume(store.add(messages.user()));
                bh.consume(store.contextWindow(BUDGET));
            }
            bh.consume(store.add(messages.assistant()));
        }

        /** Fails unless the session holds {@code n} messages and the window is all of them. */
        void check(int n) {
            List<?> window = store.contextWindow(BUDGET);
            if (store.count() != n || window.size() != n) {
                throw new IllegalStateException("the session holds " + store.count() + " messages and its window "
                        + window.size() + "; both should be " + n);
            }
        }
    }

    @Benchmark
    @Threads(1)
    public void oneThread(Session session, Blackhole bh) {
        session.turn(bh);
    }

    @Benchmark
    @Threads(2)
    public void twoThreads(Session session, Blackhole bh) {
        session.turn(bh);
    }
}
