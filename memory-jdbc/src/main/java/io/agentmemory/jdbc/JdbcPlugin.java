package io.agentmemory.jdbc;

import io.agentmemory.Memory;
import io.agentmemory.spi.BackendFactory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.spi.MemoryPlugin;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Contributes the {@code jdbc} backend ({@link JdbcMemory}) with the settings of {@link JdbcSettings} under
 * {@code memory.jdbc.}; {@code password} and {@code url} are secrets. Listed in
 * {@code META-INF/services/io.agentmemory.spi.MemoryPlugin}. Thread-safe (stateless).
 */
public final class JdbcPlugin implements MemoryPlugin {
    @Override
    public List<BackendFactory> backends() {
        return List.of(new Factory());
    }

    private static final class Factory implements BackendFactory {
        @Override
        public String name() {
            return JdbcMemory.NAME;
        }

        @Override
        public Set<String> configKeys() {
            return JdbcSettings.KEYS;
        }

        @Override
        public Set<String> secretKeys() {
            return JdbcSettings.SECRET_KEYS;
        }

        @Override
        public Memory create(Map<String, String> config, MemoryContext context) {
            return JdbcMemory.open(JdbcSettings.fromConfig(config), context);
        }
    }
}
