package io.agentmemory.jdbc.internal;

import io.agentmemory.ConfigurationException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Versioned schema migrations: each {@link Dialect.Migration} is applied once, in version order, and recorded in the
 * {@code schema_version} table. Two processes starting at once are safe: on PostgreSQL the whole run holds a
 * transaction-scoped advisory lock and DDL is transactional, so the second waits and then finds everything applied;
 * on H2 see {@link H2Dialect}. Thread-safe (stateless).
 */
public final class Migrations {
    private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

    private Migrations() {}

    /** The newest version the given dialect knows. */
    public static int latest(Dialect dialect) {
        List<Dialect.Migration> all = dialect.migrations();
        return all.get(all.size() - 1).version();
    }

    /**
     * Applies the missing migrations, or with {@code migrate} false only checks that none is missing.
     *
     * @throws ConfigurationException if the tables are behind and {@code migrate} is false, or ahead of this code
     */
    public static void run(Connection connection, Dialect dialect, boolean migrate) throws SQLException {
        if (!migrate) {
            TreeSet<Integer> applied;
            try {
                applied = applied(connection, dialect);
            } catch (SQLException e) {
                throw new ConfigurationException(
                        "the tables " + dialect.tables.describe() + " are not set up (SQLState " + e.getSQLState()
                                + "); start once with memory.jdbc.migrate=true, or apply the migrations");
            }
            checkNotNewer(applied, dialect);
            for (Dialect.Migration migration : dialect.migrations()) {
                if (!applied.contains(migration.version())) {
                    throw new ConfigurationException("the tables " + dialect.tables.describe() + " lack migration "
                            + migration.version() + " (" + migration.description() + ") and memory.jdbc.migrate is"
                            + " false; start once with memory.jdbc.migrate=true");
                }
            }
            return;
        }
        dialect.withMigrationLock(connection, c -> {
            try (Statement st = c.createStatement()) {
                if (dialect.tables.quotedSchema().isPresent()) {
                    st.execute("CREATE SCHEMA IF NOT EXISTS "
                            + dialect.tables.quotedSchema().get());
                }
                st.execute("CREATE TABLE IF NOT EXISTS " + dialect.tables.versions() + " (version INTEGER PRIMARY KEY,"
                        + " description VARCHAR(200) NOT NULL,"
                        + " applied_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL)");
            }
            TreeSet<Integer> applied = applied(c, dialect);
            checkNotNewer(applied, dialect);
            for (Dialect.Migration migration : dialect.migrations()) {
                if (applied.contains(migration.version())) {
                    continue;
                }
                try (Statement st = c.createStatement()) {
                    for (String sql : migration.statements()) {
                        st.execute(sql);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO " + dialect.tables.versions() + " (version, description) VALUES (?, ?)")) {
                    ps.setInt(1, migration.version());
                    ps.setString(2, migration.description());
                    ps.executeUpdate();
                } catch (SQLException e) {
                    if (!dialect.isConflict(e)) {
                        throw e;
                    }
                    // H2 only (PostgreSQL holds a lock): another starter recorded it first; the DDL is idempotent.
                }
                LOG.info(
                        "applied migration {} ({}) to {} on {}",
                        migration.version(),
                        migration.description(),
                        dialect.tables.describe(),
                        dialect.name());
            }
            return null;
        });
    }

    private static TreeSet<Integer> applied(Connection connection, Dialect dialect) throws SQLException {
        TreeSet<Integer> versions = new TreeSet<>();
        try (Statement st = connection.createStatement();
                ResultSet rs = st.executeQuery("SELECT version FROM " + dialect.tables.versions())) {
            while (rs.next()) {
                versions.add(rs.getInt(1));
            }
        }
        return versions;
    }

    private static void checkNotNewer(TreeSet<Integer> applied, Dialect dialect) {
        int latest = latest(dialect);
        if (!applied.isEmpty() && applied.last() > latest) {
            throw new ConfigurationException("the tables " + dialect.tables.describe() + " are at schema version "
                    + applied.last() + ", newer than this version of agentmemory knows (" + latest
                    + "); upgrade agentmemory or use another table-prefix");
        }
    }
}
