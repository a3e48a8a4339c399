package io.agentmemory.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import com.google.inject.Guice;
import io.agentmemory.BackendUnavailableException;
import io.agentmemory.ConfigurationException;
import io.agentmemory.ErrorCode;
import io.agentmemory.EvictionListener;
import io.agentmemory.HistoryQuery;
import io.agentmemory.InvalidInputException;
import io.agentmemory.Memory;
import io.agentmemory.MemoryException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.TokenCounter;
import io.agentmemory.core.CorePlugin;
import io.agentmemory.core.config.Memories;
import io.agentmemory.core.decorator.ForwardingMemory;
import io.agentmemory.core.decorator.ForwardingMemoryStore;
import io.agentmemory.core.guice.MemoryModule;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class MetricsMemoryTest {
    private static final String TENANT = "tenant-4b1d";
    private static final String SESSION = "session-7c2e";
    private static final String OTHER_SESSION = "session-9f03";

    /** One token per character, so that window token totals are exact and easy to read. */
    private static final TokenCounter LENGTH = new TokenCounter() {
        @Override
        public int count(Message message) {
            return message.content().length();
        }

        @Override
        public String id() {
            return "test-length";
        }
    };

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private Memories.Builder configured() {
        return Memories.builder()
                .plugins(List.of(new CorePlugin()))
                .decorators(MetricsMemory.NAME)
                .service(MeterRegistry.class, registry)
                .tokenCounter(LENGTH);
    }

    @Test
    void recordsEveryOperationRemovalAndWindowExactly() {
        Memory memory = configured()
                .set("memory.metrics.tag", "memory")
                .retention(Retention.maxMessages(2))
                .build();
        assertThat(memory).isInstanceOf(MetricsMemory.class);

        MemoryStore store = memory.session(TENANT, SESSION);
        store.add(Message.user("a"));
        store.add(Message.assistant("bb"));
        store.add(Message.user("ccc")); // removes "a": size 1
        store.addAll(List.of(Message.assistant("dddd"), Message.user("eeeee"))); // removes "bb", "ccc": size 2
        assertThat(store.history()).extracting(Message::content).containsExactly("dddd", "eeeee");
        assertThat(store.history(HistoryQuery.newest(1)))
                .extracting(Message::content)
                .containsExactly("eeeee");
        assertThat(store.contextWindow(100)).hasSize(2); // 9 tokens
        assertThat(store.contextWindow(5)).extracting(Message::content).containsExactly("eeeee"); // 5 tokens
        assertThatThrownBy(() -> store.contextWindow(0))
                .isInstanceOfSatisfying(
                        InvalidInputException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_QUERY));
        assertThat(store.count()).isEqualTo(2);
        assertThatThrownBy(() -> store.add(null))
                .isInstanceOfSatisfying(
                        InvalidInputException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_MESSAGE));
        assertThat(memory.sessions(TENANT)).containsExactly(SessionKey.of(TENANT, SESSION));
        store.clear(); // cleared 2

        MemoryStore other = memory.session(TENANT, OTHER_SESSION);
        other.add(Message.user("f"));
        assertThat(memory.delete(other.key())).isTrue(); // cleared 1
        assertThat(memory.delete(other.key())).isFalse();
        memory.close();
        assertThatThrownBy(store::count)
                .isInstanceOfSatisfying(
                        MemoryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CLOSED));

        assertThat(operationCounts("memory"))
                .containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
                        entry("add/success", 4L),
                        entry("add/invalid_message", 1L),
                        entry("addAll/success", 1L),
                        entry("history/success", 2L),
                        entry("contextWindow/success", 2L),
                        entry("contextWindow/invalid_query", 1L),
                        entry("count/success", 1L),
                        entry("count/closed", 1L),
                        entry("sessions/success", 1L),
                        entry("clear/success", 1L),
                        entry("delete/success", 2L)));
        assertThat(removalCounts("memory"))
                .containsExactlyInAnyOrderEntriesOf(Map.of(
                        "size",
                        3.0,
                        "tokens",
                        0.0,
                        "expired",
                        0.0,
                        "overflow",
                        0.0,
                        "summarized",
                        0.0,
                        "cleared",
                        3.0));
        assertThat(counter(MetricsMemory.MESSAGES_ADDED, "memory").count()).isEqualTo(6.0);
        DistributionSummary windowMessages = summary(MetricsMemory.WINDOW_MESSAGES, "memory");
        assertThat(windowMessages.count()).isEqualTo(2);
        assertThat(windowMessages.totalAmount()).isEqualTo(3.0);
        DistributionSummary windowTokens = summary(MetricsMemory.WINDOW_TOKENS, "memory");
        assertThat(windowTokens.count()).isEqualTo(2);
        assertThat(windowTokens.totalAmount()).isEqualTo(14.0);
        assertTagsAreBounded(List.of(TENANT, SESSION, OTHER_SESSION, "bb", "ccc", "dddd", "eeeee"));
    }

    @Test
    void addAndWindowIsOneOperationThatCountsItsMessageAndItsWindow() {
        Memory memory = configured().set("memory.metrics.tag", "memory").build();
        MemoryStore store = memory.session(TENANT, SESSION);
        assertThat(store.addAndWindow(Message.user("a"), 100).window()).hasSize(1);
        assertThat(store.addAndWindow(Message.user("bb"), 100).window()).hasSize(2);
        assertThatThrownBy(() -> store.addAndWindow(null, 100))
                .isInstanceOfSatisfying(
                        InvalidInputException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_MESSAGE));
        assertThatThrownBy(() -> store.addAndWindow(Message.user("never"), 0))
                .isInstanceOfSatisfying(
                        InvalidInputException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_QUERY));
        store.add(Message.system("ssssss"));
        assertThatThrownBy(() -> store.addAndWindow(Message.user("d"), 3))
                .isInstanceOfSatisfying(
                        InvalidInputException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.CONTEXT_BUDGET_EXCEEDED));
        assertThat(store.count()).isEqualTo(4);

        assertThat(operationCounts("memory"))
                .containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
                        entry("add/success", 1L),
                        entry("addAndWindow/success", 2L),
                        entry("addAndWindow/invalid_message", 1L),
                        entry("addAndWindow/invalid_query", 1L),
                        entry("addAndWindow/context_budget_exceeded", 1L),
                        entry("count/success", 1L)));
        assertThat(counter(MetricsMemory.MESSAGES_ADDED, "memory").count())
                .as("the message of the call whose window failed was stored")
                .isEqualTo(4.0);
        DistributionSummary windowMessages = summary(MetricsMemory.WINDOW_MESSAGES, "memory");
        assertThat(windowMessages.count()).isEqualTo(2);
        assertThat(windowMessages.totalAmount()).isEqualTo(3.0);
        assertThat(summary(MetricsMemory.WINDOW_TOKENS, "memory").totalAmount()).isEqualTo(4.0);
    }

    @Test
    void everyMeterHasExactlyItsDocumentedTagKeys() {
        Memory memory = configured().build();
        MemoryStore store = memory.session(TENANT, SESSION);
        store.add(Message.user("hello-zq"));
        store.contextWindow(10);
        memory.delete(store.key());

        Map<String, Set<String>> expected = Map.of(
                MetricsMemory.OPERATIONS, Set.of("operation", "backend", "outcome"),
                MetricsMemory.REMOVALS, Set.of("backend", "cause"),
                MetricsMemory.MESSAGES_ADDED, Set.of("backend"),
                MetricsMemory.WINDOW_MESSAGES, Set.of("backend"),
                MetricsMemory.WINDOW_TOKENS, Set.of("backend"));
        assertThat(registry.getMeters())
                .extracting(m -> m.getId().getName())
                .containsOnly(expected.keySet().toArray(String[]::new));
        for (Meter meter : registry.getMeters()) {
            assertThat(meter.getId().getTags())
                    .as("tags of %s", meter.getId())
                    .extracting(Tag::getKey)
                    .containsExactlyInAnyOrderElementsOf(
                            expected.get(meter.getId().getName()));
            assertThat(meter.getId().getTag("backend")).isEqualTo(MetricsMemory.UNKNOWN_BACKEND);
        }
        // Every operation has its success timer and every cause its counter from the start, so dashboards see zeros.
        assertThat(registry.find(MetricsMemory.OPERATIONS)
                        .tag("outcome", "success")
                        .timers())
                .hasSize(9);
        assertThat(registry.find(MetricsMemory.REMOVALS).counters()).hasSize(RemovalCause.values().length);
        assertTagsAreBounded(List.of(TENANT, SESSION, "hello-zq"));
    }

    @Test
    void aListenerThatThrowsFailsTheWriteAndNothingIsCounted() {
        EvictionListener refusing = (key, removed, cause) -> {
            throw new IllegalStateException("archive down");
        };
        Memory memory = configured()
                .retention(Retention.maxMessages(1))
                .evictionListener(refusing)
                .build();
        MemoryStore store = memory.session(TENANT, SESSION);
        store.add(Message.user("kept"));
        assertThatThrownBy(() -> store.add(Message.user("refused")))
                .isInstanceOfSatisfying(
                        MemoryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CALLBACK_FAILED));

        assertThat(store.history()).extracting(Message::content).containsExactly("kept");
        assertThat(removalCounts(MetricsMemory.UNKNOWN_BACKEND)).containsEntry("size", 0.0);
        assertThat(operationCounts(MetricsMemory.UNKNOWN_BACKEND))
                .containsExactlyInAnyOrderEntriesOf(
                        Map.of("add/success", 1L, "add/callback_failed", 1L, "history/success", 1L));
        assertThat(counter(MetricsMemory.MESSAGES_ADDED, MetricsMemory.UNKNOWN_BACKEND)
                        .count())
                .isEqualTo(1.0);
    }

    @Test
    void theCountingListenerCountsOnlyAfterItsDelegateReturns() {
        List<String> calls = new ArrayList<>();
        EvictionListener listener = MetricsMemory.countingListener(registry, "manual", (key, removed, cause) -> {
            calls.add(cause + ":" + removed.size());
            if (cause == RemovalCause.EXPIRED) {
                throw new IllegalStateException("refused");
            }
        });
        SessionKey key = SessionKey.of(TENANT, SESSION);
        listener.onRemoval(key, List.of(Message.user("1"), Message.user("2")), RemovalCause.SUMMARIZED);
        assertThatThrownBy(() -> listener.onRemoval(key, List.of(Message.user("3")), RemovalCause.EXPIRED))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("refused");

        assertThat(calls).containsExactly("SUMMARIZED:2", "EXPIRED:1");
        assertThat(removalCounts("manual")).containsEntry("summarized", 2.0).containsEntry("expired", 0.0);
    }

    @Test
    void wrapWithACountingListenerRecordsWithoutConfiguration() {
        List<Message> archived = new ArrayList<>();
        Memory backend = InMemoryMemory.builder()
                .tokenCounter(LENGTH)
                .retention(Retention.maxMessages(1))
                .evictionListener(MetricsMemory.countingListener(
                        registry, "manual", (key, removed, cause) -> archived.addAll(removed)))
                .build();
        Memory memory = MetricsMemory.wrap(backend, registry, "manual");
        MemoryStore store = memory.session(TENANT, SESSION);
        store.addAll(List.of(Message.user("one"), Message.user("two"), Message.user("three")));

        assertThat(archived).extracting(Message::content).containsExactly("one", "two");
        assertThat(removalCounts("manual")).containsEntry("size", 2.0);
        assertThat(operationCounts("manual")).containsExactlyInAnyOrderEntriesOf(Map.of("addAll/success", 1L));
        assertThat(counter(MetricsMemory.MESSAGES_ADDED, "manual").count()).isEqualTo(3.0);
        assertTagsAreBounded(List.of(TENANT, SESSION, "one", "two", "three"));
    }

    @Test
    void wrapAloneTimesOperationsButCannotSeeRemovals() {
        Memory memory = MetricsMemory.wrap(
                InMemoryMemory.builder().retention(Retention.maxMessages(1)).build(), registry, "bare");
        MemoryStore store = memory.session(TENANT, SESSION);
        store.add(Message.user("one"));
        store.add(Message.user("two"));

        assertThat(operationCounts("bare")).containsExactlyInAnyOrderEntriesOf(Map.of("add/success", 2L));
        assertThat(registry.find(MetricsMemory.REMOVALS).counters()).isEmpty();
    }

    @Test
    void aFailureOutsideTheExceptionFamilyHasOutcomeError() {
        Memory broken = new ForwardingMemory(InMemoryMemory.builder().build()) {
            @Override
            public MemoryStore session(SessionKey key) {
                return new ForwardingMemoryStore(delegate().session(key)) {
                    @Override
                    public long count() {
                        throw new IllegalStateException("bug");
                    }
                };
            }
        };
        MemoryStore store = MetricsMemory.wrap(broken, registry, "broken").session(TENANT, SESSION);
        assertThatThrownBy(store::count)
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("bug");

        assertThat(operationCounts("broken")).containsExactlyInAnyOrderEntriesOf(Map.of("count/error", 1L));
    }

    @Test
    void aWindowThatFailsAfterTheAppendSaysTheMessageWasStoredAndCountsIt() {
        Memory backend = InMemoryMemory.builder().build();
        Memory flaky = new ForwardingMemory(backend) {
            @Override
            public MemoryStore session(SessionKey key) {
                return new ForwardingMemoryStore(delegate().session(key)) {
                    @Override
                    public List<Message> contextWindow(int maxTokens) {
                        throw new BackendUnavailableException("the window read timed out", null);
                    }
                };
            }
        };
        MemoryStore store = MetricsMemory.wrap(flaky, registry, "flaky").session(TENANT, SESSION);
        Message message = Message.user("kept");
        assertThatThrownBy(() -> store.addAndWindow(message, 100))
                .isInstanceOfSatisfying(BackendUnavailableException.class, e -> {
                    assertThat(e.isRetryable()).isTrue();
                    assertThat(e.getMessage())
                            .startsWith("the window read timed out")
                            .contains("stored all the same, as sequence 1")
                            .doesNotContain("kept");
                });
        assertThatThrownBy(() -> store.addAndWindow(message, 100)).isInstanceOf(BackendUnavailableException.class);
        assertThat(backend.session(TENANT, SESSION).history())
                .as("stored once, retried with the same message")
                .singleElement()
                .satisfies(m -> assertThat(m.id()).isEqualTo(message.id()));

        assertThat(operationCounts("flaky"))
                .containsExactlyInAnyOrderEntriesOf(Map.of("addAndWindow/backend_unavailable", 2L));
        assertThat(counter(MetricsMemory.MESSAGES_ADDED, "flaky").count())
                .as("both calls stored, or found stored, their message before the window failed")
                .isEqualTo(2.0);
    }

    @Test
    void withoutARegistryAssemblyFailsAndSaysHowToBindOne() {
        assertThatThrownBy(() -> Memories.builder()
                        .plugins(List.of(new CorePlugin()))
                        .decorators(MetricsMemory.NAME)
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("MeterRegistry")
                .hasMessageContaining("MemoryModule.Builder.meterRegistry")
                .hasMessageContaining("Memories.Builder.service(MeterRegistry.class");
    }

    @Test
    void anInvalidBackendTagIsAConfigurationError() {
        assertThatThrownBy(() -> configured().set("memory.metrics.tag", "").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("memory.metrics.tag");
        assertThatThrownBy(() -> configured().set("memory.metrics.tag", "a b").build())
                .isInstanceOf(ConfigurationException.class);
        assertThatThrownBy(() -> MetricsMemory.wrap(InMemoryMemory.builder().build(), registry, "x".repeat(65)))
                .isInstanceOf(ConfigurationException.class);
        assertThatThrownBy(() -> MetricsMemory.countingListener(registry, "{tenant}", EvictionListener.NONE))
                .isInstanceOf(ConfigurationException.class);
        assertThat(registry.getMeters()).isEmpty();
    }

    @Test
    void anUnknownSettingOfTheDecoratorIsRejected() {
        assertThatThrownBy(() -> configured().set("memory.metrics.tags", "jdbc").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("memory.metrics.tag");
    }

    @Test
    void guiceWiringRecordsToTheBoundRegistry() {
        Memory memory = Guice.createInjector(MemoryModule.builder()
                        .plugins(List.of(new CorePlugin()))
                        .decorators(MetricsMemory.NAME)
                        .set("memory.metrics.tag", "memory")
                        .meterRegistry(registry)
                        .build())
                .getInstance(Memory.class);
        MemoryStore store = memory.session(TENANT, SESSION);
        store.add(Message.user("hello"));
        store.clear();

        assertThat(operationCounts("memory"))
                .containsExactlyInAnyOrderEntriesOf(Map.of("add/success", 1L, "clear/success", 1L));
        assertThat(removalCounts("memory")).containsEntry("cleared", 1.0);
        memory.close();
    }

    @Test
    void concurrentAppendsAreAllCounted() throws Exception {
        Memory memory = configured().build();
        int threads = 8;
        int appends = 250;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int writer = t;
                done.add(pool.submit(() -> {
                    start.await();
                    MemoryStore store = memory.session(TENANT, writer % 2 == 0 ? SESSION : OTHER_SESSION);
                    for (int i = 0; i < appends; i++) {
                        store.add(Message.user("m" + i));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        long total = (long) threads * appends;
        assertThat(operationCounts(MetricsMemory.UNKNOWN_BACKEND))
                .containsExactlyInAnyOrderEntriesOf(Map.of("add/success", total));
        assertThat(counter(MetricsMemory.MESSAGES_ADDED, MetricsMemory.UNKNOWN_BACKEND)
                        .count())
                .isEqualTo((double) total);
        assertThat(memory.session(TENANT, SESSION).count()
                        + memory.session(TENANT, OTHER_SESSION).count())
                .isEqualTo(total);
    }

    // ----------------------------------------------------------------------------------------------------------------

    /** The non-zero operation timers of {@code backend}, as "operation/outcome" to count. */
    private Map<String, Long> operationCounts(String backend) {
        return registry.find(MetricsMemory.OPERATIONS).tag("backend", backend).timers().stream()
                .filter(t -> t.count() > 0)
                .collect(Collectors.toMap(
                        t -> t.getId().getTag("operation") + "/" + t.getId().getTag("outcome"),
                        Timer::count,
                        Long::sum,
                        TreeMap::new));
    }

    /** Every removal counter of {@code backend}, as lower-case cause to count. */
    private Map<String, Double> removalCounts(String backend) {
        return registry.find(MetricsMemory.REMOVALS).tag("backend", backend).counters().stream()
                .collect(Collectors.toMap(c -> c.getId().getTag("cause"), Counter::count));
    }

    private Counter counter(String name, String backend) {
        return registry.get(name).tag("backend", backend).counter();
    }

    private DistributionSummary summary(String name, String backend) {
        return registry.get(name).tag("backend", backend).summary();
    }

    /** No tag of any meter mentions a tenant, session id or message content used in the test. */
    private void assertTagsAreBounded(List<String> forbidden) {
        assertThat(registry.getMeters()).isNotEmpty();
        for (Meter meter : registry.getMeters()) {
            for (Tag tag : meter.getId().getTags()) {
                for (String value : forbidden) {
                    assertThat(tag.getValue().toLowerCase(Locale.ROOT))
                            .as("tag %s of %s", tag.getKey(), meter.getId().getName())
                            .doesNotContain(value.toLowerCase(Locale.ROOT));
                }
            }
        }
    }
}
