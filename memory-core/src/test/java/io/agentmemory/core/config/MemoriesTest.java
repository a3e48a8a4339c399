package io.agentmemory.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.agentmemory.Capability;
import io.agentmemory.ConfigurationException;
import io.agentmemory.Memory;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.core.CorePlugin;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.agentmemory.core.metrics.MetricsMemory;
import io.agentmemory.core.scope.ScopingMemory;
import io.agentmemory.spi.BackendFactory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.spi.MemoryPlugin;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.StringReader;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class MemoriesTest {
    /** A backend with a secret setting that records the context and settings it was created with. */
    static final class VaultPlugin implements MemoryPlugin {
        static final AtomicReference<Map<String, String>> LAST_CONFIG = new AtomicReference<>();
        static final AtomicReference<MemoryContext> LAST_CONTEXT = new AtomicReference<>();

        @Override
        public List<BackendFactory> backends() {
            return List.of(new BackendFactory() {
                @Override
                public String name() {
                    return "vault";
                }

                @Override
                public Set<String> configKeys() {
                    return Set.of("url", "password", "pool-size");
                }

                @Override
                public Set<String> secretKeys() {
                    return Set.of("password");
                }

                @Override
                public Memory create(Map<String, String> config, MemoryContext context) {
                    LAST_CONFIG.set(config);
                    LAST_CONTEXT.set(context);
                    return InMemoryMemory.create(context);
                }
            });
        }
    }

    private static Memories.Builder builder() {
        return Memories.builder().plugins(List.of(new CorePlugin(), new VaultPlugin()));
    }

    @Test
    void theDefaultIsTheInMemoryBackendFoundOnTheClassPath() {
        try (Memory memory = Memories.fromConfig(Map.of())) {
            assertThat(memory).isInstanceOf(InMemoryMemory.class);
            assertThat(memory.capabilities()).doesNotContain(Capability.PERSISTENT);
        }
    }

    @Test
    void anUnknownBackendFailsNamingTheBackendsFound() {
        assertThatThrownBy(() -> builder().backend("jdbc").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("unknown backend 'jdbc'")
                .hasMessageContaining("[memory, vault]");
    }

    @Test
    void anUnknownDecoratorFailsNamingTheDecoratorsFound() {
        assertThatThrownBy(() -> builder().decorators("encrypt").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("unknown decorator 'encrypt'")
                .hasMessageContaining("scope");
    }

    @Test
    void twoPluginsWithOneBackendNameFailNamingBoth() {
        assertThatThrownBy(() -> Memories.builder()
                        .plugins(List.of(new CorePlugin(), new CorePlugin()))
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("two backends are named 'memory'");
    }

    @Test
    void aMisspelledKeyFailsWithASuggestion() {
        assertThatThrownBy(
                        () -> builder().set("memory.retention.max-mesages", "5").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("unknown setting 'memory.retention.max-mesages'")
                .hasMessageContaining("did you mean 'memory.retention.max-messages'?");
        assertThatThrownBy(() -> builder()
                        .backend("vault")
                        .set("memory.vault.pasword", "hunter2")
                        .build())
                .hasMessageContaining("did you mean 'memory.vault.password'?")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void aSettingOfAnUnselectedBackendIsRejected() {
        assertThatThrownBy(() -> builder().set("memory.vault.url", "x").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("unknown setting 'memory.vault.url'")
                .hasMessageContaining("backend 'memory'");
    }

    @Test
    void aKeyOutsideTheMemoryNamespaceIsRejected() {
        assertThatThrownBy(() -> builder().set("jdbc.url", "x"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("start with 'memory.'");
    }

    @Test
    void settingsReachTheBackendWithoutTheirPrefixAndSecretsAreMasked() {
        try (Memory memory = builder()
                .backend("vault")
                .set("memory.vault.url", "vault://x")
                .set("memory.vault.password", "hunter2")
                .build()) {
            assertThat(memory.capabilities()).isNotEmpty();
            assertThat(VaultPlugin.LAST_CONFIG.get())
                    .containsEntry("url", "vault://x")
                    .containsEntry("password", "hunter2");
        }
        Settings settings = new Settings(
                Map.of("memory.vault.password", "hunter2", "memory.vault.url", "u"), Set.of("memory.vault.password"));
        assertThat(settings.toString()).contains("memory.vault.password=****").doesNotContain("hunter2");
        Settings bad = new Settings(Map.of("memory.vault.pool-size", "hunter2"), Set.of("memory.vault.pool-size"));
        assertThatThrownBy(() -> bad.integer("memory.vault.pool-size", 1))
                .hasMessageContaining("memory.vault.pool-size")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void retentionAndTokenCounterComeFromSettings() {
        try (Memory memory = builder()
                .backend("vault")
                .set(Memories.MAX_MESSAGES, "100")
                .set(Memories.MAX_TOKENS, "8000")
                .set(Memories.MAX_AGE, "24h")
                .set(Memories.OVERFLOW_MAX_SIZE, "200")
                .set(Memories.TOKEN_COUNTER, "cl100k_base")
                .build()) {
            assertThat(memory.capabilities()).isNotEmpty();
            MemoryContext context = VaultPlugin.LAST_CONTEXT.get();
            assertThat(context.retention())
                    .isEqualTo(Retention.builder()
                            .maxMessages(100)
                            .maxTokens(8000)
                            .maxAge(Duration.ofHours(24))
                            .overflow(200, 0.8)
                            .build());
            assertThat(context.tokenCounter().id()).contains("cl100k_base");
        }
        assertThatThrownBy(() -> builder().set(Memories.MAX_MESSAGES, "lots").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("memory.retention.max-messages must be a whole number");
        assertThatThrownBy(() -> builder().set(Memories.MAX_AGE, "tomorrow").build())
                .hasMessageContaining("memory.retention.max-age must be a duration");
        assertThatThrownBy(() -> builder()
                        .set(Memories.MAX_AGE, "99999999999999999999ms")
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("memory.retention.max-age is too large");
        assertThatThrownBy(() -> builder().set(Memories.TOKEN_COUNTER, "gpt2").build())
                .isInstanceOf(ConfigurationException.class);
    }

    @Test
    void aMaxAgeBeyondTheRangeOfTimeFailsAtAssemblyNotOnEveryWrite() {
        // A parseable Duration of about 27 billion years: "now minus" it is before Instant.MIN.
        assertThatThrownBy(() -> builder()
                        .config(Map.of(Memories.MAX_AGE, "10000000000000d"))
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("maxAge");
    }

    @Test
    void environmentVariablesOverrideKnownSettingsAndIgnoreOthers() {
        try (Memory memory = builder()
                .backend("memory")
                .set(Memories.MAX_MESSAGES, "100")
                .environment(Map.of(
                        "MEMORY_BACKEND", "vault",
                        "MEMORY_VAULT_POOL_SIZE", "7",
                        "MEMORY_RETENTION_MAX_MESSAGES", "5",
                        "MEMORY_TEST_PG_URL", "not a memory setting"))
                .build()) {
            assertThat(memory.capabilities()).isNotEmpty();
            assertThat(VaultPlugin.LAST_CONFIG.get()).containsEntry("pool-size", "7");
            assertThat(VaultPlugin.LAST_CONTEXT.get().retention().maxMessages()).hasValue(5);
        }
    }

    @Test
    void decoratorsWrapTheBackendInOrder() {
        try (Memory memory = builder()
                .decorators("scope")
                .set("memory.scope.name", "agent-a")
                .build()) {
            assertThat(memory).isInstanceOf(ScopingMemory.class);
            memory.session("t", "s").add(Message.user("hi"));
            assertThat(memory.sessions("t")).containsExactly(SessionKey.of("t", "s"));
        }
        assertThatThrownBy(() -> builder().decorators("scope").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("memory.scope.name");
        assertThatThrownBy(() -> builder().decorators("scope", "scope").build()).hasMessageContaining("twice");
    }

    /** A .properties line keeps its trailing spaces; every setting, the metrics tag too, is read without them. */
    @Test
    void settingsFromAPropertiesFileAreReadWithoutTrailingSpaces() throws IOException {
        Properties properties = new Properties();
        properties.load(new StringReader("memory.decorators = scope, metrics \nmemory.scope.name = planner \n"
                + "memory.metrics.tag = jdbc \n"));
        MeterRegistry registry = new SimpleMeterRegistry();
        try (Memory memory = Memories.builder()
                .config(properties)
                .service(MeterRegistry.class, registry)
                .build()) {
            assertThat(memory).isInstanceOf(MetricsMemory.class);
            memory.session("t", "s").add(Message.user("hi"));
        }
        assertThat(registry.get(MetricsMemory.MESSAGES_ADDED)
                        .tag("backend", "jdbc")
                        .counter()
                        .count())
                .isEqualTo(1.0);
    }

    /** A decimal setting is a decimal number, not one of Java's literals, which an integer setting refuses too. */
    @Test
    void aDecimalSettingRefusesJavaLiterals() {
        for (String typo : new String[] {"0.8f", "0.8d", "0x1.8p-1", "NaN", "Infinity", ".", "1e"}) {
            assertThatThrownBy(() -> Memories.builder()
                            .set(Memories.OVERFLOW_MAX_SIZE, "200")
                            .set(Memories.OVERFLOW_KEEP_FRACTION, typo)
                            .build()
                            .close())
                    .as("keep-fraction '%s'", typo)
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining(Memories.OVERFLOW_KEEP_FRACTION);
        }
        for (String ok : new String[] {"0.8", ".5", "0", "5e-1", "+0.25"}) {
            Memories.builder()
                    .set(Memories.OVERFLOW_MAX_SIZE, "200")
                    .set(Memories.OVERFLOW_KEEP_FRACTION, ok)
                    .build()
                    .close();
        }
    }
}
