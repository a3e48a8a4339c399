package io.agentmemory;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * How much history each session keeps. Backends apply retention when a session is written: messages beyond a limit
 * are removed physically, oldest first, and handed to the {@link EvictionListener} with their {@link RemovalCause}.
 * Expired messages are also invisible to reads from the moment they expire.
 *
 * <p>Rules every backend follows:
 *
 * <ul>
 *   <li>Pinned messages ({@link Message#isPinned()}), and the tool messages answering a pinned assistant message,
 *       are never removed by retention and do not count toward its limits. A tool message answers the newest message
 *       stored before it that made its call (call ids come back in later replies); whether it is pinned is decided
 *       when it is stored.
 *   <li>A message has expired when its timestamp is before now minus {@link #maxAge()}.
 *   <li>{@link #maxMessages()} and {@link #maxTokens()} never remove the newest message (or the newest tool-call
 *       group), so one message larger than the token limit stays until a newer one arrives.
 *   <li>A tool-call group is removed whole: when an assistant message with tool calls goes, the tool messages that
 *       answer it go with it, for the same cause. A group expires with its assistant message: its tool messages,
 *       usually stored moments later, are removed by the same write; until then, reads hide the expired assistant
 *       message, and {@code history} and {@code count} still show its newer tool messages (a context window never
 *       holds them, as it holds no tool message without the assistant message it answers).
 *   <li>Order: {@link #maxAge()} ({@link RemovalCause#EXPIRED}), then {@link #overflow()}
 *       ({@link RemovalCause#OVERFLOW}), then {@link #maxMessages()} ({@link RemovalCause#SIZE}), then
 *       {@link #maxTokens()} ({@link RemovalCause#TOKENS}).
 * </ul>
 *
 * Immutable and thread-safe.
 */
public final class Retention {
    /**
     * The longest {@link #maxAge()} accepted: 100,000 years of 365.2425 days. Message timestamps lie within the years
     * 1 to 9999, so no longer age could expire more; and "now minus the age" stays within the range of
     * {@link java.time.Instant}.
     */
    public static final Duration MAX_AGE = Duration.ofDays(36_524_250);

    private static final Retention NONE = builder().build();

    private final Integer maxMessages;
    private final Long maxTokens;
    private final Duration maxAge;
    private final Overflow overflow;

    private Retention(Builder b) {
        if (b.maxMessages != null && b.maxMessages < 1) {
            throw invalid("maxMessages is " + b.maxMessages + "; it must be >= 1");
        }
        if (b.maxTokens != null && b.maxTokens < 1) {
            throw invalid("maxTokens is " + b.maxTokens + "; it must be >= 1");
        }
        if (b.maxAge != null && (b.maxAge.isNegative() || b.maxAge.isZero())) {
            throw invalid("maxAge is " + b.maxAge + "; it must be positive");
        }
        if (b.maxAge != null && b.maxAge.compareTo(MAX_AGE) > 0) {
            throw invalid("maxAge is " + b.maxAge + "; it must be at most 100,000 years (" + MAX_AGE + ")");
        }
        this.maxMessages = b.maxMessages;
        this.maxTokens = b.maxTokens;
        this.maxAge = b.maxAge;
        this.overflow = b.overflow;
    }

    private static ConfigurationException invalid(String message) {
        return new ConfigurationException("retention: " + message);
    }

    /** Keep everything until cleared. */
    public static Retention none() {
        return NONE;
    }

    /** Keep the newest {@code n} unpinned messages (FIFO). */
    public static Retention maxMessages(int n) {
        return builder().maxMessages(n).build();
    }

    /** Keep the newest unpinned messages whose stored token counts add up to at most {@code n}. */
    public static Retention maxTokens(long n) {
        return builder().maxTokens(n).build();
    }

    /** Keep unpinned messages whose timestamp is within {@code age} of now; at most {@link #MAX_AGE}. */
    public static Retention maxAge(Duration age) {
        return builder().maxAge(age).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public OptionalInt maxMessages() {
        return maxMessages == null ? OptionalInt.empty() : OptionalInt.of(maxMessages);
    }

    public OptionalLong maxTokens() {
        return maxTokens == null ? OptionalLong.empty() : OptionalLong.of(maxTokens);
    }

    public Optional<Duration> maxAge() {
        return Optional.ofNullable(maxAge);
    }

    public Optional<Overflow> overflow() {
        return Optional.ofNullable(overflow);
    }

    /** Whether no limit is set. */
    public boolean isNone() {
        return maxMessages == null && maxTokens == null && maxAge == null && overflow == null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Retention r
                && Objects.equals(maxMessages, r.maxMessages)
                && Objects.equals(maxTokens, r.maxTokens)
                && Objects.equals(maxAge, r.maxAge)
                && Objects.equals(overflow, r.overflow);
    }

    @Override
    public int hashCode() {
        return Objects.hash(maxMessages, maxTokens, maxAge, overflow);
    }

    @Override
    public String toString() {
        return "Retention[maxMessages=" + maxMessages + ", maxTokens=" + maxTokens + ", maxAge=" + maxAge
                + ", overflow=" + overflow + "]";
    }

    /**
     * When a session holds more than {@code maxSize} unpinned messages, all but the newest
     * {@code floor(maxSize * keepFraction)} are removed at once and handed to the eviction listener as one
     * {@link RemovalCause#OVERFLOW} batch: an archive or a summarizer gets the overflow in one piece.
     *
     * @param maxSize the most unpinned messages kept, at least 1
     * @param keepFraction the fraction of {@code maxSize} kept after an overflow, in [0, 1)
     */
    public record Overflow(int maxSize, double keepFraction) {
        public Overflow {
            if (maxSize < 1) {
                throw invalid("overflow maxSize is " + maxSize + "; it must be >= 1");
            }
            if (!(keepFraction >= 0 && keepFraction < 1)) {
                throw invalid("overflow keepFraction is " + keepFraction + "; it must be in [0, 1)");
            }
        }

        /** How many unpinned messages remain after an overflow. */
        public int keep() {
            // In decimal: as doubles, 100 * 0.29 is 28.999999999999996, which would keep 28 instead of 29.
            return BigDecimal.valueOf(keepFraction)
                    .multiply(BigDecimal.valueOf(maxSize))
                    .setScale(0, RoundingMode.FLOOR)
                    .intValueExact();
        }
    }

    /** Builds a {@link Retention}; {@link #build()} validates. Not thread-safe. */
    public static final class Builder {
        private Integer maxMessages;
        private Long maxTokens;
        private Duration maxAge;
        private Overflow overflow;

        private Builder() {}

        public Builder maxMessages(int maxMessages) {
            this.maxMessages = maxMessages;
            return this;
        }

        public Builder maxTokens(long maxTokens) {
            this.maxTokens = maxTokens;
            return this;
        }

        public Builder maxAge(Duration maxAge) {
            this.maxAge = Objects.requireNonNull(maxAge, "maxAge");
            return this;
        }

        /** See {@link Overflow}. */
        public Builder overflow(int maxSize, double keepFraction) {
            this.overflow = new Overflow(maxSize, keepFraction);
            return this;
        }

        /**
         * The retention.
         *
         * @throws ConfigurationException naming the invalid setting
         */
        public Retention build() {
            return new Retention(this);
        }
    }
}
