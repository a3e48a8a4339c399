package io.agentmemory.jdbc.internal;

import io.agentmemory.Added;
import io.agentmemory.BackendUnavailableException;
import io.agentmemory.ErrorCode;
import io.agentmemory.EvictionListener;
import io.agentmemory.HistoryQuery;
import io.agentmemory.IntegrityException;
import io.agentmemory.InvalidInputException;
import io.agentmemory.MemoryException;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.TokenCount;
import io.agentmemory.ToolCall;
import io.agentmemory.core.backend.BackendSupport;
import io.agentmemory.core.backend.PinnedCalls;
import io.agentmemory.core.json.MessageJson;
import io.agentmemory.core.window.ContextWindows;
import io.agentmemory.internal.Checks;
import io.agentmemory.spi.MemoryContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;

/**
 * The operations of the jdbc backend on one set of tables: appends, reads, retention and deletes, each a short
 * transaction (or a single statement) on a pooled connection, retried on transient failures. Thread-safe.
 *
 * <p>Failures: a transient one (the connection lost, the server restarting, a lock timeout) is retried, up to
 * {@value #ATTEMPTS} attempts in all on a fresh connection; appends are safe to repeat because message ids are
 * idempotent, so an append whose commit was lost is found and returned, not stored twice. When the attempts run out,
 * or the pool has no connection within its timeout, the call fails with {@link BackendUnavailableException}. Other
 * database errors fail at once with the same exception. Messages name the operation, the session and the SQLSTATE;
 * the driver's message is never shown, since drivers quote stored values in some of theirs.
 */
public final class Backend {
    static final int ATTEMPTS = 4;
    private static final int MAX_CONFLICT_RETRIES = 20;
    private static final int FIRST_WINDOW_PAGE = 256;
    private static final int NEW_ROWS_SLACK = 16;
    private static final Instant MIN_TIMESTAMP = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant MAX_TIMESTAMP = Instant.parse("9999-12-31T23:59:59.999999Z");

    private final DataSource dataSource;
    private final Dialect dialect;
    private final MemoryContext context;
    private final Retention retention;
    private final boolean reporting;
    private final BooleanSupplier closed;
    private final WindowCache windowCache;
    private final LongAdder appendWindows = new LongAdder();

    /** @param windowCache how many decoded messages to keep for context windows, across sessions; 0 for none */
    public Backend(
            DataSource dataSource, Dialect dialect, MemoryContext context, BooleanSupplier closed, int windowCache) {
        this.windowCache = new WindowCache(windowCache);
        this.dataSource = dataSource;
        this.dialect = dialect;
        this.context = context;
        this.retention = context.retention();
        this.reporting = context.evictionListener() != EvictionListener.NONE;
        this.closed = closed;
    }

    // ---- writes

    /**
     * Appends messages (already checked by the caller) and applies retention; see {@code MemoryStore#addAll}. One
     * message appended to a session whose window is held brings the held window up to date when nothing else changed
     * (see {@link #addAndWindow}), so that the next window reads only what others added.
     */
    public List<Message> append(SessionKey key, List<Message> batch) {
        WindowCache.Entry cached = batch.size() == 1 && windowCache.enabled() ? windowCache.get(key) : null;
        Appended appended = append(key, batch, cached);
        if (current(cached, appended) && appended.after().count() == cached.count() + 1) {
            windowCache.appended(
                    key,
                    cached,
                    appended.messages().get(0),
                    appended.after().pinned(),
                    appended.after().count(),
                    appended.after().stamp());
        }
        return appended.messages();
    }

    /**
     * Whether {@code cached} was the session as of just before {@code appended}, as far as the append's statement
     * tells without the count: one new message appended with its counters, nothing removed by retention, the same
     * epoch, the sequence number handed out one more than the entry's last, the entry's newest message still stored
     * under its number, in the row the entry saw (its stamp).
     */
    private static boolean current(WindowCache.Entry cached, Appended appended) {
        After after = appended.after();
        return cached != null
                && after != null
                && after.epoch() == cached.epoch()
                && appended.messages().get(0).sequence() == cached.lastSeq() + 1
                && after.anchor() == cached.newest().sequence();
    }

    /**
     * See {@code MemoryStore#addAndWindow}; the arguments are checked by the caller. When the session's cache entry
     * was the session as of just before the append and retention removed nothing, the session after the append is the
     * entry plus the appended message: the window is made from them, with no statement of its own unless the budget
     * reaches below the entry's run. The append's statement tells: its epoch, and the sequence number it handed out
     * one more than the entry's last (no other message was appended since the entry was made), the entry's newest
     * message still stored under its number (the session was not put back from an older copy), and the message count
     * one more than the entry's (nothing was deleted since; {@link #windowFrom} checks it, as for a read). Otherwise
     * the window is read as {@link #contextWindow} reads it.
     */
    public Added addAndWindow(SessionKey key, Message message, int maxTokens) {
        WindowCache.Entry cached = windowCache.enabled() ? windowCache.get(key) : null;
        Appended appended = append(key, List.of(message), cached);
        Message stored = appended.messages().get(0);
        After after = appended.after();
        return Checks.added(stored, () -> {
            if (current(cached, appended) && (cached.exhausted() || cached.exceeds(maxTokens))) {
                Instant cutoff = expiryCutoff();
                Header header = new Header(
                        0, after.epoch(), stored.sequence(), after.count(), 1, after.head(), -1, after.stamp());
                Sql.Params keyParams = keyParams(key);
                if (cutoff != null) {
                    keyParams.instant("cutoff", cutoff);
                }
                List<Message> added = List.of(stored);
                try {
                    // No connection: a window that needs rows below the held ones is read afresh below.
                    List<Message> window = windowFrom(
                            null,
                            key,
                            keyParams,
                            maxTokens,
                            cutoff,
                            cached,
                            header,
                            after.pinned() ? added : List.of(),
                            after.pinned() ? List.of() : added);
                    if (window != null) {
                        appendWindows.increment();
                        return window;
                    }
                } catch (SQLException | BeyondHeld e) {
                    // read below
                }
            }
            return contextWindow(key, maxTokens);
        });
    }

    /** How many windows of {@code addAndWindow} were made from the cache entry and the appended message alone. */
    public long windowsFromAppends() {
        return appendWindows.sum();
    }

    /**
     * What an append did: the messages as stored and, for one new message appended with the counters returned (and
     * nothing removed by retention), what the session was after it.
     */
    private record Appended(List<Message> messages, After after) {}

    /**
     * The session right after appending one message: its epoch, message count and head, whether the message is stored
     * pinned, its row's stamp, and the sequence number of the anchor the append was given (-1 for no row under it, -2
     * for a row holding another message or stamp).
     */
    private record After(long epoch, long count, long head, long anchor, boolean pinned, long stamp) {}

    /** Appends {@code batch}; with one message, the anchor is {@code cached}'s newest message (see {@link #current}). */
    private Appended append(SessionKey key, List<Message> batch, WindowCache.Entry cached) {
        Anchor anchor = Anchor.of(cached);
        List<TokenCount> counts = BackendSupport.countTokens(context.tokenCounter(), batch);
        List<Prepared> prepared = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            prepared.add(Prepared.of(batch.get(i), counts.get(i)));
        }
        if (prepared.size() == 1 && dialect.singleAppend().isPresent()) {
            Prepared p = prepared.get(0);
            Appended appended = run("append a message to", key, !retention.isNone(), c -> appendOne(c, key, p, anchor));
            if (appended != null) {
                return appended;
            }
            // A tool message met another writer between its statement's snapshot and its lock: the batch way locks
            // the session's row before it decides whether the message is pinned.
        }
        if (prepared.size() == 1
                && dialect.countAppend().isPresent()
                && !prepared.get(0).message().isToolResult()) {
            Prepared p = prepared.get(0);
            return run("append a message to", key, true, c -> appendCounted(c, key, p, anchor));
        }
        return new Appended(run("append messages to", key, true, c -> appendBatch(c, key, prepared)), null);
    }

    /** A message ready to store: its body, filter form and tool-call fields. */
    private record Prepared(Message message, TokenCount count, String body, String meta, String[] callIds) {
        static Prepared of(Message m, TokenCount count) {
            Message bare = m.sequence() == 0 && m.tokenCount().isEmpty()
                    ? m
                    : m.toBuilder().sequence(0).tokenCount(null).build();
            String[] callIds = m.toolCalls().isEmpty()
                    ? null
                    : m.toolCalls().stream().map(ToolCall::id).toArray(String[]::new);
            return new Prepared(m, count, MessageJson.toJson(bare), FilterJson.of(m.metadata()), callIds);
        }
    }

    /** The parameters that store {@code p}'s row, with {@code stamp} as the row's stamp. */
    private Sql.Params messageParams(Connection c, SessionKey key, Prepared p, long stamp) throws SQLException {
        Message m = p.message();
        Sql.Params params = keyParams(key)
                .set("id", m.id())
                .set("ids", m.id())
                .set("role", m.role())
                .instant("ts", m.timestamp())
                .set("tokens", p.count().tokens())
                .set("counter", p.count().counterId())
                .set("meta", p.meta())
                .set("body", p.body())
                .set("stamp", stamp);
        if (m.toolCallId().isPresent()) {
            params.set("tool_call_id", m.toolCallId().get());
        } else {
            params.setNull("tool_call_id", Types.VARCHAR);
        }
        if (p.callIds() != null) {
            params.set("call_ids", dialect.textArray(c, p.callIds()));
        } else {
            params.setNull("call_ids", Types.ARRAY);
        }
        return params;
    }

    /**
     * The id, sequence number and stamp of a cache entry's newest message, which a statement that relies on the entry
     * checks (see {@link Dialect#anchorSeq()}); none without an entry.
     */
    private record Anchor(String id, long seq, long stamp) {
        static Anchor of(WindowCache.Entry cached) {
            return cached == null
                    ? new Anchor("", 0, 0)
                    : new Anchor(cached.newest().id(), cached.newest().sequence(), cached.newestStamp());
        }

        /** Sets the parameters {@code anchor}, {@code anchor_seq} and {@code anchor_stamp}. */
        Sql.Params set(Sql.Params params) {
            return params.set("anchor", id).set("anchor_seq", seq).set("anchor_stamp", stamp);
        }
    }

    /**
     * One message in one statement ({@link Dialect#singleAppend()}). The first attempt writes without looking for the
     * id; if the id is stored already (an idempotent retry, or a concurrent writer of the same message), it fails on
     * the id index having written nothing, and the statement that first looks for the id runs in its place.
     *
     * @return the append, or null if a tool message's statement wrote nothing because another writer appended between
     *     its snapshot and its lock of the session ({@link PostgresDialect#isStaleSnapshot}): append it as a batch
     */
    private Appended appendOne(Connection c, SessionKey key, Prepared p, Anchor anchor) throws SQLException {
        Message m = p.message();
        boolean oldest = retention.maxAge().isPresent();
        Dialect.SingleAppend statements = dialect.singleAppend().orElseThrow();
        long stamp = WindowCache.newStamp();
        Sql.Params params = anchor.set(
                messageParams(c, key, p, stamp).set("pinned", m.isPinned()).set("epoch", WindowCache.newEpoch()));
        boolean known = false;
        while (true) {
            try {
                return appendOne(c, key, p, statements.statement(m.isToolResult(), oldest, known), params, stamp);
            } catch (SQLException e) {
                boolean stale = m.isToolResult() && PostgresDialect.isStaleSnapshot(e);
                if (!stale && (known || !dialect.isConflict(e))) {
                    throw e;
                }
                if (!c.getAutoCommit()) {
                    c.rollback();
                }
                if (stale) {
                    return null;
                }
                known = true;
            }
        }
    }

    private Appended appendOne(Connection c, SessionKey key, Prepared p, Sql sql, Sql.Params params, long stamp)
            throws SQLException {
        Message m = p.message();
        long seq;
        boolean pinned;
        long unpinnedCount;
        long unpinnedTokens;
        long head;
        OffsetDateTime oldestTimestamp;
        After after;
        try (PreparedStatement ps = sql.prepare(c, params);
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new IllegalStateException("the append statement returned no row");
            }
            if (rs.getBoolean(1)) {
                Message known =
                        decode(key, new Dialect.RawRow(rs.getLong(2), rs.getInt(7), rs.getString(8), rs.getString(9)));
                return new Appended(List.of(known), null);
            }
            seq = rs.getLong(2);
            pinned = rs.getBoolean(3);
            unpinnedCount = rs.getLong(4);
            unpinnedTokens = rs.getLong(5);
            oldestTimestamp = rs.getObject(6, OffsetDateTime.class);
            head = rs.getLong(10);
            after = new After(rs.getLong(11), rs.getLong(12), head, rs.getLong(13), pinned, stamp);
        }
        if (!retention.isNone()) {
            Instant cutoff = expiryCutoff();
            boolean mayExpire = cutoff != null
                    && ((!pinned && m.timestamp().isBefore(cutoff))
                            || (oldestTimestamp != null
                                    && oldestTimestamp.toInstant().isBefore(cutoff)));
            if (applyRetention(c, key, unpinnedCount, unpinnedTokens, head, mayExpire ? cutoff : null) > 0) {
                after = null;
            }
        }
        return new Appended(List.of(m.stored(seq, p.count())), after);
    }

    /**
     * One message that answers no tool call, in a transaction of two statements: {@link Dialect#countAppend()} counts it
     * in the session's row (and locks it), the insert stores it. A session without a row yet, or an id already stored
     * (the insert's unique-key conflict: the counted message is rolled back), goes the way of a batch.
     */
    private Appended appendCounted(Connection c, SessionKey key, Prepared p, Anchor anchor) throws SQLException {
        Message m = p.message();
        boolean pinned = m.isPinned();
        long stamp = WindowCache.newStamp();
        Sql.Params params = anchor.set(messageParams(c, key, p, stamp)
                .set("pinned", pinned)
                .set("pinned_add", pinned ? 1L : 0L)
                .set("unpinned_add", pinned ? 0L : 1L)
                .set("tokens_add", pinned ? 0L : (long) p.count().tokens())
                .set("epoch", WindowCache.newEpoch()));
        long seq;
        long unpinnedCount;
        long unpinnedTokens;
        long head;
        After after;
        try (PreparedStatement ps = dialect.countAppend().orElseThrow().prepare(c, params);
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return new Appended(appendBatch(c, key, List.of(p)), null);
            }
            seq = rs.getLong(1);
            unpinnedCount = rs.getLong(2);
            unpinnedTokens = rs.getLong(3);
            head = rs.getLong(4);
            after = new After(rs.getLong(5), rs.getLong(6), head, rs.getLong(7), pinned, stamp);
        }
        try (PreparedStatement ps = dialect.insertMessage.prepare(c, params.set("seq", seq))) {
            ps.executeUpdate();
        } catch (SQLException e) {
            if (!dialect.isConflict(e)) {
                throw e;
            }
            c.rollback();
            return new Appended(appendBatch(c, key, List.of(p)), null);
        }
        if (!retention.isNone() && applyRetention(c, key, unpinnedCount, unpinnedTokens, head, expiryCutoff()) > 0) {
            after = null;
        }
        return new Appended(List.of(m.stored(seq, p.count())), after);
    }

    private List<Message> appendBatch(Connection c, SessionKey key, List<Prepared> batch) throws SQLException {
        Sql.Params keyParams = keyParams(key);
        Dialect.SessionRow session = dialect.lockSession(c, keyParams);

        Map<String, Message> existing = new HashMap<>();
        String[] ids = batch.stream().map(p -> p.message().id()).toArray(String[]::new);
        dialect.queryEach(
                c,
                dialect.existing,
                dialect.existingOne,
                keyParams,
                "ids",
                ids,
                rs -> existing.put(
                        rs.getString(1),
                        decode(
                                key,
                                new Dialect.RawRow(rs.getLong(2), rs.getInt(3), rs.getString(4), rs.getString(5)))));
        // Whether each call that a new tool message answers, and no message before it in the batch made, was last made
        // by a pinned message of the session.
        Map<String, Boolean> storedCallerPinned = new HashMap<>();
        Set<String> calledInBatch = new HashSet<>();
        for (Prepared p : batch) {
            Message m = p.message();
            if (existing.containsKey(m.id())) {
                continue;
            }
            String answered = m.toolCallId().orElse(null);
            if (answered != null && !calledInBatch.contains(answered) && !storedCallerPinned.containsKey(answered)) {
                try (PreparedStatement ps = dialect.newestCallerPinned.prepare(
                                c, keyParams.copy().set("call", answered));
                        ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    storedCallerPinned.put(answered, rs.getBoolean(1));
                }
            }
            m.toolCalls().forEach(call -> calledInBatch.add(call.id()));
        }

        List<Message> stored = new ArrayList<>(batch.size());
        PinnedCalls pinnedCalls = new PinnedCalls(call -> storedCallerPinned.getOrDefault(call, false));
        long seq = session.lastSeq();
        long pinnedCount = session.pinnedCount();
        long unpinnedCount = session.unpinnedCount();
        long unpinnedTokens = session.unpinnedTokens();
        Instant cutoff = expiryCutoff();
        boolean mayExpire = false;
        int inserted = 0;
        try (PreparedStatement ps = c.prepareStatement(dialect.insertMessage.text())) {
            for (Prepared p : batch) {
                Message m = p.message();
                Message known = existing.get(m.id());
                if (known != null) {
                    stored.add(known);
                    continue;
                }
                boolean pinned = pinnedCalls.admit(m);
                seq++;
                dialect.insertMessage.bind(
                        ps,
                        messageParams(c, key, p, WindowCache.newStamp())
                                .set("seq", seq)
                                .set("pinned", pinned));
                ps.addBatch();
                inserted++;
                if (pinned) {
                    pinnedCount++;
                } else {
                    unpinnedCount++;
                    unpinnedTokens += p.count().tokens();
                    mayExpire |= cutoff != null && m.timestamp().isBefore(cutoff);
                }
                stored.add(m.stored(seq, p.count()));
            }
            if (inserted == 0) {
                return stored;
            }
            ps.executeBatch();
        }
        try (PreparedStatement ps = dialect.updateSession.prepare(
                c,
                keyParams
                        .copy()
                        .set("last_seq", seq)
                        .set("pinned_count", pinnedCount)
                        .set("unpinned_count", unpinnedCount)
                        .set("unpinned_tokens", unpinnedTokens))) {
            ps.executeUpdate();
        }
        if (!retention.isNone()) {
            // Expired messages are found by an index probe; the batch's own timestamps need no extra check.
            applyRetention(c, key, unpinnedCount, unpinnedTokens, session.head(), cutoff);
        }
        return stored;
    }

    /**
     * Applies retention inside the writing transaction: plans the removals, deletes them (reading them back), updates
     * the session's counters and reports the removed messages to the listener before the caller commits. A listener
     * that throws fails the write with {@link ErrorCode#CALLBACK_FAILED} and the transaction rolls back.
     *
     * @param head no unpinned message of the session has a lower sequence number (0 if unknown)
     * @param expiryCutoff the expiry cutoff if expired messages may exist, else null
     * @return how many messages it removed
     */
    private int applyRetention(
            Connection c, SessionKey key, long unpinnedCount, long unpinnedTokens, long head, Instant expiryCutoff)
            throws SQLException {
        if (expiryCutoff == null && !RetentionPlan.overLimits(retention, unpinnedCount, unpinnedTokens)) {
            return 0;
        }
        Sql.Params keyParams = keyParams(key);
        RetentionPlan plan = new RetentionPlan(c, dialect, keyParams, key, unpinnedCount, unpinnedTokens, head);
        plan.apply(retention, expiryCutoff);
        Map<Long, RemovalCause> removed = plan.removed();
        if (removed.isEmpty()) {
            return 0;
        }
        long[] seqs = removed.keySet().stream().mapToLong(Long::longValue).toArray();
        List<Dialect.RawRow> rows = dialect.deleteBySeq(
                c,
                keyParams
                        .copy()
                        .set("unpinned_count", plan.unpinnedCount())
                        .set("unpinned_tokens", plan.unpinnedTokens())
                        .set("head", plan.newHead()),
                seqs,
                reporting);
        if (rows.size() != removed.size()) {
            throw new IntegrityException("retention planned to remove " + removed.size() + " messages of " + key
                    + " but " + rows.size() + " were stored; the session changed under its lock");
        }
        if (!reporting) {
            return rows.size();
        }
        Map<RemovalCause, List<Message>> byCause = new EnumMap<>(RemovalCause.class);
        for (Dialect.RawRow row : rows) {
            byCause.computeIfAbsent(removed.get(row.seq()), k -> new ArrayList<>())
                    .add(decode(key, row));
        }
        byCause.values().forEach(list -> list.sort(Comparator.comparingLong(Message::sequence)));
        BackendSupport.report(context.evictionListener(), key, byCause);
        return rows.size();
    }

    /** Deletes a session, reporting its messages as {@link RemovalCause#CLEARED}; whether it held any. */
    public boolean delete(SessionKey key) {
        windowCache.remove(key);
        return run("delete", key, true, c -> {
            Sql.Params keyParams = keyParams(key);
            try (PreparedStatement ps = dialect.lockSessionForDelete.prepare(c, keyParams);
                    ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
            }
            if (reporting) {
                List<Message> all = new ArrayList<>();
                try (PreparedStatement ps = dialect.allRows.prepare(c, keyParams);
                        ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        all.add(decode(key, raw(rs, 1)));
                    }
                }
                BackendSupport.report(context.evictionListener(), key, all, RemovalCause.CLEARED);
            }
            int deleted;
            try (PreparedStatement ps = dialect.deleteMessages.prepare(c, keyParams)) {
                deleted = ps.executeUpdate();
            }
            try (PreparedStatement ps = dialect.deleteSession.prepare(c, keyParams)) {
                ps.executeUpdate();
            }
            return deleted > 0;
        });
    }

    // ---- reads

    /** See {@code MemoryStore#history(HistoryQuery)}. */
    public List<Message> history(SessionKey key, HistoryQuery query) {
        int limit = query.limit().orElse(Integer.MAX_VALUE);
        if (limit == 0) {
            return List.of();
        }
        Instant from = query.from().map(Backend::ceilMicros).orElse(null);
        Instant to = query.to().map(t -> t.truncatedTo(ChronoUnit.MICROS)).orElse(null);
        if ((from != null && from.isAfter(MAX_TIMESTAMP))
                || (to != null && to.isBefore(MIN_TIMESTAMP))
                || (from != null && to != null && from.isAfter(to))) {
            return List.of();
        }
        if (from != null && !from.isAfter(MIN_TIMESTAMP)) {
            from = null;
        }
        if (to != null && !to.isBefore(MAX_TIMESTAMP)) {
            to = null;
        }
        Instant cutoff = expiryCutoff();
        boolean metadataInJava = !query.metadata().isEmpty() && !dialect.filtersMetadataInSql();
        Instant lower = from;
        Instant upper = to;
        return run("read the history of", key, false, c -> {
            StringBuilder sql =
                    new StringBuilder("SELECT " + Dialect.ROW + " FROM " + dialect.m + " WHERE " + Dialect.KEY);
            Sql.Params params = keyParams(key);
            if (!query.roles().isEmpty()) {
                sql.append(" AND role = ANY({roles})");
                params.set("roles", dialect.textArray(c, query.roles().toArray(String[]::new)));
            }
            if (!query.metadata().isEmpty() && !metadataInJava) {
                sql.append(" AND meta @> CAST({meta} AS jsonb)");
                params.set("meta", FilterJson.of(query.metadata()));
                int i = 0;
                for (Map.Entry<String, Object> e : query.metadata().entrySet()) {
                    if (FilterJson.isContainer(e.getValue())) {
                        sql.append(" AND (meta -> CAST({mk_")
                                .append(i)
                                .append("} AS text)) = CAST({mv_")
                                .append(i)
                                .append("} AS jsonb)");
                        params.set("mk_" + i, FilterJson.escape(e.getKey()));
                        params.set("mv_" + i, FilterJson.value(e.getValue()));
                    }
                    i++;
                }
            }
            if (lower != null) {
                sql.append(" AND ts >= {from}");
                params.instant("from", lower);
            }
            if (upper != null) {
                sql.append(" AND ts <= {to}");
                params.instant("to", upper);
            }
            if (cutoff != null) {
                sql.append(" AND (pinned OR ts >= {cutoff})");
                params.instant("cutoff", cutoff);
            }
            sql.append(" ORDER BY seq DESC");
            if (!metadataInJava) {
                if (query.limit().isPresent()) {
                    sql.append(" LIMIT {limit}");
                    params.set("limit", limit);
                }
                if (query.offset() > 0) {
                    sql.append(" OFFSET {offset}");
                    params.set("offset", query.offset());
                }
            }
            List<Message> out = new ArrayList<>();
            int skipped = 0;
            try (PreparedStatement ps = Sql.of(sql.toString()).prepare(c, params)) {
                ps.setFetchSize(FIRST_WINDOW_PAGE);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Message m = decode(key, raw(rs, 1));
                        if (metadataInJava) {
                            if (!query.matches(m)) {
                                continue;
                            }
                            if (skipped < query.offset()) {
                                skipped++;
                                continue;
                            }
                        }
                        out.add(m);
                        if (out.size() == limit) {
                            break;
                        }
                    }
                }
            }
            Collections.reverse(out);
            return Collections.unmodifiableList(out);
        });
    }

    /** See {@code MemoryStore#contextWindow(int)}; the budget is checked by the caller. */
    public List<Message> contextWindow(SessionKey key, int maxTokens) {
        Instant cutoff = expiryCutoff();
        return run("read the context window of", key, false, c -> {
            WindowCache.Entry cached = windowCache.enabled() ? windowCache.get(key) : null;
            try {
                return contextWindow(c, key, maxTokens, cutoff, cached);
            } catch (StaleEntry e) {
                // The session was deleted and created again, or put back from an older copy, since the entry was
                // made: read it all.
                windowCache.remove(key);
                return contextWindow(c, key, maxTokens, cutoff, null);
            }
        });
    }

    private List<Message> contextWindow(
            Connection c, SessionKey key, int maxTokens, Instant cutoff, WindowCache.Entry cached) throws SQLException {
        Sql.Params keyParams = keyParams(key);
        if (cutoff != null) {
            keyParams.instant("cutoff", cutoff);
        }
        // An entry serves a window whose budget it covers, or whose read reached the session's oldest message; else
        // the budget reaches below the entry's run, and the full read sizes its page for that.
        if (cached != null && (cached.exhausted() || cached.exceeds(maxTokens))) {
            List<Message> window = windowSince(c, key, keyParams, maxTokens, cutoff, cached);
            if (window != null) {
                return window;
            }
        }
        List<Dialect.RawRow> pinnedRows = new ArrayList<>();
        List<Dialect.RawRow> page = new ArrayList<>();
        Header header;
        try (PreparedStatement ps = (cutoff == null ? dialect.windowFirst : dialect.windowFirstLive)
                .prepare(
                        c,
                        Anchor.of(cached)
                                .set(keyParams.copy())
                                .set("limit", firstPageLimit(cached, maxTokens))
                                .set("budget", (long) maxTokens)
                                .set("known_lo", cached == null ? 1L : cached.lo())
                                .set("known_hi", cached == null ? 0L : cached.hi()))) {
            header = readWindow(ps, pinnedRows, page);
        }
        // Entries are only made with an epoch, never 0, so a session without one never matches.
        boolean bodiesOmitted = pinnedRows.stream().anyMatch(r -> r.body() == null)
                || page.stream().anyMatch(r -> r.body() == null);
        if (bodiesOmitted
                && (cached == null
                        || header.epoch() != cached.epoch()
                        || header.anchor() != cached.newest().sequence())) {
            throw new StaleEntry();
        }
        // Without a session row there is no header, and no row either.
        int limit = header == Header.NONE ? firstPageLimit(cached, maxTokens) : header.limit();
        List<Message> pinned = new ArrayList<>(pinnedRows.size());
        for (Dialect.RawRow row : pinnedRows) {
            pinned.add(decode(key, row, cached));
        }
        long before =
                page.isEmpty() ? Long.MAX_VALUE : page.get(page.size() - 1).seq();
        Walk walk = new Walk(c, key, keyParams, cutoff, List.of(), page, before, limit, page.size() == limit, cached);
        return select(key, maxTokens, header, pinned, walk, page.size() + 1);
    }

    /**
     * A window from a cache entry and the rows added since it was made, or null when that cannot be done exactly: the
     * session was deleted (another epoch, or no session row), a row the entry knew of was deleted since (the message
     * count is not the entry's count plus the rows added), unless the entry held the whole session and only its oldest
     * unpinned messages were removed (retention, here or elsewhere: the count is what is left of the entry from the
     * session's head on, plus the rows added), or more rows were added than one page holds. The entry then still
     * serves the full read. Rows with a sequence number up to the entry's {@link WindowCache.Entry#lastSeq()} cannot
     * appear later (see {@link WindowCache}), so with nothing deleted the session is the entry's rows plus the rows
     * after it.
     */
    private List<Message> windowSince(
            Connection c, SessionKey key, Sql.Params keyParams, int maxTokens, Instant cutoff, WindowCache.Entry cached)
            throws SQLException {
        int limit = firstPageLimit(cached, maxTokens);
        List<Dialect.RawRow> pinnedRows = new ArrayList<>();
        List<Dialect.RawRow> rows = new ArrayList<>();
        Header header;
        Message anchor = cached.newest();
        try (PreparedStatement ps = dialect.windowSince.prepare(
                c,
                Anchor.of(cached)
                        .set(keyParams.copy())
                        .set("since", cached.lastSeq())
                        .set("limit", limit + 1))) {
            header = readWindow(ps, pinnedRows, rows);
        }
        // One row more than the limit: more rows were added than one page holds.
        int added = pinnedRows.size() + rows.size();
        header = header.withAbove(added);
        if (header.epoch() == cached.epoch() && header.anchor() != anchor.sequence()) {
            // The newest held message is no longer stored under its number: the session was put back from an older
            // copy (a failover that lost committed transactions, a restored backup), and written again it may reuse
            // numbers with the same epoch and counts. No held message can be trusted.
            throw new StaleEntry();
        }
        if (header.epoch() != cached.epoch() || added > limit) {
            return null;
        }
        List<Message> newPinned = new ArrayList<>(pinnedRows.size());
        for (Dialect.RawRow row : pinnedRows) {
            newPinned.add(decode(key, row));
        }
        List<Message> newUnpinned = new ArrayList<>(rows.size());
        for (Dialect.RawRow row : rows) {
            newUnpinned.add(decode(key, row));
        }
        return windowFrom(c, key, keyParams, maxTokens, cutoff, cached, header, newPinned, newUnpinned);
    }

    /**
     * A window from a cache entry of the session's epoch and the messages added after its last sequence number (the
     * pinned ones ascending, the others newest first, {@code header.above()} in all); null when the session's count
     * tells that rows the entry knew of were deleted otherwise than from the head (see {@link #windowSince}).
     */
    private List<Message> windowFrom(
            Connection c,
            SessionKey key,
            Sql.Params keyParams,
            int maxTokens,
            Instant cutoff,
            WindowCache.Entry cached,
            Header header,
            List<Message> newPinned,
            List<Message> newUnpinned)
            throws SQLException {
        List<Message> held = cached.taken();
        boolean whole = cached.count() == cached.pinned().size() + held.size();
        if (header.count() - header.above() != cached.count()) {
            // Rows the entry held were deleted since. If it held the whole session and retention removed only the
            // oldest unpinned messages (no unpinned row below the session's head is left, and pinned ones are never
            // removed), the rows up to its last sequence number are its pinned ones and its own from the head on:
            // the same count means the same rows.
            held = whole ? from(held, header.head()) : null;
            if (held == null
                    || header.count() - header.above() != cached.pinned().size() + held.size()) {
                return null;
            }
        }
        List<Message> pinned = new ArrayList<>(cached.pinned());
        pinned.addAll(newPinned);
        List<Message> newest = new ArrayList<>(newUnpinned.size() + held.size());
        boolean dropped = false;
        for (Message m : newUnpinned) {
            if (expired(m, cutoff)) {
                dropped = true;
            } else {
                newest.add(m);
            }
        }
        if (cutoff == null) {
            newest.addAll(held);
        } else {
            for (Message m : held) {
                if (expired(m, cutoff)) {
                    dropped = true;
                } else {
                    newest.add(m);
                }
            }
        }
        if (dropped && !cached.exhausted() && !whole && tokens(newest) + tokens(pinned) <= maxTokens) {
            return null; // messages expired since: the budget reaches below the entry's run
        }
        Walk walk = new Walk(
                c,
                key,
                keyParams,
                cutoff,
                newest,
                List.of(),
                cached.lo(),
                FIRST_WINDOW_PAGE / 2,
                !cached.exhausted() && !whole,
                null);
        return select(key, maxTokens, header, pinned, walk, newest.size() + 1);
    }

    /** The messages of {@code newestFirst} with a sequence number of at least {@code head}: a prefix of it. */
    private static List<Message> from(List<Message> newestFirst, long head) {
        int n = 0;
        while (n < newestFirst.size() && newestFirst.get(n).sequence() >= head) {
            n++;
        }
        return newestFirst.subList(0, n);
    }

    private static long tokens(List<Message> messages) {
        long sum = 0;
        for (Message m : messages) {
            sum += ContextWindows.tokens(m);
        }
        return sum;
    }

    private static boolean expired(Message m, Instant cutoff) {
        return cutoff != null && m.timestamp().isBefore(cutoff);
    }

    /** The window rule over a walk, and the cache entry made from what it read. */
    private List<Message> select(
            SessionKey key, int maxTokens, Header header, List<Message> pinned, Walk walk, int sizeHint)
            throws SQLException {
        List<Message> window;
        try {
            window = ContextWindows.select(maxTokens, pinned, walk, sizeHint);
        } catch (UncheckedSql e) {
            throw e.getCause();
        }
        if (windowCache.enabled()) {
            remember(key, header, pinned, walk);
        }
        return window;
    }

    /**
     * A window's header row: the session's epoch (0 for none: no session row, or one from before migration 2), last
     * sequence number and message count, how many rows come after the sequence number a read asked from, the head, the
     * anchor's sequence number if its row still holds it (see {@link Dialect#anchorSeq()}), and the stamp of the row
     * with the last sequence number (0 for none).
     */
    private record Header(
            int limit, long epoch, long lastSeq, long count, long above, long head, long anchor, long lastStamp) {
        /** No header row: the session has no row. */
        static final Header NONE = new Header(0, 0, 0, 0, 0, 0, -1, 0);

        /** This header with {@code above} rows after the sequence number the read asked from. */
        Header withAbove(long above) {
            return new Header(limit, epoch, lastSeq, count, above, head, anchor, lastStamp);
        }

        static Header of(int limit, String epoch, String counters) {
            String[] parts = counters.split(" ", -1);
            return new Header(
                    limit,
                    epoch == null ? 0 : Long.parseLong(epoch),
                    Long.parseLong(parts[0]),
                    Long.parseLong(parts[1]),
                    Long.parseLong(parts[2]),
                    Long.parseLong(parts[3]),
                    Long.parseLong(parts[4]),
                    Long.parseLong(parts[5]));
        }
    }

    /**
     * Reads a window statement's rows (see {@link Dialect}): the header, then the pinned rows into {@code pinned}
     * (ascending) and the unpinned ones into {@code unpinned} (newest first), sequence numbers made positive.
     */
    private static Header readWindow(PreparedStatement ps, List<Dialect.RawRow> pinned, List<Dialect.RawRow> unpinned)
            throws SQLException {
        Header header = Header.NONE;
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long seq = rs.getLong(1);
                if (seq == 0) {
                    header = Header.of(rs.getInt(2), rs.getString(3), rs.getString(4));
                    continue;
                }
                Dialect.RawRow row = new Dialect.RawRow(Math.abs(seq), rs.getInt(2), rs.getString(3), rs.getString(4));
                (seq < 0 ? pinned : unpinned).add(row);
            }
        }
        pinned.sort(Comparator.comparingLong(Dialect.RawRow::seq));
        unpinned.sort(Comparator.comparingLong(Dialect.RawRow::seq).reversed());
        return header;
    }

    /**
     * The row limit of a window's first page where the dialect does not estimate it in the statement: with a cache
     * entry, the rows the entry says the budget takes plus {@value #NEW_ROWS_SLACK} for messages added since (a
     * window of 20 messages then reads about 37 rows, not {@value #FIRST_WINDOW_PAGE}, and one of 2,000 one page, not
     * four); else {@value #FIRST_WINDOW_PAGE}. A short estimate costs a further page, never a wrong window.
     */
    private int firstPageLimit(WindowCache.Entry cached, int maxTokens) {
        if (cached == null) {
            return FIRST_WINDOW_PAGE;
        }
        return Math.min(dialect.maxWindowPage(), cached.rowsFor(maxTokens) + NEW_ROWS_SLACK);
    }

    /**
     * Keeps what a window read: the newest unpinned messages it took, a contiguous run, and the pinned messages, so
     * that the entry holds every row from the oldest message of the run to the newest row read, with the header's
     * last sequence number and count, and whether the walk reached the session's oldest message.
     */
    private void remember(SessionKey key, Header header, List<Message> pinned, Walk walk) {
        List<Message> taken = walk.taken;
        if (header.epoch() == 0 || taken.isEmpty()) {
            windowCache.remove(key);
            return;
        }
        long lo = taken.get(taken.size() - 1).sequence();
        long hi = taken.get(0).sequence();
        for (Message m : pinned) {
            hi = Math.max(hi, m.sequence());
        }
        // The stamp of the newest held message, which the header gives when it is the session's last one (else 0:
        // unknown, and the entry's anchor is checked by its number and id, without the stamp).
        long stamp = hi == header.lastSeq() ? header.lastStamp() : 0;
        windowCache.put(
                key,
                new WindowCache.Range(header.epoch(), lo, hi, header.lastSeq(), header.count(), walk.exhausted, stamp),
                pinned,
                taken);
    }

    /**
     * The cache entry is stale: a row sent without its text that it does not hold (the session was deleted and created
     * again), or its newest message no longer stored under its number (the session was put back from an older copy).
     */
    private static final class StaleEntry extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StaleEntry() {
            super(null, null, false, false);
        }
    }

    /** A walk without a connection needed a row below the messages it was given. */
    private static final class BeyondHeld extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BeyondHeld() {
            super(null, null, false, false);
        }
    }

    /** The message of a row: decoded from its text, or, for a row sent without text, the entry's. */
    private static Message decode(SessionKey key, Dialect.RawRow row, WindowCache.Entry cached) {
        if (row.body() != null) {
            return decode(key, row);
        }
        Message m = cached == null ? null : cached.message(row.seq());
        if (m == null || m.tokenCount().isEmpty() || m.tokenCount().get().tokens() != row.tokens()) {
            throw new StaleEntry();
        }
        return m;
    }

    /**
     * The unpinned messages newest first, read a page at a time (each page twice the last, up to the dialect's
     * {@link Dialect#maxWindowPage()}) and decoded only when the window rule takes them.
     */
    private final class Walk implements Iterator<Message> {
        private final Connection connection;
        private final SessionKey key;
        private final Sql.Params keyParams;
        private final boolean live;
        private final List<Message> ready;
        private int nextReady;
        private List<Dialect.RawRow> page;
        private int next;
        private long before;
        private int pageLimit;
        private boolean more;
        private final WindowCache.Entry cached;
        /** The messages handed out, newest first. */
        final List<Message> taken;
        /** Whether the walk found no message older than the last it handed out. */
        boolean exhausted;

        /**
         * @param ready decoded messages to hand out first, newest first
         * @param first then the rows of a page read, newest first
         * @param before the sequence number the next page reads below
         * @param limit the row limit of the last page read
         * @param more whether rows may remain below {@code before}
         * @param cached the entry whose messages rows sent without text are, or null
         * @param c the connection further pages are read on; null for none ({@link BeyondHeld} when one is needed)
         */
        Walk(
                Connection c,
                SessionKey key,
                Sql.Params keyParams,
                Instant cutoff,
                List<Message> ready,
                List<Dialect.RawRow> first,
                long before,
                int limit,
                boolean more,
                WindowCache.Entry cached) {
            this.cached = cached;
            this.connection = c;
            this.key = key;
            this.keyParams = keyParams;
            this.live = cutoff != null;
            this.ready = ready;
            this.taken = new ArrayList<>(ready.size() + first.size() + 1);
            this.page = first;
            this.before = before;
            this.pageLimit = limit;
            this.more = more;
        }

        @Override
        public boolean hasNext() {
            if (nextReady < ready.size() || next < page.size()) {
                return true;
            }
            if (!more) {
                exhausted = true;
                return false;
            }
            if (connection == null) {
                throw new BeyondHeld();
            }
            try {
                pageLimit = (int) Math.min(dialect.maxWindowPage(), pageLimit * 2L);
                List<Dialect.RawRow> rows = new ArrayList<>(pageLimit);
                try (PreparedStatement ps = (live ? dialect.windowNextLive : dialect.windowNext)
                                .prepare(
                                        connection,
                                        keyParams.copy().set("before", before).set("limit", pageLimit));
                        ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(raw(rs, 1));
                    }
                }
                page = rows;
                next = 0;
                more = rows.size() == pageLimit;
                if (rows.isEmpty()) {
                    exhausted = true;
                    return false;
                }
                before = rows.get(rows.size() - 1).seq();
                return true;
            } catch (SQLException e) {
                throw new UncheckedSql(e);
            }
        }

        @Override
        public Message next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Message m = nextReady < ready.size() ? ready.get(nextReady++) : decode(key, page.get(next++), cached);
            taken.add(m);
            return m;
        }
    }

    /** An {@link SQLException} through an interface that cannot throw it. */
    private static final class UncheckedSql extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UncheckedSql(SQLException cause) {
            super(cause);
        }

        @Override
        public synchronized SQLException getCause() {
            return (SQLException) super.getCause();
        }
    }

    /** How many messages a session holds, expired ones excluded. */
    public long count(SessionKey key) {
        Instant cutoff = expiryCutoff();
        return run("count the messages of", key, false, c -> {
            Sql.Params params = keyParams(key);
            Sql sql = dialect.count;
            if (cutoff != null) {
                params.instant("cutoff", cutoff);
                sql = dialect.countLive;
            }
            try (PreparedStatement ps = sql.prepare(c, params);
                    ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0L;
            }
        });
    }

    /** The keys of a (valid) tenant's sessions that hold live messages, sorted. */
    public List<SessionKey> sessions(String tenant) {
        Instant cutoff = expiryCutoff();
        return run("list the sessions of tenant", null, false, c -> {
            Sql.Params params = new Sql.Params().set("tenant", tenant);
            Sql sql = dialect.sessions;
            if (cutoff != null) {
                params.instant("cutoff", cutoff);
                sql = dialect.sessionsLive;
            }
            List<SessionKey> keys = new ArrayList<>();
            try (PreparedStatement ps = sql.prepare(c, params);
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    keys.add(new SessionKey(tenant, rs.getString(1), rs.getString(2)));
                }
            }
            keys.sort(null);
            return List.copyOf(keys);
        });
    }

    // ---- helpers

    private static Sql.Params keyParams(SessionKey key) {
        return new Sql.Params()
                .set("tenant", key.tenant())
                .set("session", key.session())
                .set("scope", key.scope());
    }

    private static Dialect.RawRow raw(ResultSet rs, int first) throws SQLException {
        return new Dialect.RawRow(
                rs.getLong(first), rs.getInt(first + 1), rs.getString(first + 2), rs.getString(first + 3));
    }

    private static Message decode(SessionKey key, Dialect.RawRow row) {
        try {
            return MessageJson.fromJson(row.body()).stored(row.seq(), new TokenCount(row.tokens(), row.counter()));
        } catch (IntegrityException e) {
            throw new IntegrityException(
                    "stored message " + row.seq() + " of " + key + " is damaged: " + e.getMessage());
        } catch (io.agentmemory.InvalidInputException e) {
            throw new IntegrityException(
                    "stored message " + row.seq() + " of " + key + " has an invalid token count: " + e.getMessage());
        }
    }

    /** Messages with a timestamp before this are expired, rounded up to the microsecond; null without a max age. */
    private Instant expiryCutoff() {
        if (retention.maxAge().isEmpty()) {
            return null;
        }
        Instant cutoff;
        try {
            cutoff = ceilMicros(
                    context.clock().instant().minus(retention.maxAge().get()));
        } catch (java.time.DateTimeException | ArithmeticException e) {
            return null; // before the first representable instant: nothing has expired
        }
        if (!cutoff.isAfter(MIN_TIMESTAMP)) {
            return null;
        }
        return cutoff.isAfter(MAX_TIMESTAMP) ? MAX_TIMESTAMP.plus(1, ChronoUnit.MICROS) : cutoff;
    }

    /**
     * {@code t} rounded up to the microsecond. Timestamps are stored to the microsecond, so for a stored {@code ts}:
     * {@code ts < t} exactly when {@code ts < ceilMicros(t)}, and {@code ts >= t} exactly when {@code ts >=
     * ceilMicros(t)}.
     */
    static Instant ceilMicros(Instant t) {
        Instant down = t.truncatedTo(ChronoUnit.MICROS);
        return down.equals(t) ? t : down.plus(1, ChronoUnit.MICROS);
    }

    /**
     * Runs {@code work} on a pooled connection, in a transaction if asked, retrying transient failures and
     * unique-key conflicts with concurrent writers.
     */
    private <T> T run(String operation, SessionKey key, boolean transaction, Dialect.SqlWork<T> work) {
        int attempt = 0;
        int conflicts = 0;
        while (true) {
            attempt++;
            Connection c;
            try {
                c = dataSource.getConnection();
            } catch (SQLException e) {
                throw failure(operation, key, e, attempt, false);
            }
            try {
                T result;
                Connection statements = dialect.reusingStatements(c);
                if (transaction) {
                    c.setAutoCommit(false);
                    try {
                        result = work.run(statements);
                        c.commit();
                    } catch (Throwable e) {
                        // An Error too (a listener's, say): closing the connection would otherwise commit the
                        // transaction, since turning autocommit back on commits one that is open.
                        PostgresDialect.rollBackQuietly(c, e);
                        throw e;
                    }
                } else {
                    result = work.run(statements);
                }
                return result;
            } catch (SQLException e) {
                if (closed.getAsBoolean()) {
                    throw BackendSupport.closed("jdbc memory");
                }
                if (dialect.isConflict(e) && ++conflicts <= MAX_CONFLICT_RETRIES) {
                    attempt--;
                    continue;
                }
                if (dialect.exceedsLimit(e)) {
                    throw tooLarge(operation, key, e);
                }
                boolean transientFailure = dialect.isTransient(e);
                if (transientFailure && attempt < ATTEMPTS) {
                    pause(attempt);
                    continue;
                }
                throw failure(operation, key, e, attempt, true);
            } finally {
                close(c);
            }
        }
    }

    private static void close(Connection c) {
        try {
            if (!c.isClosed() && !c.getAutoCommit()) {
                c.setAutoCommit(true);
            }
        } catch (SQLException ignored) {
            // the pool discards a broken connection
        }
        try {
            c.close();
        } catch (SQLException ignored) {
            // returning a connection to the pool does not fail in a way the caller could act on
        }
    }

    private static void pause(int attempt) {
        try {
            Thread.sleep(25L << (2 * (attempt - 1))); // 25, 100, 400 ms
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private MemoryException failure(String operation, SessionKey key, SQLException e, int attempts, boolean inWork) {
        if (closed.getAsBoolean()) {
            return BackendSupport.closed("jdbc memory");
        }
        boolean transientFailure = dialect.isTransient(e);
        String what = "the " + dialect.name() + " database failed to " + operation
                + (key == null ? "" : " " + key) + " (SQLState " + e.getSQLState() + ", "
                + (inWork ? attempts + (attempts == 1 ? " attempt" : " attempts") : "no connection from the pool")
                + ")";
        String advice = transientFailure
                ? "; it may be unreachable or restarting. Whether a write took effect is unknown: retrying it with"
                        + " the same messages (the same ids) is safe"
                : "; this is not a transient failure";
        return new BackendUnavailableException(what + advice, transientFailure ? e : redacted(e));
    }

    /**
     * A write the database refused because a value exceeds one of its limits: in practice the ids of a message, whose
     * index entries hold the tenant, session id and scope with the message id (or tool call id), and which PostgreSQL
     * cannot index beyond 2,704 bytes. Invalid input: the same write fails on every attempt, and nothing was written.
     */
    private InvalidInputException tooLarge(String operation, SessionKey key, SQLException e) {
        return new InvalidInputException(
                ErrorCode.INVALID_MESSAGE,
                "the " + dialect.name() + " database cannot " + operation + (key == null ? "" : " " + key)
                        + ": a value exceeds one of its limits (SQLState " + e.getSQLState() + "), most likely an"
                        + " index entry: the UTF-8 of the tenant, session id and scope together with a message id or"
                        + " tool call id must fit in 2,704 bytes. Nothing was written; use shorter ids");
    }

    /** {@code e} without its message, which may quote stored values; its state, code and stack trace kept. */
    private static SQLException redacted(SQLException e) {
        SQLException r = new SQLException(
                e.getClass().getName() + " (message withheld: drivers may quote stored values)",
                e.getSQLState(),
                e.getErrorCode());
        r.setStackTrace(e.getStackTrace());
        return r;
    }
}
