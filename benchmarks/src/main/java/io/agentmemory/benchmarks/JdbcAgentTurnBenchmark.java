package io.agentmemory.benchmarks;

import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.jdbc.JdbcMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
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
 * One agent turn against the jdbc backend ({@link JdbcMemory}) on PostgreSQL or H2: add a user message (about 200
 * characters), read the context window of the newest {@code n} messages, add the assistant's answer (about 600
 * characters). Compare with {@link JdbcFloorBenchmark}, the same turn in plain JDBC.
 *
 * <p>Parameters:
 *
 * <ul>
 *   <li>{@code database}: {@code postgresql} (the server of {@code MEMORY_TEST_PG_URL}, default the local one) or
 *       {@code h2} (a file database); see {@link JdbcBenchmarkDatabases}.
 *   <li>{@code n}: the messages of the session the window covers, 20, 200 or 2000. The session is filled to {@code n}
 *       messages before measuring.
 *   <li>{@code retention}: {@code none}, the session grows by two messages a turn (appends are append-only, so their
 *       cost must stay flat as it grows) and the window's budget is {@code n} tokens at one token a message (the
 *       {@link JdbcBenchmarkDatabases#ONE_PER_MESSAGE} counter), exactly the newest {@code n} messages, as the
 *       floor's {@code SELECT ... LIMIT n}; {@code max-messages}, {@code Retention.maxMessages(n)} keeps the session at
 *       {@code n} messages, so every append also deletes the oldest in the same transaction, and the window's budget
 *       holds the whole session, as in {@link AgentTurnBenchmark}.
 *   <li>{@code otherRows}: 0, or 1,000,000 messages of 10,000 other sessions in the same tables: the cost of a turn
 *       must not grow with other sessions' data.
 *   <li>{@code calls}: {@code addAndWindow}, the user message and the window in one call
 *       ({@link io.agentmemory.MemoryStore#addAndWindow}: with the session's window held, the append's statement
 *       alone), or {@code separate}, {@code add} then {@code contextWindow}.
 * </ul>
 *
 * <p>Messages: each turn builds its two messages from {@link TurnMessages}' prebuilt texts with a new id
 * ({@link JdbcBenchmarkDatabases#fresh}), as the floor does, so that no id comes back in a growing session. Threads:
 * {@link #oneThread} runs one session; {@link #twoThreads} two, each on its own session of one shared memory. Scores
 * are the average time of one turn of one thread.
 */
@BenchmarkMode(Mode.AverageTime)
@Fork(jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class JdbcAgentTurnBenchmark {
    /** The memory shared by every benchmark thread, and the parameters. */
    @State(Scope.Benchmark)
    public static class Shared {
        @Param({"postgresql", "h2"})
        public String database;

        @Param({"20", "200", "2000"})
        public int n;

        @Param({"none", "max-messages"})
        public String retention;

        @Param({"0", "1000000"})
        public int otherRows;

        /** {@code addAndWindow}: the user message and the window in one call; {@code separate}: add, then window. */
        @Param({"addAndWindow", "separate"})
        public String calls;

        Memory memory;
        final Queue<Session> opened = new ConcurrentLinkedQueue<>();

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            String url = JdbcBenchmarkDatabases.url(database, otherRows);
            JdbcBenchmarkDatabases.prepare(url, otherRows);
            Retention r = switch (retention) {
                case "none" -> Retention.none();
                case "max-messages" -> Retention.maxMessages(n);
                default ->
                    throw new IllegalArgumentException("unknown retention " + retention + "; use none or max-messages");
            };
            memory = JdbcMemory.open(JdbcBenchmarkDatabases.settings(url), JdbcBenchmarkDatabases.context(r));
        }

        /** After the measurement: every session still gives a window of {@code n} messages. */
        @TearDown(Level.Trial)
        public void tearDown() {
            try {
                opened.forEach(session -> session.check(n));
            } finally {
                memory.close();
            }
        }

        boolean grows() {
            return retention.equals("none");
        }
    }

    /** One thread's session, filled to {@code n} messages. */
    @State(Scope.Thread)
    public static class Session {
        MemoryStore store;
        TurnMessages messages;
        int budget;
        boolean grows;
        boolean combined;

        @Setup(Level.Trial)
        public void setUp(Shared shared) {
            store = shared.memory.session(JdbcBenchmarkDatabases.TENANT, "turn-" + UUID.randomUUID());
            messages = new TurnMessages(shared.n);
            grows = shared.grows();
            combined = shared.calls.equals("addAndWindow");
            budget = grows ? shared.n : Integer.MAX_VALUE;
            List<Message> fill = new ArrayList<>(shared.n);
            while (fill.size() < shared.n) {
                fill.add(JdbcBenchmarkDatabases.fresh(messages.user()));
                fill.add(JdbcBenchmarkDatabases.fresh(messages.assistant()));
            }
            for (int i = 0; i < shared.n; i += 500) {
                store.addAll(fill.subList(i, Math.min(shared.n, i + 500)));
            }
            check(shared.n);
            shared.opened.add(this);
        }

        /** One turn; every result goes to the black hole. */
        void turn(Blackhole bh) {
            if (combined) {
                bh.consume(store.addAndWindow(JdbcBenchmarkDatabases.fresh(messages.user()), budget));
            } else {
                bh.consume(store.add(JdbcBenchmarkDatabases.fresh(messages.user())));
                bh.consume(store.contextWindow(budget));
            }
            bh.consume(store.add(JdbcBenchmarkDatabases.fresh(messages.assistant())));
        }

        /** Fails unless the window holds {@code n} messages (and, with retention, the session too). */
        void check(int n) {
            List<?> window = store.contextWindow(budget);
            long count = store.count();
            if (window.size() != n || (grows ? count < n : count != n)) {
                throw new IllegalStateException("the session holds " + count + " messages and its window "
                        + window.size() + "; the window should be " + n);
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
