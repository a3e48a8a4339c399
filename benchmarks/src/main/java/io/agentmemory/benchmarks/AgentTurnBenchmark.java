package io.agentmemory.benchmarks;

import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Retention;
import io.agentmemory.TokenCounter;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.agentmemory.core.tokens.TokenCounters;
import java.util.List;
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
 * One agent turn against the in-memory backend: add a user message (about 200 characters), read the context window
 * with a budget that holds the whole session ({@link #BUDGET}, so the window is all {@code n} messages), add the
 * assistant's answer (about 600 characters).
 *
 * <p>Steady state: {@link Retention#maxMessages(int) Retention.maxMessages(n)} keeps every session at {@code n}
 * messages, so each of the two appends of a turn also evicts the oldest message. The session is filled to {@code n}
 * messages before measuring.
 *
 * <p>Fairness with {@link FloorBenchmark}: both use the same prebuilt {@link TurnMessages}, so creating the caller's
 * {@code Message} objects is part of neither turn. What the store does with a message is measured: it counts its
 * tokens, builds the stored copy (with sequence and count) and applies retention.
 *
 * <p>Token counting is not what this benchmark is about, so the default counter is the cheap
 * {@link TokenCounters#heuristic()}; {@code counter=cl100k} repeats the measurement with the exact BPE counter
 * {@link TokenCounters#cl100kBase()}, which shows what exact counting adds to a turn. The floor counts nothing.
 *
 * <p>Threads: {@link #oneThread} runs one session; {@link #twoThreads} runs two threads, each on its own session of
 * one shared {@link Memory}. Scores are the average time of one turn of one thread.
 */
@BenchmarkMode(Mode.AverageTime)
@Fork(jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class AgentTurnBenchmark {
    /** A context-window budget that holds any session here: the window is the whole session. */
    static final int BUDGET = Integer.MAX_VALUE;

    /** The memory shared by every benchmark thread, and the parameters. */
    @State(Scope.Benchmark)
    public static class Shared {
        /** Messages each session holds. */
        @Param({"20", "200", "2000", "20000"})
        public int n;

        /** The token counter: {@code heuristic} or {@code cl100k}. */
        @Param({"heuristic", "cl100k"})
        public String counter;

        Memory memory;
        final AtomicInteger sessions = new AtomicInteger();
        final Queue<Session> opened = new ConcurrentLinkedQueue<>();

        @Setup(Level.Trial)
        public void setUp() {
            memory = InMemoryMemory.builder()
                    .tokenCounter(tokenCounter(counter))
                    .retention(Retention.maxMessages(n))
                    .build();
        }

        /**
         * After the measurement: every session is still in the steady state. (Checked here rather than in a
         * per-thread tear-down, which JMH may run after this one has closed the memory.)
         */
        @TearDown(Level.Trial)
        public void tearDown() {
            try {
                opened.forEach(session -> session.check(n));
            } finally {
                memory.close();
            }
        }

        static TokenCounter tokenCounter(String name) {
            return switch (name) {
                case "heuristic" -> TokenCounters.heuristic();
                case "cl100k" -> TokenCounters.cl100kBase();
                default -> throw new IllegalArgumentException("unknown counter " + name + "; use heuristic or cl100k");
            };
        }
    }

    /** One thread's session, filled to {@code n} messages, and its prebuilt messages. */
    @State(Scope.Thread)
    public static class Session {
        MemoryStore store;
        TurnMessages messages;

        @Setup(Level.Trial)
        public void setUp(Shared shared) {
            store = shared.memory.session("bench", "session-" + shared.sessions.incrementAndGet());
            messages = new TurnMessages(shared.n);
            while (store.count() < shared.n) {
                store.add(messages.user());
                store.add(messages.assistant());
            }
            check(shared.n);
            shared.opened.add(this);
        }

        /** One turn; every result goes to the black hole. */
        void turn(Blackhole bh) {
            bh.consume(store.add(messages.user()));
            bh.consume(store.contextWindow(BUDGET));
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
