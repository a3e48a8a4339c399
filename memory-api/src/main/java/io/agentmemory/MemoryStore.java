package io.agentmemory;

import io.agentmemory.internal.Checks;
import java.util.List;

/**
 * One session's messages. Implementations are thread-safe: any number of threads and processes may append and read
 * one session at once; appends lose nothing and every reader sees the same total order, the order of
 * {@link Message#sequence()}.
 *
 * <p>Every method validates its input and throws {@link InvalidInputException} before changing anything (a null
 * argument included: {@link ErrorCode#INVALID_MESSAGE} for writes, {@link ErrorCode#INVALID_QUERY} for reads). A write
 * either happens completely or throws; a rejected write uses no sequence number.
 *
 * <p>"Chronological" means in {@link Message#sequence()} order, the order of appends, whatever the timestamps say.
 *
 * <p>Message ids make appends idempotent: a message whose id the session already holds is not appended again, and
 * the stored message is returned in its place (contents are not compared). An id whose message was removed may be
 * appended again. One {@link #addAll} must not carry an id twice.
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
     * message first (chronological), then the newest run of other messages that fits (chronological). The run stops
     * at the first message that does not fit, so it has no holes. A tool message is never included without the
     * assistant message that made its call, and one whose assistant message is not stored (an orphan) is left out; an
     * assistant message with tool calls comes with its tool messages or not at all. The tool messages answering a
     * pinned assistant message are pinned with it and count toward the pinned budget. Expired messages are not
     * included. The history itself is not changed.
     *
     * @throws InvalidInputException with {@link ErrorCode#INVALID_QUERY} if {@code maxTokens < 1}, or with
     *     {@link ErrorCode#CONTEXT_BUDGET_EXCEEDED} if the pinned messages alone need more than {@code maxTokens}
     */
    List<Message> contextWindow(int maxTokens);

    /**
     * Appends one message and returns it with the context window of at most {@code maxTokens} tokens after it:
     * {@link #add} then {@link #contextWindow}, in one call. It is the first half of an agent's turn (store what the user
     * said, then build the prompt from the memory), and a backend that can serves both in the append's own round
     * trip: the window is then the session exactly as that append left it. Otherwise the window is read after the
     * append, and may hold messages that other writers stored in between. Either way it is the window of a state of
     * the session no older than the append: the newest messages that fit, among them every message stored before the
     * call began that retention has not removed and the budget reaches, and the appended message itself when it is
     * still stored and fits.
     *
     * <p>Both arguments are checked before anything is written. When the pinned messages alone need more than
     * {@code maxTokens}, the message is stored all the same and the call throws, as {@link #contextWindow} does; so
     * does any other failure to make the window after the append (a backend that became unavailable, say): the
     * exception has the type and code it would have had from {@link #contextWindow}, and its message says that the
     * message was stored. A retry with the same message stores nothing twice.
     *
     * @throws InvalidInputException with {@link ErrorCode#INVALID_MESSAGE} as {@link #add} does, or with {@link
     *     ErrorCode#INVALID_QUERY} if {@code maxTokens < 1}, before anything is written; or with {@link
     *     ErrorCode#CONTEXT_BUDGET_EXCEEDED} after the append, if the pinned messages alone need more than {@code
     *     maxTokens}
     * @throws BackendUnavailableException if the store cannot be reached, before or after the append (the message
     *     says which)
     */
    default Added addAndWindow(Message message, int maxTokens) {
        Checks.message(message);
        Checks.budget(maxTokens);
        Message stored = add(message);
        return Checks.added(stored, () -> contextWindow(maxTokens));
    }

    /** How many messages the session holds (expired ones excluded). */
    long count();

    /** Removes every message of the session, pinned ones included, reporting them as {@link RemovalCause#CLEARED}. */
    void clear();
}
