package io.agentmemory.core.config;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.agentmemory.ConfigurationException;
import io.agentmemory.Memory;
import io.agentmemory.core.CorePlugin;
import io.agentmemory.core.scope.ScopingMemory;
import io.agentmemory.spi.BackendFactory;
import io.agentmemory.spi.DecoratorFactory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.spi.MemoryPlugin;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PluginRegistryTest {
    /** A plugin whose backends() throws. */
    static final class ThrowingPlugin implements MemoryPlugin {
        @Override
        public List<BackendFactory> backends() {
            throw new IllegalStateException("no driver");
        }
    }

    /** A plugin whose decorators() answers null. */
    static final class NullListPlugin implements MemoryPlugin {
        @Override
        public List<DecoratorFactory> decorators() {
            return null;
        }
    }

    /** A plugin whose backends() holds a null. */
    static final class NullFactoryPlugin implements MemoryPlugin {
        @Override
        public List<BackendFactory> backends() {
            return Arrays.asList((BackendFactory) null);
        }
    }

    @Test
    void aPluginWhoseListOfFactoriesFailsIsAConfigurationErrorNamingIt() {
        assertThatThrownBy(() -> PluginRegistry.of(List.of(new CorePlugin(), new ThrowingPlugin())))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(ThrowingPlugin.class.getName())
                .hasMessageContaining("backends")
                .hasCauseInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> PluginRegistry.of(List.of(new NullListPlugin())))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(NullListPlugin.class.getName())
                .hasMessageContaining("decorators");
        assertThatThrownBy(() -> PluginRegistry.of(List.of(new NullFactoryPlugin())))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(NullFactoryPlugin.class.getName());
    }

    @Test
    void aBackendFactoryThatGivesNoMemoryIsAConfigurationErrorNamingIt() {
        BackendFactory none = new BackendFactory() {
            @Override
            public String name() {
                return "none";
            }

            @Override
            public Memory create(Map<String, String> config, MemoryContext context) {
                return null;
            }
        };
        assertThatThrownBy(() -> Memories.builder()
                        .plugins(List.of(new CorePlugin()))
                        .backendFactory(none)
                        .backend("none")
                        .decorators(ScopingMemory.NAME)
                        .set("memory.scope.name", "planner")
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("backend 'none'")
                .hasMessageContaining(none.getClass().getName());
    }
}
