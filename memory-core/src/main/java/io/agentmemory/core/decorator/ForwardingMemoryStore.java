package io.agentmemory.core.decorator;

import io.agentmemory.Added;
import io.agentmemory.HistoryQuery;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import java.util.List;
import java.util.Objects;

/**
 * A {@link MemoryStore} that forwards every call to a delegate; decorators extend it and override what they change.
 * Every method of {@link MemoryStore}, default ones included, is overridden here to forward, so a decorator that
 * forgets a method still passes the call on rather than running a default that bypasses it; {@link #history()} and
 * (unless overridden too) {@link #addAndWindow} go through this store's own {@code history(HistoryQuery)}, {@code add}
 * and {@code contextWindow}. A decorator that changes messages on their way in overrides both {@link #add} and
 * {@link #addAll}. Thread-safe when the delegate is.
 */
public abstract class ForwardingMemoryStore implements MemoryStore {
    private final MemoryStore delegate;

    protected ForwardingMemoryStore(MemoryStore delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** The store calls are forwarded to. */
    protected MemoryStore delegate() {
        return delegate;
    }

    @Override
    public SessionKey key() {
        return delegate.key();
    }

    @Override
    public Message add(Message message) {
        return delegate.add(message);
    }

    @Override
    public List<Message> addAll(List<Message> messages) {
        return delegate.addAll(messages);
    }

    /**
     * Forwards to the delegate's {@code addAndWindow}, unless the decorator overrides {@link #add} or {@link
     * #contextWindow} and not this method: then it is {@link #add} followed by {@link #contextWindow} of this store, as
     * {@link MemoryStore#addAndWindow} defines it, so that a decorator written before this method existed (one that
     * encrypts what {@code add} stores, or redacts what {@code contextWindow} returns) is not bypassed by it.
     */
    @Override
    public Added addAndWindow(Message message, int maxTokens) {
        if (ROUTED_THROUGH_THIS.get(getClass())) {
            return MemoryStore.super.addAndWindow(message, maxTokens);
        }
        return delegate.addAndWindow(message, maxTokens);
    }

    /** Whether a decorator class overrides {@code add} or {@code contextWindow} but not {@code addAndWindow}. */
    private static final ClassValue<Boolean> ROUTED_THROUGH_THIS = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            return (overrides(type, "add", Message.class) || overrides(type, "contextWindow", int.class))
                    && !overrides(type, "addAndWindow", Message.class, int.class);
        }
    };

    private static boolean overrides(Class<?> type, String name, Class<?>... parameters) {
        for (Class<?> c = type; c != ForwardingMemoryStore.class && c != null; c = c.getSuperclass()) {
            try {
                c.getDeclaredMethod(name, parameters);
                return true;
            } catch (NoSuchMethodException e) {
                // look in the superclass
            }
        }
        return false;
    }

    @Override
    public List<Message> history(HistoryQuery query) {
        return delegate.history(query);
    }

    /**
     * {@link #history(HistoryQuery)} of this store with {@link HistoryQuery#all()}, as {@link MemoryStore#history()}
     * defines it, so that a decorator that changes what {@code history(HistoryQuery)} returns (redacts or decrypts it)
     * is not bypassed by this method.
     */
    @Override
    public List<Message> history() {
        return history(HistoryQuery.all());
    }

    @Override
    public List<Message> contextWindow(int maxTokens) {
        return delegate.contextWindow(maxTokens);
    }

    @Override
    public long count() {
        return delegate.count();
    }

    @Override
    public void clear() {
        delegate.clear();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + delegate + "]";
    }
}
