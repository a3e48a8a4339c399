package io.agentmemory.spi;

import io.agentmemory.Memory;
import java.util.Map;
import java.util.Set;

/**
 * Creates a storage backend by name. Implementations are thread-safe and stateless; {@link #create} may do I/O.
 */
public interface BackendFactory {
    /** The name configuration selects this backend by, e.g. {@code "jdbc"}; lower case, unique among plugins. */
    String name();

    /** The keys of {@code config} this backend accepts; any other key is a configuration error. */
    default Set<String> configKeys() {
        return Set.of();
    }

    /** The keys among {@link #configKeys()} whose values are secrets, never to be logged or shown. */
    default Set<String> secretKeys() {
        return Set.of();
    }

    /**
     * A new backend.
     *
     * @param config this backend's settings, without the {@code memory.<name>.} prefix
     * @param context the clock, counter, retention and listener to use
     * @throws io.agentmemory.ConfigurationException if a setting is wrong, or the retention asks for a capability
     *     the backend lacks
     */
    Memory create(Map<String, String> config, MemoryContext context);
}
