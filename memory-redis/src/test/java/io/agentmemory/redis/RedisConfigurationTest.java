package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.agentmemory.BackendUnavailableException;
import io.agentmemory.Capability;
import io.agentmemory.ConfigurationException;
import io.agentmemory.Memory;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.core.config.Memories;
import io.agentmemory.core.config.PluginRegistry;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The backend is found by name, reads its settings under memory.redis.*, and never shows the password. */
class RedisConfigurationTest {
    private static final String PREFIX = TestRedis.newPrefix("config");
    private static final String SECRET = "s3cr3t-" + java.util.UUID.randomUUID();

    @AfterAll
    static void deleteKeys() {
        TestRedis.deleteKeys(TestRedis.url(), PREFIX);
    }

    @Test
    void thePluginIsFoundByNameAndConfiguredBySettingsAlone() {
        assertThat(PluginRegistry.discover().backends()).containsKey("redis");
        assertThat(PluginRegistry.discover().backend("redis").secretKeys())
                .containsExactlyInAnyOrder("password", "trust-store-password", "key-store-password");
        try (Memory memory = Memories.fromConfig(Map.of(
                "memory.backend", "redis",
                "memory.redis.url", TestRedis.url(),
                "memory.redis.key-prefix", PREFIX,
                "memory.redis.ttl", "24h",
                "memory.retention.max-messages", "3"))) {
            assertThat(memory.capabilities()).isEqualTo(EnumSet.allOf(Capability.class));
            var store = memory.session("acme", "by-name");
            for (int i = 0; i < 5; i++) {
                store.add(Message.user("m" + i));
            }
            assertThat(store.history()).extracting(Message::content).containsExactly("m2", "m3", "m4");
            memory.delete(SessionKey.of("acme", "by-name"));
        }
    }

    @Test
    void settingsAreReadAndDefaulted() {
        RedisSettings s = RedisSettings.fromConfig(Map.of());
        assertThat(s.nodes()).containsExactly(new RedisSettings.Node("127.0.0.1", 6379));
        assertThat(s.cluster()).isFalse();
        assertThat(s.tls()).isFalse();
        assertThat(s.keyPrefix()).isEqualTo("agentmemory:");
        assertThat(s.ttl()).isEmpty();

        RedisSettings tls = RedisSettings.fromConfig(
                Map.of("url", "rediss://cache.example:6380/2", "ttl", "PT24H", "timeout", "500ms", "user", "agent"));
        assertThat(tls.tls()).isTrue();
        assertThat(tls.database()).isEqualTo(2);
        assertThat(tls.nodes()).containsExactly(new RedisSettings.Node("cache.example", 6380));
        assertThat(tls.ttl()).contains(Duration.ofHours(24));
        assertThat(tls.timeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(tls.user()).contains("agent");

        RedisSettings cluster = RedisSettings.fromConfig(
                Map.of("url", "redis://a:7100, redis://b:7101", "cluster", "true", "ttl", "7d"));
        assertThat(cluster.nodes())
                .containsExactly(new RedisSettings.Node("a", 7100), new RedisSettings.Node("b", 7101));
        assertThat(cluster.ttl()).contains(Duration.ofDays(7));

        RedisSettings hostPort = RedisSettings.fromConfig(Map.of("host", "10.0.0.5", "port", "6390", "tls", "true"));
        assertThat(hostPort.nodes()).containsExactly(new RedisSettings.Node("10.0.0.5", 6390));
        assertThat(hostPort.tls()).isTrue();
    }

    @Test
    void wrongSettingsFailWithTheKeyNamed() {
        Map<Map<String, String>, String> wrong = new LinkedHashMap<>();
        wrong.put(Map.of("url", "http://x:1"), "memory.redis.url");
        wrong.put(Map.of("url", "redis://x:1", "host", "y"), "memory.redis.host");
        wrong.put(Map.of("url", "redis://a:1,redis://b:2"), "memory.redis.cluster");
        wrong.put(Map.of("cluster", "true", "database", "3"), "memory.redis.database");
        wrong.put(Map.of("cluster", "maybe"), "memory.redis.cluster");
        wrong.put(Map.of("ttl", "soon"), "memory.redis.ttl");
        wrong.put(Map.of("ttl", "0s"), "memory.redis.ttl");
        wrong.put(Map.of("timeout", "-PT1S"), "memory.redis.timeout");
        wrong.put(Map.of("key-prefix", "a{b}:"), "memory.redis.key-prefix");
        wrong.put(Map.of("port", "70000"), "memory.redis.port");
        wrong.put(Map.of("tls", "false", "url", "rediss://x:1"), "memory.redis.tls");
        wrong.put(Map.of("passwort", "x"), "memory.redis.passwort");
        wrong.put(Map.of("window-cache", "-1"), "memory.redis.window-cache");
        wrong.put(Map.of("window-cache", "10000001"), "memory.redis.window-cache");
        wrong.put(Map.of("window-cache", "lots"), "memory.redis.window-cache");
        wrong.forEach((config, named) -> assertThatThrownBy(() -> RedisSettings.fromConfig(config))
                .as("%s", config)
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(named));
    }

    @Test
    void durationsTooLongFailWithTheKeyNamed() {
        Map<Map<String, String>, String> wrong = new LinkedHashMap<>();
        // Too long for a Duration, or for its milliseconds in a long.
        wrong.put(Map.of("ttl", "9999999999999999d"), "memory.redis.ttl");
        wrong.put(Map.of("ttl", "100000000000000d"), "memory.redis.ttl");
        wrong.put(Map.of("ttl", "PT999999999999999H"), "memory.redis.ttl");
        wrong.put(Map.of("timeout", "100000000000000d"), "memory.redis.timeout");
        wrong.put(Map.of("lock-lease", "100000000000000d"), "memory.redis.lock-lease");
        // Longer than the scripts can count in milliseconds exactly (Lua numbers), or than a wait in nanoseconds.
        wrong.put(Map.of("ttl", "2000000000d"), "memory.redis.ttl");
        wrong.put(Map.of("lock-lease", "110000d"), "memory.redis.lock-lease");
        wrong.forEach((config, named) -> assertThatThrownBy(() -> RedisSettings.fromConfig(config))
                .as("%s", config)
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(named));
        assertThatThrownBy(() -> RedisSettings.builder()
                        .ttl(Duration.ofSeconds(Long.MAX_VALUE))
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("memory.redis.ttl");
        assertThatThrownBy(() -> RedisSettings.builder()
                        .timeout(Duration.ofSeconds(Long.MAX_VALUE))
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("memory.redis.timeout");
    }

    /** The longest TTL the settings take is one that every key of a session and the tenant's index really get. */
    @Test
    void theLongestTtlAcceptedIsAppliedToEveryKey() {
        Duration ttl = Duration.ofDays(36_500_000);
        RedisSettings settings = RedisSettings.builder()
                .nodes(TestRedis.settings(PREFIX).nodes())
                .keyPrefix(PREFIX)
                .ttl(ttl)
                .build();
        SessionKey key = SessionKey.of("acme", "longest-ttl");
        try (Memory memory = RedisMemory.open(settings, TestContexts.plain());
                redis.clients.jedis.Jedis jedis =
                        new redis.clients.jedis.Jedis(java.net.URI.create(TestRedis.url()), 5000)) {
            var store = memory.session(key);
            store.add(Message.system("rules"));
            store.addAll(List.of(Message.user("a"), Message.assistant("b")));
            assertThat(store.history()).extracting(Message::content).containsExactly("rules", "a", "b");
            assertThat(memory.sessions("acme")).containsExactly(key);
            RedisKeys keys = new RedisKeys(PREFIX);
            for (byte[] k : keys.session(key)) {
                if (jedis.exists(k)) {
                    assertThat(jedis.pttl(k))
                            .as(new String(k, java.nio.charset.StandardCharsets.UTF_8))
                            .isBetween(ttl.toMillis() - 60_000, ttl.toMillis());
                }
            }
            assertThat(jedis.pttl(keys.index("acme"))).isGreaterThan(ttl.toMillis());
            assertThat(memory.delete(key)).isTrue();
        }
    }

    @Test
    void thePasswordIsNeverShown() {
        RedisSettings s = RedisSettings.fromConfig(Map.of("password", SECRET, "user", "agent"));
        assertThat(s.password()).contains(SECRET);
        assertThat(s.toString()).doesNotContain(SECRET).contains("****");

        ConfigurationException inUrl = catchThrowableOfType(
                ConfigurationException.class,
                () -> RedisSettings.fromConfig(Map.of("url", "redis://agent:" + SECRET + "@h:1")));
        assertThat(inUrl.getMessage()).doesNotContain(SECRET).contains("memory.redis.password");
        ConfigurationException malformed = catchThrowableOfType(
                ConfigurationException.class,
                () -> RedisSettings.fromConfig(Map.of("url", "redis://agent:" + SECRET + "@h:1 x")));
        assertThat(malformed.getMessage()).doesNotContain(SECRET);

        // Memories declares the password a secret: it shows neither in its log line nor in its errors.
        ConfigurationException viaMemories = catchThrowableOfType(
                ConfigurationException.class,
                () -> Memories.fromConfig(Map.of(
                        "memory.backend", "redis",
                        "memory.redis.password", SECRET,
                        "memory.redis.ttl", "never")));
        assertThat(viaMemories.getMessage()).doesNotContain(SECRET);
    }

    @Test
    void aWrongPasswordIsAConfigurationErrorWithoutThePassword() {
        try (RedisProcess server =
                RedisProcess.start("auth", List.of("--requirepass", "right-" + java.util.UUID.randomUUID()))) {
            ConfigurationException e = catchThrowableOfType(
                    ConfigurationException.class,
                    () -> RedisMemory.open(
                            RedisSettings.builder()
                                    .node("127.0.0.1", server.port())
                                    .password(SECRET)
                                    .build(),
                            TestContexts.plain()));
            assertThat(e).isNotNull();
            for (Throwable t = e; t != null; t = t.getCause()) {
                assertThat(String.valueOf(t)).doesNotContain(SECRET);
            }
        }
    }

    @Test
    void anUnreachableServerIsARetryableError() {
        int port = RedisProcess.freePort();
        BackendUnavailableException e = catchThrowableOfType(
                BackendUnavailableException.class,
                () -> RedisMemory.open(
                        RedisSettings.builder()
                                .node("127.0.0.1", port)
                                .password(SECRET)
                                .timeout(Duration.ofMillis(500))
                                .build(),
                        TestContexts.plain()));
        assertThat(e).isNotNull();
        assertThat(e.code().retryable()).isTrue();
        assertThat(String.valueOf(e)).doesNotContain(SECRET);
    }
}
