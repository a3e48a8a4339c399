package io.agentmemory.spi;

import io.agentmemory.Memory;
import java.util.Map;
import java.util.Set;

/** Wraps a {@link Memory} in a decorator by name. Implementations are thread-safe and stateless. */
public interface DecoratorFactory {
    /** The name configuration selects this decorator by, e.g. {@code "encrypt"}; lower case, unique. */
    String name();

    /** The keys of {@code config} this decorator accepts; any other key is a configuration error. */
    default Set<String> configKeys() {
        return Set.of();
    }

    /** The keys among {@link #configKeys()} whose values are secrets, never to be logged or shown. */
    default Set<String> secretKeys() {
        return Set.of();
    }

    /**
     * Adjusts the context before the backend is created, for decorators that must see what the backend does: wrap
     * the eviction listener to count removals, say. Called once, in decorator order, before {@link #decorate}; the
     * backend and every decorator then get the adjusted context. The default returns {@code context} unchanged.
     *
     * @param config this decorator's settings, without the {@code memory.<name>.} prefix
     */
    default MemoryContext prepare(Map<String, String> config, MemoryContext context) {
        return context;
    }

    /**
     * The decorated memory.
     *
     * @param delegate the memory to wrap
     * @param config this decorator's settings, without the {@code memory.<name>.} prefix
     * @param context the context the backend was built with
     */
    Memory decorate(Memory delegate, Map<String, String> config, MemoryContext context);
}
