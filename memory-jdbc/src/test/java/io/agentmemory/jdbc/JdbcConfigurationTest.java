package io.agentmemory.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.zaxxer.hikari.HikariPoolMXBean;
import io.agentmemory.Capability;
import io.agentmemory.ConfigurationException;
import io.agentmemory.ErrorCode;
import io.agentmemory.Memory;
import io.agentmemory.MemoryException;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.core.config.Memories;
import io.agentmemory.core.config.PluginRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration by name, validation of every setting, dialect choice, secrets, and the migrate switch. */
class JdbcConfigurationTest {
    private static final String SECRET = "Zq7-hunter2-secret";

    @TempDir
    Path directory;

    private String h2(String name) {
        return "jdbc:h2:file:" + directory.resolve(name);
    }

    private static ConfigurationException configurationError(Map<String, String> config) {
        Map<String, String> all = new HashMap<>(config);
        all.put("memory.backend", "jdbc");
        ConfigurationException e = catchThrowableOfType(
                ConfigurationException.class, () -> Memories.fromConfig(all).close());
        assertThat(e).as("a ConfigurationException for %s", config.keySet()).isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.CONFIGURATION);
        assertThat(e.getMessage()).doesNotContain(SECRET);
        assertThat(String.valueOf(e)).doesNotContain(SECRET);
        return e;
    }

    @Test
    void thePluginIsFoundAndSelectedByName() {
        assertThat(PluginRegistry.discover().backends()).containsKey("jdbc");
        try (Memory memory = Memories.fromConfig(
                Map.of("memory.backend", "jdbc", "memory.jdbc.url", h2("by-name"), "memory.jdbc.pool-size", "3"))) {
            assertThat(memory).isInstanceOf(JdbcMemory.class);
            assertThat(memory.capabilities()).isEqualTo(EnumSet.allOf(Capability.class));
            Message stored = memory.session("acme", "chat").add(Message.user("hello"));
            assertThat(memory.session("acme", "chat").history()).containsExactly(stored);
        }
    }

    @Test
    void anInMemoryH2DatabaseIsNotPersistent() {
        try (Memory memory = Memories.fromConfig(
                Map.of("memory.backend", "jdbc", "memory.jdbc.url", "jdbc:h2:mem:not-persistent"))) {
            assertThat(memory.capabilities()).doesNotContain(Capability.PERSISTENT);
        }
    }

    @Test
    void anInMemoryH2DatabaseOutlivesThePoolsConnections() throws Exception {
        try (Memory memory = Memories.fromConfig(Map.of(
                "memory.backend",
                "jdbc",
                "memory.jdbc.url",
                "jdbc:h2:mem:outlives-pool",
                "memory.jdbc.pool-size",
                "1"))) {
            Message stored = memory.session("acme", "chat").add(Message.user("hello"));
            // The pool retires its connections (at their maximum lifetime, or when one breaks) and opens new ones:
            // the database must not vanish with the last one it closes.
            HikariPoolMXBean pool = ((JdbcMemory) memory).ownedPool().getHikariPoolMXBean();
            // The call after it waits for the pool's new connection.
            pool.softEvictConnections();
            assertThat(memory.session("acme", "chat").history()).containsExactly(stored);
            assertThat(memory.session("acme", "chat").count()).isEqualTo(1);
        }
    }

    @Test
    void aMissingUrlIsAConfigurationError() {
        assertThat(configurationError(Map.of()).getMessage()).contains("memory.jdbc.url is not set");
    }

    @Test
    void anUnsupportedDatabaseFailsNamingTheSupportedOnes() {
        ConfigurationException e = configurationError(
                Map.of("memory.jdbc.url", "jdbc:mysql://db.example:3306/app?user=x&password=" + SECRET));
        assertThat(e.getMessage()).contains("jdbc:mysql", "PostgreSQL", "H2");
        configurationError(Map.of("memory.jdbc.url", "jdbc:sqlite:" + SECRET));
        configurationError(Map.of("memory.jdbc.url", "not a jdbc url " + SECRET));
    }

    @Test
    void aUrlPrefixNotInLowerCaseIsAConfigurationError() {
        for (String url : List.of("JDBC:H2:mem:upper", "jdbc:H2:mem:upper", "JDBC:POSTGRESQL://127.0.0.1:1/x")) {
            ConfigurationException e = configurationError(Map.of("memory.jdbc.url", url + ";PASSWORD=" + SECRET));
            assertThat(e.getMessage()).contains("memory.jdbc.url", "jdbc:postgresql:", "jdbc:h2:", "lower case");
        }
    }

    @Test
    void identifiersAreValidatedBeforeAnySql() {
        for (String bad : List.of("\"; DROP TABLE x; --", "Upper", "1st", "with space", "a-b", "x".repeat(64), "é")) {
            ConfigurationException e =
                    configurationError(Map.of("memory.jdbc.url", h2("ids"), "memory.jdbc.schema", bad));
            assertThat(e.getMessage()).contains("memory.jdbc.schema");
        }
        for (String bad : List.of("\"x", "Upper_", "x.y", "x".repeat(31), "a;b")) {
            ConfigurationException e =
                    configurationError(Map.of("memory.jdbc.url", h2("ids"), "memory.jdbc.table-prefix", bad));
            assertThat(e.getMessage()).contains("memory.jdbc.table-prefix");
        }
    }

    @Test
    void numbersDurationsAndSwitchesAreValidated() {
        for (String cache : new String[] {"-1", "10000001", "lots"}) {
            assertThat(configurationError(Map.of("memory.jdbc.url", h2("n"), "memory.jdbc.window-cache", cache))
                            .getMessage())
                    .contains("memory.jdbc.window-cache");
        }
        assertThat(JdbcSettings.fromConfig(Map.of("window-cache", "0")).windowCache())
                .isZero();
        assertThat(JdbcSettings.fromConfig(Map.of()).windowCache()).isEqualTo(JdbcSettings.DEFAULT_WINDOW_CACHE);
        assertThat(configurationError(Map.of("memory.jdbc.url", h2("n"), "memory.jdbc.pool-size", "0"))
                        .getMessage())
                .contains("memory.jdbc.pool-size");
        assertThat(configurationError(Map.of("memory.jdbc.url", h2("n"), "memory.jdbc.pool-size", "many"))
                        .getMessage())
                .contains("memory.jdbc.pool-size");
        assertThat(configurationError(Map.of("memory.jdbc.url", h2("n"), "memory.jdbc.migrate", "perhaps"))
                        .getMessage())
                .contains("memory.jdbc.migrate");
        assertThat(configurationError(Map.of("memory.jdbc.url", h2("n"), "memory.jdbc.connection-timeout", "soon"))
                        .getMessage())
                .contains("memory.jdbc.connection-timeout");
        assertThat(JdbcSettings.fromConfig(Map.of("connection-timeout", "1500ms"))
                        .connectionTimeout())
                .isEqualTo(Duration.ofMillis(1500));
        assertThat(JdbcSettings.fromConfig(Map.of("connection-timeout", "PT2S")).connectionTimeout())
                .isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void aMisspelledKeyGetsASuggestion() {
        assertThat(configurationError(Map.of("memory.jdbc.url", h2("typo"), "memory.jdbc.pool-sise", "3"))
                        .getMessage())
                .contains("memory.jdbc.pool-size");
    }

    @Test
    void thePasswordAndTheUrlParametersAreNeverShown() {
        JdbcSettings settings = JdbcSettings.fromConfig(Map.of(
                "url",
                "jdbc:postgresql://db.example:5432/app?user=u&password=" + SECRET,
                "user",
                "u",
                "password",
                SECRET));
        assertThat(settings.toString()).doesNotContain(SECRET).contains("db.example:5432/app", "****");
        assertThat(new JdbcPlugin().backends().get(0).secretKeys()).containsExactlyInAnyOrder("password", "url");
        assertThat(JdbcSettings.redact("jdbc:h2:file:/x;PASSWORD=" + SECRET)).isEqualTo("jdbc:h2:file:/x");
        assertThat(JdbcSettings.redact("jdbc:postgresql://u:" + SECRET + "@host/db"))
                .isEqualTo("jdbc:postgresql://host/db");
    }

    @Test
    void anUnreachableServerIsARetryableFailureWithoutSecrets() {
        MemoryException e = catchThrowableOfType(
                MemoryException.class,
                () -> Memories.fromConfig(Map.of(
                                "memory.backend",
                                "jdbc",
                                "memory.jdbc.url",
                                "jdbc:postgresql://127.0.0.1:1/nowhere?password=" + SECRET,
                                "memory.jdbc.password",
                                SECRET,
                                "memory.jdbc.connection-timeout",
                                "1s"))
                        .close());
        assertThat(e).isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.BACKEND_UNAVAILABLE);
        assertThat(e.code().retryable()).isTrue();
        assertThat(String.valueOf(e)).doesNotContain(SECRET);
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).doesNotContain(SECRET);
        }
    }

    @Test
    void aMissingDatabaseIsAConfigurationError() {
        String url = TestPostgres.withDatabase(TestPostgres.serverUrl(), "agentmemory_no_such_database");
        ConfigurationException e = configurationError(Map.of("memory.jdbc.url", url, "memory.jdbc.password", SECRET));
        assertThat(e.getMessage()).contains("3D000", "memory.jdbc.url");
    }

    @Test
    void withoutMigrateAnUnmigratedDatabaseFailsAtStart() {
        String url = h2("unmigrated");
        ConfigurationException e = configurationError(Map.of("memory.jdbc.url", url, "memory.jdbc.migrate", "false"));
        assertThat(e.getMessage()).contains("memory.jdbc.migrate=true");
        Memories.fromConfig(Map.of("memory.backend", "jdbc", "memory.jdbc.url", url))
                .close();
        try (Memory memory = Memories.fromConfig(
                Map.of("memory.backend", "jdbc", "memory.jdbc.url", url, "memory.jdbc.migrate", "false"))) {
            memory.session(SessionKey.of("t", "s")).add(Message.user("works"));
        }
    }

    @Test
    void aSchemaNewerThanThisCodeFailsAtStart() throws Exception {
        String url = h2("newer");
        Memories.fromConfig(Map.of("memory.backend", "jdbc", "memory.jdbc.url", url))
                .close();
        try (Connection c = DriverManager.getConnection(url);
                Statement st = c.createStatement()) {
            st.execute("INSERT INTO \"agentmemory_schema_version\" (version, description) VALUES (99, 'future')");
        }
        for (String migrate : List.of("true", "false")) {
            ConfigurationException e =
                    configurationError(Map.of("memory.jdbc.url", url, "memory.jdbc.migrate", migrate));
            assertThat(e.getMessage()).contains("99", "newer");
        }
    }

    @Test
    void schemaAndPrefixNameTheTables() throws Exception {
        String url = h2("schema");
        try (Memory memory = Memories.fromConfig(Map.of(
                "memory.backend", "jdbc",
                "memory.jdbc.url", url,
                "memory.jdbc.schema", "chat_memory",
                "memory.jdbc.table-prefix", "app1_"))) {
            memory.session("t", "s").add(Message.user("in a schema"));
        }
        try (Memory other = Memories.fromConfig(Map.of("memory.backend", "jdbc", "memory.jdbc.url", url))) {
            assertThat(other.session("t", "s").count())
                    .as("other tables, other messages")
                    .isZero();
        }
        try (Connection c = DriverManager.getConnection(url);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM \"chat_memory\".\"app1_messages\"")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
    }

    @Test
    void theCapabilitiesAreDeclared() {
        try (Memory memory = Memories.fromConfig(Map.of("memory.backend", "jdbc", "memory.jdbc.url", h2("caps")))) {
            assertThat(memory.capabilities()).containsExactlyInAnyOrder(Capability.values());
            assertThat(memory.toString()).contains("H2").doesNotContain("PASSWORD");
        }
    }
}
