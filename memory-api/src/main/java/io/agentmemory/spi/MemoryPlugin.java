package io.agentmemory.spi;

import java.util.List;

/**
 * The entry point of a plugin, listed in {@code META-INF/services/io.agentmemory.spi.MemoryPlugin} and found with
 * {@link java.util.ServiceLoader}. Being found activates nothing: configuration selects backends and decorators by
 * name. Every method has a default, so new extension kinds never break an existing plugin. Implementations need a
 * public no-argument constructor and must be thread-safe.
 */
public interface MemoryPlugin {
    /** The backends this plugin provides. */
    default List<BackendFactory> backends() {
        return List.of();
    }

    /** The decorators this plugin provides. */
    default List<DecoratorFactory> decorators() {
        return List.of();
    }
}
