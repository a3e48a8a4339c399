package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.agentmemory.BackendUnavailableException;
import io.agentmemory.ConfigurationException;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.core.config.Memories;
import io.agentmemory.core.config.PluginRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * TLS against real TLS-only redis-servers with certificates of a private CA made at test time: trust and key stores
 * of every type, an ACL user over TLS, host name verification, servers that require client certificates, and the
 * errors of bad stores and untrusted servers, none of which may show a password.
 */
class RedisTlsTest {
    private static final String PREFIX = TestRedis.newPrefix("tls");
    private static final String ACL_PASSWORD = "acl-" + UUID.randomUUID();
    private static TestTls tls;
    /** Clients need no certificate; also listens on 127.0.0.2, which its certificate does not name. */
    private static RedisProcess server;
    /** Requires a client certificate signed by the CA. */
    private static RedisProcess mutual;

    @BeforeAll
    static void start() {
        tls = TestTls.shared();
        server = RedisProcess.startTls("tls-plain-auth", tls, "no", List.of("--bind", "127.0.0.1", "127.0.0.2"));
        mutual = RedisProcess.startTls("tls-mutual", tls, "yes", List.of());
        try (Jedis jedis = server.client()) {
            jedis.aclSetUser("agent", "on", ">" + ACL_PASSWORD, "~" + PREFIX + "*", "+@all");
        }
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (mutual != null) {
            mutual.close();
        }
    }

    /** The secrets of this class: none may show in any message or cause. */
    private static List<String> secrets() {
        return List.of(tls.trustPassword, tls.keyPassword, ACL_PASSWORD);
    }

    private static void assertNoSecret(Throwable e) {
        assertThat(e).isNotNull();
        for (Throwable t = e; t != null; t = t.getCause()) {
            for (String secret : secrets()) {
                assertThat(String.valueOf(t)).doesNotContain(secret);
                for (Throwable s : t.getSuppressed()) {
                    assertThat(String.valueOf(s)).doesNotContain(secret);
                }
            }
        }
    }

    private static void roundTrip(Memory memory, String session) {
        MemoryStore store = memory.session("acme", session);
        store.add(Message.user("hello over TLS"));
        store.add(Message.assistant("hello back"));
        assertThat(store.history()).extracting(Message::content).containsExactly("hello over TLS", "hello back");
        assertThat(memory.sessions("acme")).contains(SessionKey.of("acme", session));
        memory.delete(SessionKey.of("acme", session));
        assertThat(store.count()).isZero();
    }

    @Test
    void anAclUserWithAPasswordWorksOverTls() {
        try (Memory memory = RedisMemory.open(
                tls.settings(server.port())
                        .user("agent")
                        .password(ACL_PASSWORD)
                        .keyPrefix(PREFIX)
                        .build(),
                TestContexts.plain())) {
            roundTrip(memory, "acl");
        }
        Throwable wrong = catchThrowable(() -> RedisMemory.open(
                tls.settings(server.port())
                        .user("agent")
                        .password("wrong-" + ACL_PASSWORD)
                        .keyPrefix(PREFIX)
                        .build(),
                TestContexts.plain()));
        assertThat(wrong).isInstanceOf(ConfigurationException.class).hasMessageContaining("memory.redis.password");
        assertNoSecret(wrong);
    }

    @Test
    void everyTrustStoreTypeWorksAndSettingsComeByName() {
        Map<String, String> pem = Map.of("trust-store", tls.caPem.toString(), "trust-store-type", "pem");
        Map<String, String> jks = Map.of(
                "trust-store",
                tls.trustJks.toString(),
                "trust-store-type",
                "JKS",
                "trust-store-password",
                tls.trustPassword);
        Map<String, String> p12 =
                Map.of("trust-store", tls.trustP12.toString(), "trust-store-password", tls.trustPassword);
        for (Map<String, String> trust : List.of(pem, jks, p12)) {
            Map<String, String> config = new LinkedHashMap<>();
            config.put("memory.backend", "redis");
            config.put("memory.redis.url", "rediss://127.0.0.1:" + server.port());
            config.put("memory.redis.key-prefix", PREFIX);
            trust.forEach((k, v) -> config.put("memory.redis." + k, v));
            try (Memory memory = Memories.fromConfig(config)) {
                roundTrip(memory, "types-" + trust.getOrDefault("trust-store-type", "p12"));
            }
        }
    }

    @Test
    void theHostNameIsVerified() {
        // "localhost" is in the certificate as a DNS name, 127.0.0.1 as an IP address.
        try (Memory memory = RedisMemory.open(
                RedisSettings.builder()
                        .node("localhost", server.port())
                        .tls(true)
                        .trustStore(tls.caPem)
                        .trustStoreType("PEM")
                        .keyPrefix(PREFIX)
                        .build(),
                TestContexts.plain())) {
            roundTrip(memory, "by-name");
        }
        // The same server and CA, reached by an address its certificate does not name.
        Throwable e = catchThrowable(() -> RedisMemory.open(
                RedisSettings.builder()
                        .node("127.0.0.2", server.port())
                        .tls(true)
                        .trustStore(tls.trustP12)
                        .trustStorePassword(tls.trustPassword)
                        .keyPrefix(PREFIX)
                        .timeout(Duration.ofSeconds(2))
                        .build(),
                TestContexts.plain()));
        assertThat(e)
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("certificate")
                .hasMessageContaining("127.0.0.2");
        assertNoSecret(e);
    }

    @Test
    void aServerSignedByAnotherCaIsRefused() {
        // A trust store of an unrelated CA.
        Throwable other = catchThrowable(() -> RedisMemory.open(
                RedisSettings.builder()
                        .node("127.0.0.1", server.port())
                        .tls(true)
                        .trustStore(tls.otherTrustP12)
                        .trustStorePassword(tls.trustPassword)
                        .password(ACL_PASSWORD)
                        .timeout(Duration.ofSeconds(2))
                        .build(),
                TestContexts.plain()));
        assertThat(other)
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("certificate")
                .hasMessageContaining("memory.redis.trust-store");
        assertNoSecret(other);
        // No trust store: the JVM's, which does not know the private CA.
        Throwable jvm = catchThrowable(() -> RedisMemory.open(
                RedisSettings.fromConfig(Map.of(
                        "url", "rediss://127.0.0.1:" + server.port(), "password", ACL_PASSWORD, "timeout", "2s")),
                TestContexts.plain()));
        assertThat(jvm).isInstanceOf(ConfigurationException.class).hasMessageContaining("certificate");
        assertNoSecret(jvm);
    }

    @Test
    void mutualTlsPresentsTheClientCertificate() {
        try (Memory memory = RedisMemory.open(
                tls.settings(mutual.port())
                        .keyStore(tls.clientP12)
                        .keyStorePassword(tls.keyPassword)
                        .keyPrefix(PREFIX)
                        .build(),
                TestContexts.plain())) {
            roundTrip(memory, "mutual");
        }
        Throwable without = catchThrowable(() -> RedisMemory.open(
                tls.settings(mutual.port())
                        .keyPrefix(PREFIX)
                        .timeout(Duration.ofSeconds(2))
                        .build(),
                TestContexts.plain()));
        assertThat(without).isInstanceOf(ConfigurationException.class).hasMessageContaining("memory.redis.key-store");
        assertNoSecret(without);
    }

    @Test
    void tlsToAPlainPortSaysSo() {
        // Redis 7 waits for a plain command and never answers the handshake: a timeout, with the likely cause.
        try (RedisProcess plain = RedisProcess.start("tls-to-plain", List.of())) {
            Throwable e = catchThrowable(() -> RedisMemory.open(
                    tls.settings(plain.port())
                            .password(ACL_PASSWORD)
                            .timeout(Duration.ofMillis(500))
                            .build(),
                    TestContexts.plain()));
            assertThat(e)
                    .isInstanceOf(BackendUnavailableException.class)
                    .hasMessageContaining("no TLS handshake came back")
                    .hasMessageContaining("redis://");
            assertNoSecret(e);
        }
    }

    @Test
    void anUnreachableTlsServerIsARetryableError() {
        Throwable e = catchThrowable(() -> RedisMemory.open(
                tls.settings(RedisProcess.freePort())
                        .password(ACL_PASSWORD)
                        .timeout(Duration.ofMillis(500))
                        .build(),
                TestContexts.plain()));
        assertThat(e).isInstanceOf(BackendUnavailableException.class);
        assertThat(((BackendUnavailableException) e).code().retryable()).isTrue();
        assertNoSecret(e);
    }

    @Test
    void badStoresFailAtOpenNamingTheSettingNotThePassword() {
        Path missing = tls.caPem.resolveSibling("missing.p12");
        Map<RedisSettings, String> bad = new LinkedHashMap<>();
        bad.put(tls.settings(server.port()).trustStore(missing).build(), "does not exist");
        bad.put(
                tls.settings(server.port())
                        .trustStorePassword("wrong-" + tls.trustPassword)
                        .build(),
                "memory.redis.trust-store-password");
        bad.put(
                tls.settings(server.port())
                        .trustStore(tls.trustJks)
                        .trustStoreType("JKS")
                        .trustStorePassword("wrong-" + tls.trustPassword)
                        .build(),
                "memory.redis.trust-store-password");
        bad.put(
                tls.settings(server.port())
                        .keyStore(tls.clientP12)
                        .keyStorePassword("wrong-" + tls.keyPassword)
                        .build(),
                "memory.redis.key-store-password");
        bad.put(tls.settings(server.port()).keyStore(tls.clientP12).build(), "memory.redis.key-store-password");
        bad.put(
                tls.settings(server.port())
                        .keyStore(tls.trustP12)
                        .keyStorePassword(tls.trustPassword)
                        .build(),
                "holds no private key");
        bad.put(
                tls.settings(server.port())
                        .trustStore(tls.caPem)
                        .trustStorePassword(null)
                        .build(),
                "memory.redis.trust-store-type");
        bad.put(
                tls.settings(server.port())
                        .trustStore(tls.trustP12)
                        .trustStoreType("PEM")
                        .trustStorePassword(null)
                        .build(),
                "PEM");
        bad.put(tls.settings(server.port()).trustStore(tls.caPem.getParent()).build(), "not a readable file");
        bad.forEach((settings, named) -> {
            Throwable e = catchThrowable(() -> RedisMemory.open(settings, TestContexts.plain()));
            assertThat(e)
                    .as("%s", settings)
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining(named);
            assertNoSecret(e);
        });
    }

    @Test
    void aPkcs12TrustStoreWithEncryptedCertificatesNeedsItsPassword() {
        Throwable e = catchThrowable(() -> RedisMemory.open(
                tls.settings(server.port()).trustStorePassword(null).build(), TestContexts.plain()));
        assertThat(e).isInstanceOf(ConfigurationException.class).hasMessageContaining("memory.redis.trust-store");
    }

    @Test
    void storeSettingsAreCheckedAndTheirPasswordsAreSecrets() {
        assertThat(PluginRegistry.discover().backend("redis").secretKeys())
                .containsExactlyInAnyOrder("password", "trust-store-password", "key-store-password");
        RedisSettings s = RedisSettings.fromConfig(Map.of(
                "url", "rediss://cache:6380",
                "trust-store", "/etc/ca.p12",
                "trust-store-password", tls.trustPassword,
                "key-store", "/etc/client.jks",
                "key-store-type", "jks",
                "key-store-password", tls.keyPassword));
        assertThat(s.trustStore())
                .contains(new RedisSettings.Store(
                        Path.of("/etc/ca.p12"), "PKCS12", java.util.Optional.of(tls.trustPassword)));
        assertThat(s.keyStore().orElseThrow().type()).isEqualTo("JKS");
        assertThat(s.toString()).doesNotContain(tls.trustPassword).doesNotContain(tls.keyPassword);

        Map<Map<String, String>, String> wrong = new LinkedHashMap<>();
        wrong.put(Map.of("trust-store", "/etc/ca.p12"), "memory.redis.trust-store");
        wrong.put(Map.of("url", "redis://h:1", "key-store", "/etc/k.p12"), "memory.redis.key-store");
        wrong.put(
                Map.of("tls", "true", "trust-store-password", tls.trustPassword), "memory.redis.trust-store-password");
        wrong.put(Map.of("tls", "true", "key-store-password", tls.keyPassword), "memory.redis.key-store-password");
        wrong.put(Map.of("tls", "true", "trust-store-type", "PEM"), "memory.redis.trust-store-type");
        wrong.put(
                Map.of("tls", "true", "trust-store", "/ca", "trust-store-type", "PFX"),
                "memory.redis.trust-store-type");
        wrong.put(Map.of("tls", "true", "key-store", "/k", "key-store-type", "PEM"), "memory.redis.key-store-type");
        wrong.put(
                Map.of(
                        "tls",
                        "true",
                        "trust-store",
                        "/ca.pem",
                        "trust-store-type",
                        "PEM",
                        "trust-store-password",
                        tls.trustPassword),
                "memory.redis.trust-store-password");
        wrong.forEach((config, named) -> {
            Throwable e = catchThrowable(() -> RedisSettings.fromConfig(config));
            assertThat(e)
                    .as("%s", config)
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining(named);
            assertNoSecret(e);
        });
        // Through Memories, a bad trust store password shows nowhere.
        Throwable viaMemories = catchThrowable(() -> Memories.fromConfig(Map.of(
                "memory.backend",
                "redis",
                "memory.redis.url",
                "rediss://127.0.0.1:" + server.port(),
                "memory.redis.trust-store",
                tls.trustP12.toString(),
                "memory.redis.trust-store-password",
                "wrong-" + tls.trustPassword)));
        assertThat(viaMemories).isInstanceOf(ConfigurationException.class);
        assertNoSecret(viaMemories);
    }
}
