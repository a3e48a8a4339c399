package io.agentmemory.core.inmemory;

import io.agentmemory.Memory;
import io.agentmemory.spi.BackendFactory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.spi.MemoryPlugin;
import java.util.List;
import java.util.Map;

/** Contributes the {@code memory} backend ({@link InMemoryMemory}), which has no settings. Thread-safe. */
public final class InMemoryPlugin implements MemoryPlugin {
    /** The name configuration selects the in-memory backend by. */
    public static final String NAME = "memory";

    @Override
    public List<BackendFactory> backends() {
        return List.of(new BackendFactory() {
            @Override
            public String name() {
                return NAME;
            }

            @Override
            public Memory create(Map<String, String> config, MemoryContext context) {
                return InMemoryMemory.create(context);
            }
        });
    }
}
