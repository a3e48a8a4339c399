package io.agentmemory.examples.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The persistent conversation on PostgreSQL by configuration only: the program's settings are unchanged (they name
 * the H2 file store) and the environment redirects them (MEMORY_JDBC_URL, MEMORY_JDBC_SCHEMA), into a schema of this
 * test's own that it drops afterwards. PostgreSQL is the one MEMORY_TEST_PG_URL names, else the CI default; when it
 * cannot be reached the test is skipped, or fails with CI=true.
 */
class PersistentConversationPostgresTest {
    private static final String DEFAULT_URL = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres";

    @TempDir
    Path directory;

    private String url;
    private final String schema =
            "amtest_example_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);

    @BeforeEach
    void connect() {
        String named = System.getenv("MEMORY_TEST_PG_URL");
        String candidate = named == null || named.isBlank() ? DEFAULT_URL : named;
        try (Connection c = connection(candidate)) {
            assertThat(c.isValid(5)).isTrue();
        } catch (SQLException e) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(
                        "the PostgreSQL of MEMORY_TEST_PG_URL (or " + DEFAULT_URL + ") cannot be reached, and CI=true",
                        e);
            }
            Assumptions.abort("no PostgreSQL reachable (set MEMORY_TEST_PG_URL): SQLState " + e.getSQLState());
        }
        url = candidate;
    }

    @AfterEach
    void dropSchema() throws SQLException {
        if (url != null) {
            try (Connection c = connection(url);
                    Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
            }
        }
    }

    @Test
    void theSecondRunRemembersTheNameFromPostgres() throws SQLException {
        Map<String, String> environment = Map.of("MEMORY_JDBC_URL", url, "MEMORY_JDBC_SCHEMA", schema);
        Map<String, String> settings = PersistentConversationExample.settings(directory, new Properties(), environment);
        assertThat(settings.get("memory.jdbc.url")).startsWith("jdbc:h2:file:");

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        assertThat(PersistentConversationExample.run(settings, environment, out))
                .isEmpty();
        Optional<String> remembered = PersistentConversationExample.run(settings, environment, out);
        String printed = bytes.toString(StandardCharsets.UTF_8);

        assertThat(remembered).contains("Alice");
        assertThat(printed)
                .contains("JdbcMemory[PostgreSQL jdbc:postgresql:", "== run 1", "== run 2", "remembered name: Alice")
                .doesNotContain("?user=");
        assertThat(directory).isEmptyDirectory();
        assertThat(storedRoles()).containsExactly("system", "user", "assistant", "user", "assistant");
    }

    /** What the schema holds, read with plain SQL: the conversation went to PostgreSQL and nowhere else. */
    private List<String> storedRoles() throws SQLException {
        List<String> roles = new ArrayList<>();
        try (Connection c = connection(url);
                Statement s = c.createStatement();
                ResultSet rows = s.executeQuery("SELECT role FROM \"" + schema
                        + "\".agentmemory_messages WHERE tenant = 'acme' AND session_id = 'alice-chat' ORDER BY seq")) {
            while (rows.next()) {
                roles.add(rows.getString(1));
            }
        }
        return roles;
    }

    private static Connection connection(String url) throws SQLException {
        Properties timeouts = new Properties();
        timeouts.setProperty("connectTimeout", "5");
        timeouts.setProperty("loginTimeout", "10");
        return DriverManager.getConnection(url, timeouts);
    }
}
