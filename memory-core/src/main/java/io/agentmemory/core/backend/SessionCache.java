package io.agentmemory.core.backend;

import io.agentmemory.SessionKey;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A bounded map from sessions to what a backend keeps of their last read (decoded messages, typically), weighed in
 * messages: when the total weight passes the capacity, the least recently read sessions are dropped first. For
 * backends whose reads would otherwise decode the same stored messages again and again; what an entry may stand in
 * for, and how it is checked against the store, is the backend's business.
 *
 * <p>Thread-safe: one lock, held for map updates only; values should be immutable.
 *
 * @param <V> what is kept per session
 */
public final class SessionCache<V> {
    private final int capacity;
    private final LinkedHashMap<SessionKey, Weighed<V>> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long weight;

    private record Weighed<V>(V value, int weight) {}

    /** @param capacity the most weight kept across sessions; 0 keeps nothing */
    public SessionCache(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity is " + capacity + "; it must be >= 0");
        }
        this.capacity = capacity;
    }

    /** Whether anything is ever kept. */
    public boolean enabled() {
        return capacity > 0;
    }

    /** What is kept for {@code key}, or null; marks it recently used. */
    public synchronized V get(SessionKey key) {
        Weighed<V> w = entries.get(key);
        return w == null ? null : w.value();
    }

    /**
     * Keeps {@code value} for {@code key}, replacing what was kept, and drops the least recently used other sessions
     * while the total weight passes the capacity. A value heavier than the capacity is not kept (and replaces
     * nothing but is removed).
     */
    public void put(SessionKey key, V value, int weight) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        if (capacity == 0 || weight < 0 || weight > capacity) {
            remove(key);
            return;
        }
        synchronized (this) {
            Weighed<V> old = entries.put(key, new Weighed<>(value, weight));
            this.weight += weight - (old == null ? 0 : old.weight());
            Iterator<Map.Entry<SessionKey, Weighed<V>>> eldest =
                    entries.entrySet().iterator();
            while (this.weight > capacity && eldest.hasNext()) {
                Map.Entry<SessionKey, Weighed<V>> e = eldest.next();
                if (!e.getKey().equals(key)) {
                    this.weight -= e.getValue().weight();
                    eldest.remove();
                }
            }
        }
    }

    /** Forgets {@code key}. */
    public synchronized void remove(SessionKey key) {
        Weighed<V> old = entries.remove(key);
        if (old != null) {
            weight -= old.weight();
        }
    }

    /** The total weight kept. */
    public synchronized long weight() {
        return weight;
    }

    /** How many sessions are kept. */
    public synchronized int size() {
        return entries.size();
    }
}
