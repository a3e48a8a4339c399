package io.agentmemory.benchmarks;

import io.agentmemory.Message;
import io.agentmemory.core.json.MessageJson;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.Response;

/**
 * The floor for {@link RedisAgentTurnBenchmark}: the spec's {@code RedisMemoryStore} turn in plain Jedis, about the
 * least a Redis-backed memory can do. Append: {@code RPUSH} the message, {@code LTRIM} to the newest {@code n},
 * {@code EXPIRE} by 24 h, in one pipeline (one round trip); window: {@code LRANGE 0 -1} of the {@code n} messages.
 * With {@code window=own} (the floor of the target) the window is a round trip of its own; with {@code window=piped}
 * the {@code LRANGE} goes in the user message's pipeline, so a turn is two round trips, as ours with
 * {@code addAndWindow}.
 *
 * <p>{@code codec=json} (the fair comparison) writes each message as {@link MessageJson} and parses the window back
 * into {@link Message}s, as any store returning messages must; {@code codec=none} stores the prebuilt JSON bytes and
 * returns the raw window bytes, the network and server cost alone. Unlike the store, the floor assigns no sequence
 * numbers, counts no tokens, checks no id, keeps no pinned messages or tool groups and reports no eviction; it is not
 * atomic across clients (the spec's store is not either). Same parameters, threads and prebuilt {@link TurnMessages}
 * as {@link RedisAgentTurnBenchmark}; the server is MEMORY_TEST_REDIS_URL (default {@code redis://127.0.0.1:6379}).
 */
@BenchmarkMode(Mode.AverageTime)
@Fork(jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RedisFloorBenchmark {
    /** The sessions' TTL, 24 h, as ours is configured ({@code memory.redis.ttl=24h}). */
    static final long TTL_SECONDS = 24 * 3600;

    /** The client shared by every benchmark thread, and the parameters. */
    @State(Scope.Benchmark)
    public static class Shared {
        /** Messages each list holds. */
        @Param({"20", "200", "2000"})
        public int n;

        /** {@code json}: serialize and parse with MessageJson; {@code none}: bytes in, bytes out. */
        @Param({"json", "none"})
        public String codec;

        /** {@code own}: the window is a round trip of its own; {@code piped}: it goes in the append's pipeline. */
        @Param({"own", "piped"})
        public String window;

        RedisClient redis;
        final String prefix = RedisBench.prefix("floor");
        final AtomicInteger sessions = new AtomicInteger();

        @Setup(Level.Trial)
        public void setUp() {
            redis = RedisClient.create(RedisBench.uri());
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            try {
                for (int i = 1; i <= sessions.get(); i++) {
                    redis.del(prefix + "session-" + i);
                }
            } finally {
                redis.close();
            }
        }
    }

    /** One thread's list, filled to {@code n} messages, and its prebuilt messages. */
    @State(Scope.Thread)
    public static class Session {
        RedisClient redis;
        byte[] key;
        TurnMessages messages;
        int n;
        boolean json;
        boolean piped;

        @Setup(Level.Trial)
        public void setUp(Shared shared) {
            redis = shared.redis;
            key = (shared.prefix + "session-" + shared.sessions.incrementAndGet()).getBytes(StandardCharsets.UTF_8);
            messages = new TurnMessages(shared.n);
            n = shared.n;
            json = shared.codec.equals("json");
            piped = shared.window.equals("piped");
            for (int i = 0; i < n; i += 2) {
                append(messages.user());
                append(messages.assistant());
            }
            check();
        }

        /** After each iteration, outside the measurement: the list is still in the steady state. */
        @TearDown(Level.Iteration)
        public void verify() {
            check();
        }

        void turn(Blackhole bh) {
            if (piped) {
                bh.consume(appendAndWindow(messages.user()));
            } else {
                bh.consume(append(messages.user()));
                bh.consume(window());
            }
            bh.consume(append(messages.assistant()));
        }

        /** RPUSH + LTRIM + EXPIRE + LRANGE in one pipeline: one round trip. */
        Object appendAndWindow(Message m) {
            byte[] value = json ? MessageJson.toJsonBytes(m) : bytesOf(m);
            Response<List<byte[]>> range;
            try (AbstractPipeline p = redis.pipelined()) {
                p.rpush(key, value);
                p.ltrim(key, -n, -1);
                p.expire(key, TTL_SECONDS);
                range = p.lrange(key, 0, -1);
                p.sync();
            }
            return parsed(range.get());
        }

        /** RPUSH + LTRIM + EXPIRE in one pipeline: one round trip. */
        Object append(Message m) {
            byte[] value = json ? MessageJson.toJsonBytes(m) : bytesOf(m);
            try (AbstractPipeline p = redis.pipelined()) {
                p.rpush(key, value);
                p.ltrim(key, -n, -1);
                p.expire(key, TTL_SECONDS);
                p.sync();
            }
            return value;
        }

        /** LRANGE of the whole list, parsed into messages with {@code codec=json}. */
        Object window() {
            return parsed(redis.lrange(key, 0, -1));
        }

        /** The raw window, parsed into messages with {@code codec=json}. */
        private Object parsed(List<byte[]> raw) {
            if (!json) {
                return raw;
            }
            List<Message> window = new ArrayList<>(raw.size());
            for (byte[] b : raw) {
                window.add(MessageJson.fromJsonBytes(b));
            }
            return window;
        }

        private final java.util.Map<Message, byte[]> prebuilt = new java.util.IdentityHashMap<>();

        /** The JSON of a prebuilt message, made once outside the measurement's steady state. */
        private byte[] bytesOf(Message m) {
            return prebuilt.computeIfAbsent(m, MessageJson::toJsonBytes);
        }

        private void check() {
            long size = redis.llen(key);
            if (size != n) {
                throw new IllegalStateException("the list holds " + size + " messages; it should hold " + n);
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
