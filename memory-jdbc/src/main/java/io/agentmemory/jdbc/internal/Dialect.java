package io.agentmemory.jdbc.internal;

import io.agentmemory.ConfigurationException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What differs between the supported databases: the schema, the statements that lock a session and write, JSON and
 * array parameters, and which errors are transient. One instance per set of tables; its statements are parsed once.
 * Immutable and thread-safe.
 *
 * <p>Every statement names the session by tenant, session id and scope, and takes every value as a bind parameter.
 */
public abstract class Dialect {
    /** The supported databases, for error messages. */
    public static final String SUPPORTED = "PostgreSQL (jdbc:postgresql:...) and H2 (jdbc:h2:...)";

    /** The condition that selects one session's rows. */
    protected static final String KEY = "tenant = {tenant} AND session_id = {session} AND scope = {scope}";

    /**
     * The condition that selects a session's message by id ({@code {ids}}): through the unique index that leads
     * with {@code message_id}, and only through it. The session is compared with {@code IS NOT DISTINCT FROM}, which
     * no index serves, so that no plan can walk the session's primary key instead and filter by id (a plan whose
     * cost grows with the session, which a generic plan made from stale statistics picks on PostgreSQL).
     */
    protected static final String BY_ID = "message_id = {ids} AND tenant IS NOT DISTINCT FROM {tenant}"
            + " AND session_id IS NOT DISTINCT FROM {session} AND scope IS NOT DISTINCT FROM {scope}";

    /** The columns a stored message is read from. */
    protected static final String ROW = "seq, tokens, token_counter, body";

    /** The columns of a message's retention header. */
    protected static final String HEADER = "seq, tokens, tool_call_id, call_ids";

    protected final Tables tables;
    protected final String m;
    protected final String s;

    final Sql existing;
    final Sql existingOne;
    final Sql newestCallerPinned;
    final Sql insertMessage;
    final Sql updateSession;
    final Sql headersAfter;
    final Sql expiredHeaders;
    final Sql newestAnswer;
    final Sql firstCaller;
    final Sql lockSessionForDelete;
    final Sql allRows;
    final Sql allSeqs;
    final Sql deleteMessages;
    final Sql deleteSession;
    final Sql windowFirst;
    final Sql windowFirstLive;
    final Sql windowNext;
    final Sql windowSince;
    final Sql windowNextLive;
    final Sql count;
    final Sql countLive;
    final Sql sessions;
    final Sql sessionsLive;

    /**
     * @param tables the tables
     * @param metaParameter SQL for the JSON parameter {@code {meta}}
     */
    protected Dialect(Tables tables, String metaParameter) {
        this.tables = tables;
        this.m = tables.messages();
        this.s = tables.sessions();
        existing = Sql.of("SELECT message_id, " + ROW + " FROM " + m + " WHERE "
                + BY_ID.replace("message_id = {ids}", "message_id = ANY({ids})"));
        existingOne = Sql.of("SELECT message_id, " + ROW + " FROM " + m + " WHERE " + BY_ID);
        newestCallerPinned = Sql.of("SELECT COALESCE(" + newestCallerPinned("{call}") + ", FALSE)");
        insertMessage = Sql.of("INSERT INTO " + m + " (tenant, session_id, scope, seq, message_id, role, ts, tokens,"
                + " token_counter, pinned, tool_call_id, call_ids, meta, body, stamp) VALUES ({tenant}, {session},"
                + " {scope}, {seq}, {id}, {role}, {ts}, {tokens}, {counter}, {pinned}, {tool_call_id}, {call_ids}, "
                + metaParameter + ", {body}, {stamp})");
        updateSession = Sql.of("UPDATE " + s + " SET last_seq = {last_seq}, pinned_count = {pinned_count},"
                + " unpinned_count = {unpinned_count}, unpinned_tokens = {unpinned_tokens} WHERE " + KEY);
        headersAfter = Sql.of("SELECT " + HEADER + " FROM " + m + " WHERE " + KEY
                + " AND NOT pinned AND seq > {after} ORDER BY " + unpinnedOrder("") + " LIMIT {limit}");
        expiredHeaders = Sql.of(
                "SELECT " + HEADER + " FROM " + m + " WHERE " + KEY + " AND NOT pinned AND ts < {cutoff} ORDER BY seq");
        newestAnswer = Sql.of("SELECT " + HEADER + " FROM " + m + " WHERE " + KEY
                + " AND tool_call_id = {call} AND seq > {after} AND seq < {before} AND NOT pinned ORDER BY "
                + toolCallOrder(" DESC") + " LIMIT 1");
        firstCaller = Sql.of("SELECT seq FROM " + m + " WHERE " + KEY + " AND NOT pinned AND seq > {after}"
                + " AND seq < {before} AND " + callIdsContain("{call}") + " ORDER BY " + unpinnedOrder("")
                + " LIMIT 1");
        lockSessionForDelete = Sql.of("SELECT last_seq FROM " + s + " WHERE " + KEY + " FOR UPDATE");
        allRows = Sql.of("SELECT " + ROW + " FROM " + m + " WHERE " + KEY + " ORDER BY seq");
        allSeqs = Sql.of("SELECT seq FROM " + m + " WHERE " + KEY);
        deleteMessages = Sql.of("DELETE FROM " + m + " WHERE " + KEY);
        deleteSession = Sql.of("DELETE FROM " + s + " WHERE " + KEY);
        windowFirst = Sql.of(windowFirst(""));
        windowFirstLive = Sql.of(windowFirst(" AND ts >= {cutoff}"));
        windowNext = Sql.of(windowNext(""));
        windowSince = Sql.of(windowSince());
        windowNextLive = Sql.of(windowNext(" AND ts >= {cutoff}"));
        count = Sql.of("SELECT pinned_count + unpinned_count FROM " + s + " WHERE " + KEY);
        countLive = Sql.of("SELECT pinned_count + unpinned_count - (SELECT count(*) FROM " + m + " WHERE " + KEY
                + " AND NOT pinned AND ts < {cutoff}) FROM " + s + " WHERE " + KEY);
        sessions = Sql.of("SELECT session_id, scope FROM " + s
                + " WHERE tenant = {tenant} AND pinned_count + unpinned_count > 0");
        sessionsLive = Sql.of("SELECT x.session_id, x.scope FROM " + s + " x WHERE x.tenant = {tenant}"
                + " AND (x.pinned_count > 0 OR EXISTS (SELECT 1 FROM " + m + " y WHERE y.tenant = x.tenant"
                + " AND y.session_id = x.session_id AND y.scope = x.scope AND NOT y.pinned AND y.ts >= {cutoff}))");
    }

    /**
     * The first page of a window in one statement, four columns a row ({@code seq, tokens, token_counter, body}; every
     * column a row carries costs the driver time on windows of thousands of rows):
     *
     * <ul>
     *   <li>one header row with sequence number 0 (none without a session): the page's row limit in {@code tokens},
     *       the session's epoch (see {@link WindowCache}) as text in {@code token_counter}, and its last sequence
     *       number and message count as text in {@code body} ({@link #header});
     *   <li>the pinned messages, with their sequence numbers negated;
     *   <li>the newest unpinned messages, at most the page's row limit.
     * </ul>
     *
     * Rows with a sequence number from {@code {known_lo}} to {@code {known_hi}} come without their counter and text
     * (null). The rows come in no particular order (the caller sorts them), which spares the database a sort. The
     * limit is estimated in the statement (see {@link #firstPageLimit()}) or, where the dialect does not, given as
     * the parameter {@code {limit}}.
     */
    private String windowFirst(String live) {
        String known = "seq >= {known_lo} AND seq <= {known_hi}";
        String pinned = "(SELECT -seq, tokens, CASE WHEN " + known + " THEN NULL ELSE token_counter END, CASE WHEN "
                + known + " THEN NULL ELSE body END FROM " + m + " WHERE " + KEY + " AND pinned)";
        String limit = estimatesWindowPageInSql() ? "(SELECT CAST(" + firstPageLimit() + " AS INTEGER))" : "{limit}";
        // The unpinned rows as a derived table: H2 evaluates a LIMIT parameter of a UNION's branch once per prepared
        // statement and keeps it for later executions (H2 2.x), which a reused statement would then read too few
        // rows with; a derived table's LIMIT is evaluated on every execution.
        String unpinned = "SELECT * FROM (SELECT seq, tokens, CASE WHEN " + known
                + " THEN NULL ELSE token_counter END AS token_counter, CASE WHEN " + known
                + " THEN NULL ELSE body END AS body FROM " + m + " WHERE " + KEY + " AND NOT pinned" + live
                + " ORDER BY " + unpinnedOrder(" DESC") + " LIMIT " + limit + ") u";
        return header("CAST(" + limit + " AS INTEGER)", "0", anchorSeq()) + " UNION ALL " + pinned + " UNION ALL "
                + unpinned;
    }

    /**
     * SQL for the sequence number {@code {anchor_seq}} of a window cache entry's newest message when the row stored
     * under it holds that message (id {@code {anchor}}) with the stamp {@code {anchor_stamp}} (or that is 0: not
     * known), -2 when it holds another message or another stamp, -1 for no row: read with a window, or an append, it
     * tells whether the session was put back from an older copy (see {@link WindowCache}). The row is found by its
     * primary key, whatever the statistics.
     */
    protected String anchorSeq() {
        return "COALESCE((SELECT CASE WHEN message_id = {anchor} AND (CAST({anchor_stamp} AS BIGINT) = 0"
                + " OR stamp = CAST({anchor_stamp} AS BIGINT)) THEN seq ELSE -2 END FROM " + m + " WHERE " + KEY
                + " AND seq = {anchor_seq}), -1)";
    }

    /**
     * A window's header row: sequence number 0, {@code tokens} (SQL, an integer), the epoch as text, and as text
     * {@code "<last sequence number> <message count> <above> <head> <anchor> <last stamp>"} with {@code above} and
     * {@code anchor} (SQL, numbers), and the stamp of the row with the last sequence number (0 for none, or a row
     * written before stamps).
     */
    private String header(String tokens, String above, String anchor) {
        return "SELECT CAST(0 AS BIGINT), " + tokens + ", CAST(epoch AS VARCHAR(20)), CAST(last_seq AS VARCHAR(20))"
                + " || ' ' || CAST(pinned_count + unpinned_count AS VARCHAR(20)) || ' ' || CAST(" + above
                + " AS VARCHAR(20)) || ' ' || CAST(COALESCE(head_seq, 0) AS VARCHAR(20)) || ' ' || CAST(" + anchor
                + " AS VARCHAR(20)) || ' ' || CAST(COALESCE((SELECT stamp FROM " + m + " WHERE " + KEY
                + " AND seq = last_seq), 0) AS VARCHAR(20)) FROM " + s + " WHERE " + KEY;
    }

    /**
     * A window read on a valid cache entry (see {@link WindowCache}), in one statement of the same four columns: the
     * header row ({@link #header}, with 0 as {@code above}, and the anchor's sequence number, see {@link #anchorSeq}),
     * then the rows with a sequence number after {@code {since}}, newest first, pinned ones negated, at most
     * {@code {limit}}, with their text. Its cost grows with the messages added since the entry was made, not with the
     * window. The rows after {@code {since}} are not counted in SQL: the caller asks for one more than it can use, so
     * that the rows it gets are all there are or tell that there are too many (a count by the partial key was planned,
     * generically, as a scan of the whole table where statistics showed few sessions).
     */
    private String windowSince() {
        return header("CAST(0 AS INTEGER)", "0", anchorSeq())
                + " UNION ALL SELECT * FROM (SELECT CASE WHEN pinned THEN -seq ELSE seq END AS signed_seq, tokens,"
                + " token_counter, body FROM " + m + " WHERE " + KEY + " AND seq > {since} ORDER BY "
                + sessionOrder(" DESC") + " LIMIT {limit}) n";
    }

    /**
     * SQL for the row limit of a window's first page: as many rows as the budget is likely to take, from the
     * session's counters: all unpinned messages when their tokens fit, else the budget's share of them at the average
     * token count, plus a tenth and 16 rows; at least 16, at most {@link #maxWindowPage()}. A window then usually
     * costs one statement; when the estimate falls short, the walk reads further pages.
     */
    private String firstPageLimit() {
        return "GREATEST(16, LEAST(" + maxWindowPage() + ", COALESCE((SELECT CASE WHEN unpinned_tokens <= {budget}"
                + " THEN unpinned_count + 1 ELSE CAST(CAST(unpinned_count AS DOUBLE PRECISION) * {budget}"
                + " / GREATEST(unpinned_tokens, 1) * 1.1 + 16 AS BIGINT) END FROM " + s + " WHERE " + KEY
                + "), {limit})))";
    }

    /**
     * Whether the first window page's row limit is estimated inside its statement (a {@code LIMIT} with a subquery);
     * otherwise the backend passes a fixed first page as a parameter, and further pages double. (H2 may reuse the
     * value of such a {@code LIMIT} across executions of a cached statement.)
     */
    protected abstract boolean estimatesWindowPageInSql();

    /**
     * The {@code ORDER BY} list that orders a session's unpinned messages by sequence number ({@code direction}
     * {@code ""} or {@code " DESC"}) the way the database reads them off an index without sorting: by default just
     * {@code seq}.
     */
    protected String unpinnedOrder(String direction) {
        return "seq" + direction;
    }

    /**
     * The {@code ORDER BY} list that orders a session's tool messages answering one call by sequence number
     * ({@code direction} {@code ""} or {@code " DESC"}) the way the database reads them off the index
     * {@code messages_tool_call_seq} without sorting: by default just {@code seq}.
     */
    protected String toolCallOrder(String direction) {
        return "seq" + direction;
    }

    /** SQL for: the message's {@code call_ids} hold the call id {@code param} (a parameter, such as {@code {call}}). */
    protected abstract String callIdsContain(String param);

    /**
     * SQL for a scalar subquery: whether the newest message of the session that made the call {@code param} is pinned;
     * null if no pinned message made it. A tool message answers that message, and is pinned when it is. The rows
     * read are the pinned messages above the newest pinned caller, then the session's rows above the newest caller;
     * none of the others when no pinned message made the call (the range then starts above every sequence number:
     * H2 walks a range that starts at {@code NULL} from the session's first row).
     */
    protected final String newestCallerPinned(String param) {
        String calls = callIdsContain(param);
        return "(SELECT pinned FROM " + m + " WHERE " + KEY + " AND " + calls + " AND seq >= COALESCE((SELECT max(seq)"
                + " FROM " + m + " WHERE " + KEY + " AND pinned AND " + calls + "), " + Long.MAX_VALUE + ") ORDER BY "
                + sessionOrder(" DESC") + " LIMIT 1)";
    }

    /**
     * Migration 6's index: tool messages by session, call id and sequence number (only rows with a call id where the
     * database has partial indexes), named {@code messages_tool_call_seq}.
     */
    private String toolCallSeqIndex() {
        return "CREATE INDEX IF NOT EXISTS " + tables.index("messages_tool_call_seq") + " ON " + m
                + " (tenant, session_id, scope, tool_call_id, seq)" + indexCondition("tool_call_id IS NOT NULL");
    }

    /** The clause that limits an index to the rows meeting {@code condition}: by default {@code WHERE condition}. */
    protected String indexCondition(String condition) {
        return " WHERE " + condition;
    }

    /**
     * The {@code ORDER BY} list that orders a session's messages by sequence number ({@code direction} {@code ""} or
     * {@code " DESC"}) the way the database reads them off the primary key without sorting: by default just
     * {@code seq}.
     */
    protected String sessionOrder(String direction) {
        return "seq" + direction;
    }

    /** The most rows a window reads in one statement. */
    public final int maxWindowPage() {
        return 65536;
    }

    private String windowNext(String live) {
        return "SELECT " + ROW + " FROM " + m + " WHERE " + KEY + " AND NOT pinned" + live
                + " AND seq < {before} ORDER BY " + unpinnedOrder(" DESC") + " LIMIT {limit}";
    }

    /**
     * The dialect for a JDBC URL, chosen by its prefix, which the drivers accept in lower case only.
     *
     * @throws ConfigurationException naming the supported databases if the URL names another, or a supported one in
     *     another case
     */
    public static Dialect forUrl(String url, Tables tables) {
        if (url.startsWith("jdbc:postgresql:")) {
            return new PostgresDialect(tables);
        }
        if (url.startsWith("jdbc:h2:")) {
            return new H2Dialect(tables);
        }
        String lower = url.toLowerCase(Locale.ROOT);
        if (lower.startsWith("jdbc:postgresql:") || lower.startsWith("jdbc:h2:")) {
            throw new ConfigurationException("memory.jdbc.url must begin with jdbc:postgresql: or jdbc:h2: in lower"
                    + " case, as the drivers accept it; this one begins with " + subprotocol(url) + ":");
        }
        throw unsupported(subprotocol(url));
    }

    /**
     * The dialect for a connected database, chosen by its product name.
     *
     * @throws ConfigurationException naming the supported databases if it is another
     */
    public static Dialect forDatabase(DatabaseMetaData metaData, Tables tables) throws SQLException {
        return recognize(metaData).equals("H2") ? new H2Dialect(tables) : new PostgresDialect(tables);
    }

    /**
     * The name of a connected database: {@code PostgreSQL} or {@code H2}.
     *
     * @throws ConfigurationException naming the supported databases if it is another
     */
    public static String recognize(DatabaseMetaData metaData) throws SQLException {
        String product = metaData.getDatabaseProductName();
        if ("PostgreSQL".equals(product) || "H2".equals(product)) {
            return product;
        }
        throw unsupported(product);
    }

    static ConfigurationException unsupported(String what) {
        String shown = what == null ? "unknown" : what.length() > 60 ? what.substring(0, 60) + "..." : what;
        return new ConfigurationException("memory.jdbc.url names a database the jdbc backend does not support (" + shown
                + "); it supports " + SUPPORTED);
    }

    /** {@code jdbc:<subprotocol>} of a URL, without anything that may be secret. */
    static String subprotocol(String url) {
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("(?i)(jdbc:[a-z0-9]{1,30}):.*").matcher(url);
        return m.matches() ? m.group(1) : "not a JDBC URL";
    }

    /**
     * The connection an operation works on: {@code pooled} itself, or a view of it that reuses prepared statements
     * across check-outs where the database's own preparing is costly (see {@link StatementCache}).
     */
    public Connection reusingStatements(Connection pooled) throws SQLException {
        return pooled;
    }

    /** The database's name, e.g. {@code PostgreSQL}. */
    public abstract String name();

    /** Whether {@code url} names a database that vanishes when its last connection closes. */
    public boolean isTransient(String url) {
        return false;
    }

    /**
     * Checks the connected database: product, version and settings this backend relies on.
     *
     * @throws ConfigurationException if it does not fit
     */
    public abstract void check(Connection connection) throws SQLException;

    /** The migrations, in version order: this database's tables (1), then those both databases share. */
    public final List<Migration> migrations() {
        return List.of(
                tablesMigration(),
                new Migration(
                        2,
                        "session epochs, for the window cache",
                        List.of("ALTER TABLE " + s + " ADD COLUMN IF NOT EXISTS epoch BIGINT")),
                new Migration(
                        3,
                        "message ids indexed first, so that finding one never walks a session",
                        List.of(
                                "CREATE UNIQUE INDEX IF NOT EXISTS " + tables.index("messages_id") + " ON " + m
                                        + " (message_id, tenant, session_id, scope)",
                                "DROP INDEX IF EXISTS " + tables.qualifiedIndex("messages_message_id"))),
                new Migration(
                        4,
                        "session heads, so that retention finds the oldest messages without passing deleted ones",
                        List.of("ALTER TABLE " + s + " ADD COLUMN IF NOT EXISTS head_seq BIGINT")),
                new Migration(
                        5,
                        "a random stamp on each message row, so that a row stored again after a put-back is told apart",
                        List.of("ALTER TABLE " + m + " ADD COLUMN IF NOT EXISTS stamp BIGINT")),
                new Migration(
                        6,
                        "tool messages indexed by call id and sequence, so that retention finds the answer of one"
                                + " call of one assistant message without reading the other answers of that call id",
                        List.of(
                                toolCallSeqIndex(),
                                "DROP INDEX IF EXISTS " + tables.qualifiedIndex("messages_tool_call"))));
    }

    /** Migration 1: the tables and their indexes, in this database's types. */
    protected abstract Migration tablesMigration();

    /** Runs {@code work} while no other process migrates these tables; see {@link Migrations}. */
    public abstract void withMigrationLock(Connection connection, SqlWork<Void> work) throws SQLException;

    /** Whether metadata filters are evaluated by the database; otherwise the backend evaluates them on the rows. */
    public abstract boolean filtersMetadataInSql();

    /**
     * Whether {@code column = ANY(array)} uses an index on this database; if not, lookups of several values run one
     * indexed equality query per value (H2, where each is an in-process call).
     */
    protected abstract boolean arrayLookupsUseIndexes();

    /**
     * Runs {@code any} (with the text array {@code values} bound as {@code name}), or {@code one} once per value (bound
     * as {@code name}) where arrays use no index, handing every row to {@code handler}.
     */
    void queryEach(
            Connection connection, Sql any, Sql one, Sql.Params key, String name, String[] values, RowHandler handler)
            throws SQLException {
        if (arrayLookupsUseIndexes()) {
            try (java.sql.PreparedStatement ps =
                            any.prepare(connection, key.copy().set(name, textArray(connection, values)));
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    handler.row(rs);
                }
            }
            return;
        }
        try (java.sql.PreparedStatement ps = connection.prepareStatement(one.text())) {
            for (String value : values) {
                one.bind(ps, key.copy().set(name, value));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        handler.row(rs);
                    }
                }
            }
        }
    }

    /** Handles one row of a result. */
    @FunctionalInterface
    interface RowHandler {
        void row(ResultSet rs) throws SQLException;
    }

    /** A text array parameter. */
    public java.sql.Array textArray(Connection connection, String[] values) throws SQLException {
        return connection.createArrayOf(textArrayType(), values);
    }

    protected abstract String textArrayType();

    /** A bigint array parameter. */
    public java.sql.Array longArray(Connection connection, Long[] values) throws SQLException {
        return connection.createArrayOf(longArrayType(), values);
    }

    protected abstract String longArrayType();

    /**
     * Locks the session's row for this transaction, creating it if missing.
     *
     * @return the row as it is now
     */
    public abstract SessionRow lockSession(Connection connection, Sql.Params key) throws SQLException;

    /**
     * Deletes messages by sequence and sets the session's unpinned counters ({@code unpinned_count} and
     * {@code unpinned_tokens} in {@code params}), returning the deleted rows ({@link #ROW}, or without
     * {@code bodies} rows that only count) in any order.
     */
    public abstract List<RawRow> deleteBySeq(Connection connection, Sql.Params params, long[] seqs, boolean bodies)
            throws SQLException;

    /** The single-statement append of one message, if this dialect has one. */
    public Optional<SingleAppend> singleAppend() {
        return Optional.empty();
    }

    /**
     * For dialects without a {@link #singleAppend()}: a query that counts one message of a session in its row
     * ({@code last_seq} plus one, {@code pinned_add}, {@code unpinned_add}, {@code tokens_add} added to the counters, an
     * {@code epoch} where there is none), locking the row until commit, and returns the new {@code last_seq},
     * {@code unpinned_count}, {@code unpinned_tokens}, head, epoch and message count, and the anchor's sequence number
     * if its row still holds it (see {@link #anchorSeq()}); no row if the session has none. Then
     * {@link #insertMessage} stores the message with that sequence number, in the same transaction.
     */
    public Optional<Sql> countAppend() {
        return Optional.empty();
    }

    /** Whether {@code e} is transient: the same operation may succeed on a new attempt (or connection). */
    public abstract boolean isTransient(SQLException e);

    /** Whether {@code e} is a unique-key conflict with a concurrent writer, resolved by running again. */
    public boolean isConflict(SQLException e) {
        return "23505".equals(e.getSQLState());
    }

    /**
     * Whether {@code e} says a value exceeds a limit of the database (SQLSTATE 54000), such as an index entry larger
     * than PostgreSQL's B-tree holds (2,704 bytes): the same write fails on every attempt.
     */
    public boolean exceedsLimit(SQLException e) {
        return "54000".equals(e.getSQLState());
    }

    /** Reads the string array in column {@code column}, or null. */
    static String[] strings(ResultSet rs, int column) throws SQLException {
        java.sql.Array array = rs.getArray(column);
        if (array == null) {
            return null;
        }
        Object[] values = (Object[]) array.getArray();
        String[] out = new String[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (String) values[i];
        }
        return out;
    }

    /**
     * A session's row: its last sequence number, counters, and head (no unpinned message has a lower sequence
     * number; 0 when unknown).
     */
    public record SessionRow(long lastSeq, long pinnedCount, long unpinnedCount, long unpinnedTokens, long head) {}

    /** A stored message as read: sequence, token count, counter id and its JSON text (null if not read). */
    public record RawRow(long seq, int tokens, String counter, String body) {}

    /** One migration: a version, what it does, and its statements. */
    public record Migration(int version, String description, List<String> statements) {}

    /** Work on a connection. */
    @FunctionalInterface
    public interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    /** The single-statement append of one message; see {@link PostgresDialect}. */
    public interface SingleAppend {
        /**
         * The statement for a message that is or is not a tool message, with or without the oldest timestamp; with
         * {@code known}, the form that first looks for a stored message of the same id and returns it.
         */
        Sql statement(boolean toolMessage, boolean oldestTimestamp, boolean known);
    }
}
