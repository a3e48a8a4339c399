package io.agentmemory.redis;

import io.agentmemory.EvictionListener;
import io.agentmemory.Retention;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.spi.MemoryContext;
import java.time.Clock;

/** Contexts for tests outside the contract kit. */
final class TestContexts {
    private TestContexts() {}

    /** The system clock, the heuristic counter, no retention, no listener. */
    static MemoryContext plain() {
        return new MemoryContext(Clock.systemUTC(), TokenCounters.heuristic(), Retention.none(), EvictionListener.NONE);
    }

    static MemoryContext with(Retention retention, EvictionListener listener) {
        return new MemoryContext(Clock.systemUTC(), TokenCounters.heuristic(), retention, listener);
    }
}
