package io.agentmemory.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import org.h2.jdbc.JdbcConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Statements kept per pooled H2 connection: reused across check-outs, and handed out clean. */
class StatementCacheTest {
    private static final String INSERT = "INSERT INTO t (v) VALUES (?)";

    private HikariDataSource pool;
    private final StatementCache cache = new StatementCache(JdbcConnection.class);

    @BeforeEach
    void open() throws Exception {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:h2:mem:statement-cache;DB_CLOSE_DELAY=-1");
        config.setMaximumPoolSize(1);
        pool = new HikariDataSource(config);
        try (Connection c = pool.getConnection();
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t (v INTEGER)");
        }
    }

    @AfterEach
    void close() throws Exception {
        try (Connection c = pool.getConnection();
                Statement st = c.createStatement()) {
            st.execute("DROP TABLE t");
        }
        pool.close();
    }

    @Test
    void aStatementIsPreparedOncePerConnection() throws Exception {
        PreparedStatement first;
        try (Connection c = cache.wrap(pool.getConnection());
                PreparedStatement ps = c.prepareStatement(INSERT)) {
            first = ps.unwrap(PreparedStatement.class);
            ps.setInt(1, 1);
            ps.executeUpdate();
        }
        try (Connection c = cache.wrap(pool.getConnection());
                PreparedStatement ps = c.prepareStatement(INSERT)) {
            assertThat(ps.unwrap(PreparedStatement.class)).isSameAs(first);
            assertThat(ps.isClosed()).isFalse();
            ps.setInt(1, 2);
            ps.executeUpdate();
        }
        assertThat(values()).isEqualTo(2);
    }

    @Test
    void aBatchLeftUnexecutedIsNotRunByTheNextUser() throws Exception {
        try (Connection c = cache.wrap(pool.getConnection());
                PreparedStatement ps = c.prepareStatement(INSERT)) {
            ps.setInt(1, 1);
            ps.addBatch(); // the caller fails before executeBatch
        }
        try (Connection c = cache.wrap(pool.getConnection());
                PreparedStatement ps = c.prepareStatement(INSERT)) {
            ps.setInt(1, 2);
            ps.addBatch();
            assertThat(ps.executeBatch()).containsExactly(1);
        }
        assertThat(values()).isEqualTo(1);
    }

    @Test
    void transactionsGoThroughThePooledConnection() throws Exception {
        try (Connection pooled = pool.getConnection()) {
            Connection c = cache.wrap(pooled);
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(INSERT)) {
                ps.setInt(1, 1);
                ps.executeUpdate();
            }
            c.rollback();
            c.setAutoCommit(true);
        }
        assertThat(values()).isZero();
    }

    private int values() throws Exception {
        try (Connection c = pool.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM t")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
