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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides which unpinned messages of one session retention removes, with the rules of memory-core's in-memory
 * {@code SessionState}: in the order EXPIRED, OVERFLOW, SIZE, TOKENS; a tool-call group (an assistant message and the
 * newest stored, unpinned tool message answering each of its calls) removed whole; SIZE and TOKENS never remove the
 * last group. It reads only headers (sequence, tokens, tool-call fields), oldest first, a page at a time, and only as
 * far as the limits need; the caller deletes the planned rows. Runs inside the writing transaction, which holds the
 * session's row lock, so nothing changes under it. Not thread-safe.
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

    /** For each call id looked up: the newest unpinned tool message answering it, or null. */
    private final Map<String, Header> answers = new HashMap<>();

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
            while (count > max && groupSize(head()) < count) {
                removeGroup(head(), RemovalCause.SIZE);
            }
        }
        if (retention.maxTokens().isPresent()) {
            long max = retention.maxTokens().getAsLong();
            while (tokens > max && groupSize(head()) < count) {
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
        for (Header h : expired) {
            remove(h, RemovalCause.EXPIRED);
        }
        loadAnswers(expired);
        for (Header h : expired) {
            removeAnswers(h, RemovalCause.EXPIRED);
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
        loadAnswers(page);
        pageSize = Math.min(MAX_PAGE, pageSize * 2);
    }

    /** Looks up (in one query where arrays use indexes) the answers to the calls of {@code headers} not looked up yet. */
    private void loadAnswers(List<Header> headers) throws SQLException {
        Set<String> calls = new HashSet<>();
        for (Header h : headers) {
            if (h.callIds() != null) {
                for (String call : h.callIds()) {
                    if (!answers.containsKey(call)) {
                        calls.add(call);
                    }
                }
            }
        }
        if (calls.isEmpty()) {
            return;
        }
        for (String call : calls) {
            answers.put(call, null);
        }
        dialect.queryEach(
                connection, dialect.answers, dialect.answersOne, key, "calls", calls.toArray(String[]::new), rs -> {
                    Header h = header(rs);
                    Header known = answers.get(h.toolCallId());
                    if (known == null || known.seq() < h.seq()) {
                        answers.put(h.toolCallId(), h);
                    }
                });
    }

    /** How many messages removing {@code h}'s group takes. */
    private int groupSize(Header h) {
        int n = 1;
        if (h.callIds() != null) {
            for (String call : h.callIds()) {
                Header answer = answers.get(call);
                if (answer != null && !removed.containsKey(answer.seq())) {
                    n++;
                }
            }
        }
        return n;
    }

    private void removeGroup(Header h, RemovalCause cause) {
        remove(h, cause);
        removeAnswers(h, cause);
    }

    private void removeAnswers(Header h, RemovalCause cause) {
        if (h.callIds() != null) {
            for (String call : h.callIds()) {
                Header answer = answers.get(call);
                if (answer != null && !removed.containsKey(answer.seq())) {
                    remove(answer, cause);
                }
            }
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
