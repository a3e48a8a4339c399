package io.agentmemory;

import io.agentmemory.internal.Json;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which messages of a session to read. Filters (roles, metadata equality, time range) select messages; then
 * {@link #offset()} skips that many of the newest selected messages and {@link #limit()} keeps at most that many of
 * the next newer ones. The result is always in chronological order. Immutable and thread-safe.
 *
 * <p>Example: the 10 newest user messages about billing, skipping the newest 5 of them:
 *
 * <pre>{@code
 * HistoryQuery.builder().roles("user").metadata("topic", "billing").offset(5).limit(10).build()
 * }</pre>
 */
public final class HistoryQuery {
    private static final HistoryQuery ALL = builder().build();

    private final Integer limit;
    private final int offset;
    private final Set<String> roles;
    private final Map<String, Object> metadata;
    private final Instant from;
    private final Instant to;

    private HistoryQuery(Builder b) {
        if (b.limit != null && b.limit < 0) {
            throw invalid("limit is " + b.limit + "; it must be >= 0");
        }
        if (b.offset < 0) {
            throw invalid("offset is " + b.offset + "; it must be >= 0");
        }
        TreeSet<String> r = new TreeSet<>();
        for (String role : b.roles) {
            try {
                r.add(Message.validRole(role));
            } catch (InvalidInputException e) {
                throw invalid("a role filter is invalid: " + e.getMessage());
            }
        }
        if (b.from != null && b.to != null && b.from.isAfter(b.to)) {
            throw invalid("the time range starts after it ends (from " + b.from + " > to " + b.to + ")");
        }
        this.limit = b.limit;
        this.offset = b.offset;
        this.roles = java.util.Collections.unmodifiableSet(r);
        this.metadata = Json.object(b.metadata, "metadata filter", ErrorCode.INVALID_QUERY);
        this.from = b.from;
        this.to = b.to;
    }

    private static InvalidInputException invalid(String message) {
        return new InvalidInputException(ErrorCode.INVALID_QUERY, message);
    }

    /** Every message of the session. */
    public static HistoryQuery all() {
        return ALL;
    }

    /** The {@code n} newest messages. */
    public static HistoryQuery newest(int n) {
        return builder().limit(n).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The most messages to return; empty for no limit. */
    public OptionalInt limit() {
        return limit == null ? OptionalInt.empty() : OptionalInt.of(limit);
    }

    /** How many of the newest matching messages to skip. */
    public int offset() {
        return offset;
    }

    /** Roles to keep; empty for all roles. */
    public Set<String> roles() {
        return roles;
    }

    /** Top-level metadata entries a message must have, compared as JSON values (1 equals 1.0); empty for any. */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /** The earliest timestamp kept, inclusive. */
    public Optional<Instant> from() {
        return Optional.ofNullable(from);
    }

    /** The latest timestamp kept, inclusive. */
    public Optional<Instant> to() {
        return Optional.ofNullable(to);
    }

    /** Whether the query has any filter (roles, metadata or time range). */
    public boolean hasFilters() {
        return !roles.isEmpty() || !metadata.isEmpty() || from != null || to != null;
    }

    /** Whether {@code message} passes the filters; limit and offset are not considered. */
    public boolean matches(Message message) {
        if (!roles.isEmpty() && !roles.contains(message.role())) {
            return false;
        }
        if (from != null && message.timestamp().isBefore(from)) {
            return false;
        }
        if (to != null && message.timestamp().isAfter(to)) {
            return false;
        }
        for (Map.Entry<String, Object> e : metadata.entrySet()) {
            Object actual = message.metadata().get(e.getKey());
            if (actual == null || !Json.jsonEquals(actual, e.getValue())) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HistoryQuery q
                && Objects.equals(limit, q.limit)
                && offset == q.offset
                && roles.equals(q.roles)
                && metadata.equals(q.metadata)
                && Objects.equals(from, q.from)
                && Objects.equals(to, q.to);
    }

    @Override
    public int hashCode() {
        return Objects.hash(limit, offset, roles, metadata, from, to);
    }

    @Override
    public String toString() {
        return "HistoryQuery[limit=" + (limit == null ? "none" : limit) + ", offset=" + offset + ", roles=" + roles
                + ", metadataKeys=" + metadata.keySet() + ", from=" + from + ", to=" + to + "]";
    }

    /** Builds a {@link HistoryQuery}; {@link #build()} validates. Not thread-safe. */
    public static final class Builder {
        private Integer limit;
        private int offset;
        private final Set<String> roles = new java.util.LinkedHashSet<>();
        private final Map<String, Object> metadata = new java.util.LinkedHashMap<>();
        private Instant from;
        private Instant to;

        private Builder() {}

        /** At most this many messages, counted back from the newest matching one after the offset. */
        public Builder limit(int limit) {
            this.limit = limit;
            return this;
        }

        /** Skip this many of the newest matching messages. */
        public Builder offset(int offset) {
            this.offset = offset;
            return this;
        }

        /** Keep only these roles (adds to earlier calls). */
        public Builder roles(String... roles) {
            return roles(java.util.Arrays.asList(roles));
        }

        /** Keep only these roles (adds to earlier calls). */
        public Builder roles(Collection<String> roles) {
            this.roles.addAll(roles);
            return this;
        }

        /** Keep only messages whose metadata has {@code key} equal to {@code value} as JSON. */
        public Builder metadata(String key, Object value) {
            this.metadata.put(key, value);
            return this;
        }

        /** Keep only messages whose metadata has every entry of {@code entries}. */
        public Builder metadata(Map<String, ?> entries) {
            this.metadata.putAll(entries);
            return this;
        }

        /** Keep only messages with a timestamp in {@code [from, to]}; either end may be null for open. */
        public Builder between(Instant from, Instant to) {
            this.from = from;
            this.to = to;
            return this;
        }

        /** Keep only messages at or after {@code from}. */
        public Builder from(Instant from) {
            this.from = from;
            return this;
        }

        /** Keep only messages at or before {@code to}. */
        public Builder to(Instant to) {
            this.to = to;
            return this;
        }

        /**
         * The query.
         *
         * @throws InvalidInputException with {@link ErrorCode#INVALID_QUERY} naming what is wrong
         */
        public HistoryQuery build() {
            return new HistoryQuery(this);
        }
    }
}
