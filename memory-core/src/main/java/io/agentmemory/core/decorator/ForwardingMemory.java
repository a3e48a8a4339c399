package io.agentmemory.core.decorator;

import io.agentmemory.Capability;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.SessionKey;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A {@link Memory} that forwards every call to a delegate; decorators extend it, usually overriding
 * {@link #session(SessionKey)} to wrap each store in a {@link ForwardingMemoryStore}. Every method, default ones
 * included, forwards. Thread-safe when the delegate is.
 */
public abstract class ForwardingMemory implements Memory {
    private final Memory delegate;

    protected ForwardingMemory(Memory delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** The memory calls are forwarded to. */
    protected Memory delegate() {
        return delegate;
    }

    @Override
    public MemoryStore session(SessionKey key) {
        return delegate.session(key);
    }

    @Override
    public MemoryStore session(String tenant, String session) {
        return session(SessionKey.of(tenant, session));
    }

    @Override
    public List<SessionKey> sessions(String tenant) {
        return delegate.sessions(tenant);
    }

    @Override
    public boolean delete(SessionKey key) {
        return delegate.delete(key);
    }

    @Override
    public Set<Capability> capabilities() {
        return delegate.capabilities();
    }

    @Override
    public void close() {
        delegate.close();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + delegate + "]";
    }
}
