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
 * forgets a method still passes the call on rather than running a default that bypasses it. Thread-safe when the
 * delegate is.
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

    @Override
    public Added addAndWindow(Message message, int maxTokens) {
        return delegate.addAndWindow(message, maxTokens);
    }

    @Override
    public List<Message> history(HistoryQuery query) {
        return delegate.history(query);
    }

    @Override
    public List<Message> history() {
        return delegate.history();
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
