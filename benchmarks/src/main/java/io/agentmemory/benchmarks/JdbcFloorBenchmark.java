package io.agentmemory.benchmarks;

import com.zaxxer.hikari.HikariDataSource;
import io.agentmemory.Message;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The floor for {@link JdbcAgentTurnBenchmark}: the same turn in plain JDBC on a Hikari pool configured as the jdbc
 * backend's, about the least a database-backed conversation can do. One {@code INSERT} of the user message (session,
 * role, content; the order from an identity column), one {@code SELECT} of the newest {@code n} messages of the session
 * by the index on {@code (session_id, id)}, read into strings, one {@code INSERT} of the assistant message; each
 * statement on its own pooled connection in autocommit, as the backend's calls are. It stores no id, timestamp, token
 * count, metadata or tool fields, keeps no per-session sequence, checks nothing and never trims.
 *
 * <p>Same parameters ({@code database}, {@code n}, {@code otherRows}: the table holds that many rows of 10,000 other
 * sessions), thread setups and messages ({@link JdbcBenchmarkDatabases#fresh}, built in the turn) as
 * {@link JdbcAgentTurnBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@Fork(jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class JdbcFloorBenchmark {
    private static final String INSERT =
            "INSERT INTO " + JdbcBenchmarkDatabases.FLOOR_TABLE + " (session_id, role, content) VALUES (?, ?, ?)";
    private static final String SELECT = "SELECT role, content FROM " + JdbcBenchmarkDatabases.FLOOR_TABLE
            + " WHERE session_id = ? ORDER BY session_id DESC, id DESC LIMIT ?";

    /** The pool and the parameters. */
    @State(Scope.Benchmark)
    public static class Shared {
        @Param({"postgresql", "h2"})
        public String database;

        @Param({"20", "200", "2000"})
        public int n;

        @Param({"0", "1000000"})
        public int otherRows;

        HikariDataSource pool;
        final Queue<Session> opened = new ConcurrentLinkedQueue<>();

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            String url = JdbcBenchmarkDatabases.url(database, otherRows);
            JdbcBenchmarkDatabases.prepare(url, otherRows);
            pool = JdbcBenchmarkDatabases.pool(url);
        }

        /**
         * After the measurement: every session still gives a window of {@code n} messages. (Checked here rather than
         * in a per-thread tear-down, which JMH may run after this one has closed the pool.)
         */
        @TearDown(Level.Trial)
        public void tearDown() throws SQLException {
            try {
                for (Session session : opened) {
                    session.check();
                }
            } finally {
                pool.close();
            }
        }
    }

    /** One thread's session, filled to {@code n} messages. */
    @State(Scope.Thread)
    public static class Session {
        HikariDataSource pool;
        String session;
        TurnMessages messages;
        int n;

        @Setup(Level.Trial)
        public void setUp(Shared shared) throws SQLException {
            pool = shared.pool;
            n = shared.n;
            session = "turn-" + UUID.randomUUID();
            messages = new TurnMessages(n);
            List<Message> fill = new ArrayList<>(n);
            while (fill.size() < n) {
                fill.add(JdbcBenchmarkDatabases.fresh(messages.user()));
                fill.add(JdbcBenchmarkDatabases.fresh(messages.assistant()));
            }
            JdbcBenchmarkDatabases.insertFloor(pool, session, fill.subList(0, n));
            check();
            shared.opened.add(this);
        }

        void turn(Blackhole bh) throws SQLException {
            Message user = JdbcBenchmarkDatabases.fresh(messages.user());
            insert(user);
            bh.consume(user);
            bh.consume(window());
            Message assistant = JdbcBenchmarkDatabases.fresh(messages.assistant());
            insert(assistant);
            bh.consume(assistant);
        }

        private void insert(Message m) throws SQLException {
            JdbcFloorBenchmark.insert(pool, session, m);
        }

        List<String[]> window() throws SQLException {
            return JdbcFloorBenchmark.window(pool, session, n);
        }

        void check() throws SQLException {
            int size = window().size();
            if (size != n) {
                throw new IllegalStateException("the floor's window holds " + size + " messages; it should be " + n);
            }
        }
    }

    /** The floor's append: one {@code INSERT} in autocommit on a pooled connection. */
    static void insert(HikariDataSource pool, String session, Message m) throws SQLException {
        try (Connection c = pool.getConnection();
                PreparedStatement ps = c.prepareStatement(INSERT)) {
            ps.setString(1, session);
            ps.setString(2, m.role());
            ps.setString(3, m.content());
            ps.executeUpdate();
        }
    }

    /** The floor's window: the newest {@code n} messages as (role, content) pairs, oldest first. */
    static List<String[]> window(HikariDataSource pool, String session, int n) throws SQLException {
        List<String[]> rows = new ArrayList<>(n);
        try (Connection c = pool.getConnection();
                PreparedStatement ps = c.prepareStatement(SELECT)) {
            ps.setString(1, session);
            ps.setInt(2, n);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new String[] {rs.getString(1), rs.getString(2)});
                }
            }
        }
        java.util.Collections.reverse(rows);
        return rows;
    }

    @Benchmark
    @Threads(1)
    public void oneThread(Session session, Blackhole bh) throws SQLException {
        session.turn(bh);
    }

    @Benchmark
    @Threads(2)
    public void twoThreads(Session session, Blackhole bh) throws SQLException {
        session.turn(bh);
    }
}
