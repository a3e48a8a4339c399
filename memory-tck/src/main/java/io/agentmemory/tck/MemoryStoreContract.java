package io.agentmemory.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.agentmemory.Added;
import io.agentmemory.Capability;
import io.agentmemory.ErrorCode;
import io.agentmemory.HistoryQuery;
import io.agentmemory.InvalidInputException;
import io.agentmemory.Memory;
import io.agentmemory.MemoryException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.TokenCount;
import io.agentmemory.ToolCall;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.RecordingEvictionListener.Event;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link Memory} obeys, as JUnit 5 tests. A backend's conformance run is a subclass that says how
 * to build the memory:
 *
 * <pre>{@code
 * class MyMemoryContractTest extends MemoryStoreContract {
 *     @Override
 *     protected Memory createMemory(MemoryContext context) {
 *         return MyMemory.create(context);
 *     }
 * }
 * }</pre>
 *
 * <p>The kit builds every {@link MemoryContext} itself, with a {@link MutableClock}, the {@link TckTokenCounter} and a
 * {@link RecordingEvictionListener}, and closes every memory it created after each test, after deleting the sessions
 * the test wrote. Every test writes under its own random tenant, so the kit can run against shared servers that hold
 * other data. Optional features are checked both ways: a declared {@link Capability} must work, an undeclared one must
 * be rejected with {@link ErrorCode#UNSUPPORTED} (retention settings may also be rejected with
 * {@link ErrorCode#CONFIGURATION} when the memory is created).
 *
 * <p>Tests that draw random data print their seed on failure; set the system property {@value #SEED_PROPERTY} to
 * replay one. Not thread-safe: JUnit makes one instance per test.
 */
public abstract class MemoryStoreContract {
    /** System property that fixes the seed of the randomized tests. */
    public static final String SEED_PROPERTY = "agentmemory.tck.seed";

    /** The instant the kit's clock shows when each test starts. */
    protected static final Instant START = Instant.parse("2030-01-01T00:00:00Z");

    /** Appears in the content of messages whose content must never show up in an exception message. */
    private static final String MARKER = "Zq7-secret-marker";

    private final MutableClock clock = new MutableClock(START);
    private final TckTokenCounter tokenCounter = new TckTokenCounter();
    private final RecordingEvictionListener listener = new RecordingEvictionListener();
    private final String tenant = "tck-" + UUID.randomUUID();
    private final List<Memory> memories = new ArrayList<>();
    private final Set<SessionKey> written = new LinkedHashSet<>();
    private int sessions;

    /**
     * A new memory built with {@code context}. Called once or more per test; the kit closes every memory it gets.
     * Memories made in one test may share their data (a persistent backend) or not.
     */
    protected abstract Memory createMemory(MemoryContext context);

    /** How many messages each of the 8 writer threads of the concurrency test appends; lower it for slow backends. */
    protected int appendsPerWriter() {
        return 5000;
    }

    // ----------------------------------------------------------------------------------------------------------------
    // Fixtures available to the tests.

    /** The clock of every context the kit builds in the current test. */
    protected final MutableClock clock() {
        return clock;
    }

    /** The eviction listener of every context the kit builds in the current test. */
    protected final RecordingEvictionListener listener() {
        return listener;
    }

    /** The random tenant of the current test. */
    protected final String tenant() {
        return tenant;
    }

    /** The context the kit builds memories with. */
    protected final MemoryContext context(Retention retention) {
        return new MemoryContext(clock, tokenCounter, retention, listener);
    }

    /** A new memory without retention, closed after the test. */
    protected final Memory newMemory() {
        return newMemory(Retention.none());
    }

    /** A new memory enforcing {@code retention}, closed after the test. */
    protected final Memory newMemory(Retention retention) {
        Memory memory = Objects.requireNonNull(createMemory(context(retention)), "createMemory returned null");
        memories.add(memory);
        return memory;
    }

    /** A new session key under the test's tenant. */
    protected final SessionKey newKey() {
        return key(tenant, "session-" + ++sessions, "");
    }

    /** The key, remembered so that its messages are deleted after the test. */
    protected final SessionKey key(String tenant, String session, String scope) {
        return track(new SessionKey(tenant, session, scope));
    }

    /** Remembers {@code key} so that its messages are deleted after the test; returns it. */
    protected final SessionKey track(SessionKey key) {
        written.add(key);
        return key;
    }

    /** The store of a new session of a new memory. */
    protected final MemoryStore newStore() {
        return newMemory().session(newKey());
    }

    @AfterEach
    final void deleteAndClose() {
        listener.stopFailing();
        AssertionError failure = null;
        for (Memory memory : memories) {
            try {
                for (SessionKey key : written) {
                    memory.delete(key);
                }
            } catch (MemoryException e) {
                if (e.code() != ErrorCode.CLOSED) {
                    failure = addFailure(failure, "deleting the test's sessions failed", e);
                }
            } catch (RuntimeException e) {
                failure = addFailure(failure, "deleting the test's sessions failed", e);
            }
            try {
                memory.close();
            } catch (RuntimeException e) {
                failure = addFailure(failure, "close() failed (it must be idempotent)", e);
            }
        }
        memories.clear();
        if (failure != null) {
            throw failure;
        }
    }

    private static AssertionError addFailure(AssertionError failure, String what, Throwable cause) {
        if (failure == null) {
            return new AssertionError(what, cause);
        }
        failure.addSuppressed(cause);
        return failure;
    }

    // ----------------------------------------------------------------------------------------------------------------
    // Helpers.

    /** The message as it was before the store assigned its sequence and token count. */
    static Message unstored(Message m) {
        return m.toBuilder().sequence(0).tokenCount(null).build();
    }

    /** A text of exactly {@code length} characters starting with {@code label}. */
    static String text(String label, int length) {
        StringBuilder sb = new StringBuilder(label.length() > length ? label.substring(0, length) : label);
        while (sb.length() < length) {
            sb.append('.');
        }
        return sb.toString();
    }

    /** A user message costing exactly {@code tokens} tokens by the kit's counter. */
    static Message userOf(String label, int tokens) {
        return Message.user(text(label, tokens - 1));
    }

    /** A pinned user message costing exactly {@code tokens} tokens. */
    static Message pinnedOf(String label, int tokens) {
        return Message.builder(Message.USER, text(label, tokens - 1)).pinned().build();
    }

    /** A system message costing exactly {@code tokens} tokens. */
    static Message systemOf(String label, int tokens) {
        return Message.system(text(label, tokens - 1));
    }

    /** An assistant message calling the tools {@code callIds}, costing exactly {@code tokens} tokens. */
    static Message assistantCalling(int tokens, String... callIds) {
        List<ToolCall> calls = Arrays.stream(callIds)
                .map(id -> new ToolCall(id, "lookup", "{\"q\":\"" + id + "\"}"))
                .toList();
        return Message.assistant(text("calls", tokens - 1 - TckTokenCounter.PER_TOOL_CALL * callIds.length), calls);
    }

    /** A tool message answering {@code callId}, costing exactly {@code tokens} tokens. */
    static Message toolOf(String callId, int tokens) {
        return Message.tool(callId, text("result " + callId, tokens - 1));
    }

    /**
     * A random conversation of at least {@code size} messages: system, pinned, user and assistant messages, assistant
     * messages calling tools and most of their results (in any order), orphan tool results.
     */
    static List<Message> randomConversation(Random random, int size) {
        List<Message> messages = new ArrayList<>();
        int calls = 0;
        while (messages.size() < size) {
            int kind = random.nextInt(20);
            if (kind < 2) {
                messages.add(systemOf("s", 1 + random.nextInt(8)));
            } else if (kind < 4) {
                messages.add(pinnedOf("p", 1 + random.nextInt(8)));
            } else if (kind < 7) {
                int n = 1 + random.nextInt(3);
                String[] ids = new String[n];
                for (int i = 0; i < n; i++) {
                    ids[i] = "call-" + ++calls;
                }
                messages.add(assistantCalling(1 + 3 * n + random.nextInt(10), ids));
                List<String> answered = new ArrayList<>(Arrays.asList(ids));
                Collections.shuffle(answered, random);
                for (String id : answered) {
                    if (random.nextInt(5) > 0) {
                        messages.add(toolOf(id, 1 + random.nextInt(10)));
                    }
                }
            } else if (kind < 8) {
                messages.add(toolOf("orphan-" + ++calls, 1 + random.nextInt(5)));
            } else {
                messages.add(
                        random.nextBoolean()
                                ? userOf("u", 1 + random.nextInt(20))
                                : Message.assistant(text("a", random.nextInt(20))));
            }
        }
        return messages;
    }

    static List<Message> addEach(MemoryStore store, List<Message> messages) {
        List<Message> stored = new ArrayList<>();
        for (Message m : messages) {
            stored.add(store.add(m));
        }
        return stored;
    }

    /** Adds "Message 0" .. "Message n-1" one by one. */
    static List<Message> addNumbered(MemoryStore store, int n) {
        return addEach(
                store,
                IntStream.range(0, n)
                        .mapToObj(i -> Message.user("Message " + i))
                        .toList());
    }

    static List<Long> sequences(List<Message> messages) {
        return messages.stream().map(Message::sequence).toList();
    }

    static List<String> contents(List<Message> messages) {
        return messages.stream().map(Message::content).toList();
    }

    static int tokens(List<Message> messages) {
        return messages.stream().mapToInt(Reference::tokens).sum();
    }

    /** The exception {@code call} throws, which must be a {@link MemoryException}. */
    static MemoryException failure(ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        if (thrown == null) {
            throw new AssertionError("expected a MemoryException, but the call returned normally");
        }
        assertThat(thrown).as("the call must throw a MemoryException").isInstanceOf(MemoryException.class);
        return (MemoryException) thrown;
    }

    /** Checks that {@code call} throws a {@link MemoryException} with {@code code}. */
    static MemoryException assertFails(ErrorCode code, ThrowingCallable call) {
        MemoryException e = failure(call);
        assertThat(e.code()).as("code of %s", e).isEqualTo(code);
        return e;
    }

    /** Checks that {@code call} throws an {@link InvalidInputException} with {@code code}. */
    static InvalidInputException assertInvalid(ErrorCode code, ThrowingCallable call) {
        MemoryException e = assertFails(code, call);
        assertThat(e).as("rejected input").isInstanceOf(InvalidInputException.class);
        return (InvalidInputException) e;
    }

    /** What a reader sees of a session. */
    record Snapshot(List<Message> history, long count) {}

    static Snapshot snapshot(MemoryStore store) {
        return new Snapshot(store.history(), store.count());
    }

    static void assertUnchanged(Snapshot before, MemoryStore store) {
        assertThat(store.history()).as("history after a rejected call").isEqualTo(before.history());
        assertThat(store.count()).as("count after a rejected call").isEqualTo(before.count());
    }

    /** Checks the listener calls about {@code key}: never empty, chronological, no message reported twice. */
    final void assertEventsWellFormed(SessionKey key) {
        Set<String> seen = new HashSet<>();
        for (Event event : listener.events(key)) {
            assertThat(event.messages())
                    .as("a listener call (%s)", event.cause())
                    .isNotEmpty();
            assertThat(sequences(event.messages()))
                    .as("messages of one listener call are chronological")
                    .isSorted()
                    .doesNotHaveDuplicates();
            for (Message m : event.messages()) {
                assertThat(seen.add(m.id())).as("%s reported more than once", m).isTrue();
            }
        }
    }

    final long seed() {
        Long fixed = Long.getLong(SEED_PROPERTY);
        return fixed != null ? fixed : new SecureRandom().nextLong();
    }

    static String replay(long seed) {
        return "seed " + seed + " (replay with -D" + SEED_PROPERTY + "=" + seed + ")";
    }

    /**
     * A memory enforcing {@code retention} when the backend declares {@code needed}; otherwise checks that creating
     * one is rejected with {@link ErrorCode#UNSUPPORTED} or {@link ErrorCode#CONFIGURATION} and returns empty.
     */
    final Optional<Memory> memoryEnforcing(Retention retention, Capability... needed) {
        Set<Capability> declared = newMemory().capabilities();
        if (declared.containsAll(List.of(needed))) {
            return Optional.of(newMemory(retention));
        }
        MemoryException e = failure(() -> newMemory(retention));
        assertThat(e.code())
                .as("a memory declaring %s must reject %s", declared, retention)
                .isIn(ErrorCode.UNSUPPORTED, ErrorCode.CONFIGURATION);
        return Optional.empty();
    }

    /** Whether {@code store} of {@code memory} answers queries using {@code capability}; else checks the refusal. */
    static boolean supportsOrRejects(Memory memory, MemoryStore store, Capability capability, HistoryQuery query) {
        if (memory.capabilities().contains(capability)) {
            return true;
        }
        assertFails(ErrorCode.UNSUPPORTED, () -> store.history(query));
        return false;
    }

    static Instant minute(int i) {
        return START.plus(Duration.ofMinutes(i));
    }

    // ================================================================================================================

    /** Ids, sequence numbers, token counts and the exact round trip of every field. */
    @Nested
    public class OrderAndIds {
        @Test
        void addReturnsTheStoredMessageWithSequenceAndTokenCount() {
            MemoryStore store = newStore();
            Message m = Message.builder(Message.USER, "hello").build();
            Message stored = store.add(m);
            assertThat(stored.sequence()).isEqualTo(1);
            assertThat(stored.tokenCount()).contains(new TokenCount(6, TckTokenCounter.ID));
            assertThat(unstored(stored)).isEqualTo(m);
            assertThat(store.history()).containsExactly(stored);
            assertThat(store.count()).isEqualTo(1);
        }

        @Test
        void callerGivenIdIsKept() {
            MemoryStore store = newStore();
            String id = "caller/../*{id}'\"%_\\ " + UUID.randomUUID();
            Message stored = store.add(Message.builder(Message.USER, "x").id(id).build());
            assertThat(stored.id()).isEqualTo(id);
            assertThat(store.history()).extracting(Message::id).containsExactly(id);
        }

        @Test
        void absentIdIsAUuidVersion7() {
            MemoryStore store = newStore();
            Message m = Message.user("no id given");
            Message stored = store.add(m);
            assertThat(stored.id()).isEqualTo(m.id());
            UUID uuid = UUID.fromString(stored.id());
            assertThat(uuid.version()).isEqualTo(7);
            assertThat(uuid.variant()).isEqualTo(2);
        }

        @Test
        void sequencesStartAtOneAndIncreaseByOne() {
            MemoryStore store = newStore();
            List<Message> stored = new ArrayList<>(addNumbered(store, 5));
            stored.addAll(store.addAll(IntStream.range(5, 10)
                    .mapToObj(i -> Message.user("Message " + i))
                    .toList()));
            stored.addAll(addEach(
                    store,
                    IntStream.range(10, 15)
                            .mapToObj(i -> Message.user("Message " + i))
                            .toList()));
            assertThat(sequences(stored))
                    .containsExactlyElementsOf(
                            IntStream.rangeClosed(1, 15).mapToObj(i -> (long) i).toList());
            assertThat(store.history()).containsExactlyElementsOf(stored);
            assertThat(contents(store.history()))
                    .containsExactlyElementsOf(
                            IntStream.range(0, 15).mapToObj(i -> "Message " + i).toList());
        }

        @Test
        void theStoreAssignsTheSequenceAndRecountsForeignTokenCounts() {
            MemoryStore store = newStore();
            Message m = Message.builder(Message.USER, "four")
                    .sequence(77)
                    .tokenCount(new TokenCount(999, "some-other-counter"))
                    .build();
            Message stored = store.add(m);
            assertThat(stored.sequence()).isEqualTo(1);
            assertThat(stored.tokenCount()).contains(new TokenCount(5, TckTokenCounter.ID));
            assertThat(store.history()).containsExactly(stored);
        }

        @Test
        void tokenCountsIncludeToolCalls() {
            MemoryStore store = newStore();
            Message stored = store.add(assistantCalling(20, "c1", "c2"));
            assertThat(stored.tokenCount()).contains(new TokenCount(20, TckTokenCounter.ID));
            assertThat(stored.content()).hasSize(20 - 1 - 6);
        }

        @Test
        void addAllIsConsecutiveAndInOrder() {
            MemoryStore store = newStore();
            List<Message> first = addNumbered(store, 2);
            List<Message> batch = IntStream.range(0, 5)
                    .mapToObj(i -> Message.user("batch " + i))
                    .toList();
            List<Message> stored = store.addAll(batch);
            assertThat(sequences(stored)).containsExactly(3L, 4L, 5L, 6L, 7L);
            assertThat(stored.stream().map(MemoryStoreContract::unstored).toList())
                    .containsExactlyElementsOf(batch);
            List<Message> expected = new ArrayList<>(first);
            expected.addAll(stored);
            assertThat(store.history()).containsExactlyElementsOf(expected);
        }

        @Test
        void addAllOfNothingStoresNothing() {
            MemoryStore store = newStore();
            assertThat(store.addAll(List.of())).isEmpty();
            assertThat(store.count()).isZero();
            assertThat(store.add(Message.user("first")).sequence()).isEqualTo(1);
        }

        @Test
        void addAllWithAnInvalidMessageInTheMiddleStoresNothing() {
            MemoryStore store = newStore();
            addNumbered(store, 3);
            Snapshot before = snapshot(store);
            List<Message> batch = Arrays.asList(Message.user("a"), null, Message.user("b"));
            assertInvalid(ErrorCode.INVALID_MESSAGE, () -> store.addAll(batch));
            assertUnchanged(before, store);
            assertThat(store.add(Message.user("next")).sequence())
                    .as("a rejected batch uses no sequence number")
                    .isEqualTo(4);
        }

        @Test
        void everyFieldRoundTripsExactly() {
            MemoryStore store = newStore();
            Instant ts = Instant.parse("2031-02-03T04:05:06.123456789Z");
            Map<String, Object> metadata = new LinkedHashMap<>();
            metadata.put("topic", "billing");
            metadata.put("nested", Map.of("list", List.of(1, 2.5, "x", true, List.of(), Map.of())));
            Message custom = Message.builder("critic", "content with\nnewlines, \"quotes\" and \\ backslashes")
                    .id("round-trip-" + UUID.randomUUID())
                    .timestamp(ts)
                    .metadata(metadata)
                    .build();
            Message calling = Message.builder(Message.ASSISTANT, "calling two tools")
                    .toolCalls(List.of(
                            new ToolCall("call_1", "search", "{ \"q\" : \"x\",\n  \"n\": 1.50 }"),
                            new ToolCall("call_2", "broken tool", "not json {")))
                    .timestamp(ts.plusNanos(1))
                    .metadata("k", "v")
                    .build();
            Message result = Message.builder(Message.TOOL, "result one")
                    .toolCallId("call_1")
                    .timestamp(ts.plusSeconds(1))
                    .build();
            Message emptyResult = Message.builder(Message.TOOL, "")
                    .toolCallId("call_2")
                    .timestamp(ts.plusSeconds(2))
                    .build();
            Message system = Message.builder(Message.SYSTEM, "be brief")
                    .timestamp(Instant.parse("1969-12-31T23:59:59.999999999Z"))
                    .build();
            List<Message> input = List.of(custom, calling, result, emptyResult, system);
            List<Message> stored = addEach(store, input);
            List<Message> history = store.history();
            assertThat(history).containsExactlyElementsOf(stored);
            for (int i = 0; i < input.size(); i++) {
                Message in = input.get(i);
                Message out = history.get(i);
                assertThat(out.id()).as("id %d", i).isEqualTo(in.id());
                assertThat(out.role()).as("role %d", i).isEqualTo(in.role());
                assertThat(out.content()).as("content %d", i).isEqualTo(in.content());
                assertThat(out.timestamp()).as("timestamp %d", i).isEqualTo(in.timestamp());
                assertThat(out.metadata()).as("metadata %d", i).isEqualTo(in.metadata());
                assertThat(out.toolCalls()).as("tool calls %d", i).isEqualTo(in.toolCalls());
                assertThat(out.toolCallId()).as("tool call id %d", i).isEqualTo(in.toolCallId());
                assertThat(unstored(out)).as("message %d", i).isEqualTo(in);
            }
            assertThat(history.get(1).tokenCount())
                    .contains(new TokenCount("calling two tools".length() + 1 + 6, TckTokenCounter.ID));
        }

        @Test
        void metadataValuesKeepTheirJsonTypes() {
            MemoryStore store = newStore();
            Map<String, Object> md = new LinkedHashMap<>();
            md.put("long", 1);
            md.put("double", 1.0);
            md.put("fraction", 0.1);
            md.put("decimal", new BigDecimal("1.50"));
            md.put("big", new BigInteger("123456789012345678901234567890"));
            md.put("max", Long.MAX_VALUE);
            md.put("min", Long.MIN_VALUE);
            md.put("huge", 1.0e300);
            md.put("tiny", 1.0e-300);
            md.put("yes", true);
            md.put("no", false);
            md.put("empty", "");
            md.put("emptyList", List.of());
            md.put("emptyMap", Map.of());
            md.put("nested", Map.of("a", List.of(1, 2.5, "x", List.of(List.of()), Map.of("b", false))));
            md.put("weird key . $ / \" ' {}", "v");
            md.put("", "empty key");
            Message m = Message.builder(Message.USER, "typed").metadata(md).build();
            Message stored = store.add(m);
            Message read = store.history().get(0);
            assertThat(read).isEqualTo(stored);
            assertThat(read.metadata()).isEqualTo(m.metadata());
            assertThat(read.metadata().get("long")).isInstanceOf(Long.class);
            assertThat(read.metadata().get("double")).isInstanceOf(Double.class);
            assertThat(read.metadata().get("big")).isInstanceOf(BigInteger.class);
            assertThat(read.metadata().get("decimal")).isEqualTo(1.5);
        }

        @Test
        void retryingAnAppendWithTheSameIdIsIdempotent() {
            MemoryStore store = newStore();
            Message m = Message.builder(Message.USER, "once")
                    .id("retry-" + UUID.randomUUID())
                    .build();
            Message first = store.add(m);
            Message second = store.add(m);
            assertThat(store.count()).isEqualTo(1);
            assertThat(store.history()).containsExactly(first);
            assertThat(second).isEqualTo(first);
        }

        @Test
        void retryingAnAppendUnderRetentionIsIdempotentAndRemovesNothingMore() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxMessages(3), Capability.MAX_MESSAGES);
            if (memory.isEmpty()) {
                return;
            }
            MemoryStore store = memory.get().session(newKey());
            List<Message> all = addNumbered(store, 4);
            Message newest = all.get(3);
            assertThat(store.add(newest)).isEqualTo(newest);
            assertThat(store.count()).isEqualTo(3);
            assertThat(store.history()).containsExactlyElementsOf(all.subList(1, 4));
            Message next = store.add(Message.user("next"));
            assertThat(next.sequence()).isEqualTo(newest.sequence() + 1);
            assertThat(store.history()).containsExactly(all.get(2), all.get(3), next);
        }

        @Test
        void concurrentAppendsOfOneMessageStoreItOnce() throws Exception {
            int writers = 6;
            MemoryStore store = newStore();
            store.add(Message.user("before"));
            ExecutorService pool = Executors.newFixedThreadPool(writers);
            try {
                for (int round = 0; round < 10; round++) {
                    Message m = Message.builder(Message.USER, "round " + round)
                            .id("same-" + UUID.randomUUID())
                            .build();
                    CountDownLatch start = new CountDownLatch(1);
                    List<Future<Message>> results = new ArrayList<>();
                    for (int w = 0; w < writers; w++) {
                        results.add(pool.submit(() -> {
                            start.await();
                            return store.add(m);
                        }));
                    }
                    start.countDown();
                    Message first = results.get(0).get(30, TimeUnit.SECONDS);
                    for (Future<Message> result : results) {
                        assertThat(result.get(30, TimeUnit.SECONDS)).isEqualTo(first);
                    }
                    assertThat(store.count()).isEqualTo(round + 2);
                    assertThat(store.history(HistoryQuery.newest(1))).containsExactly(first);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    // ================================================================================================================

    /** History queries: limit and offset from the newest, filters, declared and undeclared filter capabilities. */
    @Nested
    public class History {
        @Test
        void emptySessionHasNoHistory() {
            MemoryStore store = newStore();
            assertThat(store.history()).isEmpty();
            assertThat(store.history(HistoryQuery.newest(5))).isEmpty();
            assertThat(store.count()).isZero();
        }

        @Test
        void limitCountsBackFromTheNewest() {
            MemoryStore store = newStore();
            List<Message> all = addNumbered(store, 10);
            assertThat(store.history(HistoryQuery.newest(3))).containsExactlyElementsOf(all.subList(7, 10));
            assertThat(store.history(HistoryQuery.newest(1))).containsExactly(all.get(9));
            assertThat(store.history(HistoryQuery.newest(10))).containsExactlyElementsOf(all);
            assertThat(store.history(HistoryQuery.newest(25))).containsExactlyElementsOf(all);
        }

        @Test
        void offsetSkipsTheNewest() {
            MemoryStore store = newStore();
            List<Message> all = addNumbered(store, 10);
            assertThat(store.history(HistoryQuery.builder().offset(2).limit(3).build()))
                    .containsExactlyElementsOf(all.subList(5, 8));
            assertThat(store.history(HistoryQuery.builder().offset(3).build()))
                    .containsExactlyElementsOf(all.subList(0, 7));
            assertThat(store.history(HistoryQuery.builder().offset(9).limit(5).build()))
                    .containsExactly(all.get(0));
        }

        @Test
        void limitZeroReturnsNothing() {
            MemoryStore store = newStore();
            addNumbered(store, 4);
            assertThat(store.history(HistoryQuery.newest(0))).isEmpty();
            assertThat(store.history(HistoryQuery.builder().offset(1).limit(0).build()))
                    .isEmpty();
        }

        @Test
        void offsetAtOrPastTheEndReturnsNothing() {
            MemoryStore store = newStore();
            addNumbered(store, 10);
            assertThat(store.history(HistoryQuery.builder().offset(10).build())).isEmpty();
            assertThat(store.history(HistoryQuery.builder().offset(11).limit(1).build()))
                    .isEmpty();
            assertThat(store.history(
                            HistoryQuery.builder().offset(Integer.MAX_VALUE).build()))
                    .isEmpty();
        }

        @Test
        void rolesFilterThenOffsetAndLimitFromTheNewestMatch() {
            MemoryStore store = newStore();
            String[] roles = {Message.USER, Message.ASSISTANT, "critic"};
            List<Message> all = addEach(
                    store,
                    IntStream.range(0, 12)
                            .mapToObj(
                                    i -> Message.builder(roles[i % 3], "m" + i).build())
                            .toList());
            assertThat(store.history(HistoryQuery.builder().roles("user").build()))
                    .containsExactly(all.get(0), all.get(3), all.get(6), all.get(9));
            assertThat(store.history(HistoryQuery.builder()
                            .roles("user")
                            .offset(1)
                            .limit(2)
                            .build()))
                    .containsExactly(all.get(3), all.get(6));
            assertThat(store.history(HistoryQuery.builder()
                            .roles("user", "critic")
                            .limit(3)
                            .build()))
                    .containsExactly(all.get(8), all.get(9), all.get(11));
            assertThat(store.history(HistoryQuery.builder().roles("nobody").build()))
                    .isEmpty();
        }

        @Test
        void metadataFilterComparesJsonValues() {
            Memory memory = newMemory();
            MemoryStore store = memory.session(newKey());
            List<Map<String, Object>> metadata = List.of(
                    Map.of("n", 1),
                    Map.of("n", 1.0),
                    Map.of("n", 2),
                    Map.of("n", "1"),
                    Map.of("nested", Map.of("a", List.of(1, "x", true))),
                    Map.of("nested", Map.of("a", List.of(1.0, "x", true))),
                    Map.of("nested", Map.of("a", List.of("x", 1, true))),
                    Map.of("n", 1, "topic", "billing"),
                    Map.of("flag", true),
                    Map.of("flag", "true"),
                    Map.of(),
                    Map.of("nested", Map.of("a", List.of(1, "x", true), "extra", 1)));
            List<Message> all = addEach(
                    store,
                    IntStream.range(0, metadata.size())
                            .mapToObj(i -> Message.builder(Message.USER, "m" + i)
                                    .metadata(metadata.get(i))
                                    .build())
                            .toList());
            if (!supportsOrRejects(
                    memory,
                    store,
                    Capability.METADATA_FILTER,
                    HistoryQuery.builder().metadata("n", 1).build())) {
                return;
            }
            assertThat(query(store, "n", 1)).containsExactly(all.get(0), all.get(1), all.get(7));
            assertThat(query(store, "n", 1.0)).containsExactly(all.get(0), all.get(1), all.get(7));
            assertThat(query(store, "n", new BigDecimal("1.00"))).containsExactly(all.get(0), all.get(1), all.get(7));
            assertThat(query(store, "n", "1")).containsExactly(all.get(3));
            assertThat(query(store, "nested", Map.of("a", List.of(1, "x", true))))
                    .containsExactly(all.get(4), all.get(5));
            assertThat(query(store, "nested", Map.of("a", List.of(1.0, "x", true))))
                    .containsExactly(all.get(4), all.get(5));
            assertThat(query(store, "flag", true)).containsExactly(all.get(8));
            assertThat(query(store, "flag", "true")).containsExactly(all.get(9));
            assertThat(query(store, "missing", 1)).isEmpty();
            assertThat(store.history(HistoryQuery.builder()
                            .metadata(Map.of("n", 1, "topic", "billing"))
                            .build()))
                    .containsExactly(all.get(7));
            assertThat(store.history(HistoryQuery.builder()
                            .metadata("n", 1)
                            .offset(1)
                            .limit(1)
                            .build()))
                    .containsExactly(all.get(1));
        }

        private List<Message> query(MemoryStore store, String key, Object value) {
            return store.history(HistoryQuery.builder().metadata(key, value).build());
        }

        @Test
        void timeRangeIsInclusiveAtBothEnds() {
            Memory memory = newMemory();
            MemoryStore store = memory.session(newKey());
            List<Message> all = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                all.add(store.add(Message.builder(Message.USER, "m" + i)
                        .timestamp(minute(i))
                        .build()));
            }
            all.add(store.add(Message.builder(Message.USER, "same time as m9")
                    .timestamp(minute(9))
                    .build()));
            if (!supportsOrRejects(
                    memory,
                    store,
                    Capability.TIME_RANGE_FILTER,
                    HistoryQuery.builder().between(minute(2), minute(5)).build())) {
                return;
            }
            assertThat(range(store, minute(2), minute(5))).containsExactlyElementsOf(all.subList(2, 6));
            assertThat(range(store, minute(3), minute(3))).containsExactly(all.get(3));
            assertThat(range(store, minute(7), null)).containsExactlyElementsOf(all.subList(7, 11));
            assertThat(range(store, null, minute(1))).containsExactlyElementsOf(all.subList(0, 2));
            assertThat(range(store, minute(2).plusNanos(1), minute(3).minusNanos(1)))
                    .isEmpty();
            assertThat(range(store, minute(2), minute(5).minusNanos(1))).containsExactlyElementsOf(all.subList(2, 5));
            assertThat(range(store, minute(2).minusNanos(1), minute(5).plusNanos(1)))
                    .containsExactlyElementsOf(all.subList(2, 6));
            assertThat(store.history(HistoryQuery.builder()
                            .between(minute(2), minute(8))
                            .offset(2)
                            .limit(3)
                            .build()))
                    .containsExactlyElementsOf(all.subList(4, 7));
        }

        private List<Message> range(MemoryStore store, Instant from, Instant to) {
            return store.history(HistoryQuery.builder().between(from, to).build());
        }

        @Test
        void allFiltersCombineBeforeOffsetAndLimit() {
            Memory memory = newMemory();
            MemoryStore store = memory.session(newKey());
            String[] topics = {"a", "b", "c"};
            List<Message> all = addEach(
                    store,
                    IntStream.range(0, 30)
                            .mapToObj(i -> Message.builder(i % 2 == 0 ? Message.USER : Message.ASSISTANT, "m" + i)
                                    .metadata("topic", topics[i % 3])
                                    .timestamp(minute(i))
                                    .build())
                            .toList());
            HistoryQuery query = HistoryQuery.builder()
                    .roles(Message.USER)
                    .metadata("topic", "a")
                    .between(minute(2), minute(25))
                    .offset(1)
                    .limit(2)
                    .build();
            boolean metadata = memory.capabilities().contains(Capability.METADATA_FILTER);
            boolean time = memory.capabilities().contains(Capability.TIME_RANGE_FILTER);
            if (!metadata || !time) {
                assertFails(ErrorCode.UNSUPPORTED, () -> store.history(query));
                return;
            }
            assertThat(store.history(query)).containsExactly(all.get(12), all.get(18));
            assertThat(store.history(query)).containsExactlyElementsOf(Reference.history(all, query));
        }

        @Test
        void declaredFiltersWorkAndUndeclaredOnesAreRejected() {
            Memory memory = newMemory();
            MemoryStore store = memory.session(newKey());
            List<Message> all = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                all.add(store.add(Message.builder(Message.USER, "m" + i)
                        .metadata("k", i % 2 == 0 ? "even" : "odd")
                        .timestamp(minute(i))
                        .build()));
            }
            Set<Capability> declared = memory.capabilities();
            List<HistoryQuery> metadataQueries = List.of(
                    HistoryQuery.builder().metadata("k", "even").build(),
                    HistoryQuery.builder().metadata("k", "odd").limit(1).build());
            List<HistoryQuery> timeQueries = List.of(
                    HistoryQuery.builder().from(minute(2)).build(),
                    HistoryQuery.builder().to(minute(2)).build(),
                    HistoryQuery.builder()
                            .between(minute(1), minute(4))
                            .offset(1)
                            .build());
            for (HistoryQuery q : metadataQueries) {
                check(store, all, q, declared.contains(Capability.METADATA_FILTER));
            }
            for (HistoryQuery q : timeQueries) {
                check(store, all, q, declared.contains(Capability.TIME_RANGE_FILTER));
            }
            HistoryQuery roles =
                    HistoryQuery.builder().roles(Message.USER).limit(2).build();
            check(store, all, roles, true);
        }

        private void check(MemoryStore store, List<Message> all, HistoryQuery query, boolean declared) {
            if (declared) {
                assertThat(store.history(query))
                        .as("%s", query)
                        .containsExactlyElementsOf(Reference.history(all, query));
            } else {
                assertFails(ErrorCode.UNSUPPORTED, () -> store.history(query));
            }
        }

        @Test
        void randomQueriesMatchTheReference() {
            long seed = seed();
            Random random = new Random(seed);
            Memory memory = newMemory();
            MemoryStore store = memory.session(newKey());
            boolean metadata = memory.capabilities().contains(Capability.METADATA_FILTER);
            boolean time = memory.capabilities().contains(Capability.TIME_RANGE_FILTER);
            String[] roles = {Message.USER, Message.ASSISTANT, Message.SYSTEM, "critic"};
            String[] topics = {"a", "b", "c"};
            List<Message> batch = new ArrayList<>();
            int minute = 0;
            for (int i = 0; i < 40; i++) {
                minute += random.nextInt(3);
                int n = random.nextInt(4);
                batch.add(Message.builder(roles[random.nextInt(roles.length)], "m" + i)
                        .metadata("topic", topics[random.nextInt(topics.length)])
                        .metadata("n", random.nextBoolean() ? (Object) n : (Object) (double) n)
                        .timestamp(minute(minute))
                        .build());
            }
            List<Message> all = store.addAll(batch);
            for (int q = 0; q < 200; q++) {
                HistoryQuery.Builder b = HistoryQuery.builder();
                if (random.nextInt(3) == 0) {
                    b.roles(roles[random.nextInt(roles.length)]);
                    if (random.nextBoolean()) {
                        b.roles(roles[random.nextInt(roles.length)]);
                    }
                }
                if (metadata && random.nextInt(3) == 0) {
                    b.metadata("topic", topics[random.nextInt(topics.length)]);
                }
                if (metadata && random.nextInt(3) == 0) {
                    int n = random.nextInt(4);
                    b.metadata("n", random.nextBoolean() ? (Object) n : (Object) (double) n);
                }
                if (time && random.nextInt(3) == 0) {
                    int from = random.nextInt(minute + 2) - 1;
                    int to = from + random.nextInt(minute + 2);
                    b.between(random.nextBoolean() ? minute(from) : null, random.nextBoolean() ? minute(to) : null);
                }
                if (random.nextBoolean()) {
                    b.offset(random.nextInt(45));
                }
                if (random.nextBoolean()) {
                    b.limit(random.nextInt(45));
                }
                HistoryQuery query = b.build();
                assertThat(store.history(query))
                        .as("%s with %s", query, replay(seed))
                        .containsExactlyElementsOf(Reference.history(all, query));
            }
        }
    }

    // ================================================================================================================

    /** Context windows: budget, pinned messages, tool-call pairing. */
    @Nested
    public class ContextWindow {
        @Test
        void newestMessagesThatFitInChronologicalOrder() {
            MemoryStore store = newStore();
            List<Message> all = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                all.add(store.add(userOf("m" + i, 10)));
            }
            assertThat(store.contextWindow(35)).containsExactlyElementsOf(all.subList(7, 10));
            assertThat(store.contextWindow(1000)).containsExactlyElementsOf(all);
        }

        @Test
        void aWindowThatAddsUpToTheBudgetExactlyIsIncluded() {
            MemoryStore store = newStore();
            List<Message> all = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                all.add(store.add(userOf("m" + i, 10)));
            }
            assertThat(store.contextWindow(30)).containsExactlyElementsOf(all.subList(7, 10));
            assertThat(store.contextWindow(29)).containsExactlyElementsOf(all.subList(8, 10));
            assertThat(store.contextWindow(10)).containsExactly(all.get(9));
            assertThat(store.contextWindow(9)).isEmpty();
            assertThat(store.contextWindow(100)).containsExactlyElementsOf(all);
        }

        @Test
        void stopsAtTheFirstMessageThatDoesNotFit() {
            MemoryStore store = newStore();
            List<Message> all =
                    addEach(store, List.of(userOf("old", 10), userOf("big", 50), userOf("m2", 10), userOf("m3", 10)));
            assertThat(store.contextWindow(45))
                    .as("the oldest message would fit but the window has no holes")
                    .containsExactly(all.get(2), all.get(3));
            assertThat(store.contextWindow(80)).containsExactlyElementsOf(all);
            assertThat(store.contextWindow(79)).containsExactlyElementsOf(all.subList(1, 4));
        }

        @Test
        void emptySessionHasAnEmptyWindow() {
            assertThat(newStore().contextWindow(100)).isEmpty();
        }

        @Test
        void pinnedMessagesComeFirstInChronologicalOrderEvenIfOld() {
            MemoryStore store = newStore();
            Message system = store.add(systemOf("rules", 10));
            List<Message> users = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                users.add(store.add(userOf("u" + i, 10)));
            }
            Message pinned = store.add(pinnedOf("pinned fact", 10));
            for (int i = 3; i < 8; i++) {
                users.add(store.add(userOf("u" + i, 10)));
            }
            assertThat(store.contextWindow(50))
                    .containsExactly(system, pinned, users.get(5), users.get(6), users.get(7));
            assertThat(store.contextWindow(49)).containsExactly(system, pinned, users.get(6), users.get(7));
            assertThat(store.contextWindow(20)).containsExactly(system, pinned);
        }

        @Test
        void pinnedMessagesAfterNewerOnesStillComeFirst() {
            MemoryStore store = newStore();
            Message u0 = store.add(userOf("u0", 10));
            Message u1 = store.add(userOf("u1", 10));
            Message lateSystem = store.add(systemOf("late rules", 5));
            assertThat(store.contextWindow(25)).containsExactly(lateSystem, u0, u1);
            assertThat(store.contextWindow(24)).containsExactly(lateSystem, u1);
        }

        @Test
        void pinnedAloneOverTheBudgetIsRejected() {
            MemoryStore store = newStore();
            store.add(Message.system(text(MARKER, 29)));
            store.add(pinnedOf(MARKER + " pinned", 11));
            store.add(userOf("u", 5));
            Snapshot before = snapshot(store);
            InvalidInputException e = assertInvalid(ErrorCode.CONTEXT_BUDGET_EXCEEDED, () -> store.contextWindow(40));
            assertThat(e.getMessage()).doesNotContain(MARKER);
            List<Message> pinned = before.history().subList(0, 2);
            assertThat(store.contextWindow(41)).containsExactlyElementsOf(pinned);
            assertThat(store.contextWindow(45)).containsExactlyElementsOf(pinned);
            assertThat(store.contextWindow(46)).containsExactlyElementsOf(before.history());
            assertUnchanged(before, store);
        }

        @Test
        void pinnedMustBeTheBooleanTrue() {
            MemoryStore store = newStore();
            Message notPinned = store.add(Message.builder(Message.USER, text("string true", 9))
                    .metadata(Message.PINNED, "true")
                    .build());
            Message u = store.add(userOf("u", 10));
            assertThat(store.contextWindow(10)).containsExactly(u);
            assertThat(store.contextWindow(20)).containsExactly(notPinned, u);
        }

        @Test
        void aBudgetBelowOneIsRejected() {
            MemoryStore store = newStore();
            store.add(userOf("u", 10));
            for (int budget : new int[] {0, -1, Integer.MIN_VALUE}) {
                assertInvalid(ErrorCode.INVALID_QUERY, () -> store.contextWindow(budget));
            }
        }

        @Test
        void aToolResultNeverAppearsWithoutItsAssistantMessage() {
            MemoryStore store = newStore();
            List<Message> all = addEach(
                    store,
                    List.of(
                            userOf("question", 10),
                            assistantCalling(20, "c1", "c2"),
                            toolOf("c1", 10),
                            toolOf("c2", 10),
                            userOf("thanks", 10)));
            Message last = all.get(4);
            assertThat(store.contextWindow(30))
                    .as("both tool results fit but their assistant message does not")
                    .containsExactly(last);
            assertThat(store.contextWindow(49)).containsExactly(last);
            assertThat(store.contextWindow(50)).containsExactlyElementsOf(all.subList(1, 5));
            assertThat(store.contextWindow(59)).containsExactlyElementsOf(all.subList(1, 5));
            assertThat(store.contextWindow(60)).containsExactlyElementsOf(all);
        }

        @Test
        void aToolGroupThatDoesNotFitEndsTheWindow() {
            MemoryStore store = newStore();
            List<Message> all = addEach(
                    store,
                    List.of(userOf("small", 2), assistantCalling(20, "c1"), toolOf("c1", 10), userOf("last", 10)));
            assertThat(store.contextWindow(39))
                    .as("the group does not fit: the older small message must not be taken either")
                    .containsExactly(all.get(3));
            assertThat(store.contextWindow(40)).containsExactlyElementsOf(all.subList(1, 4));
            assertThat(store.contextWindow(42)).containsExactlyElementsOf(all);
        }

        @Test
        void anAssistantMessageComesWithTheResultsThatAreStored() {
            MemoryStore store = newStore();
            List<Message> all =
                    addEach(store, List.of(assistantCalling(20, "c1", "c2"), toolOf("c2", 10), userOf("u", 10)));
            assertThat(store.contextWindow(40)).containsExactlyElementsOf(all);
            assertThat(store.contextWindow(39)).containsExactly(all.get(2));
        }

        @Test
        void orphanToolResultsNeverAppear() {
            MemoryStore store = newStore();
            List<Message> all = addEach(
                    store,
                    List.of(
                            toolOf("gone", 5),
                            userOf("u0", 10),
                            assistantCalling(10, "c1"),
                            toolOf("c1", 5),
                            toolOf("nobody-called-this", 5),
                            userOf("u1", 10)));
            List<Message> window = store.contextWindow(1000);
            assertThat(window).containsExactly(all.get(1), all.get(2), all.get(3), all.get(5));
            assertWindowInvariants(all, window, 1000);
        }

        @Test
        void aPinnedAssistantMessageComesWithItsToolResults() {
            MemoryStore store = newStore();
            Message calling = Message.builder(Message.ASSISTANT, text("pinned call", 6))
                    .toolCalls(List.of(new ToolCall("p1", "lookup", "{}")))
                    .pinned()
                    .build();
            List<Message> all = addEach(store, List.of(calling, toolOf("p1", 10), userOf("u0", 10), userOf("u1", 10)));
            assertThat(tokens(all.subList(0, 2))).isEqualTo(20);
            assertThat(store.contextWindow(30)).containsExactly(all.get(0), all.get(1), all.get(3));
            assertThat(store.contextWindow(20)).containsExactly(all.get(0), all.get(1));
            assertInvalid(ErrorCode.CONTEXT_BUDGET_EXCEEDED, () -> store.contextWindow(19));
        }

        /**
         * A tool message is pinned with the assistant message it answers, the newest before it that made its call: a
         * call id that a later, unpinned reply makes again (some model servers number every reply's calls from 0)
         * does not pin that reply's results, and an unpinned reply's call made again by a pinned message does. The
         * same whether the messages come one by one, in one batch, or in a batch after some of them are stored.
         */
        @Test
        void aToolMessageIsPinnedOnlyWhenTheMessageItAnswersIs() {
            List<Message> conversation = List.of(
                    assistantCalling(10, "call_0").toBuilder().pinned().build(),
                    toolOf("call_0", 10),
                    assistantCalling(10, "call_0"),
                    toolOf("call_0", 5),
                    userOf("u", 10),
                    assistantCalling(10, "call_1"),
                    assistantCalling(10, "call_1").toBuilder().pinned().build(),
                    toolOf("call_1", 4));
            for (int split : new int[] {-1, 0, 3}) {
                MemoryStore store = newStore();
                List<Message> all = new ArrayList<>();
                if (split < 0) {
                    all.addAll(addEach(store, conversation));
                } else {
                    all.addAll(addEach(store, conversation.subList(0, split)));
                    all.addAll(store.addAll(conversation.subList(split, conversation.size())));
                }
                List<Message> pinned = List.of(all.get(0), all.get(1), all.get(6), all.get(7));
                int pinnedTokens = tokens(pinned);
                String how = split < 0 ? "one by one" : "a batch after " + split;
                assertThat(store.contextWindow(pinnedTokens)).as(how).containsExactlyElementsOf(pinned);
                assertInvalid(ErrorCode.CONTEXT_BUDGET_EXCEEDED, () -> store.contextWindow(pinnedTokens - 1));
                int unpinnedTokens = tokens(List.of(all.get(2), all.get(3), all.get(4), all.get(5)));
                List<Message> everything = new ArrayList<>(pinned);
                everything.addAll(List.of(all.get(2), all.get(3), all.get(4), all.get(5)));
                assertThat(store.contextWindow(pinnedTokens + unpinnedTokens))
                        .as(how)
                        .containsExactlyElementsOf(everything);
                List<Message> withoutTheFirstGroup = new ArrayList<>(pinned);
                withoutTheFirstGroup.addAll(List.of(all.get(4), all.get(5)));
                assertThat(store.contextWindow(pinnedTokens + unpinnedTokens - 1))
                        .as("%s: the unpinned group goes whole", how)
                        .containsExactlyElementsOf(withoutTheFirstGroup);
            }
        }

        @Test
        void theWindowDoesNotChangeTheHistory() {
            MemoryStore store = newStore();
            store.add(systemOf("rules", 10));
            for (int i = 0; i < 10; i++) {
                store.add(userOf("u" + i, 10));
            }
            Snapshot before = snapshot(store);
            store.contextWindow(15);
            store.contextWindow(35);
            store.contextWindow(1000);
            assertUnchanged(before, store);
            assertThat(listener.events()).isEmpty();
        }

        @Test
        void randomWindowsMatchTheReference() {
            long seed = seed();
            Random random = new Random(seed);
            Memory memory = newMemory();
            for (int session = 0; session < 25; session++) {
                MemoryStore store = memory.session(newKey());
                List<Message> batch = randomConversation(random, 5 + random.nextInt(25));
                List<Message> all = random.nextBoolean() ? store.addAll(batch) : addEach(store, batch);
                int total = tokens(all);
                long pinned = all.stream()
                        .filter(Message::isPinned)
                        .mapToLong(Reference::tokens)
                        .sum();
                for (int k = 0; k < 12; k++) {
                    int budget = (int) Math.max(1, pinned - 2 + random.nextInt(total - (int) pinned + 8));
                    Optional<List<Message>> expected = Reference.window(all, budget);
                    if (expected.isEmpty()) {
                        assertInvalid(ErrorCode.CONTEXT_BUDGET_EXCEEDED, () -> store.contextWindow(budget));
                        continue;
                    }
                    List<Message> window = store.contextWindow(budget);
                    assertThat(window)
                            .as("window(%d) of %s with %s", budget, all, replay(seed))
                            .containsExactlyElementsOf(expected.get());
                    assertWindowInvariants(all, window, budget);
                }
            }
        }

        /** Rules every window obeys, whatever the conversation. */
        private void assertWindowInvariants(List<Message> stored, List<Message> window, int budget) {
            assertThat(tokens(window)).as("window tokens").isLessThanOrEqualTo(budget);
            assertThat(window).doesNotHaveDuplicates();
            assertThat(stored).containsAll(window);
            Set<String> callsInWindow = new HashSet<>();
            for (Message m : window) {
                m.toolCalls().forEach(c -> callsInWindow.add(c.id()));
            }
            for (Message m : window) {
                if (m.isToolResult()) {
                    assertThat(callsInWindow)
                            .as("the assistant message calling %s is in the window", m)
                            .contains(m.toolCallId().orElseThrow());
                }
            }
            for (Message m : stored) {
                if (m.isToolResult() && callsInWindow.contains(m.toolCallId().orElseThrow())) {
                    assertThat(window)
                            .as("the tool result %s of a windowed call", m)
                            .contains(m);
                }
                if (m.isPinned()) {
                    assertThat(window).as("pinned %s", m).contains(m);
                }
            }
        }
    }

    // ================================================================================================================

    /** {@code addAndWindow}: the message as stored and the window after it, checked like {@code add} and windows. */
    @Nested
    public class AddAndWindow {
        @Test
        void returnsTheStoredMessageAndTheWindowAfterIt() {
            MemoryStore store = newStore();
            Message system = store.add(systemOf("rules", 10));
            List<Message> users = addEach(store, List.of(userOf("u0", 10), userOf("u1", 10), userOf("u2", 10)));
            Added added = store.addAndWindow(userOf("new", 10), 40);
            List<Message> history = store.history();
            assertThat(added.message()).isEqualTo(history.get(history.size() - 1));
            assertThat(added.message().sequence()).isEqualTo(5);
            assertThat(added.message().tokenCount().orElseThrow().tokens()).isEqualTo(10);
            assertThat(added.window()).containsExactly(system, users.get(1), users.get(2), added.message());
            assertThat(added.window()).isEqualTo(store.contextWindow(40));
            assertThatThrownBy(() -> added.window().add(system)).isInstanceOf(UnsupportedOperationException.class);
        }

        @Test
        void theFirstMessageOfASessionMakesItsWholeWindow() {
            MemoryStore store = newStore();
            Added added = store.addAndWindow(userOf("hello", 10), 100);
            assertThat(added.window()).containsExactly(added.message());
            assertThat(store.history()).containsExactly(added.message());
        }

        @Test
        void aMessageThatDoesNotFitIsStoredButNotInTheWindow() {
            MemoryStore store = newStore();
            Message small = store.add(userOf("small", 5));
            Added added = store.addAndWindow(userOf("big", 50), 20);
            assertThat(added.window()).isEmpty();
            assertThat(store.history()).containsExactly(small, added.message());
        }

        @Test
        void aKnownIdStoresNothingAndReturnsTheStoredMessage() {
            MemoryStore store = newStore();
            Message first = store.add(userOf("first", 10));
            store.add(userOf("second", 10));
            Snapshot before = snapshot(store);
            Added again = store.addAndWindow(
                    unstored(first).toBuilder().content("changed").build(), 100);
            assertThat(again.message()).isEqualTo(first);
            assertThat(again.window()).containsExactlyElementsOf(before.history());
            assertUnchanged(before, store);
        }

        @Test
        void badArgumentsWriteNothing() {
            MemoryStore store = newStore();
            store.add(userOf("u", 10));
            Snapshot before = snapshot(store);
            assertInvalid(ErrorCode.INVALID_MESSAGE, () -> store.addAndWindow(null, 100));
            for (int budget : new int[] {0, -1, Integer.MIN_VALUE}) {
                assertInvalid(ErrorCode.INVALID_QUERY, () -> store.addAndWindow(userOf(MARKER, 10), budget));
            }
            assertUnchanged(before, store);
            assertThat(listener.events()).isEmpty();
        }

        @Test
        void pinnedOverTheBudgetStoresTheMessageAndSaysSo() {
            MemoryStore store = newStore();
            store.add(Message.system(text(MARKER, 29)));
            Message message = userOf(MARKER + " user", 10);
            InvalidInputException e =
                    assertInvalid(ErrorCode.CONTEXT_BUDGET_EXCEEDED, () -> store.addAndWindow(message, 20));
            assertThat(e.getMessage()).doesNotContain(MARKER).contains("stored");
            List<Message> history = store.history();
            assertThat(history).hasSize(2);
            assertThat(unstored(history.get(1))).isEqualTo(message);
            assertInvalid(ErrorCode.CONTEXT_BUDGET_EXCEEDED, () -> store.addAndWindow(message, 20));
            assertThat(store.history()).as("a retry stores nothing twice").isEqualTo(history);
            assertThat(store.addAndWindow(message, 40).window()).containsExactlyElementsOf(history);
        }

        @Test
        void randomTurnsMatchTheReference() {
            long seed = seed();
            Random random = new Random(seed);
            List<Retention> retentions = new ArrayList<>();
            retentions.add(Retention.none());
            for (Retention retention : List.of(Retention.maxMessages(9), Retention.maxTokens(80))) {
                Capability needed =
                        retention.maxMessages().isPresent() ? Capability.MAX_MESSAGES : Capability.MAX_TOKENS;
                if (newMemory().capabilities().contains(needed)) {
                    retentions.add(retention);
                }
            }
            for (Retention retention : retentions) {
                Memory memory = newMemory(retention);
                for (int session = 0; session < 4; session++) {
                    MemoryStore store = memory.session(newKey());
                    List<Message> conversation = randomConversation(random, 40);
                    int i = 0;
                    while (i < conversation.size()) {
                        int way = random.nextInt(6);
                        if (way == 0) {
                            int n = Math.min(conversation.size() - i, 1 + random.nextInt(3));
                            store.addAll(conversation.subList(i, i + n));
                            i += n;
                            continue;
                        }
                        if (way == 1) {
                            store.add(conversation.get(i++));
                            continue;
                        }
                        Message message = conversation.get(i++);
                        int budget = 1 + random.nextInt(120);
                        String as = "addAndWindow(" + budget + ") of message " + (i - 1) + " under " + retention
                                + " with " + replay(seed);
                        Added added;
                        try {
                            added = store.addAndWindow(message, budget);
                        } catch (InvalidInputException e) {
                            assertThat(e.code()).as(as).isEqualTo(ErrorCode.CONTEXT_BUDGET_EXCEEDED);
                            assertThat(e.getMessage()).as(as).contains("stored");
                            assertThat(Reference.window(store.history(), budget))
                                    .as(as)
                                    .isEmpty();
                            assertThat(store.history()).as(as).anyMatch(m -> m.id().equals(message.id()));
                            continue;
                        }
                        List<Message> history = store.history();
                        assertThat(unstored(added.message())).as(as).isEqualTo(message);
                        assertThat(history).as(as).contains(added.message()).isNotEmpty();
                        assertThat(added.window())
                                .as(as)
                                .containsExactlyElementsOf(
                                        Reference.window(history, budget).orElseThrow());
                        assertThat(store.contextWindow(budget)).as(as).isEqualTo(added.window());
                    }
                }
            }
        }

        @Test
        void concurrentTurnsEachSeeTheirOwnMessageAndEverythingBefore() throws Exception {
            int perWriter = Math.min(40, appendsPerWriter());
            int writers = 4;
            MemoryStore store = newStore();
            ExecutorService pool = Executors.newFixedThreadPool(writers);
            CountDownLatch start = new CountDownLatch(1);
            try {
                List<Future<List<Added>>> futures = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    int writer = w;
                    futures.add(pool.submit(() -> {
                        start.await();
                        List<Added> turns = new ArrayList<>();
                        for (int n = 0; n < perWriter; n++) {
                            turns.add(store.addAndWindow(Message.user("w" + writer + " n" + n), Integer.MAX_VALUE));
                        }
                        return turns;
                    }));
                }
                start.countDown();
                List<List<Added>> byWriter = new ArrayList<>();
                for (Future<List<Added>> f : futures) {
                    byWriter.add(f.get(5, TimeUnit.MINUTES));
                }
                // Nothing is ever removed here, so each window must be the final history up to the window's newest
                // message: every message stored before it, whoever wrote it, and nothing out of order.
                List<Message> history = store.history();
                assertThat(history).hasSize(writers * perWriter);
                for (int w = 0; w < writers; w++) {
                    Set<Message> mine = new HashSet<>();
                    for (int n = 0; n < perWriter; n++) {
                        Added added = byWriter.get(w).get(n);
                        mine.add(added.message());
                        List<Message> window = added.window();
                        assertThat(history).as("writer %d turn %d", w, n).contains(added.message());
                        assertThat(window).as("writer %d turn %d", w, n).isNotEmpty();
                        int end = history.indexOf(window.get(window.size() - 1));
                        assertThat(window)
                                .as("writer %d turn %d: the history up to the window's newest message", w, n)
                                .containsExactlyElementsOf(history.subList(0, end + 1));
                        assertThat(window).as("writer %d turn %d", w, n).containsAll(mine);
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    // ================================================================================================================

    /**
     * Retention: each policy when its capability is declared, its rejection when not; eviction reports; listener
     * failures; clear.
     */
    @Nested
    public class RetentionRules {
        @Test
        void retentionCapabilitiesAreHonouredBothWays() {
            Map<Capability, Retention> retentions = new LinkedHashMap<>();
            retentions.put(Capability.MAX_MESSAGES, Retention.maxMessages(5));
            retentions.put(Capability.MAX_TOKENS, Retention.maxTokens(100));
            retentions.put(Capability.MAX_AGE, Retention.maxAge(Duration.ofHours(1)));
            retentions.put(
                    Capability.OVERFLOW, Retention.builder().overflow(10, 0.5).build());
            Set<Capability> declared = newMemory().capabilities();
            for (Map.Entry<Capability, Retention> e : retentions.entrySet()) {
                if (declared.contains(e.getKey())) {
                    Memory memory = newMemory(e.getValue());
                    assertThat(memory.session(newKey()).add(Message.user("x")).sequence())
                            .isEqualTo(1);
                } else {
                    MemoryException failure = failure(() -> newMemory(e.getValue()));
                    assertThat(failure.code())
                            .as("creating a memory with undeclared %s", e.getKey())
                            .isIn(ErrorCode.UNSUPPORTED, ErrorCode.CONFIGURATION);
                }
            }
        }

        @Test
        void maxMessagesKeepsTheNewest() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxMessages(5), Capability.MAX_MESSAGES);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            List<Message> all = addNumbered(store, 10);
            List<Message> history = store.history();
            assertThat(history).hasSize(5);
            assertThat(history.get(history.size() - 1).content()).isEqualTo("Message 9");
            assertThat(history).containsExactlyElementsOf(all.subList(5, 10));
            assertThat(sequences(history)).containsExactly(6L, 7L, 8L, 9L, 10L);
            assertThat(store.count()).isEqualTo(5);
            assertThat(listener.removed(key)).containsExactlyElementsOf(all.subList(0, 5));
            assertThat(listener.events(key)).extracting(Event::cause).containsOnly(RemovalCause.SIZE);
            assertEventsWellFormed(key);
            for (List<Message> given : listener.givenLists()) {
                assertThatThrownBy(() -> given.add(Message.user("x")))
                        .as("the listener gets an immutable list")
                        .isInstanceOf(UnsupportedOperationException.class);
            }
        }

        @Test
        void maxMessagesAppliedToABatchReportsOnce() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxMessages(5), Capability.MAX_MESSAGES);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            List<Message> all = store.addAll(IntStream.range(0, 10)
                    .mapToObj(i -> Message.user("Message " + i))
                    .toList());
            assertThat(all).hasSize(10);
            assertThat(store.history()).containsExactlyElementsOf(all.subList(5, 10));
            assertThat(listener.events(key)).containsExactly(new Event(key, all.subList(0, 5), RemovalCause.SIZE));
        }

        @Test
        void maxTokensKeepsTheNewestThatFit() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxTokens(35), Capability.MAX_TOKENS);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            List<Message> all = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                all.add(store.add(userOf("m" + i, 10)));
            }
            assertThat(store.history()).containsExactlyElementsOf(all.subList(2, 5));
            assertThat(store.count()).isEqualTo(3);
            assertThat(listener.removed(key)).containsExactlyElementsOf(all.subList(0, 2));
            assertThat(listener.events(key)).extracting(Event::cause).containsOnly(RemovalCause.TOKENS);
            assertEventsWellFormed(key);
        }

        /**
         * A tool-call group expires with its assistant message: the next write removes its newer tool message with it.
         * Until then the tool message shows in history and count, never in a window.
         */
        @Test
        void anExpiredAssistantMessageTakesItsNewerToolMessageWithIt() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxAge(Duration.ofHours(1)), Capability.MAX_AGE);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            Message calling = store.add(assistantCalling(10, "c1").toBuilder()
                    .timestamp(clock.instant())
                    .build());
            clock.advance(Duration.ofMinutes(30));
            Message result = store.add(
                    toolOf("c1", 5).toBuilder().timestamp(clock.instant()).build());
            clock.advance(Duration.ofMinutes(40));
            assertThat(store.history()).containsExactly(result);
            assertThat(store.count()).isEqualTo(1);
            assertThat(store.contextWindow(1000)).isEmpty();
            Message fresh = store.add(Message.builder(Message.USER, "fresh")
                    .timestamp(clock.instant())
                    .build());
            assertThat(listener.events(key))
                    .containsExactly(new Event(key, List.of(calling, result), RemovalCause.EXPIRED));
            assertThat(store.history()).containsExactly(fresh);
            assertEventsWellFormed(key);
        }

        @Test
        void maxAgeHidesExpiredMessagesAtOnceAndReportsThemOnTheNextWrite() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxAge(Duration.ofHours(1)), Capability.MAX_AGE);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            Message old = store.add(Message.builder(Message.USER, "old")
                    .timestamp(clock.instant())
                    .build());
            clock.advance(Duration.ofMinutes(30));
            Message mid = store.add(Message.builder(Message.USER, "mid")
                    .timestamp(clock.instant())
                    .build());
            Message system = store.add(Message.builder(Message.SYSTEM, "rules")
                    .timestamp(clock.instant().minus(Duration.ofDays(1)))
                    .build());
            assertThat(store.history()).containsExactly(old, mid, system);
            clock.advance(Duration.ofMinutes(31));
            assertThat(store.history()).containsExactly(mid, system);
            assertThat(store.count()).isEqualTo(2);
            assertThat(store.contextWindow(1000)).containsExactly(system, mid);
            assertThat(store.history(HistoryQuery.newest(3))).containsExactly(mid, system);
            Message fresh = store.add(Message.builder(Message.USER, "fresh")
                    .timestamp(clock.instant())
                    .build());
            assertThat(listener.events(key)).containsExactly(new Event(key, List.of(old), RemovalCause.EXPIRED));
            assertThat(store.history()).containsExactly(mid, system, fresh);
            clock.advance(Duration.ofHours(2));
            assertThat(store.history()).containsExactly(system);
            assertThat(store.count()).isEqualTo(1);
            Message last = store.add(Message.builder(Message.USER, "last")
                    .timestamp(clock.instant())
                    .build());
            assertThat(listener.events(key))
                    .containsExactly(
                            new Event(key, List.of(old), RemovalCause.EXPIRED),
                            new Event(key, List.of(mid, fresh), RemovalCause.EXPIRED));
            assertThat(store.history()).containsExactly(system, last);
            assertEventsWellFormed(key);
        }

        @Test
        void overflowHandsOffTheOldestInOneBatch() {
            Optional<Memory> memory =
                    memoryEnforcing(Retention.builder().overflow(10, 0.8).build(), Capability.OVERFLOW);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            List<Message> all = addNumbered(store, 10);
            assertThat(store.count()).isEqualTo(10);
            assertThat(listener.events(key)).isEmpty();
            all.add(store.add(Message.user("Message 10")));
            assertThat(store.count()).isEqualTo(8);
            assertThat(store.history()).containsExactlyElementsOf(all.subList(3, 11));
            assertThat(listener.events(key)).containsExactly(new Event(key, all.subList(0, 3), RemovalCause.OVERFLOW));
            for (int i = 11; i < 14; i++) {
                all.add(store.add(Message.user("Message " + i)));
            }
            assertThat(store.history()).containsExactlyElementsOf(all.subList(6, 14));
            assertThat(listener.events(key))
                    .containsExactly(
                            new Event(key, all.subList(0, 3), RemovalCause.OVERFLOW),
                            new Event(key, all.subList(3, 6), RemovalCause.OVERFLOW));
        }

        @Test
        void pinnedMessagesAreNeverRemovedAndDoNotCount() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxMessages(3), Capability.MAX_MESSAGES);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            Message system = store.add(Message.system("rules"));
            List<Message> users = new ArrayList<>(addEach(store, List.of(Message.user("u0"), Message.user("u1"))));
            Message pinned = store.add(
                    Message.builder(Message.USER, "pinned fact").pinned().build());
            for (int i = 2; i < 6; i++) {
                users.add(store.add(Message.user("u" + i)));
            }
            assertThat(store.history()).containsExactly(system, pinned, users.get(3), users.get(4), users.get(5));
            assertThat(store.count()).isEqualTo(5);
            assertThat(listener.removed(key)).containsExactlyElementsOf(users.subList(0, 3));
            assertEventsWellFormed(key);
        }

        @Test
        void pinnedMessagesDoNotCountTowardMaxTokens() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxTokens(25), Capability.MAX_TOKENS);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            Message system = store.add(systemOf("long rules", 100));
            List<Message> users = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                users.add(store.add(userOf("u" + i, 10)));
            }
            assertThat(store.history()).containsExactly(system, users.get(2), users.get(3));
            assertThat(listener.removed(key)).containsExactlyElementsOf(users.subList(0, 2));
        }

        @Test
        void pinnedMessagesNeverExpire() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxAge(Duration.ofMinutes(5)), Capability.MAX_AGE);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            Message pinned = store.add(Message.builder(Message.USER, "pinned")
                    .pinned()
                    .timestamp(clock.instant())
                    .build());
            Message user = store.add(Message.builder(Message.USER, "u")
                    .timestamp(clock.instant())
                    .build());
            clock.advance(Duration.ofDays(3));
            Message next = store.add(Message.builder(Message.USER, "next")
                    .timestamp(clock.instant())
                    .build());
            assertThat(store.history()).containsExactly(pinned, next);
            assertThat(listener.events(key)).containsExactly(new Event(key, List.of(user), RemovalCause.EXPIRED));
        }

        @Test
        void aToolCallGroupIsRemovedWhole() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxMessages(3), Capability.MAX_MESSAGES);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            List<Message> all = addEach(
                    store,
                    List.of(
                            assistantCalling(20, "c1", "c2"),
                            toolOf("c1", 5),
                            toolOf("c2", 5),
                            Message.user("u1"),
                            Message.user("u2")));
            assertThat(store.history()).containsExactly(all.get(3), all.get(4));
            assertThat(listener.events(key)).containsExactly(new Event(key, all.subList(0, 3), RemovalCause.SIZE));
        }

        /**
         * Some model servers number the calls of every reply from 0, so a call id comes back in a later turn: a tool
         * message answers the newest assistant message before it that made its call, and the older group is removed
         * with its own result, not the newer one's.
         */
        @Test
        void aCallIdUsedAgainLaterRemovesTheOlderGroupWithItsOwnResult() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxMessages(3), Capability.MAX_MESSAGES);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            List<Message> all = addEach(
                    store,
                    List.of(
                            assistantCalling(10, "call_0"),
                            toolOf("call_0", 5),
                            assistantCalling(10, "call_0"),
                            toolOf("call_0", 5)));
            assertThat(listener.events(key)).containsExactly(new Event(key, all.subList(0, 2), RemovalCause.SIZE));
            assertThat(store.history()).containsExactlyElementsOf(all.subList(2, 4));
            assertThat(store.contextWindow(1000)).containsExactlyElementsOf(all.subList(2, 4));
        }

        /**
         * Two replies make call_0 and the newer one expires first (its timestamp was given backdated): the older one,
         * the newest stored message that made the call, owns it again. A tool message stored then answers it, in the
         * window and under retention (its group is removed whole), and is not pinned, though a pinned message made
         * the call before both.
         */
        @Test
        void whenTheNewerOfTwoCallersExpiresFirstTheOlderOneOwnsTheCallAgain() {
            Optional<Memory> memory = memoryEnforcing(
                    Retention.builder()
                            .maxAge(Duration.ofHours(1))
                            .maxMessages(2)
                            .build(),
                    Capability.MAX_AGE,
                    Capability.MAX_MESSAGES);
            if (memory.isEmpty()) {
                return;
            }
            for (boolean pinnedFirst : new boolean[] {false, true}) {
                SessionKey key = newKey();
                MemoryStore store = memory.get().session(key);
                Instant now = clock.instant();
                Message pinned = pinnedFirst
                        ? store.add(assistantCalling(10, "call_0").toBuilder()
                                .pinned()
                                .timestamp(now)
                                .build())
                        : null;
                Message older = store.add(assistantCalling(10, "call_0").toBuilder()
                        .timestamp(now)
                        .build());
                Message newer = store.add(assistantCalling(10, "call_0").toBuilder()
                        .timestamp(now.minus(Duration.ofHours(2)))
                        .build());
                assertThat(listener.events(key)).containsExactly(new Event(key, List.of(newer), RemovalCause.EXPIRED));
                Message result =
                        store.add(toolOf("call_0", 5).toBuilder().timestamp(now).build());
                List<Message> window = new ArrayList<>();
                if (pinned != null) {
                    window.add(pinned);
                }
                window.add(older);
                window.add(result);
                assertThat(store.contextWindow(1000))
                        .as("pinned first: %s", pinnedFirst)
                        .containsExactlyElementsOf(window);
                Message user =
                        store.add(userOf("u", 5).toBuilder().timestamp(now).build());
                assertThat(listener.events(key))
                        .as("pinned first: %s", pinnedFirst)
                        .containsExactly(
                                new Event(key, List.of(newer), RemovalCause.EXPIRED),
                                new Event(key, List.of(older, result), RemovalCause.SIZE));
                List<Message> kept = new ArrayList<>();
                if (pinned != null) {
                    kept.add(pinned);
                }
                kept.add(user);
                assertThat(store.history()).as("pinned first: %s", pinnedFirst).containsExactlyElementsOf(kept);
                assertEventsWellFormed(key);
            }
        }

        /**
         * Two replies make call_0; the newer one, backdated, has two answers and expires first, with its group's (the
         * newer) answer. Its older answer then answers the older reply, the newest stored message before it that made
         * the call, and goes with it.
         */
        @Test
        void anAnswerOfAnExpiredCallerAnswersTheOlderCallerThen() {
            Optional<Memory> memory = memoryEnforcing(
                    Retention.builder()
                            .maxAge(Duration.ofHours(1))
                            .maxMessages(4)
                            .build(),
                    Capability.MAX_AGE,
                    Capability.MAX_MESSAGES);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            Instant now = clock.instant();
            Message older = store.add(
                    assistantCalling(10, "call_0").toBuilder().timestamp(now).build());
            Message newer = store.add(assistantCalling(10, "call_0").toBuilder()
                    .timestamp(now.minus(Duration.ofMinutes(50)))
                    .build());
            Message first =
                    store.add(toolOf("call_0", 5).toBuilder().timestamp(now).build());
            Message second =
                    store.add(toolOf("call_0", 5).toBuilder().timestamp(now).build());
            clock.advance(Duration.ofMinutes(15));
            List<Message> users = new ArrayList<>();
            users.add(store.add(
                    userOf("u1", 5).toBuilder().timestamp(clock.instant()).build()));
            assertThat(listener.events(key))
                    .containsExactly(new Event(key, List.of(newer, second), RemovalCause.EXPIRED));
            assertThat(store.contextWindow(1000)).containsExactly(older, first, users.get(0));
            users.add(store.add(
                    userOf("u2", 5).toBuilder().timestamp(clock.instant()).build()));
            users.add(store.add(
                    userOf("u3", 5).toBuilder().timestamp(clock.instant()).build()));
            assertThat(listener.events(key))
                    .containsExactly(
                            new Event(key, List.of(newer, second), RemovalCause.EXPIRED),
                            new Event(key, List.of(older, first), RemovalCause.SIZE));
            assertThat(store.history()).containsExactlyElementsOf(users);
            assertEventsWellFormed(key);
        }

        /**
         * A call answered twice, the newer answer given a backdated timestamp: max age removes it alone, and the older
         * answer is the group's again, so the group then goes whole, in the same write as here or a later one.
         */
        @Test
        void whenAGroupsToolMessageExpiresFirstTheOlderAnswerIsTheGroupsAgain() {
            Optional<Memory> memory = memoryEnforcing(
                    Retention.builder()
                            .maxAge(Duration.ofHours(1))
                            .maxMessages(2)
                            .build(),
                    Capability.MAX_AGE,
                    Capability.MAX_MESSAGES);
            if (memory.isEmpty()) {
                return;
            }
            for (boolean sameWrite : new boolean[] {true, false}) {
                SessionKey key = newKey();
                MemoryStore store = memory.get().session(key);
                Instant now = clock.instant();
                Message calling = store.add(assistantCalling(10, "call_0").toBuilder()
                        .timestamp(now)
                        .build());
                Message older =
                        store.add(toolOf("call_0", 5).toBuilder().timestamp(now).build());
                Message newer = toolOf("call_0", 5).toBuilder()
                        .timestamp(now.minus(Duration.ofHours(2)))
                        .build();
                Message user = userOf("u", 5).toBuilder().timestamp(now).build();
                List<Message> stored = new ArrayList<>();
                if (sameWrite) {
                    stored.addAll(store.addAll(List.of(newer, user)));
                } else {
                    stored.add(store.add(newer));
                    stored.add(store.add(user));
                }
                assertThat(listener.events(key))
                        .as("in the same write: %s", sameWrite)
                        .containsExactly(
                                new Event(key, List.of(stored.get(0)), RemovalCause.EXPIRED),
                                new Event(key, List.of(calling, older), RemovalCause.SIZE));
                assertThat(store.history())
                        .as("in the same write: %s", sameWrite)
                        .containsExactly(stored.get(1));
                assertEventsWellFormed(key);
            }
        }

        /**
         * An unpinned reply that makes a pinned message's call again (call_0 in every reply) owns the call: its tool
         * message is not pinned and goes with it. A tool message of that call arriving once the reply is gone answers
         * the newest stored message that made the call, the pinned one, and is pinned with it.
         */
        @Test
        void aCallIdOfAPinnedMessageUsedAgainByAnUnpinnedReplyIsNotPinned() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxMessages(2), Capability.MAX_MESSAGES);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            List<Message> all = addEach(
                    store,
                    List.of(
                            assistantCalling(10, "call_0").toBuilder().pinned().build(),
                            toolOf("call_0", 5),
                            assistantCalling(10, "call_0"),
                            toolOf("call_0", 5),
                            userOf("u2", 10),
                            userOf("u3", 10)));
            assertThat(store.history()).containsExactly(all.get(0), all.get(1), all.get(4), all.get(5));
            assertThat(listener.events(key)).containsExactly(new Event(key, all.subList(2, 4), RemovalCause.SIZE));
            Message late = store.add(toolOf("call_0", 5));
            assertThat(store.history()).containsExactly(all.get(0), all.get(1), all.get(4), all.get(5), late);
            assertThat(listener.removed(key)).containsExactlyElementsOf(all.subList(2, 4));
            List<Message> pinned = List.of(all.get(0), all.get(1), late);
            assertThat(store.contextWindow(tokens(pinned))).containsExactlyElementsOf(pinned);
            assertEventsWellFormed(key);
        }

        /**
         * A tool message may arrive after other messages; retention then never removes it, the newest message, with
         * its assistant message, though the session holds more than its limit until that group is the oldest no more.
         */
        @Test
        void aLateToolResultIsNeverRemovedWithItsGroupAsTheNewestMessage() {
            Map<Capability, Retention> retentions = new LinkedHashMap<>();
            retentions.put(Capability.MAX_MESSAGES, Retention.maxMessages(2));
            retentions.put(Capability.MAX_TOKENS, Retention.maxTokens(25));
            retentions.forEach((capability, retention) -> {
                Optional<Memory> memory = memoryEnforcing(retention, capability);
                if (memory.isEmpty()) {
                    return;
                }
                SessionKey key = newKey();
                MemoryStore store = memory.get().session(key);
                List<Message> all =
                        addEach(store, List.of(userOf("u0", 10), assistantCalling(10, "c1"), userOf("u2", 10)));
                Message result = store.add(toolOf("c1", 10));
                assertThat(store.history())
                        .as("%s: the newest message stays, with its group", retention)
                        .containsExactly(all.get(1), all.get(2), result);
                assertThat(listener.removed(key)).as("%s", retention).containsExactly(all.get(0));
                Message next = store.add(userOf("u4", 10));
                assertThat(store.history()).as("%s", retention).containsExactly(all.get(2), next);
                assertThat(listener.removed(key))
                        .as("%s: the group goes whole once it may", retention)
                        .containsExactly(all.get(0), all.get(1), result);
                assertEventsWellFormed(key);
            });
        }

        @Test
        void expiryComesBeforeSize() {
            Optional<Memory> memory = memoryEnforcing(
                    Retention.builder()
                            .maxAge(Duration.ofHours(1))
                            .maxMessages(3)
                            .build(),
                    Capability.MAX_AGE,
                    Capability.MAX_MESSAGES);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            List<Message> old = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                old.add(store.add(Message.builder(Message.USER, "old " + i)
                        .timestamp(clock.instant())
                        .build()));
            }
            clock.advance(Duration.ofHours(2));
            List<Message> fresh = store.addAll(List.of(
                    Message.builder(Message.USER, "new 0")
                            .timestamp(clock.instant())
                            .build(),
                    Message.builder(Message.USER, "new 1")
                            .timestamp(clock.instant())
                            .build()));
            assertThat(listener.events(key)).containsExactly(new Event(key, old, RemovalCause.EXPIRED));
            assertThat(store.history()).containsExactlyElementsOf(fresh);
        }

        @Test
        void overflowComesBeforeSize() {
            Optional<Memory> memory = memoryEnforcing(
                    Retention.builder().overflow(4, 0.5).maxMessages(3).build(),
                    Capability.OVERFLOW,
                    Capability.MAX_MESSAGES);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            List<Message> all = store.addAll(
                    IntStream.range(0, 5).mapToObj(i -> Message.user("m" + i)).toList());
            assertThat(listener.events(key)).containsExactly(new Event(key, all.subList(0, 3), RemovalCause.OVERFLOW));
            assertThat(store.history()).containsExactlyElementsOf(all.subList(3, 5));
        }

        @Test
        void sizeComesBeforeTokens() {
            Optional<Memory> memory = memoryEnforcing(
                    Retention.builder().maxMessages(3).maxTokens(25).build(),
                    Capability.MAX_MESSAGES,
                    Capability.MAX_TOKENS);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            List<Message> all = store.addAll(
                    IntStream.range(0, 5).mapToObj(i -> userOf("m" + i, 10)).toList());
            assertThat(listener.events(key))
                    .containsExactly(
                            new Event(key, all.subList(0, 2), RemovalCause.SIZE),
                            new Event(key, all.subList(2, 3), RemovalCause.TOKENS));
            assertThat(store.history()).containsExactlyElementsOf(all.subList(3, 5));
        }

        @Test
        void aFailingListenerLeavesTheStoreUnchanged() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxMessages(3), Capability.MAX_MESSAGES);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            List<Message> all = addEach(
                    store,
                    IntStream.range(0, 3)
                            .mapToObj(i -> Message.user(MARKER + " " + i))
                            .toList());
            Snapshot before = snapshot(store);
            listener.failWith(new IllegalStateException("listener refused"));
            MemoryException e = assertFails(ErrorCode.CALLBACK_FAILED, () -> store.add(Message.user("fourth")));
            assertThat(e.getMessage()).doesNotContain(MARKER);
            assertUnchanged(before, store);
            assertFails(
                    ErrorCode.CALLBACK_FAILED,
                    () -> store.addAll(List.of(Message.user("fourth"), Message.user("fifth"))));
            assertUnchanged(before, store);
            assertThat(listener.failedCalls()).isGreaterThanOrEqualTo(2);
            assertThat(listener.events(key)).isEmpty();
            listener.stopFailing();
            Message fourth = store.add(Message.user("fourth"));
            assertThat(fourth.sequence())
                    .as("failed writes use no sequence number")
                    .isEqualTo(4);
            assertThat(store.history()).containsExactly(all.get(1), all.get(2), fourth);
            assertThat(listener.events(key)).containsExactly(new Event(key, all.subList(0, 1), RemovalCause.SIZE));
        }

        /**
         * A listener may throw an {@link Error} (an assertion of the caller's, a stack overflow): it reaches the caller
         * as it is, and the write did not happen, as with any other failure of the listener.
         */
        @Test
        void aListenerThrowingAnErrorLeavesTheStoreUnchanged() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxMessages(3), Capability.MAX_MESSAGES);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            List<Message> all = addEach(
                    store,
                    IntStream.range(0, 3).mapToObj(i -> Message.user("m" + i)).toList());
            Snapshot before = snapshot(store);
            Error error = new Error("the listener's own error");
            listener.failWithError(error);
            assertThat(catchThrowable(() -> store.add(Message.user("fourth"))))
                    .as("an add")
                    .isSameAs(error);
            assertUnchanged(before, store);
            assertThat(catchThrowable(() -> store.addAll(List.of(Message.user("fourth"), Message.user("fifth")))))
                    .as("an addAll")
                    .isSameAs(error);
            assertUnchanged(before, store);
            listener.stopFailing();
            Message fourth = store.add(Message.user("fourth"));
            assertThat(store.history()).containsExactly(all.get(1), all.get(2), fourth);
            assertThat(listener.events(key)).containsExactly(new Event(key, all.subList(0, 1), RemovalCause.SIZE));
        }

        @Test
        void aFailingListenerLeavesExpiredMessagesUnreported() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxAge(Duration.ofHours(1)), Capability.MAX_AGE);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            MemoryStore store = memory.get().session(key);
            Message old = store.add(Message.builder(Message.USER, "old")
                    .timestamp(clock.instant())
                    .build());
            clock.advance(Duration.ofHours(2));
            Snapshot before = snapshot(store);
            listener.failWith(new IllegalStateException("listener refused"));
            assertFails(
                    ErrorCode.CALLBACK_FAILED,
                    () -> store.add(Message.builder(Message.USER, "new")
                            .timestamp(clock.instant())
                            .build()));
            assertUnchanged(before, store);
            listener.stopFailing();
            Message fresh = store.add(Message.builder(Message.USER, "new")
                    .timestamp(clock.instant())
                    .build());
            assertThat(store.history()).containsExactly(fresh);
            assertThat(listener.events(key)).containsExactly(new Event(key, List.of(old), RemovalCause.EXPIRED));
        }

        @Test
        void clearReportsEverythingAsClearedOnce() {
            SessionKey key = newKey();
            MemoryStore store = newMemory().session(key);
            List<Message> all = addEach(
                    store,
                    List.of(
                            Message.system("rules"),
                            Message.user("u"),
                            Message.builder(Message.USER, "pinned").pinned().build(),
                            assistantCalling(10, "c1"),
                            toolOf("c1", 4)));
            store.clear();
            assertThat(store.count()).isZero();
            assertThat(store.history()).isEmpty();
            assertThat(store.contextWindow(100)).isEmpty();
            assertThat(listener.events(key)).containsExactly(new Event(key, all, RemovalCause.CLEARED));
            store.clear();
            assertThat(listener.events(key))
                    .as("clearing an empty session reports nothing")
                    .hasSize(1);
            Message again = store.add(Message.user("again"));
            assertThat(store.history()).containsExactly(again);
        }

        @Test
        void aFailingListenerStopsClear() {
            SessionKey key = newKey();
            MemoryStore store = newMemory().session(key);
            addEach(store, List.of(Message.system("rules"), Message.user(MARKER)));
            Snapshot before = snapshot(store);
            listener.failWith(new IllegalStateException("listener refused"));
            MemoryException e = assertFails(ErrorCode.CALLBACK_FAILED, store::clear);
            assertThat(e.getMessage()).doesNotContain(MARKER);
            assertUnchanged(before, store);
            listener.stopFailing();
            store.clear();
            assertThat(listener.removed(key)).containsExactlyElementsOf(before.history());
        }

        @Test
        void aFailingListenerStopsDelete() {
            SessionKey key = newKey();
            Memory memory = newMemory();
            MemoryStore store = memory.session(key);
            addEach(store, List.of(Message.user("a"), Message.user("b")));
            Snapshot before = snapshot(store);
            listener.failWith(new IllegalStateException("listener refused"));
            assertFails(ErrorCode.CALLBACK_FAILED, () -> memory.delete(key));
            assertUnchanged(before, store);
            listener.stopFailing();
            assertThat(memory.delete(key)).isTrue();
            assertThat(listener.events(key)).containsExactly(new Event(key, before.history(), RemovalCause.CLEARED));
        }
    }

    // ================================================================================================================

    /** Sessions, tenants and scopes never share messages; delete; session listing. */
    @Nested
    public class Isolation {
        @Test
        void sessionsAreIsolated() {
            Memory memory = newMemory();
            MemoryStore a = memory.session(newKey());
            MemoryStore b = memory.session(newKey());
            Message inA = a.add(Message.user("in a"));
            Message inB1 = b.add(Message.user("in b"));
            Message inB2 = b.add(Message.user("in b again"));
            assertThat(a.history()).containsExactly(inA);
            assertThat(b.history()).containsExactly(inB1, inB2);
            assertThat(inB1.sequence()).as("sequences are per session").isEqualTo(1);
            a.clear();
            assertThat(a.count()).isZero();
            assertThat(b.history()).containsExactly(inB1, inB2);
        }

        @Test
        void tenantsAreIsolated() {
            Memory memory = newMemory();
            MemoryStore a = memory.session(key(tenant, "same", ""));
            MemoryStore b = memory.session(key(tenant + "-other", "same", ""));
            Message inA = a.add(Message.user("a"));
            Message inB = b.add(Message.user("b"));
            assertThat(a.history()).containsExactly(inA);
            assertThat(b.history()).containsExactly(inB);
        }

        @Test
        void scopesAreIsolatedFromTheDefaultScope() {
            Memory memory = newMemory();
            SessionKey key = newKey();
            SessionKey summary = track(key.withScope("summary"));
            SessionKey blank = track(key.withScope(" "));
            MemoryStore main = memory.session(key);
            Message inMain = main.add(Message.user("main"));
            Message inSummary = memory.session(summary).add(Message.user("summary"));
            Message inBlank = memory.session(blank).add(Message.user("blank scope"));
            assertThat(main.history()).containsExactly(inMain);
            assertThat(memory.session(summary).history()).containsExactly(inSummary);
            assertThat(memory.session(blank).history()).containsExactly(inBlank);
            main.clear();
            assertThat(memory.session(summary).history()).containsExactly(inSummary);
            assertThat(memory.delete(summary)).isTrue();
            assertThat(memory.session(blank).history()).containsExactly(inBlank);
            assertThat(memory.session(summary).count()).isZero();
        }

        @Test
        void storesOfEqualKeysShareMessages() {
            Memory memory = newMemory();
            SessionKey key = newKey();
            MemoryStore first = memory.session(key);
            MemoryStore second = memory.session(new SessionKey(key.tenant(), key.session(), ""));
            MemoryStore third = memory.session(key.tenant(), key.session());
            assertThat(first.key()).isEqualTo(key);
            assertThat(third.key()).isEqualTo(key);
            Message a = first.add(Message.user("a"));
            Message b = second.add(Message.user("b"));
            assertThat(b.sequence()).isEqualTo(2);
            assertThat(third.history()).containsExactly(a, b);
        }

        /** Expired messages that no write has removed yet are still held: delete reports them and says so. */
        @Test
        void deleteOfASessionHoldingOnlyExpiredMessagesReportsThem() {
            Optional<Memory> memory = memoryEnforcing(Retention.maxAge(Duration.ofMinutes(5)), Capability.MAX_AGE);
            if (memory.isEmpty()) {
                return;
            }
            SessionKey key = newKey();
            Message old = memory.get()
                    .session(key)
                    .add(Message.builder(Message.USER, "old")
                            .timestamp(clock.instant())
                            .build());
            clock.advance(Duration.ofMinutes(10));
            assertThat(memory.get().session(key).count()).isZero();
            assertThat(memory.get().delete(key)).isTrue();
            assertThat(listener.events(key)).containsExactly(new Event(key, List.of(old), RemovalCause.CLEARED));
            assertThat(memory.get().delete(key)).isFalse();
        }

        @Test
        void deleteRemovesOneSession() {
            Memory memory = newMemory();
            SessionKey key = newKey();
            SessionKey other = newKey();
            List<Message> gone = addNumbered(memory.session(key), 3);
            Message kept = memory.session(other).add(Message.user("kept"));
            assertThat(memory.delete(key)).isTrue();
            assertThat(memory.session(key).history()).isEmpty();
            assertThat(memory.session(key).count()).isZero();
            assertThat(memory.session(other).history()).containsExactly(kept);
            assertThat(listener.events(key)).containsExactly(new Event(key, gone, RemovalCause.CLEARED));
            assertThat(memory.delete(key)).isFalse();
            assertThat(memory.delete(newKey())).isFalse();
            assertThat(listener.events()).hasSize(1);
        }

        @Test
        void sessionsListsExactlyTheKeysHoldingMessages() {
            Memory memory = newMemory();
            if (!memory.capabilities().contains(Capability.SESSION_LISTING)) {
                assertFails(ErrorCode.UNSUPPORTED, () -> memory.sessions(tenant));
                return;
            }
            SessionKey b = key(tenant, "b", "");
            SessionKey a = key(tenant, "a", "");
            SessionKey aX = track(a.withScope("x"));
            SessionKey aBlank = track(a.withScope(" "));
            SessionKey opened = key(tenant, "opened only", "");
            SessionKey cleared = key(tenant, "cleared", "");
            SessionKey deleted = key(tenant, "deleted", "");
            SessionKey elsewhere = key(tenant + "-other", "a", "");
            SessionKey prefix = key(tenant + "*", "a", "");
            for (SessionKey k : List.of(b, a, aX, aBlank, cleared, deleted, elsewhere, prefix)) {
                memory.session(k).add(Message.user("m"));
            }
            memory.session(opened).history();
            memory.session(cleared).clear();
            memory.delete(deleted);
            assertThat(memory.sessions(tenant)).containsExactly(a, aBlank, aX, b);
            assertThat(memory.sessions(tenant + "*")).containsExactly(prefix);
            assertThat(memory.sessions("tck-" + UUID.randomUUID())).isEmpty();
        }

        @Test
        void confusableKeysAreDistinct() {
            Memory memory = newMemory();
            List<SessionKey> keys = new ArrayList<>();
            for (String sep : List.of(":", "/", ".", "|", "#", " ", "\\", "}{", "\",\"", "::", "-", "_", "%3A")) {
                keys.add(key(tenant + sep + "x", "y", ""));
                keys.add(key(tenant, "x" + sep + "y", ""));
                keys.add(key(tenant, "x", sep + "y"));
                keys.add(key(tenant, "x" + sep, "y"));
                keys.add(key(tenant, "x", "y" + sep));
            }
            keys.add(key(tenant, "x", ""));
            keys.add(key(tenant, "x", "y"));
            keys.add(key(tenant, "X", ""));
            keys.add(key(tenant, "\u00e9", ""));
            keys.add(key(tenant, "e\u0301", ""));
            keys.add(key(tenant, "a", ""));
            keys.add(key(tenant, "a ", ""));
            keys.add(key(tenant, " a", ""));
            keys.add(key(tenant, "a", " "));
            keys.add(key(tenant, "ss", ""));
            keys.add(key(tenant, "\u00df", ""));
            keys.add(key(tenant, "i", ""));
            keys.add(key(tenant, "\u0131", ""));
            assertEachKeyReadsItsOwnMessage(memory, new ArrayList<>(new LinkedHashSet<>(keys)), "confusable keys");
        }

        @Test
        void randomHostileKeysNeverShareMessages() {
            long seed = seed();
            Random random = new Random(seed);
            Memory memory = newMemory();
            List<String> tenants = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                tenants.add(tenant + randomId(random, 12));
            }
            tenants.add(tenant);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                ids.add(randomId(random, 16));
            }
            Set<SessionKey> keys = new LinkedHashSet<>();
            while (keys.size() < 300) {
                String t = tenants.get(random.nextInt(tenants.size()));
                String s = ids.get(random.nextInt(ids.size()));
                int scope = random.nextInt(4);
                String sc = scope == 0 ? "" : scope == 1 ? " " : ids.get(random.nextInt(ids.size()));
                keys.add(key(t, s, sc));
            }
            assertEachKeyReadsItsOwnMessage(memory, new ArrayList<>(keys), replay(seed));
        }

        private void assertEachKeyReadsItsOwnMessage(Memory memory, List<SessionKey> keys, String context) {
            Map<SessionKey, Message> own = new HashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                SessionKey k = keys.get(i);
                own.put(
                        k,
                        memory.session(k)
                                .add(Message.builder(Message.USER, "message " + i)
                                        .metadata("key", i)
                                        .build()));
            }
            for (SessionKey k : keys) {
                MemoryStore store = memory.session(k);
                assertThat(store.history()).as("%s of %s", k, context).containsExactly(own.get(k));
                assertThat(store.count()).as("count of %s, %s", k, context).isEqualTo(1);
            }
            if (memory.capabilities().contains(Capability.SESSION_LISTING)) {
                Map<String, TreeSet<SessionKey>> byTenant = new TreeMap<>();
                for (SessionKey k : keys) {
                    byTenant.computeIfAbsent(k.tenant(), t -> new TreeSet<>()).add(k);
                }
                for (Map.Entry<String, TreeSet<SessionKey>> e : byTenant.entrySet()) {
                    assertThat(memory.sessions(e.getKey()))
                            .as("sessions of tenant %s, %s", e.getKey(), context)
                            .containsExactlyElementsOf(e.getValue());
                }
            }
        }
    }

    private static final List<String> HOSTILE_TOKENS = List.of(
            "/",
            ".",
            "..",
            "../",
            "*",
            "?",
            "{",
            "}",
            "[",
            "]",
            ":",
            "\"",
            "'",
            " ",
            "%",
            "_",
            "\\",
            "|",
            "#",
            "$",
            "@",
            "-",
            "=",
            ",",
            ";",
            "&",
            "+",
            "<",
            ">",
            "`",
            "~",
            "^",
            "!",
            "a",
            "b",
            "A",
            "B",
            "0",
            "1",
            "\u00e9",
            "e\u0301",
            "\ud83d\ude00",
            "\ud834\udd1e",
            "\u4e2d",
            "\u6587",
            "\u05e9",
            "\u0645",
            "\u202e",
            "\ufeff",
            "\u200b",
            "\u00df",
            "\u0130",
            "\u0131",
            "%00",
            "\\u0000",
            "${x}",
            "' OR '1'='1",
            "--",
            "/*");

    /** A random valid tenant, session or scope part of at most {@code tokens} hostile tokens. */
    static String randomId(Random random, int tokens) {
        StringBuilder sb = new StringBuilder();
        int n = 1 + random.nextInt(tokens);
        for (int i = 0; i < n; i++) {
            sb.append(HOSTILE_TOKENS.get(random.nextInt(HOSTILE_TOKENS.size())));
        }
        String id = sb.length() > 200 ? sb.substring(0, 200) : sb.toString();
        if (Character.isHighSurrogate(id.charAt(id.length() - 1))) {
            id = id.substring(0, id.length() - 1);
        }
        return id.isBlank() ? id + "x" : id;
    }

    // ================================================================================================================

    /** Hostile session keys are stored apart or rejected without being echoed. */
    @Nested
    public class HostileKeys {
        private final List<String> hostile = List.of(
                "../",
                "..",
                "../../etc/passwd",
                "*",
                "?",
                "[a-z]",
                "{a}",
                "{",
                "}",
                "\"",
                "'",
                "' OR '1'='1",
                "\"; DROP TABLE messages; --",
                "%",
                "_",
                "%s%n",
                "\\",
                "a/b",
                "a:b",
                " a",
                "a ",
                "$",
                "${jndi:ldap://x}",
                "#",
                "\ud83d\ude00\ud83d\udc4d\ud83c\udffd",
                "\u4e2d\u6587",
                "\u0645\u0631\u062d\u0628\u0627",
                "\u202eevil",
                "x".repeat(SessionKey.MAX_LENGTH),
                "\ud83d\ude00".repeat(SessionKey.MAX_LENGTH / 2));

        @Test
        void hostileIdsAreStoredApart() {
            Memory memory = newMemory();
            List<SessionKey> keys = new ArrayList<>();
            keys.add(key(tenant, "s", ""));
            for (String h : hostile) {
                keys.add(key(tenant, h, ""));
                keys.add(key(tenant, "s", h));
                if (tenant.length() + h.length() <= SessionKey.MAX_LENGTH) {
                    keys.add(key(tenant + h, "s", ""));
                }
            }
            Map<SessionKey, Message> own = new LinkedHashMap<>();
            for (SessionKey k : keys) {
                own.put(k, memory.session(k).add(Message.user("for " + own.size())));
            }
            for (SessionKey k : keys) {
                assertThat(memory.session(k).history()).as("%s", k).containsExactly(own.get(k));
            }
            if (memory.capabilities().contains(Capability.SESSION_LISTING)) {
                List<SessionKey> mine = keys.stream()
                        .filter(k -> k.tenant().equals(tenant))
                        .sorted()
                        .toList();
                assertThat(memory.sessions(tenant)).containsExactlyElementsOf(mine);
                assertThat(memory.sessions(tenant + "*")).containsExactly(key(tenant + "*", "s", ""));
            }
            for (SessionKey k : keys) {
                assertThat(memory.delete(k)).as("delete %s", k).isTrue();
            }
            for (SessionKey k : keys) {
                assertThat(memory.session(k).count()).as("%s after delete", k).isZero();
            }
        }

        @Test
        void controlCharactersAndOverlongIdsAreRejectedWithoutEcho() {
            List<String> bad = List.of(
                    MARKER + "\u0000",
                    MARKER + "\n",
                    MARKER + "\r",
                    MARKER + "\t",
                    MARKER + "\u001b[31m",
                    MARKER + "\u007f",
                    MARKER + "\u0085",
                    MARKER + "\u009f",
                    MARKER + "\ud800",
                    MARKER + "\udc00x",
                    (MARKER + "x".repeat(SessionKey.MAX_LENGTH)).substring(0, SessionKey.MAX_LENGTH + 1));
            Memory memory = newMemory();
            for (String b : bad) {
                for (ThrowingCallable call : List.<ThrowingCallable>of(
                        () -> new SessionKey(b, "s", ""),
                        () -> new SessionKey(tenant, b, ""),
                        () -> new SessionKey(tenant, "s", b),
                        () -> SessionKey.of(tenant, b),
                        () -> SessionKey.of(tenant, "s").withScope(b),
                        () -> memory.session(tenant, b),
                        () -> memory.session(b, "s"))) {
                    InvalidInputException e = assertInvalid(ErrorCode.INVALID_SESSION_KEY, call);
                    assertThat(e.getMessage()).doesNotContain(MARKER);
                }
            }
            for (String blank : List.of("", " ", "   ")) {
                assertInvalid(ErrorCode.INVALID_SESSION_KEY, () -> SessionKey.of(blank, "s"));
                assertInvalid(ErrorCode.INVALID_SESSION_KEY, () -> SessionKey.of(tenant, blank));
            }
            assertInvalid(ErrorCode.INVALID_SESSION_KEY, () -> new SessionKey(null, "s", ""));
            assertInvalid(ErrorCode.INVALID_SESSION_KEY, () -> new SessionKey(tenant, null, ""));
            assertInvalid(ErrorCode.INVALID_SESSION_KEY, () -> new SessionKey(tenant, "s", null));
        }

        @Test
        void listingAnInvalidTenantFindsNothingOrIsRejectedWithoutEcho() {
            Memory memory = newMemory();
            if (!memory.capabilities().contains(Capability.SESSION_LISTING)) {
                assertFails(ErrorCode.UNSUPPORTED, () -> memory.sessions(tenant));
                return;
            }
            for (String b : List.of("", " ", MARKER + "\u0000", MARKER + "x".repeat(SessionKey.MAX_LENGTH))) {
                Throwable thrown = catchThrowable(() -> assertThat(memory.sessions(b))
                        .as("sessions of an invalid tenant")
                        .isEmpty());
                if (thrown instanceof AssertionError error) {
                    throw error;
                }
                if (thrown != null) {
                    assertThat(thrown).isInstanceOf(InvalidInputException.class);
                    assertThat(((InvalidInputException) thrown).code()).isEqualTo(ErrorCode.INVALID_SESSION_KEY);
                    assertThat(thrown.getMessage()).doesNotContain(MARKER);
                }
            }
        }
    }

    // ================================================================================================================

    /** Content round-trips exactly; invalid content is rejected without being echoed. */
    @Nested
    public class Content {
        @Test
        void hostileContentRoundTripsExactly() {
            MemoryStore store = newStore();
            StringBuilder controls = new StringBuilder();
            for (char c = 0; c < 0x20; c++) {
                controls.append(c);
            }
            controls.append('\u007f').append('\u0085').append('\u009f');
            List<String> contents = List.of(
                    "",
                    " ",
                    "a\u0000b",
                    "\u0000",
                    controls.toString(),
                    "\ud83d\ude00 \ud83d\udc4d\ud83c\udffd \ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67",
                    "\ud834\udd1e \ud800\udc00 \udbff\udfff",
                    "\u4e2d\u6587\u5b57\u7b26 \u65e5\u672c\u8a9e \ud55c\uad6d\uc5b4",
                    "\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd \u202eoverride\u202c",
                    "e\u0301 vs \u00e9",
                    "\ufeffBOM \ufffe \uffff",
                    "line\r\nbreaks\rand\nmore",
                    "' OR 1=1; -- \"; DROP TABLE x; {\"json\": true} ${x} %s %n \\",
                    "<script>alert(1)</script>");
            List<Message> stored =
                    addEach(store, contents.stream().map(Message::user).toList());
            List<Message> history = store.history();
            assertThat(history).containsExactlyElementsOf(stored);
            for (int i = 0; i < contents.size(); i++) {
                assertThat(history.get(i).content().getBytes(StandardCharsets.UTF_8))
                        .as("content %d", i)
                        .isEqualTo(contents.get(i).getBytes(StandardCharsets.UTF_8));
            }
        }

        @Test
        void hostileMetadataAndToolArgumentsRoundTripExactly() {
            MemoryStore store = newStore();
            Message calling = Message.builder(Message.ASSISTANT, "")
                    .toolCalls(List.of(new ToolCall(
                            "call \ud83d\ude00 '\"", "tool/../*", "{\"a\":\"\u0000\ud83d\ude00\"} \u0000 trailing")))
                    .metadata("nul", "a\u0000b")
                    .metadata("emoji \ud83d\ude00", "\ud83d\udc4d\ud83c\udffd")
                    .metadata("cjk", List.of("\u4e2d\u6587", "\u0645\u0631\u062d\u0628\u0627"))
                    .metadata("quote\"key", "back\\slash")
                    .metadata("control", "\u0001\u001f\u007f")
                    .build();
            Message result = Message.tool("call \ud83d\ude00 '\"", "\u0000");
            List<Message> stored = addEach(store, List.of(calling, result));
            assertThat(store.history()).containsExactlyElementsOf(stored);
            assertThat(unstored(store.history().get(0))).isEqualTo(calling);
            assertThat(store.contextWindow(1000)).containsExactlyElementsOf(stored);
        }

        @Test
        void aMebibyteOfContentRoundTripsExactly() {
            MemoryStore store = newStore();
            int[] codePoints = {'a', 0, 0x1F600, 0x4E2D, 0x0645, '\n', 0x1D11E, 'z', 0xFEFF};
            StringBuilder sb = new StringBuilder(1 << 20);
            for (int i = 0; sb.length() < (1 << 20) - 1; i++) {
                sb.appendCodePoint(codePoints[i % codePoints.length]);
            }
            while (sb.length() < 1 << 20) {
                sb.append('.');
            }
            String big = sb.toString();
            assertThat(big).hasSize(1 << 20);
            Message stored = store.add(Message.user(big));
            assertThat(stored.tokenCount()).contains(new TokenCount((1 << 20) + 1, TckTokenCounter.ID));
            Message read = store.history().get(0);
            assertThat(read.content().equals(big)).as("1 MiB content equal").isTrue();
            assertThat(Arrays.equals(
                            read.content().getBytes(StandardCharsets.UTF_8), big.getBytes(StandardCharsets.UTF_8)))
                    .as("1 MiB content byte-exact")
                    .isTrue();
            assertThat(store.contextWindow((1 << 20) + 1)).hasSize(1);
            assertThat(store.contextWindow(1 << 20)).isEmpty();
        }

        @Test
        void unpairedSurrogatesAreRejectedWithoutEchoingTheContent() {
            for (String content : List.of(
                    MARKER + "\ud800", MARKER + "\udc00" + MARKER, "\ud83d" + MARKER, MARKER + "\ude00\ud83d")) {
                InvalidInputException e = assertInvalid(ErrorCode.INVALID_MESSAGE, () -> Message.user(content));
                assertThat(e.getMessage()).doesNotContain(MARKER);
                InvalidInputException args =
                        assertInvalid(ErrorCode.INVALID_MESSAGE, () -> new ToolCall("c", "t", content));
                assertThat(args.getMessage()).doesNotContain(MARKER);
            }
        }

        @Test
        void unpairedSurrogatesInMetadataAreRejected() {
            for (String value : List.of(MARKER + "\ud800", "\udc00" + MARKER)) {
                InvalidInputException e = assertInvalid(
                        ErrorCode.INVALID_MESSAGE,
                        () -> Message.builder(Message.USER, "x")
                                .metadata("k", value)
                                .build());
                assertThat(e.getMessage()).doesNotContain(MARKER);
            }
        }

        @Test
        void exceptionMessagesNeverContainContent() {
            Memory memory = newMemory();
            SessionKey key = newKey();
            MemoryStore store = memory.session(key);
            Message secret =
                    store.add(Message.builder(Message.SYSTEM, text(MARKER, 50)).build());
            assertThat(secret.toString()).doesNotContain(MARKER);
            List<MemoryException> failures = new ArrayList<>();
            failures.add(assertInvalid(ErrorCode.CONTEXT_BUDGET_EXCEEDED, () -> store.contextWindow(10)));
            failures.add(assertInvalid(
                    ErrorCode.INVALID_MESSAGE,
                    () -> Message.builder(Message.USER, MARKER)
                            .metadata("bad", Double.NaN)
                            .build()));
            failures.add(assertInvalid(
                    ErrorCode.INVALID_MESSAGE,
                    () -> Message.builder(Message.USER, MARKER)
                            .toolCalls(List.of(new ToolCall("c", "t", MARKER)))
                            .build()));
            failures.add(assertInvalid(
                    ErrorCode.INVALID_MESSAGE,
                    () -> Message.builder(Message.TOOL, MARKER).build()));
            listener.failWith(new IllegalStateException("listener refused"));
            failures.add(assertFails(ErrorCode.CALLBACK_FAILED, store::clear));
            listener.stopFailing();
            memory.close();
            failures.add(assertFails(ErrorCode.CLOSED, () -> store.add(Message.user(MARKER))));
            failures.add(assertFails(ErrorCode.CLOSED, store::history));
            for (MemoryException e : failures) {
                assertThat(e.getMessage()).as("message of %s", e.code()).doesNotContain(MARKER);
                assertThat(String.valueOf(e)).doesNotContain(MARKER);
            }
        }
    }

    // ================================================================================================================

    /** Invalid input is rejected with a typed exception and changes nothing. */
    @Nested
    public class BadInput {
        @Test
        void invalidRolesAreRejected() {
            List<String> roles =
                    Arrays.asList(null, "", " ", "   ", " user", "user ", "us\u0000er", "us\ner", "r".repeat(65));
            for (String role : roles) {
                assertInvalid(
                        ErrorCode.INVALID_MESSAGE,
                        () -> Message.builder(role, "x").build());
            }
            assertThat(Message.builder("r".repeat(64), "x").build().role()).hasSize(64);
        }

        @Test
        void nonJsonMetadataIsRejected() {
            List<Object> values = Arrays.asList(
                    Thread.currentThread(),
                    Double.NaN,
                    Double.POSITIVE_INFINITY,
                    Float.NEGATIVE_INFINITY,
                    Map.of(1, "integer key"),
                    Map.of(new Object(), "object key"),
                    List.of(Map.of("deep", Optional.empty())),
                    new StringBuilder("not a string"),
                    Instant.EPOCH,
                    null,
                    deeplyNested(40));
            for (Object value : values) {
                assertInvalid(
                        ErrorCode.INVALID_MESSAGE,
                        () -> Message.builder(Message.USER, "x")
                                .metadata("k", value)
                                .build());
            }
            Map<String, Object> nullValue = new HashMap<>();
            nullValue.put("k", null);
            assertInvalid(
                    ErrorCode.INVALID_MESSAGE,
                    () -> Message.builder(Message.USER, "x").metadata(nullValue).build());
            assertInvalid(
                    ErrorCode.INVALID_MESSAGE,
                    () -> Message.builder(Message.USER, "x").metadata(null).build());
        }

        private Object deeplyNested(int depth) {
            Object value = "bottom";
            for (int i = 0; i < depth; i++) {
                value = List.of(value);
            }
            return value;
        }

        @Test
        void invalidToolFieldsAreRejected() {
            List<ToolCall> calls = List.of(new ToolCall("c1", "t", "{}"));
            assertInvalid(
                    ErrorCode.INVALID_MESSAGE,
                    () -> Message.builder(Message.USER, "x").toolCalls(calls).build());
            assertInvalid(
                    ErrorCode.INVALID_MESSAGE,
                    () -> Message.builder(Message.TOOL, "x").build());
            assertInvalid(
                    ErrorCode.INVALID_MESSAGE,
                    () -> Message.builder(Message.USER, "x").toolCallId("c1").build());
            assertInvalid(
                    ErrorCode.INVALID_MESSAGE,
                    () -> Message.builder(Message.ASSISTANT, "x")
                            .toolCalls(List.of(new ToolCall("c1", "t", "{}"), new ToolCall("c1", "u", "{}")))
                            .build());
            assertInvalid(
                    ErrorCode.INVALID_MESSAGE,
                    () -> Message.builder(Message.TOOL, "x")
                            .toolCallId("c1")
                            .pinned()
                            .build());
            assertInvalid(
                    ErrorCode.INVALID_MESSAGE,
                    () -> Message.builder(Message.ASSISTANT, "x")
                            .toolCalls(null)
                            .build());
            assertInvalid(ErrorCode.INVALID_MESSAGE, () -> new ToolCall("c1", "t", null));
            assertInvalid(ErrorCode.INVALID_MESSAGE, () -> new ToolCall("", "t", "{}"));
            assertInvalid(ErrorCode.INVALID_MESSAGE, () -> new TokenCount(-1, "counter"));
            assertInvalid(
                    ErrorCode.INVALID_MESSAGE,
                    () -> Message.builder(Message.USER, null).build());
        }

        @Test
        void invalidQueriesAreRejected() {
            assertInvalid(ErrorCode.INVALID_QUERY, () -> HistoryQuery.newest(-1));
            assertInvalid(
                    ErrorCode.INVALID_QUERY,
                    () -> HistoryQuery.builder().offset(-1).build());
            assertInvalid(
                    ErrorCode.INVALID_QUERY,
                    () -> HistoryQuery.builder().between(minute(2), minute(1)).build());
            assertInvalid(
                    ErrorCode.INVALID_QUERY,
                    () -> HistoryQuery.builder().roles(" ").build());
            assertInvalid(
                    ErrorCode.INVALID_QUERY,
                    () -> HistoryQuery.builder().metadata("k", Double.NaN).build());
        }

        @Test
        void nullArgumentsAreRejectedAndChangeNothing() {
            MemoryStore store = newStore();
            addNumbered(store, 3);
            Snapshot before = snapshot(store);
            assertInvalid(ErrorCode.INVALID_MESSAGE, () -> store.add(null));
            assertUnchanged(before, store);
            assertInvalid(ErrorCode.INVALID_MESSAGE, () -> store.addAll(null));
            assertUnchanged(before, store);
            assertInvalid(ErrorCode.INVALID_MESSAGE, () -> store.addAll(Arrays.asList(Message.user("a"), null)));
            assertUnchanged(before, store);
            assertInvalid(ErrorCode.INVALID_MESSAGE, () -> store.addAll(Arrays.asList((Message) null)));
            assertUnchanged(before, store);
            assertInvalid(ErrorCode.INVALID_QUERY, () -> store.history(null));
            assertUnchanged(before, store);
            assertInvalid(ErrorCode.INVALID_QUERY, () -> store.contextWindow(0));
            assertUnchanged(before, store);
            assertThat(store.add(Message.user("next")).sequence()).isEqualTo(4);
        }
    }

    // ================================================================================================================

    /** Concurrent appends to one session lose nothing, and every reader sees one total order. */
    @Nested
    public class Concurrency {
        private static final int WRITERS = 8;
        private static final int READERS = 2;

        @Test
        void concurrentAppendsLoseNothingAndShareOneOrder() throws Exception {
            int perWriter = appendsPerWriter();
            MemoryStore store = newStore();
            ExecutorService pool = Executors.newFixedThreadPool(WRITERS + READERS);
            CountDownLatch start = new CountDownLatch(1);
            AtomicBoolean writing = new AtomicBoolean(true);
            List<List<Message>> written = new ArrayList<>();
            List<List<List<Message>>> snapshots = new ArrayList<>();
            try {
                List<Future<List<Message>>> writers = new ArrayList<>();
                for (int w = 0; w < WRITERS; w++) {
                    int writer = w;
                    writers.add(pool.submit(() -> {
                        start.await();
                        List<Message> mine = new ArrayList<>(perWriter);
                        for (int n = 0; n < perWriter; n++) {
                            mine.add(store.add(Message.builder(Message.USER, "w" + writer + " n" + n)
                                    .metadata("writer", writer)
                                    .metadata("n", n)
                                    .build()));
                        }
                        return mine;
                    }));
                }
                List<Future<List<List<Message>>>> readers = new ArrayList<>();
                for (int r = 0; r < READERS; r++) {
                    readers.add(pool.submit(() -> {
                        start.await();
                        List<List<Message>> seen = new ArrayList<>();
                        long lastCount = 0;
                        boolean more = true;
                        while (more) {
                            more = writing.get();
                            List<Message> newest = store.history(HistoryQuery.newest(200));
                            long count = store.count();
                            assertThat(count).as("count never decreases").isGreaterThanOrEqualTo(lastCount);
                            if (lastCount >= 200) {
                                assertThat(newest)
                                        .as("newest 200 of a longer history")
                                        .hasSize(200);
                            }
                            lastCount = count;
                            if (seen.size() < 20_000) {
                                seen.add(newest);
                            }
                        }
                        return seen;
                    }));
                }
                start.countDown();
                try {
                    for (Future<List<Message>> f : writers) {
                        written.add(f.get());
                    }
                } finally {
                    writing.set(false);
                }
                for (Future<List<List<Message>>> f : readers) {
                    snapshots.add(f.get());
                }
            } finally {
                pool.shutdownNow();
            }

            int total = WRITERS * perWriter;
            List<Message> history = store.history();
            assertThat(store.count()).isEqualTo(total);
            assertThat(history).hasSize(total);
            for (int i = 0; i < total; i++) {
                assertThat(history.get(i).sequence())
                        .as("sequence at position %d", i)
                        .isEqualTo(i + 1);
            }
            assertThat(history.stream().map(Message::id).distinct().count()).isEqualTo(total);
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                List<Message> mine = history.stream()
                        .filter(m -> ((Number) m.metadata().get("writer")).intValue() == writer)
                        .toList();
                assertThat(mine)
                        .as("writer %d's messages in its order", writer)
                        .containsExactlyElementsOf(written.get(w));
                for (int n = 0; n < perWriter; n++) {
                    assertThat(((Number) mine.get(n).metadata().get("n")).intValue())
                            .isEqualTo(n);
                }
            }
            for (List<List<Message>> reader : snapshots) {
                assertThat(reader).isNotEmpty();
                for (List<Message> snapshot : reader) {
                    assertThat(snapshot.size()).isLessThanOrEqualTo(200);
                    for (int i = 0; i < snapshot.size(); i++) {
                        Message m = snapshot.get(i);
                        if (i > 0 && m.sequence() != snapshot.get(i - 1).sequence() + 1) {
                            throw new AssertionError("a reader saw sequence "
                                    + snapshot.get(i - 1).sequence()
                                    + " followed by " + m.sequence()
                                    + ": the newest messages must be a gap-free, increasing run of the final order");
                        }
                        if (m.sequence() < 1 || m.sequence() > total) {
                            throw new AssertionError("a reader saw " + m + "; sequences run from 1 to " + total);
                        }
                        if (!history.get((int) m.sequence() - 1).equals(m)) {
                            throw new AssertionError("a reader saw " + m + " where the final history has "
                                    + history.get((int) m.sequence() - 1));
                        }
                    }
                }
            }
        }
    }

    // ================================================================================================================

    /** Closing a memory. */
    @Nested
    public class Lifecycle {
        @Test
        void everyCallAfterCloseFailsWithClosed() {
            Memory memory = newMemory();
            SessionKey key = newKey();
            MemoryStore store = memory.session(key);
            store.add(Message.user("before close"));
            boolean listing = memory.capabilities().contains(Capability.SESSION_LISTING);
            memory.close();
            List<ThrowingCallable> calls = new ArrayList<>(List.<ThrowingCallable>of(
                    () -> store.add(Message.user("after")),
                    () -> store.addAll(List.of(Message.user("after"))),
                    store::history,
                    () -> store.history(HistoryQuery.newest(1)),
                    () -> store.contextWindow(100),
                    store::count,
                    store::clear,
                    () -> memory.session(key),
                    () -> memory.session(newKey()).history(),
                    () -> memory.delete(key)));
            if (listing) {
                calls.add(() -> memory.sessions(tenant));
            }
            for (ThrowingCallable call : calls) {
                assertFails(ErrorCode.CLOSED, call);
            }
        }

        @Test
        void closeIsIdempotent() {
            Memory memory = newMemory();
            MemoryStore store = memory.session(newKey());
            memory.close();
            memory.close();
            assertFails(ErrorCode.CLOSED, store::count);
        }

        /**
         * Checked both ways: a memory that declares {@link Capability#PERSISTENT} keeps messages across closing and
         * reopening; one that does not declare it starts empty when reopened, so the declaration is honest.
         */
        @Test
        void reopeningKeepsMessagesExactlyWhenPersistentIsDeclared() {
            Memory memory = newMemory();
            boolean persistent = memory.capabilities().contains(Capability.PERSISTENT);
            SessionKey key = newKey();
            List<Message> stored = addNumbered(memory.session(key), 3);
            memory.close();
            Memory reopened = newMemory();
            if (persistent) {
                assertThat(reopened.session(key).history()).containsExactlyElementsOf(stored);
            } else {
                assertThat(reopened.session(key).history())
                        .as("a memory that does not declare PERSISTENT should not keep messages across reopening")
                        .isEmpty();
            }
        }
    }
}
