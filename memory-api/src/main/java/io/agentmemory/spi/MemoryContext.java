package io.agentmemory.spi;

import io.agentmemory.EvictionListener;
import io.agentmemory.Retention;
import io.agentmemory.TokenCounter;
import java.time.Clock;
import java.util.Objects;

/**
 * What every backend is built with, besides its own settings: the clock (for timestamps and expiry), the token
 * counter, the retention to enforce and the listener that receives removed messages. Immutable and thread-safe.
 *
 * @param clock the time source; tests pass a controllable one
 * @param tokenCounter counts each message once, when it is written
 * @param retention how much history each session keeps
 * @param evictionListener receives every removed message with its cause
 */
public record MemoryContext(
        Clock clock, TokenCounter tokenCounter, Retention retention, EvictionListener evictionListener) {
    public MemoryContext {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(tokenCounter, "tokenCounter");
        Objects.requireNonNull(retention, "retention");
        Objects.requireNonNull(evictionListener, "evictionListener");
    }

    public MemoryContext withRetention(Retention retention) {
        return new MemoryContext(clock, tokenCounter, retention, evictionListener);
    }

    public MemoryContext withEvictionListener(EvictionListener evictionListener) {
        return new MemoryContext(clock, tokenCounter, retention, evictionListener);
    }

    public MemoryContext withClock(Clock clock) {
        return new MemoryContext(clock, tokenCounter, retention, evictionListener);
    }

    public MemoryContext withTokenCounter(TokenCounter tokenCounter) {
        return new MemoryContext(clock, tokenCounter, retention, evictionListener);
    }
}
