package io.agentmemory.core;

import io.agentmemory.ConfigurationException;
import io.agentmemory.Memory;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.agentmemory.core.metrics.MetricsMemory;
import io.agentmemory.core.scope.ScopingMemory;
import io.agentmemory.spi.BackendFactory;
import io.agentmemory.spi.DecoratorFactory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.spi.MemoryPlugin;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What memory-core contributes: the {@code memory} backend ({@link InMemoryMemory}, no settings), the {@code scope}
 * decorator ({@link ScopingMemory}, setting {@code name}) and the {@code metrics} decorator ({@link MetricsMemory},
 * optional setting {@code tag}; needs a Micrometer registry service). Thread-safe.
 */
public final class CorePlugin implements MemoryPlugin {
    @Override
    public List<BackendFactory> backends() {
        return List.of(new BackendFactory() {
            @Override
            public String name() {
                return InMemoryMemory.NAME;
            }

            @Override
            public Memory create(Map<String, String> config, MemoryContext context) {
                return InMemoryMemory.create(context);
            }
        });
    }

    @Override
    public List<DecoratorFactory> decorators() {
        return List.of(MetricsMemory.decoratorFactory(), new DecoratorFactory() {
            @Override
            public String name() {
                return ScopingMemory.NAME;
            }

            @Override
            public Set<String> configKeys() {
                return Set.of("name");
            }

            @Override
            public Memory decorate(Memory delegate, Map<String, String> config, MemoryContext context) {
                String scope = config.get("name");
                if (scope == null) {
                    throw new ConfigurationException("the scope decorator needs memory.scope.name");
                }
                // Read like every other setting: surrounding white space is not part of the value.
                return ScopingMemory.of(delegate, scope.strip());
            }
        });
    }
}
