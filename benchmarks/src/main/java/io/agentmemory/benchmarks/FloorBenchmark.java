package io.agentmemory.benchmarks;

import io.agentmemory.Message;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
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
 * The floor for {@link AgentTurnBenchmark}: the same turn on a plain {@code ArrayDeque<Message>}, about the least
 * work any in-heap store can do. Append the user message, copy the newest {@code n} messages into a new list (the
 * window), append the assistant message, trim to {@code n}.
 *
 * <p>Same parameters, thread setups and prebuilt {@link TurnMessages} as {@link AgentTurnBenchmark}: creating the
 * {@code Message} objects is part of neither turn. Unlike the store, the floor counts no tokens, copies no message
 * and checks nothing. Each thread has its own deque (one session per thread, as in {@code AgentTurnBenchmark}); each
 * of the three steps takes that deque's uncontended {@link ReentrantLock}, as a thread-safe store would, which costs
 * some tens of nanoseconds a turn.
 */
@BenchmarkMode(Mode.AverageTime)
@Fork(jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FloorBenchmark {
    /** The parameters; there is nothing to share. */
    @State(Scope.Benchmark)
    public static class Shared {
        /** Messages each session holds. */
        @Param({"20", "200", "2000", "20000"})
        public int n;
    }

    /** One thread's deque, filled to {@code n} messages, and its prebuilt messages. */
    @State(Scope.Thread)
    public static class Session {
        final ReentrantLock lock = new ReentrantLock();
        ArrayDeque<Message> deque;
        TurnMessages messages;
        int n;

        @Setup(Level.Trial)
        public void setUp(Shared shared) {
            n = shared.n;
            deque = new ArrayDeque<>(n + 2);
            messages = new TurnMessages(n);
            while (deque.size() < n) {
                deque.addLast(messages.user());
                deque.addLast(messages.assistant());
            }
            trim();
            check();
        }

        /** After each iteration, outside the measurement: the deque is still in the steady state. */
        @TearDown(Level.Iteration)
        public void verify() {
            check();
        }

        /** One turn; every result goes to the black hole. */
        void turn(Blackhole bh) {
            Message user = messages.user();
            lock.lock();
            try {
                deque.addLast(user);
            } finally {
                lock.unlock();
            }
            bh.consume(user);
            bh.consume(window());
            Message assistant = messages.assistant();
            lock.lock();
            try {
                deque.addLast(assistant);
                trim();
            } finally {
                lock.unlock();
            }
            bh.consume(assistant);
        }

        /** A new list of the newest {@code n} messages, oldest first. */
        List<Message> window() {
            lock.lock();
            try {
                List<Message> window = new ArrayList<>(n);
                Iterator<Message> it = deque.iterator();
                for (int skip = deque.size() - n; skip > 0; skip--) {
                    it.next();
                }
                while (it.hasNext()) {
                    window.add(it.next());
                }
                return window;
            } finally {
                lock.unlock();
            }
        }

        private void trim() {
            while (deque.size() > n) {
                deque.pollFirst();
            }
        }

        private void check() {
            int size = window().size();
            if (deque.size() != n || size != n) {
                throw new IllegalStateException("the deque holds " + deque.size() + " messages and its window " + size
                        + "; both should be " + n);
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
