package io.agentmemory.redis;

import io.agentmemory.Memory;
import io.agentmemory.spi.BackendFactory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.spi.MemoryPlugin;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Contributes the {@code redis} backend ({@link RedisMemory}) with the settings of {@link RedisSettings} under
 * {@code memory.redis.}; {@code password}, {@code trust-store-password} and {@code key-store-password} are secrets.
 * Listed in {@code META-INF/services}; being found activates nothing. Thread-safe.
 *
 * <pre>
 * memory.backend=redis
 * memory.redis.url=redis://cache.internal:6379
 * memory.redis.ttl=24h
 * memory.retention.max-messages=1000
 * </pre>
 */
public final class RedisPlugin implements MemoryPlugin {
    @Override
    public List<BackendFactory> backends() {
        return List.of(new Factory());
    }

    private static final class Factory implements BackendFactory {
        @Override
        public String name() {
            return RedisMemory.NAME;
        }

        @Override
        public Set<String> configKeys() {
            return RedisSettings.KEYS;
        }

        @Override
        public Set<String> secretKeys() {
            return RedisSettings.SECRET_KEYS;
        }

        @Override
        public Memory create(Map<String, String> config, MemoryContext context) {
            return RedisMemory.open(RedisSettings.fromConfig(config), context);
        }

        @Override
        public String toString() {
            return "BackendFactory[redis]";
        }
    }
}
