package io.agentmemory.core.metrics;

import io.agentmemory.ConfigurationException;
import io.agentmemory.MemoryException;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The meters of one backend tag in one registry, registered once and shared by every store of a
 * {@link MetricsMemory}. Tags are the operation, the backend tag, the outcome and the removal cause: never a tenant,
 * session, scope or message content. Thread-safe.
 */
final class Meters {
    /** An operation that is timed, with its {@code operation} tag value. */
    enum Operation {
        ADD("add"),
        ADD_ALL("addAll"),
        ADD_AND_WINDOW("addAndWindow"),
        HISTORY("history"),
        CONTEXT_WINDOW("contextWindow"),
        COUNT("count"),
        CLEAR("clear"),
        SESSIONS("sessions"),
        DELETE("delete");

        final String tag;

        Operation(String tag) {
            this.tag = tag;
        }
    }

    static final String SUCCESS = "success";
    /** The outcome of a failure that is not a {@link MemoryException}, so has no error code. */
    static final String ERROR = "error";

    private static final Pattern BACKEND_TAG = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private final MeterRegistry registry;
    private final String backend;
    private final Map<Operation, Timer> successes = new EnumMap<>(Operation.class);
    private final Counter added;
    private final DistributionSummary windowMessages;
    private final DistributionSummary windowTokens;

    Meters(MeterRegistry registry, String backend) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.backend = checkBackendTag(backend);
        for (Operation op : Operation.values()) {
            successes.put(op, timer(op, SUCCESS));
        }
        added = Counter.builder(MetricsMemory.MESSAGES_ADDED)
                .description("Messages stored by add, addAll and addAndWindow")
                .tag(MetricsMemory.BACKEND_TAG, backend)
                .register(registry);
        windowMessages = DistributionSummary.builder(MetricsMemory.WINDOW_MESSAGES)
                .description("Messages in each context window returned")
                .baseUnit("messages")
                .tag(MetricsMemory.BACKEND_TAG, backend)
                .register(registry);
        windowTokens = DistributionSummary.builder(MetricsMemory.WINDOW_TOKENS)
                .description("Stored tokens of the messages in each context window returned")
                .baseUnit("tokens")
                .tag(MetricsMemory.BACKEND_TAG, backend)
                .register(registry);
    }

    /**
     * {@code tag} if it is a valid backend tag.
     *
     * @throws ConfigurationException if it is not 1 to 64 letters, digits, '.', '_' or '-' starting with a letter or
     *     digit
     */
    static String checkBackendTag(String tag) {
        Objects.requireNonNull(tag, "backend tag");
        if (!BACKEND_TAG.matcher(tag).matches()) {
            throw new ConfigurationException("the metrics backend tag (memory." + MetricsMemory.NAME + "."
                    + MetricsMemory.TAG_KEY + ") must be 1 to 64 letters, digits, '.', '_' or '-', starting with a"
                    + " letter or digit, like 'jdbc'; the value given has " + tag.length() + " characters");
        }
        return tag;
    }

    /** The removal counters of every cause, registered now so that every cause reports from the start. */
    static Map<RemovalCause, Counter> removalCounters(MeterRegistry registry, String backend) {
        checkBackendTag(backend);
        Map<RemovalCause, Counter> counters = new EnumMap<>(RemovalCause.class);
        for (RemovalCause cause : RemovalCause.values()) {
            counters.put(
                    cause,
                    Counter.builder(MetricsMemory.REMOVALS)
                            .description("Messages removed from sessions, by cause")
                            .tag(MetricsMemory.BACKEND_TAG, backend)
                            .tag(MetricsMemory.CAUSE_TAG, cause.name().toLowerCase(Locale.ROOT))
                            .register(registry));
        }
        return counters;
    }

    String backend() {
        return backend;
    }

    Timer.Sample start() {
        return Timer.start(registry);
    }

    /** Stops {@code sample} on the timer of {@code op} and {@code outcome}; returns the duration in nanoseconds. */
    long stop(Timer.Sample sample, Operation op, String outcome) {
        Timer timer = outcome.equals(SUCCESS) ? successes.get(op) : timer(op, outcome);
        return sample.stop(timer);
    }

    void added(int messages) {
        added.increment(messages);
    }

    /** Records a returned context window; returns its token total. */
    long window(List<Message> window) {
        long tokens = 0;
        for (Message m : window) {
            tokens += m.tokenCount().map(c -> (long) c.tokens()).orElse(0L);
        }
        windowMessages.record(window.size());
        windowTokens.record(tokens);
        return tokens;
    }

    /** The {@code outcome} tag of a failure: its error code in lower case, or {@link #ERROR}. */
    static String outcome(Throwable failure) {
        return failure instanceof MemoryException e ? e.code().name().toLowerCase(Locale.ROOT) : ERROR;
    }

    private Timer timer(Operation op, String outcome) {
        // Registering is idempotent: the registry returns the meter it already holds for these tags.
        return Timer.builder(MetricsMemory.OPERATIONS)
                .description("Memory operations, by operation and outcome")
                .tag(MetricsMemory.OPERATION_TAG, op.tag)
                .tag(MetricsMemory.BACKEND_TAG, backend)
                .tag(MetricsMemory.OUTCOME_TAG, outcome)
                .register(registry);
    }
}
