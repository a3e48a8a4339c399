package io.agentmemory.benchmarks;

import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.jdbc.JdbcMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
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

/**
 * The cost of one append to a jdbc-backend session ({@link JdbcMemory}) that holds {@code n} messages, on PostgreSQL
 * or H2: the measure of "append cost does not grow with the history". {@code Retention.maxMessages(n)} keeps the
 * session at {@code n} messages, so every measured append also deletes the oldest message in the same transaction:
 * the steady state of a long conversation.
 *
 * <p>Parameters: {@code database}, {@code postgresql} or {@code h2}; {@code otherRows}, the database of
 * {@link JdbcBenchmarkDatabases} with no other rows (0, the suite's) or 1,000,000 of 10,000 other sessions (for a
 * focused run: the tables' size then stays nearly the same whatever {@code n}, so that only the session's length
 * changes); {@code n}, 20 or 2000 messages held. The session is filled to {@code n} messages
 * before measuring and checked after the trial to still hold {@code n}, all of them in its window.
 *
 * <p>The appended message (about 200 characters, from {@link TurnMessages}) is built in the measured operation with a
 * new id ({@link JdbcBenchmarkDatabases#fresh}), as the turn benchmarks do, since a stored id is not appended again.
 * One thread; the score is the average time of one append, including the round trips to the database and the commit.
 * Not thread-safe: JMH gives the state to its one thread.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@Fork(jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class JdbcAppendBenchmark {
    @Param({"postgresql", "h2"})
    public String database;

    /** Messages the session holds. */
    @Param({"20", "2000"})
    public int n;

    /** Other sessions' rows in the tables: 0, or 1000000 for a focused run. */
    @Param({"0"})
    public int otherRows;

    private Memory memory;
    private MemoryStore store;
    private Message template;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        String url = JdbcBenchmarkDatabases.url(database, otherRows);
        JdbcBenchmarkDatabases.prepare(url, otherRows);
        memory = JdbcMemory.open(
                JdbcBenchmarkDatabases.settings(url), JdbcBenchmarkDatabases.context(Retention.maxMessages(n)));
        store = memory.session(JdbcBenchmarkDatabases.TENANT, "append-" + UUID.randomUUID());
        TurnMessages messages = new TurnMessages(n);
        template = messages.user();
        List<Message> fill = new ArrayList<>(n);
        while (fill.size() < n) {
            fill.add(JdbcBenchmarkDatabases.fresh(messages.user()));
            fill.add(JdbcBenchmarkDatabases.fresh(messages.assistant()));
        }
        for (int i = 0; i < n; i += 500) {
            store.addAll(fill.subList(i, Math.min(n, i + 500)));
        }
        check();
    }

    /** After the measurement: the session still holds {@code n} messages, all in its window. */
    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            check();
        } finally {
            memory.close();
        }
    }

    private void check() {
        long count = store.count();
        int window = store.contextWindow(Integer.MAX_VALUE).size();
        if (count != n || window != n) {
            throw new IllegalStateException(
                    "the session holds " + count + " messages and its window " + window + "; both should be " + n);
        }
    }

    /** One append of a message with a new id. */
    @Benchmark
    @Threads(1)
    public Message oneThread() {
        return store.add(JdbcBenchmarkDatabases.fresh(template));
    }
}
