package io.agentmemory.core.inmemory;

import io.agentmemory.Added;
import io.agentmemory.Capability;
import io.agentmemory.ErrorCode;
import io.agentmemory.EvictionListener;
import io.agentmemory.HistoryQuery;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.TokenCount;
import io.agentmemory.TokenCounter;
import io.agentmemory.core.backend.BackendSupport;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.core.window.ContextWindows;
import io.agentmemory.internal.Text;
import io.agentmemory.spi.MemoryContext;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The in-memory backend: every session's messages in this JVM's heap, gone when the process ends. Appending costs
 * O(1) whatever the history length; {@code history(limit)} and {@code contextWindow} cost O(result). Supports every
 * {@link Capability} but {@link Capability#PERSISTENT}. Thread-safe.
 *
 * <pre>{@code
 * Memory memory = InMemoryMemory.builder().retention(Retention.maxMessages(100)).build();
 * MemoryStore chat = memory.session("acme", "chat-42");
 * chat.add(Message.user("My name is Alice"));
 * }</pre>
 */
public final class InMemoryMemory implements Memory {
    /** The name configuration selects the in-memory backend by. */
    public static final String NAME = "memory";

    private static final Set<Capability> CAPABILITIES =
            Set.copyOf(EnumSet.complementOf(EnumSet.of(Capability.PERSISTENT)));

    private final MemoryContext context;
    private final ConcurrentHashMap<SessionKey, SessionState> sessions = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private InMemoryMemory(MemoryContext context) {
        this.context = Objects.requireNonNull(context, "context");
    }

    /** An in-memory backend with the given context. */
    public static InMemoryMemory create(MemoryContext context) {
        return new InMemoryMemory(context);
    }

    /** A builder with the defaults: no retention, the heuristic token counter, the system clock, no listener. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public MemoryStore session(SessionKey key) {
        checkOpen();
        return new Store(BackendSupport.requireKey(key));
    }

    @Override
    public List<SessionKey> sessions(String tenant) {
        checkOpen();
        Text.identifier(tenant, "tenant", SessionKey.MAX_LENGTH, ErrorCode.INVALID_SESSION_KEY);
        List<SessionKey> keys = new ArrayList<>();
        sessions.forEach((key, state) -> {
            if (key.tenant().equals(tenant) && state.hasLiveMessages()) {
                keys.add(key);
            }
        });
        keys.sort(null);
        return List.copyOf(keys);
    }

    @Override
    public boolean delete(SessionKey key) {
        checkOpen();
        BackendSupport.requireKey(key);
        while (true) {
            SessionState state = sessions.get(key);
            if (state == null) {
                return false;
            }
            Boolean held = state.discard();
            if (held != null) {
                sessions.remove(key, state);
                return held;
            }
        }
    }

    @Override
    public Set<Capability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public void close() {
        closed = true;
        sessions.clear();
    }

    @Override
    public String toString() {
        return "InMemoryMemory[sessions=" + sessions.size() + ", retention=" + context.retention() + "]";
    }

    Retention retention() {
        return context.retention();
    }

    Instant now() {
        return context.clock().instant();
    }

    /** Messages with a timestamp before this instant are expired; null without a max age. */
    Instant expiryCutoff() {
        return context.retention().maxAge().isPresent() ? expiryCutoff(now()) : null;
    }

    Instant expiryCutoff(Instant now) {
        return context.retention().maxAge().map(now::minus).orElse(null);
    }

    /** Hands removals to the listener, cause by cause in the documented order. */
    void report(SessionKey key, Map<RemovalCause, List<Message>> removed) {
        BackendSupport.report(context.evictionListener(), key, removed);
    }

    private void checkOpen() {
        if (closed) {
            throw BackendSupport.closed("in-memory memory");
        }
    }

    /** The store of one session: a view that finds the session's state on each call. */
    private final class Store implements MemoryStore {
        private final SessionKey key;

        Store(SessionKey key) {
            this.key = key;
        }

        @Override
        public SessionKey key() {
            return key;
        }

        @Override
        public Message add(Message message) {
            return addAll(List.of(BackendSupport.requireMessage(message))).get(0);
        }

        @Override
        public List<Message> addAll(List<Message> messages) {
            checkOpen();
            List<Message> batch = BackendSupport.checkBatch(messages);
            if (batch.isEmpty()) {
                return List.of();
            }
            List<TokenCount> counts = BackendSupport.countTokens(context.tokenCounter(), batch);
            while (true) {
                checkOpen();
                SessionState state = sessions.computeIfAbsent(key, k -> new SessionState(k, InMemoryMemory.this));
                List<Message> stored = state.append(batch, counts);
                if (stored != null) {
                    return List.copyOf(stored);
                }
                sessions.remove(key, state);
            }
        }

        /** The window is the session as this append left it: both happen under the session's write lock. */
        @Override
        public Added addAndWindow(Message message, int maxTokens) {
            BackendSupport.requireMessage(message);
            ContextWindows.checkBudget(maxTokens);
            checkOpen();
            TokenCount count = BackendSupport.countTokens(context.tokenCounter(), message);
            while (true) {
                checkOpen();
                SessionState state = sessions.computeIfAbsent(key, k -> new SessionState(k, InMemoryMemory.this));
                Added added = state.appendAndWindow(message, count, maxTokens);
                if (added != null) {
                    return added;
                }
                sessions.remove(key, state);
            }
        }

        @Override
        public List<Message> history(HistoryQuery query) {
            checkOpen();
            BackendSupport.requireQuery(query);
            SessionState state = sessions.get(key);
            return state == null ? List.of() : state.history(query);
        }

        @Override
        public List<Message> contextWindow(int maxTokens) {
            checkOpen();
            ContextWindows.checkBudget(maxTokens);
            SessionState state = sessions.get(key);
            return state == null ? List.of() : state.contextWindow(maxTokens);
        }

        @Override
        public long count() {
            checkOpen();
            SessionState state = sessions.get(key);
            return state == null ? 0 : state.count();
        }

        @Override
        public void clear() {
            delete(key);
        }

        @Override
        public String toString() {
            return "InMemoryStore[" + key + "]";
        }
    }

    /** Builds an {@link InMemoryMemory}. Not thread-safe. */
    public static final class Builder {
        private Clock clock = Clock.systemUTC();
        private TokenCounter tokenCounter;
        private Retention retention = Retention.none();
        private EvictionListener evictionListener = EvictionListener.NONE;

        private Builder() {}

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public Builder tokenCounter(TokenCounter tokenCounter) {
            this.tokenCounter = Objects.requireNonNull(tokenCounter, "tokenCounter");
            return this;
        }

        public Builder retention(Retention retention) {
            this.retention = Objects.requireNonNull(retention, "retention");
            return this;
        }

        public Builder evictionListener(EvictionListener evictionListener) {
            this.evictionListener = Objects.requireNonNull(evictionListener, "evictionListener");
            return this;
        }

        public InMemoryMemory build() {
            TokenCounter counter = tokenCounter != null ? tokenCounter : TokenCounters.heuristic();
            return new InMemoryMemory(new MemoryContext(clock, counter, retention, evictionListener));
        }
    }
}
