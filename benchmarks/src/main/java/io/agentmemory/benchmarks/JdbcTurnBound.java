package io.agentmemory.benchmarks;

import com.zaxxer.hikari.HikariDataSource;
import io.agentmemory.Message;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * A lower bound for any jdbc store that keeps memory-jdbc's write guarantees, measured next to {@link PairedJdbcTurns}'
 * turns: an append that gives the message the next number of its session in commit order, from a counter row the
 * append locks (so that writers in any process get consecutive numbers, and readers see the session grow only at its
 * end), and stores it under a key unique per session and message id (so that a retried append cannot store it twice),
 * in one transaction; on PostgreSQL one statement, on H2 two. It stores session, number, id, role and content only:
 * no tenant or scope, timestamp, token count, metadata, tool-call fields or row stamp, and no other index. Its window
 * is free (a perfect cache), so its turn is its two appends. Not a store: it never reads what it wrote, and the
 * duplicate-id conflict just fails.
 */
final class JdbcTurnBound {
    static final String SESSIONS = "bench_bound_sessions";
    static final String MESSAGES = "bench_bound_messages";

    private final HikariDataSource pool;
    private final boolean postgres;
    private final String session;
    /** PostgreSQL: the whole append; H2: the counter's bump, before {@link #insert}. */
    private final String append;

    private final String insert;

    JdbcTurnBound(HikariDataSource pool, String url, String session) throws SQLException {
        this.pool = pool;
        this.postgres = url.startsWith("jdbc:postgresql:");
        this.session = session;
        String into = "INSERT INTO " + MESSAGES + " (session_id, seq, message_id, role, content)";
        String bump = "UPDATE " + SESSIONS + " SET last_seq = last_seq + 1 WHERE session_id = ?";
        this.append = postgres
                ? "WITH x AS (" + bump + " RETURNING last_seq) " + into
                        + " SELECT ?, last_seq, ?, ?, ? FROM x RETURNING seq"
                : "SELECT last_seq FROM FINAL TABLE (" + bump + ")";
        this.insert = into + " VALUES (?, ?, ?, ?, ?)";
        try (Connection c = pool.getConnection();
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS " + SESSIONS + " (session_id VARCHAR(256) PRIMARY KEY,"
                    + " last_seq BIGINT NOT NULL)");
            st.execute("CREATE TABLE IF NOT EXISTS " + MESSAGES + " (session_id VARCHAR(256) NOT NULL,"
                    + " seq BIGINT NOT NULL, message_id VARCHAR(128) NOT NULL, role VARCHAR(64) NOT NULL,"
                    + " content VARCHAR(1000000) NOT NULL, PRIMARY KEY (session_id, seq))");
            st.execute("CREATE UNIQUE INDEX IF NOT EXISTS " + MESSAGES + "_id ON " + MESSAGES
                    + " (session_id, message_id)");
            st.execute("DELETE FROM " + MESSAGES + " WHERE session_id LIKE 'turn-%'");
            st.execute("DELETE FROM " + SESSIONS + " WHERE session_id LIKE 'turn-%'");
        }
        try (Connection c = pool.getConnection();
                PreparedStatement ps =
                        c.prepareStatement("INSERT INTO " + SESSIONS + " (session_id, last_seq) VALUES (?, 0)")) {
            ps.setString(1, session);
            ps.executeUpdate();
        }
    }

    /** Fills the session with {@code messages}, one append each. */
    void fill(List<Message> messages) throws SQLException {
        for (Message m : messages) {
            append(m);
        }
    }

    /** Appends {@code m}; returns its number. */
    long append(Message m) throws SQLException {
        try (Connection c = pool.getConnection()) {
            if (postgres) {
                try (PreparedStatement ps = c.prepareStatement(append)) {
                    ps.setString(1, session);
                    bindRow(ps, 2, m);
                    return number(ps);
                }
            }
            c.setAutoCommit(false);
            try {
                long seq;
                try (PreparedStatement ps = c.prepareStatement(append)) {
                    ps.setString(1, session);
                    seq = number(ps);
                }
                try (PreparedStatement ps = c.prepareStatement(insert)) {
                    ps.setString(1, session);
                    ps.setLong(2, seq);
                    bindRow(ps, 3, m);
                    ps.executeUpdate();
                }
                c.commit();
                return seq;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /** The number the statement that bumps the session's counter returns. */
    private static long number(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new IllegalStateException("the bound's session row is missing");
            }
            return rs.getLong(1);
        }
    }

    /** Binds session (PostgreSQL's statement names it twice), id, role and content from {@code first} on. */
    private void bindRow(PreparedStatement ps, int first, Message m) throws SQLException {
        int i = first;
        if (postgres) {
            ps.setString(i++, session);
        }
        ps.setString(i++, m.id());
        ps.setString(i++, m.role());
        ps.setString(i, m.content());
    }
}
