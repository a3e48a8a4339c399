package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.agentmemory.Added;
import io.agentmemory.ErrorCode;
import io.agentmemory.EvictionListener;
import io.agentmemory.MemoryException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.ToolCall;
import io.agentmemory.core.backend.PinnedCalls;
import io.agentmemory.core.json.MessageJson;
import io.agentmemory.core.window.ContextWindows;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MutableClock;
import io.agentmemory.tck.TckTokenCounter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.RestoreParams;
import redis.clients.jedis.params.ZRangeParams;
import redis.clients.jedis.providers.PooledConnectionProvider;

/**
 * The window cache: a context window that follows a window of the same session held by the same memory reads only
 * the messages added since (one script call), and is always the window the full read gives. Every window here is
 * compared with the window of a memory without the cache (the full read, on the same keys) and with the shared rule
 * applied to the session's history, and the test says which way it expects the window to have been read. Runs on
 * the standalone server and on the 3-master cluster; the transfer itself is measured on a server of its own.
 */
class RedisWindowCacheTest {
    private static final String PREFIX = TestRedis.newPrefix("window-cache");
    private static final Instant START = Instant.parse("2025-01-01T00:00:00Z");
    private static final int ALL = Integer.MAX_VALUE;
    private static volatile boolean clusterUsed;

    enum Deployment {
        STANDALONE,
        CLUSTER
    }

    /** How a window is expected to have been read. */
    private enum Read {
        /**
         * From the held window: the messages added since, or, after appends of the memory itself, nothing but a check
         * of the session's version.
         */
        SINCE,
        /** From the held window that appends of the memory itself brought up to date, checked natively. */
        CHECKED,
        /** In full. */
        FULL,
        /** Either (the test checks only that it is exact). */
        ANY
    }

    @AfterAll
    static void deleteKeys() {
        TestRedis.deleteKeys(TestRedis.url(), PREFIX);
        if (clusterUsed) {
            for (RedisProcess node : TestCluster.shared().nodes()) {
                try (Jedis jedis = TestCluster.jedis(node.port())) {
                    TestRedis.deleteKeys(jedis, PREFIX);
                }
            }
        }
    }

    /**
     * A session, the memory under test (window cache on), a memory on the same keys without the cache (every window
     * read in full), and other memories with the cache, as other processes would be; all with one clock.
     */
    private static final class Setup implements AutoCloseable {
        final Deployment deployment;
        final MutableClock clock = new MutableClock(START);
        final Retention retention;
        final EvictionListener listener;
        final SessionKey key = SessionKey.of("acme", "w-" + UUID.randomUUID());
        final List<byte[]> keys = new RedisKeys(PREFIX).session(key);
        final RedisMemory cached;
        final RedisMemory full;
        final List<Runnable> closers = new ArrayList<>();

        Setup(Deployment deployment, Retention retention) {
            this(deployment, retention, EvictionListener.NONE);
        }

        /** With an eviction listener, appends that remove messages plan, report, then commit under a lock. */
        Setup(Deployment deployment, Retention retention, EvictionListener listener) {
            this.deployment = deployment;
            this.retention = retention;
            this.listener = listener;
            this.cached = open(10_000);
            this.full = open(0);
        }

        RedisMemory open(int windowCache) {
            Map<String, String> config = new HashMap<>();
            config.put(RedisSettings.KEY_PREFIX, PREFIX);
            config.put(RedisSettings.WINDOW_CACHE, Integer.toString(windowCache));
            if (deployment == Deployment.CLUSTER) {
                clusterUsed = true;
                config.put(RedisSettings.URL, TestCluster.shared().seedUrl());
                config.put(RedisSettings.CLUSTER, "true");
            } else {
                config.put(RedisSettings.URL, TestRedis.url());
            }
            RedisMemory memory = RedisMemory.open(
                    RedisSettings.fromConfig(config),
                    new MemoryContext(clock, new TckTokenCounter(), retention, listener));
            closers.add(memory::close);
            return memory;
        }

        /** Another memory with a window cache of its own, as another process would have. */
        MemoryStore other() {
            return open(10_000).session(key);
        }

        MemoryStore store() {
            return cached.session(key);
        }

        /** A plain client of the deployment, for what no memory would do to the session's keys. */
        UnifiedJedis raw() {
            UnifiedJedis client;
            if (deployment == Deployment.CLUSTER) {
                client = RedisClusterClient.builder()
                        .nodes(Set.of(
                                HostAndPort.from(TestCluster.shared().seedUrl().substring("redis://".length()))))
                        .build();
            } else {
                URI url = URI.create(TestRedis.url());
                client = RedisClient.builder()
                        .hostAndPort(url.getHost(), url.getPort())
                        .build();
            }
            closers.add(client::close);
            return client;
        }

        /**
         * The window of the memory under test, after checking that it is the full read's and the shared rule's over
         * the history, and that it was read as expected.
         */
        List<Message> window(int budget, Read expected) {
            long since = cached.windowsSince();
            long checked = cached.windowsChecked();
            long inFull = cached.windowsInFull();
            List<Message> window = cached.session(key).contextWindow(budget);
            assertThat(window)
                    .as("window of %d", budget)
                    .isEqualTo(full.session(key).contextWindow(budget));
            assertThat(window)
                    .as("window of %d", budget)
                    .isEqualTo(reference(full.session(key).history(), budget));
            if (expected == Read.SINCE) {
                assertThat(cached.windowsSince() - since + cached.windowsChecked() - checked)
                        .as("window of %d read from the held one", budget)
                        .isEqualTo(1);
            } else if (expected == Read.CHECKED) {
                assertThat(cached.windowsChecked() - checked)
                        .as("window of %d read from the held one after a native check", budget)
                        .isEqualTo(1);
            } else if (expected == Read.FULL) {
                assertThat(cached.windowsInFull() - inFull)
                        .as("window of %d read in full", budget)
                        .isEqualTo(1);
            }
            return window;
        }

        /**
         * {@code addAndWindow} of the memory under test; its window must be the full read's and the shared rule's
         * right after it (nothing else writes between). Returns the stored message, or null when the pinned messages
         * alone exceed the budget (which the full read must say too).
         */
        Message addAndWindow(Message message, int budget) {
            Added added;
            try {
                added = store().addAndWindow(message, budget);
            } catch (MemoryException e) {
                assertThat(e.code()).isEqualTo(ErrorCode.CONTEXT_BUDGET_EXCEEDED);
                assertThatThrownBy(() -> full.session(key).contextWindow(budget))
                        .isInstanceOf(MemoryException.class)
                        .extracting(x -> ((MemoryException) x).code())
                        .isEqualTo(ErrorCode.CONTEXT_BUDGET_EXCEEDED);
                return null;
            }
            assertThat(added.window())
                    .as("addAndWindow of %d", budget)
                    .isEqualTo(full.session(key).contextWindow(budget));
            assertThat(added.window())
                    .as("addAndWindow of %d", budget)
                    .isEqualTo(reference(full.session(key).history(), budget));
            return added.message();
        }

        @Override
        public void close() {
            full.delete(key);
            closers.forEach(Runnable::run);
        }
    }

    /** The shared rule over the whole history, as an in-heap backend would apply it. */
    static List<Message> reference(List<Message> history, int budget) {
        PinnedCalls pinnedCalls = new PinnedCalls();
        List<Message> pinned = new ArrayList<>();
        List<Message> others = new ArrayList<>();
        for (Message m : history) {
            (pinnedCalls.admit(m) ? pinned : others).add(m);
        }
        Collections.reverse(others);
        return ContextWindows.select(budget, pinned, others.iterator());
    }

    private static List<Message> users(String prefix, int from, int to) {
        return IntStream.range(from, to)
                .mapToObj(i -> Message.user(String.format("%s %03d", prefix, i)))
                .toList();
    }

    /** The length of the stored JSON of {@code messages}. */
    private static long jsonBytes(List<Message> messages) {
        long sum = 0;
        for (Message m : messages) {
            sum += MessageJson.toJsonBytes(m).length;
        }
        return sum;
    }

    /**
     * The agent turn of the benchmarks (add a question, read the whole window, add the answer) on a session held at
     * 2,000 messages by max-messages, measured by the bytes the server sent (a server of its own, so nothing else
     * counts): after the first window, a window after appends of this memory alone sends no message, only the
     * session's version (each append keeps the held window up to date); one after an append of another memory sends
     * the messages added since and nothing else.
     */
    @Test
    void aWindowAfterAnAppendTransfersOnlyTheMessagesAddedSince() throws Exception {
        try (RedisProcess server = RedisProcess.start("window-cache", List.of("--appendonly", "no"));
                Jedis stats = server.client()) {
            MemoryContext context = new MemoryContext(
                    new MutableClock(START), new TckTokenCounter(), Retention.maxMessages(2000), EvictionListener.NONE);
            RedisSettings.Builder settings =
                    RedisSettings.builder().node("127.0.0.1", server.port()).keyPrefix(PREFIX);
            try (RedisMemory memory = RedisMemory.open(settings.build(), context);
                    RedisMemory cold = RedisMemory.open(settings.windowCache(0).build(), context)) {
                SessionKey key = SessionKey.of("acme", "transfer");
                MemoryStore store = memory.session(key);
                MemoryStore elsewhere = cold.session(key);
                String text = " " + "x".repeat(500);
                for (int batch = 0; batch < 21; batch++) {
                    store.addAll(users("filler" + text, batch * 100, batch * 100 + 100));
                }
                long infoCost = -TestRedis.outputBytes(stats) + TestRedis.outputBytes(stats);
                long before = TestRedis.outputBytes(stats);
                assertThat(store.contextWindow(ALL)).hasSize(2000);
                long fullRead = TestRedis.outputBytes(stats) - before - infoCost;
                assertThat(fullRead)
                        .as("bytes of the first window, read in full")
                        .isGreaterThan(1_000_000);
                // Turn 0 follows the full read, which does not tell the session's version: the window reads the
                // question. Turns 1 and 2 follow appends of this memory alone: nothing to read. Before turn 3 another
                // memory adds the answer: this memory's question cannot bring the held window up to date, which reads
                // both. Before turn 4 another memory adds the question after this memory's answer: the check finds
                // the session moved on, and the window reads the question alone.
                List<Message> unseen = new ArrayList<>();
                for (int turn = 0; turn < 5; turn++) {
                    MemoryStore asker = turn == 4 ? elsewhere : store;
                    Message question = asker.add(Message.user("question " + turn + text));
                    if (turn == 0 || turn >= 3) {
                        unseen.add(question);
                    }
                    before = TestRedis.outputBytes(stats);
                    List<Message> window = store.contextWindow(ALL);
                    long spent = TestRedis.outputBytes(stats) - before - infoCost;
                    long json = jsonBytes(unseen);
                    assertThat(spent)
                            .as(
                                    "bytes of window %d, which reads %d messages of %d bytes of JSON",
                                    turn, unseen.size(), json)
                            .isBetween(json, json + 250);
                    assertThat(window).hasSize(2000).isEqualTo(elsewhere.contextWindow(ALL));
                    assertThat(window.get(window.size() - 1)).isEqualTo(question);
                    unseen.clear();
                    if (turn == 2) {
                        unseen.add(elsewhere.add(Message.assistant("answer " + turn + text)));
                    } else {
                        store.add(Message.assistant("answer " + turn + text));
                    }
                }
                store.addAll(users("batch" + text, 0, 3));
                before = TestRedis.outputBytes(stats);
                List<Message> window = store.contextWindow(ALL);
                assertThat(TestRedis.outputBytes(stats) - before - infoCost)
                        .as("bytes of a window after appends of this memory alone")
                        .isBetween(0L, 200L);
                assertThat(window).isEqualTo(elsewhere.contextWindow(ALL));
                assertThat(memory.windowsInFull()).isEqualTo(1);
                assertThat(memory.windowsSince()).isEqualTo(3);
                assertThat(memory.windowsChecked()).isEqualTo(3);
                memory.delete(key);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Deployment.class)
    void appendsOfOtherMemoriesAreSeen(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.none())) {
            MemoryStore theirs = s.other();
            s.store().addAll(users("mine", 0, 40));
            s.window(ALL, Read.FULL);
            theirs.add(Message.user("theirs"));
            s.window(ALL, Read.SINCE);
            s.window(ALL, Read.SINCE);
            s.store().add(Message.user("mine again"));
            theirs.addAll(users("theirs", 0, 3));
            s.window(ALL, Read.SINCE);
            s.window(100, Read.SINCE);
            theirs.addAll(users("many of theirs", 0, 65));
            s.window(ALL, Read.FULL);
            theirs.addAll(users("theirs", 3, 67));
            s.window(ALL, Read.SINCE);
            assertThat(theirs.contextWindow(ALL)).isEqualTo(s.window(ALL, Read.SINCE));
        }
    }

    /** Retention removes the oldest messages: windows still read only what was added, and stay exact. */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void retentionAtTheOldEndByMaxMessagesKeepsWindowsIncremental(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.maxMessages(30))) {
            s.store().addAll(users("first", 0, 40));
            s.window(ALL, Read.FULL);
            for (int i = 0; i < 10; i++) {
                s.store().add(Message.user("next " + i));
                s.window(ALL, Read.SINCE);
            }
            MemoryStore theirs = s.other();
            theirs.addAll(users("theirs", 0, 5));
            s.window(ALL, Read.SINCE);
            s.window(60, Read.SINCE);
            theirs.add(Message.user("theirs again"));
            s.window(60, Read.SINCE);
            theirs.addAll(users("theirs", 5, 25));
            s.window(60, Read.SINCE);
            // Retention removes every message held, the newest too: that cannot be told from a session restored from
            // an older copy (see aSessionRestoredFromAnOlderCopyIsReadAnew), so the window is read in full.
            theirs.addAll(users("theirs", 25, 60));
            s.window(60, Read.FULL);
            s.window(60, Read.SINCE);
            assertThat(s.store().count()).isEqualTo(30);
        }
    }

    @ParameterizedTest
    @EnumSource(Deployment.class)
    void retentionAtTheOldEndByMaxTokensKeepsWindowsIncremental(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.maxTokens(200))) {
            s.store().addAll(users("m", 0, 20)); // 6 tokens each
            s.window(ALL, Read.FULL);
            for (int i = 0; i < 10; i++) {
                s.store().add(Message.user("a longer message " + i)); // 19 tokens
                s.window(ALL, Read.SINCE);
            }
            s.window(50, Read.SINCE);
            for (int i = 0; i < 5; i++) {
                s.store().add(Message.user("more " + i));
                s.window(50, Read.SINCE);
            }
        }
    }

    /**
     * Fills a session held at 8 messages by max-messages: a tool call, three messages, its result and two more (the
     * window read in full), then one more (the window read from the held one).
     */
    private static void fillWithAGroupWhoseResultIsInTheMiddle(Setup s) {
        s.store().add(Message.assistant("calling", List.of(new ToolCall("c1", "lookup", "{}"))));
        s.store().addAll(users("between", 0, 3));
        s.store().add(Message.tool("c1", "the result"));
        s.store().addAll(users("after", 0, 2));
        s.window(ALL, Read.FULL);
        s.store().add(Message.user("fills the session"));
        s.window(ALL, Read.SINCE);
    }

    /**
     * A tool-call group is removed whole: when retention takes the assistant message, its result goes too, from the
     * middle of the held messages; the window is then read in full.
     */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void aGroupRemovedByRetentionTakesItsResultFromTheMiddle(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.maxMessages(8))) {
            fillWithAGroupWhoseResultIsInTheMiddle(s);
            s.other().add(Message.user("overflows it"));
            assertThat(s.store().history()).noneMatch(m -> m.content().equals("the result"));
            s.window(ALL, Read.FULL);
            s.window(ALL, Read.SINCE);
        }
    }

    /**
     * The same removal from the middle by an append of the memory itself: the append's reply names every message
     * retention removed, so the held window stays in use, checked natively.
     */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void anAppendOfThisMemoryThatRemovesAGroupFromTheMiddleKeepsTheWindowHeld(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.maxMessages(8))) {
            fillWithAGroupWhoseResultIsInTheMiddle(s);
            s.store().add(Message.user("overflows it"));
            assertThat(s.store().history()).noneMatch(m -> m.content().equals("the result"));
            s.window(ALL, Read.CHECKED);
            s.store().addAll(users("more", 0, 3));
            s.window(ALL, Read.CHECKED);
            // Only an append brings the held window up to date: a window after a window reads what was added since.
            s.window(ALL, Read.SINCE);
        }
    }

    /**
     * A session deleted by another memory and written again with the same ids, as many messages, the same sequence
     * numbers: only the epoch tells it apart. Then the same after its keys vanish as a TTL expiry removes them, and
     * after this memory clears it.
     */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void aSessionDeletedAndWrittenAgainWithTheSameIdsIsReadAnew(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.none())) {
            List<Message> originals = IntStream.range(0, 12)
                    .mapToObj(i -> Message.builder(Message.USER, "original " + i)
                            .id("id-" + i)
                            .build())
                    .toList();
            s.store().addAll(originals);
            s.window(ALL, Read.FULL);
            s.window(ALL, Read.SINCE);

            MemoryStore theirs = s.other();
            s.full.delete(s.key);
            List<Message> rewritten = theirs.addAll(originals.stream()
                    .map(m -> m.toBuilder().content("rewritten " + m.id()).build())
                    .toList());
            assertThat(rewritten)
                    .extracting(Message::sequence)
                    .containsExactlyElementsOf(
                            IntStream.rangeClosed(1, 12).mapToObj(i -> (long) i).toList());
            assertThat(s.window(ALL, Read.FULL)).allMatch(m -> m.content().startsWith("rewritten"));
            s.window(ALL, Read.SINCE);

            // The keys vanish at once (what a TTL does), and the session is written again.
            s.raw().del(s.keys.toArray(new byte[0][]));
            theirs.addAll(originals.stream()
                    .map(m -> m.toBuilder().content("third " + m.id()).build())
                    .toList());
            assertThat(s.window(ALL, Read.FULL)).allMatch(m -> m.content().startsWith("third"));

            s.store().clear();
            s.store().addAll(originals);
            s.window(ALL, Read.FULL);
            s.window(ALL, Read.SINCE);
        }
    }

    /**
     * Max age with a clock the test moves: messages that expire between windows are dropped by the client with the
     * server's rule (a message is expired when its timestamp is before the cutoff, to the nanosecond); a clock set back
     * shows messages that a held window left out, so that window is read in full; the next write removes the expired
     * messages, at the old end or from the middle.
     */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void expiryByMaxAgeFollowsTheServersRule(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.maxAge(Duration.ofHours(1)))) {
            List<Message> messages = IntStream.range(0, 20)
                    .mapToObj(i -> Message.builder(Message.USER, "at minute " + i)
                            .timestamp(START.plus(Duration.ofMinutes(i)).plusNanos(1000L * i))
                            .build())
                    .toList();
            s.store().addAll(messages);
            s.window(ALL, Read.FULL);
            Instant ts7 = messages.get(7).timestamp();

            s.clock.set(START.plus(Duration.ofMinutes(65)));
            assertThat(s.window(ALL, Read.SINCE)).hasSize(15);
            s.clock.set(ts7.plus(Duration.ofHours(1)));
            assertThat(s.window(ALL, Read.SINCE))
                    .as("the cutoff is minute 7's timestamp")
                    .hasSize(13);
            s.clock.set(ts7.plus(Duration.ofHours(1)).plusNanos(1));
            assertThat(s.window(ALL, Read.SINCE)).as("a nanosecond later").hasSize(12);
            s.window(60, Read.SINCE);
            s.window(ALL, Read.FULL);

            s.clock.set(START.plus(Duration.ofMinutes(62)));
            assertThat(s.window(ALL, Read.FULL))
                    .as("a clock set back shows expired messages again")
                    .hasSize(18);
            s.window(ALL, Read.SINCE);

            s.clock.set(START.plus(Duration.ofMinutes(70)));
            s.store().add(Message.user("now"));
            assertThat(s.store().count())
                    .as("the write removed the expired messages")
                    .isEqualTo(11);
            s.window(ALL, Read.SINCE);

            // A message older than its neighbours: it expires, then is removed, in the middle of the held ones.
            s.store()
                    .add(Message.builder(Message.USER, "backdated")
                            .timestamp(START.plus(Duration.ofMinutes(15)))
                            .build());
            s.store().add(Message.user("newest"));
            s.window(ALL, Read.SINCE);
            s.clock.set(START.plus(Duration.ofMinutes(75)).plusNanos(500));
            assertThat(s.window(ALL, Read.SINCE)).noneMatch(m -> m.content().equals("backdated"));
            s.other().add(Message.user("after"));
            s.window(ALL, Read.FULL);
            s.window(ALL, Read.SINCE);
            // The same by an append of this memory: its reply names the removed message, and the window stays held.
            s.store()
                    .add(Message.builder(Message.USER, "backdated again")
                            .timestamp(START.plus(Duration.ofMinutes(16)))
                            .build());
            s.store().add(Message.user("newest again"));
            s.window(ALL, Read.CHECKED);
            s.clock.set(START.plus(Duration.ofMinutes(76)).plusNanos(500));
            assertThat(s.window(ALL, Read.SINCE)).noneMatch(m -> m.content().equals("backdated again"));
            s.store().add(Message.user("after again"));
            s.window(ALL, Read.CHECKED);
        }
    }

    /** Pinned messages, and the results of pinned calls, come first, whether held or added since. */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void pinnedMessagesAndResultsOfPinnedCallsStayFirst(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.maxMessages(10))) {
            s.store().add(Message.system("be brief"));
            s.store().addAll(users("u", 0, 12));
            s.window(ALL, Read.FULL);
            s.store()
                    .add(Message.builder(Message.USER, "remember this").pinned().build());
            s.window(ALL, Read.SINCE);
            s.store()
                    .add(Message.builder(Message.ASSISTANT, "")
                            .toolCalls(List.of(new ToolCall("p1", "lookup", "{}")))
                            .pinned()
                            .build());
            s.store().addAll(users("v", 0, 3));
            s.window(ALL, Read.SINCE);
            s.store().add(Message.tool("p1", "a pinned result"));
            List<Message> window = s.window(ALL, Read.SINCE);
            assertThat(window.subList(0, 4))
                    .extracting(Message::content)
                    .containsExactly("be brief", "remember this", "", "a pinned result");
            s.store().add(Message.assistant("", List.of(new ToolCall("u1", "lookup", "{}"))));
            s.store().add(Message.tool("u1", "an unpinned result"));
            s.window(ALL, Read.SINCE);
            s.window(70, Read.SINCE);
            s.store().addAll(users("w", 0, 3));
            s.window(70, Read.SINCE);
            s.other().addAll(users("w", 3, 15));
            s.window(70, Read.FULL);
            s.window(ALL, Read.FULL);
            // A window read in full does not tell the session's version, so this memory's append leaves the held
            // window as it is; retention removed every unpinned message it held, the newest too: read in full.
            s.store().addAll(users("x", 0, 12));
            s.window(70, Read.FULL);
            s.store().addAll(users("y", 0, 2));
            s.window(70, Read.SINCE);
            s.store().addAll(users("z", 0, 2));
            s.window(70, Read.CHECKED);
            s.window(ALL, Read.FULL);
            assertThatThrownBy(() -> s.store().contextWindow(30))
                    .isInstanceOf(MemoryException.class)
                    .extracting(e -> ((MemoryException) e).code())
                    .isEqualTo(ErrorCode.CONTEXT_BUDGET_EXCEEDED);
            assertThatThrownBy(() -> s.full.session(s.key).contextWindow(30))
                    .isInstanceOf(MemoryException.class)
                    .extracting(e -> ((MemoryException) e).code())
                    .isEqualTo(ErrorCode.CONTEXT_BUDGET_EXCEEDED);
            s.window(ALL, Read.SINCE);
        }
    }

    /** A smaller budget is served from the held window; a larger one that reaches past it is read in full. */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void budgetsThatShrinkAndGrow(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.none())) {
            s.store().addAll(users("message", 0, 50)); // 12 tokens each
            s.window(ALL, Read.FULL);
            assertThat(s.window(60, Read.SINCE)).hasSize(5);
            assertThat(s.window(ALL, Read.FULL)).hasSize(50);
            s.window(120, Read.SINCE);
            s.store().add(Message.user("x"));
            s.window(37, Read.SINCE);
            s.window(36, Read.SINCE);
            s.window(50, Read.FULL);
            s.window(300, Read.FULL);
            s.window(299, Read.SINCE);
            s.window(1, Read.SINCE);
            java.util.Random random = new java.util.Random(7);
            for (int i = 0; i < 40; i++) {
                if (random.nextInt(3) == 0) {
                    s.store().addAll(users("more", 0, 1 + random.nextInt(3)));
                }
                s.window(1 + random.nextInt(700), Read.ANY);
            }
            assertThat(s.cached.windowsSince()).isGreaterThan(10);
        }
    }

    /**
     * 250 random steps on a session under every kind of retention at once, each window checked against the full read
     * and the shared rule: appends of this memory (plain, batches, backdated, pinned, tool calls and their results,
     * pinned or not) that bring the held window up to date or cannot, appends of another memory, the clock moving
     * past the max age, budgets small and large; with and without an eviction listener (which makes appends that
     * remove messages plan, then commit under a lock).
     */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void randomAppendsOfThisMemoryAndAnotherKeepEveryWindowExact(Deployment deployment) throws Exception {
        Retention retention = Retention.builder()
                .maxMessages(15)
                .maxTokens(260)
                .maxAge(Duration.ofHours(1))
                .build();
        for (EvictionListener listener :
                List.of(EvictionListener.NONE, (EvictionListener) (key, removed, cause) -> {})) {
            try (Setup s = new Setup(deployment, retention, listener)) {
                MemoryStore theirs = s.other();
                java.util.Random random = new java.util.Random(11);
                List<String> openCalls = new ArrayList<>();
                int calls = 0;
                for (int step = 0; step < 250; step++) {
                    MemoryStore store = random.nextInt(5) == 0 ? theirs : s.store();
                    // A third of this memory's single appends ask for the window after them in the same call.
                    boolean withWindow = store != theirs && random.nextInt(3) == 0;
                    int turnBudget = random.nextInt(4) == 0 ? ALL : 40 + random.nextInt(400);
                    java.util.function.Consumer<Message> writer = m -> {
                        if (withWindow) {
                            s.addAndWindow(m, turnBudget);
                        } else {
                            store.add(m);
                        }
                    };
                    int r = random.nextInt(100);
                    if (r < 30) {
                        Message.Builder b = Message.builder(
                                random.nextBoolean() ? Message.USER : Message.ASSISTANT, "step " + step);
                        if (random.nextInt(10) == 0) {
                            b.timestamp(s.clock.instant().minus(Duration.ofMinutes(30 + random.nextInt(60))));
                        }
                        writer.accept(b.build());
                    } else if (r < 40) {
                        store.addAll(users("batch " + step, 0, 1 + random.nextInt(3)));
                    } else if (r < 44) {
                        writer.accept(Message.builder(Message.USER, "pinned " + step)
                                .pinned()
                                .build());
                    } else if (r < 50) {
                        String id = "call" + calls++;
                        Message.Builder b = Message.builder(Message.ASSISTANT, "")
                                .toolCalls(List.of(new ToolCall(id, "lookup", "{}")));
                        if (random.nextInt(3) == 0) {
                            b.pinned();
                        }
                        writer.accept(b.build());
                        openCalls.add(id);
                    } else if (r < 56 && !openCalls.isEmpty()) {
                        writer.accept(
                                Message.tool(openCalls.remove(random.nextInt(openCalls.size())), "result " + step));
                    } else if (r < 60) {
                        s.clock.set(s.clock.instant().plus(Duration.ofMinutes(random.nextInt(25))));
                    } else {
                        int budget = random.nextInt(4) == 0 ? ALL : 40 + random.nextInt(400);
                        List<Message> expected;
                        try {
                            expected = s.full.session(s.key).contextWindow(budget);
                        } catch (MemoryException e) {
                            assertThat(e.code()).isEqualTo(ErrorCode.CONTEXT_BUDGET_EXCEEDED);
                            assertThatThrownBy(() -> s.store().contextWindow(budget))
                                    .isInstanceOf(MemoryException.class)
                                    .extracting(x -> ((MemoryException) x).code())
                                    .isEqualTo(ErrorCode.CONTEXT_BUDGET_EXCEEDED);
                            continue;
                        }
                        assertThat(s.window(budget, Read.ANY))
                                .as("step %d", step)
                                .isEqualTo(expected);
                    }
                }
                assertThat(s.cached.windowsChecked()).isGreaterThan(10);
                assertThat(s.cached.windowsSince()).isGreaterThan(10);
                assertThat(s.cached.windowsFromAppends()).isGreaterThan(5);
            }
        }
    }

    /**
     * A session written before epochs (no "ep" in its hash) is read in full, however often; one such session deleted
     * and written again by such a writer, with the same ids, is seen. The next write of this version gives it an
     * epoch, and windows read only what was added since again.
     */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void aSessionWithoutAnEpochIsReadInFullUntilItsNextWrite(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.none())) {
            UnifiedJedis raw = s.raw();
            byte[] d = s.keys.get(0);
            byte[] ep = "ep".getBytes(StandardCharsets.UTF_8);
            List<Message> originals = IntStream.range(0, 8)
                    .mapToObj(i -> Message.builder(Message.USER, "original " + i)
                            .id("id-" + i)
                            .build())
                    .toList();
            s.store().addAll(originals);
            assertThat(raw.hexists(d, ep)).isTrue();
            raw.hdel(d, ep);
            s.window(ALL, Read.FULL);
            s.window(ALL, Read.FULL);

            raw.del(s.keys.toArray(new byte[0][]));
            s.other()
                    .addAll(originals.stream()
                            .map(m ->
                                    m.toBuilder().content("rewritten " + m.id()).build())
                            .toList());
            raw.hdel(d, ep);
            assertThat(s.window(ALL, Read.FULL)).allMatch(m -> m.content().startsWith("rewritten"));

            s.store().add(Message.user("a write of this version"));
            assertThat(raw.hexists(d, ep)).isTrue();
            s.window(ALL, Read.FULL);
            s.window(ALL, Read.SINCE);
        }
    }

    /** A copy of the session's keys ({@code DUMP}; null for a key that does not exist). */
    private static List<byte[]> copy(UnifiedJedis raw, List<byte[]> keys) {
        List<byte[]> copies = new ArrayList<>();
        for (byte[] k : keys) {
            copies.add(raw.dump(k));
        }
        return copies;
    }

    /** Puts the session's keys back as {@link #copy} found them, as a server that lost its last writes would. */
    private static void putBack(UnifiedJedis raw, List<byte[]> keys, List<byte[]> copies) {
        for (int i = 0; i < keys.size(); i++) {
            if (copies.get(i) == null) {
                raw.del(keys.get(i));
            } else {
                raw.restore(
                        keys.get(i),
                        0,
                        copies.get(i),
                        RestoreParams.restoreParams().replace());
            }
        }
    }

    /**
     * The session's keys put back as they were before the last append (a server that lost its last write), then
     * another message appended under the lost one's sequence number: the held window is not used.
     */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void aSessionRestoredFromAnOlderCopyIsReadAnew(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.none())) {
            UnifiedJedis raw = s.raw();
            s.store().addAll(users("kept", 0, 10));
            List<byte[]> copies = copy(raw, s.keys);
            Message lost = s.store().add(Message.user("lost"));
            s.window(ALL, Read.FULL);
            putBack(raw, s.keys, copies);
            Message instead = s.store().add(Message.user("instead"));
            assertThat(instead.sequence()).isEqualTo(lost.sequence());
            List<Message> window = s.window(ALL, Read.FULL);
            assertThat(window).contains(instead).doesNotContain(lost);
        }
    }

    /**
     * A session restored from a copy older than its two newest messages, {@code a} and {@code x}; another memory then
     * stores {@code b}, which gets {@code a}'s number, and a retry stores {@code x} again under its old number. Epoch,
     * last sequence number, counts and the number under {@code x}'s id are all the held window's; only the stamp of
     * {@code x}'s number is another. Each way the held window learns its newest message: this memory's own appends
     * (then a window checked natively), and another memory's appends read as added since, or read in full.
     */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void aRestoreWhoseNewestHeldMessageARetryStoredAgainIsReadAnew(Deployment deployment) throws Exception {
        for (Read learnt : new Read[] {Read.CHECKED, Read.SINCE, Read.FULL}) {
            try (Setup s = new Setup(deployment, Retention.none())) {
                UnifiedJedis raw = s.raw();
                s.store().addAll(users("kept", 0, 10));
                if (learnt != Read.FULL) {
                    s.window(ALL, Read.FULL);
                    s.store().add(Message.user("seen"));
                    s.window(ALL, Read.SINCE);
                }
                List<byte[]> copies = copy(raw, s.keys);
                MemoryStore writer = learnt == Read.CHECKED ? s.store() : s.other();
                Message a = writer.add(Message.user("a"));
                Message x = writer.add(Message.user("x"));
                s.window(ALL, learnt);
                putBack(raw, s.keys, copies);
                Message b = s.other().add(Message.user("b"));
                assertThat(b.sequence()).isEqualTo(a.sequence());
                assertThat(s.other().add(x).sequence()).isEqualTo(x.sequence());
                assertThat(s.window(ALL, Read.FULL))
                        .as("newest message learnt from a window read %s", learnt)
                        .contains(b, x)
                        .doesNotContain(a);
            }
        }
    }

    /**
     * A session restored from an older copy, then written by another memory, then by this one: the append must not
     * take the session for the held one brought up to date. With versions counted up, the other memory's write would
     * have given the session the very version the held window had (with another message under the same sequence
     * number); a version is drawn from a random tag instead.
     */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void anAppendAfterARestoreAndAnotherWriteDoesNotBringTheHeldWindowUpToDate(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.none())) {
            UnifiedJedis raw = s.raw();
            s.store().addAll(users("kept", 0, 10));
            s.window(ALL, Read.FULL);
            s.store().add(Message.user("seen"));
            s.window(ALL, Read.SINCE);
            List<byte[]> copies = copy(raw, s.keys);
            Message lost = s.store().add(Message.user("lost"));
            s.window(ALL, Read.CHECKED);
            putBack(raw, s.keys, copies);
            Message theirs = s.other().add(Message.user("theirs"));
            assertThat(theirs.sequence()).isEqualTo(lost.sequence());
            Message mine = s.store().add(Message.user("mine"));
            assertThat(s.window(ALL, Read.FULL)).contains(theirs, mine).doesNotContain(lost);
            s.store().add(Message.user("next"));
            s.window(ALL, Read.SINCE);
            s.store().add(Message.user("and next"));
            s.window(ALL, Read.CHECKED);
        }
    }

    /**
     * A client that runs the next committing call of the append script a second time with the same arguments, as a
     * client's retry after a lost reply does (Jedis on a cluster retries a command after a connection error), and
     * runs {@link #between} before the second run.
     */
    private static final class RetryingClient extends UnifiedJedis {
        Runnable between;

        RetryingClient(HostAndPort node) {
            super(new PooledConnectionProvider(node), (RedisProtocol) null);
        }

        @Override
        public Object evalsha(byte[] sha, List<byte[]> keys, List<byte[]> args) {
            Object reply = super.evalsha(sha, keys, args);
            Runnable hook = between;
            if (hook != null && Arrays.equals(args.get(0), bytes("c"))) {
                between = null;
                hook.run();
                return super.evalsha(sha, keys, args);
            }
            return reply;
        }
    }

    /**
     * An append run twice with the same arguments: the first run's retention removed two of its own messages, so the
     * second run, whose ids are new again, commits another state. The version it leaves must differ from the first
     * run's, which a window read between the runs holds: else the next append of this memory would take that window
     * for the session before it.
     */
    @Test
    void anAppendRunTwiceByARetryLeavesAnotherVersion() {
        URI url = URI.create(TestRedis.url());
        MutableClock clock = new MutableClock(START);
        MemoryContext context =
                new MemoryContext(clock, new TckTokenCounter(), Retention.maxMessages(2), EvictionListener.NONE);
        RedisSettings settings = RedisSettings.builder()
                .node(url.getHost(), url.getPort())
                .keyPrefix(PREFIX)
                .build();
        RetryingClient client = new RetryingClient(new HostAndPort(url.getHost(), url.getPort()));
        SessionKey key = SessionKey.of("acme", "retry-" + UUID.randomUUID());
        try (RedisMemory memory = RedisMemory.open(client, settings, context);
                RedisMemory full = RedisMemory.open(
                        RedisSettings.builder()
                                .node(url.getHost(), url.getPort())
                                .keyPrefix(PREFIX)
                                .windowCache(0)
                                .build(),
                        context)) {
            MemoryStore store = memory.session(key);
            store.addAll(users("first", 0, 2));
            store.contextWindow(ALL);
            byte[] d = new RedisKeys(PREFIX).session(key).get(0);
            List<List<Message>> between = new ArrayList<>();
            List<String> versions = new ArrayList<>();
            client.between = () -> {
                between.add(store.contextWindow(ALL));
                between.add(store.contextWindow(ALL));
                versions.add(client.hget(new String(d, StandardCharsets.UTF_8), "ver"));
            };
            store.addAll(users("batch", 0, 4));
            assertThat(between.get(1)).extracting(Message::content).containsExactly("batch 002", "batch 003");
            assertThat(client.hget(new String(d, StandardCharsets.UTF_8), "ver"))
                    .as("the version after the second run")
                    .isNotNull()
                    .isNotEqualTo(versions.get(0));
            assertThat(full.session(key).contextWindow(ALL))
                    .extracting(Message::content)
                    .containsExactly("batch 000", "batch 001");
            store.add(Message.user("next"));
            assertThat(store.contextWindow(ALL)).extracting(Message::content).containsExactly("batch 001", "next");
            assertThat(store.contextWindow(ALL)).isEqualTo(full.session(key).contextWindow(ALL));
            full.delete(key);
        }
    }

    /**
     * A writer of the previous release counts the session's version up ({@code tonumber(ver) + 1} in its script): the
     * versions this one writes must stay numbers it can count up, and its writes are seen as another writer's.
     */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void versionsStayNumbersThatAWriterOfThePreviousReleaseCountsUp(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.none())) {
            UnifiedJedis raw = s.raw();
            s.store().addAll(users("m", 0, 5));
            s.window(ALL, Read.FULL);
            s.store().add(Message.user("next"));
            s.window(ALL, Read.SINCE);
            s.store().add(Message.user("again"));
            Object counted = raw.eval(
                    "local v = tonumber(redis.call('HGET', KEYS[1], 'ver')) + 1 redis.call('HSET', KEYS[1], 'ver', v)"
                            + " return tostring(v)",
                    List.of(new String(s.keys.get(0), StandardCharsets.UTF_8)),
                    List.of());
            assertThat(counted).isNotNull();
            s.window(ALL, Read.SINCE);
            s.store().add(Message.user("and again"));
            s.window(ALL, Read.CHECKED);
        }
    }

    /** Messages another client removes from the keys directly, a pinned one and one in the middle, are seen. */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void messagesRemovedBehindTheBackendsBackAreSeen(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.none())) {
            UnifiedJedis raw = s.raw();
            Message system = s.store().add(Message.system("be brief"));
            List<Message> stored = s.store().addAll(users("u", 0, 20));
            s.window(ALL, Read.FULL);
            removeDirectly(raw, s.keys, system, s.keys.get(2));
            assertThat(s.window(ALL, Read.FULL)).doesNotContain(system);
            s.window(ALL, Read.SINCE);
            Message middle = stored.get(10);
            removeDirectly(raw, s.keys, middle, s.keys.get(1));
            raw.zrem(s.keys.get(3), bytes(middle.sequence()));
            raw.hincrBy(s.keys.get(0), bytes("n"), -1);
            raw.hincrBy(
                    s.keys.get(0),
                    bytes("tok"),
                    -middle.tokenCount().orElseThrow().tokens());
            assertThat(s.window(ALL, Read.FULL)).doesNotContain(middle).hasSize(19);
            s.window(ALL, Read.SINCE);
            // After an append of this memory, which brought the held window up to date: the check's counts see it.
            s.store().add(Message.user("after"));
            Message another = stored.get(5);
            removeDirectly(raw, s.keys, another, s.keys.get(1));
            raw.zrem(s.keys.get(3), bytes(another.sequence()));
            raw.hincrBy(s.keys.get(0), bytes("n"), -1);
            raw.hincrBy(
                    s.keys.get(0),
                    bytes("tok"),
                    -another.tokenCount().orElseThrow().tokens());
            assertThat(s.window(ALL, Read.FULL)).doesNotContain(another).hasSize(19);
            s.store().add(Message.user("after again"));
            Message pinned = s.store()
                    .add(Message.builder(Message.USER, "pinned").pinned().build());
            s.window(ALL, Read.SINCE);
            s.store().add(Message.user("and again"));
            removeDirectly(raw, s.keys, pinned, s.keys.get(2));
            assertThat(s.window(ALL, Read.FULL)).doesNotContain(pinned);
        }
    }

    /** Removes a message from m, its header and id from d, and its member from {@code index} (u or p). */
    private static void removeDirectly(UnifiedJedis raw, List<byte[]> keys, Message m, byte[] index) {
        double seq = m.sequence();
        List<byte[]> member = raw.zrange(index, ZRangeParams.zrangeByScoreParams(seq, seq));
        assertThat(member).hasSize(1);
        raw.zrem(index, member.get(0));
        raw.zremrangeByScore(keys.get(4), seq, seq);
        raw.hdel(keys.get(0), bytes("h:" + m.sequence()), bytes("i:" + m.id()));
    }

    private static byte[] bytes(Object o) {
        return String.valueOf(o).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Three memories (as three processes) append to one session held at 100 messages by max-messages, while a fourth
     * reads whole windows: every window is a run of consecutive sequence numbers, each message the one stored under
     * its id, and the last window is the full read's.
     */
    @ParameterizedTest
    @EnumSource(Deployment.class)
    void windowsStayExactWhileOtherMemoriesAppend(Deployment deployment) throws Exception {
        try (Setup s = new Setup(deployment, Retention.maxMessages(100))) {
            Map<String, Message> written = new ConcurrentHashMap<>();
            s.store().addAll(users("start", 0, 100)).forEach(m -> written.put(m.id(), m));
            List<MemoryStore> writers = List.of(s.other(), s.other(), s.other());
            AtomicBoolean done = new AtomicBoolean();
            List<List<Message>> windows = Collections.synchronizedList(new ArrayList<>());
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                Future<?> reader = pool.submit(() -> {
                    while (!done.get()) {
                        List<Message> window = s.store().contextWindow(ALL);
                        if (windows.size() < 500) {
                            windows.add(window);
                        }
                    }
                });
                List<Future<?>> futures = new ArrayList<>();
                for (int w = 0; w < writers.size(); w++) {
                    MemoryStore writer = writers.get(w);
                    int id = w;
                    futures.add(pool.submit(() -> {
                        for (int n = 0; n < 150; n++) {
                            Message m = writer.add(Message.user("writer " + id + " message " + n));
                            written.put(m.id(), m);
                        }
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
                done.set(true);
                reader.get();
            } finally {
                pool.shutdownNow();
            }
            assertThat(windows).isNotEmpty();
            for (List<Message> window : windows) {
                assertThat(window).isNotEmpty().hasSizeLessThanOrEqualTo(100);
                for (int i = 1; i < window.size(); i++) {
                    assertThat(window.get(i).sequence())
                            .as("consecutive sequence numbers")
                            .isEqualTo(window.get(i - 1).sequence() + 1);
                }
                for (Message m : window) {
                    assertThat(m).isEqualTo(written.get(m.id()));
                }
            }
            assertThat(s.cached.windowsSince()).isPositive();
            s.window(ALL, Read.ANY);
            s.window(ALL, Read.SINCE);
        }
    }
}
