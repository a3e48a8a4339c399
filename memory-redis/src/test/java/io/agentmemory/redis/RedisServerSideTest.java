package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.ErrorCode;
import io.agentmemory.HistoryQuery;
import io.agentmemory.Memory;
import io.agentmemory.MemoryException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.ToolCall;
import io.agentmemory.core.backend.PinnedCalls;
import io.agentmemory.core.window.ContextWindows;
import io.agentmemory.tck.RecordingEvictionListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisMonitor;

/**
 * What the server does and sees, on a private redis-server: one script call per append, reads that fetch what they
 * need and not the session, windows across several pages, the TTL, and two-phase writes under concurrency.
 */
class RedisServerSideTest {
    private static RedisProcess server;
    private static final String PREFIX = TestRedis.newPrefix("server-side");

    @BeforeAll
    static void start() {
        server = RedisProcess.start("server-side", List.of("--appendonly", "no"));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Memory open(Retention retention, io.agentmemory.EvictionListener listener, Duration ttl) {
        return RedisMemory.open(
                RedisSettings.builder()
                        .node("127.0.0.1", server.port())
                        .keyPrefix(PREFIX)
                        .ttl(ttl)
                        .build(),
                TestContexts.with(retention, listener));
    }

    private static Jedis jedis() {
        return new Jedis("127.0.0.1", server.port(), 5000);
    }

    /** The commands clients send (not those scripts run) while {@code action} runs, as MONITOR shows them. */
    private static List<String> clientCommands(Runnable action) throws Exception {
        List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        String end = "agentmemory-monitor-end-" + java.util.UUID.randomUUID();
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
        Jedis monitor = jedis();
        Thread t = new Thread(() -> {
            try {
                monitor.monitor(new JedisMonitor() {
                    @Override
                    public void onCommand(String command) {
                        if (command.contains(end)) {
                            ended.countDown();
                        } else if (command.contains("agentmemory-monitor-start")) {
                            started.countDown();
                        } else if (started.getCount() == 0 && ended.getCount() > 0 && !command.contains(" lua]")) {
                            seen.add(command);
                        }
                    }
                });
            } catch (RuntimeException e) {
                // closed below
            }
        });
        t.start();
        try (Jedis control = jedis()) {
            while (started.getCount() > 0) {
                control.echo("agentmemory-monitor-start");
                started.await(20, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
            action.run();
            control.echo(end);
            assertThat(ended.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        } finally {
            monitor.close();
            t.join(5000);
        }
        return new ArrayList<>(seen);
    }

    @Test
    void anAppendIsOneScriptCallWhateverTheHistoryLength() throws Exception {
        try (Memory memory =
                open(Retention.maxMessages(100), io.agentmemory.EvictionListener.NONE, Duration.ofHours(1))) {
            MemoryStore store = memory.session(SessionKey.of("acme", "round-trips"));
            store.add(Message.user("first: indexes the session"));
            for (int round = 0; round < 3; round++) {
                store.addAll(IntStream.range(0, 100)
                        .mapToObj(i -> Message.user("filler " + i))
                        .toList());
                List<String> commands = clientCommands(() -> {
                    for (int i = 0; i < 10; i++) {
                        store.add(Message.user("measured " + i));
                    }
                });
                assertThat(commands).hasSize(10).allMatch(c -> c.contains("\"EVALSHA\""));
            }
            List<String> batch = clientCommands(() -> store.addAll(IntStream.range(0, 50)
                    .mapToObj(i -> Message.user("batch " + i))
                    .toList()));
            assertThat(batch).hasSize(1);
            store.contextWindow(1000);
            assertThat(clientCommands(() -> store.history(HistoryQuery.newest(5))))
                    .as("history without filters: one native ZRANGE")
                    .singleElement()
                    .matches(c -> c.contains("\"ZRANGE\""));
            assertThat(clientCommands(() -> store.count())).singleElement().matches(c -> c.contains("\"ZCARD\""));
            assertThat(clientCommands(() -> store.contextWindow(20)))
                    .as("a small window: one script call")
                    .singleElement()
                    .matches(c -> c.contains("\"EVALSHA\""));
            store.add(Message.user("one more"));
            assertThat(clientCommands(() -> store.contextWindow(20)))
                    .as("a small window after an append to a session held as of the version before it (from the"
                            + " window above): one pipelined round trip of native commands, the session's epoch,"
                            + " version and newest message, and the counts of its pinned and held unpinned messages")
                    .hasSize(3)
                    .anyMatch(c -> c.contains("\"HMGET\""))
                    .anyMatch(c -> c.contains("\"ZCARD\""))
                    .anyMatch(c -> c.contains("\"ZCOUNT\""))
                    .noneMatch(c -> c.contains("\"EVALSHA\""));
            try (Memory other =
                    open(Retention.maxMessages(100), io.agentmemory.EvictionListener.NONE, Duration.ofHours(1))) {
                other.session(SessionKey.of("acme", "round-trips")).add(Message.user("from elsewhere"));
            }
            assertThat(clientCommands(() -> store.contextWindow(20)))
                    .as("a small window after an append of another memory: one script call")
                    .singleElement()
                    .matches(c -> c.contains("\"EVALSHA\""));
            assertThat(clientCommands(() -> store.contextWindow(1000)))
                    .as("a window of 100 messages after one held for 20 tokens: the held one cannot serve it (one"
                            + " script call), then the script plans and one native page follows")
                    .hasSize(3);
            assertThat(clientCommands(() -> store.contextWindow(1000)))
                    .as("the same window again: one script call for what was added since (nothing)")
                    .singleElement()
                    .matches(c -> c.contains("\"EVALSHA\""));
            assertThat(clientCommands(() -> {
                        for (int i = 0; i < 5; i++) {
                            assertThat(store.addAndWindow(Message.user("turn " + i), 1000)
                                            .window())
                                    .hasSize(100);
                        }
                    }))
                    .as("addAndWindow on a session held as of the version before it: the append's script call alone,"
                            + " whose reply brings the held window up to date")
                    .hasSize(5)
                    .allMatch(c -> c.contains("\"EVALSHA\""));
            try (Memory other =
                    open(Retention.maxMessages(100), io.agentmemory.EvictionListener.NONE, Duration.ofHours(1))) {
                other.session(SessionKey.of("acme", "round-trips")).add(Message.user("from elsewhere again"));
            }
            assertThat(clientCommands(() -> assertThat(store.addAndWindow(Message.user("after theirs"), 1000)
                                    .window())
                            .extracting(Message::content)
                            .endsWith("from elsewhere again", "after theirs")))
                    .as("addAndWindow after an append of another memory: the append, then one script call for what"
                            + " was added since")
                    .hasSize(2)
                    .allMatch(c -> c.contains("\"EVALSHA\""));
            try (Memory cold = RedisMemory.open(
                    RedisSettings.builder()
                            .node("127.0.0.1", server.port())
                            .keyPrefix(PREFIX)
                            .windowCache(0)
                            .build(),
                    TestContexts.with(Retention.maxMessages(100), io.agentmemory.EvictionListener.NONE))) {
                assertThat(clientCommands(() -> cold.session(store.key()).contextWindow(1000)))
                        .as("a window of 100 messages without a held one: the script plans, one native page follows")
                        .hasSize(2);
            }
        }
    }

    @Test
    void readsFetchWhatTheyNeedNotTheSession() {
        try (Memory memory = RedisMemory.open(
                        RedisSettings.builder()
                                .node("127.0.0.1", server.port())
                                .keyPrefix(PREFIX)
                                .build(),
                        new io.agentmemory.spi.MemoryContext(
                                java.time.Clock.systemUTC(),
                                new io.agentmemory.tck.TckTokenCounter(),
                                Retention.none(),
                                io.agentmemory.EvictionListener.NONE));
                Jedis jedis = jedis()) {
            MemoryStore store = memory.session(SessionKey.of("acme", "big"));
            String text = "x".repeat(999);
            store.add(Message.system("be brief"));
            for (int i = 0; i < 20; i++) {
                store.addAll(IntStream.range(0, 100)
                        .mapToObj(n -> Message.user(text))
                        .toList());
            }
            long before = TestRedis.outputBytes(jedis);
            List<Message> window = store.contextWindow(5000);
            List<Message> newest = store.history(HistoryQuery.newest(3));
            long spent = TestRedis.outputBytes(jedis) - before;
            assertThat(window).hasSize(1 + 4);
            assertThat(newest).hasSize(3);
            assertThat(spent).as("bytes sent for 8 messages of a 2 MB session").isLessThan(30_000);
        }
    }

    private static Memory openCaching(int windowCache) {
        return RedisMemory.open(
                RedisSettings.builder()
                        .node("127.0.0.1", server.port())
                        .keyPrefix(PREFIX)
                        .windowCache(windowCache)
                        .build(),
                TestContexts.with(Retention.none(), io.agentmemory.EvictionListener.NONE));
    }

    /**
     * A large window decodes only messages whose stored bytes it has not decoded before; another process deleting
     * the session and writing other messages under the same sequence numbers is seen at once.
     */
    @Test
    void largeWindowsDecodeOnlyWhatChanged() {
        SessionKey key = SessionKey.of("acme", "cached-window");
        try (Memory mine = openCaching(10_000);
                Memory theirs = openCaching(10_000);
                Memory uncached = openCaching(0)) {
            MemoryStore store = mine.session(key);
            store.add(Message.system("be brief"));
            store.addAll(IntStream.range(0, 100)
                    .mapToObj(i -> Message.user("old " + i))
                    .toList());
            List<Message> first = store.contextWindow(1_000_000);
            store.add(Message.user("newest"));
            List<Message> second = store.contextWindow(1_000_000);
            assertThat(second).hasSize(102).isEqualTo(store.history());
            for (int i = 1; i < first.size(); i++) {
                assertThat(second.get(i)).as("message %d", i).isSameAs(first.get(i));
            }
            List<Message> plain = uncached.session(key).contextWindow(1_000_000);
            assertThat(plain).isEqualTo(second);
            assertThat(uncached.session(key).contextWindow(1_000_000).get(50)).isNotSameAs(plain.get(50));

            theirs.delete(key);
            theirs.session(key)
                    .addAll(IntStream.range(0, 101)
                            .mapToObj(i -> Message.user("new " + i))
                            .toList());
            List<Message> rewritten = store.contextWindow(1_000_000);
            assertThat(rewritten).isEqualTo(theirs.session(key).history()).hasSize(101);
            assertThat(rewritten).allMatch(m -> m.content().startsWith("new "));
        }
    }

    @Test
    void windowsSpanningSeveralPagesFollowTheSharedRule() {
        try (Memory memory = open(Retention.none(), io.agentmemory.EvictionListener.NONE, null)) {
            MemoryStore store = memory.session(SessionKey.of("acme", "pages"));
            List<Message> all = new ArrayList<>();
            int call = 0;
            for (int batch = 0; batch < 7; batch++) {
                List<Message> messages = new ArrayList<>();
                for (int i = 0; i < 500; i++) {
                    int n = batch * 500 + i;
                    if (n % 997 == 0) {
                        messages.add(Message.system("rules " + n));
                    } else if (n % 211 == 5) {
                        String id = "call-" + ++call;
                        messages.add(Message.assistant("calling", List.of(new ToolCall(id, "lookup", "{}"))));
                        messages.add(Message.tool(id, "result " + n));
                        i++;
                    } else {
                        messages.add(Message.user("message " + n + " " + "y".repeat(n % 50)));
                    }
                }
                all.addAll(store.addAll(messages));
            }
            assertThat(store.history()).containsExactlyElementsOf(all);
            assertThat(store.contextWindow(Integer.MAX_VALUE))
                    .hasSize(all.size())
                    .isEqualTo(reference(all, Integer.MAX_VALUE));
            for (int budget : new int[] {12, 1000, 4_500, 9_000, 13_000, 45_000}) {
                assertThat(store.contextWindow(budget))
                        .as("window of %d", budget)
                        .isEqualTo(reference(all, budget));
            }
        }
    }

    /** The shared rule over the whole history, as an in-heap backend would apply it. */
    private static List<Message> reference(List<Message> all, int budget) {
        PinnedCalls pinnedCalls = new PinnedCalls();
        List<Message> pinned = new ArrayList<>();
        List<Message> others = new ArrayList<>();
        for (Message m : all) {
            (pinnedCalls.admit(m) ? pinned : others).add(m);
        }
        List<Message> newestFirst = new ArrayList<>(others);
        java.util.Collections.reverse(newestFirst);
        return ContextWindows.select(budget, pinned, newestFirst.iterator());
    }

    @Test
    void theTtlIsSetAndRefreshedOnEveryWriteAndAnExpiredSessionIsNotListed() {
        try (Memory memory = open(Retention.none(), io.agentmemory.EvictionListener.NONE, Duration.ofHours(1));
                Jedis jedis = jedis()) {
            SessionKey key = SessionKey.of("acme-ttl", "ttl");
            MemoryStore store = memory.session(key);
            store.add(Message.system("pinned, so that every key of the session exists"));
            store.add(Message.user("hello"));
            List<byte[]> keys = new RedisKeys(PREFIX).session(key);
            for (byte[] k : keys) {
                assertThat(jedis.pttl(k)).isBetween(1L, Duration.ofHours(1).toMillis());
            }
            // 59 minutes later, as far as the keys know: a minute left, and the recorded expiry says so too.
            for (byte[] k : keys) {
                jedis.pexpire(k, 60_000);
            }
            jedis.hset(
                    keys.get(0),
                    "ex".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    Long.toString(System.currentTimeMillis() + 60_000)
                            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            store.add(Message.user("again"));
            for (byte[] k : keys) {
                assertThat(jedis.pttl(k)).as("refreshed by the write").isGreaterThan(60_000);
            }
            assertThat(jedis.pttl(new RedisKeys(PREFIX).index("acme-ttl"))).isPositive();
            assertThat(memory.sessions("acme-ttl")).containsExactly(key);
            for (byte[] k : keys) {
                jedis.pexpire(k, 1);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (store.count() > 0 && System.nanoTime() < deadline) {
                RedisProcess.sleep(10);
            }
            assertThat(store.count()).isZero();
            assertThat(memory.sessions("acme-ttl")).isEmpty();
            assertThat(store.add(Message.user("a new life")).sequence()).isEqualTo(1);
            assertThat(memory.sessions("acme-ttl")).containsExactly(key);
        }
    }

    /** A TTL made shorter (the memory opened again with another setting) holds from the next write on. */
    @Test
    void aShorterTtlTakesEffectOnTheNextWrite() {
        SessionKey key = SessionKey.of("acme-ttl", "shortened");
        List<byte[]> keys = new RedisKeys(PREFIX).session(key);
        try (Memory memory = open(Retention.none(), io.agentmemory.EvictionListener.NONE, Duration.ofDays(30))) {
            memory.session(key).add(Message.system("pinned, so that every key of the session exists"));
            memory.session(key).add(Message.user("under 30 days"));
        }
        try (Memory memory = open(Retention.none(), io.agentmemory.EvictionListener.NONE, Duration.ofMinutes(10));
                Jedis jedis = jedis()) {
            MemoryStore store = memory.session(key);
            store.add(Message.user("under 10 minutes"));
            for (byte[] k : keys) {
                assertThat(jedis.pttl(k))
                        .as("%s", new String(k, java.nio.charset.StandardCharsets.UTF_8))
                        .isBetween(
                                Duration.ofMinutes(9).toMillis(),
                                Duration.ofMinutes(10).toMillis());
            }
            store.add(Message.user("again"));
            store.addAll(List.of(Message.system("more pinned"), Message.user("and more")));
            for (byte[] k : keys) {
                assertThat(jedis.pttl(k))
                        .isBetween(
                                Duration.ofMinutes(9).toMillis(),
                                Duration.ofMinutes(10).toMillis());
            }
            memory.delete(key);
        }
    }

    @Test
    void withoutATtlSessionsNeverExpire() {
        try (Memory memory = open(Retention.none(), io.agentmemory.EvictionListener.NONE, null);
                Jedis jedis = jedis()) {
            SessionKey key = SessionKey.of("acme-no-ttl", "no-ttl");
            memory.session(key).add(Message.user("kept"));
            for (byte[] k : new RedisKeys(PREFIX).session(key).subList(0, 4)) {
                assertThat(jedis.pttl(k)).isIn(-1L, -2L);
            }
            assertThat(jedis.pttl(new RedisKeys(PREFIX).index("acme-no-ttl"))).isEqualTo(-1L);
        }
    }

    @Test
    void concurrentTwoPhaseWritesReportEveryRemovalOnceAndLoseNothing() throws Exception {
        RecordingEvictionListener listener = new RecordingEvictionListener();
        int keep = 25;
        int writers = 4;
        int perWriter = 150;
        try (Memory memory = open(Retention.maxMessages(keep), listener, null)) {
            SessionKey key = SessionKey.of("acme", "two-phase");
            MemoryStore store = memory.session(key);
            ExecutorService pool = Executors.newFixedThreadPool(writers);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    int writer = w;
                    futures.add(pool.submit(() -> {
                        for (int n = 0; n < perWriter; n++) {
                            store.add(Message.user("w" + writer + " " + n));
                        }
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            List<Message> kept = store.history();
            List<Message> removed = listener.removed(key);
            assertThat(kept).hasSize(keep);
            assertThat(removed).hasSize(writers * perWriter - keep);
            Set<Long> sequences = new HashSet<>();
            for (Message m : removed) {
                assertThat(sequences.add(m.sequence()))
                        .as("%s reported once", m)
                        .isTrue();
            }
            kept.forEach(m -> assertThat(sequences.add(m.sequence())).isTrue());
            assertThat(sequences)
                    .containsExactlyInAnyOrderElementsOf(IntStream.rangeClosed(1, writers * perWriter)
                            .mapToObj(i -> (long) i)
                            .toList());
        }
    }

    @Test
    void aListenerThatSometimesThrowsNeverLeavesATraceOfTheFailedWrites() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        RecordingEvictionListener recorder = new RecordingEvictionListener();
        io.agentmemory.EvictionListener flaky = (key, messages, cause) -> {
            if (calls.incrementAndGet() % 3 == 0) {
                throw new IllegalStateException("archive is full");
            }
            recorder.onRemoval(key, messages, cause);
        };
        int keep = 10;
        int writers = 3;
        int perWriter = 80;
        AtomicInteger refused = new AtomicInteger();
        try (Memory memory = open(Retention.maxMessages(keep), flaky, null)) {
            SessionKey key = SessionKey.of("acme", "flaky");
            MemoryStore store = memory.session(key);
            ExecutorService pool = Executors.newFixedThreadPool(writers);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    int writer = w;
                    futures.add(pool.submit(() -> {
                        for (int n = 0; n < perWriter; n++) {
                            Message m = Message.user("w" + writer + " " + n);
                            while (true) {
                                try {
                                    store.add(m);
                                    break;
                                } catch (MemoryException e) {
                                    assertThat(e.code()).isEqualTo(ErrorCode.CALLBACK_FAILED);
                                    refused.incrementAndGet();
                                }
                            }
                        }
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(refused.get()).isPositive();
            List<Message> kept = store.history();
            List<Message> removed = recorder.removed(key);
            assertThat(kept).hasSize(keep);
            List<Long> sequences = new ArrayList<>();
            removed.forEach(m -> sequences.add(m.sequence()));
            kept.forEach(m -> sequences.add(m.sequence()));
            assertThat(sequences)
                    .as("refused writes used no sequence number and left nothing behind")
                    .containsExactlyInAnyOrderElementsOf(IntStream.rangeClosed(1, writers * perWriter)
                            .mapToObj(i -> (long) i)
                            .toList());
        }
    }

    /**
     * A listener that throws releases the session's lock even when the server forgot the scripts meanwhile (a restart
     * or a failover while the listener ran): the next write goes through at once, not after the lock lease.
     */
    @Test
    void aThrowingListenerReleasesTheLockAfterTheServerForgotTheScripts() {
        io.agentmemory.EvictionListener refusing = (key, messages, cause) -> {
            try (Jedis jedis = jedis()) {
                jedis.scriptFlush();
            }
            throw new IllegalStateException("archive is full");
        };
        SessionKey key = SessionKey.of("acme", "refused-after-flush");
        byte[] lock = "lk".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (Memory memory = open(Retention.maxMessages(1), refusing, null);
                Jedis jedis = jedis()) {
            MemoryStore store = memory.session(key);
            store.add(Message.user("kept"));
            assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(
                                    MemoryException.class, () -> store.add(Message.user("refused")))
                            .code())
                    .isEqualTo(ErrorCode.CALLBACK_FAILED);
            assertThat(jedis.hexists(new RedisKeys(PREFIX).session(key).get(RedisKeys.DATA), lock))
                    .as("the lock is released")
                    .isFalse();
            assertThat(store.history()).extracting(Message::content).containsExactly("kept");
            // This listener refuses a clear as well: the keys go directly.
            jedis.del(new RedisKeys(PREFIX).session(key).toArray(new byte[0][]));
        }
    }
}
