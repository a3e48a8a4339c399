package io.agentmemory;

/**
 * Counts the tokens a message costs in a model's prompt, including any per-message overhead of the chat format.
 * Stores call it once, when a message is written, and keep the count with the counter's {@link #id()}.
 * Implementations must be thread-safe and deterministic.
 */
@FunctionalInterface
public interface TokenCounter {
    /**
     * The tokens {@code message} costs; never negative.
     *
     * @param message a valid message
     */
    int count(Message message);

    /** A stable name of this counting scheme, stored with each count; a different id means a different scheme. */
    default String id() {
        return getClass().getName();
    }
}
