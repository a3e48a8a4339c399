package io.agentmemory.core.metrics;

import io.agentmemory.Added;
import io.agentmemory.ConfigurationException;
import io.agentmemory.EvictionListener;
import io.agentmemory.HistoryQuery;
import io.agentmemory.Memory;
import io.agentmemory.MemoryException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.core.decorator.ForwardingMemory;
import io.agentmemory.core.decorator.ForwardingMemoryStore;
import io.agentmemory.core.metrics.Meters.Operation;
import io.agentmemory.internal.Checks;
import io.agentmemory.spi.DecoratorFactory;
import io.agentmemory.spi.MemoryContext;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code metrics} decorator: records what a memory does to a Micrometer {@link MeterRegistry}. Thread-safe when
 * the delegate is.
 *
 * <table>
 *   <caption>meters</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th><th>records</th></tr>
 *   <tr><td>{@value #OPERATIONS}</td><td>timer</td><td>operation, backend, outcome</td><td>each call of
 *       {@code add}, {@code addAll}, {@code addAndWindow}, {@code history} (both forms), {@code contextWindow},
 *       {@code count},
 *       {@code clear}, {@code sessions} and {@code delete}; {@code outcome} is {@code success}, the failure's
 *       {@link io.agentmemory.ErrorCode} in lower case ({@code invalid_query}, {@code backend_unavailable}...), or
 *       {@code error} for an exception outside the {@link io.agentmemory.MemoryException} family</td></tr>
 *   <tr><td>{@value #MESSAGES_ADDED}</td><td>counter</td><td>backend</td><td>messages given to successful
 *       {@code add}, {@code addAll} and {@code addAndWindow} calls (and to an {@code addAndWindow} that stored its
 *       message, then failed to make the window: {@code context_budget_exceeded}, or a backend failure). A message
 *       sent again with its id, which the store keeps once and returns as stored, counts each time it is sent: the
 *       store does not tell a decorator which messages it already held</td></tr>
 *   <tr><td>{@value #WINDOW_MESSAGES}</td><td>distribution summary</td><td>backend</td><td>the number of messages
 *       of each context window returned ({@code addAndWindow}'s included)</td></tr>
 *   <tr><td>{@value #WINDOW_TOKENS}</td><td>distribution summary</td><td>backend</td><td>the stored token total of
 *       each context window returned</td></tr>
 *   <tr><td>{@value #REMOVALS}</td><td>counter</td><td>backend, cause</td><td>messages removed from sessions;
 *       {@code cause} is the {@link io.agentmemory.RemovalCause} in lower case ({@code size}, {@code cleared}...)
 *       </td></tr>
 * </table>
 *
 * <p>No tag, and no log line, ever holds a tenant, session id, scope or message content: their values are unbounded
 * and may be personal data. The {@code backend} tag is the label given to {@link #wrap} or the {@code tag} setting.
 * At DEBUG level the logger {@code io.agentmemory.core.metrics.MetricsMemory} logs each operation with its outcome,
 * duration and message count.
 *
 * <p><b>Removals</b> happen inside the backend (retention, {@code clear}, {@code delete}), so they are counted by an
 * {@link EvictionListener} the backend is built with, not by this class. Configured by name ({@code
 * memory.decorators=metrics}), the decorator's {@link DecoratorFactory#prepare prepare} step installs that listener
 * itself. A memory assembled by hand counts removals only when its backend is built with
 * {@link #countingListener(MeterRegistry, String, EvictionListener)}:
 *
 * <pre>{@code
 * MeterRegistry registry = ...;
 * Memory memory = MetricsMemory.wrap(
 *         InMemoryMemory.builder()
 *                 .retention(Retention.maxMessages(100))
 *                 .evictionListener(MetricsMemory.countingListener(registry, "memory", archive))
 *                 .build(),
 *         registry,
 *         "memory");
 * }</pre>
 *
 * <p>Configured by name, the settings are:
 *
 * <table>
 *   <caption>metrics settings</caption>
 *   <tr><th>key</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>memory.metrics.tag</td><td>the value of the {@code backend} tag of every meter: 1 to 64 letters,
 *       digits, '.', '_' or '-', e.g. the backend's name</td><td>{@value #UNKNOWN_BACKEND}</td></tr>
 * </table>
 *
 * <p>The registry is the {@link MeterRegistry} service of the {@link MemoryContext}: bind it with
 * {@code MemoryModule.Builder.meterRegistry(registry)} or {@code Memories.Builder.service(MeterRegistry.class,
 * registry)}; without one, assembly fails with a {@link ConfigurationException}.
 */
public final class MetricsMemory extends ForwardingMemory {
    /** The decorator's name in {@code memory.decorators}. */
    public static final String NAME = "metrics";
    /** The setting that gives the {@code backend} tag's value. */
    public static final String TAG_KEY = "tag";
    /** The {@code backend} tag's value when none is configured. */
    public static final String UNKNOWN_BACKEND = "unknown";

    /** The timer of every operation. */
    public static final String OPERATIONS = "agentmemory.operations";
    /** The counter of removed messages. */
    public static final String REMOVALS = "agentmemory.removals";
    /** The counter of stored messages. */
    public static final String MESSAGES_ADDED = "agentmemory.messages.added";
    /** The summary of context window sizes in messages. */
    public static final String WINDOW_MESSAGES = "agentmemory.window.messages";
    /** The summary of context window sizes in tokens. */
    public static final String WINDOW_TOKENS = "agentmemory.window.tokens";

    /** The tag naming the operation. */
    public static final String OPERATION_TAG = "operation";
    /** The tag naming the backend. */
    public static final String BACKEND_TAG = "backend";
    /** The tag naming the outcome of an operation. */
    public static final String OUTCOME_TAG = "outcome";
    /** The tag naming a removal's cause. */
    public static final String CAUSE_TAG = "cause";

    private static final Logger LOG = LoggerFactory.getLogger(MetricsMemory.class);

    private final Meters meters;

    private MetricsMemory(Memory delegate, Meters meters) {
        super(delegate);
        this.meters = meters;
    }

    /**
     * {@code delegate} with its operations recorded to {@code registry}. Removals are not counted unless the
     * backend's eviction listener is a {@link #countingListener counting one}.
     *
     * @param backendTag the {@code backend} tag's value: 1 to 64 letters, digits, '.', '_' or '-'
     * @throws ConfigurationException if {@code backendTag} is not valid
     */
    public static MetricsMemory wrap(Memory delegate, MeterRegistry registry, String backendTag) {
        Objects.requireNonNull(delegate, "delegate");
        return new MetricsMemory(delegate, new Meters(Objects.requireNonNull(registry, "registry"), backendTag));
    }

    /**
     * A listener that passes every removal to {@code delegate} and then adds the removed messages to the
     * {@value #REMOVALS} counter of their cause. A call whose delegate throws is not counted, since the store then
     * does not apply the removal. (When one operation removes for two causes and the second call throws, the first
     * stays counted.) Build the backend with this listener when using {@link #wrap}; configuration by name installs
     * it by itself, so do not add it there too, or removals are counted twice.
     *
     * @param backendTag the {@code backend} tag's value, the same as given to {@link #wrap}
     * @param delegate the listener that receives the removals, {@link EvictionListener#NONE} for none
     * @throws ConfigurationException if {@code backendTag} is not valid
     */
    public static EvictionListener countingListener(
            MeterRegistry registry, String backendTag, EvictionListener delegate) {
        return new CountingEvictionListener(delegate, registry, backendTag);
    }

    /**
     * The factory of the {@code metrics} decorator, which {@code CorePlugin} contributes. Its {@code prepare} step
     * wraps the context's eviction listener in a {@link #countingListener counting one}.
     */
    public static DecoratorFactory decoratorFactory() {
        return Factory.INSTANCE;
    }

    @Override
    public MemoryStore session(SessionKey key) {
        return new MetricsStore(delegate().session(key));
    }

    @Override
    public List<SessionKey> sessions(String tenant) {
        return time(Operation.SESSIONS, () -> delegate().sessions(tenant), null);
    }

    @Override
    public boolean delete(SessionKey key) {
        return time(Operation.DELETE, () -> delegate().delete(key), null);
    }

    @Override
    public String toString() {
        return "MetricsMemory[backend=" + meters.backend() + ", " + delegate() + "]";
    }

    /** Runs {@code call}, timing it under {@code op} with its outcome; {@code size} gives a result's message count. */
    private <T> T time(Operation op, Supplier<T> call, ToIntFunction<? super T> size) {
        Timer.Sample sample = meters.start();
        T result;
        try {
            result = call.get();
        } catch (RuntimeException | Error e) {
            String outcome = Meters.outcome(e);
            long nanos = meters.stop(sample, op, outcome);
            if (LOG.isDebugEnabled()) {
                LOG.debug("{} on backend {} failed: {} after {} ns", op.tag, meters.backend(), outcome, nanos);
            }
            throw e;
        }
        long nanos = meters.stop(sample, op, Meters.SUCCESS);
        if (LOG.isDebugEnabled()) {
            if (size == null) {
                LOG.debug("{} on backend {} succeeded in {} ns", op.tag, meters.backend(), nanos);
            } else {
                LOG.debug(
                        "{} on backend {} succeeded in {} ns with {} messages",
                        op.tag,
                        meters.backend(),
                        nanos,
                        size.applyAsInt(result));
            }
        }
        return result;
    }

    /** Times every operation of one session's store. Thread-safe when the delegate is. */
    private final class MetricsStore extends ForwardingMemoryStore {
        MetricsStore(MemoryStore delegate) {
            super(delegate);
        }

        @Override
        public Message add(Message message) {
            Message stored = time(Operation.ADD, () -> delegate().add(message), m -> 1);
            meters.added(1);
            return stored;
        }

        @Override
        public List<Message> addAll(List<Message> messages) {
            List<Message> stored = time(Operation.ADD_ALL, () -> delegate().addAll(messages), List::size);
            meters.added(stored.size());
            return stored;
        }

        @Override
        public Added addAndWindow(Message message, int maxTokens) {
            Added added;
            try {
                added = time(
                        Operation.ADD_AND_WINDOW,
                        () -> delegate().addAndWindow(message, maxTokens),
                        a -> a.window().size());
            } catch (MemoryException e) {
                if (e instanceof Checks.AfterStore) {
                    meters.added(1); // the message was stored; only its window failed
                }
                throw e;
            }
            meters.added(1);
            meters.window(added.window());
            return added;
        }

        @Override
        public List<Message> history(HistoryQuery query) {
            return time(Operation.HISTORY, () -> delegate().history(query), List::size);
        }

        @Override
        public List<Message> history() {
            return time(Operation.HISTORY, () -> delegate().history(), List::size);
        }

        @Override
        public List<Message> contextWindow(int maxTokens) {
            List<Message> window =
                    time(Operation.CONTEXT_WINDOW, () -> delegate().contextWindow(maxTokens), null);
            long tokens = meters.window(window);
            if (LOG.isDebugEnabled()) {
                LOG.debug("context window of {} messages, {} tokens (budget {})", window.size(), tokens, maxTokens);
            }
            return window;
        }

        @Override
        public long count() {
            return time(Operation.COUNT, () -> delegate().count(), null);
        }

        @Override
        public void clear() {
            time(
                    Operation.CLEAR,
                    () -> {
                        delegate().clear();
                        return null;
                    },
                    null);
        }
    }

    /** Creates {@link MetricsMemory} decorators from configuration. Thread-safe (stateless). */
    private static final class Factory implements DecoratorFactory {
        static final Factory INSTANCE = new Factory();

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public Set<String> configKeys() {
            return Set.of(TAG_KEY);
        }

        @Override
        public MemoryContext prepare(Map<String, String> config, MemoryContext context) {
            return context.withEvictionListener(
                    new CountingEvictionListener(context.evictionListener(), registry(context), backendTag(config)));
        }

        @Override
        public Memory decorate(Memory delegate, Map<String, String> config, MemoryContext context) {
            return new MetricsMemory(delegate, new Meters(registry(context), backendTag(config)));
        }

        private static String backendTag(Map<String, String> config) {
            // Read stripped, like every other setting: a .properties line keeps trailing spaces.
            return Meters.checkBackendTag(
                    config.getOrDefault(TAG_KEY, UNKNOWN_BACKEND).strip());
        }

        private static MeterRegistry registry(MemoryContext context) {
            return context.service(MeterRegistry.class)
                    .orElseThrow(() -> new ConfigurationException("the " + NAME + " decorator needs a Micrometer"
                            + " MeterRegistry, and none is bound: give one to MemoryModule.Builder.meterRegistry(registry)"
                            + " with Guice, or to Memories.Builder.service(MeterRegistry.class, registry) without;"
                            + " or remove '" + NAME + "' from memory.decorators"));
        }

        @Override
        public String toString() {
            return "DecoratorFactory[" + NAME + "]";
        }
    }
}
