package io.agentmemory.jdbc.internal;

import io.agentmemory.IntegrityException;
import io.agentmemory.RemovalCause;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Decides which unpinned messages of one session retention removes, with the rules of memory-core's in-memory
 * {@code SessionState}: in the order EXPIRED, OVERFLOW, SIZE, TOKENS; a tool-call group removed whole; SIZE and
 * TOKENS never remove the newest message, and stop when the oldest group holds it (a tool result may arrive after
 * other messages, so the oldest group can hold the newest message while others lie between), even if the session
 * stays above its limit. It reads only headers (sequence, tokens, tool-call fields), oldest first, a page at a time,
 * and only as far as the limits need; the caller deletes the planned rows. Runs inside the writing transaction, which
 * holds the session's row lock, so nothing changes under it. Not thread-safe.
 *
 * <p>A tool-call group is an assistant message and, for each of its calls, the tool message in that call's group:
 * a tool message answers the newest unpinned assistant message stored before it that made its call (call ids repeat
 * across replies: some model servers number every reply's calls {@code call_0, call_1, ...}), and of several answering
 * one call of one assistant message, the newest is the one in the group. So the tool message in the group of call
 * {@code c} of the assistant message at sequence {@code a} is the newest unpinned tool message answering {@code c}
 * with a sequence number in {@code (a, next)}, where {@code next} is the next unpinned assistant message after
 * {@code a} that made call {@code c} (or none). Groups are worked out on the session as stored when the plan starts
 * (rows planned for removal included, as they are still stored), and when a group's tool message is planned for
 * removal already (an expired tool message, say), the newest older tool message of the group takes its place, as in
 * the in-memory backend. Each is found with at
 * most three bounded lookups per call, whatever the session's length:
 *
 * <ol>
 *   <li>the newest unpinned tool message answering {@code c} after {@code a}: one probe of the index
 *       {@code messages_tool_call_seq (tenant, session_id, scope, tool_call_id, seq)}, read backwards from its end
 *       ({@link Dialect#newestAnswer}); none, and the call has no tool message in its group;
 *   <li>the next assistant message that made call {@code c}, between {@code a} and that tool message (no index holds
 *       {@code call_ids}): first among the headers already loaded, which the pages cover without gaps from the
 *       session's head, by a map from call id to the loaded assistant messages making it; beyond the loaded pages,
 *       a range scan of the session's unpinned rows from the last loaded sequence number up to that tool message,
 *       which stops at the first match ({@link Dialect#firstCaller}). It reads at most the rows between the call and
 *       the newest tool message with its id, usually none (a tool result follows its call, within the loaded page),
 *       and with repeated ids only as far as the next reply that makes the call again. Scanning the session's rows
 *       for call ids from the other end, or looking up every answer with the call's id (as this class once did), would
 *       cost as many rows as the session holds replies with that id;
 *   <li>if there is one, the newest tool message answering {@code c} before it: the same index probe, bounded above.
 * </ol>
 *
 * <p>Whether the oldest group holds the newest message is decided from the loaded headers, or else by the next
 * unpinned header after the group's newest tool message ({@link Dialect#headersAfter} with one row).
 *
 * <p>The rule is over what is stored, as in every backend: when a newer assistant message with the same call id, or
 * the newer of two tool messages answering one call, was removed in an earlier write while the older one stayed
 * (which only {@link io.agentmemory.Retention#maxAge()} over out-of-order timestamps does), the older one takes its
 * place.
 */
final class RetentionPlan {
    private static final int MAX_PAGE = 4096;

    /** A message's retention header. */
    record Header(long seq, int tokens, String toolCallId, String[] callIds) {}

    private final Connection connection;
    private final Dialect dialect;
    private final Sql.Params key;
    private final SessionKey sessionKey;

    private long count;
    private long tokens;
    private final Map<Long, RemovalCause> removed = new LinkedHashMap<>();

    private final List<Header> loaded = new ArrayList<>();
    private int head;
    /** No unpinned message has a lower sequence number; where the first page starts. */
    private final long start;

    private long lastLoaded;
    private boolean exhausted;
    private int pageSize = 16;

    /** For each call id, the loaded assistant messages (removed ones included) that made it, by sequence. */
    private final Map<String, TreeSet<Long>> callers = new HashMap<>();
    /** For each assistant message looked up: the tool message in the group of each of its calls, as stored. */
    private final Map<Long, List<Header>> groups = new HashMap<>();

    /**
     * @param unpinnedCount the session's unpinned messages, after the write
     * @param unpinnedTokens their tokens
     * @param head the session's head: no unpinned message has a lower sequence number (0 if unknown). Pages start
     *     there, not at the first row of the session: with the oldest messages deleted again and again, an index
     *     scan from the session's first key passes every deleted entry the database has not cleaned up yet.
     */
    RetentionPlan(
            Connection connection,
            Dialect dialect,
            Sql.Params key,
            SessionKey sessionKey,
            long unpinnedCount,
            long unpinnedTokens,
            long head) {
        this.start = Math.max(0, head);
        this.lastLoaded = Math.max(0, head - 1);
        this.connection = connection;
        this.dialect = dialect;
        this.key = key;
        this.sessionKey = sessionKey;
        this.count = unpinnedCount;
        this.tokens = unpinnedTokens;
    }

    /** Whether anything beyond expiry may need removing. */
    static boolean overLimits(Retention retention, long unpinnedCount, long unpinnedTokens) {
        return retention.overflow().map(o -> unpinnedCount > o.maxSize()).orElse(false)
                || (retention.maxMessages().isPresent()
                        && unpinnedCount > retention.maxMessages().getAsInt())
                || (retention.maxTokens().isPresent()
                        && unpinnedTokens > retention.maxTokens().getAsLong());
    }

    /**
     * Plans the removals.
     *
     * @param expiryCutoff messages with a timestamp before this are expired; null to skip expiry
     */
    void apply(Retention retention, Instant expiryCutoff) throws SQLException {
        if (expiryCutoff != null) {
            expire(expiryCutoff);
        }
        if (retention.overflow().isPresent()) {
            Retention.Overflow overflow = retention.overflow().get();
            if (count > overflow.maxSize()) {
                pageSize = (int) Math.min(MAX_PAGE, Math.max(16, count - overflow.keep() + 1));
                while (count > overflow.keep()) {
                    removeGroup(head(), RemovalCause.OVERFLOW);
                }
            }
        }
        if (retention.maxMessages().isPresent()) {
            int max = retention.maxMessages().getAsInt();
            if (count > max) {
                pageSize = (int) Math.min(MAX_PAGE, Math.max(pageSize, count - max + 1));
            }
            while (count > max && !holdsNewest(head())) {
                removeGroup(head(), RemovalCause.SIZE);
            }
        }
        if (retention.maxTokens().isPresent()) {
            long max = retention.maxTokens().getAsLong();
            while (tokens > max && !holdsNewest(head())) {
                removeGroup(head(), RemovalCause.TOKENS);
            }
        }
    }

    /** The planned removals by sequence, each with its cause. */
    Map<Long, RemovalCause> removed() {
        return removed;
    }

    /**
     * The session's head once the removals are made: the first loaded message not removed, or past every loaded
     * one; the old head if nothing was loaded (every unpinned message at or above it remains, or was removed).
     */
    long newHead() {
        for (Header h : loaded) {
            if (!removed.containsKey(h.seq())) {
                return h.seq();
            }
        }
        return loaded.isEmpty() ? start : lastLoaded + 1;
    }

    /** The session's unpinned messages once the removals are made. */
    long unpinnedCount() {
        return count;
    }

    /** Their tokens. */
    long unpinnedTokens() {
        return tokens;
    }

    private void expire(Instant cutoff) throws SQLException {
        List<Header> expired = new ArrayList<>();
        try (PreparedStatement ps =
                        dialect.expiredHeaders.prepare(connection, copyKey().instant("cutoff", cutoff));
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                expired.add(header(rs));
            }
        }
        if (expired.isEmpty()) {
            return;
        }
        // The groups as stored, before any removal: an expired message's tool messages go with it.
        List<List<Header>> results = new ArrayList<>(expired.size());
        for (Header h : expired) {
            results.add(group(h));
        }
        for (Header h : expired) {
            remove(h, RemovalCause.EXPIRED);
        }
        for (List<Header> group : results) {
            for (Header answer : group) {
                if (!removed.containsKey(answer.seq())) {
                    remove(answer, RemovalCause.EXPIRED);
                }
            }
        }
    }

    /** The oldest unpinned message not yet removed. */
    private Header head() throws SQLException {
        while (true) {
            while (head < loaded.size()) {
                Header h = loaded.get(head);
                if (!removed.containsKey(h.seq())) {
                    return h;
                }
                head++;
            }
            if (exhausted) {
                throw new IntegrityException("the counters of " + sessionKey + " say " + count
                        + " unpinned messages remain, but no more are stored; the sessions table disagrees with"
                        + " the messages table");
            }
            loadPage();
        }
    }

    private void loadPage() throws SQLException {
        List<Header> page = new ArrayList<>();
        try (PreparedStatement ps = dialect.headersAfter.prepare(
                        connection, copyKey().set("after", lastLoaded).set("limit", pageSize));
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                page.add(header(rs));
            }
        }
        exhausted = page.size() < pageSize;
        if (!page.isEmpty()) {
            lastLoaded = page.get(page.size() - 1).seq();
        }
        loaded.addAll(page);
        for (Header h : page) {
            if (h.callIds() != null) {
                for (String call : h.callIds()) {
                    callers.computeIfAbsent(call, c -> new TreeSet<>()).add(h.seq());
                }
            }
        }
        pageSize = Math.min(MAX_PAGE, pageSize * 2);
    }

    /**
     * The tool messages in {@code h}'s group as stored when the plan started, one for each of its calls that has one
     * (those planned for removal included).
     */
    private List<Header> group(Header h) throws SQLException {
        if (h.callIds() == null || h.callIds().length == 0) {
            return List.of();
        }
        List<Header> known = groups.get(h.seq());
        if (known != null) {
            return known;
        }
        List<Header> results = new ArrayList<>(h.callIds().length);
        for (String call : new LinkedHashSet<>(List.of(h.callIds()))) {
            Header answer = answerOf(h.seq(), call);
            if (answer != null) {
                results.add(answer);
            }
        }
        groups.put(h.seq(), results);
        return results;
    }

    /**
     * The tool message in the group of call {@code call} of the assistant message at {@code assistant}: the newest
     * unpinned one answering it before the next assistant message that made the call; or null.
     */
    private Header answerOf(long assistant, String call) throws SQLException {
        Header newest = newestAnswer(call, assistant, Long.MAX_VALUE);
        if (newest == null || newest.seq() == assistant + 1) {
            return newest;
        }
        long next = firstCaller(call, assistant, newest.seq());
        return next < 0 ? newest : newestAnswer(call, assistant, next);
    }

    /** The newest unpinned tool message answering {@code call} with a sequence number in {@code (after, before)}. */
    private Header newestAnswer(String call, long after, long before) throws SQLException {
        try (PreparedStatement ps = dialect.newestAnswer.prepare(
                        connection,
                        copyKey().set("call", call).set("after", after).set("before", before));
                ResultSet rs = ps.executeQuery()) {
            return rs.next() ? header(rs) : null;
        }
    }

    /**
     * The sequence number of the first unpinned assistant message not planned for removal yet that made call
     * {@code call} with a sequence number in {@code (after, before)}, or -1. One planned for removal earlier in the plan
     * (expired) passes its tool messages to the caller before it, as in the in-memory backend; groups worked out
     * before any removal (those of expired messages) count every stored caller.
     */
    private long firstCaller(String call, long after, long before) throws SQLException {
        long from = after;
        while (true) {
            long found = firstStoredCaller(call, from, before);
            if (found < 0 || !removed.containsKey(found)) {
                return found;
            }
            from = found;
        }
    }

    /**
     * The sequence number of the first unpinned assistant message (planned for removal or not) that made call
     * {@code call} with a sequence number in {@code (after, before)}, or -1: from the loaded headers, which cover
     * every unpinned message up to {@link #lastLoaded}, and beyond them from a range scan bounded by {@code before}.
     */
    private long firstStoredCaller(String call, long after, long before) throws SQLException {
        TreeSet<Long> loadedCallers = callers.get(call);
        Long found = loadedCallers == null ? null : loadedCallers.higher(after);
        if (found != null && found < before) {
            return found;
        }
        long from = Math.max(after, lastLoaded);
        if (exhausted || from + 1 >= before) {
            return -1;
        }
        try (PreparedStatement ps = dialect.firstCaller.prepare(
                        connection,
                        copyKey().set("call", call).set("after", from).set("before", before));
                ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }

    /**
     * The tool messages of {@code h}'s group not planned for removal: for each call, its tool message, or, when that
     * one is planned for removal already, the newest older one of the group that is not.
     */
    private List<Header> remainingGroup(Header h) throws SQLException {
        List<Header> results = new ArrayList<>();
        for (Header answer : group(h)) {
            Header current = answer;
            while (current != null && removed.containsKey(current.seq())) {
                current = newestAnswer(current.toolCallId(), h.seq(), current.seq());
            }
            if (current != null) {
                results.add(current);
            }
        }
        return results;
    }

    /**
     * Whether the group of {@code h}, the oldest message not removed, holds the newest unpinned message not removed,
     * which {@link Retention#maxMessages()} and {@link Retention#maxTokens()} never remove.
     */
    private boolean holdsNewest(Header h) throws SQLException {
        if (count <= 1) {
            return true;
        }
        List<Header> results = remainingGroup(h);
        if (results.isEmpty()) {
            return false;
        }
        if (1 + results.size() >= count) {
            return true;
        }
        long newestOfGroup = 0;
        for (Header answer : results) {
            newestOfGroup = Math.max(newestOfGroup, answer.seq());
        }
        return !remainsAfter(newestOfGroup);
    }

    /** Whether an unpinned message not planned for removal has a sequence number above {@code seq}. */
    private boolean remainsAfter(long seq) throws SQLException {
        for (int i = loaded.size() - 1; i >= 0 && loaded.get(i).seq() > seq; i--) {
            if (!removed.containsKey(loaded.get(i).seq())) {
                return true;
            }
        }
        if (exhausted) {
            return false;
        }
        long after = Math.max(seq, lastLoaded);
        while (true) {
            try (PreparedStatement ps = dialect.headersAfter.prepare(
                            connection, copyKey().set("after", after).set("limit", 1));
                    ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
                after = rs.getLong(1);
            }
            if (!removed.containsKey(after)) {
                return true;
            }
        }
    }

    private void removeGroup(Header h, RemovalCause cause) throws SQLException {
        List<Header> results = remainingGroup(h);
        remove(h, cause);
        for (Header answer : results) {
            remove(answer, cause);
        }
    }

    private void remove(Header h, RemovalCause cause) {
        removed.put(h.seq(), cause);
        count--;
        tokens -= h.tokens();
    }

    private Sql.Params copyKey() {
        return key.copy();
    }

    private static Header header(ResultSet rs) throws SQLException {
        return new Header(rs.getLong(1), rs.getInt(2), rs.getString(3), Dialect.strings(rs, 4));
    }
}
