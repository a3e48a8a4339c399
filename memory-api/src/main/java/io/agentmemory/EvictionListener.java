package io.agentmemory;

import java.util.List;

/**
 * Receives messages that are about to be removed from a session, with the cause. The listener runs synchronously
 * before the removal is final: if it throws, the operation that caused the removal is not applied, the store is left
 * as it was, and the caller gets a {@link MemoryException} with {@link ErrorCode#CALLBACK_FAILED}. So nothing is
 * removed unreported. Implementations must be thread-safe; they are called once per cause per operation.
 */
@FunctionalInterface
public interface EvictionListener {
    /** A listener that ignores every removal. */
    EvictionListener NONE = (key, removed, cause) -> {};

    /**
     * Called with the removed messages in chronological order, never with an empty list.
     *
     * @param key the session the messages are removed from
     * @param removed the messages, immutable
     * @param cause why they are removed
     */
    void onRemoval(SessionKey key, List<Message> removed, RemovalCause cause);
}
