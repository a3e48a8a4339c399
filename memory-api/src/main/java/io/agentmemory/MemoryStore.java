package io.agentmemory;

import java.util.List;

/**
 * One session's messages. Implementations are thread-safe: any number of threads and processes may append and read
 * one session at once; appends lose nothing and every reader sees the same total order, the order of
 * {@link Message#sequence()}.
 *
 * <p>Every method validates its input and throws {@link InvalidInputException} before changing anything. A write
 * either happens completely or throws.
 */
public interface MemoryStore {
    /** The session this store reads and writes. */
    SessionKey key();

    /**
     * Appends one message. The cost does not grow with the history: one round trip to the backend. The store
     * assigns the next sequence number and counts the tokens once (unless the message already carries a count from
     * the store's counter), then applies retention.
     *
     * @return the message as stored, with its sequence and token count
     */
    Message add(Message message);

    /**
     * Appends messages atomically, in the given order: afterwards either all are stored, consecutively, or none.
     *
     * @return the messages as stored
     */
    List<Message> addAll(List<Message> messages);

    /** The messages selected by {@code query}, in chronological order. */
    List<Message> history(HistoryQuery query);

    /** The whole history, in chronological order. */
    default List<Message> history() {
        return history(HistoryQuery.all());
    }

    /**
     * The messages to put in a prompt of at most {@code maxTokens} tokens, by their stored token counts: every pinned
     * message first (chronological), then the newest run of other messages that fits (chronological). A tool message
     * is never included without the assistant message that made its call; an assistant message with tool calls comes
     * with its tool messages or not at all. The history itself is not changed.
     *
     * @throws InvalidInputException with {@link ErrorCode#INVALID_QUERY} if {@code maxTokens < 1}, or with
     *     {@link ErrorCode#CONTEXT_BUDGET_EXCEEDED} if the pinned messages alone need more than {@code maxTokens}
     */
    List<Message> contextWindow(int maxTokens);

    /** How many messages the session holds (expired ones excluded). */
    long count();

    /** Removes every message of the session, pinned ones included, reporting them as {@link RemovalCause#CLEARED}. */
    void clear();
}
