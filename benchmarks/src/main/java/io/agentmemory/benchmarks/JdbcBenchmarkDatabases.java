package io.agentmemory.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.agentmemory.EvictionListener;
import io.agentmemory.Memory;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.TokenCounter;
import io.agentmemory.jdbc.JdbcMemory;
import io.agentmemory.jdbc.JdbcSettings;
import io.agentmemory.spi.MemoryContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The databases of the jdbc benchmarks, shared by {@link JdbcAgentTurnBenchmark}, {@link JdbcFloorBenchmark} and
 * {@link JdbcAppendBenchmark}.
 *
 * <ul>
 *   <li>PostgreSQL: the server {@code MEMORY_TEST_PG_URL} names (default
 *       {@code jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}); the benchmarks create and keep the databases
 *       {@code agentmemory_bench_0} and {@code agentmemory_bench_1000000} on it.
 *   <li>H2: file databases {@code bench_0} and {@code bench_1000000} in the directory of the system property
 *       {@code agentmemory.bench.dir} (default {@code <java.io.tmpdir>/agentmemory-bench}).
 * </ul>
 *
 * The database for {@code otherRows = 1000000} holds that many messages across {@value #OTHER_SESSIONS} other
 * sessions (tenant {@value #OTHER_TENANT}), in our tables and in the floor's table alike; it is loaded once (a few
 * minutes) and reused by later runs and forks. Between trials the benchmark sessions of earlier trials are removed, so
 * the row count stays what the parameter says. Not thread-safe: JMH calls it from trial set-ups.
 */
final class JdbcBenchmarkDatabases {
    static final String PG_URL_VARIABLE = "MEMORY_TEST_PG_URL";
    static final String DEFAULT_PG_URL = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres";
    static final String OTHER_TENANT = "bench-other";
    static final int OTHER_SESSIONS = 10_000;
    /** The tenant of the measured sessions. */
    static final String TENANT = "bench";

    static final int POOL_SIZE = 4;

    /** The floor's table: the least a conversation table needs, with an index on session and order. */
    static final String FLOOR_TABLE = "bench_floor";

    private JdbcBenchmarkDatabases() {}

    /** One message per token: a window of budget {@code n} is exactly the newest {@code n} messages. */
    static final TokenCounter ONE_PER_MESSAGE = new TokenCounter() {
        @Override
        public int count(Message message) {
            return 1;
        }

        @Override
        public String id() {
            return "bench-one-per-message";
        }
    };

    /** The JDBC URL of the database for {@code database} ({@code postgresql} or {@code h2}) and {@code otherRows}. */
    static String url(String database, int otherRows) throws Exception {
        String name = "bench_" + otherRows;
        switch (database) {
            case "postgresql" -> {
                String server = System.getenv().getOrDefault(PG_URL_VARIABLE, DEFAULT_PG_URL);
                String db = "agentmemory_" + name;
                try (Connection c = DriverManager.getConnection(server);
                        PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
                    ps.setString(1, db);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            try (Statement st = c.createStatement()) {
                                st.execute("CREATE DATABASE " + db + " ENCODING 'UTF8' TEMPLATE template0");
                            }
                        }
                    }
                }
                return withDatabase(server, db);
            }
            case "h2" -> {
                Path dir = Path.of(System.getProperty(
                        "agentmemory.bench.dir",
                        Path.of(System.getProperty("java.io.tmpdir"), "agentmemory-bench")
                                .toString()));
                Files.createDirectories(dir);
                return "jdbc:h2:file:" + dir.resolve(name).toAbsolutePath();
            }
            default -> throw new IllegalArgumentException("unknown database " + database + "; use postgresql or h2");
        }
    }

    static String withDatabase(String url, String name) {
        int query = url.indexOf('?');
        String base = query < 0 ? url : url.substring(0, query);
        String params = query < 0 ? "" : url.substring(query);
        int slash = base.indexOf('/', "jdbc:postgresql://".length());
        return (slash < 0 ? base : base.substring(0, slash)) + "/" + name + params;
    }

    /** A pool as the jdbc backend makes it: the floor runs on one of these, ours on its own. */
    static HikariDataSource pool(String url) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(POOL_SIZE);
        config.setMinimumIdle(2);
        config.setRegisterMbeans(false);
        if (url.startsWith("jdbc:h2:")) {
            config.setConnectionInitSql("SET LOCK_TIMEOUT 10000");
        }
        return new HikariDataSource(config);
    }

    static JdbcSettings settings(String url) {
        return JdbcSettings.builder().url(url).poolSize(POOL_SIZE).build();
    }

    static MemoryContext context(Retention retention) {
        return new MemoryContext(Clock.systemUTC(), ONE_PER_MESSAGE, retention, EvictionListener.NONE);
    }

    /**
     * Makes the database hold {@code otherRows} messages of other sessions, in our tables and the floor's, and no
     * benchmark sessions of earlier trials; an H2 file is then compacted. Call it before opening any pool on
     * {@code url}.
     */
    static void prepare(String url, int otherRows) throws Exception {
        fill(url, otherRows);
        if (url.startsWith("jdbc:h2:")) {
            compact(url);
        }
    }

    /**
     * Compacts an H2 file database. H2 reuses the space of deleted rows only after its retention time and compacts the
     * file only when the database closes (memory-jdbc's README, "The size of an H2 file"); without this, each trial
     * would run on a file grown by every earlier trial's appends and deletes (to 16 GB over a suite run), and later
     * trials would pay for it. {@code SHUTDOWN COMPACT} closes the database, so no pool may be open on it.
     */
    private static void compact(String url) throws SQLException {
        try (Connection c = DriverManager.getConnection(url);
                Statement st = c.createStatement()) {
            st.execute("SHUTDOWN COMPACT");
        }
    }

    private static void fill(String url, int otherRows) throws Exception {
        try (Memory memory = JdbcMemory.open(settings(url), context(Retention.none()));
                HikariDataSource pool = pool(url)) {
            for (SessionKey key : memory.sessions(TENANT)) {
                memory.delete(key);
            }
            try (Connection c = pool.getConnection();
                    Statement st = c.createStatement()) {
                st.execute("CREATE TABLE IF NOT EXISTS " + FLOOR_TABLE + " (id BIGINT GENERATED BY DEFAULT AS IDENTITY"
                        + " PRIMARY KEY, session_id VARCHAR(256) NOT NULL, role VARCHAR(64) NOT NULL,"
                        + " content VARCHAR(1000000) NOT NULL)");
                st.execute("CREATE INDEX IF NOT EXISTS " + FLOOR_TABLE + "_session ON " + FLOOR_TABLE
                        + " (session_id, id)");
                st.execute("DELETE FROM " + FLOOR_TABLE + " WHERE session_id LIKE 'turn-%'");
            }
            int perSession = otherRows / OTHER_SESSIONS;
            if (otherRows == 0 || memory.sessions(OTHER_TENANT).size() == OTHER_SESSIONS) {
                return;
            }
            System.out.println("[jdbc benchmarks] loading " + otherRows + " rows across " + OTHER_SESSIONS
                    + " sessions into " + JdbcSettings.redact(url) + " (once; later runs reuse them)");
            for (SessionKey key : memory.sessions(OTHER_TENANT)) {
                memory.delete(key);
            }
            try (Connection c = pool.getConnection();
                    Statement st = c.createStatement()) {
                st.execute("DELETE FROM " + FLOOR_TABLE);
            }
            ExecutorService loaders = Executors.newFixedThreadPool(POOL_SIZE);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < POOL_SIZE; t++) {
                    int first = t;
                    done.add(loaders.submit(() -> {
                        TurnMessages messages = new TurnMessages(perSession);
                        for (int s = first; s < OTHER_SESSIONS; s += POOL_SIZE) {
                            List<Message> batch = new ArrayList<>(perSession);
                            while (batch.size() < perSession) {
                                batch.add(fresh(messages.user()));
                                batch.add(fresh(messages.assistant()));
                            }
                            memory.session(SessionKey.of(OTHER_TENANT, "other-" + s))
                                    .addAll(batch.subList(0, perSession));
                            insertFloor(pool, "other-" + s, batch.subList(0, perSession));
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                loaders.shutdownNow();
            }
            if (url.startsWith("jdbc:postgresql:")) {
                try (Connection c = pool.getConnection();
                        Statement st = c.createStatement()) {
                    st.execute("VACUUM ANALYZE");
                }
            }
        }
    }

    /** Fills a floor session. */
    static void insertFloor(HikariDataSource pool, String session, List<Message> messages) throws SQLException {
        try (Connection c = pool.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO " + FLOOR_TABLE + " (session_id, role, content) VALUES (?, ?, ?)")) {
            for (Message m : messages) {
                ps.setString(1, session);
                ps.setString(2, m.role());
                ps.setString(3, m.content());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /**
     * {@code m} with a new id. Both turns build their messages this way, in the measured turn, so that an id never
     * comes back while a session keeps growing (a store treats a known id as a retry and stores nothing).
     */
    static Message fresh(Message m) {
        return Message.builder(m.role(), m.content()).build();
    }
}
