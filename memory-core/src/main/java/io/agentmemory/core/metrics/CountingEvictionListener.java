package io.agentmemory.core.metrics;

import io.agentmemory.EvictionListener;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.SessionKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Passes removals on to a delegate listener, then counts the removed messages by cause. A call whose delegate throws
 * is not counted: the store then does not apply the removal. Thread-safe when the delegate is.
 */
final class CountingEvictionListener implements EvictionListener {
    private final EvictionListener delegate;
    private final Map<RemovalCause, Counter> counters;

    CountingEvictionListener(EvictionListener delegate, MeterRegistry registry, String backend) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.counters = Meters.removalCounters(Objects.requireNonNull(registry, "registry"), backend);
    }

    @Override
    public void onRemoval(SessionKey key, List<Message> removed, RemovalCause cause) {
        delegate.onRemoval(key, removed, cause);
        counters.get(cause).increment(removed.size());
    }

    @Override
    public String toString() {
        return "CountingEvictionListener[" + delegate + "]";
    }
}
