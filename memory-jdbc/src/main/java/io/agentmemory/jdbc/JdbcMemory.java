package io.agentmemory.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.agentmemory.Added;
import io.agentmemory.BackendUnavailableException;
import io.agentmemory.Capability;
import io.agentmemory.ConfigurationException;
import io.agentmemory.ErrorCode;
import io.agentmemory.HistoryQuery;
import io.agentmemory.Memory;
import io.agentmemory.MemoryException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.core.backend.BackendSupport;
import io.agentmemory.core.window.ContextWindows;
import io.agentmemory.internal.Text;
import io.agentmemory.jdbc.internal.Backend;
import io.agentmemory.jdbc.internal.Dialect;
import io.agentmemory.jdbc.internal.Migrations;
import io.agentmemory.jdbc.internal.Tables;
import io.agentmemory.spi.MemoryContext;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * The jdbc backend: sessions in a PostgreSQL or H2 database, append-only, with retention executed in SQL. Supports
 * every {@link Capability}; {@link Capability#PERSISTENT} except on an in-memory H2 database ({@code jdbc:h2:mem:}).
 * Thread-safe; any number of processes may share the tables.
 *
 * <pre>{@code
 * Memory memory = JdbcMemory.open(
 *         JdbcSettings.builder().url("jdbc:h2:file:./memory-data/agentmemory").build(),
 *         new MemoryContext(Clock.systemUTC(), TokenCounters.heuristic(), Retention.maxMessages(500),
 *                 EvictionListener.NONE));
 * memory.session("acme", "alice-chat").add(Message.user("My name is Alice"));
 * }</pre>
 *
 * <p>Configured by name: {@code memory.backend=jdbc} with the settings of {@link JdbcSettings} under
 * {@code memory.jdbc.}. See the module's README for the schema, how content is stored, what each call costs and how
 * failures are reported.
 */
public final class JdbcMemory implements Memory {
    /** The name configuration selects this backend by. */
    public static final String NAME = "jdbc";

    private static final AtomicInteger POOLS = new AtomicInteger();

    /**
     * What the pool's PostgreSQL connections set when they open (module README, "Plans"). Every statement is keyed by
     * its session and served by an index, so one generic plan serves all calls; left to choose, PostgreSQL may plan
     * the window statement afresh on every call, which costs more than running it (measured: a 20-message turn 884 us
     * with custom plans, 595 us with the generic one). Sequential scans are disabled so that no plan, made from
     * whatever statistics the tables had when the connection first ran the statement, reads the whole table: a generic
     * plan made while a table was small, or held few sessions, otherwise kept scanning it as it grew.
     */
    static final List<String> POSTGRES_SETTINGS =
            List.of("plan_cache_mode = force_generic_plan", "enable_seqscan = off");

    private final HikariDataSource ownedPool;
    /**
     * For an in-memory H2 database, a connection of its own outside the pool, held until {@link #close()}: H2 drops
     * such a database with its last connection, which the pool closes whenever it retires one to open another.
     */
    private final Connection keeper;

    private final Backend backend;
    private final Set<Capability> capabilities;
    private final String description;
    private volatile boolean closed;

    private JdbcMemory(
            DataSource dataSource,
            HikariDataSource ownedPool,
            Connection keeper,
            Dialect dialect,
            MemoryContext context,
            int windowCache,
            boolean persistent,
            String description) {
        this.ownedPool = ownedPool;
        this.keeper = keeper;
        this.backend = new Backend(dataSource, dialect, context, () -> closed, windowCache);
        EnumSet<Capability> caps = EnumSet.allOf(Capability.class);
        if (!persistent) {
            caps.remove(Capability.PERSISTENT);
        }
        this.capabilities = Set.copyOf(caps);
        this.description = description;
    }

    /**
     * Opens the database {@code settings} name with a connection pool of its own, closed by {@link #close()}, and
     * applies the schema migrations unless {@link JdbcSettings#migrate()} is false.
     *
     * @throws ConfigurationException if a setting is missing or wrong, the database is not supported, or the schema
     *     is not up to date and may not be migrated
     * @throws BackendUnavailableException if the database cannot be reached
     */
    public static JdbcMemory open(JdbcSettings settings, MemoryContext context) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(context, "context");
        String url = settings.url()
                .orElseThrow(() -> new ConfigurationException("memory.jdbc.url is not set; give a JDBC URL such as"
                        + " jdbc:h2:file:./memory-data/agentmemory (embedded) or"
                        + " jdbc:postgresql://localhost:5432/mydb"));
        Tables tables = new Tables(settings.schema(), settings.tablePrefix());
        Dialect dialect = Dialect.forUrl(url, tables);
        HikariDataSource pool = pool(url, settings, dialect);
        Connection keeper = null;
        try {
            if (dialect.isTransient(url)) {
                keeper = keep(url, settings);
            }
            prepare(pool, dialect, settings.migrate(), JdbcSettings.redact(url));
            return new JdbcMemory(
                    pool,
                    pool,
                    keeper,
                    dialect,
                    context,
                    settings.windowCache(),
                    !dialect.isTransient(url),
                    "JdbcMemory[" + dialect.name() + " " + JdbcSettings.redact(url) + ", tables " + tables.describe()
                            + ", retention " + context.retention() + "]");
        } catch (RuntimeException e) {
            pool.close();
            closeQuietly(keeper);
            throw e;
        }
    }

    /** A connection to {@code url} outside the pool, with the settings' user and password. */
    private static Connection keep(String url, JdbcSettings settings) {
        Properties properties = new Properties();
        settings.user().ifPresent(user -> properties.setProperty("user", user));
        settings.password().ifPresent(password -> properties.setProperty("password", password));
        try {
            return DriverManager.getConnection(url, properties);
        } catch (SQLException e) {
            throw unreachable(JdbcSettings.redact(url), e);
        }
    }

    private static void closeQuietly(Connection connection) {
        if (connection == null) {
            return;
        }
        try {
            connection.close();
        } catch (SQLException ignored) {
            // an in-process database's connection does not fail to close in a way the caller could act on
        }
    }

    /**
     * Uses {@code dataSource}, which the caller owns and closes; the database is recognized from its metadata. Of
     * {@code settings} only the schema, table prefix, migrate switch and window cache apply. The connections keep their
     * own settings: for PostgreSQL, give them those of the backend's own pools ({@code plan_cache_mode =
     * force_generic_plan}, {@code enable_seqscan = off}; the module's README, "Plans").
     *
     * @throws ConfigurationException if the database is not supported, or the schema is not up to date and may not
     *     be migrated
     * @throws BackendUnavailableException if the database cannot be reached
     */
    public static JdbcMemory open(DataSource dataSource, JdbcSettings settings, MemoryContext context) {
        Objects.requireNonNull(dataSource, "dataSource");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(context, "context");
        Tables tables = new Tables(settings.schema(), settings.tablePrefix());
        Dialect dialect;
        String url;
        try (Connection c = dataSource.getConnection()) {
            dialect = Dialect.forDatabase(c.getMetaData(), tables);
            url = String.valueOf(c.getMetaData().getURL());
        } catch (SQLException e) {
            throw unreachable("(a given DataSource)", e);
        }
        prepare(dataSource, dialect, settings.migrate(), "(a given DataSource)");
        return new JdbcMemory(
                dataSource,
                null,
                null,
                dialect,
                context,
                settings.windowCache(),
                !dialect.isTransient(url),
                "JdbcMemory[" + dialect.name() + " " + JdbcSettings.redact(url) + ", tables " + tables.describe()
                        + ", retention " + context.retention() + "]");
    }

    private static HikariDataSource pool(String url, JdbcSettings settings, Dialect dialect) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("agentmemory-jdbc-" + POOLS.incrementAndGet());
        config.setJdbcUrl(url);
        settings.user().ifPresent(config::setUsername);
        settings.password().ifPresent(config::setPassword);
        config.setMaximumPoolSize(settings.poolSize());
        config.setMinimumIdle(Math.min(settings.poolSize(), 2));
        config.setConnectionTimeout(settings.connectionTimeout().toMillis());
        config.setValidationTimeout(Math.min(settings.connectionTimeout().toMillis(), 5000));
        config.setRegisterMbeans(false);
        if (dialect.name().equals("H2")) {
            config.setConnectionInitSql("SET LOCK_TIMEOUT 10000");
        } else {
            config.addDataSourceProperty("ApplicationName", "agentmemory");
            config.setConnectionInitSql(String.join(
                    "; ", POSTGRES_SETTINGS.stream().map(s -> "SET " + s).toList()));
        }
        try {
            return new HikariDataSource(config);
        } catch (RuntimeException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SQLException sql) {
                throw unreachable(JdbcSettings.redact(url), sql);
            }
            throw new BackendUnavailableException(
                    "could not start a connection pool for " + JdbcSettings.redact(url) + ": "
                            + e.getClass().getSimpleName(),
                    e);
        }
    }

    private static void prepare(DataSource dataSource, Dialect dialect, boolean migrate, String where) {
        try (Connection c = dataSource.getConnection()) {
            String actual = Dialect.recognize(c.getMetaData());
            if (!actual.equals(dialect.name())) {
                throw new ConfigurationException("memory.jdbc.url names " + dialect.name() + " but the database is "
                        + actual + "; the jdbc backend supports " + Dialect.SUPPORTED);
            }
            dialect.check(c);
            Migrations.run(c, dialect, migrate);
        } catch (SQLException e) {
            throw unreachable(where, e);
        }
    }

    private static MemoryException unreachable(String where, SQLException e) {
        String state = e.getSQLState();
        if (state != null && (state.startsWith("28") || state.equals("3D000"))) {
            return new ConfigurationException("the database " + where + " refused the connection (SQLState " + state
                    + "); check memory.jdbc.url, memory.jdbc.user and memory.jdbc.password");
        }
        if (state != null && state.startsWith("42")) {
            return new ConfigurationException("the database " + where + " refused to set up the tables (SQLState "
                    + state + "); check the user's privileges, memory.jdbc.schema and memory.jdbc.table-prefix");
        }
        return new BackendUnavailableException(
                "could not reach the database " + where + " (SQLState " + state + "); check that it is running and"
                        + " reachable, then try again",
                e);
    }

    @Override
    public MemoryStore session(SessionKey key) {
        checkOpen();
        return new Store(BackendSupport.requireKey(key));
    }

    @Override
    public List<SessionKey> sessions(String tenant) {
        checkOpen();
        Text.identifier(tenant, "tenant", SessionKey.MAX_LENGTH, ErrorCode.INVALID_SESSION_KEY);
        return backend.sessions(tenant);
    }

    @Override
    public boolean delete(SessionKey key) {
        checkOpen();
        return backend.delete(BackendSupport.requireKey(key));
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (ownedPool != null) {
            ownedPool.close();
        }
        closeQuietly(keeper);
    }

    /** The pool this memory opened and closes; null for a given {@link DataSource}. */
    HikariDataSource ownedPool() {
        return ownedPool;
    }

    /** How many windows of {@code addAndWindow} were made from a held window and the appended message alone. */
    long windowsFromAppends() {
        return backend.windowsFromAppends();
    }

    @Override
    public String toString() {
        return description;
    }

    private void checkOpen() {
        if (closed) {
            throw BackendSupport.closed("jdbc memory");
        }
    }

    /** The store of one session: a view; every call is a statement or a short transaction. */
    private final class Store implements MemoryStore {
        private final SessionKey key;

        Store(SessionKey key) {
            this.key = key;
        }

        @Override
        public SessionKey key() {
            return key;
        }

        @Override
        public Message add(Message message) {
            checkOpen();
            return backend.append(key, List.of(BackendSupport.requireMessage(message)))
                    .get(0);
        }

        @Override
        public Added addAndWindow(Message message, int maxTokens) {
            BackendSupport.requireMessage(message);
            ContextWindows.checkBudget(maxTokens);
            checkOpen();
            return backend.addAndWindow(key, message, maxTokens);
        }

        @Override
        public List<Message> addAll(List<Message> messages) {
            checkOpen();
            List<Message> batch = BackendSupport.checkBatch(messages);
            if (batch.isEmpty()) {
                return List.of();
            }
            return List.copyOf(backend.append(key, batch));
        }

        @Override
        public List<Message> history(HistoryQuery query) {
            checkOpen();
            return backend.history(key, BackendSupport.requireQuery(query));
        }

        @Override
        public List<Message> contextWindow(int maxTokens) {
            checkOpen();
            ContextWindows.checkBudget(maxTokens);
            return backend.contextWindow(key, maxTokens);
        }

        @Override
        public long count() {
            checkOpen();
            return backend.count(key);
        }

        @Override
        public void clear() {
            delete(key);
        }

        @Override
        public String toString() {
            return "JdbcStore[" + key + "]";
        }
    }
}
