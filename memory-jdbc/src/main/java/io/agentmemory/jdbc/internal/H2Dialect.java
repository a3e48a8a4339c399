package io.agentmemory.jdbc.internal;

import io.agentmemory.ConfigurationException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.h2.jdbc.JdbcConnection;

/**
 * H2 2.x, the embedded default. Metadata is stored as {@code JSON} but filtered by the backend on the rows the other
 * filters select (H2 has no JSON operators). Writes lock the session's row with {@code SELECT ... FOR UPDATE}. H2
 * commits every DDL statement at once, so migrations cannot hold a database lock: they are serialized within the JVM
 * and written to be idempotent ({@code IF NOT EXISTS}, {@code MERGE}), so that racing starters converge (an H2 file
 * database is opened by one process, or shared through that process with {@code AUTO_SERVER}). Immutable and
 * thread-safe.
 */
public final class H2Dialect extends Dialect {
    /** H2 error codes after which the same operation may succeed: lock timeout, deadlock, broken connection. */
    private static final Set<Integer> TRANSIENT_CODES = Set.of(
            50200, // LOCK_TIMEOUT_1
            40001, // DEADLOCK_1
            90131, // CONCURRENT_UPDATE_1
            90067, // CONNECTION_BROKEN_1
            90121, // DATABASE_CALLED_AT_SHUTDOWN
            90098); // DATABASE_IS_CLOSED

    private static final ConcurrentMap<String, Object> MIGRATION_LOCKS = new ConcurrentHashMap<>();

    private final Sql selectSession;
    private final Sql insertSession;
    private final Sql setEpoch;
    private final Sql rowsBySeq;
    private final Sql deleteBySeq;
    private final Sql updateUnpinned;
    private final Sql countAppend;
    private final StatementCache statementCache = new StatementCache(JdbcConnection.class);

    H2Dialect(Tables tables) {
        super(tables, "{meta} FORMAT JSON");
        selectSession = Sql.of("SELECT last_seq, pinned_count, unpinned_count, unpinned_tokens, epoch,"
                + " COALESCE(head_seq, 0) FROM " + s + " WHERE " + KEY + " FOR UPDATE");
        insertSession = Sql.of(
                "INSERT INTO " + s + " (tenant, session_id, scope, last_seq, pinned_count,"
                        + " unpinned_count, unpinned_tokens, epoch) VALUES ({tenant}, {session}, {scope}, 0, 0, 0, 0, {epoch})");
        setEpoch = Sql.of("UPDATE " + s + " SET epoch = {epoch} WHERE " + KEY);
        rowsBySeq = Sql.of("SELECT " + ROW + " FROM " + m + " WHERE " + KEY + " AND seq = {seq}");
        deleteBySeq = Sql.of("DELETE FROM " + m + " WHERE " + KEY + " AND seq = {seq}");
        updateUnpinned = Sql.of("UPDATE " + s + " SET unpinned_count = {unpinned_count},"
                + " unpinned_tokens = {unpinned_tokens}, head_seq = {head} WHERE " + KEY);
        countAppend = Sql.of("SELECT last_seq, unpinned_count, unpinned_tokens, COALESCE(head_seq, 0), epoch,"
                + " pinned_count + unpinned_count, " + anchorSeq() + " FROM FINAL TABLE"
                + " (UPDATE " + s + " SET last_seq = last_seq + 1, pinned_count = pinned_count + {pinned_add},"
                + " unpinned_count = unpinned_count + {unpinned_add}, unpinned_tokens = unpinned_tokens + {tokens_add},"
                + " epoch = COALESCE(epoch, {epoch}) WHERE " + KEY + ")");
    }

    @Override
    public Optional<Sql> countAppend() {
        return Optional.of(countAppend);
    }

    @Override
    public String name() {
        return "H2";
    }

    /** H2 parses and plans every statement it is given, caching few: statements are kept per connection. */
    @Override
    public Connection reusingStatements(Connection pooled) throws SQLException {
        return statementCache.wrap(pooled);
    }

    @Override
    public boolean isTransient(String url) {
        return url.toLowerCase(Locale.ROOT).startsWith("jdbc:h2:mem:");
    }

    @Override
    public void check(Connection connection) throws SQLException {
        int major = connection.getMetaData().getDatabaseMajorVersion();
        if (major < 2) {
            throw new ConfigurationException("the jdbc backend needs H2 2.x; the database is version " + major);
        }
    }

    @Override
    protected Migration tablesMigration() {
        String key = "tenant VARCHAR(256) NOT NULL, session_id VARCHAR(256) NOT NULL, scope VARCHAR(256) NOT NULL";
        return new Migration(
                1,
                "sessions and messages",
                List.of(
                        "CREATE TABLE IF NOT EXISTS " + s + " (" + key + ", last_seq BIGINT NOT NULL,"
                                + " pinned_count BIGINT NOT NULL, unpinned_count BIGINT NOT NULL,"
                                + " unpinned_tokens BIGINT NOT NULL, PRIMARY KEY (tenant, session_id, scope))",
                        "CREATE TABLE IF NOT EXISTS " + m + " (" + key + ", seq BIGINT NOT NULL,"
                                + " message_id VARCHAR(128) NOT NULL, role VARCHAR(64) NOT NULL,"
                                + " ts TIMESTAMP(6) WITH TIME ZONE NOT NULL, tokens INTEGER NOT NULL,"
                                + " token_counter VARCHAR(256) NOT NULL, pinned BOOLEAN NOT NULL,"
                                + " tool_call_id VARCHAR(256), call_ids VARCHAR(256) ARRAY, meta JSON NOT NULL,"
                                + " body VARCHAR NOT NULL, PRIMARY KEY (tenant, session_id, scope, seq))",
                        "CREATE UNIQUE INDEX IF NOT EXISTS " + tables.index("messages_message_id") + " ON " + m
                                + " (tenant, session_id, scope, message_id)",
                        "CREATE INDEX IF NOT EXISTS " + tables.index("messages_pinned") + " ON " + m
                                + " (tenant, session_id, scope, pinned, seq)",
                        "CREATE INDEX IF NOT EXISTS " + tables.index("messages_ts") + " ON " + m
                                + " (tenant, session_id, scope, ts)",
                        "CREATE INDEX IF NOT EXISTS " + tables.index("messages_tool_call") + " ON " + m
                                + " (tenant, session_id, scope, tool_call_id)"));
    }

    @Override
    public void withMigrationLock(Connection connection, SqlWork<Void> work) throws SQLException {
        String url = connection.getMetaData().getURL();
        Object lock = MIGRATION_LOCKS.computeIfAbsent(url + "|" + tables.describe(), k -> new Object());
        synchronized (lock) {
            work.run(connection);
        }
    }

    /**
     * H2 reads a session's unpinned messages off the index {@code (tenant, session_id, scope, pinned, seq)}, and
     * orders them without sorting only when the {@code ORDER BY} names every column of it; with {@code ORDER BY seq}
     * alone it reads the whole session and sorts it (measured: 2,001 rows scanned for 16).
     */
    @Override
    protected String unpinnedOrder(String direction) {
        return indexOrder(direction, "pinned", "seq");
    }

    /** As {@link #unpinnedOrder}, for the index {@code (tenant, session_id, scope, tool_call_id, seq)}. */
    @Override
    protected String toolCallOrder(String direction) {
        return indexOrder(direction, "tool_call_id", "seq");
    }

    @Override
    protected String callIdsContain(String param) {
        return "ARRAY_CONTAINS(call_ids, " + param + ")";
    }

    /** H2 has no partial indexes: an index holds every row. */
    @Override
    protected String indexCondition(String condition) {
        return "";
    }

    /** As {@link #unpinnedOrder}, for the primary key {@code (tenant, session_id, scope, seq)}. */
    @Override
    protected String sessionOrder(String direction) {
        return indexOrder(direction, "seq");
    }

    /** The {@code ORDER BY} list of an index on the session's key followed by {@code columns}, each {@code direction}. */
    private static String indexOrder(String direction, String... columns) {
        StringBuilder order =
                new StringBuilder("tenant" + direction + ", session_id" + direction + ", scope" + direction);
        for (String column : columns) {
            order.append(", ").append(column).append(direction);
        }
        return order.toString();
    }

    @Override
    protected boolean estimatesWindowPageInSql() {
        return false;
    }

    @Override
    public boolean filtersMetadataInSql() {
        return false;
    }

    @Override
    protected boolean arrayLookupsUseIndexes() {
        return false;
    }

    @Override
    protected String textArrayType() {
        return "VARCHAR";
    }

    @Override
    protected String longArrayType() {
        return "BIGINT";
    }

    @Override
    public SessionRow lockSession(Connection connection, Sql.Params key) throws SQLException {
        try (PreparedStatement ps = selectSession.prepare(connection, key);
                ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
                SessionRow row =
                        new SessionRow(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(6));
                rs.getLong(5);
                if (rs.wasNull()) {
                    // A session from before schema version 2: give it an epoch, so that its windows may be cached.
                    try (PreparedStatement update =
                            setEpoch.prepare(connection, key.copy().set("epoch", WindowCache.newEpoch()))) {
                        update.executeUpdate();
                    }
                }
                return row;
            }
        }
        // A concurrent first write of the same session makes this fail with a unique-key conflict; the caller runs
        // the transaction again and then finds the row.
        try (PreparedStatement ps =
                insertSession.prepare(connection, key.copy().set("epoch", WindowCache.newEpoch()))) {
            ps.executeUpdate();
        }
        return new SessionRow(0, 0, 0, 0, 0);
    }

    /** Deletes one indexed row at a time: H2 uses no index for {@code seq = ANY(array)}. */
    @Override
    public List<RawRow> deleteBySeq(Connection connection, Sql.Params params, long[] seqs, boolean bodies)
            throws SQLException {
        List<RawRow> rows = new ArrayList<>();
        if (bodies) {
            try (PreparedStatement ps = connection.prepareStatement(rowsBySeq.text())) {
                for (long seq : seqs) {
                    rowsBySeq.bind(ps, params.copy().set("seq", seq));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            rows.add(new RawRow(rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getString(4)));
                        }
                    }
                }
            }
        }
        int deleted = 0;
        try (PreparedStatement ps = connection.prepareStatement(deleteBySeq.text())) {
            for (long seq : seqs) {
                deleteBySeq.bind(ps, params.copy().set("seq", seq));
                deleted += ps.executeUpdate();
            }
        }
        if (!bodies) {
            for (int i = 0; i < deleted; i++) {
                rows.add(new RawRow(-1, 0, null, null));
            }
        }
        try (PreparedStatement ps = updateUnpinned.prepare(connection, params)) {
            ps.executeUpdate();
        }
        return rows;
    }

    @Override
    public boolean isTransient(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientException || t instanceof SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException sql
                    && (TRANSIENT_CODES.contains(sql.getErrorCode()) || "HYT00".equals(sql.getSQLState()))) {
                return true;
            }
        }
        return false;
    }
}
