package io.agentmemory.benchmarks;

import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.core.config.Memories;
import io.agentmemory.core.tokens.TokenCounters;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 * The cost of one append to a Redis-backend session that holds {@code n} messages: the measure of "append cost does
 * not grow with the history". The memory is configured by name as in {@link RedisAgentTurnBenchmark}
 * ({@code memory.backend=redis}, {@code memory.redis.ttl=24h}, a key prefix of its own, the heuristic token counter,
 * no eviction listener) on the server MEMORY_TEST_REDIS_URL names (default {@code redis://127.0.0.1:6379}), with
 * {@code Retention.maxMessages(n)}: every measured append also removes the oldest message and refreshes the TTL, in
 * one script call.
 *
 * <p>{@code n}, 20 or 2000 messages held: the session is filled to {@code n} before measuring and checked after the
 * trial to still hold {@code n}, all of them in its window; then it is deleted. The appended message (about 200
 * characters, from {@link TurnMessages}) is built in the measured operation with a new id, as
 * {@link JdbcBenchmarkDatabases#fresh} builds it, since a stored id is not appended again. One thread; the score is the
 * average time of one append, round trip included. Not thread-safe: JMH gives the state to its one thread.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@Fork(jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RedisAppendBenchmark {
    /** Messages the session holds. */
    @Param({"20", "2000"})
    public int n;

    private Memory memory;
    private MemoryStore store;
    private Message template;

    @Setup(Level.Trial)
    public void setUp() {
        memory = Memories.builder()
                .config(Map.of(
                        "memory.backend",
                        "redis",
                        "memory.redis.url",
                        RedisBench.URL,
                        "memory.redis.key-prefix",
                        RedisBench.prefix("append"),
                        "memory.redis.ttl",
                        "24h"))
                .retention(Retention.maxMessages(n))
                .tokenCounter(TokenCounters.heuristic())
                .build();
        store = memory.session(SessionKey.of("bench", "append"));
        TurnMessages messages = new TurnMessages(n);
        template = messages.user();
        List<Message> fill = new ArrayList<>(n);
        while (fill.size() < n) {
            fill.add(fresh(messages.user()));
            fill.add(fresh(messages.assistant()));
        }
        for (int i = 0; i < n; i += 500) {
            store.addAll(fill.subList(i, Math.min(n, i + 500)));
        }
        check();
    }

    /** After the measurement: the session still holds {@code n} messages, all in its window; then it is deleted. */
    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            check();
            memory.delete(store.key());
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

    /** {@code m} with a new id. */
    private static Message fresh(Message m) {
        return Message.builder(m.role(), m.content()).build();
    }

    /** One append of a message with a new id. */
    @Benchmark
    @Threads(1)
    public Message oneThread() {
        return store.add(fresh(template));
    }
}
