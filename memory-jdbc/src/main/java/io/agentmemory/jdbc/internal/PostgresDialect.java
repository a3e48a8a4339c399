package io.agentmemory.jdbc.internal;

import io.agentmemory.ConfigurationException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * PostgreSQL (12 or later, UTF8 server encoding). Metadata is {@code jsonb} and filtered in SQL; one message is
 * appended by one statement (a data-modifying CTE that bumps the session's counter row, {@code INSERT ... ON CONFLICT
 * DO UPDATE ... RETURNING}, and inserts the message); migrations hold a transaction-scoped advisory lock.
 * Immutable and thread-safe.
 */
public final class PostgresDialect extends Dialect {
    /** SQLSTATEs after which the same operation may succeed: connection loss, shutdown, overload, lock conflicts. */
    private static final Set<String> TRANSIENT_STATES = Set.of(
            "57P01", // admin_shutdown, e.g. pg_terminate_backend
            "57P02", // crash_shutdown
            "57P03", // cannot_connect_now
            "53300", // too_many_connections
            "53400", // configuration_limit_exceeded
            "40001", // serialization_failure
            "40P01", // deadlock_detected
            "55P03", // lock_not_available
            "58030"); // io_error

    private final Sql lockSession;
    private final Sql[] appends = new Sql[8];
    private final Sql deleteBySeq;
    private final Sql deleteBySeqNoBodies;

    PostgresDialect(Tables tables) {
        super(tables, "{meta}::jsonb");
        lockSession = Sql.of("INSERT INTO " + s + " AS x (tenant, session_id, scope, last_seq, pinned_count,"
                + " unpinned_count, unpinned_tokens, epoch) VALUES ({tenant}, {session}, {scope}, 0, 0, 0, 0, {epoch})"
                + " ON CONFLICT (tenant, session_id, scope) DO UPDATE SET last_seq = x.last_seq,"
                + " epoch = COALESCE(x.epoch, EXCLUDED.epoch)"
                + " RETURNING last_seq, pinned_count, unpinned_count, unpinned_tokens, COALESCE(head_seq, 0)");
        for (int known = 0; known < 2; known++) {
            for (int tool = 0; tool < 2; tool++) {
                for (int oldest = 0; oldest < 2; oldest++) {
                    appends[known * 4 + tool * 2 + oldest] = Sql.of(append(tool == 1, oldest == 1, known == 1));
                }
            }
        }
        deleteBySeq = Sql.of(deleteBySeq("seq, tokens, token_counter, body"));
        deleteBySeqNoBodies = Sql.of(deleteBySeq("seq"));
    }

    /**
     * One message in one statement. {@code x} creates or bumps the session's row, which also locks it until commit, so
     * that concurrent writers, in any process, get consecutive sequence numbers in commit order; {@code i} inserts the
     * message with that number. The result is one row: the new sequence with the session's unpinned counters (and, if
     * asked, the oldest unpinned timestamp before this statement), its epoch and message count, and the anchor's
     * sequence number if its row still holds it (see {@link #anchorSeq()}). With {@code known}, {@code ex} first looks
     * for a stored message with the same id (an idempotent retry): if there is one, nothing is written and the row is
     * the stored message. Without it, such a message makes the statement fail on the message-id index, as a
     * concurrent writer of the same id does, and nothing is written either.
     *
     * <p>A tool message's statement also decides whether it is pinned from other rows, on the statement's snapshot,
     * which is taken before the session's row is locked: a writer that appended between the two would go unseen. So
     * it also reads the session's last sequence number on that snapshot, and stores the message only if the lock
     * gave the next one; otherwise its sequence number is null, the statement fails with nothing written
     * ({@link #isStaleSnapshot}), and the backend appends the message as a batch, which locks the row first.
     */
    private String append(boolean toolMessage, boolean oldestTimestamp, boolean known) {
        String pinned = toolMessage
                ? "COALESCE(" + newestCallerPinned("{tool_call_id}") + ", FALSE)"
                : "CAST({pinned} AS boolean)";
        String oldest = oldestTimestamp
                ? "(SELECT min(ts) FROM " + m + " WHERE " + KEY + " AND NOT pinned)"
                : "CAST(NULL AS timestamptz)";
        return "WITH " + (known ? "ex AS (SELECT " + ROW + " FROM " + m + " WHERE " + BY_ID + "), " : "")
                + "p AS (SELECT " + pinned + " AS pinned"
                + (toolMessage ? ", (SELECT last_seq FROM " + s + " WHERE " + KEY + ") AS seen" : "") + "),"
                + " x AS (INSERT INTO " + s + " AS y (tenant, session_id, scope, last_seq, pinned_count,"
                + " unpinned_count, unpinned_tokens, epoch) SELECT {tenant}, {session}, {scope}, 1,"
                + " CASE WHEN p.pinned THEN 1 ELSE 0 END, CASE WHEN p.pinned THEN 0 ELSE 1 END,"
                + " CASE WHEN p.pinned THEN 0 ELSE CAST({tokens} AS bigint) END, CAST({epoch} AS bigint) FROM p"
                + (known ? " WHERE NOT EXISTS (SELECT 1 FROM ex)" : "")
                + " ON CONFLICT (tenant, session_id, scope) DO UPDATE SET last_seq = y.last_seq + 1,"
                + " pinned_count = y.pinned_count + EXCLUDED.pinned_count,"
                + " unpinned_count = y.unpinned_count + EXCLUDED.unpinned_count,"
                + " unpinned_tokens = y.unpinned_tokens + EXCLUDED.unpinned_tokens,"
                + " epoch = COALESCE(y.epoch, EXCLUDED.epoch) RETURNING last_seq, unpinned_count, unpinned_tokens,"
                + " COALESCE(head_seq, 0) AS head_seq, epoch, pinned_count + unpinned_count AS message_count),"
                + " i AS (INSERT INTO " + m + " (tenant, session_id, scope, seq, message_id, role, ts, tokens,"
                + " token_counter, pinned, tool_call_id, call_ids, meta, body, stamp) SELECT {tenant}, {session},"
                + " {scope}, "
                + (toolMessage ? "CASE WHEN x.last_seq = COALESCE(p.seen, 0) + 1 THEN x.last_seq END" : "x.last_seq")
                + ", {id}, {role}, {ts}, {tokens}, {counter}, p.pinned, {tool_call_id},"
                + " CAST({call_ids} AS text[]), CAST({meta} AS jsonb), {body}, CAST({stamp} AS bigint) FROM x, p"
                + " RETURNING seq, pinned)"
                + " SELECT FALSE AS stored, i.seq, i.pinned, x.unpinned_count, x.unpinned_tokens, " + oldest
                + " AS oldest, CAST(NULL AS integer) AS tokens, CAST(NULL AS text) AS token_counter,"
                + " CAST(NULL AS text) AS body, x.head_seq, x.epoch, x.message_count, " + anchorSeq() + " AS anchor"
                + " FROM i, x"
                + (known
                        ? " UNION ALL SELECT TRUE, seq, NULL, NULL, NULL, NULL, tokens, token_counter, body, NULL,"
                                + " NULL, NULL, NULL FROM ex"
                        : "");
    }

    private String deleteBySeq(String returning) {
        // The range bounds the index scan: with the generic plan, seq = ANY(...) alone is only a filter over every row
        // of the session.
        return "WITH d AS (DELETE FROM " + m + " WHERE " + KEY + " AND seq >= {lo} AND seq <= {hi}"
                + " AND seq = ANY({seqs}) RETURNING " + returning
                + "), u AS (UPDATE " + s + " SET unpinned_count = {unpinned_count},"
                + " unpinned_tokens = {unpinned_tokens}, head_seq = {head} WHERE " + KEY + ") SELECT " + returning
                + " FROM d";
    }

    /**
     * Whether {@code e} is a tool message's single statement refusing to write because another writer appended between
     * its snapshot and its lock (see {@link #append}): the message's sequence number was null.
     */
    static boolean isStaleSnapshot(SQLException e) {
        return "23502".equals(e.getSQLState())
                && e instanceof org.postgresql.util.PSQLException pe
                && pe.getServerErrorMessage() != null
                && "seq".equals(pe.getServerErrorMessage().getColumn());
    }

    @Override
    protected String callIdsContain(String param) {
        return "call_ids @> ARRAY[CAST(" + param + " AS text)]";
    }

    @Override
    public String name() {
        return "PostgreSQL";
    }

    @Override
    public void check(Connection connection) throws SQLException {
        int major = connection.getMetaData().getDatabaseMajorVersion();
        if (major < 12) {
            throw new ConfigurationException(
                    "the jdbc backend needs PostgreSQL 12 or later; the server is version " + major);
        }
        try (Statement st = connection.createStatement();
                ResultSet rs = st.executeQuery("SHOW server_encoding")) {
            rs.next();
            String encoding = rs.getString(1);
            if (!"UTF8".equalsIgnoreCase(encoding)) {
                throw new ConfigurationException("the jdbc backend needs a PostgreSQL database with UTF8 encoding;"
                        + " this one uses " + encoding + " (create it with ENCODING 'UTF8')");
            }
        }
    }

    @Override
    protected Migration tablesMigration() {
        String prefix = tables.prefix();
        return new Migration(
                1,
                "sessions and messages",
                List.of(
                        "CREATE TABLE IF NOT EXISTS " + s + " (tenant text NOT NULL, session_id text NOT NULL,"
                                + " scope text NOT NULL, last_seq bigint NOT NULL, pinned_count bigint NOT NULL,"
                                + " unpinned_count bigint NOT NULL, unpinned_tokens bigint NOT NULL,"
                                + " CONSTRAINT \"" + prefix
                                + "sessions_pkey\" PRIMARY KEY (tenant, session_id, scope))",
                        "CREATE TABLE IF NOT EXISTS " + m + " (tenant text NOT NULL, session_id text NOT NULL,"
                                + " scope text NOT NULL, seq bigint NOT NULL, message_id text NOT NULL,"
                                + " role text NOT NULL, ts timestamptz NOT NULL, tokens integer NOT NULL,"
                                + " token_counter text NOT NULL, pinned boolean NOT NULL, tool_call_id text,"
                                + " call_ids text[], meta jsonb NOT NULL, body text NOT NULL,"
                                + " CONSTRAINT \"" + prefix + "messages_pkey\""
                                + " PRIMARY KEY (tenant, session_id, scope, seq))",
                        "CREATE UNIQUE INDEX IF NOT EXISTS " + tables.index("messages_message_id") + " ON " + m
                                + " (tenant, session_id, scope, message_id)",
                        "CREATE INDEX IF NOT EXISTS " + tables.index("messages_pinned") + " ON " + m
                                + " (tenant, session_id, scope, seq) WHERE pinned",
                        "CREATE INDEX IF NOT EXISTS " + tables.index("messages_ts") + " ON " + m
                                + " (tenant, session_id, scope, ts) WHERE NOT pinned",
                        "CREATE INDEX IF NOT EXISTS " + tables.index("messages_tool_call") + " ON " + m
                                + " (tenant, session_id, scope, tool_call_id) WHERE tool_call_id IS NOT NULL"));
    }

    @Override
    public void withMigrationLock(Connection connection, SqlWork<Void> work) throws SQLException {
        connection.setAutoCommit(false);
        try {
            try (PreparedStatement ps = connection.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
                ps.setLong(1, lockKey());
                ps.executeQuery().close();
            }
            work.run(connection);
            connection.commit();
        } catch (SQLException | RuntimeException e) {
            rollBackQuietly(connection, e);
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    /** The advisory lock key of these tables: a 64-bit FNV-1a hash of their schema and prefix. */
    long lockKey() {
        long h = 0xcbf29ce484222325L;
        for (byte b : ("agentmemory:" + tables.describe()).getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    static void rollBackQuietly(Connection connection, Throwable failure) {
        try {
            connection.rollback();
        } catch (SQLException rollback) {
            failure.addSuppressed(rollback);
        }
    }

    @Override
    protected boolean estimatesWindowPageInSql() {
        return true;
    }

    @Override
    public boolean filtersMetadataInSql() {
        return true;
    }

    @Override
    protected boolean arrayLookupsUseIndexes() {
        return true;
    }

    @Override
    protected String textArrayType() {
        return "text";
    }

    @Override
    protected String longArrayType() {
        return "int8";
    }

    @Override
    public SessionRow lockSession(Connection connection, Sql.Params key) throws SQLException {
        try (PreparedStatement ps = lockSession.prepare(connection, key.copy().set("epoch", WindowCache.newEpoch()));
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return new SessionRow(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5));
        }
    }

    @Override
    public List<RawRow> deleteBySeq(Connection connection, Sql.Params params, long[] seqs, boolean bodies)
            throws SQLException {
        List<RawRow> rows = new ArrayList<>();
        Long[] boxed = new Long[seqs.length];
        long lo = Long.MAX_VALUE;
        long hi = Long.MIN_VALUE;
        for (int i = 0; i < seqs.length; i++) {
            boxed[i] = seqs[i];
            lo = Math.min(lo, seqs[i]);
            hi = Math.max(hi, seqs[i]);
        }
        try (PreparedStatement ps = (bodies ? deleteBySeq : deleteBySeqNoBodies)
                        .prepare(
                                connection,
                                params.copy()
                                        .set("seqs", longArray(connection, boxed))
                                        .set("lo", lo)
                                        .set("hi", hi));
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(
                        bodies
                                ? new RawRow(rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getString(4))
                                : new RawRow(rs.getLong(1), 0, null, null));
            }
        }
        return rows;
    }

    @Override
    public Optional<SingleAppend> singleAppend() {
        return Optional.of((tool, oldest, known) -> appends[(known ? 4 : 0) + (tool ? 2 : 0) + (oldest ? 1 : 0)]);
    }

    @Override
    public boolean isTransient(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientException || t instanceof SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException sql) {
                String state = sql.getSQLState();
                if (state != null && (state.startsWith("08") || TRANSIENT_STATES.contains(state))) {
                    return true;
                }
            }
            if (t instanceof java.io.IOException) {
                return true;
            }
        }
        return false;
    }
}
