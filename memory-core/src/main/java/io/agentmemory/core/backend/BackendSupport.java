package io.agentmemory.core.backend;

import io.agentmemory.ErrorCode;
import io.agentmemory.EvictionListener;
import io.agentmemory.HistoryQuery;
import io.agentmemory.InvalidInputException;
import io.agentmemory.MemoryException;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.SessionKey;
import io.agentmemory.TokenCount;
import io.agentmemory.TokenCounter;
import io.agentmemory.internal.Checks;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The checks and callbacks every backend performs the same way, so that all of them reject the same input with the
 * same errors and guard user callbacks alike. For backend authors. Thread-safe (stateless).
 */
public final class BackendSupport {
    private BackendSupport() {}

    /** Fails with {@link ErrorCode#INVALID_SESSION_KEY} if {@code key} is null. */
    public static SessionKey requireKey(SessionKey key) {
        if (key == null) {
            throw new InvalidInputException(ErrorCode.INVALID_SESSION_KEY, "session key is missing");
        }
        return key;
    }

    /** Fails with {@link ErrorCode#INVALID_MESSAGE} if {@code message} is null. */
    public static Message requireMessage(Message message) {
        return Checks.message(message);
    }

    /** Fails with {@link ErrorCode#INVALID_QUERY} if {@code query} is null. */
    public static HistoryQuery requireQuery(HistoryQuery query) {
        if (query == null) {
            throw new InvalidInputException(ErrorCode.INVALID_QUERY, "history query is missing");
        }
        return query;
    }

    /**
     * Checks a batch for {@code addAll}: the list and every element present, no id twice.
     *
     * @return an immutable copy
     * @throws InvalidInputException with {@link ErrorCode#INVALID_MESSAGE} naming the first problem
     */
    public static List<Message> checkBatch(List<Message> messages) {
        if (messages == null) {
            throw new InvalidInputException(ErrorCode.INVALID_MESSAGE, "message list is missing");
        }
        List<Message> batch = new ArrayList<>(messages.size());
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < messages.size(); i++) {
            Message m = messages.get(i);
            if (m == null) {
                throw new InvalidInputException(
                        ErrorCode.INVALID_MESSAGE, "message " + i + " of the list is missing; nothing was written");
            }
            if (!ids.add(m.id())) {
                throw new InvalidInputException(
                        ErrorCode.INVALID_MESSAGE,
                        "message id " + m.id() + " appears twice in the list; nothing was written");
            }
            batch.add(m);
        }
        return List.copyOf(batch);
    }

    /**
     * The token count to store for {@code m}: the one it carries if {@code counter} made it, else a new count. A
     * counter that throws, returns a negative count or has an id that a {@link TokenCount} cannot carry fails with
     * {@link ErrorCode#CALLBACK_FAILED}.
     */
    public static TokenCount countTokens(TokenCounter counter, Message m) {
        return countTokens(counter, counterId(counter), m);
    }

    /** {@link #countTokens(TokenCounter, Message)} with the counter's id, read and checked once for a batch. */
    private static TokenCount countTokens(TokenCounter counter, String counterId, Message m) {
        if (m.tokenCount().isPresent() && m.tokenCount().get().counterId().equals(counterId)) {
            return m.tokenCount().get();
        }
        int tokens;
        try {
            tokens = counter.count(m);
        } catch (RuntimeException failure) {
            throw new MemoryException(
                    ErrorCode.CALLBACK_FAILED,
                    "token counter " + counterId + " threw "
                            + failure.getClass().getName() + " on message " + m.id() + "; nothing was written",
                    failure);
        }
        if (tokens < 0) {
            throw new MemoryException(
                    ErrorCode.CALLBACK_FAILED,
                    "token counter " + counterId + " returned " + tokens + " for message " + m.id()
                            + "; counts must be >= 0; nothing was written");
        }
        return new TokenCount(tokens, counterId);
    }

    /** The counter's id, checked as a {@link TokenCount} checks it. */
    private static String counterId(TokenCounter counter) {
        String id;
        try {
            id = counter.id();
        } catch (RuntimeException failure) {
            throw new MemoryException(
                    ErrorCode.CALLBACK_FAILED,
                    "token counter " + counter.getClass().getName() + " threw "
                            + failure.getClass().getName() + " from id(); nothing was written",
                    failure);
        }
        try {
            new TokenCount(0, id);
        } catch (InvalidInputException invalid) {
            throw new MemoryException(
                    ErrorCode.CALLBACK_FAILED,
                    "token counter " + counter.getClass().getName() + " has an unusable id: " + invalid.getMessage()
                            + "; nothing was written");
        }
        return id;
    }

    /** {@link #countTokens(TokenCounter, Message)} for each message, in order. */
    public static List<TokenCount> countTokens(TokenCounter counter, List<Message> messages) {
        List<TokenCount> counts = new ArrayList<>(messages.size());
        if (messages.isEmpty()) {
            return counts;
        }
        String counterId = counterId(counter);
        for (Message m : messages) {
            counts.add(countTokens(counter, counterId, m));
        }
        return counts;
    }

    /**
     * Hands removals to {@code listener}, cause by cause in the order of {@code removed} (use an
     * {@link java.util.EnumMap} for the documented order), skipping empty lists. A listener that throws fails with
     * {@link ErrorCode#CALLBACK_FAILED}; the caller must then undo the operation.
     */
    public static void report(EvictionListener listener, SessionKey key, Map<RemovalCause, List<Message>> removed) {
        for (Map.Entry<RemovalCause, List<Message>> e : removed.entrySet()) {
            report(listener, key, e.getValue(), e.getKey());
        }
    }

    /** Hands one cause's removals to {@code listener}; see {@link #report(EvictionListener, SessionKey, Map)}. */
    public static void report(EvictionListener listener, SessionKey key, List<Message> removed, RemovalCause cause) {
        if (removed.isEmpty()) {
            return;
        }
        try {
            listener.onRemoval(key, List.copyOf(removed), cause);
        } catch (RuntimeException failure) {
            throw new MemoryException(
                    ErrorCode.CALLBACK_FAILED,
                    "the eviction listener threw " + failure.getClass().getName() + " on " + removed.size()
                            + " messages removed for " + cause + " from " + key + "; the operation was not applied",
                    failure);
        }
    }

    /**
     * Applies a history query to a session's messages walked newest first: filters, then {@code offset} and
     * {@code limit} counted back from the newest match; the result is chronological. The walk is consumed only as
     * far as needed, so without filters a read costs O(offset + limit).
     */
    public static List<Message> history(HistoryQuery query, Iterator<Message> newestFirst) {
        int limit = query.limit().orElse(Integer.MAX_VALUE);
        if (limit == 0) {
            return List.of();
        }
        List<Message> out = new ArrayList<>(Math.min(limit, 64));
        int skipped = 0;
        while (newestFirst.hasNext()) {
            Message m = newestFirst.next();
            if (!query.matches(m)) {
                continue;
            }
            if (skipped < query.offset()) {
                skipped++;
                continue;
            }
            out.add(m);
            if (out.size() == limit) {
                break;
            }
        }
        Collections.reverse(out);
        return Collections.unmodifiableList(out);
    }

    /** The error for any call on a closed memory. */
    public static MemoryException closed(String what) {
        return new MemoryException(ErrorCode.CLOSED, "this " + what + " is closed; create a new one");
    }
}
