package io.agentmemory.spi;

import io.agentmemory.EvictionListener;
import io.agentmemory.Retention;
import io.agentmemory.TokenCounter;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What every backend and decorator is built with, besides its own settings: the clock (for timestamps and expiry),
 * the token counter, the retention to enforce, the listener that receives removed messages, and shared services by
 * type (for example a metrics registry) that the application provides. Immutable and thread-safe.
 *
 * @param clock the time source; tests pass a controllable one
 * @param tokenCounter counts each message once, when it is written
 * @param retention how much history each session keeps
 * @param evictionListener receives every removed message with its cause
 * @param services application objects by type, for plugins that need them; see {@link #service(Class)}
 */
public record MemoryContext(
        Clock clock,
        TokenCounter tokenCounter,
        Retention retention,
        EvictionListener evictionListener,
        Map<Class<?>, Object> services) {
    public MemoryContext {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(tokenCounter, "tokenCounter");
        Objects.requireNonNull(retention, "retention");
        Objects.requireNonNull(evictionListener, "evictionListener");
        services = Map.copyOf(services);
        services.forEach((type, service) -> {
            if (!type.isInstance(service)) {
                throw new IllegalArgumentException(
                        "service " + service.getClass().getName() + " is not a " + type);
            }
        });
    }

    /** A context without services. */
    public MemoryContext(Clock clock, TokenCounter tokenCounter, Retention retention, EvictionListener listener) {
        this(clock, tokenCounter, retention, listener, Map.of());
    }

    /** The service registered under {@code type}, if the application provided one. */
    public <T> Optional<T> service(Class<T> type) {
        return Optional.ofNullable(services.get(type)).map(type::cast);
    }

    public MemoryContext withRetention(Retention retention) {
        return new MemoryContext(clock, tokenCounter, retention, evictionListener, services);
    }

    public MemoryContext withEvictionListener(EvictionListener evictionListener) {
        return new MemoryContext(clock, tokenCounter, retention, evictionListener, services);
    }

    public MemoryContext withClock(Clock clock) {
        return new MemoryContext(clock, tokenCounter, retention, evictionListener, services);
    }

    public MemoryContext withTokenCounter(TokenCounter tokenCounter) {
        return new MemoryContext(clock, tokenCounter, retention, evictionListener, services);
    }

    /** This context with {@code service} registered under {@code type}, replacing any earlier one. */
    public <T> MemoryContext withService(Class<T> type, T service) {
        Map<Class<?>, Object> more = new HashMap<>(services);
        more.put(Objects.requireNonNull(type, "type"), Objects.requireNonNull(service, "service"));
        return new MemoryContext(clock, tokenCounter, retention, evictionListener, more);
    }
}
